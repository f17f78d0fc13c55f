"""The terminal UI: the fleet's table fitted to the width, plain text off a terminal, colour only
when wanted, device-supplied text never read as rich markup, and the progress bar on a real
pseudo-terminal (``pty``) against fake routers on 127.0.0.1, Ctrl-C included."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import pytest
from rich.cells import cell_len

from cmelive.audit import audit_snapshot
from cmelive.checks.base import Status
from cmelive.cli import common
from cmelive.cli.fleet import render_summary
from cmelive.examples import example_dir
from cmelive.fake.faults import Faults
from cmelive.fake.fleet import FakeFleet, FakeRouterSpec
from cmelive.fleet import FleetDevice, FleetResult
from cmelive.report.model import AuditReport, DeviceReport, DeviceStatus
from cmelive.report.text import TABLE_SEVERITIES, render_fleet_table
from cmelive.snapshot import read_snapshot
from cmelive.waivers import WaiverUsage

from .summary_table import table_rows

SGR = re.compile(r"\x1b\[[0-9;]*m")  # colour, bold, dim
ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07\x1b]*(\x07|\x1b\\))")  # any CSI or OSC sequence

LONG_NAME = "cme-branch-legacy-datacenter-rack-17-unit-03.example.net"
MARKUP_NAME = "[bold red]x[/] :smile: [link=file:///etc/passwd]y[/link]"
MARKUP_NOTE = "[red]not a style[/red] :warning:"
LONG_NOTE = (
    "not audited: 'show running-config' was not collected whole "
    "(timeout: the router was silent for 30s) (+4 more)"
)
REFUSED = "cannot connect to 127.0.0.1:2222: connection refused (attempt 3)"
HEADINGS = ["DEVICE", "STATUS", "CRIT", "HIGH", "MED", "LOW", "INFO", "WAIVED", "NOTE"]


@cache
def _audited(example: str) -> DeviceReport:
    return audit_snapshot(read_snapshot(example_dir(example)))


def _devices() -> tuple[list[DeviceReport], list[str]]:
    insecure, secure = _audited("insecure-cme"), _audited("secure-cme")
    devices = [
        replace(secure, name="br-east-01"),
        replace(insecure, name=LONG_NAME, status=DeviceStatus.PARTIAL),
        replace(insecure, name=MARKUP_NAME),
        replace(secure, name="down-1", status=DeviceStatus.ERROR, results=[], error=REFUSED),
        replace(secure, name="late-1", status=DeviceStatus.NOT_STARTED, results=[], error="the run was stopped first"),
    ]
    notes = ["", LONG_NOTE, MARKUP_NOTE, REFUSED, "the run was stopped first"]
    return devices, notes


def _squeezed(text: str) -> str:
    """Without blanks: a name folded at a blank loses it when its pieces are joined back."""
    return "".join(text.split())


# --------------------------------------------------------------------------------------------------
# The table


@pytest.mark.parametrize("width", [80, 100, 120, 200])
def test_the_table_fits_the_width_and_keeps_every_name_and_note(width: int) -> None:
    devices, notes = _devices()
    lines = render_fleet_table(devices, notes, width=width)
    assert max(cell_len(line) for line in lines) <= width
    assert not any(ANSI.search(line) for line in lines)  # no colour asked: plain text
    assert all(line == line.rstrip() for line in lines)
    assert lines[0].split() == HEADINGS
    rows = table_rows("\n".join(lines))
    # Every device, in the inventory's order, its name whole (folded in its column when too long).
    assert [_squeezed(name) for name in rows] == [_squeezed(device.name) for device in devices]
    for (name, row), device, note in zip(rows.items(), devices, notes, strict=True):
        assert _squeezed(row).startswith(_squeezed(f"{device.name} {device.status}"))
        assert row.endswith(note)  # word-wrapped at blanks and joined back at them: the whole note
    insecure = Counter(r.severity for r in devices[1].results if r.status == Status.FAIL)
    assert rows[LONG_NAME].split()[1:8] == ["partial", *(str(insecure[s]) for s in TABLE_SEVERITIES), "0"]
    assert rows["down-1"].split()[1:8] == ["error", "-", "-", "-", "-", "-", "-"]


def test_names_stay_whole_on_their_line_while_the_note_can_give_way() -> None:
    devices, notes = _devices()
    short = [d for d in devices if d.name != MARKUP_NAME and d.name != LONG_NAME]
    short_notes = [n for d, n in zip(devices, notes, strict=True) if d in short]
    lines = render_fleet_table(short, short_notes, width=80)
    for device in short:  # a row's first line starts with its whole name
        assert any(line.startswith(device.name + " ") for line in lines)
    assert len(lines) > len(short) + 1  # the long refusal wrapped rather than overflowed


def test_wide_characters_are_measured_as_the_terminal_shows_them() -> None:
    secure = _audited("secure-cme")
    devices = [replace(secure, name="東京支店ルーター-01"), replace(secure, name="大阪-02")]
    lines = render_fleet_table(devices, ["応答なし " * 12, ""], width=80)
    assert max(cell_len(line) for line in lines) <= 80
    assert lines[1].startswith("東京支店ルーター-01")


def test_colour_only_when_asked_and_the_same_layout() -> None:
    devices, notes = _devices()
    plain = render_fleet_table(devices, notes, width=100)
    coloured = render_fleet_table(devices, notes, width=100, color=True)
    assert any(SGR.search(line) for line in coloured)
    assert "\x1b[1;31merror" in "\n".join(coloured)  # the device that could not be audited stands out
    assert [SGR.sub("", line).rstrip() for line in coloured] == plain


@pytest.mark.parametrize("color", [False, True])
def test_device_supplied_text_is_never_markup(color: bool) -> None:
    devices, notes = _devices()
    text = SGR.sub("", "\n".join(render_fleet_table(devices, notes, width=200, color=color)))
    assert MARKUP_NAME in text and MARKUP_NOTE in text  # literally: no style, no emoji, no link
    assert "\U0001f604" not in text and "\u26a0" not in text
    assert "\x1b]8;" not in "\n".join(render_fleet_table(devices, notes, width=200, color=color))


def test_a_width_under_40_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 40"):
        render_fleet_table([], [], width=39)


# --------------------------------------------------------------------------------------------------
# Width and colour of what is printed


def test_output_width_of_a_pipe_is_fixed_or_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert common.output_width(io.StringIO()) == common.PIPE_WIDTH == 100
    monkeypatch.setenv("COLUMNS", "132")
    assert common.output_width(io.StringIO()) == 132
    monkeypatch.setenv("COLUMNS", "12")
    assert common.output_width(io.StringIO()) == 40  # nothing is readable narrower
    monkeypatch.setenv("COLUMNS", "wide")
    assert common.output_width(io.StringIO()) == 100


def test_output_width_of_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    master, slave = pty.openpty()
    try:
        with open(slave, "w", closefd=False) as terminal:
            _set_size(slave, 133)
            assert common.output_width(terminal) == 133
            _set_size(slave, 0)  # a pty nobody sized
            assert common.output_width(terminal) == 80
    finally:
        os.close(master)
        os.close(slave)


def test_colour_on_a_terminal_only_and_never_when_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    master, slave = pty.openpty()
    try:
        with open(slave, "w", closefd=False) as terminal:
            assert common.color_on(terminal, no_color=False)
            assert not common.color_on(terminal, no_color=True)  # --no-color
            monkeypatch.setenv("NO_COLOR", "1")
            assert not common.color_on(terminal, no_color=False)
            monkeypatch.delenv("NO_COLOR")
            monkeypatch.setenv("TERM", "dumb")
            assert not common.color_on(terminal, no_color=False)
        assert not common.color_on(io.StringIO(), no_color=False)  # a pipe, a file
    finally:
        os.close(master)
        os.close(slave)


def _result(devices: list[DeviceReport], out_dir: Path) -> FleetResult:
    return FleetResult(
        devices=[FleetDevice(host=None, report=d, snapshot_dir=None, attempts=1, elapsed_s=1.0) for d in devices],  # type: ignore[arg-type]
        report=AuditReport(devices),
        out_dir=out_dir,
        files={"json": out_dir / "report.json"},
        run_id=None,
        interrupted=True,
        not_run=[d.name for d in devices if d.status.unaudited],
        abandoned=[],
        waiver_usage=WaiverUsage(),
        stale_waivers=[],
        expired_waivers=[],
        problems=["the history could not be written: " + "disk full " * 12],
        elapsed_s=12.5,
    )


@pytest.mark.parametrize("columns", [None, "80", "160"])
def test_the_summary_off_a_terminal_is_plain_and_as_wide_as_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: str | None
) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # not a terminal
    devices, _ = _devices()
    out_dir = tmp_path / ("run-" + "x" * 150)  # a path is never broken: it is there to be copied
    text = render_summary(_result(devices, out_dir))
    width = int(columns) if columns else 100
    assert not ANSI.search(text)
    for line in text.splitlines():
        assert cell_len(line) <= width or str(out_dir) in line, line
    assert f"  {out_dir / 'report.json'}" in text.splitlines()
    assert "5 devices in 12.5s: 1 ok, 2 partial, 1 error, 1 not started (2 not audited);" in text
    rows = table_rows(text)
    assert rows["down-1"].endswith(REFUSED)


# --------------------------------------------------------------------------------------------------
# A real fleet run on a pseudo-terminal


PASSWORD_ENV = "TUI_TEST_PASSWORD"
ENABLE_ENV = "TUI_TEST_ENABLE"


@dataclass(frozen=True)
class TuiFleet:
    inventory: Path
    known_hosts: Path
    environment: dict[str, str]


@pytest.fixture(scope="module")
def tui_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TuiFleet]:
    """Five routers on 127.0.0.1, slowed down (so that the bar is seen moving), one down and one
    that never sends its running-config (so that a run can be interrupted with it in flight)."""
    directory = tmp_path_factory.mktemp("tui-fleet")
    slow = Faults(delay_ms=60)
    specs = [
        FakeRouterSpec("br-01", example_dir("secure-cme"), faults=slow),
        FakeRouterSpec("br-02-[bold]x[/]", example_dir("insecure-cme"), faults=slow),
        FakeRouterSpec("br-03", example_dir("plain-ios"), faults=slow),
        FakeRouterSpec("down-1", example_dir("secure-cme"), down=True),
        FakeRouterSpec("hangs-1", example_dir("secure-cme"), faults=Faults(hang_on=("show running-config",))),
    ]
    with FakeFleet(specs) as fleet:
        known_hosts = directory / "known_hosts"
        inventory = fleet.write_inventory(
            directory / "inventory.yaml", password_env=PASSWORD_ENV, enable_secret_env=ENABLE_ENV,
            known_hosts=known_hosts,
        )
        environment = fleet.environment(password_env=PASSWORD_ENV, enable_secret_env=ENABLE_ENV)
        yield TuiFleet(inventory, known_hosts, environment)


def _set_size(fd: int, columns: int, rows: int = 30) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


@dataclass
class PtyRun:
    code: int
    raw: str  # every byte the terminal received, decoded

    @property
    def screen(self) -> list[str]:
        """What stays on the screen, roughly: escapes dropped, a carriage return starting the line over."""
        lines = ANSI.sub("", self.raw).replace("\r\n", "\n").split("\n")
        return [line.split("\r")[-1] for line in lines]


def _run_in_pty(
    fleet: TuiFleet, *args: str, columns: int, env: dict[str, str] | None = None,
    while_running: Callable[[str, subprocess.Popen[bytes]], None] | None = None, timeout: float = 120,
) -> PtyRun:
    """``cmelive fleet`` with stdin, stdout and stderr on one pseudo-terminal of ``columns`` columns
    (and $COLUMNS saying so), as a user at a terminal runs it; ``while_running`` sees the bytes so far."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CMELIVE_") and k not in ("NO_COLOR", "FORCE_COLOR")}
    environment = {**base, **fleet.environment, "TERM": "xterm-256color", "COLUMNS": str(columns), **(env or {})}
    master, slave = pty.openpty()
    _set_size(slave, columns)
    command = [
        sys.executable, "-m", "cmelive", "fleet", str(fleet.inventory), "--known-hosts", str(fleet.known_hosts),
        "--timeout", "10", "--retries", "0", "--no-history", *args,
    ]
    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=environment, start_new_session=True)
    os.close(slave)
    received = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every writer closed the terminal
                    break
                if not chunk:
                    break
                received += chunk
            elif proc.poll() is not None:
                break
            if while_running is not None:
                while_running(received.decode("utf-8", "replace"), proc)
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return PtyRun(code, received.decode("utf-8", "replace"))


