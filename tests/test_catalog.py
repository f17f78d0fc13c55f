"""Meta-tests over the catalog: ids, severities and families match ../shared/practices.md; docs are fresh."""

from __future__ import annotations

import re

import pytest

from cmelive.checks import all_checks
from cmelive.checks.docs import render_checks_markdown
from cmelive.cli.catalog import explanation
from cmelive.commands import AUDIT_COMMANDS, RUNNING_CONFIG
from cmelive.parsing.tables import ParseError, parse_table
from cmelive.ssh_session import SSH_SESSION

from .conftest import CORPUS, REPO

PRACTICES = CORPUS.parent / "practices.md"
ROW = re.compile(r"^\|\s*(CME-[A-Z0-9]+-\d{2})\s*\|\s*(\w+)\s*\|")


def catalog_rows() -> dict[str, str]:
    if not PRACTICES.is_file():
        pytest.skip(f"catalog not present at {PRACTICES}")
    rows = {}
    for line in PRACTICES.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def test_every_catalog_row_has_a_check() -> None:
    registered = {spec.id for spec in all_checks()}
    assert sorted(set(catalog_rows()) - registered) == []


def test_every_check_is_a_catalog_row_with_its_severity() -> None:
    rows = catalog_rows()
    for spec in all_checks():
        assert spec.id in rows, f"{spec.id} is not in the catalog"
        assert str(spec.severity) == rows[spec.id], spec.id
        assert spec.family == spec.id.split("-")[1]


def test_every_check_documents_itself() -> None:
    for spec in all_checks():
        for field in (spec.title, spec.reference, spec.rationale, spec.passes_when):
            assert field.strip(), spec.id
        assert spec.requires, spec.id
        assert spec.remediation_example, spec.id
        # Evidence sources: the commands an audit sends, and what the SSH session showed at login.
        assert set(spec.requires) | set(spec.uses) <= {*AUDIT_COMMANDS, SSH_SESSION}, spec.id
        assert spec.id in explanation(spec)


def test_every_required_command_has_a_parser() -> None:
    for spec in all_checks():
        for command in (*spec.requires, *spec.uses):
            if command in (RUNNING_CONFIG, SSH_SESSION):
                continue  # parsed by cmelive.parsing.running_config / recorded structured, not TextFSM
            try:
                parse_table(command, "")
            except ParseError as exc:
                assert "no template" not in str(exc), f"{spec.id}: {exc}"


def test_generated_docs_are_fresh() -> None:
    committed = (REPO / "docs" / "checks.md").read_text(encoding="utf-8")
    assert committed == render_checks_markdown(), "docs/checks.md is stale: run `cmelive checks --markdown > docs/checks.md`"
