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
"""

from __future__ import annotations

import codecs
import logging
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
from cmelive.collect.hostkeys import (
    KnownHosts,
    VerifyingSSHClient,
)
from cmelive.commands import CommandStatus, classify, ios_error
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
#: Typed together right after login, in this order.
TERMINAL_SETTINGS = (PAGING_OFF, WRAPPING_OFF)

_CHUNK = 65536
# Output redirections turn a show command into a write (to flash:, tftp:, ...).
_REDIRECTION = re.compile(r"\|\s*(?:redirect|tee|append)\b", re.IGNORECASE)
# A prompt line: a name without blanks, then ">" (user EXEC) or "#" (privileged EXEC).
_PROMPT_LINE = re.compile(r"([^\s>#]+)([>#])[ \t]*")
_PASSWORD_PROMPT = re.compile(r"[Pp]assword:[ \t]*\Z")
# When the router is silent this long after login with one prompt shown, press Enter again.
_NUDGE_AFTER_S = 0.5
# After a command timed out, how long to wait for its prompt before giving up on the session.
_RESYNC_GRACE_S = 10.0
# The prompt pattern is only searched for in this many trailing characters of a read.
_TAIL = 512


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
    if command in (ENABLE, EXIT) or (command.startswith("terminal ") and "|" not in command):
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


class AuditSession(CiscoIosSSH):
    """netmiko's IOS SSH driver with verified host keys and a blocking, prompt-anchored reader.

    Create with ``auto_connect=False``, then :meth:`establish_connection`,
    :meth:`session_preparation` and, at a ``>`` prompt, :meth:`elevate`.
    """

    def __init__(self, *, known_hosts: KnownHosts, **kwargs: Any) -> None:
        self.known_hosts = known_hosts
        self.prompt = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="cmelive-latin1")
        self._at_password_prompt = False
        super().__init__(**kwargs)

    # -- netmiko hooks -------------------------------------------------------------------------

    def _build_ssh_client(self) -> paramiko.SSHClient:
        """Replace netmiko's client (AutoAddPolicy unless ssh_strict) with one that verifies."""
        return VerifyingSSHClient(self.known_hosts)

    def session_preparation(self) -> None:
        """Type both terminal settings at once and find the prompt from their echoes.

        One round trip for the two: a router reads typed-ahead lines in turn at its prompt.
        """
        self.prompt, answers = self.read_login_prompt(self.conn_timeout, typed=TERMINAL_SETTINGS)
        self.set_base_prompt_from(self.prompt)
        for index, setting in enumerate(TERMINAL_SETTINGS):
            answer = answers[index] if answers is not None else self.run(setting, self.conn_timeout)
            error = ios_error(answer)
            if error is not None:
                log.warning("%s: %r rejected: %s", self.host, setting, error)

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
        self.base_prompt = prompt[:-1]
        self._prompt_at_end = re.compile(r"[\r\n]" + re.escape(self.base_prompt) + r"[>#][ \t]*\Z")

    def read_login_prompt(self, timeout: float, *, typed: Sequence[str]) -> tuple[str, list[str] | None]:
        """Type ``typed`` at once, read until the prompt is known: ``(prompt, each one's output)``.

        A router echoes what was typed when it reads it, at its prompt: the text before those
        echoes on their lines, once the same prompt is back after the last answer, is the prompt.
        A banner line that happens to end in ``#``/``>`` is never taken for it, without any fixed
        sleep, and no round trip goes to an extra Enter (one latency per router, 100 ms on a slow
        WAN link).

        A router whose echo does not follow its prompt is read the older way: the same prompt line
        twice in a row at the end, pressing Enter after a silence; the outputs are then ``None``
        (``typed`` may not have run: the caller sends it again).
        """
        for command in typed:
            self._write(command)
        deadline = time.monotonic() + timeout
        seen = ""
        nudges = 0
        while True:
            answered = _answers_after_prompt(seen, typed)
            if answered is not None:
                return answered
            lines = [line.strip() for line in re.split(r"[\r\n]", seen)]
            last = lines[-1] if lines else ""
            shown = [line for line in lines if line]
            if last and _PROMPT_LINE.fullmatch(last):
                if len(shown) >= 2 and shown[-2] == last:
                    return last, None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CommandTimeout("no prompt after login", seen)
            chunk = self._receive(min(remaining, _NUDGE_AFTER_S))
            if not chunk and last and _PROMPT_LINE.fullmatch(last) and nudges < 3:
                # Some routers print the prompt once and wait for input.
                self._write("")
                nudges += 1
            seen += chunk

    def elevate(self, secret: str, timeout: float) -> None:
        """``enable`` with ``secret``; :class:`AuthenticationError` when the router refuses."""
        either = re.compile(_PASSWORD_PROMPT.pattern + "|" + self._prompt_at_end.pattern)
        self._write(ENABLE)
        answer = self._read_until(either, timeout, echo=ENABLE)
        if _PASSWORD_PROMPT.search(answer):
            self._write_secret(secret)
            answer = self._read_until(either, timeout)
            if _PASSWORD_PROMPT.search(answer):
                self._at_password_prompt = True
                raise AuthenticationError(
                    f"{self.host}:{self.port}: the router refused the enable secret: it asked for it again"
                )
        lines = [line.strip() for line in re.split(r"[\r\n]", answer) if line.strip()]
        final = lines[-1] if lines else ""
        if final.endswith("#"):
            self.prompt = final
            return
        said = next((line for line in reversed(lines[:-1]) if line.startswith("%")), "")
        raise AuthenticationError(
            f"{self.host}:{self.port}: 'enable' failed" + (f" ({said})" if said else "")
            + ": the router refused the enable secret"
        )

    # -- commands ------------------------------------------------------------------------------------

    def run(self, command: str, timeout: float) -> str:
        """Send one command and return what the router printed, without echo or prompt.

        Raises :class:`CommandTimeout` when the router stays silent for ``timeout`` seconds
        before the prompt is back, :class:`ConnectionLost` when the session ends.
        """
        self._write(command)
        try:
            raw = self._read_until(self._prompt_at_end, timeout, echo=command)
        except CommandTimeout as exc:
            exc.partial = self._clean(exc.partial, prompt_included=False)
            raise
        except ConnectionLost as exc:
            exc.partial = self._clean(exc.partial, prompt_included=False)
            raise
        return self._clean(raw, prompt_included=True)

    def resync(self, timeout: float) -> bool:
        """After a timeout: wait for the prompt of the command still running; True once back."""
        try:
            self._read_until(self._prompt_at_end, timeout)
        except CommandTimeout:
            return False
        return True

    def _clean(self, raw: str, *, prompt_included: bool) -> str:
        """Drop the echo line (``raw`` starts with it) and the prompt; one ``\n`` per line.

        Without a prompt (the output of a command cut short), the text is kept exactly as far as
        it came: no line break is added after its last line, nor a blank line after its last break.
        """
        text = normalize_line_breaks(raw)
        if not prompt_included:
            return text.partition("\n")[2]
        # From the line after the echo up to the prompt line (a lone line: nothing).
        return text[text.find("\n") + 1 : text.rfind("\n") + 1]

    # -- the channel ---------------------------------------------------------------------------------

    def _channel(self) -> paramiko.Channel:
        channel = self.remote_conn
        if not isinstance(channel, paramiko.Channel):
            raise ConnectionLost("the session is not open")
        return channel

    def _write(self, command: str) -> None:
        if command:
            _ensure_session_command(command)
        self._send(command + self.RETURN)

    def _write_secret(self, secret: str) -> None:
        self._send(secret + self.RETURN)

    def _send(self, text: str) -> None:
        try:
            self._channel().sendall(text.encode(self.encoding))
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise ConnectionLost(f"write failed: {exc}") from exc

    def _receive(self, wait: float) -> str:
        """What arrives within ``wait`` seconds ("" if nothing); blocks, never polls."""
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
        while channel.recv_ready():
            more = channel.recv(_CHUNK)
            if not more:
                break
            data += more
        return str(self._decoder.decode(data))

    def _read_until(self, pattern: re.Pattern[str], timeout: float, *, echo: str = "") -> str:
        """Read until ``pattern`` matches the end of the data; silence for ``timeout`` is a timeout.

        With ``echo``, the match only counts after the router has echoed that command, and what
        came before the echo line (a stray prompt from an extra Enter) is dropped: a reply is
        never taken for the previous command's. The limit restarts whenever data arrives, so a
        long running-config that keeps streaming is not cut off; a router that stops talking is.
        """
        data = ""
        echo_start = -1 if echo else 0
        while True:
            if echo_start < 0:
                echo_start = _echo_line_start(data, echo)
            if echo_start >= 0:
                offset = max(echo_start, len(data) - _TAIL)
                if pattern.search(data, offset):
                    return data[echo_start:]
            try:
                chunk = self._receive(timeout)
            except ConnectionLost as exc:
                # What arrived before the line went dead is evidence too: the caller keeps it.
                exc.partial = data[echo_start:] if echo_start >= 0 else ""
                raise
            if not chunk:
                partial = data[echo_start:] if echo_start >= 0 else ""
                raise CommandTimeout(f"no data for {timeout:g}s and no prompt", partial)
            data += chunk


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


