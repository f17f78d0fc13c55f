"""Exit codes, in one place (documented in the README and in ``cmelive --help``)."""

from __future__ import annotations

from cmelive.errors import CmeliveError, DeviceError, HistoryFullError, InputError, UsageError, WriteError

OK = 0  # audited, nothing failed at or above --fail-on
FINDINGS = 1  # failures at or above --fail-on
BAD_INPUT = 2  # bad usage or bad input (a one-line message names the file/option)
DEVICE_UNAVAILABLE = 3  # a device not audited (DeviceReport.not_audited_reason); what was obtained is still written
WRITE_FAILED = 4  # an output could not be written (disk or quota full, I/O error); what was written is whole
INTERRUPTED = 130

HELP = (
    "Exit codes: 0 audited, nothing failed at or above --fail-on; 1 failures at or above "
    "--fail-on (0 with --exit-zero); 2 bad usage or bad input; 3 a device could not be audited (unreachable, refused, or "
    "its running-config not collected whole); 4 an output (report, snapshot, log, history) could not "
    "be written: disk full, quota, I/O error."
)


def exit_code_for(error: CmeliveError) -> int:
    if isinstance(error, (WriteError, HistoryFullError)):
        return WRITE_FAILED
    if isinstance(error, (UsageError, InputError)):
        return BAD_INPUT
    if isinstance(error, DeviceError):
        return DEVICE_UNAVAILABLE
    return BAD_INPUT
