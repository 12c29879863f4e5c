"""The live synchrony verdict: one test gives the state, the leader, the effect size and the %.

:class:`SyncVerdict` is what the live display says about the dyad at one update; it is carried on
every :class:`~coreg.engine.synchrony.live.LiveSyncSnapshot` as ``snapshot.verdict`` and turned
into words by :mod:`coreg.session.sync_words` (the same words in the window and the terminal).
:class:`VerdictTracker` keeps the running parts (how long the state has held, the share of
updates that said "in sync", counted from the first update that could say anything).

See docs/live-synchrony.md for the test behind the verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: The four states of the live verdict.
COLLECTING = "collecting"
GAP = "gap"
IN_SYNC = "in_sync"
NOT_IN_SYNC = "not_in_sync"
STATES = (COLLECTING, GAP, IN_SYNC, NOT_IN_SYNC)


@dataclass(frozen=True, slots=True)
class SyncVerdict:
    """What the live display says about the dyad's synchrony at one update.

    Attributes
    ----------
    state
        ``"collecting"`` (cannot say anything yet), ``"gap"`` (the latest data are missing),
        ``"in_sync"`` or ``"not_in_sync"``.
    since_s
        How long the current state has held, in seconds of host time.
    leader, lag_s
        The role whose heart moves first and by how much (magnitude, s), from the same test as
        the state; ``leader`` is None when there is no clear leader (``lag_s`` is then NaN or
        the estimate without a sign).
    effect_size, p_value
        The test's effect size against its chance distribution and its Monte-Carlo p-value
        ``(k + 1) / (n + 1)`` (NaN while collecting).
    n_surrogates
        Size of the chance distribution the p-value rests on.
    p_at_floor
        True when no surrogate reached the real value, i.e. ``p_value == 1 / (n + 1)``: p is
        then only known to be at most that (quote it as ``p < 1/(n+1)``).
    latest_at_chance
        True when the block test passed (``p_value ≤ live_alpha``) but the latest minute's
        statistic is back at chance (its p above ``live_latest_p``): the state is then
        ``"not_in_sync"`` — a coupling that has just ended.
    latest_p
        p of the latest minute's statistic against the same pairings (NaN when not computed).
    in_sync_pct
        Share (%) of updates that said ``"in_sync"``, counted from the first update that could
        say anything (``in_sync`` or ``not_in_sync``; gaps after that count as not in sync);
        NaN before.
    updates
        Updates counted in ``in_sync_pct``.
    windows
        Synchrony windows computed so far.
    ready_in_s
        While collecting: about how long until the first verdict, in seconds (the windows
        still missing times the update step; a gap makes it longer). NaN otherwise.
    """

    state: str
    since_s: float
    leader: str | None
    lag_s: float
    effect_size: float
    p_value: float
    n_surrogates: int
    p_at_floor: bool
    in_sync_pct: float
    updates: int
    windows: int
    latest_at_chance: bool = False
    latest_p: float = math.nan
    ready_in_s: float = math.nan

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown synchrony state {self.state!r}")

    @property
    def decided(self) -> bool:
        """True when the verdict says in sync or not in sync."""
        return self.state in (IN_SYNC, NOT_IN_SYNC)


def p_floor(n_surrogates: int) -> float:
    """The smallest Monte-Carlo p-value ``1 / (n + 1)`` with ``n`` surrogates."""
    return 1.0 / (n_surrogates + 1) if n_surrogates >= 0 else math.nan


class VerdictTracker:
    """Running bookkeeping of the verdict: state durations and the in-sync share.

    Examples
    --------
    >>> t = VerdictTracker()
    >>> t.observe(COLLECTING, 5.0)
    (0.0, nan, 0)
    >>> t.observe(IN_SYNC, 10.0)
    (0.0, 100.0, 1)
    >>> t.observe(NOT_IN_SYNC, 15.0)
    (0.0, 50.0, 2)
    """

    def __init__(self) -> None:
        self.state: str | None = None
        self.state_start_s = math.nan
        self.updates = 0
        self.in_sync = 0

    def observe(self, state: str, now_s: float) -> tuple[float, float, int]:
        """Record the state of one update; return ``(since_s, in_sync_pct, updates)``."""
        if state != self.state:
            self.state = state
            self.state_start_s = now_s
        if state in (IN_SYNC, NOT_IN_SYNC) or (self.updates and state == GAP):
            self.updates += 1
            self.in_sync += int(state == IN_SYNC)
        pct = 100.0 * self.in_sync / self.updates if self.updates else math.nan
        return now_s - self.state_start_s, pct, self.updates
