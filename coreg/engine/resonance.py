"""Breathing practice and the resonance-frequency assessment: per-step criteria, ranking, summary.

The assessment paces 6.5, 6.0, 5.5, 5.0 and 4.5 breaths/min for about two minutes each and
measures, per step, the criteria of Lehrer, Vaschillo & Vaschillo (2000,
doi:10.1023/A:1009554825745) and Shaffer & Meehan (2020, doi:10.3389/fnins.2020.570400):
LF power and LF peak height, HR peak-to-trough amplitude, the phase between HR and the pacer
(near 0° at resonance) and whether the LF spectrum has one smooth peak. One noisy two-minute
reading can pick the wrong rate, so the steps are ranked on all criteria combined and the
choice comes with a confidence statement.

Practice: :class:`BreatheRun` feeds a :class:`~coreg.engine.person.PersonEngine`, follows the
pacer schedule (the engine's pacer rate is set from it) and keeps what the summary needs
(coherence levels, RSA, first vs last minutes). Time is always passed in; nothing here reads a
clock.

Why one module of this size: the per-step measure, the ranking that weighs its criteria
and the :class:`BreatheRun` that feeds them are one method (docs/science.md §4); apart, the
criteria would drift from the weights and the confidence rule that combine them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from numpy.typing import NDArray

from coreg.engine import coherence as coh
from coreg.engine.hrv import detrend_linear, resample_nn
from coreg.engine.pacer import PacerStep, lung_curve, pacer_state, step_at
from coreg.engine.person import PersonEngine, PersonSnapshot
from devices.types import Message

#: LF band (Task Force 1996).
LF_BAND_HZ: tuple[float, float] = (0.04, 0.15)
#: Coherence levels shown by the meter: (name, lower bound). coreg's own bands, placed on
#: docs/science.md §4's reference points (spontaneous ≈ 1.5, paced at resonance ≈ 4–8).
COHERENCE_LEVELS: tuple[tuple[str, float], ...] = (("low", 0.0), ("medium", 1.0),
                                                   ("high", 3.0))
#: Weights of the criteria in the combined assessment score. The HR swing leads (Lehrer et
#: al. 2000's primary criterion, and the least noisy on 2-min steps), mostly through the
#: closeness of each step to the peak of a smooth curve fitted through the swings of all steps
#: ("fit", :func:`fit_peak_rate`), so one noisy step next to the peak does not decide alone
#: (docs/science.md §4); the step's own swing ("amplitude"), LF power and LF peak height break near
#: ties. The HR–pacer phase and the one-peak share are measured and shown but not scored: the
#: phase against the *pacer* carries the client's own, unknown lag behind it (0.2–1.2 s is
#: 7–45° at 0.1 Hz, as large as the resonance's own phase change from one step to the next),
#: and every paced step shows one clean peak. Chosen on the simulated benchmark, seeds 0–159
#: (nearest step: previous weights with phase scored 69 %, largest swing alone 71 %, fit 0.5 /
#: swing 0.3 / LF 0.1 / LF peak 0.1 with a⁴ fit weights 77 %, these weights with a⁶ 83 %),
#: then checked on 320 clients not used for any choice (seeds 160–479): 80 % (the a⁴ version:
#: 78 %). See benchmarks/breathe_assess.py and the README.
WEIGHTS: dict[str, float] = {"fit": 0.8, "amplitude": 0.1, "lf_power": 0.05, "lf_peak": 0.05,
                             "phase": 0.0, "smooth": 0.0}


def coherence_level(ratio: float | None) -> str | None:
    """Name of the coherence level of ``ratio`` (None while collecting)."""
    if ratio is None or not math.isfinite(ratio):
        return None
    name = COHERENCE_LEVELS[0][0]
    for level, lo in COHERENCE_LEVELS:
        if ratio >= lo:
            name = level
    return name


@dataclass(frozen=True, slots=True)
class StepMeasure:
    """The assessment criteria measured over one pacer step.

    Attributes
    ----------
    rate_bpm
        Pacer rate of the step.
    duration_s
        Seconds of NN data measured (after the settle).
    lf_power_ms2
        LF power (0.04–0.15 Hz) of the NN spectrum, ms².
    lf_peak_ms2_hz
        Height of the highest LF spectral point, ms²/Hz.
    lf_peak_hz
        Frequency of that point.
    amplitude_bpm
        Mean HR peak-to-trough per breath cycle, bpm.
    phase_deg
        Phase of the HR oscillation relative to the pacer's lung curve at the pacer frequency;
        positive: HR leads. About 0° at resonance (plus the breathing's lag behind the pacer).
    smooth
        Share of LF power within ±0.015 Hz of the pacer frequency (1 = one clean peak there).
    coherence
        Coherence ratio of the step's data (docs/science.md §4 formula over the whole step).
    amplitude_se_bpm
        Standard error of ``amplitude_bpm`` from the spread of the per-breath values
        (1.2533 · sd / √n, the standard error of a median); NaN with fewer than 3 breaths.
    """

    rate_bpm: float
    duration_s: float
    lf_power_ms2: float
    lf_peak_ms2_hz: float
    lf_peak_hz: float
    amplitude_bpm: float
    phase_deg: float
    smooth: float
    coherence: float
    amplitude_se_bpm: float = math.nan


def _fourier_at(x: NDArray[np.float64], t: NDArray[np.float64], f_hz: float) -> complex:
    w = np.hanning(len(x))
    return complex(np.sum(w * x * np.exp(-2j * np.pi * f_hz * t)))


def cycle_amplitudes_bpm(grid_s: NDArray[np.float64], hr_bpm: NDArray[np.float64],
                         period_s: float) -> list[float]:
    """Peak-to-trough HR of each consecutive breath-length window (end-aligned), bpm.

    The windows are :func:`coreg.engine.coherence.breath_cycles` of the uniform grid.
    """
    return [float(np.ptp(hr_bpm[c])) for c in coh.breath_cycles(grid_s, period_s)
            if c.stop - c.start > 1]


def cycle_amplitude_bpm(grid_s: NDArray[np.float64], hr_bpm: NDArray[np.float64],
                        period_s: float) -> float:
    """Median peak-to-trough HR over consecutive breath-length windows (end-aligned).

    Like :func:`coreg.engine.coherence.rsa_amplitude_bpm` (Lehrer et al. 2000) but the median
    over cycles, so one arousal or one deep sigh does not decide an assessment step.
    """
    amps = cycle_amplitudes_bpm(grid_s, hr_bpm, period_s)
    return float(np.median(amps)) if amps else math.nan


def measure_step(t_s: NDArray[np.float64], rr_ms: NDArray[np.float64],
                 schedule: Sequence[PacerStep], rate_bpm: float, t0_s: float,
                 t1_s: float) -> StepMeasure | None:
    """Measure one step's criteria on the NN beats ending in ``[t0_s, t1_s]``.

    Returns None when there are less than 50 s of beats (nothing to stand behind).
    Spectrum: the zero-padded Hann periodogram of docs/science.md §4 over the step; amplitude:
    peak-to-trough HR per breath cycle; phase: cross-spectral phase between the 4 Hz HR curve
    and the pacer's lung curve at the pacer frequency.
    """
    t = np.asarray(t_s, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    lo = max(0, int(np.searchsorted(t, t0_s, side="left")) - 1)
    hi = int(np.searchsorted(t, t1_s, side="right"))
    t, rr = t[lo:hi], rr[lo:hi]
    if len(t) < 10 or t[-1] - t[0] < 50.0:
        return None
    dur = float(t[-1] - t[0])
    spec = coh.short_spectrum(t, rr, window_s=dur)
    f, p = spec.freq_hz, spec.psd
    df = float(f[1] - f[0])
    lf = (f >= LF_BAND_HZ[0]) & (f <= LF_BAND_HZ[1])
    lf_power = float(np.sum(p[lf]) * df)
    k = int(np.argmax(np.where(lf, p, -1.0)))
    f_pace = rate_bpm / 60.0
    near = lf & (np.abs(f - f_pace) <= coh.COHERENCE_HALF_WIDTH_HZ)
    smooth = float(np.sum(p[near]) / np.sum(p[lf])) if np.sum(p[lf]) > 0 else math.nan
    ratio = coh.coherence_ratio(spec)[0]
    mid = cast("NDArray[np.float64]", t - rr / 2000.0)
    grid, hr = resample_nn(mid, cast("NDArray[np.float64]", 60000.0 / rr), 4.0)
    keep = grid >= t0_s
    grid, hr = grid[keep], hr[keep]
    cycles = cycle_amplitudes_bpm(grid, hr, 60.0 / rate_bpm)
    amp = float(np.median(cycles)) if cycles else math.nan
    amp_se = (1.2533 * float(np.std(cycles, ddof=1)) / math.sqrt(len(cycles))
              if len(cycles) >= 3 else math.nan)
    lung = lung_curve(schedule, grid)
    ok = np.isfinite(lung)
    phase = math.nan
    if np.sum(ok) > 40:
        z_hr = _fourier_at(detrend_linear(hr[ok]), grid[ok], f_pace)
        z_lung = _fourier_at(lung[ok] - float(np.mean(lung[ok])), grid[ok], f_pace)
        phase = math.degrees(math.remainder(np.angle(z_hr) - np.angle(z_lung), 2 * math.pi))
    return StepMeasure(rate_bpm, dur, lf_power, float(p[k]), float(f[k]), amp, phase, smooth,
                       ratio, amp_se)


@dataclass(frozen=True, slots=True)
class RankedStep:
    """One row of the ranking table: the measure, its per-criterion scores and the total."""

    measure: StepMeasure
    scores: dict[str, float]
    total: float
    rank: int


@dataclass(frozen=True, slots=True)
class Assessment:
    """The outcome of a resonance-frequency assessment.

    Attributes
    ----------
    ranking
        Rows best first.
    chosen_rate_bpm
        The rate ranked first (None when no step could be measured).
    confidence
        ``"high"``, ``"moderate"`` or ``"low"``.
    statement
        One plain sentence saying how sure the choice is and why.
    peak_rate_bpm
        Peak of the curve fitted through the HR swings (:func:`fit_peak_rate`), None when no
        peaked fit (fewer than three steps, or a flat/upward curve).
    edge
        ``"slowest"`` or ``"fastest"`` when the chosen rate is the slowest or fastest rate
        tested — the resonance may then lie outside the tested range, so the confidence is at
        most ``"moderate"`` — else None.
    """

    ranking: tuple[RankedStep, ...]
    chosen_rate_bpm: float | None
    confidence: str
    statement: str
    peak_rate_bpm: float | None = None
    edge: str | None = None


#: Power of the relative swing in the fit's residual weights (the squared residual is weighed
#: by the swing to twice this power). See :func:`fit_peak_rate`.
FIT_WEIGHT_POWER = 3.0


def fit_peak_rate(rates_bpm: Sequence[float], amplitudes_bpm: Sequence[float]) -> float | None:
    """Rate at the peak of a quadratic fitted to log HR swing against breathing rate.

    The resonance curve is smooth and single-peaked (Vaschillo et al. 2002,
    doi:10.1023/A:1014587304314), so all steps inform where its peak is: a parabola through
    the logarithm of the swings (a Gaussian-shaped peak, the usual way to interpolate a peak
    between samples: Gasior & Gonzalez 2004, doi:10.1063/1.1831158). The flanks of a
    resonance are heavier than a Gaussian's, so the fit weighs each step by its swing to the
    sixth power (relative to the largest; Guo 2011, doi:10.1109/MSP.2011.941846, weighs the
    log-Gaussian fit by the square — a stronger weight was chosen on the simulated benchmark,
    seeds 0–159, and then checked on clients it had not seen: see
    benchmarks/breathe_assess.py). Returns
    None with fewer than three steps or when the fit is not peaked (opens upwards).
    """
    pairs = [(float(r), float(a)) for r, a in zip(rates_bpm, amplitudes_bpm, strict=True)
             if math.isfinite(r) and math.isfinite(a) and a > 0]
    if len({r for r, _ in pairs}) < 3:
        return None
    x = np.array([r for r, _ in pairs])
    a = np.array([v for _, v in pairs])
    w = (a / a.max()) ** FIT_WEIGHT_POWER  # polyfit weighs residuals: squared, a⁶
    c = np.polyfit(x, np.log(a), 2, w=w)
    if not c[0] < 0:
        return None
    return float(-c[1] / (2.0 * c[0]))


def _nearest(rates: Sequence[float], target: float) -> float:
    return min(rates, key=lambda r: (abs(r - target), r))


def _fit_support(ms: Sequence[StepMeasure], chosen: float, draws: int = 200) -> float | None:
    """Share of resampled fits (per-step swings drawn within their standard errors) whose
    peak is nearest to ``chosen``; None when the spread of a step is unknown."""
    se = np.array([m.amplitude_se_bpm for m in ms])
    amp = np.array([m.amplitude_bpm for m in ms])
    if not (np.all(np.isfinite(se)) and np.all(se > 0) and np.all(amp > 0)):
        return None
    rates = [m.rate_bpm for m in ms]
    rng = np.random.default_rng(20)  # fixed: the same data always give the same statement
    sd_log = se / amp
    hits = 0
    for _ in range(draws):
        a = amp * np.exp(sd_log * rng.standard_normal(len(amp)))
        peak = fit_peak_rate(rates, a.tolist())
        pick = (_nearest(rates, min(max(peak, min(rates)), max(rates))) if peak is not None
                else rates[int(np.argmax(a))])
        hits += pick == chosen
    return hits / draws


def rank_steps(measures: Sequence[StepMeasure]) -> Assessment:
    """Rank the measured steps on all criteria combined (weights :data:`WEIGHTS`).

    Each criterion is scored 0–1 across the steps: LF power, LF peak height and HR amplitude as
    a share of the best step; "fit" as ``1 − |rate − peak|`` (per breath/min, floor 0) with
    the peak of :func:`fit_peak_rate`; phase as ``cos`` of the HR–pacer phase (1 at 0°, 0 at
    ±90°) and smoothness as the share of LF power at the pacer (both weigh 0: see
    :data:`WEIGHTS`). Confidence: the per-breath swings of every step are resampled within
    their standard errors and the fit repeated; the share of resamples that pick the same
    step is the support (high ≥ 80 %, moderate ≥ 60 %, else low). When a spread is unknown,
    the leader's swing over the runner-up's in standard errors, or the relative score margin,
    decides (Lehrer et al. 2000; Shaffer & Meehan 2020, doi:10.3389/fnins.2020.570400). A
    chosen step that is the slowest or fastest rate tested is at most "moderate" and the
    statement says to test beyond it: the resonance may lie outside the tested range.
    """
    ms = [m for m in measures if m is not None]
    if not ms:
        return Assessment((), None, "low", "No step had enough clean data to rank.")

    def share(values: list[float]) -> list[float]:
        top = max((v for v in values if math.isfinite(v)), default=math.nan)
        return [v / top if math.isfinite(v) and top > 0 else 0.0 for v in values]

    lf_p = share([m.lf_power_ms2 for m in ms])
    lf_k = share([m.lf_peak_ms2_hz for m in ms])
    amp = share([m.amplitude_bpm for m in ms])
    ph = [max(0.0, math.cos(math.radians(m.phase_deg))) if math.isfinite(m.phase_deg) else 0.0
          for m in ms]
    sm = [m.smooth if math.isfinite(m.smooth) else 0.0 for m in ms]
    # Not weighted by the per-step standard errors: they come from 9–14 breaths and are
    # themselves noisy (weighting by them picked the nearest step less often, 108 vs 120/160).
    peak = fit_peak_rate([m.rate_bpm for m in ms], [m.amplitude_bpm for m in ms])
    lo_r, hi_r = min(m.rate_bpm for m in ms), max(m.rate_bpm for m in ms)
    # A peak beyond the measured rates: the end step is the closest this assessment can say.
    at = min(max(peak, lo_r), hi_r) if peak is not None else None
    fit = [max(0.0, 1.0 - abs(m.rate_bpm - at)) if at is not None else 0.0 for m in ms]
    rows = []
    for i, m in enumerate(ms):
        scores = {"fit": fit[i], "amplitude": amp[i], "lf_power": lf_p[i], "lf_peak": lf_k[i],
                  "phase": ph[i], "smooth": sm[i]}
        total = sum(WEIGHTS.get(k, 0.0) * v for k, v in scores.items())
        rows.append((total, m, scores))
    rows.sort(key=lambda r: -r[0])
    ranking = tuple(RankedStep(m, s, tot, i + 1) for i, (tot, m, s) in enumerate(rows))
    best = ranking[0]
    chosen = best.measure.rate_bpm
    if len(ranking) == 1:
        return Assessment(ranking, chosen, "low", "Only one step could be measured.")
    runner = ranking[1].measure.rate_bpm
    agree = sum(1 for key in ("lf_power", "lf_peak", "amplitude") if best.scores[key] >= 0.999)
    support = _fit_support(ms, chosen) if peak is not None else None
    a1, a2 = best.measure, ranking[1].measure
    se = math.hypot(a1.amplitude_se_bpm, a2.amplitude_se_bpm)
    # The slowest or fastest step chosen: nothing beyond it was measured, so the resonance may
    # lie outside the tested range however clearly the step leads within it.
    edge = "slowest" if chosen == lo_r else "fastest" if chosen == hi_r else None
    if support is not None and peak is not None:
        clear, close = support >= 0.8, support >= 0.6
        if peak < lo_r - 0.05:
            where = (f"the HR-swing curve still rises at the slowest step ({lo_r:.1f}/min)"
                     + ("" if edge == "slowest" else "; slower rates were not tested"))
        elif peak > hi_r + 0.05:
            where = (f"the HR-swing curve still rises at the fastest step ({hi_r:.1f}/min)"
                     + ("" if edge == "fastest" else "; faster rates were not tested"))
        else:
            where = f"the HR-swing curve peaks at {peak:.1f}/min"
        spread = (f"{where}; {chosen:.1f} is picked in {100 * support:.0f} % of resamples of "
                  "the per-breath swings")
    elif math.isfinite(se) and se > 0:
        z = (a1.amplitude_bpm - a2.amplitude_bpm) / se
        clear, close = z >= 2.0 and agree >= 2, z >= 1.0
        spread = f"HR swing {a1.amplitude_bpm:.1f} vs {a2.amplitude_bpm:.1f} bpm, ±{se:.1f}"
    else:
        margin = (best.total - ranking[1].total) / best.total if best.total > 0 else 0.0
        clear, close = margin >= 0.08 and agree >= 2, margin >= 0.03
        spread = f"scores {best.total:.2f} vs {ranking[1].total:.2f}"
    if clear and edge is None:
        conf = "high"
        why = f"it leads clearly: {spread}"
    elif clear:
        conf = "moderate"
        why = f"it leads the rates tested: {spread}"
    elif close:
        conf = "moderate"
        why = f"{runner:.1f}/min came close ({spread}); a repeat would firm it up"
    else:
        conf = "low"
        why = (f"{chosen:.1f} and {runner:.1f}/min are about equal ({spread}); repeat the "
               "assessment or practise between them")
    if edge is not None:
        beyond = "slower" if edge == "slowest" else "faster"
        why += (f"; {'but ' if clear else ''}{chosen:.1f}/min is the {edge} rate tested, at the "
                f"edge of the tested range — test {beyond} rates too")
    return Assessment(ranking, chosen, conf,
                      f"Best breathing rate: {chosen:.1f}/min ({conf} confidence: {why}).",
                      peak, edge)


@dataclass(frozen=True, slots=True)
class CoherencePoint:
    """One coherence update of a practice session."""

    t_s: float
    coherence: float
    rsa_bpm: float | None
    resonance: float | None


@dataclass(frozen=True, slots=True)
class PracticeSummary:
    """End-of-session summary of a practice (or assessment) session.

    ``level_s`` holds the seconds spent at each coherence level; ``first_mean`` and
    ``last_mean`` the mean coherence over the first and last ``edge_s`` of valid values.
    """

    duration_s: float
    mean_coherence: float | None
    level_s: dict[str, float]
    mean_rsa_bpm: float | None
    first_mean: float | None
    last_mean: float | None
    edge_s: float

    def lines(self) -> list[str]:
        """Plain-language lines for the terminal and the window."""
        if self.mean_coherence is None:
            return [f"Session {self.duration_s / 60:.1f} min. Not enough clean data for a "
                    "coherence figure yet — a longer session will give one."]
        out = [f"Session {self.duration_s / 60:.1f} min · mean coherence "
               f"{self.mean_coherence:.1f}"]
        levels = ", ".join(
            f"{name} {self.level_s.get(name, 0.0) / 60:.1f} min" for name, _ in COHERENCE_LEVELS)
        # The rest of the session had no coherence figure: the warm-up before the first
        # 64-s window filled, and any gap (lost strap, too many corrected beats).
        rest_s = max(0.0, self.duration_s - sum(self.level_s.values()))
        if rest_s >= 3.0:
            levels += (f"; no figure yet {rest_s / 60:.1f} min (warm-up before the first "
                       "coherence figure, and any gap)")
        out.append("Time at each level: " + levels)
        if self.mean_rsa_bpm is not None:
            out.append(f"Heart-rate swing per breath (RSA): {self.mean_rsa_bpm:.1f} bpm")
        if self.first_mean is not None and self.last_mean is not None:
            word = "rose" if self.last_mean > self.first_mean else "stayed near" if abs(
                self.last_mean - self.first_mean) < 0.3 else "eased"
            out.append(f"Coherence {word} from {self.first_mean:.1f} (first "
                       f"{self.edge_s / 60:.0f} min) to {self.last_mean:.1f} (last "
                       f"{self.edge_s / 60:.0f} min)")
        return out


def summarize(points: Sequence[CoherencePoint], duration_s: float,
              edge_s: float = 120.0) -> PracticeSummary:
    """Summarise coherence updates (each held until the next; the last for 5 s)."""
    valid = [p for p in points if math.isfinite(p.coherence)]
    if not valid:
        return PracticeSummary(duration_s, None, {}, None, None, None, edge_s)
    level_s: dict[str, float] = {name: 0.0 for name, _ in COHERENCE_LEVELS}
    for a, b in zip(valid, [*valid[1:], None], strict=True):
        hold = min(5.0, (b.t_s - a.t_s) if b is not None else 5.0)
        level_s[coherence_level(a.coherence) or "low"] += hold
    c = np.array([p.coherence for p in valid])
    t = np.array([p.t_s for p in valid])
    rsa = [p.rsa_bpm for p in valid if p.rsa_bpm is not None]
    first = c[t <= t[0] + edge_s]
    last = c[t >= t[-1] - edge_s]
    long_enough = t[-1] - t[0] >= 2 * edge_s
    return PracticeSummary(
        duration_s, float(np.mean(c)), level_s, float(np.mean(rsa)) if rsa else None,
        float(np.mean(first)) if long_enough else None,
        float(np.mean(last)) if long_enough else None, edge_s)


#: Seconds at the start of each assessment step that are not measured (breathing settles).
DEFAULT_SETTLE_S = 25.0


@dataclass
class BreatheRun:
    """A breathing session of one person: engine, pacer schedule, coherence history.

    Feed messages in arrival order (:meth:`feed`) and call :meth:`advance` with the elapsed
    session time (seconds since the session start; message times must be on the same clock).
    The engine's pacer rate follows the schedule.

    Parameters
    ----------
    schedule
        The pacer schedule (:mod:`coreg.engine.pacer`).
    role
        The person's role in the messages (``"client"``).
    settle_s
        Assessment only: seconds at the start of each step that are not measured.
    assess
        Measure and rank the steps at the end.
    """

    schedule: tuple[PacerStep, ...]
    role: str = "client"
    settle_s: float = DEFAULT_SETTLE_S
    assess: bool = False
    engine: PersonEngine = field(init=False)
    points: list[CoherencePoint] = field(default_factory=list, init=False)
    now_s: float = field(default=0.0, init=False)
    _step: int = field(default=-2, init=False)
    _last_coh_s: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.engine = PersonEngine(self.role)

    def feed(self, message: Message) -> None:
        """Take one message of this person (others are ignored)."""
        if message.source_id != self.role:
            return
        self.advance(message.arrival_s)
        self.engine.feed(message)
        snap = self.engine.snapshot(message.arrival_s)
        c = snap.coherence
        if c.updated_s is not None and c.updated_s != self._last_coh_s:
            self._last_coh_s = c.updated_s
            self.points.append(CoherencePoint(
                c.updated_s, c.value if c.value is not None else math.nan,
                snap.rsa_bpm.value, snap.resonance.value))

    def advance(self, now_s: float) -> None:
        """Move the session clock; keeps the engine's pacer rate in step with the schedule."""
        self.now_s = max(self.now_s, now_s)
        idx = step_at(self.schedule, self.now_s)
        if idx != self._step:
            self._step = idx
            rate = self.schedule[idx].rate_bpm if idx >= 0 else None
            self.engine.set_pacer(rate)

    def snapshot(self) -> PersonSnapshot:
        """The engine's snapshot now."""
        return self.engine.snapshot(self.now_s)

    def pacer(self) -> tuple[float | None, str, float]:
        """(rate, stage, lung) of the pacer now."""
        st = pacer_state(self.schedule, self.now_s)
        return st.rate_bpm, st.stage, st.lung

    def step_windows(self) -> list[tuple[float, float, float]]:
        """(rate, measured start, end) of each paced step that has begun."""
        out = []
        for i, step in enumerate(self.schedule):
            if step.rate_bpm is None or step.start_s > self.now_s:
                continue
            end = self.schedule[i + 1].start_s if i + 1 < len(self.schedule) else math.inf
            out.append((step.rate_bpm, step.start_s + self.settle_s, min(end, self.now_s)))
        return out

    def measures(self) -> list[StepMeasure]:
        """The criteria of every step measured so far (steps under 50 s are left out)."""
        nn = self.engine.nn()
        out = []
        for rate, t0, t1 in self.step_windows():
            m = measure_step(nn.t_s, nn.rr_ms, self.schedule, rate, t0, t1)
            if m is not None:
                out.append(m)
        return out

    def assessment(self) -> Assessment:
        """Rank the steps measured so far."""
        return rank_steps(self.measures())

    def summary(self) -> PracticeSummary:
        """The end-of-session summary (paced coherence updates only, when a pacer ran)."""
        paced = [p for p in self.points
                 if pacer_state(self.schedule, p.t_s).rate_bpm is not None] or self.points
        return summarize(paced, self.now_s)
