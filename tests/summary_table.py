"""Reading back the fleet's summary table, whose long names and notes wrap within their columns."""

from __future__ import annotations


def table_rows(stdout: str) -> dict[str, str]:
    """Device name -> its row as one line (``name status crit high med low info waived note``),
    the continuation lines of a wrapped name or note joined back, in the table's order.

    A row starts on a line whose STATUS column is not blank; the lines under it until the next
    such line carry what did not fit. A folded name is joined as it was cut, a wrapped note with
    the blank it was wrapped at."""
    lines = stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("DEVICE"))
    header = lines[start]
    status_at, note_at = header.index("STATUS"), header.index("NOTE")
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        if line[status_at:note_at].strip():
            rows.append([line])
        else:
            assert rows, f"a continuation line before any row: {line!r}"
            rows[-1].append(line)
    table: dict[str, str] = {}
    for row in rows:
        name = "".join(line[:status_at].strip() for line in row)
        note = " ".join(part for part in (line[note_at:].strip() for line in row) if part)
        table[name] = " ".join(part for part in (name, row[0][status_at:note_at].strip(), note) if part)
    return table
