"""``cmelive replay DIR``: audit a saved snapshot — the same report as live, no router needed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmelive import api
from cmelive.checks.base import Severity
from cmelive.cli import common
from cmelive.logs import configure_logging
from cmelive.report.model import AuditReport


def replay(
    snapshot_dirs: Annotated[
        list[Path],
        typer.Argument(help="Snapshot directories (show_*.txt files, optionally meta.json).", show_default=False),
    ],
    report_format: common.FormatOpt = common.ReportFormat.text,
    output: common.OutputOpt = None,
    out_dir: common.OutDirOpt = None,
    waivers_file: common.WaiversOpt = None,
    fail_on: common.FailOn = Severity.HIGH,
    fail_on_unknown: common.FailOnUnknown = False,
    exit_zero: common.ExitZero = False,
    no_color: common.NoColor = False,
    policy_file: common.PolicyOpt = None,
    verbose: common.Verbose = 0,
) -> None:
    """Audit saved snapshots, as if the routers were live."""
    configure_logging(verbose)
    policy = common.read_policy(policy_file)
    waivers = common.load_waivers_opt(waivers_file)
    common.check_out_dir(out_dir)
    # Read every directory first: a bad one is reported before any output is produced.
    snapshots = [api.read_snapshot(directory) for directory in snapshot_dirs]
    report = common.waive(AuditReport([api.audit_snapshot(snapshot, policy=policy) for snapshot in snapshots]), waivers)
    common.emit_report(
        report,
        report_format,
        output,
        out_dir=out_dir,
        snapshot_dirs=list(snapshot_dirs),
        color=common.color_wanted(no_color),
    )
    raise typer.Exit(common.exit_code(report, fail_on, fail_on_unknown=fail_on_unknown, exit_zero=exit_zero))
