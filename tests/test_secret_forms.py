"""Every secret-bearing command form of the masking table, and the terminal controls of the boundary.

:data:`PLANTED` pairs a line as a router prints it with the line as it must come out: each secret
value holds ``S3cr3t`` (or is one of :data:`NUMERIC`), and every keyword, name and option around it
survives. A meta-test asserts that each form of :data:`cmelive.masking.SECRET_SHAPES` is exercised
by at least one planted line, so a form added to the table without a test fails here.
"""

from __future__ import annotations

import re

import pytest

from cmelive.masking import (
    MASK,
    SECRET_SHAPES,
    mask_line,
    mask_text,
    neutralise_controls,
    scrub,
    scrub_value,
)

# (line as printed, line as it must come out); identical pairs hold no secret and stay untouched.
PLANTED: list[tuple[str, str]] = [
    # Secrets with spaces: IOS reads them as LINE, to the end of the line.
    ("username u password 0 S3cr3t-two words", "username u password 0 <masked>"),
    ("username u2 privilege 15 secret 9 $9$S3cr3t$two words", "username u2 privilege 15 secret 9 <masked>"),
    ("username password password S3cr3t named password", "username password password <masked>"),
    ("tacacs-server key S3cr3t-two words", "tacacs-server key <masked>"),
    ("tacacs-server key 7 S3cr3t-TAC two", "tacacs-server key 7 <masked>"),
    ("radius-server host 192.0.2.5 key S3cr3t-RAD with key inside", "radius-server host 192.0.2.5 key <masked>"),
    ("line vty 0 4 password S3cr3t-joined line", "line vty 0 4 password <masked>"),
    (" password S3cr3t-vty two words", " password <masked>"),
    (" password 7 S3cr3t-7", " password 7 <masked>"),
    ("enable secret 5 $1$S3cr3t two", "enable secret 5 <masked>"),
    ("enable algorithm-type scrypt secret $9$S3cr3t", "enable algorithm-type scrypt secret <masked>"),
    ("username v algorithm-type sha256 secret S3cr3t two", "username v algorithm-type sha256 secret <masked>"),
    ("enable password S3cr3t-EN two words", "enable password <masked>"),
    ("Router(config-line)#password S3cr3t typed", "Router(config-line)#password <masked>"),
    # EzVPN client and server groups.
    ("crypto ipsec client ezvpn EZ", "crypto ipsec client ezvpn EZ"),
    (" group EZGROUP key S3cr3t-EZVPN", " group EZGROUP key <masked>"),
    (" group EZGROUP key 6 S3cr3t-EZVPN6 two", " group EZGROUP key 6 <masked>"),
    (" username ezuser password S3cr3t-EZUSER", " username ezuser password <masked>"),
    ("crypto isakmp client configuration group EZGRP", "crypto isakmp client configuration group EZGRP"),
    (" key S3cr3t-GROUPKEY", " key <masked>"),
    (" key 6 S3cr3t-GROUPKEY6", " key 6 <masked>"),
    # IKE / IPsec.
    ("crypto isakmp key 6 S3cr3t-ISAKMP6 hostname peer.example", "crypto isakmp key 6 <masked> hostname peer.example"),
    ("crypto isakmp key S3cr3t-ISAKMP address 0.0.0.0 0.0.0.0 no-xauth",
     "crypto isakmp key <masked> address 0.0.0.0 0.0.0.0 no-xauth"),
    (" pre-shared-key hostname peer.example key 7 S3cr3t-KR two", " pre-shared-key hostname peer.example key 7 <masked>"),
    ("  pre-shared-key S3cr3t-IKEV2 my key phrase", "  pre-shared-key <masked>"),
    ("  pre-shared-key remote hex S3cr3t-HEX", "  pre-shared-key remote hex <masked>"),
    (" authentication remote pre-share key S3cr3t-REMOTE two", " authentication remote pre-share key <masked>"),
    (" authentication remote pre-share", " authentication remote pre-share"),
    (" authentication pre-share", " authentication pre-share"),
    ("crypto map MANUAL 10 ipsec-manual", "crypto map MANUAL 10 ipsec-manual"),
    (" set session-key inbound esp 300 cipher S3cr3tIN1 authenticator S3cr3tIN2",
     " set session-key inbound esp 300 cipher <masked> authenticator <masked>"),
    (" set session-key outbound esp 301 cipher 0 S3cr3tOUT1", " set session-key outbound esp 301 cipher 0 <masked>"),
    (" set session-key inbound ah 302 S3cr3tAH1", " set session-key inbound ah 302 <masked>"),
    (" set session-key outbound esp 303 authenticator S3cr3tOUT2", " set session-key outbound esp 303 authenticator <masked>"),
    ("crypto key import rsa K pem terminal passphrase S3cr3t-PASS two", "crypto key import rsa K pem terminal passphrase <masked>"),
    ("crypto pki token default user-pin S3cr3t-TOKEN", "crypto pki token default user-pin <masked>"),
    ("crypto pki import TP pkcs12 flash:tp.p12 password S3cr3t-P12", "crypto pki import TP pkcs12 flash:tp.p12 password <masked>"),
    # Wireless.
    ("dot11 ssid CORP", "dot11 ssid CORP"),
    (" authentication key-management wpa version 2", " authentication key-management wpa version 2"),
    (" wpa-psk ascii 0 S3cr3t-WPA two words", " wpa-psk ascii 0 <masked>"),
    (" wpa-psk hex 7 S3cr3tWPAHEX", " wpa-psk hex 7 <masked>"),
    (" encryption vlan 1 mode ciphers aes-ccm", " encryption vlan 1 mode ciphers aes-ccm"),
    (" encryption vlan 1 key 1 size 128bit 0 S3cr3tWEP transmit-key",
     " encryption vlan 1 key 1 size 128bit 0 <masked> transmit-key"),
    (" encryption key 2 size 40bit 7 S3cr3tWEP2", " encryption key 2 size 40bit 7 <masked>"),
    ("wlan CORP 1 CORP", "wlan CORP 1 CORP"),
    (" security wpa psk set-key ascii 0 S3cr3t-WLANPSK", " security wpa psk set-key ascii 0 <masked>"),
    (" mgmtuser username apadmin password 0 S3cr3t-MGMT secret 0 S3cr3t-MGMTSEC", " mgmtuser username apadmin password 0 <masked>"),
    ("radius-server local", "radius-server local"),
    (" nas 192.0.2.41 key S3cr3t-NAS", " nas 192.0.2.41 key <masked>"),
    (" user alice nthash 7 S3cr3t-NTHASH", " user alice nthash 7 <masked>"),
    (" user bob password S3cr3t-LOCALUSER", " user bob password <masked>"),
    ("dot1x credentials DOT1X", "dot1x credentials DOT1X"),
    (" password 7 S3cr3t-DOT1X", " password 7 <masked>"),
    # SNMP.
    ("snmp mib community-map S3cr3t-CMAP context ctx1 security-name sn",
     "snmp mib community-map <masked> context ctx1 security-name sn"),
    ("snmp-server community S3cr3t-COMM6 ipv6 V6ACL RO 12", "snmp-server community <masked> ipv6 V6ACL RO 12"),
    ("snmp-server user v3u v3g v3 encrypted auth sha S3cr3t-A priv aes 256 S3cr3t-P access 10",
     "snmp-server user v3u v3g v3 encrypted auth sha <masked> priv aes 256 <masked> access 10"),
    ("snmp-server enable traps snmp authentication linkdown", "snmp-server enable traps snmp authentication linkdown"),
    # Routing protocols.
    ("ip msdp password peer 192.0.2.1 S3cr3t-MSDP two", "ip msdp password peer 192.0.2.1 <masked>"),
    ("ip msdp vrf V password peer 192.0.2.2 7 S3cr3t-MSDP7", "ip msdp vrf V password peer 192.0.2.2 7 <masked>"),
    ("router isis", "router isis"),
    (" area-password S3cr3t-AREA authenticate snp validate", " area-password <masked> authenticate snp validate"),
    (" domain-password S3cr3t-DOMAIN two", " domain-password <masked>"),
    (" isis password S3cr3t-ISIS level-2", " isis password <masked> level-2"),
    ("interface Tunnel0", "interface Tunnel0"),
    (" ip nhrp authentication S3cr3tNH", " ip nhrp authentication <masked>"),
    (" ipv6 nhrp authentication S3cr3tNH6", " ipv6 nhrp authentication <masked>"),
    (" ip nhrp network-id 1", " ip nhrp network-id 1"),
    (" tunnel key 100", " tunnel key 100"),
    (" ipv6 ospf authentication ipsec spi 256 md5 S3cr3t0123456789ABCDEF01234567",
     " ipv6 ospf authentication ipsec spi 256 md5 <masked>"),
    (" ipv6 ospf authentication ipsec spi 257 sha1 7 S3cr3tSHA1", " ipv6 ospf authentication ipsec spi 257 sha1 7 <masked>"),
    (" ipv6 ospf encryption ipsec spi 500 esp aes-cbc 128 S3cr3tENC sha1 S3cr3tAUTH",
     " ipv6 ospf encryption ipsec spi 500 esp aes-cbc 128 <masked> sha1 <masked>"),
    (" ipv6 ospf encryption ipsec spi 502 esp 3des 7 S3cr3t3DES md5 7 S3cr3tMD5",
     " ipv6 ospf encryption ipsec spi 502 esp 3des 7 <masked> md5 7 <masked>"),
    (" ospfv3 encryption ipsec spi 501 esp null md5 S3cr3tNULL", " ospfv3 encryption ipsec spi 501 esp null md5 <masked>"),
    (" ospfv3 authentication ipsec spi 503 sha1 S3cr3tV3", " ospfv3 authentication ipsec spi 503 sha1 <masked>"),
    (" ipv6 ospf authentication null", " ipv6 ospf authentication null"),
    (" area 1 authentication ipsec spi 600 md5 S3cr3tAREA6", " area 1 authentication ipsec spi 600 md5 <masked>"),
    (" area 0 virtual-link 192.0.2.30 message-digest-key 1 md5 S3cr3t-VL",
     " area 0 virtual-link 192.0.2.30 message-digest-key 1 md5 <masked>"),
    (" area 0 virtual-link 192.0.2.31 authentication-key S3cr3t-VLAK", " area 0 virtual-link 192.0.2.31 authentication-key <masked>"),
    ("  authentication mode hmac-sha-256 7 S3cr3t-EIGRP", "  authentication mode hmac-sha-256 7 <masked>"),
    ("  authentication key-chain EIGRP-KC", "  authentication key-chain EIGRP-KC"),
    (" neighbor 192.0.2.20 password 7 S3cr3t-BGP two", " neighbor 192.0.2.20 password 7 <masked>"),
    ("mpls ldp neighbor 192.0.2.21 password S3cr3t-LDP", "mpls ldp neighbor 192.0.2.21 password <masked>"),
    ("mpls ldp password required", "mpls ldp password required"),
    ("mpls ldp password fallback 7 S3cr3t-LDPFB", "mpls ldp password fallback 7 <masked>"),
    ("mpls ldp password option 1 for 10 S3cr3t-LDPOPT", "mpls ldp password option 1 for 10 <masked>"),
    (" ip rip authentication key-chain RIP-KC", " ip rip authentication key-chain RIP-KC"),
    (" ip ospf authentication key-chain OSPF-KC", " ip ospf authentication key-chain OSPF-KC"),
    (" vrrp 5 authentication md5 key-string S3cr3t-VRRPMD5 timeout 30",
     " vrrp 5 authentication md5 key-string <masked> timeout 30"),
    (" glbp 1 authentication text S3cr3t-GLBP", " glbp 1 authentication text <masked>"),
    (" glbp 2 authentication md5 key-string 7 S3cr3t-GLBPMD5", " glbp 2 authentication md5 key-string 7 <masked>"),
    (" standby 6 authentication text S3cr3t-HSRPTXT", " standby 6 authentication text <masked>"),
    (" standby 7 authentication md5 key-string S3cr3t-HSRP7 timeout 60",
     " standby 7 authentication md5 key-string <masked> timeout 60"),
    ("  key-string S3cr3t two words", "  key-string <masked>"),
    ("ntp authentication-key 2 hmac-sha2-256 S3cr3t-NTP2", "ntp authentication-key 2 hmac-sha2-256 <masked>"),
    ("ntp server 192.0.2.40 key 2 prefer", "ntp server 192.0.2.40 key 2 prefer"),
    # Management and file transfer.
    ("vtp password S3cr3t-VTP", "vtp password <masked>"),
    ("ip ftp password 7 S3cr3t-FTP", "ip ftp password 7 <masked>"),
    ("ip http client password S3cr3t-HTTPC", "ip http client password <masked>"),
    ("ip ssh server algorithm authentication publickey password keyboard",
     "ip ssh server algorithm authentication publickey password keyboard"),
    ("ldap server LDAP1", "ldap server LDAP1"),
    (" bind authenticate root-dn CN=svc,DC=example,DC=com password 7 S3cr3t-LDAP",
     " bind authenticate root-dn CN=svc,DC=example,DC=com password 7 <masked>"),
    ("  add http://user:S3cr3t-DDNS@members.example/nic/update?hostname=<h>",
     "  add http://user:<masked>@members.example/nic/update?hostname=<h>"),
    (" ppp chap password 0 S3cr3t-CHAP two", " ppp chap password 0 <masked>"),
    (" ppp pap sent-username r1 password S3cr3t-PAP", " ppp pap sent-username r1 password <masked>"),
    (" l2tp tunnel password 7 S3cr3t-L2TP", " l2tp tunnel password 7 <masked>"),
    ("parser view OPS", "parser view OPS"),
    (" secret 5 $1$S3cr3t-VIEW", " secret 5 <masked>"),
    # Voice: CME, SIP, SRST.
    ("telephony-service", "telephony-service"),
    (" url authentication http://192.0.2.10/CCMCIP/authenticate.asp admin S3cr3t-URLAUTH",
     " url authentication http://192.0.2.10/CCMCIP/authenticate.asp admin <masked>"),
    (" url authentication http://192.0.2.10/auth S3cr3t-URLONE", " url authentication http://192.0.2.10/auth <masked>"),
    (" url services http://192.0.2.10/services.xml", " url services http://192.0.2.10/services.xml"),
    (" after-hours override-code 918273", " after-hours override-code <masked>"),
    (" after-hours block pattern 1 91", " after-hours block pattern 1 91"),
    (" xml user axl password S3cr3t-XML 15", " xml user axl password <masked> 15"),
    ("voice register global", "voice register global"),
    (" ata-ivr-pwd 564738", " ata-ivr-pwd <masked>"),
    (" stun flowdata shared-secret 7 14141B180F0B7B79772B3A26211C5644", " stun flowdata shared-secret 7 <masked>"),
    ("  param ea-password 1234", "  param ea-password <masked>"),
    ("  param pin-number 8642", "  param pin-number <masked>"),
    ("  param ea-port 2000", "  param ea-port 2000"),
    ("voice user-profile 1", "voice user-profile 1"),
    (" user emuser password S3cr3t-EM", " user emuser password <masked>"),
    (" pin 302010", " pin <masked>"),
    ("dial-peer voice 100 voip", "dial-peer voice 100 voip"),
    (" authentication username 2000 password 0 S3cr3t-DP two realm example.com",
     " authentication username 2000 password 0 <masked> realm example.com"),
    (" voice-class sip credentials username 4000 password 7 S3cr3t-CUBE realm cube.example",
     " voice-class sip credentials username 4000 password 7 <masked> realm cube.example"),
    (' action 1.0 cli command "username x password S3cr3t-EEM"', ' action 1.0 cli command "username x password <masked>"'),
    ("voice class tenant 1", "voice class tenant 1"),
    (" credentials number 3000 username 3000 password 0 S3cr3t-TENANT realm sip.example",
     " credentials number 3000 username 3000 password 0 <masked> realm sip.example"),
    (" credentials dhcp password S3cr3t-DHCP realm sip.example", " credentials dhcp password <masked> realm sip.example"),
    (" authentication credential tapi S3cr3t two", " authentication credential tapi <masked>"),
    (" auth-string 112233", " auth-string <masked>"),
    (" capf-auth-str 445566", " capf-auth-str <masked>"),
    # What show commands print.
    ('key 1 -- text "S3cr3t-SHOWKC"', "key 1 <masked>"),  # show key chain
    ("Username:userD Password:S3cr3t two", "Username:userD Password:<masked>"),
    ("Username:userE Password:S3cr3t-E status:REGISTERED", "Username:userE Password:<masked> status:REGISTERED"),
]
# Numeric secrets have no S3cr3t prefix: they are unique in the planted text.
NUMERIC = ("918273", "564738", "302010", "112233", "445566")


