"""The live detector's fast path equals a plain reference of the same algorithm.

``LiveArtifactDetector.push`` builds the open medians by insertion and inlines the decision rule;
the reference below recomputes every median with ``sorted`` and calls ``_classify_beat``, the
function the offline detector uses. Every push must give the same finals and provisional labels.
"""

from __future__ import annotations

from bisect import insort

import numpy as np
from artifact_injection import inject_artifacts
from hypothesis import given, settings
from hypothesis import strategies as st

from coreg.engine import artifacts as A


class _Reference:
    """Straightforward live Lipponen–Tarvainen: trailing windows, medians truncated at the end."""

    def __init__(self) -> None:
        self.rr: list[float] = []
        self.labels: list[int] = []
        self.n_final = 0

    def _median(self, j: int) -> float:
        half = A.MEDIAN_WINDOW_BEATS // 2
        v = sorted(self.rr[max(0, j - half) : j + half + 1])
        k = len(v)
        return v[k // 2] if k % 2 else 0.5 * (v[k // 2 - 1] + v[k // 2])

    @staticmethod
    def _qd(values: list[float]) -> float:
        return A._qd_sorted(sorted(values))

    def push(self, rr: float) -> list[tuple[int, int]]:
        self.rr.append(rr)
        self.labels.append(0)
        n = len(self.rr)
        half = A.MEDIAN_WINDOW_BEATS // 2
        drr = [0.0] + [self.rr[i] - self.rr[i - 1] for i in range(1, n)]
        med = [self._median(j) for j in range(n)]
        th1 = max(A.ALPHA * self._qd([abs(d) for d in drr[-A.QD_WINDOW_BEATS:]]), 1e-6)
        # |mRR| of the beats with a full median window (last QD − half of them), plus the open ones.
        closed = [j for j in range(n - 1 - half + 1) if j >= 0]
        window = [abs(2 * (self.rr[j] - med[j]) if self.rr[j] < med[j] else self.rr[j] - med[j])
                  for j in closed[-(A.QD_WINDOW_BEATS - half):]]
        for j in range(max(0, n - half), n):
            mr = self.rr[j] - med[j]
            insort(window, abs(2 * mr if mr < 0 else mr))
        th2 = max(A.ALPHA * self._qd(window), 1e-6)
        first = max(self.n_final, n - 1 - A.LIVE_LOOKAHEAD_BEATS, 0)
        lo = max(0, first - 1)
        f1 = A.FLOOR_FRACTION
        f2 = f1 / A.MRR_FLOOR_DIVISOR
        drrs, mrrs, th2s = [], [], []
        for j in range(lo, n):
            t1 = max(f1 * med[j], th1)
            t2 = max(f2 * med[j], th2)
            mr = self.rr[j] - med[j]
            drrs.append(drr[j] / t1)
            mrrs.append((2 * mr if mr < 0 else mr) / t2)
            th2s.append(t2)
        for j in range(first - lo, n - lo):
            self.labels[lo + j] = A._classify_beat(j, self.rr[lo:], drrs, mrrs, med[lo:], th2s,
                                                   n - lo)
        for j in range(max(first - 1, 0), n - 1):
            if self.labels[j] == A._EXTRA:
                self.labels[j + 1] = A._NORMAL
        done = []
        while self.n_final < n - A.LIVE_LOOKAHEAD_BEATS:
            done.append((self.n_final, self.labels[self.n_final]))
            self.n_final += 1
        return done


def _compare(rr: list[float]) -> None:
    fast = A.LiveArtifactDetector()
    ref = _Reference()
    for i, v in enumerate(rr):
        assert fast.push(v) == ref.push(v), f"finals differ at push {i}"
        k = len(ref.labels) - ref.n_final
        assert fast.provisional_labels() == (ref.labels[-k:] if k else []), f"push {i}"


def test_equal_on_real_rr_with_injected_artifacts() -> None:
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data" / "SampleNNISeriesShort.npy"
    rr = np.load(data).astype(np.float64)[:400]
    for seed in range(3):
        inj = inject_artifacts(rr, np.random.default_rng(seed), fraction=0.05)
        _compare(inj.rr_ms.tolist())


def test_equal_where_the_threshold_floors_decide() -> None:
    """A very regular, large oscillation: the quartile deviations are tiny, the floors bind."""
    rng = np.random.default_rng(11)
    k = np.arange(300)
    for amp_ms in (40.0, 90.0):
        rr = 850.0 + amp_ms * np.sin(2 * np.pi * k / 9.0) + rng.normal(0.0, 1.0, len(k))
        inj = inject_artifacts(rr, np.random.default_rng(int(amp_ms)), fraction=0.04)
        _compare(rr.tolist())
        _compare(inj.rr_ms.tolist())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(300.0, 2000.0), min_size=1, max_size=60))
def test_equal_on_arbitrary_rr(rr: list[float]) -> None:
    _compare(rr)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([800.0, 805.0, 810.0, 790.0, 735.0, 930.0, 560.0, 1150.0, 400.0,
                                 1600.0]), min_size=1, max_size=120))
def test_equal_on_near_regular_rr_with_spikes(rr: list[float]) -> None:
    _compare(rr)
