"""Time a fleet audit: cmelive's fleet runner vs the ideal vs a plain netmiko loop.

Run: ``python bench/bench_fleet.py [--routers 200] [--workers 50] [--latency-ms 100]
[--repetitions N] [--skip-netmiko] [--no-history] [--out DIR]``

N fake routers (the bundled example snapshots, spread over them) answer every prompt
``--latency-ms`` late. They are served by ``cmelive fake-fleet`` in a *separate process*, so the
server's CPU does not share this process's GIL. Everything talks to 127.0.0.1 only. Measured in
the same run:

1. cmelive's fleet wall time: :func:`cmelive.fleet.run_fleet` over the fake fleet's inventory
   with ``--workers`` threads, the whole pipeline as ``cmelive fleet`` runs it: collect, then in
   its judge worker processes (one per CPU, at most 4) write the masked snapshots, audit, waivers
   (none) and each device's report parts, then history (a temporary SQLite database, unless
   ``--no-history``), the five reports, an INFO log file;
2. the ideal: ``ceil(N / workers)`` x one device's floor, the floor being the median time of a raw
   paramiko shell client (``bench_single.raw_paramiko``) running the same session on one of the
   delayed routers; beside it, cmelive's own per-device cost on that router
   (``NetmikoCollector``, and a full single-device audit); for reference, that raw client on
   the same pool of ``--workers`` threads over the N routers (what concurrency alone costs here);
3. a plain netmiko loop: ``ThreadPoolExecutor(max_workers=workers)``, ``ConnectHandler`` with its
   default settings and ``send_command`` per command (``bench_single.plain_netmiko``); slow,
   ``--skip-netmiko`` leaves it out.

Then the ratios against the targets of issue 4: per-device cost <= 2x the raw floor, fleet wall
<= 1.3x the ideal. CPU times (``getrusage`` for this process and its reaped judge workers,
``/proc`` for the fake fleet) say where the machine's cores went. Wall times on a shared machine are noisy: rerun to see the spread.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import IO

import paramiko

from bench_single import (
    ENABLE_SECRET,
    EXAMPLES,
    PASSWORD,
    USERNAME,
    cmelive_collector,
    cmelive_full_audit,
    median_seconds,
    plain_netmiko,
    raw_paramiko,
)
from cmelive.cli.fake_fleet import ENABLE_SECRET_ENV, PASSWORD_ENV
from cmelive.collect import Target
from cmelive.collect.live import NetmikoCollector
from cmelive.commands import AUDIT_COMMANDS, CommandStatus
from cmelive.fleet import FleetResult, run_fleet
from cmelive.history import History
from cmelive.inventory import InventoryHost, load_inventory
from cmelive.logs import configure_logging
from cmelive.policy import Policy
from cmelive.report.model import DeviceReport, DeviceStatus

#: Targets of issue 4, item 8.
PER_DEVICE_TARGET = 2.0
FLEET_TARGET = 1.3
#: Per connection and per command, as ``cmelive fleet``'s default --timeout.
TIMEOUT_S = 30.0
#: How long the fake fleet may take to build and start its routers.
FLEET_START_TIMEOUT_S = 180.0
SERVING = "serving until Ctrl-C"


# --------------------------------------------------------------------------------------------------
# The fake fleet, in its own process


@dataclass(frozen=True)
class FleetRouter:
    """One router of the fake fleet, as ``bench_single``'s clients want it (``SshEndpoint``)."""

    name: str
    host: str
    port: int
    host_key: paramiko.PKey


def example_snapshots() -> list[Path]:
    snapshots = sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and any(p.glob("show_*.txt")))
    if not snapshots:
        raise SystemExit(f"no example snapshots under {EXAMPLES}")
    return snapshots


def spread_snapshots(directory: Path, routers: int, examples: Sequence[Path]) -> None:
    """``directory/router-001`` ... one symlink per router, to the examples in turn."""
    directory.mkdir()
    width = max(3, len(str(routers)))
    for index in range(routers):
        (directory / f"router-{index + 1:0{width}d}").symlink_to(examples[index % len(examples)], target_is_directory=True)


