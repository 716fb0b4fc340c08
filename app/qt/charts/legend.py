"""A panel's legend: small, semi-transparent, in the corner the curves leave most free."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFont, QFontMetricsF

from app.qt.charts.items import QuietItemSample

#: Legend rows and columns at most before "+N more" (the crosshair readout names every run).
MAX_LEGEND = 8
MAX_COLUMNS = 3
_MARGIN_PX = 6
#: The legend may cover at most this share of the panel's height: past it, it hides the curves
#: it names (the runs table's swatches and the crosshair readout name every run too).
MAX_HEIGHT_SHARE = 0.45
MAX_WIDTH_SHARE = 0.5
_SAMPLE_PX = 20 + 4 + 10  # sample, spacing, cell margins around a label's text
# (itemPos, parentPos, offset sign) of each corner.
_CORNERS = {
    "top-right": ((1, 0), (1, 0), (-1, 1)),
    "bottom-right": ((1, 1), (1, 1), (-1, -1)),
    "top-left": ((0, 0), (0, 0), (1, 1)),
    "bottom-left": ((0, 1), (0, 1), (1, -1)),
}


class BandSample(QuietItemSample):
    """The line sample; for a grouped panel drawn over a swatch of the group's band."""

    def paint(self, p, *args):  # noqa: ANN001 - pyqtgraph API
        alpha = getattr(self.parentItem(), "band_alpha", None)
        pen = self.item.opts.get("pen")
        if alpha is not None and pen is not None and self.item.isVisible():
            color = QColor(pg.mkPen(pen).color())
            color.setAlphaF(min(1.0, alpha * 1.6))  # a small swatch needs more than the band
            p.fillRect(QRectF(0, 5, 20, 12), color)
        super().paint(p, *args)


class PanelLegend(pg.LegendItem):
    """Lists each run once (its smoothed curve), never the faint raw curve; or each group
    of runs ("lr=0.01 (n=3)") with a swatch of its band."""

    def __init__(self, view: pg.ViewBox) -> None:
        super().__init__(labelTextSize="8pt", verSpacing=-7, horSpacing=4,
                         sampleType=BandSample)
        self.band_alpha: float | None = None
        self.setParentItem(view)
        self._view = view
        self._dummy = pg.PlotCurveItem(pen=None)
        self._entries: list[tuple[pg.PlotCurveItem, str]] = []
        self._rows = MAX_LEGEND  # entries shown at most (rows × columns)
        self._text_width = 0.0
        self.corner = ""
        self.move_to("top-right")
        view.sigResized.connect(self.fit)

    def move_to(self, corner: str) -> None:
        if corner == self.corner:
            return
        item, parent, (sx, sy) = _CORNERS[corner]
        self.anchor(itemPos=item, parentPos=parent, offset=(sx * _MARGIN_PX, sy * _MARGIN_PX))
        self.corner = corner

    def rebuild(self, entries: Sequence[tuple[pg.PlotCurveItem, str]]) -> None:
        """``entries``: (sample item carrying the run's pen, run name) in legend order."""
        self._entries = list(entries)
        self._rows = MAX_LEGEND
        font = QFont()
        font.setPointSizeF(8)  # labelTextSize
        metrics = QFontMetricsF(font)
        self._text_width = max((metrics.horizontalAdvance(name) for _, name in self._entries), default=0.0)
        self.setColumnCount(1)
        self._fill()
        self.fit()

    def set_band_alpha(self, alpha: float | None) -> None:
        """Band swatches behind the samples at this opacity; None: plain line samples."""
        if alpha != self.band_alpha:
            self.band_alpha = alpha
            self.update()
            for sample, _ in self.items:
                sample.update()

    def _fill(self) -> None:
        self.clear()
        entries, rows = self._entries, self._rows
        shown = entries if len(entries) <= rows else entries[: max(rows - 1, 1)]
        for curve, name in shown:
            self.addItem(curve, name)
        if len(shown) < len(entries):
            self.addItem(self._dummy, f"+{len(entries) - len(shown)} more")

    def fit(self, *_args) -> None:
        """Show as many entries as fit in part of the panel: rows up to a share of its height,
        then side-by-side columns up to a share of its width, then "+N more"."""
        for _ in range(3):  # row height is measured on the rows shown: refine until stable
            if not self._fit_once():
                break

    def _fit_once(self) -> bool:
        """One sizing pass; True when it changed what is shown."""
        if not self._entries:
            return False
        avail_h = self._view.height() * MAX_HEIGHT_SHARE - _MARGIN_PX
        avail_w = self._view.width() * MAX_WIDTH_SHARE
        if avail_h <= 0 or avail_w <= 0:
            return False
        rows_now = -(-len(self.items) // max(self.columnCount, 1))
        row_h = self.boundingRect().height() / max(rows_now, 1)
        if row_h <= 0:
            return False
        rows = int(min(max(avail_h // row_h, 1), MAX_LEGEND))
        cols = int(min(max(avail_w // (self._text_width + _SAMPLE_PX), 1), MAX_COLUMNS))
        need = len(self._entries)
        if need <= rows * cols:
            cols = -(-need // rows)  # no emptier columns than needed
        shown = max(rows * cols, 2)  # at least a run and "+N more"
        if (shown, cols) == (self._rows, self.columnCount):
            return False
        self._rows = shown
        self.setColumnCount(cols)
        self._fill()
        return True

    def apply_colors(self, bg: QColor, fg: QColor) -> None:
        fill, edge = QColor(bg), QColor(fg)
        fill.setAlpha(170)
        edge.setAlpha(40)
        self.setBrush(pg.mkBrush(fill))
        self.setPen(pg.mkPen(edge))
        self.setLabelTextColor(fg)

    def place(self, curves: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
        """Move to the corner whose legend-sized box covers the fewest drawn points."""
        vb = self._view
        (x0, x1), (y0, y1) = vb.viewRange()
        w_px, h_px = vb.width(), vb.height()
        rect = self.boundingRect()
        if w_px <= 0 or h_px <= 0 or x1 <= x0 or y1 <= y0:
            return
        fx = min((rect.width() + _MARGIN_PX) / w_px, 1.0)  # legend size as view fractions
        fy = min((rect.height() + _MARGIN_PX) / h_px, 1.0)
        counts = dict.fromkeys(_CORNERS, 0)
        for x, y in curves:
            if x.size == 0:
                continue
            u = (x - x0) / (x1 - x0)
            with np.errstate(invalid="ignore"):
                v = (y - y0) / (y1 - y0)  # 0 = bottom
                left, right = u <= fx, u >= 1 - fx
                top, bottom = v >= 1 - fy, v <= fy
                counts["top-right"] += int(np.count_nonzero(right & top))
                counts["bottom-right"] += int(np.count_nonzero(right & bottom))
                counts["top-left"] += int(np.count_nonzero(left & top))
                counts["bottom-left"] += int(np.count_nonzero(left & bottom))
        # Ties keep the current corner, then prefer the right-hand corners.
        order = [self.corner] + [c for c in _CORNERS if c != self.corner]
        self.move_to(min(order, key=lambda c: counts[c]))
