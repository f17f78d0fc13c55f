"""``cmelive fake-router``: serve a snapshot as a fake IOS router over SSH on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cmelive.cli import exit_codes
from cmelive.cli.stop_signals import StopSignals
from cmelive.commands import RUNNING_CONFIG
from cmelive.errors import InputError
from cmelive.fake.faults import Faults
from cmelive.fake.ssh_profiles import SshProfileName
from cmelive.fake.terminal import STYLES


def fake_router(
    snapshot_dir: Annotated[
        Path, typer.Argument(help="Snapshot directory (show_*.txt files) whose outputs the router replays.")
    ],
    port: Annotated[int, typer.Option("--port", help="TCP port on 127.0.0.1 (0: any free port).")] = 0,
    username: Annotated[str, typer.Option("--username", "-u", help="Login user name.")] = "admin",
    password: Annotated[str, typer.Option("--password", help="Login password.")] = "cisco",
    enable_secret: Annotated[
        str, typer.Option("--enable-secret", help="Secret that 'enable' asks for.")
    ] = "cisco-enable",
    privileged: Annotated[
        bool, typer.Option("--privileged", help="Log in at privilege 15 (prompt '#') instead of 1.")
    ] = False,
    fail_auth: Annotated[
        bool, typer.Option("--fail-auth", help="Fault: refuse every login (password and public key).")
    ] = False,
    fail_enable: Annotated[
        bool, typer.Option("--fail-enable", help="Fault: 'enable' answers '% Access denied', whatever the secret.")
    ] = False,
    delay_ms: Annotated[
        int,
        typer.Option(
            "--delay-ms", min=0, help="Fault: answer every command (and the first prompt) this many ms after it arrives."
        ),
    ] = 0,
    hang_on: Annotated[
        list[str] | None,
        typer.Option(
            "--hang-on",
            metavar="CMD",
            help="Fault: this show command never answers; the session stays open and silent. Repeatable.",
        ),
    ] = None,
    drop_on: Annotated[
        list[str] | None,
        typer.Option(
            "--drop-on",
            metavar="CMD",
            help="Fault: this show command prints half its output, then the connection is cut. Repeatable.",
        ),
    ] = None,
    no_cme: Annotated[
        bool,
        typer.Option(
            "--no-cme", help="Fault: a plain IOS router: CME commands unknown, no CME sections in the config."
        ),
    ] = False,
    flood: Annotated[
        bool,
        typer.Option(
            "--flood", help="Fault: the --on command's output never ends, sent as fast as the client reads; no prompt."
        ),
    ] = False,
    drip: Annotated[
        bool,
        typer.Option("--drip", help="Fault: the --on command prints one line every 0.5 s, forever; no prompt."),
    ] = False,
    endless: Annotated[
        bool,
        typer.Option(
            "--endless", help="Fault: the --on command's output never ends, at a router's pace (~100 kB/s); no prompt."
        ),
    ] = False,
    stream_on: Annotated[
        str,
        typer.Option("--on", metavar="CMD", help="The show command that --flood, --drip or --endless strikes."),
    ] = RUNNING_CONFIG,
    flood_before_prompt: Annotated[
        bool,
        typer.Option(
            "--flood-before-prompt", help="Fault: after login, a banner streams forever; the first prompt never comes."
        ),
    ] = False,
    ssh_profile: Annotated[
        SshProfileName | None,
        typer.Option(
            "--ssh-profile",
            help="What the SSH server offers, as a real router: modern (IOS XE 16/17), ios15 (SHA-1 only, RSA 2048), "
            "ios124 (SSH 1.99, SHA-1 only, RSA 1024, CBC, MD5). Default: everything paramiko offers.",
        ),
    ] = None,
    terminal_style: Annotated[
        str,
        typer.Option(
            "--terminal-style",
            metavar="STYLE",
            help="How its vty line behaves (echo, prompts, line ends, pauses, log messages, pager): "
            "ios, immediate-echo, pager, log-lines, ... (a wrong name lists them all).",
        ),
    ] = "ios",
    host_key_file: Annotated[
        Path | None,
        typer.Option(
            "--host-key",
            metavar="FILE",
            help="Keep the router's SSH host key in FILE across restarts (created, private, when missing).",
        ),
    ] = None,
) -> None:
    """Serve SNAPSHOT_DIR as a read-only fake IOS router over SSH until Ctrl-C."""
    # paramiko: loaded by the commands that need it
    from cmelive.fake.hostkey import load_or_create_host_key
    from cmelive.fake.server import from_snapshot_dir
    from cmelive.fake.ssh_profiles import get_profile

    streaming = [name for name, on in (("--flood", flood), ("--drip", drip), ("--endless", endless)) if on]
    if len(streaming) > 1:
        typer.echo(f"cmelive: error: {' and '.join(streaming)}: one --on command cannot do both", err=True)
        raise typer.Exit(exit_codes.BAD_INPUT)
    if terminal_style not in STYLES:
        typer.echo(
            f"cmelive: error: --terminal-style: unknown style {terminal_style!r} (one of: {', '.join(sorted(STYLES))})",
            err=True,
        )
        raise typer.Exit(exit_codes.BAD_INPUT)
    try:
        host_key = load_or_create_host_key(host_key_file) if host_key_file is not None else None
        faults = Faults(
            fail_auth=fail_auth,
            fail_enable=fail_enable,
            delay_ms=delay_ms,
            hang_on=tuple(hang_on or ()),
            drop_on=tuple(drop_on or ()),
            no_cme=no_cme,
            flood_on=(stream_on,) if flood else (),
            drip_on=(stream_on,) if drip else (),
            endless_on=(stream_on,) if endless else (),
            flood_before_prompt=flood_before_prompt,
        )
        router = from_snapshot_dir(
            snapshot_dir,
            username=username,
            password=password,
            enable_secret=enable_secret,
            privileged_login=privileged,
            port=port,
            host_key=host_key,
            faults=faults,
            ssh_profile=get_profile(ssh_profile) if ssh_profile is not None else None,
            terminal=STYLES[terminal_style],
        )
    except InputError as exc:
        typer.echo(f"cmelive: error: {exc}", err=True)
        raise typer.Exit(exit_codes.BAD_INPUT) from None
    except ValueError as exc:  # a fault naming a command this router does not serve
        typer.echo(f"cmelive: error: {exc}", err=True)
        raise typer.Exit(exit_codes.BAD_INPUT) from None
    try:
        router.start()
    except OSError as exc:
        typer.echo(f"cmelive: error: cannot listen on 127.0.0.1:{port}: {exc.strerror}", err=True)
        raise typer.Exit(exit_codes.BAD_INPUT) from None

    try:
        with StopSignals() as stop:
            typer.echo(
                f"fake router {router.hostname} listening on 127.0.0.1:{router.port} (user {username})"
            )
            typer.echo(router.known_hosts_line())
            if router.ssh_profile is not None:
                typer.echo(f"ssh profile: {router.ssh_profile.name} ({router.ssh_profile.description})")
            if terminal_style != "ios":
                typer.echo(f"terminal style: {terminal_style}")
            if router.faults.any:
                typer.echo(f"faults: {router.faults.describe()}")
            # Scripts read the port from this output while we serve: don't leave it in a buffer.
            sys.stdout.flush()
            stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        router.stop()
