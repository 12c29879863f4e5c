"""Settings and constants of the synchrony analysis (docs/science.md §5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from coreg.errors import InputError

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
        return cast("NDArray[np.float64]",
                    np.arange(-self.lag_samples, self.lag_samples + 1) / self.rate_hz)

    @property
    def min_separation_s(self) -> float:
        """Surrogate pairs must be at least this far apart to share no data."""
        return self.window_s + 2.0 * self.max_lag_s
