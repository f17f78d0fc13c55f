"""The bundled example snapshots: complete, parseable, self-consistent, and safe to publish."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from cmelive.commands import (
    AUDIT_COMMANDS,
    CAPF_SESSIONS,
    CAPF_SUMMARY,
    CTL_CLIENT,
    EPHONE_REGISTERED,
    PKI_CERTIFICATES,
    RSA_KEYS,
    RUNNING_CONFIG,
    SHOW_VERSION,
    TELEPHONY_SERVICE,
    CommandStatus,
    file_name,
)
from cmelive.errors import UsageError
from cmelive.examples import EXAMPLES, example_dir
from cmelive.facts import device_facts
from cmelive.parsing.running_config import parse_running_config
from cmelive.parsing.tables import parse_table
from cmelive.snapshot import META_FILE, read_snapshot
from cmelive.state import DeviceState

#: What each example's router rejects, by design: the IP Voice image of insecure-cme has no
#: CTL/CAPF, and plain-ios has no CME at all.
REJECTED: dict[str, set[str]] = {
    "secure-cme": set(),
    "insecure-cme": {CTL_CLIENT, CAPF_SUMMARY, CAPF_SESSIONS},
    "plain-ios": {EPHONE_REGISTERED, CTL_CLIENT, CAPF_SUMMARY, CAPF_SESSIONS, TELEPHONY_SERVICE},
}
HOSTNAMES = {"secure-cme": "cme-branch-secure", "insecure-cme": "cme-branch-legacy", "plain-ios": "rtr-branch-plain"}
DOCUMENTATION_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")


def test_the_examples_are_the_three_routers() -> None:
    assert EXAMPLES == ("secure-cme", "insecure-cme", "plain-ios")
    assert set(REJECTED) == set(EXAMPLES)


def test_unknown_example_name_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown example 'nope'"):
        example_dir("nope")


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_holds_every_audit_command_and_meta(name: str) -> None:
    directory = example_dir(name)
    assert directory.is_dir()
    files = {p.name for p in directory.iterdir()}
    assert files == {file_name(c) for c in AUDIT_COMMANDS} | {META_FILE}
    meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    assert meta["hostname"] == HOSTNAMES[name]
    assert meta["masked"] is False  # the demo needs the (fake) secrets, e.g. to compare GUI and enable passwords
    assert [c["command"] for c in meta["commands"]] == list(AUDIT_COMMANDS)
    for entry in meta["commands"]:
        assert entry["file"] == file_name(entry["command"])
        assert 0.1 < entry["duration_s"] < 5.0
        expected = "rejected" if entry["command"] in REJECTED[name] else "ok"
        assert entry["status"] == expected, entry


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_reads_as_a_snapshot_with_the_designed_statuses(name: str) -> None:
    snapshot = read_snapshot(example_dir(name))
    assert snapshot.hostname == HOSTNAMES[name]
    assert set(snapshot.outputs) == set(AUDIT_COMMANDS)
    rejected = {c for c, out in snapshot.outputs.items() if out.status == CommandStatus.REJECTED}
    assert rejected == REJECTED[name]
    for command in rejected:
        assert snapshot.get(command).error == "% Invalid input detected at '^' marker."
    assert all(snapshot.get(c).status == CommandStatus.OK for c in set(AUDIT_COMMANDS) - rejected)


@pytest.mark.parametrize("name", EXAMPLES)
def test_running_config_parses_complete(name: str) -> None:
    text = read_snapshot(example_dir(name)).get(RUNNING_CONFIG).text
    config = parse_running_config(text)
    assert config.complete, config.problems
    assert not config.indentation_lost
    assert config.hostname == HOSTNAMES[name]
    assert text.rstrip("\n").endswith("\nend")
    declared = re.search(r"^Current configuration : (\d+) bytes$", text, re.MULTILINE)
    assert declared is not None
    body = text[text.index("\n!\n") + 1 :]
    assert int(declared.group(1)) == len(body.encode("utf-8"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_show_version_parses_with_ntc_templates(name: str) -> None:
    rows = parse_table(SHOW_VERSION, read_snapshot(example_dir(name)).get(SHOW_VERSION).text)
    assert len(rows) == 1
    assert rows[0]["hostname"] == HOSTNAMES[name]
    assert rows[0]["version"] in {"15.9(3)M7", "15.1(4)M12a", "15.7(3)M8"}
    assert rows[0]["hardware"] and rows[0]["serial"] and rows[0]["uptime"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_collected_table_output_parses(name: str) -> None:
    snapshot = read_snapshot(example_dir(name))
    for command in AUDIT_COMMANDS:
        out = snapshot.get(command)
        if command == RUNNING_CONFIG or not out.usable:
            continue
        parse_table(command, out.text)  # raises ParseError when a template rejects a line


def _public_addresses(directory: Path) -> set[str]:
    found: set[str] = set()
    for path in directory.iterdir():
        for text in IPV4.findall(path.read_text(encoding="utf-8")):
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                continue
            if address.is_global and not address.is_multicast:
                found.add(text)
    return found


@pytest.mark.parametrize("name", EXAMPLES)
def test_only_private_and_documentation_addresses(name: str) -> None:
    # Documentation ranges (RFC 5737) are not "global" for ipaddress; anything global is a real address.
    assert _public_addresses(example_dir(name)) == set()
    text = read_snapshot(example_dir(name)).get(RUNNING_CONFIG).text
    wan = re.search(r"description WAN uplink to ISP\n ip address (\S+)", text)
    assert wan is not None
    assert any(ipaddress.ip_address(wan.group(1)) in net for net in DOCUMENTATION_NETS)


TYPE7_KEY = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"
#: The insecure example's SNMP communities are well-known on purpose (CME-SNMP-01 fails on them).
WELL_KNOWN_ON_PURPOSE = {"insecure-cme": {"public", "private"}}


def _decode_type7(encoded: str) -> str:
    offset, data = int(encoded[:2]), bytes.fromhex(encoded[2:])
    return "".join(chr(b ^ ord(TYPE7_KEY[(offset + i) % len(TYPE7_KEY)])) for i, b in enumerate(data))


@pytest.mark.parametrize("name", EXAMPLES)
def test_secrets_are_obviously_fake(name: str) -> None:
    snapshot = read_snapshot(example_dir(name))
    text = snapshot.get(RUNNING_CONFIG).text + snapshot.get(TELEPHONY_SERVICE).text
    clear = re.findall(r"\b(?:password|community)(?: 0)? (?!7 |1 )(\S+)", text)
    reversible = re.findall(r"\b(?:password|key) [71] ([0-9A-F]{4,})\b", text)
    assert clear
    for value in clear + [_decode_type7(v) for v in reversible]:
        if value in WELL_KNOWN_ON_PURPOSE.get(name, set()):
            continue
        assert value.lower().startswith("ex4mple"), value


def _key_bits(rsa_output: str) -> dict[str, int]:
    bits: dict[str, int] = {}
    for block in rsa_output.split("Key name: ")[1:]:
        name = block.split("\n", 1)[0].strip()
        hexdata = "".join(re.findall(r"^\s+([0-9A-F ]+?)\s*$", block.split("Key Data:")[1], re.MULTILINE))
        key = load_der_public_key(bytes.fromhex(hexdata.replace(" ", "")))
        assert isinstance(key, rsa.RSAPublicKey)
        bits[name] = key.key_size
    return bits


def test_rsa_keys_are_real_keys_of_the_designed_sizes() -> None:
    secure = _key_bits(read_snapshot(example_dir("secure-cme")).get(RSA_KEYS).text)
    assert secure == {
        "cme-branch-secure.branch12.example.com": 2048,
        "cme-ca": 2048,
        "cme-server": 2048,
        "capf-server": 2048,
        "tftp-server": 2048,
        "sast1": 2048,
        "sast2": 2048,
    }
    insecure = _key_bits(read_snapshot(example_dir("insecure-cme")).get(RSA_KEYS).text)
    assert insecure == {"cme-branch-legacy.branch7.example.com": 1024}
    plain = _key_bits(read_snapshot(example_dir("plain-ios")).get(RSA_KEYS).text)
    assert plain == {"rtr-branch-plain.branch3.example.com": 2048, "TP-self-signed-3543213389": 2048}


def _config_certificates(config_text: str) -> dict[tuple[str, str], x509.Certificate]:
    """(chain, serial) -> certificate, decoded from the running-config's certificate chains."""
    found: dict[tuple[str, str], x509.Certificate] = {}
    chain = ""
    serial = ""
    hexdata: list[str] = []
    for line in config_text.splitlines():
        if line.startswith("crypto pki certificate chain "):
            chain = line.split()[-1]
        elif line.startswith(" certificate "):
            serial = line.split()[-1]
            hexdata = []
        elif line.strip() == "quit":
            found[(chain, serial)] = x509.load_der_x509_certificate(bytes.fromhex("".join(hexdata)))
        elif line.startswith("  "):
            hexdata.append(line.replace(" ", ""))
    return found


