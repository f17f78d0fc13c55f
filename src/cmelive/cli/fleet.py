"""``cmelive fleet INVENTORY --out RUN_DIR``: audit every router of an inventory, concurrently.

The command only maps options to :func:`cmelive.fleet.run_fleet` and shows what it did: a
progress bar on a terminal (stderr: devices done, percentage, elapsed time and ETA, devices not
audited and failing so far), then a summary table (stdout) fitted to the terminal's width, or to
$COLUMNS or 100 columns when stdout is a pipe or a file (plain text there; colour only on a
terminal, never with --no-color or NO_COLOR). Its exit code follows the
single-router audit: 3 when any device could not be audited, else 1 when a failure (waived ones
excepted) is at or above ``--fail-on``, else 0; 2 for bad input or when another run holds the
history database; 130 when interrupted by Ctrl-C or SIGTERM: the run stops within a bounded time
(see :mod:`cmelive.fleet`: a grace of :data:`~cmelive.fleet.INTERRUPT_GRACE_S` for the devices in
flight, then they are abandoned) and its reports still list every device of the inventory.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
import textwrap
import threading
from types import FrameType
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, ParamSpec, TextIO

import typer

from cmelive.checks.base import Severity, Status
from cmelive.cli import common, exit_codes
from cmelive.collect.limits import DEFAULT_COMMAND_DEADLINE_S, DEFAULT_MAX_OUTPUT
from cmelive.commands import RUNNING_CONFIG, CommandStatus
from cmelive.errors import UsageError
from cmelive.fleet_defaults import DEFAULT_RETRIES, DEFAULT_WORKERS, LOG_FILE, SNAPSHOTS_DIR
from cmelive.logs import MaskingFilter, PrivateLogFile
from cmelive.output_files import share_with_group
from cmelive.report.metrics import check_metrics_path, render_metrics, write_metrics
from cmelive.report.model import DeviceReport, DeviceStatus

if TYPE_CHECKING:
    from cmelive.fleet import FleetResult
    from cmelive.history import History
    from cmelive.waivers import Waiver

#: Severity columns of the summary table, worst first.
SUMMARY_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)

_P = ParamSpec("_P")


def judges_forked_first(command: Callable[_P, None]) -> Callable[_P, None]:
    """A fleet command whose judges (its option ``judges``) are forked before it reads anything:
    its inventory or archive, known_hosts, waivers, history (see :mod:`cmelive.judging`: a judge
    forked later carries what reading them left in this process's heap for the whole run)."""

    @functools.wraps(command)
    def forked_first(*args: _P.args, **kwargs: _P.kwargs) -> None:
        from cmelive.judging import judges_forked_early

        judges = kwargs.get("judges")
        with judges_forked_early(judges if isinstance(judges, int) else None):
            command(*args, **kwargs)

    return forked_first


@judges_forked_first
def fleet(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Run directory to create (new or empty): reports, snapshots/<device>/ and cmelive.log.",
        ),
    ],
    inventory: Annotated[
        Path | None,
        typer.Argument(
            metavar="INVENTORY",
            help="Inventory YAML: Nornir-style (defaults/groups/hosts) or Ansible (all:). Not with --nornir."
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Routers audited at the same time.")
    ] = DEFAULT_WORKERS,
    judges: Annotated[
        int | None,
        typer.Option(
            "--judges",
            min=0,
            help="Worker processes that audit what was collected (default: one per CPU, at most 4; "
            "0: audit in this process).",
        ),
    ] = None,
    hosts: Annotated[list[str] | None, typer.Option("--host", help="Only this host (repeatable).")] = None,
    groups: Annotated[
        list[str] | None, typer.Option("--group", help="Only hosts in this group (repeatable).")
    ] = None,
    tags: Annotated[list[str] | None, typer.Option("--tag", help="Only hosts with this tag (repeatable).")] = None,
    timeout: common.Timeout = 30.0,
    command_deadline: common.CommandDeadline = DEFAULT_COMMAND_DEADLINE_S,
    session_deadline: common.SessionDeadline = None,
    max_output: common.MaxOutput = DEFAULT_MAX_OUTPUT,
    retries: Annotated[
        int,
        typer.Option(
            "--retries",
            min=0,
            help="Extra attempts after a connection failure (with backoff: ~1s, 2s, 4s...). "
            "Refused logins and host keys are never retried.",
        ),
    ] = DEFAULT_RETRIES,
    db: common.DbOpt = None,
    scope: Annotated[
        str | None,
        typer.Option(
            "--scope",
            help="The run's scope in the history (a region): runs of one scope never overlap, other scopes' "
            "runs write beside it. Default: the inventory file's resolved path.",
        ),
    ] = None,
    no_history: common.NoHistoryOpt = False,
    waivers_file: common.WaiversOpt = None,
    policy_file: common.PolicyOpt = None,
    fail_on: common.FailOn = Severity.HIGH,
    fail_on_unknown: common.FailOnUnknown = False,
    exit_zero: common.ExitZero = False,
    known_hosts: common.KnownHosts = None,
    accept_new_host_key: common.AcceptNewHostKey = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary (reports are still written).")
    ] = False,
    no_color: common.NoColor = False,
    group_readable: Annotated[
        bool,
        typer.Option(
            "--group-readable",
            help="Make the finished run directory readable by your group (files 0640, directories 0750; "
            "default 0600/0700).",
        ),
    ] = False,
    metrics: common.MetricsOpt = None,
    verbose: common.Verbose = 0,
    nornir_config: Annotated[
        Path | None,
        typer.Option(
            "--nornir",
            help="Read the inventory through Nornir from this Nornir config file (instead of INVENTORY; "
            "needs cmelive[nornir]; cmelive[ansible] / cmelive[netbox] for an Ansible or NetBox inventory). "
            "Hosts whose platform is not cisco_ios/ios are skipped with a warning.",
        ),
    ] = None,
) -> None:
    """Audit every router of an inventory concurrently and write a run directory of reports.

    Credentials come from the environment variables (or keyring entries) the inventory names;
    with --nornir, also from the Nornir inventory itself (inline passwords are never shown).
    A device that is down, slow or refuses us gets its own status and message; the others carry on.
    """
    # The runner, its judges, reports and history load here, not when the CLI starts.
    from cmelive import api
    from cmelive import fleet as fleet_runner
    from cmelive.collect.hostkeys import read_known_hosts
    from cmelive.history import History, default_db_path
    from cmelive.inventory import load_inventory, select
    from cmelive.waivers import load_waivers

    if no_history and db is not None:
        raise UsageError("--db and --no-history contradict each other: give one")
    if metrics is not None:
        check_metrics_path(metrics)
    # INVENTORY and --nornir are two ways of naming the inventory: exactly one of them.
    if (inventory is None) == (nornir_config is None):
        raise UsageError("give an INVENTORY file or --nornir CONFIG.yaml (exactly one)")
    if nornir_config is not None:
        from cmelive.nornir_inventory import load_nornir_inventory

        through_nornir = load_nornir_inventory(nornir_config)
        for warning in through_nornir.warnings:
            typer.echo(f"cmelive: warning: {warning}", err=True)
        loaded, inventory = through_nornir.inventory, nornir_config
    else:
        assert inventory is not None
        loaded = load_inventory(inventory)
    selected = select(loaded, hosts or (), groups or (), tags or ())
    if not selected:
        raise UsageError(f"no host of {inventory} matches all of the --host/--group/--tag filters")
    policy = common.read_policy(policy_file)
    waivers: list[Waiver] = load_waivers(waivers_file) if waivers_file is not None else []
    inventory_files = {host.known_hosts for host in selected if host.known_hosts is not None}
    for path in [*(known_hosts or ()), *sorted(inventory_files)]:
        read_known_hosts(path, required=True)  # an unreadable file is a usage error, not 200 device errors
    fleet_runner.prepare_run_dir(out)
    history = None if no_history else History(db if db is not None else default_db_path())
    if history is not None:
        history.run_scope = scope
    log_file = _configure_logging(verbose, out / LOG_FILE)

    show_progress = not quiet and verbose == 0 and sys.stderr.isatty()
    progress = _Progress(len(selected), sys.stderr, color=common.color_on(sys.stderr, no_color)) if show_progress else None
    run_then_exit(
        lambda: api.run_fleet(
            selected,
            out_dir=out,
            workers=workers,
            judge_processes=judges,
            timeout=timeout,
            limits=common.limits_from(command_deadline, session_deadline, max_output),
            retries=retries,
            policy=policy,
            waivers=waivers,
            history=history,
            inventory_label=str(inventory.resolve()),
            known_hosts=tuple(known_hosts or ()),
            accept_new_host_key=accept_new_host_key,
            progress=progress.update if progress is not None else None,
        ),
        command="fleet",
        out=out,
        history=history,
        log_file=log_file,
        progress=progress,
        quiet=quiet,
        no_color=no_color,
        group_readable=group_readable,
        metrics=metrics,
        fail_on=fail_on,
        fail_on_unknown=fail_on_unknown,
        exit_zero=exit_zero,
    )


