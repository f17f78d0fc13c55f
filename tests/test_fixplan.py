"""`cmelive fix`: one coherent change per device, proven by re-auditing the config it produces.

The three clashes of issue 14 (one ACL number for two purposes, two checks writing after-hours
block pattern 1, two inbound ACLs on one WAN interface), the safe order, the placeholders, the
rollback, and the proof on every fixture, bundled example and corpus config.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from cmelive.audit import audit_snapshot
from cmelive.checks.base import CheckResult, Severity, Status
from cmelive.commands import AUDIT_COMMANDS, RUNNING_CONFIG, file_name
from cmelive.examples import example_dir
from cmelive.fixplan.iosconfig import IosConfig
from cmelive.fixplan.plan import FixPlan, build_plan, communities_by_line, plan_commands
from cmelive.fixplan.verify import REGRESSION, Verification, prove, verify_plan
from cmelive.ios_commands import check_config_lines, version_problems
from cmelive.snapshot import read_snapshot

from .conftest import CORPUS, FIXTURES

EXAMPLES = ("secure-cme", "insecure-cme", "plain-ios")


def proven(directory: Path, source: str | None = None) -> tuple[FixPlan, Verification]:
    snapshot = read_snapshot(directory)
    return prove(snapshot, audit_snapshot(snapshot), audit_source=source)


def commands(plan: FixPlan) -> list[str]:
    return plan_commands(plan)


def first(lines: list[str], pattern: str) -> int:
    return next(i for i, line in enumerate(lines) if re.search(pattern, line))


def snapshot_with(tmp_path: Path, example: str, edit: dict[str, str]) -> Path:
    """A copy of a bundled example whose running-config has ``old -> new`` replaced."""
    target = tmp_path / example
    shutil.copytree(example_dir(example), target)
    config_file = target / file_name(RUNNING_CONFIG)
    text = config_file.read_text(encoding="utf-8")
    for old, new in edit.items():
        assert old in text, old
        text = text.replace(old, new)
    config_file.write_text(text, encoding="utf-8")
    return target


# --- clash 1: one ACL number, one purpose -------------------------------------------------------


def test_admin_acl_and_snmp_acl_are_two_free_numbers() -> None:
    plan, proof = proven(example_dir("insecure-cme"), "192.0.2.7")
    lines = commands(plan)
    vty = {m.group(1) for line in lines if (m := re.match(r" access-class (\d+) in", line))}
    gui = {m.group(1) for line in lines if (m := re.match(r"ip http access-class (\d+)", line))}
    snmp = {m.group(1) for line in lines if (m := re.match(r"snmp-server community \S+ R[OW] (\d+)$", line))}
    assert vty == gui == {"10"}  # one admin ACL for the vty lines and the GUI
    assert snmp == {"11"}  # the SNMP managers' own, apart from it
    assert [line for line in lines if line.startswith("access-list 10 ")] == [
        "access-list 10 permit host 192.0.2.7",
        "access-list 10 permit <admin-subnet> <wildcard>",
    ]
    assert [line for line in lines if line.startswith("access-list 11 ")] == ["access-list 11 permit <nms-subnet> <wildcard>"]
    assert proof.holds, proof.table()


def test_the_admin_acl_takes_a_number_free_on_this_router(tmp_path: Path) -> None:
    directory = snapshot_with(tmp_path, "insecure-cme", {"scheduler allocate": "access-list 10 permit 10.99.0.1\nscheduler allocate"})
    plan, proof = proven(directory)
    lines = commands(plan)
    assert not any(line.startswith("access-list 10 ") for line in lines)  # the router's own list is left alone
    assert " access-class 11 in" in lines and "ip http access-class 11" in lines
    assert any(re.match(r"snmp-server community \S+ R[OW] 12$", line) for line in lines)
    assert proof.holds, proof.table()


# --- clash 2: one after-hours numbering ---------------------------------------------------------


def after_hours(lines: list[str]) -> list[tuple[int, str]]:
    return [(int(m.group(1)), m.group(2)) for line in lines if (m := re.match(r"\s*after-hours block pattern (\d+) (\S+)", line))]


def test_after_hours_patterns_of_two_checks_never_share_a_tag() -> None:
    plan, proof = proven(example_dir("insecure-cme"))
    patterns = after_hours(commands(plan))
    tags = [tag for tag, _ in patterns]
    assert len(tags) == len(set(tags)), patterns
    texts = {text for _, text in patterns}
    assert "9011" in texts and "91242" in texts and "91976" in texts  # CME-AH-01's and CME-AH-02's
    future = after_hours(proof.future_config.splitlines())
    assert len(future) == len({tag for tag, _ in future}) == len(patterns)
    assert {row.check: row.verdict for row in proof.rows}["CME-AH-01"] == "fixed"
    assert {row.check: row.verdict for row in proof.rows}["CME-AH-02"] == "fixed"


def test_after_hours_tags_taken_on_the_router_are_not_reused(tmp_path: Path) -> None:
    directory = snapshot_with(
        tmp_path, "insecure-cme", {" transfer-system full-consult": " after-hours block pattern 1 91800\n after-hours block pattern 3 91801\n transfer-system full-consult"}
    )
    plan, proof = proven(directory)
    tags = [tag for tag, _ in after_hours(commands(plan))]
    assert 1 not in tags and 3 not in tags
    assert len(tags) == len(set(tags))
    future = after_hours(proof.future_config.splitlines())
    assert (1, "91800") in future and (3, "91801") in future
    assert proof.holds, proof.table()


# --- clash 3: one inbound filter per WAN interface ----------------------------------------------


def test_one_inbound_acl_per_wan_interface_with_every_deny() -> None:
    plan, proof = proven(example_dir("insecure-cme"))
    lines = commands(plan)
    groups = [line for line in lines if "ip access-group" in line]
    assert groups == [" ip access-group WAN-IN in"]  # not WAN-IN and 101 one after the other
    start = lines.index("ip access-list extended WAN-IN")
    acl = []
    for line in lines[start + 1:]:
        if not line.startswith(" "):
            break
        acl.append(line.strip())
    assert acl.index("permit tcp host 192.0.2.50 any eq 1720") < acl.index("deny tcp any any eq 1720")
    assert "deny tcp any any eq 2000" in acl  # CME-REG-02's deny, in the same list
    assert acl[-1] == "permit ip any any"
    interface = proof.future_config.split("interface FastEthernet0/0", 1)[1].split("\n!", 1)[0]
    assert interface.count("ip access-group") == 1
    verdicts = {row.check: row.verdict for row in proof.rows}
    assert verdicts["CME-REG-02"] == verdicts["CME-FW-02"] == "fixed"


def test_an_existing_inbound_acl_takes_the_denies(tmp_path: Path) -> None:
    directory = snapshot_with(tmp_path, "insecure-cme", {
        " ip address 198.51.100.34 255.255.255.248": " ip address 198.51.100.34 255.255.255.248\n ip access-group EDGE in",
        "scheduler allocate": "ip access-list extended EDGE\n deny ip 198.18.0.0 0.1.255.255 any\n permit ip any any\n!\nscheduler allocate",
    })  # fmt: skip
    plan, proof = proven(directory)
    lines = commands(plan)
    assert not any("ip access-group" in line for line in lines)  # the interface keeps its ACL
    assert "ip access-list resequence EDGE 100 10" in lines
    entries = lines[lines.index("ip access-list extended EDGE") + 1:]
    entries = entries[: next(i for i, line in enumerate(entries) if not line.startswith(" "))]
    assert entries == [" 10 permit tcp host 192.0.2.50 any eq 1720", " 20 deny tcp any any eq 1720",
                       " 30 deny tcp any any eq 2000"]  # fmt: skip
    future = proof.future_config.split("ip access-list extended EDGE\n", 1)[1].split("\n!", 1)[0].splitlines()
    assert [line.strip() for line in future] == [
        "permit tcp host 192.0.2.50 any eq 1720", "deny tcp any any eq 1720", "deny tcp any any eq 2000",
        "deny ip 198.18.0.0 0.1.255.255 any", "permit ip any any",
    ]  # fmt: skip
    assert proof.holds, proof.table()


# --- one RSA key per label ----------------------------------------------------------------------


def failing(check: str, *remediation: str) -> CheckResult:
    return CheckResult(check, check, Severity.HIGH, check.split("-")[1], Status.FAIL, "", "fails", (), remediation)


def test_one_key_generation_per_label_with_the_largest_modulus() -> None:
    running = "hostname r1\nip domain name example.com\n!\nend\n"
    results = [
        failing("CME-ACC-05", "crypto key generate rsa general-keys label r1-SSH modulus 2048", "ip ssh version 2"),
        failing("CME-ACC-11", "crypto key generate rsa general-keys label r1-SSH modulus 4096", "ip ssh rsa keypair-name r1-SSH"),
    ]  # fmt: skip
    plan = build_plan("r1", results, running)
    keys = [line for line in commands(plan) if line.startswith("crypto key generate")]
    assert keys == ["crypto key generate rsa general-keys label r1-SSH modulus 4096"]
    assert commands(plan).index(keys[0]) < commands(plan).index("ip ssh rsa keypair-name r1-SSH")


def test_lines_whose_form_no_cisco_text_confirms_are_listed_to_check_on_the_router() -> None:
    running = "hostname r1\nip domain name example.com\n!\nend\n"
    results = [
        failing("CME-ACC-05", "crypto key generate rsa general-keys label r1-SSH modulus 2048", "ip ssh version 2"),
        failing("CME-ACC-11", "crypto key generate rsa general-keys label r1-SSH modulus 2048",
                "ip ssh rsa keypair-name r1-SSH", "ip ssh dh min size 2048"),
    ]  # fmt: skip
    text = build_plan("r1", results, running).text().splitlines()
    start = text.index("! CHECK ON THE ROUTER FIRST - no Cisco reference text was found for these command forms;")
    listed = text[start + 2 : text.index("!", start)]
    # The two forms still without a stored Cisco source; 'ip ssh version 2' and the key generation have one.
    assert listed == ["!   ip ssh rsa keypair-name r1-SSH", "!   ip ssh dh min size 2048"]
    assert "ip ssh dh min size 2048" in text[start:]  # and the line itself is still in the script


def test_a_plan_of_confirmed_forms_only_has_no_check_first_list() -> None:
    plan, _ = proven(example_dir("insecure-cme"))
    assert "CHECK ON THE ROUTER FIRST" not in plan.text()


# --- safe order, placeholders -------------------------------------------------------------------


def test_the_plan_is_ordered_so_that_no_step_locks_the_engineer_out() -> None:
    plan, _ = proven(example_dir("insecure-cme"), "192.0.2.7")
    lines = commands(plan)
    assert first(lines, r"^ip ssh version 2$") < first(lines, r"^ transport input ssh$")
    assert first(lines, r"^username admin .*secret") < first(lines, r"^ login local$")
    assert first(lines, r"^username admin .*secret") < first(lines, r"^aaa new-model$")
    assert first(lines, r"^access-list 10 permit host 192\.0\.2\.7$") < first(lines, r"^ access-class 10 in$")
    # Within a vty range: the ACL and the login before the transport.
    vty = lines[lines.index("line vty 0 4") + 1: lines.index("line vty 5 15")]
    assert vty.index(" access-class 10 in") < vty.index(" transport input ssh")
    text = plan.text()
    assert "192.0.2.7: the address this audit connected from" in text


def test_placeholders_are_listed_once_at_the_top_and_never_invented() -> None:
    plan, _ = proven(example_dir("insecure-cme"))
    text = plan.text()
    head, body = text.split("! Paste in config mode", 1)
    listed = re.findall(r"^!   (<[^>]+>(?: <wildcard>)?):", head, re.MULTILINE)
    assert len(listed) == len(set(listed))
    used = set(re.findall(r"<[a-z][a-z0-9 .-]*?>", "\n".join(commands(plan))))
    used = {u for u in used if u != "<wildcard>"} | ({"<admin-subnet> <wildcard>"} if "<admin-subnet>" in used else set())
    used.discard("<admin-subnet>")
    used |= {"<nms-subnet> <wildcard>"} if "<nms-subnet>" in used else set()
    used.discard("<nms-subnet>")
    assert used <= set(listed), used - set(listed)
    # Distinct secrets get distinct names: a shared <new-secret> would read as one value for all.
    assert "<new-secret>" not in body
    assert {"<new-enable-secret>", "<new-secret-for-admin>", "<new-secret-for-tech>"} <= set(listed)
    assert "<your-address>" in listed  # no --from, no live session: the plan asks


def test_plan_files_are_masked() -> None:
    plan, _ = proven(example_dir("insecure-cme"))
    for text in (plan.text(), plan.rollback_text()):
        assert "Ex4mple" not in text
    assert "web admin system name admin password <masked>" in plan.rollback_text()
    assert "CME-ACC-01  Enable secret is set" in plan.text()  # prose kept


def test_practices_config_cannot_fix_are_commented_out_with_why() -> None:
    plan, proof = proven(example_dir("insecure-cme"))
    manual = {c.check: c.why for c in plan.checks if c.kind == "manual"}
    assert set(manual) >= {"CME-REG-04", "CME-REG-05", "CME-TLS-03"}
    assert all(line.startswith("!") for line in plan.manual)
    assert "no ephone 5" not in commands(plan)  # deleting a phone stays a person's decision
    assert not any("secure-signaling" in line for line in commands(plan))  # no CA or CTL yet: phones would fail
    verdicts = {row.check: row.verdict for row in proof.rows}
    assert verdicts["CME-REG-04"] == "manual"


# --- the IOS config model -----------------------------------------------------------------------


def test_config_model_replaces_one_value_commands_and_deletes_numbered_lists_whole() -> None:
    config = IosConfig(
        "hostname r1\n!\naccess-list 10 permit 10.0.0.1\naccess-list 10 permit 10.0.0.2\n"
        "interface Gi0/0\n ip access-group 101 in\n!\nline vty 0 4\n login\n transport input telnet ssh\n!\nend\n"
    )
    applied = config.apply([
        "no access-list 10 permit 10.0.0.1", "interface Gi0/0", " ip access-group WAN-IN in", " no cdp enable",
        "line vty 0 4", " login local", " transport input ssh", "crypto key generate rsa modulus 2048",
    ])  # fmt: skip
    text = applied.config.text()
    assert "access-list 10" not in text  # IOS deletes the whole numbered list, whatever follows the number
    assert text.count("ip access-group") == 1 and " ip access-group WAN-IN in" in text
    assert " no cdp enable" in text  # on by default: IOS shows the no form
    assert " login local" in text and "\n login\n" not in text
    assert " transport input ssh" in text and "telnet" not in text
    assert applied.actions == ["crypto key generate rsa modulus 2048"]


def test_rollback_takes_the_future_config_back() -> None:
    for example in EXAMPLES:
        snapshot = read_snapshot(example_dir(example))
        plan, _ = prove(snapshot, audit_snapshot(snapshot))
        running = IosConfig(snapshot.get(RUNNING_CONFIG).text)
        names = communities_by_line(snapshot.get(RUNNING_CONFIG).text)

        def resolved(lines: list[str]) -> list[str]:
            return [re.sub(r"<community-on-line-(\d+)>", lambda m: names[int(m.group(1))], line) for line in lines]

        future = running.apply(resolved(commands(plan))).config
        back = future.apply(resolved(plan.rollback)).config
        assert sorted(_lines(back)) == sorted(_lines(running)), example


def _lines(config: IosConfig) -> list[str]:
    return [line.strip() for line in config.text().splitlines() if line.strip() not in ("!", "end")]


# --- the proof over every fixture, example and corpus config ------------------------------------

FIXTURE_DIRS = sorted(p.parent for p in (FIXTURES / "checks").glob("*/*/expected.yml"))
CORPUS_CONFIGS = sorted(CORPUS.glob("running_config*.txt")) if CORPUS.is_dir() else []
AUDITED_OUTPUTS = {file_name(c)[: -len(".txt")] for c in AUDIT_COMMANDS if c != RUNNING_CONFIG}


def _corpus_snapshot(config: Path, tmp_path: Path) -> Path:
    shutil.copy(config, tmp_path / file_name(RUNNING_CONFIG))
    for stem in AUDITED_OUTPUTS:  # paired as tests/test_corpus_audit.py pairs them
        found = sorted(CORPUS.glob(f"{stem}__*.txt"))
        if found:
            shutil.copy(found[0], tmp_path / f"{stem}.txt")
    return tmp_path


def assert_proven(directory: Path) -> None:
    snapshot = read_snapshot(directory)
    if not snapshot.get(RUNNING_CONFIG).usable:
        pytest.skip("no running-config")
    before = audit_snapshot(snapshot)
    plan, proof = prove(snapshot, before)
    bad = [row for row in proof.rows if row.verdict in ("NOT FIXED", REGRESSION, "NEW FAILURE")]
    assert not bad, proof.table()
    assert not proof.problems
    assert proof.holds
    # Every check the plan claims passes (or no longer applies), no check that passed fails.
    after = {r.check: r.status for r in proof.after.results} if proof.after else {}
    damaged = bool(before.facts.get("running_config_damage")) or before.facts.get("running_config_complete") is False
    for check in plan.claimed:
        assert after[check] in (Status.PASS, Status.NOT_APPLICABLE) or damaged or any(
            row.check == check and row.verdict == "depends on your values" for row in proof.rows), check
    for result in before.results:
        if result.status == Status.PASS:
            assert after[result.check] != Status.FAIL, result.check
    # No duplicate object numbers in the future config.
    future = proof.future_config.splitlines()
    tags = Counter(tag for tag, _ in after_hours(future))
    assert all(count == 1 for count in tags.values()), tags
    section = ""
    groups: Counter[str] = Counter()
    for line in future:
        if not line.startswith(" "):
            section = line
        elif re.match(r" ip access-group \S+ in$", line):
            groups[section] += 1
    assert all(count == 1 for count in groups.values()), groups
    defined = [m.group(1) for line in commands(plan) if (m := re.match(r"ip access-list (?:standard|extended) (\S+)$", line))]
    assert len(defined) == len(set(defined))
    # No ACL the plan applies serves two purposes (vty/GUI, SNMP, an interface's inbound filter).
    purposes: dict[str, set[str]] = {}
    for line in commands(plan):
        for pattern, purpose in ((r"\s*access-class (\S+) in$", "admin"), (r"ip http access-class (\S+)$", "admin"),
                                 (r"snmp-server community \S+ .* (\S+)$", "snmp"), (r"\s*ip access-group (\S+) in$", "wan")):
            match = re.match(pattern, line)
            if match is not None:
                purposes.setdefault(match.group(1), set()).add(purpose)
    assert all(len(uses) == 1 for uses in purposes.values()), purposes
    assert outside_known_grammar(commands(plan)) == []
    # Every line is a command form cmelive knows (keywords, order, clear text vs hash), and one the
    # router's release has (its running-config's own "version" line).
    assert [str(problem) for problem in check_config_lines(commands(plan))] == []
    release = re.search(r"^version (\d+\.\d+)", snapshot.get(RUNNING_CONFIG).text, re.MULTILINE)
    if release is not None:
        assert [str(problem) for problem in version_problems(commands(plan), release.group(1))] == []


def outside_known_grammar(lines: list[str]) -> list[str]:
    """Plan lines the IOS grammar cmelive already knows (``parsing/ios_grammar``) puts elsewhere:
    a sub-mode line its sub-mode does not accept, a global-only command inside a sub-mode."""
    from cmelive.parsing.ios_grammar import GLOBAL_ONLY, kind_of, submode_accepts

    wrong = []
    header = ""
    for line in lines:
        if not line.startswith(" "):
            header = line
            continue
        command = line.strip()
        if line.startswith("  ") or re.match(r"ip access-list ", header):
            continue  # nested sub-modes and ACL entries: not what this grammar lists
        if submode_accepts(kind_of(header), command) is False or GLOBAL_ONLY.match(command):
            wrong.append(f"{header} > {command}")
    return wrong


@pytest.mark.parametrize("directory", FIXTURE_DIRS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_plan_holds(directory: Path) -> None:
    assert_proven(directory)


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_plan_holds(example: str) -> None:
    assert_proven(example_dir(example))


@pytest.mark.parametrize("config", CORPUS_CONFIGS, ids=lambda p: p.name)
def test_every_corpus_plan_holds(config: Path, tmp_path: Path) -> None:
    assert_proven(_corpus_snapshot(config, tmp_path))


def test_a_plan_that_misses_a_claim_or_breaks_a_pass_does_not_hold() -> None:
    snapshot = read_snapshot(example_dir("insecure-cme"))
    before = audit_snapshot(snapshot)
    plan = build_plan(before.name, before.results, snapshot.get(RUNNING_CONFIG).text)
    plan.script = [line for line in plan.script if "transport input" not in line]
    proof = verify_plan(snapshot, plan, before)
    assert not proof.holds
    assert {row.check: row.verdict for row in proof.rows}["CME-ACC-04"] == "NOT FIXED"
    assert "THE PLAN DOES NOT HOLD" in proof.table()

    secure = read_snapshot(example_dir("secure-cme"))
    passed_before = audit_snapshot(secure)
    careless = build_plan(passed_before.name, passed_before.results, secure.get(RUNNING_CONFIG).text)
    careless.script += ["line vty 0 4", " transport input telnet ssh"]
    proof = verify_plan(secure, careless, passed_before)
    assert {row.check: row.verdict for row in proof.rows}["CME-ACC-04"] == REGRESSION
    assert not proof.holds


def test_readme_example_plans_are_what_cmelive_writes() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Fix plans\n", 1)[1].split("\n## ", 1)[0]
    blocks = [body for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", section, re.DOTALL | re.MULTILINE) if not lang]
    snapshot = read_snapshot(example_dir("plain-ios"))
    plan, proof = prove(snapshot, audit_snapshot(snapshot))
    assert blocks[0] == plan.text()
    assert blocks[1] == plan.rollback_text()
    assert blocks[2] == proof.table()
    insecure, _ = proven(example_dir("insecure-cme"), "192.0.2.7")
    lines = insecure.text().splitlines()
    at = 0
    for line in blocks[3].splitlines():
        if line.strip() == "...":
            continue
        at = lines.index(line, at) + 1  # in the plan, in this order
    assert f"closes {len(insecure.claimed)} checks" in section


def test_a_list_the_router_has_put_on_more_vty_lines_permits_the_audit_source_first(tmp_path: Path) -> None:
    directory = snapshot_with(tmp_path, "insecure-cme", {
        "line vty 0 4\n password Ex4mple-Telnet-7\n": "line vty 0 4\n access-class 23 in\n password Ex4mple-Telnet-7\n",
        "scheduler allocate": "access-list 23 permit 10.9.0.0 0.0.0.255\naccess-list 23 deny any log\nscheduler allocate",
    })  # fmt: skip
    plan, proof = proven(directory, "192.0.2.7")
    lines = commands(plan)
    at = lines.index("ip access-list standard 23")
    assert lines[at + 1] == " 1 permit host 192.0.2.7"
    assert at < lines.index("line vty 5 15")
    future = [line for line in proof.future_config.splitlines() if line.startswith("access-list 23 ")]
    assert future == ["access-list 23 permit host 192.0.2.7", "access-list 23 permit 10.9.0.0 0.0.0.255",
                      "access-list 23 deny any log"]  # fmt: skip
    assert proof.holds, proof.table()


def test_waived_checks_stay_out_of_the_plan() -> None:
    from cmelive.fixplan.run import fix_snapshot

    fixed = fix_snapshot(read_snapshot(example_dir("insecure-cme")), waived={"CME-AH-02"})
    assert fixed.plan is not None and fixed.proof is not None
    assert "CME-AH-02" not in [c.check for c in fixed.plan.checks]
    assert not any(line.endswith(" 7-24") for line in commands(fixed.plan))
    assert any("after-hours block pattern" in line for line in commands(fixed.plan))  # CME-AH-01's stays
    assert fixed.proof.holds, fixed.proof.table()


def test_the_grammar_check_of_the_plans_catches_a_line_in_the_wrong_mode() -> None:
    assert outside_known_grammar(["line vty 0 4", " hostname r1", "telephony-service", " transport input ssh",
                                  "interface Gi0/0", " no cdp enable"]) == [
        "line vty 0 4 > hostname r1", "telephony-service > transport input ssh"]  # fmt: skip


def test_a_user_name_with_terminal_controls_is_not_claimed_fixed(tmp_path: Path) -> None:
    # The planted router has a user 'ops<ESC>]52;...'; every output shows the name with visible
    # escapes, so a pasted 'no username ops\x1b]52;...' would name another user: the proof says so.
    from .test_secrets_never_leak import planted_router

    plan, proof = proven(planted_router(tmp_path / "router"))
    assert [row.check for row in proof.rows if row.verdict == "NOT FIXED"] == ["CME-ACC-10"]
    assert not proof.holds
    assert "\x1b" not in plan.text()


def test_a_router_with_no_free_block_pattern_tag_gets_a_placeholder_never_a_tag_cme_refuses() -> None:
    # 25 of CME's 32 tags are taken and CME-AH-01/02 want 26 new patterns: 7 get the free tags, the rest wait
    # for the user to free one (issue 14: no line IOS would refuse).
    plan, proof = proven(FIXTURES / "checks" / "CME-AH-01" / "fail-catch-all-without-access-code")
    tags = [line.split()[3] for line in plan.script if line.strip().startswith("after-hours block pattern")]
    numbers = [int(tag) for tag in tags if tag.isdigit()]
    assert numbers and max(numbers) <= 32 and len(set(numbers)) == len(numbers)
    assert "<free-block-tag>" in tags and "<free-block-tag>" in dict(plan.placeholders)
    verdicts = {row.check: row.verdict for row in proof.rows}
    assert verdicts["CME-AH-02"] == "depends on your values" and proof.holds
