"""The live collector against an IOS emulator this project did not write: fakenos, over real SSH.

fakenos (the ``test`` extra pins it) serves its ``cisco_ios`` platform from its own paramiko SSH
server on 127.0.0.1; the outputs of the audit commands come from the bundled example snapshots.
Each variant of :data:`fakenos_emulator.VARIANTS` is one terminal behaviour of the issue's echo
matrix that fakenos can produce with its own settings: echo as the shell reads (one byte per
10 ms), its password-less ``enable`` and a ``Password:`` one, a banner full of ``#``/``>`` lines
and the prompt itself, ``\\r\\r\\n`` line ends, trailing blanks, and ``terminal length 0`` refused.
Every collected output must equal what fakenos served, with the right status, and the shell must
have run exactly the lines the collector means to send.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import paramiko
import pytest
from fakenos import FakeNOS

from cmelive.collect import Target
from cmelive.collect.live import NetmikoCollector
from cmelive.commands import AUDIT_COMMANDS, SHOW_VERSION, CommandStatus
from cmelive.examples import example_dir
from cmelive.snapshot import Snapshot

from .fakenos_emulator import (
    ENABLE_SECRET,
    LOOPBACK_HEX,
    PASSWORD,
    USERNAME,
    VARIANTS,
    ShellLines,
    Variant,
    free_port,
    inventory,
    listening_addresses,
    read_until,
    served,
    wait_until_listening,
)
from .livefake import cli

# Hosts for the whole-audit tests, named as the examples' routers (the report then equals replay's).
AUDITED = {
    "cme-branch-legacy": Variant("audit-insecure", "insecure-cme", enable_secret=True),
    "cme-branch-secure": Variant("audit-secure", "secure-cme", enable_secret=True),
}
INVALID_INPUT = "% Invalid input detected at '^' marker."


@dataclass(frozen=True)
class Emulator:
    ports: dict[str, int]
    known_hosts: Path
    shell: ShellLines

    def target(self, host: str, *, enable_secret: str = ENABLE_SECRET, timeout: float = 15.0) -> Target:
        return Target(
            "127.0.0.1",
            self.ports[host],
            USERNAME,
            PASSWORD,
            enable_secret=enable_secret,
            known_hosts=(self.known_hosts,),
            timeout=timeout,
        )


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    tmp = tmp_path_factory.mktemp("fakenos")
    # Our own host key: fakenos's default one is published in its source.
    host_key = paramiko.RSAKey.generate(2048)
    host_key.write_private_key_file(str(tmp / "host_key"))
    hosts = {variant.name: (variant, free_port()) for variant in VARIANTS}
    hosts.update({name: (variant, free_port()) for name, variant in AUDITED.items()})
    ports = {name: port for name, (_, port) in hosts.items()}
    known_hosts = tmp / "known_hosts"
    known_hosts.write_text(
        "".join(f"[127.0.0.1]:{port} ssh-rsa {host_key.get_base64()}\n" for port in ports.values()), encoding="utf-8"
    )
    with ShellLines().installed() as shell:
        net = FakeNOS(inventory=inventory(hosts, tmp / "host_key"))
        net.start()
        try:
            for port in ports.values():
                wait_until_listening(port)
            yield Emulator(ports, known_hosts, shell)
        finally:
            # One host at a time, fakenos waits ~0.5 s for each listener thread: stop them together.
            with ThreadPoolExecutor(max_workers=len(ports)) as pool:
                list(pool.map(net.stop, ports))


@dataclass(frozen=True)
class Collected:
    snapshot: Snapshot | None
    error: BaseException | None
    seconds: float


@pytest.fixture(scope="module")
def collected(emulator: Emulator) -> dict[str, Collected]:
    """Every variant collected at once (fakenos spends most of a session sleeping between bytes)."""

    def collect(variant: Variant) -> Collected:
        started = time.perf_counter()
        try:
            snapshot = NetmikoCollector().collect(emulator.target(variant.name), AUDIT_COMMANDS)
        except Exception as exc:  # reported by the variant's own test
            return Collected(None, exc, time.perf_counter() - started)
        return Collected(snapshot, None, time.perf_counter() - started)

    with ThreadPoolExecutor(max_workers=len(VARIANTS)) as pool:
        results = list(pool.map(collect, VARIANTS))
    return {variant.name: result for variant, result in zip(VARIANTS, results)}


def test_fakenos_listens_on_loopback_only(emulator: Emulator) -> None:
    if not Path("/proc/net/tcp").is_file():
        pytest.skip("no /proc/net/tcp to read the listening sockets from (not Linux)")
    for port in emulator.ports.values():
        assert listening_addresses(port) == {LOOPBACK_HEX}


@pytest.mark.parametrize("variant", VARIANTS, ids=[variant.name for variant in VARIANTS])
def test_collector_gets_every_output_fakenos_served(
    variant: Variant, collected: dict[str, Collected], emulator: Emulator
) -> None:
    result = collected[variant.name]
    if result.error is not None:
        raise result.error
    snapshot = result.snapshot
    assert snapshot is not None
    assert snapshot.hostname == variant.name
    statuses = variant.expected_statuses()
    for command in AUDIT_COMMANDS:
        output = snapshot.outputs[command]
        assert output.text == variant.served(command), command
        assert output.status == statuses[command], command
        assert output.error == (INVALID_INPUT if statuses[command] == CommandStatus.REJECTED else None), command
        # fakenos echoes the enable secret as typed: it must never end up in an output.
        assert ENABLE_SECRET not in output.text
    # What the shell ran, line by line: each setting once, enable (and the secret only when
    # asked for), every show command once, exit. Nothing else reached the router.
    assert emulator.shell.of(variant.name) in (variant.expected_lines(), [*variant.expected_lines(), "exit"])


RAW_CASES = {
    variant.name: variant
    for variant in VARIANTS
    if variant.name in ("fakenos-defaults", "crcrlf", "prompt-trailing-blank")
}


@pytest.mark.parametrize("name", RAW_CASES)
def test_raw_stream(name: str, emulator: Emulator) -> None:
    """The bytes fakenos sends, as a raw paramiko shell sees them (the model behind ``served``)."""
    variant = RAW_CASES[name]
    crlf = (variant.newline or "\r\n").encode()
    prompt = name.encode()
    privileged = variant.privileged_prompt.format(base_prompt=name).encode()
    with paramiko.SSHClient() as client:
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.load_host_keys(str(emulator.known_hosts))
        client.connect(
            "127.0.0.1", emulator.ports[name], USERNAME, PASSWORD, look_for_keys=False, allow_agent=False, timeout=10
        )
        transport = client.get_transport()
        assert transport is not None
        assert transport.remote_version == "SSH-2.0-paramiko_4.0.0"
        assert transport.get_banner() == b"FakeNOS Paramiko SSH Server\r\n"  # sent before authentication
        channel = client.invoke_shell()
        # The shell's intro always ends in "\n" -> "\r\n" (its writer turns a bare "\n" into "\r\n").
        assert read_until(channel, prompt + b">", timeout=10.0) == b"Custom SSH Shell\r\n" + prompt + b">"
        channel.sendall(b"enable\n")
        if variant.enable_secret:
            assert read_until(channel, b"Password: ", timeout=10.0) == b"enable\r\nPassword: "
            channel.sendall(ENABLE_SECRET.encode() + b"\n")
            # Unlike IOS, fakenos echoes the secret as typed.
            assert read_until(channel, privileged, timeout=10.0) == ENABLE_SECRET.encode() + b"\r\n" + privileged
        else:
            assert read_until(channel, privileged, timeout=10.0) == b"enable\r\n" + privileged
        channel.sendall(b"show version\n")
        answer = read_until(channel, b"\n" + privileged, timeout=10.0)
        # The echo's line end is always "\r\n"; the output's is the shell's newline.
        expected = variant.output(SHOW_VERSION)
        output = b"".join(line.encode() + crlf for line in expected.splitlines())
        assert answer == b"show version\r\n" + output + privileged
        channel.sendall(b"\n")
        assert read_until(channel, privileged, timeout=10.0) == b"\r\n" + privileged
        channel.sendall(b"exit\n")
        assert read_until(channel, b"exit\r\n", timeout=10.0) == b"exit\r\n"
    assert served(expected) == variant.served(SHOW_VERSION)


def _audit(emulator: Emulator, host: str, *extra: str, secret: str = ENABLE_SECRET) -> CompletedProcess[str]:
    return cli(
        "audit", "127.0.0.1", "--port", str(emulator.ports[host]), "-u", USERNAME,
        "--known-hosts", str(emulator.known_hosts), "--timeout", "15", *extra,
        env={"CMELIVE_PASSWORD": PASSWORD, "CMELIVE_ENABLE_SECRET": secret},
    )


# Only a live audit sees the SSH session: replayed captures leave it unknown.
SSH_SESSION_CHECK = "CME-ACC-11"


def _comparable(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "hostname": device["hostname"],
            "status": device["status"],
            "commands": [(c["command"], c["status"]) for c in device["commands"]],
            "results": [r for r in device["results"] if r["check"] != SSH_SESSION_CHECK],
        }
        for device in report["devices"]
    ]


@pytest.mark.parametrize(("host", "exit_code"), [("cme-branch-legacy", 1), ("cme-branch-secure", 0)])
def test_cli_audit_through_fakenos_equals_replay(host: str, exit_code: int, emulator: Emulator) -> None:
    variant = AUDITED[host]
    emulator.shell.clear(host)
    live = _audit(emulator, host, "--format", "json")
    assert live.returncode == exit_code, live.stderr
    assert ENABLE_SECRET not in live.stdout + live.stderr
    assert PASSWORD not in live.stdout + live.stderr
    report = json.loads(live.stdout)
    replayed = cli("replay", str(example_dir(variant.example)), "--format", "json")
    assert replayed.returncode == exit_code, replayed.stderr
    assert _comparable(report) == _comparable(json.loads(replayed.stdout))
    results = {result["check"]: result for result in report["devices"][0]["results"]}
    # fakenos's paramiko server offers curve25519 and rsa-sha2 first: nothing SHA-1-only.
    assert report["devices"][0]["ssh"]["server_version"] == "SSH-2.0-paramiko_4.0.0"
    assert results[SSH_SESSION_CHECK]["status"] == "pass"
    if host == "cme-branch-legacy":
        assert results["CME-ACC-01"]["status"] == "fail"
        assert results["CME-ACC-01"]["evidence"] == [
            {"command": "show running-config", "line": 20, "text": "enable password <masked>"}
        ]
        assert results["CME-GUI-01"]["status"] == "fail"
        assert results["CME-GUI-01"]["evidence"] == [
            {"command": "show running-config", "line": 102, "text": "ip http server"}
        ]
    else:
        assert results["CME-ACC-01"]["status"] == "pass"
        assert results["CME-ACC-01"]["evidence"] == [
            {"command": "show running-config", "line": 25, "text": "enable secret 9 <masked>"}
        ]
        assert results["CME-REG-01"]["status"] == "pass"
    assert emulator.shell.of(host) in (variant.expected_lines(), [*variant.expected_lines(), "exit"])


def test_cli_audit_wrong_enable_secret_exits_3(emulator: Emulator) -> None:
    """fakenos answers a wrong secret with '% Invalid input' and asks again, as IOS asks again."""
    host = "cme-branch-legacy"
    emulator.shell.clear(host)
    wrong = "not-the-" + ENABLE_SECRET
    proc = _audit(emulator, host, "--format", "json", secret=wrong)
    assert proc.returncode == 3, proc.stderr
    assert "refused the enable secret" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert wrong not in proc.stdout + proc.stderr
    # Hung up at the second Password: prompt, without saying exit (it would be taken for a secret);
    # the shell may still run the "exit" fakenos itself types into a closed session's shell.
    typed = ["terminal length 0", "terminal width 0", "enable", wrong]
    assert emulator.shell.typed_since_clear() == typed
    assert emulator.shell.of(host) in (typed, [*typed, "exit"])
