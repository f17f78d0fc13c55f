"""One coherent change per device: the checks' remediation lines made into one config script.

Each failing check proposes its own fix, filled in with the router's names. Pasted one after the
other they clash where practices share an object, so the plan shares it:

- **one admin ACL** (a standard number free on this router) for the vty lines and the GUI, and a
  separate one for SNMP when its sources differ — never one number proposed for two purposes;
- **one after-hours block pattern numbering**: every new pattern gets a tag free in the
  running-config and in the plan (CME-AH-01 and CME-AH-02 both start at 1);
- **one inbound filter per WAN interface**, carrying every deny the checks need (CME-REG-02's and
  CME-FW-02's), merged into the interface's existing inbound ACL when it has one;
- **one RSA key per label**, and distinct placeholders for distinct secrets.

The script is ordered as a careful engineer applies it: secrets and local users, then AAA, keys and
SSH, access lists (the admin ACL permitting the address the audit came from first), the rest, and
the vty lines last. Steps that config alone cannot take (enrolment with a CA, phones) are listed,
commented out, with why; placeholders are listed once at the top and never invented.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cmelive.checks import get_check
from cmelive.checks.base import CheckResult, Status
from cmelive.checks.toll_fraud import MAX_BLOCK_TAG, NO_FREE_BLOCK_TAG
from cmelive.fixplan.iosconfig import (
    IosConfig,
    Node,
    normal,
    numbered_kind,
    section_key,
    slot,
)
from cmelive.ios_commands import unconfirmed_lines
from cmelive.masking import MASK, scrub

#: Practices config alone cannot put right; their lines are listed commented out, with why.
MANUAL: dict[str, str] = {
    "CME-TLS-02": "enrolling a trustpoint is interactive (crypto pki authenticate/enroll ask questions) and needs "
    "the CA reachable",
    "CME-TLS-04": "the CTL file is regenerated once every trustpoint is enrolled, and each phone must download it",
    "CME-TLS-07": "a certificate is renewed by re-enrolling with its CA (interactive)",
    "CME-GUI-05": "a CA-issued certificate needs an enrolment with the CA (interactive)",
    "CME-REG-04": "unknown phones must be identified on site: configure the ones you own, remove the others",
    "CME-REG-05": "deleting a phone is a decision about a person's phone: confirm each one first",
    "CME-GUI-04": "regenerating a key that exists is interactive (IOS asks whether to replace it: a pasted plan "
    "would answer with its next line), so type it alone; the new size shows at the next live audit",
}

#: Practices that turn on secure signalling, and the ones that must pass before they may.
_NEEDS_PKI = frozenset({"CME-TLS-03", "CME-TLS-06"})
_PKI_READY = frozenset({"CME-TLS-02", "CME-TLS-04"})

#: Why a practice judged on live state (not on the running-config) shows only at the next live audit.
LIVE_ONLY: dict[str, str] = {
    "CME-ACC-11": "the SSH algorithms and host key are judged at login: re-audit the router live after the "
    "new key is generated (on IOS 15 the SHA-2 algorithms need IOS XE)",
    "CME-TLS-06": "phones take the new security mode after a reset, and only with firmware that supports it",
    "CME-NAT-01": "the remote phones are judged from 'show ephone registered'",
}

#: What each well-known placeholder asks for (anything else in <...> is listed with its own name).
_MEANINGS = {
    "<admin-subnet> <wildcard>": "the subnet your administrators connect from, as an ACL source (e.g. 10.9.0.0 0.0.0.255)",
    "<nms-subnet> <wildcard>": "the subnet of your SNMP managers, as an ACL source",
    "<your-address>": "the address you connect to this router from (kept permitted so you are not locked out)",
    NO_FREE_BLOCK_TAG: "an after-hours block pattern tag (1-32) you free first: CME holds 32 patterns and all are taken",
    "<admin-user>": "a local administrator's user name",
    "<syslog-server>": "your syslog server's address",
    "<ntp-server-ip>": "your NTP server's address",
    "<tacacs-server-ip>": "your TACACS+ server's address",
    "<shared-key>": "the TACACS+ shared key (a new secret)",
    "<max-calls>": "the most concurrent calls the dial-peer should carry",
    "<ca-url>": "your CA's enrolment URL",
    "<server-name>": "a name for the TACACS+ server entry",
    "<zone-name>": "the time zone's name (e.g. CET)",
    "<hours-offset>": "its offset from UTC in hours",
    "<user-cor-list>": "the incoming COR list for user lines (define it with dial-peer cor list)",
    "<cor-name>": "a COR name (dial-peer cor custom)",
    "<cme-trustpoint>": "the enrolled trustpoint CME signs with",
}

_PLACEHOLDER = re.compile(r"<[A-Za-z0-9][A-Za-z0-9 ._:/-]*?>")
_AH = re.compile(r"after-hours block pattern (\d+) (\S+)( 7-24)?$")
_ADMIN_CHECKS = frozenset({"CME-ACC-03", "CME-GUI-03"})
#: The checks whose new standard ACLs are the admin ACL or the SNMP managers' ACL.
_ACL_ROLE_CHECKS = frozenset({*_ADMIN_CHECKS, "CME-PORT-01", "CME-SNMP-01", "CME-SNMP-02", "CME-SNMP-03"})
_WAN_CHECKS = ("CME-FW-02", "CME-REG-02")  # FW-02's named list is kept when both make one
_SNMP = re.compile(r"snmp-server community (\S+) (.+)$")


@dataclass
class Block:
    """A top-level command and its sub-mode lines (indented as pasted), from one or more checks."""

    header: str
    children: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)


@dataclass
class PlannedCheck:
    check: str
    title: str
    kind: str  # "config" (proven by re-audit), "live" (shows at the next live audit), "manual"
    why: str = ""


@dataclass
class FixPlan:
    """The plan for one device: the script, what it closes, what it needs, and its rollback."""

    device: str
    checks: list[PlannedCheck]
    placeholders: list[tuple[str, str]]
    script: list[str]  # the config lines, comments included, as pasted
    manual: list[str]  # commented-out steps that config alone cannot take
    notes: list[str]
    rollback: list[str] = field(default_factory=list)
    no_fix: list[str] = field(default_factory=list)  # failing checks with no remediation

    @property
    def claimed(self) -> list[str]:
        """The checks the plan fixes by config alone (what the re-audit must show passing)."""
        return [c.check for c in self.checks if c.kind == "config"]

    def text(self) -> str:
        """The plan file, masked: cmelive's own comment lines as prose, config lines as config."""
        return _masked(self._lines())

    def _lines(self) -> list[str]:
        out = [f"! cmelive fix plan for {self.device}", "!"]
        if not self.checks:
            out += ["! nothing to fix: no failing check proposes a config change", "end"]
            return out
        out.append("! Closes (proven by re-auditing the config this plan produces):")
        out += [f"!   {c.check}  {c.title}" + (f" ({c.why})" if c.why else "")
                for c in self.checks if c.kind == "config"] or ["!   (none)"]  # fmt: skip
        live = [c for c in self.checks if c.kind == "live"]
        if live:
            out.append("! Applied here, shown only by the next live audit:")
            out += [f"!   {c.check}  {c.title}: {c.why}" for c in live]
        manual = [c for c in self.checks if c.kind == "manual"]
        if manual:
            out.append("! Not fixable from config alone (steps at the end, commented out):")
            out += [f"!   {c.check}  {c.title}: {c.why}" for c in manual]
        if self.no_fix:
            out.append("! Failing without a config fix to propose: " + ", ".join(self.no_fix))
        out.append("!")
        if self.placeholders:
            out.append("! NEEDS FROM YOU before pasting - replace every <...> below (none is invented):")
            out += [f"!   {name}: {meaning}" for name, meaning in self.placeholders]
            out.append("!")
        out += [f"! note: {note}" for note in self.notes]
        unconfirmed = unconfirmed_lines(self.script)
        if unconfirmed:
            out.append("! CHECK ON THE ROUTER FIRST - no Cisco reference text was found for these command forms;")
            out.append("! type each up to its last keyword followed by '?' and compare:")
            out += [f"!   {problem.text.strip()}" for problem in unconfirmed]
            out.append("!")
        out += [
            "! Paste in config mode (configure terminal), whole, in this order. Keep this session open until a",
            "! new SSH login works: only then close it.",
            "!",
            *self.script,
        ]
        if self.manual:
            out += ["!", "! --- steps config alone cannot take (do them by hand, one at a time) ---", *self.manual]
        out.append("end")
        return out

    def rollback_text(self) -> str:
        """The rollback file, masked like the plan. A line whose value is masked is commented out
        (pasted, ``password <masked>`` would set the password to that text)."""
        out = [
            f"! cmelive rollback for the fix plan of {self.device}: the commands that undo it",
            "! (a line marked FILL IN held a value masked in the audit: restore it from your own records)",
            "!",
        ]
        for line in _masked(self.rollback).splitlines():
            out.append(f"! FILL IN: {line}" if MASK in line and not line.startswith("!") else line)
        out.append("end")
        return _masked(out)


