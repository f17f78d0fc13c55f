"""``show running-config`` as a tree of sections the checks can query, with line numbers.

IOS prints sub-mode lines indented under their section header (``interface X``, ``line vty 0 4``,
``telephony-service``, ``ephone 1``, ...). We rebuild that tree from the indentation. Captures that
went through a terminal log or a web page are often damaged, and each damage is recorded with its
place and kind (:mod:`cmelive.parsing.damage`): a cut head or tail (what IOS prints before the
first or after the last line may be missing, :mod:`cmelive.parsing.ios_order` says what that can
be), lost indentation (the sections are rebuilt from IOS's grammar, :mod:`cmelive.parsing.ios_grammar`;
lines that grammar cannot place are marked as guesses), TABs in front of lines (turned back into
indentation), lines joined in publication (split where the grammar knows where one command ends,
marked otherwise), doc comments wrapped onto lines without ``!``, text after ``end`` (prompts, log
messages, junk typed at the prompt: set aside), a second capture, a filtered ``show run | ...``,
elisions, pager debris. What is only packaging is dropped silently: a pasted prompt/command line,
``Building configuration...``, ``Current configuration : N bytes``, a trailing prompt.

``complete`` is True when no damage can hide anything: a capture whose layout was repaired is
complete, and says so in ``damage``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from cmelive.commands import is_prompt_line
from cmelive.parsing import damage as damage_model
from cmelive.parsing import ios_order
from cmelive.parsing.damage import Damage, DamageKind, Reads, UnsureLine
from cmelive.parsing.ios_grammar import (
    GLOBAL_ONLY,
    HEAD_FORM_WORDS,
    NESTED,
    SECTION_HEADERS,
    SHARED_WITH_SUBMODES,
    head_form,
    kind_of,
    submode_accepts,
)
from cmelive.router_log import is_log_message

__all__ = [
    "GLOBAL_ONLY",
    "SECTION_HEADERS",
    "ConfigLine",
    "RunningConfig",
    "literal_prefix",
    "parse_running_config",
    "telephony_service",
]

# Commands whose argument is free text: damage heuristics must not read their words.
_FREE_TEXT = re.compile(
    r"^(description|remark|name|label|alias|system message|caller-id|display|header|url|text|"
    r"message|motd|banner|set|moh|ring|notify)\b"
)
_HEADER_NOISE = re.compile(
    r"^(Building configuration|Current configuration\s*:|Last configuration change|"
    r"NVRAM config last updated|Using \d+ out of \d+ bytes)"
)
# The first characters _HEADER_NOISE can start with: most lines are rejected before the regex.
_NOISE_FIRST = frozenset("BCLNU")
_CAPTURE_HEADER = re.compile(r"^(Building configuration|Current configuration\s*:|Using \d+ out of \d+ bytes)")
_BARE_PROMPT = re.compile(r"^[\w.\-/:()@]+[#>]\s*$")
_PROMPT_PREFIX = re.compile(r"^[\w.\-/:()@]*[#>]{1,2}\s*")
# "show running-config", "sh run", "show config", "more system:running-config", ... as typed on a prompt line.
_SHOW_RUN = re.compile(
    r"^(?:do\s+)?(?:sh(?:o|ow)?\s+(?:run\S*|start\S*|conf\S*)|more\s+(?:system:running-config|nvram:startup-config)|"
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
_ANNOTATION = re.compile(r"\s*(?:<={2,}|<-{2,}|={2,}>|-{2,}>)")
_DOC_HEADING = re.compile(r":\s+Example\s*$")
# "endRouter#", "end R1#show run": the final "end" with the next prompt glued on.
_END_JOINED = re.compile(r"^end\s*(?P<prompt>[\w.\-/:()@]+[#>].*)$")
_ELISION = re.compile(r"^\.+$")
# A Markdown code fence ("```", "```text", "~~~"): a page's packaging around each code block, not config.
_CODE_FENCE = re.compile(r"^(?:`{3,}|~{3,})[\w+-]*$")
# Cheap signs that a line may carry a join: a last character, a marker inside (the full tests follow).
_JOIN_ENDINGS = (" !", "Example")  # "... 2100 !", "... Another Router: Example"
# Words that make a line read as English: a doc comment that lost its "!".
_PROSE_WORDS = frozenset(
    "the a an is are be to of and or for with this that these those it its must should will can "
    "you your which when then than into from by on in as not at so if all only has have see below "
    "above here there we our they their".split()
)
_MAX_EXAMPLES = 3


# The recording of a check's queries, when the audit asked for one (a damaged config).
_reads = damage_model.current

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
            if child.children:  # most lines have none: no generator made for them
                yield from child.walk()

    def find(self, pattern: str) -> list[ConfigLine]:
        """Direct children whose command matches ``pattern`` (``re.match``)."""
        reads = _reads()
        if reads is not None:
            reads.children.append((self.number, pattern))
        regex = _compiled(pattern)
        return [c for c in self.children if regex.match(c.command)]

    def sub_lines(self) -> list[ConfigLine]:
        """Every direct child: what a reader that walks a whole section reads (recorded as such)."""
        reads = _reads()
        if reads is not None:
            reads.children.append((self.number, ""))
        return self.children

    def first(self, pattern: str) -> ConfigLine | None:
        found = self.find(pattern)
        return found[0] if found else None

    def has(self, pattern: str) -> bool:
        return bool(self.find(pattern))


@dataclass
class RunningConfig:
    """A parsed running-config, and the damage found in the capture.

    ``complete`` is False when some damage can hide configuration (a cut, lines whose place is a
    guess, two captures...); damage that was repaired (a TAB layout, a rebuilt indentation whose
    every line the grammar placed) is listed in ``damage`` but leaves the config complete.
    """

    roots: list[ConfigLine]
    damage: list[Damage] = field(default_factory=list)
    indentation_lost: bool = False
    # Positions of the roots in ``roots``, by the first word of their command: ``globals`` is asked
    # a hundred-odd times per audit, nearly always for a pattern that starts with a literal word,
    # and would otherwise run its regex over every root each time. Built on the first query.
    _by_first_word: dict[str, list[int]] = field(default_factory=dict, init=False, repr=False, compare=False)
    # (id, length) of the ``roots`` list the index was built from: a list replaced or grown since
    # is indexed again.
    _indexed: tuple[int, int] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def complete(self) -> bool:
        return not any(item.hides_anything for item in self.damage)

    @property
    def problems(self) -> list[str]:
        """Every damage found, as full sentences, in the order found."""
        return [item.detail for item in self.damage]

    @property
    def damage_summary(self) -> list[str]:
        """Every damage found, each in a few words ("cut after line 212", "layout rebuilt"), once."""
        return list(dict.fromkeys(item.summary for item in self.damage))

    def add_damage(self, item: Damage) -> None:
        self.damage.append(item)

    def touched_by(self, reads: Reads) -> list[Damage]:
        """The damage that could have answered one of ``reads``' queries differently."""
        if not self.damage:
            return []
        return damage_model.touching(self.damage, reads, [root.number for root in self.roots])

    def could_hide(self, pattern: str) -> list[Damage]:
        """The damage that could hide a top-level line matching ``pattern``."""
        return self.touched_by(Reads(tops=[pattern]))

    @property
    def hostname(self) -> str | None:
        # Not a recorded query: the hostname names the device in messages, no verdict rests on it.
        regex = _compiled(r"hostname \S")
        line = next((r for r in self._candidates("hostname ") if regex.match(r.command)), None)
        return line.words[1] if line else None

    def lines(self) -> Iterator[ConfigLine]:
        """Every config line, depth first. Banner text is not config: a banner yields only its header."""
        reads = _reads()
        if reads is not None:
            reads.everything = True
        for root in self.roots:
            yield root
            if not root.is_banner:
                yield from root.walk()

    def globals(self, pattern: str) -> list[ConfigLine]:
        """Top-level lines whose command matches ``pattern`` (``re.match``)."""
        reads = _reads()
        if reads is not None:
            reads.tops.append(pattern)
        regex = _compiled(pattern)
        return [r for r in self._candidates(pattern) if regex.match(r.command)]

    def _candidates(self, pattern: str) -> list[ConfigLine]:
        """The roots that can match ``pattern``, in config order: those whose first word fits its
        literal prefix (every root when the pattern has none)."""
        prefix = literal_prefix(pattern)
        if not prefix or prefix.startswith(" "):
            return self._expanded_candidates(pattern)
        index = self._first_word_index()
        word, space, _ = prefix.partition(" ")
        if space:  # the whole first word is known
            positions = index.get(word, [])
        else:  # the first word starts with the prefix: "logging" may be "logging" or "logging-x"
            found = [index[key] for key in index if key.startswith(word)]
            positions = found[0] if len(found) == 1 else sorted(p for part in found for p in part)
        roots = self.roots
        return [roots[position] for position in positions]

    def _expanded_candidates(self, pattern: str) -> list[ConfigLine]:
        """The roots that can match a pattern without one literal prefix, but whose every match
        starts with one of a few (``(no )?ip http (server|secure-server)$``, ``s?ntp server``):
        those whose first word fits one of them, in config order; every root when unsure."""
        prefixes = _alternative_prefixes(pattern)
        if prefixes is None or any(not prefix or prefix.startswith(" ") for prefix in prefixes):
            return self.roots
        index = self._first_word_index()
        positions: set[int] = set()
        for prefix in prefixes:
            word, space, _ = prefix.partition(" ")
            if space:
                positions.update(index.get(word, ()))
            else:
                for key, found in index.items():
                    if key.startswith(word):
                        positions.update(found)
        roots = self.roots
        return [roots[position] for position in sorted(positions)]

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
        reads = _reads()
        if reads is not None:
            reads.anywhere.append(pattern)
        regex = _compiled(pattern)
        found: list[ConfigLine] = []
        for root in self.roots:
            if regex.match(root.command):
                found.append(root)
            if not root.is_banner:
                found.extend(line for line in root.walk() if regex.match(line.command))
        return found


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


