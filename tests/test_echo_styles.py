"""The collector over every terminal style in the field: no output is ever attributed to the wrong
command, whatever the echo, prompt, line ends, pauses, log messages or pager.

Each style (:data:`cmelive.fake.terminal.STYLES`) is served by the fake router over real SSH, at
user level (so ``enable`` and its secret are in the stream too) and at privileged level. Every
collected output must equal what the router served, to the character; the log messages a style
prints must come back apart from the outputs, in order; and every byte the collector sent must be
a show command, a terminal setting, ``enable``, the secret, ``exit``, an Enter or the pager's space.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from cmelive.collect import Target
from cmelive.collect.live import NetmikoCollector
from cmelive.commands import AUDIT_COMMANDS, RUNNING_CONFIG, CommandStatus
from cmelive.fake import FakeRouter
from cmelive.fake.terminal import STYLES, TerminalStyle
from cmelive.snapshot import CommandOutput, Snapshot, read_snapshot, write_snapshot

from .livefake import cli

PASSWORD = "Pw-echo-4471"
ENABLE_SECRET = "En-echo-9053"
HOSTNAME = "CME1"

# A running-config whose banner holds lines that look like this router's prompt and others',
# and whose body is long enough to be paged many times and paused in.
RUNNING = (
    "Building configuration...\n"
    "\n"
    "Current configuration : 4711 bytes\n"
    "!\n"
    "version 15.7\n"
    f"hostname {HOSTNAME}\n"
    "!\n"
    "banner motd ^C\n"
    f"{HOSTNAME}#\n"
    f"{HOSTNAME}>\n"
    "Router#\n"
    "   trailing blanks stay   \n"
    "^C\n"
    "!\n"
    + "".join(f"ephone-dn {n}\n number {1000 + n}\n!\n" for n in range(1, 60))
    + "line vty 0 4\n transport input ssh\n!\nend\n"
)
OUTPUTS: dict[str, str] = {
    "show version": "Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M5\n"
    f"{HOSTNAME} uptime is 3 weeks, 2 days\n\n",
    RUNNING_CONFIG: RUNNING,
    "show ephone registered": "".join(
        f"ephone-{n}[{n - 1}] Mac:00AA.BBCC.{n:04d} TCP socket:[{n}] activeLine:0 REGISTERED in SCCP ver 22/17\n"
        f"mediaActive:0 offhook:0 ringing:0 reset:0 reset_sent:0 paging 0 debug:0 caps:9\n"
        f"IP:10.1.1.{n} * 7965  keepalive 12 max_line 6 available_line 6\n\n"
        for n in range(1, 30)
    ),
    # An empty answer: its neighbours must not bleed into it (and it is no evidence: unrecognised).
    "show control-plane host open-ports": "",
    "show telephony-service": "CONFIG (Version=12.1)\n=====================\nVersion 12.1\nMax ephoned 24\n",
}
COMMANDS = [command for command in AUDIT_COMMANDS if command in OUTPUTS]
EXPECTED_STATUS = {
    command: CommandStatus.UNRECOGNISED if not text else CommandStatus.OK for command, text in OUTPUTS.items()
}
# What a pager leaves when it is not cleaned out (the test must see none of it).
PAGER_DEBRIS = re.compile(r"--More--|\x08")


@pytest.fixture(scope="module")
def host_key() -> paramiko.PKey:
    return paramiko.RSAKey.generate(1024)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def serve(host_key: paramiko.PKey, style: TerminalStyle, *, privileged: bool) -> FakeRouter:
    return FakeRouter(
        OUTPUTS,
        hostname=HOSTNAME,
        username="auditor",
        password=PASSWORD,
        enable_secret=ENABLE_SECRET,
        privileged_login=privileged,
        host_key=host_key,
        terminal=style,
    )


def target_for(router: FakeRouter, tmp_path: Path) -> Target:
    known = tmp_path / "known_hosts"
    known.write_text(router.known_hosts_line() + "\n")
    return Target(
        "127.0.0.1",
        router.port,
        username="auditor",
        password=PASSWORD,
        enable_secret=ENABLE_SECRET,
        known_hosts=(known,),
        timeout=10.0,
    )


@pytest.fixture(params=sorted(STYLES), ids=str)
def style(request: pytest.FixtureRequest) -> TerminalStyle:
    return STYLES[str(request.param)]


@pytest.fixture(params=[False, True], ids=["user-exec", "privileged"])
def privileged(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def router(host_key: paramiko.PKey, style: TerminalStyle, privileged: bool) -> Iterator[FakeRouter]:
    with serve(host_key, style, privileged=privileged) as started:
        yield started


def test_every_output_is_exactly_what_was_served(router: FakeRouter, tmp_path: Path, style: TerminalStyle) -> None:
    snapshot = NetmikoCollector().collect(target_for(router, tmp_path), COMMANDS)

    assert snapshot.hostname == HOSTNAME
    for command in COMMANDS:
        output = snapshot.outputs[command]
        assert output.status == EXPECTED_STATUS[command], (command, output.error)
        assert output.text == OUTPUTS[command], command
        assert not PAGER_DEBRIS.search(output.text)
    if style.log_messages:
        kept = [message for command in COMMANDS for message in snapshot.outputs[command].log_messages]
        assert kept, "the log messages the router printed were not kept"
        assert set(kept) <= set(style.log_messages)
    else:
        assert all(not output.log_messages for output in snapshot.outputs.values())


def test_every_byte_sent_is_read_only(
    router: FakeRouter, tmp_path: Path, privileged: bool, style: TerminalStyle
) -> None:
    NetmikoCollector().collect(target_for(router, tmp_path), COMMANDS)
    router.wait_until_idle()

    sent = router.bytes_received.decode("utf-8")
    # The pager's spaces are pressed alone, so they stand before the next line.
    pieces = [piece.lstrip(" ") for piece in sent.split("\n")]
    assert pieces[-1] == "", "everything sent but the pager's spaces ends with an Enter"
    allowed = {*COMMANDS, "terminal length 0", "terminal width 0", "enable", "exit", ""}
    for piece in pieces[:-1]:
        if piece == ENABLE_SECRET:
            continue
        assert piece in allowed, repr(piece)
    if not privileged:
        assert ENABLE_SECRET in pieces
    # Each command exactly once: nothing was re-sent because an answer looked ambiguous.
    for command in COMMANDS:
        assert pieces.count(command) == 1, command
    assert pieces.count("terminal length 0") == 1
    spaces_pressed = sum(len(piece) - len(piece.lstrip(" ")) for piece in sent.split("\n"))
    if style.pager:
        assert spaces_pressed > 0
    else:
        assert spaces_pressed == 0


def test_log_messages_survive_in_the_saved_snapshot(host_key: paramiko.PKey, tmp_path: Path) -> None:
    style = STYLES["log-lines"]
    with serve(host_key, style, privileged=True) as router:
        snapshot = NetmikoCollector().collect(target_for(router, tmp_path), COMMANDS)
    saved = read_snapshot(write_snapshot(snapshot, tmp_path / "snap"))

    running = saved.outputs[RUNNING_CONFIG]
    assert running.status == CommandStatus.OK  # the messages after 'end' do not make it look cut
    assert running.text == RUNNING
    assert running.log_messages == snapshot.outputs[RUNNING_CONFIG].log_messages
    assert len(running.log_messages) >= 2


def test_fake_router_cli_serves_a_terminal_style_that_a_live_audit_reads(tmp_path: Path) -> None:
    outputs = {command: CommandOutput(command, CommandStatus.OK, text) for command, text in OUTPUTS.items()}
    served = write_snapshot(Snapshot(host="served", outputs=outputs), tmp_path / "served", mask=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmelive", "fake-router", str(served), "--password", PASSWORD,
         "--enable-secret", ENABLE_SECRET, "--terminal-style", "pager"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        found = re.fullmatch(r"fake router CME1 listening on 127\.0\.0\.1:(\d+) \(user admin\)\n", proc.stdout.readline())
        assert found
        known = tmp_path / "known_hosts"
        known.write_text(proc.stdout.readline())
        assert proc.stdout.readline() == "terminal style: pager\n"
        done = cli(
            "collect", "127.0.0.1", "--port", found.group(1), "-u", "admin", "--known-hosts", str(known),
            "--no-mask", "-o", str(tmp_path / "collected"),
            env={"CMELIVE_PASSWORD": PASSWORD, "CMELIVE_ENABLE_SECRET": ENABLE_SECRET},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    collected = read_snapshot(tmp_path / "collected")
    for command, text in OUTPUTS.items():
        assert collected.outputs[command].text == text, command


def test_fake_router_cli_refuses_an_unknown_terminal_style(tmp_path: Path) -> None:
    (tmp_path / "show_version.txt").write_text(OUTPUTS["show version"])
    done = cli("fake-router", str(tmp_path), "--terminal-style", "teletype")
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("cmelive: error: --terminal-style: unknown style 'teletype' (one of: ")

