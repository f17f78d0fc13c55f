"""The order in which IOS prints its running-config, and what a cut capture can therefore hide.

IOS generates ``show running-config`` by walking its parser's subsystems in a fixed order, so the
global commands of one kind always come out in the same stretch of the config: ``version``, then
``service``, ``hostname``, the boot markers, ``logging``/``enable``/``aaa``, the rest of the head
(``ip`` services, voice classes, PKI, ``username``...), the interfaces, routing, the ``ip http``/
``ip route``/ACL/``snmp-server`` tail, ``control-plane``, the voice ports and dial-peers,
``telephony-service``, the ephones, ``banner``, the lines, ``ntp``, ``end``.

Commands move a little between releases *within* a stretch (IOS 12.4 prints ``ip route`` before
``ip http``, 15.x after it; IOS XE moves ``ip ssh`` from the head to the tail), so the stretches
are coarse :data:`BANDS` and a command may belong to several of them. The order was read from the
real captures in the shared corpus (IOS 12.4, 15.x, IOS XE 16, Packet Tracer), which
``tests/test_ios_order.py`` replays: every one of them must fit it, and cutting any of them
anywhere must hide only what :func:`hidden_after`/:func:`hidden_before` say a cut can hide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

# The stretches, in printing order. The numbers only order them; the gaps leave room.
VERSION = 0
SERVICE = 10
HOSTNAME = 20
BOOT = 30
#: card type, the console/buffer ``logging`` lines.
HEAD_LOGGING = 40
#: ``enable secret``/``enable password``.
HEAD_ENABLE = 43
#: ``aaa``, ``clock timezone``.
HEAD_AAA = 46
#: Everything else printed before the interfaces: ip services, voice classes and pools, PKI,
#: licences, ``username``, controllers, ``ip ssh`` (classic IOS), crypto maps, QoS classes...
HEAD = 50
INTERFACES = 60
ROUTING = 70
#: ``ip http``, ``ip route``, named ACLs, remote ``logging``, numbered ACLs, ``snmp-server``,
#: TACACS+/RADIUS servers: printed between the routing processes and ``control-plane``.
TAIL_SERVICES = 80
CONTROL_PLANE = 90
#: voice-ports, MGCP, SCCP, DSP farms, dial-peers, gateway, sip-ua, presence.
VOICE = 100
TELEPHONY = 110
EPHONES = 120
#: alias, banner.
BEFORE_LINES = 130
LINES = 140
#: scheduler, ntp, and the final ``end``.
LAST = 150

BANDS: tuple[int, ...] = (
    VERSION, SERVICE, HOSTNAME, BOOT, HEAD_LOGGING, HEAD_ENABLE, HEAD_AAA, HEAD, INTERFACES, ROUTING, TAIL_SERVICES,
    CONTROL_PLANE, VOICE, TELEPHONY, EPHONES, BEFORE_LINES, LINES, LAST,
)
BAND_NAMES: dict[int, str] = {
    VERSION: "version",
    SERVICE: "service",
    HOSTNAME: "hostname",
    BOOT: "boot",
    HEAD_LOGGING: "logging",
    HEAD_ENABLE: "enable",
    HEAD_AAA: "aaa",
    HEAD: "head (ip, voice classes, PKI, username...)",
    INTERFACES: "interfaces",
    ROUTING: "routing",
    TAIL_SERVICES: "ip http/ip route/ACLs/snmp-server",
    CONTROL_PLANE: "control-plane",
    VOICE: "voice ports and dial-peers",
    TELEPHONY: "telephony-service",
    EPHONES: "ephones",
    BEFORE_LINES: "banner",
    LINES: "lines",
    LAST: "ntp/end",
}
ALL_BANDS: frozenset[int] = frozenset(BANDS)

_H = (HEAD,)
_T = (TAIL_SERVICES,)
# A command's category: its longest key below (whole words), after a leading "no ". The value is
# the set of stretches it has been seen printed in.
_CATEGORIES: dict[str, tuple[int, ...]] = {
    "version": (VERSION,),
    "service": (SERVICE,),
    "platform": (SERVICE, HEAD),
    "hostname": (HOSTNAME,),
    "boot-start-marker": (BOOT,),
    "boot": (BOOT,),
    "boot-end-marker": (BOOT,),
    "vrf": (BOOT, HEAD_LOGGING, HEAD),
    "card": (HEAD_LOGGING,),
    "security": (BOOT, HEAD_LOGGING),
    "logging": (HEAD_LOGGING,),
    # Remote logging is printed in the tail, next to the ACLs.
    "logging host": _T,
    "logging trap": _T,
    "logging source-interface": _T,
    "logging facility": _T,
    "logging origin-id": _T,
    "logging alarm": _T,
    "enable": (HEAD_ENABLE,),
    "aaa": (HEAD_AAA,),
    "clock timezone": (HEAD_AAA,),
    "clock summer-time": (HEAD_AAA,),
    "clock calendar-valid": (HEAD_AAA,),
    "network-clock-participate": _H,
    "network-clock-select": _H,
    "network-clock": _H,
    "resource": _H,
    "memory-size": _H,
    "dot11": _H,
    "ip": (HEAD, TAIL_SERVICES),  # an ip command not listed below: either side of the interfaces
    "ip cef": _H,
    "ip subnet-zero": _H,
    "ip source-route": _H,
    "ip icmp": _H,
    "ip tcp": _H,
    "ip dhcp": _H,
    "ip domain": _H,
    "ip domain-lookup": _H,
    "ip domain-name": _H,
    "ip name-server": _H,
    "ip host": _H,
    "ip inspect": _H,
    "ip ips": _H,
    "ip flow-cache": _H,
    "ip multicast-routing": _H,
    "ip vrf": _H,
    "ip auth-proxy": _H,
    "ip admission": _H,
    "ip audit": _H,
    "ip wccp": _H,
    "ip bootp": _H,
    "ip finger": _H,
    "ip ssh": (HEAD, TAIL_SERVICES),
    "ip scp": (HEAD, TAIL_SERVICES),
    "ip classless": _T,
    "ip forward-protocol": _T,
    "ip http": _T,
    "ip flow-export": _T,
    "ip flow-top-talkers": _T,
    "ip nat": _T,
    "ip route": _T,
    "ip access-list": _T,
    "ip prefix-list": _T,
    "ip sla": _T,
    "ip tftp": _T,
    "ip radius": _T,
    "ip tacacs": _T,
    "ip rtcp": _H,
    "ipv6": (HEAD, TAIL_SERVICES),
    "ipv6 unicast-routing": _H,
    "ipv6 cef": _H,
    "ipv6 route": _T,
    "ipv6 access-list": _T,
    "login block-for": _H,
    "login on-failure": _H,
    "login on-success": _H,
    "login quiet-mode": _H,
    "login delay": _H,
    "multilink": _H,
    "isdn": _H,
    "trunk group": _H,
    "voice-card": _H,
    "voice": _H,
    "voice service": _H,
    "voice class": _H,
    "voice translation-rule": _H,
    "voice translation-profile": _H,
    "voice register": _H,
    "voice logout-profile": _H,
    "voice user-profile": _H,
    "voice emergency": _H,
    "voice lpcor": _H,
    "voice hunt-group": (HEAD, VOICE, TELEPHONY, EPHONES),
    "voice-port": (VOICE,),
    "fax": _H,
    "stcapp": (HEAD, VOICE),
    "crypto": (HEAD,),
    "crypto pki": _H,
    "crypto ca": _H,
    "crypto isakmp": _H,
    "crypto ipsec": _H,
    "crypto map": _H,
    "crypto keyring": _H,
    "crypto ikev2": _H,
    "crypto key": _H,
    "ctl-client": (HEAD, VOICE, TELEPHONY, EPHONES),
    "capf-server": (HEAD, VOICE, TELEPHONY, EPHONES),
    "credentials": (HEAD, VOICE, TELEPHONY, EPHONES),
    "license": _H,
    "hw-module": _H,
    "archive": _H,
    "file privilege": _H,
    "dial-control-mib": _H,
    "username": _H,
    "redundancy": _H,
    "controller": _H,
    "vlan": _H,
    "vtp": _H,
    "spanning-tree": _H,
    "key chain": _H,
    "class-map": _H,
    "policy-map": _H,
    "parameter-map": _H,
    "zone": _H,
    "zone-pair": _H,
    "object-group": _H,
    "track": _H,
    "subscriber": _H,
    "diagnostic": _H,
    "errdisable": _H,
    "template": _H,
    "interface": (INTERFACES,),
    "router": (ROUTING,),
    "ixi": _T,
    "access-list": _T,
    "route-map": _T,
    "nls": _T,
    "cpd": _T,
    "cdp": _T,
    "lldp": _T,
    "snmp-server": _T,
    "snmp": _T,
    "tftp-server": _T,
    "tacacs-server": _T,
    "tacacs": _T,
    "radius-server": _T,
    "radius": _T,
    "mac-address-table": _T,
    "control-plane": (CONTROL_PLANE,),
    "mgcp": (VOICE,),
    "ccm-manager": (VOICE,),
    "sccp": (VOICE,),
    "dspfarm": (VOICE,),
    "dial-peer": (VOICE,),
    "dial-peer cor": (HEAD, VOICE),
    "gatekeeper": (VOICE,),
    "gateway": (VOICE,),
    "sip-ua": (VOICE,),
    "presence": (VOICE,),
    "call-manager-fallback": (VOICE, TELEPHONY, EPHONES),
    "gw-accounting": (HEAD, VOICE),
    "telephony-service": (TELEPHONY,),
    "ephone-template": (EPHONES,),
    "ephone-dn-template": (EPHONES,),
    "ephone-dn": (EPHONES,),
    "ephone": (EPHONES,),
    "ephone-hunt": (EPHONES,),
    "ephone-type": (HEAD, TELEPHONY, EPHONES),
    # Not seen in a real capture yet: anywhere from the tail services to the banner.
    "privilege": (TAIL_SERVICES, CONTROL_PLANE, VOICE, TELEPHONY, EPHONES, BEFORE_LINES),
    # Seen after the ephones, before the lines (a CME 4.x doc capture).
    "kron": (CONTROL_PLANE, VOICE, TELEPHONY, EPHONES, BEFORE_LINES),
    "alias": (BEFORE_LINES,),
    "banner": (BEFORE_LINES,),
    "line": (LINES,),
    # Printed between the lines and the scheduler (IOS 12.4 doc captures).
    "exception": (LAST,),
    "scheduler": (LAST,),
    "ntp": (LAST,),
    "sntp": (LAST,),
    "webvpn": (LAST,),
    "event": (LAST,),
    "end": (LAST,),
}
_MAX_KEY_WORDS = max(key.count(" ") + 1 for key in _CATEGORIES)


# Keys that only say "some ip/crypto/voice command": a line they match may as well be a sub-mode line.
_GENERIC = frozenset({"ip", "ipv6", "crypto", "voice", "platform"})


def bands_of(command: str, *, specific: bool = False) -> tuple[int, ...] | None:
    """The stretches a top-level command is printed in; None for a command this table does not know
    (and, with ``specific``, for one it only knows by a generic first word such as ``ip``)."""
    words = command.split(" ", _MAX_KEY_WORDS)
    if words and words[0] == "no":
        words = words[1:]
    for size in range(min(len(words), _MAX_KEY_WORDS), 0, -1):
        key = " ".join(words[:size])
        found = _CATEGORIES.get(key)
        if found is not None:
            return None if specific and key in _GENERIC else found
    return None


@dataclass(frozen=True)
class Placement:
    """Where the top-level lines of a capture sit in IOS's order.

    ``first`` and ``last`` are the earliest stretch the capture can start in and the latest it
    can end in... conservatively: ``first`` is the latest stretch its first line can be in, so
    that a cut head hides everything up to it, and ``last`` the earliest stretch its last line can
    be in, so that a cut tail hides everything from it on. ``fits`` is False when the lines are
    not in IOS's order at all (fragments pasted together): then nothing can be said from it.
    """

    fits: bool
    first: int
    last: int
    #: The command the order broke at, when it does not fit.
    breaks_at: str | None = None


def placement(commands: Sequence[str]) -> Placement:
    """Fit the top-level commands of a capture, in capture order, to IOS's order.

    Forwards, each command takes the earliest of its stretches not before the previous one's: the
    last command's stretch is then the earliest the capture can end in. Backwards, each takes the
    latest not after the next one's: the first command's is the latest the capture can start in.
    Commands this table does not know say nothing.
    """
    known = [(command, bands) for command in commands if (bands := bands_of(command)) is not None]
    if not known:
        return Placement(fits=True, first=BANDS[-1], last=BANDS[0])
    current = BANDS[0]
    for command, bands in known:
        later = [band for band in bands if band >= current]
        if not later:
            return Placement(fits=False, first=BANDS[-1], last=BANDS[0], breaks_at=command)
        current = min(later)
    last = current
    current = BANDS[-1]
    for _, bands in reversed(known):
        current = max(band for band in bands if band <= current)
    return Placement(fits=True, first=current, last=last)


def hidden_after(last: int) -> frozenset[int]:
    """The stretches a cut tail can hide when the capture's last line sits in stretch ``last``."""
    return frozenset(band for band in BANDS if band >= last)