@lru_cache(maxsize=1024)
def _alternative_prefixes(pattern: str) -> frozenset[str] | None:
    """The texts every ``re.match(pattern, ...)`` starts with one of (:func:`ios_order.literal_prefixes`),
    or None. Not for a counted repetition: that reader takes ``x{0,2}`` for at least one ``x``."""
    if "{" in pattern:
        return None
    return ios_order.literal_prefixes(pattern)


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

    Never raises on odd input: whatever cannot be trusted is recorded as damage.
    """
    return _Parser().parse(text)


@dataclass
class _Found:
    """Damage of one kind as it is found: its lines, and what it hides so far."""

    kind: DamageKind
    lines: list[int] = field(default_factory=list)
    #: (the line, or its number when it is not in the tree; what it may hold; may it be top-level)
    unsure: list[tuple[ConfigLine | int, tuple[str, ...], bool]] = field(default_factory=list)
    #: Numbers of unsure lines that cannot be sub-mode lines (printed at column 0 in an indented capture).
    top_only: set[int] = field(default_factory=set)
    #: Unsure top-level lines that, if not top-level, could only be sub-mode lines of the section
    #: printed before them: their number -> that section's first line.
    owner: dict[int, int] = field(default_factory=dict)
    sections: list[tuple[int, int]] = field(default_factory=list)
    bands: set[int] = field(default_factory=set)
    everything: bool = False
    detail: str = ""
    summary: str = ""


class _Parser:
    def __init__(self) -> None:
        self._found: dict[tuple[DamageKind, str], _Found] = {}

    # --- recording damage ----------------------------------------------------------------------

    def note(self, kind: DamageKind, detail: str, summary: str, line: int | None = None, **hides: object) -> _Found:
        """Record damage of ``kind``; the same (kind, detail) found again only adds its line."""
        found = self._found.get((kind, detail))
        if found is None:
            found = self._found[(kind, detail)] = _Found(kind, detail=detail, summary=summary)
        if line is not None:
            found.lines.append(line)
        bands = hides.get("bands")
        if isinstance(bands, (set, frozenset)):
            found.bands.update(int(band) for band in bands)
        if hides.get("everything"):
            found.everything = True
        return found

    def damage(self, roots: list[ConfigLine]) -> list[Damage]:
        root_of = _root_numbers(roots) if any(f.unsure for f in self._found.values()) else {}
        out: list[Damage] = []
        for found in self._found.values():
            unsure = tuple(
                UnsureLine(
                    number=line if isinstance(line, int) else line.number,
                    texts=texts,
                    section=found.owner.get(line) if isinstance(line, int) else root_of.get(id(line)),
                    may_be_top=top,
                    may_be_child=(line if isinstance(line, int) else line.number) not in found.top_only,
                )
                for line, texts, top in found.unsure
            )
            numbers = sorted(set(found.lines))
            out.append(
                Damage(
                    kind=found.kind,
                    summary=found.summary.replace("{lines}", _span(numbers)),
                    detail=found.detail + _where(numbers),
                    lines=tuple(numbers),
                    bands=frozenset(found.bands),
                    unsure=unsure,
                    sections=tuple(found.sections),
                    everything=found.everything,
                )
            )
        return out

    # --- the pipeline ----------------------------------------------------------------------------

    def parse(self, text: str) -> RunningConfig:
        raw_lines = text.split("\n")
        repeated = _printed_again(raw_lines)
        if repeated is not None:
            raw_lines, copies = repeated
            self.note(
                DamageKind.REPEATED,
                f"the same configuration is printed {copies} times (a capture repeated after its 'end'): "
                "the copies agree and are judged as one",
                "printed twice" if copies == 2 else f"printed {copies} times",
            )
        numbered = self.content_lines(raw_lines)
        if not numbered:
            self.note(DamageKind.EMPTY, "empty output: no configuration lines", "empty", everything=True)
            return RunningConfig(roots=[], damage=self.damage([]))
        numbered = self.set_aside_after_end(numbered)
        lines = self.layout(numbered)
        lines = self.doc_comments(lines)
        items = self.group_banners(lines)
        flat = _indentation_lost([item for item in items if not item.is_banner])
        if flat:
            for found in self._found.values():
                found.top_only.clear()  # without indentation, column 0 says nothing
        items = self.split_joined(items)
        if flat:
            roots = self.build_flat(items)
        else:
            roots = self.build_indented(items)
        self.check_end(items, roots)
        self.check_head(roots)
        self.check_elisions(roots)
        self.check_repeated_sections(roots)
        return RunningConfig(roots=roots, damage=self.damage(roots), indentation_lost=flat)

    # --- the capture proper: packaging, log messages, text before and after it -------------------

    def content_lines(self, raw_lines: list[str]) -> list[tuple[int, str]]:
        """(line number, text) of the config proper: no prompt/command line, no header noise."""
        out: list[tuple[int, str]] = []
        seen_content = False
        fenced = in_fence = False
        for number, raw in enumerate(raw_lines, start=1):
            line = raw.rstrip()  # also drops a "\r" the reader may have left
            if "--More--" in line:
                line = _PAGER.sub("", line).rstrip()
                found = self.note(
                    DamageKind.PAGER,
                    "pager prompts ('--More--') in the capture: lines may be garbled",
                    "pager debris ({lines})",
                    number,
                )
                if line.strip():
                    found.unsure.append((number, (" ".join(line.split()),), True))
            stripped = line.strip()
            if stripped[:3] in ("```", "~~~") and _CODE_FENCE.match(stripped):
                in_fence = not in_fence
                fenced = True
                self.note(
                    DamageKind.CODE_FENCES,
                    "code fences of a web page's code blocks set aside",
                    "code fences set aside",
                    number,
                )
                continue
            if fenced and not in_fence and not stripped:
                continue  # the page's spacing between two code blocks, not a line of the config
            if "%" in stripped and is_log_message(stripped):
                self.note(DamageKind.LOG_MESSAGES, "router log messages set aside", "log messages set aside", number)
                continue
            if not seen_content:
                if not stripped or _HEADER_NOISE.match(stripped):
                    continue
                if _BARE_PROMPT.match(stripped) or is_prompt_line(stripped) or _SHOW_RUN.match(stripped):
                    header = _joined_header(stripped, raw_lines[number:])
                    if header is not None:
                        # "Router# show running-config dial-peer voice 1 voip" over the dial-peer's own
                        # indented lines: the section's header joined to the prompt, not a filter.
                        self.note(
                            DamageKind.JOINED_LINES,
                            "lines that look like two lines joined in publication",
                            "joined lines split ({lines})",
                            number,
                        )
                        seen_content = True
                        out.append((number, header))
                        continue
                    self.check_command_line(stripped, number)
                    continue
            elif (stripped[:1] in _NOISE_FIRST and _HEADER_NOISE.match(stripped)) or (
                ("#" in stripped or ">" in stripped) and self.starts_capture(stripped)
            ):
                if (_CAPTURE_HEADER.match(stripped) or self.starts_capture(stripped)) and _only_chatter(out):
                    # A terminal log: the login chatter before "R1#show run" is not config.
                    self.note(
                        DamageKind.TEXT_BEFORE,
                        "text before the capture (login, prompts) set aside",
                        "text before the capture set aside",
                        out[0][0],
                    )
                    out.clear()
                    if self.starts_capture(stripped):
                        self.check_command_line(stripped, number)
                    seen_content = False
                    continue
                if stripped.startswith(("Building configuration", "Current configuration")):
                    self.note(
                        DamageKind.SECOND_CAPTURE,
                        "a second capture header in the middle: two captures joined?",
                        "two captures joined",
                        number,
                        everything=True,
                    )
                if _HEADER_NOISE.match(stripped):
                    continue
            seen_content = True
            out.append((number, line))
        # A pasted capture can end with the next prompt (bare or with a command); it is not config.
        # "endRouter#..." is the final "end" with that prompt glued on, when no "end" came before.
        has_end = any(line.strip() == "end" for _, line in reversed(out))  # it is near the end, if anywhere
        while out and (not out[-1][1].strip() or _is_trailing_prompt(out[-1][1].strip())):
            if not has_end and _END_JOINED.match(out[-1][1].strip()):
                break
            out.pop()
        return out

    @staticmethod
    def starts_capture(stripped: str) -> bool:
        """A prompt line typing ``show running-config`` (or ``show config``...)."""
        if ("#" not in stripped and ">" not in stripped) or not (
            is_prompt_line(stripped) or _BARE_PROMPT.match(stripped)
        ):
            return False
        return bool(_SHOW_RUN.match(_PROMPT_PREFIX.sub("", stripped, count=1)))

    def check_command_line(self, stripped: str, number: int) -> None:
        """A typed ``show run | section X`` or ``show run interface Y`` prints only part of the config."""
        command = _PROMPT_PREFIX.sub("", stripped, count=1)
        show_run = _SHOW_RUN.match(command)
        if not show_run:
            return
        rest = show_run.group("rest").split()
        if "|" in show_run.group("rest") or any(word.lower() not in _FULL_SHOW_RUN_ARGUMENTS for word in rest):
            self.note(
                DamageKind.FILTERED,
                f"the capture is a filtered or partial view ('{command}')",
                "filtered view",
                number,
                everything=True,
            )

    def set_aside_after_end(self, numbered: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """Text after the final ``end``: prompts, log messages and typed junk are set aside; a
        second configuration stays, and makes the whole capture doubtful."""
        for position in range(len(numbered) - 1, -1, -1):
            number, line = numbered[position]
            stripped = line.strip()
            if stripped == "end":
                break
            joined = _END_JOINED.match(stripped)
            if joined:
                self.note(
                    DamageKind.JOINED_LINES,
                    "lines that look like two lines joined in publication",
                    "joined lines split ({lines})",
                    number,
                )
                numbered = [*numbered[:position], (number, "end"), (number, joined.group("prompt")),
                            *numbered[position + 1:]]
                break
        else:
            return numbered
        tail = [(number, line) for number, line in numbered[position + 1:] if line.strip()]
        if not tail:
            return numbered[: position + 1]
        second = next((number for number, line in tail if _looks_like_config(line.strip())), None)
        if second is not None:
            self.note(
                DamageKind.SECOND_CAPTURE,
                "text after the final 'end' holds configuration: more than one capture?",
                "two captures joined",
                second,
                everything=True,
            )
            return numbered
        self.note(
            DamageKind.TEXT_AFTER_END,
            "text after the final 'end' (prompts, typed text) set aside",
            "text after end set aside",
            tail[0][0],
        )
        return numbered[: position + 1]

    # --- layout: TABs, a shared prefix, doc comments, banners --------------------------------------

    def layout(self, numbered: list[tuple[int, str]]) -> list[ConfigLine]:
        """ConfigLines with publication prefixes removed: TABs turned back into indentation, and a
        space prefix every line shares."""
        if not any(line[:1] == "\t" for _, line in numbered):
            # The usual capture: no TAB in front of any line.
            prefix = _common_space_prefix([line for _, line in numbered if line])
            if not prefix:
                return [ConfigLine(number, line, _indent(line)) for number, line in numbered]
            return [ConfigLine(number, line[prefix:], _indent(line[prefix:])) for number, line in numbered]
        plain = [line for _, line in numbered if line.strip() and not line.startswith("\t")]
        prefix = _common_space_prefix(plain)
        out: list[ConfigLine] = []
        position = 0
        while position < len(numbered):
            number, line = numbered[position]
            if line[:1] != "\t":
                text = line[prefix:] if prefix else line
                out.append(ConfigLine(number, text, _indent(text)))
                position += 1
                continue
            end = position
            while end < len(numbered) and numbered[end][1].startswith("\t"):
                end += 1
            out.extend(self.untab(numbered[position:end], out))
            position = end
        return out

    def untab(self, block: list[tuple[int, str]], before: list[ConfigLine]) -> list[ConfigLine]:
        """A run of lines that start with TABs (an HTML copy): its place from what it holds, or from
        the lines around it."""
        shared = min(len(line) - len(line.lstrip("\t")) for _, line in block)
        rows: list[tuple[int, str, int]] = []  # (number, text without indentation, its own depth)
        for number, line in block:
            rest = line[shared:]
            lead = rest[: len(rest) - len(rest.lstrip(" \t"))]
            rows.append((number, rest.strip(), len(lead)))
        found = self.note(
            DamageKind.TAB_LAYOUT,
            "lines start with TAB characters (publication artifact)",
            "TAB layout repaired",
        )
        found.lines.extend(number for number, _, _ in rows)
        # A block with its own top level (a header or a global at depth 0) is a whole part of the
        # config, indented as a whole in publication.
        # Its top level may sit a few spaces in too (TABs, then the page's own indentation): the
        # least indented lines are that level when one of them opens a section or is a global.
        least = min((depth for _, text, depth in rows if text), default=0)
        own_top = any(depth == least and _opens_or_global(text) for _, text, depth in rows)
        if own_top and least:
            rows = [(number, text, max(depth - least, 0)) for number, text, depth in rows]
        base = 0
        weak = False
        if not own_top:
            real = [line for line in before if line.command]
            previous = real[-1] if real else None
            right_before = before[-1] if before else None
            if previous is None or (right_before is not None and right_before.indent == 0 and _is_separator(right_before)):
                weak = True
            elif previous.indent > 0:
                base = previous.indent
            elif SECTION_HEADERS.match(previous.command):
                base = 1
            else:
                weak = True
            depths = [depth for _, text, depth in rows if text and not text.startswith("!")]
            lowest = min(depths) if depths else 0
            rows = [(number, text, base + max(depth - lowest, 0)) for number, text, depth in rows]
        lines = [ConfigLine(number, " " * depth + text, depth) for number, text, depth in rows]
        if weak:
            found.summary = "TAB layout: lines placed by guess"
            found.unsure.extend(
                (line, (line.command,), True) for line in lines if line.command and not _is_separator(line)
            )
        return lines

    def doc_comments(self, lines: list[ConfigLine]) -> list[ConfigLine]:
        """Lines of a doc comment wrapped onto a line without its ``!`` are not config."""
        out: list[ConfigLine] = []
        in_comment = False
        for line in lines:
            command = line.command
            if command.startswith("!"):
                in_comment = len(command.lstrip("!- ").split()) >= 2
                out.append(line)
                continue
            if in_comment and command and _reads_as_prose(command):
                found = self.note(
                    DamageKind.DOC_COMMENT,
                    "doc comment text on lines without '!' set aside",
                    "doc comments set aside",
                    line.number,
                )
                if _opens_or_global(command) or ios_order.bands_of(command) is not None:
                    found.unsure.append((line.number, (command,), True))
                    if line.indent == 0:
                        found.top_only.add(line.number)
                continue
            in_comment = False
            out.append(line)
        return out

    def group_banners(self, lines: list[ConfigLine]) -> list[ConfigLine]:
        """Fold each multi-line banner into its header line; the banner text becomes its children.

        ``banner motd ^C`` ... ``^C``: the text between the delimiters is free text (it may hold
        ``!``, blank lines, even lines that look like commands) and must never reach the config tree.
        """
        items: list[ConfigLine] = []
        index = 0
        while index < len(lines):
            line = lines[index]
            index += 1
            banner = _BANNER.match(line.command) if line.indent == 0 and line.command[:6] == "banner" else None
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
                self.note(
                    DamageKind.UNCLOSED_BANNER,
                    "a banner never ends: the rest of the capture was read as banner text",
                    "unclosed banner ({lines})",
                    line.number,
                    bands=ios_order.hidden_after(ios_order.BEFORE_LINES),
                )
        return items

    # --- joined lines ----------------------------------------------------------------------------

    def split_joined(self, items: list[ConfigLine]) -> list[ConfigLine]:
        """Lines that carry two commands (or a doc note) once publication joined them: split where
        the grammar says where the first command ends, marked as a guess where it cannot."""
        out: list[ConfigLine] = []
        for line in items:
            command = line.command
            if (
                not command
                # _may_be_joined's own tests, inline: no "!" first, no "--"/"==", a first word no
                # head form starts with (then head_form is None)
                or (
                    command[0] != "!"
                    and "--" not in command
                    and "==" not in command
                    and command.partition(" ")[0] not in HEAD_FORM_WORDS
                    and not command.endswith(_JOIN_ENDINGS)
                )
                or not (command.endswith(_JOIN_ENDINGS) or _may_be_joined(command))
            ):
                out.append(line)  # nearly every line: no sign of a join
                continue
            if line.is_banner or (command[0] == "." and _ELISION.match(command)):
                out.append(line)
                continue
            if command[0] == "!":
                inner = command[1:].strip()
                if not (inner and SECTION_HEADERS.match(inner)):
                    out.append(line)
                    continue
                # "! voice emergency response location 1": a separator and a header run together.
                self.joined(line.number, repaired=True)
                line = ConfigLine(line.number, " " * line.indent + inner, line.indent)
            out.extend(self.split_line(line, out))
        return out

    def joined(self, number: int, *, repaired: bool, line: ConfigLine | None = None,
               texts: tuple[str, ...] = (), top: bool = False) -> None:
        found = self.note(
            DamageKind.JOINED_LINES,
            "lines that look like two lines joined in publication",
            "joined lines ({lines})",
            number,
        )
        if repaired and not found.unsure:
            found.summary = "joined lines split ({lines})"
        if not repaired:
            found.summary = "joined lines ({lines})"
            found.unsure.append((line if line is not None else number, texts, top))

    def split_line(self, line: ConfigLine, before: list[ConfigLine]) -> list[ConfigLine]:
        """``line`` as the lines it carries; ``before`` are the lines already read (for its section)."""
        command = line.command
        if _FREE_TEXT.match(command):
            return [line]
        if command.endswith(" !"):
            # "number 1 dn 1 ... !": the separator that followed was joined on.
            self.joined(line.number, repaired=True)
            line = _with_command(line, command[:-2].rstrip())
            command = line.command
        if ("--" in command or "==" in command) and (annotation := _ANNOTATION.search(command)):
            # "... axlpass 15 <====AXL username and password ... max-ephones 240": the note may
            # hold the next line's command; which words are note and which config is a guess.
            rest = command[annotation.end():].strip()
            head = _with_command(line, command[: annotation.start()].rstrip())
            self.joined(line.number, repaired=False, line=head, texts=damage_model.word_suffixes(rest) if rest else (),
                        top=line.indent == 0)
            return [head]
        heading = "Example" in command and _DOC_HEADING.search(command)
        form = head_form(command)
        if form is None:
            if heading:
                self.joined(line.number, repaired=False, line=line, texts=damage_model.word_suffixes(command),
                            top=line.indent == 0)
            return [line]
        head_text, role = form
        rest = command[len(head_text):].strip()
        head = _with_command(line, head_text)
        if heading:
            # "sast2 trustpoint sast2 CTL Client Running on Another Router: Example": a doc heading.
            self.joined(line.number, repaired=True)
            return [head]
        if role == "header":
            kind = kind_of(head_text)
            if submode_accepts(kind, rest) is False or _opens_or_global(rest):
                self.joined(line.number, repaired=False, line=head, texts=damage_model.word_suffixes(rest))
                return [head]
            child = ConfigLine(line.number, " " * (line.indent + 1) + rest, line.indent + 1)
            return [head, *self.split_rest(child, [*before, head], kind)]
        if role == "global":
            if not (_opens_or_global(rest) or ios_order.bands_of(rest) is not None):
                self.joined(line.number, repaired=False, line=head, texts=damage_model.word_suffixes(rest), top=True)
                return [head]
            sibling = ConfigLine(line.number, " " * line.indent + rest, line.indent)
            self.joined(line.number, repaired=True)
            return [head, *self.split_line(sibling, before)]
        # "mac-address 0014.F237.E000 emergency response location 2 type 7940": a sibling follows.
        header = _last_header(before)
        kind = kind_of(header.command) if header is not None else None
        if _opens_or_global(rest) or submode_accepts(kind, rest) is False:
            self.joined(line.number, repaired=False, line=head, texts=damage_model.word_suffixes(rest))
            return [head]
        sibling = ConfigLine(line.number, " " * line.indent + rest, line.indent)
        return [head, *self.split_rest(sibling, before, kind)]

    def split_rest(self, rest: ConfigLine, before: list[ConfigLine], kind: str | None) -> list[ConfigLine]:
        """The part of a joined line after its first command: split further where the grammar
        can; what is left that may still hold another command is a guess."""
        pieces = self.split_line(rest, before)
        last = pieces[-1]
        leftover = _holds_more(kind, last.command) and head_form(last.command) is None
        self.joined(rest.number, repaired=not leftover, line=last, texts=damage_model.word_suffixes(last.command))
        return pieces

    # --- the tree --------------------------------------------------------------------------------

    def build_indented(self, items: list[ConfigLine]) -> list[ConfigLine]:
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
                found = self.note(
                    DamageKind.ORPHAN_LINES,
                    "indented lines outside any section",
                    "lines outside any section ({lines})",
                    line.number,
                )
                if SECTION_HEADERS.match(line.command):
                    effective = line.indent - 1
                else:
                    # A sub-mode line whose section is not in the capture (or not where it stands).
                    found.unsure.append((line.number, (line.command,), True))
            stack.append((effective, line))
        return roots

    def build_flat(self, items: list[ConfigLine]) -> list[ConfigLine]:
        """Sections of a capture printed without indentation, rebuilt from IOS's grammar and order."""
        found = self.note(
            DamageKind.LOST_INDENTATION,
            "sub-mode indentation is lost: sections were rebuilt from IOS's grammar",
            "layout rebuilt",
        )
        roots: list[ConfigLine] = []
        current: ConfigLine | None = None
        kind: str | None = None
        current_band = 0
        nested: tuple[ConfigLine, re.Pattern[str] | None] | None = None
        certificate: ConfigLine | None = None
        after_separator = False
        for line in items:
            command = line.command
            if _is_separator(line):
                certificate = None
                nested = None
                after_separator = True
                continue
            separated, after_separator = after_separator, False
            if certificate is not None:
                # Hex lines of a certificate belong to it up to its "quit", whatever their indentation.
                certificate.children.append(line)
                if command == "quit":
                    certificate = None
                continue
            if line.is_banner:
                roots.append(line)
                current = None
                continue
            if current is not None and _TEMPLATE_REFERENCE.match(f"{current.command}\n{command}"):
                current.children.append(line)  # "ephone 1" / "ephone-template 2": a reference
                continue
            if SECTION_HEADERS.match(command) or (GLOBAL_ONLY.match(command) and not _submode_only(current, kind, command, current_band)):
                roots.append(line)
                current = line if SECTION_HEADERS.match(command) else None
                kind = kind_of(command) if current is not None else None
                bands = ios_order.bands_of(command)
                current_band = min(bands) if bands else 0
                nested = None
                continue
            if current is None:
                roots.append(line)
                continue
            if nested is not None:
                owner, lines_like = nested
                if lines_like is None or lines_like.match(command):
                    owner.children.append(line)
                    continue
                nested = None
            accepted = submode_accepts(kind, command)
            as_global = ios_order.bands_of(command, specific=True)
            global_fits = as_global is not None and max(as_global) >= current_band
            if accepted is True:
                current.children.append(line)
                if global_fits and SHARED_WITH_SUBMODES.match(command):
                    # "username X password Y" after a voice register pool: a pool line, or the
                    # first global username? Both are printed in the same stretch.
                    found.unsure.append((line, (command,), True))
                nested = _nested_opener(kind, current, line)
                if command.startswith("certificate ") and _CERT_CHAIN.match(current.command):
                    certificate = line
                continue
            if accepted is False and ios_order.bands_of(command) is not None and (global_fits or as_global is None):
                roots.append(line)  # a global this grammar knows, not one of the sub-mode's words
                current = None
                continue
            if separated and (accepted is False or global_fits) and not _is_elision(line):
                roots.append(line)
                # Top-level after the "!", or a sub-mode line of the section before it: nothing else.
                found.owner[line.number] = current.number
                current = None
                found.unsure.append((line.number, (command,), True))
                continue
            current.children.append(line)
            if command.startswith("certificate ") and _CERT_CHAIN.match(current.command):
                certificate = line
            elif (accepted is False or global_fits) and not _is_elision(line):
                found.unsure.append((line, (command,), True))
        if found.unsure:
            count = len(found.unsure)
            found.summary = f"layout rebuilt, {count} line{'s' if count > 1 else ''} placed by guess"
            found.detail += f"; {count} line(s) could sit elsewhere"
            found.lines.extend(entry if isinstance(entry, int) else entry.number for entry, _, _ in found.unsure)
        return roots

    # --- what the capture lacks --------------------------------------------------------------------

    def check_end(self, items: list[ConfigLine], roots: list[ConfigLine]) -> None:
        """IOS ends every ``show running-config`` with ``end``; without it the capture was cut off."""
        ends = [line for line in items if line.indent == 0 and line.command == "end"]
        if len(ends) > 1:
            self.note(
                DamageKind.SECOND_CAPTURE,
                "more than one 'end' line: captures joined",
                "two captures joined",
                ends[0].number,
                everything=True,
            )
        if ends:
            return
        real = [root for root in roots if root.command]
        if not real:
            return
        placed = ios_order.placement([root.command for root in real])
        last_line = max(max([line.number, *(below.number for below in line.walk())]) for line in items)
        if not placed.fits:
            self.out_of_order(placed, real)
        hidden = ios_order.hidden_after(placed.last) if placed.fits else ios_order.ALL_BANDS
        if not placed.fits:
            found = self.note(
                DamageKind.CUT_TAIL,
                f"no final 'end' line: the output was cut off after line {last_line}",
                f"cut after line {last_line}",
                bands=hidden,
            )
            found.sections.append((real[-1].number, last_line))
            return
        found = self.note(
            DamageKind.CUT_TAIL,
            f"no final 'end' line: the output was cut off after line {last_line} (what IOS prints "
            f"from {ios_order.BAND_NAMES[placed.last]} on may be missing)",
            f"cut after line {last_line}",
            bands=hidden,
        )
        last = items[-1]
        if not (_is_separator(last) and last.indent == 0):
            # The last section may have lost its last sub-mode lines too.
            found.sections.append((real[-1].number, last_line))

    def check_head(self, roots: list[ConfigLine]) -> None:
        """IOS starts every ``show running-config`` with ``version``: a capture that does not was cut."""
        real = [root for root in roots if root.command and not _is_elision(root)]
        if not real or real[0].command.startswith("version "):
            return
        if any(found.everything for found in self._found.values()):
            return  # a filtered view or two captures: nothing is vouched for anyway
        # Lines before the first one that is surely top-level are the tail of a section the cut
        # took ("description ...", " ip address ..."): they say nothing of where the cut fell.
        lead = next((position for position, root in enumerate(real) if _surely_top(root)), len(real))
        placed = ios_order.placement([root.command for root in real[lead:]])
        if not placed.fits:
            self.out_of_order(placed, real)
            return
        hidden = ios_order.hidden_before(placed.first)
        first = real[0]
        found = self.note(
            DamageKind.CUT_HEAD,
            f"the capture starts at line {first.number} ('{first.command.split(' ')[0]}'), not at 'version': "
            f"its head was cut off (what IOS prints up to {ios_order.BAND_NAMES[placed.first]} may be missing)",
            f"head cut before line {first.number}",
            bands=hidden,
        )
        found.unsure.extend((root, (root.command,), True) for root in real[:lead])

    def out_of_order(self, placed: ios_order.Placement, roots: list[ConfigLine]) -> None:
        """Fragments pasted together: any global line may be missing anywhere, but a section printed
        whole in a fragment still vouches for its own sub-mode lines."""
        breaking = next((root for root in roots if root.command == placed.breaks_at), roots[-1])
        # Two words name the command; the rest of a config line may be a secret.
        shown = " ".join(breaking.command.split(" ")[:2])
        self.note(
            DamageKind.OUT_OF_ORDER,
            f"the lines are not in the order IOS prints them ('{shown}' at line {breaking.number}): "
            "fragments pasted together, so nothing can be said of what they leave out but the insides of "
            "the sections they print whole",
            "fragments out of order",
            bands=ios_order.ALL_BANDS,
        )

    def check_elisions(self, roots: list[ConfigLine]) -> None:
        """``...`` lines: publication left part of the config out there."""
        detail = "elision marks ('...'): part of the config was left out in publication"
        for position, root in enumerate(roots):
            if _is_elision(root):
                before = ios_order.placement([r.command for r in roots[:position] if r.command])
                after = ios_order.placement([r.command for r in roots[position + 1:] if r.command])
                low = before.last if before.fits else ios_order.BANDS[0]
                high = after.first if after.fits else ios_order.BANDS[-1]
                bands = frozenset(band for band in ios_order.BANDS if low <= band <= high)
                self.note(DamageKind.ELISION, detail, "elided ({lines})", root.number, bands=bands)
                continue
            elided = [line.number for line in root.walk() if _is_elision(line)]
            if elided:
                end = max([root.number, *(line.number for line in root.walk())])
                found = self.note(DamageKind.ELISION, detail, "elided ({lines})")
                found.lines.extend(elided)
                found.sections.append((root.number, end))

    def check_repeated_sections(self, roots: list[ConfigLine]) -> None:
        """IOS prints each section once; the same header twice means captures were pasted together."""
        seen: set[str] = set()
        for root in roots:
            if not root.children or root.is_banner:
                continue
            if root.command in seen:
                self.note(
                    DamageKind.SECOND_CAPTURE,
                    "a section is printed more than once: captures joined?",
                    "two captures joined",
                    root.number,
                    everything=True,
                )
            seen.add(root.command)


