"""Damage in a running-config capture: what it is, where it is, and which conclusions it can reach.

A capture that went through a terminal log or a web page is rarely what the router printed: its
head or tail may be cut, its indentation lost or turned into TABs, two lines joined into one, a
doc comment wrapped onto a line without its ``!``, prompts and log messages printed after its
``end``. Each :class:`Damage` says what happened, at which lines, and what it can hide:

- ``bands``: stretches of IOS's printing order (:mod:`cmelive.parsing.ios_order`) whose global
  commands may be missing (a cut tail hides everything printed after its last line);
- ``unsure``: lines whose reading or place is a guess (a line that may hold two commands, a line
  placed by grammar after the indentation was lost) — a query its text could answer is touched;
- ``sections``: line ranges of sections whose sub-mode lines may be incomplete;
- ``everything``: no part of the config can be vouched for (two captures pasted together, a
  filtered ``show run | ...``).

Damage that was repaired (a TAB layout turned back into indentation, a joined line split at a
known command) hides nothing but is still reported, so a reader knows the layout was rebuilt.

The audit engine records which queries a check made (:func:`recording`); a conclusion drawn from
absence is withdrawn only when one of them could have been answered differently by the damaged
part (:func:`touching`). A stray TAB in one ``ephone`` block then leaves the ``enable secret``
verdict alone, and a cut head still makes "service password-encryption is off" unknown.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from cmelive.parsing import ios_grammar, ios_order


class DamageKind(StrEnum):
    CUT_TAIL = "cut tail"
    CUT_HEAD = "cut head"
    LOST_INDENTATION = "lost indentation"
    TAB_LAYOUT = "TAB layout"
    JOINED_LINES = "joined lines"
    DOC_COMMENT = "doc comment"
    CODE_FENCES = "code fences"
    TEXT_AFTER_END = "text after end"
    TEXT_BEFORE = "text before the capture"
    LOG_MESSAGES = "router log messages"
    SECOND_CAPTURE = "second capture"
    REPEATED = "printed twice"
    FILTERED = "filtered view"
    ELISION = "elision"
    PAGER = "pager debris"
    UNCLOSED_BANNER = "unclosed banner"
    ORPHAN_LINES = "lines outside any section"
    OUT_OF_ORDER = "out of IOS order"
    EMPTY = "empty"


@dataclass(frozen=True)
class UnsureLine:
    """A line whose reading or place is a guess: any command in ``texts`` may be there, or not."""

    number: int
    #: What the line may hold, each as a command (a joined line: each of its word suffixes).
    texts: tuple[str, ...]
    #: The first line of the top-level section it sits in (None at top level): queries into
    #: other sections cannot be answered by it.
    section: int | None = None
    #: It may be a top-level line (a global, a section header): top-level queries can be answered by it.
    may_be_top: bool = True
    #: It may be a sub-mode line (of ``section``, or of any section when that is None).
    may_be_child: bool = True


@dataclass(frozen=True)
class Damage:
    """One kind of damage, at some lines, and what it can hide."""

    kind: DamageKind
    #: Short, for a one-line summary: "cut after line 212", "layout rebuilt".
    summary: str
    #: The full sentence, as the report's problem list shows it.
    detail: str
    lines: tuple[int, ...] = ()
    bands: frozenset[int] = frozenset()
    unsure: tuple[UnsureLine, ...] = ()
    #: (first line, last line) of sections whose sub-mode lines may be missing or misplaced.
    sections: tuple[tuple[int, int], ...] = ()
    everything: bool = False

    @property
    def hides_anything(self) -> bool:
        """False for damage that was repaired, or only set text aside: nothing can be missing."""
        return self.everything or bool(self.bands or self.unsure or self.sections)


# --- what a check read -------------------------------------------------------------------------


@dataclass
class Reads:
    """The queries one check made on the running-config (recorded only when it is damaged)."""

    #: Patterns asked of the top-level lines (``globals``, ``sections``, ``first_global``).
    tops: list[str] = field(default_factory=list)
    #: (number of the line asked, pattern) for sub-mode queries (``ConfigLine.find``/``first``/``has``).
    children: list[tuple[int, str]] = field(default_factory=list)
    #: Patterns asked of every line at any depth (``anywhere``).
    anywhere: list[str] = field(default_factory=list)
    #: Every line was walked (``lines()``): any damage touches it.
    everything: bool = False

    def merge(self, other: Reads) -> None:
        self.tops.extend(other.tops)
        self.children.extend(other.children)
        self.anywhere.extend(other.anywhere)
        self.everything = self.everything or other.everything

    @property
    def empty(self) -> bool:
        return not (self.tops or self.children or self.anywhere or self.everything)


_CURRENT: ContextVar[Reads | None] = ContextVar("cmelive_config_reads", default=None)


#: The reads being recorded in this context, if any (the parser's query methods add to them).
current = _CURRENT.get


@contextmanager
def recording(active: bool = True) -> Iterator[Reads]:
    """Record the running-config queries made inside the block (nested blocks also feed the outer one).

    Recording costs a little on every query, so the engine asks for it only on a damaged config:
    with ``active`` False the block runs unrecorded and the yielded reads stay empty.
    """
    reads = Reads()
    if not active:
        yield reads
        return
    outer = _CURRENT.get()
    token = _CURRENT.set(reads)
    try:
        yield reads
    finally:
        _CURRENT.reset(token)
        if outer is not None:
            outer.merge(reads)


def replay(reads: Reads) -> None:
    """Add ``reads`` (kept from an earlier, cached computation) to the recording in progress."""
    outer = _CURRENT.get()
    if outer is not None and outer is not reads:
        outer.merge(reads)


# --- which damage a check's reads touch --------------------------------------------------------------


@lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def touching(damage: Sequence[Damage], reads: Reads, section_starts: Sequence[int]) -> list[Damage]:
    """The damage that could have changed the answer of one of ``reads``' queries.

    ``section_starts`` are the line numbers of the config's top-level lines, in order: a sub-mode
    query belongs to the section whose start is the last one before the line it asked.
    """
    return [item for item in damage if item.hides_anything and _touches(item, reads, section_starts)]


def _touches(item: Damage, reads: Reads, section_starts: Sequence[int]) -> bool:
    if reads.empty:
        return False  # the check read nothing of the config: nothing in it can change its answer
    if item.everything or reads.everything:
        return True
    if item.bands:
        if any(ios_order.pattern_bands(pattern) & item.bands for pattern in reads.tops):
            return True
        if any(_anywhere_bands(pattern) & item.bands for pattern in reads.anywhere):
            return True
    for first, last in item.sections:
        if any(first <= number <= last for number, _ in reads.children):
            return True
    for line in item.unsure:
        if _unsure_touched(line, reads, section_starts):
            return True
    return False


@lru_cache(maxsize=512)
def _anywhere_bands(pattern: str) -> frozenset[int]:
    """Stretches a line matching ``pattern`` at any depth can be printed in: as a global line, or as
    a sub-mode line of a section that accepts its first word (every stretch when none is known)."""
    prefixes = ios_order.literal_prefixes(pattern)
    if prefixes is None:
        return ios_order.ALL_BANDS
    as_global = ios_order.pattern_bands(pattern)
    found: set[int] = set() if as_global == ios_order.ALL_BANDS else set(as_global)
    for prefix in prefixes:
        first = prefix.split(" ", 1)[0]
        kinds = ios_grammar.kinds_accepting(first) if " " in prefix else frozenset()
        if not kinds and not found:
            return ios_order.ALL_BANDS
        for kind in kinds:
            found.update(ios_order.bands_of(kind) or ios_order.BANDS)
    return frozenset(found)


def _unsure_touched(line: UnsureLine, reads: Reads, section_starts: Sequence[int]) -> bool:
    patterns = [*reads.tops, *reads.anywhere] if line.may_be_top else list(reads.anywhere)
    if not line.may_be_child:
        pass
    elif line.section is None:
        patterns.extend(pattern for _, pattern in reads.children)
    else:
        patterns.extend(
            pattern for number, pattern in reads.children if _section_of(number, section_starts) == line.section
        )
    return any(_regex(pattern).match(text) for pattern in patterns for text in line.texts)


def _section_of(number: int, section_starts: Sequence[int]) -> int | None:
    position = bisect.bisect_right(section_starts, number) - 1
    return section_starts[position] if position >= 0 else None


def word_suffixes(command: str) -> tuple[str, ...]:
    """``"a b c"`` -> ``("a b c", "b c", "c")``: what a line that may hold joined commands may hold."""
    words = command.split(" ")
    return tuple(" ".join(words[start:]) for start in range(len(words)))


def explain(damage: Sequence[Damage]) -> str:
    """The damage that withdrew a conclusion, in one clause: "cut after line 212; layout rebuilt"."""
    return "; ".join(item.detail for item in damage)


def band_names(bands: frozenset[int]) -> str:
    return ios_order.describe(bands)
