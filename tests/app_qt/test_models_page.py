"""The Models page on an MLflow database with a registry written by the real MLflow."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))
from mlflow_fixtures import HAVE_MLFLOW, REGISTRY_SCRIPT, run_mlflow  # noqa: E402

from app.core.models_table import HEADERS  # noqa: E402
from app.qt.main_window import MainWindow  # noqa: E402



@pytest.fixture(scope="module")
def registry_db(tmp_path_factory):
    if not HAVE_MLFLOW:
        pytest.skip("MLflow is not installed (pip install -e '.[test]')")
    work = tmp_path_factory.mktemp("models-page")
    run_mlflow(REGISTRY_SCRIPT, work)
    return work / "mlflow.db"


@pytest.fixture()
def window(qtbot, tmp_path):
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1300, 800)
    w.show()
    yield w
    w.close()


def test_versions_with_stage_and_alias_link_to_their_runs(qtbot, window, registry_db):
    window.open_store(registry_db)
    qtbot.waitUntil(lambda: len(window.runs_model.runs) == 2, timeout=20_000)
    window.tabs.setCurrentWidget(window.models)
    table = window.models.table
    qtbot.waitUntil(lambda: table.row_count() == 2, timeout=10_000)
    col = {h: i for i, h in enumerate(HEADERS)}
    rows = {table.cell(r, col["Version"]): r for r in range(2)}
    v1, v2 = rows["1"], rows["2"]
    assert table.cell(v1, col["Stage"]) == "Production" and table.cell(v2, col["Aliases"]) == "champion"
    assert table.cell(v1, col["Source run"]) == "first-fit" and table.cell(v2, col["Source run"]) == "second-fit"
    assert table.cell(v2, col["Description"]) == "lower rmse" and table.cell(v2, col["Tags"]) == "validated=yes"
    assert "wine-quality" in window.models.models.item(1).text()
    window.models.models.setCurrentRow(1)
    assert "@champion → v2" in window.models.about.text()

    # Double-click: the version's run, selected, in the Run tab.
    table.view.doubleClicked.emit(table.proxy.index(v2, 0))
    second = next(r.id for r in window.runs_model.runs.values() if r.name == "second-fit")
    assert window.runs_view.selected_ids() == [second]
    assert window.tabs.currentWidget() is window.detail


def test_a_store_without_a_registry_says_so(qtbot, window, tmp_path):
    import tracker_sdk

    with tracker_sdk.init(store=tmp_path / "s", name="r") as run:
        run.log({"x": 1.0})
    window.open_store(tmp_path / "s")
    qtbot.waitUntil(lambda: len(window.runs_model.runs) == 1, timeout=20_000)
    window.tabs.setCurrentWidget(window.models)
    qtbot.waitUntil(lambda: window.models.empty.isVisible(), timeout=10_000)
    assert "No registered models" in window.models.empty.text()


def test_a_version_registered_elsewhere_appears_while_the_page_shows(qtbot, window, tmp_path):
    import tracker_sdk

    store = tmp_path / "s"
    with tracker_sdk.init(store=store, name="trained") as run:
        run.log({"x": 1.0})
        (tmp_path / "weights.bin").write_bytes(b"\0" * 16)
        run.log_model(tmp_path / "weights.bin", name="model")
    window.open_store(store)
    qtbot.waitUntil(lambda: len(window.runs_model.runs) == 1, timeout=20_000)
    window.tabs.setCurrentWidget(window.models)
    qtbot.waitUntil(lambda: window.models.empty.isVisible(), timeout=10_000)
    other = tracker_sdk.Store(store)  # as another script or `runwatch models register` would
    other.register_model(f"runs:/{run.id}/model", "taxi")
    other.close()
    qtbot.waitUntil(lambda: window.models.table.row_count() == 1, timeout=10_000)
    assert window.models.table.cell(0, 0) == "taxi" and window.models.table.cell(0, 5) == "trained"


# --- editing on a native store ---------------------------------------------------------------


def _undo_action(window):
    """The window's Edit ▸ Undo (Ctrl+Z)."""
    from PySide6.QtGui import QAction, QKeySequence

    undo = QKeySequence(QKeySequence.StandardKey.Undo)
    return next(a for a in window.findChildren(QAction) if a.shortcut() == undo)


def _row(table, version: int) -> int:
    return next(r for r in range(table.row_count()) if table.cell(r, HEADERS.index("Version")) == str(version))


def _cells(table, column: str) -> dict[int, str]:
    col = HEADERS.index(column)
    return {int(table.cell(r, 1)): table.cell(r, col) for r in range(table.row_count())}


