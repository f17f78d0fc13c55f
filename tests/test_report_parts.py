"""A fleet renders each device's part of every report while the run goes on, and joins the parts
at the end: the joined text must be exactly the report rendered whole."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest

from cmelive.audit import audit_snapshot, unreachable_report
from cmelive.checks.base import Status
from cmelive.report.csv_report import device_csv, render_csv
from cmelive.report.html import device_anchors, device_html, render_html
from cmelive.report.json_report import device_json, render_json
from cmelive.report.junit import device_junit, render_junit
from cmelive.report.model import AuditReport, DeviceReport
from cmelive.report.sarif import device_sarif, render_sarif
from cmelive.snapshot import read_snapshot

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "cmelive" / "examples"
GENERATED_AT = "2026-11-26T10:00:00Z"


def _devices() -> list[DeviceReport]:
    devices = [
        audit_snapshot(read_snapshot(EXAMPLES / name), name=f"{name}/branch")
        for name in ("secure-cme", "insecure-cme", "plain-ios")
    ]
    insecure = devices[1]
    first_failure = next(i for i, r in enumerate(insecure.results) if r.status == Status.FAIL)
    insecure.results[first_failure] = dataclasses.replace(
        insecure.results[first_failure],
        status=Status.WAIVED,
        waiver={"reason": 'lab "A" <b>', "owner": "voice", "expires": "2030-01-01"},
    )
    devices.append(unreachable_report("down & out", "192.0.2.9", ConnectionRefusedError("connection refused")))
    return devices


@pytest.fixture(scope="module")
def report() -> AuditReport:
    return AuditReport(_devices(), generated_at=GENERATED_AT)


@pytest.mark.parametrize("count", [0, 1, 4])
def test_json_parts_join_to_the_whole(report: AuditReport, count: int) -> None:
    part = AuditReport(report.devices[:count], generated_at=GENERATED_AT)
    joined = render_json(part, device_parts=[device_json(d) for d in part.devices])
    assert joined == json.dumps(part.to_dict(), indent=2, ensure_ascii=False) + "\n"
    assert joined == render_json(part)


@pytest.mark.parametrize("count", [0, 1, 4])
def test_csv_junit_parts_join_to_the_whole(report: AuditReport, count: int) -> None:
    part = AuditReport(report.devices[:count], generated_at=GENERATED_AT)
    assert render_csv(part, device_parts=[device_csv(d) for d in part.devices]) == render_csv(part)
    assert render_junit(part, device_parts=[device_junit(d) for d in part.devices]) == render_junit(part)
    if count:
        assert f'timestamp="{GENERATED_AT}"' in render_junit(part)
        assert 'timestamp=""' not in render_junit(part)


@pytest.mark.parametrize("count", [0, 1, 4])
def test_sarif_parts_join_to_the_whole(report: AuditReport, count: int) -> None:
    part = AuditReport(report.devices[:count], generated_at=GENERATED_AT)
    dirs = {d.name: d.name.replace("/", "_") for d in part.devices}
    joined = render_sarif(
        part,
        device_dirs=dirs,
        device_parts=[device_sarif(d, device_dir=dirs[d.name]) for d in part.devices],
    )
    assert joined == render_sarif(part, device_dirs=dirs)
    log = json.loads(joined)
    assert joined == json.dumps(log, indent=2, ensure_ascii=False) + "\n"
    findings = [r for d in part.devices for r in d.results if r.status in (Status.FAIL, Status.WAIVED)]
    assert len(log["runs"][0]["results"]) == len(findings)


def test_html_parts_join_to_the_whole(report: AuditReport) -> None:
    anchors = device_anchors(report.devices)
    today = date.fromisoformat(GENERATED_AT[:10])  # the date the whole page reads from generated_at
    parts = [device_html(d, a, today) for d, a in zip(report.devices, anchors, strict=True)]
    assert render_html(report, device_parts=parts) == render_html(report)


def test_one_line_parts_make_the_same_json(report: AuditReport) -> None:
    """A fleet's report.json has a device per line and report.sarif a result per line: same JSON."""
    text = render_json(report, device_parts=[device_json(d, indent=False) for d in report.devices])
    assert json.loads(text) == report.to_dict()
    assert [line.startswith('    {"name": ') for line in text.splitlines()].count(True) == len(report.devices)

    dirs = {d.name: d.name.replace("/", "_") for d in report.devices}
    one_line = [device_sarif(d, device_dir=dirs[d.name], indent=False) for d in report.devices]
    sarif = render_sarif(report, device_dirs=dirs, device_parts=one_line)
    assert json.loads(sarif) == json.loads(render_sarif(report, device_dirs=dirs))
    findings = len(json.loads(sarif)["runs"][0]["results"])
    assert [line.startswith('        {"ruleId": ') for line in sarif.splitlines()].count(True) == findings