#: A commented-out config line of the manual steps (``!   username ...``): masked as config.
_QUOTED_CONFIG = "!   "


def _masked(lines: Sequence[str]) -> str:
    """Every line through the one masking function: comments are cmelive's prose (a check's title
    says "Enable secret is set"), config lines and quoted config are config."""
    out = []
    for line in lines:
        if line.startswith(_QUOTED_CONFIG) and not line.startswith("!   CME-") and not line.startswith("!   <"):
            out.append(_QUOTED_CONFIG + scrub(line[len(_QUOTED_CONFIG):]).rstrip("\n"))
        elif line.startswith("!"):
            out.append(scrub(line, prose=True).rstrip("\n"))
        else:
            out.append(scrub(line).rstrip("\n"))
    return "\n".join(out) + "\n"


def build_plan(
    device: str,
    results: Sequence[CheckResult],
    running_config: str,
    *,
    audit_source: str | None = None,
    follow_on: Sequence[CheckResult] = (),
    live_outputs: Iterable[str] = (),
) -> FixPlan:
    """The plan for a device from its check results and the running-config they were judged on.

    ``audit_source`` is the address the audit connected from; the admin ACL permits it first.
    ``live_outputs`` are the show commands (other than the running-config) the audit had: a
    check that reads one of them is proven only by a live re-audit. ``follow_on`` are failures the re-audit found that the plan itself makes applicable (outgoing
    COR lists make CME-COR-02 ask for incoming ones): their fixes join the plan.
    """
    config = IosConfig(running_config)
    passing = {r.check for r in results if r.status == Status.PASS}
    failing = [r for r in results if r.status == Status.FAIL]
    failing += [r for r in follow_on if r.check not in {f.check for f in failing}]
    follow = {r.check for r in follow_on}
    planned: list[PlannedCheck] = []
    blocks: list[Block] = []
    manual: list[str] = []
    notes: list[str] = []
    no_fix: list[str] = []
    for result in failing:
        if not result.remediation:
            no_fix.append(result.check)
            continue
        kind, why = _kind(result, passing, set(live_outputs))
        if result.check in follow:
            why = (why + "; " if why else "") + "needed once this plan applies (found by re-auditing it)"
        planned.append(PlannedCheck(result.check, result.title, kind, why))
        own = _blocks(result.check, result.remediation)
        if kind == "manual":
            manual.append(f"! {result.check}: {why}")
            manual += [f"!   {line}" for block in own for line in (*block.comments, block.header, *block.children)]
        else:
            blocks += own
    _name_secrets(blocks)
    _share_acls(blocks, config, audit_source, notes)
    _community_by_line(blocks, running_config)
    _share_snmp(blocks)
    blocks = _share_wan_filters(blocks, config, notes)
    _share_after_hours(blocks, config)
    _share_keys(blocks, notes)
    _share_tacacs(blocks)
    script = _ordered(blocks, notes)
    if any(re.match(r"(ip ssh rsa keypair-name|crypto key generate rsa)", line.lstrip("! ")) for line in [*script, *manual]):
        notes.append("the SSH host key changes with the new key: your next login (and cmelive's) sees a new key; "
                     "check its fingerprint (show crypto key mypubkey rsa) and update known_hosts")  # fmt: skip
    if any(re.match(r"aaa authentication login \S+ group ", line) for line in script):
        notes.append("new logins ask the AAA server first, the local users only when it does not answer: have "
                     "your account on the server before this session ends")  # fmt: skip
    placeholders = _placeholders(script)
    placeholders += [(name, meaning + " (for the manual steps only)") for name, meaning in _placeholders(manual)
                     if name not in dict(placeholders)]  # fmt: skip
    plan = FixPlan(device, planned, placeholders, script, manual, notes, no_fix=no_fix)
    plan.rollback = _rollback(plan, running_config)
    return plan