def run_then_exit(
    run: Callable[[], FleetResult],
    *,
    command: str,
    out: Path,
    history: History | None,
    log_file: PrivateLogFile,
    quiet: bool,
    group_readable: bool,
    fail_on: Severity,
    fail_on_unknown: bool,
    exit_zero: bool = False,
    metrics: Path | None = None,
    progress: _Progress | None = None,
    no_color: bool = False,
) -> NoReturn:
    """Run a fleet (``fleet``, ``archive``), finish its run directory and exit with its code."""
    # systemd stops a unit with SIGTERM: wind down as for Ctrl-C (finish what is in flight,
    # write the reports, mark the history run incomplete) rather than dying mid-write.
    interrupts = _Interrupts(on_first=progress.stopping if progress is not None else None)
    try:
        interrupts.install()
        result = _run_interruptible(run)
        if progress is not None:
            progress.close()
        if group_readable:
            share_with_group(out)
        if metrics is not None:
            write_metrics(
                metrics,
                render_metrics(result.summary_report, duration_s=result.elapsed_s, command=command, interrupted=result.interrupted),
                group_readable=group_readable,
            )
        if not quiet:
            sys.stdout.write(
                render_summary(
                    result,
                    history_path=history.location if history is not None else None,
                    color=common.color_on(sys.stdout, no_color),
                )
            )
            sys.stdout.flush()
    finally:
        if progress is not None:  # a signal before the run's loop took it: the terminal is left as found
            progress.close()
        if history is not None:
            history.close()
        interrupts.restore()

    if result.interrupted:
        if result.abandoned:
            # Their collector threads may be blocked in a socket read, which nothing can interrupt,
            # and the interpreter joins a ThreadPoolExecutor's threads at exit: it would wait for the
            # routers. Everything is written (reports, history, log) and the run lock released, so
            # the process ends here; the kernel closes the sockets.
            sys.stdout.flush()
            sys.stderr.flush()
            logging.shutdown()
            os._exit(exit_codes.INTERRUPTED)
        raise typer.Exit(exit_codes.INTERRUPTED)
    # The disk filled up under the history or the log (the reports were written): exit 4, one line.
    if history is not None and history.write_failure is not None:
        raise history.write_failure
    if log_file.failure is not None:
        raise log_file.failure
    raise typer.Exit(common.exit_code(result.summary_report, fail_on, fail_on_unknown=fail_on_unknown, exit_zero=exit_zero))


