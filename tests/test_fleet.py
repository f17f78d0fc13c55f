"""The fleet runner and ``cmelive fleet``, with a scripted collector standing in for SSH.

Covers: retries on connection failures only, with backoff (sleep injected: nothing waits);
per-device isolation (credentials, auth, host key, a random exception); the five reports and the
snapshots, consistent with each other and with the inventory order; waivers applied and not
counted; exit codes; filters; the history lock; Ctrl-C; directory names; jump-host ssh_config.
The same runner against real fake routers over SSH is in ``test_fleet_faulty.py``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import signal
import stat
import sys
import textwrap
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import paramiko
import pytest

from cmelive import fleet as fleet_module
from cmelive.audit import audit_snapshot
from cmelive.checks.base import CheckResult, Severity, Status
from cmelive.cli import fleet as fleet_cli
from cmelive.cli import main
from cmelive.collect import Collector, Target
from cmelive.collect.replay import ReplayCollector
from cmelive.commands import RUNNING_CONFIG, CommandStatus, file_name
from cmelive.errors import AuthenticationError, ConnectError, HostKeyError, RunLockedError, UsageError
from cmelive.examples import example_dir
from cmelive.fleet import (
    FleetResult,
    backoff_delay,
    jump_host_ssh_config,
    run_fleet,
    snapshot_dir_names,
)
from cmelive.history import History, RunStatus
from cmelive.inventory import InventoryHost
from cmelive.masking import MASK
from cmelive.policy import Policy
from cmelive.report.csv_report import CSV_ENCODING
from cmelive.report.model import DeviceStatus
from cmelive.snapshot import CommandOutput, Snapshot, read_snapshot
from cmelive.waivers import SelectorKind, Waiver

from .summary_table import table_rows

TODAY = date(2025, 1, 15)
REPORTS = ("report.json", "report.csv", "report.sarif", "report.junit.xml", "report.html")


# --------------------------------------------------------------------------------------------------
# A collector that follows a script per device name


Behaviour = Callable[[Target, Sequence[str], int], Snapshot]


def replay(example: str) -> Behaviour:
    """Answer with a bundled example snapshot, as if collected live from ``target``."""

    def behave(target: Target, commands: Sequence[str], attempt: int) -> Snapshot:
        snapshot = ReplayCollector(example_dir(example)).collect(target, commands)
        snapshot.host = target.host
        return snapshot

    return behave


def connect_fails(times: int, then: Behaviour | None = None) -> Behaviour:
    def behave(target: Target, commands: Sequence[str], attempt: int) -> Snapshot:
        if attempt <= times or then is None:
            raise ConnectError(f"cannot connect to {target.address}: connection refused (attempt {attempt})")
        return then(target, commands, attempt)

    return behave


def raises(error: Exception) -> Behaviour:
    def behave(target: Target, commands: Sequence[str], attempt: int) -> Snapshot:
        raise error

    return behave


def running_config_times_out(target: Target, commands: Sequence[str], attempt: int) -> Snapshot:
    """A router that printed half its config, then went silent: the rest is not collected."""
    snapshot = replay("insecure-cme")(target, commands, attempt)
    full = snapshot.outputs[RUNNING_CONFIG].text
    half = full[: len(full) // 2]
    snapshot.outputs[RUNNING_CONFIG] = CommandOutput(
        RUNNING_CONFIG, CommandStatus.TIMEOUT, half, 2.0, "timed out: the router was silent for 2s"
    )
    for command in commands[commands.index(RUNNING_CONFIG) + 1 :]:
        snapshot.outputs[command] = CommandOutput(command, CommandStatus.NOT_COLLECTED, error="not run")
    return snapshot


class ScriptedCollector:
    """One collector for the whole fleet: each target's behaviour is looked up by its name."""

    def __init__(self, script: dict[str, Behaviour]) -> None:
        self.script = script
        self.calls: Counter[str] = Counter()
        self.targets: dict[str, Target] = {}
        self._lock = threading.Lock()

    def collect(self, target: Target, commands: Sequence[str]) -> Snapshot:
        assert target.name is not None
        with self._lock:
            self.calls[target.name] += 1
            attempt = self.calls[target.name]
            self.targets[target.name] = target
        return self.script[target.name](target, commands, attempt)

    def factory(self) -> Collector:
        return self


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.delays.append(seconds)


def host(name: str, **settings: object) -> InventoryHost:
    fields: dict[str, object] = {"address": "127.0.0.1", **settings}
    return InventoryHost(name=name, **fields)  # type: ignore[arg-type]


@dataclass
class Run:
    result: FleetResult
    collector: ScriptedCollector
    sleeps: SleepRecorder
    out: Path


