"""The human-readable report: one block per device, findings first, made for an 80-column terminal.

Layout of a device block::

    ==========================================================================
    cme-branch-legacy (insecure-cme)
    ==========================================================================
    Host:      192.168.10.1
    ...
    Failures (2)

      [GUI] Securing GUI access
        CRITICAL  CME-GUI-06  The CME GUI password is not the enable password
          <message>
          Evidence:
            show running-config:193: web admin system name admin password <masked>
          Remediation:
            telephony-service
             web admin system name admin password <new-password>

    Unknown (1)
      ...
    Passed and not applicable (3)

      [ACC] Basic access security
        PASS      CME-ACC-01  Enable secret is set

    Summary: 6 checks — 2 fail (1 critical, 1 high), 3 pass, 0 not applicable, 1 unknown

Failures are grouped by family; families come in the order of their worst failure (critical
first) and, within a family, failures by severity. No line is longer than ``width``: long messages,
evidence and commands are wrapped, continuation lines indented further. Colour (ANSI) is off
unless asked for; the caller decides whether the output is a terminal.

The fleet's table (:func:`render_fleet_table`, one row per device) is laid out by rich, which
measures what a terminal shows (wide characters included).
"""

from __future__ import annotations

import io
import re
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cmelive.checks.base import CheckResult, Evidence, Severity, Status
from cmelive.commands import AUDIT_COMMANDS, CommandStatus
from cmelive.report.model import (
    AuditReport,
    DeviceReport,
    DeviceStatus,
    expired_waiver_note,
    format_evidence,
    waiver_note,
)

if TYPE_CHECKING:
    from rich.text import Text

MIN_WIDTH = 40

#: Families in catalog order, with the heading they get in the report.
FAMILY_TITLES: dict[str, str] = {
    "GUI": "Securing GUI access",
    "ACC": "Basic access security",
    "SNMP": "SNMP access",
    "CDP": "Cisco Discovery Protocol",
    "COR": "Class of restriction (toll fraud)",
    "AH": "After-hours blocking (toll fraud)",
    "SIP": "SIP toll-fraud protection",
    "H323": "H.323 call limits",
    "REG": "Phone registration",
    "LOG": "Logging and call history",
    "NAT": "NAT and remote phones",
    "FW": "Firewall",
    "TLS": "Secure SCCP signalling (TLS)",
    "PORT": "Exposed services",
}
_FAMILY_ORDER = {family: index for index, family in enumerate(FAMILY_TITLES)}
_COMMAND_ORDER = {command: index for index, command in enumerate(AUDIT_COMMANDS)}

_LABEL_WIDTH = 8  # len("CRITICAL"), the longest label
_HEADER_LABEL_WIDTH = 10  # "Hostname: ", the longest header label, so every device block aligns alike
_STATUS_LABELS = {
    Status.PASS: "PASS",
    Status.NOT_APPLICABLE: "N/A",
    Status.UNKNOWN: "UNKNOWN",
    Status.WAIVED: "WAIVED",
}

# SGR codes. Only labels and headings are coloured, so wrapping is measured on plain text.
_RESET = "\033[0m"
_SEVERITY_COLOURS = {
    Severity.CRITICAL: "1;35",
    Severity.HIGH: "1;31",
    Severity.MEDIUM: "33",
    Severity.LOW: "36",
    Severity.INFO: "2",
}
_STATUS_COLOURS = {
    Status.PASS: "32",
    Status.NOT_APPLICABLE: "2",
    Status.UNKNOWN: "35",
    Status.WAIVED: "34",
}
_BOLD = "1"


@dataclass(frozen=True)
class _Style:
    colour: bool

    def paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}{_RESET}" if self.colour and text else text


def render_text(report: AuditReport, *, width: int = 80, color: bool = False) -> str:
    """The report as text no wider than ``width`` columns (ANSI colour only when ``color``)."""
    if width < MIN_WIDTH:
        raise ValueError(f"width must be at least {MIN_WIDTH} columns, got {width}")
    style = _Style(color)
    lines: list[str] = []
    lines += _wrap(f"cmelive audit report, generated {report.generated_at}", width, "")
    for device in report.devices:
        lines.append("")
        lines += _device_block(device, width, style)
    lines.append("")
    lines.append("=" * width)
    lines += _wrap(overall_summary(report), width, "", "  ")
    return "\n".join(lines) + "\n"


