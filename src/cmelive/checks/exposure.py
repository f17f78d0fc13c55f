"""Exposure: what the router really listens on, judged against the practices.

The running-config says what should listen; ``show control-plane host open-ports`` says what does
(a service can listen because of a default the config does not print). Guide: "Cisco Unified CME
Commonly Used Ports" lists them; the judgement (no telnet, HTTP only next to HTTPS, SNMP only with
ACL-bound communities) comes from the guide's other sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cmelive.checks.access import vty_ranges
from cmelive.checks.base import Evidence, Outcome, Severity, failed, passed, unknown
from cmelive.checks.common import device_acls, running_config
from cmelive.checks.registry import check
from cmelive.checks.snmp import communities
from cmelive.commands import OPEN_PORTS, RUNNING_CONFIG
from cmelive.topology import find_acl, free_standard_acl_number

if TYPE_CHECKING:  # imported for annotations only: cmelive.policy -> checks -> here would be a cycle
    from cmelive.state import DeviceState

SECTION = "Cisco Unified CME Commonly Used Ports"
TELNET, HTTP, HTTPS, SNMP = 23, 80, 443, 161
NMS_SOURCE = "<nms-subnet> <wildcard>"
# A socket row as the template reads it: "tcp  *:22  *:0  SSH-Server  LISTEN".
_ROW = re.compile(r"^\s*(?P<protocol>tcp|udp)\s+\S*:(?P<port>\d+)\s+\S*:\d+")


@dataclass(frozen=True)
class Socket:
    """One row of ``show control-plane host open-ports``, with its line number."""

    protocol: str
    port: int
    listening: bool
    line: int | None
    text: str



def sockets(records: list[dict[str, Any]], text: str) -> list[Socket]:
    """The parsed rows, each paired with the output line it came from (rows appear in order)."""
    rows = [(number, line) for number, line in enumerate(text.split("\n"), start=1) if _ROW.match(line)]
    paired = len(rows) == len(records)
    found: list[Socket] = []
    for index, record in enumerate(records):
        state = str(record.get("state") or "").upper()
        # Old releases print no State column: a row whose foreign side is *:0 is a listener.
        listening = state == "LISTEN" or (not state and str(record.get("foreign_port")) == "0")
        number, line = rows[index] if paired else (None, "")
        port = str(record.get("local_port") or "")
        found.append(
            Socket(str(record.get("protocol") or "").lower(), int(port) if port.isdigit() else -1, listening, number,
                   line)
        )
    return found


def _listening(found: list[Socket], protocol: str, port: int) -> list[Socket]:
    return [s for s in found if s.listening and s.protocol == protocol and s.port == port]


@check(
    id="CME-PORT-01",
    title="The listening services match the practices: no telnet, HTTP only with HTTPS, SNMP only with ACLs",
    severity=Severity.MEDIUM,
    family="PORT",
    reference=f"{SECTION} (Table 10-2, Commonly Used Ports for Data)",
    rationale=(
        "The configuration says what should be open; the router's socket table says what is. Telnet (23) "
        "carries logins in clear text, the CME GUI on plain HTTP (80) without HTTPS (443) leaves administrators "
        "no encrypted way in, and SNMP (161) answers anyone who knows a community that no ACL restricts. This "
        "check reads what actually listens, so defaults the config does not print are caught too."
    ),
    passes_when=(
        "`show control-plane host open-ports` shows no TCP 23 listener; TCP 80 listens only if TCP 443 does; "
        "UDP 161 listens only if every `snmp-server community` names a defined ACL."
    ),
    requires=(OPEN_PORTS, RUNNING_CONFIG),
    example_evidence=(
        "show control-plane host open-ports:5: tcp                        *:23                         *:0"
        "                   Telnet   LISTEN",
    ),
    remediation_example=("line vty 0 4", " transport input ssh"),
)
def listening_services(state: DeviceState) -> Outcome:
    config = running_config(state)
    records = state.records(OPEN_PORTS)
    if records is None:
        reason = state.parse_errors.get(OPEN_PORTS, "the output could not be parsed")
        return unknown(f"'{OPEN_PORTS}' could not be parsed: {reason}")
    found = sockets(records, state.output(OPEN_PORTS).text)

    def shown(items: list[Socket]) -> list[Evidence]:
        return [state.evidence_text(OPEN_PORTS, s.line, s.text) for s in items if s.line is not None]

    problems: list[str] = []
    evidence: list[Evidence] = []
    good: list[Evidence] = []
    remediation: list[str] = []

    telnet = _listening(found, "tcp", TELNET)
    if telnet:
        ranges = vty_ranges(config)
        # The ranges that still accept telnet (no transport input line is the IOS default: all protocols).
        open_ranges = [
            vty
            for vty in ranges
            if (transport := vty.first(r"transport input\b")) is None
            or {"telnet", "all"} & set(transport.words[2:])
        ]
        which = f" ({', '.join(v.command for v in open_ranges)} accept telnet)" if open_ranges else ""
        problems.append(f"telnet listens on TCP {TELNET}{which}")
        evidence += shown(telnet)
        for vty in open_ranges or ranges:
            remediation += [vty.command, " transport input ssh"]
        if not ranges:
            remediation += ["line vty 0 4", " transport input ssh"]

    http = _listening(found, "tcp", HTTP)
    https = _listening(found, "tcp", HTTPS)
    if http and not https:
        problems.append(f"the HTTP server listens on TCP {HTTP} without HTTPS on TCP {HTTPS}")
        evidence += shown(http)
        remediation.append("ip http secure-server")
    elif http:
        good += shown(http[:1] + https[:1])

    snmp = _listening(found, "udp", SNMP)
    if snmp:
        acls = device_acls(state)
        unbound = [c for c in communities(config) if c.acl is None or find_acl(config, c.acl, found=acls) is None]
        if unbound:
            problems.append(
                f"SNMP listens on UDP {SNMP} and "
                + ", ".join(
                    f"{c.label} " + ("has no ACL" if c.acl is None else f"names undefined ACL {c.acl}")
                    for c in unbound
                )
            )
            evidence += shown(snmp) + [state.evidence(c.line) for c in unbound]
            # Reuse the list another community is already bound to: it names the management stations.
            bound = [
                c.acl for c in communities(config) if c.acl is not None and find_acl(config, c.acl, found=acls) is not None
            ]
            number = bound[0] if bound else str(free_standard_acl_number(config, found=acls))
            if not bound and any(c.acl is None for c in unbound):
                remediation.append(f"access-list {number} permit {NMS_SOURCE}")
            for community in unbound:
                if community.acl is None:
                    remediation.append(community.command(community.placeholder, number))
                elif community.acl.isdigit():
                    remediation.append(f"access-list {community.acl} permit {NMS_SOURCE}")
                else:
                    remediation += [f"ip access-list standard {community.acl}", f" permit {NMS_SOURCE}"]
        else:
            good += shown(snmp[:1])

    if problems:
        return failed("; ".join(problems), evidence, remediation)
    listening = sorted({f"{s.protocol}/{s.port}" for s in found if s.listening}, key=lambda p: (p[:3], int(p[4:])))
    return passed(
        "listening: " + (", ".join(listening) or "nothing")
        + "; no telnet, HTTP (if any) with HTTPS, SNMP (if any) only with ACL-bound communities",
        good,
    )
