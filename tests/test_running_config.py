"""The running-config parser: exact trees for clean captures, honest ``problems`` for damaged ones.

Small inline configs pin each rule with exact line numbers; the shared corpus checks that real
(and really damaged) captures parse without an exception and come out as described in SOURCES.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cmelive.parsing import ios_order
from cmelive.parsing.damage import DamageKind
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
version 15.1
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
        (1, "version 15.1", []),
        (
            2,
            "router bgp 65000",
            [
                (3, "neighbor 10.0.0.2 remote-as 65001", []),
                (5, "address-family ipv4", [(6, "network 10.0.0.0", [])]),
                (7, "exit-address-family", []),
            ],
        ),
        (9, "stray-indented-line", []),
        (10, "end", []),
    ]
    assert config.problems == ["indented lines outside any section (line 9)"]
    # A sub-mode line without its section: a query it could answer cannot conclude from absence.
    assert [(u.number, u.texts) for u in config.damage[0].unsure] == [(9, ("stray-indented-line",))]


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
    config = parse_running_config("version 15.1\nhostname R2\ninterface Vlan1\n no ip address\nend\n\n\n")
    assert config.complete
    assert _roots(config) == [
        (1, "version 15.1", []),
        (2, "hostname R2", []),
        (3, "interface Vlan1", [(4, "no ip address", [])]),
        (5, "end", []),
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
    # (Not a capture IOS could print: no "version", and the chain before "hostname".)
    assert [d.kind for d in config.damage] == [DamageKind.OUT_OF_ORDER]
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
version 15.1
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
        (1, "version 15.1", []),
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
    config = parse_running_config("version 15.1\nbanner motd ^C\nWelcome\nend\n")
    assert not config.complete
    assert _problem(config, "banner never ends") == (
        "a banner never ends: the rest of the capture was read as banner text (line 2)"
    )
    assert _problem(config, "no final 'end' line").startswith("no final 'end' line: the output was cut off after line 4")
    assert _roots(config) == [(1, "version 15.1", []), (2, "banner motd ^C", [(3, "Welcome", []), (4, "end", [])])]
    # What IOS prints from the banner on may be missing (lines, ntp), not what it prints before it.
    banner = next(d for d in config.damage if d.kind == DamageKind.UNCLOSED_BANNER)
    assert banner.bands == ios_order.hidden_after(ios_order.BEFORE_LINES)


# --- what makes a capture incomplete ----------------------------------------------------------------


def test_no_end_means_cut_off_and_says_what_the_cut_can_hide() -> None:
    config = parse_running_config("R1#show run\nversion 15.1\nhostname R1\ninterface Gi0/0\n ip address 10.0.0.1 255.0.0.0\n")
    assert not config.complete
    assert config.problems == [
        "no final 'end' line: the output was cut off after line 5 (what IOS prints from interfaces on may be missing)"
    ]
    assert config.damage_summary == ["cut after line 5"]
    [cut] = config.damage
    assert cut.bands == ios_order.hidden_after(ios_order.INTERFACES)
    # The last interface may have lost its last lines too.
    assert cut.sections == ((4, 5),)
    assert _roots(config) == [
        (2, "version 15.1", []),
        (3, "hostname R1", []),
        (4, "interface Gi0/0", [(5, "ip address 10.0.0.1 255.0.0.0", [])]),
    ]
    # A cut after a "!" has every line of its last section.
    whole_section = parse_running_config("version 15.1\nline vty 0 4\n login\n!\n")
    assert whole_section.damage[0].sections == ()


def test_a_capture_without_version_had_its_head_cut() -> None:
    config = parse_running_config("hostname R1\n!\nenable secret 9 $9$x\n!\nline vty 0 4\n login\n!\nend\n")
    assert config.damage_summary == ["head cut before line 1"]
    [cut] = config.damage
    assert cut.kind == DamageKind.CUT_HEAD
    # Only what IOS prints up to hostname can be missing: version and the service lines.
    assert cut.bands == frozenset({ios_order.VERSION, ios_order.SERVICE, ios_order.HOSTNAME})
    assert config.could_hide(r"(no )?service password-encryption$")
    assert not config.could_hide(r"enable (secret|password) ")
    assert not config.could_hide(r"(no )?ip http (server|secure-server)$")


def test_text_after_end_is_set_aside_unless_it_is_another_capture() -> None:
    junk = parse_running_config(
        "version 15.1\nhostname R1\nend\n\nR1#   rquj5rxn8e\n*Mar  1 00:01:02.345: %SYS-5-CONFIG_I: Configured from console\n"
        "R1#show clock\n12:00:00.000 UTC Mon Jan 1 2024\nR1#\n"
    )
    assert junk.complete
    assert junk.damage_summary == ["log messages set aside", "text after end set aside"]
    assert [root.command for root in junk.roots] == ["version 15.1", "hostname R1", "end"]
    glued = parse_running_config("version 15.1\nhostname R1\nendRouter# show running-config\n")
    assert glued.complete
    assert glued.damage_summary == ["joined lines split (line 3)", "text after end set aside"]
    assert [root.command for root in glued.roots] == ["version 15.1", "hostname R1", "end"]
    second = parse_running_config("version 15.1\nhostname R1\nend\nhostname R2\nend\nsnmp-server community x RO\n")
    assert not second.complete
    assert second.problems == [
        "text after the final 'end' holds configuration: more than one capture? (line 6)",
        "more than one 'end' line: captures joined (line 3)",
    ]
    assert all(d.everything for d in second.damage)


def test_a_terminal_log_before_the_capture_is_set_aside() -> None:
    config = parse_running_config(
        "login as: admin\nUsing keyboard-interactive authentication.\nPassword:\nAccess denied\n"
        "R1#show config\nUsing 2016 out of 262136 bytes\n!\nversion 15.2\nhostname R1\nend\n"
    )
    assert config.complete
    assert config.damage_summary == ["text before the capture set aside"]
    assert [root.command for root in config.roots] == ["version 15.2", "hostname R1", "end"]


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
        assert parse_running_config(f"R1#{command}\nversion 15.1\nhostname R1\nend\n").complete, command


def test_a_capture_indented_with_tabs_as_a_whole_is_repaired() -> None:
    text = "version 15.1\n\t\tinterface Gi0/0\n\t\t ip address 10.0.0.1 255.0.0.0\n\t\t!\n\t\tend\n"
    config = parse_running_config(text)
    assert config.complete
    assert config.problems == ["lines start with TAB characters (publication artifact) (lines 2, 3, 4 and 1 more)"]
    assert config.damage_summary == ["TAB layout repaired"]
    assert _roots(config) == [
        (1, "version 15.1", []),
        (2, "interface Gi0/0", [(3, "ip address 10.0.0.1 255.0.0.0", [])]),
        (5, "end", []),
    ]


def test_a_stray_tab_inside_a_section_stays_in_it() -> None:
    text = (
        "version 15.1\nephone 1\n mac-address 0011.2233.4455\n\ttype 7960\n button 1:1\n!\n"
        "telephony-service\n\tauto-reg-ephone\n\tmax-ephones 5\n!\nend\n"
    )
    config = parse_running_config(text)
    assert config.complete and config.damage_summary == ["TAB layout repaired"]
    assert _roots(config) == [
        (1, "version 15.1", []),
        (2, "ephone 1", [(3, "mac-address 0011.2233.4455", []), (4, "type 7960", []), (5, "button 1:1", [])]),
        # TAB-led lines right under a header are its sub-mode lines.
        (7, "telephony-service", [(8, "auto-reg-ephone", []), (9, "max-ephones 5", [])]),
        (11, "end", []),
    ]


def test_a_tab_line_with_no_section_to_belong_to_is_a_guess() -> None:
    config = parse_running_config("version 15.1\nhostname R1\n!\n\tpassword cisco\n!\nend\n")
    assert not config.complete
    assert config.damage_summary == ["TAB layout: lines placed by guess"]
    assert [(u.number, u.texts) for u in config.damage[0].unsure] == [(4, ("password cisco",))]


LOST_INDENTATION = """\
version 15.1
hostname R1
!
voice register pool 1
id mac 0011.2233.4455
username 2001 password secret1
!
controller T1 0/1/0
framing esf
clock source internal
linecode b8zs
!
username admin privilege 15 secret 9 $9$x
interface Serial0/1/0:23
no ip address
isdn switch-type primary-5ess
no cdp enable
isdn switch-type basic-net3
!
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
username "jdoe" password 1234
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


