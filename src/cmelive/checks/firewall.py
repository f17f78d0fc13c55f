"""NAT, firewall and remote phones: the IOS firewall must not break (or blindly open) voice, and
H.323 call setup (H.225, TCP 1720) must be accepted only from the gateways and gatekeepers the
router really talks to.

Guide: "Cisco Unified CME with Cisco IOS Firewall Implementation Considerations".
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from cmelive.checks.base import Evidence, Outcome, Severity, failed, not_applicable, passed, unknown
from cmelive.checks.common import (
    device_acls,
    device_interfaces,
    device_static_routes,
    device_wan_interfaces,
    running_config,
    unique_evidence,
)
from cmelive.checks.registry import check
from cmelive.commands import EPHONE_REGISTERED, RUNNING_CONFIG
from cmelive.parsing.running_config import ConfigLine, RunningConfig
from cmelive.topology import (
    Acl,
    AclEntry,
    Interface,
    RouteTable,
    WanInterface,
    acl_names,
    find_acl,
    find_interface,
    interface_for_address,
)

if TYPE_CHECKING:  # imported for annotations only: cmelive.policy -> checks -> here would be a cycle
    from cmelive.state import DeviceState

SECTION = "Cisco Unified CME with Cisco IOS Firewall Implementation Considerations"
H225_PORT = 1720
PEER_PLACEHOLDER = "<h323-gateway-ip>"



def _by_line(evidence: list[Evidence]) -> list[Evidence]:
    """Running-config lines first, then other commands' lines, each in line order."""
    return sorted(unique_evidence(evidence), key=lambda e: (e.command != RUNNING_CONFIG, e.command, e.line or 0))


def _ipv4(text: str) -> IPv4Address | None:
    try:
        return IPv4Address(text)
    except ValueError:
        return None


def egress_interface(found: list[Interface], routes: RouteTable, address: IPv4Address) -> Interface | None:
    """The interface traffic to ``address`` leaves by: a connected subnet, else the longest static route.

    None when nothing in the config routes it (a dynamic routing protocol may, but we cannot tell).
    """
    connected = interface_for_address(found, address)
    if connected is not None:
        return connected
    best = routes.lookup(address)
    if best is None:
        return None
    if best.interface is not None:
        return find_interface(found, best.interface)
    if best.next_hop is not None:
        return interface_for_address(found, best.next_hop)
    return next((interface for interface in found if interface.dhcp), None)


# --- VoIP dial-peers and H.323 -----------------------------------------------------------------------


@dataclass(frozen=True)
class VoipDialPeer:
    """One ``dial-peer voice N voip`` section."""

    line: ConfigLine
    tag: str
    sip: bool  # ``session protocol sipv2``; without it a VoIP dial-peer speaks H.323 (the IOS default)
    target: str | None  # ``session target`` as written: ipv4:10.1.1.1:1720, ras, sip-server, dns:...
    target_line: ConfigLine | None

    @property
    def target_address(self) -> IPv4Address | None:
        if self.target is None or not self.target.startswith("ipv4:"):
            return None
        return _ipv4(self.target[5:].split(":")[0])


def voip_dial_peers(config: RunningConfig) -> list[VoipDialPeer]:
    peers: list[VoipDialPeer] = []
    for section in config.sections(r"dial-peer voice \S+ voip\b"):
        protocol = section.first(r"session protocol \S+")
        target = section.first(r"session target \S+")
        peers.append(
            VoipDialPeer(
                line=section,
                tag=section.words[2],
                sip=protocol is not None and protocol.words[2].startswith("sip"),
                target=target.words[2] if target is not None else None,
                target_line=target,
            )
        )
    return peers


@dataclass(frozen=True)
class H323Use:
    """What makes this router speak H.323, and the peers it calls or registers with."""

    lines: tuple[ConfigLine, ...]
    peers: tuple[tuple[IPv4Address, ConfigLine], ...]  # dial-peer targets and gatekeepers

    @property
    def in_use(self) -> bool:
        return bool(self.lines)


