"""``runwatch runs ...`` and ``runwatch experiments``: the runs table and user edits.

Edits go through ``Store.rename_run/set_tags/set_note/delete_run/restore_run``, the same public
calls the app uses, so the CLI and the app can never disagree about what an edit means.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.commands.common import (
    CommandError,
    console,
    fmt_duration,
    fmt_time,
    fmt_value,
    open_store,
    plain,
    resolve_runs,
    safe,
    select_runs,
    short_id,
    status_text,
)
from app.core.nesting import nest

if TYPE_CHECKING:
    from tracker_sdk import RunInfo

DEFAULT_ORDER = ["attributes.start_time DESC"]
#: Hyperparameters worth a default column when they vary; the rest are a --columns away.
_PARAM_HINTS = ("lr", "learning_rate", "optimizer", "batch", "dropout", "model", "arch", "epochs")
_MAX_PARAM_COLS = 3
_MAX_METRIC_COLS = 3
_BUILTIN = ("id", "name", "experiment", "status", "start", "end", "duration", "user", "host", "git", "parent")
_METRIC_FIELDS = ("last", "min", "max", "step", "count")


# --- runs list -------------------------------------------------------------------------------------

def cmd_list(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    explicit_order = bool(args.order_by)
    runs = select_runs(store, args, args.order_by or DEFAULT_ORDER, args.limit)
    if args.quiet:
        sys.stdout.write("".join(f"{r.id}\n" for r in runs))
        return 0
    out = console()
    if not runs:
        what = "deleted runs" if args.only_deleted else "runs"
        hint = "" if (args.filter or args.experiment or args.only_deleted) else \
            f" (log one with tracker_sdk.init(store=...), or try: runwatch demo --store {safe(store.path)})"
        out.print(f"No {what} in {safe(store.path)}{' match' if args.filter or args.experiment else ''}.{hint}")
        return 0
    rows = [(r, 0) for r in runs] if explicit_order else _tree_order(runs)
    if args.columns:
        columns = _parse_columns(args.columns)
    else:
        columns = _fit(_default_columns(runs), rows, out.width)
    from rich.table import Table

    table = Table(box=_box(), header_style="bold", pad_edge=False, show_edge=False)
    for col in columns:
        numeric = col.startswith("metrics.") or col == "duration"
        # Cells never wrap: a wrapped id or name breaks copy-paste and grep; too long → "…".
        header = plain(_header(col))
        table.add_column(header, justify="right" if numeric else "left", no_wrap=True,
                         overflow="ellipsis", min_width=min(len(header), 12))
    for run, depth in rows:
        cells = [_cell(run, col, depth) for col in columns]
        table.add_row(*cells, style="dim" if run.deleted else None)
    out.print(table)
    out.print(_caption(runs, store.path), style="dim")
    return 0


def _box() -> Any:
    from rich import box

    return box.SIMPLE_HEAD


def _tree_order(runs: list[RunInfo]) -> list[tuple[RunInfo, int]]:
    """Children right under their parent (oldest child first, as the sweep ran); parents and
    lone runs keep the store's order. A child whose parent is not listed stays top level."""
    ids = {r.id for r in runs}
    top = [r for r in runs if r.parent_id not in ids]
    kids = sorted((r for r in runs if r.parent_id in ids), key=lambda r: r.start_time)
    by_id = {r.id: r for r in runs}
    n = nest([r.id for r in top + kids], {r.id: r.parent_id for r in runs})
    return [(by_id[rid], n.depth[rid]) for rid in n.order]


def _caption(runs: list[RunInfo], path: Any) -> str:
    counts: dict[str, int] = {}
    for r in runs:
        counts[str(r.status)] = counts.get(str(r.status), 0) + 1
    parts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    deleted = sum(r.deleted for r in runs)
    more = f", {deleted} deleted" if deleted else ""
    return f"{len(runs)} run{'s' if len(runs) != 1 else ''} ({parts}{more}) in {path}"


