"""A faster ``pair_peak_matrix`` for the offline synchrony, ready to move into the engine.

``coreg.engine.synchrony.pair_peak_matrix`` gathers every (A-window, B-window) pair's 41-lag
curve into a ``(chunk, n, 41)`` block and runs ``peak_nearest_zero`` on it: about 0.5 s of
the 1.2 s a one-hour dyad costs (both bands), and ~250 MB of temporaries for three hours. The
candidate below finds the same peaks without the block: it marks the local maxima once along
each row of the ``(chunk, samples)`` correlation matrix (the curves of neighbouring windows
overlap there), finds the nearest one to each curve's centre on either side with running
minima/maxima of their positions, and compares the two candidates with the engine's own key
``4·distance − r`` — rounding included — so it picks the very same lag, bit for bit.

It is kept here, not in the engine, only because ``coreg/engine/synchrony.py`` is being split
into a package by another engineer (issue 15); once that is on main it belongs in the
package's session-analysis module, with ``check()`` below as its test.

Usage::

    .venv/bin/python benchmarks/pair_peak_matrix.py [RECORDING.jsonl ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coreg.engine import synchrony as sy  # noqa: E402

#: Elements of the (rows × samples) correlation matrix handled at once (≈ 16 MB of floats).
CHUNK_ELEMENTS = 2_000_000


def pair_peak_matrix_fast(
    za: NDArray[np.float64], zb: NDArray[np.float64], starts: NDArray[np.int64],
    lag_samples: int, chunk: int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Same inputs and outputs as :func:`coreg.engine.synchrony.pair_peak_matrix`."""
    n = len(starts)
    L = lag_samples
    lags = np.arange(-L, L + 1)
    idx = starts[:, None] + lags[None, :]
    cols, inv = np.unique(idx, return_inverse=True)
    inv = inv.reshape(idx.shape)
    zb_cols = zb[cols]
    m = len(cols)
    if chunk is None:
        chunk = max(8, CHUNK_ELEMENTS // max(m, 1))
    peak_r = np.empty((n, n))
    curves = np.empty((n, len(lags)))
    centre = inv[:, L]  # curve j occupies columns centre[j] − L … centre[j] + L
    q = np.arange(m, dtype=np.int64)
    big = np.int64(1 << 40)
    inf = np.inf
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        R = za[starts[c0:c1]] @ zb_cols.T
        rr = np.arange(c1 - c0)
        curves[c0:c1] = R[rr[:, None], centre[c0 + rr][:, None] + lags[None, :]]
        if L == 0:
            peak_r[c0:c1] = R[:, centre]
            continue
        inner = np.zeros(R.shape, dtype=bool)
        inner[:, 1:-1] = (R[:, 1:-1] >= R[:, :-2]) & (R[:, 1:-1] >= R[:, 2:])
        nxt = np.minimum.accumulate(np.where(inner, q, big)[:, ::-1], axis=1)[:, ::-1]
        prv = np.maximum.accumulate(np.where(inner, q, -big), axis=1)
        d_r = nxt[:, centre] - centre
        d_l = centre - prv[:, centre]
        end_r = R[:, centre + L] >= R[:, centre + L - 1]  # a curve's end counts when it is at
        end_l = R[:, centre - L] >= R[:, centre - L + 1]  # least its one neighbour
        dr = np.where(d_r <= L - 1, d_r.astype(np.float64), np.where(end_r, float(L), inf))
        dl = np.where(d_l <= L - 1, d_l.astype(np.float64), np.where(end_l, float(L), inf))
        rows = rr[:, None]
        v_r = R[rows, centre + np.where(np.isfinite(dr), dr, 0).astype(np.int64)]
        v_l = R[rows, centre - np.where(np.isfinite(dl), dl, 0).astype(np.int64)]
        with np.errstate(invalid="ignore"):
            key_r = np.where(np.isfinite(dr), 4.0 * dr - v_r, inf)
            key_l = np.where(np.isfinite(dl), 4.0 * dl - v_l, inf)
        val = np.where(key_r < key_l, v_r, v_l)  # equal keys: the left one, as argmin does
        peak_r[c0:c1] = np.where(np.isfinite(dr) | np.isfinite(dl), val, np.nan)
    return peak_r, curves


def check(trials: int = 400) -> None:
    """Bit-identical to the engine on random data with ties, plateaus and NaN windows."""
    rng = np.random.default_rng(0)
    for trial in range(trials):
        L = int(rng.integers(0, 6))
        w = int(rng.integers(4, 12))
        n = int(rng.integers(w + 2 * L + 2, 120))
        x = np.round(rng.normal(size=n), 1)
        y = np.round(rng.normal(size=n), 1)
        if trial % 3 == 0:
            y[rng.integers(0, n)] = np.nan
        if trial % 5 == 0:
            y = np.round(y, 0)
        za, zb = sy.standardized_windows(x, w), sy.standardized_windows(y, w)
        starts = np.arange(L, n - w - L + 1, int(rng.integers(1, 4)))
        if not len(starts):
            continue
        chunk = int(rng.integers(1, 50))  # the same rows per product: BLAS blocks alike
        p1, c1 = sy.pair_peak_matrix(za, zb, starts, L, chunk=chunk)
        p2, c2 = pair_peak_matrix_fast(za, zb, starts, L, chunk=chunk)
        assert np.array_equal(p1, p2, equal_nan=True), trial
        assert np.array_equal(c1, c2, equal_nan=True), trial
    print(f"check: {trials} random cases bit-identical")


def on_recording(path: str) -> None:
    from coreg.engine.summary import summarize_person
    from coreg.recording import read_recording

    st = sy.SyncSettings()
    rec = read_recording(path)
    nn = {r: summarize_person(rec.samples_for(r), rec.events_for(r))[1].series()
          for r in rec.roles}
    a, b = nn["therapist"], nn["client"]
    k0, n = sy._session_grid((a, b), st)
    for band in ("slow", "breathing"):
        x, y = sy.prepare_pair(a, b, k0, n, st, band)
        starts = sy.valid_window_starts(x, y, k0, st)
        za = sy.standardized_windows(x, st.window_samples)
        zb = sy.standardized_windows(y, st.window_samples)
        best = [np.inf, np.inf]
        for _ in range(3):
            t0 = time.perf_counter()
            p1, c1 = sy.pair_peak_matrix(za, zb, starts, st.lag_samples)
            t1 = time.perf_counter()
            p2, c2 = pair_peak_matrix_fast(za, zb, starts, st.lag_samples, chunk=96)
            t2 = time.perf_counter()
            best = [min(best[0], t1 - t0), min(best[1], t2 - t1)]
        same = np.array_equal(p1, p2, equal_nan=True) and np.array_equal(c1, c2, equal_nan=True)
        print(f"{Path(path).name} {band}: {len(starts)} windows, engine {best[0]:.3f} s, "
              f"candidate {best[1]:.3f} s, bit-identical: {same}")


if __name__ == "__main__":
    check()
    for p in sys.argv[1:]:
        on_recording(p)
