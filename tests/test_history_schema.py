"""A new history database is made at the current schema at once; it equals one migrated from schema 1.

Both backends: the same columns (order, types, nullability, defaults), keys, foreign keys, checks and
indexes. A migration appended without changing ``history._SCHEMA`` (or the reverse) fails here.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cmelive import history
from cmelive.checks.base import Status
from cmelive.history import SCHEMA_VERSION, History

from .postgres_cluster import Cluster, postgres_cluster
from .test_history import device, record_run, result


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with postgres_cluster() as started:
        yield started


def _sql_shape(sql: str) -> str:
    """A CREATE statement without its comments and whitespace: ALTER TABLE ADD COLUMN's text
    (``\\n , scope ...``) and a CREATE TABLE that lists the column read the same."""
    return re.sub(r"\s+", "", re.sub(r"--[^\n]*", "", sql))


def sqlite_schema(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        shape: dict[str, Any] = {"user_version": conn.execute("PRAGMA user_version").fetchone()[0]}
        for kind, name, table, sql in conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"):
            entry: dict[str, Any] = {"type": kind, "table": table, "sql": _sql_shape(sql or "")}
            if kind == "table":
                entry["columns"] = conn.execute(f"PRAGMA table_xinfo({name})").fetchall()
                entry["foreign_keys"] = conn.execute(f"PRAGMA foreign_key_list({name})").fetchall()
            else:
                entry["columns"] = conn.execute(f"PRAGMA index_xinfo({name})").fetchall()
            shape[name] = entry
        return shape
    finally:
        conn.close()


def schema_1_sqlite(path: Path) -> None:
    """An empty database as the first cmelive with a history made it."""
    conn = sqlite3.connect(path)
    for step in history._MIGRATIONS[0]:
        assert isinstance(step, str)
        conn.execute(step)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def test_a_new_sqlite_database_equals_a_migrated_one(tmp_path: Path) -> None:
    old, new = tmp_path / "old.sqlite", tmp_path / "new.sqlite"
    schema_1_sqlite(old)
    History(old).close()  # 1 -> 2 -> 3
    History(new).close()  # made at 3
    migrated, fresh = sqlite_schema(old), sqlite_schema(new)
    assert fresh["user_version"] == SCHEMA_VERSION
    assert fresh == migrated
    # Made directly, a new file has no pages freed by schema 1's dropped tables: one page for
    # sqlite_master and one for each of the 16 tables and indexes.
    conn = sqlite3.connect(new)
    assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert conn.execute("PRAGMA page_count").fetchone()[0] == 17
    conn.close()
    # Both work the same: a run recorded in each reads back the same.
    for path in (old, new):
        with History(path) as store:
            record_run(store, device("r1", result("CME-ACC-01", Status.FAIL)))
    with History(old) as a, History(new) as b:
        # Their devices: the runs were recorded a moment apart, so their times may differ.
        assert [d.to_dict() for d in a.load_run(1).devices] == [d.to_dict() for d in b.load_run(1).devices]


def postgresql_schema(url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, ordinal_position, column_name, data_type, is_nullable, column_default, is_identity,"
            " identity_generation FROM information_schema.columns WHERE table_schema = current_schema()"
            " ORDER BY table_name, ordinal_position"
        ).fetchall()
        # Definitions, not names: a table renamed by migration 2 kept its constraints' names, so the
        # new table of that name got others (results_pkey1). Names are no part of how the schema works.
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, contype, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2, 3"
        ).fetchall()
        indexes = conn.execute(
            "SELECT tablename, regexp_replace(indexdef, '^CREATE (UNIQUE )?INDEX \\S+ ON ', 'CREATE \\1INDEX ON ')"
            " FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1, 2"
        ).fetchall()
        version = conn.execute("SELECT version FROM cmelive_schema").fetchall()
    return {"columns": columns, "constraints": constraints, "indexes": indexes, "version": version}


def test_a_new_postgresql_database_equals_a_migrated_one(cluster: Cluster) -> None:
    import psycopg

    from cmelive import history_pg

    old, new = cluster.new_database(), cluster.new_database()
    with psycopg.connect(old, autocommit=True) as conn:
        for step in history._MIGRATIONS[0]:
            assert isinstance(step, str)
            conn.execute(history_pg.ddl(step))  # type: ignore[arg-type]  # DDL made here, no parameters
        conn.execute("CREATE TABLE cmelive_schema (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO cmelive_schema (version) VALUES (1)")
    History(old).close()
    History(new).close()
    migrated, fresh = postgresql_schema(old), postgresql_schema(new)
    assert fresh["version"] == [(SCHEMA_VERSION,)]
    assert fresh == migrated
    assert any(row[2] == "scope" for row in fresh["columns"])
    for url in (old, new):
        with History(url) as store:
            record_run(store, device("r1", result("CME-ACC-01", Status.FAIL)))
    with History(old) as a, History(new) as b:
        # Their devices: the runs were recorded a moment apart, so their times may differ.
        assert [d.to_dict() for d in a.load_run(1).devices] == [d.to_dict() for d in b.load_run(1).devices]
