"""The audit's caches change nothing but speed.

- ``parse_table`` (pooled TextFSMs, cached index lookups) gives what a fresh clitable ``CliTable``
  gives, and the same from many threads at once;
- dial patterns share one compiled automaton per text, whose remembered answers are the answers
  a fresh automaton gives, whatever order the questions come in, from any thread;
- ``RunningConfig.globals`` (first-word index) selects what a regex over every root selects;
- ``DeviceState.derived`` builds once per device, and a check judges a device the same whether the
  other checks ran before it on the same state or it runs on a state of its own.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import textfsm
import yaml
from textfsm import clitable

from cmelive.audit import audit_snapshot, run_check
from cmelive.checks import all_checks, get_check
from cmelive.checks.base import CheckResult
from cmelive.commands import AUDIT_COMMANDS, RUNNING_CONFIG
from cmelive.dialplan import ACCESS_CODES, DialPattern, _Automaton, _automaton
from cmelive.examples import example_dir
from cmelive.parsing import tables
from cmelive.parsing.running_config import ConfigLine, RunningConfig, literal_prefix, parse_running_config
from cmelive.parsing.tables import PLATFORM, ParseError, normalise_output, parse_table
from cmelive.policy import Policy
from cmelive.snapshot import Snapshot, read_snapshot
from cmelive.state import DeviceState

from .conftest import CORPUS, FIXTURES, REPO

EXAMPLES = ("secure-cme", "insecure-cme", "plain-ios")
GOLDEN_RAW = sorted((REPO / "tests" / "parsers").glob("show_*/*.raw"))


# --- parse_table -----------------------------------------------------------------------------------


def clitable_parse(command: str, text: str) -> list[dict[str, Any]]:
    """parse_table as it was: a fresh CliTable per call, our index first, then ntc-templates'."""
    body = normalise_output(text, command)
    attributes = {"Command": command, "Platform": PLATFORM}
    last_error: Exception | None = None
    for directory in (tables.templates_dir(), tables.ntc_templates_dir()):
        table = clitable.CliTable("index", str(directory))
        try:
            table.ParseCmd(body, attributes)
        except clitable.CliTableError as exc:
            last_error = exc
            continue
        except textfsm.TextFSMError as exc:  # the template's Error state
            raise ParseError(f"{command}: {exc}") from exc
        header = [str(h).lower() for h in table.header]
        return [dict(zip(header, (list(v) if isinstance(v, list) else v for v in row))) for row in table]
    raise ParseError(f"{command}: no template ({last_error})")


def outcome(parse: Callable[[str, str], list[dict[str, Any]]], command: str, text: str) -> object:
    """Records, or the ParseError message: both are results the audit relies on."""
    try:
        return parse(command, text)
    except ParseError as exc:
        return f"ParseError: {exc}"


def golden_inputs() -> list[tuple[str, str]]:
    """(command, output) of every golden parser test, of the examples, and of inputs that fail."""
    inputs = [(raw.parent.name.replace("_", " "), raw.read_text(encoding="utf-8")) for raw in GOLDEN_RAW]
    for name in EXAMPLES:
        snapshot = read_snapshot(example_dir(name))
        inputs += [(command, out.text) for command, out in snapshot.outputs.items() if command != RUNNING_CONFIG]
    inputs += [
        ("show ephone registered", "this is not what the router prints\n"),  # the template's Error state
        ("show nothing we know", "text\n"),  # no template at all
        ("sh ephone reg", "router#sh ephone reg\nNo ephone in specified type/condition.\n"),  # abbreviated
        ("show module", ""),  # an ntc index row that chains several templates
    ]
    return inputs


INPUTS = golden_inputs()


@pytest.mark.parametrize(("command", "text"), INPUTS, ids=[f"{n}-{command}" for n, (command, _) in enumerate(INPUTS)])
def test_parse_table_gives_what_a_fresh_clitable_gives(command: str, text: str) -> None:
    assert outcome(parse_table, command, text) == outcome(clitable_parse, command, text)


def test_template_lookup_names_the_template_clitable_picks() -> None:
    for command in [*AUDIT_COMMANDS, "sh ephone reg", "show module", "show nothing we know"]:
        found = tables.template_for(command)
        attributes = {"Command": command, "Platform": PLATFORM}
        expected = None
        for directory in (tables.templates_dir(), tables.ntc_templates_dir()):
            index = clitable.CliTable("index", str(directory)).index
            row = index.GetRowMatch(attributes)
            if row:
                expected = directory / str(index.index[row]["Template"]).split(":")[0]
                break
        assert found == expected, command


def test_parse_table_from_many_threads_at_once_gives_identical_results() -> None:
    inputs = INPUTS
    expected = [outcome(parse_table, command, text) for command, text in inputs]
    tables._index_entry.cache_clear()  # the index lookups race too, not only the parses
    threads = 24
    start = threading.Barrier(threads)

    def worker(offset: int) -> list[tuple[int, object]]:
        start.wait()
        order = list(range(len(inputs)))[offset:] + list(range(len(inputs)))[:offset]
        return [(index, outcome(parse_table, *inputs[index])) for _ in range(3) for index in order]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(worker, [n * 7 % len(inputs) for n in range(threads)]))
    for found in results:
        assert len(found) == 3 * len(inputs)
        for index, got in found:
            assert got == expected[index], inputs[index][0]


