"""Trustpoints, certificates and the clock: what the secure-SCCP and certificate checks share.

Which trustpoint plays which CME role (CME, TFTP, CAPF, SAST1/SAST2, HTTPS) comes from the
running-config; which certificates each trustpoint holds, and until when, comes from
``show crypto pki certificates``. IOS prints certificate dates in the router's own time zone
(``17:35:22 PST Mar 4 2025``), so the zone names the config defines (``clock timezone``,
``clock summer-time``) are what turns them into absolute times.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from cmelive.parsing.running_config import ConfigLine, RunningConfig, telephony_service

# --- time ----------------------------------------------------------------------------------------

_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
)}
# "00:00:00 UTC Jan 1 2027", "17:35:22.123 PST Mar 4 2025"; IOS-XE sometimes puts the weekday first.
_IOS_TIME = re.compile(
    r"^(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.\d+)?\s+(?P<zone>[A-Za-z][\w+\-]*)\s+"
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+)?(?P<month>[A-Z][a-z]{2})\s+(?P<day>\d{1,2})\s+(?P<year>\d{4})$"
)
# Zones that mean UTC whatever the router's configuration says.
_UTC_NAMES = frozenset({"UTC", "GMT", "Z", "UCT"})


@dataclass(frozen=True)
class IosTime:
    """A time IOS printed, as an aware UTC datetime, and how sure we are of its zone."""

    when: datetime
    zone: str
    zone_known: bool  # False: the zone name meant nothing to us and UTC was assumed


def zone_offsets(config: RunningConfig | None) -> dict[str, timedelta]:
    """UTC offsets of the zone names this router prints, from ``clock timezone`` / ``clock summer-time``.

    Abbreviations are not looked up in a world table: "CST" is both China and US Central, so only
    the router's own definition of the name can be trusted.
    """
    offsets: dict[str, timedelta] = {}
    if config is None:
        return offsets
    standard: timedelta | None = None
    for line in config.globals(r"clock timezone \S+ [+-]?\d+"):
        words = line.command.split()
        try:
            hours = int(words[3])
            minutes = int(words[4]) if len(words) > 4 and words[4].isdigit() else 0
        except ValueError:
            continue
        standard = timedelta(hours=hours, minutes=minutes if hours >= 0 else -minutes)
        offsets[words[2]] = standard
    for line in config.globals(r"clock summer-time \S+ (recurring|date)\b"):
        words = line.command.split()
        # The optional DST offset (minutes, default 60) is the 9th word after recurring/date.
        spec = words[4:]
        shift = int(spec[8]) if len(spec) == 9 and spec[8].isdigit() else 60
        offsets[words[2]] = (standard or timedelta(0)) + timedelta(minutes=shift)
    return offsets


def parse_ios_time(text: str, offsets: dict[str, timedelta] | None = None) -> IosTime:
    """``"10:25:13 UTC Mar 4 2019"`` -> IosTime in UTC. Raises ValueError when it is not such a time.

    A zone that is neither UTC/GMT nor defined in ``offsets`` is read as UTC and flagged
    (``zone_known=False``): the error is at most the zone's offset, and callers say so.
    """
    match = _IOS_TIME.match(" ".join(text.split()))
    if not match:
        raise ValueError(f"not an IOS date: {text!r}")
    month = _MONTHS.get(match.group("month"))
    if month is None:
        raise ValueError(f"unknown month in {text!r}")
    local = datetime(
        int(match.group("year")), month, int(match.group("day")),
        int(match.group("h")), int(match.group("m")), int(match.group("s")),
        tzinfo=timezone.utc,
    )
    zone = match.group("zone")
    if zone.upper() in _UTC_NAMES:
        return IosTime(local, zone, True)
    offset = (offsets or {}).get(zone)
    if offset is None:
        return IosTime(local, zone, False)
    return IosTime(local - offset, zone, True)


def parse_collected_at(text: str) -> datetime | None:
    """The snapshot's ``collected_at`` (ISO 8601, ``Z`` or an offset) as an aware UTC datetime."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:  # cmelive always writes UTC; a hand-made meta.json may omit the zone
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


