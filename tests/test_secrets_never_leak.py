"""Plant secrets of every kind in a router; prove none comes out in reports, logs or snapshots."""

from __future__ import annotations

from pathlib import Path

from cmelive.fake.server import FakeRouter
from cmelive.snapshot import read_snapshot

from .conftest import FIXTURES
from .livefake import ENABLE_SECRET, PASSWORD, cli, credentials_env, write_known_hosts

PLANTED = FIXTURES / "snapshots" / "planted-secrets"
# Every planted secret contains PLANT, or is one of these type 7 strings / numeric secrets.
MARKERS = ("PLANT", "053B2A2E0F78", "918273645", "5647382")


def assert_clean(where: str, text: str) -> None:
    for marker in MARKERS:
        assert marker not in text, f"secret marker {marker!r} leaked into {where}"


def test_planted_fixture_really_holds_the_markers() -> None:
    text = "".join(p.read_text() for p in PLANTED.glob("*.txt"))
    for marker in MARKERS:
        assert marker in text


def test_live_audit_leaks_nothing(tmp_path: Path) -> None:
    snapshot = read_snapshot(PLANTED)
    with FakeRouter(snapshot, username="admin", password=PASSWORD, enable_secret=ENABLE_SECRET) as router:
        known_hosts = write_known_hosts(tmp_path / "known_hosts", router.known_hosts_line())
        base = ["audit", router.host, "--port", str(router.port), "-u", "admin", "--known-hosts", str(known_hosts)]
        saved = tmp_path / "snap"
        log_runs = [
            cli(*base, "--format", "json", "-vv", "--save-snapshot", str(saved), env=credentials_env()),
            cli(*base, "--format", "text", "-vv", env=credentials_env()),
        ]
        collected = tmp_path / "collected"
        log_runs.append(cli("collect", router.host, "--port", str(router.port), "-u", "admin", "--known-hosts",
                            str(known_hosts), "-o", str(collected), "-vv", env=credentials_env()))
    for proc in log_runs:
        assert proc.returncode in (0, 1), proc.stderr
        assert_clean("stdout", proc.stdout)
        assert_clean("stderr/log", proc.stderr)
    for directory in (saved, collected):
        files = list(directory.iterdir())
        assert files
        for path in files:
            assert_clean(str(path), path.read_text())


def test_replay_reports_leak_nothing(tmp_path: Path) -> None:
    for fmt in ("text", "json"):
        out = tmp_path / f"report.{fmt}"
        proc = cli("replay", str(PLANTED), "--format", fmt, "--output", str(out), "-vv")
        assert proc.returncode in (0, 1), proc.stderr
        assert_clean(f"{fmt} report", out.read_text())
        assert_clean("stderr/log", proc.stderr)
