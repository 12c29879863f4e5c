"""The simulated person matches its settings (docs/science.md §6, §3, §4)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.interpolate import CubicSpline
from scipy.signal import detrend, welch

from devices.sim import BeatTruth, PersonParams, SimulationRun, schedule_from, simulate_people

# --- measurement helpers (independent of the simulator's internals) ---------------------------


def hr_4hz(beats: BeatTruth) -> tuple[np.ndarray, np.ndarray]:
    """HR (bpm) at interval midpoints, cubic-resampled at 4 Hz."""
    mid = beats.t_s - beats.rr_ms / 2000.0
    t = np.arange(mid[0], mid[-1], 0.25)
    return t, CubicSpline(mid, 60000.0 / beats.rr_ms)(t)


def hr_spectrum(beats: BeatTruth) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD of the 4 Hz HR series (256 s Hann segments, 50% overlap)."""
    _, hr = hr_4hz(beats)
    return welch(detrend(hr), fs=4.0, nperseg=1024)


def peak_hz(f: np.ndarray, p: np.ndarray, lo: float, hi: float) -> float:
    band = (f >= lo) & (f < hi)
    return float(f[band][np.argmax(p[band])])


def coherence_ratio(beats: BeatTruth, window_s: float = 64.0, step_s: float = 5.0) -> float:
    """Mean coherence ratio, open formula of docs/science.md §4 (after McCraty et al. 2009).

    Last 64 s of NN, cubic-resampled at 2 Hz, linear detrend, Hann, FFT zero-padded to 8192,
    peak = highest PSD point in 0.04–0.26 Hz, peak power = PSD within ±0.015 Hz of it,
    total = 0.0033–0.4 Hz, ratio = peak / (total − peak); averaged over windows every 5 s.
    """
    out = []
    n_fft = 8192
    f = np.fft.rfftfreq(n_fft, 0.5)
    for end in np.arange(beats.t_s[0] + window_s, beats.t_s[-1], step_s):
        m = (beats.t_s > end - window_s) & (beats.t_s <= end)
        t, rr = beats.t_s[m], beats.rr_ms[m]
        x = detrend(CubicSpline(t, rr)(np.arange(t[0], t[-1], 0.5)))
        p = np.abs(np.fft.rfft(x * np.hanning(len(x)), n_fft)) ** 2
        pk = peak_hz(f, p, 0.04, 0.26)
        peak = p[(f >= pk - 0.015) & (f <= pk + 0.015)].sum()
        total = p[(f >= 0.0033) & (f <= 0.4)].sum()
        out.append(peak / (total - peak))
    return float(np.mean(out))


def rsa_peak_to_trough_bpm(run: SimulationRun, role: str) -> float:
    """Mean peak-to-trough HR per breath (breaths delimited by the true breathing phase)."""
    beats, mod = run.beats[role], run.modulation[role]
    mid = beats.t_s - beats.rr_ms / 2000.0
    hr = 60000.0 / beats.rr_ms
    cycle = np.floor(np.interp(mid, mod.t_s, mod.breathing_phase_rad) / (2 * np.pi)).astype(int)
    swings = [np.ptp(hr[cycle == c]) for c in np.unique(cycle)[1:-1] if np.sum(cycle == c) >= 2]
    return float(np.mean(swings))


def rmssd_ms(beats: BeatTruth) -> float:
    return float(np.sqrt(np.mean(np.diff(beats.rr_ms) ** 2)))


def one(person: PersonParams, duration_s: float = 600.0, seed: int = 1) -> SimulationRun:
    return simulate_people({"client": person}, duration_s, seed)


BASE = PersonParams(mean_hr_bpm=72.0, breathing_rate_bpm=12.0, resonance_rate_bpm=6.0,
                    rsa_bpm=3.2, lf_bpm=1.0, vlf_bpm=0.8)

# --- tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("hr", "seed"), [(55.0, 1), (72.0, 2), (95.0, 3)])
def test_mean_hr_matches_setting(hr: float, seed: int) -> None:
    beats = one(dataclasses.replace(BASE, mean_hr_bpm=hr), seed=seed).beats["client"]
    assert abs(60000.0 / beats.rr_ms.mean() - hr) < 1.0  # beats per minute over the run
    assert abs(np.mean(60000.0 / beats.rr_ms) - hr) < 1.0  # mean of instantaneous HR
    assert np.allclose(np.diff(beats.t_s), beats.rr_ms[1:] / 1000.0)


