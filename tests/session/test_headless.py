"""The one headless runner (coreg.session.headless) and the one --speed → clock path
(coreg.session.clock)."""

from __future__ import annotations

import math
import os
import signal

import pytest

from coreg.errors import InputError
from coreg.session.clock import ScaledClock, SpeedPlan, parse_speed, speed_plan
from coreg.session.figures import SessionFigures
from coreg.session.headless import Cadence, Ending, Pacing, failure_lines, run_headless


class FakePlayback:
    """Records what the runner asks of it; each poll consumes ``per_poll`` messages."""

    roles = ("client",)
    error = ""

    def __init__(self, per_poll: int = 1) -> None:
        self.calls: list[str] = []
        self.per_poll = per_poll
        self.polls = 0
        self.stopped_with: str | None = None

    def start(self) -> None:
        self.calls.append("start")

    def poll(self, *, max_messages: int | None = None, final: bool = False) -> int:
        self.polls += 1
        self.calls.append(f"poll({max_messages})")
        return self.per_poll

    def sync_recording(self) -> None:
        self.calls.append("sync")

    def stop(self, reason: str = "stopped") -> None:
        self.calls.append(f"stop({reason})")
        self.stopped_with = reason

    # The rest of the Playback protocol (unused by the runner).
    def now_s(self) -> float:
        return float(self.polls)

    def elapsed_s(self) -> float:
        return float(self.polls)

    def begin_recording(self) -> None:
        raise RuntimeError

    def mark(self, note: str = "", role: str | None = None, at_s: float | None = None) -> None:
        return None

    realtime = True
    finished = False
    previewing = False
    reached_duration = False
    recording_path = None

    @property
    def view(self) -> SessionFigures:
        return SessionFigures(elapsed_s=float(self.polls), persons={}, sync=None)


class FakeView:
    def __init__(self, playback: FakePlayback, *, end_after: int, begin_ends: bool = False,
                 raise_in_tick: BaseException | None = None) -> None:
        self.playback = playback
        self.end_after = end_after
        self.begin_ends = begin_ends
        self.raise_in_tick = raise_in_tick
        self.finished_with: Ending | None = None

    def begin(self) -> Ending | None:
        self.playback.calls.append("begin")
        return Ending("at once") if self.begin_ends else None

    def tick(self) -> Ending | None:
        self.playback.calls.append("tick")
        if self.raise_in_tick is not None and self.playback.polls == 2:
            raise self.raise_in_tick
        return Ending("done", 0) if self.playback.polls >= self.end_after else None

    def finish(self, ending: Ending) -> int:
        self.playback.calls.append(f"finish({ending.reason})")
        self.finished_with = ending
        return ending.code or 7


def test_the_runner_starts_polls_ticks_and_stops_with_the_views_reason() -> None:
    pb = FakePlayback()
    view = FakeView(pb, end_after=2)
    code = run_headless(pb, view, Pacing(0.0, max_messages=10))
    assert pb.calls == ["start", "begin", "poll(10)", "sync", "tick", "poll(10)", "sync", "tick",
                        "stop(done)", "finish(done)"]
    assert code == 7  # the view's exit code


def test_a_view_can_end_the_session_before_the_first_poll() -> None:
    pb = FakePlayback()
    run_headless(pb, FakeView(pb, end_after=99, begin_ends=True), Pacing(0.0))
    assert pb.calls == ["start", "begin", "stop(at once)", "finish(at once)"]


def test_resting_follows_the_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("coreg.session.headless.time.sleep", slept.append)
    busy = FakePlayback(per_poll=3)
    run_headless(busy, FakeView(busy, end_after=3), Pacing(0.25))
    assert slept == [0.25, 0.25]  # not after the step that ended it
    slept.clear()
    run_headless(busy := FakePlayback(per_poll=3), FakeView(busy, end_after=3),
                 Pacing(0.25, rest_when_busy=False))
    assert slept == []  # busy steps follow each other at once
    idle = FakePlayback(per_poll=0)
    run_headless(idle, FakeView(idle, end_after=3), Pacing(0.25, rest_when_busy=False))
    assert slept == [0.25, 0.25]
    run_headless(idle := FakePlayback(), FakeView(idle, end_after=3), Pacing(0.0))
    assert slept == [0.25, 0.25]  # rest 0: never sleeps


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_stops_the_session_as_interrupted_with_128_plus_signal(signum: int) -> None:
    pb = FakePlayback()

    class Signalling(FakeView):
        def tick(self) -> Ending | None:
            if pb.polls == 2:
                os.kill(os.getpid(), signum)
            return super().tick()

    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    view = Signalling(pb, end_after=99)
    code = run_headless(pb, view, Pacing(0.0))
    assert pb.stopped_with == "interrupted"
    assert view.finished_with == Ending("interrupted", 128 + signum)
    assert code == 128 + signum
    assert pb.polls == 2
    # Asked to stop: the process is on its way out and keeps ignoring further signals.
    assert signal.getsignal(signum) is not before[signum]
    for s, handler in before.items():
        signal.signal(s, handler)


