"""The report's figures: matplotlib (Agg), returned as base64 PNG ``data:`` URIs.

Every time axis is in minutes since the session start and carries the session's markers as
dashed vertical lines, labelled with their note.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from coreg.engine.resonance import StepMeasure
    from coreg.engine.synchrony import PairAnalysis
    from coreg.recording import Marker
    from coreg.report.analysis import SessionAnalysis

DPI = 150
WIDTH_IN = 10.0
#: Colours per role (colour-blind safe pair first), then a fallback cycle.
ROLE_COLOURS = {"therapist": "#1b6fb5", "client": "#d9631e"}
_CYCLE = ["#1b6fb5", "#d9631e", "#3a9a4a", "#8a4bb0"]
BANDS_HZ = (("VLF", 0.0033, 0.04, "#e8e8e8"), ("LF", 0.04, 0.15, "#d6e6f5"),
            ("HF", 0.15, 0.40, "#fbe3d2"))


def colour(role: str, i: int = 0) -> str:
    """The colour of a role in every figure."""
    return ROLE_COLOURS.get(role, _CYCLE[i % len(_CYCLE)])


def _plt() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.size": 9, "axes.titlesize": 10, "axes.spines.top": False,
        "axes.spines.right": False, "axes.grid": True, "grid.color": "#dddddd",
        "grid.linewidth": 0.6, "legend.frameon": False, "figure.dpi": DPI,
    })
    return plt


def to_data_uri(fig: Figure) -> str:
    """Render a figure to a PNG ``data:`` URI and close it."""
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def add_markers(ax: Axes, markers: Sequence[Marker], *, label: bool = True) -> None:
    """Dashed vertical lines at the markers (minutes), with their notes at the top."""
    for m in markers:
        x = m.t_s / 60.0
        ax.axvline(x, color="#555555", linestyle="--", linewidth=0.8, zorder=1)
        if label and m.note:
            ax.annotate(m.note[:24], (x, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -2), textcoords="offset points", fontsize=7,
                        va="top", ha="left", color="#333333", rotation=0)


def _pacer_spans(ax: Axes, an: SessionAnalysis) -> None:
    from coreg.recording.replay import pacer_schedule
    from coreg.report.breathing import paced_spans

    for i, span in enumerate(paced_spans(pacer_schedule(an.rec), an.rec.duration_s)):
        ax.axvspan(span.step.start_s / 60, span.end_s / 60,
                   color="#3a9a4a" if i % 2 else "#7fc48b", alpha=0.10, zorder=0, linewidth=0)


#: Window of the report's HR trend line, s (longer than any breath, so breathing does not alias).
HR_TREND_WINDOW_S = 30.0


def hr_trend(
    t_s: np.ndarray, rr_ms: np.ndarray, break_before: np.ndarray, *,
    window_s: float = HR_TREND_WINDOW_S, step_s: float = 5.0, min_cover: float = 0.8,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean beat-to-beat HR (bpm) over the trailing ``window_s``, every ``step_s``.

    NaN where the window's beats cover less than ``min_cover`` of it or span a gap. A 5-s HR
    sampled every 5 s aliases the breathing oscillation into a zig-zag that is not in the
    heart; a 30-s mean shows the trend, and the beat-by-beat line beside it the oscillation.
    """
    if len(t_s) == 0:
        return np.zeros(0), np.zeros(0)
    grid = np.arange(step_s, float(t_s[-1]) + step_s / 2, step_s)
    hr = 60000.0 / rr_ms
    csum = np.concatenate(([0.0], np.cumsum(hr)))
    cover = np.concatenate(([0.0], np.cumsum(rr_ms) / 1000.0))
    runs = np.cumsum(break_before)
    lo = np.searchsorted(t_s, grid - window_s, side="right")
    hi = np.searchsorted(t_s, grid, side="right")
    n = hi - lo
    out = np.full(len(grid), np.nan)
    ok = n > 0
    same_run = np.zeros(len(grid), dtype=bool)
    same_run[ok] = runs[lo[ok]] == runs[hi[ok] - 1]
    ok &= same_run & ((cover[hi] - cover[lo]) >= min_cover * window_s)
    out[ok] = (csum[hi] - csum[lo])[ok] / n[ok]
    return grid, out


