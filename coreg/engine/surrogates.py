"""Chance baselines for windowed cross-correlation synchrony: surrogate pairings of windows.

Two people's heart rates correlate by chance far more than intuition says (a mean peak r of about
0.46 for independent people with 30 s windows; docs/science.md §5), so every synchrony statistic is
judged against the same statistic computed on *surrogate* pairs, in which person A's window is
paired with a window of person B from another time. Both surrogates below are built on the
matrix ``peak_r[i, j]`` = peak cross-correlation of A's window ``i`` with B's window ``j``
(:func:`coreg.engine.synchrony.pair_peak_matrix`), so that the real statistic (the diagonal) and
its surrogates come from one computation:

* **Circular shifts** pair window ``k`` of A with window ``k + m`` (modulo the number of windows)
  of B, for every shift ``m`` whose pairs never share data. A shift keeps each series' own
  autocorrelation *and* the dependence between neighbouring windows, so the spread of the
  surrogate means matches the spread of the real mean (the reason it is the default test).
* **Segment shuffling** (SUSY; Tschacher & Meier 2020, doi:10.1080/10503307.2019.1612114)
  cuts both series into segments (30 s) and pairs segment ``b`` of A with a segment ``j ≠ b``
  of B, keeping a window's offset inside its segment. Reported alongside.

A shared periodic driver (two people breathing to one 6/min pacer) is present in both kinds of
surrogate pair, so it does not count as synchrony: the per-window peak picking finds it at every
pairing. The surrogate logic follows Moulder et al. 2018 (doi:10.1037/met0000172).

Every function takes a seeded :class:`numpy.random.Generator` or is deterministic.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NullDistribution:
    """Surrogate values of a statistic and the real value judged against them.

    Parameters
    ----------
    method
        ``"circular_shift"`` or ``"segment_shuffle"``.
    real
        The real statistic.
    surrogates
        The statistic on each surrogate pairing.
    """

    method: str
    real: float
    surrogates: NDArray[np.float64]

    @property
    def n(self) -> int:
        """Number of surrogates."""
        return int(self.surrogates.size)

    @property
    def mean(self) -> float:
        """Mean of the surrogates (the chance level)."""
        return float(np.mean(self.surrogates)) if self.n else float("nan")

    @property
    def sd(self) -> float:
        """Standard deviation of the surrogates (ddof = 1)."""
        return float(np.std(self.surrogates, ddof=1)) if self.n > 1 else float("nan")

    @property
    def effect_size(self) -> float:
        """``(real − mean) / sd`` of the surrogates; NaN when undefined."""
        sd = self.sd
        if not np.isfinite(sd) or sd <= 0.0:
            return float("nan")
        return (self.real - self.mean) / sd

    @property
    def p_value(self) -> float:
        """One-sided Monte-Carlo p-value ``(k + 1) / (n + 1)``, k = surrogates ≥ real.

        Reference: Davison & Hinkley 1997, *Bootstrap Methods and their Application*, §4.2
        (doi:10.1017/CBO9780511802843).
        """
        if not self.n or not np.isfinite(self.real):
            return float("nan")
        k = int(np.count_nonzero(self.surrogates >= self.real))
        return (k + 1) / (self.n + 1)


def separated(
    t_s: NDArray[np.float64], min_separation_s: float
) -> NDArray[np.bool_]:
    """Pairs of windows far enough apart to share no data (``|t_i − t_j| ≥ min_separation_s``).

    Parameters
    ----------
    t_s
        Window start times in seconds.
    min_separation_s
        Window length plus twice the largest lag, so neither lagged window overlaps the other.

    Returns
    -------
    NDArray[np.bool_]
        ``(n, n)`` mask.
    """
    return cast("NDArray[np.bool_]", np.abs(t_s[:, None] - t_s[None, :]) >= min_separation_s)


def circular_shift_null(
    peak_r: NDArray[np.float64], t_s: NDArray[np.float64], min_separation_s: float,
    chunk: int = 256,
) -> NDArray[np.float64]:
    """Mean peak r of every circular shift of B's windows against A's that shares no data.

    Parameters
    ----------
    peak_r
        ``(n, n)`` peak correlation of A's window ``i`` with B's window ``j``.
    t_s
        Window start times (seconds), increasing.
    min_separation_s
        See :func:`separated`.
    chunk
        Shifts handled at once (memory: ``chunk × n`` values).

    Returns
    -------
    NDArray[np.float64]
        One mean per admissible shift ``m`` (every pair ``(k, k+m mod n)`` separated), in
        increasing ``m``; empty when the session is too short for any.
    """
    n = len(t_s)
    if n < 2:
        return np.empty(0)
    k = np.arange(n)
    out = []
    for m0 in range(1, n, chunk):
        m = np.arange(m0, min(n, m0 + chunk))
        j = (k[None, :] + m[:, None]) % n  # row: window k of A with window k + m of B
        ok = ~(np.abs(t_s[None, :] - t_s[j]) < min_separation_s).any(axis=1)
        if ok.any():
            out.append(np.mean(peak_r[k[None, :], j[ok]], axis=1))
    return np.concatenate(out) if out else np.empty(0)


def segment_blocks(t_s: NDArray[np.float64], segment_s: float) -> NDArray[np.int64]:
    """Segment index of each window (``floor((t − t0) / segment_s)``)."""
    if len(t_s) == 0:
        return np.empty(0, dtype=np.int64)
    return cast("NDArray[np.int64]", np.floor((t_s - t_s[0]) / segment_s + 1e-9).astype(np.int64))


def segment_shuffle_null(
    peak_r: NDArray[np.float64],
    t_s: NDArray[np.float64],
    segment_s: float,
    min_separation_s: float,
    n_surrogates: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Mean peak r over windows when each segment of A meets a random other segment of B (SUSY).

    Each surrogate draws, for every segment ``b`` of A, a segment ``j`` of B (uniformly among the
    segments at least ``min_separation_s`` away) and pairs A's window at offset ``o`` in ``b``
    with B's window at the same offset in ``j`` (pairs missing on either side are left out).

    Parameters
    ----------
    peak_r, t_s
        As in :func:`circular_shift_null`; ``t_s`` on a regular step (gaps allowed).
    segment_s
        Segment length in seconds (SUSY: 30 s).
    min_separation_s
        See :func:`separated`.
    n_surrogates
        How many surrogates.
    rng
        Seeded generator.

    Returns
    -------
    NDArray[np.float64]
        ``n_surrogates`` means (empty when fewer than two segments are far enough apart).
    """
    n = len(t_s)
    if n < 2 or n_surrogates <= 0:
        return np.empty(0)
    block = segment_blocks(t_s, segment_s)
    step_s = float(np.min(np.diff(t_s))) if n > 1 else segment_s
    offset = np.rint((t_s - t_s[0] - block * segment_s) / step_s).astype(np.int64)
    n_blocks = int(block[-1]) + 1
    n_off = int(offset.max()) + 1
    index = np.full((n_blocks, n_off), -1, dtype=np.int64)
    index[block, offset] = np.arange(n)
    starts = t_s[0] + np.arange(n_blocks) * segment_s
    allowed = separated(cast("NDArray[np.float64]", starts), min_separation_s + segment_s - step_s)
    present = cast("NDArray[np.bool_]", (index >= 0).any(axis=1))
    allowed &= present[None, :]
    rows = [b for b in range(n_blocks) if present[b] and allowed[b].any()]
    if not rows:
        return np.empty(0)
    choices = [np.flatnonzero(allowed[b]) for b in rows]
    picks = np.stack(
        [c[rng.integers(0, len(c), size=n_surrogates)] for c in choices], axis=1
    )  # (n_surrogates, len(rows))
    a_idx = index[np.asarray(rows)]  # (len(rows), n_off)
    b_idx = index[picks]  # (n_surrogates, len(rows), n_off)
    a_full = np.broadcast_to(a_idx, b_idx.shape)
    use = (a_full >= 0) & (b_idx >= 0)
    vals = np.where(use, peak_r[np.maximum(a_full, 0), np.maximum(b_idx, 0)], 0.0)
    counts = use.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = vals.sum(axis=(1, 2)) / counts
    return cast("NDArray[np.float64]", means[counts > 0])


