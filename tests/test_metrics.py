"""The metrics file: Prometheus text format, read back by prometheus_client's own parser.

What node_exporter's textfile collector needs: ``# HELP``/``# TYPE`` per family, gauges without
timestamps, label values escaped, the file replaced whole. The numbers must be the report's.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from cmelive.checks.base import Severity, Status
from cmelive.errors import InputError
from cmelive.report.metrics import check_metrics_path, render_metrics, write_metrics
from cmelive.report.model import AuditReport, DeviceReport, DeviceStatus

from .test_fleet import connect_fails, host, replay, run
from .test_report_schema import _every_kind_of_device

FAMILIES = [
    "cmelive_findings",
    "cmelive_device_audited",
    "cmelive_device_status",
    "cmelive_devices",
    "cmelive_devices_not_audited",
    "cmelive_run_duration_seconds",
    "cmelive_run_timestamp_seconds",
    "cmelive_run_interrupted",
    "cmelive_run_info",
]


def parse(text: str) -> dict[str, list[Sample]]:
    families = list(text_string_to_metric_families(text))
    assert all(family.type == "gauge" and family.documentation for family in families)
    return {family.name: family.samples for family in families}


def value(samples: list[Sample], **labels: str) -> float:
    (found,) = [s.value for s in samples if s.labels == labels]
    return found


def test_every_number_is_the_report_s() -> None:
    devices = _every_kind_of_device()
    report = AuditReport(devices, generated_at="2026-12-04T10:00:00Z")
    metrics = parse(render_metrics(report, duration_s=12.3456, command="fleet", interrupted=True))
    assert list(metrics) == FAMILIES
    assert all(sample.timestamp is None for samples in metrics.values() for sample in samples)

    findings = metrics["cmelive_findings"]
    for device in devices:
        mine = [s for s in findings if s.labels["device"] == device.name]
        if device.status.unaudited:
            assert mine == []  # nothing judged: no zeros pretending to be a clean device
            continue
        assert len(mine) == len(Severity) * len(Status)  # every pair, zeros included
        counts = Counter((r.severity, r.status) for r in device.results)
        assert {(s.labels["severity"], s.labels["status"]): s.value for s in mine} == {
            (str(sev), str(st)): float(counts[sev, st]) for sev in Severity for st in Status
        }
        assert sum(s.value for s in mine) == len(device.results) > 0
    assert sum(s.value for s in findings if s.labels["status"] == "waived") == 1

    assert {s.labels["device"]: s.value for s in metrics["cmelive_device_audited"]} == {
        d.name: float(d.not_audited_reason() is None) for d in devices
    }
    assert {s.labels["device"]: s.labels["status"] for s in metrics["cmelive_device_status"]} == {
        d.name: str(d.status) for d in devices
    }
    assert {s.labels["status"]: s.value for s in metrics["cmelive_devices"]} == {
        "ok": 2, "partial": 1, "error": 1, "interrupted": 1, "not_started": 1
    }
    assert value(metrics["cmelive_devices_not_audited"]) == 3
    assert value(metrics["cmelive_run_duration_seconds"]) == 12.346
    assert value(metrics["cmelive_run_timestamp_seconds"]) == datetime(2026, 12, 4, 10, tzinfo=timezone.utc).timestamp()
    assert value(metrics["cmelive_run_interrupted"]) == 1
    assert [s.labels["command"] for s in metrics["cmelive_run_info"]] == ["fleet"]


def test_label_values_are_escaped() -> None:
    name = 'branch "7" \\ east'
    device = DeviceReport(name, "127.0.0.1", None, DeviceStatus.ERROR, error="connection refused")
    text = render_metrics(AuditReport([device]), duration_s=0.5, command="audit")
    assert 'device="branch \\"7\\" \\\\ east"' in text
    metrics = parse(text)
    assert [s.labels["device"] for s in metrics["cmelive_device_audited"]] == [name]
    assert value(metrics["cmelive_run_interrupted"]) == 0


def test_the_run_level_lines_exactly() -> None:
    device = DeviceReport("r1", "127.0.0.1", None, DeviceStatus.NOT_STARTED, error="not started")
    text = render_metrics(AuditReport([device], generated_at="1970-01-01T00:01:40Z"), duration_s=2, command="fleet")
    assert text.endswith(
        "# HELP cmelive_devices_not_audited Devices of the last run that were not audited.\n"
        "# TYPE cmelive_devices_not_audited gauge\n"
        "cmelive_devices_not_audited 1\n"
        "# HELP cmelive_run_duration_seconds How long the last run took.\n"
        "# TYPE cmelive_run_duration_seconds gauge\n"
        "cmelive_run_duration_seconds 2\n"
        "# HELP cmelive_run_timestamp_seconds When the last run's report was made (Unix time).\n"
        "# TYPE cmelive_run_timestamp_seconds gauge\n"
        "cmelive_run_timestamp_seconds 100\n"
        "# HELP cmelive_run_interrupted 1 when the last run was stopped (Ctrl-C, SIGTERM) before every device was done.\n"
        "# TYPE cmelive_run_interrupted gauge\n"
        "cmelive_run_interrupted 0\n"
        "# HELP cmelive_run_info The last run: the command and the cmelive version.\n"
        "# TYPE cmelive_run_info gauge\n"
        'cmelive_run_info{command="fleet",version="0.1.0"} 1\n'
    )
    assert "cmelive_findings{" not in text and "# TYPE cmelive_findings gauge\n" in text


def test_an_interrupted_fleet_run_counts_its_devices_not_audited(tmp_path: Path) -> None:
    hosts = [host(f"r{n}") for n in range(6)]
    seen: list[str] = []

    def interrupt_after_one(report: object) -> None:
        seen.append(getattr(report, "name"))
        if len(seen) == 1:
            raise KeyboardInterrupt

    script = {h.name: replay("secure-cme") for h in hosts}
    script["r0"] = connect_fails(99)
    outcome = run(tmp_path, hosts, script, workers=1, retries=0, progress=interrupt_after_one)
    result = outcome.result
    assert result.interrupted and result.not_run
    metrics = parse(render_metrics(result.report, duration_s=result.elapsed_s, command="fleet",
                                   interrupted=result.interrupted))
    statuses = Counter(str(d.report.status) for d in result.devices)
    assert {s.labels["status"]: s.value for s in metrics["cmelive_devices"]} == {
        str(s): float(statuses[str(s)]) for s in DeviceStatus
    }
    assert value(metrics["cmelive_devices_not_audited"]) == len(result.not_run) + 1  # + r0, down
    assert value(metrics["cmelive_run_interrupted"]) == 1
    assert value(metrics["cmelive_device_audited"], device="r0") == 0


def test_the_file_is_replaced_whole_private_or_group_readable(tmp_path: Path) -> None:
    target = tmp_path / "cmelive.prom"
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep me\n", encoding="utf-8")
    target.symlink_to(elsewhere)  # replaced, never written through
    text = render_metrics(AuditReport([]), duration_s=1, command="fleet")
    write_metrics(target, text)
    assert not target.is_symlink() and target.read_text(encoding="utf-8") == text
    assert elsewhere.read_text(encoding="utf-8") == "keep me\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    write_metrics(target, text, group_readable=True)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["cmelive.prom", "elsewhere.txt"]  # no temporary left


@pytest.mark.parametrize(("name", "problem"), [
    ("missing/cmelive.prom", "--metrics: its directory does not exist"),
    (".", "--metrics: is a directory, not a file"),
])
def test_an_unwritable_metrics_path_is_refused_before_the_run(tmp_path: Path, name: str, problem: str) -> None:
    with pytest.raises(InputError) as refused:
        check_metrics_path(tmp_path / name)
    assert refused.value.problem == problem
