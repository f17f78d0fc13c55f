"""The ``cmelive`` command line: a thin root app that only wires the command modules.

Errors are mapped to exit codes here and only here.
"""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

import typer

from cmelive import __version__
from cmelive.cli import archive, audit, catalog, collect, demo, exit_codes, fake_router, replay
from cmelive.cli import history as history_cli
from cmelive.cli import report as report_cli
from cmelive.cli import fake_fleet
from cmelive.cli import fix as fix_cli
from cmelive.cli import fleet
from cmelive.errors import CmeliveError
from cmelive.masking import scrub

app = typer.Typer(
    name="cmelive",
    help="Live security auditor for Cisco Unified CME routers.\n\n" + exit_codes.HELP,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cmelive {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Live security auditor for Cisco Unified CME routers."""


app.command("audit", epilog=exit_codes.HELP)(audit.audit)
app.command("replay", epilog=exit_codes.HELP)(replay.replay)
app.command("collect", epilog=exit_codes.HELP)(collect.collect)
app.command("fleet", epilog=exit_codes.HELP)(fleet.fleet)
app.command("archive", epilog=exit_codes.HELP)(archive.archive)
app.command("fix", epilog=fix_cli.HELP)(fix_cli.fix)
app.command("demo")(demo.demo)
app.command("checks")(catalog.checks)
app.command("explain")(catalog.explain)
app.command("fake-router")(fake_router.fake_router)
app.command("fake-fleet")(fake_fleet.fake_fleet)
app.add_typer(history_cli.history_app, name="history")
app.command("diff")(history_cli.diff)
app.command("report", epilog=exit_codes.HELP)(report_cli.report)


def _scrubbed_excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    # A bug's traceback is printed as Python would, but it may quote router text: it crosses the
    # outbound boundary like everything else cmelive writes.
    sys.stderr.write(scrub("".join(traceback.format_exception(kind, value, tb))))


def main() -> None:
    sys.excepthook = _scrubbed_excepthook
    try:
        app()
    except CmeliveError as exc:
        # One line, no traceback: the message names the file/option/host and what is wrong (and
        # may quote what a router printed: it crosses the outbound boundary).
        print(f"cmelive: error: {scrub(str(exc), prose=True)}", file=sys.stderr)
        sys.exit(exit_codes.exit_code_for(exc))
    except KeyboardInterrupt:
        print("cmelive: interrupted", file=sys.stderr)
        sys.exit(exit_codes.INTERRUPTED)
