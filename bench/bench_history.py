"""Run history size and read times: now against a baseline revision's history, in one run.

Run: ``python bench/bench_history.py`` (a few minutes; ``--help`` for the knobs).

A fleet of ``--devices`` routers (the three bundled examples, audited once, each result made
unique to its device: no sharing across devices flatters the first run) is recorded ``--runs``
times. Between runs what changes is what changes between two real nightly runs: every device's
uptime and command durations, and one result on 1% of the devices. Both sides record the same
reports:

- **baseline**: ``src/cmelive/history.py`` as it was at ``--baseline`` (default: the last revision
  with every result of every run in full), loaded from git beside the package;
- **now**: the working tree's history.

Printed for each side: the database's bytes after the first run, per device-run for a run that
changed nothing but uptimes and durations, and after every run; the time to record a run (the
hashing included, which a fleet's judge processes do); the baseline's database migrated to now's
schema (time and size); and at
5 runs and at ``--runs`` runs, the medians of ``history -n 5`` (``list_runs(5)``: the same work
whatever the runs kept), ``history`` (``list_runs(20)``: 5 runs listed at 5, 20 at 30) and ``diff``
(the last two complete runs), read through the Python API (the CLI adds its ~0.3 s start). Everything happens in a temporary
directory; nothing touches the network.

``--postgresql`` adds a third side, **now on PostgreSQL**: the working tree's history in a throwaway
cluster (initdb in a temporary directory, listening on 127.0.0.1 only: ``tests/postgres_cluster.py``;
needs the Debian ``postgresql`` package and psycopg). Between two runs a plain ``VACUUM`` stands for
the autovacuum that runs in the hours between two nightly runs (each device's ``not_started`` row,
replaced by its result, is a dead row until then); then the bytes are ``pg_database_size`` (the tables,
their indexes and TOAST, and PostgreSQL's own catalogs, ~7.5 MB of it) and the history's tables alone.
With ``--baseline none --postgresql`` the SQLite side in the same run is the baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from cmelive.audit import audit_snapshot  # noqa: E402
from cmelive.examples import example_dir  # noqa: E402
from cmelive.report.model import DeviceReport  # noqa: E402
from cmelive.snapshot import read_snapshot  # noqa: E402

BASELINE_REVISION = "9580a31"  # schema 1: every result of every run stored in full


def load_baseline(revision: str) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{revision}:src/cmelive/history.py"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    name = "cmelive_history_baseline"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, f"{revision}:src/cmelive/history.py", "exec"), module.__dict__)
    return module


def load_now() -> ModuleType:
    import cmelive.history

    return cmelive.history


def fleet(devices: int) -> list[DeviceReport]:
    examples = [audit_snapshot(read_snapshot(example_dir(name)), name=name) for name in ("insecure-cme", "secure-cme", "plain-ios")]
    reports = []
    for number in range(devices):
        base = examples[number % len(examples)]
        name = f"r{number:05}"
        results = [dataclasses.replace(r, message=f"{r.message} [{name}]") for r in base.results]
        reports.append(dataclasses.replace(base, name=name, host=f"127.0.0.{number % 250 + 1}", results=results))
    return reports


def next_run(reports: list[DeviceReport], run: int, rng: random.Random) -> list[DeviceReport]:
    """What a following nightly run reports: new uptimes and durations, one result changed on 1%."""
    out = []
    for index, report in enumerate(reports):
        facts = {**report.facts, "uptime": f"{run} days, {index % 24} hours"}
        commands = [dataclasses.replace(c, duration_s=rng.uniform(0.05, 3.0)) for c in report.commands]
        results = report.results
        if index % 100 == run % 100 and results:
            results = [dataclasses.replace(results[0], message=f"{results[0].message} (run {run})"), *results[1:]]
        out.append(dataclasses.replace(report, facts=facts, commands=commands, results=results))
    return out


def db_bytes(path: Path | str) -> int:
    if isinstance(path, str):  # a PostgreSQL URL: the database, catalogs included
        return pg_bytes(path)[0]
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if not p.name.endswith(".lock"))


def pg_bytes(url: str) -> tuple[int, int]:
    """A PostgreSQL history's bytes: the whole database, and the history's own tables (indexes, TOAST)."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT pg_database_size(current_database()), (SELECT sum(pg_total_relation_size(c.oid))::bigint"
            " FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r')"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def checkpoint(path: Path | str) -> None:
    """Between two runs: SQLite's log written back to the file; PostgreSQL's dead rows vacuumed."""
    if isinstance(path, str):
        import psycopg

        with psycopg.connect(path, autocommit=True) as pg:
            pg.execute("VACUUM")
        return
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def median_time(action: Callable[[], Any], repetitions: int) -> float:
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reads(module: ModuleType, path: Path | str, repetitions: int) -> dict[str, float]:
    with module.History(path, create=False) as store:
        return {
            "history -n 5": median_time(lambda: store.list_runs(5), repetitions),
            "history": median_time(lambda: store.list_runs(20), repetitions),
            "diff": median_time(lambda: store.diff(), repetitions),
        }


