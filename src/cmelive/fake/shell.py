"""``cmelive-fake-shell``: the fake IOS CLI as a login shell, for a real OpenSSH server.

Make it a local user's login shell and sshd serves that user a fake router: the same
:class:`IosCli` as :class:`cmelive.fake.FakeRouter`, behind the real thing. Settings come from
``$HOME/.cmelive-fake-shell.json``::

    {"snapshot": "snap",              # snapshot directory (relative to $HOME or absolute)
     "enable_secret": "cisco-enable", # optional; absent or null: "% No password set"
     "command_log": "commands.log",   # optional; every command typed is appended there
     "privileged": false,             # optional; true logs in at privilege 15
     "hostname": "CME1",              # optional; default: the snapshot's hostname
     "tty": "raw",                    # optional; "cooked" leaves the echo to the kernel's tty
     "faults": {"flood_on": ["show running-config"]}}  # optional; Faults' options

sshd runs a login shell as ``-cmelive-fake-shell`` for an interactive session and as
``cmelive-fake-shell -c COMMAND`` when the client names a command; both are served.

``faults`` takes the options of :class:`~cmelive.fake.faults.Faults` that a shell can act on:
the CLI's (``fail_enable``, ``no_cme``, ``hang_on``, ``drop_on``) and the outputs that never end
(``flood_on``, ``drip_on``, ``endless_on``, ``flood_before_prompt``); logins and latency are
sshd's. A streaming output is written to the terminal piece by piece, each write waiting while
sshd reads nothing; when the client leaves, the write fails (or SIGHUP ends the shell).
"""

from __future__ import annotations

import codecs
import json
import os
import sys
import termios
import time
import tty
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from pathlib import Path

from cmelive.errors import InputError
from cmelive.fake.faults import FLOOD_BEFORE_PROMPT_TEXT, STREAMING, Faults, SessionFault, stream_pieces
from cmelive.fake.ios_cli import IosCli, TerminalSession, hostname_from, outputs_from_snapshot
from cmelive.fake.terminal import TerminalStyle
from cmelive.snapshot import read_snapshot

CONFIG_FILE = ".cmelive-fake-shell.json"
EXIT_OK = 0
EXIT_BAD_SETUP = 1


@dataclass(frozen=True)
class ShellSettings:
    """What ``$HOME/.cmelive-fake-shell.json`` says."""

    snapshot: Path
    enable_secret: str | None = None
    command_log: Path | None = None
    privileged: bool = False
    hostname: str | None = None
    #: "raw": the shell echoes as IOS does, key by key as it reads; "cooked": the kernel's tty
    #: echoes every line the moment it arrives, typed-ahead lines included (ECHO, ICANON, ONLCR).
    tty: str = "raw"
    faults: Faults = Faults()