@pytest.mark.parametrize("rate_bpm", [10.0, 12.0, 15.0])
def test_spectrum_peaks_at_breathing_rate_and_near_0p1_hz(rate_bpm: float) -> None:
    beats = one(dataclasses.replace(BASE, breathing_rate_bpm=rate_bpm), seed=4).beats["client"]
    f, p = hr_spectrum(beats)
    resolution_hz = f[1] - f[0]
    assert abs(peak_hz(f, p, 0.13, 0.4) - rate_bpm / 60.0) <= 2 * resolution_hz
    assert 0.08 <= peak_hz(f, p, 0.04, 0.125) <= 0.12  # the Mayer-wave (LF) peak


def test_slow_breathing_gives_larger_rsa_than_fast() -> None:
    slow = one(dataclasses.replace(BASE, pacer=((0.0, 6.0),)), seed=5)
    fast = one(dataclasses.replace(BASE, breathing_rate_bpm=15.0), seed=5)
    rsa_slow = rsa_peak_to_trough_bpm(slow, "client")
    rsa_fast = rsa_peak_to_trough_bpm(fast, "client")
    assert rsa_slow > 2.0 * rsa_fast
    assert 3.0 < rsa_fast < 12.0  # spontaneous RSA of a resting adult, bpm
    f6, p6 = hr_spectrum(slow.beats["client"])
    assert abs(peak_hz(f6, p6, 0.04, 0.4) - 0.1) <= 2 * (f6[1] - f6[0])


def test_resonance_curve_peaks_at_the_persons_resonance_rate() -> None:
    person = dataclasses.replace(BASE, resonance_rate_bpm=5.0)
    at = rsa_peak_to_trough_bpm(one(dataclasses.replace(person, pacer=((0.0, 5.0),)), 300),
                                "client")
    off = rsa_peak_to_trough_bpm(one(dataclasses.replace(person, pacer=((0.0, 6.5),)), 300),
                                 "client")
    assert at > 1.2 * off
    assert person.rsa_amplitude_bpm(5.0 / 60) == pytest.approx(BASE.rsa_bpm * BASE.resonance_gain)
    # Closed baroreflex loop: HR about in phase with breathing at resonance, leading below it,
    # lagging above it (Vaschillo et al. 2002).
    assert abs(math.degrees(float(person.rsa_phase_rad(5.0 / 60)))) < 15.0
    assert person.rsa_phase_rad(4.5 / 60) > 0.0 > person.rsa_phase_rad(6.0 / 60)
    rates = np.linspace(3.0, 9.0, 601)
    assert rates[np.argmax(person.rsa_amplitude_bpm(rates / 60))] == pytest.approx(5.0, abs=0.02)


def test_rmssd_and_coherence_are_realistic() -> None:
    spont = one(dataclasses.replace(BASE, breathing_rate_bpm=15.0), seed=6).beats["client"]
    paced = one(dataclasses.replace(BASE, pacer=((0.0, 6.0),)), seed=6).beats["client"]
    assert 20.0 <= rmssd_ms(spont) <= 60.0
    coh_spont, coh_paced = coherence_ratio(spont), coherence_ratio(paced)
    # docs/science.md §4 reference points: spontaneous 15/min ≈ 1.5, paced 5–6.5/min ≈ 4–8.
    assert 0.4 <= coh_spont <= 2.5
    assert 3.0 <= coh_paced <= 9.0
    assert coh_paced > 2.5 * coh_spont


def test_breathing_follows_a_pacer_schedule_with_lag() -> None:
    schedule = schedule_from([(6.5, 60.0), (5.0, 60.0)], start_s=30.0)
    assert schedule == ((30.0, 6.5), (90.0, 5.0), (150.0, 0.0))
    person = dataclasses.replace(BASE, pacer=schedule, pacer_lag_s=0.8, breathing_rate_bpm=14.0)
    mod = one(person, duration_s=200.0).modulation["client"]
    t, rate = mod.t_s, mod.breathing_rate_hz * 60.0
    assert np.median(rate[(t > 45) & (t < 85)]) == pytest.approx(6.5, abs=0.2)
    assert np.median(rate[(t > 105) & (t < 145)]) == pytest.approx(5.0, abs=0.2)
    assert np.median(rate[(t > 170) & (t < 195)]) == pytest.approx(14.0, abs=2.0)
    assert np.median(rate[(t > 2) & (t < 25)]) == pytest.approx(14.0, abs=2.0)
    # Once locked, breathing trails the pacer by the lag: compare to the pacer phase.
    lock = (t > 50) & (t < 85)
    pacer = 2 * np.pi * 6.5 / 60.0 * (t[lock] - 30.0)
    shift = np.angle(np.mean(np.exp(1j * (pacer - mod.breathing_phase_rad[lock]))))
    assert shift / (2 * np.pi * 6.5 / 60.0) == pytest.approx(0.8, abs=0.35)


