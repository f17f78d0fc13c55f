"""A throwaway PostgreSQL cluster for the history tests: initdb in a temp dir, 127.0.0.1 only, a free port.

The Debian server package (``postgresql``; .ci/run installs it) is found under /usr/lib/postgresql.
initdb refuses root: as root the cluster belongs to the ``postgres`` user (runuser). Connections
need a password (scram-sha-256), given through ``PGPASSWORD``, never in a URL.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

USER = "cmelive"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self, port: int, password: str) -> None:
        self.port = port
        self.password = password
        self._made = 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database's URL (no password in it: PGPASSWORD carries it)."""
        import psycopg

        self._made += 1
        name = f"history_{os.getpid()}_{self._made}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        message = "PostgreSQL server is missing (Debian package 'postgresql'; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    if os.environ.get("CI") != "true":
        pytest.importorskip("psycopg")
    # Not under pytest's tmp dir: as root, that is 0700 and the postgres user could not reach it.
    base = Path(tempfile.mkdtemp(prefix="cmelive-pg-"))
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir(parents=True)
    password = secrets.token_hex(12)
    pwfile = base / "pwfile"
    pwfile.write_text(password + "\n", encoding="utf-8")
    if as_root:
        shutil.chown(base, "postgres")
        for path in (sockets, pwfile):
            shutil.chown(path, "postgres")
    subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={pwfile}",
         "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--no-sync"],
        check=True, capture_output=True,
    )
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c max_connections=60"
    subprocess.run(
        [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"],
        check=True, capture_output=True,
    )
    previous = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = password
    try:
        yield Cluster(port, password)
    finally:
        if previous is None:
            os.environ.pop("PGPASSWORD", None)
        else:
            os.environ["PGPASSWORD"] = previous
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], check=False, capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)
