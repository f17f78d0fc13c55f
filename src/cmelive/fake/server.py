"""A fake IOS router over real SSH: mock-ssh-server's server, serving :class:`IosCli` shells.

mock-ssh-server gives us the shape (a listening thread, one paramiko ``ServerInterface``
handler per connection); this module fixes what a router emulation needs and mock-ssh lacks or
gets wrong:

- its threads are made with ``setDaemon``, whose DeprecationWarning kills the accept thread
  under ``-W error``: our overrides create them with ``daemon=True``;
- ``listen(5)`` drops bursts of connections: we listen with a backlog of 256;
- its bundled host key is public: every server generates a fresh RSA-2048 key (or is given one);
  a router with an SSH profile (:mod:`cmelive.fake.ssh_profiles`: what IOS 12.4, 15.x or XE
  offers) takes the process's shared key of its profile's size;
- it only serves exec requests, by running them in a local shell: we serve pty + shell
  requests with the IOS emulation and answer exec requests with it too; nothing ever runs a
  local command, and its SFTP subsystem is not registered;
- it only knows publickey auth: we add password auth and keep publickey (``add_user``);
- paramiko never sets TCP_NODELAY, which costs ~45 ms per connect on loopback: we set it on
  every accepted socket (a paramiko *client* must set it on its own socket to save the rest:
  measured here, 70 ms -> 7 ms for connect + login + 3 commands).

Fault modes (:class:`~cmelive.fake.faults.Faults`): refused logins, latency, the hanging or
dropped connection and the outputs that never end are the transport's part and live here; the
CLI's part is in ``IosCli``. A connection costs two threads (paramiko's transport thread and
ours); latency is a sleep in ours, cut short when the router stops; a hanging command parks ours
in a blocking ``recv`` that returns when the client leaves or the router stops; a flood, drip or
endless output is sent piece by piece from a generator (a few kB in memory), each send waiting
for the client's SSH window, until the channel closes or the router stops.
"""

from __future__ import annotations

import codecs
import dataclasses
import errno
import hmac
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from queue import Empty, SimpleQueue
from types import TracebackType

import paramiko
from mockssh.server import Handler as MockSshHandler
from mockssh.server import Server as MockSshServer
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)

from cmelive.fake.faults import FLOOD_BEFORE_PROMPT_TEXT, STREAMING, Faults, SessionFault, stream_pieces, without_cme
from cmelive.fake.ios_cli import IosCli, TerminalSession, hostname_from, normalize_command, outputs_from_snapshot
from cmelive.fake.terminal import TerminalStyle
from cmelive.fake.ssh_profiles import SshProfile, shared_host_key
from cmelive.snapshot import Snapshot, read_snapshot

log = logging.getLogger(__name__)
#: Where the server side of paramiko logs. Kept to itself: paramiko logs a client that hangs up
#: right after ``exit`` or a port probe that never speaks SSH as an ERROR with a traceback, and a
#: fleet benchmark would print that hundreds of times. To see it while debugging the fake:
#: ``logging.getLogger("cmelive.fake.transport").propagate = True``.
TRANSPORT_LOG = "cmelive.fake.transport"
_transport_log = logging.getLogger(TRANSPORT_LOG)
_transport_log.propagate = False
_transport_log.addHandler(logging.NullHandler())

#: Backlog of the listening socket: a fleet benchmark opens hundreds of connections at once.
LISTEN_BACKLOG = 256
HOST_KEY_BITS = 2048
#: What IOS 15 says first on an SSH connection (tools that fingerprint devices read it).
SSH_BANNER = "SSH-2.0-Cisco-1.25"
#: How long an opened channel may wait before asking for a shell or a command.
REQUEST_TIMEOUT_S = 30.0
# Wake-up period of a connection thread waiting for its first channel. paramiko does not wake
# accept() when the transport is closed from another thread (it skips notifying
# server_accept_cv), so this bounds how long stop() waits for a client that left before
# opening a channel (a refused host key, a failed login).
_CHANNEL_WAIT_S = 0.5
# How long a finished session waits for the client to hang up before closing the socket itself.
_HANG_UP_WAIT_S = 2.0
_SHELL = "shell"
_EXEC = "exec"
# What one send hands paramiko: its Channel.sendall re-slices what is left after every packet,
# which costs time in the square of a long output's size.
_SEND_PIECE = 65536


