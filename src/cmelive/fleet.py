"""The fleet runner: audit many routers at once, isolate their faults, keep everything, report.

:func:`run_fleet` is the library behind ``cmelive fleet``; it knows nothing of the command line.
For each inventory host, on a pool of ``workers`` collector threads:

1. read the host's credentials (an unset variable fails that host, not the run);
2. build its :class:`~cmelive.collect.Target` (a ``jump_host`` becomes a per-run ssh_config
   snippet with ``ProxyJump``, which netmiko turns into ``ssh -W``);
3. collect, retrying **only** connection failures (:class:`~cmelive.errors.ConnectError`) with
   exponential backoff and jitter -- a refused login or host key would be refused again;

then, in a judge (:mod:`cmelive.judging`: worker processes, so that judging never competes with
the collectors for the GIL):

4. write what was collected to ``snapshots/<device>/`` (masked) *before* judging it, so a partly
   collected device keeps its outputs whatever happens next;
5. audit it with the host's policy, apply the waivers (device name, groups, tags), and render its
   part of every report;

and, back in the calling thread, record it in the run history as soon as it is judged. At the end
the reports are the devices' parts joined: no device is rendered twice.

At most ``workers`` devices are being collected at any time, and at most ``2 x workers`` wait for a
judge: a collector is free for the next router as soon as its device is collected, and Ctrl-C
never leaves more than that to finish.

As in Nornir (``Task.start`` storing ``Result(exception=...)``), one device's failure never stops
the run: :class:`~cmelive.errors.CmeliveError` becomes that device's ``error`` status with its
message; any other exception too, with its type and message, and its traceback goes to the log.

Stopping a run (Ctrl-C, or SIGTERM, which ``cmelive fleet`` turns into the same) is bounded
whatever the routers do:

1. the first signal stops the queue: devices not begun are ``not_started``; the devices in flight
   get :data:`INTERRUPT_GRACE_S` seconds (``interrupt_grace``) to finish, and every device
   collected in that time is judged;
2. when the grace is over, or at a second signal, the devices still in flight are abandoned as
   ``interrupted``: their collector threads are left to their routers (a thread blocked in a
   socket read cannot be stopped; ``cmelive fleet`` ends the process with ``os._exit`` once all is
   written), judge processes still busy are terminated;
3. every report is written with every device of the inventory, each with the status it ended in,
   the history records the same, the run is marked incomplete and its lock released.

From the first signal on, further signals only cut the grace short: they cannot break the writing
of the reports. ``kill -9`` leaves no reports, but the history lists every device with where it
got to (see :mod:`cmelive.history`), the judge processes die with the run (see
:mod:`cmelive.judging`) and the lock is free for the next run.

The run directory gets ``report.json`` (the single-router schema, one entry per device, in
inventory order), ``report.csv``, ``report.sarif``, ``report.junit.xml``, ``report.html`` and
``snapshots/<device>/``. It must be new or empty: a run never overwrites another run's evidence.
"""

from __future__ import annotations

import logging
import os
import random as random_module
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cmelive import output_files
from cmelive.collect import Collector, Limits, Target
from cmelive.commands import AUDIT_COMMANDS, CommandStatus
from cmelive.errors import AuthenticationError, CmeliveError, ConnectError, HistoryError, InputError, UsageError
from cmelive.fleet_defaults import DEFAULT_RETRIES, DEFAULT_WORKERS, LOG_FILE, REPORT_FILES, SNAPSHOTS_DIR
from cmelive.history import DeviceRows, History, RunHandle
from cmelive.inventory import InventoryHost, host_policy, resolve_credentials
from cmelive.judging import (
    DeviceParts,
    JudgeJob,
    Verdict,
    default_judge_processes,
    judges_for_run,
    relog,
    render_parts,
    unexpected,
)
from cmelive.policy import Policy
from cmelive.report.html import TrendPoint, device_anchor
from cmelive.report.model import INTERRUPTED_ERROR, NOT_STARTED_ERROR, AuditReport, DeviceReport, DeviceStatus
from cmelive.report.spool import JsonLocations, PartsSpool, Summaries, write_streamed_reports
from cmelive.snapshot import Snapshot, utc_now
from cmelive.waivers import Waiver, WaiverUsage

log = logging.getLogger(__name__)

#: The first retry waits about this long; each next one twice as long, up to the cap.
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 30.0
#: After a first Ctrl-C or SIGTERM, the devices in flight get this long to finish (see the module
#: docstring): long enough for a device between two commands, short enough for systemd's
#: 90 s stop timeout and an impatient operator.
INTERRUPT_GRACE_S = 5.0
# How often the grace wait looks for a second signal.
_GRACE_POLL_S = 0.1

