"""The live figures of a session: per-person engines, the synchrony engine, and the histories
the live view draws (HR curve, RMSSD/coherence trends, synchrony timeline).

:class:`LiveAnalysis` is fed in arrival order by the session's consumer and advanced by time
passed in (never the wall clock), so a fast (virtual-clock) session and a replay produce the
same figures. Its cadence: a person snapshot every second (HR and RMSSD change every beat, the
engine recomputes spectra and coherence on its own 5 s cadence), synchrony every 5 s.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from coreg.engine.artifacts import Corrected
from coreg.engine.person import PersonEngine, PersonSnapshot
from coreg.engine.timeline import BeatTimeline
from coreg.session import engines
from coreg.session.results import Metric, PersonFigures, SessionFigures, SyncFigures
from devices.types import DeviceEvent, EventKind, RRSample

log = logging.getLogger(__name__)

__all__ = [
    "LiveAnalysis", "Metric", "PersonFigures", "SessionFigures", "SyncFigures",
]

#: Person snapshot cadence in seconds.
TICK_S = 1.0
#: Synchrony update cadence in seconds (docs/science.md §5: 5 s step).
SYNC_STEP_S = 5.0
#: Seconds of corrected beats in the HR curve (the panel shows 60 s, the client view less).
HR_CURVE_SPAN_S = 90.0
#: The HR number is blanked when no beat arrived for this long, in seconds.
HR_STALE_S = 6.0


class _Growable:
    """An append-only float array with amortised O(1) appends and zero-copy views."""

    __slots__ = ("_data", "_n")

    def __init__(self, columns: int, capacity: int = 1024) -> None:
        self._data = np.full((capacity, columns), np.nan)
        self._n = 0

    def append(self, *values: float) -> None:
        if self._n == len(self._data):
            grown = np.full((2 * len(self._data), self._data.shape[1]), np.nan)
            grown[: self._n] = self._data
            self._data = grown
        self._data[self._n] = values
        self._n += 1

    def column(self, i: int) -> NDArray[np.float64]:
        return self._data[: self._n, i]

    def __len__(self) -> int:
        return self._n


@dataclass(slots=True)
class _PersonTrack:
    role: str
    engine: PersonEngine
    timeline: BeatTimeline  # the engine's own: the HR curve follows its beat times
    name: str = ""
    simulated: bool = False
    connection: str = "waiting"
    reconnect_at_s: float | None = None
    battery_pct: float | None = None
    contact: bool | None = None
    last_beat_s: float = -math.inf
    beats: int = 0
    error: str = ""
    snapshot: PersonSnapshot | None = None
    curve: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]] = field(
        default_factory=lambda: (np.empty(0), np.empty(0), np.zeros(0, dtype=bool)))
    curve_dirty: bool = False
    trend: _Growable = field(default_factory=lambda: _Growable(3))


class LiveAnalysis:
    """Per-person engines, synchrony and histories, advanced by time passed in.

    Parameters
    ----------
    roles
        The roles of the session, in display order.
    names
        Role → device/person label shown in the panel.
    simulated
        Role → True when the strap is simulated.
    """

    def __init__(
        self,
        roles: Sequence[str],
        *,
        names: dict[str, str] | None = None,
        simulated: dict[str, bool] | None = None,
    ) -> None:
        self.roles = tuple(roles)
        self._tracks: dict[str, _PersonTrack] = {}
        for role in self.roles:
            engine = engines.person_engine(role)
            self._tracks[role] = _PersonTrack(
                role=role, engine=engine, name=(names or {}).get(role, ""),
                simulated=bool((simulated or {}).get(role, False)),
                timeline=engines.timeline(engine))
        self._sync = engines.synchrony_engine(self.roles) if len(self.roles) == 2 else None
        self._start_s = 0.0
        self._next_tick_s = math.inf
        self._next_sync_s = math.inf
        self._now_s = 0.0
        self._markers: list[tuple[float, str]] = []
        self._version = 0
        self._cached: SessionFigures | None = None
        self._sync_figures: SyncFigures | None = None
        self._sync_failed = False

    # -- input ------------------------------------------------------------------------------
    def start(self, start_s: float) -> None:
        """Set the session start (host/virtual clock) and the first ticks."""
        self._start_s = start_s
        self._now_s = start_s
        self._next_tick_s = start_s + TICK_S
        self._next_sync_s = start_s + SYNC_STEP_S

    def feed_sample(self, sample: RRSample) -> None:
        """One RR notification, in arrival order."""
        track = self._tracks.get(sample.source_id)
        if track is None:
            return
        if track.connection in ("waiting", "connecting", "reconnecting", "disconnected"):
            track.connection = "connected"
            track.reconnect_at_s = None
        if sample.contact is not None:
            track.contact = sample.contact
        engines.feed(track.engine, sample)
        self._append_beats(track, sample)
        self._version += 1

    def _append_beats(self, track: _PersonTrack, sample: RRSample) -> None:
        # The HR curve is drawn from the engine's beat timeline (RR sums anchored to arrivals,
        # re-anchored after gaps), which the engine has just fed.
        added = len(track.timeline) - track.beats
        if added:
            track.beats += added
            last = track.timeline.last_beat_s()
            if last is not None:
                track.last_beat_s = last - self._start_s
            track.curve_dirty = True

    def _hr_curve(self, track: _PersonTrack
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
        """The HR curve: corrected NN beats of the last :data:`HR_CURVE_SPAN_S` (artifact
        spikes replaced as the engine corrects them), with the corrected beats flagged."""
        if track.curve_dirty:
            track.curve = self._corrected_curve(
                track, engines.corrected_window(track.engine, HR_CURVE_SPAN_S))
            track.curve_dirty = False
        return track.curve

    def _corrected_curve(self, track: _PersonTrack, corrected: Corrected
                         ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
        t = np.asarray(corrected.t_s, dtype=np.float64)
        rr = np.asarray(corrected.rr_ms, dtype=np.float64)
        if not len(t):
            return np.empty(0), np.empty(0), np.zeros(0, dtype=bool)
        src = np.asarray(corrected.source_index, dtype=np.int64)
        timeline = track.timeline
        first = int(max(0, src.min()))
        raw = timeline.series(first).rr_ms if len(timeline) > first else np.empty(0)
        idx = src - first
        inside = (idx >= 0) & (idx < len(raw))
        fixed: NDArray[np.bool_] = np.ones(len(t), dtype=bool)
        fixed[inside] = np.abs(raw[idx[inside]] - rr[inside]) > 0.5
        # A split missed beat gives two outputs of one source: both are corrections.
        dup = np.zeros(len(t), dtype=bool)
        dup[1:] = src[1:] == src[:-1]
        dup[:-1] |= src[:-1] == src[1:]
        fixed |= dup
        x = np.asarray(t - rr / 2000.0 - self._start_s, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            bpm = np.asarray(60000.0 / rr, dtype=np.float64)
        breaks = np.flatnonzero(np.asarray(corrected.break_before, dtype=bool)[1:]) + 1
        if breaks.size:
            x = np.insert(x, breaks, x[breaks] - 1e-3)
            bpm = np.insert(bpm, breaks, np.nan)
            fixed = np.insert(fixed, breaks, False)
        return x, bpm, fixed

    def feed_event(self, event: DeviceEvent) -> None:
        """One device event."""
        track = self._tracks.get(event.source_id)
        if track is None:
            return
        engines.feed_event(track.engine, event)
        rel_s = event.arrival_s - self._start_s
        kind = event.kind
        if kind == EventKind.BATTERY and event.value is not None:
            track.battery_pct = float(event.value)
        elif kind == EventKind.CONTACT_LOST:
            track.contact = False
        elif kind == EventKind.CONTACT_REGAINED:
            track.contact = True
        elif kind == EventKind.RECONNECTING:
            track.connection = "reconnecting"
            track.reconnect_at_s = rel_s + float(event.value or 0.0)
        elif kind == EventKind.CONNECTING and track.connection in ("reconnecting",
                                                                   "disconnected"):
            # a strap looked for again after a lost link, scan after scan: still reconnecting
            track.connection = "reconnecting"
        elif kind in (EventKind.CONNECTING, EventKind.CONNECTED, EventKind.DISCONNECTED,
                      EventKind.STOPPED):
            track.connection = str(kind)
            if kind != EventKind.CONNECTING:
                track.reconnect_at_s = None
        if event.detail and kind == EventKind.CONNECTED and not track.name:
            track.name = event.detail
        self._version += 1

    def source_error(self, role: str, error: str) -> None:
        """A source ended with an error."""
        track = self._tracks.get(role)
        if track is not None:
            track.error = error
            track.connection = "failed"
            self._version += 1

    def add_marker(self, t_s: float, note: str) -> None:
        """A marker at ``t_s`` seconds since the start."""
        self._markers.append((t_s, note))
        self._version += 1

    def advance(self, now_s: float) -> None:
        """Run every tick due up to ``now_s`` (host/virtual clock)."""
        if not math.isfinite(now_s) or now_s <= self._now_s:
            return
        self._now_s = now_s
        while self._next_tick_s <= now_s:
            t_s = self._next_tick_s
            for track in self._tracks.values():
                track.snapshot = engines.snapshot(track.engine, t_s)
                fig = engines.person_values(track.snapshot)
                track.trend.append(t_s - self._start_s, _nan(fig.rmssd.value),
                                   _nan(fig.coherence.value))
            if t_s >= self._next_sync_s:
                self._update_sync(t_s)
                self._next_sync_s += SYNC_STEP_S
            self._next_tick_s += TICK_S
            self._version += 1

    def _update_sync(self, t_s: float) -> None:
        if self._sync is None:
            return
        beats = {role: engines.beats(track.engine, engines.SYNC_SPAN_S)
                 for role, track in self._tracks.items()}
        try:
            self._sync_figures = engines.sync_update(self._sync, beats, t_s, self._start_s)
        except Exception:  # a bug there must not take the live view down
            if not self._sync_failed:
                log.exception("live synchrony update failed")
            self._sync_failed = True

    # -- output -----------------------------------------------------------------------------
    def figures(self, now_s: float) -> SessionFigures:
        """The figures for one frame (cached until something changes)."""
        cached = self._cached
        elapsed_s = max(0.0, (now_s if math.isfinite(now_s) else self._now_s) - self._start_s)
        if cached is not None and cached.version == self._version:
            if cached.elapsed_s != elapsed_s:
                cached = SessionFigures(elapsed_s, cached.persons, cached.sync, cached.markers,
                                        cached.version)
                self._cached = cached
            return cached
        persons = {role: self._person_figures(track, now_s) for role, track in
                   self._tracks.items()}
        sync = self._sync_figures
        if sync is None and self._sync is not None:
            sync = engines.empty_sync(self._sync)
        out = SessionFigures(elapsed_s, persons, sync, tuple(self._markers), self._version)
        self._cached = out
        return out

    def _person_figures(self, track: _PersonTrack, now_s: float) -> PersonFigures:
        values = engines.person_values(track.snapshot)
        curve_t, curve_bpm, curve_fixed = self._hr_curve(track)
        finite = curve_bpm[np.isfinite(curve_bpm)]
        last_hr = float(finite[-1]) if finite.size else math.nan
        fresh = (self._now_s - self._start_s) - track.last_beat_s <= HR_STALE_S
        hr_metric: Metric = values.hr
        hr_now = hr_metric.value if hr_metric.value is not None else (
            last_hr if math.isfinite(last_hr) else None)
        return PersonFigures(
            role=track.role,
            name=track.name,
            simulated=track.simulated,
            connection=track.connection,
            reconnect_at_s=track.reconnect_at_s,
            battery_pct=track.battery_pct,
            contact=track.contact,
            hr_bpm=hr_now if fresh else None,
            hr=hr_metric,
            rmssd=values.rmssd,
            coherence=values.coherence,
            lf_hf=values.lf_hf,
            pct_corrected=values.pct_corrected,
            provisional_beats=values.provisional,
            gaps=values.gaps,
            beats=track.beats,
            hr_curve_t_s=curve_t,
            hr_curve_bpm=curve_bpm,
            hr_curve_corrected=curve_fixed,
            trend_t_s=track.trend.column(0),
            rmssd_trend_ms=track.trend.column(1),
            coherence_trend=track.trend.column(2),
            error=track.error,
        )


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
