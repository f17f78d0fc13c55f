"""The show commands cmelive sends, how they map to snapshot file names, and IOS error markers."""

from __future__ import annotations

import re
from enum import StrEnum

RUNNING_CONFIG = "show running-config"
SHOW_VERSION = "show version"
EPHONE_REGISTERED = "show ephone registered"
CTL_CLIENT = "show ctl-client"
CAPF_SUMMARY = "show capf-server summary"
CAPF_SESSIONS = "show capf-server sessions"
RSA_KEYS = "show crypto key mypubkey rsa"
PKI_CERTIFICATES = "show crypto pki certificates"
OPEN_PORTS = "show control-plane host open-ports"
TELEPHONY_SERVICE = "show telephony-service"
HTTP_SERVER_STATUS = "show ip http server status"

#: Everything an audit collects, in the order it is sent. Read-only by construction:
#: every entry starts with "show " (a test asserts it).
AUDIT_COMMANDS: tuple[str, ...] = (
    SHOW_VERSION,
    RUNNING_CONFIG,
    EPHONE_REGISTERED,
    CTL_CLIENT,
    CAPF_SUMMARY,
    CAPF_SESSIONS,
    RSA_KEYS,
    PKI_CERTIFICATES,
    OPEN_PORTS,
    TELEPHONY_SERVICE,
    HTTP_SERVER_STATUS,
)


class CommandStatus(StrEnum):
    """What became of one command."""

    OK = "ok"
    REJECTED = "rejected"  # the router answered with an IOS error marker
    TIMEOUT = "timeout"
    TRUNCATED = "truncated"  # output cut off (e.g. a running-config without its final "end")
    NOT_COLLECTED = "not_collected"  # absent from the snapshot, or the session ended before it


#: IOS answers that mean "this command did not run" (scrapli's FAILED_WHEN_CONTAINS for IOS-XE).
IOS_ERROR_MARKERS: tuple[str, ...] = (
    "% Invalid input detected",
    "% Incomplete command",
    "% Ambiguous command",
    "% Unknown command",
    "% Authorization failed",
    "% Invalid command",
    # AAA command authorization (TACACS+) refusing a command: no '%' on IOS.
    "Command authorization failed",
)

_PROMPT_LINE = re.compile(r"^[\w.\-/:()@]*[#>]{1,2}\s*\S")


def file_name(command: str) -> str:
    """``show running-config`` -> ``show_running-config.txt``."""
    return command.strip().replace(" ", "_") + ".txt"


def command_from_file_name(name: str) -> str:
    """``show_running-config.txt`` -> ``show running-config``."""
    stem = name[:-4] if name.endswith(".txt") else name
    return stem.replace("_", " ")


def ios_error(output: str) -> str | None:
    """The IOS error line in ``output`` when the router rejected the command, else None.

    Only the first few lines are looked at: an error marker deep inside a long, otherwise good
    output (e.g. a banner quoting one) is not a rejection.
    """
    for line in _first_lines(output, 6):
        for marker in IOS_ERROR_MARKERS:
            if marker in line:
                return line.strip()
    return None


def _first_lines(text: str, count: int) -> list[str]:
    """``text.splitlines()[:count]`` without splitting the rest of a long output."""
    size = 512
    while True:
        lines = text[:size].splitlines()
        # More lines than wanted: the wanted ones all ended inside the prefix.
        if len(lines) > count or size >= len(text):
            return lines[:count]
        size *= 4


def is_prompt_line(line: str) -> bool:
    """True for a pasted ``router#show run`` / ``Router>sh ver`` line at the top of a capture."""
    return bool(_PROMPT_LINE.match(line.strip())) and not line.lstrip().startswith("!")
