"""The window function: windowed cross-correlation curves and their peaks (Boker et al. 2002).

See :mod:`coreg.engine.synchrony` for the definitions (docs/science.md §5).
"""

from __future__ import annotations

from typing import cast

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from coreg.engine.synchrony.settings import SyncSettings


def standardized_windows(x: NDArray[np.float64], w: int) -> NDArray[np.float64]:
    """Every length-``w`` window of ``x``, centred and scaled so that a dot product is Pearson r.

    Returns
    -------
    NDArray[np.float64]
        ``(len(x) − w + 1, w)``; rows with a NaN or no variance are NaN.
    """
    if len(x) < w:
        return np.empty((0, w))
    v = sliding_window_view(x, w)
    c = v - v.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.sum(c * c, axis=1, keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = c / norm
    z[~np.isfinite(norm[:, 0]) | (norm[:, 0] <= 1e-12)] = np.nan
    return cast("NDArray[np.float64]", z)


def valid_window_starts(
    a: NDArray[np.float64], b: NDArray[np.float64], k0: int, settings: SyncSettings
) -> NDArray[np.int64]:
    """Start indices (into the arrays) of the complete windows on the host-clock step grid.

    A window starting at sample ``s`` needs ``a[s:s+w]`` and ``b[s−L : s+w+L]`` all finite;
    starts are the samples whose host-clock index is a multiple of the step.
    """
    w, L, step = settings.window_samples, settings.lag_samples, settings.step_samples
    n = len(a)
    first = L + (-(k0 + L)) % step
    starts = np.arange(first, n - w - L + 1, step, dtype=np.int64)
    if starts.size == 0:
        return starts
    fa = np.concatenate(([0], np.cumsum(~np.isfinite(a))))
    fb = np.concatenate(([0], np.cumsum(~np.isfinite(b))))
    ok = (fa[starts + w] - fa[starts] == 0) & (fb[starts + w + L] - fb[starts - L] == 0)
    return cast("NDArray[np.int64]", starts[ok])


def window_curves(
    za: NDArray[np.float64], zb: NDArray[np.float64], starts: NDArray[np.int64], lag_samples: int
) -> NDArray[np.float64]:
    """Cross-correlation curves ``r_i(τ)`` of the windows starting at ``starts``.

    Parameters
    ----------
    za, zb
        :func:`standardized_windows` of the two signals.
    starts
        Window starts (from :func:`valid_window_starts`).
    lag_samples
        Largest lag ``L``.

    Returns
    -------
    NDArray[np.float64]
        ``(len(starts), 2L + 1)``, column ``L + τ`` = corr(a window, b window shifted by τ).
    """
    lags = np.arange(-lag_samples, lag_samples + 1)
    return cast("NDArray[np.float64]",
                np.einsum("iw,ilw->il", za[starts], zb[starts[:, None] + lags[None, :]]))


def pair_peak_matrix(
    za: NDArray[np.float64],
    zb: NDArray[np.float64],
    starts: NDArray[np.int64],
    lag_samples: int,
    chunk: int = 96,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Peak r of a's window ``i`` with b's window ``j`` for every pair, plus the real curves.

    One matrix product per chunk of a's windows against all of b's lagged windows; the diagonal
    is the real synchrony, the off-diagonal pairs feed the surrogates.

    Returns
    -------
    peak_r
        ``(n, n)`` peak r (the local maximum closest to lag 0) of each pair.
    curves
        ``(n, 2L + 1)`` the real (diagonal) curves, identical to :func:`window_curves`.
    """
    n = len(starts)
    lags = np.arange(-lag_samples, lag_samples + 1)
    idx = starts[:, None] + lags[None, :]
    cols, inv = np.unique(idx, return_inverse=True)
    inv = inv.reshape(idx.shape)
    zb_cols = zb[cols]
    peak_r = np.empty((n, n))
    curves = np.empty((n, len(lags)))
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        r_all = za[starts[c0:c1]] @ zb_cols.T  # (c, n_cols)
        block = r_all[:, inv]  # (c, n, 2L+1)
        peak_r[c0:c1], _ = peak_nearest_zero(block)
        rows = np.arange(c1 - c0)
        curves[c0:c1] = block[rows, c0 + rows]
    return peak_r, curves


def peak_nearest_zero(curves: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The local maximum closest to lag 0 of each curve along the last axis (Boker et al. 2002).

    An end of the lag range counts when it is at least its one neighbour; of two maxima at the
    same distance from 0 the higher wins.

    Returns
    -------
    r, index
        Peak value and its column (lag ``index − L``). NaN curves give NaN.
    """
    c = np.asarray(curves)
    k = c.shape[-1]
    if k == 1:
        return c[..., 0].copy(), np.zeros(c.shape[:-1], dtype=np.int64)
    peak = np.zeros(c.shape, dtype=bool)
    peak[..., 1:-1] = (c[..., 1:-1] >= c[..., :-2]) & (c[..., 1:-1] >= c[..., 2:])
    peak[..., 0] = c[..., 0] >= c[..., 1]
    peak[..., -1] = c[..., -1] >= c[..., -2]
    dist = np.abs(np.arange(k) - (k - 1) // 2).astype(np.float64)
    key = np.where(peak, 4.0 * dist - c, np.inf)
    i = np.argmin(key, axis=-1)
    r = np.take_along_axis(c, i[..., None], axis=-1)[..., 0]
    r = np.where(np.isfinite(key).any(axis=-1), r, np.nan)
    return r, i


def refined_lag(curve: NDArray[np.float64], rate_hz: float) -> float:
    """Lag (s) of the local maximum closest to 0 of one curve, refined by a parabola."""
    return float(refined_lags(np.asarray(curve, dtype=np.float64)[None, :], rate_hz)[0])


def refined_lags(curves: NDArray[np.float64], rate_hz: float) -> NDArray[np.float64]:
    """:func:`refined_lag` of each row of ``curves`` at once (NaN for rows with a NaN).

    The peak closest to lag 0 (:func:`peak_nearest_zero`) is refined by the vertex of the
    parabola through it and its two neighbours, clipped to ±half a sample, when the parabola is
    concave; at the ends of the lag range it is not refined.
    """
    c = np.asarray(curves, dtype=np.float64)
    n, k = c.shape
    out = np.full(n, np.nan)
    ok = np.all(np.isfinite(c), axis=1)
    if not ok.any():
        return out
    c = c[ok]
    _, i = peak_nearest_zero(c)
    half = (k - 1) // 2
    delta = np.zeros(len(c))
    inner = (i > 0) & (i < k - 1)
    if inner.any():
        rows = np.nonzero(inner)[0]
        ii = i[rows]
        y0, y1, y2 = c[rows, ii - 1], c[rows, ii], c[rows, ii + 1]
        den = y0 - 2.0 * y1 + y2
        concave = den < 0
        safe = np.where(concave, den, -1.0)
        delta[rows] = np.where(concave, np.clip(0.5 * (y0 - y2) / safe, -0.5, 0.5), 0.0)
    out[ok] = (i - half + delta) / rate_hz
    return out
