"""The check registry: a decorator that declares a check's metadata and refuses duplicate ids."""

from __future__ import annotations

import re
from collections.abc import Callable

from cmelive.checks.base import CheckFunction, CheckSpec, Severity

_REGISTRY: dict[str, CheckSpec] = {}
_ID = re.compile(r"^CME-[A-Z0-9]+-\d{2}$")


def check(
    *,
    id: str,  # noqa: A002 - "id" is the catalog's word
    title: str,
    severity: Severity,
    family: str,
    reference: str,
    rationale: str,
    passes_when: str,
    requires: tuple[str, ...],
    example_evidence: tuple[str, ...] = (),
    remediation_example: tuple[str, ...] = (),
    cme_only: bool = False,
    uses: tuple[str, ...] = (),
) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as check ``id``."""

    def register(func: CheckFunction) -> CheckFunction:
        if not _ID.match(id):
            raise ValueError(f"check id {id!r} is not of the form CME-FAMILY-NN")
        if id in _REGISTRY:
            raise ValueError(f"duplicate check id {id}")
        _REGISTRY[id] = CheckSpec(
            id=id,
            title=title,
            severity=severity,
            family=family,
            reference=reference,
            rationale=rationale,
            passes_when=passes_when,
            requires=requires,
            func=func,
            example_evidence=example_evidence,
            remediation_example=remediation_example,
            cme_only=cme_only,
            uses=uses,
        )
        return func

    return register


def registered() -> dict[str, CheckSpec]:
    return dict(_REGISTRY)
