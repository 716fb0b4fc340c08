"""Backpressure (issue 7, D6): a full queue makes ``log()`` wait for a writer that is writing,
never for a store that cannot be written; beyond the bound, points are dropped and counted."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sdk_helpers import wait_until

import tracker_sdk
from tracker_sdk import RunStatus

pytestmark = pytest.mark.usefixtures("in_tmp_dir")

BOUND = 1000  # scaled down from MAX_PENDING (50,000), so that the tests stay quick


@pytest.fixture
def small_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker_sdk import run as run_module
    from tracker_sdk import writer as writer_module

    monkeypatch.setattr(run_module, "MAX_PENDING", BOUND)
    monkeypatch.setattr(writer_module, "MAX_PENDING", BOUND)
    monkeypatch.setattr(writer_module, "MAX_BATCH_ITEMS", BOUND // 2)


@pytest.fixture
def recorded() -> Iterator[list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


class Producer(threading.Thread):
    """A training loop logging flat out; records its slowest ``log()`` call."""

    def __init__(self, run: tracker_sdk.Run, start: int, stop: int) -> None:
        super().__init__(daemon=True)
        self.run_, self.range = run, range(start, stop)
        self.longest = 0.0

    def run(self) -> None:  # noqa: D102 (threading.Thread.run)
        log, pc = self.run_.log, time.perf_counter
        for i in self.range:
            t0 = pc()
            log({"x": float(i)}, step=i)
            self.longest = max(self.longest, pc() - t0)


def _produce(run: tracker_sdk.Run, start: int, stop: int) -> Producer:
    p = Producer(run, start, stop)
    p.start()
    # Fails instead of hanging when log() blocks for as long as the store is locked.
    wait_until(lambda: not p.is_alive(), timeout=30, message="the loop to get past a locked store")
    return p


@pytest.mark.parametrize("busy_timeout_ms", ["50", "30000"], ids=["writer-retries", "writer-waits-for-lock"])
def test_a_store_locked_for_long_drops_and_counts_instead_of_stalling_the_loop(
        store_path: Path, open_store, small_queue: None, monkeypatch: pytest.MonkeyPatch,
        recorded: list[warnings.WarningMessage], busy_timeout_ms: str) -> None:
    """Another program holds the write lock while the loop logs far more than the queue holds."""
    monkeypatch.setenv("RUNWATCH_BUSY_TIMEOUT_MS", busy_timeout_ms)
    run = tracker_sdk.init(store=store_path, name="locked-out", flush_interval=0.02)
    run.log({"x": 0.0}, step=0)
    assert run.flush(timeout=10)
    lock = sqlite3.connect(store_path / "runwatch.db", isolation_level=None, timeout=10)
    lock.execute("BEGIN IMMEDIATE")
    try:
        producer = _produce(run, 1, 10 * BOUND)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert producer.longest < 3.0, f"one log() call blocked {producer.longest:.1f} s"  # a hang test
    dropping = [str(w.message) for w in recorded if "drops what it logs" in str(w.message)]
    assert len(dropping) == 1 and "'locked-out'" in dropping[0] and str(store_path.resolve()) in dropping[0]

    assert run.flush(timeout=30)  # the writer catches up once the lock is gone
    _produce(run, 10 * BOUND, 11 * BOUND)  # and nothing more is dropped
    assert run.finish(timeout=30) is False  # not every point was stored, and finish says so
    reports = [str(w.message) for w in recorded if "finished with" in str(w.message)]
    assert len(reports) == 1, reports
    dropped = int(re.search(r"([\d,]+) dropped values?", reports[0]).group(1).replace(",", ""))

    st = open_store(store_path)
    assert st.get_run(run.id).status is RunStatus.FINISHED
    steps = st.metric_history(run.id, "x").steps.tolist()
    assert len(steps) + dropped == 11 * BOUND  # every point logged is either stored or counted
    assert 0 < dropped < 10 * BOUND
    assert steps == sorted(set(steps))  # nothing twice, nothing out of order
    assert steps[:BOUND + 1] == list(range(BOUND + 1))  # what filled the queue first is kept
    assert steps[-BOUND:] == list(range(10 * BOUND, 11 * BOUND))


def test_a_healthy_writer_slower_than_the_loop_throttles_it_without_dropping(
        store_path: Path, open_store, small_queue: None, recorded: list[warnings.WarningMessage]) -> None:
    """The bound still holds the loop close to the disk (what a SIGKILL can lose): while the
    writer writes, a full queue makes log() wait, and nothing is dropped."""
    run = tracker_sdk.init(store=store_path, flush_interval=0.02)
    assert run.flush(timeout=10)  # the environment capture has queued what it adds
    keys = [f"k{j}" for j in range(20)]  # each call costs the writer 20 points
    queue, longest_queue = run._writer.queue, 0
    for i in range(20 * BOUND):
        run.log(dict.fromkeys(keys, float(i)))
        longest_queue = max(longest_queue, len(queue))
    assert longest_queue <= BOUND + 1  # the loop never ran further ahead than the bound
    assert run.finish(timeout=30) is True
    assert not [w for w in recorded if "drop" in str(w.message)]
    st = open_store(store_path)
    assert st.metric_history(run.id, "k19").values.tolist() == [float(i) for i in range(20 * BOUND)]
