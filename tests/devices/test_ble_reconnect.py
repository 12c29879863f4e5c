"""Reconnecting a strap that comes back (issue 16 item 12), through the real BLE code on Bumble.

A strap that advertises again is connected within 2 s (the strap keeps scanning; it does not
sleep blind); back-off after a failed connect runs on the strap's clock (the session's, which
``--speed`` scales); no notification is lost while the strap is in range; and no exception
reaches the asyncio loop unhandled (the loop's exception handler records it and fails the test).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from devices.ble import BleBackend, BleStrap
from devices.peripheral import EmulatedStrap, synthetic_rr_messages
from devices.types import DeviceEvent, EventKind, Message, RRSample, Source

K = EventKind
pytestmark = pytest.mark.usefixtures("hang_guard")

#: A strap advertising again must be connected (and streaming) this soon, wall seconds.
BACK_WITHIN_S = 2.0


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` with a loop exception handler that records what nobody handled."""
    errors: list[str] = []

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _l, ctx: errors.append(
            f"{ctx.get('message')}: {ctx.get('exception')!r}"))
        return await asyncio.wait_for(coro, timeout=60.0)

    result = asyncio.run(main())
    assert not errors, f"unhandled exceptions on the loop: {errors}"
    return result


async def wait_until(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout_s)


class Collector:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.messages: list[tuple[float, Message]] = []  # (wall time received, message)
        self.task = asyncio.get_running_loop().create_task(self._consume())

    async def _consume(self) -> None:
        async for message in self.source:
            self.messages.append((time.monotonic(), message))

    def events(self, kind: EventKind) -> list[tuple[float, DeviceEvent]]:
        return [(t, m) for t, m in self.messages
                if isinstance(m, DeviceEvent) and m.kind == kind]

    @property
    def samples(self) -> list[RRSample]:
        return [m for _, m in self.messages if isinstance(m, RRSample)]

    async def finish(self) -> None:
        await self.source.stop()
        await asyncio.wait_for(self.task, 10.0)


@pytest.mark.parametrize("offline_s", [1.0, 7.0])
def test_a_strap_back_in_range_is_connected_within_2_s(offline_s: float) -> None:
    """Default settings (the app's): out of range for ``offline_s``, then advertising again.
    Today's back-off (1, 2, 4, 8 s) and scan windows (10 s) left it unconnected for seconds;
    now the strap keeps scanning and connects at once. Of the notifications sent while the
    strap was in range (one per 250 ms here, four times a real strap's rate) at most the one
    during the reconnect's own handshake (~0.1 s) is lost."""

    async def scenario() -> None:
        strap = await EmulatedStrap(name="Emu Away").start()
        source = BleStrap("client", strap.address, backend=BleBackend.emulated())
        col = Collector(source)
        await wait_until(lambda: len(col.events(K.CONNECTED)) == 1)
        strap.play(synthetic_rr_messages("c", seed=1, duration_s=3000), speed=4.0)
        await wait_until(lambda: len(col.samples) >= 3)
        await strap.go_offline()
        await asyncio.sleep(offline_s)
        back_s = time.monotonic()
        await strap.come_online()
        await wait_until(lambda: len(col.events(K.CONNECTED)) == 2, timeout_s=20.0)
        connected_s = col.events(K.CONNECTED)[1][0]
        n = len(col.samples)
        await wait_until(lambda: len(col.samples) >= n + 4)
        await strap.stop_playing()
        await asyncio.sleep(0.2)
        await col.finish()
        await strap.close()
        assert connected_s - back_s < BACK_WITHIN_S, f"connected {connected_s - back_s:.2f} s after"
        # keeps scanning: no blind wait announced while the strap was away
        waits = [e.value for _, e in col.events(K.RECONNECTING)]
        assert waits and all(w == 0.0 for w in waits), waits
        received = [s.payload for s in col.samples]
        assert received == [e.payload for e in strap.log if e.delivered]
        lost_in_range = [e.index for e in strap.log if e.online and not e.delivered]
        first = next(e.index for e in strap.log if e.delivered)
        # in range but not yet subscribed again: only the reconnect's own handshake
        assert len([i for i in lost_in_range if i > first]) <= 1, lost_in_range

    run(scenario())