def _joined(index: int) -> str:
    return "\n".join(pair[index] for pair in PLANTED) + "\n"


def test_no_planted_secret_survives() -> None:
    masked = mask_text(_joined(0))
    assert "S3cr3t" not in masked
    for number in NUMERIC:
        assert not re.search(rf"(?<!\w){number}(?!\w)", masked), number


@pytest.mark.parametrize(("line", "expected"), PLANTED, ids=[pair[0].strip()[:60] for pair in PLANTED])
def test_each_form_masks_exactly_its_value(line: str, expected: str) -> None:
    assert mask_line(line) == expected
    assert mask_line(line.strip()) == expected.strip()


def test_mask_text_agrees_with_mask_line() -> None:
    assert mask_text(_joined(0)) == _joined(1)


def test_every_form_of_the_table_is_planted() -> None:
    lines = [pair[0] for pair in PLANTED]
    lead = re.compile(r"\s*(?:[\w.\-/:()@]+[#>]\s*)*(?:no\s+)?")
    unexercised = []
    for shape in SECRET_SHAPES:
        for line in lines:
            start = lead.match(line).end()  # type: ignore[union-attr]
            if shape.first is not None or shape.anchored:
                found = shape.pattern.match(line, start)
            else:
                found = shape.pattern.search(line, start)
            if found is not None:
                break
        else:
            unexercised.append(shape.form)
    # The original planted config (test_masking.PLANTED) exercises the rest.
    from .test_masking import PLANTED as ORIGINAL
    from .test_masking import PLANTED_LIVE

    for form in list(unexercised):
        shape = next(s for s in SECRET_SHAPES if s.form == form)
        for line, _ in ORIGINAL + PLANTED_LIVE:
            start = lead.match(line).end()  # type: ignore[union-attr]
            matcher = shape.pattern.match if shape.first is not None or shape.anchored else shape.pattern.search
            if matcher(line, start) is not None:
                unexercised.remove(form)
                break
    assert unexercised == []


