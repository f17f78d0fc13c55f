"""The outbound boundary: every text that leaves cmelive is scrubbed here, and only here.

:func:`scrub` is the one function that reports (all formats, through the report model), the run
history, logs, saved snapshots and the command line's own messages pass their text through. It
does two things, in this order:

1. **Neutralise terminal controls** (:func:`neutralise_controls`). Hostnames, descriptions, banners
   and every other string a router prints are the router's to choose; a capture of a hostile or
   broken router may hold ESC/CSI/OSC sequences (clear the screen, set the window title, write the
   clipboard with OSC 52, hide a hyperlink with OSC 8), C1 controls, backspaces or a bare carriage
   return that overwrites what a reader sees. Each such character becomes a visible escape
   (``\\x1b``), so the text is shown, never obeyed, and stays valid in XML (whose 1.0 grammar
   forbids most C0 controls). Tabs and line ends are kept.
2. **Mask secrets** (:func:`mask_text`): every secret value is replaced with ``<masked>``.

Masking works line by line. A line keeps its indentation, its keywords and the encryption-type
digit in front of a secret, so checks (and people) can still read ``enable secret 9 <masked>``,
``username joe password 7 <masked>`` or ``snmp-server community <masked> RO 10``; only the value
goes. Lines are never added, removed or joined, so line numbers in evidence stay true.

What is a secret is data: :data:`SECRET_SHAPES`, one table of the IOS command forms that carry
one, each with the extent of its value. IOS reads most secrets as ``LINE`` (the rest of the line,
spaces included: ``username u password 0 two words``), so a value runs to the end of the line
unless the command's grammar names what may follow it (``xml user U password X 15`` keeps ``15``,
``snmp-server community X RO 10`` keeps ``RO 10``, SIP credentials keep ``realm R``). A generic
rule then catches any other ``password X`` / ``secret X``, to the end of the line, so that an
unknown command errs on the side of masking.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import NamedTuple, TypeVar, cast

MASK = "<masked>"

# --------------------------------------------------------------------------------------------------
# Terminal controls

# C0 controls but TAB and LF, a CR that does not end a line, DEL, C1 controls (0x80-0x9f: 8-bit
# CSI/OSC/DCS for terminals that honour them), the bidirectional overrides and isolates that
# reorder what a reader sees, the line/paragraph separators, a BOM, the two XML non-characters and
# lone surrogates (a file decoded with surrogateescape; no encoder would write them).
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff"
    "\ud800-\udfff]|\r(?!\n)"
)
# The controls of an ASCII text, as bytes (CR included: most texts have none, and a CR that ends a
# line is kept by the full pattern). bytes.translate finds them ten times faster than a regex.
_ASCII_CONTROLS = bytes([*range(0x09), *range(0x0B, 0x20), 0x7F])


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutralise_controls(text: str) -> str:
    """``text`` with every terminal/display control shown as an escape (``\\x1b``), TAB and line ends kept."""
    if text.isascii():
        data = text.encode("ascii")
        if len(data.translate(None, _ASCII_CONTROLS)) == len(data):
            return text
    elif _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(_visible, text)


# --------------------------------------------------------------------------------------------------
# The boundary


def scrub(text: str, *, prose: bool = False) -> str:
    """The one function every outgoing text crosses: controls neutralised, then secrets masked.

    ``prose`` says the text is cmelive's own sentences (a check's title or message, an error), which
    may quote router text: a ``password``/``secret`` followed by an English word ("the enable
    secret is set", "password on line 12") names a secret without giving it, and is kept. Lines a
    router printed (evidence, remediation, snapshots, logs, facts) are never prose: there, the
    value after the keyword is masked whatever it is.

    Neutralising first matters: a control such as ``\\x1f`` is whitespace to Python's ``split``, so a
    secret ``ab\\x1fcd`` would otherwise be masked as ``ab`` and leak ``cd``. Both steps are
    idempotent, so text scrubbed twice (a report rebuilt from the history) is unchanged.
    """
    return mask_text(neutralise_controls(text), prose=prose)


# Report texts repeat across devices and runs (titles, references, remediation, most messages):
# scrubbed once per process. Long texts (tracebacks, outputs) are not worth a cache slot.
_CACHED_LENGTH = 512


@lru_cache(maxsize=16384)
def _scrub_line_cached(text: str) -> str:
    return scrub(text)


@lru_cache(maxsize=4096)
def _scrub_prose_cached(text: str) -> str:
    return scrub(text, prose=True)


def scrub_short(text: str, prose: bool = False) -> str:
    """:func:`scrub`, remembered for short texts (the many small strings of a report)."""
    if len(text) > _CACHED_LENGTH:
        return scrub(text, prose=prose)
    return _scrub_prose_cached(text) if prose else _scrub_line_cached(text)


_T = TypeVar("_T")


def scrub_value(value: _T, *, prose: frozenset[str] = frozenset(), as_prose: bool = False) -> _T:
    """``value`` with :func:`scrub` applied to every string in it: in lists, tuples, dict keys and
    values, and the fields of (frozen or not) dataclasses, at any depth. Fields named in ``prose``
    (and everything, with ``as_prose``) are scrubbed as prose (see :func:`scrub`), everything else
    as router lines. Enums, numbers and None are kept; an object in which nothing changed is
    returned as it is (no copy)."""
    return cast(_T, _scrub_any(value, prose, as_prose))


def _scrub_any(value: object, prose_fields: frozenset[str], prose: bool) -> object:
    # Hot: a fleet report holds thousands of strings. Exact type tests first (an Enum that is a
    # str is not of type str), containers rebuilt only when something in them changed.
    kind = type(value)
    if kind is str:
        text: str = value  # type: ignore[assignment]
        out = scrub_short(text, prose)
        return value if out == text else out  # the cache's equal copy is not a change
    if value is None or kind is int or kind is float or kind is bool:
        return value
    if kind is tuple:
        items: tuple[object, ...] = value  # type: ignore[assignment]
        cleaned = [_scrub_any(item, prose_fields, prose) for item in items]
        for before, after in zip(items, cleaned):
            if before is not after:
                return tuple(cleaned)
        return value
    if kind is list:
        return [_scrub_any(item, prose_fields, prose) for item in value]  # type: ignore[attr-defined]
    if kind is dict:
        return {
            _scrub_any(key, prose_fields, prose): _scrub_any(item, prose_fields, prose)
            for key, item in value.items()  # type: ignore[attr-defined]
        }
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return scrub_short(str(value), prose=prose)
    names = _DATACLASS_FIELDS.get(kind)
    if names is None:
        names = tuple(getattr(kind, "__dataclass_fields__", ()))
        _DATACLASS_FIELDS[kind] = names
    changes = {}
    for name in names:
        current = getattr(value, name)
        after = _scrub_any(current, prose_fields, name in prose_fields)
        if after is not current:
            changes[name] = after
    return _replace(value, changes) if changes else value


_DATACLASS_FIELDS: dict[type, tuple[str, ...]] = {}


def _replace(instance: object, changes: dict[str, object]) -> object:
    # dataclasses.replace would run __post_init__ again (the report model scrubs there): copy the
    # instance and set the cleaned fields on the copy, frozen or not.
    copy = object.__new__(type(instance))
    copy.__dict__.update(instance.__dict__)
    copy.__dict__.update(changes)
    return copy


# --------------------------------------------------------------------------------------------------
# The table of secret-bearing command forms


@dataclass(frozen=True)
class SecretShape:
    """One command form that carries a secret.

    ``form`` is the command as a person reads it (documentation, and the test that plants each
    form). ``first`` is the first word of the line the form starts with, or None when it may sit
    anywhere in a line (``... key-string 7 X``, ``Password:X``). ``pattern`` is matched at the
    command's start (``first``) or searched in the line (None); its groups ``s1``, ``s2``, ... are
    the secret values. A pattern with no group marks a form that holds no secret although it looks
    like one (``mpls ldp password required``): no other rule may mask it.
    """

    form: str
    first: str | None
    pattern: re.Pattern[str]
    #: For a form with no first word: it must start the command (a MAC address, then a value).
    anchored: bool = False
    #: For a form with no first word: a lower-case text every line holding it contains (the
    #: pattern is only tried on such lines: most lines hold none of these forms).
    trigger: str = ""

    def spans(self, match: re.Match[str]) -> Iterator[tuple[int, int]]:
        for name, value in match.groupdict().items():
            if value is not None and name.startswith("s"):
                yield match.span(name)


_PLACEHOLDERS = {
    # An encryption-type digit in front of a value is kept ("password 7 <masked>").
    "TYPE": r"(?:\d\s+(?=\S))?",
    # The value runs to the end of the line (IOS reads it as LINE: spaces are part of it).
    "SECRET": r"(?P<{g}>\S(?:.*\S)?)",
    # A value of one word (IOS reads it as WORD: something may follow).
    "WORD": r"(?P<{g}>\S+)",
    "W": r"\S+",
    "N": r"\d+",
}
_BEFORE = re.compile(r"\{SECRET_BEFORE:([^}]+)\}")
_PLACEHOLDER = re.compile(r"\{([A-Z]+)\}")


def _compile(template: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """A pattern from a template: a space is ``\\s+``, ``{SECRET}``/``{WORD}`` are the values
    (numbered ``s1``, ``s2``, ...), ``{SECRET_BEFORE:a|b}`` a value that ends before keyword ``a``
    or ``b`` (or at the end of the line), ``{TYPE}`` an optional type digit, ``{W}`` a word,
    ``{N}`` a number; everything else is regular-expression syntax."""
    groups = iter(f"s{n}" for n in range(1, 10))

    def before(match: re.Match[str]) -> str:
        keywords = match.group(1).replace(" ", r"\s+")
        return rf"(?P<{next(groups)}>\S(?:.*?\S)?)(?=\s+(?:{keywords})(?:\s|$)|\s*$)"

    def placeholder(match: re.Match[str]) -> str:
        return _PLACEHOLDERS[match.group(1)].format(g=next(groups) if "{g}" in _PLACEHOLDERS[match.group(1)] else "")

    # Placeholders are expanded in one left-to-right pass so that the value groups are numbered in
    # the order they appear.
    pieces = re.split(r"(\{SECRET_BEFORE:[^}]+\}|\{[A-Z]+\})", template)
    out = []
    for piece in pieces:
        before_match = _BEFORE.fullmatch(piece)
        if before_match:
            out.append(before(before_match))
        elif _PLACEHOLDER.fullmatch(piece):
            out.append(placeholder(_PLACEHOLDER.fullmatch(piece)))  # type: ignore[arg-type]
        else:
            out.append(piece.replace(" ", r"\s+"))
    return re.compile("".join(out), re.IGNORECASE if ignore_case else 0)


def _shape(form: str, template: str, *, ignore_case: bool = False) -> SecretShape:
    first = re.match(r"[a-z0-9-]+(?=[ (]|$)", template)
    if first is None:
        raise ValueError(f"a command form starts with a literal word: {template!r}")
    return SecretShape(form, first.group(), _compile(template, ignore_case=ignore_case))


def _anywhere(
    form: str, template: str, *, trigger: str = "", ignore_case: bool = False, anchored: bool = False
) -> SecretShape:
    return SecretShape(form, None, _compile(template, ignore_case=ignore_case), anchored, trigger)


#: Every command form known to carry a secret. Within one first word, the first form that matches
#: wins (specific forms before general ones); forms that may sit anywhere in a line are tried
#: only when no first-word form matched, and the generic ``password``/``secret`` rule only when
#: nothing else did.
SECRET_SHAPES: tuple[SecretShape, ...] = (
    # --- local access --------------------------------------------------------------------------
    _shape("enable secret|password [level N] [TYPE] SECRET",
           r"enable (?:secret|password) (?!level \d+\s*$)(?:level {N} )?{TYPE}{SECRET}"),
    _shape("username NAME ... password|secret|nthash [TYPE] SECRET",
           r"username {W}(?: .*?)? (?:password|secret|nthash) {TYPE}{SECRET}"),
    _shape("user NAME ... password|nthash [TYPE] SECRET (radius-server local, voice user-profile)",
           r"user {W}(?: .*?)? (?:password|nthash) {TYPE}{SECRET}"),
    _shape("password [TYPE] SECRET (line, trustpoint, l2tp-class, dot1x credentials, ...)",
           r"password (?!encryption\b){TYPE}{SECRET}"),
    _shape("secret [TYPE] SECRET (parser view)", r"secret {TYPE}{SECRET}"),
    _shape("key config-key password-encrypt SECRET", r"key config-key (?:password-encrypt|\d+) {SECRET}"),
    # --- AAA servers ---------------------------------------------------------------------------
    _shape("tacacs-server [host A ...] key [TYPE] SECRET", r"tacacs-server (?:.*? )?key {TYPE}{SECRET}"),
    _shape("radius-server [host A ...] key [TYPE] SECRET", r"radius-server (?:.*? )?key {TYPE}{SECRET}"),
    _shape("server-private A ... key [TYPE] SECRET", r"server-private (?:.*? )?key {TYPE}{SECRET}"),
    _shape("pac key [TYPE] SECRET", r"pac key {TYPE}{SECRET}"),
    _shape("nas A key [TYPE] SECRET (radius-server local)", r"nas {W} key {TYPE}{SECRET}"),
    # A bare "key" line: a TACACS+/RADIUS server's or an EzVPN group's key. Under "key chain" a
    # one-word "key N" is the key's id (mask_text knows the section and keeps it).
    _shape("key [TYPE] SECRET (tacacs server, radius server, crypto isakmp client configuration group)",
           r"key(?! chain\b)(?! \S+:(?:\s|$)) {TYPE}{SECRET}"),
    _shape("ldap bind authenticate root-dn DN password [TYPE] SECRET",
           r"bind authenticate (?:.*? )?password {TYPE}{SECRET}"),
    # --- SNMP ----------------------------------------------------------------------------------
    _shape("snmp-server community COMMUNITY [view V] [RO|RW] [ACL]", r"snmp-server community {WORD}"),
    _shape("snmp-server host A [vrf V] [informs|traps] [version 1|2c|3 [auth|noauth|priv]] COMMUNITY ...",
           r"snmp-server host {W}(?: vrf {W})?(?: (?:informs|traps))?"
           r"(?: version (?:3(?: (?:auth|noauth|priv))?|\S+))? {WORD}"),
    _shape("snmp-server user U G ... auth md5|sha SECRET [priv des|3des|aes [N] SECRET]",
           r"snmp-server user {W} {W} (?:.*? )?auth {W} {WORD}"
           r"(?: (?:.*? )?priv {W}(?: (?:128|192|256))? {WORD})?"),
    _shape("snmp mib community-map COMMUNITY ...", r"snmp mib community-map {WORD}"),
    # --- routing protocols and first-hop redundancy ---------------------------------------------
    _anywhere("... key-string [TYPE] SECRET [timeout N] (key chain, HSRP/VRRP/GLBP md5)",
              r"(?<!\S)key-string {TYPE}{SECRET_BEFORE:timeout}", trigger="key-string"),
    _anywhere("... authentication-key [TYPE] SECRET (OSPF, virtual links)",
              r"(?<!\S)authentication-key {TYPE}{SECRET}", trigger="authentication-key"),
    _anywhere("... message-digest-key N md5 [TYPE] SECRET (OSPF, virtual links)",
              r"(?<!\S)message-digest-key {N} md5 {TYPE}{SECRET}", trigger="message-digest-key"),
    _anywhere("... authentication ipsec spi N md5|sha1 [TYPE] KEY (OSPFv3: ipv6 ospf, ospfv3, area)",
              r"(?<!\S)authentication ipsec spi {N} (?:md5|sha1) {TYPE}{WORD}", trigger="ipsec"),
    _anywhere("... encryption ipsec spi N esp null|des|3des|aes-cbc [N] [TYPE] KEY md5|sha1 [TYPE] KEY (OSPFv3)",
              r"(?<!\S)encryption ipsec spi {N} esp (?:null|(?:des|3des|aes-cbc(?: (?:128|192|256))?) {TYPE}{WORD})"
              r" (?:md5|sha1) {TYPE}{WORD}", trigger="ipsec"),
    _shape("standby|vrrp|glbp [N] authentication [text] SECRET",
           r"standby(?: {N})? authentication (?:text )?(?!md5\b){SECRET_BEFORE:timeout}"),
    _shape("vrrp N authentication [text] SECRET", r"vrrp(?: {N})? authentication (?:text )?(?!md5\b){SECRET}"),
    _shape("glbp N authentication text SECRET", r"glbp(?: {N})? authentication (?:text )?(?!md5\b){SECRET}"),
    _shape("area-password [TYPE] SECRET [authenticate snp validate|send-only] (IS-IS)",
           r"area-password {TYPE}{SECRET_BEFORE:authenticate}"),
    _shape("domain-password [TYPE] SECRET [authenticate snp validate|send-only] (IS-IS)",
           r"domain-password {TYPE}{SECRET_BEFORE:authenticate}"),
    _shape("isis password SECRET [level-1|level-2]", r"isis password {SECRET_BEFORE:level-1|level-2}"),
    _shape("ip msdp [vrf V] password peer A [TYPE] SECRET",
           r"ip msdp(?: vrf {W})? password peer {W} {TYPE}{SECRET}"),
    _shape("ip nhrp authentication SECRET", r"ip nhrp authentication {SECRET}"),
    _shape("ip ssh server algorithm authentication ... password (no secret)", r"ip ssh server algorithm "),
    _shape("ipv6 nhrp authentication SECRET", r"ipv6 nhrp authentication {SECRET}"),
    _shape("mpls ldp password fallback|option N for ACL [TYPE] SECRET",
           r"mpls ldp password (?:fallback|option {N} for {W}) {TYPE}{SECRET}"),
    _shape("mpls ldp password required|rollover ... (no secret)", r"mpls ldp password (?:required|rollover)\b"),
    _shape("authentication mode hmac-sha-256 [TYPE] SECRET (EIGRP named mode)",
           r"authentication mode hmac-sha-256 {TYPE}{SECRET}"),
    _shape("ntp authentication-key N md5|ALG SECRET [TYPE]", r"ntp authentication-key {N} {W} {WORD}"),
    # --- VPN -----------------------------------------------------------------------------------
    _shape("crypto isakmp key [TYPE] KEY address|hostname ...", r"crypto isakmp key {TYPE}{WORD}"),
    _shape("pre-shared-key address|hostname P [mask] key [TYPE] SECRET (crypto keyring)",
           r"pre-shared-key (?:address|hostname) (?:.*? )?key {TYPE}{SECRET}"),
    _shape("pre-shared-key [local|remote] [hex] [TYPE] SECRET (IKEv2 keyring)",
           r"pre-shared-key(?: (?:local|remote))?(?: hex)? {TYPE}{SECRET}"),
    _shape("authentication local|remote pre-share key [TYPE] SECRET (IKEv2 profile)",
           r"authentication (?:local|remote) pre-share key {TYPE}{SECRET}"),
    _shape("group NAME key [TYPE] SECRET (crypto ipsec client ezvpn)", r"group {W} key {TYPE}{SECRET}"),
    _shape("set session-key inbound|outbound ah SPI KEY (ipsec-manual crypto map)",
           r"set session-key (?:inbound|outbound) ah {N} {WORD}"),
    _shape("set session-key inbound|outbound esp SPI [cipher KEY] [authenticator KEY]",
           r"set session-key (?:inbound|outbound) esp {N} "
           r"(?:cipher {TYPE}{WORD}(?: authenticator {TYPE}{WORD})?|authenticator {TYPE}{WORD})"),
    _anywhere("... passphrase [TYPE] SECRET (crypto key import/encrypt, pki export)",
              r"(?<!\S)passphrase {TYPE}{SECRET}", trigger="passphrase"),
    _anywhere("... user-pin [encrypted] SECRET (crypto pki token)", r"(?<!\S)user-pin(?: encrypted)? {SECRET}", trigger="user-pin"),
    _anywhere("... server-key [TYPE] SECRET (aaa server radius dynamic-author)",
              r"(?<!\S)server-key {TYPE}{SECRET}", trigger="server-key"),
    # --- wireless ------------------------------------------------------------------------------
    _shape("wpa-psk ascii|hex [TYPE] SECRET (dot11 ssid)", r"wpa-psk (?:ascii|hex) {TYPE}{SECRET}"),
    _shape("security wpa psk set-key ascii|hex [TYPE] SECRET (wlan)",
           r"security wpa (?:.*? )?psk set-key (?:ascii|hex) {TYPE}{SECRET}"),
    _shape("encryption [vlan N] key 1-4 size 40bit|128bit [TYPE] KEY [transmit-key] (WEP)",
           r"encryption(?: vlan {N})? key {N} size {W} {TYPE}{SECRET_BEFORE:transmit-key}"),
    # --- voice: CME, SIP, SRST ---------------------------------------------------------------------
    _shape("xml user NAME password [TYPE] SECRET PRIVILEGE", r"xml user {W} password {TYPE}{WORD}"),
    _shape("authentication credential APPLICATION SECRET (telephony-service)",
           r"authentication credential {W} {SECRET}"),
    _shape("authentication username U password [TYPE] SECRET [realm R] (sip-ua, dial-peer, voice service)",
           r"authentication username {W} password {TYPE}{SECRET_BEFORE:realm}"),
    _shape("credentials [number N] username U password [TYPE] SECRET realm R (sip-ua, voice class tenant)",
           r"credentials (?:.*? )?password {TYPE}{SECRET_BEFORE:realm}"),
    _shape("url authentication URL USER SECRET (telephony-service, voice register global)",
           r"url authentication {W} {W} {SECRET}"),
    _shape("url authentication URL SECRET", r"url authentication {W} {SECRET}"),
    _shape("after-hours override-code SECRET (telephony-service)", r"after-hours override-code {SECRET}"),
    _shape("ata-ivr-pwd SECRET (voice register global)", r"ata-ivr-pwd {SECRET}"),
    _shape("stun flowdata shared-secret [TYPE] SECRET (voice class stun-usage, stun)",
           r"stun flowdata shared-secret {TYPE}{SECRET}"),
    # An application's parameters (Extension Assigner's ea-password, a TCL/VXML script's PIN): any
    # parameter whose name says it holds a password or PIN.
    _shape("param NAME-with-password/pin SECRET (application service)",
           r"param [\w-]*(?:password|passwd|pwd|pin)[\w-]* {SECRET}"),
    _shape("pin SECRET (ephone, voice user-profile, voice logout-profile)", r"pin {SECRET}"),
    _shape("capf-auth-str SECRET (ephone)", r"capf-auth-str {SECRET}"),
    _shape("auth-string SECRET (ephone)", r"auth-string(?! (?:generate|delete)\b) {SECRET}"),
    # --- what show commands print ----------------------------------------------------------------
    # show ephone: "Username:u Password:p"; the value ends at the next "Label:" or the line's end.
    _anywhere("Password:SECRET (show ephone, show ephone tapiclients)",
              r"(?<![\w-])password[:=]\s*(?P<s1>[^\s\"'](?:.*?\S)?)(?=\s+[a-z][\w-]*:|\s*$)", ignore_case=True,
              trigger="password"),
    _anywhere("local key: SECRET / remote key: SECRET (show voip rtp connections detail, SRTP)",
              r"(?<!\S)(?:local|remote) key:\s*(?P<s1>\S(?:.*?\S)?)(?=\s+(?:local|remote) key:|\s*$)",
              ignore_case=True, trigger="key:"),
    _anywhere("a=crypto:N SUITE inline:KEY|lifetime (SDP)", r"inline:(?P<s1>[^\s|]+(?:\|\S*)?)", trigger="inline:"),
    _anywhere("MAC SECRET (show capf-server auth-string)",
              r"(?:[0-9a-f]{12}|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})\s+(?P<s1>\S+)\s*$", ignore_case=True,
              anchored=True),
)

_BY_FIRST: dict[str, tuple[SecretShape, ...]] = {}
for _entry in SECRET_SHAPES:
    if _entry.first is not None:
        _BY_FIRST[_entry.first] = (*_BY_FIRST.get(_entry.first, ()), _entry)
_ANYWHERE_SHAPES = tuple(entry for entry in SECRET_SHAPES if entry.first is None)

# Cheap pre-filter: a line containing none of these (lower-cased) holds no secret the table
# knows, except the two-column rows of "show capf-server auth-string" (_MAC_ROW). Few and short:
# the text is scanned once per word ("pass": password, passphrase; "auth": authentication,
# auth-string, capf-auth-str, snmp-server user ... auth; "snmp": snmp-server host).
_TRIGGER_WORDS = (
    "pass", "secret", "key", "community", "snmp", "pin", "auth", "inline:", "://", "psk", "pwd",
    "override-code", "ipsec", "nthash",
)
_MAC_ROW_BODY = r"[ \t]*(?:[0-9a-fA-F]{12}|[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4})[ \t]+\S+[ \t]*$"
_MAC_ROW = re.compile("^" + _MAC_ROW_BODY, re.MULTILINE)
# The same rows after a line break: ``re`` looks for a pattern's leading literal character at C
# speed, where a leading ``^`` is tried at every position of the text (twice as slow on a config).
_MAC_ROW_AFTER_BREAK = re.compile("\n" + _MAC_ROW_BODY, re.MULTILINE)
# What comes before the command: indentation, typed prompts ("Router(config)#"), and "no".
_LEAD = re.compile(r"\s*(?:[\w.\-/:()@]+[#>]\s*)*(?:no\s+)?")
_FIRST_WORD = re.compile(r"\S+")
_URL_CREDENTIALS = re.compile(r"(://[^\s/@:]+:)([^\s/@]+)(@)")
# Sections whose one-word "key N" lines are key ids, not keys ("key chain" holds "key 1" + "key-string").
_KEY_ID_SECTIONS = re.compile(r"key chain\b", re.IGNORECASE)
_BARE_KEY = _BY_FIRST["key"][-1]
# Sections that can hold a masked line whose context matters; used by mask_text to find the parent.
_SECTION_OPENER = re.compile(
    r"^(key chain |tacacs server |radius server |aaa server |aaa group server |crypto keyring |"
    r"crypto ikev2 keyring |crypto isakmp client configuration group )",
    re.IGNORECASE,
)
_PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_PRIVATE_KEY_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")

# The generic rule: words after which a "password"/"secret" word is a user *name*, not a keyword
# ("username password password X": the first "password" is the user's name).
_NAME_INTRODUCERS = frozenset({"username", "user", "name", "admin", "sent-username", "hostname"})
_SECRET_KEYWORDS = frozenset({"password", "secret"})
_GENERIC_WORD = re.compile(r"\S+")
# Words that follow "password"/"secret" in cmelive's own sentences, never as a secret's first word
# there (prose only: in a router's line, "password for the win" is a secret like any other).
_PROSE_WORDS = frozenset(
    "a an the is are was were be been being and or nor but of for to in on at by with without from into under "
    "over as if than then when where while that this these those which who whose it its itself not no cannot "
    "can could may might must should will would has have had does do did exists exist equals matches lives "
    "looks gets crosses split source versus although also only set used stored configured reused shared same "
    "so type hash hashes value values".split()
)
# A value that is a placeholder, as remediation writes them ("password <new-gui-password>").
_PLACEHOLDER_VALUE = re.compile(r"<[a-z][a-z0-9-]*>")


# --------------------------------------------------------------------------------------------------
# Masking


def mask_line(line: str, *, section: str | None = None, prose: bool = False) -> str:
    """``line`` with every secret value replaced by :data:`MASK`.

    ``section`` is the command of the section header the line sits under, when the caller knows
    it (``mask_text`` does). Without it, ambiguous lines are masked: a bare ``key 1`` could be a
    key-chain id or a TACACS+ key, and a secret is worse to leak than an id to hide.
    """
    if not _may_hold_secret(line.lower()) and not _MAC_ROW.match(line):
        return line
    return _mask_candidate(line, section, prose)


def _may_hold_secret(lowered: str) -> bool:
    for word in _TRIGGER_WORDS:  # a loop of "in" tests: faster than any() or a regex on short lines
        if word in lowered:
            return True
    return False


def mask_text(text: str, *, prose: bool = False) -> str:
    """Mask every line of ``text``; the number of lines (and every newline) is unchanged.

    ``prose``: the text is cmelive's own sentences (see :func:`scrub`)."""
    candidates = _candidate_lines(text)
    if not candidates:
        return text
    pieces: list[str] = []
    done = 0
    for begin, end in candidates:
        line = text[begin:end]
        section = _parent_header(text, begin) if _needs_section(line) else None
        masked = _mask_candidate(line, section, prose)
        if masked != line:
            pieces += (text[done:begin], masked)
            done = end
    if "PRIVATE KEY-----" in text:
        if done:
            pieces.append(text[done:])
            text, pieces, done = "".join(pieces), [], 0
        return _mask_private_keys(text)
    if not done:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _mask_candidate(line: str, section: str | None, prose: bool = False) -> str:
    spans = _spans(line, section, prose)
    masked = line
    for start, end in sorted(spans, reverse=True):
        if _PLACEHOLDER_VALUE.fullmatch(line, start, end):
            continue  # "<masked>" itself, or a remediation's "<new-secret>": no value to hide
        masked = masked[:start] + MASK + masked[end:]
    if "://" in masked:
        # ftp://user:PASSWORD@host/path (archive, boot, copy targets, ddns): keep user, host and path.
        masked = _URL_CREDENTIALS.sub(rf"\g<1>{MASK}\g<3>", masked)
    return masked


def _spans(line: str, section: str | None, prose: bool = False) -> list[tuple[int, int]]:
    """The character spans of the secrets in ``line`` (sorted, not overlapping)."""
    start = _LEAD.match(line).end()  # type: ignore[union-attr]  # matches the empty string at worst
    first = _FIRST_WORD.match(line, start)
    if first is None:
        return []
    spans: list[tuple[int, int]] = []
    claimed = False
    for shape in _BY_FIRST.get(first.group().lower(), ()):
        match = shape.pattern.match(line, start)
        if match is not None:
            in_key_chain = section is not None and _KEY_ID_SECTIONS.match(section) is not None
            if shape is _BARE_KEY and in_key_chain and " " not in match.group("s1"):
                return []  # a key chain's key id
            spans = list(shape.spans(match))
            claimed = True
            break
    else:
        lowered = line.lower()
        for shape in _ANYWHERE_SHAPES:
            if shape.trigger and shape.trigger not in lowered:
                continue
            if shape.anchored:
                anchored = shape.pattern.match(line, start)
                if anchored is not None:
                    spans += shape.spans(anchored)
                continue
            for match in shape.pattern.finditer(line, start):
                spans += shape.spans(match)
    if prose and spans:
        spans = [span for span in spans if not _names_no_value(line, span)]
        claimed = claimed and bool(spans)  # a sentence that starts like a command: read it all
    if not spans and not claimed:
        lowered = line.lower()
        if "password" in lowered or "secret" in lowered:
            spans = _generic(line, start, prose)
    return _without_overlaps(spans) if len(spans) > 1 else spans


def _names_no_value(line: str, span: tuple[int, int]) -> bool:
    """In prose: the "value" is an English word or a parenthesis ("secret is set", "password (line 3)").

    Not inside quotes: a sentence quotes router text ("(description 'password is hunter2')"), and
    that is read as the router line it is. Nor "a value ending in a comma": "... password cisco,
    line vty 5 15" lists a secret.
    """
    if _inside_quotes(line, span[0]):
        return False
    word = line[span[0] : span[1]].split(None, 1)[0].lower()
    return word[0] in "([" or word.rstrip(".,;:!?") in _PROSE_WORDS


_OPENING_QUOTE = re.compile(r"(?:^|(?<=[\s(\[]))'")
_CLOSING_QUOTE = re.compile(r"'(?=[\s)\],.;:!?]|$)")


def _inside_quotes(line: str, position: int) -> bool:
    marks = _quote_marks(line)
    if bisect_left(marks.double, position) % 2 == 1 or bisect_left(marks.backtick, position) % 2 == 1:
        return True
    return _single_quote_open(line, position)


def _single_quote_open(line: str, position: int) -> bool:
    """A single quote opened before ``position`` and not closed: an apostrophe ("the router's
    password", "o'brien") neither opens nor closes one."""
    marks = _quote_marks(line)
    return bisect_left(marks.opening, position) > bisect_left(marks.closing, position)


class _QuoteMarks(NamedTuple):
    double: list[int]
    backtick: list[int]
    opening: list[int]  # single quotes that open a quotation
    closing: list[int]  # single quotes that close one (and do not also open one)


@lru_cache(maxsize=32)
def _quote_marks(line: str) -> _QuoteMarks:
    # Found once per line and searched by bisection: a long message (a check listing hundreds of
    # lines of a config that repeats itself) asks about many positions of one line.
    opening = [m.start() for m in _OPENING_QUOTE.finditer(line)]
    opens = set(opening)
    return _QuoteMarks(
        double=[i for i, c in enumerate(line) if c == '"'],
        backtick=[i for i, c in enumerate(line) if c == "`"],
        opening=opening,
        closing=[m.start() for m in _CLOSING_QUOTE.finditer(line) if m.start() not in opens],
    )


def _generic(line: str, start: int, prose: bool = False) -> list[tuple[int, int]]:
    """The first ``password X`` / ``secret X`` of a line, whatever the command: to the end of the
    line, or to the closing quote when the keyword sits inside quoted text (a message that quotes
    a config line), or before ``realm``."""
    words = list(_GENERIC_WORD.finditer(line, start))
    # A keyword may open a quotation in a sentence ("(description 'password is ...')").
    lowered = [w.group().lower().lstrip("'\"`([") for w in words]
    names: set[int] = set()
    for i, word in enumerate(lowered):
        if i in names:
            continue  # "username password password X": the first "password" is a user name
        if word in _NAME_INTRODUCERS:
            names.add(i + 1)
            continue
        if word not in _SECRET_KEYWORDS:
            continue
        value = i + 1
        if value >= len(words):
            return []
        if lowered[value].isdigit() and len(lowered[value]) == 1 and value + 1 < len(words):
            value += 1  # the encryption type
        if lowered[value] == "level" or lowered[value].endswith(":"):
            continue  # "no enable secret level 15", "Password expiry: 30"
        if i == 0 and lowered[value] == "encryption":
            continue  # "password encryption aes" is a global command
        if prose and _names_no_value(line, (words[value].start(), words[value].end())):
            continue
        begin = words[value].start()
        end = len(line.rstrip())
        token = words[i].group()
        before = words[i].start() + len(token) - len(token.lstrip("'\"`(["))
        marks = _quote_marks(line)
        for quote, positions in (('"', marks.double), ("`", marks.backtick)):
            if bisect_left(positions, before) % 2 == 1:
                closing = line.find(quote, begin)
                if closing != -1:
                    end = min(end, closing)
        # A single quote only when it opens a quotation: "o'brien" and "sec'ret" are words.
        if _single_quote_open(line, before):
            closing_quote = _CLOSING_QUOTE.search(line, begin)
            if closing_quote is not None:
                end = min(end, closing_quote.start())
        for later in range(value + 1, len(words)):
            if lowered[later] == "realm":
                end = min(end, len(line[: words[later].start()].rstrip()))
                break
        return [(begin, end)] if end > begin else []
    return []


def _without_overlaps(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    kept: list[tuple[int, int]] = []
    for span in sorted(set(spans)):
        if kept and span[0] < kept[-1][1]:
            kept[-1] = (kept[-1][0], max(kept[-1][1], span[1]))
            continue
        kept.append(span)
    return kept


def _mask_private_keys(text: str) -> str:
    """Mask the body of every PEM private key block (``crypto pki import ... pem terminal``)."""
    lines = text.split("\n")
    inside = False
    for index, line in enumerate(lines):
        if _PRIVATE_KEY_BEGIN.search(line):
            inside = True
            continue
        if inside:
            if _PRIVATE_KEY_END.search(line):
                inside = False
            elif line.strip():
                indent = line[: len(line) - len(line.lstrip())]
                lines[index] = indent + MASK
    return "\n".join(lines)


def _candidate_lines(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of the lines that pass the pre-filter, in order.

    Scanning the text once per trigger word (``str.find`` runs in C), and skipping to the next
    line at each hit, is an order of magnitude faster than testing each line with a regex: a
    200 KB config is never split into lines, only the few candidate lines are cut out of it.
    """
    lowered = text.lower() if not text.islower() else text
    starts: set[int] = set()
    for word in _TRIGGER_WORDS:
        found = lowered.find(word)
        while found != -1:
            starts.add(lowered.rfind("\n", 0, found) + 1)
            line_end = lowered.find("\n", found)
            if line_end == -1:
                break
            found = lowered.find(word, line_end)
    if "auth-string" in lowered:  # the header of "show capf-server auth-string", before its rows
        starts.update(_mac_row_starts(text))
    if not starts:
        return []
    spans = []
    for start in sorted(starts):
        end = text.find("\n", start)
        spans.append((start, end if end != -1 else len(text)))
    return spans


def _mac_row_starts(text: str) -> list[int]:
    """Where the lines matching :data:`_MAC_ROW` start: ``_MAC_ROW.finditer``'s starts, found faster."""
    starts = [found.start() + 1 for found in _MAC_ROW_AFTER_BREAK.finditer(text)]
    if _MAC_ROW.match(text):
        starts.insert(0, 0)
    return starts


def _needs_section(line: str) -> bool:
    words = line.split()
    return len(words) == 2 and words[0] == "key"


def _parent_header(text: str, begin: int) -> str | None:
    """The header of the section of the line starting at ``begin``, read from indentation.

    Captures that lost their indentation have every line at column 0; for them the nearest
    preceding known section opener (before a ``!``) is taken instead.
    """
    end = text.find("\n", begin)
    line = text[begin : end if end != -1 else len(text)]
    indent = len(line) - len(line.lstrip())
    line_end = begin - 1  # the newline that ends the line before
    while line_end >= 0:
        line_start = text.rfind("\n", 0, line_end) + 1
        candidate = text[line_start:line_end]
        line_end = line_start - 1
        stripped = candidate.strip()
        if not stripped:
            continue
        candidate_indent = len(candidate) - len(candidate.lstrip())
        if indent > 0:
            if candidate_indent < indent:
                return stripped
            continue
        if stripped.startswith("!"):
            return None
        if _SECTION_OPENER.match(stripped):
            return stripped
    return None


__all__ = [
    "MASK",
    "SECRET_SHAPES",
    "SecretShape",
    "mask_line",
    "mask_text",
    "neutralise_controls",
    "scrub",
    "scrub_short",
    "scrub_value",
]
