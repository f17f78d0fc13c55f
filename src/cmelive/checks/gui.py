"""Securing GUI access: HTTP login method, HTTPS, access-class, RSA key size, HTTPS certificate,
GUI passwords versus the enable password, and AAA for GUI logins.

Guide: "Securing GUI Access" and "Using HTTPS for Cisco Unified CME GUI Management".

Whether a web server is on is read from the global ``ip http server`` / ``ip http secure-server``
lines (the last one wins; ``no ip http ...`` turns it off). When neither line is printed the server
is taken to be off: a running HTTP(S) server shows in the running-config as ``ip http server`` /
``ip http secure-server``. That reading of an absence is only made where the running-config is
whole: when damage could hide the ``ip http`` lines (a cut between the routing processes and
``control-plane``, say), the engine turns it into ``unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cmelive.checks.base import Evidence, Outcome, Severity, failed, not_applicable, passed, unknown
from cmelive.checks.common import device_acls, running_config, unique_evidence
from cmelive.checks.registry import check
from cmelive.commands import PKI_CERTIFICATES, RSA_KEYS, RUNNING_CONFIG
from cmelive.masking import MASK
from cmelive.parsing.rsa import rsa_key_bits
from cmelive.parsing.running_config import ConfigLine, RunningConfig
from cmelive.passwords import NotVerifiable, PasswordFormatError, StoredPassword, same_password, stored_password
from cmelive.state import DeviceState
from cmelive.topology import Acl, find_acl, free_standard_acl_number, trusted_sources

GUI_SECTION = "Securing GUI Access"
HTTPS_SECTION = "Using HTTPS for Cisco Unified CME GUI Management"
NEW_SECRET = "<new-secret>"
ADMIN_USER_LINE = f"username <admin-user> privilege 15 secret {NEW_SECRET}"
# The trustpoint name our remediation proposes when the router has no CA trustpoint to reuse.
NEW_TRUSTPOINT = "CME-HTTPS"
# The trustpoint (and key) IOS creates by itself for HTTPS: "TP-self-signed-<serial>".
SELF_SIGNED_TRUSTPOINT = re.compile(r"^TP-self-signed-\d+$")
_DN_FIELDS = ("e", "cn", "ou", "o", "l", "st", "c")
_KEY_NAME_LINE = re.compile(r"^\s*Key\s+name:\s*(\S+)\s*$")



def _last_global(config: RunningConfig, pattern: str) -> ConfigLine | None:
    found = config.globals(pattern)
    return found[-1] if found else None


def _evidence(state: DeviceState, lines: Iterable[ConfigLine | None]) -> list[Evidence]:
    """Evidence for the given config lines (None skipped, repeats dropped), in config order."""
    seen: set[int] = set()
    out: list[ConfigLine] = []
    for line in lines:
        if line is not None and line.number not in seen:
            seen.add(line.number)
            out.append(line)
    return [state.evidence(line) for line in sorted(out, key=lambda item: item.number)]


# --- the web servers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpServers:
    """The state of the HTTP and HTTPS servers as the running-config shows it."""

    http: ConfigLine | None  # ``ip http server``, when on
    https: ConfigLine | None  # ``ip http secure-server``, when on
    http_off: ConfigLine | None  # ``no ip http server``, when off
    https_off: ConfigLine | None  # ``no ip http secure-server``, when off

    @property
    def on(self) -> list[ConfigLine]:
        return [line for line in (self.http, self.https) if line is not None]


def http_servers(config: RunningConfig) -> HttpServers:
    last: dict[str, tuple[bool, ConfigLine]] = {}
    for line in config.globals(r"(no )?ip http (server|secure-server)$"):
        last[line.words[-1]] = (not line.command.startswith("no "), line)

    def pick(which: str, enabled: bool) -> ConfigLine | None:
        found = last.get(which)
        return found[1] if found is not None and found[0] is enabled else None

    return HttpServers(
        http=pick("server", True),
        https=pick("secure-server", True),
        http_off=pick("server", False),
        https_off=pick("secure-server", False),
    )


def _off(state: DeviceState, explicit_off: Sequence[ConfigLine | None], message: str) -> Outcome:
    """not_applicable for a server that is off. Off by explicit ``no ip http ...`` lines is settled:
    IOS prints each of them or its ``ip http ...`` opposite, never both. Off because nothing is
    printed is a conclusion from absence, which the engine weighs against the damage."""
    evidence = _evidence(state, explicit_off)
    return not_applicable(message, evidence, settled=all(line is not None for line in explicit_off))


def _no_web_server(state: DeviceState, servers: HttpServers) -> Outcome:
    return _off(
        state,
        [servers.http_off, servers.https_off],
        "neither the HTTP nor the HTTPS server is enabled: there is no GUI to protect",
    )


def _authentication_line(config: RunningConfig) -> ConfigLine | None:
    return _last_global(config, r"ip http authentication\b")


def _authentication_method(line: ConfigLine | None) -> str | None:
    if line is None:
        return None
    words = line.command.split()
    return words[3].lower() if len(words) > 3 else ""


def _privileged_local_user(config: RunningConfig) -> bool:
    return bool(config.globals(r"username \S+ (.* )?privilege 15\b"))


# --- CME-GUI-01 ----------------------------------------------------------------------------------


@check(
    id="CME-GUI-01",
    title="GUI logins are authenticated with AAA or local users, not the enable password",
    severity=Severity.HIGH,
    family="GUI",
    reference=GUI_SECTION,
    rationale=(
        "The default for HTTP access is `ip http authentication enable`: the GUI login is checked against the "
        "enable password. A system or customer administrator, or a phone user, whose password equals it gets "
        "level 15 over HTTP and can change the configuration, erase flash or reload the router."
    ),
    passes_when=(
        "when the HTTP or HTTPS server is on, `ip http authentication aaa` or `ip http authentication local` is "
        "configured (`tacacs`, the guide's third option, also passes); no `ip http authentication` line means "
        "the default `enable`, which fails. Not applicable when neither server is on."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:41: ip http server",),
    remediation_example=("ip http authentication local", ADMIN_USER_LINE),
)
def http_authentication(state: DeviceState) -> Outcome:
    config = running_config(state)
    servers = http_servers(config)
    if not servers.on:
        return _no_web_server(state, servers)
    auth = _authentication_line(config)
    method = _authentication_method(auth)
    if method in ("aaa", "local", "tacacs"):
        return passed(f"GUI logins are authenticated with '{method}'", _evidence(state, [auth]))
    remediation = _gui01_remediation(config)
    if auth is None:
        return failed(
            "the web server is on and 'ip http authentication' is not set: IOS uses the default, 'enable', "
            "so the GUI login is checked against the enable password",
            _evidence(state, servers.on),
            remediation,
            from_absence=True,
        )
    return failed(
        f"'{auth.command}': GUI logins are checked against the enable password",
        _evidence(state, [auth]),
        remediation,
    )


def _gui01_remediation(config: RunningConfig) -> list[str]:
    # With AAA already running and a default login list, "aaa" reuses it; otherwise "local" needs a
    # privileged local user to exist, or nobody can log in to the IOS pages any more.
    if config.first_global(r"aaa new-model$") and config.first_global(r"aaa authentication login default "):
        return ["ip http authentication aaa"]
    lines = ["ip http authentication local"]
    if not _privileged_local_user(config):
        lines.append(ADMIN_USER_LINE)
    return lines


# --- CME-GUI-02 ----------------------------------------------------------------------------------


@check(
    id="CME-GUI-02",
    title="HTTPS is enabled alongside HTTP",
    severity=Severity.MEDIUM,
    family="GUI",
    reference=HTTPS_SECTION,
    rationale=(
        "Over plain HTTP the administrator's GUI password crosses the network in clear text; "
        "`ip http secure-server` prevents that. IP phones are not HTTPS clients, so HTTP stays on for them "
        "(local directory, system speed dials) and administrators use HTTPS."
    ),
    passes_when=(
        "when `ip http server` is on, `ip http secure-server` is on too. Not applicable when the HTTP server is off."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:41: ip http server",),
    remediation_example=("ip http secure-server",),
)
def https_enabled(state: DeviceState) -> Outcome:
    config = running_config(state)
    servers = http_servers(config)
    if servers.http is None:
        if servers.https is not None:
            return not_applicable("only the HTTPS server is on: nothing is served in clear text",
                                  _evidence(state, [servers.https, servers.http_off]))
        return _no_web_server(state, servers)
    if servers.https is not None:
        return passed(
            "HTTP (for the phones) and HTTPS (for administrators) are both on",
            _evidence(state, [servers.http, servers.https]),
        )
    return failed(
        "the HTTP server is on but HTTPS is not: administrators log in to the GUI in clear text",
        _evidence(state, [servers.http, servers.https_off]),
        ["ip http secure-server"],
        from_absence=servers.https_off is None,
    )


# --- CME-GUI-03 ----------------------------------------------------------------------------------


@check(
    id="CME-GUI-03",
    title="GUI access is restricted with ip http access-class",
    severity=Severity.MEDIUM,
    family="GUI",
    reference=HTTPS_SECTION,
    rationale=(
        "The guide's first HTTP best practice: use `ip http access-class` so that only specified IP addresses "
        "reach the CME GUI. An access-class naming an undefined list, or a list that permits any source, "
        "restricts nothing."
    ),
    passes_when=(
        "when the HTTP or HTTPS server is on, `ip http access-class N` (or `ip http access-class ipv4 NAME`) is "
        "configured, the access list is defined, and it does not permit any source."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:41: ip http server",),
    remediation_example=("access-list 10 permit <admin-subnet> <wildcard>", "ip http access-class 10"),
)
def http_access_class(state: DeviceState) -> Outcome:
    config = running_config(state)
    servers = http_servers(config)
    if not servers.on:
        return _no_web_server(state, servers)
    ipv4_lines = [line for line in config.globals(r"ip http access-class \S") if line.words[3] != "ipv6"]
    sources = trusted_sources(state.policy)
    if not ipv4_lines:
        number = free_standard_acl_number(config, found=device_acls(state))
        return failed(
            "the web server is on and no 'ip http access-class' restricts who reaches the GUI",
            _evidence(state, servers.on),
            [*(f"access-list {number} permit {source}" for source in sources), f"ip http access-class {number}"],
            from_absence=True,
        )
    line = ipv4_lines[-1]
    words = line.command.split()
    name = words[4] if words[3] == "ipv4" and len(words) > 4 else words[3]
    acl = find_acl(config, name, found=device_acls(state))
    if acl is None:
        return failed(
            f"'ip http access-class' names access list {name}, which is not defined: it filters nothing",
            _evidence(state, [line]),
            _define_acl(name, sources),
            from_absence=True,
        )
    open_entry = acl.permits_any_source()
    if open_entry is not None:
        return failed(
            f"access list {name} used by 'ip http access-class' permits any source ('{open_entry.text}')",
            _evidence(state, [line, open_entry.line]),
            _tighten_acl(acl, open_entry.text, sources),
        )
    return passed(
        f"GUI access is restricted by access list {name}",
        _evidence(state, [line, acl.lines[0]]),
    )


def _define_acl(name: str, sources: list[str]) -> list[str]:
    if name.isdigit():
        return [f"access-list {name} permit {source}" for source in sources]
    return [f"ip access-list standard {name}", *(f" permit {source}" for source in sources)]


def _tighten_acl(acl: Acl, open_entry: str, sources: list[str]) -> list[str]:
    kind = acl.kind if acl.kind in ("standard", "extended") else "standard"
    restrictive = [e for e in acl.rules if e.action == "permit" and not e.matches_any_source]
    if restrictive:  # the list already names the admins' sources: dropping the open entry is enough
        return [f"ip access-list {kind} {acl.name}", f" no {open_entry}"]
    if kind == "standard":
        permits = [f" permit {source}" for source in sources]
    else:
        permits = [f" permit ip {source} any" for source in sources]
    return [f"ip access-list {kind} {acl.name}", f" no {open_entry}", *permits]


# --- CME-GUI-04 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyUse:
    """An RSA key pair a service needs: which service, the key's name, the config line that says so."""

    service: str  # "HTTPS" / "SSH"
    key_name: str
    because: ConfigLine | None  # the config line that names the key or turns the service on
    trustpoint: str | None  # the trustpoint whose certificate signs with the key (HTTPS)
    label: str | None  # the label to regenerate the key with; None for the default key


