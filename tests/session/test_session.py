"""The session layer: recorder first, queue to the consumer, fast mode, markers, clean stop."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from coreg.recording import RecordingWriter, new_header, read_recording
from coreg.session import Session
from coreg.sources import default_specs, parse_src
from devices.types import DeviceEvent, DeviceInfo, EventKind, Message, RRSample


class ListSource:
    """A source replaying a list of messages on a virtual clock (or forever, until stopped)."""

    def __init__(self, source_id: str, messages: list[Message], *, hang: bool = False) -> None:
        self.source_id = source_id
        self.info = DeviceInfo(name=f"list {source_id}", simulated=True)
        self._messages = messages
        self._hang = hang
        self._stop = asyncio.Event()
        self.stopped = False

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        for message in self._messages:
            if self._stop.is_set():
                break
            yield message
            await asyncio.sleep(0)
        if self._hang:
            await self._stop.wait()

    async def stop(self) -> None:
        self.stopped = True
        self._stop.set()


def beats(role: str, rr_ms: float, duration_s: float, offset_s: float = 0.0) -> list[Message]:
    out: list[Message] = [DeviceEvent(role, offset_s, EventKind.CONNECTED, detail=role),
                          DeviceEvent(role, offset_s + 0.01, EventKind.BATTERY, 80.0)]
    t = offset_s + 1.0
    while t <= duration_s:
        out.append(RRSample(role, t + 0.05, (rr_ms,), round(60000 / rr_ms), True, b""))
        t += rr_ms / 1000.0
    return out


def run_fast(session: Session, timeout_s: float = 20.0) -> None:
    session.start()
    deadline = time.monotonic() + timeout_s
    while not session.finished and time.monotonic() < deadline:
        session.poll()
        time.sleep(0.001)
    session.stop("end of test")


def test_parse_src() -> None:
    assert parse_src("sim").target == "coupled"
    assert parse_src("sim:weak").kind == "sim" and parse_src("sim:weak").target == "weak"
    assert parse_src("ble-sim:rest").kind == "ble-sim"
    assert parse_src("AA:BB:CC:DD:EE:FF").kind == "ble"
    specs = default_specs("sim:independent", None)
    assert specs["therapist"].target == "independent"
    assert default_specs("Polar H10 1234", None)["therapist"].kind == "none"


def test_fast_session_records_everything_in_order(tmp_path: Path) -> None:
    client = beats("client", 800.0, 30.0)
    therapist = beats("therapist", 1000.0, 30.0, offset_s=0.3)
    header = new_header("dyad", {"client": {}, "therapist": {}}, start_monotonic_s=0.0)
    writer = RecordingWriter(tmp_path / "s.jsonl", header)
    session = Session({"client": ListSource("client", client),
                       "therapist": ListSource("therapist", therapist)},
                      writer=writer, realtime=False)
    consumed: list[float] = []
    orig = session._consume

    def spy(message: Message) -> None:
        consumed.append(message.arrival_s)
        orig(message)

    session._consume = spy  # type: ignore[method-assign]
    run_fast(session)
    assert consumed == sorted(consumed)  # watermark merge: arrival order across roles
    assert len(consumed) == len(client) + len(therapist)
    rec = read_recording(tmp_path / "s.jsonl")
    assert len(rec.samples) == sum(isinstance(m, RRSample) for m in client + therapist)
    assert rec.end is not None and rec.end["reason"] == "end of test"
    fig = session.view
    assert fig.persons["client"].beats == len(client) - 2
    assert fig.persons["client"].battery_pct == 80.0
    assert fig.persons["client"].connection == "connected"


def test_recorder_writes_before_consumer(tmp_path: Path) -> None:
    """Messages are on disk even if the consumer never polls."""
    msgs = beats("client", 900.0, 10.0)
    header = new_header("dyad", {"client": {}}, start_monotonic_s=0.0)
    writer = RecordingWriter(tmp_path / "r.jsonl", header)
    session = Session({"client": ListSource("client", msgs)}, writer=writer, realtime=False)
    session.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = (tmp_path / "r.jsonl").read_text().splitlines()
        if len(lines) == 1 + len(msgs):
            break
        time.sleep(0.01)
    assert len(lines) == 1 + len(msgs)
    assert session.messages_seen == 0
    session.stop()
    assert session.messages_seen == len(msgs)


def test_stop_mid_session_stops_sources_and_closes(tmp_path: Path) -> None:
    src = ListSource("client", beats("client", 1000.0, 5.0), hang=True)
    header = new_header("dyad", {"client": {}}, start_monotonic_s=0.0)
    writer = RecordingWriter(tmp_path / "m.jsonl", header)
    session = Session({"client": src}, writer=writer, realtime=False)
    session.start()
    time.sleep(0.2)
    session.poll()
    session.mark("client laughed")
    session.stop("window closed")
    assert src.stopped
    assert not session._thread.is_alive()  # type: ignore[union-attr]
    lines = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert lines[-1]["type"] == "end" and lines[-1]["reason"] == "window closed"
    markers = [x for x in lines if x["type"] == "marker"]
    assert markers and markers[0]["note"] == "client laughed"
    assert session.view.markers[0][1] == "client laughed"


def test_failing_source_does_not_stop_the_session() -> None:
    class Broken(ListSource):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            yield DeviceEvent("therapist", 0.5, EventKind.CONNECTED)
            raise RuntimeError("radio on fire")

    session = Session({"client": ListSource("client", beats("client", 900.0, 20.0)),
                       "therapist": Broken("therapist", [])}, realtime=False)
    run_fast(session)
    fig = session.view
    assert fig.persons["therapist"].connection == "failed"
    assert "radio on fire" in fig.persons["therapist"].error
    assert fig.persons["client"].beats > 15


@pytest.mark.parametrize("speed", [50.0])
def test_speed_paces_the_virtual_clock(speed: float) -> None:
    session = Session({"client": ListSource("client", beats("client", 1000.0, 10.0))},
                      realtime=False, speed=speed)
    session.start()
    session.poll()
    assert session.elapsed_s() < 9.0  # not everything at once
    run_deadline = time.monotonic() + 10
    while not session.finished and time.monotonic() < run_deadline:
        session.poll()
        time.sleep(0.005)
    session.stop()
    assert session.elapsed_s() >= 9.0


def _fast_figures(seed: int):  # type: ignore[no-untyped-def]
    from coreg.session import open_session

    session, _ = open_session("sim:coupled", None, duration_s=150.0, seed=seed, realtime=False,
                              record=False)
    run_fast(session, timeout_s=60.0)
    return session.view


def test_fast_mode_is_deterministic() -> None:
    """Same simulated straps → the same figures, whatever the thread timing (replay == live)."""
    import numpy as np

    a, b = _fast_figures(1), _fast_figures(1)
    assert a.elapsed_s == b.elapsed_s == 150.0
    for role in ("client", "therapist"):
        pa, pb = a.persons[role], b.persons[role]
        assert pa.rmssd.value is not None and pa.rmssd.value == pb.rmssd.value
        np.testing.assert_array_equal(pa.rmssd_trend_ms, pb.rmssd_trend_ms)
        np.testing.assert_array_equal(pa.hr_curve_bpm, pb.hr_curve_bpm)
    assert a.sync is not None and b.sync is not None
    assert len(a.sync.r) > 10
    np.testing.assert_array_equal(a.sync.r, b.sync.r)
    c = _fast_figures(4)
    assert c.persons["client"].rmssd.value != a.persons["client"].rmssd.value


def test_sync_text_before_the_chance_band_is_known() -> None:
    import dataclasses

    import numpy as np

    from coreg.session.display import effect_text, leader_text
    from coreg.session.figures import SyncFigures

    e = np.empty(0)
    base = SyncFigures(t_s=e, r=e, mean_t_s=e, mean_r=e, chance_lo=e, chance_hi=e,
                       breathing_t_s=e, breathing_r=e, state="not enough data",
                       leader="therapist", lag_s=2.0, lag_uncertainty_s=None, effect_size=None,
                       p_value=None, current_r=None, current_chance_s=None,
                       pct_time_in_sync=None, breathing_state="not enough data",
                       windows_have=0, windows_need=12)
    assert effect_text(base) == ("collecting the first 30 s window · "
                                 "chance band: collecting 0/12 windows")
    early = dataclasses.replace(base, current_r=0.81, windows_have=9)
    assert effect_text(early).startswith("r now 0.81, not yet comparable with chance")
    assert "9/12" in effect_text(early)
    assert leader_text(early) == "leader: not enough data"  # no leader before chance is known
    due = dataclasses.replace(early, windows_have=14)
    assert "chance band: at the next baseline update" in effect_text(due)
    known = dataclasses.replace(due, chance_known=True, state="in sync", effect_size=4.2,
                                p_value=0.01)
    assert leader_text(known) == "therapist leads by 2.0 s"
    assert effect_text(known).startswith("effect size +4.2")


def test_long_plots_grow_with_the_session() -> None:
    import pytest as _pytest

    ui = _pytest.importorskip("coreg.ui.panels")
    assert ui.visible_span_s(10.0, 600.0) == 120.0
    assert ui.visible_span_s(120.0, 600.0) == 180.0
    assert ui.visible_span_s(590.0, 600.0) == 600.0
    assert ui.visible_span_s(3600.0, 600.0) == 600.0
