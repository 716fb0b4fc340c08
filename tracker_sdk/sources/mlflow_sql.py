"""Read an MLflow tracking database (SQLite) in place, incrementally, and never write to it.

The file is opened read-only (``mode=ro``); its journal mode is never touched. Each poll is one
short read transaction: MLflow keeps its default rollback journal, where a reader's lock holds
up the writer's commit, so a poll reads at most ``PAGE_ROWS`` metric rows and a busy database
(MLflow committing) is simply polled again later. New points are found by ``metrics.rowid``
(MLflow only ever inserts them), params by ``params.rowid``; runs and tags are small and are
compared with the previous snapshot. ``PRAGMA data_version`` skips a poll when nothing changed.

Runs map to Runwatch as in :mod:`tracker_sdk.sources.mlflow_common`; MLflow stores NaN as 0 with
``is_nan`` set and ±inf as ±DBL_MAX, which read back as NaN and ±inf.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import numpy as np

from tracker_sdk.entities import RegisteredModel
from tracker_sdk.errors import StoreError
from tracker_sdk.sources.base import Delta, ForeignRun
from tracker_sdk.sources.mlflow_common import artifact_dir, mlflow_run
from tracker_sdk.sources.mlflow_registry import read_registry
from tracker_sdk.sources.mlflow_revisions import KNOWN, REQUIRED_COLUMNS

T = TypeVar("T")

#: Metric rows read per poll at most: bounds how long a poll holds MLflow's writer up (~0.1 s).
PAGE_ROWS = 100_000
#: How long one statement waits for MLflow's write lock before the poll is retried later (s).
BUSY_WAIT_S = 0.25
_DBL_MAX = sys.float_info.max


def is_mlflow_database(path: Path) -> bool:
    """Whether ``path`` is an SQLite file with MLflow's tracking tables (read through SQLite
    itself: the file is never opened by hand; see tracker_sdk.store.engine)."""
    try:
        con = _connect(path)
    except sqlite3.Error:
        return False
    try:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {"runs", "metrics", "experiments", "alembic_version"} <= names and "store_meta" not in names
    except sqlite3.Error:
        return False
    finally:
        con.close()


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=BUSY_WAIT_S,
                          isolation_level=None, check_same_thread=False)
    return con


class MlflowSqlReader:
    """A ForeignReader over ``mlflow.db`` (``sqlite:///mlflow.db`` in MLflow's words)."""

    kind = "MLflow"
    #: The database's folder is watched, not what lies below it (mlruns/ can be huge).
    watch_recursive = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.location = Path(path).expanduser().resolve()
        self.watch_root = self.location.parent
        if not self.location.is_file():
            raise StoreError(f"no MLflow database at {self.location}")
        self._con = _connect(self.location)
        self.revision = self._check_schema()
        self._has_deleted_time = "deleted_time" in self._columns("runs")
        self._data_version: int | None = None
        self._metrics_rowid = 0
        self._params_rowid = 0
        self._params: dict[str, dict[str, str]] = {}
        self._runs: dict[str, ForeignRun] = {}
        self._live: list[str] = []
        self._registry: list[RegisteredModel] = []  # the last read, shown while MLflow writes

    # --- ForeignReader ----------------------------------------------------------------------
    def is_relevant(self, path: Path) -> bool:
        # Rollback journal (MLflow's default) or WAL: a commit writes one of these files.
        return path.parent == self.watch_root and path.name in {
            self.location.name, f"{self.location.name}-journal", f"{self.location.name}-wal"}

    def notice(self) -> str | None:
        if self.revision in KNOWN:
            return None
        return (f"MLflow schema {self.revision} is newer than the ones Runwatch was tested with "
                "(MLflow ≤ 3.17); it is read where it matches them")

    def poll(self) -> Delta:
        # MLflow committing holds the lock briefly: an empty delta now, the rest next poll.
        return self._reading(self._poll, busy=lambda: Delta(live=list(self._live)))

    def registry(self) -> list[RegisteredModel]:
        """The model registry: registered models, versions, stages, aliases."""
        def read() -> list[RegisteredModel]:
            self._con.execute("BEGIN")
            try:
                self._registry = read_registry(self._con)
            finally:
                _rollback(self._con)
            return self._registry
        return self._reading(read, busy=lambda: list(self._registry))

    def total_points(self) -> int:
        """About how many metric points the database holds (its highest metrics rowid)."""
        return self._reading(lambda: int(self._con.execute("SELECT max(rowid) FROM metrics").fetchone()[0] or 0),
                             busy=lambda: 0)

    def _reading(self, read: Callable[[], T], busy: Callable[[], T]) -> T:
        """``read()``; ``busy()`` while MLflow holds its write lock; one clear error else."""
        try:
            result = read()
        except sqlite3.OperationalError as e:
            _rollback(self._con)
            if "locked" in str(e) or "busy" in str(e):
                return busy()
            raise StoreError(f"cannot read the MLflow database {self.location}: {e}") from e
        except sqlite3.DatabaseError as e:
            _rollback(self._con)
            raise StoreError(f"cannot read the MLflow database {self.location}: {e}") from e
        return result

    def close(self) -> None:
        self._con.close()

    # --- reading ----------------------------------------------------------------------------
    def _columns(self, table: str) -> set[str]:
        return {r[1] for r in self._con.execute(f"PRAGMA table_info({table})")}

    def _check_schema(self) -> str:
        try:
            row = self._con.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.location} is not an MLflow tracking database ({e})") from e
        revision = row[0] if row else "(none)"
        missing = [f"{t}.{c}" for t, cols in REQUIRED_COLUMNS.items() for c in sorted(cols - self._columns(t))]
        if missing:
            raise StoreError(
                f"{self.location} has MLflow schema {revision}, which Runwatch cannot read (no "
                f"{', '.join(missing[:3])}); upgrade it with: mlflow db upgrade sqlite:///{self.location}")
        return revision

    def _poll(self) -> Delta:
        con = self._con
        version = con.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return Delta(live=list(self._live))
        con.execute("BEGIN")
        try:
            experiments = {r[0]: (r[1], r[2]) for r in con.execute(
                "SELECT experiment_id, name, lifecycle_stage FROM experiments")}
            deleted_col = "deleted_time" if self._has_deleted_time else "NULL"
            run_rows = con.execute(
                "SELECT run_uuid, name, status, start_time, end_time, lifecycle_stage, "
                f"{deleted_col}, user_id, artifact_uri, experiment_id FROM runs").fetchall()
            tag_rows = con.execute("SELECT run_uuid, key, value FROM tags").fetchall()
            param_rows = con.execute("SELECT rowid, run_uuid, key, value FROM params WHERE rowid > ?"
                                     " ORDER BY rowid", (self._params_rowid,)).fetchall()
            metric_rows = con.execute(
                "SELECT rowid, run_uuid, key, value, timestamp, step, is_nan FROM metrics"
                " WHERE rowid > ? ORDER BY rowid LIMIT ?", (self._metrics_rowid, PAGE_ROWS)).fetchall()
        finally:
            _rollback(con)
        more = len(metric_rows) == PAGE_ROWS
        if not more:  # read again next time if the page was full: rows may remain
            self._data_version = version
        for rowid, run_id, key, value in param_rows:
            self._params.setdefault(run_id, {})[key] = value if value is not None else ""
            self._params_rowid = rowid
        tags: dict[str, dict[str, str]] = {}
        for run_id, key, value in tag_rows:
            tags.setdefault(run_id, {})[key] = value if value is not None else ""

        delta = Delta(more=more)
        seen = {}
        for row in run_rows:
            run = self._run(row, experiments, tags.get(row[0], {}))
            seen[run.id] = run
            if self._runs.get(run.id) != run:
                delta.runs.append(run)
        delta.removed = [rid for rid in self._runs if rid not in seen]
        self._runs = seen
        self._live = [r.id for r in seen.values() if r.status == "RUNNING" and r.deleted_time is None]
        delta.live = list(self._live)
        if metric_rows:
            self._metrics_rowid = metric_rows[-1][0]
            delta.points = _group_points(metric_rows, set(seen))
        return delta

    def _run(self, row: tuple, experiments: Mapping[int, tuple[str, str]],  # type: ignore[type-arg]
             tags: Mapping[str, str]) -> ForeignRun:
        run_id, name, status, start, end, lifecycle, deleted, user, artifact_uri, exp_id = row
        exp_name, exp_stage = experiments.get(exp_id, (str(exp_id), "active"))
        return mlflow_run(
            run_id, exp_name, name=name, status=status, start=start, end=end,
            deleted=lifecycle == "deleted" or exp_stage == "deleted", deleted_time=deleted, user=user,
            artifact_uri=artifact_uri, tags=tags, params=self._params.get(run_id, {}),
            # mlflow-artifacts: a tracking server's default root, ./mlartifacts beside the database
            artifact_dir=artifact_dir(artifact_uri, self.location.parent / "mlartifacts"))


def _group_points(rows: list[tuple], runs: set[str]) -> dict[tuple[str, str], tuple]:  # type: ignore[type-arg]
    """Metric rows (rowid order) -> per-series arrays, values as the user logged them."""
    by_series: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(rows):
        by_series.setdefault((r[1], r[2]), []).append(i)
    value = np.fromiter((r[3] if r[3] is not None else np.nan for r in rows), np.float64, len(rows))
    when = np.fromiter((r[4] or 0 for r in rows), np.int64, len(rows))
    step = np.fromiter((r[5] or 0 for r in rows), np.int64, len(rows))
    is_nan = np.fromiter((bool(r[6]) for r in rows), bool, len(rows))
    value[is_nan] = np.nan
    value[value == _DBL_MAX] = np.inf
    value[value == -_DBL_MAX] = -np.inf
    out = {}
    for key, idx in by_series.items():
        if key[0] not in runs:
            continue  # points of a run deleted for good since: nowhere to put them
        ix = np.asarray(idx)
        out[key] = (step[ix], value[ix], when[ix])
    return out


def _rollback(con: sqlite3.Connection) -> None:
    if con.in_transaction:
        con.execute("ROLLBACK")
