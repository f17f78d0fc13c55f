"""``cmelive demo``: audit the bundled example routers live over SSH — no hardware, no network."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cmelive.audit import audit_snapshot
from cmelive.cli import common, exit_codes
from cmelive.collect import Target
from cmelive.commands import AUDIT_COMMANDS
from cmelive.examples import EXAMPLES, example_dir
from cmelive.fake.faults import Faults
from cmelive.cli.fleet import render_summary
from cmelive.fleet_defaults import LOG_FILE
from cmelive.logs import configure_logging
from cmelive.output_files import make_dirs, write_file
from cmelive.policy import Policy
from cmelive.report.model import AuditReport, DeviceReport
from cmelive.snapshot import read_snapshot

if TYPE_CHECKING:
    from cmelive.fleet import FleetResult


#: The SSH server each example offers: the insecure CME router answers as its configuration says
#: (SSH 1.99, a 1024-bit key, SHA-1 only: CME-ACC-11 fails), the plain router as IOS 15; the secure one is modern.
DEMO_SSH_PROFILES = {"insecure-cme": "ios124", "plain-ios": "ios15"}


def run_demo_audits(names: tuple[str, ...] = EXAMPLES) -> AuditReport:
    """Serve each example on a free loopback port and audit it over real SSH, like a real router."""
    # Loaded here: paramiko and netmiko are a quarter of the CLI's start-up.
    from cmelive.collect.live import NetmikoCollector
    from cmelive.fake.server import FakeRouter
    from cmelive.fake.ssh_profiles import get_profile

    devices: list[DeviceReport] = []
    with tempfile.TemporaryDirectory(prefix="cmelive-demo-") as scratch:
        for name in names:
            password = secrets.token_urlsafe(12)
            enable_secret = secrets.token_urlsafe(12)
            snapshot = read_snapshot(example_dir(name))
            profile = DEMO_SSH_PROFILES.get(name)
            with FakeRouter(
                snapshot,
                password=password,
                enable_secret=enable_secret,
                ssh_profile=get_profile(profile) if profile is not None else None,
            ) as router:
                # The demo's routers are ours: pin their freshly generated keys rather than
                # weakening host-key checking.
                known_hosts = Path(scratch) / f"{name}.known_hosts"
                write_file(known_hosts, router.known_hosts_line() + "\n", doing="cannot write known_hosts")
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


#: The fleet demo: the bundled examples, healthy and with the faults a real fleet has.
_DEMO_FLEET: tuple[tuple[str, str, Faults, bool], ...] = (
    # (name, example, faults, down)
    ("branch-01-secure", "secure-cme", Faults(), False),
    ("branch-02-secure", "secure-cme", Faults(delay_ms=50), False),
    ("branch-03-legacy", "insecure-cme", Faults(), False),
    ("branch-04-legacy", "insecure-cme", Faults(delay_ms=50), False),
    ("branch-05-data-only", "plain-ios", Faults(), False),
    ("branch-06-wrong-password", "secure-cme", Faults(fail_auth=True), False),
    ("branch-07-hangs", "insecure-cme", Faults(hang_on=("show running-config",)), False),
    ("branch-08-drops", "secure-cme", Faults(drop_on=("show ephone registered",)), False),
    ("branch-09-no-cme-image", "insecure-cme", Faults(no_cme=True), False),
    ("branch-10-powered-off", "secure-cme", Faults(), True),
)
_DEMO_PASSWORD_ENV = "CMELIVE_DEMO_PASSWORD"
_DEMO_ENABLE_ENV = "CMELIVE_DEMO_ENABLE_SECRET"


def run_demo_fleet(out_dir: Path, *, timeout: float = 3.0) -> tuple[FleetResult, Path]:
    """Serve a small faulty fake fleet and audit it with the fleet runner; returns the result and DB."""
    # paramiko (under the fake routers), the fleet runner and the history: loaded when needed.
    from cmelive.fake.fleet import FakeFleet, FakeRouterSpec
    from cmelive.fleet import prepare_run_dir, run_fleet
    from cmelive.history import History
    from cmelive.inventory import load_inventory
    from cmelive.judging import judges_forked_early

    password, enable_secret = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    specs = [
        FakeRouterSpec(
            name,
            example_dir(example),
            faults=faults,
            down=down,
            password=password,
            enable_secret=enable_secret,
            groups=("branches",),
            tags=(example,),
        )
        for name, example, faults, down in _DEMO_FLEET
    ]
    prepare_run_dir(out_dir)
    scratch = out_dir / "demo-fleet"
    make_dirs(scratch)
    run_dir = out_dir / "run"
    make_dirs(run_dir)
    # As `cmelive fleet` does: the run's log goes to its directory, the terminal gets the summary.
    configure_logging(1, log_file=str(run_dir / LOG_FILE))
    # The judges are forked before the fake routers' threads start (see cmelive.judging).
    with judges_forked_early(None), FakeFleet(specs) as fleet:
        known_hosts = scratch / "known_hosts"
        inventory_path = fleet.write_inventory(
            scratch / "inventory.yaml",
            password_env=_DEMO_PASSWORD_ENV,
            enable_secret_env=_DEMO_ENABLE_ENV,
            known_hosts=known_hosts,
        )
        # The credentials are references in the inventory, as in a real one; this process
        # sets the variables it names.
        os.environ[_DEMO_PASSWORD_ENV], os.environ[_DEMO_ENABLE_ENV] = password, enable_secret
        db = scratch / "history.sqlite"
        with History(db) as history:
            result = run_fleet(
                load_inventory(inventory_path).hosts,
                out_dir=run_dir,
                workers=10,
                timeout=timeout,
                retries=0,
                base_policy=Policy(),
                history=history,
                inventory_label=str(inventory_path),
                known_hosts=(known_hosts,),
            )
    return result, db


def demo(
    report_format: common.FormatOpt = common.ReportFormat.text,
    output: common.OutputOpt = None,
    verbose: common.Verbose = 0,
    only: Annotated[
        list[str] | None, typer.Option("--only", help=f"Audit only these examples ({', '.join(EXAMPLES)}).")
    ] = None,
    fleet: Annotated[
        bool,
        typer.Option(
            "--fleet",
            help="Audit a small faulty fake fleet (down, hanging, refusing, dropping routers) with "
            "the fleet runner and write its run directory, HTML report included.",
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="With --fleet: directory for the run (default: a new temporary one).")
    ] = None,
) -> None:
    """Start fake routers from the bundled examples and audit each one live over SSH."""
    configure_logging(verbose)
    if fleet:
        out_dir = out if out is not None else Path(tempfile.mkdtemp(prefix="cmelive-demo-fleet-"))
        typer.echo(f"cmelive demo --fleet: {len(_DEMO_FLEET)} fake routers on 127.0.0.1, some faulty\n", err=True)
        result, db = run_demo_fleet(out_dir)
        typer.echo(render_summary(result, history_path=db), nl=False)
        typer.echo(f"\nOpen {result.files['html']} in a browser.")
        raise typer.Exit(exit_codes.OK)
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
