"""A router that repeats its configuration in a flood (issue 11): judging it stays near linear and
what one finding holds stays bounded, so that a hostile router cannot make every report huge.

Before the bounds, the insecure example's config repeated to 2 MB took minutes to judge and wrote
a 20 MB message (CME-GUI-06 paired every repeated web admin line with every enable line).
"""

from __future__ import annotations

import time

from cmelive.audit import EVIDENCE_LIMIT, MESSAGE_LIMIT, REMEDIATION_LIMIT, audit_snapshot
from cmelive.commands import RUNNING_CONFIG, CommandStatus
from cmelive.examples import example_dir
from cmelive.report.json_report import render_json
from cmelive.report.model import AuditReport
from cmelive.snapshot import CommandOutput, Snapshot, read_snapshot

REPEATS = 120


def flooded(repeats: int) -> Snapshot:
    snapshot = read_snapshot(example_dir("insecure-cme"))
    config = snapshot.outputs[RUNNING_CONFIG].text
    body = config[: config.rindex("\nend")]
    text = "\n".join([body] * repeats) + "\n"  # cut by the byte limit: no "end"
    cut = CommandOutput(RUNNING_CONFIG, CommandStatus.TRUNCATED, text, error="cut off at the output size limit")
    return Snapshot(host=snapshot.host, outputs={**snapshot.outputs, RUNNING_CONFIG: cut}, hostname=snapshot.hostname)


def test_a_flooded_config_is_judged_with_every_finding_bounded() -> None:
    snapshot = flooded(REPEATS)
    started = time.process_time()
    report = audit_snapshot(snapshot)
    cpu_s = time.process_time() - started
    cut = {}
    for result in report.results:
        assert len(result.evidence) <= EVIDENCE_LIMIT, result.check
        assert len(result.remediation) <= REMEDIATION_LIMIT, result.check
        assert len(result.message) <= MESSAGE_LIMIT + 200, result.check
        if "[cut to fit a report: " in result.message:
            cut[result.check] = result.message[result.message.index("[cut to fit") :]
    # The check that paired every GUI account line with every enable line is among those cut, and
    # says what was cut.
    assert "CME-GUI-06" in cut
    assert cut["CME-GUI-06"].startswith("[cut to fit a report: message: the first 4000 of ")
    per_copy = len(render_json(AuditReport([audit_snapshot(flooded(1))])))
    whole = len(render_json(AuditReport([report])))
    # The report grows far less than the config does (the evidence lists are capped), and judging
    # stays near linear: a generous bound against the minutes it took before.
    assert whole < 20 * per_copy, (whole, per_copy)
    assert cpu_s < 60, cpu_s


def test_a_finding_within_the_limits_is_untouched() -> None:
    report = audit_snapshot(read_snapshot(example_dir("insecure-cme")))
    assert not [r.check for r in report.results if "[cut to fit a report" in r.message]
