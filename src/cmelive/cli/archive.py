"""``cmelive archive DIR --out RUN_DIR``: audit an Oxidized or RANCID config archive as a fleet.

Each file of the archive is a device (see :mod:`cmelive.collect.archive`); the run is a fleet run
whose collector reads files instead of logging in: the same run directory (every report format,
masked snapshots, the log), the same history (``cmelive history``, ``cmelive diff``), the same
summary and exit codes as ``cmelive fleet``. Checks that need live state are ``unknown``
("config archive: no live state"): ``--fail-on-unknown`` would fail every archive run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmelive.checks.base import Severity
from cmelive.cli import common
from cmelive.cli.fleet import _configure_logging, judges_forked_first, run_then_exit
from cmelive.errors import UsageError
from cmelive.fleet_defaults import LOG_FILE
from cmelive.report.metrics import check_metrics_path


@judges_forked_first
def archive(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Config archive: Oxidized (one file per device, optionally in group directories) or "
            "RANCID (<group>/configs/<device>); a git checkout's .git is ignored.",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Run directory to create (new or empty): reports, snapshots/<device>/, log."),
    ],
    db: common.DbOpt = None,
    no_history: common.NoHistoryOpt = False,
    waivers_file: common.WaiversOpt = None,
    policy_file: common.PolicyOpt = None,
    judges: Annotated[
        int | None,
        typer.Option("--judges", min=0, help="Worker processes that audit the configs (0: in this process)."),
    ] = None,
    fail_on: common.FailOn = Severity.HIGH,
    fail_on_unknown: common.FailOnUnknown = False,
    exit_zero: common.ExitZero = False,
    metrics: common.MetricsOpt = None,
    no_color: common.NoColor = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary (reports are still written).")] = False,
    group_readable: Annotated[
        bool, typer.Option("--group-readable", help="Make the finished run directory readable by your group.")
    ] = False,
    verbose: common.Verbose = 0,
) -> None:
    """Audit the configs Oxidized or RANCID already collect, as a fleet run (no router contacted).

    Devices are named after the files. Only config checks are judged; the rest: "config archive: no live state".
    """
    from cmelive import fleet as fleet_runner
    from cmelive.collect.archive import ArchiveCollector, archive_hosts
    from cmelive.history import History, default_db_path
    from cmelive.waivers import load_waivers

    if no_history and db is not None:
        raise UsageError("--db and --no-history contradict each other: give one")
    if metrics is not None:
        check_metrics_path(metrics)
    hosts = archive_hosts(directory)
    policy = common.read_policy(policy_file)
    waivers = load_waivers(waivers_file) if waivers_file is not None else []
    fleet_runner.prepare_run_dir(out)
    history = None if no_history else History(db if db is not None else default_db_path())
    log_file = _configure_logging(verbose, out / LOG_FILE)
    root = directory.resolve()
    run_then_exit(
        lambda: fleet_runner.run_fleet(
            hosts,
            out_dir=out,
            timeout=30.0,  # unused: nothing is contacted
            retries=0,
            judge_processes=judges,
            base_policy=policy,
            waivers=waivers,
            history=history,
            inventory_label=str(root),
            collector_factory=lambda: ArchiveCollector(root),
        ),
        command="archive",
        out=out,
        history=history,
        log_file=log_file,
        quiet=quiet,
        group_readable=group_readable,
        fail_on=fail_on,
        fail_on_unknown=fail_on_unknown,
        exit_zero=exit_zero,
        metrics=metrics,
        no_color=no_color,
    )
