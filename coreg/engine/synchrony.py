"""Physiological synchrony of two people: windowed cross-correlation of heart rate against chance.

Definitions (SCIENCE.md §5):

* **Signal.** Each person's heart rate (bpm) placed at the midpoint of each NN interval, linearly
  interpolated at ``rate_hz`` (4 Hz) on a grid *shared by both people* (sample ``k`` is host time
  ``k / rate_hz``), inside each unbroken run of valid beats only; then zero-phase Butterworth
  filtered (:func:`scipy.signal.sosfiltfilt`) run by run: low-pass at 0.15 Hz for the slow
  (autonomic) synchrony, band-pass 0.15–0.40 Hz for the separate *breathing-band* synchrony.
  Gaps, invalid beats and runs shorter than one window are NaN: nothing is bridged.
* **Windowed cross-correlation** (Boker, Xu, Rotondo & King 2002, doi:10.1037/1082-989X.7.3.338):
  windows of ``window_s`` (30 s) starting every ``step_s`` (5 s) on the host clock; in each window
  ``r(τ) = corr(a[t … t+w), b[t+τ … t+τ+w))`` for ``|τ| ≤ max_lag_s`` (5 s). Positive ``τ`` means
  *b follows a* (a's heart moves first). Per window the local maximum of ``r(τ)`` closest to
  ``τ = 0`` is the window's peak r and lag (an end of the lag range counts as a local maximum when
  it exceeds its neighbour). A window with any NaN sample is skipped.
* **Session lag** = lag of the local maximum closest to 0 of the window-averaged curve
  ``mean_i r_i(τ)``, refined by a parabola through its three points; its 95% interval comes from a
  moving-block bootstrap over windows (blocks of ``segment_s``).
* **Chance** (Moulder, Boker, Ramseyer & Tschacher 2018, doi:10.1037/met0000172): the real
  mean peak r against the same statistic on surrogate pairings of windows
  (:mod:`coreg.engine.surrogates`): circular shifts (the test used for ``p_value``) and SUSY-style
  segment shuffling (Tschacher & Meier 2020, doi:10.1080/10503307.2019.1612114; reported
  alongside). Effect size ``(real − mean_surr) / sd_surr``; p-value ``(k + 1) / (n + 1)``;
  share of windows whose peak r exceeds the 95th percentile of all surrogate window pairs.
* **Leader.** The role whose heart moves first, when the synchrony is significant *and* the
  bootstrap interval of the session lag excludes 0; otherwise ``"none"``.

The same window function (:func:`window_curves` / :func:`pair_peak_matrix` over
:func:`prepare_pair`) serves the whole-session analysis (:func:`session_synchrony`) and the live
engine (:class:`LiveSynchrony`), which computes each new window once and recomputes its chance
baseline over the trailing 5 minutes every 30 s.

Known limit: a shared pacer whose period exceeds twice ``max_lag_s`` (slower than 6/min with
±5 s lags) can push per-window peaks to the lag limits in some surrogate pairings but not in the
real one; at 6/min and faster the pacer is found at every pairing and cancels out.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy import signal

from coreg.engine import surrogates
from coreg.engine.beats import BeatSeries
from coreg.errors import InputError

logger = logging.getLogger(__name__)

#: Default role order of a therapy dyad: positive internal lags mean the therapist moves first.
DYAD_ROLES = ("therapist", "client")

#: Live: the chance band is shown only once it rests on at least this many surrogate values (so
#: that its 95th percentile is not just the largest of a handful).
MIN_CHANCE_SURROGATES = 20

BREATHING_LABEL = (
    "breathing-band synchrony (heart rate 0.15-0.40 Hz, the RSA band): two people breathing alike, "
    "not slow autonomic coupling"
)


@dataclass(frozen=True, slots=True)
class SyncSettings:
    """Parameters of the synchrony analysis (defaults from SCIENCE.md §5).

    Parameters
    ----------
    window_s, step_s, max_lag_s
        Window length, step between window starts and largest lag, in seconds.
    rate_hz
        Resampling rate of the heart-rate signals.
    lowpass_hz
        Cut-off of the slow-synchrony low-pass.
    breathing_band_hz
        Pass band of the breathing-band synchrony.
    filter_order
        Butterworth order (applied forwards and backwards).
    segment_s
        Segment length for segment shuffling and the block bootstrap.
    n_surrogates
        Segment-shuffling surrogates (circular shifts: every admissible shift).
    n_bootstrap
        Block-bootstrap resamples for the lag interval.
    alpha
        Significance level.
    gap_tolerance_s
        Unknown time between beats beyond which a run is broken (:meth:`BeatSeries.segments`).
    seed
        Seed of every random draw (results are deterministic).
    baseline_s, baseline_every_s
        Live: span and cadence of the chance-baseline recomputation.
    smooth_windows
        Live: the live value is the mean peak r of this many latest windows.
    live_edge_s
        Live: a window is computed only once the data reach this far past its lagged end (the
        zero-phase filter is unreliable at the very end of the data).
    """

    window_s: float = 30.0
    step_s: float = 5.0
    max_lag_s: float = 5.0
    rate_hz: float = 4.0
    lowpass_hz: float = 0.15
    breathing_band_hz: tuple[float, float] = (0.15, 0.40)
    filter_order: int = 4
    segment_s: float = 30.0
    n_surrogates: int = 1000
    n_bootstrap: int = 1000
    alpha: float = 0.05
    gap_tolerance_s: float = 0.3
    seed: int = 0
    baseline_s: float = 300.0
    baseline_every_s: float = 30.0
    smooth_windows: int = 4
    live_edge_s: float = 5.0

    def __post_init__(self) -> None:
        for name in ("window_s", "step_s", "rate_hz", "lowpass_hz", "segment_s", "baseline_s",
                     "baseline_every_s"):
            if not getattr(self, name) > 0:
                raise InputError(f"synchrony setting {name} must be positive")
        if self.max_lag_s < 0:
            raise InputError("synchrony setting max_lag_s must not be negative")
        lo, hi = self.breathing_band_hz
        if not 0 < lo < hi < self.rate_hz / 2:
            raise InputError("synchrony breathing band must satisfy 0 < low < high < rate/2")
        if self.lowpass_hz >= self.rate_hz / 2:
            raise InputError("synchrony low-pass must be below half the sampling rate")
        if self.window_samples < 4 or self.step_samples < 1:
            raise InputError("synchrony window and step must span at least a few samples")
        if not 0 < self.alpha < 1:
            raise InputError("synchrony alpha must lie in (0, 1)")

    @property
    def window_samples(self) -> int:
        """Window length in samples."""
        return round(self.window_s * self.rate_hz)

    @property
    def step_samples(self) -> int:
        """Step between windows in samples."""
        return max(1, round(self.step_s * self.rate_hz))

    @property
    def lag_samples(self) -> int:
        """Largest lag in samples."""
        return round(self.max_lag_s * self.rate_hz)

    @property
    def lags_s(self) -> NDArray[np.float64]:
        """The lag axis in seconds."""
        return np.arange(-self.lag_samples, self.lag_samples + 1) / self.rate_hz

    @property
    def min_separation_s(self) -> float:
        """Surrogate pairs must be at least this far apart to share no data."""
        return self.window_s + 2.0 * self.max_lag_s


# --------------------------------------------------------------------------- signal preparation


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
        HR linearly interpolated between interval midpoints (DESIGN.md §3) inside each run of
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
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(),
                    strict=True))


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
    if band == "slow":
        return signal.butter(settings.filter_order, settings.lowpass_hz, btype="lowpass",
                             fs=settings.rate_hz, output="sos")
    if band == "breathing":
        return signal.butter(settings.filter_order, settings.breathing_band_hz, btype="bandpass",
                             fs=settings.rate_hz, output="sos")
    raise ValueError(f"unknown band {band!r}")


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


# --------------------------------------------------------------------------- the window function


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
    return z


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
    return starts[ok]


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
    return np.einsum("iw,ilw->il", za[starts], zb[starts[:, None] + lags[None, :]])


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


# --------------------------------------------------------------------------- pair analysis


@dataclass(frozen=True, slots=True)
class PairAnalysis:
    """Windowed cross-correlation of two signals and its chance baseline.

    Attributes
    ----------
    window_t_s
        Start of each analysed window (host clock, s).
    peak_r, peak_lag_s
        Per window: the peak closest to lag 0 (positive lag: the second signal follows).
    lags_s, mean_curve
        The window-averaged correlation curve.
    lag_s, lag_ci_s
        Lag of the averaged curve (positive: the first signal moves first) and its 95%
        block-bootstrap interval.
    mean_peak_r
        The statistic.
    circular, segment
        Its surrogate distributions (circular shifts: the test; segment shuffling: reported).
    chance_r95
        95th percentile of the peak r of all surrogate window pairs.
    pct_windows_above_chance
        Share (%) of real windows whose peak r exceeds ``chance_r95``.
    running_null
        Chance distribution of the mean of ``smooth_windows`` consecutive windows (live use).
    """

    window_t_s: NDArray[np.float64]
    peak_r: NDArray[np.float64]
    peak_lag_s: NDArray[np.float64]
    lags_s: NDArray[np.float64]
    mean_curve: NDArray[np.float64]
    lag_s: float
    lag_ci_s: tuple[float, float]
    mean_peak_r: float
    circular: surrogates.NullDistribution
    segment: surrogates.NullDistribution
    chance_r95: float
    pct_windows_above_chance: float
    running_null: NDArray[np.float64]

    @property
    def windows(self) -> int:
        """Number of analysed windows."""
        return len(self.window_t_s)

    @property
    def p_value(self) -> float:
        """p-value of the circular-shift test."""
        return self.circular.p_value

    @property
    def effect_size(self) -> float:
        """Effect size against the circular-shift surrogates."""
        return self.circular.effect_size


def analyze_signals(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    k0: int,
    settings: SyncSettings,
    *,
    n_surrogates: int | None = None,
    n_bootstrap: int | None = None,
    running_k: int = 0,
) -> PairAnalysis | None:
    """Windowed cross-correlation of two prepared signals on one grid, against chance.

    Parameters
    ----------
    a, b
        Filtered signals from :func:`prepare_pair` (NaN where unknown).
    k0
        Host-clock sample index of ``a[0]``.
    settings
        Analysis settings.
    n_surrogates, n_bootstrap
        Override the settings' counts (the live baseline uses fewer).
    running_k
        If > 0, also return the chance distribution of ``running_k``-window means.

    Returns
    -------
    PairAnalysis or None
        None when not a single complete window exists.
    """
    rate = settings.rate_hz
    w, L = settings.window_samples, settings.lag_samples
    starts = valid_window_starts(a, b, k0, settings)
    if starts.size == 0:
        return None
    za = standardized_windows(a, w)
    zb = standardized_windows(b, w)
    peak_r, curves = pair_peak_matrix(za, zb, starts, L)
    real_r, real_i = peak_nearest_zero(curves)
    t_s = (k0 + starts) / rate
    mean_peak_r = float(np.mean(real_r))
    mean_curve = curves.mean(axis=0)
    lag_s = refined_lag(mean_curve, rate)

    rng = np.random.default_rng([settings.seed, 4])
    n_boot = settings.n_bootstrap if n_bootstrap is None else n_bootstrap
    lag_ci = (float("nan"), float("nan"))
    if len(starts) >= 2 and n_boot > 0:
        block = max(1, round(settings.segment_s / settings.step_s))
        idx = surrogates.block_bootstrap_indices(len(starts), block, n_boot, rng)
        counts = np.zeros((n_boot, len(starts)))
        np.add.at(counts, (np.repeat(np.arange(n_boot), idx.shape[1]), idx.ravel()), 1.0)
        boot_curves = counts @ curves / idx.shape[1]
        boot_lags = refined_lags(boot_curves, rate)
        lo, hi = np.nanquantile(boot_lags, [0.025, 0.975])
        lag_ci = (float(lo), float(hi))

    sep = settings.min_separation_s
    circ = surrogates.circular_shift_null(peak_r, t_s, sep)
    n_surr = settings.n_surrogates if n_surrogates is None else n_surrogates
    seg = surrogates.segment_shuffle_null(peak_r, t_s, settings.segment_s, sep, n_surr, rng)
    r95 = surrogates.pair_quantile(peak_r, t_s, sep, 0.95)
    pct = float(100.0 * np.mean(real_r > r95)) if np.isfinite(r95) else float("nan")
    running = (surrogates.running_mean_null(peak_r, t_s, sep, running_k) if running_k > 0
               else np.empty(0))
    return PairAnalysis(
        window_t_s=t_s,
        peak_r=real_r,
        peak_lag_s=(real_i - L) / rate,
        lags_s=settings.lags_s,
        mean_curve=mean_curve,
        lag_s=lag_s,
        lag_ci_s=lag_ci,
        mean_peak_r=mean_peak_r,
        circular=surrogates.NullDistribution("circular_shift", mean_peak_r, circ),
        segment=surrogates.NullDistribution("segment_shuffle", mean_peak_r, seg),
        chance_r95=r95,
        pct_windows_above_chance=pct,
        running_null=running,
    )


def _session_grid(beats: tuple[BeatSeries, BeatSeries], settings: SyncSettings) -> tuple[int, int]:
    t_lo = min(float(x.t_s[0] - x.rr_ms[0] / 1000.0) for x in beats)
    t_hi = max(float(x.t_s[-1]) for x in beats)
    k0 = math.floor(t_lo * settings.rate_hz)
    k1 = math.ceil(t_hi * settings.rate_hz)
    return k0, k1 - k0 + 1


def _clean(x: float, digits: int = 4) -> float | None:
    return round(float(x), digits) if np.isfinite(x) else None


def leader_of(analysis: PairAnalysis, roles: tuple[str, str], alpha: float) -> str:
    """The role that moves first, or ``"none"`` (not significant, or the lag interval spans 0)."""
    lo, hi = analysis.lag_ci_s
    significant = analysis.p_value < alpha
    if not significant or not (np.isfinite(lo) and np.isfinite(hi)):
        return "none"
    if lo > 0:
        return roles[0]
    if hi < 0:
        return roles[1]
    return "none"


def summary(analysis: PairAnalysis | None, roles: tuple[str, str], alpha: float) -> dict[str, Any]:
    """The issue's ``"synchrony"`` JSON for one analysis (undefined numbers are None).

    ``lag_s`` is positive when the leader's heart moves first; with ``leader == "none"`` it is the
    estimate of how far ``roles[0]``'s heart moves before ``roles[1]``'s.
    """
    if analysis is None:
        return {"mean_peak_r": None, "lag_s": None, "leader": "none", "effect_size": None,
                "p_value": None, "significant": False, "pct_windows_above_chance": None,
                "windows": 0}
    leader = leader_of(analysis, roles, alpha)
    lag = analysis.lag_s if leader != roles[1] else -analysis.lag_s
    p = analysis.p_value
    return {
        "mean_peak_r": _clean(analysis.mean_peak_r),
        "lag_s": _clean(lag, 2),
        "leader": leader,
        "effect_size": _clean(analysis.effect_size, 3),
        "p_value": _clean(p),
        "significant": bool(np.isfinite(p) and p < alpha),
        "pct_windows_above_chance": _clean(analysis.pct_windows_above_chance, 1),
        "windows": analysis.windows,
    }


def details(analysis: PairAnalysis | None, roles: tuple[str, str],
            settings: SyncSettings) -> dict[str, Any]:
    """Supporting numbers: settings, chance levels of both surrogates, lag interval."""
    out: dict[str, Any] = {
        "roles": list(roles),
        "lag_reference": f"positive lag: {roles[0]} moves first (when leader is 'none')",
        "window_s": settings.window_s, "step_s": settings.step_s,
        "max_lag_s": settings.max_lag_s, "rate_hz": settings.rate_hz,
        "lowpass_hz": settings.lowpass_hz, "test": "circular_shift",
        "seed": settings.seed,
    }
    if analysis is None:
        return out
    lo, hi = analysis.lag_ci_s
    out.update({
        "lag_s_first_role_leads": _clean(analysis.lag_s, 2),
        "lag_ci95_s": [_clean(lo, 2), _clean(hi, 2)],
        "chance_mean_peak_r": _clean(analysis.circular.mean),
        "chance_r95_window": _clean(analysis.chance_r95),
        "circular_shift": {"n": analysis.circular.n, "mean": _clean(analysis.circular.mean),
                           "sd": _clean(analysis.circular.sd),
                           "effect_size": _clean(analysis.circular.effect_size, 3),
                           "p_value": _clean(analysis.circular.p_value)},
        "segment_shuffle": {"n": analysis.segment.n, "segment_s": settings.segment_s,
                            "mean": _clean(analysis.segment.mean),
                            "sd": _clean(analysis.segment.sd),
                            "effect_size": _clean(analysis.segment.effect_size, 3),
                            "p_value": _clean(analysis.segment.p_value)},
    })
    return out


def _pick_roles(beats: Mapping[str, BeatSeries], roles: tuple[str, str] | None) -> tuple[str, str]:
    if roles is None:
        roles = DYAD_ROLES if all(r in beats for r in DYAD_ROLES) else tuple(beats)[:2]  # type: ignore[assignment]
    if roles is None or len(roles) != 2 or roles[0] == roles[1]:
        raise InputError("synchrony needs exactly two different roles")
    for r in roles:
        if r not in beats:
            raise InputError(f"synchrony: no beats for role {r!r}")
    return roles[0], roles[1]


def session_analyses(
    beats: Mapping[str, BeatSeries],
    roles: tuple[str, str] | None = None,
    settings: SyncSettings | None = None,
    *,
    breathing: bool = True,
) -> tuple[tuple[str, str], PairAnalysis | None, PairAnalysis | None]:
    """Whole-session analyses (slow band, breathing band) as objects, for reports and plots.

    ``breathing=False`` skips the breathing band (half the cost; its analysis is then None).
    """
    settings = settings or SyncSettings()
    pair = _pick_roles(beats, roles)
    a, b = beats[pair[0]], beats[pair[1]]
    if len(a) < 2 or len(b) < 2:
        return pair, None, None
    k0, n = _session_grid((a, b), settings)
    out: list[PairAnalysis | None] = [None, None]
    for i, band in enumerate(("slow", "breathing") if breathing else ("slow",)):
        x, y = prepare_pair(a, b, k0, n, settings, band)
        out[i] = analyze_signals(x, y, k0, settings)
    return pair, out[0], out[1]


def session_synchrony(
    beats: Mapping[str, BeatSeries],
    roles: tuple[str, str] | None = None,
    settings: SyncSettings | None = None,
) -> dict[str, Any]:
    """Synchrony of a whole session, as JSON-ready dicts.

    Parameters
    ----------
    beats
        Role → NN beats on the shared host clock (two roles; ``"therapist"`` and ``"client"`` are
        taken in that order when both are present).
    roles
        The two roles to compare, first one's lead counted positive when there is no leader.
    settings
        Analysis settings (defaults: SCIENCE.md §5).

    Returns
    -------
    dict
        ``{"synchrony": {...}, "breathing_synchrony": {...}, "synchrony_details": {...}}``:
        ``synchrony`` has exactly the keys mean_peak_r, lag_s, leader, effect_size, p_value,
        significant, pct_windows_above_chance, windows (positive ``lag_s``: the leader's heart
        moves first); ``breathing_synchrony`` the same keys for the 0.15–0.40 Hz band plus
        ``label`` and ``band_hz``; ``synchrony_details`` the settings, both surrogate tests and the
        lag interval. Numbers that cannot be computed (too little data) are None.

    Raises
    ------
    InputError
        Not exactly two roles, or bad settings.

    Examples
    --------
    >>> from devices.sim import simulate
    >>> run = simulate("coupled", 600.0, seed=1)
    >>> beats = {r: BeatSeries.from_rr(run.beats[r].rr_ms) for r in run.roles}  # doctest: +SKIP
    """
    settings = settings or SyncSettings()
    pair, slow, breathing = session_analyses(beats, roles, settings)
    br = summary(breathing, pair, settings.alpha)
    br["label"] = BREATHING_LABEL
    br["band_hz"] = list(settings.breathing_band_hz)
    return {
        "synchrony": summary(slow, pair, settings.alpha),
        "breathing_synchrony": br,
        "synchrony_details": details(slow, pair, settings),
    }


# --------------------------------------------------------------------------- live


@dataclass(frozen=True, slots=True)
class SyncWindow:
    """One analysed live window.

    Attributes
    ----------
    t_s
        Window start (host clock, s); the window covers ``[t_s, t_s + window_s)``.
    peak_r, lag_s
        Peak closest to lag 0 (positive lag: the second role follows the first).
    """

    t_s: float
    peak_r: float
    lag_s: float


@dataclass(frozen=True, slots=True)
class LiveSyncSnapshot:
    """What the live view shows about the dyad's synchrony at time ``t_s``.

    Attributes
    ----------
    t_s
        Host time of the update.
    roles
        The two roles (first, second).
    status
        ``"collecting"`` (no complete window yet), ``"gap"`` (the latest windows are missing),
        ``"ok"``.
    window
        The newest window, or None.
    new_windows
        Windows computed in this update (oldest first).
    recent_r
        Mean peak r of the last ``smooth_windows`` windows (NaN if any is missing).
    chance_r, chance_r95
        Chance mean and 95th percentile of that mean, from the trailing baseline (NaN until the
        first baseline).
    effect_size
        ``(recent_r − chance_r) / sd`` of that chance distribution.
    above_chance
        ``recent_r > chance_r95``.
    baseline_t_s
        When the baseline was last computed (NaN if never).
    baseline
        Summary of the trailing-baseline analysis (same keys as the session ``synchrony``), or
        None.
    chance_surrogates
        How many surrogate values the chance band rests on (0 while there are fewer than
        :data:`MIN_CHANCE_SURROGATES`; the chance figures are then NaN).
    """

    t_s: float
    roles: tuple[str, str]
    status: str
    window: SyncWindow | None
    new_windows: tuple[SyncWindow, ...]
    recent_r: float
    chance_r: float
    chance_r95: float
    effect_size: float
    above_chance: bool
    baseline_t_s: float
    baseline: dict[str, Any] | None
    chance_surrogates: int = 0


class LiveSynchrony:
    """Live synchrony of two people, updated every ``step_s`` with bounded cost.

    Feed it snapshots of both people's beats (growing :class:`BeatSeries`, host clock) and the
    current host time; each window is computed once, from the trailing data only, with the same
    window function as :func:`session_synchrony`. The chance baseline (and leader) is recomputed
    over the trailing ``baseline_s`` every ``baseline_every_s``.

    Warm-up (defaults): the first window needs 30 s of both people plus the ±5 s lags and the
    5 s filter edge, so the first peak r comes about 50 s after both straps start; the live value
    (mean of the last 4 windows) follows 15 s later. The chance band needs surrogate pairs that
    share no data (windows at least ``min_separation_s`` = 40 s apart) and at least
    :data:`MIN_CHANCE_SURROGATES` surrogate values, i.e. :attr:`windows_needed` = 15 windows,
    about 2 min of data. Until the baseline spans the full ``baseline_s`` it is recomputed at
    every update that brings a new window (over all that is available), then every
    ``baseline_every_s``.

    Parameters
    ----------
    roles
        First and second role (default therapist, client).
    settings
        Analysis settings.
    history
        How many windows to keep for plotting.

    Examples
    --------
    >>> live = LiveSynchrony()
    >>> live.update({"therapist": BeatSeries.from_rr([800.0] * 10),
    ...              "client": BeatSeries.from_rr([900.0] * 10)}, now_s=8.0).status
    'collecting'
    """

    def __init__(
        self,
        roles: tuple[str, str] = DYAD_ROLES,
        settings: SyncSettings | None = None,
        history: int = 1440,
    ) -> None:
        self.roles = roles
        self.settings = settings or SyncSettings()
        self.windows: deque[SyncWindow] = deque(maxlen=history)
        self._last_start_k: int | None = None
        self._next_update_s = -math.inf
        self._next_baseline_s = -math.inf
        self._baseline: PairAnalysis | None = None
        self._baseline_t_s = float("nan")
        self._running: NDArray[np.float64] = np.empty(0)

    @property
    def windows_needed(self) -> int:
        """Consecutive windows before the first chance band (see the class notes).

        ``n`` windows give ``(n − m0 − k + 1)(n − m0 − k + 2)`` surrogate running means, ``m0``
        the minimum separation in steps and ``k`` the smoothing; the least ``n`` reaching
        :data:`MIN_CHANCE_SURROGATES`.
        """
        s = self.settings
        m0 = math.ceil(s.min_separation_s / s.step_s - 1e-9)
        k = max(1, s.smooth_windows)
        j = 1
        while j * (j + 1) < MIN_CHANCE_SURROGATES:
            j += 1
        return m0 + k - 1 + j

    def _data_end_s(self, beats: Mapping[str, BeatSeries]) -> float | None:
        ends = []
        for r in self.roles:
            x = beats.get(r)
            if x is None or len(x) < 2:
                return None
            ends.append(float(x.midpoints_s[-1]))
        return min(ends)

    def _compute_windows(
        self, a: BeatSeries, b: BeatSeries, first_k: int, last_k: int
    ) -> list[SyncWindow]:
        s = self.settings
        w, L, rate = s.window_samples, s.lag_samples, s.rate_hz
        margin = _pad_samples(s) * 4
        k0 = first_k - L - margin
        n = (last_k + w + L) - k0 + 1 + s.step_samples
        x, y = prepare_pair(a, b, k0, n, s, "slow")
        starts = valid_window_starts(x, y, k0, s)
        starts = starts[(starts + k0 >= first_k) & (starts + k0 <= last_k)]
        if starts.size == 0:
            return []
        curves = window_curves(standardized_windows(x, w), standardized_windows(y, w), starts, L)
        r, i = peak_nearest_zero(curves)
        return [SyncWindow(float((k0 + st) / rate), float(rv), float((iv - L) / rate))
                for st, rv, iv in zip(starts.tolist(), r.tolist(), i.tolist(), strict=True)]

    def _recompute_baseline(self, a: BeatSeries, b: BeatSeries, end_k: int, now_s: float) -> None:
        s = self.settings
        n_base = round(s.baseline_s * s.rate_hz)
        k0 = end_k - n_base
        x, y = prepare_pair(a, b, k0, n_base + 1, s, "slow")
        self._baseline = analyze_signals(x, y, k0, s, n_surrogates=200, n_bootstrap=200,
                                         running_k=s.smooth_windows)
        self._baseline_t_s = now_s
        self._running = (self._baseline.running_null if self._baseline is not None
                         else np.empty(0))

    def update(self, beats: Mapping[str, BeatSeries], now_s: float) -> LiveSyncSnapshot | None:
        """Bring the live synchrony up to ``now_s``.

        Parameters
        ----------
        beats
            Role → beats so far (host clock); only the trailing part is read.
        now_s
            Current host time (passed in; the engine never reads a clock).

        Returns
        -------
        LiveSyncSnapshot or None
            None when called again before ``step_s`` has passed since the last update.
        """
        s = self.settings
        if now_s < self._next_update_s:
            return None
        self._next_update_s = now_s + s.step_s
        end_s = self._data_end_s(beats)
        new: list[SyncWindow] = []
        if end_s is not None:
            a, b = beats[self.roles[0]], beats[self.roles[1]]
            step, w, L = s.step_samples, s.window_samples, s.lag_samples
            edge = round(s.live_edge_s * s.rate_hz)
            end_k = math.floor(min(end_s, now_s) * s.rate_hz)
            last_k = ((end_k - edge - w - L) // step) * step
            keep = self.windows.maxlen or 1
            first_k = last_k - (keep - 1) * step
            if self._last_start_k is not None:
                first_k = max(first_k, self._last_start_k + step)
            if last_k >= first_k:
                first_k = max(first_k, last_k - 59 * step)  # at most 60 windows per call
                new = self._compute_windows(a, b, first_k, last_k)
                self.windows.extend(new)
                self._last_start_k = last_k
            warming = bool(new) and len(self.windows) * s.step_s < s.baseline_s
            if now_s >= self._next_baseline_s or warming:
                self._next_baseline_s = now_s + s.baseline_every_s
                self._recompute_baseline(a, b, end_k - edge, now_s)
        return self._snapshot(now_s, tuple(new))

    def _snapshot(self, now_s: float, new: tuple[SyncWindow, ...]) -> LiveSyncSnapshot:
        s = self.settings
        latest = self.windows[-1] if self.windows else None
        k = s.smooth_windows
        recent = float("nan")
        status = "collecting" if latest is None else "ok"
        if len(self.windows) >= k:
            last = list(self.windows)[-k:]
            contiguous = abs((last[-1].t_s - last[0].t_s) - (k - 1) * s.step_s) < 1e-6
            if contiguous:
                recent = float(np.mean([x.peak_r for x in last]))
        if latest is not None and now_s - latest.t_s > (
                s.window_s + s.max_lag_s + s.live_edge_s + 3 * s.step_s):
            status = "gap"
        run = self._running
        if run.size < MIN_CHANCE_SURROGATES:
            run = np.empty(0)
        chance = float(np.mean(run)) if run.size else float("nan")
        sd = float(np.std(run, ddof=1)) if run.size > 1 else float("nan")
        r95 = float(np.quantile(run, 0.95)) if run.size else float("nan")
        eff = (recent - chance) / sd if np.isfinite(sd) and sd > 0 else float("nan")
        baseline = (summary(self._baseline, self.roles, s.alpha)
                    if self._baseline is not None else None)
        return LiveSyncSnapshot(
            t_s=now_s, roles=self.roles, status=status, window=latest, new_windows=new,
            recent_r=recent, chance_r=chance, chance_r95=r95, effect_size=eff,
            above_chance=bool(np.isfinite(recent) and np.isfinite(r95) and recent > r95),
            baseline_t_s=self._baseline_t_s, baseline=baseline, chance_surrogates=int(run.size),
        )
