"""Secret masking: replace every secret value in router output with ``<masked>``.

Masking works line by line and word by word. A line keeps its indentation, its keywords and the
encryption-type digit in front of a secret, so checks (and people) can still read
``enable secret 9 <masked>``, ``username joe password 7 <masked>`` or
``snmp-server community <masked> RO 10``; only the value itself goes. Lines are never added,
removed or joined, so line numbers in evidence stay true.

The rules know the grammar of each command that carries a secret (what comes after the secret
must survive: ``xml user U password X 15`` keeps ``15``, ``ntp authentication-key 1 md5 X 7`` keeps
``7``). A generic rule then catches any other ``password X`` / ``secret X`` so that an unknown
command errs on the side of masking.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

MASK = "<masked>"

# Cheap pre-filter: a line containing none of these (lower-cased) cannot hold a secret this module
# knows, except the two-column rows of "show capf-server auth-string" (_MAC_ROW).
_TRIGGER_WORDS = (
    "password", "secret", "key", "community", "snmp-server", "pin", "capf-auth", "auth-string",
    "authentication", "inline:", "://",
)
_MAC_ROW = re.compile(
    r"^[ \t]*(?:[0-9a-fA-F]{12}|[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4})[ \t]+\S+[ \t]*$",
    re.MULTILINE,
)
_SPLIT = re.compile(r"(\s+)")
_TYPE_DIGIT = re.compile(r"\d")
_DIGITS = re.compile(r"\d+")
_MAC = re.compile(r"(?:[0-9a-f]{12}|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(://[^\s/@:]+:)([^\s/@]+)(@)")
# A typed prompt in front of a command in a pasted session: "Router(config)#enable secret X".
_PROMPT_WORD = re.compile(r"^[\w.\-/:()@]+[#>]$")
_GLUED_PROMPT = re.compile(r"^(\s*[\w.\-/:()@]+[#>])(\S.*)$")

# Words after which a ``password``/``secret`` word is a user *name*, not a keyword
# (``username password password X``: the first ``password`` is the user's name).
_NAME_INTRODUCERS = frozenset({"username", "user", "name", "admin", "sent-username", "hostname"})
_SECRET_KEYWORDS = frozenset({"password", "secret"})
# Sections whose ``key N`` lines are key ids, not keys (``key chain`` holds ``key 1`` + ``key-string``).
_KEY_ID_SECTIONS = re.compile(r"key chain\b", re.IGNORECASE)
# Sections that can hold a masked line whose context matters; used by mask_text to find the parent.
_SECTION_OPENER = re.compile(
    r"^(key chain |tacacs server |radius server |aaa server |aaa group server |crypto keyring |"
    r"crypto ikev2 keyring )",
    re.IGNORECASE,
)

# A masking decision: mask words[start..end] (inclusive) into one MASK, keeping ``keep`` leading
# characters of words[start] (``Password:abc`` keeps ``Password:``).
_Span = tuple[int, int, int]


def mask_line(line: str, *, section: str | None = None) -> str:
    """``line`` with every secret value replaced by :data:`MASK`.

    ``section`` is the command of the section header the line sits under, when the caller knows
    it (``mask_text`` does). Without it, ambiguous lines are masked: a bare ``key 1`` could be a
    key-chain id or a TACACS+ key, and a secret is worse to leak than an id to hide.
    """
    lowered_line = line.lower()
    if not any(word in lowered_line for word in _TRIGGER_WORDS) and not _MAC_ROW.match(line):
        return line
    return _mask_candidate(line, section)


def _mask_candidate(line: str, section: str | None) -> str:
    glued = _GLUED_PROMPT.match(line)
    if glued:
        return glued.group(1) + _mask_candidate(glued.group(2), section)
    parts = _SPLIT.split(line)
    # re.split with a capture group puts words at even indices (possibly "" at both ends).
    positions = [i for i in range(0, len(parts), 2) if parts[i]]
    words = [parts[i] for i in positions]
    lowered = [w.lower() for w in words]
    spans = _spans(words, lowered, line, section)
    for start, end, keep in reversed(spans):
        first = positions[start]
        last = positions[end]
        parts[first] = parts[first][:keep] + MASK
        for i in range(first + 1, last + 1):
            parts[i] = ""
    masked = "".join(parts) if spans else line
    if "://" in masked:
        # ftp://user:PASSWORD@host/path (archive, boot, copy targets): keep user, host and path.
        masked = _URL_CREDENTIALS.sub(rf"\g<1>{MASK}\g<3>", masked)
    return masked


def mask_text(text: str) -> str:
    """Mask every line of ``text``; the number of lines (and every newline) is unchanged."""
    lines = text.split("\n")
    candidates = _candidate_lines(text, lines)
    if not candidates:
        return text
    out = lines[:]
    for index in candidates:
        line = lines[index]
        section = _parent_header(lines, index) if _needs_section(line) else None
        out[index] = _mask_candidate(line, section)
    return "\n".join(out)


def _candidate_lines(text: str, lines: list[str]) -> list[int]:
    """Indices of the lines that pass the pre-filter, found with a few scans of the whole text.

    Scanning the text once per trigger word (``str.find`` runs in C) is an order of magnitude
    faster than testing each line with a regex; it keeps a 200 KB config well under 50 ms.
    """
    lowered = text.lower()
    offsets: list[int] = []
    for word in _TRIGGER_WORDS:
        found = lowered.find(word)
        while found != -1:
            offsets.append(found)
            found = lowered.find(word, found + 1)
    offsets += [m.start() for m in _MAC_ROW.finditer(text)]
    if not offsets:
        return []
    starts = list(accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
    return sorted({bisect_right(starts, offset) - 1 for offset in offsets})


def _needs_section(line: str) -> bool:
    words = line.split()
    return len(words) == 2 and words[0].lower() == "key" and bool(_DIGITS.fullmatch(words[1]))


def _parent_header(lines: Sequence[str], index: int) -> str | None:
    """The header of the section ``lines[index]`` belongs to, read from indentation.

    Captures that lost their indentation have every line at column 0; for them the nearest
    preceding known section opener (before a ``!``) is taken instead.
    """
    line = lines[index]
    indent = len(line) - len(line.lstrip())
    for back in range(index - 1, -1, -1):
        candidate = lines[back]
        stripped = candidate.strip()
        if not stripped:
            continue
        candidate_indent = len(candidate) - len(candidate.lstrip())
        if indent > 0:
            if candidate_indent < indent:
                return stripped
            continue
        if stripped.startswith("!"):
            return None
        if _SECTION_OPENER.match(stripped):
            return stripped
    return None


# --- rules -------------------------------------------------------------------------------------


def _value_after(lowered: list[str], index: int) -> int | None:
    """Index of the secret value that follows the keyword at ``index``.

    An encryption-type digit (``7``, ``0``, ``5``, ...) is kept when a value follows it.
    """
    value = index + 1
    if value >= len(lowered):
        return None
    if _TYPE_DIGIT.fullmatch(lowered[value]) and value + 1 < len(lowered):
        value += 1
    return value


def _one(index: int | None) -> list[_Span]:
    return [] if index is None else [(index, index, 0)]


def _rule_enable(words: list[str], lw: list[str], section: str | None) -> list[_Span]:
    # enable secret|password [level N] [type] VALUE
    if len(lw) < 3 or words[0] != "enable" or lw[1] not in _SECRET_KEYWORDS:
        return []
    keyword = 1
    if lw[2] == "level" and len(lw) > 3:
        keyword = 3
    return _one(_value_after(lw, keyword))


def _rule_snmp(words: list[str], lw: list[str], section: str | None) -> list[_Span]:
    if len(lw) < 3 or words[0] != "snmp-server":
        return []
    if lw[1] == "community":
        return [(2, 2, 0)]
    if lw[1] == "host" and len(lw) > 3:
        # snmp-server host A [vrf V] [informs|traps] [version 1|2c|3 [auth|noauth|priv]] COMMUNITY ...
        i = 3
        if i < len(lw) and lw[i] == "vrf":
            i += 2
        if i < len(lw) and lw[i] in ("informs", "traps"):
            i += 1
        if i < len(lw) and lw[i] == "version":
            i += 1
            if i < len(lw) and lw[i] == "3":
                i += 1
                if i < len(lw) and lw[i] in ("auth", "noauth", "priv"):
                    i += 1
            else:
                i += 1
        return _one(i) if i < len(lw) else []
    if lw[1] == "user":
        # snmp-server user U G [remote ...] v3 [encrypted] auth md5|sha X [priv des|3des|aes N Y]
        spans: list[_Span] = []
        i = 4  # after "snmp-server user U G"
        while i < len(lw) - 2:
            if lw[i] in ("auth", "priv"):
                j = i + 2  # skip the algorithm
                if lw[j] in ("128", "192", "256", "384", "512") and j + 1 < len(lw):
                    j += 1  # "priv aes 128 Y"
                spans.append((j, j, 0))
                i = j + 1
            else:
                i += 1
        return spans
    return []


def _rule_key_commands(words: list[str], lw: list[str], section: str | None) -> list[_Span]:
    """Keys of TACACS+/RADIUS/IKE and friends."""
    first = words[0]
    if first in ("tacacs-server", "radius-server", "server-private", "pac"):
        for i in range(1, len(lw)):
            if lw[i] == "key":
                return _one(_value_after(lw, i))
        return []
    if first == "crypto" and len(lw) > 3 and lw[1] == "isakmp" and lw[2] == "key":
        return _one(_value_after(lw, 2))
    if words[0] == "key":
        # "key [type] VALUE" in tacacs/radius server blocks; not "key chain X", not show output
        # labels such as "Key name: X" (capitalised) or "key Data:".
        if len(lw) == 4 and lw[1] == "config-key" and lw[2] == "password-encrypt":
            return [(3, 3, 0)]
        if len(lw) == 2 and lw[1] != "chain" and not lw[1].endswith(":"):
            if _DIGITS.fullmatch(lw[1]) and section and _KEY_ID_SECTIONS.match(section):
                return []  # key-chain id
            return [(1, 1, 0)]
        if len(lw) == 3 and _TYPE_DIGIT.fullmatch(lw[1]):
            return [(2, 2, 0)]
        return []
    if first == "pre-shared-key":
        for i in range(1, len(lw)):
            if lw[i] == "key":
                return _one(_value_after(lw, i))
        i = 1
        if i < len(lw) and lw[i] in ("local", "remote"):
            i += 1
        if i < len(lw) and lw[i] == "hex":
            i += 1
        return _one(_value_after(lw, i - 1))
    if first == "ntp" and len(lw) > 4 and lw[1] == "authentication-key":
        return [(4, 4, 0)]  # ntp authentication-key N md5 VALUE [type]
    spans: list[_Span] = []
    for i, word in enumerate(lw):
        if word in ("key-string", "authentication-key", "server-key"):
            spans += _one(_value_after(lw, i))
        elif word == "message-digest-key" and i + 2 < len(lw):
            spans += _one(_value_after(lw, i + 2))  # message-digest-key N md5 [type] VALUE
        elif word == "pre-share" and i + 1 < len(lw) and lw[i + 1] == "key":
            spans += _one(_value_after(lw, i + 1))
    return spans


def _rule_fhrp(words: list[str], lw: list[str], section: str | None) -> list[_Span]:
    # standby|vrrp|glbp [N] authentication [text X | md5 key-string [type] X | md5 key-chain NAME | X]
    if words[0] not in ("standby", "vrrp", "glbp") or "authentication" not in lw:
        return []
    i = lw.index("authentication") + 1
    if i >= len(lw):
        return []
    if lw[i] == "text":
        i += 1
    elif lw[i] == "md5":
        if i + 1 < len(lw) and lw[i + 1] == "key-string":
            return _one(_value_after(lw, i + 1))
        return []  # key-chain NAME: a reference, not a secret
    return _one(i) if i < len(lw) else []


def _rule_cme(words: list[str], lw: list[str], section: str | None) -> list[_Span]:
    """CME-specific secrets: phone auth strings, PINs, CAPF rows, the TAPI/XML credential."""
    first = words[0]
    if first in ("capf-auth-str", "pin") and len(lw) > 1:
        return [(1, 1, 0)]
    if first == "auth-string" and len(lw) > 1 and lw[1] not in ("generate", "delete"):
        return [(1, 1, 0)]
    if first == "authentication" and len(lw) > 3 and lw[1] == "credential":
        return [(3, 3, 0)]  # telephony-service: authentication credential APP PASSWORD
    if len(lw) == 2 and _MAC.fullmatch(lw[0]):
        return [(1, 1, 0)]  # show capf-server auth-string: MAC + auth string
    return []


def _rule_show_labels(words: list[str], lw: list[str], section: str | None) -> list[_Span]:
    """``Password:X`` / ``Password: X`` (show ephone) and SRTP ``local key:``/``remote key:`` values."""
    spans: list[_Span] = []
    n = len(lw)
    for i, word in enumerate(lw):
        if word.startswith("password:") or word.startswith("password="):
            if len(word) > 9:
                spans.append((i, i, 9))
            elif i + 1 < n:
                spans.append((i + 1, i + 1, 0))
        elif word == "key:" and i > 0 and lw[i - 1].endswith(("local", "remote")) and i + 1 < n:
            # The value runs to the end of the line or to the next "local|remote key:" label.
            end = i + 1
            while end + 1 < n and not (lw[end + 1].endswith(("local", "remote")) and end + 2 < n
                                       and lw[end + 2] == "key:"):
                end += 1
            spans.append((i + 1, end, 0))
        elif word.startswith("inline:") and len(word) > 7:
            spans.append((i, i, 7))  # SDP a=crypto ... inline:KEY|lifetime
    return spans


def _rule_generic(words: list[str], lw: list[str], section: str | None) -> list[_Span]:
    """The first ``password X`` / ``secret X`` of a line, whatever the command."""
    names: set[int] = set()
    for i, word in enumerate(lw):
        if i in names:
            continue  # "username password password X": the first "password" is a user name
        if word in _NAME_INTRODUCERS:
            names.add(i + 1)
            continue
        if word not in _SECRET_KEYWORDS:
            continue
        value = _value_after(lw, i)
        if value is None:
            return []
        if lw[value] == "level" or lw[value].endswith(":"):
            return []  # "no enable secret level 15", "Password expiry: 30"
        if i == 0 and lw[value] == "encryption":
            return []  # "password encryption aes" is a global command
        return [(value, value, 0)]
    return []


_FHRP = frozenset({"standby", "vrrp", "glbp"})
_CME_FIRST_WORDS = frozenset({"capf-auth-str", "pin", "auth-string", "authentication"})


def _spans(words: list[str], lowered: list[str], line: str, section: str | None) -> list[_Span]:
    """Every span to mask in one line. Rules run only when the line can concern them: a config
    with thousands of ``username`` lines must still mask in milliseconds."""
    if not lowered:
        return []
    # Rules read the command from its first word: look past a typed prompt or a "no".
    skip = 0
    while skip < len(words) - 1 and (words[skip] == "no" or _PROMPT_WORD.match(words[skip])):
        skip += 1
    if skip:
        return [(a + skip, b + skip, keep) for a, b, keep in _spans(words[skip:], lowered[skip:], line, section)]
    first = words[0]
    low = line.lower()
    spans: list[_Span] = []
    if first == "enable":
        spans += _rule_enable(words, lowered, section)
    elif first == "snmp-server":
        spans += _rule_snmp(words, lowered, section)
    elif first in _FHRP:
        spans += _rule_fhrp(words, lowered, section)
    if "key" in low:
        spans += _rule_key_commands(words, lowered, section)
    if first in _CME_FIRST_WORDS or len(words) == 2:
        spans += _rule_cme(words, lowered, section)
    if ":" in low or "=" in low:
        spans += _rule_show_labels(words, lowered, section)
    if not spans and ("password" in low or "secret" in low):
        spans = _rule_generic(words, lowered, section)
    return _without_overlaps(spans) if len(spans) > 1 else spans


def _without_overlaps(spans: list[_Span]) -> list[_Span]:
    kept: list[_Span] = []
    for span in sorted(set(spans)):
        if kept and span[0] <= kept[-1][1]:
            continue
        kept.append(span)
    return kept
