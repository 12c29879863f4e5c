"""A client's course of sessions: trends, the home-practice log, each session's headline.

``coreg report --client NAME`` writes it as one self-contained HTML page (inline CSS, figures
as PNG ``data:`` URIs); the home window draws the same trends (:func:`trend_points`).

Every number is a figure of the database (:mod:`coreg.recording.index`), i.e. of ``coreg
analyze`` per session: the client's mean HR (bpm), RMSSD (ms) and mean coherence (64 s windows
every 5 s) of the artifact-corrected NN intervals; for dyad sessions the synchrony effect size
against circular-shift surrogates and the share of 30 s windows above the
surrogates' 95th percentile; for breathing sessions the pacer rate or the rate an assessment
chose (breaths/min). A trend is the Theil–Sen slope (the median of all pairwise slopes; Sen
1968, doi:10.1080/01621459.1968.10480934), given per 30 days with its 95 % interval, from three
sessions on; fewer sessions get no slope. A slope describes these sessions; it is not a test
of a treatment effect.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeGuard

from coreg import __version__
from coreg.recording.index import Client, RoleFigures, SessionEntry

Progress = Callable[[str], None]


#: A role with no figures (a session without beats of its client).
_NO_FIGURES: RoleFigures = {"beats": 0, "mean_hr_bpm": None, "rmssd_ms": None,
                            "artifacts_pct": None, "coherence": None}


def _client_role(entry: SessionEntry) -> RoleFigures:
    roles = entry.get("roles") or {}
    if "client" in roles:
        return roles["client"]
    return next(iter(roles.values()), _NO_FIGURES)


def _sync(entry: SessionEntry, key: str) -> object:
    sync = entry.get("synchrony")
    return sync.get(key) if isinstance(sync, dict) else None


@dataclass(frozen=True, slots=True)
class Trend:
    """One figure followed across sessions: its label, unit and how to read it off an entry."""

    key: str
    label: str
    unit: str
    value: Callable[[SessionEntry], object]
    pattern: str = "{:.1f}"


#: The figures followed across sessions, in the order they are drawn.
TRENDS: tuple[Trend, ...] = (
    Trend("hr", "mean HR", "bpm", lambda e: _client_role(e).get("mean_hr_bpm"), "{:.0f}"),
    Trend("rmssd", "RMSSD", "ms", lambda e: _client_role(e).get("rmssd_ms"), "{:.0f}"),
    Trend("coherence", "coherence", "ratio", lambda e: _client_role(e).get("coherence")),
    Trend("sync_d", "synchrony effect size", "SD of chance",
          lambda e: _sync(e, "effect_size")),
    Trend("in_sync", "windows above chance", "% of 30 s windows",
          lambda e: _sync(e, "time_in_sync_pct"), "{:.0f}"),
    Trend("rate", "resonance rate", "breaths/min", lambda e: e.get("resonance_rate_bpm")),
)


def when(entry: SessionEntry) -> datetime | None:
    """The start of a session (its header's ``created``), or None."""
    try:
        return datetime.fromisoformat(str(entry.get("created") or ""))
    except ValueError:
        return None


def _finite(x: object) -> TypeGuard[float]:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def usable(entries: Sequence[SessionEntry]) -> list[SessionEntry]:
    """Readable sessions with a start time, oldest first."""
    ok = [e for e in entries if e.get("status") != "damaged" and when(e) is not None]
    return sorted(ok, key=lambda e: (_stamp(e), str(e.get("file", ""))))


def _stamp(entry: SessionEntry) -> float:
    """POSIX seconds of a session's start (a start without an offset is local time)."""
    t = when(entry)
    return t.timestamp() if t is not None else 0.0


def trend_points(entries: Sequence[SessionEntry], trend: Trend
                 ) -> tuple[list[datetime], list[float], list[str]]:
    """(start times, values, modes) of the sessions where ``trend`` has a value, oldest first."""
    xs: list[datetime] = []
    ys: list[float] = []
    modes: list[str] = []
    for e in usable(entries):
        v = trend.value(e)
        t = when(e)
        if _finite(v) and t is not None:
            xs.append(t)
            ys.append(float(v))
            modes.append(session_kind(e))
    return xs, ys, modes


def slope_per_30_days(xs: Sequence[datetime], ys: Sequence[float]
                      ) -> tuple[float, float, float] | None:
    """Theil–Sen slope per 30 days with its 95 % interval; None under 3 points or one day."""
    if len(xs) < 3:
        return None
    from scipy.stats import theilslopes

    t0 = xs[0].timestamp()
    days = [(t.timestamp() - t0) / 86400.0 for t in xs]
    if max(days) - min(days) < 1.0:
        return None
    slope, _, lo, hi = theilslopes(ys, days, alpha=0.95)
    return 30.0 * float(slope), 30.0 * float(lo), 30.0 * float(hi)


def session_kind(entry: SessionEntry) -> str:
    """``dyad``, ``practice``, ``assessment``, ``solo`` or ``import``."""
    kind = entry.get("kind")
    return str(kind) if kind in ("practice", "assessment") else str(entry.get("mode") or "")


def headline(entry: SessionEntry) -> str:
    """One sentence with the figures that matter for a session, each with its unit."""
    if entry.get("status") == "damaged":
        return f"damaged: {entry.get('error', '')}"
    kind = session_kind(entry)
    minutes = (entry.get("duration_s") or 0.0) / 60
    parts = [f"{kind} {minutes:.0f} min"]
    c = _client_role(entry)
    hr, rmssd, coh = c.get("mean_hr_bpm"), c.get("rmssd_ms"), c.get("coherence")
    figures = []
    if _finite(hr):
        figures.append(f"HR {hr:.0f} bpm")
    if _finite(rmssd):
        figures.append(f"RMSSD {rmssd:.0f} ms")
    if _finite(coh):
        figures.append(f"coherence {coh:.1f}")
    if figures:
        parts.append("client " + ", ".join(figures))
    sync = entry.get("synchrony")
    if isinstance(sync, dict):
        d = sync.get("effect_size")
        level = "above chance" if sync.get("significant") else "at chance level"
        text = f"synchrony {level}"
        if _finite(d):
            text += f" (d {d:.1f}"
            if _finite(sync.get("time_in_sync_pct")):
                text += f", {sync['time_in_sync_pct']:.0f} % of windows above chance"
            text += ")"
        parts.append(text)
    rate = entry.get("resonance_rate_bpm")
    if _finite(rate):
        a = entry.get("assessment")
        conf = a.get("confidence", "") if a else ""
        parts.append(f"chose {rate:.1f} breaths/min ({conf} confidence)"
                     if kind == "assessment" else f"paced at {rate:.1f} breaths/min")
    text = "; ".join(parts)
    if entry.get("simulated"):
        text += " [simulated]"
    return text


# --- the page -----------------------------------------------------------------------------------
def _e(x: object) -> str:
    return html.escape(str(x))


def _cell(x: object, pattern: str) -> str:
    return pattern.format(x) if _finite(x) else "—"


def trends_figure(entries: Sequence[SessionEntry]) -> str | None:
    """The trend plots as a PNG ``data:`` URI (None when no figure has a value)."""
    from coreg.report.figures import _plt, to_data_uri

    series = [(t, *trend_points(entries, t)) for t in TRENDS]
    series = [s for s in series if s[1]]
    if not series:
        return None
    plt = _plt()
    fig, axes = plt.subplots(len(series), 1, figsize=(10.0, 1.9 * len(series)), sharex=True,
                             squeeze=False)
    markers = {"dyad": ("o", "#1b6fb5"), "practice": ("s", "#3a9a4a"),
               "assessment": ("D", "#8a4bb0")}
    for ax, (trend, xs, ys, modes) in zip(axes[:, 0], series, strict=True):
        ax.plot(xs, ys, color="#9aa0a6", lw=1.0, zorder=1)
        for kind in sorted(set(modes)):
            m, c = markers.get(kind, ("^", "#d9631e"))
            pts = [(x, y) for x, y, k in zip(xs, ys, modes, strict=True) if k == kind]
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=m, color=c, s=24,
                       label=kind, zorder=2)
        fit = slope_per_30_days(xs, ys)
        title = f"{trend.label} ({trend.unit})"
        if fit is not None:
            signed = trend.pattern.replace("{:", "{:+").replace("0f}", "1f}")
            title += (f" — trend {signed.format(fit[0])} per 30 days (95 % interval "
                      f"{signed.format(fit[1])} to {signed.format(fit[2])})")
        ax.set_title(title, loc="left")
        if trend.key == "sync_d":
            ax.axhline(0.0, color="#bbbbbb", lw=0.8, ls="--")
        ax.legend(loc="upper left", fontsize=7, ncol=3, bbox_to_anchor=(1.0, 1.0))
    fig.autofmt_xdate()
    fig.tight_layout()
    return to_data_uri(fig)


