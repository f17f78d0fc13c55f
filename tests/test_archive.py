"""``cmelive archive``: Oxidized- and RANCID-shaped config archives audited as fleet runs.

The trees are built from the bundled examples in the shapes the tools write (sources cited in
:mod:`cmelive.collect.archive`): Oxidized's ios model drops the first three lines of the
running-config and puts ``! `` comment lines from ``show version`` on top; RANCID's ios.pm opens
with ``!RANCID-CONTENT-TYPE: cisco`` and ``!Chassis type:``/``!Image:`` lines, and filter_pwds
writes ``<removed>`` for secrets and community strings.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cmelive import __version__
from cmelive.collect import Target
from cmelive.collect.archive import (
    NO_LIVE_STATE,
    ArchiveCollector,
    archive_hosts,
    find_configs,
    running_config_text,
)
from cmelive.commands import AUDIT_COMMANDS, RUNNING_CONFIG, CommandStatus
from cmelive.errors import DeviceError, UsageError
from cmelive.fleet_defaults import REPORT_FILES
from cmelive.masking import MASK

EXAMPLES = Path(__file__).resolve().parent.parent / "src" / "cmelive" / "examples"
INSECURE = (EXAMPLES / "insecure-cme" / "show_running-config.txt").read_text()
SECURE = (EXAMPLES / "secure-cme" / "show_running-config.txt").read_text()
PLAIN = (EXAMPLES / "plain-ios" / "show_running-config.txt").read_text()

OXIDIZED_HEADER = (
    "! Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.1(4)M4, RELEASE SOFTWARE (fc1)\n"
    "! Chassis type: CISCO2901/K9\n"
    "! Memory: main 491520K/32768K\n"
    "! Image: flash0:c2900-universalk9-mz.SPA.151-4.M4.bin\n"
    "!\n"
)
RANCID_HEADER = (
    "!RANCID-CONTENT-TYPE: cisco\n"
    "!\n"
    "!Chassis type: CISCO2901/K9 - a 2900 router\n"
    "!CPU: FastEthernet, CPU 1.0\n"
    "!Memory: main 491520K/32768K\n"
    "!Image: Software: C2900-UNIVERSALK9-M, 15.1(4)M4, RELEASE SOFTWARE (fc1)\n"
    "!Image: flash0:c2900-universalk9-mz.SPA.151-4.M4.bin\n"
    "!Serial Number: FTX1234A5BC\n"
    "!\n"
)


def oxidized_body(config: str) -> str:
    """What Oxidized's ios model keeps of ``show running-config``: from the fourth line on
    (``cfg.each_line.to_a[3..-1]``), without "Current configuration"."""
    lines = config.splitlines(keepends=True)[3:]
    return "".join(line for line in lines if not line.startswith("Current configuration"))


def rancid_filter(config: str) -> str:
    """RANCID's filter_pwds: the secret values replaced by ``<removed>`` (lib/ios.pm WriteTerm)."""
    out = []
    for line in oxidized_body(config).splitlines(keepends=True):
        line = re.sub(r"^(enable (?:password|secret)(?: level \d+)?(?: \d)?) \S+", r"\1 <removed>", line)
        line = re.sub(r"^(username \S+ (?:privilege \d+ )?(?:password|secret)(?: \d)?) \S+", r"\1 <removed>", line)
        line = re.sub(r"^(snmp-server community) \S+", r"\1 <removed>", line)
        line = re.sub(r"^(\s+password)(?: \d)? \S+$", r"\1 <removed>", line)
        line = re.sub(r"^( web admin (?:system|customer) name \S+ (?:password|secret)(?: \d)?) \S+", r"\1 <removed>", line)
        out.append(line)
    return "".join(out)


def oxidized_tree(root: Path) -> Path:
    """Oxidized's git output checked out: group directories, one file per node, a .git dir."""
    (root / "branches").mkdir(parents=True)
    (root / "core").mkdir()
    (root / "branches" / "cme-legacy.example.net").write_text(OXIDIZED_HEADER + oxidized_body(INSECURE))
    (root / "branches" / "cme-hq").write_text(OXIDIZED_HEADER + oxidized_body(SECURE))
    (root / "core" / "edge-1").write_text(oxidized_body(PLAIN))
    git = root / ".git"
    (git / "objects" / "ab").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/master\n")
    (git / "config").write_text("[core]\n\tbare = false\n")
    (git / "objects" / "ab" / "cdef0123").write_bytes(b"x\x01blob")
    return root


