"""The baseline a benchmark compares with: an earlier revision's source, exported from git."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def export_source(revision: str, into: Path) -> Path:
    """``src`` and ``parsers`` of ``revision``, as git stored them, under ``into``; returns its ``src``."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", revision, "src", "parsers"],
        check=True,
        capture_output=True,
    ).stdout
    tar_path = into / "baseline.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")  # Python >= 3.11.4, as pyproject requires in practice
    return into / "src"
