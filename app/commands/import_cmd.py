"""``runwatch import mlflow|tensorboard SOURCE``: copy another tool's store into a Runwatch one."""

from __future__ import annotations

import argparse

from app.commands.common import console, default_store_text, plain, progress_to


def cmd_import(args: argparse.Namespace) -> int:
    from tracker_sdk.sources import import_store

    target = args.store if args.store is not None else default_store_text()
    with progress_to(f"Importing {args.kind} points") as report:
        result = import_store(args.source, target, kind=args.kind, progress=report)
    again = " (imported before: nothing new)" if result.points_read and not result.points_written else ""
    console().print(
        "[green]✓[/] Imported ", plain(f"{result.runs:,} run{'s' if result.runs != 1 else ''}"),
        f", {result.points_written:,} new of {result.points_read:,} points and "
        f"{result.files_copied:,} artifact file{'s' if result.files_copied != 1 else ''}"
        + (f", {result.models} registered model{'s' if result.models != 1 else ''}" if result.models else "")
        + " into ",
        plain(str(target)), f"{again}.", sep="")
    return 0
