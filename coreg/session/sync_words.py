"""The live synchrony verdict in words, shared by the terminal lines and the window.

:func:`sync_headline` is what a therapist reads at a glance; :func:`sync_detail` the numbers one
level down. Both read only the :class:`~coreg.engine.synchrony.verdict.SyncVerdict`, so the
state, the leader, the effect size and the "in sync N % of the time" come from one test.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from coreg.engine.synchrony.verdict import COLLECTING, GAP, IN_SYNC, SyncVerdict


def duration_words(seconds: float) -> str:
    """``25 s``, ``2 min``, ``1 h 05 min``: a duration as a therapist says it."""
    if not math.isfinite(seconds) or seconds < 0:
        return "—"
    s = round(seconds)
    if s < 90:
        return f"{s} s"
    m = round(s / 60.0)
    if m < 60:
        return f"{m} min"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def p_number(p: float) -> str:
    """``0.140``, ``0.026``, ``0.0031``, ``0.000083``: three decimals, or two significant digits."""
    if p >= 0.01:
        return f"{p:.3f}"
    digits = -math.floor(math.log10(p)) + 1
    return f"{p:.{digits}f}"


def p_text(v: SyncVerdict) -> str:
    """p as a Monte-Carlo p-value: ``p < 0.026 (38 surrogates)`` at the floor, else ``p 0.140``.

    At the floor no surrogate reached the real value, so p is only known to be below
    ``1/(n+1)``: it is quoted as that bound, never as an exact value.
    """
    if not math.isfinite(v.p_value) or v.p_value <= 0:
        return "p —"
    n = f" ({v.n_surrogates} surrogates)" if v.n_surrogates else ""
    if v.p_at_floor:
        return f"p < {p_number(1.0 / (v.n_surrogates + 1))}{n}"
    return f"p {p_number(v.p_value)}{n}"


def sync_headline(v: SyncVerdict, names: Mapping[str, str] | None = None) -> str:
    """The state in words, e.g. ``in sync for the last 2 min · therapist leading by ~3 s``.

    Parameters
    ----------
    v
        The verdict of the latest update.
    names
        Optional role → display name (e.g. ``{"client": "Anna"}``).
    """
    if v.state == COLLECTING:
        if not v.windows:
            return "collecting — not enough data yet"
        if math.isfinite(v.ready_in_s) and v.ready_in_s > 0:
            # The window count is in the detail line below.
            return f"collecting — first verdict in about {duration_words(v.ready_in_s)}"
        return f"collecting — {v.windows} window{'s' if v.windows != 1 else ''} so far"
    if v.state == GAP:
        return f"paused — gap in the data for {duration_words(v.since_s)}"
    for_ = f"for the last {duration_words(v.since_s)}" if v.since_s >= 1.0 else "just now"
    if v.state == IN_SYNC:
        text = f"in sync {for_}"
        if v.leader is not None and math.isfinite(v.lag_s):
            who = (names or {}).get(v.leader, v.leader)
            lag = max(1, round(v.lag_s))
            text += f" · {who} leading by ~{lag} s"
        else:
            text += " · no clear leader"
        return text
    text = f"not in sync {for_}" if v.since_s >= 1.0 else "not in sync"
    if v.latest_at_chance:
        # The block still passes, the latest minute does not: a coupling that has just ended.
        text += " · the latest minute is back at chance"
    return text


def sync_detail(v: SyncVerdict) -> str:
    """The numbers behind the headline: effect size, p, time in sync, windows."""
    parts: list[str] = []
    if math.isfinite(v.effect_size):
        parts.append(f"effect size {v.effect_size:+.1f}")
    if math.isfinite(v.p_value):
        parts.append(p_text(v))
    if v.latest_at_chance and math.isfinite(v.latest_p):
        parts.append(f"latest minute p {p_number(v.latest_p)}")
    if math.isfinite(v.in_sync_pct):
        parts.append(f"in sync {v.in_sync_pct:.0f}% of {v.updates} updates")
    parts.append(f"{v.windows} window{'s' if v.windows != 1 else ''}")
    return " · ".join(parts)
