"""Secure SCCP signalling via TLS: trustworthy time, enrolled trustpoints, secure telephony-service,
the CTL file, CAPF authentication, phones registered over TLS, certificates that have not expired.

Guide: "Secure SCCP Signaling via TLS". Trustpoint and certificate helpers live in ``cmelive.pki``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cmelive.checks.base import Evidence, Outcome, Severity, failed, not_applicable, passed, unknown
from cmelive.checks.common import running_config, unique_evidence
from cmelive.checks.registry import check
from cmelive.commands import CAPF_SUMMARY, CTL_CLIENT, EPHONE_REGISTERED, PKI_CERTIFICATES, RUNNING_CONFIG
from cmelive.parsing.running_config import ConfigLine, RunningConfig
from cmelive.pki import (
    ROLE_CAPF,
    ROLE_CME,
    ROLE_SAST1,
    ROLE_SAST2,
    ROLE_TFTP,
    Certificate,
    TrustpointUse,
    capf_server,
    certificates,
    certificates_of,
    ctl_client,
    enrollment,
    enrollment_url,
    https_trustpoint,
    parse_collected_at,
    parse_ios_time,
    pki_servers,
    secure_sccp_trustpoints,
    telephony_service,
    trustpoint_section,
    uses_secure_sccp,
    zone_offsets,
)

if TYPE_CHECKING:  # imported for annotations only: cmelive.policy -> checks -> here would be a cycle
    from cmelive.state import DeviceState

SECTION = "Secure SCCP Signaling via TLS"
CA_URL_PLACEHOLDER = "http://<ca-address>:80"
_NOT_SECURE = (
    "this router does not use secure SCCP (no secure-signaling or tftp-server-credentials trustpoint, "
    "no ctl-client, no capf-server)"
)




def _ordered(evidence: list[Evidence]) -> list[Evidence]:
    """Running-config lines first, then each other command's lines, each in line order."""
    unique = unique_evidence(evidence)
    commands = list(dict.fromkeys([RUNNING_CONFIG, *(e.command for e in unique)]))
    return sorted(unique, key=lambda e: (commands.index(e.command), e.line or 0))


def _output_lines(state: DeviceState, command: str, pattern: str) -> list[tuple[int, str]]:
    """(line number, text) of every line of ``command``'s output matching ``pattern`` (``re.search``)."""
    regex = re.compile(pattern)
    return [
        (number, line)
        for number, line in enumerate(state.output(command).text.split("\n"), start=1)
        if regex.search(line)
    ]


def _trustpoint_uses(state: DeviceState) -> tuple[TrustpointUse, ...]:
    """The secure-SCCP trustpoints of the running-config, read once per device (``state.derived``)."""
    return tuple(secure_sccp_trustpoints(running_config(state)))


def _certificates(state: DeviceState) -> tuple[Certificate, ...]:
    """The certificates shown by ``show crypto pki certificates``, read once per device
    (``state.derived``); asked for only once its records have parsed."""
    return tuple(certificates(state.records(PKI_CERTIFICATES) or [], state.output(PKI_CERTIFICATES).text))


def _parse_failure(state: DeviceState, command: str) -> Outcome:
    return unknown(state.unavailable_reason(command))


def _source_address(config: RunningConfig) -> str | None:
    """The address phones register to (telephony-service ``ip source-address``)."""
    service = telephony_service(config)
    line = service.first(r"ip source-address \S+") if service is not None else None
    return line.words[2] if line is not None else None


def _first_name(uses: list[TrustpointUse], *roles: str) -> str | None:
    for role in roles:
        for use in uses:
            if use.role == role:
                return use.name
    return None


# --- CME-TLS-01 ------------------------------------------------------------------------------------