#: Test-only (documented in tests/test_fleet_crash.py): ``CMELIVE_TEST_PAUSE_AT=<point>`` makes a
#: run write the file named by ``CMELIVE_TEST_PAUSE_MARKER`` at that point and pause, so that a
#: test can kill it there. Points: ``start`` (run lock held, judges forked, no device begun),
#: ``report`` (every device recorded, no report written).
TEST_PAUSE_ENV = "CMELIVE_TEST_PAUSE_AT"
TEST_PAUSE_MARKER_ENV = "CMELIVE_TEST_PAUSE_MARKER"
_TEST_PAUSE_S = 60.0

CollectorFactory = Callable[[], Collector]
Sleep = Callable[[float], object]


# --------------------------------------------------------------------------------------------------
# Results


class FleetDevice:
    """One finished device: its report (waivers applied), where its snapshot went, how it went.

    A run keeps only each device's :attr:`summary` (its report without evidence nor remediation,
    see :mod:`cmelive.report.spool`) once its parts are written to disk, so that its memory does not
    grow with the fleet: :attr:`report` is then read back from the run's report.json when asked
    for (the same report, but for the router log lines of its commands, which report.json does
    not hold; the summary when report.json could not be written).
    """

    __slots__ = ("host", "summary", "snapshot_dir", "attempts", "elapsed_s", "parts", "history_rows", "_report",
                 "_source")

    def __init__(
        self,
        host: InventoryHost,
        report: DeviceReport | None,
        snapshot_dir: Path | None,  # None when nothing was collected
        attempts: int,  # connection attempts made (0: never tried, e.g. credentials missing)
        elapsed_s: float,
        parts: DeviceParts | None = None,  # its part of each report, made by its judge
        history_rows: DeviceRows | None = None,  # what the run history records of it, made by its judge
        *,
        summary: DeviceReport | None = None,
        source: tuple[JsonLocations, int] | None = None,  # where report.json holds it
    ) -> None:
        if report is None and summary is None:
            raise ValueError("a fleet device needs its report or its summary")
        self.host = host
        self._report = report
        self.summary: DeviceReport = summary if summary is not None else report  # type: ignore[assignment]
        self.snapshot_dir = snapshot_dir
        self.attempts = attempts
        self.elapsed_s = elapsed_s
        self.parts = parts
        self.history_rows = history_rows
        self._source = source

    @property
    def report(self) -> DeviceReport:
        if self._report is not None:
            return self._report
        if self._source is not None:
            from cmelive.api import _device_from_dict

            locations, index = self._source
            return _device_from_dict(locations.load(index), str(locations.path))
        return self.summary

    def located(self, locations: JsonLocations, index: int) -> FleetDevice:
        """This device, its full report to be read from ``locations`` (a spooled device only)."""
        if self._report is not None:
            return self
        return FleetDevice(
            self.host, None, self.snapshot_dir, self.attempts, self.elapsed_s, summary=self.summary,
            source=(locations, index),
        )

    def __repr__(self) -> str:
        return f"FleetDevice({self.host.name if self.host is not None else None!r}, {self.summary.status!s})"


@dataclass
class FleetResult:
    """What a fleet run did. ``devices`` and ``report.devices`` are in inventory order and hold
    every device of the inventory: those an interruption left out (``not_run``) are there as
    ``interrupted`` (in flight, ``abandoned``) or ``not_started``."""

    devices: list[FleetDevice]
    report: AuditReport
    out_dir: Path
    files: dict[str, Path]  # report kind ("json", "csv", ...) -> path written
    run_id: int | None  # the history run, when a history was used
    interrupted: bool
    not_run: list[str]
    abandoned: list[str]  # in flight when the grace ended or a second Ctrl-C came (their threads linger)
    waiver_usage: WaiverUsage
    stale_waivers: list[Waiver]
    expired_waivers: list[Waiver]
    problems: list[str]  # run-level trouble that did not stop the run (history, snapshot writes)
    elapsed_s: float
    judge_processes: int = 0  # worker processes that judged (0: this process did)

    #: Every device's summary (see :class:`FleetDevice`), for what needs no evidence: the summary
    #: table, the exit code, the metrics. None: ``report`` holds them.
    summary: AuditReport | None = None

    @property
    def errors(self) -> list[FleetDevice]:
        return [d for d in self.devices if d.summary.status == DeviceStatus.ERROR]

    @property
    def summary_report(self) -> AuditReport:
        """:attr:`summary`, or :attr:`report` when there is none."""
        return self.summary if self.summary is not None else self.report


