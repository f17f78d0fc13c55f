"""The HTML report: structure, heat map, escaping, self-containment, trend — and a real browser.

The fleet used throughout is built from real audits of the bundled example snapshots (an ok CME,
a partial insecure CME, a partial plain IOS router) plus a device that could not be audited, with
a waived failure, an expired waiver, hostile text in evidence/messages/names and a long evidence
line added on top.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cmelive.audit import audit_snapshot, unreachable_report
from cmelive.checks.base import CheckResult, Evidence, Severity, Status
from cmelive.commands import EPHONE_REGISTERED, CommandStatus
from cmelive.errors import ConnectError
from cmelive.examples import example_dir
from cmelive.report.html import MAX_TREND_POINTS, TrendPoint, heatmap_families, render_html
from cmelive.report.model import AuditReport, DeviceReport, DeviceStatus
from cmelive.snapshot import CommandOutput, read_snapshot
from cmelive.ssh_session import SshAlgorithms, SshNegotiated, SshSession

HOSTILE = "<script>alert(1)</script>"
HOSTILE_TEXT = f"description {HOSTILE} & \"double\" 'single' </pre></article>"
LONG_LINE = "ip access-list extended WAN-IN permit udp " + " ".join(f"host 198.51.100.{i}" for i in range(40))
ERROR_DEVICE = 'lab <edge> "7" & co'
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
CHROMIUM = Path("/usr/bin/chromium")


# --- the fleet ----------------------------------------------------------------------------------


def _replace(device: DeviceReport, check: str, **changes: object) -> None:
    for index, result in enumerate(device.results):
        if result.check == check:
            device.results[index] = dataclasses.replace(result, **changes)  # type: ignore[arg-type]
            return
    raise AssertionError(f"{check} not in {device.name}'s results")


def _result(device: DeviceReport, check: str) -> CheckResult:
    return next(r for r in device.results if r.check == check)


def fleet_report() -> AuditReport:
    secure = audit_snapshot(read_snapshot(example_dir("secure-cme")), name="secure-cme")
    snapshot = read_snapshot(example_dir("insecure-cme"))
    # A command that hung: the checks that need it must come out unknown, with the reason.
    snapshot.outputs[EPHONE_REGISTERED] = CommandOutput(
        EPHONE_REGISTERED, CommandStatus.TIMEOUT, duration_s=30.0, error="no prompt within 30 s"
    )
    # What an IOS 15 router's SSH server shows at login (captures from files do not hold it).
    snapshot.ssh = SshSession(
        server_version="SSH-2.0-Cisco-1.25",
        offered=SshAlgorithms(
            kex=("diffie-hellman-group-exchange-sha1", "diffie-hellman-group14-sha1"),
            host_key=("ssh-rsa",),
            ciphers=("aes128-ctr", "aes192-ctr", "aes256-ctr"),
            macs=("hmac-sha1", "hmac-sha1-96"),
        ),
        negotiated=SshNegotiated("diffie-hellman-group-exchange-sha1", "ssh-rsa", "aes128-ctr", "hmac-sha1"),
        host_key_type="ssh-rsa",
        host_key_bits=2048,
    )
    insecure = audit_snapshot(snapshot, name="insecure-cme")
    assert any(r.status == Status.UNKNOWN for r in insecure.results)
    plain = audit_snapshot(read_snapshot(example_dir("plain-ios")), name="plain-ios")
    assert _result(insecure, "CME-CDP-01").status == Status.FAIL
    _replace(
        insecure,
        "CME-CDP-01",
        status=Status.WAIVED,
        waiver={
            "reason": "carrier requires CDP on the uplink",
            "owner": "voice-team",
            "expires": "2099-12-31",
        },
    )
    # The waivers module leaves an expired waiver on a result that stays a failure.
    _replace(
        insecure,
        "CME-H323-01",
        waiver={
            "reason": "SIP trunk migration",
            "owner": "ops <night shift>",
            "expires": "2024-01-31",
            "expired": "true",
        },
    )
    log = _result(insecure, "CME-LOG-01")
    _replace(
        insecure,
        "CME-LOG-01",
        message=f"hostile message {HOSTILE}",
        evidence=(
            *log.evidence,
            Evidence("show running-config", 42, HOSTILE_TEXT),
            Evidence("show running-config", 43, LONG_LINE),
        ),
        remediation=(*log.remediation, f"logging host 192.0.2.10 ! {HOSTILE}"),
    )
    down = unreachable_report(
        ERROR_DEVICE, "192.0.2.77", ConnectError("192.0.2.77:22: connection timed out after 10 s")
    )
    return AuditReport(devices=[secure, insecure, plain, down], generated_at="2025-06-01T02:00:00Z")


def trend_points(count: int) -> list[TrendPoint]:
    return [
        TrendPoint(
            run_id=100 + i,
            started_at=f"2025-05-{(i % 28) + 1:02d}T02:00:00Z",
            failures={
                Severity.CRITICAL: i % 2,
                Severity.HIGH: 20 - i % 5,
                Severity.MEDIUM: 16,
                Severity.LOW: 1,
            },
        )
        for i in range(count)
    ]


@pytest.fixture(scope="module")
def report() -> AuditReport:
    return fleet_report()


@pytest.fixture(scope="module")
def page(report: AuditReport) -> str:
    return render_html(report, trend=trend_points(5), title="Branch fleet <nightly>")


@pytest.fixture(scope="module")
def drawn(page: str, tmp_path_factory: pytest.TempPathFactory) -> Node:
    """The page as Chromium shows it once every device's details are drawn (``#details=all``): the
    device sections are data in the page until its script draws them."""
    rendered = render_in_chromium(tmp_path_factory.mktemp("drawn"), page, fragment="#details=all")
    assert rendered.recorded_errors == [] and rendered.console_lines == []
    html = next(n for n in rendered.dom.walk() if n.tag == "html")
    assert html.attrs.get("data-details") == "all"
    return rendered.dom


# --- a small DOM ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None
    children: list[Node] = dataclasses.field(default_factory=list)
    content: list[Node | str] = dataclasses.field(default_factory=list)  # text and children, in order

    def all_text(self) -> str:
        return "".join(p if isinstance(p, str) else p.all_text() for p in self.content)

    def add(self, child: Node) -> None:
        self.children.append(child)
        self.content.append(child)

    def walk(self) -> list[Node]:
        return [self] + [n for c in self.children for n in c.walk()]

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def ancestors(self) -> list[Node]:
        found, node = [], self.parent
        while node is not None:
            found.append(node)
            node = node.parent
        return found


class StrictTree(HTMLParser):
    """Builds a tree and insists that every element is closed, in order (the page omits no end tag)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root
        self.problems: list[str] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.add(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.add(Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if tag != self.current.tag:
            self.problems.append(f"</{tag}> closes <{self.current.tag}> at {self.getpos()}")
            return
        assert self.current.parent is not None
        self.current = self.current.parent

    def handle_data(self, data: str) -> None:
        self.current.content.append(data)


def parse(text: str) -> Node:
    tree = StrictTree()
    tree.feed(text)
    tree.close()
    assert tree.problems == []
    assert tree.current is tree.root, f"unclosed <{tree.current.tag}>"
    assert tree.doctype.lower() == "doctype html"
    return tree.root


def cells(root: Node) -> list[Node]:
    """The heat map's cells, each given its device (its row's header) and family (its column's
    header) as ``data-device`` and ``data-family``, which the page keeps on the headers only."""
    table = next(n for n in root.walk() if n.tag == "table" and "heat" in n.classes())
    head, body = (next(n for n in table.walk() if n.tag == tag) for tag in ("thead", "tbody"))
    families = [th.attrs["data-family"] for th in head.walk() if th.tag == "th" and "data-family" in th.attrs]
    found = []
    for row in (n for n in body.children if n.tag == "tr"):
        header = next(c for c in row.children if c.tag == "th")
        row_cells = [c for c in row.children if "cell" in c.classes()]
        assert len(row_cells) == len(families)
        for cell, family in zip(row_cells, families, strict=True):
            cell.attrs.update({"data-device": header.attrs["data-device"], "data-family": family})
            found.append(cell)
    return found


# --- structure ----------------------------------------------------------------------------------


def test_page_is_well_formed_with_unique_ids_and_working_links(
    page: str, drawn: Node, report: AuditReport
) -> None:
    root = parse(page)
    html = next(n for n in root.walk() if n.tag == "html")
    assert html.attrs["lang"] == "en"
    assert next(n for n in root.walk() if n.tag == "title").all_text() == "Branch fleet <nightly>"
    for tree in (root, drawn):
        ids = Counter(n.attrs["id"] for n in tree.walk() if "id" in n.attrs)
        assert [i for i, n in ids.items() if n > 1] == []
    # The heat map's rows are drawn by the script (from #heat-data), as the details are.
    internal = [n.attrs["href"] for n in drawn.walk() if n.attrs.get("href", "").startswith("#")]
    assert len(internal) >= 4 * len(heatmap_families(report))  # every heat-map cell links
    # Every link lands once the details are drawn (families' ids are in the drawn details).
    assert {href[1:] for href in internal} <= set(ids)


def test_one_heatmap_cell_per_device_and_family(drawn: Node, report: AuditReport) -> None:
    families = heatmap_families(report)
    found = Counter((c.attrs["data-device"], c.attrs["data-family"]) for c in cells(drawn))
    expected = {(d.name, f) for d in report.devices for f in families}
    assert set(found) == expected
    assert set(found.values()) == {1}
    assert len(found) == 4 * len(families)


def test_heatmap_columns_follow_the_catalog_order(report: AuditReport) -> None:
    families = heatmap_families(report)
    assert families[:4] == ["GUI", "ACC", "SNMP", "CDP"]
    assert {"COR", "AH", "SIP", "H323", "REG", "LOG", "NAT", "FW", "TLS", "PORT"} <= set(families)
    extra = AuditReport(devices=[DeviceReport("x", "192.0.2.1", None, DeviceStatus.OK, results=[
        CheckResult("ZZZ-NEW-01", "new", Severity.LOW, "NEWFAM", Status.PASS, "ref", "msg")
    ])])
    assert heatmap_families(extra)[-1] == "NEWFAM"


def test_heatmap_cells_name_the_worst_status_in_class_and_text(drawn: Node, report: AuditReport) -> None:
    by_key = {(c.attrs["data-device"], c.attrs["data-family"]): c for c in cells(drawn)}

    def kind(device: str, family: str) -> str:
        classes = by_key[(device, family)].classes() - {"cell"}
        assert len(classes) == 1
        return classes.pop()

    assert kind("insecure-cme", "GUI") == "fail-critical"  # CME-GUI-06: GUI password = enable password
    assert kind("insecure-cme", "CDP") == "waived"
    assert kind("insecure-cme", "H323") == "fail-medium"  # its waiver expired: a failure again
    assert kind("secure-cme", "GUI") == "pass"
    # Every cell whose results are all one of the quiet statuses is named by it.
    for device in report.devices[:3]:
        for family in heatmap_families(report):
            statuses = {r.status for r in device.results if r.family == family}
            if statuses == {Status.NOT_APPLICABLE}:
                assert kind(device.name, family) == "na"
            elif statuses <= {Status.PASS, Status.NOT_APPLICABLE} and statuses:
                assert kind(device.name, family) == "pass"
            elif Status.UNKNOWN in statuses and Status.FAIL not in statuses:
                assert kind(device.name, family) == "unknown"
    assert "na" in {kind("plain-ios", f) for f in heatmap_families(report)}  # no CME on that router
    assert {kind(ERROR_DEVICE, f) for f in heatmap_families(report)} == {"error"}
    critical = by_key[("insecure-cme", "GUI")]
    assert critical.all_text().startswith("CRIT")
    gui_failures = sum(1 for r in report.devices[1].results if r.family == "GUI" and r.status == Status.FAIL)
    assert critical.all_text() == f"CRIT{gui_failures}"
    # The link's title has the counts; the row and column headers name the device and family.
    assert critical.children[0].attrs["title"].startswith(f"GUI: {gui_failures} fail (1 critical")
    assert by_key[("secure-cme", "GUI")].all_text() == "PASS"
    assert by_key[(ERROR_DEVICE, "GUI")].all_text() == "ERROR"
    assert by_key[(ERROR_DEVICE, "GUI")].children[0].attrs["title"] == "GUI: not audited"
    error_row = by_key[(ERROR_DEVICE, "GUI")].parent
    assert error_row is not None
    total = next(c for c in error_row.children if "total" in c.classes())
    assert "connection timed out" in total.attrs["title"] and total.all_text() == "not audited"


def test_heatmap_cells_link_to_the_family_in_the_device_section(drawn: Node) -> None:
    root = drawn
    by_id = {n.attrs["id"]: n for n in root.walk() if "id" in n.attrs}
    cell = next(
        c for c in cells(root) if (c.attrs["data-device"], c.attrs["data-family"]) == ("insecure-cme", "SNMP")
    )
    target = by_id[cell.children[0].attrs["href"][1:]]
    device_section = next(a for a in target.ancestors() if "device" in a.classes())
    assert device_section.attrs["data-name"] == "insecure-cme"
    statuses = {n.attrs.get("data-status") for n in target.walk() if "finding" in n.classes()}
    assert statuses == {"fail"}
    assert "SNMP" in target.children[0].all_text()
    error_cell = next(c for c in cells(root) if c.attrs["data-device"] == ERROR_DEVICE)
    error_section = by_id[error_cell.children[0].attrs["href"][1:]]
    assert error_section.attrs["data-name"] == ERROR_DEVICE.lower()


# --- escaping and self-containment ----------------------------------------------------------------


def test_hostile_text_is_escaped_everywhere(page: str, drawn: Node) -> None:
    assert HOSTILE not in page
    root = parse(page)
    scripts = [n for n in root.walk() if n.tag == "script"]
    code = [n for n in scripts if "type" not in n.attrs]
    assert len(code) == 2 and all("alert(1)" not in s.all_text() for s in code)
    # The details' and the heat map's data: JSON with no "<" in it, so nothing in it can end its
    # element or open a tag.
    data, heat = (next(n for n in scripts if n.attrs.get("id") == ident) for ident in ("report-data", "heat-data"))
    assert [n for n in scripts if n.attrs.get("type") == "application/json"] == [heat, data]
    assert "<" not in data.all_text() and "\\u003cscript>alert(1)" in data.all_text()
    assert HOSTILE_TEXT in json.loads(data.all_text())["s"]
    assert "<" not in heat.all_text() and ERROR_DEVICE in [row[1] for row in json.loads(heat.all_text())]
    # Drawn by the script as text, never as markup.
    root = drawn
    evidence = [n.all_text() for n in root.walk() if "evidence" in n.classes()]
    assert any(f"show running-config:42: {HOSTILE_TEXT}" in text for text in evidence)
    assert any(LONG_LINE in text for text in evidence)
    remediation = [n.all_text() for n in root.walk() if "remediation" in n.classes()]
    assert any(f"logging host 192.0.2.10 ! {HOSTILE}" in text for text in remediation)
    # A device name full of markup survives as the exact attribute value and text.
    assert any(c.attrs["data-device"] == ERROR_DEVICE for c in cells(root))
    heading = next(n for n in root.walk() if n.tag == "h2" and ERROR_DEVICE in n.all_text())
    assert heading.all_text().startswith(ERROR_DEVICE)
    assert "Branch fleet &lt;nightly&gt;" in page


def test_page_references_nothing_outside_itself(page: str) -> None:
    root = parse(page)
    for node in root.walk():
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = node.attrs.get(name)
            assert value is None or value.startswith("#"), f"<{node.tag} {name}={value!r}>"
        assert node.tag not in {"link", "img", "iframe", "object", "embed", "base"}
    # The only URL is the SVG namespace name, which is never fetched.
    assert set(re.findall(r"https?://[^\"'\s<>]*", page)) == {"http://www.w3.org/2000/svg"}
    assert "@import" not in page and "url(" not in page


def test_the_content_security_policy_admits_exactly_the_inline_style_and_scripts(page: str) -> None:
    root = parse(page)
    meta = next(n for n in root.walk() if n.attrs.get("http-equiv") == "Content-Security-Policy")
    policy = meta.attrs["content"]
    assert policy.startswith("default-src 'none';")

    def digest(node: Node) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(node.all_text().encode()).digest()).decode() + "'"

    styles = [n for n in root.walk() if n.tag == "style"]
    scripts = [n for n in root.walk() if n.tag == "script" and "type" not in n.attrs]
    sources = dict(re.findall(r"([a-z-]+) ([^;]+)", policy))
    assert sources["style-src"].split() == [digest(n) for n in styles]
    assert sources["script-src"].split() == [digest(n) for n in scripts]
    assert not [n for n in root.walk() if "style" in n.attrs or any(a.startswith("on") for a in n.attrs)]


# --- content --------------------------------------------------------------------------------------


def test_summary_counts_devices_failures_and_waivers(page: str, report: AuditReport) -> None:
    root = parse(page)
    summary = next(n for n in root.walk() if "summary" in n.classes() and n.tag == "section")

    def card(kind: str) -> int:
        node = next(n for n in summary.walk() if {"card", kind} <= n.classes())
        return int(next(c for c in node.children if "value" in c.classes()).all_text())

    results = [r for d in report.devices for r in d.results]
    assert (card("devices"), card("dev-ok"), card("dev-partial"), card("dev-error")) == (4, 2, 1, 1)
    for severity in Severity:
        assert card(f"sev-{severity}") == sum(
            1 for r in results if r.status == Status.FAIL and r.severity == severity
        )
    assert card("sev-critical") == 1
    assert card("st-unknown") == sum(1 for r in results if r.status == Status.UNKNOWN) > 0
    assert (card("st-waived"), card("st-expired")) == (1, 1)
    text = summary.all_text()
    assert "connection timed out" in text and ERROR_DEVICE in text
    meta = next(n for n in root.walk() if "meta" in n.classes()).all_text()
    assert "2025-06-01 02:00:00Z" in meta and "cmelive 0.1.0" in meta


def _device_section(root: Node, name: str) -> Node:
    return next(n for n in root.walk() if n.tag == "section" and n.attrs.get("data-name") == name)


def test_device_section_orders_failures_unknowns_waived_then_collapsed_passes(
    drawn: Node, report: AuditReport
) -> None:
    section = _device_section(drawn, "insecure-cme")
    details = next(n for n in section.children if "details" in n.classes())
    groups = [n for n in details.children if "group" in n.classes()]
    assert [(g.tag, sorted(g.classes() - {"group"})) for g in groups] == [
        ("div", ["failures"]),
        ("div", ["unknowns"]),
        ("div", ["waived"]),
        ("details", ["passes"]),
    ]
    failures = [n for n in groups[0].walk() if n.tag == "article"]
    ranks = [Severity(n.attrs["data-severity"]).rank for n in failures]
    # Families worst first; the very first finding is the critical one.
    assert failures[0].attrs["data-severity"] == "critical"
    assert "CME-GUI-06" in failures[0].all_text()
    families = [n for n in groups[0].children if n.tag == "section"]
    worst = [
        max(Severity(a.attrs["data-severity"]).rank for a in f.walk() if a.tag == "article") for f in families
    ]
    assert worst == sorted(worst, reverse=True)
    for family in families:
        inner = [Severity(a.attrs["data-severity"]).rank for a in family.walk() if a.tag == "article"]
        assert inner == sorted(inner, reverse=True)
    insecure = next(d for d in report.devices if d.name == "insecure-cme")
    assert len(ranks) == sum(1 for r in insecure.results if r.status == Status.FAIL) > 20
    for article in failures:
        assert article.attrs["data-status"] == "fail"
    # Evidence is monospace 'command:line: text'; remediation a <pre> on its own.
    gui06 = failures[0]
    evidence = next(n for n in gui06.walk() if "evidence" in n.classes())
    assert evidence.tag == "pre"
    assert "show running-config:193: web admin system name admin password <masked>" in evidence.all_text()
    remediation = next(n for n in gui06.walk() if "remediation" in n.classes())
    assert remediation.tag == "pre" and remediation.all_text().startswith("telephony-service\n web admin")
    unknown = [n for n in groups[1].walk() if n.tag == "article"]
    assert unknown and all(n.attrs["data-status"] == "unknown" for n in unknown)
    for article in unknown:  # each says why: the command that hung
        assert "show ephone registered" in next(c for c in article.walk() if "message" in c.classes()).all_text()
    passes = groups[3]
    assert "open" not in passes.attrs
    quiet = sum(1 for r in insecure.results if r.status in (Status.PASS, Status.NOT_APPLICABLE))
    summary = next(c for c in passes.children if c.tag == "summary")
    assert summary.all_text() == f"Passed and not applicable ({quiet})"
    commands = next(n for n in section.walk() if "commands" in n.classes())
    assert "show ctl-client" in commands.all_text() and "REJECTED" in commands.all_text()
    assert "show ephone registered" in commands.all_text() and "no prompt within 30 s" in commands.all_text()
    facts = next(n for n in section.walk() if "facts" in n.classes()).all_text()
    assert "cme-branch-legacy" in facts and "15.1(4)M12a" in facts and "8.6" in facts
    assert "SSH-2.0-Cisco-1.25" in facts and "ssh-rsa, 2048 bits" in facts
    assert "kex: diffie-hellman-group-exchange-sha1, diffie-hellman-group14-sha1; host key: ssh-rsa" in facts


def test_waivers_show_reason_owner_expiry_and_expired_ones_are_flagged(drawn: Node) -> None:
    section = _device_section(drawn, "insecure-cme")
    articles = {
        next(c for c in a.walk() if "id" in c.classes()).all_text(): a
        for a in section.walk()
        if a.tag == "article"
    }
    waived = articles["CME-CDP-01"]
    assert waived.attrs["data-status"] == "waived"
    block = next(n for n in waived.walk() if n.classes() == {"waiver"})
    assert "Waived until 2099-12-31" in block.all_text()
    assert "carrier requires CDP on the uplink" in block.all_text() and "voice-team" in block.all_text()
    expired = articles["CME-H323-01"]
    assert expired.attrs["data-status"] == "fail"
    flagged = next(n for n in expired.walk() if n.classes() == {"waiver", "expired"})
    assert "EXPIRED WAIVER" in flagged.all_text()
    assert "expired on 2024-01-31" in flagged.all_text()
    assert "ops <night shift>" in flagged.all_text()


def test_a_waiver_past_its_date_is_flagged_even_if_still_marked_waived(
    tmp_path: Path, report: AuditReport
) -> None:
    stale = dataclasses.replace(report.devices[1], results=list(report.devices[1].results))
    _replace(stale, "CME-CDP-01", waiver={"reason": "r", "owner": "o", "until": "2025-05-31"})
    page = render_html(AuditReport([stale], generated_at="2025-06-01T00:00:00Z"))
    dom = render_in_chromium(tmp_path, page, fragment="#details=all").dom
    article = next(
        a for a in dom.walk() if a.tag == "article" and "CME-CDP-01" in a.all_text()
    )
    assert "expired" in next(n for n in article.walk() if "waiver" in n.classes()).classes()


def test_device_in_error_has_its_reason_and_no_result_groups(page: str) -> None:
    section = _device_section(parse(page), ERROR_DEVICE.lower())
    assert "ERROR" in section.children[0].all_text()
    assert "192.0.2.77:22: connection timed out after 10 s" in section.all_text()
    assert not [n for n in section.walk() if "group" in n.classes()]


def test_page_reads_without_javascript(report: AuditReport, page: str, drawn: Node) -> None:
    root = parse(page)
    controls = next(n for n in root.walk() if n.attrs.get("id") == "controls")
    assert "hidden" in controls.attrs  # the script shows them; without it there is nothing dead
    for tree in (root, drawn):  # the heat map's rows are drawn by the script: their headers too
        assert {n.attrs.get("scope") for n in tree.walk() if n.tag == "th"} == {"col", "row"}
    # Copy buttons are added by the script; the only buttons in the source are the hidden controls'.
    buttons = {n.attrs["id"] for n in root.walk() if n.tag == "button"}
    assert buttons == {"show-all", "expand-all", "collapse-all"}
    assert all(controls in n.ancestors() for n in root.walk() if n.tag in {"button", "input"})
    # A small page's heat map is HTML (its rows written out); the details are drawn by the script:
    # without it, a note says so above the devices and in each.
    notes = [n for n in root.walk() if "nojs" in n.classes()]
    assert "without JavaScript, the summary, the roll-up and the heat map above are the report" in notes[0].all_text()
    sections = [n for n in root.walk() if "device" in n.classes() and n.tag == "section"]
    assert len(sections) == 4 == len(notes) - 1
    assert len(_heat_body(root).children) == 4
    assert not [n for n in root.walk() if "finding" in n.classes()]
    # From HEATMAP_ON_DEMAND_FROM devices on, the rows are drawn by the script: a note says so.
    root = parse(render_html(report, heatmap_on_demand_from=len(report.devices)))
    notes = [n for n in root.walk() if "nojs" in n.classes()]
    assert "The heat map is drawn" in notes[0].all_text()
    assert "without JavaScript, the summary and the roll-up" in notes[0].all_text()
    assert "without JavaScript, the summary and the roll-up above are the report" in notes[1].all_text()
    assert len(notes) == 2 + 4
    assert _heat_body(root).children == []


def _heat_body(root: Node) -> Node:
    return next(n for n in root.walk() if n.tag == "tbody" and "heat" in (n.parent.classes() if n.parent else ()))


# --- trend --------------------------------------------------------------------------------------


def _svgs(root: Node) -> list[Node]:
    return [n for n in root.walk() if n.tag == "svg"]


def test_trend_needs_two_points(report: AuditReport) -> None:
    assert _svgs(parse(render_html(report))) == []
    assert _svgs(parse(render_html(report, trend=trend_points(1)))) == []
    assert "Failures over runs" not in render_html(report, trend=trend_points(1))
    assert len(_svgs(parse(render_html(report, trend=trend_points(2))))) == 1


def test_trend_draws_stacked_bars_with_run_labels(page: str) -> None:
    svg = _svgs(parse(page))[0]
    assert svg.attrs["role"] == "img"
    points = trend_points(5)
    segments = [n for n in svg.walk() if n.tag == "rect"]
    assert len(segments) == sum(1 for p in points for v in p.failures.values() if v)
    text = svg.all_text()
    for point in points:
        assert f"#{point.run_id}" in text and point.started_at[:10] in text
    # Stacked: in each bar the critical segment sits lowest (largest y).
    first_run = [n for n in segments if "run 100 " in n.all_text()]
    ys = [float(n.attrs["y"]) for n in first_run]
    assert ys == sorted(ys, reverse=True)
    totals = [n.all_text() for n in svg.walk() if "total" in n.classes()]
    assert totals == [str(sum(p.failures.values())) for p in points]


def test_trend_keeps_the_latest_runs_and_accepts_them_in_any_order(report: AuditReport) -> None:
    points = trend_points(MAX_TREND_POINTS + 15)
    page = render_html(report, trend=list(reversed(points)))
    svg = _svgs(parse(page))[0]
    runs = {n.all_text().split()[1] for n in svg.walk() if n.tag == "rect"}  # "run 123 (...): ..."
    assert runs == {str(p.run_id) for p in points[-MAX_TREND_POINTS:]}
    assert f"The last {MAX_TREND_POINTS} of {MAX_TREND_POINTS + 15} runs." in page


# --- a real browser -----------------------------------------------------------------------------

CONSOLE_LINE = re.compile(r":CONSOLE[(:]|Uncaught", re.IGNORECASE)


@dataclasses.dataclass
class Rendered:
    dom: Node
    stderr: str

    @property
    def console_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if CONSOLE_LINE.search(line)]

    @property
    def recorded_errors(self) -> list[str]:
        html = next(n for n in self.dom.walk() if n.tag == "html")
        return list(json.loads(html.attrs["data-errors"]))


