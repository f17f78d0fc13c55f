"""SNMP communities: not guessable, bound to an ACL, no unrestricted write access.

Guide: "Configuring Basic Cisco Unified CME Access Security > Using ACLs for SNMP Access".
Community strings are secrets: messages name a community by its line number, never by its value,
and evidence goes through ``state.evidence`` (masked).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cmelive.checks.base import Evidence, Outcome, Severity, failed, not_applicable, passed, unknown
from cmelive.checks.common import device_acls, running_config
from cmelive.checks.registry import check
from cmelive.commands import RUNNING_CONFIG
from cmelive.masking import MASK
from cmelive.parsing.running_config import ConfigLine, RunningConfig
from cmelive.topology import Acl, find_acl, free_standard_acl_number

if TYPE_CHECKING:  # imported for annotations only: cmelive.policy -> checks -> here would be a cycle
    from cmelive.policy import Policy
    from cmelive.state import DeviceState

REFERENCE = "Configuring Basic Cisco Unified CME Access Security > Using ACLs for SNMP Access"
NMS_SOURCE = "<nms-subnet> <wildcard>"


@dataclass(frozen=True)
class Community:
    """One ``snmp-server community STRING [view V] [RO|RW] [ipv6 NACL] [ACL]`` line."""

    line: ConfigLine
    value: str
    view: str | None
    access: str  # "RO" or "RW" (IOS default: RO)
    ipv6_acl: str | None
    acl: str | None

    @property
    def masked(self) -> bool:
        """True when the snapshot was saved masked: the value cannot be judged."""
        return MASK in self.value

    @property
    def label(self) -> str:
        return f"community on line {self.line.number}"

    @property
    def placeholder(self) -> str:
        return f"<community-on-line-{self.line.number}>"

    def command(self, value: str, acl: str | None) -> str:
        """The community line with ``value`` and ``acl`` in place, everything else kept."""
        parts = ["snmp-server community", value]
        if self.view:
            parts += ["view", self.view]
        parts.append(self.access)
        if self.ipv6_acl:
            parts += ["ipv6", self.ipv6_acl]
        if acl:
            parts.append(acl)
        return " ".join(parts)


def communities(config: RunningConfig) -> list[Community]:
    found: list[Community] = []
    for line in config.globals(r"snmp-server community \S+"):
        words = line.command.split()
        value = words[2]
        view = ipv6 = acl = None
        access = "RO"
        rest = words[3:]
        while rest:
            word = rest[0]
            if word == "view" and len(rest) > 1:
                view, rest = rest[1], rest[2:]
            elif word.upper() in ("RO", "RW"):
                access, rest = word.upper(), rest[1:]
            elif word == "ipv6" and len(rest) > 1:
                ipv6, rest = rest[1], rest[2:]
            else:
                acl, rest = word, rest[1:]
        found.append(Community(line, value, view, access, ipv6, acl))
    return found


def is_well_known(value: str, policy: Policy) -> bool:
    lowered = value.lower()
    return lowered in {known.lower() for known in policy.snmp_well_known} or lowered.startswith("changeme")



def _masked_message(masked: list[Community]) -> str:
    lines = ", ".join(str(c.line.number) for c in masked)
    return (
        f"the community string on line(s) {lines} is masked in this snapshot, so it cannot be judged; "
        "collect with --no-mask to check it"
    )


@check(
    id="CME-SNMP-01",
    title="No SNMP community is a well-known string",
    severity=Severity.HIGH,
    family="SNMP",
    reference=REFERENCE,
    rationale=(
        "A community string is the only credential SNMPv1/v2c has; well-known ones (public, private, read, "
        "write, the guide's own changeme-rw) are the first an attacker tries. The guide says to change them."
    ),
    passes_when=(
        "no `snmp-server community` string matches the policy's well-known list (case-insensitive) or starts "
        "with `changeme`; unknown when the snapshot's community strings are masked."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:60: snmp-server community <masked> RO 10",),
    remediation_example=(
        "no snmp-server community <community-on-line-60>",
        "snmp-server community <new-community> RO 10",
    ),
)
def well_known_community(state: DeviceState) -> Outcome:
    config = running_config(state)
    found = communities(config)
    if not found:
        return not_applicable("no SNMP community is configured (SNMPv3 only, or SNMP off)")
    known = [c for c in found if not c.masked and is_well_known(c.value, state.policy)]
    if known:
        remediation: list[str] = []
        for community in known:
            remediation += [
                f"no snmp-server community {community.placeholder}",
                community.command("<new-community>", community.acl),
            ]
        return failed(
            "well-known community string: " + ", ".join(c.label for c in known),
            [state.evidence(c.line) for c in known],
            remediation,
        )
    masked = [c for c in found if c.masked]
    if masked:
        return unknown(_masked_message(masked))
    return passed(f"none of the {len(found)} community string(s) is well-known")


def _acl_definition(name: str) -> list[str]:
    if name.isdigit():
        return [f"access-list {name} permit {NMS_SOURCE}"]
    return [f"ip access-list standard {name}", f" permit {NMS_SOURCE}"]


def _acl_problem(config: RunningConfig, community: Community, acls: list[Acl]) -> str | None:
    """Why ``community`` is not restricted by an IPv4 ACL, or None when it is (``acls``: the config's)."""
    if community.acl is None:
        ipv6 = " (its ipv6 ACL filters IPv6 only)" if community.ipv6_acl else ""
        return f"{community.label} has no ACL{ipv6}: any host that knows the string can use it"
    if find_acl(config, community.acl, found=acls) is None:
        return (
            f"{community.label} names access list {community.acl}, which is not defined "
            "(IOS then lets every address in)"
        )
    return None


@check(
    id="CME-SNMP-02",
    title="Every SNMP community is bound to an existing ACL",
    severity=Severity.HIGH,
    family="SNMP",
    reference=REFERENCE,
    rationale=(
        "The guide binds each community to an IP access list so that only the management stations can use it; "
        "without one, anyone who learns or guesses the string can query (or change) the router."
    ),
    passes_when=(
        "every `snmp-server community` names an IPv4 access list (number or name) that is defined; unknown when a "
        "secret filter removed the rest of a community line (Oxidized's `<configuration removed>`)."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:61: snmp-server community <masked> RO",),
    remediation_example=(
        f"access-list 10 permit {NMS_SOURCE}",
        "snmp-server community <community-on-line-61> RO 10",
    ),
)
def community_acl(state: DeviceState) -> Outcome:
    config = running_config(state)
    found = communities(config)
    if not found:
        return not_applicable("no SNMP community is configured (SNMPv3 only, or SNMP off)")
    acls = device_acls(state)
    bad = [(c, problem) for c in found if (problem := _acl_problem(config, c, acls)) is not None]
    # IOS always prints RO or RW after the string: a masked line that stops at the string had the
    # rest cut by a secret filter (Oxidized's "snmp-server community <configuration removed>"), so
    # whether it names an ACL is not known.
    unseen = [c for c, _ in bad if c.masked and len(c.line.command.split()) == 3]
    bad = [(c, problem) for c, problem in bad if c not in unseen]
    if unseen and not bad:
        return unknown(
            f"the rest of the community line(s) {', '.join(str(c.line.number) for c in unseen)} was removed "
            "with the secret (a config archive's filter): whether an ACL is bound cannot be seen",
            [state.evidence(c.line) for c in unseen],
        )
    if not bad:
        return passed(
            "every community is bound to a defined ACL: " + ", ".join(f"{c.label} -> {c.acl}" for c in found),
            [state.evidence(c.line) for c in found],
        )
    remediation: list[str] = []
    defined: set[str] = set()
    bound = [c.acl for c in found if c.acl is not None and find_acl(config, c.acl, found=acls) is not None]
    target = bound[0] if bound else None
    for community, _ in bad:
        if community.acl is not None:
            if community.acl not in defined:
                defined.add(community.acl)
                remediation += _acl_definition(community.acl)
            continue
        if target is None:
            target = str(free_standard_acl_number(config, found=acls))
            defined.add(target)
            remediation += _acl_definition(target)
        remediation.append(community.command(community.placeholder, target))
    return failed(
        "; ".join(problem for _, problem in bad),
        [state.evidence(c.line) for c, _ in bad],
        remediation,
        # A community line without an ACL is shown by the line itself; an undefined ACL is an absence.
        from_absence=all(c.acl is not None for c, _ in bad),
    )


@check(
    id="CME-SNMP-03",
    title="No unrestricted read-write SNMP community",
    severity=Severity.MEDIUM,
    family="SNMP",
    reference=REFERENCE,
    rationale=(
        "A read-write community lets its holder change the configuration over SNMP (and copy it out with "
        "CISCO-CONFIG-COPY-MIB). If one is needed it must be ACL-bound and not guessable."
    ),
    passes_when=(
        "no `snmp-server community ... RW`, or every RW community is bound to a defined ACL and is not a "
        "well-known string; unknown when an ACL-bound RW community's string is masked."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:62: snmp-server community <masked> RW",),
    remediation_example=("no snmp-server community <community-on-line-62>",),
)
def read_write_community(state: DeviceState) -> Outcome:
    config = running_config(state)
    found = communities(config)
    if not found:
        return not_applicable("no SNMP community is configured (SNMPv3 only, or SNMP off)")
    writable = [c for c in found if c.access == "RW"]
    if not writable:
        return passed(f"no read-write community ({len(found)} read-only)")
    bad: list[tuple[Community, str]] = []
    masked: list[Community] = []
    shown_by_a_line = False
    for community in writable:
        problem = _acl_problem(config, community, device_acls(state))
        if problem is not None:
            bad.append((community, f"read-write {problem}"))
            shown_by_a_line = shown_by_a_line or community.acl is None
        elif community.masked:
            masked.append(community)
        elif is_well_known(community.value, state.policy):
            bad.append((community, f"read-write {community.label} is a well-known string"))
            shown_by_a_line = True
    if bad:
        evidence: list[Evidence] = [state.evidence(c.line) for c, _ in bad]
        return failed(
            "; ".join(problem for _, problem in bad)
            + ". Remove it; if SNMP write access is really needed, re-create it with a new string bound to an ACL",
            evidence,
            [f"no snmp-server community {c.placeholder}" for c, _ in bad],
            from_absence=not shown_by_a_line,
        )
    if masked:
        return unknown("read-write communities are ACL-bound, but " + _masked_message(masked))
    return passed(
        "every read-write community is ACL-bound and not well-known: " + ", ".join(c.label for c in writable),
        [state.evidence(c.line) for c in writable],
    )
