"""The text report: exact layout, ordering, wrapping, summaries, colour, and devices in error."""

from __future__ import annotations

import re

import pytest

from cmelive.audit import audit_snapshot
from cmelive.checks.base import CheckResult, Evidence, Severity, Status
from cmelive.commands import CommandStatus
from cmelive.examples import EXAMPLES, example_dir
from cmelive.report.model import AuditReport, DeviceReport, DeviceStatus
from cmelive.report.model import format_evidence
from cmelive.report.text import device_summary, overall_summary, render_text
from cmelive.snapshot import CommandOutput, read_snapshot

RUN = "show running-config"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def result(
    check: str,
    status: Status,
    severity: Severity = Severity.MEDIUM,
    *,
    title: str | None = None,
    message: str = "",
    evidence: tuple[Evidence, ...] = (),
    remediation: tuple[str, ...] = (),
    waiver: dict[str, str] | None = None,
) -> CheckResult:
    family = check.split("-")[1]
    return CheckResult(
        check=check,
        title=title or f"Title of {check}",
        severity=severity,
        family=family,
        status=status,
        reference="guide",
        message=message or f"message of {check}",
        evidence=evidence,
        remediation=remediation,
        waiver=waiver,
    )


def device(results: list[CheckResult], **overrides: object) -> DeviceReport:
    fields: dict[str, object] = {
        "name": "branch-1",
        "host": "10.1.255.1",
        "hostname": "cme-branch-1",
        "status": DeviceStatus.OK,
        "facts": {
            "model": "CISCO2911/K9",
            "ios_version": "15.9(3)M7",
            "cme_version": "12.6",
            "ephones_configured": 5,
            "ephones_registered": 4,
        },
        "results": results,
        # Audited: the running-config was collected whole (report.model's not-audited rule).
        "commands": [CommandOutput("show running-config", CommandStatus.OK)],
    }
    fields.update(overrides)
    return DeviceReport(**fields)  # type: ignore[arg-type]


LONG_EVIDENCE = Evidence(
    RUN,
    412,
    "access-list 101 permit udp host 198.51.100.20 host 203.0.113.18 eq 5060 log-input "
    "time-range BUSINESS-HOURS-AND-WEEKEND-MAINTENANCE-WINDOW-FOR-THE-SIP-TRUNK",
)

MIXED = [
    result("CME-ACC-01", Status.PASS, Severity.HIGH, title="Enable secret is set"),
    result(
        "CME-ACC-04",
        Status.FAIL,
        Severity.HIGH,
        title="Every vty range accepts SSH only",
        message="line vty 0 4 accepts telnet",
        evidence=(Evidence(RUN, 12, "line vty 0 4"), Evidence(RUN, 15, "transport input telnet")),
        remediation=("line vty 0 4", " transport input ssh"),
    ),
    result("CME-ACC-02", Status.FAIL, Severity.MEDIUM, title="Service password-encryption is on"),
    result(
        "CME-GUI-06",
        Status.FAIL,
        Severity.CRITICAL,
        title="No CME GUI password is the enable password",
        evidence=(LONG_EVIDENCE,),
    ),
    result("CME-GUI-03", Status.FAIL, Severity.MEDIUM),
    result("CME-TLS-04", Status.UNKNOWN, Severity.HIGH, message="needs 'show ctl-client', which was rejected"),
    result("CME-GUI-05", Status.NOT_APPLICABLE, Severity.LOW, title="HTTPS presents a CA-issued certificate"),
    result("CME-CDP-01", Status.FAIL, Severity.LOW),
]


def render(results: list[CheckResult], width: int = 80, **overrides: object) -> list[str]:
    report = AuditReport([device(results, **overrides)], generated_at="2026-11-21T09:41:02Z")
    return render_text(report, width=width).splitlines()


def section(lines: list[str], heading: str) -> list[str]:
    """The lines of one section: from its heading to the next section heading or the summary."""
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    end = next(
        i
        for i in range(start + 1, len(lines))
        if lines[i].startswith(("Failures (", "Unknown (", "Passed and not applicable (", "Summary:"))
    )
    return lines[start:end]


def test_sections_come_failures_first_then_unknown_then_passes() -> None:
    lines = render(MIXED)
    headings = [line for line in lines if re.match(r"^(Failures|Unknown|Passed and not applicable) \(\d+\)$", line)]
    assert headings == ["Failures (5)", "Unknown (1)", "Passed and not applicable (2)"]


def test_failures_are_grouped_by_family_worst_family_first_and_by_severity_within() -> None:
    failures = section(render(MIXED), "Failures (")
    labelled = [line.split()[:2] for line in failures if re.match(r"^ {4}[A-Z]", line)]
    families = [line.strip() for line in failures if line.startswith("  [")]
    assert families == ["[GUI] Securing GUI access", "[ACC] Basic access security", "[CDP] Cisco Discovery Protocol"]
    assert labelled == [
        ["CRITICAL", "CME-GUI-06"],
        ["MEDIUM", "CME-GUI-03"],
        ["HIGH", "CME-ACC-04"],
        ["MEDIUM", "CME-ACC-02"],
        ["LOW", "CME-CDP-01"],
    ]


