"""CSV export of the runs table and of full-resolution metric series (Qt-free).

Numbers are written at full precision (Python's shortest round-trip ``repr``), never the
table's display rounding nor the charts' decimated curves; NaN and infinities as ``nan``,
``inf`` and ``-inf``. Files are written to a temporary name and moved into place, so a failed
export never leaves half a file where the user expects a complete one.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import repeat
from typing import Any

from app.core.columns import Column, display_value, raw_value
from app.core.fileio import atomic_writer
from tracker_sdk.entities import RunInfo

#: ``progress(done, total)`` after each series written.
Progress = Callable[[int, int], None]

SERIES_HEADER = ("run_id", "run_name", "key", "step", "timestamp_ms", "value")


def _number(v: float | int | None) -> str:
    if v is None:
        return ""
    return repr(float(v)) if isinstance(v, float) else str(v)  # repr: nan, inf, -inf, full precision


def _iso(ms: int | None) -> str:
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).astimezone().isoformat(timespec="milliseconds")


def header(col: Column) -> str:
    """A column's CSV header: its title, with the unit where the raw value has one."""
    if col.kind == "duration":
        return "Duration (s)"
    return col.title


def cell(run: RunInfo, col: Column) -> str:
    """One runs-table cell for CSV: the stored value, not the display rounding."""
    k = col.kind
    if k == "name":
        return run.name
    if k == "start":
        return _iso(run.start_time)
    if k == "duration":
        return _number(run.duration_s)
    if k == "git":
        return run.git_commit  # the whole hash (the table shows 8 characters)
    if k == "param":
        return run.params.get(col.key, "")  # params are stored as text: write them as logged
    if k == "metric":
        v = raw_value(run, col)
        return "" if v is None else _number(float(v))
    return display_value(run, col)


def runs_table_csv(runs: Iterable[RunInfo], columns: Sequence[Column], path: str | os.PathLike[str]) -> int:
    """Write the runs table as shown: a row per run (in the given order), ``id`` then ``columns``.

    Returns the number of rows written. Duplicate headers (a param and a metric of the same
    name) get their column id instead, so every header is unique.
    """
    titles = [header(c) for c in columns]
    seen = {"id"}
    heads = ["id"]
    for col, title in zip(columns, titles):
        h = title if title not in seen and titles.count(title) == 1 else col.id
        seen.add(h)
        heads.append(h)
    n = 0
    with atomic_writer(path) as f:
        w = csv.writer(f)
        w.writerow(heads)
        for run in runs:
            w.writerow([run.id, *(cell(run, c) for c in columns)])
            n += 1
    return n


def series_csv(store: Any, run_ids: Sequence[str], keys: Sequence[str] | None, path: str | os.PathLike[str],
               names: Mapping[str, str] | None = None, progress: Progress | None = None) -> int:
    """Write the full-resolution series of ``run_ids`` in long format, one row per point.

    Columns: run_id, run_name, key, step, timestamp_ms, value. ``keys=None`` means every metric
    key of each run. Points come in logged order, straight from ``store.metric_history`` (never
    a decimated copy). Returns the number of points written.
    """
    names = names or {}
    plan: list[tuple[str, str]] = []
    for rid in run_ids:
        run_keys = store.metric_keys([rid]) if keys is None else keys
        plan += [(rid, k) for k in run_keys]
    total, points = len(plan), 0
    if progress is not None:
        progress(0, total)
    with atomic_writer(path) as f:
        w = csv.writer(f)
        w.writerow(SERIES_HEADER)
        for i, (rid, key) in enumerate(plan, 1):
            h = store.metric_history(rid, key)
            # csv writes floats with repr(): full precision, and nan / inf / -inf as such.
            w.writerows(zip(repeat(rid), repeat(names.get(rid, "")), repeat(key), h.steps.tolist(),
                            h.timestamps.tolist(), h.values.astype(float).tolist()))
            points += len(h)
            if progress is not None:
                progress(i, total)
    return points
