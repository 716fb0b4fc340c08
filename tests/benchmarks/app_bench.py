"""App benchmarks (DESIGN §5): a 10,000-run store, and write → on-screen latency.

    python tests/benchmarks/app_bench.py [--store /tmp/big10k] [--latency-seconds 20]

1. Opening a store of 10,000 runs to a usable runs table (rows listed and painted), sorting it
   by a metric column and scrolling it; process RSS. (Builds the store with big_store.py if the
   path does not exist.) Target: ≤ 2 s to a usable table; sorting and scrolling smooth.
2. Live latency: a writer process logs the wall time as a metric at 50 Hz (default flush
   0.2 s); for every point, the app measures the next paint of its chart − the logged time.
   Target: p50 ≤ 0.5 s, p95 ≤ 1 s. Peers for context (not measured here): MLflow's UI refreshes
   every 30 s, TensorBoard reloads every ≥ 30 s (shared/research/anchor-features.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QEvent, QObject, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.qt.main_window import MainWindow  # noqa: E402
from app.qt.theme import apply_theme  # noqa: E402

WRITER = """
import sys, time, tracker_sdk
run = tracker_sdk.init(experiment="latency", name="writer", store=sys.argv[1])
i = 0
while True:
    run.log({"t": time.time()}, step=i)
    i += 1
    time.sleep(0.02)
"""


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wait(app: QApplication, pred, timeout: float) -> float:
    t = time.perf_counter()
    while not pred():
        app.processEvents()
        if time.perf_counter() - t > timeout:
            raise TimeoutError("condition not met")
        time.sleep(0.002)
    return time.perf_counter() - t


def window(app: QApplication) -> MainWindow:
    ini = Path(tempfile.mkdtemp()) / "bench.ini"
    w = MainWindow(QSettings(str(ini), QSettings.Format.IniFormat))
    w.resize(1440, 900)
    w.show()
    app.processEvents()
    return w


def bench_big_store(app: QApplication, path: Path) -> None:
    if not (path / "runwatch.db").exists():
        from tests.benchmarks.big_store import build

        print(f"building {path} (10,000 runs)…")
        build(path)
    w = window(app)
    table = w.runs_view.table
    t0 = time.perf_counter()
    w.open_store(path)
    wait(app, lambda: len(w.runs_model.rows) >= 10_000, 120)
    table.viewport().repaint()
    usable = time.perf_counter() - t0
    print(f"open 10,000-run store → table listed and painted: {usable:.2f} s  (target ≤ 2 s: "
          f"{'PASS' if usable <= 2 else 'MISS'})")
    col = 1 + next(i for i, c in enumerate(w.runs_model.columns) if c.kind == "metric")
    times = []
    for order in (0, 1, 0, 1):
        t = time.perf_counter()
        table.sortByColumn(col, order and __import__("PySide6.QtCore").QtCore.Qt.SortOrder.DescendingOrder
                           or __import__("PySide6.QtCore").QtCore.Qt.SortOrder.AscendingOrder)
        table.viewport().repaint()
        times.append(time.perf_counter() - t)
    print(f"sort 10,000 rows by {w.runs_model.columns[col - 1].title} + repaint: median {statistics.median(times) * 1000:.0f} ms")
    bar = table.verticalScrollBar()
    steps = []
    for v in range(0, bar.maximum(), max(1, bar.maximum() // 50)):
        t = time.perf_counter()
        bar.setValue(v)
        table.viewport().repaint()
        steps.append(time.perf_counter() - t)
    print(f"scroll step + repaint: median {statistics.median(steps) * 1000:.1f} ms, max {max(steps) * 1000:.1f} ms")
    print(f"RSS with the 10,000-run store open: {rss_mb():.0f} MB")
    w.close()


def bench_latency(app: QApplication, seconds: float) -> None:
    d = Path(tempfile.mkdtemp()) / "store"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(d)])
    try:
        wait(app, lambda: (d / "runwatch.db").exists(), 30)
        w = window(app)
        w.open_store(d)
        wait(app, lambda: len(w.runs_model.rows) == 1, 30)
        samples: list[float] = []  # per point: painted time − logged time
        pending: list[float] = []  # logged times of points handed to the chart, not yet painted
        newest = [0.0]
        orig = w.charts.set_series

        def spy(run_id, key, steps, values, timestamps):
            if key == "t" and len(values):
                fresh = values[values > newest[0]]
                if newest[0]:  # the first call is the initial load, not a live update
                    pending.extend(float(v) for v in fresh)
                newest[0] = float(values[-1])
            return orig(run_id, key, steps, values, timestamps)

        class PaintSpy(QObject):
            def eventFilter(self, obj, ev):  # noqa: N802 - Qt API
                if ev.type() == QEvent.Type.Paint and pending:
                    now = time.time()
                    samples.extend(now - v for v in pending)
                    pending.clear()
                return False

        w.charts.set_series = spy  # type: ignore[method-assign]
        w.controller._update_charts_now()
        wait(app, lambda: w.charts.plot("t") is not None, 30)
        paint_spy = PaintSpy()
        w.charts.plot("t").viewport().installEventFilter(paint_spy)
        end = time.time() + seconds
        while time.time() < end:
            app.processEvents()
            time.sleep(0.002)
        w.close()
    finally:
        proc.kill()
        proc.wait()
    live = samples
    if not live:
        print("latency: no live updates received")
        return
    q = statistics.quantiles(live, n=20)
    p50, p95 = statistics.median(live), q[18]
    print(f"write → painted on the chart, per point, over {len(live)} points: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
          f"  (targets ≤ 500 / ≤ 1000 ms: {'PASS' if p50 <= 0.5 and p95 <= 1 else 'MISS'});"
          f" peers: MLflow UI 30 s refresh, TensorBoard ≥ 30 s reload")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "runwatch-big10k")
    p.add_argument("--latency-seconds", type=float, default=20)
    a = p.parse_args()
    app = QApplication.instance() or QApplication([])
    apply_theme(app, "light")
    print(f"== app benchmarks (loadavg {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    bench_latency(app, a.latency_seconds)
    bench_big_store(app, a.store)


if __name__ == "__main__":
    main()
