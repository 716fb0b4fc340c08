"""Figure 5: 8 processes x 20k points into one fresh store (a sweep on one machine).

All 8 children start at once on a store folder that does not exist yet (so they also race to
create the schema), each logs ``{"loss": v}`` for 20k steps and finishes. Reported: wall time
from the first spawn to the last exit, per-child timings, whether every point is stored with
steps 0..N-1, and any "database is locked" (or other warning/traceback) on the children's stderr.

    python -m tests.benchmarks.bench_multiproc [--quick]
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

try:
    from tests.benchmarks import _common as c
except ImportError:  # run as a file
    import _common as c  # type: ignore[no-redef]

PROCS = 8


def child(store: str, n: int) -> None:
    t0 = time.perf_counter()
    import tracker_sdk

    run = tracker_sdk.init(experiment="sweep", store=store)
    t1 = time.perf_counter()
    for i in range(n):
        run.log({"loss": 1.0 / (i + 1)}, step=i)
    t2 = time.perf_counter()
    ok = run.finish()
    t3 = time.perf_counter()
    print(json.dumps({"run": run.id, "init_s": t1 - t0, "loop_s": t2 - t1, "finish_s": t3 - t2, "ok": ok}))


def run(quick: bool) -> list[c.Result]:
    import tracker_sdk

    n = 2_000 if quick else 20_000
    with c.Scratch() as d:
        store = d / "store"  # not created: the children race to create it
        errs = [open(d / f"err{k}.txt", "w+") for k in range(PROCS)]
        t0 = time.perf_counter()
        procs = [c.python_child("bench_multiproc", "--child", str(store), str(n), stdout=subprocess.PIPE,
                                stderr=errs[k], text=True) for k in range(PROCS)]
        outs = [p.communicate()[0] for p in procs]
        wall = time.perf_counter() - t0
        stderr = ""
        for f in errs:
            f.seek(0)
            stderr += f.read()
            f.close()
        codes = [p.returncode for p in procs]
        reports = [json.loads(o.strip().splitlines()[-1]) for o in outs if o.strip()]
        st = tracker_sdk.Store(store)
        runs = st.search_runs(experiment="sweep")
        complete = 0
        for r in runs:
            h = st.metric_history(r.id, "loss")
            complete += int(h.steps.size == n and bool(np.array_equal(h.steps, np.arange(n))))
        integrity = st.info()["integrity"]
        st.close()
    locked = stderr.count("database is locked")
    other = [line for line in stderr.splitlines() if line.strip() and "database is locked" not in line]
    print(f"  {PROCS} processes x {n:,} points: wall {wall:.2f} s (spawn to last exit); exit codes {codes}")
    for key in ("init_s", "loop_s", "finish_s"):
        xs = [r[key] for r in reports]
        print(f"    per child {key[:-2]}: min {min(xs):.2f} s, max {max(xs):.2f} s" if xs else f"    no {key}")
    print(f"  runs stored {len(runs)}/{PROCS}, complete series {complete}/{PROCS}, finish ok"
          f" {sum(r['ok'] for r in reports)}/{PROCS}, quick_check {integrity}")
    print(f"  stderr: 'database is locked' x{locked}; other lines: {len(other)}")
    for line in other[:10]:
        print(f"    | {line[:200]}")
    note = f"{complete}/{PROCS} complete, 'database is locked' x{locked}, {len(other)} other stderr lines"
    return [c.result(f"{PROCS} procs x {n:,} pts into a fresh store, wall", wall, "s", note=note),
            c.result(f"{PROCS} procs: complete runs", complete, "runs", f">= {PROCS}", note=f"exit codes {codes}")]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
    else:
        c.main(run, "bench_multiproc: 8 processes into one store")
