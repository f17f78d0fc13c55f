"""DeviceState: what the checks see of one device — its snapshot, parsed, plus the site policy."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import cached_property
from typing import Any, TypeVar, cast

from cmelive.checks.base import Evidence
from cmelive.commands import NO_LIVE_STATE, RUNNING_CONFIG, CommandStatus
from cmelive.masking import mask_line
from cmelive.parsing import damage
from cmelive.parsing.damage import Damage, DamageKind, Reads
from cmelive.parsing.running_config import ConfigLine, RunningConfig, parse_running_config
from cmelive.parsing.tables import ParseError, parse_table
from cmelive.policy import Policy
from cmelive.snapshot import CommandOutput, Snapshot
from cmelive.ssh_session import SSH_SESSION, SshSession

Record = dict[str, Any]
# What a check on a whole config records: nothing (recording costs a little on every query).
_NOTHING_RECORDED: AbstractContextManager[Reads] = nullcontext(Reads())
Derived = TypeVar("Derived")


class DeviceState:
    """The parsed view of a snapshot. Parsing is lazy and cached: a check pays only for what it reads."""

    def __init__(self, snapshot: Snapshot, policy: Policy | None = None) -> None:
        self.snapshot = snapshot
        self.policy = policy or Policy()
        self._tables: dict[str, list[Record] | None] = {}
        self._derived: dict[Callable[[DeviceState], object], object] = {}
        # What each derived value read of a damaged running-config: a check that reuses the value
        # read it too, and its conclusions rest on it.
        self._derived_reads: dict[Callable[[DeviceState], object], Reads] = {}
        self.parse_errors: dict[str, str] = {}

    def output(self, command: str) -> CommandOutput:
        return self.snapshot.get(command)

    @property
    def ssh(self) -> SshSession | None:
        """What the SSH session showed at login; None for captures that did not record it."""
        return self.snapshot.ssh

    def requirement_unmet(self, source: str) -> str | None:
        """Why a check's required ``source`` (a command, or :data:`SSH_SESSION`) cannot be read; None when it can."""
        if source == SSH_SESSION:
            if self.snapshot.ssh is not None:
                return None
            if self.snapshot.source == "archive":
                return f"{NO_LIVE_STATE} (needs what the SSH session showed at login)"
            return (
                "needs what the SSH session showed at login (server version, offered algorithms, host key), "
                "which this snapshot does not hold (captures from files, or collected before cmelive recorded it): "
                "audit the router live to judge it"
            )
        out = self.output(source)
        if out.usable:
            return None
        return f"needs '{source}', which was {out.status}: {out.error or str(out.status)}"

    @cached_property
    def config(self) -> RunningConfig | None:
        """The running-config, or None when it was not collected or the router rejected it."""
        out = self.output(RUNNING_CONFIG)
        if not out.usable:
            return None
        parsed = parse_running_config(out.text)
        seen = {item.kind for item in parsed.damage}
        if out.status == CommandStatus.TRUNCATED and not seen & {
            DamageKind.CUT_TAIL, DamageKind.PAGER, DamageKind.TEXT_AFTER_END
        }:
            # The collector saw the output stop short, yet the parser found it whole: where it
            # stopped is unknown. (A cut tail, pager debris and text after "end", which is what the
            # collector's reading of the same text calls truncated, are placed by the parser.)
            parsed.add_damage(
                Damage(
                    kind=DamageKind.CUT_TAIL,
                    summary="cut off in collection",
                    detail=out.error or "collection reported the output as cut off",
                    everything=True,
                )
            )
        return parsed

    @cached_property
    def config_damaged(self) -> bool:
        """True when the running-config has damage that can hide configuration."""
        config = self.config
        return config is not None and not config.complete

    def config_reads(self) -> AbstractContextManager[Reads]:
        """Record the running-config queries made in the block (only when the config is damaged:
        on a whole config no conclusion needs them, and recording costs a little on every query)."""
        if not self.config_damaged:
            return _NOTHING_RECORDED
        return damage.recording()

    def damage_under(self, reads: Reads, within: tuple[int, ...] = (), *, settled: bool = False) -> list[Damage]:
        """The running-config's damage that could have answered one of ``reads``' queries otherwise.

        With ``within`` (first lines of sections), only the sub-mode queries into those sections
        count; a ``settled`` conclusion only fears damage that leaves nothing vouched for.
        """
        config = self.config
        if config is None or config.complete:
            return []
        doubtful = [item for item in config.damage if item.everything]
        if settled:
            return doubtful
        if within:
            narrowed = config.touched_by(_within(config, reads, within))
            return narrowed + [item for item in doubtful if item not in narrowed]
        return config.touched_by(reads)

    def records(self, command: str) -> list[Record] | None:
        """TextFSM records of ``command``'s output; None when absent, rejected or unparsable."""
        if command not in self._tables:
            out = self.output(command)
            table: list[Record] | None = None
            if out.usable:
                try:
                    table = parse_table(command, out.text)
                except ParseError as exc:
                    self.parse_errors[command] = str(exc)
            self._tables[command] = table
        return self._tables[command]

    def derived(self, build: Callable[[DeviceState], Derived]) -> Derived:
        """``build(self)``, computed on the first call and kept for the rest of this device's audit.

        For what several checks derive from the same evidence (registered phones, interfaces, WAN
        interfaces, ACLs, dial-peers...): without it each check would rebuild it. ``build`` is the
        key, so it must be a module-level function that reads nothing but this state (its snapshot,
        parsed outputs and policy), and the value it returns is shared by every caller: it must be
        immutable (a tuple, a frozen dataclass), never a list a caller might change. An exception
        is not kept: the next caller runs ``build`` again and gets it too.
        """
        if build not in self._derived:
            if self.config_damaged:
                with damage.recording() as reads:
                    value = build(self)
                self._derived_reads[build] = reads
            else:
                value = build(self)
            self._derived[build] = value
        elif build in self._derived_reads:
            damage.replay(self._derived_reads[build])
        return cast(Derived, self._derived[build])

    def unavailable_reason(self, command: str) -> str:
        """Why ``records(command)`` is None: the router's answer, or the parser's complaint."""
        out = self.output(command)
        if not out.usable:
            return f"'{command}' was {out.status}: {out.error or 'no output'}"
        return f"'{command}' could not be parsed: {self.parse_errors.get(command, 'no template matched')}"

    def source_complete(self, command: str) -> bool:
        """False when ``command``'s output is known to be cut off, or damaged where it could hide lines."""
        if command == SSH_SESSION:
            return self.snapshot.ssh is not None
        if command == RUNNING_CONFIG:
            config = self.config
            return config is not None and config.complete
        return self.output(command).status == CommandStatus.OK

    def evidence(self, line: ConfigLine, command: str = RUNNING_CONFIG) -> Evidence:
        """Evidence for a config line: its number and its masked text."""
        return Evidence(command, line.number, mask_line(line.text.strip()))

    def evidence_text(self, command: str, number: int | None, text: str) -> Evidence:
        return Evidence(command, number, mask_line(text.strip()))

    def find_line(self, command: str, needle: str) -> Evidence | None:
        """Evidence for the first line of ``command``'s output containing ``needle``."""
        for number, line in enumerate(self.output(command).text.split("\n"), start=1):
            if needle in line:
                return self.evidence_text(command, number, line)
        return None


def _within(config: RunningConfig, reads: Reads, within: tuple[int, ...]) -> Reads:
    """The sub-mode queries of ``reads`` asked of lines inside the sections starting at ``within``."""
    starts = sorted(root.number for root in config.roots)
    wanted = set(within)

    def section(number: int) -> int | None:
        position = bisect.bisect_right(starts, number) - 1
        return starts[position] if position >= 0 else None

    return Reads(children=[(number, pattern) for number, pattern in reads.children if section(number) in wanted])
