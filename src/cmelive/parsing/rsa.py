"""RSA key size from the ``Key Data:`` hex that ``show crypto key mypubkey rsa`` prints.

IOS prints the public key as hex DER, grouped in 8-digit words over several lines. The bytes are a
SubjectPublicKeyInfo (``SEQUENCE { AlgorithmIdentifier, BIT STRING { RSAPublicKey } }``) or, on
some releases, the bare PKCS#1 ``RSAPublicKey`` (``SEQUENCE { INTEGER modulus, INTEGER exponent }``).
The key size is the bit length of the modulus, which is what the router calls "modulus" when the
key is generated (``crypto key generate rsa modulus 2048``).
"""

from __future__ import annotations

from collections.abc import Iterable

_SEQUENCE = 0x30
_INTEGER = 0x02
_BIT_STRING = 0x03
_OBJECT_IDENTIFIER = 0x06
# 1.2.840.113549.1.1.1 (rsaEncryption), DER-encoded content octets
_RSA_ENCRYPTION_OID = bytes.fromhex("2A864886F70D010101")


class _DerError(ValueError):
    pass


def _read_tlv(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """One DER element at ``offset``: (tag, content, offset of the next element)."""
    if offset + 2 > len(data):
        raise _DerError("truncated element")
    tag = data[offset]
    length = data[offset + 1]
    position = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or position + count > len(data):
            raise _DerError("bad length")
        length = int.from_bytes(data[position : position + count], "big")
        position += count
    end = position + length
    if end > len(data):
        raise _DerError("element runs past the data")
    return tag, data[position:end], end


def _modulus_of_rsa_public_key(der: bytes) -> bytes:
    tag, body, end = _read_tlv(der, 0)
    if tag != _SEQUENCE or end != len(der):
        raise _DerError("RSAPublicKey is not one SEQUENCE")
    tag, modulus, after = _read_tlv(body, 0)
    if tag != _INTEGER:
        raise _DerError("modulus is not an INTEGER")
    tag, _exponent, after = _read_tlv(body, after)
    if tag != _INTEGER or after != len(body):
        raise _DerError("exponent missing or trailing data")
    return modulus


def _modulus(der: bytes) -> bytes:
    tag, body, end = _read_tlv(der, 0)
    if tag != _SEQUENCE or end != len(der):
        raise _DerError("not one SEQUENCE")
    first_tag, algorithm, after = _read_tlv(body, 0)
    if first_tag == _INTEGER:  # bare PKCS#1 RSAPublicKey
        return _modulus_of_rsa_public_key(der)
    if first_tag != _SEQUENCE:
        raise _DerError("no AlgorithmIdentifier")
    oid_tag, oid, _ = _read_tlv(algorithm, 0)
    if oid_tag != _OBJECT_IDENTIFIER or oid != _RSA_ENCRYPTION_OID:
        raise _DerError("not an rsaEncryption key")
    tag, bits, after = _read_tlv(body, after)
    if tag != _BIT_STRING or after != len(body) or not bits or bits[0] != 0:
        raise _DerError("subjectPublicKey is not a whole-byte BIT STRING")
    return _modulus_of_rsa_public_key(bits[1:])


def rsa_key_bits(key_data_lines: Iterable[str]) -> int | None:
    """Modulus size in bits of the key whose ``Key Data:`` hex lines are given, or None.

    None means the lines are not a complete, well-formed RSA public key (cut off, elided with
    ``...``, not hex): the size is then unknown, never guessed.
    """
    hex_digits = "".join("".join(line.split()) for line in key_data_lines)
    if not hex_digits or len(hex_digits) % 2:
        return None
    try:
        der = bytes.fromhex(hex_digits)
        modulus = _modulus(der)
    except ValueError:  # _DerError is a ValueError, and so is bad hex
        return None
    value = int.from_bytes(modulus, "big", signed=False)
    if modulus and modulus[0] & 0x80:
        return None  # a negative INTEGER cannot be a modulus
    return value.bit_length() or None
