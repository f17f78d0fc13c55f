"""Bounded against any router (issue 11): the fake router's hostile modes, and what cmelive does.

A router may print forever: fast (``flood``), one line every half second so that no idle timeout
ever fires (``drip``), at an ordinary pace (``endless``), or before it ever shows a prompt
(``flood_before_prompt``). Every test here runs the real CLI (``cmelive audit``/``collect``/
``fleet``, or ``cmelive fake-fleet``) against such a router over SSH on 127.0.0.1 and asserts:

- the run ends within its bounds (wall time under the bound plus a margin generous enough for a
  loaded 2-core machine, far under what an unbounded read would take: forever);
- memory stays bounded (the child's own peak RSS, ``VmHWM``: ``ru_maxrss`` would also count this
  test process, whose pages a forked child holds until ``exec``);
- what was received is kept, marked ``truncated`` with the reason, in ``meta.json`` and the report;
- the exit code is the documented one (3: the running-config was not collected whole).

Most tests use small limits through the options, so that the module stays quick.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest

from cmelive.collect.limits import DEFAULT_MAX_OUTPUT, LOGIN_MAX_OUTPUT, Limits, format_size, parse_size
from cmelive.commands import AUDIT_COMMANDS, EPHONE_REGISTERED, RUNNING_CONFIG, SHOW_VERSION
from cmelive.errors import InputError
from cmelive.examples import example_dir
from cmelive.fake import FakeRouter
from cmelive.fake.faults import (
    DRIP_INTERVAL_S,
    ENDLESS_BURST_LINES,
    FLOOD_PIECE_CHARS,
    Faults,
    SessionFault,
    stream_pieces,
)
from cmelive.fake import shell as fake_shell
from cmelive.fake.fleet import load_faults_file
from cmelive.fake.ios_cli import IosCli
from cmelive.inventory import load_inventory
from cmelive.masking import scrub
from cmelive.snapshot import Snapshot, read_snapshot

PASSWORD = "hostile-login-pw"
SECRET = "hostile-enable-pw"
#: Added to every wall-time bound: a CLI start (~1 s), login, and a busy 2-core machine.
MARGIN_S = 15.0
#: The child's peak RSS: the CLI's own footprint is ~60 MB; 8 MiB cut-off floods add ~40 MB.
#: Unbounded, a flood grows by tens of MB a second for as long as it lasts.
PEAK_RSS_BOUND_KB = 200 * 1024

# Runs the cmelive CLI and, as it exits, writes its peak RSS (kB, VmHWM) to $CMELIVE_TEST_PEAK_FILE.
_PEAK_WRAPPER = """
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["CMELIVE_TEST_PEAK_FILE"], "w") as out:
        out.write(peak)
