"""Audit one router live, print its high and critical failures, write every report format."""

import os
import sys

from cmelive import api

try:
    report = api.audit(
        os.environ["ROUTER"],  # an address, or a host name from your ssh_config
        port=int(os.environ.get("ROUTER_PORT", "22")),
        username=os.environ.get("ROUTER_USERNAME", "auditor"),
        password=os.environ["CMELIVE_PASSWORD"],  # held in memory only: never logged or written
        enable_secret=os.environ.get("CMELIVE_ENABLE_SECRET"),  # if the login lands in user EXEC
        known_hosts=["known_hosts"],  # the router's host key must be in it
    )
except api.DeviceError as error:  # unreachable, login or host key refused
    sys.exit(f"not audited: {error}")

for result in api.failures(report, at_or_above=api.Severity.HIGH):
    print(f"{result.check:12} {result.severity:8} {result.title}")
api.write_reports(report, "reports")  # report.txt, .json, .csv, .sarif, .junit.xml, .html
