"""Config archives: audit the running-configs Oxidized or RANCID already collect, as a fleet.

An archive is a directory (often a git checkout) with one saved running-config per device. It
stands in for the routers through :class:`ArchiveCollector`, a :class:`~cmelive.collect.Collector`
like the live one, so that everything after collection (judging, the reports, the history, diff)
is the fleet's own code path. Only ``show running-config`` comes from the file; every other
command is ``not_collected`` with :data:`NO_LIVE_STATE` as its reason, so the checks that need
live state say ``unknown`` with that reason.

The two layouts, as their tools write them:

* **Oxidized** (``output: file`` or ``output: git``): one file per node, named after the node,
  optionally in one subdirectory per group. Its ``ios`` model (``lib/oxidized/model/ios.rb`` in
  ytti/oxidized) drops the first lines of ``show running-config`` ("Building configuration...",
  "Current configuration : N bytes"), prefixes ``show version`` / ``show inventory`` as ``! ``
  comment lines, and with ``remove_secret`` writes ``<secret hidden>`` and
  ``<configuration removed>`` in place of secrets.
* **RANCID**: ``<group>/configs/<device>`` (beside ``router.db`` and ``logs/``; the VCS keeps
  ``CVS/`` or ``.svn``/``.git`` alongside). ``lib/ios.pm`` (rancid 3.x) opens every file with
  ``!RANCID-CONTENT-TYPE: cisco`` and a block of ``!Chassis type:``, ``!Image:``, ``!Memory:``
  ... lines made from ``show version`` and friends, and with ``filter_pwds`` writes ``<removed>``
  in place of passwords, secrets and community strings.

Reading them: the comment block before the first configuration line is the tool's header, not
configuration: each of its lines becomes a bare ``!`` (so nothing in it is judged, and evidence line
numbers still point at the archived file's lines).
Every secret placeholder of either tool becomes cmelive's own :data:`~cmelive.masking.MASK`, so a
check that needs the secret's value says ``unknown`` (as for a masked snapshot), never ``pass``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cmelive.collect import Target
from cmelive.commands import NO_LIVE_STATE, RUNNING_CONFIG, CommandStatus, classify
from cmelive.errors import DeviceError, InputError, UsageError
from cmelive.inventory import InventoryHost
from cmelive.masking import MASK
from cmelive.snapshot import CommandOutput, Snapshot, read_capture_file

#: Where the two tools put their secret placeholders (see the module docstring for the sources).
SECRET_PLACEHOLDERS = ("<configuration removed>", "<secret hidden>", "<removed>")

# Directories that hold version-control bookkeeping, never a device.
_VCS_DIRS = frozenset({"CVS", ".git", ".svn", ".hg"})
#: A config's name in an address: archive:<path relative to the archive>.
ADDRESS_PREFIX = "archive:"
_HEADER_LINE = re.compile(r"^\s*(?:[!#].*)?$")
_FOREIGN_CONTENT = re.compile(r"^[!#]RANCID-CONTENT-TYPE:\s*(\S+)", re.IGNORECASE)
# rancid's device types whose configs are IOS (lib/rancid.types.base: cisco, cisco-xe, ...).
_IOS_CONTENT_TYPES = re.compile(r"^(cisco|ios|cisco-xe|cat5|cisco-ios)", re.IGNORECASE)


@dataclass(frozen=True)
class ArchivedConfig:
    """One device's file in an archive: its name (the file name), group and path."""

    name: str
    group: str | None
    path: Path


