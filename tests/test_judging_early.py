"""The judges are forked before the run's inventory is read (issue 13: a judge forked after it
carried the inventory's heap garbage in its resident set for the whole run), by every way into a
fleet run: ``cmelive fleet``, ``cmelive archive``, :func:`cmelive.api.run_fleet` with a file. What
the judges log while judging still reaches the run's log.

Observed, not timed: the processes alive while the inventory is read are recorded, and every
audit records the process it ran in."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import cmelive.collect.archive as archive_module
import cmelive.inventory as inventory_module
import cmelive.judging as judging_module
from cmelive import api
from cmelive import fleet as fleet_module
from cmelive.cli import main
from cmelive.collect import Collector, Target
from cmelive.collect.archive import ArchiveCollector
from cmelive.collect.replay import ReplayCollector
from cmelive.examples import example_dir
from cmelive.inventory import Inventory
from cmelive.policy import Policy
from cmelive.report.model import DeviceStatus
from cmelive.snapshot import Snapshot, read_snapshot

from .test_judging import job

INVENTORY = textwrap.dedent(
    """\
    defaults:
      address: 127.0.0.1
    hosts:
      r-0: {}
      r-1: {}
      r-2: {}
      r-3: {}
    """
)


class _Replays:
    """Every router answers as a bundled example does; each collect notes the processes alive."""

    def __init__(self) -> None:
        self.children_while_collecting: set[int] = set()

    def __call__(self) -> Collector:
        return self

    def collect(self, target: Target, commands: Sequence[str]) -> Snapshot:
        self.children_while_collecting |= _children()
        return ReplayCollector(example_dir("plain-ios")).collect(target, commands)


def _children() -> set[int]:
    return {child.pid for child in multiprocessing.active_children() if child.pid is not None}


class _Observed:
    """The processes alive when the inventory was read, and the process of every audit."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.at_read: list[set[int]] = []
        self.audit_pids_file = tmp_path / "audit-pids"
        real_load, real_audit = inventory_module.load_inventory, judging_module.audit_snapshot
        audit_pids_file = self.audit_pids_file

        def load(path: Path) -> Inventory:
            self.at_read.append(_children())
            return real_load(path)

        def audit(snapshot: Snapshot, policy: Policy, *, name: str) -> object:
            with audit_pids_file.open("a", encoding="utf-8") as pids:  # appended from every judge
                pids.write(f"{os.getpid()}\n")
            return real_audit(snapshot, policy, name=name)

        monkeypatch.setattr(inventory_module, "load_inventory", load)
        # Patched before any judge is forked: the judges inherit it.
        monkeypatch.setattr(judging_module, "audit_snapshot", audit)

    @property
    def audit_pids(self) -> set[int]:
        return {int(line) for line in self.audit_pids_file.read_text(encoding="utf-8").split()}


@pytest.fixture
def observed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Observed]:
    root_handlers = logging.getLogger().handlers[:]
    yield _Observed(tmp_path, monkeypatch)
    for handler in logging.getLogger().handlers:
        handler.close()
    logging.getLogger().handlers[:] = root_handlers
    assert not judging_module._early  # nothing left for a later run to take
    assert not multiprocessing.active_children()  # every judge stopped


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["cmelive", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    code = stopped.value.code
    return code if isinstance(code, int) else 1


def test_cli_fleet_judges_are_forked_before_the_inventory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, observed: _Observed
) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY, encoding="utf-8")
    replays = _Replays()
    monkeypatch.setattr(fleet_module, "default_collector", replays)

    code = _cli(monkeypatch, "fleet", str(inventory), "--out", str(tmp_path / "run"), "--no-history",
                "--judges", "2", "--quiet", "--exit-zero")

    assert code == 0
    [judges] = observed.at_read
    assert len(judges) == 2  # forked, and alive, while the inventory was being read
    assert replays.children_while_collecting == judges  # the same two, no other fork since
    assert observed.audit_pids == judges  # and they audited every device (none in this process)


def test_api_run_fleet_forks_its_judges_before_reading_an_inventory_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, observed: _Observed
) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY, encoding="utf-8")
    monkeypatch.setattr(fleet_module, "default_collector", _Replays())

    result = api.run_fleet(inventory, out_dir=tmp_path / "run", judge_processes=2)

    [judges] = observed.at_read
    assert len(judges) == 2 and result.judge_processes == 2
    assert observed.audit_pids == judges
    assert [d.summary.status for d in result.devices] == [DeviceStatus.OK] * 4


