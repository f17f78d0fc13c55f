"""Live collection over real SSH against the fake IOS router on 127.0.0.1.

Covers: exact outputs, enable flow and privileged login, authentication and host-key failures,
connection failures, rejected / truncated / timed-out commands, a connection dropped mid-way,
key and ssh_config logins, the read-only guard, and that secrets never reach the logs.
"""

from __future__ import annotations

import logging
import random
import re
import socket
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import paramiko
import pytest

from cmelive.collect import Target
from cmelive.collect.hostkeys import cmelive_known_hosts_file
from cmelive.collect.live import (
    AuditSession,
    NetmikoCollector,
    classify,
    ensure_read_only,
    normalize_line_breaks,
)
from cmelive.collect.replay import ReplayCollector
from cmelive.commands import (
    AUDIT_COMMANDS,
    RUNNING_CONFIG,
    SHOW_VERSION,
    TELEPHONY_SERVICE,
    CommandStatus,
    ios_error,
)
from cmelive.errors import AuthenticationError, ConnectError, HostKeyError, UsageError
from cmelive.fake import FakeRouter
from cmelive.fake.ios_cli import IosCli, TerminalSession
from cmelive.masking import mask_text
from cmelive.snapshot import CommandOutput, Snapshot, write_snapshot

PASSWORD = "Pw-l0gin-7731"
ENABLE_SECRET = "En-s3cret-5519"
CONFIG_SECRET = "$1$mERr$hx5rVt7rPNoS4wqbXKX7m0"

RUNNING = (
    "Building configuration...\n"
    "\n"
    "Current configuration : 1234 bytes\n"
    "!\n"
    "version 15.7\n"
    "hostname CME-Lab1\n"
    "!\n"
    f"enable secret 5 {CONFIG_SECRET}\n"
    "!\n"
    "interface GigabitEthernet0/0\n"
    " description Liaison réseau — bâtiment Ü\n"  # non-ASCII must survive the trip
    " ip address 192.0.2.1 255.255.255.0\n"
    "!\n"
    "telephony-service\n"
    " max-ephones 24\n"
    " ip source-address 192.0.2.1 port 2000\n"
    "!\n"
    + "".join(f"ephone-dn {n}\n number {1000 + n}\n!\n" for n in range(1, 3000))  # ~90 kB
    + "end\n"
)
OUTPUTS: dict[str, str] = {
    SHOW_VERSION: "Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M5\n"
    "CME-Lab1 uptime is 3 weeks, 2 days\n",
    RUNNING_CONFIG: RUNNING,
    TELEPHONY_SERVICE: "CONFIG (Version=12.1)\n=====================\nVersion 12.1\nMax ephoned 24\n\n",
}
ALLOWED_SESSION_COMMANDS = ("terminal length 0", "terminal width 0", "enable", "exit")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return home


@pytest.fixture(scope="module")
def host_key() -> paramiko.PKey:
    return paramiko.RSAKey.generate(1024)  # small: key generation is most of a router's start-up


@pytest.fixture(scope="module")
def other_host_key() -> paramiko.PKey:
    return paramiko.RSAKey.generate(1024)


def start_router(
    host_key: paramiko.PKey, outputs: Mapping[str, str] = OUTPUTS, **options: object
) -> FakeRouter:
    settings: dict[str, object] = {
        "hostname": "CME-Lab1",
        "username": "auditor",
        "password": PASSWORD,
        "enable_secret": ENABLE_SECRET,
    }
    settings.update(options)
    return FakeRouter(dict(outputs), host_key=host_key, **settings)  # type: ignore[arg-type]


@pytest.fixture
def router(host_key: paramiko.PKey) -> Iterator[FakeRouter]:
    with start_router(host_key) as started:
        yield started


def trusted(router: FakeRouter, tmp_path: Path, **fields: object) -> Target:
    """A target for ``router`` whose host key is already in a --known-hosts file."""
    known = tmp_path / "known_hosts"
    known.write_text(router.known_hosts_line() + "\n")
    settings: dict[str, object] = {
        "username": "auditor",
        "password": PASSWORD,
        "enable_secret": ENABLE_SECRET,
        "known_hosts": (known,),
        "timeout": 10.0,
    }
    settings.update(fields)
    return Target("127.0.0.1", router.port, **settings)  # type: ignore[arg-type]


def assert_read_only(router: FakeRouter) -> None:
    for line in router.command_log:
        assert line.startswith("show ") or line in ALLOWED_SESSION_COMMANDS, line


