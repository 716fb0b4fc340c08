"""Figure 4: points that survive a SIGKILL (design: at most the last flush interval is lost).

A child process logs ``{"loss": v}`` paced at 500 calls/s (one call every 2 ms) for ~2 s, and
flat out in a second test; after each returned call it bumps an mmap counter. The parent sends
SIGKILL, reads the counter (acknowledged calls), then opens the store with a fresh ``Store``
and counts the points, checks ``PRAGMA quick_check`` and the run's status.
The peers' figures (``shared/peers/RESULTS.md``): mlflow, aim lose 0 (synchronous writes);
tensorboardX 50/1002; wandb 33/1003; trackio 235/1002 paced and everything flat out.

    python -m tests.benchmarks.bench_sigkill [--quick]
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

try:
    from tests.benchmarks import _common as c
except ImportError:  # run as a file
    import _common as c  # type: ignore[no-redef]


def child(store: str, counter: str, rate: float) -> None:
    import tracker_sdk

    ctr = c.Counter(Path(counter))
    run = tracker_sdk.init(experiment="bench", store=store)
    print(run.id, flush=True)
    log, cset, i = run.log, ctr.set, 0
    if rate > 0:
        period, pc, t0 = 1.0 / rate, time.perf_counter, time.perf_counter()
        while True:
            log({"loss": 1.0 / (i + 1)}, step=i)
            i += 1
            cset(i)
            dt = t0 + i * period - pc()
            if dt > 0:
                time.sleep(dt)
    while True:
        log({"loss": 1.0 / (i + 1)}, step=i)
        i += 1
        cset(i)


def crash(rate: float, secs: float) -> dict:
    import tracker_sdk

    with c.Scratch() as d:
        ctr = c.Counter(d / "counter", create=True)
        p = c.python_child("bench_sigkill", "--child", str(d / "store"), str(d / "counter"), str(rate),
                           stdout=subprocess.PIPE, text=True)
        run_id = p.stdout.readline().strip()  # the run exists: start the clock
        time.sleep(secs)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        acked = ctr.get()
        st = tracker_sdk.Store(d / "store")
        stored = st.metric_history(run_id, "loss").steps.size
        integrity = st.info()["integrity"]
        status = st.get_run(run_id).status
        st.close()
    lost = acked - stored
    return {"acked": acked, "stored": stored, "lost": lost, "lost_s": lost / (acked / secs) if acked else 0,
            "integrity": integrity, "status": str(getattr(status, "value", status))}


def run(quick: bool) -> list[c.Result]:
    secs = 1.0 if quick else 2.0
    out = []
    for name, rate in (("500 calls/s", 500.0), ("flat out", 0.0)):
        r = crash(rate, secs)
        print(f"  SIGKILL after {secs:g} s at {name}: acked {r['acked']:,}, stored {r['stored']:,}, lost {r['lost']:,}"
              f" (~{r['lost_s'] * 1e3:.0f} ms of logging); quick_check={r['integrity']}, status={r['status']}",
              flush=True)
        counts = f"lost {r['lost']:,} of {r['acked']:,} acked; db {r['integrity']}; status {r['status']}"
        if rate:  # design: at most the last flush interval (0.2 s by default) is lost
            out.append(c.result(f"SIGKILL at {name}: logging lost", r["lost_s"] * 1e3, "ms", "<= 200", note=counts))
        else:  # design: "most of what it logged must be on disk"
            out.append(c.result(f"SIGKILL at {name}: share lost", 100 * r["lost"] / max(1, r["acked"]), "%",
                                "<= 50", note=counts))
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        c.main(run, "bench_sigkill: points surviving kill -9")
