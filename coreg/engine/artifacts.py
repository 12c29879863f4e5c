"""Artifact detection and correction of RR series after Lipponen & Tarvainen (2019).

Each beat is classified from dRR (successive differences) and mRR (difference from the median
of the 11 surrounding RR, negative values doubled), both normalised by time-varying thresholds
α × the quartile deviation of their absolute values over 91 beats (α = 5.2). Ectopic beats show
a negative–positive or positive–negative dRR pair (constants c1 = 0.13, c2 = 0.17); long and
short beats a large dRR followed by a return, or |mRR| > 3 thresholds; a long beat close to two
normal ones is a missed beat, a short beat that sums with the next to one normal is an extra beat.
Correction is in the RR domain: extra beats are merged with the next, missed beats split in two,
ectopic/long/short beats replaced by linear interpolation of the neighbouring normal beats,
each stretch of them then rescaled to the time its raw beats took (:func:`elapsed_time_ratio`).

Two variants share the same per-beat rule (:func:`_classify_beat`; the live detector inlines
it for speed, and a test holds the two equal):

* :func:`detect` — offline, windows centred on each beat (it looks ahead up to 45 beats).
* :class:`LiveArtifactDetector` — live, thresholds over the trailing 91 beats and medians
  truncated at the newest beat; the verdict on the last :data:`LIVE_LOOKAHEAD_BEATS` beats is
  provisional and may be revised by the beats that follow, then it is final.

This is written from the paper's description; it is not a copy of neurokit2 or systole.

References
----------
Lipponen, J. A., Tarvainen, M. P. (2019). A robust algorithm for heart rate variability time
series artefact correction using novel beat classification. J. Med. Eng. Technol.
43(3):173-181. doi:10.1080/03091902.2019.1640306

Why one module of this size: the offline and the live detector share the per-beat rule
and must stay equal (a test holds them so); one module keeps them side by side.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass
from enum import IntEnum
from typing import cast

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from coreg.engine.beats import BeatSeries

logger = logging.getLogger(__name__)

ALPHA = 5.2
C1 = 0.13
C2 = 0.17
QD_WINDOW_BEATS = 91
MEDIAN_WINDOW_BEATS = 11
#: Beats at the end of a live series whose verdict may still change.
LIVE_LOOKAHEAD_BEATS = MEDIAN_WINDOW_BEATS // 2
#: RR outside this range (ms) is not a heartbeat interval at all (20–300 bpm).
PLAUSIBLE_RR_MS: tuple[float, float] = (200.0, 3000.0)
#: Threshold floor (a documented deviation from the paper): the dRR threshold is at least this
#: fraction of the local 11-beat median RR, and the mRR threshold at least a third of it, so no
#: beat is called an artifact unless it differs from its neighbour, or from the local median, by
#: more than 15 % of an RR interval. Without a floor, a very regular, large oscillation (quartile
#: deviation of |dRR| of a few ms) makes every ordinary breath-to-breath swing "long" or "short".
#: 15 % stays below the 20 % deviation of the classic RR filter (Malik M, Farrell T, Cripps T,
#: Camm AJ 1989, Eur. Heart J. 10:1060-1074) and below the smallest injected artifact (25 %);
#: see the README for its effect on the validation.
FLOOR_FRACTION = 0.15
MRR_FLOOR_DIVISOR = 3.0


class BeatClass(IntEnum):
    """Verdict on one beat."""

    NORMAL = 0
    ECTOPIC = 1
    LONG = 2
    SHORT = 3
    MISSED = 4
    EXTRA = 5
    IMPLAUSIBLE = 6


_NORMAL = int(BeatClass.NORMAL)
_ECTOPIC = int(BeatClass.ECTOPIC)
_LONG = int(BeatClass.LONG)
_SHORT = int(BeatClass.SHORT)
_MISSED = int(BeatClass.MISSED)
_EXTRA = int(BeatClass.EXTRA)
_IMPLAUSIBLE = int(BeatClass.IMPLAUSIBLE)


def _quartile_deviation(x: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
    q1, q3 = np.percentile(x, [25.0, 75.0], axis=axis)
    return cast("NDArray[np.float64]", (q3 - q1) / 2.0)


def _centred_qd(x_abs: NDArray[np.float64], window: int) -> NDArray[np.float64]:
    """Quartile deviation over a centred window, truncated at the ends."""
    n = len(x_abs)
    half = window // 2
    out = np.empty(n)
    if n >= window:
        out[half : n - half] = _quartile_deviation(sliding_window_view(x_abs, window), axis=1)
        edges = np.r_[0:half, n - half : n]
    else:
        edges = np.arange(n)
    if len(edges):
        # Truncated windows at the ends: NaN padding and one nan-aware percentile call.
        padded = np.concatenate([np.full(half, np.nan), x_abs, np.full(half, np.nan)])
        wins = sliding_window_view(padded, 2 * half + 1)[edges]
        q1, q3 = np.nanpercentile(wins, [25.0, 75.0], axis=1)
        out[edges] = (q3 - q1) / 2.0
    return out


def _centred_median(rr: NDArray[np.float64], window: int) -> NDArray[np.float64]:
    n = len(rr)
    half = window // 2
    out = np.empty(n)
    if n >= window:
        out[half : n - half] = np.median(sliding_window_view(rr, window), axis=1)
        edges = [*range(half), *range(n - half, n)]
    else:
        edges = list(range(n))
    for j in edges:
        out[j] = np.median(rr[max(0, j - half) : j + half + 1])
    return out


def _safe_threshold(th: ArrayLike) -> NDArray[np.float64]:
    # A perfectly regular series has QD 0: any deviation then counts, without dividing by 0.
    return cast("NDArray[np.float64]", np.maximum(th, 1e-6))


def _classify_beat(
    j: int,
    rr: NDArray[np.float64] | list[float],
    drrs: NDArray[np.float64] | list[float],
    mrrs: NDArray[np.float64] | list[float],
    med: NDArray[np.float64] | list[float],
    th2: NDArray[np.float64] | list[float],
    n: int,
    c1: float = C1,
    c2: float = C2,
) -> int:
    """Lipponen & Tarvainen 2019 decision for beat ``j`` of a series of ``n`` known beats.

    Neighbours beyond ``n - 1`` are unknown (live end of series) and count as 0 in the
    normalised dRR, so they can neither confirm nor refute a pattern.
    """
    d0 = drrs[j]
    dm1 = drrs[j - 1] if j >= 1 else 0.0
    dp1 = drrs[j + 1] if j + 1 < n else 0.0
    dp2 = drrs[j + 2] if j + 2 < n else 0.0
    # S12: the neighbour of opposite tendency; S22: the larger of the next two's return.
    s12 = max(dm1, dp1) if d0 > 0 else min(dm1, dp1)
    s22 = min(dp1, dp2) if d0 >= 0 else max(dp1, dp2)
    if abs(d0) > 1.0 and (
        (d0 > 1.0 and s12 < -c1 * d0 - c2) or (d0 < -1.0 and s12 > -c1 * d0 + c2)
    ):
        return _ECTOPIC
    if (abs(d0) > 1.0 and ((d0 > 1.0 and s22 < -1.0) or (d0 < -1.0 and s22 > 1.0))) or abs(
        mrrs[j]
    ) > 3.0:
        long_beat = mrrs[j] > 0 if mrrs[j] != 0 else d0 > 0
        if long_beat and abs(rr[j] / 2.0 - med[j]) < th2[j]:
            return _MISSED
        if not long_beat and j + 1 < n and abs(rr[j] + rr[j + 1] - med[j]) < th2[j]:
            return _EXTRA
        return _LONG if long_beat else _SHORT
    return _NORMAL


def detect(
    rr_ms: NDArray[np.float64] | list[float],
    *,
    alpha: float = ALPHA,
    c1: float = C1,
    c2: float = C2,
    floor_frac: float = FLOOR_FRACTION,
) -> NDArray[np.int8]:
    """Classify every beat of one contiguous RR run (offline, centred windows).

    Parameters
    ----------
    rr_ms
        RR intervals in ms of one gap-free run of beats.
    alpha, c1, c2
        The paper's constants.
    floor_frac
        Threshold floor as a fraction of the local median RR (see :data:`FLOOR_FRACTION`);
        0 gives the paper's method exactly.

    Returns
    -------
    numpy.ndarray of int8
        A :class:`BeatClass` value per beat.

    References
    ----------
    Lipponen & Tarvainen 2019, doi:10.1080/03091902.2019.1640306.
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    n = len(rr)
    labels = np.zeros(n, dtype=np.int8)
    if n < 3:
        return labels
    drr: NDArray[np.float64] = np.diff(rr, prepend=rr[0])
    med = _centred_median(rr, MEDIAN_WINDOW_BEATS)
    floor_ms = floor_frac * med
    th1 = np.maximum(_safe_threshold(alpha * _centred_qd(np.abs(drr), QD_WINDOW_BEATS)),
                     floor_ms)
    drrs = drr / th1
    mrr = cast("NDArray[np.float64]", rr - med)
    mrr = np.where(mrr < 0, 2.0 * mrr, mrr)
    th2 = np.maximum(_safe_threshold(alpha * _centred_qd(np.abs(mrr), QD_WINDOW_BEATS)),
                     floor_ms / MRR_FLOOR_DIVISOR)
    mrrs = mrr / th2
    rr_l, drrs_l, mrrs_l, med_l, th2_l = (cast("list[float]", a.tolist())
                                          for a in (rr, drrs, mrrs, med, th2))
    for j in range(n):
        labels[j] = _classify_beat(j, rr_l, drrs_l, mrrs_l, med_l, th2_l, n, c1, c2)
    _one_extra_per_pair(labels)
    return labels


