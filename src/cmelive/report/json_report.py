"""The JSON report (schema 1): stable, documented in the README, reused by fleets."""

from __future__ import annotations

import json

from cmelive.report.model import AuditReport


def render_json(report: AuditReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
