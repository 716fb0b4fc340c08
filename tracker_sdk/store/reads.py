"""Every SQL read of the SDK, returning entities (never ORM rows)."""

from __future__ import annotations

import json
import math
import os
import socket
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Connection, func, select, text

from tracker_sdk.entities import Experiment, MetricChunk, MetricSummary, RunInfo, RunStatus
from tracker_sdk.errors import CorruptDataError
from tracker_sdk.limits import HEARTBEAT_STALE_S
from tracker_sdk.store.schema import (
    SqlExperiment,
    SqlMetricChunk,
    SqlMetricSummary,
    SqlParam,
    SqlRun,
    SqlTag,
)
from tracker_sdk.store.series import checksum, unpack_steps, unpack_values

_IN_BATCH = 900  # stay far below SQLite's bound-variable limit
_HOST = socket.gethostname()


def meta(conn: Connection) -> dict[str, int]:
    return {k: int(v) for k, v in conn.execute(text("SELECT key, value FROM store_meta"))}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def derive_status(stored: str, heartbeat: int | None, host: str, pid: int, now: int) -> RunStatus:
    """RUNNING as stored, unless its process is provably gone (then CRASHED)."""
    if stored != "RUNNING":
        return RunStatus(stored)
    if heartbeat is None or now - heartbeat > HEARTBEAT_STALE_S * 1000:
        return RunStatus.CRASHED
    if host == _HOST and pid and not _pid_alive(pid):
        return RunStatus.CRASHED
    return RunStatus.RUNNING


def experiments(conn: Connection) -> list[Experiment]:
    counts = (select(SqlRun.experiment_id, func.count().label("n"), func.max(SqlRun.start_time).label("last"))
              .where(SqlRun.deleted_time.is_(None)).group_by(SqlRun.experiment_id).subquery())
    rows = conn.execute(
        select(SqlExperiment.id, SqlExperiment.name, SqlExperiment.created_time, counts.c.n, counts.c.last)
        .outerjoin(counts, counts.c.experiment_id == SqlExperiment.id).order_by(SqlExperiment.name))
    return [Experiment(r.id, r.name, int(r.n or 0), r.created_time, r.last) for r in rows]


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i:i + _IN_BATCH] for i in range(0, len(ids), _IN_BATCH)]


