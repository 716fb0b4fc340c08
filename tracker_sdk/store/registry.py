"""SQL of the model registry: read it whole, or replace models with given snapshots."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete, insert, select

from tracker_sdk.entities import ModelVersion, RegisteredModel
from tracker_sdk.store.schema import (
    SqlModelAlias,
    SqlModelTag,
    SqlModelVersion,
    SqlModelVersionTag,
    SqlRegisteredModel,
)
from tracker_sdk.store.writes import next_seq


def registered_models(conn: Connection) -> list[RegisteredModel]:
    """Every registered model with its versions (newest first), tags and aliases, by name."""
    tags: dict[str, dict[str, str]] = {}
    for r in conn.execute(select(SqlModelTag.model, SqlModelTag.key, SqlModelTag.value)):
        tags.setdefault(r.model, {})[r.key] = r.value
    vtags: dict[tuple[str, int], dict[str, str]] = {}
    for r in conn.execute(select(SqlModelVersionTag.model, SqlModelVersionTag.version, SqlModelVersionTag.key,
                                 SqlModelVersionTag.value)):
        vtags.setdefault((r.model, r.version), {})[r.key] = r.value
    aliases: dict[str, dict[str, int]] = {}
    for r in conn.execute(select(SqlModelAlias.model, SqlModelAlias.alias, SqlModelAlias.version)):
        aliases.setdefault(r.model, {})[r.alias] = r.version
    versions: dict[str, list[ModelVersion]] = {}
    for v in conn.execute(select(SqlModelVersion.__table__).order_by(SqlModelVersion.version.desc())):
        named = aliases.get(v.model, {})
        versions.setdefault(v.model, []).append(ModelVersion(
            model=v.model, version=v.version, stage=v.stage, status=v.status, run_id=v.run_id, source=v.source,
            description=v.description, tags=vtags.get((v.model, v.version), {}),
            aliases=tuple(sorted(a for a, n in named.items() if n == v.version)),
            created_time=v.created_time, updated_time=v.updated_time, user=v.user))
    return [RegisteredModel(name=m.name, description=m.description, tags=tags.get(m.name, {}),
                            created_time=m.created_time, updated_time=m.updated_time,
                            versions=tuple(versions.get(m.name, ())), aliases=aliases.get(m.name, {}))
            for m in conn.execute(select(SqlRegisteredModel.__table__).order_by(SqlRegisteredModel.name))]


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
