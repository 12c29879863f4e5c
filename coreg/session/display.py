"""Words and numbers for the live figures, shared by the window and the terminal view."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, TextIO

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coreg.engine.person import COLLECTING, Metric
from coreg.engine.synchrony.settings import SyncSettings
from coreg.engine.synchrony.verdict import COLLECTING as VERDICT_COLLECTING
from coreg.engine.synchrony.verdict import SyncVerdict
from coreg.session.results import PersonFigures, SessionFigures, SyncFigures
from coreg.session.sync_words import sync_detail, sync_headline

if TYPE_CHECKING:
    from coreg.sources import ResolvedSources

DISCLAIMER = "coreg informs; it does not diagnose."


def sources_text(resolved: ResolvedSources) -> str:
    """The current sources in a few words, for the window header and the terminal title.

    One simulated run behind the whole dyad: ``coupled, seed 1``; roles from different runs
    or kinds of source: ``client independent, therapist coupled, seed 1``; a real strap by its
    device name (or the address it was asked by). See :func:`live_title` for the emulated
    straps' note.

    Parameters
    ----------
    resolved
        The resolved sources (their ``specs``, ``info`` and ``simulation``).
    """
    specs = resolved.specs
    info = resolved.info
    sim = resolved.simulation
    seed = sim.get("seed") if sim else None
    scenario = sim.get("scenario") if sim else None
    kinds = {spec.kind for spec in specs.values()}
    if isinstance(scenario, str) and kinds <= {"sim", "ble-sim"}:
        text = scenario
    else:
        parts = []
        for role, spec in specs.items():
            if spec.kind == "sim" or (spec.kind == "ble-sim" and isinstance(scenario, dict)):
                name = scenario.get(role, spec.target) if isinstance(scenario, dict) else (
                    scenario or spec.target)
                what = str(name) if spec.kind == "sim" else f"{name} (emulated BLE strap)"
            elif spec.kind == "ble-sim":
                what = "emulated BLE strap"
            else:
                device = info.get(role)
                what = str((device.name if device is not None else "") or spec.target)
            parts.append(f"{role} {what}")
        text = ", ".join(parts)
    if isinstance(seed, dict):
        text += ", seeds " + ", ".join(f"{r} {s}" for r, s in seed.items())
    elif seed is not None:
        text += f", seed {seed}"
    return text


def break_gaps(t_s: NDArray[np.float64], *columns: NDArray[np.float64], step_s: float,
               ) -> tuple[NDArray[np.float64], ...]:
    """Timeline columns with a NaN row in every gap, so ``connect="finite"`` lifts the pen.

    The synchrony timelines get one row per ``step_s`` update while windows are computed;
    where none could be (lost contact, a disconnect, too many masked beats) the next row comes
    later. A line drawn straight across such a gap shows values nobody measured, so a row of
    NaN (at the middle of the gap) is put between two rows more than 1.5 steps apart. Rows
    repeating an earlier time (an update that found no new window) are dropped, keeping the
    last.

    Parameters
    ----------
    t_s
        Row times in seconds, non-decreasing.
    columns
        Values at those times, each as long as ``t_s``.
    step_s
        The nominal spacing of the rows, in seconds.

    Returns
    -------
    tuple of ndarray
        ``(t_s, *columns)`` with the gaps broken.

    Examples
    --------
    >>> t, y = break_gaps(np.array([0.0, 5.0, 30.0]), np.array([1.0, 2.0, 3.0]), step_s=5.0)
    >>> t.tolist(), np.isnan(y).tolist()
    ([0.0, 5.0, 17.5, 30.0], [False, False, True, False])
    """
    t = np.asarray(t_s, dtype=np.float64)
    cols = [np.asarray(c, dtype=np.float64) for c in columns]
    if t.size:
        keep = np.ones(t.size, dtype=bool)
        keep[:-1] = np.diff(t) > 1e-9
        t = t[keep]
        cols = [c[keep] for c in cols]
    if t.size < 2:
        return (t, *cols)
    gaps = np.flatnonzero(np.diff(t) > 1.5 * step_s)
    if gaps.size == 0:
        return (t, *cols)
    mid = (t[gaps] + t[gaps + 1]) / 2.0
    out_t = np.insert(t, gaps + 1, mid)
    out = [np.insert(c, gaps + 1, np.nan) for c in cols]
    return (out_t, *out)


def state_spans(t_s: ArrayLike, code: ArrayLike, want: int,
                step_s: float) -> list[tuple[float, float]]:
    """Time spans during which the live verdict said one state (code ``want``).

    Each update at ``t`` stands for the step before it, ``[t − step_s, t]``; consecutive
    updates of that state (no more than 1.5 steps apart, repeats included) join into one span.

    Examples
    --------
    >>> state_spans(np.array([5.0, 10, 15, 20, 25]), np.array([3.0, 3, 2, 3, 3]), 3, 5.0)
    [(0.0, 10.0), (15.0, 25.0)]
    """
    t = np.asarray(t_s, dtype=np.float64)
    hit = np.asarray(code) == want
    spans: list[tuple[float, float]] = []
    start = prev = math.nan
    times: list[float] = [float(v) for v in t]
    hits: list[bool] = [bool(v) for v in hit]
    for ti, h in zip(times, hits, strict=True):
        if h and math.isfinite(prev) and ti - prev <= 1.5 * step_s:
            prev = ti
            continue
        if math.isfinite(prev):
            spans.append((start, prev))
        start, prev = (ti - step_s, ti) if h else (math.nan, math.nan)
    if math.isfinite(prev):
        spans.append((start, prev))
    return spans


def clock_text(seconds: float) -> str:
    """``MM:SS`` (or ``H:MM:SS``) of a duration."""
    s = max(0, int(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def metric_text(metric: Metric, fmt: str = "{:.0f}", unit: str = "") -> str:
    """A value with its unit, or ``collecting… 40/60 s`` while its window fills."""
    if metric.value is None or metric.state == COLLECTING:
        if metric.window_s > 0:
            have = min(metric.coverage_s, metric.window_s)
            if have > 0:
                return f"collecting {have:.0f}/{metric.window_s:.0f} s"
            return "collecting…"
        return "—"
    return fmt.format(metric.value) + (f" {unit}" if unit else "")


def window_text(metric: Metric) -> str:
    """``60 s, every beat`` / ``64 s, every 5 s``: the window and how often it updates."""
    if metric.window_s <= 0:
        return "every beat"
    cadence = "every beat" if metric.every_s <= 0 else f"every {metric.every_s:.0f} s"
    return f"{metric.window_s:.0f} s, {cadence}"


def connection_text(person: PersonFigures, elapsed_s: float) -> str:
    """Connection state in words, with the reconnect countdown."""
    state = person.connection
    if state == "reconnecting":
        if person.reconnect_at_s is not None:
            left = person.reconnect_at_s - elapsed_s
            if left > 0.5:
                return f"reconnecting in {math.ceil(left):.0f} s"
        return "reconnecting…"
    if state == "failed":
        return f"failed: {person.error}" if person.error else "failed"
    return {"waiting": "waiting for strap", "connecting": "connecting…",
            "connected": "connected", "disconnected": "disconnected",
            "stopped": "stopped"}.get(state, state)


def contact_text(contact: bool | None) -> str:
    """Skin contact in words."""
    return {True: "contact ok", False: "NO CONTACT", None: "contact n/a"}[contact]


def quality_text(person: PersonFigures, elapsed_s: float, connection: bool = True) -> str:
    """One line of signal quality: connection, contact, battery, corrected beats.

    ``connection=False`` leaves the connection state out (the window shows it in the panel's
    head, so the line fits one row).
    """
    parts = [connection_text(person, elapsed_s)] if connection else []
    parts.append(contact_text(person.contact))
    if person.battery_pct is not None:
        parts.append(f"battery {person.battery_pct:.0f}%")
    if person.pct_corrected is not None:
        parts.append(f"corrected {person.pct_corrected:.1f}%")
    if person.provisional_beats:
        parts.append(f"{person.provisional_beats} provisional")
    return " · ".join(parts)


def hr_text(person: PersonFigures) -> str:
    """The big HR number."""
    return "—" if person.hr_bpm is None else f"{person.hr_bpm:.0f}"


def collecting_verdict(windows: int = 0) -> SyncVerdict:
    """The verdict before the engine's first update: collecting, nothing measured yet."""
    nan = math.nan
    return SyncVerdict(state=VERDICT_COLLECTING, since_s=0.0, leader=None, lag_s=nan,
                       effect_size=nan,
                       p_value=nan, n_surrogates=0, p_at_floor=False, in_sync_pct=nan,
                       updates=0, windows=windows)


