"""TextFSM parsing: cmelive's own templates (``parsers/``) first, ntc-templates for the rest."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import textfsm
from textfsm import clitable

from cmelive.commands import is_prompt_line
from cmelive.errors import CmeliveError

PLATFORM = "cisco_ios"
INDEX_FILE = "index"


class ParseError(CmeliveError):
    """A template rejected the output (TextFSM ``Error`` state) or no template matches."""


def templates_dir() -> Path:
    """Our template directory: bundled in the wheel, or top-level ``parsers/`` in a checkout."""
    bundled = resources.files("cmelive").joinpath("_parsers")
    if bundled.is_dir():
        return Path(str(bundled))
    return Path(__file__).resolve().parents[3] / "parsers"


def ntc_templates_dir() -> Path:
    """The template directory of the installed ntc-templates package."""
    import ntc_templates

    return Path(ntc_templates.__file__).parent / "templates"


def _template_dirs() -> tuple[Path, Path]:
    return templates_dir(), ntc_templates_dir()


def _new_table(directory: Path) -> clitable.CliTable:
    # A fresh CliTable per call: the object holds the last parse, so sharing one would race between
    # threads. textfsm caches the compiled index per path, so this costs next to nothing.
    return clitable.CliTable(INDEX_FILE, str(directory))


def template_for(command: str) -> Path | None:
    """The template file that ``parse_table`` would use for ``command``, or None if there is none."""
    attributes = {"Command": command, "Platform": PLATFORM}
    for directory in _template_dirs():
        table = _new_table(directory)
        row = table.index.GetRowMatch(attributes)
        if row:
            # An index row may chain several templates with ':'; ours never do, ntc's rarely.
            first = str(table.index.index[row]["Template"]).split(":")[0]
            return directory / first
    return None


def strip_pasted_prompt(text: str, command: str | None = None) -> str:
    """Drop the line a pasted capture starts with: ``router#show ...``, or the bare command itself.

    A bare line (no prompt) is dropped only when ``command`` is given and the line is a ``show``
    command that maps to the same template (``sh ephone reg`` for ``show ephone registered``):
    no output of those commands starts with such a line, so nothing real is ever dropped.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        if is_prompt_line(line) or (command is not None and _is_bare_command_line(line, command)):
            return "\n".join(lines[index + 1 :])
        break
    return text


def _is_bare_command_line(line: str, command: str) -> bool:
    words = line.split()
    if not words or not "show".startswith(words[0].lower()) or len(words[0]) < 2:
        return False
    wanted = template_for(command)
    return wanted is not None and template_for(" ".join(words)) == wanted


def normalise_output(text: str, command: str | None = None) -> str:
    """What the templates see: Unix line ends, no pasted prompt or command line at the top."""
    return strip_pasted_prompt(text.replace("\r\n", "\n").replace("\r", "\n"), command)


def parse_table(command: str, text: str) -> list[dict[str, Any]]:
    """Parse ``text`` printed by ``command`` into records (lower-case keys, as ntc-templates gives).

    Raises :class:`ParseError` when no template knows the command or when the template reached its
    ``Error`` state (a line it does not recognise): the caller must then treat the evidence as
    unknown. A broken template (syntax error) is a bug and is not turned into a ``ParseError``.
    """
    body = normalise_output(text, command)
    attributes = {"Command": command, "Platform": PLATFORM}
    last_error: Exception | None = None
    for directory in _template_dirs():
        table = _new_table(directory)
        try:
            table.ParseCmd(body, attributes)
        except clitable.CliTableError as exc:
            last_error = exc
            continue
        except textfsm.TextFSMError as exc:  # the template said "Error": a line it does not know
            raise ParseError(f"{command}: {exc}") from exc
        header = [str(h).lower() for h in table.header]
        return [dict(zip(header, (_plain(v) for v in row))) for row in table]
    raise ParseError(f"{command}: no template ({last_error})")


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value
