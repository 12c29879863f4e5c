"""The session's seam to the engine: one place that knows the engine's live API.

The per-person engine (:mod:`coreg.engine.person`) and the live synchrony engine
(:mod:`coreg.engine.synchrony`) are built in parallel with this layer; every call the session
makes into them goes through the functions below, which turn engine objects into the plain
values the live view shows (:class:`coreg.session.figures.Metric`, dicts).

When an engine module is not importable, a minimal stand-in keeps the live view alive: HR
from the raw RR and nothing else ("engine unavailable"); it never pretends to compute HRV.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from coreg.engine.beats import BeatSeries
from devices.types import DeviceEvent, RRSample

if TYPE_CHECKING:
    from coreg.session.results import SyncFigures

log = logging.getLogger(__name__)

#: Live windows and cadences (SCIENCE.md §3, §4), used for labels when the engine gives none.
RMSSD_WINDOW_S, RMSSD_CADENCE_S = 60.0, 0.0
LF_HF_WINDOW_S, LF_HF_CADENCE_S = 300.0, 5.0
COHERENCE_WINDOW_S, COHERENCE_CADENCE_S = 64.0, 5.0


class _RawHeart:
    """Stand-in when :mod:`coreg.engine.person` is missing: HR of the last raw RR only."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.last_rr_ms = math.nan

    def feed(self, sample: RRSample) -> None:
        if sample.rr_ms and sample.contact is not False:
            self.last_rr_ms = sample.rr_ms[-1]

    def snapshot(self, now_s: float) -> dict[str, Any]:
        return {"hr_bpm": 60000.0 / self.last_rr_ms if math.isfinite(self.last_rr_ms) else None}


def person_engine(role: str) -> Any:
    """A live per-person engine for ``role``."""
    try:
        from coreg.engine.person import PersonEngine
    except ImportError:
        log.warning("coreg.engine.person not available: showing raw HR only")
        return _RawHeart(role)
    return PersonEngine(role)


def feed(engine: Any, sample: RRSample) -> None:
    """Feed one RR notification."""
    engine.feed(sample)


def feed_event(engine: Any, event: DeviceEvent) -> None:
    """Feed one device event (the engine breaks its timeline on a disconnect)."""
    if not isinstance(engine, _RawHeart):
        engine.feed(event)


def snapshot(engine: Any, now_s: float) -> Any:
    """The engine's snapshot at ``now_s``."""
    return engine.snapshot(now_s)


def timeline(engine: Any) -> Any:
    """The engine's beat timeline (:class:`coreg.engine.timeline.BeatTimeline`), or None."""
    return getattr(engine, "timeline", None)


def beats(engine: Any, span_s: float | None = None) -> BeatSeries | None:
    """The person's corrected NN beats (the last ``span_s`` seconds, or all), or None."""
    if isinstance(engine, _RawHeart):
        return None
    corrected = engine.window(span_s) if span_s is not None else engine.nn()
    return BeatSeries(np.asarray(corrected.t_s, dtype=np.float64),
                      np.asarray(corrected.rr_ms, dtype=np.float64),
                      np.asarray(corrected.valid, dtype=bool))


def person_values(snap: Any) -> dict[str, Any]:
    """Turn a person snapshot into the values the panel shows.

    Returns
    -------
    dict
        ``hr``, ``rmssd``, ``coherence``, ``lf_hf`` (:class:`Metric`), ``pct_corrected``,
        ``provisional``, ``gaps``.
    """
    from coreg.session.results import Metric

    if snap is None:
        empty = Metric(None, 0.0, 0.0, True)
        return {"hr": empty, "rmssd": Metric(None, RMSSD_WINDOW_S, RMSSD_CADENCE_S),
                "coherence": Metric(None, COHERENCE_WINDOW_S, COHERENCE_CADENCE_S),
                "lf_hf": Metric(None, LF_HF_WINDOW_S, LF_HF_CADENCE_S),
                "pct_corrected": None, "provisional": 0, "gaps": 0}
    if isinstance(snap, dict):  # the raw-HR stand-in
        hr = snap.get("hr_bpm")
        return {"hr": Metric(hr, 0.0, 0.0, hr is None),
                "rmssd": Metric(None, RMSSD_WINDOW_S, RMSSD_CADENCE_S),
                "coherence": Metric(None, COHERENCE_WINDOW_S, COHERENCE_CADENCE_S),
                "lf_hf": Metric(None, LF_HF_WINDOW_S, LF_HF_CADENCE_S),
                "pct_corrected": None, "provisional": 0, "gaps": 0}
    return _engine_values(snap)


