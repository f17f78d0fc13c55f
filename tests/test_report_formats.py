"""The machine-readable fleet reports: SARIF 2.1.0, JUnit XML and CSV, rendered from a hand-built
AuditReport (two audited devices and one that could not be), asserted field by field."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from jsonschema import Draft202012Validator

from cmelive import __version__
from cmelive.checks import all_checks, get_check
from cmelive.checks.base import CheckResult, Evidence, Severity, Status
from cmelive.commands import OPEN_PORTS, PKI_CERTIFICATES, RUNNING_CONFIG, SHOW_VERSION, CommandStatus
from cmelive.report.csv_report import COLUMNS, defuse_formula, render_csv
from cmelive.report.junit import render_junit
from cmelive.report.model import expired_waiver_note, waiver_note
from cmelive.report.model import AuditReport, DeviceReport, DeviceStatus
from cmelive.report.sarif import SARIF_SCHEMA_URI, finding_fingerprint, render_sarif, rule_name
from cmelive.snapshot import CommandOutput
from cmelive.waivers import SelectorKind, Waiver, apply_waivers

# The OASIS SARIF 2.1.0 schema, vendored verbatim (oasis-tcs/sarif-spec, Schemata/sarif-schema-2.1.0.json)
# so that validation needs no network.
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"
GENERATED_AT = "2025-01-15T02:00:00Z"

# Planted where no report may look (raw command output, facts): they must never come out.
PLANTED_SECRETS = ("PlainEnableSecret99", "SuperSecretCommunity")

WAIVER = {"reason": "carrier requires CDP", "owner": "voice-team", "expires": "2027-01-31"}
GUI06_EVIDENCE = Evidence(RUNNING_CONFIG, 193, "web admin system name admin password <masked>")
CDP_EVIDENCE = Evidence(RUNNING_CONFIG, 40, "cdp run")
SNMP_EVIDENCE = (
    Evidence(RUNNING_CONFIG, 57, "snmp-server community <masked> RO 10"),
    # Commas, quotes, a newline, non-ASCII and an ANSI escape (not a valid XML character).
    Evidence(RUNNING_CONFIG, 12, 'description Lobby, "front desk"\nline two café ☎ \x1b[0m'),
    Evidence(OPEN_PORTS, None, "udp 161 snmp, listening"),
)
BRANCH1_RUNNING_CONFIG = {"uri": "snapshots/branch-1/show_running-config.txt", "uriBaseId": "SNAPSHOTS"}
FORMULA_MESSAGE = '=HYPERLINK("http://198.51.100.7/x","open") names ACL 10, which does not exist'


def result(
    check: str,
    status: Status,
    message: str,
    *,
    evidence: tuple[Evidence, ...] = (),
    remediation: tuple[str, ...] = (),
    waiver: dict[str, str] | None = None,
) -> CheckResult:
    spec = get_check(check)
    assert spec is not None, check
    return CheckResult(
        check=check,
        title=spec.title,
        severity=spec.severity,
        family=spec.family,
        status=status,
        reference=spec.reference,
        message=message,
        evidence=evidence,
        remediation=remediation,
        waiver=waiver,
    )


def build_report() -> AuditReport:
    branch1 = DeviceReport(
        name="branch-1",
        host="10.1.255.1",
        hostname="cme-branch-1",
        status=DeviceStatus.OK,
        facts={"model": "CISCO2911/K9", "leak_probe": PLANTED_SECRETS[1]},
        commands=[
            CommandOutput(SHOW_VERSION, CommandStatus.OK, "Cisco IOS Software", 0.125),
            CommandOutput(
                RUNNING_CONFIG,
                CommandStatus.OK,
                f"enable secret 0 {PLANTED_SECRETS[0]}\nsnmp-server community {PLANTED_SECRETS[1]} RO\n",
                0.25,
            ),
        ],
        results=[
            result("CME-ACC-01", Status.PASS, "enable secret is set"),
            result(
                "CME-GUI-06",
                Status.FAIL,
                "the GUI admin login reuses the enable secret",
                evidence=(GUI06_EVIDENCE,),
                remediation=("telephony-service", " web admin system name admin password <new-password>"),
            ),
            result(
                "CME-ACC-02",
                Status.FAIL,
                "no 'service password-encryption' line",
                remediation=("service password-encryption",),
            ),
            result(
                "CME-CDP-01",
                Status.WAIVED,
                "CDP runs towards GigabitEthernet0/1 (WAN)",
                evidence=(CDP_EVIDENCE,),
                remediation=("interface GigabitEthernet0/1", " no cdp enable"),
                waiver=WAIVER,
            ),
            result("CME-GUI-05", Status.UNKNOWN, "show crypto pki certificates was rejected"),
            result("CME-ACC-09", Status.NOT_APPLICABLE, "no extra privilege levels are used"),
        ],
    )
    branch2 = DeviceReport(
        name="branch 2 café",
        host="10.2.255.1",
        hostname=None,
        status=DeviceStatus.PARTIAL,
        commands=[
            CommandOutput(RUNNING_CONFIG, CommandStatus.OK, "hostname b2\nend\n", 0.5),
            CommandOutput(PKI_CERTIFICATES, CommandStatus.REJECTED, "", 0.0, "% Invalid input detected"),
        ],
        results=[
            result(
                "CME-SNMP-01",
                Status.FAIL,
                "a well-known community string is configured",
                evidence=SNMP_EVIDENCE,
                remediation=("no snmp-server community <masked>",),
            ),
            result(
                "CME-SNMP-02",
                Status.FAIL,
                FORMULA_MESSAGE,
                remediation=("-- define the ACL first:", "access-list 10 permit 10.2.0.0 0.0.255.255"),
            ),
            result("CME-CDP-01", Status.PASS, "CDP is off towards the WAN"),
        ],
    )
    branch3 = DeviceReport(
        name="branch-3",
        host="10.3.255.1",
        hostname=None,
        status=DeviceStatus.ERROR,
        error="authentication failed for user 'audit'",
    )
    return AuditReport(devices=[branch1, branch2, branch3], generated_at=GENERATED_AT)


def check_spec(check: str) -> Any:
    spec = get_check(check)
    assert spec is not None
    return spec


# --------------------------------------------------------------------------------------- SARIF


@pytest.fixture(scope="module")
def sarif_validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # The published schema itself does not pass its meta-schema (an "anyOf" sits inside
    # region.properties), so it is used as is, without check_schema().
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def render_sarif_log(report: AuditReport, **kwargs: str) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render_sarif(report, **kwargs))
    return log


def test_sarif_validates_against_the_sarif_2_1_0_schema(sarif_validator: Draft202012Validator) -> None:
    log = render_sarif_log(build_report())
    errors = sorted(sarif_validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []
    assert log["$schema"] == SARIF_SCHEMA_URI
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1


def test_the_schema_validation_is_not_vacuous(sarif_validator: Draft202012Validator) -> None:
    log = render_sarif_log(build_report())
    log["runs"][0]["results"][0]["level"] = "critical"  # not a SARIF level
    log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"] = {"startLine": 0}
    del log["runs"][0]["tool"]["driver"]["name"]
    messages = {e.message for e in sarif_validator.iter_errors(log)}
    assert "'critical' is not one of ['none', 'note', 'warning', 'error']" in messages
    assert "0 is less than the minimum of 1" in messages
    assert "'name' is a required property" in messages


def test_sarif_has_one_rule_per_registered_check_in_id_order() -> None:
    driver = render_sarif_log(build_report())["runs"][0]["tool"]["driver"]
    specs = all_checks()
    assert driver["name"] == "cmelive"
    assert driver["version"] == __version__
    assert [rule["id"] for rule in driver["rules"]] == [spec.id for spec in specs]
    assert len(driver["rules"]) == len(specs)
    for rule, spec in zip(driver["rules"], specs, strict=True):
        assert rule["name"] == rule_name(spec.title)
        assert rule["shortDescription"] == {"text": spec.title}
        assert rule["fullDescription"] == {"text": spec.passes_when}
        assert rule["properties"]["severity"] == str(spec.severity)
        assert rule["properties"]["family"] == spec.family
        assert rule["properties"]["tags"] == ["security", "cisco-cme", spec.family]
        for part in (spec.rationale, spec.passes_when, spec.reference, *spec.remediation_example):
            assert part in rule["help"]["text"]
            assert part in rule["help"]["markdown"]


def test_sarif_rule_level_follows_severity() -> None:
    rules = {r["id"]: r for r in render_sarif_log(build_report())["runs"][0]["tool"]["driver"]["rules"]}
    expected = {
        Severity.CRITICAL: "error",
        Severity.HIGH: "error",
        Severity.MEDIUM: "warning",
        Severity.LOW: "note",
        Severity.INFO: "note",
    }
    for spec in all_checks():
        assert rules[spec.id]["defaultConfiguration"] == {"level": expected[spec.severity]}
    gui06 = check_spec("CME-GUI-06")
    assert gui06.severity == Severity.CRITICAL
    assert rules["CME-GUI-06"]["properties"]["security-severity"] == "9.5"


def test_sarif_rule_help_has_every_section_in_order() -> None:
    spec = check_spec("CME-GUI-06")
    rule = next(
        r
        for r in render_sarif_log(build_report())["runs"][0]["tool"]["driver"]["rules"]
        if r["id"] == spec.id
    )
    assert spec.remediation_example, "CME-GUI-06 documents a remediation example"
    assert rule["help"]["text"] == "\n".join(
        [
            spec.rationale,
            "",
            f"Passes when: {spec.passes_when}",
            "",
            "Remediation example:",
            *(f"    {line}" for line in spec.remediation_example),
            "",
            f"Reference: {spec.reference}",
        ]
    )
    assert rule["help"]["markdown"] == "\n".join(
        [
            spec.rationale,
            "",
            f"**Passes when:** {spec.passes_when}",
            "",
            "**Remediation example:**",
            "",
            "```",
            *spec.remediation_example,
            "```",
            "",
            f"**Reference:** {spec.reference}",
        ]
    )


def test_rule_name_is_camel_case_of_the_title() -> None:
    assert rule_name("Enable secret is set") == "EnableSecretIsSet"
    assert rule_name("SSH is restricted to version 2") == "SSHIsRestrictedToVersion2"
    assert rule_name("H.225 (TCP 1720) is accepted from the WAN only") == (
        "H225TCP1720IsAcceptedFromTheWANOnly"
    )


def test_sarif_has_one_result_per_failure_waived_included() -> None:
    report = build_report()
    run = render_sarif_log(report)["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    expected = [
        (d.name, r.check)
        for d in report.devices
        for r in d.results
        if r.status in (Status.FAIL, Status.WAIVED)
    ]
    assert [(r["properties"]["device"], r["ruleId"]) for r in run["results"]] == expected
    assert expected == [
        ("branch-1", "CME-GUI-06"),
        ("branch-1", "CME-ACC-02"),
        ("branch-1", "CME-CDP-01"),
        ("branch 2 café", "CME-SNMP-01"),
        ("branch 2 café", "CME-SNMP-02"),
    ]
    for sarif_result in run["results"]:
        assert rule_ids[sarif_result["ruleIndex"]] == sarif_result["ruleId"]


def test_sarif_failure_with_evidence_is_located_in_its_snapshot_file() -> None:
    report = build_report()
    gui06 = report.devices[0].results[1]
    sarif_result = render_sarif_log(report)["runs"][0]["results"][0]
    assert sarif_result == {
        "ruleId": "CME-GUI-06",
        "ruleIndex": [s.id for s in all_checks()].index("CME-GUI-06"),
        "kind": "fail",
        "level": "error",
        "message": {"text": "branch-1: the GUI admin login reuses the enable secret"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": BRANCH1_RUNNING_CONFIG,
                    "region": {
                        "startLine": 193,
                        "snippet": {"text": "web admin system name admin password <masked>"},
                    },
                }
            }
        ],
        "partialFingerprints": {"cmeliveFinding/v1": finding_fingerprint("branch-1", gui06)},
        "properties": {
            "device": "branch-1",
            "host": "10.1.255.1",
            "hostname": "cme-branch-1",
            "severity": "critical",
            "status": "fail",
            "remediation": ["telephony-service", " web admin system name admin password <new-password>"],
        },
    }


def test_sarif_failure_without_evidence_points_at_the_file_it_was_concluded_from() -> None:
    sarif_result = render_sarif_log(build_report())["runs"][0]["results"][1]
    assert check_spec("CME-ACC-02").requires[0] == RUNNING_CONFIG
    assert sarif_result["locations"] == [
        {
            "logicalLocations": [{"name": "branch-1", "fullyQualifiedName": "branch-1", "kind": "resource"}],
            "physicalLocation": {
                "artifactLocation": BRANCH1_RUNNING_CONFIG
            },
        }
    ]
    assert sarif_result["level"] == "warning"


def test_sarif_waived_failure_is_a_suppressed_result() -> None:
    sarif_result = render_sarif_log(build_report())["runs"][0]["results"][2]
    assert sarif_result["ruleId"] == "CME-CDP-01"
    assert sarif_result["level"] == "note"
    assert sarif_result["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "carrier requires CDP",
            "properties": {"owner": "voice-team", "expires": "2027-01-31"},
        }
    ]
    assert sarif_result["properties"]["status"] == "waived"
    results = render_sarif_log(build_report())["runs"][0]["results"]
    unwaived = [r for r in results if r["ruleId"] != "CME-CDP-01"]
    assert all("suppressions" not in r for r in unwaived)


def test_sarif_locations_encode_device_names_and_keep_unknown_lines_as_messages() -> None:
    sarif_result = render_sarif_log(build_report())["runs"][0]["results"][3]
    assert sarif_result["message"] == {"text": "branch 2 café: a well-known community string is configured"}
    assert sarif_result["properties"]["hostname"] is None
    locations = sarif_result["locations"]
    assert [loc["physicalLocation"]["artifactLocation"]["uri"] for loc in locations] == [
        "snapshots/branch%202%20caf%C3%A9/show_running-config.txt",
        "snapshots/branch%202%20caf%C3%A9/show_running-config.txt",
        "snapshots/branch%202%20caf%C3%A9/show_control-plane_host_open-ports.txt",
    ]
    assert unquote(locations[2]["physicalLocation"]["artifactLocation"]["uri"]) == (
        "snapshots/branch 2 café/show_control-plane_host_open-ports.txt"
    )
    assert [loc["physicalLocation"].get("region") for loc in locations] == [
        {"startLine": 57, "snippet": {"text": "snmp-server community <masked> RO 10"}},
        {"startLine": 12, "snippet": {"text": 'description Lobby, "front desk"\nline two café ☎ \\x1b[0m'}},
        None,
    ]
    assert locations[2]["message"] == {"text": "udp 161 snmp, listening"}


def test_sarif_snapshots_dir_prefixes_every_uri() -> None:
    run = render_sarif_log(build_report(), snapshots_dir="./runs/2025-01-15/snapshots/")["runs"][0]
    uris = [
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in run["results"]
        for loc in r["locations"]
        if "physicalLocation" in loc
    ]
    assert len(uris) == 7
    assert all(uri.startswith("runs/2025-01-15/snapshots/") for uri in uris)
    assert "SNAPSHOTS" in run["originalUriBaseIds"]


@pytest.mark.parametrize("absolute", ["/var/lib/cmelive/snapshots", "C:\\runs\\snapshots"])
def test_sarif_refuses_an_absolute_snapshots_dir(absolute: str) -> None:
    with pytest.raises(ValueError, match="relative"):
        render_sarif(build_report(), snapshots_dir=absolute)


def test_sarif_fingerprints_are_stable_and_ignore_line_numbers() -> None:
    report = build_report()
    first = [r["partialFingerprints"] for r in render_sarif_log(report)["runs"][0]["results"]]
    again = [r["partialFingerprints"] for r in render_sarif_log(build_report())["runs"][0]["results"]]
    assert first == again
    assert len({fp["cmeliveFinding/v1"] for fp in first}) == len(first)

    gui06 = report.devices[0].results[1]
    moved = replace(gui06, evidence=(replace(GUI06_EVIDENCE, line=7),))
    other_text = replace(GUI06_EVIDENCE, text="web admin customer name c password <masked>")
    changed = replace(gui06, evidence=(other_text,))
    assert finding_fingerprint("branch-1", moved) == finding_fingerprint("branch-1", gui06)
    assert finding_fingerprint("branch-1", changed) != finding_fingerprint("branch-1", gui06)
    assert finding_fingerprint("branch-9", gui06) != finding_fingerprint("branch-1", gui06)
    assert re.fullmatch(r"[0-9a-f]{64}", finding_fingerprint("branch-1", gui06))


def test_sarif_devices_not_audited_are_notifications() -> None:
    invocation = render_sarif_log(build_report())["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    assert invocation["endTimeUtc"] == GENERATED_AT
    assert invocation["toolExecutionNotifications"] == [
        {
            "level": "warning",
            "message": {
                "text": "branch 2 café (10.2.255.1) was partly audited: show crypto pki certificates did "
                "not complete; the checks that need those outputs are unknown."
            },
            "descriptor": {"id": "device-partly-audited"},
            "properties": {"device": "branch 2 café", "host": "10.2.255.1", "commands": [PKI_CERTIFICATES]},
        },
        {
            "level": "error",
            "message": {
                "text": "branch-3 (10.3.255.1) could not be audited: "
                "authentication failed for user 'audit'"
            },
            "descriptor": {"id": "device-not-audited"},
            "properties": {"device": "branch-3", "host": "10.3.255.1", "device_status": "error"},
        },
    ]


def test_sarif_execution_fails_only_when_no_device_was_audited(sarif_validator: Draft202012Validator) -> None:
    report = build_report()
    only_errors = AuditReport(devices=[report.devices[2], replace(report.devices[2], name="branch-4")])
    log = render_sarif_log(only_errors)
    assert list(sarif_validator.iter_errors(log)) == []
    run = log["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert [n["level"] for n in run["invocations"][0]["toolExecutionNotifications"]] == ["error", "error"]
    assert run["results"] == []
    assert len(run["tool"]["driver"]["rules"]) == len(all_checks())

    empty = render_sarif_log(AuditReport(devices=[]))["runs"][0]
    assert empty["invocations"][0] == {
        "executionSuccessful": True,
        "endTimeUtc": empty["properties"]["generatedAt"],
    }


def test_sarif_result_of_an_unregistered_check_gets_a_rule_of_its_own(
    sarif_validator: Draft202012Validator,
) -> None:
    foreign = CheckResult(
        check="CME-OLD-01",
        title="A check this version no longer has",
        severity=Severity.LOW,
        family="OLD",
        status=Status.FAIL,
        reference="old guide",
        message="still failing",
    )
    report = AuditReport(
        devices=[DeviceReport("branch-1", "10.1.255.1", None, DeviceStatus.OK, results=[foreign])],
        generated_at=GENERATED_AT,
    )
    log = render_sarif_log(report)
    assert list(sarif_validator.iter_errors(log)) == []
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(rules) == len(all_checks()) + 1
    assert rules[-1]["id"] == "CME-OLD-01"
    assert rules[-1]["name"] == "ACheckThisVersionNoLongerHas"
    assert run["results"][0]["ruleIndex"] == len(rules) - 1
    assert run["results"][0]["locations"] == [
        {"logicalLocations": [{"name": "branch-1", "fullyQualifiedName": "branch-1", "kind": "resource"}]}
    ]


# --------------------------------------------------------------------------------------- JUnit


def parse_junit(report: AuditReport) -> ET.Element:
    text = render_junit(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_is_well_formed_with_the_right_totals() -> None:
    root = parse_junit(build_report())
    assert root.tag == "testsuites"
    assert root.attrib == {
        "name": "cmelive",
        "tests": "10",
        "failures": "4",
        "errors": "1",
        "skipped": "3",
        "time": "0.875",
    }
    suites = root.findall("testsuite")
    columns = ("name", "tests", "failures", "errors", "skipped", "time")
    assert [tuple(s.get(column) for column in columns) for s in suites] == [
        ("branch-1", "6", "2", "0", "3", "0.375"),
        ("branch 2 café", "3", "2", "0", "0", "0.500"),
        ("branch-3", "1", "0", "1", "0", "0.000"),
    ]
    for suite in suites:
        cases = suite.findall("testcase")
        assert len(cases) == int(suite.get("tests", ""))
        assert len([c for c in cases if c.find("failure") is not None]) == int(suite.get("failures", ""))
        assert len([c for c in cases if c.find("error") is not None]) == int(suite.get("errors", ""))
        assert len([c for c in cases if c.find("skipped") is not None]) == int(suite.get("skipped", ""))
        assert suite.get("timestamp") == GENERATED_AT


def test_junit_suite_properties_name_the_device() -> None:
    suites = parse_junit(build_report()).findall("testsuite")
    assert [{p.get("name"): p.get("value") for p in s.iter("property")} for s in suites] == [
        {"host": "10.1.255.1", "hostname": "cme-branch-1", "device_status": "ok"},
        {"host": "10.2.255.1", "hostname": "", "device_status": "partial"},
        {"host": "10.3.255.1", "hostname": "", "device_status": "error"},
    ]


def test_junit_testcases_map_each_status() -> None:
    suite = parse_junit(build_report()).findall("testsuite")[0]
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("cmelive.ACC", f"CME-ACC-01 {check_spec('CME-ACC-01').title}"),
        ("cmelive.GUI", f"CME-GUI-06 {check_spec('CME-GUI-06').title}"),
        ("cmelive.ACC", f"CME-ACC-02 {check_spec('CME-ACC-02').title}"),
        ("cmelive.CDP", f"CME-CDP-01 {check_spec('CME-CDP-01').title}"),
        ("cmelive.GUI", f"CME-GUI-05 {check_spec('CME-GUI-05').title}"),
        ("cmelive.ACC", f"CME-ACC-09 {check_spec('CME-ACC-09').title}"),
    ]
    assert [[child.tag for child in c] for c in cases] == [
        [],
        ["failure"],
        ["failure"],
        ["skipped"],
        ["skipped"],
        ["skipped"],
    ]

    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.attrib == {"type": "critical", "message": "the GUI admin login reuses the enable secret"}
    assert failure.text == "\n".join(
        [
            "branch-1 (10.1.255.1): the GUI admin login reuses the enable secret",
            "",
            "Evidence:",
            "  show running-config:193: web admin system name admin password <masked>",
            "",
            "Remediation:",
            "  telephony-service",
            "   web admin system name admin password <new-password>",
            "",
            f"Reference: {check_spec('CME-GUI-06').reference}",
        ]
    )
    no_evidence = cases[2].find("failure")
    assert no_evidence is not None and no_evidence.get("type") == "medium"
    assert "Evidence:" not in (no_evidence.text or "")

    waived = cases[3].find("skipped")
    assert waived is not None
    assert waived.get("message") == "waived: carrier requires CDP (voice-team, expires 2027-01-31)"
    assert "  show running-config:40: cdp run" in (waived.text or "")
    unknown = cases[4].find("skipped")
    assert unknown is not None
    assert unknown.attrib == {"message": "unknown: show crypto pki certificates was rejected"}
    not_applicable = cases[5].find("skipped")
    assert not_applicable is not None
    assert not_applicable.attrib == {"message": "not applicable: no extra privilege levels are used"}


def test_junit_device_in_error_is_one_errored_testcase() -> None:
    suite = parse_junit(build_report()).findall("testsuite")[2]
    cases = suite.findall("testcase")
    assert len(cases) == 1
    assert cases[0].attrib == {"classname": "cmelive.device", "name": "collect and audit"}
    error = cases[0].find("error")
    assert error is not None
    assert error.attrib == {"type": "device-error", "message": "authentication failed for user 'audit'"}
    assert error.text == "branch-3 (10.3.255.1) could not be audited: authentication failed for user 'audit'"


def test_junit_keeps_unicode_quotes_and_newlines_and_escapes_control_characters() -> None:
    suite = parse_junit(build_report()).findall("testsuite")[1]
    snmp = suite.findall("testcase")[0].find("failure")
    assert snmp is not None
    assert snmp.text is not None
    escaped = '  show running-config:12: description Lobby, "front desk"\nline two café ☎ \\x1b[0m'
    assert escaped in snmp.text
    assert "  show control-plane host open-ports: udp 161 snmp, listening" in snmp.text
    formula = suite.findall("testcase")[1].find("failure")
    assert formula is not None and formula.get("message") == FORMULA_MESSAGE


def test_junit_waiver_note_without_owner_or_expiry() -> None:
    assert waiver_note({"reason": "lab router"}) == "waived: lab router"
    assert waiver_note({"reason": "lab", "until": "2026-06-30"}) == "waived: lab (expires 2026-06-30)"
    assert waiver_note(None) == "waived: no reason given"


# ----------------------------------------------------------------------------------------- CSV


def test_csv_header_dialect_and_line_endings() -> None:
    text = render_csv(build_report())
    assert text.startswith(",".join(COLUMNS) + "\r\n")
    assert text.endswith("\r\n")
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert records[0] == list(COLUMNS)
    assert len(records) == 1 + 10
    assert all(len(record) == len(COLUMNS) for record in records)


def test_csv_rows_read_back_exactly() -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(build_report()), newline="")))

    def row(
        device: str,
        host: str,
        hostname: str,
        device_status: str,
        check: str,
        status: str,
        message: str,
        **cells: str,
    ) -> dict[str, str]:
        spec = check_spec(check)
        out = dict.fromkeys(COLUMNS, "")
        out.update(
            device=device,
            host=host,
            hostname=hostname,
            device_status=device_status,
            check=check,
            title=spec.title,
            family=spec.family,
            severity=str(spec.severity),
            status=status,
            message=message,
            reference=spec.reference,
        )
        out.update(cells)
        return out

    b1 = ("branch-1", "10.1.255.1", "cme-branch-1", "ok")
    b2 = ("branch 2 café", "10.2.255.1", "", "partial")
    assert rows == [
        row(*b1, "CME-ACC-01", "pass", "enable secret is set"),
        row(
            *b1,
            "CME-GUI-06",
            "fail",
            "the GUI admin login reuses the enable secret",
            evidence="show running-config:193: web admin system name admin password <masked>",
            remediation="telephony-service\n web admin system name admin password <new-password>",
        ),
        row(
            *b1,
            "CME-ACC-02",
            "fail",
            "no 'service password-encryption' line",
            remediation="service password-encryption",
        ),
        row(
            *b1,
            "CME-CDP-01",
            "waived",
            "CDP runs towards GigabitEthernet0/1 (WAN)",
            evidence="show running-config:40: cdp run",
            remediation="interface GigabitEthernet0/1\n no cdp enable",
            waiver_reason="carrier requires CDP",
            waiver_owner="voice-team",
            waiver_expires="2027-01-31",
        ),
        row(*b1, "CME-GUI-05", "unknown", "show crypto pki certificates was rejected"),
        row(*b1, "CME-ACC-09", "not_applicable", "no extra privilege levels are used"),
        row(
            *b2,
            "CME-SNMP-01",
            "fail",
            "a well-known community string is configured",
            evidence="show running-config:57: snmp-server community <masked> RO 10\n"
            'show running-config:12: description Lobby, "front desk"\nline two café ☎ \\x1b[0m\n'
            "show control-plane host open-ports: udp 161 snmp, listening",
            remediation="no snmp-server community <masked>",
        ),
        row(
            *b2,
            "CME-SNMP-02",
            "fail",
            "'" + FORMULA_MESSAGE,
            remediation="'-- define the ACL first:\naccess-list 10 permit 10.2.0.0 0.0.255.255",
        ),
        row(*b2, "CME-CDP-01", "pass", "CDP is off towards the WAN"),
        {
            **dict.fromkeys(COLUMNS, ""),
            "device": "branch-3",
            "host": "10.3.255.1",
            "device_status": "error",
            "status": "error",
            "message": "authentication failed for user 'audit'",
        },
    ]


def test_csv_defuses_every_formula_trigger_and_nothing_else() -> None:
    for trigger in ("=", "+", "-", "@", "\t", "\r"):
        assert defuse_formula(f"{trigger}1+1") == f"'{trigger}1+1"
    for safe in ("no cdp run", " no cdp enable", "show running-config:1: x", "", "'quoted", "10.1.255.1"):
        assert defuse_formula(safe) == safe
    hostile = AuditReport(
        devices=[DeviceReport("=cmd|' /C calc'!A0", "@10.9.9.9", "+h", DeviceStatus.ERROR, error="-x")],
        generated_at=GENERATED_AT,
    )
    (row,) = list(csv.DictReader(io.StringIO(render_csv(hostile), newline="")))
    assert (row["device"], row["host"], row["hostname"], row["message"]) == (
        "'=cmd|' /C calc'!A0",
        "'@10.9.9.9",
        "'+h",
        "'-x",
    )


# ------------------------------------------------------------------------------------- waivers


def waived_by_the_waivers_module() -> AuditReport:
    """A live and an expired waiver applied by cmelive.waivers, as a fleet run does."""

    def waiver(check: str, expires: date) -> Waiver:
        return Waiver(check, SelectorKind.DEVICE, ("branch-*",), "lab router", "voice-team", expires, "w.yml:3")

    device = DeviceReport(
        "branch-7",
        "10.7.255.1",
        None,
        DeviceStatus.OK,
        results=[
            result("CME-ACC-02", Status.FAIL, "no 'service password-encryption' line"),
            result("CME-CDP-01", Status.FAIL, "CDP runs towards the WAN", evidence=(CDP_EVIDENCE,)),
        ],
    )
    waived = apply_waivers(
        device,
        [waiver("CME-ACC-02", date(2025, 1, 31)), waiver("CME-CDP-01", date(2024, 12, 31))],
        today=date(2025, 1, 15),
    )
    assert [r.status for r in waived.results] == [Status.WAIVED, Status.FAIL]
    return AuditReport(devices=[waived], generated_at=GENERATED_AT)


def test_waivers_from_the_waivers_module_live_and_expired(sarif_validator: Draft202012Validator) -> None:
    report = waived_by_the_waivers_module()
    expired = {"reason": "lab router", "owner": "voice-team", "expires": "2024-12-31", "expired": "true"}
    assert report.devices[0].results[1].waiver == expired

    log = render_sarif_log(report)
    assert list(sarif_validator.iter_errors(log)) == []
    live_result, expired_result = log["runs"][0]["results"]
    assert live_result["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "lab router",
            "properties": {"owner": "voice-team", "expires": "2025-01-31"},
        }
    ]
    assert "suppressions" not in expired_result
    assert expired_result["properties"]["expiredWaiver"] == expired

    cases = parse_junit(report).findall("testsuite/testcase")
    waived_skip = cases[0].find("skipped")
    assert waived_skip is not None
    assert waived_skip.get("message") == "waived: lab router (voice-team, expires 2025-01-31)"
    failure = cases[1].find("failure")
    assert failure is not None and failure.text is not None
    assert failure.text.endswith("\n\nWaiver expired 2024-12-31, no longer applies: lab router (voice-team)")
    assert expired_waiver_note(expired) == "Waiver expired 2024-12-31, no longer applies: lab router (voice-team)"

    rows = list(csv.DictReader(io.StringIO(render_csv(report), newline="")))
    assert [(r["status"], r["waiver_reason"], r["waiver_owner"], r["waiver_expires"]) for r in rows] == [
        ("waived", "lab router", "voice-team", "2025-01-31"),
        ("fail", "lab router", "voice-team", "2024-12-31"),
    ]


# ------------------------------------------------------------------------------------- secrets


# An IOS line that carries a secret, alone or after an evidence prefix ("show running-config:57: ").
CONFIG_LINE_WITH_SECRET = re.compile(r"(?:^|: )\s*(?:no )?(?:web admin|snmp-server community) ")
SECRET_VALUE = re.compile(r"\b(?:secret|password|community)\s+(?:\d\s+)?(\S+)")


def sarif_strings(text: str) -> list[str]:
    def walk(node: Any) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [s for key, value in node.items() for s in [key, *walk(value)]]
        if isinstance(node, list):
            return [s for item in node for s in walk(item)]
        return []

    return walk(json.loads(text))


def junit_strings(text: str) -> list[str]:
    root = ET.fromstring(text.encode("utf-8"))
    return [s for element in root.iter() for s in [element.text or "", *element.attrib.values()]]


def csv_strings(text: str) -> list[str]:
    return [cell for record in csv.reader(io.StringIO(text, newline="")) for cell in record]


@pytest.mark.parametrize(
    ("render", "strings"),
    [(render_sarif, sarif_strings), (render_junit, junit_strings), (render_csv, csv_strings)],
    ids=["sarif", "junit", "csv"],
)
def test_reports_carry_no_command_output_facts_or_unmasked_values(render: Any, strings: Any) -> None:
    text = render(build_report())
    for planted in PLANTED_SECRETS:
        assert planted not in text
    values: list[str] = strings(text)
    # The secret-bearing evidence lines come out exactly as masked, and no value of a
    # secret/password/community keyword in any evidence or remediation line is anything else.
    lines = [line for value in values for line in value.splitlines()]
    secret_lines = [line for line in lines if CONFIG_LINE_WITH_SECRET.search(line)]
    assert any(line.endswith("web admin system name admin password <masked>") for line in secret_lines)
    assert any(line.endswith("snmp-server community <masked> RO 10") for line in secret_lines)
    for line in secret_lines:
        assert all(value.startswith("<") for value in SECRET_VALUE.findall(line)), line
