"""No report lost: every way ``cmelive audit`` can fail still writes the report it was asked for.

Each error path runs the real CLI against a fake router (or a port) on 127.0.0.1 with ``--output``
in each ``--format``, and asserts the exit code the README documents, one line on stderr, and a
report file holding the device with status ``error`` and the message.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest

from cmelive.commands import RUNNING_CONFIG
from cmelive.examples import example_dir
from cmelive.fake.faults import Faults
from cmelive.fake.server import FakeRouter
from cmelive.snapshot import read_snapshot

from .livefake import ENABLE_SECRET, PASSWORD, cli, closed_port, credentials_env, write_known_hosts

FORMATS = ("json", "text")


@pytest.fixture(scope="module")
def host_key() -> paramiko.PKey:
    return paramiko.RSAKey.generate(1024)


@dataclass
class Case:
    """One error path: the router (or port) to audit, the environment, what to expect."""

    faults: Faults | None  # None: no router at all (the port is closed or silent)
    env: dict[str, str]
    known_hosts: str  # "match" | "empty" | "other"
    code: int
    needle: str  # in the stderr line and the report's error


CASES: dict[str, Case] = {
    "connection-refused": Case(None, credentials_env(), "match", 3, "connection refused"),
    "login-refused": Case(Faults(fail_auth=True), credentials_env(), "match", 3, "authentication failed"),
    "enable-refused": Case(Faults(fail_enable=True), credentials_env(), "match", 3, "enable"),
    "enable-secret-missing": Case(Faults(), {"CMELIVE_PASSWORD": PASSWORD}, "match", 3, "CMELIVE_ENABLE_SECRET"),
    "host-key-unknown": Case(Faults(), credentials_env(), "empty", 3, "host key"),
    "host-key-changed": Case(Faults(), credentials_env(), "other", 3, "host key"),
}


@pytest.fixture
def serve(host_key: paramiko.PKey) -> Iterator[Callable[[Faults], FakeRouter]]:
    started: list[FakeRouter] = []

    def start(faults: Faults) -> FakeRouter:
        router = FakeRouter(
            read_snapshot(example_dir("secure-cme")), username="admin", password=PASSWORD,
            enable_secret=ENABLE_SECRET, host_key=host_key, faults=faults,
        )
        started.append(router.start())
        return router

    yield start
    for router in started:
        router.stop()


def audit(port: int, known_hosts: Path, env: dict[str, str], *extra: str) -> tuple[int, str, str]:
    proc = cli(
        "audit", "127.0.0.1", "--port", str(port), "-u", "admin", "--known-hosts", str(known_hosts),
        "--timeout", "3", *extra, env=env,
    )
    return proc.returncode, proc.stdout, proc.stderr


def assert_error_report(path: Path, report_format: str, needle: str) -> None:
    text = path.read_text(encoding="utf-8")
    if report_format == "json":
        (device,) = json.loads(text)["devices"]
        assert device["status"] == "error"
        assert device["audited"] is False
        assert needle.lower() in device["error"].lower(), device["error"]
        assert device["results"] == []
    else:
        flat = " ".join(text.split())
        assert "Status: error" in flat, text
        assert "Summary: not audited — " in flat, text
        assert needle.lower() in flat.lower(), text


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize("report_format", FORMATS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_device_error_writes_the_report(
    name: str, report_format: str, serve: Callable[[Faults], FakeRouter], host_key: paramiko.PKey, tmp_path: Path
) -> None:
    case = CASES[name]
    known = tmp_path / "known_hosts"
    if case.faults is None:
        port = closed_port()
        known.write_text("")
    else:
        router = serve(case.faults)
        port = router.port
        if case.known_hosts == "match":
            write_known_hosts(known, router.known_hosts_line())
        elif case.known_hosts == "other":
            other = paramiko.RSAKey.generate(1024)
            write_known_hosts(known, f"[127.0.0.1]:{port} ssh-rsa {other.get_base64()}")
        else:
            known.write_text("")
    out = tmp_path / f"report.{report_format}"
    code, stdout, stderr = audit(port, known, case.env, "--format", report_format, "--output", str(out))
    assert code == case.code, stderr
    assert stdout == ""
    assert case.needle.lower() in one_line(stderr).lower()
    assert_error_report(out, report_format, case.needle)


def test_a_silent_server_times_out_and_the_report_is_written(tmp_path: Path) -> None:
    # Accepts TCP (the kernel does, from the backlog) but never says a word of SSH.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = int(silent.getsockname()[1])
        out = tmp_path / "report.json"
        code, _, stderr = audit(port, tmp_path / "kh", credentials_env(), "--format", "json", "--output", str(out))
    assert code == 3, stderr
    assert_error_report(out, "json", "no SSH greeting")


def test_a_command_timeout_writes_the_report_with_what_was_judged(
    serve: Callable[[Faults], FakeRouter], tmp_path: Path
) -> None:
    router = serve(Faults(hang_on=(RUNNING_CONFIG,)))
    known = write_known_hosts(tmp_path / "known_hosts", router.known_hosts_line())
    out = tmp_path / "report.json"
    code, _, stderr = audit(router.port, known, credentials_env(), "--format", "json", "--output", str(out))
    assert code == 3, stderr
    (device,) = json.loads(out.read_text())["devices"]
    assert device["status"] == "partial" and device["audited"] is False
    assert device["results"], "what was collected is judged and reported"


@pytest.mark.parametrize("report_format", FORMATS)
def test_missing_password_without_terminal_writes_the_report_and_exits_2(report_format: str, tmp_path: Path) -> None:
    out = tmp_path / "report.out"
    code, stdout, stderr = audit(closed_port(), tmp_path / "kh", {}, "--format", report_format, "--output", str(out))
    assert code == 2, stderr
    assert stdout == ""
    assert one_line(stderr) == "cmelive: error: no terminal to ask for it: set CMELIVE_PASSWORD in the environment"
    assert_error_report(out, report_format, "CMELIVE_PASSWORD")


def test_bad_policy_file_writes_the_report_and_exits_2(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("min_rsa_bits: 2048\ntrusted_subnet: [10.0.0.0/8]\n")
    out = tmp_path / "report.json"
    code, _, stderr = audit(
        closed_port(), tmp_path / "kh", credentials_env(), "--policy", str(policy), "--format", "json",
        "--output", str(out),
    )
    assert code == 2, stderr
    assert f"{policy}:2" in one_line(stderr)
    assert_error_report(out, "json", "unknown setting 'trusted_subnet'")


def test_bad_input_without_output_keeps_stdout_clean(tmp_path: Path) -> None:
    code, stdout, stderr = audit(closed_port(), tmp_path / "kh", {}, "--format", "json")
    assert code == 2
    assert stdout == ""
    assert "CMELIVE_PASSWORD" in one_line(stderr)


def test_unwritable_save_snapshot_still_writes_the_report(
    serve: Callable[[Faults], FakeRouter], tmp_path: Path
) -> None:
    router = serve(Faults())
    known = write_known_hosts(tmp_path / "known_hosts", router.known_hosts_line())
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    out = tmp_path / "report.json"
    code, _, stderr = audit(
        router.port, known, credentials_env(), "--save-snapshot", str(blocker / "snap"), "--format", "json",
        "--output", str(out),
    )
    assert code == 2, stderr
    assert "cannot create snapshot directory" in one_line(stderr)
    (device,) = json.loads(out.read_text())["devices"]
    assert device["status"] == "ok" and device["results"]


def test_collect_without_enable_secret_exits_3_not_2(serve: Callable[[Faults], FakeRouter], tmp_path: Path) -> None:
    router = serve(Faults())
    known = write_known_hosts(tmp_path / "known_hosts", router.known_hosts_line())
    proc = cli(
        "collect", "127.0.0.1", "--port", str(router.port), "-u", "admin", "--known-hosts", str(known),
        "-o", str(tmp_path / "snap"), env={"CMELIVE_PASSWORD": PASSWORD},
    )
    assert proc.returncode == 3, proc.stderr
    assert "CMELIVE_ENABLE_SECRET" in proc.stderr


def test_collect_of_a_router_hanging_on_the_running_config_exits_3_and_keeps_the_rest(
    serve: Callable[[Faults], FakeRouter], tmp_path: Path
) -> None:
    router = serve(Faults(hang_on=(RUNNING_CONFIG,)))
    known = write_known_hosts(tmp_path / "known_hosts", router.known_hosts_line())
    snap = tmp_path / "snap"
    proc = cli(
        "collect", "127.0.0.1", "--port", str(router.port), "-u", "admin", "--known-hosts", str(known),
        "--timeout", "2", "-o", str(snap), env=credentials_env(),
    )
    assert proc.returncode == 3, proc.stderr
    assert f"not auditable: '{RUNNING_CONFIG}' was not collected whole (timeout" in proc.stderr
    assert (snap / "meta.json").is_file() and (snap / "show_version.txt").is_file()
