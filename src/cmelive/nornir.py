"""A Nornir task that audits a host with cmelive: ``nr.run(task=audit)``.

::

    from nornir import InitNornir
    from cmelive.nornir import audit

    nr = InitNornir(config_file="config.yaml")
    results = nr.filter(platform="cisco_ios").run(task=audit, known_hosts=["known_hosts"])
    report = results["branch-7"][0].result  # a cmelive.api.DeviceReport

Each host is reached over its own netmiko connection options, as Nornir resolves them (the same
mapping as ``cmelive fleet --nornir``, :func:`cmelive.nornir_inventory.inventory_host_from_nornir`):
``hostname``, ``port``, ``username``, ``password``, the enable secret in ``connection_options:
netmiko: extras: secret``, and from the same ``extras`` ``timeout`` (seconds of silence before a
wait ends) and ``read_timeout_override`` (the most one command may take). The collection is
cmelive's own (:func:`cmelive.api.collect`): bounded in time and size, read-only show commands
only, every one through cmelive's guard -- not ``nornir_netmiko``'s connection, which would
send whatever a task asks.

The task's :class:`~nornir.core.task.Result` holds the :class:`~cmelive.api.DeviceReport` as
``result``, also when the host could not be audited: then ``failed`` is True and the report's
status is ``error`` with the reason (unreachable, login or host key refused, not Cisco IOS, ...),
or its running-config was not collected whole -- the rule behind the CLI's exit code 3. Failed
checks do not fail the task: read them from the report (:func:`cmelive.api.failures`). Inline
passwords are used from memory only; no result, report or log line holds one.

Requires ``nornir`` (``pip install 'cmelive[nornir]'``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nornir.core.task import Result, Task

from cmelive import api
from cmelive.collect import Limits, Target
from cmelive.errors import AuthenticationError, CmeliveError, InputError
from cmelive.inventory import host_policy, resolve_credentials
from cmelive.nornir_inventory import IOS_PLATFORMS, inventory_host_from_nornir
from cmelive.policy import Policy
from cmelive.waivers import Waiver

#: How the host's inventory is named in messages about it.
WHERE = "Nornir inventory"


def audit(
    task: Task,
    *,
    policy: Policy | None = None,
    waivers: Sequence[Waiver] = (),
    known_hosts: Sequence[Path | str] = (),
    accept_new_host_key: bool = False,
    timeout: float = 30.0,
    limits: Limits | None = None,
) -> Result:
    """Audit ``task.host`` live with cmelive; the result is its :class:`~cmelive.api.DeviceReport`.

    ``policy`` (:func:`cmelive.api.load_policy`) and ``waivers`` (applied by host name) are those of
    :func:`cmelive.api.audit`; ``known_hosts`` are the OpenSSH known_hosts files the host's key is
    checked against (default: cmelive's own and ``~/.ssh/known_hosts``), ``accept_new_host_key``
    records a key seen for the first time. ``timeout`` and ``limits`` apply where the host's
    netmiko ``extras`` set none (see the module docstring). ``failed`` is True when the host could
    not be audited; the report then says why.
    """
    host = task.host
    name = str(host.name)
    address = str(host.hostname or name)
    try:
        platform = host.platform
        if platform is not None and platform not in IOS_PLATFORMS:
            raise InputError(WHERE, f"host {name!r}: platform {platform!r} is not Cisco IOS (cmelive audits IOS only)")
        mapped = inventory_host_from_nornir(WHERE, name, host)
        address = mapped.address
        password, enable_secret = resolve_credentials(mapped)
        extras: Mapping[str, Any] = host.get_connection_parameters("netmiko").extras or {}
        base_limits = limits if limits is not None else Limits()
        target = Target(
            host=mapped.address,
            port=mapped.port,
            username=mapped.username,
            password=password,
            enable_secret=enable_secret,
            timeout=_seconds(extras, "timeout", name) or timeout,
            known_hosts=tuple(Path(path) for path in known_hosts),
            accept_new_host_key=accept_new_host_key,
            name=name,
            limits=base_limits.with_overrides(
                command_deadline_s=_seconds(extras, "read_timeout_override", name)
            ),
        )
        report = api.audit_target(
            target,
            policy=host_policy(mapped, policy if policy is not None else Policy()),
            waivers=waivers,
            enable_secret_prompt=_enable_secret_missing,
        )
    except CmeliveError as exc:
        report = api.error_report(name, address, exc)
    return Result(host=host, result=report, changed=False, failed=report.not_audited_reason() is not None)


def _enable_secret_missing(label: str) -> str:
    raise AuthenticationError(
        f"{label}: the login lands in user EXEC mode and 'enable' needs a secret: set it in the Nornir "
        "inventory as connection_options: netmiko: extras: secret"
    )


def _seconds(extras: Mapping[str, Any], key: str, name: str) -> float | None:
    value = extras.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise InputError(
            WHERE, f"host {name!r}: netmiko extras {key} must be a positive number of seconds, not {value!r}"
        )
    return float(value)


__all__ = ["audit"]
