"""GUI checks beyond the fixtures: config line forms, secrecy of GUI-06's results, real captures."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmelive.audit import run_check
from cmelive.checks import get_check
from cmelive.checks.base import CheckResult, Status
from cmelive.checks.gui import enable_credentials, http_servers, web_admin_credentials
from cmelive.commands import RSA_KEYS, RUNNING_CONFIG, CommandStatus
from cmelive.parsing.running_config import parse_running_config
from cmelive.passwords import StoredPassword, encode_type7, md5_crypt
from cmelive.policy import Policy
from cmelive.snapshot import CommandOutput, Snapshot
from cmelive.state import DeviceState



def _state(outputs: dict[str, str], policy: Policy | None = None) -> DeviceState:
    return DeviceState(
        Snapshot(host="r1", outputs={c: CommandOutput(c, CommandStatus.OK, t) for c, t in outputs.items()}),
        policy,
    )


def _run(check_id: str, state: DeviceState) -> CheckResult:
    spec = get_check(check_id)
    assert spec is not None
    return run_check(spec, state)


def _config(*body: str) -> str:
    return "\n".join(["hostname r1", "!", *body, "!", "end", ""])


# --- reading the config -------------------------------------------------------------------------


def test_web_admin_line_forms() -> None:
    config = parse_running_config(_config(
        "telephony-service",
        " web admin system name admin1 password admin1",
        " web admin customer name Customer",
        " web admin customer name desk password 7 094F471A1A0A",
        " web admin system secret 5 $1$Qw3r$XFIT92t/5d5a6csdgUcnz1",
        " web admin customer name ops secret 0 Gu1",
    ))
    found = [(c.who, c.stored, c.line.number) for c in web_admin_credentials(config)]
    assert found == [
        ("system administrator 'admin1'", StoredPassword(0, "admin1"), 4),
        ("customer administrator 'desk'", StoredPassword(7, "094F471A1A0A"), 6),
        ("system administrator 'Admin'", StoredPassword(5, "$1$Qw3r$XFIT92t/5d5a6csdgUcnz1"), 7),
        ("customer administrator 'ops'", StoredPassword(0, "Gu1"), 8),
    ]


def test_enable_line_forms() -> None:
    config = parse_running_config(_config(
        "enable secret 9 $9$2MJBozw/9R3UsU$2lFhcKvpghcyw8deP25GOfyZaagyUOGBymkryvOdfo6",
        "enable secret level 5 5 $1$28772684$iEwNOgGugqO9.bIz5sk8k/",
        "enable password level 3 7 0822455D0A16",
        "enable password lab",
    ))
    found = [(c.who, c.stored.type if c.stored else None) for c in enable_credentials(config)]
    assert found == [("enable secret", 9), ("enable secret level 5", 5), ("enable password level 3", 7),
                     ("enable password", 0)]


def test_masked_values_are_recognised() -> None:
    config = parse_running_config(_config("enable secret 9 <masked>", "telephony-service",
                                          " web admin system name admin password <masked>"))
    assert [c.problem for c in enable_credentials(config)] == ["masked"]
    assert [c.problem for c in web_admin_credentials(config)] == ["masked"]


def test_the_last_http_server_line_wins() -> None:
    servers = http_servers(parse_running_config(_config("ip http server", "no ip http server",
                                                        "ip http secure-server")))
    assert servers.http is None
    assert servers.http_off is not None and servers.http_off.number == 4
    assert servers.https is not None and servers.https.number == 5


# --- GUI-06 never reveals what it compared -------------------------------------------------------

PLANTED = "Pl4nted-Gu1"


@pytest.mark.parametrize(
    ("enable_line", "web_line"),
    [
        (f"enable password {PLANTED}", f" web admin system name admin password {PLANTED}"),
        (f"enable password 7 {encode_type7(PLANTED, 9)}", f" web admin customer name desk password {PLANTED}"),
        (f"enable secret 5 {md5_crypt(PLANTED, 'aB9z')}", f" web admin system password {PLANTED}"),
        (f"enable password 7 {encode_type7(PLANTED, 3)}", f" web admin system name a secret 5 {md5_crypt(PLANTED, 'Zz')}"),
    ],
)
def test_gui06_fails_without_revealing_the_password(enable_line: str, web_line: str) -> None:
    result = _run("CME-GUI-06", _state({RUNNING_CONFIG: _config(enable_line, "telephony-service", web_line)}))
    assert result.status == Status.FAIL, result.message
    shown = [result.message, *result.remediation, *(e.text for e in result.evidence)]
    for text in shown:
        assert PLANTED not in text
        assert "$1$" not in text and encode_type7(PLANTED, 9) not in text
    assert [e.line for e in result.evidence] == [3, 5]


def test_gui06_unverifiable_pair_does_not_hide_a_collision() -> None:
    """A type 5 GUI secret cannot be compared with a type 9 enable secret, but it is the enable password."""
    config = _config(
        "enable secret 9 $9$2MJBozw/9R3UsU$2lFhcKvpghcyw8deP25GOfyZaagyUOGBymkryvOdfo6",
        "enable password 7 0822455D0A16",
        "telephony-service",
        f" web admin system name admin secret 5 {md5_crypt('cisco', 'Qw3r')}",
    )
    result = _run("CME-GUI-06", _state({RUNNING_CONFIG: config}))
    assert result.status == Status.FAIL
    assert "enable password (line 4, type 7, decoded)" in result.message


# --- real captures (../shared/corpus) ------------------------------------------------------------


def test_gui04_on_a_real_key_listing(corpus_dir: Path) -> None:
    keys = (corpus_dir / "show_crypto_key_mypubkey_rsa__gh-genieparser-iosxe-golden.txt").read_text()
    config = _config(
        "crypto pki trustpoint TP-self-signed-1331515841",
        " enrollment selfsigned",
        " subject-name cn=IOS-Self-Signed-Certificate-1331515841",
        " revocation-check none",
        " rsakeypair TP-self-signed-1331515841",
        "!",
        "ip http secure-server",
        "!",
        "line vty 0 4",
        " transport input ssh",
    ).replace("hostname r1", "hostname responder")
    outputs = {RUNNING_CONFIG: config, RSA_KEYS: keys}
    result = _run("CME-GUI-04", _state(outputs))
    assert result.status == Status.PASS, result.message
    # Line numbers are those of the capture as saved (its first line is the pasted prompt).
    assert [(e.command, e.line, e.text) for e in result.evidence] == [
        (RSA_KEYS, 3, "Key name: TP-self-signed-1331515841"),
        (RSA_KEYS, 37, "Key name: responder"),
    ]
    strict = _run("CME-GUI-04", _state(outputs, Policy(min_rsa_bits=4096)))
    assert strict.status == Status.FAIL
    assert strict.remediation == (
        "crypto key generate rsa general-keys label TP-self-signed-1331515841 modulus 4096",
        "crypto pki enroll TP-self-signed-1331515841",
        "crypto key generate rsa general-keys modulus 4096",
    )


def test_gui_checks_on_a_published_cme_config(corpus_dir: Path) -> None:
    text = (corpus_dir / "running_config__ciscodoc-cmeccx-3845.txt").read_text()
    state = _state({RUNNING_CONFIG: text})
    # The capture has doc annotations joined into two telephony-service lines: what they may hide
    # is a telephony-service line, never an ip http one, so absences of ip http lines still prove.
    gui01 = _run("CME-GUI-01", state)
    assert gui01.status == Status.PASS
    gui07 = _run("CME-GUI-07", state)
    assert gui07.status == Status.FAIL
    assert [(e.line, e.text) for e in gui07.evidence] == [(254, "ip http authentication local")]
    assert gui07.remediation[-1] == "ip http authentication aaa"
    gui02 = _run("CME-GUI-02", state)
    assert gui02.status == Status.FAIL