def _summary(run: PtyRun) -> list[str]:
    screen = run.screen
    start = next(index for index, line in enumerate(screen) if line.startswith("DEVICE"))
    return screen[start:]


def test_progress_bar_with_eta_then_the_table_on_a_terminal(tui_fleet: TuiFleet, tmp_path: Path) -> None:
    run = _run_in_pty(tui_fleet, "--out", str(tmp_path / "run"), "--host", "br-01", "--host", "br-02-[bold]x[/]",
                      "--host", "br-03", "--host", "down-1", "--workers", "1", columns=90)
    assert run.code == 3, run.raw  # down-1 could not be audited
    assert "Traceback" not in run.raw
    bar = [line for line in ANSI.sub("", run.raw).replace("\n", "\r").split("\r") if " devices " in line]
    assert any(re.search(r"\b0/4 devices .* 0% .*eta -:--:--", line) for line in bar), bar
    assert any(re.search(r"\b[123]/4 devices .* (25|50|75)% \d:\d\d:\d\d eta \d:\d\d:\d\d ", line) for line in bar), bar
    assert any(re.search(r"\b4/4 devices .*100% .*1 not audited, [12] failing", line) for line in bar), bar
    assert max(len(line) for line in bar) <= 90
    # The cursor, hidden while the bar is drawn, is shown again before the summary.
    assert run.raw.rindex("\x1b[?25h") > run.raw.rindex("\x1b[?25l")
    assert run.raw.index("\x1b[?25h") < run.raw.index("DEVICE")
    summary = _summary(run)
    assert summary[0].split() == HEADINGS
    table = summary[: summary.index("")]
    assert max(cell_len(line) for line in table) <= 90
    assert list(table_rows("\n".join(summary))) == ["br-01", "br-02-[bold]x[/]", "br-03", "down-1"]
    assert SGR.search(run.raw[run.raw.index("DEVICE"):])  # a terminal, colour not refused: colour


