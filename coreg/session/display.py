"""Words and numbers for the live figures, shared by the window and the terminal view."""

from __future__ import annotations

import math
from typing import TextIO

from coreg.engine.person import COLLECTING, Metric
from coreg.session.results import PersonFigures, SessionFigures, SyncFigures
from coreg.session.sync_words import sync_detail, sync_headline

DISCLAIMER = "coreg informs; it does not diagnose."


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
    """``60 s window, every beat`` / ``64 s window, every 5 s``."""
    if metric.window_s <= 0:
        return "every beat"
    cadence = "every beat" if metric.every_s <= 0 else f"every {metric.every_s:.0f} s"
    return f"{metric.window_s:.0f} s window, {cadence}"


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


def quality_text(person: PersonFigures, elapsed_s: float) -> str:
    """One line of signal quality: connection, contact, battery, corrected beats."""
    parts = [connection_text(person, elapsed_s), contact_text(person.contact)]
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


def sync_state_text(sync: SyncFigures | None) -> str:
    """The synchrony state in words: ``in sync``, ``apart``, ``not enough data``."""
    if sync is None or not sync.available:
        return "not available" if sync is not None else "one person only"
    return sync.state


def leader_text(sync: SyncFigures | None, names: dict[str, str] | None = None) -> str:
    """Who leads and by how many seconds (last 5 min), or ``no clear leader``."""
    if sync is None or not sync.available or not sync.chance_known:
        return "leader: not enough data"
    if not sync.leader or sync.lag_s is None:
        return "no clear leader"
    who = (names or {}).get(sync.leader, sync.leader)
    unc = f" ± {sync.lag_uncertainty_s:.1f}" if sync.lag_uncertainty_s is not None else ""
    return f"{who} leads by {sync.lag_s:.1f}{unc} s"


def effect_text(sync: SyncFigures | None) -> str:
    """Effect size of the last 5 min against its surrogates, and time above chance so far."""
    if sync is None or not sync.available:
        return "" if sync is None else sync.note
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
    if not sync.available:
        return f"synchrony: {sync.note or 'not available'}"
    if sync.verdict is not None:
        detail = sync_detail(sync.verdict)
        if sync.verdict.state == "collecting" and sync.windows_need:
            detail += f" · the chance test needs {sync.windows_need}"
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
