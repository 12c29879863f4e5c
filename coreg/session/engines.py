"""The session's seam to the engine: one place that knows the engine's live API.

Every call the session makes into the per-person engine (:mod:`coreg.engine.person`) and the
live synchrony engine (:mod:`coreg.engine.synchrony`) goes through here; what comes back is
typed: the engine's own :class:`~coreg.engine.person.Metric` values (:class:`PersonValues`)
and :class:`~coreg.session.results.SyncFigures`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from coreg.engine import synchrony as sy
from coreg.engine.artifacts import Corrected
from coreg.engine.beats import BeatSeries
from coreg.engine.person import COLLECTING, Metric, PersonEngine, PersonSnapshot
from coreg.engine.synchrony import DYAD_ROLES, LiveSynchrony, LiveSyncSnapshot
from coreg.engine.timeline import BeatTimeline
from coreg.session.results import SyncFigures
from devices.types import DeviceEvent, RRSample

log = logging.getLogger(__name__)

#: Live windows and cadences (docs/science.md §3, §4), for the metrics before the first snapshot.
RMSSD_WINDOW_S, RMSSD_CADENCE_S = 60.0, 0.0
LF_HF_WINDOW_S, LF_HF_CADENCE_S = 300.0, 5.0
COHERENCE_WINDOW_S, COHERENCE_CADENCE_S = 64.0, 5.0


def person_engine(role: str) -> PersonEngine:
    """A live per-person engine for ``role``."""
    return PersonEngine(role)


def feed(engine: PersonEngine, sample: RRSample) -> None:
    """Feed one RR notification."""
    engine.feed(sample)


def feed_event(engine: PersonEngine, event: DeviceEvent) -> None:
    """Feed one device event (the engine breaks its timeline on a disconnect)."""
    engine.feed(event)


def snapshot(engine: PersonEngine, now_s: float) -> PersonSnapshot:
    """The engine's snapshot at ``now_s``."""
    return engine.snapshot(now_s)


def timeline(engine: PersonEngine) -> BeatTimeline:
    """The engine's beat timeline."""
    return engine.timeline


def beats(engine: PersonEngine, span_s: float | None = None) -> BeatSeries:
    """The person's corrected NN beats (the last ``span_s`` seconds, or all)."""
    corrected = engine.window(span_s) if span_s is not None else engine.nn()
    return BeatSeries(np.asarray(corrected.t_s, dtype=np.float64),
                      np.asarray(corrected.rr_ms, dtype=np.float64),
                      np.asarray(corrected.valid, dtype=bool))


def corrected_window(engine: PersonEngine, span_s: float) -> Corrected:
    """The engine's corrected NN beats of the last ``span_s`` seconds, each with its source
    index in the engine's raw beat timeline (for the HR curve's corrected-beat marks)."""
    return engine.window(span_s)


@dataclass(frozen=True, slots=True)
class PersonValues:
    """What the panel shows of one person's snapshot.

    The metrics are the engine's :class:`~coreg.engine.person.Metric` as they are, except that
    a non-finite value reads as "collecting" (value None).
    """

    hr: Metric
    rmssd: Metric
    coherence: Metric
    lf_hf: Metric
    pct_corrected: float | None
    provisional: int
    gaps: int


#: Before the first snapshot: every metric collecting over its window.
EMPTY_VALUES = PersonValues(
    hr=Metric(None, "bpm", 0.0, 0.0),
    rmssd=Metric(None, "ms", RMSSD_WINDOW_S, RMSSD_CADENCE_S),
    coherence=Metric(None, "", COHERENCE_WINDOW_S, COHERENCE_CADENCE_S),
    lf_hf=Metric(None, "", LF_HF_WINDOW_S, LF_HF_CADENCE_S),
    pct_corrected=None, provisional=0, gaps=0)


def _shown(metric: Metric) -> Metric:
    value = metric.value
    if value is None:
        return metric if metric.state == COLLECTING else metric._replace(state=COLLECTING)
    if not math.isfinite(value):
        return metric._replace(value=None, state=COLLECTING)
    if metric.state == COLLECTING:
        return metric._replace(value=None)
    return metric


