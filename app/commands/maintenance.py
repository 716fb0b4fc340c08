"""``runwatch gc`` and ``runwatch doctor``: store housekeeping."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.commands.common import (
    CommandError,
    console,
    fmt_bytes,
    fmt_time,
    is_tty,
    open_store,
    plain,
    safe,
    short_id,
    status_text,
)

if TYPE_CHECKING:
    from tracker_sdk import RunInfo, Store

DAY_S = 86_400
#: A WAL this big means something keeps the store open and checkpoints cannot finish.
WAL_WARN_BYTES = 64 * 1024 * 1024


def _folder_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def _days(n: float) -> str:
    return f"{n:g} day{'' if n == 1 else 's'}"


# --- gc --------------------------------------------------------------------------------------------

def _gc_candidates(store: Store, older_than_days: float | None) -> list[RunInfo]:
    """The deleted runs gc removes: all of them, or those deleted more than N days ago."""
    deleted = [r for r in store.search_runs(include_deleted=True) if r.deleted]
    if older_than_days is None:
        return deleted
    cutoff = (time.time() - older_than_days * DAY_S) * 1000
    return [r for r in deleted if r.deleted_time is not None and r.deleted_time < cutoff]


def cmd_gc(args: argparse.Namespace) -> int:
    from rich.table import Table

    store = open_store(args.store)
    out = console()
    runs = _gc_candidates(store, args.older_than)
    if not runs:
        age = f" deleted more than {_days(args.older_than)} ago" if args.older_than else ""
        out.print(f"Nothing to remove: no deleted runs{age} in {safe(store.path)} "
                  "(delete with: runwatch runs delete ID).")
        return 0
    sizes = {r.id: _folder_bytes(store.artifact_path(r.id)) for r in runs}
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("id", "name", "experiment", "status", "started", "artifacts"):
        table.add_column(col, justify="right" if col == "artifacts" else "left")
    for r in runs:
        table.add_row(short_id(r.id), plain(r.name), plain(r.experiment), status_text(r, mark_deleted=False),
                      fmt_time(r.start_time), fmt_bytes(sizes[r.id]))
    what = f"{len(runs)} deleted run{'s' if len(runs) != 1 else ''}"
    them = "it" if len(runs) == 1 else "them"
    out.print(f"gc will remove {what} for good (rows, metrics and {fmt_bytes(sum(sizes.values()))} of artifacts):")
    out.print(table)
    if not args.yes:
        if not is_tty(sys.stdin):
            raise CommandError(f"gc would remove {what} for good, but stdin is not a terminal to confirm: "
                               f"nothing removed; re-run with --yes to remove {them}")
        answer = input(f"Remove {'these' if len(runs) > 1 else 'this'} for good? This cannot be undone [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            out.print("Nothing removed.")
            return 0
    # run_ids pins gc to what was shown and confirmed; the store applies the same age cut.
    older_s = args.older_than * DAY_S if args.older_than else None
    removed = store.gc(older_than_s=older_s, run_ids=[r.id for r in runs])
    freed = sum(sizes.get(i, 0) for i in removed)
    out.print(f"[green]✓[/] Removed {len(removed)} run{'s' if len(removed) != 1 else ''}, "
              f"freed {fmt_bytes(freed)} of artifacts.")
    return 0


# --- doctor ----------------------------------------------------------------------------------------

def cmd_doctor(args: argparse.Namespace) -> int:
    import platform

    from rich.table import Table

    import tracker_sdk
    from tracker_sdk.errors import CorruptDataError

    out = console()
    try:
        store = open_store(args.store)
        info = store.info()
        all_runs = store.search_runs(include_deleted=True)
        damaged = store.damaged_series() if info.get("integrity") == "ok" else []
    except CorruptDataError as e:
        # SQLite cannot read the file far enough for the usual report: say what is known and
        # how to save what can be saved, without a traceback.
        cause = getattr(e.__cause__, "orig", e.__cause__)
        if e.db_path is None or cause is None:
            out.print(f"[bold red]✗[/] {e}")
            return 1
        out.print(f"[bold red]✗[/] {e.db_path} is damaged: SQLite cannot read it ({cause}).")
        out.print(f"[yellow]![/] {_recover_hint(e.db_path)}")
        return 1
    wal = store.path / "runwatch.db-wal"
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    deleted = [r for r in all_runs if r.deleted]
    statuses: dict[str, int] = {}
    for r in all_runs:
        statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
    orphans = _orphan_artifact_dirs(store, {r.id for r in all_runs})

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    grid.add_row("store", f"[bold]{info['path']}[/]")
    grid.add_row("schema", str(info.get("schema")))
    grid.add_row("runwatch", f"{tracker_sdk.__version__} (Python {platform.python_version()})")
    status_part = ", ".join(f"{n} {s.lower()}" for s, n in sorted(statuses.items(), key=lambda kv: -kv[1]))
    grid.add_row("runs", f"{info.get('runs', len(all_runs)):,}" + (f" ({status_part})" if status_part else "")
                 + (f", {len(deleted)} deleted" if deleted else ""))
    grid.add_row("experiments", f"{info.get('experiments', 0):,}")
    grid.add_row("metrics", f"{info.get('metric_points', 0):,} points in {info.get('metric_series', 0):,} series "
                            f"({info.get('metric_chunks', 0):,} chunks)")
    grid.add_row("params, tags", f"{info.get('params', 0):,}, {info.get('tags', 0):,}")
    points = info.get("metric_points", 0)
    if store.read_only:  # another tool's store, read in place: its own file, not ours
        grid.add_row("database", f"{fmt_bytes(info['db_bytes'])}, read-only (Runwatch never writes to it)")
    else:
        per_point = f", ~{(info['db_bytes'] - wal_bytes) / points:.0f} B per point" if points else ""
        grid.add_row("database", f"{fmt_bytes(info['db_bytes'])} (WAL {fmt_bytes(wal_bytes)}{per_point})")
        grid.add_row("artifacts", fmt_bytes(info["artifact_bytes"]))
    integrity = str(info.get("integrity"))
    checks = "ok" if not damaged else f"{len(damaged)} damaged series"
    grid.add_row("integrity", ("[green]ok[/]" if integrity == "ok" else f"[bold red]{integrity}[/]")
                 + (f", metric checksums {'[green]ok[/]' if not damaged else f'[bold red]{checks}[/]'}"
                    if integrity == "ok" else ""))

    problems, hints = _diagnose(store, integrity, wal_bytes, deleted, statuses, orphans)
    names = {r.id: r.name for r in all_runs}
    problems.extend(
        f"metric {key!r} of run {names.get(run_id, '?')!r} ({run_id[:8]}) is damaged: chunk"
        f"{'s' if len(idx) != 1 else ''} {', '.join(map(str, idx[:5]))}{' …' if len(idx) > 5 else ''}"
        " fail their checksum (the file changed after it was written). Other series read normally; "
        "restore this run from a backup, or delete it (runwatch runs delete) to silence this."
        for run_id, key, idx in damaged)
    out.print(grid)
    out.print()
    for p in problems:
        out.print(f"[bold red]✗[/] {p}")
    for h in hints:
        out.print(f"[yellow]![/] {h}")
    if not problems and not hints:
        out.print("[green]✓[/] ok: no problems found")
    elif not problems:
        out.print("[green]✓[/] ok: the store is healthy (the notes above are advice)")
    return 1 if problems else 0


def _recover_hint(db: Path) -> str:
    """How to save what SQLite can still read (its CLI's .recover), never touching the original."""
    return (f"copy the store folder aside, then save what SQLite can still read: sqlite3 {db} .recover"
            f" | sqlite3 recovered.db (the sqlite3 command: apt-get install sqlite3); put recovered.db"
            f" in a new folder as {db.name}, with a copy of artifacts/ beside it")


def _orphan_artifact_dirs(store: Store, run_ids: set[str]) -> list[Path]:
    root = store.artifacts_root
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name not in run_ids)


