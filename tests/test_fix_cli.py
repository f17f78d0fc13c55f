"""`cmelive fix` through the CLI: a snapshot, a live fake router over SSH, a fleet run directory."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmelive.examples import example_dir
from cmelive.fake.server import FakeRouter
from cmelive.snapshot import read_snapshot

from .livefake import ENABLE_SECRET, PASSWORD, cli, credentials_env, write_known_hosts

READ_ONLY = re.compile(r"^(show \S.*|terminal \S.*|enable|exit)$")


def test_fix_a_snapshot_prints_the_plan_and_its_rollback() -> None:
    done = cli("fix", str(example_dir("insecure-cme")), "--from", "192.0.2.7")
    assert done.returncode == 0, done.stderr
    plan, _, rollback = done.stdout.partition("! ===== rollback =====")
    assert plan.startswith("! cmelive fix plan for 192.168.10.1\n")
    assert "access-list 10 permit host 192.0.2.7\n" in plan
    assert "! NEEDS FROM YOU before pasting" in plan
    assert "! cmelive rollback for the fix plan of 192.168.10.1" in rollback
    assert "Ex4mple" not in done.stdout  # masked as everywhere


def test_verify_shows_the_before_after_table(tmp_path: Path) -> None:
    out = tmp_path / "plans" / "branch7.txt"
    (tmp_path / "plans").mkdir()
    done = cli("fix", str(example_dir("insecure-cme")), "--verify", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert re.search(r"^CME-ACC-04 +fail +pass +fixed$", done.stdout, re.MULTILINE), done.stdout
    assert re.search(r"^CME-REG-04 +fail +fail +manual$", done.stdout, re.MULTILINE)
    assert "the plan holds" in done.stdout
    rollback = tmp_path / "plans" / "branch7.rollback.txt"
    for written in (out, rollback):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert out.read_text().startswith("! cmelive fix plan")
    assert rollback.read_text().startswith("! cmelive rollback")


def test_a_plan_with_nothing_to_fix() -> None:
    done = cli("fix", str(example_dir("secure-cme")), "--verify")
    assert done.returncode == 0, done.stderr
    assert "! nothing to fix" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "not-an-address"), "--from: 'not-an-address' is not an IPv4 address"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    done = cli("fix", str(example_dir("insecure-cme")), *args)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"cmelive: error: {message}"]


def test_a_directory_that_is_no_snapshot_exits_2(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("nothing\n")
    done = cli("fix", str(tmp_path))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.fixture
def insecure_router() -> Iterator[FakeRouter]:
    snapshot = read_snapshot(example_dir("insecure-cme"))
    with FakeRouter(snapshot, username="admin", password=PASSWORD, enable_secret=ENABLE_SECRET) as router:
        yield router


def test_fix_a_live_router_permits_the_audits_own_address(insecure_router: FakeRouter, tmp_path: Path) -> None:
    known_hosts = write_known_hosts(tmp_path / "known_hosts", insecure_router.known_hosts_line())
    done = cli(
        "fix", insecure_router.host, "--port", str(insecure_router.port), "-u", "admin",
        "--known-hosts", str(known_hosts), "--verify", env=credentials_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The admin ACL permits where the audit came from (loopback here), before any vty line uses it.
    assert "access-list 10 permit host 127.0.0.1\n" in done.stdout
    assert "! 127.0.0.1: the address this audit connected from" in done.stdout
    assert "the plan holds" in done.stderr
    # Planning sends nothing but the audit's own show commands.
    assert insecure_router.command_log
    assert all(READ_ONLY.match(command) for command in insecure_router.command_log), insecure_router.command_log


def test_fix_an_unreachable_router_exits_3(tmp_path: Path) -> None:
    from .livefake import closed_port

    done = cli("fix", "127.0.0.1", "--port", str(closed_port()), "-u", "admin", "--timeout", "2",
               env=credentials_env())  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("demo")
    env = {"HOME": str(base / "home"), "XDG_STATE_HOME": str(base / "state")}
    done = cli("demo", "--fleet", "--out", str(base / "out"), env=env)
    assert done.returncode in (0, 1, 3), done.stderr
    return base / "out" / "run"


def test_fix_a_fleet_run_directory(demo_run: Path) -> None:
    done = cli("fix", str(demo_run))
    # Some demo routers could not be audited (down, refusing): no plan for them, exit 3.
    assert done.returncode == 3, done.stderr
    fixes = demo_run / "fixes"
    plans = sorted(p.name for p in fixes.glob("*.txt") if not p.name.endswith(".rollback.txt"))
    assert "branch-03-legacy.txt" in plans and "branch-01-secure.txt" in plans
    assert not (fixes / "branch-10-powered-off.txt").exists()
    assert re.search(r"^branch-10-powered-off +none: not audited", done.stdout, re.MULTILINE)
    for path in fixes.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for name in plans:
        assert (fixes / name.replace(".txt", ".rollback.txt")).is_file()
    page = (demo_run / "report.html").read_text()
    assert page.count('<p class="fix-plan">') == len(plans)
    assert '<a href="fixes/branch-03-legacy.txt">Fix plan</a>' in page
    # Again: the links are replaced, not repeated.
    again = cli("fix", str(demo_run), "--verify")
    assert again.returncode == 3
    assert (demo_run / "report.html").read_text().count('<p class="fix-plan">') == len(plans)
    assert "== branch-03-legacy" in again.stdout


def test_a_fleet_run_directory_takes_no_output(demo_run: Path, tmp_path: Path) -> None:
    done = cli("fix", str(demo_run), "-o", str(tmp_path / "x.txt"))
    assert done.returncode == 2
    assert "fixes/<device>.txt" in done.stderr


def test_fix_plans_leak_no_secret_and_no_raw_control(tmp_path: Path) -> None:
    from .test_secrets_never_leak import assert_clean, planted_router

    router = planted_router(tmp_path / "router")
    out = tmp_path / "plans" / "planted.txt"
    out.parent.mkdir()
    to_file = cli("fix", str(router), "--verify", "-o", str(out), "-vv")
    to_stdout = cli("fix", str(router), "--verify", "-vv")
    for proc in (to_file, to_stdout):
        assert proc.returncode in (0, 1), proc.stderr
        assert_clean("stdout", proc.stdout.encode())
        assert_clean("stderr/log", proc.stderr.encode())
    assert "! cmelive fix plan" in to_stdout.stdout
    for written in (out, out.with_name("planted.rollback.txt")):
        assert_clean(str(written), written.read_bytes())
