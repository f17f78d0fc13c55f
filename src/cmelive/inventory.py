"""The fleet inventory: which routers to audit, how to reach them, and what each one's policy adds.

One YAML file, in either of two shapes (told apart by the top-level keys):

**Nornir SimpleInventory style** -- ``defaults``, ``groups`` and ``hosts`` in one file (Nornir keeps
them in three). A host lists its ``groups``; a group may list its own parent ``groups``. A setting
is resolved as Nornir resolves ``hostname``/``port``/``username``: the host's own value, else the
first of its groups that has one, walking the groups in the order listed and each group's parents
depth-first before the next group, else ``defaults``. (Nornir consults a group's chain *including
defaults* before moving to the next group, so a default can shadow a later group; we consult
defaults only after every group.) ``data`` is merged key by key with the same precedence. Nornir's
``hostname`` is accepted as another name for ``address``. As in Nornir 3, the host's name is *not*
used as its address: a host whose address resolves nowhere is an error.

**Ansible YAML inventory** -- starts with ``all:``; every group has ``hosts``, ``children`` and
``vars``. ``ansible_host``, ``ansible_port``, ``ansible_user`` and ``ansible_ssh_private_key_file``
(and their older ``ansible_ssh_*`` spellings) give address, port, username and key file. cmelive's
own settings are variables prefixed ``cmelive_`` (``cmelive_password_env``, ``cmelive_tags``, ...:
``tags`` alone is a reserved name in Ansible); other variables belong to Ansible and are ignored.
Group variables inherit down the tree as in Ansible: ``all`` first, then groups by depth, siblings by
``ansible_group_priority`` then name, each overriding the last; host variables win. As in Ansible,
a host without ``ansible_host`` is reached by its inventory name.

In both shapes, ``tags`` accumulate (a host has its own tags plus those of every group it belongs
to and of ``defaults``/``all``), while every other setting is taken whole from the most specific
level that sets it -- a host's ``trusted_subnets`` replaces its group's rather than adding to it.

**Credentials are by reference only.** The file names environment variables (``password_env``,
``enable_secret_env``) or a keyring entry (``keyring: {service, username}``); a plain
``password``/``secret``/``enable_secret`` (or Ansible's ``ansible_password`` ...) value is refused.
:func:`resolve_credentials` reads them when the fleet runner is about to log in. The ``keyring``
package is optional: it is imported only then, and its absence is reported for the hosts that use it.

**Jump hosts.** ``jump_host`` is one OpenSSH ``ProxyJump`` hop, ``[user@]host[:port]``. The
inventory only carries it; the fleet runner is expected to write an ssh_config snippet
(``Host <address>`` / ``ProxyJump <jump_host>``) and hand it to netmiko, which turns it into
``ssh -W``. netmiko supports a single hop, hence no comma-separated chains.

**Host keys.** ``known_hosts`` names the OpenSSH known_hosts file a router's key is checked
against (per host, group or defaults, like any setting; relative to the inventory file). The
fleet runner hands it to the collector with any ``--known-hosts`` files of the command line (those
first: a key accepted with ``--accept-new-host-key`` is recorded in the first file). Without
either, cmelive's own known_hosts file and ``~/.ssh/known_hosts`` are used.

Every error is an :class:`~cmelive.errors.InputError` naming ``file:line``; line numbers come from
the composed YAML node tree, so they point at the key or value at fault.

The API: :func:`load_inventory`, :func:`select`, :func:`resolve_credentials`, :func:`host_policy`,
and the frozen :class:`InventoryHost` they hand out.
"""

from __future__ import annotations

import dataclasses
import importlib
import ipaddress
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from cmelive.collect.limits import parse_size
from cmelive.errors import InputError, UsageError
from cmelive.policy import Policy
from cmelive.yaml_bounds import compose_within_bounds

DEFAULT_PORT = 22

InventoryFormat = Literal["nornir", "ansible"]


@dataclass(frozen=True)
class KeyringEntry:
    """Where the login password lives in the system keyring: ``keyring.get_password(service, username)``."""

    service: str
    username: str


@dataclass(frozen=True)
class InventoryHost:
    """One router, with every setting resolved through its groups and the defaults.

    ``address`` is what to connect to (IP or DNS name). ``groups`` are every group the host belongs
    to, directly or through a parent group, in precedence order (the group whose values win comes
    first). ``password_env``/``enable_secret_env`` name environment variables and ``keyring`` a
    keyring entry; at most one of ``password_env`` and ``keyring`` is set. ``key_file``,
    ``ssh_config`` and ``known_hosts`` (the OpenSSH known_hosts file the router's key is checked
    against, and where ``--accept-new-host-key`` records it) are absolute (a relative path in the
    file is taken relative to the inventory file's directory, ``~`` is expanded). ``timeout`` is ``None`` when the runner's default
    applies, and so are ``command_deadline``, ``session_deadline`` (seconds) and ``max_output``
    (bytes; see :mod:`cmelive.collect.limits`); ``trusted_subnets``/``wan_interfaces`` are ``None`` when the host does not override the
    site policy (see :func:`host_policy`). ``line`` is where the host is defined.
    """

    name: str
    address: str
    port: int = DEFAULT_PORT
    groups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    username: str | None = None
    password_env: str | None = None
    enable_secret_env: str | None = None
    keyring: KeyringEntry | None = None
    key_file: Path | None = None
    ssh_config: Path | None = None
    known_hosts: Path | None = None
    jump_host: str | None = None
    timeout: float | None = None
    trusted_subnets: tuple[str, ...] | None = None
    wan_interfaces: tuple[str, ...] | None = None
    data: Mapping[str, object] = field(default_factory=dict, hash=False)
    line: int = 0
    command_deadline: float | None = None
    session_deadline: float | None = None
    max_output: int | None = None
    #: A key into this process's store of credentials an inventory held in clear (a Nornir
    #: inventory's inline password, see :func:`hold_inline_credentials`): the host itself never
    #: holds a secret, so neither its repr nor its copy in a judge process can show one.
    inline_credentials: str | None = None