@pytest.fixture()
def native_store(tmp_path):
    """Model "taxi" at v1 (Production) and v2, each from a run of its own."""
    import tracker_sdk

    store = tmp_path / "s"
    (tmp_path / "weights.bin").write_bytes(b"\0" * 16)
    ids = []
    for name in ("first-fit", "second-fit"):
        with tracker_sdk.init(store=store, name=name) as run:
            run.log_model(tmp_path / "weights.bin", name="model")
        ids.append(run.id)
    writer = tracker_sdk.Store(store)
    for rid in ids:
        writer.register_model(f"runs:/{rid}/model", "taxi")
    writer.transition_model_version_stage("taxi", 1, "Production")
    writer.close()
    return store


def _open_models_page(qtbot, window, store, rows: int) -> None:
    window.open_store(store)
    qtbot.waitUntil(lambda: len(window.runs_model.runs) == rows, timeout=20_000)
    window.tabs.setCurrentWidget(window.models)
    qtbot.waitUntil(lambda: window.models.table.row_count() == 2, timeout=10_000)


def test_alias_and_stage_set_on_the_page_are_undone_by_ctrl_z(qtbot, window, native_store, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    _open_models_page(qtbot, window, native_store, rows=2)
    page, table = window.models, window.models.table
    assert page.toolbar.isVisible()
    table.view.selectRow(_row(table, 2))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("champion", True)))
    page.alias_action.trigger()
    qtbot.waitUntil(lambda: _cells(table, "Aliases") == {1: "", 2: "champion"}, timeout=10_000)

    # The edited version stays selected; Production with "archive the others" archives v1.
    assert page.remove_alias_menu.actions()[0].text() == "@champion"
    page.archive_action.setChecked(True)
    page.stage_actions["Production"].trigger()
    qtbot.waitUntil(lambda: _cells(table, "Stage") == {1: "Archived", 2: "Production"}, timeout=10_000)

    undo = _undo_action(window)
    undo.trigger()  # the stage, of both versions
    qtbot.waitUntil(lambda: _cells(table, "Stage") == {1: "Production", 2: "None"}, timeout=10_000)
    undo.trigger()  # the alias
    qtbot.waitUntil(lambda: _cells(table, "Aliases") == {1: "", 2: ""}, timeout=10_000)


def test_a_description_is_edited_and_an_alias_removed_on_the_page(qtbot, window, native_store, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    import tracker_sdk

    writer = tracker_sdk.Store(native_store)
    writer.set_model_alias("taxi", "champion", 1)
    writer.close()
    _open_models_page(qtbot, window, native_store, rows=2)
    page, table = window.models, window.models.table
    table.view.selectRow(_row(table, 1))
    monkeypatch.setattr(QInputDialog, "getMultiLineText", staticmethod(lambda *a, **k: ("lower rmse", True)))
    page.describe_action.trigger()
    qtbot.waitUntil(lambda: _cells(table, "Description")[1] == "lower rmse", timeout=10_000)
    page.remove_alias_menu.actions()[0].trigger()
    qtbot.waitUntil(lambda: _cells(table, "Aliases")[1] == "", timeout=10_000)
    _undo_action(window).trigger()
    qtbot.waitUntil(lambda: _cells(table, "Aliases")[1] == "champion", timeout=10_000)


def test_a_bad_alias_is_refused_with_the_reason_and_nothing_changes(qtbot, window, native_store, monkeypatch):
    from PySide6.QtWidgets import QInputDialog, QMessageBox

    _open_models_page(qtbot, window, native_store, rows=2)
    page, table = window.models, window.models.table
    table.view.selectRow(_row(table, 2))
    warned = []
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("v3", True)))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda _p, _t, text, *a: warned.append(text)))
    page.alias_action.trigger()
    assert warned and "reserved" in warned[0]
    assert window.controller.undo.count() == 0


def test_an_mlflow_store_opened_in_place_offers_no_model_edits(qtbot, window, registry_db, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    _open_models_page(qtbot, window, registry_db, rows=2)
    page, table = window.models, window.models.table
    table.view.selectRow(0)
    assert not page.toolbar.isVisible()
    edits = [page.alias_action, page.describe_action, page.stage_menu.menuAction(), page.remove_alias_menu.menuAction()]
    assert not any(a.isEnabled() for a in edits)
    asked = []
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: asked.append(a) or ("x", True)))
    page.alias_action.trigger()  # e.g. from a stale menu: still nothing
    assert not asked and window.controller.undo.count() == 0
