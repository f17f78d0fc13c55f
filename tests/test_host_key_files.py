"""Host keys you can live with: fakes keep their key across restarts; inventories name known_hosts.

- ``cmelive fake-router --host-key FILE`` (and ``fake-fleet --host-key FILE``) create FILE (0600)
  on first use and reuse it after: a restarted fake has the same fingerprint, so a client's
  known_hosts entry still matches. A file that is no usable key is refused in one line.
- An inventory's ``known_hosts`` (host, group or defaults; relative to the inventory) reaches the
  collector; ``cmelive fake-fleet --inventory-out`` names its known_hosts file there, so a first
  ``cmelive fleet`` run verifies every router with no ``--known-hosts`` and no ``--accept-new-host-key``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import paramiko
import pytest

from cmelive.errors import InputError
from cmelive.examples import example_dir
from cmelive.fake.hostkey import load_or_create_host_key
from cmelive.fleet import run_fleet
from cmelive.inventory import load_inventory
from cmelive.policy import Policy

from .livefake import cli

SNAPSHOT = example_dir("secure-cme")


# -- the key file ------------------------------------------------------------------------------------------


def test_key_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "router.key"
    created = load_or_create_host_key(path, bits=1024)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    again = load_or_create_host_key(path, bits=1024)
    assert again.fingerprint == created.fingerprint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["router.key"], "no scratch file left behind"


def test_two_fakes_created_at_once_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / "shared.key"
    keys: list[paramiko.PKey] = []
    threads = [threading.Thread(target=lambda: keys.append(load_or_create_host_key(path, bits=1024))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({key.fingerprint for key in keys}) == 1
    assert load_or_create_host_key(path).fingerprint == keys[0].fingerprint


def test_an_existing_ecdsa_key_is_used_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "ecdsa.key"
    key = paramiko.ECDSAKey.generate()
    key.write_private_key_file(str(path))
    assert load_or_create_host_key(path).fingerprint == key.fingerprint


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("\n\nnot a key at all\n", 3, "not an SSH private key: expected a '-----BEGIN ... PRIVATE KEY-----' line"),
        ("ssh-rsa AAAAB3NzaC1yc2E= user@host\n", 1, "not an SSH private key"),
        ("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", 1, "unreadable private key"),
        ("", None, "empty file: not a host key"),
    ],
    ids=["garbage", "public-key", "broken-pem", "empty"],
)
def test_a_bad_key_file_is_refused_with_file_and_line(
    tmp_path: Path, content: str, line: int | None, problem: str
) -> None:
    path = tmp_path / "bad.key"
    path.write_text(content)
    with pytest.raises(InputError) as caught:
        load_or_create_host_key(path)
    assert (caught.value.path, caught.value.line) == (str(path), line)
    assert problem in caught.value.problem
    assert path.read_text() == content, "a bad file is never overwritten"


def test_an_encrypted_key_or_a_directory_is_refused(tmp_path: Path) -> None:
    encrypted = tmp_path / "enc.key"
    paramiko.RSAKey.generate(1024).write_private_key_file(str(encrypted), password="pw")
    with pytest.raises(InputError, match=r"enc\.key:1: the key is encrypted"):
        load_or_create_host_key(encrypted)
    with pytest.raises(InputError, match="is a directory"):
        load_or_create_host_key(tmp_path)


# -- cmelive fake-router --host-key --------------------------------------------------------------------------


def start_fake_router(*args: str) -> tuple[subprocess.Popen[str], int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmelive", "fake-router", str(SNAPSHOT), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )
    assert proc.stdout is not None
    banner = proc.stdout.readline()
    found = re.search(r"listening on 127\.0\.0\.1:(\d+)", banner)
    if found is None:
        proc.kill()
        raise AssertionError(banner + proc.communicate()[1])
    return proc, int(found.group(1)), proc.stdout.readline().strip()


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    return stderr


def test_restarted_fake_router_keeps_its_key_and_an_audit_still_trusts_it(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "r1.key"
    key_file.parent.mkdir()
    first, port, first_line = start_fake_router("--host-key", str(key_file), "--password", "pw", "--enable-secret", "en")
    stop(first)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(first_line + "\n")
    second, second_port, second_line = start_fake_router(
        "--host-key", str(key_file), "--port", str(port), "--password", "pw", "--enable-secret", "en"
    )
    try:
        assert second_port == port
        assert second_line == first_line  # same key: same known_hosts entry, same fingerprint
        audit = cli(
            "audit", "127.0.0.1", "--port", str(port), "-u", "admin", "--known-hosts", str(known_hosts),
            "--format", "json", env={"CMELIVE_PASSWORD": "pw", "CMELIVE_ENABLE_SECRET": "en"},
        )
    finally:
        stop(second)
    assert audit.returncode == 0, audit.stderr
    assert json.loads(audit.stdout)["devices"][0]["audited"] is True


def test_without_host_key_a_restart_draws_a_new_key() -> None:
    first, _, first_line = start_fake_router()
    stop(first)
    second, _, second_line = start_fake_router()
    stop(second)
    assert first_line.split()[2] != second_line.split()[2]


def test_fake_router_refuses_a_bad_key_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("hello\n")
    proc = subprocess.run(
        [sys.executable, "-m", "cmelive", "fake-router", str(SNAPSHOT), "--host-key", str(bad)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"cmelive: error: {bad}:1: not an SSH private key: expected a '-----BEGIN ... PRIVATE KEY-----' line "
        "(delete the file to have a key created)"
    ]


# -- the inventory's known_hosts -------------------------------------------------------------------------------


def test_inventory_known_hosts_resolves_per_host_group_and_defaults(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    inventory = tmp_path / "site" / "inventory.yaml"
    inventory.write_text(
        "defaults:\n"
        "  known_hosts: known_hosts\n"
        "groups:\n"
        "  dmz:\n"
        "    known_hosts: ~/dmz_known_hosts\n"
        "hosts:\n"
        "  a: {address: 127.0.0.2}\n"
        "  b: {address: 127.0.0.3, groups: [dmz]}\n"
        "  c: {address: 127.0.0.4, groups: [dmz], known_hosts: /etc/ssh/ssh_known_hosts}\n"
    )
    hosts = {host.name: host.known_hosts for host in load_inventory(inventory).hosts}
    assert hosts == {
        "a": (tmp_path / "site" / "known_hosts").absolute(),
        "b": Path("~/dmz_known_hosts").expanduser(),
        "c": Path("/etc/ssh/ssh_known_hosts"),
    }


def test_ansible_inventory_known_hosts(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  vars:\n    cmelive_known_hosts: keys/known_hosts\n  hosts:\n    r1:\n      ansible_host: 127.0.0.2\n")
    (host,) = load_inventory(inventory).hosts
    assert host.known_hosts == tmp_path.absolute() / "keys" / "known_hosts"


@pytest.mark.parametrize(
    ("value", "problem"),
    [("'.'", "known_hosts names a directory, not a known_hosts file"), ("[a, b]", "known_hosts must be a string")],
)
def test_bad_inventory_known_hosts_names_file_and_line(tmp_path: Path, value: str, problem: str) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(f"hosts:\n  r1:\n    address: 127.0.0.2\n    known_hosts: {value}\n")
    with pytest.raises(InputError) as caught:
        load_inventory(inventory)
    assert str(caught.value).startswith(f"{inventory}:4: host 'r1': {problem}")


def test_the_example_inventory_documents_known_hosts() -> None:
    from .conftest import REPO

    text = (REPO / "inventory.example.yaml").read_text()
    assert "#   known_hosts " in text and "cmelive_known_hosts" in text
    hosts = load_inventory(REPO / "inventory.example.yaml").hosts
    assert {host.known_hosts for host in hosts} == {REPO.absolute() / "known_hosts"}


def test_the_fleet_runner_checks_keys_against_the_inventory_file(tmp_path: Path) -> None:
    """In process: the collector's Target gets the inventory's file after the command line's."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("defaults: {known_hosts: fleet_known_hosts}\nhosts:\n  r1: {address: 127.0.0.2}\n")
    seen: list[tuple[Path, ...]] = []

    class Recording:
        def collect(self, target, commands):  # type: ignore[no-untyped-def]
            seen.append(target.known_hosts)
            from cmelive.errors import ConnectError

            raise ConnectError("not really connecting")

    cli_file = tmp_path / "cli_known_hosts"
    run_fleet(
        load_inventory(inventory).hosts, out_dir=tmp_path / "run", workers=1, judge_processes=0, timeout=1.0,
        retries=0, base_policy=Policy(), history=None, known_hosts=(cli_file,), collector_factory=Recording,
    )
    assert seen == [(cli_file, tmp_path.absolute() / "fleet_known_hosts")]