def distinct_masked_communities(running_config: str) -> str:
    """A masked snapshot's communities, each with a name of its own (``<masked>`` for all would make
    ``no snmp-server community <masked>`` remove every one of them)."""
    lines = running_config.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("snmp-server community <masked> "):
            # Still masked to the checks (CME-SNMP-01 cannot judge it), yet distinct.
            lines[index] = line.replace("<masked>", f"<masked>-on-line-{index + 1}", 1)
    return "\n".join(lines) + "\n"


def communities_by_line(running_config: str) -> dict[int, str]:
    """Running-config line number -> the community it defines."""
    found = {}
    for number, line in enumerate(running_config.splitlines(), 1):
        match = re.match(r"snmp-server community (\S+) ", line)
        if match is not None:
            found[number] = match.group(1)
    return found


def _rollback(plan: FixPlan, running_config: str) -> list[str]:
    """The rollback, computed on the config with each ``<community-on-line-N>`` resolved (so that
    binding a community replaces its line) and written with the placeholders again."""
    text = distinct_masked_communities(running_config)
    names = communities_by_line(text)

    def resolve(line: str) -> str:
        return re.sub(r"<community-on-line-(\d+)>", lambda m: names.get(int(m.group(1)), m.group(0)), line)

    config = IosConfig(text)
    applied = config.apply([resolve(line) for line in plan_commands(plan)])
    lines = rollback_lines(config, applied.config)
    back = {name: f"<community-on-line-{number}>" for number, name in names.items()}

    def unresolve(line: str) -> str:
        match = re.match(r"(\s*(?:no )?snmp-server community )(\S+)(.*)$", line)
        if match is None or match.group(2) not in back:
            return line
        return match.group(1) + back[match.group(2)] + match.group(3)

    kept = [f"! not undone: {action} (a key generated cannot be taken back; a new labelled key can be removed with "
            "crypto key zeroize rsa LABEL)" for action in applied.actions if action.startswith("crypto key generate")]
    return kept + [unresolve(line) for line in lines]


def plan_commands(plan: FixPlan) -> list[str]:
    """The plan's commands as pasted (comments out)."""
    return [line for line in plan.script if line.strip() and not line.lstrip().startswith("!")]


def _kind(result: CheckResult, passing: set[str], live_outputs: set[str]) -> tuple[str, str]:
    if result.check in MANUAL:
        return "manual", MANUAL[result.check]
    if all(line.lstrip().startswith("!") for line in result.remediation):
        return "manual", result.remediation[0].lstrip("! ")
    if result.check in _NEEDS_PKI and not _PKI_READY <= passing:
        return "manual", (
            "secure signalling needs the CA, the enrolled trustpoints and the CTL first (CME-TLS-02, CME-TLS-04): "
            "turned on without them, phones cannot register"
        )
    if any(re.match(r"crypto pki (authenticate|enroll)", line) for line in result.remediation):
        return "manual", "enrolment with a CA is interactive"
    if result.check in LIVE_ONLY:
        return "live", LIVE_ONLY[result.check]
    spec = get_check(result.check)
    live = [c for c in (*spec.requires, *spec.uses) if c in live_outputs] if spec is not None else []
    if live:
        return "live", f"judged on what the router shows live ({', '.join(live)})"
    return "config", ""