def h323_use(config: RunningConfig) -> H323Use:
    """H.323 dial-peers (no ``session protocol sip``), the ``gateway`` section, gatekeeper registration."""
    lines: list[ConfigLine] = []
    peers: list[tuple[IPv4Address, ConfigLine]] = []
    for peer in voip_dial_peers(config):
        if peer.sip:
            continue
        lines.append(peer.line)
        address = peer.target_address
        if address is not None and peer.target_line is not None:
            peers.append((address, peer.target_line))
    lines += config.sections(r"gateway$")
    for line in config.anywhere(r"h323-gateway voip id \S+ ipaddr \S+"):
        lines.append(line)
        address = _ipv4(line.words[5])
        if address is not None:
            peers.append((address, line))
    unique: dict[IPv4Address, ConfigLine] = {}
    for address, line in peers:
        unique.setdefault(address, line)
    return H323Use(tuple(lines), tuple(unique.items()))


# --- CME-FW-01 -----------------------------------------------------------------------------------


@dataclass
class _VoiceInterface:
    interface: Interface
    reasons: list[str]
    lines: list[ConfigLine]


def _voice_interfaces(
    config: RunningConfig,
    found: list[Interface],
    routes: RouteTable,
    wan: list[WanInterface],
    phone_ips: list[IPv4Address],
) -> dict[str, _VoiceInterface]:
    """The interfaces that carry voice signalling or media, each with why we think so.

    ``found`` is every interface of ``config``, ``routes`` its static routes."""
    wan_names = {uplink.name for uplink in wan}
    voice: dict[str, _VoiceInterface] = {}

    def add(interface: Interface | None, reason: str, line: ConfigLine | None) -> None:
        if interface is None:
            return
        entry = voice.setdefault(interface.name, _VoiceInterface(interface, [], []))
        if reason not in entry.reasons:
            entry.reasons.append(reason)
        if line is not None and line not in entry.lines:
            entry.lines.append(line)

    def beyond_lan(reason: str, line: ConfigLine | None) -> None:
        for uplink in wan:
            add(uplink.interface, reason, line)

    service = config.first_global(r"telephony-service$")
    if service is not None:
        for line in service.find(r"ip source-address \S+"):
            address = _ipv4(line.words[2])
            if address is not None:
                owner = next((i for i in found if any(a.ip == address for a in i.addresses)), None)
                add(owner or interface_for_address(found, address), f"phones register to {address}", line)
    for pool in config.sections(r"ip dhcp pool \S+"):
        if not pool.has(r"option 150 "):  # option 150 (TFTP server) marks a pool of IP phones
            continue
        network = pool.first(r"network \S+")
        address = _ipv4(network.words[1]) if network is not None else None
        if address is not None:
            add(interface_for_address(found, address), f"phone DHCP pool {pool.words[3]}", network)
    for ip in phone_ips:
        egress = egress_interface(found, routes, ip)
        if egress is not None:
            add(egress, f"registered phone {ip}" if egress.name not in wan_names else f"remote phone {ip}", None)
        else:
            beyond_lan(f"remote phone {ip} registers through it", None)
    for peer in voip_dial_peers(config):
        if peer.target is None:
            continue
        address = peer.target_address
        egress = egress_interface(found, routes, address) if address is not None else None
        if egress is not None:
            add(egress, f"dial-peer {peer.tag} reaches {address}", peer.target_line)
        else:
            # A target the config routes only by default (or by name) is reached through the uplinks.
            beyond_lan(f"dial-peer {peer.tag} reaches {peer.target} beyond the LAN", peer.target_line)
    return voice


def _inspect_rules(config: RunningConfig) -> dict[str, list[ConfigLine]]:
    rules: dict[str, list[ConfigLine]] = {}
    for line in config.globals(r"ip inspect name \S+ \S+"):
        rules.setdefault(line.words[3], []).append(line)
    return rules