def _answers_after_prompt(data: str, commands: Sequence[str]) -> tuple[str, list[str]] | None:
    """``(prompt, outputs)`` once ``data`` shows, for each command in turn, ``<prompt><command>``,
    a line break and its output, and that prompt again at the end; else None."""
    lines = re.split(r"\r\n|\r|\n", data)
    prompt = lines[-1].strip()
    if not _PROMPT_LINE.fullmatch(prompt):
        return None
    outputs: list[str] = []
    end = len(lines) - 1  # the output of the command read last ends before this line
    for command in reversed(commands):
        for index in range(end - 1, -1, -1):
            line = lines[index].rstrip()
            if line.endswith(command) and line[: len(line) - len(command)].strip() == prompt:
                break
        else:
            return None
        outputs.append("".join(output + "\n" for output in lines[index + 1 : end]))
        end = index
    outputs.reverse()
    return prompt, outputs


def _echo_line_start(data: str, command: str) -> int:
    """Where the line echoing ``command`` starts in ``data``, once that line is complete; else -1."""
    found = data.find(command)
    if found < 0 or not re.search(r"[\r\n]", data[found + len(command) :]):
        return -1
    return max(data.rfind("\n", 0, found), data.rfind("\r", 0, found)) + 1


class NetmikoCollector:
    """A :class:`~cmelive.collect.Collector` that logs into an IOS router and runs show commands.

    Every command ends up in the snapshot with a status: OK, REJECTED (the router's ``%`` error
    line kept as the error), UNRECOGNISED (none of the lines IOS always prints for it), TIMEOUT,
    TRUNCATED (a running-config without its final ``end``), or NOT_COLLECTED (the session died
    before it; the outputs gathered so far are kept); see :func:`cmelive.commands.classify`.

    ``enable_secret_prompt(host)`` is asked for the enable secret when the login lands in user
    EXEC mode and the target has none (the CLI prompts on a terminal); without it that is an
    :class:`~cmelive.errors.AuthenticationError`.
    """

    def __init__(self, *, enable_secret_prompt: Callable[[str], str] | None = None) -> None:
        self.enable_secret_prompt = enable_secret_prompt

    def collect(self, target: Target, commands: Sequence[str]) -> Snapshot:
        wanted = list(dict.fromkeys(ensure_read_only(command) for command in commands))
        snapshot = Snapshot(host=target.host)
        session = self._connect(target)
        try:
            self._prepare(session, target)
            snapshot.hostname = session.hostname
            log.info("%s: logged in, prompt %r", target.address, session.prompt)
            for index, command in enumerate(wanted):
                try:
                    output = self._run(session, command, target.timeout)
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
                if output.status == CommandStatus.TIMEOUT and not self._recovered(session, target):
                    reason = f"not run: the session did not recover after {command!r} timed out"
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
        except NetmikoTimeoutException as exc:
            session.disconnect()
            raise ConnectError(f"cannot connect to {target.address}: {_connect_failure(exc, target)}") from exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            session.disconnect()
            raise ConnectError(f"cannot connect to {target.address}: {_connect_failure(exc, target)}") from exc
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

    def _run(self, session: AuditSession, command: str, timeout: float) -> CommandOutput:
        started = time.perf_counter()
        try:
            text = session.run(command, timeout)
        except CommandTimeout as exc:
            duration = time.perf_counter() - started
            log.warning("%s: %s -> timeout after %.2fs", session.host, command, duration)
            return CommandOutput(
                command,
                CommandStatus.TIMEOUT,
                exc.partial,
                duration,
                f"timed out: the router was silent for {timeout:g}s before its prompt came back",
            )
        duration = time.perf_counter() - started
        status, error = classify(command, text)
        if status == CommandStatus.OK:
            # DEBUG: a fleet's log keeps one line per device, and the commands that went wrong.
            log.debug("%s: %s -> ok (%.3fs)", session.host, command, duration)
        else:
            # A rejected command is an ordinary finding (the router lacks the feature), reported
            # as its checks' unknown results; not a warning about the run.
            log.info("%s: %s -> %s: %s", session.host, command, status, error)
        return CommandOutput(command, status, text, duration, error)

    def _recovered(self, session: AuditSession, target: Target) -> bool:
        try:
            return session.resync(min(target.timeout, _RESYNC_GRACE_S))
        except ConnectionLost:
            return False

    @staticmethod
    def _give_up(snapshot: Snapshot, commands: Sequence[str], reason: str) -> None:
        for command in commands:
            snapshot.outputs[command] = CommandOutput(command, CommandStatus.NOT_COLLECTED, error=reason)


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