def find_configs(directory: Path) -> list[ArchivedConfig]:
    """Every device config of the archive at ``directory``, sorted by name.

    A ``<group>/configs/`` directory anywhere makes it a RANCID tree: only the files under
    those directories are configs. Otherwise (Oxidized) every regular file is one, the first
    subdirectory naming its group. Hidden files and directories (``.git``) and VCS bookkeeping
    are skipped. Raises :class:`~cmelive.errors.UsageError` when there is no config at all or two
    files would give two devices the same name.
    """
    root = Path(directory)
    if not root.is_dir():
        raise UsageError(f"{root}: not a directory (expected an Oxidized or RANCID config archive)")
    # Oxidized's ``output: git`` keeps a bare repository (lib/oxidized/output/git.rb: init_at repo,
    # :bare): its objects and hooks are not configs, and the configs are in no file of it.
    if (root / "HEAD").is_file() and (root / "objects").is_dir() and (root / "refs").is_dir():
        raise UsageError(
            f"{root}: a bare git repository (Oxidized's output: git); audit a checkout of it "
            f"(git clone {root} DIR once, git -C DIR pull before each run)"
        )
    files = sorted(path for path in _walk(root) if path.is_file() and not path.is_symlink())
    rancid = [path for path in files if path.parent.name == "configs"]
    found: list[ArchivedConfig] = []
    if rancid:
        for path in rancid:
            relative = path.relative_to(root)
            group = relative.parts[-3] if len(relative.parts) >= 3 else None
            found.append(ArchivedConfig(path.name, group, path))
    else:
        for path in files:
            relative = path.relative_to(root)
            found.append(ArchivedConfig(path.name, relative.parts[0] if len(relative.parts) > 1 else None, path))
    if not found:
        raise UsageError(f"{root}: no device config found (expected one file per device, or <group>/configs/<device>)")
    seen: dict[str, Path] = {}
    for config in found:
        if config.name in seen:
            raise UsageError(
                f"{root}: two configs for device {config.name!r}: {seen[config.name].relative_to(root)} "
                f"and {config.path.relative_to(root)}"
            )
        seen[config.name] = config.path
    return sorted(found, key=lambda config: config.name)


def _walk(root: Path) -> list[Path]:
    out: list[Path] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name in _VCS_DIRS or entry.is_symlink():
            continue
        if entry.is_dir():
            out.extend(_walk(entry))
        else:
            out.append(entry)
    return out


def archive_hosts(directory: Path) -> list[InventoryHost]:
    """The archive's devices as inventory hosts for :func:`cmelive.fleet.run_fleet`: the file
    name is the device name, the group directory its group, the address where the file is."""
    root = Path(directory)
    return [
        InventoryHost(
            name=config.name,
            address=ADDRESS_PREFIX + config.path.relative_to(root).as_posix(),
            groups=(config.group,) if config.group else (),
        )
        for config in find_configs(root)
    ]


def running_config_text(raw: str, source: str) -> str:
    """The configuration in an archived file: the tool's comment header blanked to ``!`` lines, secret
    placeholders turned into :data:`~cmelive.masking.MASK`.

    Raises :class:`~cmelive.errors.InputError` for a RANCID file of a non-IOS device type.
    """
    lines = raw.split("\n")
    first = next((i for i, line in enumerate(lines) if not _HEADER_LINE.match(line)), len(lines))
    for line in lines[:first]:
        foreign = _FOREIGN_CONTENT.match(line)
        if foreign and not _IOS_CONTENT_TYPES.match(foreign.group(1)):
            raise InputError(source, f"RANCID content type {foreign.group(1)!r} is not Cisco IOS", 1)
    # Each header line becomes a bare "!" (an IOS comment, judged by nothing) rather than going:
    # evidence line numbers then point at the archived file's own lines.
    body = "\n".join(["!"] * first + lines[first:])
    for placeholder in SECRET_PLACEHOLDERS:
        body = body.replace(placeholder, MASK)
    return body


class ArchiveCollector:
    """A :class:`~cmelive.collect.Collector` that reads a device's config from the archive at
    ``directory`` (the target's ``host`` is :data:`ADDRESS_PREFIX` + the file's relative path)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def collect(self, target: Target, commands: Sequence[str]) -> Snapshot:
        if not target.host.startswith(ADDRESS_PREFIX):
            raise DeviceError(f"{target.label}: not a config of this archive")
        relative = target.host[len(ADDRESS_PREFIX):]
        path = self.directory / relative
        try:
            text = running_config_text(read_capture_file(path), str(path))
        except InputError as exc:  # one unreadable file is that device's error, not the run's
            raise DeviceError(str(exc)) from exc
        status, error = classify(RUNNING_CONFIG, text)
        outputs = {
            command: (
                CommandOutput(command, status, text, error=error)
                if command == RUNNING_CONFIG
                else CommandOutput(command, CommandStatus.NOT_COLLECTED, error=NO_LIVE_STATE)
            )
            for command in commands
        }
        # The tools filter secrets their own way and cmelive masks the rest on every way out; the
        # snapshot is not "masked" in cmelive's sense (a secret the tool kept is still judged).
        return Snapshot(host=target.host, outputs=outputs, source="archive")


__all__ = [
    "ADDRESS_PREFIX",
    "NO_LIVE_STATE",
    "SECRET_PLACEHOLDERS",
    "ArchiveCollector",
    "ArchivedConfig",
    "archive_hosts",
    "find_configs",
    "running_config_text",
]
