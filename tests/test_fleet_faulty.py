"""The issue's key test: a fleet of 53 fake routers over real SSH, a third of them faulty.

One :class:`~cmelive.fake.fleet.FakeFleet` serves the bundled examples (secure, insecure, plain
IOS) healthy, slow, refusing the login or ``enable``, hanging on or dropping the connection during
a command, without CME, plus inventory hosts on ports that refuse connections and routers whose
host key is unknown or changed. ``cmelive fleet`` audits them with 20 workers and a 2 s timeout,
once in process (:func:`~cmelive.fleet.run_fleet` with the netmiko collector) and once as the
command a user runs. Asserted:

- every healthy device's results equal a replay of the snapshot it serves (check, status, message,
  evidence, remediation), and what was collected was saved, masked;
- every faulty device has the right status and a precise message, and keeps what it did collect;
- the faults cost the run no more than their own timeouts (a generous sanity bound on wall time,
  not a benchmark).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cmelive.audit import audit_snapshot
from cmelive.checks import all_checks
from cmelive.checks.base import CheckResult, Evidence, Severity, Status
from cmelive.commands import AUDIT_COMMANDS, PKI_CERTIFICATES, RUNNING_CONFIG, CommandStatus, file_name
from cmelive.examples import example_dir
from cmelive.fake.faults import Faults, is_cme_command, strip_cme_sections
from cmelive.fake.fleet import FakeFleet, FakeRouterSpec, KnownHost
from cmelive.fake.ios_cli import INVALID_INPUT
from cmelive.fleet import FleetResult, run_fleet
from cmelive.history import History, RunStatus
from cmelive.inventory import load_inventory
from cmelive.masking import mask_text
from cmelive.policy import Policy
from cmelive.report.model import DeviceReport, DeviceStatus
from cmelive.snapshot import CommandOutput, Snapshot, read_snapshot
from cmelive.ssh_session import SshSession

from .summary_table import table_rows

PASSWORD_ENV = "FAKE_FLEET_PASSWORD"
ENABLE_ENV = "FAKE_FLEET_ENABLE"
TIMEOUT_S = 2.0
WORKERS = 20
#: A sanity bound, not a benchmark: 53 routers, 20 at a time, the slowest faults ~2 timeouts each.
#: Were a fault to hold up the others (a shared lock, a serialised pool), the run would take minutes.
WALL_TIME_BOUND_S = 60.0
HEALTHY_PER_EXAMPLE = 12
SLOW_DELAY_MS = 150


@dataclass(frozen=True)
class Expected:
    """What a router's fault should produce."""

    kind: str  # healthy | slow | no_cme | auth | enable | hang | drop | down | key_missing | key_changed
    example: str


def fleet_plan() -> dict[str, Expected]:
    plan: dict[str, Expected] = {}
    for example in ("secure-cme", "insecure-cme", "plain-ios"):
        for n in range(1, HEALTHY_PER_EXAMPLE + 1):
            plan[f"{example}-{n:02d}"] = Expected("healthy", example)
    faulty = [
        ("slow", "secure-cme"), ("slow", "insecure-cme"), ("slow", "plain-ios"),
        ("auth", "secure-cme"), ("auth", "plain-ios"),
        ("enable", "insecure-cme"), ("enable", "secure-cme"),
        ("hang", "secure-cme"), ("hang", "insecure-cme"),
        ("drop", "insecure-cme"), ("drop_late", "secure-cme"),
        ("no_cme", "secure-cme"), ("no_cme", "insecure-cme"),
        ("down", "secure-cme"), ("down", "plain-ios"),
        ("key_missing", "secure-cme"), ("key_changed", "insecure-cme"),
    ]
    for index, (kind, example) in enumerate(faulty, start=1):
        plan[f"{kind.replace('_', '-')}-{index:02d}"] = Expected(kind, example)
    return plan


PLAN = fleet_plan()


