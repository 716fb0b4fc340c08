"""The Models page on an MLflow database with a registry written by the real MLflow."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))
from mlflow_fixtures import REGISTRY_SCRIPT, needs_mlflow, run_mlflow  # noqa: E402

from app.core.models_table import HEADERS  # noqa: E402
from app.qt.main_window import MainWindow  # noqa: E402

pytestmark = needs_mlflow


@pytest.fixture(scope="module")
def registry_db(tmp_path_factory):
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
