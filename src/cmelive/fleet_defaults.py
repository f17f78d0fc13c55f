"""A fleet run's defaults and the layout of its run directory.

Apart from :mod:`cmelive.fleet` so that the CLI can show them in its help without loading the
runner (its judges, reports and history): every cmelive command starts by reading every option.
"""

from __future__ import annotations

DEFAULT_WORKERS = 20
DEFAULT_RETRIES = 1

SNAPSHOTS_DIR = "snapshots"
#: The run's log file, which ``cmelive fleet`` writes in the run directory.
LOG_FILE = "cmelive.log"
REPORT_FILES: dict[str, str] = {
    "json": "report.json",
    "csv": "report.csv",
    "sarif": "report.sarif",
    "junit": "report.junit.xml",
    "html": "report.html",
}

__all__ = ["DEFAULT_RETRIES", "DEFAULT_WORKERS", "LOG_FILE", "REPORT_FILES", "SNAPSHOTS_DIR"]
