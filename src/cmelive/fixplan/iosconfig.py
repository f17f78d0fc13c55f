"""A small model of an IOS running-config that config-mode lines can be applied to.

It predicts the *future* running-config a router would show after a plan is pasted in config mode,
and the lines that take it back (the rollback). It knows the IOS rules the fix plans rely on, not
IOS at large:

- a command with one value per context replaces the one before it (``transport input``,
  ``access-class N in``, ``ip access-group X in``, ``enable secret``, ``after-hours block pattern
  N``, ``username U``, ...), in place;
- ``no X`` removes X; for a command on by default (``cdp enable``, ``auto-reg-ephone``, ``ip http
  server``) the running-config then shows ``no X``;
- ACLs have sequence numbers: named lists take ``N rule`` and ``no N``, ``ip access-list
  resequence``; a numbered list (``access-list 101 ...``) is the same list, shown as global lines,
  and ``no access-list N ...`` deletes it whole (as IOS does, whatever follows the number);
- commands that act rather than configure (``crypto key generate``, ``crypto pki enroll``, the
  ctl-client's ``regenerate``) change no line: they are recorded as actions.

Why not hier_config: its ``future()`` (marked experimental) keeps ``transport input telnet ssh``
beside ``transport input ssh`` and two ``ip access-group ... in`` on one interface unless every such
command is taught to it as an idempotency rule — the very replacements the plans are about, which
this model states directly. It also moves the change to the top of the config, and a re-audit's
evidence line numbers should stay those of the router.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cmelive.parsing.ios_grammar import head_form

#: Commands whose value replaces the previous one in the same context: (pattern, key template).
#: The key names the slot; a line with the same key replaces the old one in place.
_SINGLETONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"enable (secret|password)( level \d+)?\b(?! level)", r"enable \1\2"),
        (r"username (\S+)", r"username \1"),
        (r"hostname\b", "hostname"),
        (r"ip domain[ -]name\b", "ip domain name"),
        (r"ip ssh version\b", "ip ssh version"),
        (r"ip ssh rsa keypair-name\b", "ip ssh rsa keypair-name"),
        (r"ip ssh dh min size\b", "ip ssh dh min size"),
        (r"ip ssh time-out\b", "ip ssh time-out"),
        (r"ip ssh authentication-retries\b", "ip ssh authentication-retries"),
        (r"ip ssh server algorithm (\S+)", r"ip ssh server algorithm \1"),
        (r"ip http authentication\b", "ip http authentication"),
        (r"ip http access-class\b", "ip http access-class"),
        (r"ip http secure-trustpoint\b", "ip http secure-trustpoint"),
        (r"snmp-server community (\S+)", r"snmp-server community \1"),
        (r"aaa authentication login (\S+)", r"aaa authentication login \1"),
        (r"aaa authorization exec (\S+)", r"aaa authorization exec \1"),
        (r"aaa accounting exec (\S+)", r"aaa accounting exec \1"),
        (r"aaa accounting commands (\d+) (\S+)", r"aaa accounting commands \1 \2"),
        (r"logging buffered\b", "logging buffered"),
        (r"logging trap\b", "logging trap"),
        (r"dial-control-mib (retain-timer|max-size)\b", r"dial-control-mib \1"),
        (r"clock timezone\b", "clock timezone"),
        (r"ip inspect name (\S+) (\S+)", r"ip inspect name \1 \2"),
        (r"service timestamps (\S+)", r"service timestamps \1"),
        # sub-mode commands
        (r"transport input\b", "transport input"),
        (r"transport output\b", "transport output"),
        (r"login\b", "login"),
        (r"password\b", "password"),
        (r"access-class \S+ (in|out)\b", r"access-class \1"),
        (r"ip access-group \S+ (in|out)\b", r"ip access-group \1"),
        (r"ip inspect \S+ (in|out)\b", r"ip inspect \1"),
        (r"after-hours block pattern (\d+)\b", r"after-hours block pattern \1"),
        (r"after-hours day (\S+)", r"after-hours day \1"),
        (r"after-hours date (\S+ \S+)", r"after-hours date \1"),
        (r"ip source-address\b", "ip source-address"),
        (r"corlist (incoming|outgoing)\b", r"corlist \1"),
        (r"max-conn\b", "max-conn"),
        (r"codec\b", "codec"),
        (r"device-security-mode\b", "device-security-mode"),
        (r"server-security-mode\b", "server-security-mode"),
        (r"secure-signaling trustpoint\b", "secure-signaling trustpoint"),
        (r"tftp-server-credentials trustpoint\b", "tftp-server-credentials trustpoint"),
        (r"cnf-file (perphone|perphonetype|pertype)\b", "cnf-file"),
        (r"auth-mode\b", "auth-mode"),
        (r"trustpoint-label\b", "trustpoint-label"),
        (r"source-addr\b", "source-addr"),
        (r"web admin (system|customer)\b", r"web admin \1"),
        (r"(sast1|sast2) trustpoint\b", r"\1 trustpoint"),
        (r"server (capf|cme|tftp|cme-tftp)\b", r"server \1"),
        (r"enrollment url\b", "enrollment url"),
        (r"subject-name\b", "subject-name"),
        (r"rsakeypair\b", "rsakeypair"),
        (r"description\b", "description"),
        (r"exec-timeout\b", "exec-timeout"),
        (r"ip address (?=\d|dhcp|negotiated)(?!.*\bsecondary\b)", "ip address"),
        (r"max-ephones\b", "max-ephones"),
        (r"max-dn\b", "max-dn"),
    )
)

#: Commands on by default that the running-config does not show when on: ``no X`` shows when off.
_HIDDEN_WHEN_ON = frozenset({
    "cdp enable", "cdp run", "auto-reg-ephone", "ip domain lookup", "ip source-route", "service pad",
    "ip bootp server", "ip redirects", "ip unreachables", "ip proxy-arp", "mop enabled", "ip gratuitous-arps",
})
#: Commands the running-config shows as ``no X`` when off (besides those above, and any ``no X``
#: the router's own config shows).
_SHOWN_AS_NO = _HIDDEN_WHEN_ON | frozenset({
    "service password-encryption", "aaa new-model", "ip http server", "ip http secure-server",
    "ip address trusted authenticate",
})

#: Commands that act once and leave no config line of their own.
_ACTIONS = re.compile(
    r"(crypto key generate|crypto key zeroize|crypto pki (authenticate|enroll|import|export)|regenerate$|"
    r"ip access-list resequence|clear |write |copy |exit$|end$)"
)

_SECTION_KEYS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"ephone-dn (\d+)\b", r"ephone-dn \1"),
        (r"dial-peer voice (\d+)\b", r"dial-peer voice \1"),
        (r"ip access-list (?:standard|extended) (\S+)", r"ip access-list \1"),
    )
)

_ACL_HEADER = re.compile(r"ip access-list (standard|extended) (\S+)$")
_NUMBERED_ACL = re.compile(r"access-list (\d+) (.*)$")


def normal(text: str) -> str:
    """A line as IOS reads it: no indentation, runs of blanks folded to one."""
    return " ".join(text.split())


def slot(command: str) -> str | None:
    """The slot a command fills (lines with the same slot replace each other), or None."""
    for pattern, key in _SINGLETONS:
        match = pattern.match(command)
        if match is not None:
            return match.expand(key)
    return None


def section_key(header: str) -> str:
    for pattern, key in _SECTION_KEYS:
        match = pattern.match(header)
        if match is not None:
            return match.expand(key)
    return header


def numbered_kind(number: int) -> str:
    return "standard" if number < 100 or 1300 <= number < 2000 else "extended"


@dataclass
class Node:
    """One config line and the sub-mode lines under it."""

    text: str  # as IOS shows it, no indentation (blanks folded)
    children: list[Node] = field(default_factory=list)
    raw: str | None = None  # the line as the router printed it (kept for untouched lines)
    #: An ACL entry's sequence number (named lists; numbered lists get IOS's implicit 10, 20, ...).
    sequence: int | None = None
    #: A numbered ACL held as a section (``access-list N rule`` lines), so both forms edit one list.
    numbered: bool = False
    #: Lines kept verbatim under this one (a banner's text).
    verbatim: list[str] = field(default_factory=list)

    def find(self, key: str) -> Node | None:
        for child in self.children:
            if section_key(child.text) == key:
                return child
        # A capture that joined a header and its first sub-mode line (``line vty 0 4 password x``,
        # copied through a PDF): that header is the section the router has.
        for child in self.children:
            if child.text.startswith(key + " "):
                joined = head_form(child.text)
                if joined is not None and joined[0] == key and joined[1] == "header":
                    return child
        return None

    def copy(self) -> Node:
        return Node(self.text, [c.copy() for c in self.children], self.raw, self.sequence, self.numbered,
                    list(self.verbatim))  # fmt: skip


@dataclass
class Applied:
    """The future config and what applying the lines did besides changing it."""

    config: IosConfig
    actions: list[str]
    #: Lines IOS would refuse or that the model cannot place, with why.
    problems: list[str]


class IosConfig:
    """A running-config as a tree of :class:`Node`, with the text around it kept."""

    def __init__(self, text: str) -> None:
        self.preamble: list[str] = []
        self.root = Node("")
        self.has_end = False
        #: The ``no X`` forms this router's config shows: IOS shows them again when X is removed.
        self.shown_as_no: set[str] = set(_SHOWN_AS_NO)
        self._parse(text)

    # --- reading ----------------------------------------------------------------------------------

    def _parse(self, text: str) -> None:
        lines = text.splitlines()
        index = 0
        # What a capture has before the config itself (``Building configuration...``, a prompt).
        while index < len(lines) and not _config_start(lines[index]):
            self.preamble.append(lines[index])
            index += 1
        stack: list[tuple[int, Node]] = [(-1, self.root)]
        banner_end: str | None = None
        banner: Node | None = None
        for raw in lines[index:]:
            if banner is not None:
                banner.verbatim.append(raw)
                if banner_end is not None and banner_end in raw:
                    banner = None
                continue
            stripped = raw.rstrip()
            if not stripped.strip():
                continue
            if stripped == "end":
                self.has_end = True
                break
            indent = len(stripped) - len(stripped.lstrip(" "))
            while stack[-1][0] >= indent:
                stack.pop()
            node = Node(normal(stripped), raw=stripped)
            if node.text.startswith("no "):
                self.shown_as_no.add(node.text[3:])
            parent = stack[-1][1]
            if parent is self.root and (numbered := _NUMBERED_ACL.match(node.text)) is not None:
                self._numbered_entry(int(numbered.group(1)), numbered.group(2), raw=stripped)
                continue
            parent.children.append(node)
            stack.append((indent, node))
            if node.text.startswith("banner "):
                words = node.text.split(" ", 2)
                rest = words[2] if len(words) > 2 else ""
                delimiter = rest[:2] if rest.startswith("^C") else rest[:1]
                if delimiter and rest.count(delimiter) < 2:
                    banner, banner_end = node, delimiter
        self._number_entries(self.root)

    def _numbered_entry(self, number: int, rule: str, raw: str | None = None) -> Node:
        acl = self.numbered_acl(number, create=True)
        assert acl is not None
        entry = Node(normal(rule), raw=raw)
        acl.children.append(entry)
        return entry

    def numbered_acl(self, number: int, *, create: bool = False) -> Node | None:
        for child in self.root.children:
            if child.numbered and child.text.endswith(f" {number}"):
                return child
        if not create:
            return None
        acl = Node(f"ip access-list {numbered_kind(number)} {number}", numbered=True)
        self.root.children.append(acl)
        return acl

    def _number_entries(self, node: Node) -> None:
        for child in node.children:
            if _ACL_HEADER.match(child.text):
                _sequence(child)

    # --- writing ----------------------------------------------------------------------------------

    def text(self) -> str:
        """The config as the router would show it."""
        out = list(self.preamble)
        for child in self.root.children:
            _render(child, 0, out)
        if self.has_end or self.root.children:
            out.append("end")
        return "\n".join(out) + "\n"

    def copy(self) -> IosConfig:
        clone = IosConfig("")
        clone.preamble = list(self.preamble)
        clone.root = self.root.copy()
        clone.has_end = self.has_end
        clone.shown_as_no = set(self.shown_as_no)
        return clone

    # --- applying ---------------------------------------------------------------------------------

    def apply(self, lines: list[str]) -> Applied:
        """The config after ``lines`` are pasted in config mode (indentation gives the sub-mode)."""
        future = self.copy()
        actions: list[str] = []
        problems: list[str] = []
        stack: list[tuple[int, Node]] = [(-1, future.root)]
        for raw in lines:
            if not raw.strip() or raw.lstrip().startswith("!"):
                continue
            indent = len(raw) - len(raw.lstrip(" "))
            command = normal(raw)
            while stack[-1][0] >= indent:
                stack.pop()
            parent = stack[-1][1]
            if _ACTIONS.match(command):
                actions.append(command)
                resequence = re.match(r"ip access-list resequence (\S+) (\d+) (\d+)$", command)
                if resequence is not None:
                    future._resequence(resequence.group(1), int(resequence.group(2)), int(resequence.group(3)),
                                       problems)  # fmt: skip
                continue
            node = future._apply_one(parent, command, problems)
            if node is not None:
                stack.append((indent, node))
        return Applied(future, actions, problems)

    def _resequence(self, name: str, start: int, step: int, problems: list[str]) -> None:
        acl = self._acl(name)
        if acl is None:
            problems.append(f"ip access-list resequence {name}: no such access list")
            return
        for index, entry in enumerate(acl.children):
            entry.sequence = start + index * step

    def _acl(self, name: str) -> Node | None:
        if name.isdigit():
            return self.numbered_acl(int(name))
        for child in self.root.children:
            match = _ACL_HEADER.match(child.text)
            if match is not None and match.group(2) == name:
                return child
        return None

    def _apply_one(self, parent: Node, command: str, problems: list[str]) -> Node | None:
        """Apply one command in ``parent``'s context; the node entered (a section), else None."""
        if parent is self.root:
            numbered = _NUMBERED_ACL.match(command)
            if numbered is not None:
                acl = self.numbered_acl(int(numbered.group(1)), create=True)
                assert acl is not None
                _add_entry(acl, numbered.group(2), None)
                return None
            header = _ACL_HEADER.match(command)
            if header is not None:
                name = header.group(2)
                found = self._acl(name)
                if found is None:
                    if name.isdigit():
                        found = self.numbered_acl(int(name), create=True)
                    else:
                        found = Node(command)
                        self._append(self.root, found)
                assert found is not None
                if found.text.split()[2] != header.group(1):
                    problems.append(f"{command}: {name} is a {found.text.split()[2]} list")
                return found
            no_numbered = re.match(r"no access-list (\d+)\b", command)
            if no_numbered is not None:
                acl = self.numbered_acl(int(no_numbered.group(1)))
                if acl is not None:
                    self.root.children.remove(acl)
                return None
            no_named = re.match(r"no ip access-list (?:standard|extended) (\S+)$", command)
            if no_named is not None:
                acl = self._acl(no_named.group(1))
                if acl is not None:
                    self.root.children.remove(acl)
                return None
        if _ACL_HEADER.match(parent.text):
            self._acl_entry(parent, command)
            return None
        if command.startswith("no "):
            self._remove(parent, command[3:])
            return None
        # A section already there is entered; a new one goes after the last of its kind.
        existing = parent.find(section_key(command))
        if existing is not None and (existing.children or _is_section(command)):
            return existing
        key = slot(command)
        for index, child in enumerate(parent.children):
            if child.text == command:
                return child
            if key is not None and slot(child.text) == key:
                parent.children[index] = Node(command)
                return parent.children[index]
            if child.text == f"no {command}":
                if command in _HIDDEN_WHEN_ON:
                    del parent.children[index]  # back to the default, which IOS does not show
                    return None
                parent.children[index] = Node(command)
                return parent.children[index]
        if command in _HIDDEN_WHEN_ON:
            return None
        node = Node(command)
        self._append(parent, node)
        return node

    def _acl_entry(self, acl: Node, command: str) -> None:
        words = command.split(" ", 1)
        if words[0] == "no" and len(words) > 1:
            target = words[1]
            acl.children[:] = [
                e for e in acl.children if not (target.isdigit() and e.sequence == int(target)) and e.text != target
            ]
        elif words[0].isdigit() and len(words) > 1:
            _add_entry(acl, words[1], int(words[0]))
        else:
            _add_entry(acl, command, None)

    def _remove(self, parent: Node, target: str) -> None:
        key = slot(target)
        words = target.split()
        removed = False
        kept: list[Node] = []
        for child in parent.children:
            child_words = child.text.split()
            same = child_words[: len(words)] == words or (key is not None and slot(child.text) == key and (
                # ``no username joe`` removes joe whatever follows; ``no login`` any login form.
                len(words) <= len(key.split())))  # fmt: skip
            if same and not child.text.startswith("no "):
                removed = True
                continue
            if child.text == f"no {target}":
                continue
            kept.append(child)
        parent.children[:] = kept
        if target in self.shown_as_no and (removed or target in _HIDDEN_WHEN_ON):
            self._append(parent, Node(f"no {target}"))

    def _append(self, parent: Node, node: Node) -> None:
        """Put ``node`` after the last sibling of the same first word (IOS groups its lines so);
        a global line goes last: a capture that lost its indentation shows sub-mode lines as global
        ones, and a line put after one of them would read as part of that section."""
        if parent is self.root:
            parent.children.append(node)
            return
        first = node.text.split(" ", 1)[0]
        if first == "no" and len(node.text.split()) > 1:
            first = node.text.split()[1]
        at = len(parent.children)
        for index, child in enumerate(parent.children):
            child_first = child.text.split()[1] if child.text.startswith("no ") and " " in child.text else (
                child.text.split(" ", 1)[0])  # fmt: skip
            if child_first == first:
                at = index + 1
        parent.children.insert(at, node)