# --- certificates --------------------------------------------------------------------------------

_CERT_HEADER = re.compile(r"^\s*(?:\S+\s+)*?Certificate\s*$")


@dataclass(frozen=True)
class Certificate:
    """One certificate of ``show crypto pki certificates``, with the output lines that show it."""

    kind: str  # "Certificate", "CA Certificate", "Router Self-Signed Certificate", ...
    status: str  # "Available", "Pending", ...
    serial: str
    subject: str
    issuer: str
    start: str
    end: str
    trustpoints: tuple[str, ...]
    header_line: int | None  # output line numbers (1-based), None when they could not be matched
    end_line: int | None
    trustpoints_line: int | None

    @property
    def is_ca(self) -> bool:
        return self.kind.startswith("CA ")

    @property
    def is_self_signed(self) -> bool:
        return "Self-Signed" in self.kind

    @property
    def is_identity(self) -> bool:
        """The router's own certificate for a trustpoint (not the CA's, not an RA certificate)."""
        return not self.is_ca and not self.kind.startswith("RA ")

    @property
    def available(self) -> bool:
        return self.status.lower() == "available"

    def belongs_to(self, trustpoint: str) -> bool:
        return trustpoint in self.trustpoints


def _name(record: dict[str, Any], side: str) -> str:
    for key in ("cn", "name", "hostname"):
        value = str(record.get(f"{side}_{key}") or "")
        if value:
            return value
    return ""


