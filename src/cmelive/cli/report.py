"""``cmelive report --db DB --out DIR``: the fleet-wide reports from a (central) run history.

The latest finished run of every scope (one per region, when regional collectors share one
PostgreSQL history) makes one fleet: every device's latest result, in every report format, with
the trend of the whole fleet's failures after each complete run (every scope counted by its latest
complete run at that point, so one region's run moves only its share). A device name
recorded in several scopes (two regions' ``r1``) is reported once per scope as ``SCOPE/NAME``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from cmelive.cli import common
from cmelive.errors import HistoryError, UsageError


def report(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the reports (created 0700 if needed).")],
    db: common.DbOpt = None,
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", "-f", help="Only these formats (repeatable): text, json, csv, sarif, junit, html."),
    ] = None,
    trend_runs: Annotated[
        int, typer.Option("--trend-runs", min=1, help="Complete runs the fleet trend shows (newest), of every scope.")
    ] = 30,
) -> None:
    """Write the fleet-wide reports from the history: each scope's latest run, and the trend.

    A device name found in several scopes is shown as SCOPE/NAME in each of them.
    """
    from cmelive import api
    from cmelive.history import History, default_db_path
    from cmelive.output_files import own_dir
    from cmelive.report.files import report_parts, write_reports
    from cmelive.report.html import TrendPoint

    kinds = list(formats) if formats else list(api.FORMATS)
    for kind in kinds:
        if kind not in api.FORMATS:
            raise UsageError(f"unknown report format {kind!r} (one of: {', '.join(api.FORMATS)})")
    with History(db if db is not None else default_db_path(), create=False) as store:
        runs, fleet, shared_names = store.load_latest()
        if not runs:
            raise HistoryError(str(store.path), "no finished runs recorded yet")
        trend = [TrendPoint(p.run_id, p.started_at, dict(p.failures)) for p in store.fleet_trend(trend_runs)]
    handle, _ = own_dir(out, what="report directory")
    handle.close()
    problems: list[str] = []
    parts = report_parts(fleet, today=date.today(), dir_names={}, snapshots_dir="snapshots")
    written = write_reports(out, fleet, parts, problems=problems, kinds=kinds, trend=trend)
    scopes = ", ".join(f"run {run.id} ({run.devices} devices, {run.status}, scope {run.scope})" for run in runs)
    typer.echo(f"{len(fleet.devices)} devices from {len(runs)} scopes: {scopes}")
    if shared_names:
        typer.echo(f"named in several scopes, reported as SCOPE/NAME: {', '.join(shared_names)}")
    for kind in kinds:
        if kind in written:
            typer.echo(f"{kind}: {written[kind]}")
    for problem in problems:
        typer.echo(f"cmelive: warning: {problem}", err=True)
