"""Collection: where a :class:`~cmelive.snapshot.Snapshot` comes from.

Everything after collection reads a ``Snapshot`` and never knows whether it came from a live
router (:class:`cmelive.collect.live.NetmikoCollector`) or from a directory of saved captures
(:class:`cmelive.collect.replay.ReplayCollector`). Both implement :class:`Collector`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cmelive.collect.limits import Limits
from cmelive.snapshot import Snapshot

#: Where a single-router audit reads the enable secret from (the collector names it when it is missing).
ENABLE_SECRET_ENV = "CMELIVE_ENABLE_SECRET"


@dataclass
class Target:
    """One router to collect from, and how to reach and trust it.

    ``known_hosts`` replaces the default known-hosts files when given (see
    :mod:`cmelive.collect.hostkeys`); ``accept_new_host_key`` records a key seen for the first time
    instead of refusing it (a changed key is always refused). ``timeout`` ends a wait in which the
    router says nothing; ``limits`` (:mod:`cmelive.collect.limits`) bound each command and the whole
    session however steadily the router talks.
    """

    host: str
    port: int = 22
    username: str | None = None
    # Secrets never appear in repr(), and so never in a log line or traceback that prints a Target.
    password: str | None = field(default=None, repr=False)
    enable_secret: str | None = field(default=None, repr=False)
    key_file: Path | None = None
    ssh_config: Path | None = None
    timeout: float = 30.0
    known_hosts: tuple[Path, ...] = ()
    accept_new_host_key: bool = False
    name: str | None = None
    limits: Limits = field(default_factory=Limits)

    @property
    def address(self) -> str:
        """``host:port``, as messages name the device."""
        return f"{self.host}:{self.port}"

    @property
    def label(self) -> str:
        """The inventory name when there is one, else ``host`` (``host:port`` off port 22)."""
        if self.name:
            return self.name
        return self.host if self.port == 22 else self.address


class Collector(Protocol):
    """Something that turns a target and a list of show commands into a snapshot."""

    def collect(self, target: Target, commands: Sequence[str]) -> Snapshot:
        """Collect ``commands`` from ``target``.

        Every command appears in the returned snapshot, with its status. Raises
        :class:`~cmelive.errors.DeviceError` subclasses when the device cannot be audited at all.
        """
        ...


__all__ = ["ENABLE_SECRET_ENV", "Collector", "Limits", "Target"]
