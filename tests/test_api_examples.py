"""The README's "Python API" examples (``docs/examples/*.py``) run as they are, against fake
routers on 127.0.0.1 over real SSH.

Each example runs in this process (``runpy``) in a directory laid out as it expects, so that the
test can look at what it made: the Nornir example's results hold each host's report, and no
password may appear in them, in what was printed, or in any file the run left.
"""

from __future__ import annotations

import logging
import runpy
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cmelive import api
from cmelive.examples import example_dir
from cmelive.fake.fleet import FakeFleet

from .conftest import REPO
from .example_fleet import example_fleet, isolate_user_state
from .test_api import INSECURE_HIGH

EXAMPLES = REPO / "docs" / "examples"
PASSWORD = "ex-Login-Pw-6062"
ENABLE_SECRET = "ex-Enable-Sx-1175"
USERNAME = "ex-auditor"
#: The fake routers: inventory name -> the example snapshot it serves.
ROUTERS = {"branch-7": "insecure-cme", "branch-9": "secure-cme", "plain-ios": "plain-ios"}
PLAIN_IOS_HIGH = ["CME-SNMP-02", "CME-TLS-07"]


@pytest.fixture(scope="module")
def routers() -> Iterator[FakeFleet]:
    with example_fleet(ROUTERS, username=USERNAME, password=PASSWORD, enable_secret=ENABLE_SECRET) as started:
        yield started


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The examples name their files relative to here.
    isolate_user_state(tmp_path, monkeypatch)
    for variable in ("CMELIVE_PASSWORD", "CMELIVE_ENABLE_SECRET"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)


def run_example(name: str) -> dict[str, Any]:
    return runpy.run_path(str(EXAMPLES / name), run_name="__main__")


#: The Nornir inventory's files: they hold the secrets inline, as the test wrote them.
NORNIR_FILES = ("hosts.yaml", "groups.yaml", "defaults.yaml")


def assert_no_secret_under(directory: Path, *shown: str) -> None:
    for text in shown:
        assert PASSWORD not in text and ENABLE_SECRET not in text
    for path in directory.rglob("*"):
        if path.is_file() and not (path.parent == directory and path.name in NORNIR_FILES):
            data = path.read_bytes()
            assert PASSWORD.encode() not in data and ENABLE_SECRET.encode() not in data, path


def test_every_example_is_run_here() -> None:
    # tests/test_inventory_examples.py checks that the README quotes each of them as it is.
    assert [path.name for path in sorted(EXAMPLES.glob("*.py"))] == [
        "api_audit.py", "api_fleet.py", "api_replay.py", "nornir_task.py"
    ]


