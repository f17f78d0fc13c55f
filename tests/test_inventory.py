"""The fleet inventory: both shapes resolve as documented, every error names file:line, filters,
credentials by reference, per-host policy, and the commented example file."""

from __future__ import annotations

import dataclasses
import ipaddress
import sys
import types
from pathlib import Path

import pytest

from cmelive.errors import InputError, UsageError
from cmelive.masking import mask_text
from cmelive.inventory import (
    CredentialError,
    Inventory,
    InventoryGroup,
    InventoryHost,
    KeyringEntry,
    host_policy,
    load_inventory,
    resolve_credentials,
    select,
)
from cmelive.policy import Policy

from .conftest import FIXTURES, REPO

INVENTORIES = FIXTURES / "inventories"
BAD = INVENTORIES / "bad"
EXAMPLE = REPO / "inventory.example.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------
# Nornir-style resolution


def test_nornir_hosts_resolve_host_then_groups_depth_first_then_defaults() -> None:
    inventory = load_inventory(INVENTORIES / "nornir.yaml")
    assert inventory.format == "nornir"
    assert inventory.path == INVENTORIES / "nornir.yaml"
    assert inventory.hosts == [
        InventoryHost(
            name="br-east-01",
            address="192.0.2.11",
            port=2222,  # cme, reached through region-east -> branches -> cme, beats defaults' 22
            groups=("region-east", "branches", "cme"),
            tags=("cme12", "fleet"),
            username="audit",
            password_env="FLEET_PASSWORD",
            enable_secret_env="CME_ENABLE",
            jump_host="jump@192.0.2.250:2200",
            timeout=20.0,
            trusted_subnets=("10.20.0.0/16",),
            wan_interfaces=("GigabitEthernet0/0",),
            data={"site": "branch", "owner": "noc"},
            line=40,
        ),
        InventoryHost(
            name="br-east-02",
            address="192.0.2.12",  # given as Nornir's 'hostname'
            port=2022,  # pilot-wave is listed first, so it wins over region-east's chain
            groups=("pilot-wave", "region-east", "branches", "cme"),
            tags=("cme12", "east-2", "pilot", "fleet"),
            username="audit",
            enable_secret_env="CME_ENABLE",
            keyring=KeyringEntry("cmelive-pilot", "audit"),  # the group's keyring beats defaults' password_env
            jump_host="jump@192.0.2.250:2200",
            timeout=20.0,
            trusted_subnets=(),  # an empty override is an override
            wan_interfaces=("GigabitEthernet0/0",),
            data={"site": "branch", "owner": "noc"},
            line=44,
        ),
        InventoryHost(
            name="br-west-01",
            address="198.51.100.21",
            port=22,  # the host's own value wins
            groups=("region-east", "branches", "cme", "pilot-wave"),
            tags=("cme12", "pilot", "fleet"),
            username="west",
            password_env="WEST_PASSWORD",  # the host's password_env beats the group's keyring
            enable_secret_env="CME_ENABLE",
            jump_host="jump@192.0.2.250:2200",
            timeout=20.0,
            trusted_subnets=("10.20.0.0/16",),
            wan_interfaces=("GigabitEthernet0/0",),
            data={"site": "west", "owner": "noc"},
            line=50,
        ),
        InventoryHost(
            name="lab-01",
            address="10.0.0.5",
            port=22,
            groups=(),  # a YAML merge of the lab group's settings is not membership
            tags=("fleet",),
            username="audit",
            password_env="FLEET_PASSWORD",
            key_file=INVENTORIES.absolute() / "keys" / "lab_ed25519",  # relative to the inventory file
            ssh_config=Path("/etc/cmelive/ssh_config"),
            timeout=7.5,
            data={"owner": "noc", "site": "unknown"},
            line=59,
        ),
    ]


