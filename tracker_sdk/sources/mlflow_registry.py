"""MLflow's model registry, read from its tracking database: registered models, their
versions (stage, status, source run, description, tags) and aliases.

Tables and columns differ across MLflow versions (aliases since 2.3, ``workspace`` and
``storage_location`` since 3.x), so each query selects only the columns that exist.
"""

from __future__ import annotations

import sqlite3

from tracker_sdk.entities import ModelVersion, RegisteredModel


def _columns(con: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in con.execute(f"PRAGMA table_info({table})")}


def _select(con: sqlite3.Connection, table: str, wanted: list[str]) -> list[dict[str, object]]:
    have = _columns(con, table)
    if not have:
        return []  # an MLflow too old for this table
    cols = [c for c in wanted if c in have]
    quoted = ", ".join(f'"{c}"' for c in cols)
    return [dict(zip(cols, row)) for row in con.execute(f"SELECT {quoted} FROM {table}")]


def read_registry(con: sqlite3.Connection) -> list[RegisteredModel]:
    """Every registered model with its versions (newest first) and aliases, by name."""
    models = _select(con, "registered_models", ["name", "creation_time", "last_updated_time", "description"])
    versions = _select(con, "model_versions", ["name", "version", "creation_time", "last_updated_time",
                                               "description", "user_id", "current_stage", "source", "run_id",
                                               "status"])
    aliases = _select(con, "registered_model_aliases", ["name", "alias", "version"])
    model_tags = _select(con, "registered_model_tags", ["name", "key", "value"])
    version_tags = _select(con, "model_version_tags", ["name", "version", "key", "value"])

    tags_of_model: dict[object, dict[str, str]] = {}
    for t in model_tags:
        tags_of_model.setdefault(t["name"], {})[str(t["key"])] = str(t.get("value") or "")
    tags_of_version: dict[tuple[object, object], dict[str, str]] = {}
    for t in version_tags:
        tags_of_version.setdefault((t["name"], t["version"]), {})[str(t["key"])] = str(t.get("value") or "")
    alias_map: dict[object, dict[str, int]] = {}
    for a in aliases:
        alias_map.setdefault(a["name"], {})[str(a["alias"])] = int(a["version"])  # type: ignore[call-overload]
    by_model: dict[object, list[ModelVersion]] = {}
    for v in versions:
        number = int(v["version"])  # type: ignore[call-overload]
        names = alias_map.get(v["name"], {})
        by_model.setdefault(v["name"], []).append(ModelVersion(
            model=str(v["name"]), version=number, stage=str(v.get("current_stage") or "None"),
            status=str(v.get("status") or "READY"), run_id=_text(v.get("run_id")) or None,
            source=_text(v.get("source")), description=_text(v.get("description")),
            tags=tags_of_version.get((v["name"], v["version"]), {}),
            aliases=tuple(sorted(a for a, n in names.items() if n == number)),
            created_time=int(v.get("creation_time") or 0),  # type: ignore[call-overload]
            updated_time=_int(v.get("last_updated_time")), user=_text(v.get("user_id"))))
    out = []
    for m in models:
        vs = sorted(by_model.get(m["name"], []), key=lambda x: -x.version)
        out.append(RegisteredModel(
            name=str(m["name"]), description=_text(m.get("description")), tags=tags_of_model.get(m["name"], {}),
            created_time=int(m.get("creation_time") or 0),  # type: ignore[call-overload]
            updated_time=_int(m.get("last_updated_time")), versions=tuple(vs),
            aliases=alias_map.get(m["name"], {})))
    return sorted(out, key=lambda m: m.name)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]
