"""Phone registration control, and remote phones behind NAT.

Guide: "Cisco Unified CME Security for IP Telephony" (IP Phone Registration Control, Monitoring IP
Phone Registration) and "Cisco Unified CME with NAT and Firewall" (Remote Phones with Public / Private
IP Addresses). CME-REG-05 and CME-NAT-01 share one answer to "which registered phones are remote"
(:func:`phone_networks` and :func:`split_by_network`), so the two checks can never disagree on it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import TYPE_CHECKING

from cmelive.checks.base import Evidence, Outcome, Severity, failed, not_applicable, passed, unknown
from cmelive.checks.common import (
    device_acls,
    device_interfaces,
    device_wan_interfaces,
    running_config,
    unique_evidence,
)
from cmelive.checks.registry import check
from cmelive.commands import EPHONE_REGISTERED, RUNNING_CONFIG, TELEPHONY_SERVICE
from cmelive.parsing.running_config import ConfigLine, RunningConfig, telephony_service
from cmelive.topology import (
    Acl,
    AclEntry,
    Interface,
    WanInterface,
    acl_names,
    find_acl,
    interface_for_address,
    interfaces,
    numbered_acl_kind,
    wan_interfaces,
)

if TYPE_CHECKING:  # imported for annotations only: cmelive.policy -> checks -> here would be a cycle
    from cmelive.state import DeviceState

SECTION = "Cisco Unified CME Security for IP Telephony"
NAT_SECTION = "Cisco Unified CME with NAT and Firewall"
SCCP_PORT = 2000
# The guide's port table: "TLS TCP 2443 Secure Call control for SCCP phones".
SECURE_SCCP_PORT = 2443
_NOT_A_LINK = ("Loopback", "Null", "NVI")
_NO_PHONES_MARKER = "No ephone in specified type/condition"
Network = IPv4Network | IPv6Network




def _no_cme(config: RunningConfig) -> Outcome:
    """No telephony-service section. The engine answers not_applicable for ``cme_only`` checks up
    front when no damage can hide one; here it may: the engine weighs this not_applicable against
    the damage (a cut that can hide ``telephony-service`` makes it unknown)."""
    del config
    return not_applicable("no telephony-service: this router is not a Cisco Unified CME for SCCP phones")


# --- telephony-service ip source-address -----------------------------------------------------------


@dataclass(frozen=True)
class SourceAddress:
    """``ip source-address A [port P] [secondary B] [any-match | strict-match]`` under telephony-service."""

    line: ConfigLine
    address: IPv4Address | None
    port: int
    strict: bool


def parse_ipv4(text: str) -> IPv4Address | None:
    """An IPv4 address as IOS prints it, leading zeros included (old CME prints ``10.0.0.012``)."""
    parts = text.split(".")
    if len(parts) != 4 or not all(part.isdigit() and len(part) <= 3 for part in parts):
        return None
    octets = [int(part) for part in parts]
    if any(octet > 255 for octet in octets):
        return None
    return IPv4Address(".".join(str(octet) for octet in octets))


def source_address(service: ConfigLine) -> SourceAddress | None:
    line = service.first(r"ip source-address \S")
    if line is None:
        return None
    words = line.command.split()
    address: IPv4Address | None = None
    port = SCCP_PORT
    for index, word in enumerate(words[2:], start=2):
        if word == "port" and index + 1 < len(words) and words[index + 1].isdigit():
            port = int(words[index + 1])
        elif address is None and words[index - 1] != "secondary":
            address = parse_ipv4(word)
    return SourceAddress(line, address, port, "strict-match" in words)


def _strict_source_line(source: SourceAddress) -> str:
    """The router's own ``ip source-address`` line with ``any-match`` replaced by ``strict-match``."""
    words = [w for w in source.line.command.split() if w not in ("any-match", "strict-match")]
    return " " + " ".join([*words, "strict-match"])


def _secure_signaling(service: ConfigLine) -> ConfigLine | None:
    """``secure-signaling trustpoint X``: CME then also listens for SCCP over TLS (TCP 2443)."""
    return service.first(r"secure-signaling trustpoint \S")


# --- MAC addresses and configured ephones ------------------------------------------------------------

_MAC_DIGITS = re.compile(r"^[0-9A-F]{12}$")


def normalise_mac(text: str) -> str | None:
    """``0014.1c48.e71a`` / ``00141C48E71A`` / ``00-14-1C-48-E7-1A`` / ``SEP00141C48E71A`` -> ``00141C48E71A``."""
    digits = re.sub(r"[.:\-\s]", "", text.strip().upper())
    if digits.startswith("SEP") and len(digits) == 15:
        digits = digits[3:]
    return digits if _MAC_DIGITS.match(digits) else None


def dotted_mac(mac: str) -> str:
    """``00141C48E71A`` -> ``0014.1C48.E71A``, the form IOS prints and accepts."""
    return f"{mac[0:4]}.{mac[4:8]}.{mac[8:12]}"


@dataclass(frozen=True)
class ConfiguredEphone:
    """One ``ephone N`` section."""

    number: str
    section: ConfigLine
    mac_line: ConfigLine | None
    mac: str | None  # normalised


def configured_ephones(config: RunningConfig) -> list[ConfiguredEphone]:
    found: list[ConfiguredEphone] = []
    for section in config.sections(r"ephone \d+$"):
        mac_line = section.first(r"mac-address \S")
        mac = normalise_mac(mac_line.words[1]) if mac_line is not None else None
        found.append(ConfiguredEphone(section.words[1], section, mac_line, mac))
    return found


def _ephones_by_mac(config: RunningConfig) -> dict[str, ConfiguredEphone]:
    return {ephone.mac: ephone for ephone in configured_ephones(config) if ephone.mac is not None}


def _free_ephone_numbers(config: RunningConfig, wanted: list[str]) -> list[str]:
    """An ``ephone`` number for each phone: the number CME showed it under when free, else a new one."""
    used = {int(e.number) for e in configured_ephones(config)}
    numbers: list[str] = []
    for shown in wanted:
        number = int(shown) if shown.isdigit() else 0
        if number < 1 or number in used:
            number = max(used, default=0) + 1
        used.add(number)
        numbers.append(str(number))
    return numbers


# --- registered phones (show ephone registered) -----------------------------------------------------

_HEADER = re.compile(r"^\s*ephone-(\d+)(?:\[\d+\])?\s+Mac:([0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})\b")
_ADDRESS_LINE = re.compile(r"^\s*(?:IPv6:\S+\s*\*?\s+)?IP:|^\s*IPv6:")


@dataclass(frozen=True)
class PhoneLines:
    """Where one phone appears in the output: its ``ephone-N Mac:...`` line and its ``IP:`` line."""

    header: tuple[int, str]
    address: tuple[int, str] | None


