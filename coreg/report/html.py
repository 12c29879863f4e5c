"""The report as one self-contained HTML page (inline CSS, figures as PNG ``data:`` URIs).

Nothing in the page refers to an external URL, so it opens offline, can be mailed as one file
and prints on A4/Letter (print CSS: no shadows, page breaks before each major section, figures
never split).
"""

from __future__ import annotations

import contextlib
import html
import math
from collections.abc import Callable
from datetime import datetime
from types import ModuleType

from coreg import __version__
from coreg.engine.resonance import StepMeasure
from coreg.report.analysis import SessionAnalysis, finite
from coreg.report.breathing import ReplayedBreathing

Progress = Callable[[str], None]

CSS = """
:root { --ink:#1d1d1f; --muted:#5f6368; --rule:#d0d4da; --accent:#2b2b7a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       max-width: 1040px; margin: 24px auto; padding: 0 20px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 2px solid var(--accent);
     padding-bottom: 3px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--rule); padding: 3px 10px 3px 0; text-align: left;
         vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 8px 0 16px; break-inside: avoid; page-break-inside: avoid; }
figure img { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 2px; }
.facts td:first-child { color: var(--muted); padding-right: 18px; }
.summary { background: #f4f5fa; border-left: 4px solid var(--accent); padding: 10px 16px; }
.caveat { color: var(--muted); font-size: 12.5px; }
.warn { color: #9a3412; }
.cols { display: flex; flex-wrap: wrap; gap: 28px; }
table.nk { font-size: 12px; }
table.nk td.n { font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 9px; background: #fde68a;
         font-size: 12px; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  h2 { break-before: page; page-break-before: always; }
  h2.first { break-before: auto; page-break-before: auto; }
  .summary { background: none; }
  a { color: inherit; text-decoration: none; }
}
@page { size: A4; margin: 14mm; }
"""


def _e(x: object) -> str:
    return html.escape(str(x))


def _num(x: object, pattern: str = "{:.1f}", unit: str = "") -> str:
    if not finite(x):
        return "—"
    return pattern.format(x) + (f" {unit}" if unit else "")