atexit.register(_peak)
sys.argv[0] = "cmelive"
runpy.run_module("cmelive", run_name="__main__")
"""


# ---------------------------------------------------------------------------------------------
# Helpers


@pytest.fixture(scope="module")
def example() -> Snapshot:
    return read_snapshot(example_dir("secure-cme"))


@pytest.fixture(scope="module")
def host_key() -> paramiko.PKey:
    return paramiko.RSAKey.generate(2048)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def served(example: Snapshot) -> dict[str, str]:
    return {command: out.text for command, out in example.outputs.items() if out.usable}


def fake(outputs: dict[str, str], host_key: paramiko.PKey, faults: Faults) -> FakeRouter:
    return FakeRouter(
        outputs, password=PASSWORD, enable_secret=SECRET, privileged_login=True, host_key=host_key, faults=faults
    )


class Ran:
    """A finished CLI run: its output, exit code, wall time and peak RSS (kB)."""

    def __init__(self, done: subprocess.CompletedProcess[str], wall_s: float, peak_kb: int) -> None:
        self.stdout = done.stdout
        self.stderr = done.stderr
        self.returncode = done.returncode
        self.wall_s = wall_s
        self.peak_kb = peak_kb

    def __repr__(self) -> str:
        return f"exit {self.returncode}, {self.wall_s:.1f}s, {self.peak_kb} kB\n{self.stdout}\n{self.stderr}"


def run_cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 240) -> Ran:
    """Run the cmelive CLI in a child process, as a user would; measure its wall time and peak RSS."""
    peak_file = tmp_path / "peak-rss"
    peak_file.unlink(missing_ok=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CMELIVE_")}
    environment.update({"CMELIVE_PASSWORD": PASSWORD, "CMELIVE_ENABLE_SECRET": SECRET})
    environment.update(env or {})
    environment["CMELIVE_TEST_PEAK_FILE"] = str(peak_file)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_WRAPPER, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        stdin=subprocess.DEVNULL,
    )
    wall = time.monotonic() - started
    return Ran(done, wall, int(peak_file.read_text()) if peak_file.exists() else 0)


def audit_args(router: FakeRouter, tmp_path: Path, *options: str, command: str = "audit") -> list[str]:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(router.known_hosts_line() + "\n")
    return [command, "127.0.0.1", "-p", str(router.port), "-u", "admin", "--known-hosts", str(known_hosts), *options]


def meta_commands(snapshot_dir: Path) -> dict[str, dict[str, Any]]:
    meta = json.loads((snapshot_dir / "meta.json").read_text(encoding="utf-8"))
    return {entry["command"]: entry for entry in meta["commands"]}


def json_device(report: Path) -> dict[str, Any]:
    device: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))["devices"][0]
    return device


def wait_for_no_connections(router: FakeRouter, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while router.open_connections and time.monotonic() < deadline:
        time.sleep(0.02)
    return router.open_connections == 0


# ---------------------------------------------------------------------------------------------
# The fault modes themselves


def test_streaming_faults_are_checked_and_described() -> None:
    faults = Faults(flood_on=("sh run",), drip_on=("Show  Version",), endless_on=(), flood_before_prompt=True)
    assert faults.flood_on == ("sh run",) and faults.drip_on == ("show version",)
    assert faults.commands(SessionFault.DRIP) == ("show version",)
    assert faults.describe() == "flood-before-prompt, flood-on='sh run', drip-on='show version'"
    assert faults.options() == {"flood_on": ["sh run"], "drip_on": ["show version"], "flood_before_prompt": True}
    with pytest.raises(ValueError, match="a command cannot both hang and flood: show version"):
        Faults(hang_on=("show version",), flood_on=("SHOW VERSION",))
    with pytest.raises(ValueError, match="endless_on must be a list of commands"):
        Faults(endless_on="show version")  # type: ignore[arg-type]


def test_stream_pieces_pace_each_mode_and_never_finish() -> None:
    output = "Building configuration...\n!\nhostname R1\n!\nline vty 0 4\n!\nend\n"
    lines = ["Building configuration...\n", "!\n", "hostname R1\n", "!\n", "line vty 0 4\n", "!\n"]
    drip = stream_pieces(SessionFault.DRIP, output)
    assert [next(drip) for _ in range(8)] == [(line, DRIP_INTERVAL_S) for line in lines + lines[:2]]
    endless = stream_pieces(SessionFault.ENDLESS, output)
    piece, pause = next(endless)
    assert pause > 0 and piece.count("\n") == ENDLESS_BURST_LINES
    flood = stream_pieces(SessionFault.FLOOD, output)
    for _ in range(3):
        piece, pause = next(flood)
        assert pause == 0 and FLOOD_PIECE_CHARS <= len(piece) < FLOOD_PIECE_CHARS + 100
        # Never the closing "end": nothing in the stream looks finished.
        assert "end" not in piece.splitlines()
    with pytest.raises(ValueError, match="not a streaming fault"):
        next(stream_pieces(SessionFault.HANG, output))


def test_cli_keeps_the_output_a_streaming_fault_repeats(example: Snapshot) -> None:
    outputs = served(example)
    cli = IosCli(outputs, "R1", SECRET, True, faults=Faults(endless_on=("sh run",)))
    assert cli.handle_line("show version") == outputs[SHOW_VERSION]
    assert cli.handle_line("sh run | include ^hostname") == ""
    assert cli.fault is SessionFault.ENDLESS
    assert cli.fault_output == "hostname cme-branch-secure\n"  # the filter applies to what streams
    assert cli.handle_line("show version") == ""  # the session never answers again


def test_faults_file_serves_the_hostile_modes(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(
        "br-1: {flood_on: show running-config}\n"
        "br-2: {drip_on: [show version, sh run]}\n"
        "br-3: {endless_on: [show running-config], delay_ms: 10}\n"
        "br-4: {flood_before_prompt: true}\n"
    )
    entries = load_faults_file(path, ["br-1", "br-2", "br-3", "br-4"])
    assert entries["br-1"].faults == Faults(flood_on=("show running-config",))
    assert entries["br-2"].faults == Faults(drip_on=("show version", "sh run"))
    assert entries["br-3"].faults == Faults(endless_on=("show running-config",), delay_ms=10)
    assert entries["br-4"].faults == Faults(flood_before_prompt=True)
    path.write_text("br-1: {flood_before_prompt: sometimes}\n")
    with pytest.raises(InputError, match=r"faults.yaml:1: br-1: flood_before_prompt must be true or false"):
        load_faults_file(path, ["br-1"])
    path.write_text("br-1:\n  flood_on: show version\n  drip_on: [show version]\n")
    with pytest.raises(InputError, match=r"faults.yaml:1: br-1: a command cannot both flood and drip: show version"):
        load_faults_file(path, ["br-1"])


def test_fake_router_cli_refuses_two_streams_on_one_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cmelive", "fake-router", str(example_dir("secure-cme")), "--flood", "--drip"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert done.stderr == "cmelive: error: --flood and --drip: one --on command cannot do both\n"


@pytest.mark.parametrize(
    "faults",
    [
        Faults(flood_on=(RUNNING_CONFIG,)),
        Faults(drip_on=(RUNNING_CONFIG,)),
        Faults(endless_on=(RUNNING_CONFIG,)),
        Faults(flood_before_prompt=True),
    ],
    ids=["flood", "drip", "endless", "flood-before-prompt"],
)
def test_the_fake_streams_until_the_client_leaves(
    faults: Faults, example: Snapshot, host_key: paramiko.PKey
) -> None:
    with fake(served(example), host_key, faults) as router:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect("127.0.0.1", router.port, "admin", PASSWORD, allow_agent=False, look_for_keys=False, timeout=10)
        channel = client.invoke_shell()
        channel.settimeout(5)
        if not faults.flood_before_prompt:
            received = b""
            while not received.endswith(b"#"):
                received += channel.recv(65536)
            channel.sendall(b"show running-config\n")
        received = b""
        # Two drip intervals: every mode has sent something, and keeps sending.
        deadline = time.monotonic() + 2.5 * DRIP_INTERVAL_S
        while time.monotonic() < deadline:
            received += channel.recv(1 << 20)
        text = received.decode()
        assert text.count("\r\n") >= 2
        assert not re.search(r"cme-branch-secure[#>]\s*$", text)  # no prompt: the output never ends
        assert router.open_connections == 1
        client.close()
        assert wait_for_no_connections(router)


def test_a_flood_costs_the_fake_nothing_while_the_client_reads_nothing(
    example: Snapshot, host_key: paramiko.PKey
) -> None:
    with fake(served(example), host_key, Faults(flood_on=(RUNNING_CONFIG,))) as router:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect("127.0.0.1", router.port, "admin", PASSWORD, allow_agent=False, look_for_keys=False, timeout=10)
        channel = client.invoke_shell()
        channel.sendall(b"show running-config\n")
        time.sleep(1.0)  # the client's SSH window fills; then the fake's send waits
        # Both ends live in this process: its CPU is theirs (this thread sleeps).
        before = time.process_time()
        time.sleep(1.0)
        spent = time.process_time() - before
        assert spent < 0.3, f"{spent:.2f}s of CPU while the client read nothing"
        client.close()
        assert wait_for_no_connections(router)


@pytest.mark.parametrize("mode", ["flood", "drip", "flood_before_prompt"])
def test_the_login_shell_streams_until_its_terminal_goes_away(mode: str, example: Snapshot) -> None:
    """``cmelive-fake-shell`` (the fake behind a real sshd) on a pty: it streams, and a hung-up
    terminal ends it, even while a flood's write waits for a reader."""
    faults = {
        "flood": Faults(flood_on=(RUNNING_CONFIG,)),
        "drip": Faults(drip_on=(RUNNING_CONFIG,)),
        "flood_before_prompt": Faults(flood_before_prompt=True),
    }[mode]
    cli = IosCli(served(example), "R1", SECRET, True, faults=faults)
    controller, terminal = pty.openpty()
    shell = threading.Thread(target=fake_shell._serve, args=(cli, terminal, terminal), daemon=True)
    shell.start()
    received = b""
    try:
        if mode != "flood_before_prompt":
            while not received.endswith(b"R1#"):
                received += os.read(controller, 4096)
            os.write(controller, b"show running-config\r")
        received = b""
        deadline = time.monotonic() + 2.5 * DRIP_INTERVAL_S
        while time.monotonic() < deadline:
            if select.select([controller], [], [], 0.1)[0]:
                received += os.read(controller, 65536)
        assert received.count(b"\r\n") >= 2 and not received.rstrip().endswith(b"R1#")
        time.sleep(0.3)  # a flood's write now waits for a reader
    finally:
        os.close(controller)
    shell.join(5)
    assert not shell.is_alive()
    os.close(terminal)


