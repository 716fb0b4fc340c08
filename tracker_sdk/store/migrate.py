"""Bring a store's schema to the version this code writes, or refuse with a clear message.

New file: ``create_all`` + stamp (Alembic cookbook). Older revision: Alembic upgrade. Newer
revision: :class:`SchemaVersionError`. Alembic is imported only when an upgrade is needed, which
keeps opening a current store (the common case) fast.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, inspect, text

from tracker_sdk.errors import SchemaVersionError, StoreError
from tracker_sdk.store.schema import SCHEMA_REVISION, Base, SqlMeta

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def known_revisions() -> list[str]:
    """Every revision the shipped migrations know, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def read_revision(conn: Connection) -> str | None:
    """The store's Alembic revision, or None for an empty database."""
    names = set(inspect(conn).get_table_names())
    if not names:
        return None
    if "alembic_version" not in names or "store_meta" not in names:
        raise StoreError(
            "the database has tables but is not a Runwatch store (no store_meta/alembic_version);"
            " point Runwatch at a store folder, or at an empty folder to create one"
        )
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return row[0] if row else None


def ensure_schema(read_engine: Engine, write_engine: Engine | None, db: Path) -> None:
    """Check (and when allowed, create or upgrade) the schema of the store at ``db``."""
    from tracker_sdk.store.engine import enable_wal

    with read_engine.connect() as conn:
        found = read_revision(conn)
    if found == SCHEMA_REVISION:
        if write_engine is not None:
            enable_wal(write_engine)
        return
    if found is not None and found not in known_revisions():
        raise SchemaVersionError(
            f"{db} was written by a newer Runwatch (schema {found}; this one knows up to"
            f" {SCHEMA_REVISION}); upgrade with: pip install -U runwatch",
            found=found,
            expected=SCHEMA_REVISION,
        )
    if write_engine is None:
        raise SchemaVersionError(
            f"{db} has an older schema ({found}); open it once with write access to upgrade it",
            found=found,
            expected=SCHEMA_REVISION,
        )
    enable_wal(write_engine)  # before the first write: the new tables are written in WAL mode
    with write_engine.begin() as conn:  # BEGIN IMMEDIATE: one process creates/upgrades, others wait
        found = read_revision(conn)  # re-check under the lock: another process may have won
        if found == SCHEMA_REVISION:
            return
        if found is None:
            Base.metadata.create_all(conn)
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,"
                              " CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"))
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": SCHEMA_REVISION})
            conn.execute(insert(SqlMeta), [{"key": "seq", "value": 0}, {"key": "epoch", "value": 0},
                                           {"key": "created", "value": int(time.time() * 1000)}])
            return
        from alembic import command

        command.upgrade(alembic_config(conn), "head")
