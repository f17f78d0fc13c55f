"""Shared test helpers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .report_schema import validate_reports_under

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not present at {CORPUS}")
    return CORPUS


# -- every report.json the tests write matches the shipped JSON Schema (tests/report_schema.py) ---

_SEEN_REPORT_FILES: set[tuple[str, int, int]] = set()
_SCANNED_TEST_DIRS: set[Path] = set()
_VALIDATED: list[int] = []  # reports validated, per scan (the session's summary line)
_SCAN_SECONDS: list[float] = []


def _scan(root: Path) -> None:
    started = time.perf_counter()
    try:
        _VALIDATED.append(validate_reports_under(root, _SEEN_REPORT_FILES))
    finally:
        _SCAN_SECONDS.append(time.perf_counter() - started)


@pytest.fixture(autouse=True)
def _reports_of_the_test_match_the_schema(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used ``tmp_path``: its reports, validated (a failure is a teardown error)."""
    yield
    tmp = (getattr(request.node, "funcargs", None) or {}).get("tmp_path")
    if isinstance(tmp, Path) and tmp.is_dir():
        _SCANNED_TEST_DIRS.add(tmp)
        _scan(tmp)


@pytest.fixture(scope="module", autouse=True)
def _reports_of_module_fixtures_match_the_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module fixtures write their run directories with ``tmp_path_factory``: validated at the end."""
    base = tmp_path_factory.getbasetemp()
    before = set(base.iterdir())
    yield
    for directory in sorted(set(base.iterdir()) - before - _SCANNED_TEST_DIRS):
        if directory.is_dir() and not directory.is_symlink():
            _scan(directory)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if sum(_VALIDATED):
        terminalreporter.write_line(
            f"{sum(_VALIDATED)} reports validated against report.schema.json ({sum(_SCAN_SECONDS):.1f}s)"
        )
