"""The breathing pacer: its shape as a pure function of elapsed time and a schedule.

The pacer guides slow breathing (3–10 breaths/min) for HRV biofeedback (Lehrer, Vaschillo &
Vaschillo 2000, doi:10.1023/A:1009554825745). One breath cycle is: inhale, optional pause
(held in), exhale, optional pause (held out). The "lung" value rises 0 → 1 on the inhale with
a raised-cosine profile (smooth at both ends) and falls 1 → 0 on the exhale. The breath phase
is continuous across steps (the cycle count is the integral of the rate; it stands still while
the pacer is off), so a rate change never makes the pacer jump.

No clock, no Qt: the window and the headless runner pass the elapsed time in, so the
animation is smooth and identical whatever the redraw rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: Allowed pacer range in breaths/min and its resolution.
MIN_RATE_BPM = 3.0
MAX_RATE_BPM = 10.0
RATE_STEP_BPM = 0.1


@dataclass(frozen=True, slots=True)
class PacerStep:
    """One stretch of a pacer schedule.

    Parameters
    ----------
    start_s
        Elapsed time at which this step begins.
    rate_bpm
        Breaths per minute, or None for "pacer off" (spontaneous breathing).
    inhale_ratio
        Inhale share of the breathing part of the cycle (IN:OUT = 4:6 → 0.4).
    pause_in_s, pause_out_s
        Holds after the inhale and after the exhale, in seconds (part of the cycle).
    label
        Short name shown to the user (e.g. ``"settle 6.0/min"``).
    """

    start_s: float
    rate_bpm: float | None
    inhale_ratio: float = 0.5
    pause_in_s: float = 0.0
    pause_out_s: float = 0.0
    label: str = ""

    @property
    def period_s(self) -> float:
        """Length of one breath cycle in seconds (inf when the pacer is off)."""
        return math.inf if not self.rate_bpm else 60.0 / self.rate_bpm


@dataclass(frozen=True, slots=True)
class PacerState:
    """The pacer at one instant.

    Attributes
    ----------
    rate_bpm
        Current rate or None (off).
    step_index
        Index of the current step in the schedule (-1 before the first).
    lung
        Target lung volume 0 (empty) … 1 (full).
    phase
        Position in the breath cycle, 0 … 1 (0 = start of the inhale).
    stage
        ``"in"``, ``"hold-in"``, ``"out"``, ``"hold-out"`` or ``"off"``.
    stage_left_s
        Seconds until the current stage ends (0 when off).
    """

    rate_bpm: float | None
    step_index: int
    lung: float
    phase: float
    stage: str
    stage_left_s: float


def validate_rate(rate_bpm: float) -> float:
    """Return ``rate_bpm`` rounded to 0.1 or raise ValueError when outside 3–10 breaths/min."""
    if not math.isfinite(rate_bpm) or not MIN_RATE_BPM <= rate_bpm <= MAX_RATE_BPM:
        raise ValueError(
            f"pacer rate must be between {MIN_RATE_BPM:g} and {MAX_RATE_BPM:g} breaths/min, "
            f"not {rate_bpm:g}")
    return round(rate_bpm * 10.0) / 10.0


def parse_ratio(text: str) -> float:
    """Parse an ``IN:OUT`` ratio such as ``"4:6"`` into the inhale share (0.4)."""
    try:
        a_text, b_text = text.split(":")
        a, b = float(a_text), float(b_text)
    except ValueError as exc:
        raise ValueError(f"ratio must look like IN:OUT (e.g. 4:6), not {text!r}") from exc
    if not (a > 0 and b > 0):
        raise ValueError(f"both parts of the ratio must be positive: {text!r}")
    share = a / (a + b)
    if not 0.2 <= share <= 0.8:
        raise ValueError(f"ratio {text!r} is too lopsided (inhale share must be 0.2–0.8)")
    return share


def check_step(step: PacerStep) -> None:
    """Raise ValueError if the pauses leave no room to breathe or the ratio is off."""
    if step.rate_bpm is None:
        return
    validate_rate(step.rate_bpm)
    if not 0.05 < step.inhale_ratio < 0.95:
        raise ValueError(f"inhale_ratio out of range: {step.inhale_ratio}")
    if step.pause_in_s < 0 or step.pause_out_s < 0:
        raise ValueError("pauses must not be negative")
    if step.pause_in_s + step.pause_out_s > 0.5 * step.period_s:
        raise ValueError(
            f"pauses ({step.pause_in_s:g} s + {step.pause_out_s:g} s) take more than half of a "
            f"{step.period_s:.1f} s breath")


def step_at(schedule: Sequence[PacerStep], elapsed_s: float) -> int:
    """Index of the step in force at ``elapsed_s`` (-1 before the first step)."""
    idx = -1
    for i, step in enumerate(schedule):
        if step.start_s <= elapsed_s:
            idx = i
        else:
            break
    return idx


def _cycles_before(schedule: Sequence[PacerStep], idx: int) -> float:
    """Breath cycles completed by the pacer before step ``idx`` starts."""
    total = 0.0
    for i in range(idx):
        step = schedule[i]
        if step.rate_bpm:
            total += (schedule[i + 1].start_s - step.start_s) / step.period_s
    return total


def _shape(step: PacerStep, tau_s: float) -> tuple[float, str, float]:
    period = step.period_s
    breathe = period - step.pause_in_s - step.pause_out_s
    t_in = breathe * step.inhale_ratio
    t_out = breathe - t_in
    if tau_s < t_in:
        x = tau_s / t_in
        return 0.5 - 0.5 * math.cos(math.pi * x), "in", t_in - tau_s
    tau_s -= t_in
    if tau_s < step.pause_in_s:
        return 1.0, "hold-in", step.pause_in_s - tau_s
    tau_s -= step.pause_in_s
    if tau_s < t_out:
        x = tau_s / t_out
        return 0.5 + 0.5 * math.cos(math.pi * x), "out", t_out - tau_s
    tau_s -= t_out
    return 0.0, "hold-out", max(0.0, step.pause_out_s - tau_s)


def pacer_state(schedule: Sequence[PacerStep], elapsed_s: float) -> PacerState:
    """The pacer at ``elapsed_s`` seconds: a pure function of time and schedule."""
    idx = step_at(schedule, elapsed_s)
    if idx < 0 or schedule[idx].rate_bpm is None:
        return PacerState(None, idx, 0.0, 0.0, "off", 0.0)
    step = schedule[idx]
    period = step.period_s
    cycles = _cycles_before(schedule, idx) + (elapsed_s - step.start_s) / period
    tau = (cycles % 1.0) * period
    lung, stage, left = _shape(step, tau)
    return PacerState(step.rate_bpm, idx, lung, tau / period, stage, left)


def lung_curve(schedule: Sequence[PacerStep], t_s: NDArray[np.float64]) -> NDArray[np.float64]:
    """The pacer's lung value at each time of ``t_s`` (NaN where the pacer is off)."""
    out = np.full(len(t_s), np.nan)
    for i, t in enumerate(np.asarray(t_s, dtype=np.float64)):
        st = pacer_state(schedule, float(t))
        if st.rate_bpm is not None:
            out[i] = st.lung
    return out


