"""cmelive.pki: IOS dates and zones, certificates with their line numbers, CME trustpoint roles;
and the secure-SCCP checks on real published outputs from the shared corpus."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cmelive.audit import run_check
from cmelive.checks import get_check
from cmelive.checks.tls import secure_capable
from cmelive.parsing.running_config import RunningConfig, parse_running_config
from cmelive.parsing.tables import parse_table
from cmelive.pki import (
    ROLE_CAPF,
    ROLE_CME,
    ROLE_HTTPS,
    ROLE_SAST1,
    ROLE_SAST2,
    ROLE_TFTP,
    certificates,
    certificates_of,
    https_trustpoint,
    parse_collected_at,
    parse_ios_time,
    secure_sccp_trustpoints,
    uses_secure_sccp,
    zone_offsets,
)
from cmelive.snapshot import read_snapshot
from cmelive.state import DeviceState

from .conftest import REPO

UTC = timezone.utc
GOLDEN_CERTS = REPO / "tests" / "parsers" / "show_crypto_pki_certificates" / "cme_ios_ca_and_self_signed.raw"


def _config(body: str) -> RunningConfig:
    return parse_running_config(body.strip("\n") + "\nend\n")


# --- dates and zones -------------------------------------------------------------------------------


def test_utc_and_gmt_dates_are_absolute() -> None:
    parsed = parse_ios_time("10:25:13 UTC Mar 4 2019")
    assert parsed.when == datetime(2019, 3, 4, 10, 25, 13, tzinfo=UTC)
    assert parsed.zone_known
    assert parse_ios_time("00:00:00 GMT Jan 1 2027").when == datetime(2027, 1, 1, tzinfo=UTC)


def test_zone_defined_by_clock_timezone_and_summer_time() -> None:
    offsets = zone_offsets(_config("clock timezone PST -8 0\nclock summer-time PDT recurring\n"))
    assert offsets == {"PST": timedelta(hours=-8), "PDT": timedelta(hours=-7)}
    winter = parse_ios_time("17:35:22 PST Mar 4 2025", offsets)
    assert winter.when == datetime(2025, 3, 5, 1, 35, 22, tzinfo=UTC) and winter.zone_known
    summer = parse_ios_time("09:00:00 PDT Jun 11 2025", offsets)
    assert summer.when == datetime(2025, 6, 11, 16, 0, 0, tzinfo=UTC)


def test_half_hour_zone_and_explicit_summer_offset() -> None:
    offsets = zone_offsets(
        _config("clock timezone NST -3 30\nclock summer-time NDT recurring 2 Sun Mar 2:00 1 Sun Nov 2:00 30\n")
    )
    assert offsets["NST"] == -timedelta(hours=3, minutes=30)
    assert offsets["NDT"] == -timedelta(hours=3)


def test_unknown_zone_is_read_as_utc_and_flagged() -> None:
    # "CST" is China and US Central alike: without the router's own definition we do not guess.
    parsed = parse_ios_time("11:20:31 CST Jun 20 2025")
    assert parsed.when == datetime(2025, 6, 20, 11, 20, 31, tzinfo=UTC)
    assert not parsed.zone_known and parsed.zone == "CST"


def test_weekday_and_fractions_are_accepted_garbage_is_not() -> None:
    assert parse_ios_time("08:30:00.123 UTC Tue Feb 11 2026").when == datetime(2026, 2, 11, 8, 30, tzinfo=UTC)
    for text in ("", "never", "10:25 UTC Mar 4 2019", "10:25:13 UTC Foo 4 2019"):
        with pytest.raises(ValueError):
            parse_ios_time(text)


def test_collected_at_is_the_reference_time() -> None:
    assert parse_collected_at("2025-06-01T18:00:00Z") == datetime(2025, 6, 1, 18, tzinfo=UTC)
    assert parse_collected_at("2025-06-01T20:00:00+02:00") == datetime(2025, 6, 1, 18, tzinfo=UTC)
    assert parse_collected_at("2025-06-01T18:00:00") == datetime(2025, 6, 1, 18, tzinfo=UTC)
    assert parse_collected_at("yesterday") is None


# --- certificates --------------------------------------------------------------------------------


def test_certificates_carry_their_output_line_numbers() -> None:
    text = GOLDEN_CERTS.read_text(encoding="utf-8")
    found = certificates(parse_table("show crypto pki certificates", text), text)
    assert [(c.kind, c.header_line, c.end_line, c.trustpoints_line) for c in found] == [
        ("Certificate", 2, 13, 14),
        ("CA Certificate", 17, 27, 28),
        ("Router Self-Signed Certificate", 31, 42, 43),
    ]
    lines = text.split("\n")
    assert lines[13 - 1].strip() == "end   date: 10:25:13 UTC Mar 3 2024"
    router, ca, self_signed = found
    assert router.is_identity and not router.is_self_signed and router.available
    assert ca.is_ca and not ca.is_identity
    assert self_signed.is_identity and self_signed.is_self_signed
    assert [c.serial for c in certificates_of(found, "cme-sccp")] == ["02", "01"]
    assert ca.trustpoints == ("cme-sccp", "cme-tftp", "cme-capf", "cme-hq-ca")


def test_certificate_lines_are_left_out_rather_than_guessed() -> None:
    text = GOLDEN_CERTS.read_text(encoding="utf-8")
    records = parse_table("show crypto pki certificates", text)
    found = certificates(records[:2], text)  # fewer records than blocks: no pairing can be trusted
    assert all(c.header_line is None and c.end_line is None for c in found)


# --- trustpoints in the config -------------------------------------------------------------------

SECURE = """
crypto pki trustpoint cme-tls
 enrollment url http://10.1.1.1:80
