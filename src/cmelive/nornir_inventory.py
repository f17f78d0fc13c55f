"""A Nornir inventory, read through Nornir itself: ``cmelive fleet --nornir CONFIG.yaml``.

``CONFIG.yaml`` is a Nornir configuration file; :func:`nornir.InitNornir` loads it with whatever
inventory plugin it names -- SimpleInventory, ``nornir_ansible``'s AnsibleInventory (Ansible INI or
YAML, ``pip install 'cmelive[ansible]'``), ``nornir_netbox``'s NetBoxInventory2
(``pip install 'cmelive[netbox]'``) -- so hosts, groups, defaults and their inheritance are exactly
what Nornir resolves. As in Nornir, relative paths in the file (``host_file``, ``hostsfile``...) are
relative to the current directory.

Each Nornir host becomes an :class:`~cmelive.inventory.InventoryHost`
(:func:`inventory_host_from_nornir`): ``hostname``, ``port``, ``username``, ``password`` and the
enable secret (``connection_options: netmiko: extras: secret``) as Nornir's netmiko connection
parameters resolve them (netmiko's ``connection_options`` override the host's own values, as they do
for ``nornir_netmiko``); ``groups`` (every group, parents included), ``data`` (merged through groups
and defaults) and ``data.tags`` (strings, or NetBox's tag objects by their slug) as cmelive tags.

What the plugins leave in ``data`` and cmelive reads too:

- Ansible: ``nornir_ansible`` maps ``ansible_host``/``ansible_port``/``ansible_user``/
  ``ansible_password`` and nothing else; cmelive also takes ``ansible_ssh_pass`` as the password and
  ``ansible_become_password`` (``ansible_become_pass``) as the enable secret where Nornir gives none,
  and ``ansible_network_os`` as the platform where the host has no ``platform``. Those secrets are
  taken out of the host's ``data``. A password that is a Jinja template (``{{ ... }}``) or Vault
  data is refused: cmelive would send it to the router as it is.
- NetBox: a device's config context (``data.config_context``) may carry
  ``connection_options: netmiko:`` with ``hostname``, ``port`` or ``username`` -- NetBox has no field
  for an SSH port. They count as the host's own connection options (over groups and defaults). A
  password or secret there is refused: anything that can read the device through NetBox's API
  would read it.
- Any plugin: ``password_env`` / ``enable_secret_env`` in the data name environment variables that
  hold the credentials (credentials by reference, as in cmelive's own inventory; a named variable
  wins over an inline value).

Inline passwords are accepted, as Nornir users keep them, and held in this process's memory only
(:func:`~cmelive.inventory.hold_inline_credentials`; the host carries a key to them): never echoed,
logged, written or handed to the judge processes.

``platform``: cmelive audits Cisco IOS, so a host whose platform is ``cisco_ios`` or ``ios`` (or
unset; for Ansible, ``ansible_network_os`` ``ios`` or ``cisco.ios.ios``) is audited; any other is
skipped with a warning, since an inventory commonly spans vendors and refusing the whole file would
make it unusable. A host without a ``hostname`` is an error: Nornir 3 does not use the host's name
as its address.

``nornir`` and the plugins are optional dependencies, imported only here. Every problem is an
:class:`~cmelive.errors.InputError` naming the file (and line, where Nornir's YAML parser gives
one, or where cmelive finds the line of an Ansible INI inventory that ``nornir_ansible`` refused).
"""

from __future__ import annotations

import configparser
import importlib
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from cmelive.errors import InputError
from cmelive.inventory import DEFAULT_PORT, Inventory, InventoryGroup, InventoryHost, hold_inline_credentials

if TYPE_CHECKING:
    from nornir.core.inventory import Host

