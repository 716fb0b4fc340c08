"""Sweep views over many runs: parallel coordinates, scatter, and "what mattered".

This module holds what the three views share: the per-snapshot data (:class:`SweepData`,
axes computed once and cached), the metric colour scale (viridis-like, flipped for
lower-is-better metrics so "good" is always the same colour), tick labels for numeric, log
and categorical axes, and a small colour bar widget. ``SweepView`` is imported lazily so the
views can import these helpers without a cycle.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QLinearGradient, QPainter
from PySide6.QtWidgets import QLabel, QWidget

from app.core.compare import format_value, lower_is_better
from app.core.correlation import Axis, axis_values
from app.qt.theme import current_theme, load_tokens, theme_notifier
from tracker_sdk.entities import RunInfo

__all__ = ["ColorBar", "ColorScale", "SweepData", "SweepView", "axis_ticks", "bucket_colors"]

#: Colour buckets: runs are drawn as one item per bucket, not one item per run.
N_BUCKETS = 16
STATS = ("last", "min", "max")
MISSING_LABEL = "—"
#: An axis spec: ("param", key) or ("metric", key, stat).
Spec = tuple


def __getattr__(name: str):  # lazy, so sweep.parallel etc. can import this package freely
    if name == "SweepView":
        from app.qt.sweep.sweep_view import SweepView

        return SweepView
    raise AttributeError(name)


def tokens() -> dict[str, str]:
    return load_tokens(current_theme())  # type: ignore[arg-type]


def qcolor(hex_color: str, alpha: int = 255) -> QColor:
    c = QColor(hex_color)
    c.setAlpha(alpha)
    return c


def bucket_colors(n: int = N_BUCKETS, theme: str | None = None) -> list[QColor]:
    """Viridis sampled at bucket centres, worst (index 0) to best. On the light theme the
    pale-yellow end is cut off (unreadable on white); on the dark theme the near-black one."""
    cmap = pg.colormap.get("viridis")
    lo, hi = (0.0, 0.86) if (theme or current_theme()) == "light" else (0.14, 1.0)
    return [cmap.map(lo + (hi - lo) * (i + 0.5) / n, mode="qcolor") for i in range(n)]


def spec_label(spec: Spec) -> str:
    return spec[1] if spec[0] == "param" else f"{spec[1]} · {spec[2]}"


def metric_values(runs: Sequence[RunInfo], key: str, stat: str = "last") -> np.ndarray:
    out = np.full(len(runs), np.nan)
    for i, r in enumerate(runs):
        s = r.metrics.get(key)
        if s is not None:
            out[i] = getattr(s, stat)
    return out


def default_metric(keys: Sequence[str]) -> str | None:
    """A validation loss if there is one (``val/loss``, ``val_loss``...), else the first key."""
    for k in keys:
        low = k.lower()
        if low.startswith(("val", "valid")) and "loss" in low:
            return k
    for k in keys:
        if "val" in k.lower() and "loss" in k.lower():
            return k
    return keys[0] if keys else None


@dataclass
class ColorScale:
    """Metric -> colour. ``t`` is 0 (worst) .. 1 (best), NaN when the run has no value;
    ``bucket`` is the colour bucket, -1 when missing. ``lo``/``hi`` are the axis positions
    the colours span (2nd..98th percentile, so one diverged run does not wash out the rest)."""

    spec: Spec
    axis: Axis
    lo: float
    hi: float
    lower_better: bool
    t: np.ndarray
    bucket: np.ndarray

    @classmethod
    def build(cls, spec: Spec, axis: Axis) -> ColorScale:
        pos = axis.positions
        finite = pos[~np.isnan(pos)]
        if finite.size >= 20:
            lo, hi = (float(v) for v in np.percentile(finite, [2.0, 98.0]))
        elif finite.size:
            lo, hi = float(finite.min()), float(finite.max())
        else:
            lo = hi = 0.0
        with np.errstate(invalid="ignore"):
            t = np.clip((pos - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.where(np.isnan(pos), np.nan, 0.5)
        lower = lower_is_better(spec[1])
        if lower:
            t = 1.0 - t
        bucket = np.where(np.isnan(t), -1, np.minimum((np.nan_to_num(t) * N_BUCKETS).astype(np.int64), N_BUCKETS - 1))
        return cls(spec, axis, lo, hi, lower, t, bucket)

    def t_at(self, pos: float) -> float:
        t = 0.5 if self.hi <= self.lo else min(1.0, max(0.0, (pos - self.lo) / (self.hi - self.lo)))
        return 1.0 - t if self.lower_better else t

    def value_text(self, pos: float, digits: int = 6) -> str:
        v = 10.0**pos if self.axis.kind == "log" else pos
        return f"{v:.{digits}g}" if math.isfinite(v) and v != 0 else format_value(v)


def axis_ticks(axis: Axis, n: int = 5) -> list[tuple[float, str]]:
    """(position, label) ticks in axis positions: categories at their index, log axes at whole
    decades labelled in real units, numeric axes at 'nice' values inside the range."""
    if axis.kind == "categorical":
        return [(float(i), lab) for i, lab in enumerate(axis.labels or [])]
    lo, hi = axis.range
    if np.isnan(axis.positions).all():
        return []
    if axis.kind == "log":
        k0, k1 = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
        step = max(1, math.ceil((k1 - k0 + 1) / 7))
        return [(float(k), format_value(10.0**k)) for k in range(k0, k1 + 1, step)]
    if hi <= lo:
        return [(lo, format_value(lo))]
    distinct = np.unique(axis.positions[~np.isnan(axis.positions)])
    if distinct.size <= 8:  # a discrete setting (batch size, layers): label each value
        return [(float(v), format_value(float(v))) for v in distinct]
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1.0, 2.0, 2.5, 5.0, 10.0) if s * mag >= raw * 0.999)
    k0, k1 = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [(k * step, format_value(round(k * step, 12))) for k in range(k0, k1 + 1)]


def jitter(ids: Sequence[str], width: float = 0.3) -> np.ndarray:
    """A stable per-run offset in [-width/2, width/2] to spread points on categorical axes."""
    h = np.fromiter((zlib.crc32(i.encode()) for i in ids), dtype=np.float64, count=len(ids))
    return (h / 0xFFFFFFFF - 0.5) * width


class SweepData:
    """One snapshot of the runs with the axes the views need, each computed once."""

    def __init__(self, runs: Sequence[RunInfo], color: tuple[str, str] | None) -> None:
        self.runs = list(runs)
        self.ids = [r.id for r in self.runs]
        self.index = {rid: i for i, rid in enumerate(self.ids)}
        self.param_keys = sorted({k for r in self.runs for k in r.params})
        self.metric_keys = sorted({k for r in self.runs for k in r.metrics})
        self._axes: dict[Spec, Axis] = {}
        self.color: ColorScale | None = None
        if color is not None and color[0] in self.metric_keys:
            spec = ("metric", color[0], color[1])
            self.color = ColorScale.build(spec, self.axis(spec))

    def __len__(self) -> int:
        return len(self.runs)

    def axis(self, spec: Spec) -> Axis:
        ax = self._axes.get(spec)
        if ax is None:
            if spec[0] == "param":
                ax = axis_values([r.params.get(spec[1]) for r in self.runs])
            else:
                ax = axis_values(metric_values(self.runs, spec[1], spec[2]))
            self._axes[spec] = ax
        return ax

    def varies(self, key: str) -> bool:
        """More than one distinct value (a missing value counts as one)."""
        first = self.runs[0].params.get(key) if self.runs else None
        return any(r.params.get(key) != first for r in self.runs)

    def raw_text(self, i: int, spec: Spec) -> str:
        r = self.runs[i]
        if spec[0] == "param":
            v = r.params.get(spec[1])
            return MISSING_LABEL if v is None else str(v)
        s = r.metrics.get(spec[1])
        return MISSING_LABEL if s is None else format_value(float(getattr(s, spec[2])))


class ColorBar(QWidget):
    """A vertical gradient legend for a :class:`ColorScale`: best value on top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scale: ColorScale | None = None
        self.setFixedWidth(112)

    def set_scale(self, scale: ColorScale | None) -> None:
        self._scale = scale
        self.setVisible(scale is not None)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(112, 200)

    def paintEvent(self, _ev) -> None:  # noqa: N802
        s = self._scale
        if s is None:
            return
        tok = tokens()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = QFontMetrics(self.font())
        top, bottom = 2 * fm.height() + 10, self.height() - fm.height() - 8
        bar = QRectF(8, top, 14, max(10, bottom - top))
        colors = bucket_colors()
        grad = QLinearGradient(QPointF(0, bar.bottom()), QPointF(0, bar.top()))
        for i, c in enumerate(colors):
            grad.setColorAt((i + 0.5) / len(colors), c)
        p.fillRect(bar, grad)
        p.setPen(qcolor(tok["text_muted"]))
        p.drawText(QRectF(4, 2, self.width() - 6, fm.height()), Qt.AlignmentFlag.AlignLeft,
                   fm.elidedText(spec_label(s.spec), Qt.TextElideMode.ElideMiddle, self.width() - 8))
        p.drawText(QRectF(4, 4 + fm.height(), self.width() - 6, fm.height()), Qt.AlignmentFlag.AlignLeft,
                   "lower is better" if s.lower_better else "higher is better")
        best, worst = (s.lo, s.hi) if s.lower_better else (s.hi, s.lo)
        p.setPen(qcolor(tok["text"]))
        x = bar.right() + 6
        w = self.width() - x - 2
        clipped = np.count_nonzero(~np.isnan(s.axis.positions)) >= 20
        for y, pos, tag, mark in ((bar.top(), best, "best", "≤" if s.lower_better else "≥"),
                                  (bar.bottom(), worst, "worst", "≥" if s.lower_better else "≤")):
            text = (mark if clipped else "") + s.value_text(pos, 4)
            p.drawText(QRectF(x, y - fm.height() / 2, w, fm.height()), Qt.AlignmentFlag.AlignLeft, text)
            p.setPen(qcolor(tok["text_muted"]))
            off = fm.height() if tag == "best" else -fm.height()
            p.drawText(QRectF(x, y - fm.height() / 2 + off, w, fm.height()), Qt.AlignmentFlag.AlignLeft, tag)
            p.setPen(qcolor(tok["text"]))
        p.end()


class MutedLabel(QLabel):
    """A hint in the theme's muted text colour (follows theme changes)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._restyle()
        theme_notifier().themeChanged.connect(self._restyle)

    def _restyle(self, *_args) -> None:
        self.setStyleSheet(f"color: {tokens()['text_muted']}; padding: 2px 4px;")