# --- helpers ---------------------------------------------------------------------------------------


def _root_numbers(roots: list[ConfigLine]) -> dict[int, int]:
    """id(line) -> the number of its top-level section, for every line below a root."""
    out: dict[int, int] = {}
    for root in roots:
        out[id(root)] = root.number
        for line in root.walk():
            out[id(line)] = root.number
    return out


def _span(numbers: list[int]) -> str:
    if not numbers:
        return ""
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    if numbers[-1] - numbers[0] + 1 == len(numbers):
        return f"lines {numbers[0]}-{numbers[-1]}"
    shown = ", ".join(str(n) for n in numbers[:_MAX_EXAMPLES])
    more = f" and {len(numbers) - _MAX_EXAMPLES} more" if len(numbers) > _MAX_EXAMPLES else ""
    return f"lines {shown}{more}"


def _where(numbers: list[int]) -> str:
    if not numbers:
        return ""
    shown = ", ".join(str(n) for n in numbers[:_MAX_EXAMPLES])
    more = f" and {len(numbers) - _MAX_EXAMPLES} more" if len(numbers) > _MAX_EXAMPLES else ""
    label = "line" if len(numbers) == 1 else "lines"
    return f" ({label} {shown}{more})"


def _with_command(line: ConfigLine, command: str) -> ConfigLine:
    """``line`` with only ``command`` left on it (what follows was another line)."""
    fresh = ConfigLine(line.number, " " * line.indent + command, line.indent)
    fresh.children = line.children
    return fresh


