"""The checks. Family modules are imported explicitly so the registry is complete and ordered."""

from __future__ import annotations

from cmelive.checks import access, cdp, gui, snmp  # noqa: F401 - imported to register their checks
from cmelive.checks.base import CheckSpec
from cmelive.checks.registry import registered


def all_checks() -> list[CheckSpec]:
    """Every registered check, by id."""
    return [spec for _, spec in sorted(registered().items())]


def get_check(check_id: str) -> CheckSpec | None:
    return registered().get(check_id.upper())
