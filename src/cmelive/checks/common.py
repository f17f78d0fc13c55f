"""Small helpers every check family uses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from cmelive.checks.base import Evidence
from cmelive.parsing.running_config import RunningConfig

if TYPE_CHECKING:
    from cmelive.state import DeviceState


def running_config(state: DeviceState) -> RunningConfig:
    """The parsed running-config of a check that requires it."""
    config = state.config
    if config is None:  # the engine checks `requires` first; this keeps mypy and a bad caller honest
        raise ValueError("running-config is not available")
    return config


def unique_evidence(evidence: Iterable[Evidence]) -> list[Evidence]:
    """Evidence without repeats (same command and line), in the order first seen."""
    seen: set[tuple[str, int | None]] = set()
    out: list[Evidence] = []
    for item in evidence:
        key = (item.command, item.line)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def evidence_by_line(evidence: Iterable[Evidence]) -> list[Evidence]:
    """Evidence without repeats, in line order."""
    return sorted(unique_evidence(evidence), key=lambda e: e.line or 0)
