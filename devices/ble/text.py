"""Scan results as text (``coreg scan``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from devices.ble.scan import FoundStrap


def _iter_found(found: Iterable[FoundStrap]) -> Iterator[str]:
    """Format scan results as aligned text lines (used by ``coreg scan``)."""
    rows = [
        (s.name or "(no name)", s.address,
         "connected" if s.connected else ("" if s.rssi_dbm is None else f"{s.rssi_dbm} dBm"),
         " ".join(x for x in (s.manufacturer, s.model) if x))
        for s in found
    ]
    if not rows:
        return
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        yield "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3]


def format_found(found: Iterable[FoundStrap]) -> list[str]:
    """Format scan results as aligned lines: name, address, RSSI, manufacturer and model."""
    return [line.rstrip() for line in _iter_found(found)]