def device_summary(device: DeviceReport) -> str:
    """``Summary: 23 checks — 5 fail (2 high, 3 medium), 14 pass, 2 not applicable, 2 unknown``.

    A device that was not audited says so first, and why (``Summary: not audited — ...``).
    """
    not_audited = device.not_audited_reason()
    if device.status.unaudited and not device.results:
        return f"Summary: not audited — {not_audited}"
    if not_audited is not None:
        return f"Summary: not audited — {not_audited}; {_counts(device.results)}"
    return "Summary: " + _counts(device.results)


def damage_note(device: DeviceReport) -> str | None:
    """What was wrong with the running-config's text, and what it costs: ``cut after line 212 —
    only the conclusions this could hide are unknown``; None for a clean capture."""
    damage = device.facts.get("running_config_damage") or []
    complete = device.facts.get("running_config_complete")
    if not damage:
        return "the running-config is incomplete: checks that need it are unknown" if complete is False else None
    if complete is False:
        return "; ".join(damage) + " — only the conclusions this could hide are unknown"
    return "; ".join(damage) + " — repaired, nothing hidden"


def overall_summary(report: AuditReport) -> str:
    """``Overall: 3 devices (1 not audited) — 63 checks — ...`` over every device's results."""
    devices = len(report.devices)
    not_audited = sum(1 for d in report.devices if d.not_audited_reason() is not None)
    partial = sum(
        1 for d in report.devices if d.status == DeviceStatus.PARTIAL and d.not_audited_reason() is None
    )
    notes = []
    if partial:
        notes.append(f"{partial} partial")
    if not_audited:
        notes.append(f"{not_audited} not audited")
    head = f"Overall: {devices} device{'s' if devices != 1 else ''}"
    if notes:
        head += f" ({', '.join(notes)})"
    results = [r for d in report.devices for r in d.results]
    return f"{head} — {_counts(results)}"


def _counts(results: list[CheckResult]) -> str:
    by_status = Counter(r.status for r in results)
    failed = [r for r in results if r.status == Status.FAIL]
    by_severity = Counter(r.severity for r in failed)
    breakdown = ", ".join(
        f"{by_severity[s]} {s}" for s in sorted(by_severity, key=lambda s: s.rank, reverse=True)
    )
    text = (
        f"{len(results)} check{'s' if len(results) != 1 else ''} — {len(failed)} fail"
        + (f" ({breakdown})" if breakdown else "")
        + f", {by_status[Status.PASS]} pass, {by_status[Status.NOT_APPLICABLE]} not applicable,"
        f" {by_status[Status.UNKNOWN]} unknown"
    )
    if by_status[Status.WAIVED]:
        text += f", {by_status[Status.WAIVED]} waived"
    return text


# --- one device ----------------------------------------------------------------------------------


def _device_block(device: DeviceReport, width: int, style: _Style) -> list[str]:
    lines = ["=" * width]
    title = device.hostname or device.name
    if device.hostname and device.hostname != device.name:
        title += f" ({device.name})"
    lines += [style.paint(line, _BOLD) for line in _wrap(title, width, "")]
    lines.append("=" * width)
    lines += _header(device, width)

    failures = [r for r in device.results if r.status == Status.FAIL]
    unknowns = [r for r in device.results if r.status == Status.UNKNOWN]
    quiet = [r for r in device.results if r.status in (Status.PASS, Status.NOT_APPLICABLE, Status.WAIVED)]
    if failures:
        lines += ["", style.paint(f"Failures ({len(failures)})", _BOLD)]
        for family, members in by_family(failures, worst_first=True):
            lines += ["", *_family_heading(family, width)]
            for index, result in enumerate(sorted(members, key=lambda r: (-r.severity.rank, r.check))):
                lines += ([""] if index else []) + _failure(result, width, style)
    if unknowns:
        lines += ["", style.paint(f"Unknown ({len(unknowns)})", _BOLD)]
        for family, members in by_family(unknowns, worst_first=False):
            lines += ["", *_family_heading(family, width)]
            for index, result in enumerate(sorted(members, key=lambda r: r.check)):
                lines += ([""] if index else []) + _unknown(result, width, style)
    if quiet:
        lines += ["", style.paint(f"Passed and not applicable ({len(quiet)})", _BOLD)]
        for family, members in by_family(quiet, worst_first=False):
            lines += ["", *_family_heading(family, width)]
            for result in sorted(members, key=lambda r: r.check):
                lines += _one_liner(result, width, style)
    lines.append("")
    lines += _wrap(device_summary(device), width, "", "  ")
    unknown = device.unknown_summary()
    if unknown is not None:
        lines += _wrap(f"Unknown: {unknown.partition(': ')[2]}", width, "", "  ")
    return lines


