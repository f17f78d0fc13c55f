"""The HTML report at fleet scale: generating it, opening it in Chromium, sorting and filtering it.

Run: ``python bench/bench_html.py`` (about 3 minutes on 2 shared vCPUs; ``--help`` for the knobs,
``--baseline none`` to time this checkout alone, ``--skip-browser`` for the Python side only).

One fleet of ``--devices`` (default 1,000) is made from real audits of the three bundled examples
(``secure-cme``, ``insecure-cme``, ``plain-ios``) under random names, one device in 20 unreachable,
and rendered twice in the same run:

- **baseline**: the package at ``--baseline`` (default :data:`BASELINE_REVISION`, the last revision
  before devices could be sorted and filtered), taken out of git with ``git archive`` (``src`` and
  ``parsers``) into a temporary directory;
- **now**: this checkout.

Each side runs in a fresh interpreter (``PYTHONPATH`` set to its ``src``) with the same measuring
code (this file, ``--worker``): one warm-up, then ``--repetitions`` timed :func:`render_html` calls
(wall time), then the page is written for the browser. The sides take turns ``--rounds`` times and
the median of all their calls is shown.

Then each page is opened ``--browser-runs`` times in headless Chromium (``/usr/bin/chromium``,
``file://``, nothing else is loaded), the sides taking turns, with a probe script added at the end of
the page (its hash joins the page's own Content-Security-Policy). The probe runs once the page and
its own script are in, and records, with ``performance.now()``:

- ``ready``: from navigation start to the probe: reading and parsing the page and running its
  script (which, now, reads the devices' keys and applies the URL's view);
- ``layout``: the first full layout, forced (``document.body.offsetHeight``);
- per interaction, the median of ``--cycles`` rounds, each followed by a forced layout, so the
  restyle and reflow it causes are counted: the name filter both sides have (type ``branch-1``,
  then clear it), and, now, sort by name, filter ``status=partial``, and back to worst first.

The process's wall time is shown too (it includes Chromium's start and ``--dump-dom`` writing the
whole DOM out, tens of MB). The ratios compare now with the baseline in the same run; the sort's
ratio is against the name filter of the baseline page, the interaction a reader already had.
Wall times are noisy on a shared machine: compare figures of one run with each other.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
EXAMPLES = ("secure-cme", "insecure-cme", "plain-ios")
#: The last revision before the HTML report's devices could be sorted and filtered (issue 12).
BASELINE_REVISION = "2a2d797"

# Runs at the end of the page, after its own script: times the load and each interaction.
PROBE = """(function () {
  var now = function () { return performance.now(); };
  var out = {ready: now()};
  var t = now(); void document.body.offsetHeight; out.layout = now() - t;
  function timed(action) {
    var start = now(); action(); void document.body.offsetHeight; return now() - start;
  }
  function set(id, value, event) {
    var node = document.getElementById(id);
    node.value = value;
    node.dispatchEvent(new Event(event, {bubbles: true}));
  }
  var cycles = CYCLES, runs = {};
  function add(name, ms) { (runs[name] = runs[name] || []).push(ms); }
  for (var i = 0; i < cycles; i++) {
    add("name_filter", timed(function () { set("device-filter", "branch-1", "input"); }));
    add("name_filter_clear", timed(function () { set("device-filter", "", "input"); }));
    if (document.getElementById("device-sort")) {
      add("sort_name", timed(function () { set("device-sort", "name", "change"); }));
      add("filter_status", timed(function () { set("device-status", "partial", "change"); }));
      add("filter_clear", timed(function () { set("device-status", "", "change"); }));
      add("sort_worst", timed(function () { set("device-sort", "severity", "change"); }));
    }
  }
  out.shown = document.querySelectorAll("section.device:not(.hidden)").length;
  out.runs = runs;
  document.documentElement.setAttribute("data-bench", JSON.stringify(out));
})();"""


# --- worker: runs inside the interpreter of one side ---------------------------------------------


def _worker(devices: int, repetitions: int, page_path: str) -> dict[str, Any]:
    import dataclasses
    import random

    import cmelive
    from cmelive.audit import audit_snapshot, unreachable_report
    from cmelive.report.html import render_html
    from cmelive.report.model import AuditReport
    from cmelive.snapshot import read_snapshot

    examples = [
        audit_snapshot(read_snapshot(REPO / "src" / "cmelive" / "examples" / name), name=name) for name in EXAMPLES
    ]
    rng = random.Random(12)  # the same names, so the same fleet, on both sides
    fleet = []
    for index in range(devices):
        name = f"branch-{rng.randrange(10**6):06d}"
        if index % 20 == 19:
            fleet.append(unreachable_report(name, "127.0.0.1", "127.0.0.1:22: connection refused"))
        else:
            fleet.append(dataclasses.replace(examples[index % 3], name=name))
    report = AuditReport(devices=fleet, generated_at="2026-12-04T00:00:00Z")
    render_html(report)  # warm-up: assets read, catalog families cached
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        page = render_html(report)
        times.append(time.perf_counter() - start)
    Path(page_path).write_text(page, encoding="utf-8")
    return {"version": cmelive.__version__, "render_s": times, "bytes": len(page.encode("utf-8"))}


# --- the bench ------------------------------------------------------------------------------------


def _baseline_tree(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", revision, "src", "parsers"],
        check=True,
        capture_output=True,
    ).stdout
    target = into / "baseline"
    target.mkdir()
    archive_path = into / "baseline.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(target, filter="data")
    return target


def _run_worker(tree: Path, args: argparse.Namespace, page: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    done = subprocess.run(
        [sys.executable, __file__, "--worker", "--devices", str(args.devices),
         "--repetitions", str(args.repetitions), "--page", str(page)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"worker for {tree} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _with_probe(page: Path, cycles: int, into: Path) -> Path:
    probe = PROBE.replace("CYCLES", str(cycles))
    digest = "'sha256-" + base64.b64encode(hashlib.sha256(probe.encode()).digest()).decode() + "'"
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"(script-src [^;]+);", lambda m: f"{m.group(1)} {digest};", text, count=1)
    text = text.replace("</body>", f"<script>{probe}</script></body>")
    into.write_text(text, encoding="utf-8")
    return into


def _open_in_chromium(page: Path, workdir: Path) -> dict[str, Any]:
    profile = workdir / "profile"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-quic",
        f"--user-data-dir={profile}", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, timeout=600, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    wall = time.perf_counter() - start
    found = re.search(rb'data-bench="([^"]*)"', done.stdout)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"chromium failed on {page} (exit {done.returncode}):\n{done.stderr[-2000:]!r}")
    errors = re.search(rb'data-errors="([^"]*)"', done.stdout)
    if errors is not None and errors.group(1) not in (b"[]", b"[&quot;&quot;]"):
        raise SystemExit(f"the page recorded errors: {errors.group(1)[:500]!r}")
    measured: dict[str, Any] = json.loads(found.group(1).decode().replace("&quot;", '"').replace("&amp;", "&"))
    measured["wall"] = wall
    return measured


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _machine() -> str:
    model = ""
    try:
        model = next(
            (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
             if line.startswith("model name")), "",
        )  # fmt: skip
    except OSError:
        pass
    chromium = ""
    if CHROMIUM.exists():
        chromium = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {chromium or 'no chromium'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--repetitions", type=int, default=5, help="render_html calls per side and round")
    parser.add_argument("--rounds", type=int, default=2, help="fresh interpreters per side, taking turns")
    parser.add_argument("--browser-runs", type=int, default=2, help="Chromium loads per side")
    parser.add_argument("--cycles", type=int, default=5, help="rounds of each interaction per load")
    parser.add_argument("--baseline", default=BASELINE_REVISION, help="git revision, or 'none'")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--page", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.devices, args.repetitions, args.page)))
        return 0

    print(f"machine: {_machine()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="cmelive-bench-html-") as scratch:
        work = Path(scratch)
        sides: dict[str, Path] = {"now": REPO}
        if args.baseline != "none":
            sides = {"baseline": _baseline_tree(args.baseline, work), "now": REPO}
        pages: dict[str, Path] = {}
        render: dict[str, dict[str, Any]] = {}
        for _ in range(args.rounds):  # the sides take turns: a burst of load lands on one round of one side
            for name, tree in sides.items():
                pages[name] = work / f"{name}.html"
                found = _run_worker(tree, args, pages[name])
                if name in render:
                    render[name]["render_s"] += found["render_s"]
                else:
                    render[name] = found
        print(
            f"\n1. render_html, {args.devices} devices (median of {args.rounds} rounds x {args.repetitions},"
            " each after a warm-up)"
        )
        for name, found in render.items():
            seconds = _median(found["render_s"])
            print(
                f"   {name:9} {seconds:6.3f} s  ({seconds / args.devices * 1000:.2f} ms/device)"
                f"  page {found['bytes'] / 1e6:.1f} MB"
            )
        if "baseline" in render:
            ratio = _median(render["now"]["render_s"]) / _median(render["baseline"]["render_s"])
            print(f"   now / baseline: {ratio:.2f}x")
        if args.skip_browser:
            return 0
        if not CHROMIUM.exists():
            print(f"\n{CHROMIUM} is missing: browser part skipped")
            return 0
        probed = {name: _with_probe(page, args.cycles, work / f"{name}-probed.html") for name, page in pages.items()}
        loads: dict[str, list[dict[str, Any]]] = {name: [] for name in probed}
        for _ in range(args.browser_runs):
            for name, page in probed.items():  # the sides take turns
                loads[name].append(_open_in_chromium(page, work))
        print(
            f"\n2. Chromium (headless), {args.devices} devices:"
            f" medians of {args.browser_runs} loads x {args.cycles} rounds"
        )

        def stat(name: str, key: str) -> float:
            if key in ("ready", "layout", "wall"):
                return _median([load[key] for load in loads[name]])
            return _median([ms for load in loads[name] for ms in load["runs"].get(key, [])])

        rows = [
            ("ready", "page read, parsed, its script run (ms)"),
            ("layout", "first full layout (ms)"),
            ("wall", "chromium process, start to DOM dumped (s)"),
            ("name_filter", "name filter 'branch-1' + layout (ms)"),
            ("name_filter_clear", "name filter cleared + layout (ms)"),
            ("sort_name", "sort by name + layout (ms)"),
            ("filter_status", "filter status=partial + layout (ms)"),
            ("filter_clear", "status filter cleared + layout (ms)"),
            ("sort_worst", "back to worst first + layout (ms)"),
        ]
        names = list(loads)

        def cell(value: float) -> str:
            return f"{'-':>10}" if value != value else f"{value:10.1f}"  # NaN: the side has no such control

        print("   " + " " * 44 + "".join(f"{n:>10}" for n in names))
        for key, label in rows:
            print("   " + f"{label:44}" + "".join(cell(stat(n, key)) for n in names))
        shown = ", ".join(f"{n} {loads[n][-1]['shown']}" for n in names)
        print(f"   devices shown after the interactions: {shown}")
        if "baseline" in loads:
            print("\n3. ratios (now / baseline)")
            for key, label in (("ready", "opening (ready)"), ("layout", "first layout"), ("wall", "chromium wall")):
                print(f"   {label:44}{stat('now', key) / stat('baseline', key):8.2f}x")
            old_filter = stat("baseline", "name_filter")
            print(f"   {'sort by name / old name filter':44}{stat('now', 'sort_name') / old_filter:8.2f}x")
            print(f"   {'status filter / old name filter':44}{stat('now', 'filter_status') / old_filter:8.2f}x")
            print(f"   {'name filter now / old name filter':44}{stat('now', 'name_filter') / old_filter:8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