def locate_phones(text: str) -> dict[tuple[str, str], PhoneLines]:
    """Line numbers (1-based, as ``state.find_line`` counts) of each phone block, by (ephone id, MAC)."""
    found: dict[tuple[str, str], PhoneLines] = {}
    current: tuple[str, str] | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        header = _HEADER.match(line)
        if header:
            mac = normalise_mac(header.group(2))
            current = (header.group(1), mac) if mac is not None else None
            if current is not None and current not in found:
                found[current] = PhoneLines((number, line), None)
            continue
        if current is not None and _ADDRESS_LINE.match(line):
            if found[current].address is None:
                found[current] = PhoneLines(found[current].header, (number, line))
    return found


@dataclass(frozen=True)
class RegisteredPhone:
    """A phone that ``show ephone registered`` lists as REGISTERED."""

    ephone_id: str
    mac: str  # normalised
    ip: IPv4Address | None
    ipv6: IPv6Address | None
    model: str
    evidence: tuple[Evidence, ...]  # its header and address lines in show ephone registered

    @property
    def address(self) -> IPv4Address | IPv6Address | None:
        return self.ip if self.ip is not None else self.ipv6

    def describe(self) -> str:
        where = f" at {self.address}" if self.address is not None else ""
        model = f" ({self.model})" if self.model else ""
        return f"ephone-{self.ephone_id} {dotted_mac(self.mac)}{where}{model}"


@dataclass(frozen=True)
class PhoneList:
    """What ``show ephone registered`` says: the registered phones, or why that is not known."""

    phones: tuple[RegisteredPhone, ...] = ()
    none_line: Evidence | None = None  # "No ephone in specified type/condition."
    problem: str | None = None  # set when the output cannot be judged


def registered_phones(state: DeviceState) -> PhoneList:
    records = state.records(EPHONE_REGISTERED)
    if records is None:
        reason = state.parse_errors.get(EPHONE_REGISTERED) or str(state.output(EPHONE_REGISTERED).status)
        return PhoneList(problem=f"'{EPHONE_REGISTERED}' could not be parsed ({reason})")
    text = state.output(EPHONE_REGISTERED).text
    located = locate_phones(text)
    phones: list[RegisteredPhone] = []
    for record in records:
        if str(record.get("status", "")).upper() != "REGISTERED":
            continue
        mac = normalise_mac(str(record.get("mac", "")))
        if mac is None:
            return PhoneList(problem=f"a phone in '{EPHONE_REGISTERED}' has no readable MAC address")
        ephone_id = str(record.get("ephone_id", ""))
        lines = located.get((ephone_id, mac))
        evidence: list[Evidence] = []
        if lines is not None:
            evidence.append(state.evidence_text(EPHONE_REGISTERED, *lines.header))
            if lines.address is not None:
                evidence.append(state.evidence_text(EPHONE_REGISTERED, *lines.address))
        ipv6: IPv6Address | None = None
        if record.get("ipv6"):
            try:
                ipv6 = IPv6Address(str(record["ipv6"]))
            except ValueError:
                ipv6 = None
        phones.append(
            RegisteredPhone(
                ephone_id=ephone_id,
                mac=mac,
                ip=parse_ipv4(str(record.get("ip", ""))),
                ipv6=ipv6,
                model=str(record.get("model", "")).strip(),
                evidence=tuple(evidence),
            )
        )
    none_line = state.find_line(EPHONE_REGISTERED, _NO_PHONES_MARKER)
    if not records and none_line is None:
        # IOS says "No ephone in specified type/condition." when nothing is registered; silence is a
        # capture we cannot read as "no phones".
        return PhoneList(problem=f"'{EPHONE_REGISTERED}' printed no phone and no 'No ephone' line")
    return PhoneList(tuple(phones), none_line)


# --- trusted phone networks and remote phones ---------------------------------------------------------


@dataclass(frozen=True)
class PhoneNetworks:
    """The networks phones may register from, where each comes from, and what could not be used."""

    networks: tuple[tuple[Network, str], ...]
    evidence: tuple[Evidence, ...]
    notes: tuple[str, ...]
    source: SourceAddress | None

    def holding(self, address: IPv4Address | IPv6Address) -> tuple[Network, str] | None:
        for network, origin in self.networks:
            if address.version == network.version and address in network:
                return network, origin
        return None

    def describe(self) -> str:
        return ", ".join(f"{network} ({origin})" for network, origin in self.networks)


def phone_networks(state: DeviceState, config: RunningConfig) -> PhoneNetworks:
    """The trusted phone networks: the subnets of the interface holding the telephony-service
    ``ip source-address`` (the segment ``strict-match`` is meant for) plus the policy's ``trusted_subnets``.

    The interface's subnets are left out when they cannot be a phone segment: a loopback or any /32
    (the guide allows a loopback source address), or a WAN interface (its subnet is the ISP's).
    """
    networks: list[tuple[Network, str]] = []
    evidence: list[Evidence] = []
    notes: list[str] = []
    service = telephony_service(config)
    source = source_address(service) if service is not None else None
    if source is not None and source.address is not None:
        # The device's own config (every caller's): its interfaces and WAN as every check reads them.
        own = config is state.config
        found = device_interfaces(state) if own else interfaces(config)
        owner = interface_for_address(found, source.address)
        wans = device_wan_interfaces(state) if own else wan_interfaces(config, state.policy)
        wan_names = {wan.name for wan in wans}
        if owner is None:
            notes.append(f"ip source-address {source.address} is on no interface of this router")
        elif owner.kind in _NOT_A_LINK or all(n.prefixlen == 32 for n in owner.networks):
            notes.append(
                f"ip source-address {source.address} is on {owner.name}, a /32: it names no phone subnet"
            )
        elif owner.name in wan_names:
            notes.append(
                f"ip source-address {source.address} is on WAN interface {owner.name}, whose subnet is not "
                "a trusted phone segment"
            )
        else:
            evidence.append(state.evidence(source.line))
            for address_line in owner.line.find(r"ip address \S+ \S+"):
                evidence.append(state.evidence(address_line))
            for subnet in owner.networks:
                if subnet.prefixlen < 32:
                    networks.append((subnet, f"{owner.name}, the ip source-address interface"))
    for text in state.policy.trusted_subnets:
        try:
            network = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            notes.append(f"policy trusted_subnets entry {text!r} is not a network and is ignored")
            continue
        if all(network != known for known, _ in networks):
            networks.append((network, "policy trusted_subnets"))
    return PhoneNetworks(tuple(networks), tuple(evidence), tuple(notes), source)


def _device_phone_networks(state: DeviceState) -> PhoneNetworks:
    """:func:`phone_networks` of the device's own running-config: checks read it through
    ``state.derived``, so it is worked out once per device."""
    return phone_networks(state, running_config(state))


def _unknown_networks(config: RunningConfig, networks: PhoneNetworks) -> Outcome:
    candidates = [
        str(network)
        for interface in interfaces(config)
        if interface.kind not in _NOT_A_LINK
        for network in interface.networks
        if network.prefixlen < 32 and not network.network_address.is_global
    ]
    example = candidates[0] if candidates else "<phone-subnet>/<prefix>"
    why = "; ".join(networks.notes) if networks.notes else "telephony-service has no usable ip source-address"
    return unknown(
        f"the trusted phone subnets cannot be determined ({why}); list them in the policy: "
        f"'trusted_subnets: [{example}]'"
        + (f" (this router's internal subnets: {', '.join(candidates)})" if candidates else "")
    )


