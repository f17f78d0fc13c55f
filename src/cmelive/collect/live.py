"""Live collection from a Cisco IOS router over SSH, on netmiko's ``cisco_ios`` driver.

What netmiko does for us: the SSH connection (ssh_config file, key files, timeouts, the
authentication and TCP error handling), the host-key hook (``_build_ssh_client``, filled by
:class:`~cmelive.collect.hostkeys.VerifyingSSHClient`), and a clean disconnect.

What we do ourselves, and why:

* **Session preparation and reads.** netmiko's IOS ``session_preparation`` and ``find_prompt``
  contain fixed sleeps, and ``send_command`` looks for the prompt again before each command and
  then polls the channel every 25 ms. Here the prompt is found once (no sleep: see
  :meth:`AuditSession.read_login_prompt`) and every read blocks on the channel until the router's
  next bytes arrive. TCP_NODELAY is set (see ``VerifyingSSHClient``). ``bench/bench_single.py``
  measures the result against a raw paramiko shell and against netmiko's defaults.
* **Reading.** netmiko decodes each chunk on its own (a UTF-8 character split across two reads is
  dropped) and logs everything it reads at DEBUG: a running-config with its secrets would reach
  the log. Our reader decodes incrementally, falls back to Latin-1 for bytes that are not UTF-8,
  and never logs output.
* **Writing.** Straight to the channel: netmiko's ``write_channel`` logs what it writes (the
  enable secret among it) and takes a session lock per write, which a session used by one thread
  does not need.
* **Read-only by construction.** Only ``show ...``, ``terminal ...``, ``enable`` and ``exit`` can
  be written (:func:`ensure_read_only`, checked again at the lowest write).
* **Secrets.** netmiko's session log stays off, and nothing we write or read is logged.
* **Bounded.** A router is not ours and may print forever, fast or slowly. Every command has a
  deadline that arriving data does not move and a size limit, the session has a deadline of its
  own, and what comes after login before the first prompt is bounded in time and size
  (:mod:`cmelive.collect.limits`). An output grows in place as it arrives, prompts and pager
  marks are looked for in its last few kB only, and cleaning it lets go of each step: reading
  costs time and memory in proportion to the output (``bench/bench_memory.py`` measures both).
"""

from __future__ import annotations

import codecs
import logging
import math
import re
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

import paramiko
from netmiko.cisco.cisco_ios import CiscoIosSSH
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadTimeout,
)

from cmelive.collect import ENABLE_SECRET_ENV, Target
from cmelive.collect.limits import Limits, format_size
from cmelive.collect.hostkeys import (
    KnownHosts,
)
from cmelive.collect.sshinfo import RecordingSSHClient, offer_note, ssh_session_of
from cmelive.commands import CommandStatus, classify, ends_with_end, ios_error, is_config_dump
from cmelive.router_log import is_log_message, split_log_messages
from cmelive.errors import (
    AuthenticationError,
    ConnectError,
    HostKeyError,
    InputError,
    UsageError,
)
from cmelive.snapshot import CommandOutput, Snapshot

log = logging.getLogger(__name__)

#: Session commands cmelive itself sends, besides the caller's show commands.
PAGING_OFF = "terminal length 0"
WRAPPING_OFF = "terminal width 0"
ENABLE = "enable"
EXIT = "exit"
#: Sent right after login, in this order, each once its predecessor's prompt is back.
TERMINAL_SETTINGS = (PAGING_OFF, WRAPPING_OFF)
#: The only key cmelive presses that is not a line: the space that pages on at ``--More--``.
PAGER_KEY = " "

_CHUNK = 65536
# The most one read takes from the channel: a router streaming faster than we read still lets the
# reader look at the clock (and its limits) every so often.
_READ_MAX = 1024 * 1024
# Output redirections turn a show command into a write (to flash:, tftp:, ...).
_REDIRECTION = re.compile(r"\|\s*(?:redirect|tee|append)\b", re.IGNORECASE)
# One prompt: a name without blanks, then ">" (user EXEC) or "#" (privileged EXEC).
_PROMPT_TOKEN = r"[^\s>#]+[>#]"
# A line holding nothing but prompts: one, or several glued ("R1>R1>R1>"), blanks between or after.
_PROMPTS_LINE = re.compile(r"[ \t]*((" + _PROMPT_TOKEN + r")(?:[ \t]*\2)*)[ \t]*")


def _prompts_ending(token: str) -> re.Pattern[str]:
    """Data that ends with a line holding nothing but prompts matching ``token`` (glued or not)."""
    return re.compile(r"(?:^|[\r\n])[ \t]*(?:" + token + r"[ \t]*)+\Z")


#: Any prompt ending the data: the first answer after login, before the prompt is confirmed.
_ANY_PROMPT_AT_END = _prompts_ending(_PROMPT_TOKEN)

