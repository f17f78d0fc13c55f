"""Issue 13's fleet table, re-measured: cmelive's fleet run vs the raw paramiko pool, row by row.

Run: ``python bench/bench_fleet_table.py [--repetitions 3] [--rows 200:100:50,200:100:100,...]
[--baseline REV | --baseline none] [--judge-processes N] [--shards K] [--judge-niceness N]``

Each row is ``routers:latency_ms:workers``. The default rows are the issue's table: 200 routers
at 100 ms with 50 and 100 workers, 200 at 0 ms with 50, 2,000 at 0 ms with 50 and 100. For every
(routers, latency) one fake fleet (``cmelive fake-fleet``, bench_fleet.py's set-up) serves all the
runs of its rows; each run is a fresh Python process, so no run inherits another's heap or caches:

- ``cmelive``: :func:`cmelive.fleet.run_fleet` as ``cmelive fleet`` runs it (judge processes,
  masked snapshots, history in a new SQLite database, the five reports, an INFO log file);
- ``raw``: bench_single's raw paramiko client (``enable``, ``terminal length 0``, the audit
  commands; no parsing, no checks, nothing written) on a ``ThreadPoolExecutor`` of the same
  number of workers: the floor;
- ``baseline`` (unless ``--baseline none``): cmelive's fleet run from an earlier revision's
  source (``bench/baseline.py``), for before/after;
- prototypes, when asked: ``cmelive xK`` (``--shards K``: K fleet processes at once, each over
  every K-th router with workers / K threads and judges of its own; what collector processes
  would gain where one interpreter's GIL is the wall) and ``cmelive nice N``
  (``--judge-niceness N``: the judge processes at another niceness).

The ways take turns within each repetition (the order rotates), so a busier minute of this
shared machine falls on all of them. Per row: median wall and its spread (min-max) for each way,
the ratio cmelive / raw against issue 13's target (<= 1.3x), cmelive's CPU (its process and its
judge processes) and the fake fleet's, and the peak RSS of cmelive's process tree (its process +
its judges, sampled every 50 ms from ``/proc``). Each run's line also says how much CPU the rest
of the machine used meanwhile (``/proc/stat``): on a shared machine, that is what slows a run.
Linux only. Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Issue 13's target: cmelive's fleet wall within this factor of the raw pool's.
TARGET = 1.3
DEFAULT_ROWS = "200:100:50,200:100:100,200:0:50,2000:0:50,2000:0:100"
BASELINE_REVISION = "42791c4"
BENCH = Path(__file__).resolve().parent
SRC = BENCH.parent / "src"
TIMEOUT_S = 30.0
_RSS_EVERY_S = 0.05


# --------------------------------------------------------------------------------------------------
# One run, in a child process (imports are local: the baseline child has another cmelive)


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
            except OSError:
                continue
    except OSError:
        pass
    return found


class PeakRss:
    """The largest sum of RSS over this process and its children, sampled in a thread."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self.peak_self_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(_RSS_EVERY_S):
            own = _rss_kib(me)
            self.peak_self_kib = max(self.peak_self_kib, own)
            self.peak_kib = max(self.peak_kib, own + sum(_rss_kib(c) for c in _children(me)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def child_cmelive(args: argparse.Namespace) -> dict[str, Any]:
    from cmelive.fleet import run_fleet
    from cmelive.history import History
    from cmelive.inventory import load_inventory
    from cmelive.logs import configure_logging
    from cmelive.policy import Policy

    scratch = Path(args.scratch)
    configure_logging(1, str(scratch / "cmelive.log"))
    hosts = load_inventory(Path(args.inventory)).hosts
    if args.shard is not None:
        index, count = (int(part) for part in args.shard.split("/"))
        hosts = hosts[index::count]
    history = History(scratch / "history.sqlite")
    if args.niceness is not None:
        import cmelive.judging

        cmelive.judging._JUDGE_NICENESS = args.niceness  # a bench-only knob: the prototype way
    kwargs: dict[str, Any] = {}
    if args.judge_processes is not None:
        kwargs["judge_processes"] = args.judge_processes
    rss = PeakRss()
    cpu_self, cpu_children = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    started, started_at = time.perf_counter(), time.time()
    try:
        result = run_fleet(
            hosts,
            out_dir=scratch / "run",
            workers=args.workers,
            timeout=TIMEOUT_S,
            base_policy=Policy(),
            history=history,
            inventory_label=args.inventory,
            known_hosts=(Path(args.known_hosts),),
            **kwargs,
        )
    finally:
        history.close()
    wall = time.perf_counter() - started
    rss.stop()
    return {
        "wall": wall,
        "started_at": started_at,
        "ended_at": time.time(),
        "cpu_process": _cpu(resource.RUSAGE_SELF) - cpu_self,
        "cpu_judges": _cpu(resource.RUSAGE_CHILDREN) - cpu_children,
        "rss_tree_mb": rss.peak_kib / 1024,
        "rss_process_mb": rss.peak_self_kib / 1024,
        "errors": len(result.errors),
        "devices": len(result.devices),
    }


def child_raw(args: argparse.Namespace) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    import paramiko

    from bench_single import raw_paramiko  # bench/ is on sys.path when a bench runs as a script
    from cmelive.commands import AUDIT_COMMANDS
    from cmelive.inventory import load_inventory

    from bench_fleet import FleetRouter

    keys = paramiko.HostKeys(args.known_hosts)
    routers = []
    for host in load_inventory(Path(args.inventory)).hosts:
        known = keys.lookup(f"[{host.address}]:{host.port}")
        assert known is not None, host.name
        routers.append(FleetRouter(host.name, host.address, host.port, next(iter(known.values()))))
    commands = list(AUDIT_COMMANDS)
    rss = PeakRss()
    cpu_self = _cpu(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as executor:
        # list() re-raises the first failure: a floor that skipped routers would not be one.
        list(executor.map(lambda router: raw_paramiko(router, commands, True), routers))
    wall = time.perf_counter() - started
    rss.stop()
    return {
        "wall": wall,
        "cpu_process": _cpu(resource.RUSAGE_SELF) - cpu_self,
        "cpu_judges": 0.0,
        "rss_tree_mb": rss.peak_kib / 1024,
        "rss_process_mb": rss.peak_self_kib / 1024,
        "errors": 0,
        "devices": len(routers),
    }


# --------------------------------------------------------------------------------------------------
# The parent: fleets, rows, turns


@dataclass(frozen=True)
class Row:
    routers: int
    latency_ms: int
    workers: int

    @property
    def label(self) -> str:
        return f"{self.routers:,} routers, {self.latency_ms} ms, {self.workers} workers"


def parse_rows(text: str) -> list[Row]:
    rows = []
    for item in text.split(","):
        parts = item.strip().split(":")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise SystemExit(f"--rows: {item!r} is not routers:latency_ms:workers")
        rows.append(Row(int(parts[0]), int(parts[1]), int(parts[2])))
    return rows


def run_child(
    way: str,
    src: Path,
    fleet: Any,
    row: Row,
    scratch: Path,
    judge_processes: int | None,
    shards: int = 1,
    niceness: int | None = None,
) -> dict[str, Any]:
    """One run of ``way`` in fresh process(es). ``shards`` > 1 (cmelive only): that many fleet
    processes at once, each over every shards-th host with workers / shards threads."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), str(BENCH)]))
    children = []
    run_dirs = []
    for shard in range(shards):
        run_dir = Path(tempfile.mkdtemp(prefix=f"{way}-", dir=scratch))
        run_dirs.append(run_dir)
        command = [
            sys.executable, str(Path(__file__).resolve()), "--child", "raw" if way == "raw" else "cmelive",
            "--inventory", str(fleet.inventory), "--known-hosts", str(fleet.known_hosts),
            "--workers", str(max(1, row.workers // shards)), "--scratch", str(run_dir),
        ]  # fmt: skip
        if shards > 1:
            command += ["--shard", f"{shard}/{shards}"]
        if judge_processes is not None:
            command += ["--judge-processes", str(judge_processes)]
        if niceness is not None:
            command += ["--niceness", str(niceness)]
        children.append(command)
    server, busy, ours = fleet.cpu_seconds(), machine_busy_seconds(), _cpu(resource.RUSAGE_CHILDREN)
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in children
    ]
    outputs = [process.communicate() for process in processes]
    server, busy = fleet.cpu_seconds() - server, machine_busy_seconds() - busy
    ours = _cpu(resource.RUSAGE_CHILDREN) - ours  # the run's processes, start-up included
    for run_dir in run_dirs:
        subprocess.run(["rm", "-rf", str(run_dir)], check=False)
    parts: list[dict[str, Any]] = []
    for process, (stdout, stderr) in zip(processes, outputs):
        if process.returncode != 0:
            raise SystemExit(f"{way} run failed ({process.returncode}):\n{stderr[-3000:]}")
        parts.append(json.loads(stdout.strip().splitlines()[-1]))
    measured = dict(parts[0])
    if shards > 1:  # from the first start to the last end; costs summed
        measured["wall"] = max(p["ended_at"] for p in parts) - min(p["started_at"] for p in parts)
        for key in ("cpu_process", "cpu_judges", "rss_tree_mb", "rss_process_mb", "errors", "devices"):
            measured[key] = sum(p[key] for p in parts)
    measured["cpu_fake_fleet"] = server
    # What the rest of the machine used meanwhile (other users of the shared cores, and this
    # bench's parent): the load average would count the runs' own threads too.
    measured["cpu_others"] = max(0.0, busy - server - ours)
    if measured["errors"]:
        raise SystemExit(f"{way}: {measured['errors']} device(s) could not be audited")
    return measured


def machine_busy_seconds() -> float:
    """CPU time every process of the machine has used since boot (``/proc/stat``, all CPUs)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def spread(values: Sequence[float], unit: str = "s", digits: int = 2) -> str:
    return f"{statistics.median(values):.{digits}f} {unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", default=DEFAULT_ROWS, help=f"routers:latency_ms:workers,... (default {DEFAULT_ROWS})")
    parser.add_argument("--repetitions", "-n", type=int, default=3, help="runs per way and row (default 3)")
    parser.add_argument("--baseline", default=BASELINE_REVISION, help="git revision to compare with, or 'none'")
    parser.add_argument("--judge-processes", type=int, help="passed to run_fleet (default: its own)")
    parser.add_argument(
        "--shards",
        type=int,
        default=0,
        help="also run the prototype 'cmelive xK': K fleet processes at once, each over 1/K of the routers "
        "with workers/K threads (default: not run)",
    )
    parser.add_argument(
        "--judge-niceness",
        type=int,
        help="also run the way 'cmelive nice N': the judge processes at niceness N instead of cmelive's own",
    )
    parser.add_argument("--shard", help=argparse.SUPPRESS)
    parser.add_argument("--niceness", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=("cmelive", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--inventory", help=argparse.SUPPRESS)
    parser.add_argument("--known-hosts", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child_cmelive(args) if args.child == "cmelive" else child_raw(args)))
        return 0

    import bench_fleet
    from baseline import export_source
    from cmelive.cli.fake_fleet import ENABLE_SECRET_ENV, PASSWORD_ENV

    rows = parse_rows(args.rows)
    print(f"issue 13's fleet table: cmelive vs the raw paramiko pool, {args.repetitions} run(s) each way and row")
    print(f"machine: {bench_fleet.machine()}")
    ways = ["cmelive", "raw"] + ([] if args.baseline == "none" else ["baseline"])
    if args.shards > 1:
        ways.append(f"cmelive x{args.shards}")
    if args.judge_niceness is not None:
        ways.append(f"cmelive nice {args.judge_niceness}")
    results: dict[tuple[Row, str], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="cmelive-bench-table-") as scratch_name:
        scratch = Path(scratch_name)
        srcs = {way: SRC for way in ways}
        if "baseline" in ways:
            (scratch / "baseline").mkdir()
            srcs["baseline"] = export_source(args.baseline, scratch / "baseline")
        os.environ[PASSWORD_ENV] = bench_fleet.PASSWORD
        os.environ[ENABLE_SECRET_ENV] = bench_fleet.ENABLE_SECRET
        groups: dict[tuple[int, int], list[Row]] = {}
        for row in rows:
            groups.setdefault((row.routers, row.latency_ms), []).append(row)
        for (routers, latency), group in groups.items():
            fleet_dir = scratch / f"fleet-{routers}-{latency}"
            fleet_dir.mkdir()
            bench_fleet.spread_snapshots(fleet_dir / "snapshots", routers, bench_fleet.example_snapshots())
            started = time.perf_counter()
            fleet = bench_fleet.FakeFleetProcess(fleet_dir / "snapshots", fleet_dir, latency)
            try:
                print(f"\nfake fleet of {routers:,} at {latency} ms up in {time.perf_counter() - started:.1f} s; "
                      f"load average {load_average()}")
                # One untimed raw pass: the fleet's first sessions build its routers' caches.
                run_child("raw", SRC, fleet, group[0], fleet_dir, None)
                for repetition in range(args.repetitions):
                    for row in group:
                        turn = ways[repetition % len(ways):] + ways[: repetition % len(ways)]
                        for way in turn:
                            shards = args.shards if way.startswith("cmelive x") else 1
                            niceness = args.judge_niceness if way.startswith("cmelive nice") else None
                            measured = run_child(
                                way, srcs[way], fleet, row, fleet_dir, args.judge_processes, shards, niceness
                            )
                            results.setdefault((row, way), []).append(measured)
                            print(f"  {row.label}, run {repetition + 1}, {way:14s}: {measured['wall']:6.2f} s, "
                                  f"CPU {measured['cpu_process'] + measured['cpu_judges']:5.1f} s "
                                  f"(other processes' CPU meanwhile {measured['cpu_others']:.1f} s)", flush=True)
            finally:
                fleet.stop()
    print_table(rows, ways, results)
    return 0


def print_table(rows: Sequence[Row], ways: Sequence[str], results: dict[tuple[Row, str], list[dict[str, Any]]]) -> None:
    print("\nmedian (min-max) over the runs; ratio = median cmelive / median raw, target <= "
          f"{TARGET:g}x")
    head = "| fleet | cmelive wall | raw pool wall | ratio | "
    if "baseline" in ways:
        head += "baseline wall, CPU (process + judges) | "
    sharded = [way for way in ways if way.startswith(("cmelive x", "cmelive nice"))]
    for way in sharded:
        head += f"{way} wall (ratio) | "
    head += "cmelive CPU (process + judges) | fake fleet CPU (cmelive / raw) | peak RSS cmelive process / tree |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for row in rows:
        cme, raw = results[(row, "cmelive")], results[(row, "raw")]
        ratio = statistics.median(r["wall"] for r in cme) / statistics.median(r["wall"] for r in raw)
        line = (
            f"| {row.label} | {spread([r['wall'] for r in cme])} | {spread([r['wall'] for r in raw])} | "
            f"{ratio:.2f}x {'met' if ratio <= TARGET else 'MISSED'} | "
        )
        if "baseline" in ways:
            base = results[(row, "baseline")]
            line += (
                f"{spread([r['wall'] for r in base])}, {statistics.median(r['cpu_process'] + r['cpu_judges'] for r in base):.1f} s "
                f"({statistics.median(r['cpu_process'] for r in base):.1f} + {statistics.median(r['cpu_judges'] for r in base):.1f}) | "
            )
        for way in sharded:
            walls = [r["wall"] for r in results[(row, way)]]
            line += f"{spread(walls)} ({statistics.median(walls) / statistics.median(r['wall'] for r in raw):.2f}x) | "
        cpu = [r["cpu_process"] + r["cpu_judges"] for r in cme]
        line += (
            f"{statistics.median(cpu):.1f} s ({statistics.median(r['cpu_process'] for r in cme):.1f} + "
            f"{statistics.median(r['cpu_judges'] for r in cme):.1f}); raw {statistics.median(r['cpu_process'] for r in raw):.1f} s | "
            f"{statistics.median(r['cpu_fake_fleet'] for r in cme):.1f} / {statistics.median(r['cpu_fake_fleet'] for r in raw):.1f} s | "
            f"{statistics.median(r['rss_process_mb'] for r in cme):.0f} / {statistics.median(r['rss_tree_mb'] for r in cme):.0f} MB |"
        )
        print(line)


if __name__ == "__main__":
    sys.exit(main())
