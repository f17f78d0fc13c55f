"""What the SSH session itself showed when cmelive logged in: the server's identification string,
the algorithms it offered and those negotiated, and its host key.

A router tells this to every client before anyone logs in, and no show command prints all of it
(``show ip ssh`` lists the configured algorithms on some releases only), so it is recorded at
login (:mod:`cmelive.collect.sshinfo`) and kept in the snapshot's ``meta.json`` under ``"ssh"``:
replay judges it as live did. Captures without it (older snapshots, hand-made ones) have none,
and the checks that read it say ``unknown``.

Everything here came from the network before authentication: names are kept as printable ASCII
(RFC 4253 allows nothing else) and bounded in length and number, whatever the server sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cmelive.errors import InputError

#: The evidence source of what the session showed: the ``requires`` entry of a check that judges
#: it, and the ``command`` of its evidence lines (which have no line number).
SSH_SESSION = "ssh session"

# RFC 4253: the identification string is at most 255 characters; an algorithm name at most 64.
_MAX_VERSION = 255
_MAX_NAME = 64
_MAX_NAMES = 64


def printable(text: str, limit: int) -> str:
    """``text`` as printable ASCII (anything else becomes ``?``), at most ``limit`` characters."""
    return "".join(ch if " " <= ch <= "~" else "?" for ch in text[:limit])


def name_list(names: object) -> tuple[str, ...]:
    """An algorithm name-list as sent by a peer, cleaned: printable, bounded, no empty names."""
    if not isinstance(names, (list, tuple)):
        return ()
    cleaned = (printable(str(name), _MAX_NAME) for name in names[:_MAX_NAMES])
    return tuple(name for name in cleaned if name)


@dataclass(frozen=True)
class SshAlgorithms:
    """The algorithms the server offered, in its order of preference.

    ``ciphers`` and ``macs`` join the two directions (client to server first); a router offers the
    same lists both ways. ``kex`` holds key exchanges only: the ``ext-info-*`` and ``kex-strict-*``
    markers that share the list are protocol extensions, not key exchanges, and are left out.
    """

    kex: tuple[str, ...] = ()
    host_key: tuple[str, ...] = ()
    ciphers: tuple[str, ...] = ()
    macs: tuple[str, ...] = ()

    def describe(self) -> str:
        """The four lists on one line, ``kex: a, b; host key: c; ciphers: ...; MACs: ...``."""
        parts = (("kex", self.kex), ("host key", self.host_key), ("ciphers", self.ciphers), ("MACs", self.macs))
        return "; ".join(f"{label}: {', '.join(names) or 'none'}" for label, names in parts)


@dataclass(frozen=True)
class SshNegotiated:
    """What client and server agreed on (``cipher`` and ``mac``: client to server)."""

    kex: str
    host_key: str
    cipher: str
    mac: str


@dataclass(frozen=True)
class SshSession:
    """The SSH facts of one login. ``host_key_bits`` is None when the key's size is unknown."""

    server_version: str
    offered: SshAlgorithms
    negotiated: SshNegotiated | None
    host_key_type: str
    host_key_bits: int | None

    @property
    def host_key_text(self) -> str:
        """``ssh-rsa, 2048 bits`` (``ssh-rsa, size unknown``)."""
        size = f"{self.host_key_bits} bits" if self.host_key_bits is not None else "size unknown"
        return f"{self.host_key_type}, {size}"

    @property
    def negotiated_text(self) -> str:
        """``kex ..., host key ..., cipher ..., MAC ...`` (or ``not recorded``)."""
        chosen = self.negotiated
        if chosen is None:
            return "not recorded"
        return f"kex {chosen.kex}, host key {chosen.host_key}, cipher {chosen.cipher}, MAC {chosen.mac}"

    @property
    def offered_text(self) -> str:
        """The four offered lists on one line (:meth:`SshAlgorithms.describe`)."""
        return self.offered.describe()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, in ``meta.json`` and in the JSON report (``devices[].ssh``)."""
        chosen = self.negotiated
        return {
            "server_version": self.server_version,
            "offered": {
                "kex": list(self.offered.kex),
                "host_key": list(self.offered.host_key),
                "ciphers": list(self.offered.ciphers),
                "macs": list(self.offered.macs),
            },
            "negotiated": (
                {"kex": chosen.kex, "host_key": chosen.host_key, "cipher": chosen.cipher, "mac": chosen.mac}
                if chosen is not None
                else None
            ),
            "host_key": {"type": self.host_key_type, "bits": self.host_key_bits},
        }

    @classmethod
    def from_dict(cls, data: object, where: str) -> SshSession:
        """Read :meth:`to_dict`'s form back; :class:`InputError` naming ``where`` when it is malformed."""
        if not isinstance(data, dict):
            raise InputError(where, '"ssh" must be an object')
        version = data.get("server_version")
        offered = data.get("offered")
        host_key = data.get("host_key")
        if not isinstance(version, str) or not version:
            raise InputError(where, '"ssh": "server_version" must be a non-empty string')
        if not isinstance(offered, dict):
            raise InputError(where, '"ssh": "offered" must be an object of name lists')
        lists: dict[str, tuple[str, ...]] = {}
        for key in ("kex", "host_key", "ciphers", "macs"):
            value = offered.get(key, [])
            if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
                raise InputError(where, f'"ssh": "offered"."{key}" must be a list of algorithm names')
            lists[key] = name_list(value)
        if not isinstance(host_key, dict) or not isinstance(host_key.get("type"), str):
            raise InputError(where, '"ssh": "host_key" must be an object with a "type"')
        bits = host_key.get("bits")
        if bits is not None and (isinstance(bits, bool) or not isinstance(bits, int) or bits <= 0):
            raise InputError(where, '"ssh": "host_key"."bits" must be a positive whole number or null')
        return cls(
            server_version=printable(version, _MAX_VERSION),
            offered=SshAlgorithms(**lists),
            negotiated=_negotiated(data.get("negotiated"), where),
            host_key_type=printable(host_key["type"], _MAX_NAME),
            host_key_bits=bits,
        )


def _negotiated(data: object, where: str) -> SshNegotiated | None:
    if data is None:
        return None
    fields = ("kex", "host_key", "cipher", "mac")
    if not isinstance(data, dict) or not all(isinstance(data.get(key), str) for key in fields):
        raise InputError(where, '"ssh": "negotiated" must be null or an object of kex, host_key, cipher and mac names')
    return SshNegotiated(*(printable(data[key], _MAX_NAME) for key in fields))
