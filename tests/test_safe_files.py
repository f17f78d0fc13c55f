"""Files are written safely: never through a symlink, never into a file someone else made, private.

Each attack of issue 11 is reproduced against the real command: a symlink planted in a ``collect
-o`` directory (its target must stay untouched), a ``cmelive.log`` symlink planted in ``fleet
--out``, a pre-existing 0666 file receiving ``--no-mask`` secrets; then the mode of every file and
directory cmelive writes (reports, log, history database and its lock, snapshots) is asserted,
under a umask of 0 so that the modes are cmelive's own. The routers are fake, on 127.0.0.1.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

import paramiko
import pytest

from cmelive.audit import audit_snapshot
from cmelive.errors import InputError, UsageError
from cmelive.examples import example_dir
from cmelive.fake.server import FakeRouter
from cmelive.history import History
from cmelive.logs import PrivateLogFile
from cmelive.output_files import (
    DIR_MODE,
    FILE_MODE,
    OutputDir,
    create_private_file,
    make_dirs,
    open_log,
    own_dir,
    write_file,
)
from cmelive.snapshot import META_FILE, check_snapshot_dir, read_snapshot, write_snapshot

from .fleet_files import Fleet, fake_fleet, modes, one_line, run_cli, run_fleet_cli
from .livefake import ENABLE_SECRET, PASSWORD, closed_port, credentials_env

__all__ = ["fake_fleet"]  # a fixture, used by name

NOBODY = 65534
VICTIM_TEXT = "the victim's own file\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file an attacker points a symlink at: it must come out as it went in."""
    path = tmp_path / "elsewhere" / "victim.txt"
    path.parent.mkdir()
    path.write_text(VICTIM_TEXT, encoding="utf-8")
    return path


@pytest.fixture
def umask_zero() -> Iterator[None]:
    previous = os.umask(0)
    yield
    os.umask(previous)


def needs_root_to_chown() -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")


# --------------------------------------------------------------------------------------------------
# The writer itself


def test_a_symlink_at_the_name_is_replaced_and_its_target_untouched(tmp_path: Path, victim: Path) -> None:
    path = tmp_path / "report.json"
    path.symlink_to(victim)
    write_file(path, "{}\n", doing="cannot write report")
    assert not path.is_symlink() and path.read_text() == "{}\n"
    assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE
    assert victim.read_text(encoding="utf-8") == VICTIM_TEXT


def test_a_preexisting_0666_file_keeps_neither_its_mode_nor_its_inode(tmp_path: Path, umask_zero: None) -> None:
    path = tmp_path / "report.json"
    path.write_text("old\n")
    path.chmod(0o666)
    other_view = tmp_path / "what-another-user-holds"
    os.link(path, other_view)  # the old inode, as someone who opened (or linked) it earlier sees it
    write_file(path, "secret\n", doing="cannot write report")
    assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE and path.read_text() == "secret\n"
    assert other_view.read_text() == "old\n"  # the secret never went into the 0666 inode


def test_modes_are_exact_whatever_the_umask(tmp_path: Path, umask_zero: None) -> None:
    existing = tmp_path / "existing"
    existing.mkdir(mode=0o755)
    created = make_dirs(existing / "a" / "b")
    assert created == [existing / "a", existing / "a" / "b"]
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in [existing, *created]} == {
        "existing": 0o755, "a": DIR_MODE, "b": DIR_MODE,  # an existing parent is left as it was
    }
    write_file(existing / "a" / "b" / "f", b"x", doing="cannot write")
    assert stat.S_IMODE((existing / "a" / "b" / "f").stat().st_mode) == FILE_MODE
    assert create_private_file(tmp_path / "db") is True and create_private_file(tmp_path / "db") is False
    assert stat.S_IMODE((tmp_path / "db").stat().st_mode) == FILE_MODE


def test_a_file_is_never_created_through_a_dangling_symlink(tmp_path: Path) -> None:
    (tmp_path / "db").symlink_to(tmp_path / "would-be-created")
    with pytest.raises(OSError) as raised:
        create_private_file(tmp_path / "db")
    assert raised.value.errno == errno.ELOOP
    assert not (tmp_path / "would-be-created").exists()


