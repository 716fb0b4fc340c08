"""``runwatch models ...``: the model registry from the command line.

Every edit is one public ``Store`` call (``register_model``, ``set_model_alias``, ...), the same
the app and scripts make; a foreign store opened in place refuses them with its own message.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.commands.common import CommandError, console, fmt_time, is_tty, open_store, plain, safe, short_id
from app.core.models_table import version_rows

if TYPE_CHECKING:
    from tracker_sdk import ModelVersion, RegisteredModel, Store


def _table(*columns: str):  # type: ignore[no-untyped-def]
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, show_edge=False)
    for col in columns:
        table.add_column(col, justify="right" if col == "version" else "left", overflow="fold")
    return table


def _aliases(model: RegisteredModel) -> str:
    return ", ".join(f"@{a} → v{n}" for a, n in sorted(model.aliases.items()))


def _version_label(v: ModelVersion | None) -> str:
    if v is None:
        return "—"
    return f"v{v.version}" + (f" ({v.stage})" if v.stage != "None" else "")


def _run_names(store: Store) -> dict[str, str]:
    return {r.id: r.name for r in store.search_runs(include_deleted=True)}


# --- list / show --------------------------------------------------------------------------------------

def cmd_list(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    out = console()
    models = store.registered_models()
    if not models:
        out.print(f"No registered models in {safe(store.path)} (register a run's model with: "
                  "runwatch models register runs:/RUN_ID/model NAME).")
        return 0
    table = _table("name", "latest", "versions", "aliases", "updated", "description")
    for m in models:
        table.add_row(plain(m.name, "bold"), _version_label(m.latest), str(len(m.versions)), plain(_aliases(m)),
                      fmt_time(m.updated_time or m.created_time), plain(m.description))
    out.print(table)
    out.print(f"{len(models)} model{'s' if len(models) != 1 else ''} in {safe(store.path)}", style="dim")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    out = console()
    model = store.get_registered_model(args.name)
    out.print(f"[bold]{safe(model.name)}[/]" + (f" — {safe(model.description)}" if model.description else ""))
    details = [("aliases", _aliases(model)), ("tags", ", ".join(f"{k}={v}" for k, v in sorted(model.tags.items()))),
               ("created", fmt_time(model.created_time))]
    for label, value in details:
        if value:
            out.print(f"[dim]{label}:[/] {safe(value)}")
    if not model.versions:
        out.print(f"No versions yet (add one with: runwatch models register runs:/RUN_ID/model {safe(model.name)}).")
        return 0
    names = _run_names(store)
    table = _table("version", "stage", "aliases", "status", "source run", "created", "description", "tags")
    for v, row in zip(model.versions, version_rows([model], names), strict=True):
        _, number, stage, aliases, status, run, created, description, tags = row
        source = "—" if v.run_id is None else (f"{run} ({short_id(v.run_id)})" if v.run_id in names
                                               else f"{short_id(v.run_id)} (not in this store)")
        table.add_row(str(number), plain(stage), plain(aliases), plain(status), plain(source), fmt_time(created),
                      plain(description), plain(tags))
    out.print(table)
    return 0


# --- edits --------------------------------------------------------------------------------------------

def cmd_register(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    v = store.register_model(args.uri, args.name, description=args.description)
    run = f" (run {safe(_run_names(store).get(v.run_id, short_id(v.run_id)))})" if v.run_id else ""
    console().print(f"[green]✓[/] Registered [bold]{safe(v.model)}[/] version {v.version} from "
                    f"{safe(v.source)}{run}; use it as models:/{safe(v.model)}/{v.version}")
    return 0


def cmd_alias(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    out = console()
    if args.delete:
        if args.version is not None:
            raise CommandError("--delete takes no VERSION: runwatch models alias NAME ALIAS --delete")
        was = store.get_model_version_by_alias(args.name, args.alias).version
        store.delete_model_alias(args.name, args.alias)
        out.print(f"[green]✓[/] Removed alias @{safe(args.alias)} of [bold]{safe(args.name)}[/] (was version {was})")
        return 0
    if args.version is None:
        raise CommandError(f"give the VERSION for alias {args.alias!r}: runwatch models alias NAME ALIAS VERSION "
                           "(or --delete to remove it)")
    before = store.get_registered_model(args.name).aliases.get(args.alias)
    v = store.set_model_alias(args.name, args.alias, args.version)
    moved = f" (moved from version {before})" if before not in (None, v.version) else ""
    out.print(f"[green]✓[/] [bold]{safe(v.model)}@{safe(args.alias)}[/] → version {v.version}{moved}")
    return 0


def cmd_stage(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    before = {v.version: v.stage for v in store.get_registered_model(args.name).versions}
    v = store.transition_model_version_stage(args.name, args.version, args.stage,
                                             archive_existing_versions=args.archive_existing)
    after = store.get_registered_model(args.name).versions
    archived = [str(o.version) for o in after if o.version != v.version and o.stage != before.get(o.version)]
    note = f"; archived version{'s' if len(archived) != 1 else ''} {', '.join(archived)}" if archived else ""
    console().print(f"[green]✓[/] [bold]{safe(v.model)}[/] version {v.version}: {before.get(v.version)} → "
                    f"{v.stage}{note}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    out = console()
    model = store.get_registered_model(args.name)
    if args.version is None:
        n = len(model.versions)
        what = f"model {model.name!r} with its {n} version{'s' if n != 1 else ''}, tags and aliases"
        remove: Callable[[], None] = lambda: store.delete_registered_model(model.name)  # noqa: E731
    else:
        v = store.get_model_version(model.name, args.version)
        what = f"version {v.version} of model {model.name!r}" + (f" (aliases {', '.join(v.aliases)})" if v.aliases else "")
        remove = lambda: store.delete_model_version(model.name, v.version)  # noqa: E731
    if store.read_only:
        remove()  # refused by the store with its own message, before anything is asked
    if not args.yes:
        if not is_tty(sys.stdin):
            raise CommandError(f"models delete would remove {what}, but stdin is not a terminal to confirm: "
                               "nothing removed; re-run with --yes to remove it")
        answer = input(f"Remove {what}? The runs and their files stay. This cannot be undone [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            out.print("Nothing removed.")
            return 0
    remove()
    out.print(f"[green]✓[/] Removed {safe(what)}.")
    return 0