def person_values(snap: PersonSnapshot | None) -> PersonValues:
    """The values the panel shows of ``snap`` (:data:`EMPTY_VALUES` before the first one)."""
    if snap is None:
        return EMPTY_VALUES
    quality = snap.quality
    return PersonValues(
        hr=_shown(snap.hr_bpm), rmssd=_shown(snap.rmssd_ms),
        coherence=_shown(snap.coherence), lf_hf=_shown(snap.lf_hf),
        pct_corrected=quality.corrected_pct, provisional=snap.provisional_beats,
        gaps=quality.gaps)


# -- synchrony ------------------------------------------------------------------------------
#: Trailing span of beats handed to the synchrony engine at each update, in s (its 5 min
#: baseline plus one window, the lags and the filter margins).
SYNC_SPAN_S = 420.0
#: How often the breathing-band analysis runs, in s.
BREATHING_EVERY_S = 30.0
#: The verdict's state as the short word of the panel's state label.
STATE_WORDS = {"collecting": "not enough data", "gap": "gap", "in_sync": "in sync",
               "not_in_sync": "not in sync"}


def synchrony_engine(roles: Sequence[str]) -> DyadSync:
    """The live synchrony of a dyad."""
    return DyadSync(tuple(roles))


class _Series:
    """Append-only columns of floats for the synchrony timelines."""

    def __init__(self, columns: int) -> None:
        self.rows: list[tuple[float, ...]] = []
        self.columns = columns
        self._cache: NDArray[np.float64] | None = None

    def append(self, *values: float) -> None:
        self.rows.append(values)
        self._cache = None

    def array(self) -> NDArray[np.float64]:
        if self._cache is None:
            self._cache = (np.asarray(self.rows, dtype=np.float64) if self.rows
                           else np.empty((0, self.columns)))
        return self._cache


class DyadSync:
    """Live synchrony of the dyad for the view (:class:`coreg.engine.synchrony.LiveSynchrony`).

    Adds what the panel shows around the engine's live object: the timelines (per-window peak r,
    the smoothed value against its chance band), the breathing-band synchrony over the trailing
    5 min against its own surrogates (every 30 s), and the share of the session spent above
    chance so far.
    """

    def __init__(self, roles: tuple[str, ...]) -> None:
        pair = DYAD_ROLES if set(DYAD_ROLES) == set(roles) else (roles[0], roles[1])
        self.live = LiveSynchrony(roles=pair)
        self.settings = self.live.settings
        self.roles = pair
        self.windows = _Series(2)      # window centre (s since start), peak r
        self.smoothed = _Series(4)     # update time, recent r, chance mean, chance 95th pct
        self.breathing = _Series(2)    # window centre, breathing-band peak r
        self.verdicts = _Series(2)     # update time, VERDICT_CODES of what the verdict said
        self.last: LiveSyncSnapshot | None = None
        self.breathing_summary: sy.SyncSummary | None = None
        self.breathing_span_s = 0.0
        self._next_breathing_s = -math.inf
        self._last_breathing_t = -math.inf

    def update(self, beats: dict[str, BeatSeries], now_s: float, start_s: float) -> None:
        if any(r not in beats for r in self.roles):
            return
        snap = self.live.update(beats, now_s)
        if snap is None:
            return
        self.last = snap
        half = self.settings.window_s / 2.0
        verdict = getattr(snap, "verdict", None)
        if verdict is not None:
            from coreg.session.results import VERDICT_CODES

            # On the line's time axis (the latest window's centre), so the strip under the
            # plot lines up with the values it speaks about.
            at_s = snap.window.t_s + half if snap.window is not None else now_s
            self.verdicts.append(at_s - start_s, VERDICT_CODES[verdict.state])
        for w in snap.new_windows:
            self.windows.append(w.t_s + half - start_s, w.peak_r)
        if np.isfinite(snap.recent_r) and snap.window is not None:
            self.smoothed.append(snap.window.t_s + half - start_s, snap.recent_r,
                                 snap.chance_r, snap.chance_r95)
        if now_s >= self._next_breathing_s:
            self._next_breathing_s = now_s + BREATHING_EVERY_S
            self._update_breathing(beats, now_s, start_s)

    @property
    def windows_needed(self) -> int:
        """Windows the first verdict needs (:attr:`LiveSynchrony.windows_needed`)."""
        return self.live.windows_needed

    def _update_breathing(self, beats: dict[str, BeatSeries], now_s: float,
                          start_s: float) -> None:
        s = self.settings
        a, b = beats[self.roles[0]], beats[self.roles[1]]
        if len(a) < 2 or len(b) < 2:
            return
        end_s = min(float(a.midpoints_s[-1]), float(b.midpoints_s[-1]), now_s) - s.live_edge_s
        end_k = math.floor(end_s * s.rate_hz)
        n = round(s.baseline_s * s.rate_hz)
        x, y = sy.prepare_pair(a, b, end_k - n, n + 1, s, "breathing")
        analysis = sy.analyze_signals(x, y, end_k - n, s, n_surrogates=200, n_bootstrap=0)
        self.breathing_summary = sy.summary(analysis, self.roles, s.alpha)
        first = max(float(a.t_s[0]), float(b.t_s[0]))
        self.breathing_span_s = max(0.0, min(s.baseline_s, end_s - first))
        if analysis is None:
            return
        half = s.window_s / 2.0
        t_l = cast("list[float]", analysis.window_t_s.tolist())
        r_l = cast("list[float]", analysis.peak_r.tolist())
        for t, r in zip(t_l, r_l, strict=True):
            if t > self._last_breathing_t:
                self.breathing.append(t + half - start_s, r)
                self._last_breathing_t = t


