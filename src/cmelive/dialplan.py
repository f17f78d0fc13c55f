"""The dial plan as the checks need it: dial-peers, destination patterns, COR lists and their uses.

:class:`DialPattern` implements IOS ``destination-pattern`` (and ``after-hours block pattern``)
syntax as a small NFA, so a check can ask "can this pattern route a call to 9-011-...?" or "does
this block pattern catch every call that starts with 91-242?" without guessing from the text.

Supported syntax (Cisco IOS Dial Peer Configuration Guide, "destination-pattern"):

- ``0-9 * # A-D`` literal keys; a ``+`` that opens the pattern is the E.164 plus sign (literal);
- ``.`` any one key; ``T`` any number of keys (0 to 32, ended by the interdigit timeout);
- ``[2-9]`` / ``[^01]`` a key from (or not from) a set; ``( )`` grouping, ``|`` alternatives
  (after-hours block patterns take them);
- ``?`` ``%`` ``+`` after an item: zero or one, zero or more, one or more of it;
- ``^`` at the start and ``$`` at the end anchor (matching is always anchored); ``,`` is a pause
  and ``\\`` escapes the next character.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from cmelive.parsing.running_config import ConfigLine, RunningConfig

#: Keys a phone or a trunk can send; ``.`` and ``T`` match any of them (not the E.164 ``+``).
KEYS = frozenset("0123456789*#ABCD")
DIGITS = "0123456789"
#: IOS collects at most 32 digits for a dialled number.
MAX_DIGITS = 32
#: Access codes tried in front of the national/international prefixes: none (the phone dials
#: 011... straight), and the two outside-line codes NANP sites use (9, and 8 at some). Other
#: single digits are not tried on purpose: with them every 4-digit extension range (``2...``)
#: would "reach" 2-411, which no voice engineer would call a directory-assistance route.
ACCESS_CODES: tuple[str, ...] = ("", "9", "8")


class PatternError(ValueError):
    """A destination or block pattern this parser cannot read."""


# --- destination-pattern matcher -------------------------------------------------------------------

_Edge = tuple[frozenset[str] | None, int]  # (keys, target); None = epsilon


class _Builder:
    """Thompson construction: each fragment is a (start, end) pair of states."""

    def __init__(self) -> None:
        self.edges: list[list[_Edge]] = []

    def state(self) -> int:
        self.edges.append([])
        return len(self.edges) - 1

    def link(self, source: int, target: int, keys: frozenset[str] | None = None) -> None:
        self.edges[source].append((keys, target))

    def keys(self, keys: frozenset[str]) -> tuple[int, int]:
        start, end = self.state(), self.state()
        self.link(start, end, keys)
        return start, end

    def empty(self) -> tuple[int, int]:
        start, end = self.state(), self.state()
        self.link(start, end)
        return start, end

    def concat(self, parts: list[tuple[int, int]]) -> tuple[int, int]:
        if not parts:
            return self.empty()
        for (_, left_end), (right_start, _) in zip(parts, parts[1:], strict=False):
            self.link(left_end, right_start)
        return parts[0][0], parts[-1][1]

    def alternatives(self, parts: list[tuple[int, int]]) -> tuple[int, int]:
        if len(parts) == 1:
            return parts[0]
        start, end = self.state(), self.state()
        for part_start, part_end in parts:
            self.link(start, part_start)
            self.link(part_end, end)
        return start, end

    def repeat(self, part: tuple[int, int], quantifier: str) -> tuple[int, int]:
        start, end = self.state(), self.state()
        part_start, part_end = part
        self.link(start, part_start)
        self.link(part_end, end)
        if quantifier in ("?", "%"):
            self.link(start, end)  # zero times
        if quantifier in ("%", "+"):
            self.link(part_end, part_start)  # again
        return start, end


class _Parser:
    def __init__(self, text: str, builder: _Builder) -> None:
        self.text = text
        self.pos = 0
        self.builder = builder

    def error(self, problem: str) -> PatternError:
        return PatternError(f"pattern {self.text!r}: {problem} at position {self.pos + 1}")

    def peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def parse(self) -> tuple[int, int]:
        if self.peek() == "^":
            self.pos += 1
        fragment = self.alternation(top=True)
        if self.pos != len(self.text):
            raise self.error(f"unexpected {self.text[self.pos]!r}")
        return fragment

    def alternation(self, top: bool = False) -> tuple[int, int]:
        branches = [self.sequence(top)]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence(top=False))
        return self.builder.alternatives(branches)

    def sequence(self, top: bool) -> tuple[int, int]:
        parts: list[tuple[int, int]] = []
        while (char := self.peek()) is not None and char not in "|)":
            if char == "$":
                self.pos += 1
                if self.peek() not in (None, "|", ")"):
                    raise self.error("'$' before the end")
                continue
            if char == "+" and top and self.pos == (1 if self.text.startswith("^") else 0):
                self.pos += 1  # a leading "+" is the E.164 plus sign, a literal
                parts.append(self.builder.keys(frozenset("+")))
                continue
            atom = self.atom()
            if atom is None:
                continue
            while (quantifier := self.peek()) is not None and quantifier in "?%+":
                self.pos += 1
                atom = self.builder.repeat(atom, quantifier)
            parts.append(atom)
        return self.builder.concat(parts)

    def atom(self) -> tuple[int, int] | None:
        char = self.text[self.pos]
        self.pos += 1
        if char in "0123456789*#":
            return self.builder.keys(frozenset(char))
        if char in "ABCDabcd":
            return self.builder.keys(frozenset(char.upper()))
        if char == ".":
            return self.builder.keys(KEYS)
        if char in "Tt":
            return self.builder.repeat(self.builder.keys(KEYS), "%")
        if char == ",":
            return None  # a pause: matches nothing, consumes nothing
        if char == "\\":
            if self.peek() is None:
                raise self.error("'\\' at the end")
            escaped = self.text[self.pos]
            self.pos += 1
            return self.builder.keys(frozenset(escaped))
        if char == "[":
            return self.builder.keys(self.key_set())
        if char == "(":
            inner = self.alternation()
            if self.peek() != ")":
                raise self.error("'(' is never closed")
            self.pos += 1
            return inner
        self.pos -= 1
        raise self.error(f"unexpected {char!r}")

    def key_set(self) -> frozenset[str]:
        negate = self.peek() == "^"
        if negate:
            self.pos += 1
        chosen: set[str] = set()
        while (char := self.peek()) != "]":
            if char is None:
                raise self.error("'[' is never closed")
            self.pos += 1
            if char == ",":
                continue
            if self.peek() == "-" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] != "]":
                last = self.text[self.pos + 1]
                self.pos += 2
                if not (char.isdigit() and last.isdigit() and char <= last):
                    raise self.error(f"bad range {char}-{last}")
                chosen.update(str(d) for d in range(int(char), int(last) + 1))
            elif char.upper() in KEYS:
                chosen.add(char.upper())
            else:
                raise self.error(f"unexpected {char!r} in a set")
        self.pos += 1
        return frozenset(KEYS - chosen if negate else chosen)


class _Automaton:
    """A compiled pattern: its NFA, and the answers it has already given.

    Patterns are compiled once per text and shared (by every :class:`DialPattern` of that text, in
    every thread), and the questions the checks ask are few and asked over and over (each access
    code in front of each area code, for every block pattern, in several checks), so every answer
    is kept. The answers depend only on the pattern, so sharing them is safe; the memo dicts are
    only ever filled with the same value for the same key, so two threads racing on one merely
    compute it twice.
    """

    def __init__(self, text: str) -> None:
        builder = _Builder()
        start, self.accept = _Parser(text, builder).parse()
        self.edges = builder.edges
        self.initial = self._closure((start,))
        # The keys a number can start with: any other first key leaves no state (a big router's
        # thousands of dial-peers are each asked about every access code and area code).
        self.first_keys = frozenset(
            key for state in self.initial for keys, _ in self.edges[state] if keys is not None for key in keys
        )
        self._steps: dict[tuple[frozenset[int], str], frozenset[int]] = {}
        self._prefixes: dict[str, frozenset[int]] = {"": self.initial}
        self._some: dict[tuple[str, int, int, int], bool] = {}
        self._blocks: dict[tuple[str, int], bool] = {}
        self._covered: dict[tuple[frozenset[int], int], bool] = {}

    def _closure(self, states: Iterable[int]) -> frozenset[int]:
        seen = set(states)
        stack = list(seen)
        while stack:
            for keys, target in self.edges[stack.pop()]:
                if keys is None and target not in seen:
                    seen.add(target)
                    stack.append(target)
        return frozenset(seen)

    def step(self, states: frozenset[int], keys: str) -> frozenset[int]:
        """The states reached from ``states`` by one of ``keys`` (a key, or several keys as one string)."""
        memo_key = (states, keys)
        found = self._steps.get(memo_key)
        if found is None:
            wanted = set(keys)
            moved = {
                target
                for state in states
                for edge_keys, target in self.edges[state]
                if edge_keys is not None and not edge_keys.isdisjoint(wanted)
            }
            found = self._steps[memo_key] = self._closure(moved)
        return found

    def after(self, prefix: str) -> frozenset[int]:
        """The states reached by dialling ``prefix``."""
        found = self._prefixes.get(prefix)
        if found is None:
            # From the prefix one key shorter, itself kept: questions share their first keys (an
            # access code, "1", an area code's first digits), so each is mostly one step.
            shorter = self.after(prefix[:-1])
            found = self.step(shorter, prefix[-1]) if shorter else shorter
            self._prefixes[prefix] = found
        return found

    def matches_some(self, prefix: str, tail_lengths: range) -> bool:
        if prefix and prefix[0] not in self.first_keys:
            return False
        memo_key = (prefix, tail_lengths.start, tail_lengths.stop, tail_lengths.step)
        found = self._some.get(memo_key)
        if found is None:
            found = self._some[memo_key] = self._matches_some(prefix, tail_lengths)
        return found

    def _matches_some(self, prefix: str, tail_lengths: range) -> bool:
        states = self.after(prefix)
        for length in range(0, min(tail_lengths.stop, MAX_DIGITS + 1)):
            if not states:
                return False
            if length in tail_lengths and self.accept in states:
                return True
            states = self.step(states, DIGITS)
        return False

    def blocks_all(self, prefix: str, tail_length: int) -> bool:
        memo_key = (prefix, tail_length)
        found = self._blocks.get(memo_key)
        if found is None:
            found = self._blocks[memo_key] = self._blocks_all(prefix, tail_length)
        return found

    def _blocks_all(self, prefix: str, tail_length: int) -> bool:
        states = self.initial
        for key in prefix:
            if self.accept in states:
                return True
            states = self.step(states, key)
            if not states:
                return False
        return self.covers(states, tail_length)

    def covers(self, states: frozenset[int], remaining: int) -> bool:
        """True when every ``remaining`` more digits from ``states`` pass through the accepting state."""
        memo_key = (states, remaining)
        found = self._covered.get(memo_key)
        if found is None:
            if self.accept in states:
                found = True
            elif remaining == 0 or not states:
                found = False
            else:
                found = all(self.covers(self.step(states, digit), remaining - 1) for digit in DIGITS)
            self._covered[memo_key] = found
        return found


@lru_cache(maxsize=4096)
def _automaton(text: str) -> _Automaton:
    # A pattern that cannot be read raises PatternError, which lru_cache does not keep: it is
    # raised again for every DialPattern of that text, as it should be.
    return _Automaton(text)


class DialPattern:
    """An IOS destination pattern (or after-hours block pattern) that can be queried."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._automaton = _automaton(text)

    def __repr__(self) -> str:
        return f"DialPattern({self.text!r})"

    def matches(self, dialled: str) -> bool:
        """True when the pattern matches the whole of ``dialled``."""
        automaton = self._automaton
        return automaton.accept in automaton.after(dialled)

    def matches_some(self, prefix: str, tail_lengths: range) -> bool:
        """True when the pattern matches ``prefix`` followed by some digits, as many as one of ``tail_lengths``."""
        return self._automaton.matches_some(prefix, tail_lengths)

    def blocks_all(self, prefix: str, tail_length: int) -> bool:
        """True when every number ``prefix`` + ``tail_length`` digits begins with a string the pattern matches.

        That is how CME applies an after-hours block pattern: a call is blocked as soon as the digits
        dialled so far match it (``9011`` blocks 9011 and everything after it).
        """
        return self._automaton.blocks_all(prefix, tail_length)