def chromium(
    tmp_path: Path, page_text: str, *extra: str, fragment: str = ""
) -> subprocess.CompletedProcess[str]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian package 'chromium'; .ci/run installs it)")
    page = tmp_path / "report.html"
    page.write_text(page_text, encoding="utf-8")
    profile = tmp_path / "profile"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
        page.as_uri() + fragment,
    ]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def render_in_chromium(tmp_path: Path, page_text: str, fragment: str = "") -> Rendered:
    done = chromium(tmp_path, page_text, "--dump-dom", fragment=fragment)
    assert done.returncode == 0, done.stderr[-2000:]
    tree = StrictTree()
    tree.feed(done.stdout)
    tree.close()
    return Rendered(tree.root, done.stderr)


def test_chromium_renders_the_report_without_console_errors(
    tmp_path: Path, page: str, report: AuditReport
) -> None:
    rendered = render_in_chromium(tmp_path, page)
    html = next(n for n in rendered.dom.walk() if n.tag == "html")
    assert html.attrs.get("data-js") == "ready"  # the page's script ran to its end
    assert rendered.recorded_errors == []
    assert rendered.console_lines == []
    found = Counter((c.attrs["data-device"], c.attrs["data-family"]) for c in cells(rendered.dom))
    families = heatmap_families(report)
    assert set(found) == {(d.name, f) for d in report.devices for f in families}
    assert set(found.values()) == {1}
    # The script showed the filters and gave each remediation block a copy button.
    controls = next(n for n in rendered.dom.walk() if n.attrs.get("id") == "controls")
    assert "hidden" not in controls.attrs
    # Nothing is drawn before it is near the screen: the page opens on its summary.
    assert not [n for n in rendered.dom.walk() if "finding" in n.classes()]
    assert [n for n in rendered.dom.walk() if "nojs" in n.classes()]  # hidden by CSS once .js is set
    assert "js" in html.attrs["class"].split()
    everything = render_in_chromium(tmp_path, page, fragment="#details=all").dom
    buttons = [n for n in everything.walk() if "copy" in n.classes()]
    results = [r for d in report.devices for r in d.results]
    with_fix = sum(1 for r in results if r.status in (Status.FAIL, Status.WAIVED) and r.remediation)
    assert len(buttons) == with_fix > 30