def test_compiled_templates_are_reused_not_recompiled_per_parse() -> None:
    command = "show ephone registered"
    text = (REPO / "tests" / "parsers" / "show_ephone_registered" / "cme12_tls_authenticated_encrypted.raw").read_text()
    template = tables.template_for(command)
    assert template is not None
    parse_table(command, text)
    pool = tables._pool(template)
    compiled = len(pool._idle)
    for _ in range(20):
        parse_table(command, text)
    assert len(pool._idle) == compiled  # one thread, one parse at a time: the same FSM each time
    assert compiled >= 1


# --- dial patterns ---------------------------------------------------------------------------------

PATTERNS = ("9T", "91[2-9]..[2-9]......", "9011T", "1900.......", "[2-9]..[2-9]......", "9[^01]T", "(91|81)242",
            "+[2-9]T", "411", "9.%", "8?1242", "91(242|876)T", "4..", "9...")
PREFIXES = ("", "9", "91", "9011", "91242", "1242", "1900", "8", "81242", "411", "9411", "+4", "4", "90")
TAILS = (range(0, 1), range(7, 8), range(1, 33), range(6, 33), range(0, 0))


def answers(automaton: _Automaton, questions: list[tuple[str, str, object]]) -> list[bool]:
    out = []
    for kind, prefix, extra in questions:
        if kind == "some":
            assert isinstance(extra, range)
            out.append(automaton.matches_some(prefix, extra))
        elif kind == "blocks":
            assert isinstance(extra, int)
            out.append(automaton.blocks_all(prefix, extra))
        else:
            out.append(automaton.accept in automaton.after(prefix))
    return out


def questions() -> list[tuple[str, str, object]]:
    asked: list[tuple[str, str, object]] = []
    for prefix in PREFIXES:
        for code in ACCESS_CODES:
            asked += [("some", code + prefix, tail) for tail in TAILS]
            asked += [("blocks", code + prefix, length) for length in (0, 3, 7)]
            asked.append(("matches", code + prefix, None))
    return asked


@pytest.mark.parametrize("text", PATTERNS)
def test_remembered_answers_are_a_fresh_automatons_answers_in_any_order(text: str) -> None:
    asked = questions()
    reference = [answers(_Automaton(text), [question])[0] for question in asked]  # one fresh one per question
    shared = _Automaton(text)
    assert answers(shared, asked) == reference
    assert answers(shared, list(reversed(asked))) == list(reversed(reference))
    assert answers(shared, asked) == reference


def test_dial_patterns_of_one_text_share_one_automaton() -> None:
    first, second = DialPattern("91[2-9]..[2-9]......"), DialPattern("91[2-9]..[2-9]......")
    assert first is not second and first.text == second.text
    assert first._automaton is second._automaton is _automaton("91[2-9]..[2-9]......")


def test_shared_automata_answer_the_same_from_many_threads() -> None:
    asked = questions()
    expected = {text: answers(_Automaton(text), asked) for text in PATTERNS}
    _automaton.cache_clear()
    threads = 16
    start = threading.Barrier(threads)

    def worker(seed: int) -> dict[str, list[bool]]:
        start.wait()
        texts = PATTERNS[seed % len(PATTERNS):] + PATTERNS[: seed % len(PATTERNS)]
        order = asked[seed:] + asked[:seed]
        found = {}
        for text in texts:
            got = answers(DialPattern(text)._automaton, order)
            found[text] = got[len(asked) - seed:] + got[: len(asked) - seed]  # back to the asked order
        return found

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for found in pool.map(worker, range(threads)):
            assert found == expected


# --- RunningConfig.globals -------------------------------------------------------------------------


def patterns_the_checks_ask() -> list[str]:
    """Every pattern ``globals`` (``sections``, ``first_global``) gets during audits of the examples."""
    asked: list[str] = []
    real = RunningConfig.globals

    def spy(config: RunningConfig, pattern: str) -> list[ConfigLine]:
        asked.append(pattern)
        return real(config, pattern)

    RunningConfig.globals = spy  # type: ignore[method-assign]
    try:
        for name in EXAMPLES:
            audit_snapshot(read_snapshot(example_dir(name)))
    finally:
        RunningConfig.globals = real  # type: ignore[method-assign]
    return sorted(set(asked))


TRICKY_PATTERNS = [
    r"abc|interface", r"(no )?ip http", r"s?ntp server", r"ab?c", r"logging+", r"a{0}interface", r"\S+ \S+",
    r"[ai]nterface", r"interface(?=\s)", r"(?i)INTERFACE", r"hostname", r"host", r"hostname\b", r"end$", r"",
    r"ip (access-list|route) ", r"crypto pki trustpoint \S+|hostname", r"[|]x|interface", r"a\|b", r" interface",
    r"e", r"enable secret|enable password", r"(enable|username) ", r"interface\ ", r"interface.",
]