def certificates(records: Sequence[dict[str, Any]], text: str) -> list[Certificate]:
    """The parsed certificates, each with the line numbers of its header, end date and trustpoints.

    TextFSM records carry no line numbers; the output is walked once more with the template's own
    header rule, and the n-th block belongs to the n-th record. When the two disagree in number
    (they should not) the line numbers are left out rather than guessed.
    """
    blocks: list[dict[str, int]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if _CERT_HEADER.match(line):
            blocks.append({"header": number})
            continue
        if not blocks:
            continue
        stripped = line.strip()
        if re.match(r"end\s+date:", stripped):
            blocks[-1].setdefault("end", number)
        elif stripped.startswith("Associated Trustpoints:"):
            blocks[-1].setdefault("trustpoints", number)
    matched = len(blocks) == len(records)
    found: list[Certificate] = []
    for index, record in enumerate(records):
        block = blocks[index] if matched else {}
        found.append(
            Certificate(
                kind=str(record.get("certificate_type") or ""),
                status=str(record.get("status") or ""),
                serial=str(record.get("serial_number") or ""),
                subject=_name(record, "subject"),
                issuer=_name(record, "issuer"),
                start=str(record.get("start_date") or ""),
                end=str(record.get("end_date") or ""),
                trustpoints=tuple(str(record.get("associated_trustpoints") or "").split()),
                header_line=block.get("header"),
                end_line=block.get("end"),
                trustpoints_line=block.get("trustpoints"),
            )
        )
    return found


def certificates_of(found: Sequence[Certificate], trustpoint: str) -> list[Certificate]:
    return [certificate for certificate in found if certificate.belongs_to(trustpoint)]


# --- trustpoints in the running-config -----------------------------------------------------------

# The CME roles a trustpoint can play, in the order the guide provisions them.
ROLE_CME = "CME"
ROLE_TFTP = "TFTP"
ROLE_CAPF = "CAPF"
ROLE_SAST1 = "SAST1"
ROLE_SAST2 = "SAST2"
ROLE_HTTPS = "HTTPS"
SECURE_SCCP_ROLES = (ROLE_CME, ROLE_TFTP, ROLE_CAPF, ROLE_SAST1, ROLE_SAST2)


@dataclass(frozen=True)
class TrustpointUse:
    """A config line that makes trustpoint ``name`` play ``role``."""

    role: str
    name: str
    line: ConfigLine
    where: str  # "telephony-service", "ctl-client", "capf-server", "ip http"


def _word_after(line: ConfigLine, keyword: str) -> str | None:
    words = line.command.split()
    if keyword in words:
        index = words.index(keyword)
        if index + 1 < len(words):
            return words[index + 1]
    return None



def ctl_client(config: RunningConfig) -> ConfigLine | None:
    return config.first_global(r"ctl-client$")


def capf_server(config: RunningConfig) -> ConfigLine | None:
    return config.first_global(r"capf-server$")


def secure_sccp_trustpoints(config: RunningConfig) -> list[TrustpointUse]:
    """Every trustpoint the secure-SCCP setup refers to, with the line that refers to it.

    telephony-service's ``secure-signaling`` (CME) and ``tftp-server-credentials`` (TFTP),
    capf-server's ``trustpoint-label`` (CAPF), and ctl-client's ``server cme|tftp|capf ... trustpoint``
    and ``sast1``/``sast2`` lines. The same name may play several roles.
    """
    uses: list[TrustpointUse] = []
    service = telephony_service(config)
    if service is not None:
        for pattern, role in ((r"secure-signaling trustpoint \S+", ROLE_CME),
                              (r"tftp-server-credentials trustpoint \S+", ROLE_TFTP)):
            for line in service.find(pattern):
                uses.append(TrustpointUse(role, line.words[2], line, "telephony-service"))
    capf = capf_server(config)
    if capf is not None:
        for line in capf.find(r"trustpoint-label \S+"):
            uses.append(TrustpointUse(ROLE_CAPF, line.words[1], line, "capf-server"))
    ctl = ctl_client(config)
    if ctl is not None:
        for line in ctl.find(r"server (cme|tftp|capf) \S+ trustpoint \S+"):
            name = _word_after(line, "trustpoint")
            if name is not None:
                uses.append(TrustpointUse(line.words[1].upper(), name, line, "ctl-client"))
        for line in ctl.find(r"sast[12] trustpoint \S+"):
            uses.append(TrustpointUse(line.words[0].upper(), line.words[2], line, "ctl-client"))
    return uses


def uses_secure_sccp(config: RunningConfig) -> bool:
    """True when any part of the secure-SCCP setup is configured (the TLS checks then apply)."""
    service = telephony_service(config)
    if service is not None and service.has(r"(secure-signaling|tftp-server-credentials) trustpoint "):
        return True
    return ctl_client(config) is not None or capf_server(config) is not None


def https_trustpoint(config: RunningConfig) -> TrustpointUse | None:
    """The trustpoint HTTPS signs with: ``ip http secure-trustpoint``, else IOS's self-signed one.

    Without ``ip http secure-server`` there is no HTTPS certificate to speak of.
    """
    server = [line for line in config.globals(r"(no )?ip http secure-server$")]
    if not server or server[-1].command.startswith("no "):
        return None
    chosen = config.globals(r"ip http secure-trustpoint \S+")
    if chosen:
        return TrustpointUse(ROLE_HTTPS, chosen[-1].words[3], chosen[-1], "ip http")
    automatic = config.sections(r"crypto (pki|ca) trustpoint TP-self-signed-\d+$")
    if automatic:
        return TrustpointUse(ROLE_HTTPS, automatic[-1].words[3], automatic[-1], "ip http")
    return None


def trustpoint_section(config: RunningConfig, name: str) -> ConfigLine | None:
    """The ``crypto pki trustpoint NAME`` section (``crypto ca`` on old releases)."""
    for section in config.sections(r"crypto (pki|ca) trustpoint \S+"):
        if section.words[3] == name:
            return section
    return None


def pki_servers(config: RunningConfig) -> list[ConfigLine]:
    """The ``crypto pki server NAME`` sections: a CA (or RA) running on this router."""
    return config.sections(r"crypto (pki|ca) server \S+")


def enrollment(section: ConfigLine) -> ConfigLine | None:
    """The trustpoint's ``enrollment url|terminal|selfsigned|...`` line, if any."""
    return section.first(r"enrollment (url|terminal|selfsigned|profile)\b")


def enrollment_url(config: RunningConfig) -> str | None:
    """An ``enrollment url`` some trustpoint of this router already uses (the CA to reuse)."""
    for section in config.sections(r"crypto (pki|ca) trustpoint \S+"):
        line = section.first(r"enrollment url \S+")
        if line is not None:
            return line.words[2]
    return None
