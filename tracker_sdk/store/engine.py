"""The one seam to the database: where a store lives and how connections are made.

Everything SQLite-specific (file layout, PRAGMAs, BEGIN IMMEDIATE) stays in this module so a
later SQLAlchemy URL (PostgreSQL) only has to change here.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event

from tracker_sdk.errors import StoreError, StoreNotFoundError

DB_NAME = "runwatch.db"
ARTIFACTS_DIR = "artifacts"
#: How long a connection waits for another process's write lock before failing (ms).
#: ``$RUNWATCH_BUSY_TIMEOUT_MS`` overrides it, e.g. longer on a slow network disk.
BUSY_TIMEOUT_MS = 30_000


def default_store_path() -> Path:
    """``$RUNWATCH_HOME``, else ``./runwatch`` in the working directory (like MLflow's ./mlruns)."""
    env = os.environ.get("RUNWATCH_HOME")
    return Path(env).expanduser() if env else Path.cwd() / "runwatch"


def resolve_store_path(path: str | os.PathLike[str] | None) -> Path:
    """The store folder for what a user typed: a folder, its runwatch.db, or a sqlite:/// URL."""
    if path is None:
        return default_store_path().resolve()
    text = os.fspath(path)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///"):]
    p = Path(text).expanduser()
    if p.name == DB_NAME:
        p = p.parent
    return p.resolve()


def check_store_folder(root: Path, *, create: bool) -> Path:
    """Validate a store folder and return its database path, with one clear error per problem."""
    if root.exists() and not root.is_dir():
        raise StoreError(
            f"{root} is a file, not a Runwatch store; a store is a folder holding {DB_NAME} "
            f"(pass the folder, e.g. --store {root.parent})"
        )
    db = root / DB_NAME
    if not db.exists():
        if not create:
            raise StoreNotFoundError(
                f"no Runwatch store at {root} (no {DB_NAME}); log a run into it, or create a demo "
                f"with: runwatch demo --store {root}"
            )
        try:
            (root / ARTIFACTS_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create a store at {root}: {e.strerror}; pick a writable folder") from e
        return db
    # Never open the database file ourselves, not even to read its header: POSIX locks belong
    # to the process, so closing any descriptor of the file drops every lock SQLite holds on it
    # here, and another process's last close then checkpoints and deletes the WAL under a live
    # writer of this process (its later commits were lost). SQLite itself identifies the file
    # when the schema is checked ("file is not a database").
    if not os.access(db, os.R_OK):
        raise StoreError(f"cannot read {db}: permission denied; check the folder's permissions")
    if create and not os.access(root, os.W_OK):
        raise StoreError(f"the store at {root} is read-only; logging needs write access to the folder")
    return db


def busy_timeout_ms() -> int:
    """``$RUNWATCH_BUSY_TIMEOUT_MS`` when set (a whole number of ms), else ``BUSY_TIMEOUT_MS``."""
    text = os.environ.get("RUNWATCH_BUSY_TIMEOUT_MS", "").strip()
    if not text:
        return BUSY_TIMEOUT_MS
    try:
        value = int(text)
    except ValueError:
        raise StoreError(f"RUNWATCH_BUSY_TIMEOUT_MS must be a whole number of milliseconds, got {text!r}") from None
    if value < 0:
        raise StoreError(f"RUNWATCH_BUSY_TIMEOUT_MS must not be negative, got {value}")
    return value


def make_engine(db: Path, *, immediate: bool) -> Engine:
    """An engine on ``db``. ``immediate`` engines take the write lock at BEGIN.

    Deferred transactions that read and then write can fail with SQLITE_BUSY without waiting
    (a lock upgrade cannot be retried), so every writing transaction starts IMMEDIATE and waits
    politely on ``busy_timeout`` instead.
    """
    timeout_ms = busy_timeout_ms()
    engine = create_engine(
        f"sqlite:///{db}",
        connect_args={"timeout": timeout_ms / 1000, "check_same_thread": False},
        pool_size=2,
        max_overflow=4,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _rec: object) -> None:
        # The driver must not issue its own BEGINs; the "begin" hook below does.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            # No journal_mode switch here: that would rewrite the header of any SQLite file we
            # are pointed at, store or not. ``enable_wal`` does it once the schema is checked.
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
            # Memory-mapped reads: about twice as fast for the bulk reads of a big store
            # (100k param rows: 190 -> 94 ms); pages stay shared with the OS cache.
            cur.execute("PRAGMA mmap_size = 268435456")
        finally:
            cur.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql(begin)

    return engine


def enable_wal(engine: Engine) -> None:
    """Put the database in WAL mode (persistent in the file), so readers never block the writer.

    Called only on a file known to be a store (or about to become one). Outside a transaction,
    as SQLite requires. A read-only folder keeps its journal mode: readers still work.
    """
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
    except sqlite3.OperationalError:
        pass
    finally:
        raw.close()


def checkpoint(engine: Engine) -> bool:
    """Fold the WAL into the database file and truncate it; False when readers kept it busy.

    ``wal_checkpoint`` cannot run inside a transaction, and every SQLAlchemy connection here
    begins one (``BEGIN IMMEDIATE`` on writer engines), so this uses the DBAPI connection, whose
    driver issues no BEGIN of its own (see ``_on_connect``). Best effort: never raises for a
    busy or locked database, since what it tidies up has already been committed.
    """
    raw = engine.raw_connection()
    try:
        busy = raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        return not busy
    except sqlite3.OperationalError:
        return False
    finally:
        raw.close()
