"""The show commands cmelive sends, how they map to snapshot file names, and IOS error markers."""

from __future__ import annotations

import re
from enum import StrEnum

from cmelive.parsing.ios_grammar import GLOBAL_ONLY, SECTION_HEADERS

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
    # None of the lines IOS always prints for this command (see ALWAYS_PRINTS): an empty or
    # foreign output is no evidence, so its checks say unknown rather than judge nothing.
    UNRECOGNISED = "unrecognised"


#: What IOS prints at the bottom of each screenful when ``terminal length 0`` did not take.
PAGER_PROMPT = "--More--"

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

#: What IOS prints in every output of an audited command, whatever the router's state: an output
#: holding none of these lines (matched per line, leading blanks ignored) is UNRECOGNISED. Learned
#: from the captures in the shared corpus and tests/parsers (every one of them has one; a test
#: says so) and from Cisco's command references:
#: - ``show version`` opens with its software banner ("Cisco IOS Software", "Cisco IOS XE
#:   Software", 12.x "Cisco Internetwork Operating System Software" / "IOS (tm)"), and always has
#:   "uptime is" and "Configuration register is" lines;
#: - ``show running-config``: "Building configuration...", "Current configuration : N bytes",
#:   "version", "hostname" (printed even when it is the default "Router"), the "!" between
#:   sections and the final "end" (a fragment with "!" lines is a cut config: TRUNCATED, and what
#:   it shows still counts; an output with none of these is not a config at all);
#: - ``show ephone registered``: an "ephone-N" block per phone, or, with none registered, "No
#:   ephone in specified type/condition." (the CME command reference prints it for "show ephone
#:   offhook"; field logs show it for "registered");
#: - ``show control-plane host open-ports``: the "Active internet connections" title and the
#:   "Prot  Local Address  Foreign Address" column header (older releases print only the header),
#:   printed even when nothing listens;
#: - ``show ip http server status``: "HTTP server status: Enabled|Disabled" (12.4, 15.x, IOS XE).
ALWAYS_PRINTS: dict[str, tuple[str, ...]] = {
    SHOW_VERSION: (
        r"Cisco IOS",
        r"Cisco Internetwork Operating System",
        r"IOS \(tm\)",
        r".*\buptime is\b",
        r"Configuration register is",
    ),
    RUNNING_CONFIG: (
        r"Building configuration",
        r"Current configuration\s*:",
        r"version \d",
        r"hostname \S",
        r"end\s*$",
        r"!\s*$",
    ),
    EPHONE_REGISTERED: (r"ephone-\d+", r"No ephone in specified"),
    OPEN_PORTS: (r"Active internet connections", r"Prot\s+Local\s+Address\s+Foreign\s+Address"),
    HTTP_SERVER_STATUS: (r"HTTP server status:", r"HTTP secure server status:"),
}

#: Audited commands whose genuine output can be empty, and why no line is demanded of them.
#: Their checks never pass on an empty output (each reads it as "none", and fails or says unknown).
MAY_PRINT_NOTHING: dict[str, str] = {
    CTL_CLIENT: "no public capture shows what a router without a generated CTL file prints",
    CAPF_SUMMARY: "no public capture shows what a router without capf-server prints",
    CAPF_SESSIONS: "no public capture shows what a router without capf-server prints",
    RSA_KEYS: "prints nothing when the router has no RSA key pair",
    PKI_CERTIFICATES: "prints nothing when the router holds no certificate",
    TELEPHONY_SERVICE: "no public capture shows what a router without telephony-service prints",
}

_ALWAYS_PRINTS = {
    command: re.compile("|".join(rf"^[ \t]*(?:{line})" for line in lines), re.MULTILINE)
    for command, lines in ALWAYS_PRINTS.items()
}

_PROMPT_LINE = re.compile(r"^[\w.\-/:()@]*[#>]{1,2}\s*\S")
_BARE_PROMPT = re.compile(r"^[\w.\-/:()@]+[#>]\s*$")


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


def classify(command: str, text: str) -> tuple[CommandStatus, str | None]:
    """The status of ``command``'s output ``text`` (its prompt came back), and the reason when not OK.

    The one rule for live collection and replay alike: REJECTED when the router printed an IOS
    error, UNRECOGNISED when the output holds none of the lines IOS always prints for the command
    (:data:`ALWAYS_PRINTS`), TRUNCATED when a running-config lacks its final ``end`` or any output
    still holds pager prompts.
    """
    error = ios_error(text)
    if error is not None:
        return CommandStatus.REJECTED, error
    unrecognised = unrecognised_output(command, text)
    if unrecognised is not None:
        return CommandStatus.UNRECOGNISED, unrecognised
    if is_config_dump(command) and not ends_with_end(text):
        return CommandStatus.TRUNCATED, "no final 'end' line: the configuration was cut off"
    if PAGER_PROMPT in text:
        # The pager was not paged through cleanly: what stood under its prompts is lost or garbled.
        return CommandStatus.TRUNCATED, f"pager prompts ('{PAGER_PROMPT}') in the output: lines may be missing"
    return CommandStatus.OK, None