def test_a_failure_shows_severity_id_title_message_evidence_and_indented_remediation() -> None:
    lines = render(MIXED)
    start = lines.index("    HIGH      CME-ACC-04  Every vty range accepts SSH only")
    assert lines[start : start + 9] == [
        "    HIGH      CME-ACC-04  Every vty range accepts SSH only",
        "      line vty 0 4 accepts telnet",
        "      Evidence:",
        "        show running-config:12: line vty 0 4",
        "        show running-config:15: transport input telnet",
        "      Remediation:",
        "        line vty 0 4",
        "         transport input ssh",
        "",
    ]


def test_unknown_results_show_their_reason() -> None:
    unknown = section(render(MIXED), "Unknown (")
    assert unknown == [
        "Unknown (1)",
        "",
        "  [TLS] Secure SCCP signalling (TLS)",
        "    UNKNOWN   CME-TLS-04  Title of CME-TLS-04",
        "      needs 'show ctl-client', which was rejected",
        "",
    ]


def test_passes_and_not_applicable_are_one_liners_grouped_by_family() -> None:
    quiet = section(render(MIXED), "Passed and not applicable (")
    assert quiet == [
        "Passed and not applicable (2)",
        "",
        "  [GUI] Securing GUI access",
        "    N/A       CME-GUI-05  HTTPS presents a CA-issued certificate",
        "",
        "  [ACC] Basic access security",
        "    PASS      CME-ACC-01  Enable secret is set",
        "",
    ]


def test_long_evidence_is_wrapped_within_80_columns_with_indented_continuations() -> None:
    lines = render(MIXED)
    assert all(len(line) <= 80 for line in lines)
    first = next(i for i, line in enumerate(lines) if line.startswith("        show running-config:412: "))
    continuation = []
    for line in lines[first + 1 :]:
        if not line.startswith("            "):
            break
        continuation.append(line)
    assert continuation, "the long evidence line was not wrapped"
    rebuilt = " ".join(part.strip() for part in [lines[first], *continuation])
    assert rebuilt == format_evidence(LONG_EVIDENCE)


@pytest.mark.parametrize("width", [40, 50, 64, 100])
def test_no_line_exceeds_the_requested_width(width: int) -> None:
    long_title = "A very long check title that goes on and on about what the check verifies in detail"
    results = [*MIXED, result("CME-REG-04", Status.FAIL, Severity.HIGH, title=long_title, message="x " * 90)]
    assert all(len(line) <= width for line in render(results, width=width))


def test_width_below_the_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 40"):
        render_text(AuditReport([device(MIXED)]), width=39)


def test_summary_line_exact_text() -> None:
    results = (
        [result(f"CME-ACC-{n:02d}", Status.FAIL, Severity.HIGH) for n in (1, 2)]
        + [result(f"CME-GUI-{n:02d}", Status.FAIL, Severity.MEDIUM) for n in (1, 2, 3)]
        + [result(f"CME-REG-{n:02d}", Status.PASS) for n in range(1, 15)]
        + [result(f"CME-TLS-{n:02d}", Status.NOT_APPLICABLE) for n in (1, 2)]
        + [result(f"CME-COR-{n:02d}", Status.UNKNOWN) for n in (1, 2)]
    )
    expected = "Summary: 23 checks — 5 fail (2 high, 3 medium), 14 pass, 2 not applicable, 2 unknown"
    assert device_summary(device(results)) == expected
    assert expected in render(results, width=100)
    # At 80 columns the same line wraps, continuation indented.
    wrapped = render(results, width=80)
    at = wrapped.index("Summary: 23 checks — 5 fail (2 high, 3 medium), 14 pass, 2 not applicable, 2")
    assert wrapped[at + 1] == "  unknown"


def test_summary_counts_waived_results_and_shows_the_waiver() -> None:
    waived = result(
        "CME-CDP-01",
        Status.WAIVED,
        Severity.LOW,
        title="CDP is off towards WAN",
        waiver={"reason": "carrier requires CDP", "until": "2027-01-31"},
    )
    lines = render([waived, result("CME-ACC-01", Status.PASS)])
    assert "Summary: 2 checks — 0 fail, 1 pass, 0 not applicable, 0 unknown, 1 waived" in lines
    at = lines.index("    WAIVED    CME-CDP-01  CDP is off towards WAN")
    assert lines[at + 1] == "      waived: carrier requires CDP (expires 2027-01-31)"


