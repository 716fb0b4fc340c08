"""Reading a store: series as numpy arrays, summaries, chunks, and incremental changes."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
from sdk_helpers import wait_for_environment

import tracker_sdk
from tracker_sdk import RunNotFoundError, RunStatus
from tracker_sdk.store.series import CHUNK_POINTS

pytestmark = pytest.mark.usefixtures("in_tmp_dir")


def test_metric_history_is_numpy_arrays_in_logged_order(store_path: Path, open_store) -> None:
    t0 = time.time() * 1000
    with tracker_sdk.init(store=store_path) as run:
        for step, value in [(5, 0.5), (3, 0.3), (9, 0.9), (9, 1.9), (0, 0.0)]:
            run.log({"x": value}, step=step)
    t1 = time.time() * 1000
    h = open_store(store_path).metric_history(run.id, "x")
    assert (h.run_id, h.key, len(h)) == (run.id, "x", 5)
    assert h.steps.dtype == np.int64 and h.values.dtype == np.float64 and h.timestamps.dtype == np.int64
    assert h.steps.tolist() == [5, 3, 9, 9, 0]  # logged order, not sorted by step
    assert h.values.tolist() == [0.5, 0.3, 0.9, 1.9, 0.0]
    assert np.all(h.timestamps >= int(t0) - 1) and np.all(h.timestamps <= t1 + 1)  # ms since the epoch
    assert np.all(np.diff(h.timestamps) >= 0)


def test_history_of_an_unknown_key_is_empty(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path) as run:
        run.log({"x": 1.0})
    h = open_store(store_path).metric_history(run.id, "nope")
    assert len(h) == 0 and h.steps.dtype == np.int64 and h.values.dtype == np.float64


def test_summary_last_min_max_count(store_path: Path, open_store) -> None:
    values = [3.0, -1.0, 7.5, 2.0]
    with tracker_sdk.init(store=store_path) as run:
        for i, v in enumerate(values):
            run.log({"loss": v}, step=i * 10)
            run.flush()  # spread over several transactions: the summary folds them together
    s = open_store(store_path).get_run(run.id).metrics["loss"]
    assert (s.last, s.last_step, s.min, s.max, s.count) == (2.0, 30, -1.0, 7.5, 4)
    assert s.last_time > 0


def test_chunk_boundaries_keep_the_series_intact(store_path: Path, open_store) -> None:
    n = 3 * CHUNK_POINTS + 5
    values = np.random.default_rng(0).normal(size=n)
    with tracker_sdk.init(store=store_path) as run:
        for i, v in enumerate(values):
            run.log({"x": float(v)})
            if i % 700 == 699:  # flushes that end mid-chunk and straddle chunk boundaries
                run.flush()
    st = open_store(store_path)
    h = st.metric_history(run.id, "x")
    assert h.steps.tolist() == list(range(n))
    assert np.array_equal(h.values, values)
    chunks = st.metric_chunks(run.id, "x")
    assert [c.index for c in chunks] == [0, 1, 2, 3]
    assert [len(c.steps) for c in chunks] == [CHUNK_POINTS] * 3 + [5]
    assert st.get_run(run.id).metrics["x"].count == n


def test_one_big_flush_splits_into_chunks(store_path: Path, open_store) -> None:
    n = 2 * CHUNK_POINTS  # exactly full chunks: the next point opens a new one
    with tracker_sdk.init(store=store_path) as run:
        for i in range(n):
            run.log({"x": float(i)})
        run.flush()
        run.log({"x": -1.0})
    st = open_store(store_path)
    assert [len(c.steps) for c in st.metric_chunks(run.id, "x")] == [CHUNK_POINTS, CHUNK_POINTS, 1]
    h = st.metric_history(run.id, "x")
    assert h.values.tolist() == [float(i) for i in range(n)] + [-1.0]


def test_changes_since_reports_only_what_changed(store_path: Path, open_store) -> None:
    a = tracker_sdk.init(store=store_path, name="a")
    b = tracker_sdk.init(store=store_path, name="b")
    reader = open_store(store_path)  # another Store instance, as the app would have
    for run in (a, b):  # the environment is written in the background: let it land first
        wait_for_environment(reader, run.id)
    a.log({"x": 1.0})
    b.log({"y": 1.0})
    a.flush()

    first = reader.changes_since(0)
    assert {r.name for r in first.runs} == {"a", "b"}
    assert set(first.series) == {(a.id, "x"), (b.id, "y")}
    assert first.reset  # cursor 0 means: load everything

    assert reader.changes_since(first.cursor).empty  # nothing new
    assert reader.changes_since(first.cursor).cursor == first.cursor

    a.log({"x": 2.0})
    a.flush()
    second = reader.changes_since(first.cursor)
    assert second.cursor > first.cursor
    assert [r.name for r in second.runs] == ["a"]
    assert second.series == ((a.id, "x"),)
    assert second.runs[0].metrics["x"].last == 2.0
    assert not second.reset
    assert reader.changes_since(second.cursor).empty

    b.set_tag("stage", "eval")  # a change of the run record only: no series
    b.flush()
    third = reader.changes_since(second.cursor)
    assert [r.name for r in third.runs] == ["b"] and third.series == ()
    assert third.runs[0].tags["stage"] == "eval"

    b.finish()
    fourth = reader.changes_since(third.cursor)
    assert [(r.name, r.status) for r in fourth.runs] == [("b", RunStatus.FINISHED)]
    a.finish()


def test_a_second_store_instance_sees_the_first_ones_edits(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path, name="old") as run:
        run.log({"x": 1.0})
    one, two = open_store(store_path), open_store(store_path)
    cursor = two.cursor()
    assert two.changes_since(cursor).empty
    one.rename_run(run.id, "new")
    changes = two.changes_since(cursor)
    assert [r.name for r in changes.runs] == ["new"] and changes.cursor > cursor
    assert two.get_run(run.id).name == "new"


def test_cursor_matches_changes_since(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path) as run:
        run.log({"x": 1.0})
    st = open_store(store_path)
    c = st.cursor()
    assert st.changes_since(0).cursor == c
    assert st.changes_since(c).empty


def test_metric_chunks_since_returns_only_changed_chunks(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(store=store_path)
    for i in range(2 * CHUNK_POINTS + 100):
        run.log({"x": float(i)})
    run.flush()
    st = open_store(store_path)
    cursor = st.cursor()
    assert [c.index for c in st.metric_chunks(run.id, "x")] == [0, 1, 2]
    assert st.metric_chunks(run.id, "x", since=cursor) == []

    for i in range(10):
        run.log({"x": -float(i)})
    run.flush()
    changed = st.metric_chunks(run.id, "x", since=cursor)
    assert [c.index for c in changed] == [2]  # only the open chunk was rewritten
    assert len(changed[0].steps) == 110 and changed[0].seq > cursor
    assert changed[0].values[-1] == -9.0

    # Filling the open chunk and starting the next: both show up, the closed ones do not.
    cursor = st.cursor()
    for _ in range(CHUNK_POINTS):
        run.log({"x": 0.5})
    run.finish()
    assert [c.index for c in st.metric_chunks(run.id, "x", since=cursor)] == [2, 3]


def test_incremental_reader_rebuilds_the_series_while_it_is_written(store_path: Path, open_store) -> None:
    """What the app does: apply changed chunks by index after each cursor; end with the full series."""
    run = tracker_sdk.init(store=store_path, flush_interval=0.02)
    reader = open_store(store_path)
    cursor, chunks = 0, {}
    expected = []
    for i in range(5000):
        run.log({"x": float(i)})
        expected.append(float(i))
        if i % 500 == 0:
            changes = reader.changes_since(cursor)
            for rid, key in changes.series:
                for c in reader.metric_chunks(rid, key, since=cursor):
                    chunks[c.index] = c
            cursor = changes.cursor
    run.finish()
    changes = reader.changes_since(cursor)
    for rid, key in changes.series:
        for c in reader.metric_chunks(rid, key, since=cursor):
            chunks[c.index] = c
    rebuilt = np.concatenate([chunks[i].values for i in sorted(chunks)])
    assert rebuilt.tolist() == expected
    assert sorted(chunks) == list(range(len(chunks)))


def test_search_runs_by_experiment_and_filter(store_path: Path, open_store) -> None:
    for exp, lr, loss in [("a", 0.1, 0.5), ("a", 0.01, 0.2), ("b", 0.1, 0.1)]:
        with tracker_sdk.init(store=store_path, experiment=exp, config={"lr": lr}) as run:
            run.log({"val/loss": loss})
    st = open_store(store_path)
    assert len(st.search_runs()) == 3
    assert {r.params["lr"] for r in st.search_runs(experiment="a")} == {"0.1", "0.01"}
    assert len(st.search_runs(experiment=["a", "b"])) == 3
    found = st.search_runs(filter="metrics.`val/loss` < 0.3", order_by=["metrics.`val/loss` ASC"])
    assert [r.metrics["val/loss"].last for r in found] == [0.1, 0.2]
    assert [r.experiment for r in st.search_runs(filter="params.lr = '0.1'", experiment="b")] == ["b"]
    assert len(st.search_runs(limit=2)) == 2
    assert {(e.name, e.run_count) for e in st.experiments()} == {("a", 2), ("b", 1)}


def test_runs_come_back_newest_first(store_path: Path, open_store) -> None:
    ids = []
    for _ in range(3):
        with tracker_sdk.init(store=store_path) as run:
            ids.append(run.id)
        time.sleep(0.002)  # distinct start times (ms resolution)
    assert [r.id for r in open_store(store_path).search_runs()] == ids[::-1]


def test_get_run_errors(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path) as run:
        pass
    st = open_store(store_path)
    with pytest.raises(RunNotFoundError, match="no run with id 'zzz'"):
        st.get_run("zzz")
    assert st.get_run(run.id[:8]).id == run.id


def test_a_live_run_reads_as_running(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(store=store_path)
    run.log({"x": 1.0})
    run.flush()
    info = open_store(store_path).get_run(run.id)
    assert info.status is RunStatus.RUNNING and info.end_time is None
    assert info.duration_s is not None and info.duration_s >= 0
    run.finish()


def test_a_run_with_no_heartbeat_from_another_host_reads_as_crashed(store_path: Path, open_store) -> None:
    """A run that says RUNNING on another machine is CRASHED once its heartbeat is stale."""
    import sqlite3

    from tracker_sdk.limits import HEARTBEAT_STALE_S

    with tracker_sdk.init(store=store_path) as run:
        pass
    now = int(time.time() * 1000)
    db = sqlite3.connect(store_path / "runwatch.db")
    with db:
        db.execute("UPDATE runs SET status='RUNNING', end_time=NULL, host='elsewhere', pid=1,"
                   " heartbeat_time=? WHERE id=?", (now - 1000, run.id))
    st = open_store(store_path)
    assert st.get_run(run.id).status is RunStatus.RUNNING  # fresh heartbeat: alive elsewhere
    with db:
        db.execute("UPDATE runs SET heartbeat_time=? WHERE id=?",
                   (now - int(HEARTBEAT_STALE_S * 1000) - 5000, run.id))
    db.close()
    assert st.get_run(run.id).status is RunStatus.CRASHED
    assert st.search_runs(filter="attributes.status = 'CRASHED'")[0].id == run.id


def test_store_info_counts_what_was_logged(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path) as run:
        for i in range(100):
            run.log({"a": float(i), "b": math.nan})
    info = open_store(store_path).info()
    assert info["runs"] == 1 and info["metric_series"] == 2 and info["metric_points"] == 200
    assert info["integrity"] == "ok"


def _store_bytes_after_logging(path: Path, points: int) -> int:
    with tracker_sdk.init(store=path, name="disk") as run:
        for i in range(points):
            run.log({"train/loss": 1.0 / (i + 1)})
            if i % 1000 == 999:
                run.flush()  # as the background writer would: the open chunk is rewritten often
    import sqlite3

    tracker_sdk.api._on_exit()  # stop the writer: nothing else holds the database open
    db = sqlite3.connect(path / "runwatch.db")
    assert db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    db.close()
    return (path / "runwatch.db").stat().st_size


def test_disk_bytes_per_metric_point(tmp_path: Path, record_property) -> None:
    small = _store_bytes_after_logging(tmp_path / "10k", 10_000)
    large = _store_bytes_after_logging(tmp_path / "110k", 110_000)
    per_point = (large - small) / 100_000
    record_property("disk_bytes_per_point", round(per_point, 2))
    print(f"\ndisk per metric point: {per_point:.2f} bytes (10k: {small} B, 110k: {large} B)")
    assert per_point <= 30