def _header(device: DeviceReport, width: int) -> list[str]:
    facts = device.facts
    fields: list[tuple[str, str]] = [("Device", device.name), ("Host", device.host)]
    # A device that could not be audited has no facts: a column of "unknown" would only be noise.
    if device.hostname or facts or not device.status.unaudited:
        fields += [
            ("Hostname", device.hostname or _fact(facts.get("hostname"))),
            ("Model", _fact(facts.get("model"))),
            ("IOS", _fact(facts.get("ios_version"))),
            ("CME", _cme(facts)),
            ("Ephones", _ephones(facts)),
        ]
    if device.ssh is not None:
        fields += [
            ("SSH", f"{device.ssh.server_version}, host key {device.ssh.host_key_text}"),
            ("Agreed", device.ssh.negotiated_text),
            ("Offered", device.ssh.offered_text),
        ]
    fields.append(("Status", str(device.status)))
    if device.error:
        fields.append(("Error", device.error))
    damage = damage_note(device)
    if damage is not None:
        fields.append(("Damage", damage))
    lines: list[str] = []
    for label, value in fields:
        lines += _wrap(value, width, f"{label + ':':<{_HEADER_LABEL_WIDTH}}", " " * _HEADER_LABEL_WIDTH)
    not_ok = sorted(
        (c for c in device.commands if c.status != CommandStatus.OK),
        key=lambda c: (_COMMAND_ORDER.get(c.command, len(_COMMAND_ORDER)), c.command),
    )
    if not_ok:
        lines.append(f"Commands that did not complete ({len(not_ok)}):")
        for command in not_ok:
            reason = f"{command.status}" + (f": {command.error}" if command.error else "")
            lines += _wrap(f"{command.command} — {reason}", width, "  ", "      ")
    return lines


def _fact(value: object) -> str:
    return "unknown" if value is None or value == "" else str(value)


def _cme(facts: dict[str, object]) -> str:
    version = facts.get("cme_version")
    if version:
        return str(version)
    if facts.get("cme_configured") is False:
        return "not configured"
    return "unknown"


def _ephones(facts: dict[str, object]) -> str:
    configured = facts.get("ephones_configured")
    registered = facts.get("ephones_registered")
    return f"{_fact(configured)} configured, {_fact(registered)} registered"


def by_family(results: Sequence[CheckResult], *, worst_first: bool) -> list[tuple[str, list[CheckResult]]]:
    """Results grouped by family: catalog order, or worst severity first (then catalog order)."""
    groups: dict[str, list[CheckResult]] = {}
    for result in results:
        groups.setdefault(result.family, []).append(result)

    def order(item: tuple[str, list[CheckResult]]) -> tuple[int, tuple[int, str]]:
        family, members = item
        worst = max(r.severity.rank for r in members) if worst_first else 0
        return (-worst, family_order(family))

    return sorted(groups.items(), key=order)


def family_order(family: str) -> tuple[int, str]:
    """Sort key of a check family: the catalog's order, unknown families after it by name."""
    return (_FAMILY_ORDER.get(family.upper(), len(_FAMILY_ORDER)), family)


def _family_heading(family: str, width: int) -> list[str]:
    title = FAMILY_TITLES.get(family.upper())
    text = f"[{family}] {title}" if title else f"[{family}]"
    return _wrap(text, width, "  ", "    ")


# --- one result ----------------------------------------------------------------------------------

_RESULT_INDENT = "    "
_DETAIL_INDENT = "      "
_ITEM_INDENT = "        "
_CONTINUATION_INDENT = "            "


