"""A fleet's reports streamed: each device's parts spooled to disk as it is judged, joined at the end.

A fleet run used to keep every device's full :class:`~cmelive.report.model.DeviceReport` and its
rendered parts until the end (about 0.45 MB per router: 2,000 routers took 913 MB). Now, as each
device is judged, its parts go to one anonymous file in the run directory (:class:`PartsSpool`:
unlinked from the start, so a crash leaves nothing behind) and the run keeps only its summary
(:func:`summarize`: the report without evidence nor remediation, the results shared between
devices, which is all the summary table, the exit code, the metrics, the roll-ups and the heat map
read). At the end :func:`write_streamed_reports` writes each report as :func:`files.write_reports`
would, byte for byte: the format's renderer is run on the summaries with a placeholder for each
device's part, and the file is written chunk by chunk, each placeholder replaced by the part read
back from the spool (whole or not at all, through :mod:`cmelive.output_files`).
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cmelive import output_files
from cmelive.checks.base import CheckResult
from cmelive.fleet_defaults import REPORT_FILES, SNAPSHOTS_DIR
from cmelive.judging import DeviceParts
from cmelive.report.csv_report import render_csv
from cmelive.report.html import (
    DetailsPacker,
    DeviceDetails,
    DevicePart,
    TrendPoint,
    render_html,
)
from cmelive.report.json_report import render_json
from cmelive.report.junit import render_junit, stamp_suite
from cmelive.report.model import AuditReport, DeviceReport
from cmelive.report.sarif import render_sarif
from cmelive.snapshot import CommandOutput

log = logging.getLogger(__name__)

# The spooled pieces of one device, in the order they are written.
_KINDS = ("json", "csv", "sarif", "junit", "html", "row", "details")
# Stands for a device's piece in a renderer's output: NUL never reaches a report (the model
# neutralises control characters, and JSON and XML escape them), so no report text can hold one.
_PLACEHOLDER = re.compile("\x00([a-z])([0-9]*)\x00")
_CHUNK = 1 << 20


def _mark(kind: str, index: int | str = "") -> str:
    return f"\x00{kind}{index}\x00"


@dataclass(frozen=True)
class _Spooled:
    offset: int
    lengths: tuple[int, ...]  # one per _KINDS
    anchor: str
    families: tuple[str, ...]


class PartsSpool:
    """Devices' report parts in one anonymous temporary file of ``directory``, by inventory index."""

    def __init__(self, directory: Path) -> None:
        # Unlinked at once (O_TMPFILE where the file system has it): private, and gone with the
        # process however it ends, so a run directory never keeps half a report.
        self.directory = directory
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=directory, prefix=output_files.TEMP_PREFIX)
        self._end = 0
        self._where: dict[int, _Spooled] = {}
        self._families: dict[tuple[str, ...], tuple[str, ...]] = {}

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> PartsSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __contains__(self, index: int) -> bool:
        return index in self._where

    def add(self, index: int, parts: DeviceParts) -> None:
        """Spool device ``index``'s parts (a full disk raises ``OSError``)."""
        html = parts.html
        pieces = [
            parts.json.encode(), parts.csv.encode(), parts.sarif.encode(), parts.junit.encode(),
            html.html.encode(), html.heatmap_row.encode(),
            pickle.dumps(html.details, protocol=pickle.HIGHEST_PROTOCOL) if html.details is not None else b"",
        ]
        data = b"".join(pieces)
        offset = self._end
        os.pwrite(self._file.fileno(), data, offset)
        self._end += len(data)
        families = self._families.setdefault(html.families, html.families)
        self._where[index] = _Spooled(offset, tuple(len(p) for p in pieces), html.anchor, families)

    def read(self, index: int, kind: str) -> bytes:
        spooled = self._where[index]
        at = _KINDS.index(kind)
        offset = spooled.offset + sum(spooled.lengths[:at])
        return os.pread(self._file.fileno(), spooled.lengths[at], offset)

    def length(self, index: int, kind: str) -> int:
        return self._where[index].lengths[_KINDS.index(kind)]

    def html_part(self, index: int, *, with_details: bool = False) -> DevicePart:
        """Device ``index``'s HTML part: its anchor and columns, its texts as placeholders."""
        spooled = self._where[index]
        details: DeviceDetails | None = None
        if with_details:
            data = self.read(index, "details")
            details = pickle.loads(data) if data else None  # our own file, written by this process
        return DevicePart(spooled.anchor, _mark("s", index), _mark("r", index), spooled.families, details)


# --------------------------------------------------------------------------------------------------
# Summaries


