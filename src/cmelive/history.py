"""Run history: every fleet run, its devices and their results, in one SQLite database.

The database lives in the user's state dir (``$XDG_STATE_HOME/cmelive/history.sqlite``, default
``~/.local/state/cmelive/history.sqlite``) unless ``--db PATH`` says otherwise. Its schema is
versioned with ``PRAGMA user_version``; :data:`_MIGRATIONS` takes any older database forward.

Two guarantees matter to a nightly job:

* **Runs never overlap.** :meth:`History.start_run` takes an exclusive ``flock`` on a sidecar file
  (``<db>.lock``) and holds it until :meth:`History.finish_run`. A second run on the same database
  fails at once with :class:`~cmelive.errors.RunLockedError`, naming the run that holds it. The OS
  drops the lock when its process dies, however it dies, so a crashed run never blocks the next one;
  the next run then marks the dead run's ``running`` row ``incomplete`` (shown as ``aborted``: it
  never finished). The lock belongs to the run's process alone: a forked child (a judge) closes its copy
  of the descriptor at once (:func:`os.register_at_fork`), so no child can outlive the run holding it.
* **Every device of the run is in it, with where it got to.** :meth:`History.start_run` records
  every device of the inventory as ``not_started``; :meth:`History.mark_in_flight` turns a device
  ``interrupted`` when its audit begins, and :meth:`History.record_device` replaces that row with
  the device's result. So a run killed at any point still lists every device: finished, in flight
  (``interrupted``) or never begun (``not_started``).
* **A crash loses nothing that finished.** The database is in WAL mode and every device is committed
  in its own transaction as it finishes (:meth:`History.record_device`), so a run killed half-way
  leaves every finished device recorded and nothing half-written.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from cmelive import __version__, history_pg
from cmelive.checks.base import CheckResult, Evidence, Severity, Status
from cmelive.commands import CommandStatus
from cmelive.errors import HistoryError, HistoryFullError, RunLockedError, UsageError
from cmelive.output_files import create_private_file, is_full, make_dirs, open_lock_file
from cmelive.report.model import (
    INTERRUPTED_ERROR,
    NOT_STARTED_ERROR,
    AuditReport,
    DeviceReport,
    DeviceStatus,
)
from cmelive.snapshot import CommandOutput, utc_now
from cmelive.userdirs import state_dir

DB_FILE_NAME = "history.sqlite"
# How long a statement waits for another connection's write transaction (one device's rows) to
# end. Only SQLite's own short write locks are waited for; the run lock never waits.
_BUSY_TIMEOUT_MS = 10_000

# Migration N (1-based) takes a database from user_version N-1 to N. Append, never edit. A step
# is an SQL statement, or a function for what SQL cannot do portably (hashing).
#
# What is SQLite's own, for a PostgreSQL port: ``PRAGMA user_version`` (a one-row version table
# there); ``INTEGER PRIMARY KEY`` ids given by the database (identity columns); devices read back
# ``ORDER BY rowid``, the order they were recorded in (a column of its own); ``?`` placeholders
# (``%s`` in psycopg). The rest (ON CONFLICT DO NOTHING, NOT IN (SELECT ...), CASE, ALTER TABLE
# RENAME) is common SQL. A prune there, beside writers of other inventory scopes, must not delete a
# result set a writer has just looked up and not yet referenced (here the run lock and SQLite's
# single writer exclude that).
_Step = str | Callable[[sqlite3.Connection], None]
_MIGRATIONS: tuple[tuple[_Step, ...], ...] = (
    (
        """
        CREATE TABLE runs (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at   TEXT    NOT NULL,
            finished_at  TEXT,
            status       TEXT    NOT NULL CHECK (status IN ('running', 'complete', 'incomplete')),
            inventory    TEXT    NOT NULL,
            host_count   INTEGER NOT NULL,
            tool_version TEXT    NOT NULL,
            pid          INTEGER NOT NULL,
            hostname     TEXT    NOT NULL
        )
        """,
        """
        CREATE TABLE devices (
            run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            name        TEXT    NOT NULL,
            host        TEXT    NOT NULL,
            hostname    TEXT,
            status      TEXT    NOT NULL,
            error       TEXT,
            facts       TEXT    NOT NULL,  -- JSON object
            commands    TEXT    NOT NULL,  -- JSON list: command, status, duration_s, error (no output)
            recorded_at TEXT    NOT NULL,
            PRIMARY KEY (run_id, name)
        )
        """,
        """
        CREATE TABLE results (
            id          INTEGER PRIMARY KEY,
            run_id      INTEGER NOT NULL,
            device      TEXT    NOT NULL,
            check_id    TEXT    NOT NULL,
            title       TEXT    NOT NULL,
            family      TEXT    NOT NULL,
            severity    TEXT    NOT NULL,
            status      TEXT    NOT NULL,
            reference   TEXT    NOT NULL,
            message     TEXT    NOT NULL,
            evidence    TEXT    NOT NULL,  -- JSON list of {command, line, text}, text masked
            remediation TEXT    NOT NULL,  -- JSON list of strings
            waiver      TEXT,              -- JSON object or NULL
            FOREIGN KEY (run_id, device) REFERENCES devices (run_id, name) ON DELETE CASCADE
        )
        """,
        "CREATE INDEX results_by_device ON results (run_id, device)",
        "CREATE INDEX runs_by_status ON runs (status)",
    ),
    # 2: results stored once. A result's content (check, title, ..., waiver) is a ``results`` row
    # keyed by its hash; a device's ordered list of results is a ``result_sets`` row (its items and
    # its counts by status and severity), keyed by the hash of its results' hashes; a device-run
    # points at its set. A device whose results did not change since the last run costs one
    # ``devices`` row. Command lists (without their durations, which change every run) are stored
    # once in ``blobs``. No foreign key points at the content tables: ``history prune`` deletes
    # what no device-run references any more, in one pass (a foreign key would make every delete
    # search the referencing table).
    (
        "ALTER TABLE results RENAME TO results_v1",
        "ALTER TABLE devices RENAME TO devices_v1",
        """
        CREATE TABLE results (
            id          INTEGER PRIMARY KEY,
            hash        TEXT    NOT NULL UNIQUE,  -- sha256 of the fields below (_result_hash)
            check_id    TEXT    NOT NULL,
            title       TEXT    NOT NULL,
            family      TEXT    NOT NULL,
            severity    TEXT    NOT NULL,
            status      TEXT    NOT NULL,
            reference   TEXT    NOT NULL,
            message     TEXT    NOT NULL,
            evidence    TEXT    NOT NULL,  -- JSON list of {command, line, text}, text masked
            remediation TEXT    NOT NULL,  -- JSON list of strings
            waiver      TEXT               -- JSON object or NULL
        )
        """,
        """
        CREATE TABLE result_sets (
            id   INTEGER PRIMARY KEY,
            hash TEXT    NOT NULL UNIQUE,  -- sha256 of its results' hashes, in order
            size INTEGER NOT NULL
        )
        """,
        """
        CREATE TABLE result_set_items (
            set_id    INTEGER NOT NULL REFERENCES result_sets (id) ON DELETE CASCADE,
            position  INTEGER NOT NULL,
            result_id INTEGER NOT NULL,  -- results (id)
            PRIMARY KEY (set_id, position)
        )
        """,
        """
        CREATE TABLE result_set_counts (
            set_id   INTEGER NOT NULL REFERENCES result_sets (id) ON DELETE CASCADE,
            status   TEXT    NOT NULL,
            severity TEXT    NOT NULL,
            n        INTEGER NOT NULL,
            PRIMARY KEY (set_id, status, severity)
        )
        """,
        """
        CREATE TABLE blobs (
            id   INTEGER PRIMARY KEY,
            hash TEXT    NOT NULL UNIQUE,  -- sha256 of body
            body TEXT    NOT NULL
        )
        """,
        """
        CREATE TABLE devices (
            run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            name          TEXT    NOT NULL,
            host          TEXT    NOT NULL,
            hostname      TEXT,
            status        TEXT    NOT NULL,
            error         TEXT,
            facts         TEXT    NOT NULL,  -- JSON object (its uptime changes every run)
            commands_id   INTEGER,           -- blobs (id): JSON list of command, status, error; NULL: []
            durations     TEXT    NOT NULL,  -- JSON list: each command's duration_s, in order
            result_set_id INTEGER,           -- result_sets (id); NULL: no results
            recorded_at   TEXT    NOT NULL,
            PRIMARY KEY (run_id, name)
        )
        """,
        lambda conn: _migrate_to_shared_results(conn),
        "DROP TABLE results_v1",
        "DROP TABLE devices_v1",
    ),
    # 3: a run belongs to an inventory scope (a region): its run lock is the scope's, so runs of
    # other scopes write beside it; a run that died is marked by the next run of its own scope.
    (
        "ALTER TABLE runs ADD COLUMN scope TEXT NOT NULL DEFAULT ''",
        "UPDATE runs SET scope = inventory",
        "CREATE INDEX runs_by_scope ON runs (scope, status)",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)

# A new database is made at SCHEMA_VERSION at once, not through every migration (which would build
# and drop schema 1's tables, leaving their pages free in a new file). Keep it equal to what the
# migrations make: tests/test_history_schema.py compares the two on SQLite and PostgreSQL. A
# migration appended above changes this too. Columns a migration appended (runs.scope) come last,
# where ALTER TABLE puts them, so ``SELECT *`` reads the same columns in the same order.
_SCHEMA: tuple[str, ...] = (
    """
    CREATE TABLE runs (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at   TEXT    NOT NULL,
        finished_at  TEXT,
        status       TEXT    NOT NULL CHECK (status IN ('running', 'complete', 'incomplete')),
        inventory    TEXT    NOT NULL,
        host_count   INTEGER NOT NULL,
        tool_version TEXT    NOT NULL,
        pid          INTEGER NOT NULL,
        hostname     TEXT    NOT NULL,
        scope        TEXT    NOT NULL DEFAULT ''  -- the run lock's scope (a region)
    )
    """,
    "CREATE INDEX runs_by_status ON runs (status)",
    # results, result_sets, result_set_items, result_set_counts, blobs, devices: as migration 2 made them
    *(step for step in _MIGRATIONS[1][2:8] if isinstance(step, str)),
    "CREATE INDEX runs_by_scope ON runs (scope, status)",
)

# Severities shown as failure columns; info failures are counted but rarely worth a column.
REPORTED_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"  # interrupted, or finished with complete=False
    # Never stored (the database says incomplete, with no finished_at): how readers show a run that
    # ended without finishing its record: killed (kill -9, the OOM killer, a power cut), or unable
    # to write its end (a full disk).
    ABORTED = "aborted"


# The rows a run writes for its devices before they are done (see the module docstring); their
# errors say what the reports of a stopped run say.
_NOT_STARTED = str(DeviceStatus.NOT_STARTED)
_PLACEHOLDERS = (str(DeviceStatus.NOT_STARTED), str(DeviceStatus.INTERRUPTED))

# Descriptors of run locks this process holds: a forked child closes its copies (never unlocks:
# flock locks are shared by every copy, and unlocking would release the parent's).
_HELD_LOCKS: set[int] = set()


def _close_inherited_locks() -> None:
    for fd in _HELD_LOCKS:
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD_LOCKS.clear()


os.register_at_fork(after_in_child=_close_inherited_locks)


def default_db_path() -> Path:
    """``$XDG_STATE_HOME/cmelive/history.sqlite`` (default ``~/.local/state/cmelive/history.sqlite``)."""
    return state_dir() / DB_FILE_NAME


def _zero_counts() -> dict[Severity, int]:
    return {severity: 0 for severity in REPORTED_SEVERITIES}


@dataclass(frozen=True)
class RunSummary:
    """One run as ``cmelive history`` lists it."""

    id: int
    started_at: str
    finished_at: str | None
    status: RunStatus
    inventory: str
    host_count: int
    tool_version: str
    pid: int
    hostname: str
    scope: str = ""  # what its run lock covers (a region); by default its inventory
    devices: int = 0
    ok: int = 0
    partial: int = 0
    error: int = 0
    failures: dict[Severity, int] = field(default_factory=_zero_counts)
    waived: int = 0
    interrupted: int = 0  # in flight when the run was stopped or died
    not_started: int = 0  # never begun

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": str(self.status),
            "inventory": self.inventory,
            "host_count": self.host_count,
            "tool_version": self.tool_version,
            "pid": self.pid,
            "hostname": self.hostname,
            "scope": self.scope,
            "devices": {
                "total": self.devices, "ok": self.ok, "partial": self.partial, "error": self.error,
                "interrupted": self.interrupted, "not_started": self.not_started,
            },
            "failures": {str(severity): count for severity, count in self.failures.items()},
            "waived": self.waived,
        }


class TrendPoint(NamedTuple):
    """Failures by severity in one run, for the trend chart."""

    run_id: int
    started_at: str
    failures: dict[Severity, int]


class LatestFleet(NamedTuple):
    """The fleet as :meth:`History.load_latest` rebuilds it from every scope's newest finished run."""

    runs: list[RunSummary]  # each scope's newest finished run, newest first
    report: AuditReport  # their devices, oldest run first
    shared_names: list[str]  # device names recorded in several of those runs' scopes (qualified SCOPE/NAME)


