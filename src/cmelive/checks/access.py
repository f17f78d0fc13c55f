"""Basic access security: enable secret, password encryption, vty filtering and transport, SSH,
login authentication, AAA fallback and accounting, privilege levels, local user secrets, and the
crypto the SSH server offers at login.

Guide: "Configuring Basic Cisco Unified CME Access Security".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cmelive.checks.base import Evidence, Outcome, Severity, failed, not_applicable, passed, unknown
from cmelive.checks.common import device_acls, evidence_by_line, running_config, unique_evidence
from cmelive.checks.registry import check
from cmelive.commands import RUNNING_CONFIG, SHOW_VERSION
from cmelive.parsing.running_config import ConfigLine, RunningConfig
from cmelive.ssh_session import SSH_SESSION
from cmelive.topology import Acl, find_acl, free_standard_acl_number, numbered_acl_kind, trusted_sources

if TYPE_CHECKING:  # imported for annotations only: cmelive.policy -> checks -> here would be a cycle
    from cmelive.state import DeviceState

SECTION = "Configuring Basic Cisco Unified CME Access Security"
NEW_SECRET = "<new-secret>"
ADMIN_USER_LINE = f"username <admin-user> privilege 15 secret {NEW_SECRET}"

# AAA login methods that authenticate a person (as opposed to a shared password or nobody).
_SERVER_METHODS = re.compile(r"^(group \S+|tacacs\+|radius|krb5|krb5-telnet|ldap)$")
_PER_USER_METHODS = re.compile(r"^(group \S+|tacacs\+|radius|krb5|krb5-telnet|ldap|local|local-case|cache \S+)$")
_SHARED_METHODS = ("enable", "line")
_FALLBACK_METHODS = ("local", "local-case", "enable", "line")



def vty_ranges(config: RunningConfig) -> list[ConfigLine]:
    """The ``line vty A B`` sections, in config order."""
    return config.sections(r"line vty \d")


def _no_vty() -> Outcome:
    # IOS always prints at least "line vty 0 4"; a config without one is a capture we cannot judge.
    return unknown(
        "the running-config shows no 'line vty' section (IOS always prints one), so the vty lines cannot be judged"
    )




def _has_aaa(config: RunningConfig) -> bool:
    return config.first_global(r"aaa new-model$") is not None


def _usernames(config: RunningConfig) -> list[ConfigLine]:
    return config.globals(r"username \S+")


# --- CME-ACC-01 ------------------------------------------------------------------------------------


def _is_level_15(line: ConfigLine) -> bool:
    words = line.command.split()
    if "level" in words:
        index = words.index("level")
        return index + 1 < len(words) and words[index + 1] == "15"
    return True


@check(
    id="CME-ACC-01",
    title="Enable secret is set and no enable password is configured",
    severity=Severity.HIGH,
    family="ACC",
    reference=f"{SECTION} > Enabling Secret and Encrypt Passwords",
    rationale=(
        "The enable password is kept in clear text (or reversible type 7) and gives privileged EXEC. "
        "The guide says to use enable secret, which is stored as a one-way hash, and to remove enable password."
    ),
    passes_when="`enable secret` (level 15) is configured and no `enable password` line exists.",
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:16: enable password <masked>",),
    remediation_example=(f"enable secret {NEW_SECRET}", "no enable password"),
)
def enable_secret(state: DeviceState) -> Outcome:
    config = running_config(state)
    secrets = [line for line in config.globals(r"enable (secret|algorithm-type) ") if _is_level_15(line)]
    passwords = config.globals(r"enable password ")
    if secrets and not passwords:
        return passed(f"enable secret is set (line {secrets[0].number}) and no enable password exists",
                      [state.evidence(secrets[0])])
    remediation: list[str] = []
    problems: list[str] = []
    if not secrets:
        problems.append("no enable secret is configured")
        remediation.append(f"enable secret {NEW_SECRET}")
    for line in passwords:
        words = line.command.split()
        # The type digit sits just before the value: "enable password [level N] [7] VALUE".
        type_7 = len(words) >= 4 and words[-2] == "7" and words[-3] != "level"
        stored = "as reversible type 7" if type_7 else "in clear text"
        problems.append(f"enable password on line {line.number} is stored {stored}")
        if "level" in words and not _is_level_15(line):
            level = words[words.index("level") + 1]
            remediation.append(f"no enable password level {level}")
        elif "no enable password" not in remediation:
            remediation.append("no enable password")
    return failed(
        "; ".join(problems),
        [state.evidence(line) for line in passwords],
        remediation,
        from_absence=not passwords,
    )


# --- CME-ACC-02 ------------------------------------------------------------------------------------


@check(
    id="CME-ACC-02",
    title="Service password-encryption is on",
    severity=Severity.MEDIUM,
    family="ACC",
    reference=f"{SECTION} > Enabling Secret and Encrypt Passwords",
    rationale=(
        "Without it, line, user and other passwords are shown in clear text in the configuration to anyone "
        "who sees it or captures it in transit. The guide asks for it (type 7 is weak, but it stops casual reading)."
    ),
    passes_when="`service password-encryption` is configured.",
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:5: no service password-encryption",),
    remediation_example=("service password-encryption",),
)
def password_encryption(state: DeviceState) -> Outcome:
    config = running_config(state)
    on = config.first_global(r"service password-encryption$")
    if on is not None:
        return passed(f"service password-encryption is on (line {on.number})", [state.evidence(on)])
    off = config.first_global(r"no service password-encryption$")
    if off is not None:
        return failed(
            f"service password-encryption is off (line {off.number}): passwords in the config are in clear text",
            [state.evidence(off)],
            ["service password-encryption"],
        )
    return failed(
        "service password-encryption is not configured (IOS default: off): passwords in the config are in clear text",
        [],
        ["service password-encryption"],
        from_absence=True,
    )


# --- CME-ACC-03 ------------------------------------------------------------------------------------


def _acl_definition(name: str, kind: str, sources: list[str]) -> list[str]:
    """Commands that define access list ``name`` permitting ``sources`` (for vty access)."""
    rules = [f"permit tcp {source} any eq 22" if kind == "extended" else f"permit {source}" for source in sources]
    if name.isdigit():
        return [f"access-list {name} {rule}" for rule in rules]
    return [f"ip access-list {kind} {name}", *(f" {rule}" for rule in rules)]


@check(
    id="CME-ACC-03",
    title="Every vty range is filtered by an existing access-class",
    severity=Severity.HIGH,
    family="ACC",
    reference=f"{SECTION} > Restrict Access to VTY",
    rationale=(
        "The guide says to allow only certain users and locations to reach the router's vty lines by applying "
        "an access list with access-class. An access-class that names an undefined list, or a list that "
        "permits any source, restricts nothing."
    ),
    passes_when=(
        "every `line vty` range has `access-class N in`, access list N is defined, and it does not permit "
        "any source (`ipv6 access-class` alone does not count: it filters IPv6 only)."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:120: line vty 5 15",),
    remediation_example=(
        "access-list 10 permit <admin-subnet> <wildcard>",
        "line vty 5 15",
        " access-class 10 in",
    ),
)
def vty_access_class(state: DeviceState) -> Outcome:
    config = running_config(state)
    ranges = vty_ranges(config)
    if not ranges:
        return _no_vty()
    sources = trusted_sources(state.policy)
    unfiltered: list[ConfigLine] = []
    undefined: dict[str, list[tuple[ConfigLine, ConfigLine]]] = {}
    open_acls: dict[str, tuple[Acl, list[tuple[ConfigLine, ConfigLine]]]] = {}
    good: list[tuple[ConfigLine, ConfigLine, Acl]] = []
    ipv6_only: list[str] = []
    for vty in ranges:
        access_class = vty.first(r"access-class \S+ in\b")
        if access_class is None:
            unfiltered.append(vty)
            if vty.has(r"ipv6 access-class \S+ in\b"):
                ipv6_only.append(vty.command)
            continue
        name = access_class.words[1]
        acl = find_acl(config, name, found=device_acls(state))
        if acl is None:
            undefined.setdefault(name, []).append((vty, access_class))
        elif acl.permits_any_source() is not None:
            open_acls.setdefault(name, (acl, []))[1].append((vty, access_class))
        else:
            good.append((vty, access_class, acl))
    if not unfiltered and not undefined and not open_acls:
        summary = ", ".join(f"{vty.command} -> ACL {acl.name}" for vty, _, acl in good)
        return passed(
            f"every vty range is filtered: {summary}",
            [state.evidence(line) for vty, access_class, _ in good for line in (vty, access_class)],
        )

    problems: list[str] = []
    evidence: list[Evidence] = []
    remediation: list[str] = []
    for vty in unfiltered:
        evidence.append(state.evidence(vty))
    if unfiltered:
        note = f" ({', '.join(ipv6_only)}: ipv6 access-class filters IPv6 only)" if ipv6_only else ""
        problems.append(f"no access-class on {', '.join(v.command for v in unfiltered)}{note}")
    for name, uses in undefined.items():
        for vty, access_class in uses:
            evidence += [state.evidence(vty), state.evidence(access_class)]
        problems.append(
            f"{', '.join(v.command for v, _ in uses)} use access list {name}, which is not defined "
            "(IOS then lets every address in)"
        )
        kind = "extended" if name.isdigit() and numbered_acl_kind(int(name)) == "extended" else "standard"
        remediation += _acl_definition(name, kind, sources)
    for name, (acl, uses) in open_acls.items():
        entry = acl.permits_any_source()
        assert entry is not None
        for vty, access_class in uses:
            evidence += [state.evidence(vty), state.evidence(access_class)]
        evidence.append(state.evidence(entry.line))
        problems.append(
            f"{', '.join(v.command for v, _ in uses)} use access list {name}, whose line {entry.line.number} "
            "permits any source"
        )
        replacement = [f"permit tcp {s} any eq 22" if acl.kind == "extended" else f"permit {s}" for s in sources]
        removal = f"no {entry.sequence}" if entry.sequence is not None else f"no {entry.text}"
        remediation += [f"ip access-list {acl.kind} {name}", f" {removal}", *(f" {r}" for r in replacement)]
    if unfiltered:
        # Reuse a list another range already applies well; otherwise one this config is about to define.
        if good:
            target = good[0][2].name
        elif undefined:
            target = next(iter(undefined))
        else:
            target = str(free_standard_acl_number(config, found=device_acls(state)))
            remediation += _acl_definition(target, "standard", sources)
        for vty in unfiltered:
            remediation += [vty.command, f" access-class {target} in"]
    return failed(
        "; ".join(problems),
        unique_evidence(evidence),
        remediation,
        # An ACL that permits any is shown by a line; a missing access-class or list is an absence,
        # and a missing access-class only needs its own vty range to be whole.
        from_absence=not open_acls,
        within=[vty.number for vty in unfiltered],
    )


# --- CME-ACC-04 ------------------------------------------------------------------------------------


@check(
    id="CME-ACC-04",
    title="Every vty range accepts SSH only",
    severity=Severity.HIGH,
    family="ACC",
    reference=f"{SECTION} > Configuring SSH Access",
    rationale=(
        "Telnet sends the login and every command in clear text. The guide notes the vty default transport "
        "is Telnet and says to allow SSH only with transport input ssh."
    ),
    passes_when=(
        "every `line vty` range has `transport input ssh` (or `transport input none`: the range is closed); "
        "telnet, `all`, other protocols, or no `transport input` line (the IOS default) fail."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:118: line vty 0 4", "show running-config:121:  transport input telnet ssh"),
    remediation_example=("line vty 0 4", " transport input ssh"),
)
def vty_transport_ssh(state: DeviceState) -> Outcome:
    config = running_config(state)
    ranges = vty_ranges(config)
    if not ranges:
        return _no_vty()
    good: list[Evidence] = []
    problems: list[str] = []
    evidence: list[Evidence] = []
    remediation: list[str] = []
    shown_by_a_line = False
    for vty in ranges:
        transport = vty.first(r"transport input\b")
        protocols = set(transport.words[2:]) if transport is not None else set()
        if transport is not None and (protocols == {"none"} or protocols == {"ssh"}):
            good += [state.evidence(vty), state.evidence(transport)]
            continue
        evidence.append(state.evidence(vty))
        if transport is None:
            problems.append(
                f"{vty.command} has no 'transport input' line (IOS default: telnet and all other protocols)"
            )
        else:
            evidence.append(state.evidence(transport))
            shown_by_a_line = True
            problems.append(f"{vty.command} accepts {' '.join(transport.words[2:])} (line {transport.number})")
        remediation += [vty.command, " transport input ssh"]
    if not problems:
        return passed("every vty range accepts SSH only (or nothing)", good)
    return failed(
        "; ".join(problems) + ". Make sure SSH logins work (RSA key, ip ssh version 2) before closing telnet.",
        evidence,
        remediation,
        from_absence=not shown_by_a_line,
        # A range without a transport input line fails on its own lines: more ranges cannot help it.
        within=[vty.number for vty in ranges if vty.first(r"transport input\b") is None],
    )


# --- CME-ACC-05 ------------------------------------------------------------------------------------


@check(
    id="CME-ACC-05",
    title="SSH is restricted to version 2",
    severity=Severity.MEDIUM,
    family="ACC",
    reference=f"{SECTION} > Configuring SSH Access",
    rationale=(
        "The guide moves vty access to SSH; SSH version 1 has known protocol weaknesses, and IOS accepts it "
        "by default (version 1.99) unless ip ssh version 2 is configured."
    ),
    passes_when="`ip ssh version 2` is configured.",
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:40: ip ssh version 1",),
    remediation_example=("ip ssh version 2",),
)
def ssh_version_2(state: DeviceState) -> Outcome:
    config = running_config(state)
    version = config.first_global(r"ip ssh version \d")
    if version is not None and version.words[3] == "2":
        # IOS prints one ip ssh version line: no other part of the capture can hold another.
        return passed(
            f"SSH is restricted to version 2 (line {version.number})", [state.evidence(version)], settled=True
        )
    if version is not None:
        return failed(
            f"SSH version {version.words[3]} is configured (line {version.number})",
            [state.evidence(version)],
            ["ip ssh version 2"],
        )
    return failed(
        "no 'ip ssh version 2': IOS accepts SSH version 1 clients by default (1.99)",
        [],
        ["ip ssh version 2"],
        from_absence=True,
    )


# --- CME-ACC-06 ------------------------------------------------------------------------------------


def _login_lists(config: RunningConfig) -> dict[str, ConfigLine]:
    return {line.words[3]: line for line in config.globals(r"aaa authentication login \S+ ")}


def _methods(words: list[str]) -> list[str]:
    """AAA method tokens: ``["group tacacs+", "local"]`` from ``group tacacs+ local``."""
    methods: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word in ("group", "cache") and index + 1 < len(words):
            methods.append(f"{word} {words[index + 1]}")
            index += 2
            continue
        if word != "passwd-expiry":
            methods.append(word)
        index += 1
    return methods


def _list_methods(line: ConfigLine) -> list[str]:
    return _methods(line.command.split()[4:])


@dataclass
class _LoginFindings:
    failures: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    remediation: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    good: list[str] = field(default_factory=list)
    good_evidence: list[Evidence] = field(default_factory=list)
    #: Ranges whose printed lines cannot decide (trimmed in publication).
    unsure: list[str] = field(default_factory=list)
    unsure_evidence: list[Evidence] = field(default_factory=list)


def _rebuilt_list(name: str, methods: list[str]) -> str:
    """The list with its per-user methods kept and a local fallback, shared/no-auth methods dropped."""
    kept = [m for m in methods if _PER_USER_METHODS.match(m)]
    if "local" not in kept and "local-case" not in kept:
        kept.append("local")
    return f"aaa authentication login {name} {' '.join(kept)}"


@check(
    id="CME-ACC-06",
    title="Logins on the vty lines are authenticated per user",
    severity=Severity.HIGH,
    family="ACC",
    reference=(
        f"{SECTION} > Using AAA to Secure Access; Configuring Local User Authentication When AAA Is Not Available"
    ),
    rationale=(
        "A shared line password cannot be tied to a person and is rarely changed, and 'no login' lets anyone "
        "who reaches the line in. The guide authenticates users against an AAA server, or the local user "
        "database (login local) when AAA is not available."
    ),
    passes_when=(
        "with `aaa new-model`: the login list each vty uses (`login authentication LIST` or `default`) starts "
        "with a per-user method (server group or local); without it: every vty has `login local`. No vty has "
        "bare `login` with a line `password`, or `no login`."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=(
        "show running-config:578: line vty 0 4",
        "show running-config:579:  password <masked>",
        "show running-config:580:  login",
    ),
    remediation_example=(ADMIN_USER_LINE, "line vty 0 4", " login local", " no password"),
)
def vty_login_authenticated(state: DeviceState) -> Outcome:
    config = running_config(state)
    ranges = vty_ranges(config)
    if not ranges:
        return _no_vty()
    findings = _LoginFindings()
    has_users = bool(_usernames(config))
    if _has_aaa(config):
        _judge_aaa_logins(state, config, ranges, findings, has_users)
    else:
        _judge_line_logins(state, ranges, findings, has_users)
    closed = f"; closed (nobody can log in): {'; '.join(findings.closed)}" if findings.closed else ""
    if findings.failures:
        remediation = findings.remediation
        if not has_users and any("local" in line for line in remediation):
            remediation = [ADMIN_USER_LINE, *remediation]
        return failed("; ".join(findings.failures) + closed, unique_evidence(findings.evidence), remediation)
    if findings.unsure:
        return unknown("; ".join(findings.unsure) + closed, unique_evidence(findings.unsure_evidence))
    good = "; ".join(findings.good) if findings.good else "no vty range accepts logins"
    return passed(good + closed, unique_evidence(findings.good_evidence))


def _judge_aaa_logins(
    state: DeviceState,
    config: RunningConfig,
    ranges: list[ConfigLine],
    findings: _LoginFindings,
    has_users: bool,
) -> None:
    lists = _login_lists(config)
    fixed: set[str] = set()
    for vty in ranges:
        named = vty.first(r"login authentication \S+")
        list_name = named.words[2] if named is not None else "default"
        list_line = lists.get(list_name)
        if list_line is None:
            if named is not None:
                # IOS: naming a list that aaa authentication login does not define disables login on the line.
                findings.closed.append(f"{vty.command} names login list {list_name}, which is not defined")
            elif has_users:
                findings.good.append(f"{vty.command}: aaa new-model without a login list uses the local user database")
                findings.good_evidence.append(state.evidence(vty))
            else:
                findings.closed.append(f"{vty.command}: aaa new-model uses the local user database, which is empty")
            continue
        methods = _list_methods(list_line)
        first = methods[0] if methods else "none"
        shown = [state.evidence(vty)] + ([state.evidence(named)] if named is not None else [])
        if first == "none" or first in _SHARED_METHODS:
            what = "no authentication" if first == "none" else f"the shared {first} password"
            findings.failures.append(
                f"{vty.command} uses login list {list_name} (line {list_line.number}), which starts with "
                f"'{first}': {what}"
            )
            findings.evidence += [state.evidence(list_line), *shown]
            if list_name not in fixed:
                fixed.add(list_name)
                findings.remediation.append(_rebuilt_list(list_name, methods))
        else:
            findings.good.append(f"{vty.command} uses login list {list_name} ({' '.join(methods)})")
            findings.good_evidence += [state.evidence(list_line), *shown]


def _judge_line_logins(
    state: DeviceState,
    ranges: list[ConfigLine],
    findings: _LoginFindings,
    has_users: bool,
) -> None:
    for vty in ranges:
        no_login = vty.first(r"no login$")
        login = vty.first(r"login( local| tacacs)?$")
        password = vty.first(r"password ")
        if no_login is not None:
            findings.failures.append(f"{vty.command} has 'no login' (line {no_login.number}): no authentication at all")
            findings.evidence += [state.evidence(vty), state.evidence(no_login)]
            findings.remediation += [vty.command, " login local"]
            if password is not None:
                findings.remediation.append(" no password")
            continue
        if login is not None and login.command in ("login local", "login tacacs"):
            if login.command == "login local" and not has_users:
                findings.closed.append(f"{vty.command} has login local but no username is configured")
            else:
                findings.good.append(f"{vty.command} has {login.command}")
                findings.good_evidence += [state.evidence(vty), state.evidence(login)]
            continue
        # Bare "login", or no login line: vty lines default to "login" (line password).
        if password is not None:
            how = f"bare login (line {login.number})" if login is not None else "the default login"
            findings.failures.append(
                f"{vty.command} uses {how} with a shared line password (line {password.number})"
            )
            shown = sorted((line for line in (login, password) if line is not None), key=lambda line: line.number)
            findings.evidence += [state.evidence(vty), *(state.evidence(line) for line in shown)]
            findings.remediation += [vty.command, " login local", " no password"]
        elif login is None:
            # IOS prints "login" (or "no login") in every vty range it has not given AAA: neither here
            # means the range was trimmed, and what it held cannot be told.
            findings.unsure.append(f"{vty.command} shows neither 'login' nor 'no login' (IOS prints one)")
            findings.unsure_evidence.append(state.evidence(vty))
        else:
            # IOS answers "Password required, but none set" and drops the session: the range is closed.
            findings.closed.append(f"{vty.command} has login but no password, so IOS refuses every login")


# --- CME-ACC-07 ------------------------------------------------------------------------------------


@check(
    id="CME-ACC-07",
    title="AAA login keeps a local fallback for when the AAA server is unreachable",
    severity=Severity.MEDIUM,
    family="ACC",
    reference=f"{SECTION} > Configuring Local User Authentication When AAA Is Not Available",
    rationale=(
        "The guide says to always require login authentication even when the external AAA server is "
        "unreachable: a login list that names only a server group locks administrators out when the server "
        "is down, and a fallback of 'none' lets anyone in."
    ),
    passes_when=(
        "with `aaa new-model`: every `aaa authentication login` list that uses a server group also lists "
        "`local`, `local-case`, `enable` or `line` (never `none`), and local `username` entries exist for a "
        "local fallback. Not applicable without `aaa new-model`."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:12: aaa authentication login default group tacacs+",),
    remediation_example=("aaa authentication login default group tacacs+ local", ADMIN_USER_LINE),
)
def aaa_login_fallback(state: DeviceState) -> Outcome:
    config = running_config(state)
    aaa = config.first_global(r"aaa new-model$")
    if aaa is None:
        return not_applicable("aaa new-model is off: logins do not depend on an AAA server")
    lists = _login_lists(config)
    users = _usernames(config)
    has_enable = bool(config.globals(r"enable (secret|password|algorithm-type) "))
    problems: list[str] = []
    evidence: list[Evidence] = []
    remediation: list[str] = []
    needs_users = not lists  # no list at all: IOS authenticates logins against the local database
    for name, line in lists.items():
        methods = _list_methods(line)
        servers = [i for i, m in enumerate(methods) if _SERVER_METHODS.match(m)]
        if "local" in methods or "local-case" in methods:
            needs_users = True
        if "none" in methods:
            problems.append(
                f"login list {name} (line {line.number}) falls back to 'none': anyone gets in when the methods "
                "before it error out"
            )
            evidence.append(state.evidence(line))
            remediation.append(_rebuilt_list(name, methods))
            needs_users = True
            continue
        if not servers:
            continue
        # A local method before the server group serves as well as one after it: either way local users
        # still get in while the server is unreachable.
        fallbacks = [m for m in methods if m in _FALLBACK_METHODS]
        fallback = fallbacks[0] if fallbacks else None
        if fallback is None:
            problems.append(f"login list {name} (line {line.number}) has no fallback after {methods[servers[0]]}")
            evidence.append(state.evidence(line))
            remediation.append(_rebuilt_list(name, methods))
            needs_users = True
        elif fallback == "enable" and not has_enable:
            problems.append(f"login list {name} (line {line.number}) falls back to enable, but no enable secret is set")
            evidence.append(state.evidence(line))
            remediation.append(f"enable secret {NEW_SECRET}")
    if needs_users and not users:
        problems.append("no local username exists for the local fallback")
        remediation.append(ADMIN_USER_LINE)
    if problems:
        return failed("; ".join(problems), evidence, remediation, from_absence=not evidence)
    if not lists:
        return passed(
            f"no login list: logins use the local user database ({len(users)} username(s))",
            [state.evidence(aaa)],
        )
    return passed(
        "every login list keeps a fallback: "
        + "; ".join(f"{name}: {' '.join(_list_methods(line))}" for name, line in lists.items()),
        [state.evidence(line) for line in lists.values()],
    )


# --- CME-ACC-08 ------------------------------------------------------------------------------------

_RECORD_TYPES = ("start-stop", "stop-only", "wait-start", "none")


@dataclass(frozen=True)
class _AccountingList:
    line: ConfigLine
    name: str
    record: str
    methods: tuple[str, ...]

    @property
    def to_server(self) -> bool:
        return self.record != "none" and any(_SERVER_METHODS.match(m) for m in self.methods)


def _accounting_lists(config: RunningConfig, kind: str) -> dict[str, _AccountingList]:
    """``aaa accounting exec ...`` (kind "exec") or ``aaa accounting commands 15 ...`` (kind "commands")."""
    found: dict[str, _AccountingList] = {}
    pattern = r"aaa accounting exec " if kind == "exec" else r"aaa accounting commands? 15 "
    for line in config.globals(pattern):
        words = line.command.split()[3 if kind == "exec" else 4:]
        # The guide's old form "aaa accounting exec start-stop tacacs+" has no list name: the default list.
        name = "default" if words and words[0] in _RECORD_TYPES else (words[0] if words else "default")
        if words and words[0] not in _RECORD_TYPES:
            words = words[1:]
        record = words[0] if words else "none"
        methods = tuple(_methods([w for w in words[1:] if w != "broadcast"]))
        found[name] = _AccountingList(line, name, record, methods)
    return found


def _server_group(config: RunningConfig) -> tuple[str, list[str]]:
    """The server group this device already uses, and any commands needed to create one."""
    for line in config.globals(r"aaa (authentication|authorization|accounting) "):
        words = line.command.split()
        if "group" in words:
            index = words.index("group")
            if index + 1 < len(words):
                return words[index + 1], []
    group = config.first_global(r"aaa group server (tacacs\+|radius) \S+")
    if group is not None:
        return group.words[4], []
    if config.globals(r"(tacacs server \S+|tacacs-server host )"):
        return "tacacs+", []
    if config.globals(r"(radius server \S+|radius-server host )"):
        return "radius", []
    # The named "tacacs server NAME" block is a 15.x command: IOS 12.x only has "tacacs-server host"
    # (cmelive.ios_commands records both forms and their references).
    # Read from the roots, not through first_global: the version only picks the remediation's form,
    # and a query would make a capture whose head (where "version" is) was cut turn the verdict unknown.
    release = next((line for line in config.roots if re.match(r"version \d+\.", line.command)), None)
    if release is not None and int(release.words[1].split(".")[0]) < 15:
        # As the CME SRND writes it for 12.x: the host, then the shared key on its own line (a per-host
        # "key" is not in the Cisco texts cmelive.ios_commands was confirmed against).
        return "tacacs+", ["tacacs-server host <tacacs-server-ip>", "tacacs-server key <shared-key>"]
    return "tacacs+", ["tacacs server <server-name>", " address ipv4 <tacacs-server-ip>", " key <shared-key>"]


@check(
    id="CME-ACC-08",
    title="Exec and level-15 command accounting go to an AAA server",
    severity=Severity.MEDIUM,
    family="ACC",
    reference=f"{SECTION} > Configuring Accounting and Auditing on AAA",
    rationale=(
        "Command accounting on a TACACS+ server records who ran which command and when, so changes (and "
        "abuse) can be traced. The guide configures aaa accounting commands and aaa accounting exec."
    ),
    passes_when=(
        "`aaa new-model`, and the exec and level-15 command accounting lists every vty uses (`default` or the "
        "one its `accounting` line names) record to a server group (not `none`)."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:14: aaa accounting exec default none",),
    remediation_example=(
        "aaa accounting exec default start-stop group tacacs+",
        "aaa accounting commands 15 default start-stop group tacacs+",
    ),
)
def aaa_accounting(state: DeviceState) -> Outcome:
    config = running_config(state)
    group, server_setup = _server_group(config)
    if not _has_aaa(config):
        # IOS prints "no aaa new-model" when AAA is off: then a line shows it.
        off = config.first_global(r"no aaa new-model$")
        return failed(
            "aaa new-model is off: no exec or command accounting is possible",
            [state.evidence(off)] if off is not None else [],
            [
                "aaa new-model",
                *server_setup,
                f"aaa accounting exec default start-stop group {group}",
                f"aaa accounting commands 15 default start-stop group {group}",
            ],
            from_absence=off is None,
        )
    ranges = vty_ranges(config)
    problems: list[str] = []
    evidence: list[Evidence] = []
    remediation: list[str] = []
    good: list[Evidence] = []
    for kind, label, line_pattern in (
        ("exec", "exec", r"accounting exec \S+"),
        ("commands", "level-15 command", r"accounting commands 15 \S+"),
    ):
        lists = _accounting_lists(config, kind)
        # Which list applies: the one a vty names, else default. No vty section: default only.
        users: dict[str, list[tuple[ConfigLine, ConfigLine | None]]] = {}
        for vty in ranges or []:
            named = vty.first(line_pattern)
            name = named.words[-1] if named is not None else "default"
            users.setdefault(name, []).append((vty, named))
        if not ranges:
            users["default"] = []
        for name, vtys in users.items():
            defined = lists.get(name)
            where = f" (used by {', '.join(v.command for v, _ in vtys)})" if name != "default" else ""
            if defined is not None and defined.to_server:
                good.append(state.evidence(defined.line))
                continue
            if defined is None:
                covered = ""
                if kind == "commands":
                    levels = {line.words[3] for line in config.globals(r"aaa accounting commands? \d+ ")}
                    if levels:
                        covered = f" (commands are accounted at level {', '.join(sorted(levels, key=int))} only)"
                problems.append(f"no {label} accounting list {name}{where}{covered}")
            else:
                problems.append(
                    f"{label} accounting list {name} (line {defined.line.number}) does not record to a server "
                    f"group{where}"
                )
                evidence.append(state.evidence(defined.line))
            for vty, named in vtys:
                if named is not None:
                    evidence += [state.evidence(vty), state.evidence(named)]
            command = "exec" if kind == "exec" else "commands 15"
            remediation.append(f"aaa accounting {command} {name} start-stop group {group}")
    if not problems:
        return passed("exec and level-15 command accounting record to a server group", evidence_by_line(good))
    if group == "tacacs+" and server_setup:
        remediation = [*server_setup, *remediation]
    return failed("; ".join(problems), evidence_by_line(evidence), remediation, from_absence=not evidence)


# --- CME-ACC-09 ------------------------------------------------------------------------------------


def _privilege_level(line: ConfigLine) -> int | None:
    words = line.command.split()
    if words[0] == "username":
        if "privilege" in words:
            index = words.index("privilege")
            if index + 1 < len(words) and words[index + 1].isdigit():
                return int(words[index + 1])
        return None
    if "level" in words:
        index = words.index("level")
        if index + 1 < len(words) and words[index + 1].isdigit():
            return int(words[index + 1])
    return None


@check(
    id="CME-ACC-09",
    title="Extra privilege levels have their own enable secret",
    severity=Severity.LOW,
    family="ACC",
    reference=f"{SECTION} > Creating Multiple Privilege Levels",
    rationale=(
        "The guide uses privilege levels between 1 and 15 to give operators only the commands they need, each "
        "protected by its own enable secret level N; without one, the level cannot be entered safely with "
        "enable N and its separation is lost."
    ),
    passes_when=(
        "every privilege level N (1 < N < 15) used by `privilege <mode> level N` or `username ... privilege N` "
        "has `enable secret level N`; not applicable when no such level is used."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:20: privilege exec level 5 show running-config",),
    remediation_example=(f"enable secret level 5 {NEW_SECRET}",),
)
def privilege_level_secrets(state: DeviceState) -> Outcome:
    config = running_config(state)
    used: dict[int, list[ConfigLine]] = {}
    for line in config.globals(r"(privilege \S+ (all )?level \d+|username \S+ .*\bprivilege \d+)"):
        level = _privilege_level(line)
        if level is not None and 1 < level < 15:
            used.setdefault(level, []).append(line)
    if not used:
        return not_applicable("no privilege level other than 0, 1 and 15 is used")
    secrets = {
        _privilege_level(line): line for line in config.globals(r"enable (secret|algorithm-type) .*\blevel \d+")
    }
    passwords = {_privilege_level(line): line for line in config.globals(r"enable password .*\blevel \d+")}
    missing = [level for level in sorted(used) if level not in secrets]
    if not missing:
        return passed(
            "every extra privilege level has its enable secret: " + ", ".join(str(level) for level in sorted(used)),
            [state.evidence(secrets[level]) for level in sorted(used)],
        )
    evidence: list[Evidence] = []
    remediation: list[str] = []
    problems: list[str] = []
    for level in missing:
        evidence += [state.evidence(line) for line in used[level]]
        password = passwords.get(level)
        if password is not None:
            evidence.append(state.evidence(password))
            problems.append(f"level {level} is used but only has an enable password (line {password.number})")
        else:
            problems.append(
                f"level {level} is used (line {used[level][0].number}) but has no enable secret level {level}"
            )
        remediation.append(f"enable secret level {level} {NEW_SECRET}")
        if password is not None:
            remediation.append(f"no enable password level {level}")
    return failed("; ".join(problems), evidence_by_line(evidence), remediation, from_absence=True)


# --- CME-ACC-10 ------------------------------------------------------------------------------------


def _credential(words: list[str]) -> tuple[str, str | None] | None:
    """(keyword, type) of a ``username`` line: ("secret", "9"), ("password", "7"), ("nopassword", None)."""
    for index, word in enumerate(words[2:], start=2):
        if word == "nopassword":
            return word, None
        if word in ("password", "secret"):
            if word == "secret" and words[index - 2] == "algorithm-type":
                return word, f"algorithm-type {words[index - 1]}"
            follower = words[index + 1] if index + 1 < len(words) else None
            return word, follower if follower is not None and follower.isdigit() else None
    return None


@check(
    id="CME-ACC-10",
    title="Local users are stored as secrets, not passwords",
    severity=Severity.MEDIUM,
    family="ACC",
    reference=f"{SECTION} > Configuring Local User Authentication When AAA Is Not Available",
    rationale=(
        "username ... password is kept in clear text or as type 7, which anyone can reverse; username ... secret "
        "stores a one-way hash (type 5, 8 or 9). The guide's own example uses type 7 passwords, which is why "
        "this check goes beyond it."
    ),
    passes_when=(
        "every local `username` with a credential uses `secret` of type 5, 8 or 9 (or `algorithm-type`); "
        "`password`, `secret 4` and `nopassword` fail. Not applicable without local users."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:30: username joe password 7 <masked>",),
    remediation_example=("no username joe", f"username joe secret {NEW_SECRET}"),
)
def local_user_secrets(state: DeviceState) -> Outcome:
    config = running_config(state)
    users: list[tuple[ConfigLine, str, str | None]] = []
    for line in _usernames(config):
        credential = _credential(line.command.split())
        if credential is not None:
            users.append((line, *credential))
    if not users:
        return not_applicable("no local username with a password or secret")
    bad: list[tuple[ConfigLine, str]] = []
    for line, keyword, kind in users:
        if keyword == "nopassword":
            bad.append((line, "has no password at all"))
        elif keyword == "password":
            bad.append((line, f"uses a type {kind or 0} password ({'reversible' if kind == '7' else 'clear text'})"))
        elif kind == "4":
            bad.append((line, "uses a type 4 secret (unsalted SHA-256, withdrawn by Cisco)"))
        elif kind is not None and kind.isdigit() and kind not in ("5", "8", "9"):
            bad.append((line, f"uses a type {kind} secret"))
    if not bad:
        return passed(
            f"all {len(users)} local user(s) use a hashed secret", [state.evidence(line) for line, _, _ in users]
        )
    remediation: list[str] = []
    for line, _ in bad:
        words = line.command.split()
        name = words[1]
        privilege = f" privilege {_privilege_level(line)}" if _privilege_level(line) is not None else ""
        # IOS refuses "username X secret" while "username X password" exists: remove the user first.
        remediation += [f"no username {name}", f"username {name}{privilege} secret {NEW_SECRET}"]
    return failed(
        "; ".join(f"username {line.words[1]} (line {line.number}) {why}" for line, why in bad),
        [state.evidence(line) for line, _ in bad],
        remediation,
    )


# --- CME-ACC-11 ------------------------------------------------------------------------------------

#: Key exchanges whose exchange hash is SHA-1: RFC 4253's groups 1 and 14, RFC 4419's group
#: exchange, and their GSS-API forms (RFC 4462).
_SHA1_KEX = re.compile(r"(diffie-hellman-group(1|14|-exchange)-sha1|gss-(group1|group14|gex)-sha1-.*)")
#: Host-key algorithms that sign with SHA-1: ssh-rsa and ssh-dss (RFC 4253), their X.509 (RFC 6187)
#: and OpenSSH certificate forms.
_SHA1_HOST_KEY = frozenset(
    {
        "ssh-rsa",
        "ssh-dss",
        "x509v3-ssh-rsa",
        "x509v3-ssh-dss",
        "ssh-rsa-cert-v01@openssh.com",
        "ssh-dss-cert-v01@openssh.com",
    }
)
_RSA_HOST_KEY = "ssh-rsa"  # the key type of an RSA host key, whatever signature it makes
_GROUP_EXCHANGE = "diffie-hellman-group-exchange-"
#: What IOS XE 16 and later offer instead, in the order Cisco's hardening examples give them.
SSH_KEX_WITHOUT_SHA1 = "ip ssh server algorithm kex ecdh-sha2-nistp521 ecdh-sha2-nistp384 ecdh-sha2-nistp256"
SSH_HOSTKEY_WITHOUT_SHA1 = "ip ssh server algorithm hostkey rsa-sha2-512 rsa-sha2-256"
SSH_DH_MIN_SIZE = "ip ssh dh min size 2048"
CLASSIC_IOS_CANNOT = (
    "! upgrade to IOS XE 16 or later: IOS 12.4/15.x offers no key exchange or host-key signature without SHA-1"
)
_IOS_MAJOR = re.compile(r"^0*(\d+)\.")
_IOS_BANNER = re.compile(r"^Cisco IOS(?: XE)? Software\b.*?\bVersion (\d[\w.()]*)", re.MULTILINE)


@dataclass(frozen=True)
class _Platform:
    """Whether the router's IOS can offer SSH without SHA-1 (IOS XE 16+), from ``show version``."""

    generation: str  # "xe" (IOS XE 16 and later), "classic" (IOS 12.x/15.x, IOS XE 3.x), "unknown"
    version: str | None = None
    evidence: Evidence | None = None


