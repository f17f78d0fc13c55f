"""What IOS's configuration grammar says about a line whose indentation can no longer be trusted.

With intact indentation the indentation alone places a line. A capture printed by a web page has
every line at column 0; one copied through a PDF has lines joined. This module knows enough of the
grammar to put them back: which commands open a sub-mode (:data:`SECTION_HEADERS`), which exist
only at global level (:data:`GLOBAL_ONLY`), which first words each sub-mode accepts
(:func:`submode_accepts`), how many words a header or a fixed-form command takes (to split a line
that carries two), and which sub-modes nest another (``voice service voip`` > ``sip``).
"""

from __future__ import annotations

import re

# Headers that open a sub-mode in IOS / CME configs. Headers that are also the first word of a
# sub-mode command (``presence`` vs ``presence call-list``, ``application`` vs ``application
# default``) are anchored to the end of the line.
SECTION_HEADERS = re.compile(
    r"^(interface |line |router |telephony-service\s*$|ephone(-dn)?(-template)? |ephone-hunt |"
    r"ephone-type |dial-peer (voice|cor (custom|list))\b|voice service |voice register |voice class |"
    r"voice translation-(rule|profile) |voice hunt-group |voice emergency response |voice-port |"
    r"voice-card |voice lpcor |translation-rule |sip-ua\s*$|ctl-client\s*$|capf-server\s*$|"
    r"credentials\s*$|crypto (pki|ca) (trustpoint|server|certificate chain) |"
    r"crypto isakmp (policy|profile) |crypto ipsec (profile|transform-set) |crypto map \S+ \d+|"
    r"crypto keyring |crypto ikev2 (proposal|policy|keyring|profile) |crypto key pubkey-chain |"
    r"ip access-list (standard|extended|resequence)? ?\S+$|ipv6 access-list |ip dhcp pool |"
    r"control-plane( host)?\s*$|class-map |policy-map |parameter-map |zone-pair |zone security |"
    r"gateway\s*$|application\s*$|key chain |aaa group server |aaa server radius |tacacs server |"
    r"radius server |archive\s*$|controller |sccp ccm group |dspfarm profile |presence\s*$|"
    r"webvpn |ip sla \d|track \d|mgcp profile |call-manager-fallback\s*$|ixi (transport|application) |"
    r"vlan \d|event manager applet |route-map |banner |redundancy\s*$|voice logout-profile |"
    r"voice user-profile |stcapp feature |gatekeeper\s*$|trunk group |vrf definition |ip vrf )"
)
# Top-level commands that never appear inside a sub-mode: in a flattened capture they end the
# section that precedes them. Sub-mode commands that share a first word are excluded
# (``logging synchronous`` under ``line``, ``clock source`` under ``controller``, ``isdn
# switch-type`` under ``interface``, ``service phone`` under ``telephony-service``, ``version 2``
# under ``router rip``, ...).
GLOBAL_ONLY = re.compile(
    r"^(hostname |enable |service (?!phone\b)|no service |version \d+\.\d|boot-|"
    r"logging (?!synchronous\b|event\b)|no logging |snmp-server |ntp (?!disable\b|broadcast\b|multicast\b)|"
    r"clock (timezone|summer-time|calendar-valid)|"
    r"access-list |ip route |ip http |ip ssh |ip domain|ip name-server |ip cef|ip tftp |ip host |"
    r"ip classless|ip flow-export |ip forward-protocol |ip default-gateway |ip subnet-zero|"
    r"ip nat (inside|outside) source |ip inspect name |aaa (new-model|authentication|authorization|"
    r"accounting|session-id)|no aaa |tftp-server |end$|cdp (run|timer|holdtime|advertise)|"
    r"no cdp run|dial-control-mib |gw-accounting |privilege (?!level\b)|tacacs-server |"
    r"radius-server |mgcp\b|scheduler |alias |crypto key (generate|zeroize|import|export)|"
    r"multilink |card type |network-clock|no network-clock|resource policy|"
    r"no ip (domain|http|source-route|bootp|finger|dhcp|cef|classless)|"
    r"ip dhcp (excluded|use|snooping)|license |memory-size |"
    r"spanning-tree (mode|extend|vlan|loopguard|portfast (default|bpduguard default))|vtp |"
    r"vlan internal |login (block-for|on-|quiet-mode|delay)|security |archive$|"
    r"username \S+ (privilege|secret|nopassword|view|autocommand|algorithm-type)\b|dot11 |no ipv6 cef|"
    r"ipv6 unicast-routing|ip source-route|ip multicast-routing|ip ips (config|name)|ip scp |"
    r"hw-module |file privilege|ccm-manager |sccp (local|ccm \S+ identifier|\s*$)|nls |cpd |"
    r"platform |diagnostic |subscriber |errdisable |ip flow-cache |ip tcp synwait|ip icmp rate|"
    r"snmp mib )"
)

