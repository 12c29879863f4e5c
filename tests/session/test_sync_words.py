"""The synchrony verdict in words (coreg.session.sync_words)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from coreg.engine.synchrony.verdict import SyncVerdict, VerdictTracker, p_floor
from coreg.session.sync_words import duration_words, sync_detail, sync_headline

BASE = SyncVerdict(state="in_sync", since_s=125.0, leader="therapist", lag_s=3.2,
                   effect_size=3.8, p_value=1 / 39, n_surrogates=38, p_at_floor=True,
                   in_sync_pct=62.0, updates=100, windows=150)


def test_headline_in_sync_names_leader_and_duration() -> None:
    assert sync_headline(BASE) == "in sync for the last 2 min · therapist leading by ~3 s"
    assert sync_headline(BASE, {"therapist": "Dr K"}).endswith("Dr K leading by ~3 s")
    no_lead = dataclasses.replace(BASE, leader=None, lag_s=math.nan, since_s=40.0)
    assert sync_headline(no_lead) == "in sync for the last 40 s · no clear leader"


def test_headline_other_states() -> None:
    off = dataclasses.replace(BASE, state="not_in_sync", leader=None, since_s=200.0)
    assert sync_headline(off) == "not in sync for the last 3 min"
    col = dataclasses.replace(BASE, state="collecting", windows=0)
    assert "collecting" in sync_headline(col)
    filling = dataclasses.replace(BASE, state="collecting", windows=20, ready_in_s=165.0)
    assert sync_headline(filling) == (
        "collecting — first verdict in about 3 min")
    assert sync_detail(filling).endswith("20 windows")
    gap = dataclasses.replace(BASE, state="gap", since_s=30.0)
    assert sync_headline(gap) == "paused — gap in the data for 30 s"


def test_a_coupling_that_has_just_ended_says_why() -> None:
    # The 3-min block still passes, the latest minute is back at chance: the state is "not in
    # sync" and the words say why, so "p < 0.026" beside it is not a contradiction.
    ended = dataclasses.replace(BASE, state="not_in_sync", leader=None, since_s=10.0,
                                latest_at_chance=True, latest_p=0.62)
    assert sync_headline(ended) == ("not in sync for the last 10 s · the latest minute is back "
                                    "at chance")
    assert "latest minute p 0.620" in sync_detail(ended)
    assert "latest minute" not in sync_detail(BASE)


def test_detail_quotes_p_at_the_floor_as_a_bound() -> None:
    d = sync_detail(BASE)
    assert "p < 0.026 (38 surrogates)" in d
    assert "effect size +3.8" in d and "in sync 62% of 100 updates" in d and "150 windows" in d
    exact = dataclasses.replace(BASE, p_value=0.14, p_at_floor=False)
    assert "p 0.140 (38 surrogates)" in sync_detail(exact)
    assert "<" not in sync_detail(exact)
    many = dataclasses.replace(BASE, n_surrogates=12104, p_value=1 / 12105)
    assert "p < 0.000083 (12104 surrogates)" in sync_detail(many)


def test_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(BASE, state="apart")


def test_tracker_counts_from_the_first_decided_update() -> None:
    t = VerdictTracker()
    assert t.observe("collecting", 0.0)[2] == 0
    assert t.observe("gap", 5.0)[2] == 0  # a gap before anything was said is not counted
    since, pct, n = t.observe("in_sync", 10.0)
    assert (since, pct, n) == (0.0, 100.0, 1)
    assert t.observe("in_sync", 15.0) == (5.0, 100.0, 2)
    assert t.observe("gap", 20.0) == (0.0, pytest.approx(200 / 3), 3)
    assert p_floor(38) == pytest.approx(1 / 39)


def test_duration_words() -> None:
    assert duration_words(25) == "25 s"
    assert duration_words(125) == "2 min"
    assert duration_words(3900) == "1 h 05 min"
