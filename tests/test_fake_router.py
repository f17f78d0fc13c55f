"""The fake IOS router: the exec emulation alone, then over real SSH (paramiko and netmiko)."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mockssh.server
import paramiko
import pytest
from netmiko import ConnectHandler
from netmiko.exceptions import NetmikoAuthenticationException

from cmelive.commands import CommandStatus
from cmelive.errors import InputError
from cmelive.fake.ios_cli import (
    ACCESS_DENIED,
    BAD_SECRETS,
    INVALID_INPUT,
    IosCli,
    TerminalSession,
    hostname_from,
)
from cmelive.fake.server import FakeRouter, from_snapshot_dir
from cmelive.snapshot import CommandOutput, Snapshot

RUNNING_CONFIG = """\
Building configuration...

Current configuration : 412 bytes
!
version 15.1
service password-encryption
!
hostname CME1
!
enable secret 5 $1$abcd$0123456789abcdefghij
!
telephony-service
 max-ephones 24
 ip source-address 10.0.0.1 port 2000
!
line vty 0 4
 password 7 0822455D0A16
 transport input ssh
!
end
"""
SHOW_VERSION = (
    "Cisco IOS Software, 2800 Software (C2800NM-ADVIPSERVICESK9-M), Version 15.1(4)M12a\n"
    "CME1 uptime is 2 weeks\n"
)
EPHONES = "ephone-1[0] Mac:0011.2233.4455 TCP socket:[1] activeLine:0 whisperLine:0 REGISTERED in SCCP ver 20/17\n"
OUTPUTS = {
    "show running-config": RUNNING_CONFIG,
    "show version": SHOW_VERSION,
    "show ephone registered": EPHONES,
    "show ctl-client": "CTL Client not configured\n",
    "show crypto key mypubkey rsa": "% Key name: TP-self-signed-1\n",
}
SECRET = "s3cret-enable"
PASSWORD = "login-pw"
# Commands that would change a router: never run, at any privilege level.
WRITES = [
    "configure terminal",
    "conf t",
    "write memory",
    "wr",
    "copy running-config startup-config",
    "reload",
    "clear counters",
    "debug all",
    "delete flash:vlan.dat",
    "erase startup-config",
    "show running-config | redirect flash:x",
]


def new_cli(privileged: bool = False, secret: str | None = SECRET) -> IosCli:
    return IosCli(OUTPUTS, "CME1", secret, privileged)


def caret(prompt: str, column: int) -> str:
    return " " * (len(prompt) + column) + "^\n" + INVALID_INPUT + "\n\n"


# ---------------------------------------------------------------------------------------------
# IosCli: the exec emulation, no transport


def test_prompts_follow_privilege() -> None:
    cli = new_cli()
    assert cli.prompt == "CME1>"
    assert new_cli(privileged=True).prompt == "CME1#"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("sh run", RUNNING_CONFIG),
        ("show running-config", RUNNING_CONFIG),
        ("sh ver", SHOW_VERSION),
        ("SHOW VERSION", SHOW_VERSION),
        ("sh ephone reg", EPHONES),
        ("  show   ephone  registered  ", EPHONES),
        ("sh ctl", "CTL Client not configured\n"),
        ("term len 0", ""),
        ("terminal length 0", ""),
        ("terminal width 511", ""),
        ("terminal no monitor", ""),
        ("term mon", ""),
        ("", ""),
    ],
)
def test_abbreviations_resolve_word_by_word(typed: str, expected: str) -> None:
    assert new_cli(privileged=True).handle_line(typed) == expected


def test_ambiguous_abbreviations() -> None:
    cli = new_cli(privileged=True)
    assert cli.handle_line("dis") == '% Ambiguous command:  "dis"\n'  # disable, disconnect
    assert cli.handle_line("sh c") == '% Ambiguous command:  "sh c"\n'  # ctl-client, crypto
    assert cli.handle_line("s") == '% Ambiguous command:  "s"\n'


def test_invalid_input_puts_the_caret_under_the_bad_word() -> None:
    cli = new_cli(privileged=True)
    assert cli.handle_line("show foo") == caret("CME1#", 5)
    assert cli.handle_line("show version extra") == caret("CME1#", 13)
    assert cli.handle_line("  frobnicate") == caret("CME1#", 2)
    assert cli.handle_line("terminal length 999") == caret("CME1#", 16)
    # As a terminal shows it: the echoed command, the caret line under it, the message.
    screen = TerminalSession(cli).feed("show foo\r")
    assert screen == "show foo\r\n          ^\r\n% Invalid input detected at '^' marker.\r\n\r\nCME1#"


def test_incomplete_commands() -> None:
    cli = new_cli()
    assert cli.handle_line("show") == '% Type "show ?" for a list of subcommands\n'
    assert cli.handle_line("terminal length") == "% Incomplete command.\n\n"


def test_enable_with_the_right_secret() -> None:
    cli = new_cli()
    assert cli.handle_line("enable") == ""
    assert cli.awaiting_secret and cli.prompt == "Password: "
    assert cli.handle_line(SECRET) == ""
    assert cli.privileged and cli.prompt == "CME1#"
    assert cli.handle_line("enable") == ""  # already privileged: nothing to ask
    assert cli.handle_line("disable") == ""
    assert cli.prompt == "CME1>"


def test_enable_with_a_wrong_secret() -> None:
    cli = new_cli()
    answers = []
    for _ in range(3):
        assert cli.handle_line("en") == ""
        answers.append(cli.handle_line("wrong"))
        assert not cli.privileged and cli.prompt == "CME1>"
    assert answers == [ACCESS_DENIED + "\n\n", ACCESS_DENIED + "\n\n", BAD_SECRETS + "\n\n"]


def test_enable_without_a_secret_configured() -> None:
    cli = new_cli(secret=None)
    assert cli.handle_line("enable") == "% No password set\n\n"
    assert not cli.privileged and not cli.awaiting_secret


def test_running_config_is_refused_at_privilege_1() -> None:
    cli = new_cli()
    assert cli.handle_line("show running-config") == caret("CME1>", 5)
    assert cli.handle_line("sh run") == caret("CME1>", 3)
    assert cli.handle_line("show version") == SHOW_VERSION  # other shows in the snapshot are fine
    assert cli.handle_line("show startup-config") == caret("CME1>", 5)
    cli.handle_line("enable")
    cli.handle_line(SECRET)
    assert cli.handle_line("show running-config") == RUNNING_CONFIG


def test_show_privilege_is_built_in() -> None:
    assert new_cli().handle_line("show privilege") == "Current privilege level is 1\n"
    assert new_cli(privileged=True).handle_line("sh priv") == "Current privilege level is 15\n"


@pytest.mark.parametrize("privileged", [False, True], ids=["user", "privileged"])
@pytest.mark.parametrize("command", WRITES)
def test_write_commands_are_refused(command: str, privileged: bool) -> None:
    cli = new_cli(privileged=privileged)
    answer = cli.handle_line(command)
    assert INVALID_INPUT in answer
    assert answer.startswith(" " * len(cli.prompt))  # a caret line, not an output
    assert cli.privileged is privileged and not cli.closed and cli.prompt.startswith("CME1")


def test_pipe_filters() -> None:
    cli = new_cli(privileged=True)
    assert cli.handle_line("show running-config | include hostname") == "hostname CME1\n"
    assert cli.handle_line("sh run | i ^line") == "line vty 0 4\n"
    assert cli.handle_line("sh run | sec telephony") == (
        "telephony-service\n max-ephones 24\n ip source-address 10.0.0.1 port 2000\n"
    )
    assert cli.handle_line("sh run | begin ^line") == (
        "line vty 0 4\n password 7 0822455D0A16\n transport input ssh\n!\nend\n"
    )
    assert cli.handle_line("sh run | count ^!") == "Number of lines which match regexp = 6\n"
    assert "hostname" not in cli.handle_line("sh run | exclude hostname")


@pytest.mark.parametrize("command", ["exit", "logout", "quit", "exi"])
def test_exit_closes_the_session(command: str) -> None:
    cli = new_cli()
    assert cli.handle_line(command) == ""
    assert cli.closed
    assert cli.handle_line("show version") == ""  # nothing runs after the session closed


def test_command_log_holds_every_command_but_never_the_secret() -> None:
    seen: list[str] = []
    cli = IosCli(OUTPUTS, "CME1", SECRET, on_command=seen.append)
    for line in ["terminal length 0", "", "enable", "bad-guess", "enable", SECRET, "sh run", "conf t", "exit"]:
        cli.handle_line(line)
    expected = ["terminal length 0", "enable", "enable", "sh run", "conf t", "exit"]
    assert cli.command_log == expected
    assert seen == expected
    assert not any(SECRET in line or "bad-guess" in line for line in cli.command_log)


def test_outputs_must_be_show_commands() -> None:
    with pytest.raises(ValueError, match="only replays show commands"):
        IosCli({"configure terminal": ""}, "R1", None)


def test_hostname_comes_from_the_running_config() -> None:
    assert hostname_from(OUTPUTS) == "CME1"
    assert hostname_from(OUTPUTS, "FromMeta") == "FromMeta"
    assert hostname_from({"show version": SHOW_VERSION}) == "Router"


def test_terminal_session_line_editing() -> None:
    cli = new_cli()
    session = TerminalSession(cli)
    assert session.greeting() == "\r\nCME1>"
    # Typed one key at a time, with a typo fixed by backspace (DEL and ^H), \r\n as one Enter.
    screen = "".join(session.feed(key) for key in "sh verx\x7f\x08r\r\n")
    assert screen == "sh verx\b \b\b \br\r\n" + SHOW_VERSION.replace("\n", "\r\n") + "CME1>"
    # The same lines pasted in one chunk, \n and \r alike; an empty line reprints the prompt.
    assert session.feed("term len 0\n\rsh ver\n") == (
        "term len 0\r\nCME1>\r\nCME1>sh ver\r\n" + SHOW_VERSION.replace("\n", "\r\n") + "CME1>"
    )
    assert session.feed("\x1b[Ashow priv\r") == "show priv\r\nCurrent privilege level is 1\r\nCME1>"


def test_terminal_session_does_not_echo_the_secret() -> None:
    session = TerminalSession(new_cli())
    assert session.feed("enable\r") == "enable\r\nPassword: "
    assert session.feed(SECRET[:3]) == ""
    assert session.feed(SECRET[3:] + "\r") == "\r\nCME1#"
    assert session.feed("exit\rshow version\r") == "exit\r\n"
    assert session.closed


# ---------------------------------------------------------------------------------------------
# FakeRouter over real SSH


@pytest.fixture(scope="module")
def router() -> Iterator[FakeRouter]:
    with FakeRouter(OUTPUTS, password=PASSWORD, enable_secret=SECRET) as fake:
        yield fake


def connect(router: FakeRouter, password: str = PASSWORD) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.get_host_keys().add(f"[{router.host}]:{router.port}", router.host_key.get_name(), router.host_key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        router.host, router.port, "admin", password, allow_agent=False, look_for_keys=False, timeout=10
    )
    return client


def read_until(channel: paramiko.Channel, ending: str) -> str:
    """Read the shell until the text ends with ``ending`` (a prompt); 10 s socket timeout."""
    channel.settimeout(10)
    received = b""
    while not received.decode("utf-8", "replace").endswith(ending):
        chunk = channel.recv(65536)
        if not chunk:
            break
        received += chunk
    return received.decode("utf-8", "replace")


def test_paramiko_shell_session(router: FakeRouter) -> None:
    with connect(router) as client:
        channel = client.invoke_shell()
        screen = read_until(channel, "CME1>")
        assert screen == "\r\nCME1>"
        channel.sendall(b"terminal length 0\n")
        assert read_until(channel, "CME1>") == "terminal length 0\r\nCME1>"
        channel.sendall(b"enable\n")
        assert read_until(channel, "Password: ") == "enable\r\nPassword: "
        channel.sendall(SECRET.encode() + b"\n")
        assert read_until(channel, "CME1#") == "\r\nCME1#"  # the secret is not echoed
        channel.sendall(b"show running-config\n")
        answer = read_until(channel, "CME1#")
        assert answer == "show running-config\r\n" + RUNNING_CONFIG.replace("\n", "\r\n") + "CME1#"
        channel.sendall(b"exit\n")
        assert read_until(channel, "never printed") == "exit\r\n"  # then the router hangs up
        assert channel.eof_received


def test_netmiko_session(router: FakeRouter) -> None:
    before = len(router.command_log)
    device = ConnectHandler(
        device_type="cisco_ios",
        host=router.host,
        port=router.port,
        username="admin",
        password=PASSWORD,
        secret=SECRET,
    )
    try:
        assert device.find_prompt() == "CME1>"
        device.enable()
        assert device.find_prompt() == "CME1#"
        assert device.send_command("terminal length 0") == ""
        assert device.send_command("show running-config") == RUNNING_CONFIG.rstrip("\n")
        assert device.send_command("sh ver") == SHOW_VERSION.rstrip("\n")
        invalid = device.send_command("show bogus")
        assert "% Invalid input detected at '^' marker." in invalid
    finally:
        device.disconnect()
    log = router.command_log[before:]
    assert log[:3] == ["terminal width 511", "terminal length 0", "enable"]
    for command in ("show running-config", "sh ver", "show bogus"):
        assert command in log
    assert not any(SECRET in line for line in router.command_log)


def test_netmiko_refused_with_a_wrong_password(router: FakeRouter) -> None:
    with pytest.raises(NetmikoAuthenticationException):
        ConnectHandler(
            device_type="cisco_ios",
            host=router.host,
            port=router.port,
            username="admin",
            password="not-the-password",
            secret=SECRET,
        )


def test_netmiko_enable_with_a_wrong_secret_fails(router: FakeRouter) -> None:
    device = ConnectHandler(
        device_type="cisco_ios", host=router.host, port=router.port, username="admin", password=PASSWORD, secret="no"
    )
    try:
        with pytest.raises(ValueError, match="Failed to enter enable mode"):
            device.enable()
        assert device.find_prompt() == "CME1>"
    finally:
        device.disconnect()


def test_publickey_login(router: FakeRouter, tmp_path: Path) -> None:
    key = paramiko.RSAKey.generate(2048)
    key_path = tmp_path / "id_rsa"
    key.write_private_key_file(str(key_path))
    router.add_user("keyuser", str(key_path))
    with router.client("keyuser") as client:
        assert client.get_transport() is not None
        channel = client.invoke_shell()
        assert read_until(channel, "CME1>").endswith("CME1>")
    other = paramiko.RSAKey.generate(1024)
    with pytest.raises(paramiko.AuthenticationException), paramiko.SSHClient() as stranger:
        stranger.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        stranger.connect(router.host, router.port, "keyuser", pkey=other, allow_agent=False, look_for_keys=False)


def test_exec_request_runs_one_command(router: FakeRouter) -> None:
    with connect(router) as client:
        _, stdout, _ = client.exec_command("show version")
        assert stdout.read().decode() == SHOW_VERSION.replace("\n", "\r\n")
        assert stdout.channel.recv_exit_status() == 0


def test_twenty_concurrent_sessions(router: FakeRouter) -> None:
    sessions_before = router.sessions

    def one_session(index: int) -> str:
        with connect(router) as client:
            channel = client.invoke_shell()
            read_until(channel, "CME1>")
            channel.sendall(b"show version\nshow ctl-client\n")
            screen = read_until(channel, "show ctl-client\r\nCTL Client not configured\r\nCME1>")
            channel.sendall(b"exit\n")
            return screen

    with ThreadPoolExecutor(max_workers=20) as pool:
        screens = list(pool.map(one_session, range(20)))
    assert all(SHOW_VERSION.replace("\n", "\r\n") in screen for screen in screens)
    assert router.sessions == sessions_before + 20


def test_logout_hangs_up_without_a_reset(router: FakeRouter, caplog: pytest.LogCaptureFixture) -> None:
    """After ``exit`` the router waits for the client to hang up before closing its socket.

    Closing it with the client's answer to the channel close still unread makes the kernel send
    a reset, which the client's paramiko logs as an ERROR ("Socket exception: Connection reset
    by peer"); a fleet audit would log that for a good share of its routers.
    """
    with caplog.at_level(logging.ERROR, logger="paramiko.transport"):
        for _ in range(15):
            with connect(router) as client:
                channel = client.invoke_shell()
                read_until(channel, "CME1>")
                channel.sendall(b"show version\nexit\n")
                read_until(channel, "never printed")  # to the router's EOF
                transport = client.get_transport()
                assert transport is not None
                transport.join(0.05)  # the client's transport thread reads on for a moment
    assert [record.getMessage() for record in caplog.records] == []
    assert router.open_connections == 0 or wait_until(lambda: router.open_connections == 0)


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_host_key_is_fresh_per_server(router: FakeRouter) -> None:
    bundled = paramiko.RSAKey.from_private_key_file(mockssh.server.SERVER_KEY_PATH)
    assert router.host_key != bundled
    assert router.host_key.get_bits() == 2048
    with FakeRouter(OUTPUTS) as other:
        assert other.host_key != router.host_key
    with connect(router) as client:
        transport = client.get_transport()
        assert transport is not None
        assert transport.get_remote_server_key() == router.host_key


def test_known_hosts_line_is_openssh_format(router: FakeRouter, tmp_path: Path) -> None:
    line = router.known_hosts_line()
    assert line == f"[127.0.0.1]:{router.port} ssh-rsa {router.host_key.get_base64()}"
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(line + "\n")
    with paramiko.SSHClient() as client:
        client.load_host_keys(str(known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())  # only the line above is trusted
        client.connect(router.host, router.port, "admin", PASSWORD, allow_agent=False, look_for_keys=False)


def test_known_hosts_line_on_port_22_has_a_bare_host() -> None:
    fake = FakeRouter(OUTPUTS, host_key=paramiko.RSAKey.generate(1024))
    fake._bound_port = 22  # never listens: only the formatting is under test
    assert fake.known_hosts_line().startswith("127.0.0.1 ssh-rsa AAAA")


def test_accept_thread_survives_deprecation_warnings_as_errors() -> None:
    # mock-ssh's own threads call setDaemon(): under -W error its accept thread died at start.
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        with FakeRouter(OUTPUTS, password=PASSWORD) as fake:
            for _ in range(3):
                with connect(fake) as client:
                    channel = client.invoke_shell()
                    assert read_until(channel, "CME1>").endswith("CME1>")
            assert fake._thread is not None and fake._thread.is_alive()


def test_whole_module_under_deprecation_errors_in_a_subprocess() -> None:
    """The same check from outside: a fresh interpreter with -W error::DeprecationWarning."""
    script = (
        "import paramiko\n"
        "from cmelive.fake import FakeRouter\n"
        "with FakeRouter({'show version': 'IOS\\n'}, password='pw') as r:\n"
        "    for _ in range(2):\n"
        "        c = paramiko.SSHClient(); c.set_missing_host_key_policy(paramiko.AutoAddPolicy())\n"
        "        c.connect(r.host, r.port, 'admin', 'pw', allow_agent=False, look_for_keys=False)\n"
        "        print(c.exec_command('show version')[1].read().decode().strip()); c.close()\n"
        "    print('alive' if r._thread.is_alive() else 'dead')\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["IOS", "IOS", "alive"]
    assert "Exception in thread" not in done.stderr


def test_stop_closes_sessions_and_frees_the_port() -> None:
    fake = FakeRouter(OUTPUTS, password=PASSWORD).start()
    client = connect(fake)
    channel = client.invoke_shell()
    read_until(channel, "CME1>")
    port = fake.port
    fake.stop()
    fake.stop()  # idempotent
    assert read_until(channel, "never") == ""  # the open session was closed
    client.close()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    assert not any(t.name == f"fake-router-{port}" for t in threading.enumerate())


def test_serves_a_snapshot() -> None:
    snapshot = Snapshot(
        host="10.0.0.1",
        hostname="BRANCH7",
        outputs={
            "show running-config": CommandOutput("show running-config", CommandStatus.TRUNCATED, "hostname X\n!\n"),
            "show version": CommandOutput("show version", CommandStatus.OK, SHOW_VERSION),
            "show ctl-client": CommandOutput(
                "show ctl-client", CommandStatus.REJECTED, "% Invalid input", error="% Invalid input"
            ),
        },
    )
    fake = FakeRouter(snapshot, host_key=paramiko.RSAKey.generate(1024))
    assert fake.hostname == "BRANCH7"
    assert set(fake.outputs) == {"show running-config", "show version"}  # rejected output not replayed


def test_from_snapshot_dir(tmp_path: Path) -> None:
    (tmp_path / "show_running-config.txt").write_text(RUNNING_CONFIG)
    (tmp_path / "show_version.txt").write_text(SHOW_VERSION)
    with from_snapshot_dir(tmp_path, password=PASSWORD, privileged_login=True) as fake:
        assert fake.hostname == "CME1"
        with connect(fake) as client:
            channel = client.invoke_shell()
            read_until(channel, "CME1#")
            channel.sendall(b"sh run\n")
            assert RUNNING_CONFIG.replace("\n", "\r\n") in read_until(channel, "end\r\nCME1#")
    with pytest.raises(InputError, match="does not exist"):
        from_snapshot_dir(tmp_path / "missing")


# ---------------------------------------------------------------------------------------------
# cmelive fake-router


def run_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from cmelive.cli import main; main()", "fake-router", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def test_cli_serves_until_ctrl_c(tmp_path: Path) -> None:
    (tmp_path / "show_running-config.txt").write_text(RUNNING_CONFIG)
    (tmp_path / "show_version.txt").write_text(SHOW_VERSION)
    proc = run_cli(str(tmp_path), "-u", "ops", "--password", "pw1", "--enable-secret", "en1")
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        found = re.fullmatch(r"fake router CME1 listening on 127\.0\.0\.1:(\d+) \(user ops\)\n", banner)
        assert found, banner
        port = int(found.group(1))
        assert proc.stdout.readline().startswith(f"[127.0.0.1]:{port} ssh-rsa AAAA")
        with paramiko.SSHClient() as client:
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
            client.connect("127.0.0.1", port, "ops", "pw1", allow_agent=False, look_for_keys=False)
            channel = client.invoke_shell()
            read_until(channel, "CME1>")
            channel.sendall(b"enable\n")
            read_until(channel, "Password: ")
            channel.sendall(b"en1\n")
            assert read_until(channel, "CME1#").endswith("CME1#")
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_cli_bad_snapshot_dir_exits_2_with_one_line(tmp_path: Path) -> None:
    proc = run_cli(str(tmp_path / "nope"))
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert stdout == ""
    assert stderr.strip().splitlines() == [f"cmelive: error: {tmp_path / 'nope'}: snapshot directory does not exist"]


def test_shell_settings_and_exec_mode(tmp_path: Path) -> None:
    """cmelive-fake-shell without sshd: settings file, -c COMMAND, piped session, command log."""
    snapshot = tmp_path / "snap"
    snapshot.mkdir()
    (snapshot / "show_running-config.txt").write_text(RUNNING_CONFIG)
    (snapshot / "show_version.txt").write_text(SHOW_VERSION)
    settings = {"snapshot": "snap", "enable_secret": SECRET, "command_log": "commands.log"}
    (tmp_path / ".cmelive-fake-shell.json").write_text(json.dumps(settings))
    env = {**os.environ, "HOME": str(tmp_path)}
    shell = [sys.executable, "-c", "import sys; from cmelive.fake.shell import main; sys.exit(main())"]

    # Bytes, not text: the \r\n line endings are part of what is checked.
    one = subprocess.run([*shell, "-c", "sh ver"], env=env, capture_output=True, timeout=60)
    assert one.returncode == 0, one.stderr
    assert one.stdout == SHOW_VERSION.replace("\n", "\r\n").encode()

    typed = f"enable\n{SECRET}\nsh run | i hostname\nexit\n".encode()
    piped = subprocess.run(shell, input=typed, env=env, capture_output=True, timeout=60)
    assert piped.returncode == 0, piped.stderr
    assert b"\r\nhostname CME1\r\nCME1#" in piped.stdout
    assert SECRET.encode() not in piped.stdout
    log = (tmp_path / "commands.log").read_text().splitlines()
    assert log == ["sh ver", "enable", "sh run | i hostname", "exit"]

    (tmp_path / ".cmelive-fake-shell.json").write_text("{}")
    broken = subprocess.run(shell, env=env, capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1
    assert '"snapshot" directory' in broken.stderr
