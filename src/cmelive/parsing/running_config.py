"""``show running-config`` as a tree of sections the checks can query, with line numbers.

IOS prints sub-mode lines indented under their section header (``interface X``, ``line vty 0 4``,
``telephony-service``, ``ephone 1``, ...). We rebuild that tree from the indentation. Captures that
lost their indentation in publication (copied from HTML) are rebuilt from the known section
headers instead, and flagged as not reliable: checks must not conclude anything from what such a
capture seems to lack.

What the router never prints is treated as damage and reported in ``problems`` (which makes
``complete`` False, so the audit engine never turns an absence into a pass): no final ``end``,
TAB characters in front of lines, lost indentation, two lines joined into one, a banner that never
closes, a section printed twice (two captures pasted together), a filtered ``show run | ...``,
pager (``--More--``) debris. What is only packaging is dropped silently: a pasted prompt/command
line, ``Building configuration...``, ``Current configuration : N bytes``, a trailing prompt.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from cmelive.commands import is_prompt_line

# Headers that open a sub-mode in IOS / CME configs. Used to rebuild sections of captures whose
# indentation was lost; with intact indentation the indentation alone decides. Headers that are
# also the first word of a sub-mode command (``presence`` vs ``presence call-list``,
# ``application`` vs ``application default``) are anchored to the end of the line.
SECTION_HEADERS = re.compile(
    r"^(interface |line |router |telephony-service\s*$|ephone(-dn)?(-template)? |ephone-hunt |"
    r"ephone-type |dial-peer (voice|cor (custom|list))\b|voice service |voice register |voice class |"
    r"voice translation-(rule|profile) |voice hunt-group |voice emergency response |voice-port |"
    r"voice-card |voice lpcor |translation-rule |sip-ua\s*$|ctl-client\s*$|capf-server\s*$|"
    r"credentials\s*$|crypto (pki|ca) (trustpoint|server|certificate chain) |"
    r"crypto isakmp (policy|profile) |crypto ipsec (profile|transform-set) |crypto map \S+ \d+|"
    r"crypto keyring |crypto ikev2 (proposal|policy|keyring|profile) |crypto key pubkey-chain |"
    r"ip access-list (standard|extended|resequence)? ?\S+$|ipv6 access-list |ip dhcp pool |"
    r"control-plane( host)?\s*$|class-map |policy-map |parameter-map |zone-pair |zone security |"
    r"gateway\s*$|application\s*$|key chain |aaa group server |aaa server radius |tacacs server |"
    r"radius server |archive\s*$|controller |sccp ccm group |dspfarm profile |presence\s*$|"
    r"webvpn |ip sla \d|track \d|mgcp profile |call-manager-fallback\s*$|ixi (transport|application) |"
    r"vlan \d|event manager applet |route-map |banner )"
)
# Top-level commands that never appear inside a sub-mode: in a flattened capture they end the
# section that precedes them. Sub-mode commands that share a first word are excluded
# (``logging synchronous`` under ``line``, ``clock source`` under ``controller``,
# ``isdn switch-type`` under ``interface``, ``service phone`` under ``telephony-service``, ...).
GLOBAL_ONLY = re.compile(
    r"^(hostname |enable |service (?!phone\b)|no service |version |boot-|"
    r"logging (?!synchronous\b)|snmp-server |ntp |clock (timezone|summer-time|calendar-valid)|"
    r"access-list |ip route |ip http |ip ssh |ip domain|ip name-server |ip cef|ip tftp |ip host |"
    r"ip classless|ip flow-export |ip forward-protocol |ip default-gateway |ip subnet-zero|"
    r"ip nat (inside|outside) source |ip inspect name |aaa (new-model|authentication|authorization|"
    r"accounting|session-id)|no aaa |tftp-server |end$|cdp (run|timer|holdtime|advertise)|"
    r"no cdp run|dial-control-mib |gw-accounting |privilege (?!level\b)|tacacs-server |"
    r"radius-server |mgcp\b|scheduler |alias |crypto key (generate|zeroize|import|export)|"
    r"multilink |card type |network-clock|no network-clock|resource policy|"
    r"no ip (domain|http|source-route|bootp|finger|dhcp|cef|classless)|"
    r"ip dhcp (excluded|use|snooping)|license |memory-size |"
    r"spanning-tree (mode|extend|vlan|loopguard|portfast (default|bpduguard default))|vtp |"
    r"vlan internal |login (block-for|on-|quiet-mode|delay)|security |archive$)"
)
# Commands whose argument is free text: damage heuristics must not read their words.
_FREE_TEXT = re.compile(
    r"^(description|remark|name|label|alias|system message|caller-id|display|header|url|text|"
    r"message|motd|banner|set|moh|ring|notify)\b"
)
_HEADER_NOISE = re.compile(
    r"^(Building configuration|Current configuration\s*:|Last configuration change|"
    r"NVRAM config last updated|Using \d+ out of \d+ bytes)"
)
_BARE_PROMPT = re.compile(r"^[\w.\-/:()@]+[#>]\s*$")
_PROMPT_PREFIX = re.compile(r"^[\w.\-/:()@]*[#>]{1,2}\s*")
# "show running-config", "sh run", "more system:running-config", ... as typed on a prompt line.
_SHOW_RUN = re.compile(
    r"^(?:do\s+)?(?:sh(?:o|ow)?\s+(?:run\S*|start\S*)|more\s+system:running-config|"
    r"wr(?:ite)?\s+t(?:erminal)?)(?P<rest>.*)$",
    re.IGNORECASE,
)
_FULL_SHOW_RUN_ARGUMENTS = frozenset({"all", "view", "full", "brief"})
_PAGER = re.compile(r"\s*--More--\s?(?:\x08+ *\x08+|\x08+)?")
_BANNER = re.compile(
    r"^banner(?:\s+(?:motd|login|exec|incoming|slip-ppp|prompt-timeout|config-save))?\s+(?P<rest>\S.*)$"
)
_CERT_CHAIN = re.compile(r"^crypto (pki|ca) certificate chain ")
# "ephone-template N" opens a section at top level but only names a template under "ephone M"
# (and "ephone-dn-template N" under "ephone-dn M"): a flattened capture needs the context.
_TEMPLATE_REFERENCE = re.compile(r"^(ephone \S+\nephone-template \d+|ephone-dn \S+.*\nephone-dn-template \d+)$")
# Signs that publication joined two lines into one (doc annotations, headings, a "!" separator).
_ANNOTATION = re.compile(r"<={2,}|<-{2,}|={2,}>|-{2,}>")
_DOC_HEADING = re.compile(r":\s+Example\s*$")
# Commands that take a fixed number of words: more words means another line was joined on.
_FIXED_ARITY: dict[str, int] = {
    "mac-address": 2,
    "hostname": 2,
    "ephone": 2,
    "ephone-dn": 3,
    "version": 2,
    "end": 1,
    "sast1": 3,
    "sast2": 3,
}
_DIAL_PEER_VOICE_ARITY = 4
_ELISION = re.compile(r"^\.+$")
_MAX_EXAMPLES = 3


# The query patterns, compiled once: ``re``'s own cache is shared with every TextFSM template and
# drops its oldest entry when full, which made audits recompile their patterns over and over.
_compiled = lru_cache(maxsize=4096)(re.compile)


@dataclass(slots=True)  # a config has thousands of them, each made once and read many times
class ConfigLine:
    """One line of the config, as printed (trailing blanks removed), with its line number."""

    number: int
    text: str
    indent: int
    children: list[ConfigLine] = field(default_factory=list)
    #: The line without its indentation, runs of blanks folded to one (what regexes match).
    command: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Computed once: checks match regexes against every line's command many times over.
        stripped = self.text.strip(" ")
        # Most lines have single spaces only (isprintable: no TAB or other blank that split()
        # would also fold): the same as the join, without splitting.
        self.command = stripped if "  " not in stripped and stripped.isprintable() else " ".join(stripped.split())

    @property
    def words(self) -> list[str]:
        return self.text.split()

    @property
    def is_banner(self) -> bool:
        """A ``banner`` header: its children are the banner's text lines, not config."""
        return self.command.startswith("banner ")

    def walk(self) -> Iterator[ConfigLine]:
        """Every line below this one, depth first."""
        for child in self.children:
            yield child
            yield from child.walk()

    def find(self, pattern: str) -> list[ConfigLine]:
        """Direct children whose command matches ``pattern`` (``re.match``)."""
        regex = _compiled(pattern)
        return [c for c in self.children if regex.match(c.command)]

    def first(self, pattern: str) -> ConfigLine | None:
        found = self.find(pattern)
        return found[0] if found else None

    def has(self, pattern: str) -> bool:
        return bool(self.find(pattern))