def test_secure_certificates_match_between_config_keys_and_show_output() -> None:
    snapshot = read_snapshot(example_dir("secure-cme"))
    certs = _config_certificates(snapshot.get(RUNNING_CONFIG).text)
    shown = {r["associated_trustpoints"]: r for r in parse_table(PKI_CERTIFICATES, snapshot.get(PKI_CERTIFICATES).text)}
    ca = certs[("cme-ca", "01")]
    keys = snapshot.get(RSA_KEYS).text
    for number, trustpoint in enumerate(("cme-server", "capf-server", "tftp-server", "sast1", "sast2"), start=2):
        cert = certs[(trustpoint, f"{number:02X}")]
        assert certs[(trustpoint, "01")] == ca
        assert cert.issuer == ca.subject
        cert.verify_directly_issued_by(ca)  # raises unless cme-ca really signed it
        assert shown[trustpoint]["serial_number"] == f"{number:02X}"
        assert shown[trustpoint]["issuer_cn"] == "cme-ca"
        end = cert.not_valid_after_utc
        assert end > dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
        assert f"{end.year}" in shown[trustpoint]["end_date"]
        public_key = cert.public_key()
        assert isinstance(public_key, rsa.RSAPublicKey)
        assert _key_bits(keys)[trustpoint] == public_key.key_size
    ca_row = next(r for r in shown.values() if r["certificate_type"] == "CA Certificate")
    assert ca_row["associated_trustpoints"].split() == ["sast2", "sast1", "tftp-server", "capf-server", "cme-server", "cme-ca"]


