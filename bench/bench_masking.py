"""CPU cost of the outbound boundary (secret masking and control neutralising), now against a baseline.

Run: ``python bench/bench_masking.py`` (about half a minute; ``--baseline REV`` to compare with
another revision, ``--baseline none`` to time this checkout alone).

Masking runs on every snapshot a fleet keeps, in its judges, and on every report the model
builds. This times, in CPU time of one thread, the text function the snapshot writer applies to
each output (``masking.scrub`` where it exists, else ``masking.mask_text``) over:

- ``examples``: every output of the three bundled example snapshots (90 KB);
- ``big-config``: a 200 KB running-config made of the examples' configs repeated, with a secret
  of each kind every few hundred lines (the shape of a large branch router);
- ``write_snapshot``: the whole masked writer (``write_snapshot(..., mask=True)``) of the three
  examples into a temporary directory, files and all.

Both sides run in fresh interpreters on the same inputs, ``--rounds`` times in turn; each figure
is the median over rounds of each round's median of ``--repetitions`` runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from baseline import export_source  # bench/ is on sys.path when a bench runs as a script

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = ("secure-cme", "insecure-cme", "plain-ios")
#: The revision before the outbound boundary (issue 10 §2).
BASELINE_REVISION = "2066e48"
_SECRETS = (
    "enable secret 9 $9$abcdefghijklmn$opqrstuvwxyz0123456789",
    "username joe privilege 15 password 0 two words here",
    " password 7 0822455D0A16",
    "snmp-server community s3cret RO 10",
    "tacacs-server key two words",
    " key-string 7 0822455D0A16",
    " ip ospf message-digest-key 1 md5 7 0822455D0A16",
    " standby 1 authentication md5 key-string s3cret",
)


def _time(function: Callable[[], object], repetitions: int) -> float:
    times = []
    for _ in range(repetitions):
        start = time.thread_time()
        function()
        times.append(time.thread_time() - start)
    return statistics.median(times)


def _worker(repetitions: int) -> dict[str, Any]:
    import cmelive
    from cmelive import masking
    from cmelive.snapshot import read_snapshot, write_snapshot

    boundary: Callable[[str], str] = getattr(masking, "scrub", None) or masking.mask_text
    snapshots = [read_snapshot(REPO / "src" / "cmelive" / "examples" / name) for name in EXAMPLES]
    texts = [out.text for snapshot in snapshots for out in snapshot.outputs.values()]
    configs = [snapshot.get("show running-config").text for snapshot in snapshots]
    lines: list[str] = []
    while sum(len(line) + 1 for line in lines) < 200_000:
        for config in configs:
            lines += config.split("\n")
            lines += list(_SECRETS)
    big = "\n".join(lines)
    figures = {
        "examples": _time(lambda: [boundary(text) for text in texts], repetitions),
        "big-config": _time(lambda: boundary(big), repetitions),
    }
    with tempfile.TemporaryDirectory(prefix="bench-masking-") as scratch:
        root = Path(scratch)
        figures["write_snapshot"] = _time(
            lambda: [write_snapshot(s, root / str(i), mask=True) for i, s in enumerate(snapshots)], repetitions
        )
    return {"module": cmelive.__file__, "function": boundary.__name__, "figures": figures,
            "sizes": {"examples": sum(map(len, texts)), "big-config": len(big)}}


def _run_side(source: Path, repetitions: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", "--repetitions", str(repetitions)],
        env={"PYTHONPATH": str(source), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the worker for {source} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout)
    if not Path(result["module"]).resolve().is_relative_to(source.resolve()):
        raise SystemExit(f"the worker for {source} imported cmelive from {result['module']}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repetitions", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", default=BASELINE_REVISION, help="git revision to compare with, or 'none'")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.repetitions)))
        return 0
    sides: dict[str, list[dict[str, Any]]] = {"now": []}
    with tempfile.TemporaryDirectory(prefix="bench-masking-") as scratch:
        sources = {"now": REPO / "src"}
        if args.baseline != "none":
            sources = {"baseline": export_source(args.baseline, Path(scratch)), **sources}
            sides = {"baseline": [], **sides}
        for _ in range(args.rounds):
            for side, source in sources.items():
                sides[side].append(_run_side(source, args.repetitions))
    first = sides["now"][0]
    print(f"CPU time per run (ms), median of {args.rounds} rounds x {args.repetitions}; "
          f"sizes: examples {first['sizes']['examples']} chars, big-config {first['sizes']['big-config']} chars")
    print(f"{'':<16}" + "".join(f"{side + ' (' + runs[0]['function'] + ')':>28}" for side, runs in sides.items()))
    for figure in first["figures"]:
        row = f"{figure:<16}"
        values = [statistics.median(run["figures"][figure] for run in runs) for runs in sides.values()]
        row += "".join(f"{value * 1000:>28.2f}" for value in values)
        if len(values) == 2:
            row += f"   now/baseline {values[1] / values[0]:.2f}x"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
