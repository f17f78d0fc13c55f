"""The one exception hierarchy of cmelive.

Library code raises these; only the CLI maps them to exit codes (see ``cli/exit_codes.py``).
"""

from __future__ import annotations


class CmeliveError(Exception):
    """Base of every error cmelive raises on purpose."""


class UsageError(CmeliveError):
    """A bad option or argument combination (exit code 2)."""


class InputError(CmeliveError):
    """A file the user gave us cannot be used: missing, unreadable, not text, malformed (exit 2).

    The message names the file (and line, when there is one) and what is wrong.
    """

    def __init__(self, path: str, problem: str, line: int | None = None) -> None:
        self.path = path
        self.problem = problem
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")


class WriteError(CmeliveError):
    """cmelive could not write its output: the disk or a quota is full, a file size limit, an I/O
    error (exit code 4).

    Every file is written to a temporary name and renamed into place, so what was written before
    stays whole and nothing half-written is left under a report's name. The message names the file.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class DeviceError(CmeliveError):
    """The device could not be audited (exit code 3)."""


class ConnectError(DeviceError):
    """TCP/SSH connection failed: unreachable, refused, timed out."""


class AuthenticationError(DeviceError):
    """The router refused our credentials (login or enable)."""


class HostKeyError(DeviceError):
    """The router's SSH host key is unknown (and not accepted) or has changed."""


class HistoryError(CmeliveError):
    """The run history database cannot be used: missing, not SQLite, too new, no such run (exit 2)."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class HistoryFullError(HistoryError):
    """The history database could not be written: the disk or a quota is full, an I/O error (exit
    code 4, as :class:`WriteError`). SQLite rolled the transaction back: nothing is half-recorded."""


class RunLockedError(HistoryError):
    """Another fleet run holds the history database's run lock; runs never overlap (exit 2).

    Exit 2 like any other refusal to start: nothing was audited, and the message names the run
    (pid, host, start time) that holds the database.
    """