def run(
    tmp_path: Path,
    hosts: list[InventoryHost],
    script: dict[str, Behaviour],
    *,
    retries: int = 1,
    workers: int = 4,
    waivers: Sequence[Waiver] = (),
    history: History | None = None,
    out_name: str = "run",
    **kwargs: object,
) -> Run:
    collector = ScriptedCollector(script)
    sleeps = SleepRecorder()
    out = tmp_path / out_name
    result = run_fleet(
        hosts,
        out_dir=out,
        workers=workers,
        timeout=5.0,
        retries=retries,
        base_policy=Policy(),
        waivers=waivers,
        history=history,
        inventory_label="test-inventory",
        collector_factory=collector.factory,
        sleep=sleeps,
        jitter=lambda: 0.5,
        today=TODAY,
        **kwargs,  # type: ignore[arg-type]
    )
    return Run(result, collector, sleeps, out)


def comparable(results: Sequence[CheckResult]) -> list[tuple[object, ...]]:
    return [(r.check, r.status, r.message, r.evidence, r.remediation) for r in results]


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in [n for n in os.environ if n.startswith("CMELIVE_") or n.startswith("FLEET_TEST_")]:
        monkeypatch.delenv(name)


# --------------------------------------------------------------------------------------------------
# Pieces


def test_backoff_doubles_with_jitter_and_a_cap() -> None:
    assert [backoff_delay(n, 0.0) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0]
    assert [backoff_delay(n, 0.999999) for n in range(3)] == pytest.approx([1.0, 2.0, 4.0], rel=1e-5)
    assert backoff_delay(40, 0.5) == pytest.approx(22.5)


def test_snapshot_dir_names_are_safe_and_unique() -> None:
    names = ["branch-01", "../etc", "a/b", ".hidden", "..", "", "Branch-01", "a_b", "zürich 1", "x\ny"]
    dirs = snapshot_dir_names(names)
    assert dirs["branch-01"] == "branch-01"  # a safe name is kept
    assert dirs["zürich 1"] == "zürich_1"
    for name, directory in dirs.items():
        assert "/" not in directory and "\n" not in directory and not directory.startswith("."), (name, directory)
        assert directory not in ("", ".", "..")
    assert len({d.casefold() for d in dirs.values()}) == len(names)  # unique, even ignoring case
    assert dirs["Branch-01"] == "Branch-01-2"
    assert dirs["a_b"] == "a_b-2"  # "a/b" took "a_b" first


def test_jump_host_becomes_a_proxyjump_snippet(tmp_path: Path) -> None:
    own = tmp_path / "ssh_config"
    own.write_text("Host *\n    User from-own-config\n    ProxyJump ignored-hop\n", encoding="utf-8")
    plain = host("east/1", address="10.1.2.3", jump_host="audit@bastion.example.net")
    with_port = host("east-2", address="10.1.2.4", jump_host="audit@bastion.example.net:2222", ssh_config=own)
    v6 = host("east-3", address="10.1.2.5", jump_host="[2001:db8::1]:22")

    config = paramiko.SSHConfig.from_path(str(jump_host_ssh_config(plain, tmp_path)))
    assert config.lookup("10.1.2.3")["proxyjump"] == "audit@bastion.example.net"
    assert "proxyjump" not in config.lookup("10.9.9.9")  # only the router goes through the hop

    path = jump_host_ssh_config(with_port, tmp_path)
    assert path.parent == tmp_path and path.name == "east-2.ssh_config"
    found = paramiko.SSHConfig.from_path(str(path)).lookup("10.1.2.4")
    assert found["proxyjump"] == "ssh://audit@bastion.example.net:2222"  # ours wins over the host's
    assert found["user"] == "from-own-config"  # and the host's own settings still apply
    v6_config = paramiko.SSHConfig.from_path(str(jump_host_ssh_config(v6, tmp_path)))
    assert v6_config.lookup("10.1.2.5")["proxyjump"] == "ssh://[2001:db8::1]:22"


def test_targets_carry_the_inventory_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_TEST_PW", "login-Pw-1")
    monkeypatch.setenv("FLEET_TEST_EN", "enable-Pw-2")
    key = tmp_path / "id_test"
    key.write_text("not really a key\n")
    hosts = [
        host("r1", port=2201, username="audit", password_env="FLEET_TEST_PW", enable_secret_env="FLEET_TEST_EN",
             key_file=key, timeout=7.5),
        host("r2", jump_host="hop.example.net"),
    ]
    known = (tmp_path / "known_hosts",)
    result = run(tmp_path, hosts, {"r1": replay("secure-cme"), "r2": replay("secure-cme")},
                 known_hosts=known, accept_new_host_key=True)
    first, second = result.collector.targets["r1"], result.collector.targets["r2"]
    assert (first.host, first.port, first.username, first.key_file, first.timeout) == ("127.0.0.1", 2201, "audit", key, 7.5)
    assert (first.password, first.enable_secret) == ("login-Pw-1", "enable-Pw-2")
    assert first.known_hosts == known and first.accept_new_host_key
    assert first.ssh_config is None
    assert second.timeout == 5.0  # the run's timeout when the host sets none
    assert second.password is None and second.ssh_config is not None
    assert second.ssh_config.name == "r2.ssh_config"
    assert not second.ssh_config.exists()  # the per-run snippet does not outlive the run
    assert "login-Pw-1" not in repr(first)


