"""Named scenarios: determinism, ground truth, dyad coupling, async sources."""

from __future__ import annotations

import asyncio
import json
import time

import numpy as np
import pytest
from scipy.interpolate import CubicSpline
from scipy.signal import butter, filtfilt

from devices.sim import SCENARIOS, PersonParams, SimulationRun, simulate, simulate_people
from devices.types import DeviceEvent, DeviceInfo, EventKind, RRSample, Source

REQUIRED = ("rest", "independent", "coupled", "weak", "paced", "switching", "artifacts", "dropout")


def test_required_scenarios_and_roles() -> None:
    for name in REQUIRED:
        assert name in SCENARIOS
    assert simulate("rest", 30.0, 1).roles == ("client",)
    for name in REQUIRED[1:]:
        assert SCENARIOS[name].roles == ("client", "therapist")
        assert simulate(name, 30.0, 1).roles == ("client", "therapist")
    with pytest.raises(KeyError, match="unknown scenario"):
        simulate("nope", 30.0, 1)


def test_same_seed_same_messages_different_seed_different() -> None:
    a = list(simulate("artifacts", 300.0, 5).messages())
    b = list(simulate("artifacts", 300.0, 5).messages())
    c = list(simulate("artifacts", 300.0, 6).messages())
    assert a == b
    assert a != c
    assert simulate("dropout", 120.0, 5).truth == simulate("dropout", 120.0, 5).truth


def test_messages_are_merged_in_arrival_order() -> None:
    run = simulate("coupled", 120.0, 2)
    msgs = list(run.messages())
    t = [m.arrival_s for m in msgs]
    assert t == sorted(t)
    assert t[0] == 0.0
    assert {m.source_id for m in msgs} == {"client", "therapist"}
    stops = [m for m in msgs if isinstance(m, DeviceEvent) and m.kind is EventKind.STOPPED]
    assert [s.source_id for s in stops] == ["client", "therapist"]
    assert all(s.arrival_s == 120.0 for s in stops)
    assert msgs[-2:] == stops


def test_truth_is_json_and_complete() -> None:
    run = simulate("switching", 700.0, 3)
    truth = run.truth
    assert json.loads(json.dumps(truth)) == truth
    for key in ("scenario", "seed", "duration_s", "coupling", "lag_s", "leader",
                "coupling_intervals", "breathing_rate_bpm", "resonance_rate_bpm", "mean_hr_bpm",
                "artifacts", "contact_loss", "disconnects"):
        assert key in truth
    assert truth["scenario"] == "switching" and truth["seed"] == 3
    assert truth["coupling"] == 0.7 and truth["lag_s"] == 3.0 and truth["leader"] == "therapist"
    assert truth["coupling_intervals"] == [[120.0, 300.0], [480.0, 660.0]]
    for role in run.roles:
        assert set(truth["artifacts"][role]) >= {"ectopic", "missed", "extra"}
        assert 4.5 <= truth["resonance_rate_bpm"][role] <= 6.5
    indep = simulate("independent", 60.0, 3).truth
    assert indep["coupling"] == 0.0 and indep["leader"] is None and indep["lag_s"] is None
    paced = simulate("paced", 60.0, 3).truth
    assert paced["breathing_rate_bpm"] == {"client": 6.0, "therapist": 6.0}
    weak = simulate("weak", 60.0, 3).truth
    assert weak["coupling"] == 0.4 and weak["lag_s"] == 3.0


def test_two_people_differ_and_info() -> None:
    run = simulate("independent", 300.0, 4)
    hr = run.truth["mean_hr_bpm"]
    br = run.truth["breathing_rate_bpm"]
    assert hr["client"] != hr["therapist"]
    assert br["client"] != br["therapist"]
    for role in run.roles:
        assert 10.0 <= br[role] <= 16.0
        beats = run.beats[role]
        assert abs(60000.0 / beats.rr_ms.mean() - hr[role]) < 1.0
        info = run.info[role]
        assert isinstance(info, DeviceInfo) and info.simulated
        assert info.name == f"Simulated H10 ({role})"
    # The same seed gives the same people in every dyad scenario.
    assert simulate("coupled", 300.0, 4).truth["mean_hr_bpm"] == hr


# --- dyad coupling -------------------------------------------------------------------------------


def beats_from_messages(run: SimulationRun, role: str) -> tuple[np.ndarray, np.ndarray]:
    """Beat times rebuilt as an app would from a gap-free stream: the RR running sum, shifted so
    that the newest beat of the quickest notification coincides with its arrival."""
    rr: list[float] = []
    last: list[int] = []
    arrival: list[float] = []
    for m in run.messages_for(role):
        if isinstance(m, RRSample) and m.rr_ms:
            rr.extend(m.rr_ms)
            last.append(len(rr) - 1)
            arrival.append(m.arrival_s)
    rr_ms = np.array(rr)
    t = np.cumsum(rr_ms) / 1000.0
    return t + np.min(np.array(arrival) - t[last]), rr_ms


