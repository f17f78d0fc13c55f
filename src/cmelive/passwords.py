"""Cisco IOS password and secret formats: decode the reversible ones, verify the hashed ones.

A running-config stores a password in one of these forms (the digit IOS prints before the value):

* type 0: plain text;
* type 7: the Vigenère-style XOR obfuscation of ``service password-encryption`` (reversible);
* type 4: unsalted SHA-256 (the broken predecessor of type 8);
* type 5: FreeBSD md5-crypt, ``$1$salt$hash``;
* type 8: PBKDF2-HMAC-SHA256, ``$8$salt$hash``, 20000 iterations;
* type 9: scrypt, ``$9$salt$hash``, N=16384, r=1, p=1;
* type 6: AES with the router's master key (``password encryption aes``): not verifiable offline.

Types 4, 8 and 9 print the digest in Cisco's base64 alphabet (``./0-9A-Za-z``, no padding), and
types 8 and 9 feed the 14-character salt to the KDF as-is (not base64-decoded).

Everything here is built on :mod:`hashlib` only: ``crypt`` left the standard library in Python 3.13,
so md5-crypt is implemented below.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

#: The key IOS XORs type 7 passwords with; the two leading decimal digits pick the start offset.
TYPE7_KEY = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"
#: Cisco's base64 alphabet (that of crypt(3)), used by types 4, 5, 8 and 9.
CISCO_BASE64_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_STANDARD_BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_TO_CISCO_BASE64 = str.maketrans(_STANDARD_BASE64_ALPHABET, CISCO_BASE64_ALPHABET)

TYPE8_ITERATIONS = 20000
TYPE9_N, TYPE9_R, TYPE9_P = 16384, 1, 1
_DIGEST_BYTES = 32

_TYPE7 = re.compile(r"^(\d\d)((?:[0-9A-Fa-f]{2})*)$")
_MODULAR_CRYPT = re.compile(r"^\$(1|8|9)\$([^$]*)\$([./0-9A-Za-z]+)$")
_TYPE4 = re.compile(r"^[./0-9A-Za-z]{43}$")
# The "$N$" prefix of each hashed type: type 5 is md5-crypt, hence "$1$".
_PREFIX_TYPE = {"1": 5, "8": 8, "9": 9}


class PasswordFormatError(ValueError):
    """A stored password is not well-formed for the type it claims."""


class NotVerifiable(Exception):
    """The stored form cannot be checked offline (type 6, an unknown type, a masked value)."""


def decode_type7(encoded: str) -> str:
    """The plain text of a type 7 string such as ``0822455D0A16``."""
    match = _TYPE7.match(encoded.strip())
    if not match:
        raise PasswordFormatError("a type 7 password is two decimal digits followed by hex pairs")
    offset = int(match.group(1))
    if offset >= len(TYPE7_KEY):
        raise PasswordFormatError(f"type 7 offset {offset} is past the end of the key")
    data = bytes.fromhex(match.group(2))
    return "".join(
        chr(byte ^ ord(TYPE7_KEY[(offset + index) % len(TYPE7_KEY)])) for index, byte in enumerate(data)
    )


def encode_type7(plain: str, offset: int = 0) -> str:
    """The type 7 form of ``plain`` (what ``service password-encryption`` would print)."""
    if not 0 <= offset <= 15:  # IOS itself only picks 0..15
        raise ValueError("type 7 offsets run from 0 to 15")
    return f"{offset:02d}" + "".join(
        f"{ord(char) ^ ord(TYPE7_KEY[(offset + index) % len(TYPE7_KEY)]):02X}" for index, char in enumerate(plain)
    )


def cisco_base64(data: bytes) -> str:
    """Base64 in Cisco's alphabet, without padding (43 characters for a 32-byte digest)."""
    return base64.b64encode(data).decode("ascii").translate(_TO_CISCO_BASE64).rstrip("=")


def _to64(value: int, count: int) -> str:
    chars = []
    for _ in range(count):
        chars.append(CISCO_BASE64_ALPHABET[value & 0x3F])
        value >>= 6
    return "".join(chars)


def md5_crypt(password: str, salt: str) -> str:
    """FreeBSD md5-crypt (``$1$salt$hash``), the algorithm behind Cisco type 5 secrets."""
    secret = password.encode("utf-8")
    salt_bytes = salt.encode("ascii")[:8]
    magic = b"$1$"
    context = hashlib.md5(secret + magic + salt_bytes)
    alternate = hashlib.md5(secret + salt_bytes + secret).digest()
    remaining = len(secret)
    while remaining > 0:
        context.update(alternate[: min(16, remaining)])
        remaining -= 16
    length = len(secret)
    while length:
        # One of md5-crypt's historical quirks: a NUL byte for a set bit, the first character otherwise.
        context.update(b"\0" if length & 1 else secret[:1])
        length >>= 1
    digest = context.digest()
    for round_number in range(1000):
        step = hashlib.md5()
        step.update(secret if round_number & 1 else digest)
        if round_number % 3:
            step.update(salt_bytes)
        if round_number % 7:
            step.update(secret)
        step.update(digest if round_number & 1 else secret)
        digest = step.digest()
    encoded = "".join(
        _to64((digest[a] << 16) | (digest[b] << 8) | digest[c], 4)
        for a, b, c in ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5))
    )
    encoded += _to64(digest[11], 2)
    return f"$1${salt_bytes.decode('ascii')}${encoded}"


def cisco_type4(password: str) -> str:
    """Type 4: one unsalted SHA-256 of the password, Cisco base64."""
    return cisco_base64(hashlib.sha256(password.encode("utf-8")).digest())


