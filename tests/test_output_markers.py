"""Empty output is not evidence: an output with none of the lines IOS always prints is UNRECOGNISED.

The rule lives in one table (``commands.ALWAYS_PRINTS``) and one function (``commands.classify``)
that live collection, replay and fleets share. These tests hold the table against every real
capture we have, and follow an empty output from the router to the check that reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from cmelive.audit import audit_snapshot
from cmelive.checks.base import Status
from cmelive.collect import Target
from cmelive.collect.live import NetmikoCollector
from cmelive.commands import (
    ALWAYS_PRINTS,
    AUDIT_COMMANDS,
    MAY_PRINT_NOTHING,
    OPEN_PORTS,
    RUNNING_CONFIG,
    CommandStatus,
    classify,
    command_from_file_name,
    file_name,
)
from cmelive.examples import example_dir
from cmelive.fake import FakeRouter
from cmelive.snapshot import read_snapshot, write_snapshot

from .conftest import CORPUS, FIXTURES, REPO

PARSER_SAMPLES = REPO / "tests" / "parsers"
EXAMPLES = ("secure-cme", "insecure-cme", "plain-ios")
MARKED = sorted(ALWAYS_PRINTS)
UNRECOGNISED_MESSAGE = "printed none of the lines IOS always prints"


def real_captures(command: str) -> list[Path]:
    """Every capture of ``command`` a router printed: the shared corpus, the parser samples, the examples."""
    stem = file_name(command)[: -len(".txt")]
    found = sorted(CORPUS.glob(f"{stem}__*.txt")) if CORPUS.is_dir() else []
    found += sorted((PARSER_SAMPLES / stem).glob("*.raw"))
    found += [example_dir(name) / file_name(command) for name in EXAMPLES]
    return [path for path in found if path.is_file()]


def test_every_audited_command_says_whether_it_can_print_nothing() -> None:
    for command in AUDIT_COMMANDS:
        assert (command in ALWAYS_PRINTS) != (command in MAY_PRINT_NOTHING), command
    assert set(ALWAYS_PRINTS) | set(MAY_PRINT_NOTHING) == set(AUDIT_COMMANDS)


@pytest.mark.parametrize("command", MARKED)
def test_every_real_capture_holds_a_line_ios_always_prints(command: str) -> None:
    captures = real_captures(command)
    assert captures, f"no real capture of {command!r} to hold the table against"
    for capture in captures:
        text = capture.read_text(encoding="utf-8", errors="replace")
        if "Invalid input detected" in text:
            continue  # a router without the feature: rejected, not unrecognised
        status, error = classify(command, text)
        assert status != CommandStatus.UNRECOGNISED, f"{capture}: {error}"


def test_whole_corpus_configs_are_recognised_and_fragments_never_ok() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not present at {CORPUS}")
    for capture in sorted(CORPUS.glob("running_config*.txt")):
        status, _ = classify(RUNNING_CONFIG, capture.read_text(encoding="utf-8"))
        if capture.name.startswith("running_config_partial__"):
            assert status != CommandStatus.OK, capture.name
        else:
            assert status == CommandStatus.OK, capture.name


@pytest.mark.parametrize("command", MARKED)
@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "R1#show whatever\n\n", "Load for five secs: 1%/0%; one minute: 1%\n", "Translating \"show\"\n"],
    ids=["empty", "blank-lines", "pasted-prompt-only", "timestamp-only", "foreign-line"],
)
def test_output_without_any_marker_is_unrecognised(command: str, text: str) -> None:
    status, error = classify(command, text)
    assert status == CommandStatus.UNRECOGNISED
    assert error is not None and UNRECOGNISED_MESSAGE in error


def test_unrecognised_message_names_what_was_expected() -> None:
    _, empty = classify(OPEN_PORTS, "R1#show control-plane host open-ports\n\n")
    assert empty == (
        "printed none of the lines IOS always prints for it (such as 'Active internet connections', "
        "'Prot Local Address Foreign Address'): the output was empty"
    )
    _, foreign = classify(OPEN_PORTS, "one\ntwo\n")
    assert foreign is not None and foreign.endswith(": only 2 other line(s)")


@pytest.mark.parametrize("command", sorted(MAY_PRINT_NOTHING))
def test_commands_that_may_print_nothing_are_ok_empty(command: str) -> None:
    assert classify(command, "") == (CommandStatus.OK, None)


def test_the_column_header_alone_is_an_empty_socket_table_not_garbage() -> None:
    # Nothing listens (or an older release): IOS still prints the header, and that is evidence.
    assert classify(OPEN_PORTS, "Prot  Local Address   Foreign Address\n")[0] == CommandStatus.OK


def test_rejection_and_truncation_keep_their_statuses() -> None:
    assert classify(OPEN_PORTS, "% Invalid input detected at '^' marker.\n")[0] == CommandStatus.REJECTED
    assert classify(RUNNING_CONFIG, "Building configuration...\nhostname R1\n!\n")[0] == CommandStatus.TRUNCATED
    # A pasted capture that ends with the next prompt is whole.
    assert classify(RUNNING_CONFIG, "hostname R1\n!\nend\n\nR1#\n")[0] == CommandStatus.OK
    assert classify(RUNNING_CONFIG, "hostname R1\n!\nend\nR1#show version\n")[0] == CommandStatus.OK


def test_pager_marks_left_in_an_output_make_it_truncated() -> None:
    paged = "Building configuration...\n!\nhostname R1\n --More-- \b\b\b\b\b\b\b\b\b!\nend\n"
    status, error = classify(RUNNING_CONFIG, paged)
    assert status == CommandStatus.TRUNCATED
    assert error == "pager prompts ('--More--') in the output: lines may be missing"
    assert classify(OPEN_PORTS, "Prot  Local Address   Foreign Address\n --More-- \n")[0] == CommandStatus.TRUNCATED


# -- replay ------------------------------------------------------------------------------------------


def test_replay_reclassifies_an_empty_output_recorded_ok(tmp_path: Path) -> None:
    """A snapshot written before the rule existed (meta.json says ok) gets today's status."""
    snapshot = read_snapshot(example_dir("secure-cme"))
    directory = write_snapshot(snapshot, tmp_path / "old", mask=False)
    (directory / file_name(OPEN_PORTS)).write_text("", encoding="utf-8")
    meta = json.loads((directory / "meta.json").read_text())
    assert {c["command"]: c["status"] for c in meta["commands"]}[OPEN_PORTS] == "ok"
    replayed = read_snapshot(directory)
    out = replayed.get(OPEN_PORTS)
    assert out.status == CommandStatus.UNRECOGNISED
    assert out.error is not None and UNRECOGNISED_MESSAGE in out.error
    result = next(r for r in audit_snapshot(replayed).results if r.check == "CME-PORT-01")
    assert result.status == Status.UNKNOWN
    assert f"needs '{OPEN_PORTS}', which was unrecognised: {UNRECOGNISED_MESSAGE}" in result.message


