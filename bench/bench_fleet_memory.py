"""Fleet memory against the fleet's size: peak RSS of ``cmelive fleet``'s process tree, now vs a baseline.

    python bench/bench_fleet_memory.py [--sizes 500,2000,10000] [--workers 50] [--baseline 42791c4]
                                       [--baseline-max 2000] [--interval-ms 50]

For each size N: N fake routers (the bundled examples in turn, no added latency) served by ``cmelive
fake-fleet`` in separate processes (not measured; at most ``--shard`` routers each), then ``cmelive
fleet`` over them as a child process, once with this checkout's source and once with
``--baseline``'s (exported from git, see baseline.py), each with a new SQLite history and run
directory. While it runs, the resident set size of its process tree (the fleet process and its judge
worker processes) is summed from ``/proc`` every ``--interval-ms``; the peak and the wall time are
printed. Forked judges share pages with their parent, which RSS counts in each: the figure is the
one issue 13 measured, an upper bound on what the tree uses; the proportional set size (PSS,
``smaps_rollup``: a shared page counted once) is printed beside it. ``--baseline-max`` skips the
baseline above that size (the baseline needs ~0.45 MB per router); ``--baseline none`` skips it
everywhere. Linux only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import yaml
from baseline import REPO, export_source
from bench_fleet import (
    ENABLE_SECRET,
    PASSWORD,
    FakeFleetProcess,
    example_snapshots,
    load_average,
    machine,
)

from cmelive.cli.fake_fleet import ENABLE_SECRET_ENV, PASSWORD_ENV

DEFAULT_BASELINE = "42791c4"
#: Issue 13's target for 10,000 routers.
TARGET_MB = 400.0
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree(root: int) -> list[int]:
    """``root`` and its descendants (``/proc/<pid>/task/<tid>/children``)."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    todo += [int(child) for child in children.read().split()]
            except OSError:
                continue
    return found