def sync_words(sync: SyncFigures | None,
               names: dict[str, str] | None = None) -> tuple[str, str, str]:
    """``(state, headline, detail)`` of the synchrony panel.

    ``state`` is the verdict's state (``"collecting"``, ``"gap"``, ``"in_sync"``,
    ``"not_in_sync"``) or ``"none"`` (one person, no engine); ``headline`` and ``detail`` are
    exactly :func:`~coreg.session.sync_words.sync_headline` and
    :func:`~coreg.session.sync_words.sync_detail` of the verdict, so the window says what the
    terminal says and never composes a verdict of its own.
    """
    if sync is None:
        return "none", "one person only", ""
    v = sync.verdict if sync.verdict is not None else collecting_verdict(sync.windows_have)
    return v.state, sync_headline(v, names), sync_detail(v)


def sync_legend(settings: SyncSettings | None = None) -> str:
    """What each mark of the synchrony plot is, with the live test's own windows and levels.

    Parameters
    ----------
    settings
        The live synchrony's settings (default: the engine's defaults, which the live and
        replayed sessions use).
    """
    s = settings or SyncSettings()
    k = s.live_block_windows
    block_s = (k - 1) * s.step_s + s.window_s
    lag_min = max(s.live_lag_windows, k) * s.step_s / 60.0
    lo, hi = s.breathing_band_hz
    return (
        f"dots: peak r of each {s.window_s:.0f} s window of slow heart-rate changes "
        f"(< {s.lowpass_hz:g} Hz), every {s.step_s:.0f} s, lags ±{s.max_lag_s:.0f} s · "
        f"green line: the test's statistic, the last {k} windows ({block_s:.0f} s of data) "
        f"at the lag held over the last {lag_min:g} min, drawn at the newest window · grey "
        "band: its chance mean up to the in-sync threshold "
        f"(p ≤ {s.live_alpha:g} against pairings of one person's windows with the other's "
        "from another time, "
        f"last {s.live_pool_s / 60:.0f} min; \"in sync\" also needs the latest "
        f"{s.live_latest_windows} windows at that lag at p ≤ {s.live_latest_p:g}"
        f"{' (not below the chance median)' if s.live_latest_p == 0.5 else ''})"
        " · dotted purple: breathing-band "
        f"({lo:g}–{hi:g} Hz) peak r · bar along the bottom: what the headline said "
        "(green in sync, grey not in sync; none while collecting or in a gap)")


