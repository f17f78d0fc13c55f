"""Damaged captures, read by an engineer: the expected status of every check, for every kind of damage.

Each directory of ``fixtures/damage/`` is a snapshot (the ``show_*.txt`` files) and an
``expected.yml``::

    damage: ["cut after line 182"]       # the running-config's damage summary, exact, in order
    statuses: {CME-ACC-01: pass, ...}     # every check of the catalog, no more, no less
    why: {CME-ACC-02: "..."}              # one line per status that is not obvious

``clean`` is the capture as the router printed it; every other case is a copy of it damaged the way
real captures are (cut head or tail, lost indentation, TABs, joined lines, doc comments, text around
the capture, a second capture), plus a published snippet whose damage is everywhere but whose
lines still prove what they show. The expectations were written from reading each capture, not
from the tool's output: a difference is a bug in one of them, to be argued, never re-recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cmelive.audit import audit_snapshot
from cmelive.checks import all_checks
from cmelive.snapshot import read_snapshot

from .conftest import FIXTURES

CASES = sorted((FIXTURES / "damage").glob("*/expected.yml"))
CATALOG = {spec.id for spec in all_checks()}


def _expected(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("expected_file", CASES, ids=lambda p: p.parent.name)
def test_every_check_on_a_damaged_capture(expected_file: Path) -> None:
    expected = _expected(expected_file)
    report = audit_snapshot(read_snapshot(expected_file.parent))
    assert report.facts["running_config_damage"] == expected["damage"]
    got = {result.check: str(result.status) for result in report.results}
    want: dict[str, str] = expected["statuses"]
    wrong = {
        check: f"expected {want[check]}, got {got[check]}: {message}"
        for check, message in ((r.check, r.message) for r in report.results)
        if got[check] != want.get(check)
    }
    assert not wrong, "\n".join(f"{check}: {text}" for check, text in sorted(wrong.items()))


@pytest.mark.parametrize("expected_file", CASES, ids=lambda p: p.parent.name)
def test_each_case_lists_every_check_and_explains_its_unknowns(expected_file: Path) -> None:
    expected = _expected(expected_file)
    assert set(expected["statuses"]) == CATALOG
    assert set(expected.get("why", {})) <= CATALOG
    # Every unknown says why: an engineer reading the capture must be able to agree with it.
    unexplained = [
        check for check, status in expected["statuses"].items()
        if status == "unknown" and check not in expected.get("why", {})
    ]
    assert not unexplained, f"unknown without a why: {unexplained}"


def test_every_kind_of_damage_has_a_case() -> None:
    names = {path.parent.name for path in CASES}
    for kind in ("clean", "cut-tail", "cut-head", "lost-indentation", "tab-layout", "joined-lines",
                 "doc-comments", "text-around-the-capture", "second-capture", "positive-evidence"):
        assert any(name.startswith(kind) for name in names), kind
