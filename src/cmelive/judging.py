"""Judging a collected device, off the collectors' interpreter.

To judge a device is to keep its snapshot (masked, before anything else, so a partly collected
device keeps its outputs), audit it with its policy, apply the waivers, and render its part of
every fleet report and its rows for the run history. :func:`judge` does all of it for one
:class:`JudgeJob` and never raises.

Why worker processes: collecting is waiting on routers, judging is CPU work. In one interpreter
the two share the GIL, so every audit delays every collector's next read; on
``bench/bench_fleet.py``'s fleet (200 routers at 100 ms per answer, 50 workers, 2 CPUs) the
client process was CPU-bound on one core for the whole run. :class:`Judges` runs jobs in a pool of
processes (one per CPU, at most :data:`MAX_JUDGE_PROCESSES`) and falls back to one thread of this
process when processes cannot be had, or when the pool breaks mid-run (a worker killed, e.g. by
the OOM killer): a device is never lost to the pool.

The workers are forked (on Linux; spawned elsewhere) before the first collector thread starts, so
no lock of ours can be held at the fork; where the run's inputs are read from a file, before that
file is read too (:func:`judges_forked_early`): a fork copies the parent's heap into every worker's
resident set, and reading a 10,000-host inventory leaves ~80 MB of freed YAML nodes in it (pymalloc
keeps its arenas), which each judge forked after it carried for the whole run. Their log records
travel back with their verdicts (:attr:`Verdict.logged`), so a judge forked before the run's logging
was set up still logs to the run's log; they ignore SIGINT (Ctrl-C is the parent's to handle: it
waits for the devices in flight, whose judging must finish) and run at a lower priority, so that
the collectors, which hold SSH sessions open and wait on every answer, get the CPU first.

The workers die with the run, however it ends. A killed parent (``kill -9``) never tells its pool
to stop, and a worker blocked reading its job queue would wait forever -- before this, 23 minutes
later, still holding the history's run lock. So each worker asks the kernel for SIGKILL when its
parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``; the parent is the run's main thread, which forks
every worker), then checks that the parent is still the one that forked it (it may have died
before the request); and a watch thread, everywhere, ends the worker within
:data:`_PARENT_WATCH_S` of its parent's pid changing. The run lock is not theirs to hold at all:
:mod:`cmelive.history` closes its descriptor in every forked child. After an interrupt's grace,
workers still busy are terminated (:meth:`Judges.terminate`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cmelive.audit import audit_snapshot, unreachable_report
from cmelive.checks import all_checks
from cmelive.errors import CmeliveError
from cmelive.examples import EXAMPLES, example_dir
from cmelive.history import DeviceRows, device_rows
from cmelive.inventory import InventoryHost
from cmelive.masking import scrub
from cmelive.policy import Policy
from cmelive.report.csv_report import device_csv
from cmelive.report.html import DevicePart, device_html
from cmelive.report.json_report import device_json
from cmelive.report.junit import device_junit
from cmelive.report.model import DeviceReport
from cmelive.report.sarif import device_sarif
from cmelive.snapshot import Snapshot, read_snapshot, write_snapshot
from cmelive.waivers import Waiver, WaiverUsage, apply_waivers

log = logging.getLogger(__name__)

#: More judges than this would only take CPU from the collectors: one audit is ~5-25 ms.
MAX_JUDGE_PROCESSES = 4
# Judges yield the CPU to the collectors when both want it (see the module docstring).
_JUDGE_NICENESS = 10
# How often a worker checks that its parent lives (the fallback to the parent-death signal).
_PARENT_WATCH_S = 0.5
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# A judge's young-generation threshold: above what one device's audit keeps alive at once.
_JUDGE_GC_THRESHOLD = 5000


@dataclass(frozen=True)
class JudgeJob:
    """Everything one device's judging needs (it crosses to a worker process: all picklable)."""

    host: InventoryHost
    snapshot: Snapshot | None  # None: nothing was collected, ``error`` says why
    error: str | None
    policy: Policy
    waivers: tuple[Waiver, ...]
    today: date  # waivers expire by it; the HTML part dates their expiry by it
    snapshot_dir: Path  # where to keep the snapshot
    snapshots_dir: str  # the snapshots' directory, relative to the reports (SARIF locations)
    anchor: str  # the device's id in report.html


@dataclass(frozen=True)
class DeviceParts:
    """One device's part of each fleet report (see :mod:`cmelive.report`'s ``device_*``)."""

    json: str
    csv: str
    sarif: str
    junit: str
    html: DevicePart


