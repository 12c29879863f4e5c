"""devices.ble — the code that talks to real straps — against emulated Bumble peripherals.

Everything runs in-process on one asyncio loop: EmulatedStrap peripherals and the bleak backend
of devices.bumble_backend share a Bumble LocalLink. Notifications are played faster than real
time (one every 50 ms) so the whole module takes a few seconds.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import pytest

from devices import hrm
from devices.ble import BleBackend, BleStrap, EmulatedBleStrap, open_source, scan
from devices.errors import DeviceError
from devices.peripheral import EmulatedStrap, synthetic_rr_messages
from devices.types import DeviceEvent, EventKind, Message, RRSample, Source

SPEED = 20.0  # one notification every 50 ms
K = EventKind
pytestmark = pytest.mark.usefixtures("hang_guard")


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout=60.0))


async def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout_s)


class Collector:
    """Consumes a source in a background task, keeping every message."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.messages: list[Message] = []
        self.task = asyncio.get_running_loop().create_task(self._consume())

    async def _consume(self) -> None:
        async for message in self.source:
            self.messages.append(message)

    @property
    def samples(self) -> list[RRSample]:
        return [m for m in self.messages if isinstance(m, RRSample)]

    @property
    def events(self) -> list[DeviceEvent]:
        return [m for m in self.messages if isinstance(m, DeviceEvent)]

    def kinds(self) -> list[EventKind]:
        return [e.kind for e in self.events]

    def count(self, kind: EventKind) -> int:
        return self.kinds().count(kind)

    async def finish(self) -> None:
        await self.source.stop()
        await asyncio.wait_for(self.task, 10.0)


@dataclass(frozen=True, slots=True)
class Pair:
    source: BleStrap
    peripheral: EmulatedStrap


def assert_samples_consistent(col: Collector, source_id: str) -> None:
    arrivals = [m.arrival_s for m in col.messages]
    assert arrivals == sorted(arrivals)
    for s in col.samples:
        assert s.source_id == source_id
        parsed = hrm.parse(s.payload)
        assert (s.rr_ms, s.hr_bpm, s.contact) == (parsed.rr_ms, parsed.hr_bpm, parsed.contact)