def rancid_tree(root: Path) -> Path:
    """RANCID's BASEDIR: <group>/router.db, <group>/configs/<device>, CVS bookkeeping."""
    configs = root / "voice" / "configs"
    configs.mkdir(parents=True)
    (root / "voice" / "router.db").write_text("cme-legacy;cisco;up\ncme-hq;cisco;up\n")
    (root / "voice" / "logs").mkdir()
    (root / "voice" / "logs" / "voice.20261204.0100").write_text("starting: rancid-run\n")
    (configs / "CVS").mkdir()
    (configs / "CVS" / "Entries").write_text("/cme-hq/1.4/Fri Dec  4 01:00:00 2026//\n")
    (configs / "cme-legacy").write_text(RANCID_HEADER + rancid_filter(INSECURE))
    (configs / "cme-hq").write_text(RANCID_HEADER + rancid_filter(SECURE))
    return root


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cmelive", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "XDG_STATE_HOME": str(home)},
        stdin=subprocess.DEVNULL,
    )


def results(report: dict[str, Any], device: str) -> dict[str, dict[str, Any]]:
    found = [d for d in report["devices"] if d["name"] == device]
    assert len(found) == 1, [d["name"] for d in report["devices"]]
    return {r["check"]: r for r in found[0]["results"]}


# -- reading the trees ----------------------------------------------------------------------------


def test_oxidized_tree_devices_and_groups_without_git(tmp_path: Path) -> None:
    root = oxidized_tree(tmp_path / "ox")
    # A symlink is never followed out of the archive (nor counted as a device).
    (root / "core" / "elsewhere").symlink_to(tmp_path)
    (root / "core" / "passwd").symlink_to("/etc/passwd")
    hosts = archive_hosts(root)
    assert [(h.name, h.groups, h.address) for h in hosts] == [
        ("cme-hq", ("branches",), "archive:branches/cme-hq"),
        ("cme-legacy.example.net", ("branches",), "archive:branches/cme-legacy.example.net"),
        ("edge-1", ("core",), "archive:core/edge-1"),
    ]


def test_rancid_tree_only_configs_dirs(tmp_path: Path) -> None:
    root = rancid_tree(tmp_path / "rancid")
    assert [(c.name, c.group) for c in find_configs(root)] == [("cme-hq", "voice"), ("cme-legacy", "voice")]


def test_rancid_header_dropped_and_removed_is_masked() -> None:
    text = running_config_text(RANCID_HEADER + "version 15.1\nenable secret 9 <removed>\nend\n", "f")
    assert text == "!\n" * 9 + f"version 15.1\nenable secret 9 {MASK}\nend\n"


def test_oxidized_secret_placeholders_are_masked() -> None:
    raw = (
        OXIDIZED_HEADER
        + "version 15.1\nsnmp-server community <configuration removed>\nusername a privilege 15 <secret hidden>\nend\n"
    )
    assert running_config_text(raw, "f") == "!\n" * 5 + (
        f"version 15.1\nsnmp-server community {MASK}\nusername a privilege 15 {MASK}\nend\n"
    )


def test_non_ios_rancid_file_is_that_devices_error(tmp_path: Path) -> None:
    configs = tmp_path / "core" / "configs"
    configs.mkdir(parents=True)
    (configs / "mx1").write_text("#RANCID-CONTENT-TYPE: juniper\n#\nsystem {\n host-name mx1;\n}\n")
    [host] = archive_hosts(tmp_path)
    with pytest.raises(DeviceError, match="'juniper' is not Cisco IOS"):
        ArchiveCollector(tmp_path).collect(Target(host=host.address, name=host.name), AUDIT_COMMANDS)


def test_collector_only_the_config_the_rest_no_live_state(tmp_path: Path) -> None:
    root = rancid_tree(tmp_path / "rancid")
    host = next(h for h in archive_hosts(root) if h.name == "cme-hq")
    snapshot = ArchiveCollector(root).collect(Target(host=host.address, name=host.name), AUDIT_COMMANDS)
    assert list(snapshot.outputs) == list(AUDIT_COMMANDS)
    config = snapshot.outputs[RUNNING_CONFIG]
    assert config.status == CommandStatus.OK
    assert "RANCID" not in config.text and "Chassis type" not in config.text
    # Header lines blanked, not dropped: line N of the snapshot is line N of the archived file.
    archived = (root / "voice" / "configs" / "cme-hq").read_text().split("\n")
    kept = config.text.split("\n")
    assert len(kept) == len(archived)
    first = archived.index("version 15.9")  # the first configuration line, after every comment
    assert kept[:first] == ["!"] * first
    assert kept[first:] == [line.replace("<removed>", MASK) for line in archived[first:]]
    others = [o for o in snapshot.outputs.values() if o.command != RUNNING_CONFIG]
    assert {(o.status, o.error) for o in others} == {(CommandStatus.NOT_COLLECTED, NO_LIVE_STATE)}