# --- number classes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberClass:
    """A kind of costly destination, as NANP users dial it.

    ``forms`` are (prefix dialled after an access code, possible counts of digits after it);
    ``e164_forms`` the same for numbers dialled in E.164 form (``+...``), which take no access code.
    """

    name: str
    label: str
    forms: tuple[tuple[str, range], ...]
    e164_forms: tuple[tuple[str, range], ...] = ()
    #: For short numbers (411): a number of the same length that is no service. A fixed-length
    #: pattern that matches it too (``9...``, ``4..``) is an extension range that happens to include
    #: 9-411, not a route to directory assistance.
    sibling: str | None = None

    def reached_by(self, pattern: DialPattern) -> bool:
        return any(
            pattern.matches_some(code + prefix, tail) and not self._extension_range(pattern, code, prefix)
            for prefix, tail in self.forms
            for code in ACCESS_CODES
        ) or any(pattern.matches_some(prefix, tail) for prefix, tail in self.e164_forms)

    def _extension_range(self, pattern: DialPattern, code: str, prefix: str) -> bool:
        if self.sibling is None:
            return False
        variable_length = pattern.matches_some(code + prefix, range(1, MAX_DIGITS + 1))
        return pattern.matches(code + self.sibling) and not variable_length


# The shortest international numbers (country code + subscriber) have 7 digits after 011; a
# pattern that cannot take that many after 9-011 (a 7-digit local pattern "9.......") does not
# reach them. NANP premium numbers are 1-900/976-NXX-XXXX: exactly 7 digits after 1900/1976.
_INTERNATIONAL_TAIL = range(7, MAX_DIGITS + 1)
_NANP_TAIL = range(7, 8)