class _Interrupts:
    """SIGTERM (and SIGINT, unless it is ignored, as in a background job) raise KeyboardInterrupt
    once: the run loop takes it as Ctrl-C. Later ones while the run is stopping are the runner's
    (it watches for a second one during its grace) or, once it has returned, ignored: nothing may
    cut short the writing of the reports and the summary, nor end in a traceback."""

    def __init__(self, on_first: Callable[[], None] | None = None) -> None:
        self.count = 0
        self._previous: dict[int, object] = {}
        self._on_first = on_first

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count == 1:
            if self._on_first is not None:
                with contextlib.suppress(Exception):  # a progress bar must not keep the run from stopping
                    self._on_first()
            raise KeyboardInterrupt

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            if sig == signal.SIGINT and signal.getsignal(sig) is signal.SIG_IGN:
                continue
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()


def _run_interruptible(run: Callable[[], FleetResult]) -> FleetResult:
    """The run, or exit 130 when a signal came before its loop could take it (while it was
    starting: nothing begun, no report to write; the history run is marked incomplete)."""
    try:
        return run()
    except KeyboardInterrupt:
        raise typer.Exit(exit_codes.INTERRUPTED) from None


def _configure_logging(verbosity: int, log_file: Path) -> PrivateLogFile:
    """The run's log goes to ``cmelive.log`` in the run directory (INFO; DEBUG with -vv), and to
    stderr only with -v: on a terminal the progress line and the summary say what matters."""
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    file_handler = PrivateLogFile(log_file)  # 0600, never through a symlink
    file_handler.setFormatter(formatter)
    file_handler.addFilter(MaskingFilter())
    handlers: list[logging.Handler] = [file_handler]
    if verbosity > 0:
        stderr_handler = logging.StreamHandler()
        stderr_handler.setFormatter(formatter)
        stderr_handler.addFilter(MaskingFilter())
        handlers.append(stderr_handler)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
    # As in cmelive.logs: netmiko and paramiko log raw reads at DEBUG (a secret split across two
    # reads would slip past masking), and paramiko logs routers hanging up as errors.
    logging.getLogger("netmiko").setLevel(logging.WARNING)
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    return file_handler