@pytest.mark.parametrize(
    ("injected", "strip_policy", "expected"),
    [
        ("<script>notAFunction();</script>", True, "notAFunction is not defined"),
        ("<img alt=\"\" src=\"https://cdn.example.invalid/pixel.png\">", False, "img-src"),
    ],
    ids=["script-error", "external-image-blocked"],
)
def test_chromium_harness_sees_console_errors(
    tmp_path: Path, page: str, injected: str, strip_policy: bool, expected: str
) -> None:
    # The negative control for the test above: a broken page must be caught by both detectors.
    broken = page.replace("</body>", injected + "</body>")
    if strip_policy:
        broken = re.sub(r"<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "", broken)
    rendered = render_in_chromium(tmp_path, broken)
    assert any(expected in error for error in rendered.recorded_errors), rendered.recorded_errors
    assert rendered.console_lines, rendered.stderr[-2000:]


# Drives the page's own controls the way a reader would, then writes what it saw into the DOM.
PROBE = """(function () {
  var root = document.documentElement, seen = {};
  seen.openedByLink = document.querySelector("#dev-1-secure-cme details.passes").open;
  seen.drawnByLink = document.querySelectorAll("section.device[data-drawn]").length;
  document.querySelector('#controls input[value="pass"]').click();
  document.querySelector('#controls input[value="na"]').click();
  // Devices drawn after a filter was set are filtered too.
  document.getElementById("show-all").click();
  seen.passShown = document.querySelectorAll('.finding[data-status="pass"]:not(.filtered)').length;
  seen.failShown = document.querySelectorAll('.finding[data-status="fail"]:not(.filtered)').length;
  seen.passesGroupsShown = document.querySelectorAll("details.passes:not([hidden])").length;
  document.getElementById("expand-all").click();
  seen.closedAfterExpand = document.querySelectorAll("details:not([open])").length;
  var filter = document.getElementById("device-filter");
  filter.value = "PLAIN";
  filter.dispatchEvent(new Event("input", {bubbles: true}));
  seen.rowsShown = document.querySelectorAll("table.heat tbody tr:not(.hidden)").length;
  seen.devicesShown = document.querySelectorAll("section.device:not(.hidden)").length;
  root.setAttribute("data-probe", JSON.stringify(seen));
})();"""


def test_chromium_runs_the_filters_expand_all_and_link_reveal(
    tmp_path: Path, page: str, report: AuditReport
) -> None:
    # The probe's hash joins the page's own policy, so the policy stays on while it runs.
    probe_hash = "'sha256-" + base64.b64encode(hashlib.sha256(PROBE.encode()).digest()).decode() + "'"
    probed = re.sub(r"(script-src [^;]+);", lambda m: f"{m.group(1)} {probe_hash};", page, count=1)
    probed = probed.replace("</body>", f"<script>{PROBE}</script></body>")
    # The secure router has no failures: its GUI family lives only in its collapsed passes.
    rendered = render_in_chromium(tmp_path, probed, fragment="#dev-1-secure-cme--GUI")
    assert rendered.recorded_errors == [] and rendered.console_lines == []
    html = next(n for n in rendered.dom.walk() if n.tag == "html")
    seen = json.loads(html.attrs["data-probe"])
    results = [r for d in report.devices for r in d.results]
    assert seen == {
        "openedByLink": True,
        "drawnByLink": 1,
        "passShown": 0,
        "failShown": sum(1 for r in results if r.status == Status.FAIL),
        "passesGroupsShown": 0,
        "closedAfterExpand": 0,
        "rowsShown": 1,
        "devicesShown": 1,
    }


# --- issue 12: what a manager reads ---------------------------------------------------------


def test_expired_waivers_are_counted_as_waivers_not_findings(report: AuditReport) -> None:
    # One expired waiver (a group or a device glob) covering the same check on two devices.
    waiver = {"reason": "SIP trunk migration", "owner": "ops", "expires": "2024-01-31", "expired": "true"}
    devices = [dataclasses.replace(d, results=list(d.results)) for d in report.devices[:3]]
    for device in devices[:2]:
        _replace(device, "CME-ACC-01", waiver=waiver)
    root = parse(render_html(AuditReport(devices=devices, generated_at=report.generated_at)))
    expired = next(n for n in root.walk() if {"card", "st-expired"} <= n.classes())
    value = int(next(c for c in expired.children if "value" in c.classes()).all_text())
    # The fixture's own expired waiver (CME-H323-01 on insecure-cme) and this one: two waivers, three findings.
    assert value == 2
    assert "3 findings count as failures again" in expired.all_text()


BADGE_PROBE = """(function () {
  var rows = [];
  document.querySelectorAll("table.heat tbody th").forEach(function (th) {
    var cell = th.getBoundingClientRect(), badge = th.querySelector(".badge").getBoundingClientRect();
    var name = th.querySelector("a");
    rows.push({badgeInside: badge.left >= cell.left && badge.right <= cell.right + 0.5 && badge.width > 20,
               nameCut: name.scrollWidth > name.clientWidth});
  });
  document.documentElement.setAttribute("data-probe", JSON.stringify(rows));
})();"""


def test_chromium_shows_the_status_badge_of_a_long_device_name_whole(tmp_path: Path, report: AuditReport) -> None:
    long_name = "branch-office-" + "x" * 40 + "-voice-gateway-01"
    devices = [dataclasses.replace(report.devices[1], name=long_name), report.devices[0]]
    page_text = render_html(AuditReport(devices=devices, generated_at=report.generated_at))
    probe_hash = "'sha256-" + base64.b64encode(hashlib.sha256(BADGE_PROBE.encode()).digest()).decode() + "'"
    probed = re.sub(r"(script-src [^;]+);", lambda m: f"{m.group(1)} {probe_hash};", page_text, count=1)
    probed = probed.replace("</body>", f"<script>{BADGE_PROBE}</script></body>")
    rendered = render_in_chromium(tmp_path, probed)
    assert rendered.recorded_errors == [] and rendered.console_lines == []
    html = next(n for n in rendered.dom.walk() if n.tag == "html")
    rows = json.loads(html.attrs["data-probe"])
    # The long name is cut short (it is whole in its title), its badge is not; the short one is whole.
    assert rows == [{"badgeInside": True, "nameCut": True}, {"badgeInside": True, "nameCut": False}]


def test_rollup_names_each_failing_check_with_the_devices_it_fails_on(page: str, report: AuditReport) -> None:
    root = parse(page)
    rows = [n for n in root.walk() if n.tag == "tr" and "data-check" in n.attrs]
    expected: dict[str, list[str]] = {}
    for device in report.devices:
        for result in device.results:
            if result.status == Status.FAIL:
                expected.setdefault(result.check, []).append(device.name)
    assert {row.attrs["data-check"]: int(row.attrs["data-devices"]) for row in rows} == {
        check: len(names) for check, names in expected.items()
    }
    # Worst severity first; within one, the check failing on most devices first.
    ranks = [(-Severity(row.attrs["data-severity"]).rank, -int(row.attrs["data-devices"])) for row in rows]
    assert ranks == sorted(ranks)
    # Each device named links to that check's family in the device's section.
    first = rows[0]
    links = [n for n in first.walk() if n.tag == "a"]
    assert [n.all_text() for n in links] == expected[first.attrs["data-check"]]
    assert all(n.attrs["href"].startswith("#dev-") for n in links)
