"""Toll fraud: class of restriction on costly routes and on phones, after-hours blocking of
international calls and fraud-prone NANP area codes, trusted VoIP call sources, bounded VoIP calls.

Guide: "Configuring COR for Incoming and Outgoing Calls", "Restricting Outgoing Calling Patterns",
"COR for Incoming/Outgoing Calls to Prevent Toll Fraud", "After-hours Blocking to Restrict Outgoing
Calling Pattern-Toll Fraud", "Other Alternatives for Ensuring Cisco Unified CME Security".

What a dial-peer "reaches" is decided by matching its destination pattern (IOS syntax, see
:mod:`cmelive.dialplan`) against the numbers users dial: 011 + at least 7 digits (international),
1-900/1-976 + 7 digits (premium), 411 (directory), each with no access code or after 9 or 8.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cmelive.checks.base import Evidence, Outcome, Severity, failed, not_applicable, passed, unknown
from cmelive.checks.common import evidence_by_line, running_config, unique_evidence
from cmelive.checks.registry import check
from cmelive.commands import RUNNING_CONFIG, SHOW_VERSION
from cmelive.dialplan import (
    ACCESS_CODES,
    INTERNATIONAL,
    LONG_DISTANCE,
    PREMIUM,
    TOLL_CLASSES,
    CorSetup,
    DialPattern,
    DialPeer,
    NumberClass,
    PatternError,
    access_codes_reaching,
    access_codes_reaching_each,
    cor_setup,
    cor_uses,
    dial_peers,
)
from cmelive.parsing.running_config import ConfigLine, RunningConfig, telephony_service

if TYPE_CHECKING:  # imported for annotations only: cmelive.policy -> checks -> here would be a cycle
    from cmelive.state import DeviceState

ACCESS_SECTION = "Configuring Basic Cisco Unified CME Access Security"
TELEPHONY_SECTION = "Cisco Unified CME Security for IP Telephony"
COR_REFERENCE = (
    f"{ACCESS_SECTION} > Configuring COR for Incoming and Outgoing Calls / "
    f"{TELEPHONY_SECTION} > COR for Incoming/Outgoing Calls to Prevent Toll Fraud"
)
AFTER_HOURS_REFERENCE = (
    f"{ACCESS_SECTION} > Restricting Outgoing Calling Patterns / "
    f"{TELEPHONY_SECTION} > After-hours Blocking to Restrict Outgoing Calling Pattern-Toll Fraud"
)
ALTERNATIVES_SECTION = "Other Alternatives for Ensuring Cisco Unified CME Security"

# The guide's COR names for each kind of costly route: (dial-peer cor custom name, outgoing list).
_GUIDE_COR_NAMES: dict[str, tuple[str, str]] = {
    "international": ("int-call", "callint"),
    "long-distance": ("ld-call", "callld"),
    "premium": ("1900", "call1900"),
    "directory": ("411", "call411"),
}
# The guide's after-hours schedule (7 p.m. to 7 a.m., every day).
_GUIDE_SCHEDULE = tuple(
    f"after-hours day {day} 19:00 07:00" for day in ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
)
# CME takes block-pattern tags 1 to 32 (the Call Blocking guide: up to 32 patterns; telephony-service's
# context help offers 32 indexes). When all are taken the line says so with a placeholder, never a tag IOS refuses.
MAX_BLOCK_TAG = 32
NO_FREE_BLOCK_TAG = "<free-block-tag>"
# Digits an international or NANP number has after the prefix a block pattern must catch.
_NUMBER_TAIL = 7



def _absent(state: DeviceState, message: str) -> Outcome:
    """Not applicable because something is missing. "The feature is not configured" is a conclusion
    from absence: the engine turns it into unknown when the damage could hide the feature."""
    del state
    return not_applicable(message)




def _dial_peers(state: DeviceState) -> tuple[DialPeer, ...]:
    """Every dial-peer of the running-config, read once per device through ``state.derived``:
    several checks walk them, and reading one compiles its destination patterns."""
    return tuple(dial_peers(running_config(state)))


def _routing_peers(state: DeviceState) -> list[DialPeer]:
    """POTS and VoIP dial-peers that can route calls: not shut down, with a destination."""
    return [
        peer
        for peer in state.derived(_dial_peers)
        if peer.kind in ("pots", "voip") and not peer.shutdown and (peer.destinations or peer.unreadable)
    ]


def _peer_lines(state: DeviceState, peer: DialPeer, *extra: ConfigLine) -> list[Evidence]:
    """The peer's header, its destination line and ``extra`` lines of it, in config order; then, for
    a pattern map, the map's entries."""
    own = [peer.header, *extra]
    if peer.destination_line is not None:
        own.append(peer.destination_line)
    mapped = [d.line for d in peer.destinations if all(d.line is not line for line in own)]
    return [state.evidence(line) for line in [*sorted(own, key=lambda line: line.number), *mapped]]


def _patterns_text(peer: DialPeer) -> str:
    return ", ".join(d.pattern.text for d in peer.destinations) or "unreadable destination"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _unreadable_note(peers: list[DialPeer]) -> str:
    return "; ".join(f"{peer.name}: {reason}" for peer in peers for reason in peer.unreadable)


