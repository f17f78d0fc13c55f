"""The public Python API of cmelive: audit a router, replay a snapshot, run a fleet, read the results.

::

    from cmelive import api

    report = api.audit("10.1.1.1", username="auditor", password=secret, known_hosts=["known_hosts"])
    for result in api.failures(report, at_or_above=api.Severity.HIGH):
        print(result.check, result.message)
    api.write_reports(report, "reports/")  # report.txt, .json, .csv, .sarif, .junit.xml, .html

The command line is built on these functions (``cmelive audit``, ``replay`` and ``fleet`` call
them), so a script gets exactly the reports the CLI writes.

**Stability.** :data:`API_VERSION` follows semantic versioning. Stable are the names in
``__all__``, their documented parameters and return types, and the documented attributes and
methods of the types re-exported here (:class:`DeviceReport`: ``name``, ``host``, ``hostname``,
``status``, ``error``, ``facts``, ``results``, ``failures_at_or_above``, ``unknown_at_or_above``,
``not_audited_reason``, ``to_dict``; :class:`CheckResult`; :class:`AuditReport`;
:class:`FleetResult`: ``report``, ``devices``, ``files``, ``run_id``, ``interrupted``, ...). A minor
version may add functions, keyword-only parameters with defaults and attributes; removing or
changing any of them takes a new major version. Every other module of the package (``cmelive.fleet``,
``cmelive.cli``, ``cmelive.collect``, ...) is internal and may change in any release. The JSON form
of a report has its own version (``schema`` in report.json, see the README).

**Fleet memory.** A fleet run keeps each device's report parts on disk as it goes, not in memory
(see :mod:`cmelive.report.spool`): :attr:`FleetResult.report` and each ``FleetDevice.report``
are the same types as before, read back from the run's report.json on first use (the
``report`` of a whole fleet then holds every device: iterate ``result.devices`` and read
``device.report`` one at a time to keep memory flat). ``FleetResult.summary`` and
``FleetDevice.summary`` are there at once: the reports without evidence nor remediation.

**Secrets.** A password or enable secret passed by value is held in memory only, in the
:class:`Target` (whose ``repr`` leaves it out): never logged, written or put in a report. Every
report is masked when it is made (see :mod:`cmelive.report.model`), and every byte sent to a
router is a read-only show command that passed cmelive's guard.

**Errors.** Everything raised on purpose is a :class:`~cmelive.errors.CmeliveError` (re-exported
here):

- :class:`DeviceError` -- the router could not be audited (:func:`audit`, :func:`audit_target`,
  :func:`collect`): :class:`ConnectError` (unreachable, refused, timed out, session lost at login),
  :class:`AuthenticationError` (login or ``enable`` refused, or an enable secret needed and not
  given), :class:`HostKeyError` (host key unknown and not accepted, or changed). Make the report of
  such a device with :func:`error_report`. :func:`run_fleet` never raises these: each device gets
  its own status.
- :class:`InputError` -- a file given cannot be used (a snapshot, inventory, policy, waivers file,
  key file, report.json); the message names the file and line.
- :class:`UsageError` -- bad arguments: no host matches the filters, a fleet's ``out_dir`` not
  empty, ``workers`` below 1, ...
- :class:`WriteError` -- an output could not be written (disk full, ...): nothing half-written is
  left under a report's name.
- :class:`HistoryError` -- the run history cannot be used (:class:`RunLockedError`: another run
  holds it).

``ValueError`` comes only from constructing :class:`Limits` with bad bounds.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmelive import __version__
from cmelive import snapshot as _snapshot
from cmelive.audit import audit_snapshot as _audit_snapshot
from cmelive.audit import unreachable_report
from cmelive.checks.base import CheckResult, Evidence, Severity, Status
from cmelive.collect import Limits, Target
from cmelive.commands import AUDIT_COMMANDS, CommandStatus
from cmelive.errors import (
    AuthenticationError,
    CmeliveError,
    ConnectError,
    DeviceError,
    HistoryError,
    HostKeyError,
    InputError,
    RunLockedError,
    UsageError,
    WriteError,
)
from cmelive.fleet_defaults import DEFAULT_RETRIES, DEFAULT_WORKERS, SNAPSHOTS_DIR
from cmelive.policy import Policy
from cmelive.policy import load_policy as _load_policy
from cmelive.report.model import SCHEMA_VERSION, AuditReport, DeviceReport, DeviceStatus
from cmelive.snapshot import CommandOutput, Snapshot
from cmelive.ssh_session import SshSession

if TYPE_CHECKING:
    from cmelive.fleet import FleetDevice, FleetResult
    from cmelive.history import History
    from cmelive.inventory import Inventory, InventoryHost
    from cmelive.waivers import Waiver

#: Names re-exported from the fleet runner, the inventory and the waivers, loaded when first used:
#: the command line imports this module, and starts without them (tests/test_startup.py).
_LAZY = {
    "FleetDevice": "cmelive.fleet",
    "FleetResult": "cmelive.fleet",
    "Inventory": "cmelive.inventory",
    "InventoryHost": "cmelive.inventory",
    "Waiver": "cmelive.waivers",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


log = logging.getLogger(__name__)

#: The version of this API (semantic versioning; see the module docstring for what it covers).
API_VERSION = "1.0.0"

#: The report formats, in the order :func:`write_reports` writes them.
FORMATS: tuple[str, ...] = ("text", "json", "csv", "sarif", "junit", "html")

#: Asked for the enable secret (given the device's label) when the login lands in user EXEC mode.
EnableSecretPrompt = Callable[[str], str]


# --------------------------------------------------------------------------------------------------
# Auditing


def audit(
    host: str,
    *,
    port: int = 22,
    username: str | None = None,
    password: str | None = None,
    enable_secret: str | None = None,
    key_file: Path | str | None = None,
    ssh_config: Path | str | None = None,
    known_hosts: Sequence[Path | str] = (),
    accept_new_host_key: bool = False,
    timeout: float = 30.0,
    limits: Limits | None = None,
    policy: Policy | None = None,
    waivers: Sequence[Waiver] = (),
    name: str | None = None,
) -> DeviceReport:
    """Audit one router live over SSH: log in, collect every audit command, judge, report.

    ``host`` is an address or an ssh_config name; ``password`` and ``enable_secret`` are held in
    memory only (the enable secret is used only when the login lands in user EXEC mode).
    ``known_hosts`` are the OpenSSH known_hosts files to verify the router's key against (default:
    cmelive's own file and ``~/.ssh/known_hosts``); ``accept_new_host_key`` records a key seen for
    the first time (a changed key is always refused). ``timeout`` ends a wait in which the router
    says nothing; ``limits`` bound each command's time and size and the whole session. ``waivers``
    (see :func:`load_waivers`) are applied by device ``name`` (default: ``host``).

    Returns the device's report (status ``ok``, or ``partial`` when some commands failed: their
    checks are ``unknown``). Raises :class:`DeviceError` when the router cannot be audited at all,
    :class:`InputError` for a missing key file or ssh_config.
    """
    target = Target(
        host=host,
        port=port,
        username=username,
        password=password,
        enable_secret=enable_secret,
        key_file=_path(key_file),
        ssh_config=_path(ssh_config),
        timeout=timeout,
        known_hosts=tuple(Path(path) for path in known_hosts),
        accept_new_host_key=accept_new_host_key,
        name=name,
        limits=limits if limits is not None else Limits(),
    )
    for option, path in (("key_file", target.key_file), ("ssh_config", target.ssh_config)):
        if path is not None and not path.is_file():
            raise InputError(str(path), f"{option}: file does not exist")
    return audit_target(target, policy=policy, waivers=waivers)


def audit_target(
    target: Target,
    *,
    policy: Policy | None = None,
    waivers: Sequence[Waiver] = (),
    enable_secret_prompt: EnableSecretPrompt | None = None,
) -> DeviceReport:
    """:func:`audit` for a :class:`Target` already built; ``enable_secret_prompt(label)`` is asked
    for the enable secret when the target has none and the login needs one. Raises as :func:`audit`."""
    snapshot = collect(target, enable_secret_prompt=enable_secret_prompt)
    return audit_snapshot(snapshot, policy=policy, name=target.name or target.host, waivers=waivers)


def collect(target: Target, *, enable_secret_prompt: EnableSecretPrompt | None = None) -> Snapshot:
    """Collect every audit command from ``target`` (read-only show commands) into a snapshot.

    Judge it with :func:`audit_snapshot`, keep it with :func:`write_snapshot`. Every command is in
    the snapshot with its status; raises :class:`DeviceError` when the router cannot be audited at
    all (with no ``enable_secret_prompt`` and no ``target.enable_secret``, a login in user EXEC
    mode is an :class:`AuthenticationError`).
    """
    # Here, not at the top: paramiko and netmiko take a quarter of the CLI's start-up to load.
    from cmelive.collect.live import NetmikoCollector

    return NetmikoCollector(enable_secret_prompt=enable_secret_prompt).collect(target, AUDIT_COMMANDS)


def audit_snapshot(
    snapshot: Snapshot,
    *,
    policy: Policy | None = None,
    name: str | None = None,
    waivers: Sequence[Waiver] = (),
) -> DeviceReport:
    """Judge a collected snapshot against every check: the report a live audit gives.

    ``name`` is the device's name in the report (default: the snapshot's host); ``waivers`` are
    applied by that name. A check without the evidence it needs is ``unknown``, never ``pass``.
    """
    report = _audit_snapshot(snapshot, policy, name=name)
    if waivers:
        report = apply_waivers(AuditReport([report]), waivers).report.devices[0]
    return report


def replay(
    snapshot_dir: Path | str,
    *,
    policy: Policy | None = None,
    name: str | None = None,
    waivers: Sequence[Waiver] = (),
) -> DeviceReport:
    """Audit a saved snapshot directory (``show_*.txt`` files, optionally ``meta.json``): the same
    report as live, no router needed. Raises :class:`InputError` for a directory that cannot be read."""
    return audit_snapshot(read_snapshot(snapshot_dir), policy=policy, name=name, waivers=waivers)


def error_report(name: str, host: str, error: Exception | str) -> DeviceReport:
    """The report of a device that could not be audited: status ``error``, the reason, no results
    (what :func:`run_fleet` and ``cmelive audit`` report for it)."""
    return unreachable_report(name, host, error)


@dataclasses.dataclass(frozen=True)
class Waived:
    """What :func:`apply_waivers` gives: the report with the waivers applied, and those of the
    waivers that selected a failure of it but have expired (their failures count again)."""

    report: AuditReport
    expired: tuple[Waiver, ...]


def apply_waivers(report: AuditReport, waivers: Sequence[Waiver], *, today: date | None = None) -> Waived:
    """``report`` with ``waivers`` applied by device name (no groups or tags: a fleet run applies
    those too); a waived failure becomes ``waived`` and no longer counts. ``today`` decides expiry
    (default: the local date)."""
    if not waivers:
        return Waived(report, ())
    from cmelive.waivers import WaiverUsage
    from cmelive.waivers import apply_waivers as apply_to_device

    day = today if today is not None else date.today()
    usage = WaiverUsage()
    devices = [apply_to_device(device, list(waivers), today=day, usage=usage) for device in report.devices]
    expired = tuple(waiver for waiver in waivers if waiver in usage.expired)
    return Waived(dataclasses.replace(report, devices=devices), expired)


# --------------------------------------------------------------------------------------------------
# Files cmelive reads and writes


def load_policy(path: Path | str) -> Policy:
    """Read a site policy YAML file (trusted subnets, WAN interfaces, ...; see policy.example.yaml).
    Raises :class:`InputError` naming the file and line."""
    return _load_policy(Path(path))


def load_waivers(path: Path | str) -> list[Waiver]:
    """Read a waivers YAML file (accepted failures, with owner and expiry). Raises :class:`InputError`."""
    from cmelive.waivers import load_waivers as load

    return load(Path(path))


def load_inventory(path: Path | str) -> Inventory:
    """Read a cmelive inventory file (Nornir-style or Ansible YAML). Raises :class:`InputError`."""
    from cmelive.inventory import load_inventory as load

    return load(Path(path))


def read_snapshot(directory: Path | str) -> Snapshot:
    """Read a snapshot directory (written by cmelive, or ``show_*.txt`` captures assembled by hand).
    Raises :class:`InputError` for a directory that cannot be read."""
    return _snapshot.read_snapshot(Path(directory))


def write_snapshot(snapshot: Snapshot, directory: Path | str, *, mask: bool = True) -> Path:
    """Write ``snapshot`` to ``directory`` (new, empty, or an earlier snapshot of cmelive's), whole or
    not at all, files 0600; ``mask=False`` keeps secrets in clear (for your own vault). Returns the
    directory. Raises :class:`WriteError` (disk full), :class:`InputError` or :class:`UsageError`
    (a symlink, not your directory, or one holding other files)."""
    return _snapshot.write_snapshot(snapshot, Path(directory), mask=mask)


# --------------------------------------------------------------------------------------------------
# Fleets


def run_fleet(
    inventory: Path | str | Inventory | Sequence[InventoryHost],
    *,
    out_dir: Path | str,
    hosts: Sequence[str] = (),
    groups: Sequence[str] = (),
    tags: Sequence[str] = (),
    workers: int = DEFAULT_WORKERS,
    judge_processes: int | None = None,
    timeout: float = 30.0,
    limits: Limits | None = None,
    retries: int = DEFAULT_RETRIES,
    policy: Policy | None = None,
    waivers: Sequence[Waiver] = (),
    history: Path | str | History | None = None,
    known_hosts: Sequence[Path | str] = (),
    accept_new_host_key: bool = False,
    progress: Callable[[DeviceReport], None] | None = None,
    inventory_label: str | None = None,
) -> FleetResult:
    """Audit every router of an inventory concurrently and write a run directory, as ``cmelive fleet``.

    ``inventory``: an inventory file (cmelive's YAML, Nornir-style or Ansible), a loaded
    :class:`Inventory`, or the hosts themselves. ``hosts``/``groups``/``tags`` select among them
    as ``--host``/``--group``/``--tag`` do. ``out_dir`` must be new or empty: it gets report.json,
    .csv, .sarif, .junit.xml, .html, ``snapshots/<device>/`` (masked). ``history``: a run history
    database to record the run in (a path, opened and closed here, or an open ``History``); None
    (the default, unlike the CLI) records nothing. ``progress`` is called with each device's
    report as it finishes. Credentials come from where the inventory names them.

    A device that cannot be audited gets its own status and error; the others carry on. Raises
    :class:`InputError` for an unreadable inventory, :class:`UsageError` for bad arguments (no
    host selected, ``out_dir`` not empty), :class:`RunLockedError` when another run holds the
    history, :class:`WriteError` when a report cannot be written.
    """
    # Looked up when called, not bound at import: the CLI's tests stand in a fake collector.
    from cmelive import fleet as fleet_runner
    from cmelive.history import History as HistoryDb
    from cmelive.inventory import Inventory, select
    from cmelive.judging import judges_forked_early

    if isinstance(inventory, (str, Path)):
        # The judges are forked before the file is read (see cmelive.judging), then the run is
        # this function's with the inventory read.
        with judges_forked_early(judge_processes):
            return run_fleet(
                load_inventory(Path(inventory)), out_dir=out_dir, hosts=hosts, groups=groups, tags=tags,
                workers=workers, judge_processes=judge_processes, timeout=timeout, limits=limits, retries=retries,
                policy=policy, waivers=waivers, history=history, known_hosts=known_hosts,
                accept_new_host_key=accept_new_host_key, progress=progress, inventory_label=inventory_label,
            )
    loaded: Inventory | None
    if isinstance(inventory, Inventory):
        loaded, candidates = inventory, inventory.hosts
    else:
        loaded, candidates = None, list(inventory)
    filtered = bool(hosts or groups or tags)
    if filtered:
        # select() names the hosts, groups and tags that match nothing (a typo is not "no host").
        within = loaded if loaded is not None else _inventory_of(candidates)
        chosen = select(within, hosts, groups, tags)
    else:
        chosen = list(candidates)
    if not chosen:
        raise UsageError("no host to audit" + (": none matches all of the host/group/tag filters" if filtered else ""))
    if inventory_label is None:
        inventory_label = str(loaded.path.resolve()) if loaded is not None else ""
    owned = isinstance(history, (str, Path))
    database = HistoryDb(Path(history)) if isinstance(history, (str, Path)) else history
    try:
        return fleet_runner.run_fleet(
            chosen,
            out_dir=Path(out_dir),
            workers=workers,
            judge_processes=judge_processes,
            timeout=timeout,
            limits=limits,
            retries=retries,
            base_policy=policy if policy is not None else Policy(),
            waivers=list(waivers),
            history=database,
            inventory_label=inventory_label,
            known_hosts=tuple(Path(path) for path in known_hosts),
            accept_new_host_key=accept_new_host_key,
            progress=progress,
            collector_factory=fleet_runner.default_collector,
        )
    finally:
        if owned and database is not None:
            database.close()


# --------------------------------------------------------------------------------------------------
# Reading and writing results


def failures(report: DeviceReport, *, at_or_above: Severity = Severity.INFO) -> list[CheckResult]:
    """The device's failed checks at or above a severity (waived ones are ``waived``, not here)."""
    return report.failures_at_or_above(at_or_above)


def unknowns(report: DeviceReport, *, at_or_above: Severity = Severity.INFO) -> list[CheckResult]:
    """The device's checks that could not be decided (missing evidence), at or above a severity."""
    return report.unknown_at_or_above(at_or_above)


def render_report(
    report: AuditReport | DeviceReport,
    report_format: str = "text",
    *,
    width: int = 80,
    color: bool = False,
    snapshot_dirs: Sequence[Path | None] = (),
    relative_to: Path | str | None = None,
    today: date | None = None,
) -> str:
    """``report`` in one of :data:`FORMATS`, as text (``width`` and ``color`` are the text format's).

    ``snapshot_dirs`` (one per device, None when not kept) lets SARIF locations point at the
    snapshots' files, relative to ``relative_to`` (the directory the report is written to;
    default: the current directory). ``today`` dates waiver expiry in the HTML (default: local date).
    """
    from cmelive.report.files import renderers, report_parts

    whole = _whole(report)
    _check_format(report_format)
    base = Path(relative_to) if relative_to is not None else Path.cwd()
    dir_names, snapshots_dir = _snapshot_locations(whole, snapshot_dirs, base)
    parts = report_parts(whole, today=today or date.today(), dir_names=dir_names, snapshots_dir=snapshots_dir)
    render = renderers(
        whole, parts, dir_names=dir_names, snapshots_dir=snapshots_dir, text_width=width, color=color
    )
    return render[report_format]()


def write_reports(
    report: AuditReport | DeviceReport,
    out_dir: Path | str,
    *,
    formats: Sequence[str] = FORMATS,
    snapshot_dirs: Sequence[Path | None] = (),
    problems: list[str] | None = None,
    today: date | None = None,
) -> dict[str, Path]:
    """Write ``report`` in each of ``formats`` to ``out_dir`` (created 0700 if needed; files 0600,
    atomic): report.txt, report.json, report.csv, report.sarif, report.junit.xml, report.html.

    Returns format -> path written. One renderer's bug costs only its file: the message is
    appended to ``problems`` when given, else logged; the file an earlier write left under that
    name is removed (never read as this report). Files of formats not asked for are left alone.
    Raises :class:`WriteError` when a file cannot be written, :class:`InputError` for a directory
    that is a symlink or another user's, :class:`UsageError` for an unknown format.
    """
    from cmelive.output_files import own_dir
    from cmelive.report.files import report_parts
    from cmelive.report.files import write_reports as write_files

    whole = _whole(report)
    for kind in formats:
        _check_format(kind)
    directory = Path(out_dir)
    handle, _ = own_dir(directory, what="report directory")  # refuses a symlink or another user's
    handle.close()
    dir_names, snapshots_dir = _snapshot_locations(whole, snapshot_dirs, directory)
    parts = report_parts(whole, today=today or date.today(), dir_names=dir_names, snapshots_dir=snapshots_dir)
    found: list[str] = []
    written = write_files(
        directory, whole, parts, problems=found, kinds=list(formats), dir_names=dir_names, snapshots_dir=snapshots_dir
    )
    if problems is not None:
        problems.extend(found)
    for problem in found if problems is None else ():
        log.warning("%s: %s", directory, problem)
    return written


def load_report(path: Path | str) -> AuditReport:
    """Read a report.json (schema 1) that cmelive wrote back into an :class:`AuditReport`.

    What report.json leaves out stays out: command outputs (snapshots hold them) and router log
    lines. Raises :class:`InputError` naming the file when it is not such a report.
    """
    where = str(path)
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(where, "report file does not exist") from None
    except OSError as exc:
        raise InputError(where, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(where, "not UTF-8 text (a report.json is JSON)") from None
    except json.JSONDecodeError as exc:
        raise InputError(where, f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA_VERSION:
        found = document.get("schema") if isinstance(document, dict) else None
        raise InputError(where, f"not a cmelive report.json of schema {SCHEMA_VERSION} (schema: {found!r})")
    try:
        devices = [_device_from_dict(item, where) for item in document["devices"]]
        return AuditReport(devices, generated_at=str(document["generated_at"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(where, f"malformed report: {type(exc).__name__}: {exc}") from None


# --------------------------------------------------------------------------------------------------
# Helpers


def _path(value: Path | str | None) -> Path | None:
    return Path(value).expanduser() if value is not None else None


def _inventory_of(hosts: list[InventoryHost]) -> Inventory:
    """An inventory around hosts given as a list, so that filters apply to them as to a file's."""
    from cmelive.inventory import Inventory, InventoryGroup

    names = dict.fromkeys(group for host in hosts for group in host.groups)
    groups = {
        name: InventoryGroup(name, (), tuple(host.name for host in hosts if name in host.groups), 0) for name in names
    }
    return Inventory(hosts=hosts, groups=groups, path=Path("<hosts>"))


def _whole(report: AuditReport | DeviceReport) -> AuditReport:
    return report if isinstance(report, AuditReport) else AuditReport([report])


def _check_format(report_format: str) -> None:
    if report_format not in FORMATS:
        raise UsageError(f"unknown report format {report_format!r} (one of: {', '.join(FORMATS)})")


def _snapshot_locations(
    report: AuditReport, snapshot_dirs: Sequence[Path | None], report_dir: Path
) -> tuple[dict[str, str], str]:
    """Device name -> snapshot directory name, and their parent relative to ``report_dir``
    (SARIF needs one parent for all: with kept snapshots under several, the default is kept)."""
    kept = [(device, path) for device, path in zip(report.devices, snapshot_dirs, strict=False) if path is not None]
    parents = {path.resolve().parent for _, path in kept}
    if len(parents) != 1:
        return {}, SNAPSHOTS_DIR
    parent = parents.pop()
    try:
        relative = os.path.relpath(parent, report_dir.resolve())
    except ValueError:  # another drive (Windows)
        return {}, SNAPSHOTS_DIR
    return {device.name: path.name for device, path in kept}, Path(relative).as_posix()


def _device_from_dict(item: dict[str, Any], where: str) -> DeviceReport:
    ssh = item.get("ssh")
    return DeviceReport(
        name=str(item["name"]),
        host=str(item["host"]),
        hostname=item["hostname"] if item.get("hostname") is None else str(item["hostname"]),
        status=DeviceStatus(item["status"]),
        error=item.get("error"),
        facts=dict(item.get("facts") or {}),
        commands=[
            CommandOutput(
                str(c["command"]), CommandStatus(c["status"]), "", float(c.get("duration_s", 0.0)), c.get("error")
            )
            for c in item.get("commands", [])
        ],
        results=[_result_from_dict(r) for r in item.get("results", [])],
        ssh=SshSession.from_dict(ssh, where) if ssh is not None else None,
    )


def _result_from_dict(item: dict[str, Any]) -> CheckResult:
    waiver = item.get("waiver")
    return CheckResult(
        check=str(item["check"]),
        title=str(item["title"]),
        severity=Severity(item["severity"]),
        family=str(item["family"]),
        status=Status(item["status"]),
        reference=str(item["reference"]),
        message=str(item["message"]),
        evidence=tuple(Evidence(str(e["command"]), e.get("line"), str(e["text"])) for e in item.get("evidence", [])),
        remediation=tuple(str(line) for line in item.get("remediation", [])),
        waiver={str(k): str(v) for k, v in waiver.items()} if waiver is not None else None,
    )


__all__ = [
    "API_VERSION",
    "FORMATS",
    "AuditReport",
    "AuthenticationError",
    "CheckResult",
    "CmeliveError",
    "CommandOutput",
    "CommandStatus",
    "ConnectError",
    "DeviceError",
    "DeviceReport",
    "DeviceStatus",
    "EnableSecretPrompt",
    "Evidence",
    "FleetDevice",
    "FleetResult",
    "HistoryError",
    "HostKeyError",
    "InputError",
    "Inventory",
    "InventoryHost",
    "Limits",
    "Policy",
    "RunLockedError",
    "Severity",
    "Snapshot",
    "Status",
    "Target",
    "UsageError",
    "Waived",
    "Waiver",
    "WriteError",
    "__version__",
    "apply_waivers",
    "audit",
    "audit_snapshot",
    "audit_target",
    "collect",
    "error_report",
    "failures",
    "load_inventory",
    "load_policy",
    "load_report",
    "load_waivers",
    "read_snapshot",
    "render_report",
    "replay",
    "run_fleet",
    "unknowns",
    "write_reports",
    "write_snapshot",
]
