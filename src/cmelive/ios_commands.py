"""The IOS / CME configuration commands cmelive knows, and a checker for config scripts written with them.

Every remediation line a check proposes (and so every line of a fix plan) must be a command IOS takes in
the mode it is typed in, with its keywords in the order the command reference gives and a clear-text
value only where the command takes one. This module is that knowledge, as data: one :class:`CommandForm`
per command form, with the mode it belongs to, its syntax, the Cisco reference that gives it and, when it
matters, the first release that has it. :attr:`CommandForm.confirmed_in` is the address of the stored Cisco
text the syntax was read in; :func:`unconfirmed_forms` lists the forms still written from memory.

The API is two functions over an indented config script (the text a user pastes after ``configure
terminal``):

- :func:`check_config_lines` returns every line outside the grammar, each with a one-line reason;
- :func:`version_problems` returns every line whose command the router's release does not have yet.

A script is read the way IOS shows a running-config: a line with no indentation is a global command; a
command that enters a sub-mode (``interface X``, ``line vty 0 4``, ``telephony-service``, ``ip access-list
extended NAME``, ...) holds the more indented lines that follow it; ``!`` lines are comments; ``no`` before
a command removes it (IOS takes the leading words of a form after ``no``). A value written as a
placeholder, ``<admin-subnet>``, stands for any value of the slot it fills, but never for a keyword, and a
placeholder that reads as a clear-text secret (``<new-secret>``) never fills a slot that takes a hash.

Syntax notation of :attr:`CommandForm.syntax` (the command references' own, made exact)::

    keyword          a literal word (IOS keywords are case-insensitive)
    {a | b c}        one of the alternatives
    [x y]            optional
    <kind>           an argument: see ARGUMENT_KINDS; <num:1-99> a number in a range
    <kind>...        one or more of them
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

__all__ = [
    "ARGUMENT_KINDS",
    "FORMS",
    "CommandForm",
    "GrammarProblem",
    "check_config_lines",
    "forms_for",
    "parse_version",
    "unconfirmed_forms",
    "unconfirmed_lines",
    "version_problems",
]

# -- references ----------------------------------------------------------------------------------------
# The command references the forms come from (title, and the address where the stored copy was read).
CME_CMD_REF = "Cisco Unified Communications Manager Express Command Reference"
CME_S1 = f"{CME_CMD_REF}, Commands: S1 (https://www.cisco.com/en/US/docs/voice_ip_comm/cucme/command/reference/cme_s1ht.html)"
CME_SECURITY = "Cisco Unified CME System Administrator Guide, Security (phone authentication: CTL, CAPF, trustpoints)"
IOS_SEC_REF = "Cisco IOS Security Command Reference"
IOS_SEC_I2 = f"{IOS_SEC_REF}, ip inspect name (https://www.cisco.com/en/US/docs/ios/security/command/reference/sec_i2.pdf)"
IOS_SSH = "Cisco IOS Secure Shell Configuration Guide / Security Command Reference (ip ssh ...)"
IOS_USERNAME = (
    "Cisco IOS Security Command Reference: username, enable secret "
    "(https://cisco.com/E-Learning/bulk/public/tac/cim/cib/using_cisco_ios_software/cmdrefs/username.htm)"
)
IOS_ACL = "Cisco IOS IP Application Services / Security Command Reference: access-list, ip access-list"
IOS_HTTP = "Cisco IOS HTTP Services Command Reference: ip http"
IOS_SNMP = "Cisco IOS Network Management Command Reference: snmp-server community"
IOS_AAA = "Cisco IOS Security Command Reference: aaa new-model, aaa authentication login, aaa accounting, tacacs"
IOS_PKI = "Cisco IOS Security Command Reference: crypto pki trustpoint, crypto pki server, crypto key generate rsa"
IOS_VOICE = "Cisco IOS Voice Command Reference"
IOS_TOLL_FRAUD = "Cisco IOS Voice Command Reference: ip address trusted (Toll Fraud Prevention, 15.1(2)T)"
IOS_BASIC = "Cisco IOS Configuration Fundamentals / Interface Command Reference"
IOS_LOGGING = "Cisco IOS Configuration Fundamentals Command Reference: logging"
IOS_CDP = "Cisco IOS CDP Command Reference: cdp enable"

# Stored copies the syntax of a form was read in (CommandForm.confirmed_in), with CommandForm.quote holding
# the line read there. Every address below is Cisco's own page; the copies read were public mirrors of them
# (LTMrk/CiscoUCCrawler keeps cisco.com pages as text under their source_url; the seed
# shared/seed/cme-security-best-practices.txt is SEEN_CME_SRND_SECURITY).
_CME_CR = "https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucme/command/reference/cme_cr/"
_CME_ADM = "https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucme/admin/configuration/manual/cmeadm/"
_VCR = "https://www.cisco.com/c/en/us/td/docs/ios-xml/ios/voice/"
SEEN_CME_IP_SOURCE = f"{_CME_CR}cme_cr_chapter_01000.html"  # Commands: I
SEEN_CME_CR_A = f"{_CME_CR}cme_cr_chapter_00.html"
SEEN_CME_CR_B = f"{_CME_CR}cme_cr_chapter_01.html"
SEEN_CME_CR_C = f"{_CME_CR}cme_cr_chapter_010.html"
SEEN_CME_CR_D = f"{_CME_CR}cme_cr_chapter_011.html"
SEEN_CME_CR_E = f"{_CME_CR}cme_cr_chapter_0100.html"
SEEN_CME_CR_M = f"{_CME_CR}cme_cr_chapter_01011.html"
SEEN_CME_CR_N = f"{_CME_CR}cme_cr_chapter_01100.html"
SEEN_CME_CR_R = f"{_CME_CR}cme_cr_chapter_01111.html"
SEEN_CME_CR_S2 = f"{_CME_CR}cme_cr_chapter_010001.html"
SEEN_CME_CR_T = f"{_CME_CR}cme_cr_chapter_010010.html"
SEEN_CME_CR_V = f"{_CME_CR}cme_cr_chapter_010100.html"
SEEN_CME_CR_W = f"{_CME_CR}cme_cr_chapter_010101.html"
SEEN_CME_S1 = "https://www.cisco.com/en/US/docs/voice_ip_comm/cucme/command/reference/cme_s1ht.html"
SEEN_CME_CALL_BLOCKING = ("https://bxin.cisco.com/c/en/us/td/docs/voice_ip_comm/cucme/admin/configuration/manual/"
                          "cmeadm/cmeblock.html")
SEEN_CME_BASIC = f"{_CME_ADM}cmebasic.html"
SEEN_CME_SECURITY = f"{_CME_ADM}cmeauth.html"  # System Administrator Guide, Security (CTL, CAPF, phone auth)
SEEN_CME_TOLL = f"{_CME_ADM}cmetoll.html"  # System Administrator Guide, Toll Fraud Prevention
SEEN_CME_FAC = f"{_CME_ADM}cmefac.html"
# The CME SRND's "Security Best Practices" chapter: the seed shared/seed/cme-security-best-practices.txt.
SEEN_CME_SRND_SECURITY = "https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucme/srnd/design/guide/cmesrnd/security.html"
SEEN_CME_TRUSTED_FW = "https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucme/feature/guide/TrustedFW.html"
SEEN_SRST_MGR_ESRST = ("https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/srst_mgr/rel9_0/admin_gd/Admin_Book/"
                       "config_esrst.html")
SEEN_VCR_C6 = f"{_VCR}vcr1/vcr1-cr-book/vcr-c6.html"  # Voice Command Reference: corlist
SEEN_VCR_D1 = f"{_VCR}vcr2/vcr2-cr-book/vcr-d1.html"  # dial-peer voice, dial-peer cor, destination-pattern, ...
SEEN_VCR_G1 = f"{_VCR}vcr2/vcr2-cr-book/vcr-g1.html"  # gw-accounting
SEEN_VCR_I1 = f"{_VCR}vcr2/vcr2-cr-book/vcr-i1.html"  # ip address trusted
SEEN_VCR_M1 = f"{_VCR}vcr3/vcr3-cr-book/vcr-m1.html"  # max-conn, member
SEEN_VCR_N1 = f"{_VCR}vcr3/vcr3-cr-book/vcr-n1.html"  # name (dial peer cor custom)
SEEN_VCR_V2 = f"{_VCR}vcr5/vcr5-cr-book/vcr-v2.html"  # voice service
SEEN_IOS_RSA = "http://cisco.com/en/US/docs/ios-xml/ios/security/a1/sec-cr-c4.html"
SEEN_IOS_SEC_I2 = "https://www.cisco.com/en/US/docs/ios/security/command/reference/sec_i2.pdf"
SEEN_IOS_ENABLE_PASSWORD = ("https://www.cisco.com/E-Learning/bulk/public/tac/cim/cib/using_cisco_ios_software/cmdrefs/"
                            "enable_password.htm")
_TAC = "https://www.cisco.com/c/en/us/support/docs/unified-communications/"
_CUBE = "https://www.cisco.com/c/en/us/td/docs/ios-xml/ios/voice/cube/ios-xe/config/ios-xe-book/"
SEEN_TAC_VG224 = f"{_TAC}vg-series-gateways/212138-Configure-VG224-SCCP-Secure-Encrypted.html"
SEEN_TAC_SRST_ISR4K = (f"{_TAC}unified-survivable-remote-site-telephony/"
                       "213805-configure-secure-sip-srst-on-isr4000.html")
SEEN_TAC_ZBFW = f"{_TAC}unified-border-element/220378-configure-zone-based-firewall-zbfw-co.html"
SEEN_TAC_CUBE_DEBUG = f"{_TAC}unified-border-element/215208-configure-debug-collection-for-unified-b.html"
SEEN_TAC_MGCP = f"{_TAC}unified-communications-manager-callmanager/118886-config-mgcp-00.html"
SEEN_TAC_SIP_TLS = f"{_TAC}unified-border-element/212090-Configure-SIP-TLS-between-CUCM-CUBE-CUBE.html"
SEEN_CUBE_HA_ASR = f"{_CUBE}m-cube-ha-asr.html"
SEEN_CUBE_FIPS = f"{_CUBE}m_cc_fips_compliance.html"
SEEN_CME_NETWORK = f"{_CME_ADM}cmenetwk.html"  # System Administrator Guide, Network Parameters
SEEN_CME_VPN = f"{_CME_ADM}cmevpn.html"
SEEN_CME_SRND_ENDPOINTS = "https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucme/srnd/design/guide/cmesrnd/endpts.html"
SEEN_BCS_SECURITY = "https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucme/bcs/installation/guide/bcsvd_in/SOCCsec.html"
SEEN_SIP_RFC = ("https://www.cisco.com/c/en/us/td/docs/ios-xml/ios/voice/sip/configuration/15-mt/sip-config-15-mt-book/"
                "voi-sip-rfc.html")
SEEN_SIP_MWI = ("https://www.cisco.com/c/en/us/td/docs/ios-xml/ios/voice/sip/configuration/15-mt/sip-config-15-mt-book/"
                "voi-sip-mwi.html")
SEEN_SIP_AAA = ("https://www.cisco.com/c/en/us/td/docs/ios-xml/ios/voice/sip/configuration/15-mt/sip-config-15-mt-book/"
                "voi-sip-aaa.html")
# The Cisco IOS Network Management Command Reference's chapter "line-cli through logging userinfo" (its table of
# contents lists each command by its syntax, "logging on" among them).
SEEN_IOS_NM_CR_LOGGING = "https://www3-realm.cisco.com/en/US/docs/ios/netmgmt/command/reference/nm_09.html"
# Cisco IOS XE SD-WAN Qualified Command Reference, AAA Commands (aaa accounting with its syntax line).
SEEN_SDWAN_AAA = ("https://cisco.com/content/en/us/td/docs/routers/sdwan/command/iosxe/qualified-cli-command-reference-guide/"
                  "m-aaa-commands.html")
# Cisco IOS Security Command Reference: Commands S to Z, the page holding username (its syntax lines, one per form).
SEEN_IOS_SEC_CR_T2 = "https://www.cisco.com/c/en/us/td/docs/ios-xml/ios/security/s1/sec-s1-cr-book/sec-cr-t2.html"
SEEN_IOS_USERNAME = "https://cisco.com/E-Learning/bulk/public/tac/cim/cib/using_cisco_ios_software/cmdrefs/username.htm"
# Not cisco.com pages: copies of Cisco text found elsewhere (a mirror of the IOS command reference page, a
# Cisco Press article, a mirrored Catalyst configuration guide); kept where no cisco.com copy was found.
SEEN_IOS_SNMP_COMMUNITY = "https://gattner.name/simon/public/bsd/cisco/src/snmp-server%20community.htm"
SEEN_IOS_SSH_VTY = "https://manualshive.com/ru/manual/cisco/catalyst-2960-xr/66150?page=113"
SEEN_IOS_LOGGING_BUFFERED = "https://gattner.name/simon/public/bsd/cisco/src/logging%20buffered.htm"
SEEN_IOS_TACACS_SERVER_HOST = "https://gattner.name/simon/public/bsd/cisco/src/tacacs-server%20host.htm"
# Cisco Networking Academy's CCNA R&S course text (syslog levels), as a university mirror keeps it.
SEEN_NETACAD_SYSLOG = "http://cisco.num.edu.mn/CCNA_R&S3/course/module9/9.2.1.4/9.2.1.4.html"
# Cisco Networking Academy's Fundamentals of Wireless LANs course text (system message logging), as an archive keeps it.
SEEN_NETACAD_FWL = "http://rolar.ddns.net/?download=true&file=Data%2FCisco%2FArchives%2FFundamentals+of+Wireless%2Fen_FWL_v12.zip"
# Cisco's feature module "IP Access List Entry Sequence Numbering" (Cisco IOS Release 12.2(14)S, 12.2(15)T and
# 12.3(2)T), as a manual site keeps it page by page: page 7 has the config-std-nacl steps, page 9 the examples.
SEEN_IOS_ACL_SEQ_STEPS = "https://manualsbrain.com/en/manuals/1643333/?page=7"
SEEN_IOS_ACL_SEQ_EXAMPLES = "https://manualsbrain.com/en/manuals/1643333/?page=9"
# The Catalyst 2960 configuration guide's "Sequence Numbering Behavior" (a manual site's copy of the page).
SEEN_IOS_ACL_SEQ_MAX = "https://manualshive.com/en/manual/cisco/catalyst-2960-series/66776?page=1261"
# The Catalyst 3550 configuration guide's "Including Comments in ACLs" (a manual site's copy of the page).
SEEN_IOS_ACL_REMARK = ("https://manualshive.com/en/manual/cisco/catalyst-3550-series/"
                       "catalyst-3550-series_software-configuration-manual_66787-557.html")


@dataclass(frozen=True)
class CommandForm:
    """One command form IOS takes in one configuration mode."""

    #: The mode it is typed in: ``global``, ``interface``, ``line``, ``telephony-service``, ...
    mode: str
    #: The syntax (module docstring), from the first word of the command.
    syntax: str
    #: The Cisco reference (title, and address where known) that gives the form.
    reference: str
    #: The mode the command enters, when it opens a sub-mode.
    enters: str | None = None
    #: The first IOS release that has the form (``"15.1(2)T"``, ``"16.1"`` for IOS XE 16), when it matters.
    min_version: str | None = None
    #: What a reader should know about the form (which value is clear text, a default, ...).
    note: str = ""
    #: The address of a stored copy of Cisco documentation (a command reference, configuration guide or tech
    #: note, or a faithful copy of one) in which the syntax was read; None when the form was written from the
    #: reference's title and memory and is not confirmed yet (issue 14 lists them).
    confirmed_in: str | None = None
    #: The line read at :attr:`confirmed_in` (the command's syntax line, or an example), as the page prints it.
    quote: str = ""


# -- argument kinds --------------------------------------------------------------------------------------

# The placeholder shape cmelive.masking leaves alone: any other "<...>" after a secret keyword is masked.
_PLACEHOLDER = re.compile(r"^<[a-z][a-z0-9-]*>$")
_IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$")
_HASH = re.compile(r"^\$(1|8|9|14)\$\S+$")
_TYPE7 = re.compile(r"^[0-9A-Fa-f]{4,}$")
_TIME = re.compile(r"^([01]?\d|2[0-4]):[0-5]\d$")
_DAY = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)$", re.IGNORECASE)
_DIAL_PATTERN = re.compile(r"^[0-9A-D.T*#+\[\]^$%?-]+$")
_MAC = re.compile(r"^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$")
_INTERFACE = re.compile(r"^[A-Za-z][A-Za-z-]*\d[\d/.:]*$")
_URL = re.compile(r"^([a-z]+://\S+|[a-z0-9-]+:\S*)$")
_DN = re.compile(r"^CN=\S+|^\S+=\S+$")
_MASKED = "<masked>"


def is_placeholder(token: str) -> bool:
    """``<admin-subnet>``: a value the user fills in (never ``<masked>``, which hides one)."""
    return token != _MASKED and bool(_PLACEHOLDER.match(token))


def _clear_placeholder(token: str) -> bool:
    return is_placeholder(token) and not token.lower().endswith("-hash>")


def _hash_placeholder(token: str) -> bool:
    return is_placeholder(token) and token.lower().endswith("-hash>")


Checker = Callable[[str], str | None]  # None when the token fits, else why not


def _accepts(test: Callable[[str], bool], what: str) -> Checker:
    def check(token: str) -> str | None:
        return None if is_placeholder(token) or test(token) else f"'{token}' is not {what}"

    return check


def _clear_text(token: str) -> str | None:
    if _clear_placeholder(token):
        return None
    if is_placeholder(token):
        return f"'{token}' names a hash, but this slot takes the clear-text value"
    if token == _MASKED:
        return "'<masked>' hides a value: the line cannot be pasted as it is"
    if re.fullmatch(r"\d", token):
        return f"'{token}' reads as an encryption type here, not as the value"
    if _HASH.match(token):
        return f"'{token}' is a hash, but this slot takes the clear-text value"
    return None


def _hash(token: str) -> str | None:
    if _hash_placeholder(token) or _HASH.match(token) or _TYPE7.match(token):
        return None
    if is_placeholder(token):
        return (f"'{token}' stands for a clear-text value, but this slot takes a hash made elsewhere "
                "(write type 0, or leave the type out, to give the clear text)")
    return f"'{token}' is not a hash of the type the command names"


def _any_word(token: str) -> str | None:
    return "'<masked>' hides a value: the line cannot be pasted as it is" if token == _MASKED else None


def _number(lo: int, hi: int) -> Checker:
    def check(token: str) -> str | None:
        if is_placeholder(token):
            return None
        if not re.fullmatch(r"-?\d+", token):
            return f"'{token}' is not a number"
        if not lo <= int(token) <= hi:
            return f"{token} is outside {lo}-{hi}"
        return None

    return check


ARGUMENT_KINDS: dict[str, tuple[str, Checker]] = {
    "word": ("a name or other single word", _any_word),
    "name": ("a name", _any_word),
    "clear": ("a clear-text secret (IOS hashes or encrypts it as it stores it)", _clear_text),
    "hash": ("a secret already hashed or encrypted ($1$..., $8$..., $9$..., type-7 hex)", _hash),
    "ip": ("an IPv4 address", _accepts(lambda t: bool(_IPV4.match(t)), "an IPv4 address")),
    "wildcard": ("an IPv4 wildcard mask", _accepts(lambda t: bool(_IPV4.match(t)), "a wildcard mask")),
    "mask": ("an IPv4 network mask", _accepts(lambda t: bool(_IPV4.match(t)), "a network mask")),
    "time": ("a time of day hh:mm", _accepts(lambda t: bool(_TIME.match(t)), "a time hh:mm")),
    "day": ("a day of the week (Mon..Sun)", _accepts(lambda t: bool(_DAY.match(t)), "a day (Mon..Sun)")),
    "pattern": ("a dial pattern", _accepts(lambda t: bool(_DIAL_PATTERN.match(t)), "a dial pattern")),
    "mac": ("a MAC address HHHH.HHHH.HHHH", _accepts(lambda t: bool(_MAC.match(t)), "a MAC address HHHH.HHHH.HHHH")),
    "interface": ("an interface name", _accepts(lambda t: bool(_INTERFACE.match(t)), "an interface name")),
    "url": ("a URL", _accepts(lambda t: bool(_URL.match(t)), "a URL")),
    "subject": ("an X.500 name (CN=...)", _accepts(lambda t: bool(_DN.match(t)), "an X.500 name (CN=...)")),
    "line": ("the rest of the line (free text)", _any_word),
}


# -- the forms -------------------------------------------------------------------------------------------

_ACL_STD = "<num:1-99>"


def _f(mode: str, syntax: str, reference: str, **extra: str | None) -> CommandForm:
    return CommandForm(mode, syntax, reference, **extra)  # type: ignore[arg-type]


FORMS: tuple[CommandForm, ...] = (
    # --- global: management plane ---
    _f("global", "hostname <name>", IOS_BASIC, confirmed_in=SEEN_TAC_VG224, quote="hostname Router"),
    _f("global", "service password-encryption", IOS_USERNAME, confirmed_in=SEEN_CME_SRND_SECURITY,
       quote="Service password-encryption"),
    _f("global", "enable secret [level <num:0-15>] {<clear> | 5 <hash>}", IOS_USERNAME,
       confirmed_in=SEEN_CME_SRND_SECURITY, quote="enable secret level 2 secretword2",
       note="enable secret <clear> is hashed by IOS; 'enable secret 5 $1$...' is how Cisco's running-configs "
            "print it (the CUBE HA guide, SEEN_CUBE_HA_ASR); the Catalyst configuration guides give 'enable "
            "secret [level level] {password | encryption-type encrypted-password}', levels 0 to 15 (read in a "
            "copy, manualsdump.com/en/manuals/cisco_systems-3560model/82128/194)"),
    _f("global", "enable secret [level <num:0-15>] {0 <clear> | 8 <hash> | 9 <hash>}", IOS_USERNAME,
       note="type 0 (clear text named as such) and the PBKDF2/scrypt types 8 and 9: no Cisco text for them, or "
            "for the first release that has 8 and 9, was found stored (third-party pages name 15.3(3)M3); the "
            "Cisco texts read give only type 5 for enable secret ('Only type 5, a Cisco proprietary encryption "
            "algorithm, is available', Catalyst 3560/IE 4000 guides)"),
    _f("global", "enable password [level <num:0-15>] {<clear> | 7 <hash>}", IOS_USERNAME,
       confirmed_in=SEEN_IOS_ENABLE_PASSWORD,
       quote="enable password [level level] {password | [encryption-type] encrypted-password}",
       note="levels 0 through 15; 'Currently the only encryption type available is 7' (the reference has no "
            "type 0 keyword)"),
    _f("global", "username <name> [privilege <num:0-15>] secret {[0] <clear> | 5 <hash>}", IOS_USERNAME,
       confirmed_in=SEEN_IOS_SEC_CR_T2, quote="username name [secret {0 | 5 | password}]",
       note="the reference's syntax line takes the clear text right after 'secret' as well as after 0, so the "
            "type-less 'username X secret <new-secret>' the checks write is Cisco's own form; 'username "
            "username privilege 15 secret 0 password' is in SEEN_BCS_SECURITY, type 5 as a running-config "
            "prints it ('username cisco privilege 15 secret 5 $1$p0H/...') in SEEN_CME_TRUSTED_FW"),
    _f("global", "username <name> [privilege <num:0-15>] secret {8 <hash> | 9 <hash>}", IOS_USERNAME,
       note="types 8 and 9 (PBKDF2, scrypt): the stored copy of the reference gives 'secret {0 | 5 | password}' "
            "only; no Cisco text for 8/9, or for the first release with them, was found stored"),
    _f("global", "username <name> [privilege <num:0-15>] password {[0] <clear> | 7 <hash>}", IOS_USERNAME,
       confirmed_in=SEEN_IOS_USERNAME, quote="username name [nopassword | password encryption-type password password]",
       note="'Currently defined encryption types are 0 [...] and 7'; privilege before password as in the CME "
            "guide's 'username kurt privilege 15 password ...' (SEEN_CME_VPN)"),
    _f("global", "username <name> privilege <num:0-15>", IOS_USERNAME, confirmed_in=SEEN_IOS_SEC_CR_T2,
       quote="username name [privilege level]",
       note="a syntax line of its own in the reference; the 0-15 bound is the privilege levels' (the part of "
            "the page read does not restate it)"),
    _f("global", "aaa new-model", IOS_AAA, confirmed_in=SEEN_CME_SRND_SECURITY, quote="aaa new-model"),
    _f("global", "aaa authentication login <name> {group <name> | local | enable | line | none}...", IOS_AAA,
       confirmed_in=SEEN_CME_SRND_SECURITY, quote="aaa authentication login default group tacacs+ local",
       note="methods seen in Cisco texts: group and local (SRND), enable (the SRND's older 'aaa authentication "
            "login default tacacs+ enable'), none (TAC 14068); 'line' was not seen"),
    _f("global", "aaa accounting {exec | connection} <name> start-stop group <name>", IOS_AAA,
       confirmed_in=SEEN_SIP_AAA, quote="aaa accounting exec default start-stop group groupname",
       note="the SIP configuration guide's steps also give 'aaa accounting connection h323 start-stop group "
            "groupname'"),
    _f("global", "aaa accounting {exec | commands <num:0-15> | connection} <name> {start-stop | stop-only}"
                 " group <name>", IOS_AAA, confirmed_in=SEEN_SDWAN_AAA,
       quote="aaa accounting { system | exec | network | connection | connection-name | commands level } [default] "
             "{ start-stop | stop-only } group group-name",
       note="'commands level: ... Valid privilege level entries are integers from 0 through 15'. The reference "
            "has no 'none' and no 'broadcast', which this form therefore no longer takes (no remediation writes "
            "them); a list name other than default is the SIP guide's ('aaa accounting exec default start-stop "
            "group groupname', SEEN_SIP_AAA, and the CME SRND's older 'aaa accounting command 1 start-stop "
            "tacacs+'); O'Reilly's Cisco IOS in a Nutshell gives none and broadcast, corroboration only"),
    _f("global", "tacacs-server host <ip>", IOS_AAA, confirmed_in=SEEN_CME_SRND_SECURITY,
       quote="tacacs-server host 10.17.1.2",
       note="the older form; 'tacacs server NAME' replaces it on 15.x and IOS XE"),
    _f("global", "tacacs-server key <clear>", IOS_AAA, confirmed_in=SEEN_CME_SRND_SECURITY,
       quote="tacacs-server key xyz", note="the key for every tacacs-server host without its own"),
    _f("global", "tacacs-server host <ip> key <clear>", IOS_AAA, confirmed_in=SEEN_IOS_TACACS_SERVER_HOST,
       quote="tacacs-server host hostname [single-connection ] [port integer] [timeout integer] [key string]",
       note="a copy of the IOS command reference page (not cisco.com): the per-host key 'overrides the key set "
            "by the global command tacacs-server key for this server only'; the key is a plain string, with no "
            "type digit before it (the 0 this form used to take is not in the reference). No remediation writes "
            "it: CME-ACC-08 and CME-GUI-07 write 'tacacs-server host' and 'tacacs-server key' on two lines, as "
            "the CME SRND does"),
    _f("global", "tacacs server <name>", IOS_AAA, enters="tacacs-server", min_version="15.0",
       confirmed_in=SEEN_SRST_MGR_ESRST, quote="tacacs server ACS",
       note="the syntax is confirmed; its first release is not (12.x has only tacacs-server host): 15.0 is "
            "kept as the boundary cmelive applies"),
    _f("tacacs-server", "address ipv4 <ip>", IOS_AAA, confirmed_in=SEEN_SRST_MGR_ESRST,
       quote="tacacs server ACS / address ipv4 100.100.100.200 / key cisco123"),
    _f("tacacs-server", "key [0] <clear>", IOS_AAA, confirmed_in=SEEN_SRST_MGR_ESRST, quote="key cisco123",
       note="the guide's example has no type digit; the optional 0 is not in it"),
    _f("global", "ip ssh version {1 | 2}", IOS_SSH, confirmed_in=SEEN_IOS_SSH_VTY),
    _f("global", "ip ssh rsa keypair-name <name>", IOS_SSH,
       note="no Cisco text found stored: the Secure Shell Version 2 Support module's stored copies stop before its "
            "steps; third-party configurations write 'ip ssh rsa keypair-name SSH-KEYS' (corroboration only)"),
    _f("global", "ip ssh dh min size {1024 | 2048 | 4096}", IOS_SSH,
       note="a Security Command Reference page (www3-realm.cisco.com, sec-d1-xe-3se-5700-cr-book_chapter_0110) "
            "gives 'ip ssh dh min size [number]', but its stored copy is cut before the valid sizes: the three "
            "values are not confirmed"),
    _f("global", "ip ssh server algorithm kex {ecdh-sha2-nistp521 | ecdh-sha2-nistp384 | ecdh-sha2-nistp256"
                 " | diffie-hellman-group14-sha1 | diffie-hellman-group14-sha256 | diffie-hellman-group16-sha512}...",
       IOS_SSH, min_version="16.1",
       note="IOS XE 16 and later; classic IOS 12.4/15.x has no such command. Not confirmed: Cisco's SSH Algorithms "
            "for Common Criteria Certification module names the command ('You can use the ip ssh server algorithm "
            "kex command to configure the Key Exchange algorithm', bxin.cisco.com/content/en/us/td/docs/routers/"
            "ios/config/17-x/sec-vpn/b-security-vpn/m_sec-secure-shell-algorithm-ccc.html, which also says "
            "diffie-hellman-group14-sha1 leaves the default list in 17.10), but the stored copies are cut before "
            "the full list of values (the Catalyst 9300 17.9 copy stops at 'ecdh-sha2-nis...')"),
    _f("global", "ip ssh server algorithm hostkey {rsa-sha2-512 | rsa-sha2-256 | ssh-rsa | x509v3-ssh-rsa}...",
       IOS_SSH, min_version="16.1",
       note="IOS XE 16 and later (rsa-sha2 host keys: IOS XE 17 on some platforms). Not confirmed: the Catalyst "
            "9600 17.11 SSH Algorithms for Common Criteria Certification page lists the server's host key order "
            "'rsa-sha2-512, rsa-sha2-256, ssh-rsa' (cisco.com/c/en/us/td/docs/switches/lan/catalyst9600/software/"
            "release/17-11/configuration_guide/sec/b_1711_sec_9600_cg/ssh_algorithms_for_common_criteria_"
            "certification.html), but the command's syntax line was not in the part stored"),
    _f("global", "crypto key generate rsa [general-keys | usage-keys] [label <name>] [exportable]"
                 " [modulus <num:350-4096>]", f"{IOS_PKI} (Cisco IOS Security Command Reference, crypto key generate rsa)",
       confirmed_in=SEEN_IOS_RSA,
       quote="crypto key generate rsa [general-keys | usage-keys | signature | encryption] [label key-label] "
             "[exportable] [modulus modulus-size] [storage devicename :] [redundancy] [on devicename :]",
       note="keyword order as the reference gives it: general-keys|usage-keys, label, exportable, modulus; 'The "
            "range of a CA key modulus is from 350 to 4096 bits', 4096-bit private keys from 15.1(1)T"),
    _f("global", "ip http server", IOS_HTTP, confirmed_in=SEEN_CME_SRND_SECURITY,
       quote="ip http server / ip http secure-server / ip http secure-port port_number"),
    _f("global", "ip http secure-server", IOS_HTTP, confirmed_in=SEEN_CME_SRND_SECURITY,
       quote="ip http server / ip http secure-server / ip http secure-port port_number"),
    _f("global", "ip http authentication {local | enable | aaa [login-authentication <name>]}", IOS_HTTP,
       confirmed_in=SEEN_CME_SRND_SECURITY, quote="ip http authentication aaa",
       note="the SRND gives 'ip http authentication local' and names 'ip http authentication enable' as the "
            "default; 'ip http authentication aaa login-authentication https' is in the SRST Manager guide "
            "(SEEN_SRST_MGR_ESRST)"),
    _f("global", "ip http access-class {<num:1-99> | ipv4 <name>}", IOS_HTTP, confirmed_in=SEEN_CME_TRUSTED_FW,
       quote="ip http access-class 23",
       note="the numbered form is the one confirmed (also in Cisco Press, ciscopress.com/articles/article.aspx"
            "?p=2246945); 'ipv4 <name>' is the later named form"),
    _f("global", "ip http secure-trustpoint <name>", IOS_HTTP, confirmed_in=SEEN_CUBE_FIPS,
       quote="ip http secure-trustpoint trustpoint-name"),
    _f("global", "snmp-server community <clear> [view <name>] [ro | rw] [ipv6 <name>] [<num:1-99> | <name>]",
       IOS_SNMP, confirmed_in=SEEN_IOS_SNMP_COMMUNITY,
       note="the access list comes last, after RO/RW (the CME SRND's example agrees: "
            "'snmp-server community changeme-rw RW 10')"),
    _f("global", "logging on", IOS_LOGGING, confirmed_in=SEEN_IOS_NM_CR_LOGGING, quote="logging on",
       note="the reference chapter lists 'logging on' as a command of its own, between 'logging monitor xml' and "
            "'logging origin-id'; Cisco's Networking Academy text says 'To re-enable message logging after it has "
            "been disabled, use the logging on global configuration command' (SEEN_NETACAD_FWL)"),
    _f("global", "logging buffered [<num:4096-2147483647>] [emergencies | alerts | critical | errors | warnings"
                 " | notifications | informational | debugging]", IOS_LOGGING, confirmed_in=SEEN_IOS_LOGGING_BUFFERED,
       quote="logging buffered [buffer-size | level]",
       note="a copy of the IOS command reference page (not cisco.com): size 'from 4096 to 4,294,967,295 bytes', "
            "level by name or number; size and level together as Cisco's TAC example writes 'logging buffered "
            "2000000 debug' (212640-troubleshoot-music-on-hold-failure-when.html); cmelive keeps the size at "
            "2147483647 and the level to names"),
    _f("global", "logging trap {emergencies | alerts | critical | errors | warnings | notifications"
                 " | informational | debugging}", IOS_LOGGING,
       confirmed_in=SEEN_NETACAD_SYSLOG,
       quote="The logging trap level command limits messages logged to the syslog server based on severity.",
       note="'The level is the name or number of the severity level' (the names as the Catalyst configuration "
            "guides' level-keyword table gives them, emergencies to debugging); 'logging trap debugging' is in "
            "SEEN_TAC_CUBE_DEBUG"),
    _f("global", "logging host <ip>", IOS_LOGGING, confirmed_in=SEEN_TAC_CUBE_DEBUG, quote="logging host 192.168.1.2"),
    _f("global", "ntp server <ip>", IOS_BASIC, confirmed_in=SEEN_CME_SRND_SECURITY, quote="ntp server 171.68.10.80"),
    _f("global", "clock timezone <name> <num:-23-23> [<num:0-59>]", IOS_BASIC, confirmed_in=SEEN_CME_NETWORK,
       quote="clock timezone zone hours-offset [ minutes-offset ]",
       note="the -23..23 and 0..59 bounds are not in the guide"),
    # --- global: access lists ---
    _f("global", "access-list <num:1-99> {permit | deny} {any | host <ip> | <ip> [<wildcard>]}", IOS_ACL,
       confirmed_in=SEEN_CME_SRND_SECURITY, quote="access-list 10 permit 10.1.1.0 0.0.0.255",
       note="the address-and-wildcard source is the one seen; any and host are not in the SRND's examples"),
    _f("global", "access-list <num:100-199> {permit | deny} {ip | tcp | udp | icmp | <num:0-255>}"
                 " {any | host <ip> | <ip> <wildcard>} [eq <word>] {any | host <ip> | <ip> <wildcard>} [eq <word>]",
       IOS_ACL, confirmed_in=SEEN_CME_SRND_SECURITY, quote="access-list 101 deny tcp any any eq 2000",
       note="'access-list 130 permit ip host 209.165.201.20 host 209.165.201.10' (SEEN_TAC_MGCP) shows ip and "
            "host; icmp, a protocol number and address-and-wildcard were not seen in a numbered extended list"),
    _f("global", "ip access-list standard {<num:1-99> | <name>}", IOS_ACL, enters="acl-standard",
       confirmed_in=SEEN_CME_SRND_ENDPOINTS, quote="ip access-list standard VVLAN",
       note="the named form is the one seen; the numbered one is not"),
    _f("global", "ip access-list extended {<num:100-199> | <name>}", IOS_ACL, enters="acl-extended",
       confirmed_in=SEEN_TAC_ZBFW, quote="ip access-list extended TRUSTED-ACL-OUT",
       note="the named form is the one seen; the numbered one is not"),
    _f("global", "ip access-list resequence {<num:1-199> | <name>} <num:1-2147483647> <num:1-2147483647>", IOS_ACL,
       min_version="12.3(2)T", confirmed_in=SEEN_IOS_ACL_SEQ_EXAMPLES,
       quote="Router(config)# ip access-list resequence 150 1 2",
       note="list, first sequence number, increment, as in the feature module's example (which resequences "
            "the numbered list 150); 'The maximum sequence number is 2147483647' (SEEN_IOS_ACL_SEQ_MAX). The "
            "module is for 12.2(14)S, 12.2(15)T and 12.3(2)T: 12.3(2)T is kept because releases are compared "
            "without their train, and 12.3 mainline before 12.3(2)T is not among them"),
    _f("acl-standard", "[<num:1-2147483647>] {permit | deny} {any | host <ip> | <ip> [<wildcard>]}", IOS_ACL,
       confirmed_in=SEEN_IOS_ACL_SEQ_STEPS, quote="sequence-number permit source source-wildcard",
       note="'Router(config-std-nacl)# 15 permit 10.5.5.5 0.0.0.255' in SEEN_IOS_ACL_SEQ_EXAMPLES; deny takes "
            "the same words ('sequence-number deny source source-wildcard'); any and host are not in the "
            "module's standard-list steps"),
    _f("acl-standard", "remark <line>", IOS_ACL, confirmed_in=SEEN_IOS_ACL_REMARK,
       quote="For an entry in a named IP ACL, use the remark access-list configuration command.",
       note="'You can use the remark keyword to include comments (remarks) about entries in any IP standard or "
            "extended ACL'; 'Each remark line is limited to 100 characters' (cmelive does not count them); the "
            "guide's example is a named extended list ('Switch(config-ext-nacl)# remark Do not allow Jones "
            "subnet to telnet out')"),
    _f("acl-extended", "[<num:1-2147483647>] {permit | deny} {ip | tcp | udp | icmp | <num:0-255>}"
                       " {any | host <ip> | <ip> <wildcard>} [eq <word>] {any | host <ip> | <ip> <wildcard>}"
                       " [eq <word>] [log]", IOS_ACL, confirmed_in=SEEN_TAC_ZBFW,
       quote="2 permit tcp any any eq 22", note="sequence numbers: 12.3(2)T and later"),
    _f("acl-extended", "remark <line>", IOS_ACL, confirmed_in=SEEN_TAC_ZBFW, quote="1 remark SSH, NTP, DNS",
       note="the guide numbers its remarks too; an unnumbered remark is not in it"),
    # --- interfaces and lines ---
    _f("global", "interface <interface>", IOS_BASIC, enters="interface", confirmed_in=SEEN_CME_SRND_SECURITY,
       quote="interface Serial0/3/0"),
    _f("interface", "ip access-group {<num:1-199> | <name>} {in | out}", IOS_ACL,
       confirmed_in=SEEN_CME_SRND_SECURITY, quote="ip access-group 121 in",
       note="one inbound and one outbound list per interface: a second 'in' replaces the first (the SRND "
            "binds 121 in and 120 out); a named list was not seen bound"),
    _f("interface", "cdp enable", IOS_CDP, confirmed_in=SEEN_CME_SRND_SECURITY, quote="no cdp enable"),
    _f("interface", "shutdown", IOS_BASIC, confirmed_in=SEEN_TAC_SRST_ISR4K,
       quote="interface GigabitEthernet0/0/1 / no ip address / shutdown"),
    _f("interface", "ip address <ip> <mask> [secondary]", IOS_BASIC, confirmed_in=SEEN_CME_SRND_SECURITY,
       quote="ip address 10.168.11.2 255.255.255.0", note="secondary is not in the example"),
    _f("interface", "description <line>", IOS_BASIC, confirmed_in=SEEN_SIP_RFC,
       quote="interface Ethernet0/0 / description CentreComm Hub port 9 in PP070",
       note="the rest of the line is the description, spaces included, as in the guide's example"),
    _f("global", "line {vty <num:0-1869> [<num:0-1869>] | con 0 | console 0 | aux 0}", IOS_BASIC, enters="line",
       confirmed_in=SEEN_CME_SRND_SECURITY, quote="line vty 0 4",
       note="'line con 0' and 'line aux 0' are in SEEN_TAC_SRST_ISR4K; 'console 0' and the 0-1869 vty bound "
            "are not confirmed"),
    _f("line", "transport input {ssh | telnet | all | none}...", IOS_SSH, confirmed_in=SEEN_CME_SRND_SECURITY,
       quote="transport input ssh",
       note="'transport input none' and 'transport input all' are in SEEN_TAC_SRST_ISR4K, 'transport input "
            "telnet' in SEEN_CME_TRUSTED_FW; also read in a Catalyst guide copy (SEEN_IOS_SSH_VTY)"),
    _f("line", "access-class {<num:1-199> | <name>} {in | out} [vrf-also]", IOS_ACL,
       confirmed_in=SEEN_CME_SRND_SECURITY, quote="access-class 10 in",
       note="a numbered list inbound is what the SRND (and the CME Trusted Firewall guide, 'access-class 23 "
            "in') show; a named list, out and vrf-also are not confirmed"),
    _f("line", "login [local | authentication <name>]", IOS_AAA, confirmed_in=SEEN_CME_SRND_SECURITY,
       quote="login local", note="'login authentication https' is in the SRST Manager guide (SEEN_SRST_MGR_ESRST)"),
    _f("line", "password {[0] <clear> | 7 <hash>}", IOS_USERNAME, confirmed_in=SEEN_SIP_MWI,
       quote="line vty 0 4 / password 7 password3 / login",
       note="the clear-text form without a type is in SEEN_TAC_VG224 ('line vty 0 4 / password ww / login'); "
            "an explicit type 0 was not seen for a line password"),
    _f("line", "exec-timeout <num:0-35791> [<num:0-2147483>]", IOS_BASIC, confirmed_in=SEEN_CUBE_HA_ASR,
       quote="exec-timeout 0 0", note="minutes then seconds; the bounds are not in the example"),
    # --- PKI (the CME guide's Security chapter gives each as a configuration step) ---
    _f("global", "crypto pki trustpoint <name>", IOS_PKI, enters="pki-trustpoint", confirmed_in=SEEN_CME_SECURITY,
       quote="crypto pki trustpoint trustpoint-label"),
    _f("pki-trustpoint", "enrollment {url <url> | selfsigned | terminal}", IOS_PKI, confirmed_in=SEEN_CME_SECURITY,
       quote="enrollment url url",
       note="'enrollment selfsigned' (SEEN_TAC_SIP_TLS) and 'enrollment terminal' (SEEN_TAC_SRST_ISR4K) are in "
            "Cisco's configuration examples"),
    _f("pki-trustpoint", "rsakeypair <name> [<num:360-4096> [<num:360-4096>]]", IOS_PKI,
       confirmed_in=SEEN_CME_SECURITY, quote="rsakeypair key-label [ key-size [ encryption-key-size ] ]",
       note="the second size only after the first; the 360-4096 bounds are crypto key generate rsa's"),
    _f("pki-trustpoint", "subject-name <subject>", IOS_PKI, confirmed_in=SEEN_TAC_SIP_TLS, quote="subject-name cn="),
    _f("pki-trustpoint", "revocation-check {none | crl | ocsp}...", IOS_PKI, confirmed_in=SEEN_CME_SECURITY,
       quote="revocation-check method1 [ method2 [ method3 ] ]"),
    _f("global", "crypto pki authenticate <name>", IOS_PKI, confirmed_in=SEEN_CME_SECURITY,
       quote="crypto pki authenticate trustpoint-label"),
    _f("global", "crypto pki enroll <name>", IOS_PKI, confirmed_in=SEEN_CME_SECURITY,
       quote="crypto pki enroll trustpoint-label"),
    _f("global", "crypto pki server <name>", IOS_PKI, enters="pki-server", confirmed_in=SEEN_CME_SECURITY,
       quote="crypto pki server label"),
    _f("pki-server", "database url <url>", IOS_PKI, confirmed_in=SEEN_CME_SECURITY, quote="database url root-url"),
    _f("pki-server", "grant auto", IOS_PKI, confirmed_in=SEEN_CME_SECURITY, quote="grant auto"),
    _f("pki-server", "shutdown", IOS_PKI, confirmed_in=SEEN_CME_SECURITY, quote="no shutdown"),
    # --- firewall ---
    _f("global", "ip inspect name <name> {h323 | tcp | udp | sip | skinny} [alert {on | off}]"
                 " [audit-trail {on | off}] [router-traffic] [timeout <num:5-43200>]", IOS_SEC_I2,
       min_version="12.3(14)T", confirmed_in=SEEN_IOS_SEC_I2,
       note="router-traffic (12.3(14)T) comes before timeout; the CME SRND's Security Best Practices chapter "
            "writes 'ip inspect name LOCAL-H323 h323 router-traffic timeout 180'"),
    # --- voice: dial peers, COR, gateway accounting (Cisco IOS Voice Command Reference) ---
    _f("global", "dial-peer voice <num:1-2147483647> {voip | pots}", IOS_VOICE, enters="dial-peer",
       confirmed_in=SEEN_VCR_D1, quote="dial-peer voice tag { pots | voatm | vofr | voip system }",
       note="tag: 'Range is from 1 to 2147483647'"),
    _f("dial-peer", "max-conn <num:1-2147483647>", IOS_VOICE, confirmed_in=SEEN_VCR_M1, quote="max-conn number"),
    _f("dial-peer", "corlist {incoming | outgoing} <name>", IOS_VOICE, confirmed_in=SEEN_VCR_C6,
       quote="corlist incoming cor-list-name"),
    _f("dial-peer", "destination-pattern <pattern>", IOS_VOICE, confirmed_in=SEEN_VCR_D1,
       quote="destination-pattern [ + ] string [ T ]"),
    _f("global", "dial-peer cor custom", IOS_VOICE, enters="cor-custom", confirmed_in=SEEN_VCR_D1,
       quote="dial-peer cor custom"),
    _f("cor-custom", "name <name>", IOS_VOICE, confirmed_in=SEEN_VCR_N1, quote="name class-name"),
    _f("global", "dial-peer cor list <name>", IOS_VOICE, enters="cor-list", confirmed_in=SEEN_VCR_D1,
       quote="dial-peer cor list list-name"),
    _f("cor-list", "member <name>", IOS_VOICE, confirmed_in=SEEN_VCR_M1, quote="member class-name"),
    _f("global", "voice service voip", IOS_VOICE, enters="voice-service-voip", confirmed_in=SEEN_VCR_V2,
       quote="voice service { pots | voatm | vofr | voip }"),
    _f("voice-service-voip", "ip address trusted authenticate", IOS_TOLL_FRAUD, min_version="15.1(2)T",
       confirmed_in=SEEN_VCR_I1, quote="ip address trusted { authenticate | call-block cause code | list }",
       note="introduced in 15.1(2)T, where toll-fraud prevention is on by default"),
    _f("voice-service-voip", "ip address trusted list", IOS_TOLL_FRAUD, enters="trusted-list",
       min_version="15.1(2)T", confirmed_in=SEEN_VCR_I1,
       quote="ip address trusted { authenticate | call-block cause code | list }"),
    _f("trusted-list", "ipv4 <ip> [<mask>]", IOS_TOLL_FRAUD, min_version="15.1(2)T", confirmed_in=SEEN_CME_TOLL,
       quote="ipv4 { < ipv4 address > [ < network mask > ] }",
       note="the network mask is optional: a host address alone trusts that host"),
    _f("global", "gw-accounting {syslog | aaa}", IOS_VOICE, confirmed_in=SEEN_VCR_G1,
       quote="gw-accounting { aaa | file | syslog [ stats ]}"),
    _f("global", "dial-control-mib {max-size <num:0-1200> | retain-timer <num:0-35791>}", IOS_VOICE,
       confirmed_in=SEEN_VCR_D1, quote="dial-control-mib { max-size table-entries | retain-timer minutes }",
       note="the reference gives max-size 0 to 3000 now and 1200 since 12.3T: the bound every release takes is "
            "kept; retain-timer 0 to 35791 from 12.3(8)T"),
    # --- CME: telephony-service ---
    _f("global", "telephony-service", CME_CMD_REF, enters="telephony-service", confirmed_in=SEEN_CME_CR_T,
       quote="telephony-service [ setup ]"),
    _f("telephony-service", "web admin system [name <name>] [password <clear> | secret {0 <clear> | 5 {<clear> | <hash>}}]",
       f"{CME_CMD_REF}: web admin system", confirmed_in=SEEN_CME_CR_W,
       quote="web admin system [ name username ] [ password string | secret { 0 | 5 } string ]",
       note="the name is optional (default Admin). 'secret 0' saves the string 'as unencrypted plain text in "
            "running configuration'; 'secret 5' takes the clear text and saves its MD5 hash (the reference's "
            "example: 'web admin system name user1 secret 5 pw234567' shows as 'secret 5 $1$TCyK$...'), and a "
            "running-config's 'secret 5 $1$...' reads back as that hash. Deprecated from CME 12.6 (IOS XE "
            "16.11.1a)"),
    _f("telephony-service", "web admin customer name <name> {password <clear> | secret {0 <clear> | 5 {<clear> | <hash>}}}",
       f"{CME_CMD_REF}: web admin customer", confirmed_in=SEEN_CME_CR_W,
       quote="web admin customer name username { password string | secret { 0 | 5 } string }",
       note="the customer administrator's name is required; secret 0/5 as for web admin system"),
    _f("telephony-service", "ip source-address <ip> [port <num:2000-9999>] [secondary <ip> [rehome <num:0-65535>]]"
                            " [any-match | strict-match]", f"{CME_CMD_REF}: ip source-address (telephony-service)",
       confirmed_in=SEEN_CME_IP_SOURCE,
       quote="ip { ipv4_address | ipv6_address } [port port ] [secondary { ipv4 address | ipv6 address } "
             "[rehome seconds ]] [any-match | strict-match]",
       note="order as the reference gives it: port (IPv4: 2000-9999), secondary [rehome], then any-match or "
            "strict-match; strict-match's first release is not in the reference (the CME SRND shows it at a "
            "CME 3.0 prompt)"),
    _f("telephony-service", "auto-reg-ephone", f"{CME_CMD_REF}: auto-reg-ephone", min_version="12.4(9)T",
       confirmed_in=SEEN_CME_CR_A, quote="auto-reg-ephone",
       note="introduced in 12.4(4)XC (CME 4.0), integrated into 12.4(9)T; on by default"),
    _f("telephony-service", "auto assign <num:1-15000> to <num:1-15000>", f"{CME_CMD_REF}: auto assign",
       confirmed_in=SEEN_CME_CR_A,
       quote="auto assign dn-tag to dn-tag [ type phone-type ] [ cfw extension-number timeout seconds ]",
       note="the dn-tag bound is version- and platform-dependent in the reference"),
    _f("telephony-service", "after-hours block pattern <num:1-32> <pattern> [7-24]",
       f"{CME_CMD_REF}: after-hours block pattern; Cisco Unified CME System Administrator Guide, Call Blocking",
       confirmed_in=SEEN_CME_CALL_BLOCKING, quote="after-hours block pattern pattern-tag pattern [ 7-24 ]",
       note="one tag, one pattern: a second line with the same tag replaces the first; up to 32 patterns "
            "(the SRST guides give the same syntax, 'after-hours block pattern tag pattern [7-24]')"),
    _f("telephony-service", "after-hours day <day> <time> <time>", f"{CME_CMD_REF}: after-hours day",
       confirmed_in=SEEN_CME_CR_A, quote="after-hours day day start-time stop-time"),
    _f("telephony-service", "secure-signaling trustpoint <name>", CME_S1, min_version="12.4(9)T",
       confirmed_in=SEEN_CME_S1, quote="secure-signaling trustpoint label", note="CME 4.0"),
    _f("telephony-service", "tftp-server-credentials trustpoint <name>", CME_SECURITY, min_version="12.4(9)T",
       confirmed_in=SEEN_CME_CR_T, quote="tftp-server-credentials trustpoint label"),
    _f("telephony-service", "device-security-mode {authenticated | encrypted | none}", CME_SECURITY,
       min_version="12.4(9)T", confirmed_in=SEEN_CME_CR_D, quote="device-security-mode { authenticated | none | encrypted }",
       note="the encrypted keyword came with CME 4.1/4.2 (12.4(15)XW, 12.4(15)XY)"),
    _f("telephony-service", "server-security-mode {secure | non-secure | erase}", CME_SECURITY,
       min_version="12.4(9)T", confirmed_in=SEEN_CME_S1, quote="server-security-mode { erase | non-secure | secure }",
       note="the erase keyword came with 12.4(22)T (CME 7.0)"),
    _f("telephony-service", "cnf-file {perphone | perphonetype}", CME_SECURITY, confirmed_in=SEEN_CME_CR_C,
       quote="cnf-file { perphonetype | perphone }", note="there is no 'pertype' keyword"),
    _f("telephony-service", "max-ephones <num:1-1000>", CME_CMD_REF, confirmed_in=SEEN_CME_CR_M,
       quote="max-ephones max-phones", note="the maximum is version- and platform-dependent in the reference"),
    _f("telephony-service", "max-dn <num:1-15000>", CME_CMD_REF, confirmed_in=SEEN_CME_CR_M,
       quote="max-dn max-directory-numbers [ preference preference-order ] [ no-reg { primary | both }]",
       note="the maximum is version- and platform-dependent in the reference"),
    # --- CME: phones and directory numbers ---
    _f("global", "ephone <num:1-1000>", CME_CMD_REF, enters="ephone", confirmed_in=SEEN_CME_CR_E,
       quote="ephone phone-tag", note="the maximum tag is platform-dependent in the reference"),
    _f("ephone", "mac-address <mac>", CME_CMD_REF, confirmed_in=SEEN_CME_CR_M,
       quote="mac-address [mac-address] [ reserved ]"),
    _f("ephone", "codec {g711ulaw | g722r64 | g729r8 [dspfarm-assist] | ilbc}", CME_CMD_REF,
       confirmed_in=SEEN_CME_CR_C, quote="codec { g711ulaw | g722r64 | g729r8 [ dspfarm-assist ] | ilbc }",
       note="codec (ephone) has no g711alaw or g729ar8"),
    _f("ephone", "mtp [video-only | both]", CME_CMD_REF, confirmed_in=SEEN_CME_CR_M,
       quote="mtp { video-only | both }",
       note="'If no arguments are given, only voice packets are sent to the router'; the CME SRND writes a bare "
            "'mtp'"),
    _f("ephone", "cert-oper {delete | fetch | upgrade} auth-mode {auth-string | LSC | MIC | null-string}",
       CME_SECURITY, min_version="12.4(9)T", confirmed_in=SEEN_CME_SECURITY,
       quote="cert-oper { delete | fetch | upgrade } auth-mode { auth-string | LSC | MIC | null-string }"),
    _f("ephone", "capf-auth-str <clear>", CME_SECURITY, min_version="12.4(9)T", confirmed_in=SEEN_CME_CR_C,
       quote="capf-auth-str digit-string", note="4 to 10 digits (the Security chapter)"),
    _f("ephone", "device-security-mode {authenticated | encrypted | none}", CME_SECURITY, min_version="12.4(9)T",
       confirmed_in=SEEN_CME_CR_D, quote="device-security-mode { authenticated | none | encrypted }"),
    _f("ephone", "button <word>...", CME_CMD_REF, confirmed_in=SEEN_CME_CR_B,
       quote="button button-number {separator} dn-tag [,dn-tag...] [button-number{x}overlay-button-number] "
             "[button-number...]"),
    _f("ephone", "type <word> [addon 1 <word> [2 <word>]]", CME_CMD_REF, confirmed_in=SEEN_CME_CR_T,
       quote="type phone-type [ addon 1 module-type [ 2 module-type ]]"),
    _f("global", "ephone-dn <num:1-15000> [dual-line | octo-line]", CME_CMD_REF, enters="ephone-dn",
       confirmed_in=SEEN_CME_CR_E, quote="ephone-dn dn-tag [ dual-line | octo-line ]",
       note="dn-tag: 'Range is 1 to the number set by the max-dn command'"),
    _f("ephone-dn", "corlist {incoming | outgoing} <name>", CME_CMD_REF, confirmed_in=SEEN_CME_CR_C,
       quote="corlist { incoming | outgoing } corlist-name",
       note="'previously documented as the cor command' (the CME SRND writes 'cor incoming user')"),
    _f("ephone-dn", "number <pattern> [secondary <pattern>] [no-reg [both | primary]]", CME_CMD_REF,
       confirmed_in=SEEN_CME_CR_N, quote="number number [ secondary number ] [ no-reg [ both | primary ]]"),
    _f("global", "voice register pool <num:1-100>", CME_CMD_REF, enters="voice-register-pool",
       confirmed_in=SEEN_CME_CR_V, quote="voice register pool pool-tag", note="pool-tag: 'Range is 1 to 100'"),
    _f("voice-register-pool", "cor {incoming | outgoing} <name> {default | <num:1-10> <pattern>}", CME_CMD_REF,
       confirmed_in=SEEN_CME_CR_C,
       quote="cor {incoming | outgoing} cor-list-name {cor-list-number starting-number [- ending-number] |default }",
       note="a COR list number and a number (or range), or default; the reference gives no range for the list "
            "number, so the 1-10 bound is not confirmed"),
    # --- CME: phone authentication (CTL, CAPF) ---
    _f("global", "ctl-client", CME_S1, enters="ctl-client", min_version="12.4(9)T", confirmed_in=SEEN_CME_CR_C,
       quote="ctl-client", note="introduced in 12.4(4)XC (CME 4.0), integrated into 12.4(9)T"),
    _f("ctl-client", "sast1 trustpoint <name>", CME_S1, min_version="12.4(9)T",
       confirmed_in=SEEN_CME_S1, quote="sast1 trustpoint label"),
    _f("ctl-client", "sast2 trustpoint <name>", CME_S1, min_version="12.4(9)T",
       confirmed_in=SEEN_CME_S1, quote="sast2 trustpoint label"),
    _f("ctl-client", "server {capf | cme | cme-tftp | tftp} <ip> trustpoint <name>", CME_S1, min_version="12.4(9)T",
       confirmed_in=SEEN_CME_S1, quote="server { capf | cme | cme-tftp | tftp } ip-address trustpoint label"),
    _f("ctl-client", "regenerate", CME_S1, min_version="12.4(9)T", confirmed_in=SEEN_CME_CR_R, quote="regenerate"),
    _f("global", "capf-server", CME_SECURITY, enters="capf-server", min_version="12.4(9)T",
       confirmed_in=SEEN_CME_CR_C, quote="capf-server"),
    _f("capf-server", "auth-mode {auth-string | LSC | MIC | none | null-string}", CME_SECURITY,
       confirmed_in=SEEN_CME_SECURITY, quote="auth-mode { auth-string | LSC | MIC | none | null-string }"),
    _f("capf-server", "auth-string {delete | generate} {all | <num:1-1000>} [<clear>]", CME_SECURITY,
       confirmed_in=SEEN_CME_SECURITY, quote="auth-string { delete | generate } { all | ephone-tag } [ digit-string ]",
       note="capf-server mode has no capf-auth-str (an ephone command): auth-string sets the PIN (4 to 10 "
            "digits) for one or all phones"),
    _f("capf-server", "cert-oper {delete | fetch | upgrade} all", CME_SECURITY, confirmed_in=SEEN_CME_SECURITY,
       quote="cert-oper { delete all | fetch all | upgrade all }",
       note="in capf-server mode the operation applies to all phones; the per-phone form (with auth-mode) is "
            "the ephone one"),
    _f("capf-server", "cert-enroll-trustpoint <name> password {0 <clear> | 1 <hash>}", CME_SECURITY,
       confirmed_in=SEEN_CME_CR_C, quote="cert-enroll-trustpoint ca-label password { 0 | 1 } password-string",
       note="'0 | 1: Encryption status of the password string that follows'; the CME SRND's running-config shows "
            "'password 1 1511021F07257A767B'"),
    _f("capf-server", "trustpoint-label <name>", CME_SECURITY, confirmed_in=SEEN_CME_CR_T,
       quote="trustpoint-label label"),
    _f("capf-server", "source-addr <ip>", CME_SECURITY, confirmed_in=SEEN_CME_CR_S2, quote="source-addr ip-address",
       note="the reference's own example types 'source address 10.10.10.1'; the syntax line is source-addr"),
)



def unconfirmed_forms() -> tuple[CommandForm, ...]:
    """The forms no stored Cisco text was found for yet: written from the reference's title and memory."""
    return tuple(form for form in FORMS if form.confirmed_in is None)


