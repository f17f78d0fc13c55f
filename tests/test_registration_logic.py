"""The helpers behind CME-REG-*, CME-NAT-01 and CME-LOG-*: MACs, phone lines, trusted phone subnets,
first-match ACL evaluation for SCCP, ACL insertion, logging levels and call-history settings."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import Path

import pytest

from cmelive.audit import run_check
from cmelive.checks import get_check
from cmelive.checks.logging_checks import buffered_logging, has_voice, level_of, syslog_hosts
from cmelive.checks.registration import (
    AddressSpec,
    Match,
    PhoneNetworks,
    PortSpec,
    RegisteredPhone,
    cme_version,
    configured_ephones,
    dotted_mac,
    free_extended_acl_number,
    insert_before,
    locate_phones,
    normalise_mac,
    parse_ipv4,
    parse_rule,
    phone_networks,
    registered_phones,
    sccp_verdict,
    source_address,
    split_by_network,
    telephony_service,
)
from cmelive.commands import EPHONE_REGISTERED, RUNNING_CONFIG, TELEPHONY_SERVICE, CommandStatus
from cmelive.parsing.running_config import RunningConfig, parse_running_config
from cmelive.policy import Policy
from cmelive.snapshot import CommandOutput, Snapshot
from cmelive.state import DeviceState
from cmelive.topology import Acl, find_acl

from .conftest import REPO

GOLDEN = REPO / "tests" / "parsers" / "show_ephone_registered"


def config(*lines: str) -> RunningConfig:
    return parse_running_config("\n".join(["!", *lines, "!", "end", ""]))


def state_of(outputs: dict[str, str], policy: Policy | None = None) -> DeviceState:
    snapshot = Snapshot(
        host="test",
        outputs={command: CommandOutput(command, CommandStatus.OK, text) for command, text in outputs.items()},
    )
    return DeviceState(snapshot, policy)


def acl_of(*lines: str, name: str = "EDGE") -> Acl:
    found = find_acl(config(*lines), name)
    assert found is not None
    return found


# --- MACs and addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["0014.1C48.E71A", "0014.1c48.e71a", "00141C48E71A", "00-14-1C-48-E7-1A", "00:14:1c:48:e7:1a", "SEP00141C48E71A"],
)
def test_normalise_mac_accepts_the_forms_ios_and_phones_use(text: str) -> None:
    assert normalise_mac(text) == "00141C48E71A"
    assert dotted_mac("00141C48E71A") == "0014.1C48.E71A"


@pytest.mark.parametrize("text", ["0014.1C48.E71", "0014.1C48.E71A.00", "GGGG.1C48.E71A", ""])
def test_normalise_mac_rejects_what_is_not_a_mac(text: str) -> None:
    assert normalise_mac(text) is None


def test_parse_ipv4_reads_leading_zeros_as_old_cme_prints_them() -> None:
    assert parse_ipv4("10.0.0.012") == IPv4Address("10.0.0.12")
    assert parse_ipv4("0.0.0.0") == IPv4Address("0.0.0.0")
    assert parse_ipv4("10.0.0.256") is None
    assert parse_ipv4("10.0.0") is None
    assert parse_ipv4("host") is None


def test_source_address_reads_port_secondary_and_match_mode() -> None:
    service = telephony_service(
        config("telephony-service", " ip source-address 10.1.1.1 port 2001 secondary 10.1.1.100 strict-match")
    )
    assert service is not None
    source = source_address(service)
    assert source is not None
    assert (source.address, source.port, source.strict) == (IPv4Address("10.1.1.1"), 2001, True)
    default = source_address(telephony_service(config("telephony-service", " ip source-address 10.1.1.1")) or service)
    assert default is not None and (default.port, default.strict) == (2000, False)


def test_configured_ephones_normalise_macs_and_keep_stanzas_without_one() -> None:
    found = configured_ephones(
        config("ephone  1", " mac-address 0014.1c48.e71a", " button  1:1", "!", "ephone  2", " button  1:2")
    )
    assert [(e.number, e.mac) for e in found] == [("1", "00141C48E71A"), ("2", None)]


# --- where a phone appears in show ephone registered -----------------------------------------------


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        # CME 3.x: no blank line between phones, no "[n]" after the ephone id.
        ("cme3x_telecaster_dual_line_call", {("1", "00141C48E71A"): (2, 4), ("2", "00141C48F0B3"): (7, 9),
                                              ("3", "000DBDB71C02"): (12, 14)}),
        # CME 8+: "ephone-12[11]", "IP:a.b.c.d *".
        ("cme8x_whisper_ccw_eight_channels", {("1", "00235E1840A1"): (2, 4), ("2", "002497162C5E"): (14, 16),
                                               ("12", "001AA11B0F33"): (23, 25)}),
        # Dual stack and IPv6 only: the address line starts with "IPv6:".
        ("ipv6_dual_stack_unregistered_deceased", {("1", "001646E0796A"): (2, 4), ("2", "001319D1F8A2"): (10, 12),
                                                    ("3", "00070E8110F0"): (18, 20), ("4", "003094C3E251"): (22, 24)}),
    ],
)  # fmt: skip
def test_locate_phones_finds_header_and_address_lines(
    sample: str, expected: dict[tuple[str, str], tuple[int, int]]
) -> None:
    text = (GOLDEN / f"{sample}.raw").read_text(encoding="utf-8")
    located = locate_phones(text)
    got = {key: (lines.header[0], lines.address[0] if lines.address else 0) for key, lines in located.items()}
    assert got == expected
    lines = text.split("\n")
    for lines_of_phone in located.values():
        assert lines[lines_of_phone.header[0] - 1] == lines_of_phone.header[1]


def test_registered_phones_keeps_registered_ones_with_their_evidence() -> None:
    text = (GOLDEN / "ipv6_dual_stack_unregistered_deceased.raw").read_text(encoding="utf-8")
    phones = registered_phones(state_of({EPHONE_REGISTERED: text}))
    assert phones.problem is None
    assert [(p.ephone_id, p.ip, p.ipv6) for p in phones.phones] == [
        ("1", IPv4Address("10.10.10.12"), IPv6Address("2001:db8:10:0:216:46ff:fee0:796a")),
        ("2", None, IPv6Address("2001:db8:10:0:213:19ff:fed1:f8a2")),
    ]
    assert [e.line for e in phones.phones[1].evidence] == [10, 12]
    assert phones.phones[1].evidence[1].text.startswith("IPv6:2001:DB8:10:0:213:19FF:FED1:F8A2*")


def test_registered_phones_none_marker_vs_silence_vs_damage() -> None:
    none = registered_phones(state_of({EPHONE_REGISTERED: (GOLDEN / "none_registered.raw").read_text()}))
    assert none.problem is None and none.phones == () and none.none_line is not None and none.none_line.line == 2
    silent = registered_phones(state_of({EPHONE_REGISTERED: "Router#show ephone registered\n\n"}))
    assert silent.problem is not None and "printed no phone" in silent.problem
    damaged = registered_phones(state_of({EPHONE_REGISTERED: "ephone-1[0] Mac:0023.5E18.40A1 TCP socket:[1] act\n"}))
    assert damaged.problem is not None and "could not be parsed" in damaged.problem


# --- trusted phone subnets -------------------------------------------------------------------------

LAN_CME = (
    "interface GigabitEthernet0/0",
    " description Uplink to ISP",
    " ip address 209.165.200.226 255.255.255.252",
    " ip nat outside",
    "!",
    "interface GigabitEthernet0/1",
    " ip address 10.10.10.1 255.255.255.0",
    " ip address 10.10.11.1 255.255.255.0 secondary",
    "!",
    "interface Loopback0",
    " ip address 10.10.250.1 255.255.255.255",
    "!",
)


def networks_for(source: str, policy: Policy | None = None) -> PhoneNetworks:
    text = "\n".join(["!", *LAN_CME, "telephony-service", f" ip source-address {source} port 2000", "!", "end", ""])
    state = state_of({RUNNING_CONFIG: text}, policy)
    assert state.config is not None
    return phone_networks(state, state.config)


def test_phone_networks_are_the_source_interface_subnets_secondaries_included() -> None:
    found = networks_for("10.10.10.1")
    assert [n for n, _ in found.networks] == [IPv4Network("10.10.10.0/24"), IPv4Network("10.10.11.0/24")]
    assert [e.line for e in found.evidence] == [15, 8, 9]
    assert found.notes == ()


@pytest.mark.parametrize(
    ("source", "note"),
    [
        ("10.10.250.1", "is on Loopback0, a /32"),
        ("209.165.200.226", "is on WAN interface GigabitEthernet0/0"),
        ("192.0.2.1", "is on no interface of this router"),
    ],
)
def test_phone_networks_ignore_loopback_wan_and_foreign_source_addresses(source: str, note: str) -> None:
    found = networks_for(source)
    assert found.networks == ()
    assert len(found.notes) == 1 and note in found.notes[0]


def test_phone_networks_add_policy_subnets_and_report_bad_entries() -> None:
    found = networks_for("10.10.250.1", Policy(trusted_subnets=["10.20.0.0/16", "2001:db8:10::/64", "not-a-net"]))
    assert [n for n, _ in found.networks] == [IPv4Network("10.20.0.0/16"), IPv6Network("2001:db8:10::/64")]
    assert any("'not-a-net'" in note for note in found.notes)


def phone(ephone_id: str, ip: str | None, ipv6: str | None = None) -> RegisteredPhone:
    return RegisteredPhone(
        ephone_id, "00141C48E71A", IPv4Address(ip) if ip else None, IPv6Address(ipv6) if ipv6 else None, "7965", ()
    )


def test_split_by_network_places_ipv4_and_ipv6_phones() -> None:
    v4_only = PhoneNetworks(((IPv4Network("10.10.10.0/24"), "lan"),), (), (), None)
    phones = [phone("1", "10.10.10.5"), phone("2", "198.51.100.7"), phone("3", None, "2001:db8::5")]
    split = split_by_network(phones, v4_only)
    assert [p.ephone_id for p, _ in split.trusted] == ["1"]
    assert [p.ephone_id for p in split.remote] == ["2"]
    assert [p.ephone_id for p in split.unplaced] == ["3"]  # no IPv6 network to compare with
    with_v6 = PhoneNetworks(
        ((IPv4Network("10.10.10.0/24"), "lan"), (IPv6Network("2001:db8::/64"), "policy")), (), (), None
    )
    split = split_by_network([phone("3", None, "2001:db8::5"), phone("4", None, "2001:db9::5")], with_v6)
    assert [p.ephone_id for p, _ in split.trusted] == ["3"]
    assert [p.ephone_id for p in split.remote] == ["4"]


# --- reading ACL entries -------------------------------------------------------------------------------


def test_address_spec_matches_hosts_subnets_and_discontiguous_wildcards() -> None:
    cme = IPv4Address("10.10.10.1")
    assert AddressSpec("any").contains(cme) == Match.YES
    assert AddressSpec("host 10.10.10.1", IPv4Address("10.10.10.1")).contains(cme) == Match.YES
    assert AddressSpec("10.10.10.0 0.0.0.255", IPv4Address("10.10.10.0"), 255).contains(cme) == Match.YES
    assert AddressSpec("10.10.20.0 0.0.0.255", IPv4Address("10.10.20.0"), 255).contains(cme) == Match.NO
    # 10.0.x.1 for any x: wildcard 0.0.255.0
    odd = AddressSpec("10.10.0.1 0.0.255.0", IPv4Address("10.10.0.1"), 0xFF00)
    assert odd.contains(cme) == Match.YES and odd.contains(IPv4Address("10.10.10.2")) == Match.NO
    assert AddressSpec("object-group CME", group=True).contains(cme) == Match.MAYBE
    assert AddressSpec("host 10.10.10.1", IPv4Address("10.10.10.1")).contains(None) == Match.MAYBE
    assert AddressSpec("0.0.0.0 255.255.255.255", IPv4Address("0.0.0.0"), 0xFFFFFFFF).is_any


@pytest.mark.parametrize(
    ("spec", "port", "match"),
    [
        (PortSpec("eq", (2000,)), 2000, Match.YES),
        (PortSpec("eq", (80, 443)), 2000, Match.NO),
        (PortSpec("eq", (2000, 2443)), 2443, Match.YES),
        (PortSpec("neq", (2000,)), 2000, Match.NO),
        (PortSpec("neq", (80,)), 2000, Match.YES),
        (PortSpec("lt", (2001,)), 2000, Match.YES),
        (PortSpec("gt", (1024,)), 2000, Match.YES),
        (PortSpec("gt", (2000,)), 2000, Match.NO),
        (PortSpec("range", (1999, 2002)), 2000, Match.YES),
        (PortSpec("range", (2001, 2002)), 2000, Match.NO),
        (PortSpec("eq", (None,)), 2000, Match.MAYBE),
    ],
)
def test_port_spec(spec: PortSpec, port: int, match: Match) -> None:
    assert spec.contains(port) == match


def test_parse_rule_splits_protocol_addresses_ports_and_options() -> None:
    acl = acl_of(
        "ip access-list extended EDGE",
        " permit tcp host 198.51.100.7 eq 2000 10.10.10.0 0.0.0.255 range 2000 2002 log",
        " permit udp any eq domain any",
        " permit tcp any any eq www 443 established",
    )
    first, second, third = (parse_rule(entry) for entry in acl.rules)
    assert first is not None and second is not None and third is not None
    assert first.protocol == "tcp" and first.source.text == "host 198.51.100.7"
    assert first.source_ports == PortSpec("eq", (2000,))
    assert first.destination.text == "10.10.10.0 0.0.0.255"
    assert first.destination_ports == PortSpec("range", (2000, 2002)) and first.options == ("log",)
    assert second.source_ports == PortSpec("eq", (53,)) and second.destination_ports is None
    assert third.destination_ports == PortSpec("eq", (80, 443)) and third.options == ("established",)


# --- first-match evaluation for SCCP ----------------------------------------------------------------

CME = IPv4Address("10.10.10.1")


@pytest.mark.parametrize(
    ("entries", "kind", "line"),
    [
        # The guide's list, and the permit it must precede.
        ((" deny tcp any any eq 2000", " permit ip any any"), "denied", 1),
        ((" permit ip any any", " deny tcp any any eq 2000"), "open", 1),
        # Nothing permits SCCP: the implicit deny drops it.
        ((" permit tcp any any established", " permit udp any any eq 2000", " permit tcp any any eq 22"), "implicit", 0),
        # The attacker chooses the source port: a permit on source port 2000 is a hole.
        ((" permit tcp any eq 2000 any", " deny ip any any"), "open", 1),
        # A deny that only covers some packets does not count; the permit after it opens.
        ((" deny tcp any eq 1000 any eq 2000", " deny tcp any any eq 2000 fragments",
          " deny tcp any any eq 2000 time-range WORKDAY", " permit tcp any any"), "open", 4),
        # A deny towards another host does not protect the CME address.
        ((" deny tcp any host 10.10.10.9 eq 2000", " permit tcp any 10.10.10.0 0.0.0.255"), "open", 2),
        ((" deny tcp any 10.10.10.0 0.0.0.255 range 1024 65535", " permit ip any any"), "denied", 1),
        ((" deny tcp any any gt 1999", " permit ip any any"), "denied", 1),
        ((" deny ip any any",), "denied", 1),
        # An object-group permit from any source may open it: cannot tell.
        ((" permit object-group WEB any any", " deny tcp any any eq 2000"), "maybe", 1),
        ((" permit tcp any object-group CME-ADDRS eq 2000",), "maybe", 1),
    ],
)  # fmt: skip
def test_sccp_verdict(entries: tuple[str, ...], kind: str, line: int) -> None:
    acl = acl_of("ip access-list extended EDGE", *entries)
    verdict = sccp_verdict(acl, CME, 2000)
    assert verdict.kind == kind
    assert (acl.rules.index(verdict.entry) + 1 if verdict.entry is not None else 0) == line


def test_sccp_verdict_collects_permits_from_specific_sources_as_exceptions() -> None:
    acl = acl_of(
        "ip access-list extended EDGE",
        " permit tcp host 198.51.100.7 any eq 2000",
        " permit tcp 203.0.113.0 0.0.0.255 host 10.10.10.1",
        " deny tcp any any eq 2000",
        " permit ip any any",
    )
    verdict = sccp_verdict(acl, CME, 2000)
    assert verdict.kind == "denied"
    assert [e.source for e in verdict.exceptions] == ["host 198.51.100.7", "203.0.113.0 0.0.0.255"]


def test_sccp_verdict_for_an_unnamed_router_address_needs_a_deny_to_any() -> None:
    acl = acl_of("ip access-list extended EDGE", " deny tcp any host 10.10.10.1 eq 2000", " permit tcp any any eq 2000")
    assert sccp_verdict(acl, None, 2000).kind == "open"
    acl = acl_of(
        "ip access-list extended EDGE", " deny tcp any host 10.10.10.1 eq 2000", " permit ip any host 209.165.200.226"
    )
    assert sccp_verdict(acl, None, 2000).kind == "maybe"


def test_sccp_verdict_on_standard_lists() -> None:
    opened = acl_of("access-list 5 deny 192.0.2.0 0.0.0.255", "access-list 5 permit any", name="5")
    assert sccp_verdict(opened, CME, 2000).kind == "open"
    restricted = sccp_verdict(acl_of("access-list 6 permit 198.51.100.0 0.0.0.255", name="6"), CME, 2000)
    assert restricted.kind == "implicit" and len(restricted.exceptions) == 1
    closed = acl_of("access-list 7 deny any", "access-list 7 permit any", name="7")
    assert sccp_verdict(closed, CME, 2000).kind == "denied"


# --- remediation helpers -------------------------------------------------------------------------------


def test_insert_before_uses_the_gap_of_printed_sequence_numbers() -> None:
    acl = acl_of("ip access-list extended EDGE", " 10 permit tcp any any eq 22", " 20 permit ip any any")
    assert insert_before(acl, acl.rules[1], ["deny tcp any any eq 2000", "deny tcp any any eq 2443"]) == [
        "ip access-list extended EDGE",
        " 18 deny tcp any any eq 2000",
        " 19 deny tcp any any eq 2443",
    ]


def test_insert_before_resequences_when_there_is_no_gap_or_no_number() -> None:
    tight = acl_of("ip access-list extended EDGE", " 10 permit tcp any any eq 22", " 11 permit ip any any")
    assert insert_before(tight, tight.rules[1], ["deny tcp any any eq 2000"]) == [
        "ip access-list resequence EDGE 10 10",
        "ip access-list extended EDGE",
        " 19 deny tcp any any eq 2000",
    ]
    # Classic IOS prints no sequence numbers and remarks take none: count the rules only.
    plain = acl_of(
        "ip access-list extended EDGE",
        " remark uplink",
        " permit tcp any any eq 22",
        " remark rest",
        " permit ip any any",
    )
    assert insert_before(plain, plain.rules[1], ["deny tcp any any eq 2000"])[-1] == " 19 deny tcp any any eq 2000"
    numbered = acl_of("access-list 101 permit ip any any", name="101")
    assert insert_before(numbered, numbered.rules[0], ["deny tcp any any eq 2000"]) == [
        "ip access-list resequence 101 10 10",
        "ip access-list extended 101",
        " 9 deny tcp any any eq 2000",
    ]


def test_free_extended_acl_number_prefers_the_guides_101() -> None:
    assert free_extended_acl_number(config("access-list 1 permit any")) == 101
    assert free_extended_acl_number(config("access-list 101 permit ip any any")) == 102
    assert free_extended_acl_number(config("access-list 1 permit any"), taken=["101"]) == 102


def test_cme_version_comes_from_show_telephony_service() -> None:
    assert cme_version(state_of({TELEPHONY_SERVICE: "CONFIG (Version=4.0(0))\n=====\nVersion 4.0(0)\n"})) == (4, 0)
    assert cme_version(state_of({TELEPHONY_SERVICE: "CONFIG (Version=12.6)\n"})) == (12, 6)
    assert cme_version(state_of({})) is None


# --- logging -----------------------------------------------------------------------------------------


def test_level_of_reads_names_and_numbers() -> None:
    assert [level_of(w) for w in ("warnings", "6", "debugging", "8", "51200", "xml")] == [4, 6, 7, None, None, None]


@pytest.mark.parametrize(
    ("line", "size", "level"),
    [
        ("logging buffered", None, 7),
        ("logging buffered 51200", 51200, 7),
        ("logging buffered 51200 warnings", 51200, 4),
        ("logging buffered informational", None, 6),
        ("logging buffered 6", None, 6),  # 0-7 is a level, not a size
    ],
)
def test_buffered_logging(line: str, size: int | None, level: int) -> None:
    found = buffered_logging(config(line))
    assert found is not None and (found.size, found.level) == (size, level)


def test_syslog_hosts_in_every_form() -> None:
    found = syslog_hosts(
        config(
            "logging buffered 51200",
            "logging trap informational",
            "logging host 10.1.1.5",
            "logging host 10.1.1.6 transport tcp port 601",
            "logging host ipv6 2001:DB8::5",
            "logging host syslog.example.com vrf Mgmt-intf",
            "logging 192.168.153.129",
            "logging source-interface Loopback0",
        )
    )
    assert [line.command for line in found] == [
        "logging host 10.1.1.5",
        "logging host 10.1.1.6 transport tcp port 601",
        "logging host ipv6 2001:DB8::5",
        "logging host syslog.example.com vrf Mgmt-intf",
        "logging 192.168.153.129",
    ]


def test_has_voice() -> None:
    assert has_voice(config("telephony-service", " max-ephones 5"))
    assert has_voice(config("dial-peer voice 1 pots", " destination-pattern 9T"))
    assert has_voice(config("voice register global", " mode cme"))
    assert not has_voice(config("interface GigabitEthernet0/0", " ip address 10.0.0.1 255.255.255.0"))


# --- against real outputs ---------------------------------------------------------------------------


def test_real_2801_phones_are_located_and_a_damaged_config_never_passes(corpus_dir: Path) -> None:
    registered = (corpus_dir / "show_ephone_registered__gh-josephstreeter-2801-cme.txt").read_text(encoding="utf-8")
    running = (corpus_dir / "running_config_partial__gh-josephstreeter-2801-cme.txt").read_text(encoding="utf-8")
    state = state_of({EPHONE_REGISTERED: registered, RUNNING_CONFIG: running})
    phones = registered_phones(state)
    assert phones.problem is None
    assert [(p.ephone_id, dotted_mac(p.mac), str(p.ip)) for p in phones.phones] == [
        ("1", "0024.C445.168B", "192.168.4.27"),
        ("2", "0023.EB54.2389", "192.168.4.23"),
    ]
    assert [[e.line for e in p.evidence] for p in phones.phones] == [[3, 5], [9, 11]]
    # The published config lost its indentation: both phones match an ephone, but the engine must not
    # turn that into a pass on a capture it cannot trust.
    assert state.config is not None and not state.config.complete
    assert {e.mac for e in configured_ephones(state.config)} >= {p.mac for p in phones.phones}
    spec = get_check("CME-REG-04")
    assert spec is not None
    result = run_check(spec, state)
    assert str(result.status) == "unknown" and "would have been pass" in result.message