def _one_extra_per_pair(labels: NDArray[np.int8]) -> None:
    # An extra beat is merged with its successor, which is then not an artifact of its own.
    for j in np.flatnonzero(labels[:-1] == _EXTRA):
        labels[j + 1] = _NORMAL


@dataclass(frozen=True, slots=True)
class Corrected:
    """An NN series after correction.

    ``source_index[k]`` is the input beat that output beat ``k`` derives from (a split missed
    beat gives two outputs with the same source; a merged extra beat's output points to the
    later input beat). ``break_before[k]`` is True when the difference to beat ``k-1`` must not
    be used (gap or invalid beat in between, or the first beat).
    """

    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    valid: NDArray[np.bool_]
    source_index: NDArray[np.int64]
    break_before: NDArray[np.bool_]

    def series(self) -> BeatSeries:
        """The corrected beats as a :class:`BeatSeries`."""
        return BeatSeries(self.t_s, self.rr_ms, self.valid)


#: An interpolated stretch is rescaled to the time its beats really took (see
#: :func:`elapsed_time_ratio`) only when that time is within this factor of the interpolated
#: one: 15 %, the threshold floor (:data:`FLOOR_FRACTION`), the least difference coreg calls an
#: artifact. A beat too many or too few in a stretch of up to six beats is off by more (1/6 or
#: more), so a stretch whose beat count is wrong is left as interpolated.
ELAPSED_RATIO_BOUNDS: tuple[float, float] = (1.0 / (1.0 + FLOOR_FRACTION), 1.0 + FLOOR_FRACTION)


