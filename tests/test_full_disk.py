"""A full disk mid-run: one line, exit 4, the history consistent, what was written whole.

Two honest ways to run out of room, both against a fake fleet on 127.0.0.1 audited by the real
command: a file size limit (RLIMIT_FSIZE, ``EFBIG``: always runnable) and a real small file
system (a tmpfs filled up to a chosen number of bytes: ``ENOSPC``; root only, skipped saying why
elsewhere) under the run directory, under the history database, under a single report, a
snapshot and the log. After each: exit 4 with one line on stderr naming the file; every report,
snapshot and log line present is whole, and no temporary file is left; the run is incomplete in
the history, every device it recorded is recorded whole; the next run on the same database works.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from cmelive.errors import WriteError
from cmelive.examples import example_dir
from cmelive.history import History, RunStatus
from cmelive.logs import PrivateLogFile
from cmelive.output_files import write_file
from cmelive.snapshot import read_snapshot, write_snapshot

from .fleet_files import (
    Fleet,
    assert_no_leftovers,
    assert_whole_run_dir,
    fake_fleet,
    fill,
    one_line,
    recorded_results,
    run_cli,
    run_fleet_cli,
    small_fs,
)

__all__ = ["fake_fleet", "small_fs"]  # fixtures, used by name

#: Room left on the history's disk before a first run: each meets the full disk after the run
#: started (measured: 128 KiB or less is too little to start one).
LEAVE_KIB = (192, 256, 320, 384)

#: Above every snapshot file (the largest running-config is 36 KB), below every report (62-177 KB).
FILE_SIZE_LIMIT = 48 * 1024


def assert_history_consistent(db: Path, failed_run: int, names: tuple[str, ...]) -> dict[str, int]:
    """The failed run is incomplete and each device it recorded has all its results (as many as the
    complete run after it, from the same routers); returns what it recorded."""
    runs = {run.id: run for run in History(db, create=False).list_runs()}
    # aborted: the disk was full when it came to record its end
    assert runs[failed_run].status in (RunStatus.INCOMPLETE, RunStatus.ABORTED)
    complete = [run_id for run_id, run in runs.items() if run.status == RunStatus.COMPLETE and run_id > failed_run]
    assert complete, runs
    results = recorded_results(db)
    whole = results[complete[0]]
    assert sorted(whole) == sorted(names) and all(whole.values())
    for device, count in results[failed_run].items():
        assert count == whole[device], (device, count, whole[device])
    return results[failed_run]


def test_a_file_size_limit_mid_run_exits_4_and_leaves_everything_whole(fake_fleet: Fleet, tmp_path: Path) -> None:
    # Without a history: a history database is at least 64 KB (a page for each of its 16 tables and
    # indexes), above any limit that lets every snapshot (<= 36 KB) through and stops a report.
    # The history on a full disk: test_a_full_disk_under_the_history.
    done = run_cli(
        "fleet", str(fake_fleet.inventory), "--out", str(tmp_path / "run"), "--no-history", "--workers", "4",
        "--timeout", "10", env=fake_fleet.environment, file_size_limit=FILE_SIZE_LIMIT,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    line = one_line(done.stderr)
    assert line.startswith("cmelive: error: ") and "File too large" in line
    present = assert_whole_run_dir(tmp_path / "run", fake_fleet.names)
    assert "report.json" not in present  # larger than the limit: absent, not half-written
    assert len(list((tmp_path / "run" / "snapshots").iterdir())) == len(fake_fleet.names)  # small enough: all kept

    again = run_fleet_cli(fake_fleet, tmp_path / "again", tmp_path / "history.sqlite")
    assert again.returncode == 1, again.stdout + again.stderr  # findings: the next run works
    assert assert_whole_run_dir(tmp_path / "again", fake_fleet.names) == [
        "report.json", "report.csv", "report.sarif", "report.junit.xml", "report.html"
    ]


@pytest.mark.parametrize("leave_kib", [0, 48, 200, 600])
def test_a_full_disk_under_the_run_directory(
    fake_fleet: Fleet, small_fs: Callable[[int], Path], tmp_path: Path, leave_kib: int
) -> None:
    disk = small_fs(2048)
    fill(disk, leave_kib * 1024)
    db = tmp_path / "history.sqlite"
    done = run_fleet_cli(fake_fleet, disk / "run", db)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "No space left on device" in one_line(done.stderr)
    present = assert_whole_run_dir(disk / "run", fake_fleet.names)
    assert len(present) < 5
    # The history is elsewhere: every device recorded, the run incomplete (its reports are not all there).
    (run,) = History(db, create=False).list_runs()
    assert run.status == RunStatus.INCOMPLETE and run.devices == len(fake_fleet.names)
    (disk / "filler").unlink()
    again = run_fleet_cli(fake_fleet, disk / "again", db)
    assert again.returncode == 1, again.stdout + again.stderr
    assert_history_consistent(db, run.id, fake_fleet.names)


def test_a_full_disk_under_the_history(fake_fleet: Fleet, small_fs: Callable[[int], Path], tmp_path: Path) -> None:
    """The room left on the history's disk decides where a run meets the full disk: before a device
    (refused whole: the run goes on), or when marking the run finished (its row says running, its
    process is gone: shown incomplete, and the next run marks it). The run is the database's first:
    a run whose results are all stored already writes too little (~0.5 KB a device) to fill a
    disk between two devices. Several amounts, since SQLite's page use varies with the paths."""
    partly_recorded = 0
    for leave_kib in LEAVE_KIB:
        disk = small_fs(1024)
        db = disk / "history.sqlite"
        filler = fill(disk, leave_kib * 1024)
        done = run_fleet_cli(fake_fleet, tmp_path / f"first-{leave_kib}", db)
        assert done.returncode == 4, done.stdout + done.stderr
        line = one_line(done.stderr)
        assert str(db) in line and "database or disk is full" in line
        assert "cannot record device" in line or "cannot finish the run" in line
        # The reports are on another disk: all of them written, whole.
        assert len(assert_whole_run_dir(tmp_path / f"first-{leave_kib}", fake_fleet.names)) == 5
        filler.unlink()
        again = run_fleet_cli(fake_fleet, tmp_path / f"again-{leave_kib}", db)
        assert again.returncode == 1, again.stdout + again.stderr
        recorded = assert_history_consistent(db, 1, fake_fleet.names)
        partly_recorded += 0 < len(recorded) < len(fake_fleet.names)
        listed = run_cli("history", "--db", str(db))
        assert [row.split()[2] for row in listed.stdout.splitlines()[1:]] in (
            ["complete", "incomplete"], ["complete", "aborted"]  # aborted: not even its end recorded
        )
    assert partly_recorded  # at least once the disk filled up between two devices


