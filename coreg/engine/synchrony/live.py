"""Live synchrony: each new window computed once, a trailing chance baseline.

See :mod:`coreg.engine.synchrony` for the definitions (docs/science.md §5).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from coreg.engine.beats import BeatSeries
from coreg.engine.synchrony.session import (
    PairAnalysis,
    SyncSummary,
    analyze_signals,
    summary,
)
from coreg.engine.synchrony.settings import DYAD_ROLES, MIN_CHANCE_SURROGATES, SyncSettings
from coreg.engine.synchrony.signal import _pad_samples, prepare_pair
from coreg.engine.synchrony.windows import (
    peak_nearest_zero,
    standardized_windows,
    valid_window_starts,
    window_curves,
)


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
    baseline: SyncSummary | None
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
        st_l = cast("list[int]", starts.tolist())
        r_l = cast("list[float]", r.tolist())
        i_l = cast("list[int]", i.tolist())
        return [SyncWindow(float((k0 + st) / rate), float(rv), float((iv - L) / rate))
                for st, rv, iv in zip(st_l, r_l, i_l, strict=True)]

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
