"""The fake fleet: many fake routers from one process, its inventory, known_hosts and faults file.

Over real SSH on 127.0.0.1: twenty routers audited concurrently by NetmikoCollector through the
inventory the fleet wrote; the client-side faults (down, unknown or changed host key); and
``cmelive fake-fleet`` as a subprocess. Every wait is bounded (socket and collector timeouts,
subprocess timeouts).
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import paramiko
import pytest

from cmelive.collect import Target
from cmelive.collect.live import NetmikoCollector
from cmelive.commands import AUDIT_COMMANDS, RUNNING_CONFIG, SHOW_VERSION, CommandStatus
from cmelive.errors import AuthenticationError, ConnectError, HostKeyError, InputError
from cmelive.examples import EXAMPLES, example_dir
from cmelive.fake.faults import Faults
from cmelive.fake.fleet import (
    FakeFleet,
    FakeRouterError,
    FakeRouterSpec,
    RouterFaults,
    apply_faults,
    load_faults_file,
)
from cmelive.inventory import InventoryHost, load_inventory, resolve_credentials
from cmelive.snapshot import Snapshot, read_snapshot

PASSWORD_ENV = "FLEET_TEST_PASSWORD"
SECRET_ENV = "FLEET_TEST_SECRET"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture(scope="module")
def snapshots() -> dict[str, Snapshot]:
    return {name: read_snapshot(example_dir(name)) for name in EXAMPLES}


@pytest.fixture(scope="module")
def host_key() -> paramiko.PKey:
    return paramiko.RSAKey.generate(1024)


def target_for(host: InventoryHost, known_hosts: Path, timeout: float = 10.0) -> Target:
    password, secret = resolve_credentials(host)
    return Target(
        host.address, host.port, host.username, password, secret, known_hosts=(known_hosts,), timeout=timeout, name=host.name
    )


# ---------------------------------------------------------------------------------------------
# Twenty routers, one process, one inventory


@pytest.fixture(scope="module")
def twenty(snapshots: dict[str, Snapshot], host_key: paramiko.PKey) -> Iterator[FakeFleet]:
    specs = [
        FakeRouterSpec(
            f"branch-{index:02d}",
            snapshots[EXAMPLES[index % len(EXAMPLES)]],
            groups=("branches", "east" if index < 10 else "west"),
            tags=("pilot",) if index % 5 == 0 else (),
            username="auditor",
            password="fleet-pw",
            enable_secret="fleet-en",
        )
        for index in range(20)
    ]
    with FakeFleet(specs, host_key=host_key) as fleet:
        yield fleet


def test_inventory_and_known_hosts_match_the_fleet(twenty: FakeFleet, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    path = twenty.write_inventory(
        tmp_path / "inventory.yaml", password_env=PASSWORD_ENV, enable_secret_env=SECRET_ENV, known_hosts=known_hosts
    )
    inventory = load_inventory(path)
    assert [host.name for host in inventory.hosts] == [f"branch-{index:02d}" for index in range(20)]
    assert sorted(inventory.groups) == ["branches", "east", "west"]
    assert inventory.groups["east"].hosts == tuple(f"branch-{index:02d}" for index in range(10))
    ports = twenty.ports
    assert len(set(ports.values())) == 20
    for host in inventory.hosts:
        spec = twenty.specs[host.name]
        assert (host.address, host.port, host.username) == ("127.0.0.1", ports[host.name], "auditor")
        assert (host.password_env, host.enable_secret_env) == (PASSWORD_ENV, SECRET_ENV)
        assert host.groups == spec.groups and host.tags == spec.tags
        assert host.data == {}  # healthy: no fake_faults
    text = path.read_text()
    assert "fleet-pw" not in text and "fleet-en" not in text  # credentials by reference only
    lines = known_hosts.read_text().splitlines()
    assert lines == [twenty.routers[name].known_hosts_line() for name in twenty.specs]
    # One shared host key, one entry per port.
    assert {line.split()[2] for line in lines} == {twenty.host_key.get_base64()}
    assert {router.host_key for router in twenty.routers.values()} == {twenty.host_key}


def test_twenty_routers_audited_concurrently(
    twenty: FakeFleet, snapshots: dict[str, Snapshot], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    known_hosts = tmp_path / "known_hosts"
    inventory = load_inventory(
        twenty.write_inventory(
            tmp_path / "inventory.yaml", password_env=PASSWORD_ENV, enable_secret_env=SECRET_ENV, known_hosts=known_hosts
        )
    )
    for variable, value in twenty.environment(password_env=PASSWORD_ENV, enable_secret_env=SECRET_ENV).items():
        monkeypatch.setenv(variable, value)
    sessions_before = {name: router.sessions for name, router in twenty.routers.items()}

    def audit(host: InventoryHost) -> Snapshot:
        return NetmikoCollector().collect(target_for(host, known_hosts), AUDIT_COMMANDS)

    with ThreadPoolExecutor(max_workers=20) as pool:
        collected = dict(zip([host.name for host in inventory.hosts], pool.map(audit, inventory.hosts), strict=True))

    for index, (name, snapshot) in enumerate(collected.items()):
        source = snapshots[EXAMPLES[index % len(EXAMPLES)]]
        assert snapshot.hostname == source.hostname, name
        for command in AUDIT_COMMANDS:
            got, want = snapshot.outputs[command], source.outputs[command]
            # What the router had is served as it was; what it rejected, it rejects again.
            assert got.status == want.status, (name, command)
            if want.usable:
                assert got.text == want.text, (name, command)
        assert twenty.routers[name].sessions == sessions_before[name] + 1


def test_environment_needs_shared_credentials(snapshots: dict[str, Snapshot], host_key: paramiko.PKey) -> None:
    snapshot = snapshots["secure-cme"]
    fleet = FakeFleet(
        [FakeRouterSpec("a", snapshot, password="one"), FakeRouterSpec("b", snapshot, password="two")],
        host_key=host_key,
    )
    with pytest.raises(ValueError, match="do not share one password"):
        fleet.environment(password_env=PASSWORD_ENV, enable_secret_env=SECRET_ENV)
    same = FakeFleet([FakeRouterSpec("a", snapshot), FakeRouterSpec("b", snapshot)], host_key=host_key)
    assert same.environment(password_env="P", enable_secret_env="S") == {"P": "cisco", "S": "cisco-enable"}


def test_fleet_refuses_bad_specs(snapshots: dict[str, Snapshot], host_key: paramiko.PKey, tmp_path: Path) -> None:
    snapshot = snapshots["secure-cme"]
    with pytest.raises(ValueError, match="names must be unique: a"):
        FakeFleet([FakeRouterSpec("a", snapshot), FakeRouterSpec("a", snapshot)], host_key=host_key)
    with pytest.raises(FakeRouterError, match="^b: hang_on: 'show bogus' is not a show command") as raised:
        FakeFleet(
            [FakeRouterSpec("a", snapshot), FakeRouterSpec("b", snapshot, faults=Faults(hang_on=("show bogus",)))],
            host_key=host_key,
        )
    assert raised.value.name == "b"
    with pytest.raises(InputError, match="snapshot directory does not exist"):
        FakeFleet([FakeRouterSpec("a", tmp_path / "missing")], host_key=host_key)
    with pytest.raises(ValueError, match="known_host must be one of match, missing, changed"):
        FakeRouterSpec("a", snapshot, known_host="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="groups must be a list"):
        FakeRouterSpec("a", snapshot, groups="east")  # type: ignore[arg-type]


def test_a_port_in_use_stops_what_was_started(snapshots: dict[str, Snapshot], host_key: paramiko.PKey) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        fleet = FakeFleet(
            [FakeRouterSpec("a", snapshots["secure-cme"]), FakeRouterSpec("b", snapshots["plain-ios"], port=busy)],
            host_key=host_key,
        )
        with pytest.raises(OSError):
            fleet.start()
    first = fleet.routers["a"]  # started before "b" failed, then stopped again
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", first.port), timeout=2):
        pass


# ---------------------------------------------------------------------------------------------
# Faults across the fleet, as the collector reports them


def test_client_side_and_router_faults(
    snapshots: dict[str, Snapshot], host_key: paramiko.PKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = snapshots["secure-cme"]
    specs = [
        FakeRouterSpec("healthy", snapshot),
        FakeRouterSpec("down", snapshot, down=True),
        FakeRouterSpec("unknown-key", snapshot, known_host="missing"),
        FakeRouterSpec("changed-key", snapshot, known_host="changed"),
        FakeRouterSpec("no-login", snapshot, faults=Faults(fail_auth=True)),
        FakeRouterSpec("dropper", snapshot, faults=Faults(drop_on=("sh run",))),
    ]
    known_hosts = tmp_path / "known_hosts"
    with FakeFleet(specs, host_key=host_key) as fleet:
        inventory = load_inventory(
            fleet.write_inventory(
                tmp_path / "inventory.yaml", password_env=PASSWORD_ENV, enable_secret_env=SECRET_ENV, known_hosts=known_hosts
            )
        )
        for variable, value in fleet.environment(password_env=PASSWORD_ENV, enable_secret_env=SECRET_ENV).items():
            monkeypatch.setenv(variable, value)
        hosts = {host.name: host for host in inventory.hosts}
        assert hosts["down"].data == {"fake_faults": {"down": True}}
        assert hosts["changed-key"].data == {"fake_faults": {"known_host": "changed"}}
        # The inventory names the commands in full, as the router resolved them.
        assert hosts["dropper"].data == {"fake_faults": {"drop_on": [RUNNING_CONFIG]}}
        assert "down" not in fleet.routers and hosts["down"].port == fleet.port("down")
        assert len(known_hosts.read_text().splitlines()) == 4  # healthy, changed-key, no-login, dropper

        def collect(name: str) -> Snapshot:
            return NetmikoCollector().collect(target_for(hosts[name], known_hosts, timeout=5), AUDIT_COMMANDS)

        assert collect("healthy").outputs[RUNNING_CONFIG].status == CommandStatus.OK
        with pytest.raises(ConnectError, match="connection refused"):
            collect("down")
        with pytest.raises(HostKeyError) as unknown:
            collect("unknown-key")
        with pytest.raises(HostKeyError) as changed:
            collect("changed-key")
        assert str(unknown.value) != str(changed.value)  # told apart: unknown vs changed
        with pytest.raises(AuthenticationError, match="authentication failed"):
            collect("no-login")
        dropped = collect("dropper")
        assert dropped.outputs[SHOW_VERSION].status == CommandStatus.OK
        error = dropped.outputs[RUNNING_CONFIG].error
        assert error is not None and error.startswith("connection lost")
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", hosts["healthy"].port), timeout=2):
        pass  # stopped: the ports are free again


# ---------------------------------------------------------------------------------------------
# The faults file


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


NAMES = ["branch-01", "branch-02", "branch-03", "branch-04"]


def test_faults_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "faults.yaml",
        "branch-01: {delay_ms: 200, hang_on: ['show running-config']}\n"
        "branch-02:\n"
        "  fail_enable: true\n"
        "  drop_on: show version\n"
        "branch-03: {down: true, known_host: changed}\n"
        "branch-04:\n",
    )
    base = Faults(delay_ms=50)
    found = load_faults_file(path, NAMES, base)
    assert found == {
        "branch-01": RouterFaults(Faults(delay_ms=200, hang_on=("show running-config",)), line=1),
        "branch-02": RouterFaults(Faults(delay_ms=50, fail_enable=True, drop_on=("show version",)), line=2),
        "branch-03": RouterFaults(Faults(delay_ms=50), down=True, known_host="changed", line=5),
        "branch-04": RouterFaults(Faults(delay_ms=50), line=6),
    }
    specs = apply_faults([FakeRouterSpec(name, tmp_path) for name in NAMES], found)
    assert specs[2].down and specs[2].known_host == "changed"
    assert specs[1].fault_options() == {"fail_enable": True, "delay_ms": 50, "drop_on": ["show version"]}
    assert load_faults_file(write(tmp_path / "empty.yaml", "# nothing\n"), NAMES) == {}


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("branch-09: {fail_auth: true}\n", 1, "no router named 'branch-09' in the fleet"),
        ("branch-01:\n  fail_auth: yes-please\n", 2, "branch-01: fail_auth must be true or false"),
        ("branch-01:\n  delay: 5\n", 2, "branch-01: unknown fault option 'delay'"),
        ("branch-01: {delay_ms: -5}\n", 1, "delay_ms must be a whole number of milliseconds"),
        ("branch-01: {hang_on: []}\n", 1, "hang_on must be a show command or a list of them"),
        ("branch-01: {hang_on: [show version], drop_on: show version}\n", 1, "cannot both hang and drop"),
        ("branch-01: {known_host: lost}\n", 1, "known_host must be one of match, missing, changed"),
        ("branch-01: {}\nbranch-01: {}\n", 2, "router 'branch-01' is listed twice (first at line 1)"),
        ("branch-01: [fail_auth]\n", 1, "expected a mapping of fault options"),
        ("- branch-01\n", 1, "expected a mapping of router names"),
        ("branch-01: {fail_auth: true\n", 2, "invalid YAML"),
    ],
)
def test_faults_file_errors_name_file_and_line(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = write(tmp_path / "faults.yaml", text)
    with pytest.raises(InputError) as raised:
        load_faults_file(path, NAMES)
    assert raised.value.line == line
    assert str(raised.value).startswith(f"{path}:{line}: ")
    assert problem in str(raised.value)


def test_faults_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="faults file does not exist"):
        load_faults_file(tmp_path / "nope.yaml", NAMES)


# ---------------------------------------------------------------------------------------------
# cmelive fake-fleet


def snapshots_dir(tmp_path: Path) -> Path:
    root = tmp_path / "snapshots"
    root.mkdir()
    for name in ("br-east", "br-plain", "br-west"):
        source = {"br-east": "secure-cme", "br-plain": "plain-ios", "br-west": "insecure-cme"}[name]
        shutil.copytree(example_dir(source), root / name)
    return root


def fake_fleet(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cmelive", "fake-fleet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports (checked by binding them all)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + count > 65535:
            continue
        sockets = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free port range")


def read_announcement(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("serving until Ctrl-C"):
            break
    return lines


def test_cli_serves_writes_inventory_and_stops_on_sigint(tmp_path: Path) -> None:
    root = snapshots_dir(tmp_path)
    faults = write(tmp_path / "faults.yaml", "br-plain: {no_cme: true, delay_ms: 5}\n")
    inventory_path = tmp_path / "out" / "fleet.yaml"
    inventory_path.parent.mkdir()
    base = free_ports(3)
    proc = fake_fleet(
        str(root), "--base-port", str(base), "--inventory-out", str(inventory_path), "--faults-file", str(faults),
        "--password", "cli-pw", "--enable-secret", "cli-en",
    )  # fmt: skip
    try:
        lines = read_announcement(proc)
        assert lines[0].startswith("fake fleet: 3 routers on 127.0.0.1, one host key (SHA256:")
        assert re.fullmatch(rf"br-east \s+127\.0\.0\.1:{base}\s+cme-branch-secure", lines[1]), lines[1]
        assert re.fullmatch(rf"br-plain\s+127\.0\.0\.1:{base + 1}\s+rtr-branch-plain  faults: no-cme, delay-ms=5", lines[2])
        assert re.fullmatch(rf"br-west \s+127\.0\.0\.1:{base + 2}\s+cme-branch-legacy", lines[3]), lines[3]
        known_hosts = tmp_path / "out" / "fleet.known_hosts"
        assert lines[4:] == [
            f"inventory: {inventory_path}",
            f"known hosts: {known_hosts}",
            "set CMELIVE_FLEET_PASSWORD and CMELIVE_FLEET_ENABLE_SECRET to the fleet's --password and --enable-secret",
            "serving until Ctrl-C",
        ]
        inventory = load_inventory(inventory_path)
        assert [(host.name, host.port) for host in inventory.hosts] == [
            ("br-east", base),
            ("br-plain", base + 1),
            ("br-west", base + 2),
        ]
        assert inventory.hosts[1].password_env == "CMELIVE_FLEET_PASSWORD"
        assert inventory.hosts[1].enable_secret_env == "CMELIVE_FLEET_ENABLE_SECRET"
        # Connect to one router, trusting only the known_hosts file the fleet wrote.
        with paramiko.SSHClient() as client:
            client.load_host_keys(str(known_hosts))
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            client.connect("127.0.0.1", base + 1, "admin", "cli-pw", allow_agent=False, look_for_keys=False, timeout=10)
            _, stdout, _ = client.exec_command("show telephony-service")
            stdout.channel.settimeout(10)
            assert "% Invalid input detected" in stdout.read().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert stderr == ""


def test_cli_bad_snapshots_dir_exits_2_with_one_line(tmp_path: Path) -> None:
    proc = fake_fleet(str(tmp_path / "nope"))
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert stdout == ""
    assert stderr.splitlines() == [f"cmelive: error: {tmp_path / 'nope'}: snapshots directory does not exist"]

    (tmp_path / "empty").mkdir()
    proc = fake_fleet(str(tmp_path / "empty"))
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert stderr.splitlines() == [
        f"cmelive: error: {tmp_path / 'empty'}: no snapshot directories in it (expected one directory per router)"
    ]


def test_cli_faults_file_error_names_file_and_line(tmp_path: Path) -> None:
    root = snapshots_dir(tmp_path)
    faults = write(tmp_path / "faults.yaml", "br-east: {delay_ms: 1}\nbr-plain:\n  hang_on: show telephony-service\n  no_cme: true\n")
    proc = fake_fleet(str(root), "--faults-file", str(faults))
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert stdout == ""
    assert stderr.splitlines() == [
        (
            f"cmelive: error: {faults}:2: br-plain: hang_on: 'show telephony-service' is not a show command this "
            "router serves (with no_cme it serves no CME command)"
        )
    ]