# -- syntax trees ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lit:
    word: str


@dataclass(frozen=True)
class _Arg:
    kind: str
    check: Checker
    label: str


@dataclass(frozen=True)
class _Seq:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Alt:
    options: tuple[_Node, ...]


@dataclass(frozen=True)
class _Opt:
    item: _Node


@dataclass(frozen=True)
class _Many:
    item: _Node


_Node = _Lit | _Arg | _Seq | _Alt | _Opt | _Many
_TOKEN = re.compile(r"\{|\}|\[|\]|\||<[^>]+>(?:\.\.\.)?|[^\s{}\[\]|]+(?:\.\.\.)?")


def _parse_syntax(syntax: str) -> _Node:
    tokens = _TOKEN.findall(syntax)
    node, position = _parse_alternatives(tokens, 0, syntax)
    if position != len(tokens):
        raise ValueError(f"unbalanced syntax: {syntax!r}")
    return node


def _parse_alternatives(tokens: list[str], position: int, syntax: str) -> tuple[_Node, int]:
    options: list[_Node] = []
    items: list[_Node] = []
    while position < len(tokens) and tokens[position] not in ("}", "]"):
        token = tokens[position]
        if token == "|":
            options.append(_Seq(tuple(items)))
            items = []
            position += 1
            continue
        if token in ("{", "["):
            inner, position = _parse_alternatives(tokens, position + 1, syntax)
            closing = "}" if token == "{" else "]"
            if position >= len(tokens) or tokens[position] != closing:
                raise ValueError(f"unbalanced {token} in {syntax!r}")
            position += 1
            node: _Node = inner if token == "{" else _Opt(inner)
            if position < len(tokens) and tokens[position] == "...":
                node, position = _Many(node), position + 1
        else:
            node = _leaf(token, syntax)
            position += 1
        items.append(node)
    options.append(_Seq(tuple(items)))
    return (options[0] if len(options) == 1 else _Alt(tuple(options))), position


