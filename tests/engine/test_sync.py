"""Synchrony engine: window function, surrogates, session summary, real and simulated dyads."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import signal, stats

from coreg.engine import surrogates
from coreg.engine.beats import BeatSeries
from coreg.engine.synchrony import (
    LiveSynchrony,
    LiveSyncSnapshot,
    SyncSettings,
    peak_nearest_zero,
    prepare_pair,
    session_analyses,
    session_synchrony,
    standardized_windows,
    window_curves,
)
from coreg.errors import InputError

KEYS = {"mean_peak_r", "lag_s", "leader", "effect_size", "p_value", "significant",
        "pct_windows_above_chance", "windows"}


def slow_noise(rng: np.random.Generator, n: int, rate_hz: float = 10.0) -> NDArray[np.float64]:
    """Unit-variance noise band-limited to 0.01-0.12 Hz."""
    sos = signal.butter(3, [0.01, 0.12], btype="bandpass", fs=rate_hz, output="sos")
    x = signal.sosfiltfilt(sos, rng.standard_normal(n))
    return x / np.std(x)


def beats_from_hr(t_s: NDArray[np.float64], hr_bpm: NDArray[np.float64]) -> BeatSeries:
    """Beats of an integral pulse frequency modulation of ``hr_bpm`` (exact beat times)."""
    phase = np.concatenate(([0.0], np.cumsum(hr_bpm[1:] / 60.0 * np.diff(t_s))))
    k = np.arange(1, int(phase[-1]))
    beat_t = np.interp(k, phase, t_s)
    rr = np.diff(beat_t) * 1000.0
    return BeatSeries(beat_t[1:], rr, np.ones(len(rr), dtype=bool))


def lagged_pair(seed: int, lag_s: float, c: float, duration_s: float = 600.0,
                amp_bpm: float = 3.0) -> tuple[BeatSeries, BeatSeries]:
    """Leader and follower whose slow HR is ``c·leader(t − lag) + √(1−c²)·own``."""
    rng = np.random.default_rng(seed)
    rate = 10.0
    n = int((duration_s + 20.0) * rate)
    t = np.arange(n) / rate
    lead = slow_noise(rng, n)
    own = slow_noise(rng, n)
    shift = round(lag_s * rate)
    follow = c * np.roll(lead, shift) + np.sqrt(1 - c * c) * own
    return (beats_from_hr(t, 65.0 + amp_bpm * lead), beats_from_hr(t, 72.0 + amp_bpm * follow))


# --------------------------------------------------------------------------- window function


def test_peak_is_the_local_maximum_closest_to_zero() -> None:
    lags = np.arange(-20, 21)
    curve = 0.9 * np.exp(-0.5 * ((lags + 12) / 2.0) ** 2) + 0.5 * np.exp(
        -0.5 * ((lags - 4) / 2.0) ** 2)
    r, i = peak_nearest_zero(curve[None, :])
    assert i[0] - 20 == 4
    assert r[0] == pytest.approx(curve[24])


def test_peak_at_the_end_of_the_lag_range_counts() -> None:
    curve = np.linspace(-0.2, 0.6, 41)
    r, i = peak_nearest_zero(curve[None, :])
    assert i[0] == 40 and r[0] == pytest.approx(0.6)
    r, _ = peak_nearest_zero(np.full((1, 41), np.nan))
    assert np.isnan(r[0])


def test_window_curves_equal_pearson_per_lag() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(400), rng.standard_normal(400)
    w, lag = 120, 20
    starts = np.array([20, 100, 260])
    curves = window_curves(standardized_windows(a, w), standardized_windows(b, w), starts, lag)
    for row, s in zip(curves, starts, strict=True):
        for j, tau in enumerate(range(-lag, lag + 1)):
            expected = stats.pearsonr(a[s:s + w], b[s + tau:s + tau + w]).statistic
            assert row[j] == pytest.approx(expected, abs=1e-10)


def test_known_lag_sign_and_leader() -> None:
    lead, follow = lagged_pair(seed=1, lag_s=2.0, c=0.9)
    out = session_synchrony({"therapist": lead, "client": follow})
    s = out["synchrony"]
    assert s["significant"] and s["leader"] == "therapist"
    assert s["lag_s"] == pytest.approx(2.0, abs=0.5)
    # Swap who leads: the leader's name changes, lag_s stays positive (the leader moves first).
    out = session_synchrony({"therapist": follow, "client": lead})
    s = out["synchrony"]
    assert s["leader"] == "client"
    assert s["lag_s"] == pytest.approx(2.0, abs=0.5)
    assert out["synchrony_details"]["lag_s_first_role_leads"] == pytest.approx(-2.0, abs=0.5)


def test_independent_synthetic_pair_is_not_significant() -> None:
    lead, follow = lagged_pair(seed=2, lag_s=2.0, c=0.0)
    s = session_synchrony({"therapist": lead, "client": follow})["synchrony"]
    assert not s["significant"] and s["leader"] == "none"
    assert 0.2 < s["mean_peak_r"] < 0.7  # chance level of peak r is high, never ~0


def test_shared_pacer_alone_is_not_synchrony() -> None:
    # Both hearts follow one 6/min pacer (0.1 Hz, inside the slow band), nothing else shared.
    rate = 10.0
    rng = np.random.default_rng(5)
    t = np.arange(int(620 * rate)) / rate
    pacer = np.sin(2 * np.pi * 0.1 * t)
    a = beats_from_hr(t, 66 + 4 * pacer + 1.5 * slow_noise(rng, len(t)))
    b = beats_from_hr(t, 74 + 4 * np.roll(pacer, 8) + 1.5 * slow_noise(rng, len(t)))
    s = session_synchrony({"therapist": a, "client": b})["synchrony"]
    assert s["mean_peak_r"] > 0.7  # raw r looks like strong "synchrony"...
    assert not s["significant"]  # ...but it is no more than the pacer gives any pairing


def test_output_has_exactly_the_issue_keys() -> None:
    lead, follow = lagged_pair(seed=4, lag_s=1.0, c=0.7, duration_s=300.0)
    out = session_synchrony({"client": follow, "therapist": lead})
    assert set(out["synchrony"]) == KEYS
    assert set(out["breathing_synchrony"]) == KEYS | {"label", "band_hz"}
    assert "breathing" in out["breathing_synchrony"]["label"]
    s = out["synchrony"]
    assert isinstance(s["significant"], bool) and isinstance(s["windows"], int)
    assert 0.0 <= s["pct_windows_above_chance"] <= 100.0
    assert 0.0 < s["p_value"] <= 1.0


def test_deterministic() -> None:
    lead, follow = lagged_pair(seed=6, lag_s=1.0, c=0.5, duration_s=300.0)
    beats = {"therapist": lead, "client": follow}
    assert session_synchrony(beats) == session_synchrony(beats)


def test_gap_and_invalid_beats_are_masked_not_bridged() -> None:
    lead, follow = lagged_pair(seed=7, lag_s=1.0, c=0.7)
    keep = (follow.t_s < 200.0) | (follow.t_s > 260.0)  # 60 s of lost beats
    gapped = BeatSeries(follow.t_s[keep], follow.rr_ms[keep], follow.valid[keep])
    valid = lead.valid.copy()
    valid[(lead.t_s > 400.0) & (lead.t_s < 420.0)] = False  # contact lost
    flagged = BeatSeries(lead.t_s, lead.rr_ms, valid)
    settings = SyncSettings()
    k0 = 0
    n = int(600 * settings.rate_hz)
    a, b = prepare_pair(flagged, gapped, k0, n, settings)
    t = np.arange(n) / settings.rate_hz
    assert np.all(np.isnan(b[(t > 201.0) & (t < 259.0)]))
    assert np.all(np.isnan(a[(t > 400.5) & (t < 419.5)]))
    _, an, _ = session_analyses({"therapist": flagged, "client": gapped}, settings=settings)
    assert an is not None
    full = session_analyses({"therapist": lead, "client": follow}, settings=settings)[1]
    assert full is not None and an.windows < full.windows
    for ts in an.window_t_s:
        assert not (ts < 260.0 and ts + settings.window_s + settings.max_lag_s > 200.5)
        assert not (ts < 420.0 and ts + settings.window_s > 400.5)


def test_too_short_gives_no_windows() -> None:
    a = BeatSeries.from_rr([800.0] * 20)
    b = BeatSeries.from_rr([900.0] * 20)
    s = session_synchrony({"therapist": a, "client": b})["synchrony"]
    assert s["windows"] == 0 and s["p_value"] is None and s["leader"] == "none"
    assert s["significant"] is False


def test_bad_roles_and_settings() -> None:
    a = BeatSeries.from_rr([800.0] * 20)
    with pytest.raises(InputError):
        session_synchrony({"client": a})
    with pytest.raises(InputError):
        session_synchrony({"client": a, "therapist": a}, roles=("client", "client"))
    with pytest.raises(InputError):
        SyncSettings(window_s=0.0)
    with pytest.raises(InputError):
        SyncSettings(breathing_band_hz=(0.4, 0.15))


# --------------------------------------------------------------------------- surrogates


def test_p_value_and_effect_size() -> None:
    null = surrogates.NullDistribution("x", 3.0, np.array([0.0, 1.0, 2.0, 3.0]))
    assert null.p_value == pytest.approx(2 / 5)
    assert null.effect_size == pytest.approx((3.0 - 1.5) / np.std([0, 1, 2, 3], ddof=1))


def test_surrogate_pairs_never_share_data() -> None:
    t = np.arange(0.0, 300.0, 5.0)
    dist = np.abs(t[:, None] - t[None, :])  # "peak r" = time apart: reveals the pairs used
    circ = surrogates.circular_shift_null(dist, t, 40.0)
    assert circ.size > 0 and np.all(circ >= 40.0)
    seg = surrogates.segment_shuffle_null(dist, t, 30.0, 40.0, 200, np.random.default_rng(1))
    assert seg.size == 200 and np.all(seg >= 40.0)
    again = surrogates.segment_shuffle_null(dist, t, 30.0, 40.0, 200, np.random.default_rng(1))
    np.testing.assert_array_equal(seg, again)
    run = surrogates.running_mean_null(dist, t, 40.0, 4)
    assert run.size > 0 and np.all(run >= 40.0)


def test_block_bootstrap_shapes() -> None:
    idx = surrogates.block_bootstrap_indices(23, 6, 50, np.random.default_rng(0))
    assert idx.shape == (50, 23) and idx.min() >= 0 and idx.max() <= 22
    assert np.all(np.diff(idx[:, :6], axis=1) == 1)


# --------------------------------------------------------------------------- simulated dyads


def sim_beats(scenario: str, seed: int, duration_s: float = 600.0) -> dict[str, BeatSeries]:
    sim = pytest.importorskip("devices.sim")
    run = sim.simulate(scenario, duration_s, seed)
    return {r: BeatSeries(run.beats[r].t_s, run.beats[r].rr_ms,
                          np.ones(len(run.beats[r]), dtype=bool)) for r in run.roles}


def test_simulated_coupled_dyads_detected_with_leader_and_lag() -> None:
    for seed in range(3):
        s = session_synchrony(sim_beats("coupled", seed))["synchrony"]
        assert s["significant"], seed
        assert s["leader"] == "therapist", seed
        assert abs(s["lag_s"] - 3.0) <= 1.0, seed


@pytest.mark.parametrize("scenario", ["independent", "paced"])
def test_simulated_uncoupled_dyads_rarely_significant(scenario: str) -> None:
    outs = [session_synchrony(sim_beats(scenario, seed))["synchrony"] for seed in range(5)]
    assert sum(o["significant"] for o in outs) <= 1
    assert all(o["leader"] == "none" for o in outs if not o["significant"])


def test_coupled_scores_above_independent_with_same_people() -> None:
    # Same seed = same two people; only the coupling differs.
    for seed in range(2):
        c = session_synchrony(sim_beats("coupled", seed))["synchrony"]
        i = session_synchrony(sim_beats("independent", seed))["synchrony"]
        assert c["mean_peak_r"] > i["mean_peak_r"]
        assert c["effect_size"] > i["effect_size"]


# --------------------------------------------------------------------------- real recordings


def test_two_real_people_aligned_are_not_synchronous(
    pyhrv_long_rr: NDArray[np.float64], mitdb100: dict[str, NDArray]
) -> None:
    from coreg.engine.artifacts import correct_series

    peaks = np.asarray(mitdb100["peaks_s"], dtype=np.float64)
    rr = np.diff(peaks) * 1000.0
    raw = BeatSeries(peaks[1:], rr, np.ones(len(rr), dtype=bool))
    mit = correct_series(raw).series()  # NN after artifact correction (33 APBs, 1 PVC)
    # Seven alignments of the two people, worn "together" from 0, 5, ..., 30 min into the pyhrv
    # recording: one pair alone is a 5 % coin at α = 0.05 (the first alignment sits at p
    # 0.04-0.05 whichever way the ectopic beats are corrected), seven show whether the test's
    # false-alarm rate holds. Under chance (independent alignments) three or more of seven
    # below 0.05 happen 0.4 % of the time, one below 0.01 about 7 %.
    t_s = np.cumsum(pyhrv_long_rr) / 1000.0
    p_slow, p_breath = [], []
    for start_s in range(0, 2100, 300):
        other = BeatSeries.from_rr(pyhrv_long_rr[t_s > start_s], t0_s=float(peaks[0]))
        out = session_synchrony({"therapist": other, "client": mit})
        s = out["synchrony"]
        assert s["windows"] > 300
        if not s["significant"]:
            assert s["leader"] == "none"
        p_slow.append(s["p_value"])
        p_breath.append(out["breathing_synchrony"]["p_value"])
    for ps in (p_slow, p_breath):
        assert sum(p < 0.05 for p in ps) <= 2 and min(ps) > 0.01, ps


def test_two_halves_of_one_long_recording_are_not_synchronous(
    pyhrv_long_rr: NDArray[np.float64],
) -> None:
    t = np.cumsum(pyhrv_long_rr) / 1000.0
    half = int(np.searchsorted(t, t[-1] / 2))
    a = BeatSeries.from_rr(pyhrv_long_rr[:half])
    b = BeatSeries.from_rr(pyhrv_long_rr[half:])
    s = session_synchrony({"therapist": a, "client": b})["synchrony"]
    assert s["windows"] > 300 and not s["significant"]


# --------------------------------------------------------------------------- live


def snapshots(beats: dict[str, BeatSeries], now_s: float, span_s: float | None = None
              ) -> dict[str, BeatSeries]:
    """The beats known at ``now_s`` (optionally only the trailing ``span_s``)."""
    out = {}
    for role, b in beats.items():
        hi = int(np.searchsorted(b.t_s, now_s, side="right"))
        lo = 0 if span_s is None else int(np.searchsorted(b.t_s, now_s - span_s))
        out[role] = BeatSeries(b.t_s[lo:hi], b.rr_ms[lo:hi], b.valid[lo:hi])
    return out


def run_live(beats: dict[str, BeatSeries], until_s: float, span_s: float | None = None
             ) -> tuple[LiveSynchrony, list[LiveSyncSnapshot]]:
    live = LiveSynchrony()
    snaps = []
    for now in np.arange(5.0, until_s + 1e-9, 5.0):
        s = live.update(snapshots(beats, float(now), span_s), float(now))
        assert s is not None
        snaps.append(s)
    return live, snaps


def test_live_windows_equal_the_session_windows() -> None:
    beats = sim_beats("coupled", 4)
    live, _ = run_live(beats, 400.0)
    _, slow, _ = session_analyses(beats)
    assert slow is not None
    offline = dict(zip(slow.window_t_s.round(3).tolist(), slow.peak_r.tolist(), strict=True))
    common = [w for w in live.windows if round(w.t_s, 3) in offline]
    assert len(common) >= len(live.windows) - 1 >= 60
    # Same window function; the live filter sees less future data, so small edge differences.
    diffs = [abs(w.peak_r - offline[round(w.t_s, 3)]) for w in common]
    assert np.median(diffs) < 0.02


def test_live_verdict_waits_for_enough_surrogates() -> None:
    live, snaps = run_live(sim_beats("coupled", 2), 400.0)
    need = live.windows_needed
    assert need == 8 + 10 + 36 - 1  # separation, 10·11 ≥ 1/0.01 − 1 surrogates, the block
    first_window = next(s.t_s for s in snaps if s.window is not None)
    assert 40.0 <= first_window <= 60.0
    n_windows = 0
    for s in snaps:
        n_windows += len(s.new_windows)
        assert s.verdict.windows == n_windows
        if n_windows < need:
            assert s.verdict.state == "collecting" and np.isnan(s.chance_r95)
            assert not s.above_chance and np.isnan(s.verdict.p_value)
            # "first verdict in about …": the missing windows at one per step.
            assert s.verdict.ready_in_s == (need - n_windows) * live.settings.step_s
        else:
            # The verdict appears at the very update that completes the needed windows.
            assert np.isnan(s.verdict.ready_in_s)
            assert s.verdict.state in ("in_sync", "not_in_sync")
            assert s.chance_surrogates >= live.min_surrogates
            assert np.isfinite(s.chance_r) and s.chance_r < s.chance_r95


def test_live_verdict_is_one_test() -> None:
    """State, p, threshold, effect size and the in-sync share agree at every update."""
    live, snaps = run_live(sim_beats("coupled", 3, 900.0), 900.0)
    alpha = live.settings.live_alpha
    said = 0
    decided = 0
    for s in snaps:
        v = s.verdict
        if not v.decided:
            continue
        decided += 1
        said += v.state == "in_sync"
        assert (v.state == "in_sync") == (v.p_value <= alpha) == (s.recent_r > s.chance_r95)
        assert v.p_at_floor == (v.p_value == pytest.approx(1.0 / (v.n_surrogates + 1)))
        assert np.sign(v.effect_size) == np.sign(s.recent_r - s.chance_r)
        if v.leader is not None:
            assert v.state == "in_sync" and v.lag_s >= live.settings.leader_min_lag_s
        assert v.in_sync_pct == pytest.approx(100.0 * said / decided)
    assert snaps[-1].verdict.updates == decided > 100
    # Coupled, therapist 3 s ahead: in sync most of the time, and the leader is the therapist.
    assert snaps[-1].verdict.in_sync_pct > 50.0
    leaders = {s.verdict.leader for s in snaps if s.verdict.state == "in_sync"}
    assert leaders <= {"therapist", None} and "therapist" in leaders


@pytest.mark.parametrize("scenario", ["independent", "paced"])
def test_live_rarely_in_sync_between_uncoupled_people(scenario: str) -> None:
    pcts = [run_live(sim_beats(scenario, seed, 900.0), 900.0)[1][-1].verdict.in_sync_pct
            for seed in (11, 12)]
    assert max(pcts) <= 10.0, pcts


def test_live_reads_only_the_trailing_data() -> None:
    beats = sim_beats("weak", 3)
    live_full, full = run_live(beats, 600.0)
    live_trail, trail = run_live(beats, 600.0, span_s=420.0)
    assert [w.peak_r for w in live_full.windows] == [w.peak_r for w in live_trail.windows]
    assert full[-1].chance_r95 == trail[-1].chance_r95
    assert str(full[-1].verdict) == str(trail[-1].verdict)  # (str: NaN equals NaN)


def test_live_gap_is_reported_not_bridged() -> None:
    beats = sim_beats("coupled", 1)
    cut = {r: BeatSeries(b.t_s[b.t_s < 200.0], b.rr_ms[b.t_s < 200.0],
                         b.valid[b.t_s < 200.0]) if r == "client" else b
           for r, b in beats.items()}
    _, snaps = run_live(cut, 300.0)
    assert snaps[-1].status == "gap"
    assert all(w.t_s < 200.0 for s in snaps for w in s.new_windows)
