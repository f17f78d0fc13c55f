"""Fault modes of the fake router: the CLI alone, over raw SSH, and as NetmikoCollector sees them.

Every test is bounded: sockets and the collector's Target have timeouts of a few seconds at most,
and waits for server threads poll with a deadline. Latency is tested by structure, never timed:
a router with an hour of latency answers nothing, a stop() cuts that hour short, and other
connections are served meanwhile.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from cmelive.collect import Target
from cmelive.collect.live import NetmikoCollector
from cmelive.commands import (
    AUDIT_COMMANDS,
    CAPF_SESSIONS,
    CAPF_SUMMARY,
    CTL_CLIENT,
    EPHONE_REGISTERED,
    RUNNING_CONFIG,
    SHOW_VERSION,
    TELEPHONY_SERVICE,
    CommandStatus,
)
from cmelive.errors import AuthenticationError
from cmelive.examples import example_dir
from cmelive.fake import FakeRouter
from cmelive.fake.faults import Faults, SessionFault, is_cme_command, strip_cme_sections, without_cme
from cmelive.fake.ios_cli import ACCESS_DENIED, INVALID_INPUT, IosCli, Reply, TerminalSession
from cmelive.parsing.running_config import parse_running_config
from cmelive.snapshot import Snapshot, read_snapshot

PASSWORD = "fault-login-pw"
SECRET = "fault-enable-pw"
CME_COMMANDS = (EPHONE_REGISTERED, CTL_CLIENT, CAPF_SUMMARY, CAPF_SESSIONS, TELEPHONY_SERVICE)
CONFIG = """\
Building configuration...
!
version 15.1
hostname BR1
!
voice service voip
 allow-connections sip to sip
!
voice register global
 mode cme
!
telephony-service
 max-ephones 10
 ip source-address 10.1.1.1 port 2000
!
ephone-template  1
 softkeys idle Redial
!
ephone-dn  1  dual-line
 number 1001
!
ephone  1
 mac-address 0011.2233.4455
 button  1:1
!
line vty 0 4
 transport input ssh
