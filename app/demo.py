"""``runwatch demo``: fill a store with a realistic sweep, written through the public SDK only.

Everything goes through ``tracker_sdk.init(...)`` and the ``Run`` methods a training script
would call, so the demo doubles as an end-to-end exercise of the write path. The numbers come
from :mod:`app.demo_data`; run start times are the real "now" (the SDK stamps them), never faked.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from app import demo_data as dd

SWEEP_EXPERIMENT = "demo-sweep"
BASELINE_EXPERIMENT = "baseline"
LIVE_EXPERIMENT = "demo-live"
DEFAULT_STEPS = 3000

#: ``progress(done, total, label)`` after each run: lets the CLI draw a bar without the demo
#: knowing about rich.
Progress = Callable[[int, int, str], None]


def make_demo(store_path: str | os.PathLike[str] | None, *, runs: int = 12, steps: int = DEFAULT_STEPS,
              seed: int = 0, progress: Progress | None = None) -> dict[str, Any]:
    """Write the demo into ``store_path`` (created when missing) and describe what was written.

    Experiment "demo-sweep": a parent run "sweep" with ``runs`` trials nested under it (one
    diverges to NaN and is FAILED); experiment "baseline": two short runs. Returns a dict with
    ``store``, ``experiments``, ``parent_id``, ``trial_ids``, ``baseline_ids``, ``failed_id``,
    ``best_id``, ``model_run_id``, ``points`` (metric points written) and ``seconds``.
    """
    import tracker_sdk

    if runs < 1 or steps < 10:
        raise tracker_sdk.ValidationError("the demo needs at least 1 run and 10 steps")
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    trials = dd.make_trials(runs, rng)
    val_every = max(1, steps // 40)
    for t in trials:
        t.curves = dd.simulate(t, steps, val_every, np.random.default_rng([seed, t.seed]))
    best = min([t for t in trials if not t.diverges] or trials, key=lambda t: dd.final(t.curves, "val/loss"))
    total, done = len(trials) + 3, 0

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, label)

    store = tracker_sdk.Store(store_path, create=True)
    sweep_cfg = {"sweep": {"method": "random", "metric": "val/loss", "goal": "minimize", "trials": runs,
                           "search_space": "lr~logU(1e-4,0.3), optimizer∈{adam,sgd}, batch_size, dropout"},
                 "data": {"dataset": dd.DATASET}, "steps": steps}
    parent = tracker_sdk.init(experiment=SWEEP_EXPERIMENT, name="sweep", config=sweep_cfg, store=store,
                              tags={"stage": "sweep", "dataset": dd.DATASET, "owner": "ml-team"},
                              notes="Random search over learning rate, optimizer, batch size and dropout.")
    points, best_so_far = 0, math.inf
    ids: dict[int, str] = {}
    for t in trials:
        ids[t.index], n = _log_trial(store, parent, t, best=(t is best), seed=seed)
        points += n
        v = dd.final(t.curves, "val/loss")
        if math.isfinite(v) and v < best_so_far:
            best_so_far = v
        # The parent's own curve: the best validation loss found after each trial.
        parent.log({"best/val/loss": best_so_far}, step=t.index)
        points += 1
        tick(t.name)
    parent.log_text(_leaderboard_md(trials, ids), "report.md")
    parent.log_text(_trials_csv(trials, ids), "trials.csv")
    parent.log_dict(sweep_cfg, "config.json")
    parent.set_tags({"best_run": ids[best.index], "best_val_loss": f"{dd.final(best.curves, 'val/loss'):.4f}"})
    parent.finish("FINISHED")
    tick("sweep")
    baseline_ids = []
    for i, (name, trial) in enumerate(_baselines()):
        trial.curves = dd.simulate(trial, max(10, steps // 4), max(1, steps // 160),
                                   np.random.default_rng([seed, 77, i]))
        rid, n = _log_baseline(store, name, trial)
        baseline_ids.append(rid)
        points += n
        tick(name)
    failed = next((t for t in trials if t.diverges), None)
    return {"store": str(store.path), "experiments": [SWEEP_EXPERIMENT, BASELINE_EXPERIMENT],
            "parent_id": parent.id, "trial_ids": [ids[t.index] for t in trials], "baseline_ids": baseline_ids,
            "failed_id": ids[failed.index] if failed else None, "best_id": ids[best.index],
            "model_run_id": ids[best.index], "points": points, "seconds": time.perf_counter() - started}


def _log_trial(store: Any, parent: Any, t: dd.Trial, *, best: bool, seed: int) -> tuple[str, int]:
    import tracker_sdk

    intent = (f"{t.optimizer} at lr {t.lr:.2g} ({t.lr_ratio:.2g}× the usual best rate), "
              f"batch {t.batch_size}, dropout {t.dropout}.")
    run = tracker_sdk.init(experiment=SWEEP_EXPERIMENT, name=t.name, config=t.config, store=store, parent=parent,
                           tags={"stage": "sweep", "dataset": dd.DATASET, "optimizer": t.optimizer},
                           notes=intent)
    n = _log_curves(run, t.curves)
    run.log_dict(t.config, "config.json")
    rng = np.random.default_rng([seed, t.seed, 1])
    if t.diverges:
        c = t.curves
        bad = int(np.flatnonzero(~np.isfinite(c["train/loss"]))[0])
        run.set_tags({"error": f"loss diverged at step {bad}"})
        run.set_note(f"{intent}\n\n**Diverged** at step {bad}: the loss went to inf, then NaN. "
                     "The rate is far too high for this optimizer without gradient clipping.")
        run.log_text(_postmortem_md(t, bad), "report.md")
        run.log_text(_rows_csv(("step", "train/loss", "lr"),
                               zip(c["steps"][-60:].tolist(), c["train/loss"][-60:].tolist(), c["lr"][-60:].tolist())),
                     "divergence.csv")
        run.finish("FAILED")
        return run.id, n
    acc = dd.final(t.curves, "val/acc")
    rows = dd.predictions(acc, 300, rng)
    run.log_text(_report_md(t), "report.md")
    run.log_text(_rows_csv(("index", "label", "predicted", "confidence"), rows), "predictions.csv")
    run.log_image(dd.confusion_image(dd.confusion_matrix(rows)), "plots/confusion.png")
    if best:
        _log_model(run, t, rng)
        run.set_tags({"best": "true"})
    run.set_note(f"{intent}\n\n{_verdict(t)}")
    run.finish("FINISHED")
    return run.id, n


def _log_curves(run: Any, c: dict[str, np.ndarray]) -> int:
    """Log step by step, as a training loop does (one ``run.log`` per step, val every N)."""
    steps, loss, acc, lr = (c[k].tolist() for k in ("steps", "train/loss", "train/acc", "lr"))
    val = dict(zip(c["val_steps"].tolist(), zip(c["val/loss"].tolist(), c["val/acc"].tolist())))
    log = run.log
    for s, lo, ac, r in zip(steps, loss, acc, lr):
        log({"train/loss": lo, "train/acc": ac, "lr": r}, step=s)
        v = val.get(s)
        if v is not None:
            log({"val/loss": v[0], "val/acc": v[1]}, step=s)
    return 3 * len(steps) + 2 * len(val)


def _log_model(run: Any, t: dd.Trial, rng: np.random.Generator) -> None:
    with tempfile.TemporaryDirectory(prefix="runwatch-demo-model-") as tmp:
        folder = Path(tmp)
        # A fake weights file: float32 noise the size of a tiny network (about 64 KB).
        rng.standard_normal(16_384).astype(np.float32).tofile(folder / "weights.bin")
        cfg = t.config
        (folder / "config.yaml").write_text(
            "# exported by the demo training script\n"
            f"arch: {cfg['model']['arch']}\ndepth: {t.depth}\nwidth: {t.width}\ndropout: {t.dropout}\n"
            f"num_classes: {len(dd.CLASSES)}\nclasses: [{', '.join(dd.CLASSES)}]\n", encoding="utf-8")
        run.log_model(folder, name="classifier", metadata={"val/loss": round(dd.final(t.curves, "val/loss"), 4),
                                                           "framework": "numpy", "input_shape": [3, 32, 32]})


def _baselines() -> list[tuple[str, dd.Trial]]:
    return [("logistic-regression", dd.Trial(index=1, optimizer="sgd", lr=0.01, batch_size=256, dropout=0.0,
                                             seed=1, depth=1, width=10)),
            ("mlp-2x32", dd.Trial(index=2, optimizer="adam", lr=1e-3, batch_size=128, dropout=0.1,
                                   seed=2, depth=2, width=32))]


def _log_baseline(store: Any, name: str, t: dd.Trial) -> tuple[str, int]:
    import tracker_sdk

    cfg = {**t.config, "model": {"arch": name.split("-")[0], "depth": t.depth, "width": t.width}}
    with tracker_sdk.init(experiment=BASELINE_EXPERIMENT, name=name, config=cfg, store=store,
                          tags={"stage": "baseline", "dataset": dd.DATASET},
                          notes="Reference point for the sweep: the simplest model that could work.") as run:
        n = _log_curves(run, t.curves)
        run.log_dict(cfg, "config.json")
        run.log_text(_report_md(t, title=name), "report.md")
    return run.id, n


# --- live ----------------------------------------------------------------------------------------

def live_demo(store_path: str | os.PathLike[str] | None, seconds: float, runs: int = 2, rate_hz: float = 20.0,
              progress: Callable[[float, float], None] | None = None) -> list[str]:
    """Keep ``runs`` runs logging at ``rate_hz`` steps a second for ``seconds``, then finish them.

    The curves are planned for the whole duration, so they reach a plateau just as time runs out.
    Ctrl-C finishes the runs as KILLED (what a real interrupted script records) and re-raises.
    ``progress(elapsed, seconds)`` is called about twice a second. Returns the run ids.
    """
    import tracker_sdk

    store = tracker_sdk.Store(store_path, create=True)
    steps = max(10, int(seconds * rate_hz))
    val_every = max(1, int(rate_hz * 2))  # validation every ~2 s, like an epoch end
    rng = np.random.default_rng(int(time.time()))
    live = []
    for i in range(runs):
        opt = "adam" if i % 2 == 0 else "sgd"
        t = dd.Trial(index=i + 1, optimizer=opt, lr=dd.BEST_LR[opt] * float(rng.choice([0.3, 1.0, 3.0])),
                     batch_size=64, dropout=0.1, seed=int(rng.integers(1 << 30)), depth=18, width=64)
        t.curves = dd.simulate(t, steps, val_every, rng)
        run = tracker_sdk.init(experiment=LIVE_EXPERIMENT, name=f"live-{opt}-{i + 1}", config=t.config,
                               store=store, tags={"stage": "live", "dataset": dd.DATASET},
                               notes=f"Live demo: logs {rate_hz:g} steps a second for {seconds:g} s.")
        live.append((run, t.curves, dict(zip(t.curves["val_steps"].tolist(), t.curves["val/loss"].tolist()))))
    start = time.monotonic()
    status = "FINISHED"
    try:
        step, last_report = 0, 0.0
        while True:
            now = time.monotonic() - start
            if now >= seconds:
                break
            for run, c, val in live:
                if step < len(c["steps"]):
                    run.log({"train/loss": c["train/loss"][step], "train/acc": c["train/acc"][step],
                             "lr": c["lr"][step]}, step=step)
                    if step in val:
                        v = val[step]
                        run.log({"val/loss": v, "val/acc": float(dd.accuracy_from_loss(np.array(v)))}, step=step)
            step += 1
            if progress is not None and now - last_report >= 0.5:
                progress(now, seconds)
                last_report = now
            # Sleep to the next tick of a fixed grid: a slow iteration does not drift the pace.
            time.sleep(max(0.0, start + step / rate_hz - time.monotonic()))
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        for run, _, _ in live:
            run.finish(status)
        if progress is not None:
            progress(min(time.monotonic() - start, seconds), seconds)
    return [run.id for run, _, _ in live]


# --- artifact text --------------------------------------------------------------------------------

def _fmt(x: float) -> str:
    return "NaN" if math.isnan(x) else f"{x:.4f}"


def _verdict(t: dd.Trial) -> str:
    c = t.curves
    last, low = dd.final(c, "val/loss"), float(np.nanmin(c["val/loss"]))
    if last > low * 1.25:
        return f"Overfits: val/loss bottomed at {low:.3f} and ended at {last:.3f}. More dropout or early stopping."
    if last > 1.0:
        return f"Under-trained: val/loss still {last:.3f} at the end; the rate is too low for this budget."
    return f"Converged cleanly: val/loss {last:.3f}, val/acc {dd.final(c, 'val/acc'):.1%}."


def _report_md(t: dd.Trial, title: str | None = None) -> str:
    c = t.curves
    lines = [f"# {title or t.name}", "", _verdict(t), "", "## Hyperparameters", "",
             "| name | value |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in _flat(t.config).items()]
    lines += ["", "## Results", "", "| metric | final | best |", "|---|---:|---:|"]
    for key, better in (("train/loss", np.nanmin), ("val/loss", np.nanmin), ("val/acc", np.nanmax)):
        lines.append(f"| {key} | {_fmt(dd.final(c, key))} | {_fmt(float(better(c[key])))} |")
    lines += ["", f"Trained for {len(c['steps'])} steps on `{dd.DATASET}`; "
              f"validation every {int(c['val_steps'][0]) + 1 if c['val_steps'].size else 0} steps.", ""]
    return "\n".join(lines)


def _postmortem_md(t: dd.Trial, bad: int) -> str:
    return "\n".join([f"# {t.name}: diverged", "",
                      f"Training was stopped at step {len(t.curves['steps']) - 1} after the loss became "
                      f"non-finite at step {bad}.", "",
                      f"- optimizer: `{t.optimizer}`, lr `{t.lr:.3g}` ({t.lr_ratio:.0f}× the usual best)",
                      "- no gradient clipping", "- last 60 steps are in `divergence.csv`", "",
                      "**Next:** lower the rate, or clip gradients at norm 1.0.", ""])


def _leaderboard_md(trials: list[dd.Trial], ids: dict[int, str]) -> str:
    ranked = sorted(trials, key=lambda t: (t.diverges, dd.final(t.curves, "val/loss")))
    lines = ["# Sweep leaderboard", "", f"{len(trials)} trials on `{dd.DATASET}`, ranked by final val/loss.",
             "", "| # | run | optimizer | lr | batch | dropout | val/loss | val/acc |",
             "|---:|---|---|---:|---:|---:|---:|---:|"]
    for rank, t in enumerate(ranked, 1):
        loss = "diverged" if t.diverges else _fmt(dd.final(t.curves, "val/loss"))
        acc = "—" if t.diverges else f"{dd.final(t.curves, 'val/acc'):.1%}"
        lines.append(f"| {rank} | {t.name} (`{ids[t.index][:8]}`) | {t.optimizer} | {t.lr:.2g} | "
                     f"{t.batch_size} | {t.dropout} | {loss} | {acc} |")
    return "\n".join(lines) + "\n"


def _trials_csv(trials: list[dd.Trial], ids: dict[int, str]) -> str:
    rows = [(ids[t.index], t.name, t.optimizer, t.lr, t.batch_size, t.dropout, t.depth, t.width,
             "FAILED" if t.diverges else "FINISHED", dd.final(t.curves, "val/loss"), dd.final(t.curves, "val/acc"))
            for t in trials]
    return _rows_csv(("run_id", "name", "optimizer", "lr", "batch_size", "dropout", "depth", "width",
                      "status", "val_loss", "val_acc"), rows)


def _rows_csv(header: tuple[str, ...], rows: Any) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out
