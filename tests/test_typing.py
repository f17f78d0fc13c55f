"""The package type-checks under the strict settings in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from .conftest import REPO


def test_mypy_strict() -> None:
    if shutil.which("mypy") is None and subprocess.run(
        [sys.executable, "-m", "mypy", "--version"], capture_output=True
    ).returncode != 0:
        pytest.skip("mypy is not installed (pip install '.[test]')")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"), str(REPO / "src" / "cmelive")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
