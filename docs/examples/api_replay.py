"""Judge a saved snapshot again (no router needed), then read a saved report.json back."""

from cmelive import api

report = api.replay("snapshots/branch-7", name="branch-7", policy=api.load_policy("policy.yaml"))
print(f"{report.name}: {len(api.failures(report))} failures, {len(api.unknowns(report))} unknown")

saved = api.load_report("reports/report.json")  # as `cmelive audit --out reports` writes it
for device in saved.devices:
    print(device.name, device.status, [result.check for result in api.failures(device)])
