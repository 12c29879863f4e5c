"""The breathing part of a report: the pacer's steps and the engine's resonance assessment.

There is one science for the assessment: :mod:`coreg.engine.resonance`. The report replays
the recording through :class:`~coreg.engine.resonance.BreatheRun` — the object
``coreg breathe --assess`` runs live — with the recorded pacer schedule, and shows its
per-step measures (Lehrer, Vaschillo & Vaschillo 2000, doi:10.1023/A:1009554825745; Shaffer &
Meehan 2020, doi:10.3389/fnins.2020.570400), its ranking and its statement; it ranks nothing
itself (docs/science.md §4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from coreg.engine.pacer import PacerStep
from coreg.engine.resonance import DEFAULT_SETTLE_S, Assessment, BreatheRun, StepMeasure
from coreg.recording import Recording
from coreg.recording.replay import pacer_schedule, replay_messages


@dataclass(frozen=True, slots=True)
class StepSpan:
    """A paced step of the schedule and when it ended (s since the session start)."""

    step: PacerStep
    end_s: float


def paced_spans(schedule: tuple[PacerStep, ...], end_s: float) -> list[StepSpan]:
    """The schedule's paced steps (rate set) with their end times, cut at ``end_s``."""
    out: list[StepSpan] = []
    for i, step in enumerate(schedule):
        t1 = min(schedule[i + 1].start_s, end_s) if i + 1 < len(schedule) else end_s
        if step.rate_bpm and t1 > step.start_s:
            out.append(StepSpan(step, t1))
    return out


@dataclass(frozen=True, slots=True)
class ReplayedBreathing:
    """What the engine found in one person's breathing recording.

    ``measures`` are the per-step criteria of every paced step long enough to measure;
    ``assessment`` the ranking and statement when the schedule had two paced steps or more
    (an assessment), else None.
    """

    measures: tuple[StepMeasure, ...]
    assessment: Assessment | None
    settle_s: float


def replay_breathing(rec: Recording, role: str) -> ReplayedBreathing | None:
    """Replay ``rec`` through the breathing engine for ``role``; None without a paced step.

    The settle time is the one the live session used when the recording says so (an
    ``--assess`` run stores ``settle_s`` in its header), else the engine's default; so the
    chosen rate and confidence equal the live session's.
    """
    schedule = pacer_schedule(rec)
    paced = sum(1 for s in schedule if s.rate_bpm)
    if paced == 0:
        return None
    settings = rec.header.get("settings", {}) or {}
    stored = settings.get("settle_s")
    settle_s = (float(stored) if settings.get("assess") and isinstance(stored, (int, float))
                and math.isfinite(stored) and stored >= 0 else DEFAULT_SETTLE_S)
    run = BreatheRun(schedule=schedule, role=role, settle_s=settle_s, assess=True)
    for msg in replay_messages(rec):
        run.feed(msg)
    run.advance(rec.duration_s)
    measures = tuple(run.measures())
    assessment = run.assessment() if paced >= 2 and measures else None
    if assessment is not None and assessment.chosen_rate_bpm is None:
        assessment = None
    return ReplayedBreathing(measures, assessment, settle_s)