def test_cli_archive_judges_are_forked_before_the_configs_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, observed: _Observed
) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    config = (example_dir("plain-ios") / "show_running-config.txt").read_text(encoding="utf-8")
    for name in ("r-0", "r-1", "r-2"):
        (configs / name).write_text(config, encoding="utf-8")
    collecting: list[set[int]] = []
    real_collect = ArchiveCollector.collect

    def collect(self: ArchiveCollector, target: Target, commands: Sequence[str]) -> Snapshot:
        collecting.append(_children())
        return real_collect(self, target, commands)

    monkeypatch.setattr(ArchiveCollector, "collect", collect)
    listed: list[set[int]] = []
    real_list = archive_module.archive_hosts

    def archive_hosts(directory: Path) -> object:
        listed.append(_children())
        return real_list(directory)

    monkeypatch.setattr(archive_module, "archive_hosts", archive_hosts)

    code = _cli(monkeypatch, "archive", str(configs), "--out", str(tmp_path / "run"), "--no-history",
                "--judges", "2", "--quiet", "--exit-zero")

    assert code == 0
    [judges] = listed
    assert len(judges) == 2 and collecting and all(seen == judges for seen in collecting)
    assert observed.audit_pids == judges


def test_judges_forked_for_bad_input_are_stopped_and_the_error_stays_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], observed: _Observed
) -> None:
    inventory = tmp_path / "bad.yaml"
    inventory.write_text("hosts:\n  r1:\n    address: 127.0.0.1\n    colour: blue\n", encoding="utf-8")

    code = _cli(monkeypatch, "fleet", str(inventory), "--out", str(tmp_path / "run"), "--judges", "2")

    assert code == 2
    [judges] = observed.at_read
    assert len(judges) == 2  # forked first, then stopped: the fixture sees no child left
    [error] = capsys.readouterr().err.strip().splitlines()
    assert error.startswith(f"cmelive: error: {inventory}:4: host 'r1': unknown key 'colour'")
    assert not (tmp_path / "run").exists()


def test_a_fleet_smaller_than_the_judges_forked_early_gets_one_judge_a_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, observed: _Observed
) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  only:\n    address: 127.0.0.1\n", encoding="utf-8")
    monkeypatch.setattr(fleet_module, "default_collector", _Replays())

    result = api.run_fleet(inventory, out_dir=tmp_path / "run", judge_processes=2)

    [early] = observed.at_read
    assert len(early) == 2  # forked for the default count, before the size was known
    assert result.judge_processes == 1
    [judge] = observed.audit_pids
    assert judge not in early and judge != os.getpid()  # those two stopped, one forked in their place


def test_what_a_judge_logs_reaches_the_run_s_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    real_audit = judging_module.audit_snapshot

    def audit(snapshot: Snapshot, policy: Policy, *, name: str) -> object:
        try:
            raise RuntimeError("a check's bug")
        except RuntimeError:
            logging.getLogger("cmelive.audit").exception("check CME-X-01 raised on %s in %d", name, os.getpid())
        logging.getLogger("cmelive.audit").debug("not for the run's log")
        return real_audit(snapshot, policy, name=name)

    monkeypatch.setattr(judging_module, "audit_snapshot", audit)
    judges = judging_module.Judges(1)
    try:
        verdict = judges.submit(job(tmp_path, "r", read_snapshot(example_dir("plain-ios")))).result(timeout=60)
    finally:
        judges.shutdown()
    [(level, name, text)] = verdict.logged  # DEBUG stays in the judge
    assert (level, name) == (logging.ERROR, "cmelive.audit")
    assert text.startswith("check CME-X-01 raised on r in ") and f" in {os.getpid()}" not in text
    assert "RuntimeError: a check's bug" in text  # the traceback travels with it

    with caplog.at_level(logging.INFO):
        judging_module.relog(verdict)
    assert [(r.name, r.levelno) for r in caplog.records] == [("cmelive.audit", logging.ERROR)]
    assert "Traceback" in caplog.text



def test_judges_forked_early_are_taken_by_a_run_of_the_thread_that_forked_them(observed: _Observed) -> None:
    """They die with that thread (the parent-death signal): another thread's run forks its own."""
    from concurrent.futures import ThreadPoolExecutor

    with judging_module.judges_forked_early(1):
        [early] = judging_module._early.values()
        with ThreadPoolExecutor(max_workers=1) as other:
            elsewhere = other.submit(judging_module.judges_for_run, 1, 5).result(timeout=60)
        elsewhere.shutdown()
        assert elsewhere is not early
        here = judging_module.judges_for_run(1, 5)
        assert here is early and here.processes == 1
        here.shutdown()