class _RouterStopping(Exception):
    """The router stopped while this session waited: it says nothing more."""


class RouterHandler(MockSshHandler):
    """One SSH connection to the fake router: authentication, then one IOS session."""

    def __init__(self, server: FakeRouter, client_conn: tuple[socket.socket, object]) -> None:
        # Not calling mock-ssh's __init__: it would load its bundled (public) host key and
        # register its SFTP subsystem, which serves this machine's files.
        self.server = server
        self.thread: threading.Thread | None = None
        self.requests: dict[int, SimpleQueue[tuple[str, str]]] = {}
        client, _ = client_conn
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        profile = server.ssh_profile
        if profile is None:
            self.transport = paramiko.Transport(client)
            self.transport.local_version = SSH_BANNER
        else:
            self.transport = profile.server_transport(client)
        self.transport.set_log_channel(TRANSPORT_LOG)
        self.transport.add_server_key(server.host_key)

    def run(self) -> None:
        try:
            self.transport.start_server(server=self)
            while self.transport.is_active():
                channel = self.transport.accept(timeout=_CHANNEL_WAIT_S)
                if channel is not None:
                    # A vty serves one session per connection, as IOS does.
                    self.handle_client(channel)
                    break
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.debug("connection ended during negotiation: %s", exc)
        finally:
            self._close()
            self.server._forget(self)

    def _close(self) -> None:
        # Closing our socket while the client's last packets (its answer to our channel close)
        # are still unread makes the kernel send a reset, which the client's paramiko logs as
        # "Socket exception: Connection reset by peer". A client hangs up right after the channel
        # closes: let the transport thread read to its end first. stop() ends it at once.
        if self.transport.is_active() and not self.server._stopping.is_set():
            self.transport.join(_HANG_UP_WAIT_S)
        self.transport.close()

    def handle_client(self, channel: paramiko.Channel) -> None:
        try:
            kind, command = self._queue(channel.get_id()).get(timeout=REQUEST_TIMEOUT_S)
        except Empty:
            channel.close()
            return
        try:
            if kind == _SHELL:
                self._serve_shell(channel)
            else:
                self._serve_exec(channel, command)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            log.debug("session ended: %s", exc)  # the client went away mid-answer
        except _RouterStopping:
            pass  # stop() closes the connection
        finally:
            channel.close()

    def _serve_shell(self, channel: paramiko.Channel) -> None:
        session = TerminalSession(self.server._new_cli(), style=self.server.terminal)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._wait_latency()
        if self.server.faults.flood_before_prompt:
            self._stream(channel, SessionFault.FLOOD, FLOOD_BEFORE_PROMPT_TEXT, session.style.wire)
            return
        _send(channel, session.greeting())
        while not session.closed and session.fault is None:
            data = channel.recv(4096)
            if not data:
                return
            arrived = time.monotonic()
            self.server._record_input(data)
            for reply in session.replies(decoder.decode(data)):
                if reply.answers:
                    self._wait_latency(since=arrived)
                if reply.pause_s > 0 and self.server._stopping.wait(reply.pause_s):
                    raise _RouterStopping
                _send(channel, reply.text)
        self._act_on(session.fault, channel, session.cli.fault_output, session.style.wire)

    def _serve_exec(self, channel: paramiko.Channel, command: str) -> None:
        cli = self.server._new_cli()
        output = cli.handle_line(command)
        self._wait_latency()
        _send(channel, output.replace("\n", "\r\n"))
        if cli.fault is None:
            channel.send_exit_status(0)
        self._act_on(cli.fault, channel, cli.fault_output, lambda text: text.replace("\n", "\r\n"))

    def _wait_latency(self, *, since: float | None = None) -> None:
        """Hold an answer until the router's latency has passed since what it answers arrived
        (``since``, a ``time.monotonic()``; default: now).

        The latency of a network, not a router's thinking time: lines typed ahead in one go are
        answered together, one latency after they arrived, as over a real link; a client that
        waits for each answer before typing on (netmiko, the benchmark's raw floor) waits one
        latency per line either way.
        """
        # A sleep in this connection's thread only: no lock held, other sessions unaffected.
        # Cut short when the router stops, so stop() never waits for a simulated latency.
        delay = self.server.faults.delay_s
        if delay <= 0:
            return
        remaining = delay if since is None else since + delay - time.monotonic()
        if remaining > 0 and self.server._stopping.wait(remaining):
            raise _RouterStopping

    def _act_on(
        self, fault: SessionFault | None, channel: paramiko.Channel, output: str, wire: Callable[[str], str]
    ) -> None:
        if fault in STREAMING:
            assert fault is not None
            self._stream(channel, fault, output, wire)
        elif fault is SessionFault.HANG:
            # Silent until the client hangs up or the router stops. What the client types
            # meanwhile is read and dropped. recv() also returns b"" at the client's EOF, which is
            # not a hang-up (OpenSSH sends one when its stdin ends): the channel's close is.
            while channel.recv(4096):
                pass
            channel.status_event.wait()  # set when the channel closes (or the transport dies)
        elif fault is SessionFault.DROP:
            self._drop_connection()

    def _stream(
        self, channel: paramiko.Channel, fault: SessionFault, output: str, wire: Callable[[str], str]
    ) -> None:
        """Send ``output`` over and over, paced as ``fault`` says, until the client hangs up or the
        router stops: a send blocks while the client's window is full (it reads nothing), and
        raises once the channel is closed, so a client that went away costs nothing."""
        for piece, pause in stream_pieces(fault, output):
            if pause > 0 and self.server._stopping.wait(pause):
                raise _RouterStopping
            if channel.closed or not self.transport.is_active():
                return
            _send(channel, wire(piece))

    def _drop_connection(self) -> None:
        """Cut the TCP connection with no SSH goodbye (no channel EOF or close, no disconnect).

        The partial output already sent stays in the stream: shutdown() sends our FIN after it
        (a reset could discard it at the client).
        """
        try:
            self.transport.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.transport.close()

    def _queue(self, channel_id: int) -> SimpleQueue[tuple[str, str]]:
        # Called from the transport thread (requests) and from ours (accept): setdefault is atomic.
        return self.requests.setdefault(channel_id, SimpleQueue())

    # -- paramiko.ServerInterface --------------------------------------------------------------

    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey"

    def check_auth_password(self, username: str, password: str) -> int:
        matches = self.server._password_matches(username, password)
        if matches and not self.server.faults.fail_auth:
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        result: int = super().check_auth_publickey(username, key)
        if self.server.faults.fail_auth:
            return AUTH_FAILED
        return result

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(
        self,
        channel: paramiko.Channel,
        term: bytes,
        width: int,
        height: int,
        pixelwidth: int,
        pixelheight: int,
        modes: bytes,
    ) -> bool:
        return True

    def check_channel_window_change_request(
        self, channel: paramiko.Channel, width: int, height: int, pixelwidth: int, pixelheight: int
    ) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.server._count_session()
        self._queue(channel.get_id()).put((_SHELL, ""))
        return True

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        self.server._count_session()
        self._queue(channel.get_id()).put((_EXEC, command.decode("utf-8", "replace")))
        return True