def test_an_error_below_still_stops_the_session_and_propagates() -> None:
    pb = FakePlayback()
    with pytest.raises(ZeroDivisionError):
        run_headless(pb, FakeView(pb, end_after=99, raise_in_tick=ZeroDivisionError()),
                     Pacing(0.0))
    assert pb.stopped_with == "stopped"
    assert not any(c.startswith("finish") for c in pb.calls)


def test_cadence_relative_and_on_grid() -> None:
    rel = Cadence(30.0)
    assert [t for t in (0.0, 10.0, 31.0, 60.0, 61.0, 90.0, 95.0) if rel.due(t)] == [0.0, 31.0,
                                                                                   61.0, 95.0]
    grid = Cadence(30.0, on_grid=True)
    assert [t for t in (0.0, 10.0, 38.0, 60.0, 68.0, 95.0) if grid.due(t)] == [0.0, 38.0,
                                                                                  60.0, 95.0]
    late = Cadence(30.0, next_s=100.0, on_grid=True)
    assert not late.due(99.9) and late.due(100.0) and late.next_s == 130.0


def test_failure_lines_say_each_strap_once_and_pick_the_exit_code() -> None:
    lines, code = failure_lines("coreg live", {"client": "gone", "therapist": "no adapter"})
    assert lines == ["coreg live: the client strap failed: gone",
                     "coreg live: the therapist strap failed: no adapter"]
    assert code == 2
    lines, code = failure_lines("coreg breathe", {"client": "gone"}, name_roles=False)
    assert lines == ["coreg breathe: the strap failed: gone"] and code == 2
    lines, code = failure_lines("coreg live", {}, ["RuntimeError: x", "KeyError: y"])
    assert lines == ["coreg live: 2 unhandled error(s) in the strap code; first: RuntimeError: x"]
    assert code == 1
    lines, code = failure_lines("coreg live", {"client": "gone"}, ["RuntimeError: x"])
    assert len(lines) == 2 and code == 2  # the strap decides the code
    assert failure_lines("coreg live", {}) == ([], 0)


@pytest.mark.parametrize(("speed", "kinds", "screenshot", "plan"), [
    (None, {"sim"}, False, SpeedPlan(None, True, None, None)),
    (1.0, {"sim", "none"}, False, SpeedPlan(1.0, True, None, None)),
    (None, {"sim"}, True, SpeedPlan(math.inf, False, None, None)),  # screenshot: max
    (math.inf, {"sim"}, False, SpeedPlan(math.inf, False, None, None)),
    (8.0, {"sim"}, False, SpeedPlan(8.0, False, 8.0, None)),
    (20.0, {"ble-sim"}, False, SpeedPlan(20.0, True, None, 20.0)),
    (1.0, {"ble-sim"}, False, SpeedPlan(1.0, True, None, None)),
    (None, {"ble-sim"}, True, SpeedPlan(None, True, None, None)),  # the BLE stack: real time
    (None, {"ble"}, True, SpeedPlan(None, True, None, None)),
    (1.0, {"ble", "lsl"}, False, SpeedPlan(1.0, True, None, None)),  # real time is real time
    (None, {"none"}, False, SpeedPlan(None, True, None, None)),
])
def test_speed_plan(speed: float | None, kinds: set[str], screenshot: bool,
                    plan: SpeedPlan) -> None:
    assert speed_plan(speed, kinds, screenshot=screenshot) == plan


@pytest.mark.parametrize(("speed", "kinds", "message"), [
    (10.0, {"ble"}, "only with simulated straps"),
    (10.0, {"lsl"}, "only with simulated straps"),
    (10.0, {"sim", "ble-sim"}, "all of one kind"),
    (math.inf, {"ble-sim"}, "not max"),
])
def test_speed_plan_refuses_what_the_sources_cannot_honour(speed: float, kinds: set[str],
                                                           message: str) -> None:
    with pytest.raises(InputError, match=message):
        speed_plan(speed, kinds)
    with pytest.raises(InputError, match=message if message == "not max"
                       else "only with the client"):
        speed_plan(speed, kinds, only_with="the client")


def test_the_plans_clock() -> None:
    assert speed_plan(None, {"sim"}).clock() is not None
    clock = speed_plan(20.0, {"ble-sim"}).clock()
    assert isinstance(clock, ScaledClock) and clock.speed == 20.0
    assert speed_plan(math.inf, {"sim"}).fast and not speed_plan(8.0, {"sim"}).fast
    assert parse_speed("max") == math.inf