def test_audit_example(routers: FakeFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    routers.write_known_hosts(tmp_path / "known_hosts")
    monkeypatch.setenv("ROUTER", "127.0.0.1")
    monkeypatch.setenv("ROUTER_PORT", str(routers.port("branch-7")))
    monkeypatch.setenv("ROUTER_USERNAME", USERNAME)
    monkeypatch.setenv("CMELIVE_PASSWORD", PASSWORD)
    monkeypatch.setenv("CMELIVE_ENABLE_SECRET", ENABLE_SECRET)
    made = run_example("api_audit.py")
    printed = capsys.readouterr().out
    assert {line.split()[0] for line in printed.splitlines()} == INSECURE_HIGH
    assert "CME-GUI-06   critical" in printed
    assert sorted(path.name for path in (tmp_path / "reports").iterdir()) == [
        "report.csv", "report.html", "report.json", "report.junit.xml", "report.sarif", "report.txt"
    ]
    assert api.load_report(tmp_path / "reports" / "report.json").devices[0].results == made["report"].results
    assert_no_secret_under(tmp_path, printed, repr(made["report"]))

    monkeypatch.setenv("CMELIVE_PASSWORD", "wrong-" + PASSWORD)
    with pytest.raises(SystemExit) as stopped:
        run_example("api_audit.py")
    assert str(stopped.value.code).startswith("not audited: ") and "refused" in str(stopped.value.code)


def test_replay_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(example_dir("insecure-cme"), tmp_path / "snapshots" / "branch-7")
    (tmp_path / "policy.yaml").write_text("wan_interfaces: [FastEthernet0/0]\n", encoding="utf-8")
    api.write_reports(api.replay(example_dir("secure-cme"), name="branch-9"), tmp_path / "reports", formats=["json"])
    run_example("api_replay.py")
    expected = api.replay(example_dir("insecure-cme"), policy=api.load_policy(tmp_path / "policy.yaml"))
    assert capsys.readouterr().out.splitlines() == [
        f"branch-7: {len(api.failures(expected))} failures, {len(api.unknowns(expected))} unknown",
        "branch-9 ok []",
    ]


def test_fleet_example(routers: FakeFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    routers.write_inventory(
        tmp_path / "inventory.yaml", password_env="EX_PASSWORD", enable_secret_env="EX_ENABLE",
        known_hosts=tmp_path / "known_hosts",
    )
    monkeypatch.setenv("EX_PASSWORD", PASSWORD)
    monkeypatch.setenv("EX_ENABLE", ENABLE_SECRET)
    made = run_example("api_fleet.py")
    printed = capsys.readouterr().out
    run_dir = made["result"].out_dir
    assert printed.splitlines() == [
        f"branch-7         partial  {36} failures",
        "branch-9         ok       0 failures",
        "plain-ios        ok       5 failures",
        f"HTML report: {run_dir / 'report.html'}",
    ]
    assert run_dir.parent == Path("runs") and (tmp_path / run_dir / "report.html").is_file()
    assert made["result"].run_id == 1 and (tmp_path / "history.sqlite").is_file()
    assert_no_secret_under(tmp_path, printed)


def write_nornir_inventory(directory: Path, routers: FakeFleet) -> None:
    """A SimpleInventory in Nornir's own files: credentials inline in defaults, as Nornir users keep
    them; one host whose password is wrong, one whose login needs an enable secret it is not given,
    one of another vendor (the example filters it out)."""
    hosts = "".join(
        f"{name}:\n  hostname: 127.0.0.1\n  port: {routers.port(name)}\n  groups: [cme]\n" for name in ROUTERS
    )
    hosts += (
        f"locked-out:\n  hostname: 127.0.0.1\n  port: {routers.port('branch-9')}\n  password: wrong-{PASSWORD}\n"
        f"user-exec:\n  hostname: 127.0.0.1\n  port: {routers.port('branch-9')}\n"
        "core-junos:\n  hostname: 127.0.0.1\n  port: 1\n  platform: junos\n"
    )
    (directory / "hosts.yaml").write_text(hosts, encoding="utf-8")
    (directory / "groups.yaml").write_text(
        f"cme:\n  connection_options:\n    netmiko:\n      extras: {{secret: {ENABLE_SECRET}, timeout: 20}}\n",
        encoding="utf-8",
    )
    (directory / "defaults.yaml").write_text(
        f"username: {USERNAME}\npassword: {PASSWORD}\nplatform: cisco_ios\n", encoding="utf-8"
    )
    (directory / "config.yaml").write_text(
        "inventory:\n  plugin: SimpleInventory\n  options:\n"
        "    host_file: hosts.yaml\n    group_file: groups.yaml\n    defaults_file: defaults.yaml\n",
        encoding="utf-8",
    )


@pytest.fixture
def nornir_logging() -> Iterator[None]:
    """The example leaves Nornir's logging on (its default): what it sets up is undone afterwards."""
    logger = logging.getLogger("nornir")
    handlers, level = list(logger.handlers), logger.level
    yield
    for handler in logger.handlers:
        if handler not in handlers:
            handler.close()
    logger.handlers[:] = handlers
    logger.setLevel(level)


# pytest configures Python's logging, and Nornir warns that its own would be configured too.
@pytest.mark.filterwarnings("ignore:Native Python logging configuration has been detected")
@pytest.mark.usefixtures("nornir_logging")
def test_nornir_task_example(routers: FakeFleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_nornir_inventory(tmp_path, routers)
    routers.write_known_hosts(tmp_path / "known_hosts")
    made = run_example("nornir_task.py")
    printed = capsys.readouterr().out
    results = made["results"]
    assert sorted(results) == ["branch-7", "branch-9", "locked-out", "plain-ios", "user-exec"]
    reports = {name: results[name][0].result for name in results}
    assert all(isinstance(report, api.DeviceReport) for report in reports.values())
    assert {name: results[name].failed for name in results} == {
        "branch-7": False, "branch-9": False, "plain-ios": False, "locked-out": True, "user-exec": True
    }
    assert {r.check for r in api.failures(reports["branch-7"], at_or_above=api.Severity.HIGH)} == INSECURE_HIGH
    assert (reports["branch-7"].status, reports["branch-9"].status) == (api.DeviceStatus.PARTIAL, api.DeviceStatus.OK)
    assert reports["branch-9"].results and not api.failures(reports["branch-9"])
    assert [r.check for r in api.failures(reports["plain-ios"], at_or_above=api.Severity.HIGH)] == PLAIN_IOS_HIGH
    assert reports["locked-out"].status == api.DeviceStatus.ERROR and "refused" in (reports["locked-out"].error or "")
    assert "netmiko: extras: secret" in (reports["user-exec"].error or "")

    lines = sorted(printed.splitlines())
    high = api.failures(reports["branch-7"], at_or_above=api.Severity.HIGH)
    assert lines[0] == "branch-7: " + " ".join(result.check for result in high)
    assert lines[1] == "branch-9: no high or critical failure"
    assert lines[2].startswith("locked-out: not audited: ") and "refused" in lines[2]
    assert lines[3] == "plain-ios: CME-SNMP-02 CME-TLS-07"
    assert lines[4].startswith("user-exec: not audited: ")
    # Neither secret in the results (their repr and str, each host's and each report's), in what was
    # printed, or in any file left behind (nornir.log included).
    shown = [repr(results), str(results), printed]
    for name in results:
        shown += [repr(results[name]), str(results[name]), repr(results[name][0]), str(results[name][0])]
        shown += [repr(reports[name]), str(reports[name].to_dict())]
    assert (tmp_path / "nornir.log").is_file()  # Nornir's own log, as the example leaves it on
    assert_no_secret_under(tmp_path, *shown)


def test_nornir_task_refuses_bad_extras_and_other_vendors(routers: FakeFleet, tmp_path: Path) -> None:
    from nornir import InitNornir

    from cmelive.nornir import audit

    (tmp_path / "hosts.yaml").write_text(
        f"slow-typo:\n  hostname: 127.0.0.1\n  port: {routers.port('branch-9')}\n  platform: ios\n"
        "  connection_options:\n    netmiko:\n      extras: {timeout: soon}\n"
        "core-junos:\n  hostname: 127.0.0.1\n  port: 1\n  platform: junos\n",
        encoding="utf-8",
    )
    nr = InitNornir(
        inventory={"plugin": "SimpleInventory", "options": {"host_file": str(tmp_path / "hosts.yaml")}},
        logging={"enabled": False},
    )
    results = nr.run(task=audit)
    assert results.failed and set(results.failed_hosts) == {"slow-typo", "core-junos"}
    assert results["slow-typo"][0].result.error == (
        "Nornir inventory: host 'slow-typo': netmiko extras timeout must be a positive number of seconds, not 'soon'"
    )
    assert results["core-junos"][0].result.error == (
        "Nornir inventory: host 'core-junos': platform 'junos' is not Cisco IOS (cmelive audits IOS only)"
    )