def metrics_figure(an: SessionAnalysis) -> str:
    """HR (beat by beat and its 30-s mean), RMSSD (60 s) and coherence (64 s) over time,
    every person on each panel."""
    plt = _plt()
    rows = [("hr_bpm", f"HR (bpm)\n{HR_TREND_WINDOW_S:.0f} s mean"),
            ("rmssd_ms", "RMSSD (ms)\nlast 60 s"), ("coherence", "coherence\nlast 64 s")]
    fig, axes = plt.subplots(len(rows), 1, figsize=(WIDTH_IN, 6.2), sharex=True)
    for ax, (key, label) in zip(axes, rows, strict=True):
        for i, (role, p) in enumerate(an.persons.items()):
            if key == "hr_bpm":
                nn = p.nn
                beat_hr = np.where(nn.break_before, np.nan, 60000.0 / nn.rr_ms)
                ax.plot(nn.t_s / 60.0, beat_hr, color=colour(role, i), linewidth=0.4,
                        alpha=0.35)
                g, trend = hr_trend(nn.t_s, nn.rr_ms, nn.break_before)
                ax.plot(g / 60.0, trend, color=colour(role, i), linewidth=1.4, label=role)
                continue
            s = p.series
            ax.plot(s.t_s / 60.0, s.columns[key], color=colour(role, i), linewidth=1.1,
                    label=role)
        ax.set_ylabel(label)
        _pacer_spans(ax, an)
        add_markers(ax, an.rec.markers, label=ax is axes[0])
    axes[0].legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=len(an.persons))
    axes[-1].set_xlabel("time (min)")
    axes[-1].set_xlim(0, max(an.rec.duration_s, 1.0) / 60)
    fig.align_ylabels(axes)
    return to_data_uri(fig)


def tachogram_figure(an: SessionAnalysis) -> str:
    """RR as recorded (grey) and after correction (colour), artifacts marked, per person."""
    plt = _plt()
    n = len(an.persons)
    fig, axes = plt.subplots(n, 1, figsize=(WIDTH_IN, 1.9 * n + 0.4), sharex=True, squeeze=False)
    for i, (ax, (role, p)) in enumerate(zip(axes[:, 0], an.persons.items(), strict=True)):
        b = p.beats
        ax.plot(b.t_s / 60, np.where(b.valid, b.rr_ms, np.nan), color="#aaaaaa", linewidth=0.6,
                label="recorded")
        nn_rr = np.where(p.nn.break_before, np.nan, p.nn.rr_ms)
        ax.plot(p.nn.t_s / 60, nn_rr, color=colour(role, i), linewidth=0.8, label="corrected NN")
        art = (b.label != 0) & b.valid
        if np.any(art):
            ax.plot(b.t_s[art] / 60, b.rr_ms[art], "x", color="#c0392b", markersize=4,
                    label=f"artifact ({int(np.count_nonzero(art))})")
        if np.any(~b.valid):
            y0 = np.nanmin(p.nn.rr_ms) if len(p.nn.rr_ms) else 0.0
            ax.plot(b.t_s[~b.valid] / 60, np.full(int(np.count_nonzero(~b.valid)), y0), "|",
                    color="#7f3fbf", markersize=6, label="no skin contact")
        ax.set_ylabel(f"{role}\nRR (ms)")
        add_markers(ax, an.rec.markers, label=i == 0)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=4, fontsize=7)
    axes[-1, 0].set_xlabel("time (min)")
    axes[-1, 0].set_xlim(0, max(an.rec.duration_s, 1.0) / 60)
    fig.subplots_adjust(hspace=0.35)
    return to_data_uri(fig)


def spectrum_figure(an: SessionAnalysis) -> str:
    """Whole-session Welch spectrum per person with VLF, LF and HF shaded."""
    plt = _plt()
    n = len(an.persons)
    fig, axes = plt.subplots(1, n, figsize=(WIDTH_IN, 2.8), squeeze=False, sharey=False)
    for i, (ax, (role, p)) in enumerate(zip(axes[0], an.persons.items(), strict=True)):
        for name, lo, hi, c in BANDS_HZ:
            ax.axvspan(lo, hi, color=c, zorder=0, linewidth=0)
            ax.text((lo + hi) / 2 if name != "VLF" else 0.02, 0.97, name,
                    transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=8)
        if len(p.freq_hz):
            sel = p.freq_hz <= 0.5
            ax.plot(p.freq_hz[sel], p.psd_ms2_hz[sel], color=colour(role, i), linewidth=1.2)
        else:
            ax.text(0.5, 0.5, "too little data", transform=ax.transAxes, ha="center")
        ax.set_xlim(0, 0.5)
        ax.set_ylim(bottom=0)
        ax.set_title(role)
        ax.set_xlabel("frequency (Hz)")
        if i == 0:
            ax.set_ylabel("PSD (ms²/Hz)")
    fig.tight_layout()
    return to_data_uri(fig)


