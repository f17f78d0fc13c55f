"""mock-ssh-server is a dependency for the fake routers only: the auditor never loads it.

It stays an install requirement (not an extra) because the README's first command,
``pip install . && cmelive demo``, serves fake routers; ``cmelive fake-router`` and ``fake-fleet``
need it too. Everything else — the audit, the collectors, the reports, the API — must work
without it, so that it could move to an extra without touching them.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import cmelive

# The modules that serve fake routers, and the commands that start them.
FAKE_ROUTER_MODULES = ("cmelive.fake", "cmelive.cli.demo", "cmelive.cli.fake_router", "cmelive.cli.fake_fleet")


def auditor_modules() -> list[str]:
    names = [info.name for info in pkgutil.walk_packages(cmelive.__path__, "cmelive.")]
    return sorted(
        name for name in names
        if not any(name == fake or name.startswith(fake + ".") for fake in FAKE_ROUTER_MODULES)
        and name != "cmelive.cli" and not name.endswith(".__main__")  # the CLI registers every command; mains run
    )


def test_no_auditor_module_loads_mock_ssh_server() -> None:
    modules = auditor_modules()
    assert {"cmelive.api", "cmelive.collect.live", "cmelive.fleet", "cmelive.report.html"} <= set(modules)
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mockssh'))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def test_the_cli_loads_it_only_for_the_fake_router_commands() -> None:
    probe = "import sys, cmelive.cli; print('mockssh' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.strip() == "False"