def test_people_differ_by_seed_and_validation() -> None:
    a = one(BASE, 120.0, seed=1).beats["client"]
    b = one(BASE, 120.0, seed=2).beats["client"]
    assert not np.array_equal(a.rr_ms[:50], b.rr_ms[:50])
    with pytest.raises(ValueError):
        PersonParams(mean_hr_bpm=10.0)
    with pytest.raises(ValueError):
        PersonParams(pacer=((60.0, 6.0), (0.0, 5.0)))
    with pytest.raises(ValueError):
        simulate_people({"client": BASE}, 0.0, 1)


def test_resonance_assessment_schedule_shows_the_resonance_step() -> None:
    steps = [(6.5, 120.0), (6.0, 120.0), (5.5, 120.0), (5.0, 120.0), (4.5, 120.0)]
    client = PersonParams(resonance_rate_bpm=5.0, pacer=schedule_from(steps, start_s=60.0))
    run = simulate_people({"client": client}, 700.0, 3)
    assert run.truth["pacer"]["client"][0] == [60.0, 6.5]
    beats, mod = run.beats["client"], run.modulation["client"]
    mid = beats.t_s - beats.rr_ms / 2000.0
    hr = 60000.0 / beats.rr_ms
    cycle = np.floor(np.interp(mid, mod.t_s, mod.breathing_phase_rad) / (2 * np.pi)).astype(int)
    swing: dict[float, float] = {}
    for k, (rate, _) in enumerate(steps):
        t0 = 60.0 + 120.0 * k + 20.0  # skip the first breaths of each step
        in_step = (mid > t0) & (mid < t0 + 100.0)
        cycles = np.unique(cycle[in_step])[1:-1]
        swing[rate] = float(np.mean([np.ptp(hr[cycle == c]) for c in cycles]))
    assert swing[5.0] > swing[6.5]
    assert max(swing, key=swing.__getitem__) in (4.5, 5.0, 5.5)


def test_inhale_ratio_shapes_each_paced_breath() -> None:
    person = dataclasses.replace(BASE, pacer=((0.0, 6.0),), pacer_inhale_ratio=0.4,
                                 paced_phase_jitter_rad=0.0, pacer_lag_s=0.0)
    mod = one(person, duration_s=120.0).modulation["client"]
    t, phase = mod.t_s, mod.breathing_phase_rad
    locked = (t > 30.0) & (t < 110.0)
    inhaling = (np.mod(phase[locked], 2 * np.pi) < np.pi)
    assert inhaling.mean() == pytest.approx(0.4, abs=0.02)  # 4 s in, 6 s out at 6/min
    assert np.median(mod.breathing_rate_hz[locked]) * 60 == pytest.approx(6.0, abs=0.05)
    with pytest.raises(ValueError):
        PersonParams(pacer_inhale_ratio=0.95)


def test_baroreflex_loop_in_time_matches_its_frequency_response() -> None:
    from devices.sim.physiology import BaroreflexLoop

    loop = BaroreflexLoop(5.5 / 60, 3.0)
    t = np.arange(0.0, 400.0, 0.1)
    for f in (4.5 / 60, 5.5 / 60, 0.25):
        y = loop.run(np.cos(2 * np.pi * f * t))
        steady = y[t >= 200.0]  # the ringing after the start has died away
        z = np.mean(steady * np.exp(-2j * np.pi * f * t[t >= 200.0])) * 2
        assert abs(z) == pytest.approx(abs(loop.response(f)), rel=0.01)
        assert np.angle(z) == pytest.approx(np.angle(loop.response(f)), abs=0.02)
    assert abs(loop.response(5.5 / 60)) == pytest.approx(3.0, rel=1e-3)


def test_rsa_keeps_its_meaning_at_the_spontaneous_rate() -> None:
    person = dataclasses.replace(BASE, resonance_rate_bpm=5.0, breathing_rate_bpm=12.0)
    assert person.rsa_amplitude_bpm(12.0 / 60) == pytest.approx(person.rsa_bpm, rel=1e-6)
    assert person.rsa_amplitude_bpm(5.0 / 60) == pytest.approx(
        person.rsa_bpm * person.resonance_gain, rel=1e-3)
