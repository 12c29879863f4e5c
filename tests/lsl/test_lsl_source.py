"""The RR outlets and the ``lsl:NAME`` source in one process (loopback, fast)."""

from __future__ import annotations

import asyncio
import json
import math
import os
import time

import pylsl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coreg.errors import InputError
from coreg.sources import parse_src
from devices.lsl import (
    LslSource,
    StrapOutlets,
    beat_times_s,
    parse_event_marker,
    stable_source_id,
)
from devices.types import DeviceEvent, DeviceInfo, EventKind, Message, RRSample


def test_parse_lsl_src() -> None:
    spec = parse_src("lsl:coreg-client")
    assert (spec.kind, spec.target, spec.simulated) == ("lsl", "coreg-client", False)
    with pytest.raises(InputError):
        parse_src("lsl:")


def test_beat_times_end_at_the_arrival() -> None:
    assert beat_times_s(10.0, (500.0, 1000.0)) == pytest.approx([9.0, 10.0])
    assert beat_times_s(3.0, ()) == []


def test_source_id_is_stable_per_strap_and_role() -> None:
    a = stable_source_id("client", "AA:BB")
    assert a == stable_source_id("client", "AA:BB")
    assert a != stable_source_id("therapist", "AA:BB") and "AA:BB" not in a


def _outlets(name: str) -> StrapOutlets:
    info = DeviceInfo(name="H10 test", model="H10", manufacturer="Polar")
    return StrapOutlets(name, "client", info, "AA:BB", "test")


async def _collect(source: LslSource, until: int, timeout_s: float = 30.0) -> list[Message]:
    out: list[Message] = []

    async def run() -> None:
        async for message in source:
            out.append(message)
            if sum(isinstance(m, RRSample) for m in out) >= until:
                await source.stop()

    await asyncio.wait_for(run(), timeout_s)
    return out


def test_beats_cross_once_with_their_stamps_and_a_restart_duplicates_none() -> None:
    name = f"coreg-unit-{os.getpid()}"
    outlets = _outlets(name)
    source = LslSource(name, "client", resolve_wait_s=5.0)
    assert source.info.model == "H10" and source.info.extra["lsl"]["sender_role"] == "client"
    t0 = time.monotonic()
    notes = [RRSample("client", t0 + 0.8 * (i + 1), (800.0,), 75, True) for i in range(6)]
    notes.append(RRSample("client", t0 + 0.8 * 6 + 1.6, (800.0, 800.0), 75, True))

    async def scenario() -> list[Message]:
        task = asyncio.create_task(_collect(source, until=14))
        for _ in range(100):  # until the inlet is open
            await asyncio.sleep(0.05)
            if source.connections:
                break
        await asyncio.sleep(0.3)
        for n in notes:
            outlets.push(n)
        outlets.push(DeviceEvent("client", t0 + 7.0, EventKind.CONTACT_LOST))
        await asyncio.sleep(0.5)
        outlets.close()  # the sender goes away ...
        await asyncio.sleep(1.0)
        again = _outlets(name)  # ... and comes back, re-sending its last two beats
        for _ in range(200):
            await asyncio.sleep(0.05)
            if source.connections == 2:
                break
        await asyncio.sleep(0.3)
        again.push(notes[-1])
        again.push(DeviceEvent("client", t0 + 8.0, EventKind.CONTACT_LOST))
        await asyncio.sleep(0.4)
        for i in range(6):
            again.push(RRSample("client", t0 + 8.0 + 0.8 * (i + 1), (800.0,), 75, False))
        return await task

    messages = asyncio.run(scenario())
    beats = [m for m in messages if isinstance(m, RRSample)]
    assert len(beats) == 14
    assert all(len(b.rr_ms) == 1 for b in beats)
    times = [b.arrival_s for b in beats]
    assert times == sorted(times) and len(set(times)) == 14
    expected = [t for n in notes for t in beat_times_s(n.arrival_s, n.rr_ms)]
    assert times[:8] == pytest.approx(expected, abs=1e-4)
    assert source.duplicates_dropped == 2
    own = [m.kind for m in messages if isinstance(m, DeviceEvent)
           and not m.detail.startswith("sender")]
    assert own[0] is EventKind.CONNECTING and own.count(EventKind.CONNECTED) == 2
    assert own.index(EventKind.DISCONNECTED) < len(own) - 2 and own[-1] is EventKind.STOPPED
    forwarded = [m for m in messages
                 if isinstance(m, DeviceEvent) and m.detail.startswith("sender")]
    assert any(m.kind is EventKind.CONTACT_LOST for m in forwarded)
    assert beats[-1].contact is False  # the sender's contact state marks the beats after it


def test_a_lab_stream_in_seconds_is_read_in_ms() -> None:
    name = f"coreg-unit-ibi-{os.getpid()}"
    info = pylsl.StreamInfo(name, "IBI", 1, pylsl.IRREGULAR_RATE, "float32", "lab-ibi")
    info.set_channel_units(["s"])
    outlet = pylsl.StreamOutlet(info)
    source = LslSource(name, "therapist", resolve_wait_s=5.0)

    async def scenario() -> list[Message]:
        task = asyncio.create_task(_collect(source, until=3))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if source.connections:
                break
        await asyncio.sleep(0.3)
        now = pylsl.local_clock()
        for i, rr_s in enumerate((0.75, 0.8, 0.85)):
            outlet.push_sample([rr_s], now + i)
        return await task

    beats = [m for m in asyncio.run(scenario()) if isinstance(m, RRSample)]
    assert [b.rr_ms[0] for b in beats] == pytest.approx([750.0, 800.0, 850.0], abs=1e-3)
    assert all(b.source_id == "therapist" for b in beats)


@given(st.one_of(st.text(max_size=80), st.none(), st.integers(),
                 st.builds(lambda k, v: json.dumps({"event": k, "value": v}),
                           st.sampled_from([*[str(k) for k in EventKind], "nope"]),
                           st.one_of(st.none(), st.floats(allow_nan=True), st.booleans(),
                                     st.text(max_size=5)))))
def test_event_markers_never_raise(text: object) -> None:
    parsed = parse_event_marker(text)
    if parsed is not None:
        kind, value, detail = parsed
        assert isinstance(kind, EventKind) and isinstance(detail, str)
        assert value is None or math.isfinite(value)


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(-1e6, 1e6))
def test_a_hostile_sample_value_never_becomes_a_bad_beat(value: float, stamp: float) -> None:
    source = LslSource.__new__(LslSource)
    source.source_id, source._offset_s, source._last_beat_s = "client", 0.0, -math.inf
    source.duplicates_dropped = source.bad_values = 0
    beat = source._beat(value, stamp, None, None)
    assert (beat is None) == (source.bad_values == 1)
    if beat is not None:
        assert math.isfinite(beat.rr_ms[0]) and beat.rr_ms[0] > 0 and 0 < beat.hr_bpm <= 65535
