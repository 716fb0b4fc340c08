"""The runs table model and view, driven through the model as the app does."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from app.core.columns import Column
from app.qt.runs_model import CHILDREN_ROLE, DEPTH_ROLE, EXPANDED_ROLE, RunsTableModel
from app.qt.runs_view import RunsView
from tracker_sdk.entities import MetricSummary, RunInfo, RunStatus


def run(i, status=RunStatus.FINISHED, loss=0.5, experiment="e", deleted=False):
    return RunInfo(id=f"r{i}", name=f"run-{i}", experiment=experiment, status=status, start_time=1000 * i,
                   end_time=None, params={"lr": str(10 ** -i)}, deleted=deleted,
                   metrics={"loss": MetricSummary("loss", loss, 1, loss, loss, 2, 0)})


@pytest.fixture()
def model(qtbot):
    m = RunsTableModel()
    m.set_columns([Column("name"), Column("status"), Column("param", "lr"), Column("metric", "loss")])
    m.apply({r.id: r for r in (run(1, loss=0.3), run(2, RunStatus.RUNNING, 0.1), run(3, RunStatus.CRASHED, 0.2))},
            reset=True)
    return m


def test_model_passes_qt_model_tester(qtmodeltester, model):
    qtmodeltester.check(model)


def test_newest_first_then_sorting_by_metric_keeps_missing_last(model):
    assert model.rows == ["r3", "r2", "r1"]
    model.apply({"r4": RunInfo(id="r4", name="no-loss", experiment="e", status=RunStatus.FINISHED,
                               start_time=4000, end_time=None)})
    model.sort(4, Qt.SortOrder.AscendingOrder)
    assert model.rows == ["r2", "r3", "r1", "r4"]
    model.sort(4, Qt.SortOrder.DescendingOrder)
    assert model.rows == ["r1", "r3", "r2", "r4"]


def test_live_update_changes_cells_and_appends_new_runs(model):
    row = model.row_of("r2")
    assert model.index(row, 4).data() == "0.1"
    model.apply({"r2": run(2, RunStatus.FINISHED, 0.05)})
    assert model.index(model.row_of("r2"), 4).data() == "0.05"
    assert model.index(model.row_of("r2"), 2).data() == "Finished"
    assert model.apply({"r9": run(9)}) == ["r9"]
    assert model.rows[0] == "r9"


def test_check_boxes_choose_the_runs_in_charts(qtbot, model):
    with qtbot.waitSignal(model.sig_checked_changed):
        model.setData(model.index(model.row_of("r1"), 0), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert [r.id for r in model.checked_runs()] == ["r1"]
    assert model.index(model.row_of("r1"), 0).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked


def test_crashed_and_failed_stand_out(model):
    idx = model.index(model.row_of("r3"), 2)
    assert idx.data() == "Crashed"
    assert idx.data(Qt.ItemDataRole.FontRole).bold()
    assert "heartbeat" in idx.data(Qt.ItemDataRole.ToolTipRole)


def test_scope_by_experiment_filter_and_deleted(model):
    model.apply({"r5": run(5, experiment="other"), "r6": run(6, deleted=True)})
    assert "r6" not in model.rows and "r5" in model.rows
    model.set_scope(experiment="e")
    assert set(model.rows) == {"r1", "r2", "r3"}
    model.set_scope(match={"r1"})
    assert model.rows == ["r1"]
    model.set_scope(experiment=None, match=None, show_deleted=True)
    assert "r6" in model.rows


def test_filter_syntax_error_is_shown_where_it_is(qtbot, model):
    view = RunsView(model)
    qtbot.addWidget(view)
    view.show()
    view.filter.setText("metrics.loss < ")
    with qtbot.assertNotEmitted(view.sig_filter_changed):
        view.filter.returnPressed.emit()
    assert view.error.isVisible()
    assert "position" in view.error.text()
    assert view.filter.property("error") == "true"
    view.filter.setText("metrics.loss < 0.25")
    with qtbot.waitSignal(view.sig_filter_changed) as sig:
        view.filter.returnPressed.emit()
    assert sig.args == ["metrics.loss < 0.25"]
    assert not view.error.isVisible()


def test_selection_is_reported_in_table_order(qtbot, model):
    view = RunsView(model)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.sig_selection_changed) as sig:
        view.select_run("r2")
    assert sig.args == [["r2"]]
    assert [a for a, _, _ in view.actions_for(["r1", "r2"])][0] == "compare"


def sweep_model():
    """A sweep run started first, three trials after it, and an unrelated run last."""
    m = RunsTableModel()
    m.set_columns([Column("name"), Column("metric", "loss")])
    runs = [RunInfo(id="sweep", name="sweep", experiment="e", status=RunStatus.FINISHED, start_time=1000,
                    end_time=None)]
    runs += [RunInfo(id=f"t{i}", name=f"trial-{i}", experiment="e", status=RunStatus.FINISHED,
                     start_time=1000 + 100 * i, end_time=None, parent_id="sweep",
                     metrics={"loss": MetricSummary("loss", 1.0 / i, i, 1.0 / i, 1.0 / i, i, 0)})
             for i in (1, 2, 3)]
    runs.append(RunInfo(id="solo", name="solo", experiment="e", status=RunStatus.FINISHED, start_time=9000,
                        end_time=None, metrics={"loss": MetricSummary("loss", 0.01, 1, 0.01, 0.01, 1, 0)}))
    m.apply({r.id: r for r in runs}, reset=True)
    return m


def name_cell(m, rid):
    return m.index(m.row_of(rid), 1)


def test_child_runs_are_listed_under_their_parent_and_sort_among_themselves(qtbot, qtmodeltester):
    m = sweep_model()
    qtmodeltester.check(m)
    assert m.rows == ["solo", "sweep", "t3", "t2", "t1"]  # newest first, trials under the sweep
    assert [name_cell(m, r).data(DEPTH_ROLE) for r in m.rows] == [0, 0, 1, 1, 1]
    assert name_cell(m, "sweep").data(CHILDREN_ROLE) == 3
    m.sort(2, Qt.SortOrder.AscendingOrder)  # by loss: the trials reorder, still under the sweep
    assert m.rows == ["solo", "sweep", "t3", "t2", "t1"] and m.index(m.row_of("t3"), 2).data() == "0.333333"
    m.sort(2, Qt.SortOrder.DescendingOrder)
    assert m.rows == ["solo", "sweep", "t1", "t2", "t3"]  # the sweep has no loss: last of the top level
    m.set_nested(False)
    assert m.rows == ["t1", "t2", "t3", "solo", "sweep"]
    assert name_cell(m, "t1").data(DEPTH_ROLE) == 0
    m.set_columns([*m.columns, Column("parent")])  # flat: a Parent column says whose trial it is
    assert [m.index(m.row_of(r), 3).data() for r in ("t1", "solo")] == ["sweep", ""]


def test_collapsing_a_parent_hides_its_children_but_keeps_them_charted(qtbot):
    m = sweep_model()
    m.set_checked(["t1", "t2"])
    m.set_collapsed("sweep", True)
    assert m.rows == ["solo", "sweep"] and name_cell(m, "sweep").data(EXPANDED_ROLE) is False
    assert [r.id for r in m.checked_runs()] == ["t2", "t1"]  # still in the charts
    assert len(m.listed_ids) == 5
    # A new trial arriving live joins the folded sweep without unfolding it.
    assert m.apply({"t4": RunInfo(id="t4", name="trial-4", experiment="e", status=RunStatus.RUNNING,
                                  start_time=1400, end_time=None, parent_id="sweep")}) == ["t4"]
    assert m.rows == ["solo", "sweep"] and name_cell(m, "sweep").data(CHILDREN_ROLE) == 4
    assert m.reveal("t2") == m.rows.index("t2") and m.rows == ["solo", "sweep", "t4", "t3", "t2", "t1"]
    m.set_all_collapsed(True)
    assert m.rows == ["solo", "sweep"]
    m.set_all_collapsed(False)
    assert len(m.rows) == 6


def test_a_click_on_the_arrow_folds_and_the_selection_stays_on_its_run(qtbot):
    m = sweep_model()
    view = RunsView(m)
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    qtbot.waitExposed(view)
    view.select_run("solo")
    rect = view.table.visualRect(name_cell(m, "sweep"))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.topLeft() + QPoint(10, rect.height() // 2))
    assert m.rows == ["solo", "sweep"]
    assert view.count.text() == "5 runs · 0 in charts"  # folded runs still count
    view.select_run("t2")  # e.g. clicked in a sweep view: unfolds the parent to show it
    assert "t2" in m.rows and view.selected_ids() == ["t2"]
    m.apply({"t0": RunInfo(id="t0", name="early", experiment="e", status=RunStatus.FINISHED, start_time=9500,
                           end_time=None)})
    assert m.rows[0] == "t0" and view.selected_ids() == ["t2"]  # rows moved; the selection did not
    view.set_children_shown(["sweep"], False)
    assert "t2" not in m.rows
    assert [a for a, _, _ in view.actions_for(["sweep"])].count("expand") == 1
