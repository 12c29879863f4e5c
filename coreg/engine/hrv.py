"""Heart rate variability indices on NN intervals: time domain and Welch band powers.

References
----------
Task Force of the European Society of Cardiology and the North American Society of Pacing and
Electrophysiology (1996). Heart rate variability: standards of measurement, physiological
interpretation and clinical use. Circulation 93(5):1043-1065. doi:10.1161/01.CIR.93.5.1043
Welch, P. (1967). The use of fast Fourier transform for the estimation of power spectra.
IEEE Trans. Audio Electroacoust. 15(2):70-73. doi:10.1109/TAU.1967.1161901
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray
from scipy.fft import next_fast_len

from coreg.engine import spline

logger = logging.getLogger(__name__)

#: Frequency bands in Hz (Task Force 1996).
VLF_BAND_HZ: tuple[float, float] = (0.0033, 0.04)
LF_BAND_HZ: tuple[float, float] = (0.04, 0.15)
HF_BAND_HZ: tuple[float, float] = (0.15, 0.40)
#: The three bands' edges in one array (VLF, LF, HF), for one search per spectrum.
_BAND_EDGES_HZ = np.array([*VLF_BAND_HZ, *LF_BAND_HZ, *HF_BAND_HZ])
#: Minimum data length for each band (docs/science.md §3).
LF_MIN_S = 120.0
HF_MIN_S = 60.0
VLF_MIN_S = 300.0


@dataclass(frozen=True, slots=True)
class TimeDomain:
    """Time-domain HRV indices (NaN where undefined)."""

    n_nn: int
    n_diff: int
    mean_nn_ms: float
    sdnn_ms: float
    rmssd_ms: float
    pnn50_pct: float
    mean_hr_bpm: float


@dataclass(frozen=True, slots=True)
class FrequencyDomain:
    """Band powers in ms² and peak frequencies in Hz (NaN where the data is too short)."""

    duration_s: float
    vlf_ms2: float
    lf_ms2: float
    hf_ms2: float
    lf_hf: float
    lf_peak_hz: float
    hf_peak_hz: float


def successive_differences(
    rr_ms: NDArray[np.float64], break_before: NDArray[np.bool_] | None = None
) -> NDArray[np.float64]:
    """Successive differences ΔNN in ms, leaving out those across a break (gap, invalid beat).

    Parameters
    ----------
    rr_ms
        NN intervals in ms.
    break_before
        True at beat ``i`` when ``rr_ms[i] - rr_ms[i-1]`` must not be used.
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    d = np.diff(rr)
    if break_before is not None and len(d):
        d = d[~np.asarray(break_before, dtype=bool)[1:]]
    return d


def time_domain(
    rr_ms: NDArray[np.float64], break_before: NDArray[np.bool_] | None = None
) -> TimeDomain:
    """MeanNN, SDNN (ddof = 1), RMSSD, pNN50 and mean HR (Task Force 1996).

    Parameters
    ----------
    rr_ms
        NN (artifact-corrected) intervals in ms.
    break_before
        Optional mask, True at beat ``i`` when the difference to beat ``i-1`` spans a gap;
        such differences are left out of RMSSD and pNN50.

    Returns
    -------
    TimeDomain
        pNN50 = count(|ΔNN| > 50 ms) / count(ΔNN) × 100 (Task Force; neurokit2 divides by the
        number of NN instead). Mean HR is the mean of the instantaneous rates 60000 / NN.

    References
    ----------
    Task Force 1996, doi:10.1161/01.CIR.93.5.1043.
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    n = len(rr)
    d = successive_differences(rr, break_before)
    nan = math.nan
    mean_nn = float(rr.mean()) if n else nan
    sdnn = float(rr.std(ddof=1)) if n > 1 else nan
    rmssd = float(math.sqrt(float(np.mean(d * d)))) if len(d) else nan
    pnn50 = float(np.count_nonzero(np.abs(d) > 50.0) / len(d) * 100.0) if len(d) else nan
    mean_hr = float(np.mean(60000.0 / rr)) if n else nan
    return TimeDomain(n, len(d), mean_nn, sdnn, rmssd, pnn50, mean_hr)


def increasing_knots(
    t_s: NDArray[np.float64], rr_ms: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Drop beats whose time does not advance, so a spline can be fitted through the rest.

    Corrected beat times can tie (or, after a re-anchor, step back) on erratic input; a cubic
    spline needs strictly increasing knots, so the first of such beats is kept rather than a live
    session crashing.
    """
    t = np.asarray(t_s, dtype=np.float64)
    if t.size < 2 or bool((t[1:] > t[:-1]).all()):
        return t, np.asarray(rr_ms, dtype=np.float64)
    keep = np.concatenate(([True], t[1:] > np.maximum.accumulate(t)[:-1]))
    if keep.all():
        return t, np.asarray(rr_ms, dtype=np.float64)
    return t[keep], np.asarray(rr_ms, dtype=np.float64)[keep]


