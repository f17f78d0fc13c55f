"""Helpers for tests that audit a fake router over real SSH through the CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

PASSWORD = "fake-login-pw"
ENABLE_SECRET = "fake-enable-pw"


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run the installed cmelive CLI in a subprocess, as a user would."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CMELIVE_")}
    return subprocess.run(
        [sys.executable, "-m", "cmelive", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def credentials_env() -> dict[str, str]:
    return {"CMELIVE_PASSWORD": PASSWORD, "CMELIVE_ENABLE_SECRET": ENABLE_SECRET}


def write_known_hosts(path: Path, line: str) -> Path:
    path.write_text(line + "\n", encoding="utf-8")
    return path


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
