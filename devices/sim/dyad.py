"""Coupling two simulated people (docs/science.md §6).

The follower's slow (< 0.15 Hz) HR modulation becomes ``√(1−c²)·own(t) + c·leader(t − lag)``, the
leader's slow modulation rescaled to the follower's own standard deviation so that coupling
changes *what* the follower's slow HR does, not how much it varies. The breathing band (RSA) is
never coupled: two people breathing to the same pacer are synchronised by the pacer alone.
This is the data-generating model behind the windowed cross-correlation synchrony measures
(Boker et al. 2002, doi:10.1037/1082-989X.7.3.338; Palumbo et al. 2017,
doi:10.1177/1088868316628405).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

#: Seconds over which coupling fades in or out at the edge of an interval (raised cosine),
#: so a switch does not put a step into the follower's heart rate.
RAMP_S = 5.0


@dataclass(frozen=True, slots=True)
class Coupling:
    """Who follows whom, how strongly, with what lag, and when.

    Parameters
    ----------
    leader, follower
        Roles (e.g. ``"therapist"`` leads ``"client"``).
    strength
        Coupling ``c`` in [0, 1].
    lag_s
        How far the follower trails the leader, in seconds (>= 0).
    intervals
        ``((t0_s, t1_s), ...)`` during which the coupling is on; empty means "always on".
    """

    leader: str = "therapist"
    follower: str = "client"
    strength: float = 0.7
    lag_s: float = 3.0
    intervals: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"coupling strength must be in [0, 1]: {self.strength}")
        if self.lag_s < 0.0:
            raise ValueError(f"lag_s must be >= 0: {self.lag_s}")
        if self.leader == self.follower:
            raise ValueError("leader and follower must differ")

    def on_intervals(self, duration_s: float) -> list[list[float]]:
        """The coupling-on intervals clipped to ``[0, duration_s]`` (JSON-ready)."""
        spans = self.intervals or ((0.0, duration_s),)
        out = []
        for t0, t1 in spans:
            a, b = max(0.0, float(t0)), min(float(duration_s), float(t1))
            if b > a:
                out.append([a, b])
        return out

    def strength_at(self, t_s: NDArray[np.float64], duration_s: float) -> NDArray[np.float64]:
        """Coupling strength over time (raised-cosine edges of :data:`RAMP_S` inside intervals)."""
        if not self.intervals:
            return np.full(len(t_s), self.strength)
        on: NDArray[np.float64] = np.zeros(len(t_s))
        for t0, t1 in self.intervals:
            t0, t1 = float(t0), float(t1)
            up = np.clip((t_s - t0) / RAMP_S, 0.0, 1.0) if t0 > 0.0 else np.ones(len(t_s))
            down = (np.clip((t1 - t_s) / RAMP_S, 0.0, 1.0) if t1 < duration_s
                    else np.ones(len(t_s)))
            w = cast("NDArray[np.float64]", 0.5 - 0.5 * np.cos(np.pi * np.minimum(up, down)))
            w[(t_s < t0) | (t_s > t1)] = 0.0
            on = np.maximum(on, w)
        return cast("NDArray[np.float64]", self.strength * on)


def couple_slow(
    t_s: NDArray[np.float64],
    follower_slow_bpm: NDArray[np.float64],
    leader_slow_bpm: NDArray[np.float64],
    coupling: Coupling,
    duration_s: float,
) -> NDArray[np.float64]:
    """The follower's slow HR modulation after coupling.

    Parameters
    ----------
    t_s
        Regular grid in seconds.
    follower_slow_bpm, leader_slow_bpm
        Each person's own slow modulation on ``t_s`` (zero mean).
    coupling
        Strength, lag and on-intervals.
    duration_s
        Simulation length (intervals reaching it have no fade-out).

    Returns
    -------
    ndarray
        ``√(1−c(t)²)·own(t) + c(t)·(σ_own/σ_leader)·leader(t − lag)``.
    """
    c = coupling.strength_at(t_s, duration_s)
    lead = np.interp(t_s - coupling.lag_s, t_s, leader_slow_bpm)
    sd_lead = float(np.std(leader_slow_bpm))
    scale = float(np.std(follower_slow_bpm)) / sd_lead if sd_lead > 0 else 0.0
    out = np.sqrt(1.0 - c * c) * follower_slow_bpm + c * scale * lead
    return cast("NDArray[np.float64]", out - out.mean())
