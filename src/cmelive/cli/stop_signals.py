"""Serve until Ctrl-C or SIGTERM: what ``fake-router`` and ``fake-fleet`` wait on."""

from __future__ import annotations

import signal
import time
from types import FrameType, TracebackType
from typing import Any

_POLL_S = 0.1


class StopSignals:
    """While entered, SIGINT and SIGTERM only raise a flag; :meth:`wait` returns once one came.

    Installed explicitly for SIGINT too: a process started in the background by a non-interactive
    shell inherits SIGINT as ignored, and Ctrl-C must still stop it. The handler only assigns a
    flag: a ``threading.Event`` set from the handler deadlocks when the signal lands while the
    main thread holds the Event's own lock inside ``Event.wait()`` (seen: one start in five).
    """

    def __init__(self) -> None:
        self.stopped = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.stopped = True

    def __enter__(self) -> StopSignals:
        self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT)}
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def wait(self) -> None:
        # time.sleep resumes after a handler ran (PEP 475): the flag is seen within one poll.
        while not self.stopped:
            time.sleep(_POLL_S)
