"""MLflow databases opened in place: open, one history, write -> visible, memory.

On the database of ``mlflow_big_db`` (written by the real MLflow: 1,000 runs x 10 metrics x
1,000 steps, one run of 100k points and one of 1M; built once, ~20 min, then cached):

- open to a usable table: ``open_store`` (first sync slice) + ``search_runs()`` listing every
  run with its params (target <= 1.5 s), and the time until every point is mirrored;
- one 100k-point history (target <= 150 ms), against MLflow's own
  ``MlflowClient.get_metric_history`` in the same run;
- write -> visible while an MLflow script logs 10 points/s: the time from ``log_metric``
  returning in the script to the point being readable here, through the same path as the app
  (the watcher on the database's folder, a 30 ms debounce, ``sync`` + ``changes_since``);
- resident memory after the mirror caught up.

    python -m tests.benchmarks.bench_mlflow [--quick]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

try:
    from tests.benchmarks import _common as c
    from tests.benchmarks import mlflow_big_db
except ImportError:  # run as a file
    import _common as c  # type: ignore[no-redef]
    import mlflow_big_db  # type: ignore[no-redef]

LATENCY_POINTS = 100


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def open_and_read(db: Path) -> dict[str, float]:
    import tracker_sdk

    t0 = time.perf_counter()
    st = tracker_sdk.open_store(db)
    runs = st.search_runs()
    usable = time.perf_counter() - t0
    assert len(runs) >= 1000 and all(r.params for r in runs if r.name.startswith("trial-")), "table incomplete"
    st.sync_all()
    caught_up = time.perf_counter() - t0
    mid = next(r for r in st.search_runs() if r.name == mlflow_big_db.MID_RUN)
    times = []
    for _ in range(5):
        t1 = time.perf_counter()
        h = st.metric_history(mid.id, "loss")
        times.append(time.perf_counter() - t1)
    assert h.steps.size == mlflow_big_db.MID_POINTS
    out = {"usable": usable, "caught_up": caught_up, "history": statistics.median(times),
           "rss": rss_mb(), "mid_id": mid.id}
    st.close()
    return out


def mlflow_history(db: Path, run_id: str) -> float | None:
    try:
        from mlflow import MlflowClient
    except ImportError:
        return None
    client = MlflowClient(f"sqlite:///{db}")
    client.get_metric_history(run_id, "loss")  # warm-up: connection, ORM
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        hist = client.get_metric_history(run_id, "loss")
        times.append(time.perf_counter() - t0)
    assert len(hist) == mlflow_big_db.MID_POINTS
    return statistics.median(times)


WRITER = """
import sys, time, mlflow
mlflow.set_tracking_uri("sqlite:///mlflow.db")
mlflow.set_experiment("live")
with mlflow.start_run(run_name="live"):
    print("started", flush=True)
    for i in range(N):
        mlflow.log_metric("x", float(i), step=i)
        print(i, time.time(), flush=True)
        time.sleep(0.1)
"""


def latency(work: Path, n: int) -> list[float]:
    """Seconds from log_metric returning in an MLflow script to the point being readable."""
    import tracker_sdk
    from app.core.watcher import StoreWatcher, foreign_classifier

    env = {**os.environ, "GIT_PYTHON_REFRESH": "quiet"}
    subprocess.run([sys.executable, "-c", "import mlflow; mlflow.set_tracking_uri('sqlite:///mlflow.db');"
                    "mlflow.set_experiment('live')"], cwd=work, check=True, env=env, capture_output=True)
    st = tracker_sdk.open_store(work / "mlflow.db")
    seen: dict[int, float] = {}
    lock = threading.Lock()
    wake = threading.Event()
    cursor = [st.cursor()]

    def read() -> None:
        st.sync()
        cs = st.changes_since(cursor[0])
        cursor[0] = cs.cursor
        now = time.time()
        for run_id, key in cs.series:
            for ch in st.metric_chunks(run_id, key):
                for s in ch.steps.tolist():
                    with lock:
                        seen.setdefault(int(s), now)

    def reader_loop() -> None:  # the app's debounce: read 30 ms after the last event
        while not stop.is_set():
            if wake.wait(0.5):
                wake.clear()
                time.sleep(0.03)
                wake.clear()
            read()

    stop = threading.Event()
    reader = st.reader
    watcher = StoreWatcher(reader.watch_root, lambda _k: wake.set(),
                           classifier=foreign_classifier(reader.is_relevant), recursive=False)
    watcher.start()
    thread = threading.Thread(target=reader_loop, daemon=True)
    thread.start()
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(WRITER).replace("N", str(n))],
                          cwd=work, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    returned = {int(a): float(b) for a, b in (line.split() for line in proc.stdout.splitlines()[1:])}
    deadline = time.time() + 10
    while time.time() < deadline and len(seen) < n:
        time.sleep(0.05)
    stop.set()
    thread.join(2)
    watcher.stop()
    st.close()
    return [seen[i] - returned[i] for i in range(n) if i in seen]


def run(quick: bool) -> list[c.Result]:
    db = mlflow_big_db.ensure()
    print(f"  database: {db} ({db.stat().st_size / 1e9:.2f} GB, written by MLflow)")
    rw = open_and_read(db)
    peer = mlflow_history(db, rw["mid_id"])
    print(f"  open: usable table {rw['usable'] * 1e3:.0f} ms, every point mirrored after {rw['caught_up']:.1f} s;"
          f" RSS {rw['rss']:.0f} MB")
    with c.Scratch() as d:
        lat = sorted(latency(d, 30 if quick else LATENCY_POINTS))
    p50, p95 = lat[len(lat) // 2], lat[int(len(lat) * 0.95)]
    print(f"  write -> visible ({len(lat)} points): p50 {p50 * 1e3:.0f} ms, p95 {p95 * 1e3:.0f} ms,"
          f" max {lat[-1] * 1e3:.0f} ms")
    return [
        c.result("MLflow db open to a usable table", rw["usable"] * 1e3, "ms", "<= 1500"),
        c.result("MLflow db mirrored whole (11M points)", rw["caught_up"], "s"),
        c.result("one 100k-point history", rw["history"] * 1e3, "ms", "<= 150",
                 "MLflow get_metric_history" if peer is not None else "",
                 None if peer is None else peer * 1e3),
        c.result("write -> visible p50 (MLflow script, 10 pts/s)", p50 * 1e3, "ms", "<= 250",
                 "MLflow UI refresh", 30_000.0),
        c.result("write -> visible p95", p95 * 1e3, "ms", "<= 1000"),
        c.result("RSS after mirroring", rw["rss"], "MB"),
    ]


if __name__ == "__main__":
    c.main(run, "bench_mlflow: MLflow databases opened in place")
