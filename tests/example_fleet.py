"""Fake routers serving cmelive's built-in examples: a small fleet that tests audit end to end."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from cmelive.examples import example_dir
from cmelive.fake.fleet import FakeFleet, FakeRouterSpec

EXAMPLES = ("secure-cme", "insecure-cme", "plain-ios")


@contextmanager
def example_fleet(
    routers: Mapping[str, str], *, username: str, password: str, enable_secret: str
) -> Iterator[FakeFleet]:
    """One fake router per ``name: example`` of ``routers``, all with the same credentials."""
    specs = [
        FakeRouterSpec(name, example_dir(example), username=username, password=password, enable_secret=enable_secret)
        for name, example in routers.items()
    ]
    with FakeFleet(specs) as started:
        yield started


def isolate_user_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never the user's own known_hosts or history."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
