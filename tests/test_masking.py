"""Secret masking: every secret form goes, every keyword and line stays.

Two sources of truth: a planted config where each secret value is a unique marker (``S3cr3t-...``
or a unique number) next to the exact masked line we expect, and the shared corpus of real
router output, whose published lab secrets are listed per file below.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cmelive.masking import MASK, _candidate_lines, mask_line, mask_text

# (line as the router prints it, line as it must come out). Identical pairs are lines that hold no
# secret and must come out untouched.
PLANTED: list[tuple[str, str]] = [
    ("Building configuration...", "Building configuration..."),
    ("!", "!"),
    ("service password-encryption", "service password-encryption"),
    ("password encryption aes", "password encryption aes"),
    ("security passwords min-length 10", "security passwords min-length 10"),
    ("hostname cme-planted", "hostname cme-planted"),
    ("enable secret 9 $9$S3cr3t-ENABLE-91", "enable secret 9 <masked>"),
    ("enable secret level 15 5 $1$S3cr3t-LEVEL15", "enable secret level 15 5 <masked>"),
    ("enable password S3cr3t-ENPASS", "enable password <masked>"),
    ("enable password level 7 7 S3cr3t-ENPASS7", "enable password level 7 7 <masked>"),
    ("aaa new-model", "aaa new-model"),
    ("aaa authentication login default group tacacs+ local", "aaa authentication login default group tacacs+ local"),
    ("username joe password 7 S3cr3t-JOE7", "username joe password 7 <masked>"),
    ("username admin privilege 15 secret 9 $9$S3cr3t-ADMIN", "username admin privilege 15 secret 9 <masked>"),
    ("username ops algorithm-type scrypt secret $9$S3cr3t-SCRYPT",
     "username ops algorithm-type scrypt secret <masked>"),
    ("username password password 0 S3cr3t-NAMED-PASSWORD", "username password password 0 <masked>"),
    ("key config-key password-encrypt S3cr3t-MASTERKEY", "key config-key password-encrypt <masked>"),
    ("!", "!"),
    ("crypto pki trustpoint cme-server", "crypto pki trustpoint cme-server"),
    (" enrollment url http://10.1.1.1:80", " enrollment url http://10.1.1.1:80"),
    (" password S3cr3t-TRUSTPOINT", " password <masked>"),
    (" revocation-check none", " revocation-check none"),
    ("!", "!"),
    ("crypto isakmp key S3cr3t-ISAKMP address 198.51.100.7", "crypto isakmp key <masked> address 198.51.100.7"),
    ("crypto keyring KR", "crypto keyring KR"),
    (" pre-shared-key address 198.51.100.8 key S3cr3t-KEYRING", " pre-shared-key address 198.51.100.8 key <masked>"),
    ("crypto ikev2 keyring IKR", "crypto ikev2 keyring IKR"),
    (" peer HQ", " peer HQ"),
    ("  pre-shared-key local 6 S3cr3t-IKEV2", "  pre-shared-key local 6 <masked>"),
    ("crypto ikev2 profile IKP", "crypto ikev2 profile IKP"),
    (" authentication local pre-share key S3cr3t-PRESHARE", " authentication local pre-share key <masked>"),
    ("!", "!"),
    ("key chain HSRP-KC", "key chain HSRP-KC"),
    (" key 1", " key 1"),
    ("  key-string 7 S3cr3t-KEYSTRING", "  key-string 7 <masked>"),
    ("!", "!"),
    ("interface GigabitEthernet0/0", "interface GigabitEthernet0/0"),
    (" ip address 10.1.1.1 255.255.255.0", " ip address 10.1.1.1 255.255.255.0"),
    (" standby 1 authentication S3cr3t-HSRP", " standby 1 authentication <masked>"),
    (" standby 2 authentication md5 key-string 7 S3cr3t-HSRPMD5",
     " standby 2 authentication md5 key-string 7 <masked>"),
    (" standby 3 authentication md5 key-chain HSRP-KC", " standby 3 authentication md5 key-chain HSRP-KC"),
    (" vrrp 4 authentication text S3cr3t-VRRP", " vrrp 4 authentication text <masked>"),
    (" ip ospf authentication message-digest", " ip ospf authentication message-digest"),
    (" ip ospf authentication-key 7 S3cr3t-OSPFAK", " ip ospf authentication-key 7 <masked>"),
    (" ip ospf message-digest-key 1 md5 S3cr3t-OSPFMD5", " ip ospf message-digest-key 1 md5 <masked>"),
    (" ppp chap hostname router1", " ppp chap hostname router1"),
    (" ppp chap password 7 S3cr3t-CHAP", " ppp chap password 7 <masked>"),
    (" ppp pap sent-username router1 password 0 S3cr3t-PAP", " ppp pap sent-username router1 password 0 <masked>"),
    ("!", "!"),
    ("ip http server", "ip http server"),
    ("ip http authentication local", "ip http authentication local"),
    ("snmp-server community S3cr3t-COMM-RO RO 10", "snmp-server community <masked> RO 10"),
    ("snmp-server community S3cr3t-COMM-RW view all RW 11", "snmp-server community <masked> view all RW 11"),
    ("snmp-server host 10.1.1.50 S3cr3t-HOST-V1", "snmp-server host 10.1.1.50 <masked>"),
    ("snmp-server host 10.1.1.51 version 2c S3cr3t-HOST-2C udp-port 162 config",
     "snmp-server host 10.1.1.51 version 2c <masked> udp-port 162 config"),
    ("snmp-server host 10.1.1.52 informs version 3 priv S3cr3t-HOST-V3",
     "snmp-server host 10.1.1.52 informs version 3 priv <masked>"),
    ("snmp-server host 10.1.1.53 vrf MGMT traps version 1 S3cr3t-HOST-VRF",
     "snmp-server host 10.1.1.53 vrf MGMT traps version 1 <masked>"),
    ("snmp-server user nms nmsgroup v3 auth sha S3cr3t-SNMP-AUTH priv aes 128 S3cr3t-SNMP-PRIV",
     "snmp-server user nms nmsgroup v3 auth sha <masked> priv aes 128 <masked>"),
    ("snmp-server user ops opsgroup v3 auth md5 S3cr3t-SNMP-MD5 priv des S3cr3t-SNMP-DES",
     "snmp-server user ops opsgroup v3 auth md5 <masked> priv des <masked>"),
    ("snmp-server enable traps", "snmp-server enable traps"),
    ("tacacs-server key 7 S3cr3t-TACKEY", "tacacs-server key 7 <masked>"),
    ("tacacs-server host 10.1.1.20 key 7 S3cr3t-TACHOST", "tacacs-server host 10.1.1.20 key 7 <masked>"),
    ("tacacs-server host 10.1.1.21 port 49 timeout 5 key S3cr3t-TACHOST2",
     "tacacs-server host 10.1.1.21 port 49 timeout 5 key <masked>"),
    ("tacacs server TAC1", "tacacs server TAC1"),
    (" address ipv4 10.1.1.22", " address ipv4 10.1.1.22"),
    (" key 7 S3cr3t-TACBLOCK", " key 7 <masked>"),
    ("radius-server key S3cr3t-RADKEY", "radius-server key <masked>"),
    ("radius-server host 10.1.1.30 auth-port 1812 acct-port 1813 key 7 S3cr3t-RADHOST",
     "radius-server host 10.1.1.30 auth-port 1812 acct-port 1813 key 7 <masked>"),
    ("radius server RAD1", "radius server RAD1"),
    (" address ipv4 10.1.1.31 auth-port 1812 acct-port 1813", " address ipv4 10.1.1.31 auth-port 1812 acct-port 1813"),
    (" key S3cr3t-RADBLOCK", " key <masked>"),
    (" pac key S3cr3t-PAC", " pac key <masked>"),
    ("aaa group server tacacs+ TACGROUP", "aaa group server tacacs+ TACGROUP"),
    (" server-private 10.1.1.40 timeout 5 key 7 S3cr3t-PRIVATE", " server-private 10.1.1.40 timeout 5 key 7 <masked>"),
    ("aaa server radius dynamic-author", "aaa server radius dynamic-author"),
    (" client 10.1.1.60 server-key 7 S3cr3t-DYNAUTH", " client 10.1.1.60 server-key 7 <masked>"),
    ("!", "!"),
    ("ntp authenticate", "ntp authenticate"),
    ("ntp authentication-key 1 md5 S3cr3t-NTP 7", "ntp authentication-key 1 md5 <masked> 7"),
    ("ntp trusted-key 1", "ntp trusted-key 1"),
    ("archive", "archive"),
    (" path ftp://backup:S3cr3t-FTPURL@10.1.1.9/cfg", " path ftp://backup:<masked>@10.1.1.9/cfg"),
    ("!", "!"),
    ("sip-ua", "sip-ua"),
    (" authentication username jack password S3cr3t-SIPAUTH realm cme.example",
     " authentication username jack password <masked> realm cme.example"),
    (" credentials username 1001 password 7 S3cr3t-SIPCRED realm cme.example",
     " credentials username 1001 password 7 <masked> realm cme.example"),
    ("!", "!"),
    ("telephony-service", "telephony-service"),
    (" max-ephones 24", " max-ephones 24"),
    (" web admin system name admin password S3cr3t-WEBSYS", " web admin system name admin password <masked>"),
    (" web admin customer name cust secret 0 S3cr3t-WEBCUST", " web admin customer name cust secret 0 <masked>"),
    (" web admin customer name Customer", " web admin customer name Customer"),
    (" xml user axluser password S3cr3t-XML 15", " xml user axluser password <masked> 15"),
    (" authentication credential tapi-app S3cr3t-TAPICRED", " authentication credential tapi-app <masked>"),
    ("!", "!"),
    ("voice register pool 1", "voice register pool 1"),
    (" id mac 0011.2233.4455", " id mac 0011.2233.4455"),
    (" username 2001 password S3cr3t-POOL", " username 2001 password <masked>"),
    ("!", "!"),
    ("ctl-client", "ctl-client"),
    (" server cme 10.1.1.1 username cisco password 1 S3cr3t-CTLCLIENT",
     " server cme 10.1.1.1 username cisco password 1 <masked>"),
    ("credentials", "credentials"),
    (" ctl-service admin ctladmin secret 1 S3cr3t-CTL", " ctl-service admin ctladmin secret 1 <masked>"),
    (" ip source-address 10.1.1.1 port 2444", " ip source-address 10.1.1.1 port 2444"),
    ("capf-server", "capf-server"),
    (" auth-mode auth-string", " auth-mode auth-string"),
    (" cert-enroll-trustpoint iosra password 1 S3cr3t-CAPFENROLL", " cert-enroll-trustpoint iosra password 1 <masked>"),
    ("!", "!"),
    ("ephone 1", "ephone 1"),
    (" device-security-mode encrypted", " device-security-mode encrypted"),
    (" capf-auth-str 918273", " capf-auth-str <masked>"),
    (" cert-oper upgrade auth-mode auth-string", " cert-oper upgrade auth-mode auth-string"),
    (" auth-string 739146", " auth-string <masked>"),
    (" pin 564738", " pin <masked>"),
    (' username "phone1" password S3cr3t-EPHUSER', ' username "phone1" password <masked>'),
    (" mac-address 0011.2233.4466", " mac-address 0011.2233.4466"),
    ("!", "!"),
    ("line con 0", "line con 0"),
    (" password 7 S3cr3t-CON7", " password 7 <masked>"),
    ("line vty 0 4", "line vty 0 4"),
    (" password S3cr3t-VTY", " password <masked>"),
    (" login", " login"),
    (" transport input ssh", " transport input ssh"),
    ("!", "!"),
    ("end", "end"),
]

# Live-state outputs: show ephone, SRTP keys, show capf-server auth-string, SDP.
PLANTED_LIVE: list[tuple[str, str]] = [
    ("Router# show ephone offhook", "Router# show ephone offhook"),
    ("ephone-5 Mac:000A.8A2C.8C6E TCP socket:[20] activeLine:1 REGISTERED",
     "ephone-5 Mac:000A.8A2C.8C6E TCP socket:[20] activeLine:1 REGISTERED"),
    ("Username:userB Password:S3cr3t-EPHONE1", "Username:userB Password:<masked>"),
    ("Username: userC Password: S3cr3t-EPHONE2", "Username: userC Password: <masked>"),
    ("Username:userB status:REGISTERED Socket :[5]", "Username:userB status:REGISTERED Socket :[5]"),
    ("        SRTP cipher: AES_CM_128_HMAC_SHA1_32", "        SRTP cipher: AES_CM_128_HMAC_SHA1_32"),
    ("        local key: S3cr3t-SRTPLOCAL==", "        local key: <masked>"),
    ("        remote key: S3cr3t-SRTPREMOTE==", "        remote key: <masked>"),
    ("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:S3cr3t-SDES|2^31",
     "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<masked>"),
    ("Router# show capf-server auth-string", "Router# show capf-server auth-string"),
    ("Authentication Strings for configured Ephones", "Authentication Strings for configured Ephones"),
    ("Mac-Addr        Auth-String", "Mac-Addr        Auth-String"),
    ("--------        -----------", "--------        -----------"),
    ("000CCE3A817C    481516", "000CCE3A817C    <masked>"),
    ("0013.C352.E7F1    2342", "0013.C352.E7F1    <masked>"),
    ("SEP000CCE3A817C         AWAIT-KEYGEN-RES", "SEP000CCE3A817C         AWAIT-KEYGEN-RES"),
    ("        Device Authentication Mode: Auth-String", "        Device Authentication Mode: Auth-String"),
    ("Key name: TP-self-signed-1331515841", "Key name: TP-self-signed-1331515841"),
    (" Key Data:", " Key Data:"),
    ("Authentication methods:publickey,keyboard-interactive,password",
     "Authentication methods:publickey,keyboard-interactive,password"),
]

# Numeric secrets have no S3cr3t prefix; they are unique in the planted text.
NUMERIC_SECRETS = ("918273", "739146", "564738", "481516", "2342")


def _text(pairs: list[tuple[str, str]], index: int) -> str:
    return "\n".join(pair[index] for pair in pairs) + "\n"


@pytest.mark.parametrize("pairs", [PLANTED, PLANTED_LIVE], ids=["config", "live-outputs"])
def test_no_planted_secret_survives(pairs: list[tuple[str, str]]) -> None:
    original = _text(pairs, 0)
    masked = mask_text(original)
    assert "S3cr3t" in original
    assert "S3cr3t" not in masked
    for secret in NUMERIC_SECRETS:
        assert not re.search(rf"(?<!\w){secret}(?!\w)", masked), secret


@pytest.mark.parametrize("pairs", [PLANTED, PLANTED_LIVE], ids=["config", "live-outputs"])
def test_every_planted_line_masks_exactly_as_expected(pairs: list[tuple[str, str]]) -> None:
    original = _text(pairs, 0)
    masked = mask_text(original)
    assert masked.count("\n") == original.count("\n")
    # Compared line by line so that a failure names the line; this covers both the exact masked
    # form of every secret kind and the untouched non-secret lines.
    for (before, expected), got in zip(pairs, masked.split("\n")):
        assert got == expected, f"masking {before!r}"


@pytest.mark.parametrize("pairs", [PLANTED, PLANTED_LIVE], ids=["config", "live-outputs"])
def test_mask_line_agrees_with_mask_text(pairs: list[tuple[str, str]]) -> None:
    for before, expected in pairs:
        if before.strip() == "key 1":
            continue  # needs the section context only mask_text has; see the key-chain test
        assert mask_line(before) == expected
        # Evidence is built from stripped lines: masking must not depend on indentation.
        assert mask_line(before.strip()) == expected.strip()


def test_key_chain_ids_survive_in_text_but_a_lone_key_line_is_masked() -> None:
    config = (
        "key chain KC\n key 1\n  key-string S3cr3t-A\n key 2\n  key-string 7 S3cr3t-B\n"
        "tacacs server T\n key 12345\n"
    )
    assert mask_text(config) == (
        "key chain KC\n key 1\n  key-string <masked>\n key 2\n  key-string 7 <masked>\ntacacs server T\n key <masked>\n"
    )
    # Flattened capture: the section is found from the nearest opener before a "!".
    flat = "key chain KC\nkey 1\nkey-string S3cr3t-C\n!\ntacacs server T\nkey 4242\n"
    assert mask_text(flat) == "key chain KC\nkey 1\nkey-string <masked>\n!\ntacacs server T\nkey <masked>\n"
    # Without context a numeric key is masked: hiding an id is better than leaking a key.
    assert mask_line(" key 12345") == " key <masked>"
    assert mask_line(" key 1", section="key chain KC") == " key 1"


@pytest.mark.parametrize(
    "line",
    [
        "no enable password",
        "no enable secret level 15",
        "no service password-encryption",
        "password-policy STRONG",
        "aaa common-criteria policy STRONG",
        "HTTP server authentication method: enable",
        "Password expiry: 30 days",
        "Key is not exportable.",
        "crypto key generate rsa modulus 2048",
        " cert-oper upgrade auth-mode null-string",
        "capf-server auth-string generate all",
        "ephone 1        Pin enabled:LOCAL       Logged-in:FALSE",
    ],
)
def test_lines_without_a_secret_are_untouched(line: str) -> None:
    assert mask_line(line) == line


def test_free_text_errs_on_the_side_of_masking() -> None:
    # A description is not a secret, but "password X" anywhere masks the rest of the line (IOS
    # reads most secrets as LINE, spaces included): unknown commands and free text must not be the
    # way a secret leaks.
    assert mask_line(" description password reset desk") == " description password <masked>"
    # In quoted text (a message that quotes a config line) the value ends at the closing quote.
    assert mask_line("vty 'line vty 0 4 password two words' allows telnet") == (
        "vty 'line vty 0 4 password <masked>' allows telnet"
    )


def test_a_typed_prompt_or_no_in_front_does_not_hide_the_command() -> None:
    assert mask_line("Router(config)#snmp-server community S3cr3t-X RO") == (
        "Router(config)#snmp-server community <masked> RO"
    )
    assert mask_line("Router(config-line)# password S3cr3t-Y") == "Router(config-line)# password <masked>"
    assert mask_line("no snmp-server community S3cr3t-Z RO") == "no snmp-server community <masked> RO"
    assert mask_line("R1#show running-config | include password") == "R1#show running-config | include password"


def test_line_endings_indentation_and_trailing_newline_are_kept() -> None:
    text = "\tenable secret 5 $1$S3cr3t\r\n  username a password b\r\n\r\n"
    assert mask_text(text) == "\tenable secret 5 <masked>\r\n  username a password <masked>\r\n\r\n"
    assert mask_text("") == ""
    assert mask_text("no secrets here\n") == "no secrets here\n"


def test_masking_is_idempotent() -> None:
    once = mask_text(_text(PLANTED, 0) + _text(PLANTED_LIVE, 0))
    assert mask_text(once) == once


def test_prefilter_selects_only_lines_that_can_hold_a_secret() -> None:
    # What keeps mask_text fast on a 200 KB config: lines are picked by a few whole-text scans,
    # and only those go through the rules. (A speed test would be timed; this is the mechanism.)
    filler = ["interface GigabitEthernet0/%d" % i for i in range(3000)] + [" no ip address"] * 3000
    text_lines = filler[:1500] + ["enable secret 9 $9$S3cr3t"] + filler[1500:] + ["snmp-server community S3cr3t RO"]
    text = "\n".join(text_lines)
    assert len(text) > 100_000
    found = [text[start:end] for start, end in _candidate_lines(text)]
    assert found == [text_lines[1500], text_lines[-1]]
    assert "S3cr3t" not in mask_text(text)


# --- the shared corpus ---------------------------------------------------------------------------

# Every secret the corpus publishes, per file: (line number, secret value). Found by reading each
# file; a file that is not listed here fails the test until someone reads it.
CORPUS_SECRETS: dict[str, list[tuple[int, str]]] = {
    "running_config__ciscodoc-cmeccx-3845.txt": [
        (16, "password"),  # enable password password
        (145, "5112011"),
        (153, "5112012"),
        (161, "pool16"),
        (169, "pool17"),
        (177, "pool18"),
        (337, "axlpass"),  # xml user axluser password axlpass 15 <====AXL ...
        (579, "lab"),
    ],
    "running_config__ciscodoc-cmee911-2821-noindent.txt": [],
    "running_config__ciscodoc-cmepresence-3825.txt": [
        (17, "lab"),
        (143, "021201481F"),
        (208, "lab"),
        (213, "lab"),
    ],
    "running_config__ciscodoc-cmepresence-3825-detabbed.txt": [
        (17, "lab"),
        (143, "021201481F"),
        (208, "lab"),
        (213, "lab"),
    ],
    "running_config__gh-itmo-spevak-lab2-part1-packettracer-2811.txt": [(87, "12345"), (93, "12345")],
    "running_config__gh-itmo-spevak-lab2-part2-packettracer-2811.txt": [],
    "running_config_partial__ciscodoc-cmeauth-ctl-capf-example.txt": [
        (9, "0822455D0A16544541"),  # ctl-client server cme ... username cisco password 1 ...
        (21, "00071A1507545A545C"),  # cert-enroll-trustpoint iosra password 1 ...
        (79, "094F471A1A0A464058"),  # ctl-service admin cisco secret 1 ...
        (131, "2476"),  # capf-auth-str
        (140, "5425"),
        (149, "7176"),
    ],
    "running_config_partial__ciscodoc-cmevpn-sslvpn-phone.txt": [],
    "running_config_partial__gh-3725-cme-cipc-12.4-15-T14.txt": [(38, "1112"), (50, "1113")],
    "running_config_partial__gh-itmo-nikitina-lab2-packettracer-2811.txt": [(75, "cisco"), (82, "cisco")],
    "running_config_partial__gh-josephstreeter-2801-cme.txt": [],
    "show_capf-server_auth-strings__ciscodoc-cmecr-s2.txt": [
        (5, "7012"),
        (6, "922"),
        (7, "9182"),
        (8, "3114"),
        (9, "3328"),
        (10, "0678"),
    ],
    "show_ephone_offhook__ciscodoc-cmecr-s2-a.txt": [(15, "newuser")],
    "show_ephone_offhook__ciscodoc-cmecr-s2-b-wrapped.txt": [(16, "newuser")],
    "show_ephone_tapiclients__ciscodoc-cmecr-s2.txt": [(15, "ge30qe")],
    # web admin system name admin1 password admin1
    "show_telephony-service_partial__ciscodoc-cmedirectory.txt": [(9, "admin1")],
    # Files that publish no secret: listed too, so that a new corpus file gets read.
    "show_capf-server_sessions__ciscodoc-cmecr-s2.txt": [],
    "show_capf-server_summary__ciscodoc-cmecr-s2.txt": [],
    "show_control-plane_host_open-ports__notes-ccnp-scor-a-telnet-only.txt": [],
    "show_control-plane_host_open-ports__notes-ccnp-scor-b-ssh-https.txt": [],
    "show_control-plane_host_open-ports__notes-netacad-ccna-ensa-classic.txt": [],
    "show_credentials__ciscodoc-cmeauth.txt": [],
    "show_credentials__ciscodoc-cmecr-s2.txt": [],
    "show_crypto_key_mypubkey_rsa__book-ccna60days-zh-classic.txt": [],
    "show_crypto_key_mypubkey_rsa__gh-genieparser-iosxe-golden.txt": [],
    "show_crypto_pki_trustpoint_status__ciscodoc-cmeauth-tabs.txt": [],
    "show_ctl-client__ciscodoc-cmecr-s2.txt": [],
    "show_ephone__ciscodoc-cmecr-s2.txt": [],
    "show_ephone__ciscotac-213925-hunt-7965-idle.txt": [],
    "show_ephone__gh-packettracer-cucme-lab-idle.txt": [],
    "show_ephone__gh-packettracer-cucme-lab-incall.txt": [],
    "show_ephone_attempted-registrations__ciscodoc-cmecr-s2.txt": [],
    "show_ephone_cfa__ciscodoc-cmecr-s2.txt": [],
    "show_ephone_dnd__ciscodoc-cmecr-s2.txt": [],
    "show_ephone_login__ciscodoc-cmecr-s2.txt": [],
    "show_ephone_overlay__ciscodoc-cmecr-s2.txt": [],
    "show_ephone_registered__ciscodoc-cmecr-a-autoassign-partial.txt": [],
    "show_ephone_registered__ciscodoc-cmecr-s2-wrapped80.txt": [],
    "show_ephone_registered__gh-3725-cme-cipc-12.4-15-T14.txt": [],
    "show_ephone_registered__gh-josephstreeter-2801-cme.txt": [],
    "show_ephone_registered_summary__ciscodoc-cmecr-s2-tabs.txt": [],
    "show_ephone_remote__ciscodoc-cmecr-s2.txt": [],
    "show_ephone_summary__ciscodoc-cmecr-s2.txt": [],
    "show_ephone_summary__ciscodoc-cmesystm-ipv6-doublespaced.txt": [],
    "show_ephone_summary_brief__ciscodoc-cmecr-s2-tabs.txt": [],
    "show_ephone_summary_types__ciscodoc-cmecr-s2-tabs.txt": [],
    "show_ephone_telephone-number__gh-ru-cme-notes-c3925.txt": [],
    "show_ephone_unregistered__ciscodoc-cmecr-s2.txt": [],
    "show_ip_http_server_all__gh-cat8000v-ocp-virtualization.txt": [],
    "show_ip_http_server_status__book-ccna60days-zh-classic-switch.txt": [],
    "show_ip_ssh__book-ccna60days-zh-classic-switch.txt": [],
    "show_ip_ssh__gh-genieparser-iosxe-golden1.txt": [],
    "show_telephony-service_all__ciscodoc-cmefiles-cme40-tabs.txt": [],
    "show_telephony-service_partial__ciscodoc-esrst-105.txt": [],
    "show_telephony-service_partial__gh-ru-cme-notes-c3925-cme105.txt": [],
}


def _corpus_files() -> list[str]:
    corpus = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
    return sorted(p.name for p in corpus.glob("*.txt")) if corpus.is_dir() else []


def _occurrences(secret: str, text: str) -> int:
    # A secret as a value of its own: "Password:newuser" counts, "password-encryption" does not.
    return len(re.findall(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", text))


@pytest.mark.parametrize("name", _corpus_files() or ["(corpus absent)"])
def test_corpus_secrets_are_masked_and_nothing_else_changes(name: str, corpus_dir: Path) -> None:
    if name not in CORPUS_SECRETS:
        pytest.fail(f"{name} is new in the corpus: read it and list its secrets in CORPUS_SECRETS")
    secrets = CORPUS_SECRETS[name]
    original = (corpus_dir / name).read_text(encoding="utf-8")
    masked = mask_text(original)
    before_lines = original.split("\n")
    after_lines = masked.split("\n")
    assert len(after_lines) == len(before_lines)

    listed = {number for number, _ in secrets}
    for number, secret in secrets:
        before, after = before_lines[number - 1], after_lines[number - 1]
        assert _occurrences(secret, before) >= 1, f"{name}:{number} does not hold {secret!r}: fix the list"
        assert MASK in after, f"{name}:{number} not masked: {after!r}"
    for secret in {secret for _, secret in secrets}:
        removed = sum(1 for _, s in secrets if s == secret)
        assert _occurrences(secret, masked) == _occurrences(secret, original) - removed, (
            f"{name}: {secret!r} survives masking"
        )
    # Nothing but the listed lines changes: no keyword, no structure and no line is lost.
    changed = {n for n, (b, a) in enumerate(zip(before_lines, after_lines), start=1) if b != a}
    assert changed == listed


def test_the_secret_list_names_only_files_that_exist(corpus_dir: Path) -> None:
    assert sorted(set(CORPUS_SECRETS) - set(_corpus_files())) == []
