"""Every report.json the tests write is validated against the shipped JSON Schema.

``tests/conftest.py`` calls :func:`validate_reports_under` on each test's ``tmp_path`` after the
test, and on each module's ``tmp_path_factory`` directories after the module: a report that a test
wrote and that the schema refuses fails that test (or the module's last one) whatever it asserted.
Reports read from stdout are validated where they are parsed, with :func:`assert_valid_report`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from cmelive.report.schema import report_schema

VALIDATOR = Draft202012Validator(report_schema())
_MAX_SHOWN = 3


def schema_errors(doc: object) -> list[str]:
    """What the schema finds wrong with ``doc``: ``$.devices[0].status: 'down' is not one of ...``."""
    found = sorted(VALIDATOR.iter_errors(doc), key=lambda error: list(error.absolute_path))
    return [f"{error.json_path}: {error.message[:300]}" for error in found]


def assert_valid_report(doc: object, where: str = "report") -> None:
    errors = schema_errors(doc)
    assert not errors, f"{where} does not match report.schema.json:\n  " + "\n  ".join(errors[:_MAX_SHOWN]) + (
        f"\n  ... and {len(errors) - _MAX_SHOWN} more" if len(errors) > _MAX_SHOWN else ""
    )


def is_report(doc: object) -> bool:
    """A cmelive report, by its head (``schema`` and ``tool.name``), whatever the file is called."""
    if not isinstance(doc, dict) or "schema" not in doc or "devices" not in doc:
        return False
    tool = doc.get("tool")
    return isinstance(tool, dict) and tool.get("name") == "cmelive"


def _json_files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*.json"):
        if path.is_file() and not path.is_symlink():
            yield path


def validate_reports_under(root: Path, seen: set[tuple[str, int, int]]) -> int:
    """Validate every cmelive report under ``root`` not in ``seen`` (path, mtime, size); how many.

    A file that is not JSON is not a report cmelive wrote (tests plant junk, fill disks): skipped.
    """
    validated = 0
    for path in _json_files(root):
        try:
            found = path.stat()
            key = (str(path), found.st_mtime_ns, found.st_size)
            if key in seen:
                continue
            seen.add(key)
            doc: Any = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if is_report(doc):
            assert_valid_report(doc, str(path))
            validated += 1
    return validated
