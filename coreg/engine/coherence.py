"""HRV coherence, resonance power, RSA amplitude and breathing rate from the HR oscillation.

References
----------
McCraty, R., Atkinson, M., Tomasino, D., Bradley, R. T. (2009). The coherent heart:
heart-brain interactions, psychophysiological coherence, and the emergence of system-wide
order. Integral Review 5(2):10-115. (The open formula below follows its description; HeartMath's
own scoring is proprietary and this is not claimed to be equivalent.)
Lehrer, P. M., Vaschillo, E., Vaschillo, B. (2000). Resonant frequency biofeedback training to
increase cardiac variability. Appl. Psychophysiol. Biofeedback 25(3):177-191.
doi:10.1023/A:1009554825745
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from coreg.engine import spline
from coreg.engine.hrv import (
    hann_window,
    increasing_knots,
    resample_nn,
    rfft_frequencies,
)

#: Coherence defaults (docs/science.md §4).
COHERENCE_WINDOW_S = 64.0
COHERENCE_RATE_HZ = 2.0
COHERENCE_NFFT = 8192
COHERENCE_PEAK_BAND_HZ: tuple[float, float] = (0.04, 0.26)
COHERENCE_HALF_WIDTH_HZ = 0.015
COHERENCE_TOTAL_BAND_HZ: tuple[float, float] = (0.0033, 0.4)
#: Breathing rates searched in the HR oscillation, Hz (3–30 breaths/min).
BREATHING_BAND_HZ: tuple[float, float] = (0.05, 0.5)


@dataclass(frozen=True, slots=True)
class ShortSpectrum:
    """Zero-padded Hann periodogram of a short NN window (ms²/Hz)."""

    freq_hz: NDArray[np.float64]
    psd: NDArray[np.float64]
    duration_s: float


def short_spectrum(
    t_s: NDArray[np.float64],
    rr_ms: NDArray[np.float64],
    *,
    window_s: float = COHERENCE_WINDOW_S,
    rate_hz: float = COHERENCE_RATE_HZ,
    nfft_min: int = COHERENCE_NFFT,
    max_hz: float | None = None,
) -> ShortSpectrum:
    """Periodogram of the last ``window_s`` of NN: cubic resampling, detrend, Hann, padded FFT.

    The grid has ``window_s × rate_hz`` points ending at the last beat (fewer when the beats do
    not reach that far back; pass one beat before the window so that they do). The FFT length is
    the next power of two ≥ max(``nfft_min``, samples), so the peak does not jump with where the
    breathing frequency falls on the bins (docs/science.md §4). One-sided density in ms²/Hz, up to
    ``max_hz`` inclusive when given (the live engine needs ≤ 0.5 Hz of the 1 Hz range).
    """
    t, rr = increasing_knots(np.asarray(t_s, dtype=np.float64), np.asarray(rr_ms, dtype=np.float64))
    n_full = round(window_s * rate_hz)
    n_avail = math.floor((t[-1] - t[0]) * rate_hz + 1e-9) + 1
    n = min(n_full, n_avail)
    nfft = max(nfft_min, 1 << (n - 1).bit_length())
    plan = _plan(n, nfft, rate_hz, max_hz)
    grid = cast("NDArray[np.float64]", plan.back_s + float(t[-1]))
    first = max(0, int(t.searchsorted(grid[0], side="right")) - 1)
    nn = spline.interpolate(t[first:], rr[first:], grid)
    # Linear detrend and Hann window: w·(x − mean − slope·i) = w·x − mean·w − slope·(w·i).
    mean, slope = cast("list[float]", (plan.mean_slope @ nn).tolist())
    y = plan.win * nn
    y -= mean * plan.win
    y -= slope * plan.win_i
    spec = np.fft.rfft(y, nfft)[: plan.n_bins]
    re_im = spec.view(np.float64)
    re_im *= re_im
    psd = cast("NDArray[np.float64]", re_im[0::2] + re_im[1::2])
    psd *= plan.scale
    return ShortSpectrum(plan.freq_hz, psd, float(grid[-1] - grid[0]))


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything of :func:`short_spectrum` that depends only on the sizes (cached)."""

    back_s: NDArray[np.float64]  # grid times relative to the last beat
    mean_slope: NDArray[np.float64]  # 2 × n: mean and least-squares slope over the centred index
    win: NDArray[np.float64]
    win_i: NDArray[np.float64]
    n_bins: int
    scale: NDArray[np.float64]
    freq_hz: NDArray[np.float64]