def tree_rss(root: int) -> tuple[int, int]:
    """(RSS of ``root``, RSS of its descendants), in bytes."""
    own = others = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/statm") as statm:
                rss = int(statm.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
        if pid == root:
            own = rss
        else:
            others += rss
    return own, others


def tree_pss(root: int) -> int:
    """Proportional set size of ``root``'s tree, in bytes: each shared page counted once in all."""
    total = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            continue
    return total


class Sampler:
    """The peak of :func:`tree_rss` over a process's life, sampled every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float) -> None:
        self.pid, self.interval, self.peak, self.samples = pid, interval, 0, 0
        self.peak_own = self.peak_others = 0  # each at its own peak
        self.peak_pss = 0
        self.started = time.perf_counter()
        self.peak_at = 0.0  # seconds after the start
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            own, others = tree_rss(self.pid)
            if own + others > self.peak:
                self.peak, self.peak_at = own + others, time.perf_counter() - self.started
            self.peak_own, self.peak_others = max(self.peak_own, own), max(self.peak_others, others)
            self.peak_pss = max(self.peak_pss, tree_pss(self.pid))
            self.samples += 1
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


class ShardedFleet:
    """Fake routers in ``cmelive fake-fleet`` processes of at most ``shard`` routers each (one
    process of 10,000 failed with EMFILE under ``ulimit -n 20000`` while starting its listeners),
    their inventories and known_hosts files merged into one of each."""

    def __init__(self, scratch: Path, routers: int, shard: int, examples: Sequence[Path]) -> None:
        self.processes: list[FakeFleetProcess] = []
        self.inventory, self.known_hosts = scratch / "inventory.yaml", scratch / "known_hosts"
        width = len(str(routers))
        hosts: dict[str, object] = {}
        keys: list[str] = []
        try:
            for number, first in enumerate(range(0, routers, shard)):
                part = scratch / f"shard-{number}"
                (part / "snapshots").mkdir(parents=True)
                for index in range(first, min(first + shard, routers)):
                    (part / "snapshots" / f"router-{index + 1:0{width}d}").symlink_to(
                        examples[index % len(examples)], target_is_directory=True
                    )
                self.processes.append(FakeFleetProcess(part / "snapshots", part, 0))
                hosts.update(yaml.safe_load(self.processes[-1].inventory.read_text())["hosts"])
                keys.append(self.processes[-1].known_hosts.read_text())
        except BaseException:
            self.stop()
            raise
        self.known_hosts.write_text("".join(keys))
        document = {"defaults": {"known_hosts": str(self.known_hosts)}, "groups": {}, "hosts": hosts}
        self.inventory.write_text(yaml.safe_dump(document, sort_keys=False))

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


def run_side(
    src: Path, fleet: ShardedFleet, scratch: Path, label: str, workers: int, interval: float
) -> tuple[float, float, int, str]:
    """``cmelive fleet`` from ``src``: (peak tree RSS in MB, wall s, exit code, its last stderr)."""
    out = scratch / f"run-{label}"
    env = {
        **os.environ, "PYTHONPATH": str(src), "HOME": str(scratch / "home"), "XDG_STATE_HOME": str(scratch / "state"),
        PASSWORD_ENV: PASSWORD, ENABLE_SECRET_ENV: ENABLE_SECRET,
    }
    command = [
        sys.executable, "-m", "cmelive", "fleet", str(fleet.inventory), "--out", str(out),
        "--known-hosts", str(fleet.known_hosts), "--workers", str(workers), "--db", str(scratch / f"{label}.sqlite"),
        "--quiet", "--exit-zero",
    ]  # fmt: skip
    started = time.perf_counter()
    with open(scratch / f"{label}.stderr", "wb") as stderr:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        sampler = Sampler(process.pid, interval)
        code = process.wait()
        sampler.stop()
    wall = time.perf_counter() - started
    tail = (scratch / f"{label}.stderr").read_text(errors="replace")[-400:]
    print(f"    (peak {sampler.peak_at:.0f} s in; fleet process alone {sampler.peak_own / 1e6:.0f} MB, "
          f"judges {sampler.peak_others / 1e6:.0f} MB, each at its own peak; peak PSS of the tree "
          f"{sampler.peak_pss / 1e6:.0f} MB; {sampler.samples} samples)")
    return sampler.peak / 1e6, wall, code, tail


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500,2000,10000", help="fleet sizes, comma-separated")
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision, or 'none'")
    parser.add_argument("--baseline-max", type=int, default=2000, help="no baseline above this many routers")
    parser.add_argument("--interval-ms", type=float, default=50.0)
    parser.add_argument("--shard", type=int, default=5000, help="most fake routers per fake-fleet process")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    interval = args.interval_ms / 1000

    print(machine())
    print(f"cmelive fleet --workers {args.workers}, fake routers at 0 ms; peak RSS summed over the fleet process "
          f"and its judges, sampled every {args.interval_ms:g} ms")
    examples = example_snapshots()
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cmelive-bench-memory-") as scratch_name:
        scratch = Path(scratch_name)
        (scratch / "baseline").mkdir()
        baseline_src = export_source(args.baseline, scratch / "baseline") if args.baseline != "none" else None
        now_src = REPO / "src"
        for size in sizes:
            here = scratch / f"n{size}"
            here.mkdir()
            started = time.perf_counter()
            fleet = ShardedFleet(here, size, args.shard, examples)
            try:
                print(f"\n{size} routers: fake fleet up in {time.perf_counter() - started:.1f} s "
                      f"({len(fleet.processes)} process(es)); load {load_average()}")
                sides = [("now", now_src)]
                if baseline_src is not None and size <= args.baseline_max:
                    sides.append((f"baseline {args.baseline}", baseline_src))
                results: dict[str, tuple[float, float]] = {}
                for label, src in sides:
                    peak, wall, code, tail = run_side(src, fleet, here, label.split()[0], args.workers, interval)
                    print(f"  {label:<18} peak RSS {peak:8.0f} MB   wall {wall:7.1f} s   "
                          f"{peak / size * 1000:6.1f} KB/router   exit {code}")
                    if code not in (0,):
                        print(f"    stderr: {tail.strip()}")
                    results[label.split()[0]] = (peak, wall)
                    sys.stdout.flush()
            finally:
                fleet.stop()
            now_peak, now_wall = results["now"]
            base = results.get("baseline")
            rows.append(
                f"| {size:,} | {now_peak:,.0f} MB | {now_wall:.1f} s | "
                + (f"{base[0]:,.0f} MB | {base[1]:.1f} s |" if base else "skipped | skipped |")
            )
    print("\n| routers | now: peak RSS | now: wall | baseline: peak RSS | baseline: wall |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    biggest = max(sizes)
    print(f"\ntarget: {biggest:,} routers under {TARGET_MB:.0f} MB (issue 13)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
