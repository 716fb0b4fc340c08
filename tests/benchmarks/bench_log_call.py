"""Figure 1: the blocking cost of ``run.log`` in the training loop (target: median <= 5 us).

Each call of ``run.log({"loss": v, "acc": v}, step=i)`` is timed on its own with
``time.perf_counter_ns`` (median, p99), then a second, untimed loop gives the mean per call.
Peer, in the same run: ``mlflow.log_metric`` on a SQLite store (fewer calls: ~7 ms each).

    python -m tests.benchmarks.bench_log_call [--quick]
"""

from __future__ import annotations

import json
import subprocess
import time

try:
    from tests.benchmarks import _common as c
except ImportError:  # run as a file: python tests/benchmarks/bench_log_call.py
    import _common as c  # type: ignore[no-redef]


def runwatch_log(n: int) -> dict[str, float]:
    import tracker_sdk

    with c.Scratch() as d:
        run = tracker_sdk.init(experiment="bench", store=d / "store")
        c.wait_for_capture(run)
        log, pc = run.log, time.perf_counter_ns
        vals = c.values(2 * n)
        for i in range(1000):  # warm-up (first call of a key validates it)
            log({"loss": 1.0, "acc": 1.0}, step=i)
        run.flush()
        ns = [0] * n
        for i in range(n):
            v = vals[i]
            data = {"loss": v, "acc": v}
            t0 = pc()
            log(data, step=i)
            ns[i] = pc() - t0
        run.flush()
        t0 = pc()
        for i in range(n, 2 * n):
            v = vals[i]
            log({"loss": v, "acc": v}, step=i)
        loop_mean = (pc() - t0) / n / 1e3
        t0 = pc()
        run.finish()
        finish_ms = (pc() - t0) / 1e6
    return {**c.stats_us(ns), "loop_mean": loop_mean, "finish_ms": finish_ms}


def mlflow_log(n: int) -> dict | None:
    if not c.have_mlflow():
        print(f"  {c.PEER_MISSING}")
        return None
    with c.Scratch() as d:
        out = d / "mlflow.json"
        proc = c.python_child("peer_mlflow", "--n", str(n), "--out", str(out),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _, err = proc.communicate()
        if proc.returncode != 0:
            print(f"  mlflow peer failed ({proc.returncode}): {err.strip()[-500:]}")
            return None
        data = json.loads(out.read_text())
    return {"version": data["version"], "one": c.stats_us(data["log_metric_ns"]),
            "two": c.stats_us(data["log_metrics2_ns"])}


def run(quick: bool) -> list[c.Result]:
    n, n_peer = (20_000, 50) if quick else (200_000, 300)
    print(f"  timer overhead (perf_counter_ns pair): {c.timer_overhead_ns()} ns, included below")
    rw = runwatch_log(n)
    print(f"  runwatch run.log 2-key dict, {n:,} calls: median {rw['median']:.2f} us, p99 {rw['p99']:.2f} us,"
          f" max {rw['max']:.0f} us, timed mean {rw['mean']:.2f} us; untimed loop mean {rw['loop_mean']:.2f} us;"
          f" finish() {rw['finish_ms']:.0f} ms", flush=True)
    ml = mlflow_log(n_peer)
    if ml:
        for name, s in (("log_metric('loss')", ml["one"]), ("log_metrics(2-key dict)", ml["two"])):
            print(f"  mlflow {ml['version']} sqlite {name}, {n_peer} calls: median {s['median']:,.0f} us,"
                  f" p99 {s['p99']:,.0f} us, mean {s['mean']:,.0f} us")
    peer = "mlflow log_metric (sqlite)" if ml else ""
    return [
        c.result("run.log blocking cost, median", rw["median"], "us", "<= 5", peer,
                 ml and ml["one"]["median"]),
        c.result("run.log blocking cost, p99", rw["p99"], "us", "", peer, ml and ml["one"]["p99"]),
        c.result("run.log loop mean", rw["loop_mean"], "us", "", peer, ml and ml["one"]["mean"]),
        c.result("run.log median vs mlflow log_metrics(same 2-key dict)", rw["median"], "us", "",
                 "mlflow log_metrics" if ml else "", ml and ml["two"]["median"]),
    ]


if __name__ == "__main__":
    c.main(run, "bench_log_call: run.log blocking cost")
