"""``show running-config`` as a tree of sections the checks can query, with line numbers.

IOS prints sub-mode lines indented under their section header (``interface X``, ``line vty 0 4``,
``telephony-service``, ``ephone 1``, ...). We rebuild that tree from the indentation. Captures that
lost their indentation in publication (copied from HTML) are rebuilt from the known section
headers instead, and flagged as not reliable: checks must not conclude anything from what such a
capture seems to lack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from cmelive.commands import is_prompt_line

# Headers that open a sub-mode in IOS / CME configs. Used to rebuild sections of captures whose
# indentation was lost; with intact indentation the indentation alone decides.
SECTION_HEADERS = re.compile(
    r"^(interface |line |router |telephony-service\b|ephone(-dn)?(-template)? |ephone-hunt |"
    r"ephone-type |dial-peer (voice|cor (custom|list))\b|voice service |voice register |voice class |"
    r"voice translation-(rule|profile) |voice hunt-group |voice-port |voice-card |sip-ua\b|"
    r"ctl-client\b|capf-server\b|credentials\b|crypto pki (trustpoint|server|certificate chain) |"
    r"crypto isakmp (policy|profile) |crypto ipsec profile |crypto map |crypto keyring |"
    r"ip access-list |ipv6 access-list |ip dhcp pool |control-plane\b|class-map |policy-map |"
    r"parameter-map |zone-pair |zone security |gateway\b|application\b|key chain |aaa group server |"
    r"tacacs server |radius server |archive\b|controller |sccp ccm group |dspfarm profile |"
    r"presence\b|vpn-group |vpn-profile |webvpn |ip sla |track |mgcp profile |voice lpcor |"
    r"call-manager-fallback\b|ip http client\b|ntp\s+peer\s*$|banner )"
)
# Top-level commands that never appear inside a sub-mode: in a flattened capture they end the
# section that precedes them.
GLOBAL_ONLY = re.compile(
    r"^(hostname |enable |username |service |version |boot-|logging |snmp-server |ntp |clock |"
    r"access-list |ip route |ip http |ip ssh |ip domain|ip name-server |ip cef|ip tftp |"
    r"ip nat (inside|outside) source |ip inspect name |aaa (new-model|authentication|authorization|"
    r"accounting|session-id)|no aaa |tftp-server |end$|cdp |no cdp run|dial-control-mib |"
    r"gw-accounting |privilege |tacacs-server |radius-server |mgcp\b|scheduler |alias |"
    r"crypto key |multilink |isdn |card type |network-clock|no network-clock|resource policy|"
    r"no ip (domain|http|source-route|bootp|finger|dhcp)|ip dhcp (excluded|use)|voice-card |"
    r"license |memory-size |spanning-tree |vtp |vlan )"
)
_HEADER_NOISE = re.compile(r"^(Building configuration|Current configuration\s*:|Last configuration change|NVRAM config last updated)")


@dataclass
class ConfigLine:
    """One line of the config, as printed (trailing blanks removed), with its line number."""

    number: int
    text: str
    indent: int
    children: list[ConfigLine] = field(default_factory=list)

    @property
    def command(self) -> str:
        """The line without its indentation, runs of blanks folded to one."""
        return " ".join(self.text.split())

    @property
    def words(self) -> list[str]:
        return self.text.split()

    def walk(self) -> Iterator[ConfigLine]:
        """Every line below this one, depth first."""
        for child in self.children:
            yield child
            yield from child.walk()

    def find(self, pattern: str) -> list[ConfigLine]:
        """Direct children whose command matches ``pattern`` (``re.match``)."""
        regex = re.compile(pattern)
        return [c for c in self.children if regex.match(c.command)]

    def first(self, pattern: str) -> ConfigLine | None:
        found = self.find(pattern)
        return found[0] if found else None

    def has(self, pattern: str) -> bool:
        return bool(self.find(pattern))


@dataclass
class RunningConfig:
    """A parsed running-config.

    ``complete`` is False when the capture ends without ``end`` (cut off) or when its
    indentation had to be guessed; ``problems`` says why.
    """

    roots: list[ConfigLine]
    complete: bool
    problems: list[str]
    indentation_lost: bool = False

    @property
    def hostname(self) -> str | None:
        line = self.first_global(r"hostname \S")
        return line.words[1] if line else None

    def lines(self) -> Iterator[ConfigLine]:
        for root in self.roots:
            yield root
            yield from root.walk()

    def globals(self, pattern: str) -> list[ConfigLine]:
        """Top-level lines whose command matches ``pattern`` (``re.match``)."""
        regex = re.compile(pattern)
        return [r for r in self.roots if regex.match(r.command)]

    def first_global(self, pattern: str) -> ConfigLine | None:
        found = self.globals(pattern)
        return found[0] if found else None

    def sections(self, pattern: str) -> list[ConfigLine]:
        """Top-level section headers matching ``pattern``; their sub-mode lines are ``children``."""
        return self.globals(pattern)

    def anywhere(self, pattern: str) -> list[ConfigLine]:
        """Every line, at any depth, whose command matches ``pattern``."""
        regex = re.compile(pattern)
        return [line for line in self.lines() if regex.match(line.command)]


def parse_running_config(text: str) -> RunningConfig:
    """Parse the text of ``show running-config`` (as collected, or as pasted with a prompt line)."""
    raw_lines = text.split("\n")
    numbered = _content_lines(raw_lines)
    problems: list[str] = []
    ends = any(line.strip() == "end" for _, line in numbered[-3:])
    if not numbered:
        problems.append("empty output")
    elif not ends:
        problems.append("no final 'end' line: the output was cut off")
    prefix = _common_prefix([line for _, line in numbered if line.strip()])
    lines = [
        ConfigLine(number, line[len(prefix):].rstrip(), _indent(line[len(prefix):]))
        for number, line in numbered
    ]
    flat = _indentation_lost(lines)
    roots = _build_flat(lines) if flat else _build_indented(lines)
    if flat:
        problems.append("sub-mode indentation is lost: sections were rebuilt from known headers")
    return RunningConfig(roots=roots, complete=not problems, problems=problems, indentation_lost=flat)


def _content_lines(raw_lines: list[str]) -> list[tuple[int, str]]:
    """(line number, text) of the config proper: no pasted prompt line, no header noise."""
    out: list[tuple[int, str]] = []
    seen_content = False
    for index, line in enumerate(raw_lines, start=1):
        stripped = line.strip()
        if not seen_content:
            if not stripped or _HEADER_NOISE.match(stripped) or is_prompt_line(stripped):
                continue
        seen_content = True
        if _HEADER_NOISE.match(stripped):
            continue
        out.append((index, line))
    # A pasted capture can end with the next prompt; it is not config.
    while out and (not out[-1][1].strip() or is_prompt_line(out[-1][1])):
        out.pop()
    return out


def _common_prefix(lines: list[str]) -> str:
    """Leading whitespace every line shares (publication artifacts such as two TABs)."""
    if not lines:
        return ""
    prefix = re.match(r"[ \t]*", lines[0])
    common = prefix.group(0) if prefix else ""
    for line in lines[1:]:
        while common and not line.startswith(common):
            common = common[:-1]
        if not common:
            break
    return common


def _indent(line: str) -> int:
    expanded = line.expandtabs(8)
    return len(expanded) - len(expanded.lstrip(" "))


def _indentation_lost(lines: list[ConfigLine]) -> bool:
    """True when section headers are followed by sub-mode lines printed at column 0."""
    headers = 0
    indented_children = 0
    flat_children = 0
    for index, line in enumerate(lines):
        if line.indent or not SECTION_HEADERS.match(line.command) or line.command.startswith("banner"):
            continue
        headers += 1
        following = lines[index + 1] if index + 1 < len(lines) else None
        if following is None or not following.command or following.command == "!":
            continue
        if following.indent > 0:
            indented_children += 1
        elif not SECTION_HEADERS.match(following.command) and not GLOBAL_ONLY.match(following.command):
            flat_children += 1
    return headers > 0 and flat_children > indented_children


def _build_indented(lines: list[ConfigLine]) -> list[ConfigLine]:
    roots: list[ConfigLine] = []
    stack: list[ConfigLine] = []
    for line in lines:
        if not line.command or line.command == "!":
            # "!" at column 0 closes every open section; an indented "!" only separates.
            if line.indent == 0:
                stack.clear()
            continue
        while stack and stack[-1].indent >= line.indent:
            stack.pop()
        if stack:
            stack[-1].children.append(line)
        else:
            roots.append(line)
        stack.append(line)
    return roots


def _build_flat(lines: list[ConfigLine]) -> list[ConfigLine]:
    roots: list[ConfigLine] = []
    current: ConfigLine | None = None
    for line in lines:
        command = line.command
        if not command or command == "!":
            current = None
            continue
        if SECTION_HEADERS.match(command) or GLOBAL_ONLY.match(command):
            roots.append(line)
            current = line if SECTION_HEADERS.match(command) else None
        elif current is not None:
            current.children.append(line)
        else:
            roots.append(line)
    return roots
