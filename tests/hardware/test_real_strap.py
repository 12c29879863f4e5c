"""Against a real chest strap, worn (wet the electrodes):

    pytest tests/hardware --ble-address A0:9E:1A:12:34:56      # or --ble-address "Polar H10"

The strap must be advertising: not connected to a phone or another app (or, on a Polar H10,
with "two connections" enabled in Polar Flow). Takes about 30 s.
"""

from __future__ import annotations

import asyncio

import pytest

from devices import ble, hrm
from devices.types import DeviceEvent, EventKind, RRSample

pytestmark = pytest.mark.hardware


def test_scan_lists_the_strap(ble_address: str) -> None:
    found = asyncio.run(ble.scan(8.0))
    wanted = ble_address.casefold()
    assert any(wanted in (f.address.casefold(), f.name.casefold()) or wanted in f.name.casefold()
               for f in found), f"not advertising? found: {found}"


def test_strap_streams_rr_and_battery_then_disconnects(ble_address: str) -> None:
    async def scenario() -> tuple[list[RRSample], list[DeviceEvent], ble.BleStrap]:
        source = ble.open_source(ble_address, "client")
        assert isinstance(source, ble.BleStrap)
        samples: list[RRSample] = []
        events: list[DeviceEvent] = []

        async def consume() -> None:
            async for m in source:
                (samples if isinstance(m, RRSample) else events).append(m)  # type: ignore[arg-type]
                if len(samples) >= 15:
                    await source.stop()

        await asyncio.wait_for(consume(), timeout=90.0)
        return samples, events, source

    samples, events, source = asyncio.run(scenario())
    kinds = [e.kind for e in events]
    assert kinds[:2] == [EventKind.CONNECTING, EventKind.CONNECTED]
    assert kinds[-2:] == [EventKind.DISCONNECTED, EventKind.STOPPED]
    assert source.info.address
    rr = [v for s in samples for v in s.rr_ms]
    assert rr, "no RR intervals: is the strap worn?"
    assert all(250.0 < v < 2500.0 for v in rr)
    assert all(hrm.parse(s.payload).rr_ms == s.rr_ms for s in samples)
    assert source.bad_payloads == 0
    arrivals = [s.arrival_s for s in samples]
    assert arrivals == sorted(arrivals)
    if source.battery_pct is not None:
        assert EventKind.BATTERY in kinds and 0 <= source.battery_pct <= 100