def _blocks(check: str, lines: Iterable[str]) -> list[Block]:
    blocks: list[Block] = []
    comments: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        if line.lstrip().startswith("!"):
            comments.append(line.strip())
        elif line.startswith(" ") and blocks:
            blocks[-1].children.append(line.rstrip())
        else:
            blocks.append(Block(normal(line), [], comments, [check]))
            comments = []
    return blocks


# --- secrets ------------------------------------------------------------------------------------


def _name_secrets(blocks: list[Block]) -> None:
    """One placeholder per secret: a shared ``<new-secret>`` would read as one value for all."""
    for block in blocks:
        user = re.match(r"username (\S+)", block.header)
        if user is not None:
            name = "the-new-admin" if user.group(1).startswith("<") else user.group(1)
            block.header = block.header.replace("<new-secret>", f"<new-secret-for-{name}>")
        level = re.match(r"enable secret (?:level (\d+) )?<new-secret>", block.header)
        if level is not None:
            name = f"<new-enable-secret-level-{level.group(1)}>" if level.group(1) else "<new-enable-secret>"
            block.header = block.header.replace("<new-secret>", name)


# --- the admin and SNMP ACLs --------------------------------------------------------------------


def _acl_refs(config: IosConfig) -> set[str]:
    """Every ACL name the running-config defines or refers to."""
    names: set[str] = set()
    pattern = re.compile(
        r"(?:access-class|ip access-group|ip http access-class|access-list|ip access-list (?:standard|extended)) (\S+)"
    )

    def walk(node: Node) -> None:
        for child in node.children:
            found = pattern.search(child.text)
            if found is not None:
                names.add(found.group(1))
            snmp = _SNMP.match(child.text)
            if snmp is not None:
                names.add(snmp.group(2).split()[-1])
            walk(child)

    walk(config.root)
    return names


def _free_standard(taken: set[str]) -> str:
    for number in (*range(10, 100), *range(1, 10), *range(1300, 2000)):
        if str(number) not in taken:
            return str(number)
    raise ValueError("every standard ACL number is in use")


def _renumber(line: str, old: str, new: str) -> str:
    for pattern, template in (
        (rf"^access-list {old} ", f"access-list {new} "),
        (rf"^(\s*access-class) {old} (in|out)$", rf"\1 {new} \2"),
        (rf"^ip http access-class {old}$", f"ip http access-class {new}"),
        (rf"^(snmp-server community \S+ \S+(?: view \S+)?) {old}$", rf"\1 {new}"),
    ):
        line = re.sub(pattern, template, line)
    return line


def _share_acls(blocks: list[Block], config: IosConfig, source: str | None, notes: list[str]) -> None:
    """One admin ACL (vty and GUI) and one SNMP ACL, each a number free on this router."""
    refs = _acl_refs(config)
    roles: dict[tuple[str, str], str] = {}  # (check, its new ACL number) -> "admin" | "nms"
    rules: dict[str, list[str]] = {"admin": [], "nms": []}
    for block in blocks:
        numbered = re.match(r"access-list (\d+) (.*)$", block.header)
        check = block.checks[0]
        if numbered is None or numbered.group(1) in refs or check not in _ACL_ROLE_CHECKS:
            continue
        if numbered_kind(int(numbered.group(1))) != "standard":
            continue
        rule = numbered.group(2)
        role = "nms" if "<nms-subnet>" in rule or check.startswith("CME-SNMP") else "admin"
        roles[(check, numbered.group(1))] = role
        if rule not in rules[role]:
            rules[role].append(rule)
    if not roles:
        _permit_source_in_existing(blocks, source, config)
        return
    taken = set(refs)
    numbers: dict[str, str] = {}
    for role in ("admin", "nms"):
        if not rules[role]:
            continue
        if role == "nms" and rules["admin"] and rules["nms"] == rules["admin"]:
            numbers["nms"] = numbers["admin"]  # the same sources: one list serves both
            continue
        numbers[role] = _free_standard(taken)
        taken.add(numbers[role])
    for block in blocks:
        role_of = {old: role for (check, old), role in roles.items() if check == block.checks[0]}
        for old, role in role_of.items():
            block.header = _renumber(block.header, old, numbers[role])
            block.children = [_renumber(line, old, numbers[role]) for line in block.children]
    if "admin" in numbers:
        admin = numbers["admin"]
        first = next(i for i, b in enumerate(blocks) if b.header.startswith(f"access-list {admin} "))
        entry = f"access-list {admin} permit {_host(source)}"
        blocks.insert(first, Block(entry, [], [_source_comment(source)], ["CME-ACC-03"]))
        purposes = sorted({check for (check, _), role in roles.items() if role == "admin"})
        notes.append(f"access list {admin} is the admin ACL ({', '.join(purposes)}): free on this router")
    if "nms" in numbers and numbers.get("nms") != numbers.get("admin"):
        apart = f", apart from the admin ACL {numbers['admin']}" if "admin" in numbers else ""
        notes.append(f"access list {numbers['nms']} is the SNMP managers' ACL{apart}: free on this router")
    _permit_source_in_existing(blocks, source, config)


