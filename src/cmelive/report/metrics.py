"""Run metrics for schedulers: the Prometheus text format, as node_exporter's textfile collector reads it.

One file per run, replaced whole (:func:`cmelive.output_files.write_file`: the temporary name
does not end in ``.prom``, so the collector never reads half a file). Gauges only, without
timestamps (the textfile collector refuses them): the run's own time is a metric,
``cmelive_run_timestamp_seconds``, so an alert can tell a stale file from a clean fleet.

Every audited device gets every severity x status pair of ``cmelive_findings``, zeros included, so
that ``cmelive_findings{status="fail"} > 0`` resolves when a failure is fixed instead of vanishing
with its series. ``cmelive_device_audited`` is 0 for a device that was not audited: one that
could not be (``cmelive_device_status`` error, interrupted, not_started), which has no findings, or
one whose running-config was not collected whole, whose findings are then mostly unknown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from cmelive import __version__, output_files
from cmelive.checks.base import Severity, Status
from cmelive.errors import InputError
from cmelive.report.model import AuditReport, DeviceStatus

SEVERITIES = tuple(Severity)
STATUSES = tuple(Status)

Sample = tuple[dict[str, str], float]


def render_metrics(
    report: AuditReport, *, duration_s: float, command: str, interrupted: bool = False
) -> str:
    """The metrics of one run of ``command`` (``fleet``, ``audit``, ``replay``) as Prometheus text."""
    findings: list[Sample] = []
    audited: list[Sample] = []
    device_status: list[Sample] = []
    by_status: Counter[str] = Counter()
    not_audited = 0
    for device in report.devices:
        label = {"device": device.name}
        is_audited = device.not_audited_reason() is None
        not_audited += not is_audited
        by_status[str(device.status)] += 1
        audited.append((label, 1.0 if is_audited else 0.0))
        device_status.append(({**label, "status": str(device.status)}, 1.0))
        if device.status.unaudited:
            continue
        counts = Counter((result.severity, result.status) for result in device.results)
        findings += [
            ({**label, "severity": str(severity), "status": str(status)}, float(counts[severity, status]))
            for severity in SEVERITIES
            for status in STATUSES
        ]
    families: list[tuple[str, str, list[Sample]]] = [
        ("cmelive_findings", "Check results of the device in the last run, by severity and status (waived included).",
         findings),
        ("cmelive_device_audited", "1 when the device was audited (reached, running-config collected whole), else 0.",
         audited),
        ("cmelive_device_status", "The device's status in the last run (ok, partial, error, interrupted, not_started).",
         device_status),
        ("cmelive_devices", "Devices of the last run by status.",
         [({"status": str(status)}, float(by_status[str(status)])) for status in DeviceStatus]),
        ("cmelive_devices_not_audited", "Devices of the last run that were not audited.", [({}, float(not_audited))]),
        ("cmelive_run_duration_seconds", "How long the last run took.", [({}, round(duration_s, 3))]),
        ("cmelive_run_timestamp_seconds", "When the last run's report was made (Unix time).",
         [({}, _unix_time(report.generated_at))]),
        ("cmelive_run_interrupted", "1 when the last run was stopped (Ctrl-C, SIGTERM) before every device was done.",
         [({}, 1.0 if interrupted else 0.0)]),
        ("cmelive_run_info", "The last run: the command and the cmelive version.",
         [({"command": command, "version": __version__}, 1.0)]),
    ]
    return "".join(_family(name, help_text, samples) for name, help_text, samples in families)


def write_metrics(path: Path, text: str, *, group_readable: bool = False) -> Path:
    """Replace ``path`` with ``text`` whole; 0600, or 0640 with ``group_readable`` (node_exporter
    usually runs as its own user: give it the group). A full disk raises
    :class:`~cmelive.errors.WriteError` (exit 4)."""
    mode = output_files.GROUP_FILE_MODE if group_readable else output_files.FILE_MODE
    return output_files.write_file(path, text, doing="cannot write the metrics file", mode=mode)


def check_metrics_path(path: Path) -> None:
    """Refuse at once a ``--metrics`` file that could not be written at the end of a long run."""
    if not path.parent.is_dir():
        raise InputError(str(path), "--metrics: its directory does not exist")
    if path.is_dir():
        raise InputError(str(path), "--metrics: is a directory, not a file")


def _family(name: str, help_text: str, samples: Sequence[Sample]) -> str:
    lines = [f"# HELP {name} {_escape_help(help_text)}", f"# TYPE {name} gauge"]
    lines += [f"{name}{_labels(labels.items())} {_number(value)}" for labels, value in samples]
    return "\n".join(lines) + "\n"


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{key}="{_escape_label(value)}"' for key, value in pairs)
    return "{" + inner + "}" if inner else ""


def _escape_label(value: str) -> str:
    # The exposition format's three escapes; device names come from inventories and archives.
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    value = float(value)  # an int from a caller has no is_integer() before Python 3.12
    return str(int(value)) if value.is_integer() else repr(value)


def _unix_time(generated_at: str) -> float:
    moment = datetime.strptime(generated_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return moment.timestamp()


__all__ = ["check_metrics_path", "render_metrics", "write_metrics"]
