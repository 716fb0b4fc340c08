"""Chart exports: a panel as PNG (chosen size and DPI) or SVG, the charts' data as CSV.

The CSV holds the full-resolution arrays the view was given (never the decimated curves),
in long format, one row per logged point in logged order. The ``export_*`` functions
need no dialog (tests, scripts); the menus and dialogs at the bottom wrap them.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtCore import QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QMenu, QMessageBox, QProgressDialog,
    QSpinBox, QWidget,
)

from app.core.fileio import atomic_writer
from app.core.smoothing import ema_debiased

CSV_HEADER = ("run_id", "run_name", "key", "step", "timestamp_ms", "value")
DPI_MIN, DPI_MAX = 72, 600
#: The DPI at which the on-screen layout (fonts, pen widths) maps 1:1 to pixels.
SCREEN_DPI = 96.0
_CHUNK = 50_000  # rows per progress report / cancellation check
_last = {"dir": "", "size": (1600, 1000, 200)}


# ==================================================================== images
def export_png(plot: pg.PlotWidget, path: str | os.PathLike[str], width: int = 1600,
               height: int = 1000, dpi: int = 200) -> None:
    """Render ``plot`` to a ``width`` x ``height`` px PNG tagged with ``dpi``.

    The chart is laid out at ``width`` x ``height`` * 96 / ``dpi`` and drawn scaled up, so
    text and lines keep their point sizes at the given DPI (1600 x 1000 at 200 DPI:
    an 8 x 5 inch figure with 9 pt titles), curves drawn as much wider and re-decimated
    for the export size.
    """
    width, height = int(width), int(height)
    dpi = min(max(int(dpi), DPI_MIN), DPI_MAX)
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    scale = dpi / SCREEN_DPI
    with _laid_out(plot, width / scale, height / scale, pen_scale=max(scale, 1.0)) as item:
        exporter = ImageExporter(item)
        exporter.params.param("width").setValue(width, blockSignal=exporter.widthChanged)
        exporter.params.param("height").setValue(height, blockSignal=exporter.heightChanged)
        image = exporter.export(toBytes=True)
    dpm = round(dpi / 0.0254)
    image.setDotsPerMeterX(dpm)
    image.setDotsPerMeterY(dpm)
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")


def export_svg(plot: pg.PlotWidget, path: str | os.PathLike[str]) -> None:
    """Write ``plot`` as SVG, at its on-screen size (vector: scales without loss).

    pyqtgraph's SVGExporter first; its path clean-up fails on the closed paths Qt 6.11
    writes ("... Z", pyqtgraph issue #3495, in 0.14.0), and then Qt's QSvgGenerator
    renders the same scene (valid SVG, just without pyqtgraph's per-item grouping)."""
    with _laid_out(plot, None, None) as item:
        try:
            SVGExporter(item).export(str(path))
        except ValueError:
            _svg_with_qt(item, str(path), getattr(plot, "key", "chart"))
    if not Path(path).is_file():
        raise OSError(f"could not write {path}")


def _svg_with_qt(item: Any, path: str, title: str) -> None:
    rect = item.sceneBoundingRect()
    w, h = max(round(rect.width()), 1), max(round(rect.height()), 1)
    gen = QSvgGenerator()
    gen.setFileName(path)
    gen.setSize(QSize(w, h))
    gen.setViewBox(QRectF(0, 0, w, h))
    gen.setResolution(round(SCREEN_DPI))
    gen.setTitle(title)
    painter = QPainter(gen)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(QRectF(0, 0, w, h), item.scene().views()[0].backgroundBrush())
        item.scene().render(painter, QRectF(0, 0, w, h), rect)
    finally:
        painter.end()


class _laid_out:  # noqa: N801 - used like a function
    """Context: the plot's PlotItem laid out at (w, h) (None: as is), curves and bands
    redrawn for that size (pens ``pen_scale`` wider), crosshair hidden, legend shown and
    scaled, item caches off; all restored afterwards."""

    def __init__(self, plot: pg.PlotWidget, w: float | None, h: float | None,
                 pen_scale: float = 1.0) -> None:
        self.plot, self.size, self.pen_scale = plot, (w, h), pen_scale
        self.item = plot.getPlotItem()

    def __enter__(self) -> Any:
        self.geometry = QRectF(self.item.geometry())
        self.hidden = [i for i in (getattr(self.plot, "vline", None),) if i and i.isVisible()]
        for i in self.hidden:
            i.hide()
        legend, state = getattr(self.plot, "legend", None), getattr(self.plot, "state", None)
        self.shown = [legend] if (legend is not None and legend.items and not legend.isVisible()
                                  and getattr(state, "show_legend", False)) else []
        for i in self.shown:  # hidden under the crosshair readout, which is not exported
            i.show()
        if self.pen_scale != 1.0 and hasattr(self.plot, "set_pen_scale"):
            self.plot.set_pen_scale(self.pen_scale)
        items = self.item.scene().items()
        self.cached = [(i, i.cacheMode()) for i in items if i.cacheMode() != i.CacheMode.NoCache]
        for i, _ in self.cached:
            i.setCacheMode(i.CacheMode.NoCache)
        # The legend ignores the view's scale (constant size on screen); an export scales it.
        flag = pg.QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations
        self.unscaled = [i for i in items if i.flags() & flag]
        for i in self.unscaled:
            i.setFlag(flag, False)
        if self.size[0] is not None:
            self.item.setGeometry(QRectF(0, 0, *self.size))
            self.item.layout.activate()
            self._redraw()
        return self.item

    def __exit__(self, *exc: Any) -> None:
        if self.size[0] is not None:
            self.item.setGeometry(self.geometry)
            self.item.layout.activate()
            self._redraw()
        for i, mode in self.cached:
            i.setCacheMode(mode)
        for i in self.unscaled:
            i.setFlag(pg.QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        for i in self.hidden:
            i.show()
        for i in self.shown:
            i.hide()
        if self.pen_scale != 1.0 and hasattr(self.plot, "set_pen_scale"):
            self.plot.set_pen_scale(1.0)

    def _redraw(self) -> None:
        vb = self.item.getViewBox()
        x_range = tuple(float(v) for v in vb.viewRange()[0])
        if hasattr(self.plot, "render") and hasattr(self.plot, "pixels"):
            self.plot.render(x_range)  # a MetricPlot: decimate for the new width
        bands = getattr(self.plot, "bands", None)
        if bands is not None:
            bands.sync(x_range, force=True)


# ==================================================================== CSV
def csv_items(view: Any, keys: Sequence[str] | None = None) -> tuple[list[tuple], int]:
    """(run_id, run_name, key, Series) of every shown run and chart key whose data is
    loaded, in legend then panel order; and how many such series are not loaded."""
    keys = view.shown_keys() if keys is None else list(keys)
    items, missing = [], 0
    for run in view.shown_runs():
        for key in keys:
            s = view.series(run.run_id, key)
            if s is None:
                missing += 1
            elif len(s):
                items.append((run.run_id, run.name, key, s))
    return items, missing


def write_csv(path: str | os.PathLike[str], items: Sequence[tuple], smoothing: float = 0.0,
              progress: Callable[[int, int], None] | None = None,
              cancelled: Callable[[], bool] | None = None) -> int:
    """Write ``items`` (run_id, run_name, key, Series) in long format; a ``smoothed``
    column when ``smoothing`` > 0 (the charts' EMA over each full series, logged order).
    Numbers at full precision (``repr``). Written to a temporary file moved into place,
    so a failed or cancelled export leaves no partial file. Returns the rows written."""
    total = sum(len(s) for *_, s in items)
    header = CSV_HEADER + (("smoothed",) if smoothing > 0 else ())
    done = 0
    with atomic_writer(path) as f:
        csv.writer(f).writerow(header)
        for run_id, name, key, s in items:
            # The same fields on every row: quoted once by the csv module; the numbers
            # by an f-string (2.5x faster than csv.writer; repr = what it would write).
            lead = io.StringIO()
            csv.writer(lead, lineterminator="").writerow([run_id, name, key])
            prefix = lead.getvalue() + ","
            cols = [np.asarray(s.steps).tolist(), np.asarray(s.timestamps).tolist(),
                    _floats(s.values)]
            if smoothing > 0:
                cols.append(_floats(ema_debiased(s.values, smoothing)))
            n = len(cols[0])
            for a in range(0, n, _CHUNK):
                if cancelled is not None and cancelled():
                    raise InterruptedError("export cancelled")
                b = min(a + _CHUNK, n)
                part = [c[a:b] for c in cols]
                if smoothing > 0:
                    lines = [f"{prefix}{st},{t},{v!r},{sm!r}\r\n"
                             for st, t, v, sm in zip(*part)]
                else:
                    lines = [f"{prefix}{st},{t},{v!r}\r\n" for st, t, v in zip(*part)]
                f.write("".join(lines))
                done += b - a
                if progress is not None:
                    progress(done, total)
    return done


def _floats(a: np.ndarray) -> list[float]:
    return np.asarray(a, dtype=np.float64).tolist()  # csv writes repr: full precision


def export_csv(view: Any, path: str | os.PathLike[str], keys: Sequence[str] | None = None) -> int:
    """Every point of every shown run for ``keys`` (default: the panels shown) as CSV;
    returns the rows written."""
    items, _ = csv_items(view, keys)
    return write_csv(path, items, view.settings().smoothing)


class _Relay(QObject):
    progress = Signal(int, int)
    finished = Signal(object)  # rows written, or the exception


class CsvExportJob(QObject):
    """Writes the CSV on a worker thread behind a progress dialog (shown after 0.4 s)."""

    def __init__(self, parent: QWidget, path: str, items: list[tuple], smoothing: float,
                 on_done: Callable[[object], None]) -> None:
        super().__init__(parent)
        self._cancel = threading.Event()
        self.dialog = QProgressDialog("Exporting chart data…", "Cancel", 0, 1000, parent)
        self.dialog.setWindowTitle("Export CSV")
        self.dialog.setMinimumDuration(400)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.canceled.connect(self._cancel.set)
        self._relay = _Relay(self)
        self._relay.progress.connect(lambda d, t: self.dialog.setValue(int(1000 * d / max(t, 1))))
        self._relay.finished.connect(self._finish)
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="runwatch-csv")
        relay = self._relay

        def run() -> None:
            try:
                result: object = write_csv(path, items, smoothing,
                                           lambda d, t: relay.progress.emit(d, t),
                                           self._cancel.is_set)
            except BaseException as e:  # noqa: BLE001 - reported on the GUI thread
                result = e
            try:
                relay.finished.emit(result)
            except RuntimeError:
                pass

        self._pool.submit(run)
        self._pool.shutdown(wait=False)

    def _finish(self, result: object) -> None:
        self.dialog.reset()
        self.dialog.deleteLater()
        self._on_done(result)
        self.deleteLater()


# ==================================================================== menus and dialogs
class PngOptions(QDialog):
    """Width, height (px) and DPI of a PNG export."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export chart as PNG")
        w, h, dpi = _last["size"]
        self.width_px, self.height_px, self.dpi = QSpinBox(self), QSpinBox(self), QSpinBox(self)
        for box, value, lo, hi, suffix in ((self.width_px, w, 16, 20000, " px"),
                                           (self.height_px, h, 16, 20000, " px"),
                                           (self.dpi, dpi, DPI_MIN, DPI_MAX, " dpi")):
            box.setRange(lo, hi)
            box.setValue(value)
            box.setSuffix(suffix)
        self.dpi.setToolTip("Text and lines keep their point size at this resolution")
        form = QFormLayout(self)
        form.addRow("Width", self.width_px)
        form.addRow("Height", self.height_px)
        form.addRow("Resolution", self.dpi)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, parent=self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[int, int, int]:
        return self.width_px.value(), self.height_px.value(), self.dpi.value()


def _file_name(stem: str, ext: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem).strip("_") or "chart"
    return str(Path(_last["dir"] or Path.home()) / f"{safe}.{ext}")


def _ask_path(parent: QWidget, title: str, stem: str, ext: str, filt: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, _file_name(stem, ext), filt)
    if not path:
        return None
    if not path.lower().endswith("." + ext):
        path += "." + ext
    _last["dir"] = str(Path(path).parent)
    return path


def _report(parent: QWidget, what: str, error: BaseException) -> None:
    QMessageBox.warning(parent, "Export failed", f"Could not export {what}:\n{error}")


def png_dialog(view: Any, plot: pg.PlotWidget) -> None:
    opts = PngOptions(view)
    if opts.exec() != QDialog.DialogCode.Accepted:
        return
    _last["size"] = opts.values()
    path = _ask_path(view, "Export chart as PNG", plot.key, "png", "PNG image (*.png)")
    if path:
        try:
            export_png(plot, path, *opts.values())
        except Exception as e:  # noqa: BLE001 - shown to the user
            _report(view, "the chart", e)


def svg_dialog(view: Any, plot: pg.PlotWidget) -> None:
    path = _ask_path(view, "Export chart as SVG", plot.key, "svg", "SVG image (*.svg)")
    if path:
        try:
            export_svg(plot, path)
        except Exception as e:  # noqa: BLE001 - shown to the user
            _report(view, "the chart", e)


def csv_dialog(view: Any, keys: Sequence[str] | None, stem: str) -> CsvExportJob | None:
    """Ask for a file, then write the data of ``keys`` (None: every shown panel)."""
    items, missing = csv_items(view, keys)
    if not items:
        QMessageBox.information(view, "Export CSV", "No data loaded for the shown charts yet.")
        return None
    path = _ask_path(view, "Export chart data as CSV", stem, "csv", "CSV (*.csv)")
    if not path:
        return None

    def done(result: object) -> None:
        if isinstance(result, InterruptedError):
            return
        if isinstance(result, BaseException):
            _report(view, "the data", result)
            return
        note = f" ({missing} series still loading were skipped)" if missing else ""
        msg = f"Exported {result:,} points to {Path(path).name}{note}"
        if hasattr(view.window(), "statusBar"):
            view.window().statusBar().showMessage(msg, 6000)

    return CsvExportJob(view, path, items, view.settings().smoothing, done)


def plot_menu(view: Any, plot: pg.PlotWidget) -> QMenu:
    """A panel's context menu."""
    menu = QMenu(view)
    menu.addAction("Export chart as PNG…", lambda: png_dialog(view, plot))
    menu.addAction("Export chart as SVG…", lambda: svg_dialog(view, plot))
    menu.addSeparator()
    act = menu.addAction("Export data as CSV…", lambda: csv_dialog(view, [plot.key], plot.key))
    act.setToolTip("Every logged point of the shown runs (full resolution, not the curve drawn)")
    menu.setToolTipsVisible(True)
    return menu
