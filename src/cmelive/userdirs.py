"""Where cmelive keeps its per-user files (run history, accepted host keys)."""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """cmelive's per-user state directory (``$XDG_STATE_HOME/cmelive``)."""
    xdg = os.environ.get("XDG_STATE_HOME", "").strip()
    # The XDG spec says a relative value is invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return base / "cmelive"


__all__ = ["state_dir"]
