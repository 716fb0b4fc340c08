"""The compare table on a real store written through the SDK."""

from __future__ import annotations

import csv
import dataclasses
import io

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication

import tracker_sdk
from app.core.compare import MISSING
from app.qt.compare import CompareTableView
from app.qt.compare.table_model import FIRST_RUN_COL, KEY_COL, VALUE_ROLE
from app.qt.compare.table_view import EMPTY_TEXT
from app.qt.workers import Worker
from tracker_sdk.entities import MetricSummary

COLORS = {}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("cmp") / "s"
    configs = [{"lr": 0.1, "opt": "adam", "layers": 2, "warmup": 9},
               {"lr": 0.01, "opt": "adam", "layers": 10, "warmup": 9, "batch": 100},
               {"lr": 0.001, "opt": "adam", "layers": 3, "warmup": 9},
               {"lr": 0.1, "opt": "adam", "warmup": 9}]  # run-3 has no "layers"
    for i, cfg in enumerate(configs):
        run = tracker_sdk.init(store=path, experiment="e", name=f"run-{i}", config=cfg)
        # val/loss is best (lowest) at step 1 for every run; acc best at the last step.
        for step, (loss, acc) in enumerate([(1.0, 0.5), (0.2 + i / 100, 0.6), (0.4, 0.7 + i / 100)]):
            run.log({"val/loss": loss, "acc": acc}, step=step)
        run.finish()
    s = tracker_sdk.Store(path)
    yield s
    s.close()


@pytest.fixture()
def runs(store):
    return sorted(store.search_runs(experiment="e"), key=lambda r: r.name)


@pytest.fixture()
def view(qtbot, runs):
    v = CompareTableView()
    qtbot.addWidget(v)
    v.resize(1100, 650)
    v.set_runs(runs, {r.id: c for r, c in zip(runs, ["#4e79a7", "#dd740e", "#e15759", "#529d97"])})
    return v


def row_of(view, key, section=None):
    m = view.model
    for i, r in enumerate(m.rows):
        if r.key == key and (section is None or r.section == section):
            return i
    return None


def cells(view, key):
    m = view.model
    i = row_of(view, key)
    return [m.index(i, c).data() for c in range(FIRST_RUN_COL, m.columnCount())]


def test_model_passes_qt_model_tester(qtmodeltester, view):
    qtmodeltester.check(view.model)


