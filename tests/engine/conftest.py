"""Shared data for the engine tests: analytic RR series and real recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

DATA = Path(__file__).resolve().parents[1] / "data"
BEAT_SYMBOLS = set("NLRBAaJSVrFejnE/fQ?")


@pytest.fixture(scope="session")
def pyhrv_long_rr() -> NDArray[np.float64]:
    """pyhrv's 60-min NN series (ms)."""
    return np.load(DATA / "SampleNNISeriesLong.npy").astype(np.float64)


@pytest.fixture(scope="session")
def mitdb100() -> dict[str, NDArray]:
    """MIT-BIH record 100 beats from the reference annotations.

    Keys: ``peaks_s`` (beat times), ``symbols``, ``rr_ms`` (all RR), ``nn_ms`` and ``nn_t_s``
    (intervals between two consecutive normal beats, with their end times).
    """
    wfdb = pytest.importorskip("wfdb")
    ann = wfdb.rdann(str(DATA / "100"), "atr")
    sym = np.asarray(ann.symbol)
    keep = np.isin(sym, list(BEAT_SYMBOLS))
    peaks_s = np.asarray(ann.sample)[keep] / float(ann.fs)
    sym = sym[keep]
    rr = np.diff(peaks_s) * 1000.0
    nn_ok = (sym[1:] == "N") & (sym[:-1] == "N")
    return {
        "peaks_s": peaks_s,
        "symbols": sym,
        "rr_ms": rr,
        "nn_ms": rr[nn_ok],
        "nn_t_s": peaks_s[1:][nn_ok],
        "rr_is_nn": nn_ok,
    }