@dataclass
class RunningConfig:
    """A parsed running-config.

    ``complete`` is False when ``problems`` is not empty: the capture was cut off (no final
    ``end``), its layout was damaged in publication, or it holds only part of the config.
    """

    roots: list[ConfigLine]
    complete: bool
    problems: list[str]
    indentation_lost: bool = False
    # Positions of the roots in ``roots``, by the first word of their command: ``globals`` is asked
    # a hundred-odd times per audit, nearly always for a pattern that starts with a literal word,
    # and would otherwise run its regex over every root each time. Built on the first query.
    _by_first_word: dict[str, list[int]] = field(default_factory=dict, init=False, repr=False, compare=False)
    # (id, length) of the ``roots`` list the index was built from: a list replaced or grown since
    # is indexed again.
    _indexed: tuple[int, int] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def hostname(self) -> str | None:
        line = self.first_global(r"hostname \S")
        return line.words[1] if line else None

    def lines(self) -> Iterator[ConfigLine]:
        """Every config line, depth first. Banner text is not config: a banner yields only its header."""
        for root in self.roots:
            yield root
            if not root.is_banner:
                yield from root.walk()

    def globals(self, pattern: str) -> list[ConfigLine]:
        """Top-level lines whose command matches ``pattern`` (``re.match``)."""
        regex = _compiled(pattern)
        return [r for r in self._candidates(pattern) if regex.match(r.command)]

    def _candidates(self, pattern: str) -> list[ConfigLine]:
        """The roots that can match ``pattern``, in config order: those whose first word fits its
        literal prefix (every root when the pattern has none)."""
        prefix = literal_prefix(pattern)
        if not prefix or prefix.startswith(" "):
            return self.roots
        index = self._first_word_index()
        word, space, _ = prefix.partition(" ")
        if space:  # the whole first word is known
            positions = index.get(word, [])
        else:  # the first word starts with the prefix: "logging" may be "logging" or "logging-x"
            found = [index[key] for key in index if key.startswith(word)]
            positions = found[0] if len(found) == 1 else sorted(p for part in found for p in part)
        roots = self.roots
        return [roots[position] for position in positions]

    def _first_word_index(self) -> dict[str, list[int]]:
        shape = (id(self.roots), len(self.roots))
        if self._indexed != shape:
            index: dict[str, list[int]] = {}
            for position, root in enumerate(self.roots):
                index.setdefault(root.command.partition(" ")[0], []).append(position)
            self._by_first_word = index
            self._indexed = shape
        return self._by_first_word

    def first_global(self, pattern: str) -> ConfigLine | None:
        found = self.globals(pattern)
        return found[0] if found else None

    def sections(self, pattern: str) -> list[ConfigLine]:
        """Top-level section headers matching ``pattern``; their sub-mode lines are ``children``."""
        return self.globals(pattern)

    def anywhere(self, pattern: str) -> list[ConfigLine]:
        """Every config line, at any depth (banner text excluded), whose command matches ``pattern``."""
        regex = _compiled(pattern)
        return [line for line in self.lines() if regex.match(line.command)]


