"""The HTML report: one self-contained page for people (fleet summary, heat map, findings, trend).

The page opens from disk (``file://``) and needs nothing else: CSS and JS are inline, there are no
fonts, images or links to other hosts, and a Content-Security-Policy made of the hashes of its own
``<style>`` and ``<script>`` blocks keeps it that way (``default-src 'none'``), so even a piece of
evidence that escaped escaping could not load or run anything. The summary and roll-up are HTML,
readable without JavaScript. The heat map's rows are data (one JSON array, each device's row the
counts behind its cells, see :func:`_heatmap_row`), drawn by the script as they come near the
screen (60 at once), and all for printing or "Show all details": written out, 2,000 rows of 20
linked cells were most of the page's bytes and DOM. Below :data:`HEATMAP_ON_DEMAND_FROM` devices
(most fleets) the rows are written out as HTML as well, the markup the script would draw, so the
heat map reads without JavaScript; the script takes them as drawn. Each device's facts and findings are data
(one JSON block in ``<script type="application/json">``, each distinct string and each distinct
finding written once: the same finding on a thousand routers costs one entry and an index per
router), which the script draws into the device's section when it comes near the screen, is
linked to, printed, or "Show all details" is pressed, with ``textContent`` only. Without
JavaScript notes say the details (and a large page's heat map) need it: a ``<noscript>`` copy would be the
whole old page again (34 MB at 1,000 routers). The script also
adds filters, "expand all", copy buttons, and opens collapsed sections for printing and links.

Devices come worst first (:func:`worst_first`) in the heat map's data and in the device sections
alike, so a reader without JavaScript gets the useful order. The script sorts them again (by name, by
status, in inventory order, or back to worst first) and filters them (status, "has failures",
model, the check family they fail in, name), from labelled controls or from the URL fragment
(``#sort=name&status=partial&model=2811&family=GUI&q=branch``), so a filtered view can be shared
as a link. It reads what it needs from each device's heat-map row data.

Layout, top to bottom:

* a summary: devices (ok / partial / error), failures by severity, unknown, waived and expired
  waivers, when and by which version the report was made;
* a heat map (HTML below :data:`HEATMAP_ON_DEMAND_FROM` devices, drawn by the script from it on),
  devices × check families (columns in catalog order; the row
  header carries ``data-device``, the column header ``data-family``): each cell is one ``<td>`` with a class
  naming the worst status in it (``fail-critical`` …
  ``fail-info``, ``unknown``, ``waived``, ``pass``, ``na``; ``error`` for a device that could not be
  audited, ``none`` when it has no result in that family) and a text label, so colour is never the
  only signal, and a link (titled with its counts) to that family in the device's section;
* a trend of failures by severity over runs (a stacked bar chart in inline SVG, built here) when
  two or more :class:`TrendPoint` are given;
* one section per device (drawn from the data, see above): facts, commands that did not complete,
  then failures (grouped by family,
  worst family first, like the text report), unknown results with their reasons, waived results with
  their waiver, and the passes / not-applicable results collapsed in a ``<details>``.

Every piece of text from a device or a waiver file goes through :func:`html.escape`, or is data
(JSON with every ``<`` escaped) that the script sets as text.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from cmelive import __version__
from cmelive.checks import all_checks
from cmelive.checks.base import CheckResult, Severity, Status
from cmelive.commands import AUDIT_COMMANDS, CommandStatus
from cmelive.report.model import AuditReport, DeviceReport, DeviceStatus
from cmelive.report.text import FAMILY_TITLES, by_family, damage_note, device_summary, family_order


@dataclass(frozen=True)
class TrendPoint:
    """One past run as the trend chart shows it: its id, when it started, its failures by severity.

    ``failures`` counts the failed results of the whole run (waived ones excluded); severities it
    does not name count as zero.
    """

    run_id: int
    started_at: str
    failures: dict[Severity, int]


#: Most runs the trend chart draws (the latest ones); a year of nightly runs would be unreadable.
MAX_TREND_POINTS = 60

_SEVERITIES_WORST_FIRST = sorted(Severity, key=lambda s: s.rank, reverse=True)
_COMMAND_ORDER = {command: index for index, command in enumerate(AUDIT_COMMANDS)}

# Heat-map cell kinds, worst first; the index is the rank used to pick a cell's worst status.
_CELL_KINDS: tuple[str, ...] = (
    *(f"fail-{s}" for s in _SEVERITIES_WORST_FIRST),
    "unknown",
    "waived",
    "pass",
    "na",
)
_CELL_LABELS = {
    "fail-critical": "CRIT",
    "fail-high": "HIGH",
    "fail-medium": "MED",
    "fail-low": "LOW",
    "fail-info": "INFO",
    "unknown": "UNKN",
    "waived": "WAIVED",
    "pass": "PASS",
    "na": "N/A",
    "error": "ERROR",
    "none": "—",
}
_CELL_MEANINGS = {
    "fail-critical": "critical failure",
    "fail-high": "high failure",
    "fail-medium": "medium failure",
    "fail-low": "low failure",
    "fail-info": "informational failure",
    "unknown": "unknown (evidence missing)",
    "waived": "waived failure",
    "pass": "all pass",
    "na": "not applicable",
    "error": "device not audited",
    "none": "no result",
}
# Bar colours of the trend chart; the same hues as the CSS severity classes.
_SEVERITY_FILL = {
    Severity.CRITICAL: "#6a1b9a",
    Severity.HIGH: "#c62828",
    Severity.MEDIUM: "#ef6c00",
    Severity.LOW: "#f9c20a",
    Severity.INFO: "#90a4ae",
}
_WAIVER_EXPIRY_KEYS = ("expires", "expiry", "expires_on", "expiry_date", "until")
_TRUE_WORDS = {"true", "yes", "1"}


def render_html(
    report: AuditReport,
    *,
    trend: Sequence[TrendPoint] = (),
    title: str = "cmelive fleet report",
    device_parts: Sequence[DevicePart] | None = None,
    packed_details: str | None = None,
    heatmap_on_demand_from: int | None = None,
) -> str:
    """The report as one self-contained HTML page (``trend``: past runs, drawn when ≥ 2).

    ``device_parts`` are the devices' :func:`device_html`, when already made (a fleet makes them
    while the run goes on): each carries the anchor the heat map links to. ``packed_details``
    stands in for the devices' packed details (see :class:`DetailsPacker`) when given.
    From ``heatmap_on_demand_from`` devices on (default :data:`HEATMAP_ON_DEMAND_FROM`) the heat
    map's rows are drawn by the script on demand; below, they are written out as HTML too.
    """
    families = _families_of(report.devices)
    today = _report_date(report.generated_at)
    if device_parts is None:
        anchors = device_anchors(report.devices)
        device_parts = [device_html(d, anchor, today) for d, anchor in zip(report.devices, anchors, strict=True)]
    anchors = [part.anchor for part in device_parts]
    rows = [
        part.heatmap_row if part.families == families else _heatmap_row(device, part.anchor, families)
        for device, part in zip(report.devices, device_parts, strict=True)
    ]
    # Worst first in the page itself: the order a reader without JavaScript gets, and the one the
    # script's "worst first" sort goes back to (it keeps this order, it does not compute its own).
    order = worst_first(report.devices)
    rows = [rows[i] for i in order]
    threshold = HEATMAP_ON_DEMAND_FROM if heatmap_on_demand_from is None else heatmap_on_demand_from
    # Below the threshold the rows are HTML as well, made here from the devices (a fleet's
    # summaries carry all a row reads), so the streamed page is this one byte for byte.
    written = (
        None
        if len(report.devices) >= threshold
        else [_heatmap_row_html(_heatmap_row_data(report.devices[i], anchors[i], families), families) for i in order]
    )
    sections = [device_parts[i].html for i in order]
    details = _pack(device_parts) if packed_details is None else packed_details
    css = _asset("report.css")
    guard_js = _asset("errors.js")
    main_js = _asset("report.js")
    policy = (
        "default-src 'none'; "
        f"style-src {_csp_hash(css)}; "
        f"script-src {_csp_hash(guard_js)} {_csp_hash(main_js)}; "
        "base-uri 'none'; form-action 'none'"
    )
    body = [
        f'<header class="page"><h1>{_e(title)}</h1>',
        f'<p class="meta">Generated {_time(report.generated_at)} by cmelive {_e(__version__)}'
        f" · {len(report.devices)} device{_plural(len(report.devices))}</p></header>",
        _controls(report.devices),
        "<main>",
        _summary(report, anchors, today),
        _heatmap(families, rows, written),
        _rollup(report, anchors),
        _trend(trend),
        '<section class="devices" aria-labelledby="devices-h">',
        '<h2 id="devices-h">Devices</h2>',
        # Without JavaScript the details stay out: a <noscript> copy of them would be the whole
        # page again (tens of MB at a thousand devices), the very weight the data below removes.
        '<p class="hint nojs">Each device\'s facts and findings are drawn from the data in this page by'
        " its script, when the device is scrolled to, linked to or printed (or with \u201cShow all"
        " details\u201d): without JavaScript, the summary"
        + (", the roll-up and the heat map" if written is not None else " and the roll-up")
        + " above are the report.</p>",
        *sections,
        "</section>",
        "</main>",
        f'<script type="application/json" id="report-data">{details}</script>',
        f"<footer><p>cmelive {_e(__version__)} · report generated {_time(report.generated_at)}."
        " Secrets in evidence are masked.</p></footer>",
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            # Written as is: the policy holds only keywords and base64 hashes in single quotes.
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="generator" content="cmelive ' + _e(__version__) + '">',
            f"<title>{_e(title)}</title>",
            f"<script>{guard_js}</script>",
            f"<style>{css}</style>",
            "</head>",
            "<body>",
            *body,
            f"<script>{main_js}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def heatmap_families(report: AuditReport) -> list[str]:
    """The heat map's columns: every family of the catalog, in catalog order, then any other family
    the report's results name (a report from a newer or older catalog)."""
    return list(_families_of(report.devices))