def resample_nn(
    t_s: NDArray[np.float64], rr_ms: NDArray[np.float64], rate_hz: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Resample NN intervals on a uniform grid with a cubic spline through (beat time, NN).

    Parameters
    ----------
    t_s
        Time of each beat in s (end of its interval), strictly increasing.
    rr_ms
        NN interval ending at each beat, in ms.
    rate_hz
        Output sampling rate in Hz; the grid starts at ``t_s[0]`` and ends at or before ``t_s[-1]``.

    Returns
    -------
    (grid_s, nn_ms)
    """
    t = np.asarray(t_s, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    t, rr = increasing_knots(t, rr)
    step = 1.0 / rate_hz
    n = math.floor((t[-1] - t[0]) * rate_hz + 1e-9) + 1
    grid = t[0] + np.arange(n) * step
    return grid, spline.interpolate(t, rr, grid)


def detrend_linear(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Remove the least-squares straight line from ``x``."""
    n = len(x)
    if n < 2:
        return x - x.mean() if n else x
    # Centred sample index i − (n−1)/2; Σ i² = n (n² − 1) / 12.
    i = np.arange(n, dtype=np.float64) - 0.5 * (n - 1)
    mean = float(x.mean())
    slope = float(np.dot(i, x)) / (n * (n * n - 1) / 12.0)
    return x - (mean + slope * i)


def _band(freq_hz: NDArray[np.float64], band_hz: tuple[float, float]) -> slice:
    """Indices of ``band_hz[0] <= f < band_hz[1]`` in an increasing frequency grid."""
    lo, hi = np.searchsorted(freq_hz, band_hz, side="left")
    return slice(int(lo), int(hi))


def band_power(
    freq_hz: NDArray[np.float64], psd: NDArray[np.float64], band_hz: tuple[float, float]
) -> float:
    """Trapezoid integral of the PSD over ``band_hz[0] <= f < band_hz[1]`` (increasing f)."""
    sel = _band(freq_hz, band_hz)
    if sel.stop - sel.start < 2:
        return math.nan
    f = freq_hz[sel]
    p = psd[sel]
    return 0.5 * float(np.dot(f[1:] - f[:-1], p[1:] + p[:-1]))


def peak_frequency(
    freq_hz: NDArray[np.float64], psd: NDArray[np.float64], band_hz: tuple[float, float]
) -> float:
    """Frequency of the highest PSD point in ``band_hz``, in Hz (increasing f)."""
    sel = _band(freq_hz, band_hz)
    if sel.stop <= sel.start:
        return math.nan
    return float(freq_hz[sel.start + int(np.argmax(psd[sel]))])


def welch_psd(
    nn_ms: NDArray[np.float64],
    rate_hz: float,
    segment_s: float = 256.0,
    *,
    fast_fft: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Welch PSD (ms²/Hz) of a uniformly resampled, detrended NN series.

    Hann window, ``segment_s`` segments with 50 % overlap, each zero-padded to twice its length
    (a finer grid for the band integrals; density is unchanged). With ``fast_fft`` the padding
    goes on to the next length the FFT handles fast (a 5-smooth number): the live engine uses it
    while its window is still filling, when the sample count is arbitrary (a length with a
    large prime factor makes the FFT up to 10× slower). A series shorter than 1.5
    segments is taken whole as one segment, so that no recent data is dropped from a 5-min window.

    References
    ----------
    Welch 1967, doi:10.1109/TAU.1967.1161901.
    """
    x = np.asarray(nn_ms, dtype=np.float64)
    n = len(x)
    nperseg = round(segment_s * rate_hz)
    if n < 1.5 * nperseg:
        nperseg = n
    step = nperseg - nperseg // 2
    n_seg = (n - nperseg) // step + 1
    win = hann_window(nperseg)
    nfft = next_fast_len(2 * nperseg, real=True) if fast_fft else 2 * nperseg
    # Same estimate as scipy.signal.welch(window="hann", noverlap=nperseg // 2,
    # nfft=2 * nperseg, detrend=False, scaling="density", average="mean"), without its
    # per-call overhead (this runs every 5 s per person in the live engine).
    scale = 1.0 / (rate_hz * float(np.dot(win, win)))
    if n_seg == 1:
        spec = np.fft.rfft(x[:nperseg] * win, nfft)
        psd = (spec.real**2 + spec.imag**2) * scale
    else:
        segs = np.lib.stride_tricks.sliding_window_view(x, nperseg)[::step][:n_seg]
        spec = np.fft.rfft(segs * win, nfft, axis=-1)
        psd = (spec.real**2 + spec.imag**2).mean(axis=0) * scale
    psd[1:-1] *= 2.0  # one-sided; nfft is even, so the last bin is Nyquist
    return rfft_frequencies(nfft, rate_hz), cast("NDArray[np.float64]", psd)


_FREQ_CACHE: dict[tuple[int, float], NDArray[np.float64]] = {}


def rfft_frequencies(nfft: int, rate_hz: float) -> NDArray[np.float64]:
    """``np.fft.rfftfreq(nfft, 1 / rate_hz)``, cached (read-only)."""
    key = (nfft, rate_hz)
    cached = _FREQ_CACHE.get(key)
    if cached is not None:
        return cached
    freq: NDArray[np.float64] = np.asarray(np.fft.rfftfreq(nfft, 1.0 / rate_hz), dtype=np.float64)
    freq.flags.writeable = False
    if len(_FREQ_CACHE) > 64:
        _FREQ_CACHE.clear()
    _FREQ_CACHE[key] = freq
    return freq


_HANN_CACHE: dict[int, NDArray[np.float64]] = {}


def hann_window(n: int) -> NDArray[np.float64]:
    """Periodic Hann window of ``n`` points (scipy's ``get_window("hann", n)``), cached."""
    win = _HANN_CACHE.get(n)
    if win is None:
        win = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)
        if len(_HANN_CACHE) > 64:
            _HANN_CACHE.clear()
        _HANN_CACHE[n] = win
    return win


def frequency_domain(
    t_s: NDArray[np.float64],
    rr_ms: NDArray[np.float64],
    *,
    rate_hz: float = 4.0,
    segment_s: float = 256.0,
) -> FrequencyDomain:
    """VLF, LF, HF power (ms²), LF/HF and peak frequencies of an NN series.

    Method (docs/science.md §3): cubic spline at ``rate_hz`` with each value at its beat time,
    linear detrend, Welch with a Hann window (see :func:`welch_psd`), trapezoid band integrals over
    VLF 0.0033–0.04, LF 0.04–0.15, HF 0.15–0.40 Hz. A band whose minimum length (VLF 5 min,
    LF 2 min, HF 1 min) is not covered is NaN.

    Parameters
    ----------
    t_s
        Beat times in s (end of interval); must be one gap-free run.
    rr_ms
        NN intervals in ms.

    References
    ----------
    Task Force 1996, doi:10.1161/01.CIR.93.5.1043; Welch 1967, doi:10.1109/TAU.1967.1161901.
    """
    t = np.asarray(t_s, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    nan = math.nan
    if len(t) < 4:
        return FrequencyDomain(0.0, nan, nan, nan, nan, nan, nan)
    duration = float(t[-1] - t[0])
    _, nn = resample_nn(t, rr, rate_hz)
    return frequency_domain_resampled(nn, duration, rate_hz=rate_hz, segment_s=segment_s)


def frequency_domain_resampled(
    nn_ms: NDArray[np.float64],
    duration_s: float,
    *,
    rate_hz: float = 4.0,
    segment_s: float = 256.0,
    fast_fft: bool = False,
) -> FrequencyDomain:
    """:func:`frequency_domain` from NN already resampled at ``rate_hz`` (detrend, Welch, bands).

    ``duration_s`` is the span of the beats behind the samples; it decides which bands are
    long enough to report. ``fast_fft``: see :func:`welch_psd`.
    """
    freq, psd = welch_psd(detrend_linear(np.asarray(nn_ms, dtype=np.float64)), rate_hz,
                          segment_s, fast_fft=fast_fft)
    return spectrum_bands(freq, psd, duration_s)


def spectrum_bands(
    freq_hz: NDArray[np.float64], psd: NDArray[np.float64], duration_s: float
) -> FrequencyDomain:
    """Band powers and peaks from a PSD, NaN for bands the duration does not support."""
    nan = math.nan
    # The same as band_power / peak_frequency per band, with one search for all band edges.
    edges = cast("list[int]", np.searchsorted(freq_hz, _BAND_EDGES_HZ, side="left").tolist())
    powers: list[float] = []
    peaks: list[float] = []
    for k, need_s in enumerate((VLF_MIN_S, LF_MIN_S, HF_MIN_S)):
        lo, hi = edges[2 * k], edges[2 * k + 1]
        if duration_s < need_s:
            powers.append(nan)
            peaks.append(nan)
            continue
        f = freq_hz[lo:hi]
        p = psd[lo:hi]
        powers.append(0.5 * float(np.dot(f[1:] - f[:-1], p[1:] + p[:-1])) if hi - lo >= 2
                      else nan)
        peaks.append(float(f[int(np.argmax(p))]) if hi > lo else nan)
    vlf, lf, hf = powers
    lf_hf = lf / hf if (hf > 0 and not math.isnan(lf)) else nan
    return FrequencyDomain(duration_s, vlf, lf, hf, lf_hf, peaks[1], peaks[2])


class FixedWindowSpectrum:
    """:func:`frequency_domain_resampled` for a fixed number of samples, with everything that
    depends only on that number precomputed (the live engine's full 300-s window).

    Detrend, Hann window and the band integrals are folded into a few vector operations: the
    windowed detrended series is w·x − mean·w − slope·(w·i), and the three trapezoid band
    integrals are one matrix–vector product with precomputed weights. Equal to
    :func:`frequency_domain_resampled` to rounding (tested).
    """

    def __init__(self, n: int, rate_hz: float = 4.0) -> None:
        self.n = n
        self.rate_hz = rate_hz
        i = np.arange(n, dtype=np.float64) - 0.5 * (n - 1)
        # Mean and least-squares slope (over the centred index, Σ i² = n (n² − 1) / 12) in one
        # matrix–vector product.
        self._mean_slope = np.stack([np.full(n, 1.0 / n), i / (n * (n * n - 1) / 12.0)])
        self._w = hann_window(n)
        self._wi = self._w * i
        self._nfft = 2 * n
        freq = rfft_frequencies(self._nfft, rate_hz)
        edges = np.searchsorted(freq, _BAND_EDGES_HZ, side="left")
        self._k = int(edges[-1])  # bins above the HF band are not needed
        self._freq = freq[: self._k]
        weights = np.zeros((3, self._k))
        df = np.diff(self._freq)
        self._bands: list[tuple[int, int]] = []
        for b in range(3):
            lo, hi = int(edges[2 * b]), int(edges[2 * b + 1])
            self._bands.append((lo, hi))
            if hi - lo >= 2:
                weights[b, lo : hi - 1] += 0.5 * df[lo : hi - 1]
                weights[b, lo + 1 : hi] += 0.5 * df[lo : hi - 1]
            else:
                weights[b] = np.nan
        scale = np.full(self._k, 2.0 / (rate_hz * float(np.dot(self._w, self._w))))
        scale[0] /= 2.0  # the DC bin is not doubled in a one-sided density
        # The density scale is folded into the band weights; the peak search (LF and HF bands,
        # where the scale is one constant) runs on the unscaled |X|².
        self._weights = weights * scale

    def bands(self, nn_ms: NDArray[np.float64], duration_s: float) -> FrequencyDomain:
        """Band powers and peaks of exactly ``n`` resampled NN values."""
        x = nn_ms
        mean, slope = (self._mean_slope @ x).tolist()
        y = self._w * x
        y -= mean * self._w
        y -= slope * self._wi
        spec = np.fft.rfft(y, self._nfft)[: self._k]
        re_im = spec.view(np.float64)
        re_im *= re_im
        power = re_im[0::2] + re_im[1::2]  # |X|²
        vlf, lf, hf = (self._weights @ power).tolist()
        nan = math.nan
        peaks = []
        for lo, hi in self._bands[1:]:
            peaks.append(float(self._freq[lo + int(power[lo:hi].argmax())]) if hi > lo else nan)
        if duration_s < VLF_MIN_S:
            vlf = nan
        if duration_s < LF_MIN_S:
            lf = nan
            peaks[0] = nan
        if duration_s < HF_MIN_S:
            hf = nan
            peaks[1] = nan
        lf_hf = lf / hf if (hf > 0 and not math.isnan(lf)) else nan
        return FrequencyDomain(duration_s, vlf, lf, hf, lf_hf, peaks[0], peaks[1])
