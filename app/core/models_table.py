"""The Models page's rows: one per registered model version (Qt-free)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tracker_sdk.entities import RegisteredModel

HEADERS = ("Model", "Version", "Stage", "Aliases", "Status", "Source run", "Registered", "Description", "Tags")
#: Columns holding numbers (right-aligned, sorted as numbers).
NUMERIC = (1,)
RUN_COLUMN = HEADERS.index("Source run")


def version_rows(models: Sequence[RegisteredModel], run_names: Mapping[str, str],
                 model: str | None = None) -> list[tuple[Any, ...]]:
    """Raw row values, newest version first within each model; ``model`` keeps one model.
    A source run that is not in the store (deleted for good) shows its short id."""
    rows = []
    for m in models:
        if model is not None and m.name != model:
            continue
        for v in m.versions:
            run = "" if v.run_id is None else run_names.get(v.run_id, v.run_id[:8])
            tags = ", ".join(f"{k}={val}" for k, val in sorted(v.tags.items()))
            rows.append((m.name, v.version, v.stage, ", ".join(v.aliases), v.status, run,
                         v.created_time, v.description, tags))
    return rows


def run_of_row(models: Sequence[RegisteredModel], name: str, version: int) -> str | None:
    """The source run id of one version (the row's lineage link)."""
    for m in models:
        if m.name == name:
            for v in m.versions:
                if v.version == version:
                    return v.run_id
    return None
