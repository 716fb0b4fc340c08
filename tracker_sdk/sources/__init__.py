"""Stores in other tools' formats, opened in place (read-only) or imported.

:func:`open_store` is what the app and the CLI call with whatever the user typed: a Runwatch
store folder, ``sqlite:///mlflow.db``, a bare ``mlflow.db``, or an MLflow ``mlruns`` folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker_sdk.reader import Store
    from tracker_sdk.sources.base import ForeignReader
    from tracker_sdk.sources.importer import ImportResult, Progress


_KINDS = {"mlflow": "an MLflow store", "tensorboard": "a TensorBoard log dir"}


def open_store(location: str | os.PathLike[str] | None = None) -> Store:
    """The store at ``location``: a Runwatch store, or another tool's store opened in place
    (read-only, kept live by ``store.sync()``). Default: the default Runwatch store."""
    from tracker_sdk.reader import Store

    reader = open_reader(location)
    return Store(location) if reader is None else _mirror(reader)


def open_reader(location: str | os.PathLike[str] | None) -> ForeignReader | None:
    """A reader for another tool's store at ``location`` (an MLflow database or ``mlruns``
    folder, a TensorBoard log dir), or None when it is not one (a Runwatch store, or nothing
    known)."""
    if location is None:
        return None
    path = _foreign_path(location)
    if path is not None:
        from tracker_sdk.sources.mlflow_sql import MlflowSqlReader, is_mlflow_database

        if is_mlflow_database(path):
            return MlflowSqlReader(path)
    from tracker_sdk.sources.mlflow_files import MlflowFileReader, mlflow_file_store_at

    folder = mlflow_file_store_at(location)  # ./mlruns or file:///…/mlruns
    if folder is not None:
        return MlflowFileReader(folder)
    from tracker_sdk.sources.tensorboard import TensorBoardReader, is_tensorboard_logdir

    logdir = Path(os.fspath(location)).expanduser()
    if logdir.is_dir() and not (logdir / "runwatch.db").exists() and is_tensorboard_logdir(logdir):
        return TensorBoardReader(logdir)
    return None


def import_store(source: str | os.PathLike[str], target: str | os.PathLike[str] | None = None, *,
                 kind: str | None = None, progress: Progress | None = None) -> ImportResult:
    """Copy another tool's store at ``source`` into the Runwatch store ``target`` (created
    when missing); running it again adds nothing. ``kind`` ("mlflow", "tensorboard") checks
    that the source is what the caller expects."""
    from tracker_sdk.errors import StoreError
    from tracker_sdk.reader import Store
    from tracker_sdk.sources.importer import import_into

    reader = open_reader(source)
    if reader is None:
        raise StoreError(f"{source} is neither an MLflow store (a tracking database or an mlruns "
                         "folder) nor a TensorBoard log dir")
    try:
        if kind is not None and reader.kind.lower() != kind.lower():
            raise StoreError(f"{source} is not {_KINDS.get(kind.lower(), kind)} but "
                             f"{_KINDS.get(reader.kind.lower(), reader.kind)}; import it with: "
                             f"runwatch import {reader.kind.lower()} {source}")
        store = Store(target, create=True)
        try:
            return import_into(store, reader, progress)
        finally:
            store.close()
    finally:
        reader.close()


def _mirror(reader: ForeignReader) -> Store:
    """A read-only, live view of ``reader``'s store, synced once."""
    from tracker_sdk.sources.mirror import MirrorStore

    try:
        store = MirrorStore(reader)
    except BaseException:
        reader.close()
        raise
    try:
        store.sync()
    except BaseException:
        store.close()
        raise
    return store


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