#: Nornir platform names (netmiko's and NAPALM's) of the routers cmelive audits.
IOS_PLATFORMS = frozenset({"cisco_ios", "ios"})
#: ``ansible_network_os`` values (short and collection-qualified) of the routers cmelive audits.
ANSIBLE_IOS_NETWORK_OS = frozenset({"ios", "cisco.ios.ios"})
#: Ansible's names for the login password and the enable secret that ``nornir_ansible`` leaves in
#: ``data`` (it maps ``ansible_password`` only), in the order Ansible prefers them.
ANSIBLE_PASSWORD_VARS = ("ansible_password", "ansible_ssh_pass")
ANSIBLE_ENABLE_SECRET_VARS = ("ansible_become_password", "ansible_become_pass")
#: The community inventory plugins cmelive offers as extras: the package and the extra for each.
PLUGIN_PACKAGES = {
    "AnsibleInventory": ("nornir_ansible", "ansible"),
    "NetBoxInventory2": ("nornir_netbox", "netbox"),
}
_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.S)
_ANSIBLE_INI_SECTION = re.compile(r"^\[(?P<name>[^\]]*)\]\s*(?:[#;].*)?$")


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
    plugin, options = _inventory_settings(config)
    if plugin in PLUGIN_PACKAGES:
        package, extra = PLUGIN_PACKAGES[plugin]
        try:
            importlib.import_module(package)
        except ImportError as exc:
            raise InputError(
                where, f"inventory plugin {plugin} needs the Python package {package!r} (pip install 'cmelive[{extra}]')"
            ) from exc
    ansible_hosts = Path(str(options.get("hostsfile", "hosts"))) if plugin == "AnsibleInventory" else None
    # nornir_ansible reads a missing INI file as an empty inventory (configparser skips it).
    if ansible_hosts is not None and not ansible_hosts.is_file():
        raise InputError(str(ansible_hosts), "Ansible inventory named by the Nornir configuration does not exist")
    try:
        with _quiet_nornir_loggers():
            # Nornir's own log file (./nornir.log) is off: it would be a file cmelive writes unguarded.
            runner = nornir.InitNornir(config_file=str(config), logging={"enabled": False})
    except Exception as exc:  # Nornir and its plugins raise their own types, or plain ones
        found = _ansible_inventory_error(ansible_hosts, exc) if ansible_hosts is not None else None
        raise (found or _config_error(where, exc)) from exc
    hosts: list[InventoryHost] = []
    warnings: list[str] = []
    for name, host in runner.inventory.hosts.items():
        reason = skip_reason(host)
        if reason is not None:
            if plugin == "NetBoxInventory2" and not options.get("use_platform_slug"):
                reason += " (NetBoxInventory2 gives the platform's name unless use_platform_slug: true)"
            warnings.append(f"{where}: host {name!r} skipped: {reason}")
            continue
        hosts.append(inventory_host_from_nornir(where, str(name), host))
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


def skip_reason(host: Host) -> str | None:
    """Why cmelive does not audit ``host`` (its platform is not Cisco IOS), or ``None``."""
    platform = host.platform
    if platform is not None:
        return None if platform in IOS_PLATFORMS else f"platform {platform!r} is not Cisco IOS"
    network_os = host.extended_data().get("ansible_network_os")
    if network_os is not None and network_os not in ANSIBLE_IOS_NETWORK_OS:
        return f"ansible_network_os {network_os!r} is not Cisco IOS"
    return None