# --------------------------------------------------------------------------------------------------
# Retries


def test_connection_failures_are_retried_with_backoff(tmp_path: Path) -> None:
    hosts = [host("flaky"), host("down"), host("refused-login"), host("bad-key")]
    script = {
        "flaky": connect_fails(2, then=replay("secure-cme")),
        "down": connect_fails(99),
        "refused-login": raises(AuthenticationError("127.0.0.1:22: authentication failed: the router refused")),
        "bad-key": raises(HostKeyError("host key of 127.0.0.1:22 is not known")),
    }
    outcome = run(tmp_path, hosts, script, retries=2, workers=1)
    by_name = {d.host.name: d for d in outcome.result.devices}

    assert by_name["flaky"].report.status == DeviceStatus.OK
    assert by_name["flaky"].attempts == 3
    assert by_name["down"].attempts == 3
    assert by_name["down"].report.status == DeviceStatus.ERROR
    assert by_name["down"].report.error == (
        "cannot connect to 127.0.0.1:22: connection refused (attempt 3) (after 3 attempts)"
    )
    # Authentication and host-key refusals would be refused again: one attempt, no wait.
    assert outcome.collector.calls["refused-login"] == 1 and outcome.collector.calls["bad-key"] == 1
    assert "authentication failed" in (by_name["refused-login"].report.error or "")
    assert "host key" in (by_name["bad-key"].report.error or "")
    # Two retries each for flaky and down: 1 s then 2 s, times 0.75 for the jitter of 0.5.
    assert outcome.sleeps.delays == [0.75, 1.5, 0.75, 1.5]


def test_no_retries_means_one_attempt(tmp_path: Path) -> None:
    outcome = run(tmp_path, [host("down")], {"down": connect_fails(99)}, retries=0)
    assert outcome.collector.calls["down"] == 1 and outcome.sleeps.delays == []
    assert outcome.result.devices[0].report.error == "cannot connect to 127.0.0.1:22: connection refused (attempt 1)"


# --------------------------------------------------------------------------------------------------
# Isolation, and everything the run writes


