"""The IOS grammar cmelive knows (cmelive.ios_commands), and every remediation line checked against it.

Every line a check proposes — its catalog example, and what it builds over every fixture, every bundled
example and every corpus config — must be a command form of the grammar, in the mode it is typed in;
the negative cases show the reasons a wrong line gets.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest
import yaml

from cmelive.audit import audit_snapshot, run_check
from cmelive.checks import all_checks
from cmelive.commands import AUDIT_COMMANDS, RUNNING_CONFIG, file_name
from cmelive.ios_commands import (
    ARGUMENT_KINDS,
    FORMS,
    check_config_lines,
    forms_for,
    parse_version,
    unconfirmed_forms,
    version_problems,
)
from cmelive.masking import mask_line
from cmelive.policy import Policy
from cmelive.snapshot import read_snapshot
from cmelive.state import DeviceState

from .conftest import CORPUS, FIXTURES, REPO

FIXTURE_CASES = sorted((FIXTURES / "checks").glob("*/*/expected.yml"))
EXAMPLES = sorted(p for p in (REPO / "src" / "cmelive" / "examples").iterdir() if p.is_dir())
CORPUS_CONFIGS = sorted(CORPUS.glob("running_config*.txt")) if CORPUS.is_dir() else []


def _problems(results: Iterable[tuple[str, tuple[str, ...]]]) -> list[str]:
    return [f"{check}: {problem}" for check, remediation in results
            for problem in check_config_lines(list(remediation))]


# -- every remediation line cmelive can write is in the grammar -----------------------------------------


@pytest.mark.parametrize("spec", all_checks(), ids=lambda s: s.id)
def test_catalog_remediation_example_is_in_the_grammar(spec: object) -> None:
    from cmelive.checks.base import CheckSpec

    assert isinstance(spec, CheckSpec)
    assert spec.remediation_example
    assert _problems([(spec.id, spec.remediation_example)]) == []


@pytest.mark.parametrize("expected_file", FIXTURE_CASES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_every_check_remediation_over_a_fixture_is_in_the_grammar(expected_file: Path) -> None:
    expected = yaml.safe_load(expected_file.read_text(encoding="utf-8"))
    policy = Policy()
    for key, value in (expected.get("policy") or {}).items():
        setattr(policy, key, value)
    state = DeviceState(read_snapshot(expected_file.parent), policy)
    results = [run_check(spec, state) for spec in all_checks()]
    assert _problems((r.check, r.remediation) for r in results) == []
    release = _release(expected_file.parent)
    if release is not None:
        # Nothing proposed that the router's release does not have (CME-ACC-08 proposed the named
        # "tacacs server" block to IOS 12.4).
        assert [f"{r.check}: {p}" for r in results for p in version_problems(list(r.remediation), release)] == []


def _release(snapshot: Path) -> str | None:
    """The router's release as its snapshot shows it: show version's, else the config's ``version``."""
    for name, pattern in (("show_version.txt", r"Version (\d+\.\d+\S*)"),
                          ("show_running-config.txt", r"^version (\d+\.\d+\S*)")):
        path = snapshot / name
        if path.is_file():
            found = re.search(pattern, path.read_text(encoding="utf-8", errors="replace"), re.MULTILINE)
            if found:
                return found.group(1).rstrip(",")
    return None


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_remediation_over_a_bundled_example_is_in_the_grammar(example: Path) -> None:
    report = audit_snapshot(read_snapshot(example))
    assert any(r.remediation for r in report.results) or example.name == "secure-cme"
    assert _problems((r.check, r.remediation) for r in report.results) == []