class FakeFleetProcess:
    """``cmelive fake-fleet`` as a child process; stopped with SIGINT (it stops every router)."""

    def __init__(self, snapshots: Path, scratch: Path, latency_ms: int) -> None:
        self.inventory = scratch / "inventory.yaml"
        self.known_hosts = scratch / "known_hosts"
        self._stderr_path = scratch / "fake-fleet.stderr"
        command = [
            sys.executable, "-m", "cmelive", "fake-fleet", str(snapshots),
            "--inventory-out", str(self.inventory),
            "--known-hosts-out", str(self.known_hosts),
            "--username", USERNAME,
            "--password", PASSWORD,
            "--enable-secret", ENABLE_SECRET,
            "--delay-ms", str(latency_ms),
        ]  # fmt: skip
        self._stderr: IO[bytes] = self._stderr_path.open("wb")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        self._wait_until_serving()

    def _wait_until_serving(self) -> None:
        assert self.process.stdout is not None
        stdout = self.process.stdout
        ready = threading.Event()

        def drain() -> None:
            # Reads the announcement, then whatever follows, so the child never blocks on a full pipe.
            for line in stdout:
                if line.strip() == SERVING:
                    ready.set()
            ready.set()

        threading.Thread(target=drain, name="fake-fleet-stdout", daemon=True).start()
        if not ready.wait(FLEET_START_TIMEOUT_S) or self.process.poll() is not None:
            self.stop()
            raise SystemExit(f"cmelive fake-fleet did not start: {self._stderr_path.read_text(errors='replace')[-2000:]}")

    def cpu_seconds(self) -> float:
        """User + system CPU the fake fleet process has used so far (Linux ``/proc``)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def routers(self) -> list[FleetRouter]:
        keys = paramiko.HostKeys(str(self.known_hosts))
        routers = []
        for host in load_inventory(self.inventory).hosts:
            known = keys.lookup(f"[{host.address}]:{host.port}")
            if known is None:
                raise SystemExit(f"{self.known_hosts}: no key for {host.name}")
            routers.append(FleetRouter(host.name, host.address, host.port, next(iter(known.values()))))
        return routers

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stderr.close()


# --------------------------------------------------------------------------------------------------
# Measurements


def client_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reaped_children_cpu_seconds() -> float:
    """CPU of this process's children that ended and were waited for: the fleet's judge workers
    (the fake fleet is reaped only when it stops, after the measurements)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Cost:
    wall_s: float
    client_cpu_s: float
    server_cpu_s: float
    judges_cpu_s: float = 0.0


@contextmanager
def measured(fleet: FakeFleetProcess) -> Iterator[Cost]:
    """Wall time, this process's CPU and the fake fleet's CPU over the ``with`` block."""
    cost = Cost(0.0, 0.0, 0.0)
    client, server, judges = client_cpu_seconds(), fleet.cpu_seconds(), reaped_children_cpu_seconds()
    started = time.perf_counter()
    try:
        yield cost
    finally:
        cost.wall_s = time.perf_counter() - started
        cost.client_cpu_s = client_cpu_seconds() - client
        cost.server_cpu_s = fleet.cpu_seconds() - server
        cost.judges_cpu_s = reaped_children_cpu_seconds() - judges


@dataclass
class FleetRun:
    cost: Cost
    result: FleetResult
    last_device_done_s: float  # after the start of run_fleet
    first_device_done_s: float


def cmelive_fleet(
    fleet: FakeFleetProcess, hosts: Sequence[InventoryHost], workers: int, out_dir: Path, history_db: Path | None
) -> FleetRun:
    done_at: list[float] = []

    def progress(report: DeviceReport) -> None:
        done_at.append(time.perf_counter())

    history = History(history_db) if history_db is not None else None
    try:
        with measured(fleet) as cost:
            started = time.perf_counter()
            result = run_fleet(
                hosts,
                out_dir=out_dir,
                workers=workers,
                timeout=TIMEOUT_S,
                base_policy=Policy(),
                history=history,
                inventory_label=str(fleet.inventory),
                known_hosts=(fleet.known_hosts,),
                progress=progress,
            )
    finally:
        if history is not None:
            history.close()
    return FleetRun(cost, result, max(done_at) - started, min(done_at) - started)


def netmiko_fleet(fleet: FakeFleetProcess, routers: Sequence[FleetRouter], workers: int) -> tuple[Cost, int]:
    """The plain loop; returns its cost and how many devices failed."""
    commands = list(AUDIT_COMMANDS)

    def audit(router: FleetRouter) -> bool:
        try:
            plain_netmiko(router, commands, enable=True)
        except Exception:  # counted and reported: a benchmark of failures would be meaningless
            return False
        return True

    with measured(fleet) as cost, ThreadPoolExecutor(max_workers=workers) as executor:
        succeeded = list(executor.map(audit, routers))
    return cost, succeeded.count(False)


def raw_paramiko_fleet(fleet: FakeFleetProcess, routers: Sequence[FleetRouter], workers: int) -> Cost:
    """The floor client on the same pool: what concurrency itself costs on this machine."""
    commands = list(AUDIT_COMMANDS)
    with measured(fleet) as cost, ThreadPoolExecutor(max_workers=workers) as executor:
        # list() re-raises the first failure: a floor that skipped routers would not be one.
        list(executor.map(lambda router: raw_paramiko(router, commands, True), routers))
    return cost