def default_key_names(config: RunningConfig) -> list[str]:
    """The names IOS gives the default key pair: ``hostname.domain`` (older releases), else ``hostname``."""
    hostname = config.hostname or "Router"
    domain_line = _last_global(config, r"ip domain[ -]name \S")
    names = [f"{hostname}.{domain_line.words[-1]}"] if domain_line is not None else []
    return [*names, hostname]


def _trustpoint_section(config: RunningConfig, name: str) -> ConfigLine | None:
    for section in config.sections(r"crypto (pki|ca) trustpoint \S"):
        if section.words[3] == name:
            return section
    return None


def _https_key(config: RunningConfig, servers: HttpServers, key_names: set[str]) -> KeyUse | None:
    if servers.https is None:
        return None
    chosen = _last_global(config, r"ip http secure-trustpoint \S")
    trustpoint = chosen.words[3] if chosen is not None else None
    if trustpoint is None:
        # Without secure-trustpoint, HTTPS signs with the self-signed trustpoint IOS made for it.
        for automatic in config.sections(r"crypto (pki|ca) trustpoint TP-self-signed-\d+$"):
            trustpoint, chosen = automatic.words[3], automatic
        if trustpoint is None:
            generated = sorted(name for name in key_names if SELF_SIGNED_TRUSTPOINT.match(name))
            if generated:
                return KeyUse("HTTPS", generated[0], servers.https, None, generated[0])
            # No key yet: IOS generates one at the first HTTPS connection (768 bits on the releases
            # the guide covers) and loses it at reload. Ask for the default key, which is missing.
            return KeyUse("HTTPS", default_key_names(config)[0], servers.https, None, None)
    section = _trustpoint_section(config, trustpoint)
    keypair = section.first(r"rsakeypair \S") if section is not None else None
    if keypair is not None:
        return KeyUse("HTTPS", keypair.words[1], keypair, trustpoint, keypair.words[1])
    # A trustpoint without rsakeypair signs with the default (FQDN) key pair (Cisco's rsakeypair
    # reference). A key labelled like the trustpoint is the fallback some releases use.
    for name in default_key_names(config):
        if name in key_names:
            return KeyUse("HTTPS", name, chosen, trustpoint, None)
    if trustpoint in key_names:
        return KeyUse("HTTPS", trustpoint, chosen, trustpoint, trustpoint)
    return KeyUse("HTTPS", default_key_names(config)[0], chosen, trustpoint, None)


