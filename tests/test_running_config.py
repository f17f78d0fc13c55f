"""The running-config parser: exact trees for clean captures, honest ``problems`` for damaged ones.

Small inline configs pin each rule with exact line numbers; the shared corpus checks that real
(and really damaged) captures parse without an exception and come out as described in SOURCES.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cmelive.parsing.running_config import ConfigLine, RunningConfig, parse_running_config


def _tree(line: ConfigLine) -> tuple[int, str, list[object]]:
    return (line.number, line.command, [_tree(child) for child in line.children])


def _roots(config: RunningConfig) -> list[tuple[int, str, list[object]]]:
    return [_tree(root) for root in config.roots]


def _problem(config: RunningConfig, fragment: str) -> str:
    found = [p for p in config.problems if fragment in p]
    assert found, f"no problem mentioning {fragment!r} in {config.problems}"
    return found[0]


# --- clean captures: packaging is dropped, structure is exact -------------------------------------

CLEAN = """\
Router#show running-config
Building configuration...

Current configuration : 312 bytes
!
! Last configuration change at 10:00:00 UTC Mon Jan 1 2024
!
version 15.7
hostname cme-lab
!
interface GigabitEthernet0/0
 ip address 10.1.1.1 255.255.255.0
 no shutdown
!
voice service voip
 allow-connections sip to sip
 sip
  bind control source-interface GigabitEthernet0/0
 !
!
line vty 0 4
 password 7 0822455D0A16
 login
 transport input ssh
!
end
Router#"""


def test_clean_capture_with_prompt_headers_and_trailing_prompt() -> None:
    config = parse_running_config(CLEAN)
    assert config.complete
    assert config.problems == []
    assert not config.indentation_lost
    assert config.hostname == "cme-lab"
    assert _roots(config) == [
        (8, "version 15.7", []),
        (9, "hostname cme-lab", []),
        (11, "interface GigabitEthernet0/0", [(12, "ip address 10.1.1.1 255.255.255.0", []), (13, "no shutdown", [])]),
        (
            15,
            "voice service voip",
            [
                (16, "allow-connections sip to sip", []),
                (17, "sip", [(18, "bind control source-interface GigabitEthernet0/0", [])]),
            ],
        ),
        (
            21,
            "line vty 0 4",
            [(22, "password 7 0822455D0A16", []), (23, "login", []), (24, "transport input ssh", [])],
        ),
        (26, "end", []),
    ]


def test_queries_match_commands_with_blanks_folded() -> None:
    config = parse_running_config(CLEAN)
    vty = config.sections(r"line vty ")[0]
    password = vty.first(r"password 7 ")
    assert password is not None and password.number == 22
    assert vty.first(r"password 0 ") is None
    assert vty.has(r"transport input ssh$")
    assert [line.number for line in vty.find(r"(login|password)")] == [22, 23]
    assert [line.number for line in config.anywhere(r"bind control ")] == [18]
    assert config.first_global(r"interface ") is not None
    assert [line.number for line in config.globals(r"(version|hostname) ")] == [8, 9]
    assert [line.number for line in config.sections(r"voice service voip")[0].walk()] == [16, 17, 18]
    assert [line.number for line in config.lines()] == [8, 9, 11, 12, 13, 15, 16, 17, 18, 21, 22, 23, 24, 26]


def test_an_indented_separator_keeps_the_section_open_and_a_column_0_one_closes_it() -> None:
    text = """\
router bgp 65000
 neighbor 10.0.0.2 remote-as 65001
 !
 address-family ipv4
  network 10.0.0.0
 exit-address-family
!
 stray-indented-line
end"""
    config = parse_running_config(text)
    assert _roots(config) == [
        (
            1,
            "router bgp 65000",
            [
                (2, "neighbor 10.0.0.2 remote-as 65001", []),
                (4, "address-family ipv4", [(5, "network 10.0.0.0", [])]),
                (6, "exit-address-family", []),
            ],
        ),
        (8, "stray-indented-line", []),
        (9, "end", []),
    ]
    assert config.problems == ["indented lines outside any section (line 8)"]


def test_crlf_and_carriage_returns_do_not_change_the_tree() -> None:
    assert _roots(parse_running_config(CLEAN.replace("\n", "\r\n"))) == _roots(parse_running_config(CLEAN))


