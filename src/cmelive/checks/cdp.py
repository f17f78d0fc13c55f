"""Cisco Discovery Protocol towards untrusted networks.

Guide: "Configuring Basic Cisco Unified CME Access Security > Disabling Cisco Discovery Protocol".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmelive.checks.base import Evidence, Outcome, Severity, failed, passed, unknown
from cmelive.checks.common import device_interfaces, device_wan_interfaces, running_config
from cmelive.checks.registry import check
from cmelive.commands import RUNNING_CONFIG
from cmelive.topology import Interface, WanInterface, find_interface

if TYPE_CHECKING:  # imported for annotations only: cmelive.policy -> checks -> here would be a cycle
    from cmelive.state import DeviceState



def _cdp_port(interface: Interface, found: list[Interface]) -> Interface:
    """The interface whose ``no cdp enable`` stops CDP frames leaving through ``interface``.

    CDP frames of an Ethernet sub-interface (802.1Q) leave untagged through the physical port, so the
    physical port is the one that must have CDP off. Serial/ATM/Frame Relay sub-interfaces keep
    their own CDP setting.
    """
    parent_name = interface.parent
    if parent_name is None or "Ethernet" not in interface.kind:
        return interface
    parent = find_interface(found, parent_name)
    return parent if parent is not None else interface


@check(
    id="CME-CDP-01",
    title="CDP is off towards untrusted (WAN) networks",
    severity=Severity.LOW,
    family="CDP",
    reference="Configuring Basic Cisco Unified CME Access Security > Disabling Cisco Discovery Protocol",
    rationale=(
        "CDP announces the router's model, IOS version and addresses to every neighbour. The guide says to "
        "disable it in an untrusted domain (no cdp run) or, if CDP is needed, per interface (no cdp enable)."
    ),
    passes_when=(
        "`no cdp run`, or `no cdp enable` on every WAN interface (the policy's `wan_interfaces`, else those "
        "detected: ip nat outside, a WAN/Internet/ISP description, the default route's egress, a public "
        "address, dialer/cellular/PPPoE). Unknown when CDP runs and no WAN interface can be identified."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:40: interface FastEthernet0/0",),
    remediation_example=("interface FastEthernet0/0", " no cdp enable"),
)
def cdp_on_wan(state: DeviceState) -> Outcome:
    config = running_config(state)
    no_run = config.first_global(r"no cdp run$")
    if no_run is not None:
        return passed(f"CDP is disabled globally (line {no_run.number})", [state.evidence(no_run)])
    found = device_interfaces(state)
    wans = device_wan_interfaces(state)
    if not wans:
        candidates = [i.name for i in found if i.kind not in ("Loopback", "Null", "NVI")]
        example = candidates[0] if candidates else "<wan-interface>"
        return unknown(
            "CDP runs and no interface is recognisably WAN (no ip nat outside, no WAN/Internet/ISP "
            "description, no default route egress, no public address, no dialer); name the uplink in the "
            f"policy: 'wan_interfaces: [{example}]'"
            + (f" (interfaces: {', '.join(candidates)})" if candidates else "")
        )
    missing: list[WanInterface] = []
    shut: list[WanInterface] = []
    covered: list[tuple[WanInterface, Interface]] = []
    exposed: list[tuple[WanInterface, Interface]] = []
    for wan in wans:
        if wan.interface is None:
            missing.append(wan)
            continue
        if wan.interface.shutdown:
            # A shut-down interface sends nothing, CDP included.
            shut.append(wan)
            continue
        port = _cdp_port(wan.interface, found)
        if port.cdp_disabled:
            covered.append((wan, port))
        else:
            exposed.append((wan, port))
    notes: list[str] = []
    if shut:
        notes.append("shut down: " + ", ".join(w.describe() for w in shut))
    if missing:
        notes.append(
            "the policy names " + ", ".join(w.name for w in missing) + ", which the running-config does not have"
        )
    suffix = f" ({'; '.join(notes)})" if notes else ""
    if exposed:
        evidence: list[Evidence] = []
        remediation: list[str] = []
        ports_done: set[str] = set()
        for wan, port in exposed:
            evidence.append(state.evidence(wan.interface.line if wan.interface else port.line))
            if port is not wan.interface:
                evidence.append(state.evidence(port.line))
            if port.name not in ports_done:
                ports_done.add(port.name)
                remediation += [f"interface {port.name}", " no cdp enable"]
        sent = ", ".join(
            w.describe() + (f" via {p.name}" if p is not w.interface else "") for w, p in exposed
        )
        return failed(
            f"CDP runs (no 'no cdp run') and is sent on WAN interface(s) {sent}{suffix}; "
            "alternatively disable CDP everywhere with 'no cdp run' if no local device needs it",
            evidence,
            remediation,
            # An explicit "cdp enable" is a line that shows it; otherwise this rests on absent lines.
            from_absence=not any(port.cdp_enabled_line for _, port in exposed),
        )
    if missing:
        return unknown("CDP runs; " + "; ".join(notes))
    disabled = [state.evidence(port.child(r"no cdp enable$") or port.line) for _, port in covered]
    if not covered:
        return passed(f"CDP runs but no WAN interface is up to send it ({'; '.join(notes)})")
    kept = ", ".join(w.describe() for w, _ in covered)
    return passed(f"CDP runs but is disabled on every WAN interface: {kept}{suffix}", disabled)
