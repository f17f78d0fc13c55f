"""Run history: schema, run lock, crash safety, round trip, counts, diff, trend, CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import date
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cmelive.audit import audit_snapshot, unreachable_report
from cmelive.checks import get_check
from cmelive.checks.base import CheckResult, Evidence, Severity, Status
from cmelive.commands import RUNNING_CONFIG, CommandStatus
from cmelive.errors import ConnectError, HistoryError, RunLockedError, UsageError
from cmelive.examples import example_dir
from cmelive.history import SCHEMA_VERSION, History, Presence, RunStatus, RunSummary, default_db_path, diff_reports
from cmelive.report.model import DeviceReport, DeviceStatus
from cmelive.snapshot import CommandOutput, read_snapshot


def result(check_id: str, status: Status, message: str = "", waiver: dict[str, str] | None = None) -> CheckResult:
    spec = get_check(check_id)
    assert spec is not None
    return CheckResult(
        check=spec.id,
        title=spec.title,
        severity=spec.severity,
        family=spec.family,
        status=status,
        reference=spec.reference,
        message=message or f"{check_id} is {status}",
        evidence=(Evidence("show running-config", 12, "line vty 0 4"),) if status == Status.FAIL else (),
        remediation=("line vty 0 4", " transport input ssh") if status == Status.FAIL else (),
        waiver=waiver,
    )


def device(name: str, *results: CheckResult, status: DeviceStatus = DeviceStatus.OK) -> DeviceReport:
    # An audited device: its running-config was collected whole (report.model's not-audited rule).
    commands = [] if status == DeviceStatus.ERROR else [CommandOutput(RUNNING_CONFIG, CommandStatus.OK)]
    return DeviceReport(
        name=name, host=f"10.0.0.{len(name)}", hostname=name.upper(), status=status, commands=commands,
        results=list(results),
    )


def record_run(store: History, *devices: DeviceReport, complete: bool = True) -> int:
    handle = store.start_run("inventory.yaml", len(devices))
    for report in devices:
        store.record_device(handle, report)
    store.finish_run(handle, complete=complete)
    return handle.run_id


def run_child(script: str, db: Path) -> subprocess.Popen[str]:
    """A separate Python process working on ``db`` (``DB`` in the script)."""
    prelude = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from cmelive.history import History\n"
        "from cmelive.checks.base import Status\n"
        "from tests.test_history import device, result\n"
        f"DB = Path({str(db)!r})\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", prelude + textwrap.dedent(script)],
        cwd=Path(__file__).resolve().parents[1],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "history.sqlite"


# -- schema and opening ---------------------------------------------------------------------------


def test_new_database_has_the_versioned_schema_in_wal_mode(db: Path) -> None:
    with History(db):
        pass
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "devices", "results"} <= tables
    columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    assert columns == {
        "id", "started_at", "finished_at", "status", "inventory", "host_count", "tool_version", "pid", "hostname", "scope"
    }
    conn.close()


def test_reopening_keeps_runs(db: Path) -> None:
    with History(db) as store:
        run_id = record_run(store, device("r1", result("CME-ACC-04", Status.FAIL)))
    with History(db, create=False) as store:
        assert [run.id for run in store.list_runs()] == [run_id]


def test_default_db_path_follows_xdg_state_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "cmelive" / "history.sqlite"
    monkeypatch.setenv("XDG_STATE_HOME", "")
    assert default_db_path() == Path.home() / ".local" / "state" / "cmelive" / "history.sqlite"


def test_missing_database_is_refused_when_only_reading(db: Path) -> None:
    with pytest.raises(HistoryError, match="no run history here"):
        History(db, create=False)
    assert not db.exists()


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text("hosts:\n  r1: {address: 10.0.0.1}\n" * 50)
    with pytest.raises(HistoryError, match="not an SQLite database") as caught:
        History(path)
    assert str(path) in str(caught.value)
    assert path.read_text().startswith("hosts:")  # untouched


def test_an_sqlite_database_of_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(HistoryError, match="not a cmelive run history"):
        History(path)


def test_a_newer_schema_is_refused(db: Path) -> None:
    History(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(HistoryError, match="newer cmelive"):
        History(db)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="is a directory"):
        History(tmp_path)


# -- the run lock ---------------------------------------------------------------------------------


def test_second_run_on_same_database_fails_at_once_naming_the_first(db: Path) -> None:
    first, second = History(db), History(db)
    handle = first.start_run("inv.yaml", 3)
    with pytest.raises(RunLockedError) as caught:
        second.start_run("inv.yaml", 3)
    message = str(caught.value)
    assert str(db) in message
    assert f"run {handle.run_id}" in message
    assert f"pid {os.getpid()}" in message
    assert handle.started_at in message
    # The refused run left no trace, and the first one is untouched.
    assert [(run.id, run.status) for run in second.list_runs()] == [(handle.run_id, RunStatus.RUNNING)]
    first.finish_run(handle, complete=True)
    later = second.start_run("inv.yaml", 3)  # the lock is free again
    second.finish_run(later, complete=True)
    assert [run.status for run in second.list_runs()] == [RunStatus.COMPLETE, RunStatus.COMPLETE]


def test_the_lock_is_shared_by_every_path_to_the_database(db: Path, tmp_path: Path) -> None:
    History(db).close()
    link = tmp_path / "link.sqlite"
    link.symlink_to(db)
    store = History(db)
    handle = store.start_run("inv.yaml", 1)
    with pytest.raises(RunLockedError):
        History(link).start_run("inv.yaml", 1)
    store.finish_run(handle, complete=True)


def test_run_held_by_another_process_blocks_then_frees_when_it_dies(db: Path) -> None:
    child = run_child(
        """
        store = History(DB)
        handle = store.start_run("nightly.yaml", 2)
        store.record_device(handle, device("r1", result("CME-ACC-04", Status.FAIL)))
        print(handle.run_id, flush=True)
        sys.stdin.readline()   # hold the run until the parent says so
        os._exit(1)            # die without finishing
        """,
        db,
    )
    assert child.stdout is not None and child.stdin is not None
    child_run = int(child.stdout.readline())
    store = History(db)
    with pytest.raises(RunLockedError, match=f"pid {child.pid} "):
        store.start_run("nightly.yaml", 2)
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.wait() == 1
    handle = store.start_run("nightly.yaml", 2)  # the OS released the dead run's lock
    store.finish_run(handle, complete=True)
    runs = {run.id: run for run in store.list_runs()}
    assert runs[child_run].status == RunStatus.ABORTED  # it died without finishing
    assert runs[child_run].devices == 1
    assert runs[handle.run_id].status == RunStatus.COMPLETE


def test_run_context_manager_marks_incomplete_on_error_and_releases_the_lock(db: Path) -> None:
    store = History(db)
    with pytest.raises(KeyboardInterrupt):
        with store.run("inv.yaml", 2) as handle:
            store.record_device(handle, device("r1"))
            raise KeyboardInterrupt
    with store.run("inv.yaml", 1) as second:
        store.record_device(second, device("r1"))
    assert [(run.id, run.status) for run in store.list_runs()] == [
        (second.run_id, RunStatus.COMPLETE),
        (handle.run_id, RunStatus.INCOMPLETE),
    ]
    assert all(run.finished_at for run in store.list_runs())


def test_finished_run_refuses_more_devices_and_finishing_twice_is_harmless(db: Path) -> None:
    store = History(db)
    handle = store.start_run("inv.yaml", 1)
    store.record_device(handle, device("r1"))
    with pytest.raises(HistoryError, match="'r1' is already recorded"):
        store.record_device(handle, device("r1"))
    store.finish_run(handle, complete=True)
    store.finish_run(handle, complete=False)
    assert store.list_runs()[0].status == RunStatus.COMPLETE
    with pytest.raises(HistoryError, match="is finished"):
        store.record_device(handle, device("r2"))


# -- crash safety ---------------------------------------------------------------------------------


def test_crash_mid_run_keeps_finished_devices_and_marks_the_run_incomplete(db: Path) -> None:
    History(db).close()
    child = run_child(
        """
        store = History(DB)
        handle = store.start_run("nightly.yaml", 5)
        store.record_device(handle, device("r1", result("CME-ACC-04", Status.FAIL)))
        store.record_device(handle, device("r2", result("CME-GUI-06", Status.FAIL), result("CME-ACC-01", Status.PASS)))
        os._exit(1)
        """,
        db,
    )
    _, stderr = child.communicate()
    assert child.returncode == 1, stderr
    store = History(db)
    (crashed,) = store.list_runs()
    # Before any new run, readers already see the dead run as aborted (its pid is gone).
    assert crashed.status == RunStatus.ABORTED
    handle = store.start_run("nightly.yaml", 5)
    store.finish_run(handle, complete=True)
    stored_status = sqlite3.connect(db).execute("SELECT status FROM runs WHERE id = ?", (crashed.id,)).fetchone()[0]
    assert stored_status == "incomplete"
    report = store.load_run(crashed.id)
    assert [d.name for d in report.devices] == ["r1", "r2"]
    assert [(r.check, r.status) for r in report.devices[1].results] == [
        ("CME-GUI-06", Status.FAIL),
        ("CME-ACC-01", Status.PASS),
    ]
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_crash_inside_a_device_transaction_leaves_no_half_device(db: Path) -> None:
    History(db).close()
    child = run_child(
        """
        store = History(DB)
        handle = store.start_run("nightly.yaml", 2)
        store.record_device(handle, device("r1", result("CME-ACC-04", Status.FAIL)))
        # Die after r2's device row and its first result row are written, before the commit.
        store._conn.create_function("crash_now", 0, lambda: os._exit(1))
        store._conn.execute("CREATE TEMP TRIGGER crash AFTER INSERT ON results BEGIN SELECT crash_now(); END")
        store.record_device(handle, device("r2", result("CME-ACC-04", Status.FAIL), result("CME-ACC-01", Status.FAIL)))
        os._exit(0)  # not reached
        """,
        db,
    )
    _, stderr = child.communicate()
    assert child.returncode == 1, stderr
    store = History(db)
    (crashed,) = store.list_runs()
    assert crashed.devices == 1
    assert crashed.failures[Severity.HIGH] == 1
    assert [d.name for d in store.load_run(crashed.id).devices] == ["r1"]
    conn = sqlite3.connect(db)
    # Nothing of r2: no device row, and not its result the crash interrupted (r1 has no CME-ACC-01).
    assert conn.execute("SELECT count(*) FROM devices WHERE name = 'r2'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM results WHERE check_id = 'CME-ACC-01'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM result_sets").fetchone()[0] == 1
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_devices_recorded_from_many_threads_are_all_kept(db: Path) -> None:
    store = History(db)
    handle = store.start_run("inv.yaml", 40)
    reports = [device(f"r{n:02}", result("CME-ACC-04", Status.FAIL)) for n in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda report: store.record_device(handle, report), reports))
    store.finish_run(handle, complete=True)
    (run,) = store.list_runs()
    assert run.devices == 40
    assert run.failures[Severity.HIGH] == 40


# -- round trip and counts ------------------------------------------------------------------------


def test_load_run_rebuilds_the_report_of_real_audits(db: Path) -> None:
    reports = [
        audit_snapshot(read_snapshot(example_dir(name)), name=name) for name in ("insecure-cme", "secure-cme", "plain-ios")
    ]
    reports.append(unreachable_report("branch-9", "10.9.9.9", ConnectError("connection refused")))
    store = History(db)
    run_id = record_run(store, *reports)
    loaded = store.load_run(run_id)
    assert [d.to_dict() for d in loaded.devices] == [d.to_dict() for d in reports]
    assert loaded.generated_at == store.get_run(run_id).finished_at


def test_evidence_is_stored_masked(db: Path) -> None:
    secret = "Sup3rS3cret!"
    leaky = CheckResult(
        check="CME-ACC-01",
        title="t",
        severity=Severity.HIGH,
        family="ACC",
        status=Status.FAIL,
        reference="ref",
        message="enable password is set",
        evidence=(Evidence("show running-config", 4, f"enable password {secret}"),),
    )
    store = History(db)
    run_id = record_run(store, device("r1", leaky))
    (stored,) = store.load_run(run_id).devices[0].results
    assert stored.evidence == (Evidence("show running-config", 4, "enable password <masked>"),)
    store.close()
    for path in db.parent.iterdir():
        assert secret.encode() not in path.read_bytes(), path


def test_list_runs_counts_devices_failures_and_waivers(db: Path) -> None:
    waiver = {"reason": "legacy pager", "owner": "voice", "expires": "2099-01-01"}
    store = History(db)
    first = record_run(store, device("r1", result("CME-ACC-04", Status.FAIL)))
    second = record_run(
        store,
        device(
            "r1",
            result("CME-GUI-06", Status.FAIL),  # critical
            result("CME-ACC-04", Status.FAIL),  # high
            result("CME-ACC-01", Status.FAIL),  # high
            result("CME-ACC-02", Status.FAIL),  # medium
            result("CME-CDP-01", Status.WAIVED, waiver=waiver),  # low, waived: not a failure
            result("CME-GUI-07", Status.FAIL),  # info
            result("CME-ACC-05", Status.PASS),
            result("CME-ACC-06", Status.UNKNOWN),
        ),
        device("r2", result("CME-ACC-09", Status.FAIL), status=DeviceStatus.PARTIAL),
        unreachable_report("r3", "10.0.0.3", ConnectError("timed out")),
        complete=False,
    )
    runs = store.list_runs()
    assert [run.id for run in runs] == [second, first]
    latest = runs[0]
    assert latest.status == RunStatus.INCOMPLETE
    assert (latest.devices, latest.ok, latest.partial, latest.error, latest.host_count) == (3, 1, 1, 1, 3)
    assert latest.failures == {
        Severity.CRITICAL: 1, Severity.HIGH: 2, Severity.MEDIUM: 1, Severity.LOW: 1, Severity.INFO: 1
    }
    assert latest.waived == 1
    assert (latest.pid, latest.inventory, latest.tool_version) == (os.getpid(), "inventory.yaml", "0.1.0")
    assert runs[1].failures[Severity.HIGH] == 1 and runs[1].waived == 0
    assert [run.id for run in store.list_runs(limit=1)] == [second]
    assert store.load_run(second).devices[0].results[4].waiver == waiver


def test_trend_is_oldest_first_with_failures_by_severity(db: Path) -> None:
    store = History(db)
    ids = [
        record_run(store, device("r1", *[result(c, Status.FAIL) for c in checks]))
        for checks in (["CME-GUI-06", "CME-ACC-04"], ["CME-ACC-04"], [])
    ]
    points = store.trend(limit=2)
    assert [(p.run_id, p.failures[Severity.CRITICAL], p.failures[Severity.HIGH]) for p in points] == [
        (ids[1], 0, 1),
        (ids[2], 0, 0),
    ]
    run_id, started_at, failures = store.trend()[0]
    assert (run_id, failures[Severity.CRITICAL]) == (ids[0], 1)
    assert started_at == store.get_run(ids[0]).started_at


# -- results stored once, and schema 1 migrated ----------------------------------------------------


def audited_fleet() -> list[DeviceReport]:
    reports = [
        audit_snapshot(read_snapshot(example_dir(name)), name=name) for name in ("insecure-cme", "secure-cme", "plain-ios")
    ]
    waiver = {"reason": "r", "owner": "o", "expires": "2099-01-01"}
    reports.append(device("r-waived", result("CME-ACC-04", Status.WAIVED, waiver=waiver), result("CME-ACC-01", Status.FAIL)))
    reports.append(unreachable_report("branch-9", "10.9.9.9", ConnectError("connection refused")))
    return reports


def table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        tables = ("devices", "results", "result_sets", "result_set_items", "result_set_counts", "blobs")
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}
    conn.close()
    return counts


def test_a_run_that_changed_nothing_stores_no_result_again(db: Path) -> None:
    reports = audited_fleet()
    store = History(db)
    first = record_run(store, *reports)
    after_one = table_counts(db)
    second = record_run(store, *reports)
    after_two = table_counts(db)
    # One more row per device, nothing else: results, sets and command lists are shared.
    assert after_two == {**after_one, "devices": after_one["devices"] + len(reports)}
    assert after_one["results"] < sum(len(r.results) for r in reports)  # shared across devices too
    assert [d.to_dict() for d in store.load_run(second).devices] == [d.to_dict() for d in reports]
    assert store.get_run(first).failures == store.get_run(second).failures
    # One result changed on one device: one new result and one new set, nothing else.
    changed = [*reports[:3], device("r-waived", result("CME-ACC-04", Status.FAIL), result("CME-ACC-01", Status.FAIL)), reports[4]]
    third = record_run(store, *changed)
    after_three = table_counts(db)
    assert after_three["results"] == after_two["results"] + 1
    assert after_three["result_sets"] == after_two["result_sets"] + 1
    assert [d.to_dict() for d in store.load_run(third).devices] == [d.to_dict() for d in changed]
    assert store.diff().totals()["new"] == 1
    # The diff reads only statuses and results; the same as diffing the whole reports.
    summaries = [store.get_run(second), store.get_run(third)]
    whole = diff_reports(summaries[0], store.load_run(second), summaries[1], store.load_run(third))
    assert store.diff().to_dict() == whole.to_dict()
    assert store.diff(first, third).to_dict() == diff_reports(
        store.get_run(first), store.load_run(first), summaries[1], store.load_run(third)
    ).to_dict()


def test_an_unchanged_device_run_costs_under_2_kb(tmp_path: Path) -> None:
    """Issue 13's target, counted in bytes on disk: 300 devices recorded again with nothing changed
    but their uptimes and command durations."""
    import dataclasses

    examples = audited_fleet()[:3]
    fleet = [
        dataclasses.replace(examples[n % 3], name=f"r{n:03}", results=[
            dataclasses.replace(r, message=f"{r.message} [r{n:03}]") for r in examples[n % 3].results
        ])
        for n in range(300)
    ]
    db = tmp_path / "h.sqlite"
    sizes = []
    with History(db) as store:
        for run in range(3):
            record_run(store, *[
                dataclasses.replace(
                    d, facts={**d.facts, "uptime": f"{run} days"},
                    commands=[dataclasses.replace(c, duration_s=0.1 * run + 0.01 * i) for i, c in enumerate(d.commands)],
                )
                for d in fleet
            ])
            with sqlite3.connect(db) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            sizes.append(db.stat().st_size)
    assert sizes[0] > 300 * 20_000  # the first run stores every (unique) result
    assert (sizes[2] - sizes[1]) / 300 < 2048


def test_diff_summarises_only_the_runs_it_compares(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """diff (and --since) cost the same however many runs are kept: counted in runs summarised."""
    with History(db) as store:
        ids = [record_run(store, device("r1", result("CME-ACC-04", Status.FAIL, f"run {n}"))) for n in range(12)]
    with sqlite3.connect(db) as conn:
        for n, run_id in enumerate(ids):
            conn.execute("UPDATE runs SET started_at = ? WHERE id = ?", (f"2026-01-{n + 1:02}T06:00:00Z", run_id))
    conn.close()
    summarised: list[int] = []
    original = History._summaries

    def counting(self: History, rows: list[sqlite3.Row]) -> list[RunSummary]:
        summarised.extend(row["id"] for row in rows)
        return original(self, rows)

    monkeypatch.setattr(History, "_summaries", counting)
    with History(db) as store:
        assert (store.diff().run_a.id, store.diff().run_b.id) == (ids[-2], ids[-1])
        assert len(summarised) == 4
        summarised.clear()
        since = store.diff(since=date(2026, 1, 3))
        assert (since.run_a.id, since.run_b.id) == (ids[2], ids[-1])
        assert sorted(summarised) == sorted([ids[2], ids[-1]])


def write_schema_1(db: Path, runs: list[tuple[str, str | None, list[DeviceReport], list[str]]]) -> None:
    """A database as cmelive wrote it before schema 2: every result of every device-run in full.
    ``runs``: (status, finished_at, devices recorded, devices left not_started)."""
    from cmelive.history import _MIGRATIONS
    from cmelive.report.model import NOT_STARTED_ERROR

    conn = sqlite3.connect(db)
    for statement in _MIGRATIONS[0]:
        assert isinstance(statement, str)
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    for number, (status, finished_at, reports, waiting) in enumerate(runs, start=1):
        conn.execute(
            "INSERT INTO runs (id, started_at, finished_at, status, inventory, host_count, tool_version, pid, hostname)"
            " VALUES (?, ?, ?, ?, 'inv.yaml', ?, '0.1', 1, 'old-host')",
            (number, f"2026-01-{number:02}T06:00:00Z", finished_at, status, len(reports) + len(waiting)),
        )
        for name in waiting:
            conn.execute(
                "INSERT INTO devices VALUES (?, ?, '127.0.0.9', NULL, 'not_started', ?, '{}', '[]', 'x')",
                (number, name, NOT_STARTED_ERROR),
            )
        for report in reports:
            commands = [
                {"command": c.command, "status": str(c.status), "duration_s": round(c.duration_s, 4), "error": c.error}
                for c in report.commands
            ]
            conn.execute(
                "INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'x')",
                (number, report.name, report.host, report.hostname, str(report.status), report.error,
                 json.dumps(report.facts, default=str), json.dumps(commands)),
            )
            for r in report.results:
                conn.execute(
                    "INSERT INTO results (run_id, device, check_id, title, family, severity, status, reference,"
                    " message, evidence, remediation, waiver) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (number, report.name, r.check, r.title, r.family, str(r.severity), str(r.status), r.reference,
                     r.message, json.dumps([{"command": e.command, "line": e.line, "text": e.text} for e in r.evidence]),
                     json.dumps(list(r.remediation)), json.dumps(r.waiver) if r.waiver is not None else None),
                )
    conn.commit()
    conn.close()


def test_a_schema_1_database_is_migrated_in_place_and_reads_the_same(tmp_path: Path) -> None:
    reports = audited_fleet()
    changed = [*reports[:3], device("r-waived", result("CME-ACC-04", Status.FAIL)), reports[4]]
    runs: list[tuple[str, str | None, list[DeviceReport], list[str]]] = [
        ("complete", "2026-01-01T06:05:00Z", reports, []),
        ("incomplete", None, reports[:2], ["r-late"]),  # died half-way: aborted
        ("complete", "2026-01-03T06:05:00Z", reports, []),
        ("complete", "2026-01-04T06:05:00Z", changed, []),
    ]
    old, fresh = tmp_path / "old.sqlite", tmp_path / "fresh.sqlite"
    write_schema_1(old, runs)
    # The same runs written by this cmelive, their run rows made the same.
    with History(fresh) as store:
        for status, finished_at, devices, waiting in runs:
            handle = store.start_run("inv.yaml", len(devices) + len(waiting), [(name, "127.0.0.9") for name in waiting])
            for report in devices:
                store.record_device(handle, report)
            store.finish_run(handle, complete=status == "complete")
    with sqlite3.connect(fresh) as conn:
        for number, (status, finished_at, _, _) in enumerate(runs, start=1):
            conn.execute(
                "UPDATE runs SET started_at = ?, finished_at = ?, status = ?, tool_version = '0.1', pid = 1,"
                " hostname = 'old-host' WHERE id = ?",
                (f"2026-01-{number:02}T06:00:00Z", finished_at, status, number),
            )
    conn.close()
    with History(old) as migrated, History(fresh) as store:
        assert [r.to_dict() for r in migrated.list_runs()] == [r.to_dict() for r in store.list_runs()]
        assert migrated.list_runs()[2].status == RunStatus.ABORTED
        for number in range(1, len(runs) + 1):
            assert migrated.load_run(number).to_dict() == store.load_run(number).to_dict()
        assert [d.to_dict() for d in migrated.load_run(1).devices] == [d.to_dict() for d in reports]
        assert migrated.diff().to_dict() == store.diff().to_dict()
        assert migrated.diff(1, 2).to_dict() == store.diff(1, 2).to_dict()
        assert migrated.trend() == store.trend()
    with sqlite3.connect(old) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not {"results_v1", "devices_v1"} & tables
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
    assert table_counts(old) == table_counts(fresh)
    # The migrated database goes on sharing: a run like the last adds one row per device.
    with History(old) as migrated:
        record_run(migrated, *changed)
    assert table_counts(old) == {**table_counts(fresh), "devices": table_counts(fresh)["devices"] + len(changed)}
    # The old rows' pages are free inside the file; a prune that deletes nothing still vacuums them away.
    with History(old) as migrated:
        outcome = migrated.prune(keep=100, vacuum=True)
    assert outcome.runs == [] and outcome.bytes_after < outcome.bytes_before


# -- diff -----------------------------------------------------------------------------------------


def test_diff_sorts_findings_into_new_resolved_still_failing(db: Path) -> None:
    store = History(db)
    waiver = {"reason": "r", "owner": "o", "expires": "2099-01-01"}
    run_a = record_run(
        store,
        device(
            "r1",
            result("CME-ACC-04", Status.FAIL, "telnet allowed"),  # still failing
            result("CME-ACC-01", Status.FAIL),  # resolved: passes now
            result("CME-GUI-03", Status.FAIL),  # resolved: not applicable now
            result("CME-ACC-02", Status.FAIL),  # newly waived
            result("CME-ACC-05", Status.FAIL),  # unverified: unknown now
            result("CME-ACC-06", Status.FAIL),  # unverified: no result now
            result("CME-GUI-06", Status.PASS),  # new
            result("CME-CDP-01", Status.WAIVED, waiver=waiver),  # new: the waiver went
            result("CME-ACC-09", Status.PASS),  # passes in both: not listed
        ),
        device("gone", result("CME-ACC-04", Status.FAIL)),
    )
    run_b = record_run(
        store,
        device(
            "r1",
            result("CME-ACC-04", Status.FAIL, "telnet still allowed"),
            result("CME-ACC-01", Status.PASS),
            result("CME-GUI-03", Status.NOT_APPLICABLE),
            result("CME-ACC-02", Status.WAIVED, waiver=waiver),
            result("CME-ACC-05", Status.UNKNOWN),
            result("CME-GUI-06", Status.FAIL),
            result("CME-CDP-01", Status.FAIL),
            result("CME-ACC-09", Status.PASS),
            result("CME-ACC-10", Status.FAIL),  # new: no result before
        ),
        device("fresh", result("CME-GUI-01", Status.FAIL)),
    )
    run_diff = store.diff(run_a, run_b)
    assert (run_diff.run_a.id, run_diff.run_b.id) == (run_a, run_b)
    by_name = {d.device: d for d in run_diff.devices}
    assert list(by_name) == ["fresh", "gone", "r1"]
    r1 = by_name["r1"]
    assert r1.presence == Presence.BOTH
    # New findings sorted by severity (critical first), then id.
    assert [(c.check, c.status_a) for c in r1.new] == [
        ("CME-GUI-06", Status.PASS),
        ("CME-ACC-10", None),
        ("CME-CDP-01", Status.WAIVED),
    ]
    assert [(c.check, c.status_b) for c in r1.resolved] == [
        ("CME-ACC-01", Status.PASS),
        ("CME-GUI-03", Status.NOT_APPLICABLE),
    ]
    assert [(c.check, c.message) for c in r1.still_failing] == [("CME-ACC-04", "telnet still allowed")]
    assert [c.check for c in r1.newly_waived] == ["CME-ACC-02"]
    # ACC-06 (high) before ACC-05 (medium).
    assert [(c.check, c.status_b) for c in r1.unverified] == [("CME-ACC-06", None), ("CME-ACC-05", Status.UNKNOWN)]
    assert r1.new[0].severity == Severity.CRITICAL and r1.new[0].title == get_check("CME-GUI-06").title  # type: ignore[union-attr]
    assert run_diff.added == ["fresh"] and run_diff.removed == ["gone"]
    assert [c.check for c in by_name["fresh"].new] == ["CME-GUI-01"]
    assert by_name["gone"].new == by_name["gone"].resolved == by_name["gone"].unverified == []
    assert run_diff.totals() == {
        "new": 4, "resolved": 2, "still_failing": 1, "newly_waived": 1, "unverified": 2,
        "devices_added": 1, "devices_removed": 1,
    }


def test_an_unreachable_device_does_not_resolve_its_findings(db: Path) -> None:
    store = History(db)
    run_a = record_run(store, device("r1", result("CME-ACC-04", Status.FAIL)))
    run_b = record_run(store, unreachable_report("r1", "10.0.0.1", ConnectError("timed out")))
    (r1,) = store.diff(run_a, run_b).devices
    assert (r1.status_a, r1.status_b) == (DeviceStatus.OK, DeviceStatus.ERROR)
    assert r1.resolved == [] and [c.check for c in r1.unverified] == ["CME-ACC-04"]


def test_default_diff_compares_the_last_two_complete_runs(db: Path) -> None:
    """A run that was stopped or died audited part of its inventory: as a baseline its missing
    devices would read as changes. The default diff skips it (and a running one)."""
    store = History(db)
    first = record_run(store, device("r1", result("CME-ACC-04", Status.PASS)))
    record_run(store, device("r1", result("CME-ACC-04", Status.PASS)), complete=False)
    latest = record_run(store, device("r1", result("CME-ACC-04", Status.FAIL)))
    handle = store.start_run("inventory.yaml", 1)  # running: never part of the default diff
    run_diff = store.diff()
    assert (run_diff.run_a.id, run_diff.run_b.id) == (first, latest)
    assert [c.check for c in run_diff.devices[0].new] == ["CME-ACC-04"]
    store.finish_run(handle, complete=True)
    assert store.diff().run_b.id == handle.run_id


def test_diff_errors(db: Path) -> None:
    store = History(db)
    with pytest.raises(HistoryError, match="need two complete runs to compare; this database has 0"):
        store.diff()
    only = record_run(store, device("r1"))
    with pytest.raises(HistoryError, match="has 1"):
        store.diff()
    with pytest.raises(HistoryError, match=rf"no run 99 \(runs here: {only}\.\.{only}"):
        store.diff(only, 99)
    with pytest.raises(UsageError, match="give two run ids"):
        store.diff(only)
    with pytest.raises(HistoryError, match="no run 5"):
        store.load_run(5)


# -- CLI ------------------------------------------------------------------------------------------


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cmelive", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "XDG_STATE_HOME": str(home)},
        stdin=subprocess.DEVNULL,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_cli_history_and_diff_on_the_default_database(tmp_path: Path) -> None:
    db = tmp_path / "cmelive" / "history.sqlite"
    with History(db) as store:
        first = record_run(store, device("r1", result("CME-ACC-04", Status.FAIL), result("CME-GUI-06", Status.PASS)))
        second = record_run(
            store,
            device("r1", result("CME-ACC-04", Status.PASS), result("CME-GUI-06", Status.FAIL)),
            unreachable_report("r2", "10.0.0.2", ConnectError("timed out")),
            complete=False,
        )
    listing = cli("history", home=tmp_path)
    assert listing.returncode == 0, listing.stderr
    header, *rows = listing.stdout.splitlines()
    assert header.split() == [
        "RUN", "STARTED", "STATUS", "DEVICES", "ERROR", "CRIT", "HIGH", "MED", "LOW", "WAIVED", "SCOPE", "INVENTORY"
    ]
    # No scope given: a run's scope is its inventory, shown once.
    assert rows[0].split()[0] == str(second) and rows[0].split()[2:] == [
        "incomplete", "2", "1", "1", "0", "0", "0", "0", "(inventory)", "inventory.yaml"
    ]
    assert rows[1].split()[0] == str(first) and rows[1].split()[2:] == [
        "complete", "1", "0", "0", "1", "0", "0", "0", "(inventory)", "inventory.yaml"
    ]
    assert len(cli("history", "--limit", "1", home=tmp_path).stdout.splitlines()) == 2

    text = cli("diff", str(first), str(second), home=tmp_path)  # by id: the default diff takes complete runs
    assert text.returncode == 1, text.stderr  # a new failure
    assert f"Run {first} (" in text.stdout and f"-> run {second} (" in text.stdout
    assert "1 new, 1 resolved, 0 still failing" in text.stdout
    assert "devices: 1 added, 0 removed" in text.stdout
    new_line = next(line for line in text.stdout.splitlines() if line.strip().startswith("new"))
    assert new_line.split()[:3] == ["new", "CME-GUI-06", "critical"]
    assert get_check("CME-GUI-06").title in new_line  # type: ignore[union-attr]
    resolved = next(line for line in text.stdout.splitlines() if line.strip().startswith("resolved"))
    assert resolved.split()[:3] == ["resolved", "CME-ACC-04", "high"] and resolved.endswith("(now passes)")
    assert "r2: added (error)" in text.stdout

    as_json = cli("diff", str(first), str(second), "--db", str(db), "--format", "json", home=tmp_path / "elsewhere")
    assert as_json.returncode == 1, as_json.stderr
    data = json.loads(as_json.stdout)
    assert (data["run_a"]["id"], data["run_b"]["id"]) == (first, second)
    r1 = next(d for d in data["devices"] if d["device"] == "r1")
    assert [c["check"] for c in r1["new"]] == ["CME-GUI-06"]
    assert [c["check"] for c in r1["resolved"]] == ["CME-ACC-04"]
    assert data["totals"]["devices_added"] == 1


def scoped_history(db: Path | str) -> dict[str, list[int]]:
    """Runs of two regions and of an unscoped inventory, interleaved: north 1, south 2, north 3,
    south 4 (incomplete), south 5, inventory.yaml 6; each region's r1 fails a check in its later run."""
    ids: dict[str, list[int]] = {}
    with History(db) as store:
        for scope, status, complete in (
            ("north", Status.PASS, True), ("south", Status.PASS, True), ("north", Status.FAIL, True),
            ("south", Status.FAIL, False), ("south", Status.FAIL, True), (None, Status.PASS, True),
        ):
            inventory = f"/etc/cmelive/{scope}.yaml" if scope else "inventory.yaml"
            handle = store.start_run(inventory, 1, scope=scope)
            store.record_device(handle, device("r1", result("CME-ACC-04", status)))
            store.finish_run(handle, complete=complete)
            ids.setdefault(scope or "inventory.yaml", []).append(handle.run_id)
    return ids


