"""Waivers: a failure the site has accepted, for a reason, by an owner, until a date.

A waivers file is a YAML list of entries (or a mapping whose only key is ``waivers:``)::

    - check: CME-ACC-04
      device: "branch-*"          # or group: / tag: — exactly one; a name or a list of names
      reason: Telnet needed by the legacy paging server until it is replaced
      owner: voice-team@example.com
      expires: 2025-06-30         # the waiver applies through this day

A matching failure becomes ``waived`` (and no longer counts against ``--fail-on``). Once the
waiver has expired the failure stands, carrying the waiver marked ``expired`` so reports can say
so. Waivers that waived nothing in a run are *stale*: the problem is fixed, or the selector is wrong.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

import yaml

from cmelive.checks import get_check
from cmelive.checks.base import CheckResult, Status
from cmelive.errors import InputError
from cmelive.report.model import DeviceReport
from cmelive.yaml_bounds import compose_within_bounds


class SelectorKind(StrEnum):
    DEVICE = "device"
    GROUP = "group"
    TAG = "tag"


_REQUIRED = ("check", "reason", "owner", "expires")
_KEYS = frozenset(_REQUIRED) | frozenset(kind.value for kind in SelectorKind)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Waiver:
    """One waiver entry; ``source`` is its ``file:line``."""

    check: str
    kind: SelectorKind
    selector: tuple[str, ...]
    reason: str
    owner: str
    expires: date
    source: str

    def selects(self, device: str, groups: Sequence[str] = (), tags: Sequence[str] = ()) -> bool:
        """Whether the selector picks this device (device names may use ``*``/``?`` globs)."""
        if self.kind == SelectorKind.DEVICE:
            return any(fnmatch.fnmatchcase(device, pattern) for pattern in self.selector)
        names = groups if self.kind == SelectorKind.GROUP else tags
        return any(name in self.selector for name in names)

    def expired(self, today: date) -> bool:
        """A waiver holds through its ``expires`` day and stops the day after."""
        return today > self.expires

    def describe(self) -> str:
        return f"{self.check} for {self.kind} {', '.join(self.selector)} ({self.source})"

    def record(self, *, expired: bool = False) -> dict[str, str]:
        """What a result carries: reason, owner, expiry (and ``expired: "true"`` once it has)."""
        out = {"reason": self.reason, "owner": self.owner, "expires": self.expires.isoformat()}
        if expired:
            out["expired"] = "true"
        return out


@dataclass
class WaiverUsage:
    """What the waivers did over a run, so the fleet summary can list the ones that did nothing.

    Fill it by passing it to every :func:`apply_waivers` call of the run. Sets are safe to share
    between worker threads (``set.add`` is atomic).
    """

    applied: set[Waiver] = field(default_factory=set)  # waived a failure
    expired: set[Waiver] = field(default_factory=set)  # matched a failure, but had expired
    # Selected a device whose check could not be evaluated (unknown, not run, device unreachable):
    # we cannot tell whether the waiver is still needed, so it is not called stale.
    undetermined: set[Waiver] = field(default_factory=set)

    def update(self, other: WaiverUsage) -> None:
        """Take in what ``other`` recorded (a device judged in another process)."""
        self.applied |= other.applied
        self.expired |= other.expired
        self.undetermined |= other.undetermined

    def stale(self, waivers: Iterable[Waiver]) -> list[Waiver]:
        """Waivers that matched no failure (nor any device where the check could not be judged)."""
        used = self.applied | self.expired | self.undetermined
        return [waiver for waiver in waivers if waiver not in used]


def apply_waivers(
    device: DeviceReport,
    waivers: Sequence[Waiver],
    *,
    groups: Sequence[str] = (),
    tags: Sequence[str] = (),
    today: date,
    usage: WaiverUsage | None = None,
) -> DeviceReport:
    """Return ``device`` with the failures its waivers cover marked ``waived``.

    Among several waivers for one failure, an unexpired one wins (the one that runs longest, so the
    report shows when the failure will come back); when all have expired, the failure stays
    ``fail`` and carries the one that expired last, marked ``expired``.
    """
    selecting = [w for w in waivers if w.selects(device.name, groups, tags)]
    if not selecting:
        return device
    results_by_check = {r.check: r for r in device.results}
    new_results: list[CheckResult] = []
    for result in device.results:
        matching = [w for w in selecting if w.check == result.check]
        if result.status != Status.FAIL or not matching:
            new_results.append(result)
            continue
        live = [w for w in matching if not w.expired(today)]
        if live:
            chosen = max(live, key=lambda w: w.expires)
            new_results.append(dataclasses.replace(result, status=Status.WAIVED, waiver=chosen.record()))
            if usage is not None:
                usage.applied.update(live)
        else:
            chosen = max(matching, key=lambda w: w.expires)
            new_results.append(dataclasses.replace(result, waiver=chosen.record(expired=True)))
            if usage is not None:
                usage.expired.update(matching)
    if usage is not None:
        for waiver in selecting:
            judged = results_by_check.get(waiver.check)
            if judged is None or judged.status == Status.UNKNOWN:
                usage.undetermined.add(waiver)
    return dataclasses.replace(device, results=new_results)


# ---------------------------------------------------------------------------------------------
# Loading


def load_waivers(path: Path) -> list[Waiver]:
    """Read a waivers file; every error names ``file:line`` and what is wrong."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(where, "waivers file does not exist") from exc
    except IsADirectoryError as exc:
        raise InputError(where, "is a directory, not a waivers file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(where, f"cannot read waivers file: {exc}") from exc
    try:
        root = compose_within_bounds(text, where)
    except yaml.YAMLError as exc:
        raise _yaml_error(where, text, exc) from exc
    if root is None:
        return []
    entries = root
    if isinstance(root, yaml.MappingNode):
        keys = _mapping(where, root)
        if set(keys) != {"waivers"}:
            unknown = sorted(set(keys) - {"waivers"})
            key_node = keys[unknown[0]][0] if unknown else root
            raise InputError(where, "expected a list of waivers, or a mapping with only a 'waivers' key", _line(key_node))
        entries = keys["waivers"][1]
        if _is_null(entries):
            return []
    if not isinstance(entries, yaml.SequenceNode):
        raise InputError(where, "expected a list of waivers", _line(entries))
    return [_waiver(where, node) for node in entries.value]


def _yaml_error(where: str, text: str, exc: yaml.YAMLError) -> InputError:
    """Where the parser gave up, and what it was reading (an unclosed quote ends at end of file)."""
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        problem += f" {context} (from line {context_mark.line + 1})"
    # The end-of-stream mark sits on the line after the last one; point at the last line instead.
    line = min(mark.line + 1, max(text.count("\n"), 1)) if mark is not None else None
    return InputError(where, f"invalid YAML: {problem}", line=line)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _mapping(where: str, node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping's keys -> (key node, value node), refusing duplicate and non-text keys."""
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise InputError(where, "keys must be plain names", _line(key))
        if key.value in out:
            raise InputError(where, f"duplicate key {key.value!r}", _line(key))
        out[key.value] = (key, value)
    return out


def _text(where: str, name: str, node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode) or _is_null(node) or not str(node.value).strip():
        raise InputError(where, f"{name} must be non-empty text", _line(node))
    return str(node.value).strip()


def _waiver(where: str, node: yaml.Node) -> Waiver:
    if not isinstance(node, yaml.MappingNode):
        raise InputError(where, "each waiver must be a mapping (check, device/group/tag, reason, owner, expires)", _line(node))
    fields = _mapping(where, node)
    for key, (key_node, _) in fields.items():
        if key not in _KEYS:
            raise InputError(where, f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})", _line(key_node))
    for key in _REQUIRED:
        if key not in fields:
            raise InputError(where, f"waiver is missing {key!r}", _line(node))
    kinds = [kind for kind in SelectorKind if kind.value in fields]
    if not kinds:
        raise InputError(where, "waiver needs one of 'device', 'group' or 'tag'", _line(node))
    if len(kinds) > 1:
        second = fields[kinds[1].value][0]
        raise InputError(
            where, f"waiver has both {kinds[0].value!r} and {kinds[1].value!r}; give exactly one selector", _line(second)
        )
    kind = kinds[0]

    check_node = fields["check"][1]
    check_id = _text(where, "check", check_node)
    spec = get_check(check_id)
    if spec is None:
        raise InputError(where, f"unknown check id {check_id!r} (`cmelive checks` lists them)", _line(check_node))

    selector_node = fields[kind.value][1]
    items = selector_node.value if isinstance(selector_node, yaml.SequenceNode) else [selector_node]
    if not items:
        raise InputError(where, f"{kind.value} must name at least one {kind.value}", _line(selector_node))
    selector = tuple(_text(where, kind.value, item) for item in items)
    if kind != SelectorKind.DEVICE:
        for item, name in zip(items, selector):
            if _GLOB_CHARS.search(name):
                raise InputError(where, f"{kind.value} {name!r}: patterns are only allowed in 'device'", _line(item))

    expires_node = fields["expires"][1]
    expires_text = _text(where, "expires", expires_node)
    try:
        if not _DATE.match(expires_text):
            raise ValueError(expires_text)
        expires = date.fromisoformat(expires_text)
    except ValueError as exc:
        raise InputError(where, f"expires {expires_text!r} is not a date (YYYY-MM-DD)", _line(expires_node)) from exc

    return Waiver(
        check=spec.id,
        kind=kind,
        selector=selector,
        reason=_text(where, "reason", fields["reason"][1]),
        owner=_text(where, "owner", fields["owner"][1]),
        expires=expires,
        source=f"{where}:{_line(node)}",
    )
