"""Write deltas of a foreign store into a native store, in one short transaction each.

Used for the private mirror that the app and the CLI read when they open an MLflow or
TensorBoard store in place, and for ``runwatch import``. Points are appended through the same
chunk packing as the SDK's writer, so a mirrored series reads exactly like a logged one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Connection, bindparam, delete, insert, select, update

from tracker_sdk.sources.base import Delta, ForeignRun
from tracker_sdk.store import writes
from tracker_sdk.store.schema import SqlRun, SqlTag
from tracker_sdk.store.series import Summary, Tail, append_points, merge_summary

if TYPE_CHECKING:
    from tracker_sdk.reader import Store


class DeltaWriter:
    """Applies the deltas of one source to one native store; remembers each series' open chunk
    so a live tail rewrites one small chunk per poll, never the series."""

    def __init__(self, store: Store, *, fresh: bool = False) -> None:
        """``fresh``: ``store`` was empty when this writer started and only it writes there
        (a mirror), so a series it has not seen has nothing stored yet: no query to ask."""
        self.store = store
        self._fresh = fresh
        self._series: dict[tuple[str, str], tuple[Tail, Summary | None]] = {}
        # Points of a series the target already holds from an earlier import of the same
        # source, still to be skipped: a source only ever appends, so the first N points it
        # sends are the N stored. This makes an import idempotent without keeping cursors.
        self._skip: dict[tuple[str, str], int] = {}
        self.points_written = 0

    def apply(self, delta: Delta) -> bool:
        """Write ``delta`` (and stamp the source's live runs); True when anything changed."""
        if delta.empty and not delta.live:
            return False
        with self.store._write_engine().begin() as conn:
            batch = writes.Batch()
            if delta.removed:
                writes.hard_delete_runs(conn, list(delta.removed))
                self._series = {k: v for k, v in self._series.items() if k[0] not in set(delta.removed)}
            _upsert_runs(conn, delta.runs, batch)
            staged, skipped = self._stage_points(conn, delta, batch)
            batch.touched.update(r.id for r in delta.runs)
            # A run the source still reports as running is stamped alive at each poll: the
            # store's CRASHED detection (a heartbeat that stops) then follows the source.
            batch.heartbeats = set(delta.live)
            writes.write_batch(conn, batch)
        self._series.update(staged)
        self.points_written += sum(len(v[0]) for v in delta.points.values()) - skipped
        return not delta.empty

    def _stage_points(self, conn: Connection, delta: Delta, batch: writes.Batch
                      ) -> tuple[dict[tuple[str, str], tuple[Tail, Summary | None]], int]:
        """Chunks and summaries of the new points into ``batch``; the new tails, and how many
        points were skipped as already stored."""
        staged = {}
        skipped = 0
        for (run_id, key), (steps, values, times) in delta.points.items():
            known = self._series.get((run_id, key))
            if known is None:
                tail, summary = (Tail.empty(), None) if self._fresh else writes.load_tail(conn, run_id, key)
                self._skip[(run_id, key)] = summary.count if summary is not None else 0
            else:
                tail, summary = known
            drop = min(self._skip.get((run_id, key), 0), len(steps))
            self._skip[(run_id, key)] -= drop
            skipped += drop
            s = np.asarray(steps[drop:], dtype=np.int64)
            v = np.asarray(values[drop:], dtype=np.float64)
            t = np.asarray(times[drop:], dtype=np.int64)
            if s.size == 0:
                staged[(run_id, key)] = (tail, summary)
                continue
            rows, new_tail = append_points(tail, s, v, t)
            new_summary = merge_summary(summary, s, v, t)
            batch.chunks.extend((run_id, key, r) for r in rows)
            batch.summaries.append((run_id, key, new_summary))
            batch.touched.add(run_id)
            staged[(run_id, key)] = (new_tail, new_summary)
        return staged, skipped


def _upsert_runs(conn: Connection, runs: Iterable[ForeignRun], batch: writes.Batch) -> None:
    """Insert new runs and update known ones, a few statements per batch whatever its size
    (a first poll brings every run of the source: 1,000 runs took 1.7 s one by one)."""
    runs = list(runs)
    if not runs:
        return
    ids = [r.id for r in runs]
    existing: set[str] = set()
    for part in _parts(ids):
        existing.update(conn.execute(select(SqlRun.id).where(SqlRun.id.in_(part))).scalars())
    experiments = {name: writes.get_or_create_experiment(conn, name) for name in {r.experiment for r in runs}}
    rows = [{
        "rid": r.id, "experiment_id": experiments[r.experiment], "name": r.name, "status": r.status,
        "start_time": r.start_time, "end_time": r.end_time, "user": r.user, "parent_id": r.parent_id,
        "note": r.note, "deleted_time": r.deleted_time, "environment": json.dumps(dict(r.environment), default=str),
    } for r in runs]
    new = [row for row in rows if row["rid"] not in existing]
    old = [row for row in rows if row["rid"] in existing]
    if new:
        # seq is set by write_batch with the rest of the transaction.
        conn.execute(insert(SqlRun), [{**{k: v for k, v in row.items() if k != "rid"}, "id": row["rid"],
                                       "heartbeat_time": row["start_time"], "host": "", "pid": 0, "seq": 0}
                                      for row in new])
    if old:
        conn.execute(update(SqlRun).where(SqlRun.id == bindparam("rid")).values(
            {k: bindparam(k) for k in rows[0] if k != "rid"}).execution_options(synchronize_session=False),
            old)
    # Tags are a snapshot: one removed in the source goes here too.
    for part in _parts(ids):
        conn.execute(delete(SqlTag).where(SqlTag.run_id.in_(part)))
    for r in runs:
        batch.tags.extend((r.id, k, v) for k, v in r.tags.items())
        batch.params.extend((r.id, k, v) for k, v in r.params.items())


def _parts(ids: list[str], size: int = 900) -> Iterable[list[str]]:
    """Slices that stay under SQLite's bound-variable limit."""
    for i in range(0, len(ids), size):
        yield ids[i:i + size]