def _last_header(lines: list[ConfigLine]) -> ConfigLine | None:
    """The last section header at column 0 before the end of ``lines`` (read back only on a join)."""
    for line in reversed(lines):
        if line.indent == 0 and SECTION_HEADERS.match(line.command):
            return line
    return None


def _may_be_joined(command: str) -> bool:
    """A quick look for what split_line reads closely: a separator with a header, an annotation
    arrow, a command longer than its fixed form."""
    if command[0] == "!":
        return len(command) > 2
    if "--" in command or "==" in command:
        return True
    return head_form(command) is not None


def _holds_more(kind: str | None, rest: str) -> bool:
    """True when a word after the first of ``rest`` starts another command of the sub-mode:
    the rest of a joined line may itself be two lines."""
    words = rest.split(" ")[1:]
    return any(submode_accepts(kind, word) and word not in ("no", "description") for word in words)


def _is_elision(line: ConfigLine) -> bool:
    return line.command[:1] == "." and bool(_ELISION.match(line.command))


def _surely_top(root: ConfigLine) -> bool:
    """A root that cannot be a sub-mode line left over from a section a cut took."""
    return root.indent == 0 and _opens_or_global(root.command)


def _opens_or_global(text: str) -> bool:
    return bool(SECTION_HEADERS.match(text) or GLOBAL_ONLY.match(text))


