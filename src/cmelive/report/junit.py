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
from collections.abc import Sequence
from dataclasses import dataclass

from cmelive.checks.base import CheckResult, Status
from cmelive.report.model import (
    AuditReport,
    DeviceReport,
    expired_waiver_note,
    format_evidence,
    waiver_note,
)

DEVICE_CLASSNAME = "cmelive.device"
DEVICE_TESTCASE = "collect and audit"

# Stands for the device suites while the root is indented; a name no report text can contain
# (text is escaped: "<" never appears raw in it).
_PARTS_PLACEHOLDER = "cmelive-device-suites"
# How a device part's start tag ends before render_junit stamps it: attribute values cannot hold a
# raw '"', so only the time stamp attribute (the last) can end this way.
_NO_TIMESTAMP = ' timestamp="">'

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


def render_junit(report: AuditReport, *, device_parts: Sequence[str] | None = None) -> str:
    """``report`` as JUnit XML text (UTF-8 declared), one ``<testsuite>`` per device.

    ``device_parts`` are the devices' :func:`device_junit`, when already made (a fleet makes them
    while the run goes on); each suite gets the report's time stamp here.
    """
    parts = device_parts if device_parts is not None else [device_junit(d) for d in report.devices]
    root = ET.Element("testsuites", {"name": "cmelive"})
    total = _Counts()
    for device in report.devices:
        total.add(_device_counts(device))
    total.write(root)
    root.set("time", _seconds(sum(_device_seconds(d) for d in report.devices)))
    if parts:
        ET.SubElement(root, _PARTS_PLACEHOLDER)
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")
    if parts:
        suites = "\n  ".join(stamp_suite(part, report.generated_at) for part in parts)
        text = text.replace(f"<{_PARTS_PLACEHOLDER} />", suites, 1)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n"


def stamp_suite(part: str, generated_at: str) -> str:
    """A :func:`device_junit` part with the report's time stamp, as it stands in the report."""
    return part.replace(_NO_TIMESTAMP, f' timestamp="{_escape_attribute(generated_at)}">', 1)


def device_junit(device: DeviceReport) -> str:
    """One device's ``<testsuite>``, indented as it stands in the report, its time stamp left empty
    (:func:`render_junit` fills in the report's)."""
    suite = _testsuite(device)
    ET.indent(suite, level=1)
    return ET.tostring(suite, encoding="unicode")


def _testsuite(device: DeviceReport) -> ET.Element:
    suite = ET.Element("testsuite", {"name": _xml(device.name)})
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("host", device.host),
        ("hostname", device.hostname or ""),
        ("device_status", str(device.status)),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": _xml(value)})

    if device.status.unaudited:
        case = ET.SubElement(suite, "testcase", {"classname": DEVICE_CLASSNAME, "name": DEVICE_TESTCASE})
        error = device.error or str(device.status)
        kind = f"device-{device.status}".replace("_", "-")  # device-error, device-interrupted, device-not-started
        element = ET.SubElement(case, "error", {"type": kind, "message": _xml(error)})
        element.text = _xml(f"{device.name} ({device.host}) could not be audited: {error}")
    # An errored device normally has no results; any it does have are reported, not dropped.
    for result in device.results:
        _testcase(suite, device, result)

    _device_counts(device).write(suite)
    suite.set("time", _seconds(_device_seconds(device)))
    suite.set("timestamp", "")
    return suite


def _device_counts(device: DeviceReport) -> _Counts:
    counts = _Counts()
    if device.status.unaudited:
        counts.tests += 1
        counts.errors += 1
    for result in device.results:
        counts.tests += 1
        if result.status == Status.FAIL:
            counts.failures += 1
        elif result.status in (Status.UNKNOWN, Status.NOT_APPLICABLE, Status.WAIVED):
            counts.skipped += 1
    return counts


def _device_seconds(device: DeviceReport) -> float:
    return sum(c.duration_s for c in device.commands)


def _testcase(suite: ET.Element, device: DeviceReport, result: CheckResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        {"classname": _xml(f"cmelive.{result.family}"), "name": _xml(f"{result.check} {result.title}")},
    )
    if result.status == Status.FAIL:
        failure = ET.SubElement(
            case, "failure", {"type": str(result.severity), "message": _xml(result.message)}
        )
        failure.text = _xml(_details(device, result))
    elif result.status == Status.UNKNOWN:
        ET.SubElement(case, "skipped", {"message": _xml(f"unknown: {result.message}")})
    elif result.status == Status.NOT_APPLICABLE:
        ET.SubElement(case, "skipped", {"message": _xml(f"not applicable: {result.message}")})
    elif result.status == Status.WAIVED:
        skipped = ET.SubElement(case, "skipped", {"message": _xml(waiver_note(result.waiver))})
        skipped.text = _xml(_details(device, result))


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


def _escape_attribute(value: str) -> str:
    # Exactly as ElementTree writes an attribute value, without the quotes around it.
    written = ET.tostring(ET.Element("x", {"v": _xml(value)}), encoding="unicode")
    return written[len('<x v="') : -len('" />')]