_QUANTIFIERS = frozenset("*+?{")
_SPECIAL = frozenset(".^$*+?{}[]()|\\")


@lru_cache(maxsize=1024)
def literal_prefix(pattern: str) -> str:
    """Text that every string ``re.match(pattern, ...)`` accepts starts with ('' when unsure).

    Only ever too short, never wrong: the literal characters before the first special one, less
    one that a quantifier makes optional; nothing when an alternation ``|`` sits at the top level
    (outside any group), since the pattern may then start with either side.
    """
    prefix: list[str] = []
    collecting = True
    depth = 0
    position = 0
    while position < len(pattern):
        char = pattern[position]
        position += 1
        if char == "\\":
            collecting = False
            position += 1  # the escaped character is not special, whatever it is
        elif char == "[":
            collecting = False
            position = _class_end(pattern, position)
        elif char == "(":
            collecting = False
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth <= 0:
            return ""
        elif char in _QUANTIFIERS:
            if collecting and prefix:
                prefix.pop()
            collecting = False
        elif char in _SPECIAL:
            collecting = False
        elif collecting:
            prefix.append(char)
    return "".join(prefix)


def _class_end(pattern: str, position: int) -> int:
    """The position after the ``]`` closing a character class whose ``[`` is just before ``position``."""
    if pattern.startswith("^", position):
        position += 1
    if pattern.startswith("]", position):
        position += 1  # a "]" first in the class is a literal
    while position < len(pattern) and pattern[position] != "]":
        position += 2 if pattern[position] == "\\" else 1
    return position + 1