def load_settings(home: Path) -> ShellSettings:
    """Read and check the settings file in ``home``; raises InputError naming what is wrong."""
    path = home / CONFIG_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(str(path), "settings file missing") from exc
    except OSError as exc:
        raise InputError(str(path), f"cannot read settings: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"invalid JSON: {exc.msg}", line=exc.lineno) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("snapshot"), str):
        raise InputError(str(path), 'expected a JSON object with a "snapshot" directory')
    secret = raw.get("enable_secret")
    log_file = raw.get("command_log")
    hostname = raw.get("hostname")
    if secret is not None and not isinstance(secret, str):
        raise InputError(str(path), '"enable_secret" must be a string or null')
    if log_file is not None and not isinstance(log_file, str):
        raise InputError(str(path), '"command_log" must be a file path or null')
    if hostname is not None and not isinstance(hostname, str):
        raise InputError(str(path), '"hostname" must be a string or null')
    tty_mode = raw.get("tty", "raw")
    if tty_mode not in ("raw", "cooked"):
        raise InputError(str(path), '"tty" must be "raw" or "cooked"')
    options = raw.get("faults", {})
    if not isinstance(options, dict):
        raise InputError(str(path), '"faults" must be an object of fault options')
    values: dict[str, Any] = {name: tuple(v) if isinstance(v, list) else v for name, v in options.items()}
    try:
        faults = Faults(**values)
    except (TypeError, ValueError) as exc:
        raise InputError(str(path), f'"faults": {exc}') from None
    return ShellSettings(
        snapshot=home / raw["snapshot"],  # an absolute path replaces home
        enable_secret=secret,
        command_log=home / log_file if log_file else None,
        privileged=bool(raw.get("privileged", False)),
        hostname=hostname,
        tty=tty_mode,
        faults=faults,
    )


def build_cli(settings: ShellSettings) -> IosCli:
    snapshot = read_snapshot(settings.snapshot)
    outputs = outputs_from_snapshot(snapshot)
    recorder = _command_recorder(settings.command_log) if settings.command_log else None
    return IosCli(
        outputs,
        settings.hostname or hostname_from(outputs, snapshot.hostname),
        settings.enable_secret,
        settings.privileged,
        on_command=recorder,
        faults=settings.faults,
    )


def _command_recorder(path: Path) -> Callable[[str], None]:
    def record(line: str) -> None:
        # One write() per line on an O_APPEND file: concurrent sessions never interleave lines.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
        finally:
            os.close(fd)

    return record


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``cmelive-fake-shell`` (argv without the program name)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings(Path(os.environ.get("HOME") or Path.home()))
        cli = build_cli(settings)
    except InputError as exc:
        print(f"cmelive-fake-shell: {exc}", file=sys.stderr)
        return EXIT_BAD_SETUP
    if args[:1] == ["-c"]:
        command = args[1] if len(args) > 1 else ""
        _write_all(sys.stdout.fileno(), cli.handle_line(command).replace("\n", "\r\n"))
        if cli.fault in STREAMING:
            assert cli.fault is not None
            try:
                _stream(sys.stdout.fileno(), cli.fault, cli.fault_output, lambda text: text.replace("\n", "\r\n"))
            except OSError:
                pass  # the client went away
        return EXIT_OK
    _serve(cli, sys.stdin.fileno(), sys.stdout.fileno(), cooked=settings.tty == "cooked")
    return EXIT_OK


def _serve(cli: IosCli, fd_in: int, fd_out: int, *, cooked: bool = False) -> None:
    is_terminal = os.isatty(fd_in)
    saved = termios.tcgetattr(fd_in) if is_terminal else None
    if is_terminal and cooked:
        # The kernel echoes and edits lines, and turns our \n into \r\n; we echo nothing.
        session = TerminalSession(cli, echo=False, style=TerminalStyle(echo="immediate", line_end="\n"))
    else:
        # Raw mode: the same line editing as the SSH server; we echo (or not, at the Password:
        # prompt) and send \r\n ourselves.
        session = TerminalSession(cli, echo=is_terminal)
    try:
        if is_terminal and not cooked:
            tty.setraw(fd_in, termios.TCSANOW)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        if cli.faults.flood_before_prompt:
            _stream(fd_out, SessionFault.FLOOD, FLOOD_BEFORE_PROMPT_TEXT, session.style.wire)
            return
        _write_all(fd_out, session.greeting())
        while not session.closed:
            data = os.read(fd_in, 4096)
            if not data:
                return
            reply = session.feed(decoder.decode(data))
            if is_terminal and cooked:
                _set_echo(fd_in, on=not cli.awaiting_secret)  # as getpass does at Password:
            if reply:
                _write_all(fd_out, reply)
            if session.fault in STREAMING:
                assert session.fault is not None
                _stream(fd_out, session.fault, cli.fault_output, session.style.wire)
                return
    except OSError:
        return  # the terminal went away (EIO on a hung-up pty, EPIPE): the session is over
    finally:
        if saved is not None:
            try:
                termios.tcsetattr(fd_in, termios.TCSADRAIN, saved)
            except termios.error:
                pass


def _set_echo(fd: int, *, on: bool) -> None:
    attributes = termios.tcgetattr(fd)
    wanted = attributes[3] | termios.ECHO if on else attributes[3] & ~termios.ECHO
    if wanted != attributes[3]:
        attributes[3] = wanted
        termios.tcsetattr(fd, termios.TCSANOW, attributes)


def _stream(fd: int, fault: SessionFault, output: str, wire: Callable[[str], str]) -> None:
    """Write an output that never ends until the terminal goes away (OSError to the caller)."""
    for piece, pause in stream_pieces(fault, output):
        if pause > 0:
            time.sleep(pause)
        _write_all(fd, wire(piece))


def _write_all(fd: int, text: str) -> None:
    data = memoryview(text.encode("utf-8"))
    while data:
        written = os.write(fd, data)
        data = data[written:]


if __name__ == "__main__":
    sys.exit(main())
