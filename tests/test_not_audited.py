"""Not judged is not success: a device whose running-config was not collected whole is "not audited".

One rule (``DeviceReport.not_audited_reason``) behind the exit code (3), the text summary, the
fleet table and the JSON ``audited`` key, for ``audit``, ``replay`` and ``fleet`` alike. Each
command is tested on the faults that used to exit 0: a hang, a dropped session, a cut config.
The secure example fails nothing at ``--fail-on high``: whole, it exits 0, so every 3 below is
this rule's doing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from cmelive.checks.base import Status
from cmelive.commands import CTL_CLIENT, RUNNING_CONFIG, CommandStatus, file_name
from cmelive.examples import example_dir
from cmelive.fake.faults import Faults
from cmelive.fake.fleet import FakeFleet, FakeRouterSpec
from cmelive.fake.server import FakeRouter
from cmelive.report.model import DeviceReport, DeviceStatus
from cmelive.snapshot import CommandOutput, read_snapshot

from .livefake import ENABLE_SECRET, PASSWORD, cli, credentials_env, write_known_hosts
from .summary_table import table_rows

TIMEOUT = "2"


@pytest.fixture(scope="module")
def host_key() -> paramiko.PKey:
    return paramiko.RSAKey.generate(1024)


def serve(host_key: paramiko.PKey, faults: Faults) -> FakeRouter:
    snapshot = read_snapshot(example_dir("secure-cme"))
    return FakeRouter(
        snapshot, username="admin", password=PASSWORD, enable_secret=ENABLE_SECRET, host_key=host_key, faults=faults
    )


def live_audit(router: FakeRouter, tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    known = write_known_hosts(tmp_path / "known_hosts", router.known_hosts_line())
    proc = cli(
        "audit", router.host, "--port", str(router.port), "-u", "admin", "--known-hosts", str(known),
        "--timeout", TIMEOUT, *extra, env=credentials_env(),
    )
    return proc.returncode, proc.stdout, proc.stderr


# -- the rule ----------------------------------------------------------------------------------------


def report_with(*commands: CommandOutput, status: DeviceStatus = DeviceStatus.PARTIAL) -> DeviceReport:
    return DeviceReport(name="r1", host="127.0.0.1", hostname="r1", status=status, commands=list(commands))


@pytest.mark.parametrize(
    "status",
    [s for s in CommandStatus if s != CommandStatus.OK],
)
def test_a_running_config_not_ok_is_not_audited(status: CommandStatus) -> None:
    report = report_with(CommandOutput(RUNNING_CONFIG, status, error="why"))
    assert report.not_audited_reason() == f"'{RUNNING_CONFIG}' was not collected whole ({status}: why)"
    assert report.to_dict()["audited"] is False


def test_other_commands_failing_leave_the_device_audited() -> None:
    report = report_with(
        CommandOutput(RUNNING_CONFIG, CommandStatus.OK), CommandOutput(CTL_CLIENT, CommandStatus.TIMEOUT)
    )
    assert report.not_audited_reason() is None
    assert report.to_dict()["audited"] is True and report.to_dict()["not_audited_reason"] is None


def test_a_missing_running_config_or_an_error_is_not_audited() -> None:
    assert report_with().not_audited_reason() == f"'{RUNNING_CONFIG}' was not collected"
    error = DeviceReport(name="r1", host="h", hostname=None, status=DeviceStatus.ERROR, error="connection refused")
    assert error.not_audited_reason() == "connection refused"


# -- cmelive audit ---------------------------------------------------------------------------------------


@pytest.fixture
def hanging_router(host_key: paramiko.PKey) -> Iterator[FakeRouter]:
    with serve(host_key, Faults(hang_on=(RUNNING_CONFIG,))) as router:
        yield router


@pytest.fixture
def dropping_router(host_key: paramiko.PKey) -> Iterator[FakeRouter]:
    with serve(host_key, Faults(drop_on=(RUNNING_CONFIG,))) as router:
        yield router


def test_audit_of_a_router_hanging_on_the_running_config_exits_3(hanging_router: FakeRouter, tmp_path: Path) -> None:
    code, out, err = live_audit(hanging_router, tmp_path, "--format", "json")
    assert code == 3, err
    device = json.loads(out)["devices"][0]
    assert device["status"] == "partial"
    assert device["audited"] is False
    assert device["not_audited_reason"].startswith(f"'{RUNNING_CONFIG}' was not collected whole (timeout: ")
    # The checks that need the config say unknown; none passes.
    assert not [r for r in device["results"] if r["status"] == str(Status.PASS)]


def test_audit_of_a_router_dropping_the_session_exits_3_and_says_why(
    dropping_router: FakeRouter, tmp_path: Path
) -> None:
    code, out, err = live_audit(dropping_router, tmp_path)
    assert code == 3, err
    text = " ".join(out.split())  # the report wraps at 80 columns
    assert (
        f"Summary: not audited — '{RUNNING_CONFIG}' was not collected whole (not_collected: connection lost"
    ) in text, out
    assert "Overall: 1 device (1 not audited)" in text


def test_audit_of_a_whole_router_exits_0(host_key: paramiko.PKey, tmp_path: Path) -> None:
    with serve(host_key, Faults()) as router:
        code, out, err = live_audit(router, tmp_path, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["devices"][0]["audited"] is True


# -- cmelive replay ----------------------------------------------------------------------------------------


def cut_snapshot(tmp_path: Path) -> Path:
    """The secure example with its running-config cut in the middle (no meta.json: a pasted capture)."""
    directory = tmp_path / "cut"
    shutil.copytree(example_dir("secure-cme"), directory)
    (directory / "meta.json").unlink()
    config = directory / file_name(RUNNING_CONFIG)
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    config.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    return directory


def test_replay_of_a_cut_running_config_exits_3(tmp_path: Path) -> None:
    whole = cli("replay", str(example_dir("secure-cme")))
    assert whole.returncode == 0, whole.stdout + whole.stderr
    proc = cli("replay", str(cut_snapshot(tmp_path)), "--format", "json")
    assert proc.returncode == 3, proc.stderr
    device = json.loads(proc.stdout)["devices"][0]
    assert device["audited"] is False
    assert device["not_audited_reason"] == (
        f"'{RUNNING_CONFIG}' was not collected whole (truncated: no final 'end' line: the configuration was cut off)"
    )


def test_replay_of_a_running_config_with_pager_marks_exits_3(tmp_path: Path) -> None:
    directory = tmp_path / "paged"
    shutil.copytree(example_dir("secure-cme"), directory)
    (directory / "meta.json").unlink()
    config = directory / file_name(RUNNING_CONFIG)
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(len(lines) // 2, " --More-- \b\b\b\b\b\b\b\b\b\b")  # a screenful's end, paged badly
    config.write_text("".join(lines), encoding="utf-8")
    proc = cli("replay", str(directory), "--format", "json")
    assert proc.returncode == 3, proc.stderr
    assert "(truncated: pager prompts ('--More--') in the output" in json.loads(proc.stdout)["devices"][0][
        "not_audited_reason"
    ]


def test_replay_of_a_snapshot_without_running_config_exits_3(tmp_path: Path) -> None:
    directory = tmp_path / "no-config"
    shutil.copytree(example_dir("secure-cme"), directory)
    (directory / "meta.json").unlink()
    (directory / file_name(RUNNING_CONFIG)).unlink()
    proc = cli("replay", str(directory))
    assert proc.returncode == 3, proc.stderr
    assert f"Summary: not audited — '{RUNNING_CONFIG}' was not collected;" in proc.stdout


def test_replay_of_several_devices_exits_3_when_one_is_not_audited(tmp_path: Path) -> None:
    proc = cli("replay", str(example_dir("secure-cme")), str(cut_snapshot(tmp_path)))
    assert proc.returncode == 3, proc.stderr
    assert "Overall: 2 devices (1 not audited)" in proc.stdout


# -- cmelive fleet -----------------------------------------------------------------------------------------


def test_fleet_with_a_router_hanging_on_the_running_config_exits_3(host_key: paramiko.PKey, tmp_path: Path) -> None:
    secure = read_snapshot(example_dir("secure-cme"))
    specs = [
        FakeRouterSpec("whole", secure, password=PASSWORD, enable_secret=ENABLE_SECRET),
        FakeRouterSpec(
            "hangs", secure, password=PASSWORD, enable_secret=ENABLE_SECRET, faults=Faults(hang_on=(RUNNING_CONFIG,))
        ),
    ]
    with FakeFleet(specs, host_key=host_key) as fleet:
        inventory = fleet.write_inventory(
            tmp_path / "inventory.yaml", password_env="FLEET_PW", enable_secret_env="FLEET_EN",
            known_hosts=tmp_path / "known_hosts",
        )
        proc = cli(
            "fleet", str(inventory), "--out", str(tmp_path / "run"), "--no-history", "--timeout", TIMEOUT,
            "--known-hosts", str(tmp_path / "known_hosts"),
            env={"FLEET_PW": PASSWORD, "FLEET_EN": ENABLE_SECRET},
        )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    rows = table_rows(proc.stdout)
    assert rows["whole"].split()[1] == "ok"
    assert rows["hangs"].split()[1] == "partial"
    assert f"not audited: '{RUNNING_CONFIG}' was not collected whole (timeout: " in rows["hangs"]
    assert "2 devices in" in proc.stdout and "1 ok, 1 partial, 0 error (1 not audited)" in proc.stdout
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    audited = {device["name"]: device["audited"] for device in report["devices"]}
    assert audited == {"whole": True, "hangs": False}