def _families_of(devices: Sequence[DeviceReport]) -> tuple[str, ...]:
    found = dict.fromkeys(_catalog_families())
    for device in devices:
        for result in device.results:
            found.setdefault(result.family)
    if len(found) == len(_catalog_families()):
        return _catalog_families()
    return tuple(sorted(found, key=family_order))


@cache
def _catalog_families() -> tuple[str, ...]:
    found = dict.fromkeys(spec.family for spec in all_checks())
    return tuple(sorted(found, key=family_order))


# --- device order ------------------------------------------------------------------------------

# How bad a device's status is, for the "worst first" and "status" orders (the script's
# STATUS_RANK says the same): not audited at all first, then audited with commands failing.
_STATUS_RANK = {
    DeviceStatus.ERROR: 4,
    DeviceStatus.INTERRUPTED: 3,
    DeviceStatus.NOT_STARTED: 2,
    DeviceStatus.PARTIAL: 1,
    DeviceStatus.OK: 0,
}


def worst_first_key(device: DeviceReport) -> tuple[int, int, int]:
    """Sort key of the page's default device order: the worst open failure's severity (a waived
    result is not open; an expired waiver's failure is), then how many failures, then the status
    (a device not audited before a clean one); ties keep the inventory order."""
    fails = [r for r in device.results if r.status == Status.FAIL]
    worst = max((r.severity.rank for r in fails), default=-1)
    return (-worst, -len(fails), -_STATUS_RANK.get(device.status, 0))


def worst_first(devices: Sequence[DeviceReport]) -> list[int]:
    """The positions of ``devices`` in the page's default order (see :func:`worst_first_key`)."""
    keys = [worst_first_key(d) for d in devices]
    return sorted(range(len(devices)), key=lambda i: (keys[i], i))


def _failing_families(device: DeviceReport) -> list[str]:
    return sorted({r.family for r in device.results if r.status == Status.FAIL}, key=family_order)


def _model(device: DeviceReport) -> str:
    model = device.facts.get("model")
    return str(model) if model else ""


# --- small helpers -------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