def _default_columns(runs: list[RunInfo]) -> list[str]:
    """Columns in display order; :func:`_fit` drops the least useful ones on narrow terminals."""
    cols = ["id", "name"]
    if len({r.experiment for r in runs}) > 1:
        cols.append("experiment")
    cols += ["status", "start", "duration"]
    cols += [f"params.{k}" for k in _varying_params(runs)[:_MAX_PARAM_COLS]]
    cols += [f"metrics.{k}" for k in _common_metrics(runs)[:_MAX_METRIC_COLS]]
    return cols


def _fit(columns: list[str], rows: list[tuple[RunInfo, int]], width: int) -> list[str]:
    """Keep id, name and status, then add the others by usefulness while they fit in ``width``."""
    params = [c for c in columns if c.startswith("params.")]
    metrics = [c for c in columns if c.startswith("metrics.")]
    wanted = ["id", "name", "status", "start", *metrics[:1], "experiment", *params[:1], *metrics[1:2],
              "duration", *params[1:2], *metrics[2:], *params[2:]]
    chosen: set[str] = set()
    used = 0
    for col in [c for c in wanted if c in columns]:
        cells = [_plain(_cell(run, col, depth)) for run, depth in rows]
        need = max(len(plain(_header(col))), *(len(c) for c in cells)) + (3 if chosen else 0)
        if col in ("id", "name", "status") or used + need <= width:
            chosen.add(col)
            used += need
    return [c for c in columns if c in chosen]


def _plain(cell: Any) -> str:
    return cell.plain if hasattr(cell, "plain") else str(cell)


def _varying_params(runs: list[RunInfo]) -> list[str]:
    """Params whose value differs between runs (what a sweep varies), best-known names first."""
    values: dict[str, set[str]] = {}
    for r in runs:
        for k, v in r.params.items():
            values.setdefault(k, set()).add(v)
    varying = [k for k, vs in values.items() if len(vs) > 1 and "seed" not in k.lower()]

    def rank(key: str) -> tuple[int, str]:
        leaf = key.lower().replace(".", "_")
        hits = [i for i, h in enumerate(_PARAM_HINTS) if h in leaf.split("_") or leaf.endswith(h)]
        return (hits[0] if hits else len(_PARAM_HINTS), key)

    return sorted(varying, key=rank)


def _common_metrics(runs: list[RunInfo]) -> list[str]:
    """Metric keys most runs have; validation metrics first (they are what a sweep is judged by)."""
    counts: dict[str, int] = {}
    for r in runs:
        for k in r.metrics:
            if not k.startswith("sys/"):
                counts[k] = counts.get(k, 0) + 1
    common = [k for k, n in counts.items() if n * 2 >= len(runs)] or list(counts)
    return sorted(common, key=lambda k: (not k.startswith(("val", "eval", "test")),
                                         0 if "loss" in k else 1 if "acc" in k else 2, k))


def _parse_columns(specs: list[str]) -> list[str]:
    cols = [c.strip() for spec in specs for c in spec.split(",") if c.strip()]
    for c in cols:
        prefix = c.split(".", 1)[0]
        if c not in _BUILTIN and prefix not in ("params", "metrics", "tags"):
            raise CommandError(f"unknown column {c!r}; use {', '.join(_BUILTIN)}, params.KEY, tags.KEY "
                               "or metrics.KEY[.min|.max|.step|.count]")
    return cols


def _header(col: str) -> str:
    return {"start": "started", "git": "commit"}.get(col, col.split(".", 1)[1] if "." in col else col)


def _metric(run: RunInfo, spec: str) -> str:
    key, field = spec, "last"
    if spec not in run.metrics and "." in spec:
        base, _, suffix = spec.rpartition(".")
        if suffix in _METRIC_FIELDS:
            key, field = base, suffix
    m = run.metrics.get(key)
    if m is None:
        return ""
    if field == "step":
        return str(m.last_step)
    if field == "count":
        return f"{m.count:,}"
    return fmt_value(getattr(m, field))


