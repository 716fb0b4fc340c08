"""Chart exports (app.qt.charts.export): PNG at a chosen size and DPI, SVG, and the charts'
full-resolution data as CSV (never the decimated curves); the panel and toolbar menus."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage

from app.core.chart_settings import ChartSettings
from app.core.smoothing import ema_debiased
from app.qt.charts import ChartsView, export

T0 = 1_700_000_000_000
RUNS = [("r1", "alpha, the first", "#4e79a7", T0), ("r2", 'beta "2"', "#dd740e", T0)]
N = 100_000


def data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    steps = np.arange(n, dtype=np.int64)
    values = np.exp(-steps / (n / 3)) + 0.05 * rng.standard_normal(n)
    return steps, values, T0 + 250 * steps


@pytest.fixture
def view(qtbot):
    v = ChartsView(settings=ChartSettings(smoothing=0.0))
    qtbot.addWidget(v)
    v.resize(1200, 800)
    v.show()
    v.set_runs(RUNS)
    v.set_keys(["train/loss", "val/loss"])
    for i, (rid, *_rest) in enumerate(RUNS):
        v.set_series(rid, "train/loss", *data(N, i))
        v.set_series(rid, "val/loss", *data(500, 10 + i))
    v.redraw_now()
    return v


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_png_has_the_requested_size_and_dpi(view, tmp_path):
    plot = view.plot("train/loss")
    geometry, width = plot.getPlotItem().geometry(), plot.vb.width()
    path = tmp_path / "chart.png"
    export.export_png(plot, path, 1000, 640, 300)
    img = QImage(str(path))
    assert (img.width(), img.height()) == (1000, 640)
    assert img.dotsPerMeterX() * 0.0254 == pytest.approx(300, abs=0.1)
    assert img.dotsPerMeterY() * 0.0254 == pytest.approx(300, abs=0.1)
    # something was drawn in the run colour, and the panel on screen is as before
    colours = {img.pixelColor(x, y).name() for x in range(0, 1000, 4) for y in range(0, 640, 4)}
    assert any(_near(c, "#4e79a7") for c in colours)
    assert plot.getPlotItem().geometry() == geometry
    assert plot.vb.width() == pytest.approx(width, abs=12)  # axes may fit their labels anew
    export.export_png(plot, path, 400, 400, 72)  # another aspect ratio, the lowest DPI
    img = QImage(str(path))
    assert (img.width(), img.height(), round(img.dotsPerMeterX() * 0.0254)) == (400, 400, 72)


def _near(a: str, b: str, tol: int = 40) -> bool:
    ca, cb = QColor(a), QColor(b)
    return all(abs(x - y) <= tol for x, y in zip(ca.getRgb()[:3], cb.getRgb()[:3]))


def test_png_with_the_crosshair_up_shows_the_legend_not_the_line(view, tmp_path):
    view.show_crosshair_at(500.0)
    plot = view.plot("val/loss")
    export.export_png(plot, tmp_path / "c.png", 800, 500, 150)
    assert QImage(str(tmp_path / "c.png")).width() == 800
    assert plot.vline.isVisible() and not plot.legend.isVisible()  # restored


def test_svg_parses(view, tmp_path):
    path = tmp_path / "chart.svg"
    export.export_svg(view.plot("val/loss"), path)
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    assert "<svg" in path.read_text(encoding="utf-8")


def test_csv_holds_every_point_not_the_decimated_curve(view, tmp_path):
    plot = view.plot("train/loss")
    assert len(plot.drawn("r1")[0]) < 10_000  # what is drawn is decimated
    path = tmp_path / "data.csv"
    assert export.export_csv(view, path, keys=["train/loss"]) == 2 * N
    rows = read_csv(path)
    assert rows[0] == ["run_id", "run_name", "key", "step", "timestamp_ms", "value"]
    body = rows[1:]
    assert len(body) == 2 * N
    for i, (rid, name, *_rest) in enumerate(RUNS):
        mine = body[i * N:(i + 1) * N]
        steps, values, ts = data(N, i)
        assert {(r[0], r[1], r[2]) for r in mine} == {(rid, name, "train/loss")}
        np.testing.assert_array_equal([int(r[3]) for r in mine], steps)  # logged order
        np.testing.assert_array_equal([int(r[4]) for r in mine], ts)
        np.testing.assert_array_equal([float(r[5]) for r in mine], values)  # exact


def test_csv_of_all_shown_charts_with_smoothed_column(view, tmp_path):
    view.set_settings(replace(view.settings(), smoothing=0.8))
    path = tmp_path / "all.csv"
    assert export.export_csv(view, path) == 2 * (N + 500)
    rows = read_csv(path)
    assert rows[0][-1] == "smoothed"
    val = [r for r in rows[1:] if r[0] == "r2" and r[2] == "val/loss"]
    _, values, _ = data(500, 11)
    np.testing.assert_allclose([float(r[6]) for r in val], ema_debiased(values, 0.8))
    # logged order even when steps are not sorted
    view.set_series("r1", "val/loss", np.array([5, 3, 4]), np.array([1.0, 2.0, 3.0]),
                    np.array([T0, T0 + 1, T0 + 2]))
    export.export_csv(view, path, keys=["val/loss"])
    assert [r[3] for r in read_csv(path)[1:4]] == ["5", "3", "4"]


def test_cancelled_csv_leaves_no_file(view, tmp_path):
    items, missing = export.csv_items(view)
    assert missing == 0 and len(items) == 4
    with pytest.raises(InterruptedError):
        export.write_csv(tmp_path / "x.csv", items, cancelled=lambda: True)
    assert list(tmp_path.iterdir()) == []


def test_csv_job_writes_in_the_background(view, tmp_path, qtbot):
    items, _ = export.csv_items(view, ["train/loss"])
    results = []
    export.CsvExportJob(view, str(tmp_path / "bg.csv"), items, 0.0, results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=10_000)
    assert results == [2 * N] and len(read_csv(tmp_path / "bg.csv")) == 2 * N + 1


def test_panel_context_menu_and_toolbar_export_menu(view, qtbot, monkeypatch):
    plot = view.plot("val/loss")
    menu = export.plot_menu(view, plot)
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts == ["Export chart as PNG…", "Export chart as SVG…", "Export data as CSV…"]
    # a right click on the plot opens it

    class Click:
        def button(self):
            return Qt.MouseButton.RightButton

        def double(self):
            return False

        def accept(self):
            pass

        def screenPos(self):  # noqa: N802 - pyqtgraph API
            return QPointF(10, 10)

    plot.scene().sigMouseClicked.emit(Click())
    assert view._menu is not None and view._menu.isVisible()
    view._menu.close()
    asked = []
    monkeypatch.setattr(export, "csv_dialog", lambda v, keys, stem: asked.append((keys, stem)))
    view.toolbar.export.menu().actions()[0].trigger()
    assert asked == [(None, "charts")]


def test_png_and_csv_dialog_flows(view, tmp_path, qtbot, monkeypatch):
    opts = export.PngOptions(view)
    assert opts.values() == (1600, 1000, 200)
    assert (opts.dpi.minimum(), opts.dpi.maximum()) == (72, 600)
    monkeypatch.setattr(export.PngOptions, "exec", lambda self: export.QDialog.DialogCode.Accepted)
    monkeypatch.setattr(export.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "dlg"), ""))
    export.png_dialog(view, view.plot("val/loss"))
    img = QImage(str(tmp_path / "dlg.png"))  # the extension is added
    assert (img.width(), img.height(), round(img.dotsPerMeterX() * 0.0254)) == (1600, 1000, 200)
    assert export.csv_dialog(view, ["val/loss"], "val/loss") is not None
    qtbot.waitUntil(lambda: (tmp_path / "dlg.csv").exists(), timeout=10_000)  # moved in whole
    assert len(read_csv(tmp_path / "dlg.csv")) == 2 * 500 + 1
