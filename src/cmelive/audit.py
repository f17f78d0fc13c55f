"""The audit engine: snapshot -> device state -> check results -> device report.

Live collection and replay both end here with a Snapshot; from this point on there is one path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from cmelive.checks import all_checks
from cmelive.checks.base import CheckResult, CheckSpec, Outcome, Status
from cmelive.commands import CommandStatus
from cmelive.facts import device_facts
from cmelive.policy import Policy
from cmelive.report.model import DeviceReport, DeviceStatus
from cmelive.snapshot import Snapshot
from cmelive.state import DeviceState

log = logging.getLogger(__name__)


def run_check(spec: CheckSpec, state: DeviceState) -> CheckResult:
    """Run one check, enforcing the rule that missing or cut-off evidence is never a pass."""
    outcome = _guarded_outcome(spec, state)
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


def _guarded_outcome(spec: CheckSpec, state: DeviceState) -> Outcome:
    if spec.cme_only and _runs_no_cme(state):
        return Outcome(Status.NOT_APPLICABLE, "the router does not run CME (no telephony-service configured)")
    for source in spec.requires:
        unmet = state.requirement_unmet(source)
        if unmet is not None:
            return Outcome(Status.UNKNOWN, unmet)
    try:
        outcome = spec.func(state)
    except Exception:  # a check bug must cost one result, not the device's whole report
        log.exception("check %s raised", spec.id)
        return Outcome(Status.UNKNOWN, "internal error while evaluating this check (see the log)")
    concludes_from_absence = outcome.status == Status.PASS or (
        outcome.status == Status.FAIL and outcome.from_absence
    )
    if concludes_from_absence:
        read = [*spec.requires, *(c for c in spec.uses if state.output(c).usable)]
        for command in read:
            if not state.source_complete(command):
                return Outcome(
                    Status.UNKNOWN,
                    f"'{command}' is incomplete ({_incompleteness(state, command)}); "
                    f"would have been {outcome.status}: {outcome.message}",
                    outcome.evidence,
                )
    return outcome


def _runs_no_cme(state: DeviceState) -> bool:
    config = state.config
    return config is not None and config.complete and not config.sections(r"telephony-service$")


def _incompleteness(state: DeviceState, command: str) -> str:
    config = state.config
    if command == "show running-config" and config is not None and config.problems:
        return "; ".join(config.problems)
    out = state.output(command)
    return out.error or str(out.status)


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
    failed_commands = [o for o in snapshot.outputs.values() if o.status != CommandStatus.OK]
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