def test_the_login_shell_reads_its_faults(tmp_path: Path) -> None:
    settings = tmp_path / fake_shell.CONFIG_FILE
    settings.write_text(json.dumps({"snapshot": "snap", "faults": {"endless_on": ["sh run"], "flood_before_prompt": True}}))
    assert fake_shell.load_settings(tmp_path).faults == Faults(endless_on=("sh run",), flood_before_prompt=True)
    settings.write_text(json.dumps({"snapshot": "snap", "faults": {"flood_on": "sh run"}}))
    with pytest.raises(InputError, match='"faults": flood_on must be a list of commands'):
        fake_shell.load_settings(tmp_path)
    settings.write_text(json.dumps({"snapshot": "snap", "faults": {"flood": True}}))
    with pytest.raises(InputError, match='"faults": .*unexpected keyword argument'):
        fake_shell.load_settings(tmp_path)


# ---------------------------------------------------------------------------------------------
# One router, through the CLI


def test_a_flood_is_cut_at_the_output_limit_and_kept(example: Snapshot, host_key: paramiko.PKey, tmp_path: Path) -> None:
    snapshot_dir = tmp_path / "snap"
    report = tmp_path / "report.json"
    with fake(served(example), host_key, Faults(flood_on=(RUNNING_CONFIG,))) as router:
        ran = run_cli(
            tmp_path,
            *audit_args(router, tmp_path, "--timeout", "3", "--max-output", "512K"),
            "--save-snapshot", str(snapshot_dir), "--format", "json", "--output", str(report),
        )  # fmt: skip
    assert ran.returncode == 3, ran
    assert ran.wall_s < 3 + MARGIN_S, ran  # the cut, then 3 s for the prompt that never comes back
    assert ran.peak_kb < PEAK_RSS_BOUND_KB, ran
    cut = "cut off at the output size limit (512 KiB, --max-output): the first 512 KiB are kept"
    commands = meta_commands(snapshot_dir)
    assert commands[RUNNING_CONFIG]["status"] == "truncated"
    assert commands[RUNNING_CONFIG]["error"] == cut
    for command in AUDIT_COMMANDS[AUDIT_COMMANDS.index(RUNNING_CONFIG) + 1 :]:
        assert commands[command]["status"] == "not_collected"
        assert commands[command]["error"] == "not run: the session did not recover after 'show running-config' was cut off"
    # What came is kept: the router's configuration, over and over, up to the limit.
    kept = (snapshot_dir / "show_running-config.txt").read_text(encoding="utf-8")
    config = scrub(example.outputs[RUNNING_CONFIG].text)
    assert kept.startswith(config[: config.rindex("\nend")])
    assert 480 * 1024 < len(kept) <= 512 * 1024
    device = json_device(report)
    assert device["audited"] is False
    assert device["not_audited_reason"] == f"'{RUNNING_CONFIG}' was not collected whole (truncated: {cut})"
    statuses = {c["command"]: c["status"] for c in device["commands"]}
    assert statuses[SHOW_VERSION] == "ok" and statuses[RUNNING_CONFIG] == "truncated"