INTERNATIONAL = NumberClass(
    "international",
    "international (011)",
    (("011", _INTERNATIONAL_TAIL),),
    tuple((f"+{digit}", range(6, MAX_DIGITS + 1)) for digit in "23456789"),
)
PREMIUM = NumberClass(
    "premium",
    "premium (1900/1976)",
    (("1900", _NANP_TAIL), ("1976", _NANP_TAIL)),
    (("+1900", _NANP_TAIL), ("+1976", _NANP_TAIL)),
)
DIRECTORY = NumberClass("directory", "directory (411)", (("411", range(0, 1)),), sibling="412")
TOLL_CLASSES: tuple[NumberClass, ...] = (INTERNATIONAL, PREMIUM, DIRECTORY)
#: Ordinary NANP long distance, 1 + area code + 7 digits; 212 stands for any non-premium area code.
#: Not costly in itself: it tells a general long-distance route (which also reaches 1-900) from a
#: route built for premium numbers only.
LONG_DISTANCE = NumberClass("long-distance", "long-distance (1 + area code)", (("1212", _NANP_TAIL),))


def access_codes_reaching(patterns: Iterable[DialPattern], prefix: str, tail: range) -> set[str]:
    """The :data:`ACCESS_CODES` through which one of ``patterns`` routes ``code + prefix + tail``."""
    return access_codes_reaching_each(patterns, [prefix], tail)[prefix]


