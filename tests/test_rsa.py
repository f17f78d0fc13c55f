"""rsa_key_bits: the key size from the hex DER that show crypto key mypubkey rsa prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cmelive.parsing.rsa import rsa_key_bits
from cmelive.parsing.tables import parse_table

from .conftest import REPO

RAW_DIR = REPO / "tests" / "parsers" / "show_crypto_key_mypubkey_rsa"
COMMAND = "show crypto key mypubkey rsa"


def ios_key_data(der: bytes) -> list[str]:
    """The DER as IOS prints it: upper-case 8-digit words, eight to a line, two-space indent."""
    digits = der.hex().upper()
    words = [digits[i : i + 8] for i in range(0, len(digits), 8)]
    return ["  " + " ".join(words[i : i + 8]) + " " for i in range(0, len(words), 8)]


def oracle_bits(key_data: list[str]) -> int:
    """What the cryptography package says the key size is (an independent DER parser)."""
    key = serialization.load_der_public_key(bytes.fromhex("".join("".join(key_data).split())))
    assert isinstance(key, rsa.RSAPublicKey)
    return key.key_size


@pytest.mark.parametrize("bits", [1024, 2048])
def test_generated_keys_as_ios_prints_them(bits: int) -> None:
    public = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert rsa_key_bits(ios_key_data(der)) == bits


def test_bare_pkcs1_public_key() -> None:
    public = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    assert rsa_key_bits(ios_key_data(der)) == 1024


@pytest.mark.parametrize("raw", sorted(RAW_DIR.glob("*.raw")), ids=lambda p: p.stem)
def test_every_parsed_key_agrees_with_an_independent_der_parser(raw: Path) -> None:
    records = parse_table(COMMAND, raw.read_text(encoding="utf-8"))
    assert records
    for record in records:
        bits = rsa_key_bits(record["key_data"])
        assert bits == oracle_bits(record["key_data"]), record["key_name"]
        if record["modulus_bits"]:  # where the router prints the size itself, it must agree
            assert bits == int(record["modulus_bits"]), record["key_name"]


def test_corpus_keys(corpus_dir: Path) -> None:
    sizes = {}
    for path in sorted(corpus_dir.glob("show_crypto_key_mypubkey_rsa__*.txt")):
        for record in parse_table(COMMAND, path.read_text(encoding="utf-8")):
            sizes[record["key_name"]] = rsa_key_bits(record["key_data"])
            assert sizes[record["key_name"]] == oracle_bits(record["key_data"])
    assert sizes == {
        "HTTPS_SS_CERT_KEYPAIR.server": 640,
        "TP-self-signed-1331515841": 2048,
        "TP-self-signed-1331515841.server": 2176,
        "responder": 2048,
        "test": 4096,
    }


def test_a_cut_off_or_elided_key_has_no_size() -> None:
    public = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    lines = ios_key_data(public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert rsa_key_bits(lines[:-1]) is None  # last line lost
    assert rsa_key_bits(lines[:2] + ["  ...."] + lines[3:]) is None  # elided in a publication
    assert rsa_key_bits(lines + ["  00"]) is None  # trailing garbage
    assert rsa_key_bits([]) is None
    assert rsa_key_bits(["  3082"]) is None
    assert rsa_key_bits(["  ABC"]) is None  # odd number of hex digits


def test_a_non_rsa_key_has_no_size() -> None:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert rsa_key_bits(ios_key_data(der)) is None