@check(
    id="CME-TLS-01",
    title="Time is trustworthy: an NTP server and a time zone are configured",
    severity=Severity.MEDIUM,
    family="TLS",
    reference=f"{SECTION} > Step 1: Configure NTP",
    rationale=(
        "Certificates are only valid between their start and end dates, so TLS between phones and CME, the "
        "CTL file and CAPF enrolment all depend on the router's clock; so do log and call-detail timestamps. "
        "The guide's first step is NTP with the local time zone."
    ),
    passes_when=(
        "at least one `ntp server` (or `sntp server` on platforms without NTP) and a `clock timezone` are "
        "configured. `ntp master` alone does not count: it makes the router trust its own clock."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:31: clock timezone PST -8 0",),
    remediation_example=("ntp server <ntp-server-ip>",),
)
def trustworthy_time(state: DeviceState) -> Outcome:
    # Not limited to routers with secure SCCP: every certificate (HTTPS too), log line and CDR needs
    # the right time, and the guide's TLS procedure is simply where it asks for it.
    config = running_config(state)
    servers = config.globals(r"s?ntp server \S+")
    zone = config.first_global(r"clock timezone \S+")
    if servers and zone is not None:
        return passed(
            f"{len(servers)} NTP server(s) and time zone {zone.words[2]} (line {zone.number}) are configured",
            [state.evidence(line) for line in servers] + [state.evidence(zone)],
        )
    problems: list[str] = []
    remediation: list[str] = []
    evidence: list[Evidence] = []
    if not servers:
        master = config.first_global(r"ntp master\b")
        if master is not None:
            evidence.append(state.evidence(master))
            problems.append(
                f"no ntp server: 'ntp master' (line {master.number}) only makes the router serve its own clock"
            )
        else:
            problems.append("no ntp server is configured: the clock drifts and certificate dates cannot be trusted")
        remediation.append("ntp server <ntp-server-ip>")
    else:
        evidence += [state.evidence(line) for line in servers]
    if zone is None:
        problems.append("no clock timezone: the router keeps and prints UTC")
        remediation.append("clock timezone <zone-name> <hours-offset>")
    else:
        evidence.append(state.evidence(zone))
    return failed("; ".join(problems), _ordered(evidence), remediation, from_absence=True)


# --- CME-TLS-02 ------------------------------------------------------------------------------------


def _define_trustpoint(name: str, url: str, bits: int) -> list[str]:
    return [
        f"crypto pki trustpoint {name}",
        f" enrollment url {url}",
        f" rsakeypair {name} {bits}",
        f"crypto pki authenticate {name}",
        f"crypto pki enroll {name}",
    ]


def _roles_text(uses: list[TrustpointUse], name: str) -> str:
    return "/".join(dict.fromkeys(use.role for use in uses if use.name == name))


def _certificate_evidence(state: DeviceState, certificate: Certificate, *, header: bool = True) -> list[Evidence]:
    """The certificate's ``Associated Trustpoints:`` line, after its kind (``CA Certificate``, ...) if asked."""
    lines: list[Evidence] = []
    text = state.output(PKI_CERTIFICATES).text.split("\n")
    for number in (certificate.header_line if header else None, certificate.trustpoints_line):
        if number is not None:
            lines.append(state.evidence_text(PKI_CERTIFICATES, number, text[number - 1]))
    return lines


@check(
    id="CME-TLS-02",
    title="A CA exists and the CME, CAPF, TFTP and SAST trustpoints are enrolled",
    severity=Severity.MEDIUM,
    family="TLS",
    reference=f"{SECTION} > Steps 2 and 3: Configure a CA and provision certificates",
    rationale=(
        "Phones trust CME, its TFTP files and CAPF only through certificates issued by a CA and listed in the "
        "CTL file. A trustpoint that is named in the CME configuration but holds no certificate of its own "
        "(not enrolled, enrolment pending, or self-signed) leaves secure registration, signed configuration "
        "files or the CTL signature without a valid identity."
    ),
    passes_when=(
        "a CA exists (`crypto pki server`, or a trustpoint enrolled via `enrollment url`/`terminal` holding its "
        "CA certificate) and every trustpoint named by `secure-signaling`, `tftp-server-credentials`, "
        "`trustpoint-label` and the ctl-client `server`/`sast1`/`sast2` lines is defined and has an available, "
        "CA-issued certificate in `show crypto pki certificates` (the local CA's own trustpoint counts with its "
        "CA certificate). Not applicable without secure SCCP."
    ),
    requires=(RUNNING_CONFIG,),
    # The configuration settles most cases (HTTPS off, no secure SCCP); the check says unknown
    # itself when it needs the certificates and cannot read them.
    uses=(PKI_CERTIFICATES,),
    example_evidence=("show running-config:88: sast2 trustpoint sast2",),
    remediation_example=("crypto pki authenticate sast2", "crypto pki enroll sast2", "ctl-client", " regenerate"),
    cme_only=True,
)
def trustpoints_enrolled(state: DeviceState) -> Outcome:
    config = running_config(state)
    if not uses_secure_sccp(config):
        return not_applicable(_NOT_SECURE)
    records = state.records(PKI_CERTIFICATES)
    if records is None:
        return _parse_failure(state, PKI_CERTIFICATES)
    found = list(state.derived(_certificates))
    uses = list(state.derived(_trustpoint_uses))
    servers = pki_servers(config)
    local_cas = {server.words[3] for server in servers}
    url = enrollment_url(config) or CA_URL_PLACEHOLDER
    bits = state.policy.min_rsa_bits

    problems: list[str] = []
    evidence: list[Evidence] = []
    remediation: list[str] = []
    good: list[Evidence] = []
    from_absence = True

    enrolled_cas = [
        section
        for section in config.sections(r"crypto (pki|ca) trustpoint \S+")
        if (line := enrollment(section)) is not None
        and line.words[1] in ("url", "terminal")
        and any(c.is_ca and c.available for c in certificates_of(found, section.words[3]))
    ]
    running_cas = {name for name in local_cas if any(c.is_ca and c.available for c in certificates_of(found, name))}
    if running_cas:
        good += [state.evidence(server) for server in servers if server.words[3] in running_cas][:1]
    elif servers:
        # A CA server that never ran (it starts with "no shutdown") has no certificate to issue from.
        server = servers[0]
        stopped = server.first(r"shutdown$")
        from_absence = stopped is None
        evidence += [state.evidence(server)] + ([state.evidence(stopped)] if stopped is not None else [])
        problems.append(f"the local CA {server.words[3]} has no CA certificate: it has never run")
        remediation += [server.command, " no shutdown"]
    elif enrolled_cas:
        good.append(state.evidence(enrolled_cas[0]))
    else:
        problems.append(
            "no CA: no crypto pki server, and no trustpoint enrolled with a CA (enrollment url or terminal, "
            "with the CA certificate installed)"
        )
        remediation += ["crypto pki server <ca-name>", " database url flash:", " no shutdown"]
    for name in dict.fromkeys(use.name for use in uses):
        use_lines = [use.line for use in uses if use.name == name]
        roles = _roles_text(uses, name)
        section = trustpoint_section(config, name)
        its = certificates_of(found, name)
        identity = [c for c in its if c.is_identity]
        issued = [c for c in identity if c.available and not c.is_self_signed]
        references = [state.evidence(line) for line in use_lines]
        if name in local_cas:  # the CA's own trustpoint: its CA certificate is its identity
            if name in running_cas:
                good += references + [e for c in its if c.is_ca for e in _certificate_evidence(state, c, header=False)]
            else:
                evidence += references
            continue
        if section is None:
            problems.append(f"trustpoint {name} ({roles}) is not defined")
            evidence += references
            remediation += _define_trustpoint(name, url, bits)
            continue
        if issued:
            good += references + _certificate_evidence(state, issued[0], header=False)
            continue
        evidence += references + ([state.evidence(section)] if section is not None else [])
        pending = [c for c in identity if not c.available]
        self_signed = [c for c in identity if c.available and c.is_self_signed]
        if self_signed:
            from_absence = False
            evidence += _certificate_evidence(state, self_signed[0])
            problems.append(f"trustpoint {name} ({roles}) holds a self-signed certificate, not one issued by the CA")
            remediation += [f"crypto pki trustpoint {name}", f" enrollment url {url}"]
            if not any(c.is_ca for c in its):  # a self-signed trustpoint never fetched the CA certificate
                remediation.append(f"crypto pki authenticate {name}")
            remediation.append(f"crypto pki enroll {name}")
        elif pending:
            from_absence = False
            evidence += _certificate_evidence(state, pending[0])
            problems.append(f"trustpoint {name} ({roles}): enrolment is {pending[0].status.lower()}, no certificate yet")
            remediation += (
                [f"crypto pki server {sorted(local_cas)[0]} grant all"] if local_cas else [f"crypto pki enroll {name}"]
            )
        elif its:
            evidence += [e for c in its for e in _certificate_evidence(state, c)]
            problems.append(
                f"trustpoint {name} ({roles}) holds only the CA certificate: authenticated but never enrolled"
            )
            remediation.append(f"crypto pki enroll {name}")
        else:
            problems.append(f"trustpoint {name} ({roles}) has no certificate: neither authenticated nor enrolled")
            remediation += [f"crypto pki authenticate {name}", f"crypto pki enroll {name}"]
    if not problems:
        names = ", ".join(f"{name} ({_roles_text(uses, name)})" for name in dict.fromkeys(u.name for u in uses))
        ca = f"local CA {sorted(running_cas)[0]}" if running_cas else f"CA of trustpoint {enrolled_cas[0].words[3]}"
        return passed(f"{ca}; enrolled: {names or 'no trustpoint is named yet'}", _ordered(good))
    if ctl_client(config) is not None:
        # The CTL file carries the certificates: it must be rebuilt once they exist.
        remediation += ["ctl-client", " regenerate"]
    return failed("; ".join(problems), _ordered(evidence), remediation, from_absence=from_absence)


# --- CME-TLS-03 ------------------------------------------------------------------------------------


def _cme_trustpoint(uses: list[TrustpointUse]) -> str:
    """The trustpoint to propose for secure-signaling: the one the CTL already lists for CME, ..."""
    return _first_name(uses, ROLE_CME, ROLE_CAPF, ROLE_TFTP) or "<cme-trustpoint>"


@check(
    id="CME-TLS-03",
    title="telephony-service requires secure signalling with signed per-phone configuration files",
    severity=Severity.HIGH,
    family="TLS",
    reference=f"{SECTION} > Step 4: Configure Telephony Service",
    rationale=(
        "Without secure-signaling and tftp-server-credentials trustpoints CME cannot offer TLS or sign the "
        "phones' configuration files; without server-security-mode secure and device-security-mode "
        "authenticated or encrypted the phones register in clear SCCP, where signalling can be read and "
        "altered and a rogue device can impersonate a phone. cnf-file perphone gives each phone its own "
        "signed file carrying its security mode."
    ),
    passes_when=(
        "telephony-service has `secure-signaling trustpoint`, `tftp-server-credentials trustpoint`, "
        "`server-security-mode secure`, `device-security-mode authenticated|encrypted` and `cnf-file perphone`. "
        "Not applicable without telephony-service, or when no SCCP phone can register (no ephone and "
        "`no auto-reg-ephone`). Routers whose phones cannot do TLS still fail: waive it deliberately."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:120: device-security-mode none",),
    remediation_example=(
        "telephony-service",
        " secure-signaling trustpoint cme-server",
        " tftp-server-credentials trustpoint cme-server",
        " server-security-mode secure",
        " device-security-mode authenticated",
        " cnf-file perphone",
    ),
    cme_only=True,
)
def secure_telephony_service(state: DeviceState) -> Outcome:
    config = running_config(state)
    service = telephony_service(config)
    if service is None:
        return not_applicable("no telephony-service: this router is not a CME")
    if not config.sections(r"ephone \d+$") and service.has(r"no auto-reg-ephone$"):
        return not_applicable("no ephone is configured and auto-registration is off: no SCCP phone can register")
    uses = list(state.derived(_trustpoint_uses))
    cme_tp = _cme_trustpoint(uses)
    tftp_tp = _first_name(uses, ROLE_TFTP, ROLE_CME) or cme_tp
    # (what the guide asks for, the regex of the line that sets it, the value that passes, the fix)
    items: list[tuple[str, str, tuple[str, ...], str]] = [
        ("secure-signaling trustpoint", r"secure-signaling trustpoint \S+", (), f"secure-signaling trustpoint {cme_tp}"),
        (
            "tftp-server-credentials trustpoint",
            r"tftp-server-credentials trustpoint \S+",
            (),
            f"tftp-server-credentials trustpoint {tftp_tp}",
        ),
        ("server-security-mode secure", r"server-security-mode \S+", ("secure",), "server-security-mode secure"),
        (
            "device-security-mode authenticated|encrypted",
            r"device-security-mode \S+",
            ("authenticated", "encrypted"),
            "device-security-mode authenticated",
        ),
        ("cnf-file perphone", r"cnf-file (perphonetype|perphone|pertype)$", ("perphone",), "cnf-file perphone"),
    ]
    good: list[Evidence] = [state.evidence(service)]
    evidence: list[Evidence] = [state.evidence(service)]
    missing: list[str] = []
    wrong: list[str] = []
    remediation: list[str] = []
    for wanted, pattern, values, fix in items:
        line = service.first(pattern)
        if line is None:
            missing.append(wanted)
            remediation.append(f" {fix}")
        elif values and line.words[1] not in values:
            wrong.append(f"{line.command} (line {line.number}) instead of {wanted}")
            evidence.append(state.evidence(line))
            remediation.append(f" {fix}")
        else:
            good.append(state.evidence(line))
    if not missing and not wrong:
        return passed("telephony-service enforces secure signalling with signed per-phone files", good)
    problems = []
    if missing:
        problems.append("telephony-service lacks " + ", ".join(missing))
    problems += wrong
    # What is missing would be printed in telephony-service: only damage there can hide it.
    return failed(
        "; ".join(problems), evidence, ["telephony-service", *remediation], from_absence=not wrong,
        within=[service.number],
    )


# --- CME-TLS-04 ------------------------------------------------------------------------------------

_SERVER_FUNCTIONS = ("CAPF", "TFTP", "CME")


def _sast_trustpoint(config: RunningConfig, preferred: str, taken: set[str]) -> tuple[str, bool]:
    """A trustpoint for a SAST role, and whether it must be created first.

    An existing trustpoint called ``preferred`` (or any other ``*sast*`` one) that no other SAST uses
    is reused: the guide provisions them before the CTL client names them.
    """
    existing = [section.words[3] for section in config.sections(r"crypto (pki|ca) trustpoint \S+")]
    if preferred in existing and preferred not in taken:
        return preferred, False
    for name in existing:
        if "sast" in name.lower() and name not in taken:
            return name, False
    index = 2
    while f"{preferred}-{index}" in existing or f"{preferred}-{index}" in taken:
        index += 1
    return f"{preferred}-{index}" if preferred in existing or preferred in taken else preferred, True


@check(
    id="CME-TLS-04",
    title="The CTL client lists CAPF, TFTP and CME with two distinct SAST signers, and the CTL file exists",
    severity=Severity.HIGH,
    family="TLS",
    reference=f"{SECTION} > Step 5: Configure the CTL client",
    rationale=(
        "Phones authenticate CME, TFTP and CAPF only through the certificate trust list; it is signed by a "
        "SAST, and two distinct SAST certificates let the list be re-signed if one is lost or compromised. "
        "Until the CTL file is generated (regenerate) phones have nothing to trust."
    ),
    passes_when=(
        "`ctl-client` has `server capf`, `server tftp` and `server cme` lines and `sast1`/`sast2` on two different "
        "trustpoints, and `show ctl-client` lists SAST 1 and SAST 2 with two different trustpoints plus the "
        "CAPF, TFTP and CME entries, matching the configuration. Not applicable without secure SCCP."
    ),
    requires=(RUNNING_CONFIG,),
    uses=(CTL_CLIENT,),
    example_evidence=("show ctl-client:5: SAST 1 Certificate Trustpoint: sast2",),
    remediation_example=("ctl-client", " sast2 trustpoint sast2", " regenerate"),
    cme_only=True,
)
def ctl_file(state: DeviceState) -> Outcome:
    config = running_config(state)
    ctl = ctl_client(config)
    uses = list(state.derived(_trustpoint_uses))
    source = _source_address(config) or "<cme-ip-address>"
    if ctl is None:
        if not uses_secure_sccp(config):
            return not_applicable(_NOT_SECURE)
        service = telephony_service(config)
        secure_lines = service.find(r"(secure-signaling|tftp-server-credentials) trustpoint ") if service else []
        cme_tp = _cme_trustpoint(uses)
        capf_tp = _first_name(uses, ROLE_CAPF) or cme_tp
        tftp_tp = _first_name(uses, ROLE_TFTP) or cme_tp
        first_sast, create_first = _sast_trustpoint(config, "sast1", set())
        second_sast, create_second = _sast_trustpoint(config, "sast2", {first_sast})
        url = enrollment_url(config) or CA_URL_PLACEHOLDER
        bits = state.policy.min_rsa_bits
        creations = [name for name, create in ((first_sast, create_first), (second_sast, create_second)) if create]
        return failed(
            "secure SCCP is configured but there is no ctl-client, so this router builds no CTL file "
            "(waive this if the CTL client runs on another router)",
            [state.evidence(line) for line in ([service] if service else []) + secure_lines],
            [
                *(line for name in creations for line in _define_trustpoint(name, url, bits)),
                "ctl-client",
                f" server capf {source} trustpoint {capf_tp}",
                f" server tftp {source} trustpoint {tftp_tp}",
                f" server cme {source} trustpoint {cme_tp}",
                f" sast1 trustpoint {first_sast}",
                f" sast2 trustpoint {second_sast}",
                " regenerate",
            ],
            from_absence=True,
        )
    records = state.records(CTL_CLIENT)
    if records is None:
        return _parse_failure(state, CTL_CLIENT)

    problems: list[str] = []
    evidence: list[Evidence] = [state.evidence(ctl)]
    good: list[Evidence] = [state.evidence(ctl)]
    fixes: list[str] = []
    from_absence = True
    url = enrollment_url(config) or CA_URL_PLACEHOLDER
    bits = state.policy.min_rsa_bits
    new_trustpoints: list[str] = []

    # The configuration.
    configured: dict[str, tuple[ConfigLine, str | None]] = {}
    for line in ctl.find(r"server (capf|tftp|cme) \S+"):
        function = line.words[1].upper()
        words = line.command.split()
        trustpoint = words[words.index("trustpoint") + 1] if "trustpoint" in words[:-1] else None
        configured.setdefault(function, (line, trustpoint))
    missing_servers = [f for f in _SERVER_FUNCTIONS if f not in configured]
    for server_line, _ in configured.values():
        good.append(state.evidence(server_line))
    if missing_servers:
        problems.append("ctl-client has no server " + ", ".join(f.lower() for f in missing_servers) + " line")
        role_of = {"CAPF": ROLE_CAPF, "TFTP": ROLE_TFTP, "CME": ROLE_CME}
        for function in missing_servers:
            trustpoint = _first_name(uses, role_of[function], ROLE_CME) or f"<{function.lower()}-trustpoint>"
            fixes.append(f" server {function.lower()} {source} trustpoint {trustpoint}")
    sast_lines = {word: ctl.first(rf"{word} trustpoint \S+") for word in ("sast1", "sast2")}
    sast1_line, sast2_line = sast_lines["sast1"], sast_lines["sast2"]
    sast1 = sast1_line.words[2] if sast1_line is not None else None
    sast2 = sast2_line.words[2] if sast2_line is not None else None
    for sast_line in (sast1_line, sast2_line):
        if sast_line is not None:
            good.append(state.evidence(sast_line))
    if sast1 is None or sast2 is None:
        absent = [word for word, found_line in sast_lines.items() if found_line is None]
        problems.append("ctl-client has no " + " and no ".join(absent) + " trustpoint")
        taken = {name for name in (sast1, sast2) if name}
        for word in absent:
            name, create = _sast_trustpoint(config, word, taken)
            taken.add(name)
            if create:
                new_trustpoints.append(name)
            fixes.append(f" {word} trustpoint {name}")
    elif sast1 == sast2:
        assert sast1_line is not None and sast2_line is not None
        from_absence = False
        evidence += [state.evidence(sast1_line), state.evidence(sast2_line)]
        problems.append(f"sast1 and sast2 use the same trustpoint {sast1}: there is no second signer")
        name, create = _sast_trustpoint(config, "sast2", {sast1})
        if create:
            new_trustpoints.append(name)
        fixes.append(f" sast2 trustpoint {name}")

    # The CTL file, as the router shows it.
    listed_sast = [(str(r["function"]), str(r["trustpoint"])) for r in records if str(r["function"]).startswith("SAST")]
    listed_servers = {str(r["function"]).upper() for r in records if not str(r["function"]).startswith("SAST")}
    output_sast = [
        state.evidence_text(CTL_CLIENT, number, text)
        for number, text in _output_lines(state, CTL_CLIENT, r"SAST\s*\d+\s+Certificate\s+Trustpoint")
    ]
    regenerate = False
    if not records:
        problems.append("show ctl-client lists no entry: the CTL file has not been generated")
        regenerate = True
    else:
        two_signers = sorted(f for f, _ in listed_sast) == ["SAST 1", "SAST 2"] and len(set(listed_sast)) == 2 \
            and listed_sast[0][1] != listed_sast[1][1]
        if not two_signers:
            # Also what the CME command reference's own example shows ("SAST 1" twice): whatever the
            # cause, the router does not show two distinct signers, and we do not guess it has them.
            from_absence = False
            evidence += output_sast
            shown = ", ".join(f"{function}: {trustpoint}" for function, trustpoint in listed_sast) or "none"
            problems.append(f"show ctl-client does not show two distinct SAST signers ({shown})")
            regenerate = True
        elif sast1 and sast2 and sast1 != sast2 and set(listed_sast) != {("SAST 1", sast1), ("SAST 2", sast2)}:
            from_absence = False
            evidence += output_sast
            problems.append(
                "the CTL file is signed by other SAST trustpoints than configured "
                f"(sast1 {sast1}, sast2 {sast2}): it is out of date"
            )
            regenerate = True
        else:
            good += output_sast
        unlisted = [f for f in _SERVER_FUNCTIONS if f in configured and f not in listed_servers]
        if unlisted:
            problems.append("the CTL file lists no " + ", ".join(unlisted) + " entry")
            regenerate = True
    if not problems:
        return passed(
            f"CTL file lists CAPF, TFTP and CME, signed by SAST 1 {sast1} and SAST 2 {sast2}", _ordered(good)
        )
    remediation: list[str] = []
    for name in new_trustpoints:
        remediation += _define_trustpoint(name, url, bits)
    remediation += ["ctl-client", *fixes]
    if fixes or regenerate:
        remediation.append(" regenerate")
    return failed("; ".join(problems), _ordered(evidence), remediation, from_absence=from_absence)


# --- CME-TLS-05 ------------------------------------------------------------------------------------

_WEAK_CAPF_MODE = "null-string"


def _normalized_mode(text: str) -> str:
    """``Auth-String`` (show capf-server summary) -> ``auth-string`` (config spelling)."""
    return text.strip().lower().replace(" ", "-")


@check(
    id="CME-TLS-05",
    title="CAPF authenticates phones (no null-string) and names its trustpoint",
    severity=Severity.MEDIUM,
    family="TLS",
    reference=f"{SECTION} > Step 6: Configure the CAPF server",
    rationale=(
        "CAPF issues each phone the certificate (LSC) it then uses to prove its identity. With auth-mode "
        "null-string it issues one to any device that asks, so a rogue device can obtain a trusted identity; "
        "an authentication string, or an existing LSC/MIC, ties the certificate to a real phone. The guide's "
        "own example uses null-string, which is why this check goes beyond it. Without trustpoint-label "
        "CAPF has no certificate for its TLS sessions with the phones."
    ),
    passes_when=(
        "`capf-server` has `trustpoint-label` and an `auth-mode` other than `null-string` (when the config has "
        "none, `show capf-server summary` must show a non-null mode), no ephone or ephone-template uses "
        "`cert-oper ... auth-mode null-string`, and `show capf-server summary` agrees. Fails when secure "
        "signalling is configured without capf-server; not applicable without secure SCCP."
    ),
    requires=(RUNNING_CONFIG,),
    uses=(CAPF_SUMMARY,),
    example_evidence=("show running-config:70: auth-mode null-string",),
    remediation_example=("capf-server", " auth-mode auth-string"),
    cme_only=True,
)
def capf_authentication(state: DeviceState) -> Outcome:
    config = running_config(state)
    capf = capf_server(config)
    uses = list(state.derived(_trustpoint_uses))
    label_tp = _first_name(uses, ROLE_CAPF, ROLE_CME) or "<capf-trustpoint>"
    if capf is None:
        if not uses_secure_sccp(config):
            return not_applicable(_NOT_SECURE)
        service = telephony_service(config)
        shown = service.find(r"(secure-signaling|tftp-server-credentials) trustpoint ") if service else []
        ca = pki_servers(config)
        ca_tp = ca[0].words[3] if ca else "<ca-trustpoint>"
        return failed(
            "secure SCCP is configured but there is no capf-server: phones cannot obtain their certificates (LSC)",
            [state.evidence(line) for line in ([service] if service else []) + shown],
            [
                "capf-server",
                " auth-mode auth-string",
                f" cert-enroll-trustpoint {ca_tp} password 0 <ca-password>",
                f" trustpoint-label {label_tp}",
                f" source-addr {_source_address(config) or '<cme-ip-address>'}",
            ],
            from_absence=True,
        )
    records = state.records(CAPF_SUMMARY)
    if records is None:
        return _parse_failure(state, CAPF_SUMMARY)
    summary: dict[str, Any] | None = records[0] if records else None

    problems: list[str] = []
    evidence: list[Evidence] = [state.evidence(capf)]
    good: list[Evidence] = [state.evidence(capf)]
    remediation: list[str] = []
    from_absence = True

    mode_line = capf.first(r"auth-mode \S+")
    label = capf.first(r"trustpoint-label \S+")
    running_mode = _normalized_mode(str(summary.get("auth_mode") or "")) if summary else ""
    mode_output = _output_lines(state, CAPF_SUMMARY, r"Authentication Mode:")
    capf_fixes: list[str] = []
    if mode_line is not None and mode_line.words[1].lower() == _WEAK_CAPF_MODE:
        from_absence = False
        evidence.append(state.evidence(mode_line))
        problems.append(f"capf-server uses auth-mode null-string (line {mode_line.number}): any device gets an LSC")
        capf_fixes.append(" auth-mode auth-string")
    elif running_mode == _WEAK_CAPF_MODE:
        from_absence = False
        evidence += [state.evidence_text(CAPF_SUMMARY, n, t) for n, t in mode_output]
        problems.append("show capf-server summary shows the null-string mode in use: any device gets an LSC")
        capf_fixes.append(" auth-mode auth-string")
    elif mode_line is None and not running_mode:
        problems.append(
            "capf-server sets no auth-mode and show capf-server summary shows none: phones are not authenticated "
            "before CAPF issues their certificates"
        )
        capf_fixes.append(" auth-mode auth-string")
    else:
        if mode_line is not None:
            good.append(state.evidence(mode_line))
        good += [state.evidence_text(CAPF_SUMMARY, n, t) for n, t in mode_output]
    if label is None:
        problems.append("capf-server has no trustpoint-label: CAPF has no certificate for TLS with the phones")
        capf_fixes.append(f" trustpoint-label {label_tp}")
    else:
        good.append(state.evidence(label))
    if capf_fixes:
        remediation += ["capf-server", *capf_fixes]
    for section in config.sections(r"ephone(-template)? \d+$"):
        for line in section.find(r"cert-oper \S+ .*auth-mode null-string"):
            from_absence = False
            evidence += [state.evidence(section), state.evidence(line)]
            problems.append(f"{section.command} uses auth-mode null-string for its certificate (line {line.number})")
            operation = line.words[1]
            remediation += [section.command, f" cert-oper {operation} auth-mode auth-string"]
            if not section.has(r"capf-auth-str \S+"):
                remediation.append(" capf-auth-str <auth-string-of-4-to-10-digits>")
    if not problems:
        if summary is None:
            return unknown(
                "capf-server is configured well, but show capf-server summary printed no CAPF configuration, so "
                "whether CAPF runs with it cannot be confirmed"
            )
        mode = mode_line.words[1] if mode_line is not None else running_mode
        return passed(f"CAPF authenticates phones with {mode} and uses trustpoint {label.words[1] if label else ''}",
                      _ordered(good))
    return failed("; ".join(problems), _ordered(evidence), remediation, from_absence=from_absence)


# --- CME-TLS-06 ------------------------------------------------------------------------------------

# Models that can register with secure SCCP (TLS) on CME. The guide (CME 4.0) names the 7911G, 7941G,
# 7961G and 7970/7971G-GE; later CME releases add their siblings of the same generation (7906G, 7931G,
# 7942G, 7945G, 7962G, 7965G, 7975G), the 89xx and 99xx series; the 88xx series is listed for completeness
# (it registers as SIP, so it rarely shows up here). Not counted: 7940/7960 and older (the guide leaves
# them out), IP Communicator, ATA and analog ports ("SCCP Gateway (AN)"), 69xx and wireless 792x
# (not in CME's phone-authentication list).
_SECURE_CAPABLE = re.compile(r"\b(79(06|11|31|41|42|45|61|62|65|70|71|75)|89\d\d|99\d\d|88\d\d)")


def secure_capable(model: str) -> bool:
    """True when the ephone model printed by ``show ephone`` can register over TLS."""
    return bool(_SECURE_CAPABLE.search(model))


@check(
    id="CME-TLS-06",
    title="Secure-capable phones are registered with authenticated or encrypted signalling",
    severity=Severity.MEDIUM,
    family="TLS",
    reference=f"{SECTION} (supported phones; Troubleshooting: show ephone registered)",
    rationale=(
        "A phone that could register over TLS but registers in clear SCCP gets none of the protection the "
        "secure setup was built for: its signalling can be read and altered, and its identity is not proven. "
        "The router shows the registration's security on each phone's first line."
    ),
    passes_when=(
        "every registered phone of a secure-capable model (7906, 7911, 7931, 7941, 7942, 7945, 7961, 7962, 7965, "
        "7970, 7971, 7975, 88xx, 89xx, 99xx) shows `+ Authentication` (or `+ Authentication + Encryption`) in "
        "`show ephone registered`. Not applicable when no such phone is registered."
    ),
    requires=(EPHONE_REGISTERED,),
    example_evidence=(
        "show ephone registered:17: ephone-3[2] Mac:0C85.25C7.2E19 TCP socket:[3] activeLine:0 whisperLine:0 "
        "REGISTERED in SCCP ver 22/17 max_streams=5",
    ),
    remediation_example=("ephone 3", " device-security-mode authenticated"),
    cme_only=True,
)
def phones_registered_securely(state: DeviceState) -> Outcome:
    records = state.records(EPHONE_REGISTERED)
    if records is None:
        return _parse_failure(state, EPHONE_REGISTERED)
    registered = [r for r in records if str(r.get("status")) == "REGISTERED"]
    capable = [r for r in registered if secure_capable(str(r.get("model") or ""))]
    if not capable:
        models = ", ".join(sorted({str(r.get("model") or "?") for r in registered})) or "none registered"
        return not_applicable(f"no secure-capable phone is registered (models: {models})")
    lines = state.output(EPHONE_REGISTERED).text.split("\n")

    def phone_lines(record: dict[str, Any]) -> list[Evidence]:
        """The phone's header line (its security) and its IP line (its model)."""
        found: list[Evidence] = []
        header = next((i for i, text in enumerate(lines) if f"Mac:{record['mac']}" in text), None)
        if header is None:
            return found
        found.append(state.evidence_text(EPHONE_REGISTERED, header + 1, lines[header]))
        for index in range(header + 1, len(lines)):
            if re.match(r"\s*ephone-\d+", lines[index]):
                break
            if re.search(r"\bIP(v6)?:", lines[index]):
                found.append(state.evidence_text(EPHONE_REGISTERED, index + 1, lines[index]))
                break
        return found

    clear = [r for r in capable if not r.get("security")]
    if not clear:
        summary = ", ".join(f"ephone-{r['ephone_id']} ({r['model']}: {r['security']})" for r in capable)
        return passed(f"every secure-capable phone registered over TLS: {summary}",
                      [e for r in capable for e in phone_lines(r)[:1]])
    # When telephony-service already asks for security, the phone fell back to clear SCCP (no CTL file or
    # no LSC yet): the per-phone line still pins it, and the message points at the cause.
    config = state.config
    service = telephony_service(config) if config is not None else None
    system_mode = service.first(r"device-security-mode (authenticated|encrypted)") if service else None
    remediation: list[str] = []
    for record in clear:
        remediation += [f"ephone {record['ephone_id']}", " device-security-mode authenticated"]
    cause = (
        f" although telephony-service asks for {system_mode.words[1]} (line {system_mode.number}): check its CTL "
        "file and certificate (CME-TLS-04, CME-TLS-05)"
        if system_mode is not None
        else ""
    )
    names = ", ".join(f"ephone-{r['ephone_id']} ({r['model']}, {r['ip']})" for r in clear)
    return failed(
        f"{len(clear)} of {len(capable)} secure-capable phone(s) registered in clear SCCP: {names}{cause}",
        [e for r in clear for e in phone_lines(r)],
        remediation,
    )


# --- CME-TLS-07 ------------------------------------------------------------------------------------


@check(
    id="CME-TLS-07",
    title="No CME, CAPF, TFTP, SAST or HTTPS certificate is expired or about to expire",
    severity=Severity.HIGH,
    family="TLS",
    reference=f"{SECTION} > Step 3: Certificate provisioning (beyond the guide: expiry)",
    rationale=(
        "When the certificate of the CME, TFTP or CAPF trustpoint or a SAST expires, secure phones stop "
        "trusting the router's TLS, signed configuration files and CTL file, and fail to register; an expired "
        "HTTPS certificate trains administrators to click through warnings. Renewing before the end date avoids "
        "an outage. The reference time is when the snapshot was collected, so a replay judges as the live run did."
    ),
    passes_when=(
        "every certificate (own and CA) of the trustpoints used for CME, TFTP, CAPF, SAST1, SAST2 and HTTPS "
        "(`ip http secure-trustpoint`, or IOS's self-signed one) is valid at collection time and stays valid "
        "for more than the policy's `cert_expiry_days` (default 30). Dates in a zone the config does not define "
        "are read as UTC (said in the message). Not applicable when none of these trustpoints is used or none "
        "holds a certificate."
    ),
    requires=(RUNNING_CONFIG,),
    # No trustpoint in use settles it from the configuration; the check says unknown itself
    # when it needs the certificates and cannot read them.
    uses=(PKI_CERTIFICATES,),
    example_evidence=("show crypto pki certificates:12: end   date: 10:25:13 UTC Mar 3 2024",),
    remediation_example=("crypto pki enroll cme-server", "ctl-client", " regenerate"),
)
def certificates_not_expiring(state: DeviceState) -> Outcome:
    config = running_config(state)
    now = parse_collected_at(state.snapshot.collected_at)
    if now is None:
        return unknown(f"the snapshot's collection time '{state.snapshot.collected_at}' is not an ISO 8601 time")
    uses = list(state.derived(_trustpoint_uses))
    https = https_trustpoint(config)
    if https is not None:
        uses.append(https)
    if not uses:
        return not_applicable("no trustpoint is used for secure SCCP or HTTPS")
    records = state.records(PKI_CERTIFICATES)
    if records is None:
        return _parse_failure(state, PKI_CERTIFICATES)
    found = list(state.derived(_certificates))
    text = state.output(PKI_CERTIFICATES).text.split("\n")
    offsets = zone_offsets(config)
    days = state.policy.cert_expiry_days
    horizon = now + timedelta(days=days)
    local_cas = {server.words[3] for server in pki_servers(config)}

    roles: dict[str, list[str]] = {}
    for use in uses:
        roles.setdefault(use.name, [])
        if use.role not in roles[use.name]:
            roles[use.name].append(use.role)
    judged: list[tuple[Certificate, list[str]]] = []  # each certificate once, with the trustpoints it serves
    for name in roles:
        for certificate in certificates_of(found, name):
            for seen, names in judged:
                if seen is certificate:
                    names.append(name)
                    break
            else:
                judged.append((certificate, [name]))
    if not judged:
        return not_applicable(
            "none of the trustpoints in use (" + ", ".join(roles) + ") holds a certificate (see CME-TLS-02)"
        )

    problems: list[str] = []
    evidence: list[Evidence] = []
    good: list[Evidence] = []
    remediation: list[str] = []
    unreadable: list[str] = []
    guessed_zones: set[str] = set()
    soonest: tuple[int, str] | None = None

    def lines_of(certificate: Certificate) -> list[Evidence]:
        out: list[Evidence] = []
        for number in (certificate.end_line, certificate.trustpoints_line):
            if number is not None:
                out.append(state.evidence_text(PKI_CERTIFICATES, number, text[number - 1]))
        return out

    for certificate, names in judged:
        label = (
            f"{'CA certificate' if certificate.is_ca else 'certificate'} {certificate.serial or '?'} of "
            + ", ".join(f"{name} ({'/'.join(roles[name])})" for name in names)
        )
        try:
            end = parse_ios_time(certificate.end, offsets)
            start = parse_ios_time(certificate.start, offsets) if certificate.start else None
        except ValueError:
            if certificate.end or certificate.available:
                unreadable.append(f"{label}: end date '{certificate.end or 'not shown'}'")
            continue
        if not end.zone_known:
            guessed_zones.add(end.zone)
        left = end.when - now
        if end.when <= now:
            problems.append(f"{label} expired on {certificate.end}")
        elif end.when <= horizon:
            problems.append(f"{label} expires on {certificate.end}, in {left.days} day(s) (policy: {days})")
        elif start is not None and start.when > now:
            problems.append(f"{label} is not valid before {certificate.start}: the clock or the CA is wrong")
        else:
            good += lines_of(certificate)
            if soonest is None or left.days < soonest[0]:
                soonest = (left.days, f"{label} on {certificate.end}")
            continue
        evidence += lines_of(certificate)
        for name in names:
            if start is not None and start.when > now:
                fix = [f"crypto pki enroll {name}"] if config.globals(r"s?ntp server ") else ["ntp server <ntp-server-ip>"]
            elif certificate.is_ca and name in local_cas:
                fix = [f"crypto pki server {name} rollover"]
            elif certificate.is_ca:
                fix = [f"crypto pki authenticate {name}"]
            else:
                fix = [f"crypto pki enroll {name}"]
            remediation += [line for line in fix if line not in remediation]
    zone_note = (
        " (dates in zone " + ", ".join(sorted(guessed_zones)) + ", which the config does not define, read as UTC)"
        if guessed_zones
        else ""
    )
    if problems:
        if ctl_client(config) is not None and any(
            r in (ROLE_CME, ROLE_TFTP, ROLE_CAPF, ROLE_SAST1, ROLE_SAST2) for n in roles for r in roles[n]
        ):
            # Renewed certificates reach the phones only through a regenerated CTL file.
            remediation += ["ctl-client", " regenerate"]
        return failed("; ".join(problems) + zone_note, _ordered(evidence), remediation)
    if unreadable:
        return unknown("cannot read the dates of " + "; ".join(unreadable))
    assert soonest is not None
    return passed(
        f"{len(judged)} certificate(s) valid for more than {days} days; the first to expire is {soonest[1]}"
        + zone_note,
        good,
    )
