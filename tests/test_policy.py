"""Policy files: documented defaults, validated with file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmelive.checks.base import Severity
from cmelive.errors import InputError
from cmelive.policy import Policy, load_policy


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(text)
    return path


def test_defaults() -> None:
    policy = Policy()
    assert policy.min_rsa_bits == 2048 and policy.cert_expiry_days == 30
    assert "public" in policy.snmp_well_known


def test_full_policy(tmp_path: Path) -> None:
    policy = load_policy(
        write(
            tmp_path,
            "trusted_subnets: [10.1.0.0/16]\nwan_interfaces: [Dialer0]\nmin_rsa_bits: 3072\n"
            "severity_overrides: {cme-cdp-01: high}\nskip_checks: [CME-ACC-09]\n",
        )
    )
    assert policy.trusted_subnets == ["10.1.0.0/16"]
    assert policy.wan_interfaces == ["Dialer0"]
    assert policy.min_rsa_bits == 3072
    assert policy.severity_overrides == {"CME-CDP-01": Severity.HIGH}
    assert policy.skip_checks == ["CME-ACC-09"]


def test_empty_file_is_defaults(tmp_path: Path) -> None:
    assert load_policy(write(tmp_path, "")) == Policy()


@pytest.mark.parametrize(
    "text, line, problem",
    [
        ("min_rsa_bits: 2048\nfoo: 1\n", 2, "unknown setting 'foo'"),
        ("min_rsa_bits: lots\n", 1, "non-negative whole number"),
        ("wan_interfaces: Dialer0\n", 1, "list of strings"),
        ("severity_overrides:\n  CME-ACC-01: urgent\n", 1, "not one of"),
        ("a: [1\n", 2, "invalid YAML"),
        ("- 1\n", 1, "expected a mapping"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_policy(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert problem in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_policy(tmp_path / "nope.yml")


def test_example_policy_file_loads() -> None:
    from .conftest import REPO

    policy = load_policy(REPO / "policy.example.yaml")
    assert policy.trusted_subnets == ["10.20.0.0/16", "172.16.40.0/24"]
    assert policy.wan_interfaces == ["GigabitEthernet0/1"]
    assert policy.min_rsa_bits == 2048 and policy.cert_expiry_days == 30
    assert policy.fraud_area_codes == Policy().fraud_area_codes
    assert policy.severity_overrides == {"CME-CDP-01": Severity.MEDIUM}