def test_faults_stay_with_their_device_and_every_report_agrees(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hosts = [
        host("secure"),
        host("insecure"),
        host("boom"),
        host("no-password", password_env="FLEET_TEST_UNSET"),
        host("plain"),
        host("half-config"),
        host("down"),
    ]
    script = {
        "secure": replay("secure-cme"),
        "insecure": replay("insecure-cme"),
        "boom": raises(ValueError("parser exploded")),
        "no-password": replay("secure-cme"),
        "plain": replay("plain-ios"),
        "half-config": running_config_times_out,
        "down": connect_fails(99),
    }
    with caplog.at_level(logging.ERROR, logger="cmelive.fleet"):
        outcome = run(tmp_path, hosts, script, retries=0)
    result, out = outcome.result, outcome.out
    names = [h.name for h in hosts]

    # Inventory order, whatever order the threads finished in.
    assert [d.host.name for d in result.devices] == names
    assert [d.name for d in result.report.devices] == names
    status = {d.name: d.status for d in result.report.devices}
    assert status == {
        "secure": DeviceStatus.OK,
        "insecure": DeviceStatus.PARTIAL,
        "boom": DeviceStatus.ERROR,
        "no-password": DeviceStatus.ERROR,
        "plain": DeviceStatus.OK,  # its CME commands refused, as a router without CME does
        "half-config": DeviceStatus.PARTIAL,
        "down": DeviceStatus.ERROR,
    }
    reports = {d.name: d for d in result.report.devices}
    # An unexpected exception: its type and message in the report, its traceback in the log only.
    assert reports["boom"].error == "unexpected error: ValueError: parser exploded"
    assert any(r.exc_info and "parser exploded" in str(r.exc_info[1]) for r in caplog.records)
    assert "Traceback" not in (out / "report.json").read_text()
    assert reports["no-password"].error == (
        "host 'no-password': environment variable FLEET_TEST_UNSET (password_env) is not set"
    )
    assert outcome.collector.calls["no-password"] == 0

    # Healthy devices: exactly what a replay of the same snapshot gives.
    for name, example in (("secure", "secure-cme"), ("insecure", "insecure-cme"), ("plain", "plain-ios")):
        replayed = audit_snapshot(read_snapshot(example_dir(example)), name=name)
        assert comparable(reports[name].results) == comparable(replayed.results), name

    # Snapshots: one directory per device that delivered anything, masked.
    snapshots = out / "snapshots"
    assert sorted(p.name for p in snapshots.iterdir()) == sorted(["secure", "insecure", "plain", "half-config"])
    insecure_config = (snapshots / "insecure" / file_name(RUNNING_CONFIG)).read_text()
    assert MASK in insecure_config
    original = (example_dir("insecure-cme") / file_name(RUNNING_CONFIG)).read_text()
    assert insecure_config != original  # secrets were masked on the way to disk
    # The device that went silent mid-config kept what it had sent.
    partial = snapshots / "half-config" / file_name(RUNNING_CONFIG)
    assert partial.is_file() and 0 < len(partial.read_text()) < len(original)
    meta = json.loads((snapshots / "half-config" / "meta.json").read_text())
    assert {c["command"]: c["status"] for c in meta["commands"]}[RUNNING_CONFIG] == "timeout"

    # The five reports.
    assert set(result.files) == {"json", "csv", "sarif", "junit", "html"}
    assert sorted(p.name for p in out.iterdir()) == sorted([*REPORTS, "snapshots"])
    as_json = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert as_json["schema"] == 1
    assert [d["name"] for d in as_json["devices"]] == names
    assert as_json["devices"] == [d.to_dict() for d in result.report.devices]

    raw_csv = (out / "report.csv").read_bytes()
    assert raw_csv.startswith("\ufeff".encode())  # CSV_ENCODING's byte-order mark, for Excel
    rows = list(csv.DictReader(io.StringIO(raw_csv.decode(CSV_ENCODING))))
    expected_rows = sum(len(d.results) or 1 for d in result.report.devices)
    assert len(rows) == expected_rows
    assert Counter(r["device"] for r in rows) == {d.name: len(d.results) or 1 for d in result.report.devices}

    sarif = json.loads((out / "report.sarif").read_text(encoding="utf-8"))
    findings = [
        (d.name, r.check) for d in result.report.devices for r in d.results if r.status in (Status.FAIL, Status.WAIVED)
    ]
    sarif_results = sarif["runs"][0]["results"]
    assert sorted((r["properties"]["device"], r["ruleId"]) for r in sarif_results) == sorted(findings)
    for sarif_result in sarif_results:
        for location in sarif_result["locations"]:
            physical = location.get("physicalLocation")
            if physical:  # every location points at a file the run wrote
                assert (out / unquote(physical["artifactLocation"]["uri"])).is_file(), physical
    not_audited = {n["properties"]["device"] for n in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
                   if n["level"] == "error"}
    assert not_audited == {"boom", "no-password", "down"}

    junit = ET.parse(out / "report.junit.xml").getroot()
    assert [s.get("name") for s in junit.findall("testsuite")] == names
    assert int(junit.get("failures") or 0) == sum(1 for d in result.report.devices for r in d.results
                                                  if r.status == Status.FAIL)

    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # The heat map's rows are data the page's script draws: one row per device, in the page.
    heat = page[page.index('<script type="application/json" id="heat-data">') :].partition(">")[2]
    assert sorted(row[1] for row in json.loads(heat.partition("</script>")[0])) == sorted(names)


def test_a_foreign_exception_message_is_masked(tmp_path: Path) -> None:
    leaky = raises(RuntimeError("could not parse this line:\n username admin password 0 Sup3r-Secret-77"))
    outcome = run(tmp_path, [host("leaky")], {"leaky": leaky})
    error = outcome.result.devices[0].report.error or ""
    assert error.startswith("unexpected error: RuntimeError: could not parse")
    assert "Sup3r-Secret-77" not in error and MASK in error
    assert "Sup3r-Secret-77" not in (outcome.out / "report.json").read_text()


def test_devices_run_concurrently(tmp_path: Path) -> None:
    # Four devices that each wait for the other three: only a pool of four gets them all through.
    barrier = threading.Barrier(4, timeout=20)

    def meet(target: Target, commands: Sequence[str], attempt: int) -> Snapshot:
        barrier.wait()
        return replay("secure-cme")(target, commands, attempt)

    hosts = [host(f"r{n}") for n in range(4)]
    outcome = run(tmp_path, hosts, {h.name: meet for h in hosts}, workers=4)
    assert [d.report.status for d in outcome.result.devices] == [DeviceStatus.OK] * 4


def test_unsafe_device_names_get_safe_directories_and_sarif_follows(tmp_path: Path) -> None:
    hosts = [host("../escape"), host("site/a")]
    outcome = run(tmp_path, hosts, {"../escape": replay("plain-ios"), "site/a": replay("plain-ios")})
    assert sorted(p.name for p in (outcome.out / "snapshots").iterdir()) == ["_escape", "site_a"]
    assert not (tmp_path / "escape").exists()
    sarif = json.loads((outcome.out / "report.sarif").read_text())
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
        for loc in r["locations"]
        if "physicalLocation" in loc
    }
    assert uris and all((outcome.out / unquote(uri)).is_file() for uri in uris)