def test_key_chain_ids_survive_in_any_key_chain() -> None:
    config = "key chain MKA macsec\n key 01\n  cryptographic-algorithm aes-128-cmac\n  key-string S3cr3t two\n"
    assert mask_text(config) == (
        "key chain MKA macsec\n key 01\n  cryptographic-algorithm aes-128-cmac\n  key-string <masked>\n"
    )


def test_private_key_blocks_are_masked_whole_and_certificates_kept() -> None:
    text = (
        "crypto pki import TP pem terminal password S3cr3t-PEM\n"
        "-----BEGIN RSA PRIVATE KEY-----\n"
        "Proc-Type: 4,ENCRYPTED\n"
        "DEK-Info: DES-EDE3-CBC,S3cr3tIV\n"
        "\n"
        "MIICXS3cr3tBODYLINE1\n"
        "S3cr3tBODYLINE2==\n"
        "-----END RSA PRIVATE KEY-----\n"
        "crypto pki certificate chain TP\n"
        " certificate ca 01\n"
        "  3082022B 30820194 A0030201\n"
        "  \tquit\n"
    )
    masked = mask_text(text)
    assert "S3cr3t" not in masked
    assert masked.count("\n") == text.count("\n")
    assert "-----BEGIN RSA PRIVATE KEY-----\n<masked>\n<masked>\n\n<masked>\n<masked>\n-----END" in masked
    assert "  3082022B 30820194 A0030201\n" in masked  # a certificate is public