def slow_hr(run: SimulationRun, role: str, grid: np.ndarray) -> np.ndarray:
    t, rr = beats_from_messages(run, role)
    hr = CubicSpline(t - rr / 2000.0, 60000.0 / rr)(grid)
    b, a = butter(4, 0.15 / 2.0)  # 0.15 Hz low-pass at 4 Hz
    return filtfilt(b, a, hr)


def mean_window_xcorr(run: SimulationRun, t0: float = 0.0, t1: float = np.inf,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Window-averaged cross-correlation (30 s windows, 5 s step, ±5 s lags; Boker et al. 2002).

    Positive lag: the client follows the therapist.
    """
    grid = np.arange(max(10.0, t0), min(run.duration_s - 10.0, t1), 0.25)
    x, y = slow_hr(run, "therapist", grid), slow_hr(run, "client", grid)
    win, step, max_lag = 120, 20, 20
    lags = np.arange(-max_lag, max_lag + 1)
    curves = [[np.corrcoef(x[s:s + win], y[s + k:s + k + win])[0, 1] for k in lags]
              for s in range(max_lag, len(x) - win - max_lag, step)]
    return lags / 4.0, np.mean(curves, axis=0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_coupled_dyad_peaks_near_plus_3_s(seed: int) -> None:
    lag_s, r = mean_window_xcorr(simulate("coupled", 1200.0, seed))
    assert lag_s[np.argmax(r)] == pytest.approx(3.0, abs=1.0)
    assert r.max() > 0.45


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_independent_dyad_has_no_strong_peak(seed: int) -> None:
    _, r = mean_window_xcorr(simulate("independent", 1200.0, seed))
    assert r.max() < 0.3


def test_switching_coupling_is_stronger_in_on_intervals() -> None:
    run = simulate("switching", 1080.0, 2)
    lag_s, on = mean_window_xcorr(run, 130.0, 300.0)
    _, off = mean_window_xcorr(run, 310.0, 480.0)
    k = int(np.argmin(np.abs(lag_s - 3.0)))
    assert on[k] > off[k] + 0.25


def test_paced_dyad_correlates_through_the_pacer_alone() -> None:
    lag_s, r = mean_window_xcorr(simulate("paced", 600.0, 1))
    # docs/science.md §5: same pacer → high r, no coupling. The peak sits within ±2 s of 0, not
    # at 0:
    # each person's HR phase relative to breathing depends on their own resonance (closed-loop
    # baroreflex, up to ~±45° at 6/min), here 6.47 vs 5.51/min → HR about 1.5 s apart.
    near = np.abs(lag_s) <= 2.0
    assert r[near].max() > 0.6


# --- async sources -------------------------------------------------------------------------------


async def _drain(source: Source, stop_after: int | None = None) -> list:
    out = []
    async for m in source:
        out.append(m)
        if stop_after is not None and len(out) == stop_after:
            await source.stop()
    return out


def test_virtual_sources_yield_the_messages_shifted() -> None:
    run = simulate("coupled", 200.0, 1)
    sources = run.sources(realtime=False, start_s=1000.0)
    assert set(sources) == {"client", "therapist"}
    for role, src in sources.items():
        assert isinstance(src, Source)
        assert src.source_id == role and src.info == run.info[role]

    async def both() -> list:
        return await asyncio.gather(*(_drain(s) for s in sources.values()))

    got = asyncio.run(both())
    for role, msgs in zip(sources, got, strict=True):
        expected = run.messages_for(role)
        assert len(msgs) == len(expected)
        for a, b in zip(msgs, expected, strict=True):
            assert a.arrival_s == pytest.approx(1000.0 + b.arrival_s)
            assert type(a) is type(b) and a.source_id == b.source_id


def test_stop_ends_a_source_with_a_stopped_event() -> None:
    run = simulate("rest", 200.0, 1)
    msgs = asyncio.run(_drain(run.sources()["client"], stop_after=20))
    assert len(msgs) == 21
    assert isinstance(msgs[-1], DeviceEvent) and msgs[-1].kind is EventKind.STOPPED


def test_realtime_source_paces_on_the_monotonic_clock() -> None:
    run = simulate_people({"client": PersonParams()}, 2.5, 1)
    src = run.sources(realtime=True)["client"]
    before = time.monotonic()
    msgs = asyncio.run(_drain(src))
    assert len(msgs) == len(run.messages_for("client"))
    t = [m.arrival_s for m in msgs]
    assert t == sorted(t) and t[0] >= before
    # Sleeps never end early: the last message cannot come before its simulated time.
    assert t[-1] - before >= 2.5 - 0.05
    assert msgs[-1].kind is EventKind.STOPPED


def test_realtime_stop_wakes_a_waiting_source() -> None:
    run = simulate("rest", 600.0, 1)
    src = run.sources(realtime=True)["client"]

    async def go() -> list:
        task = asyncio.create_task(_drain(src))
        await asyncio.sleep(0.3)  # the source now waits for CONNECTED at 1.2 s
        await src.stop()
        return await asyncio.wait_for(task, timeout=5.0)

    msgs = asyncio.run(go())
    assert [m.kind for m in msgs] == [EventKind.CONNECTING, EventKind.STOPPED]
