"""Pair analysis against chance, and the whole-session synchrony summary.

See :mod:`coreg.engine.synchrony` for the definitions (docs/science.md §5).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NotRequired, TypedDict, cast

import numpy as np
from numpy.typing import NDArray

from coreg.engine import surrogates
from coreg.engine.beats import BeatSeries
from coreg.engine.synchrony.settings import BREATHING_LABEL, DYAD_ROLES, SyncSettings
from coreg.engine.synchrony.signal import prepare_pair
from coreg.engine.synchrony.windows import (
    pair_peak_matrix,
    peak_nearest_zero,
    refined_lag,
    refined_lags,
    standardized_windows,
    valid_window_starts,
)
from coreg.errors import InputError


class SurrogateDetails(TypedDict):
    """One surrogate test of :func:`details`: its size and distribution of the statistic."""

    n: int
    mean: float | None
    sd: float | None
    effect_size: float | None
    p_value: float | None


class SegmentDetails(TypedDict):
    """The segment-shuffle test of :func:`details` (reported beside the circular-shift test)."""

    n: int
    segment_s: float
    mean: float | None
    sd: float | None
    effect_size: float | None
    p_value: float | None


class SyncDetails(TypedDict):
    """The ``"synchrony_details"`` object of ``coreg analyze --json`` (:func:`details`).

    The keys after ``seed`` are there when the analysis could be made.
    """

    roles: list[str]
    lag_reference: str
    window_s: float
    step_s: float
    max_lag_s: float
    rate_hz: float
    lowpass_hz: float
    test: str
    seed: int
    lag_s_first_role_leads: NotRequired[float | None]
    lag_ci95_s: NotRequired[list[float | None]]
    chance_mean_peak_r: NotRequired[float | None]
    chance_r95_window: NotRequired[float | None]
    circular_shift: NotRequired[SurrogateDetails]
    segment_shuffle: NotRequired[SegmentDetails]


class SessionSynchrony(TypedDict):
    """What :func:`session_synchrony` returns (the synchrony part of ``coreg analyze --json``).

    ``synchrony`` and ``breathing_synchrony`` are JSON objects (:meth:`SyncSummary.as_json`,
    the breathing one with ``label`` and ``band_hz`` added); ``coreg analyze`` adds to them.
    """

    synchrony: dict[str, object]
    breathing_synchrony: dict[str, object]
    synchrony_details: SyncDetails


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
    t_s = cast("NDArray[np.float64]", (k0 + starts) / rate)
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
        boot_curves = cast("NDArray[np.float64]", counts @ curves / idx.shape[1])
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
        peak_lag_s=cast("NDArray[np.float64]", (real_i - L) / rate),
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


@dataclass(frozen=True, slots=True)
class SyncSummary:
    """The headline of one pair analysis against its chance baseline (docs/science.md §5).

    Undefined numbers are None. ``lag_s`` is positive when the leader's heart moves first;
    with ``leader == "none"`` it is the estimate of how far the first role's heart moves
    before the second's. ``significant`` is p < alpha (circular-shift test).
    """

    mean_peak_r: float | None
    lag_s: float | None
    leader: str
    effect_size: float | None
    p_value: float | None
    significant: bool
    pct_windows_above_chance: float | None
    windows: int

    def as_json(self) -> dict[str, object]:
        """The ``"synchrony"`` object of ``coreg analyze --json`` (keys in field order)."""
        return {"mean_peak_r": self.mean_peak_r, "lag_s": self.lag_s, "leader": self.leader,
                "effect_size": self.effect_size, "p_value": self.p_value,
                "significant": self.significant,
                "pct_windows_above_chance": self.pct_windows_above_chance,
                "windows": self.windows}


#: The summary of an analysis that could not be made (too little overlapping data).
NO_SYNC = SyncSummary(None, None, "none", None, None, False, None, 0)


def summary(analysis: PairAnalysis | None, roles: tuple[str, str], alpha: float) -> SyncSummary:
    """The :class:`SyncSummary` of one analysis (:data:`NO_SYNC` for None)."""
    if analysis is None:
        return NO_SYNC
    leader = leader_of(analysis, roles, alpha)
    lag = analysis.lag_s if leader != roles[1] else -analysis.lag_s
    p = analysis.p_value
    return SyncSummary(
        mean_peak_r=_clean(analysis.mean_peak_r),
        lag_s=_clean(lag, 2),
        leader=leader,
        effect_size=_clean(analysis.effect_size, 3),
        p_value=_clean(p),
        significant=bool(np.isfinite(p) and p < alpha),
        pct_windows_above_chance=_clean(analysis.pct_windows_above_chance, 1),
        windows=analysis.windows,
    )


def details(analysis: PairAnalysis | None, roles: tuple[str, str],
            settings: SyncSettings) -> SyncDetails:
    """Supporting numbers: settings, chance levels of both surrogates, lag interval."""
    out: SyncDetails = {
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
    out["lag_s_first_role_leads"] = _clean(analysis.lag_s, 2)
    out["lag_ci95_s"] = [_clean(lo, 2), _clean(hi, 2)]
    out["chance_mean_peak_r"] = _clean(analysis.circular.mean)
    out["chance_r95_window"] = _clean(analysis.chance_r95)
    out["circular_shift"] = {"n": analysis.circular.n, "mean": _clean(analysis.circular.mean),
                             "sd": _clean(analysis.circular.sd),
                             "effect_size": _clean(analysis.circular.effect_size, 3),
                             "p_value": _clean(analysis.circular.p_value)}
    out["segment_shuffle"] = {"n": analysis.segment.n, "segment_s": settings.segment_s,
                              "mean": _clean(analysis.segment.mean),
                              "sd": _clean(analysis.segment.sd),
                              "effect_size": _clean(analysis.segment.effect_size, 3),
                              "p_value": _clean(analysis.segment.p_value)}
    return out


def _pick_roles(beats: Mapping[str, BeatSeries], roles: tuple[str, str] | None) -> tuple[str, str]:
    chosen: tuple[str, ...]
    if roles is not None:
        chosen = roles
    else:
        chosen = DYAD_ROLES if all(r in beats for r in DYAD_ROLES) else tuple(beats)[:2]
    if len(chosen) != 2 or chosen[0] == chosen[1]:
        raise InputError("synchrony needs exactly two different roles")
    for r in chosen:
        if r not in beats:
            raise InputError(f"synchrony: no beats for role {r!r}")
    return chosen[0], chosen[1]


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
) -> SessionSynchrony:
    """Synchrony of a whole session, as JSON-ready dicts.

    Parameters
    ----------
    beats
        Role → NN beats on the shared host clock (two roles; ``"therapist"`` and ``"client"`` are
        taken in that order when both are present).
    roles
        The two roles to compare, first one's lead counted positive when there is no leader.
    settings
        Analysis settings (defaults: docs/science.md §5).

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
    br = summary(breathing, pair, settings.alpha).as_json()
    br["label"] = BREATHING_LABEL
    br["band_hz"] = list(settings.breathing_band_hz)
    return {
        "synchrony": summary(slow, pair, settings.alpha).as_json(),
        "breathing_synchrony": br,
        "synchrony_details": details(slow, pair, settings),
    }
