"""Judging off the collectors' interpreter: one device's verdict, the worker pool, and what happens
when the pool cannot be had or dies mid-run (no device is lost, the run says so)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

import cmelive.judging as judging_module
from cmelive.audit import audit_snapshot
from cmelive.checks.base import Status
from cmelive.collect import Collector, Target
from cmelive.collect.replay import ReplayCollector
from cmelive.examples import example_dir
from cmelive.fleet import run_fleet
from cmelive.history import device_rows
from cmelive.inventory import InventoryHost
from cmelive.judging import JudgeJob, Judges, judge
from cmelive.policy import Policy
from cmelive.report.json_report import device_json
from cmelive.report.model import DeviceStatus
from cmelive.snapshot import Snapshot, read_snapshot
from cmelive.waivers import SelectorKind, Waiver

TODAY = date(2025, 1, 15)


def job(tmp_path: Path, name: str, snapshot: Snapshot | None, *, error: str | None = None,
        waivers: Sequence[Waiver] = ()) -> JudgeJob:
    return JudgeJob(
        host=InventoryHost(name, "192.0.2.10", groups=("branches",)),
        snapshot=snapshot,
        error=error,
        policy=Policy(),
        waivers=tuple(waivers),
        today=TODAY,
        snapshot_dir=tmp_path / "snapshots" / name,
        snapshots_dir="snapshots",
        anchor=f"dev-1-{name}",
    )


def test_a_verdict_is_the_audit_with_its_waivers_snapshot_parts_and_history_rows(tmp_path: Path) -> None:
    snapshot = read_snapshot(example_dir("insecure-cme"))
    alone = audit_snapshot(snapshot, Policy(), name="branch-1")
    failed = next(r for r in alone.results if r.status == Status.FAIL)
    waiver = Waiver(failed.check, SelectorKind.GROUP, ("branches",), "lab", "voice", date(2030, 1, 1), "w.yaml:1")

    verdict = judge(job(tmp_path, "branch-1", snapshot, waivers=[waiver]))

    assert verdict.errors == [] and verdict.problems == []
    assert verdict.snapshot_dir == tmp_path / "snapshots" / "branch-1"
    assert (verdict.snapshot_dir / "meta.json").is_file()
    by_check = {r.check: r for r in verdict.report.results}
    assert by_check[failed.check].status == Status.WAIVED
    assert [r.check for r in verdict.report.results] == [r.check for r in alone.results]
    assert waiver in verdict.usage.applied
    assert verdict.parts is not None
    assert json.loads(verdict.parts.json) == verdict.report.to_dict()
    assert verdict.parts.json == device_json(verdict.report, indent=False)
    assert verdict.parts.html.anchor == "dev-1-branch-1"
    assert verdict.history_rows == device_rows(verdict.report)


def test_nothing_collected_is_an_error_verdict_with_parts(tmp_path: Path) -> None:
    verdict = judge(job(tmp_path, "down", None, error="cannot connect to 192.0.2.10:22: timed out"))
    assert verdict.report.status == DeviceStatus.ERROR
    assert verdict.report.error == "cannot connect to 192.0.2.10:22: timed out"
    assert verdict.snapshot_dir is None and not (tmp_path / "snapshots").exists()
    assert verdict.parts is not None and "could not be audited" in verdict.parts.junit


def test_a_check_engine_crash_is_that_device_s_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom with password Hunter22")

    monkeypatch.setattr(judging_module, "audit_snapshot", explode)
    verdict = judge(job(tmp_path, "b", read_snapshot(example_dir("plain-ios"))))
    assert verdict.report.status == DeviceStatus.ERROR
    assert verdict.report.error is not None and verdict.report.error.startswith("unexpected error: RuntimeError:")
    assert "Hunter22" not in verdict.report.error  # a foreign message is masked
    assert verdict.snapshot_dir is not None  # kept before judging
    assert any("Traceback" in message for message in verdict.errors)


def test_the_pool_judges_in_other_processes(tmp_path: Path) -> None:
    judges = Judges(2)
    try:
        assert judges.processes == 2
        snapshot = read_snapshot(example_dir("secure-cme"))
        verdicts = [judges.submit(job(tmp_path, f"r{i}", snapshot)).result(timeout=60) for i in range(4)]
    finally:
        judges.shutdown()
    expected = audit_snapshot(snapshot, Policy(), name="r0")
    assert [r.status for r in verdicts[0].report.results] == [r.status for r in expected.results]
    assert all((tmp_path / "snapshots" / f"r{i}" / "meta.json").is_file() for i in range(4))


def _collector_settings() -> tuple[tuple[int, int, int], int]:
    import gc

    return gc.get_threshold(), gc.get_freeze_count()


def test_a_judge_freezes_what_its_warm_up_built_and_collects_its_young_objects_less_often() -> None:
    judges = Judges(1)
    try:
        pool = judges._pool
        assert pool is not None
        threshold, frozen = pool.submit(_collector_settings).result(timeout=60)
        _, frozen_here = _collector_settings()  # what this process froze before forking the judge
    finally:
        judges.shutdown()
    assert threshold[0] == judging_module._JUDGE_GC_THRESHOLD > 700
    # The warm-up's templates, patterns and caches are frozen too: more than the judge inherited.
    assert frozen > frozen_here > 0
    assert _collector_settings()[0][0] != judging_module._JUDGE_GC_THRESHOLD  # this process is left as it was


def test_a_worker_that_dies_mid_run_loses_no_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker killed while judging (the OOM killer, a segfault): that device and every later one
    are judged in this process, and the run is told."""
    parent = os.getpid()
    real_audit = judging_module.audit_snapshot

    def die_in_a_worker(snapshot: Snapshot, policy: Policy, *, name: str) -> object:
        if name == "victim" and os.getpid() != parent:
            os._exit(9)
        return real_audit(snapshot, policy, name=name)

    # Patched before the fork: the workers inherit it.
    monkeypatch.setattr(judging_module, "audit_snapshot", die_in_a_worker)
    snapshot = read_snapshot(example_dir("plain-ios"))
    judges = Judges(1)
    try:
        with caplog.at_level(logging.WARNING, logger="cmelive.judging"):
            futures = [judges.submit(job(tmp_path, name, snapshot)) for name in ("first", "victim", "after")]
            verdicts = [future.result(timeout=60) for future in futures]
    finally:
        judges.shutdown()
    assert [v.report.name for v in verdicts] == ["first", "victim", "after"]
    assert all(v.report.status == DeviceStatus.OK for v in verdicts)  # audited whole: CME commands refused, as expected
    assert judges.lost is not None and "BrokenProcessPool" in judges.lost
    assert "judge processes lost" in caplog.text


