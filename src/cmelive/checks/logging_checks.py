"""Registration monitoring and call history: syslog and call detail records.

Guide: "Cisco Unified CME Security for IP Telephony" > "Monitoring IP Phone Registration" and
"Call Activity Monitoring and Call History Logging".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cmelive.checks.base import Evidence, Outcome, Severity, failed, not_applicable, passed
from cmelive.checks.common import running_config
from cmelive.checks.registry import check
from cmelive.commands import RUNNING_CONFIG
from cmelive.parsing.running_config import ConfigLine, RunningConfig

if TYPE_CHECKING:  # imported for annotations only: cmelive.policy -> checks -> here would be a cycle
    from cmelive.state import DeviceState

SECTION = "Cisco Unified CME Security for IP Telephony"

SYSLOG_LEVELS: dict[str, int] = {
    "emergencies": 0,
    "alerts": 1,
    "critical": 2,
    "errors": 3,
    "warnings": 4,
    "notifications": 5,
    "informational": 6,
    "debugging": 7,
}
# The registration events the guide relies on (%IPPHONE-6-REGISTER, -REGISTER_NEW, -UNREGISTER_ABNORMAL,
# ...) are severity 6: a logging level below informational drops every one of them.
REGISTRATION_EVENT_LEVEL = 6
# IOS defaults when the level is not printed: buffered logs debugging, syslog hosts get informational.
_BUFFERED_DEFAULT_LEVEL = 7
_TRAP_DEFAULT_LEVEL = 6
_BUFFER_SIZE = 51200



def level_of(word: str) -> int | None:
    """``warnings`` / ``4`` -> 4; None for anything else."""
    if word.isdigit() and int(word) <= 7:
        return int(word)
    return SYSLOG_LEVELS.get(word)


def level_name(level: int) -> str:
    return next(name for name, number in SYSLOG_LEVELS.items() if number == level)


@dataclass(frozen=True)
class BufferedLogging:
    """``logging buffered [size] [level]`` as configured."""

    line: ConfigLine
    size: int | None
    level: int


def buffered_logging(config: RunningConfig) -> BufferedLogging | None:
    line = config.first_global(r"logging buffered\b")
    if line is None:
        return None
    size: int | None = None
    level = _BUFFERED_DEFAULT_LEVEL
    for word in line.words[2:]:
        # 0-7 is a level ("logging buffered 6"); a size is at least 4096.
        found = level_of(word)
        if found is not None:
            level = found
        elif word.isdigit():
            size = int(word)
    return BufferedLogging(line, size, level)


def syslog_hosts(config: RunningConfig) -> list[ConfigLine]:
    """``logging host A ...`` (any transport, VRF or IPv6) and the old ``logging A.B.C.D``."""
    return config.globals(r"logging (host \S|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(\s|$))")


# --- CME-LOG-01 ------------------------------------------------------------------------------------


@check(
    id="CME-LOG-01",
    title="Registration events are logged to a syslog server and to the buffer",
    severity=Severity.MEDIUM,
    family="LOG",
    reference=f"{SECTION} > Monitoring IP Phone Registration",
    rationale=(
        "CME reports every registration and deregistration (%IPPHONE-6-REGISTER_NEW names a phone that is not "
        "configured) through syslog. The guide sends these messages to the router's buffer and to a syslog "
        "server, where they outlive a reload and can be watched for rogue phones."
    ),
    passes_when=(
        "a syslog server is configured (`logging host A` / `logging A.B.C.D`), `logging buffered` is on, and "
        "neither the server (`logging trap`) nor the buffer is set below informational, the severity of the "
        "%IPPHONE-6 registration messages; `no logging on` or `no logging trap` fails."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:17: logging buffered 51200 warnings",),
    remediation_example=("logging host <syslog-server>", "logging buffered 51200 informational"),
)
def syslog_and_buffer(state: DeviceState) -> Outcome:
    config = running_config(state)
    problems: list[str] = []
    evidence: list[Evidence] = []
    remediation: list[str] = []
    good: list[Evidence] = []
    shown_by_a_line = False

    off = config.first_global(r"no logging on$")
    if off is not None:
        problems.append(f"'no logging on' (line {off.number}) turns off logging to the buffer and to servers")
        evidence.append(state.evidence(off))
        remediation.append("logging on")
        shown_by_a_line = True

    hosts = syslog_hosts(config)
    trap = config.first_global(r"logging trap\b")
    no_trap = config.first_global(r"no logging trap$")
    if not hosts:
        problems.append("no syslog server (logging host) is configured")
        remediation.append("logging host <syslog-server>")
    else:
        good += [state.evidence(line) for line in hosts]
    if no_trap is not None:
        problems.append(f"'no logging trap' (line {no_trap.number}) sends nothing to the syslog servers")
        evidence.append(state.evidence(no_trap))
        remediation.append("logging trap informational")
        shown_by_a_line = True
    elif trap is not None:
        trap_level = next((level_of(w) for w in trap.words[2:] if level_of(w) is not None), _TRAP_DEFAULT_LEVEL)
        if trap_level is not None and trap_level < REGISTRATION_EVENT_LEVEL:
            problems.append(
                f"logging trap {level_name(trap_level)} (line {trap.number}) keeps the severity-6 registration "
                "messages from the syslog servers"
            )
            evidence.append(state.evidence(trap))
            remediation.append("logging trap informational")
            shown_by_a_line = True
        else:
            good.append(state.evidence(trap))

    buffered = buffered_logging(config)
    no_buffered = config.first_global(r"no logging buffered$")
    if no_buffered is not None:
        problems.append(f"'no logging buffered' (line {no_buffered.number}) keeps no log in the router's buffer")
        evidence.append(state.evidence(no_buffered))
        remediation.append(f"logging buffered {_BUFFER_SIZE} informational")
        shown_by_a_line = True
    elif buffered is None:
        problems.append("logging buffered is not configured")
        remediation.append(f"logging buffered {_BUFFER_SIZE} informational")
    elif buffered.level < REGISTRATION_EVENT_LEVEL:
        problems.append(
            f"logging buffered at {level_name(buffered.level)} (line {buffered.line.number}) drops the severity-6 "
            "registration messages"
        )
        evidence.append(state.evidence(buffered.line))
        remediation.append(f"logging buffered {buffered.size or _BUFFER_SIZE} informational")
        shown_by_a_line = True
    else:
        good.append(state.evidence(buffered.line))

    if problems:
        evidence.sort(key=lambda e: e.line or 0)
        return failed("; ".join(problems), evidence, remediation, from_absence=not shown_by_a_line)
    servers = ", ".join(line.command for line in hosts)
    return passed(
        f"registration events go to {servers} and to the buffer ({buffered.line.command if buffered else ''})",
        sorted(good, key=lambda e: e.line or 0),
    )


# --- CME-LOG-02 ------------------------------------------------------------------------------------

# Accounting kinds that send call records through AAA (RADIUS VSAs). "h323" and "voip" are the names
# before IOS 12.2(11)T; all use the connection accounting list named by "method", else h323.
_AAA_ACCOUNTING = ("aaa", "h323", "voip")
_DEFAULT_CONNECTION_LIST = "h323"


def has_voice(config: RunningConfig) -> bool:
    """True when the router carries calls: CME (SCCP or SIP), dial-peers, or SRST."""
    return bool(
        config.sections(r"(telephony-service$|dial-peer voice |voice register |call-manager-fallback$)")
    )


def _connection_lists(config: RunningConfig) -> dict[str, ConfigLine]:
    """``aaa accounting connection LIST start-stop|stop-only ... group ...`` lines that record somewhere."""
    found: dict[str, ConfigLine] = {}
    for line in config.globals(r"aaa accounting connection \S+ "):
        words = line.words
        # "group X" today; a bare "radius"/"tacacs+" in configs from before server groups.
        if len(words) > 4 and words[4] != "none" and {"group", "radius", "tacacs+"} & set(words[5:]):
            found[words[3]] = line
    return found


def _radius_group(config: RunningConfig) -> str:
    group = config.first_global(r"aaa group server radius \S+")
    return group.words[4] if group is not None else "radius"


@check(
    id="CME-LOG-02",
    title="Call history is kept: call records retained and sent to syslog or AAA",
    severity=Severity.MEDIUM,
    family="LOG",
    reference=f"{SECTION} > Call Activity Monitoring and Call History Logging",
    rationale=(
        "Call history is what lets an administrator find toll fraud and trace who called where. The guide "
        "keeps call records longer and in greater number (dial-control-mib retain-timer and max-size) and sends "
        "each call's record off the router with gw-accounting syslog."
    ),
    passes_when=(
        "`dial-control-mib retain-timer N` and `dial-control-mib max-size N` are set, and call records leave "
        "the router: `gw-accounting syslog`, `gw-accounting file`, or `gw-accounting aaa` with an "
        "`aaa accounting connection` list (the one its `method` names, else h323) that records to a server "
        "group. Not applicable without voice (no telephony-service, dial-peer voice, voice register or "
        "call-manager-fallback)."
    ),
    requires=(RUNNING_CONFIG,),
    example_evidence=("show running-config:31: gw-accounting aaa",),
    remediation_example=(
        "dial-control-mib retain-timer 10080",
        "dial-control-mib max-size 500",
        "gw-accounting syslog",
    ),
)
def call_history(state: DeviceState) -> Outcome:
    config = running_config(state)
    if not has_voice(config):
        return not_applicable("no voice configuration (telephony-service, dial-peer voice, voice register): no calls")
    problems: list[str] = []
    evidence: list[Evidence] = []
    remediation: list[str] = []
    good: list[ConfigLine] = []
    retain = config.first_global(r"dial-control-mib retain-timer \d+")
    size = config.first_global(r"dial-control-mib max-size \d+")
    if retain is None:
        problems.append("dial-control-mib retain-timer is not set (IOS keeps call records 15 minutes)")
        remediation.append("dial-control-mib retain-timer 10080")
    else:
        good.append(retain)
    if size is None:
        problems.append("dial-control-mib max-size is not set (IOS keeps 50 call records)")
        remediation.append("dial-control-mib max-size 500")
    else:
        good.append(size)

    accounting = config.globals(r"gw-accounting \S")
    kinds = {line.words[1]: line for line in accounting}
    direct = [kinds[kind] for kind in ("syslog", "file") if kind in kinds]
    if direct:
        good += direct
    else:
        through_aaa = [kinds[kind] for kind in _AAA_ACCOUNTING if kind in kinds]
        if not through_aaa:
            problems.append("no gw-accounting: call records never leave the router")
            remediation.append("gw-accounting syslog")
        else:
            line = through_aaa[0]
            method = line.first(r"method \S+")
            wanted = method.words[1] if method is not None else _DEFAULT_CONNECTION_LIST
            listed = _connection_lists(config).get(wanted)
            if listed is not None:
                good += [line, listed]
            else:
                named = f"list {wanted}" + ("" if method is not None else " (the default gw-accounting uses)")
                problems.append(
                    f"{line.command} (line {line.number}) has no 'aaa accounting connection' {named} that "
                    "records to a server group: call records go nowhere"
                )
                evidence.append(state.evidence(line))
                if method is not None:
                    evidence.append(state.evidence(method))
                remediation.append(f"aaa accounting connection {wanted} start-stop group {_radius_group(config)}")
    if problems:
        return failed("; ".join(problems), evidence, remediation, from_absence=True)
    return passed(
        "call history is kept: " + "; ".join(line.command for line in sorted(good, key=lambda l: l.number)),
        [state.evidence(line) for line in sorted(good, key=lambda l: l.number)],
    )
