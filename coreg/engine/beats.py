"""The beat series of one person on the shared host clock: the engine's common currency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class BeatSeries:
    """Beats of one person, on the host monotonic clock both people share.

    Parameters
    ----------
    t_s
        Time of each beat in seconds (the *end* of its RR interval), strictly increasing.
    rr_ms
        The interval ending at that beat, in ms (NN intervals once artifacts are corrected).
    valid
        False for beats that must not be used (no skin contact, uncorrectable artifact).

    Notes
    -----
    A gap (lost notifications, disconnect, contact loss) shows as an interval whose start,
    ``t_s[i] - rr_ms[i] / 1000``, lies well after the previous beat ``t_s[i-1]``: the time in
    between is unknown and is never filled with invented beats.
    """

    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    valid: NDArray[np.bool_]

    def __post_init__(self) -> None:
        if not (len(self.t_s) == len(self.rr_ms) == len(self.valid)):
            raise ValueError("t_s, rr_ms and valid must have the same length")

    def __len__(self) -> int:
        return len(self.t_s)

    @property
    def midpoints_s(self) -> NDArray[np.float64]:
        """Midpoint of each interval in seconds (where its HR value belongs; docs/design.md §3)."""
        return self.t_s - self.rr_ms / 2000.0

    @property
    def hr_bpm(self) -> NDArray[np.float64]:
        """Instantaneous heart rate of each interval in beats per minute."""
        return cast("NDArray[np.float64]", 60000.0 / self.rr_ms)

    def gap_before(self, tolerance_s: float = 0.3) -> NDArray[np.bool_]:
        """True where unknown time lies between beat ``i-1`` and the start of interval ``i``."""
        out = np.zeros(len(self.t_s), dtype=bool)
        if len(self.t_s) > 1:
            starts = self.t_s[1:] - self.rr_ms[1:] / 1000.0
            out[1:] = starts - self.t_s[:-1] > tolerance_s
        return out

    def segments(self, tolerance_s: float = 0.3) -> list[slice]:
        """Runs of beats with no gap and all valid, as slices into the arrays."""
        breaks = self.gap_before(tolerance_s) | ~self.valid
        out: list[slice] = []
        start: int | None = None
        for i in range(len(self.t_s)):
            if not self.valid[i]:
                if start is not None:
                    out.append(slice(start, i))
                start = None
                continue
            if start is None or breaks[i]:
                if start is not None:
                    out.append(slice(start, i))
                start = i
        if start is not None:
            out.append(slice(start, len(self.t_s)))
        return out

    @classmethod
    def from_rr(cls, rr_ms: NDArray[np.float64] | list[float], t0_s: float = 0.0) -> BeatSeries:
        """Contiguous beats from an RR sequence, the first interval starting at ``t0_s``."""
        rr = np.asarray(rr_ms, dtype=np.float64)
        t = cast("NDArray[np.float64]", t0_s + np.cumsum(rr) / 1000.0)
        return cls(t_s=t, rr_ms=rr, valid=np.ones(len(rr), dtype=bool))
