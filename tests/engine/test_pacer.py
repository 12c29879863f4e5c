"""The breathing pacer: a pure, continuous function of elapsed time and schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coreg.engine.pacer import (
    PacerStep,
    assessment_schedule,
    lung_curve,
    pacer_state,
    parse_ratio,
    practice_schedule,
    validate_rate,
)


def test_rate_range_and_resolution() -> None:
    assert validate_rate(5.55) == pytest.approx(5.6)
    assert validate_rate(3.0) == 3.0
    for bad in (2.9, 10.1, math.nan):
        with pytest.raises(ValueError):
            validate_rate(bad)


def test_ratio_parsing() -> None:
    assert parse_ratio("4:6") == pytest.approx(0.4)
    assert parse_ratio("1:1") == pytest.approx(0.5)
    for bad in ("4-6", "0:5", "1:9", "x:y"):
        with pytest.raises(ValueError):
            parse_ratio(bad)


def test_one_cycle_shape_with_ratio_and_pauses() -> None:
    # 6/min = 10 s; pauses 1 s + 1 s leave 8 s; 4:6 → inhale 3.2 s, exhale 4.8 s.
    sched = practice_schedule(6.0, inhale_ratio=0.4, pause_in_s=1.0, pause_out_s=1.0)
    assert pacer_state(sched, 0.0).lung == pytest.approx(0.0)
    assert pacer_state(sched, 0.0).stage == "in"
    assert pacer_state(sched, 1.6).lung == pytest.approx(0.5)
    assert pacer_state(sched, 3.7).stage == "hold-in"
    assert pacer_state(sched, 3.7).lung == 1.0
    assert pacer_state(sched, 4.2 + 2.4).lung == pytest.approx(0.5)
    assert pacer_state(sched, 9.5).stage == "hold-out"
    assert pacer_state(sched, 10.0).lung == pytest.approx(0.0, abs=1e-9)  # periodic
    assert pacer_state(sched, 23.0).lung == pytest.approx(pacer_state(sched, 3.0).lung)


def test_pauses_that_leave_no_breath_are_refused() -> None:
    with pytest.raises(ValueError):
        practice_schedule(10.0, pause_in_s=2.0, pause_out_s=2.0)


def test_smooth_and_continuous_across_rate_changes() -> None:
    sched = assessment_schedule((6.5, 6.0, 5.5), step_s=60.0, settle_s=7.0)
    t = np.arange(0.0, sched[-1].start_s - 0.01, 0.02)
    lung = lung_curve(sched, t)
    assert np.all(np.isfinite(lung))
    # Largest jump per 20 ms frame is that of a smooth curve (max slope π/2 / inhale time).
    assert np.max(np.abs(np.diff(lung))) < 0.02
    assert np.nanmin(lung) >= 0.0 and np.nanmax(lung) <= 1.0


def test_assessment_schedule_layout_and_pacer_off() -> None:
    sched = assessment_schedule(step_s=120.0, settle_s=25.0, baseline_s=60.0)
    rates = [s.rate_bpm for s in sched]
    assert rates == [None, 6.5, 6.0, 5.5, 5.0, 4.5, None]
    assert sched[1].start_s == 60.0 and sched[2].start_s == 205.0
    assert pacer_state(sched, 10.0).stage == "off"
    assert pacer_state(sched, sched[-1].start_s + 1).rate_bpm is None
    assert pacer_state(sched, 70.0).rate_bpm == 6.5


def test_off_step_freezes_phase() -> None:
    sched = (PacerStep(0.0, 6.0), PacerStep(5.0, None), PacerStep(20.0, 6.0))
    # 5 s at 6/min = half a cycle: resumes at the top of the breath.
    assert pacer_state(sched, 20.0).lung == pytest.approx(1.0)