# First words each kind of sub-mode accepts (as IOS prints them). Used when the indentation was
# lost, to tell a sub-mode line from a global one that starts alike (``username`` under ``ephone``
# and at global level), and to split a line that carries a header and its first sub-mode line.
_COMMON = frozenset({"no", "description", "shutdown", "exit"})
_SUBMODE_WORDS: dict[str, frozenset[str]] = {
    "interface": frozenset({
        "ip", "ipv6", "duplex", "speed", "encapsulation", "media-type", "negotiation", "switchport",
        "spanning-tree", "standby", "vrrp", "bandwidth", "delay", "mtu", "tunnel", "crypto",
        "service-policy", "zone-member", "cdp", "isdn", "h323-gateway", "ppp", "dialer", "dialer-group",
        "pppoe", "pppoe-client", "keepalive", "load-interval", "clock", "hold-queue", "channel-group",
        "mac-address", "arp", "snmp", "logging", "power", "storm-control", "fair-queue", "frame-relay",
        "pvc", "vrf", "ntp", "qos", "mls", "peer", "serial", "framing", "linecode", "carrier-delay",
        "backup", "vlan", "nameif", "security-level", "ethernet", "dot1q", "auto", "service-module",
        "max-reserved-bandwidth", "random-detect", "priority-queue", "trust", "macro", "udld", "lldp",
        "autostate", "authentication", "dot1x", "mab", "port-security", "flowcontrol", "wrr-queue",
        "rcv-queue", "mdix", "atm", "dsl", "cable-length", "pri-group", "voice", "compress",
        "source", "nhrp", "zone", "transmit-interface", "ipv4", "idle-timeout", "ntp",
    }),
    "line": frozenset({
        "password", "login", "transport", "access-class", "exec-timeout", "privilege", "logging",
        "stopbits", "speed", "flowcontrol", "session-timeout", "absolute-timeout", "exec", "autoselect",
        "modem", "rotary", "history", "length", "width", "ipv6", "authorization", "accounting",
        "escape-character", "activation-character", "location", "motd-banner", "exec-banner", "timeout",
        "databits", "parity", "international", "terminal-type", "vacant-message", "refuse-message",
        "notify", "lockable", "monitor", "autocommand", "session-limit", "cli", "telnet", "padding",
        "transport", "editing", "full-help", "disconnect-character", "hold-character", "start-character",
        "stop-character", "insecure", "logout-warning", "escape", "autohangup",
    }),
    "telephony-service": frozenset({
        "max-ephones", "max-dn", "ip", "auto", "auto-reg-ephone", "load", "create", "url", "web",
        "dn-webedit", "time-webedit", "service", "time-zone", "date-format", "time-format",
        "max-conferences", "call-forward", "moh", "multicast", "transfer-system", "transfer-pattern",
        "secondary-dialtone", "directory", "fac", "system", "user-locale", "network-locale", "keepalive",
        "voicemail", "sdspfarm", "cnf-file", "secure-signaling", "tftp-server-credentials",
        "server-security-mode", "device-security-mode", "after-hours", "dialplan-pattern", "caller-id",
        "hunt-group", "em", "srst", "mwi", "xml", "log", "video", "bulk-speed-dial", "codec",
        "conference", "night-service", "application", "authentication", "timeouts", "cti",
        "calling-number", "privacy", "hold-alert", "max-redirect", "internal-call", "live-record",
        "hunt-group", "fxo", "huntstop", "voice", "phone-key-size", "reset", "restart", "sdspfarm",
        "max-calls-per-button", "busy-trigger-per-button", "ephone-template", "service-engine",
        "extension-assigner", "feature-button", "feature", "cnf", "protocol", "visual-voicemail",
        "voicemail-pilot", "rtp-nte", "dn", "group", "ephone-dn-template", "hold", "local", "mtp",
        "public-ip", "transfer-digit-collect", "url-button", "user", "vmail", "pickup", "park",
        "blf", "camera", "digit", "dtmf-relay", "em-logout", "transfer", "video",
    }),
    "ephone": frozenset({
        "mac-address", "type", "button", "username", "device-security-mode", "ephone-template",
        "speed-dial", "fastdial", "blf-speed-dial", "keep-conference", "mtp", "codec", "paging-dn",
        "pin", "network-locale", "user-locale", "auto-line", "capf-auth-str", "cert-oper", "emergency",
        "nte-end-digit-delay", "video", "softkeys", "after-hour", "busy-trigger-per-button",
        "max-calls-per-button", "presence", "multicast-moh", "feature-button", "privacy", "hold-alert",
        "night-service", "vpn-group", "vpn-profile", "headset", "conference", "transfer-park", "dnd",
        "privacy-button", "logout-profile", "mwi-line", "load", "cor", "unicast", "phone-ui", "reset",
        "restart", "capf-ip-in-cnf", "transfer-pattern", "call-park", "dialplan-pattern", "voice-class",
        "line-mode", "keepalive", "url-button", "blf-speed-dial", "feature", "service", "mlpp", "lpcor",
        "description", "camera", "missed-calls", "fixed-line", "audible-alert", "kem", "ephone-hunt",
        "busy-trigger", "register", "auto", "addon", "provision-tag",
    }),
    "ephone-dn": frozenset({
        "number", "name", "label", "call-forward", "pickup-group", "corlist", "cor", "allow",
        "application", "huntstop", "preference", "mwi", "intercom", "paging", "ephone-dn-template",
        "translation-profile", "hold-alert", "night-service", "park-slot", "trunk", "caller-id", "moh",
        "conference", "feature-ring", "ring", "call-waiting", "snr", "loopback-dn", "mailbox-selection",
        "auto-answer", "emergency", "translate", "call-forward", "secondary", "no-reg", "pickup-call",
        "hunt", "max-calls", "busy-trigger", "ephone-dn", "mobility", "c2t", "call", "transfer-mode",
        "dual-line", "octo-line", "user", "lpcor", "timeouts", "voice-class", "softkeys",
    }),
    "dial-peer": frozenset({
        "destination-pattern", "session", "port", "forward-digits", "prefix", "incoming",
        "direct-inward-dial", "codec", "voice-class", "dtmf-relay", "translation-profile",
        "translate-outgoing", "translate-incoming", "corlist", "huntstop", "preference", "max-conn",
        "fax", "vad", "b2bua", "answer-address", "application", "destination", "digit-strip", "trunkgroup",
        "clid", "information-type", "req-qos", "ip", "media", "progress_ind", "rtp", "tone", "emergency",
        "service", "call-block", "monitor", "supplementary-service", "max-redirects", "playout-delay",
        "signaling", "modem", "clid", "voice-port", "numbering-type", "call", "srtp", "lpcor", "target",
        "huntstop", "shutdown", "cptone", "trunk",
    }),
    "voice register pool": frozenset({
        "id", "number", "username", "password", "dtmf-relay", "codec", "voice-class", "type", "presence",
        "blf-speed-dial", "call-forward", "dnd", "template", "session-transport", "cor", "emergency",
        "translation-profile", "speed-dial", "busy-trigger-per-button", "max-pool", "paging-dn",
        "call-waiting", "camera", "video", "dialplan", "digest", "duplicate-registration",
        "registration-timer", "preference", "proxy", "transfer-pattern", "elin", "lpcor", "pin",
        "subnet", "park", "privacy", "softkeys", "vad", "auto-answer",
    }),
    "voice register global": frozenset({
        "mode", "source-address", "load", "authenticate", "create", "max-dn", "max-pool", "tftp-path",
        "file", "url", "hold-alert", "dialplan-pattern", "voicemail", "system", "timezone", "date-format",
        "time-format", "ntp-server", "external-ring", "mwi", "max-redirect", "telnet", "dst",
        "phone-mode", "bulk", "forwarding", "registration", "cnf-file", "time-zone", "application",
    }),
    "voice service voip": frozenset({
        "allow-connections", "ip", "sip", "h323", "fax", "supplementary-service", "redirect", "media",
        "mode", "address-hiding", "srtp", "modem", "rtcp", "dtmf-interworking", "callmonitor", "notify",
        "signaling", "rtp-port", "ipv4", "ipv6", "registrar", "bind", "early-offer", "session",
        "min-se", "header-passing", "asserted-id", "privacy", "url", "rel1xx", "g729", "midcall-signaling",
        "transport", "localhost", "outbound-proxy", "call", "emptycapability", "h225", "h245", "trace",
        "cpa", "vpn", "stun", "pass-thru", "sip-profiles", "audio", "conn-reuse",
    }),
    "sip-ua": frozenset({
        "authentication", "presence", "registrar", "credentials", "retry", "timers", "transport",
        "sip-server", "mwi-server", "connection-reuse", "set", "nat", "xfer", "permit", "keepalive",
        "crypto", "calling-info", "g729-annexb", "reason-header", "registration", "protocol", "host-registrar",
        "min-se", "sdspfarm", "refer-ood", "handle-replaces", "http-header",
    }),
    "line vty": frozenset(),
}
_SUBMODE_WORDS["ephone-template"] = _SUBMODE_WORDS["ephone"]
_SUBMODE_WORDS["ephone-dn-template"] = _SUBMODE_WORDS["ephone-dn"]
_SUBMODE_WORDS["voice register dn"] = _SUBMODE_WORDS["voice register pool"] | {
    "name", "label", "allow", "huntstop", "pickup-group", "mwi", "shared-line", "after-hour", "intercom",
    "pickup-call", "call-watch", "refer",
}
# "log config" nests in archive; its lines (logging enable, hidekeys, notify syslog) are archive's too.
_SUBMODE_WORDS["archive"] = frozenset({
    "log", "path", "write-memory", "time-period", "maximum", "rollback", "logging", "hidekeys", "notify",
})
# "service NAME URL" nests in application; its "param"/"paramspace" lines are application's too.
_SUBMODE_WORDS["application"] = frozenset({
    "service", "package", "global", "monitor", "stop", "interface", "param", "paramspace",
})
_SUBMODE_WORDS["voice-card"] = frozenset({"dspfarm", "dsp", "codec", "voice-service"})
_SUBMODE_WORDS["presence"] = frozenset({"server", "sccp", "presence", "max-subscription", "watcher", "allow"})
_SUBMODE_WORDS["ip dhcp pool"] = frozenset({
    "network", "default-router", "dns-server", "option", "domain-name", "lease", "host", "client-identifier",
    "hardware-address", "netbios-name-server", "class", "import", "client-name", "next-server", "update", "vrf",
})
_SUBMODE_WORDS["voice register template"] = _SUBMODE_WORDS["voice register pool"]