!
end
"""
VERSION = "Cisco IOS Software, C2900 Software, Version 15.7(3)M5\nBR1 uptime is 1 week\nline three\nline four\n"
OUTPUTS = {
    RUNNING_CONFIG: CONFIG,
    SHOW_VERSION: VERSION,
    EPHONE_REGISTERED: "ephone-1[0] Mac:0011.2233.4455 REGISTERED\n",
    TELEPHONY_SERVICE: "CONFIG (Version=12.6)\n",
}


def cli(faults: Faults, privileged: bool = True) -> IosCli:
    return IosCli(OUTPUTS, "BR1", SECRET, privileged, faults=faults)


# ---------------------------------------------------------------------------------------------
# Faults and IosCli, no transport


def test_faults_are_off_by_default_and_normalised() -> None:
    assert not Faults().any
    assert Faults().describe() == "none"
    faults = Faults(hang_on=("Show  Running-Config ",), drop_on=("sh ver", "sh ver"), delay_ms=250, fail_auth=True)
    assert faults.any
    assert faults.hang_on == ("show running-config",)
    assert faults.drop_on == ("sh ver",)
    assert faults.delay_s == 0.25
    assert faults.describe() == "fail-auth, delay-ms=250, hang-on='show running-config', drop-on='sh ver'"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"delay_ms": -1}, "delay_ms must be a whole number"),
        ({"delay_ms": 1.5}, "delay_ms must be a whole number"),
        ({"hang_on": "show version"}, "hang_on must be a list of commands"),
        ({"hang_on": ("show version",), "drop_on": ("SHOW version",)}, "cannot both hang and drop"),
    ],
)
def test_faults_refuse_nonsense(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults(**options)  # type: ignore[arg-type]


def test_fault_commands_must_be_served() -> None:
    with pytest.raises(ValueError, match="hang_on: 'show bogus' is not a show command this router serves"):
        cli(Faults(hang_on=("show bogus",)))
    with pytest.raises(ValueError, match="drop_on: 'configure terminal' is not a show command"):
        cli(Faults(drop_on=("configure terminal",)))
    with pytest.raises(ValueError, match="with no_cme it serves no CME command"):
        cli(Faults(no_cme=True, hang_on=(TELEPHONY_SERVICE,)))
    with pytest.raises(ValueError, match="is not a show command"):
        FakeRouter(OUTPUTS, host_key=paramiko.RSAKey.generate(1024), faults=Faults(drop_on=("sh nothing",)))


def test_fail_enable_denies_even_the_right_secret() -> None:
    session = cli(Faults(fail_enable=True), privileged=False)
    for _ in range(4):  # never "% Bad secrets": always the same refusal
        assert session.handle_line("enable") == ""
        assert session.prompt == "Password: "
        assert session.handle_line(SECRET) == ACCESS_DENIED + "\n\n"
        assert not session.privileged and session.prompt == "BR1>"
    no_secret = IosCli(OUTPUTS, "BR1", None, faults=Faults(fail_enable=True))
    no_secret.handle_line("enable")
    assert no_secret.handle_line("anything") == ACCESS_DENIED + "\n\n"


def test_hang_matches_after_abbreviation_and_silences_the_session() -> None:
    session = cli(Faults(hang_on=("show running-config",)))
    assert session.handle_line("sh ver") == VERSION
    assert session.handle_line("sh run | i hostname") == ""  # a filter does not dodge the fault
    assert session.fault is SessionFault.HANG and not session.closed
    assert session.handle_line("show version") == ""  # stuck: nothing answers any more
    assert session.command_log == ["sh ver", "sh run | i hostname"]


def test_hang_on_an_abbreviation_names_the_full_command() -> None:
    session = cli(Faults(hang_on=("sh run",)))
    session.handle_line("show running-config")
    assert session.fault is SessionFault.HANG


def test_hang_at_privilege_1_is_an_invalid_command_not_a_hang() -> None:
    session = cli(Faults(hang_on=("show running-config",)), privileged=False)
    assert INVALID_INPUT in session.handle_line("show running-config")  # never ran: cannot hang
    assert session.fault is None


def test_drop_returns_the_first_half_of_the_lines_and_closes() -> None:
    session = cli(Faults(drop_on=("show version",)))
    assert session.handle_line("show ver") == "".join(VERSION.splitlines(keepends=True)[:2])
    assert session.fault is SessionFault.DROP and session.closed
    assert session.handle_line("show running-config") == ""


def test_terminal_session_stops_at_the_faulty_command() -> None:
    hang = TerminalSession(cli(Faults(hang_on=("show running-config",))))
    # Pasted in one go: the echo of the hanging command ends the screen; the rest is lost.
    assert hang.feed("sh ver\rsh run\rshow version\r") == (
        "sh ver\r\n" + VERSION.replace("\n", "\r\n") + "BR1#sh run\r\n"
    )
    assert hang.fault is SessionFault.HANG
    assert hang.feed("show version\r") == ""

    drop = TerminalSession(cli(Faults(drop_on=("show version",))))
    half = "".join(VERSION.splitlines(keepends=True)[:2]).replace("\n", "\r\n")
    assert drop.feed("show version\rexit\r") == "show version\r\n" + half  # no prompt after it
    assert drop.closed and drop.fault is SessionFault.DROP


def test_replies_are_cut_after_each_answered_line() -> None:
    session = TerminalSession(cli(Faults()))
    assert session.replies("term len 0\rsh priv\rsh") == [
        Reply("term len 0\r\nBR1#", answers=True),
        Reply("sh priv\r\nCurrent privilege level is 15\r\nBR1#", answers=True),
        Reply("sh", answers=False),  # echo of keys typed so far: no answer yet
    ]
    assert session.replies("") == []


def test_no_cme_rejects_the_cme_commands_like_plain_ios() -> None:
    session = cli(Faults(no_cme=True))
    for command in CME_COMMANDS:
        answer = session.handle_line(command)
        # The caret is under the CME keyword: the plain IOS parser does not know it.
        assert answer == " " * len("BR1#show ") + "^\n" + INVALID_INPUT + "\n\n", command
    assert session.handle_line("show version") == VERSION
    config = session.handle_line("show running-config")
    assert "telephony-service" not in config and "ephone" not in config and "voice register" not in config
    assert "voice service voip\n allow-connections sip to sip\n" in config  # not CME: kept
    assert session.handle_line("sh run | i ^line") == "line vty 0 4\n"


def test_strip_cme_sections_keeps_everything_else() -> None:
    stripped = strip_cme_sections(CONFIG)
    parsed = parse_running_config(stripped)
    assert parsed.complete
    assert not parsed.sections(r"telephony-service") and not parsed.sections(r"ephone")
    assert [line.command for line in parsed.sections(r"line vty")] == ["line vty 0 4"]
    assert stripped == (
        "Building configuration...\n!\nversion 15.1\nhostname BR1\n!\nvoice service voip\n allow-connections sip to sip\n"
        + "!\n" * 6
        + "line vty 0 4\n transport input ssh\n!\nend\n"
    )
    assert strip_cme_sections(stripped) == stripped


@pytest.mark.parametrize(
    ("command", "cme"),
    [
        ("show ephone registered", True),
        ("show ephone", True),
        ("show ephone-dn summary", False),  # not a keyword of "show ephone": IOS has none such
        ("show capf-server summary", True),
        ("show ctl-client", True),
        ("show telephony-service", True),
        ("show voice register pool all", True),
        ("show version", False),
        ("show crypto pki certificates", False),
    ],
)
def test_is_cme_command(command: str, cme: bool) -> None:
    assert is_cme_command(command) is cme


def test_without_cme_on_a_whole_snapshot() -> None:
    snapshot = read_snapshot(example_dir("secure-cme"))
    outputs = {command: out.text for command, out in snapshot.outputs.items()}
    plain = without_cme(outputs)
    assert set(outputs) - set(plain) == set(CME_COMMANDS)
    config = parse_running_config(plain[RUNNING_CONFIG])
    assert config.complete and config.hostname == parse_running_config(outputs[RUNNING_CONFIG]).hostname
    assert not config.sections(r"telephony-service|ephone")


# ---------------------------------------------------------------------------------------------
# Over SSH


@pytest.fixture(scope="module")
def host_key() -> paramiko.PKey:
    return paramiko.RSAKey.generate(1024)


def new_router(host_key: paramiko.PKey, faults: Faults) -> FakeRouter:
    return FakeRouter(OUTPUTS, password=PASSWORD, enable_secret=SECRET, host_key=host_key, faults=faults)


def connect(router: FakeRouter, **options: object) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.get_host_keys().add(f"[{router.host}]:{router.port}", router.host_key.get_name(), router.host_key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    settings: dict[str, object] = {"username": "admin", "password": PASSWORD, "timeout": 5}
    settings.update(options)
    client.connect(router.host, router.port, allow_agent=False, look_for_keys=False, **settings)  # type: ignore[arg-type]
    return client


def read_for(channel: paramiko.Channel, seconds: float, until: str | None = None) -> str:
    """Everything the channel sends within ``seconds`` (stopping early at ``until`` or at EOF)."""
    deadline = time.monotonic() + seconds
    received = b""
    while (remaining := deadline - time.monotonic()) > 0:
        channel.settimeout(remaining)
        try:
            chunk = channel.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        received += chunk
        if until is not None and received.decode("utf-8", "replace").endswith(until):
            break
    return received.decode("utf-8", "replace")


def wait_for_no_connections(router: FakeRouter, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while router.open_connections and time.monotonic() < deadline:
        time.sleep(0.02)
    return router.open_connections == 0


def test_fail_auth_refuses_password_and_key(host_key: paramiko.PKey, tmp_path: Path) -> None:
    key = paramiko.RSAKey.generate(1024)
    key_path = tmp_path / "id_rsa"
    key.write_private_key_file(str(key_path))
    router = new_router(host_key, Faults(fail_auth=True)).start()
    try:
        router.add_user("keyuser", str(key_path))
        with pytest.raises(paramiko.AuthenticationException):
            connect(router)  # the right password
        with pytest.raises(paramiko.AuthenticationException):
            connect(router, username="keyuser", password=None, pkey=key)  # a registered key
        assert router.sessions == 0
    finally:
        router.stop()


def test_delay_holds_no_lock_and_stop_cuts_it_short(host_key: paramiko.PKey) -> None:
    router = new_router(host_key, Faults(delay_ms=3_600_000)).start()  # an hour: never within this test
    try:
        first = connect(router)
        first_channel = first.invoke_shell()
        assert read_for(first_channel, 0.3) == ""  # the first prompt is an hour away
        # While that session sleeps, the router still accepts, authenticates and opens a second
        # one, and its shared state is free.
        second = connect(router)
        second_channel = second.invoke_shell()
        assert read_for(second_channel, 0.3) == ""
        assert router.sessions == 2 and router.command_log == []
    finally:
        router.stop()
    assert wait_for_no_connections(router)  # stop() did not wait the hour
    assert read_for(first_channel, 5) == ""  # no prompt: the session ended (EOF or closed)
    assert first_channel.eof_received or first_channel.closed
    first.close()
    second.close()


def test_delay_then_answers_everything(host_key: paramiko.PKey) -> None:
    with new_router(host_key, Faults(delay_ms=20)) as router:
        with connect(router) as client:
            channel = client.invoke_shell()
            assert read_for(channel, 5, until="BR1>") == "\r\nBR1>"
            channel.sendall(b"show version\nshow privilege\n")
            screen = read_for(channel, 5, until="Current privilege level is 1\r\nBR1>")
            assert screen == (
                "show version\r\n" + VERSION.replace("\n", "\r\n") + "BR1>show privilege\r\n"
                "Current privilege level is 1\r\nBR1>"
            )
        with connect(router) as client:  # one session per connection, as on a vty
            _, stdout, _ = client.exec_command("show version")
            assert stdout.read().decode() == VERSION.replace("\n", "\r\n")


def test_delay_is_a_latency_lines_typed_ahead_are_answered_together(host_key: paramiko.PKey) -> None:
    # Four lines in one packet come back about one latency after they left, as over a real link:
    # not one latency per line in turn (2 s here). The margins are wide: this is the model, not
    # a speed measurement.
    latency = 0.5
    with new_router(host_key, Faults(delay_ms=int(latency * 1000))) as router, connect(router) as client:
        channel = client.invoke_shell()
        read_for(channel, 10, until="BR1>")
        sent = time.monotonic()
        channel.sendall(b"show privilege\nshow privilege\nshow privilege\nshow privilege\n")
        answers = 0
        while answers < 4:
            answers += read_for(channel, 10, until="Current privilege level is 1\r\nBR1>").count("level is 1")
        together = time.monotonic() - sent
        # A client that waits for each answer before typing on waits one latency per line.
        sent = time.monotonic()
        for _ in range(2):
            channel.sendall(b"show privilege\n")
            read_for(channel, 10, until="Current privilege level is 1\r\nBR1>")
        one_by_one = time.monotonic() - sent
    assert latency <= together < 3 * latency
    assert one_by_one >= 2 * latency


def test_hang_stays_silent_and_frees_its_thread_when_the_client_leaves(host_key: paramiko.PKey) -> None:
    router = new_router(host_key, Faults(hang_on=("show running-config",))).start()
    try:
        client = connect(router)
        channel = client.invoke_shell()
        read_for(channel, 5, until="BR1>")
        channel.sendall(b"enable\n")
        read_for(channel, 5, until="Password: ")
        channel.sendall(SECRET.encode() + b"\n")
        read_for(channel, 5, until="BR1#")
        channel.sendall(b"sh run\n")
        assert read_for(channel, 5, until="sh run\r\n") == "sh run\r\n"
        channel.sendall(b"show version\n\n")  # typed into a stuck line: no echo, no answer
        assert read_for(channel, 0.5) == ""
        assert not channel.closed and router.open_connections == 1
        client.close()
        assert wait_for_no_connections(router)
    finally:
        router.stop()


def test_hang_frees_its_thread_when_the_router_stops(host_key: paramiko.PKey) -> None:
    router = new_router(host_key, Faults(hang_on=("show version",))).start()
    client = connect(router)
    try:
        _, stdout, _ = client.exec_command("show version")  # the exec request hangs too
        channel = stdout.channel
        channel.shutdown_write()  # an EOF (OpenSSH sends one when its stdin ends) is no hang-up
        assert read_for(channel, 0.3) == ""
        assert not channel.eof_received and not channel.closed  # the router still holds the line
        assert router.open_connections == 1
        router.stop()
        assert wait_for_no_connections(router)
        assert read_for(channel, 5) == ""
        assert channel.eof_received or channel.closed
    finally:
        router.stop()
        client.close()
    assert not any(thread.name.startswith(f"fake-router-{router.port}") for thread in threading.enumerate())


def test_drop_sends_half_the_output_then_cuts_the_connection(host_key: paramiko.PKey) -> None:
    router = new_router(host_key, Faults(drop_on=("show version",))).start()
    try:
        client = connect(router)
        channel = client.invoke_shell()
        read_for(channel, 5, until="BR1>")
        channel.sendall(b"show version\n")
        screen = read_for(channel, 5)  # ends at EOF: the connection is gone
        half = "".join(VERSION.splitlines(keepends=True)[:2]).replace("\n", "\r\n")
        assert screen == "show version\r\n" + half
        transport = client.get_transport()
        assert transport is not None
        transport.join(5)
        assert not transport.is_active()
        # No SSH goodbye: neither an EOF on the channel nor an exit status came before the cut.
        assert not channel.eof_received and channel.recv_exit_status() == -1
        client.close()
        assert wait_for_no_connections(router)
    finally:
        router.stop()


# ---------------------------------------------------------------------------------------------
# What NetmikoCollector reports for each fault


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture(scope="module")
def example() -> Snapshot:
    return read_snapshot(example_dir("secure-cme"))


def collect(router: FakeRouter, tmp_path: Path, timeout: float = 5.0) -> Snapshot:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(router.known_hosts_line() + "\n")
    target = Target(
        "127.0.0.1", router.port, "admin", PASSWORD, SECRET, known_hosts=(known_hosts,), timeout=timeout
    )
    return NetmikoCollector().collect(target, AUDIT_COMMANDS)


@pytest.fixture
def faulty(host_key: paramiko.PKey, example: Snapshot, request: pytest.FixtureRequest) -> Iterator[FakeRouter]:
    faults: Faults = request.param
    router = FakeRouter(example, password=PASSWORD, enable_secret=SECRET, host_key=host_key, faults=faults)
    with router:
        yield router
    assert router.open_connections == 0


def served(example: Snapshot, command: str) -> str:
    return example.outputs[command].text


@pytest.mark.parametrize("faulty", [Faults(fail_auth=True)], indirect=True)
def test_collector_fail_auth(faulty: FakeRouter, tmp_path: Path) -> None:
    with pytest.raises(AuthenticationError, match="authentication failed: the router refused the login as 'admin'"):
        collect(faulty, tmp_path)


@pytest.mark.parametrize("faulty", [Faults(fail_enable=True)], indirect=True)
def test_collector_fail_enable(faulty: FakeRouter, tmp_path: Path) -> None:
    with pytest.raises(AuthenticationError, match=r"'enable' failed \(% Access denied\)"):
        collect(faulty, tmp_path)
    assert faulty.wait_until_idle()
    assert faulty.command_log[-2:] == ["enable", "exit"]


@pytest.mark.parametrize("faulty", [Faults(delay_ms=30)], indirect=True)
def test_collector_delay(faulty: FakeRouter, example: Snapshot, tmp_path: Path) -> None:
    snapshot = collect(faulty, tmp_path)
    for command in AUDIT_COMMANDS:
        assert snapshot.outputs[command].status == CommandStatus.OK, command
        assert snapshot.outputs[command].text == served(example, command), command


@pytest.mark.parametrize("faulty", [Faults(hang_on=("sh run",))], indirect=True)
def test_collector_hang(faulty: FakeRouter, example: Snapshot, tmp_path: Path) -> None:
    snapshot = collect(faulty, tmp_path, timeout=1.0)
    assert snapshot.outputs[SHOW_VERSION].status == CommandStatus.OK
    assert snapshot.outputs[SHOW_VERSION].text == served(example, SHOW_VERSION)
    hung = snapshot.outputs[RUNNING_CONFIG]
    assert hung.status == CommandStatus.TIMEOUT
    assert hung.error == "timed out: the router was silent for 1s before its prompt came back"
    rest = AUDIT_COMMANDS[AUDIT_COMMANDS.index(RUNNING_CONFIG) + 1 :]
    for command in rest:
        out = snapshot.outputs[command]
        assert out.status == CommandStatus.NOT_COLLECTED, command
        assert out.error == "not run: the session did not recover after 'show running-config' timed out"
    # The collector hung up: the router's side of the session is gone too.
    assert wait_for_no_connections(faulty)


@pytest.mark.parametrize("faulty", [Faults(drop_on=(RUNNING_CONFIG,))], indirect=True)
def test_collector_drop(faulty: FakeRouter, example: Snapshot, tmp_path: Path) -> None:
    snapshot = collect(faulty, tmp_path)
    assert snapshot.outputs[SHOW_VERSION].status == CommandStatus.OK
    assert snapshot.outputs[SHOW_VERSION].text == served(example, SHOW_VERSION)
    for command in AUDIT_COMMANDS[AUDIT_COMMANDS.index(RUNNING_CONFIG) :]:
        out = snapshot.outputs[command]
        assert out.status in (CommandStatus.NOT_COLLECTED, CommandStatus.TRUNCATED), command
        assert out.error is not None and out.error.startswith("connection lost"), command
    assert wait_for_no_connections(faulty)


@pytest.mark.parametrize("faulty", [Faults(no_cme=True)], indirect=True)
def test_collector_no_cme(faulty: FakeRouter, example: Snapshot, tmp_path: Path) -> None:
    snapshot = collect(faulty, tmp_path)
    for command in AUDIT_COMMANDS:
        out = snapshot.outputs[command]
        if command in CME_COMMANDS:
            assert out.status == CommandStatus.REJECTED, command
            assert out.error == "% Invalid input detected at '^' marker."
        else:
            assert out.status == CommandStatus.OK, command
    config = parse_running_config(snapshot.outputs[RUNNING_CONFIG].text)
    assert config.complete
    assert not config.sections(r"telephony-service") and not config.sections(r"ephone")
    assert config.sections(r"line vty")


# ---------------------------------------------------------------------------------------------
# cmelive fake-router with fault options


def test_cli_fault_options(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap"
    snapshot.mkdir()
    for command, text in OUTPUTS.items():
        (snapshot / (command.replace(" ", "_") + ".txt")).write_text(text)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "cmelive", "fake-router", str(snapshot), "--password", PASSWORD,
            "--privileged", "--no-cme", "--hang-on", "sh run", "--delay-ms", "5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        found = re.fullmatch(r"fake router BR1 listening on 127\.0\.0\.1:(\d+) \(user admin\)\n", proc.stdout.readline())
        assert found
        port = int(found.group(1))
        assert proc.stdout.readline().startswith(f"[127.0.0.1]:{port} ssh-rsa ")
        assert proc.stdout.readline() == "faults: no-cme, delay-ms=5, hang-on='show running-config'\n"
        with paramiko.SSHClient() as client:
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
            client.connect("127.0.0.1", port, "admin", PASSWORD, allow_agent=False, look_for_keys=False, timeout=5)
            channel = client.invoke_shell()
            read_for(channel, 10, until="BR1#")
            channel.sendall(b"show telephony-service\n")
            assert INVALID_INPUT in read_for(channel, 10, until="BR1#")
            channel.sendall(b"show running-config\n")
            assert read_for(channel, 0.5) == "show running-config\r\n"
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr


def test_cli_fault_naming_an_unknown_command_exits_2(tmp_path: Path) -> None:
    (tmp_path / "show_version.txt").write_text(VERSION)
    done = subprocess.run(
        [sys.executable, "-m", "cmelive", "fake-router", str(tmp_path), "--drop-on", "show bogus"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == ["cmelive: error: drop_on: 'show bogus' is not a show command this router serves"]
