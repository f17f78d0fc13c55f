"""Device facts that every report carries, whatever the checks found."""

from __future__ import annotations

import re
from typing import Any

from cmelive.commands import EPHONE_REGISTERED, RUNNING_CONFIG, SHOW_VERSION, TELEPHONY_SERVICE
from cmelive.state import DeviceState

_CME_VERSION = re.compile(
    r"(?:CONFIG \(Version=|Cisco Unified (?:Communications Manager Express|CallManager Express|CME)"
    r"[^\n]*?[Vv]ersion\s*|^\s*Version\s+)([\d.()A-Za-z]+)",
    re.MULTILINE,
)


def device_facts(state: DeviceState) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "hostname": None,
        "model": None,
        "ios_version": None,
        "uptime": None,
        "cme_version": None,
        "cme_configured": None,
        "ephones_configured": None,
        "ephones_registered": None,
        "running_config_complete": None,
        # What was found wrong with the capture, a few words each ("cut after line 212",
        # "layout rebuilt", "TAB layout repaired"); [] for a clean one.
        "running_config_damage": None,
    }
    version = state.records(SHOW_VERSION)
    if version:
        first = version[0]
        facts["hostname"] = first.get("hostname") or None
        facts["ios_version"] = first.get("version") or None
        facts["uptime"] = first.get("uptime") or None
        hardware = first.get("hardware")
        facts["model"] = (hardware[0] if isinstance(hardware, list) and hardware else hardware) or None
    telephony = state.output(TELEPHONY_SERVICE)
    if telephony.usable:
        match = _CME_VERSION.search(telephony.text)
        if match:
            cme_version = match.group(1).rstrip(".")
            # "CONFIG (Version=12.6)": the header's closing parenthesis is not part of the version,
            # but the one of "4.0(0)" is.
            while cme_version.endswith(")") and cme_version.count(")") > cme_version.count("("):
                cme_version = cme_version[:-1]
            facts["cme_version"] = cme_version
    config = state.config
    if config is not None:
        facts["hostname"] = facts["hostname"] or config.hostname
        facts["running_config_complete"] = config.complete
        facts["running_config_damage"] = config.damage_summary
        facts["cme_configured"] = bool(config.sections(r"telephony-service$"))
        facts["ephones_configured"] = len(config.sections(r"ephone \d+$"))
    elif state.output(RUNNING_CONFIG).usable is False:
        facts["running_config_complete"] = False
    registered = state.records(EPHONE_REGISTERED)
    if registered is not None:
        facts["ephones_registered"] = sum(
            1 for r in registered if str(r.get("status", "")).upper() == "REGISTERED"
        )
    return facts