@cache
def _asset(name: str) -> str:
    return resources.files("cmelive.report").joinpath("templates", name).read_text(encoding="utf-8")


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def _time(stamp: str) -> str:
    return f'<time datetime="{_e(stamp)}">{_e(stamp.replace("T", " "))}</time>'


def _report_date(stamp: str) -> date | None:
    try:
        return date.fromisoformat(stamp[:10])
    except ValueError:
        return None


def device_anchors(devices: Sequence[DeviceReport]) -> list[str]:
    """The devices' HTML ids, in order: ``dev-<position>-<name made safe>``."""
    return [device_anchor(index, device.name) for index, device in enumerate(devices)]


def device_anchor(index: int, name: str) -> str:
    # The index keeps ids unique when two inventory names differ only in punctuation.
    return f"dev-{index + 1}-{re.sub(r'[^A-Za-z0-9_-]+', '-', name).strip('-') or 'device'}"


def _anchor_position(anchor: str) -> int:
    """The inventory position :func:`device_anchor` put in ``anchor`` (0 when it is not one of its)."""
    found = re.match(r"dev-(\d+)-", anchor)
    return int(found.group(1)) - 1 if found else 0


def _family_anchor(device_anchor: str, family: str) -> str:
    return f"{device_anchor}--{re.sub(r'[^A-Za-z0-9_-]+', '-', family)}"


def _device_title(device: DeviceReport) -> str:
    title = device.hostname or device.name
    return f"{title} ({device.name})" if device.hostname and device.hostname != device.name else title


def _status_badge(status: DeviceStatus) -> str:
    return f'<span class="badge dev-{_e(status)}">{_e(str(status).upper())}</span>'


def _severity_badge(severity: Severity) -> str:
    return f'<span class="badge sev-{_e(severity)}">{_e(str(severity).upper())}</span>'


def _severity_counts(results: Iterable[CheckResult]) -> Counter[Severity]:
    return Counter(r.severity for r in results if r.status == Status.FAIL)


def _severity_phrase(counts: Counter[Severity]) -> str:
    return ", ".join(f"{counts[s]} {s}" for s in _SEVERITIES_WORST_FIRST if counts[s])


# --- waivers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WaiverView:
    fields: list[tuple[str, str]]  # (label, value), reason/owner/expiry first
    expiry: str | None
    expired: bool


def _waiver_view(result: CheckResult, today: date | None) -> _WaiverView | None:
    """The waiver attached to ``result`` and whether it has expired.

    A waiver attached to a result that is still a failure did not apply: the waivers module reports
    an expired waiver that way. The expiry date is also compared with the report's own date, so a
    stale ``waived`` result cannot hide an expiry either.
    """
    waiver = result.waiver
    if waiver is None:
        return None
    expiry = next((str(waiver[k]) for k in _WAIVER_EXPIRY_KEYS if waiver.get(k)), None)
    expired = str(waiver.get("expired", "")).strip().lower() in _TRUE_WORDS
    if result.status == Status.FAIL:
        expired = True
    if expiry and today is not None:
        try:
            expired = expired or date.fromisoformat(expiry[:10]) < today
        except ValueError:
            pass
    first = ["reason", "owner", *_WAIVER_EXPIRY_KEYS]
    keys = [k for k in first if k in waiver] + sorted(k for k in waiver if k not in first and k != "expired")
    fields = [(k.replace("_", " ").capitalize(), str(waiver[k])) for k in keys]
    return _WaiverView(fields, expiry, expired)


def _waiver_block(view: _WaiverView) -> str:
    if view.expired:
        when = f" on {_e(view.expiry)}" if view.expiry else ""
        head = (
            f'<p class="waiver-head"><span class="badge st-expired">EXPIRED WAIVER</span> '
            f"The waiver expired{when} and no longer applies: this failure counts again.</p>"
        )
        kind = "waiver expired"
    else:
        head = '<p class="waiver-head">Waived until '
        head += f"{_e(view.expiry)}.</p>" if view.expiry else "further notice (no expiry date).</p>"
        kind = "waiver"
    rows = "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in view.fields)
    return f'<div class="{kind}">{head}<dl class="kv">{rows}</dl></div>'


# --- summary ------------------------------------------------------------------------------------


def _summary(report: AuditReport, anchors: list[str], today: date | None) -> str:
    devices = report.devices
    by_status = Counter(d.status for d in devices)
    results = [r for d in devices for r in d.results]
    failures = _severity_counts(results)
    unknown = sum(1 for r in results if r.status == Status.UNKNOWN)
    waived = sum(1 for r in results if r.status == Status.WAIVED)
    # Waivers, not findings: one expired waiver (a device glob, a group) covers many findings. A
    # result carries its waiver's reason, owner and expiry; with the check, that names the waiver.
    expired_waivers = [(r.check, tuple(view.fields)) for r in results if (view := _waiver_view(r, today)) and view.expired]
    expired = len(set(expired_waivers))
    failed_devices = sum(1 for d in devices if any(r.status == Status.FAIL for r in d.results))

    def card(kind: str, label: str, value: int, note: str = "") -> str:
        extra = f'<span class="note">{_e(note)}</span>' if note else ""
        return (
            f'<div class="card {kind}"><span class="value">{value}</span>'
            f'<span class="label">{_e(label)}</span>{extra}</div>'
        )

    device_cards = [
        card("devices", "devices", len(devices), f"{failed_devices} with failures"),
        card("dev-ok", "ok", by_status[DeviceStatus.OK], "every command ran"),
        card("dev-partial", "partial", by_status[DeviceStatus.PARTIAL], "some commands failed"),
        card("dev-error", "error", by_status[DeviceStatus.ERROR], "not audited"),
    ]
    # Only a stopped run has these; every device of its inventory is still listed.
    if by_status[DeviceStatus.INTERRUPTED]:
        device_cards.append(card("dev-interrupted", "interrupted", by_status[DeviceStatus.INTERRUPTED], "run stopped"))
    if by_status[DeviceStatus.NOT_STARTED]:
        device_cards.append(card("dev-not_started", "not started", by_status[DeviceStatus.NOT_STARTED], "run stopped"))
    finding_cards = [card(f"sev-{s}", s, failures[s]) for s in _SEVERITIES_WORST_FIRST]
    finding_cards += [
        card("st-unknown", "unknown", unknown, "evidence missing"),
        card("st-waived", "waived", waived),
        card(
            "st-expired", "expired waivers", expired,
            f"{len(expired_waivers)} finding{_plural(len(expired_waivers))} count as failures again",
        ),  # fmt: skip
    ]
    total_failures = sum(failures.values())
    # Unreachable devices, and those whose running-config was not collected whole (the one rule).
    not_audited = [(d, anchor, d.not_audited_reason()) for d, anchor in zip(devices, anchors, strict=True)]
    error_list = ""
    if any(reason is not None for _, _, reason in not_audited):
        items = "".join(
            f'<li><a href="#{anchor}">{_e(d.name)}</a> ({_e(d.host)}): {_e(reason)}</li>'
            for d, anchor, reason in not_audited
            if reason is not None
        )
        error_list = f'<h3>Devices not audited</h3><ul class="errors">{items}</ul>'
    return (
        '<section class="summary" aria-labelledby="summary-h"><h2 id="summary-h">Fleet summary</h2>'
        f'<h3 class="sr">Devices</h3><div class="cards">{"".join(device_cards)}</div>'
        f'<h3 class="sr">Results</h3><p class="cards-title">{total_failures} failure{_plural(total_failures)}'
        f" across {len(results)} results</p>"
        f'<div class="cards">{"".join(finding_cards)}</div>{error_list}</section>'
    )


