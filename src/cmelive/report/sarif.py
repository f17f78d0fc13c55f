"""The SARIF 2.1.0 report: every check as a rule, every failure as a result located in its snapshot.

Made for code-scanning dashboards (GitHub code scanning, Azure DevOps, the SARIF viewers of VS Code
and friends). The shape:

- one run; ``tool.driver.rules`` holds *every* registered check in id order (not only those that
  failed), each with its help text (rationale, pass condition, remediation example, guide
  reference), a default level from its severity (critical/high → ``error``, medium → ``warning``,
  low/info → ``note``) and GitHub's numeric ``security-severity``;
- one result per failure. A failure under a waiver is still a result, with an ``external``
  suppression carrying the waiver's reason, so dashboards show it as suppressed rather than lose it;
  a failure whose waiver expired is an ordinary result, the lapsed waiver in its properties.
  Pass, unknown and not-applicable results are not findings and are left out (the JSON report has
  them all);
- each evidence line becomes a location: the snapshot file it came from,
  ``<snapshots_dir>/<device>/<file_name(command)>`` relative to the ``SNAPSHOTS`` base (the
  directory the SARIF file is written to — the fleet run directory), with the line number and the
  (already masked) line as a snippet (what the SSH session showed at login, ``ssh session``, is
  kept in the device's ``meta.json`` and has no line number). A failure without evidence (concluded from a missing line)
  points at the whole file of the command the check reads, and names the device as a logical
  location;
- ``partialFingerprints`` hold a hash of (device, check, evidence texts): line numbers are left
  out on purpose, so a finding keeps its identity when unrelated config lines move;
- devices that could not be audited become ``toolExecutionNotifications`` (level ``error``), partly
  collected ones a ``warning`` naming the commands that failed; the invocation is successful unless
  no device at all could be audited.

Only already-masked evidence, messages and remediation text from the report are written: command
outputs and facts never are.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from cmelive import __version__
from cmelive.checks import all_checks, get_check
from cmelive.checks.base import CheckResult, CheckSpec, Evidence, Severity, Status
from cmelive.commands import CommandStatus, file_name
from cmelive.report.model import AuditReport, DeviceReport, DeviceStatus
from cmelive.snapshot import META_FILE
from cmelive.ssh_session import SSH_SESSION

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
#: The uriBaseId every snapshot location is relative to (declared in ``originalUriBaseIds``).
SNAPSHOTS_BASE_ID = "SNAPSHOTS"
#: The key of our entry in ``result.partialFingerprints``; bump the suffix if the hash input changes.
FINGERPRINT_KEY = "cmeliveFinding/v1"

LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

# GitHub code scanning ranks security alerts by this CVSS-like score (critical > 9.0, high 7.0-8.9,
# medium 4.0-6.9, low 0.1-3.9); it only reads it from rules tagged "security".
_SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.5",
}

#: The statuses that make a SARIF result: failures, waived or not.
_FINDINGS = (Status.FAIL, Status.WAIVED)

_WORD = re.compile(r"[A-Za-z0-9]+")

# A result is an item of runs[0]["results"]: four levels deep.
_RESULT_INDENT = "\n        "
# How the log's text ends while its (last) results list is empty.
_EMPTY_RESULTS_END = "[]\n    }\n  ]\n}"


def render_sarif(
    report: AuditReport,
    *,
    snapshots_dir: str = "snapshots",
    device_dirs: Mapping[str, str] | None = None,
    device_parts: Sequence[str] | None = None,
) -> str:
    """``report`` as a SARIF 2.1.0 log (JSON text).

    ``snapshots_dir`` is where the masked snapshots are, relative to the directory the SARIF file
    is written to (``snapshots`` in a fleet run directory); an absolute path is refused, since a
    relative ``uri`` with a ``uriBaseId`` cannot carry one. ``device_dirs`` maps a device name to
    its snapshot directory's name when the two differ (the fleet runner makes names with ``/``
    or a leading dot safe for the file system); by default they are the same. ``device_parts``
    are the devices' :func:`device_sarif` with the same directories, when already made (a fleet
    makes them while the run goes on).
    """
    _check_relative(snapshots_dir)
    rules, rule_index = _rules(report)
    if device_parts is None or len(rules) > len(_registered_rule_index()):
        # Results of checks this cmelive does not know shift no index, but need their own rules.
        device_parts = [
            _device_results(device, rule_index, snapshots_dir, (device_dirs or {}).get(device.name, device.name))
            for device in report.devices
        ]
    notifications: list[dict[str, Any]] = []
    for device in report.devices:
        if device.status.unaudited:
            notifications.append(_error_notification(device))
        elif device.status == DeviceStatus.PARTIAL:
            notifications.append(_partial_notification(device))

    audited_any = any(not d.status.unaudited for d in report.devices)
    invocation: dict[str, Any] = {
        "executionSuccessful": audited_any or not report.devices,
        "endTimeUtc": report.generated_at,
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications

    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cmelive",
                        "fullName": "cmelive — live security auditor for Cisco Unified CME",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "invocations": [invocation],
                "originalUriBaseIds": {
                    SNAPSHOTS_BASE_ID: {
                        "description": {
                            "text": "The directory this report was written to (the fleet run "
                            f"directory); masked snapshots are under {snapshots_dir}/<device>/."
                        }
                    }
                },
                "properties": {"generatedAt": report.generated_at},
                # Last, so that the devices' parts are joined in at the end of the text.
                "results": [],
            }
        ],
    }
    text = json.dumps(log, indent=2, ensure_ascii=False)
    parts = [part for part in device_parts if part]
    if not parts:
        return text + "\n"
    return text[: -len(_EMPTY_RESULTS_END)] + "[" + _RESULT_INDENT + ("," + _RESULT_INDENT).join(parts) + (
        "\n      ]\n    }\n  ]\n}\n"
    )


def device_sarif(
    device: DeviceReport, *, snapshots_dir: str = "snapshots", device_dir: str | None = None, indent: bool = True
) -> str:
    """One device's results (its failures) as they stand in the log's ``results`` list ("" if none):
    indented, or one line per result (``json``'s C encoder; see :mod:`cmelive.report.json_report`)."""
    _check_relative(snapshots_dir)
    return _device_results(device, _registered_rule_index(), snapshots_dir, device_dir or device.name, indent)


def _device_results(
    device: DeviceReport, rule_index: Mapping[str, int], snapshots_dir: str, device_dir: str, indent: bool = True
) -> str:
    results = [
        _result(device, result, rule_index[result.check], snapshots_dir, device_dir)
        for result in device.results
        if result.status in _FINDINGS and result.check in rule_index
    ]
    if not indent:
        texts = [json.dumps(result, ensure_ascii=False) for result in results]
    else:
        texts = [json.dumps(result, indent=2, ensure_ascii=False).replace("\n", _RESULT_INDENT) for result in results]
    return ("," + _RESULT_INDENT).join(texts)


def _check_relative(snapshots_dir: str) -> None:
    if snapshots_dir.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", snapshots_dir):
        raise ValueError(f"snapshots_dir must be relative to the report's directory, got {snapshots_dir!r}")


def rule_name(title: str) -> str:
    """``Enable secret is set`` -> ``EnableSecretIsSet`` (SARIF's ``reportingDescriptor.name``)."""
    return "".join(word[:1].upper() + word[1:] for word in _WORD.findall(title))


def _rules(report: AuditReport) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Every registered check as a rule, then (so every result has one) any check the report
    names that is not registered — e.g. a report produced by another cmelive version."""
    rules = [_rule_from_spec(spec) for spec in all_checks()]
    index = dict(_registered_rule_index())
    for device in report.devices:
        for result in device.results:
            if result.status in _FINDINGS and result.check not in index:
                index[result.check] = len(rules)
                rules.append(_rule_from_result(result))
    return rules, index


@cache
def _registered_rule_index() -> Mapping[str, int]:
    return MappingProxyType({spec.id: i for i, spec in enumerate(all_checks())})


def _rule_from_spec(spec: CheckSpec) -> dict[str, Any]:
    text = [spec.rationale, "", f"Passes when: {spec.passes_when}"]
    markdown = [spec.rationale, "", f"**Passes when:** {spec.passes_when}"]
    if spec.remediation_example:
        text += ["", "Remediation example:", *(f"    {line}" for line in spec.remediation_example)]
        markdown += ["", "**Remediation example:**", "", "```", *spec.remediation_example, "```"]
    text += ["", f"Reference: {spec.reference}"]
    markdown += ["", f"**Reference:** {spec.reference}"]
    return {
        "id": spec.id,
        "name": rule_name(spec.title),
        "shortDescription": {"text": spec.title},
        "fullDescription": {"text": spec.passes_when},
        "help": {"text": "\n".join(text), "markdown": "\n".join(markdown)},
        "defaultConfiguration": {"level": LEVELS[spec.severity]},
        "properties": _rule_properties(spec.severity, spec.family),
    }


def _rule_from_result(result: CheckResult) -> dict[str, Any]:
    return {
        "id": result.check,
        "name": rule_name(result.title),
        "shortDescription": {"text": result.title},
        "help": {"text": f"Reference: {result.reference}"},
        "defaultConfiguration": {"level": LEVELS[result.severity]},
        "properties": _rule_properties(result.severity, result.family),
    }


def _rule_properties(severity: Severity, family: str) -> dict[str, Any]:
    return {
        "severity": str(severity),
        "family": family,
        "tags": ["security", "cisco-cme", family],
        "security-severity": _SECURITY_SEVERITY[severity],
    }


def _result(
    device: DeviceReport, result: CheckResult, rule_index: int, snapshots_dir: str, device_dir: str
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": result.check,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": LEVELS[result.severity],
        "message": {"text": f"{device.name}: {result.message}"},
        "locations": _locations(device, result, snapshots_dir, device_dir),
        "partialFingerprints": {FINGERPRINT_KEY: finding_fingerprint(device.name, result)},
        "properties": {
            "device": device.name,
            "host": device.host,
            "hostname": device.hostname,
            "severity": str(result.severity),
            "status": str(result.status),
            "remediation": list(result.remediation),
        },
    }
    if result.status == Status.WAIVED:
        out["suppressions"] = [_suppression(result.waiver or {})]
    elif result.waiver is not None:
        # A failure that still carries a waiver is one whose waiver expired: it is not suppressed,
        # but the lapsed waiver is kept so a reader sees why it came back.
        out["properties"]["expiredWaiver"] = dict(result.waiver)
    return out


def finding_fingerprint(device_name: str, result: CheckResult) -> str:
    """A stable hash of (device, check, evidence texts): the same finding in the next run hashes
    alike even when its lines moved, and a different offending line makes a new finding."""
    parts = [device_name, result.check, *(e.text for e in result.evidence)]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def _locations(
    device: DeviceReport, result: CheckResult, snapshots_dir: str, device_dir: str
) -> list[dict[str, Any]]:
    if result.evidence:
        return [_evidence_location(device_dir, e, snapshots_dir) for e in result.evidence]
    # A failure concluded from an absence: point at the output it was concluded from, if known.
    location: dict[str, Any] = {
        "logicalLocations": [
            {"name": device.name, "fullyQualifiedName": device.name, "kind": "resource"}
        ]
    }
    spec = get_check(result.check)
    if spec is not None and spec.requires:
        location["physicalLocation"] = {
            "artifactLocation": _artifact(device_dir, spec.requires[0], snapshots_dir)
        }
    return [location]


def _evidence_location(device_dir: str, evidence: Evidence, snapshots_dir: str) -> dict[str, Any]:
    physical: dict[str, Any] = {
        "artifactLocation": _artifact(device_dir, evidence.command, snapshots_dir)
    }
    location: dict[str, Any] = {"physicalLocation": physical}
    if evidence.line is not None and evidence.line >= 1:
        physical["region"] = {"startLine": evidence.line, "snippet": {"text": evidence.text}}
    else:
        # A region needs a line; without one the text still travels, as the location's message.
        location["message"] = {"text": evidence.text}
    return location


def _artifact(device_dir: str, command: str, snapshots_dir: str) -> dict[str, str]:
    return {"uri": _artifact_uri(device_dir, command, snapshots_dir), "uriBaseId": SNAPSHOTS_BASE_ID}


# A device's evidence names the same few files dozens of times: each uri is encoded once.
@lru_cache(maxsize=1024)
def _artifact_uri(device_dir: str, command: str, snapshots_dir: str) -> str:
    # Device names come from the inventory and may hold spaces or '#': percent-encode each segment
    # so the uri stays a valid relative reference.
    segments = [s for s in snapshots_dir.split("/") if s not in ("", ".")]
    # What the SSH session showed is kept in the snapshot's meta.json, not in a command's file.
    segments += [device_dir, META_FILE if command == SSH_SESSION else file_name(command)]
    return "/".join(quote(s, safe="") for s in segments)


def _suppression(waiver: dict[str, str]) -> dict[str, Any]:
    suppression: dict[str, Any] = {"kind": "external", "status": "accepted"}
    reason = waiver.get("reason")
    if reason:
        suppression["justification"] = reason
    extra = {key: value for key, value in waiver.items() if key not in ("reason", "expired")}
    if extra:
        suppression["properties"] = extra
    return suppression


def _error_notification(device: DeviceReport) -> dict[str, Any]:
    return {
        "level": "error",
        "message": {"text": f"{device.name} ({device.host}) could not be audited: {device.error or 'error'}"},
        "descriptor": {"id": "device-not-audited"},
        "properties": {"device": device.name, "host": device.host, "device_status": str(device.status)},
    }


def _partial_notification(device: DeviceReport) -> dict[str, Any]:
    failed = [c.command for c in device.commands if c.status != CommandStatus.OK]
    detail = f": {', '.join(failed)} did not complete" if failed else ""
    return {
        "level": "warning",
        "message": {
            "text": f"{device.name} ({device.host}) was partly audited{detail}; "
            "the checks that need those outputs are unknown."
        },
        "descriptor": {"id": "device-partly-audited"},
        "properties": {"device": device.name, "host": device.host, "commands": failed},
    }
