"""The JUnit XML report: a device is a test suite, a check a test case, for CI dashboards.

Layout (the de-facto "Ant" JUnit format that Jenkins, GitLab, Azure DevOps and CircleCI read)::

    <testsuites name="cmelive" tests= failures= errors= skipped= time=>
      <testsuite name="<device>" tests= failures= errors= skipped= time= timestamp=>
        <properties> host, hostname, device_status </properties>
        <testcase classname="cmelive.<family>" name="<check id> <title>">
          <failure type="<severity>" message="<message>">evidence, remediation, reference</failure>
        </testcase>

How each status maps, and why:

- ``fail`` → ``<failure>``: a finding, red in every dashboard.
- ``unknown`` → ``<skipped message="unknown: …">``, not ``<error>``. Jenkins and GitLab count an
  ``<error>`` with the failures (Jenkins marks the build unstable, GitLab shows it red among the
  failed tests), so an evidence gap — a command the router rejected, a cut-off config — would read
  as a finding and a device full of unknowns as a broken one, at odds with ``--fail-on``, which
  counts failures only. As a skip it stays visible (counted, with its reason) without being passed
  off as a pass. What could not be audited at all is an ``<error>``: see below.
- ``not_applicable`` → ``<skipped message="not applicable: …">``.
- ``waived`` → ``<skipped message="waived: <reason> (<owner>, expires <date>)">``, the body keeping
  the failure it waives. A failure whose waiver expired is a ``<failure>`` like any other, its body
  ending with the lapsed waiver.
- A device that could not be audited → one test case ``cmelive.device`` / ``collect and audit``
  with an ``<error>`` carrying the error (unreachable, authentication refused, …).

``time`` on a suite is the device's collection time (the sum of its command durations); checks
are not timed one by one, so test cases have none. Characters XML 1.0 cannot carry (control
characters from a router's output) are written as ``\\xNN``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from cmelive.checks.base import CheckResult, Status
from cmelive.report.model import (
    AuditReport,
    DeviceReport,
    DeviceStatus,
    expired_waiver_note,
    format_evidence,
    waiver_note,
)

DEVICE_CLASSNAME = "cmelive.device"
DEVICE_TESTCASE = "collect and audit"

# Everything outside XML 1.0's Char production (tab, LF, CR and the printable planes).
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class _Counts:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0

    def add(self, other: _Counts) -> None:
        self.tests += other.tests
        self.failures += other.failures
        self.errors += other.errors
        self.skipped += other.skipped

    def write(self, element: ET.Element) -> None:
        element.set("tests", str(self.tests))
        element.set("failures", str(self.failures))
        element.set("errors", str(self.errors))
        element.set("skipped", str(self.skipped))


def render_junit(report: AuditReport) -> str:
    """``report`` as JUnit XML text (UTF-8 declared), one ``<testsuite>`` per device."""
    root = ET.Element("testsuites", {"name": "cmelive"})
    total = _Counts()
    total_time = 0.0
    for device in report.devices:
        suite, counts, seconds = _testsuite(device, report.generated_at)
        root.append(suite)
        total.add(counts)
        total_time += seconds
    total.write(root)
    root.set("time", _seconds(total_time))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _testsuite(device: DeviceReport, timestamp: str) -> tuple[ET.Element, _Counts, float]:
    suite = ET.Element("testsuite", {"name": _xml(device.name)})
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("host", device.host),
        ("hostname", device.hostname or ""),
        ("device_status", str(device.status)),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": _xml(value)})

    counts = _Counts()
    if device.status == DeviceStatus.ERROR:
        case = ET.SubElement(suite, "testcase", {"classname": DEVICE_CLASSNAME, "name": DEVICE_TESTCASE})
        error = device.error or "error"
        element = ET.SubElement(case, "error", {"type": "device-error", "message": _xml(error)})
        element.text = _xml(f"{device.name} ({device.host}) could not be audited: {error}")
        counts.tests += 1
        counts.errors += 1
    # An errored device normally has no results; any it does have are reported, not dropped.
    for result in device.results:
        _testcase(suite, device, result, counts)

    seconds = sum(c.duration_s for c in device.commands)
    counts.write(suite)
    suite.set("time", _seconds(seconds))
    suite.set("timestamp", timestamp)
    return suite, counts, seconds


def _testcase(suite: ET.Element, device: DeviceReport, result: CheckResult, counts: _Counts) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        {"classname": _xml(f"cmelive.{result.family}"), "name": _xml(f"{result.check} {result.title}")},
    )
    counts.tests += 1
    if result.status == Status.FAIL:
        failure = ET.SubElement(
            case, "failure", {"type": str(result.severity), "message": _xml(result.message)}
        )
        failure.text = _xml(_details(device, result))
        counts.failures += 1
    elif result.status == Status.UNKNOWN:
        ET.SubElement(case, "skipped", {"message": _xml(f"unknown: {result.message}")})
        counts.skipped += 1
    elif result.status == Status.NOT_APPLICABLE:
        ET.SubElement(case, "skipped", {"message": _xml(f"not applicable: {result.message}")})
        counts.skipped += 1
    elif result.status == Status.WAIVED:
        skipped = ET.SubElement(case, "skipped", {"message": _xml(waiver_note(result.waiver))})
        skipped.text = _xml(_details(device, result))
        counts.skipped += 1


def _details(device: DeviceReport, result: CheckResult) -> str:
    """The body of a failure: what, where (masked evidence), how to fix, and the guide section."""
    lines = [f"{device.name} ({device.host}): {result.message}"]
    if result.evidence:
        lines += ["", "Evidence:", *(f"  {format_evidence(e)}" for e in result.evidence)]
    if result.remediation:
        lines += ["", "Remediation:", *(f"  {line}" for line in result.remediation)]
    lines += ["", f"Reference: {result.reference}"]
    if result.status == Status.FAIL and result.waiver is not None:
        lines += ["", expired_waiver_note(result.waiver)]
    return "\n".join(lines)


def _xml(text: str) -> str:
    return _NOT_XML_CHAR.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _seconds(value: float) -> str:
    return f"{value:.3f}"
