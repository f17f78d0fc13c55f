"""``python -m cmelive.report.schema``: print the JSON Schema of ``report.json``."""

from __future__ import annotations

import sys

from cmelive.report.schema import report_schema_text

sys.stdout.write(report_schema_text())
