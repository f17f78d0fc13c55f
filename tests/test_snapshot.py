"""The snapshot format: written and read back, hand-made directories, pasted captures."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from cmelive.commands import (
    RUNNING_CONFIG,
    SHOW_VERSION,
    CommandStatus,
    command_from_file_name,
    file_name,
    split_joined_output,
)
from cmelive.errors import InputError
from cmelive.snapshot import CommandOutput, Snapshot, read_snapshot, write_snapshot
from cmelive.state import DeviceState

CONFIG = "hostname r1\n!\nenable secret 9 $9$abcdEFGHijkl$0123456789abcdefABCDEFghijklmnopqrstuvwxyz\nend\n"


def test_file_names_round_trip() -> None:
    assert file_name("show running-config") == "show_running-config.txt"
    assert file_name("show capf-server summary") == "show_capf-server_summary.txt"
    assert command_from_file_name("show_ephone_registered.txt") == "show ephone registered"


def test_write_then_read_keeps_statuses_and_masks(tmp_path: Path) -> None:
    snapshot = Snapshot(
        host="10.0.0.1",
        hostname="r1",
        outputs={
            RUNNING_CONFIG: CommandOutput(RUNNING_CONFIG, CommandStatus.OK, CONFIG, 0.25),
            SHOW_VERSION: CommandOutput(SHOW_VERSION, CommandStatus.TIMEOUT, "", 30.0, "no prompt after 30s"),
            "show ctl-client": CommandOutput(
                "show ctl-client", CommandStatus.REJECTED, "% Invalid input detected at '^' marker.\n", 0.01
            ),
        },
    )
    write_snapshot(snapshot, tmp_path)
    assert stat.S_IMODE((tmp_path / "show_running-config.txt").stat().st_mode) == 0o600
    assert "0123456789abcdef" not in (tmp_path / "show_running-config.txt").read_text()
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["host"] == "10.0.0.1" and meta["hostname"] == "r1" and meta["masked"] is True
    assert meta["collected_at"].endswith("Z")
    again = read_snapshot(tmp_path)
    assert again.hostname == "r1" and again.masked
    assert again.get(RUNNING_CONFIG).status == CommandStatus.OK
    assert again.get(SHOW_VERSION).status == CommandStatus.TIMEOUT
    assert again.get(SHOW_VERSION).error == "no prompt after 30s"
    assert again.get("show ctl-client").status == CommandStatus.REJECTED


def test_unmasked_write_keeps_secrets(tmp_path: Path) -> None:
    snapshot = Snapshot(host="r", outputs={RUNNING_CONFIG: CommandOutput(RUNNING_CONFIG, CommandStatus.OK, CONFIG)})
    write_snapshot(snapshot, tmp_path, mask=False)
    assert (tmp_path / "show_running-config.txt").read_text() == CONFIG
    assert json.loads((tmp_path / "meta.json").read_text())["masked"] is False


def test_directory_of_pasted_captures(tmp_path: Path) -> None:
    (tmp_path / "show_running-config.txt").write_bytes(
        b"router#show run\r\nBuilding configuration...\r\n\r\nCurrent configuration : 99 bytes\r\n"
        b"!\r\nversion 15.1\r\nhostname pasted\r\n!\r\nline vty 0 4\r\n transport input ssh\r\n!\r\nend\r\n\r\nrouter#"
    )
    (tmp_path / "show_ephone_registered.txt").write_text("router#sh ephone reg\n% Invalid input detected at '^' marker.\n")
    snapshot = read_snapshot(tmp_path)
    assert snapshot.host == tmp_path.name
    assert snapshot.get("show ephone registered").status == CommandStatus.REJECTED
    config = DeviceState(snapshot).config
    assert config is not None and config.complete and config.hostname == "pasted"
    vty = config.sections(r"line vty")[0]
    # Line numbers are the file's own (the pasted prompt is line 1).
    assert vty.number == 9
    assert [c.number for c in vty.children] == [10]


def test_latin1_capture_is_read(tmp_path: Path) -> None:
    (tmp_path / "show_running-config.txt").write_bytes(b"hostname r1\nbanner motd ^CCaf\xe9^C\nend\n")
    assert "Caf\u00e9" in read_snapshot(tmp_path).get(RUNNING_CONFIG).text


@pytest.mark.parametrize(
    "setup, problem",
    [
        (lambda d: None, "no show_*.txt files"),
        (lambda d: (d / "show_version.txt").write_bytes(b"\x00\x01"), "binary file"),
        (lambda d: ((d / "show_version.txt").write_text("x"), (d / "meta.json").write_text("[1]")), "JSON object"),
    ],
)
def test_bad_directories(tmp_path: Path, setup: object, problem: str) -> None:
    setup(tmp_path)  # type: ignore[operator]
    with pytest.raises(InputError, match=re.escape(problem)):
        read_snapshot(tmp_path)


def test_show_ephone_registered_with_its_line_breaks_lost_is_cut_back_into_lines() -> None:
    joined = (
        "Router# show ephone registeredephone-12[11] Mac:001A.A11B.7D6D TCP socket:[5] REGISTERED in SCCP ver 15/12 "
        "max_streams=1mediaActive:0 whisper_mediaActive:0 caps:7IP:127.0.0.17 * 35177 6941  keepalive 3593 "
        "max_line 4button 1: cw:1 dn 11 number 1001 CH1   IDLEPreferred Codec: g711ulawLpcor Type: none"
    )
    text, repaired = split_joined_output("show ephone registered", joined)
    assert repaired
    assert [line.split(" ")[0] for line in text.split("\n")] == [
        "Router#", "ephone-12[11]", "mediaActive:0", "IP:127.0.0.17", "button", "Preferred", "Lpcor"
    ]
    # An output printed as IOS prints it is left as it is, blank lines included.
    whole = "ephone-1[0] Mac:0024.C4B1.6A12 TCP socket:[3]\nIP:127.0.0.21 * 49731 7965\n\nephone-2[1] Mac:0024.C4B1.70F3"
    assert split_joined_output("show ephone registered", whole) == (whole, False)