def _looks_like_config(stripped: str) -> bool:
    """A line after ``end`` that belongs to a configuration (another capture), not to a prompt."""
    if _BARE_PROMPT.match(stripped) or is_prompt_line(stripped) or is_log_message(stripped):
        return False
    return bool(_CAPTURE_HEADER.match(stripped)) or _opens_or_global(stripped) or stripped.startswith("version ")


def _only_chatter(lines: list[tuple[int, str]]) -> bool:
    """True when nothing in ``lines`` is configuration: what a terminal log shows before the capture."""
    return not any(
        line.strip().startswith("!") or _opens_or_global(line.strip()) for _, line in lines
    )


def _reads_as_prose(command: str) -> bool:
    """English, not a command: enough words, and some that no IOS command line is made of."""
    if _FREE_TEXT.match(command):
        return False
    words = command.split(" ")
    if len(words) < 3:
        return False
    lowered = [word.lower().strip(".,;:()") for word in words]
    return sum(word in _PROSE_WORDS for word in lowered) >= 1 and (
        command.endswith((".", ":")) or sum(word in _PROSE_WORDS for word in lowered) >= 2
    )


def _submode_only(current: ConfigLine | None, kind: str | None, command: str, current_band: int = 0) -> bool:
    """A line GLOBAL_ONLY takes for a global that this sub-mode also accepts, in a flat capture."""
    if kind == "interface":
        return command.startswith(("ntp ", "logging event", "snmp "))
    if current is not None and current.command == "application":
        return command.startswith(("service ", "package ", "global"))
    if current is not None and submode_accepts(kind, command):
        # IOS prints that global before this section ("service ..." after "dial-peer voice"): here
        # it can only be the sub-mode's own command.
        bands = ios_order.bands_of(command, specific=True)
        return bands is not None and max(bands) < current_band
    return False