@dataclass
class PhoneSplit:
    """Registered phones sorted by where they registered from."""

    trusted: list[tuple[RegisteredPhone, Network]] = field(default_factory=list)
    remote: list[RegisteredPhone] = field(default_factory=list)
    unplaced: list[RegisteredPhone] = field(default_factory=list)  # no address we can compare


def split_by_network(phones: Iterable[RegisteredPhone], networks: PhoneNetworks) -> PhoneSplit:
    """A phone is remote when its address lies in none of the trusted phone networks.

    A phone with only an IPv6 address is compared with the IPv6 networks of the policy; with none of
    those it cannot be placed (the interface subnets we read are IPv4 only).
    """
    split = PhoneSplit()
    has_v6 = any(network.version == 6 for network, _ in networks.networks)
    for phone in phones:
        address = phone.address
        if address is None or (phone.ip is None and not has_v6):
            split.unplaced.append(phone)
            continue
        holding = networks.holding(address)
        if holding is None:
            split.remote.append(phone)
        else:
            split.trusted.append((phone, holding[0]))
    return split


def _phones_or_outcome(state: DeviceState) -> PhoneList | Outcome:
    phones = state.derived(registered_phones)  # several checks read the phones: parse them once
    if phones.problem is not None:
        return unknown(phones.problem)
    return phones


def _no_phones(phones: PhoneList, what: str) -> Outcome:
    evidence = [phones.none_line] if phones.none_line is not None else []
    return passed(f"no phone is registered right now, so {what}", evidence)


# --- CME-REG-01 ------------------------------------------------------------------------------------


@check(
    id="CME-REG-01",
    title="Phones may register only on the CME source address (strict-match)",
    severity=Severity.HIGH,
    family="REG",
    reference=f"{SECTION} > IP Phone Registration Control",
    rationale=(
        "Without strict-match, CME accepts SCCP registrations on any of the router's addresses, including "
        "the WAN address. The guide assumes the local segment is the trusted domain and uses "
        "ip source-address ... strict-match so that only locally attached phones can register."
    ),
    passes_when=(
        "telephony-service has `ip source-address A [port P] strict-match`. Not applicable without "
        "telephony-service."
    ),
    requires=(RUNNING_CONFIG,),
    cme_only=True,
    example_evidence=("show running-config:88: ip source-address 10.10.10.1 port 2000",),
    remediation_example=("telephony-service", " ip source-address 10.10.10.1 port 2000 strict-match"),
)
def source_address_strict_match(state: DeviceState) -> Outcome:
    config = running_config(state)
    service = telephony_service(config)
    if service is None:
        return _no_cme(config)
    source = source_address(service)
    if source is None:
        return failed(
            "telephony-service has no ip source-address, so nothing limits which address phones register on",
            [state.evidence(service)],
            ["telephony-service", f" ip source-address <cme-address> port {SCCP_PORT} strict-match"],
            from_absence=True,
            within=[service.number],
        )
    if source.strict:
        return passed(
            f"phones may register only on {source.address} (strict-match, line {source.line.number})",
            [state.evidence(source.line)],
        )
    mode = "any-match" if "any-match" in source.line.words else "no strict-match (the default is any-match)"
    return failed(
        f"ip source-address on line {source.line.number} has {mode}: phones can register on any of the "
        "router's addresses, WAN included",
        [state.evidence(source.line)],
        ["telephony-service", _strict_source_line(source)],
    )


# --- CME-REG-02: the WAN filter for SCCP -------------------------------------------------------------


class Match(Enum):
    """Whether an ACL entry matches a packet: surely, surely not, or cannot tell (object-groups, names)."""

    NO = 0
    MAYBE = 1
    YES = 2


def _both(*matches: Match) -> Match:
    return min(matches, key=lambda m: m.value)


@dataclass(frozen=True)
class AddressSpec:
    """An ACL address: ``any``, ``host A``, ``A W`` (wildcard), ``A/len``, or an object-group."""

    text: str
    base: IPv4Address | None = None
    wildcard: int = 0
    group: bool = False

    @property
    def is_any(self) -> bool:
        return self.text == "any" or (self.base is not None and self.wildcard == 0xFFFFFFFF)

    def contains(self, address: IPv4Address | None) -> Match:
        """``address`` None stands for a router address we cannot name (DHCP, PPP)."""
        if self.is_any:
            return Match.YES
        if self.group or self.base is None or address is None:
            return Match.MAYBE
        care = ~self.wildcard & 0xFFFFFFFF
        return Match.YES if int(address) & care == int(self.base) & care else Match.NO


def _address_spec(words: list[str]) -> tuple[AddressSpec | None, list[str]]:
    if not words:
        return None, []
    first = words[0]
    if first == "any":
        return AddressSpec("any"), words[1:]
    if first == "host" and len(words) > 1:
        base = parse_ipv4(words[1])
        return (AddressSpec(f"host {words[1]}", base, 0) if base else None), words[2:]
    if first in ("object-group", "addrgroup") and len(words) > 1:
        return AddressSpec(f"{first} {words[1]}", group=True), words[2:]
    if "/" in first:
        try:
            network = IPv4Network(first, strict=False)
        except ValueError:
            return None, words
        return AddressSpec(first, network.network_address, int(network.hostmask)), words[1:]
    base = parse_ipv4(first)
    if base is None:
        return None, words
    if len(words) > 1 and parse_ipv4(words[1]) is not None:
        wildcard = parse_ipv4(words[1])
        assert wildcard is not None
        return AddressSpec(f"{first} {words[1]}", base, int(wildcard)), words[2:]
    return AddressSpec(first, base, 0), words[1:]  # standard ACL shorthand: "permit 10.1.1.1"


# The TCP port names IOS prints instead of numbers (2000 and 2443 have none).
TCP_PORT_NAMES: dict[str, int] = {
    "bgp": 179, "chargen": 19, "cmd": 514, "daytime": 13, "discard": 9, "domain": 53, "drip": 3949,
    "echo": 7, "exec": 512, "finger": 79, "ftp": 21, "ftp-data": 20, "gopher": 70, "hostname": 101,
    "ident": 113, "irc": 194, "klogin": 543, "kshell": 544, "login": 513, "lpd": 515, "msrpc": 135,
    "nntp": 119, "onep-plain": 15001, "onep-tls": 15002, "pim-auto-rp": 496, "pop2": 109, "pop3": 110,
    "smtp": 25, "sunrpc": 111, "syslog": 514, "tacacs": 49, "talk": 517, "telnet": 23, "time": 37,
    "uucp": 540, "whois": 43, "www": 80,
}  # fmt: skip
_PORT_OPERATORS = ("eq", "neq", "lt", "gt", "range")


