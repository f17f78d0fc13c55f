"""The CLI starts without loading the SSH stack: commands that never connect do not pay for it."""

from __future__ import annotations

import subprocess
import sys


def test_the_cli_loads_paramiko_and_netmiko_only_when_a_command_needs_them() -> None:
    # A fresh interpreter: this test process has long imported both.
    probe = "import sys, cmelive.cli; print(sorted(m for m in ('paramiko', 'netmiko') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.strip() == "[]"