def hidden_before(first: int) -> frozenset[int]:
    """The stretches a cut head can hide when the capture's first line sits in stretch ``first``."""
    return frozenset(band for band in BANDS if band <= first)


def describe(bands: Iterable[int]) -> str:
    """The stretches, by name, in order: "service, hostname"."""
    return ", ".join(BAND_NAMES[band] for band in sorted(bands))


# --- what a query pattern can match ----------------------------------------------------------------

_MAX_EXPANSIONS = 64


@lru_cache(maxsize=2048)
def pattern_bands(pattern: str) -> frozenset[int]:
    """The stretches a top-level line matching ``re.match(pattern, command)`` can be printed in.

    Read from the literal words the pattern starts with (alternatives and optional groups
    expanded). Every stretch when the pattern does not start with words this table knows.
    """
    prefixes = literal_prefixes(pattern)
    if prefixes is None:
        return ALL_BANDS
    found: set[int] = set()
    for prefix in prefixes:
        bands = _prefix_bands(prefix)
        if bands is None:
            return ALL_BANDS
        found.update(bands)
    return frozenset(found)


def _prefix_bands(prefix: str) -> frozenset[int] | None:
    """Stretches of the commands that can start with ``prefix``; None when unknown."""
    text = prefix[3:] if prefix.startswith("no ") else prefix
    if not text or "no ".startswith(text):
        return None  # "n", "no", "no ": anything at all
    complete = text.rstrip(" ") if text.endswith(" ") else text.rpartition(" ")[0]
    found: set[int] = set()
    # Commands the prefix is itself a prefix of ("logging " -> "logging host", "logging trap"...).
    for key, bands in _CATEGORIES.items():
        if key.startswith(text) or (text.endswith(" ") and key == text.rstrip(" ")):
            found.update(bands)
    # The most specific key the prefix's complete words fall under ("ip http secure" -> "ip http").
    ancestor = bands_of(complete) if complete else None
    if ancestor is not None:
        found.update(ancestor)
    if not found:
        return None
    return frozenset(found)