def test_a_config_with_no_section_at_all() -> None:
    config = parse_running_config("!\nversion 15.1\nhostname R1\n!\nenable secret 9 $9$x\nip http server\n!\nend\n")
    assert config.complete
    assert _roots(config) == [
        (2, "version 15.1", []),
        (3, "hostname R1", []),
        (5, "enable secret 9 $9$x", []),
        (6, "ip http server", []),
        (8, "end", []),
    ]


def test_capture_without_header_or_prompt_and_with_blank_tail() -> None:
    config = parse_running_config("hostname R2\ninterface Vlan1\n no ip address\nend\n\n\n")
    assert config.complete
    assert _roots(config) == [
        (1, "hostname R2", []),
        (2, "interface Vlan1", [(3, "no ip address", [])]),
        (4, "end", []),
    ]


def test_crypto_certificate_chain_nests_certificates_and_their_hex() -> None:
    text = """\
crypto pki certificate chain TP-self-signed-1
 certificate self-signed 01
  3082022B 30820194 A0030201 02020101
  06092A86 4886F70D 01010505 00
  \tquit
 certificate ca 02
  30820207 30820170
  quit
!
hostname R1
end"""
    config = parse_running_config(text)
    assert config.complete
    chain = config.sections(r"crypto pki certificate chain ")[0]
    assert _tree(chain) == (
        1,
        "crypto pki certificate chain TP-self-signed-1",
        [
            (
                2,
                "certificate self-signed 01",
                [
                    (3, "3082022B 30820194 A0030201 02020101", []),
                    (4, "06092A86 4886F70D 01010505 00", []),
                    (5, "quit", []),
                ],
            ),
            (6, "certificate ca 02", [(7, "30820207 30820170", []), (8, "quit", [])]),
        ],
    )
    assert [line.number for line in config.globals(r".")] == [1, 10, 11]


# --- banners: their text is not config ----------------------------------------------------------

BANNERS = """\
hostname R1
banner exec ^C Single line ^C
banner login ^C
Authorized access only!
!
interface Fake0
 ip http server

end
^C
banner motd #
Call #1
line vty 0 4
 password lab
end"""


def test_multi_line_banners_are_one_section_each_and_never_commands() -> None:
    config = parse_running_config(BANNERS)
    assert config.complete, config.problems
    assert _roots(config) == [
        (1, "hostname R1", []),
        (2, "banner exec ^C Single line ^C", []),
        (
            3,
            "banner login ^C",
            [
                (4, "Authorized access only!", []),
                (5, "!", []),
                (6, "interface Fake0", []),
                (7, "ip http server", []),
                (8, "", []),
                (9, "end", []),
                (10, "^C", []),
            ],
        ),
        # "#" delimits: the banner ends inside "Call #1"; what follows is config again.
        (11, "banner motd #", [(12, "Call #1", [])]),
        (13, "line vty 0 4", [(14, "password lab", [])]),
        (15, "end", []),
    ]
    assert config.sections(r"banner login")[0].is_banner
    # Banner text never answers a query: no "interface", no "ip http server" anywhere.
    assert config.anywhere(r"interface ") == []
    assert config.anywhere(r"ip http server") == []
    assert [line.number for line in config.lines()] == [1, 2, 3, 11, 13, 14, 15]


def test_a_banner_that_never_ends_is_a_problem() -> None:
    config = parse_running_config("hostname R1\nbanner motd ^C\nWelcome\nend\n")
    assert not config.complete
    assert _problem(config, "banner never ends") == (
        "a banner never ends: the rest of the capture was read as banner text (line 2)"
    )
    assert "no final 'end' line: the output was cut off" in config.problems
    assert _roots(config) == [(1, "hostname R1", []), (2, "banner motd ^C", [(3, "Welcome", []), (4, "end", [])])]


# --- what makes a capture incomplete ----------------------------------------------------------------


def test_no_end_means_cut_off() -> None:
    config = parse_running_config("R1#show run\nhostname R1\ninterface Gi0/0\n ip address 10.0.0.1 255.0.0.0\n")
    assert not config.complete
    assert config.problems == ["no final 'end' line: the output was cut off"]
    assert _roots(config) == [
        (2, "hostname R1", []),
        (3, "interface Gi0/0", [(4, "ip address 10.0.0.1 255.0.0.0", [])]),
    ]


def test_text_after_end_and_a_second_end() -> None:
    config = parse_running_config("hostname R1\nend\nhostname R2\nend\nsnmp-server community x RO\n")
    assert not config.complete
    assert config.problems == [
        "text after the final 'end': more than one capture? (line 5)",
        "more than one 'end' line: captures joined (line 2)",
    ]