def _leaf(token: str, syntax: str) -> _Node:
    many = token.endswith("...")
    token = token.removesuffix("...")
    node: _Node
    if token.startswith("<"):
        kind = token[1:-1]
        bounds = re.fullmatch(r"num:(-?\d+)-(-?\d+)", kind)
        if bounds is not None:
            low, high = int(bounds.group(1)), int(bounds.group(2))
            node = _Arg(kind, _number(low, high), f"a number {low} to {high}")
        elif kind in ARGUMENT_KINDS:
            label, check = ARGUMENT_KINDS[kind]
            node = _Arg(kind, check, label)
        else:
            raise ValueError(f"unknown argument kind {kind!r} in {syntax!r}")
    else:
        node = _Lit(token.lower())
    return _Many(node) if many else node


# -- matching ------------------------------------------------------------------------------------------


@dataclass
class _Failure:
    """The furthest point a line got in a form, and why it stopped there."""

    position: int = -1
    reasons: list[str] | None = None
    specific: bool = False  # an argument's own reason beats a list of expected keywords

    def note(self, position: int, reason: str, specific: bool) -> None:
        if position > self.position or (position == self.position and specific and not self.specific):
            self.position, self.reasons, self.specific = position, [reason], specific
        elif (position == self.position and specific == self.specific and self.reasons is not None
              and reason not in self.reasons):
            self.reasons.append(reason)