def literal_prefixes(pattern: str) -> frozenset[str] | None:
    """The literal texts every match of ``pattern`` (``re.match``) starts with, alternatives expanded.

    ``"(no )?ip http (server|secure-server)$"`` gives ``{"no ip http server", "no ip http
    secure-server", "ip http server", "ip http secure-server"}``; ``"s?ntp server "`` gives
    ``{"sntp server ", "ntp server "}``. A prefix stops at the first element that is not literal
    (a class, ``\\S``, ``.``); None when there would be too many or the pattern is not understood.
    """
    try:
        parser = _PrefixParser(pattern)
        found = parser.alternation()
    except _GiveUp:
        return None
    if parser.position != len(pattern):
        return None
    return frozenset(text for text, _ in found)


class _GiveUp(Exception):
    pass


# (text, complete): complete is False once the expansion met something it cannot spell out.
_Expansion = list[tuple[str, bool]]


class _PrefixParser:
    """A recursive-descent reader of the regex subset query patterns are written in."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.position = 0

    def peek(self) -> str:
        return self.pattern[self.position] if self.position < len(self.pattern) else ""

    def alternation(self) -> _Expansion:
        found = self.sequence()
        while self.peek() == "|":
            self.position += 1
            found = found + self.sequence()
        if len(found) > _MAX_EXPANSIONS:
            raise _GiveUp
        return found

    def sequence(self) -> _Expansion:
        found: _Expansion = [("", True)]
        while self.peek() not in ("", "|", ")"):
            item = self.item()
            found = _concatenate(found, self.quantified(item))
            if len(found) > _MAX_EXPANSIONS:
                raise _GiveUp
        return found

    def item(self) -> _Expansion:
        char = self.peek()
        self.position += 1
        if char == "(":
            if self.pattern.startswith("?:", self.position):
                self.position += 2
            elif self.peek() == "?":
                raise _GiveUp  # lookarounds, named groups: not in query patterns
            inner = self.alternation()
            if self.peek() != ")":
                raise _GiveUp
            self.position += 1
            return inner
        if char == "\\":
            escaped = self.peek()
            self.position += 1
            if escaped == "b":
                return [("", True)]  # zero-width
            if escaped.isalnum():
                return [("", False)]  # \d, \S, \s, \w...
            return [(escaped, True)]
        if char == "[":
            self.position = _skip_class(self.pattern, self.position)
            return [("", False)]
        if char == "^":
            return [("", True)]
        if char == "$" or char == ".":
            return [("", False)]
        if char in "*+?{":
            raise _GiveUp  # a quantifier with nothing before it
        return [(char, True)]

    def quantified(self, item: _Expansion) -> _Expansion:
        char = self.peek()
        if char not in ("?", "*", "+", "{"):
            return item
        if char == "{":
            end = self.pattern.find("}", self.position)
            if end < 0:
                raise _GiveUp
            self.position = end + 1
        else:
            self.position += 1
        if self.peek() == "?":
            self.position += 1  # lazy: the same texts
        if char == "?":
            return [("", True), *item]
        if char == "*":
            return [("", True), *((text, False) for text, _ in item)]
        return [(text, False) for text, _ in item]


def _concatenate(left: _Expansion, right: _Expansion) -> _Expansion:
    out: _Expansion = []
    for text, complete in left:
        if not complete:
            out.append((text, False))
            continue
        out.extend((text + more, still) for more, still in right)
    # Expansions that stopped at the same text are one.
    return list(dict.fromkeys(out))


def _skip_class(pattern: str, position: int) -> int:
    if pattern.startswith("^", position):
        position += 1
    if pattern.startswith("]", position):
        position += 1
    while position < len(pattern) and pattern[position] != "]":
        position += 2 if pattern[position] == "\\" else 1
    return position + 1

