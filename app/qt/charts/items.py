"""Small pyqtgraph pieces for the chart panels: axes that label steps and durations
compactly, a legend sample that ignores clicks, and curve hit-testing."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

#: Hit distance in pixels for clicking a curve.
CLICK_TOLERANCE_PX = 5.0
class QuietItemSample(pg.ItemSample):
    """Legend sample that does not toggle the curve when clicked (the raw curve would
    stay visible, and hiding a run belongs to the runs table)."""

    def mouseClickEvent(self, event):  # noqa: N802 - pyqtgraph API
        event.ignore()


def compact_number(v: float, spacing: float) -> str:
    """Tick label for steps: 1.5k, 20k, 1.2M; plain below 10,000."""
    a = abs(v)
    if a < 10_000 or spacing < 1:
        if spacing >= 1 and float(v).is_integer():
            return str(int(v))
        return f"{v:.6g}"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            digits = max(0, -int(math.floor(math.log10(spacing / div) + 1e-9)))
            return f"{v / div:.{min(digits, 3)}f}{suffix}"
    return f"{v:g}"  # pragma: no cover - unreachable


class StepAxisItem(pg.AxisItem):
    """Bottom axis for steps: compact labels so narrow panels stay readable."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        return [compact_number(v * scale, spacing * scale) for v in values]


# Nice tick spacings for durations, in seconds.
_DURATION_STEPS = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800,
    3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400,
)


def format_duration(seconds: float, spacing: float = 1.0) -> str:
    """``95`` → ``1m35s``; ``5400`` → ``1h30m``; below a second spacing: ``0.25s``."""
    if seconds != seconds:
        return ""
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if spacing < 1 and s < 60:
        return f"{sign}{s:.3g}s"
    s = round(s)
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    parts = [(d, "d"), (h, "h"), (m, "m"), (sec, "s")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    while len(parts) > 1 and parts[-1][0] == 0:
        parts.pop()
    return sign + "".join(f"{n}{u}" for n, u in parts[:2])


class DurationAxisItem(pg.AxisItem):
    """Bottom axis for time since the run started (x in seconds): 30s, 5m, 1h30m."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph API
        span = maxVal - minVal
        if span <= 0 or size <= 0 or span < 5:
            return super().tickSpacing(minVal, maxVal, size)
        target = span * 90.0 / size  # about one labelled tick per 90 px
        major = next((s for s in _DURATION_STEPS if s >= target), None)
        if major is None:
            major = math.ceil(target / 86400) * 86400
        minor = next((s for s in reversed(_DURATION_STEPS) if s <= major / 4), major / 4)
        return [(float(major), 0.0), (float(minor), 0.0)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        return [format_duration(v * scale, spacing * scale) for v in values]


class ValueAxisItem(pg.AxisItem):
    """Left axis. In log mode pyqtgraph labels every minor tick (0.2 ... 0.9), which
    overlap within a decade; here only ticks at least ``MIN_LABEL_GAP_PX`` apart are
    labelled, decades first, then 2x and 5x, then the rest."""

    MIN_LABEL_GAP_PX = 16

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._labeled: set[float] | None = None

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802 - pyqtgraph API
        levels = super().logTickValues(minVal, maxVal, size, stdTicks)
        if not (maxVal > minVal and size > 0):
            self._labeled = None
            return levels
        scale = size / (maxVal - minVal)

        def rank(v: float) -> int:
            mantissa = 10 ** (v - math.floor(v + 1e-9))
            if abs(mantissa - 1) < 1e-6 or abs(mantissa - 10) < 1e-6:
                return 0
            return 1 if min(abs(mantissa - 2), abs(mantissa - 5)) < 1e-6 else 2

        chosen: list[float] = []
        for v in sorted({float(v) for _, vs in levels for v in vs}, key=lambda v: (rank(v), v)):
            if all(abs(v - c) * scale >= self.MIN_LABEL_GAP_PX for c in chosen):
                chosen.append(v)
        self._labeled = {round(v, 9) for v in chosen}
        return levels

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        strings = super().logTickStrings(values, scale, spacing)
        if self._labeled is None:
            return strings
        return [s if round(float(v), 9) in self._labeled else "" for v, s in zip(values, strings)]


def bottom_axis(x_mode: str) -> pg.AxisItem:
    """A new bottom axis for an x-axis mode: steps, wall-clock dates or durations."""
    cls = {"step": StepAxisItem, "wall": pg.DateAxisItem, "relative": DurationAxisItem}
    return cls[x_mode](orientation="bottom")


def distance_px(x: np.ndarray, y: np.ndarray, qx: float, qy: float, px: float, py: float) -> float:
    """Distance in pixels from (qx, qy) to the polyline (x, y) (x sorted; NaN = gap)."""
    tol = CLICK_TOLERANCE_PX * px
    i0 = max(int(np.searchsorted(x, qx - tol, side="left")) - 1, 0)
    i1 = min(int(np.searchsorted(x, qx + tol, side="right")) + 1, x.size)
    if i1 <= i0:
        return np.inf
    ax = (x[i0:i1] - qx) / px
    ay = (y[i0:i1] - qy) / py
    with np.errstate(invalid="ignore"):
        best = np.nanmin(np.hypot(ax, ay)) if np.isfinite(ay).any() else np.inf
        if ax.size > 1:
            dx, dy = np.diff(ax), np.diff(ay)
            seg2 = dx * dx + dy * dy
            t = np.clip(-(ax[:-1] * dx + ay[:-1] * dy) / np.where(seg2 > 0, seg2, 1.0), 0.0, 1.0)
            d = np.hypot(ax[:-1] + t * dx, ay[:-1] + t * dy)
            d = d[np.isfinite(d)]
            if d.size:
                best = min(best, float(d.min()))
    return float(best)