def test_header_shows_facts_status_and_commands_that_did_not_complete() -> None:
    commands = [
        CommandOutput("show version", CommandStatus.OK, "x"),
        CommandOutput("show ctl-client", CommandStatus.REJECTED, error="% Invalid input detected at '^' marker."),
        CommandOutput("show running-config", CommandStatus.TRUNCATED, error="no final 'end' line"),
        CommandOutput("show ephone registered", CommandStatus.TIMEOUT, error="no prompt after 30 s"),
    ]
    lines = render(MIXED, status=DeviceStatus.PARTIAL, commands=commands)
    assert lines[0] == "cmelive audit report, generated 2026-11-21T09:41:02Z"
    assert lines[1:18] == [
        "",
        "=" * 80,
        "cme-branch-1 (branch-1)",
        "=" * 80,
        "Device:   branch-1",
        "Host:     10.1.255.1",
        "Hostname: cme-branch-1",
        "Model:    CISCO2911/K9",
        "IOS:      15.9(3)M7",
        "CME:      12.6",
        "Ephones:  5 configured, 4 registered",
        "Status:   partial",
        "Commands that did not complete (3):",
        "  show running-config — truncated: no final 'end' line",
        "  show ephone registered — timeout: no prompt after 30 s",
        "  show ctl-client — rejected: % Invalid input detected at '^' marker.",
        "",
    ]


def test_device_in_error_shows_its_error_and_is_counted_as_not_audited() -> None:
    failed = DeviceReport(
        name="branch-9",
        host="10.9.255.1",
        hostname=None,
        status=DeviceStatus.ERROR,
        error="authentication failed for admin@10.9.255.1",
    )
    report = AuditReport([device(MIXED), failed], generated_at="2026-11-21T09:41:02Z")
    lines = render_text(report).splitlines()
    start = lines.index("branch-9")
    assert lines[start + 1 : start + 8] == [
        "=" * 80,
        "Device:   branch-9",
        "Host:     10.9.255.1",
        "Status:   error",
        "Error:    authentication failed for admin@10.9.255.1",
        "",
        "Summary: not audited — authentication failed for admin@10.9.255.1",
    ]
    assert overall_summary(report) == (
        "Overall: 2 devices (1 not audited) — 8 checks — 5 fail (1 critical, 1 high, 2 medium, 1 low), "
        "1 pass, 1 not applicable, 1 unknown"
    )
    assert lines[-2] == "Overall: 2 devices (1 not audited) — 8 checks — 5 fail (1 critical, 1 high, 2"
    assert lines[-1] == "  medium, 1 low), 1 pass, 1 not applicable, 1 unknown"


def test_colour_only_when_asked_and_invisible_to_the_layout() -> None:
    report = AuditReport([device(MIXED)], generated_at="2026-11-21T09:41:02Z")
    plain = render_text(report)
    coloured = render_text(report, color=True)
    assert not ANSI.search(plain)
    assert "    \x1b[1;35mCRITICAL\x1b[0m  CME-GUI-06" in coloured
    assert "    \x1b[32mPASS\x1b[0m      CME-ACC-01" in coloured
    assert ANSI.sub("", coloured) == plain


def test_the_bundled_examples_render_within_80_columns() -> None:
    devices = [audit_snapshot(read_snapshot(example_dir(name)), name=name) for name in EXAMPLES]
    text = render_text(AuditReport(devices))
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    summaries = []
    for index, line in enumerate(lines):
        if line.startswith("Summary:"):
            continued = [line]
            for following in lines[index + 1 :]:
                if not following.startswith("  "):
                    break
                continued.append(following.strip())
            summaries.append(" ".join(continued))
    assert summaries == [device_summary(reported) for reported in devices]
    for reported in devices:
        assert f"{reported.hostname} ({reported.name})" in lines


def test_waived_and_expired_waiver_lines() -> None:
    from dataclasses import replace

    from cmelive.checks.base import CheckResult, Severity, Status
    from cmelive.report.model import AuditReport, DeviceReport, DeviceStatus

    base = CheckResult("CME-CDP-01", "CDP is off", Severity.LOW, "CDP", Status.WAIVED, "guide", "cdp runs")
    waived = replace(base, waiver={"reason": "carrier needs CDP", "owner": "voice", "expires": "2027-01-31"})
    expired = replace(
        base,
        check="CME-ACC-05",
        status=Status.FAIL,
        remediation=("ip ssh version 2",),
        waiver={"reason": "old NMS", "owner": "ops", "expires": "2025-01-01", "expired": "true"},
    )
    device = DeviceReport("r1", "10.0.0.1", "r1", DeviceStatus.OK, results=[waived, expired])
    text = render_text(AuditReport([device], generated_at="2026-01-01T00:00:00Z"))
    assert "waived: carrier needs CDP (voice, expires 2027-01-31)" in text
    assert "Waiver expired 2025-01-01, no longer applies: old NMS (ops)" in text