# --- terminal controls --------------------------------------------------------------------------

CONTROLS = {
    "ESC clear screen (CSI 2J)": "\x1b[2J\x1b[H",
    "OSC window title": "\x1b]0;pwned\x07",
    "OSC 52 clipboard write": "\x1b]52;c;Y3VybCBldmlsfHNo\x07",
    "OSC 8 hyperlink": "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "8-bit CSI (C1)": "\x9b2J",
    "8-bit OSC (C1)": "\x9d0;title\x9c",
    "bare CR overwriting": "all good\rPWNED   ",
    "backspaces": "abc\x08\x08\x08xyz",
    "BEL and NUL": "\x07\x00",
    "bidi override": "\u202eevil\u202c",
}


@pytest.mark.parametrize("name", list(CONTROLS))
def test_controls_are_shown_never_obeyed(name: str) -> None:
    raw = f"router-{CONTROLS[name]}-end"
    shown = neutralise_controls(raw)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", shown)
    assert "\r" not in shown
    assert shown.startswith("router-") and shown.endswith("-end")
    assert neutralise_controls(shown) == shown  # idempotent


def test_controls_become_visible_escapes_and_layout_stays() -> None:
    assert neutralise_controls("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert neutralise_controls("a\x9bb\u202ec") == "a\\x9bb\\u202ec"
    assert neutralise_controls("line\r\nnext\tcol\n") == "line\r\nnext\tcol\n"
    assert neutralise_controls("over\rwrite") == "over\\x0dwrite"


def test_scrub_neutralises_before_masking() -> None:
    # \x1f is whitespace to str.split: masked first, "cd" would leak.
    assert scrub("username u password ab\x1fcd") == "username u password <masked>"
    assert scrub("hostname evil\x1b]0;x\x07") == "hostname evil\\x1b]0;x\\x07"
    once = scrub(_joined(0) + "".join(CONTROLS.values()))
    assert scrub(once) == once


def test_scrub_value_walks_containers_and_keeps_enums() -> None:
    from cmelive.checks.base import CheckResult, Evidence, Severity, Status

    result = CheckResult(
        check="X-1", title="t", severity=Severity.HIGH, family="ACC", status=Status.FAIL, reference="r",
        message="line vty 0 4 password S3cr3t two \x1b[2J",
        evidence=(Evidence("show running-config", 3, "password S3cr3t"),),
        remediation=("line vty 0 4", " password S3cr3t"),
        waiver={"reason": "\x1b]52;c;x\x07"},
    )
    cleaned = scrub_value(result)
    assert "S3cr3t" not in repr(cleaned) and "\x1b" not in repr(cleaned).replace("\\x1b", "")
    assert cleaned.status is Status.FAIL and cleaned.severity is Severity.HIGH
    assert cleaned.evidence[0].text == f"password {MASK}"
    clean = CheckResult("X-2", "t", Severity.LOW, "ACC", Status.PASS, "r", "fine")
    assert scrub_value(clean) is clean  # nothing to change: no copy


# --- prose: cmelive's own sentences, which may quote router text ----------------------------------

PROSE: list[tuple[str, str | None]] = [
    # Sentences that name a secret without giving it stay whole.
    ("No CME GUI password is the enable password or enable secret", None),
    ("enable password on line 16 is stored in clear text", None),
    ("enable secret is set (line 5) and no enable password exists", None),
    ("the router's password is set", None),
    ("Local users are stored as secrets, not passwords", None),
    # What they quote of a router is a router line: its secret goes.
    ("no access-class on line vty 0 4 password S3cr3t, line vty 5 15", "no access-class on line vty 0 4 password <masked>"),
    ("GigabitEthernet0/1 (description 'password is S3cr3t') has no ACL",
     "GigabitEthernet0/1 (description 'password <masked>') has no ACL"),
    ("vty 'line vty 0 4 password two S3cr3t' allows telnet", "vty 'line vty 0 4 password <masked>' allows telnet"),
    ("enable secret is set; line vty password S3cr3t two", "enable secret is set; line vty password <masked>"),
]


@pytest.mark.parametrize(("sentence", "expected"), PROSE, ids=[p[0][:50] for p in PROSE])
def test_prose_keeps_sentences_and_masks_what_they_quote(sentence: str, expected: str | None) -> None:
    assert scrub(sentence, prose=True) == (sentence if expected is None else expected)
    # As a router line the same text is masked after its keyword, whatever follows.
    assert "S3cr3t" not in scrub(sentence)
