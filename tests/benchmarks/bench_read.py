"""Figure 3: read a 1M-point series into numpy (target: <= 100 ms).

Runwatch: a new ``Store`` object each time (so no pooled connection or cache is reused; the OS
page cache is warm, hence "cold-ish"), then ``metric_history(run, key)``.
Peer, same run: raw sqlite3 row-per-point, a table ``(run_id, key, step, value, timestamp)``
clustered on ``(run_id, key, step)``, read with ``SELECT step, value, timestamp ... ORDER BY step``
on a new connection and turned into three numpy arrays (as ``shared/peers/ceiling_sqlite.py``).

    python -m tests.benchmarks.bench_read [--quick]
"""

from __future__ import annotations

import sqlite3
import statistics
import time

import numpy as np

try:
    from tests.benchmarks import _common as c
except ImportError:  # run as a file
    import _common as c  # type: ignore[no-redef]

REPS = 5


def runwatch(d, n: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    import tracker_sdk

    vals = c.values(n)
    t0 = time.perf_counter()
    with tracker_sdk.init(experiment="bench", store=d / "store") as run:
        for i in range(n):
            run.log({"loss": vals[i]}, step=i)
    fill_s = time.perf_counter() - t0
    opens, fetches, cpus = [], [], []
    for _ in range(REPS):
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        st = tracker_sdk.Store(d / "store")
        t1 = time.perf_counter()
        h = st.metric_history(run.id, "loss")
        t2 = time.perf_counter()
        st.close()
        cpus.append(time.process_time() - cpu0)
        opens.append(t1 - t0)
        fetches.append(t2 - t1)
    assert h.steps.size == n and h.steps[-1] == n - 1 and h.values[-1] == vals[-1], "series read back wrong"
    totals = [a + b for a, b in zip(opens, fetches)]
    return {"fill_s": fill_s, "first": totals[0], "median": statistics.median(totals),
            "open": statistics.median(opens), "fetch": statistics.median(fetches), "cpu": statistics.median(cpus)}


def raw_rows(d, n: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    db, run_id = d / "rows.db", 1
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE metrics(run_id INTEGER, key TEXT, step INTEGER, value REAL, timestamp INTEGER,"
                " PRIMARY KEY(run_id, key, step)) WITHOUT ROWID")
    ts, vals = int(time.time() * 1000), c.values(n)
    con.execute("BEGIN")
    con.executemany("INSERT INTO metrics VALUES (?,?,?,?,?)", ((run_id, "loss", i, vals[i], ts) for i in range(n)))
    con.execute("COMMIT")
    con.close()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        rows = con.execute("SELECT step, value, timestamp FROM metrics WHERE run_id = ? AND key = ?"
                           " ORDER BY step", (run_id, "loss")).fetchall()
        a = np.array(rows, dtype=np.float64).reshape(-1, 3)
        steps, values, stamps = a[:, 0].astype(np.int64), a[:, 1].copy(), a[:, 2].astype(np.int64)
        times.append(time.perf_counter() - t0)
        con.close()
    assert steps.size == n and values[-1] == vals[-1] and stamps[0] == ts
    return {"median": statistics.median(times)}


def run(quick: bool) -> list[c.Result]:
    n = 100_000 if quick else 1_000_000
    with c.Scratch() as d:
        rw = runwatch(d, n)
        raw = raw_rows(d, n)
    print(f"  runwatch {n:,} points (filled by the SDK in {rw['fill_s']:.1f} s): first read {rw['first'] * 1e3:.0f} ms,"
          f" median of {REPS} {rw['median'] * 1e3:.0f} ms (Store() {rw['open'] * 1e3:.0f} ms"
          f" + metric_history {rw['fetch'] * 1e3:.0f} ms); CPU {rw['cpu'] * 1e3:.0f} ms")
    print(f"  raw sqlite rows: median of 3 reads {raw['median'] * 1e3:.0f} ms")
    peer = "raw sqlite rows -> numpy"
    return [
        c.result(f"read {n:,}-pt series, new Store + metric_history (median)", rw["median"] * 1e3, "ms",
                 "<= 100", peer, raw["median"] * 1e3,
                 note=f"process CPU {rw['cpu'] * 1e3:.0f} ms (median)"),
        c.result(f"read {n:,}-pt series, first read", rw["first"] * 1e3, "ms", "<= 100", peer, raw["median"] * 1e3),
    ]


if __name__ == "__main__":
    c.main(run, "bench_read: 1M-point series into numpy")
