"""Settings and constants of the synchrony analysis (docs/science.md §5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from coreg.errors import InputError

#: Default role order of a therapy dyad: positive internal lags mean the therapist moves first.
DYAD_ROLES = ("therapist", "client")

BREATHING_LABEL = (
    "breathing-band synchrony (heart rate 0.15-0.40 Hz, the RSA band): two people breathing alike, "
    "not slow autonomic coupling"
)


@dataclass(frozen=True, slots=True)
class SyncSettings:
    """Parameters of the synchrony analysis (defaults from docs/science.md §5).

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
        Unknown time between consecutive NN beats beyond which a run is broken
        (:meth:`BeatSeries.segments`): the one gap rule of live and offline synchrony. 2.5 s is
        the beat timeline's own gap threshold ("no beat for several seconds"); shorter holes
        left by artifact correction (an interpolated beat placed after its predecessor, a
        provisional beat not yet corrected) are bridged by the linear HR interpolation.
    seed
        Seed of every random draw (results are deterministic).
    baseline_s
        Live: span of the breathing-band analysis shown beside the verdict.
    live_block_windows
        Live: the test's block, in windows (36 windows = three minutes of window starts,
        205 s of data).
    live_block_min_windows
        Live: a block still counts with this many of its ``live_block_windows`` windows (24 =
        two thirds; at most the block), the others lost to a real gap (no beats: lost
        contact, a disconnect). Its mean curve is then scaled by ``sqrt(n/K)`` (``n``
        windows present), for the real block
        and every surrogate alike, so a block with fewer windows is never easier to pass; a
        20-s contact loss costs about 10 s of verdicts instead of three minutes.
    live_lag_windows
        Live: the lag of the test is held from the mean curve of up to this many latest windows
        (60 = 5 min; at least ``live_block_windows`` of them); ``0``: the block's own peak.
    live_pool_s
        Live: the trailing span whose block pairings form the chance distribution.
    live_latest_windows, live_latest_p
        Live: the latest-minute check. The same statistic over only the latest
        ``live_latest_windows`` windows, at the held lag, ranked against the same pairings;
        "in sync" also needs its p to be at most ``live_latest_p`` (0.5: the latest minute is
        not below chance's median). 5 windows are the latest minute of data: their starts span
        20 s, each covers 30 s plus the ±5 s lags, 60 s in all
        (``(60 − window_s − 2·max_lag_s)/step_s + 1``; 6 reached 65 s back). It can only turn
        "in sync" off, so the false-alarm rate stays at most ``live_alpha``; it says within
        about a minute that a coupling has ended, which the long block alone says only after
        minutes. ``0``: no check.
    live_alpha
        Live: per-update significance level of "in sync" (the expected share of false "in sync"
        updates between uncoupled people).
    leader_min_lag_s
        Live: the leader is named only when the block's lag is at least this large.
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
    gap_tolerance_s: float = 2.5
    seed: int = 0
    baseline_s: float = 300.0
    live_edge_s: float = 5.0
    live_block_windows: int = 36
    live_block_min_windows: int = 24
    live_lag_windows: int = 60
    live_latest_windows: int = 5
    live_latest_p: float = 0.5
    live_pool_s: float = 600.0
    live_alpha: float = 0.01
    leader_min_lag_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("window_s", "step_s", "rate_hz", "lowpass_hz", "segment_s", "baseline_s",
                     "live_pool_s"):
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
        if not 0 < self.alpha < 1 or not 0 < self.live_alpha < 1:
            raise InputError("synchrony alpha must lie in (0, 1)")
        if self.live_block_windows < 1 or self.live_lag_windows < 0:
            raise InputError("synchrony live_block_windows must be at least 1")
        if self.live_block_min_windows < 1:
            raise InputError("synchrony live_block_min_windows must be at least 1")
        if not 0 <= self.live_latest_windows <= self.live_block_windows:
            raise InputError("synchrony live_latest_windows must lie in [0, live_block_windows]")
        if not 0 < self.live_latest_p <= 1:
            raise InputError("synchrony live_latest_p must lie in (0, 1]")

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
        return cast("NDArray[np.float64]",
                    np.arange(-self.lag_samples, self.lag_samples + 1) / self.rate_hz)

    @property
    def min_separation_s(self) -> float:
        """Surrogate pairs must be at least this far apart to share no data."""
        return self.window_s + 2.0 * self.max_lag_s
