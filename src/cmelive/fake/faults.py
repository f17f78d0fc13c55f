"""Fault modes of the fake router: the ways a real router lets an audit down, on demand.

Every fault is off by default. :class:`Faults` is passed to :class:`~cmelive.fake.FakeRouter`
(which applies the transport-level ones: refused logins, latency, a dropped connection) and
through it to :class:`~cmelive.fake.IosCli` (the CLI-level ones: ``enable`` refused, a command
that never answers, a plain IOS router without CME).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum

from cmelive.commands import RUNNING_CONFIG

STARTUP_CONFIG = "show startup-config"

#: Show commands a router only knows when it runs CME: ``show ephone ...``, ``show capf-server
#: ...`` and ``show voice register ...`` (CME's SIP side) with any keywords after them; the others
#: exactly.
CME_COMMAND_PREFIXES = ("show ephone", "show capf-server", "show voice register")
CME_COMMANDS = frozenset({"show ctl-client", "show telephony-service"})
#: Top-level configuration sections CME adds: telephony-service, ephone, ephone-dn and their
#: relatives (ephone-template, ephone-dn-template, ephone-hunt, ephone-type), and the SIP side's
#: ``voice register global/pool/dn/...``.
_CME_SECTION = re.compile(r"^(?:telephony-service|ephone(?:-[\w-]+)?|voice register \S+)(?:\s|$)")


class SessionFault(Enum):
    """What a command with a fault does instead of answering."""

    HANG = "hang"  # never answers: the session stays open and silent
    DROP = "drop"  # prints the first half of its output, then the connection is cut


@dataclass(frozen=True)
class Faults:
    """How a fake router misbehaves. All off by default.

    ``fail_auth``: every login is refused (password and public key).
    ``fail_enable``: ``enable`` asks for the secret, then answers ``% Access denied`` (a right
    secret too).
    ``delay_ms``: every answer (the first prompt after login too) is sent this long after what it
    answers arrived: a link's latency, so lines typed ahead together are answered together.
    ``hang_on``: commands that never answer; the session stays open and silent until the client
    leaves or the router stops.
    ``drop_on``: commands that print the first half of their output lines, after which the TCP
    connection is closed without an SSH goodbye.
    ``no_cme``: a plain IOS router: the CME show commands are unknown (``% Invalid input``) and
    the configuration has no telephony-service/ephone/ephone-dn (nor ``voice register``) sections.

    ``hang_on``/``drop_on`` name show commands, abbreviated or not; they are matched after
    abbreviation resolution (``sh run`` and ``show running-config`` are one command, also with a
    ``| include`` filter after it). A name the router does not serve is refused when the router
    is created.
    """

    fail_auth: bool = False
    fail_enable: bool = False
    delay_ms: int = 0
    hang_on: tuple[str, ...] = field(default=())
    drop_on: tuple[str, ...] = field(default=())
    no_cme: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.delay_ms, bool) or not isinstance(self.delay_ms, int) or self.delay_ms < 0:
            raise ValueError(f"delay_ms must be a whole number of milliseconds >= 0, not {self.delay_ms!r}")
        for name in ("hang_on", "drop_on"):
            value = getattr(self, name)
            if isinstance(value, str):  # a lone string would be taken letter by letter
                raise ValueError(f"{name} must be a list of commands, not the string {value!r}")
            # Normalised here so that equal faults compare equal and show the same everywhere.
            object.__setattr__(self, name, normalized_commands(value))
        both = set(self.hang_on) & set(self.drop_on)
        if both:
            raise ValueError(f"a command cannot both hang and drop the connection: {', '.join(sorted(both))}")

    @property
    def any(self) -> bool:
        """True when at least one fault is on."""
        return self != Faults()

    @property
    def delay_s(self) -> float:
        return self.delay_ms / 1000.0

    def options(self) -> dict[str, object]:
        """The faults that are on, as a faults file spells them: ``{"delay_ms": 200, "hang_on": [...]}``."""
        healthy = Faults()
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in ((f.name, getattr(self, f.name)) for f in fields(self))
            if value != getattr(healthy, name)
        }

    def describe(self) -> str:
        """``"fail-auth, delay-ms=200, hang-on='show running-config'"``; ``"none"`` when healthy."""
        parts: list[str] = []
        for flag in ("fail_auth", "fail_enable", "no_cme"):
            if getattr(self, flag):
                parts.append(flag.replace("_", "-"))
        if self.delay_ms:
            parts.append(f"delay-ms={self.delay_ms}")
        parts.extend(f"hang-on={command!r}" for command in self.hang_on)
        parts.extend(f"drop-on={command!r}" for command in self.drop_on)
        return ", ".join(parts) or "none"


def is_cme_command(command: str) -> bool:
    """True for the show commands only a CME router knows (``command`` normalised)."""
    return command in CME_COMMANDS or any(
        command == prefix or command.startswith(prefix + " ") for prefix in CME_COMMAND_PREFIXES
    )


def without_cme(outputs: Mapping[str, str]) -> dict[str, str]:
    """The outputs of the same router without CME: CME commands gone, CME config sections cut.

    ``outputs`` has normalised command names; the configurations (running and startup) lose
    every top-level CME section with the lines indented under it.
    """
    plain: dict[str, str] = {}
    for command, text in outputs.items():
        if is_cme_command(command):
            continue
        if command in (RUNNING_CONFIG, STARTUP_CONFIG):
            text = strip_cme_sections(text)
        plain[command] = text
    return plain


def strip_cme_sections(config: str) -> str:
    """``config`` without its telephony-service, ephone, ephone-dn (and relatives) sections."""
    kept: list[str] = []
    inside = False
    for line in config.splitlines(keepends=True):
        if line[:1] in (" ", "\t"):
            if not inside:
                kept.append(line)
            continue
        inside = bool(_CME_SECTION.match(line))
        if not inside:
            kept.append(line)
    return "".join(kept)


def normalized_commands(commands: Iterable[str]) -> tuple[str, ...]:
    """Each command lower-cased with its blanks folded, duplicates dropped, order kept."""
    return tuple(dict.fromkeys(" ".join(command.lower().split()) for command in commands))