# --------------------------------------------------------------------------------------------------
# Small pieces (public so the CLI and tests can use them)


def default_collector() -> Collector:
    """netmiko, with no one to ask for an enable secret: the inventory must name it."""
    from cmelive.collect.live import (
        NetmikoCollector,  # paramiko and netmiko load when first needed
    )

    return NetmikoCollector(enable_secret_prompt=_enable_secret_missing)


def _enable_secret_missing(label: str) -> str:
    raise AuthenticationError(
        f"{label}: the login lands in user EXEC mode and 'enable' needs a secret: "
        "set enable_secret_env for this host in the inventory"
    )


def backoff_delay(retry: int, jitter: float) -> float:
    """Seconds to wait before retry number ``retry`` (0-based): 1, 2, 4 ... capped at 30, each
    scaled by ``0.5 + jitter / 2`` (``jitter`` in [0, 1)) so a rack of routers that went down
    together is not retried in lockstep."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2**retry))
    return ceiling * (0.5 + 0.5 * jitter)


# Kept: letters and digits of any script, and . _ - @ + =; everything else becomes "_".
_UNSAFE_IN_DIR_NAME = re.compile(r"[^\w.@+=-]")
_MAX_DIR_NAME = 100


def snapshot_dir_names(names: Sequence[str]) -> dict[str, str]:
    """A directory name for every device name: no ``/``, no leading dot (so no ``..``), no control
    characters, unique even on a case-insensitive file system. Safe names are kept as they are
    (the usual case); a clash gets ``-2``, ``-3`` ... in inventory order."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        base = _UNSAFE_IN_DIR_NAME.sub("_", name).lstrip(".")[:_MAX_DIR_NAME] or "device"
        candidate, number = base, 2
        while candidate.casefold() in taken:
            candidate, number = f"{base}-{number}", number + 1
        taken.add(candidate.casefold())
        out[name] = candidate
    return out


def jump_host_ssh_config(host: InventoryHost, directory: Path) -> Path:
    """Write ``Host <address>`` / ``ProxyJump <jump_host>`` for ``host`` into ``directory``.

    The host's own ssh_config, if any, follows our block: OpenSSH and paramiko take the first
    value they find for a key, so our ``ProxyJump`` wins and its other settings still apply (to
    the bastion hop too: netmiko runs ``ssh -F <this file> -W host:port <hop>``). A hop with a
    port is written as an ``ssh://`` URI, the only way ``ssh`` takes a port in a destination.
    """
    assert host.jump_host is not None
    hop = _hop_destination(host.jump_host)
    lines = [
        f"# Written by cmelive for inventory host {host.name!r}: reach it through its jump host.",
        f"Host {host.address}",
        f"    ProxyJump {hop}",
        "",
    ]
    if host.ssh_config is not None:
        try:
            own = host.ssh_config.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(str(host.ssh_config), f"cannot read ssh_config: {exc.strerror}") from exc
        lines += [f"# The host's own ssh_config ({host.ssh_config}):", own]
    path = directory / f"{snapshot_dir_names([host.name])[host.name]}.ssh_config"
    return output_files.write_file(path, "\n".join(lines) + "\n", doing="cannot write the jump host's ssh_config")


# OpenSSH's ProxyJump form: [user@]host[:port], the host an IPv6 address in brackets when a port follows.
_HOP = re.compile(r"(?P<user>[^@]+@)?(?P<host>\[[^\]]+\]|[^@\[\]]+?)(?::(?P<port>\d+))?")


def _hop_destination(jump_host: str) -> str:
    """The hop as an ``ssh`` destination: ``ssh`` takes ``user@host`` but wants a port (or a
    bracketed address) as an ``ssh://`` URI, and netmiko passes the hop to ``ssh`` as it is."""
    match = _HOP.fullmatch(jump_host)
    if match is not None and (match["port"] is not None or match["host"].startswith("[")):
        return f"ssh://{jump_host}"
    return jump_host


def prepare_run_dir(out_dir: Path) -> None:
    """Create the run directory (0700), refusing a symlink, another user's directory, or one that
    already holds anything but our own log file (see :mod:`cmelive.output_files`)."""
    directory, _ = output_files.own_dir(out_dir, what="run directory (--out)")
    with directory:
        try:
            present = [n for n in directory.names() if not (n == LOG_FILE and directory.owned_file(n))]
            if not present:
                directory.make_private()
        except OSError as exc:
            raise output_files.write_error(out_dir, "--out: cannot use the run directory", exc) from exc
        if present:
            shown = output_files.foreign_description(directory, present)
            raise UsageError(
                f"--out {out_dir}: the run directory is not empty ({shown}); every run writes to a new "
                "directory, so no run overwrites another's evidence (e.g. --out runs/$(date +%F-%H%M))"
            )


# --------------------------------------------------------------------------------------------------
# The runner


def run_fleet(
    hosts: Sequence[InventoryHost],
    *,
    out_dir: Path,
    workers: int = DEFAULT_WORKERS,
    timeout: float,
    retries: int = DEFAULT_RETRIES,
    base_policy: Policy,
    waivers: Sequence[Waiver] = (),
    history: History | None = None,
    inventory_label: str = "",
    known_hosts: tuple[Path, ...] = (),
    accept_new_host_key: bool = False,
    progress: Callable[[DeviceReport], None] | None = None,
    collector_factory: CollectorFactory = default_collector,
    sleep: Sleep | None = None,
    jitter: Callable[[], float] = random_module.random,
    today: date | None = None,
    judge_processes: int | None = None,
    limits: Limits | None = None,
    interrupt_grace: float = INTERRUPT_GRACE_S,
) -> FleetResult:
    """Audit ``hosts`` concurrently and write the run directory; see the module docstring.

    ``timeout`` applies per connection and per command, unless the host sets its own; so do
    ``limits`` (:mod:`cmelive.collect.limits`: each command's and each session's deadline, each
    output's size), which a host may raise or lower one by one.
    ``retries`` is how many more connection attempts a device gets after a connection failure.
    ``progress`` is called in the calling thread with each device's report as it finishes.
    ``sleep`` waits between retries (default: a wait that Ctrl-C cuts short); ``jitter`` draws
    in [0, 1) for the backoff; ``today`` decides waiver expiry (default: the local date).
    ``judge_processes`` is how many worker processes judge the devices (default: one per CPU, at
    most 4; 0 judges in this process). ``interrupt_grace`` is how long the devices in flight get
    to finish after a first Ctrl-C.

    Raises :class:`~cmelive.errors.UsageError` for bad arguments or a non-empty ``out_dir``, and
    :class:`~cmelive.errors.RunLockedError` at once when another run holds ``history``.
    """
    if not hosts:
        raise UsageError("no hosts to audit")
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, not {workers}")
    if retries < 0:
        raise UsageError(f"--retries must be 0 or more, not {retries}")
    if timeout <= 0:
        raise UsageError(f"--timeout must be positive, not {timeout:g}")
    if judge_processes is not None and judge_processes < 0:
        raise UsageError(f"judge processes must be 0 or more, not {judge_processes}")
    prepare_run_dir(out_dir)
    runner = _FleetRun(
        hosts=list(hosts),
        out_dir=out_dir,
        timeout=timeout,
        retries=retries,
        base_policy=base_policy,
        waivers=list(waivers),
        known_hosts=known_hosts,
        accept_new_host_key=accept_new_host_key,
        collector_factory=collector_factory,
        sleep=sleep,
        jitter=jitter,
        today=today or date.today(),
        limits=limits if limits is not None else Limits(),
        interrupt_grace=interrupt_grace,
    )
    started = time.monotonic()
    handle = (
        history.start_run(inventory_label, len(hosts), [(host.name, host.address) for host in hosts])
        if history is not None
        else None
    )
    runner.history, runner.handle = history, handle
    complete = False
    try:
        with tempfile.TemporaryDirectory(prefix="cmelive-fleet-") as scratch, PartsSpool(out_dir) as runner.spool:
            runner.scratch = Path(scratch)
            processes = default_judge_processes() if judge_processes is None else judge_processes
            finished, interrupted, abandoned = runner.run_all(workers, processes, history, handle, progress)
            # Every device of the inventory is in every report: those left out say where they got to.
            for index, host in enumerate(runner.hosts):
                if index not in finished:
                    finished[index] = runner.left_out(index, host)
                    runner.record(history, handle, finished[index])
            _test_pause("report")
            devices = [runner.spooled(index, finished[index], last=True) for index in sorted(finished)]
            del finished
            summary = AuditReport([device.summary for device in devices], generated_at=utc_now())
            trend = _trend(history, handle.scope if handle is not None else None) if history is not None else []
            files, locations = write_streamed_reports(
                out_dir, summary, runner.spool, problems=runner.problems, trend=trend, dir_names=runner.dir_names
            )
        if locations is not None:
            devices = [device.located(locations, index) for index, device in enumerate(devices)]
        report = _LazyAuditReport(devices, generated_at=summary.generated_at)
        complete = not interrupted and not runner.history_failed
    finally:
        runner.restore_signals()
        if history is not None and handle is not None:
            history.finish_run(handle, complete=complete)
    usage = runner.usage
    return FleetResult(
        devices=devices,
        report=report,
        out_dir=out_dir,
        files=files,
        run_id=handle.run_id if handle is not None else None,
        interrupted=interrupted,
        not_run=[d.host.name for d in devices if d.summary.status in (DeviceStatus.INTERRUPTED, DeviceStatus.NOT_STARTED)],
        abandoned=[runner.hosts[index].name for index in abandoned],
        waiver_usage=usage,
        stale_waivers=usage.stale(waivers),
        expired_waivers=[w for w in waivers if w in usage.expired],
        problems=list(runner.problems),
        elapsed_s=time.monotonic() - started,
        judge_processes=runner.judge_processes,
        summary=summary,
    )


class _LazyAuditReport(AuditReport):
    """A fleet's :class:`AuditReport`: its devices' full reports read back from report.json on
    first use (see :class:`FleetDevice`), so that a run holds them only if its caller asks."""

    def __init__(self, devices: list[FleetDevice], *, generated_at: str) -> None:
        self._fleet_devices = devices
        self._devices: list[DeviceReport] | None = None
        self.generated_at = generated_at

    @property
    def devices(self) -> list[DeviceReport]:
        if self._devices is None:
            self._devices = [device.report for device in self._fleet_devices]
        return self._devices

    @devices.setter
    def devices(self, value: list[DeviceReport]) -> None:
        self._devices = value


class _FleetRun:
    """The state of one run, shared by its worker threads (only ``problems`` and ``usage`` are
    written by them: list.append and set.add are atomic)."""

    def __init__(
        self,
        *,
        hosts: list[InventoryHost],
        out_dir: Path,
        timeout: float,
        retries: int,
        base_policy: Policy,
        waivers: list[Waiver],
        known_hosts: tuple[Path, ...],
        accept_new_host_key: bool,
        collector_factory: CollectorFactory,
        sleep: Sleep | None,
        jitter: Callable[[], float],
        today: date,
        limits: Limits | None = None,
        interrupt_grace: float = INTERRUPT_GRACE_S,
    ) -> None:
        self.hosts = hosts
        self.limits = limits if limits is not None else Limits()
        self.interrupt_grace = interrupt_grace
        self.handle: RunHandle | None = None
        self.history: History | None = None
        self.began: set[int] = set()  # devices whose turn began (set.add is atomic)
        self.signalled_again = False
        self._previous_handlers: dict[int, Any] = {}
        self.out_dir = out_dir
        self.timeout = timeout
        self.retries = retries
        self.base_policy = base_policy
        self.waivers = waivers
        self.known_hosts = known_hosts
        self.accept_new_host_key = accept_new_host_key
        self.collector_factory = collector_factory
        self.stop = threading.Event()
        self.sleep: Sleep = sleep if sleep is not None else self.stop.wait
        self.jitter = jitter
        self.today = today
        self.dir_names = snapshot_dir_names([host.name for host in hosts])
        self.usage = WaiverUsage()
        self.problems: list[str] = []
        self.history_failed = False
        self.scratch = out_dir
        self.judge_processes = 0
        self.spool: PartsSpool | None = None
        self.summaries = Summaries()

    # -- the pool ------------------------------------------------------------------------------

    def run_all(
        self,
        workers: int,
        judge_processes: int,
        history: History | None,
        handle: RunHandle | None,
        progress: Callable[[DeviceReport], None] | None,
    ) -> tuple[dict[int, FleetDevice], bool, list[int]]:
        """Run every host; returns the finished devices by inventory index, whether Ctrl-C cut the
        run short, and the indexes of devices abandoned in flight (grace over, or a second Ctrl-C)."""
        finished: dict[int, FleetDevice] = {}
        recorded: set[int] = set()
        handed_over: set[int] = set()
        collecting: dict[Future[_Collected], int] = {}
        judging: dict[Future[Verdict], _Collected] = {}

        def take_done(done: Sequence[Future[Any]]) -> None:
            # Written so that a Ctrl-C landing anywhere in here loses no device: a future leaves
            # its dict only once its device has moved on (to a judge, or into ``finished``); a
            # future seen done twice is not handed over twice; the history catches up below.
            for future in done:
                if future in collecting:
                    index = collecting[future]
                    if index not in handed_over and not future.cancelled():
                        collected = future.result()  # collect_device catches every Exception
                        if not collected.not_started:  # its turn came after the run was stopped
                            judging[completions.watch(judges.submit(self.job(collected)))] = collected
                        handed_over.add(index)
                    del collecting[future]
                elif future in judging:
                    collected = judging[future]
                    index = collected.index
                    if index not in finished:
                        finished[index] = self.finish(collected, future.result())  # judge() never raises
                    del judging[future]
                    if index not in recorded:
                        recorded.add(index)
                        self.record(history, handle, finished[index])
                        if progress is not None:
                            progress(finished[index].report)
                    # Its parts to disk, its summary kept: memory bounded by the devices in flight.
                    finished[index] = self.spooled(index, finished[index])

        completions = _Completions()

        def wait_for_any(timeout: float | None = None) -> None:
            done = completions.wait(timeout)
            take_done(done)
            completions.taken(done)

        queue = iter(enumerate(self.hosts))

        def start_more() -> None:
            # Up to ``workers`` devices wait in the collectors' queue behind the ``workers`` being
            # collected: a collector that is done takes the next one at once, without waiting
            # for this thread (busy with verdicts) to hand it over. A collector is free once its
            # device is collected; judging is bounded apart. Ctrl-C cancels the queued devices,
            # and never leaves more than 3 x workers to finish.
            while not self.stop.is_set() and len(collecting) < 2 * workers and len(judging) < 2 * workers:
                item = next(queue, None)
                if item is None:
                    return
                index, host = item
                collecting[completions.watch(collectors.submit(self.collect_device, index, host))] = index

        # Judges first: their worker processes are forked before any thread of the run exists (or
        # were, before its inventory was read: judging.judges_forked_early).
        judges = judges_for_run(judge_processes, len(self.hosts))
        self.judge_processes = judges.processes
        log.info("judging in %s", f"{judges.processes} worker process(es)" if judges.processes else "this process")
        collectors = ThreadPoolExecutor(max_workers=min(workers, len(self.hosts)), thread_name_prefix="cmelive-fleet")
        interrupted = abandoned = False
        try:
            _test_pause("start")
            start_more()
            while collecting or judging:
                wait_for_any()
                start_more()
        except KeyboardInterrupt:
            interrupted = True
            self.stop.set()
            # From here on a signal only sets a flag: nothing can break the writing of the reports.
            self.defer_signals()
            for future in [f for f in collecting if f.cancel()]:
                del collecting[future]
            log.warning(
                "interrupted: %d device(s) in flight get %gs to finish", len(collecting) + len(judging),
                self.interrupt_grace,
            )
            abandoned = self.grace(collecting, judging, wait_for_any)
        finally:
            collectors.shutdown(wait=not abandoned, cancel_futures=True)
            if abandoned:
                judges.terminate()
            judges.shutdown(wait=not abandoned)
            if judges.lost is not None:
                self.problems.append(f"judge processes lost ({judges.lost}); the rest were judged in this process")
        for index in sorted(set(finished) - recorded):
            self.record(history, handle, finished[index])
        return finished, interrupted, sorted(self.began - set(finished)) if abandoned else []

    def grace(
        self,
        collecting: Mapping[Future[_Collected], int],
        judging: Mapping[Future[Verdict], _Collected],
        wait_for_any: Callable[[float], None],
    ) -> bool:
        """Wait for the devices in flight, up to the grace or a second signal; True if some were
        abandoned (their collector threads finish, or time out, on their own; results dropped)."""
        deadline = time.monotonic() + self.interrupt_grace
        try:
            while collecting or judging:
                left = deadline - time.monotonic()
                if self.signalled_again or left <= 0:
                    why = "interrupted again" if self.signalled_again else f"grace of {self.interrupt_grace:g}s over"
                    log.warning("%s: %d device(s) abandoned", why, len(collecting) + len(judging))
                    return True
                wait_for_any(min(left, _GRACE_POLL_S))
        except KeyboardInterrupt:  # not from a signal (they only set a flag now): e.g. a progress callback
            log.warning("interrupted again: %d device(s) abandoned", len(collecting) + len(judging))
            return True
        return False

    def defer_signals(self) -> None:
        """SIGINT and SIGTERM only set :attr:`signalled_again` until :meth:`restore_signals`
        (signal handlers belong to the main thread: elsewhere, only the grace ends the wait)."""
        if threading.current_thread() is not threading.main_thread() or self._previous_handlers:
            return

        def again(signum: int, frame: object) -> None:
            # Only a flag: an Event set from a handler can deadlock on its own lock (cli.stop_signals).
            self.signalled_again = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous_handlers[sig] = signal.signal(sig, again)

    def restore_signals(self) -> None:
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)
        self._previous_handlers.clear()

    def left_out(self, index: int, host: InventoryHost) -> FleetDevice:
        """A device the run was stopped before finishing: ``interrupted`` if its turn had begun."""
        status, error = (
            (DeviceStatus.INTERRUPTED, INTERRUPTED_ERROR) if index in self.began
            else (DeviceStatus.NOT_STARTED, NOT_STARTED_ERROR)
        )
        report = DeviceReport(name=host.name, host=host.address, hostname=None, status=status, error=error)
        return FleetDevice(host, report, None, 0, 0.0)

    def record(self, history: History | None, handle: RunHandle | None, device: FleetDevice) -> None:
        if history is None or handle is None:
            return
        try:
            history.record_device(handle, device.report, device.history_rows)
        except HistoryError as exc:
            # The audit itself stands (its reports are written); the history run will say incomplete.
            self.history_failed = True
            self.problems.append(f"history: {exc}")
            log.error("%s", exc)

    # -- one device ----------------------------------------------------------------------------

    def collect_device(self, index: int, host: InventoryHost) -> _Collected:
        """Credentials, target, collection (on a collector thread); never raises (an ``Exception``)."""
        started = time.monotonic()
        attempts = _Attempts()
        if self.stop.is_set():  # taken from the queue as the run was being stopped
            return _Collected(index, host, started, attempts, not_started=True)
        self.began.add(index)
        if self.history is not None and self.handle is not None:
            try:
                self.history.mark_in_flight(self.handle, host.name)
            except HistoryError as exc:  # the audit goes on; the history run will say incomplete
                self.history_failed = True
                self.problems.append(f"history: {exc}")
                log.error("%s", exc)
        try:
            password, enable_secret = resolve_credentials(host)
            target = self.target(host, password, enable_secret)
            return _Collected(index, host, started, attempts, snapshot=self.collect(target, attempts))
        except CmeliveError as exc:
            log.error("%s: %s", host.name, exc)
            return _Collected(index, host, started, attempts, error=str(exc))
        except Exception as exc:  # one device's bug must not stop the fleet
            log.exception("%s: unexpected error", host.name)
            return _Collected(index, host, started, attempts, error=unexpected("unexpected error", exc))

    def job(self, collected: _Collected) -> JudgeJob:
        host = collected.host
        return JudgeJob(
            host=host,
            snapshot=collected.snapshot,
            error=collected.error,
            policy=host_policy(host, self.base_policy),
            waivers=tuple(self.waivers),
            today=self.today,
            snapshot_dir=self.out_dir / SNAPSHOTS_DIR / self.dir_names[host.name],
            snapshots_dir=SNAPSHOTS_DIR,
            anchor=device_anchor(collected.index, host.name),
        )

    def finish(self, collected: _Collected, verdict: Verdict) -> FleetDevice:
        """Take in a judge's verdict (in the calling thread): its log lines, problems, waiver use."""
        host = collected.host
        relog(verdict)
        for message in verdict.errors:
            log.error("%s", message)
        self.problems.extend(verdict.problems)
        self.usage.update(verdict.usage)
        report = verdict.report
        elapsed = time.monotonic() - collected.started
        attempts = collected.attempts.count
        log.info("%s: %s in %.2fs (%d attempt(s))", host.name, report.status, elapsed, attempts)
        return FleetDevice(host, report, verdict.snapshot_dir, attempts, elapsed, verdict.parts, verdict.history_rows)

    def spooled(self, index: int, device: FleetDevice, *, last: bool = False) -> FleetDevice:
        """``device`` with its parts in the spool and only its summary kept. Until ``last`` (the
        reports are next) a device whose parts its judge could not make, or that the disk cannot
        take, stays whole: it is tried again then, and fails as the reports would."""
        assert self.spool is not None
        if device._report is None or index in self.spool:
            return device
        if device.parts is None and not last:
            return device
        try:
            self.spool.add(index, device.parts or self.render_parts(device))
        except OSError as exc:
            if last:
                raise output_files.write_error(self.out_dir, "cannot write report", exc) from exc
            log.warning("%s: its report parts could not be spooled yet: %s", device.host.name, exc)
            return device
        return FleetDevice(
            device.host, None, device.snapshot_dir, device.attempts, device.elapsed_s,
            summary=self.summaries.summarize(device.report),
        )

    def render_parts(self, device: FleetDevice) -> DeviceParts:
        """A device's report parts, made here when its judge could not make them."""
        name = device.host.name
        return render_parts(
            device.report, snapshots_dir=SNAPSHOTS_DIR, device_dir=self.dir_names[name],
            anchor=device_anchor(self.hosts.index(device.host), name), today=self.today,
        )

    def target(self, host: InventoryHost, password: str | None, enable_secret: str | None) -> Target:
        ssh_config = host.ssh_config
        if host.jump_host is not None:
            ssh_config = jump_host_ssh_config(host, self.scratch)
        return Target(
            host=host.address,
            port=host.port,
            username=host.username,
            password=password,
            enable_secret=enable_secret,
            key_file=host.key_file,
            ssh_config=ssh_config,
            timeout=host.timeout if host.timeout is not None else self.timeout,
            # The command line's files first (accept-new records in the first), then the inventory's.
            known_hosts=self.known_hosts + tuple(
                path for path in (host.known_hosts,) if path is not None and path not in self.known_hosts
            ),
            accept_new_host_key=self.accept_new_host_key,
            name=host.name,
            limits=self.limits.with_overrides(
                command_deadline_s=host.command_deadline,
                session_deadline_s=host.session_deadline,
                max_output=host.max_output,
            ),
        )

    def collect(self, target: Target, attempts: _Attempts) -> Snapshot:
        """Collect, retrying connection failures only; ``attempts`` counts the tries, even when
        the last one raises."""
        collector = self.collector_factory()
        while True:
            attempts.count += 1
            attempt = attempts.count
            try:
                return collector.collect(target, AUDIT_COMMANDS)
            except ConnectError as exc:
                if attempt > self.retries or self.stop.is_set():
                    if attempt > 1:
                        raise ConnectError(f"{exc} (after {attempt} attempts)") from exc
                    raise
                delay = backoff_delay(attempt - 1, self.jitter())
                log.warning("%s: %s; retrying in %.1fs", target.label, exc, delay)
                self.sleep(delay)
                if self.stop.is_set():
                    raise


class _Completions:
    """The watched futures that are done and not yet taken in, in the order they finished.

    Cheaper than ``concurrent.futures.wait`` over every future in flight, which locks and unlocks
    each of them twice per call (a fleet's main loop waits a few hundred times on ~100 futures,
    under the GIL the collector threads need). Interrupt-safe: a future stays here until the loop
    has taken it in (:meth:`taken`), so a Ctrl-C landing anywhere loses none.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[Future[Any], None] = {}  # a dict: ordered, unlike a set
        self._ready = threading.Event()  # set while _done is not empty

    def watch(self, future: Future[Any]) -> Future[Any]:
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: Future[Any]) -> None:
        with self._lock:
            self._done[future] = None
            self._ready.set()

    def wait(self, timeout: float | None = None) -> list[Future[Any]]:
        """Block until a watched future is done (or ``timeout``); every done one not yet taken in."""
        with self._lock:
            if not self._done:
                self._ready.clear()
        self._ready.wait(timeout)
        with self._lock:
            return list(self._done)

    def taken(self, futures: Sequence[Future[Any]]) -> None:
        with self._lock:
            for future in futures:
                self._done.pop(future, None)


@dataclass
class _Attempts:
    count: int = 0


@dataclass(frozen=True)
class _Collected:
    """What a collector hands to the judge: the snapshot, or why there is none."""

    index: int  # in the inventory
    host: InventoryHost
    started: float  # time.monotonic() when the device's turn began
    attempts: _Attempts
    snapshot: Snapshot | None = None
    error: str | None = None
    not_started: bool = False  # its turn came after the run was stopped: never begun


def _test_pause(point: str) -> None:
    """The test-only pause (see :data:`TEST_PAUSE_ENV`): a no-op unless a test asked for it."""
    if os.environ.get(TEST_PAUSE_ENV) != point:
        return
    marker = os.environ.get(TEST_PAUSE_MARKER_ENV)
    if marker:
        Path(marker).write_text(f"{os.getpid()}\n", encoding="utf-8")
    time.sleep(_TEST_PAUSE_S)


def _trend(history: History, scope: str | None) -> list[TrendPoint]:
    # The run's own scope (region): other regions writing the same history are not its trend.
    return [TrendPoint(p.run_id, p.started_at, dict(p.failures)) for p in history.trend(scope=scope)]


def command_problems(report: DeviceReport) -> list[str]:
    """``show running-config: timeout: timed out ...`` for each command that did not complete."""
    return [
        f"{c.command}: {c.status}" + (f": {c.error}" if c.error else "")
        for c in report.commands
        if c.status != CommandStatus.OK
    ]


__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_WORKERS",
    "INTERRUPT_GRACE_S",
    "LOG_FILE",
    "REPORT_FILES",
    "SNAPSHOTS_DIR",
    "FleetDevice",
    "FleetResult",
    "backoff_delay",
    "command_problems",
    "default_collector",
    "jump_host_ssh_config",
    "prepare_run_dir",
    "run_fleet",
    "snapshot_dir_names",
]
