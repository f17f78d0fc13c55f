"""A fleet run killed (``kill -9``) or stopped (SIGTERM) at any point: nothing is left running,
nothing stays locked, nothing is lost (issue 11).

Real processes throughout: ``cmelive fleet`` as a user starts it, against fake routers on
127.0.0.1 (served by this process), with judge worker processes. To kill a run at a precise
point, the run honours a **test-only** pause (``cmelive.fleet.TEST_PAUSE_ENV``): with
``CMELIVE_TEST_PAUSE_AT=start`` it pauses once it holds the run lock and its judges are forked,
before any device begins; with ``=report`` once every device is recorded, before any report is
written; either way it first writes its pid to the file named by ``CMELIVE_TEST_PAUSE_MARKER``.
Mid-collection needs no hook: a router that never answers ``show running-config`` (the fake
router's ``hang_on`` fault) holds its device in flight while the test watches the history.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cmelive.examples import example_dir
from cmelive.fake.faults import Faults
from cmelive.fake.fleet import FakeFleet, FakeRouterSpec
from cmelive.fleet import INTERRUPT_GRACE_S, TEST_PAUSE_ENV, TEST_PAUSE_MARKER_ENV
from cmelive.history import History, RunStatus

from .summary_table import table_rows

PASSWORD_ENV = "CRASH_TEST_PASSWORD"
ENABLE_ENV = "CRASH_TEST_ENABLE"
HANG = Faults(hang_on=("show running-config",))
# Inventory order: the hanging routers first, so that with few workers the others wait behind them.
ROUTERS = (
    ("a-hang", "secure-cme", HANG),
    ("b-hang", "plain-ios", HANG),
    ("r0", "secure-cme", Faults()),
    ("r1", "insecure-cme", Faults()),
    ("r2", "plain-ios", Faults()),
)
HEALTHY = ("r0", "r1", "r2")
REPORTS = ("report.json", "report.csv", "report.sarif", "report.junit.xml", "report.html")


@dataclass(frozen=True)
class Fleet:
    inventory: Path
    environment: dict[str, str]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    directory = tmp_path_factory.mktemp("crash-fleet")
    specs = [FakeRouterSpec(name, example_dir(example), faults=faults) for name, example, faults in ROUTERS]
    with FakeFleet(specs) as fake:
        inventory = fake.write_inventory(
            directory / "inventory.yaml", password_env=PASSWORD_ENV, enable_secret_env=ENABLE_ENV,
            known_hosts=directory / "known_hosts",
        )
        yield Fleet(inventory, fake.environment(password_env=PASSWORD_ENV, enable_secret_env=ENABLE_ENV))


def _environment(fleet: Fleet, extra: dict[str, str] | None = None) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("CMELIVE_")}
    return {**base, **fleet.environment, **(extra or {})}


def _args(fleet: Fleet, out: Path, db: Path, hosts: tuple[str, ...], *extra: str) -> list[str]:
    selection = [arg for name in hosts for arg in ("--host", name)]
    return [
        sys.executable, "-m", "cmelive", "fleet", str(fleet.inventory), "--out", str(out), "--db", str(db),
        "--judges", "2", *selection, *extra,
    ]


def run_fleet(fleet: Fleet, out: Path, db: Path, hosts: tuple[str, ...] = HEALTHY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _args(fleet, out, db, hosts, "--timeout", "10"), capture_output=True, text=True, timeout=120,
        env=_environment(fleet), stdin=subprocess.DEVNULL,
    )


def start_fleet(
    fleet: Fleet, out: Path, db: Path, hosts: tuple[str, ...], *extra: str, pause_at: str | None = None,
    marker: Path | None = None,
) -> subprocess.Popen[str]:
    extra_env = {TEST_PAUSE_ENV: pause_at, TEST_PAUSE_MARKER_ENV: str(marker)} if pause_at and marker else {}
    return subprocess.Popen(
        _args(fleet, out, db, hosts, *extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_environment(fleet, extra_env), stdin=subprocess.DEVNULL,
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cmelive", *args], capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("CMELIVE_")}, stdin=subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------------------------------
# Watching processes, the lock and the history from outside


def descendants(pid: int) -> set[int]:
    """Every process under ``pid`` (children of every thread, recursively), from /proc."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += list(children - found)
            found |= children
    return found


def alive(pid: int) -> bool:
    """Running (a zombie is dead: it only waits for its new parent to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def assert_all_gone(pids: set[int], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if alive(pid)], "processes of the killed run are still running"


def assert_lock_free(db: Path) -> None:
    fd = os.open(f"{db}.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError if anyone holds it
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def device_rows(db: Path, run_id: int | None = None) -> dict[str, str]:
    """The devices of a run (default: the last) and their status, read as any reader would."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        if run_id is None:
            row = conn.execute("SELECT max(id) FROM runs").fetchone()
            run_id = row[0] if row else None
        rows = conn.execute("SELECT name, status FROM devices WHERE run_id = ?", (run_id,)).fetchall()
    return dict(rows)


