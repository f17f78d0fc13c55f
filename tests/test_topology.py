"""Interfaces, static routes, WAN detection and ACL lookup from the running-config."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

import pytest

from cmelive.parsing.running_config import RunningConfig, parse_running_config
from cmelive.policy import Policy
from cmelive.topology import (
    acls,
    canonical_interface_name,
    default_routes,
    detect_wan_interfaces,
    find_acl,
    find_interface,
    free_standard_acl_number,
    interface_for_address,
    interfaces,
    is_public,
    numbered_acl_kind,
    static_routes,
    trusted_sources,
    wan_interfaces,
    wildcard_spec,
)


def config(*lines: str) -> RunningConfig:
    return parse_running_config("\n".join(["!", *lines, "!", "end", ""]))


BRANCH = config(
    "hostname CME-BRANCH1",
    "!",
    "interface GigabitEthernet0/0",
    " description Uplink to ISP (circuit 4711)",
    " ip address 209.165.200.226 255.255.255.252",
    " ip access-group OUTSIDE-IN in",
    " ip nat outside",
    " ip inspect FW out",
    " zone-member security OUTSIDE",
    " no cdp enable",
    "!",
    "interface GigabitEthernet0/1",
    " description Voice LAN",
    " ip address 10.10.10.1 255.255.255.0",
    " ip address 10.10.11.1 255.255.255.0 secondary",
    " ip access-group 110 out",
    " ip nat inside",
    "!",
    "interface GigabitEthernet0/2",
    " no ip address",
    " shutdown",
    "!",
    "interface Loopback0",
    " ip address 198.51.100.1 255.255.255.255",
    "!",
    "ip route 0.0.0.0 0.0.0.0 209.165.200.225",
    "ip route 10.20.0.0 255.255.0.0 GigabitEthernet0/1 10.10.10.254 250",
    "ip route vrf MGMT 0.0.0.0 0.0.0.0 10.99.0.1",
    "!",
    "ip access-list standard VTY-ACCESS",
    " remark admins only",
    " permit 10.10.99.0 0.0.0.255",
    " deny   any log",
    "ip access-list extended OUTSIDE-IN",
    " 10 permit udp any host 209.165.200.226 eq 5060",
    " 20 permit tcp host 192.0.2.7 any range 22 23",
    " 30 deny ip any any",
    "!",
    "access-list 10 permit 10.10.99.0 0.0.0.255",
    "access-list 10 deny any",
    "access-list 110 permit ip any any",
    "access-list 1 permit any",
)


def test_canonical_interface_names() -> None:
    assert canonical_interface_name("fa0/0") == "FastEthernet0/0"
    assert canonical_interface_name("Gi 0/1") == "GigabitEthernet0/1"
    assert canonical_interface_name("GigabitEthernet0/1.100") == "GigabitEthernet0/1.100"
    assert canonical_interface_name("te1/0/1") == "TenGigabitEthernet1/0/1"
    assert canonical_interface_name("se0/0/0:23") == "Serial0/0/0:23"
    assert canonical_interface_name("Di1") == "Dialer1"
    assert canonical_interface_name("e0") == "Ethernet0"
    assert canonical_interface_name("Weird7") == "Weird7"


def test_interfaces_read_every_attribute() -> None:
    found = interfaces(BRANCH)
    assert [i.name for i in found] == ["GigabitEthernet0/0", "GigabitEthernet0/1", "GigabitEthernet0/2", "Loopback0"]
    wan = found[0]
    assert wan.addresses == (IPv4Interface("209.165.200.226/30"),)
    assert wan.description == "Uplink to ISP (circuit 4711)"
    assert (wan.nat, wan.access_group_in, wan.access_group_out) == ("outside", "OUTSIDE-IN", None)
    assert wan.cdp_disabled and not wan.shutdown
    assert wan.zone == "OUTSIDE" and wan.inspect == (("FW", "out"),)
    assert wan.line.number == 4
    lan = found[1]
    # Primary first, secondaries after, whatever the order in the config.
    assert lan.addresses == (IPv4Interface("10.10.10.1/24"), IPv4Interface("10.10.11.1/24"))
    assert lan.networks == (IPv4Network("10.10.10.0/24"), IPv4Network("10.10.11.0/24"))
    assert (lan.nat, lan.access_group_out, lan.cdp_disabled) == ("inside", "110", False)
    assert found[2].shutdown and found[2].addresses == ()
    assert found[3].kind == "Loopback"


def test_subinterface_parent_and_lookup_by_abbreviation() -> None:
    cfg = config(
        "interface FastEthernet0/0",
        " no ip address",
        "interface FastEthernet0/0.10 point-to-point",
        " encapsulation dot1Q 10",
        " ip address 192.168.10.1 255.255.255.0",
    )
    found = interfaces(cfg)
    sub = find_interface(found, "fa0/0.10")
    assert sub is not None and sub.name == "FastEthernet0/0.10"
    assert sub.parent == "FastEthernet0/0" and sub.kind == "FastEthernet"
    assert found[0].parent is None
    assert find_interface(found, "Gi0/0") is None


def test_interface_for_address_prefers_the_longest_prefix() -> None:
    cfg = config(
        "interface Vlan1",
        " ip address 10.0.0.1 255.0.0.0",
        "interface Vlan2",
        " ip address 10.1.2.1 255.255.255.0",
    )
    found = interfaces(cfg)
    hit = interface_for_address(found, IPv4Address("10.1.2.9"))
    assert hit is not None and hit.name == "Vlan2"
    hit = interface_for_address(found, IPv4Address("10.9.9.9"))
    assert hit is not None and hit.name == "Vlan1"
    assert interface_for_address(found, IPv4Address("192.168.1.1")) is None


def test_static_routes() -> None:
    routes = static_routes(BRANCH)
    assert [(str(r.prefix), r.interface, str(r.next_hop), r.vrf) for r in routes] == [
        ("0.0.0.0/0", None, "209.165.200.225", None),
        ("10.20.0.0/16", "GigabitEthernet0/1", "10.10.10.254", None),
        ("0.0.0.0/0", None, "10.99.0.1", "MGMT"),
    ]
    assert [r.line.number for r in default_routes(BRANCH)] == [27, 29]
    gateway = config("ip default-gateway 10.0.0.254", "ip route 0.0.0.0 0.0.0.0 dhcp")
    assert [(str(r.next_hop), r.dhcp) for r in default_routes(gateway)] == [("10.0.0.254", False), ("None", True)]


def test_is_public() -> None:
    assert is_public(IPv4Address("209.165.200.226"))
    assert not is_public(IPv4Address("10.1.1.1"))
    assert not is_public(IPv4Address("172.16.5.1"))
    assert not is_public(IPv4Address("192.168.0.1"))
    assert not is_public(IPv4Address("100.64.0.1"))  # carrier-grade NAT shared space
    assert not is_public(IPv4Address("192.0.2.254"))  # documentation: Cisco examples use it for LANs too
    assert not is_public(IPv4Address("169.254.1.1"))


def test_wan_detection_gives_every_reason() -> None:
    wans = detect_wan_interfaces(BRANCH)
    # Loopback0's documentation address is not public, and a loopback is never a link anyway.
    assert [w.describe() for w in wans] == [
        "GigabitEthernet0/0 (ip nat outside, description 'Uplink to ISP (circuit 4711)', "
        "public address 209.165.200.226, default route via 209.165.200.225)"
    ]
    assert wans[0].interface is not None and wans[0].interface.name == "GigabitEthernet0/0"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (("interface Dialer1", " ip address negotiated"), ["Dialer1 (dialer interface)"]),
        (("interface Cellular0/1/0", " ip address negotiated"), ["Cellular0/1/0 (cellular interface)"]),
        (
            ("interface GigabitEthernet0/0", " no ip address", " pppoe-client dial-pool-number 1"),
            ["GigabitEthernet0/0 (PPPoE client towards the modem)"],
        ),
        (("interface Gi0/0", " description WAN_LINK to carrier"), ["Gi0/0 (description 'WAN_LINK to carrier')"]),
        (("interface Gi0/0", " description internet-facing"), ["Gi0/0 (description 'internet-facing')"]),
        (("interface Gi0/0", " description SWANSEA office LAN"), []),
        (("interface Gi0/0", " description DISPATCH"), []),
        (
            ("interface Serial0/0/0", " ip address 10.0.0.1 255.255.255.252", "ip route 0.0.0.0 0.0.0.0 Serial0/0/0"),
            ["Serial0/0/0 (default route)"],
        ),
        (
            ("interface Gi0/0", " ip address dhcp", "interface Gi0/1", " ip address 10.1.1.1 255.255.255.0",
             "ip route 0.0.0.0 0.0.0.0 dhcp"),
            ["Gi0/0 (default route via its DHCP gateway)"],
        ),
        (
            ("interface Vlan1", " ip address 10.1.1.1 255.255.255.0", "ip route 0.0.0.0 0.0.0.0 10.1.1.254"),
            ["Vlan1 (default route via 10.1.1.254)"],
        ),
        # A next hop no connected subnet holds leads nowhere: nothing is guessed.
        (("interface Vlan1", " ip address 10.1.1.1 255.255.255.0", "ip route 0.0.0.0 0.0.0.0 10.9.9.9"), []),
        (("interface Gi0/0", " ip address 192.168.1.1 255.255.255.0"), []),
    ],
)
def test_wan_detection_rules(lines: tuple[str, ...], expected: list[str]) -> None:
    cfg = config(*lines)
    assert [w.describe() for w in detect_wan_interfaces(cfg)] == expected


def test_policy_wan_interfaces_win_over_detection() -> None:
    policy = Policy(wan_interfaces=["gi0/1", "Serial9/9"])
    wans = wan_interfaces(BRANCH, policy)
    assert [(w.name, w.reason) for w in wans] == [
        ("GigabitEthernet0/1", "listed in policy wan_interfaces"),
        ("Serial9/9", "listed in policy wan_interfaces"),
    ]
    assert wans[0].interface is not None and wans[1].interface is None
    assert [w.name for w in wan_interfaces(BRANCH, Policy())] == ["GigabitEthernet0/0"]


def test_acls_numbered_and_named() -> None:
    found = {acl.name: acl for acl in acls(BRANCH)}
    assert list(found) == ["10", "110", "1", "VTY-ACCESS", "OUTSIDE-IN"]
    ten = found["10"]
    assert (ten.kind, ten.numbered, [line.number for line in ten.lines]) == ("standard", True, [40, 41])
    assert [(e.action, e.source) for e in ten.entries] == [("permit", "10.10.99.0 0.0.0.255"), ("deny", "any")]
    assert ten.permits_any_source() is None
    assert found["110"].kind == "extended"
    entry = found["110"].permits_any_source()
    assert entry is not None and entry.line.number == 42 and entry.destination == "any"
    named = found["VTY-ACCESS"]
    assert (named.kind, named.numbered, named.lines[0].number) == ("standard", False, 31)
    assert [e.action for e in named.entries] == ["remark", "permit", "deny"]
    assert [e.text for e in named.rules] == ["permit 10.10.99.0 0.0.0.255", "deny any log"]
    outside = found["OUTSIDE-IN"]
    assert [(e.sequence, e.source, e.destination) for e in outside.entries] == [
        (10, "any", "host 209.165.200.226"),
        (20, "host 192.0.2.7", "any"),
        (30, "any", "any"),
    ]
    assert outside.permits_any_source() is not None
    assert found["1"].permits_any_source() is not None


def test_find_acl() -> None:
    assert find_acl(BRANCH, "VTY-ACCESS") is not None
    assert find_acl(BRANCH, "vty-access") is None  # IOS ACL names are case-sensitive
    assert find_acl(BRANCH, "99") is None
    both_forms = config("access-list 5 permit host 10.0.0.1", "ip access-list standard 5", " permit host 10.0.0.2")
    merged = find_acl(both_forms, "5")
    assert merged is not None and [e.source for e in merged.entries] == ["host 10.0.0.1", "host 10.0.0.2"]


def test_numbered_acl_kinds_and_free_numbers() -> None:
    assert [numbered_acl_kind(n) for n in (1, 99, 100, 199, 1300, 2000, 700)] == [
        "standard", "standard", "extended", "extended", "standard", "extended", "other",
    ]
    assert free_standard_acl_number(BRANCH) == 11
    assert free_standard_acl_number(config("hostname R")) == 10


def test_trusted_sources_from_policy() -> None:
    assert trusted_sources(Policy()) == ["<admin-subnet> <wildcard>"]
    policy = Policy(trusted_subnets=["10.10.99.0/24", "192.0.2.10", "2001:db8::/32", "not-a-subnet"])
    assert trusted_sources(policy) == ["10.10.99.0 0.0.0.255", "host 192.0.2.10"]
    assert wildcard_spec(IPv4Network("172.16.0.0/12")) == "172.16.0.0 0.15.255.255"


def test_corpus_configs_yield_interfaces(corpus_dir: Path) -> None:
    text = (corpus_dir / "running_config__ciscodoc-cmeccx-3845.txt").read_text(encoding="latin-1")
    cfg = parse_running_config(text)
    found = interfaces(cfg)
    assert [i.name for i in found] == [
        "GigabitEthernet0/0", "GigabitEthernet0/1", "Serial0/2/0:23", "Serial0/2/1:23", "Service-Engine1/0",
    ]
    assert found[2].cdp_disabled and found[4].unnumbered == "GigabitEthernet0/0"
    # Gi0/1 holds 192.0.2.254 (documentation space used as a LAN in Cisco's example): not WAN.
    assert [w.describe() for w in detect_wan_interfaces(cfg)] == ["GigabitEthernet0/0 (public address 209.165.201.1)"]
    assert len(static_routes(cfg)) == 5 and default_routes(cfg) == []
