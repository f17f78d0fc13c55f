"""Time one router's collection: raw paramiko floor vs NetmikoCollector vs plain netmiko.

Run: ``python bench/bench_single.py [--repetitions N] [--enable] [--latency-ms MS]``

One fake IOS router is started on 127.0.0.1 and the same session is timed three ways, N times
each (median reported), all in this one run:

a. a raw paramiko shell: invoke_shell, ``terminal length 0``, each audit command, reading until
   the prompt with blocking reads: the floor for an interactive SSH session;
b. :class:`cmelive.collect.live.NetmikoCollector` (host-key verification included);
d. a full audit: (b), then every check and the text report, as ``cmelive audit`` runs it;
c. plain netmiko with default settings: ``ConnectHandler``, ``send_command`` per command.

Every way runs ``cmelive.commands.AUDIT_COMMANDS``; (b)'s outputs are checked against what the
router serves before anything is timed. By default the login is privileged (``#``);
``--enable`` makes it user-level so that every way also runs ``enable``. ``--latency-ms`` gives
the router a link's latency (every answer leaves that long after what it answers arrived): on a
WAN link, round trips are what a session costs.
"""

from __future__ import annotations

import argparse
import logging
import re
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import paramiko
from netmiko import ConnectHandler

from cmelive.audit import audit_snapshot
from cmelive.collect import Target
from cmelive.collect.live import NetmikoCollector
from cmelive.commands import AUDIT_COMMANDS, RUNNING_CONFIG, SHOW_VERSION, CommandStatus
from cmelive.fake import FakeRouter, Faults
from cmelive.report.model import AuditReport
from cmelive.report.text import render_text
from cmelive.snapshot import read_snapshot

USERNAME = "bench"
PASSWORD = "bench-login"
ENABLE_SECRET = "bench-enable"
EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "cmelive" / "examples"

_INLINE_OUTPUTS = {
    SHOW_VERSION: "Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M5\n"
    "BENCH-CME uptime is 3 weeks\n",
    RUNNING_CONFIG: "Building configuration...\n\nCurrent configuration : 2048 bytes\n!\n"
    "hostname BENCH-CME\n!\n"
    + "".join(f"ephone-dn {n}\n number {1000 + n}\n!\n" for n in range(1, 200))
    + "telephony-service\n max-ephones 24\n!\nend\n",
    "show telephony-service": "CONFIG (Version=12.1)\n=====================\nVersion 12.1\n",
}


def served_outputs() -> tuple[str, dict[str, str]]:
    """(where from, outputs): the first bundled example snapshot, else a small inline one."""
    if EXAMPLES.is_dir():
        for directory in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
            if any(directory.glob("show_*.txt")):
                snapshot = read_snapshot(directory)
                outputs = {c: o.text for c, o in snapshot.outputs.items() if o.usable}
                if outputs:
                    return str(directory), outputs
    return "inline outputs", dict(_INLINE_OUTPUTS)


