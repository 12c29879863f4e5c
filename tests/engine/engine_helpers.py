"""Helpers shared by the engine tests and benchmarks (analytic RR series)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def sine_rr(
    mu_ms: float, amp_ms: float, freq_hz: float, duration_s: float, t0_s: float = 0.0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Beats of RR(t) = μ + A·sin(2πft), each RR taken at the time its interval starts."""
    t = [t0_s]
    rr: list[float] = []
    while t[-1] < t0_s + duration_s:
        r = mu_ms + amp_ms * np.sin(2 * np.pi * freq_hz * t[-1])
        rr.append(r)
        t.append(t[-1] + r / 1000.0)
    return np.asarray(t[1:]), np.asarray(rr)


def beats_rr(duration_s: float, seed: int = 0, mu_ms: float = 800.0) -> tuple[
    NDArray[np.float64], NDArray[np.float64]
]:
    """A plausible beat sequence: 0.1 Hz and 0.25 Hz oscillations plus noise."""
    rng = np.random.default_rng(seed)
    t = [0.0]
    rr: list[float] = []
    while t[-1] < duration_s:
        r = (
            mu_ms
            + 50.0 * np.sin(2 * np.pi * 0.1 * t[-1])
            + 25.0 * np.sin(2 * np.pi * 0.25 * t[-1])
            + rng.normal(0.0, 10.0)
        )
        rr.append(r)
        t.append(t[-1] + r / 1000.0)
    return np.asarray(t[1:]), np.asarray(rr)


def strap_samples(
    t_s: NDArray[np.float64],
    rr_ms: NDArray[np.float64],
    *,
    role: str = "client",
    seed: int = 0,
    jitter_s: float = 0.05,
    lose: tuple[int, ...] = (),
    no_contact: tuple[int, ...] = (),
    t0_s: float = 0.3,
):
    """RRSamples as a strap sends them: one notification a second with the beats since the last.

    Returns (samples, sent) where ``sent`` are the indices of beats that were delivered; the
    notifications numbered in ``lose`` are dropped, those in ``no_contact`` report no contact.
    """
    from devices.types import RRSample

    rng = np.random.default_rng(seed)
    samples = []
    sent: list[int] = []
    k = 0
    tick = t0_s
    i = 0
    last_arrival = -1.0
    while tick < t_s[-1]:
        j = int(np.searchsorted(t_s, tick, side="right"))
        beats = list(range(k, j))
        k = j
        if i not in lose:
            arrival = max(tick + abs(rng.normal(0.0, jitter_s)), last_arrival + 0.001)
            last_arrival = arrival
            samples.append(RRSample(role, arrival, tuple(float(rr_ms[b]) for b in beats), 0,
                                    i not in no_contact))
            sent.extend(beats)
        tick += 1.0
        i += 1
    return samples, np.asarray(sent, dtype=np.int64)