def _port_value(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return TCP_PORT_NAMES.get(word)


def _is_port_word(word: str) -> bool:
    return word.isdigit() or word in TCP_PORT_NAMES


@dataclass(frozen=True)
class PortSpec:
    """``eq P [P ...]`` / ``neq P`` / ``lt P`` / ``gt P`` / ``range A B``."""

    operator: str
    values: tuple[int | None, ...]  # None: a name we do not know

    def contains(self, port: int) -> Match:
        if any(value is None for value in self.values):
            return Match.MAYBE
        values = [value for value in self.values if value is not None]
        if self.operator == "eq":
            hit = port in values
        elif self.operator == "neq":
            hit = port not in values
        elif self.operator == "lt":
            hit = port < values[0]
        elif self.operator == "gt":
            hit = port > values[0]
        else:
            hit = values[0] <= port <= values[1]
        return Match.YES if hit else Match.NO


def _port_spec(words: list[str]) -> tuple[PortSpec | None, list[str]]:
    if not words or words[0] not in _PORT_OPERATORS:
        return None, words
    operator = words[0]
    if operator == "range":
        if len(words) < 3:
            return None, words
        return PortSpec(operator, (_port_value(words[1]), _port_value(words[2]))), words[3:]
    values: list[int | None] = []
    rest = words[1:]
    # IOS 12.4(20)T+ takes up to ten ports after eq/neq; lt and gt take one.
    while rest and (_is_port_word(rest[0]) or not values) and (operator in ("eq", "neq") or not values):
        values.append(_port_value(rest[0]))
        rest = rest[1:]
    return PortSpec(operator, tuple(values)), rest


@dataclass(frozen=True)
class AclRule:
    """A permit/deny entry read as a filter: what it matches."""

    entry: AclEntry
    protocol: str
    source: AddressSpec
    source_ports: PortSpec | None
    destination: AddressSpec
    destination_ports: PortSpec | None
    options: tuple[str, ...]


def parse_rule(entry: AclEntry) -> AclRule | None:
    """``entry`` as a filter, or None when its words cannot be read (the caller then cannot judge it)."""
    words = list(entry.words)
    if entry.kind == "standard":
        source, rest = _address_spec(words)
        if source is None:
            return None
        return AclRule(entry, "ip", source, None, AddressSpec("any"), None, tuple(rest))
    if entry.kind != "extended" or not words:
        return None
    protocol = words[0]
    rest = words[1:]
    if protocol == "object-group" and rest:
        protocol, rest = f"object-group {rest[0]}", rest[1:]
    source, rest = _address_spec(rest)
    if source is None:
        return None
    source_ports, rest = _port_spec(rest)
    destination, rest = _address_spec(rest)
    if destination is None:
        return None
    destination_ports, rest = _port_spec(rest)
    return AclRule(entry, protocol, source, source_ports, destination, destination_ports, tuple(rest))


def _carries_tcp(protocol: str) -> Match:
    if protocol in ("ip", "tcp", "6"):
        return Match.YES
    if protocol.startswith("object-group"):
        return Match.MAYBE
    return Match.NO


_SYN_BLIND = ("established", "fragments", "ack", "fin", "psh", "rst", "urg")
_HARMLESS_OPTIONS = ("log", "log-input")


def _matches_syn(rule: AclRule, destination: IPv4Address | None, port: int) -> Match:
    """Whether the rule can match a connection attempt (TCP SYN) to ``destination``:``port`` from some
    source port of the sender's choosing (an attacker picks the source port, so source ports never save
    a permit)."""
    options = set(rule.options)
    if options & set(_SYN_BLIND) and "syn" not in options:
        return Match.NO  # established / fragments / ack-only entries never match the opening SYN
    shaped = Match.MAYBE if options & {"match-any", "match-all"} else Match.YES
    ports = rule.destination_ports.contains(port) if rule.destination_ports is not None else Match.YES
    return _both(_carries_tcp(rule.protocol), rule.destination.contains(destination), ports, shaped)


def _denies_every_syn(rule: AclRule, destination: IPv4Address | None, port: int) -> bool:
    """A deny that stops every connection attempt to ``destination``:``port``, from any source."""
    return (
        rule.source.is_any
        and rule.source_ports is None
        and all(option in _HARMLESS_OPTIONS for option in rule.options)
        and _carries_tcp(rule.protocol) == Match.YES
        and rule.destination.contains(destination) == Match.YES
        and (rule.destination_ports is None or rule.destination_ports.contains(port) == Match.YES)
    )


@dataclass(frozen=True)
class FilterVerdict:
    """What an inbound ACL does with a connection attempt from the Internet to one address and port.

    ``kind``: "denied" (an entry denies it), "implicit" (no entry matches: the implicit deny drops it),
    "open" (a permit from any source matches first), "maybe" (an entry we cannot evaluate may permit it).
    ``exceptions`` are permits from specific sources met on the way (known remote phones, a provider).
    """

    kind: str
    entry: AclEntry | None
    exceptions: tuple[AclEntry, ...] = ()


def sccp_verdict(acl: Acl, destination: IPv4Address | None, port: int) -> FilterVerdict:
    """First-match evaluation of ``acl`` for a TCP SYN from an unknown Internet host."""
    exceptions: list[AclEntry] = []
    for entry in acl.rules:
        rule = parse_rule(entry)
        if rule is None:
            if entry.action == "permit":
                return FilterVerdict("maybe", entry, tuple(exceptions))
            continue
        if entry.action == "deny":
            if _denies_every_syn(rule, destination, port):
                return FilterVerdict("denied", entry, tuple(exceptions))
            continue
        match = _matches_syn(rule, destination, port)
        if match == Match.NO:
            continue
        if rule.source.is_any:
            return FilterVerdict("open" if match == Match.YES else "maybe", entry, tuple(exceptions))
        if entry not in exceptions:
            exceptions.append(entry)
    return FilterVerdict("implicit", None, tuple(exceptions))


def free_extended_acl_number(config: RunningConfig, preferred: int = 101, taken: Iterable[str] = ()) -> int:
    """An unused extended ACL number, ``preferred`` when free (the guide's example uses 101)."""
    used = acl_names(config) | set(taken)
    for number in (preferred, *range(preferred + 1, 200), *range(100, preferred), *range(2000, 2700)):
        if str(number) not in used:
            return number
    raise ValueError("every extended ACL number is in use")


def _new_lists(config: RunningConfig, rebuild: list[tuple[Interface, Acl | None]], deny_rules: list[str]) -> list[str]:
    """New extended lists (the deny rules first, then what the interface lets in today) and their use."""
    commands: list[str] = []
    numbers: dict[str | None, str] = {}
    for interface, kept in rebuild:
        key = kept.name if kept is not None else None
        if key not in numbers:
            number = str(free_extended_acl_number(config, taken=numbers.values()))
            numbers[key] = number
            rules = [_as_extended(e) for e in kept.rules] if kept is not None else ["permit ip any any"]
            commands += [f"access-list {number} {rule}" for rule in [*deny_rules, *rules]]
        commands += [f"interface {interface.name}", f" ip access-group {numbers[key]} in"]
    return commands


def insert_before(acl: Acl, entry: AclEntry, rules: list[str]) -> list[str]:
    """Commands that insert ``rules`` into ``acl`` just before ``entry``.

    With printed sequence numbers (IOS-XE), use the gap before the entry. Without them (classic IOS
    prints none, and remarks take none), resequence first so the n-th rule is 10*n, then insert.
    """
    kind = acl.kind
    header = f"ip access-list {kind} {acl.name}"
    if entry.sequence is not None:
        before = [e.sequence for e in acl.entries[: acl.entries.index(entry)] if e.sequence is not None]
        previous = max(before, default=0)
        if entry.sequence - previous > len(rules):
            first = entry.sequence - len(rules)
            return [header, *(f" {first + i} {rule}" for i, rule in enumerate(rules))]
    position = acl.rules.index(entry) + 1
    first = 10 * position - len(rules)
    return [
        f"ip access-list resequence {acl.name} 10 10",
        header,
        *(f" {first + i} {rule}" for i, rule in enumerate(rules)),
    ]


def _as_extended(entry: AclEntry) -> str:
    """A standard entry as the extended entry that matches the same packets."""
    source, rest = _address_spec(list(entry.words))
    spec = source.text if source is not None else " ".join(entry.words)
    return " ".join([entry.action, "ip", spec, "any", *rest])


@dataclass
class _WanFindings:
    good: list[str] = field(default_factory=list)
    good_evidence: list[Evidence] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    remediation: list[str] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)
    shown_by_a_line: bool = False
    fixed_acls: set[str] = field(default_factory=set)
    # Interfaces that need a new extended list: with the standard list whose entries it must keep, or
    # None (no list, or an undefined one: today everything is permitted).
    rebuild: list[tuple[Interface, Acl | None]] = field(default_factory=list)