def _side_rows(conn: Connection, sql: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows of a per-run table for these runs, as plain tuples (run_id first).

    This is the bulk of opening a big store (10,000 runs: ~200k rows), so it skips SQLAlchemy's
    per-row machinery and, for many runs, the IN lists: reading the whole table and dropping
    other runs' rows in Python is faster than a dozen IN queries.
    """
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if len(ids) > 4 * _IN_BATCH:
            wanted = set(ids)
            return [r for r in cur.execute(sql).fetchall() if r[0] in wanted]
        out: list[tuple[Any, ...]] = []
        for part in _chunks(ids):
            marks = ",".join("?" * len(part))
            out += cur.execute(f"{sql} WHERE run_id IN ({marks})", tuple(part)).fetchall()
        return out
    finally:
        cur.close()


_NAN = math.nan


def load_runs(conn: Connection, where: Sequence[ColumnElement[bool]] = (),
              order_by: Sequence[Any] = (), limit: int | None = None) -> list[RunInfo]:
    """Runs matching ``where``, with their params, tags and metric summaries, in order."""
    q = (select(SqlRun.__table__, SqlExperiment.name.label("experiment"))
         .join(SqlExperiment, SqlExperiment.id == SqlRun.experiment_id).where(*where)
         .order_by(*(order_by or (SqlRun.start_time.desc(), SqlRun.id))))
    if limit is not None:
        q = q.limit(limit)
    rows = conn.execute(q).all()
    ids = [r.id for r in rows]
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, dict[str, MetricSummary]] = {i: {} for i in ids}
    for rid, key, value in _side_rows(conn, "SELECT run_id, key, value FROM params", ids):
        params[rid][key] = value
    for rid, key, value in _side_rows(conn, "SELECT run_id, key, value FROM tags", ids):
        tags[rid][key] = value
    # SQLite cannot store NaN: NULL means NaN (last_is_nan says so for ``last``).
    for rid, key, last, is_nan, step, when, lo, hi, count in _side_rows(
            conn, "SELECT run_id, key, last, last_is_nan, last_step, last_time, min, max, count"
                  " FROM metric_summaries", ids):
        metrics[rid][key] = MetricSummary(key, _NAN if is_nan or last is None else last, step,
                                          _NAN if lo is None else lo, _NAN if hi is None else hi, count, when)
    now = int(time.time() * 1000)
    out = []
    loads = json.loads
    for (rid, exp_id, name, status, start, end, beat, host, pid, user, parent, note, environment,
         deleted, seq, experiment) in rows:  # column order of SqlRun.__table__ + experiment
        try:
            env = loads(environment or "{}")
        except ValueError:
            env = {}
        env.setdefault("user", user)
        env.setdefault("host", host)
        env.setdefault("pid", pid)
        m = metrics[rid]
        out.append(RunInfo(
            id=rid, name=name, experiment=experiment, status=derive_status(status, beat, host, pid, now),
            start_time=start, end_time=end, params=params[rid], tags=tags[rid], note=note or "",
            metrics={k: m[k] for k in sorted(m)}, parent_id=parent, deleted=deleted is not None, deleted_time=deleted,
            environment=env, heartbeat_time=beat, experiment_id=exp_id, seq=seq))
    return out


def find_run_ids(conn: Connection, id_or_prefix: str) -> list[str]:
    exact = conn.execute(select(SqlRun.id).where(SqlRun.id == id_or_prefix)).scalar()
    if exact is not None:
        return [exact]
    if not id_or_prefix:
        return []  # an empty prefix would match every run
    # A prefix is literal text: ``%`` and ``_`` must not act as LIKE wildcards.
    return list(conn.execute(select(SqlRun.id).where(SqlRun.id.startswith(id_or_prefix, autoescape=True))
                             .order_by(SqlRun.id).limit(5)).scalars())


def changed_series(conn: Connection, cursor: int) -> list[tuple[str, str]]:
    """Series with new points after ``cursor``. Every chunk write also rewrites its series'
    summary with the same seq, so the small summary table answers this without touching blobs."""
    rows = conn.exec_driver_sql("SELECT run_id, key FROM metric_summaries WHERE seq > ?", (cursor,))
    return [(r[0], r[1]) for r in rows.fetchall()]


def metric_chunks(conn: Connection, run_id: str, key: str, since: int = 0) -> list[MetricChunk]:
    rows = conn.execute(
        select(SqlMetricChunk.chunk_index, SqlMetricChunk.steps, SqlMetricChunk.values,
               SqlMetricChunk.timestamps, SqlMetricChunk.checksum, SqlMetricChunk.seq)
        .where(SqlMetricChunk.run_id == run_id, SqlMetricChunk.key == key, SqlMetricChunk.seq > since)
        .order_by(SqlMetricChunk.chunk_index)).all()
    _verify(conn, run_id, key, rows)
    return [MetricChunk(run_id, key, r.chunk_index, r.seq, unpack_steps(r.steps), unpack_values(r.values),
                        unpack_steps(r.timestamps)) for r in rows]


def metric_arrays(conn: Connection, run_id: str, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A whole series as three arrays: one query, one concatenate per column."""
    # Raw DBAPI cursor: the blobs go straight to np.frombuffer without per-row ORM work.
    cur = conn.exec_driver_sql(
        "SELECT chunk_index, steps, \"values\", timestamps, checksum FROM metric_chunks"
        " WHERE run_id = ? AND key = ? ORDER BY chunk_index", (run_id, key))
    rows = cur.fetchall()
    if not rows:
        empty_i = np.empty(0, np.int64)
        return empty_i, np.empty(0, np.float64), empty_i.copy()
    _verify(conn, run_id, key, rows)
    steps = np.frombuffer(b"".join(r[1] for r in rows), dtype="<i8")
    values = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f8")
    times = np.frombuffer(b"".join(r[3] for r in rows), dtype="<i8")
    return steps, values, times


def damaged_chunks(rows: Iterable[Sequence[Any]]) -> list[int]:
    """Indexes of the chunks whose blobs fail their checksum (or disagree in length). Each row
    starts with (chunk_index, steps, values, timestamps, checksum)."""
    bad = []
    for index, steps, values, timestamps, crc, *_ in rows:
        n = len(steps)
        if n % 8 or len(values) != n or len(timestamps) != n:
            bad.append(index)
        elif crc is not None and checksum(steps, values, timestamps) != crc:
            bad.append(index)
    return bad


def damaged_series(conn: Connection) -> list[tuple[str, str, list[int]]]:
    """(run id, key, damaged chunk indexes) for every series failing its checksums."""
    out = []
    for run_id in conn.execute(select(SqlRun.id).order_by(SqlRun.id)).scalars().all():
        # One run at a time bounds memory by the largest run, not by the store.
        rows = conn.exec_driver_sql(
            "SELECT key, chunk_index, steps, \"values\", timestamps, checksum FROM metric_chunks"
            " WHERE run_id = ? ORDER BY key, chunk_index", (run_id,))
        by_key: dict[str, list[int]] = {}
        for r in rows:
            if damaged_chunks([r[1:]]):
                by_key.setdefault(r[0], []).append(r[1])
        out.extend((run_id, key, idx) for key, idx in by_key.items())
    return out


def _verify(conn: Connection, run_id: str, key: str, rows: Sequence[Any]) -> None:
    bad = damaged_chunks(rows)
    if bad:
        name = conn.execute(select(SqlRun.name).where(SqlRun.id == run_id)).scalar()
        raise CorruptDataError(
            f"metric {key!r} of run {name or '?'!r} ({run_id[:8]}) is damaged in the store: "
            f"{len(bad)} chunk(s) fail their checksum (first: {bad[0]}). The file was changed after "
            "it was written (disk or copy fault); run `runwatch doctor` to list every damaged series")


def metric_keys(conn: Connection, run_ids: Sequence[str]) -> list[str]:
    keys: set[str] = set()
    for part in _chunks(list(run_ids)):
        keys.update(conn.execute(select(SqlMetricSummary.key).where(SqlMetricSummary.run_id.in_(part))
                                 .distinct()).scalars())
    return sorted(keys)


def run_params(conn: Connection, run_id: str) -> dict[str, str]:
    return {r.key: r.value for r in conn.execute(select(SqlParam.key, SqlParam.value)
                                                 .where(SqlParam.run_id == run_id))}


def max_step(conn: Connection, run_id: str) -> int | None:
    return conn.execute(select(func.max(SqlMetricSummary.last_step))
                        .where(SqlMetricSummary.run_id == run_id)).scalar()


def deleted_run_ids(conn: Connection, older_than_ms: int | None = None) -> list[str]:
    q = select(SqlRun.id).where(SqlRun.deleted_time.is_not(None))
    if older_than_ms is not None:
        q = q.where(SqlRun.deleted_time < older_than_ms)
    return list(conn.execute(q).scalars())


def sizes(conn: Connection) -> dict[str, int]:
    out = {}
    for name, table in (("runs", SqlRun), ("experiments", SqlExperiment), ("params", SqlParam),
                        ("tags", SqlTag), ("metric_chunks", SqlMetricChunk),
                        ("metric_series", SqlMetricSummary)):
        out[name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    out["metric_points"] = int(conn.execute(select(func.coalesce(func.sum(SqlMetricSummary.count), 0))).scalar_one())
    return out
