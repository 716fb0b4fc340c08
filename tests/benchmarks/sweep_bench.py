"""Sweep views at scale (issue targets: ≤ 1 s to draw 5,000 runs, brushing interactive).

    python tests/benchmarks/sweep_bench.py [n_runs]

5,000 runs × 12 params (log lr, discrete batch size, a categorical, a param missing in 15%
of the runs, 8 continuous ones) and two metrics. Times are wall clock, offscreen Qt, best of
a few repeats; "painted" means a synchronous repaint of the plot finished.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.qt.sweep import SweepView  # noqa: E402
from tracker_sdk.entities import MetricSummary, RunInfo, RunStatus  # noqa: E402


def make_runs(n: int, seed: int = 0, start: int = 0) -> list[RunInfo]:
    rng = np.random.default_rng(seed)
    runs = []
    for i in range(start, start + n):
        lr = 10 ** rng.uniform(-5, -1)
        params = {"lr": f"{lr:.4g}", "batch_size": str(int(rng.choice([32, 64, 128, 256]))),
                  "optimizer": str(rng.choice(["adam", "adamw", "sgd"]))}
        if rng.random() > 0.15:
            params["dropout"] = f"{rng.uniform(0, 0.5):.3f}"
        for k in range(8):
            params[f"p{k}"] = f"{rng.normal():.5f}"
        loss = 0.2 - 0.1 * math.log10(lr) + rng.normal(0, 0.05)
        metrics = {"val/loss": MetricSummary("val/loss", loss, 100, loss * 0.9, loss * 1.4, 100, 0),
                   "val/acc": MetricSummary("val/acc", 1 - loss / 2, 100, 0.1, 1 - loss / 2, 100, 0)}
        runs.append(RunInfo(id=f"r{i:06d}", name=f"sweep-{i}", experiment="e", status=RunStatus.FINISHED,
                            start_time=i, end_time=i + 1, params=params, metrics=metrics))
    return runs


CPU: list[float] = []  # process CPU ms of the last timed() call (the machine may be shared)


def timed(fn) -> float:
    t, c = time.perf_counter(), time.process_time()
    fn()
    CPU.append((time.process_time() - c) * 1000)
    return (time.perf_counter() - t) * 1000


def fmt(walls: list[float], cpus: list[float], how=min) -> str:
    return f"{how(walls):7.1f} ms wall ({how(cpus):6.1f} ms CPU)"


def measure(fn, repeat: int) -> tuple[list[float], list[float]]:
    walls = [timed(fn) for _ in range(repeat)]
    return walls, CPU[-repeat:]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    app = QApplication.instance() or QApplication([])
    runs = make_runs(n)
    print(f"sweep views, {n:,} runs × 12 params, 1400×800 px "
          f"(targets: draw ≤ 1000 ms, brush ≤ ~100 ms); best or median of repeats")

    def fresh(tab: int) -> SweepView:
        v = SweepView()
        v.resize(1400, 800)
        v.set_tab(tab)
        v.show()
        app.processEvents()
        return v

    for tab, label in ((0, "parallel coords"), (1, "scatter")):
        walls, cpus = [], []
        for _ in range(3):
            v = fresh(tab)
            plot = v.parallel.plot if tab == 0 else v.scatter.plot
            walls.append(timed(lambda v=v, plot=plot: (v.set_runs(runs), plot.viewport().repaint())))
            cpus.append(CPU[-1])
            v.close()
        print(f"  {label:16s} set_runs → painted            {fmt(walls, cpus)}")

    v = fresh(0)
    pc, vp = v.parallel, v.parallel.plot.viewport()
    v.set_runs(runs)
    vp.repaint()
    app.processEvents()  # idle time after the first paint (the faint layer is pre-rendered here)
    rng = np.random.default_rng(1)
    for label, width in (("brush lr, ~half the runs pass", 2.0), ("brush lr, ~5% pass", 0.2)):
        los = list(rng.uniform(-5, -1 - width, 15))
        walls = [timed(lambda lo=lo: (pc.set_brush("lr", lo, lo + width), vp.repaint())) for lo in los]
        print(f"  {label:33s} → repainted {fmt(walls, CPU[-15:], statistics.median)}  "
              f"(max {max(walls):.0f} ms wall)")
    w, c = measure(lambda: (pc.set_brush("optimizer", 0, 0), vp.repaint()), 5)
    print(f"  + brush on a categorical axis       → repainted {fmt(w, c)}")
    w, c = measure(lambda: (pc.clear_brush(), vp.repaint()), 3)
    print(f"  clear brushes (all 5,000 coloured)  → repainted {fmt(w, c)}")
    pc.set_brush("lr", -4, -2)
    vp.repaint()
    scene = pc._vb.mapViewToScene(pc._vb.viewRect().center())
    w, c = measure(lambda: (pc._on_mouse_moved(scene), pc._on_mouse_moved(scene + scene * 0.01), vp.repaint()), 10)
    print(f"  hover: nearest line + tooltip       → repainted {fmt(w, c, statistics.median)}")
    # Fresh snapshots as a live store hands them over: new objects (50 new runs every other time).
    snaps = [make_runs(n) + make_runs(50, seed=2, start=n) if i % 2 else make_runs(n) for i in range(4)]
    w, c = measure(lambda: (v.set_runs(snaps.pop()), vp.repaint()), 4)
    print(f"  live set_runs with a brush active   → repainted {fmt(w, c)}")
    same = list(v._runs)
    w, c = measure(lambda: (v.set_runs(same), vp.repaint()), 4)
    print(f"  set_runs with the very same objects → repainted {fmt(w, c)}")
    v.set_tab(1)
    app.processEvents()
    svp = v.scatter.plot.viewport()
    los = [-5.0, -4.0, -3.0, -2.5]
    w, c = measure(lambda: (pc.set_brush("lr", los.pop(), -1.5), svp.repaint()), 4)
    print(f"  brush, scatter showing (faint rest) → repainted {fmt(w, c)}")
    v.set_tab(2)
    app.processEvents()
    snaps = [make_runs(n) for _ in range(3)]
    w, c = measure(lambda: (v.set_runs(snaps.pop()), v.importance.table.viewport().repaint()), 3)
    print(f"  what mattered: set_runs             → painted   {fmt(w, c)}")
    v.close()


if __name__ == "__main__":
    main()