def test_duplicate_device_names_refused(tmp_path: Path) -> None:
    for group in ("a", "b"):
        (tmp_path / group).mkdir()
        (tmp_path / group / "r1").write_text(oxidized_body(PLAIN))
    with pytest.raises(UsageError, match="two configs for device 'r1': a/r1 and b/r1"):
        find_configs(tmp_path)


def test_empty_archive_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/master\n")
    with pytest.raises(UsageError, match="no device config found"):
        find_configs(tmp_path)


def test_a_bare_git_repository_says_to_check_it_out(tmp_path: Path) -> None:
    # What Oxidized's output: git writes: no config is a file of it; its objects would be "devices".
    if shutil.which("git") is None:
        pytest.skip("needs git")
    work, bare = tmp_path / "work", tmp_path / "oxidized.git"
    work.mkdir()
    (work / "r1").write_text(oxidized_body(PLAIN))
    git = ["git", "-c", "user.name=oxidized", "-c", "user.email=o@example.com"]
    for command in (["init", "-q"], ["add", "r1"], ["commit", "-qm", "r1"]):
        subprocess.run([*git, "-C", str(work), *command], check=True, capture_output=True)
    subprocess.run([*git, "clone", "-q", "--bare", str(work), str(bare)], check=True, capture_output=True)
    with pytest.raises(UsageError) as raised:
        find_configs(bare)
    assert str(raised.value) == (
        f"{bare}: a bare git repository (Oxidized's output: git); audit a checkout of it "
        f"(git clone {bare} DIR once, git -C DIR pull before each run)"
    )


# -- as a fleet: reports, history, diff -----------------------------------------------------------