def test_nornir_groups_list_parents_and_every_member_host() -> None:
    inventory = load_inventory(INVENTORIES / "nornir.yaml")
    assert inventory.groups == {
        "branches": InventoryGroup("branches", ("cme",), ("br-east-01", "br-east-02", "br-west-01"), 12),
        "cme": InventoryGroup("cme", (), ("br-east-01", "br-east-02", "br-west-01"), 19),
        "region-east": InventoryGroup("region-east", ("branches",), ("br-east-01", "br-east-02", "br-west-01"), 24),
        "pilot-wave": InventoryGroup("pilot-wave", (), ("br-east-02", "br-west-01"), 29),
        "lab": InventoryGroup("lab", (), (), 35),
    }


def test_nornir_defaults_never_shadow_a_later_group(tmp_path: Path) -> None:
    # Nornir itself would return defaults' port here (it consults a group's chain including the
    # defaults before the next group); we consult the defaults only after every group.
    path = write(
        tmp_path,
        "defaults: {port: 22}\n"
        "groups:\n  first: {username: one}\n  second: {port: 2222, username: two}\n"
        "hosts:\n  r1: {address: 192.0.2.1, groups: [first, second]}\n",
    )
    (host,) = load_inventory(path).hosts
    assert (host.port, host.username, host.groups) == (2222, "one", ("first", "second"))


