"""Lab Streaming Layer (LSL) in and out for strap data: RR outlets and the ``lsl:NAME`` source.

Stream formats (see ``docs/lsl.md``)
------------------------------------
RR stream
    type ``"RR"``, one channel labelled ``"RR"`` with unit ``"ms"`` and channel type ``"RR"``,
    irregular rate, ``double64``. One sample per beat, stamped with the beat's time on the LSL
    clock (the end of its interval: for a notification carrying several intervals, the last is
    stamped at the arrival and each earlier one at the arrival minus the intervals after it).
    ``double64`` keeps any RR value bit for bit (a strap's 1/1024-s values, or an ECG-derived
    interval at 1/fs); at about one sample per second the size is irrelevant. LSL and the XDF
    meta-data conventions name no type for inter-beat intervals; ``"RR"`` says what the
    channel is, and the ``lsl:`` source also accepts the ``"IBI"`` type other tools use.
Events stream
    type ``"Markers"``, one ``string`` channel, irregular rate: one JSON object per device
    event, ``{"event": KIND, "value": ..., "detail": ...}`` (connection, contact, battery).

Both carry ``desc/acquisition`` (manufacturer, model of the strap) and ``desc/coreg`` (role,
app version, the strap name) and a ``source_id`` that stays the same for the same strap and
role, so an inlet finds the stream again after the sender restarts.

Clock: liblsl's clock (``local_clock``) is the host's steady clock; on Linux it is the very
clock of :func:`time.monotonic`, elsewhere the offset between the two is measured once
(:func:`host_minus_lsl_s`). A consumer maps a remote stamp to its own clock with the inlet's
``time_correction`` (Kothe et al., the LSL clock synchronisation: an NTP-like estimate from
round-trip probes; https://labstreaminglayer.readthedocs.io/info/time_synchronization.html).

pylsl is optional (``pip install 'coreg[lsl]'``): it is imported only when LSL is used.

Why one module of this size: the outlets and the ``lsl:`` source are the two ends of one stream
format (channel, units, metadata, stamps); keeping them together keeps writer and reader in
step.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol, TypedDict

from devices.errors import DeviceError
from devices.types import DeviceEvent, DeviceInfo, EventKind, Message, RRSample

log = logging.getLogger(__name__)

RR_TYPE = "RR"
#: Stream types the ``lsl:`` source accepts as inter-beat intervals (compared case-blind).
RR_TYPES = ("rr", "ibi", "nn")
EVENTS_TYPE = "Markers"
EVENTS_SUFFIX = "-events"
INSTALL_HINT = "LSL support needs pylsl and pyxdf: pip install 'coreg[lsl]'"
#: How long the ``lsl:`` source waits for its stream in one resolve attempt, in s.
RESOLVE_WAIT_S = 2.0
#: RR values outside this range (ms) are counted as bad and dropped: below 1 ms is no heart
#: beat, above 64 s is beyond what a strap's 16-bit 1/1024-s field can carry.
MIN_RR_MS = 1.0
MAX_RR_MS = 65535 * 1000.0 / 1024.0
#: The clock offset used is the median of this many estimates (one every 5 s).
CORRECTION_MEDIAN_OF = 5
#: A stream that sent nothing for this long and can no longer be resolved is lost, in s.
SILENCE_S = 6.0


# pylsl ships no type information: the module is Any. The protocols below say what coreg uses
# of its objects (pylsl 1.16/1.17), so the code that handles them is checked.
class _XmlElement(Protocol):
    """A ``pylsl.XMLElement`` (a node of a stream's ``desc``)."""

    def child(self, name: str) -> _XmlElement: ...
    def child_value(self, name: str) -> str: ...
    def empty(self) -> bool: ...
    def append_child(self, name: str) -> _XmlElement: ...
    def append_child_value(self, name: str, value: str) -> _XmlElement: ...


class _StreamInfo(Protocol):
    """A ``pylsl.StreamInfo``, resolved (no ``desc``) or read from an inlet (full)."""

    def name(self) -> str: ...
    def type(self) -> str: ...
    def source_id(self) -> str: ...
    def uid(self) -> str: ...
    def hostname(self) -> str: ...
    def desc(self) -> _XmlElement: ...
    def get_channel_units(self) -> list[str] | None: ...


class _Inlet(Protocol):
    """A ``pylsl.StreamInlet``: what both inlets (RR and events) are asked."""

    def open_stream(self, timeout: float) -> None: ...
    def close_stream(self) -> None: ...
    def info(self, timeout: float) -> _StreamInfo: ...
    def time_correction(self, timeout: float) -> float: ...


class _RRInlet(_Inlet, Protocol):
    """The inlet of a numeric RR/IBI stream: samples are lists of floats."""

    def pull_sample(self, timeout: float) -> tuple[list[float] | None, float | None]: ...
    def pull_chunk(self, timeout: float) -> tuple[list[list[float]], list[float]]: ...


class _MarkerInlet(_Inlet, Protocol):
    """The inlet of an events (``Markers``, string) stream: other senders' markers are free."""

    def pull_chunk(self, timeout: float) -> tuple[list[list[object]], list[float]]: ...


class _LslClock(Protocol):
    """The pylsl module, as far as its clock goes."""

    def local_clock(self) -> float: ...


class SimulationOrigin(TypedDict):
    """A simulated strap's run, as published with its stream: scenario, seed and simulation
    time 0 on the host monotonic clock (of the sender, or mapped onto the receiver's)."""

    scenario: str
    seed: int
    origin_host_s: float


class _RRIdentity(TypedDict):
    name: str
    type: str
    source_id: str
    uid: str
    channel_format: str
    unit: str


class _EventsIdentity(TypedDict):
    name: str
    type: str
    source_id: str
    uid: str


class OutletIdentity(TypedDict):
    """What identifies the two outlets of a strap on the network (``coreg stream`` prints it
    and the recording header keeps it)."""

    rr: _RRIdentity
    events: _EventsIdentity
    hostname: str
    host_minus_lsl_s: float


def load_pylsl() -> Any:  # the pylsl module, untyped
    """Import pylsl, or raise one clear line telling how to install it.

    Raises
    ------
    DeviceError
        pylsl (or the liblsl it ships) is not installed.
    """
    try:
        import pylsl
    except (ImportError, RuntimeError, OSError) as exc:
        raise DeviceError(f"{INSTALL_HINT} ({exc})") from exc
    return pylsl


def host_minus_lsl_s(pylsl: _LslClock, probes: int = 5) -> float:
    """The host monotonic clock minus the LSL clock, in s (0 within a microsecond on Linux).

    Each probe reads the monotonic clock around one ``local_clock`` call; the tightest bracket
    wins.
    """
    best_width = math.inf
    best = 0.0
    for _ in range(probes):
        before = time.monotonic()
        lsl_s = float(pylsl.local_clock())
        after = time.monotonic()
        if after - before < best_width:
            best_width = after - before
            best = (before + after) / 2.0 - lsl_s
    return best


def stable_source_id(role: str, device: str, kind: str = "rr") -> str:
    """A ``source_id`` that is the same whenever the same strap streams for the same role.

    ``device`` is the strap's address (or the ``SRC`` text for simulated straps); only a short
    hash of it goes on the network.
    """
    digest = hashlib.sha256(device.encode("utf-8")).hexdigest()[:12]
    return f"coreg-{kind}-{role}-{digest}"


def beat_times_s(arrival_s: float, rr_ms: tuple[float, ...]) -> list[float]:
    """The end time of each interval of one notification: the last ends at the arrival."""
    times: list[float] = []
    t = arrival_s
    for rr in reversed(rr_ms):
        times.append(t)
        t -= rr / 1000.0
    times.reverse()
    return times


class StrapOutlets:
    """The RR and events outlets of one strap (``coreg stream``).

    Parameters
    ----------
    name
        RR stream name; the events stream is ``name + "-events"``.
    role
        ``"client"`` or ``"therapist"``.
    info
        The strap.
    device_key
        What identifies the strap (address, or the ``SRC`` for a simulation): the source ids
        are derived from it and the role.
    app_version
        coreg's version, written into the stream metadata.
    simulation
        For a simulated strap: ``{"scenario", "seed", "origin_host_s"}`` (simulation time 0
        on the host clock; a :class:`SimulationOrigin`), published so a receiver can play the
        other role of the same simulated dyad in step (see :class:`LslSource`).
    """

    def __init__(self, name: str, role: str, info: DeviceInfo, device_key: str,
                 app_version: str, simulation: Mapping[str, object] | None = None) -> None:
        self._pylsl = pylsl = load_pylsl()
        self.name = name
        self.role = role
        self._offset_s = host_minus_lsl_s(pylsl)
        self.rr_source_id = stable_source_id(role, device_key)
        self.events_source_id = self.rr_source_id + EVENTS_SUFFIX
        rr_info = pylsl.StreamInfo(name, RR_TYPE, 1, pylsl.IRREGULAR_RATE, "double64",
                                   self.rr_source_id)
        rr_info.set_channel_labels(["RR"])
        rr_info.set_channel_units(["ms"])
        rr_info.set_channel_types([RR_TYPE])
        ev_info = pylsl.StreamInfo(name + EVENTS_SUFFIX, EVENTS_TYPE, 1, pylsl.IRREGULAR_RATE,
                                   "string", self.events_source_id)
        for stream_info in (rr_info, ev_info):
            desc = stream_info.desc()
            acq = desc.append_child("acquisition")
            acq.append_child_value("manufacturer", info.manufacturer or "")
            acq.append_child_value("model", info.model or "")
            acq.append_child_value("simulated", "true" if info.simulated else "false")
            coreg = desc.append_child("coreg")
            coreg.append_child_value("role", role)
            coreg.append_child_value("app_version", app_version)
            coreg.append_child_value("strap", info.name or "")
            coreg.append_child_value("rr_stream", name)
            coreg.append_child_value("events_stream", name + EVENTS_SUFFIX)
            if simulation is not None:
                scenario, seed, origin_host_s = _simulation_fields(simulation)
                sim = coreg.append_child("simulation")
                sim.append_child_value("scenario", scenario)
                sim.append_child_value("seed", str(seed))
                sim.append_child_value("origin_lsl_s", repr(self.to_lsl_s(origin_host_s)))
        self._rr = pylsl.StreamOutlet(rr_info)
        self._events = pylsl.StreamOutlet(ev_info)
        self._lock = threading.Lock()
        self.beats_pushed = 0
        self.events_pushed = 0
        full = self._rr.get_info()
        self.identity: OutletIdentity = {
            "rr": {"name": name, "type": RR_TYPE, "source_id": self.rr_source_id,
                   "uid": full.uid(), "channel_format": "double64", "unit": "ms"},
            "events": {"name": name + EVENTS_SUFFIX, "type": EVENTS_TYPE,
                       "source_id": self.events_source_id,
                       "uid": self._events.get_info().uid()},
            "hostname": full.hostname(),
            "host_minus_lsl_s": self._offset_s,
        }

    def to_lsl_s(self, host_s: float) -> float:
        """A host monotonic time on the LSL clock."""
        return host_s - self._offset_s

    def push(self, message: Message) -> None:
        """Publish one source message (thread-safe; call it as the message arrives)."""
        with self._lock:
            if isinstance(message, RRSample):
                for t_s, rr in zip(beat_times_s(message.arrival_s, message.rr_ms),
                                   message.rr_ms, strict=True):
                    self._rr.push_sample([float(rr)], self.to_lsl_s(t_s))
                    self.beats_pushed += 1
            else:
                payload: dict[str, object] = {"event": str(message.kind)}
                if message.value is not None:
                    payload["value"] = message.value
                if message.detail:
                    payload["detail"] = message.detail
                self._events.push_sample([json.dumps(payload)], self.to_lsl_s(message.arrival_s))
                self.events_pushed += 1

    def close(self) -> None:
        """Withdraw both streams from the network."""
        with self._lock:
            self._rr = None
            self._events = None


def _simulation_fields(simulation: Mapping[str, object]) -> tuple[str, int, float]:
    """``(scenario, seed, origin_host_s)`` of a :class:`SimulationOrigin`-shaped mapping.

    Raises
    ------
    DeviceError
        A field is missing or not a number where one is needed.
    """
    seed, origin = simulation.get("seed"), simulation.get("origin_host_s")
    if not isinstance(seed, int | float | str) or not isinstance(origin, int | float | str):
        raise DeviceError(f"simulation to publish needs a seed and an origin: {simulation!r}")
    try:
        return str(simulation.get("scenario")), int(seed), float(origin)
    except ValueError as exc:
        raise DeviceError(f"simulation to publish: {exc}") from exc


def parse_event_marker(text: object) -> tuple[EventKind, float | None, str] | None:
    """One events-stream sample → (kind, value, detail), or None when it is not one of ours.

    Never raises: a marker stream is free text, and other senders' markers are skipped.
    """
    if not isinstance(text, str):
        return None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    try:
        kind = EventKind(str(obj.get("event")))
    except ValueError:
        return None
    raw = obj.get("value")
    value = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None
    if value is not None and not math.isfinite(value):
        value = None
    detail = obj.get("detail", "")
    return kind, value, detail if isinstance(detail, str) else str(detail)


def _channel_unit(info: _StreamInfo) -> str:
    with contextlib.suppress(Exception):
        units = info.get_channel_units()
        if units and units[0]:
            return str(units[0]).strip().lower()
    return ""


def _rr_scale(stream_type: str, unit: str) -> float | None:
    """Factor from the stream's values to ms, or None to decide from the values."""
    if unit in ("ms", "msec", "millisecond", "milliseconds"):
        return 1.0
    if unit in ("s", "sec", "second", "seconds"):
        return 1000.0
    return None


class LslSource:
    """Consume an LSL RR/IBI stream found by name as a strap source (``lsl:NAME``).

    Parameters
    ----------
    stream_name
        The stream's name.
    role
        The ``source_id`` of the messages (the role it feeds).
    resolve_wait_s
        At construction, wait up to this long for the stream to fill :attr:`info` (0: do not).
    retry_s
        Pause between two resolve attempts after the stream was lost.

    Notes
    -----
    The source emits what a strap emits: ``CONNECTING``, ``CONNECTED`` when the inlet is open,
    one :class:`RRSample` per beat with ``arrival_s`` the beat's stamp mapped onto the host
    monotonic clock (remote stamp + ``time_correction`` + :func:`host_minus_lsl_s`), and on
    stream loss ``DISCONNECTED`` then ``RECONNECTING`` until the stream (the same name) is back.
    A beat whose mapped time is not later than the last beat given is dropped, so a sender
    that reconnects or is found twice never duplicates a beat. Events of a coreg sender
    (its ``-events`` stream: contact, battery, the strap's own disconnects) are passed on with
    ``detail`` starting ``"sender: "``; their contact state marks the beats that follow.
    """

    def __init__(self, stream_name: str, role: str, *, resolve_wait_s: float = 2.0,
                 retry_s: float = 1.0) -> None:
        self._pylsl = load_pylsl()
        self.stream_name = stream_name
        self.source_id = role
        self.retry_s = retry_s
        self.info = DeviceInfo(name=stream_name, model="LSL stream")
        self._stop = threading.Event()
        self._offset_s = host_minus_lsl_s(self._pylsl)
        self._last_beat_s = -math.inf
        self.time_correction_s: float | None = None
        self.duplicates_dropped = 0
        #: Samples that were not a usable RR value (NaN, ≤ 0, out of range): counted, dropped.
        self.bad_values = 0
        self.connections = 0
        #: ``{"scenario", "seed", "origin_host_s"}`` when the sender streams a simulated strap.
        self.sim_origin: SimulationOrigin | None = None
        if resolve_wait_s > 0:
            found = self._pylsl.resolve_byprop("name", stream_name, 1, resolve_wait_s)
            if found:
                self._peek(found[0])
            else:
                log.warning("no LSL stream named %r yet; waiting for it", stream_name)

    def _peek(self, stream_info: _StreamInfo) -> None:
        """Read the full metadata once (resolved infos carry no ``desc``) to fill :attr:`info`
        and :attr:`sim_origin` before the session writes its header."""
        pylsl = self._pylsl
        inlet: _Inlet = pylsl.StreamInlet(stream_info, max_buflen=1, recover=False)
        try:
            full = inlet.info(timeout=3.0)
            correction_s = float(inlet.time_correction(timeout=3.0))
        except (pylsl.util.LostError, pylsl.util.TimeoutError):
            return
        finally:
            with contextlib.suppress(Exception):
                inlet.close_stream()
        self.info = self._device_info(full)
        try:
            sim = full.desc().child("coreg").child("simulation")
            if sim.empty():
                return
            self.sim_origin = {
                "scenario": sim.child_value("scenario"), "seed": int(sim.child_value("seed")),
                "origin_host_s": float(sim.child_value("origin_lsl_s")) + correction_s
                + self._offset_s}
        except (ValueError, RuntimeError):
            self.sim_origin = None

    def _device_info(self, stream_info: _StreamInfo) -> DeviceInfo:
        model, manufacturer, role = "LSL stream", "", ""
        with contextlib.suppress(Exception):
            desc = stream_info.desc()
            acq = desc.child("acquisition")
            model = acq.child_value("model") or model
            manufacturer = acq.child_value("manufacturer") or ""
            role = desc.child("coreg").child_value("role") or ""
        lsl: dict[str, object] = {"name": stream_info.name(), "type": stream_info.type(),
                                  "source_id": stream_info.source_id(),
                                  "uid": stream_info.uid(), "hostname": stream_info.hostname()}
        if role:
            lsl["sender_role"] = role
        return DeviceInfo(name=stream_info.name(), model=model, manufacturer=manufacturer,
                          address=f"lsl:{stream_info.source_id() or stream_info.name()}",
                          extra={"lsl": lsl})

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def stop(self) -> None:
        """Stop: the worker ends within one pull timeout and iteration ends with STOPPED."""
        self._stop.set()

    async def _iterate(self) -> AsyncIterator[Message]:
        loop = asyncio.get_running_loop()
        out: asyncio.Queue[Message | None] = asyncio.Queue()

        def emit(message: Message | None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(out.put_nowait, message)

        worker = threading.Thread(target=self._work, args=(emit,), daemon=True,
                                  name=f"lsl-{self.source_id}")
        worker.start()
        try:
            while True:
                message = await out.get()
                if message is None:
                    break
                yield message
        finally:
            # The worker ends by itself within one blocking call (≤ 5 s) once stopped; it is a
            # daemon thread and must not hold the closing loop.
            self._stop.set()
        yield DeviceEvent(self.source_id, time.monotonic(), EventKind.STOPPED, detail="stopped")

    # -- the worker thread (every blocking pylsl call) ---------------------------------------
    def _event(self, kind: EventKind, value: float | None = None, detail: str = "") -> DeviceEvent:
        return DeviceEvent(self.source_id, time.monotonic(), kind, value, detail)

    def _work(self, emit: Callable[[Message | None], None]) -> None:
        try:
            self._work_loop(emit)
        except Exception as exc:  # never take the session down: report and end
            log.exception("LSL source %s failed", self.stream_name)
            emit(self._event(EventKind.DISCONNECTED, detail=f"LSL error: {exc}"))
        finally:
            emit(None)

    def _work_loop(self, emit: Callable[[Message | None], None]) -> None:
        pylsl = self._pylsl
        emit(self._event(EventKind.CONNECTING, detail=f"LSL stream {self.stream_name}"))
        lost_before = False
        while not self._stop.is_set():
            found = pylsl.resolve_byprop("name", self.stream_name, 1, RESOLVE_WAIT_S)
            log.info("LSL resolve %s: %d found", self.stream_name, len(found))
            if not found:
                if lost_before:
                    emit(self._event(EventKind.RECONNECTING, value=self.retry_s,
                                     detail=f"LSL stream {self.stream_name}"))
                    self._stop.wait(self.retry_s)
                continue
            self._serve(found[0], emit)
            if self._stop.is_set():
                break
            lost_before = True
            emit(self._event(EventKind.DISCONNECTED, detail=f"LSL stream {self.stream_name} lost"))

    def _serve(self, stream_info: _StreamInfo, emit: Callable[[Message | None], None]) -> None:
        """Pull one connection until the stream is lost or the source stopped."""
        pylsl = self._pylsl
        try:
            inlet: _RRInlet = pylsl.StreamInlet(stream_info, max_buflen=360, recover=False)
            inlet.open_stream(timeout=5.0)
            full = inlet.info(timeout=5.0)
            correction_s = float(inlet.time_correction(timeout=5.0))
        except (pylsl.util.LostError, pylsl.util.TimeoutError) as exc:
            log.info("LSL stream %s could not be opened: %s", self.stream_name, exc)
            return
        if full.type().lower() not in RR_TYPES:
            log.warning("LSL stream %s has type %r, not RR/IBI: reading its first channel as RR",
                        self.stream_name, full.type())
        self.info = self._device_info(full)
        self.time_correction_s = correction_s
        self.connections += 1
        log.info("LSL stream %s open (from %s, time correction %.6f s)", full.name(),
                 full.hostname(), correction_s)
        scale = _rr_scale(full.type(), _channel_unit(full))
        events = self._open_events(full)
        emit(self._event(EventKind.CONNECTED,
                         detail=f"LSL stream {full.name()} from {full.hostname()}"))
        # The clock offset is refreshed by its own thread: a time_correction call can block
        # for a round of probes, and beats must not wait for it.
        correction = [correction_s]
        done = threading.Event()
        refresher = threading.Thread(target=self._refresh_correction,
                                     args=(inlet, correction, done), daemon=True,
                                     name=f"lsl-clock-{self.source_id}")
        refresher.start()
        try:
            self._pull(inlet, full, correction, scale, events, emit)
        finally:
            done.set()
            refresher.join(3.0)
            with contextlib.suppress(Exception):
                inlet.close_stream()

    def _refresh_correction(self, inlet: _Inlet, correction: list[float],
                            done: threading.Event) -> None:
        pylsl = self._pylsl
        # Each estimate is off by up to half its probe's round trip, which a busy machine or
        # network stretches now and then: the median of the last few is used.
        recent = [correction[0]]
        while not done.wait(5.0):
            with contextlib.suppress(pylsl.util.TimeoutError, pylsl.util.LostError):
                recent = [*recent[-(CORRECTION_MEDIAN_OF - 1):],
                          float(inlet.time_correction(timeout=2.0))]
                correction[0] = sorted(recent)[len(recent) // 2]
                self.time_correction_s = correction[0]

    def _pull(self, inlet: _RRInlet, full: _StreamInfo, correction: list[float],
              scale: float | None, events: _MarkerInlet | None,
              emit: Callable[[Message | None], None]) -> None:
        pylsl = self._pylsl
        contact: bool | None = None
        last_data_s = time.monotonic()
        while not self._stop.is_set():
            correction_s = correction[0]
            if events is not None:
                contact = self._pull_events(events, correction_s, contact, emit)
            try:
                # pull_sample returns at the first sample (pull_chunk would wait its whole
                # timeout); the rest of a burst is then taken at once.
                first, first_stamp = inlet.pull_sample(timeout=0.2)
                values, stamps = inlet.pull_chunk(timeout=0.0) if first is not None else ([], [])
            except pylsl.util.LostError:
                break
            if first is not None and first_stamp is not None:  # pylsl gives both or neither
                values, stamps = [first, *values], [first_stamp, *stamps]
            now = time.monotonic()
            if not values:
                if now - last_data_s > SILENCE_S:
                    alive = pylsl.resolve_byprop("source_id", full.source_id() or "", 1, 0.5) \
                        if full.source_id() else pylsl.resolve_byprop("name", full.name(), 1, 0.5)
                    if not any(a.uid() == full.uid() for a in alive):
                        break
                    last_data_s = now
                continue
            last_data_s = now
            for value, stamp in zip(values, stamps, strict=True):
                sample = self._beat(float(value[0]), float(stamp) + correction_s, scale, contact)
                if sample is not None:
                    emit(sample)

    def _beat(self, value: float, lsl_s: float, scale: float | None,
              contact: bool | None) -> RRSample | None:
        rr_ms = value * (scale if scale is not None else (1000.0 if value < 10.0 else 1.0))
        if not (math.isfinite(rr_ms) and MIN_RR_MS <= rr_ms <= MAX_RR_MS and math.isfinite(lsl_s)):
            self.bad_values += 1
            return None
        t_s = lsl_s + self._offset_s
        if t_s <= self._last_beat_s + 1e-4:
            self.duplicates_dropped += 1
            return None
        self._last_beat_s = t_s
        return RRSample(self.source_id, t_s, (rr_ms,), max(1, round(60000.0 / rr_ms)),
                        contact, b"")

    def _open_events(self, full: _StreamInfo) -> _MarkerInlet | None:
        pylsl = self._pylsl
        sid = full.source_id()
        if not sid:
            return None
        found = pylsl.resolve_byprop("source_id", sid + EVENTS_SUFFIX, 1, 0.3)
        if not found:
            return None
        try:
            inlet: _MarkerInlet = pylsl.StreamInlet(found[0], max_buflen=360, recover=False)
            inlet.open_stream(timeout=2.0)
        except (pylsl.util.LostError, pylsl.util.TimeoutError):
            return None
        return inlet

    def _pull_events(self, inlet: _MarkerInlet, correction_s: float, contact: bool | None,
                     emit: Callable[[Message | None], None]) -> bool | None:
        pylsl = self._pylsl
        try:
            values, stamps = inlet.pull_chunk(timeout=0.0)
        except pylsl.util.LostError:
            return contact
        for value, stamp in zip(values, stamps, strict=True):
            parsed = parse_event_marker(value[0] if value else None)
            if parsed is None or parsed[0] is EventKind.STOPPED:
                continue
            kind, number, detail = parsed
            if kind is EventKind.CONTACT_LOST:
                contact = False
            elif kind is EventKind.CONTACT_REGAINED:
                contact = True
            emit(DeviceEvent(self.source_id, float(stamp) + correction_s + self._offset_s, kind,
                             number, f"sender: {detail}".rstrip(": ")))
        return contact
