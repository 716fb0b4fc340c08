import math
import warnings

import numpy as np
import pytest

from app.core.grouping import aggregate_band, group_label, group_runs
from tracker_sdk.entities import RunInfo, RunStatus

nan = np.nan


def run(id, params=None, tags=None):
    return RunInfo(id=id, name=id, experiment="e", status=RunStatus.FINISHED, start_time=0,
                   end_time=1, params=params or {}, tags=tags or {})


RUNS = [
    run("a", {"lr": "0.01", "depth": "4"}, {"seed": "1"}),
    run("b", {"lr": "0.001", "depth": "4"}, {"seed": "2"}),
    run("c", {"lr": "0.01", "depth": "8"}),
    run("d", {"depth": "4"}),
    run("e", {"lr": "0.001", "depth": "4"}),
]


def test_group_runs_one_field_natural_order_missing_last():
    groups = group_runs(RUNS, ["params.lr"])
    assert list(groups.items()) == [
        (("0.001",), ["b", "e"]),
        (("0.01",), ["a", "c"]),
        ((None,), ["d"]),
    ]


def test_group_runs_numbers_sort_numerically():
    runs = [run(str(i), {"n": n}) for i, n in enumerate(["10", "9", "x", "100"])]
    assert list(group_runs(runs, ["params.n"])) == [("9",), ("10",), ("100",), ("x",)]


def test_group_runs_two_fields_and_tags():
    assert group_runs(RUNS, ["params.lr", "params.depth"]) == {
        ("0.001", "4"): ["b", "e"], ("0.01", "4"): ["a"], ("0.01", "8"): ["c"],
        (None, "4"): ["d"],
    }
    assert group_runs(RUNS, ["tags.seed"]) == {("1",): ["a"], ("2",): ["b"],
                                               (None,): ["c", "d", "e"]}
    assert group_runs(RUNS, []) == {(): ["a", "b", "c", "d", "e"]}


@pytest.mark.parametrize("spec", ["lr", "metrics.loss", "params.", "params"])
def test_group_runs_rejects_bad_fields(spec):
    with pytest.raises(ValueError):
        group_runs(RUNS, [spec])


def test_group_label():
    assert group_label(["params.lr", "params.depth"], ("0.001", "4")) == "lr=0.001, depth=4"
    assert group_label(["tags.seed"], (None,), n=3) == "seed=— (n=3)"
    assert group_label([], ()) == "all runs"


X = np.array([0, 1, 2])
SAME_X = [(X, np.array([1.0, 2.0, 3.0])), (X, np.array([3.0, 4.0, 5.0])),
          (X, np.array([2.0, 6.0, nan]))]