@contextmanager
def _quiet_nornir_loggers() -> Iterator[None]:
    """Nornir and its plugins warn through logging (an empty defaults file...); with no handler
    configured, Python would print that to stderr around cmelive's one-line messages. Only while
    the inventory loads: a script's own later InitNornir must find its loggers as they were (Nornir
    sets up its log file only on loggers without a handler)."""
    added: list[tuple[logging.Logger, logging.Handler]] = []
    for name in ("nornir", "nornir_ansible", "nornir_netbox"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            handler: logging.Handler = logging.NullHandler()
            logger.addHandler(handler)
            added.append((logger, handler))
    try:
        yield
    finally:
        for logger, handler in added:
            logger.removeHandler(handler)


def inventory_host_from_nornir(where: str, name: str, host: Host) -> InventoryHost:
    """The :class:`InventoryHost` for Nornir's ``host`` (see the module docstring); ``where`` names
    the inventory in messages."""
    # The host's own netmiko options before Nornir resolves them: its resolution fills the host's
    # own object in place with what groups and defaults give.
    own = host.connection_options.get("netmiko")
    own_values = {key: getattr(own, key, None) for key in ("hostname", "port", "username")}
    context = _config_context_options(where, name, host)
    params = host.get_connection_parameters("netmiko")

    def pick(attribute: str) -> Any:
        for value in (own_values[attribute], context.get(attribute)):
            if value is not None:
                return value
        return getattr(params, attribute)

    hostname, port, username = pick("hostname"), pick("port"), pick("username")
    if not hostname:
        raise InputError(where, f"host {name!r}: no hostname (Nornir does not use the host's name as its address)")
    port = port if port is not None else DEFAULT_PORT
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise InputError(where, f"host {name!r}: port must be a number from 1 to 65535, not {port!r}")
    data = dict(host.extended_data())
    extras: Mapping[str, Any] = params.extras or {}
    secret = extras.get("secret")
    password = params.password
    # Ansible's variables, in Ansible's order of preference, where Nornir gave nothing; always taken
    # out of the data, which a host carries everywhere.
    for variable in ANSIBLE_PASSWORD_VARS:
        value = data.pop(variable, None)
        password = value if password is None else password
    for variable in ANSIBLE_ENABLE_SECRET_VARS:
        value = data.pop(variable, None)
        secret = value if secret is None else secret
    if secret is not None and not isinstance(secret, str):
        raise InputError(where, f"host {name!r}: the enable secret must be a string")
    if password is not None and not isinstance(password, str):
        raise InputError(where, f"host {name!r}: password must be a string")
    for label, value in (("password", password), ("enable secret", secret)):
        # Ansible inventories often hold "{{ lookup(...) }}" or "{{ vault_x }}": taken as they are,
        # they would be sent to the router as the password.
        if value is not None and _TEMPLATE.search(value):
            raise InputError(
                where,
                f"host {name!r}: the {label} is an Ansible template ({{{{ ... }}}}); cmelive evaluates no"
                " templates: name an environment variable with password_env / enable_secret_env",
            )
    return InventoryHost(
        name=name,
        address=str(hostname),
        port=port,
        groups=tuple(str(group.name) for group in host.extended_groups()),
        tags=_tags(where, name, data.get("tags", ())),
        username=str(username) if username is not None else None,
        password_env=_env_name(where, name, data, "password_env"),
        enable_secret_env=_env_name(where, name, data, "enable_secret_env"),
        data=data,
        inline_credentials=hold_inline_credentials(f"nornir:{where}#{name}", password or None, secret or None),
    )


def _tags(where: str, name: str, raw: object) -> tuple[str, ...]:
    # NetBox gives tags as objects ({"name": ..., "slug": ...}); everything else as strings.
    if isinstance(raw, list | tuple):
        tags = [tag.get("slug") if isinstance(tag, Mapping) else tag for tag in raw]
        if all(isinstance(tag, str) for tag in tags):
            return tuple(dict.fromkeys(str(tag) for tag in tags))
    raise InputError(where, f"host {name!r}: data tags must be a list of strings (or of NetBox tags)")


def _env_name(where: str, name: str, data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InputError(where, f"host {name!r}: data {key} must name an environment variable")
    return value


def _config_context_options(where: str, name: str, host: Host) -> dict[str, Any]:
    """``connection_options: netmiko:`` of a NetBox config context: hostname, port, username."""
    context = host.data.get("config_context")
    options = context.get("connection_options") if isinstance(context, Mapping) else None
    netmiko = options.get("netmiko") if isinstance(options, Mapping) else None
    if not isinstance(netmiko, Mapping):
        return {}
    extras = netmiko.get("extras")
    if netmiko.get("password") is not None or (isinstance(extras, Mapping) and extras.get("secret") is not None):
        raise InputError(
            where,
            f"host {name!r}: its config context holds a password or secret (keep credentials out of NetBox:"
            " the Nornir defaults file, or password_env / enable_secret_env)",
        )
    return {key: netmiko.get(key) for key in ("hostname", "port", "username")}


def _inventory_settings(config: Path) -> tuple[str | None, Mapping[str, Any]]:
    """The inventory plugin ``config`` names and its options, as far as they can be read; Nornir
    itself reports whatever is wrong with the file."""
    try:
        settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None, {}
    inventory = settings.get("inventory") if isinstance(settings, dict) else None
    if not isinstance(inventory, dict):
        return None, {}
    options = inventory.get("options")
    plugin = inventory.get("plugin")
    return (plugin if isinstance(plugin, str) else None), (options if isinstance(options, dict) else {})


def _ansible_inventory_error(hostsfile: Path, exc: Exception) -> InputError | None:
    """What is wrong with the Ansible inventory ``nornir_ansible`` refused, at its line; ``None``
    when it is not found there. An INI file it cannot read it retries as YAML, whose complaint
    about an INI file would mislead: a file with ``[group]`` lines is read as INI here."""
    where = str(hostsfile)
    try:
        text = hostsfile.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return InputError(where, f"Ansible inventory cannot be read: {error}")
    lines = text.splitlines()
    if hostsfile.suffix not in (".yml", ".yaml") and any(_ANSIBLE_INI_SECTION.match(line) for line in lines):
        return _ansible_ini_error(where, text, lines)
    mark = _yaml_mark(exc)
    if mark is not None:
        return _yaml_error(where, exc, mark)
    return None


def _ansible_ini_error(where: str, text: str, lines: list[str]) -> InputError | None:
    # The reader nornir_ansible uses, set up as it sets it up.
    reader = configparser.ConfigParser(interpolation=None, allow_no_value=True, delimiters=" =")
    try:
        reader.read_string(text, source=where)
    except configparser.MissingSectionHeaderError as error:
        return InputError(where, "Ansible INI: a line before the first [group] section", error.lineno)
    except configparser.ParsingError as error:
        line_number, line = error.errors[0]
        return InputError(where, f"Ansible INI: cannot read the line {line.strip()!r}", line_number)
    except configparser.DuplicateSectionError as error:
        return InputError(where, f"Ansible INI: section [{error.section}] appears twice", error.lineno)
    except configparser.DuplicateOptionError as error:
        return InputError(
            where, f"Ansible INI: {error.option!r} appears twice in section [{error.section}]", error.lineno
        )
    except configparser.Error as error:
        return InputError(where, f"Ansible INI: {error.message.splitlines()[0]}", getattr(error, "lineno", None))
    section: str | None = None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        header = _ANSIBLE_INI_SECTION.match(line)
        if header is not None:
            section = header["name"]
            kind = section.split(":")
            if len(kind) > 2 or (len(kind) == 2 and kind[1] not in ("vars", "children")):
                return InputError(
                    where, f"Ansible INI: [{section}]: a section is [group], [group:vars] or [group:children]", number
                )
            continue
        if section is None or ":" in section:
            continue
        # A host line: the host, then name=value pairs split at white space, as nornir_ansible splits them.
        host, *variables = re.split(r"[ =]", stripped, maxsplit=1)
        for pair in "".join(variables).split():
            if pair.count("=") != 1:
                return InputError(where, f"Ansible INI: host {host!r}: {pair!r} is not name=value", number)
    return None


def _yaml_mark(exc: BaseException) -> Any:
    """The position a YAML parser (PyYAML's or ruamel's) gave for ``exc`` or what caused it."""
    seen: BaseException | None = exc
    while seen is not None:
        mark = getattr(seen, "problem_mark", None) or getattr(seen, "context_mark", None)
        if mark is not None:
            return mark
        seen = seen.__cause__ or seen.__context__
    return None


def _yaml_error(where: str, exc: BaseException, mark: Any) -> InputError:
    seen: BaseException | None = exc
    while seen is not None and getattr(seen, "problem_mark", None) is None and getattr(seen, "context_mark", None) is None:
        seen = seen.__cause__ or seen.__context__
    problem = getattr(seen, "problem", None) or getattr(seen, "context", None) or type(seen).__name__
    file = str(getattr(mark, "name", "") or where)
    if file.startswith("<"):  # a stream without a name
        file = where
    hint = (
        " (Ansible Vault is not decrypted: name an environment variable with password_env / enable_secret_env)"
        if "!vault" in str(problem)
        else ""
    )
    return InputError(file, f"invalid YAML: {problem} (column {mark.column + 1}){hint}", mark.line + 1)


def _config_error(where: str, exc: Exception) -> InputError:
    """One line for what Nornir refused: the YAML file and line when its parser names them."""
    mark = _yaml_mark(exc)
    if mark is not None:
        return _yaml_error(where, exc, mark)
    if isinstance(exc, FileNotFoundError):
        return InputError(str(exc.filename or where), "file named by the Nornir configuration does not exist")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InputError(where, f"Nornir refused the configuration: {type(exc).__name__}: {first}")

