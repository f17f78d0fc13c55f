"""Judging one big router: time against the running-config's size, now against a baseline, in one run.

Run: ``python bench/bench_big_config.py`` (about a minute; ``--help`` for the knobs, ``--baseline none``
to time this checkout alone).

Issue 13 ("big routers"): no check may be superlinear in the config's size, and a 50,000-line
config is judged in under 1 s. The configs are :func:`big_config.big_snapshot`'s: the bundled
``secure-cme`` example grown the way a large CME grows (LAN subinterfaces, H.323 dial-peers whose
session targets are H.225 peers, ACL entries permitting them, static routes, ephone-dns and
ephones), at ``--sizes`` lines.

Each side (``--baseline``, default the revision this work started from, taken out of git with
``git archive``; and this checkout) runs the same generated snapshots through the same measuring
code (this file, ``--worker``): per size, after a warm-up on the ``insecure-cme`` example, one first audit,
then ``--repetitions`` more, of :func:`cmelive.audit.audit_snapshot` (parse + every check, as a
fleet's judge runs it, garbage collector on), wall and CPU time of the thread. The first audit of a
config is the one that counts: it compiles the config's dial patterns, as a fleet's judge does for
each router; the later ones find them compiled. Each (side, size) runs in its own interpreter;
the sides take turns ``--rounds`` times; each figure is the median over the rounds.

What it prints, per side and size: the first audit's CPU and wall time, its CPU per 1,000 lines,
and that against the smallest size's (1.00x everywhere is linear; a quadratic check doubles it
with the size), and the later audits' wall time ("again"); then the 50,000-line audit against the
target (1 s), and the speed-up over the baseline (CPU).
Both sides hash each size's whole report and the run fails if they differ: the speed-up never
comes from a different verdict.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from baseline import export_source  # bench/ is on sys.path when a bench runs as a script

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
#: The revision this work started from (before the prefix indexes of issue 13).
BASELINE_REVISION = "9580a31"
TARGET_LINES = 50_000
TARGET_SECONDS = 1.0


# --- worker: runs inside the interpreter of one side ---------------------------------------------


def _worker(size: int, repetitions: int) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH))
    import cmelive
    from big_config import big_snapshot
    from cmelive.audit import audit_snapshot
    from cmelive.commands import RUNNING_CONFIG

    from cmelive.examples import example_dir
    from cmelive.snapshot import read_snapshot

    # Templates compiled before anything is timed, on another example: one that shared the big
    # config's secrets would leave this side's GUI password check (scrypt) already answered.
    audit_snapshot(read_snapshot(example_dir("insecure-cme")))
    snapshot = big_snapshot(size)
    lines = snapshot.outputs[RUNNING_CONFIG].text.count("\n") + 1
    wall_start, cpu_start = time.perf_counter(), time.thread_time()
    first = audit_snapshot(snapshot)
    first_cpu, first_wall = time.thread_time() - cpu_start, time.perf_counter() - wall_start
    wall: list[float] = []
    for _ in range(repetitions):
        wall_start = time.perf_counter()
        audit_snapshot(snapshot)
        wall.append(time.perf_counter() - wall_start)
    return {
        "module": cmelive.__file__,
        "lines": lines,
        "first": first_wall,
        "first_cpu": first_cpu,
        "again": statistics.median(wall) if wall else first_wall,
        "report": hashlib.sha256(json.dumps(first.to_dict(), sort_keys=True).encode()).hexdigest(),
    }


# --- driver ---------------------------------------------------------------------------------------


def _run_side(source: Path, size: str, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(source))
    command = [
        sys.executable, str(Path(__file__).resolve()), "--worker",
        "--sizes", size, "--repetitions", str(args.repetitions),
    ]  # fmt: skip
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the worker for {source} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout)
    if not Path(result["module"]).resolve().is_relative_to(source.resolve()):
        raise SystemExit(f"the worker for {source} imported cmelive from {result['module']}")
    return result


def _combine(rounds: list[dict[str, dict[str, Any]]], sizes: list[str]) -> dict[str, Any]:
    """The median over rounds of every figure; report hashes must agree between rounds."""
    combined: dict[str, Any] = {}
    for size in sizes:
        results = [r[size] for r in rounds]
        reports = {result["report"] for result in results}
        if len(reports) != 1:
            raise SystemExit(f"{size} lines: the same code gave different reports in different rounds")
        combined[size] = {key: statistics.median(r[key] for r in results) for key in ("first", "first_cpu", "again")}
        combined[size]["lines"] = results[0]["lines"]
        combined[size]["report"] = reports.pop()
    return combined


def _print_side(label: str, side: dict[str, Any], sizes: list[str]) -> None:
    # Per line in CPU time of the auditing thread: another process's burst lands on wall time more.
    base = side[sizes[0]]
    base_per_line = base["first_cpu"] / base["lines"]
    print(f"{label}:")
    print(f"  {'lines':>8} {'audit (cpu)':>12} {'(wall)':>10} {'cpu ms / 1k lines':>18} {'vs smallest':>12} {'again':>10}")
    for size in sizes:
        row = side[size]
        per_line = row["first_cpu"] / row["lines"]
        print(
            f"  {row['lines']:>8,} {row['first_cpu'] * 1000:>9.1f} ms {row['first'] * 1000:>7.1f} ms "
            f"{per_line * 1e6:>18.2f} {per_line / base_per_line:>11.2f}x {row['again'] * 1000:>7.1f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="5000,10000,25000,50000", help="config sizes in lines, comma-separated")
    parser.add_argument("--repetitions", type=int, default=3, help="timed audits per size, side and round")
    parser.add_argument("--rounds", type=int, default=2, help="turns each side takes, alternating")
    parser.add_argument("--baseline", default=BASELINE_REVISION, help="git revision to compare with, or 'none'")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [str(int(size)) for size in args.sizes.split(",")]
    if args.worker:
        print(json.dumps(_worker(int(sizes[0]), args.repetitions)))
        return 0
    print(
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    baseline_rounds: list[dict[str, dict[str, Any]]] = []
    now_rounds: list[dict[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-big-") as scratch:
        baseline_source = None
        if args.baseline != "none":
            print(f"baseline: {args.baseline[:12]} (git archive), now: {REPO / 'src'}", flush=True)
            baseline_source = export_source(args.baseline, Path(scratch))
        for _ in range(args.rounds):
            if baseline_source is not None:
                baseline_rounds.append({size: _run_side(baseline_source, size, args) for size in sizes})
            now_rounds.append({size: _run_side(REPO / "src", size, args) for size in sizes})
    print(
        f"the first audit of each config in a fresh interpreter (as a fleet's judge meets it), median over "
        f"{args.rounds} rounds; 'again': the median of {args.repetitions} more audits of it (warm pattern caches)"
    )
    baseline = _combine(baseline_rounds, sizes) if baseline_rounds else None
    now = _combine(now_rounds, sizes)
    if baseline is not None:
        _print_side(f"baseline ({args.baseline[:12]})", baseline, sizes)
    _print_side("now", now, sizes)
    largest = now[sizes[-1]]
    verdict = "met" if largest["first"] < TARGET_SECONDS else "NOT met"
    print(
        f"{largest['lines']:,} lines judged in {largest['first']:.2f} s wall, {largest['first_cpu']:.2f} s CPU "
        f"(target: {TARGET_LINES:,} lines under {TARGET_SECONDS:.0f} s: {verdict} on wall time)"
    )
    if baseline is None:
        return 0
    for size in sizes:
        print(f"  speed-up at {now[size]['lines']:,} lines: {baseline[size]['first_cpu'] / now[size]['first_cpu']:.2f}x (CPU)")
    differ = [size for size in sizes if baseline[size]["report"] != now[size]["report"]]
    if differ:
        print(f"REPORTS DIFFER from the baseline at: {', '.join(differ)} lines")
        return 1
    print("reports: identical to the baseline's at every size")
    return 0


if __name__ == "__main__":
    sys.exit(main())