# --- per-check roll-up ----------------------------------------------------------------------------

#: Devices named in a roll-up row; the rest are counted ("and 12 more").
ROLLUP_DEVICES_SHOWN = 12


def _rollup(report: AuditReport, anchors: Sequence[str]) -> str:
    """Each check that fails somewhere, worst first, with how many devices it fails on and links to them."""
    failing: dict[str, list[tuple[DeviceReport, str, CheckResult]]] = {}
    for device, anchor in zip(report.devices, anchors, strict=True):
        for result in device.results:
            if result.status == Status.FAIL:
                failing.setdefault(result.check, []).append((device, anchor, result))
    if not failing:
        return ""

    def order(check: str) -> tuple[int, int, str]:
        return (-failing[check][0][2].severity.rank, -len(failing[check]), check)

    rows = []
    for check in sorted(failing, key=order):
        hits = failing[check]
        first = hits[0][2]
        links = ", ".join(
            f'<a href="#{_family_anchor(anchor, result.family)}">{_e(device.name)}</a>'
            for device, anchor, result in hits[:ROLLUP_DEVICES_SHOWN]
        )
        more = len(hits) - ROLLUP_DEVICES_SHOWN
        if more > 0:
            links += f" and {more} more"
        rows.append(
            f'<tr data-check="{_e(check)}" data-severity="{_e(first.severity)}" data-devices="{len(hits)}">'
            f"<td>{_severity_badge(first.severity)}</td><th scope=\"row\">{_e(check)}</th><td>{_e(first.title)}</td>"
            f'<td class="num">{len(hits)}</td><td>{links}</td></tr>'
        )
    return (
        '<section class="rollup" aria-labelledby="rollup-h"><h2 id="rollup-h">Failing checks across the fleet</h2>'
        '<table class="data rollup"><thead><tr><th scope="col">Severity</th><th scope="col">Check</th>'
        '<th scope="col">Title</th><th scope="col">Devices</th><th scope="col">Fails on</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


# --- heat map -----------------------------------------------------------------------------------


#: From this many devices on, the heat map's rows are only data, drawn by the page's script as
#: they come near the screen; below it they are written out as HTML too (the same markup the script
#: draws), so the heat map reads without JavaScript (a mail client, a locked-down viewer). At 499
#: devices, written out against data only: page 0.9 -> 1.9 MB, Chromium as opened 446 -> 449 MB,
#: opening 355 -> 440 ms (bench/README.md); at 2,000 the rows as HTML were what the page had to lose.
HEATMAP_ON_DEMAND_FROM = 500


def _heatmap_row(device: DeviceReport, anchor: str, families: Sequence[str]) -> str:
    """The device's row of the heat map as data (JSON of :func:`_heatmap_row_data`)."""
    return _safe_json(_heatmap_row_data(device, anchor, families))


def _heatmap_row_data(device: DeviceReport, anchor: str, families: Sequence[str]) -> list[object]:
    """The device's row of the heat map as data, which the page's
    script draws when the row comes near the screen (see report.js, ``drawRow``):
    ``[anchor, name, status, fails, worst, model, failing, total, total title, cells]``.

    ``cells`` has one entry per family of ``families``: the family's result counts, ``[critical,
    high, medium, low, info failures, unknown, waived, pass, not applicable]`` without trailing
    zeros (``[]``: no result), from which the script makes the cell's class (its worst status, in
    the order of ``_CELL_KINDS``), label, link and title; ``null`` for a device not audited.
    As HTML, 2,000 rows of 20 linked cells were most of the page's bytes and DOM (4.2 MB,
    ~90,000 nodes), nearly all of them off screen.
    """
    results_of: dict[str, list[CheckResult]] = {}
    for result in device.results:
        results_of.setdefault(result.family, []).append(result)
    cells: list[list[int]] | None = None
    if not device.status.unaudited:
        cells = [_cell_vector(results_of.get(family, [])) for family in families]
    failures = _severity_counts(device.results)
    unknown = sum(1 for r in device.results if r.status == Status.UNKNOWN)
    total_title = _severity_phrase(failures) or "no failures"
    if device.status.unaudited:
        total = "not audited"
        total_title = f"not audited: {device.error or device.status}"
    else:
        total = f"{sum(failures.values())} fail" + (f" · {unknown} unknown" if unknown else "")
        if device.not_audited_reason() is not None:
            total = f"not audited · {total}"
    fails = sum(failures.values())
    worst = max((s for s in failures if failures[s]), key=lambda s: s.rank, default=None)
    # What the script sorts and filters on, too (see report.js): it never reads the cells' text.
    row: list[object] = [
        anchor,
        device.name,
        str(device.status),
        fails,
        str(worst or ""),
        _model(device),
        f"|{'|'.join(_failing_families(device))}|",
        total,
        total_title,
        cells,
    ]
    return row


def _heatmap_row_html(row: Sequence[object], families: Sequence[str]) -> str:
    """The row of :func:`_heatmap_row_data` as HTML: the markup report.js's ``drawRow`` makes of
    it, cell for cell (the script takes a row written out as drawn)."""
    anchor, name, status, _fails, _worst, _model_, _failing, total, total_title, cells = row
    assert isinstance(name, str) and isinstance(status, str)
    out = [
        f'<tr data-anchor="{_e(anchor)}" data-name="{_e(name.lower())}"><th scope="row" data-device="{_e(name)}">'
        f'<a href="#{_e(anchor)}" title="{_e(name)}">{_e(name)}</a> <span class="badge dev-{_e(status)}">'
        f"{_e(status.upper())}</span></th>"
    ]
    for index, family in enumerate(families):
        counts = cells[index] if isinstance(cells, list) else None
        out.append(_heatmap_cell(str(anchor), family, counts))
    out.append(f'<td class="total" title="{_e(total_title)}">{_e(total)}</td></tr>')
    return "".join(out)


def _heatmap_cell(anchor: str, family: str, counts: object) -> str:
    """One cell from its counts (``None``: device not audited), as report.js's ``heatCell``."""
    kind, title, target, fails = "error", f"{family}: not audited", anchor, 0
    if isinstance(counts, list):
        vector = [int(c) for c in counts]
        parts: list[str] = []
        by_severity: list[str] = []
        kind = "none"
        for severity, count in zip(_SEVERITIES_WORST_FIRST, vector, strict=False):
            if count:
                if not fails:
                    kind = f"fail-{severity}"
                fails += count
                by_severity.append(f"{count} {severity}")
        if fails:
            parts.append(f"{fails} fail ({', '.join(by_severity)})")
        for (other, word), count in zip(_OTHER_KINDS, vector[len(_SEVERITIES_WORST_FIRST) :], strict=False):
            if count:
                if kind == "none":
                    kind = other
                parts.append(f"{count} {word}")
        title = f"{family}: {', '.join(parts) or 'no result'}"
        if vector:
            target = _family_anchor(anchor, family)
    label = _CELL_LABELS[kind] + (f'<span class="n">{fails}</span>' if fails else "")
    return f'<td class="cell {kind}"><a href="#{_e(target)}" title="{_e(title)}">{label}</a></td>'


_VECTOR_STATUSES = (Status.UNKNOWN, Status.WAIVED, Status.PASS, Status.NOT_APPLICABLE)
# The cell kinds and words of the statuses after the severities in a cell's counts (report.js: OTHER_KINDS).
_OTHER_KINDS = (("unknown", "unknown"), ("waived", "waived"), ("pass", "pass"), ("na", "not applicable"))


def _cell_vector(results: Sequence[CheckResult]) -> list[int]:
    """A cell's counts as the page's data carries them (see :func:`_heatmap_row`)."""
    severities = _severity_counts(results)
    statuses = Counter(r.status for r in results)
    vector = [severities[s] for s in _SEVERITIES_WORST_FIRST] + [statuses[s] for s in _VECTOR_STATUSES]
    while vector and not vector[-1]:
        vector.pop()
    return vector


def _heatmap(families: Sequence[str], rows: Sequence[str], written: Sequence[str] | None) -> str:
    """The heat map: its rows as data (``rows``, JSON), and as HTML too when ``written`` (the
    same rows, same order) is given."""
    head = "".join(
        f'<th scope="col" data-family="{_e(f)}"><abbr title="{_e(FAMILY_TITLES.get(f.upper(), f))}">'
        f"{_e(f)}</abbr></th>"
        for f in families
    )
    legend = "".join(
        f'<li><span class="swatch {kind}">{_CELL_LABELS[kind]}</span> {_e(_CELL_MEANINGS[kind])}</li>'
        for kind in (*_CELL_KINDS, "error", "none")
    )
    family_legend = "".join(
        f'<li><span class="fam">{_e(f)}</span> {_e(FAMILY_TITLES.get(f.upper(), f))}</li>' for f in families
    )
    # The rows are data (one JSON array, worst first), which the script sorts and filters on. On a
    # large page it draws them as they come near the screen: the table's body is empty without
    # JavaScript, and a note says so. A small page has them written out as well.
    note = (
        '<p class="hint nojs">The heat map is drawn from the data in this page by its script: without'
        " JavaScript, the summary and the roll-up are the report.</p>"
        if written is None
        else ""
    )
    return (
        '<section class="heatmap" aria-labelledby="heatmap-h"><h2 id="heatmap-h">Heat map</h2>'
        '<p class="hint">Worst result per device and check family; the number is how many checks'
        " failed. Select a cell for the findings.</p>"
        f"{note}"
        f'<p class="hint order" id="device-order" aria-live="polite">{_e(WORST_FIRST_TEXT)}</p>'
        '<div class="scroll"><table class="heat"><caption class="sr">Worst result by device and'
        f' check family</caption><thead><tr><th scope="col" id="sort-name">Device</th>{head}'
        f'<th scope="col" id="sort-severity" aria-sort="descending">Total</th></tr></thead>'
        f"<tbody>{''.join(written or ())}</tbody></table></div>"
        f'<script type="application/json" id="heat-data">[{",".join(rows)}]</script>'
        f'<ul class="legend">{legend}</ul><ul class="legend families">{family_legend}</ul></section>'
    )


# --- trend --------------------------------------------------------------------------------------


def _axis_ticks(value: int) -> list[int]:
    """Whole-number y-axis ticks from 0 to at least ``value``: a 1/2/5 × 10^k step, at most 5 steps."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if value <= step * factor * 5:
                size = step * factor
                count = max(1, -(-value // size))
                return [size * i for i in range(count + 1)]
        step *= 10


def _short_date(stamp: str) -> str:
    return stamp[:10] if re.match(r"\d{4}-\d{2}-\d{2}", stamp) else stamp[:16]


def _trend(points: Sequence[TrendPoint]) -> str:
    if len(points) < 2:
        return ""
    ordered = sorted(points, key=lambda p: p.run_id)
    shown = ordered[-MAX_TREND_POINTS:]
    counts = [{Severity(k): v for k, v in p.failures.items()} for p in shown]
    totals = [sum(c.values()) for c in counts]
    ticks = _axis_ticks(max(totals))
    top = ticks[-1]
    width, height = 960, 320
    left, right, upper, lower = 56, 16, 20, 64
    plot_w, plot_h = width - left - right, height - upper - lower
    slot = plot_w / len(shown)
    bar = max(2.0, min(48.0, slot * 0.7))
    label_every = max(1, -(-len(shown) // 12))

    def y(value: float) -> float:
        return upper + plot_h - value / top * plot_h

    parts = [
        f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
        ' role="img" aria-labelledby="trend-title trend-desc">',
        '<title id="trend-title">Failures by severity over runs</title>',
        f'<desc id="trend-desc">Stacked bars, one per run from run {shown[0].run_id} to run'
        f" {shown[-1].run_id}; totals {', '.join(str(t) for t in totals)}.</desc>",
    ]
    for value in ticks:
        ty = y(value)
        parts.append(
            f'<line class="grid" x1="{left}" y1="{ty:.1f}" x2="{width - right}" y2="{ty:.1f}"/>'
            f'<text class="tick" x="{left - 8}" y="{ty + 4:.1f}" text-anchor="end">{value}</text>'
        )
    parts.append(
        f'<text class="axis" transform="translate(14 {upper + plot_h / 2:.1f}) rotate(-90)"'
        ' text-anchor="middle">failures</text>'
    )
    for index, (point, count, total) in enumerate(zip(shown, counts, totals, strict=True)):
        cx = left + slot * index + slot / 2
        base = 0
        for severity in _SEVERITIES_WORST_FIRST:
            amount = count.get(severity, 0)
            if not amount:
                continue
            top_y, bottom_y = y(base + amount), y(base)
            parts.append(
                f'<rect class="seg sev-{severity}" x="{cx - bar / 2:.1f}" y="{top_y:.1f}"'
                f' width="{bar:.1f}" height="{bottom_y - top_y:.1f}" fill="{_SEVERITY_FILL[severity]}">'
                f"<title>run {point.run_id} ({_e(point.started_at)}): {amount} {severity}</title></rect>"
            )
            base += amount
        if len(shown) <= 20:
            parts.append(
                f'<text class="total" x="{cx:.1f}" y="{y(total) - 4:.1f}" text-anchor="middle">{total}</text>'
            )
        if index % label_every == 0 or index == len(shown) - 1:
            label_y = upper + plot_h + 18
            parts.append(
                f'<text class="tick" x="{cx:.1f}" y="{label_y}" text-anchor="middle">'
                f'<tspan x="{cx:.1f}">#{point.run_id}</tspan>'
                f'<tspan x="{cx:.1f}" dy="15">{_e(_short_date(point.started_at))}</tspan></text>'
            )
    parts.append(
        f'<line class="axis-line" x1="{left}" y1="{upper + plot_h}" x2="{width - right}"'
        f' y2="{upper + plot_h}"/>'
    )
    parts.append(
        f'<text class="axis" x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
        "run (id and start date)</text></svg>"
    )
    legend = "".join(
        f'<li><span class="swatch sev-{s}">{_e(str(s).upper())}</span></li>' for s in _SEVERITIES_WORST_FIRST
    )
    head = "".join(f'<th scope="col">{_e(s)}</th>' for s in _SEVERITIES_WORST_FIRST)
    rows = "".join(
        f'<tr><th scope="row">#{p.run_id}</th><td>{_time(p.started_at)}</td>'
        + "".join(f"<td>{c.get(s, 0)}</td>" for s in _SEVERITIES_WORST_FIRST)
        + f"<td>{t}</td></tr>"
        for p, c, t in zip(shown, counts, totals, strict=True)
    )
    note = (
        f'<p class="hint">The last {len(shown)} of {len(ordered)} runs.</p>'
        if len(ordered) > len(shown)
        else ""
    )
    return (
        '<section class="trend" aria-labelledby="trend-h"><h2 id="trend-h">Failures over runs</h2>'
        f'{note}<div class="chart">{"".join(parts)}</div><ul class="legend">{legend}</ul>'
        '<details class="trend-data"><summary>Trend data</summary><table class="data">'
        f'<thead><tr><th scope="col">Run</th><th scope="col">Started</th>{head}<th scope="col">total</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></details></section>"
    )


# --- one device ---------------------------------------------------------------------------------


def _fact_rows(device: DeviceReport) -> tuple[tuple[str, str], ...]:
    facts = device.facts

    def fact(value: object) -> str:
        return "unknown" if value is None or value == "" else str(value)

    cme = facts.get("cme_version")
    cme_text = str(cme) if cme else ("not configured" if facts.get("cme_configured") is False else "unknown")
    rows: list[tuple[str, str]] = [("Device", device.name), ("Host", device.host)]
    if device.hostname or facts or not device.status.unaudited:
        rows += [
            ("Hostname", device.hostname or fact(facts.get("hostname"))),
            ("Model", fact(facts.get("model"))),
            ("IOS", fact(facts.get("ios_version"))),
            ("CME", cme_text),
            (
                "Ephones",
                f"{fact(facts.get('ephones_configured'))} configured,"
                f" {fact(facts.get('ephones_registered'))} registered",
            ),
        ]
        if facts.get("uptime"):
            rows.append(("Uptime", str(facts["uptime"])))
    if device.ssh is not None:
        rows += [
            ("SSH server", device.ssh.server_version),
            ("SSH host key", device.ssh.host_key_text),
            ("SSH agreed", device.ssh.negotiated_text),
            ("SSH offered", device.ssh.offered_text),
        ]
    rows.append(("Status", str(device.status)))
    return tuple(rows)


@dataclass(frozen=True)
class DevicePart:
    """One device's share of the page: its id (the heat map's cells link to it), the short section
    the page carries as HTML (title, summary, error), its heat map row for the columns ``families``
    (made again when the page has other columns), and ``details``: its facts and findings as plain
    strings in nested tuples (see :func:`_details`), which the page's script draws on demand."""

    anchor: str
    html: str
    heatmap_row: str
    families: tuple[str, ...]
    details: DeviceDetails | None = None