def test_two_straps_scan_stream_drop_reconnect() -> None:
    async def scenario() -> None:
        strap_a = await EmulatedStrap(name="Emu Strap A", model="H-A").start()
        strap_b = await EmulatedStrap(name="Emu Strap B", battery_pct=55, model="H-B").start()
        backend = BleBackend.emulated()

        found = await scan(0.3, backend=backend)
        by_address = {f.address: f for f in found}
        assert set(by_address) == {strap_a.address, strap_b.address}
        assert by_address[strap_a.address].name == "Emu Strap A"
        assert by_address[strap_b.address].model == "H-B"
        assert by_address[strap_b.address].manufacturer == "coreg"
        assert all(f.rssi_dbm is not None for f in found)

        # one by address, one by (partial, case-insensitive) name
        client = BleStrap("client", strap_a.address, backend=backend, backoff_initial_s=0.25)
        therapist = BleStrap("therapist", "emu strap b", backend=backend)
        col_a, col_b = Collector(client), Collector(therapist)
        await wait_until(lambda: col_a.count(K.CONNECTED) == 1 and col_b.count(K.CONNECTED) == 1)
        assert strap_a.subscribed and strap_b.subscribed
        assert client.info.model == "H-A" and client.info.name == "Emu Strap A"
        assert therapist.info.address == strap_b.address

        strap_a.play(synthetic_rr_messages("a", seed=1, duration_s=120), speed=SPEED)
        strap_b.play(synthetic_rr_messages("b", seed=2, duration_s=120), speed=SPEED)
        await wait_until(lambda: len(col_a.samples) >= 10 and len(col_b.samples) >= 10)

        await strap_a.drop(offline_s=0.4)  # out of range for 0.4 s, then advertising again
        await wait_until(lambda: col_a.count(K.CONNECTED) == 2)
        n_after = len(col_a.samples)
        await wait_until(lambda: len(col_a.samples) >= n_after + 10)
        # stop the streams before the sources, so every loss below is the drop's
        await strap_a.stop_playing()
        await strap_b.stop_playing()
        await wait_until(lambda: all(
            strap.source.notifications == sum(e.delivered for e in strap.peripheral.log)
            for strap in (Pair(client, strap_a), Pair(therapist, strap_b))))
        await col_a.finish()
        await col_b.finish()
        await strap_a.close()
        await strap_b.close()

        # events in the right order
        kinds_a = col_a.kinds()
        assert kinds_a[:3] == [K.CONNECTING, K.CONNECTED, K.BATTERY]
        i_drop = kinds_a.index(K.DISCONNECTED)
        assert kinds_a[i_drop + 1 : i_drop + 3] == [K.RECONNECTING, K.CONNECTING]
        i_back = kinds_a.index(K.CONNECTED, i_drop)
        assert set(kinds_a[i_drop + 1 : i_back]) <= {K.RECONNECTING, K.CONNECTING}
        assert kinds_a[i_back + 1] == K.BATTERY
        assert kinds_a[-2:] == [K.DISCONNECTED, K.STOPPED]
        first_wait = next(e for e in col_a.events if e.kind == K.RECONNECTING)
        assert first_wait.value == 0.0  # no blind wait: it scans again at once
        assert col_b.kinds() == [K.CONNECTING, K.CONNECTED, K.BATTERY, K.DISCONNECTED, K.STOPPED]
        battery = {c.source.source_id: [e.value for e in c.events if e.kind == K.BATTERY]
                   for c in (col_a, col_b)}
        assert battery == {"client": [87.0, 87.0], "therapist": [55.0]}
        # samples arrive between the connection events that bracket them
        msgs_a = col_a.messages
        lost_at = msgs_a.index(col_a.events[i_drop])
        back_at = msgs_a.index(col_a.events[i_back])
        assert not any(isinstance(m, RRSample) for m in msgs_a[lost_at:back_at])

        # no notification lost outside the drop
        for col, strap in ((col_a, strap_a), (col_b, strap_b)):
            delivered = [entry.payload for entry in strap.log if entry.delivered]
            assert [s.payload for s in col.samples] == delivered
            assert_samples_consistent(col, col.source.source_id)
            assert col.source.bad_payloads == 0  # type: ignore[attr-defined]
        assert all(entry.delivered for entry in strap_b.log)
        missed = [entry.index for entry in strap_a.log if not entry.delivered]
        assert missed, "the drop should have cost some notifications"
        assert missed == list(range(missed[0], missed[-1] + 1)), "losses outside the drop"
        assert missed[0] > 0 and missed[-1] < len(strap_a.log) - 1
        # RR values are exact multiples of 1000/1024 ms, as sent
        assert all(v * 1024 / 1000 == round(v * 1024 / 1000) for s in col_a.samples
                   for v in s.rr_ms)

    run(scenario())


def test_bad_payloads_counted_and_contact_events() -> None:
    async def scenario() -> None:
        strap = await EmulatedStrap(name="Emu Contact").start()
        source = BleStrap("client", strap.address, backend=BleBackend.emulated())
        col = Collector(source)
        await wait_until(lambda: col.count(K.CONNECTED) == 1)
        payloads = [
            hrm.encode(70, [850.0], contact=True),
            b"\x10\x46\x00",  # RR section with an odd byte
            hrm.encode(71, [845.0], contact=False),
            b"\x01\x46",  # uint16 HR cut short
            hrm.encode(72, [], contact=False),
            hrm.encode(73, [860.0, 870.0], contact=True),
            hrm.encode(74, [880.0], contact=None),  # strap without contact detection
        ]
        for payload in payloads:
            assert await strap.notify(payload)
        await wait_until(lambda: source.notifications == len(payloads))
        await col.finish()
        await strap.close()
        assert source.bad_payloads == 2
        assert [s.hr_bpm for s in col.samples] == [70, 71, 72, 73, 74]
        stream = [m.kind if isinstance(m, DeviceEvent) else m.hr_bpm for m in col.messages]
        i = stream.index(70)
        assert stream[i:i + 7] == [70, K.CONTACT_LOST, 71, 72, K.CONTACT_REGAINED, 73, 74]
        assert col.samples[-1].contact is None

    run(scenario())


