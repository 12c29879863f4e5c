"""Pseudo-dyads without Dask: the fast curves, the choice of partners, the statistics."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from coreg.engine import synchrony
from coreg.engine.beats import BeatSeries
from coreg.engine.summary import summarize_person
from coreg.study import pseudo
from coreg.study.identity import identity
from coreg.study.settings import StudySettings
from devices.sim import simulate

SETTINGS = synchrony.SyncSettings()


def _nn(scenario: str, seed: int, duration_s: float) -> dict[str, BeatSeries]:
    run = simulate(scenario, duration_s=duration_s, seed=seed)
    msgs = list(run.messages())
    out = {}
    for role in run.roles:
        samples = [m for m in msgs if m.source_id == role and hasattr(m, "rr_ms")]
        events = [m for m in msgs if m.source_id == role and not hasattr(m, "rr_ms")]
        out[role] = summarize_person(samples, events)[1].series()
    return out


@pytest.fixture(scope="module")
def sessions() -> dict[str, dict[str, BeatSeries]]:
    return {"coupled": _nn("coupled", 3, 900.0), "independent": _nn("independent", 4, 700.0),
            "dropout": _nn("dropout", 5, 800.0)}


def test_real_pair_through_pseudo_code_equals_the_session_analysis(sessions) -> None:
    for name, nn in sessions.items():
        _, slow, _ = synchrony.session_analyses(nn, settings=SETTINGS, breathing=False)
        sig = {r: pseudo.person_signal(nn[r], SETTINGS) for r in nn}
        stat = pseudo.pair_stat(sig["therapist"], sig["client"], SETTINGS)
        assert stat.windows == slow.windows, name
        assert stat.mean_peak_r == pytest.approx(slow.mean_peak_r, abs=1e-12), name


def test_fast_curves_equal_the_direct_window_function(sessions) -> None:
    sig = {(s, r): pseudo.person_signal(nn[r], SETTINGS)
           for s, nn in sessions.items() for r in nn}
    # across sessions of different lengths, one with a disconnect and lost contact (NaN gaps)
    pairs = [(("coupled", "therapist"), ("independent", "client")),
             (("dropout", "therapist"), ("coupled", "client")),
             (("independent", "therapist"), ("dropout", "client"))]
    for a, b in pairs:
        s_fast, c_fast = pseudo.pair_curves(sig[a], sig[b], SETTINGS)
        s_ref, c_ref = pseudo.pair_curves_direct(sig[a], sig[b], SETTINGS)
        assert s_fast.size > 50
        np.testing.assert_array_equal(s_fast, s_ref)
        assert np.max(np.abs(c_fast - c_ref)) < 1e-9
    # the dropout session's gap removes windows: fewer than its length allows
    s_drop, _ = pseudo.pair_curves(sig[("dropout", "therapist")], sig[("dropout", "client")],
                                   SETTINGS)
    assert s_drop.size < (800 - 40) / 5


def test_constant_window_has_no_correlation() -> None:
    x = np.full(4 * 120, 70.0)
    y = 70.0 + np.sin(np.arange(4 * 120) / 7.0)
    a, b = pseudo.PersonSignal(0, x), pseudo.PersonSignal(0, y)
    _, fast = pseudo.pair_curves(a, b, SETTINGS)
    _, ref = pseudo.pair_curves_direct(a, b, SETTINGS)
    assert fast.shape == ref.shape and fast.shape[0] > 0
    assert np.isnan(fast).all() and np.isnan(ref).all()


def _dyads(n: int, therapists: int = 3) -> list[pseudo.DyadInfo]:
    return [pseudo.DyadInfo(f"s{i:03d}", f"{i:064x}"[::-1], f"T{i % therapists}", f"C{i}",
                            600.0 + 10 * i) for i in range(n)]


def test_plan_is_deterministic_capped_and_never_pairs_a_dyad_with_itself() -> None:
    dyads = _dyads(30)
    settings = StudySettings(max_pseudo=12)
    a = pseudo.plan(dyads, settings)
    b = pseudo.plan(list(reversed(dyads)), settings)
    assert a == b
    for d in dyads:
        pairs = a[d.session_id]
        assert len(pairs) == 12 and len(set(pairs)) == 12
        for p in pairs:
            assert p.client_session != p.therapist_session
            assert d.session_id in (p.client_session, p.therapist_session)
    both = {p.client_session == d.session_id for d in dyads for p in a[d.session_id]}
    assert both == {True, False}  # both directions are drawn
    # one more dyad changes only the choices that could include it
    assert len(pseudo.plan(_dyads(31), settings)) == 31


def test_plan_within_therapist_and_min_overlap() -> None:
    dyads = _dyads(12, therapists=3)
    within = pseudo.plan(dyads, StudySettings(pair="within-therapist", max_pseudo=100))
    ther = {d.session_id: d.therapist_id for d in dyads}
    for d in dyads:
        pairs = within[d.session_id]
        assert len(pairs) == 2 * 3  # three other sessions of the same therapist, both directions
        assert all(ther[p.client_session] == ther[p.therapist_session] == d.therapist_id
                   for p in pairs)
    short = [*dyads[:3], dataclasses.replace(dyads[3], duration_s=100.0)]
    chosen = pseudo.plan(short, StudySettings(max_pseudo=100, min_overlap_frac=0.5))
    assert all(short[3].session_id not in (p.client_session, p.therapist_session)
               for d in short[:3] for p in chosen[d.session_id])
    assert len(chosen[short[3].session_id]) == 6  # the short dyad may use the long ones
    unknown = [dataclasses.replace(d, therapist_id="") for d in dyads]
    assert all(not v for v in pseudo.plan(unknown, StudySettings(pair="within-therapist"))
               .values())


def test_dyad_percentile() -> None:
    c = pseudo.dyad_control(0.5, [0.1, 0.2, 0.5, 0.6, float("nan")])
    assert c.n == 4
    assert c.percentile == pytest.approx(100 * (2 + 0.5) / 4)
    assert c.difference == pytest.approx(0.5 - 0.35)
    assert np.isnan(pseudo.dyad_control(0.5, []).percentile)


def test_permutation_test_detects_real_above_pseudo_and_holds_its_level() -> None:
    rng = np.random.default_rng(7)
    ids = [f"d{i}" for i in range(15)]
    pseudo_vals = {k: list(rng.normal(0.4, 0.07, 20)) for k in ids}
    coupled = {k: 0.65 + rng.normal(0, 0.03) for k in ids}
    res = pseudo.study_control(coupled, pseudo_vals, 2000, seed=1)
    assert res.p_value < 0.001 and res.difference > 0.2 and res.median_percentile == 100
    # exchangeable (null): p values spread out; few below 0.05
    small = 0
    for trial in range(200):
        r = np.random.default_rng(trial)
        vals = {k: list(r.normal(0.4, 0.07, 11)) for k in ids}
        real = {k: v[0] for k, v in vals.items()}
        res = pseudo.study_control(real, {k: v[1:] for k, v in vals.items()}, 199, seed=trial)
        small += res.p_value < 0.05
    assert small <= 20  # 5 % expected: 10 of 200


def test_identity_sources() -> None:
    header = {"therapist": {"id": "T07"}, "settings": {"client_name": "Ana"},
              "roles": {"therapist": {"address": "AA:BB"}, "client": {"name": "Polar H10 1"}}}
    assert identity(header, "therapist").person_id == "T07"
    assert identity(header, "client") == identity({"settings": {"client_name": "Ana"}},
                                                  "client")
    assert identity(header, "client").source == "settings"
    assert identity({"roles": header["roles"]}, "therapist").source == "device address"
    assert identity({"roles": header["roles"]}, "client").person_id == "Polar H10 1"
    assert identity({}, "client").source == "none"