def _match(node: _Node, words: Sequence[str], position: int, partial: bool, failure: _Failure) -> set[int]:
    """Every position the words can have reached after ``node``, starting at ``position``."""
    if partial and position == len(words):
        return {position}
    if isinstance(node, _Lit):
        if position < len(words) and words[position].lower() == node.word:
            return {position + 1}
        failure.note(position, f"'{node.word}'", False)
        return set()
    if isinstance(node, _Arg):
        if position >= len(words):
            failure.note(position, f"{node.label} (got the end of the line)", False)
            return set()
        if node.kind == "line":
            return {len(words)}
        token = words[position]
        if token.startswith("<") and token.endswith(">") and not is_placeholder(token) and token != _MASKED:
            failure.note(position, f"'{token}' is not a placeholder cmelive prints as it is (masking would hide "
                                   "it): a placeholder is <lower-case-words-and-digits> starting with a letter", True)
            return set()
        reason = node.check(token)
        if reason is None:
            return {position + 1}
        failure.note(position, reason, True)
        return set()
    if isinstance(node, _Seq):
        reached = {position}
        for item in node.items:
            reached = {end for start in reached for end in _match(item, words, start, partial, failure)}
            if not reached:
                break
        return reached
    if isinstance(node, _Alt):
        return {end for option in node.options for end in _match(option, words, position, partial, failure)}
    if isinstance(node, _Opt):
        return {position} | _match(node.item, words, position, partial, failure)
    # _Many: one or more
    ends: set[int] = set()
    frontier = _match(node.item, words, position, partial, failure)
    while frontier - ends:
        ends |= frontier
        frontier = {end for start in frontier for end in _match(node.item, words, start, partial, failure)
                    if end > start}
    return ends


