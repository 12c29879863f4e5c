"""Physiological synchrony of two people: windowed cross-correlation of heart rate against chance.

Definitions (docs/science.md §5):

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

The package is split by concept: :mod:`~coreg.engine.synchrony.settings` (settings and constants),
:mod:`~coreg.engine.synchrony.signal` (HR on the grid, filtering, runs),
:mod:`~coreg.engine.synchrony.windows` (the window function),
:mod:`~coreg.engine.synchrony.session` (pair analysis, session summary) and
:mod:`~coreg.engine.synchrony.live` (live synchrony). Every public name is re-exported here.
"""

from __future__ import annotations

import logging

from coreg.engine.synchrony.live import LiveSynchrony, LiveSyncSnapshot, SyncWindow
from coreg.engine.synchrony.session import (
    NO_SYNC,
    PairAnalysis,
    SegmentDetails,
    SessionSynchrony,
    SurrogateDetails,
    SyncDetails,
    SyncSummary,
    _clean,
    _pick_roles,
    _session_grid,
    analyze_signals,
    details,
    leader_of,
    session_analyses,
    session_synchrony,
    summary,
)
from coreg.engine.synchrony.settings import (
    BREATHING_LABEL,
    DYAD_ROLES,
    SyncSettings,
)
from coreg.engine.synchrony.signal import (
    _pad_samples,
    _sos,
    filter_runs,
    finite_runs,
    hr_on_grid,
    prepare_pair,
    trailing,
)
from coreg.engine.synchrony.windows import (
    pair_peak_matrix,
    peak_nearest_zero,
    refined_lag,
    refined_lags,
    standardized_windows,
    valid_window_starts,
    window_curves,
)

logger = logging.getLogger(__name__)

__all__ = [
    "BREATHING_LABEL",
    "DYAD_ROLES",
    "NO_SYNC",
    "LiveSyncSnapshot",
    "LiveSynchrony",
    "PairAnalysis",
    "SegmentDetails",
    "SessionSynchrony",
    "SurrogateDetails",
    "SyncDetails",
    "SyncSettings",
    "SyncSummary",
    "SyncWindow",
    "_clean",
    "_pad_samples",
    "_pick_roles",
    "_session_grid",
    "_sos",
    "analyze_signals",
    "details",
    "filter_runs",
    "finite_runs",
    "hr_on_grid",
    "leader_of",
    "pair_peak_matrix",
    "peak_nearest_zero",
    "prepare_pair",
    "refined_lag",
    "refined_lags",
    "session_analyses",
    "session_synchrony",
    "standardized_windows",
    "summary",
    "trailing",
    "valid_window_starts",
    "window_curves",
]
