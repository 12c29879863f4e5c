"""A second dyad simulator, independent of coreg's own (:mod:`devices.sim`), for validation.

Written from the physiology, not from coreg's simulator: each person's heart rate (bpm, 4 Hz) is

* a resting mean (58–85 bpm);
* a very-low-frequency drift: an AR(1) (Ornstein–Uhlenbeck) process, time constant 20–60 s;
* Mayer waves: an AR(2) resonator at 0.08–0.11 Hz, bandwidth 0.02–0.04 Hz (the baroreflex
  resonance; de Boer, Karemaker & Strackee 1987, doi:10.1152/ajpheart.1987.253.3.H680);
* respiratory sinus arrhythmia at the person's own breathing rate (12–18 /min, the rate wandering
  as a random walk), or at 6 /min with an independent phase when "paced";
* beat-level jitter (5–10 ms RR noise).

Beats come from an integral pulse frequency modulation of that heart rate (beat ``k`` where the
integral of HR/60 reaches ``k``).

**Coupling** is not coreg's leader→follower mix: a *shared interaction driver* ``D(t)`` (itself a
drift plus a resonance, like one person's slow HR) enters both people's slow component, the
leader's at ``t`` and the follower's ``lag_s`` later: ``slow_i = √(1−c)·own_i + √c·D(t − lag_i)``,
so that ``c`` is the share of each slow component that the two people share (their slow HR
correlates ``c`` at the lag). ``c(t)`` may switch on and off with 20-s raised-cosine edges.

Artifacts (for the robustness condition): ectopic beats (premature by 25–35 % with the
compensatory pause), missed beats (two intervals merged) and extra beats (one interval split),
together 3–5 % of the beats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from coreg.engine.beats import BeatSeries

RATE_HZ = 4.0
EDGE_S = 20.0


@dataclass(frozen=True, slots=True)
class ArDyad:
    """One simulated dyad: true beats (leader first), coupling truth."""

    beats: dict[str, BeatSeries]
    coupling: float
    lag_s: float
    intervals: list[tuple[float, float]]


def _ou(rng: np.random.Generator, n: int, tau_s: float) -> NDArray[np.float64]:
    from scipy.signal import lfilter

    a = np.exp(-1.0 / (tau_s * RATE_HZ))
    burn = int(5 * tau_s * RATE_HZ)
    e = rng.standard_normal(n + burn) * np.sqrt(1 - a * a)
    return np.asarray(lfilter([1.0], [1.0, -a], e)[burn:])


def _resonator(rng: np.random.Generator, n: int, f_hz: float, bw_hz: float
               ) -> NDArray[np.float64]:
    r = np.exp(-np.pi * bw_hz / RATE_HZ)
    a1, a2 = 2 * r * np.cos(2 * np.pi * f_hz / RATE_HZ), -r * r
    e = rng.standard_normal(n + 400)
    from scipy.signal import lfilter

    x = lfilter([1.0], [1.0, -a1, -a2], e)[400:]
    return x / np.std(x)


def _slow(rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    """Unit-variance slow HR modulation: VLF drift plus Mayer waves, random mix."""
    vlf = _ou(rng, n, rng.uniform(20.0, 60.0))
    lf = _resonator(rng, n, rng.uniform(0.08, 0.11), rng.uniform(0.02, 0.04))
    w = rng.uniform(0.3, 0.6)
    x = np.sqrt(w) * vlf / np.std(vlf) + np.sqrt(1 - w) * lf
    return x / np.std(x)


def _rsa(rng: np.random.Generator, n: int, paced: bool) -> NDArray[np.float64]:
    t = np.arange(n) / RATE_HZ
    if paced:
        f = np.full(n, 0.1)
    else:
        f0 = rng.uniform(0.2, 0.3)
        f = f0 + np.cumsum(rng.standard_normal(n)) * 0.0004
        f = np.clip(f, 0.15, 0.4)
    phase = 2 * np.pi * np.cumsum(f) / RATE_HZ + rng.uniform(0, 2 * np.pi)
    del t
    return np.sin(phase)


def _edges(t: NDArray[np.float64], intervals: list[tuple[float, float]]) -> NDArray[np.float64]:
    c = np.zeros_like(t)
    for t0, t1 in intervals:
        up = np.clip((t - t0) / EDGE_S, 0.0, 1.0)
        down = np.clip((t1 - t) / EDGE_S, 0.0, 1.0)
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.minimum(up, down))
        c = np.maximum(c, ramp)
    return c


def _beats(rng: np.random.Generator, t: NDArray[np.float64], hr: NDArray[np.float64]
           ) -> BeatSeries:
    phase = np.concatenate(([0.0], np.cumsum(hr[1:] / 60.0 * np.diff(t))))
    k = np.arange(1, int(phase[-1]))
    bt = np.interp(k, phase, t)
    rr = np.diff(bt) * 1000.0 + rng.normal(0.0, rng.uniform(5.0, 10.0), len(bt) - 1)
    tt = bt[0] + np.cumsum(rr) / 1000.0
    return BeatSeries(tt, rr, np.ones(len(rr), dtype=bool))


def simulate_dyad(condition: str, duration_s: float, seed: int, *, lag_s: float = 3.0,
                  roles: tuple[str, str] = ("therapist", "client")) -> ArDyad:
    """One dyad of ``condition``: independent, paced, strong (c = 0.7), weak (c = 0.4) or
    switching (c = 0.7 on three stretches of 3 min with jittered starts)."""
    rng = np.random.default_rng([seed, 15])
    pad = 60.0
    n = int((duration_s + 2 * pad) * RATE_HZ)
    t = np.arange(n) / RATE_HZ - pad
    paced = condition == "paced"
    strength = {"independent": 0.0, "paced": 0.0, "strong": 0.7, "weak": 0.4,
                "switching": 0.7}[condition]
    intervals: list[tuple[float, float]] = []
    if condition == "switching":
        for base in (120.0, 480.0, 840.0):
            t0 = base + rng.uniform(-30.0, 30.0)
            if t0 + 180.0 <= duration_s:
                intervals.append((t0, t0 + 180.0))
        c = strength * _edges(t, intervals)
    elif strength > 0:
        intervals = [(0.0, duration_s)]
        c = np.full(n, strength)
    else:
        c = np.zeros(n)
    driver = _slow(rng, n)
    shift = round(lag_s * RATE_HZ)
    out = {}
    for i, role in enumerate(roles):
        own = _slow(rng, n)
        d = driver if i == 0 else np.roll(driver, shift)
        slow = np.sqrt(1 - c) * own + np.sqrt(c) * d
        mean = rng.uniform(58.0, 85.0)
        hr = (mean + rng.uniform(2.0, 4.0) * slow
              + rng.uniform(2.0, 5.0) * (1.6 if paced else 1.0) * _rsa(rng, n, paced))
        b = _beats(rng, t, hr)
        keep = (b.t_s >= 0.0) & (b.t_s <= duration_s)
        out[role] = BeatSeries(b.t_s[keep], b.rr_ms[keep], b.valid[keep])
    return ArDyad(out, strength, lag_s, intervals)


def add_artifacts(beats: BeatSeries, seed: int, rate: float | None = None
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The beats as a strap would report them with 3–5 % artifacts: (arrival-ordered t_s, rr_ms).

    Returns beat end times and RR (ms) with ectopic, missed and extra beats.
    """
    rng = np.random.default_rng([seed, 16])
    rate = rng.uniform(0.018, 0.028) if rate is None else rate
    t = list(beats.t_s)
    rr = list(beats.rr_ms)
    out_t: list[float] = []
    out_rr: list[float] = []
    i = 0
    n = len(rr)
    while i < n:
        u = rng.random()
        if u < rate / 2 and i + 1 < n:  # ectopic: premature, then compensatory
            f = rng.uniform(0.25, 0.35)
            early = rr[i] * (1 - f)
            out_t.append(t[i] - (rr[i] - early) / 1000.0)
            out_rr.append(early)
            out_t.append(t[i + 1])
            out_rr.append(rr[i + 1] + rr[i] - early)
            i += 2
        elif u < 3 * rate / 4 and i + 1 < n:  # missed: two intervals merged
            out_t.append(t[i + 1])
            out_rr.append(rr[i] + rr[i + 1])
            i += 2
        elif u < rate:  # extra: one interval split
            f = rng.uniform(0.3, 0.6)
            out_t.append(t[i] - rr[i] * (1 - f) / 1000.0)
            out_rr.append(rr[i] * f)
            out_t.append(t[i])
            out_rr.append(rr[i] * (1 - f))
            i += 1
        else:
            out_t.append(t[i])
            out_rr.append(rr[i])
            i += 1
    return np.asarray(out_t), np.asarray(out_rr)
