"""SSH host-key verification, OpenSSH style.

netmiko accepts any host key unless told otherwise, and even with ``ssh_strict=True`` a refusal
comes back as a ``NetmikoTimeoutException`` whose only detail is prose. A security tool must know
whom it is talking to, and say precisely why it refused, so verification is done here:

* Known keys are read from OpenSSH-format known_hosts files. By default these are cmelive's own
  file (``$XDG_STATE_HOME/cmelive/known_hosts``, default ``~/.local/state/cmelive/known_hosts``)
  and the user's ``~/.ssh/known_hosts`` (only ever read). ``--known-hosts FILE`` replaces both.
* Entries for ports other than 22 are named ``[host]:port``; hashed names (``|1|salt|hash``,
  ``HashKnownHosts yes``) match too.
* A key seen for the first time is refused with its SHA256 fingerprint, unless
  ``accept_new`` is set: then it is recorded (like OpenSSH's ``StrictHostKeyChecking accept-new``)
  in cmelive's own file, or the first ``--known-hosts`` file.
* A key that differs from the recorded one is always refused, naming both fingerprints and the
  file:line of the recorded entry. A router that now offers a key of a *type* none of the recorded
  keys has is refused the same way (stricter than OpenSSH, which would treat it as new).

:class:`VerifyingSSHClient` plugs this into paramiko (and through
``_build_ssh_client`` into netmiko): every key reaches :meth:`KnownHosts.verify` and a refusal
surfaces as :class:`~cmelive.errors.HostKeyError`, never as a netmiko timeout.
"""

from __future__ import annotations

import binascii
import hmac
import logging
import os
import re
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko
from paramiko.hostkeys import HostKeyEntry, InvalidHostKey

from cmelive.errors import HostKeyError, InputError
from cmelive.userdirs import state_dir

log = logging.getLogger(__name__)

DEFAULT_SSH_PORT = 22


def cmelive_known_hosts_file() -> Path:
    """The known_hosts file cmelive owns and records accepted keys in."""
    return state_dir() / "known_hosts"


def user_known_hosts_file() -> Path:
    """The user's OpenSSH known_hosts file (read, never written)."""
    return Path.home() / ".ssh" / "known_hosts"


def default_known_hosts_files() -> tuple[Path, ...]:
    return (cmelive_known_hosts_file(), user_known_hosts_file())


def host_key_name(host: str, port: int) -> str:
    """The name a known_hosts entry uses: ``host`` on port 22, else ``[host]:port``."""
    return host if port == DEFAULT_SSH_PORT else f"[{host}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of ``key``."""
    return key.fingerprint


def describe_key(key: paramiko.PKey) -> str:
    """``ssh-rsa key SHA256:...`` (what a message shows for a key)."""
    return f"{key.get_name()} key {fingerprint(key)}"


@dataclass(frozen=True)
class KnownHostEntry:
    """One key line of a known_hosts file, with where it was read from."""

    path: Path
    line: int
    patterns: tuple[str, ...]
    key: paramiko.PKey
    #: OpenSSH's line marker: "" for a host key, "revoked" (never accept this key) or
    #: "cert-authority" (a CA that signs host certificates, which cmelive does not verify).
    marker: str = ""

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def matches(self, name: str) -> bool:
        """True when this entry is for ``name`` (``host`` or ``[host]:port``).

        OpenSSH semantics: plain names, hashed names, ``*``/``?`` wildcards, and ``!pattern``
        negations (a negated match excludes the entry whatever else matches).
        """
        matched = False
        for pattern in self.patterns:
            negated = pattern.startswith("!")
            if negated:
                pattern = pattern[1:]
            if _pattern_matches(pattern, name):
                if negated:
                    return False
                matched = True
        return matched