def _platform(state: DeviceState) -> _Platform:
    records = state.records(SHOW_VERSION)
    version = str(records[0].get("version") or "") if records else ""
    if not version and state.output(SHOW_VERSION).usable:
        # A capture the template cannot parse (cut short, pasted partly): its banner line still names the release.
        banner = _IOS_BANNER.search(state.output(SHOW_VERSION).text)
        version = banner.group(1) if banner else ""
    match = _IOS_MAJOR.match(version)
    if match is None:
        return _Platform("unknown")
    # IOS XE 3.x numbers its releases 03.xx and runs an IOS 15 image: classic for SSH's purposes.
    generation = "xe" if int(match.group(1)) >= 16 else "classic"
    return _Platform(generation, version, state.find_line(SHOW_VERSION, version))


def _ssh_key_label(state: DeviceState) -> str:
    hostname = state.snapshot.hostname
    if not hostname:
        records = state.records(SHOW_VERSION)
        hostname = str(records[0].get("hostname") or "") if records else ""
    return f"{hostname or '<hostname>'}-SSH"


def _ssh_evidence(state: DeviceState) -> list[Evidence]:
    ssh = state.ssh
    assert ssh is not None  # the engine checks `requires` first
    lines = [
        f"server: {ssh.server_version}",
        f"kex offered: {', '.join(ssh.offered.kex) or 'none'}",
        f"host-key algorithms offered: {', '.join(ssh.offered.host_key) or 'none'}",
        f"host key: {ssh.host_key_text}",
    ]
    return [state.evidence_text(SSH_SESSION, None, line) for line in lines]