def _is_section(command: str) -> bool:
    return bool(
        re.match(
            r"(line |interface |telephony-service$|voice service |voice register |ephone|dial-peer |capf-server$|"
            r"ctl-client$|crypto pki trustpoint |ip access-list |router |sip$|voice class |key chain )",
            command,
        )
    )


def _sequence(acl: Node) -> None:
    """Give an ACL's entries their sequence numbers: the printed one, else IOS's 10, 20, ..."""
    last = 0
    for entry in acl.children:
        words = entry.text.split(" ", 1)
        if words[0].isdigit() and len(words) > 1:
            entry.sequence = int(words[0])
            entry.text = words[1]
            entry.raw = None
        else:
            entry.sequence = last + 10
        last = entry.sequence


def _add_entry(acl: Node, rule: str, sequence: int | None) -> None:
    if acl.numbered and any(e.sequence is None for e in acl.children):
        _sequence(acl)
    rule = normal(rule)
    if sequence is None:
        if any(e.text == rule for e in acl.children):
            return  # IOS refuses a duplicate entry
        sequence = max((e.sequence or 0 for e in acl.children), default=0) + 10
    acl.children[:] = [e for e in acl.children if e.sequence != sequence]
    acl.children.append(Node(rule, sequence=sequence))
    acl.children.sort(key=lambda e: e.sequence or 0)


def _render(node: Node, depth: int, out: list[str]) -> None:
    if node.numbered:
        number = node.text.split()[-1]
        out.extend(f"access-list {number} {entry.text}" for entry in node.children)
        return
    out.append(node.raw if node.raw is not None else " " * depth + node.text)
    out.extend(node.verbatim)
    is_acl = _ACL_HEADER.match(node.text) is not None
    for child in node.children:
        if is_acl:
            # Classic IOS prints no sequence numbers in a named ACL: the order is the numbering.
            out.append(" " * (depth + 1) + child.text)
        else:
            _render(child, depth + 1, out)


def _config_start(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and (
        stripped.startswith("!") or stripped.startswith("version ") or stripped.startswith("hostname ")
        or not re.match(r"(Building configuration|Current configuration|\S+[#>]|show )", stripped)
    )  # fmt: skip
