"""Copy a foreign store into a native one, with nothing lost and nothing twice.

The reader pages through the source and :class:`DeltaWriter` appends into the target: runs
(status, times, nesting, note), params, tags, every point (NaN and ±inf included) and the
artifacts and the model registry. Running it again adds nothing: runs keep the source's ids, params and tags are
upserts, and a series only takes the points beyond those it already holds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tracker_sdk.sources.apply import DeltaWriter
from tracker_sdk.sources.base import Delta, ForeignRun

if TYPE_CHECKING:
    from tracker_sdk.reader import Store
    from tracker_sdk.sources.base import ForeignReader


@dataclass(frozen=True)
class ImportResult:
    runs: int  # runs in the source
    points_read: int
    points_written: int  # new to the target (0 on a second import)
    files_copied: int
    models: int = 0  # registered models copied (with their versions, tags and aliases)


#: ``progress(points_read, points_total_or_None)`` after each page.
Progress = Callable[[int, "int | None"], None]


def import_into(target: Store, reader: ForeignReader, progress: Progress | None = None) -> ImportResult:
    """Copy everything ``reader`` reads into ``target`` (a native store opened for writing)."""
    writer = DeltaWriter(target)
    total = reader.total_points() if hasattr(reader, "total_points") else None
    runs: dict[str, ForeignRun] = {}
    read = 0
    while True:
        delta = reader.poll()
        runs.update((r.id, r) for r in delta.runs)
        # Only what the source holds: no heartbeats (nothing is live in the target), and a
        # run the source has lost since a previous import stays in the target.
        writer.apply(Delta(runs=delta.runs, points=delta.points))
        read += sum(len(p[0]) for p in delta.points.values())
        if progress is not None:
            progress(read, total)
        if not delta.more:
            break
    files = sum(_copy_artifacts(target, run) for run in runs.values())
    models = reader.registry() if hasattr(reader, "registry") else []
    if models:
        from tracker_sdk.store.registry import replace_models

        with target._write() as conn:
            replace_models(conn, models)
    return ImportResult(len(runs), read, writer.points_written, files, len(models))


def _copy_artifacts(target: Store, run: ForeignRun) -> int:
    """Copy a run's artifact files the target lacks (same relative path and size = present)."""
    src = run.artifact_dir
    if src is None or not src.is_dir():
        return 0
    artifacts = target.artifacts
    copied = 0
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            full = Path(dirpath, name)
            if full.is_symlink() or not full.is_file():
                continue  # a link may lead anywhere; a device or fifo is no artifact
            rel = full.relative_to(src).as_posix()
            dest = artifacts.resolve(run.id, rel)
            if dest.is_file() and dest.stat().st_size == full.stat().st_size:
                continue
            artifacts._copy_file(run.id, full, rel)
            copied += 1
    return copied