# --- CME-COR-01 ------------------------------------------------------------------------------------


def _classes_reached(peer: DialPeer) -> list[NumberClass]:
    return [cls for cls in TOLL_CLASSES if any(cls.reached_by(pattern) for pattern in peer.patterns())]


def _route_kind(peer: DialPeer, classes: list[NumberClass]) -> str:
    """Which of the guide's outgoing lists suits the peer: its costliest class, except that a general
    long-distance route (91 + any area code) reaches 1-900 too, and the guide gives it callld, not call1900:
    putting the premium COR on it would cut every user without 1900 off long distance."""
    if classes[0] is PREMIUM and any(LONG_DISTANCE.reached_by(pattern) for pattern in peer.patterns()):
        return LONG_DISTANCE.name
    return classes[0].name


@dataclass
class _CorFix:
    """Remediation lines for COR-01, grouped so each definition is printed once."""

    cor: CorSetup
    names: list[str]
    lists: dict[str, list[str]]
    peers: list[str]

    def list_for(self, kind: str, reusable: dict[str, str]) -> str:
        """The outgoing list for a route of ``kind`` (see :func:`_route_kind`): the device's own if it has one."""
        if kind in reusable:
            return reusable[kind]
        name, list_name = _GUIDE_COR_NAMES[kind]
        existing = self.cor.lists.get(list_name)
        if existing is not None and existing.members:
            return list_name
        self.add_member(list_name, name)
        return list_name

    def add_member(self, list_name: str, name: str) -> None:
        if name not in self.cor.names and name not in self.names:
            self.names.append(name)
        members = self.lists.setdefault(list_name, [])
        if name not in members:
            members.append(name)

    def lines(self) -> list[str]:
        out: list[str] = []
        if self.names:
            out += ["dial-peer cor custom", *(f" name {name}" for name in self.names)]
        for list_name, members in self.lists.items():
            out += [f"dial-peer cor list {list_name}", *(f" member {m}" for m in members)]
        return out + self.peers


