"""Side-by-side comparison of runs: one column per run, one row per param, tag, metric
summary and environment item. Pure functions over ``RunInfo``; the Qt model only displays.

Missing values are ``None`` all the way to the view (which draws "—") and to exports, never
"0": a run that did not log ``lr`` is not a run with ``lr=0``.
"""

from __future__ import annotations

import csv
import io
import math
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from tracker_sdk.entities import MetricSummary, RunInfo

Section = Literal["param", "tag", "metric", "env"]
MetricStat = Literal["last", "min", "max", "best_step"]

#: Environment items shown as rows, in this order (keys of ``RunInfo.environment``).
ENV_KEYS = ("git_commit", "git_branch", "host", "user", "python", "command")
#: Substrings that mark a metric where smaller is better ("err" also covers "error", "mse"
#: covers "rmse"). Substrings over-match a little ("terrain"), accepted for simplicity.
LOWER_IS_BETTER_HINTS = ("loss", "err", "perplexity", "mae", "mse")
MISSING = "—"


@dataclass(frozen=True, slots=True)
class CompareRow:
    section: Section
    key: str
    values: tuple[str | None, ...]  # one per run, in the order of the runs given
    differs: bool


def lower_is_better(key: str) -> bool:
    """The one place that decides a metric's direction. Substring match on the lowercased key
    so ``val/loss``, ``train_error`` and ``test-rmse`` all count; anything else (accuracy,
    f1, reward ...) is higher-is-better."""
    k = key.lower()
    return any(hint in k for hint in LOWER_IS_BETTER_HINTS)


def format_value(v: float) -> str:
    """Up to 6 significant digits; non-finite spelled out so they never read as numbers."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"  # also folds -0.0, which would otherwise show as a spurious difference
    return f"{v:.6g}"


def best_step(steps: np.ndarray, values: np.ndarray, key: str) -> int | None:
    """Step of the best value of a full series (first occurrence on ties; NaN ignored), for
    callers that have the series and want to fill ``compare_table(best_steps=...)``."""
    vals = np.asarray(values, dtype=np.float64)
    if vals.size == 0 or np.isnan(vals).all():
        return None
    i = np.nanargmin(vals) if lower_is_better(key) else np.nanargmax(vals)
    return int(np.asarray(steps)[i])


def sort_key(value: str | None) -> tuple[int, float, str]:
    """Order for cells and group keys: numbers numerically, then text, missing last."""
    if value is None:
        return (2, 0.0, "")
    try:
        f = float(value)
    except ValueError:
        return (1, 0.0, value)
    if math.isnan(f):  # NaN cannot be ordered numerically
        return (1, 0.0, value)
    return (0, f, value)


def _row(section: Section, key: str, values: Iterable[str | None]) -> CompareRow:
    vals = tuple(values)
    return CompareRow(section, key, vals, differs=len(set(vals)) > 1)


def _metric_cell(
    run: RunInfo, summary: MetricSummary, stat: MetricStat,
    best_steps: Mapping[tuple[str, str], int] | None,
) -> str | None:
    if stat == "best_step":
        if best_steps is not None and (run.id, summary.key) in best_steps:
            return str(best_steps[(run.id, summary.key)])
        # One point: the best is the last, no series needed. Otherwise the summary cannot tell
        # at which step the min/max was reached, so say "unknown" rather than guess.
        return str(summary.last_step) if summary.count == 1 else None
    return format_value(float(getattr(summary, stat)))


def _env_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)):  # a command recorded as argv
        return shlex.join(str(v) for v in value)
    return str(value)


def _packages(env: Mapping[str, Any]) -> dict[str, str]:
    """``{name: version}`` from a mapping or a list of ``name==version`` strings."""
    pkgs = env.get("packages") or {}
    if isinstance(pkgs, Mapping):
        return {str(k): str(v) for k, v in pkgs.items()}
    out: dict[str, str] = {}
    for item in pkgs:
        name, _, version = str(item).partition("==")
        out[name.strip()] = version.strip()
    return out


def compare_table(
    runs: Sequence[RunInfo],
    *,
    metric_stats: Sequence[MetricStat] = ("last", "min", "max", "best_step"),
    best_steps: Mapping[tuple[str, str], int] | None = None,
) -> list[CompareRow]:
    """Rows in section order param, tag, metric, env; keys sorted within each section."""
    rows: list[CompareRow] = []
    for key in sorted({k for r in runs for k in r.params}):
        rows.append(_row("param", key, (r.params.get(key) for r in runs)))
    for key in sorted({k for r in runs for k in r.tags}):
        rows.append(_row("tag", key, (r.tags.get(key) for r in runs)))
    for key in sorted({k for r in runs for k in r.metrics}):
        for stat in metric_stats:
            cells = []
            for r in runs:
                s = r.metrics.get(key)
                cells.append(None if s is None else _metric_cell(r, s, stat, best_steps))
            rows.append(_row("metric", f"{key} · {stat}", cells))
    for key in ENV_KEYS:
        cells = [_env_text(r.environment.get(key)) for r in runs]
        if any(c is not None for c in cells):  # a row of dashes would only be noise
            rows.append(_row("env", key, cells))
    # Full package lists run to hundreds of lines; only the ones that differ tell anything.
    pkgs = [_packages(r.environment) for r in runs]
    for name in sorted({n for p in pkgs for n in p}, key=str.lower):
        row = _row("env", f"pkg:{name}", (p.get(name) for p in pkgs))
        if row.differs:
            rows.append(row)
    return rows


def filter_rows(
    rows: Iterable[CompareRow], *, differences_only: bool = False, search: str = ""
) -> list[CompareRow]:
    needle = search.strip().casefold()
    return [
        r for r in rows
        if (not differences_only or r.differs) and (not needle or needle in r.key.casefold())
    ]


def _check_width(rows: Sequence[CompareRow], run_names: Sequence[str]) -> None:
    for r in rows:
        if len(r.values) != len(run_names):
            raise ValueError(f"row {r.key!r} has {len(r.values)} values for {len(run_names)} runs")


def _md_cell(text: str) -> str:
    # A pipe would split the cell and a newline would end the table row.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def to_markdown(rows: Sequence[CompareRow], run_names: Sequence[str]) -> str:
    _check_width(rows, run_names)
    header = ["section", "key", *run_names]
    lines = [
        "| " + " | ".join(_md_cell(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for r in rows:
        cells = [r.section, r.key, *(MISSING if v is None else v for v in r.values)]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def to_csv(rows: Sequence[CompareRow], run_names: Sequence[str]) -> str:
    """Missing is an empty cell: what spreadsheets and pandas read back as missing."""
    _check_width(rows, run_names)
    buf = io.StringIO()
    # "\n" so the text pastes cleanly; write it to disk with open(..., newline="").
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["section", "key", *run_names])
    for r in rows:
        writer.writerow([r.section, r.key, *("" if v is None else v for v in r.values)])
    return buf.getvalue()