# Where each line of ``show ephone registered`` starts, as IOS prints it: a capture whose line breaks
# were lost in publication (every field on one line) is cut back into lines there.
_EPHONE_LINE_STARTS = re.compile(
    r"(?<=\S)[ \t]*(?=ephone-\d+\[\d+\] Mac:|(?<!_)mediaActive:|(?<![A-Za-z_])IP:\d|button \d+: |"
    r"\d+ feature buttons |Preferred Codec:|Lpcor Type:|Username: )"
)
_LINE_STARTS: dict[str, re.Pattern[str]] = {EPHONE_REGISTERED: _EPHONE_LINE_STARTS}


def split_joined_output(command: str, text: str) -> tuple[str, bool]:
    """``text`` with the line breaks publication lost put back where ``command``'s lines start
    (the prompt line glued to the first output line included); and whether any was put back."""
    starts = _LINE_STARTS.get(" ".join(command.split()))
    if starts is None or not starts.search(text):
        return text, False
    repaired = starts.sub("\n", text)
    return repaired, repaired != text


def unrecognised_output(command: str, text: str) -> str | None:
    """Why ``text`` is not an output of ``command`` (none of the lines IOS always prints), else None."""
    expected = _ALWAYS_PRINTS.get(" ".join(command.split()))
    if expected is None or expected.search(text):
        return None
    examples = ", ".join(repr(_readable(line)) for line in ALWAYS_PRINTS[" ".join(command.split())][:2])
    # A pasted "router#show ..." line on top of a capture is not something the command printed.
    lines = [line for line in text.splitlines() if line.strip() and not is_prompt_line(line)]
    what = "the output was empty" if not lines else f"only {len(lines)} other line(s)"
    return f"printed none of the lines IOS always prints for it (such as {examples}): {what}"


def _readable(pattern: str) -> str:
    """A marker as the router prints it: ``Prot\\s+Local`` -> ``Prot Local``, ``ephone-\\d+`` -> ``ephone-N``."""
    for token, shown in ((r"\s+", " "), (r"\s*", " "), (r"\d+", "N"), (r"\d", "N"), (r"\S", "NAME"), (r"\b", ""),
                         (".*", ""), ("\\", "")):
        pattern = pattern.replace(token, shown)
    return " ".join(pattern.rstrip("$").split())


def is_config_dump(command: str) -> bool:
    """True for a whole configuration (``show running-config``/``startup-config`` without a filter)."""
    return "|" not in command and command.startswith(("show running-config", "show startup-config"))


def ends_with_end(text: str) -> bool:
    """True when ``text`` ends with a configuration's ``end``, whatever a terminal printed after it.

    A pasted capture may end with the next prompt ("router#", "router#show ver"), junk typed at it
    and what the next commands printed ("% Invalid input ...", a clock): none of it is configuration.
    A configuration line after the last ``end`` (a global command, an indented sub-mode line, a
    ``!``) means the capture went on, or was cut, after it.
    """
    # Only the tail matters: a config is thousands of lines.
    for line in reversed(text.rstrip()[-4096:].splitlines()):
        stripped = line.strip()
        if stripped == "end" or _END_JOINED.match(stripped):
            return True
        if not stripped or _BARE_PROMPT.match(stripped) or is_prompt_line(stripped):
            continue
        if _looks_like_config(line, stripped):
            return False
    return False


# "endRouter#", "end R1#show run": the final "end" with the next prompt glued on.
_END_JOINED = re.compile(r"^end\s*[\w.\-/:()@]+[#>]")


def _looks_like_config(line: str, stripped: str) -> bool:
    if stripped.startswith("!"):
        return True
    if line[:1] in (" ", "\t"):
        return stripped[:1].isalpha()  # a sub-mode line; a "^" under a typo is not
    return bool(SECTION_HEADERS.match(stripped) or GLOBAL_ONLY.match(stripped))


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


#: Show commands a router only knows when it runs CME: ``show ephone ...``, ``show capf-server
#: ...`` and ``show voice register ...`` (CME's SIP side) with any keywords after them; the others
#: exactly.
CME_COMMAND_PREFIXES = ("show ephone", "show capf-server", "show voice register")
CME_COMMANDS = frozenset({"show ctl-client", "show telephony-service"})


#: Why a config archive's device lacks every command but the running-config: an archive holds
#: configuration only (cmelive.collect.archive). Not a failure of the audit: nothing was asked.
NO_LIVE_STATE = "config archive: no live state"


def is_cme_command(command: str) -> bool:
    """True for the show commands only a CME router knows (``command`` normalised)."""
    return command in CME_COMMANDS or any(
        command == prefix or command.startswith(prefix + " ") for prefix in CME_COMMAND_PREFIXES
    )