def _inspects_h323_router_traffic(lines: list[ConfigLine]) -> bool:
    return any(line.words[4] == "h323" and "router-traffic" in line.words[5:] for line in lines)


def _registered_phone_ips(state: DeviceState) -> list[IPv4Address]:
    """Phones' addresses from ``show ephone registered`` when it was collected (it is optional here)."""
    if not state.output(EPHONE_REGISTERED).usable:
        return []
    records = state.records(EPHONE_REGISTERED) or []
    addresses = [_ipv4(str(r.get("ip") or "")) for r in records if r.get("status") == "REGISTERED"]
    return [address for address in addresses if address is not None]


@check(
    id="CME-FW-01",
    title="No IOS firewall inspection on voice interfaces unless it inspects H.323 router traffic",
    severity=Severity.MEDIUM,
    family="FW",
    reference=f"{SECTION} > Cisco Unified CME and Cisco IOS Firewall on the Same Router",
    rationale=(
        "CBAC opens return pinholes only for traffic it inspects. Traffic that CME itself originates or "
        "terminates (H.323 signalling, the dynamically negotiated H.245 and RTP ports) is not inspected unless "
        "the rule has `h323 router-traffic`, so an `ip inspect` rule on an interface that carries voice breaks "
        "calls, and the usual workaround is to open wide ACL holes for the media ports. The guide: the firewall "
        "may share the router as long as it is not applied to voice interfaces, or inspects router traffic."
    ),
    passes_when=(
        "every `ip inspect NAME in|out` on an interface that carries voice (the telephony-service source "
        "address, phone DHCP pools with option 150, registered phones, VoIP dial-peer targets; the WAN "
        "interfaces when phones or targets are beyond the LAN) names a rule with `ip inspect name NAME h323 "
        "router-traffic`. Not applicable when no `ip inspect` is applied; unknown when a zone-based firewall "
        "(`zone-member security`) sits on a voice interface, since its zone-pair policies decide."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:57: ip inspect FW-OUT in",),
    remediation_example=("ip inspect name FW-OUT h323 router-traffic timeout 180",),
)
def inspection_on_voice_interfaces(state: DeviceState) -> Outcome:
    config = running_config(state)
    found = device_interfaces(state)
    applied: list[tuple[Interface, str, str, ConfigLine]] = []
    for interface in found:
        for line in interface.line.find(r"ip inspect \S+ (in|out)\b"):
            applied.append((interface, line.words[2], line.words[3], line))
    zoned = [interface for interface in found if interface.zone is not None]
    if not applied and not zoned:
        return not_applicable("no ip inspect rule is applied on any interface")
    routes = RouteTable(device_static_routes(state))
    voice = _voice_interfaces(config, found, routes, device_wan_interfaces(state), _registered_phone_ips(state))
    if not voice:
        where = ", ".join(dict.fromkeys(i.name for i in [*(a[0] for a in applied), *zoned]))
        return unknown(
            f"a firewall is applied on {where}, but nothing shows which interfaces carry voice (no telephony-service "
            "ip source-address, phone DHCP pool, registered phone or VoIP dial-peer target)"
        )
    rules = _inspect_rules(config)
    problems: list[str] = []
    evidence: list[Evidence] = []
    good: list[Evidence] = []
    remediation: list[str] = []
    off_voice: list[str] = []
    for interface, name, direction, line in applied:
        carrier = voice.get(interface.name)
        if carrier is None:
            off_voice.append(f"{interface.name} ({name} {direction})")
            continue
        definition = rules.get(name, [])
        shown = [state.evidence(interface.line), state.evidence(line)]
        if definition and _inspects_h323_router_traffic(definition):
            good += shown + [state.evidence(d) for d in definition if d.words[4] == "h323"]
            continue
        if not definition:
            # An undefined rule inspects nothing: no pinholes, but nothing broken by CBAC either.
            good += shown
            continue
        problems.append(
            f"ip inspect {name} {direction} on {interface.name}, which carries voice ({'; '.join(carrier.reasons)}), "
            f"does not inspect h323 router-traffic"
        )
        evidence += shown + [state.evidence(d) for d in definition] + [state.evidence(r) for r in carrier.lines]
        fix = f"ip inspect name {name} h323 router-traffic timeout 180"
        if fix not in remediation:
            remediation.append(fix)
    if problems:
        return failed("; ".join(problems), _by_line(evidence), remediation)
    zoned_voice = [i for i in zoned if i.name in voice]
    if zoned_voice:
        return unknown(
            "zone-based firewall on voice interface(s) "
            + ", ".join(f"{i.name} (zone {i.zone}: {'; '.join(voice[i.name].reasons)})" for i in zoned_voice)
            + ": whether voice passes depends on its zone-pair policies (to and from the self zone), which this "
            "check does not evaluate",
            [state.evidence(i.line) for i in zoned_voice],
        )
    if not applied:
        return not_applicable(
            "no ip inspect rule is applied; the zone-based firewall is only on non-voice interfaces ("
            + ", ".join(i.name for i in zoned) + ")"
        )
    inspected_voice = len(good) > 0
    message = (
        "ip inspect on voice interfaces inspects h323 router-traffic"
        if inspected_voice
        else "ip inspect is applied only on interfaces that carry no voice"
    )
    if off_voice:
        message += "; not on voice: " + ", ".join(off_voice)
    shown = [state.evidence(item) for interface, _, _, line in applied for item in (interface.line, line)]
    return passed(message, _by_line(good) or _by_line(shown))


# --- CME-FW-02 -----------------------------------------------------------------------------------

_PORT_NAMES = {"telnet": 23, "www": 80, "ftp": 21, "smtp": 25, "domain": 53, "cmd": 514, "h323": 1720}


@dataclass(frozen=True)
class _Match:
    """How an ACL entry treats a TCP SYN to port 1720 from some source."""

    entry: AclEntry
    any_source: bool
    source: str


def _port(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _PORT_NAMES.get(word)


def _split_address(words: list[str]) -> tuple[str | None, list[str]]:
    if not words:
        return None, []
    first = words[0]
    if first == "any":
        return "any", words[1:]
    if first in ("host", "object-group", "addrgroup") and len(words) > 1:
        return f"{first} {words[1]}", words[2:]
    if _ipv4(first) is not None:
        if len(words) > 1 and _ipv4(words[1]) is not None:
            return f"{first} {words[1]}", words[2:]
        return first, words[1:]
    return None, words


def _split_ports(words: list[str]) -> tuple[set[int] | None, str | None, list[str]]:
    """(ports matched or None for all, the operator, the rest). ``eq`` may list several ports."""
    if not words or words[0] not in ("eq", "neq", "lt", "gt", "range"):
        return None, None, words
    operator = words[0]
    if operator == "range" and len(words) > 2:
        low, high = _port(words[1]), _port(words[2])
        ports = set(range(low, high + 1)) if low is not None and high is not None else set()
        return ports, operator, words[3:]
    values: list[int] = []
    rest = words[1:]
    while rest and _port(rest[0]) is not None:
        port = _port(rest[0])
        assert port is not None
        values.append(port)
        rest = rest[1:]
        if operator != "eq":
            break
    if not values:
        return set(), operator, rest
    if operator == "eq":
        return set(values), operator, rest
    if operator == "neq":
        return set(range(0, 65536)) - {values[0]}, operator, rest
    if operator == "lt":
        return set(range(0, values[0])), operator, rest
    return set(range(values[0] + 1, 65536)), operator, rest


def _h225_match(entry: AclEntry) -> _Match | None:
    """The entry's verdict for a new TCP connection to port 1720, or None when it does not apply."""
    if not entry.is_rule:
        return None
    words = list(entry.words)
    if entry.kind == "standard":
        source, _ = _split_address(words)
    elif entry.kind == "extended":
        if not words or words[0] not in ("ip", "tcp", "6"):
            return None
        source, rest = _split_address(words[1:])
        _, _, rest = _split_ports(rest) if words[0] == "tcp" else (None, None, rest)
        _, rest = _split_address(rest)
        ports, _, rest = _split_ports(rest) if words[0] == "tcp" else (None, None, rest)
        if ports is not None and H225_PORT not in ports:
            return None
        if "established" in rest:  # matches ACK/RST only: never a new connection
            return None
    else:
        return None
    if source is None:
        return None
    return _Match(entry, source in ("any", "0.0.0.0 255.255.255.255"), source)


@dataclass(frozen=True)
class _Verdict:
    open_entry: AclEntry | None  # the entry that lets any source reach 1720
    allowed: tuple[_Match, ...]  # permits from specific sources before any blanket verdict
    blocking: AclEntry | None = None  # the entry that denies 1720 to every other source


def _h225_verdict(acl: Acl) -> _Verdict:
    allowed: list[_Match] = []
    for entry in acl.rules:
        match = _h225_match(entry)
        if match is None:
            continue
        if match.any_source:
            if entry.action == "permit":
                return _Verdict(entry, tuple(allowed))
            return _Verdict(None, tuple(allowed), entry)
        if entry.action == "permit":
            allowed.append(match)
    return _Verdict(None, tuple(allowed))


class _Sources:
    """The sources ``allowed`` permits, indexed: whether one covers an address costs a set lookup
    per distinct wildcard, not a pass over every entry (a big router permits each of its thousands
    of H.323 peers by its own line, and every peer is asked about)."""

    def __init__(self, allowed: tuple[_Match, ...]) -> None:
        # Hosts as written: "host 10.1.1.5" and the bare "10.1.1.5" compare with the address's text.
        self.hosts: set[str] = set()
        # wildcard -> the base addresses with the wildcard's bits cleared
        self.masked: dict[int, set[int]] = {}
        for match in allowed:
            spec = match.source.split()
            if spec[0] == "host" and len(spec) == 2:
                self.hosts.add(spec[1])
            elif len(spec) == 2 and (base := _ipv4(spec[0])) is not None and (mask := _ipv4(spec[1])) is not None:
                wildcard = int(mask)
                self.masked.setdefault(wildcard, set()).add(int(base) & ~wildcard & 0xFFFFFFFF)
            elif len(spec) == 1 and _ipv4(spec[0]) is not None:
                self.hosts.add(spec[0])

    def cover(self, address: IPv4Address) -> bool:
        if str(address) in self.hosts:
            return True
        value = int(address)
        return any(value & ~wildcard & 0xFFFFFFFF in bases for wildcard, bases in self.masked.items())


def _peer_permits(peers: list[str], sequences: list[int] | None = None) -> list[str]:
    prefix = [f"{n} " for n in sequences] if sequences is not None else [""] * (len(peers) + 1)
    lines = [f" {prefix[i]}permit tcp host {peer} any eq {H225_PORT}" for i, peer in enumerate(peers)]
    lines.append(f" {prefix[len(peers)]}deny tcp any any eq {H225_PORT}")
    return lines


def _free_acl_name(config: RunningConfig, preferred: str, taken: set[str]) -> str:
    used = acl_names(config) | taken
    if preferred not in used:
        return preferred
    index = 2
    while f"{preferred}-{index}" in used:
        index += 1
    return f"{preferred}-{index}"


def _insert_before(acl: Acl, entry: AclEntry, peers: list[str]) -> list[str]:
    """Commands that put the peer permits and a 1720 deny just before ``entry`` in ``acl``."""
    rules = list(acl.rules)
    explicit = all(rule.sequence is not None for rule in rules)
    # Without printed sequence numbers, IOS numbers the entries 10, 20, ... (as after a reload).
    sequences = [rule.sequence if explicit and rule.sequence is not None else (i + 1) * 10 for i, rule in enumerate(rules)]
    index = rules.index(entry)
    needed = len(peers) + 1
    before = sequences[index - 1] if index > 0 else 0
    commands: list[str] = []
    if sequences[index] - before - 1 < needed:
        step = 10 if needed < 10 else 100
        commands.append(f"ip access-list resequence {acl.name} {step} {step}")
        before, at = index * step, (index + 1) * step
    else:
        at = sequences[index]
    numbers = list(range(at - needed, at))
    assert numbers[0] > before
    return [*commands, f"ip access-list extended {acl.name}", *_peer_permits(peers, numbers)]


@check(
    id="CME-FW-02",
    title="H.225 (TCP 1720) is accepted from the WAN only from known gateways and gatekeepers",
    severity=Severity.MEDIUM,
    family="FW",
    reference=f"{SECTION} > Other Alternatives for Ensuring Cisco Unified CME Security",
    rationale=(
        "An H.323 gateway that accepts call setup from anyone on the Internet is the classic toll-fraud "
        "entry: scanners place calls through it to premium numbers. The guide filters TCP 1720 with ACLs that "
        "permit only the known peers, and advises accepting H.225 only from the gatekeeper."
    ),
    passes_when=(
        "every WAN interface (policy `wan_interfaces`, else detected) has an inbound IPv4 ACL that is defined "
        "and, read in order, permits a new TCP connection to port 1720 only from specific sources (never "
        "`any`). Not applicable without H.323 (VoIP dial-peers without `session protocol sip`, a `gateway` "
        "section or gatekeeper registration); unknown when no interface is recognisably WAN."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:61: access-list 121 permit tcp any any eq 1720",),
    remediation_example=(
        "ip access-list extended 121",
        " 5 permit tcp host 192.168.100.1 any eq 1720",
        " 6 deny tcp any any eq 1720",
    ),
)
def h225_from_known_peers(state: DeviceState) -> Outcome:
    config = running_config(state)
    h323 = h323_use(config)
    if not h323.in_use:
        return not_applicable("no H.323: no VoIP dial-peer without session protocol sip, no gateway, no gatekeeper")
    wan = device_wan_interfaces(state)
    if not wan:
        return unknown(
            "no interface is recognisably WAN (no ip nat outside, public address, default route, ...): "
            "list the uplinks in the policy's wan_interfaces"
        )
    found = device_interfaces(state)
    routes = RouteTable(device_static_routes(state))
    # Peers reached through the WAN: the ones an inbound WAN ACL must let in.
    wan_names = {w.name for w in wan}
    remote_peers = [
        (address, line)
        for address, line in h323.peers
        if (egress := egress_interface(found, routes, address)) is None or egress.name in wan_names
    ]
    peer_names = [str(address) for address, _ in remote_peers] or [PEER_PLACEHOLDER]
    trusted_list = config.first_global(r"voice service voip$")
    screening = trusted_list.first(r"ip address trusted") if trusted_list is not None else None

    problems: list[str] = []
    evidence: list[Evidence] = []
    good: list[Evidence] = []
    remediation: list[str] = []
    notes: list[str] = []
    judged: list[str] = []
    shown_by_a_line = False
    new_acl: str | None = None
    defined: set[str] = set()
    for uplink in wan:
        interface = uplink.interface
        if interface is None:
            notes.append(f"policy WAN interface {uplink.name} is not in the config")
            continue
        if interface.shutdown:
            continue
        header = state.evidence(interface.line)
        group = interface.child(r"ip access-group \S+ in\b")
        name = interface.access_group_in
        acl = find_acl(config, name, found=device_acls(state)) if name is not None else None
        if name is None or acl is None or acl.kind not in ("standard", "extended"):
            if name is None:
                problems.append(f"{uplink.describe()} has no inbound ACL: TCP {H225_PORT} is open to any source")
            elif acl is None:
                problems.append(
                    f"{interface.name} applies inbound ACL {name}, which is not defined (IOS then permits everything)"
                )
            else:
                problems.append(f"{interface.name} applies {name}, which is not an IPv4 standard or extended ACL")
            evidence += [header] + ([state.evidence(group)] if group is not None else [])
            if name is not None and acl is None and not (name.isdigit() and int(name) < 100):
                target = name
            else:
                target = new_acl = new_acl or _free_acl_name(config, "WAN-IN", defined)
            definition = [
                f"ip access-list extended {target}",
                *_peer_permits(peer_names),
                " remark everything else as before (no filter): tighten it",
                " permit ip any any",
            ]
            if target not in defined:
                defined.add(target)
                remediation += definition
            if target != name:
                remediation += [f"interface {interface.name}", f" ip access-group {target} in"]
            continue
        verdict = _h225_verdict(acl)
        assert group is not None
        if verdict.open_entry is None:
            good += [header, state.evidence(group)] + [state.evidence(m.entry.line) for m in verdict.allowed]
            closing = (
                f"line {verdict.blocking.line.number} denies every other source"
                if verdict.blocking is not None
                else "the implicit deny drops every other source"
            )
            if verdict.blocking is not None:
                good.append(state.evidence(verdict.blocking.line))
            if verdict.allowed:
                judged.append(
                    f"{interface.name}: ACL {acl.name} permits TCP {H225_PORT} only from "
                    + ", ".join(dict.fromkeys(m.source for m in verdict.allowed))
                    + f" ({closing})"
                )
            else:
                judged.append(f"{interface.name}: ACL {acl.name} lets no source reach TCP {H225_PORT} ({closing})")
            sources = _Sources(verdict.allowed)
            for address, line in remote_peers:
                if not sources.cover(address):
                    notes.append(
                        f"H.323 peer {address} (line {line.number}) may not reach TCP {H225_PORT} through "
                        f"{interface.name}: calls from it are refused"
                    )
            continue
        shown_by_a_line = True
        entry = verdict.open_entry
        evidence += [header, state.evidence(group), state.evidence(entry.line)]
        problems.append(
            f"ACL {acl.name} on {interface.name} (inbound) permits TCP {H225_PORT} from any source "
            f"(line {entry.line.number}: {entry.text})"
        )
        if acl.kind == "extended":
            remediation += _insert_before(acl, entry, peer_names)
            if not all(rule.sequence is not None for rule in acl.rules):
                notes.append(
                    f"the sequence numbers for ACL {acl.name} assume IOS's numbering 10, 20, ... (check show access-lists)"
                )
        else:
            # A standard ACL cannot see ports: replace it with an extended one that keeps its sources.
            # (A named ACL must start with a letter: "30-H323" would be refused.)
            target = _free_acl_name(config, "WAN-IN", defined | ({new_acl} if new_acl else set()))
            defined.add(target)
            kept = [f" {rule.action} ip {rule.source} any" for rule in acl.rules if rule.source is not None]
            remediation += [
                f"ip access-list extended {target}",
                *_peer_permits(peer_names),
                *kept,
                f"interface {interface.name}",
                f" ip access-group {target} in",
            ]
    if screening is not None and problems:
        notes.append(
            f"the voice service '{screening.command}' (line {screening.number}) screens calls, but the TCP port "
            "stays open to anyone"
        )
    suffix = ("; note: " + "; ".join(notes)) if notes else ""
    if problems:
        return failed("; ".join(problems) + suffix, _by_line(evidence), remediation, from_absence=not shown_by_a_line)
    if not judged:
        return unknown("no WAN interface of the config could be judged" + suffix)
    return passed("; ".join(judged) + suffix, _by_line(good))

