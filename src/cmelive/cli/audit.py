"""``cmelive audit HOST``: log in, collect, judge, report — one router, on demand."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from cmelive import api
from cmelive.checks.base import Severity
from cmelive.cli import common
from cmelive.collect.limits import DEFAULT_COMMAND_DEADLINE_S, DEFAULT_MAX_OUTPUT
from cmelive.errors import CmeliveError
from cmelive.logs import configure_logging
from cmelive.report.model import AuditReport
from cmelive.snapshot import check_snapshot_dir

log = logging.getLogger(__name__)


def audit(
    host: common.Host,
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
    save_snapshot: Annotated[
        Path | None, typer.Option("--save-snapshot", help="Also save what was collected (masked) here.")
    ] = None,
    no_mask: Annotated[
        bool, typer.Option("--no-mask", help="Save the snapshot with secrets in clear (for your own vault).")
    ] = False,
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
    """Audit one router live over SSH.

    The password comes from CMELIVE_PASSWORD or a prompt, the enable secret from
    CMELIVE_ENABLE_SECRET or a prompt (only when the login is not privileged). Whatever goes
    wrong, the report is written (to --output, in --format) with the device's error.
    """
    configure_logging(verbose)
    try:
        policy = common.read_policy(policy_file)
        waivers = common.load_waivers_opt(waivers_file)
        common.check_out_dir(out_dir)
        if save_snapshot is not None:
            check_snapshot_dir(save_snapshot)  # before the router is asked anything
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
        snapshot = api.collect(target, enable_secret_prompt=common.enable_secret_prompt)
    except CmeliveError as exc:
        # The message goes to stderr once, below; the log keeps it for -vv only.
        log.debug("%s: %s", host, exc)
        raise common.fail_with_report(host, exc, report_format, output, out_dir=out_dir) from None
    report = common.waive(AuditReport([api.audit_snapshot(snapshot, policy=policy, name=host)]), waivers)
    not_saved: CmeliveError | None = None
    saved: Path | None = None
    if save_snapshot is not None:
        try:
            saved = api.write_snapshot(snapshot, save_snapshot, mask=not no_mask)
        except CmeliveError as exc:  # a full disk (exit 4) or a directory that is not ours (exit 2)
            not_saved = exc  # the audit itself worked: its report is still written
    common.emit_report(
        report, report_format, output, out_dir=out_dir, snapshot_dirs=[saved], color=common.color_wanted(no_color)
    )
    if not_saved is not None:
        raise not_saved
    raise typer.Exit(common.exit_code(report, fail_on, fail_on_unknown=fail_on_unknown, exit_zero=exit_zero))