@pytest.mark.parametrize("config", CORPUS_CONFIGS, ids=lambda p: p.name)
def test_every_remediation_over_a_corpus_config_is_in_the_grammar(config: Path, tmp_path: Path) -> None:
    shutil.copy(config, tmp_path / file_name(RUNNING_CONFIG))
    for command in AUDIT_COMMANDS:
        stem = file_name(command)[: -len(".txt")]
        found = sorted(CORPUS.glob(f"{stem}__*.txt")) if command != RUNNING_CONFIG else []
        if found:
            shutil.copy(found[0], tmp_path / f"{stem}.txt")
    report = audit_snapshot(read_snapshot(tmp_path))
    assert _problems((r.check, r.remediation) for r in report.results) == []
    # The corpus's show version belongs to another router: the config's own "version" line decides.
    found = re.search(r"^version (\d+\.\d+)", config.read_text(encoding="utf-8", errors="replace"), re.MULTILINE)
    release = found.group(1) if found else None
    if release is not None:
        assert [p for r in report.results for p in version_problems(list(r.remediation), release)] == []


@pytest.mark.parametrize("expected_file", FIXTURE_CASES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_remediation_placeholders_survive_masking(expected_file: Path) -> None:
    # A placeholder masking does not recognise reaches the user as "<masked>" (it did for
    # CME-TLS-05's "capf-auth-str <4-to-10-digit-string>").
    expected = yaml.safe_load(expected_file.read_text(encoding="utf-8"))
    for line in expected.get("remediation") or []:
        assert mask_line(line) == line, line


# -- negative cases: each wrong line is caught, with a reason that says what is wrong ----------------------


def _reason(*lines: str) -> str:
    problems = check_config_lines(list(lines))
    assert len(problems) == 1, problems
    return problems[0].reason


def test_hash_type_with_a_clear_text_placeholder_is_caught() -> None:
    assert "hash" in _reason("enable secret 5 <new-secret>")
    assert "hash" in _reason("username joe privilege 15 secret 9 <new-secret>")
    assert check_config_lines(["enable secret <new-secret>", "username joe privilege 15 secret <new-secret>",
                               "enable secret 9 $9$abcdefghijklmn$opqrstuvwxyz0123456789ABCDEFGHIJKLmnopqrstu"]) == []


def test_clear_text_where_a_hash_is_given_is_caught() -> None:
    assert "is a hash" in _reason("enable secret 0 $1$abcd$efghijklmnopqrstuv")


def test_web_admin_secret_5_takes_the_clear_text_as_the_cme_command_reference_gives_it() -> None:
    # The CME command reference (web admin system): "secret 0" saves the string as plain text in the
    # running-config, "secret 5" takes the clear text and saves its MD5 hash ("web admin system name user1
    # secret 5 pw234567"), and the running-config's "secret 5 $1$..." reads back. CME-GUI-06 proposed
    # "secret 0 <new-gui-password>" (from memory), which would leave the new password in clear text.
    service = "telephony-service"
    assert check_config_lines([service, " web admin system name admin secret 5 <new-gui-password>"]) == []
    assert check_config_lines([service, " web admin system name user1 secret 5 $1$TCyK$OU/NSQ/VtAU2ibHdi8Uau"]) == []
    assert check_config_lines([service, " web admin system secret 5 <new-gui-password>"]) == []  # name optional
    assert check_config_lines([service, " web admin system secret 0 <new-gui-password>"]) == []  # legal, but clear
    web = [form for form in FORMS if form.syntax.startswith("web admin system")]
    assert len(web) == 1 and "unencrypted plain text" in web[0].note and web[0].confirmed_in


def test_web_admin_customer_without_a_name_is_caught() -> None:
    assert "'name'" in _reason("telephony-service", " web admin customer secret 5 <new-gui-password>")
    assert check_config_lines(["telephony-service", " web admin customer name desk secret 5 <new-gui-password>"]) == []


def test_wrong_keyword_order_is_caught() -> None:
    assert _reason("snmp-server community <new-community> 10 RO") == \
        "word 4 ('10'): expected 'view' or 'ro' or 'rw' or 'ipv6' here"
    assert _reason("line vty 0 4", " access-class in 10") == "word 3 ('10'): expected 'in' or 'out' here"
    assert "'label'" in _reason("crypto key generate rsa general-keys modulus 2048 label SSH")
    assert "'block'" in _reason("telephony-service", " after-hours pattern block 1 9011")


def test_unknown_command_and_wrong_mode_are_caught() -> None:
    assert _reason("frobnicate the router") == "'frobnicate' is not a global command cmelive knows"
    assert _reason("login local") == "'login' is not a global command cmelive knows (it belongs to line mode)"
    assert "ephone" in _reason("telephony-service", " mac-address 0030.94C3.8724")
    assert "no command before it opens a sub-mode" in _reason(" transport input ssh")


def test_bad_values_and_masked_values_are_caught() -> None:
    assert "not an IPv4 address" in _reason("ntp server 10.1.1")
    assert "outside 1-99" in _reason("access-list 200 permit any")
    assert "hides a value" in _reason("snmp-server community <masked> RO")
    assert "not a placeholder" in _reason("ephone 1", " capf-auth-str <4-to-10-digit-string>")
    assert "keyword" not in _reason("interface GigabitEthernet0/0", " ip access-group 101 <direction>")


def test_script_shape_no_forms_comments_and_sub_modes() -> None:
    script = [
        "! comments and blank lines are skipped",
        "",
        "no username joe",
        "no enable password level 3",
        "voice service voip",
        " ip address trusted authenticate",
        " ip address trusted list",
        "  no ipv4 0.0.0.0 0.0.0.0",
        "ip access-list extended OUTSIDE-IN",
        " 9 deny tcp any any eq 2000",
        " remark everything else as before",
        "interface GigabitEthernet0/0.835",
        " ip access-group OUTSIDE-IN in",
        " no cdp enable",
    ]
    assert check_config_lines(script) == []
    assert check_config_lines(["line vty 0 4", " transport input ssh", " exit", "ip ssh version 2", "end"]) == []
    # A sub-mode ends where the indentation goes back: this line is global again, and wrong there.
    assert _reason("interface GigabitEthernet0/0", "ip access-group 101 in") == (
        "not a global command: it is typed in interface mode (indent it under the command that enters that mode)")


# -- the grammar itself -----------------------------------------------------------------------------------


def test_every_form_has_a_reference_and_a_known_mode() -> None:
    entered = {"global"} | {form.enters for form in FORMS if form.enters}
    for form in FORMS:
        assert form.reference.startswith("Cisco"), form.syntax
        assert form.mode in entered, form
        assert forms_for(form.mode)
        assert form.min_version is None or parse_version(form.min_version) is not None


def test_fixed_forms_record_their_reference_and_clear_text_rule() -> None:
    web = [f for f in FORMS if f.syntax.startswith("web admin")]
    assert len(web) == 2 and all("secret {0 <clear> | 5 {<clear> | <hash>}}" in f.syntax for f in web)
    assert "web admin system" in web[0].reference and "secret 0" in web[0].note
    capf = [f for f in FORMS if f.mode == "ephone" and f.syntax.startswith("capf-auth-str")]
    assert capf and capf[0].reference
    assert {"clear", "hash", "ip", "wildcard"} <= set(ARGUMENT_KINDS)


def test_version_problems() -> None:
    script = ["voice service voip", " ip address trusted authenticate",
              "ip ssh server algorithm kex ecdh-sha2-nistp256", "ip ssh version 2"]
    old = version_problems(script, "12.4(24)T4")
    assert [p.line for p in old] == [2, 3]
    assert "15.1(2)T" in old[0].reason and "12.4(24)T4" in old[0].reason
    assert [p.line for p in version_problems(script, "15.1(4)M6")] == [3]
    assert version_problems(script, "17.3.4a") == []
    assert version_problems(script, "unreadable") == []
    # A config's "version 15.1" has no rebuild: weighed by major.minor only.
    assert [p.line for p in version_problems(script, "15.1")] == [3]
    assert [p.line for p in version_problems(["tacacs server TAC"], "12.4")] == [1]
    assert parse_version("Version 15.1(4)M6") == (15, 1, 4)
    assert parse_version("16.9.4") == (16, 9, 4)


# -- where each form comes from (issue 14: every line checked against Cisco's command references) ------------


def test_every_form_names_its_reference_and_whether_a_stored_source_confirmed_it() -> None:
    for form in FORMS:
        assert form.reference.strip(), form.syntax
        assert form.confirmed_in is None or re.fullmatch(r"https?://\S+", form.confirmed_in), form.syntax
    unconfirmed = unconfirmed_forms()
    assert set(unconfirmed) == {form for form in FORMS if form.confirmed_in is None}
    # Still without a stored Cisco text, and so listed: secret types 8/9, the SSH algorithm lists.
    assert all(any(f"{kind} <hash>" in form.syntax for form in unconfirmed) for kind in ("8", "9"))
    assert any(form.syntax.startswith("ip ssh server algorithm") for form in unconfirmed)
    # The named TACACS+ block's syntax is confirmed, its first release is not: the note says so.
    named = [form for form in FORMS if form.syntax == "tacacs server <name>"]
    assert named and named[0].confirmed_in and "its first release is not" in named[0].note


# Issue 14: how many forms a stored copy of Cisco's documentation confirms. The number may only grow: a
# form that loses its source (or a new form without one) makes this fail until the count is restated.
CONFIRMED_FORMS = 119


def test_the_number_of_confirmed_forms_is_stated() -> None:
    confirmed = [form for form in FORMS if form.confirmed_in is not None]
    assert len(confirmed) == CONFIRMED_FORMS, f"{len(confirmed)} of {len(FORMS)} forms are confirmed"


def test_every_form_confirmed_here_quotes_the_line_it_was_read_in() -> None:
    # Forms confirmed before the quotes were recorded (issue 14's first pass) carry no quote; every later
    # one quotes the syntax line or example of the page its address names.
    unquoted = {form.syntax.split()[0] for form in FORMS if form.confirmed_in and not form.quote}
    assert unquoted <= {"ip", "crypto", "transport", "snmp-server"}, unquoted
    for form in FORMS:
        if form.quote:
            assert form.confirmed_in, form.syntax
            # The quote is the command itself (its first keyword), or an example that names it.
            first = form.syntax.split()[0].strip("[{<")
            assert first in form.quote.lower() or form.syntax.startswith(("[", "ip source-address")), form.syntax


@pytest.mark.parametrize("syntax_start", [
    "after-hours block pattern",
    "ip source-address",
    "crypto key generate rsa",
    "ip inspect name",
    "ip address trusted list",
    "ipv4 <ip>",
    "auto-reg-ephone",
    "ip access-list resequence",
])
def test_forms_read_in_a_stored_cisco_text_say_where(syntax_start: str) -> None:
    forms = [form for form in FORMS if form.syntax.startswith(syntax_start)]
    assert forms and all(form.confirmed_in for form in forms)


def test_the_sequence_numbering_module_s_lines_fit_their_forms() -> None:
    # The feature module's own examples (SEEN_IOS_ACL_SEQ_EXAMPLES), numbered list and named standard list.
    assert check_config_lines(["ip access-list resequence 150 1 2"]) == []
    assert check_config_lines(["ip access-list standard tryon", " 15 permit 10.5.5.5 0.0.0.255"]) == []
    assert check_config_lines(["ip access-list resequence 150 1 2147483648"])  # past the largest number
    # SEEN_IOS_ACL_REMARK: remarks go in "any IP standard or extended ACL", by 'remark' in a named list.
    assert check_config_lines(["ip access-list standard tryon", " remark Permit only Jones workstation through",
                               " permit 10.5.5.5 0.0.0.255"]) == []
    standard = [form for form in FORMS if form.mode == "acl-standard" and "permit" in form.syntax]
    assert standard and standard[0].confirmed_in


def test_line_passwords_and_interface_descriptions_as_cisco_s_configurations_print_them() -> None:
    # SEEN_SIP_MWI and SEEN_TAC_VG224 (line passwords), SEEN_SIP_RFC (an interface description).
    # The guide writes 'password 7 password3' with a word standing in for the type-7 text; a real one is hex.
    assert check_config_lines(["line vty 0 4", " password 7 094F471A1A0A", " login"]) == []
    assert check_config_lines(["line vty 0 4", " password ww", " login"]) == []
    assert check_config_lines(["interface Ethernet0/0", " description CentreComm Hub port 9 in PP070"]) == []
    assert check_config_lines(["line vty 0 4", " password 7 <new-secret>"])  # type 7 takes the encrypted text


def test_aaa_accounting_takes_what_the_command_reference_gives() -> None:
    # SEEN_SDWAN_AAA: {... | commands level} [default] {start-stop | stop-only} group group-name, level 0-15.
    assert check_config_lines(["aaa accounting commands 15 default start-stop group tacacs+"]) == []
    assert check_config_lines(["aaa accounting commands 0 default stop-only group TACACS-GRP"]) == []
    assert check_config_lines(["aaa accounting commands 16 default start-stop group tacacs+"])
    # Neither 'none' nor 'broadcast' is in the reference: the grammar does not take them.
    assert check_config_lines(["aaa accounting commands 15 default none group tacacs+"])
    assert check_config_lines(["aaa accounting exec default start-stop broadcast group tacacs+"])
    assert check_config_lines(["logging on"]) == []


def test_username_secret_without_a_type_is_the_reference_s_own_form() -> None:
    # SEEN_IOS_SEC_CR_T2: "username name [secret {0 | 5 | password}]" and "username name [privilege level]".
    typeless = [form for form in FORMS if form.syntax.startswith("username <name> [privilege <num:0-15>] secret {[0]")]
    assert typeless and typeless[0].confirmed_in and "{0 | 5 | password}" in typeless[0].quote
    for line in ("username joe secret <new-secret>", "username joe secret 0 <new-secret>",
                 "username joe privilege 15 secret <new-secret>", "username joe privilege 15"):
        assert check_config_lines([line]) == [], line
    # Types 8 and 9 stay listed as unconfirmed; their form no longer carries the type-less clear text.
    nine = [form for form in unconfirmed_forms() if "9 <hash>" in form.syntax and form.syntax.startswith("username")]
    assert nine and "<clear>" not in nine[0].syntax


def test_after_hours_block_pattern_tags_are_1_to_32_as_cme_takes_them() -> None:
    service = "telephony-service"
    assert check_config_lines([service, " after-hours block pattern 32 9011 7-24"]) == []
    assert check_config_lines([service, " after-hours block pattern <free-block-tag> 9011"]) == []
    problems = check_config_lines([service, " after-hours block pattern 33 9011"])
    assert len(problems) == 1 and "33 is outside 1-32" in str(problems[0])


def test_ip_source_address_takes_rehome_after_secondary_and_the_match_keyword_last() -> None:
    service = "telephony-service"
    good = " ip source-address 127.0.0.1 port 2000 secondary 127.0.0.2 rehome 120 strict-match"
    assert check_config_lines([service, good]) == []
    assert len(check_config_lines([service, " ip source-address 127.0.0.1 strict-match port 2000"])) == 1


# -- forms Cisco's references corrected (issue 14) --------------------------------------------------------


def test_cnf_file_has_no_pertype_keyword() -> None:
    # CME command reference: "cnf-file { perphonetype | perphone }".
    service = "telephony-service"
    assert check_config_lines([service, " cnf-file perphone", " cnf-file perphonetype"]) == []
    assert "'perphone' or 'perphonetype'" in _reason(service, " cnf-file pertype")


def test_ephone_codec_takes_the_reference_codecs_only() -> None:
    # CME command reference, codec (ephone): "codec { g711ulaw | g722r64 | g729r8 [ dspfarm-assist ] | ilbc }".
    assert check_config_lines(["ephone 7", " codec g729r8", " codec g729r8 dspfarm-assist", " codec ilbc"]) == []
    assert "word 2 ('g711alaw')" in _reason("ephone 7", " codec g711alaw")
    assert "word 2 ('g729ar8')" in _reason("ephone 7", " codec g729ar8")


def test_capf_server_sets_pins_with_auth_string_and_capf_auth_str_is_an_ephone_command() -> None:
    # The CME guide's "Configure the CAPF Server": auth-string {delete | generate} {all | ephone-tag}
    # [digit-string]; capf-auth-str is typed in ephone mode only.
    assert "ephone mode" in _reason("capf-server", " capf-auth-str <auth-string-of-4-to-10-digits>")
    assert check_config_lines(["capf-server", " auth-string generate all", " auth-string generate 7 2734",
                               " cert-oper upgrade all", " trustpoint-label capf-server",
                               " cert-enroll-trustpoint laverda-ca password 1 1511021F07257A767B",
                               " source-addr 127.0.0.1", " auth-mode auth-string"]) == []
    assert check_config_lines(["ephone 7", " capf-auth-str <auth-string-of-4-to-10-digits>",
                               " cert-oper upgrade auth-mode auth-string"]) == []
    assert "ephone mode" in _reason("capf-server", " cert-oper upgrade auth-mode auth-string")


def test_auto_reg_ephone_is_in_12_4_9_t_as_the_reference_gives_it() -> None:
    # CME command reference, auto-reg-ephone: introduced in 12.4(4)XC (CME 4.0), integrated into 12.4(9)T.
    script = ["telephony-service", " no auto-reg-ephone", " auto-reg-ephone"]
    assert version_problems(script, "12.4(9)T") == []
    assert [p.line for p in version_problems(script, "12.4(4)T")] == [3]


def test_mtp_takes_no_argument_or_video_only_or_both() -> None:
    assert check_config_lines(["ephone 7", " mtp", " mtp both", " mtp video-only"]) == []


def test_enable_password_takes_type_7_only_as_the_reference_gives_it() -> None:
    # "Currently the only encryption type available is 7"; levels 0 through 15.
    assert check_config_lines(["enable password level 0 <new-password>", "enable password 7 094F471A1A0A"]) == []
    assert "encryption type" in _reason("enable password 0 <new-password>")


def test_tacacs_server_key_has_its_own_line_as_the_cme_srnd_writes_it() -> None:
    # CME SRND, Security Best Practices: "tacacs-server host 10.17.1.2" then "tacacs-server key xyz". CME-ACC-08
    # (on 12.x) and CME-GUI-07 wrote "tacacs-server host <ip> key <shared-key>"; they now write the two lines,
    # both confirmed.
    script = ["tacacs-server host <tacacs-server-ip>", "tacacs-server key <shared-key>"]
    assert check_config_lines(script) == []
    confirmed = {form.syntax for form in FORMS if form.confirmed_in}
    assert {"tacacs-server host <ip>", "tacacs-server key <clear>"} <= confirmed


def test_the_per_host_tacacs_key_takes_no_type_digit() -> None:
    # SEEN_IOS_TACACS_SERVER_HOST: "tacacs-server host hostname [...] [key string]": the key is a plain string.
    assert check_config_lines(["tacacs-server host <tacacs-server-ip> key <shared-key>"]) == []
    assert check_config_lines(["tacacs-server host 127.0.0.9 key 0 <shared-key>"])
    assert "tacacs-server host <ip> key <clear>" in {form.syntax for form in FORMS if form.confirmed_in}


def test_rsa_modulus_range_is_the_security_references() -> None:
    # Security Command Reference, crypto key generate rsa: "The range of a CA key modulus is from 350 to 4096 bits".
    assert check_config_lines(["crypto key generate rsa general-keys label r1-SSH modulus 350"]) == []
    assert "349 is outside 350-4096" in _reason("crypto key generate rsa modulus 349")