def test_the_log_is_never_opened_through_a_symlink_a_fifo_or_a_second_link(tmp_path: Path, victim: Path) -> None:
    (tmp_path / "link.log").symlink_to(victim)
    with pytest.raises(OSError) as raised:
        open_log(tmp_path / "link.log")
    assert raised.value.errno == errno.ELOOP
    os.mkfifo(tmp_path / "fifo.log")
    with pytest.raises(OSError):
        open_log(tmp_path / "fifo.log")  # refused at once: no reader, and it would not block
    (tmp_path / "mine.log").write_text("")
    os.link(tmp_path / "mine.log", tmp_path / "second-link")
    with pytest.raises(OSError):
        open_log(tmp_path / "mine.log")
    assert victim.read_text(encoding="utf-8") == VICTIM_TEXT


def test_the_log_handler_appends_whole_lines_0600(tmp_path: Path, umask_zero: None) -> None:
    import logging

    handler = PrivateLogFile(tmp_path / "cmelive.log")
    handler.setFormatter(logging.Formatter("%(message)s"))
    for message in ("one", "two"):
        handler.handle(logging.LogRecord("t", logging.INFO, __file__, 1, message, None, None))
    handler.close()
    assert (tmp_path / "cmelive.log").read_text() == "one\ntwo\n"
    assert stat.S_IMODE((tmp_path / "cmelive.log").stat().st_mode) == FILE_MODE and handler.failure is None