_CELLS: dict[str, Callable[[RunInfo], Any]] = {
    "id": lambda r: short_id(r.id),
    "experiment": lambda r: plain(r.experiment),
    "status": status_text,
    "start": lambda r: fmt_time(r.start_time),
    "end": lambda r: fmt_time(r.end_time),
    "duration": lambda r: fmt_duration(r.duration_s),
    "user": lambda r: plain(r.user),
    "host": lambda r: plain(r.host),
    "git": lambda r: r.git_commit[:8],
    "parent": lambda r: short_id(r.parent_id) if r.parent_id else "",
}


def _cell(run: RunInfo, col: str, depth: int) -> Any:
    if col == "name":
        return plain(("  " * (depth - 1) + "└ " if depth else "") + run.name)
    if col in _CELLS:
        return _CELLS[col](run)
    kind, _, key = col.partition(".")
    if kind == "metrics":
        return _metric(run, key)
    return plain((run.params if kind == "params" else run.tags).get(key, ""))


# --- edits -----------------------------------------------------------------------------------------

def cmd_show(args: argparse.Namespace) -> int:
    from app.commands.show import show_run

    store = open_store(args.store)
    show_run(store, store.get_run(args.run_id), console())
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    out = console()
    for run in resolve_runs(store, args.run_ids):
        if run.deleted:
            out.print(f"[dim]{safe(run.name)} ({short_id(run.id)}) was already deleted[/]")
            continue
        store.delete_run(run.id)
        out.print(f"Deleted [bold]{safe(run.name)}[/] ({short_id(run.id)})")
    out.print("[dim]Undo with: runwatch runs restore ID · remove for good with: runwatch gc[/]")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    out = console()
    for run in resolve_runs(store, args.run_ids):
        if not run.deleted:
            out.print(f"[dim]{safe(run.name)} ({short_id(run.id)}) is not deleted[/]")
            continue
        store.restore_run(run.id)
        out.print(f"Restored [bold]{safe(run.name)}[/] ({short_id(run.id)})")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    run = store.get_run(args.run_id)
    store.rename_run(run.id, args.name)
    console().print(f"Renamed {safe(run.name)} → [bold]{safe(args.name)}[/] ({short_id(run.id)})")
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    tags = {}
    for pair in args.pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"expected KEY=VALUE, got {pair!r} (to remove a tag: --remove KEY)")
        tags[key.strip()] = value
    if not tags and not args.remove:
        raise CommandError("nothing to do: give KEY=VALUE pairs to set, or --remove KEY")
    store = open_store(args.store)
    run = store.get_run(args.run_id)
    missing = [k for k in args.remove if k not in run.tags]
    store.set_tags(run.id, tags, remove=args.remove)
    out = console()
    for k, v in tags.items():
        out.print(f"{safe(run.name)}: [bold]{safe(k)}[/] = {safe(v)}")
    for k in args.remove:
        unset = " [dim](it was not set)[/]" if k in missing else ""
        out.print(f"{safe(run.name)}: removed [bold]{safe(k)}[/]{unset}")
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    store = open_store(args.store)
    run = store.get_run(args.run_id)
    store.set_note(run.id, text)
    console().print(f"{'Cleared' if not text.strip() else 'Set'} the note of [bold]{safe(run.name)}[/]")
    return 0


# --- experiments -------------------------------------------------------------------------------------

def cmd_experiments(args: argparse.Namespace) -> int:
    from rich.table import Table

    from app.commands.common import fmt_ago

    store = open_store(args.store)
    exps = store.experiments()
    out = console()
    if not exps:
        out.print(f"No experiments in {store.path} yet.")
        return 0
    table = Table(box=_box(), header_style="bold", pad_edge=False, show_edge=False)
    for name, justify in (("name", "left"), ("runs", "right"), ("created", "left"), ("last run", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for e in exps:
        table.add_row(plain(e.name), f"{e.run_count:,}", fmt_time(e.created_time),
                      f"{fmt_time(e.last_activity)} ({fmt_ago(e.last_activity)})" if e.last_activity else "—")
    out.print(table)
    out.print(f"{len(exps)} experiment{'s' if len(exps) != 1 else ''} in {store.path}", style="dim")
    return 0