@cache
def _compiled(form: CommandForm) -> _Node:
    return _parse_syntax(form.syntax)


@cache
def _forms_by_mode() -> dict[str, tuple[CommandForm, ...]]:
    by_mode: dict[str, list[CommandForm]] = {}
    for form in FORMS:
        by_mode.setdefault(form.mode, []).append(form)
    return {mode: tuple(forms) for mode, forms in by_mode.items()}


def forms_for(mode: str) -> tuple[CommandForm, ...]:
    """The forms of one mode."""
    return _forms_by_mode().get(mode, ())


def _first_words(form: CommandForm) -> set[str]:
    """The keywords a form can start with (empty when it starts with an argument)."""
    node = _compiled(form)
    while isinstance(node, _Seq) and node.items:
        node = node.items[0]
        if isinstance(node, _Opt):  # "[<seq>] permit ...": an optional lead argument
            return set()
    if isinstance(node, _Lit):
        return {node.word}
    if isinstance(node, _Alt):
        words: set[str] = set()
        for option in node.options:
            first = option.items[0] if isinstance(option, _Seq) and option.items else option
            if isinstance(first, _Lit):
                words.add(first.word)
        return words
    return set()


@dataclass(frozen=True)
class _Matched:
    form: CommandForm | None
    reason: str | None


