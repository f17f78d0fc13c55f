"""fakenos (PyPI ``fakenos``, not written by this project) as an IOS router for the live collector.

fakenos serves a NOS over its own paramiko SSH server: a ``cmd.Cmd`` shell whose commands are
a table of ``{command: {output, prompt, new_prompt}}``. Its ``cisco_ios`` platform logs in at
``<host>>``, has ``enable`` (no password asked) and ~150 show commands with canned outputs; an
inventory adds or replaces commands. Everything here uses only that inventory: the outputs of
the audit commands come from a bundled example snapshot, and the variants below use fakenos's
own settings (shell ``intro`` and ``newline``, commands with ``new_prompt``).

What fakenos sends, byte for byte (see ``test_third_party_emulators.py::test_raw_stream``):
``intro`` + ``\\r\\n``, then the prompt; each typed byte is echoed as the shell reads it, one
byte per 10 ms, and a typed line is held until the shell has answered the previous one (so the
echo of type-ahead follows the prompt, as on IOS); the Enter is echoed as ``\\r\\n``; an output
is written line by line, each line + the shell's ``newline``, then the prompt.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from cmelive.commands import AUDIT_COMMANDS, CommandStatus, file_name
from cmelive.examples import example_dir

#: The fakenos release these tests were written against (pinned in the ``test`` extra).
FAKENOS_VERSION = "1.2.1"
USERNAME = "admin"
PASSWORD = "fakenos-login-pw"
ENABLE_SECRET = "fakenos-enable-pw"
# fakenos formats these with the host's name; IOS shows a command only at the privileged prompt.
USER_PROMPT = "{base_prompt}>"
PRIVILEGED_PROMPT = "{base_prompt}#"
SESSION_COMMANDS = ("terminal length 0", "terminal width 0")


@dataclass(frozen=True)
class Variant:
    """One way of configuring fakenos, named for the terminal behaviour it produces."""

    name: str
    example: str
    intro: str | None = None  # None: fakenos's own ("Custom SSH Shell")
    newline: str | None = None  # None: fakenos's own ("\r\n")
    enable_secret: bool = False  # False: fakenos's own enable, which asks no password
    terminal_length_answer: str = ""
    trailing_blanks: bool = False
    privileged_prompt: str = PRIVILEGED_PROMPT  # fakenos's cisco_ios user prompt is fixed: "<host>>"

    def output(self, command: str) -> str:
        """The output fakenos is given for ``command``."""
        text = (example_dir(self.example) / file_name(command)).read_text(encoding="utf-8")
        if self.trailing_blanks:
            text = "".join(line + "  \t \n" for line in text.splitlines()) + "\n   \n"
        return text

    def served(self, command: str) -> str:
        """What fakenos writes for ``command``, line ends normalised to ``\\n``."""
        return served(self.output(command))

    def expected_statuses(self) -> dict[str, CommandStatus]:
        meta = json.loads((example_dir(self.example) / "meta.json").read_text(encoding="utf-8"))
        return {entry["command"]: CommandStatus(entry["status"]) for entry in meta["commands"]}

    def commands(self) -> dict[str, dict[str, Any]]:
        """The fakenos inventory ``commands`` of a host serving this variant."""
        privileged = self.privileged_prompt
        table: dict[str, dict[str, Any]] = {
            command: {"output": self.output(command), "prompt": [privileged], "help": command}
            for command in AUDIT_COMMANDS
        }
        table["terminal length 0"] = {
            "output": self.terminal_length_answer,
            "prompt": [USER_PROMPT, privileged],
            "help": "no paging",
        }
        # fakenos's cisco_ios knows "terminal width 511" only; IOS takes 0 too.
        table["terminal width 0"] = {"output": "", "prompt": [USER_PROMPT, privileged], "help": "no wrapping"}
        if self.enable_secret:
            # fakenos's way to ask for a password: a prompt that only the right line leaves.
            table["enable"] = {"output": None, "new_prompt": "Password: ", "prompt": USER_PROMPT, "help": "enable"}
            table[ENABLE_SECRET] = {
                "output": None,
                "new_prompt": privileged,
                "prompt": "Password: ",
                "help": "the enable secret",
            }
        elif privileged != PRIVILEGED_PROMPT:
            table["enable"] = {"output": None, "new_prompt": privileged, "prompt": USER_PROMPT, "help": "enable"}
        return table

    def shell_configuration(self) -> dict[str, str]:
        settings: dict[str, str] = {}
        if self.intro is not None:
            settings["intro"] = self.intro
        if self.newline is not None:
            settings["newline"] = self.newline
        return settings

    def expected_lines(self) -> list[str]:
        """Every line the collector should type, in order, up to its ``exit``.

        The collector hangs up right after ``exit`` without waiting: whether fakenos's shell still
        reads that line before its channel closes is a race, so the callers accept it or not.
        """
        secret = [ENABLE_SECRET] if self.enable_secret else []
        return [*SESSION_COMMANDS, "enable", *secret, *AUDIT_COMMANDS]


def served(text: str) -> str:
    """fakenos's shell writes ``line + newline`` for each of ``text.splitlines()``."""
    return "".join(line + "\n" for line in text.splitlines())


# A login banner of the kind that fools prompt detection: lines ending in '#' and '>', one that
# is exactly the prompt, one that is another router's prompt, trailing blanks and blank lines.
TRICKY_BANNER = "\n".join(
    [
        "",
        "################################################",
        "#  Authorised access only. Disconnect NOW if   #",
        "#  you are not an authorised user.             #",
        "################################################",
        "banner-prompt-lines>",
        "banner-prompt-lines#",
        "Router#   ",
        "   >",
        "",
        "",
    ]
)