def _send(channel: paramiko.Channel, text: str) -> None:
    data = text.encode("utf-8")
    for start in range(0, len(data), _SEND_PIECE):
        channel.sendall(data[start : start + _SEND_PIECE])


class FakeRouter(MockSshServer):
    """A fake IOS router on ``host:port`` that replays a snapshot's show outputs over SSH.

    Use it as a context manager or with :meth:`start` / :meth:`stop`. Logins: password
    (``username``/``password``) or a public key registered with ``add_user(uid, key_path)``.
    ``faults`` makes it misbehave (see :class:`~cmelive.fake.faults.Faults`); a faulty
    command (``hang_on`` ... ``endless_on``) it does not serve is a ``ValueError`` here.
    ``host_key``: generating a fresh RSA-2048 key costs ~80 ms; a fleet shares one.
    ``ssh_profile``: what the SSH server offers (:mod:`cmelive.fake.ssh_profiles`); None keeps
    paramiko's full lists. Without ``host_key`` a profiled router uses the process's shared key of
    its profile's size.
    """

    handler_cls = RouterHandler
    _socket: socket.socket | None
    _thread: threading.Thread | None

    def __init__(
        self,
        outputs_or_snapshot: Snapshot | Mapping[str, str],
        *,
        hostname: str | None = None,
        username: str = "admin",
        password: str = "cisco",
        enable_secret: str | None = "cisco-enable",
        privileged_login: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        host_key: paramiko.PKey | None = None,
        faults: Faults | None = None,
        terminal: TerminalStyle | None = None,
        ssh_profile: SshProfile | None = None,
    ) -> None:
        super().__init__({})
        #: How its vty lines echo, end lines, page and print log messages.
        self.terminal = terminal if terminal is not None else TerminalStyle()
        if isinstance(outputs_or_snapshot, Snapshot):
            outputs = outputs_from_snapshot(outputs_or_snapshot)
            snapshot_hostname = outputs_or_snapshot.hostname
        else:
            outputs = dict(outputs_or_snapshot)
            snapshot_hostname = None
        self.faults = faults if faults is not None else Faults()
        self.outputs = {normalize_command(command): text for command, text in outputs.items()}
        self.hostname = hostname or hostname_from(self.outputs, snapshot_hostname)
        if self.faults.no_cme:
            self.outputs = without_cme(self.outputs)  # what it serves (each CLI finds nothing left to cut)
        self.username = username
        self.password = password
        self.enable_secret = enable_secret
        self.privileged_login = privileged_login
        self.host = host
        self._requested_port = port
        self._bound_port: int | None = None
        self.ssh_profile = ssh_profile
        if host_key is None:
            host_key = (
                shared_host_key(ssh_profile.host_key_bits)
                if ssh_profile is not None
                else paramiko.RSAKey.generate(HOST_KEY_BITS)
            )
        self._host_key = host_key
        self._lock = threading.Lock()
        self._connection_ended = threading.Condition(self._lock)
        self._command_log: list[str] = []
        self._input = bytearray()
        self._sessions = 0
        self._handlers: set[RouterHandler] = set()
        self._stopping = threading.Event()
        # Refuses bad outputs (non-show commands) and faults on commands it does not serve now,
        # not at the first login; the faults keep the full names of their commands ("sh run" ->
        # "show running-config"), as the router resolved them.
        cli = self._new_cli()
        self.faults = dataclasses.replace(
            self.faults,
            hang_on=cli.fault_commands(SessionFault.HANG),
            drop_on=cli.fault_commands(SessionFault.DROP),
            flood_on=cli.fault_commands(SessionFault.FLOOD),
            drip_on=cli.fault_commands(SessionFault.DRIP),
            endless_on=cli.fault_commands(SessionFault.ENDLESS),
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeRouter:
        """Listen and serve in background threads; returns self."""
        if self._socket is not None:
            raise RuntimeError("fake router already started")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self._requested_port))
            listener.listen(LISTEN_BACKLOG)
        except OSError:
            listener.close()
            raise
        self._stopping = threading.Event()
        self._socket = listener
        self._bound_port = listener.getsockname()[1]
        self._thread = threading.Thread(
            target=self._run, name=f"fake-router-{self._bound_port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening, close every open session and wait for their threads. Idempotent."""
        listener, self._socket = self._socket, None
        if listener is None:
            return
        self._stopping.set()
        try:
            listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        listener.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            handler.transport.close()
        for handler in handlers:
            if handler.thread is not None:
                handler.thread.join(timeout=5)

    def __enter__(self) -> FakeRouter:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        listener = self._socket
        while listener is not None:
            try:
                conn, address = listener.accept()
            except OSError as exc:
                if self._stopping.is_set() or exc.errno in (errno.EBADF, errno.EINVAL):
                    return
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.warning("fake router %s: cannot accept: %s", self.hostname, exc)
                    self._stopping.wait(0.05)  # out of descriptors: let sessions finish
                # ECONNABORTED and friends: that client gave up, keep serving the others.
                continue
            try:
                handler = self.handler_cls(self, (conn, address))
                handler.thread = threading.Thread(target=handler.run, daemon=True)
                with self._lock:
                    self._handlers.add(handler)
                handler.thread.start()
            except Exception:  # one broken connection must not stop the router
                log.exception("fake router %s: cannot serve %s", self.hostname, address)
                conn.close()

    def _forget(self, handler: RouterHandler) -> None:
        with self._lock:
            self._handlers.discard(handler)
            self._connection_ended.notify_all()

    # -- what tests and tools read --------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._bound_port is None:
            raise RuntimeError("fake router not started: no port yet")
        return self._bound_port

    @property
    def host_key(self) -> paramiko.PKey:
        return self._host_key

    def known_hosts_line(self) -> str:
        """This router's entry for an OpenSSH ``known_hosts`` file."""
        where = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        return f"{where} {self._host_key.get_name()} {self._host_key.get_base64()}"

    @property
    def command_log(self) -> list[str]:
        """Every command typed in any session so far, in order (a copy); never enable secrets."""
        with self._lock:
            return list(self._command_log)

    @property
    def bytes_received(self) -> bytes:
        """Every byte typed into any shell session so far, as it arrived (secrets included:
        for tests that prove what a client sends)."""
        with self._lock:
            return bytes(self._input)

    @property
    def open_connections(self) -> int:
        """How many connections are being served right now (each holds a thread until it ends)."""
        with self._lock:
            return len(self._handlers)

    def wait_until_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no connection is being served; True if that happened within ``timeout``.

        A client hangs up right after its last write, so what it typed last (``exit``) is in
        :attr:`command_log` only once its connection has ended here.
        """
        with self._connection_ended:
            return self._connection_ended.wait_for(lambda: not self._handlers, timeout)

    @property
    def sessions(self) -> int:
        """How many sessions (shell or exec) were opened so far."""
        with self._lock:
            return self._sessions

    def client(self, uid: str) -> paramiko.SSHClient:
        """A paramiko client logged in with the key registered by ``add_user(uid, key_path)``.

        Overrides mock-ssh's, which trusts mock-ssh's bundled host key instead of ours.
        """
        private_key_path, _ = self._users[uid]
        client = paramiko.SSHClient()
        client.get_host_keys().add(f"[{self.host}]:{self.port}", self._host_key.get_name(), self._host_key)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(
            hostname=self.host,
            port=self.port,
            username=uid,
            key_filename=private_key_path,
            allow_agent=False,
            look_for_keys=False,
        )
        return client

    # -- used by the handlers -------------------------------------------------------------------

    def _new_cli(self) -> IosCli:
        return IosCli(
            self.outputs,
            self.hostname,
            self.enable_secret,
            self.privileged_login,
            on_command=self._record_command,
            faults=self.faults,
        )

    def _record_command(self, line: str) -> None:
        with self._lock:
            self._command_log.append(line)

    def _record_input(self, data: bytes) -> None:
        with self._lock:
            self._input += data

    def _count_session(self) -> None:
        with self._lock:
            self._sessions += 1

    def _password_matches(self, username: str, password: str) -> bool:
        # Both compared, always: which of the two was wrong does not show in the timing.
        user_ok = hmac.compare_digest(username.encode("utf-8"), self.username.encode("utf-8"))
        password_ok = hmac.compare_digest(password.encode("utf-8"), self.password.encode("utf-8"))
        return user_ok and password_ok


def from_snapshot_dir(
    path: Path,
    *,
    hostname: str | None = None,
    username: str = "admin",
    password: str = "cisco",
    enable_secret: str | None = "cisco-enable",
    privileged_login: bool = False,
    host: str = "127.0.0.1",
    port: int = 0,
    host_key: paramiko.PKey | None = None,
    faults: Faults | None = None,
    terminal: TerminalStyle | None = None,
    ssh_profile: SshProfile | None = None,
) -> FakeRouter:
    """A (not yet started) fake router serving the snapshot directory ``path``.

    Raises :class:`cmelive.errors.InputError` when ``path`` is not a readable snapshot.
    """
    return FakeRouter(
        read_snapshot(path),
        hostname=hostname,
        username=username,
        password=password,
        enable_secret=enable_secret,
        privileged_login=privileged_login,
        host=host,
        port=port,
        host_key=host_key,
        faults=faults,
        terminal=terminal,
        ssh_profile=ssh_profile,
    )