@pytest.mark.parametrize("refusal", [{"NO_COLOR": "1"}, {}])
def test_no_colour_when_refused_even_on_a_terminal(tui_fleet: TuiFleet, tmp_path: Path, refusal: dict[str, str]) -> None:
    flag = () if refusal else ("--no-color",)
    run = _run_in_pty(tui_fleet, "--out", str(tmp_path / "run"), "--host", "br-01", "--host", "down-1", *flag,
                      columns=80, env=refusal)
    assert run.code == 3, run.raw
    assert not SGR.search(run.raw), run.raw  # neither the bar nor the table: cursor moves only
    assert "2/2 devices" in run.raw
    summary = _summary(run)
    assert max(len(line) for line in summary[: summary.index("")]) <= 80


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupt_stops_the_bar_and_leaves_the_terminal_sane(
    tui_fleet: TuiFleet, tmp_path: Path, stop: signal.Signals
) -> None:
    signalled: list[float] = []

    def interrupt_when_one_is_done(received: str, proc: subprocess.Popen[bytes]) -> None:
        # br-01 done, hangs-1 waiting for its running-config forever: stop it, and again to end the grace.
        if not signalled and "1/2 devices" in ANSI.sub("", received):
            proc.send_signal(stop)
            signalled.append(time.monotonic())
        elif len(signalled) == 1 and time.monotonic() - signalled[0] > 0.5:
            proc.send_signal(stop)
            signalled.append(time.monotonic())

    run = _run_in_pty(tui_fleet, "--out", str(tmp_path / "run"), "--host", "br-01", "--host", "hangs-1",
                      "--workers", "2", columns=100, while_running=interrupt_when_one_is_done, timeout=60)
    assert signalled, run.raw
    assert run.code == 130, run.raw
    assert "Traceback" not in run.raw
    assert run.raw.rindex("\x1b[?25h") > run.raw.rindex("\x1b[?25l")  # the cursor is back
    assert run.raw.index("\x1b[?25h") < run.raw.index("DEVICE")  # the bar ended before the summary
    screen = run.screen
    drawn = " ".join(ANSI.sub("", run.raw).split())  # the tally may wrap to a second line
    assert "0 not audited, 0 failing; stopping: interrupt again to abandon those in flight" in drawn, drawn
    assert any(line.startswith("Interrupted: 1 device not audited: hangs-1") for line in screen), screen
    rows = table_rows("\n".join(_summary(run)))
    assert rows["br-01"].split()[1] == "ok" and rows["hangs-1"].split()[1] == "interrupted"


@pytest.mark.parametrize("option", ["--quiet", "-v"])
def test_no_bar_with_quiet_or_verbose_even_on_a_terminal(tui_fleet: TuiFleet, tmp_path: Path, option: str) -> None:
    run = _run_in_pty(tui_fleet, "--out", str(tmp_path / "run"), "--host", "br-01", option, columns=100)
    assert run.code == 0, run.raw
    assert "1/1 devices" not in run.raw and "\x1b[?25l" not in run.raw
    if option == "--quiet":
        assert run.raw == ""  # nothing at all: the reports are in the run directory
    else:
        assert " INFO " in run.raw and "DEVICE" in run.raw  # the log on stderr, then the summary
