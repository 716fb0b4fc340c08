"""SQL of the model registry: read it, edit it (each edit a new change number), or replace
models with given snapshots (an import). Callers own the transaction and check existence first;
these functions only write."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, delete, func, insert, select, text, update

from tracker_sdk.entities import ModelVersion, RegisteredModel
from tracker_sdk.store.schema import (
    SqlModelAlias,
    SqlModelTag,
    SqlModelVersion,
    SqlModelVersionTag,
    SqlRegisteredModel,
)
from tracker_sdk.store.writes import next_seq


def registered_models(conn: Connection, name: str | None = None) -> list[RegisteredModel]:
    """Every registered model (or only ``name``) with its versions (newest first), tags and
    aliases, by name."""
    def one(stmt, column):  # type: ignore[no-untyped-def]
        return stmt if name is None else stmt.where(column == name)

    tags: dict[str, dict[str, str]] = {}
    for r in conn.execute(one(select(SqlModelTag.model, SqlModelTag.key, SqlModelTag.value), SqlModelTag.model)):
        tags.setdefault(r.model, {})[r.key] = r.value
    vtags: dict[tuple[str, int], dict[str, str]] = {}
    for r in conn.execute(one(select(SqlModelVersionTag.model, SqlModelVersionTag.version, SqlModelVersionTag.key,
                                     SqlModelVersionTag.value), SqlModelVersionTag.model)):
        vtags.setdefault((r.model, r.version), {})[r.key] = r.value
    aliases: dict[str, dict[str, int]] = {}
    for r in conn.execute(one(select(SqlModelAlias.model, SqlModelAlias.alias, SqlModelAlias.version),
                              SqlModelAlias.model)):
        aliases.setdefault(r.model, {})[r.alias] = r.version
    versions: dict[str, list[ModelVersion]] = {}
    for v in conn.execute(one(select(SqlModelVersion.__table__), SqlModelVersion.model)
                          .order_by(SqlModelVersion.version.desc())):
        named = aliases.get(v.model, {})
        versions.setdefault(v.model, []).append(ModelVersion(
            model=v.model, version=v.version, stage=v.stage, status=v.status, run_id=v.run_id, source=v.source,
            description=v.description, tags=vtags.get((v.model, v.version), {}),
            aliases=tuple(sorted(a for a, n in named.items() if n == v.version)),
            created_time=v.created_time, updated_time=v.updated_time, user=v.user))
    return [RegisteredModel(name=m.name, description=m.description, tags=tags.get(m.name, {}),
                            created_time=m.created_time, updated_time=m.updated_time,
                            versions=tuple(versions.get(m.name, ())), aliases=aliases.get(m.name, {}))
            for m in conn.execute(one(select(SqlRegisteredModel.__table__), SqlRegisteredModel.name)
                                  .order_by(SqlRegisteredModel.name))]


def model_names(conn: Connection) -> list[str]:
    return list(conn.execute(select(SqlRegisteredModel.name).order_by(SqlRegisteredModel.name)).scalars())


def replace_models(conn: Connection, models: Iterable[RegisteredModel]) -> None:
    """Make each model exactly ``models``' snapshot of it (an import from another registry):
    idempotent, and a version, tag or alias gone from the source goes here too."""
    models = list(models)
    if not models:
        return
    seq = next_seq(conn)
    names = [m.name for m in models]
    # Children first: the foreign keys cascade, but SQLite only enforces them when asked to.
    for table in (SqlModelVersionTag, SqlModelAlias, SqlModelTag, SqlModelVersion, SqlRegisteredModel):
        column = table.name if table is SqlRegisteredModel else table.model
        conn.execute(delete(table).where(column.in_(names)))
    conn.execute(insert(SqlRegisteredModel), [
        {"name": m.name, "description": m.description, "created_time": m.created_time,
         "updated_time": m.updated_time, "seq": seq} for m in models])
    versions = [v for m in models for v in m.versions]
    if versions:
        conn.execute(insert(SqlModelVersion), [
            {"model": v.model, "version": v.version, "stage": v.stage, "status": v.status, "run_id": v.run_id,
             "source": v.source, "description": v.description, "user": v.user, "created_time": v.created_time,
             "updated_time": v.updated_time, "seq": seq} for v in versions])
    rows = [{"model": v.model, "version": v.version, "key": k, "value": val} for v in versions for k, val in v.tags.items()]
    if rows:
        conn.execute(insert(SqlModelVersionTag), rows)
    rows = [{"model": m.name, "key": k, "value": val} for m in models for k, val in m.tags.items()]
    if rows:
        conn.execute(insert(SqlModelTag), rows)
    rows = [{"model": m.name, "alias": a, "version": n} for m in models for a, n in m.aliases.items()]
    if rows:
        conn.execute(insert(SqlModelAlias), rows)


# --- edits: each takes a new change number, so live readers notice it -----------------------------

def create_model(conn: Connection, name: str, description: str, tags: Mapping[str, str], now: int) -> None:
    conn.execute(insert(SqlRegisteredModel).values(name=name, description=description, created_time=now,
                                                   updated_time=now, seq=next_seq(conn)))
    if tags:
        conn.execute(insert(SqlModelTag), [{"model": name, "key": k, "value": v} for k, v in tags.items()])


def add_version(conn: Connection, name: str, *, source: str, run_id: str | None, description: str,
                tags: Mapping[str, str], user: str, now: int) -> int:
    """The next version of ``name`` (which must exist). Under the write lock taken at BEGIN
    IMMEDIATE, so two processes registering at once get distinct numbers."""
    top = conn.execute(select(func.max(SqlModelVersion.version)).where(SqlModelVersion.model == name)).scalar()
    number = max(top or 0, _high_mark(conn, name)) + 1
    seq = _touch_model(conn, name, now)
    conn.execute(insert(SqlModelVersion).values(
        model=name, version=number, stage="None", status="READY", run_id=run_id, source=source,
        description=description, user=user, created_time=now, updated_time=now, seq=seq))
    if tags:
        conn.execute(insert(SqlModelVersionTag),
                     [{"model": name, "version": number, "key": k, "value": v} for k, v in tags.items()])
    return number


def set_alias(conn: Connection, name: str, alias: str, version: int, now: int) -> None:
    """Point ``alias`` at ``version``: one row per alias, so a move is one statement."""
    _touch_model(conn, name, now)
    conn.execute(insert(SqlModelAlias).prefix_with("OR REPLACE").values(model=name, alias=alias, version=version))


def delete_alias(conn: Connection, name: str, alias: str, now: int) -> None:
    _touch_model(conn, name, now)
    conn.execute(delete(SqlModelAlias).where(SqlModelAlias.model == name, SqlModelAlias.alias == alias))


def set_stage(conn: Connection, name: str, version: int, stage: str, archive_existing: bool, now: int) -> None:
    """MLflow's transition: with ``archive_existing``, the other versions in ``stage`` go to Archived."""
    seq = _touch_model(conn, name, now)
    if archive_existing:
        conn.execute(update(SqlModelVersion).where(
            SqlModelVersion.model == name, SqlModelVersion.version != version, SqlModelVersion.stage == stage)
            .values(stage="Archived", updated_time=now, seq=seq))
    conn.execute(update(SqlModelVersion).where(SqlModelVersion.model == name, SqlModelVersion.version == version)
                 .values(stage=stage, updated_time=now, seq=seq))


