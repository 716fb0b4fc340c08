"""End to end: the demo sweep, from selecting it in the real window to CSV files on disk.

Select the sweep, compare its trials, show them in the charts, then export the runs table and
the full-resolution series through the functions the File menu's actions call, and check every
cell against the store.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

import tracker_sdk
from app.core.columns import Column
from app.demo import SWEEP_EXPERIMENT, make_demo
from app.qt.export_actions import export_runs_csv, export_series_csv
from app.qt.main_window import MainWindow

STEPS = 300


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "store"
    return make_demo(path, steps=STEPS), path


@pytest.fixture()
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNWATCH_VIEWS", str(tmp_path / "views.json"))
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    yield w
    w.close()


def _read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _same(text: str, value: float) -> bool:
    return math.isnan(value) and text == "nan" if math.isnan(value) else float(text) == value


def test_sweep_from_selection_to_csv_exports(qtbot, window, demo, tmp_path):
    result, path = demo
    trials, sweep_id = result["trial_ids"], result["parent_id"]
    w = window
    w.open_store(path)
    qtbot.waitUntil(lambda: len(w.runs_model.rows) == 15, timeout=20_000)

    # The sweep's experiment, then the sweep run itself, selected in the table.
    exps = w.experiments
    exps.setCurrentItem(next(exps.item(i) for i in range(exps.count())
                             if exps.item(i).data(Qt.ItemDataRole.UserRole) == SWEEP_EXPERIMENT))
    assert len(w.runs_model.rows) == 13
    w.runs_view.select_run(sweep_id)
    assert w.runs_view.selected_ids() == [sweep_id]
    assert "compare_children" in [a for a, _l, _i in w.runs_view.actions_for([sweep_id])]

    # Compare the sweep's trials: the compare table shows all 12, in start order.
    w.controller.run_action("compare_children", w.runs_view.selected_ids())
    assert w.tabs.currentWidget() is w.compare
    shown = [r.id for r in w.compare.table.model.runs]
    assert shown == trials and w.compare.title.text() == "Comparing 12 runs"
    model = w.compare.table.model
    lr_row = next(i for i in range(model.rowCount()) if model.value(i, 1) == "optimizer.lr")
    store = tracker_sdk.Store(path)
    assert [model.value(lr_row, 2 + j) for j in range(len(trials))] == \
        [store.get_run(t).params["optimizer.lr"] for t in trials]

    # Show exactly the trials in the charts; add a param and a metric column; sort by val/loss.
    w.controller.run_action("show_only", trials)
    assert w.runs_model.checked == set(trials)
    w.runs_view._toggle_column(Column("param", "optimizer.lr"), True)  # as the Columns menu does
    w.runs_view._toggle_column(Column("metric", "val/loss", "min"), True)
    w.runs_view.table.sortByColumn(len(w.runs_model.columns), Qt.SortOrder.AscendingOrder)

    # Runs table → CSV: one row per listed run, in the table's order, values from the store.
    runs_csv = tmp_path / "runs.csv"
    assert export_runs_csv(w, runs_csv) == 13
    assert w.statusBar().currentMessage() == f"Exported 13 runs to {runs_csv}"
    rows = _read(runs_csv)
    head, body = rows[0], rows[1:]
    cols = w.runs_model.columns
    assert head == ["id", *[("Duration (s)" if c.kind == "duration" else c.title) for c in cols]]
    assert [r[0] for r in body] == w.runs_model.rows
    assert set(r[0] for r in body) == set(trials) | {sweep_id}
    params = [c for c in cols if c.kind == "param"]
    assert len(params) >= 2 and any(c.key == "optimizer.lr" for c in params)
    for r in body:
        run = store.get_run(r[0])
        assert r[head.index("Name")] == run.name
        assert r[head.index("Status")] == run.status.value.capitalize()
        for c in params:
            assert r[1 + cols.index(c)] == run.params.get(c.key, "")
        loss_min = r[head.index("val/loss (min)")]
        if "val/loss" in run.metrics:
            assert _same(loss_min, run.metrics["val/loss"].min)
        else:
            assert loss_min == ""  # the sweep run has no val/loss of its own
    mins = [float(r[head.index("val/loss (min)")]) for r in body if r[head.index("val/loss (min)")]]
    finite = [m for m in mins if not math.isnan(m)]
    assert finite == sorted(finite)  # the file follows the table's sort

    # Series of the runs in the charts → CSV, full resolution, on the worker.
    series = tmp_path / "series.csv"
    future = export_series_csv(w, series)
    assert future is not None
    qtbot.waitUntil(lambda: w.statusBar().currentMessage().startswith("Exported"), timeout=30_000)
    rows = _read(series)
    assert rows[0] == ["run_id", "run_name", "key", "step", "timestamp_ms", "value"]
    got: dict[tuple[str, str], list[list[str]]] = {}
    for r in rows[1:]:
        got.setdefault((r[0], r[2]), []).append(r)
    expected = {(rid, k): store.metric_history(rid, k) for rid in trials for k in store.metric_keys([rid])}
    assert set(got) == set(expected)  # every key of every checked run, nothing of the others
    total = 0
    for (rid, key), h in expected.items():
        part = got[(rid, key)]
        assert len(part) == len(h), (rid, key)
        assert {p[1] for p in part} == {store.get_run(rid).name}
        assert [int(p[3]) for p in part] == h.steps.tolist()
        assert [int(p[4]) for p in part] == h.timestamps.tolist()
        assert np.array_equal(np.array([float(p[5]) for p in part]), h.values, equal_nan=True)
        total += len(h)
    assert len(expected[(trials[0], "train/loss")]) == STEPS  # every step, not a decimated curve
    assert future.result() == total
    assert w.statusBar().currentMessage() == f"Exported {total:,} points to {series}"
    failed = result["failed_id"]
    assert any(p[5] in ("nan", "inf") for p in got[(failed, "train/loss")])  # the diverged trial
    store.close()


def test_exports_explain_themselves_when_there_is_nothing_to_export(qtbot, window, demo, tmp_path):
    w = window
    assert export_runs_csv(w, tmp_path / "x.csv") is None
    assert "Open a store" in w.statusBar().currentMessage()
    w.open_store(demo[1])
    qtbot.waitUntil(lambda: len(w.runs_model.rows) == 15, timeout=20_000)
    w.runs_model.set_checked([])
    assert export_series_csv(w, tmp_path / "s.csv") is None
    assert "No runs in the charts" in w.statusBar().currentMessage()
    # A folder that does not exist: a one-line message in the window, no traceback, no file.
    assert export_runs_csv(w, tmp_path / "missing" / "runs.csv") is None
    assert w.message_frame.isVisible() and "Could not export the runs table" in w.message.text()
    w.runs_model.set_checked(w.runs_model.rows[:2])
    fut = export_series_csv(w, tmp_path / "missing" / "s.csv")
    qtbot.waitUntil(lambda: fut.done() and w.session.worker.pending == 0, timeout=20_000)
    assert "Could not export the series" in w.message.text()
    assert not (tmp_path / "missing").exists()