def test_lost_indentation_is_rebuilt_from_the_grammar_and_flagged() -> None:
    config = parse_running_config(LOST_INDENTATION)
    assert config.indentation_lost
    assert _roots(config) == [
        (1, "version 15.1", []),
        (2, "hostname R1", []),
        (4, "voice register pool 1", [(5, "id mac 0011.2233.4455", []), (6, "username 2001 password secret1", [])]),
        (
            8,
            "controller T1 0/1/0",
            [(9, "framing esf", []), (10, "clock source internal", []), (11, "linecode b8zs", [])],
        ),
        (13, "username admin privilege 15 secret 9 $9$x", []),
        (
            14,
            "interface Serial0/1/0:23",
            [
                (15, "no ip address", []),
                (16, "isdn switch-type primary-5ess", []),
                (17, "no cdp enable", []),
                # A global "isdn switch-type" cannot be told from the interface one without indentation.
                (18, "isdn switch-type basic-net3", []),
            ],
        ),
        (20, "presence", [(21, "server 10.1.1.4", []), (22, "presence call-list", [])]),
        (23, "ephone-template 1", [(24, "softkeys idle Redial Newcall", [])]),
        (
            25,
            "ephone-dn 2 dual-line",
            [(26, "number 2009", []), (27, "application default", []), (28, "ephone-dn-template 3", [])],
        ),
        (
            29,
            "ephone 7",
            [
                (30, "ephone-template 1", []),
                (31, "mac-address 0011.2233.4466", []),
                # IOS prints the global usernames long before the ephones: this one is the phone's.
                (32, 'username "jdoe" password 1234', []),
            ],
        ),
        (
            33,
            "line con 0",
            [(34, "logging synchronous", []), (35, "privilege level 15", []), (36, "password lab", [])],
        ),
        (37, "line vty 0 4", [(38, "login", [])]),
        (
            40,
            "crypto pki certificate chain TP",
            [(41, "certificate ca 01", [(42, "3082026B 308201D4", []), (43, "quit", [])])],
        ),
        (45, "end", []),
    ]
    # The pool's username is printed in the same stretch as the global ones: only that line is a
    # guess, and only a username query can be answered by it.
    assert config.damage_summary == ["layout rebuilt, 1 line placed by guess"]
    assert [(u.number, u.texts) for u in config.damage[0].unsure] == [(6, ("username 2001 password secret1",))]
    assert config.could_hide(r"username \S+")
    assert not config.could_hide(r"enable (secret|password) ")
    assert not config.could_hide(r"(no )?ip http (server|secure-server)$")


