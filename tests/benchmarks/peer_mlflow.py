"""MLflow peer (SQLite store), run as a child so its imports and threads stay out of our process.

    python -m tests.benchmarks.peer_mlflow --n 300 --out result.json

Times each ``mlflow.log_metric("loss", v, step=i)`` with ``perf_counter_ns`` (the loop of
``shared/peers/peer_mlflow.py``, variant sqlite-metric), then the same N calls of
``mlflow.log_metrics`` with the 2-key dict that the Runwatch loop logs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time


def timed(fn, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    pc = time.perf_counter_ns
    ns = [0] * n
    for i in range(n):
        v = 1.0 / (i + 1)
        t0 = pc()
        fn(i, v)
        ns[i] = pc() - t0
    return ns


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="rw-bench-mlflow-") as d:
        t0 = time.perf_counter()
        import mlflow

        import_s = time.perf_counter() - t0
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        mlflow.set_tracking_uri(f"sqlite:///{d}/mlflow.db")
        t0 = time.perf_counter()
        exp = mlflow.create_experiment("bench", artifact_location=f"file://{d}/artifacts")
        mlflow.start_run(experiment_id=exp)
        init_s = time.perf_counter() - t0
        for i in range(10):  # warm-up: sessions, caches
            mlflow.log_metric("warmup", 1.0, step=i)
        one = timed(lambda i, v: mlflow.log_metric("loss", v, step=i), a.n)
        two = timed(lambda i, v: mlflow.log_metrics({"loss": v, "acc": v}, step=a.n + i), a.n)
        mlflow.end_run()
    with open(os.path.abspath(a.out), "w") as f:
        json.dump({"version": mlflow.__version__, "import_s": import_s, "init_s": init_s,
                   "log_metric_ns": one, "log_metrics2_ns": two}, f)


if __name__ == "__main__":
    main()