# A finding as the page's script reads it: nested tuples whose leaves are strings (each becomes an
# index into the page's one table of distinct strings, see _pack); see _result_data.
FindingData = tuple[object, ...]
# (family code, its title, its id suffix, its findings)
FamilyData = tuple[str, str, str, tuple[FindingData, ...]]


@dataclass(frozen=True)
class DeviceDetails:
    """What the page's script draws into a device's section, in the order and grouping shown:
    facts, the damage note, commands that did not complete (command, status, detail, time), the
    groups of failures, unknown and waived results (css class, heading, families), then the quiet
    results (pass, n/a) by family."""

    facts: tuple[tuple[str, str], ...]
    damage: str
    commands: tuple[tuple[str, str, str, str], ...]
    groups: tuple[tuple[str, str, tuple[FamilyData, ...]], ...]
    quiet: tuple[FamilyData, ...]


def device_html(device: DeviceReport, anchor: str, today: date | None) -> DevicePart:
    """One device's section and heat map row, with ``anchor`` as its id; ``today`` dates its
    waivers' expiry."""
    families = _families_of([device])
    return DevicePart(
        anchor,
        _device_section(device, anchor),
        _heatmap_row(device, anchor, families),
        families,
        _details(device, today),
    )


def _device_section(device: DeviceReport, anchor: str) -> str:
    """What the page carries of a device as HTML: its title, summary and error; the rest is drawn
    into ``div.details`` by the script (see report.js, ``renderDevice``)."""
    parts = [
        f'<section class="device {_e(device.status)}" id="{anchor}" data-name="{_e(device.name.lower())}"'
        f' aria-labelledby="{anchor}-h">',
        f'<h2 id="{anchor}-h">{_e(_device_title(device))} {_status_badge(device.status)}</h2>',
        f'<p class="dsum">{_e(device_summary(device))}</p>',
    ]
    unknown = device.unknown_summary()
    if unknown is not None:
        parts.append(f'<p class="dsum unknown-why">{_e("Unknown: " + unknown.partition(": ")[2])}</p>')
    if device.error:
        parts.append(f'<p class="error-msg"><strong>Error:</strong> {_e(device.error)}</p>')
    parts.append('<div class="details"><p class="nojs">Facts and findings need JavaScript.</p></div>')
    parts.append('<p class="top"><a href="#heatmap-h">Back to the heat map</a></p></section>')
    return "\n".join(parts)


