"""IOS's printing order, learned from real captures, and what a cut can and cannot hide.

The order table (``cmelive.parsing.ios_order``) was read from the real captures of the shared corpus.
These tests replay every whole capture there (and the bundled examples) against it:

- each one fits the order, so a capture that breaks it is a new fact to learn from;
- cut anywhere (its tail, or its head), every line the cut removed is one the damage model says
  the cut could hide: a conclusion from absence is never drawn about a line that was cut away.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cmelive.parsing import ios_order
from cmelive.parsing.damage import DamageKind
from cmelive.parsing.running_config import RunningConfig, parse_running_config

from .conftest import CORPUS, REPO

_WHOLE_KINDS_EXCLUDED = {
    DamageKind.CUT_HEAD,
    DamageKind.CUT_TAIL,
    DamageKind.OUT_OF_ORDER,
    DamageKind.SECOND_CAPTURE,
    DamageKind.FILTERED,
    DamageKind.ELISION,
}


def _whole_captures() -> list[Path]:
    found = sorted(CORPUS.glob("running_config__*.txt")) if CORPUS.is_dir() else []
    found += sorted((REPO / "src" / "cmelive" / "examples").glob("*/show_running-config.txt"))
    return found


def _parse(path: Path) -> RunningConfig:
    return parse_running_config(path.read_text(encoding="utf-8", errors="replace"))


def _is_whole(config: RunningConfig) -> bool:
    return not any(item.kind in _WHOLE_KINDS_EXCLUDED for item in config.damage)


WHOLE = [path for path in _whole_captures() if _is_whole(_parse(path))]


def _name(path: Path) -> str:
    return path.name if path.parent == CORPUS else f"{path.parent.name}/{path.name}"


def test_there_are_whole_captures_to_learn_from() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not present at {CORPUS}")
    assert len([p for p in WHOLE if p.parent == CORPUS]) >= 5


@pytest.mark.parametrize("path", WHOLE, ids=_name)
def test_every_whole_capture_fits_the_order(path: Path) -> None:
    config = _parse(path)
    placed = ios_order.placement([root.command for root in config.roots])
    assert placed.fits, f"{_name(path)}: '{placed.breaks_at}' is out of the order ios_order.py knows"


def _cut_points(whole: RunningConfig) -> list[int]:
    """Line numbers of the top-level lines: a cut falls before one of them."""
    return sorted({root.number for root in whole.roots if root.command})


@pytest.mark.parametrize("path", WHOLE, ids=_name)
def test_a_cut_tail_can_hide_every_line_it_removed(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    whole = parse_running_config(text)
    for cut in _cut_points(whole)[2:]:  # keep at least version and one more line
        config = parse_running_config("\n".join(lines[: cut - 1]))
        removed = [root for root in whole.roots if root.number >= cut and root.command not in ("", "end")]
        missed = [root.command for root in removed if not config.could_hide(re.escape(root.command))]
        assert not missed, f"{_name(path)} cut before line {cut}: the cut cannot hide {missed[:3]}"


@pytest.mark.parametrize("path", WHOLE, ids=_name)
def test_a_cut_head_can_hide_every_line_it_removed(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    whole = parse_running_config(text)
    for cut in _cut_points(whole)[1:-2]:
        config = parse_running_config("\n".join(lines[cut - 1:]))
        removed = [root for root in whole.roots if root.number < cut and root.command]
        missed = [root.command for root in removed if not config.could_hide(re.escape(root.command))]
        assert not missed, f"{_name(path)} cut before line {cut}: the cut cannot hide {missed[:3]}"


@pytest.mark.parametrize("path", WHOLE, ids=_name)
def test_a_cut_inside_a_section_can_hide_every_line_it_removed(path: Path) -> None:
    """Cuts that fall between the sub-mode lines of a section, head and tail."""
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    whole = parse_running_config(text)
    inner = sorted({child.number for root in whole.roots[1:] for child in root.children})[::7]
    for cut in inner:
        tail = parse_running_config("\n".join(lines[: cut - 1]))
        removed = [root for root in whole.roots if root.number >= cut and root.command not in ("", "end")]
        missed = [root.command for root in removed if not tail.could_hide(re.escape(root.command))]
        assert not missed, f"{_name(path)} cut before line {cut}: the cut cannot hide {missed[:3]}"
        head = parse_running_config("\n".join(lines[cut - 1:]))
        removed = [root for root in whole.roots if root.number < cut and root.command]
        missed = [root.command for root in removed if not head.could_hide(re.escape(root.command))]
        assert not missed, f"{_name(path)} cut before line {cut}: the cut cannot hide {missed[:3]}"


# --- what a cut cannot hide ---------------------------------------------------------------------

_HEAD = """\
version 15.1
service timestamps log datetime msec
no service password-encryption
!
hostname R1
!
boot-start-marker
boot-end-marker
!
logging buffered 51200 warnings
enable password cisco
!
no aaa new-model
!
ip cef
!
username admin privilege 15 password 0 cisco
!
interface FastEthernet0/0
 ip address 10.0.0.1 255.255.255.0
