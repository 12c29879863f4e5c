"""The session's typed results: what the live view, the terminal view and the report render.

Plain frozen dataclasses with no behaviour (the metrics are the engine's own
:class:`~coreg.engine.person.Metric`), built by :mod:`coreg.session.figures` (and
:mod:`coreg.session.engines`, which turns engine objects into them). Kept apart so that the
modules that build them do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from coreg.engine.person import Metric
from coreg.engine.synchrony.verdict import SyncVerdict

__all__ = ["VERDICT_CODES", "Metric", "PersonFigures", "SessionFigures", "SyncFigures"]


@dataclass(frozen=True, slots=True)
class PersonFigures:
    """What the live view shows for one person (times are seconds since the session start)."""

    role: str
    name: str
    simulated: bool
    connection: str
    reconnect_at_s: float | None
    battery_pct: float | None
    contact: bool | None
    hr_bpm: float | None
    hr: Metric
    rmssd: Metric
    coherence: Metric
    lf_hf: Metric
    pct_corrected: float | None
    provisional_beats: int
    gaps: int
    beats: int
    hr_curve_t_s: NDArray[np.float64]
    hr_curve_bpm: NDArray[np.float64]
    trend_t_s: NDArray[np.float64]
    rmssd_trend_ms: NDArray[np.float64]
    coherence_trend: NDArray[np.float64]
    error: str = ""
    #: True at the HR-curve points whose beat the artifact correction changed (the curve
    #: shows corrected NN beats; these are marked, not hidden).
    hr_curve_corrected: NDArray[np.bool_] = field(
        default_factory=lambda: np.zeros(0, dtype=bool))


#: The live verdict's states as numbers in :attr:`SyncFigures.verdict_code`.
VERDICT_CODES: dict[str, int] = {"collecting": 0, "gap": 1, "not_in_sync": 2, "in_sync": 3}


@dataclass(frozen=True, slots=True)
class SyncFigures:
    """The synchrony panel's content (times in seconds since the session start).

    ``t_s``/``r`` are the per-window peak correlations of the slow (< 0.15 Hz) HR signals at
    each window's centre; ``mean_t_s``/``mean_r`` the live value (mean of the last few windows)
    with ``chance_lo``/``chance_hi`` = the chance mean and 95th percentile of that same value
    from surrogate pairs; ``breathing_*`` the breathing-band (0.15–0.4 Hz) peak r;
    ``verdict_t_s``/``verdict_code`` the state the live verdict said at each 5 s update (at the
    centre of the latest window then, like ``mean_t_s``; codes in :data:`VERDICT_CODES`).
    """

    t_s: NDArray[np.float64]
    r: NDArray[np.float64]
    mean_t_s: NDArray[np.float64]
    mean_r: NDArray[np.float64]
    chance_lo: NDArray[np.float64]
    chance_hi: NDArray[np.float64]
    breathing_t_s: NDArray[np.float64]
    breathing_r: NDArray[np.float64]
    state: str
    leader: str | None
    lag_s: float | None
    lag_uncertainty_s: float | None
    effect_size: float | None
    p_value: float | None
    current_r: float | None
    current_chance_s: float | None
    pct_time_in_sync: float | None
    breathing_state: str
    window_s: float = 30.0
    step_s: float = 5.0
    windows_have: int = 0
    windows_need: int = 0
    chance_known: bool = False
    breathing_span_s: float = 0.0
    verdict: SyncVerdict | None = None
    verdict_t_s: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    verdict_code: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))


@dataclass(frozen=True, slots=True)
class SessionFigures:
    """Everything the live view needs for one frame."""

    elapsed_s: float
    persons: dict[str, PersonFigures]
    sync: SyncFigures | None
    markers: tuple[tuple[float, str], ...] = ()
    version: int = 0
