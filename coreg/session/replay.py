"""Replaying a recording through the live figures: play, pause, speed, seek, jump to marker.

:class:`ReplaySession` offers the consumer side of :class:`coreg.session.Session` (``poll``,
``view``, ``now_s``, ``mark`` …) so the live window and the headless loop can show a recording
exactly as they show a live session. It feeds a fresh :class:`LiveAnalysis` the recording's
messages in the order the live consumer fed them (:func:`coreg.recording.replay.replay_messages`),
advancing the analysis clock to each arrival before feeding it, as the live session does, so
every figure of a replay equals the live session's (up to the microsecond rounding of the
stored times).

No threads, no asyncio: the replay clock runs on the consumer thread. Seeking backwards
rebuilds the analysis from the start; a long catch-up is spread over frames (``budget_s``).
Nothing here imports Qt.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypedDict, TypeVar, cast, overload

from coreg.recording import Recording
from coreg.recording.replay import ReplayCursor
from coreg.session.figures import LiveAnalysis, SessionFigures
from coreg.session.playback import Analysis, consume
from devices.types import DeviceEvent, RRSample

log = logging.getLogger(__name__)

#: Speeds offered by ``coreg replay --speed`` and the transport bar (inf = as fast as possible).
SPEEDS: tuple[float, ...] = (1.0, 2.0, 4.0, 10.0, math.inf)
#: Messages fed per batch while catching up (seek, max speed); the time budget is checked
#: between batches.
BATCH_MESSAGES = 200

#: The replay's analysis: the dyad's :class:`LiveAnalysis` (the default) or a breathing
#: recording's :class:`~coreg.session.breathe.BreatheAnalysis`.
A = TypeVar("A", bound=Analysis)


def speed_text(speed: float) -> str:
    """``"4×"`` or ``"max"``."""
    return "max" if math.isinf(speed) else f"{speed:g}×"


class ReplaySession(Generic[A]):
    """A recording played through the live analysis on a replay clock.

    Parameters
    ----------
    recording
        A recording (:func:`coreg.recording.read_recording`) of a dyad or one person.
    speed
        Multiple of real time (inf: as fast as possible).
    budget_s
        Longest time one :meth:`poll` may spend catching up (keeps a window responsive).
    clock
        Real-time clock (injectable for tests).
    analysis_factory
        Builds a fresh analysis with the ``LiveAnalysis`` interface (default: the dyad's
        :class:`LiveAnalysis`; a breathing recording uses
        :func:`coreg.session.breathe.replay_analysis_factory`). Called again on a backward seek.
    """

    @overload
    def __init__(self: ReplaySession[LiveAnalysis], recording: Recording, *,
                 speed: float = 1.0, budget_s: float = 0.02,
                 clock: Callable[[], float] = time.monotonic,
                 analysis_factory: None = None) -> None: ...

    @overload
    def __init__(self, recording: Recording, *, speed: float = 1.0, budget_s: float = 0.02,
                 clock: Callable[[], float] = time.monotonic,
                 analysis_factory: Callable[[], A]) -> None: ...

    def __init__(self, recording: Recording, *, speed: float = 1.0, budget_s: float = 0.02,
                 clock: Callable[[], float] = time.monotonic,
                 analysis_factory: Callable[[], A] | None = None) -> None:
        self.recording = recording
        roles = tuple(r for r in recording.roles if recording.samples_for(r)
                      or recording.events_for(r)) or tuple(recording.roles)
        if not roles:
            raise ValueError("the recording has no roles")
        self.roles: tuple[str, ...] = roles
        role_info = recording.header.get("roles", {}) or {}
        self._names = {r: str((role_info.get(r) or {}).get("name") or "") for r in roles}
        self._simulated = {r: bool((role_info.get(r) or {}).get("simulated")) for r in roles}
        self.cursor = ReplayCursor(recording)
        self.duration_s = self.cursor.duration_s
        self.speed = speed
        self.budget_s = budget_s
        self._clock = clock
        self.playing = False
        self.target_s = 0.0
        self._last_clock_s = math.nan
        self.messages_seen = 0
        self.error = ""
        self.writer = None
        self.duration_limit_s: float | None = None
        self._analysis_factory = analysis_factory
        self.analysis = self._new_analysis()
        self._started = False
        self._stopped = False

    def _new_analysis(self) -> A:
        # No factory: the first overload made this a ReplaySession[LiveAnalysis].
        analysis = (self._analysis_factory() if self._analysis_factory is not None else
                    cast(A, LiveAnalysis(self.roles, names=self._names,
                                         simulated=self._simulated)))
        analysis.start(0.0)
        return analysis

    # -- Session-like interface (what the window and the headless loop use) -----------------
    @property
    def realtime(self) -> bool:
        """True when played at real time (the window then redraws slow items every second)."""
        return self.speed <= 1.0

    def start(self) -> None:
        """Start playing."""
        self._started = True
        self.play()

    def stop(self, reason: str = "stopped") -> None:
        """Stop playing (nothing to close: a replay never writes)."""
        self.playing = False
        self._stopped = True

    @property
    def at_end(self) -> bool:
        """True once every message has been fed and the clock reached the end."""
        return self.cursor.done and self.cursor.position_s >= self.duration_s

    @property
    def finished(self) -> bool:
        """The window ends a session when this is True: a replay window stays open instead."""
        return self._stopped

    @property
    def reached_duration(self) -> bool:
        """True at the end of the recording."""
        return self.at_end

    def now_s(self) -> float:
        """The replay position (seconds since the session start)."""
        return self.cursor.position_s

    def elapsed_s(self) -> float:
        """Same as :meth:`now_s` (the replay clock starts at 0)."""
        return self.cursor.position_s

    @property
    def view(self: ReplaySession[LiveAnalysis]) -> SessionFigures:
        """The figures at the replay position."""
        return self.analysis.figures(self.cursor.position_s)

    @property
    def previewing(self) -> bool:
        """Never: a replay has no preview before it records (it never records)."""
        return False

    def begin_recording(self) -> Path | None:
        """A replay never records (:attr:`previewing` is always False)."""
        raise RuntimeError("a replay does not record")

    def sync_recording(self) -> None:
        """Nothing to sync: a replay never writes."""

    @property
    def recording_path(self) -> Path:
        """The replayed file."""
        return self.recording.path

    def mark(self, note: str = "", role: str | None = None,
             at_s: float | None = None) -> float:
        """Draw a marker at the replay position (not written: the recording is read-only)."""
        t_s = self.cursor.position_s if at_s is None else at_s
        self.analysis.add_marker(t_s, note.strip()[:200])
        return t_s

    # -- transport ---------------------------------------------------------------------------
    def play(self) -> None:
        """Play from the current position."""
        if self.at_end:
            return
        self.playing = True
        self._last_clock_s = self._clock()

    def pause(self) -> None:
        """Pause (the figures stay)."""
        self.playing = False
        self.target_s = self.cursor.position_s

    def toggle(self) -> None:
        """Play/pause."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, speed: float) -> None:
        """Change the speed (from now on)."""
        self.speed = speed
        self._last_clock_s = self._clock()
        if not math.isinf(speed):
            self.target_s = self.cursor.position_s

    def seek(self, t_s: float) -> None:
        """Go to ``t_s`` seconds since the start (backwards rebuilds the figures from 0)."""
        t_s = min(max(0.0, t_s), self.duration_s)
        if t_s < self.cursor.position_s:
            self.cursor.rewind()
            self.analysis = self._new_analysis()
        self.target_s = t_s
        self._last_clock_s = self._clock()

    @property
    def seeking(self) -> bool:
        """True while the position is catching up with a seek target."""
        return self.cursor.position_s < min(self.target_s, self.duration_s) - 1e-9 and (
            not self.playing or not math.isinf(self.speed))

    def jump_marker(self, forward: bool = True) -> float | None:
        """Seek to the next (or previous) marker; returns its time or None."""
        here = max(self.cursor.position_s, self.target_s if forward else 0.0)
        if not forward:
            here = self.cursor.position_s
        t = (self.cursor.next_marker_s(here) if forward
             else self.cursor.previous_marker_s(here))
        if t is not None:
            self.seek(t)
        return t

    # -- the clock ---------------------------------------------------------------------------
    def poll(self, *, max_messages: int | None = None, final: bool = False) -> int:
        """Advance the replay clock and feed what is due (within the time budget)."""
        now = self._clock()
        if self.playing:
            if math.isinf(self.speed):
                self.target_s = math.inf
            elif math.isfinite(self._last_clock_s):
                self.target_s = max(self.target_s, self.cursor.position_s) + (
                    now - self._last_clock_s) * self.speed
        self._last_clock_s = now
        target = min(self.target_s, self.duration_s)
        count = 0
        deadline = now + self.budget_s
        while True:
            step = self.cursor.advance_to(target, BATCH_MESSAGES)
            for message in step.messages:
                self._consume(message)
            for marker in step.markers:
                self.analysis.add_marker(marker.t_s, marker.note)
            count += len(step.messages)
            if max_messages is not None and count >= max_messages:
                break
            if len(step.messages) < BATCH_MESSAGES or self._clock() >= deadline:
                break
        self.analysis.advance(self.cursor.position_s)
        if self.at_end:
            self.playing = False
        return count

    def run_to_end(self) -> None:
        """Feed the whole recording at once (tests, headless ``--speed max``)."""
        self.target_s = self.duration_s
        while True:
            step = self.cursor.advance_to(self.duration_s)
            for message in step.messages:
                self._consume(message)
            for marker in step.markers:
                self.analysis.add_marker(marker.t_s, marker.note)
            if not step.messages:
                break
        self.analysis.advance(self.cursor.position_s)

    def _consume(self, message: RRSample | DeviceEvent) -> None:
        self.messages_seen += 1
        consume(self.analysis, message)


class LiveSynchronySummary(TypedDict):
    """What :func:`live_synchrony_summary` returns (JSON-shaped: it goes into study tables)."""

    in_sync_pct: float | None
    updates: int
    windows: int


def live_synchrony_summary(recording: Recording) -> LiveSynchronySummary:
    """The recording run through the live synchrony path exactly as ``coreg replay`` runs it.

    Returns
    -------
    dict
        ``{"in_sync_pct", "updates", "windows"}``: the share (%) of 5-s updates in which the
        display said "in sync", counted from the first update that could say anything (None
        when it never could), the number of those updates, and the number of synchrony windows
        the live path computed. Zeros/None for a recording of fewer than two people.
    """
    session = ReplaySession(recording, speed=math.inf)
    session.run_to_end()
    sync = session.view.sync
    verdict = getattr(sync, "verdict", None)
    if verdict is None:
        return {"in_sync_pct": None, "updates": 0, "windows": 0}
    pct = verdict.in_sync_pct
    return {"in_sync_pct": round(float(pct), 2) if math.isfinite(pct) else None,
            "updates": int(verdict.updates), "windows": int(verdict.windows)}
