"""report.schema.json: shipped in the package, strict, and true of every report cmelive writes.

Every report.json the other tests write is validated too (tests/conftest.py, tests/report_schema.py);
here: the schema itself, every device status and result status through the real renderer, and that
the schema refuses what it should (so that the session-wide validation means something).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from cmelive.audit import audit_snapshot, unreachable_report
from cmelive.checks.base import Status
from cmelive.examples import example_dir
from cmelive.report.json_report import render_json
from cmelive.report.model import (
    INTERRUPTED_ERROR,
    NOT_STARTED_ERROR,
    SCHEMA_VERSION,
    AuditReport,
    DeviceReport,
    DeviceStatus,
)
from cmelive.report.schema import REPORT_SCHEMA_ID, report_schema, report_schema_text
from cmelive.snapshot import Snapshot, read_snapshot

from .report_schema import assert_valid_report, schema_errors, validate_reports_under

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "src" / "cmelive" / "report" / "schema" / "report.schema.json"


def _every_kind_of_device() -> list[DeviceReport]:
    secure = audit_snapshot(read_example("secure-cme"), name="secure")
    insecure = audit_snapshot(read_example("insecure-cme"), name="insecure")
    failures = [i for i, r in enumerate(insecure.results) if r.status == Status.FAIL]
    insecure.results[failures[0]] = dataclasses.replace(
        insecure.results[failures[0]],
        status=Status.WAIVED,
        waiver={"reason": "lab", "owner": "voice", "expires": "2030-01-31"},
    )
    insecure.results[failures[1]] = dataclasses.replace(
        insecure.results[failures[1]],
        waiver={"reason": "old", "owner": "voice", "expires": "2020-01-31", "expired": "true"},
    )
    plain = audit_snapshot(read_example("plain-ios"), name="plain")  # partial: CME commands rejected
    down = unreachable_report("down", "127.0.0.9", ConnectionRefusedError("connection refused"))
    interrupted = DeviceReport("stuck", "127.0.0.10", None, DeviceStatus.INTERRUPTED, error=INTERRUPTED_ERROR)
    not_started = DeviceReport("later", "127.0.0.11", None, DeviceStatus.NOT_STARTED, error=NOT_STARTED_ERROR)
    return [secure, insecure, plain, down, interrupted, not_started]


def read_example(name: str) -> Snapshot:
    return read_snapshot(example_dir(name))


@pytest.fixture(scope="module")
def report_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render_json(AuditReport(_every_kind_of_device())))
    return doc


def test_the_schema_is_shipped_in_the_package_and_is_a_valid_2020_12_schema() -> None:
    schema = report_schema()
    Draft202012Validator.check_schema(schema)
    assert report_schema_text() == SCHEMA_FILE.read_text(encoding="utf-8")
    assert schema["$id"] == REPORT_SCHEMA_ID == f"urn:cmelive:report:schema:{SCHEMA_VERSION}"
    assert schema["properties"]["schema"] == {"const": SCHEMA_VERSION}


def test_its_enums_are_the_model_s(report_doc: dict[str, Any]) -> None:
    from cmelive.checks.base import Severity
    from cmelive.commands import CommandStatus

    defs = report_schema()["$defs"]
    assert defs["device"]["properties"]["status"]["enum"] == [str(s) for s in DeviceStatus]
    assert defs["result"]["properties"]["status"]["enum"] == [str(s) for s in Status]
    assert defs["severity"]["enum"] == [str(s) for s in Severity]
    assert defs["command"]["properties"]["status"]["enum"] == [str(s) for s in CommandStatus]


def test_every_device_status_and_result_status_validates(report_doc: dict[str, Any]) -> None:
    assert_valid_report(report_doc)
    assert [d["status"] for d in report_doc["devices"]] == [
        "ok", "partial", "ok", "error", "interrupted", "not_started"  # plain-ios: CME commands refused, as expected
    ]
    statuses = {r["status"] for d in report_doc["devices"] for r in d["results"]}
    assert statuses == {"pass", "fail", "not_applicable", "unknown", "waived"}
    assert report_doc["devices"][1]["results"] and any(
        r.get("waiver", {}).get("expired") == "true" for r in report_doc["devices"][1]["results"]
    )


def _set(path: tuple[str | int, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop(path: tuple[str | int, ...]) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def _first_result_with(status: str) -> Callable[[dict[str, Any]], int]:
    def index(doc: dict[str, Any]) -> int:
        return next(i for i, r in enumerate(doc["devices"][1]["results"]) if r["status"] == status)

    return index


def _waived_without_waiver(doc: dict[str, Any]) -> None:
    del doc["devices"][1]["results"][_first_result_with("waived")(doc)]["waiver"]


def _expired_waiver_on_a_waived_result(doc: dict[str, Any]) -> None:
    doc["devices"][1]["results"][_first_result_with("waived")(doc)]["waiver"]["expired"] = "true"


def _error_device_with_results(doc: dict[str, Any]) -> None:
    doc["devices"][3]["results"] = copy.deepcopy(doc["devices"][0]["results"][:1])


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (_set(("schema",), 2), "$.schema"),
        (_set(("tool", "name"), "other"), "$.tool.name"),
        (_set(("generated_at",), "yesterday"), "$.generated_at"),
        (_drop(("devices", 0, "audited")), "$.devices[0]"),
        (_set(("devices", 0, "surprise"), 1), "$.devices[0]"),
        (_set(("devices", 0, "status"), "down"), "$.devices[0].status"),
        (_set(("devices", 0, "results", 0, "status"), "ok"), "$.devices[0].results[0].status"),
        (_set(("devices", 0, "results", 0, "severity"), "urgent"), "$.devices[0].results[0].severity"),
        (_set(("devices", 0, "commands", 0, "status"), "failed"), "$.devices[0].commands[0].status"),
        (_set(("devices", 0, "facts", "ios"), "15.7"), "$.devices[0].facts"),
        (_set(("devices", 0, "not_audited_reason"), "because"), "$.devices[0].not_audited_reason"),
        (_set(("devices", 4, "error"), None), "$.devices[4].error"),
        (_set(("devices", 5, "audited"), True), "$.devices[5]"),
        (_error_device_with_results, "$.devices[3].results"),
        (_waived_without_waiver, "$.devices[1].results["),
        (_expired_waiver_on_a_waived_result, "$.devices[1].results["),
    ],
)
def test_the_schema_refuses_what_cmelive_never_writes(
    report_doc: dict[str, Any], change: Callable[[dict[str, Any]], None], where: str
) -> None:
    doc = copy.deepcopy(report_doc)
    change(doc)
    errors = schema_errors(doc)
    assert errors and all(error.startswith(where) for error in errors), errors


def test_the_session_scan_finds_reports_by_content_and_fails_a_bad_one(
    report_doc: dict[str, Any], tmp_path: Path
) -> None:
    good = tmp_path / "run" / "report.json"
    good.parent.mkdir()
    good.write_text(json.dumps(report_doc), encoding="utf-8")
    (tmp_path / "meta.json").write_text('{"ssh": null}', encoding="utf-8")  # not a report: ignored
    (tmp_path / "junk.json").write_text('{"schema": 1, "tool":', encoding="utf-8")  # not JSON: ignored
    seen: set[tuple[str, int, int]] = set()
    assert validate_reports_under(tmp_path, seen) == 1
    assert validate_reports_under(tmp_path, seen) == 0  # each file once

    bad = copy.deepcopy(report_doc)
    bad["devices"][0]["status"] = "fine"
    (tmp_path / "audit-output.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(AssertionError, match=r"(?s)audit-output\.json does not match .*\$\.devices\[0\]\.status"):
        validate_reports_under(tmp_path, seen)
    (tmp_path / "audit-output.json").unlink()  # the autouse scan after this test would fail on it
