"""Stores in other tools' formats, opened in place (read-only) or imported.

:func:`open_store` is what the app and the CLI call with whatever the user typed: a Runwatch
store folder, ``sqlite:///mlflow.db`` or a bare ``mlflow.db``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker_sdk.reader import Store


def open_store(location: str | os.PathLike[str] | None = None) -> Store:
    """The store at ``location``: a Runwatch store, or an MLflow tracking database opened in
    place (read-only, kept live by ``store.sync()``). Default: the default Runwatch store."""
    from tracker_sdk.reader import Store

    path = _foreign_path(location)
    if path is not None:
        from tracker_sdk.sources.mirror import MirrorStore
        from tracker_sdk.sources.mlflow_sql import MlflowSqlReader, is_mlflow_database

        if is_mlflow_database(path):
            store = MirrorStore(MlflowSqlReader(path))
            try:
                store.sync()
            except BaseException:
                store.close()
                raise
            return store
    return Store(location)


def _foreign_path(location: str | os.PathLike[str] | None) -> Path | None:
    """The file a location names when it may be another tool's database (not a Runwatch one)."""
    if location is None:
        return None
    text = os.fspath(location)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///"):]
    path = Path(text).expanduser()
    if path.name == "runwatch.db" or not path.is_file():
        return None
    return path
