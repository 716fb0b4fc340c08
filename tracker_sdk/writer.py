"""One background writer per store and process: a queue drained into batched transactions.

The training loop only appends tuples to a deque (thread-safe, ~0.1 µs). This thread wakes every
``flush_interval`` seconds (or when asked), turns what is queued into a :class:`Batch` of packed
chunks and runs it as one short ``BEGIN IMMEDIATE`` transaction. A failed transaction keeps its
items for the next round, so nothing is dropped while the store is busy or briefly unwritable;
the failure is warned once and reported by ``finish()``. A batch that fails because of its data
(a value that got past the checks of the call) is split until the item at fault is found: that
item alone is dropped, with a warning, so one value never stops the writing of the rest.
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
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from tracker_sdk.errors import ValidationError
from tracker_sdk.limits import HEARTBEAT_INTERVAL_S
from tracker_sdk.store import writes
from tracker_sdk.store.series import Summary, Tail, append_points, merge_summary
from tracker_sdk.validation import check_step, metric_value

_log = logging.getLogger("tracker_sdk")

# Queue item kinds. Metrics are the hot path: (M, run, step, time_s, dict).
M, PARAMS, TAGS, NOTE, ENV, TOUCH, FINISH, FLUSH = range(8)
_KIND_NAMES = {PARAMS: "param", TAGS: "tag", NOTE: "note", ENV: "environment value"}

#: Queued log calls before ``log()`` waits for the writer. This bounds memory and, above all,
#: what a SIGKILL can lose: a loop logging flat out (~200k calls/s) is held to roughly one
#: flush interval ahead of the disk (measured: a 500k queue lost up to 81 % of a flat-out run).
MAX_PENDING = 50_000
#: Items folded into one transaction at most, so one flush never holds the lock for long.
MAX_BATCH_ITEMS = 50_000
#: How long ``log()`` waits on a full queue for a writer that cannot write (store locked by
#: another program, disk full) before dropping what it logs: about the time one flush of a
#: full queue takes. A writer that writes, however slowly, is waited for.
BACKPRESSURE_WAIT_S = 1.0

#: Errors that come from what a batch holds, not from the store: retrying cannot help.
_DATA_ERRORS = (ValueError, TypeError, ArithmeticError, IntegrityError, DataError)


class _Unwritable(Exception):
    """A batch failed because of an item's data (the cause is chained)."""