_PLANS: dict[tuple[int, int, float, float | None], _Plan] = {}


def _plan(n: int, nfft: int, rate_hz: float, max_hz: float | None) -> _Plan:
    key = (n, nfft, rate_hz, max_hz)
    plan = _PLANS.get(key)
    if plan is None:
        i = np.arange(n, dtype=np.float64) - 0.5 * (n - 1)
        sxx = n * (n * n - 1) / 12.0  # Σ i²; 0 for one sample, which has no slope
        mean_slope = np.stack([np.full(n, 1.0 / n), i / sxx if n > 1 else np.zeros(n)])
        win = hann_window(n)
        freq = rfft_frequencies(nfft, rate_hz)
        n_bins = len(freq) if max_hz is None else int(freq.searchsorted(max_hz, side="right"))
        scale = np.full(n_bins, 2.0 / (rate_hz * float(np.dot(win, win))))
        scale[0] /= 2.0  # the DC bin is not doubled in a one-sided density
        back = cast("NDArray[np.float64]", -np.arange(n - 1, -1, -1, dtype=np.float64) / rate_hz)
        plan = _Plan(back, mean_slope, win, win * i, n_bins, scale, freq[:n_bins])
        if len(_PLANS) > 64:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


def _closed_band(freq_hz: NDArray[np.float64], lo_hz: float, hi_hz: float) -> slice:
    """Indices of ``lo_hz <= f <= hi_hz`` in an increasing frequency grid."""
    return slice(int(freq_hz.searchsorted(lo_hz, side="left")),
                 int(freq_hz.searchsorted(hi_hz, side="right")))


def _sum_band(spec: ShortSpectrum, lo_hz: float, hi_hz: float) -> float:
    return float(spec.psd[_closed_band(spec.freq_hz, lo_hz, hi_hz)].sum())


def coherence_ratio(spec: ShortSpectrum) -> tuple[float, float]:
    """Coherence ratio peak / (total − peak) and the peak frequency in Hz.

    Peak = highest PSD point in 0.04–0.26 Hz; peak power = PSD summed over ±0.015 Hz around it;
    total = PSD summed over 0.0033–0.4 Hz (docs/science.md §4, after McCraty et al. 2009).
    """
    sel = _closed_band(spec.freq_hz, *COHERENCE_PEAK_BAND_HZ)
    if sel.stop <= sel.start:
        return math.nan, math.nan
    f_peak = float(spec.freq_hz[sel.start + int(spec.psd[sel].argmax())])
    peak = _sum_band(spec, f_peak - COHERENCE_HALF_WIDTH_HZ, f_peak + COHERENCE_HALF_WIDTH_HZ)
    total = _sum_band(spec, *COHERENCE_TOTAL_BAND_HZ)
    rest = total - peak
    if rest <= 0:
        return math.inf, f_peak
    return peak / rest, f_peak


def coherence(t_s: NDArray[np.float64], rr_ms: NDArray[np.float64]) -> float:
    """Coherence ratio of the last 64 s of NN (pass one beat before); see coherence_ratio."""
    if len(t_s) < 4:
        return math.nan
    return coherence_ratio(short_spectrum(t_s, rr_ms, window_s=COHERENCE_WINDOW_S))[0]


