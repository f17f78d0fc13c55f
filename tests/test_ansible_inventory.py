"""``cmelive fleet --nornir CONFIG.yaml`` over an Ansible inventory, read by ``nornir_ansible``'s
AnsibleInventory: an INI inventory as an Ansible network team keeps it audits a fake fleet on
127.0.0.1 end to end.

The INI file has what such a file has: hosts with ``ansible_host``/``ansible_port``, a ``:children``
group, ``ansible_network_os`` (``cisco.ios.ios`` audited, a Junos box skipped), ``ansible_user`` and
``ansible_password`` in ``[all:vars]`` and the enable secret as ``ansible_become_password`` with
``ansible_become_method=enable`` in the group's vars. ``nornir_ansible`` maps ``ansible_host``,
``ansible_port``, ``ansible_user`` and ``ansible_password``; cmelive reads the rest (see
:mod:`cmelive.nornir_inventory`). Asserted: every IOS host audited with the enable secret it could
not have worked without, the Junos host skipped with one warning, neither secret in any output,
log (``-vv``), history database or snapshot. A broken INI line gives exit 2 and one ``file:line``
line.
"""

from __future__ import annotations

import json
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

from .leakcheck import assert_no_secret_left
from .test_nornir_inventory import run_cli

pytest.importorskip("nornir_ansible", reason="needs cmelive[ansible]")

PASSWORD = "ans-Inline-Pw-5820"
ENABLE_SECRET = "ans-Become-Sx-9037"
USERNAME = "ansible-auditor"
CONFIG = """\
inventory:
  plugin: AnsibleInventory
  options:
    hostsfile: hosts.ini
"""


@pytest.fixture(scope="module")
def fleet() -> Iterator[FakeFleet]:
    routers = {name: name for name in EXAMPLES}
    with example_fleet(routers, username=USERNAME, password=PASSWORD, enable_secret=ENABLE_SECRET) as started:
        yield started


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_user_state(tmp_path, monkeypatch)


def ini_inventory(ports: dict[str, int]) -> str:
    hosts = "".join(f"{name} ansible_host=127.0.0.1 ansible_port={port}\n" for name, port in ports.items())
    return (
        "# The voice routers, as the Ansible playbooks see them\n"
        f"[cme_sites]\n{hosts}\n"
        "[core]\n"
        "core-junos ansible_host=127.0.0.1 ansible_port=1 ansible_network_os=junipernetworks.junos.junos\n\n"
        "[voice:children]\ncme_sites\n\n"
        "[cme_sites:vars]\n"
        "ansible_network_os=cisco.ios.ios\n"
        "ansible_connection=ansible.netcommon.network_cli\n"
        "ansible_become=yes\n"
        "ansible_become_method=enable\n"
        f"ansible_become_password={ENABLE_SECRET}\n\n"
        "[all:vars]\n"
        f"ansible_user={USERNAME}\n"
        f"ansible_password={PASSWORD}\n"
    )


def write_inventory(directory: Path, fleet: FakeFleet) -> Path:
    (directory / "hosts.ini").write_text(ini_inventory(fleet.ports), encoding="utf-8")
    config = directory / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    return config