def sync_timeline_figure(an: SessionAnalysis) -> str:
    """Per-window peak r against the chance level and its 95th percentile."""
    plt = _plt()
    sync = an.sync
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 2.9))
    half = 15.0
    if sync is not None:
        half = float(an.sync_details.get("window_s", 30.0)) / 2 if an.sync_details else 15.0
        t = (sync.window_t_s + half) / 60
        chance = sync.circular.mean
        r95 = sync.chance_r95
        if math.isfinite(chance) and math.isfinite(r95):
            ax.axhspan(min(chance, r95), max(chance, r95), color="#bbbbbb", alpha=0.35,
                       linewidth=0, label=f"chance band (mean {chance:.2f} to 95th pct {r95:.2f})")
            ax.axhline(r95, color="#777777", linewidth=0.9, linestyle=":")
        ax.plot(t, sync.peak_r, ".", color="#999999", markersize=2.5, label="window peak r")
        k = 6
        if len(sync.peak_r) >= k:
            smooth = np.convolve(sync.peak_r, np.ones(k) / k, mode="same")
            ax.plot(t, smooth, color="#2b2b7a", linewidth=1.4, label="30 s running mean")
        above = sync.peak_r > r95 if math.isfinite(r95) else np.zeros(len(t), bool)
        if np.any(above):
            ax.plot(t[above], sync.peak_r[above], ".", color="#2b2b7a", markersize=3)
    truth = (an.rec.simulation or {}).get("truth")
    spans = truth.get("coupling_intervals") if isinstance(truth, dict) else None
    for j, (a, b) in enumerate(spans if isinstance(spans, list) else []):
        ax.axvspan(a / 60, b / 60, ymin=0, ymax=0.04, color="#3a9a4a", linewidth=0,
                   label="simulated coupling on (truth)" if j == 0 else None)
    add_markers(ax, an.rec.markers)
    ax.set_ylim(-0.1, 1.05)
    ax.set_xlim(0, max(an.rec.duration_s, 1.0) / 60)
    ax.set_xlabel("time (min, window centre)")
    ax.set_ylabel("peak r (HR < 0.15 Hz)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=4, fontsize=7)
    return to_data_uri(fig)


def _pair(an: SessionAnalysis) -> PairAnalysis:
    if an.sync is None:
        raise ValueError("the session has no synchrony analysis to draw")
    return an.sync


def lag_figure(an: SessionAnalysis) -> str:
    """Distribution of per-window lags and the window-averaged correlation curve."""
    plt = _plt()
    sync = _pair(an)
    roles = an.sync_roles or ("first", "second")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(WIDTH_IN, 2.7))
    bins = np.arange(sync.lags_s[0] - 0.125, sync.lags_s[-1] + 0.25, 0.5)
    ax1.hist(sync.peak_lag_s, bins=bins, color="#8e9fc9", edgecolor="white")
    ax1.axvline(0, color="#555555", linewidth=0.8)
    if math.isfinite(sync.lag_s):
        ax1.axvline(sync.lag_s, color="#2b2b7a", linewidth=1.6,
                    label=f"session lag {sync.lag_s:+.1f} s")
        lo, hi = sync.lag_ci_s
        if math.isfinite(lo) and math.isfinite(hi):
            ax1.axvspan(lo, hi, color="#2b2b7a", alpha=0.15, linewidth=0, label="95% interval")
    ax1.set_xlabel(f"lag (s); positive: {roles[0]} moves first")
    ax1.set_ylabel("windows")
    ax1.set_title("per-window lag of the peak nearest 0")
    ax1.legend(fontsize=7, loc="upper left")
    ax2.plot(sync.lags_s, sync.mean_curve, color="#2b2b7a")
    ax2.axvline(0, color="#555555", linewidth=0.8)
    ax2.set_xlabel("lag (s)")
    ax2.set_ylabel("mean r")
    ax2.set_title("window-averaged cross-correlation")
    fig.tight_layout()
    return to_data_uri(fig)


