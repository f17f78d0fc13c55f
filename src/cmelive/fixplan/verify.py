"""The proof of a plan: apply it to the audited running-config, re-audit the future config.

The future running-config is predicted by :mod:`cmelive.fixplan.iosconfig`; every other show
output is kept as collected, and every check runs again. A check the plan claims must pass; a check
that passed before must not fail after. Placeholders are given stand-in values of the right form
(``192.0.2.0 0.0.0.255`` for a subnet, a made-up secret, ...) for the re-audit only: they never
reach the plan or a router.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from cmelive.audit import audit_snapshot
from cmelive.checks.base import Status
from cmelive.commands import RUNNING_CONFIG
from cmelive.checks.toll_fraud import NO_FREE_BLOCK_TAG
from cmelive.fixplan.iosconfig import IosConfig
from cmelive.fixplan.plan import MANUAL as MANUAL_CHECKS
from cmelive.fixplan.plan import (
    FixPlan,
    build_plan,
    distinct_masked_communities,
    plan_commands,
)
from cmelive.policy import Policy
from cmelive.report.model import DeviceReport
from cmelive.snapshot import CommandOutput, Snapshot

_PLACEHOLDER = re.compile(r"<[A-Za-z0-9][A-Za-z0-9 ._:/-]*?>")

#: Verdicts of a row of the before/after table.
FIXED = "fixed"
NOT_FIXED = "NOT FIXED"
REGRESSION = "REGRESSION"
LIVE = "next live audit"
MANUAL = "manual"
DAMAGED = "unknown: damaged capture"
NEEDS_VALUE = "depends on your values"
NEW_MANUAL = "now applicable (manual)"
NEW_FAILURE = "NEW FAILURE"


@dataclass(frozen=True)
class Row:
    check: str
    before: str
    after: str
    verdict: str  # one of the verdicts above, or "" (no change the plan is about)


@dataclass
class Verification:
    """The before/after table of a plan, and whether it holds."""

    rows: list[Row]
    future_config: str
    problems: list[str] = field(default_factory=list)  # lines the config model could not place
    after: DeviceReport | None = None

    @property
    def holds(self) -> bool:
        return not any(r.verdict in (NOT_FIXED, REGRESSION, NEW_FAILURE) for r in self.rows)

    def table(self) -> str:
        width = max((len(r.check) for r in self.rows), default=10)
        out = [f"{'check':<{width}}  {'before':<14}  {'after':<14}  verdict"]
        for row in self.rows:
            if row.before == row.after and not row.verdict:
                continue
            out.append(f"{row.check:<{width}}  {row.before:<14}  {row.after:<14}  {row.verdict}")
        unchanged = sum(1 for r in self.rows if r.before == r.after and not r.verdict)
        out.append(f"({unchanged} other checks unchanged)")
        out.append("the plan holds: every check it claims passes, nothing that passed fails"
                   if self.holds else "THE PLAN DOES NOT HOLD: see the rows marked above")  # fmt: skip
        return "\n".join(out) + "\n"


def stand_ins(lines: list[str], running_config: str, audit_source: str | None = None) -> list[str]:
    """``lines`` with every placeholder replaced by a stand-in of its form (for the re-audit only)."""
    config_lines = running_config.splitlines()
    values: dict[str, str] = {}

    def value(name: str) -> str:
        if name in values:
            return values[name]
        inner = name[1:-1]
        community = re.fullmatch(r"community-on-line-(\d+)", inner)
        if community is not None:
            number = int(community.group(1))
            text = config_lines[number - 1] if 0 < number <= len(config_lines) else ""
            found = re.search(r"snmp-server community (\S+)", text)
            result = found.group(1) if found else f"standin{len(values)}"
        elif inner == "your-address":
            result = audit_source or "192.0.2.99"
        elif inner in ("admin-subnet", "nms-subnet"):
            result = "192.0.2.0" if inner == "admin-subnet" else "198.51.100.0"
        elif inner == "wildcard":
            result = "0.0.0.255"
        elif re.search(r"(-ip|server|address|host)$", inner):
            result = f"192.0.2.{10 + len(values)}"
        elif re.search(r"(max|calls|count|offset|size|number)", inner):
            result = "0" if "offset" in inner else "8"
        elif inner.endswith("url"):
            result = f"http://192.0.2.{10 + len(values)}"
        elif "zone" in inner:
            result = "UTC"
        elif re.search(r"(secret|password|key|community|string|pin)", inner):
            result = f"Standin{len(values)}Value7"
        else:
            result = f"standin{len(values)}"
        values[name] = result
        return result

    out = []
    for line in lines:
        # The two-word ACL sources first: the wildcard goes with its subnet.
        line = line.replace("<admin-subnet> <wildcard>", "192.0.2.0 0.0.0.255")
        line = line.replace("<nms-subnet> <wildcard>", "198.51.100.0 0.0.0.255")
        out.append(_PLACEHOLDER.sub(lambda m: value(m.group(0)), line))
    return out


def future_snapshot(snapshot: Snapshot, plan: FixPlan, audit_source: str | None = None) -> tuple[Snapshot, list[str]]:
    """The snapshot the router would give after the plan: its running-config changed, nothing else."""
    running = snapshot.get(RUNNING_CONFIG)
    text = distinct_masked_communities(running.text)
    commands = stand_ins(plan_commands(plan), text, audit_source)
    applied = IosConfig(text).apply(commands)
    outputs = dict(snapshot.outputs)
    outputs[RUNNING_CONFIG] = CommandOutput(RUNNING_CONFIG, running.status, applied.config.text(), running.duration_s,
                                            running.error)  # fmt: skip
    return replace(snapshot, outputs=outputs), applied.problems


def verify_plan(
    snapshot: Snapshot,
    plan: FixPlan,
    before: DeviceReport,
    policy: Policy | None = None,
    *,
    audit_source: str | None = None,
) -> Verification:
    """Re-audit the future config and compare every check with the audit the plan came from."""
    future, problems = future_snapshot(snapshot, plan, audit_source)
    after = audit_snapshot(future, policy, name=before.name)
    was = {r.check: r.status for r in before.results}
    kinds = {c.check: c.kind for c in plan.checks}
    needs_values = {r.check for r in before.results if any(_PLACEHOLDER.search(line) for line in r.remediation)}
    # CME holds 32 block patterns: when the plan ran out of tags, the checks that add patterns wait for the
    # user to free one (their lines carry the placeholder, which no stand-in can honestly fill).
    waits_for_tag = {r.check for r in before.results if any("after-hours block pattern" in line for line in r.remediation)
                     } if any(NO_FREE_BLOCK_TAG in line for line in plan.script) else set()  # fmt: skip
    damaged = bool(before.facts.get("running_config_damage")) or before.facts.get("running_config_complete") is False
    rows: list[Row] = []
    for result in after.results:
        old = was.get(result.check, Status.UNKNOWN)
        new = result.status
        kind = kinds.get(result.check)
        verdict = ""
        if kind == "config":
            if new in (Status.PASS, Status.NOT_APPLICABLE):
                verdict = FIXED  # not_applicable: what it judged is gone (the only RW community removed)
            elif new in (Status.UNKNOWN, Status.NOT_APPLICABLE) and damaged:
                verdict = DAMAGED
            elif ((new == Status.UNKNOWN and result.check in needs_values) or _is_stand_in(result.message)
                  or (new == Status.FAIL and result.check in waits_for_tag)):
                verdict = NEEDS_VALUE
            else:
                verdict = NOT_FIXED
        elif kind == "live":
            verdict = FIXED if new == Status.PASS else LIVE
        elif kind == "manual":
            verdict = MANUAL
        elif new == Status.FAIL and old not in (Status.FAIL, Status.WAIVED):
            verdict = NEW_MANUAL if result.check in MANUAL_CHECKS else (
                NEEDS_VALUE if _is_stand_in(result.message) else NEW_FAILURE)  # fmt: skip
        if old == Status.PASS and new == Status.FAIL:
            verdict = REGRESSION
        rows.append(Row(result.check, str(old), str(new), verdict))
    future_text = future.get(RUNNING_CONFIG).text
    return Verification(rows, future_text, problems, after)


def prove(
    snapshot: Snapshot,
    before: DeviceReport,
    policy: Policy | None = None,
    *,
    audit_source: str | None = None,
) -> tuple[FixPlan, Verification]:
    """The plan for a device, proven: built, applied, re-audited; once more with the fixes the
    plan itself makes necessary (failures the re-audit finds that the audit did not have)."""
    running = snapshot.get(RUNNING_CONFIG).text
    live = live_outputs(snapshot)
    plan = build_plan(before.name, before.results, running, audit_source=audit_source, live_outputs=live)
    proof = verify_plan(snapshot, plan, before, policy, audit_source=audit_source)
    failed_before = {r.check for r in before.results if r.status in (Status.FAIL, Status.WAIVED)}
    after = proof.after.results if proof.after is not None else []
    follow_on = [
        r for r in after
        if r.status == Status.FAIL and r.check not in failed_before and r.remediation
        and r.check not in MANUAL_CHECKS and not any(_is_stand_in(line) for line in r.remediation)
    ]  # fmt: skip
    if follow_on:
        plan = build_plan(before.name, before.results, running, audit_source=audit_source, follow_on=follow_on,
                          live_outputs=live)  # fmt: skip
        proof = verify_plan(snapshot, plan, before, policy, audit_source=audit_source)
    return plan, proof


def live_outputs(snapshot: Snapshot) -> list[str]:
    """The show commands other than the running-config that the snapshot holds usable."""
    return [c for c, o in snapshot.outputs.items() if c != RUNNING_CONFIG and o.usable]


def _is_stand_in(line: str) -> bool:
    """A line that carries a stand-in value (it must never reach a plan)."""
    return bool(re.search(r"192\.0\.2\.|198\.51\.100\.|Standin\d+Value7|\bstandin\d+", line))