def practice_schedule(rate_bpm: float, *, inhale_ratio: float = 0.5, pause_in_s: float = 0.0,
                      pause_out_s: float = 0.0) -> tuple[PacerStep, ...]:
    """A one-step schedule for a practice session at ``rate_bpm``."""
    step = PacerStep(0.0, validate_rate(rate_bpm), inhale_ratio, pause_in_s, pause_out_s,
                     f"{validate_rate(rate_bpm):.1f}/min")
    check_step(step)
    return (step,)


#: Default assessment steps (docs/science.md §4; Lehrer et al. 2000; Shaffer & Meehan 2020).
ASSESSMENT_RATES_BPM: tuple[float, ...] = (6.5, 6.0, 5.5, 5.0, 4.5)


def assessment_schedule(rates_bpm: Sequence[float] = ASSESSMENT_RATES_BPM, *,
                        step_s: float = 120.0, settle_s: float = 25.0,
                        baseline_s: float = 0.0, inhale_ratio: float = 0.5
                        ) -> tuple[PacerStep, ...]:
    """Schedule of a resonance-frequency assessment.

    An optional spontaneous baseline (pacer off), then per rate a settle of ``settle_s``
    followed by ``step_s`` measured; each rate is one :class:`PacerStep` whose label says
    the rate (the settle is the first ``settle_s`` of the step: the pacer does not change).
    The pacer goes off at the end.
    """
    if step_s <= 0 or settle_s < 0:
        raise ValueError("step and settle lengths must be positive")
    steps: list[PacerStep] = []
    t = 0.0
    if baseline_s > 0:
        steps.append(PacerStep(0.0, None, label="spontaneous"))
        t = baseline_s
    for rate in rates_bpm:
        r = validate_rate(rate)
        steps.append(PacerStep(t, r, inhale_ratio, label=f"{r:.1f}/min"))
        t += settle_s + step_s
    steps.append(PacerStep(t, None, label="done"))
    return tuple(steps)
