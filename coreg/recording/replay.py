"""Replaying a recording: its messages in the order the live session consumed them.

A live session's consumer feeds the engines every RR notification and device event strictly in
arrival order (docs/design.md §3). :func:`replay_messages` rebuilds that order from a recording, so
any consumer (the replay window, a report, a test) can feed the same engines and get the same
figures as the live session did. :class:`ReplayCursor` walks those messages on a replay clock
(seconds since the session start) for play, pause and seek.

Times in a recording are relative to the session start and rounded to microseconds
(:mod:`coreg.recording.format`); replayed arrival times are those relative times.

Nothing here imports Qt, the engines or asyncio.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass

from coreg.engine.pacer import PacerStep
from coreg.recording.reader import Marker, Recording
from devices.types import Message

log = logging.getLogger(__name__)


def pacer_schedule(recording: Recording) -> tuple[PacerStep, ...]:
    """The pacer schedule a breathing recording ran, rebuilt from its ``pacer`` lines.

    The one conversion from recorded :class:`~coreg.recording.reader.PacerChange` lines to the
    engine's :class:`~coreg.engine.pacer.PacerStep` (a rate of None or 0: pacer off), used by
    the breathing replay and by the report's replayed assessment.
    """
    return tuple(PacerStep(start_s=p.t_s, rate_bpm=p.rate_bpm if p.rate_bpm else None,
                           inhale_ratio=p.inhale_ratio, pause_in_s=p.pause_in_s,
                           pause_out_s=p.pause_out_s, label=p.label)
                 for p in recording.pacer)


def replay_messages(recording: Recording) -> list[Message]:
    """Every RR notification and device event of ``recording`` in consumption order.

    Sorted by arrival time; ties keep the file order (the order the recorder wrote them,
    which is the order the live consumer received them).

    Parameters
    ----------
    recording
        A recording from :func:`coreg.recording.read_recording`.

    Returns
    -------
    list[Message]
        :class:`RRSample` and :class:`DeviceEvent` with ``arrival_s`` in seconds since the
        session start.
    """
    tagged: list[tuple[float, int, Message]] = []
    # File order is not kept across the two lists, so samples and events are merged by time;
    # within each list the stable sort keeps the file order.
    for i, sample in enumerate(recording.samples):
        tagged.append((sample.arrival_s, 2 * i, sample))
    for i, event in enumerate(recording.events):
        tagged.append((event.arrival_s, 2 * i + 1, event))
    tagged.sort(key=lambda item: item[0])
    return [m for _, _, m in tagged]


@dataclass(frozen=True, slots=True)
class ReplayStep:
    """Messages and markers due between two replay positions."""

    messages: tuple[Message, ...]
    markers: tuple[Marker, ...]


class ReplayCursor:
    """A read position in a recording's messages (seconds since the session start).

    Parameters
    ----------
    recording
        The recording to walk.

    Examples
    --------
    ``cursor.advance_to(30.0)`` returns the messages with ``arrival_s <= 30`` not yet returned;
    ``cursor.rewind()`` starts again from the beginning.
    """

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.messages = replay_messages(recording)
        self._times = [m.arrival_s for m in self.messages]
        self.markers: list[Marker] = sorted(recording.markers, key=lambda m: m.t_s)
        self._marker_times = [m.t_s for m in self.markers]
        self._index = 0
        self._marker_index = 0
        self.position_s = 0.0
        end = self._times[-1] if self._times else 0.0
        self.duration_s = max(end, recording.duration_s if recording.samples else end)

    @property
    def done(self) -> bool:
        """True once every message has been returned."""
        return self._index >= len(self.messages)

    def rewind(self) -> None:
        """Back to the start."""
        self._index = 0
        self._marker_index = 0
        self.position_s = 0.0

    def advance_to(self, t_s: float, max_messages: int | None = None) -> ReplayStep:
        """Return what is due up to ``t_s`` (at most ``max_messages`` messages).

        With a limit the position stops at the last message returned, so the caller can
        spread a long catch-up over several frames.
        """
        stop = bisect.bisect_right(self._times, t_s, lo=self._index)
        limited = max_messages is not None and stop - self._index > max_messages
        if limited:
            assert max_messages is not None
            stop = self._index + max_messages
        out = tuple(self.messages[self._index:stop])
        self._index = stop
        reached = self._times[stop - 1] if limited and stop > 0 else t_s
        self.position_s = max(self.position_s, min(reached, max(t_s, self.position_s)))
        m_stop = bisect.bisect_right(self._marker_times, self.position_s,
                                     lo=self._marker_index)
        markers = tuple(self.markers[self._marker_index:m_stop])
        self._marker_index = m_stop
        return ReplayStep(out, markers)

    def next_marker_s(self, after_s: float) -> float | None:
        """Time of the first marker later than ``after_s`` (+ 0.5 s), or None."""
        i = bisect.bisect_right(self._marker_times, after_s + 0.5)
        return self._marker_times[i] if i < len(self._marker_times) else None

    def previous_marker_s(self, before_s: float) -> float | None:
        """Time of the last marker earlier than ``before_s`` (− 2 s), or None."""
        i = bisect.bisect_left(self._marker_times, before_s - 2.0)
        return self._marker_times[i - 1] if i > 0 else None