class _Progress:
    """``37/200 devices ━━━━━━━━━━      18% 0:00:42 eta 0:03:10  3 not audited, 12 failing``,
    redrawn in place on a terminal by rich.

    Devices *not audited* are those that make the exit 3; *failing* ones have a failed check.
    Drawn when a device finishes; from the first one on, a thread of ours also redraws it every
    second so that the clocks move. Not sooner: the judges' worker processes are forked as the
    run starts, and a fork must not catch another thread writing to the terminal (a lock it holds
    stays held in the child, which flushes stderr as it exits). :meth:`close` may be called twice;
    it leaves the last state on its line and the cursor shown.
    """

    def __init__(self, total: int, stream: TextIO, *, color: bool) -> None:
        # Here, not at the top: rich.progress takes tens of milliseconds to load, and only a
        # fleet run on a terminal needs it.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.table import Column

        console = Console(
            file=stream,
            force_terminal=True,
            color_system="standard" if color else None,
            no_color=not color,
            highlight=False,
            markup=False,
            emoji=False,
        )
        self.not_audited = 0
        self.failing = 0
        self.tally_note = ""
        self._closed = threading.Event()
        self._ticker: threading.Thread | None = None

        def fixed() -> Column:
            return Column(no_wrap=True)

        self._progress = Progress(
            MofNCompleteColumn(table_column=fixed()),
            TextColumn("devices", markup=False, table_column=fixed()),
            # The bar gives way on a narrow terminal so that the line stays one line.
            BarColumn(bar_width=max(10, min(40, console.width - 70)), table_column=fixed()),
            TaskProgressColumn(table_column=fixed()),
            TimeElapsedColumn(table_column=fixed()),
            TextColumn("eta", markup=False, table_column=fixed()),
            TimeRemainingColumn(table_column=fixed()),
            # Only the tally wraps (to a second line) when the terminal is too narrow for it.
            TextColumn("{task.fields[tally]}", markup=False, table_column=Column(overflow="fold")),
            console=console,
            auto_refresh=False,  # rich's refresh thread would start now, before the fork: ours comes later
            redirect_stdout=False,  # nothing else writes while it runs; sys.std* stay the real ones
            redirect_stderr=False,
        )
        self._task = self._progress.add_task("fleet", total=total, tally=self._tally())
        self._progress.start()  # draws 0/total

    def _tally(self) -> str:
        tally = f"{self.not_audited} not audited, {self.failing} failing"
        return f"{tally}; {self.tally_note}" if self.tally_note else tally

    def update(self, report: DeviceReport) -> None:
        if report.not_audited_reason() is not None:
            self.not_audited += 1
        if any(r.status == Status.FAIL for r in report.results):
            self.failing += 1
        self._progress.update(self._task, advance=1, tally=self._tally(), refresh=True)
        if self._ticker is None and not self._closed.is_set():
            self._ticker = threading.Thread(target=self._tick, name="cmelive-progress", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._closed.wait(1.0):
            self._progress.refresh()

    def stopping(self) -> None:
        """Say so while the devices in flight get their grace: the bar alone would look stuck."""
        self.tally_note = "stopping: interrupt again to abandon those in flight"
        self._progress.update(self._task, tally=self._tally(), refresh=True)

    def close(self) -> None:
        self._closed.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2.0)
        self._progress.stop()


# --------------------------------------------------------------------------------------------------
# The summary


