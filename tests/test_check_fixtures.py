"""Every check against its fixtures: exact status, exact evidence, exact remediation.

A fixture case is a snapshot directory ``fixtures/checks/<CHECK-ID>/<case>/`` (the show_*.txt files
the check reads) plus ``expected.yml``::

    status: fail                      # pass | fail | not_applicable | unknown
    evidence:                         # exact, in order ([] when none)
      - {command: show running-config, line: 12, text: "line vty 0 4"}
    remediation: ["line vty 0 4", " transport input ssh"]   # exact; omit for non-fail cases
    message_contains: "telnet"        # optional
    policy: {min_rsa_bits: 2048}      # optional Policy field overrides
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cmelive.audit import run_check
from cmelive.checks import all_checks, get_check
from cmelive.checks.base import Status
from cmelive.policy import Policy
from cmelive.snapshot import read_snapshot
from cmelive.state import DeviceState

from .conftest import FIXTURES

CASES = sorted((FIXTURES / "checks").glob("*/*/expected.yml"))


def _policy(overrides: dict[str, Any] | None) -> Policy:
    policy = Policy()
    for key, value in (overrides or {}).items():
        if not hasattr(policy, key):
            raise AssertionError(f"unknown policy field {key!r} in fixture")
        setattr(policy, key, value)
    return policy


@pytest.mark.parametrize("expected_file", CASES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_check_fixture(expected_file: Path) -> None:
    expected = yaml.safe_load(expected_file.read_text(encoding="utf-8"))
    check_id = expected_file.parent.parent.name
    spec = get_check(check_id)
    assert spec is not None, f"no check registered as {check_id}"
    state = DeviceState(read_snapshot(expected_file.parent), _policy(expected.get("policy")))
    result = run_check(spec, state)
    assert str(result.status) == expected["status"], result.message
    got_evidence = [{"command": e.command, "line": e.line, "text": e.text} for e in result.evidence]
    assert got_evidence == expected.get("evidence", [])
    if "remediation" in expected:
        assert list(result.remediation) == expected["remediation"]
    if expected["status"] == "fail":
        assert result.remediation, "a failure must say how to fix it"
    if "message_contains" in expected:
        assert expected["message_contains"] in result.message


def test_every_check_has_a_pass_and_a_fail_fixture() -> None:
    statuses: dict[str, set[str]] = {}
    for case in CASES:
        status = yaml.safe_load(case.read_text(encoding="utf-8"))["status"]
        statuses.setdefault(case.parent.parent.name, set()).add(status)
    missing = [
        spec.id
        for spec in all_checks()
        if not {str(Status.PASS), str(Status.FAIL)} <= statuses.get(spec.id, set())
    ]
    assert not missing, f"checks without both a pass and a fail fixture: {missing}"


def test_fixture_directories_name_registered_checks() -> None:
    unknown = {case.parent.parent.name for case in CASES} - {spec.id for spec in all_checks()}
    assert not unknown, f"fixtures for checks that do not exist: {sorted(unknown)}"
