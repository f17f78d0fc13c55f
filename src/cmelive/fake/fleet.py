"""A fake fleet: many fake routers served from one process, with a matching inventory.

:class:`FakeFleet` starts one :class:`~cmelive.fake.FakeRouter` per :class:`FakeRouterSpec`, each
on its own port of 127.0.0.1, and writes what a fleet audit needs to reach them: an inventory in
the Nornir-style shape :mod:`cmelive.inventory` reads (credentials by environment-variable
reference) and a known_hosts file with every router's key.

**One host key for the whole fleet** by default: generating an RSA-2048 key costs ~80 ms, 16 s
for 200 routers, while a shared key costs nothing and changes nothing a client checks (every
router has its own ``[127.0.0.1]:port`` known_hosts entry). A spec may bring its own key.

Besides the router fault modes (:class:`~cmelive.fake.faults.Faults`), a spec can make the
*client's* view of a router faulty, which a single router cannot: ``down`` lists it in the
inventory on a port that refuses connections, and ``known_host`` leaves its known_hosts entry
out (``"missing"``: host key unknown) or writes another key there (``"changed"``).

The faults of a fleet can also come from a YAML file (:func:`load_faults_file`)::

    branch-07: {delay_ms: 200, hang_on: ["show running-config"]}
    branch-08: {flood_on: "show running-config"}
    branch-09: {drip_on: "show version"}
    branch-10: {endless_on: "show running-config"}
    branch-11: {flood_before_prompt: true}
    branch-12: {fail_enable: true}
    branch-13: {down: true}
    branch-14: {known_host: changed}
    branch-15: {ssh_profile: ios124}

``ssh_profile`` is not a fault but what the router's SSH server offers
(:mod:`cmelive.fake.ssh_profiles`: ``modern``, ``ios15``, ``ios124``), so that one fleet mixes
IOS XE, IOS 15 and IOS 12.4 routers. A profile's host key has the profile's size: the routers
of a profile whose size differs from the fleet's key share the process's key of that size.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal, get_args

import paramiko
import yaml

from cmelive.errors import InputError
from cmelive.fake.faults import FAULT_LISTS, Faults
from cmelive.fake.ios_cli import DEFAULT_ENABLE_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME
from cmelive.fake.server import HOST_KEY_BITS, FakeRouter
from cmelive.fake.ssh_profiles import PROFILE_NAMES, SshProfile, get_profile, shared_host_key
from cmelive.output_files import write_file
from cmelive.snapshot import Snapshot, read_snapshot
from cmelive.yaml_bounds import compose_within_bounds

KnownHost = Literal["match", "missing", "changed"]
LOCALHOST = "127.0.0.1"


@dataclass(frozen=True)
class FakeRouterSpec:
    """One router of a fake fleet.

    ``name`` is its inventory name; the prompt's hostname comes from the snapshot (or
    ``hostname``). ``snapshot`` is a snapshot or its directory. ``port`` 0 takes any free port.
    ``down``: nothing answers on its port (connection refused), faults aside. ``known_host``:
    what the fleet's known_hosts file says about it. ``host_key``: its own key instead of the
    fleet's shared one. ``ssh_profile``: the name of what its SSH server offers (None: paramiko's
    full lists).
    """

    name: str
    snapshot: Snapshot | Path
    faults: Faults = field(default_factory=Faults)
    groups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    username: str = DEFAULT_USERNAME
    password: str = field(default=DEFAULT_PASSWORD, repr=False)
    enable_secret: str | None = field(default=DEFAULT_ENABLE_SECRET, repr=False)
    port: int = 0
    privileged_login: bool = False
    hostname: str | None = None
    down: bool = False
    known_host: KnownHost = "match"
    host_key: paramiko.PKey | None = field(default=None, repr=False)
    ssh_profile: str | None = None

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.strip():
            raise ValueError(f"a fake router needs a name without surrounding blanks, not {self.name!r}")
        if self.known_host not in get_args(KnownHost):
            raise ValueError(f"{self.name}: known_host must be one of {', '.join(get_args(KnownHost))}")
        if self.ssh_profile is not None and self.ssh_profile not in PROFILE_NAMES:
            raise ValueError(f"{self.name}: ssh_profile must be one of {', '.join(PROFILE_NAMES)}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"{self.name}: port {self.port} is not a TCP port")
        for name in ("groups", "tags"):
            if isinstance(getattr(self, name), str):
                raise ValueError(f"{self.name}: {name} must be a list, not the string {getattr(self, name)!r}")

    def fault_options(self) -> dict[str, object]:
        """Every fault that is on, spelled as in a faults file (``{}`` when healthy)."""
        options: dict[str, object] = {"down": True} if self.down else {}
        options.update(self.faults.options())
        if self.known_host != "match":
            options["known_host"] = self.known_host
        return options

    def describe_faults(self) -> str:
        """The router's faults and the client-side ones, as one line (``"none"`` when healthy)."""
        parts = [] if self.faults.describe() == "none" else [self.faults.describe()]
        if self.down:
            parts.insert(0, "down")
        if self.known_host != "match":
            parts.append(f"known-host={self.known_host}")
        return ", ".join(parts) or "none"


