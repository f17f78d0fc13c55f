"""The pooled TextFSMs skip the rules that cannot match in one regex call: records stay TextFSM's.

:class:`cmelive.parsing.tables._DispatchingFSM` must give exactly what a stock ``textfsm.TextFSM``
of the same template gives, line for line: the same records, the same ``Error`` (with its
message), on every output we hold -- the golden samples, the shared corpus, the bundled examples
-- and on every audited command's output fed to every other command's template (which drives the
templates into their ``Error`` rules and their open-ended states).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import textfsm

from cmelive.commands import AUDIT_COMMANDS, RUNNING_CONFIG
from cmelive.examples import EXAMPLES, example_dir
from cmelive.parsing import tables
from cmelive.parsing.tables import (
    _DispatchingFSM,
    _first_rule_finder,
    normalise_output,
    template_for,
)

from .conftest import CORPUS, REPO

TABLE_COMMANDS = [command for command in AUDIT_COMMANDS if command != RUNNING_CONFIG]
TEMPLATES = sorted({path for command in TABLE_COMMANDS if (path := template_for(command)) is not None})


def _texts() -> list[tuple[str, str]]:
    """(where, text) for every output of a table command we hold."""
    found: list[tuple[str, str]] = []
    for raw in sorted((REPO / "tests" / "parsers").glob("*/*.raw")):
        found.append((f"golden {raw.parent.name}/{raw.name}", raw.read_text(encoding="utf-8")))
    if CORPUS.is_dir():
        for capture in sorted(CORPUS.glob("show_*.txt")):
            found.append((f"corpus {capture.name}", capture.read_text(encoding="utf-8", errors="replace")))
    for name in EXAMPLES:
        for capture in sorted(example_dir(name).glob("show_*.txt")):
            if capture.name != "show_running-config.txt":
                found.append((f"example {name}/{capture.name}", capture.read_text(encoding="utf-8")))
    return found


TEXTS = _texts()


def _outcome(fsm: Any, text: str) -> tuple[str, Any]:
    fsm.Reset()
    try:
        return "records", (list(fsm.header), [list(row) for row in fsm.ParseText(text)])
    except textfsm.TextFSMError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_dispatching_fsm_gives_textfsms_outcome_on_every_output(template: Path) -> None:
    source = template.read_text(encoding="utf-8")
    stock = textfsm.TextFSM(io.StringIO(source))
    ours = _DispatchingFSM(io.StringIO(source))
    compared = 0
    for where, text in TEXTS:
        for body in (text, normalise_output(text)):
            assert _outcome(ours, body) == _outcome(stock, body), f"{template.name} on {where}"
            compared += 1
    assert compared >= 2 * len(TEXTS) > 100


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_every_state_of_the_audited_templates_is_dispatched(template: Path) -> None:
    """No state falls back to TextFSM's rule-by-rule loop (the joined regex compiled for each)."""
    fsm = _DispatchingFSM(io.StringIO(template.read_text(encoding="utf-8")))
    fallen_back = [name for name, rules in fsm.states.items() if rules and fsm._finders[id(rules)] is None]
    assert fallen_back == []


def test_a_rule_that_cannot_be_joined_falls_back_to_textfsms_loop() -> None:
    template = io.StringIO(
        "Value A (\\w+)\nValue B (\\w+)\n\nStart\n  ^(?P<x>\\w)(?P=x) -> Continue\n  ^${A} ${B} -> Record\n\n"
    )
    fsm = _DispatchingFSM(template)
    assert fsm._finders[id(fsm.states["Start"])] is None
    assert _outcome(fsm, "aa bb\ncd ef\n") == ("records", (["A", "B"], [["aa", "bb"], ["cd", "ef"]]))


def test_the_finder_names_the_first_matching_rule_not_the_best() -> None:
    template = "Value A (\\S+)\n\nStart\n  ^x${A}\n  ^xy -> Record\n  ^.* -> Error\n\n"
    # Rules whose regex TextFSM wraps (its own objects, whatever engine they use) are not joined.
    assert _first_rule_finder(textfsm.TextFSM(io.StringIO(template)).states["Start"]) is None
    finder = _first_rule_finder(_DispatchingFSM(io.StringIO(template)).states["Start"])
    assert finder is not None
    for line, first in (("xyz", 0), ("x", 2), ("", 2)):
        found = finder.match(line)
        assert found is not None and found.lastgroup == f"_{first}", line


def test_the_pool_lends_dispatching_fsms() -> None:
    template = template_for("show version")
    assert template is not None
    with tables._pool(template).borrow() as fsm:
        assert isinstance(fsm, _DispatchingFSM)