def test_empty_output_and_prompt_only() -> None:
    for text in ("", "\n\n", "Router#show running-config\n", "Router#\n"):
        config = parse_running_config(text)
        assert not config.complete
        assert config.roots == []
        assert config.problems == ["empty output: no configuration lines"]


def test_filtered_show_run_is_partial() -> None:
    config = parse_running_config(
        "R1#show running-config | section telephony\ntelephony-service\n max-ephones 5\nend\n"
    )
    assert not config.complete
    assert config.problems == [
        "the capture is a filtered or partial view ('show running-config | section telephony') (line 1)"
    ]
    config = parse_running_config("R1#sh run int Gi0/0\ninterface Gi0/0\n shutdown\nend\n")
    assert _problem(config, "partial view") == "the capture is a filtered or partial view ('sh run int Gi0/0') (line 1)"
    # The full forms are not partial.
    for command in ("show running-config", "sh run", "show running-config all", "show running-config view full"):
        assert parse_running_config(f"R1#{command}\nhostname R1\nend\n").complete, command


def test_tab_prefixed_lines_keep_their_relative_indentation_but_are_flagged() -> None:
    text = "hostname R1\n\t\tinterface Gi0/0\n\t\t ip address 10.0.0.1 255.0.0.0\n\t\t!\n\t\tend\n"
    config = parse_running_config(text)
    assert not config.complete
    assert config.problems == ["lines start with TAB characters (publication artifact) (lines 2, 3, 4 and 1 more)"]
    assert _roots(config) == [
        (1, "hostname R1", []),
        (2, "interface Gi0/0", [(3, "ip address 10.0.0.1 255.0.0.0", [])]),
        (5, "end", []),
    ]


LOST_INDENTATION = """\
hostname R1
!
controller T1 0/1/0
framing esf
clock source internal
linecode b8zs
!
interface Serial0/1/0:23
no ip address
isdn switch-type primary-5ess
no cdp enable
isdn switch-type basic-net3
!
voice register pool 1
id mac 0011.2233.4455
username 2001 password secret1
presence
server 10.1.1.4
presence call-list
ephone-template 1
softkeys idle Redial Newcall
ephone-dn 2 dual-line
number 2009
application default
ephone-dn-template 3
ephone 7
ephone-template 1
mac-address 0011.2233.4466
line con 0
logging synchronous
privilege level 15
password lab
line vty 0 4
login
!
crypto pki certificate chain TP
certificate ca 01
3082026B 308201D4
quit
!
end"""


def test_lost_indentation_is_rebuilt_from_known_headers_and_flagged() -> None:
    config = parse_running_config(LOST_INDENTATION)
    assert config.indentation_lost
    assert not config.complete
    assert config.problems == ["sub-mode indentation is lost: sections were rebuilt from known headers"]
    assert _roots(config) == [
        (1, "hostname R1", []),
        (
            3,
            "controller T1 0/1/0",
            [(4, "framing esf", []), (5, "clock source internal", []), (6, "linecode b8zs", [])],
        ),
        (
            8,
            "interface Serial0/1/0:23",
            [
                (9, "no ip address", []),
                (10, "isdn switch-type primary-5ess", []),
                (11, "no cdp enable", []),
                # A global "isdn switch-type" cannot be told from the interface one without indentation.
                (12, "isdn switch-type basic-net3", []),
            ],
        ),
        (14, "voice register pool 1", [(15, "id mac 0011.2233.4455", []), (16, "username 2001 password secret1", [])]),
        (17, "presence", [(18, "server 10.1.1.4", []), (19, "presence call-list", [])]),
        (20, "ephone-template 1", [(21, "softkeys idle Redial Newcall", [])]),
        (
            22,
            "ephone-dn 2 dual-line",
            [(23, "number 2009", []), (24, "application default", []), (25, "ephone-dn-template 3", [])],
        ),
        (26, "ephone 7", [(27, "ephone-template 1", []), (28, "mac-address 0011.2233.4466", [])]),
        (
            29,
            "line con 0",
            [(30, "logging synchronous", []), (31, "privilege level 15", []), (32, "password lab", [])],
        ),
        (33, "line vty 0 4", [(34, "login", [])]),
        (
            36,
            "crypto pki certificate chain TP",
            [(37, "certificate ca 01", [(38, "3082026B 308201D4", []), (39, "quit", [])])],
        ),
        (41, "end", []),
    ]