def spec_for(name: str, expected: Expected) -> FakeRouterSpec:
    faults = {
        "slow": Faults(delay_ms=SLOW_DELAY_MS),
        "auth": Faults(fail_auth=True),
        "enable": Faults(fail_enable=True),
        "hang": Faults(hang_on=(RUNNING_CONFIG,)),
        "drop": Faults(drop_on=(RUNNING_CONFIG,)),
        "drop_late": Faults(drop_on=(PKI_CERTIFICATES,)),
        "no_cme": Faults(no_cme=True),
    }.get(expected.kind, Faults())
    known_host: KnownHost = "match"
    if expected.kind == "key_missing":
        known_host = "missing"
    elif expected.kind == "key_changed":
        known_host = "changed"
    tags = ("healthy",) if expected.kind in ("healthy", "slow") else ("faulty",)
    return FakeRouterSpec(
        name=name,
        snapshot=example_dir(expected.example),
        faults=faults,
        groups=(expected.example,),
        tags=tags,
        down=expected.kind == "down",
        known_host=known_host,
    )


@dataclass
class Fleet:
    fleet: FakeFleet
    inventory: Path
    known_hosts: Path
    environment: dict[str, str]


@pytest.fixture(scope="module")
def fake_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    assert len(PLAN) >= 50
    directory = tmp_path_factory.mktemp("fake-fleet")
    with FakeFleet([spec_for(name, expected) for name, expected in PLAN.items()]) as fleet:
        known_hosts = directory / "known_hosts"
        inventory = fleet.write_inventory(
            directory / "inventory.yaml", password_env=PASSWORD_ENV, enable_secret_env=ENABLE_ENV, known_hosts=known_hosts
        )
        environment = fleet.environment(password_env=PASSWORD_ENV, enable_secret_env=ENABLE_ENV)
        yield Fleet(fleet, inventory, known_hosts, environment)


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never the user's own known_hosts or history.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


# --------------------------------------------------------------------------------------------------
# What each router should give


def replay_of(expected: Expected, ssh: SshSession | None = None) -> DeviceReport:
    """The audit of the snapshot the router serves (for a no-CME router: what it serves instead),
    with what the live SSH session showed (``ssh``), which the served captures cannot hold."""
    snapshot = read_snapshot(example_dir(expected.example))
    if expected.kind == "no_cme":
        snapshot = without_cme_snapshot(snapshot)
    snapshot.ssh = ssh
    return audit_snapshot(snapshot)


def without_cme_snapshot(snapshot: Snapshot) -> Snapshot:
    outputs: dict[str, CommandOutput] = {}
    for command, output in snapshot.outputs.items():
        if is_cme_command(command):
            outputs[command] = CommandOutput(command, CommandStatus.REJECTED, f"{INVALID_INPUT}\n", error=INVALID_INPUT)
        elif command == RUNNING_CONFIG:
            outputs[command] = CommandOutput(command, output.status, strip_cme_sections(output.text))
        else:
            outputs[command] = output
    return Snapshot(host=snapshot.host, outputs=outputs, hostname=snapshot.hostname)


def comparable(results: Sequence[CheckResult]) -> list[tuple[object, ...]]:
    return [(r.check, r.status, r.message, r.evidence, r.remediation) for r in results]


def command_status(report: DeviceReport) -> dict[str, CommandStatus]:
    return {c.command: c.status for c in report.commands}


