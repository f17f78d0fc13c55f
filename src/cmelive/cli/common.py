"""Options and steps shared by the commands that talk to a router or print a report."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from cmelive import api
from cmelive.checks.base import Severity
from cmelive.cli import exit_codes
from cmelive.collect import ENABLE_SECRET_ENV, Target
from cmelive.collect.limits import DEFAULT_MAX_OUTPUT, Limits, format_size, parse_size
from cmelive.errors import AuthenticationError, CmeliveError, DeviceError, InputError, UsageError
from cmelive.masking import scrub
from cmelive.output_files import own_dir, write_file
from cmelive.policy import Policy, load_policy
from cmelive.report.model import AuditReport
from cmelive.snapshot import Snapshot

if TYPE_CHECKING:
    from cmelive.waivers import Waiver

PASSWORD_ENV = "CMELIVE_PASSWORD"


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"
    sarif = "sarif"
    junit = "junit"
    html = "html"


Host = Annotated[str, typer.Argument(help="Router address or name (as in your ssh_config).")]
Port = Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="SSH port.")]
Username = Annotated[
    str | None, typer.Option("--username", "-u", help="Login name (default: your ssh_config's, else $USER).")
]
KeyFile = Annotated[Path | None, typer.Option("--key-file", help="SSH private key to log in with.")]
SshConfig = Annotated[Path | None, typer.Option("--ssh-config", help="OpenSSH client config (ProxyJump, User, ...).")]
Timeout = Annotated[
    float,
    typer.Option(
        "--timeout", min=1.0, help="Seconds to wait to connect, and for a command's output to go on (a silence)."
    ),
]


def _size_option(value: str | int) -> int:
    if isinstance(value, int):  # the default
        return value
    try:
        return parse_size(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


CommandDeadline = Annotated[
    float,
    typer.Option(
        "--command-deadline",
        min=0.001,
        metavar="S",
        help="Seconds one command may take in all, however steadily its output arrives; then it is cut off "
        "(kept, marked truncated). --timeout still ends one the router stops answering sooner.",
    ),
]
SessionDeadline = Annotated[
    float | None,
    typer.Option(
        "--session-deadline",
        min=0.001,
        metavar="S",
        show_default=False,
        help="Seconds a router's whole session may take, login included "
        "[default: twice --command-deadline].",
    ),
]
MaxOutput = Annotated[
    int,
    typer.Option(
        "--max-output",
        metavar="SIZE",
        parser=_size_option,
        show_default=False,
        help="The most kept of one command's output, in bytes or with K, M, G (512K, 64M); beyond it the "
        f"output is cut off (kept, marked truncated) [default: {format_size(DEFAULT_MAX_OUTPUT).replace(' ', '')}].",
    ),
]


def limits_from(command_deadline: float, session_deadline: float | None, max_output: int) -> Limits:
    """The collection limits the options name."""
    return Limits(command_deadline_s=command_deadline, session_deadline_s=session_deadline, max_output=max_output)


KnownHosts = Annotated[
    list[Path] | None,
    typer.Option(
        "--known-hosts",
        help="known_hosts file(s) to verify the router's key against "
        "(default: cmelive's own file in your state dir, plus ~/.ssh/known_hosts).",
    ),
]
AcceptNewHostKey = Annotated[
    bool,
    typer.Option(
        "--accept-new-host-key",
        help="Trust and record a router's key the first time it is seen (like OpenSSH's accept-new). "
        "A changed key is always refused.",
    ),
]
FormatOpt = Annotated[ReportFormat, typer.Option("--format", "-f", help="Report format (of stdout or --output).")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file, not stdout.")]
OutDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Also write every format to this directory, named as in a fleet run: report.txt, report.json, "
        "report.csv, report.sarif, report.junit.xml, report.html.",
    ),
]
WaiversOpt = Annotated[
    Path | None, typer.Option("--waivers", help="Waivers YAML: accepted failures, with owner and expiry.")
]
DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="Run history database (default: history.sqlite in your state dir, ~/.local/state/cmelive)."),
]
NoHistoryOpt = Annotated[bool, typer.Option("--no-history", help="Do not record this run in a history.")]
MetricsOpt = Annotated[
    Path | None,
    typer.Option(
        "--metrics",
        help="Also write the run's metrics to this file, replaced whole (Prometheus text format for "
        "node_exporter's textfile collector: name it *.prom). With --group-readable: 0640.",
    ),
]
ExitZero = Annotated[
    bool,
    typer.Option(
        "--exit-zero",
        help="Exit 0 when the audit ran, even with failures (exit 1 becomes 0); bad input (2), a device not "
        "audited (3), an output not written (4) and an interrupt (130) keep their codes.",
    ),
]
NoColor = Annotated[
    bool,
    typer.Option("--no-color", help="No ANSI colour, even on a terminal (as does a non-empty NO_COLOR variable)."),
]
FailOn = Annotated[
    Severity, typer.Option("--fail-on", help="Exit 1 when a check fails at or above this severity.")
]
FailOnUnknown = Annotated[
    bool,
    typer.Option(
        "--fail-on-unknown",
        help="Exit 1 also when a check at or above --fail-on is unknown (for pipelines that want every check decided).",
    ),
]
PolicyOpt = Annotated[Path | None, typer.Option("--policy", help="Site policy YAML (trusted subnets, WAN interfaces, ...).")]
Verbose = Annotated[
    int,
    # A flag to repeat: no value to show, and "0" is no default worth printing.
    typer.Option("--verbose", "-v", count=True, metavar="", show_default=False, help="Log progress to stderr (-vv: debug)."),
]


def build_target(
    host: str,
    *,
    port: int,
    username: str | None,
    key_file: Path | None,
    ssh_config: Path | None,
    timeout: float,
    known_hosts: list[Path] | None,
    accept_new_host_key: bool,
    limits: Limits | None = None,
) -> Target:
    """The connection settings; secrets come from the environment or a prompt, never from argv."""
    for option, path in (("--key-file", key_file), ("--ssh-config", ssh_config)):
        if path is not None and not path.is_file():
            raise InputError(str(path), f"{option}: file does not exist")
    password = os.environ.get(PASSWORD_ENV)
    if password is None and key_file is None:
        password = _prompt_secret(f"Password for {username or ''}@{host}", PASSWORD_ENV)
    return Target(
        host=host,
        port=port,
        username=username or os.environ.get("USER") or None,
        password=password,
        enable_secret=os.environ.get(ENABLE_SECRET_ENV),
        key_file=key_file,
        ssh_config=ssh_config,
        timeout=timeout,
        known_hosts=tuple(known_hosts or ()),
        accept_new_host_key=accept_new_host_key,
        limits=limits if limits is not None else Limits(),
    )


def collect_live(target: Target) -> Snapshot:
    """Collect every audit command from one router, asking for the enable secret only if needed."""
    return api.collect(target, enable_secret_prompt=enable_secret_prompt)


def enable_secret_prompt(host: str) -> str:
    """Asked only when the login lands in user EXEC and no CMELIVE_ENABLE_SECRET is set.

    With no terminal to ask on, the router cannot be audited: an AuthenticationError (exit 3,
    reported like a refused ``enable``), not a usage error raised from inside the session.
    """
    if not sys.stdin.isatty():
        raise AuthenticationError(
            f"{host}: the login lands in user EXEC mode and 'enable' needs the enable secret: "
            f"set {ENABLE_SECRET_ENV} (there is no terminal to ask for it)"
        )
    return _prompt_secret(f"Enable secret for {host}", ENABLE_SECRET_ENV)


def _prompt_secret(label: str, env_name: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError(f"no terminal to ask for it: set {env_name} in the environment")
    value: str = typer.prompt(label, hide_input=True)
    return value


def read_policy(path: Path | None) -> Policy:
    return load_policy(path) if path is not None else Policy()


def color_wanted(no_color: bool) -> bool:
    """False with --no-color or a non-empty NO_COLOR (https://no-color.org); else colour on a terminal."""
    return not no_color and not os.environ.get("NO_COLOR")


def color_on(stream: TextIO, no_color: bool) -> bool:
    """Colour for ``stream``: only on a terminal that can show it (not ``TERM=dumb``), and never
    with --no-color or NO_COLOR."""
    return color_wanted(no_color) and _isatty(stream) and os.environ.get("TERM") != "dumb"


#: The width of what is printed to a pipe or a file (CI logs, tests) when $COLUMNS does not say:
#: fixed, so the same run prints the same lines wherever it is logged.
PIPE_WIDTH = 100
_MIN_WIDTH = 40


def output_width(stream: TextIO) -> int:
    """The columns to lay out for on ``stream``: $COLUMNS when set (as shutil and rich read it),
    else the terminal's width (80 for one that reports none), else :data:`PIPE_WIDTH`.
    Never under 40: below it no table or report is readable anyway."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), _MIN_WIDTH)
    if not _isatty(stream):
        return PIPE_WIDTH
    try:
        width = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        return 80
    return width if width >= _MIN_WIDTH else 80


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except ValueError:  # closed
        return False


def load_waivers_opt(path: Path | None) -> list[Waiver]:
    from cmelive.waivers import load_waivers

    return load_waivers(path) if path is not None else []


def waive(report: AuditReport, waivers: list[Waiver], *, today: date | None = None) -> AuditReport:
    """``report`` with its waivers applied, as a fleet applies them (no groups or tags: by device name)."""
    waived = api.apply_waivers(report, waivers, today=today)
    # Only the expired ones are worth a line: a fleet's waivers file names many devices, so most of
    # its waivers select none of these (the fleet summary lists the stale ones over the whole fleet).
    for waiver in waived.expired:
        typer.echo(f"cmelive: note: expired waiver (its failures count again): {waiver.describe()}, "
                   f"expired {waiver.expires.isoformat()}", err=True)
    return waived.report


def emit_report(
    report: AuditReport,
    report_format: ReportFormat,
    output: Path | None,
    *,
    out_dir: Path | None = None,
    snapshot_dirs: Sequence[Path | None] = (),
    color: bool = True,
    to_stdout: bool = True,
) -> None:
    """Print or write the report, and with ``out_dir`` every format, through the fleet's code path
    (:mod:`cmelive.report.files`). stdout gets colour only on a terminal and when ``color``.

    ``snapshot_dirs`` (one per device, None when not kept) lets SARIF locations point at the
    snapshots' files, relative to where each report is written. ``to_stdout=False``: with no
    ``output``, nothing is printed (bad input keeps stdout to its one-line contract).
    """
    from cmelive.report.files import encoding_of

    today = date.today()  # as a fleet run: waivers expire, and the HTML dates their expiry, by the local date
    kind = str(report_format)
    to_tty = output is None and sys.stdout.isatty()
    text = api.render_report(
        report,
        kind,
        width=_text_report_width(to_tty),
        color=to_tty and color,
        snapshot_dirs=snapshot_dirs,
        relative_to=output.parent if output is not None else Path.cwd(),
        today=today,
    )
    if out_dir is not None:
        problems: list[str] = []
        check_out_dir(out_dir)
        api.write_reports(report, out_dir, snapshot_dirs=snapshot_dirs, problems=problems, today=today)
        for problem in problems:
            typer.echo(f"cmelive: {problem}", err=True)
    if output is None:
        if to_stdout:
            sys.stdout.write(text)
            sys.stdout.flush()
        return
    # Whole or not at all, 0600; a full disk also removes the last run's file (exit 4): a
    # scheduler must not read it as this run's verdict.
    write_file(
        output, text, doing="--output: cannot write report", remove_on_failure=True, encoding=encoding_of(kind)
    )


def check_out_dir(out_dir: Path | None) -> None:
    """Refuse a bad --out (a symlink, a file, another user's) before a router is asked anything."""
    if out_dir is not None:
        directory, _ = own_dir(out_dir, what="--out directory")
        directory.close()


def fail_with_report(
    host: str, error: CmeliveError, report_format: ReportFormat, output: Path | None, *, out_dir: Path | None = None
) -> typer.Exit:
    """Say what went wrong (one line on stderr), write the report, and return the exit to raise.

    No report is lost: the report of a device that could not be audited (status ``error``, the
    message) goes where a good one would — stdout or ``--output``, in ``--format``. A usage or
    input error (no password and no terminal, a bad --policy file) writes it only to ``--output``:
    the file a scheduler reads must not be left holding the last run's verdict, while stdout
    keeps the one-line contract of bad input.
    """
    device_error = isinstance(error, DeviceError)
    said = scrub(str(error), prose=True)  # it may quote what the router printed
    typer.echo(f"cmelive: {host}: {said}" if device_error else f"cmelive: error: {said}", err=True)
    if out_dir is None and device_error and output is None and report_format in (ReportFormat.text, ReportFormat.json):
        # The common case, kept lean: the report engine's renderers of every format (and the
        # judges they come with) would cost this exit a few tenths of a second.
        from cmelive.report.json_report import render_json
        from cmelive.report.text import render_text

        unreachable = AuditReport([api.error_report(host, host, error)])
        to_tty = sys.stdout.isatty()
        sys.stdout.write(
            render_json(unreachable) if report_format == ReportFormat.json
            else render_text(unreachable, width=_text_report_width(to_tty), color=False)
        )
        sys.stdout.flush()
    elif device_error or output is not None or out_dir is not None:
        emit_report(
            AuditReport([api.error_report(host, host, error)]),
            report_format,
            output,
            out_dir=out_dir,
            to_stdout=device_error,
        )
    return typer.Exit(exit_codes.exit_code_for(error))


def _text_report_width(to_tty: bool) -> int:
    """A text report: the terminal's width, up to 120 columns; 80 in a file or a pipe."""
    return min(output_width(sys.stdout), 120) if to_tty else 80


def exit_code(
    report: AuditReport, fail_on: Severity, *, fail_on_unknown: bool = False, exit_zero: bool = False
) -> int:
    """3 when a device was not audited (:meth:`DeviceReport.not_audited_reason`: unreachable, or
    its running-config not collected whole), else 1 when anything failed at/above ``fail_on``
    (or, with ``fail_on_unknown``, was unknown at/above it) — 0 instead with ``exit_zero``."""
    if any(device.not_audited_reason() is not None for device in report.devices):
        return exit_codes.DEVICE_UNAVAILABLE
    if exit_zero:
        return exit_codes.OK
    if any(device.failures_at_or_above(fail_on) for device in report.devices):
        return exit_codes.FINDINGS
    if fail_on_unknown and any(device.unknown_at_or_above(fail_on) for device in report.devices):
        return exit_codes.FINDINGS
    return exit_codes.OK
