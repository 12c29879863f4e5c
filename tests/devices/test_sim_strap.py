"""The simulated strap emits what a real strap emits (docs/science.md §1, §6)."""

from __future__ import annotations

import numpy as np
import pytest
from bumble.profiles.heart_rate_service import HeartRateService

from devices.hrm import parse
from devices.sim import PersonParams, StrapParams, simulate, simulate_people
from devices.types import DeviceEvent, EventKind, RRSample

TICK_MS = 1000.0 / 1024.0


def samples(run, role: str) -> list[RRSample]:
    return [m for m in run.messages_for(role) if isinstance(m, RRSample)]


def emitted_rr(run, role: str) -> np.ndarray:
    return np.array([v for s in samples(run, role) for v in s.rr_ms])


@pytest.fixture(scope="module")
def artifacts_run():
    return simulate("artifacts", duration_s=900.0, seed=7)


@pytest.fixture(scope="module")
def dropout_run():
    return simulate("dropout", duration_s=300.0, seed=3)


@pytest.mark.parametrize("scenario", ["coupled", "artifacts", "dropout"])
def test_every_payload_decodes_with_bumble(scenario: str) -> None:
    run = simulate(scenario, duration_s=300.0, seed=11)
    n = 0
    for m in run.messages():
        if not isinstance(m, RRSample):
            continue
        n += 1
        ref = HeartRateService.HeartRateMeasurement.from_bytes(m.payload)
        assert ref.heart_rate == m.hr_bpm
        assert ref.sensor_contact_detected == m.contact
        assert ref.energy_expended is None
        if m.rr_ms:
            assert ref.rr_intervals is not None
            assert len(ref.rr_intervals) == len(m.rr_ms)
            for ours, theirs_s in zip(m.rr_ms, ref.rr_intervals, strict=True):
                assert abs(ours - theirs_s * 1000.0) < TICK_MS
        else:
            assert ref.rr_intervals is None
        ours = parse(m.payload)
        assert (ours.hr_bpm, ours.rr_ms, ours.contact) == (m.hr_bpm, m.rr_ms, m.contact)
    assert n > 2 * 250


def test_notifications_look_like_a_real_strap() -> None:
    person = PersonParams(mean_hr_bpm=62.0)  # near 1 beat/s: notifications with 0, 1 and 2 RR
    run = simulate_people({"client": person}, 600.0, 2)
    ss = samples(run, "client")
    arrivals = np.array([s.arrival_s for s in ss])
    gaps = np.diff(arrivals)
    assert np.median(gaps) == pytest.approx(1.0, abs=0.02)
    assert 0.005 < np.std(gaps) < 0.08  # arrival jitter of tens of ms
    counts = [len(s.rr_ms) for s in ss]
    assert min(counts) >= 0 and max(counts) <= 3
    assert {0, 1, 2} <= set(counts)
    rr = emitted_rr(run, "client")
    raw = rr / TICK_MS
    assert np.allclose(raw, np.round(raw), atol=1e-9)  # exact multiples of 1/1024 s
    assert all(s.contact is True for s in ss)
    assert all(abs(s.hr_bpm - 62) < 20 for s in ss)


def test_emitted_rr_are_the_true_beats_quantised_without_drift() -> None:
    run = simulate_people({"client": PersonParams()}, 300.0, 4)
    truth = run.beats["client"]
    rr = emitted_rr(run, "client")
    # The emitted sequence is a contiguous run of the true intervals (it starts after connecting).
    start = int(np.argmin(np.abs(truth.rr_ms[:10] - rr[0])))
    true_rr = truth.rr_ms[start:start + len(rr)]
    assert np.all(np.abs(true_rr - rr) <= TICK_MS)
    drift_ms = np.abs(np.cumsum(true_rr) - np.cumsum(rr))
    assert drift_ms.max() <= TICK_MS  # quantised beat times, not quantised intervals
    # Each RR arrives after its beat, and not more than a couple of seconds later.
    beat_t = truth.t_s[start:start + len(rr)]
    arrival = np.array([s.arrival_s for s in samples(run, "client") for _ in s.rr_ms])
    age = arrival - beat_t
    assert age.min() > 0.0
    assert age.max() < 3.5  # docs/science.md §1: an RR can be seconds old when it arrives


def _local_median(rr: np.ndarray, i: int, skip: set[int]) -> float:
    near = [rr[j] for j in range(max(0, i - 8), min(len(rr), i + 9))
            if j not in skip and abs(j - i) > 1]
    return float(np.median(near))


