"""Bad input is an error, not a traceback (issue 11): YAML alias bombs, nesting deeper than any
settings file, and a meta.json whose numbers are not numbers end in the one-line ``file:line``
error with exit 2, quickly, for every file cmelive reads YAML from."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from cmelive.errors import InputError
from cmelive.examples import example_dir
from cmelive.yaml_bounds import MAX_DEPTH, compose_within_bounds

from .livefake import cli

# Nine levels of nine aliases each: 9**9 values when walked (the classic "billion laughs").
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 9)}]\n" for n in range(8)
)
DEEP = "a: " + "[" * 5000 + "]" * 5000 + "\n"
NESTED_65 = "a: " + "[" * (MAX_DEPTH + 1) + "1" + "]" * (MAX_DEPTH + 1) + "\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (ALIAS_BOMB, "when its aliases are followed"),
        (DEEP, "nested too deeply to read"),
        (NESTED_65, f"nested deeper than {MAX_DEPTH} levels"),
    ],
    ids=["alias-bomb", "recursion", "too-deep"],
)
def test_the_bounded_composer_refuses(text: str, problem: str) -> None:
    started = time.monotonic()
    with pytest.raises(InputError) as refused:
        compose_within_bounds(text, "settings.yaml")
    assert problem in refused.value.problem
    assert time.monotonic() - started < 30  # a bound, not a benchmark: unbounded took minutes


def test_an_ordinary_document_with_aliases_is_read() -> None:
    root = compose_within_bounds("defaults: &d {port: 22}\nhosts:\n  r1: {address: 127.0.0.2, <<: *d}\n", "x.yaml")
    assert root is not None


@pytest.mark.parametrize("kind", ["inventory", "policy", "waivers", "faults"])
@pytest.mark.parametrize("text", [ALIAS_BOMB, DEEP], ids=["alias-bomb", "recursion"])
def test_every_yaml_reader_gives_a_one_line_error(kind: str, text: str, tmp_path: Path) -> None:
    bad = tmp_path / f"{kind}.yaml"
    bad.write_text(text)
    if kind == "inventory":
        done = cli("fleet", str(bad), "--out", str(tmp_path / "run"), "--db", str(tmp_path / "h.sqlite"))
    elif kind == "policy":
        done = cli("replay", str(example_dir("secure-cme")), "--policy", str(bad))
    elif kind == "waivers":
        done = cli("fleet", str(_inventory(tmp_path)), "--waivers", str(bad), "--out", str(tmp_path / "run"),
                   "--db", str(tmp_path / "h.sqlite"))  # fmt: skip
    else:
        snapshots = tmp_path / "snapshots"
        shutil.copytree(example_dir("secure-cme"), snapshots / "r1")
        done = cli("fake-fleet", str(snapshots), "--faults-file", str(bad))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert str(bad) in line


def _inventory(tmp_path: Path) -> Path:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  r1: {address: 127.0.0.2, password_env: NOPE}\n")
    return inventory


@pytest.mark.parametrize("duration", ["slow", {"s": 1}, -1, True])
def test_a_meta_json_number_that_is_not_a_number(duration: object, tmp_path: Path) -> None:
    snapshot = tmp_path / "snap"
    shutil.copytree(example_dir("secure-cme"), snapshot)
    meta_path = snapshot / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["commands"][0]["duration_s"] = duration
    meta_path.write_text(json.dumps(meta))
    done = cli("replay", str(snapshot))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert str(meta_path) in line and "duration_s" in line


def test_what_collect_writes_replay_reads_nul_bytes_included(tmp_path: Path) -> None:
    from cmelive.commands import CommandStatus
    from cmelive.snapshot import CommandOutput, Snapshot, read_snapshot, write_snapshot

    text = "Cisco IOS Software, Version 15.7(3)M5\nR1 uptime is 1 week\x00\x00\n"
    snapshot = Snapshot(host="127.0.0.9", outputs={"show version": CommandOutput("show version", CommandStatus.OK, text)})
    for mask in (False, True):
        directory = write_snapshot(snapshot, tmp_path / f"snap-{mask}", mask=mask)
        replayed = read_snapshot(directory).outputs["show version"]
        assert replayed.text.startswith("Cisco IOS Software") and "uptime" in replayed.text
    # A hand-made directory holding a binary file is still refused.
    (tmp_path / "hand").mkdir()
    (tmp_path / "hand" / "show_version.txt").write_bytes(b"\x00\x01binary")
    with pytest.raises(InputError, match="NUL bytes"):
        read_snapshot(tmp_path / "hand")
