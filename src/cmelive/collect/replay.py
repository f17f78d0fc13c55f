"""Replay: a snapshot directory written earlier (or assembled by hand) stands in for the router."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cmelive.collect import Target
from cmelive.snapshot import Snapshot, read_snapshot


class ReplayCollector:
    """A :class:`~cmelive.collect.Collector` that reads ``directory`` instead of logging in.

    The result holds exactly ``commands``, in that order: a command the directory has no capture
    for is reported ``NOT_COLLECTED``, like a command a live session never got to.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def collect(self, target: Target, commands: Sequence[str]) -> Snapshot:
        stored = read_snapshot(self.directory)
        stored.outputs = {command: stored.get(command) for command in commands}
        return stored
