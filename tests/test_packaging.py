"""The source distribution holds everything the README points at, and the licence the metadata names."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib

from tests.conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SDIST_INCLUDES = PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]

# A relative link, or a path in backticks that names a file or directory of the repository.
_LINK = re.compile(r"\]\((?!https?:|#)([^)\s]+)\)")
_CODE_PATH = re.compile(r"`(?:python )?((?:bench|docs|fixtures|parsers|tests|src)/[\w./-]*)")


def readme_paths() -> set[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return {*_LINK.findall(text), *(path.rstrip("/.") for path in _CODE_PATH.findall(text))}


def shipped(path: str) -> bool:
    return any(path == entry or path.startswith(entry.rstrip("/") + "/") for entry in SDIST_INCLUDES)


def test_every_path_the_readme_names_exists_and_is_in_the_sdist() -> None:
    paths = readme_paths()
    assert {"inventory.example.yaml", "policy.example.yaml", "docs/checks.md", "bench/bench_memory.py"} <= paths
    missing = sorted(path for path in paths if not (REPO / path).exists())
    assert not missing, f"the README names paths that do not exist: {missing}"
    unshipped = sorted(path for path in paths if not shipped(path))
    assert not unshipped, f"the README names paths the sdist leaves out: {unshipped}"


def test_the_licence_file_is_the_one_the_metadata_names() -> None:
    assert PYPROJECT["project"]["license"] == {"text": "Apache-2.0"}
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "LICENSE" in SDIST_INCLUDES


# "name>=1.2" or "name[extra]>=1.2,<2" or "name==1.2" (a pin is its own lower bound); markers are not used here.
_REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[\w,]+\])?\s*(?:(>=|==)\s*([\w.]+))?")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _release(version: str) -> str:
    """``4.0`` and ``4.0.0`` are the same release (PEP 440): compare without trailing zeros."""
    return re.sub(r"(\.0)+$", "", version.strip())


def test_the_lowest_versions_ci_installs_are_the_lower_bounds_pyproject_declares() -> None:
    requirements = [*PYPROJECT["project"]["dependencies"], *PYPROJECT["project"]["optional-dependencies"]["test"]]
    bounds: dict[str, str] = {}
    for requirement in requirements:
        found = _REQUIREMENT.match(requirement)
        assert found is not None, requirement
        name, operator, version = found.groups()
        if operator is not None:
            bounds[_canonical(name)] = _release(version)
    pinned = {}
    for line in (REPO / ".ci" / "lowest-versions.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pinned[_canonical(name)] = _release(version)
    assert pinned == bounds


def test_the_help_names_no_python_types() -> None:
    """Flags take no value: no type after them; and no Python annotation (``list[Path]``) for a value."""
    for command in ("fleet", "archive", "audit", "replay", "history", "diff", "demo"):
        shown = subprocess.run(
            [sys.executable, "-m", "cmelive", command, "--help"], capture_output=True, text=True, check=True,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        ).stdout
        assert not re.search(r"<(?:bool|list\[\w+\])>", shown), (command, shown)