_PASSWORD_PROMPT = re.compile(r"[Pp]assword:[ \t]*\Z")
# IOS's pager at the end of what arrived, and the pager marks to take out of an output: the
# marker, and what erases it once a key is pressed (backspaces and blanks, or a carriage return).
_MORE_AT_END = re.compile(r"--More--[ \t]*\Z")
_PAGER_MARK = re.compile(r"[ ]?--More--[ ]?(?:\x08+[ ]*\x08*|\r[ ]+\r)?")
# When nothing that looks like a prompt has come this long after login, press Enter.
_NUDGE_AFTER_S = 0.5
# After Enter had to be pressed at login, how long the line must stay quiet before the prompt
# count is trusted: the prompts those Enters produce may still be on their way.
_LOGIN_SETTLE_S = 0.5
# A configuration that seems to end (a prompt-like line at the end of what arrived) without its
# final "end": how long to wait for more before taking it as cut off. Only that case pays it.
_CONFIG_SETTLE_S = 1.0
# After a command timed out, how long to wait for its prompt before giving up on the session.
_RESYNC_GRACE_S = 10.0
# The prompt pattern is only searched for in this many trailing characters of a read.
_TAIL = 512
# What is kept of an output's end to search in: the prompt's tail above, and before it the last
# lines of a configuration, where its "end" is looked for (see _looks_whole).
_TAIL_KEPT = 4096
# What is kept of what came before a command's echo (a stray prompt, log messages): its end.
_BEFORE_ECHO_KEPT = 65536
# The lines at an output's end searched for prompts reprinted after log messages.
_REPRINT_WINDOW = 65536
_LINE_BREAK = re.compile(r"[\r\n]")


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    # Old IOS banners and descriptions are often Latin-1: every byte maps, nothing is lost.
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("cmelive-latin1", _latin1_fallback)


def ensure_read_only(command: str) -> str:
    """``command`` stripped, when it is a single plain ``show`` command; else :class:`UsageError`.

    Refused: anything not starting with ``show ``, embedded line breaks or control characters
    (a second command smuggled in), and ``| redirect`` / ``| tee`` / ``| append`` (they write).
    """
    if any(ord(ch) < 32 and ch != "\t" for ch in command):
        raise UsageError(f"refusing to send {command!r}: it contains a line break or control character")
    text = command.strip()
    if not text.startswith("show ") or not text[5:].strip():
        raise UsageError(f"refusing to send {text!r}: cmelive only sends read-only 'show ...' commands")
    if _REDIRECTION.search(text):
        raise UsageError(f"refusing to send {text!r}: output redirection writes to the device")
    return text


def _ensure_session_command(command: str) -> str:
    """The guard at the lowest write: show commands, terminal settings, enable, exit."""
    if command in (ENABLE, EXIT, "") or (command.startswith("terminal ") and "|" not in command):
        if any(ord(ch) < 32 for ch in command):
            raise UsageError(f"refusing to send {command!r}: it contains a control character")
        return command
    return ensure_read_only(command)


class ConnectionLost(Exception):
    """The SSH session ended under us (closed by the router, reset, ...).

    ``partial`` is what the command being read had printed by then (set by :meth:`AuditSession.run`).
    """

    partial: str = ""


class CommandTimeout(ReadTimeout):
    """The router went silent before its prompt came back; ``partial`` is what did arrive."""

    def __init__(self, message: str, partial: str) -> None:
        super().__init__(message)
        self.partial = partial


class OutputCut(Exception):
    """A bound struck while the router was still printing: ``bound`` is :data:`DEADLINE` or
    :data:`SIZE`, ``partial`` what arrived by then (at most the size limit), ``received`` how many
    characters had arrived in all."""

    DEADLINE = "deadline"
    SIZE = "size"

    def __init__(self, bound: str, partial: str, received: int) -> None:
        super().__init__(f"{bound} reached after {received} characters")
        self.bound = bound
        self.partial = partial
        self.received = received


