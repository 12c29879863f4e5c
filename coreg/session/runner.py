"""A live session: strap sources on one asyncio loop in one background thread, a recorder that
stores every message before anything else touches it, and a consumer that feeds the engines.

Threads (docs/design.md §3)::

    background thread ("coreg-sources")          consumer thread (Qt timer ~30 Hz / headless loop)
    ───────────────────────────────────          ──────────────────────────────────────────────────
    asyncio loop owns every source               Session.poll(): drain the queue, feed the
    message → recorder (write + flush) →         per-person engines, advance the analysis clock
              thread-safe queue  ───────────────>  (snapshots every second, synchrony every 5 s),
                                                   expose Session.view
A GUI stall therefore delays data but never drops it, and the redraw rate never depends on the
heart rate. Markers are written from the consumer thread; one lock serialises the writer.

"Fast" mode (``realtime=False``) runs sources on a virtual clock, as fast as possible or at a
chosen multiple of real time (``speed``): the consumer then processes messages strictly in
arrival order up to the slowest running source (a watermark), so a fast session computes the
same figures whatever the thread timing.

Nothing here imports Qt.

Why one module of this size: the session's threads, its clock, the source lifecycle (start,
reconnect, stop) and the recording writer hand data to each other under one lock; splitting them
would spread one state machine over several files.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Generic, Protocol, TypeVar, cast, overload

from coreg.engine.pacer import PacerStep
from coreg.session.figures import LiveAnalysis, SessionFigures
from coreg.session.playback import Analysis, consume
from devices.errors import DeviceError
from devices.types import DeviceEvent, Message, Source

log = logging.getLogger(__name__)

#: How long :meth:`Session.stop` waits for the sources to stop before cancelling them, in s.
STOP_TIMEOUT_S = 5.0

#: The session's analysis: the dyad's :class:`LiveAnalysis` (the default) or a breathing
#: session's :class:`~coreg.session.breathe.BreatheAnalysis`.
A = TypeVar("A", bound=Analysis)


class Recorder(Protocol):
    """What a session writes to: :class:`coreg.recording.RecordingWriter`."""

    @property
    def path(self) -> Path: ...

    @property
    def closed(self) -> bool: ...

    def write(self, message: Message) -> None: ...

    def write_marker(self, t_s: float, note: str = "", role: str | None = None) -> None: ...

    def write_pacer(self, t_s: float, rate_bpm: float | None, *, inhale_ratio: float = 0.5,
                    pause_in_s: float = 0.0, pause_out_s: float = 0.0,
                    label: str = "") -> None: ...

    def sync_if_due(self) -> None: ...

    def close(self, reason: str = "stopped", t_s: float | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class SessionMarker:
    """A marker dropped during the session.

    Parameters
    ----------
    t_s
        Seconds since the session start.
    note
        Optional short note.
    role
        The person it concerns, or None for both.
    """

    t_s: float
    note: str = ""
    role: str | None = None


@dataclass(frozen=True, slots=True)
class _SourceEnded:
    role: str
    error: str = ""


@dataclass(slots=True)
class _Pending:
    """Fast-mode reorder buffer: messages by arrival time, released up to a watermark."""

    heap: list[tuple[float, int, Message | _SourceEnded]] = field(default_factory=list)
    counter: itertools.count = field(default_factory=itertools.count)
    latest_s: dict[str, float] = field(default_factory=dict)


class Session(Generic[A]):
    """Run strap sources, record them, and keep the live figures up to date.

    Parameters
    ----------
    sources
        Role → source (``"client"``, ``"therapist"``). Each is iterated on the background loop.
    writer
        The recorder (:class:`coreg.recording.RecordingWriter`), or None to record nothing.
        Its header's ``start_monotonic_s`` must equal ``start_s`` in fast mode; in real time
        the session sets nothing in the header, so create the writer with
        ``start_monotonic_s=time.monotonic()`` just before :meth:`start`.
    realtime
        Sources stamp arrivals with the host monotonic clock (True), or run on a virtual clock
        (False, fast mode).
    speed
        Fast mode only: multiple of real time at which the virtual clock runs (None: as fast as
        the machine goes).
    start_s
        Session start on the sources' clock. Real time: ``None`` takes ``clock()`` at
        :meth:`start`. Fast mode: the virtual start (default 0.0).
    analysis
        The analysis fed by the consumer (a :class:`~coreg.session.breathe.BreatheAnalysis`
        for a breathing session); a default :class:`LiveAnalysis` otherwise. The session is
        generic in it: :attr:`view` (the dyad's figures) needs a ``LiveAnalysis``.
    clock
        Host monotonic clock (injectable for tests).
    duration_s
        Planned length: messages arriving later than this after the start are neither
        recorded nor shown (a fast session ends exactly there).
    publishers
        Objects (any type) told what the session sees (e.g. the LSL outlets of ``coreg stream`` and
        ``--lsl``), each with any of ``on_message(message)`` (source thread, right after the
        message is recorded), ``on_poll(session)`` (consumer thread, after each
        :meth:`poll`), ``on_marker(marker)`` and ``close()``. A failing publisher is logged
        and dropped; it never stops the session.

    Notes
    -----
    Preview: a real-time session built without a writer but with :meth:`arm_recording` runs
    its straps and live figures while recording nothing (no file exists). :meth:`begin_recording`
    then opens the recording at that instant: the session clock restarts there, a fresh
    analysis takes over, and from then on exactly the messages written to the file feed the
    figures, so a replay of the file still equals the live figures number for number.
    """

    @overload
    def __init__(
        self: Session[LiveAnalysis],
        sources: Mapping[str, Source],
        *,
        writer: Recorder | None = None,
        realtime: bool = True,
        speed: float | None = None,
        start_s: float | None = None,
        analysis: None = None,
        clock: Callable[[], float] = time.monotonic,
        duration_s: float | None = None,
        publishers: tuple[object, ...] = (),
    ) -> None: ...

    @overload
    def __init__(
        self,
        sources: Mapping[str, Source],
        *,
        writer: Recorder | None = None,
        realtime: bool = True,
        speed: float | None = None,
        start_s: float | None = None,
        analysis: A,
        clock: Callable[[], float] = time.monotonic,
        duration_s: float | None = None,
        publishers: tuple[object, ...] = (),
    ) -> None: ...

    def __init__(
        self,
        sources: Mapping[str, Source],
        *,
        writer: Recorder | None = None,
        realtime: bool = True,
        speed: float | None = None,
        start_s: float | None = None,
        analysis: A | None = None,
        clock: Callable[[], float] = time.monotonic,
        duration_s: float | None = None,
        publishers: tuple[object, ...] = (),
    ) -> None:
        if not sources:
            raise ValueError("a session needs at least one source")
        self.sources: dict[str, Source] = dict(sources)
        self.roles: tuple[str, ...] = tuple(self.sources)
        self.writer: Recorder | None = writer
        self.realtime = realtime
        self.speed = speed if (speed is not None and math.isfinite(speed) and speed > 0) else None
        self._clock = clock
        self.duration_s = duration_s
        self.start_s: float = (start_s if start_s is not None else
                               (0.0 if not realtime else math.nan))
        # No analysis given: the first overload made this a Session[LiveAnalysis].
        self.analysis: A = (analysis if analysis is not None
                            else cast(A, LiveAnalysis(self.roles)))
        self.markers: list[SessionMarker] = []
        self.messages_seen = 0
        self.error: str = ""
        #: Role → why its source failed (no adapter, ...), as seen by the consumer.
        self.source_errors: dict[str, str] = {}
        #: Exceptions that reached the sources' asyncio loop unhandled (a bug: should be none).
        self.loop_errors: list[str] = []
        self._queue: queue.SimpleQueue[Message | _SourceEnded] = queue.SimpleQueue()
        self._write_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._running_roles: set[str] = set(self.roles)
        self._pending = _Pending()
        self._real_t0_s = math.nan
        self._virtual_now_s = self.start_s if not realtime else math.nan
        self._started = False
        self._stopped = False
        self._ended_reason = ""
        self._hit_duration = False
        #: Messages stamped before this (sources' clock) are neither recorded nor computed.
        self._record_from_s = -math.inf
        self._make_writer: Callable[[float], Recorder] | None = None
        self._make_analysis: Callable[[], A] | None = None
        self._last_event: dict[str, DeviceEvent] = {}
        self.publishers: list[object] = list(publishers)

    # -- publishers ------------------------------------------------------------------------
    def _publish(self, hook: str, *args: object) -> None:
        for publisher in tuple(self.publishers):
            method = getattr(publisher, hook, None)
            if method is None:
                continue
            try:
                method(*args)
            except Exception as exc:
                log.error("publishing (%s) failed, stopped publishing: %s", hook, exc)
                with contextlib.suppress(ValueError):
                    self.publishers.remove(publisher)

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the background thread and its asyncio loop with every source."""
        if self._started:
            raise RuntimeError("session already started")
        self._started = True
        self._real_t0_s = self._clock()
        if self.realtime and math.isnan(self.start_s):
            self.start_s = self._real_t0_s
        self.analysis.start(self.start_s)
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run_loop, args=(ready,),
                                        name="coreg-sources", daemon=True)
        self._thread.start()
        ready.wait()
        log.info("session started with %s", ", ".join(self.roles))

    # -- preview, then recording ------------------------------------------------------------
    def arm_recording(self, make_writer: Callable[[float], Recorder],
                      make_analysis: Callable[[], A]) -> None:
        """Make this writer-less real-time session a preview that can start recording later.

        Parameters
        ----------
        make_writer
            ``make_writer(start_s)`` creates the recorder whose header starts at ``start_s``
            (host monotonic seconds); called by :meth:`begin_recording`, not before.
        make_analysis
            A fresh analysis for the recorded part (the preview's figures are dropped).
        """
        if not self.realtime:
            raise ValueError("only a real-time session has a preview")
        if self.writer is not None:
            raise ValueError("the session already records")
        self._make_writer = make_writer
        self._make_analysis = make_analysis

    @property
    def previewing(self) -> bool:
        """True while the session runs its straps but records nothing yet."""
        return self._make_writer is not None and self.writer is None and not self._stopped

    @property
    def recording(self) -> bool:
        """True while a recording is open."""
        return self.writer is not None and not self.writer.closed

    def begin_recording(self) -> Path:
        """Start recording now (after a preview); returns the recording's path.

        The session start moves to this instant: elapsed time, markers and every figure
        restart from zero, fed only by what is written to the file from now on. The last
        device event of each strap is restated at the start, so the recording (and its
        replay) knows the straps' state as the live view does.
        """
        if self._make_writer is None or self._make_analysis is None:
            raise RuntimeError("this session was not opened as a preview")
        if self.writer is not None or self._stopped:
            raise RuntimeError("the session already records or has ended")
        analysis = self._make_analysis()
        with self._write_lock:
            now_s = self._clock()
            writer = self._make_writer(now_s)
            self.writer = writer
            self._record_from_s = now_s
        self.start_s = now_s
        self.markers = []
        self.analysis = analysis
        analysis.start(now_s)
        for role in self.roles:
            event = self._last_event.get(role)
            if event is not None:
                restated = replace(event, arrival_s=now_s)
                self._record(restated)
                self._consume(restated)
        log.info("recording started: %s", writer.path)
        return writer.path

    def _run_loop(self, ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.set_exception_handler(self._on_loop_exception)
        try:
            self._loop.run_until_complete(self._main(ready))
        finally:
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def _on_loop_exception(self, loop: asyncio.AbstractEventLoop,
                           context: dict[str, object]) -> None:
        """Record an exception nobody handled on the sources' loop (and log it once)."""
        exc = context.get("exception")
        text = str(context.get("message") or "unhandled exception")
        if exc is not None:
            text += f": {type(exc).__name__}: {exc}"
        self.loop_errors.append(text)
        log.error("asyncio: %s", text)

    async def _main(self, ready: threading.Event) -> None:
        self._tasks = [asyncio.create_task(self._pump(role, src), name=f"source-{role}")
                       for role, src in self.sources.items()]
        ready.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _pump(self, role: str, source: Source) -> None:
        error = ""
        try:
            async for message in source:
                if (self.duration_s is not None
                        and message.arrival_s - self.start_s > self.duration_s):
                    self._hit_duration = True
                    await source.stop()
                    break
                if self.speed is not None:
                    due_s = self._real_t0_s + (message.arrival_s - self.start_s) / self.speed
                    delay_s = due_s - self._clock()
                    if delay_s > 0:
                        await asyncio.sleep(delay_s)
                self._record(message)
                self._queue.put(message)
                if self.publishers:
                    self._publish("on_message", message)
        except asyncio.CancelledError:
            pass
        except DeviceError as exc:  # an expected failure (no adapter, strap gone): the
            # front end says it once (terminal line, window status); here only with -v
            log.info("source %s failed: %s", role, exc)
            error = str(exc)
        except Exception as exc:  # a strap failing must not take the session down
            log.exception("source %s failed", role)
            error = f"{type(exc).__name__}: {exc}"
        finally:
            self._queue.put(_SourceEnded(role, error))

    def _record(self, message: Message) -> None:
        def write(w: Recorder) -> None:
            # Checked under the writer lock that begin_recording holds while it sets both.
            if message.arrival_s >= self._record_from_s:
                w.write(message)

        self._write_guarded("a message", write)

    def _write_guarded(self, what: str, write: Callable[[Recorder], None]) -> None:
        """Write one line to the recording under the lock, unless it is closed.

        Losing the recording is serious but must not stop the live view: a failure is logged
        and shown (``self.error``).
        """
        if self.writer is None and self._make_writer is None:
            return
        with self._write_lock:
            if self.writer is None or self.writer.closed:
                return
            try:
                write(self.writer)
            except Exception as exc:
                log.error("cannot record %s: %s", what, exc)
                self.error = f"recording failed: {exc}"

    def stop(self, reason: str = "stopped") -> None:
        """Stop every source, drain what arrived, and close the recording with an ``end`` line.

        Safe to call more than once and from the consumer thread at any time (for example when
        the window is closed mid-session).
        """
        if self._stopped:
            return
        self._stopped = True
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            done = threading.Event()

            def kick() -> None:
                task = loop.create_task(self._stop_sources())
                task.add_done_callback(lambda _: done.set())

            try:
                loop.call_soon_threadsafe(kick)
            except RuntimeError:  # the loop already finished: every source ended by itself
                pass
            else:
                deadline_s = self._clock() + STOP_TIMEOUT_S + 2.0
                while (not done.wait(0.02) and thread.is_alive()
                       and self._clock() < deadline_s):
                    pass
            thread.join(timeout=STOP_TIMEOUT_S)
            if thread.is_alive():
                log.warning("source thread did not finish")
        self.poll(final=True)
        if not self.realtime and self._hit_duration and self.duration_s is not None:
            self._virtual_now_s = max(self._virtual_now_s, self.start_s + self.duration_s)
            self.analysis.advance(self._virtual_now_s)
        end_s = self.now_s()
        if self.writer is not None:
            with self._write_lock:
                try:
                    self.writer.close(reason, t_s=end_s)
                except Exception as exc:
                    log.error("cannot close the recording: %s", exc)
        self._ended_reason = reason
        self._publish("close")
        log.info("session stopped (%s)", reason)

    async def _stop_sources(self) -> None:
        for role, src in self.sources.items():
            try:
                await asyncio.wait_for(src.stop(), timeout=STOP_TIMEOUT_S)
            except Exception as exc:
                log.warning("stopping %s: %s", role, exc)
        pending = [t for t in self._tasks if not t.done()]
        if pending:
            _, still = await asyncio.wait(pending, timeout=STOP_TIMEOUT_S)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=1.0)

    # -- consumer side --------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while at least one source still runs and :meth:`stop` was not called."""
        return self._started and not self._stopped and bool(self._running_roles)

    @property
    def reached_duration(self) -> bool:
        """True when the sources were ended by the planned duration."""
        return self._hit_duration or (
            self.duration_s is not None and self.elapsed_s() >= self.duration_s)

    @property
    def finished(self) -> bool:
        """True once every source has ended (or the session was stopped)."""
        return self._stopped or (self._started and not self._running_roles)

    def now_s(self) -> float:
        """The session's current time on the sources' clock (virtual in fast mode)."""
        if self.realtime:
            return self._clock()
        return self._virtual_now_s

    def elapsed_s(self) -> float:
        """Seconds since the session start."""
        return max(0.0, self.now_s() - self.start_s)

    def poll(self, *, max_messages: int | None = None, final: bool = False) -> int:
        """Drain the queue, feed the engines and advance the live figures.

        Parameters
        ----------
        max_messages
            Stop after this many messages (keeps one GUI frame short in fast mode).
        final
            Release every buffered message (at the end of the session).

        Returns
        -------
        int
            Messages consumed.
        """
        count = 0
        while max_messages is None or count < max_messages:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _SourceEnded):
                self._running_roles.discard(item.role)
                if self.realtime:
                    self._source_ended(item)
                else:  # after every buffered message of that role
                    last_s = self._pending.latest_s.get(item.role, -math.inf)
                    heapq.heappush(self._pending.heap,
                                   (last_s, next(self._pending.counter), item))
                continue
            count += 1
            if self.realtime:
                self._consume(item)
            else:
                pending = self._pending
                heapq.heappush(pending.heap, (item.arrival_s, next(pending.counter), item))
                prev = pending.latest_s.get(item.source_id, -math.inf)
                pending.latest_s[item.source_id] = max(prev, item.arrival_s)
        if not self.realtime:
            self._release(final or not self._running_roles)
        else:
            self.analysis.advance(self._clock())
        if self.publishers:
            self._publish("on_poll", self)
        return count

    def _release(self, everything: bool) -> None:
        pending = self._pending
        if everything:
            watermark = math.inf
        else:
            running = [pending.latest_s.get(r, -math.inf) for r in self._running_roles]
            watermark = min(running) if running else math.inf
        while pending.heap and pending.heap[0][0] <= watermark:
            _, _, message = heapq.heappop(pending.heap)
            if isinstance(message, _SourceEnded):
                self._source_ended(message)
                continue
            self._virtual_now_s = max(self._virtual_now_s, message.arrival_s)
            self._consume(message)
        if self.speed is not None and self._running_roles and not self._stopped:
            paced_s = self.start_s + (self._clock() - self._real_t0_s) * self.speed
            paced_s = min(paced_s, watermark)
            self._virtual_now_s = max(self._virtual_now_s, paced_s)
        self.analysis.advance(self._virtual_now_s)

    def _source_ended(self, ended: _SourceEnded) -> None:
        if ended.error:
            self.source_errors[ended.role] = ended.error
            self.analysis.source_error(ended.role, ended.error)

    def _consume(self, message: Message) -> None:
        if isinstance(message, DeviceEvent):
            self._last_event[message.source_id] = message
        if message.arrival_s < self._record_from_s:
            return  # a preview message drained after the recording began: not in the file
        self.messages_seen += 1
        consume(self.analysis, message)

    # -- markers and figures --------------------------------------------------------------
    def mark(self, note: str = "", role: str | None = None,
             at_s: float | None = None) -> SessionMarker:
        """Drop a marker, record it, and return it.

        Parameters
        ----------
        note
            Optional short note (trimmed to 200 characters).
        role
            The person it concerns, or None.
        at_s
            When, on the session clock (default now; the window passes the time of the key
            press when the note is typed afterwards).
        """
        now = self.now_s() if at_s is None else at_s
        marker = SessionMarker(t_s=now - self.start_s, note=note.strip()[:200], role=role)
        self.markers.append(marker)
        self.analysis.add_marker(marker.t_s, marker.note)
        self._write_guarded("a marker", lambda w: w.write_marker(now, marker.note, role=role))
        if self.publishers:
            self._publish("on_marker", marker)
        log.info("marker at %.1f s: %s", marker.t_s, marker.note)
        return marker

    def write_pacer(self, t_s: float, step: PacerStep) -> None:
        """Record a pacer change taking effect at ``t_s`` (session clock); ``step``'s rate
        None is the pacer off."""
        self._write_guarded("the pacer", lambda w: w.write_pacer(
            t_s, step.rate_bpm, inhale_ratio=step.inhale_ratio, pause_in_s=step.pause_in_s,
            pause_out_s=step.pause_out_s, label=step.label))

    @property
    def view(self: Session[LiveAnalysis]) -> SessionFigures:
        """The latest live figures (cheap; recomputed only on the analysis cadence)."""
        return self.analysis.figures(self.now_s())

    def sync_recording(self) -> None:
        """fsync the recording if due (call from an idle timer)."""
        if self.writer is not None:
            with self._write_lock:
                if not self.writer.closed:
                    self.writer.sync_if_due()

    @property
    def recording_path(self) -> Path | None:
        """Path of the recording, or None."""
        return None if self.writer is None else self.writer.path

    def __enter__(self) -> Session[A]:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop("error" if exc and exc[0] is not None else "stopped")
