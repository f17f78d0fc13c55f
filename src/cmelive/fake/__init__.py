"""A fake Cisco IOS router for tests, demos and benchmarks: snapshot outputs served over real SSH.

:class:`IosCli` is the transport-free exec emulation; :class:`FakeRouter` serves it over SSH
(paramiko, via mock-ssh-server); ``cmelive-fake-shell`` (:mod:`cmelive.fake.shell`) serves it as
the login shell of a real OpenSSH server. :class:`Faults` makes a router misbehave (refused
logins, refused ``enable``, latency, a command that hangs or drops the connection, no CME), and
:class:`FakeFleet` serves many routers from one process with a matching inventory.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cmelive.fake.faults import Faults
    from cmelive.fake.fleet import FakeFleet, FakeRouterSpec
    from cmelive.fake.ios_cli import IosCli, TerminalSession
    from cmelive.fake.server import FakeRouter, from_snapshot_dir

# Imported on first use (PEP 562): the CLI names Faults in its options, and would otherwise load
# paramiko with every command it runs.
_EXPORTS = {
    "Faults": "cmelive.fake.faults",
    "FakeFleet": "cmelive.fake.fleet",
    "FakeRouterSpec": "cmelive.fake.fleet",
    "IosCli": "cmelive.fake.ios_cli",
    "TerminalSession": "cmelive.fake.ios_cli",
    "FakeRouter": "cmelive.fake.server",
    "from_snapshot_dir": "cmelive.fake.server",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["FakeFleet", "FakeRouter", "FakeRouterSpec", "Faults", "IosCli", "TerminalSession", "from_snapshot_dir"]
