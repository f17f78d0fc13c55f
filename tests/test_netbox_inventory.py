"""``cmelive fleet --nornir CONFIG.yaml`` over NetBox, read by ``nornir_netbox``'s NetBoxInventory2.

NetBox cannot run here: its API answers are recorded from NetBox 4.x's schema (``tests/data/netbox/``,
see the README there) and served on 127.0.0.1 by a small HTTP server that checks the API token as
NetBox does. The recording has two pages of devices (``next``), a virtual machine
(``include_vms: true``), platforms by slug (``ios`` and ``cisco_ios`` audited, ``junos`` skipped),
primary IPs as ``127.0.0.1/32``, tags as NetBox's tag objects, and each router's SSH port in its
config context. Credentials stay by reference: the login and enable passwords in environment
variables named by the Nornir defaults file; the token is inline in the Nornir configuration, the
worst case, and must come out nowhere (outputs, ``-vv`` log, history database, snapshots).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cmelive.audit import audit_snapshot
from cmelive.errors import InputError
from cmelive.examples import example_dir
from cmelive.fake.fleet import FakeFleet
from cmelive.inventory import resolve_credentials
from cmelive.nornir_inventory import load_nornir_inventory
from cmelive.snapshot import read_snapshot

from .example_fleet import EXAMPLES, example_fleet, isolate_user_state

from .leakcheck import assert_no_secret_left
from .recorded_netbox import ROUTES, RecordedNetBox
from .test_nornir_inventory import run_cli

pytest.importorskip("nornir_netbox", reason="needs cmelive[netbox]")

TOKEN = "5c1e7a0d9b3f4e2a8c6d1b0f7e9a3c5d2b4f6a8e"
PASSWORD = "nb-Env-Pw-6604"
ENABLE_SECRET = "nb-Env-Sx-1187"
USERNAME = "netbox-auditor"


@pytest.fixture(scope="module")
def fleet() -> Iterator[FakeFleet]:
    routers = {name: name for name in EXAMPLES}
    with example_fleet(routers, username=USERNAME, password=PASSWORD, enable_secret=ENABLE_SECRET) as started:
        yield started


@pytest.fixture
def netbox(fleet: FakeFleet) -> Iterator[RecordedNetBox]:
    with RecordedNetBox(TOKEN, fleet.ports) as served:
        yield served


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_user_state(tmp_path, monkeypatch)
    # requests would hand 127.0.0.1 to a proxy named in the environment; and NB_URL/NB_TOKEN are
    # what NetBoxInventory2 falls back on.
    for variable in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NB_URL", "NB_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("CME_PASSWORD", PASSWORD)
    monkeypatch.setenv("CME_ENABLE_SECRET", ENABLE_SECRET)


def write_config(directory: Path, url: str, token: str | None = TOKEN) -> Path:
    token_line = f"    nb_token: {token}\n" if token is not None else ""
    (directory / "config.yaml").write_text(
        "inventory:\n"
        "  plugin: NetBoxInventory2\n"
        "  options:\n"
        f"    nb_url: {url}\n"
        f"{token_line}"
        "    use_platform_slug: true\n"
        "    include_vms: true\n"
        "    defaults_file: defaults.yaml\n",
        encoding="utf-8",
    )
    (directory / "defaults.yaml").write_text(
        f"username: {USERNAME}\ndata:\n  password_env: CME_PASSWORD\n  enable_secret_env: CME_ENABLE_SECRET\n",
        encoding="utf-8",
    )
    return directory / "config.yaml"


def test_netbox_devices_as_nornir_netbox_gives_them(
    fleet: FakeFleet, netbox: RecordedNetBox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, netbox.url)
    loaded = load_nornir_inventory(Path("config.yaml"))
    # Both pages and the virtual machines were asked for, each with the token.
    assert netbox.requests == [(path, True) for path in ROUTES]
    assert loaded.warnings == ["config.yaml: host 'core-junos' skipped: platform 'junos' is not Cisco IOS"]
    hosts = {host.name: host for host in loaded.inventory.hosts}
    assert sorted(hosts) == sorted(EXAMPLES)
    for name, host in hosts.items():
        # The address from primary_ip without its /32; the port from the config context.
        assert (host.address, host.port, host.username) == ("127.0.0.1", fleet.port(name), USERNAME)
        assert (host.password_env, host.enable_secret_env) == ("CME_PASSWORD", "CME_ENABLE_SECRET")
        assert resolve_credentials(host) == (PASSWORD, ENABLE_SECRET)
    assert hosts["secure-cme"].groups == (
        "site__branch-1", "platform__ios", "device_role__voice-router", "manufacturer__cisco", "device_type__isr4331"
    )
    assert hosts["insecure-cme"].tags == ("voice", "pci-scope")  # NetBox's tag objects, by slug
    assert hosts["plain-ios"].data["cluster"]["name"] == "branch-3-kvm"  # the virtual machine
    assert loaded.inventory.groups["platform__cisco_ios"].hosts == ("insecure-cme",)


def test_netbox_inventory_audits_the_fleet_end_to_end(fleet: FakeFleet, netbox: RecordedNetBox, tmp_path: Path) -> None:
    config = write_config(tmp_path, netbox.url)
    known_hosts = fleet.write_known_hosts(tmp_path / "known_hosts")
    run_dir = tmp_path / "run"
    done = run_cli(
        ["fleet", "--nornir", config.name, "--out", str(run_dir), "--known-hosts", str(known_hosts),
         "--db", str(tmp_path / "history.db"), "--timeout", "10", "-vv"],
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # insecure-cme fails high-severity checks
    assert "cmelive: warning: config.yaml: host 'core-junos' skipped: platform 'junos' is not Cisco IOS\n" in done.stderr
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    statuses = {device["name"]: device["status"] for device in report["devices"]}
    assert statuses == {name: str(audit_snapshot(read_snapshot(example_dir(name))).status) for name in EXAMPLES}
    assert {path for path, _ in netbox.requests} == set(ROUTES)
    assert_no_secret_left(done.stdout + done.stderr, tmp_path, {"config.yaml"}, (TOKEN, PASSWORD, ENABLE_SECRET))


def test_the_token_can_come_from_the_environment(
    netbox: RecordedNetBox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, netbox.url, token=None)
    monkeypatch.setenv("NB_TOKEN", TOKEN)
    assert len(load_nornir_inventory(Path("config.yaml")).inventory.hosts) == 3
    assert netbox.requests and all(authorised for _, authorised in netbox.requests)


def test_a_refused_token_is_one_line_exit_2_and_not_echoed(netbox: RecordedNetBox, tmp_path: Path) -> None:
    wrong = "0badc0de" * 5
    write_config(tmp_path, netbox.url, token=wrong)
    done = run_cli(["fleet", "--nornir", "config.yaml", "--out", str(tmp_path / "run")], cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "cmelive: error: config.yaml: Nornir refused the configuration: "
        f"ValueError: Failed to get data from NetBox instance {netbox.url}\n"
    )
    assert netbox.requests == [("/api/dcim/devices/?limit=0", False)]
    assert wrong not in done.stderr


def test_credentials_in_a_config_context_are_refused(
    netbox: RecordedNetBox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whoever can read the device through NetBox's API would read them.
    original = netbox.page

    def with_password(name: str) -> dict[str, Any]:
        page = original(name)
        for result in page["results"]:
            if result["name"] == "secure-cme":
                result["config_context"]["connection_options"]["netmiko"]["password"] = "in-netbox"
        return page

    monkeypatch.setattr(netbox, "page", with_password)
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, netbox.url)
    with pytest.raises(InputError) as raised:
        load_nornir_inventory(Path("config.yaml"))
    assert str(raised.value) == (
        "config.yaml: host 'secure-cme': its config context holds a password or secret (keep credentials out of"
        " NetBox: the Nornir defaults file, or password_env / enable_secret_env)"
    )


def test_a_config_context_port_counts_as_the_hosts_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Over the group's and the defaults' (what NetBox users set in the defaults file), under the
    # host's own connection_options; the same rule whichever plugin gave the data.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(
        "inventory:\n  plugin: SimpleInventory\n  options:\n"
        "    host_file: hosts.yaml\n    group_file: groups.yaml\n    defaults_file: defaults.yaml\n",
        encoding="utf-8",
    )
    context = "  data:\n    config_context:\n      connection_options: {netmiko: {port: 2202, username: ctx}}\n"
    (tmp_path / "hosts.yaml").write_text(
        "by-context:\n  hostname: 127.0.0.1\n  groups: [g]\n" + context
        + "own-wins:\n  hostname: 127.0.0.1\n  groups: [g]\n  connection_options: {netmiko: {port: 2203}}\n" + context,
        encoding="utf-8",
    )
    (tmp_path / "groups.yaml").write_text("g:\n  port: 2201\n  username: grp\n", encoding="utf-8")
    (tmp_path / "defaults.yaml").write_text("port: 22\n", encoding="utf-8")
    loaded = load_nornir_inventory(Path("config.yaml"))
    assert [(host.name, host.port, host.username) for host in loaded.inventory.hosts] == [
        ("by-context", 2202, "ctx"),
        ("own-wins", 2203, "ctx"),
    ]