class AuditSession(CiscoIosSSH):
    """netmiko's IOS SSH driver with verified host keys and a blocking, prompt-anchored reader.

    Create with ``auto_connect=False``, then :meth:`establish_connection`,
    :meth:`session_preparation` and, at a ``>`` prompt, :meth:`elevate`.

    **Which output is whose.** One line is sent at a time, and the next only once the router has
    answered the last one: its echo has come back, then its output, then the prompt. An output
    is what lies between the echo of its own command and the prompt that follows it; whatever
    came before that echo (a stray prompt, a log message) belongs to no command. Nothing is
    typed ahead: routers differ in what they do with type-ahead (echo it at once, before the
    answers; echo it when read; throw it away), and a reader that guesses wrong attributes every
    later output to the wrong command. The one round trip type-ahead saved is not worth that.
    """

    def __init__(self, *, known_hosts: KnownHosts, **kwargs: Any) -> None:
        self.known_hosts = known_hosts
        self.prompt = ""
        #: True when the router refused ``terminal length 0``: outputs come page by page.
        self.paging = False
        #: Router log messages that arrived with the last command's answer (see :meth:`run`).
        self.log_messages: tuple[str, ...] = ()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="cmelive-latin1")
        self._at_password_prompt = False
        self._prompt_at_end = re.compile(r"(?!)")
        self._pending = ""  # what _more_arrives read ahead, for the next read
        self._before_echo = ""  # what the last read dropped before its command's echo
        #: When the whole session must be over (a time.monotonic()); login included.
        self.session_end = math.inf
        #: What the router may print after login before its first prompt, and in answer to the
        #: terminal settings and ``enable``.
        self.login_max_output: int | None = None
        # Ours to keep: netmiko drops its reference (remote_conn_pre) when a negotiation fails.
        self.ssh_client: RecordingSSHClient | None = None
        super().__init__(**kwargs)

    # -- netmiko hooks -------------------------------------------------------------------------

    def _build_ssh_client(self) -> paramiko.SSHClient:
        """Replace netmiko's client (AutoAddPolicy unless ssh_strict) with one that verifies
        host keys and records what the SSH session shows (:mod:`cmelive.collect.sshinfo`)."""
        self.ssh_client = RecordingSSHClient(self.known_hosts)
        return self.ssh_client

    def session_preparation(self) -> None:
        """Find the prompt, then send the terminal settings, one at a time.

        The prompt seen at login is confirmed by the first setting: the prompt that follows its
        echo is the router's (a banner line that looked like a prompt is then forgotten).
        """
        self.prompt = self.read_login_prompt(self.conn_timeout)
        self.set_base_prompt_from(self.prompt)
        for setting in TERMINAL_SETTINGS:
            answer = self.run(
                setting,
                self.conn_timeout,
                learn_prompt=setting == TERMINAL_SETTINGS[0],
                until=self.login_until(),
                max_chars=self.login_max_output,
            )
            error = ios_error(answer)
            if error is not None:
                log.warning("%s: %r rejected: %s", self.host, setting, error)
                if setting == PAGING_OFF:
                    self.paging = True

    def cleanup(self, command: str = EXIT) -> None:
        """Say ``exit``; the disconnect that follows closes the session (netmiko's way too).

        Nothing else is needed: we never enter configuration mode, and waiting for the router
        to hang up would hold a fleet worker for one more round trip. At a ``Password:`` prompt
        the word would be taken for a secret, so then we just hang up.
        """
        channel = self.remote_conn
        if not isinstance(channel, paramiko.Channel) or channel.closed or self._at_password_prompt:
            return
        try:
            self._write(command)
        except ConnectionLost:
            pass  # the router closed the session already

    # -- prompt and privilege ----------------------------------------------------------------------

    @property
    def hostname(self) -> str:
        return self.prompt[:-1]

    @property
    def privileged(self) -> bool:
        return self.prompt.endswith("#")

    def set_base_prompt_from(self, prompt: str) -> None:
        self.prompt = prompt
        self.base_prompt = prompt[:-1]
        # The router's prompt (either privilege), alone or glued to itself, ending what arrived.
        token = re.escape(self.base_prompt) + r"[>#]"
        self._prompt_at_end = _prompts_ending(token)

    def login_until(self) -> float:
        """The deadline of one login step (the first prompt, a terminal setting, ``enable``):
        ``conn_timeout`` from now, and never past the session's end."""
        return min(time.monotonic() + self.conn_timeout, self.session_end)

    def read_login_prompt(self, timeout: float) -> str:
        """Read what the router prints after login until it ends in a prompt; return the prompt.

        The prompt is the last line, unterminated: banner lines end with a line break, so a banner
        line that looks like a prompt (``Router#``) is not taken for it. Glued prompts
        (``R1>R1>``) count as one. A router that shows nothing prompt-like for a while gets an
        Enter (at most three); each Enter makes it print one more prompt, so then the line must
        stay quiet for a moment before the next command is sent, lest a late prompt be taken for
        that command's answer.

        Bounded whatever the router prints: the prompt must come within ``timeout`` (however
        much arrives meanwhile) and within :attr:`login_max_output` characters, else
        :class:`OutputCut`; only the last line matters, so only the end of what came is kept.
        """
        deadline = min(time.monotonic() + timeout, self.session_end)
        limit = self.login_max_output
        tail = ""  # the end of what came: all the prompt search needs
        size = 0
        nudges = 0
        while True:
            prompt = _trailing_prompt(tail)
            remaining = deadline - time.monotonic()
            chunk = ""
            if prompt is not None:
                chunk = self._receive(min(_LOGIN_SETTLE_S, remaining)) if nudges and remaining > 0 else ""
                if not chunk:
                    return prompt
            elif remaining <= 0:
                if size:
                    raise OutputCut(OutputCut.DEADLINE, "", size)
                raise CommandTimeout("no prompt after login", "")
            else:
                chunk = self._receive(min(remaining, _NUDGE_AFTER_S))
                if not chunk and nudges < 3:
                    # Some routers and terminal servers wait for a key before they show the prompt.
                    self._write("")
                    nudges += 1
            size += len(chunk)
            if limit is not None and size > limit:
                raise OutputCut(OutputCut.SIZE, "", size)
            tail = (tail + chunk)[-_TAIL_KEPT:]

    def elevate(self, secret: str, timeout: float) -> None:
        """``enable`` with ``secret``; :class:`AuthenticationError` when the router refuses."""
        either = re.compile(_PASSWORD_PROMPT.pattern + "|" + self._prompt_at_end.pattern)
        self._write(ENABLE)
        answer = self._read_until(
            either, timeout, echo=ENABLE, until=self.login_until(), max_chars=self.login_max_output
        )
        if _PASSWORD_PROMPT.search(answer):
            self._write_secret(secret)
            answer = self._read_until(either, timeout, until=self.login_until(), max_chars=self.login_max_output)
            if _PASSWORD_PROMPT.search(answer):
                self._at_password_prompt = True
                raise AuthenticationError(
                    f"{self.host}:{self.port}: the router refused the enable secret: it asked for it again"
                )
        final = _trailing_prompt(answer)
        if final is not None and final.endswith("#"):
            self.set_base_prompt_from(final)
            return
        lines = [line.strip() for line in re.split(r"[\r\n]", answer) if line.strip()]
        said = next((line for line in reversed(lines) if line.startswith("%")), "")
        raise AuthenticationError(
            f"{self.host}:{self.port}: 'enable' failed" + (f" ({said})" if said else "")
            + ": the router refused the enable secret"
        )

    # -- commands ------------------------------------------------------------------------------------

    def run(
        self,
        command: str,
        timeout: float,
        *,
        learn_prompt: bool = False,
        until: float = math.inf,
        max_chars: int | None = None,
    ) -> str:
        """Send one command and return what the router printed, without echo, prompt, pager
        marks or log messages (those are kept in :attr:`log_messages`).

        With ``learn_prompt``, any prompt after the echo ends the answer and becomes the prompt.
        Raises :class:`CommandTimeout` when the router stays silent for ``timeout`` seconds
        before the prompt is back, :class:`ConnectionLost` when the session ends, and
        :class:`OutputCut` when the prompt is not back by ``until`` (a ``time.monotonic()``,
        however steadily the output arrives) or the output exceeds ``max_chars``; each carries
        the output as far as it came, cleaned alike.
        """
        self.log_messages = ()
        self._write(command)
        if learn_prompt:
            pattern = _ANY_PROMPT_AT_END
        else:
            pattern = self._prompt_at_end
        settle = _CONFIG_SETTLE_S if is_config_dump(command) else 0.0
        try:
            if learn_prompt:
                raw = self._read_until(
                    pattern, timeout, echo=command, settle_unless_end=settle, until=until, max_chars=max_chars
                )
                prompt = _trailing_prompt(raw[-_TAIL:])
                if prompt is not None and prompt != self.prompt:
                    log.debug("%s: the prompt is %r, not %r", self.host, prompt, self.prompt)
                    self.set_base_prompt_from(prompt)
                text, messages = self._clean(raw, prompt_included=True)
            else:
                # Handed straight to _clean, which lets go of it once cleaned: a long output is
                # never held three times over.
                text, messages = self._clean(
                    self._read_until(
                        pattern, timeout, echo=command, settle_unless_end=settle, until=until, max_chars=max_chars
                    ),
                    prompt_included=True,
                )
        except (CommandTimeout, ConnectionLost, OutputCut) as exc:
            exc.partial, messages = self._clean(exc.partial, prompt_included=False)
            self.log_messages = self._messages_before_echo() + messages
            raise
        self.log_messages = self._messages_before_echo() + messages
        return text

    def _messages_before_echo(self) -> tuple[str, ...]:
        # Log messages printed between two commands belong to neither output, but are kept.
        before, self._before_echo = self._before_echo, ""
        return split_log_messages(normalize_line_breaks(before))[1] if "%" in before else ()

    def resync(self, timeout: float) -> bool:
        """After a timeout or a cut: wait for the prompt of the command still running; True once
        back. Within ``timeout`` from now (and the session's end) whatever arrives meanwhile,
        which is read and dropped."""
        until = min(time.monotonic() + timeout, self.session_end)
        try:
            self._read_until(self._prompt_at_end, timeout, until=until, keep=False)
        except (CommandTimeout, OutputCut):
            return False
        return True

    def _clean(self, raw: str, *, prompt_included: bool) -> tuple[str, tuple[str, ...]]:
        """``raw`` (from the echo line on) as the output: one ``\n`` per line, no echo line, no
        pager marks, no prompt; and the router log messages taken out of it.

        A prompt reprinted after a log message (``logging synchronous``) follows the real end:
        the answer ends at the first prompt line after which only prompts and log messages came.
        Without a prompt (the output of a command cut short), the text is kept exactly as far as
        it came: no line break is added after its last line, nor a blank line after its last break.
        """
        # Each step lets go of the text before it (the caller handed it over): a long output is
        # in memory at most twice.
        if "--More--" in raw:
            raw = _PAGER_MARK.sub("", raw)
        text = normalize_line_breaks(raw)
        del raw
        if not prompt_included:
            return split_log_messages(text.partition("\n")[2])
        # From the line after the echo up to the prompt line (a lone line: nothing).
        body = text[text.find("\n") + 1 : text.rfind("\n") + 1]
        del text
        return split_log_messages(self._before_reprinted_prompts(body))

    def _before_reprinted_prompts(self, body: str) -> str:
        """``body`` up to its first line of prompts after which only prompts and log messages came
        (those messages kept, for :func:`split_log_messages`)."""
        if not body or self.base_prompt not in body[-_TAIL:]:
            return body  # the common case: no prompt in the output's last lines
        # Only the output's last lines can have come after its end: only those are split.
        start = body.rfind("\n", 0, len(body) - _REPRINT_WINDOW) + 1 if len(body) > _REPRINT_WINDOW else 0
        lines = body[start:].splitlines(keepends=True)
        cut = len(lines)
        for index in range(len(lines) - 1, -1, -1):
            line = lines[index].rstrip("\n")
            if self._prompt_at_end.match(line):
                cut = index
            elif not is_log_message(line):
                break
        if cut == len(lines):
            return body
        kept_messages = (line for line in lines[cut:] if is_log_message(line.rstrip("\n")))
        return body[:start] + "".join(lines[:cut]) + "".join(kept_messages)

    # -- the channel ---------------------------------------------------------------------------------

    def _channel(self) -> paramiko.Channel:
        channel = self.remote_conn
        if not isinstance(channel, paramiko.Channel):
            raise ConnectionLost("the session is not open")
        return channel

    def _write(self, command: str) -> None:
        self._send(_ensure_session_command(command) + self.RETURN)

    def _write_secret(self, secret: str) -> None:
        self._send(secret + self.RETURN)

    def _press_pager_key(self) -> None:
        self._send(PAGER_KEY)

    def _send(self, text: str) -> None:
        try:
            self._channel().sendall(text.encode(self.encoding))
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise ConnectionLost(f"write failed: {exc}") from exc

    def _receive(self, wait: float) -> str:
        """What arrives within ``wait`` seconds ("" if nothing); blocks, never polls. At most
        about :data:`_READ_MAX` bytes: a router that streams without a pause cannot keep one read
        (and the caller's look at the clock) from ending."""
        channel = self._channel()
        channel.settimeout(max(wait, 0.001))
        try:
            data = channel.recv(_CHUNK)
        except socket.timeout:
            return ""
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise ConnectionLost(str(exc) or type(exc).__name__) from exc
        if not data:
            raise ConnectionLost("the router closed the session")
        if channel.recv_ready():
            buffer = bytearray(data)  # grows in place: joining bytes would copy it per piece
            while len(buffer) < _READ_MAX and channel.recv_ready():
                more = channel.recv(_CHUNK)
                if not more:
                    break
                buffer += more
            return str(self._decoder.decode(buffer))
        return str(self._decoder.decode(data))

    def _read_until(
        self,
        pattern: re.Pattern[str],
        timeout: float,
        *,
        echo: str = "",
        settle_unless_end: float = 0.0,
        until: float = math.inf,
        max_chars: int | None = None,
        keep: bool = True,
    ) -> str:
        """Read until ``pattern`` matches the end of the data; silence for ``timeout`` is a timeout.

        With ``echo``, the match only counts after the router has echoed that command, and what
        came before the echo line (a stray prompt, a log message) is dropped: a reply is never
        taken for the previous command's. The silence limit restarts whenever data arrives, so a
        long running-config that keeps streaming is not cut off by it; a router that stops
        talking is. ``--More--`` at the end is answered with a space. With ``settle_unless_end``,
        a match whose output does not end with a configuration's ``end`` line must also be
        followed by that long a silence (a banner line inside a running-config can look like
        the prompt).

        Bounded whatever the router does: ``until`` (a ``time.monotonic()``) is a deadline that
        arriving data does not move, and at most ``max_chars`` are taken (counting from the
        echo line; what precedes the echo is bounded alike). Either raises :class:`OutputCut`
        with what was kept. ``keep=False`` keeps only the end of the data (a resync reads to drop) and
        returns "".
        """
        # The output, from its echo line on, grows in place (CPython extends a string that
        # nothing else refers to): no copy per read, and the caller gets this very string.
        data = ""
        size = 0  # characters of the output received, kept or not
        head = ""  # what came before the echo line was complete
        head_size = 0  # characters of it, dropped ones included
        scan_from = 0
        echoed = not echo
        while True:
            if not echoed:
                echo_start, scan_from = _echo_line_start(head, echo, scan_from)
                if echo_start >= 0:
                    echoed = True
                    self._before_echo = head[:echo_start]
                    data = head[echo_start:]
                    head = ""
                    size = len(data)
                    if max_chars is not None and size > max_chars:
                        raise OutputCut(OutputCut.SIZE, data[:max_chars] if keep else "", head_size)
                elif max_chars is not None and head_size > max_chars:
                    # Only now, the echo looked for: one read may bring the echo and a flood after it.
                    raise OutputCut(OutputCut.SIZE, "", head_size)
                elif len(head) > 2 * _BEFORE_ECHO_KEPT:
                    # Only the end can still hold the echo, and hold what to keep of it.
                    dropped = len(head) - _BEFORE_ECHO_KEPT
                    head = head[dropped:]
                    scan_from = max(0, scan_from - dropped)
            if echoed:
                tail = data[-_TAIL_KEPT:]
                offset = max(0, len(tail) - _TAIL)
                tail_match = pattern.search(tail, offset)
                if tail_match is not None and not (
                    settle_unless_end
                    and not _looks_whole(tail[max(0, tail_match.start() - 2048) : tail_match.start()])
                    and self._more_arrives(min(settle_unless_end, max(0.0, until - time.monotonic())))
                ):
                    return data if keep else ""
                if _MORE_AT_END.search(tail, offset):
                    self._press_pager_key()
                del tail
            left = until - time.monotonic()
            if left <= 0:
                raise OutputCut(OutputCut.DEADLINE, data if keep else "", head_size + size)
            try:
                chunk = self._pending or self._receive(min(timeout, left))
            except ConnectionLost as exc:
                # What arrived before the line went dead is evidence too: the caller keeps it.
                exc.partial = data if keep else ""
                raise
            self._pending = ""
            if not chunk:
                if time.monotonic() < until:
                    raise CommandTimeout(f"no data for {timeout:g}s and no prompt", data if keep else "")
                continue  # the deadline, not the silence: said above
            if not echoed:
                head += chunk
                head_size += len(chunk)
                continue
            size += len(chunk)
            if max_chars is not None and size > max_chars:
                if keep:
                    data += chunk[: len(chunk) - (size - max_chars)]
                raise OutputCut(OutputCut.SIZE, data if keep else "", head_size + size)
            if keep:
                data += chunk
            else:
                data = (data[-_TAIL_KEPT:] + chunk)[-_TAIL_KEPT:]

    def _more_arrives(self, wait: float) -> bool:
        """True when more data comes within ``wait`` seconds (kept for the next read)."""
        self._pending = self._receive(wait)
        return bool(self._pending)