def test_a_directory_is_ours_only_when_real_and_owned(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(InputError, match="is a symbolic link"):
        own_dir(tmp_path / "link", what="snapshot directory")
    needs_root_to_chown()
    os.chown(real, NOBODY, NOBODY)
    with pytest.raises(InputError, match="owned by another user"):
        own_dir(real, what="snapshot directory")


def test_write_all_renames_nothing_until_every_file_is_written(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("previous\n")

    class Boom(Exception):
        pass

    class HalfWay(Mapping[str, bytes]):
        """The second file fails, as a full disk would, once the first is written."""

        def __iter__(self) -> Iterator[str]:
            return iter(["keep.txt", "second.txt"])

        def __len__(self) -> int:
            return 2

        def __getitem__(self, name: str) -> bytes:
            if name == "second.txt":
                raise Boom
            return b"new\n"

    with OutputDir.open(tmp_path) as directory, pytest.raises(Boom):
        directory.write_all(HalfWay())
    assert sorted(os.listdir(tmp_path)) == ["keep.txt"] and (tmp_path / "keep.txt").read_text() == "previous\n"


# --------------------------------------------------------------------------------------------------
# Snapshots: collect -o DIR


def test_a_symlink_in_a_snapshot_directory_is_refused_and_its_target_untouched(tmp_path: Path, victim: Path) -> None:
    snap = tmp_path / "snap"
    write_snapshot(read_snapshot(example_dir("secure-cme")), snap)
    (snap / "show_running-config.txt").unlink()
    (snap / "show_running-config.txt").symlink_to(victim)  # planted where the next collect writes
    with pytest.raises(UsageError, match=r"show_running-config.txt \(a symbolic link\)"):
        write_snapshot(read_snapshot(example_dir("insecure-cme")), snap, mask=False)
    assert victim.read_text(encoding="utf-8") == VICTIM_TEXT
    assert (snap / "show_running-config.txt").is_symlink()  # left as found: the directory was refused


@pytest.mark.parametrize(
    "plant",
    ["foreign-name", "subdirectory", "captures-without-meta", "another-users-file"],
)
def test_a_snapshot_directory_holding_foreign_files_is_refused(tmp_path: Path, plant: str) -> None:
    snap = tmp_path / "snap"
    snap.mkdir()
    if plant == "foreign-name":
        (snap / META_FILE).write_text("{}")
        (snap / "notes.md").write_text("mine")
    elif plant == "subdirectory":
        (snap / META_FILE).write_text("{}")
        (snap / "old").mkdir()
    elif plant == "captures-without-meta":
        (snap / "show_running-config.txt").write_text("hostname hand-made\n")
    else:
        needs_root_to_chown()
        (snap / META_FILE).write_text("{}")
        (snap / "show_version.txt").write_text("x")
        os.chown(snap / "show_version.txt", NOBODY, NOBODY)
    before = {p.name: p.lstat() for p in snap.iterdir()}
    with pytest.raises(UsageError, match="holds files cmelive did not write"):
        check_snapshot_dir(snap)
    with pytest.raises(UsageError, match="holds files cmelive did not write"):
        write_snapshot(read_snapshot(example_dir("secure-cme")), snap)
    assert {p.name: p.lstat() for p in snap.iterdir()} == before


def test_a_new_snapshot_replaces_cmelives_previous_one_whole(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    first = read_snapshot(example_dir("secure-cme"))
    first.outputs["show extra"] = first.outputs["show version"].__class__("show extra", first.outputs["show version"].status, "x\n")
    write_snapshot(first, snap)
    assert (snap / "show_extra.txt").exists()
    write_snapshot(read_snapshot(example_dir("plain-ios")), snap)
    assert not (snap / "show_extra.txt").exists()  # no stale output replayed as this snapshot's
    assert read_snapshot(snap).hostname == read_snapshot(example_dir("plain-ios")).hostname


@pytest.fixture(scope="module")
def router() -> Iterator[FakeRouter]:
    with FakeRouter(
        read_snapshot(example_dir("insecure-cme")), username="admin", password=PASSWORD,
        enable_secret=ENABLE_SECRET, host_key=paramiko.RSAKey.generate(1024),
    ) as started:
        yield started


def collect(router: FakeRouter, known_hosts: Path, out: Path, *extra: str, umask: int | None = None) -> tuple[int, str]:
    done = run_cli(
        "collect", "127.0.0.1", "--port", str(router.port), "-u", "admin", "--known-hosts", str(known_hosts),
        "--timeout", "10", "-o", str(out), *extra, env=credentials_env(), umask=umask,
    )
    return done.returncode, done.stderr


def test_collect_refuses_a_planted_symlink_before_asking_the_router(tmp_path: Path, victim: Path) -> None:
    snap = tmp_path / "snap"
    write_snapshot(read_snapshot(example_dir("secure-cme")), snap)
    (snap / "show_running-config.txt").unlink()
    (snap / "show_running-config.txt").symlink_to(victim)
    # A closed port: had the command connected first, it would exit 3 (connection refused).
    done = run_cli(
        "collect", "127.0.0.1", "--port", str(closed_port()), "-u", "admin", "-o", str(snap), "--no-mask",
        env=credentials_env(),
    )
    assert done.returncode == 2
    assert "show_running-config.txt (a symbolic link)" in one_line(done.stderr)
    assert victim.read_text(encoding="utf-8") == VICTIM_TEXT


def test_collect_refuses_a_symlinked_directory(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "snap").symlink_to(tmp_path / "real")
    done = run_cli("collect", "127.0.0.1", "--port", str(closed_port()), "-o", str(tmp_path / "snap"), env=credentials_env())
    assert done.returncode == 2 and "is a symbolic link" in one_line(done.stderr)
    assert os.listdir(tmp_path / "real") == []


def test_no_mask_secrets_never_reach_a_preexisting_0666_file(router: FakeRouter, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(router.known_hosts_line() + "\n")
    snap = tmp_path / "snap"
    code, stderr = collect(router, known, snap)
    assert code == 0, stderr
    config = snap / "show_running-config.txt"
    config.chmod(0o666)  # a world-readable file where --no-mask is about to write secrets
    with open(config, encoding="utf-8") as opened_by_someone_else:  # a reader of the 0666 file
        code, stderr = collect(router, known, snap, "--no-mask", umask=0)
        assert code == 0, stderr
        clear = read_snapshot(example_dir("insecure-cme")).get("show running-config").text
        assert config.read_text() == clear  # the secrets, in clear, in a new private file
        assert stat.S_IMODE(config.stat().st_mode) == FILE_MODE
        secret = "Ex4mple-Telnet-7"  # the example's vty password
        assert secret in clear and secret not in opened_by_someone_else.read()  # the 0666 inode: still masked
    assert set(modes(snap).values()) == {DIR_MODE, FILE_MODE}
    # A second link to a file of the snapshot (another name for the same inode) is not ours to write.
    os.link(config, tmp_path / "second-name")
    code, stderr = collect(router, known, snap, "--no-mask")
    assert code == 2 and "show_running-config.txt" in one_line(stderr)


# --------------------------------------------------------------------------------------------------
# fleet --out


INVENTORY = """\
hosts:
  r1: {address: 127.0.0.1, port: %d, password_env: FILES_TEST_PASSWORD, enable_secret_env: FILES_TEST_ENABLE}
"""


@pytest.fixture
def closed_inventory(tmp_path: Path) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY % closed_port(), encoding="utf-8")
    return path


def fleet_refused(inventory: Path, out: Path, tmp_path: Path) -> str:
    done = run_cli(
        "fleet", str(inventory), "--out", str(out), "--db", str(tmp_path / "h.sqlite"), "--retries", "0",
        env={"FILES_TEST_PASSWORD": "x", "FILES_TEST_ENABLE": "y"},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    return one_line(done.stderr)


def test_a_planted_log_symlink_in_the_run_directory_is_refused(
    closed_inventory: Path, tmp_path: Path, victim: Path
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "cmelive.log").symlink_to(victim)
    line = fleet_refused(closed_inventory, out, tmp_path)
    assert "cmelive.log (a symbolic link)" in line and "not empty" in line
    assert victim.read_text(encoding="utf-8") == VICTIM_TEXT


def test_a_planted_log_hard_link_or_another_users_log_is_refused(closed_inventory: Path, tmp_path: Path, victim: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    os.link(victim, out / "cmelive.log")  # same inode as a file of ours elsewhere
    assert "cmelive.log" in fleet_refused(closed_inventory, out, tmp_path)
    assert victim.read_text(encoding="utf-8") == VICTIM_TEXT
    needs_root_to_chown()
    (out / "cmelive.log").unlink()
    (out / "cmelive.log").write_text("")
    os.chown(out / "cmelive.log", NOBODY, NOBODY)
    assert "cmelive.log (another user's)" in fleet_refused(closed_inventory, out, tmp_path)


def test_a_symlinked_or_foreign_run_directory_is_refused(closed_inventory: Path, tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "run").symlink_to(tmp_path / "real")
    assert "is a symbolic link" in fleet_refused(closed_inventory, tmp_path / "run", tmp_path)
    assert os.listdir(tmp_path / "real") == []
    needs_root_to_chown()
    os.chown(tmp_path / "real", NOBODY, NOBODY)
    assert "owned by another user" in fleet_refused(closed_inventory, tmp_path / "real", tmp_path)


def test_an_empty_run_directory_of_ours_is_taken_and_made_private(closed_inventory: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    done = run_cli(
        "fleet", str(closed_inventory), "--out", str(out), "--no-history", "--retries", "0", "--timeout", "2",
        env={"FILES_TEST_PASSWORD": "x", "FILES_TEST_ENABLE": "y"},
    )
    assert done.returncode == 3, done.stderr  # the one router is down
    assert stat.S_IMODE(out.stat().st_mode) == DIR_MODE


# --------------------------------------------------------------------------------------------------
# Every file cmelive writes: 0600, every directory it creates: 0700


def test_every_file_of_a_fleet_run_is_private(fake_fleet: Fleet, tmp_path: Path) -> None:
    out = tmp_path / "runs" / "first"
    db = tmp_path / "state" / "cmelive" / "history.sqlite"
    done = run_fleet_cli(fake_fleet, out, db, umask=0)
    assert done.returncode == 1, done.stdout + done.stderr  # findings; every router audited
    found = modes(out)
    assert {name for name in found if name.startswith("report.")} == {
        "report.json", "report.csv", "report.sarif", "report.junit.xml", "report.html"
    }
    assert len([name for name in found if name.startswith("snapshots/") and name.endswith(META_FILE)]) == 4
    assert "cmelive.log" in found
    assert {name: mode for name, mode in found.items() if mode != (DIR_MODE if (out / name).is_dir() else FILE_MODE)} == {}
    assert stat.S_IMODE((tmp_path / "runs").stat().st_mode) == DIR_MODE  # created for --out: 0700 too
    # The run lock: the database's (shared by runs) and its scope's (history.sqlite.lock.<scope hash>).
    assert {re.sub(r"\.lock\.[0-9a-f]{16}$", ".lock.SCOPE", name): mode for name, mode in modes(tmp_path / "state").items()} == {
        ".": DIR_MODE, "cmelive": DIR_MODE, "cmelive/history.sqlite": FILE_MODE, "cmelive/history.sqlite.lock": FILE_MODE,
        "cmelive/history.sqlite.lock.SCOPE": FILE_MODE,
    }


def test_group_readable_widens_the_finished_run_directory_only(fake_fleet: Fleet, tmp_path: Path) -> None:
    out = tmp_path / "run"
    db = tmp_path / "history.sqlite"
    done = run_fleet_cli(fake_fleet, out, db, "--group-readable", umask=0o077)
    assert done.returncode == 1, done.stdout + done.stderr
    found = modes(out)
    assert {name: mode for name, mode in found.items() if mode != (0o750 if (out / name).is_dir() else 0o640)} == {}
    assert stat.S_IMODE(db.stat().st_mode) == FILE_MODE  # the history is the user's own


def test_the_history_database_and_its_wal_and_shm_are_private(tmp_path: Path, umask_zero: None) -> None:
    db = tmp_path / "new" / "history.sqlite"
    with History(db) as history:
        handle = history.start_run("inventory", 1)
        history.record_device(handle, audit_snapshot(read_snapshot(example_dir("secure-cme")), name="r1"))
        # SQLite keeps -wal and -shm while a connection is open: they get the database's mode.
        assert {re.sub(r"\.lock\.[0-9a-f]{16}$", ".lock.SCOPE", p.name): stat.S_IMODE(p.stat().st_mode)
                for p in db.parent.iterdir()} == {
            "history.sqlite": FILE_MODE, "history.sqlite-wal": FILE_MODE, "history.sqlite-shm": FILE_MODE,
            "history.sqlite.lock": FILE_MODE, "history.sqlite.lock.SCOPE": FILE_MODE,
        }
        history.finish_run(handle, complete=True)
    assert stat.S_IMODE(db.parent.stat().st_mode) == DIR_MODE


def test_single_reports_and_saved_snapshots_are_private(tmp_path: Path, victim: Path) -> None:
    out = tmp_path / "report.json"
    out.symlink_to(victim)  # planted: replaced, never followed
    done = run_cli("replay", str(example_dir("secure-cme")), "--format", "json", "-o", str(out), umask=0)
    assert done.returncode in (0, 1), done.stderr
    assert not out.is_symlink() and json.loads(out.read_text())["devices"]
    assert stat.S_IMODE(out.stat().st_mode) == FILE_MODE
    assert victim.read_text(encoding="utf-8") == VICTIM_TEXT


def test_audit_saves_its_snapshot_and_report_privately(router: FakeRouter, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(router.known_hosts_line() + "\n")
    done = run_cli(
        "audit", "127.0.0.1", "--port", str(router.port), "-u", "admin", "--known-hosts", str(known), "--timeout", "10",
        "--save-snapshot", str(tmp_path / "saved" / "snap"), "--format", "json", "-o", str(tmp_path / "out.json"),
        env=credentials_env(), umask=0,
    )
    assert done.returncode in (0, 1), done.stderr
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == FILE_MODE
    assert set(modes(tmp_path / "saved").values()) == {DIR_MODE, FILE_MODE}


def test_a_collect_snapshot_is_private_whatever_the_umask(router: FakeRouter, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(router.known_hosts_line() + "\n")
    code, stderr = collect(router, known, tmp_path / "deep" / "snap", umask=0)
    assert code == 0, stderr
    assert set(modes(tmp_path / "deep").values()) == {DIR_MODE, FILE_MODE}
    assert len(os.listdir(tmp_path / "deep" / "snap")) > 5

