"""Build (once) the MLflow database the MLflow benchmarks read, with the real MLflow.

1,000 runs × 10 metrics × 1,000 steps, one run of 100,000 points and one of 1,000,000 (11.1M
metric rows), each
run with 10 params and a few tags, written through ``MlflowClient.log_batch`` (MLflow's fastest
path: ~0.1 ms a row here, so ~20 min). The result is cached and reused:

    python -m tests.benchmarks.mlflow_big_db [--runs 1000] [--out PATH]

Default path: ``$RUNWATCH_BENCH_MLFLOW_DB``, else ``~/.cache/runwatch-bench/mlflow-big.db``.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

DEFAULT = Path(os.environ.get("RUNWATCH_BENCH_MLFLOW_DB", "~/.cache/runwatch-bench/mlflow-big.db")).expanduser()
BIG_RUN = "big-1M"
MID_RUN = "mid-100k"
MID_POINTS = 100_000


def build(out: Path, runs: int = 1000, keys: int = 10, steps: int = 1000, big: int = 1_000_000) -> Path:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    client = MlflowClient(f"sqlite:///{tmp}")
    exp = client.create_experiment("bench", artifact_location=str(out.parent / "mlartifacts"))
    t0 = time.time()
    for i in range(runs):
        run = client.create_run(exp, run_name=f"trial-{i:04d}")
        rid, ts = run.info.run_id, int(time.time() * 1000)
        client.log_batch(rid, params=[Param(f"p{k}", str(k * i)) for k in range(10)],
                         tags=[RunTag("seed", str(i % 5)), RunTag("group", f"g{i % 10}")])
        rows = [Metric(f"m{k}", math.exp(-s / 300) + 0.01 * k + 0.001 * (i % 7), ts + s, s)
                for k in range(keys) for s in range(steps)]
        for j in range(0, len(rows), 1000):
            client.log_batch(rid, metrics=rows[j:j + 1000])
        client.set_terminated(rid)
        if i % 50 == 0:
            print(f"  {i}/{runs} runs, {time.time() - t0:.0f} s", flush=True)
    run = client.create_run(exp, run_name=BIG_RUN)
    ts = int(time.time() * 1000)
    for j in range(0, big, 1000):
        client.log_batch(run.info.run_id, metrics=[Metric("loss", 1.0 / (s + 1), ts + s, s) for s in range(j, j + 1000)])
    client.set_terminated(run.info.run_id)
    add_mid_run(tmp)
    tmp.rename(out)
    print(f"built {out} in {time.time() - t0:.0f} s", flush=True)
    return out


def add_mid_run(db: Path) -> None:
    """The one 100k-point series the history benchmark reads (MLflow's own client too)."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(f"sqlite:///{db}")
    exp = client.get_experiment_by_name("bench")
    run = client.create_run(exp.experiment_id, run_name=MID_RUN)
    ts = int(time.time() * 1000)
    for j in range(0, MID_POINTS, 1000):
        client.log_batch(run.info.run_id, metrics=[Metric("loss", 1.0 / (s + 1), ts + s, s)
                                                   for s in range(j, j + 1000)])
    client.set_terminated(run.info.run_id)


def _has_mid_run(db: Path) -> bool:
    import sqlite3

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT 1 FROM runs WHERE name = ?", (MID_RUN,)).fetchone() is not None
    finally:
        con.close()


def ensure(path: Path = DEFAULT) -> Path:
    if not path.exists():
        return build(path)
    if not _has_mid_run(path):  # a database built before the 100k run was part of it
        add_mid_run(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=DEFAULT)
    a = ap.parse_args()
    build(a.out, runs=a.runs)


if __name__ == "__main__":
    main()
