"""Helpers for the tests of what cmelive writes: a small fake fleet audited by the real command,
a small real file system (tmpfs) to fill up, and checks that what was written is whole."""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cmelive.examples import example_dir
from cmelive.fake.fleet import FakeFleet, FakeRouterSpec
from cmelive.history import History
from cmelive.output_files import TEMP_PREFIX
from cmelive.report.model import DeviceStatus
from cmelive.snapshot import META_FILE, read_snapshot

PASSWORD_ENV = "FILES_TEST_PASSWORD"
ENABLE_ENV = "FILES_TEST_ENABLE"
EXAMPLES = ("secure-cme", "insecure-cme", "plain-ios", "secure-cme")
REPORTS = ("report.json", "report.csv", "report.sarif", "report.junit.xml", "report.html")


@dataclass(frozen=True)
class Fleet:
    """Fake routers on 127.0.0.1, their inventory and the environment that opens them."""

    inventory: Path
    environment: dict[str, str]
    names: tuple[str, ...]


@pytest.fixture(scope="module")
def fake_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    directory = tmp_path_factory.mktemp("files-fleet")
    specs = [FakeRouterSpec(f"r{index}-{example}", example_dir(example)) for index, example in enumerate(EXAMPLES)]
    with FakeFleet(specs) as fleet:
        inventory = fleet.write_inventory(
            directory / "inventory.yaml", password_env=PASSWORD_ENV, enable_secret_env=ENABLE_ENV,
            known_hosts=directory / "known_hosts",
        )
        environment = fleet.environment(password_env=PASSWORD_ENV, enable_secret_env=ENABLE_ENV)
        yield Fleet(inventory, environment, tuple(spec.name for spec in specs))


def run_cli(
    *args: str, env: dict[str, str] | None = None, umask: int | None = None, file_size_limit: int | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """``python -m cmelive ARGS`` as a user runs it, with a umask or a file size limit (RLIMIT_FSIZE)
    of its own when asked."""

    def limits() -> None:
        if umask is not None:
            os.umask(umask)
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    base = {key: value for key, value in os.environ.items() if not key.startswith("CMELIVE_")}
    return subprocess.run(
        [sys.executable, "-m", "cmelive", *args], capture_output=True, text=True, timeout=timeout,
        env={**base, **(env or {})}, stdin=subprocess.DEVNULL, preexec_fn=limits,
    )


def run_fleet_cli(fleet: Fleet, out: Path, db: Path, *extra: str, **options: object) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "fleet", str(fleet.inventory), "--out", str(out), "--db", str(db), "--workers", "4", "--timeout", "10", *extra,
        env=fleet.environment, **options,  # type: ignore[arg-type]
    )


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# --------------------------------------------------------------------------------------------------
# A small real file system


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """``small_fs(kib)``: a tmpfs of that size, mounted for the test (root only; skipped, saying
    why, where it cannot be mounted)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted: list[Path] = []

    def mount(kib: int) -> Path:
        point = tmp_path / f"fs{len(mounted)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={kib}k,mode=0700", "tmpfs", str(point)], capture_output=True, text=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill(file_system: Path, leave: int) -> Path:
    """Fill ``file_system`` up to ``leave`` bytes free (rounded to its pages); returns the filler."""
    filler = file_system / "filler"
    free = shutil.disk_usage(file_system).free - leave
    with open(filler, "ab") as handle:
        if free > 0:
            handle.write(b"\0" * free)
    return filler


# --------------------------------------------------------------------------------------------------
# What was written is whole


def assert_no_leftovers(root: Path) -> None:
    left = [str(p) for p in root.rglob("*") if p.name.startswith(TEMP_PREFIX)]
    assert not left, left


def assert_whole_run_dir(run_dir: Path, names: tuple[str, ...]) -> list[str]:
    """Every file present is whole (each report parses, each snapshot reads back as it says, the
    log holds whole lines); no temporary file is left. Returns the reports present."""
    assert_no_leftovers(run_dir)
    present = [name for name in REPORTS if (run_dir / name).exists()]
    for name in present:
        text = (run_dir / name).read_bytes().decode("utf-8-sig")
        if name == "report.json":
            assert [device["name"] for device in json.loads(text)["devices"]] == list(names)
        elif name == "report.sarif":
            assert json.loads(text)["runs"]
        elif name == "report.junit.xml":
            assert len(ET.fromstring(text).findall("testsuite")) == len(names)
        elif name == "report.csv":
            rows = list(csv.reader(io.StringIO(text)))
            assert rows and all(len(row) == len(rows[0]) for row in rows)
        else:
            assert text.rstrip().endswith("</html>")
    snapshots = run_dir / "snapshots"
    if snapshots.exists():
        for directory in snapshots.iterdir():
            meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))  # present: written last
            for command in meta["commands"]:
                if command["status"] != "not_collected":
                    assert (directory / command["file"]).is_file(), (directory, command)
            assert read_snapshot(directory).outputs
    log = run_dir / "cmelive.log"
    if log.exists() and log.stat().st_size:
        assert log.read_bytes().endswith(b"\n")
    return present


def modes(root: Path) -> dict[str, int]:
    """``{relative path: permission bits}`` of everything under ``root`` (symlinks not followed)."""
    found = {}
    for path in [root, *root.rglob("*")]:
        found[str(path.relative_to(root)) or "."] = stat.S_IMODE(path.lstat().st_mode)
    return found


def recorded_results(db: Path) -> dict[int, dict[str, int]]:
    """``{run id: {device: number of results}}`` as the history holds them, for the devices it
    recorded (not those it lists as ``not_started``/``interrupted``: never judged, or not recorded)."""
    with History(db, create=False) as history:
        return {
            run.id: {
                device.name: len(device.results) for device in history.load_run(run.id).devices
                if device.status not in (DeviceStatus.NOT_STARTED, DeviceStatus.INTERRUPTED)
            }
            for run in history.list_runs()
        }