def elapsed_time_ratio(raw_ms: NDArray[np.float64] | list[float],
                       interpolated_ms: NDArray[np.float64] | list[float]) -> float:
    """Factor that makes interpolated intervals fill the time their raw beats took.

    A stretch of consecutive interpolated beats (ectopic, long, short) lies between two beats
    whose times are measured: the raw intervals of the stretch sum to the time that really
    passed. Linear interpolation between the normal neighbours does not know it: around a
    premature beat with its compensatory pause (raw 700 + 1290 ms where the sinus rhythm gave
    1023 + 966 ms, say) it fills the stretch with the neighbours' level and adds time that
    never passed, which the heart-rate signal then carries as a dip lasting the whole stretch.
    Multiplying the interpolated values by ``sum(raw)/sum(interpolated)`` keeps their shape and
    the beat timeline: the corrected stretch ends where the next beat really starts, and its
    mean rate is the rate at which the heart really beat. This is a documented deviation from
    the plain interpolation of Lipponen & Tarvainen (2019); interpolation itself follows
    Lippman, Stein & Lerman (1994), Am. J. Physiol. 267:H411-H418.

    Returns
    -------
    float
        The factor, or 1.0 when it falls outside :data:`ELAPSED_RATIO_BOUNDS` (the stretch
        may then hold a beat too many or too few, and interpolation is left as it is).
    """
    est = float(np.sum(interpolated_ms))
    if not est > 0.0:
        return 1.0
    ratio = float(np.sum(raw_ms)) / est
    lo, hi = ELAPSED_RATIO_BOUNDS
    return ratio if lo <= ratio <= hi else 1.0