def cisco_type8(password: str, salt: str) -> str:
    """Type 8: ``$8$salt$`` + PBKDF2-HMAC-SHA256(password, salt as typed, 20000 rounds)."""
    derived = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("ascii"), TYPE8_ITERATIONS,
                                  _DIGEST_BYTES)
    return f"$8${salt}${cisco_base64(derived)}"


def cisco_type9(password: str, salt: str) -> str:
    """Type 9: ``$9$salt$`` + scrypt(password, salt as typed, N=16384, r=1, p=1)."""
    derived = hashlib.scrypt(
        password.encode("utf-8"), salt=salt.encode("ascii"), n=TYPE9_N, r=TYPE9_R, p=TYPE9_P, dklen=_DIGEST_BYTES
    )
    return f"$9${salt}${cisco_base64(derived)}"


#: Salted derivations already made in this process: (type, salt, keyed digest of the candidate) ->
#: the hash it gives. A type 9 derivation costs ~5 ms of CPU (a third of a small router's audit),
#: and a fleet asks the same question again and again: routers built from one template carry the
#: same enable secret (same salt, same hash) and the same GUI password, and a long-lived process
#: judges a router on every run. The candidate is kept only as a BLAKE2 digest under a key drawn
#: at start-up, so the cache holds no password and nothing that can be tested offline; what it
#: gives back is the full recomputed hash, compared with the stored one as before.
_DERIVATIONS: OrderedDict[tuple[int, str, bytes], str] = OrderedDict()
_DERIVATIONS_KEPT = 1024
_DERIVATIONS_LOCK = threading.Lock()
_DERIVATIONS_KEY = os.urandom(32)


def _derive(kind: int, candidate: str, salt: str) -> str:
    """``candidate`` hashed as a type ``kind`` (5, 8 or 9) secret with ``salt``: made once per process."""
    key = (kind, salt, hashlib.blake2b(candidate.encode("utf-8"), key=_DERIVATIONS_KEY, digest_size=32).digest())
    with _DERIVATIONS_LOCK:
        found = _DERIVATIONS.get(key)
        if found is not None:
            _DERIVATIONS.move_to_end(key)
            return found
    # Derived outside the lock: hashlib's KDFs release the GIL, and other threads' audits go on.
    derived = {5: md5_crypt, 8: cisco_type8, 9: cisco_type9}[kind](candidate, salt)
    with _DERIVATIONS_LOCK:
        _DERIVATIONS[key] = derived
        if len(_DERIVATIONS) > _DERIVATIONS_KEPT:
            _DERIVATIONS.popitem(last=False)
    return derived


@dataclass(frozen=True)
class StoredPassword:
    """A password as a config stores it: its type digit and the value printed after it."""

    type: int
    value: str

    @property
    def reversible(self) -> bool:
        """True when the plain text can be recovered (types 0 and 7)."""
        return self.type in (0, 7)

    def plain_text(self) -> str:
        """The plain text of a type 0 or type 7 password."""
        if self.type == 0:
            return self.value
        if self.type == 7:
            return decode_type7(self.value)
        raise NotVerifiable(f"a type {self.type} value cannot be reversed")

    def matches(self, candidate: str) -> bool:
        """True when ``candidate`` is the password this stored value was made from."""
        if self.type in (0, 7):
            return hmac.compare_digest(self.plain_text().encode("utf-8"), candidate.encode("utf-8"))
        if self.type == 4:
            if not _TYPE4.match(self.value):
                raise PasswordFormatError("a type 4 secret is 43 characters of Cisco base64")
            return hmac.compare_digest(cisco_type4(candidate), self.value)
        if self.type in (5, 8, 9):
            match = _MODULAR_CRYPT.match(self.value)
            if not match or _PREFIX_TYPE[match.group(1)] != self.type:
                prefix = "1" if self.type == 5 else str(self.type)
                raise PasswordFormatError(f"a type {self.type} secret looks like ${prefix}$salt$hash")
            salt = match.group(2)
            return hmac.compare_digest(_derive(self.type, candidate, salt), self.value)
        raise NotVerifiable(f"type {self.type} cannot be verified offline")


def stored_password(type_token: str | None, value: str) -> StoredPassword:
    """Build a :class:`StoredPassword` from the words of a config line.

    ``type_token`` is the digit IOS printed before the value, or None when there was none; a bare
    value is then plain text, unless it is recognisably a ``$1$``/``$8$``/``$9$`` hash.
    """
    if type_token is not None:
        if not type_token.isdigit():
            raise PasswordFormatError(f"{type_token!r} is not a password type")
        return StoredPassword(int(type_token), value)
    match = _MODULAR_CRYPT.match(value)
    if match:
        return StoredPassword(_PREFIX_TYPE[match.group(1)], value)
    return StoredPassword(0, value)


def same_password(first: StoredPassword, second: StoredPassword) -> bool:
    """True when both stored values come from the same password.

    Works whenever one side is reversible: its plain text is checked against the other side (by
    comparison, or by hashing it with the other side's salt). Two one-way hashes can only be
    compared when they are byte-identical (same type, salt and digest); otherwise
    :class:`NotVerifiable` is raised, because saying "different" would be a guess.
    """
    if first.reversible:
        return second.matches(first.plain_text())
    if second.reversible:
        return first.matches(second.plain_text())
    if first.type == second.type and first.value == second.value and first.type in (4, 5, 8, 9):
        return True
    raise NotVerifiable(f"a type {first.type} hash and a type {second.type} hash cannot be compared")
