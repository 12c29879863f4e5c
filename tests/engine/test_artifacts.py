"""Lipponen–Tarvainen artifact detection and correction (docs/science.md §2)."""

from __future__ import annotations

import numpy as np
import pytest
from artifact_injection import inject_artifacts, score_detection

from coreg.engine import artifacts as A
from coreg.engine import hrv
from coreg.engine.beats import BeatSeries


def _regular(n: int = 300, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 850.0 + 40.0 * np.sin(2 * np.pi * t / 12.0) + rng.normal(0.0, 8.0, n)


def test_each_kind_is_classified() -> None:
    rr = _regular()
    rr[50] -= 250.0  # premature beat...
    rr[51] += 250.0  # ...and its compensatory pause
    rr[100] = rr[100] + rr[101]  # a missed beat (two RR merged) — shift the rest by one
    rr = np.delete(rr, 101)
    rr = np.insert(rr, 150, [300.0])  # extra beat: split RR 150 in two
    rr[151] -= 300.0
    labels = A.detect(rr)
    # The compensatory pause has dRR of opposite sign on both sides: ectopic; the premature
    # beat itself is short (it is corrected by interpolation all the same).
    assert labels[50] == A.BeatClass.SHORT and labels[51] == A.BeatClass.ECTOPIC
    assert labels[100] == A.BeatClass.MISSED
    assert labels[150] == A.BeatClass.EXTRA
    assert np.count_nonzero(labels) <= 5


def test_correction_restores_beats_and_time() -> None:
    clean = _regular()
    rr = clean.copy()
    rr = np.insert(rr, 80, [350.0])
    rr[81] -= 350.0  # extra beat
    rr[200] = rr[200] + rr[201]
    rr = np.delete(rr, 201)  # missed beat
    t = np.cumsum(rr) / 1000.0
    labels = A.detect(rr)
    t_c, rr_c, src = A.correct_run(t, rr, labels)
    assert len(rr_c) == len(clean)
    assert np.all(np.diff(t_c) > 0)
    assert t_c[-1] == pytest.approx(t[-1])
    assert hrv.time_domain(rr_c).rmssd_ms == pytest.approx(hrv.time_domain(clean).rmssd_ms,
                                                          rel=0.05)
    assert np.all(np.diff(src) >= 0)


def test_real_ectopic_beats_mitdb100(mitdb100: dict[str, np.ndarray]) -> None:
    """The 34 ectopic beats of record 100 touch 68 RR intervals: all are flagged."""
    labels = A.detect(mitdb100["rr_ms"])
    involved = ~mitdb100["rr_is_nn"]
    flagged = labels != A.BeatClass.NORMAL
    assert np.all(flagged[involved])
    assert np.count_nonzero(flagged & ~involved) / np.count_nonzero(~involved) < 0.01


def test_injected_artifacts_meet_targets(mitdb100: dict[str, np.ndarray]) -> None:
    """Sensitivity ≥ 95 %, specificity ≥ 99.5 %, RMSSD within 5 % (issue 3; docs/validation.md)."""
    clean = mitdb100["nn_ms"]
    rmssd_clean = hrv.time_domain(clean).rmssd_ms
    detected = events = fp = clean_beats = 0
    for seed in range(3):
        inj = inject_artifacts(clean, np.random.default_rng(seed), fraction=0.03)
        labels = A.detect(inj.rr_ms)
        score = score_detection(labels != A.BeatClass.NORMAL, inj)
        detected += score.detected
        events += score.events
        fp += score.false_positives
        clean_beats += score.clean_beats
        _, rr_c, _ = A.correct_run(np.cumsum(inj.rr_ms) / 1000.0, inj.rr_ms, labels)
        assert hrv.time_domain(rr_c).rmssd_ms == pytest.approx(rmssd_clean, rel=0.05)
    assert detected / events >= 0.95
    assert 1.0 - fp / clean_beats >= 0.995


def test_live_detector_tracks_offline(pyhrv_long_rr: np.ndarray) -> None:
    inj = inject_artifacts(pyhrv_long_rr[:1500], np.random.default_rng(3))
    offline = A.detect(inj.rr_ms)
    live = A.LiveArtifactDetector()
    final: dict[int, int] = {}
    for value in inj.rr_ms:
        final.update(live.push(value))
    assert live.n_provisional == A.LIVE_LOOKAHEAD_BEATS
    assert len(final) == len(inj.rr_ms) - A.LIVE_LOOKAHEAD_BEATS
    labels = np.array([final[k] for k in range(len(final))])
    agree = np.mean((labels != 0) == (offline[: len(labels)] != 0))
    assert agree > 0.98
    score = score_detection(np.r_[labels, np.zeros(live.n_provisional)] != 0, inj)
    assert score.sensitivity >= 0.9


def test_live_verdict_is_revised_then_final() -> None:
    rr = list(_regular(120))
    live = A.LiveArtifactDetector()
    for value in rr[:100]:
        live.push(value)
    live.push(400.0)  # a short interval: on its own it can only be "short"...
    first_view = live.label(100)
    out = live.push(rr[100] - 400.0)  # ...with the next it sums to one normal RR: extra beat
    assert first_view == A.BeatClass.SHORT
    assert live.label(100) == A.BeatClass.EXTRA
    assert all(k < 100 for k, _ in out)
    assert live.n_provisional == A.LIVE_LOOKAHEAD_BEATS
    final: dict[int, int] = {}
    for value in rr[101:110]:
        final.update(live.push(value))
    assert final[100] == A.BeatClass.EXTRA
    assert final[101] == A.BeatClass.NORMAL


def test_series_correction_skips_no_contact_and_gaps() -> None:
    rr = _regular(200)
    t = np.cumsum(rr) / 1000.0
    t[100:] += 5.0  # a gap before beat 100
    valid = np.ones(200, dtype=bool)
    valid[150:160] = False
    beats = BeatSeries(t, rr, valid)
    out = A.correct_series(beats)
    assert len(out.t_s) == 190
    assert np.count_nonzero(out.break_before) == 3
    assert not np.any(np.isin(out.source_index, np.arange(150, 160)))


def test_implausible_rr_is_flagged() -> None:
    rr = _regular(100)
    rr[40] = 50.0
    beats = BeatSeries.from_rr(rr)
    labels = A.label_series(beats)
    assert labels[40] == A.BeatClass.IMPLAUSIBLE


def test_injection_maps_every_beat_to_its_clean_original() -> None:
    clean = _regular(400, seed=5)
    inj = inject_artifacts(clean, np.random.default_rng(4), fraction=0.05)
    assert len(inj.source) == len(inj.rr_ms)
    assert np.all(np.diff(inj.source) >= 0)
    touched = np.zeros(len(inj.rr_ms), dtype=bool)
    for positions in inj.truth:
        touched[positions] = True
    assert np.array_equal(inj.rr_ms[~touched], clean[inj.source[~touched]])


def _large_regular_rsa(n_beats: int = 400, seed: int = 0) -> np.ndarray:
    """A very regular, large RSA seen in a session: |dRR| tightly clustered around 40 ms."""
    cycle = [869, 828, 860, 907, 872, 833, 868, 905, 847, 817, 871, 909, 841, 801, 847, 905,
             886, 840, 838]
    rng = np.random.default_rng(seed)
    reps = n_beats // len(cycle) + 1
    return np.asarray((cycle * reps)[:n_beats], dtype=np.float64) + rng.normal(0, 3, n_beats)


def test_threshold_floor_keeps_regular_large_rsa_clean() -> None:
    """Without the floor (the paper exactly) most beats are flagged; with it none are."""
    rr = _large_regular_rsa()
    assert np.count_nonzero(A.detect(rr, floor_frac=0.0)) > 0.1 * len(rr)
    assert np.count_nonzero(A.detect(rr)) == 0
    live = A.LiveArtifactDetector()
    flags = [label for value in rr for _, label in live.push(value)]
    assert sum(1 for x in flags if x) == 0


def test_threshold_floor_still_finds_injected_artifacts() -> None:
    clean = _large_regular_rsa(1200, seed=1)
    for seed in range(3):
        inj = inject_artifacts(clean, np.random.default_rng(seed), fraction=0.03)
        offline = score_detection(A.detect(inj.rr_ms) != 0, inj)
        assert offline.sensitivity == 1.0
        assert offline.specificity >= 0.995
        live = A.LiveArtifactDetector()
        final: dict[int, int] = {}
        for value in inj.rr_ms:
            final.update(live.push(value))
        labels = np.array([final.get(k, 0) for k in range(len(inj.rr_ms))])
        assert score_detection(labels != 0, inj).sensitivity >= 0.95


def _ectopic_with_full_pause(clean: np.ndarray, at: list[int]) -> np.ndarray:
    """Premature beats shortened by 30 %, each followed by its full compensatory pause."""
    rr = clean.copy()
    for j in at:
        early = 0.3 * rr[j]
        rr[j] -= early
        rr[j + 1] += early
    return rr


def test_interpolated_stretch_fills_the_time_that_really_passed() -> None:
    """A premature beat with a full compensatory pause: the sinus beat times are measured.

    Plain interpolation between the normal neighbours fills the stretch with their level; in
    a trough of a 40-ms oscillation it adds time that never passed (a heart-rate dip the slow
    synchrony signal carries for seconds). Rescaled, the stretch ends where the next beat
    starts, and its values are closer to the sinus ones.
    """
    clean = _regular()
    at = [40, 64, 88, 112, 136, 160, 184, 208, 232, 256]
    rr = _ectopic_with_full_pause(clean, at)
    t = np.cumsum(rr) / 1000.0
    labels = A.detect(rr)
    t_c, rr_c, _ = A.correct_run(t, rr, labels)
    assert len(rr_c) == len(clean)
    flagged = np.flatnonzero(labels != A.BeatClass.NORMAL)
    normal = labels == A.BeatClass.NORMAL
    assert set(flagged) == set(at) | {j + 1 for j in at}
    # The corrected timeline is consistent (each beat ends one corrected interval after the
    # one before) and keeps every measured beat where it was: only the premature beats move,
    # to where the sinus beat was.
    assert np.allclose(t_c, t[0] - rr[0] / 1000.0 + np.cumsum(rr_c) / 1000.0, atol=1e-9)
    assert np.allclose(t_c[normal], t[normal], atol=1e-9)
    assert np.allclose(t_c[at], t[at] + (clean[at] - rr[at]) / 1000.0, atol=0.03)
    plain = rr.copy()
    plain[flagged] = np.interp(t[flagged], t[normal], rr[normal])
    err_rescaled = np.abs(rr_c[flagged] - clean[flagged]).mean()
    err_plain = np.abs(plain[flagged] - clean[flagged]).mean()
    assert err_rescaled < 0.8 * err_plain
    # Each stretch's own time error is zero, where plain interpolation is off by tens of ms.
    stretch_error_ms = [abs(plain[j:j + 2].sum() - rr[j:j + 2].sum()) for j in at]
    assert max(stretch_error_ms) > 20.0


def test_a_stretch_with_a_beat_too_many_is_left_as_interpolated() -> None:
    # Three raw intervals that together span only 1.5 normal ones: the count is wrong, the
    # elapsed time cannot be shared among them (ratio outside 1/1.15-1.15).
    assert A.elapsed_time_ratio([300.0, 300.0, 675.0], [850.0, 850.0, 850.0]) == 1.0
    # Six beats where five were (an extra beat inside): 5/6 is outside too.
    assert A.elapsed_time_ratio([850.0 * 5 / 6] * 6, [850.0] * 6) == 1.0
    assert A.elapsed_time_ratio([600.0, 1100.0], [850.0, 850.0]) == pytest.approx(1.0)
    assert A.elapsed_time_ratio([600.0, 1000.0], [850.0, 850.0]) == pytest.approx(1600 / 1700)
    assert A.elapsed_time_ratio([], []) == 1.0


def test_live_engine_rescales_like_the_offline_correction() -> None:
    from coreg.engine.person import PersonEngine
    from devices.types import RRSample

    clean = _regular(400, seed=3)
    rr = _ectopic_with_full_pause(clean, [60, 130, 200, 270, 340])
    t = np.cumsum(rr) / 1000.0
    eng = PersonEngine("client")
    for tk, r in zip(t, rr, strict=True):
        eng.feed(RRSample("client", float(tk), (float(r),), round(60000.0 / r), True))
    live = eng.nn()
    offline = A.correct_series(BeatSeries(t, rr, np.ones(len(rr), bool)))
    n = len(offline.rr_ms) - 10  # the live tail is provisional
    assert len(live.rr_ms) >= n
    assert np.allclose(live.rr_ms[:n], offline.rr_ms[:n], atol=1e-6)
    assert np.allclose(live.t_s[:n], offline.t_s[:n], atol=1e-6)
    # Every measured beat stays where it was; only the premature ones move.
    keep = np.ones(n, dtype=bool)
    keep[[60, 130, 200, 270, 340]] = False
    assert np.allclose(live.t_s[:n][keep], t[:n][keep], atol=1e-6)
