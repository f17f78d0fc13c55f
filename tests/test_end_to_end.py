"""A live audit over SSH through the CLI, and the same snapshot replayed: one path, one report."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cmelive.checks import all_checks
from cmelive.examples import example_dir
from cmelive.fake.server import FakeRouter
from cmelive.snapshot import read_snapshot
from cmelive.ssh_session import SSH_SESSION

from .livefake import ENABLE_SECRET, PASSWORD, cli, closed_port, credentials_env, write_known_hosts
from .report_schema import assert_valid_report

READ_ONLY = re.compile(r"^(show \S.*|terminal \S.*|enable|exit)$")


@pytest.fixture
def insecure_router() -> Iterator[FakeRouter]:
    snapshot = read_snapshot(example_dir("insecure-cme"))
    with FakeRouter(snapshot, username="admin", password=PASSWORD, enable_secret=ENABLE_SECRET) as router:
        yield router


def audit_args(router: FakeRouter, known_hosts: Path, *extra: str) -> list[str]:
    return ["audit", router.host, "--port", str(router.port), "-u", "admin", "--known-hosts", str(known_hosts), *extra]


#: Checks that judge what the SSH session showed at login, which captures from files do not hold.
SSH_CHECKS = {spec.id for spec in all_checks() if SSH_SESSION in spec.requires}


def comparable(report: dict[str, Any], *, with_ssh: bool = True) -> list[dict[str, Any]]:
    """What must be equal between live and replay: everything but timings and provenance
    (``with_ssh=False``: nor what the SSH session showed, which captures from files lack)."""
    devices = []
    for device in report["devices"]:
        devices.append(
            {
                "hostname": device["hostname"],
                "status": device["status"],
                "facts": device["facts"],
                "ssh": device["ssh"] if with_ssh else None,
                "commands": [(c["command"], c["status"]) for c in device["commands"]],
                "results": [r for r in device["results"] if with_ssh or r["check"] not in SSH_CHECKS],
            }
        )
    return devices


def test_live_audit_equals_replay_and_is_read_only(insecure_router: FakeRouter, tmp_path: Path) -> None:
    known_hosts = write_known_hosts(tmp_path / "known_hosts", insecure_router.known_hosts_line())
    saved = tmp_path / "saved"
    live = cli(
        *audit_args(insecure_router, known_hosts, "--format", "json", "--save-snapshot", str(saved), "--no-mask"),
        env=credentials_env(),
    )
    assert live.returncode == 1, live.stderr  # the insecure example fails high-severity checks
    live_report = json.loads(live.stdout)
    assert live_report["schema"] == 1
    assert_valid_report(live_report, "audit --format json")
    device = live_report["devices"][0]
    assert device["status"] in ("ok", "partial")
    assert device["hostname"] == read_snapshot(example_dir("insecure-cme")).hostname or device["hostname"]

    # Read-only proof: the router saw nothing but show, terminal, enable and exit.
    assert insecure_router.command_log, "the fake router recorded no commands"
    assert all(READ_ONLY.match(command) for command in insecure_router.command_log), insecure_router.command_log

    # Replay of the snapshot the live audit saved gives the same report; so does replay of the
    # bundled captures, but for what only a live session shows (there: unknown).
    assert device["ssh"] is not None
    for snapshot_dir, with_ssh in ((example_dir("insecure-cme"), False), (saved, True)):
        replayed = cli("replay", str(snapshot_dir), "--format", "json")
        assert replayed.returncode == 1, replayed.stderr
        replayed_report = json.loads(replayed.stdout)
        assert_valid_report(replayed_report, "replay --format json")
        assert comparable(replayed_report, with_ssh=with_ssh) == comparable(live_report, with_ssh=with_ssh)
        if not with_ssh:
            ssh_results = [r for r in replayed_report["devices"][0]["results"] if r["check"] in SSH_CHECKS]
            assert ssh_results and all(r["status"] == "unknown" for r in ssh_results)


def test_text_report_to_file_and_fail_on(insecure_router: FakeRouter, tmp_path: Path) -> None:
    known_hosts = write_known_hosts(tmp_path / "known_hosts", insecure_router.known_hosts_line())
    out = tmp_path / "report.txt"
    proc = cli(*audit_args(insecure_router, known_hosts, "--output", str(out), "--fail-on", "critical"), env=credentials_env())
    text = out.read_text(encoding="utf-8")
    assert proc.stdout == ""
    assert "Summary:" in text
    assert all(len(line) <= 80 for line in text.splitlines()), "text report exceeds 80 columns"
    report = json.loads(cli("replay", str(example_dir("insecure-cme")), "--format", "json").stdout)
    critical_failures = [
        r for r in report["devices"][0]["results"] if r["status"] == "fail" and r["severity"] == "critical"
    ]
    assert proc.returncode == (1 if critical_failures else 0), proc.stderr


def test_unreachable_router_exits_3_and_still_writes_report(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    port = closed_port()
    proc = cli("audit", "127.0.0.1", "--port", str(port), "--timeout", "5", "--format", "json", "--output", str(out),
               env=credentials_env())
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    device = json.loads(out.read_text())["devices"][0]
    assert device["status"] == "error"
    assert str(port) in device["error"]


def test_unknown_host_key_is_refused_unless_accepted(insecure_router: FakeRouter, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    refused = cli(*audit_args(insecure_router, known_hosts, "--format", "json"), env=credentials_env())
    assert refused.returncode == 3, refused.stderr
    assert "host key" in refused.stderr.lower()
    assert "Traceback" not in refused.stderr
    accepted = cli(*audit_args(insecure_router, known_hosts, "--format", "json", "--accept-new-host-key"),
                   env=credentials_env())
    assert accepted.returncode == 1, accepted.stderr
    assert f"[127.0.0.1]:{insecure_router.port}" in known_hosts.read_text()
    # Now known: a second audit needs no flag.
    again = cli(*audit_args(insecure_router, known_hosts, "--format", "json"), env=credentials_env())
    assert again.returncode == 1, again.stderr


def test_wrong_password_exits_3(insecure_router: FakeRouter, tmp_path: Path) -> None:
    known_hosts = write_known_hosts(tmp_path / "known_hosts", insecure_router.known_hosts_line())
    proc = cli(*audit_args(insecure_router, known_hosts), env={**credentials_env(), "CMELIVE_PASSWORD": "wrong"})
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    assert "auth" in proc.stderr.lower()


def test_demo_audits_every_example() -> None:
    proc = cli("demo", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert_valid_report(report, "demo --format json")
    names = [d["name"] for d in report["devices"]]
    assert {"secure-cme", "insecure-cme", "plain-ios"} <= set(names)
    for device in report["devices"]:
        assert device["status"] in ("ok", "partial"), device
        assert device["results"], device["name"]
    # Each example is served with an SSH server of its kind: the insecure one is classic IOS 12.4.
    ssh_check = {d["name"]: next(r["status"] for r in d["results"] if r["check"] == "CME-ACC-11") for d in report["devices"]}
    assert ssh_check == {"secure-cme": "pass", "insecure-cme": "fail", "plain-ios": "fail"}


def test_demo_fleet_writes_a_run_with_every_fault_isolated(tmp_path: Path) -> None:
    proc = cli("demo", "--fleet", "--out", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    run = tmp_path / "demo" / "run"
    for name in ("report.json", "report.csv", "report.sarif", "report.junit.xml", "report.html"):
        assert (run / name).is_file(), name
    devices = {d["name"]: d for d in json.loads((run / "report.json").read_text())["devices"]}
    assert len(devices) == 10
    assert devices["branch-01-secure"]["status"] == "ok"
    assert devices["branch-06-wrong-password"]["status"] == "error"
    assert "authentication failed" in devices["branch-06-wrong-password"]["error"]
    assert devices["branch-10-powered-off"]["status"] == "error"
    assert "connection refused" in devices["branch-10-powered-off"]["error"]
    hung = {c["command"]: c["status"] for c in devices["branch-07-hangs"]["commands"]}
    assert hung["show running-config"] == "timeout"
    assert f"Open {run / 'report.html'}" in proc.stdout