def _pattern_matches(pattern: str, name: str) -> bool:
    if pattern.startswith("|1|"):
        try:
            hashed = paramiko.HostKeys.hash_host(name, pattern)
        except (binascii.Error, ValueError, IndexError):
            return False
        return hmac.compare_digest(hashed.encode(), pattern.encode())
    if "*" in pattern or "?" in pattern:
        # OpenSSH's wildcards are "*" and "?" only: "[" is literal ("[host]:port"), not a class.
        wildcard = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        return re.fullmatch(wildcard, name, re.IGNORECASE | re.DOTALL) is not None
    return pattern.lower() == name.lower()


def read_known_hosts(path: Path, *, required: bool = False) -> list[KnownHostEntry]:
    """The key entries of one known_hosts file, in file order.

    A missing file has no entries. ``@revoked`` and ``@cert-authority`` lines are entries with
    their marker; lines paramiko cannot use (comments, other markers, key types it does not know,
    garbage) are skipped, as OpenSSH skips what it cannot parse. An unreadable file is an
    :class:`InputError` when the user named it (``required``), else a warning.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as exc:
        if required:
            raise InputError(str(path), f"cannot read known_hosts file: {exc.strerror}") from exc
        log.warning("ignoring unreadable known_hosts file %s: %s", path, exc.strerror)
        return []
    entries: list[KnownHostEntry] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        marker = ""
        if line.startswith("@"):
            marker, _, line = line[1:].partition(" ")
            if marker not in _MARKERS:
                continue
            line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            parsed = HostKeyEntry.from_line(line, number)
        except (InvalidHostKey, ValueError, binascii.Error) as exc:
            log.debug("%s:%d: unusable known_hosts line skipped (%s)", path, number, exc)
            continue
        if parsed is None or not parsed.valid:
            continue
        entries.append(KnownHostEntry(path, number, tuple(parsed.hostnames), parsed.key, marker))
    return entries


_MARKERS = ("revoked", "cert-authority")


class _ParsedFile:
    """A known_hosts file's entries, indexed by name for the lines that hold plain names only.

    A fleet verifies every router against one file holding an entry for each of them: a scan of
    every entry per connection grows with the square of the fleet (40,000 matches for 200
    routers). Lines with hashed names, wildcards or negations are still matched one by one.
    """

    def __init__(self, entries: list[KnownHostEntry]) -> None:
        self.by_name: dict[str, list[tuple[int, KnownHostEntry]]] = {}
        self.patterned: list[tuple[int, KnownHostEntry]] = []
        for position, entry in enumerate(entries):
            if any(p.startswith(("!", "|1|")) or "*" in p or "?" in p for p in entry.patterns):
                self.patterned.append((position, entry))
                continue
            for name in {p.lower() for p in entry.patterns}:
                self.by_name.setdefault(name, []).append((position, entry))

    def entries_for(self, name: str) -> list[KnownHostEntry]:
        """The entries for ``name``, in file order."""
        found = self.by_name.get(name.lower(), []) + [(i, e) for i, e in self.patterned if e.matches(name)]
        return [entry for _, entry in sorted(found, key=lambda item: item[0])]


# Parsing a line costs ~40 µs (paramiko decodes every key), so parsing the whole file at every
# connection cost 8 ms of CPU per router at 200 routers -- a third of the fleet runner's CPU, under
# one GIL, growing with the square of the fleet. The file is still read at every connection; its
# parsed entries are reused while its bytes are unchanged, so a key recorded by accept-new or an
# edit is seen at once. path -> (the bytes parsed, their entries), shared read-only by threads.
_parsed_cache: dict[Path, tuple[bytes, _ParsedFile]] = {}
_parsed_cache_lock = threading.Lock()
_parse_lock = threading.Lock()  # held while a file is parsed (see _parsed_known_hosts)


def _parsed_known_hosts(path: Path, *, required: bool) -> _ParsedFile:
    with _parsed_cache_lock:
        cached = _parsed_cache.get(path)
    if cached is not None and _unchanged(path, cached[0]):
        return cached[1]
    # One thread reads and parses, the others wait and take its result: a fleet's first
    # connections (one per worker) all miss the cache at once, and 50 copies and parses of a
    # 10,000-router file at a time held 1.3 GB -- the fleet's peak memory grew with routers x workers.
    with _parse_lock:
        with _parsed_cache_lock:
            cached = _parsed_cache.get(path)
        if cached is not None and _unchanged(path, cached[0]):
            return cached[1]
        try:
            content = path.read_bytes()
        except OSError:
            return _ParsedFile(read_known_hosts(path, required=required))  # reports missing/unreadable files its way
        # Stored under the bytes read *before* parsing: if the file changed in between, the next
        # read differs from them and the file is parsed again, so a newer file is never hidden.
        parsed = _ParsedFile(read_known_hosts(path, required=required))
        with _parsed_cache_lock:
            _parsed_cache[path] = (content, parsed)
    return parsed


def _unchanged(path: Path, content: bytes) -> bool:
    """Whether ``path`` still holds exactly ``content``, read a block at a time: a whole copy per
    connection (4 MB for 10,000 routers, one per worker at once) would cost what the cache saves."""
    view = memoryview(content)
    position = 0
    try:
        with path.open("rb") as file:
            while block := file.read(_COMPARE_BLOCK):
                if view[position : position + len(block)] != block:
                    return False
                position += len(block)
    except OSError:
        return False  # read again the usual way, which reports it
    return position == len(content)


_COMPARE_BLOCK = 1 << 16


class KnownHosts:
    """The known_hosts files consulted for a connection, and where new keys are recorded."""

    def __init__(
        self,
        files: Sequence[Path] | None = None,
        *,
        accept_new: bool = False,
        record_to: Path | None = None,
    ) -> None:
        """``files`` empty or None means the defaults; ``record_to`` defaults to the first file.

        A missing file simply has no entries (it is created when a key is recorded). A file that
        exists but cannot be read is an error when the user named it (``--known-hosts``), and is
        skipped with a warning when it is one of the defaults.
        """
        self.explicit = bool(files)
        self.files: tuple[Path, ...] = tuple(files) if files else default_known_hosts_files()
        self.accept_new = accept_new
        self.record_to = record_to if record_to is not None else self.files[0]

    def entries_for(self, host: str, port: int) -> list[KnownHostEntry]:
        """Every recorded key for ``host`` on ``port``, across all files, in order."""
        name = host_key_name(host, port)
        found: list[KnownHostEntry] = []
        for path in self.files:
            found.extend(_parsed_known_hosts(path, required=self.explicit).entries_for(name))
        return found

    def verify(self, host: str, port: int, key: paramiko.PKey) -> None:
        """Return when ``key`` is a known key of ``host:port``; otherwise record it or refuse.

        Raises :class:`HostKeyError` for an unknown key (unless ``accept_new``) and, always, for
        a changed one.
        """
        name = host_key_name(host, port)
        found = self.entries_for(host, port)
        revoked = next((e for e in found if e.marker == "revoked" and e.key == key), None)
        if revoked is not None:
            raise HostKeyError(
                f"host key of {host}:{port} is REVOKED ({describe_key(key)}, marked @revoked at "
                f"{revoked.location}): refusing to connect, whatever else the known_hosts files say"
            )
        entries = [e for e in found if not e.marker]
        authorities = [e for e in found if e.marker == "cert-authority"]
        if not entries and authorities:
            raise HostKeyError(
                f"{authorities[0].location} names a certificate authority (@cert-authority) for "
                f"{host}:{port}, but cmelive does not verify host certificates: add the router's own "
                f"key ({describe_key(key)}, once checked) to a known_hosts file"
            )
        if not entries:
            if not self.accept_new:
                raise HostKeyError(
                    f"host key of {host}:{port} is not known: the router offered {describe_key(key)}. "
                    f"Check that fingerprint with the router's administrator, then re-run with "
                    f"--accept-new-host-key to trust it and record it in {self.record_to}."
                )
            self.record(host, port, key)
            return
        if any(entry.key == key for entry in entries):
            log.debug("host key of %s matches %s", name, describe_key(key))
            return
        same_type = [e for e in entries if e.key.get_name() == key.get_name()]
        expected = same_type[0] if same_type else entries[0]
        kind = "HOST KEY HAS CHANGED" if same_type else "HOST KEY TYPE HAS CHANGED"
        raise HostKeyError(
            f"{kind} for {host}:{port}: expected {describe_key(expected.key)} "
            f"(recorded at {expected.location}), but the router offered {describe_key(key)}. "
            f"Someone may be intercepting the connection, or the router's key was regenerated. "
            f"Refusing to connect (--accept-new-host-key never overrides a changed key); if the "
            f"change is expected, remove line {expected.line} of {expected.path} and re-run."
        )

    def record(self, host: str, port: int, key: paramiko.PKey) -> None:
        """Append ``key`` for ``host:port`` to :attr:`record_to` (created private if needed)."""
        path = self.record_to
        name = host_key_name(host, port)
        line = f"{name} {key.get_name()} {key.get_base64()}\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            needs_newline = path.exists() and path.stat().st_size > 0 and not _ends_with_newline(path)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8", newline="\n") as handle:
                handle.write(("\n" if needs_newline else "") + line)
        except OSError as exc:
            raise HostKeyError(
                f"cannot record the host key of {host}:{port} in {path}: {exc.strerror}"
            ) from exc
        log.warning("permanently added %s (%s) to %s", name, describe_key(key), path)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


class VerifyingHostKeyPolicy(paramiko.MissingHostKeyPolicy):
    """Hands every server key to :meth:`KnownHosts.verify`.

    paramiko calls a policy only for keys missing from the client's own host-key tables;
    :class:`VerifyingSSHClient` keeps those tables empty so that this is every key.
    """

    def __init__(self, known_hosts: KnownHosts, host: str, port: int) -> None:
        self.known_hosts = known_hosts
        self.host = host
        self.port = port

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        # paramiko's ``hostname`` is already "[host]:port"-mangled; verify() wants the parts.
        self.known_hosts.verify(self.host, self.port, key)


class VerifyingSSHClient(paramiko.SSHClient):
    """A paramiko client that trusts exactly what :class:`KnownHosts` says.

    No host keys are loaded into paramiko's tables, so paramiko's own comparison (which looks at
    one key per type and raises a bare ``BadHostKeyException``) never runs; our policy sees every
    key and raises :class:`HostKeyError` with the full reason. netmiko lets that error through
    untouched (it only wraps socket, authentication and SSH errors), and the transport is closed
    before it leaves ``connect``, since netmiko does not clean up after errors it does not know.
    """

    def __init__(self, known_hosts: KnownHosts) -> None:
        super().__init__()
        self.known_hosts = known_hosts

    def connect(self, hostname: str, port: int = DEFAULT_SSH_PORT, *args: Any, **kwargs: Any) -> None:
        self.set_missing_host_key_policy(VerifyingHostKeyPolicy(self.known_hosts, hostname, port))
        if kwargs.get("sock") is None and not args:
            # Our own TCP connection, to turn Nagle off as OpenSSH does for interactive
            # sessions: with it, each short command waits out the peer's delayed ACK (~40 ms).
            # Errors are those paramiko's own connect raises (refused, timeout, name lookup).
            sock = socket.create_connection((hostname, port), timeout=kwargs.get("timeout"))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            kwargs["sock"] = sock
        try:
            super().connect(hostname, port, *args, **kwargs)
        except HostKeyError:
            self.close()
            raise

    def close(self) -> None:
        # Hang up at once: paramiko's close() leaves the TCP connection open until its reader
        # thread's next socket timeout, and the router holds a vty line for us until then.
        transport = self.get_transport()
        if transport is not None and isinstance(transport.sock, socket.socket):
            try:
                transport.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone
        super().close()
