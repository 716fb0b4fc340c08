"""The cost of one live tick for a long series: 10 new points on a 1M-point series.

What the app does between a flush and the chart having the new points, off the chart's
drawing: fetch the changed chunks, extend the cached arrays, hand them to the chart, which
extends its display. Measured two ways in the same run:

- append (the app now): the series cache appends the new points to spare-capacity buffers
  (``SeriesCache.arrays`` is a view), and the chart extends its display by the new points,
  told by the cache's generation that nothing before them changed;
- re-derive (the app before): the cache concatenates every chunk into fresh arrays and the
  chart compares the old points with the new arrays to find the append.

    python -m tests.benchmarks.bench_live_tick [--quick]
"""

from __future__ import annotations

import statistics
import time

import numpy as np

try:
    from tests.benchmarks import _common as c
except ImportError:  # run as a file
    import _common as c  # type: ignore[no-redef]

TICKS = 30
NEW = 10


def run(quick: bool) -> list[c.Result]:
    import tracker_sdk
    from app.core.series_cache import SeriesCache
    from app.qt.charts.series import Series

    n = 100_000 if quick else 1_000_000
    with c.Scratch() as d:
        run_ = tracker_sdk.init(store=d / "store", flush_interval=0.05)
        for i in range(n):
            run_.log({"loss": 1.0 / (i + 1)}, step=i)
        run_.flush()
        store = tracker_sdk.Store(d / "store")
        cache = SeriesCache()
        cache.update(store, run_.id, "loss")
        shown = Series(*cache.arrays(run_.id, "loss"))
        shown.display("step", 0, 0.6, False)
        gen = cache.generation(run_.id, "loss")
        append_ms, rederive_ms = [], []
        step = n
        for _ in range(TICKS):
            for _ in range(NEW):
                run_.log({"loss": 0.5}, step=step)
                step += 1
            run_.flush()
            # append path
            t0 = time.perf_counter()
            cache.update(store, run_.id, "loss")
            arrays = cache.arrays(run_.id, "loss")
            new = Series(*arrays)
            new.adopt(shown, appended=cache.generation(run_.id, "loss") == gen)
            new.display("step", 0, 0.6, False)
            append_ms.append((time.perf_counter() - t0) * 1e3)
            # re-derive path: concatenate all chunks, compare prefixes to find the append
            chunks = store.metric_chunks(run_.id, "loss")
            t1 = time.perf_counter()
            whole = tuple(np.concatenate([getattr(ch, f) for ch in chunks]) for f in ("steps", "values", "timestamps"))
            other = Series(*whole)
            other.adopt(shown, appended=False)
            other.display("step", 0, 0.6, False)
            rederive_ms.append((time.perf_counter() - t1) * 1e3)
            shown = new
        assert len(shown) == n + TICKS * NEW
        run_.finish()
        store.close()
    a, r = statistics.median(append_ms), statistics.median(rederive_ms)
    print(f"  {n:,}-point series, {NEW} new points a tick, median of {TICKS}: append {a:.2f} ms,"
          f" re-derive {r:.2f} ms (chunk fetch excluded from the latter)")
    return [c.result(f"live tick, {n:,}-pt series + {NEW} pts (cache + chart display)", a, "ms", "",
                     "re-derive (concatenate + compare)", r)]


if __name__ == "__main__":
    c.main(run, "bench_live_tick: one live tick for a long series")
