"""``cmelive fleet --nornir CONFIG.yaml``: a real Nornir SimpleInventory (config, hosts, groups,
defaults in four files), read through Nornir itself, audits a fake fleet on 127.0.0.1 end to end.

The inventory keeps its credentials as Nornir users do: the login password inline in
``defaults.yaml``, the enable secret inline in a group's ``connection_options: netmiko: extras``.
Asserted: every IOS host is audited (status ok, with the enable secret it could not have worked
without), a non-IOS host is skipped with one warning line, the reports are written, and neither
secret appears in any output or any file the run leaves. A broken inventory gives exit 2 and one
``file:line`` line.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmelive.audit import audit_snapshot
from cmelive.errors import InputError
from cmelive.examples import example_dir
from cmelive.fake.fleet import FakeFleet
from cmelive.inventory import resolve_credentials
from cmelive.nornir_inventory import load_nornir_inventory
from cmelive.snapshot import read_snapshot

from .example_fleet import EXAMPLES, example_fleet, isolate_user_state

PASSWORD = "nr-Inline-Pw-7731"
ENABLE_SECRET = "nr-Enable-Sx-4419"
USERNAME = "nornir-auditor"
CONFIG = """\
inventory:
  plugin: SimpleInventory
  options:
    host_file: hosts.yaml
    group_file: groups.yaml
    defaults_file: defaults.yaml