def test_plain_ios_https_certificate_expired_on_2020_01_01() -> None:
    snapshot = read_snapshot(example_dir("plain-ios"))
    cert = _config_certificates(snapshot.get(RUNNING_CONFIG).text)[("TP-self-signed-3543213389", "01")]
    assert cert.not_valid_after_utc == dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    (row,) = parse_table(PKI_CERTIFICATES, snapshot.get(PKI_CERTIFICATES).text)
    assert row["end_date"] == "00:00:00 UTC Jan 1 2020"


def test_insecure_phones_include_an_unknown_mac_and_a_remote_address() -> None:
    snapshot = read_snapshot(example_dir("insecure-cme"))
    config = parse_running_config(snapshot.get(RUNNING_CONFIG).text)
    configured = {
        line.command.split()[1].upper()
        for section in config.sections(r"ephone \d+$")
        for line in section.find(r"mac-address ")
    }
    registered = {r["mac"].upper(): r["ip"] for r in parse_table(EPHONE_REGISTERED, snapshot.get(EPHONE_REGISTERED).text)}
    assert set(registered) - configured == {"0019.AA4C.7E21"}
    assert registered["0023.04A1.9C3E"] == "203.0.113.45"


EXPECTED_FACTS: dict[str, dict[str, object]] = {
    "secure-cme": {"model": "CISCO2911/K9", "ios_version": "15.9(3)M7", "cme_version": "12.6",
                   "ephones_configured": 5, "ephones_registered": 5},
    "insecure-cme": {"model": "2811", "ios_version": "15.1(4)M12a", "cme_version": "8.6",
                     "ephones_configured": 5, "ephones_registered": 5},
    "plain-ios": {"model": "C891F-K9", "ios_version": "15.7(3)M8", "cme_version": None,
                  "ephones_configured": 0, "ephones_registered": None},
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_device_facts_of_each_example(name: str) -> None:
    facts = device_facts(DeviceState(read_snapshot(example_dir(name))))
    assert {key: facts[key] for key in EXPECTED_FACTS[name]} == EXPECTED_FACTS[name]
    assert facts["hostname"] == HOSTNAMES[name]
    assert facts["running_config_complete"] is True