@pytest.mark.parametrize(
    ("line", "number"),
    [
        (" xml user axluser password axlpass 15 <====AXL username and password max-ephones 240", 3),
        (" number 1 dn 1 emergency response location 2100 !", 3),
        (" mac-address 0014.F237.E000 emergency response location 2 type 7940", 3),
        (" sast2 trustpoint sast2 CTL Client Running on Another Router: Example", 3),
        ("! voice emergency response location 1", 3),
        ("dial-peer voice 3111 pots emergency response Zone destination-pattern 9....", 3),
    ],
)
def test_joined_lines_are_flagged(line: str, number: int) -> None:
    config = parse_running_config(f"hostname R1\nephone 1\n{line}\n!\nend\n")
    assert not config.complete
    assert config.problems == [f"lines that look like two lines joined in publication (line {number})"]


def test_free_text_and_ordinary_lines_are_not_joined_lines() -> None:
    text = """\
hostname R1
dial-peer voice 9000 voip
 description ==> This is for internal calls to CUE !
 destination-pattern 9...
ephone-dn 1 dual-line
 name Joseph A Streeter
 label Line 1 !
ephone 1
 mac-address 0024.C445.168B
 type 7960 addon 1 7914
end"""
    assert parse_running_config(text).problems == []


def test_indented_header_outside_any_section_still_gets_its_lines() -> None:
    config = parse_running_config(
        "hostname R1\n\n dial-peer voice 1 voip\n session protocol sipv2\n incoming called-number .\nend\n"
    )
    assert _roots(config) == [
        (1, "hostname R1", []),
        (3, "dial-peer voice 1 voip", [(4, "session protocol sipv2", []), (5, "incoming called-number .", [])]),
        (6, "end", []),
    ]
    assert config.problems == ["indented lines outside any section (line 3)"]


def test_repeated_sections_elisions_pager_and_second_header() -> None:
    text = """\
telephony-service
 max-ephones 5
!
telephony-service
 create cnf-files
!
ephone 1
 mac-address 0011.2233.4455
...
 --More-- \x08\x08\x08\x08\x08\x08\x08\x08\x08         \x08\x08\x08\x08\x08\x08\x08\x08\x08 type 7960
Building configuration...
end"""
    config = parse_running_config(text)
    assert config.problems == [
        "pager prompts ('--More--') in the capture: lines may be garbled (line 10)",
        "a second capture header in the middle: two captures joined? (line 11)",
        "elision marks ('...'): part of the config was left out in publication (line 9)",
        "a section is printed more than once: captures joined? (line 4)",
    ]
    # The pager debris is gone from the line; the line itself is kept.
    ephone = config.sections(r"ephone 1")[0]
    assert [(c.number, c.command) for c in ephone.children] == [(8, "mac-address 0011.2233.4455")]
    assert (10, "type 7960") in [(line.number, line.command) for line in config.lines()]


def test_odd_input_never_raises() -> None:
    for text in ("banner motd ^", "\t\t\t", "!\n!\n!", " \n indented only\n", "end\nend", "\x00\x01 weird", "^C"):
        assert isinstance(parse_running_config(text), RunningConfig)


# --- the shared corpus --------------------------------------------------------------------------


def _corpus(corpus_dir: Path, name: str) -> RunningConfig:
    return parse_running_config((corpus_dir / name).read_text(encoding="utf-8"))


def _running_config_files() -> list[str]:
    corpus = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
    return sorted(p.name for p in corpus.glob("running_config*.txt")) if corpus.is_dir() else []


@pytest.mark.parametrize("name", _running_config_files() or ["(corpus absent)"])
def test_every_corpus_running_config_parses(name: str, corpus_dir: Path) -> None:
    config = _corpus(corpus_dir, name)
    assert config.roots
    # Only the two Packet Tracer captures are structurally intact and end with "end"; every other
    # one is damaged or partial, and must say why.
    intact = name.startswith("running_config__gh-itmo-spevak-")
    assert config.complete is intact, config.problems
    assert bool(config.problems) is not intact


