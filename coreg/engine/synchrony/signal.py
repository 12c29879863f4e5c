"""Signal preparation: each person's heart rate on the shared grid, filtered run by run.

See :mod:`coreg.engine.synchrony` for the definitions (docs/science.md §5).
"""

from __future__ import annotations

import functools
from typing import cast

import numpy as np
from numpy.typing import NDArray
from scipy import signal

from coreg.engine.beats import BeatSeries
from coreg.engine.synchrony.settings import SyncSettings


def hr_on_grid(
    beats: BeatSeries, k0: int, n: int, rate_hz: float, gap_tolerance_s: float = 0.3
) -> NDArray[np.float64]:
    """Heart rate (bpm) of one person on the shared grid, NaN where unknown.

    Parameters
    ----------
    beats
        NN beats on the host clock.
    k0, n
        The grid is ``(k0 + arange(n)) / rate_hz`` seconds.
    rate_hz
        Grid rate.
    gap_tolerance_s
        Passed to :meth:`BeatSeries.segments`.

    Returns
    -------
    NDArray[np.float64]
        HR linearly interpolated between interval midpoints (docs/design.md §3) inside each run of
        valid, gap-free beats; NaN outside the runs (never bridged).
    """
    out = np.full(n, np.nan)
    if len(beats) < 2 or n <= 0:
        return out
    t_grid = (k0 + np.arange(n)) / rate_hz
    mids = beats.midpoints_s
    hr = beats.hr_bpm
    for seg in beats.segments(gap_tolerance_s):
        m = mids[seg]
        if len(m) < 2:
            continue
        lo = int(np.searchsorted(t_grid, m[0], side="left"))
        hi = int(np.searchsorted(t_grid, m[-1], side="right"))
        if hi > lo:
            out[lo:hi] = np.interp(t_grid[lo:hi], m, hr[seg])
    return out


def finite_runs(x: NDArray[np.float64]) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of finite samples."""
    f = np.isfinite(x).astype(np.int8)
    d = np.diff(np.concatenate(([0], f, [0])))
    starts = cast("list[int]", np.flatnonzero(d == 1).tolist())
    stops = cast("list[int]", np.flatnonzero(d == -1).tolist())
    return list(zip(starts, stops, strict=True))


def filter_runs(
    x: NDArray[np.float64], sos: NDArray[np.float64], min_len: int, pad_len: int
) -> NDArray[np.float64]:
    """Zero-phase filter each finite run separately; runs shorter than ``min_len`` become NaN.

    Uses :func:`scipy.signal.sosfiltfilt` (Gustafsson 1996, doi:10.1109/78.492525) with odd
    extension of ``pad_len`` samples at each end of a run.
    """
    out = np.full_like(x, np.nan)
    for a, b in finite_runs(x):
        if b - a < max(min_len, 2):
            continue
        out[a:b] = signal.sosfiltfilt(sos, x[a:b], padtype="odd", padlen=min(pad_len, b - a - 1))
    return out


def _sos(settings: SyncSettings, band: str) -> NDArray[np.float64]:
    return _butter(settings.filter_order, settings.lowpass_hz, settings.breathing_band_hz,
                   settings.rate_hz, band).copy()


@functools.lru_cache(maxsize=16)
def _butter(order: int, lowpass_hz: float, band_hz: tuple[float, float], rate_hz: float,
            band: str) -> NDArray[np.float64]:
    if band == "slow":
        sos = signal.butter(order, lowpass_hz, btype="lowpass", fs=rate_hz, output="sos")
    elif band == "breathing":
        sos = signal.butter(order, band_hz, btype="bandpass", fs=rate_hz, output="sos")
    else:
        raise ValueError(f"unknown band {band!r}")
    return np.asarray(sos, dtype=np.float64)


def _pad_samples(settings: SyncSettings) -> int:
    return round(15.0 * settings.rate_hz)


def trailing(beats: BeatSeries, t0_s: float, t1_s: float) -> BeatSeries:
    """The beats whose interval overlaps ``[t0_s, t1_s]`` (a view; cheap for long sessions)."""
    lo = int(np.searchsorted(beats.t_s, t0_s, side="left"))
    hi = int(np.searchsorted(beats.t_s, t1_s + 5.0, side="right"))
    return BeatSeries(beats.t_s[lo:hi], beats.rr_ms[lo:hi], beats.valid[lo:hi])


def prepare_pair(
    a: BeatSeries, b: BeatSeries, k0: int, n: int, settings: SyncSettings, band: str = "slow"
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Both people's filtered HR on the shared grid ``(k0 + arange(n)) / rate_hz``.

    Parameters
    ----------
    a, b
        Beats of the first and second role.
    k0, n
        Grid origin (in samples of the host clock) and length.
    settings
        Analysis settings.
    band
        ``"slow"`` (low-pass) or ``"breathing"`` (band-pass).
    """
    sos = _sos(settings, band)
    pad = _pad_samples(settings)
    out = []
    for beats in (a, b):
        t0 = k0 / settings.rate_hz
        sub = trailing(beats, t0 - 5.0, (k0 + n) / settings.rate_hz)
        x = hr_on_grid(sub, k0, n, settings.rate_hz, settings.gap_tolerance_s)
        out.append(filter_runs(x, sos, settings.window_samples, pad))
    return out[0], out[1]
