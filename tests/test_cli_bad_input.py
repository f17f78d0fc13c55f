"""Bad input gets exit 2 and one clear line naming the file and the problem — never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cmelive", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_missing_snapshot_dir(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert_one_line_error(run_cli("replay", str(missing)), str(missing), "does not exist")


def test_empty_snapshot_dir(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("replay", str(tmp_path)), str(tmp_path), "no show_*.txt files")


def test_snapshot_path_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "show_running-config.txt"
    path.write_text("hostname r1\nend\n")
    assert_one_line_error(run_cli("replay", str(path)), str(path), "not a directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file; permission errors cannot happen")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "show_running-config.txt"
    path.write_text("hostname r1\nend\n")
    path.chmod(0)
    assert_one_line_error(run_cli("replay", str(tmp_path)), str(path), "permission denied")


def test_unreadable_file_as_root(tmp_path: Path) -> None:
    # As root, chmod 0 does not stop a read; a directory named like a capture does (EISDIR).
    (tmp_path / "show_version.txt").write_text("Cisco IOS Software\n")
    bad = tmp_path / "show_running-config.txt"
    bad.mkdir()
    (bad / "x.txt").write_text("x")
    proc = run_cli("replay", str(tmp_path))
    # A directory is not a capture file: it is skipped, and the rest is judged; without its
    # running-config the device is not audited (exit 3), and the report says why.
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "not audited — 'show running-config' was not collected" in proc.stdout


def test_non_text_file(tmp_path: Path) -> None:
    path = tmp_path / "show_running-config.txt"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00binary")
    assert_one_line_error(run_cli("replay", str(tmp_path)), str(path), "binary file")


def test_bad_meta_json(tmp_path: Path) -> None:
    (tmp_path / "show_running-config.txt").write_text("hostname r1\nend\n")
    (tmp_path / "meta.json").write_text('{"host": "r1",\n  "commands": [,]}\n')
    assert_one_line_error(run_cli("replay", str(tmp_path)), "meta.json:2", "invalid JSON")


def test_bad_policy_file(tmp_path: Path) -> None:
    (tmp_path / "snap").mkdir()
    (tmp_path / "snap" / "show_running-config.txt").write_text("hostname r1\nend\n")
    policy = tmp_path / "policy.yml"
    policy.write_text("min_rsa_bits: 2048\ntrusted_subnet: [10.0.0.0/8]\n")
    proc = run_cli("replay", str(tmp_path / "snap"), "--policy", str(policy))
    assert_one_line_error(proc, f"{policy}:2", "unknown setting 'trusted_subnet'")


def test_bad_option_value_is_usage_error(tmp_path: Path) -> None:
    proc = run_cli("replay", str(FIXTURES), "--fail-on", "severe")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "--fail-on" in proc.stderr


def test_audit_without_password_and_no_tty_is_usage_error() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CMELIVE_PASSWORD",)}
    proc = subprocess.run(
        [sys.executable, "-m", "cmelive", "audit", "127.0.0.1", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert_one_line_error(proc, "CMELIVE_PASSWORD")


def test_unreadable_file_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Root reads any file, so the permission error is injected where the read happens."""
    from cmelive.cli import main

    path = tmp_path / "show_running-config.txt"
    path.write_text("hostname r1\nend\n")
    real_read_bytes = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    monkeypatch.setattr(sys, "argv", ["cmelive", "replay", str(tmp_path)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"cmelive: error: {path}: permission denied (cannot read file)"]
