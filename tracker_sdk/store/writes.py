"""Every SQL write of the SDK. Each public function runs inside one caller-owned transaction."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, insert, select, text, update

from tracker_sdk.store.schema import (
    SqlExperiment,
    SqlMetricChunk,
    SqlMetricSummary,
    SqlParam,
    SqlRun,
    SqlTag,
)
from tracker_sdk.store.series import ChunkRow, Summary, Tail, unpack_steps, unpack_values


def now_ms() -> int:
    return int(time.time() * 1000)


def next_seq(conn: Connection) -> int:
    """Take the next store-wide change number (needs the write lock, i.e. BEGIN IMMEDIATE)."""
    return int(conn.execute(text(
        "UPDATE store_meta SET value = value + 1 WHERE key = 'seq' RETURNING value")).scalar_one())


def bump_epoch(conn: Connection) -> None:
    conn.execute(text("UPDATE store_meta SET value = value + 1 WHERE key = 'epoch'"))


def get_or_create_experiment(conn: Connection, name: str) -> int:
    found = conn.execute(select(SqlExperiment.id).where(SqlExperiment.name == name)).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(insert(SqlExperiment).values(name=name, created_time=now_ms())
                            .returning(SqlExperiment.id)).scalar_one())


def create_run(conn: Connection, *, run_id: str, experiment: str, name: str, start_time: int,
               host: str, pid: int, user: str, parent_id: str | None,
               environment: Mapping[str, Any], note: str = "") -> None:
    exp_id = get_or_create_experiment(conn, experiment)
    conn.execute(insert(SqlRun).values(
        id=run_id, experiment_id=exp_id, name=name, status="RUNNING", start_time=start_time,
        end_time=None, heartbeat_time=start_time, host=host, pid=pid, user=user,
        parent_id=parent_id, note=note, environment=json.dumps(dict(environment), default=str),
        deleted_time=None, seq=next_seq(conn)))


def reopen_run(conn: Connection, run_id: str, host: str, pid: int) -> None:
    """Resume: the run is live again, owned by this process."""
    conn.execute(update(SqlRun).where(SqlRun.id == run_id).values(
        status="RUNNING", end_time=None, heartbeat_time=now_ms(), host=host, pid=pid,
        seq=next_seq(conn)))


def load_tail(conn: Connection, run_id: str, key: str) -> tuple[Tail, Summary | None]:
    """The last stored chunk and the summary of a series (for resumed runs)."""
    row = conn.execute(
        select(SqlMetricChunk.__table__).where(SqlMetricChunk.run_id == run_id, SqlMetricChunk.key == key)
        .order_by(SqlMetricChunk.chunk_index.desc()).limit(1)).first()
    s = conn.execute(select(SqlMetricSummary.__table__).where(
        SqlMetricSummary.run_id == run_id, SqlMetricSummary.key == key)).first()
    tail = Tail.empty() if row is None else Tail(
        row.chunk_index, unpack_steps(row.steps).copy(), unpack_values(row.values).copy(),
        unpack_steps(row.timestamps).copy())
    summary = None if s is None else Summary(
        math.nan if s.last_is_nan else float(s.last), s.last_step, s.last_time,
        math.nan if s.min is None else s.min, math.nan if s.max is None else s.max, s.count)
    return tail, summary


def _nan_to_none(x: float) -> float | None:
    return None if math.isnan(x) else x


@dataclass
class Batch:
    """Everything one flush writes, prepared in memory before the transaction starts."""

    chunks: list[tuple[str, str, ChunkRow]] = field(default_factory=list)
    summaries: list[tuple[str, str, Summary]] = field(default_factory=list)
    params: list[tuple[str, str, str]] = field(default_factory=list)
    tags: list[tuple[str, str, str]] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)
    finished: dict[str, tuple[str, int]] = field(default_factory=dict)  # run -> (status, end)
    touched: set[str] = field(default_factory=set)  # runs whose record changed
    heartbeats: set[str] = field(default_factory=set)  # live runs to stamp without a seq bump

    @property
    def has_changes(self) -> bool:
        return bool(self.touched)


def write_batch(conn: Connection, b: Batch) -> int | None:
    """Write one prepared batch: a handful of statements whatever the number of points.

    Statements, not points, cost a GIL hand-off each (sqlite3 releases the GIL per step; see
    DESIGN §3 on the convoy), so points travel as packed chunk blobs.
    """
    now = now_ms()
    seq = next_seq(conn) if b.has_changes else None
    if b.chunks:
        conn.execute(insert(SqlMetricChunk).prefix_with("OR REPLACE"),
                     [c.as_params(r, k, seq) for r, k, c in b.chunks])
    if b.summaries:
        conn.execute(insert(SqlMetricSummary).prefix_with("OR REPLACE"), [
            {"run_id": r, "key": k, "last": _nan_to_none(s.last), "last_is_nan": int(math.isnan(s.last)),
             "last_step": s.last_step, "last_time": s.last_time, "min": _nan_to_none(s.min),
             "max": _nan_to_none(s.max), "count": s.count, "seq": seq}
            for r, k, s in b.summaries])
    if b.params:
        # Immutability is enforced at the call (Run keeps what it logged); a conflicting value
        # from another process resuming the same run keeps the first one.
        conn.execute(insert(SqlParam).prefix_with("OR IGNORE"),
                     [{"run_id": r, "key": k, "value": v} for r, k, v in b.params])
    if b.tags:
        conn.execute(insert(SqlTag).prefix_with("OR REPLACE"),
                     [{"run_id": r, "key": k, "value": v} for r, k, v in b.tags])
    for run_id, note in b.notes.items():
        conn.execute(update(SqlRun).where(SqlRun.id == run_id).values(note=note))
    for run_id, env in b.environments.items():
        old = conn.execute(select(SqlRun.environment).where(SqlRun.id == run_id)).scalar() or "{}"
        merged = {**json.loads(old), **env}
        conn.execute(update(SqlRun).where(SqlRun.id == run_id)
                     .values(environment=json.dumps(merged, default=str)))
    for run_id, (status, end) in b.finished.items():
        conn.execute(update(SqlRun).where(SqlRun.id == run_id).values(status=status, end_time=end))
    if b.touched:
        conn.execute(update(SqlRun).where(SqlRun.id.in_(sorted(b.touched)))
                     .values(seq=seq, heartbeat_time=now))
    quiet = b.heartbeats - b.touched
    if quiet:
        conn.execute(update(SqlRun).where(SqlRun.id.in_(sorted(quiet))).values(heartbeat_time=now))
    return seq


# --- edits made by users (app, CLI) -------------------------------------------------------

def touch_runs(conn: Connection, run_ids: Iterable[str], **values: Any) -> None:
    conn.execute(update(SqlRun).where(SqlRun.id.in_(list(run_ids))).values(seq=next_seq(conn), **values))


def set_tags(conn: Connection, run_id: str, tags: Mapping[str, str], remove: Iterable[str] = ()) -> None:
    if tags:
        conn.execute(insert(SqlTag).prefix_with("OR REPLACE"),
                     [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items()])
    gone = list(remove)
    if gone:
        conn.execute(delete(SqlTag).where(SqlTag.run_id == run_id, SqlTag.key.in_(gone)))
    touch_runs(conn, [run_id])


def hard_delete_runs(conn: Connection, run_ids: list[str]) -> None:
    for table in (SqlMetricChunk, SqlMetricSummary, SqlParam, SqlTag):
        conn.execute(delete(table).where(table.run_id.in_(run_ids)))
    conn.execute(update(SqlRun).where(SqlRun.parent_id.in_(run_ids)).values(parent_id=None))
    conn.execute(delete(SqlRun).where(SqlRun.id.in_(run_ids)))
    bump_epoch(conn)
    next_seq(conn)