def _ssh_key(config: RunningConfig, key_names: set[str]) -> KeyUse | None:
    keypair = _last_global(config, r"ip ssh rsa keypair-name \S")
    if keypair is not None:
        return KeyUse("SSH", keypair.words[4], keypair, None, keypair.words[4])
    vtys = config.sections(r"line vty \d")
    transports = [vty.first(r"transport input ") for vty in vtys]

    def allows_ssh(line: ConfigLine) -> bool:
        return bool({"ssh", "all"} & set(line.words[2:]))

    if vtys and all(line is not None and not allows_ssh(line) for line in transports):
        return None  # no vty accepts SSH, whatever key exists
    names = default_key_names(config)
    for name in names:
        if name in key_names:
            # IOS runs the SSH server whenever the default key pair exists.
            return KeyUse("SSH", name, None, None, None)
    configured = config.first_global(r"ip ssh ") or next(
        (line for line in transports if line is not None and allows_ssh(line)), None
    )
    if configured is not None:
        return KeyUse("SSH", names[0], configured, None, None)
    return None


def _record_bits(record: dict[str, Any]) -> int | None:
    printed = str(record.get("modulus_bits") or "")
    if printed.isdigit():
        return int(printed)
    data = record.get("key_data") or []
    return rsa_key_bits(data if isinstance(data, list) else [str(data)])