def test_a_non_empty_run_directory_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "report.json").write_text("{}")
    with pytest.raises(UsageError, match="not empty"):
        run(tmp_path, [host("r1")], {"r1": replay("secure-cme")})
    assert (out / "report.json").read_text() == "{}"


# --------------------------------------------------------------------------------------------------
# Waivers and history


def test_waivers_apply_by_group_and_tag_and_stale_ones_are_listed(tmp_path: Path) -> None:
    replayed = audit_snapshot(read_snapshot(example_dir("plain-ios")))
    failing = [r.check for r in replayed.results if r.status == Status.FAIL]
    by_group = Waiver(failing[0], SelectorKind.GROUP, ("lab",), "lab gear", "lab@example.com", date(2030, 1, 1), "w:1")
    by_tag = Waiver(failing[1], SelectorKind.TAG, ("legacy",), "legacy", "ops@example.com", date(2030, 1, 1), "w:7")
    expired = Waiver(failing[2], SelectorKind.DEVICE, ("r*",), "old", "ops@example.com", date(2024, 12, 31), "w:13")
    stale = Waiver(failing[0], SelectorKind.DEVICE, ("nowhere-*",), "gone", "ops@example.com", date(2030, 1, 1), "w:19")
    hosts = [host("r1", groups=("lab",), tags=("legacy",)), host("r2")]
    outcome = run(tmp_path, hosts, {"r1": replay("plain-ios"), "r2": replay("plain-ios")},
                  waivers=[by_group, by_tag, expired, stale])
    r1, r2 = (d.report for d in outcome.result.devices)
    r1_status = {r.check: r.status for r in r1.results}
    assert r1_status[failing[0]] == Status.WAIVED and r1_status[failing[1]] == Status.WAIVED
    assert r1_status[failing[2]] == Status.FAIL  # its waiver expired yesterday
    waived = next(r for r in r1.results if r.check == failing[0])
    assert waived.waiver == {"reason": "lab gear", "owner": "lab@example.com", "expires": "2030-01-01"}
    assert not any(r.status == Status.WAIVED for r in r2.results)  # r2 is in neither group nor tag
    assert outcome.result.stale_waivers == [stale]
    assert outcome.result.expired_waivers == [expired]
    # Waived findings are suppressed in SARIF, skipped in JUnit, and never counted as failures.
    sarif = json.loads((outcome.out / "report.sarif").read_text())
    suppressed = [r for r in sarif["runs"][0]["results"] if r.get("suppressions")]
    assert sorted(r["ruleId"] for r in suppressed) == sorted(failing[:2])
    assert all(r.check not in failing[:2] for r in r1.failures_at_or_above(Severity.INFO))