_LINE_BREAK_RUN = re.compile("\r\r\r\n|\r\r\n|\r\n|\n\r")


def normalize_line_breaks(text: str) -> str:
    """One ``\n`` per line break: what netmiko's ``normalize_linefeeds`` returns, in less time.

    IOS ends its lines with ``\r\n``. When every ``\r`` is the first half of such a pair,
    replacing the pairs is all netmiko's two regex passes would do (they look at every character
    of a 40 kB running-config: the largest CPU cost of a fleet's collector threads after SSH).
    Other text (``\r\r\n``, lone ``\r``) takes netmiko's way.
    """
    if text.count("\r") == text.count("\r\n"):
        return text.replace("\r\n", "\n")
    return _LINE_BREAK_RUN.sub("\n", text).replace("\r", "\n")


def _looks_whole(config_tail: str) -> bool:
    """True when a configuration's last lines end with ``end`` (router log messages after it aside)."""
    return ends_with_end(split_log_messages(normalize_line_breaks(config_tail))[0])


def _trailing_prompt(data: str) -> str | None:
    """The prompt ``data`` ends with: its last line, unterminated, holding only prompts (glued
    copies of one count once; blanks around are not part of it); else None."""
    last = data[max(data.rfind("\n"), data.rfind("\r")) + 1 :]
    found = _PROMPTS_LINE.fullmatch(last)
    return found.group(2) if found else None


