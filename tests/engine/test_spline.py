"""The lean not-a-knot spline and the sliding resampler of the live engine."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from coreg.engine import spline


@pytest.mark.parametrize("n", [4, 5, 7, 50, 400])
def test_interpolate_equals_scipy_not_a_knot(n: int) -> None:
    rng = np.random.default_rng(n)
    for _ in range(10):
        t = np.cumsum(rng.uniform(0.3, 1.6, n))
        y = rng.normal(800.0, 60.0, n)
        grid = np.sort(rng.uniform(t[0], t[-1], 3 * n))
        grid[0], grid[-1] = t[0], t[-1]
        ref = CubicSpline(t, y, bc_type="not-a-knot")(grid)
        np.testing.assert_allclose(spline.interpolate(t, y, grid), ref, rtol=1e-10, atol=0)


def _knots(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rr = 800.0 + 60.0 * np.sin(np.arange(n) * 0.45) + rng.normal(0.0, 25.0, n)
    return np.cumsum(rr) / 1000.0, rr


def test_sliding_resampler_equals_one_spline_through_all_knots() -> None:
    """Sliding 300 s windows updated every ~5 s, the last 3 knots revised at each update (as
    provisional beats are): the grid equals one spline through everything received."""
    t, y = _knots(2500, seed=3)
    rng = np.random.default_rng(4)
    res = spline.SlidingResampler(4.0)
    origin = t[0]
    worst = 0.0
    end = 40
    while end < len(t):
        yy = y[:end].copy()
        yy[-3:] += rng.normal(0.0, 30.0, 3)  # provisional values, revised later
        lo = int(np.searchsorted(t, t[end - 1] - 300.0)) - 1
        lo = max(lo, 0)
        grid, vals = res.update(t[lo:end], yy[lo:end])
        assert np.allclose(np.diff(grid), 0.25)
        assert abs(((grid[0] - origin) * 4.0) - round((grid[0] - origin) * 4.0)) < 1e-6
        assert grid[0] >= t[lo] - 1e-9 and grid[-1] <= t[end - 1] + 1e-9
        ref = spline.interpolate(t[:end], yy, grid)
        worst = max(worst, float(np.max(np.abs(vals - ref) / np.abs(ref))))
        end += int(rng.integers(3, 9))
    assert worst < 1e-9


def test_sliding_resampler_restarts_after_a_gap_or_a_shift() -> None:
    t, y = _knots(600, seed=5)
    res = spline.SlidingResampler(4.0)
    res.update(t[:300], y[:300])
    # No overlap with the previous window: a new grid anchored at the new first knot.
    grid, vals = res.update(t[400:], y[400:])
    assert grid[0] == pytest.approx(t[400])
    np.testing.assert_allclose(vals, spline.interpolate(t[400:], y[400:], grid), rtol=1e-12)
    # The same beats moved by 20 ms (times re-anchored): recomputed from scratch.
    grid, vals = res.update(t[400:] - 0.02, y[400:])
    assert grid[0] == pytest.approx(t[400] - 0.02)
    np.testing.assert_allclose(vals, spline.interpolate(t[400:] - 0.02, y[400:], grid),
                               rtol=1e-12)