def update_model(conn: Connection, name: str, now: int, *, description: str) -> None:
    _touch_model(conn, name, now, description=description)


def update_version(conn: Connection, name: str, version: int, now: int, *, description: str) -> None:
    _touch_version(conn, name, version, now, description=description)


def set_model_tag(conn: Connection, name: str, key: str, value: str, now: int) -> None:
    _touch_model(conn, name, now)
    conn.execute(insert(SqlModelTag).prefix_with("OR REPLACE").values(model=name, key=key, value=value))


def delete_model_tag(conn: Connection, name: str, key: str, now: int) -> None:
    _touch_model(conn, name, now)
    conn.execute(delete(SqlModelTag).where(SqlModelTag.model == name, SqlModelTag.key == key))


def set_version_tag(conn: Connection, name: str, version: int, key: str, value: str, now: int) -> None:
    _touch_version(conn, name, version, now)
    conn.execute(insert(SqlModelVersionTag).prefix_with("OR REPLACE").values(
        model=name, version=version, key=key, value=value))


def delete_version_tag(conn: Connection, name: str, version: int, key: str, now: int) -> None:
    _touch_version(conn, name, version, now)
    conn.execute(delete(SqlModelVersionTag).where(SqlModelVersionTag.model == name,
                                                  SqlModelVersionTag.version == version,
                                                  SqlModelVersionTag.key == key))


def delete_version(conn: Connection, name: str, version: int, now: int) -> None:
    """The version, its tags and the aliases pointing at it. Its number is never given again
    (as in MLflow): ``models:/name/3`` must not come to mean another model."""
    _touch_model(conn, name, now)
    top = conn.execute(select(func.max(SqlModelVersion.version)).where(SqlModelVersion.model == name)).scalar()
    conn.execute(text("INSERT OR REPLACE INTO store_meta (key, value) VALUES (:k, :v)"),
                 {"k": _high_key(name), "v": max(top or 0, _high_mark(conn, name))})
    conn.execute(delete(SqlModelVersionTag).where(SqlModelVersionTag.model == name,
                                                  SqlModelVersionTag.version == version))
    conn.execute(delete(SqlModelAlias).where(SqlModelAlias.model == name, SqlModelAlias.version == version))
    conn.execute(delete(SqlModelVersion).where(SqlModelVersion.model == name, SqlModelVersion.version == version))


def delete_model(conn: Connection, name: str) -> None:
    """The model with every version, tag and alias; a model of that name made later starts at 1."""
    next_seq(conn)
    conn.execute(text("DELETE FROM store_meta WHERE key = :k"), {"k": _high_key(name)})
    for table in (SqlModelVersionTag, SqlModelAlias, SqlModelTag, SqlModelVersion):
        conn.execute(delete(table).where(table.model == name))
    conn.execute(delete(SqlRegisteredModel).where(SqlRegisteredModel.name == name))


def _touch_model(conn: Connection, name: str, now: int, **values: str) -> int:
    seq = next_seq(conn)
    conn.execute(update(SqlRegisteredModel).where(SqlRegisteredModel.name == name)
                 .values(updated_time=now, seq=seq, **values))
    return seq


def _touch_version(conn: Connection, name: str, version: int, now: int, **values: str) -> None:
    seq = _touch_model(conn, name, now)
    conn.execute(update(SqlModelVersion).where(SqlModelVersion.model == name, SqlModelVersion.version == version)
                 .values(updated_time=now, seq=seq, **values))


def _high_key(name: str) -> str:
    # store_meta keys are at most 64 characters and model names up to 256: a digest names it.
    return "model_version_high:" + hashlib.sha1(name.encode("utf-8")).hexdigest()


def _high_mark(conn: Connection, name: str) -> int:
    """The highest version number ``name`` ever had, as far as deleted versions go."""
    found = conn.execute(text("SELECT value FROM store_meta WHERE key = :k"), {"k": _high_key(name)}).scalar()
    return int(found or 0)