def _key_name_lines(state: DeviceState) -> list[tuple[int, str, str]]:
    """(line number, text, key name) of every ``Key name:`` line of the RSA key output."""
    out = []
    for number, text in enumerate(state.output(RSA_KEYS).text.split("\n"), start=1):
        match = _KEY_NAME_LINE.match(text)
        if match:
            out.append((number, text, match.group(1)))
    return out


@check(
    id="CME-GUI-04",
    title="The RSA key used by HTTPS and SSH is long enough",
    severity=Severity.MEDIUM,
    family="GUI",
    reference=HTTPS_SECTION,
    rationale=(
        "The guide asks for an RSA key pair of 1024 bits or more: otherwise HTTPS generates a 768-bit key by "
        "itself at the first connection, and that key is not even saved. Short keys can be factored; today's "
        "floor (the policy default) is 2048 bits."
    ),
    passes_when=(
        "every key pair in use is at least policy `min_rsa_bits` (default 2048) long: the HTTPS key "
        "(the `rsakeypair` of the `ip http secure-trustpoint` trustpoint, else the default key) and the SSH key "
        "(`ip ssh rsa keypair-name`, else the default `hostname.domain` key). Not applicable when neither HTTPS "
        "nor SSH is in use."
    ),
    requires=(RUNNING_CONFIG, RSA_KEYS),
    example_evidence=("show crypto key mypubkey rsa:2: Key name: cme-a.example.com",),
    remediation_example=("crypto key generate rsa general-keys modulus 2048",),
)
def rsa_key_length(state: DeviceState) -> Outcome:
    config = running_config(state)
    records = state.records(RSA_KEYS)
    if records is None:
        problem = state.parse_errors.get(RSA_KEYS, "no records")
        return unknown(f"'{RSA_KEYS}' could not be parsed ({problem})")
    bits_by_name: dict[str, list[int | None]] = {}
    for record in records:
        bits_by_name.setdefault(str(record.get("key_name", "")), []).append(_record_bits(record))
    names = set(bits_by_name)
    servers = http_servers(config)
    uses = [use for use in (_https_key(config, servers, names), _ssh_key(config, names)) if use is not None]
    if not uses:
        return not_applicable("neither HTTPS nor SSH is in use: no RSA key serves the GUI or remote access",
                              _evidence(state, [servers.https_off]))
    lines = _key_name_lines(state)
    minimum = state.policy.min_rsa_bits
    config_lines: list[ConfigLine | None] = []
    key_evidence: list[Evidence] = []
    short: list[str] = []
    missing: list[str] = []
    unreadable: list[str] = []
    good: list[str] = []
    remediation: list[str] = []
    for use in uses:
        sizes = bits_by_name.get(use.key_name)
        line = next(((number, text) for number, text, name in lines if name == use.key_name), None)
        if line is not None:
            key_evidence.append(state.evidence_text(RSA_KEYS, line[0], line[1]))
        if sizes is None:
            missing.append(f"{use.service} needs key '{use.key_name}', which does not exist")
            config_lines.append(use.because)
            remediation.extend(_regenerate(use, minimum))
            continue
        if any(size is None for size in sizes):
            unreadable.append(f"the size of {use.service} key '{use.key_name}' cannot be read from its key data")
            continue
        bits = min(size for size in sizes if size is not None)
        if bits < minimum:
            short.append(f"{use.service} key '{use.key_name}' is {bits} bits (policy: at least {minimum})")
            remediation.extend(_regenerate(use, minimum))
        else:
            good.append(f"{use.service} key '{use.key_name}' is {bits} bits")
    evidence = _evidence(state, config_lines) + sorted(unique_evidence(key_evidence), key=lambda item: item.line or 0)
    remediation = list(dict.fromkeys(remediation))
    if short:
        return failed("; ".join(short + missing + good), evidence, remediation)
    if unreadable:
        return unknown("; ".join(unreadable + missing + good), evidence)
    if missing:
        return failed("; ".join(missing + good), evidence, remediation, from_absence=True)
    return passed("; ".join(good), evidence)



def _regenerate(use: KeyUse, bits: int) -> list[str]:
    label = f" label {use.label}" if use.label else ""
    lines = [f"crypto key generate rsa general-keys{label} modulus {bits}"]
    if use.trustpoint is not None:
        # The certificate was issued for the old key: enrol again for the new one.
        lines.append(f"crypto pki enroll {use.trustpoint}")
    return lines


# --- CME-GUI-05 ----------------------------------------------------------------------------------