_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("interface", r"interface "),
        ("line", r"line "),
        ("telephony-service", r"telephony-service$"),
        ("ephone-template", r"ephone-template "),
        ("ephone-dn-template", r"ephone-dn-template "),
        ("ephone-dn", r"ephone-dn "),
        ("ephone", r"ephone \d"),
        ("dial-peer", r"dial-peer voice "),
        ("voice register pool", r"voice register pool "),
        ("voice register global", r"voice register global$"),
        ("voice register dn", r"voice register dn "),
        ("voice register template", r"voice register template "),
        ("voice service voip", r"voice service voip$"),
        ("sip-ua", r"sip-ua$"),
        ("voice-card", r"voice-card "),
        ("presence", r"presence$"),
        ("ip dhcp pool", r"ip dhcp pool "),
        ("archive", r"archive$"),
        ("application", r"application$"),
    )
)


def kind_of(header: str) -> str | None:
    """The kind of sub-mode ``header`` opens, when this module knows its words; else None."""
    for kind, pattern in _KINDS:
        if pattern.match(header):
            return kind
    return None


def submode_accepts(kind: str | None, command: str) -> bool | None:
    """Whether a sub-mode of ``kind`` accepts ``command``: True, False, or None when unknown."""
    if kind is None:
        return None
    words = _SUBMODE_WORDS.get(kind)
    if not words:
        return None
    words_of_command = command.split(" ", 2)
    first = words_of_command[1] if words_of_command[0] == "no" and len(words_of_command) > 1 else words_of_command[0]
    return first in words or first in _COMMON


