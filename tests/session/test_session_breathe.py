"""A breathing session on the session runner (no Qt): the emulated BLE strap drops out and
comes back; the session records the drop, reconnects, keeps the pacer and ends cleanly."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from coreg.engine.pacer import practice_schedule
from coreg.errors import InputError
from coreg.recording import read_recording
from coreg.session.breathe import open_breathe_session


def _poll_until(session, elapsed_s: float, limit_s: float = 30.0) -> None:
    t0 = time.monotonic()
    while session.elapsed_s() < elapsed_s and not session.finished:
        session.poll()
        time.sleep(0.01)
        assert time.monotonic() - t0 < limit_s, "session did not advance"


def test_emulated_strap_drop_and_reconnect_in_a_breathing_session(tmp_path: Path) -> None:
    bs = open_breathe_session("ble-sim", practice_schedule(6.0), 90.0, tmp_path, seed=5,
                              speed=20.0)
    session, analysis = bs.session, bs.analysis
    session.start()
    try:
        _poll_until(session, 20.0)
        assert analysis.device_state == ""  # connected: nothing to say
        strap = session.sources["client"]
        loop = session._loop
        asyncio.run_coroutine_threadsafe(strap.peripheral.go_offline(), loop).result(5)
        _poll_until(session, 30.0)
        assert "reconnect" in analysis.device_state.lower() \
            or "out of reach" in analysis.device_state
        asyncio.run_coroutine_threadsafe(strap.peripheral.come_online(), loop).result(5)
        _poll_until(session, 90.0)
    finally:
        session.stop("duration reached")
    kinds = [e.kind.value for e in analysis.events]
    drop = kinds.index("disconnected")
    assert kinds[:2] == ["connecting", "connected"]
    assert "reconnecting" in kinds[drop:] and "connected" in kinds[drop + 1:]
    rec = read_recording(session.recording_path)
    assert [e.kind.value for e in rec.events][:len(kinds)] == kinds
    t_drop = rec.events[[e.kind.value for e in rec.events].index("disconnected")].arrival_s
    after = [s for s in rec.samples if s.arrival_s > t_drop]
    assert len(after) > 10  # beats again after the reconnect
    assert rec.end is not None and rec.end["reason"] == "duration reached"
    assert rec.pacer[0].rate_bpm == 6.0
    assert analysis.run.now_s == pytest.approx(90.0, abs=1.5)


def test_speed_that_a_source_cannot_honour_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not max"):
        open_breathe_session("ble-sim", practice_schedule(6.0), 60.0, tmp_path,
                             speed=float("inf"))
    with pytest.raises(InputError, match="only with the simulated client"):
        open_breathe_session("AA:BB:CC:DD:EE:FF", practice_schedule(6.0), 60.0, tmp_path,
                             speed=10.0)
    assert not list(tmp_path.glob("*.jsonl"))