def _nested_opener(
    kind: str | None, owner: ConfigLine, line: ConfigLine
) -> tuple[ConfigLine, re.Pattern[str] | None] | None:
    for header, lines_like in NESTED.get(kind or "", ()):
        if header.match(line.command):
            return (line, lines_like)
    del owner
    return None


def _joined_header(stripped: str, following: list[str]) -> str | None:
    """The section header glued to a ``show running-config`` prompt line, with the indentation it
    must have had, when the lines below are that section's indented sub-mode lines (a filtered
    ``show run`` would print the header again on a line of its own); else None."""
    command = _PROMPT_PREFIX.sub("", stripped, count=1)
    show_run = _SHOW_RUN.match(command)
    if not show_run or "|" in show_run.group("rest"):
        return None
    header = show_run.group("rest").strip()
    if not header or not SECTION_HEADERS.match(header):
        return None
    rows = [line.rstrip() for line in following if line.strip()]
    if not rows or not rows[0][:1].isspace() or rows[0].strip() == header:
        return None
    lead = rows[0][: len(rows[0]) - len(rows[0].lstrip())]
    # The header sits where the next line less indented than its first sub-mode line sits.
    outer = next(
        (row[: len(row) - len(row.lstrip())] for row in rows[1:] if lead.startswith(row[: len(row) - len(row.lstrip())])
         and len(row) - len(row.lstrip()) < len(lead)),
        lead[:-1],
    )
    return outer + header