# -- full collection -------------------------------------------------------------------------------


def test_full_collection_equals_served_outputs(router: FakeRouter, tmp_path: Path) -> None:
    commands = [SHOW_VERSION, RUNNING_CONFIG, TELEPHONY_SERVICE]
    snapshot = NetmikoCollector().collect(trusted(router, tmp_path), commands)
    assert snapshot.hostname == "CME-Lab1"
    assert snapshot.host == "127.0.0.1"
    assert snapshot.source == "live"
    assert list(snapshot.outputs) == commands
    for command in commands:
        out = snapshot.outputs[command]
        assert (out.status, out.error) == (CommandStatus.OK, None)
        assert out.text == OUTPUTS[command]
    # User-level login, then enable: each session command exactly once, nothing but reads.
    assert router.wait_until_idle()  # "exit" is logged once the router has seen the hang-up
    assert router.command_log == [
        "terminal length 0",
        "terminal width 0",
        "enable",
        *commands,
        "exit",
    ]
    assert_read_only(router)


def test_every_audit_command_gets_a_status(router: FakeRouter, tmp_path: Path) -> None:
    snapshot = NetmikoCollector().collect(trusted(router, tmp_path), AUDIT_COMMANDS)
    assert list(snapshot.outputs) == list(AUDIT_COMMANDS)
    statuses = {command: out.status for command, out in snapshot.outputs.items()}
    served = {c: CommandStatus.OK for c in OUTPUTS}
    # The fake knows only the three served commands; IOS rejects the others.
    assert statuses == {c: served.get(c, CommandStatus.REJECTED) for c in AUDIT_COMMANDS}
    rejected = snapshot.outputs[AUDIT_COMMANDS[-1]]
    assert rejected.error == "% Invalid input detected at '^' marker."
    assert_read_only(router)