def kinds_accepting(word: str) -> frozenset[str]:
    """The kinds of sub-mode whose lines may start with ``word`` (empty when no known kind's do)."""
    return frozenset(kind for kind, words in _SUBMODE_WORDS.items() if word in words)


# Global commands that some sub-modes also accept with the same first word: after such a
# sub-mode, in a capture without indentation, only IOS's order can tell which one a line is.
SHARED_WITH_SUBMODES = re.compile(r"^(no )?username ")


# Sub-modes nested in a sub-mode, for a flattened capture: (parent kind, child header, what the
# child's own lines look like; None = every line up to the end of the parent).
NESTED: dict[str, tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...]] = {
    "voice service voip": (
        (re.compile(r"ip address trusted list$"), re.compile(r"ipv[46] ")),
        (re.compile(r"h323$"), re.compile(r"(h225|h245|call start|emptycapability|ras|session|telephony|no )")),
        (re.compile(r"sip$"), None),
    ),
}

# How much of a line a header or a fixed-form command takes: what follows was another line that
# publication joined on. Each form is greedy over its optional words, so "line vty 0 4" is whole.
_HEAD_FORMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern + r"(?P<rest> \S.*)?$"), role)
    for pattern, role in (
        (r"(?P<head>line (?:(?:vty|con|console|aux|tty) )?\d+(?: \d+)?)", "header"),
        (r"(?P<head>interface \S+(?: (?:point-to-point|multipoint|type \S+))?)", "header"),
        (r"(?P<head>ephone-dn \d+(?: (?:dual-line|octo-line))?)", "header"),
        (r"(?P<head>ephone(?:-template|-dn-template)? \d+)", "header"),
        (r"(?P<head>dial-peer voice \d+ (?:pots|voip|vofr|voatm|mmoip))", "header"),
        (r"(?P<head>telephony-service)", "header"),
        (r"(?P<head>voice register (?:global|(?:pool|dn|template) \d+))", "header"),
        (r"(?P<head>voice service voip)", "header"),
        (r"(?P<head>sip-ua)", "header"),
        (r"(?P<head>hostname \S+)", "global"),
        (r"(?P<head>version \d+\.\d+\S*)", "global"),
        (r"(?P<head>mac-address \S+)", "same"),
        (r"(?P<head>number \d+ dn \d+)", "same"),
        (r"(?P<head>emergency response location \S+)", "same"),
        (r"(?P<head>sast[12] trustpoint \S+)", "same"),
        (r"(?P<head>end)", "global"),
    )
)


