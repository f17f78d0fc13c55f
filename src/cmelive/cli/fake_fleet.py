"""``cmelive fake-fleet``: serve a directory of snapshots as a fleet of fake routers on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from cmelive.cli import exit_codes
from cmelive.cli.stop_signals import StopSignals
from cmelive.errors import InputError
from cmelive.fake.faults import Faults
from cmelive.fake.ios_cli import DEFAULT_ENABLE_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME
from cmelive.fake.ssh_profiles import SshProfileName

if TYPE_CHECKING:
    from cmelive.fake.fleet import FakeFleet, RouterFaults

PASSWORD_ENV = "CMELIVE_FLEET_PASSWORD"
ENABLE_SECRET_ENV = "CMELIVE_FLEET_ENABLE_SECRET"
_MAX_PORT = 65535


def fake_fleet(
    snapshots_dir: Annotated[
        Path,
        typer.Argument(help="Directory with one snapshot directory per router; each is served under its name."),
    ],
    base_port: Annotated[
        int,
        typer.Option(
            "--base-port", min=0, max=_MAX_PORT, help="First port; the routers get consecutive ports (0: any free port each)."
        ),
    ] = 0,
    inventory_out: Annotated[
        Path | None,
        typer.Option("--inventory-out", help="Write a matching inventory (YAML, credentials by env variable) here."),
    ] = None,
    known_hosts_out: Annotated[
        Path | None,
        typer.Option(
            "--known-hosts-out", help="Write the routers' host keys here (default: next to the inventory, .known_hosts)."
        ),
    ] = None,
    username: Annotated[str, typer.Option("--username", "-u", help="Login user name of every router.")] = DEFAULT_USERNAME,
    password: Annotated[str, typer.Option("--password", help="Login password of every router.")] = DEFAULT_PASSWORD,
    enable_secret: Annotated[
        str, typer.Option("--enable-secret", help="Secret 'enable' asks for on every router.")
    ] = DEFAULT_ENABLE_SECRET,
    delay_ms: Annotated[
        int, typer.Option("--delay-ms", min=0, help="Latency of every router, in ms per answer (a faults file may override).")
    ] = 0,
    faults_file: Annotated[
        Path | None,
        typer.Option(
            "--faults-file",
            help="YAML mapping router names to fault options, e.g. "
            "{branch-07: {delay_ms: 200, hang_on: ['show running-config']}, branch-08: {ssh_profile: ios124}, "
            "branch-09: {flood_on: 'show running-config'}} (also drip_on, endless_on, flood_before_prompt: true).",
        ),
    ] = None,
    ssh_profile: Annotated[
        SshProfileName | None,
        typer.Option(
            "--ssh-profile",
            help="What every router's SSH server offers (a faults file's ssh_profile overrides it per router): "
            "modern, ios15 or ios124. Default: everything paramiko offers.",
        ),
    ] = None,
    host_key_file: Annotated[
        Path | None,
        typer.Option(
            "--host-key",
            metavar="FILE",
            help="Keep the fleet's shared SSH host key in FILE across restarts (created, private, when missing).",
        ),
    ] = None,
) -> None:
    """Serve every snapshot directory under SNAPSHOTS_DIR as a fake router, until Ctrl-C."""
    try:
        fleet = _build_fleet(
            snapshots_dir,
            base_port,
            username,
            password,
            enable_secret,
            delay_ms,
            faults_file,
            ssh_profile=ssh_profile,
            host_key_file=host_key_file,
        )
    except InputError as exc:
        _fail(str(exc))
    try:
        fleet.start()
    except OSError as exc:
        _fail(f"cannot listen on 127.0.0.1 (from port {base_port}): {exc.strerror or exc}")
    try:
        written = _write_files(fleet, inventory_out, known_hosts_out)
    except OSError as exc:
        fleet.stop()
        _fail(f"{exc.filename}: cannot write: {exc.strerror or exc}")

    try:
        with StopSignals() as stop:
            _announce(fleet, written)
            stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fleet.stop()


def _build_fleet(
    snapshots_dir: Path,
    base_port: int,
    username: str,
    password: str,
    enable_secret: str,
    delay_ms: int,
    faults_file: Path | None,
    ssh_profile: SshProfileName | None = None,
    host_key_file: Path | None = None,
) -> FakeFleet:
    # paramiko (under the fake routers) is loaded only by the commands that serve routers.
    from cmelive.fake.fleet import FakeFleet, FakeRouterError, FakeRouterSpec, apply_faults, load_faults_file
    from cmelive.fake.hostkey import load_or_create_host_key

    host_key = load_or_create_host_key(host_key_file) if host_key_file is not None else None

    directories = _snapshot_directories(snapshots_dir)
    if base_port and base_port + len(directories) - 1 > _MAX_PORT:
        raise InputError(str(snapshots_dir), f"{len(directories)} routers do not fit in ports {base_port}-{_MAX_PORT}")
    base = Faults(delay_ms=delay_ms)
    specs = [
        FakeRouterSpec(
            name=directory.name,
            snapshot=directory,
            faults=base,
            username=username,
            password=password,
            enable_secret=enable_secret,
            port=base_port + index if base_port else 0,
            ssh_profile=str(ssh_profile) if ssh_profile is not None else None,
        )
        for index, directory in enumerate(directories)
    ]
    entries: dict[str, RouterFaults] = {}
    if faults_file is not None:
        entries = load_faults_file(faults_file, [spec.name for spec in specs], base)
        specs = apply_faults(specs, entries)
    try:
        return FakeFleet(specs, host_key=host_key)
    except FakeRouterError as exc:
        entry = entries.get(exc.name)
        if faults_file is not None and entry is not None:
            raise InputError(str(faults_file), str(exc), entry.line) from None
        raise InputError(str(snapshots_dir / exc.name), exc.problem) from None


def _snapshot_directories(snapshots_dir: Path) -> list[Path]:
    where = str(snapshots_dir)
    if not snapshots_dir.exists():
        raise InputError(where, "snapshots directory does not exist")
    if not snapshots_dir.is_dir():
        raise InputError(where, "not a directory (expected one snapshot directory per router)")
    try:
        directories = sorted(p for p in snapshots_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as exc:
        raise InputError(where, f"cannot list directory: {exc.strerror}") from exc
    if not directories:
        raise InputError(where, "no snapshot directories in it (expected one directory per router)")
    return directories


def _write_files(fleet: FakeFleet, inventory_out: Path | None, known_hosts_out: Path | None) -> list[str]:
    """Write the inventory and known_hosts files asked for; returns the lines that tell where."""
    if inventory_out is None and known_hosts_out is None:
        return []
    if known_hosts_out is None:
        assert inventory_out is not None
        known_hosts_out = inventory_out.with_name(inventory_out.stem + ".known_hosts")
    told = []
    if inventory_out is not None:
        fleet.write_inventory(
            inventory_out, password_env=PASSWORD_ENV, enable_secret_env=ENABLE_SECRET_ENV, known_hosts=known_hosts_out
        )
        told.append(f"inventory: {inventory_out}")
    else:
        fleet.write_known_hosts(known_hosts_out)
    told.append(f"known hosts: {known_hosts_out}")
    told.append(f"set {PASSWORD_ENV} and {ENABLE_SECRET_ENV} to the fleet's --password and --enable-secret")
    return told


def _announce(fleet: FakeFleet, written: list[str]) -> None:
    width = max(len(name) for name in fleet.specs)
    keys = fleet.host_keys
    if len(keys) == 1:
        typer.echo(f"fake fleet: {len(fleet.specs)} routers on {fleet.host}, one host key ({keys[0].fingerprint})")
    else:
        described = ", ".join(f"RSA {key.get_bits()} {key.fingerprint}" for key in keys)
        typer.echo(f"fake fleet: {len(fleet.specs)} routers on {fleet.host}, host keys: {described}")
    for name, spec in fleet.specs.items():
        router = fleet.routers.get(name)
        hostname = router.hostname if router is not None else "-"
        faults = spec.describe_faults()
        line = f"{name:<{width}}  {fleet.host}:{fleet.port(name):<5}  {hostname}"
        if spec.ssh_profile is not None:
            line += f"  ssh: {spec.ssh_profile}"
        typer.echo(line + (f"  faults: {faults}" if faults != "none" else ""))
    for line in written:
        typer.echo(line)
    typer.echo("serving until Ctrl-C")
    # Scripts read the ports from this output while we serve: don't leave it in a buffer.
    sys.stdout.flush()


def _fail(message: str) -> NoReturn:
    typer.echo(f"cmelive: error: {message}", err=True)
    raise typer.Exit(exit_codes.BAD_INPUT)