def _match_line(mode: str, words: Sequence[str]) -> _Matched:
    negated = bool(words) and words[0].lower() == "no"
    body = words[1:] if negated else words
    if not body:
        return _Matched(None, "'no' with no command after it")
    failure = _Failure()
    candidates = forms_for(mode)
    starts = [form for form in candidates if not _first_words(form) or body[0].lower() in _first_words(form)]
    if not starts:
        elsewhere = sorted({form.mode for form in FORMS if body[0].lower() in _first_words(form)})
        where = f" (it belongs to {', '.join(elsewhere)} mode)" if elsewhere else ""
        return _Matched(None, f"'{body[0]}' is not a {mode} command cmelive knows{where}")
    for form in starts:
        if len(body) in _match(_compiled(form), body, 0, negated, failure):
            return _Matched(form, None)
    elsewhere = sorted({form.mode for form in FORMS if form.mode != mode
                        and len(body) in _match(_compiled(form), body, 0, negated, _Failure())})
    if elsewhere:
        return _Matched(None, f"not a {mode} command: it is typed in {' or '.join(elsewhere)} mode "
                              "(indent it under the command that enters that mode)")
    if failure.position >= len(body) or failure.reasons is None:
        return _Matched(None, "the line ends early: expected " + " or ".join(failure.reasons or ["more words"]))
    at = f"word {failure.position + 1 + int(negated)} ('{body[failure.position]}')"
    if failure.specific:
        return _Matched(None, f"{at}: {'; '.join(failure.reasons)}")
    if failure.position == 0 and not negated:
        return _Matched(None, f"{at}: not a {mode} command form cmelive knows")
    return _Matched(None, f"{at}: expected " + " or ".join(failure.reasons) + " here")