def wait_for(condition: Callable[[], bool], what: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (sqlite3.Error, OSError):
            pass  # not created yet
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def kill_9(process: subprocess.Popen[str], *, judging: bool = True) -> set[int]:
    """SIGKILL the run; returns the processes it had started (its judges, while it is ``judging``:
    by the time it writes its reports they have ended)."""
    children = descendants(process.pid)
    assert bool(children) == judging, children
    process.kill()
    process.communicate(timeout=10)
    assert process.returncode == -signal.SIGKILL
    return children


# --------------------------------------------------------------------------------------------------
# kill -9


def _in_flight_then_not_started(db: Path) -> bool:
    rows = device_rows(db)
    return rows.get("a-hang") == "interrupted" and rows.get("r0") == "not_started"


@pytest.mark.parametrize("point", ["start", "collection", "report"])
def test_kill_9_leaves_no_process_no_lock_and_a_history_that_says_where_each_device_got_to(
    fleet: Fleet, tmp_path: Path, point: str
) -> None:
    db = tmp_path / "history.sqlite"
    baseline = run_fleet(fleet, tmp_path / "baseline", db)
    assert baseline.returncode == 1, baseline.stderr  # findings at --fail-on high
    marker = tmp_path / "paused"
    if point == "collection":
        # One worker, held by a router that never answers: the rest wait behind it.
        hosts: tuple[str, ...] = ("a-hang", *HEALTHY)
        run = start_fleet(fleet, tmp_path / "killed", db, hosts, "--workers", "1", "--timeout", "120")
        wait_for(lambda: _in_flight_then_not_started(db), "a-hang in flight")
        expected = {"a-hang": "interrupted", **dict.fromkeys(HEALTHY, "not_started")}
    else:
        hosts = HEALTHY
        run = start_fleet(fleet, tmp_path / "killed", db, hosts, "--timeout", "10", pause_at=point, marker=marker)
        wait_for(marker.exists, f"the run to pause at {point}")
        expected = dict.fromkeys(HEALTHY, "not_started") if point == "start" else {
            "r0": "ok", "r1": "partial", "r2": "ok"  # insecure-cme lacks some commands; plain-ios refuses CME ones, as expected
        }
    if point == "start":
        # The run lock is the run's: its judges, forked after it was taken, do not hold it.
        lock = (tmp_path / "history.sqlite.lock").resolve()
        judge_fds = [fd for judge in descendants(run.pid) for fd in Path(f"/proc/{judge}/fd").iterdir()]
        assert judge_fds and lock not in {fd.resolve() for fd in judge_fds}
        assert lock in {fd.resolve() for fd in Path(f"/proc/{run.pid}/fd").iterdir()}
    judges = kill_9(run, judging=point != "report")
    assert_all_gone(judges)
    assert_lock_free(db)
    killed_run = 2
    assert device_rows(db, killed_run) == expected  # every device of the run, with where it got to
    assert not any((tmp_path / "killed" / name).exists() for name in REPORTS)  # kill -9 writes nothing

    # The next run on the same database: it takes the lock and marks the killed run.
    again = run_fleet(fleet, tmp_path / "again", db)
    assert again.returncode == 1, again.stderr
    with History(db, create=False) as store:
        runs = {run.id: run for run in store.list_runs()}
        assert [runs[i].status for i in (1, 2, 3)] == [RunStatus.COMPLETE, RunStatus.ABORTED, RunStatus.COMPLETE]
        assert {d.name: str(d.status) for d in store.load_run(killed_run).devices} == expected
    listing = cli("history", "--db", str(db))
    assert listing.returncode == 0, listing.stderr
    statuses = {line.split()[0]: line.split()[2] for line in listing.stdout.splitlines()[1:]}
    assert statuses == {"3": "complete", "2": "aborted", "1": "complete"}
    # The default diff compares the two complete runs, never the one that died half-way.
    diff = cli("diff", "--db", str(db))
    assert diff.returncode == 0, diff.stderr
    assert diff.stdout.startswith("Run 1 (") and "-> run 3 (" in diff.stdout.splitlines()[0]
    assert "0 new, 0 resolved" in diff.stdout


def test_a_second_kill_9_run_in_a_row_still_frees_everything(fleet: Fleet, tmp_path: Path) -> None:
    """Judges of a killed run die even when the run is killed before its first device; twice in a
    row, the next run is not blocked by either."""
    db = tmp_path / "history.sqlite"
    for attempt in range(2):
        marker = tmp_path / f"paused-{attempt}"
        run = start_fleet(fleet, tmp_path / f"killed-{attempt}", db, HEALTHY, pause_at="start", marker=marker)
        wait_for(marker.exists, "the run to pause at start")
        assert_all_gone(kill_9(run))
        assert_lock_free(db)
    done = run_fleet(fleet, tmp_path / "again", db)
    assert done.returncode == 1, done.stderr
    with History(db, create=False) as store:
        assert [run.status for run in store.list_runs()] == [RunStatus.COMPLETE, RunStatus.ABORTED, RunStatus.ABORTED]


# --------------------------------------------------------------------------------------------------
# SIGTERM


def test_one_sigterm_ends_a_run_stuck_on_silent_routers_within_the_grace(fleet: Fleet, tmp_path: Path) -> None:
    """Two routers never answer (and --timeout is 120 s); two workers, so the other three wait.
    One SIGTERM: the run ends after the grace, exit 130, every device of the inventory in every
    report with the status it ended in, the history the same, nothing left running or locked."""
    db = tmp_path / "history.sqlite"
    out = tmp_path / "run"
    hosts = ("a-hang", "b-hang", *HEALTHY)
    run = start_fleet(fleet, out, db, hosts, "--workers", "2", "--timeout", "120")

    def both_in_flight() -> bool:
        rows = device_rows(db)
        return rows.get("a-hang") == rows.get("b-hang") == "interrupted"

    wait_for(both_in_flight, "both silent routers in flight")
    judges = descendants(run.pid)
    signalled = time.monotonic()
    run.send_signal(signal.SIGTERM)
    stdout, stderr = run.communicate(timeout=INTERRUPT_GRACE_S + 30)
    took = time.monotonic() - signalled
    assert run.returncode == 130, stderr
    assert took < INTERRUPT_GRACE_S + 5, took  # the grace, then the reports: not the routers' 120 s
    assert "Traceback" not in stderr, stderr
    assert_all_gone(judges)
    assert_lock_free(db)

    expected = {"a-hang": "interrupted", "b-hang": "interrupted", **dict.fromkeys(HEALTHY, "not_started")}
    report = json.loads((out / "report.json").read_text())
    assert {d["name"]: d["status"] for d in report["devices"]} == expected
    assert all(d["audited"] is False for d in report["devices"])
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text(encoding="utf-8-sig"))))
    assert {row["device"]: row["device_status"] for row in rows} == expected
    assert {row["device"]: row["status"] for row in rows} == expected
    junit = ET.parse(out / "report.junit.xml").getroot()
    suites = {
        suite.get("name"): {p.get("name"): p.get("value") for p in suite.iter("property")}["device_status"]
        for suite in junit.iter("testsuite")
    }
    assert suites == expected
    sarif = json.loads((out / "report.sarif").read_text())
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert {n["properties"]["device"]: n["properties"]["device_status"] for n in notes} == expected
    html = (out / "report.html").read_text()
    for name in expected:
        assert f'data-name="{name}"' in html
    assert 'badge dev-interrupted' in html and 'badge dev-not_started' in html
    table = {name: row.split()[1] for name, row in table_rows(stdout).items()}
    assert table == expected
    assert "Interrupted: 5 devices not audited" in stdout

    with History(db, create=False) as store:
        (summary,) = store.list_runs()
        assert summary.status == RunStatus.INCOMPLETE
        assert (summary.devices, summary.interrupted, summary.not_started) == (0, 2, 3)
        assert {d.name: str(d.status) for d in store.load_run(summary.id).devices} == expected


