"""Surrogate null distributions of windowed synchrony (docs/science.md §5): hand-computable cases.

The reference implementation of the circular-shift null is tested against in
``test_surrogates_reference.py``; here each function meets an answer worked out by hand or a
property that must hold whatever the input.
"""

from __future__ import annotations

import numpy as np
import pytest

from coreg.engine import surrogates as su


def test_p_value_and_effect_size_by_hand() -> None:
    null = su.NullDistribution("circular_shift", 0.5, np.array([0.1, 0.2, 0.3, 0.6]))
    assert null.n == 4
    assert null.mean == pytest.approx(0.3)
    assert null.sd == pytest.approx(np.std([0.1, 0.2, 0.3, 0.6], ddof=1))
    assert null.effect_size == pytest.approx((0.5 - 0.3) / null.sd)
    assert null.p_value == pytest.approx((1 + 1) / (4 + 1))  # one surrogate >= 0.5
    ties = su.NullDistribution("circular_shift", 0.3, np.array([0.3, 0.3]))
    assert ties.p_value == 1.0  # ties count against the real value
    assert np.isnan(ties.effect_size)  # sd 0: undefined, not infinite
    empty = su.NullDistribution("segment_shuffle", 0.9, np.empty(0))
    assert np.isnan(empty.p_value) and np.isnan(empty.mean)


def test_separated_pairs_share_no_data() -> None:
    t = np.arange(0.0, 100.0, 5.0)
    ok = su.separated(t, 40.0)
    assert ok.shape == (20, 20) and not ok.diagonal().any()
    assert (ok == ok.T).all()
    i, j = np.nonzero(ok)
    assert np.all(np.abs(t[i] - t[j]) >= 40.0)
    assert ok[0, 8] and not ok[0, 7]  # 40 s apart counts, 35 s does not


def test_circular_shift_null_by_hand() -> None:
    # Windows 50 s apart: every non-zero shift is admissible at 40 s separation.
    t = np.array([0.0, 50.0, 100.0, 150.0])
    peak_r = np.arange(16, dtype=np.float64).reshape(4, 4)
    null = su.circular_shift_null(peak_r, t, 40.0)
    expected = [np.mean([peak_r[k, (k + m) % 4] for k in range(4)]) for m in (1, 2, 3)]
    np.testing.assert_allclose(null, expected)
    # At 60 s separation the 50 s neighbours share data: shift 1 (and 3, wrapping) is out.
    assert su.circular_shift_null(peak_r, t, 60.0).tolist() == [expected[1]]
    assert su.circular_shift_null(peak_r[:1, :1], t[:1], 40.0).size == 0


def test_independent_pairs_give_uniform_p_values() -> None:
    """Under the null (B's windows unrelated to A's) the real diagonal is one more draw."""
    rng = np.random.default_rng(11)
    t = np.arange(0.0, 600.0, 5.0)
    ps = []
    for _ in range(300):
        peak_r = rng.normal(0.4, 0.15, (len(t), len(t)))
        null = su.NullDistribution("circular_shift", float(np.mean(np.diag(peak_r))),
                                   su.circular_shift_null(peak_r, t, 40.0))
        ps.append(null.p_value)
    ps_arr = np.asarray(ps)
    assert 0.02 <= float(np.mean(ps_arr < 0.05)) <= 0.10
    assert 0.40 <= float(np.median(ps_arr)) <= 0.60


def test_segment_blocks_and_running_means() -> None:
    t = np.array([0.0, 5.0, 29.9, 30.0, 59.999999999, 61.0])
    assert su.segment_blocks(t, 30.0).tolist() == [0, 0, 0, 1, 2, 2]
    assert su.segment_blocks(np.empty(0), 30.0).size == 0
    t = np.arange(0.0, 50.0 * 6, 50.0)
    peak_r = np.ones((6, 6))
    peak_r[np.diag_indices(6)] = 9.0  # the real pairs never enter a null
    means = su.running_mean_null(peak_r, t, 40.0, 2)
    assert means.size == 2 * (1 + 2 + 3 + 4)  # diagonals ±1..±4 (5..2 long): 4..1 runs of 2
    assert np.all(means == 1.0)


def test_block_bootstrap_keeps_blocks_of_consecutive_windows() -> None:
    rng = np.random.default_rng(0)
    idx = su.block_bootstrap_indices(23, 6, 50, rng)
    assert idx.shape == (50, 23) and idx.min() >= 0 and idx.max() <= 22
    for row in idx:
        for b in range(0, 18, 6):  # whole blocks: consecutive indices
            assert np.all(np.diff(row[b:b + 6]) == 1)
    assert su.block_bootstrap_indices(3, 10, 4, rng).shape == (4, 3)  # block cut to n
