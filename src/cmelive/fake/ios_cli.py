"""A transport-free emulation of the IOS exec CLI, good enough to be audited over SSH.

:class:`IosCli` turns one typed line into the text IOS would print (``\\n`` line endings) and
keeps the session state: privilege level, the ``Password:`` prompt of ``enable``, closed or not.
:class:`TerminalSession` adds what a vty does around it: echo, line editing, ``\\r\\n`` on the
wire, the prompt after every answer. The SSH server and the login shell only move bytes.

The emulation is read-only on purpose: it answers ``show`` commands from a snapshot and
accepts ``terminal ...``, ``enable``, ``disable`` and ``exit``; everything else (``configure``,
``write``, ``copy``, ``reload``, ``clear``, ``debug``, ...) is refused with IOS's
``% Invalid input`` at every privilege level.

The CLI-level fault modes of :class:`~cmelive.fake.faults.Faults` live here too: ``enable``
refused, a command that hangs or drops the connection (the CLI flags it in
:attr:`IosCli.fault`; the transport acts on it), and a plain IOS router without CME.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

from cmelive.commands import RUNNING_CONFIG, CommandStatus
from cmelive.fake.faults import STARTUP_CONFIG, STREAMING, Faults, SessionFault, without_cme
from cmelive.fake.terminal import AUTHORIZATION_FAILED, MORE, MORE_ERASE, TerminalStyle
from cmelive.snapshot import Snapshot

SHOW_PRIVILEGE = "show privilege"
#: Privilege level 1 cannot see the configuration (real IOS does not even parse the keyword).
PRIVILEGED_ONLY_SHOWS = frozenset({RUNNING_CONFIG, STARTUP_CONFIG})
DEFAULT_HOSTNAME = "Router"
#: A fake fleet's logins unless told otherwise (test routers only: never a real credential).
DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "cisco"
DEFAULT_ENABLE_SECRET = "cisco-enable"
PASSWORD_PROMPT = "Password: "
#: IOS gives up on ``enable`` after this many wrong secrets in a row.
MAX_SECRET_TRIES = 3

INVALID_INPUT = "% Invalid input detected at '^' marker."
INCOMPLETE = "% Incomplete command."
ACCESS_DENIED = "% Access denied"
BAD_SECRETS = "% Bad secrets"
NO_ENABLE_PASSWORD = "% No password set"

# Exec keywords of a real IOS 15 voice router. Most of them are refused here; they are in the
# parse tree so that abbreviations resolve (and turn out ambiguous) the way they do on a router:
# "dis" is ambiguous (disable/disconnect), "sh" is show, "wr" is write and refused.
_USER_EXEC_KEYWORDS = (
    "access-enable", "access-profile", "archive", "cd", "clear", "connect", "crypto", "disable",
    "disconnect", "enable", "ethernet", "exit", "help", "lock", "login", "logout", "mrinfo",
    "mstat", "mtrace", "name-connection", "pad", "ping", "ppp", "quit", "release", "renew",
    "resume", "rlogin", "set", "show", "slip", "ssh", "systat", "tclquit", "tclsh", "telnet",
    "terminal", "traceroute", "tunnel", "udptn", "where", "x28", "x3", "xconnect",
)  # fmt: skip
_PRIVILEGED_EXEC_KEYWORDS = _USER_EXEC_KEYWORDS + (
    "auto", "calendar", "call", "ccm-manager", "clock", "cns", "configure", "copy", "debug",
    "delete", "dir", "erase", "event", "format", "fsck", "mkdir", "more", "no", "pwd", "reload",
    "rename", "rmdir", "send", "setup", "squeeze", "start-chat", "test", "undebug", "verify",
    "write",
)  # fmt: skip
_PIPE_FILTERS = ("append", "begin", "count", "exclude", "format", "include", "redirect", "section", "tee")
# Filters that would write files or render through scripts: refused like any write.
_REFUSED_PIPE_FILTERS = frozenset({"append", "format", "redirect", "tee"})
_WORD = re.compile(r"\S+")
_NUMBER_RANGE = re.compile(r"^<(\d+)-(\d+)>$")
_HOSTNAME_LINE = re.compile(r"^hostname\s+(\S+)", re.MULTILINE)
# An output line a careless reader would take for a prompt (a banner line such as "CME1#").
_PROMPT_LIKE = re.compile(r"[^\s>#]+[>#]")


class _Verb(Enum):
    ENABLE = "enable"
    DISABLE = "disable"
    EXIT = "exit"
    TERMINAL = "terminal"  # accepted, changes nothing the emulation shows
    SHOW = "show"


@dataclass
class _Node:
    """One keyword of the exec parse tree."""

    children: dict[str, _Node] = field(default_factory=dict)
    verb: _Verb | None = None  # what a line that ends here does; None: incomplete
    command: str = ""  # the full show command, for SHOW
    refused: bool = False  # a known keyword this read-only router will not run
    incomplete_message: str = INCOMPLETE + "\n\n"

    def child(self, keyword: str) -> _Node:
        return self.children.setdefault(keyword, _Node())


@dataclass(frozen=True)
class _Word:
    text: str
    column: int  # offset in the typed line, for the caret


def normalize_command(command: str) -> str:
    """``"Show  Running-Config "`` -> ``"show running-config"`` (IOS keywords ignore case)."""
    return " ".join(command.lower().split())


def outputs_from_snapshot(snapshot: Snapshot) -> dict[str, str]:
    """The replayable outputs of a snapshot: what the router printed (complete, cut off, or not
    recognisable as the command's output, e.g. empty); rejected and missing ones are not."""
    printed = (CommandStatus.OK, CommandStatus.TRUNCATED, CommandStatus.UNRECOGNISED)
    return {command: out.text for command, out in snapshot.outputs.items() if out.status in printed}


def hostname_from(outputs: Mapping[str, str], snapshot_hostname: str | None = None) -> str:
    """The router's name: the snapshot's, else the running-config's ``hostname`` line."""
    if snapshot_hostname:
        return snapshot_hostname
    for command, text in outputs.items():
        if normalize_command(command) in PRIVILEGED_ONLY_SHOWS:
            found = _HOSTNAME_LINE.search(text)
            if found:
                return found.group(1)
    return DEFAULT_HOSTNAME


class IosCli:
    """The exec CLI of one session: feed it lines with :meth:`handle_line`, print what it returns.

    ``outputs`` maps full show commands (``"show running-config"``) to the text the router prints.
    Every non-blank line typed at the exec prompt is appended to :attr:`command_log` (and passed
    to ``on_command``); what is typed at the ``Password:`` prompt never is.

    ``faults`` (see :class:`~cmelive.fake.faults.Faults`): ``no_cme`` and ``fail_enable`` act
    here; a command with a session fault (``hang_on`` ... ``endless_on``) sets :attr:`fault` (and,
    for a drop, returns the first half of its output lines; for a flood, drip or endless output,
    keeps the output in :attr:`fault_output` for the transport to stream): from then on the CLI
    answers nothing, and the transport goes silent, cuts the connection or streams. A faulty
    command's name this router does not serve is a ``ValueError``.
    """

    def __init__(
        self,
        outputs: Mapping[str, str],
        hostname: str,
        enable_secret: str | None,
        privileged: bool = False,
        *,
        on_command: Callable[[str], None] | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.hostname = hostname
        self.privileged = privileged
        self.closed = False
        self.awaiting_secret = False
        self.faults = faults if faults is not None else Faults()
        #: Set when a command with a session fault was run; the session never answers again.
        self.fault: SessionFault | None = None
        #: The output a streaming fault (flood, drip, endless) repeats forever.
        self.fault_output = ""
        self.command_log: list[str] = []
        self._enable_secret = enable_secret
        self._failed_secrets = 0
        self._on_command = on_command
        self._outputs: dict[str, str] = {}
        for command, text in outputs.items():
            normalized = normalize_command(command)
            if not normalized.startswith("show "):
                raise ValueError(f"the fake router only replays show commands, not {command!r}")
            self._outputs[normalized] = text.replace("\r\n", "\n").replace("\r", "\n")
        if self.faults.no_cme:
            self._outputs = without_cme(self._outputs)
        self._user_tree = _build_tree(self._outputs, privileged=False)
        self._privileged_tree = _build_tree(self._outputs, privileged=True)
        self._session_faults: dict[str, SessionFault] = {}
        for fault in SessionFault:
            for command in self.faults.commands(fault):
                self._session_faults[self._resolve_show(command, fault)] = fault

    def fault_commands(self, fault: SessionFault) -> tuple[str, ...]:
        """The full show commands that ``fault`` strikes (``hang_on``/``drop_on`` resolved)."""
        return tuple(command for command, kind in self._session_faults.items() if kind is fault)

    def _resolve_show(self, command: str, fault: SessionFault) -> str:
        """The full show command ``command`` (maybe abbreviated) names, as a privileged user types it."""
        node: _Node = self._privileged_tree
        for word in _words(command):
            found = _match(node, word.text)
            if not isinstance(found, _Node) or found.refused:
                node = _Node()
                break
            node = found
        if node.verb is not _Verb.SHOW:
            hint = " (with no_cme it serves no CME command)" if self.faults.no_cme else ""
            raise ValueError(f"{fault.value}_on: {command!r} is not a show command this router serves{hint}")
        return node.command

    @property
    def prompt(self) -> str:
        """What the router prints when it waits for input."""
        if self.awaiting_secret:
            return PASSWORD_PROMPT
        return f"{self.hostname}{'#' if self.privileged else '>'}"

    def handle_line(self, line: str) -> str:
        """Run one typed line (without its line ending); return the text printed before the prompt."""
        if self.closed or self.fault is not None:
            return ""
        if self.awaiting_secret:
            return self._check_secret(line)
        if line.strip():
            self.command_log.append(line)
            if self._on_command is not None:
                self._on_command(line)
        return self._execute(line)

    def _execute(self, line: str) -> str:
        prompt_width = len(self.prompt)
        command_part, bar, filter_part = line.partition("|")
        words = list(_words(command_part))
        if not words:
            if bar:
                return _invalid_at(prompt_width + line.index("|"))
            return ""
        tree = self._privileged_tree if self.privileged else self._user_tree
        node: _Node = tree
        for word in words:
            found = _match(node, word.text)
            if isinstance(found, _Ambiguous):
                return f'% Ambiguous command:  "{line.strip()}"\n'
            if found is None or found.refused:
                return _invalid_at(prompt_width + word.column)
            node = found
        if node.verb is None:
            return node.incomplete_message
        if bar and node.verb is not _Verb.SHOW:
            return _invalid_at(prompt_width + line.index("|"))
        if node.verb is _Verb.ENABLE:
            return self._enable()
        if node.verb is _Verb.DISABLE:
            self.privileged = False
            return ""
        if node.verb is _Verb.EXIT:
            self.closed = True
            return ""
        if node.verb is _Verb.TERMINAL:
            return ""
        fault = self._session_faults.get(node.command)
        if fault is SessionFault.HANG:
            self.fault = fault
            return ""
        text = self._show(node.command)
        if bar:
            text = _apply_filter(text, filter_part, prompt_width + len(command_part) + 1)
        if fault in STREAMING:
            self.fault = fault
            self.fault_output = text
            return ""
        if fault is SessionFault.DROP:
            self.fault = fault
            self.closed = True
            lines = text.splitlines(keepends=True)
            return "".join(lines[: len(lines) // 2])
        return text

    def _show(self, command: str) -> str:
        text = self._outputs.get(command)
        if text is None:  # only the built-in ``show privilege`` is not in the outputs
            text = f"Current privilege level is {15 if self.privileged else 1}\n"
        if text and not text.endswith("\n"):
            text += "\n"
        return text

    def _enable(self) -> str:
        if self.privileged:
            return ""
        if self.faults.fail_enable:
            self.awaiting_secret = True  # asks, then refuses whatever is typed
            return ""
        if self._enable_secret is None:
            return NO_ENABLE_PASSWORD + "\n\n"
        self.awaiting_secret = True
        return ""

    def _check_secret(self, typed: str) -> str:
        self.awaiting_secret = False
        if self.faults.fail_enable:
            return ACCESS_DENIED + "\n\n"
        if self._enable_secret is not None and _same_secret(typed, self._enable_secret):
            self._failed_secrets = 0
            self.privileged = True
            return ""
        self._failed_secrets += 1
        if self._failed_secrets >= MAX_SECRET_TRIES:
            self._failed_secrets = 0
            return BAD_SECRETS + "\n\n"
        return ACCESS_DENIED + "\n\n"


def _same_secret(typed: str, secret: str) -> bool:
    return hmac.compare_digest(typed.encode("utf-8"), secret.encode("utf-8"))


class _Ambiguous:
    """Marker: the word is a prefix of several keywords."""


_AMBIGUOUS = _Ambiguous()


def _words(text: str) -> Iterator[_Word]:
    for found in _WORD.finditer(text):
        yield _Word(found.group(), found.start())


def _match(node: _Node, word: str) -> _Node | _Ambiguous | None:
    """Resolve one typed word against the keywords that may follow ``node``, the IOS way.

    An exact keyword wins; otherwise the word must be the prefix of exactly one keyword.
    A number matches a ``<lo-hi>`` argument when it is in range.
    """
    typed = word.lower()
    exact = node.children.get(typed)
    if exact is not None and not _NUMBER_RANGE.match(typed):
        return exact
    candidates: list[_Node] = []
    for keyword, child in node.children.items():
        numbers = _NUMBER_RANGE.match(keyword)
        if numbers is not None:
            if typed.isdigit() and int(numbers.group(1)) <= int(typed) <= int(numbers.group(2)):
                return child
            continue
        if keyword.startswith(typed):
            candidates.append(child)
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        return _AMBIGUOUS
    return None


def _invalid_at(column: int) -> str:
    return " " * column + "^\n" + INVALID_INPUT + "\n\n"


def _build_tree(outputs: Mapping[str, str], *, privileged: bool) -> _Node:
    return _tree_for(tuple(outputs), privileged)


# One tree per command set and privilege, shared by every session that serves them: a fake fleet
# opens hundreds of sessions, and building two trees of ~200 keywords for each was a tenth of its
# CPU. Sessions only walk a tree (``_match``), never change it.
@lru_cache(maxsize=64)
def _tree_for(outputs: tuple[str, ...], privileged: bool) -> _Node:
    root = _Node()
    for keyword in _PRIVILEGED_EXEC_KEYWORDS if privileged else _USER_EXEC_KEYWORDS:
        root.child(keyword).refused = True

    for keyword, verb in (("enable", _Verb.ENABLE), ("disable", _Verb.DISABLE)):
        node = root.child(keyword)
        node.refused, node.verb = False, verb
    # ``enable 15``: the level netmiko and scripts sometimes name explicitly.
    root.children["enable"].child("<15-15>").verb = _Verb.ENABLE
    for keyword in ("exit", "logout", "quit"):
        node = root.child(keyword)
        node.refused, node.verb = False, _Verb.EXIT

    terminal = root.child("terminal")
    terminal.refused = False
    for setting in ("length", "width"):
        terminal.child(setting).child("<0-512>").verb = _Verb.TERMINAL
        terminal.child("no").child(setting).verb = _Verb.TERMINAL
    for flag in ("monitor", "exec-banner", "history"):
        terminal.child(flag).verb = _Verb.TERMINAL
        terminal.child("no").child(flag).verb = _Verb.TERMINAL
    terminal.child("history").child("size").child("<0-256>").verb = _Verb.TERMINAL
    terminal.child("ip").child("netmask-format").child("decimal").verb = _Verb.TERMINAL

    show = root.child("show")
    show.refused = False
    show.incomplete_message = '% Type "show ?" for a list of subcommands\n'
    visible = [c for c in outputs if privileged or c not in PRIVILEGED_ONLY_SHOWS]
    for command in [*visible, SHOW_PRIVILEGE]:
        node = show
        for keyword in command.split()[1:]:
            node = node.child(keyword)
        node.verb, node.command = _Verb.SHOW, command
    return root


def _apply_filter(text: str, filter_part: str, column: int) -> str:
    """``| include``, ``| exclude``, ``| begin``, ``| section``, ``| count`` on a show output."""
    words = list(_words(filter_part))
    if not words:
        return INCOMPLETE + "\n\n"
    name_word = words[0]
    candidates = [name for name in _PIPE_FILTERS if name.startswith(name_word.text.lower())]
    if len(candidates) > 1:
        return f'% Ambiguous command:  "{name_word.text}"\n'
    if not candidates or candidates[0] in _REFUSED_PIPE_FILTERS:
        return _invalid_at(column + name_word.column)
    name = candidates[0]
    regex_text = filter_part[name_word.column + len(name_word.text) :].strip()
    if not regex_text:
        return INCOMPLETE + "\n\n"
    try:
        pattern = re.compile(regex_text)
    except re.error:
        return _invalid_at(column + filter_part.index(regex_text))
    lines = text.splitlines()
    if name == "include":
        kept = [line for line in lines if pattern.search(line)]
    elif name == "exclude":
        kept = [line for line in lines if not pattern.search(line)]
    elif name == "begin":
        start = next((i for i, line in enumerate(lines) if pattern.search(line)), len(lines))
        kept = lines[start:]
    elif name == "section":
        kept = _sections(lines, pattern)
    else:
        count = sum(1 for line in lines if pattern.search(line))
        return f"Number of lines which match regexp = {count}\n"
    return "".join(line + "\n" for line in kept)


def _sections(lines: list[str], pattern: re.Pattern[str]) -> list[str]:
    """Top-level lines that match, each with the indented lines under it."""
    kept: list[str] = []
    inside = False
    for line in lines:
        if line[:1] in (" ", "\t"):
            if inside:
                kept.append(line)
            continue
        inside = bool(pattern.search(line))
        if inside:
            kept.append(line)
    return kept


@dataclass(frozen=True)
class Reply:
    """A piece of what the router sends back; ``answers`` when it starts a line's answer.

    A transport that simulates latency waits before the pieces that answer an Enter, not before
    the echo of keys typed one at a time; ``pause_s`` is a pause within an answer (a router
    that prints a long output in bursts), waited before this piece is sent.
    """

    text: str
    answers: bool
    pause_s: float = 0.0


class TerminalSession:
    """What a vty line does around the CLI: echo, line editing, line ends, the prompt, the pager.

    :meth:`feed` takes what the client typed (any chunking: one key at a time or a pasted
    batch of lines) and returns everything to send back, prompt included, in one piece, so
    a client waiting for the prompt sees it right after the output. :meth:`replies` returns the
    same text cut after each answered line (and into the pieces a slow style sends).

    ``style`` (:class:`~cmelive.fake.terminal.TerminalStyle`) sets the field quirks: echo mode,
    type-ahead flushing, line ends, prompt trailer, banner, pauses, log messages, pager.

    After a command with a session fault (:attr:`fault`), the line ends after that command's
    echo (and, for a drop, its partial output; a streaming fault's output is the transport's to
    send): no prompt, and whatever was typed after is lost.
    """

    def __init__(self, cli: IosCli, *, echo: bool = True, style: TerminalStyle | None = None) -> None:
        self.cli = cli
        self.echo = echo
        self.style = style if style is not None else TerminalStyle()
        self._line: list[str] = []
        self._after_cr = False
        self._escape = ""  # an ANSI escape sequence being swallowed (arrow keys and such)
        self._logs_sent = 0
        # At --More--: the output lines not shown yet, and what follows the output.
        self._paged: list[str] | None = None
        self._after_paged = ""

    @property
    def closed(self) -> bool:
        return self.cli.closed

    @property
    def fault(self) -> SessionFault | None:
        return self.cli.fault

    def greeting(self) -> str:
        """What the router prints when the session opens."""
        banner = "".join(line + "\n" for line in self.style.banner)
        return self.style.wire("\n" + banner) + self._prompt() * self.style.greeting_prompts

    def feed(self, data: str) -> str:
        return "".join(reply.text for reply in self.replies(data))

    def replies(self, data: str) -> list[Reply]:
        """What to send back for ``data``, cut after every Enter (empty pieces left out)."""
        replies: list[Reply] = []
        if self.style.echo == "immediate" and self._echoing and self._paged is None:
            echoed = self._immediate_echo(data)
            if echoed:
                replies.append(Reply(echoed, answers=False))
        out: list[str] = []
        for char in data:
            if self.cli.closed or self.cli.fault is not None:
                break  # typed after "exit" or into a stuck line: the input is gone
            if self._paged is not None:
                replies.extend(self._pager_key(char))
                continue
            if self._escape or char == "\x1b":
                self._swallow_escape(char)
                continue
            if char == "\n" and self._after_cr:
                self._after_cr = False  # the \n of a \r\n pair: one Enter, not two
                continue
            self._after_cr = char == "\r"
            if char in "\r\n":
                answer = self._enter()
                # The echo typed so far travels with the answer, as one piece.
                answer[0] = Reply("".join(out) + answer[0].text, answers=True, pause_s=answer[0].pause_s)
                out.clear()
                replies.extend(answer)
                if self.style.discard_typeahead:
                    break  # the router flushes its input buffer when the command starts
            elif char in "\x7f\x08":
                if self._line:
                    self._line.pop()
                    if self._echoing_at_read:
                        out.append("\b \b")
            elif char == "\x15":  # Ctrl-U: erase the line
                if self._echoing_at_read:
                    out.append("\b \b" * len(self._line))
                self._line.clear()
            elif char >= " ":
                self._line.append(char)
                if self._echoing_at_read:
                    out.append(char)
            # Other control characters (Tab, Ctrl-C, Ctrl-Z, ...) do nothing at the exec prompt.
        if out:
            replies.append(Reply("".join(out), answers=False))
        return [reply for reply in replies if reply.text]

    @property
    def _echoing(self) -> bool:
        return self.echo and not self.cli.awaiting_secret

    @property
    def _echoing_at_read(self) -> bool:
        return self._echoing and self.style.echo == "ios"

    def _prompt(self) -> str:
        if self.cli.awaiting_secret:
            return self.cli.prompt
        return self.cli.prompt + self.style.prompt_trailer

    def _immediate_echo(self, data: str) -> str:
        """What a cooked tty echoes of ``data`` the moment it arrives."""
        echoed: list[str] = []
        after_cr = self._after_cr
        for char in data:
            if char == "\n" and after_cr:
                after_cr = False
                continue
            after_cr = char == "\r"
            if char in "\r\n":
                echoed.append(self.style.line_end)
            elif char in "\x7f\x08":
                echoed.append("\b \b")
            elif char >= " ":
                echoed.append(char)
        return "".join(echoed)

    def _enter(self) -> list[Reply]:
        line = "".join(self._line)
        self._line.clear()
        was_secret = self.cli.awaiting_secret
        output = self.cli.handle_line(line)
        if self.style.pager and not was_secret and _is_terminal_length(line):
            output = AUTHORIZATION_FAILED + "\n"  # AAA command authorization refuses it
        # An echo at read ends the line when the Enter is read; an immediate echo already did.
        lead = "" if self.style.echo == "immediate" and not was_secret else "\n"
        if self.cli.closed or self.cli.fault is not None:
            return [Reply(self.style.wire(lead + output), answers=True)]
        lines = self._with_log_messages(output.splitlines(keepends=True))
        closing, late = self._closing(bool(output))
        if self.style.pager and len(lines) > self.style.page_lines:
            shown, self._paged = lines[: self.style.page_lines], lines[self.style.page_lines :]
            self._after_paged = closing + late
            return [Reply(self.style.wire(lead + "".join(shown)) + MORE, answers=True)]
        return self._pieces(lead, lines, closing, late)

    def _closing(self, printed: bool) -> tuple[str, str]:
        """The prompt after an answer, with the log message the style prints before it; and what
        comes after it unasked (``logging synchronous``: the message, then the prompt again)."""
        prompt = self._prompt()
        if not self.style.log_messages or not printed:
            return prompt, ""
        message = self.style.wire(self._next_log_message() + "\n")
        if self.style.reprint_prompt_after_log:
            return prompt, self.style.line_end + message + prompt
        return message + prompt, ""

    def _with_log_messages(self, lines: list[str]) -> list[str]:
        every = self.style.log_every_lines
        if not self.style.log_messages or every <= 0 or len(lines) <= every:
            return lines
        mixed: list[str] = []
        for index, line in enumerate(lines, start=1):
            mixed.append(line)
            if index % every == 0 and index < len(lines):
                mixed.append(self._next_log_message() + "\n")
        return mixed

    def _next_log_message(self) -> str:
        message = self.style.log_messages[self._logs_sent % len(self.style.log_messages)]
        self._logs_sent += 1
        return message

    def _pieces(self, lead: str, lines: list[str], closing: str, late: str) -> list[Reply]:
        """The answer in one piece, or in bursts when the style pauses (what comes ``late``, then
        in a burst of its own)."""
        style = self.style
        if style.pause_ms <= 0:
            return [Reply(style.wire(lead + "".join(lines)) + closing + late, answers=True)]
        pause = style.pause_ms / 1000.0
        pieces: list[Reply] = []
        current = lead
        for index, line in enumerate(lines, start=1):
            current += line
            if index % style.pause_every_lines == 0 or _PROMPT_LIKE.fullmatch(line.strip()):
                pieces.append(Reply(style.wire(current), answers=not pieces, pause_s=pause if pieces else 0.0))
                current = ""
        pieces.append(Reply(style.wire(current) + closing, answers=not pieces, pause_s=pause if pieces else 0.0))
        if late:
            pieces.append(Reply(late, answers=False, pause_s=pause))
        return pieces

    def _pager_key(self, char: str) -> list[Reply]:
        """A key pressed at ``--More--``: space a page, Enter a line, anything else stops."""
        assert self._paged is not None
        if char == "\n" and self._after_cr:
            self._after_cr = False
            return []
        self._after_cr = char == "\r"
        if char == " ":
            count = self.style.page_lines
        elif char in "\r\n":
            count = 1
        else:
            count = 0
            self._paged = []
        shown, rest = self._paged[:count], self._paged[count:]
        text = MORE_ERASE + self.style.wire("".join(shown))
        if rest:
            self._paged = rest
            return [Reply(text + MORE, answers=True)]
        self._paged = None
        return [Reply(text + self._after_paged, answers=True)]

    def _swallow_escape(self, char: str) -> None:
        self._escape += char
        if len(self._escape) == 2 and char != "[":
            self._escape = ""  # ESC + one character
        elif len(self._escape) > 2 and "\x40" <= char <= "\x7e":
            self._escape = ""  # end of a CSI sequence


def _is_terminal_length(line: str) -> bool:
    """``terminal length ...`` as IOS accepts it abbreviated (``term len 0``)."""
    words = line.split()
    return (
        len(words) >= 2
        and len(words[0]) >= 4
        and "terminal".startswith(words[0].lower())
        and len(words[1]) >= 3
        and "length".startswith(words[1].lower())
    )