def _host(source: str | None) -> str:
    return f"host {source}" if source else "host <your-address>"


def _source_comment(source: str | None) -> str:
    where = source if source else "<your-address>"
    return (
        f"! {where}: the address this audit connected from, permitted first so that applying the ACL "
        "to the vty lines cannot refuse your next login"
    )


def _permit_source_in_existing(blocks: list[Block], source: str | None, config: IosConfig) -> None:
    """An admin check that edits an ACL already there (undefined or open) permits the source too; so
    does a list the router has that the plan puts on more vty lines (the session may be on one)."""
    edited = {m.group(1) for b in blocks if (m := re.match(r"(?:ip access-list (?:standard|extended)|access-list) (\S+)",
                                                             b.header))}  # fmt: skip
    reused: list[str] = []
    for block in blocks:
        if block.checks[0] == "CME-ACC-03" and block.header.startswith("line vty"):
            for child in block.children:
                match = re.match(r"\s*access-class (\S+) in$", child)
                if match and match.group(1) not in edited and match.group(1) not in reused:
                    reused.append(match.group(1))
    for name in reused:
        acl = config._acl(name)
        if acl is None:
            continue
        kind = acl.text.split()[2]
        # Sequence 1 puts it before whatever the list denies (the router numbers its entries 10, 20, ...).
        entry = f" 1 permit {_host(source)}" if kind == "standard" else f" 1 permit tcp {_host(source)} any eq 22"
        if not any(e.sequence == 1 for e in acl.children):
            blocks.append(Block(f"ip access-list {kind} {name}", [entry], [_source_comment(source)], ["CME-ACC-03"]))
    for block in blocks:
        if block.checks[0] not in _ADMIN_CHECKS:
            continue
        named = re.match(r"ip access-list (standard|extended) (\S+)", block.header)
        if named is None or any("<your-address>" in c or (source and f"host {source}" in c) for c in block.children):
            continue
        entry = f" permit {_host(source)}" if named.group(1) == "standard" else f" permit tcp {_host(source)} any eq 22"
        block.children.insert(0, entry)
        block.comments.append(_source_comment(source))


# --- SNMP ---------------------------------------------------------------------------------------


def _community_by_line(blocks: list[Block], running_config: str) -> None:
    """A community named by its running-config line, as on a masked snapshot: the plan text is
    masked like every output, and ``no snmp-server community <masked>`` would say nothing."""
    lines: dict[str, int] = {}
    for number, line in enumerate(running_config.splitlines(), 1):
        match = re.match(r"snmp-server community (\S+) ", line)
        if match is not None and not match.group(1).startswith("<"):
            lines.setdefault(match.group(1), number)
    for block in blocks:
        match = re.match(r"(no )?snmp-server community (\S+)", block.header)
        if match is not None and match.group(2) in lines:
            name = match.group(2)
            block.header = block.header.replace(f" {name}", f" <community-on-line-{lines[name]}>", 1)


def _share_snmp(blocks: list[Block]) -> None:
    """One line per community: a removed one is not bound again, each new one has its own name.

    CME-SNMP-01 replaces a well-known community, CME-SNMP-02 and CME-PORT-01 bind each community to
    the SNMP ACL, CME-SNMP-03 removes an unrestricted read-write one: together the community is
    removed (and replaced, bound to the ACL, unless it was read-write) — not re-added by the binding.
    """
    snmp = [b for b in blocks if b.header.startswith(("snmp-server community ", "no snmp-server community "))]
    if not snmp:
        return
    removed: dict[str, str] = {}  # community -> the check removing it
    replaced: dict[str, str] = {}  # old community -> what follows the new one's name (mode, view, ACL)
    bound: dict[str, str] = {}  # community -> what follows its name, with the ACL
    acl = ""
    last_removed: str | None = None
    rw_removed = set()
    for block in snmp:
        check = block.checks[0]
        if block.header.startswith("no "):
            name = block.header.split()[3]
            removed[name] = check
            last_removed = name
            if check == "CME-SNMP-03":
                rw_removed.add(name)
            continue
        match = _SNMP.match(block.header)
        if match is None:
            continue
        name, rest = match.group(1), match.group(2)
        if name.startswith("<new-community") and last_removed is not None:
            replaced[last_removed] = rest
        else:
            bound[name] = rest
            acl = acl or rest.split()[-1]
        last_removed = None
    merged: list[Block] = []
    for index, name in enumerate(dict.fromkeys([*removed, *replaced, *bound])):
        checks = sorted({b.checks[0] for b in snmp if name in b.header})
        if name in removed:
            merged.append(Block(f"no snmp-server community {name}", [], [], checks))
            if name in replaced and name not in rw_removed:
                rest = replaced[name]
                if acl and not re.search(r" (\d+|[A-Za-z]\S*)$", rest.removeprefix(rest.split()[0])):
                    rest += f" {acl}"
                merged.append(Block(f"snmp-server community <new-community-{index + 1}> {rest}", [], [], checks))
        elif name in bound:
            merged.append(Block(f"snmp-server community {name} {bound[name]}", [], [], checks))
    at = blocks.index(snmp[0])
    for block in snmp:
        blocks.remove(block)
    blocks[at:at] = merged


# --- WAN inbound filters ------------------------------------------------------------------------


