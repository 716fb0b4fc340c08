"""Sweep views (parallel coordinates, scatter, what mattered) on synthetic runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from app.qt.sweep import N_BUCKETS, SweepView
from app.qt.sweep.parallel_items import MISSING_Y
from tracker_sdk.entities import MetricSummary, RunInfo, RunStatus


def summary(key, v):
    return MetricSummary(key, v, 10, v, v, 10, 0)


def run(i, params, **metrics):
    return RunInfo(id=f"r{i}", name=f"run-{i}", experiment="e", status=RunStatus.FINISHED, start_time=i,
                   end_time=None, params=params,
                   metrics={k.replace("__", "/"): summary(k.replace("__", "/"), v) for k, v in metrics.items()})


def sweep(n=60, seed=0):
    """lr log-uniform 1e-5..1e-1 drives val/loss; the rest is noise. Every 7th run has no dropout."""
    rng = np.random.default_rng(seed)
    runs = []
    for i in range(n):
        lr = 10 ** rng.uniform(-5, -1)
        params = {"lr": f"{lr:.4g}", "batch_size": str(int(rng.choice([32, 64, 128]))),
                  "optimizer": str(rng.choice(["adam", "sgd"]))}
        if i % 7:
            params["dropout"] = f"{rng.uniform(0, 0.5):.3f}"
        loss = 0.2 - 0.1 * math.log10(lr) + rng.normal(0, 0.05)
        runs.append(run(i, params, val__loss=loss, train__acc=1 - loss / 2))
    return runs


@pytest.fixture()
def view(qtbot):
    v = SweepView()
    qtbot.addWidget(v)
    v.resize(1000, 600)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_defaults_to_validation_loss_and_numbered_axes(view):
    view.set_runs(sweep())
    assert view.color_by() == ("val/loss", "last")
    pc = view.parallel
    assert pc.visible_params() == ["batch_size", "dropout", "lr", "optimizer"]
    assert pc.axis_keys[-1] == pc.metric_axis_key
    assert pc.axis("lr").kind == "log"
    assert "0.001" in [label for _pos, label in pc.ticks("lr")]  # log axis labelled in real units
    assert [label for _pos, label in pc.ticks("batch_size")] == ["32", "64", "128"]


def test_missing_param_is_drawn_at_the_missing_slot_not_at_zero(view):
    runs = [run(0, {"lr": "0.1", "dropout": "0"}, val__loss=0.5),
            run(1, {"lr": "0.2"}, val__loss=0.4),
            run(2, {"lr": "0.3", "dropout": "0.5"}),  # no metric either
            run(3, {"lr": "0.4", "dropout": "0.25"}, val__loss=0.3)]
    view.set_runs(runs)
    pc = view.parallel
    j = pc.axis_keys.index("dropout")
    m = pc.axis_keys.index(pc.metric_axis_key)
    assert pc.polyline_points("r1")[j, 1] == pytest.approx(MISSING_Y)
    assert pc.polyline_points("r0")[j, 1] == pytest.approx(0.0)  # a real zero sits on the axis
    assert pc.polyline_points("r3")[j, 1] == pytest.approx(0.5)
    assert pc.polyline_points("r2")[m, 1] == pytest.approx(MISSING_Y)
    assert list(pc.polyline_points("r0")[:, 0]) == list(range(len(pc.axis_keys)))
    assert view.parallel.data.color.bucket[2] == -1  # no metric: neutral colour, not "worst"


def test_mixed_type_param_gets_a_categorical_axis_with_labels(view):
    runs = [run(i, {"act": v, "lr": str(0.1 * (i + 1))}, val__loss=0.1 * i)
            for i, v in enumerate(["relu", "0.5", "gelu", "relu", "1"])]
    view.set_runs(runs)
    pc = view.parallel
    ax = pc.axis("act")
    assert ax.kind == "categorical"
    assert [label for _p, label in pc.ticks("act")] == ["0.5", "1", "gelu", "relu"]
    j = pc.axis_keys.index("act")
    ys = {r.params["act"]: pc.polyline_points(r.id)[j, 1] for r in runs}
    assert ys["relu"] == pytest.approx((3 + 0.5) / 4)
    assert len(set(ys.values())) == 4 and min(ys.values()) > 0


def test_brushing_emits_exactly_the_runs_in_range_and_clearing_emits_none(view, qtbot):
    runs = sweep()
    view.set_runs(runs)
    lo, hi = 1e-4, 1e-2
    with qtbot.waitSignal(view.sig_brushed) as blocker:
        view.parallel.set_brush("lr", math.log10(lo), math.log10(hi))
    expected = {r.id for r in runs if lo <= float(r.params["lr"]) <= hi}
    assert 0 < len(expected) < len(runs)
    assert blocker.args[0] == expected
    assert view.brushed_ids() == expected
    # A second brush narrows (AND); missing dropout never passes an active brush.
    with qtbot.waitSignal(view.sig_brushed) as blocker:
        view.parallel.set_brush("dropout", 0.0, 0.25)
    both = {r.id for r in runs if r.id in expected and "dropout" in r.params and float(r.params["dropout"]) <= 0.25}
    assert blocker.args[0] == both
    assert view.scatter._highlight == both  # the scatter fades the rest
    with qtbot.waitSignal(view.sig_brushed) as blocker:
        view.parallel.clear_brush()
    assert blocker.args[0] is None
    assert view.parallel.passing_mask() is None


def test_categorical_brush_and_double_click_clears_one_axis(view, qtbot):
    runs = sweep()
    view.set_runs(runs)
    pc = view.parallel
    adam = pc.axis("optimizer").labels.index("adam")
    with qtbot.waitSignal(view.sig_brushed) as blocker:
        pc.set_brush("optimizer", adam, adam)
    assert blocker.args[0] == {r.id for r in runs if r.params["optimizer"] == "adam"}
    j = pc.axis_keys.index("optimizer")
    with qtbot.waitSignal(view.sig_brushed) as blocker:
        _double_click(qtbot, pc, j, 0.5)
    assert blocker.args[0] is None


def test_dragging_along_an_axis_creates_a_brush(view, qtbot):
    view.set_runs(sweep())
    pc = view.parallel
    j = pc.axis_keys.index("lr")
    with qtbot.waitSignal(view.sig_brushed):
        _drag(qtbot, pc, j, 0.9, 0.5)
    lo, hi = pc.brushes()["lr"]
    ax = pc.axis("lr")
    span = ax.range[1] - ax.range[0]
    assert lo == pytest.approx(ax.range[0] + 0.5 * span, abs=0.03 * span)
    assert hi == pytest.approx(ax.range[0] + 0.9 * span, abs=0.03 * span)


def test_live_set_runs_keeps_the_brush_and_reports_new_runs(view, qtbot):
    runs = sweep()
    view.set_runs(runs)
    view.parallel.set_brush("lr", -4.0, -2.0)
    view.set_metric("val/loss", "min")  # metric axis changes, the lr brush stays
    assert "lr" in view.parallel.brushes()
    newcomer = run(999, {"lr": "0.001", "batch_size": "64", "optimizer": "adam"}, val__loss=0.4)
    with qtbot.waitSignal(view.sig_brushed) as blocker:
        view.set_runs([*runs, newcomer])
    assert view.parallel.brushes()["lr"] == pytest.approx((-4.0, -2.0))
    assert "r999" in blocker.args[0]
    assert view.color_by() == ("val/loss", "min")


def test_click_names_the_run_and_hover_reports_it(view, qtbot):
    runs = sweep(20)
    view.set_runs(runs)
    pc = view.parallel
    j = pc.axis_keys.index("lr")
    target = max(runs, key=lambda r: float(r.params["lr"]))  # alone at the top of the lr axis
    y = pc.polyline_points(target.id)[j, 1]
    with qtbot.waitSignal(view.sig_run_clicked) as blocker:
        qtbot.mouseClick(pc.plot.viewport(), Qt.MouseButton.LeftButton, pos=_pixel(pc, j + 0.02, y))
    assert blocker.args == [target.id]
    assert pc.run_at(pc._vb.mapViewToScene(QPointF(j + 0.02, y))) == runs.index(target)
    with qtbot.waitSignal(view.sig_run_hovered) as blocker:
        pc._on_mouse_moved(pc._vb.mapViewToScene(QPointF(j + 0.02, y)))
    assert blocker.args == [target.id] and len(pc._hover_item.getData()[0]) == len(pc.axis_keys)
    with qtbot.waitSignal(view.sig_run_hovered) as blocker:
        QApplication.sendEvent(pc.plot.viewport(), QEvent(QEvent.Type.Leave))
    assert blocker.args == [""]


def test_scatter_excludes_missing_runs_and_counts_them(view):
    runs = sweep()
    view.set_runs(runs)
    view.set_tab(1)
    sc = view.scatter
    sc.set_x(("param", "dropout"))
    sc.set_y(("metric", "val/loss", "last"))
    missing = {r.id for r in runs if "dropout" not in r.params}
    shown = sc.shown()
    assert sc.missing_count == len(missing) > 0
    assert set(shown["ids"]) == {r.id for r in runs} - missing
    assert not np.isnan(shown["x"]).any()
    assert sc.missing_label.text() == f"{len(missing)} runs missing x or y"
    sc.set_x(("param", "optimizer"))
    assert sc.x_axis._tickLevels[0] == [(0.0, "adam"), (1.0, "sgd")]  # categorical axis labels
    assert sc.missing_count == 0


def test_colour_is_reversed_when_lower_is_better(view):
    runs = sweep()
    view.set_runs(runs)
    best_loss = min(range(len(runs)), key=lambda i: runs[i].metrics["val/loss"].last)
    assert view.parallel.data.color.bucket[best_loss] == N_BUCKETS - 1
    view.set_metric("train/acc")
    best_acc = max(range(len(runs)), key=lambda i: runs[i].metrics["train/acc"].last)
    assert view.parallel.data.color.bucket[best_acc] == N_BUCKETS - 1


def test_importance_puts_the_param_that_drives_the_metric_first(view, qtbot, qtmodeltester):
    view.set_runs(sweep(200))
    view.set_tab(2)
    imp = view.importance
    qtmodeltester.check(imp.model)
    assert imp.order()[0] == "lr"
    corr = [imp.proxy.index(r, 2).data(Qt.ItemDataRole.UserRole + 1) for r in range(imp.proxy.rowCount())]
    assert corr == sorted(corr, reverse=True)
    row = imp.proxy.index(0, 2)
    assert "Spearman" in row.data(Qt.ItemDataRole.ToolTipRole)
    cat = next(r for r in range(imp.proxy.rowCount()) if imp.proxy.index(r, 0).data() == "optimizer")
    assert imp.proxy.index(cat, 2).data().startswith("η")
    with qtbot.waitSignal(imp.sig_param_chosen) as blocker:
        imp.table.clicked.emit(imp.proxy.index(1, 0))
    assert view.scatter.x_spec() == ("param", blocker.args[0])
    assert view.tabs.currentIndex() == 1


def test_axes_menu_choice_sticks_across_snapshots(view):
    runs = sweep()
    view.set_runs(runs)
    view.parallel.set_visible_params(["lr", "optimizer"])
    view.set_runs(runs[:-1])
    assert view.parallel.axis_keys == ["lr", "optimizer", view.parallel.metric_axis_key]
    view.parallel._fill_axes_menu()
    act = next(a for a in view.parallel.axes_menu.actions() if a.text() == "dropout")
    act.trigger()
    assert view.parallel.visible_params() == ["lr", "optimizer", "dropout"]


def test_scatter_click_and_hover_name_the_run(view, qtbot):
    runs = sweep(30)
    view.set_runs(runs)
    view.set_tab(1)
    sc = view.scatter
    sc.set_x(("param", "lr"))
    i = int(sc.points_item.data["data"][-1])  # drawn last: on top
    x, y = sc.points_item.data["x"][-1], sc.points_item.data["y"][-1]
    sc.plot.getViewBox().updateAutoRange()  # pyqtgraph settles it on the next paint; do it now
    pos = sc.plot.mapFromScene(sc.plot.getViewBox().mapViewToScene(QPointF(x, y)))
    with qtbot.waitSignal(view.sig_run_clicked) as blocker:
        qtbot.mouseClick(sc.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [runs[i].id]
    assert sc._tip(x, y, i).splitlines()[0] == runs[i].name


def test_no_runs_and_no_metrics(view):
    view.set_runs([])
    assert view.stack.currentWidget() is view.empty
    view.set_runs([run(0, {"a": "1"}), run(1, {"a": "2"})])
    assert view.color_by() == (None, "last")
    assert view.parallel.axis_keys == ["a"]
    view.set_tab(1)
    view.set_tab(2)


def test_selected_run_is_marked_and_min_stat_drives_importance(view):
    runs = sweep(80)
    view.set_runs(runs)
    view.set_current_run("r3")
    assert len(view.parallel._sel_item.getData()[0]) == len(view.parallel.axis_keys)
    view.set_tab(1)
    assert len(view.scatter._sel_item.data) == 1
    view.set_metric("val/loss", "min")
    assert view.parallel.titles[-1] == "val/loss · min"
    assert view.importance_rows()[0].key == "lr"
    with pytest.raises(ValueError):
        view.set_metric("val/loss", "median")


def test_hidden_panel_waits_until_shown_and_same_snapshot_is_free(qtbot):
    from PySide6.QtWidgets import QLabel, QTabWidget

    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    view = SweepView()
    tabs.addTab(QLabel("runs"), "Runs")
    tabs.addTab(view, "Sweep")
    tabs.show()
    qtbot.waitExposed(tabs)
    runs = sweep()
    view.set_runs(runs)
    assert view.parallel.data is None  # hidden: nothing computed yet
    tabs.setCurrentIndex(1)
    assert view.parallel.data is not None and len(view.parallel.data) == len(runs)
    data = view.parallel.data
    view.set_runs(list(runs))  # the very same snapshots: nothing to redo
    assert view.parallel.data is data


def test_theme_change_restyles_live_views_and_ignores_deleted_ones(qtbot):
    from app.qt.theme import apply_theme, current_theme

    gone = SweepView()
    gone.set_runs(sweep(10))
    gone.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    live = SweepView()
    qtbot.addWidget(live)
    live.set_runs(sweep(10))
    live.show()
    before = current_theme()
    try:
        apply_theme(QApplication.instance(), "dark")
        assert live.parallel.plot.backgroundBrush().color().name() == "#1e1f22"
    finally:
        apply_theme(QApplication.instance(), before)


# ------------------------------------------------------------------------------- helpers
def _pixel(pc, x, y):
    scene = pc._vb.mapViewToScene(QPointF(x, y))
    return pc.plot.mapFromScene(scene)


def _send(widget, kind, pos, buttons):
    ev = QMouseEvent(kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), Qt.MouseButton.LeftButton,
                     buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)


def _drag(qtbot, pc, j, y0, y1):
    vp = pc.plot.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=_pixel(pc, j, y0))
    for f in np.linspace(0, 1, 6)[1:]:
        _send(vp, QEvent.Type.MouseMove, _pixel(pc, j, y0 + (y1 - y0) * f), Qt.MouseButton.LeftButton)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=_pixel(pc, j, y1))


def _double_click(qtbot, pc, j, y):
    vp = pc.plot.viewport()
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=_pixel(pc, j, y))
    qtbot.mouseDClick(vp, Qt.MouseButton.LeftButton, pos=_pixel(pc, j, y))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=_pixel(pc, j, y))
