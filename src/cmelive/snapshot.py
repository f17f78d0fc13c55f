"""The snapshot: the one format everything after collection reads.

On disk a snapshot is a directory with one text file per command (``show_running-config.txt``, ...)
and an optional ``meta.json``. Live collection and replay both produce a :class:`Snapshot`;
parsing, checks and reports never know which one it came from.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cmelive import __version__
from cmelive.commands import (
    AUDIT_COMMANDS,
    CommandStatus,
    classify,
    command_from_file_name,
    file_name,
    ios_error,
    is_config_dump,
    split_joined_output,
)
from cmelive.errors import InputError, UsageError
from cmelive.masking import scrub, scrub_value
from cmelive.output_files import TEMP_PREFIX, OutputDir, foreign_description, own_dir, write_error
from cmelive.router_log import split_log_messages
from cmelive.ssh_session import SshSession

META_FILE = "meta.json"
# A snapshot file larger than this is not a show output someone saved by hand.
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class CommandOutput:
    """One command's output and what became of it."""

    command: str
    status: CommandStatus
    text: str = ""
    duration_s: float = 0.0
    error: str | None = None
    #: Router log messages (``%SYS-5-CONFIG_I: ...``) that arrived mixed into the output, taken
    #: out of ``text`` and kept here, in order.
    log_messages: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        """True when the output can be parsed: complete, or a configuration cut off (the damage
        model places what a cut can hide); not rejected or missing, nor any other cut-off output,
        whose missing lines nothing can place (a partial table would judge as a whole one)."""
        return self.status == CommandStatus.OK or (
            self.status == CommandStatus.TRUNCATED and is_config_dump(self.command)
        )


@dataclass
class Snapshot:
    """Everything collected from one device."""

    host: str
    outputs: dict[str, CommandOutput] = field(default_factory=dict)
    hostname: str | None = None
    collected_at: str = field(default_factory=lambda: utc_now())
    tool_version: str = __version__
    masked: bool = False
    source: str = "live"  # "live" or "replay"; informational only
    #: What the SSH session showed at login (live only; kept in meta.json). None: not recorded.
    ssh: SshSession | None = None

    def get(self, command: str) -> CommandOutput:
        """The output of ``command``, or a NOT_COLLECTED placeholder."""
        found = self.outputs.get(command)
        if found is None:
            return CommandOutput(command, CommandStatus.NOT_COLLECTED, error="not in snapshot")
        return found

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "host": self.host,
            "hostname": self.hostname,
            "collected_at": self.collected_at,
            "cmelive_version": self.tool_version,
            "masked": self.masked,
            "commands": [
                {
                    "command": out.command,
                    "status": str(out.status),
                    "duration_s": round(out.duration_s, 4),
                    "error": out.error,
                    "file": file_name(out.command),
                    **({"log_messages": list(out.log_messages)} if out.log_messages else {}),
                }
                for out in self.outputs.values()
            ],
        }
        if self.ssh is not None:
            meta["ssh"] = self.ssh.to_dict()
        return meta


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_snapshot(snapshot: Snapshot, directory: Path, *, mask: bool = True) -> Path:
    """Write ``snapshot`` to ``directory`` (created if needed), through the outbound boundary.

    ``mask=True`` (the default, and what a fleet keeps): every output and every text of
    ``meta.json`` crosses :func:`cmelive.masking.scrub` (secrets masked, terminal controls shown
    as escapes; lines are never added or removed, so evidence line numbers still point at them).
    ``mask=False`` writes what the router printed, byte for byte, for the user's own vault.

    Whole or not at all, through :mod:`cmelive.output_files`: files 0600 in a 0700 directory of
    this user, never through a symlink; every file is written before any is renamed into place,
    so a full disk (:class:`~cmelive.errors.WriteError`) leaves the directory as it was. Only a new
    or empty directory, or one holding a snapshot cmelive wrote, is written into (see
    :func:`check_snapshot_dir`); the files of that snapshot this one does not have are removed.
    """
    files: dict[str, bytes] = {}
    for out in snapshot.outputs.values():
        if out.status == CommandStatus.NOT_COLLECTED and not out.text:
            continue
        files[file_name(out.command)] = (scrub(out.text) if mask else out.text).encode("utf-8")
    meta = snapshot.meta()
    if mask:
        meta = scrub_value(meta)
    meta["masked"] = mask or snapshot.masked
    files[META_FILE] = (json.dumps(meta, indent=2) + "\n").encode("utf-8")  # last: a snapshot is whole once it is there
    handle, created = own_dir(directory, what="snapshot directory")
    try:
        with handle:
            present = _refuse_foreign(handle)
            handle.make_private()
            handle.write_all(files, remove=[name for name in present if name not in files])
    except OSError as exc:
        if Path(os.path.abspath(directory)) in created:
            with contextlib.suppress(OSError):
                os.rmdir(directory)
        raise write_error(directory, "cannot write the snapshot", exc) from exc
    return directory