# -- the API ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrammarProblem:
    """A line outside the grammar: its 1-based number in the script, its text and why."""

    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.text.strip()!r}: {self.reason}"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _walk(lines: Sequence[str]) -> Iterable[tuple[int, str, str, _Matched]]:
    """Every command line with its number, text, mode and what it matched."""
    stack: list[tuple[int, str]] = [(-1, "global")]
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip()
        stripped = text.strip()
        if not stripped or stripped.startswith("!"):
            continue
        if "\t" in text[: len(text) - len(text.lstrip())]:
            yield number, text, stack[-1][1], _Matched(None, "indented with a tab: IOS scripts indent with spaces")
            continue
        depth = _indent(text)
        while stack[-1][0] >= depth:
            stack.pop()
        if stripped.lower() in ("exit", "end"):
            # "exit" leaves the sub-mode it is indented in; "end" leaves configuration mode altogether.
            if stripped.lower() == "end":
                del stack[1:]
            elif len(stack) > 1:
                stack.pop()
            continue
        mode = stack[-1][1]
        if depth > 0 and mode == "global":
            yield number, text, mode, _Matched(None, "indented, but no command before it opens a sub-mode")
            continue
        matched = _match_line(mode, stripped.split())
        yield number, text, mode, matched
        if matched.form is not None and matched.form.enters and not stripped.lower().startswith("no "):
            stack.append((depth, matched.form.enters))