def test_oxidized_archive_as_a_fleet_with_history_and_diff(tmp_path: Path) -> None:
    root = oxidized_tree(tmp_path / "ox")
    db = tmp_path / "history.sqlite"
    first = cli("archive", str(root), "--out", str(tmp_path / "run1"), "--db", str(db), "--judges", "0", home=tmp_path)
    assert first.returncode == 1, first.stderr  # the legacy CME fails HIGH checks
    assert first.stderr == ""
    for name in REPORT_FILES.values():
        assert (tmp_path / "run1" / name).is_file(), name
    report = json.loads((tmp_path / "run1" / "report.json").read_text())
    assert [d["name"] for d in report["devices"]] == ["cme-hq", "cme-legacy.example.net", "edge-1"]
    # Commands an archive cannot hold were never asked: not a failed audit ("partial") but a whole one.
    assert [d["status"] for d in report["devices"]] == ["ok", "ok", "ok"]
    legacy = results(report, "cme-legacy.example.net")
    hq = results(report, "cme-hq")
    # Config-only checks judged; checks that need live state say why they are unknown.
    assert legacy["CME-SNMP-01"]["status"] == "fail"
    assert hq["CME-SNMP-01"]["status"] == "pass"
    live_only = [r for r in hq.values() if r["status"] == "unknown"]
    assert live_only and all(NO_LIVE_STATE in r["message"] for r in live_only), [r["message"] for r in live_only]
    assert not any(r["status"] == "pass" and "ephone registered" in r["message"] for r in hq.values())
    # Nothing of the .git directory is a device, and the secrets are masked in every report.
    for name in ("report.json", "report.csv", "report.sarif", "report.junit.xml", "report.html"):
        text = (tmp_path / "run1" / name).read_text()
        assert "Ex4mple-Legacy-42" not in text and "Ex4mple-Admin-123" not in text, name
        assert "bare = false" not in text
    assert "cme-legacy.example.net" in first.stdout and "History: run 1" in first.stdout

    # A change to one config between two runs shows in the diff.
    hq_file = root / "branches" / "cme-hq"
    hq_file.write_text(hq_file.read_text().replace("\nend", "\nsnmp-server community public RW\nend"))
    second = cli("archive", str(root), "--out", str(tmp_path / "run2"), "--db", str(db), "--judges", "0", home=tmp_path)
    assert second.returncode == 1, second.stderr

    listed = cli("history", "--db", str(db), home=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count(str(root.resolve())) == 2

    changed = cli("diff", "--db", str(db), "--format", "json", home=tmp_path)
    diffed = json.loads(changed.stdout)
    by_device = {d["device"]: d for d in diffed["devices"]}
    assert {f["check"] for f in by_device["cme-hq"]["new"]} >= {"CME-SNMP-01"}
    assert by_device["cme-legacy.example.net"]["new"] == []
    assert by_device["edge-1"]["new"] == []
    text_diff = cli("diff", "--db", str(db), home=tmp_path)
    assert "cme-hq" in text_diff.stdout and "CME-SNMP-01" in text_diff.stdout


def test_rancid_archive_as_a_fleet_with_history_and_diff(tmp_path: Path) -> None:
    root = rancid_tree(tmp_path / "rancid")
    db = tmp_path / "history.sqlite"
    first = cli("archive", str(root), "--out", str(tmp_path / "run1"), "--db", str(db), "--judges", "0", home=tmp_path)
    assert first.returncode == 1, first.stderr
    report = json.loads((tmp_path / "run1" / "report.json").read_text())
    assert [d["name"] for d in report["devices"]] == ["cme-hq", "cme-legacy"]
    hq = results(report, "cme-hq")
    legacy = results(report, "cme-legacy")
    # <removed> community strings and passwords: unknown where the value matters, never a pass.
    assert hq["CME-SNMP-01"]["status"] == "unknown"
    assert "masked" in hq["CME-SNMP-01"]["message"]
    assert legacy["CME-SNMP-01"]["status"] == "unknown"
    assert hq["CME-GUI-06"]["status"] != "pass"
    # A config check that needs no secret is judged as usual.
    assert legacy["CME-SNMP-02"]["status"] == "fail"
    # RANCID's header is no configuration: the kept snapshot starts with the config itself.
    kept = (tmp_path / "run1" / "snapshots" / "cme-hq" / "show_running-config.txt").read_text()
    assert "RANCID-CONTENT-TYPE" not in kept and "Serial Number" not in kept

    legacy_file = root / "voice" / "configs" / "cme-legacy"
    legacy_file.write_text(legacy_file.read_text().replace("\nsnmp-server community <removed> RW\n", "\n"))
    second = cli("archive", str(root), "--out", str(tmp_path / "run2"), "--db", str(db), "--judges", "0", home=tmp_path)
    assert second.returncode == 1, second.stderr
    diffed = json.loads(cli("diff", "--db", str(db), "--format", "json", home=tmp_path).stdout)
    by_device = {d["device"]: d for d in diffed["devices"]}
    assert [f["check"] for f in by_device["cme-legacy"]["resolved"]] == ["CME-SNMP-03"]  # the RW community, gone
    assert by_device["cme-hq"]["new"] == [] and by_device["cme-hq"]["resolved"] == []


def test_archive_run_writes_metrics_and_can_exit_zero(tmp_path: Path) -> None:
    """A nightly archive audit on a scheduler: metrics for node_exporter, and exit 0 despite failures."""
    from prometheus_client.parser import text_string_to_metric_families

    root = rancid_tree(tmp_path / "rancid")
    prom = tmp_path / "textfile" / "cmelive.prom"
    prom.parent.mkdir()
    done = cli(
        "archive", str(root), "--out", str(tmp_path / "run"), "--no-history", "--judges", "0",
        "--metrics", str(prom), "--exit-zero", home=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(prom.read_text())
        for sample in family.samples
    }
    assert samples[("cmelive_devices_not_audited", ())] == 0
    assert samples[("cmelive_device_status", (("device", "cme-legacy"), ("status", "ok")))] == 1
    assert samples[("cmelive_run_info", (("command", "archive"), ("version", __version__)))] == 1
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    legacy_fails = [r for r in results(report, "cme-legacy").values() if r["status"] == "fail"]
    assert samples[("cmelive_findings", (("device", "cme-legacy"), ("severity", "high"), ("status", "fail")))] == len(
        [r for r in legacy_fails if r["severity"] == "high"]
    ) > 0


def test_oxidized_removed_community_line_is_unknown_not_a_missing_acl(tmp_path: Path) -> None:
    """Oxidized's remove_secret cuts ``snmp-server community`` after the keyword: the ACL is not
    seen, so CME-SNMP-02 cannot fail the line for lacking one (nor pass it)."""
    from cmelive.audit import audit_snapshot
    from cmelive.checks import all_checks

    (tmp_path / "r1").write_text(
        OXIDIZED_HEADER + oxidized_body(SECURE).replace(
            "snmp-server community ex4mple-R0-7731 RO 11", "snmp-server community <configuration removed>"
        )
    )
    [host] = archive_hosts(tmp_path)
    snapshot = ArchiveCollector(tmp_path).collect(Target(host=host.address, name=host.name), AUDIT_COMMANDS)
    specs = [spec for spec in all_checks() if spec.id in ("CME-SNMP-01", "CME-SNMP-02")]
    found = {r.check: r for r in audit_snapshot(snapshot, checks=specs).results}
    assert {k: str(r.status) for k, r in found.items()} == {"CME-SNMP-01": "unknown", "CME-SNMP-02": "unknown"}
    assert "removed with the secret" in found["CME-SNMP-02"].message
