"""CPU of judging one device, phase by phase, now against a baseline revision, in one run.

Run: ``python bench/bench_judge.py`` (about two minutes; ``--help`` for the knobs, ``--baseline
none`` to time this checkout alone).

What a fleet's judge process does per device (:func:`cmelive.judging.judge`), timed phase by
phase on the three bundled examples (``secure-cme``, ``insecure-cme``, ``plain-ios``: the fake
fleet's routers serve them in turn):

- ``snapshot``: :func:`~cmelive.snapshot.write_snapshot` masked, into a new directory of a scratch
  directory (files created, fsync'd and renamed);
- ``audit``: :func:`~cmelive.audit.audit_snapshot`, and inside it, timed apart on the same
  snapshot: ``config`` (:func:`~cmelive.parsing.running_config.parse_running_config`) and
  ``tables`` (:func:`~cmelive.parsing.tables.parse_table` of every other output);
- ``parts``: :func:`~cmelive.judging.render_parts` (the device's part of the five reports);
- ``rows``: :func:`~cmelive.history.device_rows`;
- ``pickle`` / ``unpickle``: the verdict crossing to the fleet process (the second is paid there);
- ``judge``: :func:`~cmelive.judging.judge` whole (snapshot, audit, waivers, parts, rows).

Every figure is CPU time of the timing thread (``time.thread_time``: the kernel's share of an
``fsync`` included), the median of ``--repetitions`` after one untimed warm-up per example; each
side runs in a fresh interpreter (``PYTHONPATH`` set to its ``src``) ``--rounds`` times, the sides
taking turns (which goes first alternating), and each figure is the median over its side's
rounds: a burst of load from another process lands on one round of one side. The machine is
shared: read the ratios, measured in the same run, rather than the absolute figures. The judge
processes' garbage-collector settings (:func:`cmelive.judging._worker_started`) are not applied
here: both sides run with Python's defaults.

The baseline is the package as it was at ``--baseline`` (default :data:`BASELINE_REVISION`),
taken out of git (``git archive`` of ``src`` and ``parsers``). Both sides hash what each example's
judging gave (the report's JSON, the five report parts, the history rows) and the run fails if a
hash differs from the baseline's: the speed-up is never bought with a different result. Before
timing, each side also audits every snapshot of ``fixtures/`` (check fixtures, damage, real
captures), every config of the shared corpus (paired with a capture of each other command, as
``tests/test_corpus_audit.py`` pairs them) and every corpus capture alone, and masks every file
of them: each report's JSON and each masked text is hashed, and any difference from the
baseline's fails the run (``--no-verify`` skips it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from baseline import export_source  # bench/ is on sys.path when a bench runs as a script

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = ("secure-cme", "insecure-cme", "plain-ios")
#: The revision before issue 13's cheaper judging (the judge of the fleet-table measurements).
BASELINE_REVISION = "534bf0c"
PHASES = ("snapshot", "audit", "config", "tables", "parts", "rows", "pickle", "unpickle", "judge")
#: Phases that are part of another one (shown, not added up).
INSIDE = {"config": "audit", "tables": "audit", "pickle": "", "unpickle": ""}


# --- worker: runs inside the interpreter of one side ---------------------------------------------


def _worker(repetitions: int, scratch: Path) -> dict[str, Any]:
    import pickle
    import time
    from datetime import date

    import cmelive
    from cmelive.audit import audit_snapshot
    from cmelive.commands import RUNNING_CONFIG
    from cmelive.history import device_rows
    from cmelive.inventory import InventoryHost
    from cmelive.judging import JudgeJob, judge, render_parts
    from cmelive.parsing.running_config import parse_running_config
    from cmelive.parsing.tables import ParseError, parse_table
    from cmelive.policy import Policy
    from cmelive.snapshot import read_snapshot, write_snapshot

    today = date(2026, 12, 4)
    policy = Policy()
    counter = [0]

    def new_dir() -> Path:
        counter[0] += 1
        return scratch / f"device-{counter[0]}"

    def job(name: str, snapshot: Any) -> Any:
        return JudgeJob(
            host=InventoryHost(name=name, address="127.0.0.1"), snapshot=snapshot, error=None, policy=policy,
            waivers=(), today=today, snapshot_dir=new_dir(), snapshots_dir="snapshots", anchor=f"device-{name}",
        )  # fmt: skip

    def tables(snapshot: Any) -> None:
        for command, output in snapshot.outputs.items():
            if command != RUNNING_CONFIG and output.usable:
                try:
                    parse_table(command, output.text)
                except ParseError:
                    pass

    clock = time.thread_time
    examples: dict[str, Any] = {}
    for name in EXAMPLES:
        snapshot = read_snapshot(REPO / "src" / "cmelive" / "examples" / name)
        config_text = snapshot.outputs[RUNNING_CONFIG].text
        verdict = judge(job(name, snapshot))  # warm-up: templates compiled, modules imported
        assert verdict.parts is not None and verdict.history_rows is not None, verdict.errors
        report = verdict.report
        digest = hashlib.sha256()
        digest.update(json.dumps(report.to_dict(), sort_keys=True).encode())
        parts = verdict.parts
        for text in (parts.json, parts.csv, parts.sarif, parts.junit, repr(parts.html)):
            digest.update(text.encode())
        digest.update(repr(verdict.history_rows).encode())
        times: dict[str, list[float]] = {phase: [] for phase in PHASES}
        for _ in range(repetitions):
            start = clock()
            write_snapshot(snapshot, new_dir(), mask=True)
            times["snapshot"].append(clock() - start)
            start = clock()
            audited = audit_snapshot(snapshot, policy, name=name)
            times["audit"].append(clock() - start)
            start = clock()
            parse_running_config(config_text)
            times["config"].append(clock() - start)
            start = clock()
            tables(snapshot)
            times["tables"].append(clock() - start)
            start = clock()
            render_parts(audited, snapshots_dir="snapshots", device_dir=name, anchor=f"device-{name}", today=today)
            times["parts"].append(clock() - start)
            start = clock()
            device_rows(audited)
            times["rows"].append(clock() - start)
            start = clock()
            verdict = judge(job(name, snapshot))
            times["judge"].append(clock() - start)
            start = clock()
            data = pickle.dumps(verdict)
            times["pickle"].append(clock() - start)
            start = clock()
            pickle.loads(data)
            times["unpickle"].append(clock() - start)
        examples[name] = {phase: statistics.median(values) for phase, values in times.items()}
        examples[name]["kB"] = len(data) / 1000
        examples[name]["hash"] = digest.hexdigest()
    return {"module": cmelive.__file__, "examples": examples}


def _verify_worker(scratch: Path) -> dict[str, str]:
    """name -> hash of what this side makes of every input we hold (see the module docstring)."""
    import shutil

    from cmelive.audit import audit_snapshot
    from cmelive.commands import AUDIT_COMMANDS, RUNNING_CONFIG, file_name
    from cmelive.errors import CmeliveError
    from cmelive.masking import scrub
    from cmelive.snapshot import read_snapshot

    def digest(value: Any) -> str:
        return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()

    def audited(directory: Path) -> str:
        try:
            return digest(audit_snapshot(read_snapshot(directory)).to_dict())
        except CmeliveError as exc:
            return f"error: {exc}"

    hashes: dict[str, str] = {}
    directories = sorted({path.parent for path in (REPO / "fixtures").rglob("*.txt")})
    for directory in directories:
        hashes[f"audit {directory.relative_to(REPO)}"] = audited(directory)
    for path in sorted((REPO / "fixtures").rglob("*.txt")):
        hashes[f"mask {path.relative_to(REPO)}"] = digest(scrub(path.read_text(encoding="utf-8", errors="replace")))
    corpus = REPO.parent / "shared" / "corpus"
    if corpus.is_dir():
        stems = {file_name(c)[: -len(".txt")] for c in AUDIT_COMMANDS if c != RUNNING_CONFIG}
        paired = {stem: sorted(corpus.glob(f"{stem}__*.txt")) for stem in stems}
        for config in sorted(corpus.glob("running_config*.txt")):
            case = scratch / f"config-{config.stem}"
            case.mkdir(parents=True)
            shutil.copy(config, case / file_name(RUNNING_CONFIG))
            for stem, found in paired.items():
                if found:
                    shutil.copy(found[0], case / f"{stem}.txt")
            hashes[f"audit corpus {config.name} (paired)"] = audited(case)
        for stem, found in paired.items():
            for capture in found:
                case = scratch / f"capture-{capture.stem}"
                case.mkdir(parents=True)
                shutil.copy(capture, case / f"{stem}.txt")
                hashes[f"audit corpus {capture.name}"] = audited(case)
        for path in sorted(corpus.glob("*.txt")):
            hashes[f"mask corpus {path.name}"] = digest(scrub(path.read_text(encoding="utf-8", errors="replace")))
    return hashes


def _verify(baseline_source: Path, scratch: Path) -> int:
    """Run the verification on both sides; the number of inputs compared (exits on a difference)."""
    sides = {}
    for label, source in (("baseline", baseline_source), ("now", REPO / "src")):
        env = dict(os.environ, PYTHONPATH=str(source))
        command = [sys.executable, str(Path(__file__).resolve()), "--verify-worker", "--scratch", str(scratch / label)]
        proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"the verification for {source} failed:\n{proc.stderr}")
        sides[label] = json.loads(proc.stdout)
    if sides["baseline"].keys() != sides["now"].keys():
        raise SystemExit("the two sides verified different inputs")
    differ = [name for name, value in sides["now"].items() if sides["baseline"][name] != value]
    if differ:
        shown = "\n  ".join(differ[:20])
        raise SystemExit(f"RESULTS DIFFER from the baseline's on {len(differ)} inputs:\n  {shown}")
    return len(sides["now"])


# --- driver ---------------------------------------------------------------------------------------


def _combine(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    combined: dict[str, Any] = {}
    for name in EXAMPLES:
        results = [r["examples"][name] for r in rounds]
        hashes = {result["hash"] for result in results}
        if len(hashes) != 1:
            raise SystemExit(f"{name}: the same code judged differently in different rounds")
        combined[name] = {key: statistics.median(result[key] for result in results) for key in (*PHASES, "kB")}
        combined[name]["hash"] = hashes.pop()
    return combined


def _run_side(source: Path, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(source))
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--repetitions", str(args.repetitions),
               "--scratch", str(scratch)]  # fmt: skip
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the worker for {source} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout)
    if not Path(result["module"]).resolve().is_relative_to(source.resolve()):
        raise SystemExit(f"the worker for {source} imported cmelive from {result['module']}")
    return result


def _mean(side: dict[str, Any], key: str) -> float:
    return statistics.fmean(side[name][key] for name in EXAMPLES)


def _print_table(baseline: dict[str, Any] | None, now: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"CPU ms per device: median of {args.repetitions} after a warm-up, median over {args.rounds} rounds per side; "
        "'mean' is a fleet serving the three in turn"
    )
    head = f"{'phase':<10}" + "".join(f"{name:>22}" for name in (*EXAMPLES, "mean"))
    print(head)
    print(f"{'':<10}" + "".join(f"{'before  now  ratio':>22}" if baseline else f"{'now':>22}" for _ in range(4)))
    for phase in (*PHASES, "kB"):
        label = f"  {phase}" if INSIDE.get(phase) else phase
        row = f"{label:<10}"
        for name in (*EXAMPLES, "mean"):
            current = _mean(now, phase) if name == "mean" else now[name][phase]
            scale = 1 if phase == "kB" else 1000
            if baseline is None:
                row += f"{current * scale:>22.2f}"
                continue
            before = _mean(baseline, phase) if name == "mean" else baseline[name][phase]
            ratio = current / before if before else float("nan")
            row += f"{before * scale:>9.2f}{current * scale:>7.2f}{ratio:>6.2f}"
        print(row)
    print("(config and tables are inside audit; pickle is the judge's, unpickle the fleet process's; kB: the verdict)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repetitions", type=int, default=40, help="timed judgings per example, side and round")
    parser.add_argument("--rounds", type=int, default=4, help="turns each side takes, alternating")
    parser.add_argument("--baseline", default=BASELINE_REVISION, help="git revision to compare with, or 'none'")
    parser.add_argument("--no-verify", action="store_true", help="skip comparing results on every input we hold")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--verify-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.repetitions, args.scratch)))
        return 0
    if args.verify_worker:
        print(json.dumps(_verify_worker(args.scratch)))
        return 0
    baseline_rounds: list[dict[str, Any]] = []
    now_rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-judge-") as scratch_name:
        scratch = Path(scratch_name)
        baseline_source = None
        if args.baseline != "none":
            print(f"baseline: {args.baseline[:12]} (git archive), now: {REPO / 'src'}", flush=True)
            baseline_source = export_source(args.baseline, scratch)
            if not args.no_verify:
                compared = _verify(baseline_source, scratch / "verify")
                print(f"results: identical to the baseline's on all {compared} inputs (audits and masking)", flush=True)
        for turn in range(args.rounds):
            with tempfile.TemporaryDirectory(dir=scratch) as round_dir:
                # The side that goes first changes every round: a machine getting busier or quieter
                # during the run favours neither.
                first_now = turn % 2 == 1
                if first_now or baseline_source is None:
                    now_rounds.append(_run_side(REPO / "src", args, Path(round_dir) / "now"))
                if baseline_source is not None:
                    baseline_rounds.append(_run_side(baseline_source, args, Path(round_dir) / "baseline"))
                    if not first_now:
                        now_rounds.append(_run_side(REPO / "src", args, Path(round_dir) / "now"))
            print(f"round {turn + 1} of {args.rounds} done", flush=True)
    baseline = _combine(baseline_rounds) if baseline_rounds else None
    now = _combine(now_rounds)
    _print_table(baseline, now, args)
    if baseline is not None:
        differ = [name for name in EXAMPLES if baseline[name]["hash"] != now[name]["hash"]]
        if differ:
            print(f"RESULTS DIFFER from the baseline's for: {', '.join(differ)}")
            return 1
        print("results: the report, its five parts and its history rows identical to the baseline's for all three")
    return 0


if __name__ == "__main__":
    sys.exit(main())
