"""TextFSM parsing: cmelive's own templates (``parsers/``) first, ntc-templates for the rest."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

from textfsm import clitable

from cmelive.commands import is_prompt_line
from cmelive.errors import CmeliveError

PLATFORM = "cisco_ios"


class ParseError(CmeliveError):
    """A template rejected the output (TextFSM ``Error`` state) or no template matches."""


def templates_dir() -> Path:
    """Our template directory: bundled in the wheel, or top-level ``parsers/`` in a checkout."""
    bundled = resources.files("cmelive").joinpath("_parsers")
    if bundled.is_dir():
        return Path(str(bundled))
    return Path(__file__).resolve().parents[3] / "parsers"


@functools.cache
def _clitable(directory: str) -> clitable.CliTable:
    return clitable.CliTable("index", directory)


def _ntc_dir() -> str:
    import ntc_templates

    return str(Path(ntc_templates.__file__).parent / "templates")


def strip_pasted_prompt(text: str) -> str:
    """Drop a leading ``router#show ...`` line that a pasted capture starts with."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        if is_prompt_line(line):
            return "\n".join(lines[index + 1 :])
        break
    return text


def parse_table(command: str, text: str) -> list[dict[str, Any]]:
    """Parse ``text`` printed by ``command`` into records (lower-case keys, as ntc-templates gives)."""
    body = strip_pasted_prompt(text)
    attributes = {"Command": command, "Platform": PLATFORM}
    last_error: Exception | None = None
    for directory in (str(templates_dir()), _ntc_dir()):
        table = _clitable(directory)
        try:
            table.ParseCmd(body, attributes)
        except clitable.CliTableError as exc:
            last_error = exc
            continue
        except Exception as exc:  # textfsm.TextFSMError and friends: the template said "Error"
            raise ParseError(f"{command}: {exc}") from exc
        header = [str(h).lower() for h in table.header]
        return [dict(zip(header, (_plain(v) for v in row))) for row in table]
    raise ParseError(f"{command}: no template ({last_error})")


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value