class FakeRouterError(ValueError):
    """A spec the fleet cannot serve (a fault naming a command its snapshot lacks, ...); names the router."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"{name}: {problem}")


class FakeFleet:
    """Fake routers served from this process, one port each, one shared host key by default.

    Use as a context manager or with :meth:`start` / :meth:`stop`. The routers are built (and
    their snapshots read) when the fleet is created, so a bad snapshot or a fault naming a
    command a router does not serve fails here, before anything listens.
    """

    def __init__(
        self,
        specs: Sequence[FakeRouterSpec],
        *,
        host_key: paramiko.PKey | None = None,
        host: str = LOCALHOST,
    ) -> None:
        names = [spec.name for spec in specs]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"fake router names must be unique: {', '.join(duplicates)}")
        self.specs: dict[str, FakeRouterSpec] = {spec.name: spec for spec in specs}
        self.host = host
        self.host_key = host_key if host_key is not None else paramiko.RSAKey.generate(HOST_KEY_BITS)
        #: The running routers by name (``down`` specs have none).
        self.routers: dict[str, FakeRouter] = {}
        for spec in specs:
            if spec.down:
                continue
            snapshot = spec.snapshot if isinstance(spec.snapshot, Snapshot) else read_snapshot(spec.snapshot)
            profile = get_profile(spec.ssh_profile) if spec.ssh_profile is not None else None
            try:
                self.routers[spec.name] = FakeRouter(
                    snapshot,
                    hostname=spec.hostname,
                    username=spec.username,
                    password=spec.password,
                    enable_secret=spec.enable_secret,
                    privileged_login=spec.privileged_login,
                    host=host,
                    port=spec.port,
                    host_key=spec.host_key if spec.host_key is not None else self._key_of(profile),
                    faults=spec.faults,
                    ssh_profile=profile,
                )
            except ValueError as exc:
                raise FakeRouterError(spec.name, str(exc)) from None
            # The router's faults name full commands ("sh run" -> "show running-config").
            self.specs[spec.name] = dataclasses.replace(spec, faults=self.routers[spec.name].faults)
        self._refusing: dict[str, socket.socket] = {}
        self._other_key: paramiko.PKey | None = None
        self._started = False

    def _key_of(self, profile: SshProfile | None) -> paramiko.PKey:
        """The fleet's key, unless ``profile`` wants another size: then the process's key of that size."""
        if profile is None or profile.host_key_bits == self.host_key.get_bits():
            return self.host_key
        return shared_host_key(profile.host_key_bits)

    @property
    def host_keys(self) -> list[paramiko.PKey]:
        """Every distinct host key the routers serve, the fleet's first."""
        keys = [self.host_key]
        for router in self.routers.values():
            if all(router.host_key != key for key in keys):
                keys.append(router.host_key)
        return keys

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeFleet:
        """Start every router (and reserve the ports of the ``down`` ones); returns self.

        On failure (a port in use) whatever was started is stopped again and the OSError raised.
        """
        if self._started:
            raise RuntimeError("fake fleet already started")
        self._started = True
        try:
            for spec in self.specs.values():
                if spec.down:
                    self._refusing[spec.name] = _refusing_port(self.host, spec.port)
                else:
                    self.routers[spec.name].start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every router and free every port. Idempotent."""
        for router in self.routers.values():
            router.stop()
        for reserved in self._refusing.values():
            reserved.close()
        self._refusing.clear()
        self._started = False

    def __enter__(self) -> FakeFleet:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients need -----------------------------------------------------------------------

    def port(self, name: str) -> int:
        """The port router ``name`` listens on (for a ``down`` one: the port that refuses)."""
        if name in self._refusing:
            return int(self._refusing[name].getsockname()[1])
        if name not in self.specs:
            raise KeyError(f"no fake router named {name!r}")
        if name not in self.routers:
            raise RuntimeError("fake fleet not started: no ports yet")
        return self.routers[name].port

    @property
    def ports(self) -> dict[str, int]:
        """Every router's port by name, ``down`` ones included, in spec order."""
        return {name: self.port(name) for name in self.specs}

    def known_hosts_lines(self) -> list[str]:
        """The known_hosts entries clients should have: one per router, as each spec's ``known_host`` says."""
        lines = []
        for name, spec in self.specs.items():
            if spec.down or spec.known_host == "missing":
                continue
            router = self.routers[name]
            if spec.known_host == "changed":
                key = self._another_key()
                where = f"[{router.host}]:{router.port}" if router.port != 22 else router.host
                lines.append(f"{where} {key.get_name()} {key.get_base64()}")
            else:
                lines.append(router.known_hosts_line())
        return lines

    def write_known_hosts(self, path: Path) -> Path:
        write_file(path, "".join(line + "\n" for line in self.known_hosts_lines()), doing="cannot write known_hosts")
        return path

    def environment(self, *, password_env: str, enable_secret_env: str) -> dict[str, str]:
        """The environment an audit of this fleet needs: ``{password_env: ..., enable_secret_env: ...}``.

        The inventory names one variable of each for every router, so the routers must share their
        password and enable secret: a ``ValueError`` says which ones differ.
        """
        environment: dict[str, str] = {}
        for variable, attribute in ((password_env, "password"), (enable_secret_env, "enable_secret")):
            values = {spec.name: getattr(spec, attribute) for spec in self.specs.values()}
            distinct = {value for value in values.values() if value is not None}
            if len(distinct) > 1:
                raise ValueError(
                    f"the routers do not share one {attribute.replace('_', ' ')}: one {variable} cannot open them all"
                )
            if distinct:
                environment[variable] = distinct.pop()
        return environment

    def write_inventory(
        self,
        path: Path,
        *,
        password_env: str,
        enable_secret_env: str,
        known_hosts: Path,
    ) -> Path:
        """Write the fleet's inventory (Nornir style, see :mod:`cmelive.inventory`) and its known_hosts.

        Credentials are references: every host names ``password_env`` and ``enable_secret_env``.
        A faulty host carries its faults as ``data: {fake_faults: {...}}``, spelled as in a faults
        file (checks ignore ``data``; a test can read what to expect of each host from it), and a
        router with an SSH profile its name as ``data: {fake_ssh_profile: ...}``.
        ``known_hosts`` gets every router's entry (see :meth:`known_hosts_lines`).
        """
        self.write_known_hosts(known_hosts)
        groups = sorted({group for spec in self.specs.values() for group in spec.groups})
        hosts: dict[str, dict[str, object]] = {}
        for name, spec in self.specs.items():
            host: dict[str, object] = {
                "address": self.host,
                "port": self.port(name),
                "username": spec.username,
                "password_env": password_env,
                "enable_secret_env": enable_secret_env,
                "groups": list(spec.groups),
                "tags": list(spec.tags),
            }
            data: dict[str, object] = {}
            if spec.fault_options():
                data["fake_faults"] = spec.fault_options()
            if spec.ssh_profile is not None:
                data["fake_ssh_profile"] = spec.ssh_profile
            if data:
                host["data"] = data
            hosts[name] = host
        # Named in the inventory, so that a fleet run verifies every router's key with no
        # --known-hosts and no --accept-new-host-key; relative when it sits beside the inventory.
        try:
            named = str(known_hosts.absolute().relative_to(path.absolute().parent))
        except ValueError:
            named = str(known_hosts.absolute())
        document = {"defaults": {"known_hosts": named}, "groups": {group: {} for group in groups}, "hosts": hosts}
        header = (
            f"# A fake fleet of {len(self.specs)} routers served by cmelive on {self.host}.\n"
            f"# Credentials by reference: set {password_env} and {enable_secret_env}.\n"
            f"# Host keys: {known_hosts}\n"
        )
        body = yaml.safe_dump(document, sort_keys=False, default_flow_style=None, width=120)
        write_file(path, header + body, doing="cannot write the inventory")
        return path

    def _another_key(self) -> paramiko.PKey:
        # One key for every "changed" entry: what matters is that it is not the router's.
        if self._other_key is None:
            self._other_key = paramiko.RSAKey.generate(HOST_KEY_BITS)
        return self._other_key