def test_no_pool_judges_in_this_process(tmp_path: Path) -> None:
    judges = Judges(0)
    try:
        verdict = judges.submit(job(tmp_path, "r", read_snapshot(example_dir("plain-ios")))).result(timeout=60)
    finally:
        judges.shutdown()
    assert judges.processes == 0 and verdict.report.status == DeviceStatus.OK


class _Replays:
    def __call__(self) -> Collector:
        return _ReplayByName()


class _ReplayByName:
    def collect(self, target: Target, commands: Sequence[str]) -> Snapshot:
        example = ("secure-cme", "insecure-cme", "plain-ios")[int(target.label.rsplit("-", 1)[1]) % 3]
        return ReplayCollector(example_dir(example)).collect(target, commands)


@pytest.mark.parametrize("processes", [0, 2])
def test_the_reports_do_not_depend_on_where_devices_were_judged(tmp_path: Path, processes: int) -> None:
    hosts = [InventoryHost(f"branch-{i}", f"192.0.2.{i + 1}") for i in range(6)]

    def reports(processes: int, out: Path) -> dict[str, str]:
        result = run_fleet(
            hosts, out_dir=out, workers=3, timeout=5.0, base_policy=Policy(), collector_factory=_Replays(),
            today=TODAY, judge_processes=processes,
        )
        assert result.judge_processes == processes and result.problems == []
        texts = {path.name: path.read_text(encoding="utf-8-sig") for path in result.files.values()}
        # Only the time stamps differ between two runs.
        stamp = result.report.generated_at
        return {
            name: text.replace(stamp, "<generated_at>").replace(stamp.replace("T", " "), "<generated_at>")
            for name, text in texts.items()
        }

    judged_here = reports(0, tmp_path / "here")
    assert reports(processes, tmp_path / "there") == judged_here