VARIANTS: tuple[Variant, ...] = (
    Variant("fakenos-defaults", "insecure-cme"),
    Variant("enable-secret", "secure-cme", enable_secret=True),
    Variant("banner-prompt-lines", "plain-ios", intro=TRICKY_BANNER, enable_secret=True),
    Variant("crcrlf", "insecure-cme", newline="\r\r\n", enable_secret=True),
    Variant("trailing-blanks", "secure-cme", trailing_blanks=True),
    Variant("terminal-length-refused", "insecure-cme", terminal_length_answer="% Authorization failed."),
    Variant("prompt-trailing-blank", "plain-ios", privileged_prompt="{base_prompt}# "),
)


class ShellLines(logging.Handler):
    """Every line fakenos's shell ran, per host, from the shell's own debug log; and every line
    that came in from an SSH channel, from its server's.

    fakenos's ``CMDShell.default`` logs ``shell.default '<host>' running command '[line]'`` for
    each line it dispatches: with one host name per variant, the lines of each are known. Those
    include an ``exit`` fakenos types itself: its watchdog stops the shell of a closed session by
    writing ``exit`` to the shell's input (``CMDShell.stop``), some time after the client is gone.
    What the client typed is what the server's channel tap logs; that log names no host.
    """

    LOGGER = "fakenos.plugins.shell.cmd_shell"
    MESSAGE = "shell.default '%s' running command '%s'"
    SERVER_LOGGER = "fakenos.plugins.servers.ssh_server_paramiko"
    SERVER_MESSAGE = "ssh_server.channel_to_shell_tap sending line to shell: %s"

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: dict[str, list[str]] = {}
        self.typed: list[str] = []  # from any channel, in order

    def emit(self, record: logging.LogRecord) -> None:
        if not isinstance(record.args, tuple):
            return
        if record.msg == self.MESSAGE and len(record.args) == 2:
            host, line = record.args
            if isinstance(host, str) and isinstance(line, list) and line and isinstance(line[0], str):
                self.lines.setdefault(host, []).append(line[0])
        elif record.msg == self.SERVER_MESSAGE and len(record.args) == 1:
            (line,) = record.args
            if isinstance(line, list) and line and isinstance(line[0], str):
                self.typed.append(line[0].strip())

    def of(self, host: str) -> list[str]:
        return list(self.lines.get(host, []))

    def typed_since_clear(self) -> list[str]:
        """The lines clients typed into any host since the last :meth:`clear`."""
        return list(self.typed)

    def clear(self, host: str) -> None:
        self.lines.pop(host, None)
        self.typed.clear()

    @contextmanager
    def installed(self) -> Iterator[ShellLines]:
        loggers = [logging.getLogger(name) for name in (self.LOGGER, self.SERVER_LOGGER)]
        levels = [logger.level for logger in loggers]
        for logger in loggers:
            logger.setLevel(logging.DEBUG)
            logger.addHandler(self)
        try:
            yield self
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.removeHandler(self)
                logger.setLevel(level)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on ``port`` (Linux: from /proc/net/tcp*)."""
    found: set[str] = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.is_file():
            continue
        for row in table.read_text().splitlines()[1:]:
            fields = row.split()
            address, _, hex_port = fields[1].partition(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: TCP_LISTEN
                found.add(address)
    return found


LOOPBACK_HEX = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it


def wait_until_listening(port: int, timeout: float = 10.0) -> None:
    """fakenos's ``start()`` returns before its listener thread calls ``listen()``: a client that
    connects at once is refused. Wait for the listening socket itself (a probing connection would
    make fakenos's connection thread die on EOF, with a traceback)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path("/proc/net/tcp").is_file():
            time.sleep(0.5)  # no /proc: fakenos's listener is up within a few ms in practice
            return
        if listening_addresses(port):
            return
        time.sleep(0.01)
    raise TimeoutError(f"fakenos did not listen on 127.0.0.1:{port} within {timeout:g}s")


def inventory(hosts: Mapping[str, tuple[Variant, int]], key_file: Path) -> dict[str, Any]:
    """A fakenos inventory: one host per name, on 127.0.0.1 only, with our own host key.

    ``address`` is given although 127.0.0.1 is fakenos's default: fakenos switches its default
    to 0.0.0.0 when it believes it runs in Docker on WSL2.
    """
    return {
        "default": {
            "username": USERNAME,
            "password": PASSWORD,
            "server": {
                "plugin": "ParamikoSshServer",
                "configuration": {"address": "127.0.0.1", "ssh_key_file": str(key_file), "timeout": 1},
            },
        },
        "hosts": {
            name: {
                "port": port,
                "platform": "cisco_ios",
                "shell": {"plugin": "CMDShell", "configuration": variant.shell_configuration()},
                "nos": {"plugin": "cisco_ios", "configuration": {"commands": variant.commands()}},
            }
            for name, (variant, port) in hosts.items()
        },
    }


def read_until(channel: paramiko.Channel, end: bytes, timeout: float = 20.0) -> bytes:
    """What a raw paramiko shell receives until it ends with ``end`` (a test failure otherwise)."""
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(end):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {end!r} after {data!r}"
        channel.settimeout(remaining)
        chunk = channel.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    return data