class FlakyStrap(BleStrap):
    """A strap whose first ``fail`` connection attempts fail after the device was seen."""

    def __init__(self, *args: Any, fail: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fail = fail

    async def _set_up(self, client: Any, device: Any) -> None:
        if self.fail > 0:
            self.fail -= 1
            from bleak.exc import BleakError

            raise BleakError("GATT error (test)")
        await super()._set_up(client, device)


def test_backoff_after_failed_connects_runs_on_the_strap_clock() -> None:
    """Back-off (1 s doubling) is counted on the strap's clock: on a clock 50x faster than
    real time, four failed connects cost 1 + 2 + 4 + 8 = 15 clock seconds = 0.3 s of wall time,
    not 15 s."""

    class Fast:
        speed = 50.0

        def __init__(self) -> None:
            self.origin = time.monotonic()

        def __call__(self) -> float:
            return self.origin + (time.monotonic() - self.origin) * self.speed

    async def scenario() -> None:
        strap = await EmulatedStrap(name="Emu Flaky").start()
        clock = Fast()
        source = FlakyStrap("client", strap.address, backend=BleBackend.emulated(),
                            clock=clock, fail=4)
        t0 = time.monotonic()
        col = Collector(source)
        await wait_until(lambda: len(col.events(K.CONNECTED)) == 1, timeout_s=10.0)
        wall_s = time.monotonic() - t0
        await col.finish()
        await strap.close()
        waits = [e.value for _, e in col.events(K.RECONNECTING)]
        assert waits == pytest.approx([1.0, 2.0, 4.0, 8.0])
        backoffs = col.events(K.RECONNECTING)
        connects = col.events(K.CONNECTING)
        for (_, wait), (_, nxt) in zip(backoffs, connects[1:], strict=True):
            assert nxt.arrival_s - wait.arrival_s >= wait.value  # waited on the clock...
        assert wall_s < 3.0  # ...not on the wall (15 s)

    run(scenario())


def test_stop_during_a_backoff_is_prompt() -> None:
    async def scenario() -> None:
        strap = await EmulatedStrap(name="Emu Flaky Stop").start()
        source = FlakyStrap("client", strap.address, backend=BleBackend.emulated(), fail=100)
        col = Collector(source)
        await wait_until(lambda: len(col.events(K.RECONNECTING)) >= 1)
        t0 = time.monotonic()
        await col.finish()
        assert time.monotonic() - t0 < 1.0
        await strap.close()
        assert col.messages[-1][1].kind == K.STOPPED  # type: ignore[union-attr]

    run(scenario())


def test_an_unknown_strap_is_looked_for_without_pause_but_without_spinning() -> None:
    """No strap of that name: scans follow one another (no blind sleep), each a full scan
    window, so the loop never spins."""

    async def scenario() -> None:
        await EmulatedStrap(name="Someone Else").start()
        source = BleStrap("client", "No Such Strap", backend=BleBackend.emulated(),
                          scan_timeout_s=0.2)
        col = Collector(source)
        await asyncio.sleep(1.1)
        await col.finish()
        attempts = col.events(K.CONNECTING)
        waits = [(e.value, e.detail) for _, e in col.events(K.RECONNECTING)]
        assert 2 <= len(attempts) <= 7, waits  # ~1.1 s / 0.2 s windows (fewer when loaded)
        assert all(value == 0.0 for value, _ in waits), waits

    run(scenario())


def test_a_known_strap_is_reconnected_without_rediscovering_its_gatt_database(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As BlueZ and CoreBluetooth do for known devices, the emulated backend reuses the GATT
    database found at the first connection; the reconnected link still streams and a strap
    started again at the same address is discovered afresh."""
    from bumble.device import Peer

    discoveries: list[int] = []
    original = Peer.discover_all

    async def counting(self: Peer) -> None:
        discoveries.append(1)
        await original(self)

    monkeypatch.setattr(Peer, "discover_all", counting)

    async def scenario() -> None:
        strap = await EmulatedStrap(name="Emu Known").start()
        source = BleStrap("client", strap.address, backend=BleBackend.emulated())
        col = Collector(source)
        await wait_until(lambda: len(col.events(K.CONNECTED)) == 1)
        first = {str(c.uuid) for c in source._client.services.characteristics.values()}
        for n in (2, 3):
            await strap.drop()
            await wait_until(lambda n=n: len(col.events(K.CONNECTED)) == n)
        again = {str(c.uuid) for c in source._client.services.characteristics.values()}
        strap.play(synthetic_rr_messages("c", seed=2, duration_s=60), speed=20.0)
        await wait_until(lambda: len(col.samples) >= 5)
        await col.finish()
        await strap.close()
        assert len(discoveries) == 1 and again == first
        fresh = await EmulatedStrap(name="Emu Known", address=strap.address).start()
        source2 = BleStrap("client", fresh.address, backend=BleBackend.emulated())
        col2 = Collector(source2)
        await wait_until(lambda: len(col2.events(K.CONNECTED)) == 1)
        await col2.finish()
        await fresh.close()
        assert len(discoveries) == 2

    run(scenario())
