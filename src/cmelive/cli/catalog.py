"""``cmelive checks`` and ``cmelive explain ID``: the catalog, explained by the registry itself."""

from __future__ import annotations

import textwrap
from typing import Annotated

import typer

from cmelive.checks import all_checks, get_check
from cmelive.checks.base import CheckSpec
from cmelive.checks.docs import render_checks_markdown
from cmelive.errors import UsageError


def checks(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/checks.md instead of a table.")] = False,
) -> None:
    """List every check: id, severity, family, title."""
    if markdown:
        typer.echo(render_checks_markdown(), nl=False)
        return
    for spec in all_checks():
        typer.echo(f"{spec.id:<13} {spec.severity:<9} {spec.family:<5} {spec.title}")


def explain(check_id: Annotated[str, typer.Argument(help="A check id, e.g. CME-GUI-06.")]) -> None:
    """Explain one check: what it checks, why, the pass condition, evidence, remediation, guide section."""
    spec = get_check(check_id)
    if spec is None:
        raise UsageError(f"no check {check_id!r}; `cmelive checks` lists them")
    typer.echo(explanation(spec))


def explanation(spec: CheckSpec, width: int = 80) -> str:
    def para(text: str) -> str:
        return textwrap.fill(" ".join(text.split()), width=width, initial_indent="  ", subsequent_indent="  ")

    parts = [
        f"{spec.id} ({spec.severity}, {spec.family}): {spec.title}",
        "",
        "What it checks:",
        para(spec.passes_when),
        "",
        "Why it matters:",
        para(spec.rationale),
        "",
        "Reads: " + ", ".join((*spec.requires, *spec.uses)),
    ]
    if spec.example_evidence:
        parts += ["", "Example evidence:"] + [f"  {line}" for line in spec.example_evidence]
    if spec.remediation_example:
        parts += ["", "Remediation (filled with the device's own names in a report):"]
        parts += [f"  {line}" for line in spec.remediation_example]
    parts += ["", f"Guide: {spec.reference}"]
    return "\n".join(parts)
