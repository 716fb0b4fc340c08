import math

import numpy as np
import pytest

from app.core.correlation import (
    Axis,
    ParamCorrelation,
    axis_values,
    brush_filter,
    param_importance,
    spearman,
)
from tracker_sdk.entities import MetricSummary, RunInfo, RunStatus

nan = math.nan
inf = math.inf


def run(id, params, loss=None):
    metrics = {} if loss is None else {
        "loss": MetricSummary(key="loss", last=loss, last_step=1, min=loss, max=loss, count=1,
                              last_time=0)}
    return RunInfo(id=id, name=id, experiment="e", status=RunStatus.FINISHED, start_time=0,
                   end_time=1, params=params, metrics=metrics)


# --- spearman -------------------------------------------------------------------------


def test_spearman_no_ties_matches_the_d_squared_formula():
    # d = [-1, 1, -1, 1, 0], sum d^2 = 4: rho = 1 - 6*4 / (5*24) = 0.8
    assert spearman(np.array([1, 2, 3, 4, 5]), np.array([2, 1, 4, 3, 5])) == pytest.approx(0.8)


def test_spearman_ties_get_average_ranks():
    # y ranks [1, 2, 3.5, 5, 3.5]; dx = [-2,-1,0,1,2], dy = [-2,-1,.5,2,.5]
    # rho = 8 / sqrt(10 * 9.5) = 0.8207826816681233
    rho = spearman(np.array([1.0, 2, 3, 4, 5]), np.array([5.0, 6, 7, 8, 7]))
    assert rho == pytest.approx(8 / math.sqrt(95))


def test_spearman_monotone_is_plus_or_minus_one():
    x = np.array([1.0, 2, 3, 4])
    assert spearman(x, x**2) == pytest.approx(1.0)
    assert spearman(x, -np.exp(x)) == pytest.approx(-1.0)


def test_spearman_drops_nan_pairs_and_ranks_inf():
    # kept pairs (1,2), (2,1), (4,3): ranks [1,2,3] vs [2,1,3] -> 1 / 2
    x = np.array([1.0, 2.0, nan, 3.0, 4.0])
    y = np.array([2.0, 1.0, 5.0, nan, 3.0])
    assert spearman(x, y) == pytest.approx(0.5)
    # inf is the largest value: ranks [1,3,2] vs [1,2,3] -> 0.5
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([1.0, inf, 2.0])) == pytest.approx(0.5)


def test_spearman_undefined_cases_are_nan():
    assert math.isnan(spearman(np.array([1.0, 2.0]), np.array([1.0, 2.0])))
    assert math.isnan(spearman(np.array([1.0, 2.0, nan]), np.array([1.0, 2.0, 3.0])))
    assert math.isnan(spearman(np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0])))
    with pytest.raises(ValueError):
        spearman(np.zeros(3), np.zeros(4))


# --- axes -------------------------------------------------------------------------------


def test_axis_numeric_with_missing():
    a = axis_values(["0.1", "0.2", None, "0.4"])
    assert a.kind == "numeric" and a.labels is None
    np.testing.assert_allclose(a.positions, [0.1, 0.2, nan, 0.4])
    assert a.range == (0.1, 0.4)
    np.testing.assert_array_equal(a.missing, [False, False, True, False])


def test_axis_log_when_spanning_three_decades():
    a = axis_values(["1e-5", "0.001", "1e-2"])
    assert a.kind == "log"
    np.testing.assert_allclose(a.positions, [-5.0, -3.0, -2.0])
    assert a.range == pytest.approx((-5.0, -2.0))
    assert axis_values(["1e-5", "0.001", "1e-2"], log=False).kind == "numeric"
    assert axis_values(["1", "10", "99"]).kind == "numeric"  # under 3 decades
    assert axis_values(["0", "1", "1000"], log=True).kind == "numeric"  # log(0) impossible


def test_axis_mixed_is_categorical_numbers_first():
    a = axis_values(["10", "2", "adam", None, "sgd", "2"])
    assert a.kind == "categorical"
    assert a.labels == ["2", "10", "adam", "sgd"]
    np.testing.assert_array_equal(a.positions, [1.0, 0.0, 2.0, nan, 3.0, 0.0])
    assert a.range == (0.0, 3.0)


def test_axis_string_inf_and_booleans_are_categories():
    assert axis_values(["1", "inf", "5"]).labels == ["1", "5", "inf"]
    assert axis_values(["True", "False", "True"]).labels == ["False", "True"]


def test_axis_metric_floats_non_finite_are_missing():
    a = axis_values(np.array([0.5, nan, inf, 1.5]))
    assert a.kind == "numeric"
    np.testing.assert_array_equal(a.positions, [0.5, nan, nan, 1.5])
    assert a.range == (0.5, 1.5)
    b = axis_values([0.5, nan, None, 1.5])
    np.testing.assert_array_equal(b.positions, [0.5, nan, nan, 1.5])