def _interior_runs(interp: NDArray[np.intp], keep: NDArray[np.bool_], n: int
                   ) -> list[tuple[int, int]]:
    """``[a, b)`` stretches of consecutive interpolated beats with a measured beat on both sides.

    The beat before must be a kept, not interpolated one, and a beat must follow inside the
    run (a stretch at either end of a run is left as interpolated: the live engine cannot
    know yet that it has ended).
    """
    out: list[tuple[int, int]] = []
    if not len(interp):
        return out
    breaks = np.flatnonzero(np.diff(interp) != 1) + 1
    for seg in np.split(interp, breaks):
        a, b = int(seg[0]), int(seg[-1]) + 1
        if a > 0 and keep[a - 1] and b < n:
            out.append((a, b))
    return out


def correct_run(
    t_s: NDArray[np.float64], rr_ms: NDArray[np.float64], labels: NDArray[np.int8]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Correct one contiguous run in the RR domain; return (t_s, rr_ms, source index).

    Extra beats merge with the next beat, missed beats split in two equal halves, ectopic,
    long and short beats take the value linearly interpolated (in time) between the nearest
    normal beats on each side (or the nearest one at an end), and a stretch of them between two
    measured beats is then rescaled to the time it really took (:func:`elapsed_time_ratio`);
    beat times of interpolated beats follow the preceding corrected beat so that the run stays
    contiguous. Implausible beats are interpolated like ectopic ones.
    """
    t = np.asarray(t_s, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    lab = np.asarray(labels, dtype=np.int64)
    n = len(rr)
    if not np.any(lab):
        return t.copy(), rr.copy(), np.arange(n, dtype=np.int64)
    normal = lab == _NORMAL
    if not np.any(normal):
        # Nothing to anchor an interpolation on: keep the run as it is.
        return t.copy(), rr.copy(), np.arange(n, dtype=np.int64)
    t_out = t.copy()
    rr_out = rr.copy()
    keep = np.ones(n, dtype=bool)
    extra = np.flatnonzero(lab[:-1] == _EXTRA)
    for j in extra:
        rr_out[j + 1] = rr[j] + rr[j + 1]
        keep[j] = False
    interp = np.flatnonzero(
        (lab == _ECTOPIC) | (lab == _LONG) | (lab == _SHORT) | (lab == _IMPLAUSIBLE)
    )
    interp = interp[keep[interp]]
    if len(interp):
        rr_out[interp] = np.interp(t[interp], t[normal], rr[normal])
        for a, b in _interior_runs(interp, keep, n):
            rr_out[a:b] *= elapsed_time_ratio(rr[a:b], rr_out[a:b])
        for j in interp:
            prev = j - 1
            while prev >= 0 and not keep[prev]:
                prev -= 1
            t_prev = t_out[prev] if prev >= 0 else t[j] - rr[j] / 1000.0
            t_out[j] = t_prev + rr_out[j] / 1000.0
    missed = (lab == _MISSED) & keep
    counts = keep.astype(np.int64) + missed
    idx = np.repeat(np.arange(n, dtype=np.int64), counts)
    t_fin = t_out[idx]
    rr_fin = rr_out[idx]
    if np.any(missed):
        is_missed = missed[idx]
        first = np.ones(len(idx), dtype=bool)
        first[1:] = idx[1:] != idx[:-1]
        rr_fin[is_missed] = rr[idx[is_missed]] / 2.0
        ins = is_missed & first
        t_fin[ins] -= rr[idx[ins]] / 2000.0
    return t_fin, rr_fin, idx


def correct_series(beats: BeatSeries, labels: NDArray[np.int8] | None = None) -> Corrected:
    """Detect (if ``labels`` is None) and correct a whole beat series, run by run.

    Invalid beats (no contact) and implausible RR are left out; each gap-free run of valid beats
    is classified with :func:`detect` and corrected with :func:`correct_run`.

    Returns
    -------
    Corrected
        Only valid beats; ``break_before`` marks the start of each run.
    """
    if labels is None:
        labels = label_series(beats)
    ts: list[NDArray[np.float64]] = []
    rrs: list[NDArray[np.float64]] = []
    srcs: list[NDArray[np.int64]] = []
    brks: list[NDArray[np.bool_]] = []
    for run in usable_runs(beats):
        t, rr, src = correct_run(beats.t_s[run], beats.rr_ms[run], labels[run])
        ts.append(t)
        rrs.append(rr)
        srcs.append(src + run.start)
        brk = np.zeros(len(t), dtype=bool)
        brk[:1] = True
        brks.append(brk)
    if not ts:
        empty = np.zeros(0)
        return Corrected(empty, empty, np.zeros(0, bool), np.zeros(0, np.int64), np.zeros(0, bool))
    t_all = np.concatenate(ts)
    return Corrected(
        t_all,
        np.concatenate(rrs),
        np.ones(len(t_all), dtype=bool),
        np.concatenate(srcs),
        np.concatenate(brks),
    )


def plausible(rr_ms: NDArray[np.float64]) -> NDArray[np.bool_]:
    """True where an RR value can be a heartbeat interval at all (200–3000 ms)."""
    rr = np.asarray(rr_ms, dtype=np.float64)
    return (rr >= PLAUSIBLE_RR_MS[0]) & (rr <= PLAUSIBLE_RR_MS[1])


def usable_runs(beats: BeatSeries) -> list[slice]:
    """Gap-free runs of valid, plausible beats (as slices into ``beats``)."""
    ok = beats.valid & plausible(beats.rr_ms)
    n = len(ok)
    if n == 0:
        return []
    brk = beats.gap_before() | ~ok
    starts = np.flatnonzero(ok & (brk | np.r_[True, ~ok[:-1]]))
    out: list[slice] = []
    for a, b in zip(starts, [*starts[1:], n], strict=True):
        bad = np.flatnonzero(~ok[a + 1 : b])
        stop = a + 1 + int(bad[0]) if len(bad) else b
        out.append(slice(int(a), int(stop)))
    return out


def label_series(beats: BeatSeries) -> NDArray[np.int8]:
    """Offline verdict for every beat: :func:`detect` per run, IMPLAUSIBLE for impossible RR.

    Invalid (no-contact) beats stay NORMAL here: they are excluded, not artifacts.
    """
    labels = np.zeros(len(beats), dtype=np.int8)
    labels[beats.valid & ~plausible(beats.rr_ms)] = BeatClass.IMPLAUSIBLE
    for run in usable_runs(beats):
        labels[run] = detect(beats.rr_ms[run])
    return labels


class LiveArtifactDetector:
    """Live Lipponen–Tarvainen classification over trailing windows, one beat at a time.

    Thresholds are α × the quartile deviation over the trailing 91 beats and the 11-beat
    median is truncated at the newest beat. After each new beat the last
    :data:`LIVE_LOOKAHEAD_BEATS` + 1 verdicts are re-evaluated; older ones are final. The
    verdicts are deterministic functions of the beats pushed so far (replay equals live).
    Call :meth:`reset` at a gap: windows never span one.

    References
    ----------
    Lipponen & Tarvainen 2019, doi:10.1080/03091902.2019.1640306.
    """

    def __init__(
        self,
        *,
        alpha: float = ALPHA,
        lookahead_beats: int = LIVE_LOOKAHEAD_BEATS,
        floor_frac: float = FLOOR_FRACTION,
    ):
        self.alpha = alpha
        self.floor_frac = floor_frac
        self.lookahead_beats = lookahead_beats
        self._keep = QD_WINDOW_BEATS + MEDIAN_WINDOW_BEATS
        self.reset()

    def reset(self) -> None:
        """Start a new run (after a gap or invalid beats)."""
        self._rr: list[float] = []
        self._drr: list[float] = []
        self._med: list[float] = []
        self._labels: list[int] = []
        self._offset = 0  # number of beats dropped from the front of the buffers
        self.n_final = 0
        # Sorted trailing windows for the quartile deviations (insert/remove, no re-sorting).
        self._drr_win: deque[float] = deque()
        self._drr_sorted: list[float] = []
        self._mrr_win: deque[float] = deque()
        self._mrr_sorted: list[float] = []

    @property
    def n_beats(self) -> int:
        """Beats pushed since the last reset."""
        return self._offset + len(self._rr)

    @property
    def n_provisional(self) -> int:
        """Beats at the end whose verdict may still change."""
        return self.n_beats - self.n_final

    def label(self, k: int) -> int:
        """Current verdict of beat ``k`` (counted since the last reset)."""
        return self._labels[k - self._offset]

    def provisional_labels(self) -> list[int]:
        """Current verdicts of the provisional beats at the end (may still change)."""
        count = self.n_beats - self.n_final
        return self._labels[-count:] if count else []

    def labels_tail(self, count: int) -> NDArray[np.int8]:
        """Current verdicts of the last ``count`` beats."""
        return np.asarray(self._labels[-count:] if count else [], dtype=np.int8)

    def _mrr(self, j: int) -> float:
        m = self._rr[j] - self._med[j]
        return 2.0 * m if m < 0 else m

    def push(self, rr_ms: float) -> list[tuple[int, int]]:
        """Add one beat; return ``(beat number, verdict)`` for beats that just became final.

        Pure Python on a handful of values per beat: the quartile deviations come from sorted
        trailing windows updated by insertion and removal; the medians of the beats whose
        window is still open are medians of suffixes of the last 11 RR, built by insertion;
        the decision rule is :func:`_classify_beat`, inlined for the few beats under review.
        """
        rr = float(rr_ms)
        rr_list = self._rr
        d = rr - rr_list[-1] if rr_list else 0.0
        rr_list.append(rr)
        self._drr.append(d)
        self._med.append(rr)
        labels = self._labels
        labels.append(_NORMAL)
        _window_add(self._drr_win, self._drr_sorted, d if d >= 0 else -d, QD_WINDOW_BEATS)
        if len(rr_list) > 2 * self._keep:
            cut = len(rr_list) - self._keep
            del rr_list[:cut], self._drr[:cut], labels[:cut], self._med[:cut]
            self._offset += cut
        n = len(rr_list)
        half = MEDIAN_WINDOW_BEATS // 2
        med = self._med
        # Beats n−1−half … n−1: their median windows reach the end, i.e. they are the suffixes
        # rr[max(0, j − half):] — grow one sorted list from the shortest suffix.
        j_lo = start = n - 1 - half if n - 1 - half > 0 else 0
        window = sorted(rr_list[start:])
        for j in range(n - 1, j_lo - 1, -1):
            s_j = j - half if j > half else 0
            while start > s_j:
                start -= 1
                insort(window, rr_list[start])
            k = len(window)
            mid = k // 2
            med[j] = window[mid] if k % 2 else 0.5 * (window[mid - 1] + window[mid])
        # Beat n-1-half now has its full median window: its |mRR| is final.
        jf = n - 1 - half
        if jf >= 0 and self.n_beats - 1 - half >= 0:
            _window_add(self._mrr_win, self._mrr_sorted, abs(self._mrr(jf)),
                        QD_WINDOW_BEATS - half)
        th1 = self.alpha * _qd_sorted(self._drr_sorted)
        if th1 < 1e-6:
            th1 = 1e-6
        merged = self._mrr_sorted[:]
        for j in range(max(0, n - half), n):
            mr = rr_list[j] - med[j]
            insort(merged, -2.0 * mr if mr < 0 else mr)
        th2 = self.alpha * _qd_sorted(merged)
        if th2 < 1e-6:
            th2 = 1e-6
        first = max(self.n_final - self._offset, n - 1 - self.lookahead_beats, 0)
        lo = first - 1 if first > 0 else 0
        m = n - lo
        rr_l = rr_list[lo:]
        med_l = med[lo:]
        f1 = self.floor_frac
        f2 = f1 / MRR_FLOOR_DIVISOR
        drrs: list[float] = []
        mrrs: list[float] = []
        th2_l: list[float] = []
        for x, d_rr, md in zip(rr_l, self._drr[lo:], med_l, strict=True):
            t1 = f1 * md
            t2 = f2 * md
            if t1 < th1:
                t1 = th1
            if t2 < th2:
                t2 = th2
            mr = x - md
            drrs.append(d_rr / t1)
            mrrs.append((2.0 * mr if mr < 0 else mr) / t2)
            th2_l.append(t2)
        # _classify_beat, inlined (same rule, same order of tests); neighbours beyond the
        # newest beat are unknown and count as 0.
        c1 = C1
        c2 = C2
        drrs.append(0.0)
        drrs.append(0.0)
        for j in range(first - lo, m):
            d0 = drrs[j]
            dm1 = drrs[j - 1] if j >= 1 else 0.0
            dp1 = drrs[j + 1]
            dp2 = drrs[j + 2]
            if d0 > 1.0:
                s12 = dm1 if dm1 > dp1 else dp1
                if s12 < -c1 * d0 - c2:
                    labels[lo + j] = _ECTOPIC
                    continue
            elif d0 < -1.0:
                s12 = dm1 if dm1 < dp1 else dp1
                if s12 > -c1 * d0 + c2:
                    labels[lo + j] = _ECTOPIC
                    continue
            mr_j = mrrs[j]
            s22 = (dp1 if dp1 < dp2 else dp2) if d0 >= 0 else (dp1 if dp1 > dp2 else dp2)
            if (d0 > 1.0 and s22 < -1.0) or (d0 < -1.0 and s22 > 1.0) or abs(mr_j) > 3.0:
                long_beat = mr_j > 0 if mr_j != 0 else d0 > 0
                if long_beat and abs(rr_l[j] / 2.0 - med_l[j]) < th2_l[j]:
                    labels[lo + j] = _MISSED
                elif (not long_beat and j + 1 < m
                      and abs(rr_l[j] + rr_l[j + 1] - med_l[j]) < th2_l[j]):
                    labels[lo + j] = _EXTRA
                else:
                    labels[lo + j] = _LONG if long_beat else _SHORT
            else:
                labels[lo + j] = _NORMAL
        # An extra beat absorbs its successor (same rule as offline).
        for j in range(max(first - 1, 0), n - 1):
            if labels[j] == _EXTRA:
                labels[j + 1] = _NORMAL
        done: list[tuple[int, int]] = []
        final_upto = self.n_beats - self.lookahead_beats
        while self.n_final < final_upto:
            done.append((self.n_final, labels[self.n_final - self._offset]))
            self.n_final += 1
        return done


def _window_add(win: deque[float], ordered: list[float], value: float, size: int) -> None:
    win.append(value)
    insort(ordered, value)
    if len(win) > size:
        old = win.popleft()
        del ordered[bisect_left(ordered, old)]


def _qd_sorted(v: list[float]) -> float:
    """Quartile deviation of a sorted list (numpy's default linear percentile rule)."""
    k = len(v)
    if k == 0:
        return 0.0
    pos = 0.75 * (k - 1)
    lo = int(pos)
    q3 = v[lo] + (v[min(lo + 1, k - 1)] - v[lo]) * (pos - lo)
    pos = 0.25 * (k - 1)
    lo = int(pos)
    q1 = v[lo] + (v[min(lo + 1, k - 1)] - v[lo]) * (pos - lo)
    return (q3 - q1) / 2.0
