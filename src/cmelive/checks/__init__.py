"""The checks. Family modules are imported explicitly (not discovered) so the registry is complete.

They are imported on first use rather than with this package: the family modules need
``cmelive.state``, which needs ``cmelive.policy``, which needs ``checks.base`` from this package.
"""

from __future__ import annotations

from cmelive.checks.base import CheckSpec
from cmelive.checks.registry import registered


def _load_families() -> None:
    from cmelive.checks import access, cdp, exposure, firewall, gui, logging_checks, registration, snmp, tls, toll_fraud  # noqa: F401 - imported to register their checks


def all_checks() -> list[CheckSpec]:
    """Every registered check, by id."""
    _load_families()
    return [spec for _, spec in sorted(registered().items())]


def get_check(check_id: str) -> CheckSpec | None:
    _load_families()
    return registered().get(check_id.upper())
