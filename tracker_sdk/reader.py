"""``Store``: the read API (and the user-edit API) of a store folder.

This is the only way the app and scripts read a store. Every method opens a short transaction
on a long-lived connection pool, so a reader does not churn the database files (a watcher on the
folder would see its own open/close events otherwise).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker_sdk.entities import (
    ArtifactInfo,
    ChangeSet,
    Experiment,
    MetricChunk,
    MetricSeries,
    RunInfo,
)
from tracker_sdk.errors import CorruptDataError, RunNotFoundError, StoreError, TrackerError, ValidationError
from tracker_sdk.registry_methods import RegistryMethods

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from tracker_sdk.artifacts import ArtifactStore


class Store(RegistryMethods):
    """A store folder: ``runwatch.db`` (SQLite, WAL) plus ``artifacts/<run_id>/``.

    Args:
        path: the store folder (or its ``runwatch.db``, or ``sqlite:///path/runwatch.db``).
            Default: ``$RUNWATCH_HOME``, else ``./runwatch``.
        create: create the store when missing (writers do; readers get a clear error).

    Example::

        store = tracker_sdk.Store("runs/")
        best = store.search_runs(filter="metrics.`val/loss` < 0.3", order_by=["metrics.`val/loss`"])
        h = store.metric_history(best[0].id, "val/loss")   # h.steps, h.values: numpy arrays
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = False) -> None:
        from tracker_sdk.store.engine import ARTIFACTS_DIR, check_store_folder, resolve_store_path

        self.path = resolve_store_path(path)
        self.db_path = check_store_folder(self.path, create=create)
        self.artifacts_root = self.path / ARTIFACTS_DIR
        self._create = create
        self._lock = threading.Lock()
        self._engines: dict[bool, Engine] = {}
        self._epoch: int | None = None
        self._artifacts: ArtifactStore | None = None
        self._read_engine()  # open and check the schema now: errors surface at construction

    #: A foreign store opened in place is read-only (see tracker_sdk.sources.mirror).
    read_only = False
    #: Whose format the store is in, for labels: "Runwatch", "MLflow", "TensorBoard".
    source_kind = "Runwatch"
    #: Whether sync() has nothing more to read right now (always, for a native store).
    caught_up = True

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def sync(self, budget_s: float | None = None) -> bool:
        """Bring in what the source gained; a native store is its own source, so nothing."""
        return False

    def sync_all(self) -> None:
        """Sync until caught up; nothing to do for a native store."""

    def notice(self) -> str | None:
        """One line the user should see about this store, or None."""
        return None

    # --- engines ------------------------------------------------------------------------------
    def _engine(self, immediate: bool) -> Engine:
        with self._lock:
            engine = self._engines.get(immediate)
            if engine is None:
                from tracker_sdk.store.engine import make_engine
                from tracker_sdk.store.migrate import ensure_schema

                engine = make_engine(self.db_path, immediate=immediate)
                if not self._engines:
                    writer = None
                    if self._create or os.access(self.path, os.W_OK):
                        writer = make_engine(self.db_path, immediate=True)
                    try:
                        ensure_schema(engine, writer, self.db_path)
                    except Exception as e:
                        # Close what was opened: a refused file must not stay open (and keep
                        # -wal/-shm files around) until the garbage collector gets to it.
                        for opened in (engine, writer):
                            if opened is not None:
                                opened.dispose()
                        if isinstance(e, TrackerError):
                            raise
                        if _is_damage(e):
                            raise CorruptDataError(_describe_db_error(self.db_path, e), self.db_path) from e
                        raise StoreError(_describe_db_error(self.db_path, e)) from e
                    if writer is not None:
                        if immediate:
                            writer.dispose()  # ``engine`` is already a writer: keep only one
                        else:
                            self._engines[True] = writer
                self._engines[immediate] = engine
            return engine

    def _read_engine(self) -> Engine:
        return self._engine(False)

    def _write_engine(self) -> Engine:
        return self._engine(True)

    def close(self) -> None:
        with self._lock:
            for e in self._engines.values():
                e.dispose()
            self._engines.clear()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A short read transaction; a damaged database file raises :class:`CorruptDataError`."""
        from sqlalchemy.exc import DatabaseError

        try:
            with self._read_engine().begin() as conn:
                yield conn
        except DatabaseError as e:
            if _is_damage(e):
                raise CorruptDataError(_describe_db_error(self.db_path, e), self.db_path) from e
            raise

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction; a locked, read-only or failing database raises StoreError."""
        from sqlalchemy.exc import OperationalError

        try:
            with self._write_engine().begin() as conn:  # BEGIN IMMEDIATE happens on entry
                yield conn
        except OperationalError as e:
            raise StoreError(_describe_db_error(self.db_path, e)) from e

    @property
    def artifacts(self) -> ArtifactStore:
        if self._artifacts is None:
            from tracker_sdk.artifacts import ArtifactStore

            self._artifacts = ArtifactStore(self.artifacts_root)
        return self._artifacts

    # --- reads --------------------------------------------------------------------------------
    def experiments(self) -> list[Experiment]:
        """Experiments with their number of (not deleted) runs, by name."""
        from tracker_sdk.store import reads

        with self._read() as conn:
            return reads.experiments(conn)

    def search_runs(self, experiment: str | Sequence[str] | None = None, filter: str | None = None,
                    order_by: Sequence[str] | str | None = None, include_deleted: bool = False,
                    limit: int | None = None) -> list[RunInfo]:
        """Runs matching MLflow's filter language (plus OR, NOT and parentheses).

        Args:
            experiment: an experiment name or several; None for all.
            filter: e.g. ``"metrics.`train/loss` < 0.1 and params.lr = '0.0003'"``.
            order_by: e.g. ``["metrics.`val/loss` ASC", "attributes.start_time DESC"]``.
            include_deleted: also return soft-deleted runs.
        """
        from tracker_sdk.query import parse_filter, parse_order_by
        from tracker_sdk.store import reads
        from tracker_sdk.store.filters import compile_filter, compile_order
        from tracker_sdk.store.schema import SqlExperiment, SqlRun

        where = []
        if experiment is not None:
            names = [experiment] if isinstance(experiment, str) else list(experiment)
            for name in names:
                if not isinstance(name, str) or not _encodable(name):
                    raise ValidationError(f"experiment name {name!r} is not valid text; "
                                          "pass an experiment name as a str")
            where.append(SqlExperiment.name.in_(names))
        if not include_deleted:
            where.append(SqlRun.deleted_time.is_(None))
        node = parse_filter(filter or "")
        if node is not None:
            where.append(compile_filter(node, now_ms=int(time.time() * 1000)))
        now = int(time.time() * 1000)
        order = compile_order(parse_order_by(order_by), now_ms=now) if order_by else ()
        with self._read() as conn:
            return reads.load_runs(conn, where, order, limit)

    def get_run(self, run_id: str) -> RunInfo:
        """One run by id or unique id prefix (as ``git`` does for commits)."""
        from tracker_sdk.store import reads
        from tracker_sdk.store.schema import SqlRun

        with self._read() as conn:
            ids = reads.find_run_ids(conn, run_id)
            if not ids:
                raise RunNotFoundError(f"no run with id {run_id!r} in {self.path}")
            if len(ids) > 1:
                raise RunNotFoundError(f"run id prefix {run_id!r} is ambiguous ({', '.join(ids)}); type more of it")
            return reads.load_runs(conn, [SqlRun.id == ids[0]])[0]

    def metric_keys(self, run_ids: Iterable[str]) -> list[str]:
        from tracker_sdk.store import reads

        with self._read() as conn:
            return reads.metric_keys(conn, list(run_ids))

    def metric_history(self, run_id: str, key: str) -> MetricSeries:
        """The full-resolution series of one metric (steps, values, timestamps in ms)."""
        from tracker_sdk.store import reads

        with self._read() as conn:
            steps, values, times = reads.metric_arrays(conn, run_id, key)
        return MetricSeries(run_id, key, steps, values, times)

    def metric_chunks(self, run_id: str, key: str, since: int = 0) -> list[MetricChunk]:
        """Stored chunks of a series changed after cursor ``since`` (all chunks for 0)."""
        from tracker_sdk.store import reads

        with self._read() as conn:
            return reads.metric_chunks(conn, run_id, key, since)

    def cursor(self) -> int:
        """The store's current change number; ``changes_since(cursor())`` is empty until a write."""
        from tracker_sdk.store import reads

        with self._read() as conn:
            m = reads.meta(conn)
        # Remember the epoch this cursor belongs to: a gc before the next changes_since()
        # must still be reported as a reset.
        self._epoch = m.get("epoch", 0)
        return m.get("seq", 0)

    def changes_since(self, cursor: int, *, series: bool = True) -> ChangeSet:
        """Runs and series changed after ``cursor``; pass the returned ``cursor`` next time.

        ``series=False`` skips listing changed series (a reader that shows no curves yet).
        """
        from tracker_sdk.store import reads
        from tracker_sdk.store.schema import SqlRun

        with self._read() as conn:
            m = reads.meta(conn)
            seq, epoch = m.get("seq", 0), m.get("epoch", 0)
            reset = self._epoch is not None and epoch != self._epoch
            self._epoch = epoch
            if reset:
                cursor = 0
            if seq <= cursor:
                return ChangeSet(cursor=seq, reset=reset)
            runs = reads.load_runs(conn, [SqlRun.seq > cursor])
            changed = reads.changed_series(conn, cursor) if series else []
        return ChangeSet(cursor=seq, runs=tuple(runs), series=tuple(changed), reset=reset or cursor == 0)

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactInfo]:
        """One folder level of a run's artifacts (folders first)."""
        return self.artifacts.list(run_id, path)

    def artifact_path(self, run_id: str, path: str = "") -> Path:
        """The local file of an artifact; refuses paths that escape the run's folder."""
        return self.artifacts.resolve(run_id, path)

    def info(self) -> dict[str, Any]:
        """What ``runwatch doctor`` prints: path, schema, row counts, bytes, integrity."""
        from tracker_sdk.store import reads
        from tracker_sdk.store.migrate import read_revision

        with self._read() as conn:
            out: dict[str, Any] = {"path": str(self.path), "schema": read_revision(conn)}
            out.update(reads.sizes(conn))
            out["integrity"] = conn.exec_driver_sql("PRAGMA quick_check").scalar()
        db_bytes = sum(p.stat().st_size for p in self.path.glob("runwatch.db*") if p.is_file())
        art = sum(p.stat().st_size for p in self.artifacts_root.rglob("*") if p.is_file()) \
            if self.artifacts_root.exists() else 0
        out.update(db_bytes=db_bytes, artifact_bytes=art)
        return out

    def damaged_series(self) -> list[tuple[str, str, list[int]]]:
        """Every series with chunks that fail their checksum: (run id, key, chunk indexes).

        Reads every blob of the store once (``runwatch doctor``), a run's chunks at a time.
        """
        from tracker_sdk.store import reads

        with self._read() as conn:
            return reads.damaged_series(conn)

    # --- user edits (the app and the CLI go through these) -----------------------------------
    def rename_run(self, run_id: str, name: str) -> None:
        from tracker_sdk.store import writes
        from tracker_sdk.validation import check_name

        rid = self.get_run(run_id).id
        with self._write() as conn:
            writes.touch_runs(conn, [rid], name=check_name(name))

    def set_tags(self, run_id: str, tags: Mapping[str, Any], remove: Iterable[str] = ()) -> None:
        """Set (overwrite) tags and remove others, in one change."""
        from tracker_sdk.store import writes
        from tracker_sdk.validation import check_tags

        rid = self.get_run(run_id).id
        with self._write() as conn:
            writes.set_tags(conn, rid, check_tags(tags), remove)

    def set_note(self, run_id: str, note: str) -> None:
        from tracker_sdk.store import writes

        if not isinstance(note, str):
            raise ValidationError(f"a note must be text, got {type(note).__name__}")
        rid = self.get_run(run_id).id
        with self._write() as conn:
            writes.touch_runs(conn, [rid], note=note)

    def delete_run(self, run_id: str) -> None:
        """Soft delete: hidden from searches until restored or removed by ``gc``."""
        from tracker_sdk.store import writes

        rid = self.get_run(run_id).id
        with self._write() as conn:
            writes.touch_runs(conn, [rid], deleted_time=writes.now_ms())

    def restore_run(self, run_id: str) -> None:
        from tracker_sdk.store import writes

        rid = self.get_run(run_id).id
        with self._write() as conn:
            writes.touch_runs(conn, [rid], deleted_time=None)

    def gc(self, older_than_s: float | None = None, run_ids: Iterable[str] | None = None) -> list[str]:
        """Hard-delete soft-deleted runs (rows and artifacts); returns the removed ids."""
        from tracker_sdk.store import reads, writes

        cutoff = None if older_than_s is None else writes.now_ms() - int(older_than_s * 1000)
        with self._write() as conn:
            ids = reads.deleted_run_ids(conn, cutoff)
            if run_ids is not None:
                wanted = set(run_ids)
                ids = [i for i in ids if i in wanted]
            if ids:
                writes.hard_delete_runs(conn, ids)
        for rid in ids:
            self.artifacts.delete_run(rid)
        if ids:
            from tracker_sdk.store.engine import checkpoint

            checkpoint(self._write_engine())  # give the freed pages back to the file system now
        return ids


def _encodable(text: str) -> bool:
    """Whether ``text`` can go to the database (a lone surrogate cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_damage(e: BaseException) -> bool:
    return "malformed" in str(getattr(e, "orig", e))


def _describe_db_error(db: Path, e: BaseException) -> str:
    msg = str(getattr(e, "orig", e))
    if "malformed" in msg:
        return (f"the database of the store at {db.parent} is damaged ({msg}); "
                f"see what can be saved with: runwatch doctor --store {db.parent}")
    if "file is not a database" in msg or "not a database" in msg:
        return f"{db} is not a SQLite database, so {db.parent} is not a Runwatch store"
    if "readonly" in msg or "read-only" in msg:
        return f"the store at {db.parent} is read-only; logging and edits need write access"
    if "locked" in msg:
        return f"the store at {db.parent} is locked by another program; close it and retry"
    if "unable to open" in msg:
        return f"cannot open {db}: check that the folder exists and is readable"
    return f"cannot open the store at {db.parent}: {msg}"