def test_rows_per_param_metric_and_environment(view, runs):
    m = view.model
    assert m.columnCount() == FIRST_RUN_COL + 4
    assert [m.headerData(c, Qt.Orientation.Horizontal) for c in range(FIRST_RUN_COL, 6)] == [
        "run-0", "run-1", "run-2", "run-3"]
    assert m.headerData(FIRST_RUN_COL, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == runs[0].id
    assert not m.headerData(FIRST_RUN_COL, Qt.Orientation.Horizontal, Qt.ItemDataRole.DecorationRole).isNull()
    assert cells(view, "lr") == ["0.1", "0.01", "0.001", "0.1"]
    assert cells(view, "opt") == ["adam"] * 4
    assert cells(view, "val/loss · last") == ["0.4"] * 4
    assert cells(view, "val/loss · min") == ["0.2", "0.21", "0.22", "0.23"]
    assert cells(view, "acc · max") == ["0.7", "0.71", "0.72", "0.73"]
    sections = {r.section for r in m.rows}
    assert sections == {"param", "metric", "env"}
    assert cells(view, "host") == [runs[0].host] * 4
    assert m.index(row_of(view, "lr"), 0).data() == "param"


def test_missing_param_is_a_dash_and_the_row_differs(view):
    m = view.model
    i = row_of(view, "layers")
    assert cells(view, "layers") == ["2", "10", "3", MISSING]
    assert m.index(i, FIRST_RUN_COL + 3).data(VALUE_ROLE) is None
    assert m.rows[i].differs
    assert m.index(i, KEY_COL).data(Qt.ItemDataRole.FontRole).bold()
    assert m.index(i, FIRST_RUN_COL).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert m.index(i, FIRST_RUN_COL + 3).data(Qt.ItemDataRole.ForegroundRole) is not None  # grey
    same = row_of(view, "opt")
    assert not m.rows[same].differs
    assert m.index(same, FIRST_RUN_COL).data(Qt.ItemDataRole.BackgroundRole) is None


def test_differences_only_and_search(view):
    total = len(view.model.rows)
    view.diff_only.setChecked(True)
    assert row_of(view, "opt") is None and row_of(view, "val/loss · last") is None
    assert row_of(view, "lr") is not None and all(r.differs for r in view.model.rows)
    view.diff_only.setChecked(False)
    assert len(view.model.rows) == total
    view.search.setText("LOSS")
    assert {r.key for r in view.model.rows} == {f"val/loss · {s}" for s in ("last", "min", "max", "best_step")}
    assert "4 of" in view.count.text()
    view.search.clear()
    assert len(view.model.rows) == total


def numbers(values):
    out = []
    for v in values:
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            pass
    return out


def test_sorting_by_a_run_column_is_numeric_with_missing_last(view):
    view.table.sortByColumn(FIRST_RUN_COL + 1, Qt.SortOrder.AscendingOrder)  # run-1
    vals = [r.values[1] for r in view.model.rows]
    assert vals.index("9") < vals.index("10") < vals.index("100")  # as text "9" would be last
    assert numbers(vals) == sorted(numbers(vals))
    assert vals[: len(numbers(vals))] == [v for v in vals if numbers([v])]  # numbers, then text
    view.table.sortByColumn(FIRST_RUN_COL + 3, Qt.SortOrder.DescendingOrder)  # run-3 lacks some
    vals = [r.values[3] for r in view.model.rows]
    n_missing = vals.count(None)  # layers, batch, and best steps (no worker here)
    assert {"layers", "batch"} <= {r.key for r in view.model.rows[-n_missing:]}
    assert vals[-n_missing:] == [None] * n_missing
    assert numbers(vals) == sorted(numbers(vals), reverse=True)
    view.table.sortByColumn(KEY_COL, Qt.SortOrder.AscendingOrder)
    keys = [r.key.casefold() for r in view.model.rows]
    assert keys == sorted(keys)


def test_copy_markdown_csv_tsv_and_save(view, tmp_path):
    clip = QGuiApplication.clipboard()
    view.copy_md_button.click()
    md = clip.text()
    assert md.splitlines()[0] == "| section | key | run-0 | run-1 | run-2 | run-3 |"
    assert "| param | layers | 2 | 10 | 3 | — |" in md
    view.copy_csv_button.click()
    rows = list(csv.reader(io.StringIO(clip.text())))
    assert rows[0] == ["section", "key", "run-0", "run-1", "run-2", "run-3"]
    assert ["param", "layers", "2", "10", "3", ""] in rows
    out = view.save_csv(str(tmp_path / "c.csv"))
    with open(out, newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == rows
    i = row_of(view, "layers")
    sel = view.table.selectionModel()
    for c in (KEY_COL, FIRST_RUN_COL + 2, FIRST_RUN_COL + 3):
        sel.select(view.model.index(i, c), QItemSelectionModel.SelectionFlag.Select)
    view.copy_selection()
    assert clip.text() == "layers\t3\t\n"


def test_ctrl_c_copies_the_selected_cells(qtbot, view):
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    view.table.setFocus()
    i = row_of(view, "lr")
    sel = view.table.selectionModel()
    for c in (FIRST_RUN_COL, FIRST_RUN_COL + 1):
        sel.select(view.model.index(i, c), QItemSelectionModel.SelectionFlag.Select)
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(view.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "0.1\t0.01\n"


def test_live_snapshot_updates_a_cell_and_keeps_the_view_state(qtbot, view, runs):
    view.search.setText("val/loss")
    view.table.sortByColumn(FIRST_RUN_COL, Qt.SortOrder.AscendingOrder)
    before = [r.key for r in view.model.rows]
    r0 = runs[0]
    new = dict(r0.metrics)
    new["val/loss"] = MetricSummary("val/loss", 0.05, 3, 0.05, 1.0, 4, 0)
    snap = dataclasses.replace(r0, metrics=new)
    view.set_runs([snap, *runs[1:]], {})
    assert cells(view, "val/loss · last")[0] == "0.05"
    assert view.search.text() == "val/loss"
    assert view.model.sort_column == FIRST_RUN_COL
    assert sorted(r.key for r in view.model.rows) == sorted(before)


def test_live_updates_keep_the_scroll_position(qtbot, view, runs):
    view.resize(700, 260)
    view.show()
    qtbot.waitExposed(view)
    bar = view.table.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(bar.maximum())
    top = bar.value()
    view.set_runs([dataclasses.replace(runs[0], params={**runs[0].params, "lr": "0.5"}), *runs[1:]], {})
    assert cells(view, "lr")[0] == "0.5" and bar.value() == top
    # A new key (rows added: the model resets) still comes back to the same place.
    view.set_runs([dataclasses.replace(runs[0], params={**runs[0].params, "zz": "1"}), *runs[1:]], {})
    assert row_of(view, "zz") is not None
    qtbot.waitUntil(lambda: bar.value() == top)


def test_best_step_filled_by_the_worker(qtbot, store, runs):
    worker = Worker()
    v = CompareTableView()
    qtbot.addWidget(v)
    v.set_runs(runs, {}, store=store, worker=worker)
    # (No check of the "before" state: Worker may deliver synchronously when the job is quick.)
    qtbot.waitUntil(lambda: cells(v, "val/loss · best_step") == ["1"] * 4, timeout=5000)
    assert cells(v, "acc · best_step") == ["2"] * 4
    calls = []
    orig = store.metric_history
    store.metric_history = lambda *a: calls.append(a) or orig(*a)
    try:
        v.set_runs(runs, {}, store=store, worker=worker)  # unchanged counts: nothing to read
        # submit() counts a job as pending before it returns: nothing pending = nothing asked for.
        assert worker.pending == 0 and calls == []
    finally:
        del store.metric_history
        worker.shutdown()


def test_best_step_is_unknown_without_the_series(view):
    assert cells(view, "val/loss · best_step") == [MISSING] * 4


def test_empty_state_and_run_header_click(qtbot, view, runs):
    with qtbot.waitSignal(view.sig_run_clicked) as sig:
        view.table.horizontalHeader().sectionClicked.emit(FIRST_RUN_COL + 1)
    assert sig.args == [runs[1].id]
    view.set_runs(runs[:1], {})
    assert view.stack.currentWidget() is view.empty and view.empty.text() == EMPTY_TEXT
