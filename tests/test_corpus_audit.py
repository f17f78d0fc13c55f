"""Every real router output in ../shared/corpus goes through every check without an exception.

Damaged captures (lost indentation, joined lines, partial) must never yield a pass drawn from
what they lack: the engine turns such conclusions into unknown, and this test runs them all.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cmelive.audit import audit_snapshot
from cmelive.checks.base import Status
from cmelive.commands import AUDIT_COMMANDS, RUNNING_CONFIG, file_name
from cmelive.snapshot import read_snapshot

from .conftest import CORPUS

CONFIGS = sorted(CORPUS.glob("running_config*.txt")) if CORPUS.is_dir() else []
AUDITED_OUTPUTS = {file_name(c)[: -len(".txt")]: c for c in AUDIT_COMMANDS if c != RUNNING_CONFIG}


def corpus_files_for(command_stem: str) -> list[Path]:
    return sorted(CORPUS.glob(f"{command_stem}__*.txt"))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_corpus_config_through_every_check(config: Path, tmp_path: Path) -> None:
    shutil.copy(config, tmp_path / file_name(RUNNING_CONFIG))
    # Pair the config with one real capture of every other audited command the corpus has.
    for stem in AUDITED_OUTPUTS:
        found = corpus_files_for(stem)
        if found:
            shutil.copy(found[0], tmp_path / f"{stem}.txt")
    report = audit_snapshot(read_snapshot(tmp_path))
    assert report.results
    crashed = [r.check for r in report.results if "internal error" in r.message]
    assert crashed == [], f"checks raised on {config.name}"
    if "partial" in config.name or "noindent" in config.name or "tabbed" in config.name or "3825.txt" in config.name:
        # A damaged capture says how (and nothing may pass on the strength of a line it seems to
        # lack where the damage could hide it: the engine sees to that).
        facts = report.facts
        assert facts.get("running_config_damage") or facts.get("running_config_complete") is False, config.name


@pytest.mark.parametrize("stem", sorted(AUDITED_OUTPUTS), ids=str)
def test_every_corpus_capture_of_an_audited_command_runs_through_every_check(stem: str, tmp_path: Path) -> None:
    files = corpus_files_for(stem) if CORPUS.is_dir() else []
    if not files:
        pytest.skip(f"no corpus capture of {AUDITED_OUTPUTS[stem]!r}")
    for capture in files:
        directory = tmp_path / capture.stem
        directory.mkdir()
        shutil.copy(capture, directory / f"{stem}.txt")
        report = audit_snapshot(read_snapshot(directory))
        crashed = [r.check for r in report.results if "internal error" in r.message]
        assert crashed == [], f"checks raised on {capture.name}"
        # Without a running-config nothing that needs one can pass.
        for result in report.results:
            if result.status == Status.PASS:
                assert result.evidence, f"{result.check} passed on {capture.name} without evidence"


def test_corpus_is_present_or_skipped() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not present at {CORPUS}")
    assert CONFIGS, "the corpus has no running-config captures"
