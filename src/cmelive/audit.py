"""The audit engine: snapshot -> device state -> check results -> device report.

Live collection and replay both end here with a Snapshot; from this point on there is one path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace

from cmelive.checks import all_checks
from cmelive.checks.base import CheckResult, CheckSpec, Outcome, Status
from cmelive.commands import NO_LIVE_STATE, RUNNING_CONFIG, CommandStatus, is_cme_command
from cmelive.facts import device_facts
from cmelive.parsing.damage import Reads, explain
from cmelive.policy import Policy
from cmelive.report.model import DeviceReport, DeviceStatus
from cmelive.snapshot import CommandOutput, Snapshot
from cmelive.state import DeviceState

log = logging.getLogger(__name__)


def run_check(spec: CheckSpec, state: DeviceState) -> CheckResult:
    """Run one check, enforcing the rule that missing or cut-off evidence is never a pass."""
    outcome = _bounded(_guarded_outcome(spec, state))
    severity = state.policy.severity_overrides.get(spec.id, spec.severity)
    return CheckResult(
        check=spec.id,
        title=spec.title,
        severity=severity,
        family=spec.family,
        status=outcome.status,
        reference=spec.reference,
        message=outcome.message,
        evidence=outcome.evidence,
        remediation=outcome.remediation if outcome.status == Status.FAIL else (),
    )


#: The most of one finding a report holds. Far above what a real router gives (the largest CME
#: lists a few hundred phones), and what keeps a router that repeats its config in a flood from
#: making every report of a fleet run hundreds of megabytes (a check pairing every repeated line
#: with every other wrote a 20 MB message).
MESSAGE_LIMIT = 4000  # characters
EVIDENCE_LIMIT = 500  # lines
REMEDIATION_LIMIT = 500  # lines


def _bounded(outcome: Outcome) -> Outcome:
    """``outcome`` cut to the limits above; what was cut is said in the message."""
    message, evidence, remediation = outcome.message, outcome.evidence, outcome.remediation
    notes = []
    if len(evidence) > EVIDENCE_LIMIT:
        notes.append(f"evidence: the first {EVIDENCE_LIMIT} of {len(evidence)} lines")
        evidence = evidence[:EVIDENCE_LIMIT]
    if len(remediation) > REMEDIATION_LIMIT:
        notes.append(f"remediation: the first {REMEDIATION_LIMIT} of {len(remediation)} lines")
        remediation = remediation[:REMEDIATION_LIMIT]
    if len(message) > MESSAGE_LIMIT:
        notes.append(f"message: the first {MESSAGE_LIMIT} of {len(message)} characters")
        message = message[:MESSAGE_LIMIT].rstrip() + " ..."
    if not notes:
        return outcome
    return replace(outcome, message=f"{message} [cut to fit a report: {'; '.join(notes)}]", evidence=evidence,
                   remediation=remediation)  # fmt: skip


def _guarded_outcome(spec: CheckSpec, state: DeviceState) -> Outcome:
    if spec.cme_only and _runs_no_cme(state):
        return Outcome(Status.NOT_APPLICABLE, "the router does not run CME (no telephony-service configured)")
    for source in spec.requires:
        unmet = state.requirement_unmet(source)
        if unmet is not None:
            return Outcome(Status.UNKNOWN, unmet)
    with state.config_reads() as reads:
        try:
            outcome = spec.func(state)
        except Exception:  # a check bug must cost one result, not the device's whole report
            log.exception("check %s raised", spec.id)
            return Outcome(Status.UNKNOWN, "internal error while evaluating this check (see the log)")
    if _concludes_from_absence(outcome):
        read = [*spec.requires, *(c for c in spec.uses if state.output(c).usable)]
        for command in read:
            reason = _unsound(state, command, reads, outcome)
            if reason is not None:
                return Outcome(
                    Status.UNKNOWN,
                    f"'{command}' is incomplete ({reason}); would have been {outcome.status}: {outcome.message}",
                    outcome.evidence,
                )
    return outcome


def _concludes_from_absence(outcome: Outcome) -> bool:
    """A pass (nothing wrong was found), a not_applicable (the feature was not found), and a failure
    the check marked as drawn from a missing line all rest on what the output lacks."""
    return outcome.status in (Status.PASS, Status.NOT_APPLICABLE) or (
        outcome.status == Status.FAIL and outcome.from_absence
    )


def _unsound(state: DeviceState, command: str, reads: Reads, outcome: Outcome) -> str | None:
    """Why ``command``'s output cannot support a conclusion drawn from what it lacks; None when it can.

    For the running-config: only damage that could hide what the check looked for counts.
    """
    if command == RUNNING_CONFIG:
        if state.config is None:
            return "not collected"
        touched = state.damage_under(reads, outcome.within, settled=outcome.settled)
        return explain(touched) if touched else None
    if outcome.settled or state.source_complete(command):
        return None
    out = state.output(command)
    return out.error or str(out.status)


def _runs_no_cme(state: DeviceState) -> bool:
    """No telephony-service, and no damage in the running-config that could hide one."""
    # Asked before each of the ~30 CME checks and of each rejected command: answered once.
    return state.derived(_no_cme_configured)


def _no_cme_configured(state: DeviceState) -> bool:
    config = state.config
    return config is not None and not config.sections(r"telephony-service$") and not config.could_hide(
        r"telephony-service$"
    )


def _as_expected(output: CommandOutput, state: DeviceState) -> bool:
    """The command ran, or its absence is what the device or the source should give.

    A router without CME refusing the CME show commands is what it should do, and a config
    archive holds no live state: neither is a failure of the audit, so such a device is audited
    whole ("ok"); the checks that need the missing state say unknown with the reason.
    """
    if output.status == CommandStatus.OK:
        return True
    if output.status == CommandStatus.NOT_COLLECTED:
        return output.error == NO_LIVE_STATE
    return output.status == CommandStatus.REJECTED and is_cme_command(output.command) and _runs_no_cme(state)


def audit_snapshot(
    snapshot: Snapshot,
    policy: Policy | None = None,
    *,
    name: str | None = None,
    checks: Iterable[CheckSpec] | None = None,
) -> DeviceReport:
    """Judge one device's snapshot against every check (or the given ones)."""
    state = DeviceState(snapshot, policy)
    specs = list(checks) if checks is not None else all_checks()
    results = [run_check(spec, state) for spec in specs if spec.id not in state.policy.skip_checks]
    failed_commands = [o for o in snapshot.outputs.values() if not _as_expected(o, state)]
    status = DeviceStatus.PARTIAL if failed_commands else DeviceStatus.OK
    return DeviceReport(
        name=name or snapshot.host,
        host=snapshot.host,
        hostname=snapshot.hostname or (state.config.hostname if state.config else None),
        status=status,
        error=None,
        facts=device_facts(state),
        commands=list(snapshot.outputs.values()),
        results=results,
        ssh=snapshot.ssh,
    )


def unreachable_report(name: str, host: str, error: Exception | str) -> DeviceReport:
    """The report of a device that could not be audited: its status and the reason, nothing else."""
    return DeviceReport(
        name=name, host=host, hostname=None, status=DeviceStatus.ERROR, error=str(error)
    )