def _fmt_duration(s: float) -> str:
    m, sec = divmod(round(s), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min {sec:02d} s" if h else f"{m} min {sec:02d} s"


def _figure(uri: str, caption: str) -> str:
    return (f'<figure><img src="{uri}" alt="{_e(caption)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _facts(an: SessionAnalysis) -> str:
    rec = an.rec
    h = rec.header
    created = str(h.get("created", ""))
    with contextlib.suppress(ValueError):
        created = datetime.fromisoformat(created).strftime("%Y-%m-%d %H:%M %Z").strip()
    sim = rec.simulation
    imported = h.get("imported")
    imported = imported if isinstance(imported, dict) else {}
    rows = [
        ("date", created or "unknown"),
        ("mode", rec.mode),
        ("duration", _fmt_duration(rec.duration_s)),
        ("file", rec.path.name),
        ("data", ("SIMULATED — scenario “{}”, seed {}".format(sim.get("scenario"), sim.get("seed"))
                  if sim else ("imported from " + ", ".join(
                      f"{r}: {v.get('file')} ({v.get('format')})"
                      for r, v in imported.items() if isinstance(v, dict)))
                  if imported else "recorded from straps")),
        ("ended", (rec.end or {}).get("reason", "no end line (session did not close cleanly)")),
        ("markers", str(len(rec.markers))),
        ("coreg", f"recorded by {h.get('app_version', '?')}, report by {__version__}"),
    ]
    out = ['<table class="facts">']
    out += [f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows]
    out.append("</table>")
    if rec.skipped:
        out.append('<p class="warn">Reader notes: ' + _e("; ".join(rec.skipped[:5])) + "</p>")
    # roles and data quality
    out.append("<h3>People, devices and data quality</h3><table><tr><th>role</th><th>device</th>"
               '<th class="n">beats</th><th class="n">artifacts</th><th class="n">gaps</th>'
               '<th class="n">no-contact beats</th><th>artifact kinds</th></tr>')
    for role, p in an.persons.items():
        dev = (h.get("roles") or {}).get(role, {})
        art = p.summary["artifacts"]
        q = p.summary["quality"]
        kinds = ", ".join(f"{k} {v}" for k, v in art.get("by_kind", {}).items() if v) or "none"
        out.append(
            f"<tr><td>{_e(role)}</td><td>{_e(dev.get('name') or dev.get('model') or '?')}</td>"
            f'<td class="n">{p.summary["beats"]}</td>'
            f'<td class="n">{art["count"]} ({art["percent"]:.1f} %)</td>'
            f'<td class="n">{q["gaps"]}</td><td class="n">{q["no_contact_beats"]}</td>'
            f"<td>{_e(kinds)}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


_HRV_ROWS = [
    ("mean_hr_bpm", "mean HR", "{:.1f}", "bpm"), ("mean_nn_ms", "MeanNN", "{:.0f}", "ms"),
    ("sdnn_ms", "SDNN", "{:.1f}", "ms"), ("rmssd_ms", "RMSSD", "{:.1f}", "ms"),
    ("pnn50_pct", "pNN50", "{:.1f}", "%"), ("vlf_ms2", "VLF power", "{:.0f}", "ms²"),
    ("lf_ms2", "LF power", "{:.0f}", "ms²"), ("hf_ms2", "HF power", "{:.0f}", "ms²"),
    ("lf_hf", "LF/HF", "{:.2f}", ""), ("lf_peak_hz", "LF peak", "{:.3f}", "Hz"),
    ("hf_peak_hz", "HF peak", "{:.3f}", "Hz"), ("coherence_mean", "coherence (mean)", "{:.2f}", ""),
]


def _hrv_table(an: SessionAnalysis) -> str:
    roles = list(an.persons)
    out = ["<table><tr><th></th>" + "".join(f'<th class="n">{_e(r)}</th>' for r in roles)
           + "</tr>"]
    for key, label, pat, unit in _HRV_ROWS:
        cells = "".join(f'<td class="n">{_num(an.persons[r].summary["hrv"].get(key), pat, unit)}'
                        "</td>" for r in roles)
        out.append(f"<tr><td>{_e(label)}</td>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


#: neurokit2 index (``HRV_`` prefix removed) → (unit, what it is). neurokit2 documentation
#: (``hrv_time``, ``hrv_frequency``, ``hrv_nonlinear``; Makowski et al. 2021) and the Task Force
#: (1996) / Shaffer & Ginsberg (2017) definitions.
NK_GLOSSARY: dict[str, tuple[str, str]] = {
    "MeanNN": ("ms", "mean NN interval"),
    "SDNN": ("ms", "standard deviation of NN intervals (overall variability)"),
    "SDANN1": ("ms", "SD of 1-min mean NN"), "SDNNI1": ("ms", "mean of 1-min SDNN"),
    "SDANN2": ("ms", "SD of 2-min mean NN"), "SDNNI2": ("ms", "mean of 2-min SDNN"),
    "SDANN5": ("ms", "SD of 5-min mean NN"), "SDNNI5": ("ms", "mean of 5-min SDNN"),
    "RMSSD": ("ms", "root mean square of successive differences (beat-to-beat, vagal)"),
    "SDSD": ("ms", "SD of successive differences"),
    "CVNN": ("ratio", "SDNN / MeanNN"), "CVSD": ("ratio", "RMSSD / MeanNN"),
    "MedianNN": ("ms", "median NN interval"), "MadNN": ("ms", "median absolute deviation"),
    "MCVNN": ("ratio", "MadNN / MedianNN"), "IQRNN": ("ms", "interquartile range of NN"),
    "SDRMSSD": ("ratio", "SDNN / RMSSD"),
    "Prc20NN": ("ms", "20th percentile of NN"), "Prc80NN": ("ms", "80th percentile of NN"),
    "pNN50": ("%", "share of successive differences > 50 ms (per NN interval)"),
    "pNN20": ("%", "share of successive differences > 20 ms (per NN interval)"),
    "MinNN": ("ms", "shortest NN interval"), "MaxNN": ("ms", "longest NN interval"),
    "HTI": ("ratio", "HRV triangular index (beats / histogram peak)"),
    "TINN": ("ms", "triangular interpolation of the NN histogram (base width)"),
    "ULF": ("ms²", "power < 0.0033 Hz"), "VLF": ("ms²", "power 0.0033–0.04 Hz"),
    "LF": ("ms²", "power 0.04–0.15 Hz (slow rhythms, resonance breathing)"),
    "HF": ("ms²", "power 0.15–0.4 Hz (breathing-rate rhythm)"),
    "VHF": ("ms²", "power 0.4–0.5 Hz"), "TP": ("ms²", "total power"),
    "LFHF": ("ratio", "LF / HF"), "LFn": ("n.u.", "LF / total power"),
    "HFn": ("n.u.", "HF / total power"), "LnHF": ("ln(ms²)", "natural log of HF"),
    "SD1": ("ms", "Poincaré width (short-term variability)"),
    "SD2": ("ms", "Poincaré length (long-term variability)"),
    "SD1SD2": ("ratio", "SD1 / SD2"), "S": ("ms²", "Poincaré ellipse area"),
    "CSI": ("ratio", "cardiac sympathetic index (SD2/SD1)"),
    "CVI": ("log10(ms²)", "cardiac vagal index"),
    "CSI_Modified": ("ms", "modified CSI"),
    "PIP": ("%", "inflection points (fragmentation)"),
    "IALS": ("1/beats", "inverse average length of acceleration/deceleration segments"),
    "PSS": ("%", "short segments (fragmentation)"),
    "PAS": ("%", "alternating segments (fragmentation)"),
    "GI": ("%", "Guzik's asymmetry index"), "SI": ("%", "slope index (asymmetry)"),
    "AI": ("%", "area index (asymmetry)"), "PI": ("%", "Porta's index (asymmetry)"),
    "ApEn": ("—", "approximate entropy (irregularity)"),
    "SampEn": ("—", "sample entropy (irregularity)"),
    "ShanEn": ("bits", "Shannon entropy of the NN distribution"),
    "FuzzyEn": ("—", "fuzzy entropy"), "MSEn": ("—", "multiscale entropy"),
    "CMSEn": ("—", "composite multiscale entropy"),
    "RCMSEn": ("—", "refined composite multiscale entropy"),
    "CD": ("—", "correlation dimension"), "HFD": ("—", "Higuchi fractal dimension"),
    "KFD": ("—", "Katz fractal dimension"), "LZC": ("—", "Lempel–Ziv complexity"),
    "DFA_alpha1": ("—", "short-term fractal scaling (4–16 beats)"),
    "DFA_alpha2": ("—", "long-term fractal scaling (16–64 beats)"),
}


def _nk_meaning(name: str) -> tuple[str, str]:
    """Unit and meaning of a neurokit2 index (families by prefix; unknown ones say so)."""
    if name in NK_GLOSSARY:
        return NK_GLOSSARY[name]
    for prefix, (unit, words) in (
            ("C1", ("—", "contribution of decelerations/accelerations (short-term)")),
            ("C2", ("—", "contribution of decelerations/accelerations (long-term)")),
            ("Ca", ("—", "total contribution of accelerations")),
            ("Cd", ("—", "total contribution of decelerations")),
            ("SD1", ("ms", "SD1 of decelerations/accelerations")),
            ("SD2", ("ms", "SD2 of decelerations/accelerations")),
            ("SDNN", ("ms", "SDNN of decelerations/accelerations")),
            ("MFDFA", ("—", "multifractal DFA feature")),
            ("DFA", ("—", "fractal scaling exponent"))):
        if name.startswith(prefix):
            return unit, words
    return "—", "see the neurokit2 documentation"


def _nk_block(role: str, table: dict[str, float], note: str) -> str:
    if not table:
        return f"<h3>{_e(role)}</h3><p class='caveat'>{_e(note)}</p>"
    rows = []
    for k, v in table.items():
        unit, words = _nk_meaning(k)
        rows.append(f"<tr><td>{_e(k)}</td><td class='n'>{_num(v, '{:.4g}')}</td>"
                    f"<td>{_e(unit)}</td><td>{_e(words)}</td></tr>")
    return (f"<h3>{_e(role)}</h3><table class='nk'><tr><th>index</th><th class='n'>value</th>"
            f"<th>unit</th><th>what it is</th></tr>{''.join(rows)}</table>"
            f"<p class='caveat'>{_e(note)}</p>")


def _markers(an: SessionAnalysis) -> str:
    """The markers dropped during the session, with their notes (none: nothing)."""
    markers = an.rec.markers
    if not markers:
        return ""
    rows = "".join(
        f"<tr><td class='n'>{_e(_clock(m.t_s))}</td><td>{_e(m.role or 'both')}</td>"
        f"<td>{_e(m.note) if m.note else '<i>no note</i>'}</td></tr>" for m in markers)
    return ("<h2>Markers</h2><table><tr><th class='n'>time (mm:ss)</th><th>concerns</th>"
            f"<th>note</th></tr>{rows}</table><p class='caveat'>Dropped with M in the live "
            "window; also in <code>coreg export --format markers-csv</code>.</p>")


def _clock(t_s: float) -> str:
    s = max(0, int(t_s))
    return f"{s // 60:02d}:{s % 60:02d}"


def _sync_text(an: SessionAnalysis) -> str:
    s = an.sync_summary
    if s is None or s.mean_peak_r is None or not finite(s.mean_peak_r):
        return an.sync_note or "Synchrony could not be computed."
    a, b = an.sync_roles or ("first", "second")
    chance = an.sync_details.get("chance_mean_peak_r") if an.sync_details else None
    verdict = ("above what chance alignment of two unrelated heart-rate traces gives"
               if s.significant else
               "not distinguishable from chance alignment of two unrelated heart-rate traces")
    lead = ""
    if s.significant and s.leader != "none" and s.lag_s is not None and finite(s.lag_s):
        lead = (f" Changes in {s.leader}'s heart rate tended to come about "
                f"{abs(s.lag_s):.1f} s earlier than in the other person's.")
    return (f"Heart-rate synchrony between {a} and {b}: mean window peak r = "
            f"{s.mean_peak_r:.2f} against a chance level of {_num(chance, '{:.2f}')} "
            f"(effect size {_num(s.effect_size, '{:.1f}')} SD, p = "
            f"{_num(s.p_value, '{:.3f}')}; "
            f"{_num(s.pct_windows_above_chance, '{:.0f}')} % of "
            f"{s.windows} windows above the 95th percentile of chance) — {verdict}.{lead}"
            f"{_live_sync_text(an)}")


def _live_sync_text(an: SessionAnalysis) -> str:
    """What the live display said, so the report and the session tell one story."""
    live = an.live_sync
    if not live:
        return ""
    pct = live.get("in_sync_pct")
    if pct is None or not finite(pct):
        return (" The live display gave no verdict: its test needs about 5 minutes of both "
                "straps without long gaps.")
    return (f' During the session the live display said "in sync" in {pct:.0f} % of its '
            f"{live['updates']} 5-s updates after its warm-up (each update tests the "
            "last 3 minutes of windows together, so this is not the share of single windows "
            "above chance).")


def _plain_summary(an: SessionAnalysis) -> str:
    parts = []
    for role, p in an.persons.items():
        hrv = p.summary["hrv"]
        art = p.summary["artifacts"]
        parts.append(
            f"<li><b>{_e(role)}</b>: mean heart rate "
            f"{_num(hrv.get('mean_hr_bpm'), '{:.0f}', 'bpm')}, "
            f"RMSSD {_num(hrv.get('rmssd_ms'), '{:.0f}', 'ms')}, mean coherence "
            f"{_num(hrv.get('coherence_mean'), '{:.2f}')}; {art['percent']:.1f} % of beats were "
            "corrected as artifacts.</li>")
    if an.sync_roles is not None or an.sync_note:
        parts.append(f"<li>{_e(_sync_text(an))}</li>")
    for role, p in an.persons.items():
        assessed = p.breathing.assessment if p.breathing is not None else None
        if assessed is not None and assessed.chosen_rate_bpm is not None:
            edge = (f" — the {assessed.edge} rate tested, at the edge of the tested range"
                    if assessed.edge is not None else "")
            parts.append(f"<li>Resonance assessment ({_e(role)}): chosen rate "
                         f"{assessed.chosen_rate_bpm:g} breaths/min, confidence "
                         f"{_e(assessed.confidence)}{_e(edge)}.</li>")
    caveats = [
        "coreg informs; it does not diagnose. These numbers describe this session only.",
        "Short-term HRV depends on breathing, posture, time of day, caffeine and many other "
        "things; compare sessions of the same person under the same conditions, not people.",
        "Coherence is an open formula after McCraty et al. (2009), not HeartMath's score.",
    ]
    if len(an.rec.roles) >= 2:
        caveats.insert(2, "Synchrony is relative to chance: two hearts always line up somewhat "
                       "by accident, so the real value is only meaningful against the "
                       "surrogate distribution below. It says nothing about rapport, empathy "
                       "or the quality of the therapy on its own.")
    if an.rec.simulation:
        caveats.insert(0, "This is a SIMULATED session, not a person's data.")
    return ("<div class='summary'><ul>" + "".join(parts) + "</ul></div>"
            "<ul class='caveat'>" + "".join(f"<li>{_e(c)}</li>" for c in caveats) + "</ul>")


def _breathing(an: SessionAnalysis, figures: ModuleType, progress: Progress) -> str:
    rec = an.rec
    if not rec.pacer:
        return ""
    progress("breathing figure")
    out = ["<h2>Breathing pacer</h2>",
           _figure(figures.breathing_figure(an),
                   "Pacer rate; resonance power (share of spectral power at the pacer "
                   "frequency) and RSA amplitude from the live engine. Shaded: pacer steps.")]
    for role, p in an.persons.items():
        if p.breathing is not None:
            out.append(_step_table(role, p.breathing))
    out.append("<p class='caveat'>Criteria after Lehrer, Vaschillo &amp; Vaschillo (2000) and "
               "Shaffer &amp; Meehan (2020), measured and ranked by the same engine as "
               "<code>coreg breathe --assess</code>. The HR–pacer phase includes the person's "
               "own lag behind the pacer and the one-peak share does not separate paced steps, "
               "so both are shown but not scored. A description of this session, not a "
               "diagnosis.</p>")
    return "\n".join(out)


def _step_table(role: str, br: ReplayedBreathing) -> str:
    """The engine's per-step measures (ranked when the session was an assessment)."""
    a = br.assessment
    rows: list[tuple[int | None, float | None, StepMeasure]] = (
        [(r.rank, r.total, r.measure) for r in a.ranking] if a is not None
        else [(None, None, m) for m in br.measures])
    if not rows:
        return (f"<p class='caveat'>No pacer step of {_e(role)} was long enough to measure "
                f"(each needs 50 s of clean beats after its {br.settle_s:g} s settle).</p>")
    head = ("<h3>Resonance assessment — " if a is not None else "<h3>Pacer steps — ")
    out = [head + f"{_e(role)}</h3><table><tr><th class='n'>rank</th>"
           "<th class='n'>rate (br/min)</th><th class='n'>measured (s)</th>"
           "<th class='n'>LF power (ms²)</th><th class='n'>LF peak (ms²/Hz)</th>"
           "<th class='n'>HR swing (bpm)</th><th class='n'>phase (°)</th>"
           "<th class='n'>one peak</th><th class='n'>coherence</th><th class='n'>score</th></tr>"]
    for rank, total, m in rows:
        swing = _num(m.amplitude_bpm, '{:.1f}')
        if math.isfinite(m.amplitude_se_bpm):
            swing += f" ± {m.amplitude_se_bpm:.1f}"
        out.append(
            f"<tr><td class='n'>{'' if rank is None else rank}</td>"
            f"<td class='n'>{m.rate_bpm:g}</td><td class='n'>{m.duration_s:.0f}</td>"
            f"<td class='n'>{_num(m.lf_power_ms2, '{:.0f}')}</td>"
            f"<td class='n'>{_num(m.lf_peak_ms2_hz, '{:.0f}')}</td>"
            f"<td class='n'>{swing}</td><td class='n'>{_num(m.phase_deg, '{:.0f}')}</td>"
            f"<td class='n'>{_num(m.smooth, '{:.2f}')}</td>"
            f"<td class='n'>{_num(m.coherence, '{:.2f}')}</td>"
            f"<td class='n'>{'' if total is None else f'{total:.2f}'}</td></tr>")
    out.append("</table>")
    out.append("<p class='caveat'>Columns: <b>rank</b> — the assessment's order (best "
               "first); <b>rate</b> — the pacer's breaths per minute in that step; "
               "<b>measured</b> — seconds of clean beats measured after the step's settle; "
               "<b>LF power</b> — heart-rate variability at 0.04–0.15 Hz, ms², the band "
               "resonance breathing fills; <b>LF peak</b> — the height of that band's peak, "
               "ms²/Hz; <b>HR swing</b> — heart-rate rise and fall per breath, peak to trough, "
               "bpm (± its standard error); <b>phase</b> — how far the heart rate's swing is "
               "ahead of the pacer, degrees (about 0° at resonance); <b>one peak</b> — 0–1, how "
               "much of the LF band is a single clean peak; <b>coherence</b> — the live "
               "coherence score in that step; <b>score</b> — the ranking's total over the "
               "criteria. Higher LF power, HR swing and coherence mean the heart follows the "
               "breath more strongly.</p>")
    measures = [m for _, _, m in rows]
    if len(measures) >= 2:
        from coreg.report import figures

        out.append(_figure(figures.swing_vs_rate_figure(measures, role),
                           "HR swing per breath (bpm, ± standard error) and LF power against "
                           "the pacer rate; dotted line: the rate with the largest swing."))
    if a is not None and a.chosen_rate_bpm is not None:
        out.append(f"<p><b>Resonance assessment (as coreg breathe computes it): "
                   f"{a.chosen_rate_bpm:g} breaths/min</b>, confidence "
                   f"{_e(a.confidence)}. {_e(a.statement)}</p>")
    return "".join(out)


def render_html(an: SessionAnalysis, *, progress: Progress = lambda _: None) -> str:
    """The whole report page for an analysed session."""
    from coreg.report import figures

    rec = an.rec
    title = f"coreg session report — {rec.path.name}"
    body: list[str] = [f"<h1>{_e(title)}</h1>"]
    sim = " <span class='badge'>simulated</span>" if rec.simulation else ""
    body.append(f"<p class='sub'>{_e(rec.mode)} session, {_e(_fmt_duration(rec.duration_s))}, "
                f"{_e(', '.join(rec.roles))}{sim}</p>")
    body.append("<h2 class='first'>Summary</h2>")
    body.append(_plain_summary(an))
    body.append("<h2>Session</h2>")
    body.append(_facts(an))
    body.append("<h3>Whole-session HRV (artifact-corrected)</h3>")
    body.append(_hrv_table(an))

    body.append("<h2>Over time</h2>")
    progress("figure: metrics over time")
    body.append(_figure(figures.metrics_figure(an),
                        "HR beat by beat (thin line) and its mean over the last 30 s (a "
                        "shorter mean sampled every 5 s would alias the breathing oscillation); "
                        "RMSSD and coherence every 5 s, as the live view showed them "
                        "(the recording fed through the live engine). Dashed lines: markers. "
                        "A break in a line is a window still collecting: after a dropout or "
                        "lost contact a metric waits for enough gap-free data again "
                        "(coherence: 64 s) rather than mixing data across the gap."))
    progress("figure: RR tachogram")
    body.append(_figure(figures.tachogram_figure(an),
                        "RR intervals as recorded (grey) and after artifact correction "
                        "(Lipponen & Tarvainen 2019)."))
    progress("figure: spectrum")
    body.append(_figure(figures.spectrum_figure(an),
                        "Whole-session spectrum (Welch, 4 Hz resampling) with VLF, LF and HF "
                        "bands shaded."))
    if len(rec.roles) >= 2:
        body.append("<h2>Synchrony</h2>")
        body.append(f"<p>{_e(_sync_text(an))}</p>")
        if an.sync is not None:
            progress("figure: synchrony")
            body.append(_figure(figures.sync_timeline_figure(an),
                                "Peak cross-correlation of the two slow heart-rate traces "
                                "(< 0.15 Hz) per 30 s window, lags within ±5 s, against the "
                                "chance band from circular-shift surrogates."))
            body.append(_figure(figures.lag_figure(an),
                                "Where the correlation peaks: lag distribution over windows "
                                "and the window-averaged cross-correlation."))
            body.append(_figure(figures.surrogate_figure(an),
                                "The real statistic against its surrogate distributions "
                                "(what the same two people give when their time alignment is "
                                "destroyed)."))
        b = an.breathing_summary
        if b is not None and b.mean_peak_r is not None and finite(b.mean_peak_r):
            body.append(f"<p class='caveat'>Breathing-band (0.15–0.4 Hz) synchrony: mean peak r "
                        f"{b.mean_peak_r:.2f}, effect size "
                        f"{_num(b.effect_size, '{:.1f}')}, "
                        f"p = {_num(b.p_value, '{:.3f}')}. Two people breathing to the same "
                        "pacer are synchronised by the pacer alone.</p>")
    body.append(_breathing(an, figures, progress))
    body.append(_markers(an))
    if any(p.nk_table or p.nk_note for p in an.persons.values()):  # not with --no-neurokit
        body.append("<h2>Appendix: HRV indices computed by neurokit2</h2>")
        body.append("<p class='caveat'>Computed by neurokit2 (Makowski et al. 2021) on the "
                    "corrected NN intervals, for comparison with other tools; the figures a "
                    "session is read by are the ones above. Unit “—”: a dimensionless number.</p>")
        for role, p in an.persons.items():
            body.append(_nk_block(role, p.nk_table, p.nk_note))
    body.append(f"<p class='caveat'>Generated by coreg {__version__}. coreg informs; it does not "
                "diagnose.</p>")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(x for x in body if x) + "\n</body></html>\n")

