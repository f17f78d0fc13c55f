"""The dial-plan helpers: IOS destination-pattern matching, what a pattern reaches, dial-peer and COR
parsing; the toll-fraud policy field; and the toll-fraud checks over the real corpus configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmelive.checks import all_checks
from cmelive.checks.base import CheckSpec, Status
from cmelive.commands import RUNNING_CONFIG, CommandStatus
from cmelive.dialplan import (
    DIRECTORY,
    INTERNATIONAL,
    LONG_DISTANCE,
    PREMIUM,
    TOLL_CLASSES,
    DialPattern,
    PatternError,
    access_codes_reaching,
    cor_setup,
    cor_uses,
    dial_peers,
)
from cmelive.errors import InputError
from cmelive.parsing.running_config import parse_running_config
from cmelive.policy import NANP_FRAUD_AREA_CODES, Policy, load_policy
from cmelive.snapshot import CommandOutput, Snapshot
from cmelive.state import DeviceState

# --- matching --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "dialled", "matches"),
    [
        ("9011T", "9011", True),  # T: zero or more digits
        ("9011T", "901144207946000", True),
        ("9011T", "9012", False),
        ("9011.T", "9011", False),  # .T: at least one digit
        ("9011.T", "90114", True),
        (".T", "", False),
        ("T", "", True),
        ("9[2-9]......", "95551234", True),
        ("9[2-9]......", "91551234", False),
        ("9[^01]......", "95551234", True),
        ("9[^01]......", "90551234", False),
        ("91[2-9]..[2-9]......", "12125551234", False),
        ("91[2-9]..[2-9]......", "912125551234", True),
        ("911", "911", True),
        ("911", "9111", False),  # patterns without T have a fixed length
        ("9%1", "1", True),  # %: zero or more of the digit before
        ("9%1", "9991", True),
        ("9+1", "1", False),  # + after a digit: one or more
        ("9+1", "991", True),
        ("90?1", "91", True),  # ?: zero or one
        ("90?1", "901", True),
        ("90?1", "9001", False),
        ("+1T", "+12125551234", True),  # a leading + is the E.164 plus sign
        ("+1T", "12125551234", False),
        ("^911$", "911", True),
        ("9,11", "911", True),  # a pause matches nothing
        ("98765(432|422|456)", "98765422", True),
        ("98765(432|422|456)", "98765423", False),
        ("987654([1-3])+", "9876541231", True),
        ("987654([1-3])+", "987654", False),
        ("*8.", "*81", True),
        ("#T", "#123", True),
        (r"\+T", "+44", True),
    ],
)
def test_pattern_matching(pattern: str, dialled: str, matches: bool) -> None:
    assert DialPattern(pattern).matches(dialled) is matches


@pytest.mark.parametrize("bad", ["9[2-9", "9(11", "9]1", "9[9-2]", "9$1", "9x1", "9\\"])
def test_unreadable_patterns_raise(bad: str) -> None:
    with pytest.raises(PatternError):
        DialPattern(bad)


def test_matches_some_looks_for_a_tail_of_the_given_length() -> None:
    local = DialPattern("9.......")  # 9 + 7 digits
    assert local.matches_some("9011", range(4, 5))
    assert not local.matches_some("9011", range(7, 33))  # too short for an international number
    assert DialPattern("9T").matches_some("9011", range(7, 33))
    assert not DialPattern("9011T").matches_some("8011", range(0, 33))


# --- what a pattern reaches (COR-01's semantics) ---------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "reached"),
    [
        ("9011T", {"international"}),
        ("9011.T", {"international"}),
        ("011T", {"international"}),
        ("8011T", {"international"}),
        ("9T", {"international", "premium", "directory"}),
        (".T", {"international", "premium", "directory"}),
        ("T", {"international", "premium", "directory"}),
        ("+T", {"international", "premium"}),  # E.164: +44..., +1900...
        ("+1T", {"premium"}),
        ("+44T", {"international"}),
        ("91..........", {"premium"}),  # 9-1-NPA-NXX-XXXX: a long-distance route reaches 1-900
        ("91[2-9]..[2-9]......", {"premium"}),
        ("91900.......", {"premium"}),
        ("91976.......", {"premium"}),
        ("1900.......", {"premium"}),
        ("918[0-8]8.......", set()),  # toll-free 800-888 only
        ("9411", {"directory"}),
        ("411", {"directory"}),
        ("9[2-9]11", {"directory"}),  # N11 services
        ("9...", set()),  # an extension range that includes 9411 (to CUE, another site...)
        ("[2-9]...", set()),
        ("4..", set()),
        ("94..T", {"directory"}),  # variable length: 9-411 and longer numbers
        ("9..........", {"international"}),  # 9 + 10 digits takes 9-011 + 7
        ("9.......", set()),  # 9 + 7-digit local number: 9-011-xxxx is too short
        ("9[2-9]......", set()),
        ("911", set()),
        ("9911", set()),
        ("2...", set()),  # 4-digit extensions: 2 is not an access code
        ("5000", set()),
        ("7011T", set()),  # 7 is not an access code
    ],
)
def test_number_classes_reached(pattern: str, reached: set[str]) -> None:
    compiled = DialPattern(pattern)
    assert {cls.name for cls in TOLL_CLASSES if cls.reached_by(compiled)} == reached


def test_long_distance_sample_tells_a_general_route_from_a_premium_one() -> None:
    assert LONG_DISTANCE.reached_by(DialPattern("91[2-9]..[2-9]......"))
    assert not LONG_DISTANCE.reached_by(DialPattern("91900......."))
    assert [cls.name for cls in TOLL_CLASSES] == [INTERNATIONAL.name, PREMIUM.name, DIRECTORY.name]


def test_access_codes_reaching() -> None:
    patterns = [DialPattern("9011T"), DialPattern("91[2-9]..[2-9]......")]
    assert access_codes_reaching(patterns, "011", range(7, 33)) == {"9"}
    assert access_codes_reaching(patterns, "1242", range(7, 8)) == {"9"}
    assert access_codes_reaching([DialPattern(".T")], "011", range(7, 33)) == {"", "8", "9"}
    assert access_codes_reaching([DialPattern("9[2-9]......")], "011", range(7, 33)) == set()


# --- block patterns (AH-01/02's semantics) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "prefix", "blocks"),
    [
        ("9011", "9011", True),
        ("9011", "8011", False),
        (".011", "9011", True),
        (".011", "011", False),  # "." needs an access code digit
        ("011", "011", True),
        ("91", "9011", False),
        ("90", "9011", True),  # a shorter prefix catches more
        ("9011.......", "9011", True),  # every international number has 7 more digits
        ("90114", "9011", False),  # only calls to country code 4x
        (".1242", "91242", True),
        (".1242", "81242", True),
        (".1242", "1242", False),
        ("91242", "91242", True),
        ("1242", "91242", False),
        ("1242", "1242", True),
        (".T", "1242", True),
        ("91(242|264)", "91264", True),
    ],
)
def test_block_pattern_coverage(block: str, prefix: str, blocks: bool) -> None:
    assert DialPattern(block).blocks_all(prefix, 7) is blocks


# --- dial-peers and COR ----------------------------------------------------------------------------

CONFIG = """\
hostname R1
!
dial-peer cor custom
 name int-call
 name ld-call
