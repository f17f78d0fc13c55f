"""The JSON Schema of ``report.json`` (schema 1), shipped with the package.

``python -m cmelive.report.schema`` prints it. cmelive itself does not validate its reports at run
time (that needs ``jsonschema``, a test dependency): the test suite validates every report it makes.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from cmelive.report.model import SCHEMA_VERSION

#: The file's name inside this package (``cmelive/report/schema/``).
REPORT_SCHEMA_FILE = "report.schema.json"
#: The schema's ``$id``: names the report schema version it describes.
REPORT_SCHEMA_ID = f"urn:cmelive:report:schema:{SCHEMA_VERSION}"


def report_schema_text() -> str:
    """The schema as shipped (JSON text)."""
    return resources.files(__name__).joinpath(REPORT_SCHEMA_FILE).read_text(encoding="utf-8")


def report_schema() -> dict[str, Any]:
    """The schema, parsed."""
    schema: dict[str, Any] = json.loads(report_schema_text())
    return schema


__all__ = ["REPORT_SCHEMA_FILE", "REPORT_SCHEMA_ID", "report_schema", "report_schema_text"]
