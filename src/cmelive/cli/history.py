"""``cmelive history`` (the runs recorded) and ``cmelive diff`` (what changed between two runs)."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cmelive.checks.base import Severity, Status
from cmelive.cli import common, exit_codes
from cmelive.errors import HistoryError, UsageError

if TYPE_CHECKING:
    from cmelive.history import DeviceDiff, FindingChange, History, RunDiff, RunSummary

DbOpt = common.DbOpt
ScopeOpt = Annotated[
    str | None,
    typer.Option(
        "--scope", metavar="NAME",
        help="Only runs of this scope (a region: `cmelive fleet --scope NAME`; by default a run's scope is its "
        "inventory file's resolved path).",
    ),
]


class DiffFormat(StrEnum):
    text = "text"
    json = "json"


def _open(db: Path | None) -> History:
    from cmelive.history import History, default_db_path  # loaded by the commands that read it

    return History(db if db is not None else default_db_path(), create=False)


history_app = typer.Typer(
    help="List recorded fleet runs (no subcommand), or prune old ones.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@history_app.callback(invoke_without_command=True)
def history(
    ctx: typer.Context,
    db: DbOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most this many runs (newest first).")] = 20,
    output_format: Annotated[DiffFormat, typer.Option("--format", "-f", help="Output format.")] = DiffFormat.text,
    scope: ScopeOpt = None,
) -> None:
    """List recorded fleet runs: status, devices, failures by severity, waived findings, scope.

    The SCOPE column says "(inventory)" for a run whose scope is its inventory (no --scope given).

    `cmelive history prune` deletes old runs (see its --help).
    """
    if ctx.invoked_subcommand is not None:
        # `cmelive history --db X prune`: the subcommand works on X too, never on the default.
        ctx.obj = db
        return
    with _open(db) as store:
        runs = store.list_runs(limit, scope=scope)
        if not runs:
            if scope is not None:
                raise HistoryError(str(store.path), f"no run of scope {scope!r} ({store.scope_hint()})")
            raise HistoryError(str(store.path), "no runs recorded yet")
    if output_format == DiffFormat.json:
        typer.echo(json.dumps({"runs": [run.to_dict() for run in runs]}, indent=2, ensure_ascii=False))
    else:
        typer.echo(render_runs(runs), nl=False)


@history_app.command("prune", epilog=exit_codes.HELP)
def prune(
    ctx: typer.Context,
    keep: Annotated[
        int | None, typer.Option("--keep", metavar="N", help="Keep the newest N complete runs.")
    ] = None,
    keep_days: Annotated[
        int | None, typer.Option("--keep-days", metavar="D", help="Keep every run started in the last D days.")
    ] = None,
    db: DbOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be deleted; delete nothing.")] = False,
    vacuum: Annotated[bool, typer.Option("--vacuum", help="Give the freed space back to the file system.")] = False,
) -> None:
    """Delete old runs, and the results no kept run refers to.

    A run is kept when either rule keeps it; incomplete and aborted runs older than the oldest run kept go too.

    Refused (exit 2) while a fleet run holds the database.

    Without --vacuum the freed space stays in the file, and the next runs reuse it.
    """
    if db is None and isinstance(ctx.obj, Path):
        db = ctx.obj
    with _open(db) as store:
        outcome = store.prune(keep, keep_days, dry_run=dry_run, vacuum=vacuum)
    verb = "would delete" if outcome.dry_run else "deleted"
    if outcome.runs:
        ids = ", ".join(str(run.id) for run in sorted(outcome.runs, key=lambda run: run.id))
        typer.echo(f"{verb} {len(outcome.runs)} run(s): {ids}")
        for run in outcome.runs:
            typer.echo(f"  run {run.id:>5}  {run.started_at:<20}  {run.status:<10}  {run.devices} devices")
    else:
        typer.echo(f"{verb} no run: every run is kept")
    typer.echo(
        f"{verb} {outcome.results} stored result(s), {outcome.result_sets} result set(s) and {outcome.blobs} command "
        f"list(s) no kept run refers to; {outcome.kept} run(s) kept"
    )
    size = f"database {outcome.bytes_before / 1e6:.1f} MB"
    if outcome.bytes_after != outcome.bytes_before:
        size += f" -> {outcome.bytes_after / 1e6:.1f} MB"
    elif not outcome.dry_run and outcome.runs:
        size += " (freed pages are reused by the next runs; --vacuum shrinks the file)"
    typer.echo(size)


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--since: {value!r} is not a date: give YYYY-MM-DD") from None


# What the SCOPE column shows for a run whose scope is its inventory (the default): not the path twice.
SCOPE_IS_INVENTORY = "(inventory)"


def render_runs(runs: list[RunSummary]) -> str:
    scopes = [SCOPE_IS_INVENTORY if run.scope == run.inventory else run.scope for run in runs]
    width = max(len("SCOPE"), *(len(scope) for scope in scopes))
    header = f"{'RUN':>5}  {'STARTED':<20}  {'STATUS':<10}  {'DEVICES':>7}  {'ERROR':>5}  " + "  ".join(
        f"{label:>4}" for label in ("CRIT", "HIGH", "MED", "LOW")
    ) + f"  {'WAIVED':>6}  {'SCOPE':<{width}}  INVENTORY"
    lines = [header]
    for run, scope in zip(runs, scopes, strict=True):
        fails = "  ".join(
            f"{run.failures[s]:>4}" for s in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
        )
        devices = f"{run.devices}/{run.host_count}" if run.devices != run.host_count else str(run.devices)
        lines.append(
            f"{run.id:>5}  {run.started_at:<20}  {run.status:<10}  {devices:>7}  {run.error:>5}  {fails}  "
            f"{run.waived:>6}  {scope:<{width}}  {run.inventory}"
        )
    return "\n".join(lines) + "\n"


def diff(
    run_a: Annotated[
        int | None, typer.Argument(help="The earlier run (default: the scope's second-to-last complete run).")
    ] = None,
    run_b: Annotated[int | None, typer.Argument(help="The later run (default: the scope's last complete run).")] = None,
    db: DbOpt = None,
    scope: Annotated[
        str | None,
        typer.Option(
            "--scope", metavar="NAME",
            help="Compare the last two complete runs of this scope (a region). Needed when the history holds "
            "complete runs of several scopes.",
        ),
    ] = None,
    output_format: Annotated[DiffFormat, typer.Option("--format", "-f", help="Output format.")] = DiffFormat.text,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="YYYY-MM-DD",
            help="Compare the last complete run started on or before this day (UTC) with the last complete run.",
        ),
    ] = None,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when there are new failures.")] = False,
) -> None:
    """Show per device the findings that are new, resolved and still failing between two runs.

    Without run ids: the last two complete runs of one scope (or --since). When the history holds
    complete runs of several scopes (regions writing one history), give --scope NAME: without it the
    diff is refused (exit 2) naming the scopes, since two regions' runs are not one fleet's before and
    after. Two run ids compare any two runs, of any scopes.

    Exits 1 when the later run has new failures (unless --exit-zero), 0 otherwise.
    """
    day = _day(since)
    with _open(db) as store:
        run_diff = store.diff(run_a, run_b, since=day, scope=scope)
    if output_format == DiffFormat.json:
        typer.echo(json.dumps(run_diff.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(render_diff(run_diff), nl=False)
    if run_diff.totals()["new"] and not exit_zero:
        raise typer.Exit(exit_codes.FINDINGS)


_STATUS_WORDS = {
    Status.PASS: "passes",
    Status.NOT_APPLICABLE: "not applicable",
    Status.UNKNOWN: "unknown",
    Status.WAIVED: "waived",
    Status.FAIL: "fails",
}


def _finding_line(label: str, change: FindingChange, note: str = "") -> str:
    return f"  {label:<14} {change.check:<12} {change.severity:<9} {change.title}{note}"


def _was(change: FindingChange) -> str:
    if change.status_a is None:
        return ""
    if change.status_a == Status.WAIVED:
        return " (was waived)"
    if change.status_a == Status.UNKNOWN:
        return " (was unknown)"
    return ""


def _now(change: FindingChange) -> str:
    if change.status_b is None:
        return " (not checked)"
    return f" (now {_STATUS_WORDS[change.status_b]})"


def _device_block(device: DeviceDiff) -> list[str]:
    from cmelive.history import Presence

    if device.presence == Presence.REMOVED:
        return [f"{device.device}: removed (not in the later run)"]
    if device.presence == Presence.ADDED:
        head = f"{device.device}: added ({device.status_b})"
    elif device.status_a != device.status_b:
        head = f"{device.device}: {device.status_a} -> {device.status_b}"
    else:
        head = f"{device.device} ({device.status_b})"
    lines = [head]
    lines += [_finding_line("new", c, _was(c)) for c in device.new]
    lines += [_finding_line("resolved", c, _now(c)) for c in device.resolved]
    lines += [_finding_line("still failing", c) for c in device.still_failing]
    lines += [_finding_line("waived", c) for c in device.newly_waived]
    lines += [_finding_line("unverified", c, _now(c)) for c in device.unverified]
    return lines


def _scopes_compared(a: RunSummary, b: RunSummary) -> str:
    """The runs' scope, when named (not the inventory's default); both, when they differ."""
    if a.scope != b.scope:
        return f", scopes {a.scope} -> {b.scope}"
    return "" if a.scope == a.inventory and b.scope == b.inventory else f", scope {a.scope}"


def render_diff(run_diff: RunDiff) -> str:
    a, b = run_diff.run_a, run_diff.run_b
    totals = run_diff.totals()
    lines = [
        f"Run {a.id} ({a.started_at}, {a.status}) -> run {b.id} ({b.started_at}, {b.status}){_scopes_compared(a, b)}",
        f"{totals['new']} new, {totals['resolved']} resolved, {totals['still_failing']} still failing, "
        f"{totals['newly_waived']} newly waived, {totals['unverified']} unverified "
        "(failing before, not evaluated now); "
        f"devices: {totals['devices_added']} added, {totals['devices_removed']} removed",
    ]
    shown = [d for d in run_diff.devices if d.changed or d.still_failing]
    for device in shown:
        lines += ["", *_device_block(device)]
    if not shown:
        lines += ["", "No device changed and nothing is failing."]
    return "\n".join(lines) + "\n"
