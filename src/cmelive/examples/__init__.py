"""Example snapshots of three routers, bundled as package data.

Each directory is a complete snapshot, as ``cmelive collect`` would save it unmasked: one file per
command of :data:`cmelive.commands.AUDIT_COMMANDS` plus ``meta.json``. They feed ``cmelive demo``,
the tests and the benchmarks.

* ``secure-cme``: Cisco 2911, IOS 15.9(3)M7, CME 12.6, configured as the guide recommends end to end
  (TLS phone authentication with CTL/CAPF and a local CA, COR, after-hours blocking, AAA, SSH only).
* ``insecure-cme``: Cisco 2811, IOS 15.1(4)M12a IP Voice, CME 8.6, left with the common insecure
  defaults; its image has no CTL/CAPF, so ``show ctl-client`` and ``show capf-server`` are rejected.
* ``plain-ios``: Cisco C891F, IOS 15.7(3)M8, no CME (every telephony command is rejected); hardened,
  with a few findings.

Every public address is a documentation address (RFC 5737) and every secret is fake ("Ex4mple-...").
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from cmelive.errors import UsageError

EXAMPLES: tuple[str, ...] = ("secure-cme", "insecure-cme", "plain-ios")


def example_dir(name: str) -> Path:
    """The directory of the bundled example ``name`` (one of :data:`EXAMPLES`)."""
    if name not in EXAMPLES:
        raise UsageError(f"unknown example {name!r} (known: {', '.join(EXAMPLES)})")
    # The package is installed as files (never zipped), so the resource is a real directory.
    return Path(str(resources.files(__name__).joinpath(name)))