def _echo_line_start(data: str, command: str, start: int = 0) -> tuple[int, int]:
    """Where the line echoing ``command`` starts in ``data``, once that line is complete, else -1;
    and where to search from when more data has come (nothing before it is searched again).

    The first ``command`` from ``start`` on decides: when no line break follows it yet, none
    follows any later one either.
    """
    found = data.find(command, start)
    if found < 0:
        return -1, max(0, len(data) - len(command) + 1)
    if _LINE_BREAK.search(data, found + len(command)) is None:
        return -1, found
    return max(data.rfind("\n", 0, found), data.rfind("\r", 0, found)) + 1, found


class NetmikoCollector:
    """A :class:`~cmelive.collect.Collector` that logs into an IOS router and runs show commands.

    Every command ends up in the snapshot with a status: OK, REJECTED (the router's ``%`` error
    line kept as the error), UNRECOGNISED (none of the lines IOS always prints for it), TIMEOUT,
    TRUNCATED (a running-config without its final ``end``, or an output cut off by a bound of
    ``target.limits``: what arrived is kept and the error says which bound), or NOT_COLLECTED (the
    session died or ran out of time before it; the outputs gathered so far are kept); see
    :func:`cmelive.commands.classify`. After a timeout or a cut the session must show its prompt
    again within a short grace, or the remaining commands are not run.

    ``enable_secret_prompt(host)`` is asked for the enable secret when the login lands in user
    EXEC mode and the target has none (the CLI prompts on a terminal); without it that is an
    :class:`~cmelive.errors.AuthenticationError`.
    """

    def __init__(self, *, enable_secret_prompt: Callable[[str], str] | None = None) -> None:
        self.enable_secret_prompt = enable_secret_prompt

    def collect(self, target: Target, commands: Sequence[str]) -> Snapshot:
        wanted = list(dict.fromkeys(ensure_read_only(command) for command in commands))
        snapshot = Snapshot(host=target.host)
        session_end = time.monotonic() + target.limits.session_s
        session = self._connect(target)
        session.session_end = session_end
        session.login_max_output = target.limits.login_max_output
        snapshot.ssh = ssh_session_of(session.ssh_client)
        try:
            self._prepare(session, target)
            snapshot.hostname = session.hostname
            log.info("%s: logged in, prompt %r", target.address, session.prompt)
            for index, command in enumerate(wanted):
                if time.monotonic() >= session_end:
                    reason = f"not run: the session deadline ({_session_bound(target.limits)}) was reached"
                    log.warning("%s: %s; %d command(s) not collected", target.address, reason, len(wanted) - index)
                    self._give_up(snapshot, wanted[index:], reason)
                    break
                try:
                    output, stuck = self._run(session, command, target, session_end)
                except ConnectionLost as exc:
                    reason = f"connection lost: {exc}"
                    log.error("%s: %s; %d command(s) not collected", target.address, reason, len(wanted) - index)
                    self._give_up(snapshot, wanted[index:], reason)
                    if exc.partial:
                        kept = len(exc.partial.splitlines())
                        snapshot.outputs[command] = CommandOutput(
                            command,
                            CommandStatus.NOT_COLLECTED,
                            exc.partial,
                            error=f"{reason} after {kept} line(s) of output (kept, not judged)",
                        )
                    break
                snapshot.outputs[command] = output
                if stuck is not None and not self._recovered(session, target):
                    reason = f"not run: the session did not recover after {command!r} {stuck}"
                    if time.monotonic() >= session_end:
                        reason = f"not run: the session deadline ({_session_bound(target.limits)}) was reached"
                    self._give_up(snapshot, wanted[index + 1 :], reason)
                    break
        finally:
            session.disconnect()
        return snapshot

    # -- steps ------------------------------------------------------------------------------------

    def _connect(self, target: Target) -> AuditSession:
        if target.key_file is not None and not target.key_file.is_file():
            raise InputError(str(target.key_file), "SSH key file does not exist")
        known_hosts = KnownHosts(target.known_hosts, accept_new=target.accept_new_host_key)
        session = AuditSession(
            known_hosts=known_hosts,
            device_type="cisco_ios",
            host=target.host,
            port=target.port,
            username=target.username or "",
            password=target.password,
            # Registered with netmiko's log filter; the secret itself is sent by _write_secret.
            secret=target.enable_secret or "",
            use_keys=target.key_file is not None,
            key_file=str(target.key_file) if target.key_file is not None else None,
            allow_agent=False,
            ssh_config_file=str(target.ssh_config) if target.ssh_config is not None else None,
            conn_timeout=target.timeout,
            auth_timeout=target.timeout,
            banner_timeout=target.timeout,
            blocking_timeout=target.timeout,
            session_log=None,
            auto_connect=False,
        )
        log.info("%s: connecting", target.address)
        try:
            session.establish_connection()
        except HostKeyError:
            session.disconnect()
            raise
        except NetmikoAuthenticationException as exc:
            session.disconnect()
            user = f" as {target.username!r}" if target.username else ""
            raise AuthenticationError(
                f"{target.address}: authentication failed: the router refused the login{user} "
                "(wrong username, key or password)"
            ) from exc
        except (NetmikoTimeoutException, OSError, EOFError, paramiko.SSHException) as exc:
            offered = offer_note(session.ssh_client)  # what a failed negotiation could not accept
            session.disconnect()
            raise ConnectError(f"cannot connect to {target.address}: {_connect_failure(exc, target)}{offered}") from exc
        except BaseException:
            session.disconnect()
            raise
        return session

    def _prepare(self, session: AuditSession, target: Target) -> None:
        try:
            session.session_preparation()
            if not session.privileged:
                secret = target.enable_secret
                if secret is None and self.enable_secret_prompt is not None:
                    secret = self.enable_secret_prompt(target.label)
                if secret is None:
                    raise AuthenticationError(
                        f"{target.address}: the login lands in user EXEC mode ({session.prompt!r}) and "
                        f"'enable' needs the enable secret: set {ENABLE_SECRET_ENV}"
                    )
                session.elevate(secret, target.timeout)
                log.info("%s: enable accepted", target.address)
        except ConnectionLost as exc:
            raise ConnectError(f"{target.address}: the session ended during login: {exc}") from exc
        except CommandTimeout as exc:
            raise ConnectError(f"{target.address}: no usable prompt after login ({exc})") from exc
        except OutputCut as exc:
            if exc.bound == OutputCut.SIZE:
                why = f"the router printed more than {format_size(target.limits.login_max_output)} without one"
            else:
                why = (
                    f"none within {target.timeout:g}s (--timeout), though the router kept printing "
                    f"({format_size(exc.received)})"
                )
            raise ConnectError(f"{target.address}: no usable prompt after login: {why}") from exc

    def _run(
        self, session: AuditSession, command: str, target: Target, session_end: float
    ) -> tuple[CommandOutput, str | None]:
        """The command's output, and how it left the session when the session must show its
        prompt again before the next command (``"timed out"``, ``"was cut off"``), else None."""
        timeout = target.timeout
        limits = target.limits
        started = time.perf_counter()
        command_end = time.monotonic() + limits.command_deadline_s
        until = min(command_end, session_end)
        try:
            text = session.run(command, timeout, until=until, max_chars=limits.max_output)
        except CommandTimeout as exc:
            duration = time.perf_counter() - started
            log.warning("%s: %s -> timeout after %.2fs", session.host, command, duration)
            return CommandOutput(
                command,
                CommandStatus.TIMEOUT,
                exc.partial,
                duration,
                f"timed out: the router was silent for {timeout:g}s before its prompt came back",
                session.log_messages,
            ), "timed out"
        except OutputCut as exc:
            duration = time.perf_counter() - started
            why = _cut_reason(exc, limits, session_deadline=until < command_end)
            log.warning("%s: %s -> truncated after %.2fs: %s", session.host, command, duration, why)
            return CommandOutput(
                command, CommandStatus.TRUNCATED, exc.partial, duration, why, session.log_messages
            ), "was cut off"
        duration = time.perf_counter() - started
        messages = session.log_messages
        if messages:
            log.info("%s: %d router log message(s) arrived with %s (kept apart)", session.host, len(messages), command)
        status, error = classify(command, text)
        if status == CommandStatus.OK:
            # DEBUG: a fleet's log keeps one line per device, and the commands that went wrong.
            log.debug("%s: %s -> ok (%.3fs)", session.host, command, duration)
        else:
            # A rejected command is an ordinary finding (the router lacks the feature), reported
            # as its checks' unknown results; not a warning about the run.
            log.info("%s: %s -> %s: %s", session.host, command, status, error)
        return CommandOutput(command, status, text, duration, error, messages), None

    def _recovered(self, session: AuditSession, target: Target) -> bool:
        try:
            return session.resync(min(target.timeout, _RESYNC_GRACE_S))
        except ConnectionLost:
            return False

    @staticmethod
    def _give_up(snapshot: Snapshot, commands: Sequence[str], reason: str) -> None:
        for command in commands:
            snapshot.outputs[command] = CommandOutput(command, CommandStatus.NOT_COLLECTED, error=reason)