@dataclass(frozen=True)
class InventoryGroup:
    """A group: its direct parent groups and every host in it, directly or through a subgroup."""

    name: str
    parents: tuple[str, ...]
    hosts: tuple[str, ...]
    line: int


@dataclass
class Inventory:
    """A loaded inventory: hosts in file order, groups by name, and the file they came from."""

    hosts: list[InventoryHost]
    groups: dict[str, InventoryGroup]
    path: Path
    format: InventoryFormat = "nornir"


class CredentialError(UsageError):
    """A host's credentials cannot be read: a variable is unset or empty, or the keyring failed.

    The message names the host and the variable (or keyring entry), never a secret.
    """


# --------------------------------------------------------------------------------------------------
# Public functions


def load_inventory(path: Path) -> Inventory:
    """Read and validate an inventory file (Nornir-style or Ansible YAML, detected from its keys).

    Raises :class:`~cmelive.errors.InputError` (``file:line: problem``) on anything wrong: YAML
    syntax, unknown keys, duplicate names, a missing address, a bad port, an undefined group, a
    group cycle, a plain password, a value of the wrong type.
    """
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(where, "inventory file does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(where, f"cannot read inventory file: {exc}") from exc
    try:
        try:
            root = compose_within_bounds(text, where, _FAST_LOADER)
        except yaml.YAMLError:
            # libyaml words some errors differently: let the pure-Python parser say what is wrong.
            root = compose_within_bounds(text, where)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if mark is None:
            raise InputError(where, f"invalid YAML: {exc.problem or exc.context}") from exc
        problem = f"invalid YAML: {exc.problem or exc.context} (column {mark.column + 1})"
        raise InputError(where, problem, mark.line + 1) from exc
    except yaml.YAMLError as exc:
        raise InputError(where, f"invalid YAML: {exc}") from exc
    reader = _Reader(path)
    if root is None:
        raise InputError(where, "the inventory is empty")
    if not isinstance(root, yaml.MappingNode):
        raise reader.error(root, f"expected a mapping ({_SHAPES}), not {_kind(root)}")
    entries = reader.entries(root, "", "top-level key")
    if "all" in entries:
        return _AnsibleParser(reader).parse(root, entries)
    return _NornirParser(reader).parse(root, entries)


def select(
    inventory: Inventory,
    hosts: Iterable[str] = (),
    groups: Iterable[str] = (),
    tags: Iterable[str] = (),
) -> list[InventoryHost]:
    """The hosts matching the filters, in inventory order.

    A host matches when it is one of ``hosts`` (if any given) AND belongs to one of ``groups``
    (directly or through a subgroup; if any given) AND has one of ``tags`` (if any given). No
    filter at all selects every host. Names that match nothing in the inventory raise
    :class:`~cmelive.errors.UsageError` naming them.
    """
    wanted_hosts, wanted_groups, wanted_tags = list(hosts), list(groups), list(tags)
    host_set, group_set, tag_set = set(wanted_hosts), set(wanted_groups), set(wanted_tags)
    known_hosts = [host.name for host in inventory.hosts]
    known_tags = sorted({tag for host in inventory.hosts for tag in host.tags})
    problems = [
        _unknown("host", wanted_hosts, known_hosts, None),
        _unknown("group", wanted_groups, sorted(inventory.groups), "groups"),
        _unknown("tag", wanted_tags, known_tags, "tags in use"),
    ]
    found = [problem for problem in problems if problem]
    if found:
        raise UsageError(f"{'; '.join(found)} (in {inventory.path})")
    return [
        host
        for host in inventory.hosts
        if (not host_set or host.name in host_set)
        and (not group_set or not group_set.isdisjoint(host.groups))
        and (not tag_set or not tag_set.isdisjoint(host.tags))
    ]


def resolve_credentials(host: InventoryHost) -> tuple[str | None, str | None]:
    """``(password, enable_secret)`` for ``host``, read from the environment or the keyring (or the
    inline credentials held for it, see :func:`hold_inline_credentials`; a named source wins).

    ``None`` where the host names no source (key or agent authentication; an enable secret is only
    needed when the login lands in user EXEC). A named variable that is unset or empty, a keyring
    entry that is missing, or a keyring that cannot be used (including the ``keyring`` package not
    being installed) raises :class:`CredentialError` naming the host and the variable or entry.
    """
    password, enable_secret = None, None
    if host.inline_credentials is not None:
        if host.inline_credentials not in _INLINE_CREDENTIALS:  # a host rebuilt in another process
            raise CredentialError(f"host {host.name!r}: its inline credentials are not held by this process")
        password, enable_secret = _INLINE_CREDENTIALS[host.inline_credentials]
    if host.password_env is not None:
        password = _read_env(host, host.password_env, "password_env")
    elif host.keyring is not None:
        password = _read_keyring(host, host.keyring)
    if host.enable_secret_env is not None:
        enable_secret = _read_env(host, host.enable_secret_env, "enable_secret_env")
    return password, enable_secret


#: Inline credentials by key (see :attr:`InventoryHost.inline_credentials`); memory only, this process only.
_INLINE_CREDENTIALS: dict[str, tuple[str | None, str | None]] = {}


def hold_inline_credentials(key: str, password: str | None, enable_secret: str | None) -> str:
    """Keep ``(password, enable_secret)`` in memory under ``key`` for :func:`resolve_credentials`; ``key``."""
    _INLINE_CREDENTIALS[key] = (password, enable_secret)
    return key


def host_policy(host: InventoryHost, base: Policy) -> Policy:
    """``base`` with the host's ``trusted_subnets``/``wan_interfaces`` overrides applied (a copy)."""
    policy = dataclasses.replace(base)
    if host.trusted_subnets is not None:
        policy.trusted_subnets = list(host.trusted_subnets)
    if host.wan_interfaces is not None:
        policy.wan_interfaces = list(host.wan_interfaces)
    return policy


# --------------------------------------------------------------------------------------------------
# Credentials


def _read_env(host: InventoryHost, variable: str, setting: str) -> str:
    value = os.environ.get(variable)
    if value is None:
        raise CredentialError(f"host {host.name!r}: environment variable {variable} ({setting}) is not set")
    if value == "":
        raise CredentialError(f"host {host.name!r}: environment variable {variable} ({setting}) is empty")
    return value


def _read_keyring(host: InventoryHost, entry: KeyringEntry) -> str:
    described = f"keyring entry (service {entry.service!r}, user {entry.username!r})"
    try:
        module = importlib.import_module("keyring")
    except ImportError as exc:
        raise CredentialError(
            f"host {host.name!r}: the inventory names a {described} for its password, but the Python "
            "package 'keyring' is not installed (pip install keyring)"
        ) from exc
    get_password: Callable[[str, str], str | None] = module.get_password
    try:
        value = get_password(entry.service, entry.username)
    except Exception as exc:  # keyring backends raise their own types (no backend, locked, D-Bus...)
        raise CredentialError(f"host {host.name!r}: reading the {described} failed: {exc}") from exc
    if not value:
        raise CredentialError(f"host {host.name!r}: the {described} does not exist or is empty")
    return value


# --------------------------------------------------------------------------------------------------
# Shared parsing: settings, their types and their lines

_SHAPES = "Nornir-style 'hosts' with optional 'defaults' and 'groups', or an Ansible inventory under 'all'"

#: The per-level settings both shapes share (Nornir spells them as is, Ansible with ``cmelive_``).
_SETTINGS = (
    "address",
    "port",
    "username",
    "password_env",
    "enable_secret_env",
    "keyring",
    "key_file",
    "ssh_config",
    "known_hosts",
    "jump_host",
    "timeout",
    "command_deadline",
    "session_deadline",
    "max_output",
    "tags",
    "trusted_subnets",
    "wan_interfaces",
    "data",
)

#: Keys that would hold a secret in clear, and the by-reference setting to use instead.
_PLAIN_SECRETS = {
    "password": "password_env",
    "secret": "enable_secret_env",
    "enable_secret": "enable_secret_env",
    "enable_password": "enable_secret_env",
}

#: libyaml composes a large fleet's file ~8x faster; node marks (lines) are the same.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HOP_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|[^\s@:,\[\]]+)"
_JUMP_HOST = re.compile(rf"^(?:[^\s@,]+@)?{_HOP_HOST}(?::\d{{1,5}})?$")
_NO_SPACE = re.compile(r"^\S+$")
_YAML_STR = "tag:yaml.org,2002:str"
_YAML_NULL = "tag:yaml.org,2002:null"


def _kind(node: yaml.Node) -> str:
    """What a node is, in words, for 'must be X, not Y' messages."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = node.tag.rsplit(":", 1)[-1]
    return {"str": "a string", "int": "a number", "float": "a number", "bool": "true/false", "null": "empty"}.get(
        tag, f"a {node.tag} value"
    )


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _YAML_NULL


def _unknown(noun: str, wanted: list[str], known: list[str], known_label: str | None) -> str:
    """'unknown group: x (groups: a, b)'; hosts are not listed back, there may be thousands."""
    known_set = set(known)
    missing = [name for name in dict.fromkeys(wanted) if name not in known_set]
    if not missing:
        return ""
    found = f"unknown {noun}{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
    if known_label is None:
        return found
    return f"{found} ({known_label}: {', '.join(known) if known else 'none'})"


@dataclass
class _PasswordSource:
    env: str | None = None
    keyring_service: str | None = None
    keyring_username: str | None = None


@dataclass
class _Settings:
    """What one level (host, group, defaults) sets, with the line of each setting."""

    address: str | None = None
    port: int | None = None
    username: str | None = None
    password: _PasswordSource | None = None
    enable_secret_env: str | None = None
    key_file: Path | None = None
    ssh_config: Path | None = None
    known_hosts: Path | None = None
    jump_host: str | None = None
    timeout: float | None = None
    command_deadline: float | None = None
    session_deadline: float | None = None
    max_output: int | None = None
    tags: tuple[str, ...] = ()
    trusted_subnets: tuple[str, ...] | None = None
    wan_interfaces: tuple[str, ...] | None = None
    data: dict[str, object] = field(default_factory=dict)
    data_lines: dict[str, int] = field(default_factory=dict)
    #: attribute -> line and spelling in the file, for every attribute this level sets.
    lines: dict[str, int] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


class _Reader:
    """Reads composed YAML nodes into typed values, raising ``file:line`` errors."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self.constructor = yaml.constructor.SafeConstructor()

    def error(self, node: yaml.Node, problem: str) -> InputError:
        return InputError(self.where, problem, node.start_mark.line + 1)

    def entries(self, node: yaml.MappingNode, context: str, noun: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """A mapping's ``key -> (key node, value node)``, refusing duplicate and non-string keys.

        YAML merge keys (``<<: *anchor``) are honoured: explicit keys win over merged ones.
        """
        prefix = f"{context}: " if context else ""
        own: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        merged: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        raise self.error(source, f"{prefix}'<<' must merge a mapping, not {_kind(source)}")
                    for name, pair in self.entries(source, context, noun).items():
                        merged.setdefault(name, pair)
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _YAML_NULL:
                raise self.error(key_node, f"{prefix}a {noun} must be a plain name, not {_kind(key_node)}")
            name = str(key_node.value)
            if name in own:
                first = own[name][0].start_mark.line + 1
                raise self.error(key_node, f"{prefix}duplicate {noun} {name!r} (first at line {first})")
            own[name] = (key_node, value_node)
        return {**merged, **own}

    def mapping(self, node: yaml.Node, context: str, noun: str, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """``entries`` of a node that must be a mapping (or empty, read as an empty mapping)."""
        if _is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{context}: {what} must be a mapping, not {_kind(node)}")
        return self.entries(node, context, noun)

    def value(self, node: yaml.Node, context: str) -> object:
        try:
            value: object = self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise self.error(node, f"{context}: cannot read value: {exc.problem}") from exc
        return value

    def string(self, node: yaml.Node, context: str, key: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _YAML_STR:
            hint = " (quote it)" if isinstance(node, yaml.ScalarNode) and not _is_null(node) else ""
            raise self.error(node, f"{context}: {key} must be a string, not {_kind(node)}{hint}")
        text = str(node.value)
        if not text.strip():
            raise self.error(node, f"{context}: {key} must not be empty")
        return text

    def string_list(self, node: yaml.Node, context: str, key: str, what: str) -> list[tuple[str, yaml.Node]]:
        if _is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"{context}: {key} must be a list of {what}, not {_kind(node)}")
        return [(self.string(item, context, f"each entry of {key}"), item) for item in node.value]

    def setting(self, settings: _Settings, key: str, label: str, node: yaml.Node, context: str) -> None:
        """Store one setting: ``key`` is ours, ``label`` how the file spells it (for messages)."""
        line = node.start_mark.line + 1
        # password_env and keyring are two sources of one thing, the login password.
        attribute = "password" if key in ("password_env", "keyring") else key
        if attribute in settings.lines:
            what = "login password" if attribute == "password" else attribute.replace("_", " ")
            first = settings.labels[attribute]
            raise self.error(node, f"{context}: {first} and {label} both set the {what}: give one")
        if key == "address":
            text = self.string(node, context, label)
            if not _NO_SPACE.match(text):
                raise self.error(node, f"{context}: {label} must be an IP address or DNS name without spaces")
            settings.address = text
        elif key == "port":
            settings.port = self.port(node, context, label)
        elif key == "username":
            settings.username = self.string(node, context, label)
        elif key in ("password_env", "enable_secret_env"):
            variable = self.env_name(node, context, label)
            if key == "enable_secret_env":
                settings.enable_secret_env = variable
            else:
                settings.password = _PasswordSource(env=variable)
        elif key == "keyring":
            settings.password = self.keyring(node, context, label)
        elif key in ("key_file", "ssh_config", "known_hosts"):
            file = Path(self.string(node, context, label)).expanduser()
            file = file if file.is_absolute() else self.path.absolute().parent / file
            if key == "known_hosts" and file.is_dir():
                # A missing file is fine (no key known yet; --accept-new-host-key creates it).
                raise self.error(node, f"{context}: {label} names a directory, not a known_hosts file: {file}")
            setattr(settings, key, file)
        elif key == "jump_host":
            text = self.string(node, context, label)
            if not _JUMP_HOST.match(text):
                raise self.error(
                    node, f"{context}: {label} must be one ProxyJump hop, [user@]host[:port] (not a list of hops)"
                )
            settings.jump_host = text
        elif key in ("timeout", "command_deadline", "session_deadline"):
            number = self.value(node, context) if isinstance(node, yaml.ScalarNode) else None
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not 0 < number < math.inf:
                raise self.error(node, f"{context}: {label} must be a positive number of seconds")
            setattr(settings, key, float(number))
        elif key == "max_output":
            size = self.value(node, context) if isinstance(node, yaml.ScalarNode) else None
            try:
                if isinstance(size, bool) or not isinstance(size, (int, str)):
                    raise ValueError("not a size")
                settings.max_output = size if isinstance(size, int) and size > 0 else parse_size(str(size))
            except ValueError:
                raise self.error(
                    node, f"{context}: {label} must be a size: a number of bytes, or with K, M or G (512K, 64M)"
                ) from None
        elif key == "tags":
            settings.tags = tuple(dict.fromkeys(text for text, _ in self.string_list(node, context, label, "tags")))
        elif key == "trusted_subnets":
            subnets = []
            for text, item in self.string_list(node, context, label, "IP networks"):
                try:
                    ipaddress.ip_network(text.strip(), strict=False)
                except ValueError:
                    raise self.error(item, f"{context}: {label} entry {text!r} is not an IP network") from None
                subnets.append(text.strip())
            settings.trusted_subnets = tuple(subnets)
        elif key == "wan_interfaces":
            names = self.string_list(node, context, label, "interface names")
            settings.wan_interfaces = tuple(text for text, _ in names)
        elif key == "data":
            for name, (key_node, value_node) in self.mapping(node, context, "data key", label).items():
                self.refuse_secrets_in(value_node, context, f"{label}.{name}")
                if name in _PLAIN_SECRETS:
                    raise self.plain_secret(key_node, context, f"{label}.{name}", _PLAIN_SECRETS[name])
                settings.data[name] = self.value(value_node, context)
                settings.data_lines[name] = key_node.start_mark.line + 1
        else:  # pragma: no cover - the callers only pass keys from _SETTINGS
            raise AssertionError(key)
        settings.lines[attribute] = line
        settings.labels[attribute] = label

    def port(self, node: yaml.Node, context: str, label: str) -> int:
        number = self.value(node, context) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 65535:
            shown = str(node.value) if isinstance(number, int) and not isinstance(number, bool) else _kind(node)
            raise self.error(node, f"{context}: {label} must be a whole number from 1 to 65535, not {shown}")
        return number

    def env_name(self, node: yaml.Node, context: str, label: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _YAML_STR:
            problem = f"{label} must be the name of an environment variable, not {_kind(node)}"
            raise self.error(node, f"{context}: {problem}")
        if not _ENV_NAME.match(str(node.value)):
            # The value is not echoed: whoever got this wrong may have pasted the password itself.
            raise self.error(
                node,
                f"{context}: {label} must be the name of an environment variable (letters, digits and _, "
                "not starting with a digit); the value is not shown in case it is a secret",
            )
        return str(node.value)

    def keyring(self, node: yaml.Node, context: str, label: str) -> _PasswordSource:
        entries = self.mapping(node, context, "keyring key", label)
        allowed = ("service", "username")
        for name, (key_node, _) in entries.items():
            if name not in allowed:
                problem = f"unknown key {name!r} in {label} (allowed: {', '.join(allowed)})"
                raise self.error(key_node, f"{context}: {problem}")
        if "service" not in entries:
            raise self.error(node, f"{context}: {label} needs a service (and a username, else the host's username)")
        service = self.string(entries["service"][1], context, f"{label}.service")
        username = None
        if "username" in entries:
            username = self.string(entries["username"][1], context, f"{label}.username")
        return _PasswordSource(keyring_service=service, keyring_username=username)

    def plain_secret(self, node: yaml.Node, context: str, label: str, instead: str) -> InputError:
        return self.error(
            node,
            f"{context}: {label} holds a secret in the file: credentials by reference only: use {instead} "
            "(the name of an environment variable)",
        )

    def refuse_secrets_in(self, node: yaml.Node, context: str, label: str) -> None:
        """Refuse ``password:``-like keys nested anywhere inside free-form ``data``."""
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else ""
                if name in _PLAIN_SECRETS:
                    raise self.plain_secret(key_node, context, f"{label}.{name}", _PLAIN_SECRETS[name])
                self.refuse_secrets_in(value_node, context, f"{label}.{name}")
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.refuse_secrets_in(item, context, label)


@dataclass
class _Level:
    """A host or group as written: its settings and the groups it names (with their lines)."""

    name: str
    line: int
    settings: _Settings
    parents: dict[str, int] = field(default_factory=dict)


def _build_host(
    reader: _Reader,
    host: _Level,
    chain: list[_Settings],
    groups: tuple[str, ...],
    missing_address: str,
) -> InventoryHost:
    """Resolve a host's settings along ``chain`` (most specific first, the host itself included)."""
    context = f"host {host.name!r}"
    address = next((s.address for s in chain if s.address is not None), None)
    if address is None:
        raise InputError(reader.where, f"{context}: {missing_address}", host.line)
    username = next((s.username for s in chain if s.username is not None), None)
    password_env: str | None = None
    keyring: KeyringEntry | None = None
    # The most specific level naming a password source decides, be it password_env or keyring.
    giver = next((s for s in chain if s.password is not None), None)
    if giver is not None and giver.password is not None:
        source = giver.password
        password_env = source.env
        if source.keyring_service is not None:
            keyring_user = source.keyring_username or username
            if keyring_user is None:
                raise InputError(
                    reader.where,
                    f"{context}: the keyring entry needs a username: set keyring.username or the host's username",
                    giver.lines["password"],
                )
            keyring = KeyringEntry(source.keyring_service, keyring_user)
    data: dict[str, object] = {}
    for level in chain:
        for name, value in level.data.items():
            data.setdefault(name, value)
    return InventoryHost(
        name=host.name,
        address=address,
        port=next((s.port for s in chain if s.port is not None), DEFAULT_PORT),
        groups=groups,
        tags=tuple(dict.fromkeys(tag for s in chain for tag in s.tags)),
        username=username,
        password_env=password_env,
        enable_secret_env=next((s.enable_secret_env for s in chain if s.enable_secret_env is not None), None),
        keyring=keyring,
        key_file=next((s.key_file for s in chain if s.key_file is not None), None),
        ssh_config=next((s.ssh_config for s in chain if s.ssh_config is not None), None),
        known_hosts=next((s.known_hosts for s in chain if s.known_hosts is not None), None),
        jump_host=next((s.jump_host for s in chain if s.jump_host is not None), None),
        timeout=next((s.timeout for s in chain if s.timeout is not None), None),
        command_deadline=next((s.command_deadline for s in chain if s.command_deadline is not None), None),
        session_deadline=next((s.session_deadline for s in chain if s.session_deadline is not None), None),
        max_output=next((s.max_output for s in chain if s.max_output is not None), None),
        trusted_subnets=next((s.trusted_subnets for s in chain if s.trusted_subnets is not None), None),
        wan_interfaces=next((s.wan_interfaces for s in chain if s.wan_interfaces is not None), None),
        data=data,
        line=host.line,
    )


def _find_cycle(reader: _Reader, levels: Mapping[str, _Level]) -> None:
    """Refuse a group that inherits from itself, naming the path and the line that closes it."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in done or name not in levels:
            return
        for parent, line in levels[name].parents.items():
            if parent in path:
                cycle = " -> ".join([*path[path.index(parent) :], parent])
                raise InputError(reader.where, f"group {name!r}: group cycle: {cycle}", line)
            visit(parent, [*path, parent])
        done.add(name)

    for name in levels:
        visit(name, [name])


def _groups_index(levels: Mapping[str, _Level], hosts: list[InventoryHost]) -> dict[str, InventoryGroup]:
    members: dict[str, list[str]] = {name: [] for name in levels}
    for host in hosts:
        for group in host.groups:
            members[group].append(host.name)
    return {
        name: InventoryGroup(
            name=name,
            parents=tuple(parent for parent in level.parents if parent != "all"),
            hosts=tuple(members[name]),
            line=level.line,
        )
        for name, level in levels.items()
    }


# --------------------------------------------------------------------------------------------------
# Nornir SimpleInventory style

_NORNIR_TOP = ("defaults", "groups", "hosts")
_NORNIR_DEFAULTS_KEYS = tuple(sorted((*_SETTINGS, "hostname")))
_NORNIR_KEYS = tuple(sorted((*_SETTINGS, "hostname", "groups")))


class _NornirParser:
    def __init__(self, reader: _Reader) -> None:
        self.reader = reader

    def parse(self, root: yaml.MappingNode, entries: dict[str, tuple[yaml.Node, yaml.Node]]) -> Inventory:
        reader = self.reader
        for name, (key_node, _) in entries.items():
            if name not in _NORNIR_TOP:
                raise reader.error(
                    key_node,
                    f"unknown top-level key {name!r} (allowed: {', '.join(_NORNIR_TOP)}; "
                    "an Ansible inventory starts with 'all:')",
                )
        if "hosts" not in entries:
            raise reader.error(root, f"no 'hosts' in the inventory (expected {_SHAPES})")
        defaults = _Settings()
        if "defaults" in entries:
            mapping = reader.mapping(entries["defaults"][1], "defaults", "key", "defaults")
            self.settings(mapping, defaults, "defaults", _NORNIR_DEFAULTS_KEYS)
        groups: dict[str, _Level] = {}
        if "groups" in entries:
            group_entries = reader.mapping(entries["groups"][1], "groups", "group", "groups")
            for name, (key_node, value_node) in group_entries.items():
                groups[name] = self.level(name, key_node, value_node, "group")
        hosts_key, hosts_node = entries["hosts"]
        host_levels = [
            self.level(name, key_node, value_node, "host")
            for name, (key_node, value_node) in reader.mapping(hosts_node, "hosts", "host", "hosts").items()
        ]
        if not host_levels:
            raise reader.error(hosts_key, "the inventory defines no hosts")
        levels = [("group", level) for level in groups.values()] + [("host", level) for level in host_levels]
        for kind, level in levels:
            for parent, line in level.parents.items():
                if parent not in groups:
                    known = ", ".join(groups) if groups else "none are defined"
                    raise InputError(
                        reader.where, f"{kind} {level.name!r}: unknown group {parent!r} (groups: {known})", line
                    )
        _find_cycle(reader, groups)
        hosts = []
        for level in host_levels:
            order = self.linearize(level, groups)
            chain = [level.settings, *(groups[name].settings for name in order), defaults]
            hosts.append(
                _build_host(
                    reader,
                    level,
                    chain,
                    tuple(order),
                    "no address: set address (or hostname) on the host, one of its groups or defaults",
                )
            )
        return Inventory(hosts=hosts, groups=_groups_index(groups, hosts), path=reader.path, format="nornir")

    def level(self, name: str, key_node: yaml.Node, node: yaml.Node, kind: str) -> _Level:
        context = f"{kind} {name!r}"
        entries = self.reader.mapping(node, context, "key", f"a {kind}'s value")
        level = _Level(name=name, line=key_node.start_mark.line + 1, settings=_Settings())
        if "groups" in entries:
            for group, item in self.reader.string_list(entries.pop("groups")[1], context, "groups", "group names"):
                if group in level.parents:
                    raise self.reader.error(item, f"{context}: group {group!r} is listed twice")
                level.parents[group] = item.start_mark.line + 1
        self.settings(entries, level.settings, context, _NORNIR_KEYS)
        return level

    def settings(
        self,
        entries: dict[str, tuple[yaml.Node, yaml.Node]],
        settings: _Settings,
        context: str,
        allowed: tuple[str, ...],
    ) -> None:
        for name, (key_node, value_node) in entries.items():
            if name in _PLAIN_SECRETS:
                raise self.reader.plain_secret(key_node, context, name, _PLAIN_SECRETS[name])
            if name not in allowed:
                raise self.reader.error(key_node, f"{context}: unknown key {name!r} (allowed: {', '.join(allowed)})")
            key = "address" if name == "hostname" else name
            self.reader.setting(settings, key, name, value_node, context)

    @staticmethod
    def linearize(host: _Level, groups: Mapping[str, _Level]) -> list[str]:
        """The host's groups in precedence order: as listed, each followed by its parents, depth-first."""
        order: list[str] = []

        def walk(names: Iterable[str]) -> None:
            for name in names:
                if name not in order:
                    order.append(name)
                    walk(groups[name].parents)

        walk(host.parents)
        return order


# --------------------------------------------------------------------------------------------------
# Ansible YAML inventory

_ANSIBLE_GROUP_KEYS = ("children", "hosts", "vars")
#: Ansible's connection variables, and the setting each one gives.
_ANSIBLE_VARS = {
    "ansible_host": "address",
    "ansible_ssh_host": "address",
    "ansible_port": "port",
    "ansible_ssh_port": "port",
    "ansible_user": "username",
    "ansible_ssh_user": "username",
    "ansible_ssh_private_key_file": "key_file",
    "ansible_private_key_file": "key_file",
}
_CMELIVE_VARS = {
    f"cmelive_{key}": key for key in _SETTINGS if key not in ("address", "port", "username", "key_file")
}
#: Variables that would hold a secret in clear (a vault-encrypted or templated value is fine).
_ANSIBLE_SECRETS = {
    "ansible_password": "cmelive_password_env",
    "ansible_ssh_pass": "cmelive_password_env",
    "ansible_ssh_password": "cmelive_password_env",
    "ansible_become_password": "cmelive_enable_secret_env",
    "ansible_become_pass": "cmelive_enable_secret_env",
    **{f"cmelive_{key}": f"cmelive_{instead}" for key, instead in _PLAIN_SECRETS.items()},
    **_PLAIN_SECRETS,
}
_HOST_RANGE = re.compile(r"\[[^\]]*:[^\]]*\]")


@dataclass
class _AnsibleGroup:
    level: _Level
    priority: int = 1
    priority_line: int = 0


class _AnsibleParser:
    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.groups: dict[str, _AnsibleGroup] = {}
        self.hosts: dict[str, _Level] = {}
        self.member_of: dict[str, list[str]] = {}  # host -> the groups that list it, in file order

    def parse(self, root: yaml.MappingNode, entries: dict[str, tuple[yaml.Node, yaml.Node]]) -> Inventory:
        reader = self.reader
        self.group("all", entries["all"][0], entries["all"][1], None)
        # Ansible reads any other top-level key as a group under 'all'.
        for name, (key_node, value_node) in entries.items():
            if name != "all":
                self.group(name, key_node, value_node, "all")
        if not self.hosts:
            raise reader.error(entries["all"][0], "the inventory defines no hosts")
        levels = {name: group.level for name, group in self.groups.items()}
        _find_cycle(reader, levels)
        depth = self.depths(levels)
        hosts = []
        for level in self.hosts.values():
            ancestors = self.ancestors(self.member_of[level.name], levels)
            # Ansible merges group vars in (depth, priority, name) order, later winning; we resolve
            # most specific first, so the same order reversed.
            order = sorted(ancestors, key=lambda name: (depth[name], self.groups[name].priority, name), reverse=True)
            # As in Ansible, a host without ansible_host is reached by its inventory name.
            chain = [level.settings, *(levels[name].settings for name in order), _Settings(address=level.name)]
            hosts.append(_build_host(reader, level, chain, tuple(name for name in order if name != "all"), ""))
        del levels["all"]
        return Inventory(hosts=hosts, groups=_groups_index(levels, hosts), path=reader.path, format="ansible")

    def group(self, name: str, key_node: yaml.Node, node: yaml.Node, parent: str | None) -> None:
        reader = self.reader
        context = f"group {name!r}"
        line = key_node.start_mark.line + 1
        group = self.groups.get(name)
        if group is None:
            group = self.groups[name] = _AnsibleGroup(_Level(name=name, line=line, settings=_Settings()))
        if parent is not None:
            group.level.parents.setdefault(parent, line)
        entries = reader.mapping(node, context, "key", "a group")
        for key, (entry_key, _) in entries.items():
            if key not in _ANSIBLE_GROUP_KEYS:
                raise reader.error(
                    entry_key, f"{context}: unknown key {key!r} (allowed: {', '.join(_ANSIBLE_GROUP_KEYS)})"
                )
        if "vars" in entries:
            variables = reader.mapping(entries["vars"][1], context, "variable", "vars")
            if "ansible_group_priority" in variables:
                priority = variables.pop("ansible_group_priority")
                group.priority, group.priority_line = self.priority(priority, context, group)
            self.merge(group.level.settings, self.variables(variables, context), context)
        if "hosts" in entries:
            host_entries = reader.mapping(entries["hosts"][1], context, "host", "hosts")
            for host_name, (host_key, host_node) in host_entries.items():
                self.host(host_name, host_key, host_node, name)
        if "children" in entries:
            child_entries = reader.mapping(entries["children"][1], context, "group", "children")
            for child, (child_key, child_node) in child_entries.items():
                if child == "all":
                    raise reader.error(child_key, f"{context}: 'all' cannot be a child group")
                self.group(child, child_key, child_node, name)

    def host(self, name: str, key_node: yaml.Node, node: yaml.Node, group: str) -> None:
        reader = self.reader
        context = f"host {name!r}"
        if _HOST_RANGE.search(name):
            raise reader.error(key_node, f"{context}: host ranges ([start:end]) are not supported: list each router")
        level = self.hosts.get(name)
        if level is None:
            level = self.hosts[name] = _Level(name=name, line=key_node.start_mark.line + 1, settings=_Settings())
            self.member_of[name] = []
        if group != "all" and group not in self.member_of[name]:
            self.member_of[name].append(group)
        variables = reader.mapping(node, context, "variable", "a host's variables")
        self.merge(level.settings, self.variables(variables, context), context)

    def variables(self, entries: dict[str, tuple[yaml.Node, yaml.Node]], context: str) -> _Settings:
        reader = self.reader
        settings = _Settings()
        for name, (key_node, value_node) in entries.items():
            if name in _ANSIBLE_SECRETS:
                if self.plain_value(value_node):
                    raise reader.plain_secret(key_node, context, name, _ANSIBLE_SECRETS[name])
                continue
            if name in _ANSIBLE_VARS:
                key = _ANSIBLE_VARS[name]
            elif name in _CMELIVE_VARS:
                key = _CMELIVE_VARS[name]
            elif name.startswith("cmelive_"):
                allowed = ", ".join(sorted(_CMELIVE_VARS))
                raise reader.error(key_node, f"{context}: unknown variable {name!r} (cmelive's: {allowed})")
            else:
                continue  # Ansible's own variables, and the playbooks', are none of our business.
            if isinstance(value_node, yaml.ScalarNode) and "{{" in str(value_node.value):
                problem = f"{name} is a Jinja2 template, which cmelive does not evaluate: give the value"
                raise reader.error(value_node, f"{context}: {problem}")
            reader.setting(settings, key, name, value_node, context)
        return settings

    @staticmethod
    def plain_value(node: yaml.Node) -> bool:
        """A secret written out: a non-empty plain scalar, neither vault-encrypted nor a template."""
        if not isinstance(node, yaml.ScalarNode) or _is_null(node) or not node.tag.startswith("tag:yaml.org"):
            return False
        return bool(str(node.value)) and "{{" not in str(node.value)

    def priority(self, pair: tuple[yaml.Node, yaml.Node], context: str, group: _AnsibleGroup) -> tuple[int, int]:
        key_node, node = pair
        line = key_node.start_mark.line + 1
        number = self.reader.value(node, context) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(number, bool) or not isinstance(number, int):
            raise self.reader.error(node, f"{context}: ansible_group_priority must be a whole number")
        if group.priority_line and number != group.priority:
            raise self.reader.error(
                key_node,
                f"{context}: ansible_group_priority is set twice with different values "
                f"(first at line {group.priority_line})",
            )
        return number, line

    def merge(self, into: _Settings, new: _Settings, context: str) -> None:
        """Add a second definition of the same host or group; a setting given twice must agree."""
        for key, line in new.lines.items():
            if key == "data":
                continue
            if key in into.lines and getattr(into, key) != getattr(new, key):
                raise InputError(
                    self.reader.where,
                    f"{context}: {new.labels[key]} is set twice with different values "
                    f"(first at line {into.lines[key]})",
                    line,
                )
            setattr(into, key, getattr(new, key))
            into.lines[key] = line
            into.labels[key] = new.labels[key]
        for name, value in new.data.items():
            if name in into.data and into.data[name] != value:
                raise InputError(
                    self.reader.where,
                    f"{context}: cmelive_data.{name} is set twice with different values "
                    f"(first at line {into.data_lines[name]})",
                    new.data_lines[name],
                )
            into.data[name] = value
            into.data_lines[name] = new.data_lines[name]

    @staticmethod
    def ancestors(names: Iterable[str], levels: Mapping[str, _Level]) -> set[str]:
        found = {"all"}
        pending = list(names)
        while pending:
            name = pending.pop()
            if name not in found:
                found.add(name)
                pending.extend(levels[name].parents)
        return found

    @staticmethod
    def depths(levels: Mapping[str, _Level]) -> dict[str, int]:
        """A group's depth: its longest path to ``all`` (as Ansible computes it)."""
        depth: dict[str, int] = {"all": 0}

        def of(name: str) -> int:
            if name not in depth:
                depth[name] = 1 + max((of(parent) for parent in levels[name].parents), default=0)
            return depth[name]

        for name in levels:
            of(name)
        return depth