def sync_legend_short(settings: SyncSettings | None = None) -> str:
    """One line of :func:`sync_legend` for small windows (the full text goes in a tooltip)."""
    s = settings or SyncSettings()
    return (f"dots: {s.window_s:.0f} s windows · line: the test ({s.live_block_windows} windows "
            f"at one lag) · grey: chance up to p ≤ {s.live_alpha:g} · dotted: breathing band · "
            "bottom bar: what the headline said")


def sync_state_text(sync: SyncFigures | None) -> str:
    """The synchrony state in words: ``in sync``, ``apart``, ``not enough data``."""
    if sync is None:
        return "one person only"
    return sync.state


def leader_text(sync: SyncFigures | None, names: dict[str, str] | None = None) -> str:
    """Who leads and by how many seconds (last 5 min), or ``no clear leader``."""
    if sync is None or not sync.chance_known:
        return "leader: not enough data"
    if not sync.leader or sync.lag_s is None:
        return "no clear leader"
    who = (names or {}).get(sync.leader, sync.leader)
    unc = f" ± {sync.lag_uncertainty_s:.1f}" if sync.lag_uncertainty_s is not None else ""
    return f"{who} leads by {sync.lag_s:.1f}{unc} s"


def effect_text(sync: SyncFigures | None) -> str:
    """Effect size of the last 5 min against its surrogates, and time above chance so far."""
    if sync is None:
        return ""
    parts = []
    if not sync.chance_known:
        if sync.current_r is not None:
            parts.append(f"r now {sync.current_r:.2f}, not yet comparable with chance")
        elif sync.windows_have:
            parts.append(f"{sync.windows_have} window(s) so far")
        else:
            parts.append(f"collecting the first {sync.window_s:.0f} s window")
        if sync.windows_need and sync.windows_have < sync.windows_need:
            parts.append(f"chance band: collecting {sync.windows_have}/{sync.windows_need} "
                         "windows")
        elif sync.windows_need:
            parts.append("chance band: at the next baseline update")
        return " · ".join(parts)
    if sync.effect_size is not None:
        p = f", p {sync.p_value:.3f}" if sync.p_value is not None else ""
        parts.append(f"effect size {sync.effect_size:+.1f} (last 5 min{p})")
    if sync.pct_time_in_sync is not None:
        parts.append(f"in sync {sync.pct_time_in_sync:.0f}% of the time since the band exists")
    return " · ".join(parts)