def _session_bound(limits: Limits) -> str:
    return f"{limits.session_s:g}s, --session-deadline"


def _cut_reason(cut: OutputCut, limits: Limits, *, session_deadline: bool) -> str:
    """Why an output was cut off, naming the bound and the option that raises it."""
    if cut.bound == OutputCut.SIZE:
        size = format_size(limits.max_output)
        return f"cut off at the output size limit ({size}, --max-output): the first {size} are kept"
    kept = f"what arrived by then ({format_size(cut.received)}) is kept"
    if session_deadline:
        return f"cut off at the session deadline ({_session_bound(limits)}): its prompt was not back; {kept}"
    return (
        f"cut off at the command deadline: its prompt was not back after {limits.command_deadline_s:g}s "
        f"(--command-deadline); {kept}"
    )


def _connect_failure(exc: BaseException, target: Target) -> str:
    """A short reason for a failed connection, from the exception chain netmiko built."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, paramiko.ssh_exception.NoValidConnectionsError):
            causes = list(seen.errors.values())
            if causes and all(isinstance(c, ConnectionRefusedError) for c in causes):
                return "connection refused (nothing listens on that port)"
            return str(seen)
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused (nothing listens on that port)"
        if isinstance(seen, socket.gaierror):
            return f"host name not resolvable ({seen.strerror})"
        if isinstance(seen, (socket.timeout, TimeoutError)):
            return "timed out"
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror.lower()
        if isinstance(seen, paramiko.SSHException) and not isinstance(seen, NetmikoTimeoutException):
            if "banner" in str(seen) or "No existing session" in str(seen):
                # paramiko's words for "nothing SSH answered in time"
                return (
                    f"SSH negotiation failed: no SSH greeting within {target.timeout:g}s "
                    "(not an SSH server, or an overloaded one)"
                )
            return f"SSH negotiation failed: {seen}"
        seen = seen.__cause__ or seen.__context__
    first_line = str(exc).strip().splitlines()
    return first_line[0] if first_line else type(exc).__name__
