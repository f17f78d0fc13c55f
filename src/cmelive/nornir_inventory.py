"""A Nornir inventory, read through Nornir itself: ``cmelive fleet --nornir CONFIG.yaml``.

``CONFIG.yaml`` is a Nornir configuration file; :func:`nornir.InitNornir` loads it with whatever
inventory plugin it names (SimpleInventory, or an installed plugin such as ``nornir_ansible``'s),
so hosts, groups, defaults and their inheritance are exactly what Nornir resolves. As in Nornir,
relative paths in the file (``host_file``...) are relative to the current directory.

Each Nornir host becomes an :class:`~cmelive.inventory.InventoryHost`: ``hostname``, ``port``,
``username``, ``password`` and the enable secret (``connection_options: netmiko: extras: secret``)
as Nornir's netmiko connection parameters resolve them (netmiko's ``connection_options`` override
the host's own values, as they do for ``nornir_netmiko``); ``groups`` (every group, parents
included), ``data`` (merged through groups and defaults) and ``data.tags`` (a list of strings) as
cmelive tags. Inline passwords are accepted, as Nornir users keep them, and held in this process's
memory only (:func:`~cmelive.inventory.hold_inline_credentials`; the host carries a key to them):
never echoed, logged, written or handed to the judge processes.

``platform``: cmelive audits Cisco IOS, so a host whose platform is ``cisco_ios`` or ``ios`` (or
unset) is audited; any other is skipped with a warning, since a Nornir inventory commonly spans
vendors and refusing the whole file would make it unusable. A host without a ``hostname`` is an
error: Nornir 3 does not use the host's name as its address.

``nornir`` is an optional dependency (``pip install 'cmelive[nornir]'``), imported only here.
Every problem is an :class:`~cmelive.errors.InputError` naming the file (and line, where Nornir's
YAML parser gives one).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmelive.errors import InputError
from cmelive.inventory import DEFAULT_PORT, Inventory, InventoryGroup, InventoryHost, hold_inline_credentials

if TYPE_CHECKING:
    from nornir.core.inventory import Host

#: Nornir platform names (netmiko's and NAPALM's) of the routers cmelive audits.
IOS_PLATFORMS = frozenset({"cisco_ios", "ios"})


@dataclass
class NornirInventory:
    """What a Nornir inventory gave: the hosts to audit, and a warning per host skipped."""

    inventory: Inventory
    warnings: list[str]


def load_nornir_inventory(config: Path) -> NornirInventory:
    """Initialise Nornir from ``config`` and map its hosts (see the module docstring)."""
    where = str(config)
    if not config.is_file():
        raise InputError(where, "Nornir configuration file does not exist")
    try:
        nornir = importlib.import_module("nornir")
    except ImportError as exc:
        raise InputError(
            where, "--nornir needs the Python package 'nornir' (pip install 'cmelive[nornir]')"
        ) from exc
    # Nornir warns through logging (an empty defaults file...); with no handler configured yet,
    # Python would print that to stderr around cmelive's one-line messages.
    nornir_log = logging.getLogger("nornir")
    if not nornir_log.handlers:
        nornir_log.addHandler(logging.NullHandler())
    try:
        # Nornir's own log file (./nornir.log) is off: it would be a file cmelive writes unguarded.
        runner = nornir.InitNornir(config_file=str(config), logging={"enabled": False})
    except Exception as exc:  # Nornir and its plugins raise their own types, or plain ones
        raise _config_error(where, exc) from exc
    hosts: list[InventoryHost] = []
    warnings: list[str] = []
    for name, host in runner.inventory.hosts.items():
        platform = host.platform
        if platform is not None and platform not in IOS_PLATFORMS:
            warnings.append(f"{where}: host {name!r} skipped: platform {platform!r} is not Cisco IOS")
            continue
        hosts.append(_host(where, str(name), host))
    groups = {
        str(name): InventoryGroup(
            name=str(name),
            parents=tuple(str(parent.name) for parent in group.groups),
            hosts=tuple(host.name for host in hosts if str(name) in host.groups),
            line=0,
        )
        for name, group in runner.inventory.groups.items()
    }
    return NornirInventory(Inventory(hosts=hosts, groups=groups, path=config, format="nornir"), warnings)


def _host(where: str, name: str, host: Host) -> InventoryHost:
    params = host.get_connection_parameters("netmiko")
    if not params.hostname:
        raise InputError(where, f"host {name!r}: no hostname (Nornir does not use the host's name as its address)")
    port = params.port if params.port is not None else DEFAULT_PORT
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise InputError(where, f"host {name!r}: port must be a number from 1 to 65535, not {port!r}")
    extras: Mapping[str, Any] = params.extras or {}
    secret = extras.get("secret")
    if secret is not None and not isinstance(secret, str):
        raise InputError(where, f"host {name!r}: connection_options netmiko extras secret must be a string")
    password = params.password
    if password is not None and not isinstance(password, str):
        raise InputError(where, f"host {name!r}: password must be a string")
    data = dict(host.extended_data())
    raw_tags = data.get("tags", ())
    if not isinstance(raw_tags, list | tuple) or not all(isinstance(tag, str) for tag in raw_tags):
        raise InputError(where, f"host {name!r}: data tags must be a list of strings")
    return InventoryHost(
        name=name,
        address=str(params.hostname),
        port=port,
        groups=tuple(str(group.name) for group in host.extended_groups()),
        tags=tuple(dict.fromkeys(raw_tags)),
        username=str(params.username) if params.username is not None else None,
        data=data,
        inline_credentials=hold_inline_credentials(f"nornir:{where}#{name}", password or None, secret or None),
    )


def _config_error(where: str, exc: Exception) -> InputError:
    """One line for what Nornir refused: the YAML file and line when its parser names them."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or type(exc).__name__
        file = str(getattr(mark, "name", "") or where)
        return InputError(file, f"invalid YAML: {problem} (column {mark.column + 1})", mark.line + 1)
    if isinstance(exc, FileNotFoundError):
        return InputError(str(exc.filename or where), "file named by the Nornir configuration does not exist")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InputError(where, f"Nornir refused the configuration: {type(exc).__name__}: {first}")


#: The host mapping, public (:mod:`cmelive.nornir`'s task maps each Nornir host with it).
inventory_host_from_nornir = _host