def test_nornir_host_in_no_group_gets_defaults_and_port_22(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts:\n  r1:\n    address: 2001:db8::1\n")
    assert load_inventory(path).hosts == [InventoryHost(name="r1", address="2001:db8::1", line=2)]


def test_nornir_address_may_come_from_a_group(tmp_path: Path) -> None:
    # Nornir allows it; useful when several "hosts" are ports of one console server.
    path = write(
        tmp_path,
        "groups:\n  console: {address: 192.0.2.9}\n"
        "hosts:\n  line-1: {groups: [console], port: 2001}\n  line-2: {groups: [console], port: 2002}\n",
    )
    hosts = load_inventory(path).hosts
    assert [(h.name, h.address, h.port) for h in hosts] == [
        ("line-1", "192.0.2.9", 2001),
        ("line-2", "192.0.2.9", 2002),
    ]


# --------------------------------------------------------------------------------------------------
# Ansible YAML inventory


def test_ansible_hosts_resolve_all_then_depth_then_priority_then_host() -> None:
    inventory = load_inventory(INVENTORIES / "ansible.yaml")
    assert inventory.format == "ansible"
    assert inventory.hosts == [
        InventoryHost(
            name="standalone.example.net",
            address="standalone.example.net",  # no ansible_host: reached by its name, as in Ansible
            port=22,
            tags=("fleet",),
            username="audit",
            password_env="FLEET_PASSWORD",
            line=10,
        ),
        InventoryHost(
            name="br-east-01",
            address="192.0.2.11",
            port=2201,  # east (depth 2) beats branches (depth 1) beats all
            groups=("east", "branches"),
            tags=("east", "fleet"),
            username="audit",
            password_env="FLEET_PASSWORD",  # the vault-encrypted ansible_password is left alone
            timeout=20.0,
            trusted_subnets=("10.20.0.0/16",),
            wan_interfaces=("GigabitEthernet0/0",),
            line=24,
        ),
        InventoryHost(
            name="br-both-01",
            address="192.0.2.13",
            port=2202,  # east and west are siblings at depth 2: the later name (west) wins, and
            # depth beats pilot's ansible_group_priority 10 (priority only orders siblings)
            groups=("west", "east", "pilot", "branches"),
            tags=("east", "pilot", "fleet"),
            username="audit",
            keyring=KeyringEntry("cmelive-pilot", "pilot-audit"),
            jump_host="jump@198.51.100.250",
            timeout=20.0,
            trusted_subnets=("10.20.0.0/16",),
            wan_interfaces=("GigabitEthernet0/0",),
            line=29,
        ),
        InventoryHost(
            name="br-west-01",
            address="198.51.100.21",
            port=22,  # host variables win
            groups=("west", "branches"),
            tags=("fleet",),
            username="audit",
            password_env="FLEET_PASSWORD",
            enable_secret_env="WEST_ENABLE",
            key_file=INVENTORIES.absolute() / "keys" / "west",
            jump_host="jump@198.51.100.250",
            timeout=20.0,
            wan_interfaces=("GigabitEthernet0/0",),
            data={"site": "west"},
            line=36,
        ),
    ]
    assert inventory.groups == {
        "branches": InventoryGroup("branches", (), ("br-east-01", "br-both-01", "br-west-01"), 12),
        "east": InventoryGroup("east", ("branches",), ("br-east-01", "br-both-01"), 18),
        "west": InventoryGroup("west", ("branches",), ("br-both-01", "br-west-01"), 31),
        "pilot": InventoryGroup("pilot", (), ("br-both-01",), 44),
    }


def test_ansible_sibling_groups_merge_by_priority_then_name(tmp_path: Path) -> None:
    text = (
        "all:\n  children:\n"
        "    alpha:\n      vars: {{ansible_port: 2001{priority}}}\n      hosts: {{r1: {{ansible_host: 192.0.2.1}}}}\n"
        "    zeta:\n      vars: {{ansible_port: 2026}}\n      hosts: {{r1: }}\n"
    )
    (by_name,) = load_inventory(write(tmp_path, text.format(priority=""))).hosts
    assert (by_name.port, by_name.groups) == (2026, ("zeta", "alpha"))
    (by_priority,) = load_inventory(write(tmp_path, text.format(priority=", ansible_group_priority: 5"))).hosts
    assert (by_priority.port, by_priority.groups) == (2001, ("alpha", "zeta"))


def test_ansible_top_level_groups_besides_all_are_children_of_all(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "all:\n  vars: {ansible_user: audit}\n"
        "east:\n  hosts: {r1: {ansible_host: 192.0.2.1}}\n",
    )
    inventory = load_inventory(path)
    assert [(h.name, h.username, h.groups) for h in inventory.hosts] == [("r1", "audit", ("east",))]
    assert inventory.groups == {"east": InventoryGroup("east", (), ("r1",), 3)}


def test_ansible_same_host_in_two_places_with_agreeing_vars(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "all:\n  children:\n"
        "    east: {hosts: {r1: {ansible_host: 192.0.2.1, cmelive_tags: [a]}}}\n"
        "    pilot: {hosts: {r1: {ansible_host: 192.0.2.1, ansible_port: 2222}}}\n",
    )
    (host,) = load_inventory(path).hosts
    assert (host.address, host.port, host.tags, host.groups) == ("192.0.2.1", 2222, ("a",), ("pilot", "east"))


# --------------------------------------------------------------------------------------------------
# Validation: exact file:line: message


BAD_CASES = [
    ("yaml_syntax.yaml", 4, "invalid YAML: expected <block end>, but found '<block mapping start>' (column 4)"),
    (
        "unknown_key.yaml",
        3,
        "host 'br-01': unknown key 'adress' (allowed: address, command_deadline, data, enable_secret_env, groups, "
        "hostname, jump_host, key_file, keyring, known_hosts, max_output, password_env, port, session_deadline, "
        "ssh_config, tags, timeout, trusted_subnets, username, wan_interfaces)",
    ),
    (
        "unknown_top_key.yaml",
        3,
        "unknown top-level key 'host' (allowed: defaults, groups, hosts; an Ansible inventory starts with 'all:')",
    ),
    ("duplicate_host.yaml", 6, "hosts: duplicate host 'br-01' (first at line 2)"),
    ("duplicate_group.yaml", 4, "groups: duplicate group 'east' (first at line 2)"),
    ("duplicate_key.yaml", 5, "host 'br-01': duplicate key 'port' (first at line 4)"),
    (
        "missing_address.yaml",
        6,
        "host 'br-02': no address: set address (or hostname) on the host, one of its groups or defaults",
    ),
    ("port_range.yaml", 4, "host 'br-01': port must be a whole number from 1 to 65535, not 70000"),
    ("port_string.yaml", 3, "group 'east': port must be a whole number from 1 to 65535, not a string"),
    ("unknown_group_host.yaml", 9, "host 'br-01': unknown group 'esat' (groups: east, west)"),
    ("unknown_group_group.yaml", 3, "group 'east': unknown group 'branches' (groups: east)"),
    ("group_cycle.yaml", 7, "group 'c': group cycle: a -> b -> c -> a"),
    (
        "plain_password.yaml",
        5,
        "host 'br-01': password holds a secret in the file: credentials by reference only: use password_env "
        "(the name of an environment variable)",
    ),
    (
        "plain_secret.yaml",
        2,
        "defaults: enable_secret holds a secret in the file: credentials by reference only: use "
        "enable_secret_env (the name of an environment variable)",
    ),
    (
        "plain_password_in_data.yaml",
        6,
        "host 'br-01': data.snmp.password holds a secret in the file: credentials by reference only: use "
        "password_env (the name of an environment variable)",
    ),
    ("groups_string.yaml", 6, "host 'br-01': groups must be a list of group names, not a string"),
    ("address_list.yaml", 3, "host 'br-01': address must be a string, not a list"),
    ("username_number.yaml", 4, "host 'br-01': username must be a string, not a number (quote it)"),
    ("address_and_hostname.yaml", 4, "host 'br-01': hostname and address both set the address: give one"),
    (
        "password_env_and_keyring.yaml",
        5,
        "group 'east': password_env and keyring both set the login password: give one",
    ),
    (
        "bad_env_name.yaml",
        4,
        "host 'br-01': password_env must be the name of an environment variable (letters, digits and _, not "
        "starting with a digit); the value is not shown in case it is a secret",
    ),
    ("bad_subnet.yaml", 6, "host 'br-01': trusted_subnets entry '10.0.0.0/33' is not an IP network"),
    (
        "bad_jump_host.yaml",
        4,
        "host 'br-01': jump_host must be one ProxyJump hop, [user@]host[:port] (not a list of hops)",
    ),
    ("bad_timeout.yaml", 2, "defaults: timeout must be a positive number of seconds"),
    ("no_hosts.yaml", 3, "the inventory defines no hosts"),
    (
        "not_mapping.yaml",
        1,
        "expected a mapping (Nornir-style 'hosts' with optional 'defaults' and 'groups', or an Ansible "
        "inventory under 'all'), not a list",
    ),
    (
        "keyring_no_username.yaml",
        5,
        "host 'br-01': the keyring entry needs a username: set keyring.username or the host's username",
    ),
    ("ansible_unknown_group_key.yaml", 4, "group 'east': unknown key 'host' (allowed: children, hosts, vars)"),
    (
        "ansible_unknown_cmelive_var.yaml",
        5,
        "host 'br-01': unknown variable 'cmelive_tag' (cmelive's: cmelive_command_deadline, cmelive_data, "
        "cmelive_enable_secret_env, cmelive_jump_host, cmelive_keyring, cmelive_known_hosts, cmelive_max_output, "
        "cmelive_password_env, cmelive_session_deadline, cmelive_ssh_config, cmelive_tags, "
        "cmelive_timeout, cmelive_trusted_subnets, cmelive_wan_interfaces)",
    ),
    (
        "ansible_plain_password.yaml",
        4,
        "group 'all': ansible_password holds a secret in the file: credentials by reference only: use "
        "cmelive_password_env (the name of an environment variable)",
    ),
    ("ansible_duplicate_host.yaml", 7, "group 'east': duplicate host 'br-01' (first at line 5)"),
    ("ansible_cycle.yaml", 5, "group 'branches': group cycle: east -> branches -> east"),
    ("ansible_bad_port.yaml", 5, "host 'br-01': ansible_port must be a whole number from 1 to 65535, not 0"),
    (
        "ansible_conflict.yaml",
        10,
        "host 'br-01': ansible_host is set twice with different values (first at line 6)",
    ),
    (
        "ansible_template.yaml",
        4,
        "host 'br-01': ansible_host is a Jinja2 template, which cmelive does not evaluate: give the value",
    ),
    ("ansible_hosts_list.yaml", 5, "group 'east': hosts must be a mapping, not a list"),
    (
        "ansible_host_range.yaml",
        3,
        "host 'br-[01:20].example.net': host ranges ([start:end]) are not supported: list each router",
    ),
    ("ansible_no_hosts.yaml", 1, "the inventory defines no hosts"),
]


@pytest.mark.parametrize(("name", "line", "message"), BAD_CASES, ids=[case[0] for case in BAD_CASES])
def test_bad_inventory_names_file_line_and_problem(name: str, line: int, message: str) -> None:
    path = BAD / name
    with pytest.raises(InputError) as caught:
        load_inventory(path)
    assert str(caught.value) == f"{path}:{line}: {message}"
    assert (caught.value.path, caught.value.line, caught.value.problem) == (str(path), line, message)


def test_every_bad_fixture_is_checked() -> None:
    on_disk = {path.name for path in BAD.glob("*.yaml")} - {"empty.yaml"}
    assert on_disk == {case[0] for case in BAD_CASES}


def test_empty_and_missing_files_name_the_file_without_a_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as empty:
        load_inventory(BAD / "empty.yaml")
    assert str(empty.value) == f"{BAD / 'empty.yaml'}: the inventory is empty"
    missing = tmp_path / "nope.yaml"
    with pytest.raises(InputError) as absent:
        load_inventory(missing)
    assert str(absent.value) == f"{missing}: inventory file does not exist"


def test_errors_never_echo_a_secret() -> None:
    for name, secret in [
        ("plain_password.yaml", "hunter2"),
        ("plain_secret.yaml", "cisco123"),
        ("plain_password_in_data.yaml", "public"),
        ("bad_env_name.yaml", "S3cret"),
        ("ansible_plain_password.yaml", "hunter2"),
    ]:
        with pytest.raises(InputError) as caught:
            load_inventory(BAD / name)
        assert secret not in str(caught.value)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("port: true", "host 'r1': port must be a whole number from 1 to 65535, not true/false"),
        ("port: [22]", "host 'r1': port must be a whole number from 1 to 65535, not a list"),
        ("timeout: .nan", "host 'r1': timeout must be a positive number of seconds"),
        ("timeout: '30'", "host 'r1': timeout must be a positive number of seconds"),
        ("tags: pilot", "host 'r1': tags must be a list of tags, not a string"),
        ("tags: [pilot, [x]]", "host 'r1': each entry of tags must be a string, not a list"),
        ("wan_interfaces: Gi0/0", "host 'r1': wan_interfaces must be a list of interface names, not a string"),
        ("data: [a]", "host 'r1': data must be a mapping, not a list"),
        ("keyring: {username: u}", "host 'r1': keyring needs a service (and a username, else the host's username)"),
        ("keyring: {service: s, user: u}", "host 'r1': unknown key 'user' in keyring (allowed: service, username)"),
        ("password_env: [A]", "host 'r1': password_env must be the name of an environment variable, not a list"),
        ("address: ''", "host 'r1': address must not be empty"),
        ("address: 'br 01'", "host 'r1': address must be an IP address or DNS name without spaces"),
    ],
)
def test_wrong_types_are_named(tmp_path: Path, setting: str, message: str) -> None:
    # The setting under test is on line 4, after the address (line 3 when it is the address).
    body = f"    {setting}\n" if setting.startswith("address") else f"    address: 192.0.2.1\n    {setting}\n"
    path = write(tmp_path, "hosts:\n  r1:\n" + body)
    line = 3 if setting.startswith("address") else 4
    with pytest.raises(InputError) as caught:
        load_inventory(path)
    assert str(caught.value) == f"{path}:{line}: {message}"


