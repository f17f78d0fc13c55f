"""Audit the Cisco IOS hosts of a Nornir inventory with cmelive, as a Nornir task."""

from nornir import InitNornir

from cmelive import api
from cmelive.nornir import audit

nr = InitNornir(config_file="config.yaml")
results = nr.filter(platform="cisco_ios").run(task=audit, known_hosts=["known_hosts"])
for name, host_results in results.items():
    report = host_results[0].result  # the host's cmelive DeviceReport
    if host_results.failed:
        print(f"{name}: not audited: {report.not_audited_reason()}")
    else:
        high = api.failures(report, at_or_above=api.Severity.HIGH)
        print(f"{name}: {' '.join(result.check for result in high) or 'no high or critical failure'}")
