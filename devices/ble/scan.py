"""Scanning for devices that advertise the Heart Rate Service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from devices.ble import backends
from devices.ble.backends import PLATFORM, BleBackend, _adapter_error, connect_lock
from devices.ble.gatt import HEART_RATE_SERVICE_UUID, _read_device_information
from devices.errors import DeviceError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FoundStrap:
    """A device advertising the Heart Rate Service, as found by :func:`scan`.

    Parameters
    ----------
    name
        Advertised name ("" when it advertised none).
    address
        Bluetooth address (a UUID on macOS); pass it, or the name, as ``SRC``.
    rssi_dbm
        Received signal strength in dBm.
    manufacturer
        From Device Information (0x2A29) when read, else from the advertised company id.
    model
        From Device Information (0x2A24) when read, else "".
    connected
        Already connected to this computer (so not advertising; no RSSI).
    """

    name: str
    address: str
    rssi_dbm: int | None
    manufacturer: str = ""
    model: str = ""
    connected: bool = False


def _company_name(manufacturer_data: dict[int, bytes]) -> str:
    if not manufacturer_data:
        return ""
    company_id = next(iter(manufacturer_data))
    try:  # bleak's table of SIG company identifiers (not public API: optional)
        from bleak.backends._manufacturers import MANUFACTURERS
    except ImportError:  # pragma: no cover - depends on the bleak version
        return f"company 0x{company_id:04X}"
    return MANUFACTURERS.get(company_id, f"company 0x{company_id:04X}")


async def scan(
    timeout_s: float = 5.0,
    *,
    backend: BleBackend = PLATFORM,
    read_info: bool = True,
    connect_timeout_s: float = 10.0,
) -> list[FoundStrap]:
    """List nearby devices advertising the Heart Rate Service 0x180D, strongest first.

    Parameters
    ----------
    timeout_s
        How long to listen for advertisements, in seconds.
    backend
        bleak backend (the platform's, or :meth:`BleBackend.emulated`).
    read_info
        Connect briefly to each device (one at a time) to read its Device Information
        (manufacturer, model); connection failures are ignored.
    connect_timeout_s
        Timeout of each of those connections.

    Returns
    -------
    list of FoundStrap

    Raises
    ------
    DeviceError
        When there is no usable Bluetooth adapter (one line saying why).
    """
    try:
        found: dict[str, tuple[BLEDevice, AdvertisementData]] = await BleakScanner.discover(
            timeout=timeout_s,
            return_adv=True,
            **backend.scanner_args([HEART_RATE_SERVICE_UUID]),
        )
    except Exception as exc:
        error = _adapter_error(exc)
        if error is not None:
            raise error from exc
        raise DeviceError(f"Bluetooth scan failed: {exc}") from exc
    results: list[FoundStrap] = []
    for device, adv in found.values():
        if HEART_RATE_SERVICE_UUID not in [u.lower() for u in adv.service_uuids]:
            continue
        info = {"manufacturer": _company_name(adv.manufacturer_data), "model": ""}
        if read_info:
            try:
                async with connect_lock():
                    client = BleakClient(
                        device, timeout=connect_timeout_s, backend=backend.client
                    )
                    try:  # disconnect even when the connect itself is interrupted
                        await client.connect()
                        info.update(await _read_device_information(client))
                    finally:
                        with contextlib.suppress(BleakError, TimeoutError, OSError):
                            await asyncio.wait_for(client.disconnect(), 5.0)
            except (BleakError, TimeoutError, OSError) as exc:
                logger.debug("scan: no Device Information from %s: %s", device.address, exc)
        results.append(
            FoundStrap(
                name=adv.local_name or device.name or "",
                address=device.address,
                rssi_dbm=adv.rssi,
                manufacturer=info["manufacturer"],
                model=info["model"],
            )
        )
    listed = {r.address for r in results}
    for device in await backends._os_connected_straps(backend):
        if device.address not in listed:
            results.append(FoundStrap(device.name or "", device.address, None, connected=True))
    results.sort(key=lambda s: -(s.rssi_dbm if s.rssi_dbm is not None else -999))
    return results