def _dn(record: dict[str, Any], side: str) -> tuple[str, ...]:
    return tuple(" ".join(str(record.get(f"{side}_{field}") or "").split()).lower() for field in _DN_FIELDS)


def _trustpoints_of(record: dict[str, Any]) -> list[str]:
    return str(record.get("associated_trustpoints") or "").split()


def _certificate_line(state: DeviceState, trustpoint: str) -> Evidence | None:
    """The ``Associated Trustpoints:`` line of ``trustpoint``'s router (non-CA) certificate."""
    is_ca = False
    for number, text in enumerate(state.output(PKI_CERTIFICATES).text.split("\n"), start=1):
        stripped = text.strip()
        if stripped.endswith("Certificate") and ":" not in stripped:
            is_ca = stripped.startswith("CA ")
        elif stripped.startswith("Associated Trustpoints:") and not is_ca and trustpoint in stripped.split()[2:]:
            return state.evidence_text(PKI_CERTIFICATES, number, text)
    return None


def _https_trustpoint_remediation(config: RunningConfig, minimum_bits: int) -> list[str]:
    """Point HTTPS at a CA-enrolled trustpoint: an existing one when there is one, else a new one."""
    for section in config.sections(r"crypto (pki|ca) trustpoint \S"):
        name = section.words[3]
        if not SELF_SIGNED_TRUSTPOINT.match(name) and section.has(r"enrollment (url|terminal)\b"):
            return [f"ip http secure-trustpoint {name}"]
    hostname = config.hostname or "Router"
    domain_line = _last_global(config, r"ip domain[ -]name \S")
    fqdn = f"{hostname}.{domain_line.words[-1]}" if domain_line is not None else hostname
    return [
        f"crypto pki trustpoint {NEW_TRUSTPOINT}",
        " enrollment url <ca-url>",
        f" subject-name CN={fqdn}",
        f" rsakeypair {NEW_TRUSTPOINT} {minimum_bits}",
        f"crypto pki authenticate {NEW_TRUSTPOINT}",
        f"crypto pki enroll {NEW_TRUSTPOINT}",
        f"ip http secure-trustpoint {NEW_TRUSTPOINT}",
    ]


@check(
    id="CME-GUI-05",
    title="HTTPS presents a CA-issued certificate",
    severity=Severity.LOW,
    family="GUI",
    reference=HTTPS_SECTION,
    rationale=(
        "The guide says to obtain an X.509 certificate from a certification authority; without one the router "
        "signs its own, which browsers cannot verify, so administrators learn to click through warnings and "
        "a man in the middle goes unnoticed."
    ),
    passes_when=(
        "when HTTPS is on, `ip http secure-trustpoint T` names a configured trustpoint that is not IOS's "
        "`TP-self-signed-N` and not `enrollment selfsigned`, whose router certificate in "
        "`show crypto pki certificates` has an issuer different from its subject (or, when that output cannot "
        "be parsed, whose trustpoint enrols from a CA with `enrollment url`/`enrollment terminal`). "
        "Not applicable when HTTPS is off."
    ),
    requires=(RUNNING_CONFIG,),
    # The configuration settles most cases (HTTPS off, no secure SCCP); the check says unknown
    # itself when it needs the certificates and cannot read them.
    uses=(PKI_CERTIFICATES,),
    example_evidence=("show running-config:52: ip http secure-trustpoint TP-self-signed-4146203551",),
    remediation_example=(
        "crypto pki trustpoint CME-HTTPS",
        " enrollment url <ca-url>",
        " subject-name CN=cme-a.example.com",
        " rsakeypair CME-HTTPS 2048",
        "crypto pki authenticate CME-HTTPS",
        "crypto pki enroll CME-HTTPS",
        "ip http secure-trustpoint CME-HTTPS",
    ),
)
def https_certificate(state: DeviceState) -> Outcome:
    config = running_config(state)
    servers = http_servers(config)
    if servers.https is None:
        return _off(state, [servers.https_off], "the HTTPS server is off: no certificate is presented")
    minimum = state.policy.min_rsa_bits
    chosen = _last_global(config, r"ip http secure-trustpoint \S")
    if chosen is None:
        return failed(
            "HTTPS is on without 'ip http secure-trustpoint': it presents the self-signed certificate IOS "
            "generates for itself",
            _evidence(state, [servers.https]),
            _https_trustpoint_remediation(config, minimum),
            from_absence=True,
        )
    trustpoint = chosen.words[3]
    if SELF_SIGNED_TRUSTPOINT.match(trustpoint):
        return failed(
            f"HTTPS uses '{trustpoint}', the self-signed trustpoint IOS generates for itself",
            _evidence(state, [chosen]),
            _https_trustpoint_remediation(config, minimum),
        )
    section = _trustpoint_section(config, trustpoint)
    if section is None:
        return failed(
            f"'ip http secure-trustpoint {trustpoint}' names a trustpoint that is not configured",
            _evidence(state, [chosen]),
            _https_trustpoint_remediation(config, minimum),
            from_absence=True,
        )
    selfsigned = section.first(r"enrollment selfsigned\b")
    enrolls_from_ca = section.first(r"enrollment (url|terminal)\b")
    if selfsigned is not None:
        return failed(
            f"trustpoint {trustpoint} used by HTTPS is 'enrollment selfsigned': its certificate is self-signed",
            _evidence(state, [chosen, selfsigned]),
            [f"crypto pki trustpoint {trustpoint}", " no enrollment selfsigned", " enrollment url <ca-url>",
             f"crypto pki authenticate {trustpoint}", f"crypto pki enroll {trustpoint}"],
        )
    if not state.output(PKI_CERTIFICATES).usable:
        # Who issued the certificate (or whether one was ever enrolled) is only in that output.
        return unknown(state.unavailable_reason(PKI_CERTIFICATES), _evidence(state, [chosen]))
    records = state.records(PKI_CERTIFICATES)
    if records is None:
        problem = state.parse_errors.get(PKI_CERTIFICATES, "no records")
        if enrolls_from_ca is not None:
            return passed(
                f"trustpoint {trustpoint} used by HTTPS enrols from a CA ('{enrolls_from_ca.command}'); its "
                f"certificate could not be read ('{PKI_CERTIFICATES}' did not parse: {problem})",
                _evidence(state, [chosen, enrolls_from_ca]),
            )
        return unknown(
            f"'{PKI_CERTIFICATES}' could not be parsed ({problem}) and trustpoint {trustpoint} shows no enrollment "
            "method: cannot tell who issued its certificate",
            _evidence(state, [chosen]),
        )
    mine = [r for r in records if trustpoint in _trustpoints_of(r)]
    router = [r for r in mine if not str(r.get("certificate_type") or "").strip().startswith("CA")]
    cert_line = _certificate_line(state, trustpoint)
    config_evidence = _evidence(state, [chosen])
    cert_evidence = [cert_line] if cert_line is not None else []
    if not router:
        lines = [f"crypto pki enroll {trustpoint}"]
        if not mine:  # not even the CA certificate: authenticate the CA first
            lines.insert(0, f"crypto pki authenticate {trustpoint}")
        return failed(
            f"trustpoint {trustpoint} used by HTTPS holds no router certificate: it was never enrolled",
            config_evidence,
            lines,
            from_absence=True,
        )
    record = router[0]
    issuer, subject = _dn(record, "issuer"), _dn(record, "subject")
    if not any(issuer):
        return unknown(f"the certificate of trustpoint {trustpoint} shows no issuer", config_evidence + cert_evidence)
    issuer_cn = str(record.get("issuer_cn") or "").strip()
    if issuer == subject:
        return failed(
            f"the certificate of trustpoint {trustpoint} used by HTTPS is self-signed (issuer = subject)",
            config_evidence + cert_evidence,
            [f"crypto pki trustpoint {trustpoint}", " enrollment url <ca-url>",
             f"crypto pki authenticate {trustpoint}", f"crypto pki enroll {trustpoint}"],
        )
    by = f" by '{issuer_cn}'" if issuer_cn else ""
    return passed(f"HTTPS uses trustpoint {trustpoint}, whose certificate was issued{by}",
                  config_evidence + cert_evidence)


