"""Many writers on one store at once: a sweep of processes, and threads within one process."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from sdk_helpers import wait_until

import tracker_sdk
from tracker_sdk import RunStatus

pytestmark = pytest.mark.usefixtures("in_tmp_dir")

PROCESSES = 8
POINTS = 20_000

# Each child imports everything, then waits for the "go" file so that all of them create the
# (not yet existing) store and log into it at the same moment.
SWEEP_CHILD = """
import os, sys, time
import tracker_sdk, tracker_sdk.api
go = sys.argv[1] if len(sys.argv) > 1 else os.environ["GO_FILE"]
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.005)
with tracker_sdk.init(experiment="sweep", name=f"trial-{os.environ['TRIAL']}",
                      config={"trial": int(os.environ["TRIAL"])}, flush_interval=0.05) as run:
    for i in range(POINTS):
        run.log({"loss": 1.0 / (i + 1), "acc": i / POINTS})
print("done", run.id, flush=True)
""".replace("POINTS", str(POINTS))


@pytest.mark.slow
def test_many_processes_log_into_one_fresh_store_at_once(store_path: Path, tmp_path: Path, spawn,
                                                         open_store) -> None:
    go = tmp_path / "go"
    children = [spawn(SWEEP_CHILD, {"RUNWATCH_HOME": str(store_path), "GO_FILE": str(go), "TRIAL": str(i)})
                for i in range(PROCESSES)]
    for child in children:
        child.wait_for_line("ready", timeout=60)
    assert not store_path.exists()
    go.touch()
    for child in children:
        assert child.wait(timeout=120) == 0, child.finish_output()
    for child in children:
        assert "locked" not in child.stderr, child.stderr
        assert child.stderr.strip() == "", child.stderr

    st = open_store(store_path)
    runs = st.search_runs(experiment="sweep")
    assert len(runs) == PROCESSES
    assert sorted(r.params["trial"] for r in runs) == sorted(str(i) for i in range(PROCESSES))
    for r in runs:
        assert r.status is RunStatus.FINISHED
        assert r.metrics["loss"].count == POINTS and r.metrics["acc"].count == POINTS
        h = st.metric_history(r.id, "loss")
        assert np.array_equal(h.steps, np.arange(POINTS))
        assert np.array_equal(h.values, 1.0 / (np.arange(POINTS) + 1))
    assert [(e.name, e.run_count) for e in st.experiments()] == [("sweep", PROCESSES)]
    assert st.info()["integrity"] == "ok"


def test_threads_of_one_process_log_to_their_own_runs(store_path: Path, open_store) -> None:
    runs = [tracker_sdk.init(store=store_path, name=f"t{i}") for i in range(4)]
    errors: list[BaseException] = []

    def work(run: tracker_sdk.Run) -> None:
        try:
            for i in range(5000):
                run.log({"x": float(i)})
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in runs:
        r.finish()
    assert errors == []
    st = open_store(store_path)
    for r in runs:
        assert st.metric_history(r.id, "x").values.tolist() == [float(i) for i in range(5000)]


def test_a_reader_follows_a_writer_in_another_process(store_path: Path, spawn, open_store) -> None:
    """The app's loop: poll ``changes_since`` while a script logs; end with every point."""
    child = spawn("""
import time, tracker_sdk
run = tracker_sdk.init(flush_interval=0.05)
print(f"run {run.id}", flush=True)
for i in range(3000):
    run.log({"x": float(i)})
    if i % 300 == 0:
        time.sleep(0.05)
run.finish()
""", {"RUNWATCH_HOME": str(store_path)})
    rid = child.wait_for_line("run ").split()[1]
    reader = open_store(store_path)
    cursor, chunks, seen_counts = 0, {}, []

    def caught_up() -> bool:
        nonlocal cursor
        changes = reader.changes_since(cursor)
        for run_id, key in changes.series:
            for c in reader.metric_chunks(run_id, key, since=cursor):
                chunks[c.index] = c
        for r in changes.runs:
            if r.id == rid and "x" in r.metrics:
                seen_counts.append(r.metrics["x"].count)
        cursor = changes.cursor
        return any(r.id == rid and r.status is RunStatus.FINISHED for r in changes.runs)

    wait_until(caught_up, timeout=30, message="the reader to see the run finish")
    assert child.wait() == 0
    values = np.concatenate([chunks[i].values for i in sorted(chunks)])
    assert values.tolist() == [float(i) for i in range(3000)]
    assert seen_counts == sorted(seen_counts) and seen_counts[-1] == 3000
    assert len(seen_counts) > 1  # it did see the run grow, not only the end