def test_login_banner_with_prompt_like_lines(
    router: FakeRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    banner = (
        "\r\n##########################################\r\n"
        "# Authorized access only. Activity logged #\r\n"
        "root-of-trust>\r\n"
        "##########################################\r\n"
    )
    real_greeting = TerminalSession.greeting
    monkeypatch.setattr(TerminalSession, "greeting", lambda session: banner + real_greeting(session))
    snapshot = NetmikoCollector().collect(trusted(router, tmp_path), [SHOW_VERSION, RUNNING_CONFIG])
    assert snapshot.hostname == "CME-Lab1"
    assert snapshot.outputs[SHOW_VERSION].text == OUTPUTS[SHOW_VERSION]
    assert snapshot.outputs[RUNNING_CONFIG].text == RUNNING


def test_privileged_login_skips_enable(host_key: paramiko.PKey, tmp_path: Path) -> None:
    with start_router(host_key, privileged_login=True, enable_secret=None) as router:
        target = trusted(router, tmp_path, enable_secret=None)
        snapshot = NetmikoCollector().collect(target, [RUNNING_CONFIG])
        assert snapshot.outputs[RUNNING_CONFIG].text == RUNNING
        assert "enable" not in router.command_log


def test_rejected_command_is_recorded_and_the_rest_collected(router: FakeRouter, tmp_path: Path) -> None:
    commands = [SHOW_VERSION, "show ephone registered", RUNNING_CONFIG]
    snapshot = NetmikoCollector().collect(trusted(router, tmp_path), commands)
    rejected = snapshot.outputs["show ephone registered"]
    assert rejected.status == CommandStatus.REJECTED
    assert rejected.error == "% Invalid input detected at '^' marker."
    assert not rejected.usable
    assert snapshot.outputs[RUNNING_CONFIG].status == CommandStatus.OK
    assert snapshot.outputs[RUNNING_CONFIG].text == RUNNING


def test_running_config_without_end_is_truncated(host_key: paramiko.PKey, tmp_path: Path) -> None:
    cut = RUNNING[: RUNNING.index("ephone-dn 5\n")]
    with start_router(host_key, {RUNNING_CONFIG: cut}) as router:
        snapshot = NetmikoCollector().collect(trusted(router, tmp_path), [RUNNING_CONFIG])
    out = snapshot.outputs[RUNNING_CONFIG]
    assert out.status == CommandStatus.TRUNCATED
    assert out.text == cut
    assert out.error is not None and "end" in out.error


def test_collected_snapshot_round_trips_through_replay(router: FakeRouter, tmp_path: Path) -> None:
    commands = [SHOW_VERSION, RUNNING_CONFIG, "show ephone registered"]
    live = NetmikoCollector().collect(trusted(router, tmp_path), commands)
    write_snapshot(live, tmp_path / "snap", mask=False)
    replayed = ReplayCollector(tmp_path / "snap").collect(Target("127.0.0.1"), commands)
    assert replayed.hostname == "CME-Lab1"
    for command in commands:
        assert replayed.outputs[command].status == live.outputs[command].status
        assert replayed.outputs[command].text == live.outputs[command].text


# -- authentication ---------------------------------------------------------------------------------


def test_wrong_password_is_an_authentication_error(router: FakeRouter, tmp_path: Path) -> None:
    with pytest.raises(AuthenticationError, match=f"127.0.0.1:{router.port}.*refused the login"):
        NetmikoCollector().collect(trusted(router, tmp_path, password="wrong"), [SHOW_VERSION])
    assert router.command_log == []


def test_wrong_enable_secret_is_an_authentication_error(router: FakeRouter, tmp_path: Path) -> None:
    target = trusted(router, tmp_path, enable_secret="not-the-secret")
    with pytest.raises(AuthenticationError, match="the router refused the enable secret") as caught:
        NetmikoCollector().collect(target, [SHOW_VERSION])
    assert "not-the-secret" not in str(caught.value)
    assert "% Access denied" in str(caught.value)
    assert SHOW_VERSION not in router.command_log
    # Worded so that a fleet's masked log reads it whole: no word after "secret".
    assert mask_text(str(caught.value)) == str(caught.value)


def test_user_level_login_without_enable_secret_says_what_to_set(router: FakeRouter, tmp_path: Path) -> None:
    with pytest.raises(AuthenticationError, match="CMELIVE_ENABLE_SECRET"):
        NetmikoCollector().collect(trusted(router, tmp_path, enable_secret=None), [SHOW_VERSION])
    assert "enable" not in router.command_log


def test_enable_secret_prompt_is_asked_only_when_needed(router: FakeRouter, tmp_path: Path) -> None:
    asked: list[str] = []

    def prompt(host: str) -> str:
        asked.append(host)
        return ENABLE_SECRET

    target = trusted(router, tmp_path, enable_secret=None, name="cme-lab1")
    snapshot = NetmikoCollector(enable_secret_prompt=prompt).collect(target, [SHOW_VERSION])
    assert asked == ["cme-lab1"]
    assert snapshot.outputs[SHOW_VERSION].status == CommandStatus.OK
    NetmikoCollector(enable_secret_prompt=prompt).collect(trusted(router, tmp_path), [SHOW_VERSION])
    assert asked == ["cme-lab1"]  # the target had a secret: not asked


def test_key_file_login(host_key: paramiko.PKey, tmp_path: Path) -> None:
    client_key = paramiko.RSAKey.generate(1024)
    key_path = tmp_path / "id_rsa"
    client_key.write_private_key_file(str(key_path))
    with start_router(host_key, privileged_login=True) as router:
        router.add_user("keyuser", str(key_path))
        target = trusted(router, tmp_path, username="keyuser", password=None, key_file=key_path)
        snapshot = NetmikoCollector().collect(target, [SHOW_VERSION])
    assert snapshot.outputs[SHOW_VERSION].text == OUTPUTS[SHOW_VERSION]


def test_ssh_config_supplies_hostname_port_and_user(router: FakeRouter, tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(f"Host cme-lab\n  HostName 127.0.0.1\n  Port {router.port}\n  User auditor\n")
    known = tmp_path / "known_hosts"
    known.write_text(router.known_hosts_line() + "\n")  # keyed by the real HostName and port
    target = Target(
        "cme-lab",
        password=PASSWORD,
        enable_secret=ENABLE_SECRET,
        ssh_config=config,
        known_hosts=(known,),
        timeout=10.0,
    )
    snapshot = NetmikoCollector().collect(target, [SHOW_VERSION])
    assert snapshot.host == "cme-lab"
    assert snapshot.outputs[SHOW_VERSION].text == OUTPUTS[SHOW_VERSION]


# -- host keys ----------------------------------------------------------------------------------------


def test_host_key_unknown_then_accepted_then_changed(
    host_key: paramiko.PKey, other_host_key: paramiko.PKey
) -> None:
    # Default known-hosts files: cmelive's own (under XDG_STATE_HOME) and ~/.ssh/known_hosts.
    with start_router(host_key) as router:
        port = router.port
        target = Target("127.0.0.1", port, "auditor", PASSWORD, ENABLE_SECRET, timeout=10.0)
        with pytest.raises(HostKeyError) as caught:
            NetmikoCollector().collect(target, [SHOW_VERSION])
        message = str(caught.value)
        assert f"127.0.0.1:{port}" in message and host_key.fingerprint in message
        assert "ssh-rsa" in message and "--accept-new-host-key" in message
        assert router.command_log == []  # refused before logging in

        target.accept_new_host_key = True
        snapshot = NetmikoCollector().collect(target, [SHOW_VERSION])
        assert snapshot.outputs[SHOW_VERSION].status == CommandStatus.OK
        assert cmelive_known_hosts_file().read_text() == router.known_hosts_line() + "\n"

    # Same address, another key: refused even with accept-new, naming both fingerprints.
    with start_router(other_host_key, port=port) as impostor:
        with pytest.raises(HostKeyError) as caught:
            NetmikoCollector().collect(target, [SHOW_VERSION])
        message = str(caught.value)
        assert "HOST KEY HAS CHANGED" in message
        assert host_key.fingerprint in message and other_host_key.fingerprint in message
        assert f"{cmelive_known_hosts_file()}:1" in message
        assert impostor.command_log == []
    assert cmelive_known_hosts_file().read_text().count("\n") == 1


def test_user_ssh_known_hosts_is_trusted(router: FakeRouter, isolated_home: Path) -> None:
    ssh_dir = isolated_home / ".ssh"
    ssh_dir.mkdir()
    (ssh_dir / "known_hosts").write_text(router.known_hosts_line() + "\n")
    target = Target("127.0.0.1", router.port, "auditor", PASSWORD, ENABLE_SECRET, timeout=10.0)
    snapshot = NetmikoCollector().collect(target, [SHOW_VERSION])
    assert snapshot.outputs[SHOW_VERSION].status == CommandStatus.OK
    assert not cmelive_known_hosts_file().exists()


# -- connection failures ------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_closed_port_is_a_connect_error(tmp_path: Path) -> None:
    port = closed_port()
    target = Target("127.0.0.1", port, "auditor", PASSWORD, known_hosts=(tmp_path / "kh",))
    with pytest.raises(ConnectError, match=f"127.0.0.1:{port}: connection refused"):
        NetmikoCollector().collect(target, [SHOW_VERSION])


def test_silent_server_is_a_connect_error(tmp_path: Path) -> None:
    # Accepts TCP (the kernel does, from the backlog) but never says a word of SSH.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = int(silent.getsockname()[1])
        target = Target("127.0.0.1", port, "auditor", PASSWORD, known_hosts=(tmp_path / "kh",), timeout=0.3)
        with pytest.raises(ConnectError, match=f"127.0.0.1:{port}: SSH negotiation failed"):
            NetmikoCollector().collect(target, [SHOW_VERSION])


def test_connection_dropped_midway_keeps_what_was_collected(
    router: FakeRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run = AuditSession.run

    def run_then_drop(session: AuditSession, command: str, timeout: float, **options: bool) -> str:
        if command == RUNNING_CONFIG:
            router.stop()  # the router goes away just before the second command
        return real_run(session, command, timeout, **options)

    monkeypatch.setattr(AuditSession, "run", run_then_drop)
    commands = [SHOW_VERSION, RUNNING_CONFIG, TELEPHONY_SERVICE]
    snapshot = NetmikoCollector().collect(trusted(router, tmp_path), commands)
    assert snapshot.outputs[SHOW_VERSION].status == CommandStatus.OK
    assert snapshot.outputs[SHOW_VERSION].text == OUTPUTS[SHOW_VERSION]
    for command in (RUNNING_CONFIG, TELEPHONY_SERVICE):
        out = snapshot.outputs[command]
        assert out.status == CommandStatus.NOT_COLLECTED
        assert out.error is not None and out.error.startswith("connection lost")


# -- timeouts -----------------------------------------------------------------------------------------


@pytest.fixture
def slow_show(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The fake answers ``show slow`` only once the returned event is set (or after 5 s)."""
    release = threading.Event()
    real_handle_line = IosCli.handle_line

    def handle_line(cli: IosCli, line: str) -> str:
        if line.strip() == "show slow":
            release.wait(5)
        return real_handle_line(cli, line)

    monkeypatch.setattr(IosCli, "handle_line", handle_line)
    return release


def test_timeout_is_recorded_and_the_session_recovers(
    host_key: paramiko.PKey,
    tmp_path: Path,
    slow_show: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_resync = AuditSession.resync

    def resync_after_release(session: AuditSession, timeout: float) -> bool:
        slow_show.set()  # the router answers only after we gave up waiting: no race
        return real_resync(session, 5.0)

    monkeypatch.setattr(AuditSession, "resync", resync_after_release)
    outputs = {**OUTPUTS, "show slow": "late\n"}
    with start_router(host_key, outputs) as router:
        target = trusted(router, tmp_path, timeout=0.3)
        snapshot = NetmikoCollector().collect(target, [SHOW_VERSION, "show slow", RUNNING_CONFIG])
    slow = snapshot.outputs["show slow"]
    assert slow.status == CommandStatus.TIMEOUT
    assert slow.error is not None and "timed out" in slow.error
    # The late answer was consumed by the resync, not taken for the next command's.
    assert snapshot.outputs[RUNNING_CONFIG].status == CommandStatus.OK
    assert snapshot.outputs[RUNNING_CONFIG].text == RUNNING


def test_timeout_without_recovery_stops_the_session(
    host_key: paramiko.PKey, tmp_path: Path, slow_show: threading.Event
) -> None:
    outputs = {**OUTPUTS, "show slow": "late\n"}
    with start_router(host_key, outputs) as router:
        target = trusted(router, tmp_path, timeout=0.2)
        snapshot = NetmikoCollector().collect(target, [SHOW_VERSION, "show slow", RUNNING_CONFIG])
        slow_show.set()
    assert snapshot.outputs[SHOW_VERSION].status == CommandStatus.OK
    assert snapshot.outputs["show slow"].status == CommandStatus.TIMEOUT
    rest = snapshot.outputs[RUNNING_CONFIG]
    assert rest.status == CommandStatus.NOT_COLLECTED
    assert rest.error is not None and "did not recover" in rest.error


# -- read-only guard ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "configure terminal",
        "write memory",
        "sh run",  # abbreviations are not recognisably read-only
        "show",
        "show running-config\nconfigure terminal",
        "show version\rreload",
        "show running-config | redirect flash:leak.txt",
        "show running-config | tee tftp://192.0.2.9/x",
        "show running-config |  Append flash:x",
        "enable",
        "terminal length 0",
    ],
)
def test_guard_refuses_anything_but_show(command: str) -> None:
    with pytest.raises(UsageError, match="refusing to send"):
        ensure_read_only(command)


def test_guard_runs_before_connecting(router: FakeRouter, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        NetmikoCollector().collect(trusted(router, tmp_path), [SHOW_VERSION, "configure terminal"])
    assert router.sessions == 0


def test_guard_accepts_show_commands() -> None:
    assert ensure_read_only("  show running-config | section telephony ") == (
        "show running-config | section telephony"
    )
    for command in AUDIT_COMMANDS:
        assert ensure_read_only(command) == command


# -- status classification ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "text", "status"),
    [
        (SHOW_VERSION, "Cisco IOS Software\n", CommandStatus.OK),
        (SHOW_VERSION, "        ^\n% Invalid input detected at '^' marker.\n\n", CommandStatus.REJECTED),
        ("show capf-server summary", "% Incomplete command.\n\n", CommandStatus.REJECTED),
        ("show ctl-client", '% Ambiguous command:  "show ctl"\n', CommandStatus.REJECTED),
        ("show ctl-client", "% Authorization failed.\n", CommandStatus.REJECTED),
        (RUNNING_CONFIG, "hostname R1\n!\nend\n\n", CommandStatus.OK),
        (RUNNING_CONFIG, "hostname R1\n!\ninterface Gi0/0\n", CommandStatus.TRUNCATED),
        (RUNNING_CONFIG, "", CommandStatus.UNRECOGNISED),
        ("show running-config | include hostname", "hostname R1\n", CommandStatus.OK),
    ],
)
def test_classify(command: str, text: str, status: CommandStatus) -> None:
    assert classify(command, text)[0] == status


def _netmiko_normalize_linefeeds(text: str) -> str:
    # netmiko 4's BaseConnection.normalize_linefeeds with RESPONSE_RETURN "\n", its regexes as written there
    text = re.compile("(\r\r\r\n|\r\r\n|\r\n|\n\r)").sub("\n", text)
    return re.sub("\r", "\n", text)


def test_line_breaks_are_normalised_as_netmiko_does() -> None:
    rng = random.Random(20261126)
    cases = ["", "a\r\nb\r\n", "a\n\r\nb", "\r\r\n", "\r\n\r", "x\ry", "\n\r\n\r\n"]
    cases += ["".join(rng.choice("\r\n\r\na") for _ in range(rng.randint(0, 12))) for _ in range(20000)]
    for text in cases:
        assert normalize_line_breaks(text) == _netmiko_normalize_linefeeds(text), repr(text)


def test_router_error_is_looked_for_in_the_first_six_lines_only() -> None:
    error = "% Invalid input detected at '^' marker."
    assert ios_error(f"\r\n{'a' * 2000}\r\n{error}\r\n") == error  # lines longer than any prefix read
    assert ios_error("\n".join(["x"] * 5 + [error])) == error
    assert ios_error("\n".join(["x"] * 6 + [error])) is None
    assert ios_error("\r".join(["x"] * 5 + [error])) == error  # every line break splitlines knows
    assert ios_error("ok\n" * 20000 + error) is None


def test_classify_keeps_the_router_error_line() -> None:
    assert classify("show x", "% Unknown command or computer name\n") == (
        CommandStatus.REJECTED,
        "% Unknown command or computer name",
    )


# -- secrets ------------------------------------------------------------------------------------------


def test_secrets_never_reach_the_logs(
    router: FakeRouter, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    NetmikoCollector().collect(trusted(router, tmp_path), [SHOW_VERSION, RUNNING_CONFIG])
    assert caplog.records, "expected the collection to log"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"{RUNNING_CONFIG} -> ok" in logged
    for secret in (PASSWORD, ENABLE_SECRET, CONFIG_SECRET):
        assert secret not in logged


def test_target_repr_hides_secrets() -> None:
    target = Target("192.0.2.1", username="auditor", password=PASSWORD, enable_secret=ENABLE_SECRET)
    shown = repr(target)
    assert "auditor" in shown and "192.0.2.1" in shown
    assert PASSWORD not in shown and ENABLE_SECRET not in shown


# -- replay -------------------------------------------------------------------------------------------


def test_replay_orders_by_commands_and_marks_missing(tmp_path: Path) -> None:
    stored = Snapshot(host="cme1", hostname="CME1")
    stored.outputs[RUNNING_CONFIG] = CommandOutput(RUNNING_CONFIG, CommandStatus.OK, RUNNING)
    stored.outputs[SHOW_VERSION] = CommandOutput(SHOW_VERSION, CommandStatus.OK, "v\n")
    stored.outputs["show extra"] = CommandOutput("show extra", CommandStatus.OK, "x\n")
    write_snapshot(stored, tmp_path / "snap", mask=False)
    commands = [SHOW_VERSION, "show ctl-client", RUNNING_CONFIG]
    replayed = ReplayCollector(tmp_path / "snap").collect(Target("cme1"), commands)
    assert list(replayed.outputs) == commands
    assert replayed.source == "replay"
    assert replayed.outputs[SHOW_VERSION].text == "v\n"
    assert replayed.outputs[RUNNING_CONFIG].text == RUNNING
    assert replayed.outputs["show ctl-client"].status == CommandStatus.NOT_COLLECTED


# -- the prompt at login ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "prompt"),
    [
        ("\r\nCME-Lab1>", "CME-Lab1>"),
        ("\r\nCME-Lab1# ", "CME-Lab1#"),  # a blank after the prompt
        ("\r\nCME-Lab1>CME-Lab1>CME-Lab1>", "CME-Lab1>"),  # glued: one prompt
        ("\r\nCME-Lab1> CME-Lab1>", "CME-Lab1>"),
        ("banner\nCME-Lab1#", "CME-Lab1#"),
        ("\r\nRouter#\r\n", None),  # a banner line: terminated, so not the prompt
        ("\r\nWelcome to CME-Lab1#", None),  # blanks: a sentence, not a prompt
        ("\r\nCME-Lab1>Router>", None),  # two different names glued: not one prompt
        ("\r\n####", None),
        ("", None),
    ],
)
def test_trailing_prompt(data: str, prompt: str | None) -> None:
    from cmelive.collect.live import _trailing_prompt

    assert _trailing_prompt(data) == prompt