@pytest.mark.parametrize(
    ("line", "summary", "lines"),
    [
        # A doc note joined on: the command before it stands; what the note hides is a guess.
        (
            " xml user axluser password axlpass 15 <====AXL username and password max-ephones 240",
            "joined lines (line 3)",
            [(1, "xml user axluser password axlpass 15")],
        ),
        (
            " number 1 dn 1 emergency response location 2100 !",
            "joined lines split (line 3)",
            [(1, "number 1 dn 1"), (1, "emergency response location 2100")],
        ),
        (
            " mac-address 0014.F237.E000 emergency response location 2 type 7940",
            "joined lines split (line 3)",
            [(1, "mac-address 0014.F237.E000"), (1, "emergency response location 2"), (1, "type 7940")],
        ),
        (
            " sast2 trustpoint sast2 CTL Client Running on Another Router: Example",
            "joined lines split (line 3)",
            [(1, "sast2 trustpoint sast2")],
        ),
        ("! voice emergency response location 1", "joined lines split (line 3)", [(0, "voice emergency response location 1")]),
        # "emergency response zone" takes an optional tag: is "destination-pattern" one? A guess.
        (
            "dial-peer voice 3111 pots emergency response Zone destination-pattern 9....",
            "joined lines (line 3)",
            [(0, "dial-peer voice 3111 pots"), (1, "emergency response Zone destination-pattern 9....")],
        ),
        ("line vty 0 4 password cisco", "joined lines split (line 3)", [(0, "line vty 0 4"), (1, "password cisco")]),
        # The rest may itself hold two commands ("transport input telnet" and more): a guess.
        (
            " type 7960 button 1:1 mac-address 0011.2233.4455",
            "",
            [(1, "type 7960 button 1:1 mac-address 0011.2233.4455")],
        ),
    ],
)
def test_joined_lines_are_split_where_the_grammar_knows_where_a_command_ends(
    line: str, summary: str, lines: list[tuple[int, str]]
) -> None:
    config = parse_running_config(f"version 15.1\nephone 1\n{line}\n!\nend\n")
    assert config.damage_summary == ([summary] if summary else [])
    found = [(0, root.command) for root in config.roots if root.number == 3]
    found += [(1, child.command) for root in config.roots for child in root.walk() if child.number == 3]
    assert found == lines
    # A joined line that could not be split whole is a guess; one split whole hides nothing.
    assert config.complete is ("split" in summary or not summary)