def test_corpus_packet_tracer_part1_tree(corpus_dir: Path) -> None:
    config = _corpus(corpus_dir, "running_config__gh-itmo-spevak-lab2-part1-packettracer-2811.txt")
    assert config.complete and config.problems == []
    assert config.hostname == "CMERouter"
    assert len(config.roots) == 27
    assert _tree(config.sections(r"ip dhcp pool phone")[0]) == (
        14,
        "ip dhcp pool phone",
        [(15, "network 192.168.1.0 255.255.255.0", []), (16, "default-router 192.168.1.1", []),
         (17, "option 150 ip 192.168.1.1", [])],
    )
    telephony = config.sections(r"telephony-service$")[0]
    assert (telephony.number, len(telephony.children)) == (53, 4)
    assert [(s.number, len(s.children)) for s in config.sections(r"ephone \d")] == [(68, 4), (74, 4), (80, 4)]
    assert [(s.number, [c.number for c in s.children]) for s in config.sections(r"line ")] == [
        (86, [87, 88]),
        (90, []),
        (92, [93, 94]),
    ]
    end = config.first_global(r"end$")
    assert end is not None and end.number == 96


def test_corpus_packet_tracer_part2_tree(corpus_dir: Path) -> None:
    config = _corpus(corpus_dir, "running_config__gh-itmo-spevak-lab2-part2-packettracer-2811.txt")
    assert config.complete
    # Two DHCP pools with no "!" between them are still two sections.
    assert [(s.number, [c.number for c in s.children]) for s in config.sections(r"ip dhcp pool ")] == [
        (18, [19, 20, 21]),
        (22, [23, 24]),
    ]
    assert _tree(config.sections(r"router rip")[0]) == (63, "router rip", [])
    assert _tree(config.sections(r"ephone 3$")[0]) == (
        92, "ephone 3", [(93, "device-security-mode none", []), (94, "mac-address 0090.0C61.85EC", [])]
    )
    assert [c.command for c in config.sections(r"line vty 0 4")[0].children] == ["login"]


def test_corpus_ccx_3845_structure_and_joined_annotations(corpus_dir: Path) -> None:
    config = _corpus(corpus_dir, "running_config__ciscodoc-cmeccx-3845.txt")
    assert not config.complete
    assert config.problems == ["lines that look like two lines joined in publication (lines 337, 339)"]
    assert config.hostname == "sb-sj3-3845-uut1"
    assert len(config.roots) == 110
    voip = config.sections(r"voice service voip")[0]
    assert (voip.number, len(voip.children)) == (44, 9)
    assert _tree(voip.children[-1]) == (53, "sip", [(54, "registrar server expires max 120 min 60", [])])
    pool = config.sections(r"voice register pool 11$")[0]
    assert [c.number for c in pool.children] == [140, 141, 142, 143, 144, 145]
    telephony = config.sections(r"telephony-service")[0]
    assert (telephony.number, len(telephony.children)) == (335, 16)
    # "max-ephones 240" was eaten by the annotation on line 337: nothing may conclude from its absence.
    assert config.anywhere(r"max-ephones") == []
    assert [(s.number, [c.number for c in s.children]) for s in config.sections(r"line ")] == [
        (567, [568, 569]),
        (570, [571]),
        (572, [573, 574, 575, 576, 577]),
        (578, [579, 580]),
    ]
    assert _tree(config.sections(r"vlan internal")[0]) == (208, "vlan internal allocation policy ascending", [])


@pytest.mark.parametrize(
    "name", ["running_config__ciscodoc-cmepresence-3825.txt", "running_config__ciscodoc-cmepresence-3825-detabbed.txt"]
)
def test_corpus_presence_3825_lost_indentation(name: str, corpus_dir: Path) -> None:
    config = _corpus(corpus_dir, name)
    assert not config.complete
    assert config.indentation_lost
    expected = ["sub-mode indentation is lost: sections were rebuilt from known headers"]
    if not name.endswith("-detabbed.txt"):
        expected.insert(0, "lines start with TAB characters (publication artifact) (lines 5, 6, 7 and 211 more)")
    assert config.problems == expected
    assert config.hostname == "CME-3825"
    assert len(config.roots) == 72
    assert _tree(config.sections(r"sip-ua")[0]) == (
        142, "sip-ua", [(143, "authentication username jack password 021201481F", []), (144, "presence enable", [])]
    )
    assert [c.number for c in config.sections(r"presence$")[0].children] == [135, 136, 137, 138, 139, 140]
    assert [c.command for c in config.sections(r"ephone-dn 2 ")[0].children] == [
        "number 2009",
        "allow watch",
        "application default",
    ]
    assert [(s.number, [c.number for c in s.children]) for s in config.sections(r"line ")] == [
        (206, [207, 208, 209]),
        (210, [211]),
        (212, [213, 214]),
    ]