def _details(device: DeviceReport, today: date | None) -> DeviceDetails:
    def family(code: str, results: Iterable[FindingData]) -> FamilyData:
        return (code, FAMILY_TITLES.get(code.upper(), ""), re.sub(r"[^A-Za-z0-9_-]+", "-", code), tuple(results))

    groups: list[tuple[str, str, tuple[FamilyData, ...]]] = []
    for css, heading, status, worst in (
        ("failures", "Failures", Status.FAIL, True),
        ("unknowns", "Unknown", Status.UNKNOWN, False),
        ("waived", "Waived", Status.WAIVED, True),
    ):
        members = [r for r in device.results if r.status == status]
        if members:
            groups.append((css, heading, tuple(
                family(code, (_result_data(r, today) for r in sorted(rs, key=lambda r: (-r.severity.rank, r.check))))
                for code, rs in by_family(members, worst_first=worst)
            )))  # fmt: skip
    quiet = [r for r in device.results if r.status in (Status.PASS, Status.NOT_APPLICABLE)]
    quiet_families = tuple(
        family(code, (_quiet_data(r) for r in sorted(rs, key=lambda r: r.check)))
        for code, rs in by_family(quiet, worst_first=False)
    )
    not_ok = sorted(
        (c for c in device.commands if c.status != CommandStatus.OK),
        key=lambda c: (_COMMAND_ORDER.get(c.command, len(_COMMAND_ORDER)), c.command),
    )
    commands = tuple((c.command, str(c.status).upper(), c.error or "", f"{c.duration_s:.2f} s") for c in not_ok)
    return DeviceDetails(_fact_rows(device), damage_note(device) or "", commands, tuple(groups), quiet_families)