def test_ansible_templated_or_vaulted_passwords_are_references_not_secrets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "all:\n  vars:\n    ansible_password: '{{ vault_router_password }}'\n"
        "    ansible_become_password: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n      6162\n"
        "  hosts:\n    r1: {ansible_host: 192.0.2.1}\n",
    )
    (host,) = load_inventory(path).hosts
    assert (host.password_env, host.keyring, host.enable_secret_env) == (None, None, None)


def test_duplicate_keys_inside_a_merged_anchor_are_still_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "groups:\n  base: &b\n    port: 22\n    port: 23\n"
        "hosts:\n  r1:\n    <<: *b\n    address: 192.0.2.1\n",
    )
    with pytest.raises(InputError) as caught:
        load_inventory(path)
    assert str(caught.value) == f"{path}:4: group 'base': duplicate key 'port' (first at line 3)"


# --------------------------------------------------------------------------------------------------
# select


@pytest.fixture
def fleet() -> Inventory:
    return load_inventory(INVENTORIES / "nornir.yaml")


def names(hosts: list[InventoryHost]) -> list[str]:
    return [host.name for host in hosts]


def test_select_without_filters_is_every_host_in_file_order(fleet: Inventory) -> None:
    assert names(select(fleet)) == ["br-east-01", "br-east-02", "br-west-01", "lab-01"]