# -- fake-fleet's inventory: a first fleet run trusts every router -----------------------------------------------


def read_until_serving(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("".join(lines) + proc.communicate()[1])
        lines.append(line.rstrip("\n"))
        if line.startswith("serving until Ctrl-C"):
            return lines
    raise AssertionError(lines)


def test_first_fleet_run_on_a_fake_fleet_inventory_verifies_every_router(tmp_path: Path) -> None:
    snapshots = tmp_path / "snapshots"
    snapshots.mkdir()
    for name in ("br-1", "br-2", "br-3"):
        shutil.copytree(SNAPSHOT, snapshots / name)
    inventory = tmp_path / "fleet" / "fleet.yaml"
    inventory.parent.mkdir()
    key_file = tmp_path / "fleet" / "fleet.key"
    # A fresh HOME: cmelive's own and the user's known_hosts are empty, only the inventory's helps.
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_STATE_HOME": str(home / "state"),
           "CMELIVE_FLEET_PASSWORD": "cisco", "CMELIVE_FLEET_ENABLE_SECRET": "cisco-enable"}
    fingerprints = []
    for run in (1, 2):  # the second fake-fleet is a restart: same key, same known_hosts
        proc = subprocess.Popen(
            [sys.executable, "-m", "cmelive", "fake-fleet", str(snapshots), "--inventory-out", str(inventory),
             "--host-key", str(key_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        )
        try:
            announced = read_until_serving(proc)
            fingerprints.append(re.search(r"one host key \((SHA256:[^)]+)\)", announced[0]).group(1))  # type: ignore[union-attr]
            assert "known_hosts: fleet.known_hosts" in inventory.read_text()  # relative: the pair can move
            assert {h.known_hosts for h in load_inventory(inventory).hosts} == {inventory.parent / "fleet.known_hosts"}
            fleet = cli("fleet", str(inventory), "--out", str(tmp_path / f"run{run}"), "--no-history", "--timeout", "10",
                        env=env)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=30)
        assert fleet.returncode == 0, fleet.stdout + fleet.stderr
        report = json.loads((tmp_path / f"run{run}" / "report.json").read_text())
        assert [(d["name"], d["status"], d["audited"]) for d in report["devices"]] == [
            ("br-1", "ok", True), ("br-2", "ok", True), ("br-3", "ok", True)
        ]
    assert fingerprints[0] == fingerprints[1]
    assert not (home / "state" / "cmelive" / "known_hosts").exists(), "nothing had to be accepted"
    assert os.stat(key_file).st_mode & 0o077 == 0
