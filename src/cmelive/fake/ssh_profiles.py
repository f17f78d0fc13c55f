"""SSH server profiles of the fake router: what real Cisco routers offer before anyone logs in.

Each profile is a router's identification string, its algorithm lists in its order of preference
and the size of its RSA host key, as the routers' ``show ip ssh`` and client debug logs show them:

========  ======================  =============================================================
profile   server id               offers
========  ======================  =============================================================
ios15     ``SSH-2.0-Cisco-1.25``  IOS 15.x (ISR G2): SHA-1 key exchanges only, ``ssh-rsa``
                                  (RSA 2048), AES-CTR, HMAC-SHA1
ios124    ``SSH-1.99-Cisco-1.25`` IOS 12.4: the above plus ``diffie-hellman-group1-sha1``, RSA
                                  1024, AES-CBC and 3DES, HMAC-SHA1 and HMAC-MD5
modern    ``SSH-2.0-Cisco-1.25``  IOS XE 16/17: ECDH and SHA-2 DH groups, ``rsa-sha2-512/256``
                                  and ``ssh-rsa`` (RSA 2048), AES-CTR and AES-GCM, HMAC-SHA2
========  ======================  =============================================================

A router without a profile keeps what the fake always served: everything paramiko offers
(``curve25519`` first), an RSA-2048 key and the ``SSH-2.0-Cisco-1.25`` identification.

The server side is paramiko: each list is set on the connection's Transport, in the profile's
order; group exchange gets its prime from a modulus pack made of RFC 3526's 2048-bit MODP group
(paramiko's server offers ``diffie-hellman-group-exchange-*`` only with one, and a built-in prime
needs no ``/etc/ssh/moduli``). Neither OpenSSH's strict-kex marker nor the ``server-sig-algs``
extension is offered by a Cisco profile: IOS does not send them.

paramiko is imported by the functions that serve connections only: the CLI names the profiles
in its options without loading the SSH stack.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import socket

    import paramiko
    from paramiko.primes import ModulusPack

#: What a Cisco router says first on an SSH connection, IOS 12.2 to IOS XE 17.
CISCO_SSH_2 = "SSH-2.0-Cisco-1.25"
#: The same with SSH version 1 still enabled (IOS without ``ip ssh version 2``).
CISCO_SSH_1_99 = "SSH-1.99-Cisco-1.25"

_GROUP_EXCHANGE = "diffie-hellman-group-exchange-"


class SshProfileName(StrEnum):
    """The profiles' names, as ``--ssh-profile`` and a faults file's ``ssh_profile`` spell them."""

    MODERN = "modern"
    IOS15 = "ios15"
    IOS124 = "ios124"


@dataclass(frozen=True)
class SshProfile:
    """One SSH server's offer: identification, algorithm lists (preferred first), host-key size."""

    name: str
    description: str
    server_version: str
    kex: tuple[str, ...]
    host_key_algorithms: tuple[str, ...]
    ciphers: tuple[str, ...]
    macs: tuple[str, ...]
    host_key_bits: int

    def server_transport(self, sock: socket.socket) -> paramiko.Transport:
        """A server-side Transport on ``sock`` that offers exactly this profile's lists."""
        import paramiko

        transport = paramiko.Transport(sock, server_sig_algs=False, strict_kex=False)
        transport.local_version = self.server_version
        options = transport.get_security_options()
        options.kex = self.kex
        options.key_types = self.host_key_algorithms
        options.ciphers = self.ciphers
        options.digests = self.macs
        if any(name.startswith(_GROUP_EXCHANGE) for name in self.kex):
            # An instance attribute: load_server_moduli() would set it for every Transport of the process.
            transport._modulus_pack = modulus_pack()  # type: ignore[attr-defined]  # absent from the stubs
        return transport


SHA1_KEX = ("diffie-hellman-group-exchange-sha1", "diffie-hellman-group14-sha1")

PROFILES: dict[str, SshProfile] = {
    profile.name: profile
    for profile in (
        SshProfile(
            name=SshProfileName.MODERN,
            description="IOS XE 16/17: ECDH and SHA-2 key exchanges, rsa-sha2 host keys, AES-CTR/GCM, HMAC-SHA2",
            server_version=CISCO_SSH_2,
            kex=(
                "ecdh-sha2-nistp256",
                "ecdh-sha2-nistp384",
                "ecdh-sha2-nistp521",
                "diffie-hellman-group14-sha256",
                "diffie-hellman-group16-sha512",
            ),
            host_key_algorithms=("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
            ciphers=("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"),
            macs=("hmac-sha2-256", "hmac-sha2-512"),
            host_key_bits=2048,
        ),
        SshProfile(
            name=SshProfileName.IOS15,
            description="IOS 15.x: SHA-1 key exchanges and ssh-rsa only, RSA 2048, AES-CTR, HMAC-SHA1",
            server_version=CISCO_SSH_2,
            kex=SHA1_KEX,
            host_key_algorithms=("ssh-rsa",),
            ciphers=("aes128-ctr", "aes192-ctr", "aes256-ctr"),
            macs=("hmac-sha1", "hmac-sha1-96"),
            host_key_bits=2048,
        ),
        SshProfile(
            name=SshProfileName.IOS124,
            description="IOS 12.4: SSH 1.99, SHA-1 key exchanges with group1, ssh-rsa, RSA 1024, CBC ciphers, MD5",
            server_version=CISCO_SSH_1_99,
            kex=(*SHA1_KEX, "diffie-hellman-group1-sha1"),
            host_key_algorithms=("ssh-rsa",),
            ciphers=("aes128-cbc", "3des-cbc", "aes192-cbc", "aes256-cbc"),
            macs=("hmac-sha1", "hmac-sha1-96", "hmac-md5", "hmac-md5-96"),
            host_key_bits=1024,
        ),
    )
}
PROFILE_NAMES: tuple[str, ...] = tuple(str(name) for name in SshProfileName)


def get_profile(name: str) -> SshProfile:
    """The profile called ``name``; ``ValueError`` naming the choices when there is none."""
    try:
        return PROFILES[str(name)]
    except KeyError:
        raise ValueError(f"unknown SSH profile {name!r} (choose from {', '.join(PROFILE_NAMES)})") from None


_lock = threading.Lock()
_host_keys: dict[int, paramiko.RSAKey] = {}
_modulus_pack: ModulusPack | None = None


def shared_host_key(bits: int) -> paramiko.RSAKey:
    """One RSA host key of ``bits`` bits per process, made on first use.

    Generating one costs ~80 ms at 2048 bits; routers of a fleet (and of a test run) share them.
    Each router still has its own ``[host]:port`` known_hosts entry.
    """
    import paramiko

    with _lock:
        key = _host_keys.get(bits)
        if key is None:
            key = _host_keys[bits] = paramiko.RSAKey.generate(bits)
        return key


def modulus_pack() -> ModulusPack:
    """A modulus pack holding RFC 3526's 2048-bit MODP group (the prime of ``diffie-hellman-group14``)."""
    global _modulus_pack
    from paramiko.kex_group14 import KexGroup14
    from paramiko.primes import ModulusPack

    with _lock:
        if _modulus_pack is None:
            pack = ModulusPack()
            pack.pack = {KexGroup14.P.bit_length(): [(KexGroup14.G, KexGroup14.P)]}
            _modulus_pack = pack
        return _modulus_pack