!
dial-peer cor list callint
 member int-call
!
dial-peer cor list empty
!
voice class e164-pattern-map 10
 e164 9011T
 e164 91[2-9]..[2-9]......
!
voice class e164-pattern-map 20
 url flash:numbers.cfg
!
dial-peer voice 11 pots
 corlist outgoing callint
 destination-pattern 9011T
 port 0/0/0
!
dial-peer voice 99 pots
 destination-pattern 9T
 shutdown
!
dial-peer voice 300 voip
 max-conn 10
 destination e164-pattern-map 10
 session target ipv4:203.0.113.10
!
dial-peer voice 301 voip
 destination e164-pattern-map 20
!
dial-peer voice 302 voip
 destination e164-pattern-map 30
!
dial-peer voice 303 voip
 destination-pattern 9[2-9
!
ephone-dn-template 1
 corlist incoming user
!
ephone-dn 1 dual-line
 number 2001
 cor incoming superuser
!
voice register pool 1
 cor incoming user 1 2100-2199
!
end
"""


def test_dial_peers_are_read_with_their_destinations() -> None:
    peers = {peer.tag: peer for peer in dial_peers(parse_running_config(CONFIG))}
    assert [peer.kind for peer in peers.values()] == ["pots", "pots", "voip", "voip", "voip", "voip"]
    assert [p.text for p in peers["11"].patterns()] == ["9011T"]
    assert peers["11"].corlist_outgoing is not None and peers["11"].corlist_outgoing.words[2] == "callint"
    assert peers["99"].shutdown and not peers["11"].shutdown
    # A pattern map's entries are the peer's destinations; their lines are the map's.
    assert [d.line.command for d in peers["300"].destinations] == ["e164 9011T", "e164 91[2-9]..[2-9]......"]
    assert peers["300"].destination_line is not None
    assert peers["300"].max_conn is not None and peers["300"].max_conn.words[1] == "10"
    assert peers["301"].unreadable and "loaded from a file" in peers["301"].unreadable[0]
    assert peers["302"].destinations == () and peers["302"].unreadable == ()  # no such map: routes nothing
    assert peers["303"].destinations == () and "never closed" in peers["303"].unreadable[0]


def test_cor_definitions_and_uses() -> None:
    config = parse_running_config(CONFIG)
    cor = cor_setup(config)
    assert sorted(cor.names) == ["int-call", "ld-call"]
    assert {name: lst.member_names for name, lst in cor.lists.items()} == {"callint": ["int-call"], "empty": []}
    uses = [(use.owner.command, use.direction, use.list_name) for use in cor_uses(config)]
    assert uses == [
        ("dial-peer voice 11 pots", "outgoing", "callint"),
        ("ephone-dn-template 1", "incoming", "user"),
        ("ephone-dn 1 dual-line", "incoming", "superuser"),
        ("voice register pool 1", "incoming", "user"),
    ]


# --- policy ----------------------------------------------------------------------------------------


def test_fraud_area_codes_default_to_the_guides_24() -> None:
    assert Policy().fraud_area_codes == NANP_FRAUD_AREA_CODES
    assert len(set(NANP_FRAUD_AREA_CODES)) == 24 and "242" in NANP_FRAUD_AREA_CODES


def test_fraud_area_codes_from_a_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text("fraud_area_codes: [242, '876']\n")
    assert load_policy(path).fraud_area_codes == ("242", "876")
    path.write_text("min_rsa_bits: 2048\nfraud_area_codes: ['24']\n")
    with pytest.raises(InputError) as caught:
        load_policy(path)
    assert "3-digit area codes" in str(caught.value) and ":2" in str(caught.value)


# --- the corpus ------------------------------------------------------------------------------------

TOLL_FRAUD_CHECKS = [spec for spec in all_checks() if spec.family in ("COR", "AH", "SIP", "H323")]


def test_every_corpus_destination_pattern_is_readable(corpus_dir: Path) -> None:
    read = 0
    for path in sorted(corpus_dir.glob("running_config*.txt")):
        for peer in dial_peers(parse_running_config(path.read_text(encoding="utf-8", errors="replace"))):
            assert peer.unreadable == (), (path.name, peer.unreadable)
            read += len(peer.destinations)
    assert read > 0


@pytest.mark.parametrize("spec", TOLL_FRAUD_CHECKS, ids=lambda spec: spec.id)
def test_toll_fraud_checks_judge_every_corpus_config(corpus_dir: Path, spec: CheckSpec) -> None:
    for path in sorted(corpus_dir.glob("running_config*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        output = CommandOutput(RUNNING_CONFIG, CommandStatus.OK, text)
        snapshot = Snapshot(host=path.name, outputs={RUNNING_CONFIG: output})
        outcome = spec.func(DeviceState(snapshot))  # called directly: an exception must fail this test
        assert outcome.status in set(Status), (path.name, outcome)
        assert outcome.message, path.name
        if outcome.status == Status.FAIL:
            assert outcome.remediation, (path.name, outcome)
