"""One background writer per store and process: a queue drained into batched transactions.

The training loop only appends tuples to a deque (thread-safe, ~0.1 µs). This thread wakes every
``flush_interval`` seconds (or when asked), turns what is queued into a :class:`Batch` of packed
chunks and runs it as one short ``BEGIN IMMEDIATE`` transaction. A failed transaction keeps its
items for the next round, so nothing is dropped while the store is busy or briefly unwritable;
the failure is warned once and reported by ``finish()``.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tracker_sdk.limits import HEARTBEAT_INTERVAL_S
from tracker_sdk.store import writes
from tracker_sdk.store.series import Summary, Tail, append_points, merge_summary

_log = logging.getLogger("tracker_sdk")

# Queue item kinds. Metrics are the hot path: (M, run, step, time_s, dict).
M, PARAMS, TAGS, NOTE, ENV, TOUCH, FINISH, FLUSH = range(8)

#: Queued log calls before ``log()`` waits for the writer. This bounds memory and, above all,
#: what a SIGKILL can lose: a loop logging flat out (~200k calls/s) is held to roughly one
#: flush interval ahead of the disk (measured: a 500k queue lost up to 81 % of a flat-out run).
MAX_PENDING = 50_000
#: Items folded into one transaction at most, so one flush never holds the lock for long.
MAX_BATCH_ITEMS = 50_000


@dataclass(eq=False)  # identity-hashed: used as a dict key per flush
class RunState:
    """What the writer keeps about one live run of this process."""

    run_id: str
    resumed: bool = False
    tails: dict[str, Tail] = field(default_factory=dict)
    summaries: dict[str, Summary] = field(default_factory=dict)
    live: bool = True


class Writer:
    def __init__(self, store: Any, flush_interval: float = 0.2) -> None:
        self.store = store  # tracker_sdk.reader.Store: owns the engines
        self.flush_interval = flush_interval
        self.queue: deque[tuple[Any, ...]] = deque()
        self.failures = 0
        self.last_error: str | None = None
        self._retry: list[tuple[Any, ...]] = []
        self._runs: dict[str, RunState] = {}
        self._wake = threading.Event()
        self._space = threading.Condition()
        self._stop = False
        self._warned = False
        self._last_heartbeat = 0.0
        self._thread = threading.Thread(target=self._loop, name="runwatch-writer", daemon=True)
        self._thread.start()

    # --- called from user threads ---------------------------------------------------------
    def register(self, run_id: str, resumed: bool) -> RunState:
        state = RunState(run_id, resumed)
        self._runs[run_id] = state
        return state

    def wait_for_space(self) -> None:
        """Backpressure: block the producer while the queue is over ``MAX_PENDING``."""
        self._wake.set()
        with self._space:
            while len(self.queue) > MAX_PENDING and self._thread.is_alive():
                self._space.wait(0.05)

    def flush(self, timeout: float | None = None) -> bool:
        """Block until everything queued so far is committed (or ``timeout`` passes)."""
        if not self._thread.is_alive():
            return not self.queue and not self._retry
        done = threading.Event()
        self.queue.append((FLUSH, None, done))
        self._wake.set()
        return done.wait(timeout)

    def close(self, timeout: float | None = None) -> bool:
        ok = self.flush(timeout)
        self._stop = True
        self._wake.set()
        self._thread.join(timeout)
        return ok

    # --- the writer thread ----------------------------------------------------------------
    def _loop(self) -> None:
        backoff = 0.0
        while True:
            # However long the flush interval, wake for the heartbeat: a quiet live run must not
            # read back as CRASHED (HEARTBEAT_STALE_S) before its next write.
            self._wake.wait(max(min(self.flush_interval, HEARTBEAT_INTERVAL_S), backoff))
            self._wake.clear()
            try:
                ok = self._flush_once()
            except Exception as e:  # never let the thread die: nothing would be written again
                ok = False
                self._report(e)
            backoff = 0.0 if ok else min(2.0, max(0.05, backoff * 2))
            if self._stop and not self.queue and not self._retry:
                return

    def _flush_once(self) -> bool:
        while True:
            items = self._retry
            self._retry = []
            q = self.queue
            for _ in range(min(len(q), MAX_BATCH_ITEMS - len(items))):
                items.append(q.popleft())
            # Never block on this lock: a SIGTERM handler may run on the main thread while it
            # holds it in wait_for_space(), then wait for this thread to flush. A missed notify
            # costs the producer at most its 50 ms re-check.
            if self._space.acquire(blocking=False):
                try:
                    self._space.notify_all()
                finally:
                    self._space.release()
            heartbeat_due = time.monotonic() - self._last_heartbeat >= HEARTBEAT_INTERVAL_S
            if not items and not heartbeat_due:
                return True
            if not self._commit(items, heartbeat_due):
                self._retry = items
                return False
            if not self.queue:
                return True

    def _commit(self, items: list[tuple[Any, ...]], heartbeat: bool) -> bool:
        flushes = [it[2] for it in items if it[0] == FLUSH]
        try:
            batch, staged = self._prepare(items)
            if heartbeat:
                batch.heartbeats = {r.run_id for r in self._runs.values() if r.live}
            if batch.has_changes or batch.heartbeats:
                with self.store._write_engine().begin() as conn:
                    writes.write_batch(conn, batch)
        except Exception as e:
            self._report(e)
            return False
        for state, key, tail, summary in staged:
            state.tails[key] = tail
            state.summaries[key] = summary
        for run_id, _ in batch.finished.items():
            if run_id in self._runs:
                self._runs[run_id].live = False
        if heartbeat:
            self._last_heartbeat = time.monotonic()
        for ev in flushes:
            ev.set()
        return True

    def _prepare(self, items: list[tuple[Any, ...]]) -> tuple[writes.Batch, list[Any]]:
        b = writes.Batch()
        points: dict[tuple[RunState, str], tuple[list[int], list[float], list[Any]]] = defaultdict(
            lambda: ([], [], []))
        for it in items:
            kind, state = it[0], it[1]
            if kind == M:
                _, _, step, t, data = it
                for k, v in data.items():
                    p = points[(state, k)]
                    p[0].append(step)
                    p[1].append(t)
                    p[2].append(v)
            elif kind == PARAMS:
                b.params.extend((state.run_id, k, v) for k, v in it[2].items())
            elif kind == TAGS:
                b.tags.extend((state.run_id, k, v) for k, v in it[2].items())
            elif kind == NOTE:
                b.notes[state.run_id] = it[2]
            elif kind == ENV:
                b.environments.setdefault(state.run_id, {}).update(it[2])
            elif kind == FINISH:
                b.finished[state.run_id] = (it[2], it[3])
            if kind != FLUSH:
                b.touched.add(state.run_id)
        staged = []
        for (state, key), (steps, times, vals) in points.items():
            tail = state.tails.get(key)
            summary = state.summaries.get(key)
            if tail is None:
                if state.resumed:
                    with self.store._read_engine().connect() as conn:
                        tail, summary = writes.load_tail(conn, state.run_id, key)
                else:
                    tail = Tail.empty()
            s = np.asarray(steps, dtype=np.int64)
            t = (np.asarray(times, dtype=np.float64) * 1000.0).astype(np.int64)
            v = writes.as_float_array(vals)
            rows, new_tail = append_points(tail, s, v, t)
            new_summary = merge_summary(summary, s, v, t)
            b.chunks.extend((state.run_id, key, r) for r in rows)
            b.summaries.append((state.run_id, key, new_summary))
            staged.append((state, key, new_tail, new_summary))
        return b, staged

    def _report(self, e: BaseException) -> None:
        self.failures += 1
        self.last_error = f"{type(e).__name__}: {e}"
        _log.debug("runwatch writer failure %d: %s", self.failures, self.last_error)
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"runwatch: could not write to the store at {self.store.path} ({self.last_error});"
                " logging continues and will retry, nothing queued is dropped",
                RuntimeWarning, stacklevel=1)
