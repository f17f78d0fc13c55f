"""Logging that cannot leak secrets: every record crosses the outbound boundary before any handler
writes it (:func:`cmelive.masking.scrub`: secrets masked, terminal controls neutralised)."""

from __future__ import annotations

import logging

from cmelive.masking import scrub


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


def configure_logging(verbosity: int, log_file: str | None = None) -> None:
    """Send cmelive's log (masked) to stderr — or to ``log_file`` — at a level set by ``-v``."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler: logging.Handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler()
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