def _probes(source: SourceAddress | None, interface: Interface) -> list[IPv4Address | None]:
    """The router addresses an Internet host could register on through ``interface``.

    Always the CME source address; without strict-match CME also answers on the WAN address itself.
    None stands for an address we cannot name (DHCP/PPP-negotiated).
    """
    probes: list[IPv4Address | None] = []
    if source is not None and source.address is not None:
        probes.append(source.address)
    if source is None or source.address is None or not source.strict:
        if interface.addresses:
            probes += [address.ip for address in interface.addresses]
        else:
            probes.append(None)
    return list(dict.fromkeys(probes))


def _judge_wan(
    state: DeviceState,
    config: RunningConfig,
    wan: WanInterface,
    interface: Interface,
    ports: list[int],
    source: SourceAddress | None,
    deny_rules: list[str],
    findings: _WanFindings,
) -> None:
    group_line = interface.child(r"ip access-group \S+ in$")
    name = interface.access_group_in
    if name is None or group_line is None:
        findings.rebuild.append((interface, None))
        findings.problems.append(f"{wan.describe()} has no inbound access list")
        findings.evidence.append(state.evidence(interface.line))
        return
    acl = find_acl(config, name, found=device_acls(state))
    if acl is None:
        findings.problems.append(
            f"{wan.name} applies access list {name} (line {group_line.number}), which is not defined "
            "(IOS then permits everything)"
        )
        findings.evidence += [state.evidence(interface.line), state.evidence(group_line)]
        if name not in findings.fixed_acls:
            findings.fixed_acls.add(name)
            if name.isdigit() and numbered_acl_kind(int(name)) == "extended":
                findings.remediation += [f"access-list {name} {rule}" for rule in [*deny_rules, "permit ip any any"]]
            elif name.isdigit():
                findings.rebuild.append((interface, None))  # a standard number cannot filter ports
            else:
                findings.remediation += [
                    f"ip access-list extended {name}",
                    *(f" {rule}" for rule in [*deny_rules, "permit ip any any"]),
                ]
        return
    if acl.kind == "other":
        findings.undecided.append(f"{wan.name} uses access list {name}, which is not an IPv4 standard/extended list")
        return
    verdicts = [(port, probe, sccp_verdict(acl, probe, port)) for port in ports for probe in _probes(source, interface)]
    opened = [(port, probe, v) for port, probe, v in verdicts if v.kind == "open"]
    unclear = [(port, probe, v) for port, probe, v in verdicts if v.kind == "maybe"]
    if opened:
        # Insert in front of the earliest hole: every port's deny then comes before every hole.
        first = min((v.entry for _, _, v in opened if v.entry is not None), key=acl.entries.index)
        open_ports = sorted({port for port, _, _ in opened})
        targets = sorted({str(probe) for _, probe, _ in opened if probe is not None})
        to_wan = [t for t in targets if source is None or source.address is None or t != str(source.address)]
        reach = f" to {', '.join(targets)}" if targets else ""
        why = ""
        if to_wan and source is not None:
            why = " (without strict-match CME also accepts registrations on the WAN address)"
        replaced = ""
        if acl.kind == "standard":
            replaced = " (a standard list cannot filter ports: it is replaced by an extended list)"
        findings.problems.append(
            f"{wan.name} applies access list {name}, whose line {first.line.number} ('{first.text}') permits "
            f"TCP {'/'.join(map(str, open_ports))} from any source{reach} before any deny{why}{replaced}"
        )
        findings.evidence += [state.evidence(interface.line), state.evidence(group_line), state.evidence(first.line)]
        findings.shown_by_a_line = True
        if name not in findings.fixed_acls:
            findings.fixed_acls.add(name)
            if acl.kind != "standard":
                findings.remediation += insert_before(acl, first, [f"deny tcp any any eq {p}" for p in open_ports])
        if acl.kind == "standard":
            findings.rebuild.append((interface, acl))  # a standard list cannot filter ports
        return
    if unclear:
        entry = unclear[0][2].entry
        assert entry is not None
        findings.undecided.append(
            f"{wan.name}: access list {name} line {entry.line.number} ('{entry.text}') may permit TCP "
            f"{unclear[0][0]} (object-group or unreadable entry)"
        )
        return
    denies = [v.entry for _, _, v in verdicts if v.entry is not None]
    exceptions = {e.line.number: e for _, _, v in verdicts for e in v.exceptions}
    how = "denied" if all(v.kind == "denied" for _, _, v in verdicts) else "dropped by its implicit deny"
    allowed = (
        " (allowed only from " + ", ".join(f"{e.source} (line {e.line.number})" for e in exceptions.values()) + ")"
        if exceptions
        else ""
    )
    findings.good.append(f"{wan.name}: access list {name} in, TCP {'/'.join(map(str, ports))} {how}{allowed}")
    shown = [group_line, *{entry.line.number: entry.line for entry in denies}.values()]
    if not denies:
        shown.append(acl.lines[0])
    findings.good_evidence += [state.evidence(line) for line in shown]