# --- CME-GUI-06 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCredential:
    """A password-bearing config line: who it is for, and the stored value (None when masked)."""

    line: ConfigLine
    who: str
    stored: StoredPassword | None
    problem: str | None = None  # why the value is unusable (masked, malformed)


def _value(type_token: str | None, value: str) -> tuple[StoredPassword | None, str | None]:
    if MASK in value:
        return None, "masked"
    try:
        return stored_password(type_token, value), None
    except PasswordFormatError as exc:
        return None, str(exc)


def web_admin_credentials(config: RunningConfig) -> list[StoredCredential]:
    """Every ``web admin system|customer ... password|secret`` line under telephony-service."""
    found: list[StoredCredential] = []
    for section in config.sections(r"telephony-service$"):
        for line in section.find(r"web admin (system|customer)\b"):
            words = line.command.split()
            role = words[2]
            user = "Admin" if role == "system" else "Customer"  # CME's default names
            index = 3
            type_token: str | None = None
            value: str | None = None
            while index < len(words):
                word = words[index].lower()
                if word == "name" and index + 1 < len(words):
                    user = words[index + 1]
                    index += 2
                elif word == "password" and index + 1 < len(words):
                    rest = words[index + 1 :]
                    # GUI passwords have no blanks: two words after "password" are "<type> <value>".
                    if len(rest) >= 2 and rest[0] in ("0", "7"):
                        type_token, value = rest[0], rest[1]
                    else:
                        value = rest[0]
                    break
                elif word == "secret" and index + 2 < len(words):
                    type_token, value = words[index + 1], words[index + 2]
                    break
                else:
                    index += 1
            if value is None:
                continue
            stored, problem = _value(type_token, value)
            who = f"{'system' if role == 'system' else 'customer'} administrator '{user}'"
            found.append(StoredCredential(line, who, stored, problem))
    return found


def enable_credentials(config: RunningConfig) -> list[StoredCredential]:
    """Every ``enable secret|password [level N] [type] value`` line."""
    found: list[StoredCredential] = []
    for line in config.globals(r"enable (secret|password) "):
        words = line.command.split()
        kind = words[1]
        rest = words[2:]
        level = "15"
        if rest[:1] == ["level"] and len(rest) > 2:
            level, rest = rest[1], rest[2:]
        if not rest:
            continue
        type_token = rest[0] if len(rest) >= 2 and rest[0].isdigit() else None
        value = rest[1] if type_token is not None else rest[0]
        stored, problem = _value(type_token, value)
        who = f"enable {kind}" + (f" level {level}" if level != "15" else "")
        found.append(StoredCredential(line, who, stored, problem))
    return found


