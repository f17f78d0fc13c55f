"""Soak test: a fake fleet with every fault mode, audited again and again into one history while
runs are killed at random points (issue 11, "Done when").

Not in the default test run (a few minutes on two cores). Run it with::

    CMELIVE_SOAK=1 python -m pytest tests/soak -q

``CMELIVE_SOAK_ROUTERS`` (default 100), ``CMELIVE_SOAK_RUNS`` (default 8) and ``CMELIVE_SOAK_SEED``
(default: a random seed, printed) shape it. Everything runs on 127.0.0.1.

After every run, whatever ended it: no process of the run is left, the history's run lock is free,
and -- unless the run was killed with SIGKILL, which leaves no chance to write anything -- every
report file lists every inventory device with the status it ended in, and the history records
the same devices with the same statuses. A run killed with SIGKILL is found by the next run and
marked as such; its report files are either absent or whole. At the end ``cmelive history`` and
``cmelive diff`` work on the database, and the peak memory of every run stayed under
:data:`PEAK_RSS_BOUND_MB`.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cmelive.examples import example_dir

pytestmark = pytest.mark.skipif(
    not os.environ.get("CMELIVE_SOAK"), reason="soak test, a few minutes: CMELIVE_SOAK=1 python -m pytest tests/soak"
)

ROUTERS = int(os.environ.get("CMELIVE_SOAK_ROUTERS", "100"))
RUNS = int(os.environ.get("CMELIVE_SOAK_RUNS", "8"))
SEED = int(os.environ.get("CMELIVE_SOAK_SEED", str(random.SystemRandom().randrange(1 << 30))))

#: Peak memory of one fleet run, its judge processes included (their proportional set sizes summed).
PEAK_RSS_BOUND_MB = 1024
#: Longest a run may take, whatever its routers do (a run that finishes on its own).
RUN_BOUND_S = 240.0
#: Longest a run may take to end after SIGTERM/SIGINT.
STOP_BOUND_S = 45.0

#: One fault setting per kind of router; routers take them in turn (every kind appears).
FAULT_KINDS: dict[str, dict[str, object]] = {
    "healthy": {},
    "slow": {"delay_ms": 150},
    "ios124": {"ssh_profile": "ios124"},
    "no-cme": {"no_cme": True},
    "hang": {"hang_on": ["show running-config"]},
    "drop": {"drop_on": ["show running-config"]},
    "bad-login": {"fail_auth": True},
    "bad-enable": {"fail_enable": True},
    "down": {"down": True},
    "key-changed": {"known_host": "changed"},
    "flood": {"flood_on": ["show running-config"]},
    "drip": {"drip_on": ["show version"]},
    "endless": {"endless_on": ["show running-config"]},
    "flood-before-prompt": {"flood_before_prompt": True},
}
EXAMPLES = ("secure-cme", "insecure-cme", "plain-ios")
PASSWORD_ENV = "CMELIVE_FLEET_PASSWORD"
ENABLE_ENV = "CMELIVE_FLEET_ENABLE_SECRET"


@dataclass
class Fleet:
    names: list[str]
    inventory: Path
    known_hosts: Path
    environment: dict[str, str]


@dataclass
class RunOutcome:
    index: int
    out_dir: Path
    action: str  # "finish", "SIGTERM", "SIGINT", "SIGKILL"
    returncode: int
    elapsed_s: float
    peak_rss_mb: float
    stderr: str
    run_id: int | None = None
    statuses: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# The fleet


def faults_of(index: int) -> tuple[str, dict[str, object]]:
    kind = list(FAULT_KINDS)[index % len(FAULT_KINDS)]
    return kind, FAULT_KINDS[kind]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("soak")
    snapshots = root / "snapshots"
    snapshots.mkdir()
    names = [f"soak-{index:03d}" for index in range(ROUTERS)]
    faults_lines = []
    for index, name in enumerate(names):
        shutil.copytree(example_dir(EXAMPLES[index % len(EXAMPLES)]), snapshots / name)
        kind, options = faults_of(index)
        if options:
            faults_lines.append(f"{name}: {json.dumps(options)}  # {kind}")
    faults = root / "faults.yaml"
    faults.write_text("\n".join(faults_lines) + "\n", encoding="utf-8")
    inventory = root / "inventory.yaml"
    # Files, not pipes: a server whose pipe nobody reads would block on its next line.
    server_log = root / "fake-fleet.log"
    with server_log.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "cmelive", "fake-fleet", str(snapshots), "--inventory-out", str(inventory),
             "--faults-file", str(faults), "--password", "soak-pw", "--enable-secret", "soak-en"],
            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while "serving until Ctrl-C" not in server_log.read_text(errors="replace"):
            assert server.poll() is None, f"fake fleet ended: {server_log.read_text(errors='replace')}"
            assert time.monotonic() < deadline, "fake fleet did not start within 120 s"
            time.sleep(0.2)
        environment = {**os.environ, PASSWORD_ENV: "soak-pw", ENABLE_ENV: "soak-en", "HOME": str(root / "home"),
                       "XDG_STATE_HOME": str(root / "state")}  # fmt: skip
        yield Fleet(names, inventory, root / "inventory.known_hosts", environment)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            pytest.fail("fake fleet did not stop within 60 s of SIGINT")


# --------------------------------------------------------------------------------------------------
# Processes


def processes_mentioning(marker: str) -> list[int]:
    """PIDs whose command line holds ``marker`` (a run's own output directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next(line for line in (entry / "status").read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):
            continue
        if marker in cmdline and "zombie" not in state:
            found.append(int(entry.name))
    return found


def tree_pss_kb(pids: list[int]) -> int:
    """Proportional set size of the processes together: forked judges share their parent's pages,
    which a sum of RSS would count once per process."""
    total = 0
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.MULTILINE)
        if match:
            total += int(match.group(1))
    return total


