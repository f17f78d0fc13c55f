"""fakenos's IOS command line behind a REAL OpenSSH server, on a real pty: the immediate-echo case.

``tests/fakenos_login_shell.py`` makes fakenos's ``CMDShell`` (its ``cisco_ios`` NOS, unchanged)
a local user's login shell; the test runs its own ``sshd`` on two 127.0.0.1 ports (the second
sets ``FAKENOS_TTY=-onlcr``). There the kernel's tty, not the shell, echoes: every byte at once
when it arrives, typed-ahead lines before the shell has printed anything. So the collector's
two typed-ahead terminal settings come back as ``terminal length 0\\r\\nterminal width 0\\r\\n``
before the banner, followed by three prompts glued on one line (``R>R>R>``), and each output
line ends in ``\\r\\r\\n`` (``\\r\\n`` with ``-onlcr``, whose echo ends in a bare ``\\n``).

Plain netmiko reads this router right, and so does cmelive's collector, which types nothing
ahead and recognises glued prompts (before issue 9's rewrite it gave up with "no usable prompt
after login"). Needs root and openssh-server, as
``test_openssh_fake.py`` does (whose sshd helpers and machine-wide lock this module shares).
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import fakenos
import paramiko
import pytest
import yaml
from netmiko import ConnectHandler

from cmelive.collect import Target
from cmelive.collect.live import NetmikoCollector
from cmelive.commands import AUDIT_COMMANDS, SHOW_VERSION

from . import fakenos_login_shell
from .fakenos_emulator import ENABLE_SECRET, Variant, read_until
from .test_openssh_fake import (
    SSHD,
    _free_port,
    _grant_traverse,
    _machine_wide_lock,
    _run,
    _stop_sshd,
    _wait_for_listener,
    require_root_and_sshd,
    write_sshd_config,
)

USER = "cmelivefakenos"
HOSTNAME = "CMEFAKENOS"
VARIANT = Variant("behind-openssh", "insecure-cme", enable_secret=True)
TTY_MODES = ("onlcr", "-onlcr")


@dataclass(frozen=True)
class OpensshFakenos:
    ports: dict[str, int]  # tty mode -> port
    password: str
    known_hosts: Path
    command_log: Path

    def target(self, tty: str, timeout: float) -> Target:
        return Target(
            "127.0.0.1",
            self.ports[tty],
            USER,
            self.password,
            enable_secret=ENABLE_SECRET,
            known_hosts=(self.known_hosts,),
            timeout=timeout,
        )


@pytest.fixture(scope="module")
def openssh_fakenos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpensshFakenos]:
    require_root_and_sshd()
    tmp = tmp_path_factory.mktemp("sshd-fakenos")
    with _machine_wide_lock():
        yield from _serve(tmp)


def _serve(tmp: Path) -> Iterator[OpensshFakenos]:
    try:
        pwd.getpwnam(USER)  # left by a run that could not remove it
    except KeyError:
        _run("useradd", "--create-home", "--shell", "/bin/false", USER)
    password = secrets.token_urlsafe(12)
    _run("chpasswd", input_text=f"{USER}:{password}\n")
    account = pwd.getpwnam(USER)
    home = Path(account.pw_dir)
    shell = home / "fakenos-login-shell"
    interpreter = Path(sys.executable)
    # The user runs our interpreter, its standard library and the installed fakenos and yaml.
    restore = _grant_traverse(
        [
            interpreter.resolve(),
            Path(os.__file__).resolve(),
            Path(fakenos.__file__).resolve(),
            Path(yaml.__file__).resolve(),
        ]
    )
    proc: subprocess.Popen[bytes] | None = None
    try:
        shell.write_text(f"#!{interpreter}\n" + Path(fakenos_login_shell.__file__).read_text(encoding="utf-8"))
        shell.chmod(0o755)
        settings = {"hostname": HOSTNAME, "commands": VARIANT.commands()}
        (home / fakenos_login_shell.SETTINGS).write_text(json.dumps(settings), encoding="utf-8")
        command_log = home / fakenos_login_shell.COMMAND_LOG
        command_log.unlink(missing_ok=True)
        for path in (home, shell, home / fakenos_login_shell.SETTINGS):
            os.chown(path, account.pw_uid, account.pw_gid)
        _run("usermod", "-s", str(shell), USER)

        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / "host_key"))
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
        ports = {tty: _free_port() for tty in TTY_MODES}
        config = write_sshd_config(
            tmp,
            [
                *(f"ListenAddress 127.0.0.1:{port}" for port in ports.values()),
                f"Match LocalPort {ports['-onlcr']}",
                "    SetEnv FAKENOS_TTY=-onlcr",
            ],
            user=USER,
        )
        public = " ".join((tmp / "host_key.pub").read_text().split()[:2])
        known_hosts = tmp / "known_hosts"
        known_hosts.write_text("".join(f"[127.0.0.1]:{port} {public}\n" for port in ports.values()))
        log = tmp / "sshd.log"
        with log.open("wb") as log_handle:
            proc = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config)],
                stdout=log_handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        for port in ports.values():
            _wait_for_listener(proc, port, log)
        yield OpensshFakenos(ports, password, known_hosts, command_log)
    finally:
        if proc is not None:
            _stop_sshd(proc)
        for directory, mode in reversed(restore):
            os.chmod(directory, mode)
        subprocess.run(["userdel", "--remove", USER], capture_output=True, timeout=60)


def _wait_for_sessions_to_end(uid: int) -> None:
    """Until no process of ``uid`` is left (its login shells), at most ~10 s."""
    for _ in range(200):
        if not any(_owner(status) == uid for status in Path("/proc").glob("[0-9]*/status")):
            return
        time.sleep(0.05)


def _owner(status: Path) -> int | None:
    try:
        for line in status.read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        return None  # the process ended while we looked
    return None


@pytest.mark.parametrize("tty", TTY_MODES)
def test_raw_stream(tty: str, openssh_fakenos: OpensshFakenos) -> None:
    """What the collector's login meets there, byte for byte, read with a raw paramiko shell."""
    out = b"\r\n" if tty == "onlcr" else b"\n"  # what the tty makes of a "\n" written or echoed
    prompt = HOSTNAME.encode()
    with paramiko.SSHClient() as client:
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.load_host_keys(str(openssh_fakenos.known_hosts))
        client.connect(
            "127.0.0.1", openssh_fakenos.ports[tty], USER, openssh_fakenos.password,
            look_for_keys=False, allow_agent=False, timeout=10,
        )
        channel = client.invoke_shell()
        # Typed at once, as the collector types its terminal settings: the tty echoes both lines
        # before fakenos has started (so with the tty's defaults: "\r\n"), then the shell prints
        # its banner and a prompt per line it reads: three prompts on one line.
        channel.sendall(b"terminal length 0\nterminal width 0\n")
        login = read_until(channel, prompt + b">" + prompt + b">" + prompt + b">")
        typed_ahead_echo = b"terminal length 0\r\nterminal width 0\r\n"
        assert login == typed_ahead_echo + b"Custom SSH Shell" + out + (prompt + b">") * 3
        channel.sendall(b"enable\n")
        assert read_until(channel, b"Password: ") == b"enable" + out + b"Password: "
        channel.sendall(ENABLE_SECRET.encode() + b"\n")
        # The tty echoes the secret too (fakenos never turns echo off).
        assert read_until(channel, prompt + b"#") == ENABLE_SECRET.encode() + out + prompt + b"#"
        channel.sendall(b"show version\n")
        answer = read_until(channel, b"\n" + prompt + b"#")
        lines = VARIANT.output(SHOW_VERSION).splitlines()
        assert answer == b"show version" + out + b"".join(line.encode() + b"\r" + out for line in lines) + prompt + b"#"


