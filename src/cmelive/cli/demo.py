"""``cmelive demo``: audit the bundled example routers live over SSH — no hardware, no network."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from cmelive.audit import audit_snapshot
from cmelive.cli import common, exit_codes
from cmelive.collect import Target
from cmelive.collect.live import NetmikoCollector
from cmelive.commands import AUDIT_COMMANDS
from cmelive.examples import EXAMPLES, example_dir
from cmelive.fake.server import FakeRouter
from cmelive.logs import configure_logging
from cmelive.report.model import AuditReport, DeviceReport
from cmelive.snapshot import read_snapshot


def run_demo_audits(names: tuple[str, ...] = EXAMPLES) -> AuditReport:
    """Serve each example on a free loopback port and audit it over real SSH, like a real router."""
    devices: list[DeviceReport] = []
    with tempfile.TemporaryDirectory(prefix="cmelive-demo-") as scratch:
        for name in names:
            password = secrets.token_urlsafe(12)
            enable_secret = secrets.token_urlsafe(12)
            snapshot = read_snapshot(example_dir(name))
            with FakeRouter(snapshot, password=password, enable_secret=enable_secret) as router:
                # The demo's routers are ours: pin their freshly generated keys rather than
                # weakening host-key checking.
                known_hosts = Path(scratch) / f"{name}.known_hosts"
                known_hosts.write_text(router.known_hosts_line() + "\n", encoding="utf-8")
                target = Target(
                    host=router.host,
                    port=router.port,
                    username="admin",
                    password=password,
                    enable_secret=enable_secret,
                    timeout=20.0,
                    known_hosts=(known_hosts,),
                    name=name,
                )
                collected = NetmikoCollector().collect(target, AUDIT_COMMANDS)
            devices.append(audit_snapshot(collected, name=name))
    return AuditReport(devices)


def demo(
    report_format: common.FormatOpt = common.ReportFormat.text,
    output: common.OutputOpt = None,
    verbose: common.Verbose = 0,
    only: Annotated[
        list[str] | None, typer.Option("--only", help=f"Audit only these examples ({', '.join(EXAMPLES)}).")
    ] = None,
) -> None:
    """Start fake routers from the bundled examples and audit each one live over SSH."""
    configure_logging(verbose)
    names = tuple(only) if only else EXAMPLES
    unknown = [n for n in names if n not in EXAMPLES]
    if unknown:
        raise typer.BadParameter(f"no example named {unknown[0]!r} (have: {', '.join(EXAMPLES)})", param_hint="--only")
    if report_format == common.ReportFormat.text and output is None:
        typer.echo(
            f"cmelive demo: auditing {len(names)} fake routers over SSH on 127.0.0.1 "
            f"({', '.join(names)})\n",
            err=True,
        )
    report = run_demo_audits(names)
    common.emit_report(report, report_format, output)
    # The demo succeeded when every example was audited; its findings are the point, not a failure.
    raise typer.Exit(exit_codes.OK if all(d.status != "error" for d in report.devices) else exit_codes.DEVICE_UNAVAILABLE)