class Summaries:
    """Makes :func:`summarize`'s summaries, sharing equal results between devices."""

    def __init__(self) -> None:
        self._results: dict[tuple[Any, ...], CheckResult] = {}
        self._strings: dict[str, str] = {}

    def _text(self, text: str) -> str:
        return self._strings.setdefault(text, text)

    def result(self, result: CheckResult) -> CheckResult:
        waiver = tuple(sorted(result.waiver.items())) if result.waiver is not None else None
        key = (result.check, result.status, result.severity, result.message, result.title, result.family,
               result.reference, waiver)
        found = self._results.get(key)
        if found is None:
            text = self._text
            found = CheckResult(
                check=text(result.check), title=text(result.title), severity=result.severity,
                family=text(result.family), status=result.status, reference=text(result.reference),
                message=text(result.message), waiver=dict(result.waiver) if result.waiver is not None else None,
            )
            self._results[key] = found
        return found

    def command(self, command: CommandOutput) -> CommandOutput:
        text = self._text
        return CommandOutput(
            text(command.command), command.status, "", command.duration_s,
            text(command.error) if command.error is not None else None,
        )

    def summarize(self, device: DeviceReport) -> DeviceReport:
        """``device`` without its results' evidence and remediation (the parts carry them),
        its equal results and strings shared with other devices'."""
        summary = object.__new__(DeviceReport)
        # Already scrubbed when ``device`` was made, and only taken from: no second pass.
        values = {
            "name": device.name, "host": device.host, "hostname": device.hostname, "status": device.status,
            "error": device.error, "facts": device.facts,
            "commands": [self.command(c) for c in device.commands],
            "results": [self.result(r) for r in device.results],
            "ssh": device.ssh,
        }
        for name, value in values.items():
            object.__setattr__(summary, name, value)
        return summary


# --------------------------------------------------------------------------------------------------
# Writing


@dataclass
class JsonLocations:
    """Where each device's one-line entry is in report.json (byte offset, length), by inventory index."""

    path: Path
    where: dict[int, tuple[int, int]]

    def load(self, index: int) -> dict[str, Any]:
        offset, length = self.where[index]
        with open(self.path, "rb") as file:
            file.seek(offset)
            data: dict[str, Any] = json.loads(file.read(length))
        return data


def write_streamed_reports(
    out_dir: Path,
    summary: AuditReport,
    spool: PartsSpool,
    *,
    problems: list[str],
    trend: Sequence[TrendPoint] = (),
    dir_names: Mapping[str, str] | None = None,
    snapshots_dir: str = SNAPSHOTS_DIR,
) -> tuple[dict[str, Path], JsonLocations | None]:
    """Write every fleet report from the devices' summaries (``summary``, in inventory order) and
    their spooled parts: the same files as :func:`cmelive.report.files.write_reports`. Returns the
    files written and where each device is in report.json (None when it was not written)."""
    from cmelive.report.files import _discard_stale, encoding_of, file_name

    count = len(summary.devices)
    missing = [index for index in range(count) if index not in spool]
    if missing:
        raise ValueError(f"devices not spooled: {missing[:5]}")
    json_where: dict[int, tuple[int, int]] = {}
    streams: dict[str, Callable[[], Iterator[bytes]]] = {
        "json": lambda: _json(summary, spool, json_where),
        "csv": lambda: _csv(summary, spool),
        "sarif": lambda: _sarif(summary, spool, dir_names or {}, snapshots_dir),
        "junit": lambda: _junit(summary, spool),
        "html": lambda: _html(summary, spool, trend),
    }
    written: dict[str, Path] = {}
    kinds = tuple(REPORT_FILES)
    try:
        for kind in kinds:
            path = out_dir / file_name(kind)
            assert encoding_of(kind) in ("utf-8", "utf-8-sig")
            try:
                chunks = streams[kind]()
                first = next(chunks)  # the renderer runs here: its bug costs this file only
            except OSError as exc:  # the disk, not the renderer
                raise output_files.write_error(path, "cannot write report", exc) from exc
            except Exception as exc:
                log.exception("rendering %s failed", path.name)
                problems.append(f"{path.name} not written: {type(exc).__name__}: {exc}")
                continue
            try:
                output_files.write_file(
                    path, _chained(first, chunks), doing="cannot write report", remove_on_failure=True
                )
            except _StreamFailed as failed:
                cause = failed.cause
                log.error("rendering %s failed: %s: %s", path.name, type(cause).__name__, cause)
                problems.append(f"{path.name} not written: {type(cause).__name__}: {cause}")
                continue
            written[kind] = path
    finally:
        _discard_stale(out_dir, [file_name(kind) for kind in kinds if kind not in written])
    locations = JsonLocations(written["json"], json_where) if "json" in written else None
    return written, locations