def telephony_service(config: RunningConfig) -> ConfigLine | None:
    """The ``telephony-service`` section (SCCP CME), or None on a router that is not a CME."""
    return config.first_global(r"telephony-service$")


def parse_running_config(text: str) -> RunningConfig:
    """Parse the text of ``show running-config`` (as collected, or as pasted with a prompt line).

    Never raises on odd input: whatever cannot be trusted ends up in ``problems``.
    """
    problems = _Problems()
    numbered = _content_lines(text.split("\n"), problems)
    if not numbered:
        problems.add("empty output: no configuration lines")
        return RunningConfig(roots=[], complete=False, problems=problems.messages())
    lines = _config_lines(numbered, problems)
    items = _group_banners(lines, problems)
    plain = [item for item in items if not item.is_banner]
    flat = _indentation_lost(plain)
    if flat:
        problems.add("sub-mode indentation is lost: sections were rebuilt from known headers")
        roots = _build_flat(items)
    else:
        roots = _build_indented(items, problems)
    _check_end(items, problems)
    _check_joined_lines(plain, problems)
    _check_repeated_sections(roots, problems)
    found = problems.messages()
    return RunningConfig(roots=roots, complete=not found, problems=found, indentation_lost=flat)


class _Problems:
    """Problems in the order found, each kind once, with up to a few example line numbers."""

    def __init__(self) -> None:
        self._order: list[str] = []
        self._lines: dict[str, list[int]] = {}

    def add(self, kind: str, line: int | None = None) -> None:
        if kind not in self._lines:
            self._order.append(kind)
            self._lines[kind] = []
        if line is not None:
            self._lines[kind].append(line)

    def messages(self) -> list[str]:
        out = []
        for kind in self._order:
            numbers = self._lines[kind]
            if not numbers:
                out.append(kind)
                continue
            shown = ", ".join(str(n) for n in numbers[:_MAX_EXAMPLES])
            more = f" and {len(numbers) - _MAX_EXAMPLES} more" if len(numbers) > _MAX_EXAMPLES else ""
            label = "line" if len(numbers) == 1 else "lines"
            out.append(f"{kind} ({label} {shown}{more})")
        return out


def _content_lines(raw_lines: list[str], problems: _Problems) -> list[tuple[int, str]]:
    """(line number, text) of the config proper: no prompt/command line, no header noise."""
    out: list[tuple[int, str]] = []
    seen_content = False
    for number, raw in enumerate(raw_lines, start=1):
        line = raw.rstrip()  # also drops a "\r" the reader may have left
        if "--More--" in line:
            problems.add("pager prompts ('--More--') in the capture: lines may be garbled", number)
            line = _PAGER.sub("", line).rstrip()
        stripped = line.strip()
        if not seen_content:
            if not stripped or _HEADER_NOISE.match(stripped):
                continue
            if _BARE_PROMPT.match(stripped) or is_prompt_line(stripped) or _SHOW_RUN.match(stripped):
                _check_command_line(stripped, number, problems)
                continue
        elif _HEADER_NOISE.match(stripped):
            if stripped.startswith(("Building configuration", "Current configuration")):
                problems.add("a second capture header in the middle: two captures joined?", number)
            continue
        seen_content = True
        out.append((number, line))
    # A pasted capture can end with the next prompt (bare or with a command); it is not config.
    while out and (not out[-1][1].strip() or _is_trailing_prompt(out[-1][1].strip())):
        out.pop()
    return out


def _is_trailing_prompt(stripped: str) -> bool:
    return bool(_BARE_PROMPT.match(stripped)) or (is_prompt_line(stripped) and stripped != "end")


