"""Charts benchmark (DESIGN §5): 100 runs x 100k points overlaid in one panel.

Plain script, offscreen:

    .venv/bin/python tests/benchmarks/charts_bench.py [--runs 100] [--points 100000]
        [--columns 3] [--smoothing 0.6] [--raw both|on|off] [--rounds 3]
        [--width 1400] [--height 900]

Each configuration (faint raw curve on, off) runs in a fresh child process, so that its
RSS is its own. Measures

  * first draw: from the first ``set_series`` call to the end of the first paint that
    shows the data (the redraw timer, smoothing, min/max pyramids, decimation and
    painting included);
  * pan/zoom: ``--rounds`` x 20 ``setXRange`` steps (7 zooming in around 60%, 7 panning
    right by 5%, 6 zooming out), each timed from the call to the end of the next paint,
    re-decimation included: median and p95, wall clock and CPU time (the machine is a
    noisy shared 2-core VM: CPU time is the steadier figure);
  * process RSS (psutil) after all of it.

Targets: first draw <= 2 s, pan/zoom <= 50 ms, RSS <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

KEY = "train/loss"


def make_data(runs: int, points: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    steps = np.arange(points, dtype=np.int64)
    t0 = 1_700_000_000_000
    out = []
    for i in range(runs):
        walk = np.cumsum(rng.standard_normal(points)) * 0.01
        noise = 0.1 * rng.standard_normal(points)
        values = 2.0 * np.exp(-steps / (20_000 + 500 * i)) + walk + noise
        values[rng.integers(0, points)] += 25.0  # one spike per run
        ts = t0 + i * 1000 + np.cumsum(rng.integers(50, 150, points))
        out.append((f"run{i:03d}", steps, values, ts))
    return out


def pan_zoom_ranges(n: int) -> list[tuple[float, float]]:
    """20 x ranges: 7 zooming in around 60% of the data, 7 panning right, 6 zooming out."""
    ranges = []
    lo, hi = 0.0, float(n)
    for i in range(20):
        if i < 7:
            c, half = 0.6 * n, (hi - lo) / 2 * 0.7
            lo, hi = c - half, c + half
        elif i < 14:
            d = (hi - lo) * 0.05
            lo, hi = lo + d, hi + d
        else:
            c, half = (lo + hi) / 2, (hi - lo) / 2 * 1.6
            lo, hi = max(c - half, -1000.0), min(c + half, n + 1000.0)
        ranges.append((lo, hi))
    return ranges


class PaintCounter:
    def __init__(self, widget) -> None:
        self.count = 0
        original = widget.paintEvent

        def paint(ev):
            original(ev)
            self.count += 1

        widget.paintEvent = paint

    def wait(self, app, since: int, timeout: float = 60.0) -> None:
        deadline = time.perf_counter() + timeout
        while self.count <= since:
            app.processEvents()
            if time.perf_counter() > deadline:
                raise TimeoutError("no paint")


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def measure(args) -> dict:
    """One configuration, in this process."""
    import psutil
    from PySide6.QtWidgets import QApplication

    from app.core.chart_settings import ChartSettings
    from app.core.colors import palette_for
    from app.qt.charts import ChartsView

    app = QApplication.instance() or QApplication(sys.argv)
    raw = args.raw == "on"
    outliers = ChartSettings().ignore_outliers if args.outliers == "default" else args.outliers == "on"
    view = ChartsView(settings=ChartSettings(smoothing=args.smoothing, columns=args.columns,
                                             show_raw=raw, ignore_outliers=outliers))
    view.resize(args.width, args.height)
    view.show()
    data = make_data(args.runs, args.points)
    ids = [d[0] for d in data]
    colors = palette_for(ids)
    view.set_runs([(rid, rid, colors[rid], 1_700_000_000_000) for rid in ids])
    view.set_keys([KEY])
    for _ in range(3):
        app.processEvents()
    plot = view.plot(KEY)
    counter = PaintCounter(plot)
    rss_before = psutil.Process().memory_info().rss

    since = counter.count
    t0, c0 = time.perf_counter(), time.process_time()
    for rid, steps, values, ts in data:
        view.set_series(rid, KEY, steps, values, ts)
    # Wait for the paint that shows the data (paints before the redraw timer fired do not count).
    while True:
        counter.wait(app, since)
        since = counter.count
        if plot.drawn(ids[-1]) is not None and not view._timer.isActive():  # noqa: SLF001
            break
    first_wall, first_cpu = time.perf_counter() - t0, time.process_time() - c0
    drawn = plot.main_layer.point_count() + (
        plot.raw_layer.point_count() if plot.raw_layer.isVisible() else 0)

    walls, cpus = [], []
    for _ in range(args.rounds):
        for lo, hi in pan_zoom_ranges(args.points):
            since = counter.count
            t, c = time.perf_counter(), time.process_time()
            plot.setXRange(lo, hi, padding=0)
            counter.wait(app, since)
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
    return {
        "raw": "off" if not raw or args.smoothing == 0 else "on",
        "outliers": "on" if outliers else "off",
        "pixels": int(plot.vb.width()),
        "first_wall": first_wall, "first_cpu": first_cpu, "drawn": drawn,
        "walls": walls, "cpus": cpus,
        "rss": psutil.Process().memory_info().rss, "rss_before": rss_before,
        "load": os.getloadavg()[0],
    }


def report(args, r: dict) -> None:
    ms = 1e3
    walls, cpus = r["walls"], r["cpus"]
    print(f"runs={args.runs} points={args.points} panel={r['pixels']}px wide "
          f"(columns={args.columns}) smoothing={args.smoothing} raw={r['raw']} "
          f"ignore_outliers={r['outliers']}")
    print(f"  first draw (set_series -> painted): {r['first_wall'] * ms:.0f} ms wall, "
          f"{r['first_cpu'] * ms:.0f} ms CPU   [target <= 2000 ms]")
    print(f"  points drawn at full view: {r['drawn']:,}")
    print(f"  pan/zoom setXRange -> painted, {len(walls)} steps: "
          f"median {statistics.median(walls) * ms:.1f} ms wall, p95 {p95(walls) * ms:.1f}; "
          f"median {statistics.median(cpus) * ms:.1f} ms CPU, p95 {p95(cpus) * ms:.1f}"
          "   [target <= 50 ms]")
    steps = len(pan_zoom_ranges(args.points))
    for name, part in (("zoom in", range(0, 7)), ("pan", range(7, 14)),
                       ("zoom out", range(14, 20))):
        idx = [k * steps + i for k in range(args.rounds) for i in part]
        print(f"    {name:8}: median {statistics.median(walls[i] for i in idx) * ms:.1f} ms wall, "
              f"{statistics.median(cpus[i] for i in idx) * ms:.1f} ms CPU")
    print(f"  RSS: {r['rss'] / 2**20:.0f} MiB (before data {r['rss_before'] / 2**20:.0f} MiB)"
          f"   [target <= 1536 MiB]")
    print(f"  load average at the end: {r['load']:.1f} on {os.cpu_count()} CPUs")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--points", type=int, default=100_000)
    p.add_argument("--columns", type=int, default=3)
    p.add_argument("--smoothing", type=float, default=0.6)
    p.add_argument("--raw", choices=("both", "on", "off"), default="both")
    p.add_argument("--no-raw", action="store_true", help="same as --raw off")
    p.add_argument("--rounds", type=int, default=3, help="repeats of the 20 pan/zoom steps")
    p.add_argument("--outliers", choices=("default", "on", "off"), default="default",
                   help="ignore outliers (y axis from the 5-95%% percentiles); default: the app's")
    p.add_argument("--width", type=int, default=1400)
    p.add_argument("--height", type=int, default=900)
    p.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # child mode
    args = p.parse_args(argv)
    if args.no_raw:
        args.raw = "off"

    if args.json:
        print(json.dumps(measure(args)))
        return 0
    print(f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for raw in (("on", "off") if args.raw == "both" else (args.raw,)):
        child = [sys.executable, os.path.abspath(__file__), "--json", "--raw", raw]
        for name in ("runs", "points", "columns", "smoothing", "rounds", "width", "height", "outliers"):
            child += [f"--{name}", str(getattr(args, name))]
        proc = subprocess.run(child, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            return proc.returncode
        args.raw = raw
        report(args, json.loads(proc.stdout.strip().splitlines()[-1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