def _printed_again(raw_lines: list[str]) -> tuple[list[str], int] | None:
    """The first copy and the number of copies, when the capture is one configuration printed more
    than once, each after the previous one's ``end`` (``endRouter# show running-config`` included)
    and equal to it line for line once prompts, headers, blank lines and layout are left out."""
    if sum(1 for raw in raw_lines if raw.strip()[:3] == "end") < 2:
        return None
    copies: list[list[str]] = []
    start = 0
    for position, raw in enumerate(raw_lines):
        stripped = raw.strip()
        if stripped == "end":
            following = next((line.strip() for line in raw_lines[position + 1:] if line.strip()), "")
            if following and _Parser.starts_capture(following):
                copies.append(raw_lines[start:position + 1])
                start = position + 1
        elif stripped.startswith("end") and (joined := _END_JOINED.match(stripped)) is not None:
            if _Parser.starts_capture(joined.group("prompt").strip()):
                copies.append([*raw_lines[start:position], raw.replace(joined.group("prompt"), "").rstrip()])
                start = position
                raw_lines = [*raw_lines[:position], joined.group("prompt"), *raw_lines[position + 1:]]
    if not copies:
        return None
    copies.append(raw_lines[start:])
    first = _normalised_copy(copies[0])
    if not first or any(_normalised_copy(copy) != first for copy in copies[1:]):
        return None
    return copies[0], len(copies)


def _normalised_copy(lines: list[str]) -> list[str]:
    """A copy's configuration lines, whitespace-collapsed, without prompts, headers or trailing text."""
    out: list[str] = []
    for raw in lines:
        stripped = " ".join(raw.split())
        if not stripped or _HEADER_NOISE.match(stripped) or _Parser.starts_capture(stripped) or _BARE_PROMPT.match(
            stripped
        ):
            continue
        out.append(stripped)
    while out and out[-1] != "end":
        out.pop()  # the prompt or text after the last copy's "end"
    return out


def _is_trailing_prompt(stripped: str) -> bool:
    return bool(_BARE_PROMPT.match(stripped)) or (is_prompt_line(stripped) and stripped != "end")


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


def _indentation_lost(lines: Sequence[ConfigLine]) -> bool:
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
