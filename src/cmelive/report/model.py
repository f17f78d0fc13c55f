"""The report model and its JSON form (schema 1), shared by single audits and fleets.

The model is where the outbound boundary sits for reports: a :class:`DeviceReport` scrubs
everything it is given when it is made (:func:`cmelive.masking.scrub`: terminal controls
neutralised, secrets masked) and cannot be changed afterwards. Every renderer (text, JSON, HTML,
SARIF, CSV, JUnit), the run history and the command line's summaries read the model, so none of
them can show a check's message, evidence, remediation, a fact, an error or a waiver that did
not cross it -- whoever built the report, and from whatever (a live audit, a replay, the history).
"""

from __future__ import annotations

import re
from collections import Counter
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from cmelive import __version__
from cmelive.checks import get_check
from cmelive.checks.base import CheckResult, Evidence, Severity, Status
from cmelive.commands import RUNNING_CONFIG, CommandStatus
from cmelive.masking import scrub_short, scrub_value
from cmelive.snapshot import CommandOutput, utc_now
from cmelive.ssh_session import SSH_SESSION, SshSession

SCHEMA_VERSION = 1

#: Fields that hold cmelive's own sentences (which may quote router text), scrubbed as prose: a
#: check's title and message, an error, a waiver's record (its reason). Every other text of the
#: model (evidence, remediation, facts, names) is scrubbed as the router lines it is.
PROSE_FIELDS = frozenset({"title", "message", "reference", "error", "waiver"})


class DeviceStatus(StrEnum):
    OK = "ok"  # every command ran
    PARTIAL = "partial"  # audited, but some commands failed: their checks are unknown
    ERROR = "error"  # could not be audited (unreachable, auth or host key refused)
    # A fleet run that was stopped (Ctrl-C, SIGTERM) or killed still names every device of its
    # inventory, with where it got to: neither was audited.
    INTERRUPTED = "interrupted"  # in flight when the run was stopped, and abandoned
    NOT_STARTED = "not_started"  # its turn never came: the run was stopped first

    @property
    def unaudited(self) -> bool:
        """No audit was made: the device has no results, only an error saying why."""
        return self in _UNAUDITED


_UNAUDITED = frozenset({DeviceStatus.ERROR, DeviceStatus.INTERRUPTED, DeviceStatus.NOT_STARTED})

#: The error of a device in flight when its run was stopped (or died), and of one never begun.
INTERRUPTED_ERROR = "interrupted: the run was stopped while this device was being audited"
NOT_STARTED_ERROR = "not started: the run was stopped before this device's turn"