@check(
    id="CME-REG-02",
    title="SCCP registration (TCP 2000, and 2443 with TLS) is blocked inbound on every WAN interface",
    severity=Severity.HIGH,
    family="REG",
    reference=f"{SECTION} > IP Phone Registration Control",
    rationale=(
        "A phone (or a scanner) on the Internet that reaches TCP 2000 can register to CME and place calls "
        "at the owner's expense. The guide blocks port 2000 from the WAN side with an access list "
        "(access-list 101 deny tcp any any eq 2000) applied to the WAN interfaces."
    ),
    passes_when=(
        "every WAN interface (policy `wan_interfaces`, else detected as for CME-CDP-01) has `ip access-group X "
        "in`, X is defined, and, read in order, X denies a TCP connection from any source to the CME source "
        "address (and, without strict-match, to the WAN address) on the SCCP port of `ip source-address` "
        "(2000) and, when `secure-signaling trustpoint` is set, on 2443 — by a deny entry or by the implicit "
        "deny. A `permit` from any source that matches first fails; permits from specific sources (known "
        "remote phones) are allowed. Not applicable without telephony-service; unknown when no WAN interface "
        "can be identified."
    ),
    requires=(RUNNING_CONFIG,),
    cme_only=True,
    example_evidence=(
        "show running-config:42: interface GigabitEthernet0/0",
        "show running-config:45: ip access-group OUTSIDE-IN in",
        "show running-config:71: permit ip any any",
    ),
    remediation_example=(
        "ip access-list resequence OUTSIDE-IN 10 10",
        "ip access-list extended OUTSIDE-IN",
        " 9 deny tcp any any eq 2000",
    ),
)
def sccp_blocked_on_wan(state: DeviceState) -> Outcome:
    config = running_config(state)
    service = telephony_service(config)
    if service is None:
        return _no_cme(config)
    source = source_address(service)
    sccp_port = source.port if source is not None else SCCP_PORT
    secure = _secure_signaling(service)
    ports = [sccp_port] + ([SECURE_SCCP_PORT] if secure is not None and sccp_port != SECURE_SCCP_PORT else [])
    deny_rules = [f"deny tcp any any eq {port}" for port in ports]
    wans = device_wan_interfaces(state)
    if not wans:
        candidates = [i.name for i in device_interfaces(state) if i.kind not in _NOT_A_LINK]
        example = candidates[0] if candidates else "<wan-interface>"
        return unknown(
            "no interface is recognisably WAN (no ip nat outside, no WAN/Internet/ISP description, no default "
            "route egress, no public address, no dialer); name the uplink in the policy: "
            f"'wan_interfaces: [{example}]'" + (f" (interfaces: {', '.join(candidates)})" if candidates else "")
        )
    findings = _WanFindings()
    missing = [wan for wan in wans if wan.interface is None]
    shut = [wan for wan in wans if wan.interface is not None and wan.interface.shutdown]
    for wan in wans:
        if wan.interface is None or wan.interface.shutdown:
            continue
        _judge_wan(state, config, wan, wan.interface, ports, source, deny_rules, findings)
    notes: list[str] = []
    if shut:
        notes.append("shut down: " + ", ".join(w.describe() for w in shut))
    if missing:
        names = ", ".join(w.name for w in missing)
        notes.append(f"the policy names {names}, which the running-config does not have")
    if secure is not None:
        notes.append(f"TLS port {SECURE_SCCP_PORT} included: secure-signaling is on (line {secure.number})")
    suffix = f" ({'; '.join(notes)})" if notes else ""
    if findings.problems:
        remediation = findings.remediation + _new_lists(config, findings.rebuild, deny_rules)
        if any(line.endswith("permit ip any any") for line in remediation):
            suffix += (
                ". The proposed list ends with 'permit ip any any' to keep today's other traffic flowing: merge "
                "its deny lines into the site's edge filter if it has one"
            )
        return failed(
            "; ".join(findings.problems + findings.undecided) + suffix,
            unique_evidence(findings.evidence),
            remediation,
            from_absence=not findings.shown_by_a_line,
        )
    if findings.undecided or missing:
        return unknown("; ".join(findings.undecided + notes))
    if not findings.good:
        return passed(f"no WAN interface is up to receive registrations{suffix}")
    return passed(
        "SCCP registration is blocked from the WAN: " + "; ".join(findings.good) + suffix,
        unique_evidence(findings.good_evidence),
    )



# --- CME-REG-03 ------------------------------------------------------------------------------------

_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?")


_IOS_RELEASE = re.compile(r"(\d+)\.(\d+)")


def cme_version(state: DeviceState) -> tuple[int, int] | None:
    """The CME version from ``show telephony-service`` (``CONFIG (Version=4.0(0))``), when collected."""
    records = state.records(TELEPHONY_SERVICE)
    if not records:
        return None
    match = _VERSION.match(str(records[0].get("version", "")))
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


@check(
    id="CME-REG-03",
    title="Auto-registration of unknown phones is disabled",
    severity=Severity.HIGH,
    family="REG",
    reference=f"{SECTION} > IP Phone Registration Control",
    rationale=(
        "By default CME lets any phone register, configured or not. The guide disables automatic registration "
        "with no auto-reg-ephone (CME 4.0 and later) so that only phones whose MAC address is configured under "
        "an ephone can register."
    ),
    passes_when=(
        "telephony-service has `no auto-reg-ephone`. Not applicable without telephony-service, or on CME 3.x "
        "(the command does not exist) without `auto assign`; on CME 3.x, `auto assign` fails (unknown phones "
        "then get lines)."
    ),
    requires=(RUNNING_CONFIG,),
    cme_only=True,
    example_evidence=("show running-config:86: telephony-service",),
    remediation_example=("telephony-service", " no auto-reg-ephone"),
)
def auto_registration_off(state: DeviceState) -> Outcome:
    config = running_config(state)
    service = telephony_service(config)
    if service is None:
        return _no_cme(config)
    off = service.first(r"no auto-reg-ephone$")
    if off is not None:
        return passed(f"auto-registration is disabled (line {off.number})", [state.evidence(off)])
    assign = service.find(r"auto assign \S")
    version = cme_version(state)
    shown = f"{version[0]}.{version[1]}" if version is not None else ""
    if version is None:
        ios = config.first_global(r"version \d+\.\d+")
        release = _IOS_RELEASE.match(ios.words[1]) if ios is not None else None
        if release is not None and (int(release.group(1)), int(release.group(2))) < (12, 4):
            # CME 4.0 came with IOS 12.4(9)T: an older IOS carries CME 3.x at most.
            version, shown = (3, 0), f"3.x (IOS {ios.words[1] if ios is not None else ''})"
        elif ios is None and not assign:
            # IOS prints "version" first: without it the head was cut, and with it the release. On
            # CME 3.x the command does not exist and, without auto assign, this is not applicable.
            return unknown(
                "telephony-service lacks 'no auto-reg-ephone', but the CME release is unknown (no 'version' "
                "line, no show telephony-service): before CME 4.0 the command does not exist"
            )
    if version is not None and version < (4, 0):
        if not assign:
            # The guide: before CME 4.0 unknown phones register but get no dial tone unless auto assign is on.
            return not_applicable(
                f"CME {shown} has no 'no auto-reg-ephone' (CME 4.0+); unknown phones register but get no "
                "lines since auto assign is off (see CME-REG-04 for the phones registered now)"
            )
        return failed(
            f"CME {shown} cannot refuse unknown phones, and auto assign (line {assign[0].number}) gives them "
            "lines; remove auto assign, provision ephones before the ip source-address, and upgrade to CME 4.0+ "
            "for no auto-reg-ephone",
            [state.evidence(line) for line in assign],
            ["telephony-service", *(f" no {line.command}" for line in assign)],
        )
    extra = ""
    if assign:
        extra = f"; auto assign (line {assign[0].number}) also gives unknown phones lines to call from"
    explicit = service.first(r"auto-reg-ephone$")
    if explicit is not None:
        # IOS prints only the "no" form; a capture that shows the default spelled out (a published
        # config, "show running-config all") proves it by a line, whatever damage is around it.
        return failed(
            f"telephony-service has auto-reg-ephone (line {explicit.number}): any phone that reaches CME can "
            "register" + extra + ". Note: 'no auto-reg-ephone' also turns off GUI ephone provisioning and CME "
            "SRST fallback registration",
            [state.evidence(service), state.evidence(explicit), *(state.evidence(line) for line in assign)],
            ["telephony-service", " no auto-reg-ephone"],
        )
    return failed(
        "telephony-service lacks 'no auto-reg-ephone': any phone that reaches CME can register" + extra
        + ". Note: this also turns off GUI ephone provisioning and CME SRST fallback registration",
        [state.evidence(service), *(state.evidence(line) for line in assign)],
        ["telephony-service", " no auto-reg-ephone"],
        from_absence=True,
        within=[service.number],
    )


