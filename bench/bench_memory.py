"""Peak memory and time of collecting a huge running-config, against its size (issue 11).

Run: ``python bench/bench_memory.py [--sizes 10,100] [--audit] [--keep]``

For each size (MB, 10^6 bytes) a running-config of that size is made (the bundled ``secure-cme``
example with interface blocks added before its ``end``) and served by a fake router in this
process. ``cmelive collect`` then runs against it in a child process, as a user runs it:

1. with ``--max-output`` raised above the size, so the whole config is collected (status ``ok``);
2. at the default limits, where the config is cut off at ``--max-output`` (``truncated``);

and, for reference, against the example itself (36 kB): the CLI's own footprint (Python,
paramiko, netmiko, cmelive). Each line gives the child's wall time, its peak RSS, what the
config added to the reference footprint, and that divided by the size of the output kept: the
collector's memory per byte of output. ``--audit`` also runs ``cmelive audit`` (collection,
parsing, every check) at the default limits, whose memory is mostly parsing's. Nothing leaves
127.0.0.1.

The peak RSS is the child's ``VmHWM`` (``/proc/self/status``), written by the child as it exits:
not ``wait4``'s ``ru_maxrss``, which on Linux also counts the memory of the process that forked it
(the parent's pages are the child's until ``exec``), here the fake router holding the config.
Linux only.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cmelive.collect.limits import DEFAULT_MAX_OUTPUT, format_size
from cmelive.commands import RUNNING_CONFIG
from cmelive.examples import example_dir
from cmelive.fake import FakeRouter
from cmelive.snapshot import read_snapshot

# Runs the cmelive CLI and, as it exits, writes its peak RSS (kB) to $CMELIVE_BENCH_PEAK_FILE.
PEAK_WRAPPER = """
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["CMELIVE_BENCH_PEAK_FILE"], "w") as out:
        out.write(peak)
atexit.register(_peak)
sys.argv[0] = "cmelive"
runpy.run_module("cmelive", run_name="__main__")
"""
PASSWORD = "bench-login"
ENABLE_SECRET = "bench-enable"
MB = 1_000_000


@dataclass(frozen=True)
class Run:
    label: str
    wall_s: float
    peak_rss: int  # bytes
    exit_code: int
    kept: int  # characters of the running-config kept in the snapshot


def big_config(size: int) -> str:
    """The secure-cme example's running-config grown to ``size`` characters before its ``end``."""
    config = read_snapshot(example_dir("secure-cme")).outputs[RUNNING_CONFIG].text
    head = config[: config.rindex("\nend") + 1]
    parts = [head]
    total = len(head) + len("end\n")
    number = 0
    while total < size:
        block = (
            f"interface GigabitEthernet0/1.{number}\n description bench subinterface {number}\n"
            f" encapsulation dot1Q {number % 4000 + 1}\n!\n"
        )
        parts.append(block)
        total += len(block)
        number += 1
    parts.append("end\n")
    return "".join(parts)


def collect_in_child(router: FakeRouter, scratch: Path, label: str, *options: str, command: str = "collect") -> Run:
    known_hosts = scratch / "known_hosts"
    known_hosts.write_text(router.known_hosts_line() + "\n")
    out_dir = scratch / f"snap-{label.replace(' ', '-')}"
    shutil.rmtree(out_dir, ignore_errors=True)
    where = ["-o", str(out_dir)] if command == "collect" else ["-o", str(scratch / "report.txt")]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CMELIVE_")},
        "CMELIVE_PASSWORD": PASSWORD,
        "CMELIVE_ENABLE_SECRET": ENABLE_SECRET,
        "HOME": str(scratch),
        "XDG_STATE_HOME": str(scratch / "state"),
        "CMELIVE_BENCH_PEAK_FILE": str(scratch / "peak"),
    }
    args = [
        sys.executable, "-c", PEAK_WRAPPER, command, "127.0.0.1", "-p", str(router.port), "-u", "bench",
        "--known-hosts", str(known_hosts), *where, *options,
    ]  # fmt: skip
    started = time.monotonic()
    with open(scratch / "child.out", "w") as out:
        exit_code = subprocess.call(args, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - started
    kept_file = out_dir / "show_running-config.txt"
    kept = len(kept_file.read_text(encoding="utf-8", errors="replace")) if kept_file.exists() else 0
    peak_kb = int((scratch / "peak").read_text())
    return Run(label, wall, peak_kb * 1024, exit_code, kept)


def serve(outputs: dict[str, str]) -> FakeRouter:
    return FakeRouter(
        outputs, username="bench", password=PASSWORD, enable_secret=ENABLE_SECRET, privileged_login=True
)


def report(run: Run, reference: Run | None) -> None:
    line = f"  {run.label:<34} exit {run.exit_code}  {run.wall_s:7.2f} s  peak RSS {run.peak_rss / MB:7.1f} MB"
    if run.kept:
        line += f"  kept {run.kept / MB:7.2f} MB"
    if reference is not None and run.kept:
        added = run.peak_rss - reference.peak_rss
        line += f"  added {added / MB:7.1f} MB = {added / run.kept:4.2f} x output"
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100", help="running-config sizes in MB, comma-separated")
    parser.add_argument("--audit", action="store_true", help="also run 'cmelive audit' at the default limits")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (snapshots written)")
    args = parser.parse_args(argv)
    sizes = [float(text) for text in args.sizes.split(",")]

    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.machine()}")
    print(f"default --max-output: {format_size(DEFAULT_MAX_OUTPUT)}")
    scratch = Path(tempfile.mkdtemp(prefix="cmelive-bench-memory-"))
    example = read_snapshot(example_dir("secure-cme"))
    outputs = {command: out.text for command, out in example.outputs.items() if out.usable}
    try:
        with serve(outputs) as router:
            reference = collect_in_child(router, scratch, "reference")
        print("reference: the 36 kB example")
        report(reference, None)
        for size_mb in sizes:
            size = int(size_mb * MB)
            print(f"running-config of {size_mb:g} MB:")
            served = dict(outputs)
            served[RUNNING_CONFIG] = big_config(size)
            with serve(served) as router:
                raised = f"{int(size * 1.1) + 1024}"
                report(collect_in_child(router, scratch, "collect, --max-output raised", "--max-output", raised), reference)
                report(collect_in_child(router, scratch, "collect, default limits"), reference)
                if args.audit:
                    report(collect_in_child(router, scratch, "audit, default limits", command="audit"), reference)
            del served
    finally:
        if args.keep:
            print(f"kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
