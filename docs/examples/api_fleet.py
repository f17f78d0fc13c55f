"""Audit every router of an inventory, 8 at a time, into a new run directory."""

from datetime import datetime

from cmelive import api

result = api.run_fleet(
    "inventory.yaml",  # credentials by reference: environment variables or keyring entries
    out_dir=f"runs/{datetime.now():%Y-%m-%d-%H%M%S}",
    workers=8,
    history="history.sqlite",  # what `cmelive history` and `cmelive diff --db` read
)
for device in result.report.devices:
    print(f"{device.name:16} {device.status:8} {len(api.failures(device))} failures")
print("HTML report:", result.files["html"])