# --- CME-REG-04 ------------------------------------------------------------------------------------


@check(
    id="CME-REG-04",
    title="Every registered phone is a configured ephone (no unknown phones)",
    severity=Severity.HIGH,
    family="REG",
    reference=f"{SECTION} > Monitoring IP Phone Registration",
    rationale=(
        "A registered phone whose MAC address no ephone is configured with registered through auto-registration "
        "(the guide's %IPPHONE-6-REGISTER_NEW): it may be a rogue device, or a phone someone plugged in without "
        "provisioning. Either way it should be known."
    ),
    passes_when=(
        "every phone `show ephone registered` lists as REGISTERED has an `ephone N` with that `mac-address` "
        "(MACs compared without dots and case). Passes when no phone is registered (the output says so). "
        "Not applicable without telephony-service."
    ),
    requires=(RUNNING_CONFIG, EPHONE_REGISTERED),
    cme_only=True,
    example_evidence=(
        "show ephone registered:14: ephone-7[6] Mac:0030.94C3.8724 TCP socket:[9] activeLine:0 ... REGISTERED",
        "show ephone registered:16: IP:198.51.100.23 * 49913 7965 keepalive 12 max_line 6",
    ),
    remediation_example=(
        "telephony-service",
        " no auto-reg-ephone",
        "! configure the phones you own; find and remove the others",
        "ephone 7",
        " mac-address 0030.94C3.8724",
    ),
)
def no_unknown_phones(state: DeviceState) -> Outcome:
    config = running_config(state)
    service = telephony_service(config)
    if service is None:
        return _no_cme(config)
    listed = _phones_or_outcome(state)
    if isinstance(listed, Outcome):
        return listed
    if not listed.phones:
        return _no_phones(listed, "no unknown phone either")
    known = _ephones_by_mac(config)
    strangers = [phone for phone in listed.phones if phone.mac not in known]
    if not strangers:
        evidence: list[Evidence] = []
        for phone in listed.phones:
            evidence += [*phone.evidence[:1], state.evidence(known[phone.mac].mac_line or known[phone.mac].section)]
        return passed(
            f"all {len(listed.phones)} registered phone(s) are configured ephones: "
            + ", ".join(f"ephone-{p.ephone_id} -> ephone {known[p.mac].number}" for p in listed.phones),
            evidence,
        )
    remediation: list[str] = []
    if service.first(r"no auto-reg-ephone$") is None:
        remediation += ["telephony-service", " no auto-reg-ephone"]
    remediation.append("! configure the phones you own; find and remove the others")
    for phone, number in zip(strangers, _free_ephone_numbers(config, [p.ephone_id for p in strangers])):
        remediation += [f"ephone {number}", f" mac-address {dotted_mac(phone.mac)}"]
    return failed(
        f"{len(strangers)} of {len(listed.phones)} registered phone(s) have no configured ephone: "
        + "; ".join(phone.describe() for phone in strangers),
        [item for phone in strangers for item in phone.evidence],
        remediation,
        # "No ephone has this MAC" rests on the ephone sections a cut-off config may not show.
        from_absence=True,
    )


# --- CME-REG-05 ------------------------------------------------------------------------------------


@check(
    id="CME-REG-05",
    title="Every registered phone is in a trusted phone subnet (remote phones are listed)",
    severity=Severity.MEDIUM,
    family="REG",
    reference=f"{SECTION} > IP Phone Registration Control; {NAT_SECTION} > Remote Phones with Public IP Addresses",
    rationale=(
        "The guide treats the local segment as the trusted domain and allows registration from it only. A phone "
        "registered from elsewhere is either a remote phone the site set up on purpose (it then needs MTP and "
        "G.729, CME-NAT-01) or a device that should never have reached CME."
    ),
    passes_when=(
        "every REGISTERED phone's address lies in a trusted phone subnet: the subnets of the interface holding "
        "the telephony-service `ip source-address` (not a loopback, /32 or WAN interface) plus the policy "
        "`trusted_subnets`. Passes when no phone is registered; unknown when no trusted subnet can be "
        "determined (add `trusted_subnets` to the policy). Not applicable without telephony-service."
    ),
    requires=(RUNNING_CONFIG, EPHONE_REGISTERED),
    cme_only=True,
    example_evidence=(
        "show ephone registered:14: ephone-7[6] Mac:0030.94C3.8724 TCP socket:[9] activeLine:0 ... REGISTERED",
        "show ephone registered:16: IP:198.51.100.23 * 49913 7965 keepalive 12 max_line 6",
    ),
    remediation_example=(
        "! remove the phones that are not known remote phones:",
        "no ephone 7",
    ),
)
def phones_in_trusted_subnets(state: DeviceState) -> Outcome:
    config = running_config(state)
    if telephony_service(config) is None:
        return _no_cme(config)
    listed = _phones_or_outcome(state)
    if isinstance(listed, Outcome):
        return listed
    networks = state.derived(_device_phone_networks)
    if not networks.networks:
        return _unknown_networks(config, networks)
    if not listed.phones:
        return _no_phones(listed, "none is outside the trusted subnets")
    split = split_by_network(listed.phones, networks)
    notes = f" ({'; '.join(networks.notes)})" if networks.notes else ""
    if split.remote:
        known = _ephones_by_mac(config)
        service = telephony_service(config)
        assert service is not None
        source = networks.source
        under_service: list[str] = []
        if source is not None and not source.strict:
            under_service.append(_strict_source_line(source))
        if any(p.mac not in known for p in split.remote) and service.first(r"no auto-reg-ephone$") is None:
            under_service.append(" no auto-reg-ephone")
        remediation = ["telephony-service", *under_service] if under_service else []
        configured = list(dict.fromkeys(known[p.mac].number for p in split.remote if p.mac in known))
        if configured:
            remediation.append("! remove the phones that are not known remote phones:")
            remediation += [f"no ephone {number}" for number in configured]
        if not remediation:
            remediation.append("! block TCP 2000 from the WAN (CME-REG-02)")
        return failed(
            f"{len(split.remote)} of {len(listed.phones)} registered phone(s) are outside the trusted phone "
            f"subnets [{networks.describe()}]: " + "; ".join(p.describe() for p in split.remote)
            + ". If they are your remote phones, they need mtp and codec g729r8 (CME-NAT-01); otherwise remove "
            "them and block TCP 2000 from the WAN (CME-REG-02)" + notes,
            [item for phone in split.remote for item in phone.evidence],
            remediation,
        )
    if split.unplaced:
        return unknown(
            "cannot place "
            + "; ".join(p.describe() for p in split.unplaced)
            + " (no IPv4 address, and the policy lists no IPv6 trusted subnet)" + notes
        )
    return passed(
        f"all {len(listed.phones)} registered phone(s) are in trusted phone subnets [{networks.describe()}]{notes}",
        networks.evidence,
    )


