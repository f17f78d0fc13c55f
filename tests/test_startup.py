"""The CLI starts without loading what only some commands need: every command pays for its imports."""

from __future__ import annotations

import subprocess
import sys

# Loaded by the commands that use them, never by the CLI's start-up: the SSH stack (the commands
# that connect or serve routers) and the fleet runner with its judges and history.
DEFERRED = ("paramiko", "netmiko", "cmelive.fleet", "cmelive.judging", "cmelive.history", "cmelive.inventory")


def test_the_cli_starts_without_the_ssh_stack_or_the_fleet_runner() -> None:
    # A fresh interpreter: this test process has long imported all of them.
    probe = f"import sys, cmelive.cli; print(sorted(m for m in {DEFERRED!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.strip() == "[]"