FORK_CHILD = """
import json, multiprocessing as mp, warnings
import tracker_sdk

def worker(parent_id, i):
    # Logging into the inherited run: dropped with one warning, never an exception.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tracker_sdk.log({"from_worker": 1.0})
        tracker_sdk.log({"from_worker": 2.0})
    # A run of its own: written with the worker's own connections and writer thread.
    with tracker_sdk.init(name=f"worker-{i}", parent=parent_id) as run:
        for step in range(200):
            run.log({"x": float(step)})
    return [str(w.message) for w in caught]

if __name__ == "__main__":
    run = tracker_sdk.init(name="parent")
    for step in range(50):
        run.log({"p": float(step)})
    run.flush()
    with mp.get_context("fork").Pool(2, maxtasksperchild=1) as pool:  # a fresh process per task
        caught = pool.starmap(worker, [(run.id, i) for i in range(4)])
    run.log({"p": 50.0})  # the parent's run is still its own, and still open
    run.finish()
    print(json.dumps({"id": run.id, "caught": caught}), flush=True)
"""


def test_forked_workers_start_their_own_runs_and_leave_the_parents_alone(tmp_path: Path, spawn) -> None:
    import json
    import sqlite3

    store = tmp_path / "store"
    child = spawn(FORK_CHILD, {"RUNWATCH_HOME": str(store)})
    assert child.wait(timeout=120) == 0, child.finish_output()
    out = json.loads(child.lines[-1])
    for caught in out["caught"]:
        assert len(caught) == 1 and "forked" in caught[0] and "init(parent=" in caught[0]
    reader = tracker_sdk.Store(store)
    try:
        parent = reader.get_run(out["id"])
        assert parent.status is RunStatus.FINISHED and set(parent.metrics) == {"p"}
        assert parent.metrics["p"].count == 51  # nothing of the workers', nothing lost
        workers = reader.search_runs(filter="attributes.name LIKE 'worker-%'")
        assert len(workers) == 4
        for w in workers:
            assert w.parent_id == parent.id and w.status is RunStatus.FINISHED
            assert w.metrics["x"].count == 200
    finally:
        reader.close()
    db = sqlite3.connect(store / "runwatch.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


TERMINATE_CHILD = """
import json, multiprocessing as mp, os, sys, time
import tracker_sdk

def worker(parent_id, flag_dir):
    run = tracker_sdk.init(name=f"worker-{os.getpid()}", parent=parent_id)
    for step in range(100):
        run.log({"x": float(step)})
    run.flush()
    open(os.path.join(flag_dir, run.id), "w").close()  # tell the parent: logging, flushed
    step = 100
    while True:  # until Pool.terminate() sends SIGTERM
        run.log({"x": float(step)})
        step += 1
        time.sleep(0.001)

if __name__ == "__main__":
    flag_dir = sys.argv[1]
    run = tracker_sdk.init(name="parent")
    pool = mp.get_context("fork").Pool(2)
    for _ in range(2):
        pool.apply_async(worker, (run.id, flag_dir))
    deadline = time.monotonic() + 60
    while len(os.listdir(flag_dir)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    pool.terminate()  # SIGTERM to every worker
    pool.join()
    run.finish()
    print(json.dumps(sorted(os.listdir(flag_dir))), flush=True)
"""


def test_pool_terminate_ends_the_workers_runs_killed_and_written(tmp_path: Path, spawn) -> None:
    import json

    store, flags = tmp_path / "store", tmp_path / "flags"
    flags.mkdir()
    child = spawn(TERMINATE_CHILD.replace("sys.argv[1]", repr(str(flags))), {"RUNWATCH_HOME": str(store)})
    assert child.wait(timeout=120) == 0, child.finish_output()
    ids = json.loads(child.lines[-1])
    assert len(ids) == 2
    reader = tracker_sdk.Store(store)
    try:
        for rid in ids:
            info = reader.get_run(rid)
            # KILLED, not CRASHED: each worker finished its run and wrote it before dying.
            assert info.status is RunStatus.KILLED, info.status
            steps = reader.metric_history(rid, "x").steps
            assert steps.tolist() == list(range(len(steps))) and len(steps) >= 100
    finally:
        reader.close()
