"""Record what the SSH session showed at login: the server's identification string, the algorithm
lists of its KEXINIT, what was negotiated, and its host key (:class:`~cmelive.ssh_session.SshSession`).

paramiko keeps the server's identification and what was agreed on the Transport, but reads the
server's offered lists only to choose from them (it logs them at DEBUG and drops them).
:class:`RecordingTransport` keeps a copy of them: it parses the same KEXINIT packet, a copy of it,
before paramiko does, so nothing of paramiko's own negotiation changes. netmiko builds its client
through ``_build_ssh_client``; :class:`RecordingSSHClient` is the verifying client of
:mod:`cmelive.collect.hostkeys` with this transport.
"""

from __future__ import annotations

import logging
from typing import Any

import paramiko

from cmelive.collect.hostkeys import DEFAULT_SSH_PORT, VerifyingSSHClient
from cmelive.ssh_session import SshAlgorithms, SshNegotiated, SshSession, name_list, printable

log = logging.getLogger(__name__)

# Entries of the kex name-list that announce protocol extensions (RFC 8308, OpenSSH's strict kex),
# not key exchanges.
_KEX_MARKERS = ("ext-info-", "kex-strict-")


def _merged(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return first + tuple(name for name in second if name not in first)


def offered_algorithms(kexinit: bytes) -> SshAlgorithms:
    """The lists of a KEXINIT packet body (after its message number), as RFC 4253 7.1 lays it out:
    a 16-byte cookie, then kex, host key, ciphers c2s/s2c, MACs c2s/s2c, ... as name-lists."""
    message = paramiko.Message(kexinit)
    message.get_bytes(16)
    kex, host_key, cipher_c2s, cipher_s2c, mac_c2s, mac_s2c = (name_list(message.get_list()) for _ in range(6))
    return SshAlgorithms(
        kex=tuple(name for name in kex if not name.startswith(_KEX_MARKERS)),
        host_key=host_key,
        ciphers=_merged(cipher_c2s, cipher_s2c),
        macs=_merged(mac_c2s, mac_s2c),
    )


class RecordingTransport(paramiko.Transport):
    """A client Transport that keeps the server's first KEXINIT lists in :attr:`offered`."""

    offered: SshAlgorithms | None = None
    negotiated_kex: str | None = None

    def _parse_kex_init(self, m: paramiko.Message) -> None:
        first = self.offered is None
        if first:
            try:
                self.offered = offered_algorithms(m.asbytes())
            except Exception as exc:  # never let bookkeeping break a login; paramiko judges the packet
                log.debug("could not record the server's algorithm lists: %s", exc)
        super()._parse_kex_init(m)  # type: ignore[misc]  # private in paramiko, absent from its stubs
        if first and self.offered is not None:
            # As a client paramiko takes the first of its own preferences that the server offers.
            self.negotiated_kex = next((k for k in self.preferred_kex if k in self.offered.kex), None)


class RecordingSSHClient(VerifyingSSHClient):
    """:class:`VerifyingSSHClient` over a :class:`RecordingTransport`, kept in :attr:`recorded`.

    Kept also when the connection fails: netmiko closes a client whose negotiation failed (which
    drops paramiko's reference to the transport) before the caller can ask what the router offered.
    """

    recorded: RecordingTransport | None = None

    def connect(self, hostname: str, port: int = DEFAULT_SSH_PORT, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("transport_factory", RecordingTransport)
        try:
            super().connect(hostname, port, *args, **kwargs)
        finally:
            transport = self.get_transport()
            if isinstance(transport, RecordingTransport):
                self.recorded = transport


def _recorded(client: paramiko.SSHClient | None) -> RecordingTransport | None:
    return client.recorded if isinstance(client, RecordingSSHClient) else None


def offer_note(client: paramiko.SSHClient | None) -> str:
    """``; the router offers kex: ...`` when ``client``'s negotiation got the server's lists, else "".

    For the error of a failed negotiation: it says what the router offered that we could not accept.
    """
    transport = _recorded(client)
    if transport is None or transport.offered is None:
        return ""
    return f"; the router offers {transport.offered.describe()}"


def ssh_session_of(client: paramiko.SSHClient | None) -> SshSession | None:
    """What the session of ``client`` (connected) showed; None when it was not recorded."""
    transport = _recorded(client)
    if transport is None or transport.offered is None:
        return None
    key = transport.host_key
    negotiated = None
    if transport.negotiated_kex and transport.host_key_type and transport.local_cipher and transport.local_mac:
        negotiated = SshNegotiated(
            kex=transport.negotiated_kex,
            host_key=transport.host_key_type,
            cipher=transport.local_cipher,
            mac=transport.local_mac,
        )
    bits = key.get_bits() if key is not None else 0
    return SshSession(
        server_version=printable(transport.remote_version, 255),
        offered=transport.offered,
        negotiated=negotiated,
        host_key_type=key.get_name() if key is not None else "unknown",
        host_key_bits=bits or None,
    )