def test_corpus_e911_no_indentation_and_joined_lines(corpus_dir: Path) -> None:
    config = _corpus(corpus_dir, "running_config__ciscodoc-cmee911-2821-noindent.txt")
    assert not config.complete
    assert config.indentation_lost
    assert config.problems == [
        "sub-mode indentation is lost: sections were rebuilt from known headers",
        "lines that look like two lines joined in publication (lines 95, 99, 105 and 3 more)",
    ]
    assert config.hostname == "rm-uut3-2821"
    assert len(config.roots) == 92
    # The one line that kept a leading space stays in its pool.
    assert [c.number for c in config.sections(r"ip dhcp pool sip-phone1")[0].children] == [42, 43, 44, 45]
    assert [c.command for c in config.sections(r"controller T1 0/2/0")[0].children] == [
        "framing esf", "clock source internal", "linecode b8zs", "ds0-group 1 timeslots 2 type e&m-immediate-start"
    ]
    assert [c.number for c in config.sections(r"interface BRI0/3/0")[0].children] == [178, 179, 180, 181, 182, 183, 184]
    assert [(s.number, [c.number for c in s.children]) for s in config.sections(r"line ")] == [
        (367, [368]),
        (369, []),
        (370, [371]),
    ]


def test_corpus_ctl_capf_partial(corpus_dir: Path) -> None:
    config = _corpus(corpus_dir, "running_config_partial__ciscodoc-cmeauth-ctl-capf-example.txt")
    assert not config.complete
    assert config.problems == [
        "lines start with TAB characters (publication artifact) (lines 44, 45, 46 and 122 more)",
        "no final 'end' line: the output was cut off",
        "lines that look like two lines joined in publication (lines 6, 11)",
        "elision marks ('...'): part of the config was left out in publication (lines 52, 56, 61 and 3 more)",
        "a section is printed more than once: captures joined? (line 7)",
    ]
    chain = config.sections(r"crypto pki certificate chain cmeserver")[0]
    assert [_tree(c)[:2] for c in chain.children] == [(50, "certificate 1B"), (54, "certificate ca 01")]
    assert [c.number for c in chain.children[0].children] == [51, 52, 53]
    assert chain.children[0].children[-1].command == "quit"
    # The TAB-indented block keeps its own relative indentation.
    assert [c.number for c in config.sections(r"crypto pki trustpoint iosra")[0].children] == [44, 45, 46]
    assert [c.number for c in config.sections(r"credentials$")[0].children] == [79, 80, 81]
    assert [(s.number, len(s.children)) for s in config.sections(r"ephone \d")] == [
        (121, 5), (129, 6), (138, 6), (147, 6), (156, 4), (163, 4)
    ]


def test_corpus_partial_fragments(corpus_dir: Path) -> None:
    cipc = _corpus(corpus_dir, "running_config_partial__gh-3725-cme-cipc-12.4-15-T14.txt")
    assert cipc.problems == [
        "indented lines outside any section (line 53)",
        "no final 'end' line: the output was cut off",
    ]
    assert [c.number for c in cipc.sections(r"dial-peer voice 1 voip")[0].children] == [54, 55, 56]
    assert [c.number for c in cipc.sections(r"voice register pool 1$")[0].children] == [35, 36, 37, 38, 39]

    vpn = _corpus(corpus_dir, "running_config_partial__ciscodoc-cmevpn-sslvpn-phone.txt")
    assert vpn.problems == [
        "no final 'end' line: the output was cut off",
        "a section is printed more than once: captures joined? (lines 36, 39)",
    ]
    assert [(c.number, len(c.children)) for c in vpn.sections(r"voice service voip")[0].children] == [(2, 2), (5, 1)]

    nikitina = _corpus(corpus_dir, "running_config_partial__gh-itmo-nikitina-lab2-packettracer-2811.txt")
    assert nikitina.problems == ["no final 'end' line: the output was cut off"]
    assert [c.number for c in nikitina.sections(r"line vty 0 4")[0].children] == [82, 83, 84]

    streeter = _corpus(corpus_dir, "running_config_partial__gh-josephstreeter-2801-cme.txt")
    assert streeter.indentation_lost
    assert streeter.problems == [
        "sub-mode indentation is lost: sections were rebuilt from known headers",
        "no final 'end' line: the output was cut off",
    ]
    assert [(s.number, len(s.children)) for s in streeter.roots] == [
        (1, 5), (8, 2), (12, 14), (28, 6), (36, 6), (44, 5), (51, 4), (57, 4)
    ]