def test_band_identical_steps_mean_minmax():
    b = aggregate_band(SAME_X, center="mean", band="minmax")
    np.testing.assert_array_equal(b.x, [0, 1, 2])
    np.testing.assert_allclose(b.center, [2.0, 4.0, 4.0])  # (1+3+2)/3, (2+4+6)/3, (3+5)/2
    np.testing.assert_array_equal(b.lower, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(b.upper, [3.0, 6.0, 5.0])
    np.testing.assert_array_equal(b.n, [3, 3, 2])
    assert b.n_runs == 3 and len(b) == 3


def test_band_std_and_stderr_sample_deviation():
    # columns {1,3,2}: sd 1; {2,4,6}: sd 2; {3,5}: sd sqrt(2)
    b = aggregate_band(SAME_X, center="mean", band="std")
    np.testing.assert_allclose(b.upper - b.center, [1.0, 2.0, math.sqrt(2)])
    np.testing.assert_allclose(b.center - b.lower, [1.0, 2.0, math.sqrt(2)])
    e = aggregate_band(SAME_X, center="mean", band="stderr")
    np.testing.assert_allclose(e.upper - e.center, [1 / math.sqrt(3), 2 / math.sqrt(3), 1.0])


def test_band_median_odd_even_and_none():
    b = aggregate_band(SAME_X, center="median", band="none")
    np.testing.assert_allclose(b.center, [2.0, 4.0, 4.0])  # [1,2,3] -> 2, [2,4,6] -> 4, [3,5] -> 4
    assert b.lower is None and b.upper is None
    four = [(np.array([0]), np.array([v])) for v in (1.0, 10.0, 2.0, 3.0)]
    assert aggregate_band(four, center="median", band="none").center[0] == 2.5


def test_band_single_run_std_is_undefined_minmax_is_the_run():
    one = [(X, np.array([1.0, 2.0, 3.0]))]
    s = aggregate_band(one, center="mean", band="std")
    assert np.isnan(s.lower).all() and np.isnan(s.upper).all()
    m = aggregate_band(one, center="mean", band="minmax")
    np.testing.assert_array_equal(m.lower, [1.0, 2.0, 3.0])


def test_band_all_nan_column_is_nan_without_warnings():
    series = [(X, np.array([1.0, nan, 3.0])), (X, np.array([2.0, nan, nan]))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for center in ("mean", "median"):
            for band in ("minmax", "std", "stderr", "none"):
                b = aggregate_band(series, center=center, band=band)
                assert np.isnan(b.center[1]) and b.n[1] == 0
    np.testing.assert_allclose(b.center[[0, 2]], [1.5, 3.0])


def test_band_prefix_runs_shorter_run_stops_contributing():
    series = [(np.array([0, 10, 20, 30]), np.array([4.0, 3.0, 2.0, 1.0])),
              (np.array([0, 10]), np.array([2.0, 1.0]))]
    b = aggregate_band(series, center="mean", band="minmax")
    np.testing.assert_array_equal(b.x, [0, 10, 20, 30])
    np.testing.assert_allclose(b.center, [3.0, 2.0, 2.0, 1.0])
    np.testing.assert_array_equal(b.n, [2, 2, 1, 1])
    assert b.n_runs == 2


def test_band_coarser_cadence_is_interpolated_on_the_finer_steps():
    series = [(np.arange(5), np.arange(5.0)),
              (np.array([0, 2, 4]), np.array([10.0, 12.0, 14.0]))]  # 11 at 1, 13 at 3
    b = aggregate_band(series, center="mean", band="none")
    np.testing.assert_array_equal(b.x, [0, 1, 2, 3, 4])
    np.testing.assert_allclose(b.center, [5.0, 6.0, 7.0, 8.0, 9.0])
    np.testing.assert_array_equal(b.n, [2, 2, 2, 2, 2])


def test_band_small_union_of_offset_steps():
    series = [(np.array([0, 2, 4]), np.array([0.0, 2.0, 4.0])),
              (np.array([1, 3, 5]), np.array([1.0, 3.0, 5.0]))]
    b = aggregate_band(series, center="mean", band="minmax")
    np.testing.assert_array_equal(b.x, [0, 1, 2, 3, 4, 5])
    np.testing.assert_allclose(b.center, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])  # y = x for both
    np.testing.assert_array_equal(b.n, [1, 2, 2, 2, 2, 1])


def test_band_unrelated_x_uses_a_grid():
    series = [
        (np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0, 3.0])),  # y = x
        (np.array([0.25, 1.25, 2.25, 3.25]), np.array([0.5, 2.5, 4.5, 6.5])),  # y = 2x
        (np.array([0.5, 1.5, 2.5, 3.5]), np.full(4, 5.0)),  # y = 5
    ]
    # union of 12 > 2 x 4: grid of 4 points (the longest run) over [0, 3.5]
    b = aggregate_band(series, center="mean", band="none")
    np.testing.assert_allclose(b.x, [0.0, 7 / 6, 7 / 3, 3.5])
    np.testing.assert_array_equal(b.n, [1, 3, 3, 1])
    np.testing.assert_allclose(b.center, [0.0, (7 / 6 + 7 / 3 + 5) / 3,
                                          (7 / 3 + 14 / 3 + 5) / 3, 5.0])
    assert len(aggregate_band(series, center="mean", band="none", x_grid=8)) == 8


def test_band_empty_and_bad_input():
    assert len(aggregate_band([], center="mean", band="minmax")) == 0
    assert aggregate_band([(X[:0], X[:0])], center="mean", band="std").n_runs == 0
    with pytest.raises(ValueError):
        aggregate_band([(X, np.zeros(2))], center="mean", band="none")
    with pytest.raises(ValueError):
        aggregate_band(SAME_X, center="mode", band="none")
    with pytest.raises(ValueError):
        aggregate_band(SAME_X, center="mean", band="iqr")


