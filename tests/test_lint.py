"""pyflakes-level lint (unused imports and names, undefined names, syntax) over code and tests."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import REPO


def test_ruff_pyflakes() -> None:
    if subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True).returncode != 0:
        pytest.skip("ruff is not installed (pip install '.[test]')")
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "F,E9", "src", "tests", "bench"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
