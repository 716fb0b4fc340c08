"""``app.demo``: the demo store has the promised shape, and its curves look like training."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import tracker_sdk
from app import demo_data as dd
from app.demo import BASELINE_EXPERIMENT, LIVE_EXPERIMENT, SWEEP_EXPERIMENT, live_demo, make_demo

STEPS = 400  # enough for 10 validation points and a divergence; keeps the module fast


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "store"
    calls = []
    result = make_demo(path, steps=STEPS, progress=lambda done, total, label: calls.append((done, total, label)))
    return result, tracker_sdk.Store(path), calls


def _trials(store, result):
    return [store.get_run(i) for i in result["trial_ids"]]


def test_experiments_and_nesting(demo):
    result, store, _ = demo
    counts = {e.name: e.run_count for e in store.experiments()}
    assert counts == {SWEEP_EXPERIMENT: 13, BASELINE_EXPERIMENT: 2}
    parent = store.get_run(result["parent_id"])
    assert parent.name == "sweep" and parent.parent_id is None and parent.status == "FINISHED"
    trials = _trials(store, result)
    assert len(trials) == 12
    assert all(t.parent_id == parent.id and t.experiment == SWEEP_EXPERIMENT for t in trials)
    assert len({t.name for t in trials}) == 12


def test_exactly_one_trial_fails_with_nan(demo):
    result, store, _ = demo
    trials = _trials(store, result)
    failed = [t for t in trials if t.status == "FAILED"]
    assert [t.id for t in failed] == [result["failed_id"]]
    assert all(t.status == "FINISHED" for t in trials if t.id != result["failed_id"])
    loss = store.metric_history(result["failed_id"], "train/loss").values
    assert np.isinf(loss).any() and np.isnan(loss[-1])
    assert "diverged" in failed[0].tags["error"]
    assert len(loss) < STEPS  # the job died early


def test_params_nested_and_varied(demo):
    result, store, _ = demo
    trials = _trials(store, result)
    for t in trials:
        for key in ("optimizer.name", "optimizer.lr", "model.depth", "model.width", "model.dropout",
                    "data.batch_size", "seed"):
            assert key in t.params, (t.name, key)
        assert t.tags["stage"] == "sweep" and t.tags["dataset"]
        assert t.note.strip()
    lrs = sorted(float(t.params["optimizer.lr"]) for t in trials)
    ratios = np.diff(np.log10(lrs))
    assert len(set(lrs)) == 12 and np.allclose(ratios, ratios.mean(), atol=0.01)  # log-spaced
    assert {t.params["optimizer.name"] for t in trials} == {"adam", "sgd"}


def test_metrics_and_validation_curves(demo):
    result, store, _ = demo
    for t in _trials(store, result):
        assert {"train/loss", "train/acc", "lr", "val/loss", "val/acc"} <= set(t.metrics)
        val = store.metric_history(t.id, "val/loss")
        train = store.metric_history(t.id, "train/loss")
        assert len(val) >= 5 and len(val) < len(train) / 5
        assert np.all(np.diff(val.steps) > 0)
    baseline = store.search_runs(experiment=BASELINE_EXPERIMENT)
    assert all("val/loss" in r.metrics and r.tags["stage"] == "baseline" for r in baseline)


def test_curves_look_like_training(demo):
    result, store, _ = demo
    finished = [t for t in _trials(store, result) if t.status == "FINISHED"]
    overfits = 0
    for t in finished:
        loss = store.metric_history(t.id, "train/loss").values
        assert np.median(loss[:20]) > np.median(loss[-50:])  # it learns
        lr = store.metric_history(t.id, "lr").values
        peak = int(np.argmax(lr))
        assert 0 < peak < len(lr) // 5 and lr[-1] < lr[peak] / 5  # warm-up, then decay
        val = store.metric_history(t.id, "val/loss").values
        overfits += val[-1] > val.min() * 1.1
        acc = store.metric_history(t.id, "train/acc").values
        assert np.all((acc >= 0) & (acc <= 1))
    assert overfits >= 1  # high learning rates overfit: validation turns back up
    best = store.get_run(result["best_id"])
    assert best.metrics["val/loss"].last == min(t.metrics["val/loss"].last for t in finished)


def test_artifacts_of_each_kind(demo):
    result, store, _ = demo
    for t in _trials(store, result):
        names = {a.path for a in store.list_artifacts(t.id)}
        assert {"report.md", "config.json"} <= names
        config = json.loads(store.artifact_path(t.id, "config.json").read_text())
        assert config["optimizer"]["name"] == t.params["optimizer.name"]
        if t.status == "FAILED":
            continue
        assert "predictions.csv" in names and "plots" in names
        png = store.artifact_path(t.id, "plots/confusion.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        rows = store.artifact_path(t.id, "predictions.csv").read_text().splitlines()
        assert rows[0] == "index,label,predicted,confidence" and len(rows) > 100
        assert store.artifact_path(t.id, "report.md").read_text().startswith("# ")
    model = {a.path for a in store.list_artifacts(result["model_run_id"], "models/classifier")}
    assert {"models/classifier/weights.bin", "models/classifier/config.yaml",
            "models/classifier/runwatch-model.json"} <= model
    parent_files = {a.path for a in store.list_artifacts(result["parent_id"])}
    assert {"report.md", "trials.csv", "config.json"} <= parent_files


def test_progress_reports_every_run(demo):
    result, _, calls = demo
    assert [c[0] for c in calls] == list(range(1, len(calls) + 1))
    assert len(calls) == calls[-1][1] == 12 + 1 + 2
    assert result["points"] > 12 * STEPS * 3


def test_same_seed_same_sweep(tmp_path):
    a = make_demo(tmp_path / "a", runs=3, steps=30, seed=5)
    b = make_demo(tmp_path / "b", runs=3, steps=30, seed=5)
    sa, sb = tracker_sdk.Store(a["store"]), tracker_sdk.Store(b["store"])
    for ia, ib in zip(a["trial_ids"], b["trial_ids"]):
        ra, rb = sa.get_run(ia), sb.get_run(ib)
        assert ra.name == rb.name and dict(ra.params) == dict(rb.params)
        assert np.array_equal(sa.metric_history(ia, "train/loss").values,
                              sb.metric_history(ib, "train/loss").values, equal_nan=True)


def test_bad_arguments_raise_tracker_error(tmp_path):
    with pytest.raises(tracker_sdk.ValidationError):
        make_demo(tmp_path / "s", runs=0)


def test_live_demo_logs_then_finishes(tmp_path):
    path = tmp_path / "live"
    seen = []
    ids = live_demo(path, 0.6, runs=2, rate_hz=50, progress=lambda e, t: seen.append(e))
    store = tracker_sdk.Store(path)
    runs = [store.get_run(i) for i in ids]
    assert len(runs) == 2 and all(r.experiment == LIVE_EXPERIMENT and r.status == "FINISHED" for r in runs)
    for r in runs:
        n = r.metrics["train/loss"].count
        assert 5 <= n <= 0.6 * 50 + 5  # paced, not dumped at once
    assert seen and seen[-1] <= 0.6 + 1e-9


# --- the pure data generator ------------------------------------------------------------------------

def test_simulate_divergence_and_ranges():
    rng = np.random.default_rng(0)
    trials = dd.make_trials(12, rng)
    assert sum(t.diverges for t in trials) == 1
    bad = next(t for t in trials if t.diverges)
    c = dd.simulate(bad, 1000, 25, rng)
    loss = c["train/loss"]
    first = int(np.flatnonzero(~np.isfinite(loss))[0])
    assert math.isinf(loss[first]) and np.isnan(loss[first + 1:]).all()
    good = dd.simulate(trials[4], 1000, 25, rng)
    assert len(good["steps"]) == 1000 and len(good["val_steps"]) == 40
    assert np.all(np.isfinite(good["train/loss"]))


def test_confusion_image_is_rgb_uint8():
    rows = dd.predictions(0.8, 200, np.random.default_rng(1))
    cm = dd.confusion_matrix(rows)
    assert cm.sum() == 200 and np.trace(cm) > 100
    img = dd.confusion_image(cm)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and min(img.shape[:2]) > 200
