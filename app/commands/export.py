"""``runwatch export runs|series``: CSV for spreadsheets and pandas.

Times in the runs CSV are ISO 8601 with the local UTC offset (unambiguous and still readable);
series timestamps stay integer ms since the epoch, the stored resolution. Values are written
with ``repr`` precision so a float survives the round trip; NaN/inf are written as nan/inf,
which pandas reads back as such.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from app.commands.common import CommandError, console, open_store, progress, safe, select_runs

if TYPE_CHECKING:
    from tracker_sdk import RunInfo

RUN_COLUMNS = ("run_id", "name", "experiment", "status", "start_time", "end_time", "duration_s", "user",
               "git_commit", "parent_id", "deleted")
SERIES_COLUMNS = ("key", "step", "value", "timestamp")
#: Show a progress bar from this many runs (or series points / 1000) on.
PROGRESS_FROM = 500


@contextlib.contextmanager
def _open_output(target: str) -> Iterator[TextIO]:
    """stdout for ``-``; else a file written beside its final name and renamed into place,
    so an interrupted export never leaves a half-written CSV behind."""
    if target == "-":
        yield sys.stdout
        return
    tmp = f"{target}.partial"
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _iso(ms: int | None) -> str:
    return "" if ms is None else datetime.fromtimestamp(ms / 1000).astimezone().isoformat(timespec="seconds")


def runs_rows(runs: list[RunInfo]) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and the rows of the runs CSV: attributes, params.*, tags.*, metrics.*.{last,min,max}."""
    params = sorted({k for r in runs for k in r.params})
    tags = sorted({k for r in runs for k in r.tags})
    metrics = sorted({k for r in runs for k in r.metrics})
    header = [*RUN_COLUMNS, *(f"params.{k}" for k in params), *(f"tags.{k}" for k in tags),
              *(f"metrics.{k}.{f}" for k in metrics for f in ("last", "min", "max"))]

    def rows() -> Iterator[list[Any]]:
        for r in runs:
            d = r.duration_s
            row: list[Any] = [r.id, r.name, r.experiment, str(r.status), _iso(r.start_time), _iso(r.end_time),
                              "" if d is None else round(d, 3), r.user, r.git_commit, r.parent_id or "",
                              "true" if r.deleted else "false"]
            row += [r.params.get(k, "") for k in params]
            row += [r.tags.get(k, "") for k in tags]
            for k in metrics:
                m = r.metrics.get(k)
                row += ["", "", ""] if m is None else [m.last, m.min, m.max]
            yield row

    return header, rows()


def cmd_export_runs(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    runs = select_runs(store, args, ["attributes.start_time ASC"])
    if not runs:
        what = "deleted runs" if args.only_deleted else "runs"
        match = " match" if args.filter or args.experiment else ""
        raise CommandError(f"no {what} to export in {store.path}{match}")
    header, rows = runs_rows(runs)
    with _open_output(args.output) as fh, progress(len(runs), "Exporting runs", min_total=PROGRESS_FROM) as advance:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            w.writerow(row)
            advance()
    if args.output != "-":
        console(stderr=True).print(f"Wrote {len(runs)} runs × {len(header)} columns to [bold]{safe(args.output)}[/]")
    return 0


def cmd_export_series(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    run = store.get_run(args.run_id)
    have = store.metric_keys([run.id])
    keys = args.key or have
    unknown = [k for k in keys if k not in have]
    if unknown:
        listed = ", ".join(have[:20]) + (" ..." if len(have) > 20 else "") if have else "none"
        raise CommandError(f"run {run.name} ({run.id[:8]}) has no metric {', '.join(map(repr, unknown))}; "
                           f"it has: {listed}")
    if not keys:
        raise CommandError(f"run {run.name} ({run.id[:8]}) has no metrics to export")
    total = sum(run.metrics[k].count if k in run.metrics else 0 for k in keys)
    points = 0
    with _open_output(args.output) as fh, progress(len(keys), "Exporting series",
                                                   min_total=1 if total >= PROGRESS_FROM * 1000 else 10**9) as advance:
        w = csv.writer(fh)
        w.writerow(SERIES_COLUMNS)
        for key in keys:
            s = store.metric_history(run.id, key)
            n = len(s)
            # Whole columns through tolist(): plain Python numbers, ~10x faster than per-item numpy.
            w.writerows(zip([key] * n, s.steps.tolist(), s.values.tolist(), s.timestamps.tolist()))
            points += n
            advance(1, f"Exporting [bold]{safe(key)}[/]")
    if args.output != "-":
        console(stderr=True).print(f"Wrote {points:,} points of {len(keys)} metric{'s' if len(keys) != 1 else ''} "
                                   f"of {safe(run.name)} to [bold]{safe(args.output)}[/]")
    return 0


def to_csv_text(header: list[str], rows: Iterator[list[Any]]) -> str:
    """The CSV as a string (for the app's "copy as CSV")."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()
