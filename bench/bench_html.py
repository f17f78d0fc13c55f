"""The HTML report at fleet scale: generating it, opening it in Chromium, sorting and filtering it.

Run: ``python bench/bench_html.py`` (about 10 minutes on 2 shared vCPUs, most of it the baseline's
pages; ``--help`` for the knobs, ``--baseline none`` to time this checkout alone,
``--skip-browser`` for the Python side only).

For each size in ``--devices`` (default 1,000 and 2,000), one fleet is made from real audits of the three bundled examples
(``secure-cme``, ``insecure-cme``, ``plain-ios``) under random names, one device in 20 unreachable,
and rendered twice in the same run:

- **baseline**: the package at ``--baseline`` (default :data:`BASELINE_REVISION`, the last revision
  before devices' details were drawn on demand), taken out of git with ``git archive`` (``src`` and
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

Each load also records Chromium's peak memory (PSS over its process tree, sampled; the largest
process's peak RSS), and the same two for the page as opened: the probe holds the page still for
``HOLD_MS`` right after ``ready`` (before the interactions and before ``--dump-dom`` copies the
DOM out as text, which the peak includes), marked by console lines in Chromium's log, and only the
samples inside the hold count. All of it after the same for a blank page; and, unless
``--skip-show-all``, one more load of this checkout's page presses "Show all details" (every
device drawn, the print path). "Open a device" clicks a heat-map link far down the rows that are
drawn: on a page that draws its heat-map rows on demand, those are the first 60 at opening.

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
import tempfile
import time
from pathlib import Path
from typing import Any

from baseline import export_source  # bench/ is on sys.path when a bench runs as a script

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
EXAMPLES = ("secure-cme", "insecure-cme", "plain-ios")
#: The last revision before the devices' details were drawn on demand from data (issue 13); the
#: one before sorting and filtering (issue 12) was 2a2d797.
BASELINE_REVISION = "9580a31"

# Runs at the end of the page, after its own script: times the load and each interaction.
PROBE = """(function () {
  var now = function () { return performance.now(); };
  var out = {ready: now()};
  var t = now(); void document.body.offsetHeight; out.layout = now() - t;
  // Held still for the bench to sample the memory of the page as opened (before the interactions
  // and --dump-dom): the console lines go to Chromium's log, which the bench watches.
  console.log("BENCH-READY");
  var hold = now(); while (now() - hold < HOLD_MS) { /* busy: nothing else runs meanwhile */ }
  console.log("BENCH-HELD");
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
  // Opening a device from the heat map: a link to a family of a device near the end of the page
  // (drawn on the click, when details are drawn on demand), then the browser scrolls to it.
  var links = document.querySelectorAll("table.heat tbody td.cell a");
  for (var j = 0; j < cycles && links.length; j++) {
    var link = links[links.length - 1 - j * 23 % links.length];
    add("open_device", timed(function () { link.click(); }));
  }
  out.shown = document.querySelectorAll("section.device:not(.hidden)").length;
  out.runs = runs;
  if (SHOW_ALL && document.getElementById("show-all")) {
    out.show_all = timed(function () { document.getElementById("show-all").click(); });
  }
  out.findings = document.querySelectorAll(".finding").length;
  document.documentElement.setAttribute("data-bench", JSON.stringify(out));
})();"""


#: How long the probe holds the page still once opened, for the bench to sample its memory.
HOLD_MS = 1500

BLANK = (
    "<!DOCTYPE html><html><body><p>blank</p><script>var ready = performance.now();"
    ' console.log("BENCH-READY"); while (performance.now() - ready < HOLD_MS) {} console.log("BENCH-HELD");'
    ' document.documentElement.setAttribute("data-bench", JSON.stringify({ready: ready}));</script></body></html>'
).replace("HOLD_MS", str(HOLD_MS))


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


def _run_worker(tree: Path, args: argparse.Namespace, devices: int, page: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    done = subprocess.run(
        [sys.executable, __file__, "--worker", "--devices", str(devices),
         "--repetitions", str(args.repetitions), "--page", str(page)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"worker for {tree} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _with_probe(page: Path, cycles: int, into: Path, *, show_all: bool = False) -> Path:
    probe = PROBE.replace("CYCLES", str(cycles)).replace("SHOW_ALL", "true" if show_all else "false")
    probe = probe.replace("HOLD_MS", str(HOLD_MS))
    digest = "'sha256-" + base64.b64encode(hashlib.sha256(probe.encode()).digest()).decode() + "'"
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"(script-src [^;]+);", lambda m: f"{m.group(1)} {digest};", text, count=1)
    text = text.replace("</body>", f"<script>{probe}</script></body>")
    into.write_text(text, encoding="utf-8")
    return into


def _tree_pss(root: int) -> tuple[int, int, int]:
    """The proportional set size (bytes) of process ``root`` and all its descendants, now: each
    shared page counts once over the tree, split between the processes that share it; the largest
    RSS (bytes) of one of them; and the PSS of its renderers (``--type=renderer``: the page's own
    process, without the browser's and the GPU's)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    total, largest, renderer, todo = 0, 0, 0, [root]
    while todo:
        pid = todo.pop()
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            rollup = ""
        found = re.search(r"^Pss:\s+(\d+) kB", rollup, re.MULTILINE)
        total += int(found.group(1)) * 1024 if found else 0
        try:
            if b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes():
                renderer += int(found.group(1)) * 1024 if found else 0
        except OSError:
            pass  # gone meanwhile
        rss = re.search(r"^Rss:\s+(\d+) kB", rollup, re.MULTILINE)
        largest = max(largest, int(rss.group(1)) * 1024 if rss else 0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total, largest, renderer


def _open_in_chromium(page: Path, workdir: Path) -> dict[str, Any]:
    """One load of ``page``; besides the probe's figures, the peak memory of Chromium's whole
    process tree (its PSS, sampled every 50 ms) and the peak RSS of its largest process (the
    kernel's own figure, from ``wait4``), over the whole load (which ends with ``--dump-dom``
    serializing the DOM: a copy of the page as text, in the page's process and the browser's);
    and the same two at the page as opened (``ready_*``: sampled while the probe holds the page
    still, between its BENCH-READY and BENCH-HELD lines in Chromium's log)."""
    profile = workdir / "profile"
    out_path = workdir / "dom.html"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-quic",
        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    start = time.perf_counter()
    peak = peak_largest = peak_renderer = ready_tree = ready_largest = ready_renderer = 0
    log = workdir / "stderr.txt"
    try:
        with out_path.open("wb") as out, log.open("wb") as err:
            process = subprocess.Popen(command, stdout=out, stderr=err)
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                before = log.read_bytes()
                tree, largest, renderer = _tree_pss(process.pid)
                peak, peak_largest = max(peak, tree), max(peak_largest, largest)
                peak_renderer = max(peak_renderer, renderer)
                # Counted only when the whole sample fell inside the hold.
                if b"BENCH-READY" in before and b"BENCH-HELD" not in log.read_bytes():
                    ready_tree, ready_largest = max(ready_tree, tree), max(ready_largest, largest)
                    ready_renderer = max(ready_renderer, renderer)
                if time.perf_counter() - start > 600:
                    process.kill()
                time.sleep(0.05)
            process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    wall = time.perf_counter() - start
    stdout = out_path.read_bytes()
    out_path.unlink()
    found = re.search(rb'data-bench="([^"]*)"', stdout)
    if process.returncode != 0 or found is None:
        stderr = (workdir / "stderr.txt").read_bytes()
        raise SystemExit(f"chromium failed on {page} (exit {process.returncode}):\n{stderr[-2000:]!r}")
    errors = re.search(rb'data-errors="([^"]*)"', stdout)
    if errors is not None and errors.group(1) not in (b"[]", b"[&quot;&quot;]"):
        raise SystemExit(f"the page recorded errors: {errors.group(1)[:500]!r}")
    measured: dict[str, Any] = json.loads(found.group(1).decode().replace("&quot;", '"').replace("&amp;", "&"))
    measured["wall"] = wall
    measured["tree_mb"] = peak / 1e6
    # The kernel's peak for the processes Chromium reaped, or a sampled one if higher (a renderer
    # still alive at the end is not in wait4's figure).
    measured["largest_mb"] = max(usage.ru_maxrss * 1e3, peak_largest) / 1e6  # ru_maxrss: kB on Linux
    if not ready_tree:
        raise SystemExit(f"no memory sample while {page.name} was held open (BENCH-READY .. BENCH-HELD)")
    measured["ready_tree_mb"] = ready_tree / 1e6
    measured["ready_largest_mb"] = ready_largest / 1e6
    measured["ready_renderer_mb"] = ready_renderer / 1e6
    measured["renderer_mb"] = peak_renderer / 1e6
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


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of device counts: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"device counts must be >= 1: {text!r}")
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--devices", type=_sizes, default=[1000, 2000], help="fleet sizes, comma-separated")
    parser.add_argument("--repetitions", type=int, default=3, help="render_html calls per side and round")
    parser.add_argument("--rounds", type=int, default=2, help="fresh interpreters per side, taking turns")
    parser.add_argument("--browser-runs", type=int, default=2, help="Chromium loads per side")
    parser.add_argument("--cycles", type=int, default=3, help="rounds of each interaction per load")
    parser.add_argument("--baseline", default=BASELINE_REVISION, help="git revision, or 'none'")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-show-all", action="store_true", help="no load that draws every device")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--page", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.devices[0], args.repetitions, args.page)))
        return 0

    print(f"machine: {_machine()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    summary: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cmelive-bench-html-") as scratch:
        work = Path(scratch)
        sides: dict[str, Path] = {"now": REPO}
        if args.baseline != "none":
            (work / "baseline").mkdir()
            sides = {"baseline": export_source(args.baseline, work / "baseline").parent, "now": REPO}
        if not args.skip_browser and CHROMIUM.exists():
            # What Chromium's processes take for a page of nothing: the floor under every figure below.
            blank = work / "blank.html"
            blank.write_text(BLANK, encoding="utf-8")
            floor = [_open_in_chromium(blank, work) for _ in range(args.browser_runs)]
            print(
                f"Chromium with a blank page: PSS {_median([f['ready_tree_mb'] for f in floor]):.0f} MB opened,"
                f" {_median([f['tree_mb'] for f in floor]):.0f} MB peak, all processes;"
                f" RSS {_median([f['ready_largest_mb'] for f in floor]):.0f} MB opened,"
                f" {_median([f['largest_mb'] for f in floor]):.0f} MB peak, largest process;"
                f" renderer PSS {_median([f['ready_renderer_mb'] for f in floor]):.0f} MB opened,"
                f" {_median([f['renderer_mb'] for f in floor]):.0f} MB peak;"
                f" {_median([f['wall'] for f in floor]):.1f} s start to DOM dumped"
            )
        for devices in args.devices:
            summary += _one_size(args, devices, sides, work)
    print("\nsummary (medians): devices, side, page MB, render s, open (ready + layout) s, tree PSS MB opened"
          " / peak, largest process RSS MB opened / peak, open a device ms")
    for line in summary:
        print("   " + line)
    return 0


