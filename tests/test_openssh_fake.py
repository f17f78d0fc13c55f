"""The fake IOS CLI behind a REAL OpenSSH server, as the login shell of a local user.

The test starts its own ``sshd -D`` on 127.0.0.1 (own config, host key, pid file, free port),
creates a system user whose login shell is the installed ``cmelive-fake-shell`` and logs in
with netmiko. It needs root and openssh-server; without them it skips, saying why.
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest
from netmiko import ConnectHandler
from netmiko.base_connection import BaseConnection
from netmiko.exceptions import NetmikoAuthenticationException

import cmelive

SSHD = Path("/usr/sbin/sshd")
USER = "cmelivefake"
SHELL_NAME = "cmelive-fake-shell"
LOCK_FILE = Path(tempfile.gettempdir()) / "cmelive-openssh-fake.lock"
ENABLE_SECRET = "openssh-enable-" + secrets.token_hex(4)
RUNNING_CONFIG = """\
Building configuration...

Current configuration : 210 bytes
!
hostname CMEOSSH
!
telephony-service
 max-ephones 10
!
line vty 0 4
 transport input ssh
!
end
"""
SHOW_VERSION = "Cisco IOS Software, 2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M8\n"
EPHONES = "ephone-3[2] Mac:00AA.BBCC.DDEE TCP socket:[7] activeLine:0 REGISTERED in SCCP ver 22/17\n"


@dataclass(frozen=True)
class OpensshRouter:
    port: int
    password: str
    command_log: Path


def _installed_shell() -> Path | None:
    # sys.prefix first: a pyenv shim found on PATH would not work for another user.
    beside = Path(sys.prefix) / "bin" / SHELL_NAME
    if beside.is_file():
        return beside
    found = shutil.which(SHELL_NAME)
    return Path(found) if found else None


def _interpreter(script: Path) -> Path:
    first = script.read_bytes().split(b"\n", 1)[0].decode()
    return Path(first[2:].split()[0]) if first.startswith("#!") else Path(sys.executable)


def _grant_traverse(paths: list[Path]) -> list[tuple[Path, int]]:
    """Let other users traverse the directories above ``paths`` (the interpreter may live under a
    0700 /root, as pyenv's does). Returns what was changed, to restore it afterwards."""
    changed: list[tuple[Path, int]] = []
    for path in paths:
        for directory in [path, *path.parents] if path.is_dir() else path.parents:
            mode = directory.stat().st_mode
            if not mode & stat.S_IXOTH and directory not in (d for d, _ in changed):
                os.chmod(directory, stat.S_IMODE(mode) | stat.S_IXOTH)
                changed.append((directory, stat.S_IMODE(mode)))
    return changed


def write_sshd_config(tmp: Path, settings: list[str], user: str = USER) -> Path:
    """``tmp/sshd_config`` for a test sshd: password logins of ``user`` only, the host key, pid file
    and log in ``tmp``; ``settings`` add the listen addresses and anything else (Match blocks last)."""
    config = tmp / "sshd_config"
    common = [
        f"HostKey {tmp / 'host_key'}",
        f"PidFile {tmp / 'sshd.pid'}",
        "UsePAM no",
        "PasswordAuthentication yes",
        "KbdInteractiveAuthentication no",
        "PubkeyAuthentication no",
        "AuthorizedKeysFile none",
        "PermitRootLogin no",
        f"AllowUsers {user}",
        "MaxStartups 100:30:200",
        "StrictModes no",
        "PrintMotd no",
        "PrintLastLog no",
        "UseDNS no",
        "LogLevel INFO",
    ]
    listen = [line for line in settings if line.startswith("ListenAddress")]
    rest = [line for line in settings if not line.startswith("ListenAddress")]
    config.write_text("\n".join([*listen, *common, *rest]) + "\n")
    return config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_listener(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    for _ in range(200):  # readiness, not timing: at most ~10 s
        if proc.poll() is not None:
            pytest.fail(f"sshd exited with {proc.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"sshd did not listen on port {port}: {log.read_text()}")


def _run(*command: str, input_text: str | None = None) -> None:
    subprocess.run(command, input=input_text, text=True, check=True, capture_output=True, timeout=60)


def require_root_and_sshd() -> None:
    """Skip, saying why, where a test cannot create a system user and run its own sshd."""
    if os.geteuid() != 0:
        pytest.skip("needs root: creates a system user and runs its own sshd")
    if not SSHD.is_file():
        pytest.skip(f"openssh-server is not installed ({SSHD} missing)")


@pytest.fixture(scope="module")
def openssh_router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpensshRouter]:
    require_root_and_sshd()
    shell = _installed_shell()
    if shell is None:
        pytest.skip(f"the {SHELL_NAME} console script is not installed (pip install the project)")
    tmp = tmp_path_factory.mktemp("sshd")
    password = secrets.token_urlsafe(12)
    with _machine_wide_lock():
        yield from _serve_with_openssh(shell, tmp, password)


@contextmanager
def _machine_wide_lock() -> Iterator[None]:
    """One run at a time per machine: the user, its home and the /root mode are machine-wide,
    and two test runs at once (two developers, or CI) would change them under each other."""
    with LOCK_FILE.open("a") as handle:
        for _ in range(1200):  # another run holds it for a few seconds; give up after ~2 min
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                time.sleep(0.1)
        else:
            pytest.skip(f"another test run holds {LOCK_FILE} (the OpenSSH fake is machine-wide)")
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _serve_with_openssh(
    shell: Path, tmp: Path, password: str, *, host_key: tuple[str, ...] = ("ed25519",), extra_config: tuple[str, ...] = ()
) -> Iterator[OpensshRouter]:
    """``host_key``: ssh-keygen's type and options (``("rsa", "-b", "2048")``); ``extra_config``:
    sshd_config lines appended (algorithm lists, for one)."""
    try:
        pwd.getpwnam(USER)
        _run("usermod", "-s", str(shell), USER)  # left by a run that could not remove it
    except KeyError:
        _run("useradd", "--create-home", "--shell", str(shell), USER)
    _run("chpasswd", input_text=f"{USER}:{password}\n")
    account = pwd.getpwnam(USER)
    home = Path(account.pw_dir)
    restore = _grant_traverse(
        [shell, _interpreter(shell).resolve(), Path(os.__file__).resolve(), Path(cmelive.__file__).resolve()]
    )
    proc: subprocess.Popen[bytes] | None = None
    try:
        snapshot = home / "snapshot"
        shutil.rmtree(snapshot, ignore_errors=True)
        snapshot.mkdir()
        (snapshot / "show_running-config.txt").write_text(RUNNING_CONFIG)
        (snapshot / "show_version.txt").write_text(SHOW_VERSION)
        (snapshot / "show_ephone_registered.txt").write_text(EPHONES)
        command_log = home / "commands.log"
        settings = {"snapshot": "snapshot", "enable_secret": ENABLE_SECRET, "command_log": "commands.log"}
        (home / ".cmelive-fake-shell.json").write_text(json.dumps(settings))
        for path in [home, snapshot, *snapshot.iterdir(), home / ".cmelive-fake-shell.json"]:
            os.chown(path, account.pw_uid, account.pw_gid)

        # The user must be able to run its login shell before sshd can: say so plainly if not.
        probe = subprocess.run(
            [str(shell), "-c", "show version"],
            user=account.pw_uid,
            group=account.pw_gid,
            extra_groups=[],
            env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            timeout=60,
        )
        assert probe.returncode == 0 and b"Cisco IOS" in probe.stdout, probe.stderr.decode()
        command_log.unlink(missing_ok=True)

        _run("ssh-keygen", "-q", "-t", *host_key, "-N", "", "-f", str(tmp / "host_key"))
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
        config = write_sshd_config(tmp, ["ListenAddress 127.0.0.1", *extra_config])
        port = _free_port()
        log = tmp / "sshd.log"
        with log.open("wb") as log_handle:
            proc = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config), "-p", str(port)],
                stdout=log_handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        _wait_for_listener(proc, port, log)
        yield OpensshRouter(port=port, password=password, command_log=command_log)
    finally:
        if proc is not None:
            _stop_sshd(proc)
        for directory, mode in reversed(restore):
            os.chmod(directory, mode)
        # The name is ours: remove the user whoever created it (fails harmlessly while a process
        # of that user is still around, e.g. a zombie nobody reaps; the next run reuses it).
        subprocess.run(["userdel", "--remove", USER], capture_output=True, timeout=60)