def assert_device(name: str, report: DeviceReport, run_dir: Path, port: int) -> None:
    expected = PLAN[name]
    saved_dir = run_dir / "snapshots" / name
    kind = expected.kind
    if kind in ("healthy", "slow", "no_cme"):
        assert report.ssh is not None, name
        replayed = replay_of(expected, report.ssh)
        assert report.status == replayed.status, (name, report.error)
        assert comparable(report.results) == comparable(replayed.results), name
        # Everything collected was kept, masked, byte for byte.
        saved = read_snapshot(saved_dir)
        assert saved.ssh == report.ssh, name
        source = without_cme_snapshot(read_snapshot(example_dir(expected.example))) if kind == "no_cme" else \
            read_snapshot(example_dir(expected.example))
        for command in AUDIT_COMMANDS:
            assert saved.outputs[command].status == source.outputs[command].status, (name, command)
            if source.outputs[command].status == CommandStatus.OK:
                assert saved.outputs[command].text == mask_text(source.outputs[command].text), (name, command)
        if kind == "no_cme":
            assert not [line for line in saved.outputs[RUNNING_CONFIG].text.splitlines() if line.startswith("telephony-service")]
            assert {r.status for r in report.results if r.check in CME_ONLY} == {Status.NOT_APPLICABLE}
        return
    if kind == "auth":
        assert report.status == DeviceStatus.ERROR
        assert report.error == (
            f"127.0.0.1:{port}: authentication failed: the router refused the login as 'admin' "
            "(wrong username, key or password)"
        )
    elif kind == "enable":
        assert report.status == DeviceStatus.ERROR
        assert report.error == f"127.0.0.1:{port}: 'enable' failed (% Access denied): the router refused the enable secret"
    elif kind == "down":
        assert report.status == DeviceStatus.ERROR
        assert report.error == (
            f"cannot connect to 127.0.0.1:{port}: connection refused (nothing listens on that port) (after 2 attempts)"
        )
    elif kind == "key_missing":
        assert report.status == DeviceStatus.ERROR
        assert (report.error or "").startswith(f"host key of 127.0.0.1:{port} is not known: the router offered ssh-rsa")
    elif kind == "key_changed":
        assert report.status == DeviceStatus.ERROR
        assert (report.error or "").startswith(f"HOST KEY HAS CHANGED for 127.0.0.1:{port}: expected ssh-rsa key")
    if report.status == DeviceStatus.ERROR:
        assert not report.results and not saved_dir.exists(), name  # nothing was collected
        return

    statuses = command_status(report)
    source = read_snapshot(example_dir(expected.example))
    faulty_command = PKI_CERTIFICATES if kind == "drop_late" else RUNNING_CONFIG
    before = list(AUDIT_COMMANDS[: AUDIT_COMMANDS.index(faulty_command)])
    after = list(AUDIT_COMMANDS[AUDIT_COMMANDS.index(faulty_command) + 1 :])
    assert report.status == DeviceStatus.PARTIAL, (name, report.error)
    errors = {c.command: c.error or "" for c in report.commands}
    if kind == "hang":
        assert statuses[RUNNING_CONFIG] == CommandStatus.TIMEOUT
        assert errors[RUNNING_CONFIG] == (
            f"timed out: the router was silent for {TIMEOUT_S:g}s before its prompt came back"
        )
    else:
        assert statuses[faulty_command] == CommandStatus.NOT_COLLECTED
        assert errors[faulty_command].startswith("connection lost"), errors[faulty_command]
    for command in after:
        assert statuses[command] == CommandStatus.NOT_COLLECTED, (name, command)
    # What came before the fault was collected and kept, as served.
    saved = read_snapshot(saved_dir)
    for command in before:
        assert statuses[command] == source.outputs[command].status, (name, command)
        assert saved.outputs[command].text == mask_text(source.outputs[command].text), (name, command)
    if kind != "hang":
        # The dropped command printed part of its output before the line went dead: kept too.
        kept = (saved_dir / file_name(faulty_command)).read_text(encoding="utf-8")
        assert kept and mask_text(source.outputs[faulty_command].text).startswith(kept), name
    # Checks that needed the missing outputs say unknown, never pass.
    for result in report.results:
        spec_requires = REQUIRES[result.check]
        if any(statuses.get(command) != CommandStatus.OK for command in spec_requires if command in after):
            assert result.status in (Status.UNKNOWN, Status.NOT_APPLICABLE), (name, result.check, result.status)


CME_ONLY = {spec.id for spec in all_checks() if spec.cme_only}
REQUIRES = {spec.id: spec.requires for spec in all_checks()}


def assert_fleet(reports: Sequence[DeviceReport], run_dir: Path, ports: dict[str, int]) -> None:
    assert [r.name for r in reports] == list(PLAN)  # inventory order
    for report in reports:
        assert_device(report.name, report, run_dir, ports[report.name])


# --------------------------------------------------------------------------------------------------
# The runs


