"""What a check is, and what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cmelive.state import DeviceState


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"
    WAIVED = "waived"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


@dataclass(frozen=True)
class Evidence:
    """One line that supports a result: the command it came from, its line number, masked text."""

    command: str
    line: int | None
    text: str


@dataclass(frozen=True)
class Outcome:
    """What a check function returns; the engine turns it into a :class:`CheckResult`.

    ``from_absence`` marks a failure concluded from something the output lacks (no ``enable
    secret`` line, ...). A pass and a not_applicable are read as drawn from absence too (nothing
    wrong was found; the feature was not found). Such a conclusion is only sound where the output is
    whole, so the engine turns it into ``unknown`` when the damage found in the output could hide
    what the check looked for — a failure shown by a line that is there stands.

    ``within`` narrows a conclusion drawn from absence to the sub-mode lines of the sections whose
    first lines are given ("line vty 0 4 has no access-class"; "telephony-service holds no web admin
    account"): damage elsewhere (a cut tail that may hide a ``line vty 5 15``) cannot make it wrong.
    ``settled`` marks a pass or not_applicable that the lines in its evidence settle (IOS prints
    ``no ip http server`` or ``ip http server``, never both; one ``ip ssh version``): damage elsewhere
    cannot change it either. Neither holds against a capture that cannot be vouched for at all (two
    captures pasted together): the other capture may say otherwise.
    """

    status: Status
    message: str
    evidence: tuple[Evidence, ...] = ()
    remediation: tuple[str, ...] = ()
    from_absence: bool = False
    within: tuple[int, ...] = ()
    settled: bool = False


def passed(
    message: str,
    evidence: tuple[Evidence, ...] | list[Evidence] = (),
    *,
    settled: bool = False,
    within: tuple[int, ...] | list[int] = (),
) -> Outcome:
    return Outcome(Status.PASS, message, tuple(evidence), settled=settled, within=tuple(within))


def failed(
    message: str,
    evidence: tuple[Evidence, ...] | list[Evidence] = (),
    remediation: tuple[str, ...] | list[str] = (),
    *,
    from_absence: bool = False,
    within: tuple[int, ...] | list[int] = (),
) -> Outcome:
    return Outcome(Status.FAIL, message, tuple(evidence), tuple(remediation), from_absence, tuple(within))


def not_applicable(
    message: str,
    evidence: tuple[Evidence, ...] | list[Evidence] = (),
    *,
    settled: bool = False,
    within: tuple[int, ...] | list[int] = (),
) -> Outcome:
    return Outcome(Status.NOT_APPLICABLE, message, tuple(evidence), settled=settled, within=tuple(within))


def unknown(message: str, evidence: tuple[Evidence, ...] | list[Evidence] = ()) -> Outcome:
    return Outcome(Status.UNKNOWN, message, tuple(evidence))


CheckFunction = Callable[["DeviceState"], Outcome]


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: its declared metadata and the function that runs it."""

    id: str
    title: str
    severity: Severity
    family: str
    reference: str
    rationale: str
    passes_when: str
    requires: tuple[str, ...]
    func: CheckFunction
    example_evidence: tuple[str, ...] = ()
    remediation_example: tuple[str, ...] = ()
    #: The practice only concerns routers that run CME (telephony-service). On a router whose
    #: complete running-config has none, the check is not_applicable — even when the CME show
    #: commands it reads were rejected, as IOS without CME rejects them.
    cme_only: bool = False
    #: Commands read when the router answered them, but not needed for every conclusion (e.g.
    #: ``show ctl-client`` only matters once the config sets up a CTL client). Unlike
    #: ``requires``, a rejected one does not make the result unknown up front: the check decides.
    uses: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    """The result of one check on one device, as reported."""

    check: str
    title: str
    severity: Severity
    family: str
    status: Status
    reference: str
    message: str
    evidence: tuple[Evidence, ...] = ()
    remediation: tuple[str, ...] = ()
    waiver: dict[str, str] | None = field(default=None)