def _check_command_line(stripped: str, number: int, problems: _Problems) -> None:
    """A typed ``show run | section X`` or ``show run interface Y`` prints only part of the config."""
    command = _PROMPT_PREFIX.sub("", stripped, count=1)
    show_run = _SHOW_RUN.match(command)
    if not show_run:
        return
    rest = show_run.group("rest").split()
    if "|" in show_run.group("rest") or any(word.lower() not in _FULL_SHOW_RUN_ARGUMENTS for word in rest):
        problems.add(f"the capture is a filtered or partial view ('{command}')", number)


def _config_lines(numbered: list[tuple[int, str]], problems: _Problems) -> list[ConfigLine]:
    """ConfigLines with publication prefixes removed: leading TABs and a shared space prefix."""
    cleaned: list[tuple[int, str]] = []
    for number, line in numbered:
        if line.startswith("\t"):
            # IOS never prints a TAB in front of a config line: it comes from an HTML copy, and
            # whatever indentation the line had is no longer what the router printed.
            problems.add("lines start with TAB characters (publication artifact)", number)
            line = line.lstrip("\t")
        cleaned.append((number, line))
    prefix = _common_space_prefix([line for _, line in cleaned if line.strip()])
    return [ConfigLine(number, line[prefix:].rstrip(), _indent(line[prefix:])) for number, line in cleaned]


def _common_space_prefix(lines: list[str]) -> int:
    """Spaces every line shares in front (a capture indented as a whole in publication)."""
    if not lines:
        return 0
    shared = len(lines[0])
    for line in lines:
        shared = min(shared, len(line) - len(line.lstrip(" ")))
        if not shared:
            break  # the usual case, found at the first line: no need to measure the rest
    return shared


def _indent(line: str) -> int:
    expanded = line.expandtabs(8) if "\t" in line else line  # most lines have no TAB to expand
    return len(expanded) - len(expanded.lstrip(" "))


def _is_separator(line: ConfigLine) -> bool:
    """Blank lines and ``!`` comments: IOS prints them between sections, never as commands."""
    return not line.command or line.command.startswith("!")


def _group_banners(lines: list[ConfigLine], problems: _Problems) -> list[ConfigLine]:
    """Fold each multi-line banner into its header line; the banner text becomes its children.

    ``banner motd ^C`` ... ``^C``: the text between the delimiters is free text (it may hold
    ``!``, blank lines, even lines that look like commands) and must never reach the config tree.
    """
    items: list[ConfigLine] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        banner = _BANNER.match(line.command) if line.indent == 0 else None
        if banner is None:
            items.append(line)
            continue
        rest = banner.group("rest")
        delimiter = "^C" if rest.startswith("^C") else rest[0]
        items.append(line)
        if delimiter in rest[len(delimiter):]:
            continue  # one-line banner: "banner motd ^C Authorized only ^C"
        while index < len(lines):
            body = lines[index]
            index += 1
            line.children.append(body)
            if delimiter in body.text:
                break
        else:
            problems.add("a banner never ends: the rest of the capture was read as banner text", line.number)
    return items


def _indentation_lost(lines: list[ConfigLine]) -> bool:
    """True when section headers are followed by sub-mode lines printed at column 0."""
    headers = 0
    indented_children = 0
    flat_children = 0
    for index, line in enumerate(lines):
        if line.indent or not SECTION_HEADERS.match(line.command):
            continue
        headers += 1
        following = lines[index + 1] if index + 1 < len(lines) else None
        if following is None or _is_separator(following):
            continue
        if following.indent > 0:
            indented_children += 1
        elif not SECTION_HEADERS.match(following.command) and not GLOBAL_ONLY.match(following.command):
            flat_children += 1
    return headers > 0 and flat_children > indented_children