def test_select_or_within_a_kind(fleet: Inventory) -> None:
    assert names(select(fleet, hosts=["lab-01", "br-east-01"])) == ["br-east-01", "lab-01"]
    assert names(select(fleet, tags=["pilot", "fleet"])) == ["br-east-01", "br-east-02", "br-west-01", "lab-01"]
    assert names(select(fleet, groups=["pilot-wave", "lab"])) == ["br-east-02", "br-west-01"]


def test_select_and_across_kinds(fleet: Inventory) -> None:
    assert names(select(fleet, groups=["region-east"], tags=["pilot"])) == ["br-east-02", "br-west-01"]
    assert names(select(fleet, hosts=["br-east-01", "br-west-01"], groups=["pilot-wave"])) == ["br-west-01"]
    assert names(select(fleet, hosts=["lab-01"], tags=["pilot"])) == []


def test_select_by_group_includes_members_of_subgroups(fleet: Inventory) -> None:
    # No host lists 'cme' itself: they are in it through region-east -> branches -> cme.
    assert names(select(fleet, groups=["cme"])) == ["br-east-01", "br-east-02", "br-west-01"]


def test_select_refuses_unknown_names_naming_them(fleet: Inventory) -> None:
    with pytest.raises(UsageError) as caught:
        select(fleet, hosts=["br-east-01", "br-nowhere"], groups=["west", "east"], tags=["pilot", "beta"])
    assert str(caught.value) == (
        "unknown host: br-nowhere; "
        "unknown groups: west, east (groups: branches, cme, lab, pilot-wave, region-east); "
        f"unknown tag: beta (tags in use: cme12, east-2, fleet, pilot) (in {INVENTORIES / 'nornir.yaml'})"
    )