def _describe(stored: StoredPassword) -> str:
    return {
        0: "in clear text",
        7: "type 7, decoded",
        4: "type 4, verified by hashing",
        5: "type 5, verified by hashing",
        8: "type 8, verified by hashing",
        9: "type 9, verified by hashing",
    }.get(stored.type, f"type {stored.type}")


@check(
    id="CME-GUI-06",
    title="No CME GUI password is the enable password or enable secret",
    severity=Severity.CRITICAL,
    family="GUI",
    reference=f"{GUI_SECTION} / {HTTPS_SECTION}",
    rationale=(
        "With the default `ip http authentication enable`, anyone who knows the enable password gets level 15 "
        "over HTTP. The guide says not to use the router's enable password as a CME login password: a GUI "
        "administrator (or whoever reads the plain-text GUI password) would hold the router."
    ),
    passes_when=(
        "no `web admin system` / `web admin customer` password or secret under telephony-service equals an "
        "`enable password` (type 0, or type 7 decoded) or matches an `enable secret` (type 4/5/8/9, verified by "
        "hashing the GUI password with the stored salt). Not applicable when no GUI account has a password; "
        "unknown when the snapshot's secrets are masked."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=(
        "show running-config:9: enable secret 9 <masked>",
        "show running-config:87: web admin system name admin password <masked>",
    ),
    remediation_example=("telephony-service", " web admin system name admin secret 5 <new-gui-password>"),
)
def gui_password_not_enable(state: DeviceState) -> Outcome:
    config = running_config(state)
    gui = web_admin_credentials(config)
    if not gui:
        services = config.sections(r"telephony-service$")
        if not services:
            return not_applicable("no telephony-service: this router has no CME GUI accounts")
        # GUI accounts are printed in telephony-service: only damage there can hide one.
        return not_applicable(
            "no CME GUI account (web admin system/customer) has a password", within=[s.number for s in services]
        )
    enables = enable_credentials(config)
    if not enables:
        return passed(
            "no enable password or secret is configured for a GUI password to collide with",
            _evidence(state, [credential.line for credential in gui]),
        )
    collisions: list[tuple[StoredCredential, StoredCredential]] = []
    masked: dict[int, StoredCredential] = {}  # by line number: a config may repeat one line thousands of times
    undecidable: list[str] = []
    # Each distinct pair of stored values is hashed once: type 8/9 verification costs milliseconds,
    # and a config repeating its sections (a router flooding its output) would repeat the pairs.
    verdicts: dict[tuple[StoredPassword, StoredPassword], bool | Exception] = {}
    for web in gui:
        for enable in enables:
            if web.stored is None or enable.stored is None:
                for credential in (web, enable):
                    if credential.stored is None:
                        masked.setdefault(credential.line.number, credential)
                continue
            pair = (web.stored, enable.stored)
            if pair not in verdicts:
                try:
                    verdicts[pair] = same_password(*pair)
                except (NotVerifiable, PasswordFormatError) as exc:
                    verdicts[pair] = exc
            verdict = verdicts[pair]
            if isinstance(verdict, Exception):
                undecidable.append(f"{web.who} (line {web.line.number}) versus {enable.who} "
                                   f"(line {enable.line.number}): {verdict}")
            elif verdict:
                collisions.append((web, enable))
    if collisions:
        described = "; ".join(
            f"the GUI password of {web.who} (line {web.line.number}) is the {enable.who} "
            f"(line {enable.line.number}, {_describe(enable.stored)})"
            for web, enable in collisions
            if enable.stored is not None
        )
        remediation = ["telephony-service"]
        for web in {web.line.number: web for web, _ in collisions}.values():
            remediation.append(" " + _new_gui_password_line(web))
        return failed(
            described,
            _evidence(state, [line for pair in collisions for line in (pair[0].line, pair[1].line)]),
            remediation,
        )
    all_lines = [credential.line for credential in (*gui, *enables)]
    if masked:
        if all(credential.problem == "masked" for credential in masked.values()):
            return unknown(
                "secrets are masked in this snapshot; collect with --no-mask to verify",
                _evidence(state, all_lines),
            )
        problems = "; ".join(f"{c.who} (line {c.line.number}): {c.problem}" for c in masked.values())
        return unknown(f"a stored password cannot be read: {problems}", _evidence(state, all_lines))
    if undecidable:
        return unknown("cannot be verified offline: " + "; ".join(undecidable), _evidence(state, all_lines))
    return passed(
        f"none of the {len(gui)} CME GUI password(s) equals or matches the {len(enables)} enable password/secret line(s)",
        _evidence(state, all_lines),
    )


def _new_gui_password_line(web: StoredCredential) -> str:
    words = web.line.command.split()
    role = words[2]
    name_index = words.index("name") if "name" in words[:5] else -1
    # The CME command reference (web admin system): "secret 0" saves the string "as unencrypted plain text in
    # running configuration", "secret 5" takes the clear text and saves its MD5 hash (its example types
    # "secret 5 pw234567"). The name is optional for the system account (default Admin), required for the
    # customer one (cmelive.ios_commands records both forms).
    if name_index >= 0:
        return f"web admin {role} name {words[name_index + 1]} secret 5 <new-gui-password>"
    if role == "system":
        return "web admin system secret 5 <new-gui-password>"
    return f"web admin {role} name <gui-admin-name> secret 5 <new-gui-password>"


# --- CME-GUI-07 ----------------------------------------------------------------------------------


def _login_lists(config: RunningConfig) -> dict[str, ConfigLine]:
    return {line.words[3]: line for line in config.globals(r"aaa authentication login \S+ ")}


def _server_methods(line: ConfigLine) -> list[str]:
    """The AAA server methods of an ``aaa authentication login LIST m1 m2 ...`` line."""
    words = line.command.split()[4:]
    methods = []
    for index, word in enumerate(words):
        if word == "group" and index + 1 < len(words):
            methods.append(f"group {words[index + 1]}")
        elif word in ("tacacs+", "radius") and (index == 0 or words[index - 1] != "group"):
            methods.append(word)
    return methods


def _gui07_remediation(config: RunningConfig) -> list[str]:
    lists = _login_lists(config)
    lines: list[str] = []
    if config.first_global(r"aaa new-model$") is None:
        lines.append("aaa new-model")
    with_server = [name for name, line in lists.items() if _server_methods(line)]
    if with_server:
        name = "default" if "default" in with_server else with_server[0]
    else:
        group = _server_group(config)
        if group is None:
            group = "tacacs+"
            # As the CME SRND's "System Administrator Account Authentication via AAA" writes it, the key on
            # its own line (no per-host key in the Cisco texts cmelive.ios_commands was confirmed against).
            lines += ["tacacs-server host <tacacs-server-ip>", "tacacs-server key <shared-key>"]
        name = "default" if "default" not in lists else "CME-GUI"
        lines.append(f"aaa authentication login {name} group {group} local")
    lines.append("ip http authentication aaa" if name == "default"
                 else f"ip http authentication aaa login-authentication {name}")
    return lines


def _server_group(config: RunningConfig) -> str | None:
    """The AAA server group to authenticate against: a named group, else tacacs+ or radius servers."""
    named = config.sections(r"aaa group server (tacacs\+|radius) \S")
    if named:
        return named[0].words[4]
    if config.globals(r"(tacacs server \S|tacacs-server host )"):
        return "tacacs+"
    if config.globals(r"(radius server \S|radius-server host )"):
        return "radius"
    return None


@check(
    id="CME-GUI-07",
    title="Administrator GUI logins go through a central AAA server",
    severity=Severity.INFO,
    family="GUI",
    reference=f"{GUI_SECTION} > System Administrator Account Authentication via AAA / {HTTPS_SECTION}",
    rationale=(
        "The guide recommends `ip http authentication` with a central TACACS+ or RADIUS server: accounts are "
        "managed (and revoked) in one place and logins are logged, instead of living in each router."
    ),
    passes_when=(
        "when the HTTP or HTTPS server is on, `ip http authentication aaa` is set and the login list it uses "
        "(`login-authentication LIST`, else `default`) is an `aaa authentication login` list with a server "
        "group (`group tacacs+`, `group radius` or a named group)."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:44: ip http authentication local",),
    remediation_example=(
        "aaa new-model",
        "tacacs-server host <tacacs-server-ip>",
        "tacacs-server key <shared-key>",
        "aaa authentication login default group tacacs+ local",
        "ip http authentication aaa",
    ),
)
def gui_login_via_aaa(state: DeviceState) -> Outcome:
    config = running_config(state)
    servers = http_servers(config)
    if not servers.on:
        return _no_web_server(state, servers)
    auth = _authentication_line(config)
    method = _authentication_method(auth)
    if auth is None:
        return failed(
            "no 'ip http authentication': GUI logins use the enable password, not an AAA server",
            _evidence(state, servers.on),
            _gui07_remediation(config),
            from_absence=True,
        )
    if method != "aaa":
        return failed(
            f"'{auth.command}': GUI logins do not go through AAA",
            _evidence(state, [auth]),
            _gui07_remediation(config),
        )
    words = auth.command.split()
    list_name = "default"
    if "login-authentication" in words and words.index("login-authentication") + 1 < len(words):
        list_name = words[words.index("login-authentication") + 1]
    login_list = _login_lists(config).get(list_name)
    if login_list is None:
        return failed(
            f"'ip http authentication aaa' uses login list '{list_name}', which is not defined: "
            "logins fall back to the local user database",
            _evidence(state, [auth]),
            _gui07_remediation(config),
            from_absence=True,
        )
    methods = _server_methods(login_list)
    if not methods:
        return failed(
            f"login list '{list_name}' used by the GUI has no AAA server group ('{login_list.command}')",
            _evidence(state, [auth, login_list]),
            _gui07_remediation(config),
        )
    return passed(
        f"GUI logins use AAA login list '{list_name}' ({', '.join(methods)})",
        _evidence(state, [auth, login_list]),
    )
