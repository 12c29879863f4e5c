"""What a window or a terminal view drives: a live :class:`~coreg.session.runner.Session` or a
:class:`~coreg.session.replay.ReplaySession`, and the one way both feed their analysis.

A live session and a replay differ in where messages come from (sources on the background
loop, or a recording's cursor) but hand them to the analysis the same way — advance the
analysis clock to the message's arrival time, then feed it (:func:`consume`) — which is what
makes a replay equal the live session number for number (docs/design.md §3).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from coreg.session.results import SessionFigures
from devices.types import DeviceEvent, Message, RRSample


class Analysis(Protocol):
    """What a playback feeds: :class:`~coreg.session.figures.LiveAnalysis` or
    :class:`~coreg.session.breathe.BreatheAnalysis`.

    ``Session`` and ``ReplaySession`` are generic in it: the dyad's figures
    (:attr:`Playback.view`) exist only for a ``LiveAnalysis``; a breathing session's view reads
    its ``BreatheAnalysis`` itself.
    """

    def start(self, start_s: float) -> None: ...

    def advance(self, now_s: float) -> None: ...

    def feed_sample(self, sample: RRSample) -> None: ...

    def feed_event(self, event: DeviceEvent) -> None: ...

    def add_marker(self, t_s: float, note: str) -> None: ...

    def source_error(self, role: str, error: str) -> None: ...


def consume(analysis: Analysis, message: Message) -> None:
    """Feed one message in arrival order: the analysis clock first moves to its arrival."""
    analysis.advance(message.arrival_s)
    if isinstance(message, RRSample):
        analysis.feed_sample(message)
    elif isinstance(message, DeviceEvent):
        analysis.feed_event(message)


class Driven(Protocol):
    """What :func:`coreg.session.headless.run_headless` drives: start, poll, keep the recording
    synced, stop (any ``Session`` or ``ReplaySession``, whatever its analysis)."""

    def start(self) -> None: ...

    def poll(self, *, max_messages: int | None = None, final: bool = False) -> int: ...

    def sync_recording(self) -> None: ...

    def stop(self, reason: str = "stopped") -> None: ...


class Playback(Driven, Protocol):
    """A session a view can drive: start, poll on the view's timer, stop; its clock and figures.

    ``Session`` (live, recording) and ``ReplaySession`` (a recording played back; it can also
    seek) of a dyad's :class:`~coreg.session.figures.LiveAnalysis` implement it.
    """

    roles: tuple[str, ...]
    error: str

    def now_s(self) -> float: ...

    def elapsed_s(self) -> float: ...

    def begin_recording(self) -> Path | None: ...

    def mark(self, note: str = "", role: str | None = None,
             at_s: float | None = None) -> object: ...

    @property
    def realtime(self) -> bool: ...

    @property
    def finished(self) -> bool: ...

    @property
    def previewing(self) -> bool: ...

    @property
    def reached_duration(self) -> bool: ...

    @property
    def view(self) -> SessionFigures: ...

    @property
    def recording_path(self) -> Path | None: ...