def test_cli_history_shows_and_filters_scopes(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    ids = scoped_history(db)
    listing = cli("history", "--db", str(db), home=tmp_path)
    assert listing.returncode == 0, listing.stderr
    header, *rows = listing.stdout.splitlines()
    assert header.split()[-2:] == ["SCOPE", "INVENTORY"]
    assert [(row.split()[0], row.split()[-2], row.split()[-1]) for row in rows] == [
        ("6", "(inventory)", "inventory.yaml"),
        ("5", "south", "/etc/cmelive/south.yaml"),
        ("4", "south", "/etc/cmelive/south.yaml"),
        ("3", "north", "/etc/cmelive/north.yaml"),
        ("2", "south", "/etc/cmelive/south.yaml"),
        ("1", "north", "/etc/cmelive/north.yaml"),
    ]
    # The columns line up: every SCOPE starts where its header does, however long the scope.
    column = header.index("SCOPE")
    assert {row[column - 2:column] for row in rows} == {"  "} and all(row[column] != " " for row in rows)
    south = cli("history", "--db", str(db), "--scope", "south", "-n", "2", home=tmp_path)
    assert [row.split()[0] for row in south.stdout.splitlines()[1:]] == ["5", "4"]
    as_json = json.loads(cli("history", "--db", str(db), "--scope", "north", "-f", "json", home=tmp_path).stdout)
    assert [(run["id"], run["scope"]) for run in as_json["runs"]] == [(3, "north"), (1, "north")]
    assert ids["north"] == [1, 3]
    assert_one_line_error(
        cli("history", "--db", str(db), "--scope", "west", home=tmp_path),
        "no run of scope 'west'", "'inventory.yaml', 'north', 'south'",
    )


def test_cli_diff_is_per_scope(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    scoped_history(db)
    # Several scopes: no guess at which runs are one fleet's before and after.
    assert_one_line_error(
        cli("diff", "--db", str(db), home=tmp_path),
        "complete runs of 3 scopes ('inventory.yaml', 'north', 'south')", "--scope NAME",
    )
    north = cli("diff", "--db", str(db), "--scope", "north", home=tmp_path)
    assert north.returncode == 1, north.stderr  # r1 fails CME-ACC-04 in north's later run
    assert north.stdout.startswith("Run 1 (") and north.stdout.splitlines()[0].endswith(", complete), scope north")
    south = cli("diff", "--db", str(db), "--scope", "south", "-f", "json", home=tmp_path)
    data = json.loads(south.stdout)
    # Run 4 was stopped: the last two complete runs of south are 2 and 5.
    assert (data["run_a"]["id"], data["run_b"]["id"], data["run_b"]["scope"]) == (2, 5, "south")
    assert data["totals"]["new"] == 1
    since = cli("diff", "--db", str(db), "--scope", "south", "--since", "2099-01-01", home=tmp_path)
    assert since.returncode != 0 and "no complete run of scope 'south' after run 5" in since.stderr
    assert_one_line_error(
        cli("diff", "--db", str(db), "--scope", "inventory.yaml", home=tmp_path),
        "need two complete runs of scope 'inventory.yaml'",
    )
    assert_one_line_error(cli("diff", "--db", str(db), "--scope", "west", home=tmp_path), "no run of scope 'west'")
    assert_one_line_error(cli("diff", "1", "3", "--db", str(db), "--scope", "north", home=tmp_path), "not both")
    across = cli("diff", "2", "3", "--db", str(db), "--exit-zero", home=tmp_path)  # two ids: any two runs
    assert across.returncode == 0 and across.stdout.startswith("Run 2 (")
    assert across.stdout.splitlines()[0].endswith(", scopes south -> north")  # says it crosses regions
    help_text = cli("diff", "--help", home=tmp_path).stdout
    assert "--scope" in help_text and "several scopes" in help_text


def test_cli_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    assert_one_line_error(cli("history", "--db", str(missing), home=tmp_path), str(missing), "no run history here")
    assert not missing.exists()
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("this is not a database, just some notes\n" * 100)
    assert_one_line_error(cli("diff", "--db", str(not_sqlite), home=tmp_path), str(not_sqlite), "not an SQLite database")
    assert_one_line_error(cli("history", "--db", str(tmp_path), home=tmp_path), "is a directory")
    empty = tmp_path / "empty.sqlite"
    History(empty).close()
    assert_one_line_error(cli("history", "--db", str(empty), home=tmp_path), str(empty), "no runs recorded yet")
    assert_one_line_error(cli("diff", "--db", str(empty), home=tmp_path), "need two complete runs")
    with History(empty) as store:
        run_id = record_run(store, device("r1"))
    assert_one_line_error(cli("diff", "1", "7", "--db", str(empty), home=tmp_path), "no run 7", f"{run_id}..{run_id}")
    assert_one_line_error(cli("diff", "1", "--db", str(empty), home=tmp_path), "give two run ids")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file; permission errors cannot happen")
def test_cli_unreadable_database(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    History(db).close()
    db.chmod(0)
    try:
        assert_one_line_error(cli("history", "--db", str(db), home=tmp_path), str(db), "permission denied")
    finally:
        db.chmod(0o600)


def test_a_transaction_cut_short_does_not_block_the_next_write(tmp_path: Path) -> None:
    """A Ctrl-C right after BEGIN left the connection in a transaction; the next write must work."""
    with History(tmp_path / "h.sqlite") as store:
        store._conn.execute("BEGIN IMMEDIATE")  # as if interrupted before anything else ran
        handle = store.start_run("inventory.yaml", 1)
        store.finish_run(handle, complete=True)
        assert store.list_runs()[0].status == RunStatus.COMPLETE


# -- history prune --------------------------------------------------------------------------------


def pruning_history(db: Path) -> dict[int, DeviceReport]:
    """Six runs: 1 complete, 2 aborted, 3 complete, 4 stopped (incomplete), 5 and 6 complete; each
    with a result of its own (CME-ACC-04's message names the run) and one shared by all. Each run's
    own result fills a page or two, so deleting runs frees pages a vacuum can give back (a new
    database has no free page of its own)."""
    runs: dict[int, DeviceReport] = {}
    with History(db) as store:
        for number in range(1, 7):
            message = f"telnet, run {number}: " + "line vty 0 4 transport input telnet; " * 150
            report = device("r1", result("CME-ACC-04", Status.FAIL, message), result("CME-GUI-06", Status.PASS))
            run_id = record_run(store, report, complete=number not in (2, 4))
            runs[run_id] = report
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET finished_at = NULL WHERE id = 2")  # died: aborted
    conn.close()
    return runs


def orphans(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        count = sum(
            conn.execute(sql).fetchone()[0]
            for sql in (
                "SELECT count(*) FROM results WHERE id NOT IN (SELECT result_id FROM result_set_items)",
                "SELECT count(*) FROM result_sets WHERE id NOT IN (SELECT result_set_id FROM devices"
                " WHERE result_set_id IS NOT NULL)",
                "SELECT count(*) FROM blobs WHERE id NOT IN (SELECT commands_id FROM devices WHERE commands_id IS NOT NULL)",
            )
        )
    conn.close()
    return count


def test_prune_keeps_the_newest_complete_runs_and_the_stopped_runs_between_them(db: Path) -> None:
    runs = pruning_history(db)
    with History(db) as store:
        before = {run_id: store.load_run(run_id).to_dict() for run_id in (3, 4, 5, 6)}
        diff_before = store.diff().to_dict()
        outcome = store.prune(keep=3)
        # Kept: complete runs 6, 5, 3, and run 4 (stopped, newer than run 3); gone: 1, and 2 (aborted, older).
        assert sorted(run.id for run in outcome.runs) == [1, 2]
        assert [run.status for run in outcome.runs] == [RunStatus.ABORTED, RunStatus.COMPLETE]  # newest first
        assert outcome.kept == 4
        assert [run.id for run in store.list_runs()] == [6, 5, 4, 3]
        assert {run_id: store.load_run(run_id).to_dict() for run_id in (3, 4, 5, 6)} == before
        assert store.diff().to_dict() == diff_before
        # Runs 1 and 2's own CME-ACC-04 results and their sets went; the shared pass and command list stay.
        assert (outcome.results, outcome.result_sets, outcome.blobs) == (2, 2, 0)
    assert orphans(db) == 0
    assert table_counts(db)["results"] == 5  # 4 runs' CME-ACC-04, 1 shared CME-GUI-06
    assert len(runs) == 6
    with History(db) as store:
        outcome = store.prune(keep=1)
        assert sorted(run.id for run in outcome.runs) == [3, 4, 5]
        assert [run.id for run in store.list_runs()] == [6]
        assert store.load_run(6).devices[0].to_dict() == runs[6].to_dict()
    assert orphans(db) == 0


def test_prune_dry_run_deletes_nothing(db: Path) -> None:
    pruning_history(db)
    counts = table_counts(db)
    with History(db) as store:
        dry = store.prune(keep=2, dry_run=True)
        assert dry.dry_run and sorted(run.id for run in dry.runs) == [1, 2, 3, 4]
        assert (dry.results, dry.result_sets, dry.kept) == (4, 4, 2)
        assert len(store.list_runs()) == 6
    assert table_counts(db) == counts
    with History(db) as store:  # the real one deletes what the dry one said
        real = store.prune(keep=2)
        assert [r.to_dict() for r in real.runs] == [r.to_dict() for r in dry.runs]
        assert (real.results, real.result_sets, real.kept) == (4, 4, 2)


def test_prune_keep_days(db: Path) -> None:
    pruning_history(db)
    with sqlite3.connect(db) as conn:
        # Runs 1-3 started 40 days ago and more; 4-6 are today's.
        for run_id in (1, 2, 3):
            conn.execute("UPDATE runs SET started_at = ? WHERE id = ?", (f"2020-01-0{run_id}T06:00:00Z", run_id))
    conn.close()
    with History(db) as store:
        outcome = store.prune(keep_days=30)
        assert sorted(run.id for run in outcome.runs) == [1, 2, 3]
        assert [run.id for run in store.list_runs()] == [6, 5, 4]
        # Either rule keeps a run: --keep 3 keeps complete runs 6, 5 and 3 — run 3 is gone already.
        assert store.prune(keep=1, keep_days=30).runs == []
        with pytest.raises(UsageError, match="--keep"):
            store.prune()
    assert orphans(db) == 0


def test_prune_is_refused_while_a_run_holds_the_database(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    pruning_history(db)
    counts = table_counts(db)
    store = History(db)
    handle = store.start_run("nightly.yaml", 1)
    try:
        with pytest.raises(RunLockedError, match="in progress"):
            History(db).prune(keep=1)
        proc = cli("history", "prune", "--keep", "1", "--db", str(db), home=tmp_path)
        assert_one_line_error(proc, str(db), "another fleet run is in progress", f"run {handle.run_id}")
    finally:
        store.finish_run(handle, complete=True)
        store.close()
    assert table_counts(db)["results"] == counts["results"]
    proc = cli("history", "prune", "--keep", "1", "--db", str(db), home=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_cli_history_prune(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    pruning_history(db)
    dry = cli("history", "prune", "--keep", "2", "--dry-run", "--db", str(db), home=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[0] == "would delete 4 run(s): 1, 2, 3, 4"
    assert "would delete 4 stored result(s), 4 result set(s) and 0 command list(s)" in dry.stdout
    assert "2 run(s) kept" in dry.stdout
    listing = cli("history", "--db", str(db), home=tmp_path)
    assert len(listing.stdout.splitlines()) == 1 + 6
    # The file and its write-ahead log: a new database has no free pages, its runs may all be in the log.
    size_before = sum(path.stat().st_size for path in (db, db.with_name(db.name + "-wal")) if path.exists())
    real = cli("history", "prune", "--keep", "2", "--vacuum", "--db", str(db), home=tmp_path)
    assert real.returncode == 0, real.stderr
    assert real.stdout.splitlines()[0] == "deleted 4 run(s): 1, 2, 3, 4"
    assert not db.with_name(db.name + "-wal").exists() or db.with_name(db.name + "-wal").stat().st_size == 0
    assert db.stat().st_size < size_before
    listing = cli("history", "--db", str(db), "-n", "5", home=tmp_path)
    assert [line.split()[0] for line in listing.stdout.splitlines()[1:]] == ["6", "5"]
    again = cli("history", "--db", str(db), "prune", "--keep", "2", home=tmp_path)  # --db before prune too
    assert again.stdout.startswith("deleted no run: every run is kept")
    assert_one_line_error(cli("history", "prune", "--db", str(db), home=tmp_path), "--keep N and/or --keep-days D")
    assert_one_line_error(cli("history", "prune", "--keep", "0", "--db", str(db), home=tmp_path), "--keep")