def configs() -> Iterator[RunningConfig]:
    for name in EXAMPLES:
        yield parse_running_config(read_snapshot(example_dir(name)).get(RUNNING_CONFIG).text)
    if CORPUS.is_dir():
        for path in sorted(CORPUS.glob("running_config*")):
            yield parse_running_config(path.read_text(encoding="utf-8", errors="replace"))


def test_indexed_globals_select_what_a_regex_over_every_root_selects() -> None:
    patterns = patterns_the_checks_ask() + TRICKY_PATTERNS
    assert len(patterns) > 60
    for config in configs():
        for pattern in patterns:
            regex = re.compile(pattern)
            expected = [root for root in config.roots if regex.match(root.command)]
            found = config.globals(pattern)
            assert [line.number for line in found] == [line.number for line in expected], pattern
            assert all(a is b for a, b in zip(found, expected))


def test_literal_prefix_is_a_prefix_of_every_match() -> None:
    patterns = patterns_the_checks_ask() + TRICKY_PATTERNS
    commands = sorted({line.command for config in configs() for line in config.lines()})
    commands += ["", "abc", "ac", "ntp server 1.1.1.1", "e", "hostname", "hostnamex"]
    for pattern in patterns:
        prefix = literal_prefix(pattern)
        regex = re.compile(pattern)
        for command in commands:
            if regex.match(command):
                assert command.startswith(prefix), (pattern, prefix, command)


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        (r"hostname \S", "hostname "),
        (r"telephony-service$", "telephony-service"),
        (r"enable (secret|password) ", "enable "),
        (r"ab?c", "a"),  # b is optional
        (r"abc|interface", ""),  # either side may start the match
        (r"a(b|c)d", "a"),  # an alternation inside a group leaves the prefix alone
        (r"a[|]b|c", ""),
        (r"a[]|]b", "a"),
        (r"(no )?ip http", ""),
        (r"ip\.x", "ip"),
    ],
)
def test_literal_prefix_examples(pattern: str, prefix: str) -> None:
    assert literal_prefix(pattern) == prefix


def test_the_index_follows_roots_added_after_a_first_query() -> None:
    config = parse_running_config("hostname r1\n!\ninterface Gi0/0\n no shutdown\n!\nend\n")
    assert [line.command for line in config.globals(r"interface \S")] == ["interface Gi0/0"]
    config.roots.append(ConfigLine(99, "interface Gi0/1", 0))
    assert [line.command for line in config.globals(r"interface \S")] == ["interface Gi0/0", "interface Gi0/1"]
    config.roots = [ConfigLine(1, "interface Gi0/2", 0)]
    assert [line.command for line in config.globals(r"interface \S")] == ["interface Gi0/2"]


# --- DeviceState.derived ---------------------------------------------------------------------------


def test_derived_builds_once_per_state_and_keeps_no_exception() -> None:
    snapshot = read_snapshot(example_dir("insecure-cme"))
    calls: list[DeviceState] = []

    def hostname(state: DeviceState) -> str | None:
        calls.append(state)
        return state.config.hostname if state.config else None

    first, second = DeviceState(snapshot), DeviceState(snapshot)
    value = first.derived(hostname)
    assert value is not None
    assert first.derived(hostname) is value
    assert calls == [first]
    second.derived(hostname)
    assert calls == [first, second]

    failures: list[int] = []

    def broken(state: DeviceState) -> int:
        failures.append(1)
        raise RuntimeError("a bug in a builder")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            first.derived(broken)
    assert len(failures) == 2


def isolated(snapshot: Snapshot, policy: Policy) -> dict[str, CheckResult]:
    """Each check on a state of its own: nothing derived by one check reaches another."""
    return {spec.id: run_check(spec, DeviceState(snapshot, policy)) for spec in all_checks()}


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_audit_judges_every_check_as_it_judges_it_alone(name: str) -> None:
    snapshot = read_snapshot(example_dir(name))
    report = audit_snapshot(snapshot)
    alone = isolated(snapshot, Policy())
    assert {result.check: result for result in report.results} == alone
    backwards = DeviceState(snapshot)
    assert {spec.id: run_check(spec, backwards) for spec in reversed(all_checks())} == alone


FIXTURE_CASES = sorted((FIXTURES / "checks").glob("*/*/expected.yml"))


@pytest.mark.parametrize("expected_file", FIXTURE_CASES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_a_fixture_check_after_every_other_check_on_the_same_state(expected_file: Path) -> None:
    expected = yaml.safe_load(expected_file.read_text(encoding="utf-8"))
    policy = Policy()
    for key, value in (expected.get("policy") or {}).items():
        setattr(policy, key, value)
    spec = get_check(expected_file.parent.parent.name)
    assert spec is not None
    snapshot = read_snapshot(expected_file.parent)
    shared = DeviceState(snapshot, policy)
    for other in reversed(all_checks()):  # the others first, in an order the audit never uses
        if other.id != spec.id:
            run_check(other, shared)
    assert run_check(spec, shared) == run_check(spec, DeviceState(snapshot, policy))