def _children(pid: int) -> list[int]:
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if int(fields[1]) == pid:
            found.append(int(stat_file.parent.name))
    return found


def _stop_sshd(proc: subprocess.Popen[bytes]) -> None:
    """Stop our sshd after its sessions: a session process it leaves behind is reparented to
    PID 1, which on some machines (containers, microVMs) never reaps it."""
    for _ in range(100):  # the clients have hung up; their sessions end within milliseconds
        sessions = _children(proc.pid)
        if not sessions:
            break
        time.sleep(0.05)
    else:
        for pid in sessions:  # still there: end them while our sshd can still reap them
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for _ in range(100):
            if not _children(proc.pid):
                break
            time.sleep(0.05)
    proc.terminate()
    proc.wait(timeout=10)


def netmiko_login(router: OpensshRouter, password: str | None = None) -> BaseConnection:
    return ConnectHandler(
        device_type="cisco_ios",
        host="127.0.0.1",
        port=router.port,
        username=USER,
        password=password or router.password,
        secret=ENABLE_SECRET,
    )


def test_netmiko_audits_the_fake_behind_openssh(openssh_router: OpensshRouter) -> None:
    device = netmiko_login(openssh_router)
    try:
        assert device.find_prompt() == "CMEOSSH>"
        device.enable()
        assert device.find_prompt() == "CMEOSSH#"
        assert device.send_command("terminal length 0") == ""
        assert device.send_command("show running-config") == RUNNING_CONFIG.rstrip("\n")
        assert device.send_command("show version") == SHOW_VERSION.rstrip("\n")
        assert device.send_command("sh ephone reg") == EPHONES.rstrip("\n")
        assert "% Invalid input detected at '^' marker." in device.send_command("configure terminal")
    finally:
        device.disconnect()
    logged = openssh_router.command_log.read_text().splitlines()
    sent = ["terminal length 0", "enable", "show running-config", "show version", "sh ephone reg", "configure terminal"]
    for command in sent:
        assert command in logged
    assert logged.index("enable") < logged.index("show running-config")
    assert not any(ENABLE_SECRET in line for line in logged)