def access_codes_reaching_each(patterns: Iterable[DialPattern], prefixes: list[str], tail: range) -> dict[str, set[str]]:
    """:func:`access_codes_reaching` for each of ``prefixes``, in one pass over the patterns."""
    found: dict[str, set[str]] = {prefix: set() for prefix in prefixes}
    shared = os.path.commonprefix(prefixes) if prefixes else ""
    # Patterns of the same text share one automaton and so one answer: each is asked once.
    for automaton in {id(p._automaton): p._automaton for p in patterns}.values():
        for code in ACCESS_CODES:
            # Nothing left after the prefixes' shared start (the "1" of 1 + area code): none matches.
            if not automaton.after(code + shared):
                continue
            for prefix in prefixes:
                codes = found[prefix]
                if code not in codes and automaton.matches_some(code + prefix, tail):
                    codes.add(code)
    return found


# --- dial-peers ----------------------------------------------------------------------------------

_DIAL_PEER = re.compile(r"dial-peer voice (\S+) (\S+)")


@dataclass(frozen=True)
class Destination:
    """A pattern that routes calls to a dial-peer, and the config line it comes from."""

    line: ConfigLine
    pattern: DialPattern


@dataclass(frozen=True)
class DialPeer:
    """One ``dial-peer voice TAG KIND`` section."""

    header: ConfigLine
    tag: str
    kind: str  # pots, voip, vofr, voatm, mmoip
    destinations: tuple[Destination, ...]
    #: Why (some of) the peer's destinations cannot be read: an unparsable pattern, a pattern map
    #: kept in a file.
    unreadable: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"dial-peer voice {self.tag} {self.kind}"

    @property
    def shutdown(self) -> bool:
        return self.header.has(r"shutdown$")

    @property
    def destination_line(self) -> ConfigLine | None:
        return self.header.first(r"(destination-pattern|destination e164-pattern-map) ")

    def setting(self, pattern: str) -> ConfigLine | None:
        return self.header.first(pattern)

    @property
    def corlist_outgoing(self) -> ConfigLine | None:
        return self.header.first(r"corlist outgoing \S+")

    @property
    def max_conn(self) -> ConfigLine | None:
        return self.header.first(r"max-conn \d+")

    def patterns(self) -> list[DialPattern]:
        return [d.pattern for d in self.destinations]


