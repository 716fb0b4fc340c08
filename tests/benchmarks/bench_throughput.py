"""Figure 2: sustained logging throughput into one store (target: >= 300k points/s).

One run logs 10-key dicts (100k calls = 1M points); the clock runs from the first ``log`` to
``finish()`` returning, i.e. until every point is committed. Reference in the same run: raw
sqlite3, one row per point, ``executemany`` + COMMIT per 1000 points (the best row-per-point
variant of ``shared/peers/ceiling_sqlite.py``; it blocks the loop, nothing runs in the background).

    python -m tests.benchmarks.bench_throughput [--quick]
"""

from __future__ import annotations

import sqlite3
import time

try:
    from tests.benchmarks import _common as c
except ImportError:  # run as a file
    import _common as c  # type: ignore[no-redef]

KEYS = [f"k{j}" for j in range(10)]


def runwatch(calls: int) -> dict[str, float]:
    import tracker_sdk

    vals = c.values(calls)
    with c.Scratch() as d:
        run = tracker_sdk.init(experiment="bench", store=d / "store")
        c.wait_for_capture(run)
        run.flush()
        pc = time.perf_counter
        cpu0 = time.process_time()
        t0 = pc()
        for i in range(calls):
            v = vals[i]
            run.log({k: v for k in KEYS}, step=i)
        t1 = pc()
        ok = run.finish()
        t2 = pc()
        cpu = time.process_time() - cpu0  # all threads of this process: load-independent-ish
        st = tracker_sdk.Store(d / "store")
        stored = sum(st.metric_history(run.id, k).steps.size for k in KEYS)
        st.close()
    return {"loop_s": t1 - t0, "finish_s": t2 - t1, "total_s": t2 - t0, "cpu_s": cpu, "stored": stored, "ok": ok}


def raw_sqlite(calls: int) -> dict[str, float]:
    with c.Scratch() as d:
        con = sqlite3.connect(d / "rows.db", isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("CREATE TABLE metrics(run_id INTEGER, key TEXT, step INTEGER, value REAL, timestamp INTEGER,"
                    " PRIMARY KEY(run_id, key, step)) WITHOUT ROWID")
        vals, run_id, buf = c.values(calls), 1, []
        t0 = time.perf_counter()
        for i in range(calls):
            v, ts = vals[i], int(time.time() * 1000)
            buf.extend((run_id, k, i, v, ts) for k in KEYS)
            if len(buf) >= 1000:
                con.execute("BEGIN")
                con.executemany("INSERT INTO metrics VALUES (?,?,?,?,?)", buf)
                con.execute("COMMIT")
                buf.clear()
        if buf:
            con.execute("BEGIN")
            con.executemany("INSERT INTO metrics VALUES (?,?,?,?,?)", buf)
            con.execute("COMMIT")
        total = time.perf_counter() - t0
        con.close()
    return {"total_s": total}


def run(quick: bool) -> list[c.Result]:
    calls = 10_000 if quick else 100_000
    points = calls * len(KEYS)
    rw = runwatch(calls)
    raw = raw_sqlite(calls)
    rate, raw_rate = points / rw["total_s"], points / raw["total_s"]
    print(f"  runwatch {points:,} points ({calls:,} calls x 10 keys): loop {rw['loop_s']:.2f} s"
          f" ({rw['loop_s'] / calls * 1e6:.1f} us/call), finish {rw['finish_s']:.2f} s, total {rw['total_s']:.2f} s;"
          f" stored {rw['stored']:,}, finish ok={rw['ok']}; process CPU {rw['cpu_s']:.2f} s"
          f" = {points / rw['cpu_s']:,.0f} points per CPU-second")
    print(f"  raw sqlite rows, executemany per 1000: {raw['total_s']:.2f} s")
    note = f"{points / rw['cpu_s']:,.0f} points per CPU-second"
    if rw["stored"] != points:
        note += f"; only {rw['stored']:,} of {points:,} stored"
    return [c.result("sustained throughput, first log -> finish returned", rate, "points/s", ">= 300000",
                     "sqlite rows, executemany/1000", raw_rate, lower_is_better=False, note=note)]


if __name__ == "__main__":
    c.main(run, "bench_throughput: sustained points/s into one store")
