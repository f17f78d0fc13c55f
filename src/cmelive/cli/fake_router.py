"""``cmelive fake-router``: serve a snapshot as a fake IOS router over SSH on 127.0.0.1."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from cmelive.cli import exit_codes
from cmelive.errors import InputError
from cmelive.fake.server import from_snapshot_dir


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
) -> None:
    """Serve SNAPSHOT_DIR as a read-only fake IOS router over SSH until Ctrl-C."""
    try:
        router = from_snapshot_dir(
            snapshot_dir,
            username=username,
            password=password,
            enable_secret=enable_secret,
            privileged_login=privileged,
            port=port,
        )
    except InputError as exc:
        typer.echo(f"cmelive: error: {exc}", err=True)
        raise typer.Exit(exit_codes.BAD_INPUT) from None
    try:
        router.start()
    except OSError as exc:
        typer.echo(f"cmelive: error: cannot listen on 127.0.0.1:{port}: {exc.strerror}", err=True)
        raise typer.Exit(exit_codes.BAD_INPUT) from None

    stop = threading.Event()

    def on_terminate(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Installed explicitly for SIGINT too: a process started in the background by a
    # non-interactive shell inherits SIGINT as ignored, and Ctrl-C must still stop the fake.
    previous = {sig: signal.signal(sig, on_terminate) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        typer.echo(
            f"fake router {router.hostname} listening on 127.0.0.1:{router.port} (user {username})"
        )
        typer.echo(router.known_hosts_line())
        # Scripts read the port from this output while we serve: don't leave it in a buffer.
        typer.get_text_stream("stdout").flush()
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        router.stop()