def _metric(obj: Any, window_s: float, cadence_s: float) -> Any:
    from coreg.session.results import Metric

    if obj is None:
        return Metric(None, window_s, cadence_s, True)
    value = getattr(obj, "value", None)
    if value is not None:
        value = float(value)
        if not math.isfinite(value):
            value = None
    collecting = getattr(obj, "state", "collecting") == "collecting" or value is None
    return Metric(
        None if collecting else value,
        float(getattr(obj, "window_s", window_s)),
        float(getattr(obj, "every_s", cadence_s)),
        collecting,
        float(getattr(obj, "coverage_s", 0.0) or 0.0),
    )


def _engine_values(snap: Any) -> dict[str, Any]:
    quality = snap.quality
    return {
        "hr": _metric(snap.hr_bpm, 0.0, 0.0),
        "rmssd": _metric(snap.rmssd_ms, RMSSD_WINDOW_S, RMSSD_CADENCE_S),
        "coherence": _metric(snap.coherence, COHERENCE_WINDOW_S, COHERENCE_CADENCE_S),
        "lf_hf": _metric(snap.lf_hf, LF_HF_WINDOW_S, LF_HF_CADENCE_S),
        "pct_corrected": quality.corrected_pct,
        "provisional": snap.provisional_beats,
        "gaps": quality.gaps,
    }


# -- synchrony ------------------------------------------------------------------------------
#: Trailing span of beats handed to the synchrony engine at each update, in s (its 5 min
#: baseline plus one window, the lags and the filter margins).
SYNC_SPAN_S = 420.0
#: How often the breathing-band analysis runs, in s.
BREATHING_EVERY_S = 30.0


def synchrony_engine(roles: Sequence[str]) -> Any:
    """The live synchrony of a dyad, or a stand-in when the engine is not available."""
    try:
        from coreg.engine import synchrony
    except ImportError:
        log.warning("coreg.engine.synchrony not available: no synchrony panel figures")
        return _NoSync(tuple(roles))
    if not hasattr(synchrony, "LiveSynchrony"):
        return _NoSync(tuple(roles))
    return DyadSync(tuple(roles))


class _NoSync:
    def __init__(self, roles: tuple[str, ...]) -> None:
        self.roles = roles