# The forms by the first word they start with: most lines start with none of them.
_FORMS_BY_WORD: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {}
for _pattern, _role in _HEAD_FORMS:
    _word = re.sub(r"^\(\?P<head>", "", _pattern.pattern).split(" ", 1)[0].split("(", 1)[0].rstrip(")")
    _FORMS_BY_WORD[_word] = (*_FORMS_BY_WORD.get(_word, ()), (_pattern, _role))
_FORMS_BY_WORD["sast1"] = _FORMS_BY_WORD["sast2"] = _FORMS_BY_WORD.pop("sast[12]")
for _word in ("ephone-template", "ephone-dn-template"):
    _FORMS_BY_WORD[_word] = _FORMS_BY_WORD["ephone"]
#: The first words a line with a head form starts with: :func:`head_form` is None for any other.
HEAD_FORM_WORDS = frozenset(_FORMS_BY_WORD)


def head_form(command: str) -> tuple[str, str] | None:
    """(the head of ``command``, role) when ``command`` is longer than its fixed form allows.

    Role: ``header`` (the rest is the header's first sub-mode line), ``global`` (the rest is
    another global line), ``same`` (the rest is a sibling in the same sub-mode).
    """
    forms = _FORMS_BY_WORD.get(command.partition(" ")[0])
    if forms is None or " " not in command:
        return None
    for pattern, role in forms:
        match = pattern.match(command)
        if match:
            return (match.group("head"), role) if match.group("rest") else None
    return None
