"""``cmelive.api``: the public Python API -- its names, what importing it loads, and what it does.

The live paths (``audit``, ``run_fleet``) run against fake routers on 127.0.0.1 over real SSH.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmelive import api
from cmelive.examples import example_dir
from cmelive.fake.fleet import FakeFleet, FakeRouterSpec
from cmelive.report.files import FORMATS

PASSWORD = "api-Login-Pw-5521"
ENABLE_SECRET = "api-Enable-Sx-8834"
USERNAME = "api-auditor"

#: What the insecure example fails at high severity and above, live and replayed alike.
INSECURE_HIGH = {
    "CME-ACC-01", "CME-ACC-03", "CME-ACC-04", "CME-ACC-06", "CME-AH-01", "CME-COR-01", "CME-GUI-01", "CME-GUI-06",
    "CME-REG-01", "CME-REG-02", "CME-REG-03", "CME-REG-04", "CME-SIP-01", "CME-SNMP-01", "CME-SNMP-02", "CME-TLS-03",
}


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never the user's own known_hosts or history.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture(scope="module")
def routers() -> Iterator[FakeFleet]:
    specs = [
        FakeRouterSpec(name, example_dir(name), username=USERNAME, password=PASSWORD, enable_secret=ENABLE_SECRET)
        for name in ("insecure-cme", "secure-cme")
    ]
    with FakeFleet(specs) as started:
        yield started


# -- the names ----------------------------------------------------------------------------------


def test_every_public_name_exists_and_is_documented() -> None:
    assert len(api.__all__) == len(set(api.__all__))
    undocumented = []
    for name in api.__all__:
        value = getattr(api, name)  # the lazy ones too
        if name in ("API_VERSION", "FORMATS", "__version__", "EnableSecretPrompt"):
            continue  # constants and an alias: documented in the module (#: comments)
        if not (inspect.getdoc(value) or "").strip():
            undocumented.append(name)
    assert undocumented == []
    # Every function documents its parameters' types in its signature (py.typed, mypy strict).
    for name in api.__all__:
        value = getattr(api, name)
        if inspect.isfunction(value) and value.__module__ == "cmelive.api":
            assert "return" in value.__annotations__, name
    major, minor, patch = (int(part) for part in api.API_VERSION.split("."))
    assert major >= 1 and minor >= 0 and patch >= 0
    assert api.FORMATS == FORMATS  # the same formats, in the same order, as the CLI's --out writes


def test_importing_the_api_loads_neither_the_fake_router_nor_the_ssh_stack() -> None:
    # A fresh interpreter: this test process has long imported everything.
    probe = (
        "import sys, cmelive.api; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mockssh', 'paramiko', 'netmiko') "
        "or m.startswith('cmelive.fake')))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        api.nothing_here  # noqa: B018


# -- replay, write, read back -------------------------------------------------------------------


def test_replay_write_every_format_and_load_the_json_back(tmp_path: Path) -> None:
    report = api.replay(example_dir("insecure-cme"), name="branch-7")
    assert (report.name, report.status) == ("branch-7", api.DeviceStatus.PARTIAL)
    assert {r.check for r in api.failures(report, at_or_above=api.Severity.HIGH)} == INSECURE_HIGH
    assert all(r.status == api.Status.UNKNOWN for r in api.unknowns(report))

    whole = api.AuditReport([report])
    written = api.write_reports(whole, tmp_path / "out")
    assert list(written) == list(api.FORMATS)
    assert {path.name for path in written.values()} == {
        "report.txt", "report.json", "report.csv", "report.sarif", "report.junit.xml", "report.html"
    }
    for kind in ("text", "json", "sarif"):  # what is written is what is rendered
        assert written[kind].read_text(encoding="utf-8") == api.render_report(whole, kind, relative_to=tmp_path / "out")

    loaded = api.load_report(written["json"])
    assert loaded.devices == [report]
    document = json.loads(written["json"].read_text(encoding="utf-8"))
    assert loaded.to_dict() == document  # read back whole: the same JSON


def test_write_reports_of_some_formats(tmp_path: Path) -> None:
    report = api.replay(example_dir("secure-cme"))
    written = api.write_reports(report, tmp_path / "some", formats=["json", "html"])
    assert set(written) == {"json", "html"}
    assert sorted(p.name for p in (tmp_path / "some").iterdir()) == ["report.html", "report.json"]
    assert (tmp_path / "some").stat().st_mode & 0o777 == 0o700
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in written.values())


def test_waivers_through_the_api(tmp_path: Path) -> None:
    waivers_file = tmp_path / "waivers.yaml"
    waivers_file.write_text(
        "- check: CME-ACC-04\n  device: branch-*\n  reason: legacy paging server\n  owner: voice\n"
        "  expires: 2999-12-31\n"
        "- check: CME-GUI-06\n  device: branch-7\n  reason: was accepted\n  owner: voice\n  expires: 2001-01-01\n",
        encoding="utf-8",
    )
    waivers = api.load_waivers(waivers_file)
    report = api.replay(example_dir("insecure-cme"), name="branch-7", waivers=waivers)
    by_check = {r.check: r for r in report.results}
    assert by_check["CME-ACC-04"].status == api.Status.WAIVED
    assert by_check["CME-GUI-06"].status == api.Status.FAIL  # expired: counts again
    assert by_check["CME-GUI-06"].waiver is not None and by_check["CME-GUI-06"].waiver["expired"] == "true"
    waived = api.apply_waivers(api.AuditReport([api.replay(example_dir("insecure-cme"), name="branch-7")]), waivers)
    assert [w.check for w in waived.expired] == ["CME-GUI-06"]
    assert waived.report.devices[0].results == report.results


def test_bad_input_raises_the_documented_errors(tmp_path: Path) -> None:
    with pytest.raises(api.InputError, match="snapshot directory does not exist"):
        api.replay(tmp_path / "nowhere")
    with pytest.raises(api.UsageError, match="unknown report format 'pdf'"):
        api.render_report(api.replay(example_dir("secure-cme")), "pdf")
    not_json = tmp_path / "report.json"
    not_json.write_text("{\n  \"schema\": 1,\n  oops\n}\n", encoding="utf-8")
    with pytest.raises(api.InputError) as caught:
        api.load_report(not_json)
    assert str(caught.value).startswith(f"{not_json}:3: invalid JSON")
    not_json.write_text('{"schema": 99, "devices": []}', encoding="utf-8")
    with pytest.raises(api.InputError, match="not a cmelive report.json of schema 1"):
        api.load_report(not_json)
    not_json.write_text('{"schema": 1, "generated_at": "x", "devices": [{"name": "a"}]}', encoding="utf-8")
    with pytest.raises(api.InputError, match="malformed report"):
        api.load_report(not_json)
    with pytest.raises(api.InputError, match="key_file: file does not exist"):
        api.audit("127.0.0.1", port=1, key_file=tmp_path / "no-key")


# -- live: one router, and a fleet ----------------------------------------------------------------


def test_audit_a_live_router(routers: FakeFleet, tmp_path: Path) -> None:
    known_hosts = routers.write_known_hosts(tmp_path / "known_hosts")
    report = api.audit(
        "127.0.0.1",
        port=routers.port("insecure-cme"),
        username=USERNAME,
        password=PASSWORD,
        enable_secret=ENABLE_SECRET,
        known_hosts=[str(known_hosts)],
        name="branch-7",
    )
    # Partial as its capture is: this CME rejects the CTL/CAPF show commands (no CTL client configured).
    assert (report.name, report.host, report.status) == ("branch-7", "127.0.0.1", api.DeviceStatus.PARTIAL)
    assert [c.command for c in report.commands if c.status != api.CommandStatus.OK] == [
        "show ctl-client", "show capf-server summary", "show capf-server sessions"
    ]
    assert report.not_audited_reason() is None and report.ssh is not None
    assert {r.check for r in api.failures(report, at_or_above=api.Severity.HIGH)} == INSECURE_HIGH
    shown = repr(report) + json.dumps(report.to_dict()) + api.render_report(report, "html")
    assert PASSWORD not in shown and ENABLE_SECRET not in shown


def test_a_device_that_cannot_be_audited_raises_a_device_error(routers: FakeFleet, tmp_path: Path) -> None:
    known_hosts = routers.write_known_hosts(tmp_path / "known_hosts")
    port = routers.port("secure-cme")
    with pytest.raises(api.AuthenticationError) as caught:
        api.audit("127.0.0.1", port=port, username=USERNAME, password="wrong-" + PASSWORD, known_hosts=[known_hosts])
    assert PASSWORD not in str(caught.value)
    # No enable secret, no one to ask: refused, not hung waiting for a prompt.
    with pytest.raises(api.AuthenticationError, match="enable"):
        api.audit("127.0.0.1", port=port, username=USERNAME, password=PASSWORD, known_hosts=[known_hosts])
    with pytest.raises(api.HostKeyError):
        api.audit("127.0.0.1", port=port, username=USERNAME, password=PASSWORD, known_hosts=[tmp_path / "empty"])
    report = api.error_report("secure", "127.0.0.1", caught.value)
    assert report.status == api.DeviceStatus.ERROR and report.not_audited_reason() == str(caught.value)


def test_run_a_fleet_from_an_inventory_file(
    routers: FakeFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory = routers.write_inventory(
        tmp_path / "inventory.yaml", password_env="API_PW", enable_secret_env="API_EN",
        known_hosts=tmp_path / "known_hosts",
    )
    monkeypatch.setenv("API_PW", PASSWORD)
    monkeypatch.setenv("API_EN", ENABLE_SECRET)
    seen: list[str] = []
    result = api.run_fleet(
        inventory, out_dir=tmp_path / "run", workers=2, judge_processes=0, history=tmp_path / "history.sqlite",
        progress=lambda device: seen.append(device.name),
    )
    assert sorted(seen) == ["insecure-cme", "secure-cme"]
    assert [(d.name, d.status) for d in result.report.devices] == [
        ("insecure-cme", api.DeviceStatus.PARTIAL), ("secure-cme", api.DeviceStatus.OK)
    ]
    assert result.run_id == 1 and not result.interrupted
    # Read back whole (report.json rounds command durations: compared as the JSON it is).
    assert api.load_report(result.files["json"]).to_dict() == json.loads(result.files["json"].read_text("utf-8"))
    # The same hosts as a loaded inventory, one of them by name.
    again = api.run_fleet(api.load_inventory(inventory), out_dir=tmp_path / "run2", hosts=["secure-cme"],
                          judge_processes=0)
    assert [d.name for d in again.report.devices] == ["secure-cme"]
    with pytest.raises(api.UsageError, match="no-such-host"):
        api.run_fleet(inventory, out_dir=tmp_path / "run3", hosts=["no-such-host"])
    with pytest.raises(api.UsageError, match="not empty"):
        api.run_fleet(inventory, out_dir=tmp_path / "run", judge_processes=0)
