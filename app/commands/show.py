"""``runwatch runs show``: one run as rich panels (overview, params, metrics, tags, note,
environment, artifacts, child runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.commands.common import (
    fmt_bytes,
    fmt_duration,
    fmt_time,
    fmt_value,
    plain,
    safe,
    short_id,
    status_text,
)

if TYPE_CHECKING:
    from rich.console import Console

    from tracker_sdk import RunInfo, Store

#: An artifacts tree longer than this is cut (a checkpoint folder can hold thousands of files).
MAX_ARTIFACT_ENTRIES = 60
#: Keys wider than this fold onto more lines (MLflow's limit is 250 characters).
KEY_WIDTH = 60


def show_run(store: Store, run: RunInfo, out: Console) -> None:
    from rich.markdown import Markdown
    from rich.panel import Panel

    out.print(Panel(_overview(store, run), title=plain(run.name, "bold"), title_align="left",
                    subtitle=plain(run.experiment), subtitle_align="right", expand=False))
    # The note first: it is the human context ("why this run") that frames the numbers below.
    if run.note.strip():
        out.print(Panel(Markdown(run.note), title="Note", title_align="left", expand=False,
                        width=min(100, out.width)))
    sections = []
    if run.metrics:
        sections.append(_metrics_table(run))
    if run.params:
        sections.append(_kv_table(f"Params ({len(run.params)})", sorted(run.params.items())))
    if run.tags:
        sections.append(_kv_table(f"Tags ({len(run.tags)})", sorted(run.tags.items())))
    env = _environment(run)
    if env:
        sections.append(_kv_table("Environment", env))
    sections.append(_artifacts(store, run))
    for section in sections:
        out.print()
        out.print(section)
    children = store.search_runs(filter=f"attributes.parent_id = '{run.id}'",
                                 order_by=["attributes.start_time ASC"])
    if children:
        out.print()
        out.print(_children_table(children))


def _grid() -> Any:
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


def _overview(store: Store, run: RunInfo) -> Any:
    from rich.text import Text

    from tracker_sdk import TrackerError

    grid = _grid()
    grid.add_row("id", run.id)
    status = status_text(run)
    if run.tags.get("error"):
        status = Text.assemble(status, plain(f"  {run.tags['error']}", "red"))
    grid.add_row("status", status)
    if run.parent_id:
        try:
            parent = store.get_run(run.parent_id)
            grid.add_row("parent", plain(f"{parent.name} ({short_id(parent.id)})"))
        except TrackerError:  # the parent was removed by gc: the id is all that is left
            grid.add_row("parent", f"{short_id(run.parent_id)} (removed)")
    grid.add_row("started", fmt_time(run.start_time, seconds=True))
    if run.end_time is not None:
        grid.add_row("ended", fmt_time(run.end_time, seconds=True))
    grid.add_row("duration", fmt_duration(run.duration_s) + ("" if run.end_time else " (so far)"))
    who = "@".join(x for x in (run.user, run.host) if x)
    pid = run.environment.get("pid")
    if who:
        grid.add_row("user", plain(who + (f" (pid {pid})" if pid else "")))
    env = run.environment
    if run.git_commit:
        extra = [x for x in (env.get("git_branch"), "dirty" if env.get("git_dirty") else None) if x]
        grid.add_row("git", plain(run.git_commit[:10] + (f" ({', '.join(extra)})" if extra else "")))
    command = str(env.get("command", ""))
    if command:
        one_line = " ".join(command.split())
        grid.add_row("command", plain(one_line if len(one_line) <= 200 else one_line[:199] + "…"))
    return grid


def _kv_table(title: str, rows: list[tuple[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left", title_style="bold", box=None, show_header=False,
                  padding=(0, 2, 0, 0), min_width=len(title))  # a narrow table must not wrap its title
    # Both columns fold: a 250-character key must not push its value off the screen.
    table.add_column(style="cyan", overflow="fold", max_width=KEY_WIDTH)
    table.add_column(overflow="fold", max_width=100)
    for k, v in rows:
        table.add_row(plain(k), plain(v))
    return table


def _metrics_table(run: RunInfo) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title=f"Metrics ({len(run.metrics)})", title_justify="left", title_style="bold",
                  box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    # The key folds over lines and the numbers never wrap: rich narrows the wrappable column first,
    # so a long key can no longer squeeze every value down to "…".
    table.add_column("key", style="cyan", overflow="fold", max_width=KEY_WIDTH)
    for name in ("last", "step", "min", "max", "points"):
        table.add_column(name, justify="right", no_wrap=True)
    for key in sorted(run.metrics):
        m = run.metrics[key]
        table.add_row(plain(key), fmt_value(m.last), f"{m.last_step:,}", fmt_value(m.min), fmt_value(m.max),
                      f"{m.count:,}")
    return table


def _environment(run: RunInfo) -> list[tuple[str, Any]]:
    env = run.environment
    rows: list[tuple[str, Any]] = []
    for key, label in (("python", "python"), ("platform", "platform"), ("script", "script"), ("cwd", "cwd"),
                       ("git_remote", "git remote")):
        if env.get(key):
            rows.append((label, env[key]))
    packages = env.get("packages")
    if isinstance(packages, dict) and packages:
        notable = [f"{n} {packages[n]}" for n in ("torch", "tensorflow", "jax", "numpy", "scikit-learn")
                   if n in packages]
        rows.append(("packages", f"{len(packages)} installed" + (f" ({', '.join(notable)})" if notable else "")))
    return rows


def _artifacts(store: Store, run: RunInfo) -> Any:
    from rich.tree import Tree

    tree = Tree("[bold]Artifacts[/]", guide_style="dim")
    budget = [MAX_ARTIFACT_ENTRIES]
    total = _fill(store, run.id, "", tree, budget)
    if total == 0:
        tree.add("[dim](none)[/]")
    elif budget[0] < 0:
        tree.add(f"[dim]… more, see {safe(store.artifact_path(run.id))}[/]")
    return tree


def _fill(store: Store, run_id: str, path: str, node: Any, budget: list[int]) -> int:
    """Add one folder level to ``node`` (recursing); returns the entries seen."""
    seen = 0
    for info in store.list_artifacts(run_id, path):
        budget[0] -= 1
        if budget[0] < 0:
            return seen
        seen += 1
        name = info.path.rsplit("/", 1)[-1]
        if info.is_dir:
            seen += _fill(store, run_id, info.path, node.add(f"[bold blue]{safe(name)}/[/]"), budget)
        else:
            node.add(f"{safe(name)} [dim]{fmt_bytes(info.size)}[/]")
    return seen


def _children_table(children: list[RunInfo]) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title=f"Child runs ({len(children)})", title_justify="left", title_style="bold",
                  box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("id", "name", "status", "duration"):
        table.add_column(name)
    for c in children:
        table.add_row(short_id(c.id), plain(c.name), status_text(c), fmt_duration(c.duration_s))
    return table