def _refusing_port(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` that never listens: connecting to it is refused.

    Holding it keeps the port from being taken by anything else while the fleet runs.
    """
    reserved = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        reserved.bind((host, port))
    except OSError:
        reserved.close()
        raise
    return reserved


# --------------------------------------------------------------------------------------------------
# Faults file

_FLAGS = ("fail_auth", "fail_enable", "no_cme", "down", "flood_before_prompt")
_COMMAND_LISTS = tuple(FAULT_LISTS.values())
_KEYS = (*_FLAGS, "delay_ms", *_COMMAND_LISTS, "known_host", "ssh_profile")


@dataclass(frozen=True)
class RouterFaults:
    """One router's entry of a faults file; ``line`` is where it starts."""

    faults: Faults
    down: bool = False
    known_host: KnownHost = "match"
    line: int = 0
    ssh_profile: str | None = None  # None: the router keeps the fleet's profile


def load_faults_file(path: Path, names: Sequence[str], base: Faults | None = None) -> dict[str, RouterFaults]:
    """Read a YAML faults file mapping router names (among ``names``) to fault options.

    Options: ``fail_auth``, ``fail_enable``, ``no_cme``, ``down``, ``flood_before_prompt``
    (booleans), ``delay_ms`` (ms, a whole number >= 0), ``hang_on``, ``drop_on``, ``flood_on``,
    ``drip_on``, ``endless_on`` (a command or a list of them) and
    ``known_host`` (``match``, ``missing`` or ``changed``); besides the faults, ``ssh_profile``
    (``modern``, ``ios15`` or ``ios124``: what the router's SSH server offers). An entry's options replace those of
    ``base`` (the fleet-wide faults, e.g. a latency for every router); the rest of ``base`` stays.
    Raises InputError (``file:line``).
    """
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(where, "faults file does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(where, f"cannot read faults file: {exc}") from exc
    try:
        root = compose_within_bounds(text, where)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = f"invalid YAML: {exc.problem or exc.context}"
        raise InputError(where, problem, mark.line + 1 if mark is not None else None) from exc
    except yaml.YAMLError as exc:
        raise InputError(where, f"invalid YAML: {exc}") from exc
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag == "tag:yaml.org,2002:null"):
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise InputError(where, "expected a mapping of router names to fault options", _line(root))
    known = set(names)
    found: dict[str, RouterFaults] = {}
    for key_node, value_node in root.value:
        name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else ""
        if name not in known:
            shown = ", ".join(sorted(known)[:10]) + (", ..." if len(known) > 10 else "")
            raise InputError(where, f"no router named {name!r} in the fleet (routers: {shown})", _line(key_node))
        if name in found:
            raise InputError(where, f"router {name!r} is listed twice (first at line {found[name].line})", _line(key_node))
        found[name] = _router_faults(where, name, key_node, value_node, base or Faults())
    return found


def _router_faults(where: str, name: str, key_node: yaml.Node, node: yaml.Node, base: Faults) -> RouterFaults:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return RouterFaults(base, line=_line(key_node))
    if not isinstance(node, yaml.MappingNode):
        raise InputError(where, f"{name}: expected a mapping of fault options, not {_kind(node)}", _line(node))
    options: dict[str, object] = {}
    for option_node, value_node in node.value:
        option = str(option_node.value) if isinstance(option_node, yaml.ScalarNode) else ""
        if option not in _KEYS:
            raise InputError(
                where, f"{name}: unknown fault option {option!r} (allowed: {', '.join(_KEYS)})", _line(option_node)
            )
        if option in options:
            raise InputError(where, f"{name}: {option} is given twice", _line(option_node))
        options[option] = _option_value(where, name, option, value_node)
    known_host = options.pop("known_host", "match")
    down = bool(options.pop("down", False))
    ssh_profile = options.pop("ssh_profile", None)
    try:
        faults = dataclasses.replace(base, **options)  # type: ignore[arg-type]  # values checked above
    except ValueError as exc:
        raise InputError(where, f"{name}: {exc}", _line(key_node)) from None
    return RouterFaults(
        faults, down=down, known_host=known_host, line=_line(key_node), ssh_profile=ssh_profile  # type: ignore[arg-type]
    )


def _option_value(where: str, name: str, option: str, node: yaml.Node) -> object:
    context = f"{name}: {option}"
    try:
        value: object = yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise InputError(where, f"{context}: cannot read value: {exc.problem}", _line(node)) from None
    if option in _FLAGS:
        if not isinstance(value, bool):
            raise InputError(where, f"{context} must be true or false, not {_kind(node)}", _line(node))
        return value
    if option == "delay_ms":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(where, f"{context} must be a whole number of milliseconds >= 0", _line(node))
        return value
    if option == "ssh_profile":
        if value not in PROFILE_NAMES:
            raise InputError(where, f"{context} must be one of {', '.join(PROFILE_NAMES)}", _line(node))
        return value
    if option == "known_host":
        if value not in get_args(KnownHost):
            choices = ", ".join(get_args(KnownHost))
            raise InputError(where, f"{context} must be one of {choices}", _line(node))
        return value
    commands = [value] if isinstance(value, str) else value
    if not isinstance(commands, list) or not commands or not all(isinstance(c, str) and c.strip() for c in commands):
        raise InputError(where, f"{context} must be a show command or a list of them", _line(node))
    return tuple(commands)


def apply_faults(
    specs: Sequence[FakeRouterSpec], faults: Mapping[str, RouterFaults]
) -> list[FakeRouterSpec]:
    """``specs`` with the faults of a faults file (entries for other names are ignored)."""
    applied = []
    for spec in specs:
        entry = faults.get(spec.name)
        if entry is None:
            applied.append(spec)
        else:
            applied.append(
                dataclasses.replace(
                    spec,
                    faults=entry.faults,
                    down=entry.down,
                    known_host=entry.known_host,
                    ssh_profile=entry.ssh_profile if entry.ssh_profile is not None else spec.ssh_profile,
                )
            )
    return applied


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"{node.value!r}"