def _diagnose(store: Store, integrity: str, wal_bytes: int, deleted: list[Any], statuses: dict[str, int],
              orphans: list[Path]) -> tuple[list[str], list[str]]:
    problems, hints = [], []
    if integrity != "ok":
        problems.append(f"the database failed its integrity check ({integrity}); {_recover_hint(store.db_path)}")
    if not os.access(store.path, os.W_OK):
        hints.append(f"{store.path} is read-only: viewing works, logging and edits (rename, delete, gc) do not.")
    if wal_bytes > WAL_WARN_BYTES:
        hints.append(f"the write-ahead log is {fmt_bytes(wal_bytes)}: it is folded into the database when no "
                     "reader holds it open; close idle training scripts and apps on this store.")
    if deleted:
        size = sum(_folder_bytes(store.artifact_path(r.id)) for r in deleted)
        hints.append(f"{len(deleted)} deleted run{'s' if len(deleted) != 1 else ''} still use space "
                     f"({fmt_bytes(size)} of artifacts): runwatch gc --store {store.path}")
    if statuses.get("CRASHED"):
        n = statuses["CRASHED"]
        hints.append(f"{n} run{'s' if n != 1 else ''} crashed (the process died without finishing); "
                     "their data up to the crash is kept, nothing needs repair.")
    if orphans:
        hints.append(f"{len(orphans)} artifact folder{'s' if len(orphans) != 1 else ''} belong to no run (left by "
                     f"an interrupted gc), e.g. {orphans[0]}; they can be deleted.")
    return problems, hints