def test_ansible_ini_hosts_as_nornir_ansible_gives_them(
    fleet: FakeFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    loaded = load_nornir_inventory(Path(write_inventory(tmp_path, fleet).name))
    assert [host.name for host in loaded.inventory.hosts] == list(EXAMPLES)
    assert loaded.warnings == [
        "config.yaml: host 'core-junos' skipped: ansible_network_os 'junipernetworks.junos.junos' is not Cisco IOS"
    ]
    for host in loaded.inventory.hosts:
        assert (host.address, host.port, host.username) == ("127.0.0.1", fleet.port(host.name), USERNAME)
        assert resolve_credentials(host) == (PASSWORD, ENABLE_SECRET)
        assert host.groups == ("cme_sites", "voice")
        # The become password is taken out of the data the host carries; the rest stays.
        assert host.data == {
            "ansible_network_os": "cisco.ios.ios",
            "ansible_connection": "ansible.netcommon.network_cli",
            "ansible_become": "yes",
            "ansible_become_method": "enable",
        }
        assert PASSWORD not in repr(host) and ENABLE_SECRET not in repr(host)
    assert loaded.inventory.groups["voice"].hosts == EXAMPLES


def test_ansible_yaml_inventory_too(fleet: FakeFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same fleet in Ansible's YAML form; the older aliases ansible_ssh_pass / ansible_become_pass.
    monkeypatch.chdir(tmp_path)
    hosts = "".join(
        f"        {name}:\n          ansible_host: 127.0.0.1\n          ansible_port: {port}\n"
        for name, port in fleet.ports.items()
    )
    (tmp_path / "hosts.yaml").write_text(
        "all:\n"
        f"  vars:\n    ansible_user: {USERNAME}\n    ansible_ssh_pass: {PASSWORD}\n"
        "  children:\n"
        "    cme_sites:\n"
        f"      vars:\n        ansible_network_os: ios\n        ansible_become_pass: {ENABLE_SECRET}\n"
        f"      hosts:\n{hosts}",
        encoding="utf-8",
    )
    (tmp_path / "config.yaml").write_text(CONFIG.replace("hosts.ini", "hosts.yaml"), encoding="utf-8")
    loaded = load_nornir_inventory(Path("config.yaml"))
    assert loaded.warnings == []
    assert [(host.name, host.port) for host in loaded.inventory.hosts] == list(fleet.ports.items())
    for host in loaded.inventory.hosts:
        assert resolve_credentials(host) == (PASSWORD, ENABLE_SECRET)
        assert host.data == {"ansible_network_os": "ios"}


def test_ansible_ini_inventory_audits_the_fleet_end_to_end(fleet: FakeFleet, tmp_path: Path) -> None:
    config = write_inventory(tmp_path, fleet)
    known_hosts = fleet.write_known_hosts(tmp_path / "known_hosts")
    run_dir = tmp_path / "run"
    done = run_cli(
        ["fleet", "--nornir", config.name, "--out", str(run_dir), "--known-hosts", str(known_hosts),
         "--db", str(tmp_path / "history.db"), "--timeout", "10", "-vv"],
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # insecure-cme fails high-severity checks
    assert (
        "cmelive: warning: config.yaml: host 'core-junos' skipped: "
        "ansible_network_os 'junipernetworks.junos.junos' is not Cisco IOS\n"
    ) in done.stderr
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    statuses = {device["name"]: device["status"] for device in report["devices"]}
    assert statuses == {name: str(audit_snapshot(read_snapshot(example_dir(name))).status) for name in EXAMPLES}
    assert set(statuses.values()) <= {"ok", "partial"}
    assert (tmp_path / "history.db").is_file()
    assert_no_secret_left(done.stdout + done.stderr, tmp_path, {"hosts.ini"}, (PASSWORD, ENABLE_SECRET))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda text: text.replace("ansible_port=1 ", "ansible_port ", 1),
            "hosts.ini:8: Ansible INI: host 'core-junos': 'ansible_port' is not name=value",
        ),
        (
            lambda text: "secure-cme ansible_host=127.0.0.1\n" + text,
            "hosts.ini:1: Ansible INI: a line before the first [group] section",
        ),
        (
            lambda text: text + "[core]\n",
            "hosts.ini:23: Ansible INI: section [core] appears twice",
        ),
        (
            lambda text: text.replace("[voice:children]", "[voice:kids]"),
            "hosts.ini:10: Ansible INI: [voice:kids]: a section is [group], [group:vars] or [group:children]",
        ),
    ],
    ids=["not-name-value", "before-any-section", "section-twice", "unknown-section-kind"],
)
def test_a_broken_ansible_ini_is_one_line_and_exit_2(tmp_path: Path, edit: object, message: str) -> None:
    assert callable(edit)
    text = ini_inventory({"secure-cme": 2201, "insecure-cme": 2202, "plain-ios": 2203})
    (tmp_path / "hosts.ini").write_text(edit(text), encoding="utf-8")
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    done = run_cli(["fleet", "--nornir", "config.yaml", "--out", str(tmp_path / "run")], cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"cmelive: error: {message}\n")
    assert not (tmp_path / "run").exists()


def test_a_missing_ansible_inventory_is_an_error_not_an_empty_fleet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # configparser skips a file it cannot find: nornir_ansible alone would give zero hosts.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_nornir_inventory(Path("config.yaml"))
    assert str(raised.value) == "hosts.ini: Ansible inventory named by the Nornir configuration does not exist"


def test_a_broken_ansible_yaml_names_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(CONFIG.replace("hosts.ini", "hosts.yaml"), encoding="utf-8")
    (tmp_path / "hosts.yaml").write_text("all:\n  hosts:\n    r1:\n     ansible_host: 127.0.0.1\n    bad: [\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_nornir_inventory(Path("config.yaml"))
    assert raised.value.path == "hosts.yaml" and raised.value.line is not None
    assert raised.value.problem.startswith("invalid YAML: ")


def test_vault_and_templated_passwords_are_refused_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Neither can be sent as it is: cmelive decrypts no Vault and evaluates no Jinja.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "hosts.ini").write_text("[cme]\nr1 ansible_host=127.0.0.1\n", encoding="utf-8")
    (tmp_path / "group_vars").mkdir()
    vars_file = tmp_path / "group_vars" / "cme.yml"
    vars_file.write_text("ansible_user: a\nansible_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3338\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_nornir_inventory(Path("config.yaml"))
    assert str(raised.value) == (
        f"{vars_file}:2: invalid YAML: could not determine a constructor for the tag '!vault' (column 19)"
        " (Ansible Vault is not decrypted: name an environment variable with password_env / enable_secret_env)"
    )
    vars_file.write_text("ansible_user: a\nansible_become_password: \"{{ lookup('env', 'ENABLE') }}\"\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_nornir_inventory(Path("config.yaml"))
    assert str(raised.value) == (
        "config.yaml: host 'r1': the enable secret is an Ansible template ({{ ... }}); cmelive evaluates no"
        " templates: name an environment variable with password_env / enable_secret_env"
    )
