"""CPU cost of judging one device (parse + every check), now against a baseline revision, in one run.

Run: ``python bench/bench_audit.py`` (about a minute; ``--help`` for the knobs, ``--baseline none``
to time this checkout alone).

A fleet audit runs its devices on worker threads of one Python process, so the CPU each device
costs in Python is serialised by the GIL: this is what bounds a fleet's wall time once the routers
have answered. The benchmark times :func:`cmelive.audit.audit_snapshot` on the three bundled
examples (``secure-cme``, ``insecure-cme``, ``plain-ios``), twice in the same run:

- **baseline**: the package as it was at ``--baseline`` (default: the last revision before the
  audit caches, :data:`BASELINE_REVISION`), taken out of git with ``git archive`` (``src`` and
  ``parsers``) into a temporary directory. That is the honest "before": the very code that ran,
  not a cache switched off in today's code;
- **now**: the package of this checkout.

Each side runs in a fresh interpreter (``PYTHONPATH`` set to its ``src``) on the same snapshots
and the same measuring code (this file, ``--worker``). Per example: one first audit (which also
pays for reading and compiling templates), then ``--repetitions`` audits, timed in CPU time of
the auditing thread (``time.thread_time``) and in wall time. The sides take turns, ``--rounds``
times (baseline, now, baseline, now, ...), and each figure is the median over the rounds of each
round's median: a burst of load from another process lands on one round of one side, not on
the result (CPU time is not immune to it: a busy sibling hyperthread slows the thread down).
Both sides also hash each example's whole report (a DeviceReport holds no time of its own) and
the run fails if a hash differs, so the speed-up is never bought with a different result.

Every audit of ``secure-cme`` verifies two GUI passwords against a type 9 (scrypt) enable secret,
about 5 ms each and the same on both sides; it is shown apart ("scrypt") because CPython's
``hashlib.scrypt`` runs without the GIL: on a fleet it overlaps with the other threads' work.

Last, the fleet shape: ``--fleet-audits`` audits of the three snapshots in turn on ``--threads``
threads (a ``ThreadPoolExecutor``), wall time, for each side.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from baseline import export_source  # bench/ is on sys.path when a bench runs as a script

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = ("secure-cme", "insecure-cme", "plain-ios")
#: The last revision before the audit caches (pooled TextFSMs, shared dial-pattern answers,
#: first-word index of the config, per-device derived structures).
BASELINE_REVISION = "356ce5ef3aee68236aca3205415d8c06c636c3de"


# --- worker: runs inside the interpreter of one side ---------------------------------------------


def _worker(repetitions: int, fleet_audits: int, threads: int) -> dict[str, Any]:
    import cmelive
    from cmelive.audit import audit_snapshot
    from cmelive.snapshot import read_snapshot

    scrypt_seconds = [0.0]
    real_scrypt: Callable[..., bytes] = hashlib.scrypt

    def timed_scrypt(*args: Any, **kwargs: Any) -> bytes:
        start = time.thread_time()
        try:
            return real_scrypt(*args, **kwargs)
        finally:
            scrypt_seconds[0] += time.thread_time() - start

    hashlib.scrypt = timed_scrypt  # measuring only: the same function, timed
    snapshots = {name: read_snapshot(REPO / "src" / "cmelive" / "examples" / name) for name in EXAMPLES}
    examples: dict[str, Any] = {}
    for name, snapshot in snapshots.items():
        start = time.thread_time()
        first = audit_snapshot(snapshot)
        first_cpu = time.thread_time() - start
        cpu: list[float] = []
        wall: list[float] = []
        scrypt: list[float] = []
        for _ in range(repetitions):
            scrypt_seconds[0] = 0.0
            wall_start, cpu_start = time.perf_counter(), time.thread_time()
            audit_snapshot(snapshot)
            cpu.append(time.thread_time() - cpu_start)
            wall.append(time.perf_counter() - wall_start)
            scrypt.append(scrypt_seconds[0])
        examples[name] = {
            "first_cpu": first_cpu,
            "cpu": statistics.median(cpu),
            "wall": statistics.median(wall),
            "scrypt": statistics.median(scrypt),
            "report": hashlib.sha256(json.dumps(first.to_dict(), sort_keys=True).encode()).hexdigest(),
        }
    hashlib.scrypt = real_scrypt
    queue = [snapshots[EXAMPLES[index % len(EXAMPLES)]] for index in range(fleet_audits)]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(audit_snapshot, queue))
    fleet_wall = time.perf_counter() - start
    return {"module": cmelive.__file__, "examples": examples, "fleet_wall": fleet_wall}


# --- driver ---------------------------------------------------------------------------------------


def _combine(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The median over rounds of every figure; report hashes must agree between rounds."""
    combined: dict[str, Any] = {"fleet_wall": statistics.median(r["fleet_wall"] for r in rounds), "examples": {}}
    for name in EXAMPLES:
        results = [r["examples"][name] for r in rounds]
        reports = {result["report"] for result in results}
        if len(reports) != 1:
            raise SystemExit(f"{name}: the same code gave different reports in different rounds")
        combined["examples"][name] = {
            key: statistics.median(result[key] for result in results) for key in ("first_cpu", "cpu", "wall", "scrypt")
        }
        combined["examples"][name]["report"] = reports.pop()
    return combined


