"""Reports and exits the same everywhere (issue 12): ``audit`` and ``replay`` write every format
``fleet`` writes, through its code path (:mod:`cmelive.report.files`); ``--waivers``,
``--exit-zero``, ``NO_COLOR`` / ``--no-color``. Everything through the real CLI: replay of the
shipped example snapshots, and a live audit of a fake router over real SSH on 127.0.0.1.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from jsonschema import Draft202012Validator

from cmelive.checks.base import Status
from cmelive.examples import example_dir
from cmelive.fake.server import FakeRouter
from cmelive.fleet_defaults import REPORT_FILES
from cmelive.history import History
from cmelive.snapshot import read_snapshot

from .fleet_files import run_cli
from .livefake import ENABLE_SECRET, PASSWORD, cli, closed_port, credentials_env, write_known_hosts
from .test_history import device, record_run, result

SARIF_SCHEMA = json.loads((Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json").read_text("utf-8"))
INSECURE = example_dir("insecure-cme")
SECURE = example_dir("secure-cme")
ALL_FILES = {"report.txt", *REPORT_FILES.values()}


def json_devices(path: Path) -> list[dict[str, object]]:
    devices: list[dict[str, object]] = json.loads(path.read_text("utf-8"))["devices"]
    return devices


def assert_all_formats(out: Path, device_count: int) -> None:
    """Every file there, each one well-formed in its format and holding every device."""
    assert {p.name for p in out.iterdir()} == ALL_FILES
    for path in out.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert len(json_devices(out / "report.json")) == device_count
    sarif = json.loads((out / "report.sarif").read_text("utf-8"))
    assert not list(Draft202012Validator(SARIF_SCHEMA).iter_errors(sarif))
    assert sarif["runs"][0]["results"], "the insecure example has findings"
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text("utf-8-sig"))))
    assert rows
    suites = ET.parse(out / "report.junit.xml").getroot().findall("testsuite")
    assert len(suites) == device_count
    html = (out / "report.html").read_text("utf-8")
    assert html.startswith("<!DOCTYPE html>") and "cme-branch-legacy" in html
    assert "cmelive audit report" in (out / "report.txt").read_text("utf-8")


def test_replay_out_writes_every_fleet_format(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = cli("replay", str(INSECURE), str(SECURE), "--out", str(out))
    assert proc.returncode == 1, proc.stderr  # the insecure example fails HIGH checks
    assert "cmelive audit report" in proc.stdout  # stdout still gets --format (text)
    assert_all_formats(out, 2)
    # SARIF locations point at the snapshots' files, relative to the report's directory.
    results = json.loads((out / "report.sarif").read_text("utf-8"))["runs"][0]["results"]
    uri = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert (out / uri).resolve().is_file(), uri


@pytest.mark.parametrize("report_format", ["text", "json", "csv", "sarif", "junit", "html"])
def test_replay_each_format_to_output_is_the_out_file(report_format: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    single = out / f"single.{report_format}"
    out.mkdir()
    proc = cli("replay", str(INSECURE), "--format", report_format, "--output", str(single), "--out", str(out),
               "--no-color")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    name = "report.txt" if report_format == "text" else REPORT_FILES[report_format]
    # One code path: the same bytes but for the generation stamp, which both share.
    assert single.read_bytes() == (out / name).read_bytes()


def test_replay_waivers_and_exit_zero(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    assert cli("replay", str(INSECURE), "-f", "json", "-o", str(report)).returncode == 1
    (device,) = json_devices(report)
    failing = sorted(
        r["check"] for r in device["results"]  # type: ignore[attr-defined]
        if r["status"] == "fail" and r["severity"] in ("critical", "high")
    )
    assert failing
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "".join(
            f"- check: {check}\n  device: '*'\n  reason: accepted for the test\n  owner: t@example.com\n"
            "  expires: 2099-12-31\n"
            for check in failing
        ),
        encoding="utf-8",
    )
    proc = cli("replay", str(INSECURE), "--waivers", str(waivers), "-f", "json", "-o", str(report))
    assert proc.returncode == 0, proc.stderr  # every HIGH failure waived
    (device,) = json_devices(report)
    statuses = {r["check"]: r["status"] for r in device["results"]}  # type: ignore[attr-defined]
    assert all(statuses[check] == "waived" for check in failing)

    # --exit-zero: findings, yet exit 0; bad input is still 2.
    assert cli("replay", str(INSECURE), "--exit-zero", "-f", "json", "-o", str(report)).returncode == 0
    bad = cli("replay", str(tmp_path / "missing"), "--exit-zero")
    assert bad.returncode == 2 and bad.stdout == ""
    broken = tmp_path / "broken.yaml"
    broken.write_text("- check: CME-ACC-01\n  reason: no owner\n", encoding="utf-8")
    bad = cli("replay", str(INSECURE), "--waivers", str(broken), "--exit-zero")
    assert bad.returncode == 2 and str(broken) in bad.stderr


def run_on_tty(*args: str, env: dict[str, str]) -> str:
    """The CLI with its stdout on a pseudo-terminal, as a user at a terminal sees it."""
    main, sub = pty.openpty()
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR",) and not k.startswith("CMELIVE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmelive", *args], stdout=sub, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        env={**base, **env},
    )
    os.close(sub)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=120)
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def test_no_color_env_and_option() -> None:
    assert "\x1b[" in run_on_tty("replay", str(INSECURE), env={})
    assert "\x1b[" not in run_on_tty("replay", str(INSECURE), env={"NO_COLOR": "1"})
    assert "\x1b[" not in run_on_tty("replay", str(INSECURE), "--no-color", env={})
    # https://no-color.org: an empty NO_COLOR does not count.
    assert "\x1b[" in run_on_tty("replay", str(INSECURE), env={"NO_COLOR": ""})


@pytest.fixture(scope="module")
def insecure_router() -> Iterator[FakeRouter]:
    router = FakeRouter(
        read_snapshot(INSECURE), username="admin", password=PASSWORD, enable_secret=ENABLE_SECRET,
        host_key=paramiko.RSAKey.generate(1024),
    )
    router.start()
    yield router
    router.stop()


def test_live_audit_out_writes_every_format_with_waivers(insecure_router: FakeRouter, tmp_path: Path) -> None:
    known = write_known_hosts(tmp_path / "known_hosts", insecure_router.known_hosts_line())
    out = tmp_path / "run"
    saved = tmp_path / "snap"
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "- check: CME-ACC-01\n  device: 127.0.0.1\n  reason: test\n  owner: t@example.com\n  expires: 2099-01-01\n",
        encoding="utf-8",
    )
    proc = cli(
        "audit", "127.0.0.1", "--port", str(insecure_router.port), "-u", "admin", "--known-hosts", str(known),
        "--timeout", "10", "--out", str(out), "--save-snapshot", str(saved), "--waivers", str(waivers),
        "-f", "sarif", env=credentials_env(),
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["version"] == "2.1.0"
    assert_all_formats(out, 1)
    (device,) = json_devices(out / "report.json")
    statuses = {r["check"]: r["status"] for r in device["results"]}  # type: ignore[attr-defined]
    assert statuses["CME-ACC-01"] == "waived"
    results = json.loads((out / "report.sarif").read_text("utf-8"))["runs"][0]["results"]
    uri = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("../snap/") and (out / uri).resolve().is_file(), uri

    proc = cli(
        "audit", "127.0.0.1", "--port", str(insecure_router.port), "-u", "admin", "--known-hosts", str(known),
        "--timeout", "10", "--exit-zero", "-f", "json", env=credentials_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert any(r["status"] == "fail" for r in json.loads(proc.stdout)["devices"][0]["results"])


def test_unreachable_audit_writes_every_format_and_exit_zero_keeps_3(tmp_path: Path) -> None:
    out = tmp_path / "run"
    known = tmp_path / "known_hosts"
    known.write_text("", encoding="utf-8")
    proc = cli(
        "audit", "127.0.0.1", "--port", str(closed_port()), "-u", "admin", "--known-hosts", str(known),
        "--timeout", "3", "--out", str(out), "--exit-zero", "-f", "json", env=credentials_env(),
    )
    assert proc.returncode == 3, proc.stderr  # not audited: --exit-zero does not hide it
    (device,) = json_devices(out / "report.json")
    assert device["status"] == "error"
    assert {p.name for p in out.iterdir()} == ALL_FILES


def test_bad_out_directory_is_refused_before_any_router(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    proc = cli("replay", str(INSECURE), "--out", str(link))
    assert proc.returncode == 2 and "symbolic link" in proc.stderr
    assert list(target.iterdir()) == []
    proc = cli("audit", "127.0.0.1", "--port", str(closed_port()), "--out", str(link), env=credentials_env())
    assert proc.returncode == 2 and "symbolic link" in proc.stderr


# --------------------------------------------------------------------------------------------------
# history --format json; diff exits 1 on new failures; diff --since


def dated_history(db: Path) -> list[int]:
    """Three complete runs on 2026-01-10, 2026-02-10 and 2026-03-10 (UTC): CME-GUI-06 fails from
    the second on, CME-ACC-04 only in the first."""
    with History(db) as store:
        ids = [
            record_run(store, device("r1", result("CME-ACC-04", Status.FAIL), result("CME-GUI-06", Status.PASS))),
            record_run(store, device("r1", result("CME-ACC-04", Status.PASS), result("CME-GUI-06", Status.FAIL))),
            record_run(store, device("r1", result("CME-ACC-04", Status.PASS), result("CME-GUI-06", Status.FAIL))),
        ]
    with sqlite3.connect(db) as conn:
        for run_id, day in zip(ids, ("2026-01-10", "2026-02-10", "2026-03-10"), strict=True):
            conn.execute("UPDATE runs SET started_at = ? WHERE id = ?", (f"{day}T06:00:00Z", run_id))
    conn.close()
    return ids


def test_history_format_json(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    ids = dated_history(db)
    proc = cli("history", "--db", str(db), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(proc.stdout)["runs"]
    assert [run["id"] for run in runs] == ids[::-1]  # newest first, as the table
    assert runs[0]["status"] == "complete" and runs[0]["started_at"] == "2026-03-10T06:00:00Z"
    assert runs[0]["failures"]["critical"] == 1 and runs[2]["failures"]["high"] == 1
    assert runs[0]["devices"]["total"] == 1


def test_diff_exit_codes_and_since(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    first, second, third = dated_history(db)
    same = cli("diff", "--db", str(db))  # runs 2 and 3: nothing new
    assert same.returncode == 0, same.stderr
    assert "0 new" in same.stdout
    new = cli("diff", str(first), str(second), "--db", str(db))
    assert new.returncode == 1 and "1 new, 1 resolved" in new.stdout
    assert cli("diff", str(first), str(second), "--db", str(db), "--exit-zero").returncode == 0
    assert cli("diff", str(second), str(first), "--db", str(db)).returncode == 1  # ACC-04 is new that way

    # --since: the last complete run started on or before the day, against the last run.
    since = cli("diff", "--since", "2026-01-31", "--db", str(db), "--format", "json")
    assert since.returncode == 1, since.stderr
    data = json.loads(since.stdout)
    assert (data["run_a"]["id"], data["run_b"]["id"]) == (first, third)
    on_the_day = cli("diff", "--since", "2026-02-10", "--db", str(db))
    assert on_the_day.returncode == 0 and on_the_day.stdout.startswith(f"Run {second} (")

    for args, needle in (
        (("--since", "2026-01-09"), "no complete run started on or before 2026-01-09"),
        (("--since", "2026-03-10"), f"no complete run after run {third}"),
        (("--since", "10/01/2026"), "give YYYY-MM-DD"),
        (("1", "2", "--since", "2026-02-01"), "not both"),
    ):
        proc = cli("diff", *args, "--db", str(db))
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert needle in proc.stderr and proc.stdout == "", (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_expired_waiver_is_noted_and_counts_again(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "- check: CME-ACC-01\n  device: '*'\n  reason: old\n  owner: t@example.com\n  expires: 2020-01-01\n",
        encoding="utf-8",
    )
    report = tmp_path / "r.json"
    proc = cli("replay", str(INSECURE), "--waivers", str(waivers), "-f", "json", "-o", str(report))
    assert proc.returncode == 1
    assert "expired waiver" in proc.stderr and "CME-ACC-01" in proc.stderr and "2020-01-01" in proc.stderr
    (device,) = json_devices(report)
    acc01 = next(r for r in device["results"] if r["check"] == "CME-ACC-01")  # type: ignore[attr-defined]
    assert acc01["status"] == "fail" and acc01["waiver"]["expired"]


def test_a_reused_out_directory_never_keeps_an_earlier_verdict(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("replay", str(INSECURE), "--out", str(out)).returncode == 1
    assert {p.name for p in out.iterdir()} == ALL_FILES
    # The file size limit stops report.sarif (the largest): it and the reports after it are gone,
    # not left holding the first run's verdict.
    limit = 120_000
    proc = run_cli("replay", str(SECURE), "--out", str(out), "-f", "json", file_size_limit=limit)
    assert proc.returncode == 4, proc.stderr
    assert "report.sarif" in proc.stderr and "Traceback" not in proc.stderr
    left = {p.name for p in out.iterdir()}
    assert left == {"report.txt", "report.json", "report.csv"}, left
    assert all(d["hostname"] != "cme-branch-legacy" for d in json_devices(out / "report.json"))