"""


@pytest.fixture(scope="module")
def fleet() -> Iterator[FakeFleet]:
    routers = {name: name for name in EXAMPLES}
    with example_fleet(routers, username=USERNAME, password=PASSWORD, enable_secret=ENABLE_SECRET) as started:
        yield started


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_user_state(tmp_path, monkeypatch)


def write_inventory(directory: Path, fleet: FakeFleet) -> Path:
    """Nornir's four files; hosts inherit username/password/platform from defaults, the enable
    secret from their group, and one host of another vendor is there to be skipped."""
    hosts = "".join(
        f"{name}:\n  hostname: 127.0.0.1\n  port: {port}\n  groups: [cme-sites]\n  data:\n    tags: [{name}]\n"
        for name, port in fleet.ports.items()
    )
    hosts += "core-junos:\n  hostname: 127.0.0.1\n  port: 1\n  platform: junos\n"
    (directory / "hosts.yaml").write_text(hosts, encoding="utf-8")
    (directory / "groups.yaml").write_text(
        "cme-sites:\n"
        "  groups: [voice]\n"
        "  connection_options:\n"
        "    netmiko:\n"
        f"      extras: {{secret: {ENABLE_SECRET}}}\n"
        "voice:\n"
        "  data: {site: lab}\n",
        encoding="utf-8",
    )
    (directory / "defaults.yaml").write_text(
        f"username: {USERNAME}\npassword: {PASSWORD}\nplatform: cisco_ios\n", encoding="utf-8"
    )
    config = directory / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    return config


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("CMELIVE_")}
    return subprocess.run(
        [sys.executable, "-m", "cmelive", *args],
        check=False, capture_output=True, text=True, timeout=180, env=environment, cwd=cwd, stdin=subprocess.DEVNULL,
    )


def test_nornir_hosts_as_nornir_resolves_them(fleet: FakeFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # Nornir reads host_file & co. relative to the current directory
    loaded = load_nornir_inventory(Path(write_inventory(tmp_path, fleet).name))
    assert [host.name for host in loaded.inventory.hosts] == list(EXAMPLES)
    assert loaded.warnings == ["config.yaml: host 'core-junos' skipped: platform 'junos' is not Cisco IOS"]
    for host in loaded.inventory.hosts:
        assert (host.address, host.port, host.username) == ("127.0.0.1", fleet.port(host.name), USERNAME)
        assert resolve_credentials(host) == (PASSWORD, ENABLE_SECRET)
        # The host holds a key to them, not them: its repr and its pickled copy (a judge's) show neither.
        assert PASSWORD.encode() not in pickle.dumps(host) and ENABLE_SECRET.encode() not in pickle.dumps(host)
        assert host.groups == ("cme-sites", "voice") and host.tags == (host.name,)
        assert host.data == {"tags": [host.name], "site": "lab"}
        assert PASSWORD not in repr(host) and ENABLE_SECRET not in repr(host)
    assert loaded.inventory.groups["voice"].hosts == EXAMPLES
    assert not (tmp_path / "nornir.log").exists()  # Nornir's own log file stays off


def test_nornir_inventory_audits_the_fleet_end_to_end(fleet: FakeFleet, tmp_path: Path) -> None:
    config = write_inventory(tmp_path, fleet)
    known_hosts = fleet.write_known_hosts(tmp_path / "known_hosts")
    run_dir = tmp_path / "run"
    done = run_cli(
        ["fleet", "--nornir", config.name, "--out", str(run_dir), "--known-hosts", str(known_hosts),
         "--no-history", "--timeout", "10"],
        cwd=tmp_path,
    )
    # insecure-cme has high-severity failures: exit 1, never 2 (input) or 3 (not audited).
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == "cmelive: warning: config.yaml: host 'core-junos' skipped: platform 'junos' is not Cisco IOS\n"
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    statuses = {device["name"]: device["status"] for device in report["devices"]}
    # As a replay of what each router serves says (insecure-cme's example rejects three commands).
    assert statuses == {name: str(audit_snapshot(read_snapshot(example_dir(name))).status) for name in EXAMPLES}
    assert set(statuses.values()) <= {"ok", "partial"}
    for name in ("report.json", "report.csv", "report.sarif", "report.junit.xml", "report.html", "cmelive.log"):
        assert (run_dir / name).is_file(), name
    for name in EXAMPLES:
        assert (run_dir / "snapshots" / name).is_dir()
    # Neither secret anywhere: not on stdout/stderr, not in any file of the run, not beside the inventory.
    assert PASSWORD not in done.stdout + done.stderr and ENABLE_SECRET not in done.stdout + done.stderr
    inventory_files = {"hosts.yaml", "groups.yaml", "defaults.yaml"}
    written = [path for path in tmp_path.rglob("*") if path.is_file() and path.name not in inventory_files]
    assert len(written) > 10
    for path in written:
        content = path.read_bytes()
        assert PASSWORD.encode() not in content and ENABLE_SECRET.encode() not in content, path
    assert not (tmp_path / "nornir.log").exists()


def test_a_broken_nornir_inventory_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "hosts.yaml").write_text("r1:\n  hostname: 127.0.0.1\n   port: 22\n", encoding="utf-8")
    (tmp_path / "groups.yaml").write_text("{}\n", encoding="utf-8")
    (tmp_path / "defaults.yaml").write_text("{}\n", encoding="utf-8")
    done = run_cli(["fleet", "--nornir", "config.yaml", "--out", str(tmp_path / "run")], cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "cmelive: error: hosts.yaml:3: invalid YAML: mapping values are not allowed here (column 8)\n"
    assert not (tmp_path / "run").exists()


def test_inventory_and_nornir_are_one_or_the_other(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for args in (["--nornir", "config.yaml", "inventory.yaml"], []):
        done = run_cli(["fleet", *args, "--out", str(tmp_path / "run")], cwd=tmp_path)
        assert (done.returncode, done.stderr) == (
            2, "cmelive: error: give an INVENTORY file or --nornir CONFIG.yaml (exactly one)\n"
        )


def test_without_nornir_installed_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setitem(sys.modules, "nornir", None)  # what an absent package looks like to import
    with pytest.raises(InputError) as raised:
        load_nornir_inventory(config)
    assert str(raised.value) == f"{config}: --nornir needs the Python package 'nornir' (pip install 'cmelive[nornir]')"


def test_a_nornir_host_without_hostname_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nornir 3 does not fall back to the host's name: connecting to "r9" would be a DNS guess.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "hosts.yaml").write_text("r9:\n  port: 22\n", encoding="utf-8")
    (tmp_path / "groups.yaml").write_text("{}\n", encoding="utf-8")
    (tmp_path / "defaults.yaml").write_text("username: a\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_nornir_inventory(Path("config.yaml"))
    assert str(raised.value) == "config.yaml: host 'r9': no hostname (Nornir does not use the host's name as its address)"
