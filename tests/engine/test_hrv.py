"""HRV indices: analytic targets (docs/science.md §3) and neurokit2 on real recordings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from engine_helpers import sine_rr

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
