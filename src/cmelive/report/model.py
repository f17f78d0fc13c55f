"""The report model and its JSON form (schema 1), shared by single audits and fleets."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cmelive import __version__
from cmelive.checks.base import CheckResult, Severity, Status
from cmelive.snapshot import CommandOutput, utc_now

SCHEMA_VERSION = 1


class DeviceStatus(StrEnum):
    OK = "ok"  # every command ran
    PARTIAL = "partial"  # audited, but some commands failed: their checks are unknown
    ERROR = "error"  # could not be audited (unreachable, auth or host key refused)


@dataclass
class DeviceReport:
    name: str
    host: str
    hostname: str | None
    status: DeviceStatus
    error: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    commands: list[CommandOutput] = field(default_factory=list)
    results: list[CheckResult] = field(default_factory=list)

    def failures_at_or_above(self, threshold: Severity) -> list[CheckResult]:
        return [
            r for r in self.results if r.status == Status.FAIL and r.severity.rank >= threshold.rank
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "hostname": self.hostname,
            "status": str(self.status),
            "error": self.error,
            "facts": self.facts,
            "commands": [
                {
                    "command": c.command,
                    "status": str(c.status),
                    "duration_s": round(c.duration_s, 4),
                    **({"error": c.error} if c.error else {}),
                }
                for c in self.commands
            ],
            "results": [result_to_dict(r) for r in self.results],
        }


def result_to_dict(result: CheckResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "check": result.check,
        "title": result.title,
        "family": result.family,
        "severity": str(result.severity),
        "status": str(result.status),
        "reference": result.reference,
        "message": result.message,
        "evidence": [{"command": e.command, "line": e.line, "text": e.text} for e in result.evidence],
        "remediation": list(result.remediation),
    }
    if result.waiver is not None:
        out["waiver"] = result.waiver
    return out


@dataclass
class AuditReport:
    devices: list[DeviceReport]
    generated_at: str = field(default_factory=utc_now)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "tool": {"name": "cmelive", "version": __version__},
            "generated_at": self.generated_at,
            "devices": [d.to_dict() for d in self.devices],
        }