def empty_sync(engine: DyadSync) -> SyncFigures:
    """Synchrony figures before the first update."""
    empty = np.empty(0)
    return SyncFigures(
        t_s=empty, r=empty, mean_t_s=empty, mean_r=empty, chance_lo=empty, chance_hi=empty,
        breathing_t_s=empty, breathing_r=empty, state="not enough data", leader=None,
        lag_s=None, lag_uncertainty_s=None, effect_size=None, p_value=None, current_r=None,
        current_chance_s=None, pct_time_in_sync=None, breathing_state="not enough data",
        windows_need=engine.windows_needed)


def sync_update(engine: DyadSync, beats: dict[str, BeatSeries], now_s: float,
                start_s: float) -> SyncFigures:
    """Update the live synchrony with both people's beats up to ``now_s``."""
    engine.update(beats, now_s, start_s)
    snap = engine.last
    if snap is None:
        return empty_sync(engine)
    win = engine.windows.array()
    smooth = engine.smoothed.array()
    breath = engine.breathing.array()
    chance_known = bool(np.isfinite(snap.chance_r95))
    v = snap.verdict
    state = STATE_WORDS[v.state]
    leader = v.leader if v.decided else None
    lag = v.lag_s if leader is not None and math.isfinite(v.lag_s) else None
    effect = _finite(v.effect_size) if v.decided else None
    p_value = _finite(v.p_value) if v.decided else None
    br = engine.breathing_summary if engine.breathing_summary is not None else sy.NO_SYNC
    if br.windows:
        br_state = "in step" if br.significant else "not in step"
        br_r = br.mean_peak_r
        if br_r is not None:
            span_min = engine.breathing_span_s / 60.0
            when = "last 5 min" if span_min >= 4.95 else f"last {span_min:.1f} min"
            br_state += f" (r {br_r:.2f}, {when})"
    else:
        br_state = "not enough data"
    share = _finite(v.in_sync_pct)
    return SyncFigures(
        t_s=win[:, 0], r=win[:, 1],
        mean_t_s=smooth[:, 0], mean_r=smooth[:, 1],
        chance_lo=smooth[:, 2], chance_hi=smooth[:, 3],
        breathing_t_s=breath[:, 0], breathing_r=breath[:, 1],
        state=state, leader=leader, lag_s=None if lag is None else abs(float(lag)),
        lag_uncertainty_s=None,
        effect_size=effect, p_value=p_value,
        current_r=float(snap.recent_r) if np.isfinite(snap.recent_r) else None,
        current_chance_s=None,
        pct_time_in_sync=share,
        breathing_state=br_state,
        window_s=engine.settings.window_s, step_s=engine.settings.step_s,
        windows_have=len(engine.live.windows), windows_need=engine.windows_needed,
        chance_known=chance_known, breathing_span_s=engine.breathing_span_s,
        verdict=v,
        verdict_t_s=engine.verdicts.array()[:, 0], verdict_code=engine.verdicts.array()[:, 1],
    )


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None