@dataclass
class Verdict:
    """What judging one device gave."""

    report: DeviceReport  # waivers applied
    snapshot_dir: Path | None  # None when nothing was kept
    parts: DeviceParts | None  # None only if rendering failed (the run renders it again)
    history_rows: DeviceRows | None = None  # None only if making them failed (made again when recorded)
    usage: WaiverUsage = field(default_factory=WaiverUsage)
    problems: list[str] = field(default_factory=list)  # the run's problems (a snapshot not saved)
    errors: list[str] = field(default_factory=list)  # for the parent's log, at ERROR
    # What a worker process logged while judging (level, logger, text): for the parent's log.
    logged: list[tuple[int, str, str]] = field(default_factory=list)


def judge(job: JudgeJob) -> Verdict:
    """Keep, audit, waive and render one device; never raises (an ``Exception``)."""
    host = job.host
    _worker_log.clear()
    verdict = Verdict(report=unreachable_report(host.name, host.address, job.error or "not collected"), snapshot_dir=None, parts=None)
    if job.snapshot is not None:
        verdict.snapshot_dir = _keep(job, verdict)
        try:
            verdict.report = audit_snapshot(job.snapshot, job.policy, name=host.name)
        except CmeliveError as exc:
            verdict.errors.append(f"{host.name}: {exc}")
            verdict.report = unreachable_report(host.name, host.address, str(exc))
        except Exception as exc:  # one device's bug must not stop the fleet
            verdict.errors.append(f"{host.name}: unexpected error\n{traceback.format_exc()}")
            verdict.report = unreachable_report(host.name, host.address, unexpected("unexpected error", exc))
    try:
        verdict.report = apply_waivers(
            verdict.report, job.waivers, groups=host.groups, tags=host.tags, today=job.today, usage=verdict.usage
        )
    except Exception as exc:
        verdict.errors.append(f"{host.name}: applying waivers failed\n{traceback.format_exc()}")
        verdict.report = unreachable_report(host.name, host.address, unexpected("unexpected error applying waivers", exc))
    verdict.parts = _render_parts(job, verdict)
    try:
        verdict.history_rows = device_rows(verdict.report)
    except Exception:  # recorded all the same: record_device makes the rows itself
        verdict.errors.append(f"{host.name}: making its history rows failed\n{traceback.format_exc()}")
    verdict.logged, _worker_log[:] = _worker_log[:], []
    return verdict


def relog(verdict: Verdict) -> None:
    """Log what a worker process logged while judging ``verdict``'s device, in this process."""
    for level, name, text in verdict.logged:
        logging.getLogger(name).log(level, "%s", text)


def _keep(job: JudgeJob, verdict: Verdict) -> Path | None:
    """Write the snapshot (masked); a failure to write is the run's problem, not the device's."""
    assert job.snapshot is not None
    try:
        return write_snapshot(job.snapshot, job.snapshot_dir, mask=True)
    except (CmeliveError, OSError) as exc:
        verdict.problems.append(f"{job.host.name}: snapshot not saved: {exc}")
        verdict.errors.append(f"{job.host.name}: snapshot not saved: {exc}")
        return None


def _render_parts(job: JudgeJob, verdict: Verdict) -> DeviceParts | None:
    try:
        return render_parts(
            verdict.report, snapshots_dir=job.snapshots_dir, device_dir=job.snapshot_dir.name, anchor=job.anchor,
            today=job.today,
        )
    except Exception:  # the reports are rendered again at the end, where a renderer's bug is reported
        verdict.errors.append(f"{job.host.name}: rendering its report parts failed\n{traceback.format_exc()}")
        return None


def render_parts(
    report: DeviceReport, *, snapshots_dir: str, device_dir: str, anchor: str, today: date
) -> DeviceParts:
    """A device's part of each fleet report: report.json and report.sarif entries one line each."""
    return DeviceParts(
        json=device_json(report, indent=False),
        csv=device_csv(report),
        sarif=device_sarif(report, snapshots_dir=snapshots_dir, device_dir=device_dir, indent=False),
        junit=device_junit(report),
        html=device_html(report, anchor, today),
    )


def unexpected(what: str, exc: Exception) -> str:
    """``what: Type: message``, the message scrubbed.

    Our own errors are worded to name no secret; a foreign exception's text may quote whatever a
    router or a library printed, so it crosses the boundary like a log line.
    """
    return f"{what}: {type(exc).__name__}: {scrub(str(exc)).strip()}"


# --------------------------------------------------------------------------------------------------
# Where jobs run


class Judges:
    """Runs :func:`judge` in worker processes, or in one thread of this process.

    ``processes=0`` judges in this process only. Otherwise the pool is started at once (call this
    before starting threads of your own) and, should it fail to start or break later, jobs go to
    the in-process judge: :meth:`submit` always returns a future that completes with a verdict.
    """

    def __init__(self, processes: int) -> None:
        self.requested = processes
        self._lock = threading.Lock()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmelive-judge")
        self._pool: Executor | None = None
        self._frozen = False
        self.processes = 0
        self.lost: str | None = None  # why the pool was given up mid-run, if it was
        self._terminated = False  # the run abandoned its judges: no job is judged again here
        if processes > 0:
            self._pool = self._start_pool(processes)

    def _start_pool(self, processes: int) -> Executor | None:
        # The registry, loaded once here, is inherited by forked workers; the reports need it too.
        all_checks()
        # What exists now (modules, classes: ~50,000 objects) outlives the run: frozen, it is out of
        # the garbage collector's sight, so neither this process's full collections (which stop
        # every collector thread) nor the forked workers' walk it, or copy its pages. shutdown()
        # thaws it.
        gc.freeze()
        self._frozen = True
        # fork where it is safe and cheap (Linux: the workers start in milliseconds, with every
        # module already imported); spawn elsewhere (macOS forbids fork after some frameworks).
        context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        try:
            pool = ProcessPoolExecutor(
                max_workers=processes, mp_context=context, initializer=_worker_started, initargs=(os.getpid(),)
            )
            # The first submit starts every worker (with "fork", before any collector thread exists);
            # not waited for: a worker that cannot start breaks the pool, and jobs fall back here.
            pool.submit(os.getpid)
        except (OSError, BrokenProcessPool, RuntimeError) as exc:
            log.warning("judging in this process: worker processes could not start (%s)", exc)
            return None
        self.processes = processes
        return pool

    def adopted(self) -> None:
        """A run takes judges forked before its inputs were read: freeze what was read since (the
        inventory outlives the run too), out of this process's full collections."""
        if self._frozen:
            gc.freeze()

    def submit(self, job: JudgeJob) -> Future[Verdict]:
        with self._lock:
            pool = self._pool
        if pool is None:
            return self._thread.submit(judge, job)
        outcome: Future[Verdict] = Future()
        try:
            remote = pool.submit(judge, job)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._lost_pool(pool, exc)
            return self._thread.submit(judge, job)
        remote.add_done_callback(lambda done: self._settle(done, job, outcome, pool))
        return outcome

    def _settle(self, remote: Future[Verdict], job: JudgeJob, outcome: Future[Verdict], pool: Executor) -> None:
        try:
            outcome.set_result(remote.result())
            return
        except BaseException as exc:  # judge() never raises: the pool itself failed (or was cancelled)
            if remote.cancelled() or self._terminated:
                outcome.cancel()
                outcome.set_running_or_notify_cancel()
                return
            self._lost_pool(pool, exc)
        local = self._thread.submit(judge, job)
        local.add_done_callback(lambda done: _copy_outcome(done, outcome))

    def _lost_pool(self, pool: Executor, exc: BaseException) -> None:
        with self._lock:
            if self._pool is not pool:
                return
            self._pool = None
            self.lost = f"{type(exc).__name__}: {exc}"
        log.warning("judge processes lost (%s); judging the rest in this process", self.lost)
        pool.shutdown(wait=False, cancel_futures=False)

    def terminate(self) -> None:
        """SIGTERM every worker process (those still judging when a run is abandoned). The pool
        breaks; what it had not judged is dropped by the caller."""
        with self._lock:
            pool = self._pool
            self._terminated = True
        # ProcessPoolExecutor has no public way to stop its workers before Python 3.14.
        processes: dict[int, multiprocessing.Process] = dict(getattr(pool, "_processes", None) or {})
        for process in processes.values():
            try:
                process.terminate()
            except (OSError, ValueError):  # already gone, or already closed
                pass

    def discard(self) -> None:
        """Stop judges that were never given a job (terminated: their warm-up is not waited for)."""
        self.terminate()
        self.shutdown(wait=True)

    def shutdown(self, *, wait: bool = True) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=not wait)
        self._thread.shutdown(wait=wait, cancel_futures=not wait)
        if self._frozen:
            self._frozen = False
            gc.unfreeze()


def _copy_outcome(done: Future[Verdict], outcome: Future[Verdict]) -> None:
    if done.cancelled():
        outcome.cancel()
        outcome.set_running_or_notify_cancel()
    elif (error := done.exception()) is not None:
        outcome.set_exception(error)
    else:
        outcome.set_result(done.result())


# --------------------------------------------------------------------------------------------------
# Judges forked before the run's inputs are read

# Forked by judges_forked_early, for the next judges_for_run, by the thread that forked them (the
# one whose death kills them: see the module docstring; another thread's run forks its own).
_early: dict[int, Judges] = {}


@contextlib.contextmanager
def judges_forked_early(processes: int | None) -> Iterator[None]:
    """Fork the judges now, for the fleet run that starts in this block (see the module docstring).

    Enter it before reading anything that grows with the fleet (the inventory, a directory of
    configs, known_hosts) and before any thread of the caller's starts. ``processes``: as
    :func:`judges_for_run`'s (None: :func:`default_judge_processes`). The run takes the judges
    when it starts (:func:`judges_for_run`) and shuts them down; judges no run took (bad input, an
    error before the run) are stopped when the block ends. Nested blocks fork once.
    """
    thread = threading.get_ident()
    started: Judges | None = None
    count = default_judge_processes() if processes is None else processes
    if thread not in _early and count > 0:
        started = _early[thread] = Judges(count)
    try:
        yield
    finally:
        if started is not None and _early.get(thread) is started:
            del _early[thread]
            started.discard()


def judges_for_run(processes: int, hosts: int) -> Judges:
    """The judges of a run of ``hosts`` devices: ``min(processes, hosts)`` worker processes, those
    forked early (:func:`judges_forked_early`) when there are that many, else forked now (call it
    before starting threads of your own)."""
    early = _early.pop(threading.get_ident(), None)
    wanted = min(processes, hosts)
    if early is not None:
        if early.requested == wanted:
            early.adopted()
            return early
        early.discard()  # a fleet smaller than the CPUs, or another count asked for
    return Judges(wanted)


def default_judge_processes() -> int:
    """One per CPU this process may use, at most :data:`MAX_JUDGE_PROCESSES`."""
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    return max(1, min(usable, MAX_JUDGE_PROCESSES))


def _worker_started(parent: int) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A judge's log records go back with its verdicts (Verdict.logged): it may have been forked
    # before the run's logging was set up, and the run's handlers (masking, its log file) are the
    # parent's. DEBUG stays in the worker.
    root = logging.getLogger()
    root.handlers[:] = [_WorkerLog()]
    root.setLevel(logging.INFO)
    # A forked worker inherits the run's SIGTERM handler (raise KeyboardInterrupt): terminated
    # (Judges.terminate, or systemd stopping the unit's every process), a judge just ends.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        os.nice(_JUDGE_NICENESS)
    except (AttributeError, OSError):
        pass  # not everywhere, and not always allowed: judging at the same priority is fine
    _warm_up()
    # What the warm-up built (templates, patterns, caches) lives as long as the worker: frozen, no
    # collection walks it again. A device's audit makes a few thousand objects that live until
    # its verdict is sent and nearly all die by reference counting; with the default threshold
    # (700) the young collection ran once or twice per device over the live ones, promoting them
    # to be walked again (~0.3 ms of a ~15 ms judging, bench/bench_judge.py).
    gc.freeze()
    gc.set_threshold(_JUDGE_GC_THRESHOLD, *gc.get_threshold()[1:])


#: The records a worker logged while judging its current device (one job at a time per worker).
_worker_log: list[tuple[int, str, str]] = []


class _WorkerLog(logging.Handler):
    """Keeps a worker's records for its verdict: the message and its traceback, if any."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _worker_log.append((record.levelno, record.name, self.format(record)))
        except Exception:  # as logging's own handlers: a record that cannot be formatted is dropped
            self.handleError(record)


def _die_with_parent(parent: int) -> None:
    """End this worker when ``parent`` (the run) dies: see the module docstring."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
                log.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
        except (OSError, AttributeError):  # no libc to load: the watch thread below still works
            log.debug("no prctl", exc_info=True)
    # The parent may have died before the request above: then this worker was re-parented already.
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="cmelive-judge-parent", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_PARENT_WATCH_S)
    os._exit(1)  # nothing of a judge's is worth finishing for a run that is gone


def _warm_up() -> None:
    """Audit the bundled examples once, before the first real device.

    A fresh process spends ~0.3 s compiling the TextFSM templates and the checks' patterns on its
    first audits; a worker does it while the first routers are still being collected (it would
    otherwise be idle), so the first wave's verdicts do not wait for it.
    """
    try:
        for name in EXAMPLES:
            audit_snapshot(read_snapshot(example_dir(name)))
    except Exception:  # a warm-up is an optimisation: the real audits report their own trouble
        log.debug("judge warm-up failed", exc_info=True)


__all__ = [
    "MAX_JUDGE_PROCESSES",
    "DeviceParts",
    "JudgeJob",
    "Judges",
    "Verdict",
    "default_judge_processes",
    "judge",
    "judges_for_run",
    "judges_forked_early",
    "relog",
    "render_parts",
    "unexpected",
]
