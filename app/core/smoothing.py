"""Curve smoothing, vectorised so that a 1M-point series smooths in milliseconds.

Smoothing always runs on the full-resolution series, before any decimation (DESIGN §4):
smoothing a decimated series would change with the zoom level.
"""

from __future__ import annotations

import numpy as np

# Block length for the blocked linear recurrence: log2(_BLOCK) vectorised passes per
# level, and each level is _BLOCK times shorter than the one below. 64 measured as fast
# as any other choice (16-128 tried; ~35 ms per 1M points) and keeps the recursion 4 levels deep at 1M.
_BLOCK = 64
# Powers of the weight below this are flushed to zero: they no longer change a double,
# and denormals make numpy arithmetic crawl.
_TINY = 1e-300


def _linear_recurrence(u: np.ndarray, a: float, s0: float = 0.0) -> np.ndarray:
    """Solve s[k] = a * s[k-1] + u[k] with s[-1] = s0, for 0 <= a < 1, without a
    Python loop over points.

    Why blocks: the closed form s[k] = sum_i a**(k-i) u[i] needs a**-i factors that
    overflow (a=0.01 overflows after ~150 points) and lose precision when factored out.
    Inside a block of b points a doubling scan (Hillis-Steele: after the pass with
    distance d every point holds the sum of its last 2d inputs) only uses a**d with
    d < b, so nothing overflows. The block ends then obey the same recurrence with
    factor a**b; it is solved recursively and fed back into every block.
    Plain elementwise numpy on purpose: a matmul formulation is as fast alone but goes
    through multithreaded BLAS, measured 3-4x slower when other threads are busy.
    """
    n = u.shape[0]
    if n == 0:
        return u.astype(np.float64, copy=True)
    b = min(_BLOCK, n)
    nblocks = -(-n // b)
    local = np.zeros((nblocks, b))
    local.reshape(-1)[:n] = u
    with np.errstate(under="ignore"):
        d = 1
        while d < b and a**d >= _TINY:
            # The right-hand side is evaluated into a temporary before the in-place add,
            # so every block reads the previous pass's values, as the scan requires.
            local[:, d:] += a**d * local[:, :-d]
            d *= 2
        carry_gain = a ** np.arange(1.0, b + 1.0)  # effect of the state entering a block
        carry_gain[carry_gain < _TINY] = 0.0
        a_block = a**b if a**b >= _TINY else 0.0

    # Each block was solved as if it started from state 0; add the true incoming state,
    # which is the previous block's last state.
    incoming = np.full(nblocks, float(s0))
    if nblocks > 1:
        incoming[1:] = _linear_recurrence(local[:-1, -1].copy(), a_block, s0)
    local += incoming[:, None] * carry_gain[None, :]
    return local.reshape(-1)[:n]


def _check_weight(weight: float) -> float:
    weight = float(weight)
    if not (0.0 <= weight < 1.0):
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight!r}")
    return weight


def ema_debiased(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's scalar smoothing (``classicSmoothing`` in
    tensorboard/webapp/widgets/line_chart_v2/data_transformer.ts), vectorised.

    Reference semantics, per point::

        last = 0; num_accum = 0
        for v in values:
            if not finite(v): out.append(v); continue   # passed through, state untouched
            last = last * w + (1 - w) * v
            num_accum += 1
            out.append(last / (1 - w ** num_accum))     # debias the zero start

    Like TensorBoard, a constant series is returned unchanged (its issue #786: the
    debiased EMA of a constant drifts by rounding error, which draws as noise on a
    flat line). ``weight`` must be in [0, 1); 0 returns the values unchanged.
    TensorBoard also accepts 1 (a flat zero line), which is useless, so it is rejected.
    Always returns a new float64 array of the same length.
    """
    w = _check_weight(weight)
    y = np.array(values, dtype=np.float64, copy=True).reshape(-1)
    if w == 0.0 or y.size == 0 or np.all(y == y[0]):
        return y
    finite = np.isfinite(y)
    f = y[finite]
    if f.size == 0:
        return y
    state = _linear_recurrence((1.0 - w) * f, w)
    # 1 - w**k rounds to exactly 1.0 once w**k < 2**-54; stop computing powers there,
    # because np.power crawls through the denormal range (~40 ms per 1M points).
    k_max = min(f.size, int(np.ceil(54 * np.log(2) / -np.log(w))) + 1)
    state[:k_max] /= 1.0 - np.power(w, np.arange(1, k_max + 1, dtype=np.float64))
    y[finite] = state
    return y


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average over the last ``window`` finite points.

    Non-finite points are handled like ``ema_debiased`` handles them: passed through
    unchanged (so gaps stay visible) and skipped, so a window always holds up to
    ``window`` real measurements. The first points average what is available
    (no NaN warm-up), matching how the EMA starts on the first point.
    O(n) via a cumulative sum; the mean is subtracted first so the running sum stays
    small and the window differences lose little precision on long series.
    """
    window = int(window)
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    y = np.array(values, dtype=np.float64, copy=True).reshape(-1)
    finite = np.isfinite(y)
    f = y[finite]
    if window == 1 or f.size == 0:
        return y
    offset = f.mean()
    csum = np.cumsum(f - offset)  # csum[i] = sum of f[0..i] (shifted)
    sums = csum.copy()
    sums[window:] -= csum[:-window]  # drop what left the window
    counts = np.minimum(np.arange(1, f.size + 1, dtype=np.float64), window)
    y[finite] = sums / counts + offset
    return y