def test_replay_keeps_a_status_the_live_run_recorded(tmp_path: Path) -> None:
    directory = write_snapshot(read_snapshot(example_dir("secure-cme")), tmp_path / "snap", mask=False)
    meta_path = directory / "meta.json"
    meta = json.loads(meta_path.read_text())
    for entry in meta["commands"]:
        if entry["command"] == OPEN_PORTS:
            entry.update(status="timeout", error="timed out")
    meta_path.write_text(json.dumps(meta))
    (directory / file_name(OPEN_PORTS)).write_text("", encoding="utf-8")
    assert read_snapshot(directory).get(OPEN_PORTS).status == CommandStatus.TIMEOUT


def test_check_fixture_of_the_empty_open_ports_exists() -> None:
    case = FIXTURES / "checks" / "CME-PORT-01" / "unknown-empty-output"
    assert command_from_file_name(file_name(OPEN_PORTS)) == OPEN_PORTS
    assert (case / file_name(OPEN_PORTS)).is_file() and (case / "expected.yml").is_file()


# -- live ----------------------------------------------------------------------------------------------


@pytest.fixture
def empty_ports_router() -> Iterator[FakeRouter]:
    """The secure example, except that open-ports prints nothing (the field bug of issue 9)."""
    outputs = {c: o.text for c, o in read_snapshot(example_dir("secure-cme")).outputs.items() if o.usable}
    outputs[OPEN_PORTS] = ""
    with FakeRouter(outputs, password="pw", enable_secret="en", host_key=paramiko.RSAKey.generate(1024)) as router:
        yield router


def test_live_empty_open_ports_is_unrecognised_and_port_check_unknown(
    empty_ports_router: FakeRouter, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(empty_ports_router.known_hosts_line() + "\n")
    target = Target(
        "127.0.0.1", empty_ports_router.port, username="admin", password="pw", enable_secret="en",
        known_hosts=(known,), timeout=10.0,
    )
    snapshot = NetmikoCollector().collect(target, AUDIT_COMMANDS)
    out = snapshot.outputs[OPEN_PORTS]
    assert (out.status, out.text) == (CommandStatus.UNRECOGNISED, "")
    assert snapshot.outputs[RUNNING_CONFIG].status == CommandStatus.OK
    result = next(r for r in audit_snapshot(snapshot).results if r.check == "CME-PORT-01")
    assert result.status == Status.UNKNOWN, result.message
    assert UNRECOGNISED_MESSAGE in result.message
    # Saved and replayed (and served again by a fake router), it stays what it was.
    saved = write_snapshot(snapshot, tmp_path / "saved")
    assert read_snapshot(saved).get(OPEN_PORTS).status == CommandStatus.UNRECOGNISED