@check(
    id="CME-ACC-11",
    title="The SSH server offers key exchange and host-key signatures without SHA-1, with a long enough RSA key",
    severity=Severity.MEDIUM,
    family="ACC",
    reference=f"{SECTION} > Configuring SSH Access",
    rationale=(
        "The guide moves vty access to SSH and has the router generate its RSA key. What that SSH server then "
        "offers decides what protects the session: SHA-1 is broken for signatures (chosen-prefix collisions) "
        "and OpenSSH no longer accepts ssh-rsa signatures or SHA-1 key exchanges by default, the 1024-bit "
        "Oakley group 1 is within reach of a state-level attacker, and a short RSA host key can be factored. "
        "IOS 12.4 and 15.x offer nothing else; IOS XE 16 and later can be told to offer ECDH key exchange and "
        "rsa-sha2 host-key signatures instead. Seen by cmelive itself at login, not read from the "
        "configuration (which lists none of it), so it is what every client of the router gets."
    ),
    passes_when=(
        "what the SSH server showed when cmelive logged in (evidence source `ssh session`: the server's "
        "identification string, its offered key exchanges and host-key algorithms, and its host key, kept in "
        "the snapshot's meta.json) includes a key exchange other than `diffie-hellman-group1-sha1`, "
        "`diffie-hellman-group14-sha1` and `diffie-hellman-group-exchange-sha1`, and a host-key signature "
        "other than `ssh-rsa`/`ssh-dss` (e.g. `rsa-sha2-256`), and its RSA host key is at least policy "
        "`min_rsa_bits` (default 2048). The remediation depends on `show version`: IOS XE 16 and later get "
        "`ip ssh server algorithm kex`/`hostkey` lines; IOS 12.4/15.x cannot do better than SHA-1 and are told "
        "to upgrade. Unknown on a snapshot that holds no SSH facts (captures replayed from files)."
    ),
    requires=(SSH_SESSION,),
    uses=(SHOW_VERSION,),
    example_evidence=(
        "ssh session: server: SSH-2.0-Cisco-1.25",
        "ssh session: kex offered: diffie-hellman-group-exchange-sha1, diffie-hellman-group14-sha1",
        "ssh session: host-key algorithms offered: ssh-rsa",
        "ssh session: host key: ssh-rsa, 1024 bits",
    ),
    remediation_example=(
        "crypto key generate rsa general-keys label cme-branch-7-SSH modulus 2048",
        "ip ssh rsa keypair-name cme-branch-7-SSH",
        SSH_DH_MIN_SIZE,
        "! on IOS XE 16 or later:",
        SSH_KEX_WITHOUT_SHA1,
        SSH_HOSTKEY_WITHOUT_SHA1,
    ),
)
def ssh_crypto_without_sha1(state: DeviceState) -> Outcome:
    ssh = state.ssh
    assert ssh is not None  # the engine checks `requires` first
    evidence = _ssh_evidence(state)
    offered = ssh.offered
    if not offered.kex or not offered.host_key:
        return unknown("the recorded SSH session holds no key exchange or host-key list", evidence)
    strong_kex = [name for name in offered.kex if not _SHA1_KEX.fullmatch(name)]
    strong_host_key = [name for name in offered.host_key if name not in _SHA1_HOST_KEY]
    minimum = state.policy.min_rsa_bits
    is_rsa = ssh.host_key_type == _RSA_HOST_KEY
    if is_rsa and ssh.host_key_bits is None and strong_kex and strong_host_key:
        return unknown("the size of the RSA host key was not recorded", evidence)
    short_key = is_rsa and ssh.host_key_bits is not None and ssh.host_key_bits < minimum
    problems: list[str] = []
    if not strong_kex:
        problems.append(f"only SHA-1 key exchanges are offered ({', '.join(offered.kex)})")
    if not strong_host_key:
        problems.append(f"only SHA-1 host-key signatures are offered ({', '.join(offered.host_key)})")
    if short_key:
        problems.append(f"the RSA host key is {ssh.host_key_bits} bits (policy: at least {minimum})")
    if not problems:
        key = f"; its RSA host key is {ssh.host_key_bits} bits" if is_rsa else f"; its host key is {ssh.host_key_text}"
        return passed(
            f"the SSH server offers key exchanges without SHA-1 ({', '.join(strong_kex)}) and host-key "
            f"signatures without SHA-1 ({', '.join(strong_host_key)}){key}; negotiated: {ssh.negotiated_text}",
            evidence,
        )
    platform = _platform(state)
    remediation: list[str] = []
    if short_key:
        label = _ssh_key_label(state)
        remediation += [
            f"crypto key generate rsa general-keys label {label} modulus {max(minimum, 2048)}",
            f"ip ssh rsa keypair-name {label}",
        ]
    if ssh.server_version.startswith("SSH-1.99-"):
        remediation.append("ip ssh version 2")  # 1.99: SSH version 1 is accepted too (CME-ACC-05)
    sha1_only = not strong_kex or not strong_host_key
    if not strong_kex and platform.generation != "xe" and any(k.startswith(_GROUP_EXCHANGE) for k in offered.kex):
        remediation.append(SSH_DH_MIN_SIZE)  # the group exchange then uses at least a 2048-bit group
    algorithm_lines = ([] if strong_kex else [SSH_KEX_WITHOUT_SHA1]) + (
        [] if strong_host_key else [SSH_HOSTKEY_WITHOUT_SHA1]
    )
    if platform.generation == "xe":
        remediation += algorithm_lines
    elif platform.generation == "classic" and sha1_only:
        problems.append(f"IOS {platform.version} cannot offer better than SHA-1: upgrade to IOS XE 16 or later")
        remediation.append(CLASSIC_IOS_CANNOT)
    elif sha1_only:
        problems.append("'show version' was not read, so whether this IOS can do better is not known")
        remediation += [
            "! IOS XE 16 or later: configure the lines below; IOS 12.4/15.x cannot offer them (upgrade)",
            *algorithm_lines,
        ]
    if platform.evidence is not None and sha1_only:
        evidence.append(platform.evidence)
    return failed("; ".join(problems), evidence, remediation)
