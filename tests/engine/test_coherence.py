"""The coherence ratio, resonance power, breathing rate and RSA amplitude (docs/science.md §4)."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import sine_rr

from coreg.engine import coherence as coh
from coreg.engine import hrv


def test_coherence_reference_points() -> None:
    t, rr = sine_rr(1000.0, 60.0, 0.1, 80.0)
    assert coh.coherence(t, rr) == pytest.approx(9.3, rel=0.05)
    rng = np.random.default_rng(7)
    values = []
    for _ in range(60):
        rr = rng.normal(1000.0, 50.0, 80)
        values.append(coh.coherence(np.cumsum(rr) / 1000.0, rr))
    assert 0.15 < float(np.median(values)) < 0.35  # docs/science.md §4: about 0.23


def test_coherence_does_not_jump_with_breathing_frequency() -> None:
    # Zero padding: a pure sine scores about the same wherever it falls between FFT bins.
    scores = []
    for f in np.linspace(0.08, 0.12, 9):
        t, rr = sine_rr(1000.0, 60.0, float(f), 80.0)
        scores.append(coh.coherence(t, rr))
    assert max(scores) / min(scores) < 1.3


def test_breathing_rate_rsa_and_resonance() -> None:
    t, rr = sine_rr(900.0, 60.0, 0.1, 80.0)  # 6 breaths/min
    spec = coh.short_spectrum(t, rr)
    assert coh.breathing_rate_bpm(spec) == pytest.approx(6.0, abs=0.3)
    assert coh.resonance_power(spec, 6.0) > 0.8
    assert coh.resonance_power(spec, 4.5) < 0.2
    # HR swings between 60000/840 and 60000/960 bpm: peak-to-trough ≈ 8.9 bpm.
    expected = 60000 / 840 - 60000 / 960
    assert coh.rsa_amplitude_bpm(t, rr, 10.0) == pytest.approx(expected, rel=0.1)


def test_breath_cycles_do_not_depend_on_the_last_bit_of_the_times() -> None:
    """6/min on a 4 Hz grid puts cycle boundaries on grid points; a microsecond shift of the
    times (a replay stores them to the microsecond) must not move a sample to another cycle."""
    grid = 123.456789 + np.arange(401) / 4.0
    cycles = coh.breath_cycles(grid, 10.0)
    assert [c.stop - c.start for c in cycles] == [40] * 10
    assert cycles[0] == slice(361, 401)
    for shift in (1e-7, -1e-7, 3e-6):
        assert coh.breath_cycles(grid + shift, 10.0) == cycles
    odd = coh.breath_cycles(grid, 60.0 / 5.5)  # 43.6 samples per cycle
    assert len(odd) == 9 and all(43 <= c.stop - c.start <= 44 for c in odd)


def test_short_spectrum_equals_textbook_periodogram_and_truncates_exactly() -> None:
    """The planned fast path (cached window, folded detrend, truncated bins) equals scipy's
    spline, a linear detrend, a Hann window and the full zero-padded FFT."""
    from scipy.interpolate import CubicSpline
    from scipy.signal import detrend

    rng = np.random.default_rng(3)
    for _ in range(10):
        rr = rng.normal(900.0, 40.0, 90) + 60.0 * np.sin(np.arange(90) * rng.uniform(0.3, 1.5))
        t = np.cumsum(rr) / 1000.0
        full = coh.short_spectrum(t, rr)
        cut = coh.short_spectrum(t, rr, max_hz=0.5)
        grid = t[-1] - np.arange(127, -1, -1) / 2.0
        k = int(np.searchsorted(t, grid[0], side="right")) - 1  # the beat before the window
        x = detrend(CubicSpline(t[k:], rr[k:], bc_type="not-a-knot")(grid), type="linear")
        win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(128) / 128)
        ref = np.abs(np.fft.rfft(x * win, 8192)) ** 2 / (2.0 * np.sum(win**2))
        ref[1:] *= 2.0
        np.testing.assert_allclose(full.psd, ref, rtol=1e-9, atol=1e-9 * ref.max())
        assert cut.freq_hz[-1] == 0.5 and len(cut.psd) == 2049
        np.testing.assert_array_equal(cut.psd, full.psd[:2049])
        assert coh.coherence_ratio(cut) == coh.coherence_ratio(full)
        assert coh.breathing_rate_bpm(cut) == coh.breathing_rate_bpm(full)
        assert coh.resonance_power(cut, 6.0) == coh.resonance_power(full, 6.0)


def test_rsa_amplitude_equals_per_cycle_max_minus_min() -> None:
    """The vectorised peak-to-trough equals max − min taken cycle by cycle."""
    rng = np.random.default_rng(5)
    for period_s in (0.4, 4.0, 9.2, 10.0, 13.3):
        rr = rng.normal(850.0, 30.0, 80) + 70.0 * np.sin(np.arange(80) * 0.6)
        t = np.cumsum(rr) / 1000.0
        grid, hr = hrv.resample_nn(t - rr / 2000.0, 60000.0 / rr, 4.0)
        amps = [hr[c].max() - hr[c].min() for c in coh.breath_cycles(grid, period_s)
                if c.stop - c.start > 1]
        assert coh.rsa_amplitude_bpm(t, rr, period_s) == pytest.approx(np.mean(amps), rel=1e-12)