def device_note(report: DeviceReport) -> str:
    """Why a device is not ``ok``: its error, why it was not audited, or the first command that did
    not complete."""
    if report.status.unaudited:
        return report.error or "could not be audited"
    from cmelive.fleet import command_problems

    problems = command_problems(report)
    if report.status == DeviceStatus.OK:
        # Audited whole: the only commands it refused are the CME ones a router without CME refuses.
        return f"no CME: {len(problems)} CME command(s) refused, as expected" if problems else ""
    not_audited = report.not_audited_reason()
    if not_audited is not None:
        others = sum(1 for c in report.commands if c.status != CommandStatus.OK and c.command != RUNNING_CONFIG)
        return f"not audited: {not_audited}" + (f" (+{others} more)" if others else "")
    if not problems:
        return ""
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0] + more


def render_summary(
    result: FleetResult, *, history_path: Path | str | None = None, width: int | None = None, color: bool = False
) -> str:
    """The table (one row per device) and what the run wrote, as the command prints it: no line
    wider than ``width`` (default: :func:`common.output_width` of stdout) but the paths, which are
    never broken (they are there to be copied)."""
    from cmelive.report.text import render_fleet_table

    columns = width if width is not None else common.output_width(sys.stdout)
    devices = [d.summary for d in result.devices]  # no evidence needed: nothing read back
    lines = render_fleet_table(devices, [device_note(d) for d in devices], width=columns, color=color)
    totals: Counter[Severity] = Counter()
    waived_total = 0
    for device in devices:
        totals.update(r.severity for r in device.results if r.status == Status.FAIL)
        waived_total += sum(1 for r in device.results if r.status == Status.WAIVED)

    by_status = Counter(d.status for d in devices)
    failures = ", ".join(f"{totals[s]} {s}" for s in SUMMARY_SEVERITIES if totals[s]) or "none"
    not_audited = sum(1 for d in devices if d.not_audited_reason() is not None)
    counted = (
        f"{len(devices)} device{'s' if len(devices) != 1 else ''} in {result.elapsed_s:.1f}s: "
        f"{by_status[DeviceStatus.OK]} ok, {by_status[DeviceStatus.PARTIAL]} partial, "
        f"{by_status[DeviceStatus.ERROR]} error"
        + "".join(
            f", {by_status[status]} {str(status).replace('_', ' ')}"
            for status in (DeviceStatus.INTERRUPTED, DeviceStatus.NOT_STARTED)
            if by_status[status]
        )
        + (f" ({not_audited} not audited)" if not_audited else "")
    )
    lines += ["", *_fit([f"{counted};", f"failures: {failures};", f"{waived_total} waived"], columns)]
    if result.interrupted:
        lines += textwrap.wrap(
            f"Interrupted: {len(result.not_run)} device{'s' if len(result.not_run) != 1 else ''} not audited"
            + (f": {_names(result.not_run)}" if result.not_run else ""),
            columns,
            subsequent_indent="  ",
            break_on_hyphens=False,
        )
    lines += ["", f"Written to {result.out_dir}:"]
    lines += [f"  {path}" for path in result.files.values()]
    kept = sum(1 for d in result.devices if d.snapshot_dir is not None)
    lines.append(f"  {result.out_dir / SNAPSHOTS_DIR}/ ({kept} device snapshot{'s' if kept != 1 else ''}, masked)")
    lines.append(f"  {result.out_dir / LOG_FILE}")
    if result.run_id is not None:
        lines.append(f"History: run {result.run_id} in {history_path}" if history_path else f"History: run {result.run_id}")
    if result.stale_waivers:
        lines += ["", *_fit(["Stale waivers (they waived nothing in this run: fixed, or a wrong selector):"], columns)]
        lines += [line for waiver in result.stale_waivers for line in _item(waiver.describe(), columns)]
    if result.expired_waivers:
        lines += ["", "Expired waivers (their failures count again):"]
        lines += [
            line
            for waiver in result.expired_waivers
            for line in _item(f"{waiver.describe()}, expired {waiver.expires.isoformat()}", columns)
        ]
    if result.problems:
        lines += ["", "Problems:"]
        lines += [line for problem in result.problems for line in _item(problem, columns)]
    return "\n".join(lines) + "\n"


def _fit(parts: list[str], width: int) -> list[str]:
    """``parts`` joined by blanks into lines of ``width``, broken between parts where one must
    break (a phrase such as ``3 ok, 0 partial, 1 error`` stays whole), within one only when it
    is itself too long."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + 1 + len(part) <= width:
            lines[-1] += " " + part
        else:
            lines += textwrap.wrap(part, width, subsequent_indent="  ", break_on_hyphens=False) or [""]
    return lines


def _item(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False)


def _names(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