@dataclass
class _WanWants:
    rules: dict[str, list[str]] = field(default_factory=dict)  # ACL -> rules (no sequence numbers)
    bind: dict[str, str] = field(default_factory=dict)  # interface -> ACL it binds
    edits: set[str] = field(default_factory=set)  # existing ACLs it edits


def _share_wan_filters(blocks: list[Block], config: IosConfig, notes: list[str]) -> list[Block]:
    """One inbound filter per WAN interface with every deny CME-REG-02 and CME-FW-02 need."""
    wants: dict[str, _WanWants] = {}
    kept: list[Block] = []
    for block in blocks:
        check = block.checks[0]
        if check not in _WAN_CHECKS:
            kept.append(block)
            continue
        want = wants.setdefault(check, _WanWants())
        numbered = re.match(r"access-list (\d+) (.*)$", block.header)
        named = re.match(r"ip access-list (?:standard|extended) (\S+)$", block.header)
        if numbered is not None:
            want.rules.setdefault(numbered.group(1), []).append(normal(numbered.group(2)))
        elif named is not None:
            name = named.group(1)
            if config._acl(name) is not None:
                want.edits.add(name)
            want.rules.setdefault(name, []).extend(re.sub(r"^\d+ ", "", normal(c)) for c in block.children)
        elif block.header.startswith("ip access-list resequence "):
            continue
        elif block.header.startswith("interface ") and any("ip access-group" in c for c in block.children):
            group = next(c for c in block.children if "ip access-group" in c)
            want.bind[block.header[len("interface "):]] = group.split()[2]
            others = [c for c in block.children if "ip access-group" not in c]
            if others:
                kept.append(Block(block.header, others, block.comments, block.checks))
        else:
            kept.append(block)
    if not wants:
        return blocks
    checks = [c for c in _WAN_CHECKS if c in wants]
    for check in checks:
        # A list an interface applies but the config does not define: defining it binds it there.
        for name in wants[check].rules:
            if name not in wants[check].edits and name not in wants[check].bind.values():
                for interface in _interfaces_with_inbound(config, name):
                    wants[check].bind.setdefault(interface, name)
    interfaces = list(dict.fromkeys(i for c in checks for i in wants[c].bind))
    for check in checks:
        for name in wants[check].edits:
            for interface in _interfaces_with_inbound(config, name):
                if interface not in interfaces:
                    interfaces.append(interface)
    out: list[Block] = []
    emitted: set[str] = set()
    for interface in interfaces:
        current = _inbound(config, interface)
        lists = [wants[c].bind.get(interface) or (current if current in wants[c].edits else None) for c in checks]
        specific: list[str] = []
        rest: list[str] = []
        for check, name in zip(checks, lists, strict=True):
            for rule in wants[check].rules.get(name or "", []):
                bucket = specific if " eq " in rule and not rule.startswith("remark") else rest
                if rule not in bucket:
                    bucket.append(rule)
        new = [n for c, n in zip(checks, lists, strict=True) if n is not None and wants[c].bind.get(interface) == n]
        if not new and current is not None:
            if current in emitted:
                continue
            emitted.add(current)
            start = (len(specific) * 10 // 100 + 1) * 100
            kind = config._acl(current)
            acl_kind = kind.text.split()[2] if kind is not None else "extended"
            out.append(Block(f"ip access-list resequence {current} {start} 10", [], [
                f"! {interface}: its inbound ACL {current} gets every deny the checks need, first "
                f"(its entries move to {start}, {start + 10}, ...)"], checks))  # fmt: skip
            out.append(Block(f"ip access-list {acl_kind} {current}",
                             [f" {10 * (i + 1)} {rule}" for i, rule in enumerate(specific)], [], checks))  # fmt: skip
            continue
        target = new[0]
        if target not in emitted:
            emitted.add(target)
            rules = specific + [r for r in rest if r != "permit ip any any"] + (
                ["permit ip any any"] if "permit ip any any" in rest else [])  # fmt: skip
            comment = f"! one inbound filter for {interface}, with what {' and '.join(checks)} " + (
                "need" if len(checks) > 1 else "needs")  # fmt: skip
            if target.isdigit():
                out += [Block(f"access-list {target} {rule}", [], [comment] if i == 0 else [], checks)
                        for i, rule in enumerate(rules)]  # fmt: skip
            else:
                out.append(Block(f"ip access-list extended {target}", [f" {rule}" for rule in rules], [comment], checks))
        if current != target:
            out.append(Block(f"interface {interface}", [f" ip access-group {target} in"], [], checks))
        if len(set(new)) > 1:
            notes.append(f"{interface}: one inbound ACL {target} instead of {' and '.join(dict.fromkeys(new))}")
    return kept + out


def _inbound(config: IosConfig, interface: str) -> str | None:
    node = config.root.find(f"interface {interface}")
    if node is None:
        return None
    for child in node.children:
        match = re.match(r"ip access-group (\S+) in$", child.text)
        if match is not None:
            return match.group(1)
    return None


def _interfaces_with_inbound(config: IosConfig, name: str) -> list[str]:
    return [
        child.text[len("interface "):]
        for child in config.root.children
        if child.text.startswith("interface ") and _inbound(config, child.text[len("interface "):]) == name
    ]


# --- after-hours patterns -----------------------------------------------------------------------


def _share_after_hours(blocks: list[Block], config: IosConfig) -> None:
    """One numbering: a new pattern takes a tag free in the config and the plan; one per number."""
    service = config.root.find("telephony-service")
    existing: dict[int, str] = {}
    for child in service.children if service is not None else []:
        match = _AH.match(child.text)
        if match is not None:
            existing[int(match.group(1))] = match.group(2)
    wanted: dict[str, tuple[int | None, bool]] = {}  # pattern -> (tag to reuse, 7-24)
    for block in blocks:
        if block.header != "telephony-service":
            continue
        for line in block.children:
            match = _AH.match(normal(line))
            if match is None:
                continue
            tag, text, always = int(match.group(1)), match.group(2), bool(match.group(3))
            reuse = tag if existing.get(tag) == text else next((t for t, p in existing.items() if p == text), None)
            before = wanted.get(text)
            wanted[text] = (reuse if reuse is not None else (before[0] if before else None),
                            always or bool(before and before[1]))  # fmt: skip
    if not wanted:
        return
    used = set(existing)
    tags: dict[str, str] = {}
    for text, (reuse, _) in wanted.items():
        if reuse is None:
            # CME's tags are 1 to 32: with none free the line asks the user for one rather than write a tag IOS refuses.
            reuse = next((t for t in range(1, MAX_BLOCK_TAG + 1) if t not in used), None)
        if reuse is not None:
            used.add(reuse)
        tags[text] = NO_FREE_BLOCK_TAG if reuse is None else str(reuse)
    done: set[str] = set()
    for block in blocks:
        if block.header != "telephony-service":
            continue
        children = []
        for line in block.children:
            match = _AH.match(normal(line))
            if match is None:
                children.append(line)
                continue
            text = match.group(2)
            if text in done:
                continue
            done.add(text)
            children.append(f" after-hours block pattern {tags[text]} {text}" + (" 7-24" if wanted[text][1] else ""))
        block.children = children


# --- keys and servers ---------------------------------------------------------------------------


def _share_keys(blocks: list[Block], notes: list[str]) -> None:
    """One ``crypto key generate`` per label, with the largest modulus asked for."""
    keys = [b for b in blocks if b.header.startswith("crypto key generate rsa")]
    by_label: dict[str, Block] = {}
    for block in keys:
        label = re.search(r" label (\S+)", block.header)
        name = label.group(1) if label else ""
        modulus = int(m.group(1)) if (m := re.search(r" modulus (\d+)", block.header)) else 0
        if name not in by_label:
            by_label[name] = block
            continue
        first = by_label[name]
        first_modulus = int(m.group(1)) if (m := re.search(r" modulus (\d+)", first.header)) else 0
        if modulus > first_modulus:
            first.header = block.header
        first.checks += [c for c in block.checks if c not in first.checks]
        blocks.remove(block)
        notes.append(f"one RSA key {'labelled ' + name if name else '(the default label)'} for {', '.join(first.checks)}")


def _share_tacacs(blocks: list[Block]) -> None:
    """One TACACS+ server definition: the ``tacacs server`` form wins over ``tacacs-server host``."""
    if any(b.header.startswith("tacacs server ") for b in blocks):
        blocks[:] = [b for b in blocks if not b.header.startswith("tacacs-server host ")]


# --- order --------------------------------------------------------------------------------------

_PHASES: tuple[tuple[str, str], ...] = (
    (r"(no )?(service password-encryption|enable |username )", "secrets and local users first: every login below has one"),
    (r"(no )?(aaa |tacacs|radius)", "AAA, after the local users it falls back to"),
    (r"(crypto key generate|ip domain|ip ssh )", "keys and SSH version 2, before any line is limited to SSH"),
    (r"(access-list |ip access-list )", "access lists, before anything applies them"),
    (r"(?!line )", "the rest"),
    (r"line ", "the vty lines last: SSH, per-user login and the admin ACL are ready by now"),
)


def _phase(header: str) -> int:
    for index, (pattern, _) in enumerate(_PHASES):
        if re.match(pattern, header):
            return index
    return len(_PHASES) - 1


def _ordered(blocks: list[Block], notes: list[str]) -> list[str]:
    """Merge blocks about the same object and write them in the safe order."""
    merged: dict[tuple[int, str], Block] = {}
    for block in blocks:
        phase = _phase(block.header)
        key = section_key(block.header) if block.children else block.header
        slot_key = slot(block.header) if not block.children else None
        if slot_key is not None and not block.header.startswith("no "):
            clash = next((k for k, b in merged.items() if not b.children and slot(b.header) == slot_key
                          and b.header != block.header and not b.header.startswith("no ")), None)  # fmt: skip
            if clash is not None and not slot_key.startswith("username"):
                earlier = merged.pop(clash)
                notes.append(f"'{earlier.header}' ({', '.join(earlier.checks)}) and '{block.header}' "
                             f"({', '.join(block.checks)}) set one value: the plan keeps the second")  # fmt: skip
        found = merged.get((phase, key))
        if found is None:
            merged[(phase, key)] = Block(block.header, list(block.children), list(block.comments), list(block.checks))
            continue
        found.checks += [c for c in block.checks if c not in found.checks]
        found.comments += [c for c in block.comments if c not in found.comments]
        for child in block.children:
            child_slot = slot(normal(child))
            replaced = False
            if child_slot is not None and not normal(child).startswith("no "):
                for index, old in enumerate(found.children):
                    if slot(normal(old)) == child_slot and normal(old) != normal(child):
                        found.children[index] = child
                        replaced = True
            if not replaced and normal(child) not in [normal(c) for c in found.children]:
                found.children.append(child)
    lines: list[str] = []
    current = -1
    said = ""
    for (phase, _), block in sorted(merged.items(), key=lambda item: item[0][0]):
        if phase != current:
            current = phase
            lines.append(f"! --- {_PHASES[phase][1]}")
            said = ""
        lines += block.comments
        checks = ", ".join(sorted(block.checks))
        if checks != said or block.children or block.comments:
            lines.append(f"! {checks}")
            said = checks
        lines.append(block.header)
        lines += _safe_child_order(block)
    return lines


def _safe_child_order(block: Block) -> list[str]:
    """Sub-mode lines of a vty range: the access-class and the login before the transport."""
    if not block.header.startswith("line "):
        return block.children

    def rank(line: str) -> int:
        text = normal(line)
        return 0 if text.startswith("access-class") else 1 if text.startswith(("login", "no password")) else 2

    return sorted(block.children, key=rank)


def _placeholders(lines: Iterable[str]) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for line in lines:
        text = line.replace("<admin-subnet> <wildcard>", "\0a").replace("<nms-subnet> <wildcard>", "\0n")
        for pair, marker in (("<admin-subnet> <wildcard>", "\0a"), ("<nms-subnet> <wildcard>", "\0n")):
            if marker in text:
                found.setdefault(pair, _MEANINGS[pair])
        for name in _PLACEHOLDER.findall(text):
            if name == "<masked>":
                found.setdefault(name, "a value masked in the audited snapshot: fill in the real one")
            elif name.startswith("<community-on-line-"):
                found.setdefault(name, f"the SNMP community on running-config line {name[19:-1]} (masked in the audit)")
            elif name.startswith("<new-"):
                found.setdefault(name, "a new secret value you choose (not reused elsewhere)")
            else:
                found.setdefault(name, _MEANINGS.get(name, "your value"))
    return list(found.items())


# --- rollback -----------------------------------------------------------------------------------


def rollback_lines(before: IosConfig, after: IosConfig) -> list[str]:
    """The commands that take ``after`` back to ``before``: the vty lines first, users last."""
    lines = _diff(before.root, after.root, 0)
    return lines


def _diff(before: Node, after: Node, depth: int) -> list[str]:
    pad = " " * depth
    first: list[str] = []
    middle: list[str] = []
    last: list[str] = []
    old = {_identity(c): c for c in before.children}
    new = {_identity(c): c for c in after.children}
    for key, node in new.items():
        if key in old:
            previous = old[key]
            if _is_acl(node):
                if _entries(previous) != _entries(node):
                    last += _undo_acl(previous, node)
                continue
            sub = _diff(previous, node, depth + 1)
            if sub:
                target = first if node.text.startswith("line ") else middle
                target += [pad + previous.text, *sub]
            continue
        if _is_acl(node):
            last.append(_no_acl(node))
            continue
        replaced = _slot_owner(before, node)
        if f"no {node.text}" in old or (node.text.startswith("no ") and node.text[3:] in old):
            continue  # the old line is written back below, which undoes this one
        if replaced is not None:
            middle += _restore(replaced, depth)
        elif node.text.startswith("no "):
            middle.append(pad + node.text[3:])
        elif node.children and _slot_owner(before, node) is None and depth == 0:
            middle.append(pad + "no " + node.text)
        else:
            key_slot = slot(node.text)
            if key_slot is not None and key_slot.startswith(_NO_BY_SLOT):
                last.append(pad + "no " + key_slot)
            else:
                middle.append(pad + "no " + node.text)
    for key, node in old.items():
        if key in new or _slot_owner(after, node) is not None:
            continue
        if _is_acl(node):
            last += _restore(node, 0)
        else:
            middle += _restore(node, depth)
    return first + middle + last


#: Commands undone by their slot alone (``no username joe``, ``no after-hours block pattern 3``).
_NO_BY_SLOT = ("username", "enable ", "snmp-server community", "after-hours block pattern")


def _identity(node: Node) -> str:
    return section_key(node.text) if node.children or _is_acl(node) else node.text


def _is_acl(node: Node) -> bool:
    return node.numbered or node.text.startswith(("ip access-list standard ", "ip access-list extended "))


def _entries(acl: Node) -> list[tuple[int | None, str]]:
    return [(e.sequence, e.text) for e in acl.children]


def _slot_owner(config: Node, node: Node) -> Node | None:
    key = slot(node.text)
    if key is None:
        return None
    return next((c for c in config.children if slot(c.text) == key and c.text != node.text), None)


def _restore(node: Node, depth: int) -> list[str]:
    if node.numbered:
        number = node.text.split()[-1]
        return [f"access-list {number} {e.text}" for e in node.children]
    out = [" " * depth + node.text]
    if _is_acl(node):
        return out + [f" {e.text}" for e in node.children]
    for child in node.children:
        out += _restore(child, depth + 1)
    return out


def _no_acl(node: Node) -> str:
    return f"no access-list {node.text.split()[-1]}" if node.numbered else f"no {node.text}"


def _undo_acl(before: Node, after: Node) -> list[str]:
    """An ACL the plan changed, back as it was (deleted and written again, in its order)."""
    return [_no_acl(after), *_restore(before, 0)]