def test_free_text_and_ordinary_lines_are_not_joined_lines() -> None:
    text = """\
version 15.1
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
        "version 15.1\n\n dial-peer voice 1 voip\n session protocol sipv2\n incoming called-number .\nend\n"
    )
    assert _roots(config) == [
        (1, "version 15.1", []),
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
    # Only the two Packet Tracer captures are intact; the presence example lost its indentation
    # (and, in one copy, got TABs) but the grammar rebuilds every line of it. Every other one is
    # damaged or partial where it can hide configuration, and must say why.
    intact = name.startswith("running_config__gh-itmo-spevak-")
    rebuilt = name.startswith("running_config__ciscodoc-cmepresence-3825")
    assert config.complete is (intact or rebuilt), config.problems
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
    assert config.complete
    assert config.indentation_lost
    expected = ["layout rebuilt"]
    if not name.endswith("-detabbed.txt"):
        expected.insert(0, "TAB layout repaired")
    assert config.damage_summary == expected
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
    assert config.damage_summary == ["joined lines (lines 95, 99, 105 and 3 more)", "layout rebuilt"]
    # Every line the grammar placed; what stays a guess is what two dial-peer lines and a
    # mac-address line carried ("emergency response zone" takes an optional tag).
    [joined] = [d for d in config.damage if d.unsure]
    assert [u.number for u in joined.unsure] == [250, 254]
    assert config.hostname == "rm-uut3-2821"
    # (One root less than the lines at column 0 suggest: "! voice emergency response location 1" is a
    # separator with a header joined on, and the header takes "elin"/"subnet" as its own.)
    assert len(config.roots) == 91
    assert [c.command for c in config.sections(r"voice emergency response location 1$")[0].children] == [
        "elin 1 22222", "subnet 1 10.20.20.0 255.255.255.0"
    ]
    assert [(c.command, [g.command for g in c.children]) for c in config.sections(r"voice service voip")[0].children][
        -1
    ] == ("sip", ["registrar server"])
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
    assert config.damage_summary == [
        "TAB layout repaired",
        "joined lines split (lines 6, 11)",
        "cut after line 168",
        "head cut before line 1",
        "elided (lines 52, 56, 61 and 3 more)",
        "two captures joined",
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
    # The README's blocks were pasted out of IOS's order: any global line may be missing, and the
    # last block, with no "end" after it, may have lost its tail; the sections printed whole stand.
    assert cipc.damage_summary == ["lines outside any section (line 53)", "fragments out of order", "cut after line 72"]
    assert [c.number for c in cipc.sections(r"dial-peer voice 1 voip")[0].children] == [54, 55, 56]
    assert [c.number for c in cipc.sections(r"voice register pool 1$")[0].children] == [35, 36, 37, 38, 39]

    vpn = _corpus(corpus_dir, "running_config_partial__ciscodoc-cmevpn-sslvpn-phone.txt")
    assert vpn.damage_summary == ["fragments out of order", "cut after line 40", "two captures joined"]
    assert [(c.number, len(c.children)) for c in vpn.sections(r"voice service voip")[0].children] == [(2, 2), (5, 1)]

    nikitina = _corpus(corpus_dir, "running_config_partial__gh-itmo-nikitina-lab2-packettracer-2811.txt")
    assert nikitina.damage_summary == ["cut after line 85", "head cut before line 1"]
    # From hostname to line vty: the service lines may be missing, the lines after vty 0 4 too,
    # but not what IOS prints between them (enable, ip http, snmp-server...).
    assert nikitina.could_hide(r"(no )?service password-encryption$")
    assert nikitina.could_hide(r"line vty \d")
    assert not nikitina.could_hide(r"enable (secret|password) ")
    assert not nikitina.could_hide(r"snmp-server community \S+")
    assert [c.number for c in nikitina.sections(r"line vty 0 4")[0].children] == [82, 83, 84]

    streeter = _corpus(corpus_dir, "running_config_partial__gh-josephstreeter-2801-cme.txt")
    assert streeter.indentation_lost
    assert streeter.damage_summary == ["layout rebuilt", "cut after line 61", "head cut before line 1"]
    assert [(s.number, len(s.children)) for s in streeter.roots] == [
        (1, 5), (8, 2), (12, 14), (28, 6), (36, 6), (44, 5), (51, 4), (57, 4)
    ]


# --- doc comments wrapped onto lines without "!" -------------------------------------------------


def test_doc_comment_lines_that_lost_their_bang_are_set_aside() -> None:
    text = """\