def _run_side(source: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(source))
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--repetitions",
        str(args.repetitions),
        "--fleet-audits",
        str(args.fleet_audits),
        "--threads",
        str(args.threads),
    ]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the worker for {source} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout)
    if not Path(result["module"]).resolve().is_relative_to(source.resolve()):
        raise SystemExit(f"the worker for {source} imported cmelive from {result['module']}")
    return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def _print_table(baseline: dict[str, Any] | None, now: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"per-audit CPU time (ms): median of {args.repetitions} audits after a first one, median over "
        f"{args.rounds} rounds; wall time beside it"
    )
    head = f"{'example':<14}"
    if baseline is not None:
        head += f"{'baseline':>9}{'(wall)':>9}"
    head += f"{'now':>9}{'(wall)':>9}{'scrypt':>9}{'first':>9}"
    if baseline is not None:
        head += f"{'speed-up':>10}"
    print(head)
    for name in EXAMPLES:
        row = f"{name:<14}"
        current = now["examples"][name]
        if baseline is not None:
            before = baseline["examples"][name]
            row += f" {_ms(before['cpu'])} {_ms(before['wall'])}"
        row += f" {_ms(current['cpu'])} {_ms(current['wall'])} {_ms(current['scrypt'])} {_ms(current['first_cpu'])}"
        if baseline is not None:
            row += f" {before['cpu'] / current['cpu']:8.2f}x"
        print(row)
    now_median = statistics.median(now["examples"][name]["cpu"] for name in EXAMPLES)
    row = f"{'median of 3':<14}"
    if baseline is not None:
        before_median = statistics.median(baseline["examples"][name]["cpu"] for name in EXAMPLES)
        row += f" {_ms(before_median)} {'':>8}"
    row += f" {_ms(now_median)}"
    if baseline is not None:
        row += f" {'':>8} {'':>8} {'':>8} {before_median / now_median:8.2f}x"
    print(row)
    print()
    fleet = f"fleet: {args.fleet_audits} audits on {args.threads} threads, wall time (s):"
    if baseline is not None:
        ratio = baseline["fleet_wall"] / now["fleet_wall"]
        print(f"{fleet} baseline {baseline['fleet_wall']:.2f}, now {now['fleet_wall']:.2f} ({ratio:.2f}x)")
    else:
        print(f"{fleet} now {now['fleet_wall']:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repetitions", type=int, default=30, help="timed audits per example, side and round")
    parser.add_argument("--rounds", type=int, default=3, help="turns each side takes, alternating")
    parser.add_argument("--baseline", default=BASELINE_REVISION, help="git revision to compare with, or 'none'")
    parser.add_argument("--fleet-audits", type=int, default=200)
    parser.add_argument("--threads", type=int, default=50)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.repetitions, args.fleet_audits, args.threads)))
        return 0
    baseline_rounds: list[dict[str, Any]] = []
    now_rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as scratch:
        baseline_source = None
        if args.baseline != "none":
            print(f"baseline: {args.baseline[:12]} (git archive), now: {REPO / 'src'}", flush=True)
            baseline_source = export_source(args.baseline, Path(scratch))
        for _ in range(args.rounds):
            if baseline_source is not None:
                baseline_rounds.append(_run_side(baseline_source, args))
            now_rounds.append(_run_side(REPO / "src", args))
    baseline = _combine(baseline_rounds) if baseline_rounds else None
    now = _combine(now_rounds)
    _print_table(baseline, now, args)
    if baseline is not None:
        differ = [n for n in EXAMPLES if baseline["examples"][n]["report"] != now["examples"][n]["report"]]
        if differ:
            print(f"REPORTS DIFFER from the baseline for: {', '.join(differ)}")
            return 1
        print("reports: identical to the baseline's for all three examples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