def test_a_second_sigterm_abandons_at_once_and_more_signals_break_nothing(fleet: Fleet, tmp_path: Path) -> None:
    """The second signal cuts the grace short; a flurry after it cannot stop the reports being
    written (nor end in a traceback)."""
    db = tmp_path / "history.sqlite"
    out = tmp_path / "run"
    run = start_fleet(fleet, out, db, ("a-hang", "r0"), "--workers", "2", "--timeout", "120")
    wait_for(lambda: device_rows(db) == {"a-hang": "interrupted", "r0": "ok"}, "r0 done, a-hang in flight")
    signalled = time.monotonic()
    for _ in range(6):
        run.send_signal(signal.SIGTERM)
        time.sleep(0.05)
    stdout, stderr = run.communicate(timeout=30)
    took = time.monotonic() - signalled
    assert run.returncode == 130, stderr
    assert took < INTERRUPT_GRACE_S, took
    assert "Traceback" not in stderr, stderr
    assert_lock_free(db)
    report = json.loads((out / "report.json").read_text())
    assert {d["name"]: d["status"] for d in report["devices"]} == {"a-hang": "interrupted", "r0": "ok"}
    assert all((out / name).is_file() for name in REPORTS)
    assert "interrupted again" in (out / "cmelive.log").read_text()
