"""The audit engine's rules: missing or cut-off evidence never becomes a pass."""

from __future__ import annotations

from cmelive.audit import audit_snapshot, run_check
from cmelive.checks.base import CheckSpec, Outcome, Severity, Status, failed, passed
from cmelive.commands import AUDIT_COMMANDS, RUNNING_CONFIG, CommandStatus
from cmelive.policy import Policy
from cmelive.snapshot import CommandOutput, Snapshot
from cmelive.state import DeviceState

COMPLETE = "version 15.1\nhostname r1\n!\nline vty 0 4\n transport input ssh\n!\nend\n"
CUT_OFF = "hostname r1\n!\nline vty 0 4\n transport input ssh\n"


def spec(func: object, requires: tuple[str, ...] = (RUNNING_CONFIG,)) -> CheckSpec:
    return CheckSpec(
        id="CME-TEST-01",
        title="test",
        severity=Severity.HIGH,
        family="TEST",
        reference="nowhere",
        rationale="because",
        passes_when="always",
        requires=requires,
        func=func,  # type: ignore[arg-type]
    )


def state(text: str | None, status: CommandStatus = CommandStatus.OK) -> DeviceState:
    outputs = {}
    if text is not None:
        outputs[RUNNING_CONFIG] = CommandOutput(RUNNING_CONFIG, status, text)
    return DeviceState(Snapshot(host="r1", outputs=outputs))


def always_pass(_: DeviceState) -> Outcome:
    return passed("looks fine")


def absent_fail(_: DeviceState) -> Outcome:
    return failed("no such line", remediation=["fix"], from_absence=True)


def present_fail(s: DeviceState) -> Outcome:
    assert s.config is not None
    line = s.config.anywhere(r"transport input ssh")[0]
    return failed("bad line", [s.evidence(line)], ["fix"])


def test_pass_on_complete_config_stands() -> None:
    assert run_check(spec(always_pass), state(COMPLETE)).status == Status.PASS


def test_missing_command_is_unknown() -> None:
    result = run_check(spec(always_pass), state(None))
    assert result.status == Status.UNKNOWN
    assert "show running-config" in result.message


def test_rejected_command_is_unknown() -> None:
    result = run_check(spec(always_pass), state("% Invalid input detected at '^' marker.", CommandStatus.REJECTED))
    assert result.status == Status.UNKNOWN
    assert "rejected" in result.message


def looks_for_ntp_then_passes(s: DeviceState) -> Outcome:
    assert s.config is not None
    s.config.globals(r"ntp server ")
    return passed("looks fine")


def looks_for_ntp_then_fails(s: DeviceState) -> Outcome:
    assert s.config is not None
    s.config.globals(r"ntp server ")
    return failed("no ntp server", remediation=["fix"], from_absence=True)


def looks_for_enable_then_passes(s: DeviceState) -> Outcome:
    assert s.config is not None
    s.config.globals(r"enable (secret|password) ")
    return passed("looks fine")


def test_cut_off_config_turns_pass_and_absence_fail_into_unknown_where_the_cut_can_hide_the_line() -> None:
    for func in (looks_for_ntp_then_passes, looks_for_ntp_then_fails):
        result = run_check(spec(func), state(CUT_OFF))
        assert result.status == Status.UNKNOWN
        assert "cut off" in result.message
    # IOS prints the enable lines long before the vty lines: this cut cannot hide them.
    assert run_check(spec(looks_for_enable_then_passes), state(CUT_OFF)).status == Status.PASS
    # A check that reads nothing of the config cannot be misled by what the cut took.
    assert run_check(spec(always_pass), state(CUT_OFF)).status == Status.PASS
    assert run_check(spec(absent_fail), state(CUT_OFF)).status == Status.FAIL


def test_cut_off_config_keeps_failures_shown_by_present_lines() -> None:
    result = run_check(spec(present_fail), state(CUT_OFF))
    assert result.status == Status.FAIL
    assert [(e.line, e.text) for e in result.evidence] == [(4, "transport input ssh")]


def test_truncated_status_from_collection_counts_as_incomplete() -> None:
    # The parser finds nothing wrong, yet the collector saw the output stop short: nothing in it
    # can be vouched for (a check that reads nothing of it is not misled by it).
    result = run_check(spec(looks_for_enable_then_passes), state(COMPLETE, CommandStatus.TRUNCATED))
    assert result.status == Status.UNKNOWN