def test_reconnect_keeps_scanning_while_the_strap_is_away() -> None:
    """Out of range for 1.5 s: one scan window after another (no blind back-off, which now
    follows failed connects only: tests/devices/test_ble_reconnect.py), then connected; a
    second, brief drop reconnects the same way."""

    async def scenario() -> None:
        strap = await EmulatedStrap(name="Emu Backoff").start()
        source = BleStrap(
            "client", strap.address, backend=BleBackend.emulated(),
            scan_timeout_s=0.15, connect_timeout_s=0.5, backoff_initial_s=0.05,
            backoff_max_s=0.2,
        )
        col = Collector(source)
        await wait_until(lambda: col.count(K.CONNECTED) == 1)
        await strap.drop(offline_s=1.5)
        await wait_until(lambda: col.count(K.CONNECTED) == 2)
        await strap.drop()  # a second, brief drop
        await wait_until(lambda: col.count(K.CONNECTED) == 3)
        await col.finish()
        await strap.close()
        waits = [e.value for e in col.events if e.kind == K.RECONNECTING]
        assert waits and all(w == 0.0 for w in waits)
        failures = [e for e in col.events if e.kind == K.RECONNECTING and "not found" in e.detail]
        assert len(failures) >= 3  # 1.5 s away / 0.15 s windows (fewer when loaded)

    run(scenario())


def test_unknown_strap_keeps_trying_until_stopped() -> None:
    async def scenario() -> None:
        await EmulatedStrap(name="Someone Else").start()
        source = BleStrap("client", "No Such Strap", backend=BleBackend.emulated(),
                          scan_timeout_s=0.1, backoff_initial_s=0.05)
        col = Collector(source)
        await wait_until(lambda: col.count(K.RECONNECTING) >= 2)
        await col.finish()
        kinds = col.kinds()
        assert kinds[0] == K.CONNECTING and kinds[-1] == K.STOPPED
        assert K.CONNECTED not in kinds and not col.samples
        await source.stop()  # idempotent

    run(scenario())


def test_stop_before_iteration_yields_only_stopped() -> None:
    async def scenario() -> None:
        source = BleStrap("client", "AA:BB:CC:DD:EE:FF", backend=BleBackend.emulated())
        await source.stop()
        messages = [m async for m in source]
        assert [m.kind for m in messages if isinstance(m, DeviceEvent)] == [K.STOPPED]

    run(scenario())


def test_consumer_breaking_out_disconnects_cleanly() -> None:
    async def scenario() -> None:
        strap = await EmulatedStrap(name="Emu Break").start()
        strap.play(synthetic_rr_messages(seed=3, duration_s=60), speed=SPEED)
        source = BleStrap("client", strap.address, backend=BleBackend.emulated())
        received = 0
        stream = aiter(source)
        async for message in stream:
            received += isinstance(message, RRSample)
            if received == 3:
                break
        await stream.aclose()  # type: ignore[attr-defined]
        await wait_until(lambda: strap.connection_count == 0, 2.0)
        assert not strap.subscribed
        await strap.close()

    run(scenario())


def test_ble_sim_source_goes_through_the_ble_code() -> None:
    async def scenario() -> None:
        source = open_source("ble-sim", "client", speed=SPEED)
        assert isinstance(source, EmulatedBleStrap) and isinstance(source, Source)
        assert source.info.simulated and source.scenario == "rest"
        col = Collector(source)
        await wait_until(lambda: len(col.samples) >= 5, 20.0)
        assert source.strap is not None and source.peripheral is not None
        await col.finish()
        assert col.kinds()[:2] == [K.CONNECTING, K.CONNECTED]
        assert col.kinds()[-1] == K.STOPPED
        assert source.info.address == source.peripheral.address
        assert_samples_consistent(col, "client")
        assert source.peripheral.connection_count == 0

    run(scenario())


def test_open_source_spellings() -> None:
    coupled = open_source("ble-sim:coupled", "therapist")
    assert isinstance(coupled, EmulatedBleStrap) and coupled.scenario == "coupled"
    assert coupled.info.extra["scenario"] == "coupled"
    by_address = open_source("A0:9E:1A:12:34:56", "client")
    assert isinstance(by_address, BleStrap) and by_address.info.address == "A0:9E:1A:12:34:56"
    by_name = open_source("Polar H10 1234ABCD", "client")
    assert isinstance(by_name, BleStrap) and by_name.info.name == "Polar H10 1234ABCD"
    mac_uuid = open_source("5E2B4F0A-1C3D-4E5F-8A9B-0C1D2E3F4A5B", "client")
    assert mac_uuid.info.address  # a macOS device UUID is an address, not a name
    # the two roles of a dyad scenario are one simulated dyad (same run, one person each);
    # the same one-person scenario for two roles gives two different people
    client = open_source("ble-sim:coupled", "client")
    assert isinstance(client, EmulatedBleStrap) and client.seed == coupled.seed
    ids: dict[str, list[float]] = {}
    for source in (client, coupled):
        first = [m for m in itertools.islice(source._messages(), 40) if isinstance(m, RRSample)]
        assert {m.source_id for m in first} == {source.source_id}
        ids[source.source_id] = [v for m in first for v in m.rr_ms]
    assert ids["client"] != ids["therapist"]
    rest_c, rest_t = open_source("ble-sim", "client"), open_source("ble-sim", "therapist")
    assert isinstance(rest_c, EmulatedBleStrap) and isinstance(rest_t, EmulatedBleStrap)
    assert rest_c.seed != rest_t.seed
    for bad in ("", "  ", "sim", "sim:rest", "ble-sim:no-such-scenario"):
        with pytest.raises(DeviceError):
            open_source(bad, "client")


def test_open_source_simulates_only_what_the_session_needs() -> None:
    short = open_source("ble-sim:rest", "client", duration_s=30.0)
    assert isinstance(short, EmulatedBleStrap)
    assert short.simulation is not None and short.simulation.duration_s == 30.0
    assert max(m.arrival_s for m in short._messages()) <= 31.0
    # A ready run (e.g. the breathing client of coreg breathe) is served as is.
    ready = short.simulation
    served = open_source("ble-sim", "client", simulation=ready, duration_s=999.0)
    assert isinstance(served, EmulatedBleStrap) and served.simulation is ready
    assert (served.scenario, served.seed, served.duration_s) == ("rest", ready.seed, 30.0)


def test_played_stream_can_start_part_way() -> None:
    """``play(from_s=)``: the stream's time ``from_s`` is now; earlier notifications are
    skipped (the strap was not reached yet), later ones keep their timing."""

    async def scenario() -> None:
        air_strap = EmulatedStrap(name="coreg test HR")
        await air_strap.start()
        strap = BleStrap("client", air_strap.address, backend=BleBackend.emulated(air_strap.air),
                         connect_timeout_s=5.0)
        col = Collector(strap)
        await wait_until(lambda: col.count(K.CONNECTED) == 1)
        stream = [RRSample("client", 0.1 * i, (800.0,), 75, True, b"") for i in range(40)]
        task = air_strap.play(stream, speed=4.0, from_s=2.0)
        await asyncio.wait_for(task, 10.0)
        await wait_until(lambda: len(col.samples) >= 20)
        await asyncio.sleep(0.1)
        await col.finish()
        await air_strap.close()
        assert len(col.samples) == 20  # 2.0, 2.1, …, 3.9 s: the first 20 skipped

    run(scenario())