@dataclass(frozen=True)
class DeviceReport:
    """One device's report. Made scrubbed (see the module docstring) and immutable."""

    name: str
    host: str
    hostname: str | None
    status: DeviceStatus
    error: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    commands: list[CommandOutput] = field(default_factory=list)
    results: list[CheckResult] = field(default_factory=list)
    #: What the SSH session showed at login (None: not recorded, e.g. replayed captures).
    ssh: SshSession | None = None

    def __post_init__(self) -> None:
        # The outbound boundary. Command outputs are not part of a report (snapshots hold them):
        # each command keeps its name, status, duration and error, not its text.
        commands = [
            c if not c.text else CommandOutput(c.command, c.status, "", c.duration_s, c.error, c.log_messages)
            for c in self.commands
        ]
        object.__setattr__(self, "commands", commands)
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "results" and _RESULTS_KNOWN:
                cleaned: object = [_scrub_result(result) for result in value]
            else:
                cleaned = scrub_value(value, prose=PROSE_FIELDS)
            object.__setattr__(self, item.name, cleaned)

    def not_audited_reason(self) -> str | None:
        """Why this device counts as *not audited*, or None when it was audited.

        The one rule behind the exit code (3), the text summary, the fleet table and the JSON
        ``audited`` key, for ``audit``, ``replay`` and ``fleet`` alike: a device is audited when it
        was reached and its running-config was collected whole — status ``ok``, so not timed out,
        cut off, left with pager marks, dropped with the session, rejected, unrecognisable (empty)
        or missing. Every other command may fail and the device is still audited (``partial``: the
        checks that read them say unknown). Damage inside a whole capture (a replayed config whose
        indentation was lost in publication) does not count: its checks are unknown one by one.
        """
        if self.status.unaudited:
            return self.error or "could not be audited"
        return running_config_problem(self.commands)

    def unknown_causes(self) -> list[tuple[str, int]]:
        """Why checks are unknown: ``[(cause, how many)]``, the most frequent first.

        Unknown is not clean: a report must say at a glance how much of the device was not
        judged, and what stood in the way: a command the checks needed and did not get (named
        with its status), an SSH session the snapshot does not hold, a running-config whose
        damage could hide the evidence, masked secrets; else the first clause of the check's
        own message.
        """
        outputs = {output.command: output for output in self.commands}
        counts: Counter[str] = Counter()
        missing: Counter[str] = Counter()  # commands not in the snapshot: one cause for them all
        for result in self.results:
            if result.status != Status.UNKNOWN:
                continue
            cause = _unknown_cause(result, outputs, self.ssh is not None)
            if cause.endswith(_NOT_COLLECTED):
                missing[cause.removesuffix(_NOT_COLLECTED)] += 1
            else:
                counts[cause] += 1
        if missing:
            counts["not collected: " + ", ".join(command for command, _ in missing.most_common())] = sum(
                missing.values()
            )
        return counts.most_common()

    def unknown_summary(self) -> str | None:
        """``"7 unknown: show ctl-client rejected (3); ..."``; None when no check is unknown."""
        causes = self.unknown_causes()
        if not causes:
            return None
        total = sum(count for _, count in causes)
        return f"{total} unknown: " + "; ".join(f"{cause} ({count})" for cause, count in causes)

    def unknown_at_or_above(self, threshold: Severity) -> list[CheckResult]:
        return [
            r for r in self.results if r.status == Status.UNKNOWN and r.severity.rank >= threshold.rank
        ]

    def failures_at_or_above(self, threshold: Severity) -> list[CheckResult]:
        return [
            r for r in self.results if r.status == Status.FAIL and r.severity.rank >= threshold.rank
        ]

    def to_dict(self) -> dict[str, Any]:
        not_audited = self.not_audited_reason()
        return {
            "name": self.name,
            "host": self.host,
            "hostname": self.hostname,
            "status": str(self.status),
            "error": self.error,
            "audited": not_audited is None,
            "not_audited_reason": not_audited,
            "unknown_summary": self.unknown_summary(),
            "facts": self.facts,
            "ssh": self.ssh.to_dict() if self.ssh is not None else None,
            "commands": [
                {
                    "command": c.command,
                    "status": str(c.status),
                    "duration_s": round(c.duration_s, 4),
                    **({"error": c.error} if c.error else {}),
                }
                for c in self.commands
            ],
            "results": [result_to_dict(r) for r in self.results],
        }


# "'show running-config' is incomplete (cut off: ...); would have been pass: ..." (cmelive.audit)
_INCOMPLETE = re.compile(r"^'([^']+)' is incomplete \((.*?)\); would have been ")
_FIRST_CLAUSE = re.compile(r"^(.*?)(?:[:;(]| — |$)")
_MAX_CAUSE = 70
_NOT_COLLECTED = " not collected"


def _unknown_cause(result: CheckResult, outputs: dict[str, CommandOutput], ssh_recorded: bool) -> str:
    spec = get_check(result.check)
    # What the check needs, then what it reads when it can: an unknown result of a check whose
    # optional command is missing or refused is unknown for that reason.
    for source in (*spec.requires, *spec.uses) if spec is not None else ():
        if source == SSH_SESSION:
            if not ssh_recorded:
                return "SSH session not recorded (not audited live)"
            continue
        output = outputs.get(source)
        if output is None:
            return source + _NOT_COLLECTED
        if output.status == CommandStatus.NOT_COLLECTED:
            return source + _NOT_COLLECTED
        if not output.usable:
            return f"{source} {output.status}"
    incomplete = _INCOMPLETE.match(result.message)
    if incomplete:
        return f"{incomplete.group(1)} incomplete: {_first_clause(incomplete.group(2))}"
    if "masked" in result.message:
        return "secrets masked in the snapshot"
    return _first_clause(result.message) or "not decidable from the evidence"


def _first_clause(text: str) -> str:
    found = _FIRST_CLAUSE.match(text)
    clause = found.group(1).strip() if found else ""
    return clause if len(clause) <= _MAX_CAUSE else clause[: _MAX_CAUSE - 1].rstrip() + "…"


# A report holds dozens of results: scrubbed field by field here, as scrub_value would (same prose
# fields), at a third of its cost. Should CheckResult or Evidence gain a field, scrub_value does
# it all again (nothing may slip past because this list is out of date).
_RESULT_FIELDS = ("check", "title", "severity", "family", "status", "reference", "message", "evidence",
                  "remediation", "waiver")