def _labelled(label: str, paint: Callable[[str], str], result: CheckResult, width: int) -> list[str]:
    """``    CRITICAL  CME-GUI-06  Title`` with the title wrapped under itself."""
    prefix = f"{_RESULT_INDENT}{label:<{_LABEL_WIDTH}}  {result.check}  "
    lines = _wrap(result.title, width, prefix, " " * len(prefix))
    first = lines[0]
    lines[0] = _RESULT_INDENT + paint(label) + first[len(_RESULT_INDENT) + len(label) :]
    return lines


def _failure(result: CheckResult, width: int, style: _Style) -> list[str]:
    label = str(result.severity).upper()
    colour = _SEVERITY_COLOURS[result.severity]
    lines = _labelled(label, lambda text: style.paint(text, colour), result, width)
    lines += _wrap(result.message, width, _DETAIL_INDENT)
    if result.waiver:  # a failure that still carries a waiver is one whose waiver expired
        lines += _wrap(expired_waiver_note(result.waiver), width, _DETAIL_INDENT)
    lines += _evidence(result.evidence, width)
    if result.remediation:
        lines.append(f"{_DETAIL_INDENT}Remediation:")
        for command in result.remediation:
            lines += _wrap(command, width, _ITEM_INDENT, _CONTINUATION_INDENT)
    return lines


def _unknown(result: CheckResult, width: int, style: _Style) -> list[str]:
    label = _STATUS_LABELS[Status.UNKNOWN]
    lines = _labelled(label, lambda text: style.paint(text, _STATUS_COLOURS[Status.UNKNOWN]), result, width)
    lines += _wrap(result.message, width, _DETAIL_INDENT)
    lines += _evidence(result.evidence, width)
    return lines


def _one_liner(result: CheckResult, width: int, style: _Style) -> list[str]:
    label = _STATUS_LABELS[result.status]
    lines = _labelled(label, lambda text: style.paint(text, _STATUS_COLOURS[result.status]), result, width)
    if result.status == Status.WAIVED and result.waiver:
        lines += _wrap(waiver_note(result.waiver), width, _DETAIL_INDENT)
    return lines


def _evidence(evidence: Iterable[Evidence], width: int) -> list[str]:
    items = list(evidence)
    if not items:
        return []
    lines = [f"{_DETAIL_INDENT}Evidence:"]
    for item in items:
        lines += _wrap(format_evidence(item), width, _ITEM_INDENT, _CONTINUATION_INDENT)
    return lines


def _wrap(text: str, width: int, indent: str, subsequent: str | None = None) -> list[str]:
    """``text`` wrapped to ``width``; leading blanks kept (IOS sub-mode commands start with one)."""
    later = indent if subsequent is None else subsequent
    body = text.expandtabs(8)
    stripped = body.lstrip(" ")
    lead = body[: len(body) - len(stripped)]
    wrapper = textwrap.TextWrapper(
        width=width,
        initial_indent=indent + lead,
        subsequent_indent=later,
        break_long_words=True,
        break_on_hyphens=False,
        replace_whitespace=True,
    )
    # Leading blanks are part of the prefix so that textwrap cannot drop them; keep the prefix
    # within the width even for an absurdly indented command.
    if len(wrapper.initial_indent) >= width:
        wrapper.initial_indent = indent
    return wrapper.wrap(stripped) or [indent.rstrip()]


# --- the fleet's table ---------------------------------------------------------------------------