def _build_indented(items: list[ConfigLine], problems: _Problems) -> list[ConfigLine]:
    roots: list[ConfigLine] = []
    # (effective indent, line): a header found indented at top level counts one column less, so
    # that the lines printed at its own indentation still become its children.
    stack: list[tuple[int, ConfigLine]] = []
    for line in items:
        if _is_separator(line):
            # "!" or a blank line at column 0 closes every open section; an indented "!" only separates.
            if line.indent == 0:
                stack.clear()
            continue
        if line.command == "quit" and any(item.command.startswith("certificate ") for _, item in stack):
            # IOS prints a certificate's terminator as "  <TAB>quit": its indentation says
            # nothing, it closes the certificate being printed.
            while not stack[-1][1].command.startswith("certificate "):
                stack.pop()
            stack.pop()[1].children.append(line)
            continue
        while stack and stack[-1][0] >= line.indent:
            stack.pop()
        if stack:
            stack[-1][1].children.append(line)
            stack.append((line.indent, line))
            continue
        roots.append(line)
        if line.is_banner:
            continue  # a banner takes no sub-mode lines; its text is already its children
        effective = line.indent
        if line.indent > 0:
            problems.add("indented lines outside any section", line.number)
            if SECTION_HEADERS.match(line.command):
                effective = line.indent - 1
        stack.append((effective, line))
    return roots


def _build_flat(items: list[ConfigLine]) -> list[ConfigLine]:
    roots: list[ConfigLine] = []
    current: ConfigLine | None = None
    certificate: ConfigLine | None = None
    for line in items:
        command = line.command
        if _is_separator(line):
            current = certificate = None
            continue
        if certificate is not None:
            # Hex lines of a certificate belong to it up to its "quit", whatever their indentation.
            certificate.children.append(line)
            if command == "quit":
                certificate = None
            continue
        if line.is_banner:
            roots.append(line)
            current = None
        elif current is not None and _TEMPLATE_REFERENCE.match(f"{current.command}\n{command}"):
            current.children.append(line)  # "ephone 1" / "ephone-template 2": a reference
        elif SECTION_HEADERS.match(command) or GLOBAL_ONLY.match(command):
            roots.append(line)
            current = line if SECTION_HEADERS.match(command) else None
        elif current is not None:
            current.children.append(line)
            if command.startswith("certificate ") and _CERT_CHAIN.match(current.command):
                certificate = line
        else:
            roots.append(line)
    return roots


def _check_end(items: list[ConfigLine], problems: _Problems) -> None:
    """IOS ends every ``show running-config`` with ``end``; without it the capture was cut off."""
    ends = [line for line in items if line.indent == 0 and line.command == "end"]
    if not ends:
        problems.add("no final 'end' line: the output was cut off")
        return
    last = ends[-1]
    after = [line for line in items if line.number > last.number and not _is_separator(line)]
    if after:
        problems.add("text after the final 'end': more than one capture?", after[0].number)
    if len(ends) > 1:
        problems.add("more than one 'end' line: captures joined", ends[0].number)


def _check_joined_lines(lines: list[ConfigLine], problems: _Problems) -> None:
    """Lines that carry two commands (or a doc note) once publication joined them.

    A checker reading such a line would see one command and miss the other, so the capture
    cannot support a conclusion drawn from absence.
    """
    for line in lines:
        command = line.command
        if _is_separator(line):
            # "! voice emergency response location 1": a separator and a section header run
            # together; the section's lines then look like globals.
            if SECTION_HEADERS.match(command[1:].strip()):
                problems.add("lines that look like two lines joined in publication", line.number)
            continue
        if command[0] == "." and _ELISION.match(command):
            problems.add("elision marks ('...'): part of the config was left out in publication", line.number)
            continue
        # The substring tests skip the regexes on the many lines that cannot match them (certificate hex).
        joined = "Example" in command and bool(_DOC_HEADING.search(command))
        if not _FREE_TEXT.match(command):
            arrow = "--" in command or "==" in command  # every _ANNOTATION holds one of them
            joined = joined or (arrow and bool(_ANNOTATION.search(command))) or command.endswith(" !")
            first, _, rest = command.partition(" ")
            arity = _FIXED_ARITY.get(first)
            if first == "dial-peer" and rest.startswith("voice") and rest[5:6] in ("", " "):
                arity = _DIAL_PEER_VOICE_ARITY
            if arity is not None and command.count(" ") + 1 > arity:
                joined = True
        if joined:
            problems.add("lines that look like two lines joined in publication", line.number)


def _check_repeated_sections(roots: list[ConfigLine], problems: _Problems) -> None:
    """IOS prints each section once; the same header twice means captures were pasted together."""
    seen: set[str] = set()
    for root in roots:
        if not root.children or root.is_banner:
            continue
        if root.command in seen:
            problems.add("a section is printed more than once: captures joined?", root.number)
        seen.add(root.command)
