"""Replay: a recording fed back through the live analysis gives the live session's figures."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

from coreg.errors import InputError
from coreg.recording import read_recording
from coreg.recording.replay import ReplayCursor, replay_messages
from coreg.session import open_session
from coreg.session.clock import parse_speed
from coreg.session.figures import SessionFigures
from coreg.session.replay import SPEEDS, ReplaySession
from devices.types import RRSample

DURATION_S = 300.0  # the synchrony block (36 windows) completes at ~220 s


def _live(path: Path) -> tuple[SessionFigures, dict[str, np.ndarray]]:
    session, _ = open_session("sim:coupled", None, duration_s=DURATION_S, realtime=False,
                              path=path)
    session.start()
    deadline = time.monotonic() + 60.0
    marked = False
    while not session.finished and time.monotonic() < deadline:
        session.poll()
        if not marked and session.elapsed_s() >= 90.0:
            session.mark("breath")
            marked = True
        time.sleep(0.001)
    session.stop("end of test")
    assert marked
    beats = {r: _per_beat(session.analysis, r) for r in session.roles}
    return session.view, beats


def _per_beat(analysis: object, role: str) -> np.ndarray:
    """The engine's corrected beats (time, RR) — the per-beat series every metric is built on."""
    engine = analysis._tracks[role].engine  # type: ignore[attr-defined]
    nn = engine.nn()
    return np.column_stack([np.asarray(nn.t_s, float), np.asarray(nn.rr_ms, float)])


@pytest.fixture(scope="module")
def live_and_replay(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("replay") / "live.jsonl"
    live_view, live_beats = _live(path)
    replay = ReplaySession(read_recording(path), speed=math.inf)
    replay.start()
    replay.run_to_end()
    replay_beats = {r: _per_beat(replay.analysis, r) for r in replay.roles}
    return live_view, live_beats, replay, replay_beats


def _close(a: np.ndarray, b: np.ndarray) -> None:
    # Stored times are rounded to microseconds (recording format), so values may differ in the
    # last bits; both NaN patterns and the numbers to 1e-6 must match.
    n = min(len(a), len(b))
    assert n > 0
    assert abs(len(a) - len(b)) <= 1
    np.testing.assert_array_equal(np.isnan(a[:n]), np.isnan(b[:n]))
    np.testing.assert_allclose(a[:n], b[:n], rtol=1e-6, atol=1e-6, equal_nan=True)


def test_replay_equals_live_per_beat(live_and_replay) -> None:  # type: ignore[no-untyped-def]
    live_view, live_beats, replay, replay_beats = live_and_replay
    view = replay.view
    assert set(view.persons) == set(live_view.persons) == {"client", "therapist"}
    for role in view.persons:
        a, b = live_beats[role], replay_beats[role]
        assert len(a) == len(b) > 150
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-6)
        lp, rp = live_view.persons[role], view.persons[role]
        _close(lp.hr_curve_bpm, rp.hr_curve_bpm)
        _close(lp.rmssd_trend_ms, rp.rmssd_trend_ms)
        _close(lp.coherence_trend, rp.coherence_trend)
        assert lp.beats == rp.beats
        # what the window shows, number for number
        for name in ("rmssd", "coherence", "lf_hf"):
            lv, rv = getattr(lp, name).value, getattr(rp, name).value
            assert (lv is None) == (rv is None)
            if lv is not None:
                assert f"{lv:.2f}" == f"{rv:.2f}"
    ls, rs = live_view.sync, view.sync
    assert ls is not None and rs is not None
    assert len(rs.r) > 10
    _close(ls.r, rs.r)
    _close(ls.mean_r, rs.mean_r)
    assert ls.state == rs.state
    # what the verdict said at each update (the strip under the synchrony plot)
    assert len(rs.verdict_code) > 10
    _close(ls.verdict_t_s, rs.verdict_t_s)
    _close(ls.verdict_code, rs.verdict_code)
    # the marker dropped live is replayed at its time
    assert len(view.markers) == 1 and view.markers[0][1] == "breath"
    assert view.markers[0][0] == pytest.approx(live_view.markers[0][0], abs=1e-5)


def test_messages_in_arrival_order(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    _live_short(path)
    rec = read_recording(path)
    msgs = replay_messages(rec)
    times = [m.arrival_s for m in msgs]
    assert times == sorted(times)
    assert sum(isinstance(m, RRSample) for m in msgs) == len(rec.samples)
    assert len(msgs) == len(rec.samples) + len(rec.events)


def _live_short(path: Path) -> None:
    session, _ = open_session("sim:coupled", None, duration_s=40.0, realtime=False, path=path)
    session.start()
    deadline = time.monotonic() + 30.0
    while not session.finished and time.monotonic() < deadline:
        session.poll()
        time.sleep(0.001)
    session.mark("end")
    session.stop("end of test")


def test_transport_play_pause_seek_marker(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    _live_short(path)
    now = [0.0]
    replay = ReplaySession(read_recording(path), speed=4.0, clock=lambda: now[0])
    replay.start()
    now[0] = 2.0
    replay.poll()
    assert replay.now_s() == pytest.approx(8.0)  # 2 s at 4×
    replay.pause()
    now[0] = 5.0
    replay.poll()
    assert replay.now_s() == pytest.approx(8.0)  # paused: the clock stands
    replay.seek(20.0)
    replay.poll()
    assert replay.now_s() == pytest.approx(20.0)
    beats_at_20 = replay.view.persons["client"].beats
    replay.seek(5.0)  # backwards: rebuilt from the start
    replay.poll()
    assert replay.now_s() == pytest.approx(5.0)
    assert replay.view.persons["client"].beats < beats_at_20
    t = replay.jump_marker()
    assert t is not None and t == pytest.approx(replay.recording.markers[0].t_s)
    replay.poll()
    assert replay.now_s() == pytest.approx(t)
    assert len(replay.view.markers) == 1
    replay.seek(1e9)
    replay.poll()
    assert replay.at_end and not replay.playing


def test_cursor_limits_batches(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    _live_short(path)
    cursor = ReplayCursor(read_recording(path))
    step = cursor.advance_to(1e9, max_messages=3)
    assert len(step.messages) == 3
    assert cursor.position_s == step.messages[-1].arrival_s
    assert not cursor.done


def test_parse_speed_is_one_path_for_live_and_replay() -> None:
    assert parse_speed(None) is None
    assert parse_speed("max") == parse_speed(" MAX ") == math.inf
    assert parse_speed("4", choices=SPEEDS) == 4.0
    assert parse_speed("3") == 3.0  # live: any positive multiple
    for bad, choices in (("3", SPEEDS), ("0", None), ("-2", None), ("fast", None)):
        with pytest.raises(InputError) as err:
            parse_speed(bad, choices=choices)
        assert "\n" not in str(err.value)
