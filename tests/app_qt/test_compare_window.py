"""Compare in its own window (still live), and comparing everything the table lists."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

import tracker_sdk
from app.qt.compare.table_model import FIRST_RUN_COL
from app.qt.compare_window import GEOMETRY_KEY
from app.qt.main_window import MainWindow


def compared(window, key):
    """The side-by-side table's cells of row ``key``, one per run."""
    m = window.compare.table.model
    row = next(i for i, r in enumerate(m.rows) if r.key == key)
    return [m.index(row, c).data() for c in range(FIRST_RUN_COL, m.columnCount())]


@pytest.fixture()
def store(tmp_path):
    path = tmp_path / "store"
    for i, lr in enumerate((0.1, 0.01, 0.001)):
        with tracker_sdk.init(experiment="e", name=f"run-{i}", store=path, config={"lr": lr}) as run:
            run.log({"loss": lr})
    return path


@pytest.fixture()
def window(qtbot, tmp_path, store, monkeypatch):
    monkeypatch.setenv("RUNWATCH_VIEWS", str(tmp_path / "views.json"))
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    w.open_store(store)
    qtbot.waitUntil(lambda: len(w.runs_model.rows) == 3, timeout=10_000)
    yield w
    w.close()


def test_compare_all_listed_runs_follows_the_filter(qtbot, window):
    w = window
    w.controller.set_filter("params.lr < 0.05")
    qtbot.waitUntil(lambda: len(w.runs_model.rows) == 2, timeout=10_000)
    w.compare_listed()
    assert w.tabs.currentWidget() is w.compare
    assert sorted(w.runs_model.runs[i].name for i in w.compare.ids) == ["run-1", "run-2"]
    assert w.compare.title.text() == "Comparing 2 runs"


def test_compare_pops_out_stays_live_and_comes_back(qtbot, window, store):
    w = window
    w.show_compare(w.runs_model.listed_runs())
    w.compare.pop_out.click()
    dock = w.compare_dock
    assert dock.popped and dock.window.isVisible() and w.compare.window() is dock.window
    assert w.tabs.widget(w.tabs.currentIndex()) is dock.placeholder  # the tab says where it went
    # Still live in its own window: a new value of a compared run shows up there.
    first = w.compare.ids[0]
    run = tracker_sdk.init(store=store, resume=first)
    run.log({"loss": 42.0})
    run.finish()
    qtbot.waitUntil(lambda: "42" in compared(w, "loss · last"), timeout=10_000)
    # The sweep views follow the table while the window shows them, not only in the tab.
    w.compare.tabs.setCurrentWidget(w.compare.sweep)
    qtbot.waitUntil(lambda: len(w.compare.sweep.shown_runs()) == 3, timeout=5_000)
    dock.window.close()  # closing the window puts Compare back in its tab
    assert not dock.popped and w.tabs.indexOf(w.compare) == 3 and w.tabs.indexOf(dock.placeholder) == -1
    assert not w.settings.value(GEOMETRY_KEY).isEmpty()  # reopens where it was


def test_quitting_while_compare_is_out_remembers_its_window(qtbot, window):
    w = window
    w.show_compare(w.runs_model.listed_runs())
    w.compare.pop_out.click()
    w.compare_dock.window.resize(900, 600)
    w.close()  # closes the compare window with it
    assert not w.compare_dock.popped and w.tabs.indexOf(w.compare) == 3
    assert not w.settings.value(GEOMETRY_KEY).isEmpty()