def check_collection(target: Target) -> None:
    """Correctness before speed: one collection from the delayed router must be complete."""
    snapshot = NetmikoCollector().collect(target, AUDIT_COMMANDS)
    bad = [c for c, o in snapshot.outputs.items() if o.status in (CommandStatus.TIMEOUT, CommandStatus.NOT_COLLECTED)]
    if bad:
        raise SystemExit(f"collection from {target.label} incomplete: {', '.join(bad)}")


# --------------------------------------------------------------------------------------------------
# Output


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU(s) ({usable} usable)"
        + (f", {model}" if model else "")
        + f"; Python {platform.python_version()}, paramiko {version('paramiko')}, netmiko {version('netmiko')}"
    )


def load_average() -> str:
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def verdict(ratio: float, target: float) -> str:
    return f"target <= {target:g}x: {'met' if ratio <= target else 'MISSED'}"


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def describe_fleet_run(run: FleetRun) -> list[str]:
    statuses = Counter(device.report.status for device in run.result.devices)
    per_device = [device.elapsed_s for device in run.result.devices]
    tail = run.cost.wall_s - run.last_device_done_s
    # "partial" is expected here: plain-ios rejects the CME commands (% Invalid input).
    commands = Counter(c.status for device in run.result.devices for c in device.report.commands)
    return [
        f"      devices: {statuses[DeviceStatus.OK]} ok, {statuses[DeviceStatus.PARTIAL]} partial, "
        f"{statuses[DeviceStatus.ERROR]} error; commands: "
        + ", ".join(f"{count} {status}" for status, count in sorted(commands.items())),
        f"      one device inside the fleet (connect .. audited): median {statistics.median(per_device):.2f} s, "
        f"p90 {percentile(per_device, 0.9):.2f} s, max {max(per_device):.2f} s",
        f"      first device done at {run.first_device_done_s:.2f} s, last at {run.last_device_done_s:.2f} s; "
        f"then {tail:.2f} s for the reports" + (" and closing the history run" if run.result.run_id is not None else ""),
        f"      CPU during the run: this process {run.cost.client_cpu_s:.1f} s (user+sys, all threads), "
        f"its {run.result.judge_processes} judge process(es) {run.cost.judges_cpu_s:.1f} s, "
        f"fake fleet {run.cost.server_cpu_s:.1f} s",
    ]