def _kind(result: CheckResult) -> str:
    return "na" if result.status == Status.NOT_APPLICABLE else str(result.status)


def _quiet_data(result: CheckResult) -> FindingData:
    return (_kind(result), str(result.severity), result.check, result.title, result.message)


def _result_data(result: CheckResult, today: date | None) -> FindingData:
    """A finding: kind, severity, check, title, message, waiver (``()`` or expired ("1" or ""),
    expiry, (label, value) pairs), evidence lines (where, text), remediation, guide reference."""
    view = _waiver_view(result, today)
    waiver: tuple[object, ...] = ()
    if view is not None:
        waiver = ("1" if view.expired else "", view.expiry or "", tuple(view.fields))
    evidence = tuple(
        (f"{item.command}:{item.line}:" if item.line is not None else f"{item.command}:", item.text)
        for item in result.evidence
    )
    remediation = "\n".join(result.remediation) if result.status in (Status.FAIL, Status.WAIVED) else ""
    return (*_quiet_data(result), waiver, evidence, remediation, result.reference or "")


def _pack(parts: Sequence[DevicePart]) -> str:
    """Every device's details as one JSON document for the page: ``s``, the distinct strings; ``r``,
    the distinct findings (the same finding text on a thousand routers is written once), with
    strings as indices into ``s``; ``d``, each device's details by its anchor, findings as indices
    into ``r``. Made safe to sit in a ``<script>`` element: no ``<`` is left in it."""
    packer = DetailsPacker()
    entries = [entry for entry in (packer.add(part) for part in parts) if entry is not None]
    return packer.head() + ",".join(entries) + packer.tail()


