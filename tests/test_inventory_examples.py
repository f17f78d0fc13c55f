"""The README's "Use it with Nornir / Ansible / NetBox / Oxidized" examples are real files
(``docs/examples/``), quoted in the README byte for byte, and each loads through Nornir and its
plugin into the hosts the README says. They name documentation addresses (192.0.2.0/24): they are
loaded, never connected to (the audits over the same shapes are in test_nornir_inventory.py,
test_ansible_inventory.py and test_netbox_inventory.py, against fake routers on 127.0.0.1).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from cmelive.errors import InputError
from cmelive.inventory import resolve_credentials
from cmelive.nornir_inventory import load_nornir_inventory

from .recorded_netbox import RecordedNetBox

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "docs" / "examples"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
# A quoted file: its path on a line of its own, then the fenced block.
QUOTED = re.compile(r"^`(docs/examples/[^`]+)`:\n\n```\w+\n(.*?)^```$", re.M | re.S)


def readme_quotes() -> dict[str, str]:
    return dict(QUOTED.findall((REPO / "README.md").read_text(encoding="utf-8")))


def test_the_readme_quotes_every_example_file_as_it_is() -> None:
    quotes = readme_quotes()
    files = sorted(str(path.relative_to(REPO)) for path in EXAMPLES.rglob("*") if path.is_file())
    assert sorted(quotes) == files
    for name, text in quotes.items():
        assert (REPO / name).read_text(encoding="utf-8") == text, name


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CME_PASSWORD", "example-pw")
    monkeypatch.setenv("CME_ENABLE_SECRET", "example-enable")


def test_the_nornir_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLES / "nornir")
    loaded = load_nornir_inventory(Path("config.yaml"))
    assert loaded.warnings == ["config.yaml: host 'core-01' skipped: platform 'junos' is not Cisco IOS"]
    assert [(host.name, host.address, host.port, host.username, host.tags) for host in loaded.inventory.hosts] == [
        ("branch-01-cme", "192.0.2.11", 22, "cmelive-audit", ("pci",)),
        ("branch-02-cme", "192.0.2.12", 2222, "cmelive-audit", ()),
    ]
    assert {resolve_credentials(host) for host in loaded.inventory.hosts} == {("example-pw", "example-enable")}


def test_the_ansible_example(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nornir_ansible", reason="needs cmelive[ansible]")
    monkeypatch.chdir(EXAMPLES / "ansible")
    loaded = load_nornir_inventory(Path("config.yaml"))
    assert loaded.warnings == [
        "config.yaml: host 'core-01' skipped: ansible_network_os 'junipernetworks.junos.junos' is not Cisco IOS"
    ]
    assert [(host.name, host.address, host.port, host.username, host.groups) for host in loaded.inventory.hosts] == [
        ("branch-01-cme", "192.0.2.11", 22, "cmelive-audit", ("cme_branches", "voice")),
        ("branch-02-cme", "192.0.2.12", 2222, "cmelive-audit", ("cme_branches", "voice")),
    ]
    assert {resolve_credentials(host) for host in loaded.inventory.hosts} == {("example-pw", "example-enable")}


def test_the_netbox_example(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nornir_netbox", reason="needs cmelive[netbox]")
    for variable in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    # The recorded NetBox; the example's routers on 22 and 2222 by their config contexts.
    with RecordedNetBox(TOKEN, {"secure-cme": 22, "insecure-cme": 2222}) as netbox:
        monkeypatch.setenv("NB_URL", netbox.url)
        monkeypatch.setenv("NB_TOKEN", TOKEN)
        monkeypatch.chdir(EXAMPLES / "netbox")
        loaded = load_nornir_inventory(Path("config.yaml"))
    # The filters reached NetBox (the Junos core router is not a voice-router); no VMs were asked for.
    assert [path for path, _ in netbox.requests] == [
        "/api/dcim/devices/?limit=0&role=voice-router&status=active",
        "/api/dcim/devices/?limit=2&offset=2&role=voice-router&status=active",
    ]
    assert loaded.warnings == []
    assert [(host.name, host.address, host.port, host.username) for host in loaded.inventory.hosts] == [
        ("secure-cme", "127.0.0.1", 22, "cmelive-audit"),
        ("insecure-cme", "127.0.0.1", 2222, "cmelive-audit"),
    ]
    assert {resolve_credentials(host) for host in loaded.inventory.hosts} == {("example-pw", "example-enable")}


@pytest.mark.parametrize(
    ("example", "package", "extra"),
    [("ansible", "nornir_ansible", "ansible"), ("netbox", "nornir_netbox", "netbox")],
)
def test_without_the_plugin_installed_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, example: str, package: str, extra: str
) -> None:
    monkeypatch.chdir(EXAMPLES / example)
    monkeypatch.setitem(sys.modules, package, None)  # what an absent package looks like to import
    plugin = {"ansible": "AnsibleInventory", "netbox": "NetBoxInventory2"}[example]
    with pytest.raises(InputError) as raised:
        load_nornir_inventory(Path("config.yaml"))
    assert str(raised.value) == (
        f"config.yaml: inventory plugin {plugin} needs the Python package '{package}' (pip install 'cmelive[{extra}]')"
    )