def pair_quantile(
    peak_r: NDArray[np.float64], t_s: NDArray[np.float64], min_separation_s: float, q: float
) -> float:
    """Quantile ``q`` of the peak r of all surrogate window pairs (for "windows above chance")."""
    ok = separated(t_s, min_separation_s)
    vals = peak_r[ok]
    vals = vals[np.isfinite(vals)]
    return float(np.quantile(vals, q)) if vals.size else float("nan")


def running_mean_null(
    peak_r: NDArray[np.float64], t_s: NDArray[np.float64], min_separation_s: float, k: int
) -> NDArray[np.float64]:
    """Means of ``k`` consecutive windows along every admissible diagonal of ``peak_r``.

    The chance distribution of a live "mean peak r of the last k windows": A's windows
    ``i..i+k−1`` paired with B's ``j..j+k−1`` for every ``(i, j)`` whose pairs share no data.
    """
    n = len(t_s)
    if n < k or k < 1:
        return np.empty(0)
    ok = separated(t_s, min_separation_s)
    out: list[NDArray[np.float64]] = []
    for m in range(-(n - k), n - k + 1):
        d = np.diagonal(peak_r, offset=m)
        dm = np.diagonal(ok, offset=m)
        if len(d) < k:
            continue
        c = np.concatenate(([0.0], np.cumsum(d)))
        cm = np.concatenate(([0], np.cumsum(~dm)))
        means = (c[k:] - c[:-k]) / k
        clean = (cm[k:] - cm[:-k]) == 0
        out.append(means[clean])
    return np.concatenate(out) if out else np.empty(0)


def block_bootstrap_indices(
    n: int, block_len: int, n_boot: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Moving-block bootstrap resamples of ``0..n−1`` (Künsch 1989, doi:10.1214/aos/1176347265).

    Returns
    -------
    NDArray[np.int64]
        ``(n_boot, n)`` indices built from blocks of ``block_len`` consecutive windows.
    """
    block_len = max(1, min(block_len, n))
    n_blocks = -(-n // block_len)
    starts = rng.integers(0, n - block_len + 1, size=(n_boot, n_blocks))
    idx = (starts[:, :, None] + np.arange(block_len)[None, None, :]).reshape(n_boot, -1)
    return idx[:, :n]
