"""Live synchrony: each new window computed once, one block test against a within-session null.

See :mod:`coreg.engine.synchrony` for the window function and docs/live-synchrony.md for the
test and its validation. In short, at every update (every ``step_s``):

* **Statistic.** The cross-correlation curves ``r_i(τ)`` of the last ``K = live_block_windows``
  windows (36 windows = three minutes of window starts, 205 s of data) are averaged *at each
  lag*; the statistic is that mean curve's value at the lag **held** from the mean curve of up
  to the last ``live_lag_windows`` windows (60 = 5 min; the local maximum closest to lag 0,
  :func:`peak_nearest_zero`, as for the session lag). A coupling holds its lag for minutes;
  chance alignments of ~0.1 Hz Mayer waves do not.
* **Chance.** The same statistic, built the same way, for every pairing of person A's block
  ending at window ``a`` with person B's block ending at ``b`` inside the trailing pool
  (``live_pool_s``, 10 min) with ``|a − b| ≥ (window + 2·lag)/step`` windows, so that no
  paired windows share data (Moulder et al. 2018, doi:10.1037/met0000172).
* **Verdict.** ``p = (k + 1)/(n + 1)`` with ``k`` of the ``n`` surrogates at or above the real
  value; *in sync* when ``p ≤ live_alpha`` (0.01) **and** the latest minute has not fallen back
  to chance: the same statistic over the latest ``live_latest_windows`` windows (5), at the
  held lag, ranked against the same pairings, has ``p ≤ live_latest_p`` (0.5). The second
  condition can only turn "in sync" off, so the expected share of false "in sync" updates stays
  at most ``live_alpha``; it lets the display say within about a minute that a coupling has
  ended. Effect size ``(real − mean)/sd`` of the same surrogates; the leader is the role whose
  heart moves first at the held lag, named only when in sync and ``|lag| ≥ leader_min_lag_s``.
* **Gaps.** A window lost to a real gap is missing, never bridged; a block counts with
  ``live_block_min_windows`` (24) of its windows, its mean scaled by ``sqrt(n/K)``, for the real
  block and every surrogate alike.

Why one module of this size: the ring of windows (:class:`_Pool`) and the engine that feeds and
tests it are one incremental algorithm — the sums the pool keeps per pairing are exactly what the
test ranks, and the slot bookkeeping (known, missing, evicted) must agree on both sides.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from coreg.engine.beats import BeatSeries
from coreg.engine.synchrony.settings import DYAD_ROLES, SyncSettings
from coreg.engine.synchrony.signal import _pad_samples, prepare_pair
from coreg.engine.synchrony.verdict import (
    COLLECTING,
    GAP,
    IN_SYNC,
    NOT_IN_SYNC,
    SyncVerdict,
    VerdictTracker,
    p_floor,
)
from coreg.engine.synchrony.windows import (
    peak_nearest_zero,
    refined_lag,
    standardized_windows,
    valid_window_starts,
)


@dataclass(frozen=True, slots=True)
class SyncWindow:
    """One analysed live window.

    Attributes
    ----------
    t_s
        Window start (host clock, s); the window covers ``[t_s, t_s + window_s)``.
    peak_r, lag_s
        Peak closest to lag 0 (positive lag: the second role follows the first).
    """

    t_s: float
    peak_r: float
    lag_s: float


@dataclass(frozen=True, slots=True)
class LiveSyncSnapshot:
    """What the live view shows about the dyad's synchrony at time ``t_s``.

    Attributes
    ----------
    t_s
        Host time of the update.
    roles
        The two roles (first, second).
    status
        ``"collecting"`` (no complete window yet), ``"gap"`` (the latest windows are missing),
        ``"ok"``.
    window
        The newest window, or None.
    new_windows
        Windows computed in this update (oldest first).
    recent_r
        The block statistic: peak of the mean curve of the last ``live_block_windows`` windows
        (NaN if any of them is missing).
    chance_r, chance_r95
        Mean of the block statistic's surrogates, and the in-sync threshold: the value the
        statistic must exceed for ``p ≤ live_alpha`` (NaN while there are fewer than
        ``1/live_alpha − 1`` surrogates).
    effect_size
        ``(recent_r − chance_r) / sd`` of the surrogates.
    above_chance
        ``recent_r > chance_r95`` (the verdict is in sync).
    lag_s
        Lag of the block's peak (positive: the first role moves first), NaN if undefined.
    chance_surrogates
        Number of surrogates.
    verdict
        What the display says (:class:`SyncVerdict`): state, leader, effect size, p and the
        in-sync share, all from this one test.
    """

    t_s: float
    roles: tuple[str, str]
    status: str
    window: SyncWindow | None
    new_windows: tuple[SyncWindow, ...]
    recent_r: float
    chance_r: float
    chance_r95: float
    effect_size: float
    above_chance: bool
    lag_s: float
    chance_surrogates: int
    verdict: SyncVerdict


def _monte_carlo_p(null: NDArray[np.float64], value: float) -> float:
    """``(k + 1)/(n + 1)``: ``k`` of the ``n`` surrogates at or above ``value``."""
    return (int(np.count_nonzero(null >= value)) + 1) / (null.size + 1)


@dataclass(frozen=True, slots=True)
class _Test:
    """One update's test: the block statistic against its surrogates, and the latest minute."""

    stat: float
    lag_s: float
    chance: float
    threshold: float
    effect_size: float
    n: int
    p: float
    p_latest: float


