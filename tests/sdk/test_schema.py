"""The schema: the Alembic migrations and the SQLAlchemy models describe the same database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, inspect, text

from tracker_sdk import Store
from tracker_sdk.store.migrate import alembic_config, known_revisions
from tracker_sdk.store.schema import SCHEMA_REVISION, Base


def _migrated_engine(path: Path) -> Engine:
    """An empty SQLite file brought to head by the shipped Alembic migrations."""
    from alembic import command

    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    return engine


def _describe(engine: Engine) -> dict[str, Any]:
    """Tables, columns, keys, indexes and constraints as SQLite reports them."""
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        out[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
                        for c in insp.get_columns(table)],
            "pk": insp.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted((tuple(f["constrained_columns"]), f["referred_table"],
                           tuple(f["referred_columns"]), f.get("options", {}).get("ondelete"))
                          for f in insp.get_foreign_keys(table)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in insp.get_indexes(table)),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
            "checks": sorted(c["sqltext"] for c in insp.get_check_constraints(table)),
        }
    return out


def test_migrations_match_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = _migrated_engine(tmp_path / "migrated.db")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == SCHEMA_REVISION
    engine.dispose()


def test_schema_revision_is_the_migrations_head() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [SCHEMA_REVISION]  # one head, the one this code writes
    assert known_revisions()[-1] == SCHEMA_REVISION


def test_a_new_store_and_a_migrated_database_have_the_same_schema(tmp_path: Path) -> None:
    Store(tmp_path / "new", create=True).close()  # create_all + stamp
    created = create_engine(f"sqlite:///{tmp_path / 'new' / 'runwatch.db'}")
    migrated = _migrated_engine(tmp_path / "migrated.db")
    assert _describe(created) == _describe(migrated)
    for engine in (created, migrated):
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == SCHEMA_REVISION
            assert dict(conn.execute(text("SELECT key, value FROM store_meta WHERE key != 'created'")).all()) \
                == {"seq": 0, "epoch": 0}
    created.dispose()
    migrated.dispose()


def test_a_migrated_database_opens_as_a_store(tmp_path: Path) -> None:
    """A database that Alembic brought to head (no store_meta rows yet) is usable as a store."""
    folder = tmp_path / "s"
    folder.mkdir()
    _migrated_engine(folder / "runwatch.db").dispose()
    import tracker_sdk

    with tracker_sdk.init(store=folder) as run:
        run.log({"x": 1.0})
    st = Store(folder)
    assert st.get_run(run.id).metrics["x"].count == 1
    assert st.changes_since(0).runs[0].id == run.id
    st.close()


def test_importing_the_sdk_loads_neither_sqlalchemy_nor_numpy() -> None:
    code = ("import sys, tracker_sdk\n"
            "tracker_sdk.TrackerError, tracker_sdk.RunStateError\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'numpy', 'alembic', 'yaml'})\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import tracker_sdk loaded {out.stdout.strip()}"
