"""GATT identifiers of the Heart Rate, Battery and Device Information services, and the
Device Information read."""

from __future__ import annotations

import logging

from bleak import BleakClient
from bleak.exc import BleakError
from bleak.uuids import normalize_uuid_16

logger = logging.getLogger(__name__)

HEART_RATE_SERVICE_UUID = normalize_uuid_16(0x180D)
HEART_RATE_MEASUREMENT_UUID = normalize_uuid_16(0x2A37)
BATTERY_LEVEL_UUID = normalize_uuid_16(0x2A19)
MANUFACTURER_NAME_UUID = normalize_uuid_16(0x2A29)
MODEL_NUMBER_UUID = normalize_uuid_16(0x2A24)


def _decode_text(value: bytes | bytearray) -> str:
    return bytes(value).split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()


async def _read_device_information(client: BleakClient) -> dict[str, str]:
    """Read manufacturer and model strings from Device Information when the device has them."""
    out: dict[str, str] = {}
    for key, uuid in (("manufacturer", MANUFACTURER_NAME_UUID), ("model", MODEL_NUMBER_UUID)):
        if client.services.get_characteristic(uuid) is None:
            continue
        try:
            out[key] = _decode_text(await client.read_gatt_char(uuid))
        except (BleakError, TimeoutError) as exc:
            logger.debug("%s: could not read %s: %s", client.address, key, exc)
    return out
