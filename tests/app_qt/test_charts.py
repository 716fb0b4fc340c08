"""The charts area (app.qt.charts): panels per key, live data, smoothing, decimation,
x modes, log y, outliers, linked x range and crosshair. Offscreen, no sleeps."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, Qt

from app.core.chart_settings import COLUMNS_AUTO, ChartSettings
from app.core.smoothing import ema_debiased
from app.qt.charts import ChartsView
from app.qt.charts.plot import FEW_RUNS
from app.qt.charts.series import Series, decimate_many
from decimation_oracle import column_extremes

T0 = 1_700_000_000_000
RUNS = [("r1", "alpha", "#4e79a7", T0), ("r2", "beta", "#dd740e", T0 + 60_000)]
KEYS = ["train/loss", "train/acc", "val/loss", "lr"]


def series(n: int, seed: int = 0, start_ms: int = T0):
    rng = np.random.default_rng(seed)
    steps = np.arange(n, dtype=np.int64)
    values = np.exp(-steps / max(n / 3, 1)) + 0.05 * rng.standard_normal(n)
    ts = start_ms + 1000 * steps
    return steps, values, ts


@pytest.fixture
def view(qtbot):
    v = ChartsView()
    qtbot.addWidget(v)
    v.resize(1200, 800)
    v.show()
    return v


def fill(view, keys=KEYS, runs=RUNS, n=500):
    view.set_runs(runs)
    view.set_keys(keys)
    for i, (rid, _, _, start) in enumerate(runs):
        for j, key in enumerate(keys):
            view.set_series(rid, key, *series(n, seed=10 * i + j, start_ms=start))
    view.redraw_now()


def test_one_panel_per_key_in_prefix_groups(view):
    fill(view)
    assert view.groups() == [("", ["lr"]), ("train", ["train/acc", "train/loss"]),
                             ("val", ["val/loss"])]
    for key in KEYS:
        assert view.plot(key) is not None
    assert view.empty_text() == ""


def test_curves_per_run_in_run_colours(view):
    fill(view)
    plot = view.plot("train/loss")
    for rid, _, color, _ in RUNS:
        assert plot.drawn(rid) is not None
        assert plot.pen_color(rid) == color
    assert [item[1].text for item in plot.legend.items] == ["alpha", "beta"]


def test_key_filter_hides_panels(view, qtbot):
    fill(view)
    with qtbot.waitSignal(view.sig_settings_changed) as blocker:
        view.toolbar.search.setText("loss")
        view.toolbar.search.textEdited.emit("loss")  # what typing emits (debounced)
    assert blocker.args[0].key_filter == "loss"
    assert view.groups() == [("train", ["train/loss"]), ("val", ["val/loss"])]
    assert view.plot("train/acc") is None and view.plot("lr") is None
    view.set_settings(ChartSettings(key_filter="nothing*"))
    assert view.empty_text() == "No metric matches 'nothing*'"


def test_empty_states(view):
    assert view.empty_text() == "Check runs in the table to plot them"
    view.set_runs(RUNS)
    assert "No metrics" in view.empty_text()
    view.set_keys(["a"])
    assert view.empty_text() == ""


def test_series_wanted_lists_exactly_the_missing_pairs(view):
    wanted = []
    view.sig_series_wanted.connect(wanted.append)
    view.set_runs(RUNS)
    assert wanted == []  # no keys yet
    view.set_keys(["a/x", "b"])
    assert sorted(wanted[-1]) == sorted([("r1", "a/x"), ("r2", "a/x"), ("r1", "b"), ("r2", "b")])
    view.set_series("r1", "a/x", *series(10))
    view.set_keys(["a/x", "b", "c"])  # only the new key is requested
    assert sorted(wanted[-1]) == [("r1", "c"), ("r2", "c")]
    n = len(wanted)
    view.set_keys(["a/x", "b", "c"])  # nothing new: no signal
    assert len(wanted) == n
    view.set_runs(RUNS + [("r3", "gamma", "#e15759", T0)])
    assert sorted(wanted[-1]) == [("r3", "a/x"), ("r3", "b"), ("r3", "c")]
    view.set_settings(ChartSettings(key_filter="b"))
    view.set_runs(RUNS)  # r3 dropped...
    view.set_runs(RUNS + [("r4", "delta", "#e15759", T0)])
    assert wanted[-1] == [("r4", "b")]  # ...and only visible panels are requested


def test_collapsed_group_is_not_requested_until_expanded(view):
    wanted = []
    view.sig_series_wanted.connect(wanted.append)
    view.set_runs(RUNS[:1])
    view.set_keys(["train/a"])
    view.set_group_expanded("train", False)
    view.set_keys(["train/a", "train/b"])
    assert wanted == [[("r1", "train/a")]]
    view.set_group_expanded("train", True)
    assert wanted[-1] == [("r1", "train/b")]


def test_loading_placeholder_until_data_arrives(view):
    view.set_runs(RUNS)
    view.set_keys(["k"])
    view.redraw_now()
    plot = view.plot("k")
    assert plot.placeholder_text() == "loading…"
    view.set_series("r1", "k", *series(20))
    view.redraw_now()
    assert plot.placeholder_text() == ""


def test_live_append_updates_curve_after_redraw_timer(view, qtbot):
    view.set_settings(ChartSettings(smoothing=0.0))
    view.set_runs(RUNS[:1])
    view.set_keys(["k"])
    steps, values, ts = series(1000)
    view.set_series("r1", "k", steps[:100], values[:100], ts[:100])
    plot = view.plot("k")
    qtbot.waitUntil(lambda: plot.drawn("r1") is not None and plot.drawn("r1")[0].size == 100)
    view.set_series("r1", "k", steps[:400], values[:400], ts[:400])
    qtbot.waitUntil(lambda: plot.drawn("r1")[0].size == 400)
    x, y = plot.drawn("r1")
    assert x[-1] == 399 and np.array_equal(y, values[:400])
    lo, hi = plot.vb.viewRange()[0]
    assert lo < 0 and hi > 399  # the x range follows the growing data


def test_smoothing_zero_shows_raw_values(view):
    view.set_settings(ChartSettings(smoothing=0.0))
    fill(view, keys=["k"], runs=RUNS[:1], n=300)
    x, y = view.plot("k").drawn("r1")
    steps, values, _ = series(300, seed=0)
    assert np.array_equal(x, steps) and np.array_equal(y, values)
    assert not view.plot("k").raw_layer.isVisible()


def test_smoothing_draws_ema_over_faint_raw(view):
    view.set_settings(ChartSettings(smoothing=0.8))
    fill(view, keys=["k"], runs=RUNS[:1], n=300)
    plot = view.plot("k")
    steps, values, _ = series(300, seed=0)
    np.testing.assert_allclose(plot.drawn("r1")[1], ema_debiased(values, 0.8))
    assert np.array_equal(plot.drawn("r1", raw=True)[1], values)
    assert plot.raw_layer.isVisible() and plot.raw_layer.zValue() < plot.main_layer.zValue()
    faint = plot.pen_color("r1", raw=True)
    assert faint != "#4e79a7" and faint is not None
    view.set_settings(ChartSettings(smoothing=0.8, show_raw=False))
    view.redraw_now()
    assert not plot.raw_layer.isVisible()


def test_spike_in_a_million_points_survives_decimation_and_zoom(view):
    n = 1_000_000
    steps = np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(3)
    values = rng.standard_normal(n)
    spike_at = 612_345
    values[spike_at] = 1000.0
    view.set_settings(ChartSettings(smoothing=0.0))
    view.set_runs(RUNS[:1])
    view.set_keys(["k"])
    view.set_series("r1", "k", steps, values, T0 + steps)
    view.redraw_now()
    plot = view.plot("k")
    x, y = plot.drawn("r1")
    assert x.size < 10 * plot.pixels()  # decimated...
    assert y.max() == 1000.0 and x[np.argmax(y)] == spike_at  # ...but the spike is there
    assert y.min() == values.min()
    for lo, hi in [(600_000, 650_000), (612_000, 612_500), (500_000, 900_000)]:
        plot.setXRange(lo, hi, padding=0)  # synchronous re-decimation
        x, y = plot.drawn("r1")
        assert y.max() == 1000.0 and x[np.argmax(y)] == spike_at, (lo, hi)
    plot.setXRange(0, 100_000, padding=0)  # spike outside the view: not drawn
    assert plot.drawn("r1")[1].max() < 1000.0


def test_many_faint_raw_curves_are_drawn_coarser_but_keep_their_spikes(view):
    """Past FEW_RUNS runs the faint raw curves are decimated per two pixel columns: half the
    points to draw on every pan and zoom, and still every raw spike."""
    n = 200_000
    steps = np.arange(n, dtype=np.int64)
    runs = [(f"r{i}", f"run-{i}", "#4e79a7", T0) for i in range(FEW_RUNS + 1)]
    view.set_settings(ChartSettings(smoothing=0.9, ignore_outliers=False))
    view.set_runs(runs)
    view.set_keys(["k"])
    rng = np.random.default_rng(5)
    spikes = {}
    for i, (rid, *_rest) in enumerate(runs):
        values = rng.standard_normal(n)
        spikes[rid] = int(rng.integers(0, n))
        values[spikes[rid]] = 50.0 + i
        view.set_series(rid, "k", steps, values, T0 + steps)
    view.redraw_now()
    plot = view.plot("k")
    for rid, at in spikes.items():
        x_raw, y_raw = plot.drawn(rid, raw=True)
        x_main, _ = plot.drawn(rid)
        assert x_raw.size < 0.7 * x_main.size  # coarser...
        assert x_raw[np.argmax(y_raw)] == at  # ...and the spike is there
    view.set_runs(runs[:FEW_RUNS])  # few runs: raw curves at full resolution again
    view.redraw_now()
    x_raw, _ = plot.drawn("r0", raw=True)
    assert x_raw.size > 0.8 * plot.drawn("r0")[0].size


def test_decimate_many_keeps_the_same_column_extremes():
    """Batched decimation draws what per-series decimation draws, and every pixel
    column's min and max of the full data within a block of it (~1 column; up to 3
    where the random x spacing leaves a column only a few points)."""
    rng = np.random.default_rng(0)
    displays = []
    for _ in range(12):
        n = int(rng.integers(500, 60_000))
        x = np.sort(rng.choice(200_000, n, replace=False)) + 0.37  # off column edges
        y = np.cumsum(rng.standard_normal(n))
        y[rng.integers(0, n, 3)] = np.nan
        displays.append(Series(x, y, x.astype(np.int64)).display("step", 0, 0.0, False))
    for x_range in [(0.0, 200_000.0), (50_000.0, 70_000.0), (-5e4, 3e5)]:
        for pixels in (100, 400):
            batched = decimate_many(displays, x_range, pixels)
            for d, (xb, yb) in zip(displays, batched):
                xs, ys = d.decimate(x_range, pixels)
                np.testing.assert_array_equal(xb, xs)
                np.testing.assert_array_equal(yb, ys)
                assert np.all(np.diff(xb) >= 0)
                low, high = column_extremes(d.x, d.y, x_range, pixels)
                got_low, got_high = column_extremes(xb, yb, x_range, pixels)
                for k in range(pixels):
                    assert got_low[max(k - 3, 0) : k + 4].min() <= low[k]
                    assert got_high[max(k - 3, 0) : k + 4].max() >= high[k]
                assert np.isnan(yb).any() == np.isnan(d.y[(d.x >= x_range[0])
                                                          & (d.x <= x_range[1])]).any()


def test_live_append_extends_displays_and_shows_new_spikes(view):
    """Appending to a long series extends its displays (smoothing continued, pyramid
    indexed for the new points only) instead of rebuilding them, and a spike in the
    new points is drawn at every zoom, as is a gap."""
    n, extra = 200_000, 5_003
    rng = np.random.default_rng(11)
    steps = np.arange(n + extra, dtype=np.int64)
    values = 1.0 + 0.1 * rng.standard_normal(n + extra)
    values[n + 1234] = 40.0  # spike in a new complete block
    values[n + extra - 2] = -30.0  # spike in the partial tail block
    values[n + 2000 : n + 2100] = np.nan  # gap
    view.set_settings(ChartSettings(smoothing=0.6, show_raw=True))
    view.set_runs(RUNS[:1])
    view.set_keys(["k"])
    view.set_series("r1", "k", steps[:n], values[:n], T0 + steps[:n])
    view.redraw_now()
    plot = view.plot("k")
    old = view._store.get("r1", "k")  # noqa: SLF001
    raw_pyr = old.display("step", 0, 0.0, False).pyramid()
    smooth_pyr = old.display("step", 0, 0.6, False).pyramid()
    view.set_series("r1", "k", steps, values, T0 + steps)
    view.redraw_now()
    new = view._store.get("r1", "k")  # noqa: SLF001
    raw, smooth = new.display("step", 0, 0.0, False), new.display("step", 0, 0.6, False)
    assert raw.pyramid() is raw_pyr and smooth.pyramid() is smooth_pyr  # extended
    assert raw_pyr.n == smooth_pyr.n == n + extra
    np.testing.assert_array_equal(raw.y, values)
    np.testing.assert_allclose(smooth.y, ema_debiased(values, 0.6), rtol=1e-12, equal_nan=True)
    for lo, hi in [(-1000, n + extra + 1000), (n - 50_000, n + extra), (n + 1000, n + 1500),
                   (n + extra - 100, n + extra + 10)]:
        plot.setXRange(lo, hi, padding=0)
        x, y = plot.drawn("r1", raw=True)
        if lo <= n + 1234 <= hi:
            assert np.nanmax(y) == 40.0 and x[np.nanargmax(y)] == n + 1234, (lo, hi)
        if lo <= n + extra - 2 <= hi:
            assert np.nanmin(y) == -30.0 and x[np.nanargmin(y)] == n + extra - 2, (lo, hi)
        if lo <= n + 2000 and n + 2100 <= hi:
            gap = np.flatnonzero(np.isnan(y))
            assert gap.size and np.all((x[gap] >= n + 2000) & (x[gap] < n + 2100))


def test_series_adopt_extends_only_a_true_append():
    rng = np.random.default_rng(12)
    n = 30_000
    steps = np.arange(n, dtype=np.int64)
    values = np.exp(-steps / 9000) + 0.05 * rng.standard_normal(n)
    values[n - 700 : n - 650] = np.nan
    ts = T0 + 1000 * steps

    def grown(m0, m1, vals=values, times=ts, mode="step", weight=0.6, log_y=False):
        first = Series(steps[:m0], vals[:m0], times[:m0])
        d0 = first.display(mode, T0, weight, log_y)
        d0.pyramid()
        second = Series(steps[:m1], vals[:m1], times[:m1])
        second.adopt(first)
        d1 = second.display(mode, T0, weight, log_y)
        fresh = Series(steps[:m1], vals[:m1], times[:m1]).display(mode, T0, weight, log_y)
        np.testing.assert_array_equal(d1.x, fresh.x)
        np.testing.assert_allclose(d1.y, fresh.y, rtol=1e-12, equal_nan=True)
        return d1._pyramid is d0._pyramid  # noqa: SLF001

    assert grown(20_000, n)  # smoothed, NaN in the new points
    assert grown(20_001, 20_002, weight=0.0, log_y=True)
    assert grown(100, n, mode="relative", weight=0.9)
    assert grown(n, n)  # same data again
    changed = values.copy()
    changed[5] += 1.0
    first = Series(steps[:20_000], values[:20_000], ts[:20_000])
    first.display("step", 0, 0.6, False).pyramid()
    second = Series(steps, changed, ts)
    second.adopt(first)  # not an append: rebuilt from scratch
    np.testing.assert_allclose(second.display("step", 0, 0.6, False).y,
                               ema_debiased(changed, 0.6), rtol=1e-12, equal_nan=True)
    shuffled = ts.copy()
    shuffled[25_000], shuffled[25_001] = shuffled[25_001], shuffled[25_000]
    assert not grown(20_000, n, times=shuffled, mode="wall")  # new points need sorting
    assert not grown(20_000, n, vals=np.full(n, 3.0))  # constant: smoothing not continued


def test_pan_draws_aliased_until_the_view_settles(view, qtbot):
    fill(view)  # two runs: antialiased curves
    plot = view.plot("train/loss")
    assert plot.main_layer.antialiased_now() and plot.raw_layer.antialiased_now()
    plot.setXRange(10, 200, padding=0)
    assert not plot.main_layer.antialiased_now() and not plot.raw_layer.antialiased_now()
    qtbot.waitUntil(lambda: plot.main_layer.antialiased_now()
                    and plot.raw_layer.antialiased_now(), timeout=2000)
    # New data is not a pan: still antialiased.
    view.set_series("r1", "train/loss", *series(900, seed=3))
    view.redraw_now()
    assert plot.main_layer.antialiased_now()


def test_removing_a_run_removes_its_curves(view):
    fill(view)
    view.set_runs(RUNS[:1])
    view.redraw_now()
    for key in KEYS:
        plot = view.plot(key)
        assert plot.drawn("r2") is None and plot.drawn("r2", raw=True) is None
        assert plot.drawn("r1") is not None
        assert [item[1].text for item in plot.legend.items] == ["alpha"]
        plot.show_crosshair(10.0, "step 10")
        assert "alpha" in plot.readout_text() and "beta" not in plot.readout_text()


def test_log_y_toggles_log_mode(view):
    fill(view, keys=["k"])
    plot = view.plot("k")
    view.toolbar.log_y.setChecked(True)  # a user click
    assert view.settings().log_y
    view.redraw_now()
    assert plot.getPlotItem().getAxis("left").logMode
    assert plot.vb.state["autoRange"] == [False, False]
    x, y = plot.drawn("r1")
    _, values, _ = series(500, seed=0)
    shown = ema_debiased(values, 0.6)
    expected = np.log10(np.where(shown > 0, shown, np.nan))
    np.testing.assert_allclose(y, expected)
    view.toolbar.log_y.setChecked(False)
    view.redraw_now()
    assert not plot.getPlotItem().getAxis("left").logMode


def test_relative_x_shifts_by_run_start(view):
    view.set_settings(ChartSettings(smoothing=0.0, x_axis="relative"))
    runs = [("r1", "a", "#4e79a7", T0), ("r2", "b", "#dd740e", T0 + 500_000)]
    view.set_runs(runs)
    view.set_keys(["k"])
    for rid, _, _, start in runs:
        steps = np.arange(10)
        view.set_series(rid, "k", steps, steps * 1.0, start + 5_000 + 2_000 * steps)
    view.redraw_now()
    plot = view.plot("k")
    for rid in ("r1", "r2"):
        np.testing.assert_allclose(plot.drawn(rid)[0], 5.0 + 2.0 * np.arange(10))
    view.set_settings(ChartSettings(smoothing=0.0, x_axis="wall"))
    view.redraw_now()
    assert isinstance(plot.getPlotItem().getAxis("bottom"), pg.DateAxisItem)
    np.testing.assert_allclose(plot.drawn("r2")[0][0], (T0 + 505_000) / 1000.0)


def test_unsorted_timestamps_are_sorted_for_drawing(view):
    view.set_settings(ChartSettings(smoothing=0.0, x_axis="wall"))
    view.set_runs(RUNS[:1])
    view.set_keys(["k"])
    view.set_series("r1", "k", np.arange(4), np.array([1.0, 2.0, 3.0, 4.0]),
                    np.array([T0 + 3000, T0 + 1000, T0 + 2000, T0 + 4000]))
    view.redraw_now()
    x, y = view.plot("k").drawn("r1")
    assert np.all(np.diff(x) >= 0)
    np.testing.assert_array_equal(y, [2.0, 3.0, 1.0, 4.0])


def test_nan_values_make_gaps(view):
    view.set_settings(ChartSettings(smoothing=0.0))
    values = np.array([1.0, 2.0, np.nan, 4.0, np.inf, 6.0])
    view.set_runs(RUNS[:1])
    view.set_keys(["k"])
    view.set_series("r1", "k", np.arange(6), values, T0 + np.arange(6))
    view.redraw_now()
    y = view.plot("k").drawn("r1")[1]
    assert np.isnan(y[2]) and np.isnan(y[4]) and y[5] == 6.0


def test_ignore_outliers_sets_axis_only(view):
    n = 2000
    steps = np.arange(n)
    values = np.ones(n) + 0.01 * np.sin(steps)
    values[::97] = 500.0  # outliers
    view.set_settings(ChartSettings(smoothing=0.0, ignore_outliers=False))
    view.set_runs(RUNS[:1])
    view.set_keys(["k"])
    view.set_series("r1", "k", steps, values, T0 + steps)
    view.redraw_now()
    plot = view.plot("k")
    assert plot.vb.viewRange()[1][1] > 500
    view.set_settings(ChartSettings(smoothing=0.0, ignore_outliers=True))
    view.redraw_now()
    lo, hi = plot.vb.viewRange()[1]
    assert 0.9 < lo < 1.0 and 1.0 < hi < 1.1
    assert plot.drawn("r1")[1].max() == 500.0  # data untouched


def test_x_axes_are_linked_and_reset_restores_all(view):
    fill(view, n=1000)
    a, b = view.plot("train/loss"), view.plot("val/loss")
    full = a.vb.viewRange()[0]
    assert b.vb.viewRange()[0] == full
    a.setXRange(100, 200, padding=0)
    assert b.vb.viewRange()[0] == pytest.approx([100, 200])
    assert view.plot("lr").drawn("r1")[0].max() <= 1000
    view.toolbar.reset.click()
    assert b.vb.viewRange()[0] == pytest.approx(full)
    assert a.vb.viewRange()[0] == pytest.approx(full)


def test_crosshair_lists_every_runs_value(view):
    view.set_settings(ChartSettings(smoothing=0.5))
    fill(view, n=100)
    view.show_crosshair_at(42.0)
    for key in KEYS:
        plot = view.plot(key)
        text = plot.readout_text()
        assert text.startswith("step 42")
        j = KEYS.index(key)
        for i, (_, name, _, _) in enumerate(RUNS):
            _, values, _ = series(100, seed=10 * i + j)
            smoothed = ema_debiased(values, 0.5)[42]
            assert f"{name}: {smoothed:.4g} ({values[42]:.4g})" in text
        assert plot.vline.isVisible() and plot.vline.value() == 42.0
        assert not plot.legend.isVisible()  # the readout replaces it meanwhile
    view.show_crosshair_at(None)
    assert view.plot("lr").readout_text() == "" and not view.plot("lr").vline.isVisible()


def test_mouse_move_drives_the_linked_crosshair(view, qtbot):
    fill(view, n=100)
    a, b = view.plot("train/loss"), view.plot("val/loss")
    a._mouse_inside = True  # what the enter event sets
    scene_pos = a.vb.mapViewToScene(QPointF(30.0, 0.5))
    a._on_mouse_moved((scene_pos,))
    assert b.vline.isVisible() and b.vline.value() == pytest.approx(30.0, abs=0.5)
    assert "alpha" in b.readout_text()


def test_clicking_a_curve_selects_the_run(view, qtbot):
    view.set_settings(ChartSettings(smoothing=0.0))
    view.set_runs(RUNS)
    view.set_keys(["k"])
    steps = np.arange(100)
    view.set_series("r1", "k", steps, np.zeros(100), T0 + steps)
    view.set_series("r2", "k", steps, np.ones(100), T0 + steps)
    view.redraw_now()
    plot = view.plot("k")
    assert plot.run_at(plot.vb.mapViewToScene(QPointF(50, 1.0))) == "r2"
    assert plot.run_at(plot.vb.mapViewToScene(QPointF(50, 0.0))) == "r1"
    assert plot.run_at(plot.vb.mapViewToScene(QPointF(50, 0.5))) is None
    pos = plot.mapFromScene(plot.vb.mapViewToScene(QPointF(50, 1.0)))
    with qtbot.waitSignal(view.sig_run_clicked) as blocker:
        qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == ["r2"]


def test_settings_signal_only_for_user_edits(view, qtbot):
    seen = []
    view.sig_settings_changed.connect(seen.append)
    view.set_settings(ChartSettings(smoothing=0.3, columns=2))
    assert seen == [] and view.toolbar.smoothing_label.text() == "0.30"
    view.toolbar.smoothing.setValue(90)
    view.toolbar.columns.setValue(4)
    view.toolbar.x_axis.setCurrentIndex(view.toolbar.x_axis.findData("wall"))
    view.toolbar.outliers.setChecked(False)
    view.toolbar.raw.setChecked(False)
    assert [s.smoothing for s in seen] == [0.9, 0.9, 0.9, 0.9, 0.9]
    assert seen[-1] == ChartSettings(smoothing=0.9, columns=4, x_axis="wall",
                                     ignore_outliers=False, show_raw=False)
    assert view.settings() == seen[-1]


def test_legend_toggle(view):
    fill(view, keys=["k"], n=10)
    plot = view.plot("k")
    assert plot.legend.isVisible()
    view.toolbar.legend.setChecked(False)
    view.redraw_now()
    assert not view.settings().show_legend and not plot.legend.isVisible()


def test_legend_fits_a_small_panel(view):
    runs = [(f"r{i}", f"run-{i}", "#4e79a7", T0) for i in range(30)]
    fill(view, keys=["k"], runs=runs, n=10)
    plot = view.plot("k")
    labels = [item[1].text for item in plot.legend.items]
    assert labels[-1] == f"+{30 - len(labels) + 1} more" and len(labels) <= 24
    legend = plot.legend.boundingRect()  # the curves stay visible around it
    assert legend.height() <= plot.vb.height() / 2 and legend.width() <= plot.vb.width() * 0.6


def test_columns_lay_out_the_grid(view):
    view.set_settings(ChartSettings(columns=2))
    fill(view, keys=["g/a", "g/b", "g/c"], n=10)
    section = view._sections["g"]
    positions = [section.grid.getItemPosition(section.grid.indexOf(view.plot(k)))[:2]
                 for k in ("g/a", "g/b", "g/c")]
    assert positions == [(0, 0), (0, 1), (1, 0)]
    assert view.plot("g/a").height() >= 240


def test_auto_columns_follow_the_width(view, qtbot):
    assert view.settings().columns == COLUMNS_AUTO
    fill(view, keys=["g/a", "g/b", "g/c"], n=10)
    section = view._sections["g"]

    def row_of(key):
        return section.grid.getItemPosition(section.grid.indexOf(view.plot(key)))[0]

    view.resize(1300, 800)  # ~1,280 px of grid: three panels side by side
    qtbot.waitUntil(lambda: section.columns() == 3)
    assert [row_of(k) for k in ("g/a", "g/b", "g/c")] == [0, 0, 0]
    view.resize(700, 800)  # narrow: one per row, each still wide enough to read
    qtbot.waitUntil(lambda: section.columns() == 1)
    assert [row_of(k) for k in ("g/a", "g/b", "g/c")] == [0, 1, 2]
    assert view.toolbar.columns.text() == "Cols auto"


def test_apply_theme_rereads_pyqtgraph_colours(view):
    fill(view, keys=["k"], n=10)
    old = (pg.getConfigOption("background"), pg.getConfigOption("foreground"))
    try:
        pg.setConfigOptions(background="#101010", foreground="#eeeeee")
        view.apply_theme()
        plot = view.plot("k")
        assert plot.backgroundBrush().color().name() == "#101010"
        assert plot.getPlotItem().getAxis("left").textPen().color().name() == "#eeeeee"
    finally:
        pg.setConfigOptions(background=old[0], foreground=old[1])
        view.apply_theme()


def test_wheel_scrolls_the_page_ctrl_wheel_zooms(view, qtbot):
    fill(view, keys=["k"], n=100)
    plot = view.plot("k")
    before = plot.vb.viewRange()[0]
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent

    def wheel(mods):
        pos = plot.mapFromScene(plot.vb.sceneBoundingRect().center())
        ev = QWheelEvent(QPointF(pos), QPointF(plot.mapToGlobal(pos)), QPoint(0, 0),
                         QPoint(0, 120), Qt.MouseButton.NoButton, mods,
                         Qt.ScrollPhase.NoScrollPhase, False)
        plot.wheelEvent(ev)
        return ev

    assert not wheel(Qt.KeyboardModifier.NoModifier).isAccepted()
    assert plot.vb.viewRange()[0] == before
    wheel(Qt.KeyboardModifier.ControlModifier)
    after = plot.vb.viewRange()[0]
    assert after[1] - after[0] < before[1] - before[0]


def test_live_append_onto_an_empty_series_draws_the_new_points(qtbot):
    """A run's first chunk arrives after the panel already showed it empty (a live run)."""
    import numpy as np

    from app.qt.charts.panel import ChartsView

    view = ChartsView()
    qtbot.addWidget(view)
    view.resize(800, 500)
    view.show()
    view.set_runs([("r", "run", "#1f77b4", 0)])
    view.set_keys(["loss"])
    empty = np.empty(0, np.int64)
    view.set_series("r", "loss", empty, np.empty(0), empty)
    view.redraw_now()
    steps = np.arange(10, dtype=np.int64)
    view.set_series("r", "loss", steps, np.linspace(1, 0, 10), steps * 1000)
    view.redraw_now()
    qtbot.waitUntil(lambda: view.plot("loss").drawn("r") is not None and len(view.plot("loss").drawn("r")[0]) == 10)


def _pixels_near(image, color: str, tolerance: int = 40) -> int:
    """How many pixels of ``image`` are within ``tolerance`` of ``color`` (per channel)."""
    from PySide6.QtGui import QColor

    want = QColor(color)
    arr = np.frombuffer(image.convertToFormat(image.Format.Format_RGB32).constBits(), np.uint8)
    arr = arr.reshape(image.height(), image.width(), 4)[:, :, :3].astype(int)  # BGRA in memory
    diff = np.abs(arr - np.array([want.blue(), want.green(), want.red()]))
    return int((diff.max(axis=2) <= tolerance).sum())


def test_a_metric_logged_once_shows_as_a_dot(view):
    """One point makes a line of no length: without a dot it would not show at all (a final
    test score, MLflow's one-off metrics, TensorBoard's hparam metrics)."""
    view.set_settings(ChartSettings(show_legend=False))  # its line sample has the run's colour
    view.set_runs([RUNS[0]])
    view.set_keys(["test/score"])
    view.set_series("r1", "test/score", np.array([3]), np.array([0.9]), np.array([T0]))
    view.redraw_now()
    plot = view.plot("test/score")
    assert _pixels_near(plot.grab().toImage(), RUNS[0][2]) >= 12  # a visible dot, not a pixel
