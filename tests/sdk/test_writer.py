"""The background writer: points reach the store on their own, and storage trouble never
reaches the training loop (retried, warned once, reported by ``finish``, nothing lost)."""

from __future__ import annotations

import sqlite3
import time
import warnings
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sdk_helpers import wait_until

import tracker_sdk
from tracker_sdk import RunStatus

pytestmark = pytest.mark.usefixtures("in_tmp_dir")

STORE_TROUBLE = "could not write to the store"


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give up on a locked database after 50 ms instead of 30 s (the writer then retries)."""
    monkeypatch.setenv("RUNWATCH_BUSY_TIMEOUT_MS", "50")


class Lock:
    """Another program holding the store's write lock (``BEGIN EXCLUSIVE``) until released."""

    def __init__(self, store_path: Path) -> None:
        self.conn = sqlite3.connect(store_path / "runwatch.db", isolation_level=None, timeout=10)
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        if self.conn is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            self.conn = None  # type: ignore[assignment]


@pytest.fixture
def recorded() -> Iterator[list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _trouble(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)
            and STORE_TROUBLE in str(w.message)]


def test_points_reach_the_store_without_flush_or_finish(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(store=store_path, flush_interval=0.05)
    for i in range(100):
        run.log({"x": float(i)})
    reader = open_store(store_path)
    wait_until(lambda: len(reader.metric_history(run.id, "x")) == 100, timeout=5,
               message="the points to be written in the background")
    assert reader.get_run(run.id).status is RunStatus.RUNNING
    run.finish()


def test_flush_makes_everything_logged_so_far_visible(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(store=store_path, flush_interval=60)  # never on its own during the test
    for i in range(1000):
        run.log({"x": float(i), "y": -float(i)})
    assert run.flush() is True
    reader = open_store(store_path)
    assert len(reader.metric_history(run.id, "x")) == 1000
    assert reader.get_run(run.id).metrics["y"].last == -999.0
    run.finish()


def test_a_locked_store_never_raises_into_the_training_loop(
        store_path: Path, open_store, short_busy_timeout: None, recorded: list[warnings.WarningMessage]) -> None:
    run = tracker_sdk.init(store=store_path, flush_interval=0.02)
    run.log({"x": 0.0})
    run.flush()
    failures_before = run._writer.failures
    lock = Lock(store_path)
    try:
        started = time.perf_counter()
        for i in range(1, 2001):
            run.log({"x": float(i)})
            run.set_tag("progress", str(i)) if i % 500 == 0 else None
        logging_time = time.perf_counter() - started
        # The writer keeps failing while the lock is held: warned once, however often it retries.
        wait_until(lambda: run._writer.failures >= failures_before + 3, timeout=10,
                   message="the writer to retry a few times")
        assert len(_trouble(recorded)) == 1
        assert "locked" in _trouble(recorded)[0] and "logging continues and retries" in _trouble(recorded)[0]
        for i in range(2001, 3001):  # and logging still works
            run.log({"x": float(i)})
        assert logging_time < 1.0  # log() never waited for the locked database
    finally:
        lock.release()
    assert run.finish() is True
    assert len(_trouble(recorded)) == 1
    reports = [str(w.message) for w in recorded if "storage failure" in str(w.message)]
    assert len(reports) == 1 and "all points were written" in reports[0]

    st = open_store(store_path)
    h = st.metric_history(run.id, "x")
    assert h.values.tolist() == [float(i) for i in range(3001)]  # nothing lost, nothing twice
    info = st.get_run(run.id)
    assert info.status is RunStatus.FINISHED
    assert info.tags["progress"] == "2000"
    assert info.metrics["x"].count == 3001


def test_finish_on_a_locked_store_reports_and_the_points_still_arrive(
        store_path: Path, open_store, short_busy_timeout: None, recorded: list[warnings.WarningMessage]) -> None:
    run = tracker_sdk.init(store=store_path, flush_interval=0.02)
    reader = open_store(store_path)
    lock = Lock(store_path)
    try:
        for i in range(500):
            run.log({"x": float(i)})
        assert run.finish(timeout=0.3) is False  # could not write in time: says so, no exception
        reports = [str(w.message) for w in recorded if "storage failure" in str(w.message)]
        assert len(reports) == 1 and "not all points were written" in reports[0]
        assert reader.get_run(run.id).status is RunStatus.RUNNING  # readers still work meanwhile
    finally:
        lock.release()
    wait_until(lambda: reader.get_run(run.id).status is RunStatus.FINISHED, timeout=10,
               message="the writer to write the queued points once the lock is gone")
    assert len(reader.metric_history(run.id, "x")) == 500


def test_a_full_disk_is_reported_in_one_line_and_logging_resumes_once_there_is_room(
        store_path: Path, open_store, recorded: list[warnings.WarningMessage]) -> None:
    """A real SQLITE_FULL ("database or disk is full"): the writer's connections may not grow
    the database file (``max_page_count``), as on a full disk."""
    from sqlalchemy import event

    run = tracker_sdk.init(store=store_path, flush_interval=60)  # writes only when asked to
    run.log({"x": 0.0})
    assert run.flush(timeout=10)
    with closing(sqlite3.connect(store_path / "runwatch.db")) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
    engine = run.store._write_engine()

    def disk_full(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(engine, "connect", disk_full)
    engine.dispose()  # the writer's next connection finds the disk full
    try:
        for i in range(1, 20_001):
            run.log({"x": float(i)})
        run.flush(timeout=0)  # write now
        wait_until(lambda: _trouble(recorded), timeout=10, message="the disk-full warning")
    finally:
        event.remove(engine, "connect", disk_full)
        engine.dispose()  # disk space freed
    [warning] = _trouble(recorded)
    assert "database or disk is full" in warning and str(store_path.resolve()) in warning
    assert "Free some disk space" in warning and "logging continues and retries" in warning
    for noise in ("\n", "[SQL", "[parameters", "sqlalche.me", "INSERT"):
        assert noise not in warning
    assert len(warning) < 300

    assert run.finish(timeout=30) is True  # retried once there was room: nothing lost
    [report] = [str(w.message) for w in recorded if "storage failure" in str(w.message)]
    assert "database or disk is full" in report and "[SQL" not in report and "\n" not in report
    assert run._writer.last_error == "database or disk is full"
    assert open_store(store_path).metric_history(run.id, "x").values.tolist() == [float(i) for i in range(20_001)]


def test_busy_timeout_setting_is_checked(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWATCH_BUSY_TIMEOUT_MS", "soon")
    with pytest.raises(tracker_sdk.StoreError, match="RUNWATCH_BUSY_TIMEOUT_MS must be a whole number"):
        tracker_sdk.init(store=store_path)


def test_a_quiet_run_with_a_long_flush_interval_keeps_its_heartbeat(
        store_path: Path, open_store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers on other hosts judge liveness by the heartbeat alone: it must keep coming."""
    from tracker_sdk import writer as writer_module
    from tracker_sdk.store import reads

    monkeypatch.setattr(writer_module, "HEARTBEAT_INTERVAL_S", 0.05)  # scaled down from 5 s
    monkeypatch.setattr(reads, "HEARTBEAT_STALE_S", 0.5)  # and from 20 s
    monkeypatch.setattr(reads, "_HOST", "another-host")  # no pid check: as seen from elsewhere
    run = tracker_sdk.init(store=store_path, flush_interval=60.0)
    reader = open_store(store_path)
    start = reader.get_run(run.id).start_time
    wait_until(lambda: (reader.get_run(run.id).heartbeat_time or 0) - start > 1000, timeout=10,
               message="heartbeats a second after the start, without any logging")
    assert reader.get_run(run.id).status is RunStatus.RUNNING
    run.finish()


def test_starting_a_run_or_editing_while_another_program_holds_the_lock(
        store_path: Path, open_store, short_busy_timeout: None) -> None:
    """Only the background writer retries; a call that must write now says what is wrong."""
    with tracker_sdk.init(store=store_path) as run:
        pass
    st = open_store(store_path)
    lock = Lock(store_path)
    try:
        with pytest.raises(tracker_sdk.StoreError, match="locked by another program") as err:
            tracker_sdk.init(store=store_path)
        assert "\n" not in str(err.value)
        with pytest.raises(tracker_sdk.StoreError, match="locked by another program"):
            st.rename_run(run.id, "new name")
        assert st.get_run(run.id).name == run.name  # reading still works meanwhile
    finally:
        lock.release()
    st.rename_run(run.id, "new name")
    assert st.get_run(run.id).name == "new name"