def check_config_lines(lines: Sequence[str]) -> list[GrammarProblem]:
    """Every line of an indented IOS config script that is outside the grammar, with a one-line reason.

    ``lines`` is the script as it would be pasted (a remediation, a fix plan): global commands flush left,
    sub-mode commands indented under the command that enters their mode. Blank lines and ``!`` comments
    are skipped, and so are ``exit`` (which leaves the sub-mode it is indented in) and ``end``. An empty
    list means every command line is a form in :data:`FORMS`, in its mode.
    """
    return [GrammarProblem(number, text, matched.reason)
            for number, text, _mode, matched in _walk(lines) if matched.reason is not None]


_VERSION = re.compile(r"(\d+)\.(\d+)(?:[.(](\d+))?")


def parse_version(version: str) -> tuple[int, int, int] | None:
    """``"15.1(4)M6"`` → (15, 1, 4); ``"16.9.4"`` / ``"Version 17.3.1a"`` → (16, 9, 4) / (17, 3, 1)."""
    found = _VERSION.search(version)
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2)), int(found.group(3) or 0)


def version_problems(lines: Sequence[str], ios_version: str) -> list[GrammarProblem]:
    """Every line whose command form needs a later release than ``ios_version`` (the router's ``version``).

    Release numbers are compared as numbers (12.4(24)T < 15.1(2)T < 16.9.4): the train letter is not
    weighed, so a form marked 15.1(2)T passes on 15.1(4)M, which has it; a running-config's ``version
    15.1`` (no rebuild) is weighed by major.minor only. A version that cannot be read
    yields no problem (nothing is known to be missing); lines outside the grammar are
    :func:`check_config_lines`'s to report.
    """
    have = parse_version(ios_version)
    if have is None:
        return []
    # A running-config's "version 12.4" has no rebuild: only major.minor can be weighed then.
    coarse = "(" not in ios_version and ios_version.count(".") < 2
    problems: list[GrammarProblem] = []
    for number, text, _mode, matched in _walk(lines):
        form = matched.form
        if form is None or form.min_version is None or text.strip().lower().startswith("no "):
            continue
        needed = parse_version(form.min_version)
        if needed is not None and (have[:2] < needed[:2] if coarse else have < needed):
            problems.append(GrammarProblem(
                number, text, f"needs IOS {form.min_version} or later (the router runs {ios_version})"
                + (f": {form.note}" if form.note else "")))
    return problems


def unconfirmed_lines(lines: Sequence[str]) -> list[GrammarProblem]:
    """Every line of a script whose command form no stored Cisco text was found for (see
    :func:`unconfirmed_forms`): in the grammar, but written from other sources, so the engineer
    should check its syntax on the router (``?``) before pasting it."""
    return [GrammarProblem(number, text, "no Cisco reference text found for this form: check its syntax "
                                         "on the router ('?') before pasting")
            for number, text, _mode, matched in _walk(lines)
            if matched.form is not None and matched.form.confirmed_in is None]
