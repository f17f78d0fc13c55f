"""The run history on a real PostgreSQL (a throwaway cluster), and the same behaviours on SQLite."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cmelive import history_pg
from cmelive.checks.base import Status
from cmelive.errors import HistoryError, RunLockedError
from cmelive.history import History

from .postgres_cluster import Cluster, postgres_cluster
from .test_history import device, record_run, result

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    with postgres_cluster() as started:
        yield started


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite")
    cluster: Cluster = request.getfixturevalue("cluster")
    return cluster.new_database()


def test_the_history_sql_has_no_literal_placeholder_characters() -> None:
    # history_pg turns every '?' into '%s': a literal '?' or '%' in the SQL would be mangled.
    source = (REPO / "src" / "cmelive" / "history.py").read_text(encoding="utf-8")
    for literal in re.findall(r'"((?:SELECT|INSERT|UPDATE|DELETE|CREATE)[^"]*)"', source):
        assert "%" not in literal, literal


def test_record_list_load_and_trend(location: str) -> None:
    with History(location) as store:
        first = record_run(store, device("r1", result("CME-ACC-01", Status.FAIL)), device("r2", result("CME-ACC-01", Status.PASS)))
        second = record_run(store, device("r2", result("CME-ACC-01", Status.PASS)), device("r1", result("CME-ACC-01", Status.PASS)))
        runs = store.list_runs()
        assert [run.id for run in runs] == [second, first]
        assert runs[1].devices == 2 and sum(runs[1].failures.values()) == 1 and sum(runs[0].failures.values()) == 0
        # Devices come back in the order they were recorded (rowid in SQLite, a column in PostgreSQL).
        assert [d.name for d in store.load_run(second).devices] == ["r2", "r1"]
        assert [d.results[0].status for d in store.load_run(first).devices] == [Status.FAIL, Status.PASS]
        assert [sum(point.failures.values()) for point in store.trend()] == [1, 0]
    with History(location, create=False) as reopened:  # the schema is there: no migration again
        assert len(reopened.list_runs()) == 2


def test_diff_and_prune(location: str) -> None:
    with History(location) as store:
        record_run(store, device("r1", result("CME-ACC-01", Status.FAIL), result("CME-ACC-02", Status.PASS)))
        record_run(store, device("r1", result("CME-ACC-01", Status.PASS), result("CME-ACC-02", Status.FAIL)))
        last = record_run(store, device("r1", result("CME-ACC-01", Status.PASS), result("CME-ACC-02", Status.FAIL)))
        diff = store.diff()
        assert diff.totals()["new"] == 0 and diff.totals()["resolved"] == 0
        changed = store.diff(1, 2)
        assert changed.totals()["new"] == 1 and changed.totals()["resolved"] == 1
        pruned = store.prune(keep=1)
        assert [run.id for run in pruned.runs] == [2, 1] and pruned.kept == 1
        assert pruned.result_sets == 1  # run 1's set; runs 2 and 3 share theirs
        assert [run.id for run in store.list_runs()] == [last]
        assert [d.name for d in store.load_run(last).devices] == ["r1"]


def test_recording_a_device_twice_is_refused(location: str) -> None:
    with History(location) as store:
        handle = store.start_run("inv.yaml", 1)
        store.record_device(handle, device("r1", result("CME-ACC-01", Status.PASS)))
        with pytest.raises(HistoryError, match="already recorded"):
            store.record_device(handle, device("r1", result("CME-ACC-01", Status.PASS)))
        store.finish_run(handle, complete=True)


def test_run_locks_belong_to_a_scope(location: str) -> None:
    with History(location) as first, History(location) as second:
        north = first.start_run("north.yaml", 1, [("r1", "127.0.0.1")])
        south = second.start_run("south.yaml", 1, [("r2", "127.0.0.2")])  # another scope: not blocked
        with pytest.raises(RunLockedError, match=r"in progress.*scope 'north.yaml'"):
            second.start_run("north.yaml", 1)
        # A scope is a name of its own: an inventory file moved elsewhere keeps its scope.
        with pytest.raises(RunLockedError):
            second.start_run("/elsewhere/north.yaml", 1, scope="north.yaml")
        # South starting did not mark north's running run incomplete.
        assert [run.status for run in second.list_runs()] == ["running", "running"]
        first.record_device(north, device("r1", result("CME-ACC-01", Status.PASS)))
        second.record_device(south, device("r2", result("CME-ACC-01", Status.FAIL)))
        first.finish_run(north, complete=True)
        second.finish_run(south, complete=True)
        again = second.start_run("north.yaml", 1)  # free again
        second.finish_run(again, complete=True)


def test_a_run_lock_dies_with_its_process(location: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys\nfrom cmelive.history import History\n"
            f"h = History({location!r}); h.start_run('north.yaml', 1)\nprint('held', flush=True)\nsys.stdin.read()"
        )],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "held\n"
    with History(location) as store:
        with pytest.raises(RunLockedError):
            store.start_run("north.yaml", 1)
        child.kill()
        child.wait()
        for _ in range(50):  # the server notices the dead connection
            try:
                handle = store.start_run("north.yaml", 1)
                break
            except RunLockedError:
                import time

                time.sleep(0.1)
        else:
            pytest.fail("the dead run's lock was never released")
        store.finish_run(handle, complete=True)
        statuses = [run.status for run in store.list_runs()]
        assert statuses == ["complete", "aborted"]  # the dead run of the scope was marked


def test_a_schema_that_is_not_a_history_is_refused(cluster: Cluster) -> None:
    import psycopg

    url = cluster.new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(HistoryError, match="not a cmelive run history"):
        History(url)


def test_passwords_in_the_url_are_never_shown(cluster: Cluster) -> None:
    url = cluster.url("no_such_db").replace("cmelive@", "cmelive:s3cr3t-Pw@")
    with pytest.raises(HistoryError) as caught:
        History(url)
    assert "s3cr3t-Pw" not in str(caught.value) and "***" in str(caught.value)
    assert history_pg.mask_url(url) == cluster.url("no_such_db").replace("cmelive@", "cmelive:***@")
    shown = subprocess.run(
        [sys.executable, "-m", "cmelive", "history", "--db", url], check=False, capture_output=True, text=True, cwd=REPO
    )
    assert shown.returncode == 2, shown.stderr
    assert "s3cr3t-Pw" not in shown.stdout + shown.stderr and len(shown.stderr.strip().splitlines()) == 1


def test_without_psycopg_a_postgresql_db_is_a_usage_error(tmp_path: Path) -> None:
    # A psycopg that cannot be imported shadows the real one.
    (tmp_path / "psycopg").mkdir()
    (tmp_path / "psycopg" / "__init__.py").write_text("raise ImportError('no psycopg here')\n", encoding="utf-8")
    import os

    env = {**os.environ, "PYTHONPATH": f"{tmp_path}:{os.environ.get('PYTHONPATH', '')}"}
    shown = subprocess.run(
        [sys.executable, "-m", "cmelive", "history", "--db", "postgresql://u:pw@127.0.0.1:1/x"],
        check=False, capture_output=True, text=True, cwd=REPO, env=env,
    )
    assert shown.returncode == 2, shown.stderr
    assert "cmelive[postgresql]" in shown.stderr and "pw@" not in shown.stderr
    assert len(shown.stderr.strip().splitlines()) == 1


# -- regional collectors ------------------------------------------------------------------------

REGIONS = {
    "north": {"n-branch-1": "insecure-cme", "n-branch-2": "secure-cme"},
    "south": {"s-branch-1": "plain-ios", "s-branch-2": "insecure-cme"},
    "east": {"e-branch-1": "secure-cme", "e-branch-2": "plain-ios"},
}


def _fleet_command(inventory: Path, out: Path, db: str, scope: str) -> list[str]:
    return [sys.executable, "-m", "cmelive", "fleet", str(inventory), "--out", str(out), "--db", db,
            "--scope", scope, "--workers", "2"]


def test_regional_fleet_runs_write_one_postgresql_history_concurrently(cluster: Cluster, tmp_path: Path) -> None:
    import os
    from contextlib import ExitStack

    from .example_fleet import example_fleet

    url = cluster.new_database()
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "EX_PASSWORD": "branch-pw", "EX_ENABLE": "branch-enable"}
    with ExitStack() as stack:
        inventories = {}
        for region, routers in REGIONS.items():
            fleet = stack.enter_context(
                example_fleet(routers, username="audit", password="branch-pw", enable_secret="branch-enable")
            )
            inventories[region] = fleet.write_inventory(
                tmp_path / f"{region}.yaml", password_env="EX_PASSWORD", enable_secret_env="EX_ENABLE",
                known_hosts=tmp_path / f"{region}_known_hosts",
            )
        # A run of the north scope is in progress (held here): a second north run is refused at once.
        with History(url) as holder:
            held = holder.start_run("north-held", 0, scope="north")
            refused = subprocess.run(
                _fleet_command(inventories["north"], tmp_path / "north-refused", url, "north"),
                check=False, capture_output=True, text=True, cwd=REPO, env=env,
            )
            assert refused.returncode == 2, refused.stderr
            assert "in progress" in refused.stderr and "scope 'north'" in refused.stderr
            holder.finish_run(held, complete=True)
        # Every region twice, all three regions at once each time.
        for round_ in range(2):
            runs = {
                region: subprocess.Popen(
                    _fleet_command(inventory, tmp_path / f"{region}-{round_}", url, region),
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env,
                )
                for region, inventory in inventories.items()
            }
            for region, process in runs.items():
                out, err = process.communicate(timeout=300)
                assert process.returncode in (0, 1), (region, process.returncode, err[-2000:])
                assert f"History: run {''}" in out and f"in {url}" in out  # the URL whole, as given
    with History(url, create=False) as store:
        north_runs = {run.id for run in store.list_runs(scope="north")}
        runs = [run for run in store.list_runs() if run.inventory != "north-held"]
        assert len(runs) == 6 and {run.status for run in runs} == {"complete"}
        for run in runs:
            report = store.load_run(run.id)
            region = next(name for name, routers in REGIONS.items() if {d.name for d in report.devices} == set(routers))
            assert run.devices == len(REGIONS[region])
            for recorded in report.devices:
                # Whole: every device audited, with its results and commands.
                assert recorded.status in ("ok", "partial"), (recorded.name, recorded.status, recorded.error)
                assert recorded.results and recorded.commands
    # A region's own report: its trend is its scope's runs, not the other regions' (run at the same time).
    html = (tmp_path / "north-1" / "report.html").read_text(encoding="utf-8")
    trend_runs = {int(run_id) for run_id in re.findall(r'<th scope="row">#(\d+)</th>', html)}
    assert trend_runs == north_runs and len(north_runs) == 3  # the held run and two real ones


def test_report_writes_every_scope_latest_devices_and_the_trend(location: str, tmp_path: Path) -> None:
    import json

    with History(location) as store:
        for scope, devices in (("north", ("n1", "n2")), ("south", ("s1",)), ("north", ("n1", "n2"))):
            handle = store.start_run(f"{scope}.yaml", len(devices), scope=scope)
            for name in devices:
                status = Status.FAIL if (scope, name) == ("north", "n1") and handle.run_id == 3 else Status.PASS
                store.record_device(handle, device(name, result("CME-ACC-01", status)))
            store.finish_run(handle, complete=True)
        running = store.start_run("east.yaml", 1, [("e1", "127.0.0.3")], scope="east")  # not finished: not shown
        out = tmp_path / "fleet-report"
        shown = subprocess.run(
            [sys.executable, "-m", "cmelive", "report", "--db", location, "--out", str(out)],
            check=False, capture_output=True, text=True, cwd=REPO,
        )
        store.finish_run(running, complete=False)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(
        "3 devices from 2 scopes: run 3 (2 devices, complete, scope north), run 2 (1 devices, complete, scope south)\n"
    )
    assert "SCOPE/NAME" not in shown.stdout  # no name in two scopes: every name as recorded
    document = json.loads((out / "report.json").read_text(encoding="utf-8"))
    devices = {d["name"]: d for d in document["devices"]}
    assert sorted(devices) == ["n1", "n2", "s1"]  # the latest north run (3) and the south run (2)
    assert [r["status"] for r in devices["n1"]["results"]] == ["fail"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "n1" in html and "s1" in html and "trend" in html.lower()
    assert {path.name for path in out.iterdir()} >= {"report.json", "report.csv", "report.html", "report.txt"}


def test_diff_and_history_are_per_scope(location: str) -> None:
    from cmelive.errors import UsageError

    from .test_history import scoped_history

    ids = scoped_history(location)
    with History(location) as store:
        assert store.scopes() == ["inventory.yaml", "north", "south"]
        assert [run.id for run in store.list_runs(scope="south")] == ids["south"][::-1]
        assert [run.scope for run in store.list_runs(2)] == ["inventory.yaml", "south"]
        with pytest.raises(UsageError, match=r"3 scopes \('inventory.yaml', 'north', 'south'\)"):
            store.diff()
        north = store.diff(scope="north")
        assert (north.run_a.id, north.run_b.id) == tuple(ids["north"]) and north.totals()["new"] == 1
        south = store.diff(scope="south")
        assert (south.run_a.id, south.run_b.id) == (ids["south"][0], ids["south"][2])  # the stopped run skipped
        assert store.diff(ids["south"][0], ids["north"][1]).run_b.scope == "north"  # two ids: any two
        with pytest.raises(HistoryError, match="need two complete runs of scope 'inventory.yaml'"):
            store.diff(scope="inventory.yaml")
        # Once a prune leaves complete runs of one scope, a plain diff is that scope's again.
        store.prune(keep=1)
        assert store.scopes(complete_only=True) == ["inventory.yaml"]
        with pytest.raises(HistoryError, match="need two complete runs to compare; this database has 1"):
            store.diff()


def test_report_qualifies_a_device_name_recorded_in_several_scopes(location: str, tmp_path: Path) -> None:
    import csv
    import json

    with History(location) as store:
        # Both regions have a router called r1. The fleet is each scope's latest run: north's
        # second run (r1 only), south's one run (r1, s2).
        for scope, devices in (("south", ("r1", "s2")), ("north", ("r1", "n2")), ("north", ("r1",))):
            handle = store.start_run(f"/etc/cmelive/{scope}.yaml", len(devices), scope=scope)
            for name in devices:
                status = Status.FAIL if (scope, name) == ("south", "r1") else Status.PASS
                store.record_device(handle, device(name, result("CME-ACC-01", status)))
            store.finish_run(handle, complete=True)
        runs, fleet, shared = store.load_latest()
        assert [run.scope for run in runs] == ["north", "south"] and shared == ["r1"]
        assert [d.name for d in fleet.devices] == ["south/r1", "s2", "north/r1"]
    out = tmp_path / "fleet-report"
    shown = subprocess.run(
        [sys.executable, "-m", "cmelive", "report", "--db", location, "--out", str(out)],
        check=False, capture_output=True, text=True, cwd=REPO,
    )
    assert shown.returncode == 0, shown.stderr
    assert "named in several scopes, reported as SCOPE/NAME: r1" in shown.stdout
    document = json.loads((out / "report.json").read_text(encoding="utf-8"))
    devices = {d["name"]: d for d in document["devices"]}
    assert sorted(devices) == ["north/r1", "s2", "south/r1"]  # three devices, three names
    assert [r["status"] for r in devices["south/r1"]["results"]] == ["fail"]
    assert [r["status"] for r in devices["north/r1"]["results"]] == ["pass"]
    with (out / "report.csv").open(encoding="utf-8-sig", newline="") as handle:  # a spreadsheet's BOM
        rows = list(csv.DictReader(handle))
    assert {row["device"] for row in rows} == {"north/r1", "s2", "south/r1"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "north/r1" in html and "south/r1" in html


def test_two_writers_storing_the_same_new_results_never_deadlock(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two regions record devices with the same two new results, listed in opposite orders, at the
    same moment: each writer's first row is in before either inserts its second (forced here). Were
    rows inserted in list order, each would wait for the other's row: PostgreSQL would break the
    deadlock by refusing one device. In hash order the second writer waits for the first, and both
    are recorded."""
    import threading

    url = cluster.new_database()
    first_row_in = threading.Barrier(2)
    real_executemany = history_pg.PgConnection.executemany

    def row_by_row(self: history_pg.PgConnection, sql: str, rows: Any) -> history_pg.Cursor:
        if not sql.startswith("INSERT INTO results "):
            return real_executemany(self, sql, rows)
        cursor = None
        for number, row in enumerate(rows):
            cursor = self.execute(sql, row)
            if number == 0:
                try:
                    # The other writer's first row goes in meanwhile, unless it waits on ours.
                    first_row_in.wait(timeout=3)
                except threading.BrokenBarrierError:
                    pass
        assert cursor is not None
        return cursor

    monkeypatch.setattr(history_pg.PgConnection, "executemany", row_by_row)
    a, b = result("CME-ACC-01", Status.FAIL, "shared a"), result("CME-ACC-04", Status.FAIL, "shared b")
    errors: list[BaseException] = []
    with History(url) as north, History(url) as south:
        handles = {"north": north.start_run("north.yaml", 1, scope="north"),
                   "south": south.start_run("south.yaml", 1, scope="south")}

        def record(store: History, scope: str, report: Any) -> None:
            try:
                store.record_device(handles[scope], report)
            except BaseException as exc:  # noqa: BLE001  # asserted below, in the test's thread
                errors.append(exc)

        # No command list: two writers storing one would queue on it before reaching the results.
        threads = [
            threading.Thread(target=record, args=(north, "north", replace(device("n1", a, b), commands=[]))),
            threading.Thread(target=record, args=(south, "south", replace(device("s1", b, a), commands=[]))),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        north.finish_run(handles["north"], complete=True)
        south.finish_run(handles["south"], complete=True)
        _, fleet, _ = north.load_latest()
    recorded = {d.name: [(r.check, r.message) for r in d.results] for d in fleet.devices}
    # Each device keeps its own order; the two results are stored once.
    assert recorded == {"n1": [("CME-ACC-01", "shared a"), ("CME-ACC-04", "shared b")],
                        "s1": [("CME-ACC-04", "shared b"), ("CME-ACC-01", "shared a")]}
    import psycopg

    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM results").fetchone() == (2,)


def test_trends_per_scope_and_of_the_whole_fleet(location: str) -> None:
    from cmelive.checks.base import Severity

    with History(location) as store:
        # north: 1 high failure, then fixed; south: 2 high failures, then a stopped run, then 1.
        plan = [("north", 1, True), ("south", 2, True), ("north", 0, True), ("south", 0, False), ("south", 1, True)]
        for scope, failing, complete in plan:
            handle = store.start_run(f"{scope}.yaml", 2, scope=scope)
            for number in range(2):
                status = Status.FAIL if number < failing else Status.PASS
                store.record_device(handle, device(f"{scope[0]}{number}", result("CME-ACC-04", status)))
            store.finish_run(handle, complete=complete)
        high = Severity.HIGH
        assert [(p.run_id, p.failures[high]) for p in store.trend(scope="south")] == [(2, 2), (4, 0), (5, 1)]
        # The fleet after each complete run: north's share and south's added up; the stopped run 4 is no point.
        assert [(p.run_id, p.failures[high]) for p in store.fleet_trend()] == [(1, 1), (2, 3), (3, 2), (5, 1)]
        # A window of two: each scope's state before it counts (north's run 3 before south's 5).
        assert [(p.run_id, p.failures[high]) for p in store.fleet_trend(2)] == [(3, 2), (5, 1)]
        assert store.fleet_trend(2)[0].failures[Severity.CRITICAL] == 0
