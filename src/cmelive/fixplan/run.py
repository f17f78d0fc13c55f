"""Fix plans for a snapshot, a live router, or every device of a fleet run directory."""

from __future__ import annotations

import socket
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path

from cmelive.audit import audit_snapshot
from cmelive.checks.base import Status
from cmelive.commands import RUNNING_CONFIG
from cmelive.errors import InputError
from cmelive.fixplan.plan import FixPlan
from cmelive.fixplan.verify import Verification, prove
from cmelive.output_files import own_dir, write_file
from cmelive.policy import Policy
from cmelive.report.model import DeviceReport
from cmelive.snapshot import Snapshot, read_snapshot

FIXES_DIR = "fixes"
ROLLBACK_SUFFIX = ".rollback.txt"


@dataclass
class DeviceFix:
    """A device's plan and its proof, or why it has none."""

    name: str
    plan: FixPlan | None = None
    proof: Verification | None = None
    error: str | None = None


def fix_snapshot(
    snapshot: Snapshot,
    policy: Policy | None = None,
    *,
    name: str | None = None,
    audit_source: str | None = None,
    waived: Collection[str] = (),
) -> DeviceFix:
    """Audit ``snapshot``, plan its fixes and prove the plan by re-auditing the future config.

    ``waived`` checks (an accepted risk in the run's waivers) are left out of the plan.
    """
    report = audit_snapshot(snapshot, policy, name=name)
    if waived:
        results = [replace(r, status=Status.WAIVED) if r.check in waived and r.status == Status.FAIL else r
                   for r in report.results]  # fmt: skip
        report = replace(report, results=results)
    return fix_report(snapshot, report, policy, audit_source=audit_source)


def fix_report(
    snapshot: Snapshot, report: DeviceReport, policy: Policy | None = None, *, audit_source: str | None = None
) -> DeviceFix:
    reason = report.not_audited_reason()
    if reason is None and not snapshot.get(RUNNING_CONFIG).usable:
        reason = "no usable running-config"
    if reason is not None:
        return DeviceFix(report.name, error=f"not audited: {reason}")
    plan, proof = prove(snapshot, report, policy, audit_source=audit_source)
    return DeviceFix(report.name, plan, proof)


def plan_file_texts(fix: DeviceFix) -> tuple[str, str]:
    """The plan and its rollback as written: masked like every text cmelive writes."""
    assert fix.plan is not None
    return fix.plan.text(), fix.plan.rollback_text()


def write_plan(fix: DeviceFix, path: Path) -> tuple[Path, Path]:
    """Write the plan to ``path`` and its rollback beside it (``<stem>.rollback.txt``)."""
    plan_text, rollback_text = plan_file_texts(fix)
    rollback = rollback_path(path)
    write_file(path, plan_text, doing="cannot write fix plan")
    write_file(rollback, rollback_text, doing="cannot write rollback")
    return path, rollback


def rollback_path(path: Path) -> Path:
    stem = path.name.removesuffix(".txt")
    return path.with_name(stem + ROLLBACK_SUFFIX)


def source_address(host: str, port: int) -> str | None:
    """The local address this machine reaches ``host`` from (what the router sees as the audit's
    source, barring NAT). A UDP socket's connect picks the route and sends nothing."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except OSError:
        return None
    for family, kind, proto, _, address in infos:
        if family != socket.AF_INET:
            continue
        with socket.socket(family, kind, proto) as probe:
            try:
                probe.connect(address)
                local: str = probe.getsockname()[0]
                return local
            except OSError:
                continue
    return None


def fleet_snapshot_dirs(run_dir: Path, names: list[str]) -> dict[str, Path]:
    """Device name -> its snapshot directory in a fleet run directory (as the fleet named them)."""
    from cmelive.fleet import snapshot_dir_names

    base = run_dir / "snapshots"
    found: dict[str, Path] = {}
    for name, dir_name in snapshot_dir_names(names).items():
        if (base / dir_name).is_dir():
            found[name] = base / dir_name
    return found


def fix_run_dir(run_dir: Path, policy: Policy | None = None) -> tuple[list[DeviceFix], dict[str, Path]]:
    """A plan for every audited device of a fleet run directory, written to ``fixes/<device>.txt``.

    Each device is judged again from its snapshot (with ``policy``: give the run's), and what the
    run's report shows waived stays out of its plan.

    Returns the fixes and device name -> plan file written.
    """
    from cmelive.api import load_report
    from cmelive.fleet import snapshot_dir_names

    report_file = run_dir / "report.json"
    if not report_file.is_file():
        raise InputError(str(run_dir), "not a fleet run directory (no report.json)")
    report = load_report(report_file)
    names = [d.name for d in report.devices]
    snapshots = fleet_snapshot_dirs(run_dir, names)
    dir_names = snapshot_dir_names(names)
    fixes: list[DeviceFix] = []
    written: dict[str, Path] = {}
    out = run_dir / FIXES_DIR
    for device in report.devices:
        where = snapshots.get(device.name)
        if device.not_audited_reason() is not None or where is None:
            why = device.not_audited_reason() or "no snapshot kept"
            fixes.append(DeviceFix(device.name, error=f"not audited: {why}"))
            continue
        waived = {r.check for r in device.results if r.status == Status.WAIVED}
        fix = fix_snapshot(read_snapshot(where), policy, name=device.name, waived=waived)
        fixes.append(fix)
        if fix.plan is not None:
            if not written:
                handle, _ = own_dir(out, what="fix plan directory")  # refuses a symlink or another user's
                handle.close()
            written[device.name] = write_plan(fix, out / f"{dir_names[device.name]}.txt")[0]
    return fixes, written
