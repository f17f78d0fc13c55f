"""Every file cmelive writes goes through here: never through a symlink, never half-written, private.

Reports, snapshots, the run log and the history database hold evidence and device names, and with
``--no-mask`` clear-text secrets. So, for every file:

* **never through a symlink, never into someone else's file**: a file is created under a
  temporary name with ``O_CREAT | O_EXCL | O_NOFOLLOW``, relative to a descriptor of its directory,
  and renamed over its final name. ``rename`` replaces a symlink planted there, never its target,
  and gives the name a new inode: a pre-existing 0666 file's mode is not kept.
* **whole or not at all**: written in full, ``fsync``-ed, then renamed; on any failure (a full
  disk, Ctrl-C) the temporary file is removed, so a reader finds the previous file or the new one.
* **private**: files 0600, the directories cmelive creates 0700, whatever the umask
  (``cmelive fleet --group-readable`` widens a finished run directory to 0640/0750).

A directory cmelive fills (a fleet run directory, a snapshot directory) must be its own
(:func:`own_dir`): a real directory, not a symlink, owned by the user running cmelive; what it may
already hold is for the caller to say.

A failed write becomes :class:`~cmelive.errors.WriteError` (exit 4) when the disk, a quota or a
file size limit is full or the device fails, and :class:`~cmelive.errors.InputError` (exit 2) when
the path itself is wrong (no permission, not a directory, a symlink in the way).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

from cmelive.errors import CmeliveError, InputError, WriteError

FILE_MODE = 0o600
DIR_MODE = 0o700
GROUP_FILE_MODE = 0o640
GROUP_DIR_MODE = 0o750
#: Temporary names start with this: hidden, and recognisable as ours when a killed run left one.
TEMP_PREFIX = ".cmelive-tmp-"

# The write failed for want of room (or of a working disk), not because of the path it was given.
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def write_error(path: Path | str, doing: str, exc: OSError) -> CmeliveError:
    """``exc`` as cmelive's error: :class:`WriteError` for a full disk or a failing device,
    :class:`InputError` for a path that cannot be written."""
    if exc.errno in _NO_ROOM:
        return WriteError(str(path), f"{doing}: {exc.strerror or exc}")
    if exc.errno == errno.ELOOP:
        return InputError(str(path), f"{doing}: a symbolic link is in the way (cmelive never writes through one)")
    return InputError(str(path), f"{doing}: {exc.strerror or exc}")


def is_full(exc: BaseException) -> bool:
    """True for an OSError that says the disk (or a quota, or a file size limit) is full."""
    return isinstance(exc, OSError) and exc.errno in _NO_ROOM


# --------------------------------------------------------------------------------------------------
# Directories


def make_dirs(path: Path) -> list[Path]:
    """``mkdir -p``; each directory it creates is 0700 (existing ones are left as they are).

    Returns the directories it created, outermost first. Raises ``OSError``.
    """
    missing: list[Path] = []
    current = Path(os.path.abspath(path))
    while not current.is_dir():
        if os.path.lexists(current):
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(current))
        missing.append(current)
        current = current.parent
    created: list[Path] = []
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():  # another process made it meanwhile: fine if a directory
                raise
            continue
        created.append(directory)
        # The umask may have taken bits off 0700 (not added any): make it exactly 0700.
        fd = os.open(directory, _DIR_FLAGS | os.O_NOFOLLOW)
        try:
            os.fchmod(fd, DIR_MODE)
        finally:
            os.close(fd)
    return created


class OutputDir:
    """A directory held open by descriptor: every name in it is opened relative to that descriptor,
    and never through a symlink. Raises ``OSError``; callers name the file in their error."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    def open(cls, path: Path, *, follow: bool = True) -> OutputDir:
        """``follow=False`` refuses a symlink as the directory itself (``ELOOP``); a symlink in the
        path above it (``/var`` -> ``/private/var``) is the user's choice and is followed."""
        return cls(path, os.open(path, _DIR_FLAGS | (0 if follow else os.O_NOFOLLOW)))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> OutputDir:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # -- what is in it ------------------------------------------------------------------------

    def names(self) -> list[str]:
        return sorted(os.listdir(self.fd))

    def lstat(self, name: str) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def owned_file(self, name: str) -> bool:
        """True when ``name`` is a regular file (not a symlink) of this user with a single link."""
        found = self.lstat(name)
        return found is not None and _own_regular_file(found)

    def owner(self) -> int:
        return os.fstat(self.fd).st_uid

    def make_private(self, mode: int = DIR_MODE) -> None:
        os.fchmod(self.fd, mode)

    def subdir(self, name: str, *, create: bool = True) -> OutputDir:
        """The directory ``name`` in this one (created 0700 if missing), never through a symlink."""
        if create:
            try:
                os.mkdir(name, DIR_MODE, dir_fd=self.fd)
            except FileExistsError:
                pass  # opened below: it must be a real directory
            else:
                sub = OutputDir(self.path / name, os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=self.fd))
                sub.make_private()
                return sub
        return OutputDir(self.path / name, os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=self.fd))

    # -- writing ------------------------------------------------------------------------------

    def write(self, name: str, data: bytes | Iterable[bytes], *, sync: bool = True, mode: int = FILE_MODE) -> Path:
        """Write ``name`` whole or not at all (temporary file, ``fsync``, rename)."""
        temporary = self.stage(name, data, sync=sync, mode=mode)
        try:
            self.commit(temporary, name)
        except BaseException:
            self.discard(temporary)
            raise
        if sync:
            self.sync()
        return self.path / name

    def write_all(self, files: Mapping[str, bytes], *, remove: Iterable[str] = (), sync: bool = True) -> None:
        """Write every file of ``files`` (in order) or none of them, then remove ``remove``.

        Every file is written to its temporary name first; only when all are written whole are they
        renamed into place. A failure before that (a full disk) removes the temporary files and
        leaves the directory as it was.
        """
        staged: list[tuple[str, str]] = []
        try:
            for name, data in files.items():
                staged.append((self.stage(name, data, sync=sync), name))
            for temporary, name in staged:
                self.commit(temporary, name)
        except BaseException:
            for temporary, _ in staged:
                self.discard(temporary)
            raise
        for name in remove:
            self.discard(name)
        if sync:
            self.sync()

    def stage(self, name: str, data: bytes | Iterable[bytes], *, sync: bool = True, mode: int = FILE_MODE) -> str:
        """Write ``data`` (bytes, or chunks of them written as they come) to a new temporary file
        beside ``name``; returns the temporary name."""
        if not name or "/" in name or name in (".", ".."):
            raise OSError(errno.EINVAL, f"not a file name: {name!r}")
        for _ in range(8):
            # Not ending as ``name`` does: a replay must not take a leftover for a show_*.txt capture.
            temporary = f"{TEMP_PREFIX}{name[:200]}.{secrets.token_hex(4)}"
            try:
                fd = os.open(temporary, _NEW_FILE_FLAGS, FILE_MODE, dir_fd=self.fd)
            except FileExistsError:
                continue
            break
        else:
            raise FileExistsError(errno.EEXIST, "cannot find a free temporary name", str(self.path / name))
        try:
            try:
                os.fchmod(fd, mode)  # exactly, whatever the umask
                for chunk in (data,) if isinstance(data, bytes) else data:
                    _write_all(fd, chunk)
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException:
            self.discard(temporary)
            raise
        return temporary

    def commit(self, temporary: str, name: str) -> None:
        os.rename(temporary, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def discard(self, name: str) -> None:
        try:
            os.unlink(name, dir_fd=self.fd)
        except FileNotFoundError:
            pass

    def sync(self) -> None:
        """Make the renames durable (a rename is on disk once its directory is)."""
        try:
            os.fsync(self.fd)
        except OSError as exc:
            if exc.errno != errno.EINVAL:  # a file system that cannot sync a directory
                raise

    def open_append(self, name: str) -> int:
        """``name`` opened for appending: created 0600, or an existing regular file of this user with
        a single link; never a symlink (``ELOOP``), a FIFO or a device."""
        fd = os.open(
            name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, FILE_MODE,
            dir_fd=self.fd,
        )
        try:
            if not _own_regular_file(os.fstat(fd)):
                raise OSError(errno.EPERM, "not a regular file of this user with a single link", str(self.path / name))
            os.fchmod(fd, FILE_MODE)
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd


def _own_regular_file(found: os.stat_result) -> bool:
    return stat.S_ISREG(found.st_mode) and found.st_uid == os.geteuid() and found.st_nlink == 1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# --------------------------------------------------------------------------------------------------
# What the commands use


def own_dir(path: Path, *, what: str, create: bool = True) -> tuple[OutputDir, list[Path]]:
    """The directory cmelive is about to fill, open; and the directories it created for it.

    ``path`` must be a real directory (not a symlink) owned by this user; missing, it is created
    (0700, with its missing parents). What it may already hold is the caller's to check, before
    :meth:`OutputDir.make_private`. ``what`` names it in errors (``snapshot directory``).
    """
    if os.path.islink(path):
        raise InputError(str(path), f"the {what} is a symbolic link; give the real directory (cmelive never writes through one)")
    if os.path.lexists(path) and not path.is_dir():
        raise InputError(str(path), f"the {what} exists and is not a directory")
    created: list[Path] = []
    try:
        if create and not os.path.lexists(path):
            created = make_dirs(path)
        directory = OutputDir.open(path, follow=False)
    except OSError as exc:
        raise write_error(path, f"cannot create {what}", exc) from exc
    owner = directory.owner()
    if owner != os.geteuid():
        directory.close()
        raise InputError(
            str(path), f"the {what} is owned by another user (uid {owner}); cmelive writes only into your own directories"
        )
    return directory, created


def foreign_description(directory: OutputDir, names: Iterable[str], limit: int = 3) -> str:
    """``link -> (a symbolic link), notes.txt, sub/ ...`` for an error message."""
    shown = []
    listed = list(names)
    for name in listed[:limit]:
        found = directory.lstat(name)
        if found is not None and stat.S_ISLNK(found.st_mode):
            shown.append(f"{name} (a symbolic link)")
        elif found is not None and stat.S_ISDIR(found.st_mode):
            shown.append(f"{name}/")
        elif found is not None and found.st_uid != os.geteuid():
            shown.append(f"{name} (another user's)")
        else:
            shown.append(name)
    return ", ".join(shown) + (", ..." if len(listed) > limit else "")


def write_file(
    path: Path,
    data: bytes | str | Iterable[bytes],
    *,
    doing: str,
    encoding: str = "utf-8",
    remove_on_failure: bool = False,
    mode: int = FILE_MODE,
) -> Path:
    """Write one file whole or not at all, 0600, never through a symlink (one at ``path`` is replaced).

    ``data`` may be an iterable of byte chunks, written as they come (a report too big to hold in
    memory); it is renamed into place only once every chunk is written.

    ``doing`` starts its error message (``cannot write report``). ``remove_on_failure``: a write that
    fails also removes the file that was there, so that a stale report is never read as this run's.
    ``mode``: :data:`GROUP_FILE_MODE` for a file another service reads (``--group-readable``).
    """
    if isinstance(data, str):
        data = data.encode(encoding)
    if not path.name or path.name in (".", ".."):
        raise InputError(str(path), f"{doing}: not a file name")
    try:
        with OutputDir.open(path.parent) as directory:
            try:
                directory.write(path.name, data, mode=mode)
            except OSError as exc:
                if remove_on_failure and is_full(exc):
                    found = directory.lstat(path.name)
                    if found is not None and not stat.S_ISDIR(found.st_mode):
                        directory.discard(path.name)
                raise
    except OSError as exc:
        raise write_error(path, doing, exc) from exc
    return path


def create_private_file(path: Path) -> bool:
    """Create an empty file 0600 (never through a symlink); False when a regular file is there already.
    Raises ``OSError`` (``ELOOP`` for a symlink in the way)."""
    try:
        fd = os.open(path, _NEW_FILE_FLAGS, FILE_MODE)
    except FileExistsError:
        if os.path.islink(path):
            raise OSError(errno.ELOOP, "a symbolic link is in the way", str(path)) from None
        return False
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return True


def open_lock_file(path: Path) -> int:
    """A lock file opened read-write: created 0600, never through a symlink. Raises ``OSError``."""
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)


