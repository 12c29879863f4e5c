"""Beat timeline: beat times on the host clock rebuilt from RR sums anchored to arrivals.

A strap sends no timestamps. Within an unbroken *run* of notifications the beats are placed by
the running sum of RR, ``t = offset + S`` (S = sum of RR since the run began), and the run's
offset is anchored to the arrivals: every notification arrives after its last beat ended, so
``offset ≤ arrival − S_end`` for each of them, and the tightest of these bounds (the notification
with the least delay) is taken. A new run begins — a gap, never filled with invented beats — when

* a notification arrives more than ``gap_threshold_s`` later than its RR sum explains (lost
  notifications, a disconnect the source did not report), or
* the unexplained delay stays above ``step_threshold_s`` for ``step_notifications`` notifications
  in a row (a small loss of one or two beats, which a single late notification cannot mimic for
  that long); the run is then split at the first notification from which on every delay exceeds
  the threshold, revising those beats' times (the live view shows this as a timing revision), or
* :meth:`BeatTimeline.mark_break` was called (disconnect, reconnect).

Runs never overlap: when a run's arrivals prove it began before the previous run's estimated
end, the previous run (whose notifications were all late) is moved back.

A late notification that merely looks like a gap heals: the new run's offset drops to the true
value with its next prompt notification, and the apparent gap shrinks below the tolerance of
:meth:`BeatSeries.gap_before`. Beats whose notification reported no skin contact are kept in the
timeline with ``valid=False``. Every recorded RR value becomes exactly one beat, in order, so beat
``k`` is the ``k``-th RR of that person's recording.

The timeline is a deterministic function of the samples fed to it: replay equals live.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

import numpy as np
from numpy.typing import NDArray

from coreg.engine.beats import BeatSeries
from devices.types import RRSample

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Notification:
    first_beat: int  # index of its first beat (== next run beat for an empty notification)
    n_beats: int
    s_end_ms: float  # RR sum of the run up to and including this notification
    arrival_s: float


@dataclass(slots=True)
class _Run:
    first_beat: int
    offset_s: float = float("inf")
    bound_s: float = float("inf")  # min over notifications of arrival − RR sum
    notifications: list[_Notification] = field(default_factory=list)
    with_beats: list[_Notification] = field(default_factory=list)
    s_end_ms: float = 0.0


class BeatTimeline:
    """Incremental beat timeline of one person (see the module docstring).

    Parameters
    ----------
    gap_threshold_s
        Unexplained delay of one notification, in s, that starts a new run at once.
    step_threshold_s
        Unexplained delay, in s, that starts a new run when it persists.
    step_notifications
        How many consecutive notifications with beats the delay must persist.
    """

    def __init__(
        self,
        *,
        gap_threshold_s: float = 2.5,
        step_threshold_s: float = 0.4,
        step_notifications: int = 8,
    ) -> None:
        self.gap_threshold_s = gap_threshold_s
        self.step_threshold_s = step_threshold_s
        self.step_notifications = step_notifications
        self._rr: list[float] = []
        self._s: list[float] = []  # RR sum of the run at the end of each beat, ms
        self._run_of: list[int] = []
        self._valid: list[bool] = []
        self._runs: list[_Run] = []
        self._break_pending = True
        #: Number of times an earlier run was split after the fact.
        self.revisions = 0

    # --- feeding --------------------------------------------------------------------------
    def mark_break(self) -> None:
        """The next sample starts a new run (call on disconnect or reconnect)."""
        self._break_pending = True

    def add(self, sample: RRSample) -> int:
        """Add one notification; return the number of new beats (may be 0)."""
        rr = [float(x) for x in sample.rr_ms]
        valid = sample.contact is not False
        if not self._runs or self._break_pending:
            if not rr:
                return 0
            self._new_run()
            self._break_pending = False
        run = self._runs[-1]
        if rr:
            excess = sample.arrival_s - (run.s_end_ms + sum(rr)) / 1000.0 - run.offset_s
            if run.notifications and excess > self.gap_threshold_s:
                # The gap may have begun a notification or two earlier, with a smaller part
                # of the loss: those delays stand out against half of this one.
                threshold = max(self.step_threshold_s, 0.5 * excess)
                if not self._split_tail(len(self._runs) - 1, threshold):
                    self._new_run()
                run = self._runs[-1]
        first = len(self._rr)
        run_idx = len(self._runs) - 1
        s = run.s_end_ms
        for value in rr:
            s += value
            self._rr.append(value)
            self._s.append(s)
            self._run_of.append(run_idx)
            self._valid.append(valid)
        run.s_end_ms = s
        note = _Notification(first, len(rr), s, sample.arrival_s)
        run.notifications.append(note)
        if rr:
            run.with_beats.append(note)
        run.bound_s = min(run.bound_s, sample.arrival_s - s / 1000.0)
        self._anchor(run_idx)
        if rr:
            self._check_step(run_idx)
        return len(rr)

    def extend(self, samples: Iterable[RRSample]) -> None:
        """Add many notifications in order."""
        for sample in samples:
            self.add(sample)

    # --- reading --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._rr)

    def series(self, start: int = 0) -> BeatSeries:
        """Beats from index ``start`` to the newest as a :class:`BeatSeries`."""
        offsets = np.asarray([r.offset_s for r in self._runs], dtype=np.float64)
        run_of = np.asarray(self._run_of[start:], dtype=np.int64)
        s = np.asarray(self._s[start:], dtype=np.float64)
        t = offsets[run_of] + s / 1000.0 if len(s) else np.zeros(0)
        return BeatSeries(
            t_s=t,
            rr_ms=np.asarray(self._rr[start:], dtype=np.float64),
            valid=np.asarray(self._valid[start:], dtype=bool),
        )

    def beat(self, k: int) -> tuple[float, float]:
        """(time in s, RR in ms) of beat ``k``, in pure Python (the per-beat path)."""
        return self._runs[self._run_of[k]].offset_s + self._s[k] / 1000.0, self._rr[k]

    def tail(self, start: int) -> tuple[list[float], list[float]]:
        """Times (s) and RR (ms) of the beats from ``start`` on, as lists (a few beats)."""
        runs = self._runs
        s = self._s
        run_of = self._run_of
        ts = [runs[run_of[k]].offset_s + s[k] / 1000.0 for k in range(start, len(s))]
        return ts, self._rr[start:]

    def run_starts(self, start: int = 0) -> NDArray[np.int64]:
        """True at each beat (from ``start``) that begins a run, i.e. follows a gap."""
        out = np.zeros(len(self._rr) - start, dtype=bool)
        for r in self._runs:
            if r.first_beat >= start and r.first_beat < len(self._rr):
                out[r.first_beat - start] = True
        return out

    def run_first_beat(self) -> int:
        """Index of the first beat of the current run (0 before any beat)."""
        return self._runs[-1].first_beat if self._runs else 0

    @property
    def n_runs(self) -> int:
        """Number of runs so far (1 + the number of gaps)."""
        return len(self._runs)

    def last_beat_s(self) -> float | None:
        """Time of the newest beat on the host clock, or None before any beat."""
        if not self._rr:
            return None
        return self._runs[self._run_of[-1]].offset_s + self._s[-1] / 1000.0

    # --- internals ------------------------------------------------------------------------
    def _new_run(self) -> _Run:
        run = _Run(first_beat=len(self._rr))
        self._runs.append(run)
        return run

    def _run_end_s(self, run_idx: int) -> float:
        run = self._runs[run_idx]
        return run.offset_s + run.s_end_ms / 1000.0

    def _anchor(self, run_idx: int) -> None:
        run = self._runs[run_idx]
        run.offset_s = run.bound_s
        # Each bound is a hard causal limit (a beat ends before it is reported). When a run
        # must start before its predecessor ended, the predecessor was the one placed too late
        # (all its notifications were delayed, e.g. a burst after a radio stall): move it back.
        j = run_idx
        while j > 0:
            prev = self._runs[j - 1]
            latest = self._runs[j].offset_s - prev.s_end_ms / 1000.0
            if prev.offset_s <= latest:
                break
            prev.offset_s = latest
            j -= 1

    def _excess(self, run: _Run, n: _Notification) -> float:
        return n.arrival_s - n.s_end_ms / 1000.0 - run.offset_s

    def _step_start(self, run: _Run, first_candidate: int, threshold: float) -> int:
        """Index in ``run.with_beats`` from which on every delay exceeds ``threshold``."""
        with_beats = run.with_beats
        k = first_candidate
        later_min = min(
            (self._excess(run, n) for n in with_beats[k:]), default=float("inf")
        )
        while k > 1:
            later_min = min(later_min, self._excess(run, with_beats[k - 1]))
            if later_min <= threshold:
                break
            k -= 1
        return k

    def _check_step(self, run_idx: int) -> None:
        run = self._runs[run_idx]
        needed = self.step_notifications
        with_beats = run.with_beats
        if len(with_beats) <= needed:
            return
        # A step needs every one of the last ``needed`` delays above the threshold; the newest
        # is checked first, which settles the common case (no step) at once.
        threshold = self.step_threshold_s
        offset = run.offset_s
        if any(n.arrival_s - n.s_end_ms / 1000.0 - offset <= threshold
               for n in reversed(with_beats[-needed:])):
            return
        k = self._step_start(run, len(with_beats) - needed, self.step_threshold_s)
        self._split(run_idx, with_beats[k])

    def _split_tail(self, run_idx: int, threshold: float) -> bool:
        """Split off the run's trailing notifications delayed beyond ``threshold``, if any."""
        run = self._runs[run_idx]
        with_beats = run.with_beats
        if len(with_beats) < 2 or self._excess(run, with_beats[-1]) <= threshold:
            return False
        k = self._step_start(run, len(with_beats) - 1, threshold)
        self._split(run_idx, with_beats[k])
        return True

    def _split(self, run_idx: int, at: _Notification) -> None:
        old = self._runs[run_idx]
        cut = old.notifications.index(at)
        moved = old.notifications[cut:]
        old.notifications = old.notifications[:cut]
        base_ms = self._s[at.first_beat - 1] if at.first_beat > old.first_beat else 0.0
        old.s_end_ms = base_ms
        new = _Run(first_beat=at.first_beat)
        self._runs.append(new)
        new_idx = len(self._runs) - 1
        for k in range(at.first_beat, len(self._rr)):
            self._s[k] -= base_ms
            self._run_of[k] = new_idx
        for n in moved:
            n.s_end_ms -= base_ms
        new.notifications = moved
        new.with_beats = [n for n in moved if n.n_beats]
        old.with_beats = [n for n in old.notifications if n.n_beats]
        old.bound_s = min(n.arrival_s - n.s_end_ms / 1000.0 for n in old.notifications)
        new.bound_s = min(n.arrival_s - n.s_end_ms / 1000.0 for n in moved)
        new.s_end_ms = self._s[-1]
        self._anchor(run_idx)
        self._anchor(new_idx)
        self.revisions += 1
        logger.debug("timeline: gap found after the fact before beat %d", at.first_beat)


class TimelineSettings(TypedDict, total=False):
    """The keyword arguments of :class:`BeatTimeline` (each has its default there)."""

    gap_threshold_s: float
    step_threshold_s: float
    step_notifications: int


def timeline_from_samples(samples: Iterable[RRSample],
                          **settings: Unpack[TimelineSettings]) -> BeatSeries:
    """Beat series of a whole recording's samples of one person (the live code path)."""
    timeline = BeatTimeline(**settings)
    timeline.extend(samples)
    return timeline.series()
