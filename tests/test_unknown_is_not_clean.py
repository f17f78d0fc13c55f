"""Unknown is not clean (issue 10 §3): each device says in one line how many checks are unknown and
why, in every report format; ``--fail-on-unknown`` makes an unknown check at or above ``--fail-on``
count like a failure, in ``audit``, ``replay`` and ``fleet``."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from cmelive.audit import audit_snapshot
from cmelive.examples import example_dir
from cmelive.snapshot import read_snapshot

from cmelive.fake import FakeRouter

from .livefake import ENABLE_SECRET, PASSWORD, cli, credentials_env, write_known_hosts


def _copy_example(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(example_dir(name), target)
    return target


def test_one_line_names_each_cause_with_its_count(tmp_path: Path) -> None:
    snapshot_dir = _copy_example("secure-cme", tmp_path)
    # The router refused the CTL client command; two other commands are not in the snapshot.
    (snapshot_dir / "show_ctl-client.txt").write_text("% Invalid input detected at '^' marker.\n")
    for name in ("show_capf-server_summary.txt", "show_capf-server_sessions.txt", "meta.json"):
        (snapshot_dir / name).unlink(missing_ok=True)
    device = audit_snapshot(read_snapshot(snapshot_dir))

    causes = dict(device.unknown_causes())
    unknown = [r for r in device.results if str(r.status) == "unknown"]
    assert sum(causes.values()) == len(unknown)
    assert causes["SSH session not recorded (not audited live)"] == 1
    assert causes["show ctl-client rejected"] >= 1, causes
    assert any(cause.startswith("not collected: show capf-server") for cause in causes), causes
    summary = device.unknown_summary()
    assert summary is not None and summary.startswith(f"{len(unknown)} unknown: ")
    assert "\n" not in summary


def test_no_unknown_no_line() -> None:
    audited = audit_snapshot(read_snapshot(example_dir("secure-cme")))
    device = dataclasses.replace(audited, results=[r for r in audited.results if str(r.status) != "unknown"])
    assert device.unknown_summary() is None
    assert device.unknown_causes() == []


def test_every_report_format_carries_the_line(tmp_path: Path) -> None:
    example = str(example_dir("secure-cme"))
    text = cli("replay", example)
    assert "Unknown: SSH session not recorded (not audited live) (1)" in text.stdout
    as_json = json.loads(cli("replay", example, "--format", "json").stdout)
    assert as_json["devices"][0]["unknown_summary"] == "1 unknown: SSH session not recorded (not audited live) (1)"


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ((), 0),  # ACC-11 (medium) is unknown, nothing fails at or above high
        (("--fail-on-unknown",), 0),  # unknown, but below the high threshold
        (("--fail-on", "medium"), 0),
        (("--fail-on", "medium", "--fail-on-unknown"), 1),
    ],
)
def test_fail_on_unknown_in_replay(options: tuple[str, ...], code: int) -> None:
    done = cli("replay", str(example_dir("secure-cme")), *options)
    assert done.returncode == code, done.stderr


def test_fail_on_unknown_in_audit_and_fleet(tmp_path: Path) -> None:
    served = _copy_example("secure-cme", tmp_path)
    # Served without the CTL client command: the router rejects it, its checks (medium) are unknown.
    (served / "show_ctl-client.txt").unlink()
    (served / "meta.json").unlink()
    env = {**credentials_env(), "FLEET_PW": PASSWORD, "FLEET_EN": ENABLE_SECRET}
    with FakeRouter(read_snapshot(served), password=PASSWORD, enable_secret=ENABLE_SECRET) as router:
        known = write_known_hosts(tmp_path / "known_hosts", router.known_hosts_line())
        audit = ("audit", "127.0.0.1", "--port", str(router.port), "-u", "admin", "--known-hosts", str(known))
        decided = cli(*audit, "--fail-on", "info", env=env)
        strict = cli(*audit, "--fail-on", "info", "--fail-on-unknown", env=env)
        inventory = tmp_path / "inventory.yaml"
        inventory.write_text(
            "defaults: {username: admin, password_env: FLEET_PW, enable_secret_env: FLEET_EN, known_hosts: known_hosts}\n"
            f"hosts:\n  branch-1: {{address: 127.0.0.1, port: {router.port}}}\n"
        )
        fleet = ("fleet", str(inventory), "--db", str(tmp_path / "history.sqlite"), "--quiet", "--fail-on", "info")
        fleet_decided = cli(*fleet, "--out", str(tmp_path / "run-1"), env=env)
        fleet_strict = cli(*fleet, "--out", str(tmp_path / "run-2"), "--fail-on-unknown", env=env)
    assert decided.returncode == 0, decided.stderr
    assert "Unknown: show ctl-client rejected" in decided.stdout
    assert strict.returncode == 1, strict.stderr
    assert fleet_decided.returncode == 0, fleet_decided.stdout + fleet_decided.stderr
    assert fleet_strict.returncode == 1, fleet_strict.stdout + fleet_strict.stderr
    report = json.loads((tmp_path / "run-2" / "report.json").read_text())
    assert report["devices"][0]["unknown_summary"].startswith(
        f"{sum(1 for r in report['devices'][0]['results'] if r['status'] == 'unknown')} unknown: show ctl-client rejected"
    )


@pytest.mark.parametrize(
    ("fixture", "note"),
    [
        ("cut-tail-after-the-lines", "cut after line 177 — only the conclusions this could hide are unknown"),
        ("lost-indentation", "layout rebuilt — repaired, nothing hidden"),
        ("clean", None),
    ],
)
def test_the_damage_is_named_in_the_report(fixture: str, note: str | None) -> None:
    from cmelive.report.text import damage_note

    from .conftest import FIXTURES

    device = audit_snapshot(read_snapshot(FIXTURES / "damage" / fixture))
    assert damage_note(device) == note
    text = cli("replay", str(FIXTURES / "damage" / fixture)).stdout
    assert ("Damage:" in text) is (note is not None)
