"""What the running-config says about the router's place in the network.

Interfaces (addresses, NAT role, filters, CDP), static routes, access lists, and which interfaces
face an untrusted network (WAN). Checks that need any of these (CDP, firewall, NAT, registration
exposure, vty and SNMP filters) read them from here so they all agree on one answer.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import TYPE_CHECKING

from cmelive.parsing.running_config import ConfigLine, RunningConfig

if TYPE_CHECKING:  # imported for annotations only: cmelive.policy -> checks -> here would be a cycle
    from cmelive.policy import Policy

# Full interface type names as IOS prints them, in the order an abbreviation is resolved: the
# first type starting with the abbreviation wins ("e" is Ethernet, "se" Serial, "vi" Virtual-Access).
_INTERFACE_TYPES: tuple[str, ...] = (
    "FastEthernet",
    "GigabitEthernet",
    "TenGigabitEthernet",
    "Ethernet",
    "Serial",
    "Dialer",
    "Loopback",
    "Vlan",
    "Tunnel",
    "Port-channel",
    "BVI",
    "ATM",
    "Cellular",
    "Virtual-Access",
    "Virtual-Template",
    "Multilink",
    "NVI",
    "Null",
    "Service-Engine",
    "Integrated-Service-Engine",
    "Async",
    "BRI",
    "Embedded-Service-Engine",
    "Wlan-GigabitEthernet",
)
_NAME_SPLIT = re.compile(r"^([A-Za-z][A-Za-z\-]*?)\s*(\d.*)$")

# Interface kinds that never carry traffic to a neighbour, whatever address they hold.
_NOT_A_LINK = ("Loopback", "Null", "NVI")

# A description naming the uplink. Underscore counts as a separator ("WAN_LINK"), so the usual
# \b is not enough.
_WAN_WORDS = re.compile(r"(?<![A-Za-z0-9])(wan|internet|isp)(?![A-Za-z0-9])", re.IGNORECASE)

_STANDARD_NUMBERS = ((1, 99), (1300, 1999))
_EXTENDED_NUMBERS = ((100, 199), (2000, 2699))


def canonical_interface_name(name: str) -> str:
    """``fa0/0`` / ``Fa 0/0`` / ``FastEthernet0/0`` -> ``FastEthernet0/0``; unknown types are kept."""
    match = _NAME_SPLIT.match(name.strip())
    if not match:
        return name.strip()
    prefix, rest = match.group(1).lower(), match.group(2)
    for full in _INTERFACE_TYPES:
        if full.lower() == prefix:
            return full + rest
    for full in _INTERFACE_TYPES:
        if full.lower().startswith(prefix):
            return full + rest
    return match.group(1) + rest


def same_interface(a: str, b: str) -> bool:
    return canonical_interface_name(a).lower() == canonical_interface_name(b).lower()


@dataclass(frozen=True)
class Interface:
    """One ``interface`` section of the running-config."""

    name: str
    line: ConfigLine
    addresses: tuple[IPv4Interface, ...]  # primary first, then secondaries
    dhcp: bool  # ``ip address dhcp``: the address comes from the neighbour (usually the ISP)
    negotiated: bool  # ``ip address negotiated`` (PPP)
    unnumbered: str | None
    description: str | None
    nat: str | None  # "inside" / "outside" / None
    access_group_in: str | None
    access_group_out: str | None
    shutdown: bool
    cdp_disabled: bool  # ``no cdp enable`` on this interface
    cdp_enabled_line: bool  # an explicit ``cdp enable``
    pppoe_client: bool  # ``pppoe-client dial-pool-number`` / ``pppoe enable``: faces a DSL/cable modem
    zone: str | None  # ``zone-member security Z``
    inspect: tuple[tuple[str, str], ...]  # (rule name, direction) from ``ip inspect NAME in|out``
    vrf: str | None

    @property
    def kind(self) -> str:
        """The interface type (``FastEthernet``), without its slot/port."""
        match = _NAME_SPLIT.match(self.name)
        return match.group(1) if match else self.name

    @property
    def parent(self) -> str | None:
        """``FastEthernet0/0`` for ``FastEthernet0/0.10``; None for a main interface."""
        return self.name.split(".", 1)[0] if "." in self.name else None

    @cached_property
    def networks(self) -> tuple[IPv4Network, ...]:
        # Kept: building an IPv4Network is costly, and lookups ask for every interface's networks.
        return tuple(address.network for address in self.addresses)

    def child(self, pattern: str) -> ConfigLine | None:
        return self.line.first(pattern)


def interfaces(config: RunningConfig) -> list[Interface]:
    """Every ``interface`` section, in config order."""
    return [_interface(section) for section in config.sections(r"interface \S")]


def find_interface(found: list[Interface], name: str) -> Interface | None:
    """The interface called ``name`` (abbreviations accepted: ``Fa0/0``)."""
    for interface in found:
        if same_interface(interface.name, name):
            return interface
    return None


def interface_for_address(found: list[Interface], address: IPv4Address) -> Interface | None:
    """The interface whose subnet holds ``address`` (longest prefix wins; the first such interface
    in config order), or None."""
    return _address_index(found).lookup(address)


class _AddressIndex:
    """The subnets of a list of interfaces, by prefix length: a lookup costs at most 33 probes
    instead of a pass over every interface (a config that repeats its sections -- a router
    flooding its output -- holds thousands, asked about once per route)."""

    def __init__(self, found: Sequence[Interface]) -> None:
        # Keyed by the network's address as an int: probing builds no IPv4Network per prefix length.
        self.by_prefix: dict[int, dict[int, Interface]] = {}
        for interface in found:
            for network in interface.networks:
                self.by_prefix.setdefault(network.prefixlen, {}).setdefault(int(network.network_address), interface)
        self.longest_first = [(prefix, _MASKS[prefix]) for prefix in sorted(self.by_prefix, reverse=True)]

    def lookup(self, address: IPv4Address) -> Interface | None:
        value = int(address)
        for prefix, mask in self.longest_first:
            owner = self.by_prefix[prefix].get(value & mask)
            if owner is not None:
                return owner
        return None


#: The netmask of each prefix length, as an int.
_MASKS = tuple((0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF for prefix in range(33))


# The last lists indexed, by identity (and length, should one grow): the checks ask about one
# device's interface list many times, and lists cannot be keys of an lru_cache.
_INDEXES: dict[tuple[int, int], tuple[Sequence[Interface], _AddressIndex]] = {}


def _address_index(found: Sequence[Interface]) -> _AddressIndex:
    key = (id(found), len(found))
    cached = _INDEXES.get(key)
    if cached is not None and cached[0] is found:
        return cached[1]
    index = _AddressIndex(found)
    if len(_INDEXES) >= 8:
        _INDEXES.clear()
    _INDEXES[key] = (found, index)
    return index


def _interface(section: ConfigLine) -> Interface:
    name = section.command.split(" ", 1)[1].strip()
    # "interface Serial0/2/0:23" and "interface FastEthernet0/0.10 point-to-point" both occur.
    name = name.split()[0]
    addresses: list[IPv4Interface] = []
    dhcp = negotiated = shutdown = cdp_disabled = cdp_enabled = pppoe = False
    unnumbered = description = nat = group_in = group_out = zone = vrf = None
    inspect: list[tuple[str, str]] = []
    for child in section.sub_lines():
        words = child.command.split()
        command = child.command
        if command.startswith("description "):
            description = command[len("description "):]
        elif len(words) >= 4 and words[:2] == ["ip", "address"] and _is_ipv4(words[2]):
            address = _ipv4_interface(words[2], words[3])
            if address is not None:
                if "secondary" in words[4:]:
                    addresses.append(address)
                else:
                    addresses.insert(0, address)
        elif words[:3] == ["ip", "address", "dhcp"]:
            dhcp = True
        elif words[:3] == ["ip", "address", "negotiated"]:
            negotiated = True
        elif words[:2] == ["ip", "unnumbered"] and len(words) > 2:
            unnumbered = words[2]
        elif words[:2] == ["ip", "nat"] and len(words) > 2 and words[2] in ("inside", "outside"):
            nat = words[2]
        elif words[:2] == ["ip", "access-group"] and len(words) >= 4:
            if words[3] == "in":
                group_in = words[2]
            elif words[3] == "out":
                group_out = words[2]
        elif words[:2] == ["ip", "inspect"] and len(words) >= 4:
            inspect.append((words[2], words[3]))
        elif command == "shutdown":
            shutdown = True
        elif command == "no cdp enable":
            cdp_disabled = True
        elif command == "cdp enable":
            cdp_enabled = True
        elif command.startswith("pppoe-client dial-pool-number") or command == "pppoe enable":
            pppoe = True
        elif words[:2] == ["zone-member", "security"] and len(words) > 2:
            zone = words[2]
        elif words[:3] == ["ip", "vrf", "forwarding"] and len(words) > 3:
            vrf = words[3]
        elif words[:2] == ["vrf", "forwarding"] and len(words) > 2:
            vrf = words[2]
    return Interface(
        name=name,
        line=section,
        addresses=tuple(addresses),
        dhcp=dhcp,
        negotiated=negotiated,
        unnumbered=unnumbered,
        description=description,
        nat=nat,
        access_group_in=group_in,
        access_group_out=group_out,
        shutdown=shutdown,
        cdp_disabled=cdp_disabled,
        cdp_enabled_line=cdp_enabled,
        pppoe_client=pppoe,
        zone=zone,
        inspect=tuple(inspect),
        vrf=vrf,
    )


def _is_ipv4(text: str) -> bool:
    try:
        IPv4Address(text)
    except ValueError:
        return False
    return True


def _ipv4_interface(address: str, mask: str) -> IPv4Interface | None:
    try:
        return IPv4Interface(f"{address}/{mask}")
    except ValueError:
        return None


def is_public(address: IPv4Address) -> bool:
    """True for a globally routable address (not RFC 1918, loopback, CGNAT, documentation, ...)."""
    return address.is_global


# --- static routes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaticRoute:
    """One ``ip route`` line."""

    line: ConfigLine
    prefix: IPv4Network
    interface: str | None  # the egress interface, when the route names one
    next_hop: IPv4Address | None
    dhcp: bool  # ``ip route 0.0.0.0 0.0.0.0 dhcp``: the gateway learnt by an ``ip address dhcp`` interface
    vrf: str | None

    @property
    def is_default(self) -> bool:
        return self.prefix.prefixlen == 0


def static_routes(config: RunningConfig) -> list[StaticRoute]:
    """Every ``ip route`` line that parses; ``ip default-gateway`` counts as a default route."""
    routes: list[StaticRoute] = []
    for line in config.globals(r"ip (route|default-gateway) "):
        words = line.command.split()
        if words[1] == "default-gateway":
            if len(words) > 2 and _is_ipv4(words[2]):
                routes.append(
                    StaticRoute(line, IPv4Network("0.0.0.0/0"), None, IPv4Address(words[2]), False, None)
                )
            continue
        rest = words[2:]
        vrf = None
        if rest[:1] == ["vrf"] and len(rest) > 1:
            vrf, rest = rest[1], rest[2:]
        if len(rest) < 3 or not _is_ipv4(rest[0]) or not _is_ipv4(rest[1]):
            continue
        try:
            prefix = IPv4Network(f"{rest[0]}/{rest[1]}", strict=False)
        except ValueError:
            continue
        target = rest[2]
        interface = next_hop = None
        dhcp = False
        if _is_ipv4(target):
            next_hop = IPv4Address(target)
        elif target == "dhcp":
            dhcp = True
        else:
            interface = target
            if len(rest) > 3 and _is_ipv4(rest[3]):
                next_hop = IPv4Address(rest[3])
        routes.append(StaticRoute(line, prefix, interface, next_hop, dhcp, vrf))
    return routes


class RouteTable:
    """The global (non-VRF) static routes of a list, by prefix length: the longest prefix that holds
    an address costs at most 33 probes instead of a pass over every route (a big router asks once per
    H.323 peer and registered phone, and may hold thousands of routes)."""

    def __init__(self, routes: Sequence[StaticRoute]) -> None:
        self.routes = tuple(routes)
        by_prefix: dict[int, dict[int, StaticRoute]] = {}
        for route in self.routes:
            if route.vrf is None:
                # Among routes to the same prefix, the first in config order wins (as a pass would).
                by_prefix.setdefault(route.prefix.prefixlen, {}).setdefault(int(route.prefix.network_address), route)
        self._by_prefix = by_prefix
        self._longest_first = [(prefix, _MASKS[prefix]) for prefix in sorted(by_prefix, reverse=True)]

    def lookup(self, address: IPv4Address) -> StaticRoute | None:
        """The global route with the longest prefix holding ``address`` (the first such route), or None."""
        value = int(address)
        for prefix, mask in self._longest_first:
            route = self._by_prefix[prefix].get(value & mask)
            if route is not None:
                return route
        return None


def default_routes(config: RunningConfig) -> list[StaticRoute]:
    return [route for route in static_routes(config) if route.is_default]


# --- WAN detection -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WanInterface:
    """An interface facing an untrusted network, and why we think so."""

    name: str
    reasons: tuple[str, ...]
    interface: Interface | None  # None when the policy names an interface the config lacks

    @property
    def reason(self) -> str:
        return ", ".join(self.reasons)

    def describe(self) -> str:
        """``FastEthernet0/0 (ip nat outside)``."""
        return f"{self.name} ({self.reason})"


def wan_interfaces(
    config: RunningConfig,
    policy: Policy | None = None,
    *,
    found: list[Interface] | None = None,
    routes: Sequence[StaticRoute] | None = None,
) -> list[WanInterface]:
    """The interfaces facing an untrusted network.

    The site policy's ``wan_interfaces`` wins when given: the site knows its own topology and we
    do not second-guess it. Otherwise they are detected from the config; an empty list means
    nothing in the config marks any interface as WAN (callers must not read that as "no WAN").
    ``found`` is ``interfaces(config)`` and ``routes`` ``static_routes(config)`` when the caller
    already has them.
    """
    found = interfaces(config) if found is None else found
    if policy is not None and policy.wan_interfaces:
        listed: list[WanInterface] = []
        for name in policy.wan_interfaces:
            interface = find_interface(found, name)
            shown = interface.name if interface else name
            listed.append(WanInterface(shown, ("listed in policy wan_interfaces",), interface))
        return listed
    return detect_wan_interfaces(config, found, routes)


def detect_wan_interfaces(
    config: RunningConfig, found: list[Interface] | None = None, routes: Sequence[StaticRoute] | None = None
) -> list[WanInterface]:
    """WAN interfaces as the config shows them, each with every reason that applies."""
    found = interfaces(config) if found is None else found
    defaults = default_routes(config) if routes is None else [route for route in routes if route.is_default]
    reasons: dict[str, list[str]] = {interface.name: [] for interface in found}

    def add(interface: Interface, reason: str) -> None:
        if reason not in reasons[interface.name]:
            reasons[interface.name].append(reason)

    for interface in found:
        if interface.nat == "outside":
            add(interface, "ip nat outside")
        if interface.description and _WAN_WORDS.search(interface.description):
            add(interface, f"description '{interface.description}'")
        if interface.kind in _NOT_A_LINK:
            continue
        public = [a for a in interface.addresses if is_public(a.ip)]
        if public:
            add(interface, f"public address {public[0].ip}")
        if interface.kind == "Dialer":
            add(interface, "dialer interface")
        if interface.kind == "Cellular":
            add(interface, "cellular interface")
        if interface.pppoe_client:
            add(interface, "PPPoE client towards the modem")
    for route in defaults:
        if route.vrf is not None:
            # A VRF's default route says nothing about the global table's uplink.
            continue
        egress: Interface | None = None
        if route.interface is not None:
            egress = find_interface(found, route.interface)
        elif route.next_hop is not None:
            egress = interface_for_address(found, route.next_hop)
        elif route.dhcp:
            for interface in found:
                if interface.dhcp:
                    add(interface, "default route via its DHCP gateway")
        if egress is not None:
            via = f" via {route.next_hop}" if route.next_hop is not None else ""
            add(egress, f"default route{via}")
    return [
        WanInterface(interface.name, tuple(reasons[interface.name]), interface)
        for interface in found
        if reasons[interface.name]
    ]


# --- access lists --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AclEntry:
    """One entry of an access list (``permit``, ``deny``, ``remark``, ...)."""

    line: ConfigLine
    action: str  # permit / deny / remark / evaluate / dynamic / ...
    words: tuple[str, ...]  # what follows the action
    sequence: int | None
    kind: str  # the list's kind: standard / extended / other

    @property
    def is_rule(self) -> bool:
        return self.action in ("permit", "deny")

    @property
    def source(self) -> str | None:
        """The source as written (``any``, ``host 10.1.1.5``, ``10.1.1.0 0.0.0.255``)."""
        if not self.is_rule:
            return None
        if self.kind == "standard":
            spec, _ = _address_spec(list(self.words))
            return spec
        if self.kind == "extended" and self.words:
            spec, _ = _address_spec(list(self.words[1:]))
            return spec
        return None

    @property
    def destination(self) -> str | None:
        """The destination of an extended entry, as written."""
        if self.kind != "extended" or not self.is_rule or not self.words:
            return None
        _, rest = _address_spec(list(self.words[1:]))
        rest = _skip_ports(rest)
        spec, _ = _address_spec(rest)
        return spec

    @property
    def matches_any_source(self) -> bool:
        return self.source in ("any", "0.0.0.0 255.255.255.255")

    @property
    def text(self) -> str:
        """The entry as it would be typed inside ``ip access-list``: ``permit 10.1.1.0 0.0.0.255``."""
        return " ".join((self.action, *self.words))


@dataclass(frozen=True)
class Acl:
    """An IPv4 access list: numbered (``access-list N``) or named (``ip access-list ... NAME``)."""

    name: str
    kind: str  # standard / extended / other
    numbered: bool
    lines: tuple[ConfigLine, ...]  # the defining lines: each ``access-list N`` line, or the header
    entries: tuple[AclEntry, ...]

    @property
    def rules(self) -> tuple[AclEntry, ...]:
        return tuple(entry for entry in self.entries if entry.is_rule)

    def permits_any_source(self) -> AclEntry | None:
        """The first ``permit`` entry matching every source address, if any."""
        for entry in self.rules:
            if entry.action == "permit" and entry.matches_any_source:
                return entry
        return None


def numbered_acl_kind(number: int) -> str:
    if any(low <= number <= high for low, high in _STANDARD_NUMBERS):
        return "standard"
    if any(low <= number <= high for low, high in _EXTENDED_NUMBERS):
        return "extended"
    return "other"


def acls(config: RunningConfig) -> list[Acl]:
    """Every IPv4 access list, numbered ones first (config order), then named ones."""
    numbered: dict[str, list[ConfigLine]] = {}
    for line in config.globals(r"access-list \d+ "):
        numbered.setdefault(line.words[1], []).append(line)
    found: list[Acl] = []
    for number, lines in numbered.items():
        kind = numbered_acl_kind(int(number))
        entries = tuple(_entry(line, line.command.split()[2:], kind) for line in lines)
        found.append(Acl(number, kind, True, tuple(lines), entries))
    for header in config.sections(r"ip access-list (standard|extended) \S"):
        words = header.command.split()
        kind, name = words[2], words[3]
        entries = tuple(_entry(child, child.command.split(), kind) for child in header.sub_lines())
        found.append(Acl(name, kind, name.isdigit(), (header,), entries))
    return found


def find_acl(config: RunningConfig, name: str, *, found: Sequence[Acl] | None = None) -> Acl | None:
    """The IPv4 access list called ``name`` (a number or a name), or None when it is not defined.

    ``access-list 10 ...`` and ``ip access-list standard 10`` define the same list; if a config
    has both forms their entries are merged. ``found`` is ``acls(config)`` when the caller already has it.
    """
    matching = [acl for acl in (acls(config) if found is None else found) if acl.name == name]
    if not matching:
        return None
    if len(matching) == 1:
        return matching[0]
    first = matching[0]
    return Acl(
        first.name,
        first.kind,
        first.numbered,
        tuple(line for acl in matching for line in acl.lines),
        tuple(entry for acl in matching for entry in acl.entries),
    )


def acl_names(config: RunningConfig, *, found: Sequence[Acl] | None = None) -> set[str]:
    """Names of the IPv4 access lists; ``found`` is ``acls(config)`` when the caller already has it."""
    return {acl.name for acl in (acls(config) if found is None else found)}


def free_standard_acl_number(
    config: RunningConfig, preferred: int = 10, *, found: Sequence[Acl] | None = None
) -> int:
    """An unused standard ACL number, ``preferred`` when free (the guide's examples use 10)."""
    used = acl_names(config, found=found)
    for number in (preferred, *range(preferred + 1, 100), *range(1, preferred), *range(1300, 2000)):
        if str(number) not in used:
            return number
    raise ValueError("every standard ACL number is in use")


def _entry(line: ConfigLine, words: list[str], kind: str) -> AclEntry:
    sequence = None
    if words and words[0].isdigit():
        sequence = int(words[0])
        words = words[1:]
    action = words[0] if words else ""
    return AclEntry(line, action, tuple(words[1:]), sequence, kind)


def _address_spec(words: list[str]) -> tuple[str | None, list[str]]:
    """Split an address specification off the front of ``words``."""
    if not words:
        return None, []
    first = words[0]
    if first == "any":
        return "any", words[1:]
    if first in ("host", "object-group", "addrgroup") and len(words) > 1:
        return f"{first} {words[1]}", words[2:]
    if _is_ipv4(first):
        if len(words) > 1 and _is_ipv4(words[1]):
            return f"{first} {words[1]}", words[2:]
        return first, words[1:]  # standard ACL shorthand: "access-list 10 permit 10.1.1.1"
    if "/" in first:
        return first, words[1:]
    return None, words


def _skip_ports(words: list[str]) -> list[str]:
    if words[:1] in (["eq"], ["neq"], ["lt"], ["gt"]) and len(words) > 1:
        return words[2:]
    if words[:1] == ["range"] and len(words) > 2:
        return words[3:]
    return words


def wildcard_spec(network: IPv4Network) -> str:
    """``10.1.1.0 0.0.0.255`` for 10.1.1.0/24, ``host 10.1.1.5`` for a /32."""
    if network.prefixlen == 32:
        return f"host {network.network_address}"
    return f"{network.network_address} {network.hostmask}"


def trusted_sources(policy: Policy, placeholder: str = "<admin-subnet> <wildcard>") -> list[str]:
    """The policy's trusted IPv4 subnets as ACL source specs, or ``[placeholder]`` when none."""
    specs: list[str] = []
    for text in policy.trusted_subnets:
        try:
            network = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            continue
        if isinstance(network, IPv4Network):
            specs.append(wildcard_spec(network))
    return specs or [placeholder]
