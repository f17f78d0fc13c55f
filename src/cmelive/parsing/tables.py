"""TextFSM parsing: cmelive's own templates (``parsers/``) first, ntc-templates for the rest."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import textfsm
from textfsm import clitable

from cmelive.commands import is_prompt_line
from cmelive.errors import CmeliveError

PLATFORM = "cisco_ios"
INDEX_FILE = "index"


class ParseError(CmeliveError):
    """A template rejected the output (TextFSM ``Error`` state) or no template matches."""


def templates_dir() -> Path:
    """Our template directory: bundled in the wheel, or top-level ``parsers/`` in a checkout."""
    bundled = resources.files("cmelive").joinpath("_parsers")
    if bundled.is_dir():
        return Path(str(bundled))
    return Path(__file__).resolve().parents[3] / "parsers"


def ntc_templates_dir() -> Path:
    """The template directory of the installed ntc-templates package."""
    import ntc_templates

    return Path(ntc_templates.__file__).parent / "templates"


def _template_dirs() -> tuple[Path, Path]:
    return templates_dir(), ntc_templates_dir()


@dataclass(frozen=True)
class _IndexEntry:
    """Where the indexes send a command: a template directory and the template file(s) there."""

    directory: Path
    #: An index row may chain several templates with ':'; ours never do, ntc's rarely.
    files: tuple[str, ...]


# clitable's IndexTable iterates its rows with a cursor stored on the shared table, so two threads
# matching at once would disturb each other: every index lookup happens under this lock (and then
# never again for the same command, thanks to the cache in front of it).
_INDEX_LOCK = threading.Lock()


@lru_cache(maxsize=1024)
def _index_entry(command: str) -> _IndexEntry | None:
    """The first index (ours, then ntc-templates') with a row for ``command``, as clitable matches rows."""
    attributes = {"Command": command, "Platform": PLATFORM}
    for directory in _template_dirs():
        with _INDEX_LOCK:
            # textfsm keeps each index it has read (per path), so only the first call reads the file.
            index = clitable.CliTable(INDEX_FILE, str(directory)).index
            row = index.GetRowMatch(attributes)
            if row:
                return _IndexEntry(directory, tuple(str(index.index[row]["Template"]).split(":")))
    return None


def template_for(command: str) -> Path | None:
    """The template file that ``parse_table`` would use for ``command``, or None if there is none."""
    entry = _index_entry(command)
    return None if entry is None else entry.directory / entry.files[0]


# A named group in a rule's regex (as TextFSM writes a Value into it); not one escaped as ``\(``.
_NAMED_GROUP = re.compile(r"(?<!\\)\(\?P<\w+>")
# What would make a rule's regex mean something else inside one alternation: a back-reference
# (by name or number, whose groups are renamed or renumbered there) or an inline global flag.
_CONTEXT_BOUND = re.compile(r"\(\?P=|\\[1-9]|\(\?[aiLmsux]+\)")


def _first_rule_finder(rules: list[Any]) -> re.Pattern[str] | None:
    """One regex whose match names the first of ``rules`` whose own regex matches a line.

    The rules' regexes joined as alternatives, in order, each followed by an empty group named
    after its position: ``re`` tries alternatives in order and succeeds on the first that can
    match, so the last group closed (``lastgroup``) is that rule's. The rules' own groups become
    non-capturing (their names repeat across rules; the match that assigns values is the rule's
    own, made afterwards). None when a regex cannot be joined safely: TextFSM's loop then runs as is.
    """
    parts = []
    for position, rule in enumerate(rules):
        # Only a rule TextFSM matches with ``re`` itself (its regex unwrapped, as
        # _DispatchingFSM does): another engine, or a TextFSM that changed, keeps its own loop.
        if not isinstance(rule.regex_obj, re.Pattern):
            return None
        pattern = rule.regex_obj.pattern
        if not isinstance(pattern, str) or _CONTEXT_BOUND.search(pattern):
            return None
        try:
            own = re.compile(pattern)
            plain = _NAMED_GROUP.sub("(?:", pattern)
            joined = re.compile(plain)
        except re.error:
            return None
        if joined.groupindex or joined.groups != own.groups - len(own.groupindex):
            return None  # a "(?P<" the substitution misread: not worth the risk
        parts.append(f"(?:{plain})(?P<_{position}>)")
    try:
        return re.compile("|".join(parts)) if parts else None
    except re.error:
        return None


class _DispatchingFSM(textfsm.TextFSM):
    """TextFSM that skips, in one regex call, the rules of the current state that cannot match.

    TextFSM tries a state's rules one by one, a Python call each, until one matches: ~2,000 calls
    per device, most of them misses (rules that catch unknown lines come last). Here one joined
    regex (:func:`_first_rule_finder`) says which rule matches first, and TextFSM's own
    ``_CheckLine`` runs from that rule on: the rules skipped are exactly those that would not have
    matched, so the records, the ``Continue``/``Record``/``Error`` actions and the state
    transitions are TextFSM's. A line no rule matches does nothing, as in TextFSM.
    """

    _cur_state: list[Any]  # TextFSM's, untyped there: the current state's rules

    def __init__(self, template: io.StringIO) -> None:
        super().__init__(template)
        for rules in self.states.values():
            for rule in rules:
                # TextFSM wraps each compiled regex in a copyable object, one Python call per
                # match; a compiled regex copies too (and no pooled FSM is ever copied).
                compiled = getattr(rule.regex_obj, "regex", None)
                if isinstance(compiled, re.Pattern):
                    rule.regex_obj = compiled
        self._finders: dict[int, re.Pattern[str] | None] = {
            id(rules): _first_rule_finder(rules) for rules in self.states.values()
        }
        # TextFSM looks a value up by name along its list for every value of every matched line;
        # names are unique in a template (TextFSM refuses a duplicate), so a dict answers the same.
        self._values_by_name: dict[str, Any] = {}
        for value in self.values:
            self._values_by_name.setdefault(value.name, value)

    def _GetValue(self, name: str) -> Any:  # TextFSM's name
        return self._values_by_name.get(name)

    def _CheckLine(self, line: str) -> None:  # TextFSM's name
        state = self._cur_state
        finder = self._finders.get(id(state))
        if finder is None:
            super()._CheckLine(line)
            return
        found = finder.match(line)
        if found is None:
            return
        first = int(str(found.lastgroup)[1:])
        if first == 0:
            super()._CheckLine(line)
            return
        rest = state[first:]
        self._cur_state = rest
        try:
            super()._CheckLine(line)
        finally:
            if self._cur_state is rest:  # no transition (one to this same state puts back its list)
                self._cur_state = state


class _FsmPool:
    """Compiled TextFSMs of one template file, each lent to one parse at a time.

    A TextFSM holds the state of the parse it runs, so two threads must never use one at once;
    compiling one per parse is what made parsing slow. A parse borrows an idle one (a new one is
    compiled only when every one is busy), resets it, and gives it back: a fleet's threads share
    as many as ever ran this template at the same moment, which under the GIL is a handful.
    """

    def __init__(self, path: Path) -> None:
        self._template = path.read_text()
        self._idle: list[textfsm.TextFSM] = []
        self._lock = threading.Lock()

    @contextmanager
    def borrow(self) -> Iterator[textfsm.TextFSM]:
        with self._lock:
            fsm = self._idle.pop() if self._idle else None
        if fsm is None:
            fsm = _DispatchingFSM(io.StringIO(self._template))
        fsm.Reset()
        try:
            yield fsm
        finally:
            with self._lock:
                self._idle.append(fsm)


_POOLS: dict[Path, _FsmPool] = {}
_POOLS_LOCK = threading.Lock()


def _pool(path: Path) -> _FsmPool:
    with _POOLS_LOCK:
        pool = _POOLS.get(path)
        if pool is None:
            pool = _POOLS[path] = _FsmPool(path)
        return pool


def strip_pasted_prompt(text: str, command: str | None = None) -> str:
    """Drop the line a pasted capture starts with: ``router#show ...``, or the bare command itself.

    A bare line (no prompt) is dropped only when ``command`` is given and the line is a ``show``
    command that maps to the same template (``sh ephone reg`` for ``show ephone registered``):
    no output of those commands starts with such a line, so nothing real is ever dropped.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        if is_prompt_line(line) or (command is not None and _is_bare_command_line(line, command)):
            return "\n".join(lines[index + 1 :])
        break
    return text


def _is_bare_command_line(line: str, command: str) -> bool:
    words = line.split()
    if not words or not "show".startswith(words[0].lower()) or len(words[0]) < 2:
        return False
    wanted = template_for(command)
    return wanted is not None and template_for(" ".join(words)) == wanted


def normalise_output(text: str, command: str | None = None) -> str:
    """What the templates see: Unix line ends, no pasted prompt or command line at the top."""
    return strip_pasted_prompt(text.replace("\r\n", "\n").replace("\r", "\n"), command)


def parse_table(command: str, text: str) -> list[dict[str, Any]]:
    """Parse ``text`` printed by ``command`` into records (lower-case keys, as ntc-templates gives).

    Raises :class:`ParseError` when no template knows the command or when the template reached its
    ``Error`` state (a line it does not recognise): the caller must then treat the evidence as
    unknown. A broken template (syntax error) is a bug and is not turned into a ``ParseError``.
    Safe to call from many threads at once.
    """
    body = normalise_output(text, command)
    entry = _index_entry(command)
    if entry is None:
        attributes = {"Command": command, "Platform": PLATFORM}
        # The words clitable uses when no index row matches, as this message always said.
        raise ParseError(f'{command}: no template (No template found for attributes: "{attributes}")')
    try:
        if len(entry.files) == 1:
            with _pool(entry.directory / entry.files[0]).borrow() as fsm:
                # Read while the FSM is still ours: its rows are its own state.
                return _records(fsm.header, fsm.ParseText(body))
        header, rows = _parse_chained(entry, body)
    except textfsm.TextFSMError as exc:  # the template said "Error": a line it does not know
        raise ParseError(f"{command}: {exc}") from exc
    return _records(header, rows)


def _records(header: list[str], rows: list[list[Any]]) -> list[dict[str, Any]]:
    keys = [str(h).lower() for h in header]
    return [dict(zip(keys, (_cell(v) for v in row))) for row in rows]


def _parse_chained(entry: _IndexEntry, body: str) -> tuple[list[str], list[list[Any]]]:
    """Several templates for one command: clitable parses with each and merges rows on their keys."""
    # A fresh table: it holds the parse. Passing the templates skips the shared index entirely.
    table = clitable.CliTable(INDEX_FILE, str(entry.directory))
    table.ParseCmd(body, templates=":".join(entry.files))
    return list(table.header), [list(row) for row in table]


def _cell(value: Any) -> Any:
    """A value as clitable's table stores it: text, or a list of texts for a ``List`` value."""
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return str(value)
