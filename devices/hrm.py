"""Heart Rate Measurement (GATT characteristic 0x2A37) parser and encoder.

Layout (Bluetooth SIG, Heart Rate Service 1.0, and docs/science.md §1): byte 0 is flags —
bit 0 HR format (0 = uint8, 1 = uint16 LE); bits 1–2 sensor contact (bit 2 = contact feature
supported, bit 1 = contact detected; contact is known only when bit 2 is set); bit 3 energy
expended present (uint16 LE, kJ); bit 4 RR intervals present (uint16 LE each, 1/1024 s).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from devices.errors import HrmParseError

RR_UNITS_PER_S = 1024
_MS_PER_UNIT = 1000.0 / RR_UNITS_PER_S

FLAG_HR_UINT16 = 0x01
FLAG_CONTACT_DETECTED = 0x02
FLAG_CONTACT_SUPPORTED = 0x04
FLAG_ENERGY = 0x08
FLAG_RR = 0x10


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """A decoded 0x2A37 payload.

    Parameters
    ----------
    hr_bpm
        Heart rate in beats per minute.
    rr_ms
        RR intervals in ms (raw 1/1024 s units × 1000/1024, never rounded), oldest first.
    contact
        True/False when the sensor supports contact detection; None when it does not.
    energy_kj
        Energy expended in kJ when present, else None.
    """

    hr_bpm: int
    rr_ms: tuple[float, ...] = ()
    contact: bool | None = None
    energy_kj: int | None = None


def rr_raw_to_ms(raw: int) -> float:
    """Convert an RR value in 1/1024 s units to milliseconds (a float, exact binary fraction)."""
    return raw * _MS_PER_UNIT


def rr_ms_to_raw(rr_ms: float) -> int:
    """Convert milliseconds to the nearest 1/1024 s unit, as a strap would quantise it."""
    return round(rr_ms * RR_UNITS_PER_S / 1000.0)


def parse(payload: bytes) -> HeartRateMeasurement:
    """Decode a Heart Rate Measurement payload.

    Parameters
    ----------
    payload
        The raw characteristic value.

    Returns
    -------
    HeartRateMeasurement

    Raises
    ------
    HrmParseError
        If the payload is empty, too short for the fields its flags announce, or has a trailing
        odd byte in the RR section. Nothing else is raised for any ``bytes`` input.
    """
    if isinstance(payload, int):  # bytes(5) would silently be five zero bytes
        raise HrmParseError(f"payload is not bytes: {type(payload).__name__}")
    try:
        data = bytes(payload)
    except Exception as exc:  # a non-bytes-like value
        raise HrmParseError(f"payload is not bytes: {type(payload).__name__}") from exc
    n = len(data)
    if n < 2:
        raise HrmParseError(f"payload too short ({n} bytes)")
    flags = data[0]
    i = 1
    if flags & FLAG_HR_UINT16:
        if n < 3:
            raise HrmParseError("payload too short for uint16 heart rate")
        hr = data[1] | (data[2] << 8)
        i = 3
    else:
        hr = data[1]
        i = 2
    contact: bool | None = None
    if flags & FLAG_CONTACT_SUPPORTED:
        contact = bool(flags & FLAG_CONTACT_DETECTED)
    energy: int | None = None
    if flags & FLAG_ENERGY:
        if n < i + 2:
            raise HrmParseError("payload too short for energy expended")
        energy = data[i] | (data[i + 1] << 8)
        i += 2
    rr: tuple[float, ...] = ()
    if flags & FLAG_RR:
        rest = n - i
        if rest % 2:
            raise HrmParseError(f"RR section has an odd number of bytes ({rest})")
        count = rest // 2
        rr = tuple(v * _MS_PER_UNIT for v in struct.unpack_from(f"<{count}H", data, i))
    elif i != n:
        raise HrmParseError(f"{n - i} unexpected trailing bytes")
    return HeartRateMeasurement(hr_bpm=hr, rr_ms=rr, contact=contact, energy_kj=energy)


def encode(
    hr_bpm: int,
    rr_ms: Iterable[float] = (),
    contact: bool | None = True,
    energy_kj: int | None = None,
    *,
    hr_uint16: bool | None = None,
    rr_present: bool | None = None,
) -> bytes:
    """Encode a Heart Rate Measurement payload as a strap would send it.

    Parameters
    ----------
    hr_bpm
        Heart rate in bpm (0–65535).
    rr_ms
        RR intervals in ms; each is quantised to 1/1024 s.
    contact
        None: contact detection not supported; True/False: supported and detected or not.
    energy_kj
        Energy expended in kJ, or None to omit it.
    hr_uint16
        Force the uint16 HR format; by default uint16 is used only when ``hr_bpm > 255``.
    rr_present
        Set the RR flag even with no RR values; by default it is set when RR values are given.

    Returns
    -------
    bytes
    """
    rr_raw = [rr_ms_to_raw(v) for v in rr_ms]
    for raw in rr_raw:
        if not 0 <= raw <= 0xFFFF:
            raise ValueError(f"RR value out of range: {raw} (1/1024 s)")
    if not 0 <= hr_bpm <= 0xFFFF:
        raise ValueError(f"heart rate out of range: {hr_bpm}")
    if energy_kj is not None and not 0 <= energy_kj <= 0xFFFF:
        raise ValueError(f"energy expended out of range: {energy_kj}")
    wide = hr_bpm > 0xFF if hr_uint16 is None else hr_uint16
    if not wide and hr_bpm > 0xFF:
        raise ValueError("heart rate above 255 needs the uint16 format")
    flags = 0
    if wide:
        flags |= FLAG_HR_UINT16
    if contact is not None:
        flags |= FLAG_CONTACT_SUPPORTED
        if contact:
            flags |= FLAG_CONTACT_DETECTED
    if energy_kj is not None:
        flags |= FLAG_ENERGY
    has_rr = bool(rr_raw) if rr_present is None else rr_present
    if has_rr:
        flags |= FLAG_RR
    out = bytearray([flags])
    out += struct.pack("<H", hr_bpm) if wide else bytes([hr_bpm])
    if energy_kj is not None:
        out += struct.pack("<H", energy_kj)
    if has_rr:
        out += struct.pack(f"<{len(rr_raw)}H", *rr_raw)
    return bytes(out)
