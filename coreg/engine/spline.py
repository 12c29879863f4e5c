"""A lean not-a-knot cubic interpolating spline for resampling NN series.

The live engine resamples a few hundred beats several times every 5 s; scipy's
``CubicSpline`` spends most of that time validating its input. This module solves the same
tridiagonal system for the knot slopes (one LAPACK ``dgtsv`` call) and evaluates
the piecewise cubic at a sorted grid with a handful of numpy operations. It gives the same
spline as ``CubicSpline(t, y, bc_type="not-a-knot")`` (tested to 1e-9 relative), for strictly
increasing knots.

References
----------
de Boor, C. (1978). A Practical Guide to Splines. Springer (ch. IV: cubic spline
interpolation; the not-a-knot end condition).
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
from numpy.typing import NDArray
from scipy.linalg.lapack import dgtsv as _dgtsv


def knot_slopes(t: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """First derivatives at the knots of the not-a-knot cubic spline (see :func:`_slopes`)."""
    return _slopes(t, y)[0]


def _slopes(
    t: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """First derivatives at the knots of the not-a-knot cubic spline through ``(t, y)``.

    Continuity of the second derivative at interior knots gives, for i = 1 … n−2,
    h_i m_{i−1} + 2 (h_{i−1} + h_i) m_i + h_{i−1} m_{i+1} = 3 (h_i s_{i−1} + h_{i−1} s_i)
    with h the knot spacings and s the chord slopes; the not-a-knot conditions (third
    derivative continuous at the second and the second-to-last knot) close the system
    (de Boor 1978, ch. IV). Needs at least 4 knots. Written for few numpy calls: the live
    engine solves small systems many times, where each call's overhead dominates.
    """
    h = t[1:] - t[:-1]
    s = y[1:] - y[:-1]
    s /= h
    n = len(t)
    h_lo = h[:-1]
    h_hi = h[1:]
    # Sub-diagonal: h_i in rows 1 … n−2, then the right end's coefficient.
    lower = np.empty(n - 1)
    lower[:-1] = h_hi
    # Super-diagonal: the left end's coefficient, then h_{i−1} in rows 1 … n−2.
    upper = np.empty(n - 1)
    upper[1:] = h_lo
    diag = np.empty(n)
    np.add(h_lo, h_hi, out=diag[1:-1])
    diag[1:-1] *= 2.0
    b = np.empty(n)
    inner = b[1:-1]
    np.multiply(h_hi, s[:-1], out=inner)
    inner += h_lo * s[1:]
    inner *= 3.0
    h0, h1 = float(h[0]), float(h[1])
    s0, s1 = float(s[0]), float(s[1])
    hm2, hm1 = float(h[-2]), float(h[-1])
    sm2, sm1 = float(s[-2]), float(s[-1])
    # Not-a-knot at the left end.
    d0 = h0 + h1
    diag[0] = h1
    upper[0] = d0
    b[0] = ((h0 + 2.0 * d0) * h1 * s0 + h0 * h0 * s1) / d0
    # Not-a-knot at the right end.
    d1 = hm1 + hm2
    diag[-1] = hm2
    lower[-1] = d1
    b[-1] = (hm1 * hm1 * sm2 + (2.0 * d1 + hm1) * hm2 * sm1) / d1
    # LAPACK's tridiagonal solver (Gaussian elimination with partial pivoting).
    *_, x, info = _dgtsv(lower, diag, upper, b, overwrite_dl=1, overwrite_d=1, overwrite_du=1,
                         overwrite_b=1)
    if info != 0:
        raise np.linalg.LinAlgError("singular spline system (repeated knots?)")
    # numpy's stubs widen float64 - float64 to floating[Any]; the arrays are float64.
    return x, cast("NDArray[np.float64]", h), cast("NDArray[np.float64]", s)


def interpolate(
    t: NDArray[np.float64], y: NDArray[np.float64], grid: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Values at ``grid`` (sorted, within ``[t[0], t[-1]]`` up to rounding) of the not-a-knot
    cubic spline through strictly increasing knots ``t`` (the same spline as scipy's
    ``CubicSpline(t, y, bc_type="not-a-knot")``; fewer than 4 knots fall back to scipy).

    Each interval's cubic is evaluated in Hermite form around its left knot,
    y + τ (m₀ + τ (c₂ + τ c₃)) with c₂ = (3s − 2m₀ − m₁)/h and c₃ = (m₀ + m₁ − 2s)/h².
    """
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    if len(t) < 4:
        from scipy.interpolate import CubicSpline

        return np.asarray(CubicSpline(t, y, bc_type="not-a-knot")(grid), dtype=np.float64)
    m, h, s = _slopes(t, y)
    m0 = m[:-1]
    m1 = m[1:]
    # c3·h² = m0 + m1 − 2s; c2·h = 3s − 2m0 − m1 = s − m0 − c3·h².
    c3h2 = m0 + m1
    c3h2 -= s
    c3h2 -= s
    c2h = s - m0
    c2h -= c3h2
    # Interval of each grid point: searching the interior knots clamps the ends.
    i = t[1:-1].searchsorted(grid, side="right")
    u = grid - t[i]
    u /= h[i]  # position within the interval, 0 … 1
    # y + u·h·(m0 + u·(c2·h + u·c3·h²)) — one gather per coefficient.
    out = c3h2[i]
    out *= u
    out += c2h[i]
    out *= u
    out += m0[i]
    out *= u
    out *= h[i]
    out += y[i]
    return cast("NDArray[np.float64]", out)


