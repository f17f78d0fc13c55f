"""``RunningConfig.globals`` looks only at the roots whose first word can start a match: it must
find exactly what a regex over every root finds, for every query the checks make."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cmelive.audit import audit_snapshot
from cmelive.commands import RUNNING_CONFIG, file_name
from cmelive.parsing import running_config
from cmelive.parsing.running_config import RunningConfig, parse_running_config
from cmelive.snapshot import read_snapshot

from .conftest import CORPUS, FIXTURES, REPO


def _snapshot_dirs() -> list[Path]:
    dirs = {path.parent for path in FIXTURES.rglob(f"{file_name(RUNNING_CONFIG)}")}
    dirs.update(path.parent for path in (REPO / "src" / "cmelive" / "examples").rglob("*.txt"))
    return sorted(dirs)


def _brute_force(config: RunningConfig, pattern: str) -> list[int]:
    regex = re.compile(pattern)
    return [id(root) for root in config.roots if regex.match(root.command)]


def test_every_query_of_every_check_finds_what_a_scan_of_every_root_finds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asked: list[tuple[str, bool]] = []
    real = RunningConfig.globals

    def checked(self: RunningConfig, pattern: str) -> list[running_config.ConfigLine]:
        found = real(self, pattern)
        asked.append((pattern, len(self._candidates(pattern)) < len(self.roots)))
        assert [id(line) for line in found] == _brute_force(self, pattern), pattern
        return found

    monkeypatch.setattr(RunningConfig, "globals", checked)
    directories = _snapshot_dirs()
    if CORPUS.is_dir():
        for config in sorted(CORPUS.glob("running_config*.txt")):
            case = tmp_path / config.stem
            case.mkdir()
            (case / file_name(RUNNING_CONFIG)).write_bytes(config.read_bytes())
            directories.append(case)
    for directory in directories:
        audit_snapshot(read_snapshot(directory))
    assert len(directories) > 200
    patterns = {pattern for pattern, _ in asked}
    narrowed = {pattern for pattern, fewer in asked if fewer}
    # The queries that start with an optional word or a choice are narrowed too, not only plain ones.
    assert "(no )?ip http (server|secure-server)$" in narrowed
    assert len(patterns) > 50


@pytest.mark.parametrize(
    ("pattern", "narrowed"),
    [
        ("(no )?ip http (server|secure-server)$", True),
        ("s?ntp server \\S+", True),
        ("(telephony-service$|dial-peer voice |voice register |call-manager-fallback$)", True),
        ("x{0,1}hostname \\S+", False),  # a counted repetition may repeat nothing: every root
        ("(?i)hostname", False),
        (".*hostname", False),
        ("[a-z]+ \\S+", False),
    ],
)
def test_which_patterns_are_narrowed(pattern: str, narrowed: bool) -> None:
    text = "hostname R1\nno ip http server\nip http secure-server\nntp server 127.0.0.1\nsntp server 127.0.0.2\n"
    text += "telephony-service\n max-ephones 10\ndial-peer voice 1 voip\n destination-pattern 9T\nend\n"
    config = parse_running_config(text)
    candidates = config._candidates(pattern)
    assert (len(candidates) < len(config.roots)) is narrowed
    assert [id(line) for line in config.globals(pattern)] == _brute_force(config, pattern)
