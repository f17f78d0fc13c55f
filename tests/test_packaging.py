"""The source distribution holds everything the README points at, and the licence the metadata names."""

from __future__ import annotations

import re
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
