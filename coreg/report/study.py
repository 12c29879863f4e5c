"""The study report: one self-contained HTML page drawn from a ``coreg study`` output folder.

``coreg report --study OUT -o study.html`` reads the folder's tables (Parquet) and manifest
(:mod:`coreg.study.tables`) and shows: a plain-language summary with its caveats; the study's
facts and settings; distributions of HRV and of synchrony across sessions; real dyads against
their pseudo-dyads (Bernieri, Reznick & Rosenthal 1988, doi:10.1037/0022-3514.54.2.243;
Ramseyer & Tschacher 2010, doi:10.1007/978-3-642-12397-9_15); per-therapist and per-client
views; and the table of sessions. Figures and CSS are inlined (the building blocks of the
session report: :mod:`coreg.report.html`, :mod:`coreg.report.figures`), so the page opens
offline and prints on A4.

The report reads the session, HRV and pseudo-dyad tables only (not the window series), so it
stays small for large studies; long tables are cut at :data:`MAX_TABLE_ROWS` rows with a pointer
to the CSV that holds them all.

Why one module of this size: it is one page; its figures share the layout and colour
helpers at the top, and splitting it by section would only scatter those.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard, cast

import numpy as np
from numpy.typing import NDArray

from coreg import __version__
from coreg.errors import InputError
from coreg.report.figures import WIDTH_IN, _plt, colour, to_data_uri
from coreg.report.html import CSS, _e, _figure

if TYPE_CHECKING:  # pyarrow ships no type information: mypy sees these names untyped
    import pyarrow as pa

Progress = Callable[[str], None]

#: Longest table printed in the page (the CSV files hold every row).
MAX_TABLE_ROWS = 500
#: Most dyads drawn one by one in the real-vs-pseudo strip chart.
MAX_STRIP_DYADS = 60

_EXTRA_CSS = """
.bar { display:inline-block; height:9px; background:#2b2b7a; vertical-align:middle; }
td.small, th.small { font-size: 12px; }
.scroll { overflow-x: auto; }
td.n.small { white-space: nowrap; }
.badge.small { font-size: 10.5px; padding: 0 6px; }
"""


#: One table column read back. Its dtype follows the table's schema (float64, bool, or object
#: for strings) and is known only when the file is read: numpy's dtype parameter stays open.
Column: TypeAlias = NDArray[Any]


@dataclass(slots=True)
class StudyData:
    """A study folder read back: columns as numpy arrays (strings as object arrays)."""

    out: Path
    manifest: dict[str, object]
    sessions: dict[str, Column]
    hrv: dict[str, Column]
    pseudo: dict[str, Column]

    @property
    def n_sessions(self) -> int:
        """Rows of the sessions table."""
        return len(self.sessions["session_id"])


def _columns(table: pa.Table) -> dict[str, Column]:
    out: dict[str, Column] = {}
    for name in table.column_names:
        col = table.column(name)
        kind = str(col.type)
        values = col.to_pylist()
        if kind in ("double", "int64"):
            out[name] = np.array([math.nan if v is None else v for v in values], dtype=float)
        elif kind == "bool":
            out[name] = np.array([bool(v) for v in values], dtype=bool)
        else:
            out[name] = np.array(["" if v is None else v for v in values], dtype=object)
    return out


def read_study(out: str | os.PathLike[str]) -> StudyData:
    """Read a ``coreg study`` folder (one-line :class:`InputError` when it is not one)."""
    from coreg.study import deps, tables

    deps.require()
    folder = Path(out)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such study folder")
    manifest = tables.read_manifest(folder)
    return StudyData(folder, manifest,
                     _columns(tables.read_table(folder, "sessions")),
                     _columns(tables.read_table(folder, "hrv")),
                     _columns(tables.read_table(folder, "pseudo")))


# --------------------------------------------------------------------------- helpers


def _fin(x: object) -> TypeGuard[float]:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _obj(x: object) -> dict[str, object]:
    """A JSON object of the manifest, or {} when it is missing (or not an object)."""
    return cast("dict[str, object]", x) if isinstance(x, dict) else {}


def _n(x: object, pattern: str = "{:.2f}", unit: str = "") -> str:
    if not _fin(x):
        return "—"
    return pattern.format(x) + (f" {unit}" if unit else "")


def _median(x: NDArray[np.float64]) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else math.nan


def _mean(x: NDArray[np.float64]) -> float:
    x = x[np.isfinite(x)]
    return float(np.mean(x)) if x.size else math.nan


def _table(head: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]], *,
           total: int | None = None, csv: str = "") -> str:
    """An HTML table; ``head`` is (label, numeric) per column, cells are already escaped."""
    out = ["<div class='scroll'><table><tr>"
           + "".join(f"<th class='{'n ' if num else ''}small'>{_e(h)}</th>" for h, num in head)
           + "</tr>"]
    for r in rows[:MAX_TABLE_ROWS]:
        out.append("<tr>" + "".join(
            f"<td class='{'n ' if num else ''}small'>{c}</td>"
            for c, (_, num) in zip(r, head, strict=True)) + "</tr>")
    out.append("</table></div>")
    n = total if total is not None else len(rows)
    if n > MAX_TABLE_ROWS:
        out.append(f"<p class='caveat'>First {MAX_TABLE_ROWS} of {n} rows; {_e(csv)} holds them "
                   "all.</p>")
    return "\n".join(out)


# --------------------------------------------------------------------------- figures

_HRV_PANELS = (
    ("mean_hr_bpm", "mean HR (bpm)", False), ("rmssd_ms", "RMSSD (ms)", False),
    ("sdnn_ms", "SDNN (ms)", False), ("lf_ms2", "LF power (ms²)", True),
    ("hf_ms2", "HF power (ms²)", True), ("coherence_mean", "coherence (mean)", False),
)


def hrv_figure(data: StudyData) -> str:
    """Histograms of the whole-session HRV of every session, one colour per role."""
    plt = _plt()
    h = data.hrv
    roles = sorted(set(h["role"].tolist()), key=lambda r: (r not in ("therapist", "client"), r))
    fig, axes = plt.subplots(2, 3, figsize=(WIDTH_IN, 4.6))
    for ax, (key, label, log) in zip(axes.ravel(), _HRV_PANELS, strict=True):
        vals = h[key]
        ok = np.isfinite(vals) & ((vals > 0) if log else True)
        if not ok.any():
            ax.set_title(f"{label}: no values")
            continue
        v = np.log10(vals[ok]) if log else vals[ok]
        bins = np.linspace(float(v.min()), float(v.max()) + 1e-9, 26)
        for i, role in enumerate(roles):
            sel = ok & (h["role"] == role)
            x = np.log10(vals[sel]) if log else vals[sel]
            if x.size:
                ax.hist(x, bins=bins, histtype="stepfilled", alpha=0.35, color=colour(role, i),
                        label=f"{role} (n={x.size}, median "
                              f"{np.median(vals[sel]):.{0 if log else 1}f})")
                ax.hist(x, bins=bins, histtype="step", color=colour(role, i), linewidth=1.0)
        ax.set_xlabel(("log₁₀ " if log else "") + label)
        ax.legend(fontsize=6.5, loc="upper right")
    axes[0, 0].set_ylabel("sessions")
    axes[1, 0].set_ylabel("sessions")
    fig.tight_layout()
    return to_data_uri(fig)


def sync_figure(data: StudyData) -> str:
    """Each session's mean peak r against its own chance level, and the effect sizes."""
    plt = _plt()
    s = data.sessions
    ok = (s["status"] == "ok") & np.isfinite(s["sync_mean_peak_r"])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(WIDTH_IN, 3.2))
    real, chance = s["sync_mean_peak_r"][ok], s["sync_chance_mean_peak_r"][ok]
    sig = s["sync_significant"][ok]
    ax1.plot([0, 1], [0, 1], color="#999999", linewidth=0.8, linestyle=":")
    ax1.scatter(chance[~sig], real[~sig], s=14, facecolors="none", edgecolors="#2b2b7a",
                linewidths=0.8, label=f"not above chance (n={int(np.sum(~sig))})")
    ax1.scatter(chance[sig], real[sig], s=14, color="#2b2b7a",
                label=f"above chance, p < 0.05 (n={int(np.sum(sig))})")
    lo = float(np.nanmin(np.concatenate([real, chance]))) if real.size else 0.0
    hi = float(np.nanmax(np.concatenate([real, chance]))) if real.size else 1.0
    ax1.set_xlim(lo - 0.05, hi + 0.05)
    ax1.set_ylim(lo - 0.05, hi + 0.05)
    ax1.set_xlabel("chance level (mean of circular-shift surrogates)")
    ax1.set_ylabel("real mean peak r")
    ax1.set_title("each session against its own surrogates")
    ax1.legend(fontsize=7, loc="upper left")
    es = s["sync_effect_size"][ok]
    es = es[np.isfinite(es)]
    if es.size:
        ax2.hist(es, bins=min(30, max(8, es.size // 2)), color="#8e9fc9", edgecolor="white")
    ax2.axvline(0, color="#555555", linewidth=0.8)
    ax2.set_xlabel("effect size (real − chance) / SD of surrogates")
    ax2.set_ylabel("sessions")
    ax2.set_title("synchrony effect size across sessions")
    fig.tight_layout()
    return to_data_uri(fig)


def pseudo_figure(data: StudyData) -> str:
    """Real dyads against their pseudo-dyads: per dyad (strip) and over the study."""
    plt = _plt()
    s, p = data.sessions, data.pseudo
    has = np.isfinite(s["pseudo_percentile"])
    ids = s["session_id"][has]
    real = s["sync_mean_peak_r"][has]
    pct = s["pseudo_percentile"][has]
    strip = 0 < ids.size <= MAX_STRIP_DYADS
    fig = plt.figure(figsize=(WIDTH_IN, 6.2 if strip else 3.2))
    grid = fig.add_gridspec(2 if strip else 1, 2, height_ratios=[1.15, 1] if strip else [1])
    if strip:
        ax0 = fig.add_subplot(grid[0, :])
        order = np.argsort(real - s["pseudo_mean_peak_r"][has], kind="stable")
        by_dyad: dict[str, list[float]] = {}
        for d, v in zip(p["dyad_id"].tolist(), p["mean_peak_r"].tolist(), strict=True):
            if _fin(v):
                by_dyad.setdefault(d, []).append(v)
        for x, i in enumerate(order):
            vals = by_dyad.get(ids[i], [])
            jitter = np.linspace(-0.18, 0.18, len(vals)) if vals else np.empty(0)
            ax0.plot(x + np.asarray(jitter), vals, ".", color="#aaaaaa", markersize=3,
                     label="pseudo-dyads" if x == 0 else None)
        ax0.plot(np.arange(ids.size), real[order], "D", color="#b8242a", markersize=4,
                 label="real dyad")
        ax0.set_xticks(np.arange(ids.size))
        ax0.set_xticklabels([f"{pct[i]:.0f}" for i in order], fontsize=6)
        ax0.set_xlabel("dyads, ordered by real − pseudo mean (tick: percentile of the real dyad)")
        ax0.set_ylabel("mean peak r")
        ax0.legend(fontsize=7, loc="upper left")
        ax0.grid(axis="x", visible=False)
    row = 1 if strip else 0
    ax1 = fig.add_subplot(grid[row, 0])
    ax2 = fig.add_subplot(grid[row, 1])
    pv = p["mean_peak_r"][np.isfinite(p["mean_peak_r"])]
    both = np.concatenate([pv, real[np.isfinite(real)]])
    if both.size:
        bins = np.linspace(float(both.min()) - 0.01, float(both.max()) + 0.01, 30)
        ax1.hist(pv, bins=bins, density=True, color="#bbbbbb", label=f"pseudo-dyads (n={pv.size})")
        ax1.hist(real[np.isfinite(real)], bins=bins, density=True, histtype="step",
                 color="#b8242a", linewidth=1.6, label=f"real dyads (n={int(np.sum(has))})")
    ax1.set_xlabel("mean peak r")
    ax1.set_ylabel("density")
    ax1.legend(fontsize=7, loc="upper left")
    ax1.set_title("real and pseudo-dyads over the study")
    ax2.hist(pct[np.isfinite(pct)], bins=np.linspace(0, 100, 11), color="#8e9fc9",
             edgecolor="white")
    ax2.axhline(np.sum(np.isfinite(pct)) / 10, color="#555555", linewidth=0.8, linestyle=":",
                label="what chance gives (uniform)")
    ax2.set_xlabel("percentile of the real dyad among its pseudo-dyads")
    ax2.set_ylabel("dyads")
    ax2.set_title("where each real dyad ranks")
    ax2.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return to_data_uri(fig)


def therapist_figure(data: StudyData, groups: Sequence[tuple[str, NDArray[np.bool_]]]) -> str:
    """Per therapist: the percentiles of their dyads among the pseudo-dyads."""
    plt = _plt()
    s = data.sessions
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 2.8))
    for x, (_name, sel) in enumerate(groups):
        v = s["pseudo_percentile"][sel]
        v = v[np.isfinite(v)]
        ax.plot(np.full(v.size, x) + np.linspace(-0.15, 0.15, v.size), v, "o", markersize=3.5,
                color="#2b2b7a", alpha=0.75)
        if v.size:
            ax.plot([x - 0.3, x + 0.3], [np.median(v)] * 2, color="#b8242a", linewidth=1.6)
    ax.axhline(50, color="#777777", linewidth=0.8, linestyle=":")
    ax.set_xticks(np.arange(len(groups)))
    ax.set_xticklabels([g[0] or "(unknown)" for g in groups], fontsize=7,
                       rotation=30 if len(groups) > 8 else 0, ha="right" if len(groups) > 8
                       else "center")
    ax.set_ylim(-3, 103)
    ax.set_ylabel("percentile among\npseudo-dyads")
    ax.set_title("each therapist's dyads (red: median; dotted: chance)")
    return to_data_uri(fig)


# --------------------------------------------------------------------------- sections


def _summary(data: StudyData) -> str:
    m = data.manifest
    res = _obj(_obj(m.get("pseudo_dyads")).get("result"))
    counts = _obj(m.get("counts"))
    parts = [f"<li>{counts.get('files', data.n_sessions)} files: {counts.get('ok', '?')} "
             f"analysed, {counts.get('damaged', 0)} damaged or empty, "
             f"{counts.get('duplicates', 0)} duplicates; {counts.get('dyads', 0)} "
             "therapist–client dyads.</li>"]
    s = data.sessions
    ok = (s["status"] == "ok") & np.isfinite(s["sync_p_value"])
    if ok.any():
        parts.append(f"<li>Within their own session, {int(np.sum(s['sync_significant'][ok]))} of "
                     f"{int(np.sum(ok))} two-person sessions were more in sync than their "
                     "surrogates (circular shifts, p &lt; 0.05; about 5 % would be by chance "
                     f"alone). Median effect size {_n(_median(s['sync_effect_size'][ok]))}.</li>")
    if res.get("dyads"):
        p_value = res.get("p_value")
        above = _fin(p_value) and p_value < 0.05
        verdict = ("more in sync with their own partner than with people from other sessions"
                   if above else
                   "not distinguishable from pairs of people who never met (pseudo-dyads)")
        parts.append(
            f"<li>Across {res['dyads']} dyads, real partners were {verdict}: mean peak r "
            f"{_n(res.get('real_mean'), '{:.3f}')} against {_n(res.get('pseudo_mean'), '{:.3f}')}"
            f" for pseudo-dyads (difference {_n(res.get('difference'), '{:+.3f}')}; "
            f"within-dyad permutation p = {_n(res.get('p_value'), '{:.4f}')}, "
            f"{res.get('n_permutations')} permutations). The median dyad ranks at the "
            f"{_n(res.get('median_percentile'), '{:.0f}')}th percentile of its pseudo-dyads "
            f"(chance: 50); {_n(res.get('share_above_95_pct'), '{:.0f}')} % of dyads rank "
            "above the 95th.</li>")
    else:
        parts.append("<li>No pseudo-dyads: the study has fewer than two dyads, or none has an "
                     "eligible partner session.</li>")
    caveats = [
        "coreg informs; it does not diagnose. These numbers describe heart-rate patterns in "
        "these sessions; they are not a measure of the quality of a therapy or a relationship.",
        "Synchrony is relative to chance: two hearts always line up somewhat by accident. A "
        "pseudo-dyad pairs a person with someone from another session at the same session "
        "time, so it keeps what all sessions share (resting rhythms, settling down at the "
        "start) and removes only the two people's being together.",
        "Pseudo-dyads of one study share people, so their values are not independent draws; "
        "the study test therefore permutes labels within each dyad, never across the pool.",
    ]
    if np.any(data.sessions["simulated"]):
        n = int(np.sum(data.sessions["simulated"]))
        caveats.insert(0, f"{n} of the sessions are SIMULATED, not people's data.")
    return ("<div class='summary'><ul>" + "".join(parts) + "</ul></div>"
            "<ul class='caveat'>" + "".join(f"<li>{_e(c)}</li>" for c in caveats) + "</ul>")


def _facts(data: StudyData) -> str:
    m = data.manifest
    st = _obj(m.get("settings"))
    sync = _obj(st.get("sync"))
    run = _obj(m.get("run"))
    res = _obj(_obj(m.get("pseudo_dyads")).get("result"))
    rows = [
        ("folder", str(data.out)),
        ("created", m.get("created", "?")),
        ("coreg", f"study by {m.get('coreg_version', '?')}, report by {__version__}"),
        ("run", f"{run.get('scheduler', '?')}, {run.get('workers', '?')} workers, "
                f"{_n(run.get('wall_s'), '{:.1f}', 's')}"),
        ("synchrony", f"{sync.get('window_s')} s windows every {sync.get('step_s')} s, lags "
                      f"±{sync.get('max_lag_s')} s, HR low-passed at {sync.get('lowpass_hz')} Hz "
                      f"(breathing band {'on' if st.get('breathing') else 'off'})"),
        ("pseudo-dyads", f"pairing {st.get('pair', '?')}, at most {st.get('max_pseudo')} per "
                         f"dyad, partner sessions ≥ {st.get('min_overlap_frac')} × the dyad's "
                         "length, aligned on session time"),
        ("study test", f"{_obj(m.get('pseudo_dyads')).get('test', '')}; "
                       f"{res.get('n_permutations', '?')} permutations, seed {res.get('seed')}"),
        ("artifacts", "corrected (Lipponen & Tarvainen 2019)" if st.get("correct", True)
         else "not corrected (--no-correct)"),
    ]
    out = ["<table class='facts'>"]
    out += [f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows]
    out.append("</table>")
    listed = m.get("damaged")
    damaged = [_obj(d) for d in listed] if isinstance(listed, list) else []
    if damaged:
        out.append("<h3>Files not analysed</h3>")
        out.append(_table((("file", False), ("status", False), ("why", False)),
                          [(_e(Path(str(d.get("file", ""))).name), _e(d.get("status", "")),
                            _e(d.get("problem") or "")) for d in damaged],
                          csv="study.json (damaged)"))
    return "\n".join(out)


def _groups(data: StudyData, key: str) -> list[tuple[str, NDArray[np.bool_]]]:
    s = data.sessions
    ok = s["status"] == "ok"
    names = sorted(set(s[key][ok].tolist()))
    return [(n, ok & (s[key] == n)) for n in names]


def _person_hrv(data: StudyData, role: str) -> dict[str, dict[str, float]]:
    h = data.hrv
    out: dict[str, dict[str, float]] = {}
    for i in np.flatnonzero(h["role"] == role):
        out[str(h["session_id"][i])] = {k: float(h[k][i]) for k in
                                        ("mean_hr_bpm", "rmssd_ms", "coherence_mean")}
    return out


def _people_table(data: StudyData, key: str, role: str) -> str:
    s = data.sessions
    hrv = _person_hrv(data, role)
    rows = []
    for name, sel in _groups(data, key):
        ids = cast("list[str]", s["session_id"][sel].tolist())
        dy = sel & np.isfinite(s["sync_mean_peak_r"])
        pct = s["pseudo_percentile"][sel]
        sig = s["sync_significant"][dy]
        rmssd = np.array([hrv.get(i, {}).get("rmssd_ms", math.nan) for i in ids])
        hr = np.array([hrv.get(i, {}).get("mean_hr_bpm", math.nan) for i in ids])
        rows.append((
            _e(name or "(unknown)"), str(int(np.sum(sel))), str(int(np.sum(dy))),
            _n(_mean(hr), "{:.1f}"), _n(_mean(rmssd), "{:.1f}"),
            _n(_mean(s["sync_mean_peak_r"][dy])), _n(_median(s["sync_effect_size"][dy])),
            f"{int(np.sum(sig))}/{int(np.sum(dy))}" if np.sum(dy) else "—",
            _n(_median(pct), "{:.0f}"), str(int(np.sum(np.isfinite(pct)))),
        ))
    head = ((key.replace("_id", ""), False), ("sessions", True), ("two-person", True),
            (f"{role} mean HR (bpm)", True), (f"{role} RMSSD (ms)", True),
            ("mean peak r", True), ("median effect size", True), ("above chance", True),
            ("median percentile vs pseudo", True), ("dyads with pseudo", True))
    return _table(head, rows, csv="sessions.csv")


def _sessions_table(data: StudyData) -> str:
    s = data.sessions
    hrv = {r: _person_hrv(data, r) for r in ("client", "therapist")}
    rows = []
    for i in range(data.n_sessions):
        sid = str(s["session_id"][i])
        date = str(s["created"][i])[:16].replace("T", " ")
        dur = s["duration_s"][i]
        status = str(s["status"][i])
        sim = (f" <span class='badge small'>{_e(s['scenario'][i])}</span>"
               if s["simulated"][i] else "")
        rows.append((
            _e(Path(str(s["file"][i])).name) + sim, _e(date), _n(dur / 60.0, "{:.1f}", "min"),
            _e(status) if status == "ok" else f"<span class='warn'>{_e(status)}</span>",
            _e(s["therapist_id"][i]), _e(s["client_id"][i]),
            _n(hrv["client"].get(sid, {}).get("rmssd_ms"), "{:.0f}"),
            _n(hrv["therapist"].get(sid, {}).get("rmssd_ms"), "{:.0f}"),
            _n(s["sync_mean_peak_r"][i]), _n(s["sync_chance_mean_peak_r"][i]),
            _n(s["sync_effect_size"][i], "{:.1f}"), _n(s["sync_p_value"][i], "{:.3f}"),
            _n(s["pseudo_mean_peak_r"][i]), _n(s["pseudo_percentile"][i], "{:.0f}"),
        ))
    head = (("file", False), ("date", True), ("duration", True), ("status", False),
            ("therapist", False), ("client", False), ("client RMSSD (ms)", True),
            ("therapist RMSSD (ms)", True), ("mean peak r", True), ("chance", True),
            ("effect size", True), ("p", True), ("pseudo mean r", True),
            ("percentile", True))
    return _table(head, rows, csv="sessions.csv")


def render_study_html(data: StudyData, *, progress: Progress = lambda _: None) -> str:
    """The whole study report page."""
    title = f"coreg study report — {data.out.name}"
    body = [f"<h1>{_e(title)}</h1>",
            f"<p class='sub'>{data.n_sessions} files · "
            f"{_e(_obj(data.manifest.get('counts')).get('dyads', 0))} dyads · "
            f"pseudo-dyads {_e(_obj(data.manifest.get('settings')).get('pair', ''))}</p>",
            "<h2 class='first'>Summary</h2>", _summary(data),
            "<h2>Study</h2>", _facts(data)]
    if len(data.hrv["session_id"]):
        progress("figure: HRV across sessions")
        body += ["<h2>HRV across sessions</h2>",
                 _figure(hrv_figure(data),
                         "Whole-session HRV of every analysed session (artifact-corrected, as "
                         "coreg analyze), one colour per role. LF and HF power on a log scale.")]
    s = data.sessions
    if np.any(np.isfinite(s["sync_mean_peak_r"])):
        progress("figure: synchrony across sessions")
        body += ["<h2>Synchrony across sessions</h2>",
                 _figure(sync_figure(data),
                         "Left: each two-person session's mean window peak r (slow heart rate "
                         "< 0.15 Hz) against its own chance level from circular-shift "
                         "surrogates; the dotted line is chance. Right: the effect sizes.")]
    n_dyads = int(np.sum(np.isfinite(s["pseudo_percentile"])))
    if n_dyads:
        progress("figure: real vs pseudo-dyads")
        body += ["<h2>Real dyads against pseudo-dyads</h2>",
                 "<p>A pseudo-dyad is a real dyad's client with the therapist of another "
                 "session (or its therapist with another session's client), aligned on "
                 "session time and analysed exactly like a real dyad over the time both "
                 "sessions last. If being together adds nothing, a real dyad is just one more "
                 "such pairing and ranks anywhere among them (percentile 50 on average).</p>",
                 _figure(pseudo_figure(data),
                         ("Top: every dyad's pseudo-dyads (grey) and the real dyad (red). "
                          "Bottom: a" if n_dyads <= MAX_STRIP_DYADS else
                          f"{n_dyads} dyads (drawn one by one up to {MAX_STRIP_DYADS}): a")
                         + "ll values over the study, and where each real dyad ranks among "
                         "its own pseudo-dyads.")]
    progress("per-therapist and per-client views")
    ther = _groups(data, "therapist_id")
    body.append("<h2>Per therapist</h2>")
    body.append("<p class='caveat'>Therapists as the recordings name them (header field "
                "<code>therapist</code>, else the settings, else the therapist's strap). "
                "Simulated sessions are grouped by scenario.</p>")
    if ther and len(ther) <= 40 and np.any(np.isfinite(s["pseudo_percentile"])):
        body.append(_figure(therapist_figure(data, ther),
                            "Each therapist's dyads: percentile of the real dyad among its "
                            "pseudo-dyads."))
    body.append(_people_table(data, "therapist_id", "therapist"))
    body.append("<h2>Per client</h2>")
    body.append(_people_table(data, "client_id", "client"))
    body.append("<h2>Sessions</h2>")
    body.append(_sessions_table(data))
    body.append(f"<p class='caveat'>Generated by coreg {__version__} from {_e(data.out)}. "
                "coreg informs; it does not diagnose.</p>")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_e(title)}</title><style>{CSS}{_EXTRA_CSS}</style></head><body>\n"
            + "\n".join(x for x in body if x) + "\n</body></html>\n")


def write_study_report(out: str | os.PathLike[str], output: str | os.PathLike[str], *,
                       progress: Progress = lambda _: None, force: bool = False) -> Path:
    """Read a study folder and write its report atomically, owner-only (0600).

    ``output`` is checked first (:func:`coreg.recording.output.check_output`): never over a
    recording; an existing file only with ``force``.
    """
    from coreg.recording.output import check_output, write_output

    target = check_output(output, force=force)
    data = read_study(out)  # before any progress line: a wrong folder is one line only
    progress("read the study")
    page = render_study_html(data, progress=progress)
    return write_output(target, page, force=force)