def sync_text(sync: SyncFigures | None) -> str:
    """One line: state, current r against its chance band, leader, effect size, breathing."""
    if sync is None:
        return "synchrony: needs two people"
    if sync.verdict is not None:
        # Exactly the window's headline and detail (the headline says when the verdict comes).
        detail = sync_detail(sync.verdict)
        return (f"synchrony: {sync_headline(sync.verdict)} | {detail} | "
                f"breathing band: {sync.breathing_state}")
    parts = [f"synchrony: {sync.state}"]
    if sync.current_r is not None:
        chance = ""
        if len(sync.chance_lo) and math.isfinite(sync.chance_lo[-1]):
            chance = f" (chance {sync.chance_lo[-1]:.2f}, 95% {sync.chance_hi[-1]:.2f})"
        parts.append(f"r {sync.current_r:.2f}{chance}")
    parts.append(leader_text(sync))
    effect = effect_text(sync)
    if effect:
        parts.append(effect)
    parts.append(f"breathing band: {sync.breathing_state}")
    return " | ".join(parts)


def person_text(person: PersonFigures, elapsed_s: float) -> str:
    """One terminal line for one person."""
    return (f"{person.role:<10} HR {hr_text(person):>4} bpm | "
            f"RMSSD {metric_text(person.rmssd, '{:.0f}', 'ms'):<22} | "
            f"coherence {metric_text(person.coherence, '{:.1f}'):<22} | "
            f"{quality_text(person, elapsed_s)}")


def session_lines(fig: SessionFigures, title: str) -> list[str]:
    """The terminal view: title, one line per person, synchrony, disclaimer."""
    lines = [f"{title} — {clock_text(fig.elapsed_s)}"]
    lines += [person_text(p, fig.elapsed_s) for p in fig.persons.values()]
    lines.append(sync_text(fig.sync))
    if fig.markers:
        t, note = fig.markers[-1]
        lines.append(f"last marker {clock_text(t)} {note}".rstrip())
    lines.append(DISCLAIMER)
    return lines


def show_lines(out: TextIO, lines: list[str], shown: int, *, tty: bool) -> int:
    """Write the terminal view; on a terminal redraw it in place over the ``shown`` old lines.

    Returns the number of lines now on screen (for the next call).
    """
    if tty:
        if shown:
            out.write(f"\x1b[{shown}F")
        out.write("".join(f"\x1b[K{line}\n" for line in lines))
        shown = len(lines)
    else:
        out.write("\n".join(lines) + "\n\n")
    out.flush()
    return shown


def show_final(out: TextIO, lines: list[str], shown: int, *, tty: bool) -> None:
    """Write the last frame: in place of the live one on a terminal, below it otherwise."""
    if tty and shown:
        out.write(f"\x1b[{shown}F")
    out.write("".join(f"\x1b[K{line}\n" for line in lines) if tty else "\n".join(lines) + "\n")
    out.flush()
