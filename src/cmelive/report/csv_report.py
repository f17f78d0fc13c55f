"""The CSV report: one row per device × check, made to open cleanly in a spreadsheet.

Choices, and why:

- The csv module's default ("excel") dialect: comma-separated, fields quoted only when needed
  (``QUOTE_MINIMAL``), rows ended by ``\\r\\n`` as RFC 4180 says. Excel, LibreOffice, Google
  Sheets and ``csv.DictReader`` all read it back to the same cells.
- Evidence lines (``command:line: text``) and remediation lines are joined with a newline inside
  their cell, not with a separator such as `` | ``: remediation is an IOS config block whose
  indentation matters and which people copy into a router, and a newline cannot be confused with a
  ``|`` inside a config line. Spreadsheets show such cells as wrapped text.
- Formula injection (CSV injection): a spreadsheet evaluates a cell starting with ``=``, ``+``,
  ``-`` or ``@`` (and, in some, tab or carriage return) as a formula. Evidence, messages and device
  names come from routers and inventories, so every cell starting with one of those characters gets
  a leading ``'`` (OWASP's advice): the spreadsheet then shows it as text. A reader of the CSV
  sees that ``'``; the JSON report is the lossless format. IOS lines starting with ``no`` are
  untouched; a remediation cell never starts with ``-`` in practice, but is guarded all the same.
- The waiver columns are filled for a ``waived`` row, and for a ``fail`` row whose waiver expired
  (the failure counts again; the columns say which waiver lapsed and when).
- Devices that could not be audited get one row: ``device_status`` and ``status`` are ``error``
  and ``message`` holds the error.
- A UTF-8 byte-order mark is not part of the text returned; whoever writes the file should use
  :data:`CSV_ENCODING` so that Excel recognises UTF-8 (Python's ``utf-8-sig`` reader, LibreOffice,
  Google Sheets and pandas all skip the mark).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from cmelive.checks.base import CheckResult
from cmelive.report.model import AuditReport, DeviceReport, format_evidence, waiver_fields

COLUMNS: tuple[str, ...] = (
    "device",
    "host",
    "hostname",
    "device_status",
    "check",
    "title",
    "family",
    "severity",
    "status",
    "message",
    "evidence",
    "remediation",
    "reference",
    "waiver_reason",
    "waiver_owner",
    "waiver_expires",
)

#: The encoding to write report.csv with: UTF-8 with a byte-order mark, which Excel needs to
#: read non-ASCII text as UTF-8.
CSV_ENCODING = "utf-8-sig"

#: First characters that make a spreadsheet treat a cell as a formula (OWASP's CSV-injection list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def render_csv(report: AuditReport, *, device_parts: Sequence[str] | None = None) -> str:
    """``report`` as CSV text: a header row, then one row per device × check result.

    ``device_parts`` are the devices' :func:`device_csv`, when already made (a fleet makes them
    while the run goes on).
    """
    parts = device_parts if device_parts is not None else [device_csv(d) for d in report.devices]
    return _csv_text([COLUMNS]) + "".join(parts)


def device_csv(device: DeviceReport) -> str:
    """One device's rows as CSV text, formulas defused."""
    return _csv_text([defuse_formula(row[column]) for column in COLUMNS] for row in device_rows(device))


def _csv_text(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)  # the default "excel" dialect: QUOTE_MINIMAL, \r\n
    return buffer.getvalue()


def device_rows(device: DeviceReport) -> list[dict[str, str]]:
    """One device's rows, as column -> cell text (before formula defusing)."""
    base = {
        "device": device.name,
        "host": device.host,
        "hostname": device.hostname or "",
        "device_status": str(device.status),
    }
    rows: list[dict[str, str]] = []
    if device.status.unaudited:  # error, interrupted, not_started: one row saying why
        error_row = dict.fromkeys(COLUMNS, "")
        error_row.update(base, status=str(device.status), message=device.error or str(device.status))
        rows.append(error_row)
    # An errored device normally has no results; any it does have (kept from a partial
    # collection) are not dropped.
    for result in device.results:
        rows.append({**base, **_result_cells(result)})
    return rows


def _result_cells(result: CheckResult) -> dict[str, str]:
    reason, owner, expires = waiver_fields(result.waiver)
    return {
        "check": result.check,
        "title": result.title,
        "family": result.family,
        "severity": str(result.severity),
        "status": str(result.status),
        "message": result.message,
        "evidence": "\n".join(format_evidence(e) for e in result.evidence),
        "remediation": "\n".join(result.remediation),
        "reference": result.reference,
        "waiver_reason": reason,
        "waiver_owner": owner,
        "waiver_expires": expires,
    }


def defuse_formula(cell: str) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would otherwise evaluate it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell
