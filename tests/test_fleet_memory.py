"""Fleet memory that does not grow with the fleet (issue 13): each device's report parts are
spooled to disk as it is judged and only its summary is kept; the reports are joined from the
spool at the end, byte for byte the reports of the in-memory path.

The tests count (full reports alive, parts alive), they do not time or weigh the process: see
bench/bench_fleet_memory.py for the RSS.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from cmelive.audit import audit_snapshot, unreachable_report
from cmelive.collect import Target
from cmelive.collect.replay import ReplayCollector
from cmelive.commands import AUDIT_COMMANDS
from cmelive.errors import ConnectError
from cmelive.examples import example_dir
from cmelive.fleet import FleetDevice, run_fleet
from cmelive.fleet_defaults import REPORT_FILES
from cmelive.inventory import InventoryHost
from cmelive.policy import Policy
from cmelive.report.files import report_parts, write_reports
from cmelive.report.html import DevicePart, TrendPoint, heatmap_families
from cmelive.report.model import AuditReport, DeviceReport, DeviceStatus
from cmelive.report.spool import PartsSpool, Summaries, write_streamed_reports
from cmelive.snapshot import Snapshot
from cmelive.waivers import SelectorKind, Waiver, apply_waivers

EXAMPLES = ("secure-cme", "insecure-cme", "plain-ios")
TODAY = date(2026, 6, 1)


def _full(obj: object) -> bool:
    """A full device report: one whose results still carry evidence or remediation (a summary's
    never do)."""
    return isinstance(obj, DeviceReport) and any(r.evidence or r.remediation for r in obj.results)


def _alive() -> tuple[int, int]:
    objects = gc.get_objects()
    return sum(1 for o in objects if _full(o)), sum(1 for o in objects if isinstance(o, DevicePart))


class _Examples:
    """Replays an example by the host's name (``r<i>-<example>``); ``down`` hosts refuse."""

    def __init__(self, down: Sequence[str] = ()) -> None:
        self.down = set(down)

    def collect(self, target: Target, commands: Sequence[str]) -> Snapshot:
        name = target.name or ""
        if name in self.down:
            raise ConnectError(f"cannot connect to {target.host}:22: connection refused")
        return ReplayCollector(example_dir(name.split("-", 1)[1])).collect(target, commands)


def _hosts(count: int) -> list[InventoryHost]:
    return [
        InventoryHost(name=f"r{i}-{EXAMPLES[i % len(EXAMPLES)]}", address=f"127.0.0.{1 + i % 200}", username="audit")
        for i in range(count)
    ]


def _waiver() -> Waiver:
    return Waiver(
        check="CME-ACC-01", kind=SelectorKind.DEVICE, selector=("r1-insecure-cme",), reason="lab router",
        owner="voice", expires=date(2027, 1, 1), source="waivers.yaml:1",
    )


def test_a_fleet_holds_as_many_full_reports_as_it_has_workers_not_devices(tmp_path: Path) -> None:
    devices, workers = 60, 2
    collector = _Examples(down=["r7-insecure-cme"])
    seen: list[tuple[int, int]] = []

    def progress(report: DeviceReport) -> None:
        seen.append(_alive())

    result = run_fleet(
        _hosts(devices), out_dir=tmp_path / "run", workers=workers, timeout=5.0, retries=0, base_policy=Policy(),
        collector_factory=lambda: collector, judge_processes=0, progress=progress, today=TODAY,
    )
    assert len(seen) == devices
    # A device is whole only while in flight: at most 2 x workers collected, 2 x workers judged.
    most_reports = max(reports for reports, _ in seen)
    most_parts = max(parts for _, parts in seen)
    assert 1 <= most_reports <= 4 * workers + 1, seen
    assert most_parts <= 4 * workers + 1, seen
    gc.collect()
    assert _alive() == (0, 0)  # every device spooled: nothing whole is left once the reports are written

    # What the run kept answers the summary table and the exit code ...
    assert [d.summary.status for d in result.devices].count(DeviceStatus.ERROR) == 1
    assert all(d.parts is None for d in result.devices)
    # ... and every full report is still there for a caller who asks: read back from report.json.
    document = json.loads((tmp_path / "run" / "report.json").read_text(encoding="utf-8"))
    assert [d.report.to_dict() for d in result.devices] == document["devices"]
    assert result.report.to_dict() == document
    assert _full(result.devices[1].report)


def _fleet_report() -> AuditReport:
    devices: list[DeviceReport] = []
    for index, example in enumerate((*EXAMPLES, "secure-cme")):
        snapshot = ReplayCollector(example_dir(example)).collect(Target(host="127.0.0.1", username="a"), AUDIT_COMMANDS)
        devices.append(audit_snapshot(snapshot, Policy(), name=f"r{index}-{example}"))
    devices.append(unreachable_report("r9-down", "127.0.0.9", "cannot connect to 127.0.0.9:22: connection refused"))
    devices.append(DeviceReport("r10-stopped", "127.0.0.10", None, DeviceStatus.NOT_STARTED, error="not started"))
    waived = [apply_waivers(device, [_waiver()], today=TODAY) for device in devices]
    assert waived[1] is not devices[1]  # the waiver waives something
    return AuditReport(waived, generated_at="2026-06-01T10:00:00Z")