def _practice_log(entries: Sequence[SessionEntry]) -> str:
    rows = [e for e in usable(entries) if e.get("mode") == "breathe"]
    if not rows:
        return "<p>No breathing practice recorded for this client yet.</p>"
    total_min = sum((e.get("duration_s") or 0.0) for e in rows) / 60
    out = [f"<p>{len(rows)} breathing session(s), {total_min:.0f} minutes in all.</p>",
           "<table><tr><th>date</th><th>kind</th><th class='n'>minutes</th>"
           "<th class='n'>rate (breaths/min)</th><th class='n'>coherence (mean)</th>"
           "<th class='n'>RMSSD (ms)</th><th>file</th></tr>"]
    for e in rows:
        c = _client_role(e)
        t = when(e)
        out.append(
            f"<tr><td>{_e(t.strftime('%Y-%m-%d %H:%M') if t else '')}</td>"
            f"<td>{_e(session_kind(e))}</td>"
            f"<td class='n'>{(e.get('duration_s') or 0.0) / 60:.1f}</td>"
            f"<td class='n'>{_cell(e.get('resonance_rate_bpm'), '{:.1f}')}</td>"
            f"<td class='n'>{_cell(c.get('coherence'), '{:.2f}')}</td>"
            f"<td class='n'>{_cell(c.get('rmssd_ms'), '{:.0f}')}</td>"
            f"<td>{_e(e.get('file', ''))}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def _sessions_table(entries: Sequence[SessionEntry]) -> str:
    out = ["<table><tr><th>date</th><th>mode</th><th class='n'>min</th>"
           "<th class='n'>HR (bpm)</th><th class='n'>RMSSD (ms)</th><th class='n'>coherence</th>"
           "<th class='n'>synchrony d</th><th class='n'>windows above chance (%)</th>"
           "<th class='n'>rate (/min)</th><th>headline</th></tr>"]
    for e in reversed(usable(entries)):
        c = _client_role(e)
        t = when(e)
        out.append(
            f"<tr><td style='white-space:nowrap'>"
            f"{_e(t.strftime('%Y-%m-%d %H:%M') if t else '')}</td>"
            f"<td>{_e(session_kind(e))}</td>"
            f"<td class='n'>{(e.get('duration_s') or 0.0) / 60:.1f}</td>"
            f"<td class='n'>{_cell(c.get('mean_hr_bpm'), '{:.0f}')}</td>"
            f"<td class='n'>{_cell(c.get('rmssd_ms'), '{:.0f}')}</td>"
            f"<td class='n'>{_cell(c.get('coherence'), '{:.2f}')}</td>"
            f"<td class='n'>{_cell(_sync(e, 'effect_size'), '{:.1f}')}</td>"
            f"<td class='n'>{_cell(_sync(e, 'time_in_sync_pct'), '{:.0f}')}</td>"
            f"<td class='n'>{_cell(e.get('resonance_rate_bpm'), '{:.1f}')}</td>"
            f"<td>{_e(headline(e))}<br><span class='caveat'>{_e(e.get('file', ''))}</span></td>"
            "</tr>")
    out.append("</table>")
    return "\n".join(out)


def render_progress(client: Client, entries: Sequence[SessionEntry], *,
                    progress: Progress = lambda _: None) -> str:
    """The progress page of ``client`` (a :class:`coreg.recording.index.Client`)."""
    from coreg.report.html import CSS

    ok = usable(entries)
    title = f"coreg progress report — {client.name}"
    body = [f"<h1>{_e(title)}</h1>"]
    if ok:
        first, last = when(ok[0]), when(ok[-1])
        span = (f"{first:%Y-%m-%d} to {last:%Y-%m-%d}" if first and last else "")
        kinds = [session_kind(e) for e in ok]
        counts = ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
        sim = sum(1 for e in ok if e.get("simulated"))
        body.append(f"<p class='sub'>{len(ok)} sessions ({_e(counts)}) from {_e(span)}"
                    + (f"; <span class='badge'>{sim} simulated</span>" if sim else "") + "</p>")
    else:
        body.append("<p class='sub'>No readable sessions for this client yet.</p>")
    rows = [("client (pseudonym)", client.name)]
    if client.notes:
        rows.append(("notes", client.notes))
    if client.rate_bpm:
        rows.append(("resonance rate", f"{client.rate_bpm:.1f} breaths/min "
                     f"({client.rate_confidence or 'unknown'} confidence, "
                     f"{client.rate_assessed[:10] or 'date unknown'})"))
    body.append("<h2 class='first'>Client</h2><table class='facts'>"
                + "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows)
                + "</table>")
    body.append("<h2>Trends across sessions</h2>")
    progress("figure: trends")
    uri = trends_figure(ok)
    if uri:
        body.append(f'<figure><img src="{uri}" alt="trends across sessions"><figcaption>'
                    "Each point is one session (circle: dyad, square: breathing practice, "
                    "diamond: assessment); the client's figures, whole session, "
                    "artifact-corrected. Synchrony: effect size against circular-shift "
                    "surrogates (0 = chance) and the share of 30 s windows above the "
                    "surrogates' 95th percentile. Trend: Theil–Sen slope per 30 days from "
                    "three sessions on; it describes these sessions, it does not test a "
                    "treatment.</figcaption></figure>")
    else:
        body.append("<p>No figures yet.</p>")
    body.append("<h2>Home practice</h2>")
    body.append(_practice_log(ok))
    body.append("<h2>Sessions</h2>")
    body.append(_sessions_table(ok))
    damaged = [e for e in entries if e.get("status") == "damaged"]
    if damaged:
        body.append("<p class='warn'>Not readable: "
                    + _e("; ".join(str(e.get("error", e.get("file"))) for e in damaged)) + "</p>")
    body.append(f"<p class='caveat'>Generated by coreg {__version__} from the recordings. "
                "coreg informs; it does not diagnose.</p>")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write_progress_report(folder: str | os.PathLike[str], client_name: str,
                          output: str | os.PathLike[str], *,
                          progress: Progress = lambda _: None, force: bool = False) -> Path:
    """Sync the folder's database and write ``client_name``'s progress report (atomically,
    owner-only; an existing file only with ``force``, never a recording:
    :func:`coreg.recording.output.check_output`).

    Raises
    ------
    InputError
        No such client, or the output is a folder or in a missing folder.
    """
    from coreg.errors import InputError
    from coreg.recording.index import open_index
    from coreg.recording.output import check_output, write_output

    out = check_output(output, force=force)
    progress("indexing the recordings")
    with open_index(folder) as index:
        client = index.client(client_name)
        if client is None:
            raise InputError(f"no client called {client_name!r} in {folder} "
                             "(coreg sessions --clients lists them)")
        entries = index.sessions(client.name)
    page = render_progress(client, entries, progress=progress)
    return write_output(out, page, force=force)
