"""Waivers: loading with file:line errors, matching, expiry, --fail-on, stale waivers."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from cmelive.audit import audit_snapshot, unreachable_report
from cmelive.checks.base import Severity, Status
from cmelive.cli.common import exit_code
from cmelive.errors import ConnectError, InputError
from cmelive.examples import example_dir
from cmelive.history import History
from cmelive.report.model import AuditReport, DeviceReport, DeviceStatus
from cmelive.snapshot import read_snapshot
from cmelive.waivers import SelectorKind, Waiver, WaiverUsage, apply_waivers, load_waivers

from .conftest import FIXTURES
from .test_history import device, result

WAIVERS = FIXTURES / "waivers"
TODAY = date(2025, 1, 15)


def waiver(check: str, kind: SelectorKind, *selector: str, expires: date = date(2030, 1, 1)) -> Waiver:
    return Waiver(check, kind, selector, f"reason for {check}", "owner@example.com", expires, "test:1")


# -- loading --------------------------------------------------------------------------------------


def test_load_the_example_file() -> None:
    path = WAIVERS / "waivers.yaml"
    assert load_waivers(path) == [
        Waiver(
            "CME-ACC-04",
            SelectorKind.DEVICE,
            ("branch-*",),
            "Telnet needed by the legacy paging server until it is replaced",
            "voice-team@example.com",
            date(2030, 6, 30),
            f"{path}:2",
        ),
        Waiver(
            "CME-GUI-05",
            SelectorKind.GROUP,
            ("lab", "staging"),
            "Lab routers use the self-signed HTTPS certificate",
            "lab-admins@example.com",
            date(2030, 1, 31),
            f"{path}:8",
        ),
        Waiver(
            "CME-CDP-01",
            SelectorKind.TAG,
            ("legacy-wan",),
            "CDP on the MPLS link is required by the carrier's monitoring",
            "noc@example.com",
            date(2020, 12, 31),
            f"{path}:14",
        ),
    ]


def test_load_the_waivers_key_form() -> None:
    (only,) = load_waivers(WAIVERS / "keyed.yaml")
    assert (only.check, only.kind, only.selector, only.expires) == (
        "CME-SNMP-01", SelectorKind.DEVICE, ("hq-1", "hq-2"), date(2031, 3, 1)
    )


@pytest.mark.parametrize("text", ["", "# nothing waived yet\n", "waivers:\n", "[]\n"])
def test_empty_files_waive_nothing(tmp_path: Path, text: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    assert load_waivers(path) == []


@pytest.mark.parametrize(
    ("name", "line", "problem"),
    [
        ("syntax.yaml", 5, "invalid YAML: found unexpected end of stream while scanning a quoted scalar (from line 3)"),
        ("indent.yaml", 4, "invalid YAML: mapping values are not allowed here"),
        ("unknown_key.yaml", 6, "unknown key 'ticket'"),
        ("missing_owner.yaml", 7, "waiver is missing 'owner'"),
        ("bad_date.yaml", 5, "expires '2030-02-30' is not a date (YYYY-MM-DD)"),
        ("date_format.yaml", 5, "expires '30/06/2030' is not a date (YYYY-MM-DD)"),
        ("unknown_check.yaml", 1, "unknown check id 'CME-ACC-99'"),
        ("two_selectors.yaml", 5, "waiver has both 'device' and 'group'; give exactly one selector"),
        ("no_selector.yaml", 1, "waiver needs one of 'device', 'group' or 'tag'"),
        ("glob_on_group.yaml", 4, "group 'lab-*': patterns are only allowed in 'device'"),
        ("duplicate_key.yaml", 5, "duplicate key 'owner'"),
        ("empty_reason.yaml", 3, "reason must be non-empty text"),
        ("not_a_list.yaml", 1, "expected a list of waivers"),
        ("entry_not_mapping.yaml", 1, "each waiver must be a mapping"),
    ],
)
def test_bad_files_get_file_line_errors(name: str, line: int, problem: str) -> None:
    path = WAIVERS / "bad" / name
    with pytest.raises(InputError) as caught:
        load_waivers(path)
    assert (caught.value.path, caught.value.line) == (str(path), line)
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_every_bad_fixture_is_tested() -> None:
    tested = {
        "syntax.yaml", "indent.yaml", "unknown_key.yaml", "missing_owner.yaml", "bad_date.yaml", "date_format.yaml",
        "unknown_check.yaml", "two_selectors.yaml", "no_selector.yaml", "glob_on_group.yaml",
        "duplicate_key.yaml", "empty_reason.yaml", "not_a_list.yaml", "entry_not_mapping.yaml",
    }
    assert {p.name for p in (WAIVERS / "bad").iterdir()} == tested


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="waivers file does not exist"):
        load_waivers(tmp_path / "nope.yaml")


# -- applying -------------------------------------------------------------------------------------


def test_unexpired_waiver_waives_the_failure_and_it_no_longer_counts() -> None:
    report = device("branch-7", result("CME-ACC-04", Status.FAIL), result("CME-GUI-06", Status.FAIL))
    assert [r.check for r in report.failures_at_or_above(Severity.HIGH)] == ["CME-ACC-04", "CME-GUI-06"]
    waived = apply_waivers(report, [waiver("CME-ACC-04", SelectorKind.DEVICE, "branch-*")], today=TODAY)
    acc04, gui06 = waived.results
    assert acc04.status == Status.WAIVED
    assert acc04.waiver == {"reason": "reason for CME-ACC-04", "owner": "owner@example.com", "expires": "2030-01-01"}
    assert (acc04.message, acc04.evidence) == (report.results[0].message, report.results[0].evidence)
    assert gui06 == report.results[1]
    assert [r.check for r in waived.failures_at_or_above(Severity.HIGH)] == ["CME-GUI-06"]
    assert report.results[0].status == Status.FAIL  # the input is not modified


def test_waived_failures_do_not_trip_fail_on() -> None:
    report = device("branch-7", result("CME-ACC-04", Status.FAIL))
    assert exit_code(AuditReport([report]), Severity.HIGH) == 1
    waived = apply_waivers(report, [waiver("CME-ACC-04", SelectorKind.DEVICE, "branch-7")], today=TODAY)
    assert exit_code(AuditReport([waived]), Severity.HIGH) == 0
    assert exit_code(AuditReport([waived]), Severity.INFO) == 0


def test_waiver_holds_through_its_expiry_day_and_stops_the_next_day() -> None:
    report = device("r1", result("CME-ACC-04", Status.FAIL))
    rule = waiver("CME-ACC-04", SelectorKind.DEVICE, "r1", expires=TODAY)
    assert apply_waivers(report, [rule], today=TODAY).results[0].status == Status.WAIVED
    after = apply_waivers(report, [rule], today=date(2025, 1, 16))
    (stays,) = after.results
    assert stays.status == Status.FAIL
    assert stays.waiver == {
        "reason": "reason for CME-ACC-04", "owner": "owner@example.com", "expires": "2025-01-15", "expired": "true"
    }
    assert [r.check for r in after.failures_at_or_above(Severity.HIGH)] == ["CME-ACC-04"]


def test_an_unexpired_waiver_wins_over_an_expired_one_and_the_longest_is_shown() -> None:
    report = device("r1", result("CME-ACC-04", Status.FAIL))
    rules = [
        waiver("CME-ACC-04", SelectorKind.DEVICE, "r1", expires=date(2024, 1, 1)),
        waiver("CME-ACC-04", SelectorKind.DEVICE, "r*", expires=date(2026, 1, 1)),
        waiver("CME-ACC-04", SelectorKind.DEVICE, "*", expires=date(2027, 1, 1)),
    ]
    (waived,) = apply_waivers(report, rules, today=TODAY).results
    assert waived.status == Status.WAIVED and waived.waiver is not None
    assert waived.waiver["expires"] == "2027-01-01"
    (expired,) = apply_waivers(report, rules, today=date(2028, 1, 1)).results
    assert expired.status == Status.FAIL and expired.waiver is not None
    assert (expired.waiver["expires"], expired.waiver["expired"]) == ("2027-01-01", "true")


@pytest.mark.parametrize(
    ("rule", "groups", "tags", "waived"),
    [
        (waiver("CME-ACC-04", SelectorKind.DEVICE, "branch-1"), (), (), True),
        (waiver("CME-ACC-04", SelectorKind.DEVICE, "branch-?"), (), (), True),
        (waiver("CME-ACC-04", SelectorKind.DEVICE, "hq-*", "branch-*"), (), (), True),
        (waiver("CME-ACC-04", SelectorKind.DEVICE, "branch-10"), (), (), False),
        (waiver("CME-ACC-04", SelectorKind.DEVICE, "BRANCH-1"), (), (), False),  # names are exact
        (waiver("CME-ACC-04", SelectorKind.GROUP, "branches"), ("core", "branches"), (), True),
        (waiver("CME-ACC-04", SelectorKind.GROUP, "lab", "branches"), ("branches",), (), True),
        (waiver("CME-ACC-04", SelectorKind.GROUP, "branches"), (), ("branches",), False),  # a tag is not a group
        (waiver("CME-ACC-04", SelectorKind.TAG, "legacy"), ("core",), ("legacy",), True),
        (waiver("CME-ACC-04", SelectorKind.TAG, "legacy"), ("legacy",), (), False),
        (waiver("CME-ACC-05", SelectorKind.DEVICE, "branch-1"), (), (), False),  # another check
    ],
)
def test_selectors(rule: Waiver, groups: tuple[str, ...], tags: tuple[str, ...], waived: bool) -> None:
    report = device("branch-1", result("CME-ACC-04", Status.FAIL))
    (out,) = apply_waivers(report, [rule], groups=groups, tags=tags, today=TODAY).results
    assert out.status == (Status.WAIVED if waived else Status.FAIL)
    assert (out.waiver is not None) == waived


def test_only_failures_are_waived() -> None:
    report = device(
        "r1",
        result("CME-ACC-01", Status.PASS),
        result("CME-ACC-02", Status.UNKNOWN),
        result("CME-ACC-03", Status.NOT_APPLICABLE),
    )
    rules = [waiver(check, SelectorKind.DEVICE, "*") for check in ("CME-ACC-01", "CME-ACC-02", "CME-ACC-03")]
    assert apply_waivers(report, rules, today=TODAY).results == report.results


def test_usage_tells_stale_waivers_apart() -> None:
    rules = {
        "applied": waiver("CME-ACC-04", SelectorKind.DEVICE, "r1"),
        "expired": waiver("CME-GUI-06", SelectorKind.DEVICE, "r1", expires=date(2020, 1, 1)),
        "fixed": waiver("CME-ACC-01", SelectorKind.DEVICE, "r1"),  # the check passes now
        "no device": waiver("CME-ACC-04", SelectorKind.DEVICE, "nowhere-*"),
        "unknown": waiver("CME-ACC-02", SelectorKind.DEVICE, "r1"),  # could not be judged
        "unreachable": waiver("CME-ACC-04", SelectorKind.TAG, "remote"),  # its device was down
    }
    usage = WaiverUsage()
    r1 = device(
        "r1",
        result("CME-ACC-04", Status.FAIL),
        result("CME-GUI-06", Status.FAIL),
        result("CME-ACC-01", Status.PASS),
        result("CME-ACC-02", Status.UNKNOWN),
    )
    down = unreachable_report("r2", "10.0.0.2", ConnectError("timed out"))
    apply_waivers(r1, list(rules.values()), today=TODAY, usage=usage)
    apply_waivers(down, list(rules.values()), tags=("remote",), today=TODAY, usage=usage)
    assert usage.applied == {rules["applied"]}
    assert usage.expired == {rules["expired"]}
    assert usage.undetermined == {rules["unknown"], rules["unreachable"]}
    assert usage.stale(rules.values()) == [rules["fixed"], rules["no device"]]


def test_waivers_file_on_a_real_audit_and_through_history(tmp_path: Path) -> None:
    """The insecure example fails CME-ACC-04; a waiver for it shows up waived in the stored run."""
    audited = audit_snapshot(read_snapshot(example_dir("insecure-cme")), name="branch-3")
    assert any(r.check == "CME-ACC-04" and r.status == Status.FAIL for r in audited.results)
    rules = load_waivers(WAIVERS / "waivers.yaml")
    usage = WaiverUsage()
    waived = apply_waivers(
        audited, rules, groups=("branches", "lab"), tags=("legacy-wan",), today=TODAY, usage=usage
    )
    before = {r.check: r for r in audited.results}
    after = {r.check: r for r in waived.results}
    assert [c for c in before if before[c] != after[c]] == ["CME-ACC-04", "CME-CDP-01"]
    assert after["CME-ACC-04"].status == Status.WAIVED
    assert before["CME-CDP-01"].status == after["CME-CDP-01"].status == Status.FAIL  # its waiver expired in 2020
    assert after["CME-CDP-01"].waiver == {**rules[2].record(), "expired": "true"}
    assert len(waived.failures_at_or_above(Severity.INFO)) == len(audited.failures_at_or_above(Severity.INFO)) - 1
    # CME-GUI-05 is not applicable on this router: its lab waiver waived nothing.
    assert before["CME-GUI-05"].status == Status.NOT_APPLICABLE
    assert usage.stale(rules) == [rules[1]]

    with History(tmp_path / "h.sqlite") as store:
        with store.run("inv.yaml", 1) as handle:
            store.record_device(handle, waived)
        (run,) = store.list_runs()
        assert run.waived == 1
        stored = {r.check: r for r in store.load_run(run.id).devices[0].results}
        assert stored["CME-ACC-04"].waiver == rules[0].record()


def test_a_device_report_that_is_not_ok_keeps_its_status() -> None:
    report = device("r1", result("CME-ACC-04", Status.FAIL), status=DeviceStatus.PARTIAL)
    out = apply_waivers(report, [waiver("CME-ACC-04", SelectorKind.DEVICE, "r1")], today=TODAY)
    assert isinstance(out, DeviceReport) and out.status == DeviceStatus.PARTIAL and out.name == "r1"


def test_bad_waiver_file_error_is_one_line_through_the_cli_mapping(tmp_path: Path) -> None:
    """InputError from load_waivers reaches users as one line, exit 2 (the root CLI's mapping)."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from cmelive.cli import app, main\n"
        "from cmelive.waivers import load_waivers\n"
        "@app.command('load-waivers-test')\n"
        "def _load(path: Path) -> None:\n"
        "    load_waivers(path)\n"
        "main()\n"
    )
    path = WAIVERS / "bad" / "bad_date.yaml"
    proc = subprocess.run(
        [sys.executable, "-c", script, "load-waivers-test", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"cmelive: error: {path}:5: expires '2030-02-30' is not a date (YYYY-MM-DD)"