def test_a_crashing_check_costs_one_unknown_result() -> None:
    def crash(_: DeviceState) -> Outcome:
        raise RuntimeError("bug")

    result = run_check(spec(crash), state(COMPLETE))
    assert result.status == Status.UNKNOWN
    assert "internal error" in result.message


def test_remediation_only_on_failures_and_severity_override() -> None:
    def pass_with_remedy(_: DeviceState) -> Outcome:
        return Outcome(Status.PASS, "ok", (), ("should not show",))

    s = state(COMPLETE)
    s.policy.severity_overrides["CME-TEST-01"] = Severity.LOW
    result = run_check(spec(pass_with_remedy), s)
    assert result.remediation == ()
    assert result.severity == Severity.LOW


def test_every_registered_check_on_an_empty_snapshot_is_never_a_pass() -> None:
    report = audit_snapshot(Snapshot(host="empty"))
    assert report.results
    assert {r.status for r in report.results} <= {Status.UNKNOWN, Status.NOT_APPLICABLE}


def test_every_registered_check_on_a_rejected_snapshot_is_unknown() -> None:
    rejected = {
        command: CommandOutput(command, CommandStatus.REJECTED, "% Invalid input detected at '^' marker.")
        for command in AUDIT_COMMANDS
    }
    report = audit_snapshot(Snapshot(host="r", outputs=rejected), Policy())
    assert {r.status for r in report.results} <= {Status.UNKNOWN, Status.NOT_APPLICABLE}
    assert str(report.status) == "partial"


def test_audit_commands_are_read_only() -> None:
    assert all(command.startswith("show ") for command in AUDIT_COMMANDS)


def test_cme_only_check_is_not_applicable_on_a_router_without_cme() -> None:
    from dataclasses import replace

    cme_spec = replace(spec(always_pass, requires=(RUNNING_CONFIG, "show ephone registered")), cme_only=True)
    no_cme = state(COMPLETE)
    no_cme.snapshot.outputs["show ephone registered"] = CommandOutput(
        "show ephone registered", CommandStatus.REJECTED, "% Invalid input detected at '^' marker."
    )
    assert run_check(cme_spec, no_cme).status == Status.NOT_APPLICABLE
    # With CME configured, the rejected command makes it unknown as usual.
    with_cme = state("version 15.1\nhostname r1\n!\ntelephony-service\n max-ephones 10\n!\nend\n")
    with_cme.snapshot.outputs["show ephone registered"] = no_cme.snapshot.outputs["show ephone registered"]
    assert run_check(cme_spec, with_cme).status == Status.UNKNOWN
    # A config cut where telephony-service could have been printed cannot show that CME is absent...
    cut_in_the_interfaces = "version 15.1\nhostname r1\n!\ninterface Gi0/0\n ip address 10.0.0.1 255.0.0.0\n"
    assert run_check(cme_spec, state(cut_in_the_interfaces)).status == Status.UNKNOWN
    # ...but one cut after its lines can: IOS prints telephony-service before them.
    assert run_check(cme_spec, state(CUT_OFF)).status == Status.NOT_APPLICABLE


def test_a_router_without_cme_refusing_cme_commands_is_audited_whole() -> None:
    # Issue 12: the refusal is what a plain IOS router should answer, not a failure of the audit.
    from cmelive.examples import example_dir
    from cmelive.snapshot import read_snapshot

    plain = read_snapshot(example_dir("plain-ios"))
    refused = [o.command for o in plain.outputs.values() if o.status == CommandStatus.REJECTED]
    assert refused and all(c.startswith(("show ephone", "show ctl-client", "show capf-server", "show telephony")) for c in refused)
    assert audit_snapshot(plain).status.value == "ok"
    # The same refusal from a router that runs CME is a failure of the audit: partial.
    cme = read_snapshot(example_dir("secure-cme"))
    command = refused[0]
    cme.outputs[command] = CommandOutput(command, CommandStatus.REJECTED, "% Invalid input detected at '^' marker.\n",
                                         error="% Invalid input detected at '^' marker.")  # fmt: skip
    assert audit_snapshot(cme).status.value == "partial"