# --------------------------------------------------------------------------------------------------
# Credentials


def host_with(**settings: object) -> InventoryHost:
    return dataclasses.replace(InventoryHost(name="br-01", address="192.0.2.1"), **settings)  # type: ignore[arg-type]


def test_credentials_come_from_the_named_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BR_PASSWORD", "login-pw")
    monkeypatch.setenv("BR_ENABLE", "enable-pw")
    host = host_with(password_env="BR_PASSWORD", enable_secret_env="BR_ENABLE")
    assert resolve_credentials(host) == ("login-pw", "enable-pw")
    assert resolve_credentials(host_with()) == (None, None)


def test_credentials_from_the_fixture_inventory(monkeypatch: pytest.MonkeyPatch, fleet: Inventory) -> None:
    monkeypatch.setenv("FLEET_PASSWORD", "fleet-pw")
    monkeypatch.setenv("WEST_PASSWORD", "west-pw")
    monkeypatch.setenv("CME_ENABLE", "cme-enable")
    by_name = {host.name: host for host in fleet.hosts}
    assert resolve_credentials(by_name["br-east-01"]) == ("fleet-pw", "cme-enable")
    assert resolve_credentials(by_name["br-west-01"]) == ("west-pw", "cme-enable")
    assert resolve_credentials(by_name["lab-01"]) == ("fleet-pw", None)