def test_artifact_truth_points_at_the_right_rr(artifacts_run) -> None:
    for role in artifacts_run.roles:
        rr = emitted_rr(artifacts_run, role)
        art = artifacts_run.truth["artifacts"][role]
        n_beats = len(rr)
        for kind in ("ectopic", "missed", "extra"):
            assert 0.005 * n_beats <= len(art[kind]) <= 0.015 * n_beats, kind
        touched = set(art["missed"])
        touched |= {i + k for i in art["ectopic"] for k in (0, 1)}
        touched |= {i + k for i in art["extra"] for k in (0, 1)}
        for i in art["ectopic"]:
            ref = _local_median(rr, i, touched)
            assert rr[i] < 0.85 * ref  # premature
            assert rr[i + 1] > 1.1 * ref  # compensatory pause
            assert rr[i] + rr[i + 1] == pytest.approx(2 * ref, rel=0.15)
        for i in art["missed"]:
            assert rr[i] == pytest.approx(2 * _local_median(rr, i, touched), rel=0.15)
        for i in art["extra"]:
            ref = _local_median(rr, i, touched)
            assert max(rr[i], rr[i + 1]) < 0.75 * ref
            assert rr[i] + rr[i + 1] == pytest.approx(ref, rel=0.15)
        # Every other interval is normal: the truth misses nothing.
        for i in range(len(rr)):
            if i not in touched:
                assert abs(rr[i] / _local_median(rr, i, touched) - 1) < 0.3


def test_dropout_events_are_in_a_sensible_order(dropout_run) -> None:
    run = dropout_run
    msgs = run.messages_for("client")
    kinds = [m.kind for m in msgs if isinstance(m, DeviceEvent)]
    assert kinds[:3] == [EventKind.CONNECTING, EventKind.CONNECTED, EventKind.BATTERY]
    assert kinds[-1] == EventKind.STOPPED
    assert msgs[-1].arrival_s == pytest.approx(run.duration_s)
    lost = kinds.index(EventKind.CONTACT_LOST)
    regained = kinds.index(EventKind.CONTACT_REGAINED)
    disc = kinds.index(EventKind.DISCONNECTED)
    assert lost < regained < disc
    after = kinds[disc:]
    assert after[1] == EventKind.RECONNECTING
    reconnected = after.index(EventKind.CONNECTED)
    assert after[reconnected - 1] == EventKind.CONNECTING
    assert after[reconnected + 1] == EventKind.BATTERY
    for e in msgs:
        if isinstance(e, DeviceEvent) and e.kind is EventKind.RECONNECTING:
            assert e.value is not None and e.value > 0
        if isinstance(e, DeviceEvent) and e.kind is EventKind.BATTERY:
            assert e.value is not None and 0 < e.value <= 100
    # Samples arrive only between CONNECTED and DISCONNECTED.
    connected = False
    for m in msgs:
        if isinstance(m, DeviceEvent) and m.kind in (EventKind.CONNECTED, EventKind.DISCONNECTED):
            connected = m.kind is EventKind.CONNECTED
        elif isinstance(m, RRSample):
            assert connected
    # No notification while disconnected; contact flag false only inside the contact-loss window.
    (d0, d1), = run.truth["disconnects"]["client"]
    (c0, c1), = run.truth["contact_loss"]["client"]
    assert d1 > d0 + 10.0
    ss = samples(run, "client")
    assert not [s for s in ss if d0 <= s.arrival_s <= d1]
    no_contact = [s for s in ss if s.contact is False]
    assert no_contact
    assert all(c0 <= s.arrival_s <= c1 + 1.0 for s in no_contact)
    assert all(s.hr_bpm == 0 for s in no_contact)
    # Garbage RR are sent only without contact (a few real ones, detected just before the
    # contact went, may ride along in the first notifications without contact).
    flags = [s.contact for s in ss for _ in s.rr_ms]
    garbage = run.truth["artifacts"]["client"]["no_contact"]
    assert garbage
    assert set(garbage) <= {i for i, ok in enumerate(flags) if ok is False}
    # The therapist's lost notifications show as gaps of about 2 s.
    t = np.array([s.arrival_s for s in samples(run, "therapist")])
    n_gaps = int(np.sum(np.diff(t) > 1.6))
    assert n_gaps == run.truth["lost_notifications"]["therapist"]


def test_contact_detection_can_be_unsupported() -> None:
    strap = StrapParams(contact_supported=False, contact_loss=((20.0, 30.0),))
    run = simulate_people({"client": PersonParams()}, 60.0, 1, straps=strap)
    ss = samples(run, "client")
    assert all(s.contact is None for s in ss)
    assert not [m for m in run.messages() if isinstance(m, DeviceEvent)
                and m.kind in (EventKind.CONTACT_LOST, EventKind.CONTACT_REGAINED)]
    for s in ss:
        assert HeartRateService.HeartRateMeasurement.from_bytes(s.payload).sensor_contact_detected \
            is None


def test_strap_params_are_validated() -> None:
    with pytest.raises(ValueError):
        StrapParams(ectopic_rate=0.5)
    with pytest.raises(ValueError):
        StrapParams(notify_period_s=0.0)
