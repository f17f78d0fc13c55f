"""A big router's snapshot, made from a bundled example (issue 13, "big routers").

``big_snapshot(lines)`` is the ``secure-cme`` example (or ``insecure-cme``) with its running-config
grown to about ``lines`` lines the way a large CME grows: each *unit* adds, next to the example's
own lines of the same kind,

- a LAN subinterface with its own subnet (``ip nat inside``), and that subnet in NAT ACL 1;
- an H.323 VoIP dial-peer (no ``session protocol sip``) whose ``session target`` is an H.225 peer:
  three in four are HQ gateways beyond the MPLS link (10.20.0.0/16, routed by the example's static
  route), each permitted to TCP 1720 in the MPLS ACL 120 before its deny; one in four sits on one of
  the new LAN subnets;
- a static route to a remote site;
- an ephone-dn and the ephone that uses it (``max-dn``/``max-ephones`` raised to match).

About 29 lines a unit: 50,000 lines are ~1,750 interfaces, ~1,750 H.225 peers, ~3,500 ACL entries,
~1,750 phones. Deterministic: the same ``lines`` give the same text. The bench
(``bench_big_config.py``) and the linearity test (``tests/test_big_config.py``) both use it.
"""

from __future__ import annotations

from dataclasses import replace

from cmelive.commands import RUNNING_CONFIG
from cmelive.examples import example_dir
from cmelive.snapshot import Snapshot, read_snapshot

#: Lines one unit adds (see the module's docstring); used to size a config before making it.
UNIT_LINES = 29
BASES = ("secure-cme", "insecure-cme")


def _interface(k: int) -> list[str]:
    return [
        f"interface GigabitEthernet0/1.{100 + k}",
        f" description Floor {k // 40} VLAN {100 + k}",
        f" encapsulation dot1Q {100 + k}",
        f" ip address {_lan(k)}.1 255.255.255.0",
        " ip nat inside",
        " ip virtual-reassembly in",
        "!",
    ]


def _lan(k: int) -> str:
    return f"10.{100 + k // 250}.{k % 250}"


def _peer(k: int) -> str:
    if k % 4 == 3:
        return f"{_lan(k)}.50"  # a gateway on the LAN
    return f"10.20.{10 + k // 200}.{20 + k % 200}"  # an HQ gateway beyond the MPLS link


def _dial_peer(k: int) -> list[str]:
    return [
        f"dial-peer voice {1000 + k} voip",
        f" description Site {k} extensions (H.323)",
        f" destination-pattern 8{k:04d}...",
        f" session target ipv4:{_peer(k)}",
        " dtmf-relay h245-alphanumeric",
        " codec g729r8",
        " max-conn 20",
        " no vad",
        "!",
    ]


def _phone(k: int, dn: int, ephone: int, cor: bool) -> tuple[list[str], list[str]]:
    number = 20000 + k
    directory = [
        f"ephone-dn  {dn}  dual-line",
        f" number {number}",
        f" label Desk {number}",
        f" name Desk {number}",
        *([" cor incoming user"] if cor else []),
    ]
    mac = f"{0x0024C4000000 + k:012X}"
    phone = [
        f"ephone  {ephone}",
        f" mac-address {mac[0:4]}.{mac[4:8]}.{mac[8:12]}",
        " type 7965",
        f" button  1:{dn}",
        "!",
    ]
    return directory, phone


def _last_section_end(lines: list[str], prefix: str) -> int:
    """The index just after the last section starting with ``prefix`` (its sub-lines and a ``!``)."""
    start = max(i for i, line in enumerate(lines) if line.startswith(prefix))
    end = start + 1
    while end < len(lines) and lines[end].startswith(" "):
        end += 1
    return end


def _last_line_end(lines: list[str], prefix: str) -> int:
    return max(i for i, line in enumerate(lines) if line.startswith(prefix)) + 1


def _max_number(lines: list[str], prefix: str) -> int:
    return max(int(line.split()[1]) for line in lines if line.startswith(prefix) and line.split()[1].isdigit())


def big_config(lines: int, base: str = "secure-cme") -> str:
    """``base``'s running-config grown to about ``lines`` lines (at least the example's own)."""
    if base not in BASES:
        raise ValueError(f"base must be one of {BASES}")
    text = read_snapshot(example_dir(base)).outputs[RUNNING_CONFIG].text
    config = text.split("\n")
    units = max(0, (lines - len(config)) // UNIT_LINES)
    first_dn = _max_number(config, "ephone-dn ") + 1
    first_ephone = _max_number(config, "ephone ") + 1
    cor = "dial-peer cor list user" in config  # the example's own COR list for phones, when it has one
    interfaces: list[str] = []
    dial_peers: list[str] = []
    nat: list[str] = []
    h225: list[str] = []
    routes: list[str] = []
    directory: list[str] = []
    phones: list[str] = []
    for k in range(units):
        interfaces += _interface(k)
        dial_peers += _dial_peer(k)
        nat.append(f"access-list 1 permit {_lan(k)}.0 0.0.0.255")
        if k % 4 != 3:
            h225.append(f"access-list 120 permit tcp host {_peer(k)} any eq 1720")
        else:
            nat.append(f"access-list 1 permit host {_peer(k)}")
        routes.append(f"ip route 10.{30 + k // 250}.{k % 250}.0 255.255.255.0 10.255.12.1")
        dn_lines, phone_lines = _phone(k, first_dn + k, first_ephone + k, cor)
        directory += dn_lines
        phones += phone_lines
    # Where each kind goes, found before anything moves; inserted from the bottom up.
    places: list[tuple[int, list[str]]] = [
        (_last_section_end(config, "interface "), interfaces),
        (_last_section_end(config, "dial-peer voice "), dial_peers),
        (_last_line_end(config, "access-list 1 "), nat),
        (_last_line_end(config, "ip route "), routes),
        (_last_section_end(config, "ephone-dn "), directory),
        (_last_section_end(config, "ephone "), phones),
    ]
    deny_1720 = [i for i, line in enumerate(config) if line.startswith("access-list 120 deny") and "1720" in line]
    if deny_1720:  # the MPLS ACL of secure-cme: peers permitted before its deny
        places.append((deny_1720[0], h225))
    for index, block in sorted(places, key=lambda place: place[0], reverse=True):
        config[index:index] = block
    total_dn, total_ephones = first_dn - 1 + units, first_ephone - 1 + units
    for i, line in enumerate(config):
        if line.startswith(" max-dn "):
            config[i] = f" max-dn {max(int(line.split()[1]), total_dn)}"
        elif line.startswith(" max-ephones "):
            config[i] = f" max-ephones {max(int(line.split()[1]), total_ephones)}"
    return "\n".join(config)


def big_snapshot(lines: int, base: str = "secure-cme") -> Snapshot:
    """``base``'s snapshot with :func:`big_config` as its running-config (the other outputs as they are)."""
    snapshot = read_snapshot(example_dir(base))
    output = snapshot.outputs[RUNNING_CONFIG]
    grown = replace(output, text=big_config(lines, base))
    return replace(snapshot, outputs={**snapshot.outputs, RUNNING_CONFIG: grown})