def open_log(path: Path) -> int:
    """A log file opened for appending (see :meth:`OutputDir.open_append`). Raises ``OSError``."""
    with OutputDir.open(path.parent) as directory:
        return directory.open_append(path.name)


def share_with_group(path: Path) -> None:
    """Make a directory that cmelive wrote readable by its group: files 0640, directories 0750
    (never through a symlink: there should be none, and one is left alone)."""
    try:
        with OutputDir.open(path, follow=False) as directory:
            _share(directory)
    except OSError as exc:
        raise write_error(path, "--group-readable: cannot change the modes", exc) from exc


def _share(directory: OutputDir) -> None:
    directory.make_private(GROUP_DIR_MODE)
    for name in directory.names():
        found = directory.lstat(name)
        if found is None:
            continue
        if stat.S_ISDIR(found.st_mode):
            with directory.subdir(name, create=False) as sub:
                _share(sub)
        elif stat.S_ISREG(found.st_mode):
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=directory.fd)
            try:
                os.fchmod(fd, GROUP_FILE_MODE)
            finally:
                os.close(fd)


__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "GROUP_DIR_MODE",
    "GROUP_FILE_MODE",
    "TEMP_PREFIX",
    "OutputDir",
    "create_private_file",
    "foreign_description",
    "is_full",
    "make_dirs",
    "open_lock_file",
    "open_log",
    "own_dir",
    "share_with_group",
    "write_error",
    "write_file",
]
