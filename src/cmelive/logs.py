"""Logging that cannot leak secrets: every record crosses the outbound boundary before any handler
writes it (:func:`cmelive.masking.scrub`: secrets masked, terminal controls neutralised)."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from cmelive.errors import CmeliveError
from cmelive.masking import scrub
from cmelive.output_files import open_log, write_error


class MaskingFilter(logging.Filter):
    """Renders the message, scrubs it, and freezes the result (args cleared).

    A log line may carry anything a router printed (an error quoting its output), so it is
    scrubbed as router text, and so are a traceback and a stack.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


class PrivateLogFile(logging.Handler):
    """A log file that cmelive writes: opened without following a symlink, 0600 (see
    :func:`cmelive.output_files.open_log`), each record appended whole.

    A record that cannot be written (a full disk) is cut back off the file, so the log holds only
    whole lines; the handler then stops writing and keeps the error in :attr:`failure` for the
    command to report once, rather than a traceback on stderr for every record that follows.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        try:
            self._fd = open_log(path)
        except OSError as exc:
            raise write_error(path, "cannot open the log file", exc) from exc
        self.failure: CmeliveError | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.failure is not None or self._fd < 0:
            return
        try:
            data = (self.format(record) + "\n").encode("utf-8", "backslashreplace")
        except Exception:
            self.handleError(record)
            return
        end = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, end)
            self.failure = write_error(self.path, "cannot write the log", exc)

    def close(self) -> None:
        self.acquire()
        try:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
        finally:
            self.release()
        super().close()


def configure_logging(verbosity: int, log_file: str | None = None) -> None:
    """Send cmelive's log (masked) to stderr — or to ``log_file`` — at a level set by ``-v``."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler: logging.Handler = PrivateLogFile(Path(log_file)) if log_file else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # netmiko and paramiko log raw channel reads at DEBUG: a secret split across two reads would
    # slip past line-based masking, so their debug output is never enabled.
    logging.getLogger("netmiko").setLevel(logging.WARNING)
    # paramiko's transport thread logs an ERROR when a router closes the connection as we log
    # out ("Socket exception: Connection reset by peer"); real failures reach cmelive as
    # exceptions and are reported with the device, so its own log adds only noise.
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
