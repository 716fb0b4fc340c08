"""Smoothing matches TensorBoard's classicSmoothing exactly, without a Python loop."""

import math

import numpy as np
import pytest

from app.core.smoothing import ema_debiased, moving_average


def reference_ema(values, weight):
    """Line-by-line port of TensorBoard's classicSmoothing (data_transformer.ts)."""
    values = [float(v) for v in values]
    if values and all(v == values[0] for v in values):  # TensorBoard #786
        return np.array(values)
    last, num_accum, out = 0.0, 0, []
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1 - weight) * v
        num_accum += 1
        out.append(last / (1 - weight**num_accum))
    return np.array(out)


def reference_moving_average(values, window):
    finite = [v for v in values if math.isfinite(v)]
    out, k = [], 0
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        k += 1
        win = finite[max(0, k - window) : k]
        out.append(sum(win) / len(win))
    return np.array(out)


def noisy(n, seed):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=n) * 10 + 3
    v[rng.random(n) < 0.02] = np.nan
    v[rng.random(n) < 0.005] = np.inf
    v[rng.random(n) < 0.005] = -np.inf
    return v


def test_hand_computed_weight_06():
    # last: 0.4, 0.4*0.6+0.8=1.04, 1.04*0.6+1.2=1.824
    # debias: 1-0.6=0.4, 1-0.36=0.64, 1-0.216=0.784
    expected = [0.4 / 0.4, 1.04 / 0.64, 1.824 / 0.784]  # 1, 1.625, 2.32653...
    np.testing.assert_allclose(ema_debiased(np.array([1.0, 2.0, 3.0]), 0.6), expected, rtol=1e-12)
    assert expected[1] == pytest.approx(1.625)


def test_non_finite_passed_through_and_skipped():
    out = ema_debiased(np.array([1.0, np.nan, 2.0, np.inf, -np.inf, 3.0]), 0.6)
    assert np.isnan(out[1]) and out[3] == np.inf and out[4] == -np.inf
    # The finite points smooth exactly as if the others were absent.
    np.testing.assert_allclose(out[[0, 2, 5]], [1.0, 1.625, 1.824 / 0.784], rtol=1e-12)


@pytest.mark.parametrize("weight", [0.01, 0.3, 0.6, 0.9, 0.99, 0.999, 0.99999])
@pytest.mark.parametrize("n", [1, 2, 63, 64, 65, 4096 + 7, 64**3 + 11])
def test_matches_reference_loop(weight, n):
    v = noisy(n, seed=n)
    np.testing.assert_allclose(
        ema_debiased(v, weight), reference_ema(v, weight), rtol=1e-9, atol=1e-12
    )


def test_weight_zero_is_identity_and_returns_a_copy():
    v = noisy(1000, 1)
    out = ema_debiased(v, 0.0)
    np.testing.assert_array_equal(out, v)
    assert out is not v and not np.shares_memory(out, v)


def test_constant_series_unchanged_like_tensorboard():
    v = np.full(10_000, 0.1)
    np.testing.assert_array_equal(ema_debiased(v, 0.9), v)


def test_edge_inputs():
    assert ema_debiased(np.array([]), 0.6).shape == (0,)
    out = ema_debiased(np.array([np.nan, np.nan]), 0.6)
    assert np.isnan(out).all()
    assert ema_debiased([5.0], 0.6).tolist() == [5.0]
    assert ema_debiased(np.array([1, 2, 3], dtype=np.int64), 0.6).dtype == np.float64


@pytest.mark.parametrize("weight", [-0.1, 1.0, 1.5, float("nan")])
def test_weight_out_of_range(weight):
    with pytest.raises(ValueError):
        ema_debiased(np.array([1.0, 2.0]), weight)


def test_input_not_modified():
    v = noisy(500, 2)
    before = v.copy()
    ema_debiased(v, 0.6)
    moving_average(v, 5)
    np.testing.assert_array_equal(v, before)


def test_moving_average_hand_computed():
    v = np.array([1.0, 2.0, np.nan, 3.0, 10.0])
    out = moving_average(v, 2)
    # Windows over the finite points: [1], [1,2], gap, [2,3], [3,10].
    np.testing.assert_allclose(out[[0, 1, 3, 4]], [1.0, 1.5, 2.5, 6.5])
    assert np.isnan(out[2])


@pytest.mark.parametrize("window", [1, 2, 7, 100, 5000])
@pytest.mark.parametrize("n", [1, 5, 1201])
def test_moving_average_matches_reference(window, n):
    v = noisy(n, seed=window + n) + 1000  # offset: checks the cumulative sum stays precise
    np.testing.assert_allclose(
        moving_average(v, window), reference_moving_average(v, window), rtol=1e-9
    )


def test_moving_average_bad_window():
    with pytest.raises(ValueError):
        moving_average(np.array([1.0]), 0)