class DetailsPacker:
    """:func:`_pack` a device at a time: :meth:`add` each part in order (keeping its entry of ``d``
    as text), then write :meth:`head`, the entries joined by ``,``, and :meth:`tail`. Only the
    distinct strings and findings stay here, so a fleet can spool the entries to disk."""

    def __init__(self) -> None:
        self.strings: dict[str, int] = {}
        self.findings: dict[object, int] = {}

    def _index(self, node: object) -> object:
        if isinstance(node, str):
            return self.strings.setdefault(node, len(self.strings))
        assert isinstance(node, tuple), node
        return tuple(self._index(item) for item in node)

    def _families(self, of: Sequence[FamilyData]) -> list[object]:
        findings, index = self.findings, self._index
        return [
            [index(code), index(title), index(suffix), [findings.setdefault(index(r), len(findings)) for r in results]]
            for code, title, suffix, results in of
        ]

    def add(self, part: DevicePart) -> str | None:
        """The part's ``"anchor":[...]`` entry of ``d`` (None when it carries no details)."""
        if part.details is None:
            return None
        details, index = part.details, self._index
        entry = [
            index(details.facts),
            index(details.damage),
            index(details.commands),
            [[index(css), index(heading), self._families(members)] for css, heading, members in details.groups],
            self._families(details.quiet),
        ]
        return _safe_json({part.anchor: entry})[1:-1]

    def head(self) -> str:
        """The document up to the first entry of ``d``."""
        return _safe_json({"s": list(self.strings), "r": list(self.findings), "d": {}})[: -len("}}")]

    @staticmethod
    def tail() -> str:
        return "}}"


def _safe_json(data: object) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c")


#: What the page says of its default device order (the script says the same when it goes back to it).
WORST_FIRST_TEXT = (
    "Devices worst first: the most severe open failure, then the most failures, then devices not"
    " audited before clean ones."
)
_STATUS_FILTERS = (
    ("failures", "has failures"),
    *((str(s), str(s).replace("_", " ")) for s in _STATUS_RANK),
)


def _select(ident: str, label: str, options: Sequence[tuple[str, str]]) -> str:
    body = "".join(f'<option value="{_e(value)}">{_e(text)}</option>' for value, text in options)
    return f'<label>{_e(label)} <select id="{ident}">{body}</select></label>'


def _controls(devices: Sequence[DeviceReport]) -> str:
    # Hidden until the script runs: without JavaScript the page is complete, only static.
    boxes = "".join(
        f'<label class="filter {kind}"><input type="checkbox" value="{kind}" checked> {label}</label>'
        for kind, label in (
            *((f"fail-{s}", str(s).capitalize()) for s in _SEVERITIES_WORST_FIRST),
            ("unknown", "Unknown"),
            ("waived", "Waived"),
            ("pass", "Pass"),
            ("na", "N/A"),
        )
    )
    statuses = Counter(str(d.status) for d in devices)
    failed = sum(1 for d in devices if any(r.status == Status.FAIL for r in d.results))
    status_options = [("", "any")] + [
        (value, f"{text} ({failed if value == 'failures' else statuses[value]})") for value, text in _STATUS_FILTERS
    ]
    models = Counter(_model(d) for d in devices)
    # "-": devices whose model is not known (not audited, or no 'show version').
    model_options = [("", "any")] + [(m, f"{m} ({models[m]})") for m in sorted(models, key=str.lower) if m]
    if models[""]:
        model_options.append(("-", f"unknown ({models['']})"))
    families = Counter(f for d in devices for f in _failing_families(d))
    family_options = [("", "any")] + [
        (f, f"{f} {FAMILY_TITLES.get(f.upper(), '')} ({families[f]})".replace("  ", " "))
        for f in sorted(families, key=family_order)
    ]
    sort_options = [
        ("severity", "worst first"),
        ("name", "name"),
        ("status", "status"),
        ("inventory", "inventory order"),
    ]
    return (
        '<nav id="controls" class="controls" hidden aria-label="Filters">'
        f"<fieldset><legend>Show results</legend>{boxes}</fieldset>"
        '<fieldset class="devices"><legend>Devices</legend>'
        + _select("device-sort", "Sort", sort_options)
        + _select("device-status", "Status", status_options)
        + _select("device-model", "Model", model_options)
        + _select("device-family", "Failing in", family_options)
        + '<label class="search">Name'
        ' <input type="search" id="device-filter" placeholder="name contains…"></label>'
        '<output id="device-count" aria-live="polite"></output></fieldset>'
        '<button type="button" id="show-all" title="Draw every device\'s findings, to search or print'
        ' them all">Show all details</button>'
        '<button type="button" id="expand-all">Expand all</button>'
        '<button type="button" id="collapse-all">Collapse all</button>'
        "</nav>"
    )


__all__ = [
    "HEATMAP_ON_DEMAND_FROM",
    "MAX_TREND_POINTS",
    "WORST_FIRST_TEXT",
    "TrendPoint",
    "heatmap_families",
    "render_html",
    "worst_first",
    "worst_first_key",
]


_DEVICE_HEADING = re.compile(
    r'(<section class="device [^"]*" id="[^"]*" data-name="([^"]*)"[^>]*>\n<h2 [^>]*>.*?</h2>)(\n<p class="fix-plan">.*?</p>)?'
)


def link_fix_plans(page: str, plans: Mapping[str, str]) -> str:
    """``page`` with a link under each device's heading to its fix plan (``cmelive fix RUN_DIR``
    writes them after the run: device name -> the plan's path relative to the page). A link
    there from an earlier ``cmelive fix`` is replaced."""
    by_key = {_e(name.lower()): href for name, href in plans.items()}

    def link(match: re.Match[str]) -> str:
        href = by_key.get(match.group(2))
        if href is None:
            return match.group(0)
        rollback = re.sub(r"\.txt$", "", href) + ".rollback.txt"
        return (f'{match.group(1)}\n<p class="fix-plan"><a href="{_e(href)}">Fix plan</a> \u00b7 '
                f'<a href="{_e(rollback)}">its rollback</a></p>')  # fmt: skip

    return _DEVICE_HEADING.sub(link, page)