def test_axis_all_missing():
    a = axis_values([None, None])
    assert a.kind == "numeric" and np.isnan(a.positions).all() and a.range == (0.0, 0.0)
    assert axis_values([]).positions.shape == (0,)


# --- brushing ---------------------------------------------------------------------------


AXES = {
    "lr": axis_values(["0.1", "0.2", None, "0.4"]),
    "opt": axis_values(["b", "a", "c", None]),  # positions [1, 0, 2, nan]
}


def test_brush_filter():
    np.testing.assert_array_equal(brush_filter(AXES, {}), [True] * 4)
    one = brush_filter(AXES, {"lr": (0.15, 0.5)})
    np.testing.assert_array_equal(one, [False, True, False, True])  # missing never passes
    np.testing.assert_array_equal(brush_filter(AXES, {"lr": (0.5, 0.15)}), one)  # reversed
    both = brush_filter(AXES, {"lr": (0.15, 0.5), "opt": (0.0, 1.0)})
    np.testing.assert_array_equal(both, [False, True, False, False])
    point = brush_filter(AXES, {"lr": (0.1, 0.1)})  # closed interval
    np.testing.assert_array_equal(point, [True, False, False, False])


def test_brush_filter_errors():
    with pytest.raises(KeyError):
        brush_filter(AXES, {"depth": (0, 1)})
    bad = {**AXES, "x": Axis("numeric", np.zeros(3), None, (0.0, 0.0))}
    with pytest.raises(ValueError):
        brush_filter(bad, {})
    assert brush_filter({}, {}).shape == (0,)


# --- param importance -------------------------------------------------------------------


def test_param_importance_hand_computed():
    losses = [1.0, 2.0, 3.0, 5.0, 4.0, 6.0]
    lr = ["0.1", "0.2", "0.3", "0.4", "0.5", None]
    opt = ["a", "a", "b", "b", "c", "c"]
    seed = ["1", "2", "3", "1", "2", "3"]
    neg = ["6", "5", "4", "3", "2", "1"]
    runs = [
        run(f"r{i}", {"lr": lr[i], "opt": opt[i], "seed": seed[i], "neg": neg[i],
                      "const": "x", "out": f"/runs/{i}"} if lr[i] else
            {"opt": opt[i], "seed": seed[i], "neg": neg[i], "const": "x", "out": f"/runs/{i}"},
            losses[i])
        for i in range(6)
    ]
    # no loss: dropped from every correlation
    runs.append(run("r6", {"lr": "0.6", "opt": "a", "seed": "1", "neg": "0", "const": "x",
                           "out": "/runs/6"}))
    # neg: y ranks [1,2,3,5,4,6] against 6..1: -(1 - 6*2/210) = -0.942857
    # lr: pairs r0..r4, y ranks [1,2,3,5,4]: 1 - 6*2/120 = 0.9
    # opt: dev of y ranks from 3.5 = [-2.5,-1.5,-.5,1.5,.5,2.5], SS_total 17.5; group sums
    #      a -4, b 1, c 3: SS_between 16/2 + 1/2 + 9/2 = 13; eta = sqrt(13 / 17.5)
    # seed: x ranks [1.5,3.5,5.5]*2: 6 / sqrt(16 * 17.5)
    # const: one category; out: every run its own category -> both NaN, last, by key
    assert param_importance(runs, "loss") == [
        ParamCorrelation("neg", pytest.approx(-(1 - 12 / 210)), 6, "numeric"),
        ParamCorrelation("lr", pytest.approx(0.9), 5, "numeric"),
        ParamCorrelation("opt", pytest.approx(math.sqrt(13 / 17.5)), 6, "categorical"),
        ParamCorrelation("seed", pytest.approx(6 / math.sqrt(280)), 6, "numeric"),
        ParamCorrelation("const", pytest.approx(nan, nan_ok=True), 6, "categorical"),
        ParamCorrelation("out", pytest.approx(nan, nan_ok=True), 6, "categorical"),
    ]


def test_param_importance_unknown_metric_is_all_nan():
    runs = [run("a", {"lr": "1"}, 1.0), run("b", {"lr": "2"}, 2.0), run("c", {"lr": "3"}, 3.0)]
    [c] = param_importance(runs, "acc")
    assert c.key == "lr" and c.n == 0 and math.isnan(c.rho)


def test_axis_mostly_distinct_values_take_the_bulk_path_with_the_same_rules():
    nums = [str(i) for i in range(10)]
    a = axis_values([*nums, None, nan])
    assert a.kind == "numeric"
    np.testing.assert_array_equal(a.positions, [*range(10), nan, nan])
    assert axis_values([*nums, "inf"]).labels == [*nums, "inf"]
    assert axis_values([*nums, "x"]).labels == [*nums, "x"]


def test_axis_numbers_given_as_numbers_among_text_are_labelled_like_the_table():
    a = axis_values([1.0, "adam", 0.5, nan, None])
    assert a.labels == ["0.5", "1", "adam"]
    np.testing.assert_array_equal(a.positions, [1.0, 2.0, 0.0, nan, nan])