def test_a_flood_at_the_default_limits_stays_small(example: Snapshot, host_key: paramiko.PKey, tmp_path: Path) -> None:
    snapshot_dir = tmp_path / "snap"
    with fake(served(example), host_key, Faults(flood_on=(RUNNING_CONFIG,))) as router:
        ran = run_cli(tmp_path, *audit_args(router, tmp_path, "--timeout", "2", "-o", str(snapshot_dir), command="collect"))
    assert ran.returncode == 3, ran
    assert ran.wall_s < 2 + MARGIN_S, ran
    assert ran.peak_kb < PEAK_RSS_BOUND_KB, ran
    default = format_size(DEFAULT_MAX_OUTPUT)
    assert meta_commands(snapshot_dir)[RUNNING_CONFIG]["error"] == (
        f"cut off at the output size limit ({default}, --max-output): the first {default} are kept"
    )
    kept = (snapshot_dir / "show_running-config.txt").stat().st_size
    assert DEFAULT_MAX_OUTPUT * 0.9 < kept <= DEFAULT_MAX_OUTPUT
    assert f"not auditable: '{RUNNING_CONFIG}' was not collected whole (truncated: cut off" in ran.stderr


def test_a_drip_is_cut_at_the_command_deadline(example: Snapshot, host_key: paramiko.PKey, tmp_path: Path) -> None:
    snapshot_dir = tmp_path / "snap"
    report = tmp_path / "report.txt"
    with fake(served(example), host_key, Faults(drip_on=(RUNNING_CONFIG,))) as router:
        ran = run_cli(
            tmp_path,
            *audit_args(router, tmp_path, "--timeout", "2", "--command-deadline", "2"),
            "--save-snapshot", str(snapshot_dir), "--output", str(report),
        )  # fmt: skip
    # A line every 0.5 s resets the 2 s timeout forever: only the deadline ends the command.
    assert ran.returncode == 3, ran
    assert ran.wall_s < 2 + 2 + MARGIN_S, ran  # the deadline, then the wait for a prompt
    entry = meta_commands(snapshot_dir)[RUNNING_CONFIG]
    assert entry["status"] == "truncated"
    assert re.fullmatch(
        r"cut off at the command deadline: its prompt was not back after 2s \(--command-deadline\); "
        r"what arrived by then \(\d+ bytes\) is kept",
        entry["error"],
    ), entry["error"]
    assert 1.9 < entry["duration_s"] < 2 + MARGIN_S
    kept = (snapshot_dir / "show_running-config.txt").read_text(encoding="utf-8")
    assert kept.startswith("Building configuration...\n") and kept.count("\n") >= 2
    text = " ".join(report.read_text(encoding="utf-8").split())  # the report wraps its lines
    assert (
        f"Summary: not audited — '{RUNNING_CONFIG}' was not collected whole (truncated: cut off at the command "
        "deadline: its prompt was not back after 2s (--command-deadline)"
    ) in text
    assert "show running-config — truncated: cut off at the command deadline" in text