# --------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--routers", type=int, default=200, help="fake routers in the fleet (default 200)")
    parser.add_argument("--workers", type=int, default=50, help="concurrent devices, cmelive and netmiko (default 50)")
    parser.add_argument("--latency-ms", type=int, default=100, help="delay of every router answer (default 100)")
    parser.add_argument(
        "--repetitions", "-n", type=int, default=5, help="timed single-device runs per way, median (default 5)"
    )
    parser.add_argument("--skip-netmiko", action="store_true", help="leave out the (slow) plain netmiko fleet loop")
    parser.add_argument("--no-history", action="store_true", help="run the fleet without a history database")
    parser.add_argument("--out", type=Path, help="keep cmelive's run directory here (new or empty); default: a temp dir")
    args = parser.parse_args(argv)
    if args.routers < 1 or args.workers < 1 or args.latency_ms < 0 or args.repetitions < 1:
        parser.error("--routers, --workers and --repetitions must be >= 1, --latency-ms >= 0")

    commands = list(AUDIT_COMMANDS)
    examples = example_snapshots()
    print(
        f"cmelive fleet benchmark: {args.routers} fake routers on 127.0.0.1, {args.latency_ms} ms per answer, "
        f"{args.workers} workers"
    )
    print(f"machine: {machine()}")
    print(
        "Wall times are noisy (a shared machine; the fake fleet and this client share its cores): compare the "
        "figures of one run, rerun to see the spread."
    )
    print(
        f"fake fleet: 'cmelive fake-fleet' in a separate process, serving {', '.join(p.name for p in examples)} "
        f"in turn; login in user EXEC, so every client runs enable, then terminal length 0 and the "
        f"{len(commands)} audit commands"
    )
    sys.stdout.flush()

    with tempfile.TemporaryDirectory(prefix="cmelive-bench-fleet-") as scratch_name:
        scratch = Path(scratch_name)
        spread_snapshots(scratch / "snapshots", args.routers, examples)
        os.environ[PASSWORD_ENV] = PASSWORD
        os.environ[ENABLE_SECRET_ENV] = ENABLE_SECRET
        # As 'cmelive fleet' logs: INFO to a file, masked; paramiko and netmiko kept quiet.
        configure_logging(1, str(scratch / "cmelive.log"))
        started = time.perf_counter()
        fleet = FakeFleetProcess(scratch / "snapshots", scratch, args.latency_ms)
        try:
            print(f"fake fleet up in {time.perf_counter() - started:.1f} s (pid {fleet.process.pid})")
            sys.stdout.flush()
            routers = fleet.routers()
            hosts = load_inventory(fleet.inventory).hosts
            probe = routers[0]
            target = Target(
                probe.host,
                probe.port,
                USERNAME,
                PASSWORD,
                ENABLE_SECRET,
                known_hosts=(fleet.known_hosts,),
                timeout=TIMEOUT_S,
                name=probe.name,
            )
            check_collection(target)

            floor = median_seconds(lambda: raw_paramiko(probe, commands, True), args.repetitions)
            collector = median_seconds(lambda: cmelive_collector(target, commands), args.repetitions)
            full = median_seconds(lambda: cmelive_full_audit(target, commands), args.repetitions)
            waves = math.ceil(args.routers / args.workers)
            ideal = waves * floor
            print()
            print(f"one device ({probe.name}, median of {args.repetitions}):")
            print(f"  raw paramiko shell (the floor)   {floor * 1000:7.0f} ms")
            print(f"  cmelive NetmikoCollector         {collector * 1000:7.0f} ms   {collector / floor:5.2f}x floor")
            print(
                f"  cmelive full audit               {full * 1000:7.0f} ms   {full / floor:5.2f}x floor"
                "   (collect + every check + text report)"
            )
            sys.stdout.flush()

            print(f"load average before the fleet run: {load_average()} (other processes make the figures noisier)")
            out_dir = args.out if args.out is not None else scratch / "run"
            history_db = None if args.no_history else scratch / "history.sqlite"
            run = cmelive_fleet(fleet, hosts, args.workers, out_dir, history_db)
            print()
            print(f"fleet of {args.routers}, {args.workers} workers:")
            history_note = "no history" if history_db is None else "history in a new temporary SQLite db"
            print(
                f"  (1) cmelive run_fleet            {run.cost.wall_s:7.2f} s   (collect, masked snapshots, audit, "
                f"{history_note}, 5 reports, INFO log)"
            )
            print("\n".join(describe_fleet_run(run)))
            print(f"  (2) ideal                        {ideal:7.2f} s   = ceil({args.routers}/{args.workers}) = {waves} x floor {floor:.3f} s")
            sys.stdout.flush()
            raw = raw_paramiko_fleet(fleet, routers, args.workers)
            print(
                f"      for reference, the raw paramiko client on the same pool: {raw.wall_s:.2f} s "
                f"({raw.wall_s / ideal:.2f}x ideal; CPU: this process {raw.client_cpu_s:.1f} s, "
                f"fake fleet {raw.server_cpu_s:.1f} s)"
            )
            netmiko: Cost | None = None
            if args.skip_netmiko:
                print("  (3) plain netmiko loop           skipped (--skip-netmiko)")
            else:
                sys.stdout.flush()
                netmiko, failures = netmiko_fleet(fleet, routers, args.workers)
                print(
                    f"  (3) plain netmiko loop           {netmiko.wall_s:7.2f} s   (ThreadPoolExecutor({args.workers}), "
                    f"ConnectHandler defaults, send_command per command; {failures} device(s) failed)"
                )
                print(
                    f"      CPU during the loop: this process {netmiko.client_cpu_s:.1f} s, "
                    f"fake fleet {netmiko.server_cpu_s:.1f} s"
                )
        finally:
            fleet.stop()
            logging.shutdown()
        if args.out is None:
            shutil.rmtree(out_dir, ignore_errors=True)

    per_device = collector / floor
    fleet_ratio = run.cost.wall_s / ideal
    print()
    print("ratios:")
    print(f"  per-device cost / raw floor      {per_device:5.2f}x   {verdict(per_device, PER_DEVICE_TARGET)}")
    print(f"  full single audit / raw floor    {full / floor:5.2f}x")
    print(f"  fleet wall / ideal               {fleet_ratio:5.2f}x   {verdict(fleet_ratio, FLEET_TARGET)}")
    if netmiko is not None:
        print(f"  plain netmiko fleet / cmelive    {netmiko.wall_s / run.cost.wall_s:5.2f}x")
    errors = run.result.errors
    if errors:
        print(f"\n{len(errors)} device(s) could not be audited, e.g. {errors[0].report.name}: {errors[0].report.error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