def test_a_single_report_on_a_full_disk_leaves_no_stale_report(small_fs: Callable[[int], Path]) -> None:
    disk = small_fs(512)
    out = disk / "report.json"
    ok = run_cli("replay", str(example_dir("secure-cme")), "--format", "json", "-o", str(out))
    assert ok.returncode in (0, 1) and out.stat().st_size > 4096
    filler = fill(disk, 0)
    again = run_cli("replay", str(example_dir("plain-ios")), "--format", "json", "-o", str(out))
    assert again.returncode == 4
    assert "No space left on device" in one_line(again.stderr)
    # The last run's verdict is not left behind to be read as this run's.
    assert not out.exists()
    assert_no_leftovers(disk)
    assert filler.exists()


def test_a_snapshot_on_a_full_disk_leaves_the_previous_one_as_it_was(small_fs: Callable[[int], Path]) -> None:
    disk = small_fs(512)
    snap = disk / "snap"
    first = read_snapshot(example_dir("secure-cme"))
    write_snapshot(first, snap)
    before = {p.name: p.read_bytes() for p in snap.iterdir()}
    fill(disk, 8 * 1024)  # room for a few small files, not the whole snapshot
    with pytest.raises(WriteError, match="No space left on device"):
        write_snapshot(read_snapshot(example_dir("insecure-cme")), snap, mask=False)
    assert {p.name: p.read_bytes() for p in snap.iterdir()} == before
    with pytest.raises(WriteError):
        write_snapshot(first, disk / "new")
    assert not (disk / "new").exists()  # created for it, removed with it
    assert_no_leftovers(disk)


def test_a_report_too_large_for_the_disk_keeps_the_previous_file(small_fs: Callable[[int], Path]) -> None:
    disk = small_fs(256)
    path = disk / "report.csv"
    write_file(path, "previous\n", doing="cannot write report")
    with pytest.raises(WriteError):
        write_file(path, "x" * (512 * 1024), doing="cannot write report")
    assert path.read_text() == "previous\n" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert_no_leftovers(disk)


def test_the_log_on_a_full_disk_keeps_whole_lines_and_says_so_once(small_fs: Callable[[int], Path]) -> None:
    disk = small_fs(256)
    handler = PrivateLogFile(disk / "cmelive.log")
    handler.setFormatter(logging.Formatter("%(message)s"))

    def log(message: str) -> None:
        handler.handle(logging.LogRecord("t", logging.INFO, __file__, 1, message, None, None))

    log("first line")
    fill(disk, 4096)  # one page left: a longer record is cut short by the disk
    log("x" * 10_000)
    log("after the failure")
    handler.close()
    assert (disk / "cmelive.log").read_text() == "first line\n"
    assert handler.failure is not None and "No space left on device" in str(handler.failure)
    assert shutil.disk_usage(disk).free >= 0 and os.path.getsize(disk / "cmelive.log") == len("first line\n")
