"""Real CME captures (fixtures/real_captures, see its SOURCES.md) judged as an engineer judged them.

Every capture directory is a snapshot as published (damage kept) plus ``expected.yml``: the status of
every check, written from a voice-security engineer's reading of the capture, not from the tool's
output. One test per (capture, check) compares them. Where the tool disagrees and is wrong, the pair is
listed under ``disagreements:`` with the reason and runs as a strict xfail, so the disagreement stays
visible and the test turns red (XPASS) the day the tool agrees: then the entry is deleted.

The same captures must not crash a check, and no report format may carry a secret they hold
(``leak_markers``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cmelive.audit import audit_snapshot
from cmelive.checks import all_checks
from cmelive.checks.base import Status
from cmelive.report.csv_report import render_csv
from cmelive.report.html import render_html
from cmelive.report.json_report import render_json
from cmelive.report.junit import render_junit
from cmelive.report.model import AuditReport, DeviceReport
from cmelive.report.sarif import render_sarif
from cmelive.report.text import render_text
from cmelive.snapshot import read_snapshot, write_snapshot

from .conftest import FIXTURES
from .livefake import cli

REAL = FIXTURES / "real_captures"
CAPTURES = sorted(p.parent for p in REAL.glob("*/expected.yml"))
STATUSES = {str(s) for s in Status}


def _expectations(capture: Path) -> dict[str, Any]:
    loaded = yaml.safe_load((capture / "expected.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), capture
    return loaded


@functools.cache
def _audited(capture: Path) -> DeviceReport:
    return audit_snapshot(read_snapshot(capture), name=capture.name)


def _cases() -> list[Any]:
    cases = []
    for capture in CAPTURES:
        spec = _expectations(capture)
        disagreements = spec.get("disagreements") or {}
        for check_id, status in spec["expected"].items():
            marks = []
            if check_id in disagreements:
                why = disagreements[check_id]["why"]
                marks.append(pytest.mark.xfail(strict=True, reason=f"tool disagrees: {why}"))
            cases.append(pytest.param(capture, check_id, status, marks=marks, id=f"{capture.name}/{check_id}"))
    return cases


@pytest.mark.parametrize(("capture", "check_id", "expected"), _cases())
def test_engineer_verdict(capture: Path, check_id: str, expected: str) -> None:
    result = {r.check: r for r in _audited(capture).results}[check_id]
    assert str(result.status) == expected, f"{check_id} on {capture.name}: {result.message}"


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_expectations_cover_every_check_and_say_why_the_tool_is_wrong(capture: Path) -> None:
    spec = _expectations(capture)
    registered = {s.id for s in all_checks()}
    assert set(spec["expected"]) == registered, "every check needs an expected status"
    assert set(spec["expected"].values()) <= STATUSES
    for check_id, entry in (spec.get("disagreements") or {}).items():
        assert check_id in spec["expected"]
        assert entry["got"] != spec["expected"][check_id], f"{check_id}: a disagreement must differ"
        assert len(entry["why"]) > 40, f"{check_id}: say why the tool is wrong"
    assert isinstance(spec.get("leak_markers"), list)
    captures = [p for p in capture.iterdir() if p.suffix == ".txt"]
    assert captures and all(p.name.startswith("show_") for p in captures)


def test_every_capture_has_its_source() -> None:
    sources = (REAL / "SOURCES.md").read_text(encoding="utf-8")
    assert len(CAPTURES) >= 15
    for capture in CAPTURES:
        assert f"| {capture.name} |" in sources, f"{capture.name} is not in SOURCES.md"


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_no_check_raises_on_a_real_capture(capture: Path) -> None:
    report = _audited(capture)
    assert len(report.results) == len(all_checks())
    crashed = [r.check for r in report.results if "internal error" in r.message]
    assert crashed == []


def _outputs(capture: Path, directory: Path) -> dict[str, str]:
    """Every text that leaves the tool for this capture: each report format and the masked snapshot."""
    report = AuditReport([_audited(capture)])
    masked = directory / capture.name
    write_snapshot(read_snapshot(capture), masked, mask=True)
    return {
        "text": render_text(report),
        "json": render_json(report),
        "csv": render_csv(report),
        "html": render_html(report),
        "junit": render_junit(report),
        "sarif": render_sarif(report),
        "masked snapshot": "".join(p.read_text(encoding="utf-8") for p in sorted(masked.iterdir())),
    }


def _flat(text: str) -> str:
    # A report wraps long lines: a secret split over two lines has still leaked.
    return " ".join(text.split())


def _leak_cases() -> list[Any]:
    cases = []
    for capture in CAPTURES:
        spec = _expectations(capture)
        known = spec.get("known_leaks") or {}
        for marker in spec["leak_markers"]:
            marks = [pytest.mark.xfail(strict=True, reason=f"known leak: {known[marker]}")] if marker in known else []
            cases.append(pytest.param(capture, marker, marks=marks, id=f"{capture.name}/{marker}"))
    return cases


@pytest.mark.parametrize(("capture", "marker"), _leak_cases())
def test_no_output_carries_a_secret_of_the_capture(capture: Path, marker: str, tmp_path: Path) -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in capture.glob("show_*.txt"))
    assert _flat(marker) in _flat(text), f"{marker!r} is not in {capture.name}: this test would prove nothing"
    leaked = [name for name, output in _outputs(capture, tmp_path).items() if _flat(marker) in _flat(output)]
    assert leaked == [], f"{marker!r} of {capture.name} leaked into: {', '.join(leaked)}"


def test_replay_cli_carries_no_secret(tmp_path: Path) -> None:
    # The boundary a user crosses, once per format over every capture not already known to leak.
    clean = [c for c in CAPTURES if not _expectations(c).get("known_leaks")]
    markers = [m for c in clean for m in _expectations(c)["leak_markers"]]
    assert markers
    for fmt in ("text", "json"):
        out = tmp_path / f"report.{fmt}"
        proc = cli("replay", *map(str, clean), "--format", fmt, "--output", str(out), "-vv")
        assert proc.returncode in (0, 1, 3), proc.stderr
        for where, text in ((f"{fmt} report", out.read_text(encoding="utf-8")), ("log", proc.stderr)):
            leaked = [m for m in markers if _flat(m) in _flat(text)]
            assert leaked == [], f"secrets in the {where}: {leaked}"
        if fmt == "json":
            assert len(json.loads(out.read_text(encoding="utf-8"))["devices"]) == len(clean)
