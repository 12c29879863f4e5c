"""Beat timeline from notifications: anchoring, gaps, contact, determinism."""

from __future__ import annotations

import numpy as np
from engine_helpers import beats_rr, strap_samples

from coreg.engine.timeline import BeatTimeline, timeline_from_samples
from devices.types import RRSample


def test_every_rr_becomes_one_beat_in_order() -> None:
    t, rr = beats_rr(120.0)
    samples, sent = strap_samples(t, rr)
    series = timeline_from_samples(samples)
    assert np.array_equal(series.rr_ms, rr[sent])
    assert np.all(np.diff(series.t_s) > 0)


def test_times_follow_the_true_beats() -> None:
    t, rr = beats_rr(300.0, seed=1)
    samples, sent = strap_samples(t, rr, seed=1)
    series = timeline_from_samples(samples)
    err = series.t_s - t[sent]
    # The strap's beats end before their notification; the least-delayed one anchors the run.
    assert np.max(np.abs(err)) < 0.2
    assert not np.any(series.gap_before())


def test_lost_notifications_are_a_gap_not_invented_beats() -> None:
    t, rr = beats_rr(300.0, seed=2)
    samples, sent = strap_samples(t, rr, seed=2, lose=(60, 61, 62, 150))
    series = timeline_from_samples(samples)
    assert len(series) == len(sent) < len(rr)
    gaps = np.flatnonzero(series.gap_before())
    true_gaps = [i for i in range(1, len(sent)) if sent[i] - sent[i - 1] > 1]
    assert list(gaps) == true_gaps
    assert np.max(np.abs(series.t_s - t[sent])) < 0.25


def test_disconnect_breaks_the_timeline() -> None:
    timeline = BeatTimeline()
    timeline.add(RRSample("c", 1.0, (800.0,), 75, True))
    timeline.add(RRSample("c", 2.0, (800.0, 810.0), 75, True))
    timeline.mark_break()
    timeline.add(RRSample("c", 30.0, (790.0,), 75, True))
    series = timeline.series()
    assert timeline.n_runs == 2
    assert list(series.gap_before()) == [False, False, False, True]
    assert series.t_s[-1] <= 30.0


def test_no_contact_beats_are_invalid() -> None:
    t, rr = beats_rr(60.0, seed=3)
    samples, _ = strap_samples(t, rr, seed=3, no_contact=(10, 11))
    series = timeline_from_samples(samples)
    bad = [s for s in samples if not s.contact]
    assert np.count_nonzero(~series.valid) == sum(len(s.rr_ms) for s in bad) > 0


def test_late_notification_heals() -> None:
    t, rr = beats_rr(120.0, seed=4)
    samples, sent = strap_samples(t, rr, seed=4, jitter_s=0.01)
    # One notification held back 3 s by the radio; the following ones queue behind it.
    late = [RRSample(s.source_id, s.arrival_s + (3.0 if i == 40 else 0.0), s.rr_ms, 0, True)
            for i, s in enumerate(samples)]
    fixed = []
    for s in late:
        a = max(s.arrival_s, fixed[-1].arrival_s + 0.001) if fixed else s.arrival_s
        fixed.append(RRSample(s.source_id, a, s.rr_ms, 0, True))
    series = timeline_from_samples(fixed)
    assert not np.any(series.gap_before())
    assert np.max(np.abs(series.t_s - t[sent])) < 0.2


def test_same_samples_same_timeline() -> None:
    t, rr = beats_rr(200.0, seed=5)
    samples, _ = strap_samples(t, rr, seed=5, lose=(30,))
    a = timeline_from_samples(samples)
    b = timeline_from_samples(list(samples))
    assert np.array_equal(a.t_s, b.t_s) and np.array_equal(a.valid, b.valid)
