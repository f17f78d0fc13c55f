"""The JSON report (schema 1): stable, documented in the README, reused by fleets.

A fleet renders each device's part while the run goes on (:func:`device_json`, in a judge) and
joins the parts at the end. Indented parts join to the same text as one ``json.dumps`` of the whole
report; a fleet's are one line per device (the same JSON, written by ``json``'s C encoder, which
``indent`` would bypass: 3-4x faster, and a device per line suits ``grep`` and ``jq`` alike).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cmelive.report.model import AuditReport, DeviceReport

_DEVICE_INDENT = "\n    "  # a device is an item of the top-level "devices" list: two levels deep


def device_json(device: DeviceReport, *, indent: bool = True) -> str:
    """One device's entry of the report's ``devices`` list: indented as it stands there, or one line."""
    if not indent:
        return json.dumps(device.to_dict(), ensure_ascii=False)
    return json.dumps(device.to_dict(), indent=2, ensure_ascii=False).replace("\n", _DEVICE_INDENT)


def render_json(report: AuditReport, *, device_parts: Sequence[str] | None = None) -> str:
    """``report`` as JSON text; ``device_parts`` are its devices' :func:`device_json`, when already made."""
    parts = device_parts if device_parts is not None else [device_json(d) for d in report.devices]
    head = report.to_dict(devices=False)
    head["devices"] = []
    text = json.dumps(head, indent=2, ensure_ascii=False)
    if not parts:
        return text + "\n"
    # "devices" is the last key: the text ends with its empty list, "[]\n}".
    return text[: -len("[]\n}")] + "[" + _DEVICE_INDENT + ("," + _DEVICE_INDENT).join(parts) + "\n  ]\n}\n"
