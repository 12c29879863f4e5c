"""HRV indices: analytic targets (docs/science.md §3–§4) and neurokit2 on real recordings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from engine_helpers import sine_rr

from coreg.engine import coherence as coh
from coreg.engine import hrv
from coreg.engine.beats import BeatSeries


def test_analytic_sine_targets() -> None:
    mu, amp, f = 1000.0, 50.0, 0.1
    t, rr = sine_rr(mu, amp, f, 300.0)
    td = hrv.time_domain(rr)
    assert td.sdnn_ms == pytest.approx(amp / np.sqrt(2), rel=0.01)  # 35.36 ms
    assert td.rmssd_ms == pytest.approx(np.sqrt(2) * amp * np.sin(np.pi * f * mu / 1000), rel=0.01)
    fd = hrv.frequency_domain(t, rr)
    assert fd.lf_ms2 == pytest.approx(amp**2 / 2, rel=0.03)  # 1250 ms²
    assert fd.lf_peak_hz == pytest.approx(0.1, abs=0.005)
    assert fd.hf_ms2 < 0.01 * fd.lf_ms2


@pytest.mark.parametrize(("f", "band"), [(0.25, "hf_ms2"), (0.02, "vlf_ms2")])
def test_analytic_power_in_other_bands(f: float, band: str) -> None:
    t, rr = sine_rr(900.0, 30.0, f, 600.0)
    fd = hrv.frequency_domain(t, rr)
    assert getattr(fd, band) == pytest.approx(30.0**2 / 2, rel=0.03)


def test_pnn50_is_task_force_definition() -> None:
    rr = np.array([800.0, 900.0, 905.0, 800.0])  # ΔNN: 100, 5, -105 → 2 of 3 > 50 ms
    assert hrv.time_domain(rr).pnn50_pct == pytest.approx(200.0 / 3.0)


def test_differences_across_gaps_are_left_out() -> None:
    rr = np.array([800.0, 810.0, 1200.0, 1210.0])
    brk = np.array([True, False, True, False])
    td = hrv.time_domain(rr, brk)
    assert td.n_diff == 2
    assert td.rmssd_ms == pytest.approx(10.0)


def test_short_data_is_nan_per_band() -> None:
    t, rr = sine_rr(1000.0, 50.0, 0.25, 90.0)
    fd = hrv.frequency_domain(t, rr)
    assert np.isnan(fd.lf_ms2) and np.isnan(fd.vlf_ms2)
    assert fd.hf_ms2 > 0


def _nk_time(nn_ms: np.ndarray, t_s: np.ndarray) -> dict[str, float]:
    nk = pytest.importorskip("neurokit2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = nk.hrv_time({"RRI": nn_ms, "RRI_Time": t_s})
    return {k: float(out[k].iloc[0]) for k in out.columns}


def _nk_bands(nn_ms: np.ndarray, t_s: np.ndarray) -> list[float]:
    """neurokit2 band powers with settings matched to docs/science.md §3."""
    nk = pytest.importorskip("neurokit2")
    from neurokit2.hrv.intervals_process import intervals_process

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, _, _ = intervals_process(nn_ms, intervals_time=t_s, interpolate=True,
                                    interpolation_rate=4, method="cubic")
        x = nk.signal_detrend(x, method="polynomial", order=1)
        p = nk.signal_power(x, frequency_band=[hrv.VLF_BAND_HZ, hrv.LF_BAND_HZ, hrv.HF_BAND_HZ],
                            sampling_rate=4, method="welch", window=256, normalize=False)
    return [float(v) for v in p.to_numpy()[0]]


@pytest.fixture(params=["pyhrv_long", "mitdb100_nn"])
def real_nn(request: pytest.FixtureRequest) -> tuple[np.ndarray, np.ndarray]:
    if request.param == "pyhrv_long":
        rr = request.getfixturevalue("pyhrv_long_rr")
        return rr, np.cumsum(rr) / 1000.0
    mit = request.getfixturevalue("mitdb100")
    return mit["nn_ms"], mit["nn_t_s"]


def test_time_domain_equals_neurokit2(real_nn: tuple[np.ndarray, np.ndarray]) -> None:
    nn, t = real_nn
    # Differences across the gaps left by removed ectopic beats are not successive.
    gaps = BeatSeries(t, nn, np.ones(len(nn), dtype=bool)).gap_before()
    ours = hrv.time_domain(nn, gaps)
    ref = _nk_time(nn, t)
    assert ours.mean_nn_ms == pytest.approx(ref["HRV_MeanNN"], rel=1e-6)
    assert ours.sdnn_ms == pytest.approx(ref["HRV_SDNN"], rel=1e-6)
    assert ours.rmssd_ms == pytest.approx(ref["HRV_RMSSD"], rel=1e-6)
    # neurokit2 divides by count(ΔNN) + 1; the Task Force by count(ΔNN).
    n_diff = ours.n_diff
    assert ours.pnn50_pct == pytest.approx(ref["HRV_pNN50"] * (n_diff + 1) / n_diff, rel=1e-6)


def test_band_powers_match_neurokit2(real_nn: tuple[np.ndarray, np.ndarray]) -> None:
    nn, t = real_nn
    fd = hrv.frequency_domain(t, nn)
    vlf, lf, hf = _nk_bands(nn, t)
    assert fd.vlf_ms2 == pytest.approx(vlf, rel=0.03)
    assert fd.lf_ms2 == pytest.approx(lf, rel=0.03)
    assert fd.hf_ms2 == pytest.approx(hf, rel=0.03)


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


def test_resample_nn_survives_tied_and_backward_beat_times() -> None:
    """Erratic input can give corrected beats that tie or step back: no crash, a finite series."""
    from coreg.engine.hrv import resample_nn

    t_s = np.array([0.8, 1.6, 1.6, 2.5, 2.4, 3.3, 4.1, 5.0])
    rr_ms = np.array([800.0, 800.0, 0.0, 900.0, 850.0, 850.0, 800.0, 900.0])
    grid_s, nn_ms = resample_nn(t_s, rr_ms, 4.0)
    assert grid_s[0] == 0.8 and grid_s[-1] <= 5.0
    assert np.all(np.isfinite(nn_ms))


def test_fixed_window_spectrum_equals_the_general_path() -> None:
    import dataclasses
    import math

    rng = np.random.default_rng(7)
    spec = hrv.FixedWindowSpectrum(1200)
    for _ in range(20):
        i = np.arange(1200)
        x = 800 + np.cumsum(rng.normal(0, 3, 1200)) + 40 * np.sin(i * rng.uniform(0.05, 0.6))
        for dur in (59.0, 90.0, 200.0, 300.0):
            a = hrv.frequency_domain_resampled(x, dur)
            b = spec.bands(x, dur)
            for f in dataclasses.fields(a):
                u, v = getattr(a, f.name), getattr(b, f.name)
                if math.isnan(u):
                    assert math.isnan(v), f.name
                else:
                    assert v == pytest.approx(u, rel=1e-12), f.name


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
