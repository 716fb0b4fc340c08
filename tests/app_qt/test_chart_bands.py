"""Grouped runs in the charts (app.qt.charts.bands / grouped): one line per group with a band,
legend counts, centre/band switches, live updates, ungrouping, background computation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from app.core.chart_settings import ChartSettings
from app.core.smoothing import ema_debiased
from app.qt.charts import ChartsView, grouped
from app.qt.charts.bands import envelope
from tracker_sdk.entities import RunInfo, RunStatus

KEY = "loss"
STEPS = np.arange(100)
LRS = {"0.01": 1.0, "0.001": 2.0}  # lr -> level
OFFSET = {1: 0.1, 2: 0.2, 3: 0.6}  # seed -> offset: mean 0.3, median 0.2, sample std sqrt(.07)
STD = np.sqrt(0.07)


def info(rid: str, lr: str, seed: int) -> RunInfo:
    return RunInfo(id=rid, name=rid, experiment="e", status=RunStatus.FINISHED, start_time=0,
                   end_time=1, params={"lr": lr, "depth": "4"}, tags={"seed": str(seed)})


RUNS = [(f"{lr}-s{seed}", lr, seed) for lr in LRS for seed in OFFSET]


def values(lr: str, seed: int, steps=STEPS) -> np.ndarray:
    return LRS[lr] + OFFSET[seed] + 0.01 * steps


@pytest.fixture
def view(qtbot):
    # Outliers off: these tests check that the y range shows the whole band.
    v = ChartsView(settings=ChartSettings(smoothing=0.0, group_by=("params.lr",), ignore_outliers=False))
    qtbot.addWidget(v)
    v.resize(1200, 800)
    v.show()
    v.set_run_info({rid: info(rid, lr, seed) for rid, lr, seed in RUNS})
    v.set_runs([(rid, rid, "#4e79a7", 0) for rid, _, _ in RUNS])
    v.set_keys([KEY])
    for rid, lr, seed in RUNS:
        v.set_series(rid, KEY, STEPS, values(lr, seed), 1000 * STEPS)
    v.redraw_now()
    return v


def lines(view):
    return {g.label: g for g in view.run_groups(KEY)}


def edit(view, **changes):
    view.set_settings(replace(view.settings(), **changes))
    view.redraw_now()


def test_two_group_lines_with_mean_std_band_and_counts(view):
    g = lines(view)
    assert list(g) == ["lr=0.001", "lr=0.01"]  # natural order of the values
    for label, level in (("lr=0.001", 2.0), ("lr=0.01", 1.0)):
        band = g[label].band
        mean = level + 0.3 + 0.01 * STEPS
        np.testing.assert_allclose(band.center, mean)
        np.testing.assert_allclose(band.lower, mean - STD)
        np.testing.assert_allclose(band.upper, mean + STD)
        assert band.n_runs == 3
    plot = view.plot(KEY)
    assert [item[1].text for item in plot.legend.items] == ["lr=0.001 (n=3)", "lr=0.01 (n=3)"]
    assert plot.legend.band_alpha is not None
    # one drawn line per group in its own colour; the member runs are hidden
    a, b = (view.run_groups(KEY)[i] for i in (0, 1))
    assert a.color != b.color and plot.pen_color(a.id) == a.color
    np.testing.assert_allclose(plot.drawn(a.id)[1], 2.3 + 0.01 * STEPS)
    assert all(plot.drawn(rid) is None for rid, _, _ in RUNS)
    # the band as drawn, and the y range shows it
    x, lo, hi = view.band_overlay(KEY).drawn(a.id)
    np.testing.assert_allclose(hi, 2.3 + STD + 0.01 * x)
    y0, y1 = plot.vb.viewRange()[1]
    assert y0 < 1.3 - STD and y1 > 3.29 + STD


def test_center_and_band_switches(view):
    edit(view, group_center="median", group_band="minmax")
    band = lines(view)["lr=0.01"].band
    np.testing.assert_allclose(band.center, 1.2 + 0.01 * STEPS)
    np.testing.assert_allclose(band.lower, 1.1 + 0.01 * STEPS)
    np.testing.assert_allclose(band.upper, 1.6 + 0.01 * STEPS)
    edit(view, group_center="mean", group_band="stderr")
    band = lines(view)["lr=0.01"].band
    np.testing.assert_allclose(band.upper - band.center, STD / np.sqrt(3))
    edit(view, group_band="none")
    assert lines(view)["lr=0.01"].band.lower is None
    assert view.band_overlay(KEY).drawn(view.run_groups(KEY)[0].id) is None
    assert view.plot(KEY).legend.band_alpha is None


def test_smoothing_comes_before_aggregation(view):
    edit(view, smoothing=0.6)
    rng = np.random.default_rng(1)
    noisy = {rid: values(lr, seed) + rng.normal(0, 0.2, STEPS.size) for rid, lr, seed in RUNS}
    for rid, _, _ in RUNS:
        view.set_series(rid, KEY, STEPS, noisy[rid], 1000 * STEPS)
    view.redraw_now()
    members = [rid for rid, lr, _ in RUNS if lr == "0.01"]
    expected = np.mean([ema_debiased(noisy[r], 0.6) for r in members], axis=0)
    np.testing.assert_allclose(lines(view)["lr=0.01"].band.center, expected)


def test_live_append_updates_only_its_group(view):
    before = lines(view)
    longer = np.arange(150)
    view.set_series("0.01-s3", KEY, longer, values("0.01", 3, longer), 1000 * longer)
    view.redraw_now()
    after = lines(view)
    band = after["lr=0.01"].band
    assert band.x[-1] == 149 and band.n[-1] == 1
    assert band.center[120] == pytest.approx(1.6 + 1.2)  # only the grown run out there
    assert after["lr=0.001"].band is before["lr=0.001"].band  # unchanged group reused
    assert view.plot(KEY).drawn(after["lr=0.01"].id)[0][-1] == 149


def test_group_by_two_fields_and_a_missing_one(view):
    edit(view, group_by=("params.lr", "tags.seed"))
    assert len(view.run_groups(KEY)) == 6
    assert lines(view)["lr=0.01, seed=2"].legend == "lr=0.01, seed=2 (n=1)"
    edit(view, group_by=("params.depth",))
    assert [g.legend for g in view.run_groups(KEY)] == ["depth=4 (n=6)"]
    edit(view, group_by=("tags.nothing",))
    assert [g.legend for g in view.run_groups(KEY)] == ["nothing=— (n=6)"]


def test_ungrouping_restores_run_curves(view):
    edit(view, group_by=())
    plot = view.plot(KEY)
    assert view.run_groups(KEY) == []
    labels = [item[1].text for item in plot.legend.items]
    names = [rid for rid, _, _ in RUNS]
    if labels[-1].startswith("+"):  # a small panel: the first runs, then how many more
        assert labels[:-1] == names[: len(labels) - 1]
        assert labels[-1] == f"+{len(names) - len(labels) + 1} more"
    else:
        assert labels == names
    for rid, lr, seed in RUNS:
        np.testing.assert_allclose(plot.drawn(rid)[1], values(lr, seed))
    assert view.band_overlay(KEY).drawn("group:lr=0.01") is None
    assert plot.legend.band_alpha is None


def test_crosshair_lists_group_means(view):
    view.show_crosshair_at(50.0)
    text = view.plot(KEY).readout_text()
    assert text.splitlines()[0] == "step 50 · mean"
    assert "lr=0.001 (n=3): 2.8" in text and "lr=0.01 (n=3): 1.8" in text


def test_clicking_a_group_line_selects_no_run(view, qtbot):
    seen = []
    view.sig_run_clicked.connect(seen.append)
    view.plot(KEY).sig_run_clicked.emit("group:lr=0.01")
    view.plot(KEY).sig_run_clicked.emit("0.01-s1")
    assert seen == ["0.01-s1"]


def test_group_menu_lists_params_and_tags(view, qtbot):
    bar = view.toolbar
    assert bar.group.text() == "Group: lr" and bar.center.isVisibleTo(bar)
    bar._fill_group_menu()
    acts = {a.text(): a for a in bar.group_menu.actions() if a.isCheckable()}
    assert set(acts) == {"depth", "lr", "seed"} and acts["lr"].isChecked()
    with qtbot.waitSignal(view.sig_settings_changed) as blocker:
        acts["seed"].trigger()
    assert blocker.args[0].group_by == ("params.lr", "tags.seed")
    assert len(view.run_groups(KEY)) == 2  # redrawn by the timer
    view.redraw_now()
    assert len(view.run_groups(KEY)) == 6
    none = next(a for a in bar.group_menu.actions() if a.text().startswith("None"))
    with qtbot.waitSignal(view.sig_settings_changed) as blocker:
        none.trigger()
    assert blocker.args[0].group_by == ()
    assert bar.group.text() == "Group by" and not bar.center.isVisibleTo(bar)


def test_big_groups_compute_in_the_background_coalesced(view, qtbot, monkeypatch):
    monkeypatch.setattr(grouped, "SYNC_POINTS", 0)
    edit(view, group_center="median")  # new settings: nothing to show until computed
    assert view.busy()
    assert view.plot(KEY).placeholder_text() == "loading…"
    qtbot.waitUntil(lambda: not view.busy() and len(view.run_groups(KEY)) == 2, timeout=5000)
    np.testing.assert_allclose(lines(view)["lr=0.01"].band.center, 1.2 + 0.01 * STEPS)
    # live appends while a job runs: the old lines stay up, the newest data wins
    for n in (110, 120, 130):
        s = np.arange(n)
        view.set_series("0.01-s1", KEY, s, values("0.01", 1, s), 1000 * s)
        view.redraw_now()
        assert len(view.run_groups(KEY)) == 2
    qtbot.waitUntil(lambda: not view.busy()
                    and lines(view)["lr=0.01"].band.x[-1] == 129, timeout=5000)


def test_envelope_keeps_each_columns_extremes():
    x = np.arange(10_000, dtype=float)
    lower = -np.abs(np.sin(x))
    upper = np.abs(np.cos(x))
    lower[5_000] = -50.0
    xs, lo, hi = envelope(x, lower, upper, (0.0, 9_999.0), 100)
    assert xs.size <= 102 and lo.min() == -50.0 and hi.max() == pytest.approx(upper.max())
    xs, lo, hi = envelope(x, lower, upper, (100.0, 150.0), 100)  # zoomed in: the points
    np.testing.assert_array_equal(xs, x[99:152])


def test_log_y_draws_the_log_of_the_aggregate(view):
    edit(view, log_y=True, group_band="minmax")
    g = lines(view)["lr=0.01"]
    np.testing.assert_allclose(view.plot(KEY).drawn(g.id)[1], np.log10(1.3 + 0.01 * STEPS))
    x, lo, hi = view.band_overlay(KEY).drawn(g.id)
    np.testing.assert_allclose(hi, np.log10(1.6 + 0.01 * x))


def test_settings_round_trip_and_tolerance():
    s = ChartSettings(group_by=("params.lr", "tags.seed"), group_center="median",
                      group_band="stderr")
    assert ChartSettings.from_dict(s.to_dict()) == s
    assert s.to_dict()["group_by"] == ["params.lr", "tags.seed"]
    assert ChartSettings.from_dict({"group_by": "params.lr"}).group_by == ("params.lr",)
    bad = ChartSettings.from_dict({"group_by": ["lr", 3, "params.lr", "params.lr"],
                                   "group_center": "mode", "group_band": None})
    assert bad.group_by == ("params.lr",)
    assert (bad.group_center, bad.group_band) == ("mean", "std")
    assert ChartSettings.from_dict({"group_by": 5}).group_by == ()


def test_grouping_with_ignore_outliers_draws_without_error(qtbot):
    """Group lines have no raw display; the outlier-aware y range must cope."""
    import numpy as np

    from app.core.chart_settings import ChartSettings
    from app.qt.charts.panel import ChartsView
    from tracker_sdk.entities import RunInfo, RunStatus

    view = ChartsView()
    qtbot.addWidget(view)
    view.resize(800, 500)
    view.show()
    runs = {f"r{i}": RunInfo(id=f"r{i}", name=f"r{i}", experiment="e", status=RunStatus.FINISHED, start_time=0,
                             end_time=1, params={"lr": str(i % 2)}) for i in range(4)}
    view.set_run_info(runs)
    view.set_runs([(rid, rid, "#1f77b4", 0) for rid in runs])
    view.set_keys(["loss"])
    steps = np.arange(200, dtype=np.int64)
    for i, rid in enumerate(runs):
        values = np.exp(-steps / 50) + i * 0.01
        values[::37] = 50.0  # outliers
        view.set_series(rid, "loss", steps, values, steps * 1000)
    view.set_settings(ChartSettings(group_by=("params.lr",), ignore_outliers=True, smoothing=0.6))
    view.redraw_now()
    qtbot.waitUntil(lambda: len(view.run_groups("loss")) == 2)
    view.redraw_now()
    lo, hi = view.plot("loss").vb.viewRange()[1]
    assert hi < 50  # the outliers do not set the axis