#: Severity columns of the fleet table, worst first, and their headings.
TABLE_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
TABLE_SEVERITY_HEADINGS = {
    Severity.CRITICAL: "CRIT",
    Severity.HIGH: "HIGH",
    Severity.MEDIUM: "MED",
    Severity.LOW: "LOW",
    Severity.INFO: "INFO",
}
_COUNT_WIDTH = 4
_WAIVED_WIDTH = 6
_NOTE_WANTS = 24  # the note column is squeezed to this before device names wrap
_DEVICE_STATUS_STYLES = {
    DeviceStatus.OK: "green",
    DeviceStatus.PARTIAL: "yellow",
    DeviceStatus.ERROR: "bold red",
    DeviceStatus.INTERRUPTED: "magenta",
    DeviceStatus.NOT_STARTED: "magenta",
}
_SEVERITY_STYLES = {
    Severity.CRITICAL: "bold magenta",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def render_fleet_table(
    devices: Sequence[DeviceReport], notes: Sequence[str], *, width: int, color: bool = False
) -> list[str]:
    """The fleet's table: one row per device (``DEVICE STATUS CRIT HIGH MED LOW INFO WAIVED NOTE``),
    ``notes[i]`` saying why device ``i`` is not plainly ok. No line is longer than ``width``.

    What does not fit wraps inside its column, never past the width and never cut: the note
    (word-wrapped, a word longer than the column folded); a device name too long to leave the note
    24 columns gets half of what the other columns leave, folded within its column so every
    character stays in the row's lines. The counts and the status never wrap. Names and notes
    are printed as they are (rich markup such as ``[bold]`` in a device name is text). Plain text
    unless ``color``; lines carry no trailing blanks.
    """
    if width < MIN_WIDTH:
        raise ValueError(f"width must be at least {MIN_WIDTH} columns, got {width}")
    # Here, not at the top: rich takes tens of milliseconds to load, paid only by who prints a table.
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Two blanks between columns where there is room; one when every column counts (80 columns).
    gap = 2 if width >= 100 else 1
    status_width = max([len("STATUS"), *(len(device.status) for device in devices)])
    counts_width = _COUNT_WIDTH * len(TABLE_SEVERITIES) + _WAIVED_WIDTH
    columns = 4 + len(TABLE_SEVERITIES)
    # What the name and the note share: the width less the columns that never wrap and the gaps.
    left = width - status_width - counts_width - gap * (columns - 1)
    name_needs = max([len("DEVICE"), *(Text(device.name).cell_len for device in devices)])
    note_needs = max([len("NOTE"), *(Text(note).cell_len for note in notes)])
    if name_needs + min(note_needs, _NOTE_WANTS) <= left:
        name_width = name_needs  # every name whole on its line; the note takes what is left
    else:
        name_width = max(len("DEVICE"), min(name_needs, left // 2))

    table = Table(
        box=None,
        padding=(0, 1) if gap == 2 else (0, 1, 0, 0),
        pad_edge=False,
        show_edge=False,
        header_style="",  # rich's default is bold, colour or not: the headings' Text carries it
        highlight=False,
    )
    bold = "bold" if color else ""
    table.add_column(Text("DEVICE", style=bold), width=name_width, overflow="fold")
    table.add_column(Text("STATUS", style=bold), width=status_width, no_wrap=True)
    for severity in TABLE_SEVERITIES:
        heading = Text(TABLE_SEVERITY_HEADINGS[severity], style=bold)
        table.add_column(heading, width=_COUNT_WIDTH, justify="right", no_wrap=True)
    table.add_column(Text("WAIVED", style=bold), width=_WAIVED_WIDTH, justify="right", no_wrap=True)
    table.add_column(Text("NOTE", style=bold), overflow="fold")

    for device, note in zip(devices, notes, strict=True):
        cells: list[Text] = [Text(device.name), Text(str(device.status), style=_DEVICE_STATUS_STYLES.get(device.status, ""))]
        if device.status.unaudited and not device.results:
            cells += [Text("-") for _ in range(len(TABLE_SEVERITIES) + 1)]
        else:
            failed = Counter(r.severity for r in device.results if r.status == Status.FAIL)
            waived = sum(1 for r in device.results if r.status == Status.WAIVED)
            cells += [_count(failed[severity], _SEVERITY_STYLES[severity]) for severity in TABLE_SEVERITIES]
            cells.append(_count(waived, "blue"))
        cells.append(Text(note))
        table.add_row(*cells)

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        legacy_windows=False,
    )
    console.print(table)
    # rich pads every cell to its column: the blanks before a line's end go, styled or not.
    return [_TRAILING_BLANKS.sub(r"\1", line) for line in buffer.getvalue().splitlines()]


_TRAILING_BLANKS = re.compile(r"\s+((?:\x1b\[[0-9;]*m)*)$")


def _count(count: int, style: str) -> Text:
    from rich.text import Text

    return Text(str(count), style=style if count else "")
