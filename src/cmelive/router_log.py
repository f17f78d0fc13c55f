"""Router log messages (``%FACILITY-SEVERITY-MNEMONIC: text``) mixed into what a router prints.

A router with ``terminal monitor`` on, or reached through a console server, prints its log
messages wherever its output happens to be: between the lines of a running-config, after its
``end``, before the next prompt. They are not part of the command's output, and a running-config
with ``%SYS-5-CONFIG_I: ...`` after its ``end`` is not damaged. :func:`split_log_messages` takes
them out, whole lines only, and keeps them, so that they reach the snapshot as what they are.
"""

from __future__ import annotations

import re

# IOS's format, optionally preceded by a sequence number (service sequence-numbers) and a
# timestamp (service timestamps log datetime / uptime; '*' or '.' when the clock is not
# authoritative): "000123: *Mar  1 00:01:02.345 UTC: %LINK-3-UPDOWN: Interface ...",
# "1w2d: %IPPHONE-6-REGISTER: ephone-1 ...". The facility may carry a sub-facility
# (%CRYPTO_ENGINE-5-..., %SW_MATM-4-...). IOS's own error answers ("% Invalid input ...") have a
# blank after the '%' and never match.
_TIMESTAMP = (
    r"(?:[A-Z][a-z]{2} +\d{1,2}(?: \d{4})? \d{1,2}:\d{2}:\d{2}(?:\.\d{1,6})?(?: [A-Za-z]{2,6})?"
    r"|\d+[ywd]\d+[wdh]|\d{1,2}:\d{2}:\d{2}(?:\.\d{1,6})?)"
)
LOG_MESSAGE = re.compile(
    r"^(?:\d+: )?[*.]?(?:" + _TIMESTAMP + r": )?%[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)?-[0-7]-[A-Z0-9_]+: \S"
)


def is_log_message(line: str) -> bool:
    """True when ``line`` is a whole router log message."""
    return LOG_MESSAGE.match(line) is not None


def split_log_messages(text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` without its log-message lines, and those lines in order.

    Cheap when there are none (the common case): one search over the text.
    """
    if "%" not in text or not _may_hold_messages(text):
        return text, ()
    kept: list[str] = []
    messages: list[str] = []
    for line in text.splitlines(keepends=True):
        if is_log_message(line):
            messages.append(line.rstrip("\r\n"))
        else:
            kept.append(line)
    return "".join(kept), tuple(messages)


_ANYWHERE = re.compile(r"%[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)?-[0-7]-[A-Z0-9_]+: ")


def _may_hold_messages(text: str) -> bool:
    return _ANYWHERE.search(text) is not None