class _StreamFailed(Exception):
    """A renderer's bug in the middle of a file (not an ``OSError``, which means the disk)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _chained(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    while True:
        try:
            chunk = next(rest)
        except StopIteration:
            return
        except OSError:
            raise
        except Exception as exc:
            raise _StreamFailed(exc) from exc
        yield chunk


def _pieces(text: str, expected: Mapping[str, int]) -> list[str | tuple[str, int]]:
    """``text`` cut at its placeholders: text, then (kind, index) for each placeholder. Each kind of
    ``expected`` must appear exactly that many times (a renderer that dropped or repeated a part)."""
    out: list[str | tuple[str, int]] = []
    seen: dict[str, int] = {}
    position = 0
    for found in _PLACEHOLDER.finditer(text):
        out.append(text[position : found.start()])
        kind, number = found.group(1), found.group(2)
        out.append((kind, int(number) if number else -1))
        seen[kind] = seen.get(kind, 0) + 1
        position = found.end()
    out.append(text[position:])
    for kind, count in expected.items():
        if seen.get(kind, 0) != count:
            raise ValueError(f"{seen.get(kind, 0)} device part(s) of kind {kind!r} in the rendered text, not {count}")
    return out


def _buffered(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks`` gathered into writes of about a megabyte."""
    buffer: list[bytes] = []
    size = 0
    for chunk in chunks:
        buffer.append(chunk)
        size += len(chunk)
        if size >= _CHUNK:
            yield b"".join(buffer)
            buffer, size = [], 0
    yield b"".join(buffer)


def _json(summary: AuditReport, spool: PartsSpool, where: dict[int, tuple[int, int]]) -> Iterator[bytes]:
    count = len(summary.devices)
    text = render_json(summary, device_parts=[_mark("j", i) for i in range(count)])
    pieces = _pieces(text, {"j": count})

    def chunks() -> Iterator[bytes]:
        position = 0
        for piece in pieces:
            data = piece.encode() if isinstance(piece, str) else spool.read(piece[1], "json")
            if not isinstance(piece, str):
                where[piece[1]] = (position, len(data))
            position += len(data)
            yield data

    return _buffered(chunks())


def _csv(summary: AuditReport, spool: PartsSpool) -> Iterator[bytes]:
    count = len(summary.devices)
    text = render_csv(summary, device_parts=[_mark("c", i) for i in range(count)])
    pieces = _pieces(text, {"c": count})

    def chunks() -> Iterator[bytes]:
        yield "".encode("utf-8-sig")  # the byte-order mark, once (see csv_report.CSV_ENCODING)
        for piece in pieces:
            yield piece.encode() if isinstance(piece, str) else spool.read(piece[1], "csv")

    return _buffered(chunks())


def _sarif(summary: AuditReport, spool: PartsSpool, dir_names: Mapping[str, str], snapshots_dir: str) -> Iterator[bytes]:
    count = len(summary.devices)
    parts = [_mark("f", i) if spool.length(i, "sarif") else "" for i in range(count)]
    text = render_sarif(summary, snapshots_dir=snapshots_dir, device_dirs=dir_names, device_parts=parts)
    pieces = _pieces(text, {"f": sum(1 for part in parts if part)})
    return _buffered(piece.encode() if isinstance(piece, str) else spool.read(piece[1], "sarif") for piece in pieces)


def _junit(summary: AuditReport, spool: PartsSpool) -> Iterator[bytes]:
    count = len(summary.devices)
    text = render_junit(summary, device_parts=[_mark("u", i) for i in range(count)])
    pieces = _pieces(text, {"u": count})
    stamp = summary.generated_at
    return _buffered(
        piece.encode() if isinstance(piece, str) else stamp_suite(spool.read(piece[1], "junit").decode(), stamp).encode()
        for piece in pieces
    )


def _html(summary: AuditReport, spool: PartsSpool, trend: Sequence[TrendPoint]) -> Iterator[bytes]:
    count = len(summary.devices)
    parts = [spool.html_part(i) for i in range(count)]
    text = render_html(summary, trend=trend, device_parts=parts, packed_details=_mark("d"))
    del parts
    pieces = _pieces(text, {"s": count, "d": 1})

    def chunks() -> Iterator[bytes]:
        # The devices' details are packed first (the page's tables of strings come before them).
        with tempfile.TemporaryFile(dir=spool.directory, prefix=output_files.TEMP_PREFIX) as entries:
            packer = DetailsPacker()
            first = True
            for index in range(count):
                entry = packer.add(spool.html_part(index, with_details=True))
                if entry is not None:
                    entries.write((entry if first else "," + entry).encode())
                    first = False
            for piece in pieces:
                if isinstance(piece, str):
                    yield piece.encode()
                elif piece[0] == "s":
                    yield spool.read(piece[1], "html")
                elif piece[0] == "r":
                    yield spool.read(piece[1], "row")
                else:
                    yield packer.head().encode()
                    entries.seek(0)
                    while data := entries.read(_CHUNK):
                        yield data
                    yield packer.tail().encode()

    return _buffered(chunks())


__all__ = ["JsonLocations", "PartsSpool", "Summaries", "write_streamed_reports"]