def test_history_records_every_device_and_the_trend_reaches_the_page(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    hosts = [host("secure"), host("plain"), host("down")]
    script = {"secure": replay("secure-cme"), "plain": replay("plain-ios"), "down": connect_fails(99)}
    with History(db) as store:
        first = run(tmp_path, hosts, script, history=store, retries=0, out_name="run1")
        second = run(tmp_path, hosts, script, history=store, retries=0, out_name="run2")
        runs = store.list_runs()
        loaded = store.load_run(second.result.run_id or 0)
    assert [r.id for r in runs] == [second.result.run_id, first.result.run_id]
    assert all(r.status == RunStatus.COMPLETE for r in runs)
    assert (runs[0].devices, runs[0].ok, runs[0].partial, runs[0].error) == (3, 2, 0, 1)  # plain-ios: ok
    assert sorted(d.name for d in loaded.devices) == ["down", "plain", "secure"]
    assert "cannot connect" in next(d.error or "" for d in loaded.devices if d.name == "down")
    page = (second.out / "report.html").read_text()
    assert "trend" in page.lower() and f"run {first.result.run_id}".lower() in page.lower()


def test_a_second_run_on_the_same_history_is_refused_at_once(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    with History(db) as holder:
        # Run locks belong to a scope (by default the inventory): this run's is held.
        handle = holder.start_run("someone else", 10, scope="test-inventory")
        with History(db) as store, pytest.raises(RunLockedError, match="another fleet run is in progress"):
            run(tmp_path, [host("r1")], {"r1": replay("secure-cme")}, history=store)
        holder.finish_run(handle, complete=True)


# --------------------------------------------------------------------------------------------------
# Ctrl-C


def test_ctrl_c_stops_the_queue_keeps_what_finished_and_marks_the_run_incomplete(tmp_path: Path) -> None:
    hosts = [host(f"r{n}") for n in range(8)]
    seen: list[str] = []

    def interrupt_after_two(report: object) -> None:
        seen.append(getattr(report, "name"))
        if len(seen) == 2:
            raise KeyboardInterrupt

    db = tmp_path / "history.sqlite"
    with History(db) as store:
        outcome = run(tmp_path, hosts, {h.name: replay("plain-ios") for h in hosts}, workers=1,
                      history=store, progress=interrupt_after_two)
        runs = store.list_runs()
    result = outcome.result
    assert result.interrupted and not result.abandoned
    # Every device of the inventory is in the result and the reports, in inventory order.
    assert [d.host.name for d in result.devices] == [h.name for h in hosts]
    done = [d.host.name for d in result.devices if d.report.status != DeviceStatus.NOT_STARTED]
    # The two reported, plus those in flight when Ctrl-C came (with one worker: one being collected
    # and at most two waiting for or in judging); the queue behind them never started.
    assert done[:2] == ["r0", "r1"] and len(done) <= 2 + 1 + 2
    assert result.not_run == [h.name for h in hosts if h.name not in done]
    assert sum(outcome.collector.calls.values()) == len(done)
    as_json = json.loads((outcome.out / "report.json").read_text())
    assert [(d["name"], d["status"]) for d in as_json["devices"]] == [
        (name, "ok" if name in done else "not_started") for name in [h.name for h in hosts]  # plain-ios: ok
    ]
    assert runs[0].status == RunStatus.INCOMPLETE and runs[0].devices == len(done)
    assert runs[0].not_started == len(hosts) - len(done) and runs[0].interrupted == 0


def test_a_second_ctrl_c_abandons_the_devices_still_in_flight(tmp_path: Path) -> None:
    b_may_finish, c_may_finish = threading.Event(), threading.Event()

    def after(event: threading.Event) -> Behaviour:
        def behave(target: Target, commands: Sequence[str], attempt: int) -> Snapshot:
            event.wait(timeout=30)
            return replay("secure-cme")(target, commands, attempt)

        return behave

    def press_ctrl_c(report: object) -> None:
        if getattr(report, "name") == "a":
            b_may_finish.set()  # b finishes while the run waits for it after the first Ctrl-C...
        raise KeyboardInterrupt  # ...and the report of b brings the second one

    hosts = [host("a"), host("b"), host("c")]
    script = {"a": replay("secure-cme"), "b": after(b_may_finish), "c": after(c_may_finish)}
    try:
        outcome = run(tmp_path, hosts, script, workers=3, progress=press_ctrl_c)
    finally:
        c_may_finish.set()  # let the abandoned thread end
    result = outcome.result
    assert result.interrupted
    assert [(d.host.name, d.report.status) for d in result.devices] == [
        ("a", DeviceStatus.OK), ("b", DeviceStatus.OK), ("c", DeviceStatus.INTERRUPTED)
    ]
    assert result.abandoned == ["c"] and result.not_run == ["c"]
    as_json = json.loads((outcome.out / "report.json").read_text())
    assert [(d["name"], d["status"]) for d in as_json["devices"]] == [("a", "ok"), ("b", "ok"), ("c", "interrupted")]


# --------------------------------------------------------------------------------------------------
# The command


INVENTORY = textwrap.dedent(
    """\
    defaults:
      address: 127.0.0.1
    groups:
      east: {}
      west: {}
    hosts:
      secure-1: {groups: [east], tags: [pilot]}
      plain-1: {groups: [east]}
      plain-2: {groups: [west], tags: [pilot]}
      down-1: {groups: [west]}
    """
)
CLI_SCRIPT: dict[str, Behaviour] = {
    "secure-1": replay("secure-cme"),
    "plain-1": replay("plain-ios"),
    "plain-2": replay("plain-ios"),
    "down-1": connect_fails(99),
}


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str
    collector: ScriptedCollector


@pytest.fixture
def cmelive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[..., CliRun]]:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY, encoding="utf-8")
    root_handlers = logging.getLogger().handlers[:]

    def invoke(*args: str, script: dict[str, Behaviour] | None = None) -> CliRun:
        collector = ScriptedCollector(script or CLI_SCRIPT)
        monkeypatch.setattr(fleet_module, "default_collector", collector.factory)
        monkeypatch.setattr(sys, "argv", ["cmelive", "fleet", str(inventory), *args])
        with pytest.raises(SystemExit) as stopped:
            main()
        captured = capsys.readouterr()
        code = stopped.value.code
        return CliRun(code if isinstance(code, int) else 1, captured.out, captured.err, collector)

    yield invoke
    for handler in logging.getLogger().handlers:
        handler.close()
    logging.getLogger().handlers[:] = root_handlers


