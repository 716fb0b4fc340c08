"""Compare-view computations at sweep scale (issue 4 targets).

    python tests/benchmarks/compare_bench.py

Targets: grouping 200 runs × 50k points into bands ≤ 1 s; axes for parallel coordinates over
5,000 runs × 30 params well inside the ≤ 1 s draw budget.
"""

from __future__ import annotations

import time

import numpy as np

from app.core.correlation import axis_values, brush_filter
from app.core.grouping import aggregate_band


def best_of(n, fn):
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    x = np.arange(50_000) * 10
    series = [(x, rng.normal(size=x.size)) for _ in range(200)]
    live = [(x[: 25_000 + 100 * i], y[: 25_000 + 100 * i]) for i, (_, y) in enumerate(series)]
    print("bands, 200 runs × 50k points (target ≤ 1 s)")
    for label, s in (("identical steps", series), ("live, uneven lengths", live)):
        for center, band in (("mean", "std"), ("mean", "minmax"), ("median", "stderr")):
            t = best_of(3, lambda: aggregate_band(s, center=center, band=band))
            print(f"  {label:22s} {center:6s} {band:7s} {t * 1000:7.1f} ms")
    cols = []
    for p in range(30):
        if p % 3 == 0:
            cols.append([str(v) for v in rng.choice([1e-4, 3e-4, 1e-3, 3e-3], 5000)])
        elif p % 3 == 1:
            cols.append([str(v) for v in rng.normal(size=5000)])
        else:
            cols.append(list(rng.choice(["adam", "sgd", "1", None], 5000)))

    def axes():
        a = {f"p{i}": axis_values(c) for i, c in enumerate(cols)}
        brush_filter(a, {"p0": (-3.6, -3.0), "p1": (-1.0, 1.0)})

    print(f"axes + brush, 5,000 runs × 30 params: {best_of(5, axes) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