def test_unset_or_empty_variable_names_host_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BR_PASSWORD", raising=False)
    with pytest.raises(CredentialError) as unset:
        resolve_credentials(host_with(password_env="BR_PASSWORD"))
    assert str(unset.value) == "host 'br-01': environment variable BR_PASSWORD (password_env) is not set"
    monkeypatch.setenv("BR_PASSWORD", "pw")
    monkeypatch.setenv("BR_ENABLE", "")
    with pytest.raises(CredentialError) as empty:
        resolve_credentials(host_with(password_env="BR_PASSWORD", enable_secret_env="BR_ENABLE"))
    assert str(empty.value) == "host 'br-01': environment variable BR_ENABLE (enable_secret_env) is empty"
    assert isinstance(empty.value, UsageError)


def test_keyring_package_missing_is_said_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # makes 'import keyring' raise ImportError
    with pytest.raises(CredentialError) as caught:
        resolve_credentials(host_with(keyring=KeyringEntry("cmelive", "audit")))
    assert str(caught.value) == (
        "host 'br-01': the inventory names a keyring entry (service 'cmelive', user 'audit') for its "
        "password, but the Python package 'keyring' is not installed (pip install keyring)"
    )
    # Worded so that the masked log of a fleet run reads it whole: no word after "password".
    assert mask_text(str(caught.value)) == str(caught.value)


def fake_keyring(entries: dict[tuple[str, str], str], fail: Exception | None = None) -> types.ModuleType:
    """Stands in for the optional third-party package, which the test environment does not install."""
    module = types.ModuleType("keyring")

    def get_password(service: str, username: str) -> str | None:
        if fail is not None:
            raise fail
        return entries.get((service, username))

    module.get_password = get_password  # type: ignore[attr-defined]
    return module


def test_keyring_entry_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", fake_keyring({("cmelive-pilot", "audit"): "from-keyring"}))
    monkeypatch.setenv("CME_ENABLE", "cme-enable")
    host = {h.name: h for h in load_inventory(INVENTORIES / "nornir.yaml").hosts}["br-east-02"]
    assert resolve_credentials(host) == ("from-keyring", "cme-enable")


def test_keyring_missing_entry_or_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    host = host_with(keyring=KeyringEntry("cmelive", "audit"))
    monkeypatch.setitem(sys.modules, "keyring", fake_keyring({}))
    with pytest.raises(CredentialError) as missing:
        resolve_credentials(host)
    assert str(missing.value) == (
        "host 'br-01': the keyring entry (service 'cmelive', user 'audit') does not exist or is empty"
    )
    monkeypatch.setitem(sys.modules, "keyring", fake_keyring({}, fail=RuntimeError("no recommended backend")))
    with pytest.raises(CredentialError) as failed:
        resolve_credentials(host)
    assert str(failed.value) == (
        "host 'br-01': reading the keyring entry (service 'cmelive', user 'audit') failed: no recommended backend"
    )


def test_secrets_are_not_held_by_the_host() -> None:
    fields = {f.name for f in dataclasses.fields(InventoryHost)}
    assert not fields & {"password", "secret", "enable_secret"}


# --------------------------------------------------------------------------------------------------
# Policy overrides and the host object


def test_host_policy_applies_overrides_to_a_copy() -> None:
    base = Policy(trusted_subnets=["10.0.0.0/8"], wan_interfaces=["Dialer0"], min_rsa_bits=4096)
    overridden = host_policy(host_with(trusted_subnets=("10.20.0.0/16",), wan_interfaces=()), base)
    assert (overridden.trusted_subnets, overridden.wan_interfaces, overridden.min_rsa_bits) == (
        ["10.20.0.0/16"],
        [],
        4096,
    )
    assert host_policy(host_with(), base) == base
    assert (base.trusted_subnets, base.wan_interfaces) == (["10.0.0.0/8"], ["Dialer0"])