def test_cli_exit_codes(tmp_path: Path, cmelive: Callable[..., CliRun]) -> None:
    db = str(tmp_path / "h.sqlite")
    everything = cmelive("--out", str(tmp_path / "all"), "--db", db, "--retries", "0")
    assert everything.code == 3  # down-1 could not be audited: that takes precedence
    findings = cmelive("--out", str(tmp_path / "east"), "--db", db, "--group", "east")
    assert findings.code == 1  # plain-ios fails high checks
    zero = cmelive("--out", str(tmp_path / "east0"), "--no-history", "--group", "east", "--exit-zero")
    assert zero.code == 0  # the same findings; --exit-zero
    assert cmelive("--out", str(tmp_path / "all0"), "--no-history", "--retries", "0", "--exit-zero").code == 3
    assert sorted(findings.collector.calls) == ["plain-1", "secure-1"]
    clean = cmelive("--out", str(tmp_path / "secure"), "--db", db, "--host", "secure-1")
    assert clean.code == 0
    relaxed = cmelive("--out", str(tmp_path / "pilot"), "--no-history", "--tag", "pilot", "--fail-on", "critical")
    assert relaxed.code == 0
    assert sorted(relaxed.collector.calls) == ["plain-2", "secure-1"]
    both = cmelive("--out", str(tmp_path / "both"), "--no-history", "--group", "west", "--tag", "pilot")
    assert sorted(both.collector.calls) == ["plain-2"]


def test_cli_waived_failures_do_not_count(tmp_path: Path, cmelive: Callable[..., CliRun]) -> None:
    replayed = audit_snapshot(read_snapshot(example_dir("plain-ios")))
    high = [r.check for r in replayed.results if r.status == Status.FAIL and r.severity.rank >= Severity.HIGH.rank]
    assert high
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "".join(
            f"- check: {check}\n  group: east\n  reason: accepted for the pilot\n  owner: ops@example.com\n"
            "  expires: 2999-12-31\n"
            for check in high
        )
        + "- check: CME-ACC-04\n  device: gone-*\n  reason: old\n  owner: ops@example.com\n  expires: 2999-12-31\n",
        encoding="utf-8",
    )
    waived = cmelive("--out", str(tmp_path / "w"), "--no-history", "--host", "plain-1", "--waivers", str(waivers))
    assert waived.code == 0, waived.stdout + waived.stderr
    assert "Stale waivers" in waived.stdout and "CME-ACC-04 for device gone-*" in waived.stdout
    row = next(line for line in waived.stdout.splitlines() if line.startswith("plain-1 ")).split()
    assert (row[1], row[2], row[3], row[7]) == ("ok", "0", "0", str(len(high)))  # status, crit, high, waived


def test_cli_summary_table(tmp_path: Path, cmelive: Callable[..., CliRun]) -> None:
    out = tmp_path / "run"
    done = cmelive("--out", str(out), "--no-history", "--retries", "0")
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["DEVICE", "STATUS", "CRIT", "HIGH", "MED", "LOW", "INFO", "WAIVED", "NOTE"]
    # Not a terminal, no $COLUMNS: 100 columns, the long notes wrapped within theirs.
    assert max(len(line) for line in lines[: lines.index("")]) <= 100
    rows = table_rows(done.stdout)
    assert list(rows) == ["secure-1", "plain-1", "plain-2", "down-1"]
    assert rows["secure-1"].split()[1:8] == ["ok", "0", "0", "0", "0", "0", "0"]
    assert rows["down-1"].split()[1] == "error"
    assert rows["down-1"].endswith("cannot connect to 127.0.0.1:22: connection refused (attempt 1)")
    assert "no CME: 5 CME command(s) refused, as expected" in rows["plain-1"]  # ok, and why some were refused
    assert "4 devices in" in done.stdout and "3 ok, 0 partial, 1 error" in done.stdout
    for name in REPORTS:
        assert str(out / name) in done.stdout
    assert (out / "cmelive.log").is_file()
    assert "cannot connect" in (out / "cmelive.log").read_text()
    assert done.stderr == ""  # not a terminal: no progress line, and the log stays in its file
    quiet = cmelive("--out", str(tmp_path / "quiet"), "--no-history", "--quiet")
    assert quiet.stdout == "" and quiet.code == 3
    assert (tmp_path / "quiet" / "report.json").is_file()


def test_progress_bar() -> None:
    stream = io.StringIO()
    bar = fleet_cli._Progress(12, stream, color=False)
    ok = audit_snapshot(read_snapshot(example_dir("secure-cme")))
    failing = audit_snapshot(read_snapshot(example_dir("insecure-cme")))
    bar.update(ok)
    bar.update(failing)
    bar.update(replace(ok, status=DeviceStatus.ERROR, results=[], error="cannot connect"))
    bar.close()
    bar.close()  # twice: run_then_exit's finally closes it again
    drawn = stream.getvalue()
    assert drawn.startswith("\x1b[?25l") and drawn.endswith("\x1b[?25h")  # the cursor hidden, then shown again
    last = drawn.split("\r")[-1]
    assert " 3/12 devices " in last and " 25% " in last and " eta " in last
    assert last.rstrip("\n\x1b[?25h").endswith("1 not audited, 1 failing")
    assert "\x1b[3" not in drawn  # no colour asked: no colour


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--group", "north"), "unknown group: north"),
        (("--db", "x.sqlite", "--no-history"), "--db and --no-history"),
        (("--policy", "missing-policy.yaml"), "missing-policy.yaml"),
        (("--waivers", "missing-waivers.yaml"), "missing-waivers.yaml: waivers file does not exist"),
    ],
)
def test_cli_bad_input_exits_2(
    tmp_path: Path, cmelive: Callable[..., CliRun], args: tuple[str, ...], needle: str
) -> None:
    done = cmelive("--out", str(tmp_path / "run"), *args)
    assert done.code == 2 and needle in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not done.collector.calls


