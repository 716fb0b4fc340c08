"""Figure 6: disk bytes per metric point (target <= 30 B) and ``import tracker_sdk`` (<= 0.3 s).

Bytes: a child process logs 10k points of one key into a fresh store, another 110k; after the
children exit the WAL is checkpointed (TRUNCATE) and the ``runwatch.db*`` files are summed; the
marginal figure is (size@110k - size@10k) / 100k. Peer: raw sqlite3 rows
``(run_id, key, step, value, timestamp)``, same method.
Import: median of 5 ``python -c "import tracker_sdk"`` (wall, interpreter start included), with
``python -c pass`` and ``import tracker_sdk.api`` (what ``init()`` pulls in) for context; peer:
``import mlflow`` (median of 3) when installed.

    python -m tests.benchmarks.bench_disk_import [--quick]
"""

from __future__ import annotations

import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

try:
    from tests.benchmarks import _common as c
except ImportError:  # run as a file
    import _common as c  # type: ignore[no-redef]


def child(store: str, n: int) -> None:
    import tracker_sdk

    vals = c.values(n)
    with tracker_sdk.init(experiment="bench", store=store) as run:
        for i in range(n):
            run.log({"loss": vals[i]}, step=i)


def checkpointed_bytes(db: Path) -> tuple[int, int]:
    """(bytes of db + wal after a TRUNCATE checkpoint, bytes on the freelist)."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    free = con.execute("PRAGMA freelist_count").fetchone()[0] * con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*")), free


def runwatch_bytes(d: Path, n: int) -> tuple[int, int]:
    store = d / f"store{n}"
    subprocess.run([sys.executable, "-m", "tests.benchmarks.bench_disk_import", "--child", str(store), str(n)],
                   cwd=c.ROOT, check=True)
    return checkpointed_bytes(store / "runwatch.db")


def rows_bytes(d: Path, n: int) -> int:
    db = d / f"rows{n}.db"
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE metrics(run_id INTEGER, key TEXT, step INTEGER, value REAL, timestamp INTEGER,"
                " PRIMARY KEY(run_id, key, step)) WITHOUT ROWID")
    vals, ts = c.values(n), int(time.time() * 1000)
    for start in range(0, n, 1000):  # as a logger would: a transaction per batch
        con.execute("BEGIN")
        con.executemany("INSERT INTO metrics VALUES (?,?,?,?,?)",
                        ((1, "loss", i, vals[i], ts + i) for i in range(start, min(n, start + 1000))))
        con.execute("COMMIT")
    con.close()
    return checkpointed_bytes(db)[0]


def wall(code: str, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=c.ROOT)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(quick: bool) -> list[c.Result]:
    small, big = (10_000, 60_000) if quick else (10_000, 110_000)
    with c.Scratch() as d:
        (a, free_a), (b, free_b) = runwatch_bytes(d, small), runwatch_bytes(d, big)
        ra, rb = rows_bytes(d, small), rows_bytes(d, big)
    per, rows_per = (b - a) / (big - small), (rb - ra) / (big - small)
    print(f"  runwatch store: {a:,} B @{small:,}, {b:,} B @{big:,} (freelist {free_a:,} / {free_b:,} B):"
          f" {per:.1f} B/point marginal; total/points @{big:,}: {b / big:.1f} B")
    print(f"  raw sqlite rows: {ra:,} B @{small:,}, {rb:,} B @{big:,}: {rows_per:.1f} B/point marginal")
    base = wall("pass", 5)
    imp = wall("import tracker_sdk", 5)
    api = wall("import tracker_sdk.api", 5)
    print(f"  python -c: pass {base:.3f} s, import tracker_sdk {imp:.3f} s, import tracker_sdk.api {api:.3f} s (medians of 5)")
    ml = None
    if c.have_mlflow():
        ml = wall("import mlflow", 3)
        print(f"  python -c 'import mlflow': {ml:.2f} s (median of 3)")
    else:
        print(f"  {c.PEER_MISSING}")
    return [
        c.result("disk bytes per point (marginal, checkpointed)", per, "B", "<= 30", "raw sqlite rows", rows_per),
        c.result("python -c 'import tracker_sdk' (median of 5)", imp, "s", "<= 0.3", "import mlflow" if ml else "", ml),
        c.result("python -c 'import tracker_sdk.api' (what init loads)", api, "s",
                 note=f"python -c pass: {base:.3f} s"),
    ]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
    else:
        c.main(run, "bench_disk_import: bytes per point, import time")