def test_an_endless_output_of_another_command_leaves_the_device_audited(
    example: Snapshot, host_key: paramiko.PKey, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    snapshot_dir = tmp_path / "snap"
    with fake(served(example), host_key, Faults(endless_on=(EPHONE_REGISTERED,))) as router:
        ran = run_cli(
            tmp_path,
            *audit_args(router, tmp_path, "--timeout", "2", "--command-deadline", "2", "--max-output", "64M"),
            "--save-snapshot", str(snapshot_dir), "--format", "json", "--output", str(report),
        )  # fmt: skip
    assert ran.returncode in (0, 1), ran  # audited: only the running-config decides that
    assert ran.wall_s < 2 + 2 + MARGIN_S, ran
    device = json_device(report)
    assert device["audited"] is True and device["status"] == "partial"
    commands = {c["command"]: c for c in device["commands"]}
    assert commands[RUNNING_CONFIG]["status"] == "ok"
    assert commands[EPHONE_REGISTERED]["status"] == "truncated"
    assert commands[EPHONE_REGISTERED]["error"].startswith("cut off at the command deadline: its prompt was not back")
    # At an ordinary pace for 2 s: a good part of it arrived, and is kept, but judged by nothing.
    assert (snapshot_dir / "show_ephone_registered.txt").stat().st_size > 10_000
    # A cut-off table is no evidence: nothing is judged on it (a part would judge as the whole).
    assert not any(e["command"] == EPHONE_REGISTERED for r in device["results"] for e in r["evidence"])
    assert f"{EPHONE_REGISTERED} truncated" in device["unknown_summary"]


def test_the_session_deadline_ends_the_session(example: Snapshot, host_key: paramiko.PKey, tmp_path: Path) -> None:
    snapshot_dir = tmp_path / "snap"
    with fake(served(example), host_key, Faults(drip_on=(RUNNING_CONFIG,))) as router:
        ran = run_cli(
            tmp_path,
            *audit_args(router, tmp_path, "--timeout", "5", "--command-deadline", "60", "--session-deadline", "3",
                        "-o", str(snapshot_dir), command="collect"),
        )  # fmt: skip
    assert ran.returncode == 3, ran
    assert ran.wall_s < 3 + MARGIN_S, ran
    commands = meta_commands(snapshot_dir)
    assert commands[SHOW_VERSION]["status"] == "ok"
    assert commands[RUNNING_CONFIG]["status"] == "truncated"
    assert commands[RUNNING_CONFIG]["error"].startswith(
        "cut off at the session deadline (3s, --session-deadline): its prompt was not back; what arrived by then ("
    )
    for command in AUDIT_COMMANDS[AUDIT_COMMANDS.index(RUNNING_CONFIG) + 1 :]:
        assert commands[command]["error"] == "not run: the session deadline (3s, --session-deadline) was reached"


def test_a_flood_before_the_first_prompt_is_bounded(example: Snapshot, host_key: paramiko.PKey, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    with fake(served(example), host_key, Faults(flood_before_prompt=True)) as router:
        # The case: --timeout 30 became 111 s.
        ran = run_cli(tmp_path, *audit_args(router, tmp_path, "--timeout", "30", "--format", "json", "-o", str(report)))
    assert ran.returncode == 3, ran
    assert ran.wall_s < MARGIN_S, ran  # the size bound strikes long before the 30 s
    assert ran.peak_kb < PEAK_RSS_BOUND_KB, ran
    message = (
        f"127.0.0.1:{router.port}: no usable prompt after login: the router printed more than "
        f"{format_size(LOGIN_MAX_OUTPUT)} without one"
    )
    assert ran.stderr == f"cmelive: 127.0.0.1: {message}\n"
    device = json_device(report)
    assert device["status"] == "error" and device["error"] == message and device["audited"] is False


def test_a_large_config_passes_at_the_default_limits(example: Snapshot, host_key: paramiko.PKey, tmp_path: Path) -> None:
    """1.6 MB, the largest real running-configs known, over real SSH at every default."""
    config = example.outputs[RUNNING_CONFIG].text
    head, blocks = config[: config.rindex("\nend") + 1], []
    size, number = len(config), 0
    while size < 1_600_000:
        block = f"interface GigabitEthernet0/1.{number}\n description branch uplink {number}\n encapsulation dot1Q {number % 4000 + 1}\n!\n"
        blocks.append(block)
        size += len(block)
        number += 1
    big = head + "".join(blocks) + "end\n"
    outputs = {**served(example), RUNNING_CONFIG: big}
    snapshot_dir = tmp_path / "snap"
    with fake(outputs, host_key, Faults()) as router:
        ran = run_cli(tmp_path, *audit_args(router, tmp_path, "-o", str(snapshot_dir), command="collect"))
    assert ran.returncode == 0, ran
    entry = meta_commands(snapshot_dir)[RUNNING_CONFIG]
    assert entry["status"] == "ok" and entry["error"] is None
    assert (snapshot_dir / "show_running-config.txt").read_text(encoding="utf-8") == scrub(big)


# ---------------------------------------------------------------------------------------------
# Limits: options and inventory


def test_limits_defaults_and_overrides() -> None:
    limits = Limits()
    assert (limits.command_deadline_s, limits.session_s, limits.max_output) == (300.0, 600.0, 8 * 1024 * 1024)
    assert limits.login_max_output == LOGIN_MAX_OUTPUT
    assert Limits(max_output=1000).login_max_output == 1000
    # A host raising its command deadline gets a session deadline to match.
    assert Limits().with_overrides(command_deadline_s=900).session_s == 1800
    assert Limits(session_deadline_s=700).with_overrides(command_deadline_s=900).session_s == 1800
    assert Limits(session_deadline_s=700).with_overrides(max_output=5).session_s == 700
    assert [parse_size(text) for text in ("512", "512K", "8M", "8MiB", "1.5k", "1G")] == [
        512, 512 * 1024, 8 << 20, 8 << 20, 1536, 1 << 30,
    ]  # fmt: skip
    for bad in ("", "12Q", "-1", "0"):
        with pytest.raises(ValueError):
            parse_size(bad)
    with pytest.raises(ValueError, match="command_deadline_s must be a positive number"):
        Limits(command_deadline_s=0)


def test_inventory_sets_limits_per_host(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(
        "defaults: {password_env: P, max_output: 16M}\n"
        "hosts:\n"
        "  old-2600: {address: 127.0.0.2, command_deadline: 1800, session_deadline: 2400, max_output: 2097152}\n"
        "  new-4451: {address: 127.0.0.3}\n"
    )
    old, new = load_inventory(path).hosts
    assert (old.command_deadline, old.session_deadline, old.max_output) == (1800.0, 2400.0, 2 << 20)
    assert (new.command_deadline, new.session_deadline, new.max_output) == (None, None, 16 << 20)
    path.write_text("hosts:\n  r1: {address: 127.0.0.2, password_env: P, max_output: lots}\n")
    with pytest.raises(InputError, match=r"inventory.yaml:2: host 'r1': max_output must be a size"):
        load_inventory(path)


def test_a_bad_limit_option_is_a_usage_error(tmp_path: Path) -> None:
    ran = run_cli(tmp_path, "audit", "127.0.0.1", "--max-output", "lots")
    assert ran.returncode == 2, ran
    assert "'lots' is not a size" in ran.stderr


# ---------------------------------------------------------------------------------------------
# A fleet


HEALTHY = {"br-secure": "secure-cme", "br-legacy": "insecure-cme", "br-plain": "plain-ios"}
HOSTILE = {
    "br-flood": "flood_on: [show running-config]",
    "br-drip": "drip_on: [show running-config]",
    "br-endless": "endless_on: [show running-config]",
    "br-banner": "flood_before_prompt: true",
    "br-drip-version": "drip_on: [show version]",
}


@pytest.fixture
def hostile_fleet(tmp_path: Path) -> Iterator[Path]:
    """``cmelive fake-fleet`` serving healthy routers and every hostile mode; yields its inventory."""
    root = tmp_path / "snapshots"
    root.mkdir()
    for name in [*HEALTHY, *HOSTILE]:
        shutil.copytree(example_dir(HEALTHY.get(name, "secure-cme")), root / name)
    faults = tmp_path / "faults.yaml"
    faults.write_text("".join(f"{name}: {{{options}}}\n" for name, options in HOSTILE.items()))
    inventory = tmp_path / "fleet" / "inventory.yaml"
    inventory.parent.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmelive", "fake-fleet", str(root), "--inventory-out", str(inventory),
         "--faults-file", str(faults), "--password", PASSWORD, "--enable-secret", SECRET],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line or line.startswith("serving until Ctrl-C"):
                break
            lines.append(line)
        assert any("faults: flood-on='show running-config'" in line for line in lines), lines
        assert any("faults: flood-before-prompt" in line for line in lines), lines
        yield inventory
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 0, stderr


def test_a_fleet_of_hostile_and_healthy_routers_ends_bounded(hostile_fleet: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    ran = run_cli(
        tmp_path,
        "fleet", str(hostile_fleet), "--out", str(run_dir), "--no-history", "--workers", "8", "--judges", "0",
        "--timeout", "3", "--command-deadline", "3", "--session-deadline", "30", "--max-output", "1M",
        env={"CMELIVE_FLEET_PASSWORD": PASSWORD, "CMELIVE_FLEET_ENABLE_SECRET": SECRET},
    )  # fmt: skip
    # Each device: at most 3 s per command deadline and 3 s to see its prompt again, all at once.
    assert ran.returncode == 3, ran
    assert ran.wall_s < 3 + 3 + MARGIN_S, ran
    assert ran.peak_kb < PEAK_RSS_BOUND_KB, ran
    devices = {d["name"]: d for d in json.loads((run_dir / "report.json").read_text(encoding="utf-8"))["devices"]}
    assert set(devices) == {*HEALTHY, *HOSTILE}
    for name in HEALTHY:
        assert devices[name]["audited"] is True, devices[name]
        assert devices[name]["results"]
    for name in ("br-flood", "br-drip", "br-endless"):
        reason = devices[name]["not_audited_reason"]
        assert reason.startswith(f"'{RUNNING_CONFIG}' was not collected whole (truncated: cut off at the "), reason
        entry = meta_commands(run_dir / "snapshots" / name)[RUNNING_CONFIG]
        assert entry["status"] == "truncated" and entry["error"] == reason.split("(truncated: ", 1)[1][:-1]
        assert (run_dir / "snapshots" / name / "show_running-config.txt").stat().st_size > 0
    assert "output size limit (1 MiB, --max-output)" in devices["br-flood"]["not_audited_reason"]
    assert "command deadline" in devices["br-drip"]["not_audited_reason"]
    assert devices["br-banner"]["status"] == "error"
    assert "no usable prompt after login: the router printed more than 1 MiB without one" in devices["br-banner"]["error"]
    # A drip on the first command: the session does not recover, so the running-config is never run.
    version = {c["command"]: c for c in devices["br-drip-version"]["commands"]}
    assert version[SHOW_VERSION]["status"] == "truncated"
    assert version[RUNNING_CONFIG]["error"] == "not run: the session did not recover after 'show version' was cut off"
    assert "not audited" in ran.stdout


def test_one_read_bringing_the_echo_and_a_flood_keeps_the_output() -> None:
    # Seen under load: the echo line and more than --max-output of flood arrived in one read, and
    # the bound on what precedes the echo struck before the echo was looked for: nothing was kept.
    import re

    from cmelive.collect.hostkeys import KnownHosts
    from cmelive.collect.live import AuditSession, OutputCut

    session = AuditSession(known_hosts=KnownHosts(()), device_type="cisco_ios", host="127.0.0.1", auto_connect=False)
    flood = "".join(f"interface Loopback{n}\r\n no ip address\r\n" for n in range(40_000))
    reads = iter(["cme-1#show running-config\r\n" + flood])
    session._receive = lambda wait: next(reads, "")  # type: ignore[method-assign]
    with pytest.raises(OutputCut) as cut:
        session._read_until(re.compile(r"cme-1#$"), 5, echo="show running-config", max_chars=512 * 1024)
    assert cut.value.bound == OutputCut.SIZE
    assert cut.value.partial.startswith("cme-1#show running-config\r\ninterface Loopback0\r\n no ip address\r\n")
    assert len(cut.value.partial) == 512 * 1024
