"""Site policy: what only the site knows (trusted subnets, WAN interfaces, thresholds)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cmelive.checks.base import Severity
from cmelive.errors import InputError
from cmelive.yaml_bounds import compose_within_bounds

WELL_KNOWN_SNMP_COMMUNITIES: tuple[str, ...] = (
    "public",
    "private",
    "read",
    "write",
    "cisco",
    "changeme",
    "changeme-ro",
    "changeme-rw",
    "community",
    "secret",
    "admin",
    "default",
    "monitor",
    "manager",
    "snmp",
    "snmpd",
    "test",
    "all",
    "ilmi",
    "cable-docsis",
    "router",
    "switch",
    "network",
    "rw",
    "ro",
)

#: NANP area codes known for toll fraud (Caribbean "one-ring" callbacks, premium 900/976), as the
#: guide blocks them with after-hours block patterns.
NANP_FRAUD_AREA_CODES: tuple[str, ...] = (
    "242", "264", "268", "246", "441", "284", "345", "767", "809", "473", "876", "664",
    "787", "869", "758", "900", "976", "868", "649", "340", "784", "684", "590", "456",
)
_AREA_CODE = re.compile(r"^\d{3}$")


@dataclass
class Policy:
    """Site-specific answers the checks need. Every field has a documented default."""

    trusted_subnets: list[str] = field(default_factory=list)
    wan_interfaces: list[str] = field(default_factory=list)
    min_rsa_bits: int = 2048
    cert_expiry_days: int = 30
    snmp_well_known: tuple[str, ...] = WELL_KNOWN_SNMP_COMMUNITIES
    fraud_area_codes: tuple[str, ...] = NANP_FRAUD_AREA_CODES
    severity_overrides: dict[str, Severity] = field(default_factory=dict)
    skip_checks: list[str] = field(default_factory=list)


_KEYS = {
    "trusted_subnets",
    "wan_interfaces",
    "min_rsa_bits",
    "cert_expiry_days",
    "snmp_well_known",
    "fraud_area_codes",
    "severity_overrides",
    "skip_checks",
}


def load_policy(path: Path) -> Policy:
    """Read a policy YAML file; errors name the file and line."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(where, "policy file does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(where, f"cannot read policy file: {exc}") from exc
    try:
        node = compose_within_bounds(text, where)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(where, f"invalid YAML: {getattr(exc, 'problem', exc)}", line=line) from exc
    if node is None:
        return Policy()
    if not isinstance(node, yaml.MappingNode):
        raise InputError(where, "expected a mapping of policy settings", line=node.start_mark.line + 1)
    data: dict[str, Any] = yaml.safe_load(text)
    lines = {key.value: key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)}
    policy = Policy()
    for key, value in data.items():
        line = lines.get(str(key))
        if key not in _KEYS:
            raise InputError(where, f"unknown setting {key!r} (known: {', '.join(sorted(_KEYS))})", line)
        if key in ("min_rsa_bits", "cert_expiry_days"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InputError(where, f"{key} must be a non-negative whole number", line)
            setattr(policy, key, value)
        elif key in ("trusted_subnets", "wan_interfaces", "skip_checks", "snmp_well_known"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InputError(where, f"{key} must be a list of strings", line)
            setattr(policy, key, tuple(value) if key == "snmp_well_known" else list(value))
        elif key == "fraud_area_codes":
            # YAML reads an unquoted 242 as a number: accept it, as the area code it obviously is.
            items = value if isinstance(value, list) else [None]
            codes = [str(v) if isinstance(v, (str, int)) and not isinstance(v, bool) else "" for v in items]
            if not all(_AREA_CODE.match(code) for code in codes):
                raise InputError(where, "fraud_area_codes must be a list of 3-digit area codes", line)
            policy.fraud_area_codes = tuple(codes)
        elif key == "severity_overrides":
            if not isinstance(value, dict):
                raise InputError(where, "severity_overrides must map check ids to severities", line)
            for check_id, severity in value.items():
                try:
                    policy.severity_overrides[str(check_id).upper()] = Severity(str(severity).lower())
                except ValueError as exc:
                    raise InputError(
                        where, f"severity_overrides: {severity!r} is not one of info/low/medium/high/critical", line
                    ) from exc
    return policy