def _one_size(args: argparse.Namespace, devices: int, sides: dict[str, Path], work: Path) -> list[str]:
    pages: dict[str, Path] = {}
    render: dict[str, dict[str, Any]] = {}
    for _ in range(args.rounds):  # the sides take turns: a burst of load lands on one round of one side
        for name, tree in sides.items():
            pages[name] = work / f"{name}-{devices}.html"
            found = _run_worker(tree, args, devices, pages[name])
            if name in render:
                render[name]["render_s"] += found["render_s"]
            else:
                render[name] = found
    print(
        f"\n1. render_html, {devices} devices (median of {args.rounds} rounds x {args.repetitions},"
        " each after a warm-up)"
    )
    for name, found in render.items():
        seconds = _median(found["render_s"])
        print(
            f"   {name:9} {seconds:6.3f} s  ({seconds / devices * 1000:.2f} ms/device)"
            f"  page {found['bytes'] / 1e6:.1f} MB ({found['bytes'] / devices / 1e3:.1f} kB/device)"
        )
    if "baseline" in render:
        ratio = _median(render["now"]["render_s"]) / _median(render["baseline"]["render_s"])
        size = render["now"]["bytes"] / render["baseline"]["bytes"]
        print(f"   now / baseline: render {ratio:.2f}x, page size {size:.3f}x")
    summary = {
        name: f"{devices:5} {name:9} {found['bytes'] / 1e6:7.1f} {_median(found['render_s']):6.2f}"
        for name, found in render.items()
    }
    if args.skip_browser or not CHROMIUM.exists():
        if not args.skip_browser:
            print(f"\n{CHROMIUM} is missing: browser part skipped")
        return list(summary.values())
    probed = {
        name: _with_probe(page, args.cycles, work / f"{name}-{devices}-probed.html") for name, page in pages.items()
    }
    loads: dict[str, list[dict[str, Any]]] = {name: [] for name in probed}
    for _ in range(args.browser_runs):
        for name, page in probed.items():  # the sides take turns
            loads[name].append(_open_in_chromium(page, work))
    print(
        f"\n2. Chromium (headless), {devices} devices:"
        f" medians of {args.browser_runs} loads x {args.cycles} rounds"
    )

    def stat(name: str, key: str) -> float:
        if key == "open":
            return _median([load["ready"] + load["layout"] for load in loads[name]])
        if key in ("ready", "layout", "wall", "tree_mb", "largest_mb", "renderer_mb") or key.startswith("ready_"):
            return _median([load[key] for load in loads[name]])
        return _median([ms for load in loads[name] for ms in load["runs"].get(key, [])])

    rows = [
        ("ready", "page read, parsed, its script run (ms)"),
        ("layout", "first full layout (ms)"),
        ("open", "opened: ready + first layout (ms)"),
        ("wall", "chromium process, start to DOM dumped (s)"),
        ("ready_tree_mb", "opened: PSS, all Chromium processes (MB)"),
        ("ready_largest_mb", "opened: RSS, largest process (MB)"),
        ("ready_renderer_mb", "opened: PSS, the page's renderer (MB)"),
        ("tree_mb", "peak PSS, all Chromium processes (MB)"),
        ("largest_mb", "peak RSS, largest process (MB)"),
        ("renderer_mb", "peak PSS, the page's renderer (MB)"),
        ("open_device", "heat-map link to a device + layout (ms)"),
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
    drawn = ", ".join(f"{n} {loads[n][-1]['findings']}" for n in names)
    print(f"   findings in the DOM at the end: {drawn}")
    if "baseline" in loads:
        print("\n3. ratios (now / baseline)")
        for key, label in (
            ("open", "opening (ready + layout)"),
            ("wall", "chromium wall"),
            ("ready_tree_mb", "opened: PSS, all processes"),
            ("ready_largest_mb", "opened: RSS, largest process"),
            ("ready_renderer_mb", "opened: PSS, the page's renderer"),
            ("tree_mb", "peak PSS, all processes"),
            ("largest_mb", "peak RSS, largest process"),
            ("renderer_mb", "peak PSS, the page's renderer"),
            ("sort_name", "sort by name"),
            ("name_filter", "name filter"),
        ):
            print(f"   {label:44}{stat('now', key) / stat('baseline', key):8.2f}x")
    for name in names:
        summary[name] += (
            f" {stat(name, 'open') / 1000:8.2f} {stat(name, 'ready_tree_mb'):8.0f} {stat(name, 'tree_mb'):8.0f}"
            f" {stat(name, 'ready_largest_mb'):8.0f} {stat(name, 'largest_mb'):8.0f}"
            f" {cell(stat(name, 'open_device'))}"
        )
    if not args.skip_show_all:
        # Drawing every device (the print path, "Show all details"): one load, after the interactions.
        page = _with_probe(pages["now"], args.cycles, work / f"now-{devices}-all.html", show_all=True)
        load = _open_in_chromium(page, work)
        print(
            f"\n4. now, 'Show all details' ({devices} devices, one load): {load['show_all']:.0f} ms for"
            f" {load['findings']} findings; peak PSS {load['tree_mb']:.0f} MB all processes,"
            f" RSS {load['largest_mb']:.0f} MB largest, renderer PSS {load['renderer_mb']:.0f} MB"
        )
    return list(summary.values())


if __name__ == "__main__":
    sys.exit(main())
