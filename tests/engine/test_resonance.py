"""Resonance-frequency assessment criteria, ranking, and the practice run on a simulated client."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coreg.engine.pacer import PacerStep, assessment_schedule, practice_schedule
from coreg.engine.resonance import (
    BreatheRun,
    CoherencePoint,
    StepMeasure,
    coherence_level,
    fit_peak_rate,
    measure_step,
    rank_steps,
    summarize,
)
from devices.sim.breathing_client import breathing_client


def _beats(hr_fn, duration_s: float) -> tuple[np.ndarray, np.ndarray]:
    t, ts, rrs = 0.0, [], []
    while t < duration_s:
        rr = 60000.0 / hr_fn(t + 30.0 / hr_fn(t))  # HR at the interval's midpoint
        t += rr / 1000.0
        ts.append(t)
        rrs.append(rr)
    return np.array(ts), np.array(rrs)


def test_measure_step_on_a_pure_oscillation_in_phase_with_the_pacer() -> None:
    sched = practice_schedule(6.0)
    # HR = 70 − 5·cos(2π f t): minimum at inhale onset, maximum at full lungs → phase 0°.
    t, rr = _beats(lambda s: 70.0 - 5.0 * math.cos(2 * math.pi * 0.1 * s), 200.0)
    m = measure_step(t, rr, sched, 6.0, 20.0, 200.0)
    assert m is not None
    assert abs(m.phase_deg) < 10.0
    assert m.amplitude_bpm == pytest.approx(10.0, rel=0.1)
    assert m.lf_peak_hz == pytest.approx(0.1, abs=0.005)
    assert m.smooth > 0.9
    # Shift the HR by a quarter cycle: HR lags by 90°.
    t2, rr2 = _beats(lambda s: 70.0 - 5.0 * math.cos(2 * math.pi * 0.1 * (s - 2.5)), 200.0)
    m2 = measure_step(t2, rr2, sched, 6.0, 20.0, 200.0)
    assert m2 is not None and m2.phase_deg == pytest.approx(-90.0, abs=10.0)
    assert measure_step(t, rr, sched, 6.0, 20.0, 65.0) is None  # < 50 s: nothing to stand on


def _m(rate: float, amp: float, lf: float, phase: float = 0.0) -> StepMeasure:
    return StepMeasure(rate, 120.0, lf, lf * 70.0, rate / 60.0, amp, phase, 0.9, 5.0)


def test_ranking_combines_criteria_and_states_confidence() -> None:
    clear = rank_steps([_m(6.5, 10, 2000), _m(6.0, 14, 4000), _m(5.5, 20, 9000),
                        _m(5.0, 13, 3500), _m(4.5, 9, 2000)])
    assert clear.chosen_rate_bpm == 5.5 and clear.confidence == "high"
    assert [r.rank for r in clear.ranking] == [1, 2, 3, 4, 5]
    assert "5.5/min" in clear.statement
    close = rank_steps([_m(6.0, 15.0, 5000, 10), _m(5.5, 15.1, 4950, 12)])
    assert close.confidence == "low"
    assert rank_steps([]).chosen_rate_bpm is None


def test_fit_peak_rate_finds_the_peak_between_steps() -> None:
    rates = [6.5, 6.0, 5.5, 5.0, 4.5]
    amps = [10.0 * math.exp(-((r - 5.3) ** 2)) for r in rates]  # log is a parabola, peak 5.3
    assert fit_peak_rate(rates, amps) == pytest.approx(5.3, abs=1e-9)
    assert fit_peak_rate(rates[:2], amps[:2]) is None  # two steps: no curve
    assert fit_peak_rate(rates, [10.0 * math.exp((r - 5.5) ** 2) for r in rates]) is None


def test_confidence_follows_the_measurement_spread() -> None:
    def m(rate: float, amp: float, se: float) -> StepMeasure:
        return StepMeasure(rate, 120.0, amp * 300, amp * 20000, rate / 60, amp, -20.0, 0.9, 5.0,
                           se)

    shape = {6.5: 0.6, 6.0: 0.8, 5.5: 1.0, 5.0: 0.8, 4.5: 0.6}
    tight = rank_steps([m(r, 20.0 * k, 0.2) for r, k in shape.items()])
    assert tight.chosen_rate_bpm == 5.5 and tight.confidence == "high"
    assert tight.peak_rate_bpm == pytest.approx(5.5, abs=0.01)
    assert "resamples" in tight.statement
    loose = rank_steps([m(r, 20.0 * k, 6.0) for r, k in shape.items()])
    assert loose.chosen_rate_bpm == 5.5 and loose.confidence in ("moderate", "low")


def test_levels_and_summary() -> None:
    assert coherence_level(None) is None
    assert coherence_level(0.5) == "low"
    assert coherence_level(2.0) == "medium"
    assert coherence_level(5.0) == "high"
    pts = [CoherencePoint(60.0 + 5 * k, 0.8 if k < 30 else 4.0, 12.0, 0.5) for k in range(60)]
    s = summarize(pts, 360.0)
    assert s.level_s["low"] == pytest.approx(150.0)
    assert s.level_s["high"] == pytest.approx(150.0)
    assert s.first_mean == pytest.approx(0.8) and s.last_mean == pytest.approx(4.0)
    assert any("rose" in line for line in s.lines())
    assert summarize([], 10.0).mean_coherence is None


def _coherence(seed: int, rate: float | None, res: float) -> float:
    run = breathing_client([(0.0, rate)] if rate else [], 240.0, seed, resonance_rate_bpm=res)
    br = BreatheRun((PacerStep(0.0, rate),))
    for msg in run.messages():
        br.feed(msg)
    vals = [p.coherence for p in br.points if p.t_s >= 60 and math.isfinite(p.coherence)]
    return float(np.median(vals))


def test_coherence_rises_from_spontaneous_to_resonance_breathing() -> None:
    # docs/science.md §4: spontaneous ≈ 1.5, paced 5–6.5/min ≈ 4–8.
    for seed in (3, 4):
        spont = _coherence(seed, None, 5.5)
        paced = _coherence(seed, 5.5, 5.5)
        assert spont < 2.5
        assert paced > 3.5
        assert paced > 2.5 * spont


def test_assessment_run_on_a_simulated_client_ranks_all_steps() -> None:
    sched = assessment_schedule((6.5, 5.5, 4.5), step_s=90.0, settle_s=20.0)
    pacer = [(s.start_s, s.rate_bpm or 0.0) for s in sched]
    run = breathing_client(pacer, sched[-1].start_s + 1, 7, resonance_rate_bpm=4.6)
    br = BreatheRun(sched, settle_s=20.0, assess=True)
    for msg in run.messages():
        br.feed(msg)
    a = br.assessment()
    assert sorted(r.measure.rate_bpm for r in a.ranking) == [4.5, 5.5, 6.5]
    assert a.chosen_rate_bpm in (4.5, 5.5)  # resonance 4.6: not the far end
    assert a.confidence in ("high", "moderate", "low")
    assert br.engine.pacer_rate_bpm is None  # the pacer went off at the end


def test_statement_does_not_extrapolate_beyond_the_tested_rates() -> None:
    """A swing curve still rising at the slowest step: say so, never quote a rate not tested."""
    from coreg.engine.resonance import StepMeasure, rank_steps

    swings = {6.5: 9.0, 6.0: 9.5, 5.5: 13.0, 5.0: 21.0, 4.5: 25.0}
    ms = [StepMeasure(r, 120.0, 1000.0 * a, 10.0 * a, r / 60.0, a, 0.0, 0.9, 5.0, 0.5)
          for r, a in swings.items()]
    a = rank_steps(ms)
    assert a.chosen_rate_bpm == 4.5
    assert "slowest step (4.5/min)" in a.statement
    assert "peaks at" not in a.statement


@pytest.mark.parametrize(("peak_bpm", "edge", "beyond"),
                         [(4.5, "slowest", "slower"), (6.5, "fastest", "faster")])
def test_a_clear_lead_at_the_edge_of_the_tested_range_is_at_most_moderate(
        peak_bpm: float, edge: str, beyond: str) -> None:
    """The slowest or fastest step leading clearly is still not "high": the resonance may lie
    beyond the rates tested, and the statement says to test them."""
    rates = [6.5, 6.0, 5.5, 5.0, 4.5]
    ms = [StepMeasure(r, 120.0, 300.0 * a, 2e4 * a, r / 60.0, a, -20.0, 0.9, 5.0, 0.2)
          for r in rates for a in [20.0 * math.exp(-0.5 * (r - peak_bpm) ** 2)]]
    a = rank_steps(ms)
    assert a.chosen_rate_bpm == peak_bpm
    assert a.confidence == "moderate"
    assert a.edge == edge
    assert "high" not in a.statement
    assert (f"{peak_bpm:.1f}/min is the {edge} rate tested, at the edge of the tested range"
            in a.statement)
    assert f"test {beyond} rates too" in a.statement
    # The same curve with one step beyond the peak: the lead is interior, and "high" again.
    wider = [*rates, peak_bpm - 0.5 if edge == "slowest" else peak_bpm + 0.5]
    inner = rank_steps([StepMeasure(r, 120.0, 300.0 * a, 2e4 * a, r / 60.0, a, -20.0, 0.9,
                                    5.0, 0.2)
                        for r in wider for a in [20.0 * math.exp(-0.5 * (r - peak_bpm) ** 2)]])
    assert inner.chosen_rate_bpm == peak_bpm
    assert inner.confidence == "high" and inner.edge is None
    assert "edge" not in inner.statement


def test_two_steps_never_give_high_confidence() -> None:
    """With two steps the leader is always an end of the range."""
    ms = [StepMeasure(r, 120.0, 300.0 * a, 2e4 * a, r / 60.0, a, -20.0, 0.9, 5.0, 0.1)
          for r, a in ((6.0, 10.0), (5.5, 20.0))]
    a = rank_steps(ms)
    assert a.chosen_rate_bpm == 5.5 and a.confidence == "moderate" and a.edge == "slowest"


def test_time_at_each_level_accounts_for_the_warm_up() -> None:
    """The levels plus "no figure yet" add up to the session (the warm-up is named)."""
    from coreg.engine.resonance import CoherencePoint, summarize

    # First figure at 64 s, then one every 5 s to the end of a 120-s session.
    points = [CoherencePoint(t, 6.0, 20.0, 0.8) for t in np.arange(64.0, 120.0, 5.0)]
    summary = summarize(points, 120.0)
    line = next(x for x in summary.lines() if x.startswith("Time at each level"))
    assert "high 1.0 min" in line
    assert "no figure yet 1.0 min" in line and "warm-up" in line
    shown = sum(summary.level_s.values())
    assert shown == pytest.approx(60.0)
    # A session with figures all through says nothing about a warm-up.
    full = summarize([CoherencePoint(t, 1.0, 5.0, 0.2) for t in np.arange(0.0, 120.0, 5.0)],
                     120.0)
    assert "no figure" not in " ".join(full.lines())