class _DryRun(Exception):
    """Raised inside a prune's transaction to roll it back."""


@dataclass(frozen=True)
class PruneResult:
    """What :meth:`History.prune` deleted (or, dry, would delete)."""

    runs: list[RunSummary]  # the runs deleted, newest first
    kept: int  # runs left
    results: int  # distinct results no kept run references any more
    result_sets: int
    blobs: int
    bytes_before: int
    bytes_after: int  # the same unless vacuumed: SQLite reuses freed pages for the next runs
    dry_run: bool


class RunHandle:
    """A run in progress: its id, and the run lock held until :meth:`History.finish_run`."""

    def __init__(
        self, run_id: int, started_at: str, db_path: Path | str, release: Callable[[], None], scope: str = ""
    ) -> None:
        self.run_id = run_id
        self.started_at = started_at
        self.db_path = db_path
        self.scope = scope
        self._release_lock: Callable[[], None] | None = release

    @property
    def active(self) -> bool:
        return self._release_lock is not None

    def _release(self) -> None:
        if self._release_lock is not None:
            release, self._release_lock = self._release_lock, None
            release()

    def __repr__(self) -> str:
        return f"RunHandle(run_id={self.run_id}, db={str(self.db_path)!r}, active={self.active})"


def _release_flocks(*fds: int) -> None:
    # Closing a descriptor releases its flock; unlocking first makes it explicit.
    for fd in fds:
        _HELD_LOCKS.discard(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# Diff


class Presence(StrEnum):
    BOTH = "both"
    ADDED = "added"  # only in run b
    REMOVED = "removed"  # only in run a


@dataclass(frozen=True)
class FindingChange:
    """One check on one device, compared across two runs (identity: device + check id)."""

    check: str
    title: str
    severity: Severity
    status_a: Status | None  # None: no result for it in run a
    status_b: Status | None
    message: str  # run b's message when it fails there, else run a's

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "title": self.title,
            "severity": str(self.severity),
            "status_a": str(self.status_a) if self.status_a is not None else None,
            "status_b": str(self.status_b) if self.status_b is not None else None,
            "message": self.message,
        }