def test_exec_request_runs_the_shell_with_dash_c(openssh_router: OpensshRouter) -> None:
    with paramiko.SSHClient() as client:
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect(
            "127.0.0.1", openssh_router.port, USER, openssh_router.password, allow_agent=False, look_for_keys=False
        )
        _, stdout, _ = client.exec_command("sh ver")
        assert stdout.read() == SHOW_VERSION.replace("\n", "\r\n").encode()
        assert stdout.channel.recv_exit_status() == 0
    assert "sh ver" in openssh_router.command_log.read_text().splitlines()


def test_concurrent_logins(openssh_router: OpensshRouter) -> None:
    def one_session(_: int) -> str:
        device = netmiko_login(openssh_router)
        try:
            return str(device.send_command("show version"))
        finally:
            device.disconnect()

    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(one_session, range(5)))
    assert answers == [SHOW_VERSION.rstrip("\n")] * 5


def test_wrong_password_is_refused(openssh_router: OpensshRouter) -> None:
    with pytest.raises(NetmikoAuthenticationException):
        netmiko_login(openssh_router, password="wrong-" + openssh_router.password)


@pytest.fixture(params=["raw", "cooked"])
def tty_mode(request: pytest.FixtureRequest, openssh_router: OpensshRouter) -> Iterator[str]:
    """The fake shell's tty: "raw" echoes as IOS does; "cooked" leaves it to the kernel's line
    discipline, which echoes every line the moment it arrives (a real Linux tty, not ours)."""
    settings_file = openssh_router.command_log.parent / ".cmelive-fake-shell.json"
    saved = settings_file.read_text()
    settings_file.write_text(json.dumps({**json.loads(saved), "tty": request.param}))
    try:
        yield str(request.param)
    finally:
        settings_file.write_text(saved)


def test_collector_reads_every_output_whole_behind_openssh(
    openssh_router: OpensshRouter, tty_mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cmelive.collect import Target
    from cmelive.collect.live import NetmikoCollector
    from cmelive.commands import CommandStatus

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    target = Target(
        "127.0.0.1",
        openssh_router.port,
        username=USER,
        password=openssh_router.password,
        enable_secret=ENABLE_SECRET,
        accept_new_host_key=True,
        timeout=15.0,
    )
    served = {
        "show version": SHOW_VERSION,
        "show running-config": RUNNING_CONFIG,
        "show ephone registered": EPHONES,
    }
    snapshot = NetmikoCollector().collect(target, list(served))

    assert snapshot.hostname == "CMEOSSH"
    for command, text in served.items():
        assert snapshot.outputs[command].status == CommandStatus.OK, (tty_mode, command)
        assert snapshot.outputs[command].text == text, (tty_mode, command)