@dataclass(eq=False)  # identity-hashed: used as a dict key per flush
class RunState:
    """What the writer keeps about one live run of this process."""

    run_id: str
    resumed: bool = False
    name: str = ""
    tails: dict[str, Tail] = field(default_factory=dict)
    summaries: dict[str, Summary] = field(default_factory=dict)
    live: bool = True
    dropped: int = 0  # values log() dropped on a full queue (counted by the logging thread)
    rejected: int = 0  # values this thread could not write (counted here)
    warned_full: bool = False


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
        #: Since when the writer has been trying to write without success (None: it is not).
        # Since when the writer has waited for the store's lock, and since when its writes have
        # failed: either for BACKPRESSURE_WAIT_S makes a full queue drop. A write that holds the
        # lock is progress, however slow (a big batch, a slow disk): the loop waits for it.
        self._waiting_since: float | None = None
        self._failing_since: float | None = None
        self._thread = threading.Thread(target=self._loop, name="runwatch-writer", daemon=True)
        self._thread.start()

    # --- called from user threads ---------------------------------------------------------
    def register(self, run_id: str, resumed: bool, name: str = "") -> RunState:
        state = RunState(run_id, resumed, name)
        self._runs[run_id] = state
        return state

    def wait_for_space(self) -> bool:
        """Backpressure: hold the producer while the queue is over ``MAX_PENDING`` and the
        writer is writing. False when the writer has been unable to write for
        ``BACKPRESSURE_WAIT_S``: the caller drops what it logs instead of waiting for the store."""
        if self._stalled():
            return False  # no wake-up either: the writer retries at its own pace
        self._wake.set()
        with self._space:
            while len(self.queue) > MAX_PENDING and self._thread.is_alive():
                if self._stalled():
                    return False
                self._space.wait(0.05)
        return True

    def _stalled(self) -> bool:
        now = time.monotonic()
        return any(since is not None and now - since >= BACKPRESSURE_WAIT_S
                   for since in (self._waiting_since, self._failing_since))

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
            unwritten = self._commit(items, heartbeat_due)
            if unwritten:
                self._retry = unwritten
                return False
            if not self.queue:
                return True

    def _commit(self, items: list[tuple[Any, ...]], heartbeat: bool) -> list[tuple[Any, ...]]:
        """Write ``items`` in order; return those not written (kept for the next attempt).

        A batch its data makes fail is split in halves, down to the one item at fault.
        """
        try:
            self._write(items, heartbeat)
        except _Unwritable as e:
            if len(items) == 1:
                return self._drop(items[0], e.__cause__ or e)
            mid = len(items) // 2
            unwritten = self._commit(items[:mid], heartbeat)
            return unwritten + items[mid:] if unwritten else self._commit(items[mid:], False)
        except Exception as e:
            self._report(e)
            return items
        return []

    def _write(self, items: list[tuple[Any, ...]], heartbeat: bool) -> None:
        try:
            batch, staged = self._prepare(items)
        except DBAPIError:  # reading a resumed run's tail: the store's trouble
            raise
        except Exception as e:
            raise _Unwritable from e
        if heartbeat:
            batch.heartbeats = {r.run_id for r in self._runs.values() if r.live}
        if batch.has_changes or batch.heartbeats:
            self._waiting_since = time.monotonic()  # until BEGIN IMMEDIATE has the lock
            try:
                with self.store._write_engine().begin() as conn:
                    self._waiting_since = None  # the lock is ours: writing, however slowly
                    try:
                        writes.write_batch(conn, batch)
                    except _DATA_ERRORS as e:
                        raise _Unwritable from e
            except _Unwritable:
                self._failing_since = None  # the store took the transaction: the data is at fault
                raise
            except Exception:
                if self._failing_since is None:
                    self._failing_since = time.monotonic()  # until a write succeeds
                raise
            finally:
                self._waiting_since = None
        self._failing_since = None
        for state, key, tail, summary in staged:
            state.tails[key] = tail
            state.summaries[key] = summary
        for run_id in batch.finished:
            if run_id in self._runs:
                self._runs[run_id].live = False
        if heartbeat:
            self._last_heartbeat = time.monotonic()
        for it in items:
            if it[0] == FLUSH:
                it[2].set()

    def _drop(self, item: tuple[Any, ...], error: BaseException) -> list[tuple[Any, ...]]:
        """Drop what one item holds that cannot be written (warned, counted); write the rest."""
        kind, state = item[0], item[1]
        rest: list[tuple[Any, ...]] = []
        if kind == M:
            _, _, step, t, data = item
            good = _writable(step, data)
            if len(good) == len(data):  # each point is fine alone: the fault is elsewhere
                good = {}
            bad = [k for k in data if k not in good]
            what = f"{len(bad)} point(s) of {_names(bad)} at step {step!r}"
            if good:
                rest = [(M, state, step, t, good)]
        elif kind in (PARAMS, TAGS, ENV):
            bad = list(item[2])
            what = f"{_KIND_NAMES[kind]}(s) {_names(bad)}"
        else:  # a note; nothing else carries data of the user's
            bad = [kind]
            what = f"its {_KIND_NAMES.get(kind, 'record')}"
        state.rejected += len(bad)
        warnings.warn(
            f"runwatch: run {state.name!r} ({state.run_id}): dropped {what} that cannot be stored"
            f" ({describe_error(error)}); the rest of the run is written", RuntimeWarning, stacklevel=1)
        return self._commit(rest, False) if rest else []

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
            v = np.asarray(vals, dtype=np.float64)  # converted by log(); raises for what was not
            rows, new_tail = append_points(tail, s, v, t)
            new_summary = merge_summary(summary, s, v, t)
            b.chunks.extend((state.run_id, key, r) for r in rows)
            b.summaries.append((state.run_id, key, new_summary))
            staged.append((state, key, new_tail, new_summary))
        return b, staged

    def _report(self, e: BaseException) -> None:
        self.failures += 1
        self.last_error = describe_error(e)
        _log.debug("runwatch writer failure %d: %s", self.failures, self.last_error)
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"runwatch: could not write to the store at {self.store.path} ({self.last_error})."
                f" {_advice(self.last_error)}; logging continues and retries, what is queued is kept",
                RuntimeWarning, stacklevel=1)


def _writable(step: Any, data: dict[str, Any]) -> dict[str, float]:
    """The values of one log call that can be stored, as floats (none when the step cannot)."""
    try:
        check_step(step)
    except ValidationError:
        return {}
    good = {}
    for k, v in data.items():
        try:
            good[k] = float(metric_value(k, v))  # float(): a GPU tensor log() left unconverted
        except Exception:  # noqa: BLE001 - whatever a value raises, it alone is dropped
            pass
    return good


def _names(keys: list[str]) -> str:
    shown = ", ".join(repr(k)[:60] for k in keys[:5])
    return shown + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def describe_error(e: BaseException) -> str:
    """One short line: the database's own message, without SQLAlchemy's statement, parameters
    (kilobytes of them for a batch) and link."""
    if isinstance(e, DBAPIError) and e.orig is not None:
        text = str(e.orig)
    else:
        text = f"{type(e).__name__}: {e}"
    first = text.strip().splitlines()
    return first[0][:200] if first else type(e).__name__


def _advice(message: str) -> str:
    if "full" in message:
        return "Free some disk space"
    if "locked" in message or "busy" in message:
        return "Close the program holding its lock"
    if "readonly" in message or "read-only" in message or "permission" in message.lower():
        return "Make the store folder writable"
    return "Check the disk and the store folder"