@dataclass
class DeviceDiff:
    """What changed on one device between run a and run b.

    A failure of run a that does not fail in run b is only *resolved* when run b shows the check
    passing (or not applicable). When run b waived it, it is *newly waived*; when run b could not
    evaluate it (unknown, device unreachable, check not run) it is *unverified*: missing evidence is
    never reported as a fix.
    """

    device: str
    presence: Presence
    status_a: DeviceStatus | None
    status_b: DeviceStatus | None
    new: list[FindingChange] = field(default_factory=list)
    resolved: list[FindingChange] = field(default_factory=list)
    still_failing: list[FindingChange] = field(default_factory=list)
    newly_waived: list[FindingChange] = field(default_factory=list)
    unverified: list[FindingChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return (
            self.presence != Presence.BOTH
            or self.status_a != self.status_b
            or bool(self.new or self.resolved or self.newly_waived or self.unverified)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "presence": str(self.presence),
            "status_a": str(self.status_a) if self.status_a is not None else None,
            "status_b": str(self.status_b) if self.status_b is not None else None,
            "new": [f.to_dict() for f in self.new],
            "resolved": [f.to_dict() for f in self.resolved],
            "still_failing": [f.to_dict() for f in self.still_failing],
            "newly_waived": [f.to_dict() for f in self.newly_waived],
            "unverified": [f.to_dict() for f in self.unverified],
        }


@dataclass
class RunDiff:
    """Run a compared with run b, device by device (sorted by name)."""

    run_a: RunSummary
    run_b: RunSummary
    devices: list[DeviceDiff]

    @property
    def added(self) -> list[str]:
        return [d.device for d in self.devices if d.presence == Presence.ADDED]

    @property
    def removed(self) -> list[str]:
        return [d.device for d in self.devices if d.presence == Presence.REMOVED]

    def totals(self) -> dict[str, int]:
        return {
            "new": sum(len(d.new) for d in self.devices),
            "resolved": sum(len(d.resolved) for d in self.devices),
            "still_failing": sum(len(d.still_failing) for d in self.devices),
            "newly_waived": sum(len(d.newly_waived) for d in self.devices),
            "unverified": sum(len(d.unverified) for d in self.devices),
            "devices_added": len(self.added),
            "devices_removed": len(self.removed),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_a": self.run_a.to_dict(),
            "run_b": self.run_b.to_dict(),
            "totals": self.totals(),
            "devices": [d.to_dict() for d in self.devices],
        }


def _sort_key(change: FindingChange) -> tuple[int, str]:
    return (-change.severity.rank, change.check)


class Judged(Protocol):
    """What a diff reads of a device: a :class:`DeviceReport`, or the lighter :class:`DeviceView`."""

    @property
    def name(self) -> str: ...
    @property
    def status(self) -> DeviceStatus: ...
    @property
    def results(self) -> Sequence[CheckResult]: ...


@dataclass(frozen=True)
class DeviceView:
    """A device's status and results as a diff reads them from the history: without the evidence,
    remediation and facts a whole :class:`DeviceReport` rebuilds (and masks again)."""

    name: str
    status: DeviceStatus
    results: Sequence[CheckResult]


def diff_devices(a: Judged | None, b: Judged | None) -> DeviceDiff:
    """Compare one device's results in two runs (either may be absent)."""
    either = b if b is not None else a
    if either is None:
        raise ValueError("diff_devices needs at least one device")
    name = either.name
    presence = Presence.BOTH if a is not None and b is not None else Presence.ADDED if a is None else Presence.REMOVED
    out = DeviceDiff(name, presence, a.status if a else None, b.status if b else None)
    if b is None:
        # A device gone from the inventory tells us nothing about its findings.
        return out
    results_a = {r.check: r for r in a.results} if a is not None else {}
    results_b = {r.check: r for r in b.results}
    for check_id in sorted(set(results_a) | set(results_b)):
        ra, rb = results_a.get(check_id), results_b.get(check_id)
        failing_a = ra is not None and ra.status == Status.FAIL
        failing_b = rb is not None and rb.status == Status.FAIL
        if not failing_a and not failing_b:
            continue
        shown = rb if failing_b else ra
        assert shown is not None
        change = FindingChange(
            check=check_id,
            title=shown.title,
            severity=(rb or shown).severity,
            status_a=ra.status if ra else None,
            status_b=rb.status if rb else None,
            message=shown.message,
        )
        if failing_a and failing_b:
            out.still_failing.append(change)
        elif failing_b:
            out.new.append(change)
        elif rb is not None and rb.status in (Status.PASS, Status.NOT_APPLICABLE):
            out.resolved.append(change)
        elif rb is not None and rb.status == Status.WAIVED:
            out.newly_waived.append(change)
        else:
            out.unverified.append(change)
    for bucket in (out.new, out.resolved, out.still_failing, out.newly_waived, out.unverified):
        bucket.sort(key=_sort_key)
    return out


def diff_reports(run_a: RunSummary, report_a: AuditReport, run_b: RunSummary, report_b: AuditReport) -> RunDiff:
    return diff_devices_of(run_a, report_a.devices, run_b, report_b.devices)


def diff_devices_of(run_a: RunSummary, a: Sequence[Judged], run_b: RunSummary, b: Sequence[Judged]) -> RunDiff:
    devices_a = {d.name: d for d in a}
    devices_b = {d.name: d for d in b}
    devices = [diff_devices(devices_a.get(name), devices_b.get(name)) for name in sorted(set(devices_a) | set(devices_b))]
    return RunDiff(run_a, run_b, devices)


# ---------------------------------------------------------------------------------------------
# The database


# A result's columns in the ``results`` table, after its id and hash.
_RESULT_COLUMNS = (
    "check_id", "title", "family", "severity", "status", "reference", "message", "evidence", "remediation", "waiver"
)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _result_hash(fields: Sequence[Any]) -> str:
    """The key of one result's content: the same fields, the same hash, in every run and device."""
    return _sha256(json.dumps(list(fields)))


@dataclass(frozen=True)
class DeviceRows:
    """A device's rows for the history, without the run id; the hashes made where it was judged."""

    device: tuple[Any, ...]  # name, host, hostname, status, error, facts
    commands: str  # JSON list of command, status, error ("[]" when none)
    durations: str  # JSON list of each command's duration_s
    results: list[tuple[Any, ...]]  # hash, then _RESULT_COLUMNS
    set_hash: str | None  # None: no results
    counts: list[tuple[str, str, int]]  # status, severity, how many

    @property
    def commands_hash(self) -> str:
        return _sha256(self.commands)


def _rows(device: tuple[Any, ...], commands: list[dict[str, Any]], results: Iterable[Sequence[Any]]) -> DeviceRows:
    hashed = [(_result_hash(fields), *fields) for fields in results]
    counts: dict[tuple[str, str], int] = {}
    for row in hashed:
        key = (row[5], row[4])  # status, severity
        counts[key] = counts.get(key, 0) + 1
    return DeviceRows(
        device=device,
        commands=json.dumps([{"command": c["command"], "status": c["status"], "error": c["error"]} for c in commands]),
        durations=json.dumps([c["duration_s"] for c in commands]),
        results=hashed,
        set_hash=_sha256("\n".join(row[0] for row in hashed)) if hashed else None,
        counts=[(status, severity, n) for (status, severity), n in sorted(counts.items())],
    )


def device_rows(device: DeviceReport) -> DeviceRows:
    """What :meth:`History.record_device` inserts for ``device``; pure, so a judge can make it."""
    commands = [
        {"command": c.command, "status": str(c.status), "duration_s": round(c.duration_s, 4), "error": c.error}
        for c in device.commands
    ]
    results = [
        (
            r.check,
            r.title,
            r.family,
            str(r.severity),
            str(r.status),
            r.reference,
            r.message,
            # The report model scrubbed every text when it was made (cmelive.report.model).
            json.dumps([{"command": e.command, "line": e.line, "text": e.text} for e in r.evidence]),
            json.dumps(list(r.remediation)),
            json.dumps(r.waiver) if r.waiver is not None else None,
        )
        for r in device.results
    ]
    facts = json.dumps(device.facts, default=str)
    return _rows((device.name, device.host, device.hostname, str(device.status), device.error, facts), commands, results)


# SQLite before 3.32 allows 999 parameters in one statement.
_CHUNK = 500


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _content_id(conn: sqlite3.Connection, table: str, hash_: str) -> int | None:
    row = conn.execute(f"SELECT id FROM {table} WHERE hash = ?", (hash_,)).fetchone()
    return int(row[0]) if row is not None else None


def _hash_of(row: tuple[Any, ...]) -> str:
    return str(row[0])


def _store_content(conn: sqlite3.Connection, rows: DeviceRows) -> tuple[int | None, int | None]:
    """The ids of ``rows``' command list and result set, stored first if new.

    ``ON CONFLICT DO NOTHING`` (SQLite 3.24+, PostgreSQL 9.5+): two writers storing the same content
    at once both end with the one row.
    """
    commands_id = None
    if rows.commands != "[]":
        commands_id = _content_id(conn, "blobs", rows.commands_hash)
        if commands_id is None:
            conn.execute(
                "INSERT INTO blobs (hash, body) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING",
                (rows.commands_hash, rows.commands),
            )
            commands_id = _content_id(conn, "blobs", rows.commands_hash)
    if rows.set_hash is None:
        return commands_id, None
    set_id = _content_id(conn, "result_sets", rows.set_hash)
    if set_id is not None:
        return commands_id, set_id  # nothing changed: the device-run costs its devices row
    in_hash_order: list[tuple[Any, ...]] = sorted(rows.results, key=_hash_of)
    conn.executemany(
        f"INSERT INTO results (hash, {', '.join(_RESULT_COLUMNS)}) VALUES ({', '.join('?' * (len(_RESULT_COLUMNS) + 1))})"
        " ON CONFLICT (hash) DO NOTHING",
        # In hash order: two PostgreSQL writers (two regions) storing the same new results at once
        # wait on each other's rows in one order, so never each for the other (a deadlock, one
        # device's record refused). A device's results come in check order, which may differ
        # between two cmelive versions; their positions are stored apart (result_set_items).
        in_hash_order,
    )
    hashes = list({row[0] for row in rows.results})
    ids: dict[str, int] = {}
    for chunk in _chunks(hashes):
        ids.update(
            conn.execute(f"SELECT hash, id FROM results WHERE hash IN ({', '.join('?' * len(chunk))})", chunk).fetchall()
        )
    conn.execute(
        "INSERT INTO result_sets (hash, size) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING",
        (rows.set_hash, len(rows.results)),
    )
    set_id = _content_id(conn, "result_sets", rows.set_hash)
    assert set_id is not None
    conn.executemany(
        "INSERT INTO result_set_items (set_id, position, result_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [(set_id, position, ids[row[0]]) for position, row in enumerate(rows.results)],
    )
    conn.executemany(
        "INSERT INTO result_set_counts (set_id, status, severity, n) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(set_id, *count) for count in rows.counts],
    )
    return commands_id, set_id


def _insert_device(conn: sqlite3.Connection, run_id: int, rows: DeviceRows, recorded_at: str) -> None:
    commands_id, set_id = _store_content(conn, rows)
    conn.execute(
        "INSERT INTO devices (run_id, name, host, hostname, status, error, facts, commands_id, durations,"
        " result_set_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (run_id, *rows.device, commands_id, rows.durations, set_id, recorded_at),
    )


def _migrate_to_shared_results(conn: sqlite3.Connection) -> None:
    """Schema 1 to 2: every device-run of ``devices_v1``/``results_v1`` stored again, its results once."""
    devices = conn.execute(
        "SELECT run_id, name, host, hostname, status, error, facts, commands, recorded_at FROM devices_v1 ORDER BY rowid"
    )
    for run_id, name, host, hostname, status, error, facts, commands, recorded_at in devices.fetchall():
        results = conn.execute(
            f"SELECT {', '.join(_RESULT_COLUMNS)} FROM results_v1 WHERE run_id = ? AND device = ? ORDER BY id",
            (run_id, name),
        ).fetchall()
        rows = _rows((name, host, hostname, status, error, facts), json.loads(commands), results)
        _insert_device(conn, run_id, rows, recorded_at)


class History:
    """The run history database at ``path``.

    ``create=False`` refuses a path where no file exists (for commands that only read). The object
    may be shared by worker threads: every statement runs under one mutex.
    """

    def __init__(self, path: Path | str, *, create: bool = True) -> None:
        self._mutex = threading.RLock()
        #: The scope of the runs this object starts when start_run is given none (``--scope``);
        #: None: each run's inventory (the fleet's: the inventory file's resolved path).
        self.run_scope: str | None = None
        #: The first write that failed for want of room (or of a working disk); the run is incomplete.
        self.write_failure: HistoryFullError | None = None
        location = str(path)
        if location.startswith(("postgresql:/", "postgres:/")) and not history_pg.is_url(location):
            # A URL that went through pathlib lost one slash of its "//".
            location = location.replace(":/", "://", 1)
        self._pg: history_pg.PgConnection | None = None
        if history_pg.is_url(location):
            self.url = location
            self.path = Path(history_pg.mask_url(location))
            self._where = self.location = history_pg.mask_url(location)
            self._open_postgresql(location)
            return
        self.path = Path(path).expanduser()
        #: Where the history is, as messages show it (a PostgreSQL URL with its password masked).
        self.location = self._where = str(self.path)
        if self.path.is_dir():
            raise HistoryError(self._where, "is a directory, not a history database")
        if not self.path.exists():
            if not create:
                raise HistoryError(
                    self._where, "no run history here (a fleet run creates it; --db chooses another file)"
                )
            try:
                # Its directory 0700 and the file 0600 before SQLite opens it: SQLite gives the -wal
                # and -shm files the database's mode. Never through a symlink.
                make_dirs(self.path.parent)
                create_private_file(self.path)
            except OSError as exc:
                error = HistoryFullError if is_full(exc) else HistoryError
                raise error(self._where, f"cannot create the history database: {exc.strerror}") from exc
        elif not os.access(self.path, os.R_OK):
            raise HistoryError(self._where, "cannot read the history database: permission denied")
        with self._errors("cannot open the history database"):
            self._conn = sqlite3.connect(
                self._where, isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT_MS / 1000
            )
        try:
            with self._errors("cannot open the history database"):
                self._conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                self._conn.execute("PRAGMA foreign_keys = ON")
                self._migrate()
                # WAL: readers never block the run that writes; NORMAL: a commit survives the process
                # dying (not a power cut), at a fraction of FULL's fsyncs.
                self._conn.execute("PRAGMA journal_mode = WAL").fetchone()
                self._conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            self._conn.close()
            raise

    def _open_postgresql(self, url: str) -> None:
        try:
            self._pg = history_pg.PgConnection(url)
        except history_pg.error_types() as exc:
            raise history_pg.history_error(url, "cannot open the history database", exc) from exc
        self._conn = self._pg  # type: ignore[assignment]  # the slice of sqlite3.Connection used
        try:
            self._migrate()
        except BaseException:
            self._pg.close()
            raise

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn SQLite's errors into one-line HistoryErrors naming the database."""
        try:
            yield
        except history_pg.error_types() as exc:
            assert self._pg is not None
            error = history_pg.history_error(self._pg.url, doing, exc)
            if type(exc).__name__ in ("DiskFull", "OutOfMemory", "IoError"):
                full = HistoryFullError(self._where, error.args[-1] if error.args else doing)
                self.write_failure = self.write_failure or full
                raise full from exc
            raise error from exc
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR):
                # SQLite rolled the statement back: nothing half-recorded; the command exits 4.
                self.write_failure = self.write_failure or HistoryFullError(self._where, f"{doing}: {text}")
                raise HistoryFullError(self._where, f"{doing}: {text}") from exc
            if "file is not a database" in text:
                raise HistoryError(self._where, "not an SQLite database (is --db the right file?)") from exc
            if "unable to open" in text:
                raise HistoryError(self._where, f"{doing}: unable to open the file") from exc
            raise HistoryError(self._where, f"{doing}: {text}") from exc

    @contextmanager
    def _transaction(self, doing: str, *, exclusive: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction; ``BEGIN IMMEDIATE`` takes the write lock up front (no upgrade deadlock).

        PostgreSQL has many writers at once (one per scope): every write transaction holds the
        prune lock shared, ``exclusive`` (prune, migrations) holds it alone, so a prune never deletes
        content a writer has looked up and not yet referenced.
        """
        with self._mutex, self._errors(doing):
            # A Ctrl-C can land between any two statements (after BEGIN, before the try): whatever
            # it interrupted must not leave the connection inside a transaction for the next write.
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            try:
                if self._pg is not None:
                    self._pg.execute("BEGIN")
                    self._pg.xact_lock(history_pg.PRUNE_KEY, shared=not exclusive)
                else:
                    self._conn.execute("BEGIN IMMEDIATE")
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._mutex, self._errors("cannot read the history database"):
            cursor = self._conn.execute(sql, params)
            if self._pg is None:
                cursor.row_factory = sqlite3.Row
            return list(cursor.fetchall())

    def _schema_version(self) -> int:
        if self._pg is not None:
            return self._pg.schema_version()
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self._errors("cannot open the history database"):
            version = self._schema_version()
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise HistoryError(
                self._where,
                f"written by a newer cmelive (schema {version}; this one knows up to {SCHEMA_VERSION})",
            )
        with self._transaction("cannot set up the history database", exclusive=True) as conn:
            # Re-read inside the write lock: another process may have migrated meanwhile.
            version = self._schema_version()
            if self._pg is not None:
                if version == 0 and self._pg.has_other_tables():
                    raise HistoryError(self._where, "a PostgreSQL database (schema), but not a cmelive run history")
            elif version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise HistoryError(self._where, "an SQLite database, but not a cmelive run history")
            # A new database is made as it is now; an older one is taken forward step by step.
            steps: Iterable[_Step] = (
                _SCHEMA if version == 0
                else (step for number in range(version + 1, SCHEMA_VERSION + 1) for step in _MIGRATIONS[number - 1])
            )
            for step in steps:
                if isinstance(step, str):
                    conn.execute(history_pg.ddl(step) if self._pg is not None else step)
                else:
                    step(conn)
            if self._pg is not None:
                self._pg.set_schema_version(SCHEMA_VERSION)
            else:
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._mutex:
            self._conn.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def lock_path(self) -> Path:
        """The sidecar lock file; next to the real file, so every path to one database shares it."""
        real = self.path.resolve()
        return real.with_name(real.name + ".lock")

    # -- runs ---------------------------------------------------------------------------------

    def start_run(
        self,
        inventory: str,
        host_count: int,
        devices: Sequence[tuple[str, str]] = (),
        *,
        scope: str | None = None,
    ) -> RunHandle:
        """Start a run: take its scope's run lock (or fail at once) and record the run as ``running``,
        with each of ``devices`` (name, address) as ``not_started``.

        ``scope`` (default: ``inventory``) names what the run covers, a region's inventory: runs of
        other scopes may write at the same time; two runs of one scope never overlap.
        Raises :class:`RunLockedError` when another run of the scope holds it (or a prune runs).
        """
        scope = scope if scope is not None else self.run_scope if self.run_scope is not None else inventory
        release = self._take_run_lock(scope)
        try:
            started_at = utc_now()
            with self._transaction("cannot start a run") as conn:
                # We hold the scope's lock, so any run of it still marked running died without finishing.
                conn.execute("UPDATE runs SET status = 'incomplete' WHERE status = 'running' AND scope = ?", (scope,))
                insert = (
                    "INSERT INTO runs (started_at, status, inventory, host_count, tool_version, pid, hostname, scope)"
                    " VALUES (?, 'running', ?, ?, ?, ?, ?, ?)"
                )
                params = (started_at, inventory, host_count, __version__, os.getpid(), socket.gethostname(), scope)
                if self._pg is not None:
                    row = conn.execute(insert + " RETURNING id", params).fetchone()
                    run_id = int(row[0])
                else:
                    run_id = conn.execute(insert, params).lastrowid  # type: ignore[assignment]
                assert run_id is not None
                recorded_at = utc_now()
                conn.executemany(
                    "INSERT INTO devices (run_id, name, host, hostname, status, error, facts, commands_id, durations,"
                    " result_set_id, recorded_at) VALUES (?, ?, ?, NULL, ?, ?, '{}', NULL, '[]', NULL, ?)",
                    [(run_id, name, host, _NOT_STARTED, NOT_STARTED_ERROR, recorded_at) for name, host in devices],
                )
            if self._pg is None:
                # Who holds the lock, for the message a concurrent run prints (also readable by hand).
                holder = json.dumps(
                    {"run_id": run_id, "pid": os.getpid(), "hostname": socket.gethostname(), "started_at": started_at,
                     "scope": scope}
                )
                scope_lock = self._scope_lock_path(scope)
                try:
                    with open(scope_lock, "r+b", buffering=0) as file:
                        file.truncate(0)
                        file.write((holder + "\n").encode())
                except OSError as exc:  # a full disk: the run has not begun (the next run marks its row)
                    error = HistoryFullError if is_full(exc) else HistoryError
                    raise error(str(scope_lock), f"cannot write the run lock file: {exc.strerror}") from exc
        except BaseException:
            release()
            raise
        return RunHandle(run_id, started_at, self.path, release, scope)

    def mark_in_flight(self, handle: RunHandle, name: str) -> None:
        """A device's audit began: should the run end before it is recorded, it was ``interrupted``."""
        if not handle.active:
            raise HistoryError(self._where, f"run {handle.run_id} is finished; cannot mark {name!r}")
        with self._transaction(f"cannot mark device {name!r} in flight") as conn:
            conn.execute(
                "UPDATE devices SET status = ?, error = ?, recorded_at = ? WHERE run_id = ? AND name = ? AND status = ?",
                (str(DeviceStatus.INTERRUPTED), INTERRUPTED_ERROR, utc_now(), handle.run_id, name, _NOT_STARTED),
            )

    def _scope_lock_path(self, scope: str) -> Path:
        """A scope's lock file beside the database: ``<db>.lock.<hash of the scope>``."""
        digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
        return self.lock_path.with_name(f"{self.lock_path.name}.{digest}")

    def _flock(self, lock_path: Path, mode: int, scope: str | None) -> int:
        try:
            # os.open's descriptors are close-on-exec: a child process never inherits the lock.
            lock_fd = open_lock_file(lock_path)  # 0600, never through a symlink
        except OSError as exc:
            raise HistoryError(str(lock_path), f"cannot open the run lock file: {exc.strerror}") from exc
        try:
            fcntl.flock(lock_fd, mode | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(lock_fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RunLockedError(self._where, self._holder_description(lock_path, scope)) from exc
            raise HistoryError(str(lock_path), f"cannot lock the run lock file: {exc.strerror}") from exc
        _HELD_LOCKS.add(lock_fd)
        return lock_fd

    def _take_run_lock(self, scope: str) -> Callable[[], None]:
        """The run lock of ``scope``; what releases it.

        SQLite: ``<db>.lock`` shared (a prune takes it alone) and the scope's own file exclusive.
        PostgreSQL: a session advisory lock on the scope's key, held by this connection.
        """
        if self._pg is not None:
            pg, key = self._pg, history_pg.scope_key(scope)
            with self._mutex, self._errors("cannot take the run lock"):
                taken = pg.try_session_lock(key)
            if not taken:
                raise RunLockedError(self._where, self._holder_description(None, scope))

            def unlock() -> None:
                with self._mutex, self._errors("cannot release the run lock"):
                    pg.session_unlock(key)

            return unlock
        shared = self._flock(self.lock_path, fcntl.LOCK_SH, None)
        try:
            own = self._flock(self._scope_lock_path(scope), fcntl.LOCK_EX, scope)
        except BaseException:
            _release_flocks(shared)
            raise
        return lambda: _release_flocks(own, shared)

    # -- retention ----------------------------------------------------------------------------

    def prune(
        self, keep: int | None = None, keep_days: int | None = None, *, dry_run: bool = False, vacuum: bool = False
    ) -> PruneResult:
        """Delete old runs and the results no kept run references.

        Kept: the newest ``keep`` complete runs, and every run started in the last ``keep_days`` days
        (either rule keeps a run). Incomplete and aborted runs go when they are older than the oldest
        complete run kept: a stopped run between two kept ones stays with them. Takes the run lock
        (a run in progress refuses it: :class:`RunLockedError`); ``dry_run`` rolls it all back.
        """
        if keep is None and keep_days is None:
            raise UsageError("history prune: give --keep N and/or --keep-days D")
        if keep is not None and keep < 1:
            raise UsageError("history prune: --keep must be at least 1")
        if keep_days is not None and keep_days < 0:
            raise UsageError("history prune: --keep-days must be 0 or more")
        lock_fd = self._flock(self.lock_path, fcntl.LOCK_EX, None) if self._pg is None else None
        try:
            bytes_before = self._size()
            cutoff = None
            if keep_days is not None:
                now = datetime.strptime(utc_now(), "%Y-%m-%dT%H:%M:%SZ")
                cutoff = (now - timedelta(days=keep_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
            counts: dict[str, int] = {}
            summaries: list[RunSummary] = []
            try:
                with self._transaction("cannot prune the history", exclusive=True) as conn:
                    # PostgreSQL: runs of other scopes may be running now; a prune leaves every
                    # running run alone (the next run of its scope marks a dead one).
                    runs = conn.execute(
                        "SELECT id, status, started_at FROM runs"
                        + (" WHERE status <> 'running'" if self._pg is not None else "")
                        + " ORDER BY id DESC"
                    ).fetchall()
                    complete = [run_id for run_id, status, _ in runs if status == RunStatus.COMPLETE]
                    kept = set(complete[:keep] if keep is not None else [])
                    if cutoff is not None:
                        kept |= {run_id for run_id, _, started_at in runs if started_at >= cutoff}
                    # A run still marked running died (this holds the lock): it goes like an incomplete one.
                    oldest_kept = min(kept, default=None)
                    gone = [
                        run_id
                        for run_id, status, _ in runs
                        if run_id not in kept
                        and (status == RunStatus.COMPLETE or oldest_kept is None or run_id < oldest_kept)
                    ]
                    for chunk in _chunks(gone):
                        summaries += self._summaries(self._query_in(conn, "SELECT * FROM runs WHERE id IN", chunk))
                        # Devices go with their runs (ON DELETE CASCADE), items and counts with their sets.
                        conn.execute(f"DELETE FROM runs WHERE id IN ({', '.join('?' * len(chunk))})", chunk)
                    # NOT IN (SELECT ...): one pass over the references left, in SQLite and PostgreSQL.
                    counts["result_sets"] = conn.execute(
                        "DELETE FROM result_sets WHERE id NOT IN"
                        " (SELECT result_set_id FROM devices WHERE result_set_id IS NOT NULL)"
                    ).rowcount
                    counts["results"] = conn.execute(
                        "DELETE FROM results WHERE id NOT IN (SELECT result_id FROM result_set_items)"
                    ).rowcount
                    counts["blobs"] = conn.execute(
                        "DELETE FROM blobs WHERE id NOT IN"
                        " (SELECT commands_id FROM devices WHERE commands_id IS NOT NULL)"
                    ).rowcount
                    if dry_run:
                        raise _DryRun  # rolls every delete back
            except _DryRun:
                pass
            if vacuum and not dry_run:
                with self._mutex, self._errors("cannot vacuum the history"):
                    self._conn.execute("VACUUM")
                    if self._pg is None:
                        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return PruneResult(
                runs=sorted(summaries, key=lambda run: -run.id),
                kept=len(runs) - len(gone),
                results=counts["results"],
                result_sets=counts["result_sets"],
                blobs=counts["blobs"],
                bytes_before=bytes_before,
                bytes_after=self._size(),
                dry_run=dry_run,
            )
        finally:
            if lock_fd is not None:
                _release_flocks(lock_fd)

    def _query_in(self, conn: sqlite3.Connection, sql: str, ids: Sequence[Any]) -> list[sqlite3.Row]:
        cursor = conn.execute(f"{sql} ({', '.join('?' * len(ids))})", ids)
        if self._pg is None:
            cursor.row_factory = sqlite3.Row
        return list(cursor.fetchall())

    def _size(self) -> int:
        """The database's bytes on disk, its write-ahead log included."""
        if self._pg is not None:
            return int(self._query("SELECT pg_database_size(current_database())")[0][0])
        total = 0
        for suffix in ("", "-wal"):
            try:
                total += os.stat(f"{self.path}{suffix}").st_size
            except FileNotFoundError:
                pass
        return total

    def _holder_description(self, lock_path: Path | None, scope: str | None) -> str:
        if scope is None and lock_path is not None and self._prune_holds(lock_path):
            return f"a prune holds {lock_path}; runs never overlap a prune: wait for it to finish"
        rows = self._query(
            "SELECT id, pid, hostname, started_at, scope FROM runs WHERE status = 'running'"
            + (" AND scope = ?" if scope is not None else "")
            + " ORDER BY id DESC LIMIT 1",
            (scope,) if scope is not None else (),
        )
        holder: dict[str, Any] = dict(rows[0]) if rows else {}
        if not holder and lock_path is not None:
            # The holder has the lock but has not recorded its run yet (or is an older format).
            try:
                holder = json.loads(lock_path.read_text(encoding="utf-8") or "{}")
                holder["id"] = holder.get("run_id")
            except (OSError, ValueError):
                holder = {}
        if holder.get("pid"):
            return (
                f"another fleet run is in progress on this database (scope {holder.get('scope', scope)!r},"
                f" run {holder.get('id')}, "
                f"pid {holder['pid']} on {holder.get('hostname')}, started {holder.get('started_at')}); "
                "runs never overlap: wait for it to finish"
            )
        return f"another fleet run of scope {scope!r} holds its lock; runs of one scope never overlap: wait for it to finish"

    @staticmethod
    def _prune_holds(lock_path: Path) -> bool:
        """Whether the database-wide lock is held alone (a prune), not shared (runs)."""
        try:
            fd = open_lock_file(lock_path)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    def record_device(self, handle: RunHandle, device: DeviceReport, rows: DeviceRows | None = None) -> None:
        """Record one finished device, in its own transaction (committed on return).

        ``rows`` are its :func:`device_rows`, when already made (a fleet's judges make them).
        """
        if not handle.active:
            raise HistoryError(self._where, f"run {handle.run_id} is finished; cannot record {device.name!r}")
        if rows is None:
            rows = device_rows(device)
        try:
            with self._transaction(f"cannot record device {device.name!r}") as conn:
                # Its placeholder (not_started or interrupted) gives way; a device recorded for real
                # stays, and recording it again is the IntegrityError below.
                conn.execute(
                    f"DELETE FROM devices WHERE run_id = ? AND name = ? AND status IN ({', '.join('?' * len(_PLACEHOLDERS))})",
                    (handle.run_id, device.name, *_PLACEHOLDERS),
                )
                _insert_device(conn, handle.run_id, rows, utc_now())
        except HistoryError as exc:
            if isinstance(exc.__cause__, (sqlite3.IntegrityError, *history_pg.integrity_error_types())):
                raise HistoryError(
                    self._where, f"device {device.name!r} is already recorded in run {handle.run_id}"
                ) from exc
            raise

    def finish_run(self, handle: RunHandle, complete: bool) -> None:
        """Mark the run complete (or incomplete) and release the run lock. Calling it twice is harmless."""
        if not handle.active:
            return
        try:
            with self._transaction("cannot finish the run") as conn:
                conn.execute(
                    "UPDATE runs SET status = ?, finished_at = ? WHERE id = ? AND status = 'running'",
                    (str(RunStatus.COMPLETE if complete else RunStatus.INCOMPLETE), utc_now(), handle.run_id),
                )
        finally:
            handle._release()

    @contextmanager
    def run(self, inventory: str, host_count: int) -> Iterator[RunHandle]:
        """``with history.run(...) as handle:`` — complete on a normal exit, incomplete on any exception."""
        handle = self.start_run(inventory, host_count)
        try:
            yield handle
        except BaseException:
            self.finish_run(handle, complete=False)
            raise
        self.finish_run(handle, complete=True)

    # -- reading ------------------------------------------------------------------------------

    def list_runs(self, limit: int | None = None, *, scope: str | None = None) -> list[RunSummary]:
        """Runs (of ``scope`` only, when given), newest first, with their device and result counts."""
        sql, params = "SELECT * FROM runs", list[Any]()
        if scope is not None:
            sql += " WHERE scope = ?"
            params.append(scope)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return self._summaries(self._query(sql, params))

    def scopes(self, *, complete_only: bool = False) -> list[str]:
        """The scopes of the runs recorded (of the complete ones only, with ``complete_only``), sorted."""
        sql = "SELECT DISTINCT scope FROM runs" + (" WHERE status = 'complete'" if complete_only else "")
        return sorted(row[0] for row in self._query(sql))

    def scope_hint(self) -> str:
        scopes = self.scopes()
        if not scopes:
            return "no runs recorded yet"
        return "scopes here: " + ", ".join(repr(scope) for scope in scopes)

    def get_run(self, run_id: int) -> RunSummary:
        rows = self._query("SELECT * FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise HistoryError(self._where, f"no run {run_id}{self._known_runs_hint()}")
        return self._summaries(rows)[0]

    def _known_runs_hint(self) -> str:
        row = self._query("SELECT min(id) AS low, max(id) AS high, count(*) AS n FROM runs")[0]
        if not row["n"]:
            return " (no runs recorded yet)"
        return f" (runs here: {row['low']}..{row['high']}; `cmelive history` lists them)"

    def _summaries(self, run_rows: list[sqlite3.Row]) -> list[RunSummary]:
        if not run_rows:
            return []
        ids = [row["id"] for row in run_rows]
        marks = ",".join("?" * len(ids))
        device_counts: dict[int, dict[str, int]] = {run_id: {} for run_id in ids}
        for row in self._query(
            f"SELECT run_id, status, count(*) AS n FROM devices WHERE run_id IN ({marks}) GROUP BY run_id, status",
            ids,
        ):
            device_counts[row["run_id"]][row["status"]] = row["n"]
        failures: dict[int, dict[Severity, int]] = {run_id: _zero_counts() for run_id in ids}
        waived: dict[int, int] = dict.fromkeys(ids, 0)
        # Each device's counts were added up once, when its result set was stored: this reads one
        # row per device and status, not one per result.
        for row in self._query(
            "SELECT d.run_id, c.status, c.severity, sum(c.n) AS n FROM devices d"
            f" JOIN result_set_counts c ON c.set_id = d.result_set_id WHERE d.run_id IN ({marks})"
            " AND c.status IN ('fail', 'waived') GROUP BY d.run_id, c.status, c.severity",
            ids,
        ):
            if row["status"] == Status.WAIVED:
                waived[row["run_id"]] += row["n"]
            else:
                failures[row["run_id"]][Severity(row["severity"])] += row["n"]
        summaries = []
        for row in run_rows:
            counts = device_counts[row["id"]]
            done = {status: n for status, n in counts.items() if status not in _PLACEHOLDERS}
            summaries.append(
                RunSummary(
                    id=row["id"],
                    started_at=row["started_at"],
                    finished_at=row["finished_at"],
                    status=self._effective_status(row),
                    inventory=row["inventory"],
                    host_count=row["host_count"],
                    tool_version=row["tool_version"],
                    pid=row["pid"],
                    hostname=row["hostname"],
                    scope=row["scope"],
                    devices=sum(done.values()),
                    ok=counts.get(DeviceStatus.OK, 0),
                    partial=counts.get(DeviceStatus.PARTIAL, 0),
                    error=counts.get(DeviceStatus.ERROR, 0),
                    failures=failures[row["id"]],
                    waived=waived[row["id"]],
                    interrupted=counts.get(DeviceStatus.INTERRUPTED, 0),
                    not_started=counts.get(DeviceStatus.NOT_STARTED, 0),
                )
            )
        return summaries

    @staticmethod
    def _effective_status(row: sqlite3.Row) -> RunStatus:
        """A run that never finished is shown as ``aborted``: an ``incomplete`` row without a finish
        time (the next run marked it), or a ``running`` row whose process is gone from this machine.

        Only the next run writes that down (it holds the lock); readers never probe the lock,
        since a probe could make a starting run fail. A pid reused by another process only keeps
        the row shown as running, the safe side.
        """
        status = RunStatus(row["status"])
        if status == RunStatus.RUNNING and row["hostname"] == socket.gethostname() and not _pid_alive(row["pid"]):
            return RunStatus.ABORTED
        if status == RunStatus.INCOMPLETE and row["finished_at"] is None:
            return RunStatus.ABORTED
        return status

    def load_run(self, run_id: int) -> AuditReport:
        """Rebuild a run's report (command outputs are not kept: snapshots hold them)."""
        run = self.get_run(run_id)
        return AuditReport(devices=self._load_devices([run_id]), generated_at=run.finished_at or run.started_at)

    def latest_runs(self) -> list[RunSummary]:
        """The newest finished run of every scope (region), newest first."""
        return self._summaries(
            self._query(
                "SELECT * FROM runs WHERE id IN (SELECT max(id) FROM runs WHERE status <> 'running' GROUP BY scope)"
                " ORDER BY id DESC"
            )
        )

    def load_latest(self) -> LatestFleet:
        """The fleet across scopes: every device of each scope's newest finished run, oldest run first.

        Regions name their routers on their own: a name recorded in several scopes is qualified
        with its scope (``SCOPE/NAME``) on each of them, so no two devices of the fleet share a name.
        A name that only one scope has stays as it is.
        """
        runs = self.latest_runs()
        ids = [run.id for run in reversed(runs)]
        generated = max((run.finished_at or run.started_at for run in runs), default=utc_now())
        loaded = self._load_devices_of_runs(ids) if ids else []
        scope_of = {run.id: run.scope for run in runs}
        scopes_of_name: dict[str, set[str]] = {}
        for run_id, report in loaded:
            scopes_of_name.setdefault(report.name, set()).add(scope_of[run_id])
        shared = {name for name, scopes in scopes_of_name.items() if len(scopes) > 1}
        devices = [
            replace(report, name=f"{scope_of[run_id]}/{report.name}") if report.name in shared else report
            for run_id, report in loaded
        ]
        return LatestFleet(runs, AuditReport(devices=devices, generated_at=generated), sorted(shared))

    def _load_devices(self, run_ids: Sequence[int]) -> list[DeviceReport]:
        return [report for _, report in self._load_devices_of_runs(run_ids)]

    def _load_devices_of_runs(self, run_ids: Sequence[int]) -> list[tuple[int, DeviceReport]]:
        """The devices of ``run_ids``, each with its run's id: run by run, each run's in the order recorded."""
        marks = ", ".join("?" * len(run_ids))
        # Each distinct result and command list is read and built once, however many devices share it.
        built: dict[int, CheckResult] = {}
        results_by_set: dict[int, list[CheckResult]] = {}
        for row in self._query(
            "SELECT i.set_id, r.* FROM result_set_items i JOIN results r ON r.id = i.result_id"
            f" WHERE i.set_id IN (SELECT DISTINCT result_set_id FROM devices WHERE run_id IN ({marks}))"
            " ORDER BY i.set_id, i.position",
            run_ids,
        ):
            result = built.get(row["id"])
            if result is None:
                result = built[row["id"]] = CheckResult(
                    check=row["check_id"],
                    title=row["title"],
                    severity=Severity(row["severity"]),
                    family=row["family"],
                    status=Status(row["status"]),
                    reference=row["reference"],
                    message=row["message"],
                    evidence=tuple(Evidence(e["command"], e["line"], e["text"]) for e in json.loads(row["evidence"])),
                    remediation=tuple(json.loads(row["remediation"])),
                    waiver=json.loads(row["waiver"]) if row["waiver"] is not None else None,
                )
            results_by_set.setdefault(row["set_id"], []).append(result)
        command_lists: dict[int, list[dict[str, Any]]] = {
            row["id"]: json.loads(row["body"])
            for row in self._query(
                f"SELECT id, body FROM blobs WHERE id IN (SELECT DISTINCT commands_id FROM devices WHERE run_id IN ({marks}))",
                run_ids,
            )
        }
        order = {run_id: position for position, run_id in enumerate(run_ids)}
        rows = sorted(
            self._query(f"SELECT * FROM devices WHERE run_id IN ({marks}) ORDER BY rowid", run_ids),
            key=lambda row: order[row["run_id"]],  # stable: each run's devices keep their order
        )
        return [
            (row["run_id"], DeviceReport(
                name=row["name"],
                host=row["host"],
                hostname=row["hostname"],
                status=DeviceStatus(row["status"]),
                error=row["error"],
                facts=json.loads(row["facts"]),
                commands=[
                    CommandOutput(c["command"], CommandStatus(c["status"]), duration_s=duration, error=c["error"])
                    for c, duration in zip(
                        command_lists.get(row["commands_id"], []), json.loads(row["durations"]), strict=True
                    )
                ],
                # A list of its own per device: a reader may change one device's results.
                results=list(results_by_set.get(row["result_set_id"], [])),
            ))
            # rowid: the order the devices were recorded in (SQLite's; a column in PostgreSQL).
            for row in rows
        ]

    def diff(
        self,
        run_a: int | None = None,
        run_b: int | None = None,
        *,
        since: date | None = None,
        scope: str | None = None,
    ) -> RunDiff:
        """Compare two runs; by default the last two complete ones of one scope (a run that was
        stopped or died audited only part of its inventory: compared by default, its missing devices
        would read as changes). Give their ids to compare any two. ``since``: the last complete run
        started on or before that day (UTC) against the last complete run.

        Without run ids the runs compared are ``scope``'s; without ``scope`` too, the history's only
        scope. Two regions' runs are two inventories, never one's before and after: when the complete
        runs recorded belong to several scopes, a :class:`UsageError` names them.
        """
        if (run_a is None) != (run_b is None):
            raise UsageError("diff: give two run ids, or none to compare the last two runs")
        of_scope = f" of scope {scope!r}" if scope is not None else ""
        if run_a is not None and (since is not None or scope is not None):
            raise UsageError(f"diff: give two run ids or {'--since' if since is not None else '--scope'}, not both")
        if run_a is None:
            if scope is None:
                scopes = self.scopes(complete_only=True)
                if len(scopes) > 1:
                    raise UsageError(
                        f"diff: {self._where} holds complete runs of {len(scopes)} scopes "
                        f"({', '.join(repr(name) for name in scopes)}): give --scope NAME, or two run ids"
                    )
            elif scope not in self.scopes():
                raise HistoryError(self._where, f"no run of scope {scope!r} ({self.scope_hint()})")
        if since is not None:
            # started_at is UTC ISO 8601 (2026-12-04T14:06:30Z): every time of the day after sorts after
            # the day itself, so "on or before the day" is "before the next day".
            before = self._complete_runs(1, before=(since + timedelta(days=1)).isoformat(), scope=scope)
            if not before:
                raise HistoryError(
                    self._where, f"no complete run{of_scope} started on or before {since.isoformat()} (UTC)"
                )
            summary_a, summary_b = before[0], self._complete_runs(1, scope=scope)[0]
            if summary_a.id == summary_b.id:
                raise HistoryError(
                    self._where,
                    f"no complete run{of_scope} after run {summary_a.id}, the last one on or before {since.isoformat()}",
                )
        elif run_a is None or run_b is None:
            finished = self._complete_runs(2, scope=scope)
            if len(finished) < 2:
                raise HistoryError(
                    self._where,
                    f"need two complete runs{of_scope} to compare; this database has {len(finished)} "
                    "(give two run ids to compare incomplete ones)",
                )
            summary_a, summary_b = finished[1], finished[0]
        else:
            summary_a, summary_b = self.get_run(run_a), self.get_run(run_b)
        return diff_devices_of(summary_a, self.device_views(summary_a.id), summary_b, self.device_views(summary_b.id))

    def device_views(self, run_id: int) -> list[DeviceView]:
        """A run's devices as a diff reads them; each distinct result built once."""
        built: dict[int, CheckResult] = {}
        results_by_set: dict[int, list[CheckResult]] = {}
        severities = {str(severity): severity for severity in Severity}
        statuses = {str(status): status for status in Status}
        # A diff shows the title and message of failures only: the others' are not read. Plain
        # tuples and the enums looked up once: a run of 1,000 devices is ~50,000 rows.
        with self._mutex, self._errors("cannot read the history database"):
            rows = self._conn.execute(
                "SELECT i.set_id, r.id, r.check_id, r.severity, r.status,"
                " CASE WHEN r.status = 'fail' THEN r.title ELSE '' END,"
                " CASE WHEN r.status = 'fail' THEN r.message ELSE '' END"
                " FROM result_set_items i JOIN results r ON r.id = i.result_id"
                " WHERE i.set_id IN (SELECT DISTINCT result_set_id FROM devices WHERE run_id = ?)"
                " ORDER BY i.set_id, i.position",
                (run_id,),
            ).fetchall()
        for set_id, result_id, check_id, severity, status, title, message in rows:
            result = built.get(result_id)
            if result is None:
                result = built[result_id] = CheckResult(
                    check_id, title, severities[severity], "", statuses[status], "", message
                )
            results_by_set.setdefault(set_id, []).append(result)
        return [
            DeviceView(row["name"], DeviceStatus(row["status"]), results_by_set.get(row["result_set_id"], []))
            for row in self._query("SELECT name, status, result_set_id FROM devices WHERE run_id = ? ORDER BY rowid", (run_id,))
        ]

    def _complete_runs(self, limit: int, before: str | None = None, scope: str | None = None) -> list[RunSummary]:
        """The newest ``limit`` complete runs (of ``scope``; started before ``before``, an ISO time),
        newest first: only those are summarised, however many runs the database keeps."""
        sql, params = "SELECT * FROM runs WHERE status = 'complete'", []
        if scope is not None:
            sql += " AND scope = ?"
            params.append(scope)
        if before is not None:
            sql += " AND started_at < ?"
            params.append(before)
        return self._summaries(self._query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit]))

    def trend(self, limit: int = 30, *, scope: str | None = None) -> list[TrendPoint]:
        """Failures by severity over the last ``limit`` runs (of ``scope``), oldest first (running runs
        included). A regional run's own report shows its scope's: another region's runs in it would
        read as its failures jumping up and down."""
        return [
            TrendPoint(run.id, run.started_at, dict(run.failures)) for run in reversed(self.list_runs(limit, scope=scope))
        ]

    def fleet_trend(self, limit: int = 30) -> list[TrendPoint]:
        """The whole fleet's failures by severity after each of the last ``limit`` complete runs,
        oldest first: at each point, every scope counted by its latest complete run so far (a run
        of one region changes its share only). Stopped and aborted runs are left out: the devices
        they never reached would read as failures gone."""
        window = list(reversed(self._query(
            "SELECT id, scope FROM runs WHERE status = 'complete' ORDER BY id DESC LIMIT ?", (limit,)
        )))
        if not window:
            return []
        # Each scope's state when the window opens: its latest complete run before it.
        seed_ids = [
            row[0] for row in self._query(
                "SELECT max(id) FROM runs WHERE status = 'complete' AND id < ? GROUP BY scope", (window[0]["id"],)
            )
        ]
        summaries = {run.id: run for run in self._summaries(self._query_ids([*seed_ids, *(row["id"] for row in window)]))}
        state: dict[str, dict[Severity, int]] = {summaries[run_id].scope: summaries[run_id].failures for run_id in seed_ids}
        points = []
        for row in window:
            run = summaries[row["id"]]
            state[run.scope] = run.failures
            fleet = {severity: sum(failures[severity] for failures in state.values()) for severity in REPORTED_SEVERITIES}
            points.append(TrendPoint(run.id, run.started_at, fleet))
        return points

    def _query_ids(self, ids: Sequence[int]) -> list[sqlite3.Row]:
        """The ``runs`` rows of ``ids``, in chunks."""
        rows: list[sqlite3.Row] = []
        for chunk in _chunks(ids):
            rows += self._query(f"SELECT * FROM runs WHERE id IN ({', '.join('?' * len(chunk))})", chunk)
        return rows


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
