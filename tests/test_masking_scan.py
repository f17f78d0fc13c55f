"""The masking pre-filter's scan for ``show capf-server auth-string`` rows finds what the plain
``^``-anchored regex finds, at the same offsets, on every text we hold and on edge cases."""

from __future__ import annotations

import pytest

from cmelive.masking import _MAC_ROW, _mac_row_starts

from .conftest import CORPUS, FIXTURES, REPO

EDGES = [
    "",
    "\n",
    "0011.2233.4455 1234",
    "001122334455 1234\n",
    "\n001122334455 1234",
    "  0011.2233.4455\t1234  \nSEP001122334455 99\n001122334455 12\n\n0011.2233.4455 1 2\n",
    "x\n001122334455 1234\r\n001122334455 5678\n0011.2233.4455 abc",
    "auth-string\n 0011.2233.445 1\n 0011.2233.44556 1\n 00112233445 1\n0011.2233.4455 \n",
    "\n\n001122334455 a\n001122334455 b\n001122334455 c",
]


def _texts() -> list[tuple[str, str]]:
    paths = sorted(FIXTURES.rglob("*.txt")) + sorted((REPO / "src" / "cmelive" / "examples").rglob("*.txt"))
    if CORPUS.is_dir():
        paths += sorted(CORPUS.glob("*.txt"))
    return [(str(path), path.read_text(encoding="utf-8", errors="replace")) for path in paths]


@pytest.mark.parametrize("text", EDGES, ids=repr)
def test_edge_cases(text: str) -> None:
    assert _mac_row_starts(text) == [found.start() for found in _MAC_ROW.finditer(text)]


def test_every_text_we_hold() -> None:
    texts = _texts()
    rows = 0
    for where, text in texts:
        expected = [found.start() for found in _MAC_ROW.finditer(text)]
        assert _mac_row_starts(text) == expected, where
        rows += len(expected)
    assert len(texts) > 400 and rows > 0