def test_cli_bad_inventory_names_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    inventory = tmp_path / "bad.yaml"
    inventory.write_text("hosts:\n  r1:\n    address: 127.0.0.1\n    colour: blue\n", encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["cmelive", "fleet", str(inventory), "--out", str(tmp_path / "run")])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    assert f"{inventory}:4: host 'r1': unknown key 'colour'" in capsys.readouterr().err


def test_cli_second_run_on_a_locked_history_exits_2_at_once(tmp_path: Path, cmelive: Callable[..., CliRun]) -> None:
    db = tmp_path / "h.sqlite"
    with History(db) as holder:
        handle = holder.start_run("the nightly run", 200, scope="nightly")
        refused = cmelive("--out", str(tmp_path / "run"), "--db", str(db), "--scope", "nightly")
        holder.finish_run(handle, complete=True)
    assert refused.code == 2
    assert "another fleet run is in progress on this database" in refused.stderr
    assert not refused.collector.calls  # refused before a single router was contacted
    assert not (tmp_path / "run" / "report.json").exists()


def test_cli_ctrl_c_exits_130_with_the_reports_of_what_finished(
    tmp_path: Path, cmelive: Callable[..., CliRun]
) -> None:
    def press_ctrl_c(target: Target, commands: Sequence[str], attempt: int) -> Snapshot:
        # A real SIGINT, delivered to the main thread as a user's Ctrl-C would be.
        os.kill(os.getpid(), signal.SIGINT)
        return replay("plain-ios")(target, commands, attempt)

    script = {**CLI_SCRIPT, "plain-1": press_ctrl_c}
    db = tmp_path / "h.sqlite"
    out = tmp_path / "run"
    # A process started in the background by a non-interactive shell (as CI may start the
    # tests) inherits SIGINT as ignored; a user's terminal delivers it as KeyboardInterrupt.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        done = cmelive("--out", str(out), "--db", str(db), "--workers", "1", script=script)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert done.code == 130
    assert "Interrupted:" in done.stdout
    names = [d["name"] for d in json.loads((out / "report.json").read_text())["devices"]]
    assert names[:2] == ["secure-1", "plain-1"]  # plain-1 was in flight: it finished
    assert "down-1" not in names or "plain-2" in names
    with History(db) as store:
        assert store.list_runs()[0].status == RunStatus.INCOMPLETE


def test_cli_sigterm_winds_down_like_ctrl_c(tmp_path: Path, cmelive: Callable[..., CliRun]) -> None:
    def systemd_stop(target: Target, commands: Sequence[str], attempt: int) -> Snapshot:
        os.kill(os.getpid(), signal.SIGTERM)
        return replay("plain-ios")(target, commands, attempt)

    before = signal.getsignal(signal.SIGTERM)
    db = tmp_path / "h.sqlite"
    done = cmelive("--out", str(tmp_path / "run"), "--db", str(db), "--workers", "1",
                   script={**CLI_SCRIPT, "plain-1": systemd_stop})
    assert done.code == 130
    assert "Interrupted:" in done.stdout
    assert signal.getsignal(signal.SIGTERM) == before  # the command restores the handler
    with History(db) as store:
        assert store.list_runs()[0].status == RunStatus.INCOMPLETE


def test_cli_metrics_file_for_node_exporter(tmp_path: Path, cmelive: Callable[..., CliRun]) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    prom = tmp_path / "textfile" / "cmelive.prom"
    prom.parent.mkdir()
    done = cmelive("--out", str(tmp_path / "run"), "--no-history", "--retries", "0", "--metrics", str(prom),
                   "--group-readable")
    assert done.code == 3, done.stderr  # down-1: the metrics change no exit code
    families = {f.name: f.samples for f in text_string_to_metric_families(prom.read_text(encoding="utf-8"))}
    assert {s.labels["device"]: s.value for s in families["cmelive_device_audited"]} == {
        "secure-1": 1, "plain-1": 1, "plain-2": 1, "down-1": 0
    }
    assert families["cmelive_devices_not_audited"][0].value == 1
    assert sum(s.value for s in families["cmelive_findings"] if s.labels["device"] == "secure-1") > 0
    assert stat.S_IMODE(prom.stat().st_mode) == 0o640

    refused = cmelive("--out", str(tmp_path / "run2"), "--no-history", "--metrics", str(tmp_path / "nowhere" / "x.prom"))
    assert refused.code == 2 and "--metrics: its directory does not exist" in refused.stderr
    assert not refused.collector.calls and not (tmp_path / "run2").exists()  # refused before the run
