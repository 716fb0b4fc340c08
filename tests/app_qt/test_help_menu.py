"""The Help menu: shortcuts read off the real actions, filter examples that really work."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

import tracker_sdk
from app.qt.help_menu import FILTER_EXAMPLES, AboutDialog, FilterHelpDialog, ShortcutsDialog, shortcut_rows
from app.qt.main_window import MainWindow


@pytest.fixture()
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNWATCH_VIEWS", str(tmp_path / "views.json"))
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    yield w
    w.close()


def test_help_menu_lists_the_window_shortcuts_once_each(window, qtbot):
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus[-1] == "&Help"
    rows = shortcut_rows(window)
    where = {(k, w): t for k, t, w in rows}
    assert where["Ctrl+D", "Everywhere"] == "Compare selected"
    assert where["Ctrl+Shift+D", "Everywhere"] == "Compare all listed runs"
    assert where["Ctrl+L", "Everywhere"] == "Filter runs"
    assert where["Ctrl+Shift+C", "Artifacts"] == "Copy path"  # one key, two panes: both listed
    assert where["Ctrl+Shift+C", "Runs table"] == "Copy the selected runs' ids"
    assert where["Space", "Runs table"].startswith("Show or hide")
    assert len(where) == len(rows)  # each key once per place
    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == len(rows)
    assert [dialog.table.item(0, c).text() for c in range(3)] == list(rows[0])


def test_every_filter_example_runs_on_a_real_store(tmp_path, window, qtbot):
    store = tmp_path / "store"
    with tracker_sdk.init(experiment="e", name="trial-1", store=store, config={"lr": 0.01, "optimizer": "adam"},
                          tags={"seed": 1, "stage": "final"}) as run:
        run.log({"val/loss": 0.2})
    reader = tracker_sdk.Store(store)
    try:
        for text, _ in FILTER_EXAMPLES:
            reader.search_runs(filter=text)  # a syntax or field error would raise
        assert [r.name for r in reader.search_runs(filter=FILTER_EXAMPLES[0][0])] == ["trial-1"]
    finally:
        reader.close()
    dialog = FilterHelpDialog(window)
    qtbot.addWidget(dialog)
    assert "attributes.name LIKE" in dialog.text.text() and "parent_id" in dialog.text.text()


def test_about_names_the_version_and_the_open_store(tmp_path, window, qtbot):
    store = tmp_path / "store"
    with tracker_sdk.init(store=store) as run:
        run.log({"x": 1.0})
    window.open_store(store)
    qtbot.waitUntil(lambda: len(window.runs_model.rows) == 1, timeout=10_000)
    dialog = AboutDialog(window)
    qtbot.addWidget(dialog)
    text = dialog.text.text()
    assert tracker_sdk.__version__ in text and str(store.resolve()) in text
    assert window.settings.fileName() in text


def test_no_key_is_bound_twice_where_both_could_fire(window):
    """Qt fires neither of two actions whose shortcuts match at once (it reports them
    "ambiguous"): a window-wide key may not be bound anywhere else in the window, and two
    widget-level bindings of one key may not sit one inside the other."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QAction

    def widgets(action):
        return [w for w in action.associatedObjects() if hasattr(w, "isAncestorOf")]

    bound: dict[str, list] = {}
    for act in window.findChildren(QAction):
        for seq in act.shortcuts():
            bound.setdefault(seq.toString(), []).append(act)
    clashes = []
    for key, acts in bound.items():
        if len(acts) < 2:
            continue
        if any(a.shortcutContext() in (Qt.ShortcutContext.WindowShortcut,
                                       Qt.ShortcutContext.ApplicationShortcut) for a in acts):
            clashes.append((key, [a.text() or a.parent().objectName() for a in acts]))
            continue
        for i, a in enumerate(acts):
            for b in acts[i + 1:]:
                if any(x is y or x.isAncestorOf(y) or y.isAncestorOf(x)
                       for x in widgets(a) for y in widgets(b)):
                    clashes.append((key, [a.text(), b.text()]))
    assert clashes == []


def test_ctrl_l_reaches_the_filter_bar(window, qtbot, tmp_path):
    from PySide6.QtCore import Qt

    with tracker_sdk.init(store=tmp_path / "store") as run:
        run.log({"x": 1.0})
    window.open_store(tmp_path / "store")
    qtbot.waitUntil(lambda: len(window.runs_model.rows) == 1, timeout=10_000)
    window.show()
    with qtbot.waitActive(window):
        window.activateWindow()
    window.runs_view.table.setFocus()
    qtbot.keyClick(window.runs_view.table, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.runs_view.filter.hasFocus())


def test_runs_table_keys_act_on_the_selected_runs(window, qtbot, tmp_path):
    from PySide6.QtCore import Qt

    store = tmp_path / "store"
    with tracker_sdk.init(store=store, name="sweep") as parent:
        for i in range(2):
            with tracker_sdk.init(store=store, name=f"t{i}", parent=parent.id) as run:
                run.log({"x": 1.0})
    window.open_store(store)
    m = window.runs_model
    qtbot.waitUntil(lambda: len(m.rows) == 3, timeout=10_000)
    window.show()
    with qtbot.waitActive(window):
        window.activateWindow()
    table = window.runs_view.table
    table.setFocus()

    def names(ids):
        return [m.runs[r].name for r in ids]

    assert names(m.rows) == ["sweep", "t1", "t0"] and set(names(m.checked)) == {"t0", "t1"}
    window.runs_view.select_run(m.rows[1])
    qtbot.keyClick(table, Qt.Key.Key_Space)  # out of the charts
    assert set(names(m.checked)) == {"t0"}
    window.runs_view.select_run(m.rows[0])
    qtbot.keyClick(table, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)  # fold the sweep
    assert names(m.rows) == ["sweep"]
    qtbot.keyClick(table, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert names(m.rows) == ["sweep", "t1", "t0"]
    qtbot.keyClick(table, Qt.Key.Key_Delete)  # soft delete, undoable
    qtbot.waitUntil(lambda: names(m.rows) == ["t1", "t0"], timeout=10_000)
    qtbot.keyClick(table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: names(m.rows) == ["sweep", "t1", "t0"], timeout=10_000)