def resonance_power(spec: ShortSpectrum, pacer_rate_bpm: float) -> float:
    """Share of total power (0.0033–0.4 Hz) within ±0.015 Hz of the pacer frequency.

    Unlike the coherence peak, it is tied to the pacer, so a slow drift cannot capture it
    (docs/science.md §4; Lehrer et al. 2000, doi:10.1023/A:1009554825745).
    """
    f = pacer_rate_bpm / 60.0
    total = _sum_band(spec, *COHERENCE_TOTAL_BAND_HZ)
    if total <= 0:
        return math.nan
    return _sum_band(spec, f - COHERENCE_HALF_WIDTH_HZ, f + COHERENCE_HALF_WIDTH_HZ) / total


def breathing_rate_bpm(spec: ShortSpectrum) -> float:
    """Breathing rate in breaths/min estimated as the dominant HR-oscillation frequency.

    The highest point of the NN spectrum between 0.05 and 0.5 Hz (RSA makes the heart period
    oscillate at the breathing frequency). Unreliable when breathing is irregular.
    """
    sel = _closed_band(spec.freq_hz, *BREATHING_BAND_HZ)
    if sel.stop <= sel.start:
        return math.nan
    return float(spec.freq_hz[sel.start + int(spec.psd[sel].argmax())] * 60.0)


def rsa_amplitude_bpm(
    t_s: NDArray[np.float64], rr_ms: NDArray[np.float64], breath_period_s: float
) -> float:
    """Mean peak-to-trough heart rate (bpm) per breath cycle.

    The HR at each interval midpoint is resampled at 4 Hz (cubic), cut into consecutive cycles
    of ``breath_period_s`` aligned to the window's end, and max − min is averaged over the
    complete cycles (peak-to-trough method; Lehrer et al. 2000, doi:10.1023/A:1009554825745).
    """
    t = np.asarray(t_s, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    if len(t) < 4 or not (breath_period_s > 0) or t[-1] - t[0] < breath_period_s:
        return math.nan
    mid = cast("NDArray[np.float64]", t - rr / 2000.0)
    grid, hr = resample_nn(mid, cast("NDArray[np.float64]", 60000.0 / rr), 4.0)
    cycles = breath_cycles(grid, breath_period_s)
    keep = [i for i, c in enumerate(reversed(cycles)) if c.stop - c.start > 1]
    if not keep:
        return math.nan
    # The cycles are adjacent slices (newest first): one reduceat per extreme over all of them.
    first = cycles[-1].start
    seg = hr[first : cycles[0].stop]
    starts = np.array([c.start - first for c in reversed(cycles)])
    amps = np.maximum.reduceat(seg, starts) - np.minimum.reduceat(seg, starts)
    return float(np.mean(amps[keep]))


def breath_cycles(grid_s: NDArray[np.float64], period_s: float) -> list[slice]:
    """Index ranges of the complete breath-length cycles of a uniform grid, aligned to its end.

    Cycle k (k = 0 the newest) holds the samples with end − (k+1)·period < t ≤ end − k·period.
    The boundaries are found by counting samples back from the end (``period × rate`` per
    cycle), not by comparing times: with a period that is a whole number of samples (6/min on a
    4 Hz grid) the boundaries fall on grid points, where a time comparison would let the last
    bit of rounding decide which cycle a sample belongs to — and a replay, whose times are
    stored to the microsecond, could then differ from the live session.
    """
    n = len(grid_s)
    if n < 2 or not period_s > 0:
        return []
    dt = float(grid_s[1] - grid_s[0])
    per = period_s / dt  # samples per cycle
    n_cycles = math.floor((n - 1) / per + 1e-9)
    out = []
    for k in range(n_cycles):
        # Samples m = 0, 1, … back from the end belong to cycle k for k·per <= m < (k+1)·per.
        m_lo = math.ceil(k * per - 1e-9)
        m_hi = math.ceil((k + 1) * per - 1e-9)
        out.append(slice(n - m_hi, n - m_lo))
    return out
