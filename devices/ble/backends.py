"""Which bleak backend to use, the per-loop connect lock, and what a missing adapter looks like."""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bleak import BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakError

from devices.ble.gatt import HEART_RATE_SERVICE_UUID
from devices.errors import DeviceError

if TYPE_CHECKING:
    from devices.bumble_backend import EmulatedAir

logger = logging.getLogger(__name__)

_CONNECT_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def connect_lock() -> asyncio.Lock:
    """Return the lock that serialises BLE connects on the running loop (one per loop)."""
    loop = asyncio.get_running_loop()
    lock = _CONNECT_LOCKS.get(loop)
    if lock is None:
        lock = asyncio.Lock()
        _CONNECT_LOCKS[loop] = lock
    return lock


@dataclass(frozen=True, slots=True)
class BleBackend:
    """Which bleak backend classes to use; ``None`` means the platform's own.

    Parameters
    ----------
    scanner
        A :class:`~bleak.backends.scanner.BaseBleakScanner` subclass, or None.
    client
        A :class:`~bleak.backends.client.BaseBleakClient` subclass, or None.
    label
        Short name for logs and device info.
    """

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None
    label: str = "platform"

    @classmethod
    def emulated(cls, air: EmulatedAir | None = None) -> BleBackend:
        """Return the backend for the Bumble in-memory radio ``air`` (default: the loop's)."""
        from devices.bumble_backend import EmulatedAir

        air = air if air is not None else EmulatedAir.for_running_loop()
        scanner, client = air.backend()
        return cls(scanner=scanner, client=client, label="emulated")

    def scanner_args(self, service_uuids: list[str] | None = None) -> BleakScanner.ExtraArgs:
        """Keyword arguments for bleak's scanner helpers: ``service_uuids`` when given,
        ``backend`` only when one is set (bleak's default, the platform's scanner, otherwise)."""
        args: BleakScanner.ExtraArgs = {}
        if service_uuids is not None:
            args["service_uuids"] = service_uuids
        if self.scanner is not None:
            args["backend"] = self.scanner
        return args


PLATFORM = BleBackend()

def _adapter_error(exc: BaseException) -> DeviceError | None:
    """Return a one-line DeviceError when ``exc`` means there is no usable adapter, else None."""
    if isinstance(exc, BleakBluetoothNotAvailableError):
        if exc.reason.name == "DENIED_BY_USER":
            return DeviceError(
                "Bluetooth access denied to this program (on macOS allow it in System Settings "
                "> Privacy & Security > Bluetooth)"
            )
        reason = exc.reason.name.lower().replace("_", " ")
        return DeviceError(f"no Bluetooth adapter found ({reason}: {exc.args[0]})")
    if isinstance(exc, BleakDBusError) and exc.dbus_error in (
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
    ):
        return DeviceError("no Bluetooth adapter found (the BlueZ service is not running)")
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        return DeviceError(
            "no Bluetooth adapter found (D-Bus system bus not reachable: is BlueZ installed "
            "and running?)"
        )
    if isinstance(exc, BleakError) and "adapter" in str(exc).lower() and (
        "no " in str(exc).lower() or "not found" in str(exc).lower()
    ):
        return DeviceError(f"no Bluetooth adapter found ({exc})")
    return None


async def _os_connected_straps(backend: BleBackend) -> list[BLEDevice]:
    """Heart-rate devices already connected at the OS level (they do not advertise then).

    A strap stays connected to the OS when the process that connected it died (BlueZ keeps
    the link), or when the OS itself connected it; bleak 3.1's adapter API finds those so
    they can be reused instead of being invisible to a scan. Empty for a custom backend or
    where the platform does not support the query.
    """
    if backend.client is not None:
        return []
    try:
        from bleak import BleakAdapter

        adapter = await BleakAdapter.get()
        return await adapter.get_connected_devices([HEART_RATE_SERVICE_UUID])
    except Exception as exc:  # not supported here, no adapter, no D-Bus...
        logger.debug("no OS-connected devices listed: %s", exc)
        return []
