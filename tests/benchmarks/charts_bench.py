"""Charts benchmark (DESIGN §5): 100 runs x 100k points overlaid in one panel.

Plain script, offscreen:

    .venv/bin/python tests/benchmarks/charts_bench.py [--runs 100] [--points 100000]
        [--columns 3] [--smoothing 0.6] [--no-raw] [--width 1400] [--height 900]

Measures
  * first draw: from the first ``set_series`` call to the end of the first paint that
    shows the data (the redraw timer, smoothing, decimation and painting included);
  * pan/zoom: median of 20 ``setXRange`` steps (zoom in, pan, zoom out), each timed from
    the call to the end of the next paint, re-decimation included;
  * process RSS (psutil) after all of it.
Targets: first draw <= 2 s, pan/zoom <= 50 ms, RSS <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.core.chart_settings import ChartSettings  # noqa: E402
from app.core.colors import palette_for  # noqa: E402
from app.qt.charts import ChartsView  # noqa: E402

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


class PaintCounter:
    def __init__(self, widget) -> None:
        self.count = 0
        original = widget.paintEvent

        def paint(ev):
            original(ev)
            self.count += 1

        widget.paintEvent = paint

    def wait(self, app: QApplication, since: int, timeout: float = 60.0) -> None:
        deadline = time.perf_counter() + timeout
        while self.count <= since:
            app.processEvents()
            if time.perf_counter() > deadline:
                raise TimeoutError("no paint")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--points", type=int, default=100_000)
    p.add_argument("--columns", type=int, default=3)
    p.add_argument("--smoothing", type=float, default=0.6)
    p.add_argument("--no-raw", action="store_true")
    p.add_argument("--width", type=int, default=1400)
    p.add_argument("--height", type=int, default=900)
    args = p.parse_args(argv)

    app = QApplication.instance() or QApplication(sys.argv)
    view = ChartsView(settings=ChartSettings(smoothing=args.smoothing, columns=args.columns,
                                             show_raw=not args.no_raw))
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
    t_set = time.perf_counter() - t0
    # Wait for the paint that shows the data (paints before the redraw timer fired do not count).
    while True:
        counter.wait(app, since)
        since = counter.count
        if plot.drawn(ids[-1]) is not None and not view._timer.isActive():  # noqa: SLF001
            break
    t_first, c_first = time.perf_counter() - t0, time.process_time() - c0
    drawn = plot.main_layer.point_count() + (
        plot.raw_layer.point_count() if plot.raw_layer.isVisible() else 0)

    n = args.points
    steps_ranges = []
    lo, hi = 0.0, float(n)
    for i in range(20):
        if i < 7:  # zoom in around 60%
            c, half = 0.6 * n, (hi - lo) / 2 * 0.7
            lo, hi = c - half, c + half
        elif i < 14:  # pan right by 5% of the width
            d = (hi - lo) * 0.05
            lo, hi = lo + d, hi + d
        else:  # zoom back out
            c, half = (lo + hi) / 2, (hi - lo) / 2 * 1.6
            lo, hi = max(c - half, -1000.0), min(c + half, n + 1000.0)
        steps_ranges.append((lo, hi))
    times, cpu = [], []
    for lo, hi in steps_ranges:
        since = counter.count
        t, c = time.perf_counter(), time.process_time()
        plot.setXRange(lo, hi, padding=0)
        counter.wait(app, since)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    rss = psutil.Process().memory_info().rss

    raw = "off" if args.no_raw or args.smoothing == 0 else "on"
    print(f"runs={args.runs} points={args.points} panel={int(plot.vb.width())}px wide "
          f"(columns={args.columns}) smoothing={args.smoothing} raw={raw}")
    print(f"  set_series x{args.runs}: {t_set * 1e3:.1f} ms")
    print(f"  first draw (set_series -> painted): {t_first * 1e3:.0f} ms wall, "
          f"{c_first * 1e3:.0f} ms CPU   [target <= 2000 ms]")
    print(f"  points drawn at full view: {drawn:,}")
    print(f"  pan/zoom setXRange -> painted: median {statistics.median(times) * 1e3:.1f} ms wall "
          f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f}), "
          f"median {statistics.median(cpu) * 1e3:.1f} ms CPU   [target <= 50 ms]")
    for name, part in (("zoom in", slice(0, 7)), ("pan", slice(7, 14)), ("zoom out", slice(14, 20))):
        print(f"    {name:8}: median {statistics.median(times[part]) * 1e3:.1f} ms wall, "
              f"{statistics.median(cpu[part]) * 1e3:.1f} ms CPU")
    print(f"  load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  RSS: {rss / 2**20:.0f} MiB (before data {rss_before / 2**20:.0f} MiB)"
          "   [target <= 1536 MiB]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
