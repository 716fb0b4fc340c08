"""Window layout, last store, chosen columns and chart settings survive a restart."""

from __future__ import annotations

from PySide6.QtCore import QSettings

import tracker_sdk
from app.core.chart_settings import ChartSettings
from app.core.columns import Column
from app.qt.main_window import MainWindow


def test_state_is_remembered_across_restarts(qtbot, tmp_path):
    store = tmp_path / "store"
    for lr in (0.1, 0.01):
        with tracker_sdk.init(experiment="e", store=store, config={"lr": lr, "depth": 4}) as run:
            run.log({"loss": lr})
    ini = str(tmp_path / "settings.ini")

    first = MainWindow(QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.resize(760, 620)
    first.show()
    first.open_store(store)
    qtbot.waitUntil(lambda: len(first.runs_model.rows) == 2, timeout=10_000)
    first.runs_view._toggle_column(Column("param", "depth"), True)
    first.charts.set_settings(ChartSettings(smoothing=0.3, log_y=True, x_axis="relative"))
    first.split_main.setSizes([340, 420])
    first.close()

    second = MainWindow(QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    second.show()
    assert (second.width(), second.height()) == (760, 620)
    s = second.charts.settings()
    assert (s.smoothing, s.log_y, s.x_axis) == (0.3, True, "relative")
    assert second.settings.value("store/last") == str(store.resolve())
    assert str(store.resolve()) in second.welcome.recent.item(0).text()
    second.open_store(second.settings.value("store/last"))
    qtbot.waitUntil(lambda: len(second.runs_model.rows) == 2, timeout=10_000)
    assert "params.depth" in [c.id for c in second.runs_model.columns]
    assert abs(second.split_main.sizes()[0] - 340) <= 10
    second.close()


def test_nesting_and_deleted_runs_toggles_are_remembered(qtbot, tmp_path):
    store = tmp_path / "store"
    with tracker_sdk.init(experiment="e", name="sweep", store=store) as parent:
        for i in range(2):
            with tracker_sdk.init(experiment="e", name=f"trial-{i}", store=store, parent=parent.id) as run:
                run.log({"loss": 1.0 / (i + 1)})
    with tracker_sdk.init(experiment="e", name="gone", store=store) as run:
        gone = run.id
    tracker_sdk.Store(store).delete_run(gone)
    ini = str(tmp_path / "settings.ini")

    first = MainWindow(QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.open_store(store)
    qtbot.waitUntil(lambda: len(first.runs_model.rows) == 3, timeout=10_000)
    names = [first.runs_model.runs[r].name for r in first.runs_model.rows]
    assert names == ["sweep", "trial-1", "trial-0"]  # trials under their sweep
    # The trials are charted by default, not the sweep run that holds them.
    assert {first.runs_model.runs[r].name for r in first.runs_model.checked} == {"trial-0", "trial-1"}
    sweep = next(r for r in first.runs_model.rows if first.runs_model.runs[r].name == "sweep")
    first.runs_view.set_children_shown([sweep], False)  # folded: remembered for this store
    assert len(first.runs_model.rows) == 1
    first.close()

    again = MainWindow(QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.open_store(store)
    qtbot.waitUntil(lambda: len(again.runs_model.listed_ids) == 3, timeout=10_000)
    assert [again.runs_model.runs[r].name for r in again.runs_model.rows] == ["sweep"]
    assert {again.runs_model.runs[r].name for r in again.runs_model.checked} == {"trial-0", "trial-1"}
    again.runs_view.set_children_shown([sweep], True)
    first = again
    first.nest_action.trigger()
    first.deleted_action.trigger()
    assert [first.runs_model.runs[r].name for r in first.runs_model.rows] == ["gone", "trial-1", "trial-0", "sweep"]
    first.close()

    second = MainWindow(QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert not second.nest_action.isChecked() and second.deleted_action.isChecked()
    second.open_store(store)
    qtbot.waitUntil(lambda: len(second.runs_model.rows) == 4, timeout=10_000)
    assert [second.runs_model.runs[r].name for r in second.runs_model.rows] == ["gone", "trial-1", "trial-0", "sweep"]
    second.close()