version 15.1
!--- The vty lines accept SSH only; the console keeps
its local login for the maintenance team.
line vty 0 4
 transport input ssh
!--- Remote syslog receives the phone registration
logging messages at informational level.
logging host 10.0.0.50
end"""
    config = parse_running_config(text)
    assert config.damage_summary == ["doc comments set aside"]
    assert [root.command for root in config.roots] == ["version 15.1", "line vty 0 4", "logging host 10.0.0.50", "end"]
    # The vty section is not closed by the wrapped comment line.
    assert [c.command for c in config.sections(r"line vty 0 4")[0].children] == ["transport input ssh"]
    # A wrapped line that starts like a command is a guess: only a query it could answer is touched.
    assert config.could_hide(r"logging messages")
    assert not config.could_hide(r"logging host \S")
    assert not config.could_hide(r"enable (secret|password) ")


def test_commands_after_a_comment_are_config() -> None:
    text = "version 15.1\n!--- Configure the web server and its\nip http server\n!--- access list\naccess-list 10 permit any\nend\n"
    config = parse_running_config(text)
    assert config.damage == []
    assert [root.command for root in config.roots] == [
        "version 15.1", "ip http server", "access-list 10 permit any", "end"
    ]


_SMALL = "version 15.1\nservice timestamps log datetime msec\nhostname R1\n!\ninterface Gi0/0\n ip address 10.0.0.1 255.0.0.0\n!\nline vty 0 4\n login local\n!\nend"


def test_code_fences_and_the_blank_lines_between_blocks_are_packaging() -> None:
    # A web page printing one code block per line, indentation lost: fences and the page's spacing go.
    blocks = [line.strip() for line in _SMALL.split("\n")]
    text = "\n\n".join(f"```\n{line}\n```" for line in ["Router# show running-config", *blocks])
    config = parse_running_config(text)
    assert config.indentation_lost
    assert [d.kind for d in config.damage] == [DamageKind.CODE_FENCES, DamageKind.LOST_INDENTATION]
    assert not any(d.hides_anything for d in config.damage)
    assert _tree(config.roots[3]) == (22, "interface Gi0/0", [(26, "ip address 10.0.0.1 255.0.0.0", [])])
    assert config.globals(r"```") == []


def test_the_same_config_printed_twice_is_judged_once() -> None:
    text = f"R1# show running-config\n{_SMALL}R1# show running-config\nBuilding configuration...\n\n{_SMALL}\nR1#"
    config = parse_running_config(text)
    assert [d.kind for d in config.damage] == [DamageKind.REPEATED]
    assert config.damage[0].summary == "printed twice"
    assert not config.damage[0].hides_anything
    assert config.roots[-1].command == "end" and config.roots[-1].number == 12


def test_two_different_configs_after_end_stay_two_captures() -> None:
    other = _SMALL.replace("login local", "no login")
    config = parse_running_config(f"R1# show running-config\n{_SMALL}\nR1# show running-config\n{other}\n")
    assert any(d.kind == DamageKind.SECOND_CAPTURE and d.everything for d in config.damage)


def test_flat_global_word_that_ios_prints_earlier_stays_in_its_section() -> None:
    # "service ..." is a global IOS prints near the top: after a dial-peer it is the dial-peer's line.
    text = (
        "version 12.4\nhostname R1\n!\ninterface Gi0/0\nip address 10.0.0.1 255.0.0.0\n!\n"
        "dial-peer voice 999 voip\nservice EA out-bound\ndestination-pattern 0999\n!\nend"
    )
    config = parse_running_config(text)
    assert config.indentation_lost
    assert _tree(config.sections(r"dial-peer voice ")[0]) == (
        7, "dial-peer voice 999 voip", [(8, "service EA out-bound", []), (9, "destination-pattern 0999", [])]
    )


def test_flat_line_guessed_top_level_after_a_separator_only_doubts_the_section_before_it() -> None:
    text = (
        "version 12.4\nhostname R1\n!\ninterface Gi0/0\nip address 10.0.0.1 255.0.0.0\n!\n"
        "ephone 1\nmac-address 1111.2222.3333\n!\nfrobnicate widgets now\n!\nline vty 0 4\nlogin local\n!\nend"
    )
    config = parse_running_config(text)
    guessed = [line for item in config.damage for line in item.unsure]
    assert [(line.number, line.section) for line in guessed] == [(10, 7)]


def test_fragments_out_of_order_keep_the_insides_of_their_whole_sections() -> None:
    text = (
        "telephony-service\n max-ephones 5\n auto assign 1 to 5\n!\n\n"
        "voice class codec 1\n codec preference 1 g711ulaw\n!\n\n"
        "dial-peer voice 1 pots\n destination-pattern 0T\n"
    )
    config = parse_running_config(text)
    kinds = {d.kind: d for d in config.damage}
    fragments, cut = kinds[DamageKind.OUT_OF_ORDER], kinds[DamageKind.CUT_TAIL]
    assert not fragments.everything and fragments.bands == ios_order.ALL_BANDS
    # Only the last section, with nothing after it, may have lost sub-mode lines.
    assert cut.sections == ((10, 11),)
    assert config.could_hide(r"telephony-service$")


def test_section_header_glued_to_the_show_run_prompt_is_the_first_config_line() -> None:
    text = (
        "Router# show running-config dial-peer voice 7 voip\n"
        "\t   destination-pattern 457\n\t   session target ipv4:127.0.0.9\n\t  !\n"
        "\t  telephony-service\n\t   max-ephones 5\n\t  !\n"
    )
    config = parse_running_config(text)
    kinds = [d.kind for d in config.damage]
    assert DamageKind.FILTERED not in kinds and DamageKind.JOINED_LINES in kinds
    assert _tree(config.roots[0]) == (
        1, "dial-peer voice 7 voip", [(2, "destination-pattern 457", []), (3, "session target ipv4:127.0.0.9", [])]
    )
    # A real filtered view prints the header again: that stays a filtered view.
    filtered = parse_running_config("R1#show running-config interface Gi0/0\ninterface Gi0/0\n ip address 127.0.0.1 255.0.0.0\nend")
    assert any(d.kind == DamageKind.FILTERED for d in filtered.damage)
