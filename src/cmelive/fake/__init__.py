"""A fake Cisco IOS router for tests, demos and benchmarks: snapshot outputs served over real SSH.

:class:`IosCli` is the transport-free exec emulation; :class:`FakeRouter` serves it over SSH
(paramiko, via mock-ssh-server); ``cmelive-fake-shell`` (:mod:`cmelive.fake.shell`) serves it as
the login shell of a real OpenSSH server. :class:`Faults` makes a router misbehave (refused
logins, refused ``enable``, latency, a command that hangs or drops the connection, no CME), and
:class:`FakeFleet` serves many routers from one process with a matching inventory.
"""

from __future__ import annotations

from cmelive.fake.faults import Faults
from cmelive.fake.fleet import FakeFleet, FakeRouterSpec
from cmelive.fake.ios_cli import IosCli, TerminalSession
from cmelive.fake.server import FakeRouter, from_snapshot_dir

__all__ = ["FakeFleet", "FakeRouter", "FakeRouterSpec", "Faults", "IosCli", "TerminalSession", "from_snapshot_dir"]
