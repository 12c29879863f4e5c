"""Messages a strap source emits, and the source protocol.

A source is an async iterator of :class:`RRSample` (one per Heart Rate Measurement
notification) and :class:`DeviceEvent` (connection state, contact, battery). Times are the
host's monotonic clock in seconds at arrival (``time.monotonic()`` for real straps, a virtual
clock for simulated ones run faster than real time): straps send no timestamps, and both people
of a dyad share this one host clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class RRSample:
    """One Heart Rate Measurement notification as it arrived.

    Parameters
    ----------
    source_id
        The role or source id (``"client"``, ``"therapist"``, ...).
    arrival_s
        Host monotonic arrival time in seconds.
    rr_ms
        RR intervals in the notification, in ms as floats (raw 1/1024 s × 1000/1024), oldest first.
    hr_bpm
        Heart rate the strap reported, in beats per minute.
    contact
        Skin contact: True/False when the strap supports contact detection, None when it does not.
    payload
        The raw 0x2A37 payload bytes.
    """

    source_id: str
    arrival_s: float
    rr_ms: tuple[float, ...]
    hr_bpm: int
    contact: bool | None
    payload: bytes = b""


class EventKind(StrEnum):
    """Kinds of device event."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    RECONNECTING = "reconnecting"
    CONTACT_LOST = "contact_lost"
    CONTACT_REGAINED = "contact_regained"
    BATTERY = "battery"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """A change in a source's state.

    Parameters
    ----------
    source_id
        The role or source id.
    arrival_s
        Host monotonic time of the event in seconds.
    kind
        What happened.
    value
        Battery level in percent for ``BATTERY``; seconds until the next attempt for
        ``RECONNECTING``; otherwise None.
    detail
        Free text (device name, address, error message).
    """

    source_id: str
    arrival_s: float
    kind: EventKind
    value: float | None = None
    detail: str = ""


Message = RRSample | DeviceEvent


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What is known about the device behind a source (written into recording headers)."""

    name: str = ""
    model: str = ""
    manufacturer: str = ""
    address: str = ""
    simulated: bool = False
    extra: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class Source(Protocol):
    """A strap source: an async iterator of :data:`Message` that can be stopped.

    Iteration ends after :meth:`stop` (or when a finite source, such as a simulation with a
    duration, runs out). A source never raises for bad bytes from a strap: it counts them.
    """

    source_id: str
    info: DeviceInfo

    def __aiter__(self) -> AsyncIterator[Message]: ...

    async def stop(self) -> None: ...