def check_snapshot_dir(directory: Path) -> None:
    """Refuse a directory a snapshot must not be written into, before collecting anything: a symlink,
    another user's, or one holding anything but a snapshot cmelive wrote (exit 2)."""
    if not os.path.lexists(directory):
        return
    handle, _ = own_dir(directory, what="snapshot directory", create=False)
    with handle:
        try:
            _refuse_foreign(handle)
        except OSError as exc:
            raise write_error(directory, "cannot read the snapshot directory", exc) from exc


def _refuse_foreign(handle: OutputDir) -> list[str]:
    """The names in a snapshot directory, when all are a previous snapshot's (its ``meta.json``, its
    ``.txt`` files, temporary files a killed run left), regular files of this user; else a UsageError."""
    present = handle.names()
    foreign = [
        name for name in present
        if not (name == META_FILE or name.endswith(".txt") or name.startswith(TEMP_PREFIX)) or not handle.owned_file(name)
    ]
    if not foreign and present and META_FILE not in present and any(not n.startswith(TEMP_PREFIX) for n in present):
        foreign = [name for name in present if not name.startswith(TEMP_PREFIX)]  # captures, not a snapshot of ours
    if foreign:
        raise UsageError(
            f"{handle.path}: holds files cmelive did not write ({foreign_description(handle, foreign)}); a snapshot "
            f"is written only into a new or empty directory, or over a snapshot cmelive wrote (with its {META_FILE})"
        )
    return present


def read_snapshot(directory: Path) -> Snapshot:
    """Read a snapshot directory written by cmelive or assembled by hand from ``.txt`` captures."""
    where = str(directory)
    if not directory.exists():
        raise InputError(where, "snapshot directory does not exist")
    if not directory.is_dir():
        raise InputError(where, "not a directory (a snapshot is a directory of show_*.txt files)")
    meta = _read_meta(directory)
    ssh = meta.get("ssh")
    try:
        files = sorted(p for p in directory.iterdir() if p.suffix == ".txt" and p.is_file())
    except OSError as exc:
        raise InputError(where, f"cannot list directory: {exc.strerror}") from exc
    if not files:
        raise InputError(where, "no show_*.txt files: this is not a snapshot directory")
    statuses = {c.get("command"): c for c in meta.get("commands", []) if isinstance(c, dict)}
    files.sort(key=lambda p: _collection_order(command_from_file_name(p.name), list(statuses)))
    outputs: dict[str, CommandOutput] = {}
    for path in files:
        command = command_from_file_name(path.name)
        # A capture from a terminal log may hold the router's log messages: not output.
        # What cmelive wrote (meta.json lists it), it reads back: NUL bytes and size included.
        text, found_messages = split_log_messages(_read_text(path, ours=command in statuses))
        text, _ = split_joined_output(command, text)
        recorded = statuses.get(command, {})
        status, error = _replayed_status(command, text, recorded)
        outputs[command] = CommandOutput(
            command=command,
            status=status,
            text=text,
            duration_s=_duration(recorded, directory),
            error=error,
            log_messages=_recorded_messages(recorded) + found_messages,
        )
    # Commands the live run tried but got nothing for are still reported, with their status.
    for recorded_command, recorded in statuses.items():
        if isinstance(recorded_command, str) and recorded_command not in outputs:
            status = _status_or(recorded.get("status"), CommandStatus.NOT_COLLECTED)
            outputs[recorded_command] = CommandOutput(
                recorded_command, status, "", _duration(recorded, directory), recorded.get("error")
            )
    return Snapshot(
        host=str(meta.get("host") or directory.name),
        outputs=outputs,
        hostname=meta.get("hostname"),
        collected_at=str(meta.get("collected_at") or utc_now()),
        tool_version=str(meta.get("cmelive_version") or __version__),
        masked=bool(meta.get("masked", False)),
        source="replay",
        ssh=SshSession.from_dict(ssh, str(directory / META_FILE)) if ssh is not None else None,
    )


