"""The check every end-to-end inventory test ends with: no planted secret left anywhere."""

from __future__ import annotations

from pathlib import Path


def assert_no_secret_left(output: str, directory: Path, inventory_files: set[str], secrets: tuple[str, ...]) -> None:
    """No secret on stdout/stderr nor in any file the run left (reports, -vv log, history, snapshots)."""
    for secret in secrets:
        assert secret not in output
    written = [path for path in directory.rglob("*") if path.is_file() and path.name not in inventory_files]
    names = {path.name for path in written}
    assert {"report.json", "report.html", "cmelive.log", "history.db"} <= names, names
    assert len(written) > 10
    for path in written:
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, path
    assert not (directory / "nornir.log").exists()
