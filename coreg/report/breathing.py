"""Pacer steps of a breathing session and a descriptive table per step.

Criteria per step follow the resonance-frequency assessment of Lehrer, Vaschillo & Vaschillo
(2000, doi:10.1023/A:1009554825745) and Shaffer & Meehan (2020, doi:10.3389/fnins.2020.570400):
LF power and LF peak height, heart-rate peak-to-trough amplitude (RSA) and the share of power at
the pacer frequency (resonance power). The HR–pacer phase and the smoothness of the LF peak are
not computed here. When the recording holds the assessment's own verdict (an ``assessment``
line written by ``coreg breathe --assess``) the report shows that; otherwise it ranks the steps
on the three criteria and says how clear the ranking is — as a description, not a verdict.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from coreg.engine import coherence as coh
from coreg.engine.artifacts import Corrected
from coreg.recording import PacerChange

#: Seconds at the start of each step left out while breathing settles to the new rate.
SETTLE_S = 20.0
#: Steps shorter than this (after settling) are not assessed.
MIN_STEP_S = 60.0
LF_BAND_HZ = (0.04, 0.15)


@dataclass(frozen=True, slots=True)
class PacerStep:
    """One stretch at a constant pacer rate, s since the session start."""

    t0_s: float
    t1_s: float
    rate_bpm: float
    label: str = ""


def pacer_steps(pacer: list[PacerChange], end_s: float) -> list[PacerStep]:
    """The stretches of constant, non-zero pacer rate (a rate of None or 0 stops the pacer)."""
    out: list[PacerStep] = []
    for i, p in enumerate(pacer):
        t1 = min(pacer[i + 1].t_s, end_s) if i + 1 < len(pacer) else end_s
        if p.rate_bpm and p.rate_bpm > 0 and t1 > p.t_s:
            out.append(PacerStep(p.t_s, t1, float(p.rate_bpm), p.label))
    return out


def _longest_run(nn: Corrected, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    sel = (nn.t_s >= t0) & (nn.t_s <= t1)
    idx = np.flatnonzero(sel)
    if idx.size == 0:
        return np.zeros(0), np.zeros(0)
    brk = nn.break_before[idx].copy()
    brk[0] = True
    starts = [*cast("list[int]", np.flatnonzero(brk).tolist()), idx.size]
    best = max(itertools.pairwise(starts), key=lambda ab: ab[1] - ab[0])
    k = idx[best[0]:best[1]]
    return nn.t_s[k], nn.rr_ms[k]


def step_table(steps: list[PacerStep], nn: Corrected) -> list[dict[str, Any]]:
    """Per step: HR, LF power, LF peak, RSA amplitude and resonance power of one person.

    The spectrum of each step (after :data:`SETTLE_S`) is the zero-padded periodogram of
    :func:`coreg.engine.coherence.short_spectrum` over the whole step, LF power its integral over
    0.04–0.15 Hz (ms²), the LF peak its highest point there (ms²/Hz, and its frequency).
    """
    rows: list[dict[str, Any]] = []
    for st in steps:
        t, rr = _longest_run(nn, st.t0_s + SETTLE_S, st.t1_s)
        row: dict[str, Any] = {"rate_bpm": st.rate_bpm, "t0_s": st.t0_s, "t1_s": st.t1_s,
                               "label": st.label, "usable_s": 0.0, "mean_hr_bpm": math.nan,
                               "lf_ms2": math.nan, "lf_peak_ms2_hz": math.nan,
                               "lf_peak_hz": math.nan, "rsa_bpm": math.nan,
                               "resonance": math.nan}
        if len(t) >= 8 and t[-1] - t[0] >= MIN_STEP_S:
            span = float(t[-1] - t[0])
            spec = coh.short_spectrum(t, rr, window_s=span)
            f, p = spec.freq_hz, spec.psd
            band = (f >= LF_BAND_HZ[0]) & (f <= LF_BAND_HZ[1])
            df = float(f[1] - f[0])
            row.update(
                usable_s=span,
                mean_hr_bpm=float(np.mean(60000.0 / rr)),
                lf_ms2=float(np.sum(p[band]) * df),
                lf_peak_ms2_hz=float(np.max(p[band])),
                lf_peak_hz=float(f[band][int(np.argmax(p[band]))]),
                rsa_bpm=coh.rsa_amplitude_bpm(t, rr, 60.0 / st.rate_bpm),
                resonance=coh.resonance_power(spec, st.rate_bpm),
            )
        rows.append(row)
    return rows


def rank_steps(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Rank steps on LF power, RSA amplitude and resonance power (rank sum, best first).

    Returns None with fewer than two assessable steps; else ``{"rate_bpm", "wins", "criteria",
    "confidence", "ranking"}`` where ``wins`` counts the criteria on which the best step is first
    and ``confidence`` is ``"clear"`` (first on all three), ``"moderate"`` (two) or ``"weak"``.
    """
    keys = ("lf_ms2", "rsa_bpm", "resonance")
    ok = [r for r in rows if all(math.isfinite(r[k]) for k in keys)]
    if len(ok) < 2:
        return None
    ranks = np.zeros(len(ok))
    firsts = np.zeros(len(ok), dtype=int)
    for k in keys:
        vals = np.array([r[k] for r in ok])
        order = np.argsort(-vals)
        rk = np.empty(len(ok))
        rk[order] = np.arange(len(ok))
        ranks += rk
        firsts[order[0]] += 1
    order = np.argsort(ranks, kind="stable")
    best = int(order[0])
    wins = int(firsts[best])
    confidence = "clear" if wins == 3 else "moderate" if wins == 2 else "weak"
    return {"rate_bpm": ok[best]["rate_bpm"], "wins": wins, "criteria": list(keys),
            "confidence": confidence, "ranking": [ok[int(i)]["rate_bpm"] for i in order]}


def replayed_assessment(rec: Any, role: str) -> Any | None:
    """The resonance assessment of ``coreg breathe`` recomputed by replaying the recording.

    Uses :class:`coreg.engine.resonance.BreatheRun` (the object ``coreg breathe --assess``
    runs live) fed with the recording's messages in arrival order and its recorded pacer
    changes, so the chosen rate equals the live session's. Returns its
    :class:`~coreg.engine.resonance.Assessment`, or None when that engine is not installed,
    the recording has fewer than two pacer steps, or no step could be measured.
    """
    try:
        from coreg.engine.pacer import PacerStep as EnginePacerStep
        from coreg.engine.resonance import BreatheRun
        from coreg.recording.replay import replay_messages
    except ImportError:
        return None
    schedule = tuple(EnginePacerStep(p.t_s, p.rate_bpm if p.rate_bpm else None,
                                     inhale_ratio=p.inhale_ratio, pause_in_s=p.pause_in_s,
                                     pause_out_s=p.pause_out_s, label=p.label)
                     for p in rec.pacer)
    if sum(1 for s in schedule if s.rate_bpm) < 2:
        return None
    run = BreatheRun(schedule=schedule, role=role, assess=True)
    for msg in replay_messages(rec):
        run.feed(msg)
    run.advance(rec.duration_s)
    result = run.assessment()
    return result if result.chosen_rate_bpm is not None else None
