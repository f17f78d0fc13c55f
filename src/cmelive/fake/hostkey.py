"""A fake router's SSH host key kept in a file, so that a restarted fake keeps its identity.

A real router keeps its key across reloads; a fake one that drew a new key at every start made
every client's known_hosts entry a "changed key" refusal. ``cmelive fake-router --host-key FILE``
(and ``fake-fleet --host-key FILE``) reuse the key in FILE, or create it there on first use.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import paramiko

from cmelive.errors import InputError

#: The size of a key created for a fake router (the fake's own default).
DEFAULT_BITS = 2048


def load_or_create_host_key(path: Path, *, bits: int = DEFAULT_BITS) -> paramiko.PKey:
    """The private key in ``path``; when there is no such file, a new RSA key written there.

    The new file is private (0600) and appears whole or not at all: two fakes started at once
    with the same FILE end up with the same key. A file that is not an unencrypted OpenSSH/PEM
    private key is an :class:`InputError` naming the file (and line).
    """
    try:
        return _load(path)
    except FileNotFoundError:
        pass
    key = paramiko.RSAKey.generate(bits)
    text = io.StringIO()
    key.write_private_key(text)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, scratch = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    except OSError as exc:
        raise InputError(str(path), f"cannot create host key file: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text.getvalue())
        # link() refuses an existing name: whoever created FILE first wins, and both use its key.
        os.link(scratch, path)
    except FileExistsError:
        return _load(path)
    except OSError as exc:
        raise InputError(str(path), f"cannot create host key file: {exc.strerror}") from exc
    finally:
        os.unlink(scratch)
    return key


def _load(path: Path) -> paramiko.PKey:
    """The key in ``path``; FileNotFoundError when there is none, InputError when it is no key."""
    where = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise InputError(where, "is a directory, not a host key file") from None
    except OSError as exc:
        raise InputError(where, f"cannot read host key file: {exc.strerror}") from exc
    lines = data.decode("utf-8", errors="replace").splitlines()
    first = next((number for number, line in enumerate(lines, start=1) if line.strip()), None)
    if first is None:
        raise InputError(where, "empty file: not a host key (delete it to have one created)")
    header = lines[first - 1].strip()
    if not (header.startswith("-----BEGIN ") and header.endswith("PRIVATE KEY-----")):
        raise InputError(
            where,
            "not an SSH private key: expected a '-----BEGIN ... PRIVATE KEY-----' line "
            "(delete the file to have a key created)",
            first,
        )
    try:
        return paramiko.PKey.from_path(path)
    except TypeError:  # paramiko's word for "encrypted, and no passphrase given"
        raise InputError(where, "the key is encrypted: a fake router needs a key without a passphrase", first) from None
    except (ValueError, paramiko.SSHException) as exc:
        reason = str(exc).split(". ")[0].strip() or type(exc).__name__
        raise InputError(where, f"unreadable private key: {reason}", first) from None
