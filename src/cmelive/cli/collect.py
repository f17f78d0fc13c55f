"""``cmelive collect HOST -o DIR``: save what a router shows, for replay or your archive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmelive.cli import common, exit_codes
from cmelive.commands import CommandStatus
from cmelive.collect.limits import DEFAULT_COMMAND_DEADLINE_S, DEFAULT_MAX_OUTPUT
from cmelive.logs import configure_logging
from cmelive.masking import scrub
from cmelive.report.model import running_config_problem
from cmelive.snapshot import check_snapshot_dir, write_snapshot


def collect(
    host: common.Host,
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Snapshot directory to write.")],
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
    no_mask: Annotated[
        bool, typer.Option("--no-mask", help="Keep secrets in clear (for your own vault).")
    ] = False,
    verbose: common.Verbose = 0,
) -> None:
    """Collect a snapshot of one router (secrets masked unless --no-mask).

    Exits 3 when the router could not be reached or its running-config was not collected whole
    (what was collected is written all the same).
    """
    configure_logging(verbose)
    check_snapshot_dir(output_dir)  # before the router is asked anything
    target = common.build_target(
        host,
        port=port,
        username=username,
        key_file=key_file,
        ssh_config=ssh_config,
        timeout=timeout,
        known_hosts=known_hosts,
        accept_new_host_key=accept_new_host_key,
        limits=common.limits_from(command_deadline, session_deadline, max_output),
    )
    snapshot = common.collect_live(target)
    write_snapshot(snapshot, output_dir, mask=not no_mask)
    # Errors and the hostname are the router's words: they cross the outbound boundary.
    for out in snapshot.outputs.values():
        detail = f" ({scrub(out.error, prose=True)})" if out.error and out.status != CommandStatus.OK else ""
        typer.echo(f"{out.status:<13} {out.duration_s:6.2f}s  {out.command}{detail}")
    typer.echo(f"snapshot of {scrub(snapshot.hostname or host)} written to {output_dir}")
    # The exit-code rule of audit and replay: a snapshot without a whole running-config cannot be
    # audited, and a scheduler must not take it for a good collection.
    problem = running_config_problem(snapshot.outputs.values())
    if problem is not None:
        typer.echo(f"cmelive: {host}: not auditable: {scrub(problem, prose=True)}", err=True)
        raise typer.Exit(exit_codes.DEVICE_UNAVAILABLE)
    raise typer.Exit(exit_codes.OK)