_RESULTS_KNOWN = tuple(f.name for f in fields(CheckResult)) == _RESULT_FIELDS and tuple(
    f.name for f in fields(Evidence)
) == ("command", "line", "text")


def _scrub_result(result: CheckResult) -> CheckResult:
    evidence = result.evidence
    for item in evidence:
        if scrub_short(item.text) != item.text or scrub_short(item.command) != item.command:
            evidence = tuple(Evidence(scrub_short(e.command), e.line, scrub_short(e.text)) for e in evidence)
            break
    remediation = result.remediation
    if any(scrub_short(line) != line for line in remediation):
        remediation = tuple(scrub_short(line) for line in remediation)
    changes: dict[str, object] = {}
    for name, prose in (("check", False), ("title", True), ("family", False), ("reference", True), ("message", True)):
        before = getattr(result, name)
        after = scrub_short(before, prose=prose)
        if after != before:
            changes[name] = after
    if evidence is not result.evidence:
        changes["evidence"] = evidence
    if remediation is not result.remediation:
        changes["remediation"] = remediation
    if result.waiver is not None:
        waiver = scrub_value(result.waiver, as_prose=True)
        if waiver != result.waiver:
            changes["waiver"] = waiver
    return dataclasses.replace(result, **changes) if changes else result  # type: ignore[arg-type]


def running_config_problem(commands: Iterable[CommandOutput]) -> str | None:
    """Why the running-config among ``commands`` was not collected whole, or None when it was.

    The heart of :meth:`DeviceReport.not_audited_reason`; ``cmelive collect`` asks it of a
    snapshot before any report exists.
    """
    config = next((c for c in commands if c.command == RUNNING_CONFIG), None)
    if config is None:
        return f"'{RUNNING_CONFIG}' was not collected"
    if config.status != CommandStatus.OK:
        why = f": {config.error}" if config.error else ""
        return f"'{RUNNING_CONFIG}' was not collected whole ({config.status}{why})"
    return None


def result_to_dict(result: CheckResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "check": result.check,
        "title": result.title,
        "family": result.family,
        "severity": str(result.severity),
        "status": str(result.status),
        "reference": result.reference,
        "message": result.message,
        "evidence": [{"command": e.command, "line": e.line, "text": e.text} for e in result.evidence],
        "remediation": list(result.remediation),
    }
    if result.waiver is not None:
        out["waiver"] = result.waiver
    return out


@dataclass
class AuditReport:
    devices: list[DeviceReport]
    generated_at: str = field(default_factory=utc_now)

    def to_dict(self, *, devices: bool = True) -> dict[str, Any]:
        """The JSON form; ``devices=False`` leaves the device list out (the report's head)."""
        head: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "tool": {"name": "cmelive", "version": __version__},
            "generated_at": self.generated_at,
        }
        if devices:
            head["devices"] = [d.to_dict() for d in self.devices]
        return head


def format_evidence(evidence: Evidence) -> str:
    """``show running-config:12: line vty 0 4`` (no line number: ``command: text``)."""
    where = f"{evidence.command}:{evidence.line}" if evidence.line is not None else evidence.command
    return f"{where}: {evidence.text}"


def waiver_fields(waiver: dict[str, str] | None) -> tuple[str, str, str]:
    """(reason, owner, expiry date) of a result's waiver, empty strings when absent.

    The expiry is read from ``expires``, or from ``until`` as some waiver records name it.
    """
    if not waiver:
        return "", "", ""
    return (
        waiver.get("reason", ""),
        waiver.get("owner", ""),
        waiver.get("expires") or waiver.get("until") or "",
    )


def waiver_note(waiver: dict[str, str] | None) -> str:
    """``waived: carrier requires CDP (voice-team, expires 2027-01-31)``."""
    reason, owner, expires = waiver_fields(waiver)
    who_when = [part for part in (owner, f"expires {expires}" if expires else "") if part]
    note = f"waived: {reason or 'no reason given'}"
    return f"{note} ({', '.join(who_when)})" if who_when else note


def expired_waiver_note(waiver: dict[str, str]) -> str:
    """``Waiver expired 2024-12-31, no longer applies: lab router (voice-team)``."""
    reason, owner, expires = waiver_fields(waiver)
    when = f" {expires}" if expires else ""
    who = f" ({owner})" if owner else ""
    return f"Waiver expired{when}, no longer applies: {reason or 'no reason given'}{who}"
