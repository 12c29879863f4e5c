"""Bluetooth LE heart-rate straps through bleak: scan, connect, stream RR, reconnect.

This package is the only one that imports bleak. :func:`scan` lists devices advertising the Heart
Rate Service (0x180D); :class:`BleStrap` is a :class:`~devices.types.Source` for one strap: it
connects by address or name (connects of all straps on a loop are serialised by one lock, as
several BLE stacks mishandle simultaneous connection attempts), subscribes to Heart Rate
Measurement (0x2A37), parses every notification with :func:`devices.hrm.parse`, reads the
battery (0x2A19), and on a lost link looks for the strap again at once, one scan window after
another, so a strap that advertises again is connected within about 0.1 s; only a failed
connection (the strap seen but not set up) backs off, 1 s doubling to 30 s on the strap's clock
(the session's, faster with ``--speed``), until stopped, emitting
:class:`~devices.types.DeviceEvent` throughout. It never pairs, so it
never leaves a bond behind, and it unsubscribes and disconnects on :meth:`BleStrap.stop`,
on cancellation, and when the consumer abandons the iteration.

The bleak backend is injectable (:class:`BleBackend`): the platform's (BlueZ, CoreBluetooth,
WinRT) by default, or :meth:`BleBackend.emulated` — a Bumble in-memory radio carrying emulated
straps (:mod:`devices.peripheral`) — so tests and ``ble-sim`` sources run this very code.

Modules: :mod:`~devices.ble.gatt` (UUIDs, Device Information), :mod:`~devices.ble.backends`
(backend choice, connect lock, missing-adapter errors), :mod:`~devices.ble.scan`,
:mod:`~devices.ble.strap` (:class:`BleStrap`), :mod:`~devices.ble.emulated` (``ble-sim``),
:mod:`~devices.ble.addressing` (``SRC`` spellings), :mod:`~devices.ble.source`
(:func:`open_source`) and :mod:`~devices.ble.text` (scan results as text).
"""

from __future__ import annotations

from devices.ble.addressing import EMULATED_PREFIX, is_address, parse_emulated_src
from devices.ble.backends import (
    PLATFORM,
    BleBackend,
    _adapter_error,
    _os_connected_straps,
    connect_lock,
)
from devices.ble.emulated import EmulatedBleStrap, _default_seed, _one_person
from devices.ble.gatt import (
    BATTERY_LEVEL_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    MANUFACTURER_NAME_UUID,
    MODEL_NUMBER_UUID,
)
from devices.ble.scan import FoundStrap, scan
from devices.ble.source import open_source
from devices.ble.strap import BACKOFF_INITIAL_S, BACKOFF_MAX_S, BleStrap
from devices.ble.text import format_found

__all__ = [
    "BACKOFF_INITIAL_S",
    "BACKOFF_MAX_S",
    "BATTERY_LEVEL_UUID",
    "EMULATED_PREFIX",
    "HEART_RATE_MEASUREMENT_UUID",
    "HEART_RATE_SERVICE_UUID",
    "MANUFACTURER_NAME_UUID",
    "MODEL_NUMBER_UUID",
    "PLATFORM",
    "BleBackend",
    "BleStrap",
    "EmulatedBleStrap",
    "FoundStrap",
    "_adapter_error",
    "_default_seed",
    "_one_person",
    "_os_connected_straps",
    "connect_lock",
    "format_found",
    "is_address",
    "open_source",
    "parse_emulated_src",
    "scan",
]
