"""Shared by the commands: opening the store, the consoles, and how values are shown."""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.core.formatting import human_size, printable

if TYPE_CHECKING:
    import argparse

    from rich.console import Console
    from rich.text import Text

    from tracker_sdk import RunInfo, Store

#: rich styles per run status: green done, red failed, yellow stopped by the user, cyan live.
STATUS_STYLE = {"RUNNING": "bold cyan", "FINISHED": "green", "FAILED": "bold red", "KILLED": "yellow",
                "CRASHED": "bold magenta"}
#: Width used when stdout is not a terminal (pipes, files, tests): wide enough that tables are
#: not squeezed into wrapped cells, which would break ``grep`` on the output.
PIPE_WIDTH = 200


class CommandError(Exception):
    """A user-facing failure of a command: printed as one ``runwatch: error:`` line, exit 1."""


def runwatch_command() -> str:
    """``runwatch`` as the user can type it again: the bare name when PATH finds this very program,
    else the path it was started by, relative to the current folder when that is shorter
    (``.venv/bin/runwatch`` after ``python -m venv .venv && .venv/bin/pip install runwatch``)."""
    import shlex

    script = sys.argv[0] if sys.argv else ""
    if os.path.basename(script) != "runwatch" or not os.path.isfile(script):
        return "runwatch"  # python -m app.cli, or main() called from Python: nothing better known
    found = shutil.which("runwatch")
    if found and os.path.samefile(found, script):
        return "runwatch"
    relative = os.path.relpath(script)
    relative = relative if os.sep in relative else os.path.join(os.curdir, relative)
    return shlex.quote(min(os.path.abspath(script), relative, key=len))


def default_store_text() -> str:
    """The default store as an absolute path, resolved as the SDK does (for messages and ``ui``)."""
    env = os.environ.get("RUNWATCH_HOME")
    return os.path.abspath(os.path.expanduser(env)) if env else os.path.abspath("runwatch")


def open_store(path: str | None) -> Store:
    """The store at ``path`` (default ``$RUNWATCH_HOME``, else ``./runwatch``); never creates one.

    An MLflow tracking database works too: it is read in place (read-only), complete.
    """
    from tracker_sdk import open_store as open_any

    store = open_any(path)
    store.sync_all()
    return store


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = hasattr(stream, "isatty") and stream.isatty()
    # file= is passed explicitly so that a swapped sys.stdout (pytest's capsys) is honoured.
    return Console(file=stream, highlight=False, width=None if tty else PIPE_WIDTH, soft_wrap=False)


def is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


# --- user text ----------------------------------------------------------------------------------

def plain(value: object, style: str = "") -> Text:
    """User text (a key, name or value) for a rich table: never read as markup, escapes visible."""
    from rich.text import Text

    return Text(printable(str(value)), style=style)


def safe(value: object) -> str:
    """User text to put inside a rich markup string (``f"Deleted [bold]{safe(name)}[/]"``)."""
    from rich.markup import escape

    return escape(printable(str(value)))


# --- values -------------------------------------------------------------------------------------

def fmt_time(ms: int | None, seconds: bool = False) -> str:
    """Local time, minutes resolution (seconds on request): ``2026-11-26 22:41``."""
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def fmt_ago(ms: int | None) -> str:
    """``5m ago``, ``3d ago``: for "last activity" columns where recency matters more than dates."""
    if ms is None:
        return "—"
    s = max(0.0, time.time() - ms / 1000)
    if s < 60:
        return "just now"
    return f"{fmt_duration(s).split()[0]} ago"


def fmt_duration(s: float | None) -> str:
    """``0.4s``, ``12s``, ``3m 12s``, ``1h 04m``, ``2d 3h``."""
    if s is None or not math.isfinite(s):
        return "—"
    if s < 10:
        return f"{s:.1f}s"
    s = int(round(s))
    if s < 60:
        return f"{s}s"
    m, sec = divmod(s, 60)
    if m < 60:
        return f"{m}m {sec:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h}h"


fmt_bytes = human_size


def fmt_value(v: float | None) -> str:
    """A metric value: 4 significant digits; NaN and ±inf spelled out (they are legal values)."""
    if v is None:
        return ""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
        return f"{v:.3e}"
    return f"{v:.4g}"


def status_text(run: RunInfo, mark_deleted: bool = True) -> Text:
    from rich.text import Text

    status = str(run.status)
    if run.deleted and mark_deleted:
        return Text(f"{status} (deleted)", style="dim")
    return Text(status, style=STATUS_STYLE.get(status, ""))


def short_id(run_id: str) -> str:
    return run_id[:8]


# --- selecting runs -------------------------------------------------------------------------------

def select_runs(store: Store, args: argparse.Namespace, order_by: list[str], limit: int | None = None) -> list[RunInfo]:
    """The runs a listing command asks for with -e/--experiment, -f/--filter, --deleted/--only-deleted."""
    _check_experiments(store, args.experiment or [])
    runs = store.search_runs(experiment=args.experiment or None, filter=args.filter, order_by=order_by,
                             include_deleted=args.deleted or args.only_deleted,
                             limit=None if args.only_deleted else limit)
    if args.only_deleted:  # the store offers "with deleted"; "only deleted" is a filter on top
        runs = [r for r in runs if r.deleted][:limit]
    return runs


def _check_experiments(store: Store, names: list[str]) -> None:
    """A mistyped experiment is an error naming it, not an empty result that looks like "no runs"."""
    if not names:
        return
    known = [e.name for e in store.experiments()]
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "") if known else "none yet"
        what = "experiment named" if len(unknown) == 1 else "experiments named"
        raise CommandError(f"no {what} {', '.join(map(repr, unknown))}; experiments in this store: {listed}")


# --- resolving runs -------------------------------------------------------------------------------

def resolve_runs(store: Store, ids: list[str]) -> list[RunInfo]:
    """Every id (or unique prefix) resolved before anything changes: one typo aborts the lot."""
    return [store.get_run(i) for i in ids]


# --- progress -------------------------------------------------------------------------------------

@contextmanager
def progress_to(description: str) -> Iterator[Any]:
    """A rich progress bar on stderr for work whose total is learnt as it goes, yielding
    ``report(done, total_or_None)``. Drawn only on a terminal, like :func:`progress`."""
    if not is_tty(sys.stderr):
        yield lambda done, total=None: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def report(done: int, total: int | None = None) -> None:
            bar.update(task, completed=done, total=max(total, done) if total is not None else None)

        yield report


@contextmanager
def progress(total: int, description: str, *, min_total: int = 0) -> Iterator[Any]:
    """A rich progress bar on stderr, yielding ``advance(n=1, description=None)``.

    Drawn only on a terminal and for at least ``min_total`` items, so pipes, files and tests
    get clean output and short jobs do not flicker.
    """
    if not is_tty(sys.stderr) or total < min_total:
        yield lambda n=1, description=None: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1, description: str | None = None) -> None:
            if description is None:
                bar.advance(task, n)
            else:
                bar.update(task, advance=n, description=description)

        yield advance