class _Pool:
    """The trailing windows of both people and the block statistic of every block pairing.

    A ring of ``capacity`` windows (slot = window number mod capacity) holds A's standardized
    window and B's standardized lagged windows; ``peak[i, j]`` is the block statistic of A's
    block ending at slot ``i`` with B's block ending at slot ``j`` (NaN when a block has a
    missing window). Each new window costs two curve products against the ring, ``2K`` gathers
    and ``2·capacity`` peak searches: O(capacity · lags · (w + K)), independent of the session
    length.
    """

    def __init__(self, capacity: int, w: int, n_lags: int, k: int, h: int = 0,
                 latest: int = 0, k_min: int = 0) -> None:
        self.capacity, self.k, self.h = capacity, k, max(h, k)
        self.k_min = min(max(k_min, 1), k) if k_min else k
        self.latest = min(max(latest, 0), k)
        depth = self.h
        self.za = np.full((capacity, w), np.nan)
        self.zb = np.full((capacity, n_lags, w), np.nan)
        self.seq = np.full(capacity, -10**9, dtype=np.int64)
        # rows[d][j]: curve of A's window (newest − d) with B's window in slot j; cols likewise.
        self.rows = np.full((depth, capacity, n_lags), np.nan)
        self.cols = np.full((depth, capacity, n_lags), np.nan)
        self.peak = np.full((capacity, capacity), np.nan)
        # The same statistic over the last ``latest`` windows only, at the same held lag.
        self.peak_latest = np.full((capacity, capacity), np.nan)
        self.latest_curve = np.full(n_lags, np.nan)
        self.block_curve = np.full(n_lags, np.nan)
        self.lag_curve = np.full(n_lags, np.nan)
        self.last_seq: int | None = None

    def push(self, seq: int, za: NDArray[np.float64] | None, zb: NDArray[np.float64] | None
             ) -> None:
        """Add window number ``seq`` (``None`` data: a missing window)."""
        if self.last_seq is not None:
            for missing in range(max(self.last_seq + 1, seq - self.capacity), seq):
                self._add(missing, None, None)
        self._add(seq, za, zb)
        self.last_seq = seq

    def _add(self, seq: int, za: NDArray[np.float64] | None,
             zb: NDArray[np.float64] | None) -> None:
        cap, k, h = self.capacity, self.k, self.h
        slot = seq % cap
        self.seq[slot] = seq
        self.rows[1:] = self.rows[:-1].copy()
        self.cols[1:] = self.cols[:-1].copy()
        if za is None or zb is None:
            self.za[slot] = np.nan
            self.zb[slot] = np.nan
            self.rows[0] = np.nan
            self.cols[0] = np.nan
            self.peak[slot, :] = np.nan
            self.peak[:, slot] = np.nan
            self.peak_latest[slot, :] = np.nan
            self.peak_latest[:, slot] = np.nan
            self.latest_curve = np.full_like(self.block_curve, np.nan)
            self.block_curve = np.full_like(self.block_curve, np.nan)
            self.lag_curve = np.full_like(self.block_curve, np.nan)
            return
        self.za[slot] = za
        self.zb[slot] = zb
        # einsum, not BLAS: small products, and no thread pool to contend with the UI.
        self.rows[0] = np.einsum("jlw,w->jl", self.zb, za)
        self.cols[0] = np.einsum("iw,lw->il", self.za, zb)
        # Block ending at (newest, j): sum over d of curve(A newest−d, B window seq_j − d).
        slots = np.arange(cap)
        row_sum = np.zeros((cap, self.rows.shape[2]))
        col_sum = np.zeros_like(row_sum)
        row_lat = np.zeros_like(row_sum)
        col_lat = np.zeros_like(row_sum)
        row_long = np.zeros_like(row_sum)
        col_long = np.zeros_like(row_sum)
        row_n = np.zeros((cap, 1))
        col_n = np.zeros((cap, 1))
        row_kn = np.zeros((cap, 1))
        col_kn = np.zeros((cap, 1))
        # A block needs all its K slots known (a window or a real gap, not "before the first
        # window"), at least k_min of them windows, the last one a window.
        known_r = np.ones((cap, 1), dtype=bool)
        known_c = np.ones((cap, 1), dtype=bool)
        for d in range(h):
            back = (slots - d) % cap
            ok = (self.seq[back] == self.seq - d)[:, None]
            # The newest window's own side: its window d back is known.
            own = bool(self.seq[(slot - d) % cap] == seq - d)
            r = np.where(ok, self.rows[d][back], np.nan)
            c = np.where(ok, self.cols[d][back], np.nan)
            r_ok = np.isfinite(r[:, :1])
            c_ok = np.isfinite(c[:, :1])
            r0 = np.where(r_ok, r, 0.0)
            c0 = np.where(c_ok, c, 0.0)
            if d == 0:  # a block ends at a window on both sides, never at a lost one
                known_r &= r_ok
                known_c &= c_ok
            if d < k:
                row_sum += r0
                col_sum += c0
                row_kn += r_ok
                col_kn += c_ok
                known_r &= ok & own
                known_c &= ok & own
            if d < self.latest:
                row_lat += r
                col_lat += c
            # The lag span takes the windows that exist among the last h (at least k_min).
            row_long += r0
            col_long += c0
            row_n += r_ok
            col_n += c_ok
        fresh = (self.seq > seq - cap)[:, None]
        # The mean curve of the n windows present, times sqrt(n/K): sum / sqrt(n·K) (exactly
        # the mean when the block is whole).
        row_ok = fresh & known_r & (row_kn >= self.k_min)
        col_ok = fresh & known_c & (col_kn >= self.k_min)
        with np.errstate(invalid="ignore", divide="ignore"):
            row_blk: NDArray[np.float64] = np.where(row_ok, row_sum / np.sqrt(row_kn * k),
                                                    np.nan)
            col_blk: NDArray[np.float64] = np.where(col_ok, col_sum / np.sqrt(col_kn * k),
                                                    np.nan)
            row_lag: NDArray[np.float64] = np.where(fresh & (row_n >= self.k_min),
                                                    row_long / row_n, np.nan)
            col_lag: NDArray[np.float64] = np.where(fresh & (col_n >= self.k_min),
                                                    col_long / col_n, np.nan)
        self.peak[slot, :] = self._statistic(row_blk, row_lag)
        self.peak[:, slot] = self._statistic(col_blk, col_lag)
        if self.latest:
            row_r: NDArray[np.float64] = np.where(fresh, row_lat / self.latest, np.nan)
            col_r: NDArray[np.float64] = np.where(fresh, col_lat / self.latest, np.nan)
            # NaN where the long block is: a pairing is a surrogate of both or of neither.
            self.peak_latest[slot, :] = np.where(np.isfinite(self.peak[slot, :]),
                                                 self._statistic(row_r, row_lag), np.nan)
            self.peak_latest[:, slot] = np.where(np.isfinite(self.peak[:, slot]),
                                                 self._statistic(col_r, col_lag), np.nan)
            self.latest_curve = row_r[slot]
        self.block_curve = row_blk[slot]
        self.lag_curve = row_lag[slot] if h > k else row_blk[slot]

    def _statistic(self, block: NDArray[np.float64], long: NDArray[np.float64]
                   ) -> NDArray[np.float64]:
        if self.h == self.k:
            return peak_nearest_zero(block)[0]
        ok: NDArray[np.bool_] = np.asarray(np.all(np.isfinite(long), axis=1))
        _, i = peak_nearest_zero(np.where(ok[:, None], long, 0.0))
        out = np.take_along_axis(block, i[:, None], axis=1)[:, 0]
        return np.where(ok, out, np.nan)

    def null(self, gap: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Block and latest statistics of every pairing whose windows share no data.

        Finite block statistics only; the latest statistic of the same pairings (NaN when
        there is no latest test).
        """
        if self.last_seq is None:
            return np.empty(0), np.empty(0)
        live = self.seq > self.last_seq - self.capacity
        far = np.abs(self.seq[:, None] - self.seq[None, :]) >= gap
        mask = live[:, None] & live[None, :] & far
        vals: NDArray[np.float64] = self.peak[mask]
        rec: NDArray[np.float64] = self.peak_latest[mask]
        ok = np.isfinite(vals)
        return (np.asarray(vals[ok], dtype=np.float64), np.asarray(rec[ok], dtype=np.float64))


class LiveSynchrony:
    """Live synchrony of two people, updated every ``step_s`` with bounded cost.

    Feed it snapshots of both people's beats (growing :class:`BeatSeries`, host clock) and the
    current host time; each window is computed once, from the trailing data only, with the same
    signal preparation (:func:`prepare_pair`) and window function as :func:`session_synchrony`.
    The verdict comes from the block test described in the module notes.

    Warm-up (defaults): the first window needs 30 s of both people plus the ±5 s lags and the
    5 s filter edge (about 45 s); the first block needs ``live_block_windows`` windows; the test
    needs at least ``1/live_alpha − 1`` = 99 surrogates, i.e. :attr:`windows_needed` windows
    (about 5 min after both straps start) — until then the verdict is ``"collecting"``.

    Parameters
    ----------
    roles
        First and second role (default therapist, client).
    settings
        Analysis settings.
    history
        How many windows to keep for plotting.

    Examples
    --------
    >>> live = LiveSynchrony()
    >>> live.update({"therapist": BeatSeries.from_rr([800.0] * 10),
    ...              "client": BeatSeries.from_rr([900.0] * 10)}, now_s=8.0).status
    'collecting'
    """

    def __init__(
        self,
        roles: tuple[str, str] = DYAD_ROLES,
        settings: SyncSettings | None = None,
        history: int = 1440,
    ) -> None:
        self.roles = roles
        self.settings = s = settings or SyncSettings()
        self.windows: deque[SyncWindow] = deque(maxlen=history)
        self._last_start_k: int | None = None
        self._next_update_s = -math.inf
        capacity = max(s.live_block_windows + self.gap_windows + 2,
                       round(s.live_pool_s / s.step_s))
        self._pool = _Pool(capacity, s.window_samples, 2 * s.lag_samples + 1,
                           s.live_block_windows, s.live_lag_windows, s.live_latest_windows,
                           s.live_block_min_windows)
        # Window slots since the first window: True a window, False lost to a gap (newest last).
        self._present: deque[bool] = deque(maxlen=max(s.live_block_windows, s.live_lag_windows))
        self._tracker = VerdictTracker()
        self.windows_total = 0

    @property
    def gap_windows(self) -> int:
        """Least block offset (in windows) at which two blocks share no data."""
        s = self.settings
        return math.ceil(s.min_separation_s / s.step_s - 1e-9)

    @property
    def min_surrogates(self) -> int:
        """Surrogates needed before ``p ≤ live_alpha`` is possible at all."""
        return max(1, math.ceil(1.0 / self.settings.live_alpha - 1.0 - 1e-9))

    @property
    def windows_needed(self) -> int:
        """Consecutive windows before the first verdict (see the class notes).

        ``m`` block ends give ``(m − g)(m − g + 1)`` surrogate pairs, ``g`` = :attr:`gap_windows`;
        the least ``m`` reaching :attr:`min_surrogates`, plus the block length minus one.
        """
        g, need = self.gap_windows, self.min_surrogates
        j = 1
        while j * (j + 1) < need:
            j += 1
        return g + j + self.settings.live_block_windows - 1

    def _data_end_s(self, beats: Mapping[str, BeatSeries]) -> float | None:
        ends = []
        for r in self.roles:
            x = beats.get(r)
            if x is None or len(x) < 2:
                return None
            ends.append(float(x.midpoints_s[-1]))
        return min(ends)

    def _compute_windows(
        self, a: BeatSeries, b: BeatSeries, first_k: int, last_k: int
    ) -> list[tuple[SyncWindow, NDArray[np.float64], NDArray[np.float64]]]:
        s = self.settings
        w, L, rate = s.window_samples, s.lag_samples, s.rate_hz
        margin = _pad_samples(s) * 4
        k0 = first_k - L - margin
        n = (last_k + w + L) - k0 + 1 + s.step_samples
        x, y = prepare_pair(a, b, k0, n, s, "slow")
        starts = valid_window_starts(x, y, k0, s)
        starts = starts[(starts + k0 >= first_k) & (starts + k0 <= last_k)]
        if starts.size == 0:
            return []
        za = standardized_windows(x, w)[starts]
        zb_all = standardized_windows(y, w)
        lags = np.arange(-L, L + 1)
        zb = zb_all[starts[:, None] + lags[None, :]]  # (n, 2L+1, w)
        curves = np.einsum("iw,ilw->il", za, zb)
        r, i = peak_nearest_zero(curves)
        return [(SyncWindow(float((k0 + int(starts[j])) / rate), float(r[j]),
                            float((int(i[j]) - L) / rate)), za[j], zb[j])
                for j in range(len(starts))]

    def update(self, beats: Mapping[str, BeatSeries], now_s: float) -> LiveSyncSnapshot | None:
        """Bring the live synchrony up to ``now_s``.

        Parameters
        ----------
        beats
            Role → beats so far (host clock); only the trailing part is read.
        now_s
            Current host time (passed in; the engine never reads a clock).

        Returns
        -------
        LiveSyncSnapshot or None
            None when called again before ``step_s`` has passed since the last update.
        """
        s = self.settings
        if now_s < self._next_update_s:
            return None
        self._next_update_s = now_s + s.step_s
        end_s = self._data_end_s(beats)
        new: list[SyncWindow] = []
        if end_s is not None:
            a, b = beats[self.roles[0]], beats[self.roles[1]]
            step, w, L = s.step_samples, s.window_samples, s.lag_samples
            edge = round(s.live_edge_s * s.rate_hz)
            end_k = math.floor(min(end_s, now_s) * s.rate_hz)
            last_k = ((end_k - edge - w - L) // step) * step
            keep = self.windows.maxlen or 1
            first_k = last_k - (keep - 1) * step
            if self._last_start_k is not None:
                first_k = max(first_k, self._last_start_k + step)
            if last_k >= first_k:
                first_k = max(first_k, last_k - (self._pool.capacity - 1) * step)
                computed = self._compute_windows(a, b, first_k, last_k)
                done = {round(win.t_s * s.rate_hz): (win, za, zb) for win, za, zb in computed}
                for k in range(first_k, last_k + 1, step):
                    item = done.get(k)
                    if item is None:
                        if self._pool.last_seq is not None:
                            self._pool.push(k // step, None, None)
                            self._present.append(False)
                        continue
                    win, za, zb = item
                    self._pool.push(k // step, za, zb)
                    self._present.append(True)
                    self.windows.append(win)
                    new.append(win)
                self.windows_total += len(new)
                self._last_start_k = last_k
        return self._snapshot(now_s, tuple(new))

    def _ready_in_s(self) -> float:
        """While undecided with data flowing: about how long until a verdict, in seconds.

        The window slots still needed if every next window arrives: a whole first block of
        :attr:`windows_needed` windows, then the block's ``live_block_min_windows`` of its
        ``live_block_windows`` slots, as many for the lag span, and the latest minute whole.
        ``inf`` when those are met and the test still waits (for enough surrogate pairings
        after gaps early in a session: how long is not known).
        """
        s = self.settings
        k, latest = s.live_block_windows, s.live_latest_windows
        k_min = min(s.live_block_min_windows, k)
        h = max(s.live_lag_windows, k)  # the lag span, as the pool takes it
        slots = list(self._present)
        steps = max(0, self.windows_needed - len(self.windows))
        slots.extend([True] * steps)
        for _ in range(2 * len(slots) + k + 1):
            tail = slots[-k:]
            if (len(tail) >= k and sum(tail) >= k_min and sum(slots[-h:]) >= k_min
                    and all(slots[-latest:] if latest else [True])):
                break
            slots.append(True)
            steps += 1
        return steps * s.step_s if steps else math.inf

    def _test(self) -> _Test:
        """The block test and the latest-minute check of the newest update."""
        s = self.settings
        nan = float("nan")
        pool = self._pool
        curve, lag_curve = pool.block_curve, pool.lag_curve
        if not (np.all(np.isfinite(curve)) and np.all(np.isfinite(lag_curve))):
            return _Test(nan, nan, nan, nan, nan, 0, nan, nan)
        stat = float(pool._statistic(curve[None, :], lag_curve[None, :])[0])
        lag = refined_lag(lag_curve, s.rate_hz)  # column L+τ: B shifted by +τ: τ > 0, A leads
        null, null_latest = self._pool.null(self.gap_windows)
        n = int(null.size)
        if n < self.min_surrogates:
            return _Test(stat, lag, nan, nan, nan, n, nan, nan)
        mean = float(np.mean(null))
        sd = float(np.std(null, ddof=1))
        eff = (stat - mean) / sd if sd > 0 else nan
        p = _monte_carlo_p(null, stat)
        # p ≤ α ⇔ fewer than α(n+1) surrogates reach the statistic ⇔ it exceeds the c-th largest.
        c = math.floor(s.live_alpha * (n + 1) + 1e-9) - 1
        threshold = float(-np.partition(-null, c)[c])
        p_latest = nan
        if pool.latest and np.all(np.isfinite(pool.latest_curve)):
            latest = float(pool._statistic(pool.latest_curve[None, :], lag_curve[None, :])[0])
            ok = np.isfinite(null_latest)
            if ok.any() and math.isfinite(latest):
                p_latest = _monte_carlo_p(null_latest[ok], latest)
        return _Test(stat, lag, mean, threshold, eff, n, p, p_latest)

    def _snapshot(self, now_s: float, new: tuple[SyncWindow, ...]) -> LiveSyncSnapshot:
        s = self.settings
        latest = self.windows[-1] if self.windows else None
        status = "collecting" if latest is None else "ok"
        if latest is not None and now_s - latest.t_s > (
                s.window_s + s.max_lag_s + s.live_edge_s + 3 * s.step_s):
            status = "gap"
        t = self._test()
        stat, lag, chance, threshold, eff, n, p = (t.stat, t.lag_s, t.chance, t.threshold,
                                                   t.effect_size, t.n, t.p)
        decided = bool(np.isfinite(p) and status == "ok")
        if self._pool.latest and not np.isfinite(t.p_latest):
            decided = False  # the latest minute lost a window to a gap: it cannot be checked
        passed = bool(decided and p <= s.live_alpha)
        # The latest minute must not have fallen back to chance (see the module notes).
        latest_at_chance = bool(passed and self._pool.latest
                                and not (t.p_latest <= s.live_latest_p))
        above = passed and not latest_at_chance
        if status == "gap" and self._tracker.updates:
            state = GAP
        elif not decided:
            state = GAP if self._tracker.updates else COLLECTING
        else:
            state = IN_SYNC if above else NOT_IN_SYNC
        since, pct, updates = self._tracker.observe(state, now_s)
        leader: str | None = None
        if state == IN_SYNC and np.isfinite(lag) and abs(lag) >= s.leader_min_lag_s:
            leader = self.roles[0] if lag > 0 else self.roles[1]
        verdict = SyncVerdict(
            state=state, since_s=since, leader=leader,
            lag_s=abs(lag) if state == IN_SYNC and np.isfinite(lag) else float("nan"),
            effect_size=eff if decided else float("nan"),
            p_value=p if decided else float("nan"), n_surrogates=n if decided else 0,
            p_at_floor=bool(decided and abs(p - p_floor(n)) < 1e-12),
            latest_at_chance=latest_at_chance,
            latest_p=t.p_latest if decided else float("nan"),
            in_sync_pct=pct, updates=updates, windows=self.windows_total,
            ready_in_s=self._ready_in_s() if not decided and status != "gap" else float("nan"))
        return LiveSyncSnapshot(
            t_s=now_s, roles=self.roles, status=status, window=latest, new_windows=new,
            recent_r=stat, chance_r=chance, chance_r95=threshold, effect_size=eff,
            above_chance=above, lag_s=lag, chance_surrogates=n, verdict=verdict,
        )