class SlidingResampler:
    """Resample the trailing window of a growing knot series on a fixed uniform grid, updating
    only the end of the spline.

    Each :meth:`update` receives the knots of the current window (the oldest may have left,
    new ones arrived, the last few may have changed). Knots equal to those of the previous call
    keep their grid values, except the last ``margin`` of them, and the spline is re-solved
    only over the changed end plus ``2 × margin`` knots before it. A cubic spline's dependence
    on a knot decays by a factor of about 2 − √3 ≈ 0.27 per knot (de Boor 1978, ch. IV), so with
    the default margin of 24 knots the grid values equal those of one not-a-knot spline through
    all knots received since the grid began to ~1e-13 relative, at a fraction of the cost. The
    grid is anchored at the first knot of the series and keeps its phase; it restarts when the
    window no longer overlaps the previous one (a gap), or the overlap differs from it (the
    beat times were re-anchored).
    """

    def __init__(self, rate_hz: float, *, margin: int = 24) -> None:
        self.rate_hz = rate_hz
        self.margin = margin
        self._t: NDArray[np.float64] = np.zeros(0)
        self._y: NDArray[np.float64] = np.zeros(0)
        self._origin = 0.0
        self._grid_s: NDArray[np.float64] = np.zeros(0)  # grid times by grid index
        self._first = 0  # grid index of self._vals[0]
        self._vals: NDArray[np.float64] = np.zeros(0)

    def update(
        self, t: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Take the window's knots (strictly increasing ``t``); return (grid_s, values) over
        ``[t[0], t[-1]]`` on the fixed grid."""
        vals = self.update_values(t, y)
        grid: NDArray[np.float64] = np.arange(self._first, self._first + len(vals),
                                              dtype=np.float64)
        grid /= self.rate_hz
        grid += self._origin
        return grid, vals

    def update_values(self, t: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        """:meth:`update` without building the grid times (the values only)."""
        if t.dtype != np.float64 or y.dtype != np.float64:
            t = np.asarray(t, dtype=np.float64)
            y = np.asarray(y, dtype=np.float64)
        rate = self.rate_hz
        j0 = self._unchanged(t, y)
        if j0 is None:
            # Start a new grid at the first knot.
            self._origin = float(t[0])
            self._grid_s = np.zeros(0)
            self._first = 0
            self._vals = np.zeros(0)
            lo_knot = 0
            keep_upto = 0
        else:
            lo_knot = max(0, j0 - 2 * self.margin)
            refresh = max(0, j0 - self.margin)
            # Grid points before knot ``refresh`` keep their values.
            keep_upto = math.floor((float(t[refresh]) - self._origin) * rate + 1e-9) + 1
            if refresh == 0 or lo_knot == 0:
                keep_upto = self._first  # too little history: re-solve everything
                lo_knot = 0
        origin = self._origin
        first_needed = math.ceil((float(t[0]) - origin) * rate - 1e-9)
        last_needed = math.floor((float(t[-1]) - origin) * rate + 1e-9)
        n_vals = len(self._vals)
        keep_upto = min(max(keep_upto, first_needed), self._first + n_vals)
        kept = self._vals[max(0, first_needed - self._first) : max(0, keep_upto - self._first)]
        start = max(keep_upto, first_needed)
        if last_needed >= len(self._grid_s):
            # Grid times origin + k / rate by grid index, extended by doubling.
            size = max(2 * len(self._grid_s), last_needed + 1, 1024)
            self._grid_s = cast("NDArray[np.float64]", origin + np.arange(size) * (1.0 / rate))
        grid_new = self._grid_s[start : last_needed + 1]
        if len(grid_new):
            if lo_knot == 0 and len(t) < 4:
                from scipy.interpolate import CubicSpline

                new = CubicSpline(t, y, bc_type="not-a-knot")(grid_new)
            else:
                new = interpolate(t[lo_knot:], y[lo_knot:], grid_new)
            self._vals = np.concatenate([kept, new])
        else:
            self._vals = kept.copy()
        self._first = first_needed
        self._t, self._y = t, y
        return self._vals

    def _unchanged(self, t: NDArray[np.float64], y: NDArray[np.float64]) -> int | None:
        """Index in ``t`` of the first knot not equal to the previous call's, or None when the
        two do not overlap as the same series (restart)."""
        old_t, old_y = self._t, self._y
        if len(old_t) == 0 or len(t) == 0 or t[0] < old_t[0] or t[0] > old_t[-1]:
            return None
        p = int(old_t.searchsorted(t[0]))
        if p >= len(old_t) or old_t[p] != t[0]:
            return None
        m = min(len(old_t) - p, len(t))
        # Bitwise equal (the common case: only new knots at the end) in two memory compares.
        if (old_t[p : p + m].tobytes() == t[:m].tobytes()
                and old_y[p : p + m].tobytes() == y[:m].tobytes()):
            return m
        same = old_t[p : p + m] == t[:m]
        same &= old_y[p : p + m] == y[:m]
        first = int(same.argmin()) if not same.all() else m
        return first if first > 0 else None
