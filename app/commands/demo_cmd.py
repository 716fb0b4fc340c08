"""``runwatch demo``: build the demo store with a progress bar, then say how to open it."""

from __future__ import annotations

import argparse
import shlex

from app.commands.common import console, default_store_text, fmt_duration, is_tty, progress, runwatch_command, safe


def cmd_demo(args: argparse.Namespace) -> int:
    import sys

    from tracker_sdk import Store, StoreNotFoundError

    from app.demo import DEFAULT_STEPS, SWEEP_EXPERIMENT, live_demo, make_demo

    out = console()
    me = safe(runwatch_command())  # "runwatch", or ".venv/bin/runwatch" when PATH does not find it
    path = args.store or default_store_text()
    try:
        existing = {e.name: e.run_count for e in Store(path).experiments()}
    except StoreNotFoundError:
        existing = {}
    shown = safe(shlex.quote(str(path)))
    if SWEEP_EXPERIMENT in existing and not args.force:
        out.print(f"[bold]{shown}[/] already has the demo sweep ({existing[SWEEP_EXPERIMENT]} runs in "
                  f"{SWEEP_EXPERIMENT}); not adding another (pass --force to add one anyway).")
    else:
        total = args.runs + 3
        with progress(total, "Writing the demo sweep") as advance:
            result = make_demo(path, runs=args.runs, steps=args.steps or DEFAULT_STEPS, seed=args.seed,
                               progress=lambda done, _total, label: advance(1, f"Writing the demo ({label})"))
        path = result["store"]
        shown = safe(shlex.quote(path))
        runs = len(result["trial_ids"]) + 1 + len(result["baseline_ids"])
        out.print(f"[green]✓[/] Demo written to [bold]{shown}[/]: {runs} runs, "
                  f"{result['points']:,} metric points, in {fmt_duration(result['seconds'])}.")
        failed = " (one diverges to NaN: [bold red]FAILED[/])" if result["failed_id"] else ""
        out.print(f"  [bold]{SWEEP_EXPERIMENT}[/]  parent run [cyan]sweep[/] + {len(result['trial_ids'])} trials{failed}")
        out.print(f"  [bold]baseline[/]    {len(result['baseline_ids'])} short reference runs")
    store_opt = "" if path == default_store_text() else f" --store {shown}"
    if args.live:
        out.print(f"\nLogging {args.live_runs} live run(s) for {fmt_duration(args.live)}; watch them now with:"
                  f"\n  [bold]{me} ui {shown}[/]   (Ctrl-C stops the runs as KILLED)")
        seconds = float(args.live)
        with progress(int(seconds * 10), "Live runs logging") as advance:
            state = {"shown": 0}

            def tick(elapsed: float, _total: float) -> None:
                tenths = int(elapsed * 10)
                advance(tenths - state["shown"])
                state["shown"] = tenths

            ids = live_demo(path, seconds, runs=args.live_runs, progress=tick)
        out.print(f"[green]✓[/] Live runs finished: {', '.join(i[:8] for i in ids)}.")
    out.print(f"\nOpen it:     [bold]{me} ui {shown}[/]")
    out.print(f"List runs:   {me} runs list{store_opt}")
    if not args.live and is_tty(sys.stdout):
        out.print(f"Live curves: {me} demo{store_opt} --live 60   (then watch in the app)")
    return 0
