"""Big routers (issue 13): judging grows linearly with the running-config, and says what it says of
the small example.

Linearity is counted, not timed: the Python function calls of one audit at N, 2N and 3N units of
``bench/big_config.py``'s growth (interfaces, H.225 peers, ACL entries, routes, phones). A linear
audit adds the same work for each N; a check that pairs every peer with every interface or route
(CME-FW-02 did) adds more each time.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from collections.abc import Callable
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network
from types import FrameType, ModuleType
from typing import Any

import pytest

from cmelive import dialplan
from cmelive.audit import audit_snapshot
from cmelive.commands import RUNNING_CONFIG
from cmelive.examples import example_dir
from cmelive.parsing.running_config import parse_running_config
from cmelive.policy import Policy
from cmelive.report.model import DeviceReport
from cmelive.snapshot import Snapshot, read_snapshot
from cmelive.topology import RouteTable, StaticRoute, static_routes

from .conftest import REPO

#: Both uplinks as WAN, so that CME-FW-02 also reads the MPLS ACL that permits every HQ peer.
BOTH_UPLINKS = Policy(wan_interfaces=["GigabitEthernet0/0", "GigabitEthernet0/2"])
#: The MPLS uplink alone: the Internet one refuses every peer, and those notes would fill the message.
MPLS = Policy(wan_interfaces=["GigabitEthernet0/2"])


def _load_big_config() -> ModuleType:
    spec = importlib.util.spec_from_file_location("big_config", REPO / "bench" / "big_config.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


big_config = _load_big_config()
big_snapshot: Callable[..., Snapshot] = big_config.big_snapshot


def _counted_audit(snapshot: Snapshot, policy: Policy | None) -> tuple[int, DeviceReport]:
    """The Python function calls one audit of ``snapshot`` makes, and its report."""
    # Compiled dial patterns keep their answers: a pattern met at N would be free at 2N.
    dialplan._automaton.cache_clear()
    calls = 0

    def count(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        report = audit_snapshot(snapshot, policy)
    finally:
        sys.setprofile(None)
    return calls, report


@pytest.mark.parametrize("base", big_config.BASES)
def test_judging_a_big_config_grows_linearly(base: str) -> None:
    audit_snapshot(big_snapshot(0, base), BOTH_UPLINKS)  # templates and the example's patterns, once
    step = 2000
    counts = [_counted_audit(big_snapshot(step * k, base), BOTH_UPLINKS)[0] for k in (1, 2, 3)]
    first, second = counts[1] - counts[0], counts[2] - counts[1]
    assert first > 0
    # Linear: each N lines add the same work. CME-FW-02 pairing every peer with every static route
    # made the second step 1.13x the first at this size (and worse beyond).
    assert second <= 1.05 * first, counts


def test_a_big_config_is_judged_as_its_example() -> None:
    small = audit_snapshot(read_snapshot(example_dir("secure-cme")), BOTH_UPLINKS)
    big = audit_snapshot(big_snapshot(3000), BOTH_UPLINKS)
    assert big_snapshot(3000).outputs[RUNNING_CONFIG].text.count("\n") > 2900
    assert [(r.check, r.status) for r in big.results] == [(r.check, r.status) for r in small.results]
    fw02 = next(r for r in audit_snapshot(big_snapshot(3000), MPLS).results if r.check == "CME-FW-02")
    assert fw02.status == "pass"
    assert "ACL 120 permits TCP 1720 only from host 10.20.1.10, host 10.20.1.11, host 10.20.10.20" in fw02.message
    assert "may not reach" not in fw02.message


def test_a_peer_the_wan_acl_does_not_permit_is_named() -> None:
    snapshot = big_snapshot(3000)
    output = snapshot.outputs[RUNNING_CONFIG]
    dropped = "access-list 120 permit tcp host 10.20.10.21 any eq 1720\n"
    assert dropped in output.text
    cut = replace(output, text=output.text.replace(dropped, ""))
    report = audit_snapshot(replace(snapshot, outputs={**snapshot.outputs, RUNNING_CONFIG: cut}), MPLS)
    fw02 = next(r for r in report.results if r.check == "CME-FW-02")
    assert fw02.status == "pass"
    assert "H.323 peer 10.20.10.21 (line " in fw02.message
    assert "may not reach TCP 1720 through GigabitEthernet0/2: calls from it are refused" in fw02.message
    assert fw02.message.count("may not reach") == 1


def _naive_lookup(routes: list[StaticRoute], address: IPv4Address) -> StaticRoute | None:
    """What CME-FW-02 did per peer: a pass over every route."""
    best: StaticRoute | None = None
    for route in routes:
        if route.vrf is None and address in route.prefix and (best is None or route.prefix.prefixlen > best.prefix.prefixlen):
            best = route
    return best


def test_the_route_table_finds_what_a_pass_over_every_route_finds() -> None:
    rng = random.Random(13)
    bases = [0x0A000000, 0x0A140000, 0xC0A80000]
    lines = ["hostname r1", "ip route 0.0.0.0 0.0.0.0 192.0.2.1"]
    for _ in range(400):
        network = IPv4Network((rng.choice(bases) + rng.randrange(1 << 16), rng.randrange(8, 33)), strict=False)
        vrf = "vrf CUST " if rng.random() < 0.2 else ""
        hop = IPv4Address(0xC6336400 + rng.randrange(256))
        lines.append(f"ip route {vrf}{network.network_address} {network.netmask} {hop}")
    routes = static_routes(parse_running_config("\n".join([*lines, "end"])))
    assert len(routes) == 401
    table = RouteTable(routes)
    for _ in range(2000):
        address = IPv4Address(rng.choice([*bases, 0x08080000]) + rng.randrange(1 << 16))
        assert table.lookup(address) is _naive_lookup(routes, address)
    assert RouteTable([]).lookup(IPv4Address("10.0.0.1")) is None


def _naive_covers(source: str, address: IPv4Address) -> bool:
    """How CME-FW-02 matched one permitted source against one peer, entry by entry."""
    spec = source.split()

    def ipv4(text: str) -> IPv4Address | None:
        try:
            return IPv4Address(text)
        except ValueError:
            return None

    if spec[0] == "host" and len(spec) == 2:
        return spec[1] == str(address)
    if len(spec) == 2 and ipv4(spec[0]) is not None and ipv4(spec[1]) is not None:
        wildcard = int(IPv4Address(spec[1]))
        return int(address) & ~wildcard & 0xFFFFFFFF == int(IPv4Address(spec[0])) & ~wildcard & 0xFFFFFFFF
    if len(spec) == 1 and ipv4(spec[0]) is not None:
        return spec[0] == str(address)
    return False


def test_the_permitted_sources_index_covers_what_each_entry_covers() -> None:
    from cmelive.checks.firewall import _h225_verdict, _Sources
    from cmelive.topology import acls

    rng = random.Random(1720)

    def address() -> str:
        return str(IPv4Address(0x0A140000 + rng.randrange(1 << 10)))

    sources = []
    for _ in range(300):
        kind = rng.randrange(5)
        if kind == 0:
            sources.append(f"host {address()}")
        elif kind == 1:
            sources.append(address())
        elif kind == 2:  # contiguous and not: IOS wildcards may have holes
            sources.append(f"{address()} {IPv4Address(rng.choice([0xFF, 0x3FF, 0x0F0F, 0x3, 0x100]))}")
        elif kind == 3:
            sources.append(f"object-group GW{rng.randrange(3)}")
        else:
            sources.append(f"host {address()}0")  # no such address: never a peer
    lines = ["hostname r1"]
    lines += [f"access-list 120 permit tcp {source} any eq 1720" for source in sources]
    lines += ["access-list 120 deny tcp any any eq 1720", "end"]
    (acl,) = acls(parse_running_config("\n".join(lines)))
    verdict = _h225_verdict(acl)
    assert len(verdict.allowed) == len(sources)
    index = _Sources(verdict.allowed)
    covered = 0
    for _ in range(1500):
        peer = IPv4Address(0x0A140000 + rng.randrange(1 << 11))
        expected = any(_naive_covers(m.source, peer) for m in verdict.allowed)
        assert index.cover(peer) == expected, peer
        covered += expected
    assert 100 < covered < 1400  # both answers were asked for, many times