@pytest.mark.parametrize("on_demand", [False, True], ids=["heatmap-written", "heatmap-on-demand"])
def test_streamed_reports_are_the_reports_joined_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_demand: bool
) -> None:
    # Both heat maps: a small fleet's rows written out as HTML, a large one's drawn by the script.
    if on_demand:
        monkeypatch.setattr("cmelive.report.html.HEATMAP_ON_DEMAND_FROM", 0)
    report = _fleet_report()
    dir_names = {d.name: d.name.replace("-", "_") for d in report.devices}
    trend = [TrendPoint(1, "2026-05-31T10:00:00Z", {"high": 3}), TrendPoint(2, "2026-06-01T10:00:00Z", {"high": 2})]
    parts = report_parts(report, today=TODAY, dir_names=dir_names)
    (tmp_path / "memory").mkdir()
    (tmp_path / "streamed").mkdir()
    expected = write_reports(tmp_path / "memory", report, parts, problems=[], trend=trend, dir_names=dir_names)

    summaries = Summaries()
    with PartsSpool(tmp_path / "streamed") as spool:
        for index in reversed(range(len(parts))):  # devices finish in any order
            spool.add(index, parts[index])
        summary = AuditReport([summaries.summarize(d) for d in report.devices], generated_at=report.generated_at)
        problems: list[str] = []
        written, locations = write_streamed_reports(
            tmp_path / "streamed", summary, spool, problems=problems, trend=trend, dir_names=dir_names
        )
    assert problems == []
    assert set(written) == set(expected) == set(REPORT_FILES)
    for kind, path in expected.items():
        assert written[kind].read_bytes() == path.read_bytes(), kind
    cells = written["html"].read_text(encoding="utf-8").count('<td class="cell ')
    assert cells == (0 if on_demand else len(report.devices) * len(heatmap_families(report)))
    assert locations is not None
    assert [locations.load(i) for i in range(len(report.devices))] == [d.to_dict() for d in report.devices]
    # The spool was anonymous: the run directory holds the reports and nothing else.
    assert sorted(p.name for p in (tmp_path / "streamed").iterdir()) == sorted(REPORT_FILES.values())


def test_summaries_share_equal_results_and_keep_what_the_summary_table_reads() -> None:
    report = _fleet_report()
    summaries = Summaries()
    first, second = (summaries.summarize(report.devices[i]) for i in (0, 3))  # both secure-cme
    assert all(a is b for a, b in zip(first.results, second.results, strict=True))
    for device in report.devices:
        summary = summaries.summarize(device)
        assert not any(r.evidence or r.remediation for r in summary.results)
        assert summary.not_audited_reason() == device.not_audited_reason()
        assert summary.unknown_summary() == device.unknown_summary()
        assert [(r.check, r.status, r.severity) for r in summary.results] == [
            (r.check, r.status, r.severity) for r in device.results
        ]


def test_a_renderer_bug_costs_its_own_streamed_file_only(tmp_path: Path) -> None:
    report = _fleet_report()
    parts = report_parts(report, today=TODAY)
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr("cmelive.report.spool.render_junit", _boom)
        with PartsSpool(tmp_path) as spool:
            for index, part in enumerate(parts):
                spool.add(index, part)
            problems: list[str] = []
            summary = AuditReport([Summaries().summarize(d) for d in report.devices], generated_at=report.generated_at)
            written, _ = write_streamed_reports(tmp_path, summary, spool, problems=problems)
    finally:
        mp.undo()
    assert "junit" not in written and len(written) == len(REPORT_FILES) - 1
    assert problems == ["report.junit.xml not written: RuntimeError: renderer bug"]
    assert not (tmp_path / "report.junit.xml").exists()


def _boom(*args: object, **kwargs: object) -> str:
    raise RuntimeError("renderer bug")


def test_a_fleet_device_built_by_hand_is_its_report() -> None:
    device = _fleet_report().devices[0]
    made = FleetDevice(None, device, None, 1, 0.5)  # type: ignore[arg-type]
    assert made.report is device and made.summary is device


def test_a_known_hosts_file_is_parsed_once_however_many_connections_open_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fleet's first connections, one per worker, all miss the parsed-file cache together: one
    of them parses the file, the others wait for it (50 parses of a 10,000-router file at once
    held 1.3 GB), and an edit is still seen at the next connection."""
    import threading
    import time

    import paramiko

    from cmelive.collect import hostkeys

    key = paramiko.RSAKey.generate(1024)
    path = tmp_path / "known_hosts"
    path.write_text("".join(f"[127.0.0.1]:{20000 + i} ssh-rsa {key.get_base64()}\n" for i in range(200)))
    parses: list[Path] = []
    real = hostkeys.read_known_hosts

    def counted(file: Path, *, required: bool) -> list[hostkeys.KnownHostEntry]:
        parses.append(file)
        time.sleep(0.05)  # a big file's parse: long enough for every other connection to miss the cache too
        return real(file, required=required)

    monkeypatch.setattr(hostkeys, "read_known_hosts", counted)
    monkeypatch.setattr(hostkeys, "_parsed_cache", {})
    start = threading.Barrier(20)
    found: list[int] = []

    def connect(number: int) -> None:
        start.wait()
        found.append(len(hostkeys.KnownHosts([path]).entries_for("127.0.0.1", 20000 + number)))

    threads = [threading.Thread(target=connect, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [1] * 20
    assert parses == [path]
    with path.open("a") as file:
        file.write(f"[127.0.0.1]:30000 ssh-rsa {key.get_base64()}\n")
    assert len(hostkeys.KnownHosts([path]).entries_for("127.0.0.1", 30000)) == 1
    assert parses == [path, path]