def side(
    label: str, module: ModuleType, base: list[DeviceReport], runs: int, workdir: Path, repetitions: int,
    url: str | None = None,
) -> dict[str, Any]:
    path: Path | str = url if url is not None else workdir / label / "history.sqlite"
    rng = random.Random(13)
    figures: dict[str, Any] = {"record": []}
    reports = base
    if isinstance(path, str):
        module.History(path).close()  # the schema, before the first run is measured
        figures["empty"] = db_bytes(path)
        figures["empty tables"] = pg_bytes(path)[1]
    for run in range(1, runs + 1):
        reports = base if run == 1 else next_run(base, run, rng)
        before = db_bytes(path) if isinstance(path, str) or path.exists() else 0
        start = time.perf_counter()
        with module.History(path) as store:
            handle = store.start_run("bench.yaml", len(reports), [(r.name, r.host) for r in reports])
            for report in reports:
                store.record_device(handle, report)
            store.finish_run(handle, complete=True)
        figures["record"].append(time.perf_counter() - start)
        checkpoint(path)
        grown = db_bytes(path) - before
        if run == 1:
            figures["first run"] = grown
        elif run == 2:
            figures["per device-run, unchanged"] = grown / len(reports)
        if run == 5:
            figures["at 5"] = reads(module, path, repetitions)
            figures["bytes at 5"] = db_bytes(path)
        if run > 5:
            figures.setdefault("grown after 5", []).append(grown)
        print(f"  {label}: run {run}/{runs} recorded in {figures['record'][-1]:.2f} s, database {db_bytes(path) / 1e6:.1f} MB", flush=True)
    figures[f"at {runs}"] = reads(module, path, repetitions)
    figures["bytes"] = db_bytes(path)
    if isinstance(path, str):
        figures["tables"] = pg_bytes(path)[1]
    elif module is not load_now():
        # Upgrading: the baseline's database opened by this cmelive (migrated in place), then vacuumed.
        now = load_now()
        start = time.perf_counter()
        now.History(path).close()
        figures["migrate"] = time.perf_counter() - start
        checkpoint(path)
        figures["migrated bytes"] = db_bytes(path)
        import sqlite3

        with sqlite3.connect(path) as conn:
            conn.execute("VACUUM")
        conn.close()
        figures["vacuumed bytes"] = db_bytes(path)
        print(f"  {label}: migrated in {figures['migrate']:.1f} s, {figures['migrated bytes'] / 1e6:.1f} MB, vacuumed {figures['vacuumed bytes'] / 1e6:.1f} MB")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30, help="runs recorded by each side (at least 5)")
    parser.add_argument("--baseline", default=BASELINE_REVISION, help="git revision, or 'none'")
    parser.add_argument("--baseline-runs", type=int, default=None, help="runs for the baseline (default: --runs)")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument(
        "--postgresql", action="store_true", help="also the working tree's history on a throwaway PostgreSQL (127.0.0.1)"
    )
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs: at least 5")
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    print(f"{args.devices} devices; building the fleet ...", flush=True)
    base = fleet(args.devices)
    print(f"  {sum(len(r.results) for r in base)} results, each unique to its device", flush=True)
    sides = [("now", load_now(), args.runs)]
    if args.baseline != "none":
        sides.insert(0, (f"baseline {args.baseline}", load_baseline(args.baseline), args.baseline_runs or args.runs))
    measured: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp, contextlib.ExitStack() as stack:
        for label, module, runs in sides:
            measured[label] = side(label.split()[0], module, base, runs, Path(tmp), args.repetitions)
            measured[label]["runs"] = runs
        if args.postgresql:
            sys.path.insert(0, str(REPO))
            from tests.postgres_cluster import _bin_dir, postgres_cluster

            if _bin_dir() is None:
                parser.error("--postgresql: no PostgreSQL server here (Debian package 'postgresql')")
            cluster = stack.enter_context(postgres_cluster())
            label = "now, PostgreSQL"
            measured[label] = side(
                "postgresql", load_now(), base, args.runs, Path(tmp), args.repetitions, url=cluster.new_database()
            )
            measured[label]["runs"] = args.runs
    print()
    print(f"| {args.devices} devices | " + " | ".join(measured) + " |")
    print("|---|" + "---|" * len(measured))

    def row(name: str, cell: Callable[[dict[str, Any]], str]) -> None:
        print(f"| {name} | " + " | ".join(cell(m) for m in measured.values()) + " |")

    row("empty database (PostgreSQL: its catalogs; the history's tables)", lambda m: (
        f"{m['empty'] / 1e6:.1f} MB; {m['empty tables'] / 1e3:.0f} KB" if "empty" in m else ""
    ))
    row("database after run 1", lambda m: f"{m['first run'] / 1e6:.1f} MB")
    row("bytes per device-run, nothing changed", lambda m: f"{m['per device-run, unchanged']:,.0f} B")
    row("bytes per device-run, runs 6 to the last (1% of results changed)", lambda m: (
        f"{statistics.mean(m['grown after 5']) / len(base):,.0f} B" if m.get("grown after 5") else ""
    ))
    row("database after 5 runs", lambda m: f"{m['bytes at 5'] / 1e6:.1f} MB")
    row("database after all runs", lambda m: f"{m['bytes'] / 1e6:.1f} MB ({m['runs']} runs)" + (
        f"; tables {m['tables'] / 1e6:.1f} MB" if "tables" in m else ""
    ))
    row("record one run (median)", lambda m: f"{statistics.median(m['record']):.2f} s")
    for read in ("history -n 5", "history", "diff"):
        row(f"`{read}` at 5 runs", lambda m, read=read: f"{m['at 5'][read] * 1000:.0f} ms")
        row(f"`{read}` at all runs", lambda m, read=read: f"{m['at ' + str(m['runs'])][read] * 1000:.0f} ms")
    for m in measured.values():
        if "migrate" in m:
            print(
                f"\nbaseline database migrated to now's schema in {m['migrate']:.1f} s: {m['bytes'] / 1e6:.1f} MB ->"
                f" {m['migrated bytes'] / 1e6:.1f} MB, {m['vacuumed bytes'] / 1e6:.1f} MB after VACUUM"
            )
    if args.baseline != "none":
        (old, new) = list(measured.values())[:2]
        print()
        print(f"bytes per unchanged device-run: now/baseline {new['per device-run, unchanged'] / old['per device-run, unchanged']:.3f}")
        print(f"database after run 1: now/baseline {new['first run'] / old['first run']:.2f}")
    if "now" in measured and "now, PostgreSQL" in measured:
        lite, pg = measured["now"], measured["now, PostgreSQL"]
        print()
        print(f"PostgreSQL/SQLite (now, same run): bytes per unchanged device-run "
              f"{pg['per device-run, unchanged'] / lite['per device-run, unchanged']:.2f}, record a run "
              f"{statistics.median(pg['record']) / statistics.median(lite['record']):.2f}, " + ", ".join(
                  f"{read} at all runs {pg['at ' + str(pg['runs'])][read] / lite['at ' + str(lite['runs'])][read]:.2f}"
                  for read in ("history -n 5", "history", "diff")
              ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