def lock_is_free(db: Path) -> bool:
    lock = db.with_name(db.name + ".lock")
    if not lock.exists():
        return True
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def run_once(fleet: Fleet, db: Path, out_dir: Path, index: int, action: str, kill_after_s: float) -> RunOutcome:
    command = [
        sys.executable, "-m", "cmelive", "fleet", str(fleet.inventory), "--out", str(out_dir), "--db", str(db),
        "--known-hosts", str(fleet.known_hosts), "--timeout", "5", "--workers", "16", "--quiet",
        # Hostile routers are cut at these bounds; the defaults (300 s, 8 MiB) would make each run long.
        "--command-deadline", "10", "--session-deadline", "30", "--max-output", "2M",
    ]  # fmt: skip
    started = time.monotonic()
    # Files, not pipes: a run that prints more than a pipe holds must not block on it.
    stderr_path = out_dir.with_name(out_dir.name + ".stderr")
    with stderr_path.open("w") as stderr_file:
        process = subprocess.Popen(command, env=fleet.environment, stdout=stderr_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    marker = str(out_dir)
    peak_kb = 0
    signalled_at: float | None = None
    stop_bound = STOP_BOUND_S
    while process.poll() is None:
        elapsed = time.monotonic() - started
        if action != "finish" and signalled_at is None and elapsed >= kill_after_s:
            process.send_signal(getattr(signal, action))
            signalled_at = time.monotonic()
        if signalled_at is not None and time.monotonic() - signalled_at > stop_bound:
            process.kill()
            pytest.fail(f"run {index} did not end within {stop_bound:g} s of {action}")
        if elapsed > RUN_BOUND_S:
            process.kill()
            pytest.fail(f"run {index} did not end within {RUN_BOUND_S:g} s")
        peak_kb = max(peak_kb, tree_pss_kb([process.pid, *processes_mentioning(marker)]))
        time.sleep(0.1)
    process.wait()
    stderr = stderr_path.read_text(errors="replace")
    return RunOutcome(index, out_dir, action, process.returncode, time.monotonic() - started, peak_kb / 1024, stderr)


# --------------------------------------------------------------------------------------------------
# What a run left


def report_statuses(out_dir: Path) -> dict[str, str]:
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    return {device["name"]: device["status"] for device in report["devices"]}


def assert_reports_agree(outcome: RunOutcome, names: list[str]) -> None:
    out_dir = outcome.out_dir
    statuses = report_statuses(out_dir)
    assert sorted(statuses) == sorted(names), f"run {outcome.index}: report.json lacks devices"
    with (out_dir / "report.csv").open(encoding="utf-8-sig", newline="") as handle:
        csv_devices = {row["device"] for row in csv.DictReader(handle)}
    assert csv_devices == set(names), f"run {outcome.index}: report.csv lacks devices"
    junit = ET.parse(out_dir / "report.junit.xml").getroot()
    junit_devices = {suite.get("name") for suite in junit.iter("testsuite")}
    assert set(names) <= junit_devices, f"run {outcome.index}: report.junit.xml lacks devices"
    sarif = json.loads((out_dir / "report.sarif").read_text(encoding="utf-8"))
    assert sarif["runs"], f"run {outcome.index}: empty SARIF"
    html = (out_dir / "report.html").read_text(encoding="utf-8")
    assert all(name in html for name in names), f"run {outcome.index}: report.html lacks devices"
    outcome.statuses = statuses


def history_devices(db: Path, run_id: int) -> dict[str, str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT name, status FROM devices WHERE run_id = ?", (run_id,)).fetchall()
    return {str(device): str(status) for device, status in rows}


def latest_run(db: Path) -> tuple[int, str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        row = connection.execute("SELECT id, status FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    return int(row[0]), str(row[1])


def whole_or_absent(out_dir: Path) -> None:
    """After SIGKILL: a report file there is whole (written atomically), never half a file."""
    report = out_dir / "report.json"
    if report.exists():
        json.loads(report.read_text(encoding="utf-8"))
    leftovers = [path.name for path in out_dir.glob("*") if path.name.startswith(".") and path.is_file()]
    assert not leftovers or all(not name.endswith(".json") for name in leftovers)


# --------------------------------------------------------------------------------------------------
# The soak


def test_soak(fleet: Fleet, tmp_path: Path) -> None:
    chooser = random.Random(SEED)
    print(f"soak: {ROUTERS} routers, {RUNS} runs, seed {SEED}")
    db = tmp_path / "history.sqlite"
    actions = ["finish", "SIGKILL", "SIGTERM", "SIGINT"]
    # Every way of ending a run at least once (given RUNS >= 4), in random order; the last run finishes.
    plan = [actions[index] if index < len(actions) else chooser.choice(actions) for index in range(RUNS - 1)]
    chooser.shuffle(plan)
    plan.append("finish")
    outcomes: list[RunOutcome] = []
    for index, action in enumerate(plan):
        out_dir = tmp_path / f"run-{index:02d}"
        kill_after = chooser.uniform(0.0, 20.0)
        outcome = run_once(fleet, db, out_dir, index, action, kill_after)
        outcomes.append(outcome)
        print(f"run {index}: {action} after {kill_after:.1f}s -> exit {outcome.returncode} in {outcome.elapsed_s:.1f}s, "
              f"peak {outcome.peak_rss_mb:.0f} MB")  # fmt: skip
        # No process of the run is left (judges die with their parent, even after SIGKILL).
        deadline = time.monotonic() + 10
        while processes_mentioning(str(out_dir)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not processes_mentioning(str(out_dir)), f"run {index}: processes left after {action}"
        assert lock_is_free(db), f"run {index}: history lock still held after {action}"
        assert outcome.peak_rss_mb < PEAK_RSS_BOUND_MB, outcome
        if action == "SIGKILL" and outcome.returncode == -signal.SIGKILL:
            whole_or_absent(out_dir) if out_dir.exists() else None
            continue
        if action != "finish" and not out_dir.exists():
            # Stopped while Python was still starting, before the run (and its directory) began:
            # there is no run to report, and the history has none either.
            assert outcome.returncode in (130, -signal.SIGTERM, -signal.SIGINT), (index, outcome.returncode)
            print(f"run {index}: stopped before it began")
            continue
        assert outcome.returncode in (0, 1, 3, 130), (index, outcome.returncode, outcome.stderr[-2000:])
        assert_reports_agree(outcome, fleet.names)
        run_id, _ = latest_run(db)
        outcome.run_id = run_id
        assert history_devices(db, run_id) == outcome.statuses, f"run {index}: history and report.json disagree"
    # The database is sound and its tools work on it.
    listing = subprocess.run(
        [sys.executable, "-m", "cmelive", "history", "--db", str(db), "--limit", str(RUNS + 1)],
        env=fleet.environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert listing.returncode == 0, listing.stderr
    shown = {int(line.split()[0]): line.split()[2] for line in listing.stdout.splitlines()[1:] if line.split()}
    assert "running" not in shown.values(), listing.stdout
    for outcome in outcomes:
        if outcome.run_id is not None:
            expected = "complete" if outcome.action == "finish" else "incomplete"
            assert shown[outcome.run_id] == expected, (outcome.index, outcome.action, listing.stdout)
    killed = sum(1 for outcome in outcomes if outcome.action == "SIGKILL")
    assert list(shown.values()).count("aborted") <= killed, listing.stdout
    recorded = [outcome for outcome in outcomes if outcome.run_id is not None]
    if len(recorded) >= 2:
        diff = subprocess.run(
            [sys.executable, "-m", "cmelive", "diff", str(recorded[-2].run_id), str(recorded[-1].run_id), "--db", str(db)],
            env=fleet.environment, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert diff.returncode in (0, 1), diff.stderr
    print(f"soak: peak memory of a run {max(o.peak_rss_mb for o in outcomes):.0f} MB (bound {PEAK_RSS_BOUND_MB} MB)")