def test_played_stream_acts_out_dropouts_and_battery_changes() -> None:
    """A simulated strap's DISCONNECTED..CONNECTED span takes the emulated strap out of range."""

    def stream() -> list[RRSample | DeviceEvent]:
        out: list[RRSample | DeviceEvent] = []
        for i, sample in enumerate(synthetic_rr_messages("client", seed=4, duration_s=30)):
            t = sample.arrival_s
            if t == 10.0:
                out.append(DeviceEvent("client", 9.5, K.DISCONNECTED, None, "link lost"))
            if t == 18.0:
                out.append(DeviceEvent("client", 17.5, K.CONNECTED))
            if t == 26.0:  # well after the reconnect: notified to the subscriber
                out.append(DeviceEvent("client", 25.5, K.BATTERY, 42.0))
            if not 10.0 <= t < 18.0 or i % 2:  # the strap keeps producing while out of range
                out.append(sample)
        return out

    async def scenario() -> None:
        strap = await EmulatedStrap(name="Emu Dropout").start()
        source = BleStrap("client", strap.address, backend=BleBackend.emulated(),
                          backoff_initial_s=0.05, backoff_max_s=0.1, scan_timeout_s=0.1)
        col = Collector(source)
        await wait_until(lambda: col.count(K.CONNECTED) == 1)
        task = strap.play(stream(), speed=SPEED)
        await asyncio.wait_for(task, 10.0)
        await wait_until(lambda: col.count(K.BATTERY) >= 3)
        await col.finish()
        await strap.close()
        kinds = col.kinds()
        assert kinds.count(K.DISCONNECTED) == 2  # the dropout, then the final stop
        assert kinds.count(K.CONNECTED) == 2
        assert [e.value for e in col.events if e.kind == K.BATTERY] == [87.0, 87.0, 42.0]
        missed = [e.index for e in strap.log if not e.delivered]
        # what was produced out of range (4 samples) and until the central was back: nothing else
        assert missed == list(range(9, 9 + len(missed))) and 4 <= len(missed) < 20
        assert [s.payload for s in col.samples] == [e.payload for e in strap.log if e.delivered]

    run(scenario())


def test_ble_sim_stop_then_break_releases_everything() -> None:
    """The session's pattern: stop() the source, break out, never aclose() the iterator."""

    async def scenario() -> EmulatedBleStrap:
        source = open_source("ble-sim:rest", "therapist", speed=SPEED)
        assert isinstance(source, EmulatedBleStrap)
        samples = 0
        async for message in source:
            samples += isinstance(message, RRSample)
            if samples == 3:
                await source.stop()
                break
        assert source.peripheral is not None
        assert source.peripheral.connection_count == 0  # closed by stop(), not by finalisation
        assert source.strap is not None and source.strap.connections == 1
        return source

    source = run(scenario())
    assert source.info.address and source.info.extra["scenario"] == "rest"


def test_a_strap_already_streaming_gives_connected_before_any_sample() -> None:
    """Notifications that arrive while the connection is being set up (battery read...) come
    after CONNECTED and BATTERY, never before, and times never go backwards."""

    async def scenario() -> None:
        strap = await EmulatedStrap(name="Emu Busy").start()
        strap.play(synthetic_rr_messages(seed=5, duration_s=600), speed=100.0)  # every 10 ms
        source = BleStrap("client", strap.address, backend=BleBackend.emulated())
        col = Collector(source)
        await wait_until(lambda: len(col.samples) >= 20)
        await strap.drop()
        await wait_until(lambda: col.count(K.CONNECTED) == 2)
        n = len(col.samples)
        await wait_until(lambda: len(col.samples) >= n + 20)
        await col.finish()
        await strap.close()
        stream = col.messages
        for i_connected in (i for i, m in enumerate(stream)
                            if isinstance(m, DeviceEvent) and m.kind == K.CONNECTED):
            before = stream[:i_connected]
            last_event = max(i for i, m in enumerate(before) if isinstance(m, DeviceEvent))
            assert not any(isinstance(m, RRSample) for m in before[last_event:])
            nxt = stream[i_connected + 1]
            assert isinstance(nxt, DeviceEvent) and nxt.kind == K.BATTERY
        assert_samples_consistent(col, "client")

    run(scenario())