def test_inventory_host_is_frozen_and_hashable(fleet: Inventory) -> None:
    host = fleet.hosts[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        host.port = 23  # type: ignore[misc]
    assert len({*fleet.hosts, *fleet.hosts}) == len(fleet.hosts)


# --------------------------------------------------------------------------------------------------
# The example file


def test_example_inventory_loads_with_its_documented_hosts() -> None:
    inventory = load_inventory(EXAMPLE)
    summary = [(h.name, h.address, h.port, h.groups, h.tags) for h in inventory.hosts]
    assert summary == [
        ("br-nyc-01", "10.20.1.1", 22, ("region-east", "branches", "cme12"), ("pilot", "cme", "cme12")),
        ("br-bos-01", "10.20.2.1", 22, ("region-east", "branches"), ("cme",)),
        ("br-phl-01", "198.51.100.10", 2222, ("region-east", "branches", "cme12"), ("cme", "cme12")),
        ("br-sfo-01", "10.30.1.1", 22, ("region-west", "branches", "cme12"), ("pilot", "cme", "cme12")),
        ("br-sea-01", "203.0.113.20", 22, ("region-west", "branches"), ("cme",)),
        ("lab-cme-01", "192.0.2.50", 22, ("branches",), ("lab", "cme")),
    ]
    by_name = {host.name: host for host in inventory.hosts}
    assert by_name["br-nyc-01"].jump_host == "audit@bastion-east.example.net:22"
    assert by_name["br-phl-01"].jump_host == "audit@bastion-dmz.example.net"
    assert by_name["br-phl-01"].trusted_subnets == ("10.20.30.0/24", "192.168.30.0/24")
    assert by_name["br-bos-01"].wan_interfaces == ("GigabitEthernet0/0/1", "Cellular0/2/0")
    assert by_name["br-sfo-01"].keyring == KeyringEntry("cmelive-west", "cme-audit-west")
    assert (by_name["br-sfo-01"].password_env, by_name["br-sfo-01"].timeout) == (None, 60.0)
    assert by_name["br-sea-01"].key_file == REPO.absolute() / "keys" / "cme-audit-west"
    assert by_name["lab-cme-01"].password_env == "CME_LAB_PASSWORD"
    assert by_name["lab-cme-01"].ssh_config == REPO.absolute() / "ssh" / "lab_config"
    assert {host.enable_secret_env for host in inventory.hosts} == {"CME_AUDIT_ENABLE"}
    assert names(select(inventory, groups=["region-east"], tags=["pilot"])) == ["br-nyc-01"]


def test_example_inventory_uses_documentation_or_private_addresses_only() -> None:
    documentation = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
    rfc1918 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
    allowed = [ipaddress.IPv4Network(net) for net in (*documentation, *rfc1918)]
    inventory = load_inventory(EXAMPLE)
    for host in inventory.hosts:
        assert any(ipaddress.ip_address(host.address) in net for net in allowed), host.address
        for subnet in host.trusted_subnets or ():
            network = ipaddress.IPv4Network(subnet)
            assert any(network.subnet_of(net) for net in allowed), subnet


def test_example_ansible_section_is_a_valid_ansible_inventory(tmp_path: Path) -> None:
    # The commented Ansible example at the end of the file, uncommented, must load as documented.
    text = EXAMPLE.read_text(encoding="utf-8")
    block = text[text.index("#   all:\n") :]
    path = write(tmp_path, "".join(line[4:] + "\n" for line in block.splitlines()))
    (host,) = load_inventory(path).hosts
    assert (host.name, host.address, host.username, host.password_env, host.groups, host.tags) == (
        "br-nyc-01",
        "10.20.1.1",
        "cme-audit",
        "CME_AUDIT_PASSWORD",
        ("region-east", "branches"),
        ("pilot", "cme"),
    )
    assert (host.jump_host, host.trusted_subnets, host.wan_interfaces) == (
        "audit@bastion-east.example.net:22",
        ("10.20.0.0/16",),
        ("GigabitEthernet0/0/0",),
    )
