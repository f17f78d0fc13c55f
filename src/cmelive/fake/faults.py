"""Fault modes of the fake router: the ways a real router lets an audit down, on demand.

Every fault is off by default. :class:`Faults` is passed to :class:`~cmelive.fake.FakeRouter`
(which applies the transport-level ones: refused logins, latency, a dropped connection, outputs
that never end) and through it to :class:`~cmelive.fake.IosCli` (the CLI-level ones: ``enable``
refused, a command that never answers, a plain IOS router without CME).

The hostile ones (issue 11) stream an output that never ends: ``flood`` as fast as the client
reads, ``drip`` one line every half second (each line resets an idle timeout), ``endless`` at a
router's ordinary pace; ``flood_before_prompt`` streams after login and never shows a prompt.
:func:`stream_pieces` paces them; the transports send the pieces. None of them costs the fake
memory or CPU while the client reads nothing (a send waits for the client's SSH window), and each
ends when the client hangs up or the router stops.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum

from cmelive.commands import RUNNING_CONFIG, is_cme_command

STARTUP_CONFIG = "show startup-config"

#: Top-level configuration sections CME adds: telephony-service, ephone, ephone-dn and their
#: relatives (ephone-template, ephone-dn-template, ephone-hunt, ephone-type), and the SIP side's
#: ``voice register global/pool/dn/...``.
_CME_SECTION = re.compile(r"^(?:telephony-service|ephone(?:-[\w-]+)?|voice register \S+)(?:\s|$)")


class SessionFault(Enum):
    """What a command with a fault does instead of answering."""

    HANG = "hang"  # never answers: the session stays open and silent
    DROP = "drop"  # prints the first half of its output, then the connection is cut
    FLOOD = "flood"  # its output, again and again, as fast as the client reads; no prompt
    DRIP = "drip"  # its output, one line every DRIP_INTERVAL_S, forever; no prompt
    ENDLESS = "endless"  # its output, again and again, at a router's pace; no prompt


#: The faults whose output never ends (the transport streams them: :func:`stream_pieces`).
STREAMING = frozenset({SessionFault.FLOOD, SessionFault.DRIP, SessionFault.ENDLESS})
#: The pace of the streaming faults: a drip's line interval; an endless output's bursts of lines
#: and the pause between them (about 2,500 lines, some 100 kB, a second: a router printing a long
#: configuration); a flood's pieces (no pause: only the client's reading holds it back).
DRIP_INTERVAL_S = 0.5
ENDLESS_BURST_LINES = 50
ENDLESS_PAUSE_S = 0.02
FLOOD_PIECE_CHARS = 65536
#: What a router flooding before its first prompt prints, over and over (a banner gone wrong).
FLOOD_BEFORE_PROMPT_TEXT = (
    "*" * 72 + "\n"
    "* This router prints its banner forever and never shows a prompt: cmelive must give up.     *\n"
)
#: The option name of each fault list, as a faults file spells it.
FAULT_LISTS: dict[SessionFault, str] = {
    SessionFault.HANG: "hang_on",
    SessionFault.DROP: "drop_on",
    SessionFault.FLOOD: "flood_on",
    SessionFault.DRIP: "drip_on",
    SessionFault.ENDLESS: "endless_on",
}


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
    ``flood_on``, ``drip_on``, ``endless_on``: commands whose output never ends and never gives
    the prompt back: their lines (a configuration's final ``end`` left out) over and over, as
    fast as the client reads (flood), one line every half second (drip), or at a router's
    ordinary pace (endless).
    ``flood_before_prompt``: after login, a banner streamed forever; the prompt never comes.
    ``no_cme``: a plain IOS router: the CME show commands are unknown (``% Invalid input``) and
    the configuration has no telephony-service/ephone/ephone-dn (nor ``voice register``) sections.

    The command lists (``hang_on`` ... ``endless_on``) name show commands, abbreviated or not;
    they are matched after abbreviation resolution (``sh run`` and ``show running-config`` are
    one command, also with a ``| include`` filter after it). A name the router does not serve is
    refused when the router is created, and a command has at most one of these faults.
    """

    fail_auth: bool = False
    fail_enable: bool = False
    delay_ms: int = 0
    hang_on: tuple[str, ...] = field(default=())
    drop_on: tuple[str, ...] = field(default=())
    no_cme: bool = False
    flood_on: tuple[str, ...] = field(default=())
    drip_on: tuple[str, ...] = field(default=())
    endless_on: tuple[str, ...] = field(default=())
    flood_before_prompt: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.delay_ms, bool) or not isinstance(self.delay_ms, int) or self.delay_ms < 0:
            raise ValueError(f"delay_ms must be a whole number of milliseconds >= 0, not {self.delay_ms!r}")
        for name in FAULT_LISTS.values():
            value = getattr(self, name)
            if isinstance(value, str):  # a lone string would be taken letter by letter
                raise ValueError(f"{name} must be a list of commands, not the string {value!r}")
            # Normalised here so that equal faults compare equal and show the same everywhere.
            object.__setattr__(self, name, normalized_commands(value))
        seen: dict[str, str] = {}
        for fault, name in FAULT_LISTS.items():
            for command in getattr(self, name):
                if command in seen:
                    raise ValueError(f"a command cannot both {seen[command]} and {fault.value}: {command}")
                seen[command] = fault.value

    def commands(self, fault: SessionFault) -> tuple[str, ...]:
        """The commands ``fault`` strikes."""
        value: tuple[str, ...] = getattr(self, FAULT_LISTS[fault])
        return value

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
        for flag in ("fail_auth", "fail_enable", "no_cme", "flood_before_prompt"):
            if getattr(self, flag):
                parts.append(flag.replace("_", "-"))
        if self.delay_ms:
            parts.append(f"delay-ms={self.delay_ms}")
        for name in FAULT_LISTS.values():
            parts.extend(f"{name.replace('_', '-')}={command!r}" for command in getattr(self, name))
        return ", ".join(parts) or "none"


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


def stream_pieces(fault: SessionFault, output: str) -> Iterator[tuple[str, float]]:
    """An output that never ends, paced as ``fault`` says: ``(text, pause)`` pieces, forever; the
    pause is to be waited before its piece is sent. The text is ``output``'s lines (``\n`` line
    ends) over and over, a configuration's closing ``end`` left out, so that nothing looks finished.
    """
    lines = itertools.cycle([line + "\n" for line in output.splitlines() if line.strip() != "end"] or ["!\n"])
    if fault is SessionFault.DRIP:
        for line in lines:
            yield line, DRIP_INTERVAL_S
    elif fault is SessionFault.ENDLESS:
        while True:
            yield "".join(itertools.islice(lines, ENDLESS_BURST_LINES)), ENDLESS_PAUSE_S
    elif fault is SessionFault.FLOOD:
        while True:
            piece: list[str] = []
            size = 0
            while size < FLOOD_PIECE_CHARS:
                line = next(lines)
                piece.append(line)
                size += len(line)
            yield "".join(piece), 0.0
    else:
        raise ValueError(f"{fault.value} is not a streaming fault")
