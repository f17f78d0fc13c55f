"""``cmelive fix TARGET``: one coherent config change per device, proven by re-auditing it.

TARGET is a router (audited live, with the options of ``cmelive audit``), a snapshot directory (as
for ``cmelive replay``) or a fleet run directory (it has a report.json: a plan for every audited
device, written to ``fixes/<device>.txt`` with its rollback beside it).
"""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path
from typing import Annotated

import typer

from cmelive import api
from cmelive.cli import common, exit_codes
from cmelive.collect.limits import DEFAULT_COMMAND_DEADLINE_S, DEFAULT_MAX_OUTPUT
from cmelive.errors import CmeliveError, DeviceError, UsageError
from cmelive.fixplan.run import (
    DeviceFix,
    fix_run_dir,
    fix_snapshot,
    plan_file_texts,
    rollback_path,
    source_address,
)
from cmelive.fixplan.run import write_plan as write_plan_files
from cmelive.logs import configure_logging
from cmelive.masking import scrub
from cmelive.report.html import link_fix_plans

log = logging.getLogger(__name__)

HELP = (
    "Exit codes: 0 plan(s) written (with --verify: every plan holds); 1 with --verify, a plan that does "
    "not hold (a claimed check still fails, or one that passed fails); 2 bad usage or bad input; 3 a device "
    "could not be audited (no plan for it; the others are written); 4 a plan could not be written."
)


def fix(
    target: Annotated[
        str,
        typer.Argument(
            help="A router (address or ssh_config name), a snapshot directory, or a fleet run directory.",
            show_default=False,
        ),
    ],
    port: common.Port = 22,
    username: common.Username = None,
    key_file: common.KeyFile = None,
    ssh_config: common.SshConfig = None,
    timeout: common.Timeout = 30.0,
    command_deadline: common.CommandDeadline = DEFAULT_COMMAND_DEADLINE_S,
    session_deadline: common.SessionDeadline = None,
    max_output: common.MaxOutput = DEFAULT_MAX_OUTPUT,
    known_hosts: common.KnownHosts = None,
    accept_new_host_key: common.AcceptNewHostKey = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the plan here (and its rollback beside it), not to stdout."),
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Also show the before/after table of the re-audit; exit 1 if a plan fails.")
    ] = False,
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="ADDRESS",
            help="The address you will connect from, kept permitted by the admin ACL [default: for a live "
            "router, the address this machine reaches it from; else a placeholder].",
        ),
    ] = None,
    policy_file: common.PolicyOpt = None,
    verbose: common.Verbose = 0,
) -> None:
    """Write one config script per device that closes its failures, in a safe order, with its rollback."""
    configure_logging(verbose)
    policy = common.read_policy(policy_file)
    if source is not None:
        try:
            source = str(ipaddress.IPv4Address(source))
        except ValueError:
            raise UsageError(f"--from: {source!r} is not an IPv4 address") from None
    path = Path(target)
    if path.is_dir() and (path / "report.json").is_file():
        if output is not None:
            raise UsageError("--output: a fleet run directory gets fixes/<device>.txt; give no --output")
        _fleet(path, policy, verify)
        return
    if path.is_dir():
        fixed = fix_snapshot(api.read_snapshot(path), policy, audit_source=source)
    else:
        live = common.build_target(
            target, port=port, username=username, key_file=key_file, ssh_config=ssh_config, timeout=timeout,
            known_hosts=known_hosts, accept_new_host_key=accept_new_host_key,
            limits=common.limits_from(command_deadline, session_deadline, max_output),
        )  # fmt: skip
        snapshot = api.collect(live, enable_secret_prompt=common.enable_secret_prompt)
        if source is None and ssh_config is None:  # behind a ProxyJump the router sees the jump host
            source = source_address(target, port)
        fixed = fix_snapshot(snapshot, policy, name=target, audit_source=source)
    if fixed.plan is None:
        raise DeviceError(f"{fixed.name}: {fixed.error}")
    if output is not None:
        written, rollback = write_plan_files(fixed, output)
        typer.echo(f"cmelive: plan written to {written}, its rollback to {rollback}", err=True)
    else:
        plan_text, rollback_text = plan_file_texts(fixed)
        typer.echo(plan_text, nl=False)
        typer.echo("!\n! ===== rollback =====\n" + rollback_text, nl=False)
    if verify:
        assert fixed.proof is not None
        typer.echo(scrub(fixed.proof.table()), nl=False, err=output is None)
        if not fixed.proof.holds:
            raise typer.Exit(exit_codes.FINDINGS)


def _fleet(run_dir: Path, policy: api.Policy, verify: bool) -> None:
    fixes, written = fix_run_dir(run_dir, policy)
    _link_in_html(run_dir, written)
    width = max((len(f.name) for f in fixes), default=6)
    typer.echo(f"{'device':<{width}}  plan")
    for item in fixes:
        typer.echo(scrub(f"{item.name:<{width}}  {_line(item, written, run_dir)}", prose=True))
    if verify:
        for item in fixes:
            if item.proof is not None:
                typer.echo(f"\n== {item.name}")
                typer.echo(scrub(item.proof.table()), nl=False)
    if any(f.error is not None for f in fixes):
        raise typer.Exit(exit_codes.DEVICE_UNAVAILABLE)
    if verify and any(f.proof is not None and not f.proof.holds for f in fixes):
        raise typer.Exit(exit_codes.FINDINGS)


def _line(item: DeviceFix, written: dict[str, Path], run_dir: Path) -> str:
    if item.error is not None or item.plan is None:
        return f"none: {item.error}"
    where = written[item.name].relative_to(run_dir).as_posix()
    closes = len(item.plan.claimed)
    needs = len(item.plan.placeholders)
    holds = "" if item.proof is None or item.proof.holds else "; DOES NOT HOLD (see --verify)"
    return (f"{where} (rollback: {rollback_path(written[item.name]).name}): closes {closes} check(s), "
            f"needs {needs} value(s) from you{holds}")  # fmt: skip


def _link_in_html(run_dir: Path, written: dict[str, Path]) -> None:
    """The fleet's report.html links each device's plan (when the run wrote one)."""
    page_file = run_dir / "report.html"
    if not written or not page_file.is_file():
        return
    from cmelive.output_files import write_file

    try:
        page = page_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("%s: not linked to the fix plans: %s", page_file, exc)
        return
    links = {name: path.relative_to(run_dir).as_posix() for name, path in written.items()}
    try:
        write_file(page_file, link_fix_plans(page, links), doing="cannot write report")
    except CmeliveError as exc:
        log.warning("%s", exc)