def surrogate_figure(an: SessionAnalysis) -> str:
    """The real mean peak r against both surrogate distributions."""
    plt = _plt()
    sync = _pair(an)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 2.7))
    vals = [sync.circular.surrogates, sync.segment.surrogates]
    both = np.concatenate([v for v in vals if v.size] + [np.array([sync.mean_peak_r])])
    lo, hi = float(np.nanmin(both)), float(np.nanmax(both))
    bins = np.linspace(lo - 0.01, hi + 0.01, 50)
    if sync.circular.n:
        ax.hist(sync.circular.surrogates, bins=bins, color="#6f8fcf", alpha=0.75, density=True,
                label=f"circular shifts (n={sync.circular.n}, the test)")
    if sync.segment.n:
        ax.hist(sync.segment.surrogates, bins=bins, color="#d9b89f", alpha=0.55, density=True,
                label=f"segment shuffling (n={sync.segment.n})")
    ax.axvline(sync.mean_peak_r, color="#b8242a", linewidth=2.0,
               label=f"real mean peak r = {sync.mean_peak_r:.3f}")
    ax.set_xlabel("mean peak r over the session")
    ax.set_ylabel("density")
    ax.legend(fontsize=7, loc="upper left")
    return to_data_uri(fig)


def breathing_figure(an: SessionAnalysis) -> str:
    """Pacer rate, coherence and resonance power over a breathing session."""
    plt = _plt()
    fig, axes = plt.subplots(3, 1, figsize=(WIDTH_IN, 4.8), sharex=True)
    t_p, r_p = [], []
    end = an.rec.duration_s
    for i, p in enumerate(an.rec.pacer):
        t1 = an.rec.pacer[i + 1].t_s if i + 1 < len(an.rec.pacer) else end
        rate = p.rate_bpm if p.rate_bpm else math.nan
        t_p += [p.t_s / 60, t1 / 60]
        r_p += [rate, rate]
    axes[0].plot(t_p, r_p, color="#3a9a4a", linewidth=2.0)
    axes[0].set_ylabel("pacer\n(breaths/min)")
    for i, (role, person) in enumerate(an.persons.items()):
        s = person.series
        axes[1].plot(s.t_s / 60, s.columns["resonance"], color=colour(role, i), label=role)
        axes[2].plot(s.t_s / 60, s.columns["rsa_bpm"], color=colour(role, i), label=role)
    axes[1].set_ylabel("resonance power\n(share at pacer)")
    axes[2].set_ylabel("RSA\n(bpm peak–trough)")
    for ax in axes:
        _pacer_spans(ax, an)
        add_markers(ax, an.rec.markers, label=ax is axes[0])
    axes[-1].set_xlabel("time (min)")
    axes[-1].set_xlim(0, max(end, 1.0) / 60)
    fig.align_ylabels(axes)
    return to_data_uri(fig)


def swing_vs_rate_figure(measures: Sequence[StepMeasure], role: str, i: int = 0) -> str:
    """HR swing per breath (RSA amplitude, bpm, ± its standard error) and LF power against the
    pacer rate of each measured step (:class:`coreg.engine.resonance.StepMeasure`): the
    resonance rate is where the swing peaks (Lehrer, Vaschillo & Vaschillo 2000,
    doi:10.1023/A:1009554825745)."""
    plt = _plt()
    fig, ax = plt.subplots(1, 1, figsize=(WIDTH_IN, 2.6))
    rows = sorted((m for m in measures if math.isfinite(m.amplitude_bpm)),
                  key=lambda m: m.rate_bpm)
    rates = [float(m.rate_bpm) for m in rows]
    swing = [float(m.amplitude_bpm) for m in rows]
    err = [float(m.amplitude_se_bpm) if math.isfinite(m.amplitude_se_bpm) else 0.0
           for m in rows]
    ax.errorbar(rates, swing, yerr=err, fmt="o-", color=colour(role, i), linewidth=2.0,
                capsize=3, label="HR swing")
    ax.set_xlabel("pacer rate (breaths/min)")
    ax.set_ylabel("HR swing per breath\n(bpm, peak–trough)")
    lf = [float(m.lf_power_ms2) for m in rows]
    if any(math.isfinite(v) for v in lf):
        twin = ax.twinx()
        twin.plot(rates, lf, "s--", color="#777777", linewidth=1.2, label="LF power")
        twin.set_ylabel("LF power (ms²)", color="#555555")
    if swing:
        ax.axvline(rates[int(np.argmax(swing))], color="#3a9a4a", linestyle=":", linewidth=1.5)
    ax.invert_xaxis()  # an assessment goes from faster to slower breathing
    return to_data_uri(fig)