@pytest.mark.parametrize("tty", TTY_MODES)
def test_netmiko_reads_it_right(tty: str, openssh_fakenos: OpensshFakenos) -> None:
    """The baseline: plain netmiko, one command at a time, gets every output."""
    device = ConnectHandler(
        device_type="cisco_ios",
        host="127.0.0.1",
        port=openssh_fakenos.ports[tty],
        username=USER,
        password=openssh_fakenos.password,
        secret=ENABLE_SECRET,
        ssh_strict=True,
        system_host_keys=False,
        alt_host_keys=True,
        alt_key_file=str(openssh_fakenos.known_hosts),
    )
    try:
        device.enable()
        assert device.find_prompt() == HOSTNAME + "#"
        for command in AUDIT_COMMANDS:
            # netmiko drops the prompt line and the line break before it, nothing else.
            assert device.send_command(command) == VARIANT.served(command)[:-1], command
    finally:
        device.disconnect()


@pytest.mark.parametrize("tty", TTY_MODES)
def test_collector_gets_every_output(tty: str, openssh_fakenos: OpensshFakenos) -> None:
    # An earlier test's shell may still be logging its 'exit' after that client hung up.
    _wait_for_sessions_to_end(pwd.getpwnam(USER).pw_uid)
    openssh_fakenos.command_log.unlink(missing_ok=True)
    snapshot = NetmikoCollector().collect(openssh_fakenos.target(tty, timeout=5), AUDIT_COMMANDS)
    assert snapshot.hostname == HOSTNAME
    statuses = VARIANT.expected_statuses()
    for command in AUDIT_COMMANDS:
        output = snapshot.outputs[command]
        assert output.text == VARIANT.served(command), command
        assert output.status == statuses[command], command
        assert ENABLE_SECRET not in output.text
    ran = openssh_fakenos.command_log.read_text(encoding="utf-8").splitlines()
    assert ran in (VARIANT.expected_lines(), [*VARIANT.expected_lines(), "exit"])
