"""Every report format, rendered and written by one code path for ``fleet``, ``audit`` and ``replay``.

A fleet run makes each device's part of each report while the run goes on (see
:func:`cmelive.judging.render_parts`); ``audit`` and ``replay`` make the same parts at the end.
Either way the reports are those parts joined here, and every file goes through
:mod:`cmelive.output_files` (atomic, 0600, never through a symlink).
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path

from cmelive import output_files
from cmelive.fleet_defaults import REPORT_FILES, SNAPSHOTS_DIR
from cmelive.judging import DeviceParts, render_parts
from cmelive.report.csv_report import CSV_ENCODING, render_csv
from cmelive.report.html import TrendPoint, device_anchor, render_html
from cmelive.report.json_report import render_json
from cmelive.report.junit import render_junit
from cmelive.report.model import AuditReport
from cmelive.report.sarif import render_sarif
from cmelive.report.text import render_text

log = logging.getLogger(__name__)

#: Written next to the others by ``audit``/``replay --out`` (``fleet`` prints its summary instead).
TEXT_FILE = "report.txt"
#: The formats ``--format`` accepts, in the order ``--out`` writes them.
FORMATS = ("text", *REPORT_FILES)


def encoding_of(kind: str) -> str:
    return CSV_ENCODING if kind == "csv" else "utf-8"


def report_parts(
    report: AuditReport, *, today: date, dir_names: Mapping[str, str] | None = None, snapshots_dir: str = SNAPSHOTS_DIR
) -> list[DeviceParts]:
    """Each device's part of each report, as a fleet's judges make them."""
    names = dir_names or {}
    return [
        render_parts(
            device, snapshots_dir=snapshots_dir, device_dir=names.get(device.name, device.name),
            anchor=device_anchor(index, device.name), today=today,
        )
        for index, device in enumerate(report.devices)
    ]


def renderers(
    report: AuditReport,
    parts: Sequence[DeviceParts],
    *,
    trend: Sequence[TrendPoint] = (),
    dir_names: Mapping[str, str] | None = None,
    snapshots_dir: str = SNAPSHOTS_DIR,
    text_width: int = 80,
    color: bool = False,
) -> dict[str, Callable[[], str]]:
    """Format name -> a function rendering ``report`` in it from the devices' ``parts``."""
    return {
        "text": lambda: render_text(report, width=text_width, color=color),
        "json": lambda: render_json(report, device_parts=[p.json for p in parts]),
        "csv": lambda: render_csv(report, device_parts=[p.csv for p in parts]),
        "sarif": lambda: render_sarif(
            report, snapshots_dir=snapshots_dir, device_dirs=dir_names or {}, device_parts=[p.sarif for p in parts]
        ),
        "junit": lambda: render_junit(report, device_parts=[p.junit for p in parts]),
        "html": lambda: render_html(report, trend=trend, device_parts=[p.html for p in parts]),
    }


def write_reports(
    out_dir: Path,
    report: AuditReport,
    parts: Sequence[DeviceParts],
    *,
    problems: list[str],
    kinds: Sequence[str] = tuple(REPORT_FILES),
    trend: Sequence[TrendPoint] = (),
    dir_names: Mapping[str, str] | None = None,
    snapshots_dir: str = SNAPSHOTS_DIR,
) -> dict[str, Path]:
    """Write each format of ``kinds`` to its file in ``out_dir``; one renderer's bug costs only its
    own file (said in ``problems``); a full disk raises :class:`~cmelive.errors.WriteError`."""
    render = renderers(report, parts, trend=trend, dir_names=dir_names, snapshots_dir=snapshots_dir)
    written: dict[str, Path] = {}
    try:
        for kind in kinds:
            path = out_dir / file_name(kind)
            try:
                text = render[kind]()
            except Exception as exc:  # one renderer's bug must not cost the other reports
                log.exception("rendering %s failed", path.name)
                problems.append(f"{path.name} not written: {type(exc).__name__}: {exc}")
                continue
            # Whole or not at all, 0600, never through a symlink: a reader (or a crash) never sees half a report.
            output_files.write_file(
                path, text, doing="cannot write report", encoding=encoding_of(kind), remove_on_failure=True
            )
            written[kind] = path
    finally:
        # ``audit``/``replay --out`` may reuse a directory: a report of an earlier run left under a
        # name this run did not write would be read as this run's verdict (a fleet's is always new).
        _discard_stale(out_dir, [file_name(kind) for kind in kinds if kind not in written])
    return written


def file_name(kind: str) -> str:
    return TEXT_FILE if kind == "text" else REPORT_FILES[kind]


def _discard_stale(out_dir: Path, names: Sequence[str]) -> None:
    if not names:
        return
    try:
        with output_files.OutputDir.open(out_dir) as directory:
            for name in names:
                found = directory.lstat(name)
                if found is not None and stat.S_ISREG(found.st_mode):
                    directory.discard(name)
    except OSError as exc:  # the error being raised, if any, says more; this one goes to the log
        log.warning("%s: could not remove the earlier reports: %s", out_dir, exc)


__all__ = ["FORMATS", "TEXT_FILE", "encoding_of", "file_name", "renderers", "report_parts", "write_reports"]