@check(
    id="CME-COR-01",
    title="Dial-peers that reach international, premium or directory numbers have an outgoing COR list",
    severity=Severity.HIGH,
    family="COR",
    reference=COR_REFERENCE,
    rationale=(
        "A dial-peer without corlist outgoing can be used by every caller. The guide puts an outgoing COR list on "
        "the dial-peers for international (9011T), 1-900 and 411 calls so that only users whose incoming list "
        "carries the matching COR can reach these costly numbers."
    ),
    passes_when=(
        "every active POTS/VoIP dial-peer whose destination pattern can match 011 + 7 or more digits, "
        "1-900/1-976 + 7 digits or 411 (with no access code or after 9 or 8; `+` E.164 forms too) has "
        "`corlist outgoing` naming a list with members; catch-alls such as `.T`, `T` or `9T` reach all three. "
        "Not applicable when no dial-peer has a destination pattern."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=(
        "show running-config:112: dial-peer voice 11 pots",
        "show running-config:113: destination-pattern 9011T",
    ),
    remediation_example=(
        "dial-peer cor custom",
        " name int-call",
        "dial-peer cor list callint",
        " member int-call",
        "dial-peer voice 11 pots",
        " corlist outgoing callint",
    ),
)
def cor_on_costly_dial_peers(state: DeviceState) -> Outcome:
    config = running_config(state)
    peers = _routing_peers(state)
    if not peers:
        return _absent(state, "no active POTS or VoIP dial-peer has a destination pattern")
    cor = cor_setup(config)
    unreadable = [peer for peer in peers if peer.unreadable]
    reaching = [(peer, classes) for peer in peers if (classes := _classes_reached(peer))]
    guarded: list[tuple[DialPeer, list[NumberClass], ConfigLine]] = []
    unguarded: list[tuple[DialPeer, list[NumberClass], str | None]] = []  # (.., .., name of an empty list)
    for peer, classes in reaching:
        corlist = peer.corlist_outgoing
        if corlist is None:
            unguarded.append((peer, classes, None))
            continue
        defined = cor.lists.get(corlist.words[2])
        # An empty outgoing list is a subset of every incoming list: it lets every caller through.
        # (A list that is not defined at all is CME-COR-03's finding.)
        if defined is not None and not defined.members:
            unguarded.append((peer, classes, defined.name))
        else:
            guarded.append((peer, classes, corlist))

    if not unguarded:
        if unreadable:
            return unknown(
                f"no readable dial-peer reaches costly numbers without COR, but: {_unreadable_note(unreadable)}"
            )
        if not guarded:
            return passed(
                "no active dial-peer reaches international, premium or directory numbers: "
                + ", ".join(f"{peer.name} ({_patterns_text(peer)})" for peer in peers),
                [e for peer in peers for e in _peer_lines(state, peer)],
            )
        return passed(
            "every dial-peer that reaches costly numbers has an outgoing COR list: "
            + ", ".join(f"{peer.name} ({_patterns_text(peer)}) -> {line.words[2]}" for peer, _, line in guarded),
            [e for peer, _, line in guarded for e in _peer_lines(state, peer, line)],
        )

    # The device's own outgoing lists, by the kind of route the peers that already use them are.
    reusable: dict[str, str] = {}
    for peer, classes, line in guarded:
        defined = cor.lists.get(line.words[2])
        if defined is not None:
            reusable.setdefault(_route_kind(peer, classes), defined.name)
    fix = _CorFix(cor, [], {}, [])
    problems: list[str] = []
    evidence: list[Evidence] = []
    for peer, classes, empty_list in unguarded:
        labels = _and([cls.label for cls in classes])
        kind = _route_kind(peer, classes)
        if len(classes) == len(TOLL_CLASSES):
            note = " (a catch-all: better split it by destination)"
        elif kind == LONG_DISTANCE.name:
            note = " (a long-distance route: it gets the long-distance COR; block 1-900/976 always, see CME-AH-02)"
        else:
            note = ""
        if empty_list is None:
            evidence += _peer_lines(state, peer)
            problems.append(
                f"{peer.name} ({_patterns_text(peer)}) reaches {labels} numbers with no corlist outgoing{note}"
            )
            fix.peers += [peer.header.command, f" corlist outgoing {fix.list_for(kind, reusable)}"]
        else:
            corlist = peer.corlist_outgoing
            assert corlist is not None
            evidence += [*_peer_lines(state, peer, corlist), state.evidence(cor.lists[empty_list].header)]
            problems.append(
                f"{peer.name} ({_patterns_text(peer)}) reaches {labels} numbers, but its corlist outgoing "
                f"{empty_list} has no members, so it restricts no caller"
            )
            fix.add_member(empty_list, _GUIDE_COR_NAMES[kind][0])
    if unreadable:
        problems.append(f"not judged: {_unreadable_note(unreadable)}")
    return failed(
        "; ".join(problems) + ". Add the COR name to the incoming lists of the users allowed to make these calls.",
        unique_evidence(evidence),
        fix.lines(),
        from_absence=True,
        # Each failing peer lacks its corlist in its own lines, which more dial-peers cannot change.
        within=[peer.header.number for peer, _, _ in unguarded],
    )


# --- CME-COR-02 ------------------------------------------------------------------------------------

# Directory numbers that never place a call of their own: nothing to restrict.
_NON_CALLING_DN = r"(park-slot|paging( |$)|mwi (on|off|on-off)$)"
_INCOMING_COR = r"(corlist|cor) incoming \S+"


@dataclass(frozen=True)
class _Phone:
    """An ephone-dn or a voice register pool, and where its incoming COR list comes from."""

    header: ConfigLine
    incoming: ConfigLine | None  # the line itself, or the template's
    via: ConfigLine | None = None  # the line applying the template it comes from

    def evidence(self, state: DeviceState) -> list[Evidence]:
        return [state.evidence(line) for line in (self.header, self.via, self.incoming) if line is not None]


def _templates(config: RunningConfig, pattern: str, name_index: int) -> dict[str, ConfigLine]:
    return {line.words[name_index]: line for line in config.sections(pattern)}


def _phones(config: RunningConfig) -> list[_Phone]:
    """ephone-dns that can place calls and voice register pools (SIP phones: their COR is set on the
    pool, ``voice register dn`` has no COR command), each with its incoming COR line, direct or
    inherited from its template."""
    dn_templates = _templates(config, r"ephone-dn-template \d+$", 1)
    pool_templates = _templates(config, r"voice register template \d+$", 3)
    phones: list[_Phone] = []
    for dn in config.sections(r"ephone-dn \d+"):
        if dn.has(_NON_CALLING_DN):
            continue
        incoming = dn.first(_INCOMING_COR)
        applied = dn.first(r"ephone-dn-template \d+$")
        if incoming is None and applied is not None and applied.words[1] in dn_templates:
            inherited = dn_templates[applied.words[1]].first(_INCOMING_COR)
            phones.append(_Phone(dn, inherited, applied if inherited is not None else None))
        else:
            phones.append(_Phone(dn, incoming))
    for pool in config.sections(r"voice register pool \d+"):
        incoming = pool.first(_INCOMING_COR)
        applied = pool.first(r"template \d+$")
        if incoming is None and applied is not None and applied.words[1] in pool_templates:
            inherited = pool_templates[applied.words[1]].first(_INCOMING_COR)
            phones.append(_Phone(pool, inherited, applied if inherited is not None else None))
        else:
            phones.append(_Phone(pool, incoming))
    return phones


def _cor_in_use(config: RunningConfig) -> bool:
    return bool(cor_setup(config).lists) or any(
        use.direction == "outgoing" and use.owner.command.startswith("dial-peer voice ") for use in cor_uses(config)
    )


def _describe_phone(phone: _Phone) -> str:
    number = phone.header.first(r"number \S+")
    if number is None:
        return phone.header.command
    words = number.words
    # ephone-dn: "number 2001"; voice register pool: "number 1 dn 2" (button 1 shows voice register dn 2).
    shown = f"dn {words[3]}" if len(words) >= 4 and words[2] == "dn" else words[1]
    return f"{phone.header.command} ({shown})"


@check(
    id="CME-COR-02",
    title="When COR is used, every phone line has an incoming COR list",
    severity=Severity.MEDIUM,
    family="COR",
    reference=COR_REFERENCE,
    rationale=(
        "IOS lets a call through when the calling side has no incoming COR list, whatever the outgoing list of "
        "the dial-peer it reaches. An ephone-dn left without one can therefore call the international and "
        "premium dial-peers the COR design was meant to protect. The guide gives every ephone-dn a cor incoming."
    ),
    passes_when=(
        "when COR is in use (a `dial-peer cor list` or a dial-peer `corlist outgoing` exists), every ephone-dn "
        "that can place calls (not park-slot, paging or MWI) and every `voice register pool` has an incoming COR "
        "list (`corlist incoming`, the guide's `cor incoming`, or one from its ephone-dn-template / voice register "
        "template; `voice register dn` has no COR command). Not applicable when COR is not used (CME-COR-01 "
        "reports that) or there are no phone lines."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:140: ephone-dn 3 dual-line",),
    remediation_example=("ephone-dn 3 dual-line", " corlist incoming user"),
)
def cor_on_phone_lines(state: DeviceState) -> Outcome:
    config = running_config(state)
    if not _cor_in_use(config):
        return _absent(state, "COR is not used (no dial-peer cor list, no corlist outgoing); see CME-COR-01")
    phones = _phones(config)
    if not phones:
        return _absent(state, "no ephone-dn or voice register pool that places calls")
    missing = [phone for phone in phones if phone.incoming is None]
    if not missing:
        return passed(
            f"all {len(phones)} phone line(s) have an incoming COR list: "
            + ", ".join(f"{phone.header.command} -> {phone.incoming.words[2]}" for phone in phones if phone.incoming),
            [e for phone in phones for e in phone.evidence(state)],
        )
    used = Counter(phone.incoming.words[2] for phone in phones if phone.incoming is not None)
    # The list most lines already carry is this site's "ordinary user" list.
    restricted = used.most_common(1)[0][0] if used else "<user-cor-list>"
    remediation: list[str] = []
    for phone in missing:
        pool = phone.header.command.startswith("voice register pool")
        # Pools take "cor incoming LIST default" (or per number range); ephone-dns print "corlist incoming LIST".
        applied = f" cor incoming {restricted} default" if pool else f" corlist incoming {restricted}"
        remediation += [phone.header.command, applied]
    return failed(
        f"COR is in use, but {len(missing)} of {len(phones)} phone line(s) have no incoming COR list, so they can "
        f"call every dial-peer whatever its corlist outgoing: {', '.join(_describe_phone(p) for p in missing)}",
        [state.evidence(phone.header) for phone in missing],
        remediation,
        from_absence=True,
    )


# --- CME-COR-03 ------------------------------------------------------------------------------------


@check(
    id="CME-COR-03",
    title="The COR lists in use are defined, and their members are defined COR names",
    severity=Severity.MEDIUM,
    family="COR",
    reference=COR_REFERENCE,
    rationale=(
        "A COR design only restricts calls when the lists that dial-peers and phones name exist and hold COR "
        "names from dial-peer cor custom. A misspelt or deleted list silently changes who can call what."
    ),
    passes_when=(
        "every list named by `corlist incoming/outgoing` (dial-peers, ephone-dns, ephone-dn-templates) or "
        "`cor incoming/outgoing` (voice register pools and templates) is a `dial-peer cor list`, and each of "
        "its `member`s is a `name` under `dial-peer cor custom`. Not applicable when no COR list is applied."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=(
        "show running-config:120: dial-peer voice 11 pots",
        "show running-config:121: corlist outgoing callint",
    ),
    remediation_example=("dial-peer cor list callint", " member <cor-name>"),
)
def cor_lists_defined(state: DeviceState) -> Outcome:
    config = running_config(state)
    uses = cor_uses(config)
    if not uses:
        return _absent(state, "no COR list is applied to a dial-peer or phone line")
    cor = cor_setup(config)
    undefined: dict[str, list[Evidence]] = {}
    for use in uses:
        if use.list_name not in cor.lists:
            undefined.setdefault(use.list_name, []).extend([state.evidence(use.owner), state.evidence(use.line)])
    used_lists = [cor.lists[name] for name in dict.fromkeys(use.list_name for use in uses) if name in cor.lists]
    unknown_members: list[tuple[str, ConfigLine]] = [
        (cor_list.name, member)
        for cor_list in used_lists
        for member in cor_list.members
        if member.words[1] not in cor.names
    ]
    if not undefined and not unknown_members:
        return passed(
            f"the {len(used_lists)} COR list(s) in use are defined and their members are COR names: "
            + ", ".join(cor_list.name for cor_list in used_lists),
            [state.evidence(cor_list.header) for cor_list in used_lists],
        )
    problems: list[str] = []
    evidence: list[Evidence] = []
    remediation: list[str] = []
    missing_names = list(dict.fromkeys(member.words[1] for _, member in unknown_members))
    if missing_names:
        remediation += ["dial-peer cor custom", *(f" name {name}" for name in missing_names)]
    for name, lines in undefined.items():
        where = ", ".join(str(e.line) for e in lines[1::2])
        problems.append(f"COR list {name} is applied on line(s) {where} but not defined")
        evidence += lines
        remediation += [f"dial-peer cor list {name}", " member <cor-name>"]
    for list_name, member in unknown_members:
        problems.append(
            f"COR list {list_name} has member {member.words[1]} (line {member.number}), "
            "which is not a dial-peer cor custom name"
        )
        evidence += [state.evidence(cor.lists[list_name].header), state.evidence(member)]
    return failed("; ".join(problems), unique_evidence(evidence), remediation, from_absence=True)


# --- after-hours blocking (CME-AH-01, CME-AH-02) ---------------------------------------------------


@dataclass(frozen=True)
class _BlockPattern:
    """One ``after-hours block pattern TAG PATTERN [7-24]`` line."""

    line: ConfigLine
    tag: int
    text: str
    pattern: DialPattern | None  # None when the pattern cannot be read
    always: bool  # 7-24: blocked at all times, and no phone is exempt from it

    def blocks(self, prefix: str) -> bool:
        return self.pattern is not None and self.pattern.blocks_all(prefix, _NUMBER_TAIL)

    @property
    def label(self) -> str:
        return f"pattern {self.tag} ({self.text}{' 7-24' if self.always else ''})"


_BLOCK_LINE = re.compile(r"after-hours block pattern (\d+) (\S+)( 7-24)?")


def _block_patterns(telephony: ConfigLine) -> list[_BlockPattern]:
    found: list[_BlockPattern] = []
    for line in telephony.find(_BLOCK_LINE.pattern):
        match = _BLOCK_LINE.match(line.command)
        if match is None:
            continue
        try:
            pattern: DialPattern | None = DialPattern(match.group(2))
        except PatternError:
            pattern = None
        found.append(_BlockPattern(line, int(match.group(1)), match.group(2), pattern, match.group(3) is not None))
    return found


def _schedule(telephony: ConfigLine) -> list[ConfigLine]:
    return telephony.find(r"after-hours (day|date) ")


def _free_tags(blocks: list[_BlockPattern]) -> Iterator[str]:
    used = {block.tag for block in blocks}
    yield from (str(tag) for tag in range(1, MAX_BLOCK_TAG + 1) if tag not in used)
    while True:
        yield NO_FREE_BLOCK_TAG


def _dialled(code: str, prefix: str) -> str:
    return f"{code}{prefix}..."


def _block_text(codes: set[str], prefix: str) -> list[str]:
    """Block patterns catching ``prefix`` after each access code in ``codes`` (".", any one digit, for several)."""
    texts = []
    with_code = sorted(code for code in codes if code)
    if len(with_code) == 1:
        texts.append(with_code[0] + prefix)
    elif with_code:
        texts.append("." + prefix)
    if "" in codes:
        texts.append(prefix)
    return texts



def _reaching_lines(state: DeviceState, peers: list[DialPeer], prefix: str, tail: range) -> list[Evidence]:
    return [
        e
        for peer in peers
        if access_codes_reaching(peer.patterns(), prefix, tail)
        for e in _peer_lines(state, peer)
    ]


@check(
    id="CME-AH-01",
    title="After-hours blocking covers international calls, and its schedule is set",
    severity=Severity.HIGH,
    family="AH",
    reference=AFTER_HOURS_REFERENCE,
    rationale=(
        "Most toll fraud happens at night and at weekends, when nobody notices the calls. The guide blocks "
        "international dialling (after-hours block pattern 9011) during an after-hours schedule set with "
        "after-hours day; a block pattern without 7-24 does nothing when no schedule is set."
    ),
    passes_when=(
        "for every access code through which a dial-peer reaches international numbers (none, 9 or 8 before 011), "
        "a telephony-service `after-hours block pattern` catches every number it starts (`9011`, `.011`, `011`...), "
        "and is either `7-24` or backed by an `after-hours day`/`after-hours date` schedule. Not applicable "
        "without telephony-service or when no dial-peer reaches international numbers."
    ),
    cme_only=True,  # after-hours blocking is a telephony-service feature
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:150: after-hours block pattern 7 9011",),
    remediation_example=(
        "telephony-service",
        " after-hours block pattern 7 9011",
        " after-hours day Sun 19:00 07:00",
    ),
)
def after_hours_international(state: DeviceState) -> Outcome:
    config = running_config(state)
    telephony = telephony_service(config)
    if telephony is None:
        return _absent(state, "no telephony-service: CME is not configured")
    peers = _routing_peers(state)
    prefix, tail = INTERNATIONAL.forms[0]
    codes = access_codes_reaching([p for peer in peers for p in peer.patterns()], prefix, tail)
    unreadable = [peer for peer in peers if peer.unreadable]
    if not codes:
        if unreadable:
            return unknown(f"no readable dial-peer reaches international numbers, but: {_unreadable_note(unreadable)}")
        return _absent(state, "no active dial-peer reaches international numbers (011)")
    blocks = _block_patterns(telephony)
    schedule = _schedule(telephony)
    covered: list[Evidence] = []
    how: list[str] = []
    problems: list[str] = []
    uncovered: list[str] = []
    for code in sorted(codes, reverse=True):
        target = code + prefix
        covering = [block for block in blocks if block.blocks(target)]
        always = [block for block in covering if block.always]
        if always:
            covered.append(state.evidence(always[0].line))
            how.append(f"{_dialled(code, prefix)} by {always[0].label}")
        elif covering and schedule:
            covered += [state.evidence(covering[0].line), *(state.evidence(line) for line in schedule)]
            how.append(f"{_dialled(code, prefix)} by {covering[0].label} during the schedule ({len(schedule)} line(s))")
        elif covering:
            problems.append(
                f"{covering[0].label} catches international calls dialled as {_dialled(code, prefix)} only during "
                "the after-hours schedule, and no after-hours day or date is configured, so it never applies"
            )
        else:
            uncovered.append(code)
    if uncovered:
        problems.insert(
            0,
            "no after-hours block pattern catches international calls dialled as "
            + " or ".join(_dialled(code, prefix) for code in uncovered),
        )
    if not problems:
        return passed("international calls are blocked after hours: " + ", ".join(how), evidence_by_line(covered))
    tags = _free_tags(blocks)
    remediation = [telephony.command]
    remediation += [f" after-hours block pattern {next(tags)} {text}" for text in _block_text(set(uncovered), prefix)]
    if not schedule:
        remediation += [f" {line}" for line in _GUIDE_SCHEDULE]
    # The routes that make blocking necessary, and whatever already blocks international calls.
    evidence = [
        *_reaching_lines(state, peers, prefix, tail),
        *(state.evidence(block.line) for block in blocks if any(block.blocks(code + prefix) for code in ACCESS_CODES)),
        *(state.evidence(line) for line in schedule),
    ]
    # The blocks live in telephony-service; the peers that reach international numbers are there.
    return failed("; ".join(problems), evidence_by_line(evidence), remediation, from_absence=True,
                  within=[telephony.number])


@check(
    id="CME-AH-02",
    title="Known toll-fraud area codes are blocked at all times",
    severity=Severity.MEDIUM,
    family="AH",
    reference=AFTER_HOURS_REFERENCE,
    rationale=(
        "Callback and premium-rate scams use NANP area codes that look domestic but bill like international or "
        "premium calls (Caribbean 242, 876, 809..., 900, 976). The guide blocks them with after-hours block "
        "patterns; with 7-24 the block holds day and night and no exempt phone or PIN login bypasses it."
    ),
    passes_when=(
        "each area code of the policy's `fraud_area_codes` (default: the guide's 24 NANP codes) that a dial-peer "
        "reaches as 1 + area code + 7 digits is caught, for every access code the dial-peers take (none, 9 or 8), "
        "by a telephony-service `after-hours block pattern ... 7-24` (`.1242`, `91242` or `1242`, as dialled). "
        "Not applicable without telephony-service or when no dial-peer reaches NANP long-distance numbers."
    ),
    cme_only=True,  # after-hours blocking is a telephony-service feature
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:151: after-hours block pattern 1 .1242",),
    remediation_example=(
        "telephony-service",
        " after-hours block pattern 1 .1242 7-24",
        " after-hours block pattern 25 91900 7-24",
    ),
)
def after_hours_fraud_area_codes(state: DeviceState) -> Outcome:
    config = running_config(state)
    telephony = telephony_service(config)
    if telephony is None:
        return _absent(state, "no telephony-service: CME is not configured")
    peers = _routing_peers(state)
    patterns = [p for peer in peers for p in peer.patterns()]
    area_codes = sorted(set(state.policy.fraud_area_codes))
    if not area_codes:
        return not_applicable("the policy's fraud_area_codes is empty")
    nanp_tail = range(_NUMBER_TAIL, _NUMBER_TAIL + 1)
    by_prefix = access_codes_reaching_each(patterns, ["1" + area for area in area_codes], nanp_tail)
    reached = {area: access for area in area_codes if (access := by_prefix["1" + area])}
    unreadable = [peer for peer in peers if peer.unreadable]
    blocks = _block_patterns(telephony)
    # The block patterns about these area codes, however dialled (an access code they miss included).
    block_lines = [
        state.evidence(block.line)
        for block in blocks
        if any(block.blocks(code + "1" + area) for code in ACCESS_CODES for area in area_codes)
    ]
    if not reached:
        if unreadable:
            return unknown(
                f"no readable dial-peer reaches NANP long-distance numbers, but: {_unreadable_note(unreadable)}"
            )
        return _absent(state, "no active dial-peer reaches NANP long-distance numbers (1 + area code + 7 digits)")
    missing: dict[str, set[str]] = {}  # area code -> access codes it is not blocked at all times after
    schedule_only: set[str] = set()
    for area, access in reached.items():
        for code in access:
            covering = [block for block in blocks if block.blocks(code + "1" + area)]
            if not any(block.always for block in covering):
                missing.setdefault(area, set()).add(code)
                if covering:
                    schedule_only.add(area)
    all_codes = sorted({code for access in reached.values() for code in access}, reverse=True)
    dialled = _and([f"{code}+1+area code" if code else "1+area code" for code in all_codes])
    if not missing:
        return passed(
            f"all {len(reached)} reachable fraud area code(s) are blocked at all times (7-24), as dialled {dialled}",
            block_lines,
        )
    parts = []
    unblocked = sorted(set(missing) - schedule_only)
    if unblocked:
        parts.append(f"not blocked: {', '.join(unblocked)}")
    if schedule_only:
        parts.append(
            "blocked only during the after-hours schedule, which exempt phones and PIN logins bypass: "
            + ", ".join(sorted(schedule_only))
        )
    # Patterns written for another access code (1242 where users dial 9-1-242) look right and block nothing.
    misdialled = [
        block
        for block in blocks
        if any(
            block.blocks(other + "1" + area)
            for area in unblocked
            for other in ACCESS_CODES
            if other not in missing[area]
        )
    ]
    if misdialled:
        parts.append(
            f"{_and([block.label for block in misdialled])} match only as dialled with another access code (or none)"
        )
    message = f"fraud area codes not blocked at all times (7-24), as dialled {dialled}: " + "; ".join(parts)
    tags = _free_tags(blocks)
    reissued: dict[int, str] = {}
    fresh_lines: list[str] = []
    ordinary = LONG_DISTANCE.forms[0][0]
    for area in sorted(missing):
        fresh: set[str] = set()
        for code in missing[area]:
            # Re-entering a tag replaces that pattern: keep the device's own pattern and add 7-24 — unless it
            # is broader than this area code (a 91 that blocks all long distance at night must stay so).
            scheduled = next(
                (b for b in blocks if not b.always and b.blocks(code + "1" + area) and not b.blocks(code + ordinary)),
                None,
            )
            if scheduled is None:
                fresh.add(code)
            else:
                reissued[scheduled.tag] = f" after-hours block pattern {scheduled.tag} {scheduled.text} 7-24"
        fresh_lines += [
            f" after-hours block pattern {next(tags)} {text} 7-24" for text in _block_text(fresh, "1" + area)
        ]
    remediation = [telephony.command, *(reissued[tag] for tag in sorted(reissued)), *fresh_lines]
    return failed(message, block_lines, remediation, from_absence=True, within=[telephony.number])


# --- CME-SIP-01 ------------------------------------------------------------------------------------

_RELEASE = re.compile(r"^(\d+)\.(\d+)(?:\((\d+)\))?")
_ANY_SOURCE = re.compile(r"ipv4 0\.0\.0\.0( 0\.0\.0\.0)?$|ipv6 ::/0$")


def _release(state: DeviceState, config: RunningConfig) -> tuple[str, Evidence] | None:
    """The IOS release and the line that shows it: ``show version`` when collected (it gives the
    rebuild, 15.1(2)T), else the running-config's ``version 15.1``."""
    records = state.records(SHOW_VERSION)
    if records:
        version = str(records[0].get("version") or "")
        shown = state.find_line(SHOW_VERSION, version) if version else None
        if shown is not None:
            return version, shown
    configured = config.first_global(r"version \d")
    return (configured.words[1], state.evidence(configured)) if configured is not None else None


def _has_toll_fraud_prevention(release: str) -> bool | None:
    """Whether ``release`` enforces ``ip address trusted authenticate`` by default (15.1(2)T and later).

    None when the release is too coarse to tell (a running-config's ``version 15.1``).
    """
    match = _RELEASE.match(release)
    if match is None:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    rebuild = int(match.group(3)) if match.group(3) else None
    if major > 15 or (major == 15 and minor >= 2):
        return True  # later 15.x trains and IOS-XE 16/17 all carry it
    if major < 15 or minor == 0:
        return False
    return None if rebuild is None else rebuild >= 2


def _has_voip_config(config: RunningConfig) -> bool:
    return bool(config.sections(r"(voice service voip|sip-ua|gateway|voice register global)$"))


@check(
    id="CME-SIP-01",
    title="Toll-fraud prevention trusts only known VoIP call sources",
    severity=Severity.HIGH,
    family="SIP",
    reference=(
        f"{ALTERNATIVES_SECTION} (beyond the guide: Cisco document 112083, "
        "Toll-Fraud Prevention Feature in IOS Release 15.1(2)T)"
    ),
    rationale=(
        "A router with voice services answers SIP (5060) and H.323 (1720) call setups from any address unless told "
        "otherwise, and routes them to its dial-peers: scanners use that to place international calls through it. "
        "IOS 15.1(2)T and later reject call setups from sources that are neither dial-peer session targets nor in "
        "`ip address trusted list`; before that release, or with `no ip address trusted authenticate`, every "
        "source is trusted. The guide predates the feature, hence beyond it."
    ),
    passes_when=(
        "`voice service voip` has an `ip address trusted list` with entries (none trusting 0.0.0.0/0) and no "
        "`no ip address trusted authenticate`; or no list, but the IOS release (from `show version` if collected, "
        "else the config's `version`) is 15.1(2)T or later, where trusted authenticate is on by default and only "
        "session targets are trusted. Fails when authentication is disabled or the release predates 15.1(2)T; "
        "unknown when the release cannot be told. Not applicable with no dial-peer and no SIP/H.323 configuration."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:60: no ip address trusted authenticate",),
    remediation_example=("voice service voip", " ip address trusted authenticate"),
)
def voip_trusted_sources(state: DeviceState) -> Outcome:
    config = running_config(state)
    if not state.derived(_dial_peers) and not _has_voip_config(config):
        return _absent(state, "no dial-peer and no SIP/H.323 configuration: the router routes no calls")
    voice = config.first_global(r"voice service voip$")
    disabled = voice.first(r"no ip address trusted authenticate$") if voice is not None else None
    trusted_list = voice.first(r"ip address trusted list$") if voice is not None else None
    entries = trusted_list.find(r"ipv[46] \S+") if trusted_list is not None else []
    list_lines = [trusted_list, *entries] if trusted_list is not None else []
    if voice is not None and disabled is not None:
        return failed(
            "toll-fraud prevention is disabled: 'no ip address trusted authenticate' "
            f"(line {disabled.number}) makes the router accept SIP and H.323 calls from any source"
            + (", so its trusted list is not enforced" if entries else ""),
            evidence_by_line(state.evidence(line) for line in (voice, disabled, *list_lines)),
            [voice.command, " ip address trusted authenticate"],
        )
    open_entries = [entry for entry in entries if _ANY_SOURCE.match(entry.command)]
    if voice is not None and trusted_list is not None and open_entries:
        return failed(
            "the ip address trusted list trusts every source: "
            + ", ".join(f"'{entry.command}' (line {entry.number})" for entry in open_entries),
            [state.evidence(line) for line in (voice, trusted_list, *open_entries)],
            [voice.command, " ip address trusted list", *(f"  no {entry.command}" for entry in open_entries)],
        )
    if voice is not None and entries:
        return passed(
            f"ip address trusted list has {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} "
            "(dial-peer session targets are trusted as well); trusted authenticate is on (IOS default)",
            [state.evidence(line) for line in (voice, *list_lines)],
            # What could undo it ("no ip address trusted authenticate") is printed in voice service voip.
            within=[voice.number],
        )
    release = _release(state, config)
    if release is None:
        return unknown(
            "no ip address trusted list and no 'no ip address trusted authenticate', and the IOS release is not "
            "known: trusted authenticate is the default only from 15.1(2)T on"
        )
    version, version_line = release
    protected = _has_toll_fraud_prevention(version)
    if protected is None:
        return unknown(
            f"no ip address trusted list; IOS {version} does not tell whether the release is 15.1(2)T or later "
            "(where trusted authenticate is on by default): collect 'show version'",
            [version_line],
        )
    if protected:
        return passed(
            f"no ip address trusted list, but IOS {version} enforces ip address trusted authenticate by default: "
            "only the dial-peers' session targets are trusted call sources",
            [version_line, *([state.evidence(voice)] if voice is not None else [])],
        )
    return failed(
        f"IOS {version} predates the toll-fraud prevention of 15.1(2)T: the router accepts SIP and H.323 call "
        "setups from any source and routes them to its dial-peers",
        [version_line],
        [
            "! upgrade to IOS 15.1(2)T or later (toll-fraud prevention: ip address trusted authenticate)",
            "! until then, permit SIP (5060-5061) and H.323 (1720) on the WAN interface from your VoIP peers only",
        ],
    )


# --- CME-H323-01 -----------------------------------------------------------------------------------


@check(
    id="CME-H323-01",
    title="VoIP dial-peers limit their concurrent calls with max-conn",
    severity=Severity.MEDIUM,
    family="H323",
    reference=ALTERNATIVES_SECTION,
    rationale=(
        "max-conn caps the calls a VoIP dial-peer carries at once (the guide: dial-peer voice 10 voip; max-conn 5). "
        "Toll fraud through a trunk is then limited to that many simultaneous calls instead of every channel."
    ),
    passes_when=(
        "every active (not shut down) `dial-peer voice N voip`, H.323 or SIP, has `max-conn`. Not applicable "
        "without VoIP dial-peers."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:130: dial-peer voice 10 voip",),
    remediation_example=("dial-peer voice 10 voip", " max-conn <max-calls>"),
)
def voip_max_connections(state: DeviceState) -> Outcome:
    voip = [peer for peer in state.derived(_dial_peers) if peer.kind == "voip"]
    if not voip:
        return _absent(state, "no VoIP dial-peer")
    active = [peer for peer in voip if not peer.shutdown]
    if not active:
        return not_applicable(f"all {len(voip)} VoIP dial-peer(s) are shut down")
    missing = [peer for peer in active if peer.max_conn is None]
    if not missing:
        return passed(
            "every active VoIP dial-peer has max-conn: "
            + ", ".join(
                f"{peer.name} max-conn {peer.max_conn.words[1]}" for peer in active if peer.max_conn is not None
            ),
            [state.evidence(line) for peer in active for line in (peer.header, peer.max_conn) if line is not None],
        )
    remediation: list[str] = []
    for peer in missing:
        remediation += [peer.header.command, " max-conn <max-calls>"]
    return failed(
        f"{len(missing)} of {len(active)} active VoIP dial-peer(s) have no max-conn, so the calls they carry at once "
        f"are bounded only by the platform: {', '.join(peer.name for peer in missing)}",
        [state.evidence(peer.header) for peer in missing],
        remediation,
        from_absence=True,
        within=[peer.header.number for peer in missing],
    )
