"""Cisco password formats against published vectors and independent implementations.

Published vectors (password -> stored form):

* type 8, Cisco Learning Network "Cisco Routers Password Types" (``username yasser algorithm-type sha256
  secret cisco``), as quoted and reproduced in the Stack Overflow answer 73867774: "cisco".
* types 8 and 9, hashcat's example hashes for modes 9200 and 9300 (password "hashcat"); hashcat's
  forum thread 3803 documents the parameters (20000 rounds; N=16384, r=1, p=1; salt used as-is;
  alphabet ``./0-9A-Za-z``).
* type 4, hashcat mode 5700's example ("hashcat") and tobtu.com's Cisco type 4 article ("password").
* type 5, hashcat mode 500's md5crypt example ("hashcat"); further md5-crypt values come from
  ``openssl passwd -1`` (an independent implementation) when it is installed.
* type 7, the "cisco" strings found in countless published lab configs (``0822455D0A16``, ...).
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
import subprocess
from typing import Any

import pytest

from cmelive.passwords import (
    CISCO_BASE64_ALPHABET,
    NotVerifiable,
    PasswordFormatError,
    StoredPassword,
    cisco_base64,
    cisco_type4,
    cisco_type8,
    cisco_type9,
    decode_type7,
    encode_type7,
    md5_crypt,
    same_password,
    stored_password,
)

PUBLISHED_TYPE8 = [
    ("cisco", "$8$dsYGNam3K1SIJO$7nv/35M/qr6t.dVc7UY9zrJDWRVqncHub1PE9UlMQFs"),
    ("cisco", "$8$mTj4RZG8N9ZDOk$elY/asfm8kD3iDmkBe3hD2r4xcA/0oWS5V3os.O91u."),
    ("hashcat", "$8$TnGX/fE4KGHOVU$pEhnEvxrvaynpi8j4f.EMHr6M.FzU8xnZnBr/tJdFWk"),
]
PUBLISHED_TYPE9 = [("hashcat", "$9$2MJBozw/9R3UsU$2lFhcKvpghcyw8deP25GOfyZaagyUOGBymkryvOdfo6")]
PUBLISHED_TYPE4 = [
    ("hashcat", "2btjjy78REtmYkkW0csHUbJZOstRXoWdX1mGrmmfeHI"),
    ("password", "LcV6aBcc/53FoCJjXQMd7rBUDEpeevrK8V5jQVoJEhU"),
]
PUBLISHED_TYPE5 = [("hashcat", "$1$28772684$iEwNOgGugqO9.bIz5sk8k/")]
PUBLISHED_TYPE7 = ["0822455D0A16", "094F471A1A0A", "02050D480809", "070C285F4D06", "1511021F0725"]


def _salt(stored: str) -> str:
    return stored.split("$")[2]


# --- independent re-derivations (no code shared with cmelive.passwords) ---------------------------


def _base64_by_hand(data: bytes) -> str:
    """Base64 over ./0-9A-Za-z, written bit by bit: 6 bits per character, big-endian, no padding."""
    bits = "".join(f"{byte:08b}" for byte in data)
    bits += "0" * (-len(bits) % 6)
    return "".join(CISCO_BASE64_ALPHABET[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def _pbkdf2_sha256_by_hand(password: bytes, salt: bytes, rounds: int) -> bytes:
    """RFC 8018 PBKDF2 with HMAC-SHA256, one 32-byte block, from hmac alone."""
    block = hmac.new(password, salt + (1).to_bytes(4, "big"), hashlib.sha256).digest()
    result = bytearray(block)
    for _ in range(rounds - 1):
        block = hmac.new(password, block, hashlib.sha256).digest()
        for index, byte in enumerate(block):
            result[index] ^= byte
    return bytes(result)


# --- published vectors --------------------------------------------------------------------------


@pytest.mark.parametrize(("password", "stored"), PUBLISHED_TYPE8)
def test_type8_published(password: str, stored: str) -> None:
    assert cisco_type8(password, _salt(stored)) == stored
    assert StoredPassword(8, stored).matches(password)
    assert not StoredPassword(8, stored).matches(password + "x")


@pytest.mark.parametrize(("password", "stored"), PUBLISHED_TYPE9)
def test_type9_published(password: str, stored: str) -> None:
    assert cisco_type9(password, _salt(stored)) == stored
    assert StoredPassword(9, stored).matches(password)
    assert not StoredPassword(9, stored).matches(password.upper())


@pytest.mark.parametrize(("password", "stored"), PUBLISHED_TYPE4)
def test_type4_published(password: str, stored: str) -> None:
    assert cisco_type4(password) == stored
    assert StoredPassword(4, stored).matches(password)


@pytest.mark.parametrize(("password", "stored"), PUBLISHED_TYPE5)
def test_type5_published(password: str, stored: str) -> None:
    assert md5_crypt(password, _salt(stored)) == stored
    assert StoredPassword(5, stored).matches(password)
    assert not StoredPassword(5, stored).matches("Hashcat")


@pytest.mark.parametrize("encoded", PUBLISHED_TYPE7)
def test_type7_published(encoded: str) -> None:
    assert decode_type7(encoded) == "cisco"
    assert StoredPassword(7, encoded).matches("cisco")


# --- cross-checks against independent implementations -------------------------------------------

SAMPLES = [("cisco", "aBcD"), ("", "SALTsalt"), ("p@ss word!", "x/.9"), ("a" * 40, "12345678"),
           ("sixteen-chars-00", "Zz"), ("t\u00e9l\u00e9phone", "salt")]


@pytest.mark.parametrize(("password", "salt"), SAMPLES)
def test_md5_crypt_agrees_with_openssl(password: str, salt: str) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    out = subprocess.run([openssl, "passwd", "-1", "-salt", salt, password], capture_output=True, text=True,
                         check=True, timeout=30)
    assert md5_crypt(password, salt) == out.stdout.strip()


def test_md5_crypt_uses_at_most_eight_salt_characters() -> None:
    assert md5_crypt("cisco", "abcdefghijk") == md5_crypt("cisco", "abcdefgh")
    assert md5_crypt("cisco", "abcdefghijk").startswith("$1$abcdefgh$")


@pytest.mark.parametrize(("password", "salt"), [("cisco", "mTj4RZG8N9ZDOk"), ("Secr3t!", "AbCdEfGhIjKlMn")])
def test_type8_equals_a_clean_room_pbkdf2(password: str, salt: str) -> None:
    derived = _pbkdf2_sha256_by_hand(password.encode(), salt.encode(), 20000)
    assert cisco_type8(password, salt) == f"$8${salt}${_base64_by_hand(derived)}"


def test_type9_equals_a_clean_room_scrypt_derivation() -> None:
    salt = "qwertyuiop1234"
    derived = hashlib.scrypt(b"Secr3t!", salt=salt.encode(), n=2**14, r=1, p=1, dklen=32)
    assert cisco_type9("Secr3t!", salt) == f"$9${salt}${_base64_by_hand(derived)}"


def test_cisco_base64_matches_the_bitwise_encoding() -> None:
    for data in (b"", b"\x00", b"\xff\xfe", bytes(range(32)), hashlib.sha256(b"x").digest()):
        assert cisco_base64(data) == _base64_by_hand(data)
    assert len(cisco_base64(bytes(32))) == 43


# --- type 7 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", range(16))
def test_type7_round_trip_at_every_offset(offset: int) -> None:
    plain = "Sup3r-S3cret!x~ "
    encoded = encode_type7(plain, offset)
    assert encoded[:2] == f"{offset:02d}"
    assert decode_type7(encoded) == plain
    assert decode_type7(encoded.lower()) == plain


@pytest.mark.parametrize("bad", ["", "0", "08224", "0822455D0A1G", "99AA", "xx0822"])
def test_type7_rejects_malformed(bad: str) -> None:
    with pytest.raises(PasswordFormatError):
        decode_type7(bad)


def test_type7_encoder_refuses_offsets_ios_never_uses() -> None:
    with pytest.raises(ValueError):
        encode_type7("cisco", 16)


# --- stored values and comparisons --------------------------------------------------------------


def test_stored_password_reads_the_type_digit_or_recognises_hashes() -> None:
    assert stored_password("7", "0822455D0A16") == StoredPassword(7, "0822455D0A16")
    assert stored_password(None, "cisco") == StoredPassword(0, "cisco")
    assert stored_password(None, PUBLISHED_TYPE9[0][1]).type == 9
    assert stored_password(None, PUBLISHED_TYPE5[0][1]).type == 5
    with pytest.raises(PasswordFormatError):
        stored_password("x", "cisco")


def test_malformed_hash_is_an_error_not_a_mismatch() -> None:
    with pytest.raises(PasswordFormatError):
        StoredPassword(9, "$8$dsYGNam3K1SIJO$7nv/35M/qr6t.dVc7UY9zrJDWRVqncHub1PE9UlMQFs").matches("cisco")
    with pytest.raises(PasswordFormatError):
        StoredPassword(5, "not-a-hash").matches("cisco")
    with pytest.raises(PasswordFormatError):
        StoredPassword(4, "short").matches("cisco")


def test_type6_and_unknown_types_are_not_verifiable() -> None:
    with pytest.raises(NotVerifiable):
        StoredPassword(6, "ZZZ").matches("cisco")
    with pytest.raises(NotVerifiable):
        StoredPassword(6, "ZZZ").plain_text()


def test_same_password_checks_a_reversible_side_against_a_hash() -> None:
    enable_secret9 = StoredPassword(9, PUBLISHED_TYPE9[0][1])
    enable_secret8 = StoredPassword(8, PUBLISHED_TYPE8[0][1])
    assert same_password(StoredPassword(0, "hashcat"), enable_secret9)
    assert same_password(enable_secret9, StoredPassword(0, "hashcat"))
    assert not same_password(StoredPassword(0, "hashcat1"), enable_secret9)
    assert same_password(StoredPassword(7, "0822455D0A16"), enable_secret8)
    assert same_password(StoredPassword(0, "cisco"), StoredPassword(7, "094F471A1A0A"))
    assert not same_password(StoredPassword(0, "Cisco"), StoredPassword(7, "094F471A1A0A"))


def test_two_one_way_hashes_are_only_equal_when_identical() -> None:
    first = StoredPassword(8, PUBLISHED_TYPE8[0][1])
    second = StoredPassword(8, PUBLISHED_TYPE8[1][1])  # same password, another salt
    assert same_password(first, StoredPassword(8, first.value))
    with pytest.raises(NotVerifiable):
        same_password(first, second)
    with pytest.raises(NotVerifiable):
        same_password(StoredPassword(5, PUBLISHED_TYPE5[0][1]), StoredPassword(9, PUBLISHED_TYPE9[0][1]))


# --- derivations made once per process (issue 13) ------------------------------------------------


def test_a_type9_verification_is_derived_once_per_process_and_keeps_no_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cmelive import passwords
    from cmelive.audit import audit_snapshot
    from cmelive.examples import example_dir
    from cmelive.snapshot import read_snapshot

    derivations: list[bytes] = []
    real_scrypt = hashlib.scrypt

    def counted(password: bytes, **kwargs: Any) -> bytes:
        derivations.append(password)
        return real_scrypt(password, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    monkeypatch.setattr(passwords, "_DERIVATIONS", type(passwords._DERIVATIONS)())
    snapshot = read_snapshot(example_dir("secure-cme"))  # its GUI password against its type 9 enable secret
    first = audit_snapshot(snapshot)
    made = len(derivations)
    assert made >= 1
    again = audit_snapshot(snapshot)
    assert len(derivations) == made  # the second router with the same secret and password costs no scrypt
    verdicts = [(r.check, r.status, r.message) for r in first.results if r.check == "CME-GUI-06"]
    assert verdicts == [(r.check, r.status, r.message) for r in again.results if r.check == "CME-GUI-06"]
    assert verdicts[0][1] == "pass"
    # The cache holds hashes, and the candidates only as digests under a key drawn at start-up.
    kept = repr(list(passwords._DERIVATIONS.items()))
    assert all(candidate.decode() not in kept for candidate in derivations)
    # A different candidate against the same stored secret is derived, not taken for the cached one.
    password, stored = PUBLISHED_TYPE9[0]
    assert StoredPassword(9, stored).matches(password)
    assert not StoredPassword(9, stored).matches(password + "x")
    assert StoredPassword(9, stored).matches(password)
    assert len(derivations) == made + 2
