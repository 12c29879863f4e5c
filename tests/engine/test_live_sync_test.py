"""The live synchrony block test against its definition, and live vs offline windows."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from coreg.engine.beats import BeatSeries
from coreg.engine.synchrony import LiveSynchrony, SyncSettings, peak_nearest_zero

# A pool longer than the runs: nothing is evicted, so the stored windows are all there is.
SMALL = SyncSettings(live_block_windows=6, live_lag_windows=12, live_latest_windows=3,
                     live_pool_s=600.0)


def _beats(scenario: str, seed: int, duration_s: float) -> dict[str, BeatSeries]:
    sim = pytest.importorskip("devices.sim")
    run = sim.simulate(scenario, duration_s, seed)
    return {r: BeatSeries(run.beats[r].t_s, run.beats[r].rr_ms,
                          np.ones(len(run.beats[r]), dtype=bool)) for r in run.roles}


def _drive(beats: dict[str, BeatSeries], until_s: float, settings: SyncSettings,
           drop: tuple[float, float] | None = None) -> tuple[LiveSynchrony, list]:
    live = LiveSynchrony(settings=settings)
    snaps = []
    for now in np.arange(5.0, until_s + 1e-9, 5.0):
        snap = {}
        for role, b in beats.items():
            keep = b.t_s <= now
            if drop is not None and role == "client":
                keep &= (b.t_s < drop[0]) | (b.t_s > drop[1])
            snap[role] = BeatSeries(b.t_s[keep], b.rr_ms[keep], b.valid[keep])
        s = live.update(snap, float(now))
        assert s is not None
        snaps.append(s)
    return live, snaps


def _brute_force(live: LiveSynchrony) -> tuple[float, float, int, float, float]:
    """Statistic, p, n, threshold and latest-minute p recomputed by the definition."""
    s = live.settings
    pool = live._pool
    order = np.argsort(pool.seq)
    seq = pool.seq[order]
    alive = seq > pool.last_seq - pool.capacity
    seq, za, zb = seq[alive], pool.za[order][alive], pool.zb[order][alive]
    k, h, g = s.live_block_windows, max(s.live_lag_windows, s.live_block_windows), live.gap_windows
    curves = np.einsum("iw,jlw->ijl", za, zb)  # curves[i, j] = A window i with B window j
    pos = {int(q): i for i, q in enumerate(seq)}

    k_min = min(s.live_block_min_windows, k)

    def stat(ea: int, eb: int, latest: bool = False) -> float:
        # All K slots known (a window, or one lost to a gap), at least k_min of them windows,
        # the last one a window.
        blk = [curves[pos[ea - d], pos[eb - d]] for d in range(k)
               if ea - d in pos and eb - d in pos]
        if len(blk) < k or not np.all(np.isfinite(blk[0])):  # it ends at a window
            return math.nan
        present = [c for c in blk if np.all(np.isfinite(c))]
        if len(present) < k_min:
            return math.nan
        if latest:  # the latest windows, all of them
            present = blk[:s.live_latest_windows]
            if not np.all(np.isfinite(present)):
                return math.nan
        long = [curves[pos[ea - d], pos[eb - d]] for d in range(h)
                if ea - d in pos and eb - d in pos]
        long = [c for c in long if np.all(np.isfinite(c))]
        if len(long) < k_min:
            return math.nan
        _, i = peak_nearest_zero(np.mean(long, axis=0)[None, :])
        if latest:
            return float(np.mean(present, axis=0)[i[0]])
        # The mean of the n windows present, times sqrt(n/K).
        return float(np.sum(present, axis=0)[i[0]] / math.sqrt(len(present) * k))

    ends = [int(q) for q in seq]
    real = stat(ends[-1], ends[-1])
    null = np.array([stat(a, b) for a in ends for b in ends if abs(a - b) >= g])
    null = null[np.isfinite(null)]
    n = null.size
    p = (np.count_nonzero(null >= real) + 1) / (n + 1)
    c = math.floor(s.live_alpha * (n + 1) + 1e-9) - 1
    # The latest-minute check: the same pairings, the statistic over the latest windows only.
    real_l = stat(ends[-1], ends[-1], latest=True)
    null_l = np.array([stat(a, b, latest=True) for a in ends for b in ends
                       if abs(a - b) >= g and math.isfinite(stat(a, b))])
    null_l = null_l[np.isfinite(null_l)]  # pairings whose latest windows are all there
    p_l = (np.count_nonzero(null_l >= real_l) + 1) / (null_l.size + 1)
    return real, p, n, float(np.sort(null)[::-1][c]), float(p_l)


@pytest.mark.parametrize("scenario", ["coupled", "independent"])
def test_block_test_equals_its_definition(scenario: str) -> None:
    """The incremental pool gives exactly the statistic, p and threshold of the definition."""
    live, snaps = _drive(_beats(scenario, 5, 420.0), 420.0, SMALL)
    last = snaps[-1]
    real, p, n, thr, p_latest = _brute_force(live)
    assert last.chance_surrogates == n > 100
    assert last.recent_r == pytest.approx(real, abs=1e-9)
    assert last.verdict.p_value == pytest.approx(p, abs=1e-12)
    assert last.chance_r95 == pytest.approx(thr, abs=1e-9)
    assert last.verdict.latest_p == pytest.approx(p_latest, abs=1e-12)
    assert last.verdict.latest_at_chance == (p <= SMALL.live_alpha and p_latest > 0.5)
    assert (last.verdict.state == "in_sync") == (p <= SMALL.live_alpha and p_latest <= 0.5)


def test_block_test_definition_holds_across_a_gap() -> None:
    """Missing windows (a 40 s hole in one strap) are excluded, never bridged."""
    live, snaps = _drive(_beats("coupled", 6, 420.0), 420.0, SMALL, drop=(150.0, 190.0))
    assert any(s.verdict.state == "gap" for s in snaps) or snaps[-1].verdict.windows < 70
    real, p, n, thr, _ = _brute_force(live)
    last = snaps[-1]
    assert last.chance_surrogates == n
    assert last.recent_r == pytest.approx(real, abs=1e-9) or math.isnan(real)
    assert last.verdict.p_value == pytest.approx(p, abs=1e-12)
    assert last.chance_r95 == pytest.approx(thr, abs=1e-9)


def test_a_block_with_windows_lost_to_a_gap_still_counts() -> None:
    """A short loss inside the block: the verdict goes on, the statistic as defined (the mean
    of the windows present times sqrt(n/K), every surrogate alike)."""
    gappy = SyncSettings(live_block_windows=24, live_block_min_windows=12, live_lag_windows=30,
                         live_latest_windows=3, live_pool_s=600.0)
    live, snaps = _drive(_beats("coupled", 6, 480.0), 480.0, gappy, drop=(380.0, 390.0))
    pool = live._pool
    order = np.argsort(pool.seq)
    block = np.isfinite(pool.za[order][-gappy.live_block_windows:, 0])
    assert 12 <= block.sum() < gappy.live_block_windows  # windows were lost, enough are left
    real, p, n, thr, p_latest = _brute_force(live)
    last = snaps[-1]
    assert last.verdict.decided and math.isfinite(real)
    assert last.recent_r == pytest.approx(real, abs=1e-9)
    assert last.chance_surrogates == n
    assert last.verdict.p_value == pytest.approx(p, abs=1e-12)
    assert last.chance_r95 == pytest.approx(thr, abs=1e-9)
    assert last.verdict.latest_p == pytest.approx(p_latest, abs=1e-12)
    # While the windows were missing the display paused, then said how long until it speaks.
    during = [x for x in snaps if 390.0 < x.t_s < 480.0 and not x.verdict.decided]
    assert during and all(x.verdict.state == "gap" for x in during)
    waiting = [x.verdict.ready_in_s for x in during if math.isfinite(x.verdict.ready_in_s)]
    assert waiting and min(waiting) == gappy.step_s


def test_a_20_s_contact_loss_pauses_the_verdict_for_about_a_minute() -> None:
    """Default settings: a 20-s loss masks ~14 windows; the verdict resumes soon after the beats
    return (before: three minutes later), and meanwhile the display counts down."""
    live, snaps = _drive(_beats("coupled", 3, 900.0), 900.0, SyncSettings(),
                         drop=(500.0, 520.0))
    assert all(x.verdict.decided for x in snaps if 400.0 <= x.t_s < 500.0)
    after = [x for x in snaps if x.t_s > 520.0]
    back = next(x.t_s for x in after if x.verdict.decided)
    assert back <= 520.0 + 75.0  # the masked windows end ~50 s after the loss, then ≤ 30 s
    waits = [x for x in after if x.t_s < back]
    assert waits and all(x.verdict.state == "gap" for x in waits)
    counts = [x.verdict.ready_in_s for x in waits if math.isfinite(x.verdict.ready_in_s)]
    assert counts and counts[-1] == live.settings.step_s
    assert all(a - b == live.settings.step_s for a, b in itertools.pairwise(counts))


def test_null_pairs_share_no_data() -> None:
    """Surrogate blocks pair windows at least window + 2·lag apart (no shared samples)."""
    live = LiveSynchrony()
    s = live.settings
    assert live.gap_windows * s.step_s >= s.window_s + 2 * s.max_lag_s


@pytest.mark.parametrize("scenario", ["coupled", "switching"])
def test_latest_minute_check_only_turns_in_sync_off(scenario: str) -> None:
    """The check can remove "in sync" updates, never add one: false alarms stay ≤ α."""
    beats = _beats(scenario, 3, 900.0)
    _, with_check = _drive(beats, 900.0, SyncSettings())
    _, without = _drive(beats, 900.0, SyncSettings(live_latest_windows=0))
    on = [s.verdict.state == "in_sync" for s in with_check]
    off = [s.verdict.state == "in_sync" for s in without]
    assert all(b for a, b in zip(on, off, strict=True) if a)
    # Same block test: where the check did not intervene the verdicts are identical.
    for a, b in zip(with_check, without, strict=True):
        assert a.verdict.p_value == b.verdict.p_value or (
            math.isnan(a.verdict.p_value) and math.isnan(b.verdict.p_value))
        if not a.verdict.latest_at_chance:
            assert a.verdict.state == b.verdict.state
    assert sum(off) > 0