# --- CME-NAT-01 ------------------------------------------------------------------------------------


def _template_lines(config: RunningConfig, ephone: ConfigLine) -> list[ConfigLine]:
    """The lines of the ephone-template an ephone uses (its mtp/codec count as the ephone's own)."""
    reference = ephone.first(r"ephone-template \d+$")
    if reference is None:
        return []
    for template in config.sections(rf"ephone-template {reference.words[1]}$"):
        return list(template.sub_lines())
    return []


@dataclass(frozen=True)
class _MediaSetup:
    mtp: ConfigLine | None
    codec: ConfigLine | None  # any codec line; good only when it is g729r8
    template: ConfigLine | None  # the ephone's "ephone-template N" line, when mtp or codec come from it

    @property
    def g729r8(self) -> bool:
        return self.codec is not None and self.codec.command.startswith("codec g729r8")


def _media_setup(config: RunningConfig, ephone: ConfigLine) -> _MediaSetup:
    # The ephone's own lines win over its template's (IOS applies them that way).
    own_mtp, own_codec = ephone.first(r"mtp$"), ephone.first(r"codec \S")
    template = _template_lines(config, ephone)
    template_mtp = next((line for line in template if line.command == "mtp"), None)
    template_codec = next((line for line in template if line.command.startswith("codec ")), None)
    mtp, codec = own_mtp or template_mtp, own_codec or template_codec
    inherited = (mtp is not None and mtp is template_mtp) or (codec is not None and codec is template_codec)
    return _MediaSetup(mtp, codec, ephone.first(r"ephone-template \d+$") if inherited else None)


@check(
    id="CME-NAT-01",
    title="Remote phones use an MTP and the G.729r8 codec",
    severity=Severity.MEDIUM,
    family="NAT",
    reference=f"{NAT_SECTION} > Remote Phones with Public IP Addresses; Remote Phones with Private IP Addresses",
    rationale=(
        "Media between a remote phone and the local phones must pass through CME, or audio is one-way across "
        "NAT and the WAN. The guide configures mtp on remote phones (CME then terminates and relays the media) "
        "and says codec g729r8 is required for them."
    ),
    passes_when=(
        "every registered phone outside the trusted phone subnets (as in CME-REG-05) has `mtp` and "
        "`codec g729r8` in its `ephone` (matched by MAC; its ephone-template counts). Not applicable when no "
        "phone is remote, or without telephony-service; unknown when the trusted subnets cannot be determined."
    ),
    requires=(RUNNING_CONFIG, EPHONE_REGISTERED),
    cme_only=True,
    example_evidence=(
        "show ephone registered:16: IP:198.51.100.23 * 49913 7965 keepalive 12 max_line 6",
        "show running-config:140: ephone 7",
    ),
    remediation_example=("ephone 7", " mtp", " codec g729r8"),
)
def remote_phones_use_mtp(state: DeviceState) -> Outcome:
    config = running_config(state)
    if telephony_service(config) is None:
        return _no_cme(config)
    listed = _phones_or_outcome(state)
    if isinstance(listed, Outcome):
        return listed
    networks = state.derived(_device_phone_networks)
    if not networks.networks:
        return _unknown_networks(config, networks)
    split = split_by_network(listed.phones, networks)
    if not split.remote:
        if split.unplaced:
            return unknown(
                "cannot tell whether " + "; ".join(p.describe() for p in split.unplaced)
                + " are remote (no IPv4 address, and the policy lists no IPv6 trusted subnet)"
            )
        count = f"all {len(listed.phones)} registered phone(s) are" if listed.phones else "no phone is"
        return not_applicable(f"no remote phone: {count} in the trusted phone subnets [{networks.describe()}]")
    known = _ephones_by_mac(config)
    good: list[Evidence] = []
    problems: list[str] = []
    evidence: list[Evidence] = []
    remediation: list[str] = []
    shown_by_a_line = False
    unconfigured = [p for p in split.remote if p.mac not in known]
    for phone in split.remote:
        ephone = known.get(phone.mac)
        if ephone is None:
            continue
        setup = _media_setup(config, ephone.section)
        if setup.mtp is not None and setup.g729r8:
            shown = (ephone.section, setup.template, setup.mtp, setup.codec)
            good += [state.evidence(line) for line in shown if line is not None]
            continue
        lacks = []
        if setup.mtp is None:
            lacks.append("no mtp")
        if setup.codec is None:
            lacks.append("no codec g729r8")
        elif not setup.g729r8:
            lacks.append(f"'{setup.codec.command}' (line {setup.codec.number})")
            shown_by_a_line = True
        problems.append(f"{phone.describe()} is ephone {ephone.number} with {' and '.join(lacks)}")
        evidence += [*phone.evidence, state.evidence(ephone.section)]
        if setup.codec is not None and not setup.g729r8:
            evidence.append(state.evidence(setup.codec))
        remediation += [ephone.section.command, *([" mtp"] if setup.mtp is None else []),
                        *([" codec g729r8"] if not setup.g729r8 else [])]
    if unconfigured:
        numbers = _free_ephone_numbers(config, [p.ephone_id for p in unconfigured])
        for phone, number in zip(unconfigured, numbers):
            problems.append(f"{phone.describe()} has no configured ephone to carry mtp and codec (see CME-REG-04)")
            evidence += phone.evidence
            remediation += [f"ephone {number}", f" mac-address {dotted_mac(phone.mac)}", " mtp", " codec g729r8"]
    if problems:
        return failed(
            "remote phone(s) without MTP/G.729r8 (one-way audio across NAT/WAN): " + "; ".join(problems),
            evidence,
            remediation,
            from_absence=not shown_by_a_line,
        )
    return passed(
        f"all {len(split.remote)} remote phone(s) have mtp and codec g729r8: "
        + "; ".join(p.describe() for p in split.remote),
        good,
    )
