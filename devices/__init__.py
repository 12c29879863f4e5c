"""Strap sources (Bluetooth LE and simulated) and the types they emit.

This package knows nothing about :mod:`coreg`; it depends on the standard library, numpy,
bleak (only :mod:`devices.ble`) and bumble (only the emulated peripheral).
"""

from __future__ import annotations

from devices.errors import CoregError, DeviceError, HrmParseError
from devices.types import DeviceEvent, EventKind, Message, RRSample, Source

__all__ = [
    "CoregError",
    "DeviceError",
    "DeviceEvent",
    "EventKind",
    "HrmParseError",
    "Message",
    "RRSample",
    "Source",
]