def test_fifty_routers_in_process(fake_fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in fake_fleet.environment.items():
        monkeypatch.setenv(variable, value)
    hosts = load_inventory(fake_fleet.inventory).hosts
    run_dir = tmp_path / "run"
    started = time.monotonic()
    with History(tmp_path / "history.sqlite") as history:
        result: FleetResult = run_fleet(
            hosts,
            out_dir=run_dir,
            workers=WORKERS,
            timeout=TIMEOUT_S,
            retries=1,
            base_policy=Policy(),
            history=history,
            inventory_label=str(fake_fleet.inventory),
            known_hosts=(fake_fleet.known_hosts,),
        )
        runs = history.list_runs()
    wall = time.monotonic() - started
    print(f"\n{len(hosts)} routers, {WORKERS} workers, timeout {TIMEOUT_S:g}s: {wall:.1f}s wall time")

    assert wall < WALL_TIME_BOUND_S
    assert not result.interrupted and not result.problems
    assert_fleet(result.report.devices, run_dir, fake_fleet.fleet.ports)
    # Only the unreachable ones were tried twice; no healthy device needed a second attempt.
    attempts = {d.host.name: d.attempts for d in result.devices}
    assert {n for n, a in attempts.items() if a > 1} == {n for n, e in PLAN.items() if e.kind == "down"}
    # The reports and the history agree with the devices.
    as_json = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert as_json["devices"] == [d.to_dict() for d in result.report.devices]
    assert runs[0].status == RunStatus.COMPLETE and runs[0].devices == len(PLAN)
    assert runs[0].error == sum(1 for e in PLAN.values() if e.kind in ERROR_KINDS)


ERROR_KINDS = ("auth", "enable", "down", "key_missing", "key_changed")


def test_fifty_routers_through_the_command(fake_fleet: Fleet, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    db = tmp_path / "history.sqlite"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("CMELIVE_")}
    environment.update(fake_fleet.environment)
    command = [
        sys.executable, "-m", "cmelive", "fleet", str(fake_fleet.inventory),
        "--out", str(run_dir),
        "--workers", str(WORKERS),
        "--timeout", f"{TIMEOUT_S:g}",
        "--db", str(db),
        "--known-hosts", str(fake_fleet.known_hosts),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, env=environment, stdin=subprocess.DEVNULL)
    assert done.returncode == 3, done.stdout + done.stderr  # some devices could not be audited
    assert done.stderr == ""  # not a terminal: no progress line; the log went to the run directory

    as_json = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    reports = [device_from_json(d) for d in as_json["devices"]]
    assert_fleet(reports, run_dir, fake_fleet.fleet.ports)

    rows = {name: row.split()[1] for name, row in table_rows(done.stdout).items()}
    assert rows == {r.name: str(r.status) for r in reports}
    assert f"{len(PLAN)} devices in" in done.stdout
    for name in ("report.json", "report.csv", "report.sarif", "report.junit.xml", "report.html"):
        assert (run_dir / name).is_file() and str(run_dir / name) in done.stdout
    log = (run_dir / "cmelive.log").read_text(encoding="utf-8")
    assert fake_fleet.environment[PASSWORD_ENV] not in log and fake_fleet.environment[ENABLE_ENV] not in log
    with History(db, create=False) as history:
        (run,) = history.list_runs()
    assert run.status == RunStatus.COMPLETE and run.devices == len(PLAN)


def device_from_json(data: dict[str, Any]) -> DeviceReport:
    """Back from report.json, enough to compare with a replay (results and command statuses)."""
    results = [
        CheckResult(
            check=r["check"],
            title=r["title"],
            severity=Severity(r["severity"]),
            family=r["family"],
            status=Status(r["status"]),
            reference=r["reference"],
            message=r["message"],
            evidence=tuple(Evidence(e["command"], e["line"], e["text"]) for e in r["evidence"]),
            remediation=tuple(r["remediation"]),
        )
        for r in data["results"]
    ]
    commands = [CommandOutput(c["command"], CommandStatus(c["status"]), error=c.get("error")) for c in data["commands"]]
    return DeviceReport(
        name=data["name"],
        host=data["host"],
        hostname=data["hostname"],
        status=DeviceStatus(data["status"]),
        error=data["error"],
        commands=commands,
        results=results,
        ssh=SshSession.from_dict(data["ssh"], "report.json") if data["ssh"] is not None else None,
    )
