"""How long and how much one router may talk: the bounds every collection runs within.

A router is not ours: it may print forever, fast (a flood) or slowly (a line every half second,
which resets any idle timeout), or never show its first prompt. Whatever it does, a collection
ends within :attr:`Limits.session_deadline_s` of its start and holds at most
:attr:`Limits.max_output` characters of any one output. What arrived before a bound struck is
kept, marked ``truncated`` with the reason (see :class:`cmelive.collect.live.NetmikoCollector`).

**How the defaults are sized.** The largest real running-configs we know of are about 1.6 MB.

* ``max_output`` 8 MiB: five times that. What it protects besides the collector's memory is
  judging: parsing and checking a running-config costs about 30 times its size in memory
  (``bench/README.md``), so a judge given an 8 MiB cut-off flood peaks near 250 MB.
* ``command_deadline`` 300 s: 1.6 MB in 300 s is 5.5 kB/s, slower than any SSH path to a
  router's vty we know of, with room for a busy old router's "Building configuration...".
* ``session_deadline``: twice the command deadline (600 s at the defaults): login and ten quick
  commands around the one long running-config.

**Fixed deadlines, not ones that grow with the output.** A deadline that grows with what arrives
would let a slow honest router finish a big output, but hands the bound to whoever sets the rate:
a router trickling at just the growth rate would never be cut, and only the byte limit would end
it (8 MiB at 1 kB/s is more than two hours). A fixed deadline keeps the worst case of a fleet run
computable (``ceil(hosts / workers) x session deadline``). The routers that really are slow (an old
router behind a 9600-baud console server prints about 1 kB/s: 50 kB of config take a minute, 1.6
MB would take half an hour) get their own, larger, deadlines, per host in the inventory or on the
command line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

DEFAULT_MAX_OUTPUT = 8 * MIB
DEFAULT_COMMAND_DEADLINE_S = 300.0
#: The session deadline, when not given, is this many command deadlines.
SESSION_DEADLINE_FACTOR = 2.0
#: What a router may print after login before its first prompt: a banner is a few kB at most.
#: Lowered to ``max_output`` when that is smaller.
LOGIN_MAX_OUTPUT = 1 * MIB

_SIZE = re.compile(r"(?i)^\s*(\d+(?:\.\d+)?)\s*(k|kb|kib|m|mb|mib|g|gb|gib|b)?\s*$")
_UNITS = {"": 1, "b": 1, "k": KIB, "kb": KIB, "kib": KIB, "m": MIB, "mb": MIB, "mib": MIB, "g": GIB, "gb": GIB,
          "gib": GIB}  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """The bounds of one collection (see the module docstring).

    ``command_deadline_s``: the longest one command may take, from the moment it is sent, however
    steadily its output arrives (the idle timeout, ``Target.timeout``, still ends one that goes
    silent sooner). ``session_deadline_s``: the longest the whole session may take, login
    included; None: :data:`SESSION_DEADLINE_FACTOR` command deadlines. ``max_output``: the most
    characters kept of one output (IOS prints ASCII: bytes).
    """

    command_deadline_s: float = DEFAULT_COMMAND_DEADLINE_S
    session_deadline_s: float | None = None
    max_output: int = DEFAULT_MAX_OUTPUT

    def __post_init__(self) -> None:
        for name in ("command_deadline_s", "session_deadline_s"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not 0 < value < math.inf):
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        if isinstance(self.max_output, bool) or not isinstance(self.max_output, int) or self.max_output < 1:
            raise ValueError(f"max_output must be a positive number of bytes, not {self.max_output!r}")

    @property
    def session_s(self) -> float:
        """The session deadline in seconds, the default applied."""
        if self.session_deadline_s is not None:
            return self.session_deadline_s
        return self.command_deadline_s * SESSION_DEADLINE_FACTOR

    @property
    def login_max_output(self) -> int:
        """What may come after login before the first prompt."""
        return min(LOGIN_MAX_OUTPUT, self.max_output)

    def with_overrides(
        self,
        *,
        command_deadline_s: float | None = None,
        session_deadline_s: float | None = None,
        max_output: int | None = None,
    ) -> Limits:
        """These limits with the given values replaced (None keeps the value).

        A host that raises its command deadline without naming a session deadline gets the
        default factor of its own command deadline, not the fleet's session deadline.
        """
        command = command_deadline_s if command_deadline_s is not None else self.command_deadline_s
        session = session_deadline_s if session_deadline_s is not None else self.session_deadline_s
        if session_deadline_s is None and command_deadline_s is not None and session is not None:
            session = max(session, command * SESSION_DEADLINE_FACTOR)
        return Limits(command, session, max_output if max_output is not None else self.max_output)


def parse_size(text: str) -> int:
    """``"8M"``, ``"8MiB"``, ``"512k"``, ``"1G"``, ``"1048576"`` -> bytes (K, M, G are binary:
    1024-based). Raises ValueError naming what is wrong."""
    found = _SIZE.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not a size (a number of bytes, or with K, M or G: 512K, 8M, 1G)")
    number, unit = found.group(1), (found.group(2) or "").lower()
    size = float(number) * _UNITS[unit]
    if size < 1:
        raise ValueError(f"{text!r}: the size must be at least 1 byte")
    return int(size)


def format_size(size: int) -> str:
    """``8388608`` -> ``"8 MiB"``, ``1536`` -> ``"1.5 KiB"``, ``100`` -> ``"100 bytes"``."""
    for unit, name in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if size >= unit:
            return f"{size / unit:.4g} {name}"
    return f"{size} byte{'s' if size != 1 else ''}"


__all__ = [
    "DEFAULT_COMMAND_DEADLINE_S",
    "DEFAULT_MAX_OUTPUT",
    "LOGIN_MAX_OUTPUT",
    "SESSION_DEADLINE_FACTOR",
    "Limits",
    "format_size",
    "parse_size",
]
