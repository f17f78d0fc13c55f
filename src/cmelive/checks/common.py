"""Small helpers every check family uses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from cmelive.checks.base import Evidence
from cmelive.parsing.running_config import RunningConfig
from cmelive.topology import (
    Acl,
    Interface,
    StaticRoute,
    WanInterface,
    acls,
    interfaces,
    static_routes,
    wan_interfaces,
)

if TYPE_CHECKING:
    from cmelive.state import DeviceState


def running_config(state: DeviceState) -> RunningConfig:
    """The parsed running-config of a check that requires it."""
    config = state.config
    if config is None:  # the engine checks `requires` first; this keeps mypy and a bad caller honest
        raise ValueError("running-config is not available")
    return config


# What several check families read of the same config is built once per device (DeviceState.derived)
# and kept as a tuple; each caller gets its own list, as from the topology functions themselves.


def device_interfaces(state: DeviceState) -> list[Interface]:
    """:func:`cmelive.topology.interfaces` of the device's running-config."""
    return list(state.derived(_interfaces))


def device_wan_interfaces(state: DeviceState) -> list[WanInterface]:
    """:func:`cmelive.topology.wan_interfaces` of the device's running-config under its policy."""
    return list(state.derived(_wan_interfaces))


def device_static_routes(state: DeviceState) -> list[StaticRoute]:
    """:func:`cmelive.topology.static_routes` of the device's running-config."""
    return list(state.derived(_static_routes))


def device_acls(state: DeviceState) -> list[Acl]:
    """:func:`cmelive.topology.acls` of the device's running-config."""
    return list(state.derived(_acls))


def _interfaces(state: DeviceState) -> tuple[Interface, ...]:
    return tuple(interfaces(running_config(state)))


def _wan_interfaces(state: DeviceState) -> tuple[WanInterface, ...]:
    config, policy = running_config(state), state.policy
    routes = None if policy.wan_interfaces else device_static_routes(state)  # the policy's list needs none
    return tuple(wan_interfaces(config, policy, found=device_interfaces(state), routes=routes))


def _static_routes(state: DeviceState) -> tuple[StaticRoute, ...]:
    return tuple(static_routes(running_config(state)))


def _acls(state: DeviceState) -> tuple[Acl, ...]:
    return tuple(acls(running_config(state)))


def unique_evidence(evidence: Iterable[Evidence]) -> list[Evidence]:
    """Evidence without repeats (same command and line), in the order first seen."""
    seen: set[tuple[str, int | None]] = set()
    out: list[Evidence] = []
    for item in evidence:
        key = (item.command, item.line)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def evidence_by_line(evidence: Iterable[Evidence]) -> list[Evidence]:
    """Evidence without repeats, in line order."""
    return sorted(unique_evidence(evidence), key=lambda e: e.line or 0)