def _pattern_maps(config: RunningConfig) -> dict[str, ConfigLine]:
    return {line.words[3]: line for line in config.sections(r"voice class e164-pattern-map \S+$")}


def dial_peers(config: RunningConfig) -> list[DialPeer]:
    """Every ``dial-peer voice`` section, with its destination patterns read."""
    maps = _pattern_maps(config)
    peers: list[DialPeer] = []
    for header in config.sections(r"dial-peer voice \S+ \S+"):
        match = _DIAL_PEER.match(header.command)
        assert match is not None
        tag, kind = match.group(1), match.group(2).lower()
        destinations: list[Destination] = []
        unreadable: list[str] = []
        for line in header.find(r"destination-pattern \S+"):
            text = line.words[1]
            try:
                destinations.append(Destination(line, DialPattern(text)))
            except PatternError as exc:
                unreadable.append(f"line {line.number}: {exc}")
        for line in header.find(r"destination e164-pattern-map \S+"):
            pattern_map = maps.get(line.words[2])
            if pattern_map is None:
                continue  # IOS routes nothing through a map that does not exist
            if pattern_map.has(r"url "):
                unreadable.append(f"line {line.number}: e164-pattern-map {line.words[2]} is loaded from a file")
            for entry in pattern_map.find(r"e164 \S+"):
                try:
                    destinations.append(Destination(entry, DialPattern(entry.words[1])))
                except PatternError as exc:
                    unreadable.append(f"line {entry.number}: {exc}")
        peers.append(DialPeer(header, tag, kind, tuple(destinations), tuple(unreadable)))
    return peers


# --- class of restriction ------------------------------------------------------------------------


@dataclass(frozen=True)
class CorList:
    """One ``dial-peer cor list NAME`` with its ``member`` lines."""

    header: ConfigLine
    name: str
    members: tuple[ConfigLine, ...]

    @property
    def member_names(self) -> list[str]:
        return [line.words[1] for line in self.members]


@dataclass(frozen=True)
class CorSetup:
    """What ``dial-peer cor custom`` and ``dial-peer cor list`` define."""

    custom: tuple[ConfigLine, ...]
    names: dict[str, ConfigLine]
    lists: dict[str, CorList]


def cor_setup(config: RunningConfig) -> CorSetup:
    custom = tuple(config.sections(r"dial-peer cor custom$"))
    names = {line.words[1]: line for section in custom for line in section.find(r"name \S+")}
    lists = {
        header.words[3]: CorList(header, header.words[3], tuple(header.find(r"member \S+")))
        for header in config.sections(r"dial-peer cor list \S+")
    }
    return CorSetup(custom, names, lists)


@dataclass(frozen=True)
class CorUse:
    """A line that applies a COR list: ``corlist incoming X`` on a dial-peer, ``cor incoming X ...`` on a pool."""

    owner: ConfigLine
    line: ConfigLine
    direction: str  # "incoming" or "outgoing"
    list_name: str


# Sections that can apply COR lists. Dial-peers and ephone-dns print ``corlist``; the guide writes
# ``cor incoming`` under ephone-dn (IOS expands the abbreviation), SIP pools, their templates and
# SRST's call-manager-fallback use ``cor incoming NAME [N RANGE | default]``.
_COR_OWNERS = re.compile(
    r"(dial-peer voice \S+ \S+|ephone-dn \d+|ephone-dn-template \d+|voice register (pool|template) \d+|"
    r"call-manager-fallback)"
)
_COR_LINE = re.compile(r"(corlist|cor) (incoming|outgoing) (\S+)")


def cor_uses(config: RunningConfig) -> list[CorUse]:
    """Every line that applies a COR list, in config order."""
    uses: list[CorUse] = []
    for owner in config.sections(_COR_OWNERS.pattern):
        for line in owner.find(_COR_LINE.pattern):
            match = _COR_LINE.match(line.command)
            if match:
                uses.append(CorUse(owner, line, match.group(2), match.group(3)))
    return uses