def _duration(recorded: dict[str, Any], directory: Path) -> float:
    """A command's ``duration_s`` from meta.json: a number of seconds, or bad input."""
    value = recorded.get("duration_s")
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e9:
        command = recorded.get("command")
        raise InputError(
            str(directory / META_FILE), f"'duration_s' of {command!r} must be a number of seconds, not {value!r}"[:200]
        )
    return float(value)


def _recorded_messages(recorded: dict[str, Any]) -> tuple[str, ...]:
    messages = recorded.get("log_messages")
    if not isinstance(messages, list):
        return ()
    return tuple(str(message) for message in messages)


def _collection_order(command: str, recorded: list[object]) -> tuple[int, int, str]:
    """Order of the live run when meta.json tells it, else cmelive's own order, else by name."""
    if command in recorded:
        return (0, recorded.index(command), command)
    if command in AUDIT_COMMANDS:
        return (1, AUDIT_COMMANDS.index(command), command)
    return (2, 0, command)


def _read_meta(directory: Path) -> dict[str, Any]:
    path = directory / META_FILE
    if not path.exists():
        return {}
    raw = _read_text(path)
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"invalid JSON: {exc.msg}", line=exc.lineno) from exc
    if not isinstance(meta, dict):
        raise InputError(str(path), "expected a JSON object")
    return meta


def read_capture_file(path: Path) -> str:
    """The text of a capture cmelive did not write (a saved show output, an archived config),
    held to the same bounds as a replayed one; raises :class:`~cmelive.errors.InputError`."""
    return _read_text(path)


def _read_text(path: Path, *, ours: bool = False) -> str:
    """A capture's text; a file that cmelive did not write (``ours``) must look like one: no NUL
    bytes, at most :data:`MAX_FILE_BYTES`."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES and not ours:
            raise InputError(str(path), f"file is {size} bytes; not a show command capture")
        data = path.read_bytes()
    except PermissionError as exc:
        raise InputError(str(path), "permission denied (cannot read file)") from exc
    except OSError as exc:
        raise InputError(str(path), f"cannot read file: {exc.strerror}") from exc
    if b"\x00" in data and not ours:
        raise InputError(str(path), "binary file (NUL bytes); expected the text a router printed")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Old captures are often Latin-1 (banners, descriptions); every byte maps, nothing is lost.
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _replayed_status(command: str, text: str, recorded: dict[str, Any]) -> tuple[CommandStatus, str | None]:
    """What the live run recorded when it saw something wrong, else the live run's own rule.

    A capture recorded ``ok`` (or assembled by hand, with no meta.json) is classified again as
    live collection would: a snapshot written before a rule existed, or a pasted capture, gets
    the same status as a router printing that text today.
    """
    error = ios_error(text)
    if error is not None:
        return CommandStatus.REJECTED, error
    status = _status_or(recorded.get("status"), CommandStatus.OK)
    if status != CommandStatus.OK:
        return status, recorded.get("error")
    return classify(command, text)


def _status_or(value: object, default: CommandStatus) -> CommandStatus:
    try:
        return CommandStatus(str(value)) if value is not None else default
    except ValueError:
        return default
