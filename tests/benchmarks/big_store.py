"""Build a large store quickly for the app benchmarks (10,000 runs by default).

Going through ``tracker_sdk.init`` costs one synchronous transaction per run (~10-30 ms), so this
uses the SDK's own store functions to write many runs per transaction. The result is an ordinary
store: the app opens it exactly as it opens one written by training scripts.

    python tests/benchmarks/big_store.py PATH [--runs 10000] [--points 200]
"""

from __future__ import annotations

import argparse
import time
import uuid
from pathlib import Path

import numpy as np

from tracker_sdk import Store
from tracker_sdk.store import writes
from tracker_sdk.store.series import Summary, Tail, append_points

KEYS = ("train/loss", "train/acc", "val/loss", "val/acc", "lr", "grad_norm")


def build(path: Path, runs: int = 10_000, points: int = 200, per_txn: int = 500, seed: int = 0) -> Store:
    rng = np.random.default_rng(seed)
    store = Store(path, create=True)
    t0 = int(time.time() * 1000) - runs * 60_000
    steps = np.arange(points, dtype=np.int64)
    for start in range(0, runs, per_txn):
        batch = writes.Batch()
        with store._write_engine().begin() as conn:
            for i in range(start, min(runs, start + per_txn)):
                rid = uuid.uuid4().hex
                lr = float(10 ** rng.uniform(-5, -1))
                writes.create_run(conn, run_id=rid, experiment=f"sweep-{i % 20:02d}", name=f"trial-{i:05d}",
                                  start_time=t0 + i * 60_000, host="bench", pid=0, user="bench", parent_id=None,
                                  environment={"python": "3.11.7", "git_commit": uuid.uuid4().hex[:40]})
                for k, v in {"lr": lr, "batch_size": int(rng.choice([32, 64, 128])), "optimizer": str(rng.choice(["adam", "sgd"])),
                             "dropout": round(float(rng.uniform(0, 0.5)), 3), "depth": int(rng.integers(2, 8)),
                             "width": int(rng.choice([64, 128, 256])), "seed": i, "wd": 1e-4,
                             "schedule": "cosine", "warmup": 0.05}.items():
                    batch.params.append((rid, k, str(v)))
                times = t0 + i * 60_000 + steps * 100
                for k in KEYS:
                    values = np.exp(-steps / (50 + 500 * lr)) + rng.normal(0, 0.02, points)
                    rows, _ = append_points(Tail.empty(), steps, values, times)
                    batch.chunks.extend((rid, k, r) for r in rows)
                    batch.summaries.append((rid, k, Summary(float(values[-1]), int(steps[-1]), int(times[-1]),
                                                            float(values.min()), float(values.max()), points)))
                batch.finished[rid] = ("FINISHED", int(times[-1]))
                batch.touched.add(rid)
            writes.write_batch(conn, batch)
    return store


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("path", type=Path)
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--points", type=int, default=200)
    a = p.parse_args()
    t = time.perf_counter()
    build(a.path, a.runs, a.points)
    print(f"{a.runs} runs written to {a.path} in {time.perf_counter() - t:.1f} s")