class SshEndpoint(Protocol):
    """Where a benchmarked router listens and the host key it must show: a :class:`FakeRouter`,
    or one router of a fake fleet served by another process (``bench_fleet.py``)."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def host_key(self) -> paramiko.PKey: ...


def raw_paramiko(router: SshEndpoint, commands: Sequence[str], enable: bool) -> None:
    client = paramiko.SSHClient()
    client.get_host_keys().add(f"[{router.host}]:{router.port}", router.host_key.get_name(), router.host_key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    # TCP_NODELAY as the collector sets it: without it every short command can wait out a
    # delayed ACK (~40 ms) and the "floor" would mostly measure Nagle's algorithm.
    sock = socket.create_connection((router.host, router.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.connect(
        router.host, router.port, USERNAME, PASSWORD, allow_agent=False, look_for_keys=False, sock=sock
    )
    try:
        channel = client.invoke_shell(width=511, height=1000)
        channel.settimeout(10)
        greeting = _read_until(channel, re.compile(r"[>#]\s*\Z"))
        prompt = greeting.strip().splitlines()[-1]
        name = re.escape(prompt[:-1])
        at_prompt = re.compile(r"[\r\n]" + name + r"[>#]\s*\Z")
        if enable:
            channel.sendall(b"enable\n")
            _read_until(channel, re.compile(r"assword:\s*\Z"))
            channel.sendall(ENABLE_SECRET.encode() + b"\n")
            _read_until(channel, at_prompt)
        for command in ["terminal length 0", *commands]:
            channel.sendall(command.encode() + b"\n")
            _read_until(channel, at_prompt)
    finally:
        client.close()


def _read_until(channel: paramiko.Channel, pattern: re.Pattern[str]) -> str:
    data = ""
    while not pattern.search(data[-256:]):
        chunk = channel.recv(65536)
        if not chunk:
            raise RuntimeError("router closed the session")
        data += chunk.decode("utf-8", "replace")
    return data


def cmelive_collector(target: Target, commands: Sequence[str]) -> None:
    snapshot = NetmikoCollector().collect(target, commands)
    if any(o.status == CommandStatus.NOT_COLLECTED for o in snapshot.outputs.values()):
        raise RuntimeError("collection incomplete")


def cmelive_full_audit(target: Target, commands: Sequence[str]) -> None:
    """What ``cmelive audit`` does after argument parsing: collect, judge every check, render."""
    snapshot = NetmikoCollector().collect(target, commands)
    report = AuditReport([audit_snapshot(snapshot, name=target.host)])
    render_text(report)


def plain_netmiko(router: SshEndpoint, commands: Sequence[str], enable: bool) -> None:
    connection = ConnectHandler(
        device_type="cisco_ios",
        host=router.host,
        port=router.port,
        username=USERNAME,
        password=PASSWORD,
        secret=ENABLE_SECRET,
    )
    try:
        if enable:
            connection.enable()
        for command in commands:
            connection.send_command(command)
    finally:
        connection.disconnect()


def median_seconds(run: Callable[[], None], repetitions: int) -> float:
    run()  # warm-up: imports, first-connection costs
    times = []
    for _ in range(repetitions):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repetitions", "-n", type=int, default=15, help="timed runs per way (median)")
    parser.add_argument("--enable", action="store_true", help="user-level login: every way runs enable")
    parser.add_argument("--latency-ms", type=int, default=0, help="the router's link latency (default 0)")
    args = parser.parse_args(argv)
    # The fake router's rejections of unknown commands and its peers' resets are expected here.
    logging.disable(logging.CRITICAL)

    source, outputs = served_outputs()
    commands = list(AUDIT_COMMANDS)
    with tempfile.TemporaryDirectory() as scratch, FakeRouter(
        outputs,
        username=USERNAME,
        password=PASSWORD,
        enable_secret=ENABLE_SECRET,
        privileged_login=not args.enable,
        host_key=paramiko.RSAKey.generate(2048),
        faults=Faults(delay_ms=args.latency_ms),
    ) as router:
        known_hosts = Path(scratch) / "known_hosts"
        known_hosts.write_text(router.known_hosts_line() + "\n")
        target = Target(
            router.host,
            router.port,
            USERNAME,
            PASSWORD,
            ENABLE_SECRET,
            known_hosts=(known_hosts,),
            timeout=10.0,
        )
        # Correctness before speed: what we time must return exactly what the router printed.
        check = NetmikoCollector().collect(target, commands)
        for command in commands:
            expected = outputs.get(command)
            got = check.outputs[command]
            if expected is not None and (got.status, got.text) not in (
                (CommandStatus.OK, expected),
                (CommandStatus.TRUNCATED, expected),
            ):
                print(f"MISMATCH for {command!r}: {got.status}", file=sys.stderr)
                return 1

        floor = median_seconds(lambda: raw_paramiko(router, commands, args.enable), args.repetitions)
        ours = median_seconds(lambda: cmelive_collector(target, commands), args.repetitions)
        full = median_seconds(lambda: cmelive_full_audit(target, commands), args.repetitions)
        netmiko_default = median_seconds(lambda: plain_netmiko(router, commands, args.enable), args.repetitions)

    login = "user-level + enable" if args.enable else "privileged"
    print(
        f"one fake router on 127.0.0.1, {len(commands)} audit commands, {login} login, "
        f"{args.latency_ms} ms latency, served from {source}"
    )
    print(f"median of {args.repetitions} runs each:")
    print(f"  (a) raw paramiko shell      {floor * 1000:8.1f} ms")
    print(f"  (b) cmelive NetmikoCollector {ours * 1000:7.1f} ms   b/a = {ours / floor:5.2f}")
    print(f"  (d) cmelive full audit      {full * 1000:8.1f} ms   d/a = {full / floor:5.2f}"
          "   (collect + every check + text report)")
    print(f"  (c) plain netmiko defaults  {netmiko_default * 1000:8.1f} ms   c/a = {netmiko_default / floor:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