!
telephony-service
 secure-signaling trustpoint cme-tls
 tftp-server-credentials trustpoint cme-tftp
!
ctl-client
 server capf 10.1.1.1 trustpoint cme-capf
 server cme 10.1.1.100 username cisco password 1 <masked>
 server cme 10.1.1.1 trustpoint cme-tls
 sast1 trustpoint cme-sast1
 sast2 trustpoint cme-sast2
!
capf-server
 trustpoint-label cme-capf
!
ip http secure-server
ip http secure-trustpoint cme-tls
"""


def test_roles_come_from_each_line_that_names_a_trustpoint() -> None:
    config = _config(SECURE)
    uses = [(u.role, u.name, u.where) for u in secure_sccp_trustpoints(config)]
    assert uses == [
        (ROLE_CME, "cme-tls", "telephony-service"),
        (ROLE_TFTP, "cme-tftp", "telephony-service"),
        (ROLE_CAPF, "cme-capf", "capf-server"),
        (ROLE_CAPF, "cme-capf", "ctl-client"),
        (ROLE_CME, "cme-tls", "ctl-client"),  # the remote CME with a username has no trustpoint
        (ROLE_SAST1, "cme-sast1", "ctl-client"),
        (ROLE_SAST2, "cme-sast2", "ctl-client"),
    ]
    assert uses_secure_sccp(config)
    https = https_trustpoint(config)
    assert https is not None and (https.role, https.name) == (ROLE_HTTPS, "cme-tls")


def test_https_trustpoint_falls_back_to_the_self_signed_one_and_needs_the_secure_server() -> None:
    automatic = _config("crypto pki trustpoint TP-self-signed-1520641120\n enrollment selfsigned\n!\nip http secure-server\n")
    found = https_trustpoint(automatic)
    assert found is not None and found.name == "TP-self-signed-1520641120"
    off = _config("crypto pki trustpoint TP-self-signed-1\n enrollment selfsigned\n!\nno ip http secure-server\n")
    assert https_trustpoint(off) is None


def test_plain_cme_does_not_use_secure_sccp() -> None:
    assert not uses_secure_sccp(_config("telephony-service\n max-ephones 24\n ip source-address 10.1.1.1 port 2000\n"))


@pytest.mark.parametrize(
    ("model", "capable"),
    [
        ("7965", True),
        ("7941", True),
        ("7941GE", True),
        ("7911", True),
        ("7975", True),
        ("8945", True),
        ("9971", True),
        ("Telecaster 7960", False),
        ("Telecaster 7940", False),
        ("CIPC", False),
        ("SCCP Gateway (AN)", False),
        ("7912", False),
        ("6941", False),
    ],
)
def test_secure_capable_models(model: str, capable: bool) -> None:
    assert secure_capable(model) is capable


# --- the checks on published outputs -------------------------------------------------------------


def _corpus_snapshot(corpus_dir: Path, tmp_path: Path, files: dict[str, str]) -> DeviceState:
    for source, command_file in files.items():
        shutil.copy(corpus_dir / source, tmp_path / command_file)
    return DeviceState(read_snapshot(tmp_path))


def test_ctl_client_example_listing_sast_1_twice_fails(corpus_dir: Path, tmp_path: Path) -> None:
    # The command reference prints "SAST 1" twice (a typo for SAST 2, probably): the router output as
    # published does not show two distinct signers, and the check does not guess that it has them.
    state = _corpus_snapshot(corpus_dir, tmp_path, {
        "running_config_partial__ciscodoc-cmeauth-ctl-capf-example.txt": "show_running-config.txt",
        "show_ctl-client__ciscodoc-cmecr-s2.txt": "show_ctl-client.txt",
    })
    spec = get_check("CME-TLS-04")
    assert spec is not None
    result = run_check(spec, state)
    assert str(result.status) == "fail"
    assert "does not show two distinct SAST signers (SAST 1: cmeserver, SAST 1: sast2)" in result.message
    assert [(e.command, e.line) for e in result.evidence][-2:] == [("show ctl-client", 4), ("show ctl-client", 5)]
    assert result.remediation == ("ctl-client", " regenerate")


def test_capf_example_with_null_string_fails_on_the_lines_shown(corpus_dir: Path, tmp_path: Path) -> None:
    # The config is damaged in publication (TABs, elisions): a failure shown by lines that are there
    # still stands, and the ephones that already carry capf-auth-str are not told to add one.
    state = _corpus_snapshot(corpus_dir, tmp_path, {
        "running_config_partial__ciscodoc-cmeauth-ctl-capf-example.txt": "show_running-config.txt",
        "show_capf-server_summary__ciscodoc-cmecr-s2.txt": "show_capf-server_summary.txt",
    })
    spec = get_check("CME-TLS-05")
    assert spec is not None
    result = run_check(spec, state)
    assert str(result.status) == "fail"
    assert result.message.startswith("capf-server uses auth-mode null-string (line 20)")
    assert result.remediation[:2] == ("capf-server", " auth-mode auth-string")
    assert result.remediation.count(" capf-auth-str <auth-string-of-4-to-10-digits>") == 1
    assert not any("<masked>" not in e.text and "password" in e.text for e in result.evidence)