!
ip http server
!
snmp-server community public RO
!
control-plane
!
telephony-service
 max-ephones 10
!
ephone 1
 mac-address 0011.2233.4455
!
line con 0
line vty 0 4
 password cisco
 login
!
ntp server 10.0.0.5
!
end"""


def _cut_tail_after(marker: str) -> RunningConfig:
    lines = _HEAD.split("\n")
    return parse_running_config("\n".join(lines[: lines.index(marker) + 1]))


def _cut_head_before(marker: str) -> RunningConfig:
    lines = _HEAD.split("\n")
    return parse_running_config("\n".join(lines[lines.index(marker):]))


def test_a_cut_tail_after_the_lines_hides_ntp_not_ip_http_or_snmp() -> None:
    config = _cut_tail_after(" login")
    assert config.damage_summary == ["cut after line 37"]
    assert config.could_hide(r"s?ntp server ")
    assert config.could_hide(r"line vty \d")  # a "line vty 5 15" may follow
    for pattern in (r"(no )?ip http (server|secure-server)$", r"snmp-server community \S+",
                    r"telephony-service$", r"enable (secret|password) ", r"username \S+"):
        assert not config.could_hide(pattern), pattern


def test_a_cut_head_at_hostname_hides_the_service_lines_only() -> None:
    config = _cut_head_before("hostname R1")
    assert config.damage_summary == ["head cut before line 1"]
    assert config.could_hide(r"(no )?service password-encryption$")
    for pattern in (r"enable (secret|password) ", r"aaa new-model$", r"(no )?ip http (server|secure-server)$",
                    r"snmp-server community \S+", r"line vty \d", r"s?ntp server "):
        assert not config.could_hide(pattern), pattern


def test_a_cut_head_at_the_interfaces_hides_enable_and_usernames() -> None:
    config = _cut_head_before("interface FastEthernet0/0")
    for pattern in (r"enable (secret|password) ", r"username \S+", r"aaa new-model$", r"(no )?service password-encryption$"):
        assert config.could_hide(pattern), pattern
    for pattern in (r"(no )?ip http (server|secure-server)$", r"snmp-server community \S+", r"telephony-service$"):
        assert not config.could_hide(pattern), pattern


def test_a_cut_before_snmp_hides_a_community() -> None:
    # The case: "no SNMP community -> not_applicable" must not be said of such a capture.
    config = _cut_tail_after("ip http server")
    assert config.could_hide(r"snmp-server community \S+")
    assert not config.could_hide(r"enable (secret|password) ")


@pytest.mark.parametrize(
    ("pattern", "prefixes"),
    [
        (r"(no )?ip http (server|secure-server)$",
         {"ip http server", "ip http secure-server", "no ip http server", "no ip http secure-server"}),
        (r"s?ntp server ", {"sntp server ", "ntp server "}),
        (r"enable (secret|password) ", {"enable secret ", "enable password "}),
        (r"ephone(-template)? \d+$", {"ephone ", "ephone-template "}),
        (r"logging buffered\b", {"logging buffered"}),
        (r"line vty \d", {"line vty "}),
        (r"(?=x)y", None),
    ],
)
def test_literal_prefixes_expand_alternatives(pattern: str, prefixes: set[str] | None) -> None:
    found = ios_order.literal_prefixes(pattern)
    assert (set(found) if found is not None else None) == prefixes


def test_commands_this_table_does_not_know_can_be_anywhere() -> None:
    assert ios_order.bands_of("frobnicate 7") is None
    assert ios_order.pattern_bands(r"frobnicate \d") == ios_order.ALL_BANDS
    assert ios_order.pattern_bands(r".*") == ios_order.ALL_BANDS
    assert ios_order.pattern_bands(r"logging host \S") == {ios_order.TAIL_SERVICES}
    # "logging" alone is printed in two places: near the top (buffer, console) and in the tail.
    assert ios_order.pattern_bands(r"logging ") == {ios_order.HEAD_LOGGING, ios_order.TAIL_SERVICES}
