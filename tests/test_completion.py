"""Shell completion works (issue 12): what bash gets back for partial words, through the real script."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


# The program as its console script runs it: named "cmelive", which the completion script names.
AS_CONSOLE_SCRIPT = "import sys; from cmelive.cli import main; sys.argv[0] = 'cmelive'; main()"


def complete(words: str) -> list[str]:
    # What the bash function `cmelive --show-completion bash` installs does: the words so far and
    # the index of the one being completed, in the environment of the program itself.
    parts = words.split(" ")
    environment = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1), "_CMELIVE_COMPLETE": "complete_bash"}
    done = subprocess.run(
        [sys.executable, "-c", AS_CONSOLE_SCRIPT],
        env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("cmelive fl", ["fleet"]),
        ("cmelive fleet --tim", ["--timeout"]),
        ("cmelive audit --fail-on h", ["high"]),
        ("cmelive fake-router --ssh-profile ios1", ["ios124", "ios15"]),
    ],
)
def test_bash_completion_completes_commands_options_and_choices(words: str, expected: list[str]) -> None:
    assert sorted(complete(words)) == expected
