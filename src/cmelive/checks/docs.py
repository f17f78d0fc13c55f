"""docs/checks.md, generated from the registry (a test fails when the committed file is stale)."""

from __future__ import annotations

from itertools import groupby

from cmelive.checks import all_checks

HEADER = (
    "# cmelive checks\n\n"
    "Generated from the check registry by `cmelive checks --markdown > docs/checks.md`; "
    "do not edit by hand.\n"
)


def render_checks_markdown() -> str:
    specs = sorted(all_checks(), key=lambda s: (s.family, s.id))
    parts = [HEADER]
    for family, members in groupby(specs, key=lambda s: s.family):
        parts.append(f"\n## {family}\n")
        for spec in members:
            parts.append(f"\n### {spec.id}: {spec.title}\n")
            parts.append(f"\n*Severity:* {spec.severity} · *Reads:* {', '.join(f'`{c}`' for c in (*spec.requires, *spec.uses))}"
                         f" · *Guide:* {spec.reference}\n")
            parts.append(f"\n**What it checks.** {' '.join(spec.passes_when.split())}\n")
            parts.append(f"\n**Why it matters.** {' '.join(spec.rationale.split())}\n")
            if spec.example_evidence:
                parts.append("\n**Example evidence.**\n\n```\n" + "\n".join(spec.example_evidence) + "\n```\n")
            if spec.remediation_example:
                parts.append(
                    "\n**Remediation** (a report fills in the device's own names).\n\n```\n"
                    + "\n".join(spec.remediation_example)
                    + "\n```\n"
                )
    return "".join(parts)
