"""Columns of the runs table: what each shows and how it sorts (Qt-free, pure)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.formatting import human_duration as format_duration
from tracker_sdk.entities import RunInfo

FIXED = ("name", "status", "start", "duration", "user", "git", "experiment", "parent")
TITLES = {"name": "Name", "status": "Status", "start": "Started", "duration": "Duration",
          "user": "User", "git": "Commit", "experiment": "Experiment", "parent": "Parent"}


@dataclass(frozen=True)
class Column:
    kind: str  # one of FIXED, or "param" / "metric"
    key: str = ""
    stat: str = "last"  # for metrics: last | min | max

    @property
    def id(self) -> str:
        if self.kind == "param":
            return f"params.{self.key}"
        if self.kind == "metric":
            return f"metrics.{self.key}.{self.stat}"
        return self.kind

    @property
    def title(self) -> str:
        if self.kind == "param":
            return self.key
        if self.kind == "metric":
            return self.key if self.stat == "last" else f"{self.key} ({self.stat})"
        return TITLES[self.kind]

    @staticmethod
    def from_id(cid: str) -> Column:
        if cid.startswith("params."):
            return Column("param", cid[len("params."):])
        if cid.startswith("metrics."):
            key, _, stat = cid[len("metrics."):].rpartition(".")
            return Column("metric", key, stat if stat in ("last", "min", "max") else "last")
        if cid not in FIXED:
            raise ValueError(f"unknown column {cid!r}")
        return Column(cid)


def default_columns(runs: Sequence[RunInfo], max_params: int = 6, max_metrics: int = 6) -> list[Column]:
    """Name/status/time columns, then the params that differ between runs and the metrics.

    Decided on (at most) the first 1,000 runs given — the newest, as the table lists them: a
    default needs no more, and scanning 10,000 runs' params costs a noticeable 0.2 s at open.
    """
    cols = [Column(k) for k in ("name", "status", "start", "duration", "user", "git")]
    runs = list(runs[:1000])
    values: dict[str, set[str]] = {}
    for r in runs:
        for k, v in r.params.items():
            values.setdefault(k, set()).add(v)
    varying = [k for k, v in sorted(values.items()) if len(v) > 1] or sorted(values)
    cols += [Column("param", k) for k in varying[:max_params]]
    keys = sorted({k for r in runs for k in r.metrics if not k.startswith("sys/")},
                  key=lambda k: (not k.startswith("val"), k))
    cols += [Column("metric", k) for k in keys[:max_metrics]]
    return cols


def available_columns(runs: Iterable[RunInfo]) -> list[Column]:
    params: set[str] = set()
    metrics: set[str] = set()
    for r in runs:
        params.update(r.params)
        metrics.update(r.metrics)
    out = [Column(k) for k in FIXED]
    out += [Column("param", k) for k in sorted(params)]
    out += [Column("metric", k, s) for k in sorted(metrics) for s in ("last", "min", "max")]
    return out


def raw_value(run: RunInfo, col: Column) -> Any:
    """The value to sort by (None = missing; sorts last)."""
    k = col.kind
    if k == "name":
        return run.name.lower()
    if k == "status":
        return run.status.value
    if k == "start":
        return run.start_time
    if k == "duration":
        return run.duration_s
    if k == "user":
        return run.user
    if k == "git":
        return run.git_commit or None
    if k == "experiment":
        return run.experiment
    if k == "parent":
        return run.parent_id or None
    if k == "param":
        v = run.params.get(col.key)
        if v is None:
            return None
        try:
            return float(v)
        except ValueError:
            return v
    s = run.metrics.get(col.key)
    if s is None:
        return None
    return getattr(s, col.stat)


def sort_key(value: Any) -> tuple[int, Any]:
    """Numbers (by value), then text, then missing/NaN — in either sort direction."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (2, 0)
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value))


def format_number(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-4):
        return f"{v:.4g}"
    return f"{v:.6g}"


def format_time(ms: int | None) -> str:
    if ms is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ms / 1000))


def display_value(run: RunInfo, col: Column) -> str:
    k = col.kind
    if k == "start":
        return format_time(run.start_time)
    if k == "duration":
        return format_duration(run.duration_s)
    if k == "git":
        return run.git_commit[:8]
    if k == "status":
        return run.status.value.capitalize()
    if k == "param":
        return run.params.get(col.key, "")
    if k == "metric":
        v = raw_value(run, col)
        return "" if v is None else format_number(v)
    v = raw_value(run, col)
    return "" if v is None else str(run.name if k == "name" else v)