class _Series:
    """Append-only columns of floats for the synchrony timelines."""

    def __init__(self, columns: int) -> None:
        self.rows: list[tuple[float, ...]] = []
        self.columns = columns
        self._cache: np.ndarray | None = None

    def append(self, *values: float) -> None:
        self.rows.append(values)
        self._cache = None

    def array(self) -> np.ndarray:
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
        from coreg.engine.synchrony import DYAD_ROLES, LiveSynchrony

        pair = DYAD_ROLES if set(DYAD_ROLES) == set(roles) else (roles[0], roles[1])
        self.live = LiveSynchrony(roles=pair)
        self.settings = self.live.settings
        self.roles = pair
        self.windows = _Series(2)      # window centre (s since start), peak r
        self.smoothed = _Series(4)     # update time, recent r, chance mean, chance 95th pct
        self.breathing = _Series(2)    # window centre, breathing-band peak r
        self.last = None
        self.breathing_summary: dict[str, Any] | None = None
        self.breathing_span_s = 0.0
        self._next_breathing_s = -math.inf
        self._last_breathing_t = -math.inf
        self.updates_ok = 0
        self.updates_above = 0

    def update(self, beats: dict[str, BeatSeries | None], now_s: float,
               start_s: float) -> None:
        if any(beats.get(r) is None for r in self.roles):
            return
        snap = self.live.update(beats, now_s)  # type: ignore[arg-type]
        if snap is None:
            return
        self.last = snap
        half = self.settings.window_s / 2.0
        for w in snap.new_windows:
            self.windows.append(w.t_s + half - start_s, w.peak_r)
        if np.isfinite(snap.recent_r) and snap.window is not None:
            self.smoothed.append(snap.window.t_s + half - start_s, snap.recent_r,
                                 snap.chance_r, snap.chance_r95)
            if np.isfinite(snap.chance_r95):
                self.updates_ok += 1
                self.updates_above += int(snap.above_chance)
        if now_s >= self._next_breathing_s:
            self._next_breathing_s = now_s + BREATHING_EVERY_S
            self._update_breathing(beats, now_s, start_s)  # type: ignore[arg-type]

    @property
    def windows_needed(self) -> int:
        """Windows the first chance baseline needs: ``smooth_windows`` means over pairs of
        windows at least ``min_separation_s`` apart (the baseline is then computed within
        ``baseline_every_s``)."""
        engine_count = getattr(self.live, "windows_needed", None)
        if engine_count is not None:
            return int(engine_count)
        s = self.settings
        return int(s.smooth_windows + math.ceil(s.min_separation_s / s.step_s))

    def _update_breathing(self, beats: dict[str, BeatSeries], now_s: float,
                          start_s: float) -> None:
        from coreg.engine import synchrony as sy

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
        for t, r in zip(analysis.window_t_s.tolist(), analysis.peak_r.tolist(), strict=True):
            if t > self._last_breathing_t:
                self.breathing.append(t + half - start_s, r)
                self._last_breathing_t = t


def empty_sync(engine: Any, note: str = "") -> SyncFigures:
    """Synchrony figures before the first update."""
    from coreg.session.results import SyncFigures

    empty = np.empty(0)
    if isinstance(engine, _NoSync):
        note = note or "synchrony engine not available"
    return SyncFigures(
        t_s=empty, r=empty, mean_t_s=empty, mean_r=empty, chance_lo=empty, chance_hi=empty,
        breathing_t_s=empty, breathing_r=empty, state="not enough data", leader=None,
        lag_s=None, lag_uncertainty_s=None, effect_size=None, p_value=None, current_r=None,
        current_chance_s=None, pct_time_in_sync=None, breathing_state="not enough data",
        available=not isinstance(engine, _NoSync), note=note,
        windows_need=int(getattr(engine, "windows_needed", 0)))


def sync_update(engine: Any, beats: dict[str, BeatSeries | None], now_s: float,
                start_s: float) -> SyncFigures:
    """Update the live synchrony with both people's beats up to ``now_s``."""
    from coreg.session.results import SyncFigures

    if isinstance(engine, _NoSync):
        return empty_sync(engine)
    engine.update(beats, now_s, start_s)
    snap = engine.last
    if snap is None:
        return empty_sync(engine)
    win = engine.windows.array()
    smooth = engine.smoothed.array()
    breath = engine.breathing.array()
    chance_known = bool(np.isfinite(snap.chance_r95))
    if snap.status != "ok" or not np.isfinite(snap.recent_r) or not chance_known:
        state = "not enough data"
    else:
        state = "in sync" if snap.above_chance else "apart"
    base = snap.baseline or {}
    leader = base.get("leader")
    lag = base.get("lag_s")
    if leader in (None, "none") or not chance_known:
        leader = None
        lag = None
    effect = base.get("effect_size") if chance_known else None
    p_value = base.get("p_value") if chance_known else None
    br = engine.breathing_summary or {}
    if br.get("windows"):
        br_state = "in step" if br.get("significant") else "not in step"
        br_r = br.get("mean_peak_r")
        if br_r is not None:
            span_min = engine.breathing_span_s / 60.0
            when = "last 5 min" if span_min >= 4.95 else f"last {span_min:.1f} min"
            br_state += f" (r {br_r:.2f}, {when})"
    else:
        br_state = "not enough data"
    share = (100.0 * engine.updates_above / engine.updates_ok) if engine.updates_ok else None
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
    )
