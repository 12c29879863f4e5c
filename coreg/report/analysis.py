"""Everything a report shows about one recording, computed once.

The per-person numbers are those of ``coreg analyze``
(:func:`coreg.engine.summary.summarize_person`: offline artifact correction after Lipponen &
Tarvainen 2019, doi:10.1080/03091902.2019.1640306; Task Force 1996 HRV,
doi:10.1161/01.CIR.93.5.1043); the time series come from the live engine
(:mod:`coreg.report.series`); the synchrony is the whole-session windowed cross-correlation
against surrogates of :func:`coreg.engine.synchrony.session_analyses` (Boker et al. 2002,
doi:10.1037/1082-989X.7.3.338; Moulder et al. 2018, doi:10.1037/met0000172).
"""

from __future__ import annotations

import itertools
import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeGuard, cast

import numpy as np
from numpy.typing import NDArray

from coreg.engine.artifacts import Corrected
from coreg.engine.summary import PersonSummary, summarize_person, whole_spectrum
from coreg.engine.synchrony import PairAnalysis, SyncDetails, SyncSummary
from coreg.recording import Recording
from coreg.report.breathing import ReplayedBreathing, replay_breathing
from coreg.report.series import BeatTable, MetricSeries, beat_table, metric_series
from coreg.session.replay import LiveSynchronySummary, live_synchrony_summary

logger = logging.getLogger(__name__)

#: Longest stretch handed to neurokit2's non-linear indices (its entropies are O(n²)).
NONLINEAR_SPAN_S = 300.0

Progress = Callable[[str], None]


def _noop(_: str) -> None:
    return None


@dataclass(slots=True)
class PersonResult:
    """One person's summary, NN beats, recorded beats, spectrum and time series."""

    role: str
    summary: PersonSummary
    nn: Corrected
    beats: BeatTable
    freq_hz: NDArray[np.float64]
    psd_ms2_hz: NDArray[np.float64]
    series: MetricSeries
    nk_table: dict[str, float] = field(default_factory=dict)
    nk_note: str = ""
    breathing: ReplayedBreathing | None = None


@dataclass(slots=True)
class SessionAnalysis:
    """A recording and what the report says about it."""

    rec: Recording
    persons: dict[str, PersonResult]
    sync_roles: tuple[str, str] | None = None
    sync: PairAnalysis | None = None  # the slow band
    breathing_sync: PairAnalysis | None = None
    sync_summary: SyncSummary | None = None
    sync_details: SyncDetails | None = None  # coreg.engine.synchrony.details
    breathing_summary: SyncSummary | None = None
    sync_note: str = ""
    #: What the live display said, the recording replayed through the live path exactly as
    #: ``coreg replay`` does (:func:`coreg.session.replay.live_synchrony_summary`).
    live_sync: LiveSynchronySummary | None = None


def neurokit_table(nn: Corrected, *, nonlinear_span_s: float = NONLINEAR_SPAN_S
                   ) -> tuple[dict[str, float], str]:
    """neurokit2's HRV indices of the corrected NN intervals.

    Time- and frequency-domain indices (``nk.hrv_time``, ``nk.hrv_frequency(normalize=False,
    interpolation_rate=4)``) cover the whole recording; the non-linear ones (``nk.hrv_nonlinear``)
    the longest gap-free stretch, cut to its last ``nonlinear_span_s`` seconds. neurokit2:
    Makowski et al. 2021, doi:10.3758/s13428-020-01516-y. Note: neurokit2's pNN50 divides by the
    number of NN intervals, coreg's by the number of differences (Task Force).

    Returns
    -------
    (dict, str)
        Index name (``HRV_`` prefix removed) → value, and a note on what was used (or why the
        table is empty).
    """
    if len(nn.rr_ms) < 30:
        return {}, "too few beats for neurokit2's indices"
    try:
        import neurokit2 as nk
    except ImportError:
        return {}, "neurokit2 is not installed (pip install neurokit2)"
    data = {"RRI": np.asarray(nn.rr_ms, dtype=float), "RRI_Time": np.asarray(nn.t_s, dtype=float)}
    out: dict[str, float] = {}
    starts = [*cast("list[int]", np.flatnonzero(nn.break_before).tolist()), len(nn.t_s)]
    runs = [(a, b) for a, b in itertools.pairwise(starts) if b > a]
    a, b = max(runs, key=lambda ab: nn.t_s[ab[1] - 1] - nn.t_s[ab[0]])
    t_run = nn.t_s[a:b]
    lo = a + int(np.searchsorted(t_run, t_run[-1] - nonlinear_span_s, side="left"))
    span = float(nn.t_s[b - 1] - nn.t_s[lo])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frames = []
        for name, fn in (
            ("time", lambda: nk.hrv_time(data)),
            ("frequency", lambda: nk.hrv_frequency(data, normalize=False, interpolation_rate=4)),
            ("nonlinear", lambda: nk.hrv_nonlinear(
                {"RRI": data["RRI"][lo:b], "RRI_Time": data["RRI_Time"][lo:b]})),
        ):
            try:
                frames.append(fn())
            except Exception as exc:  # neurokit2 raises many kinds on short or odd data
                logger.info("neurokit2 %s indices failed: %s", name, exc)
    for df in frames:
        for col in df.columns:
            try:
                v = float(df[col].iloc[0])
            except (TypeError, ValueError):
                continue
            out[str(col).removeprefix("HRV_")] = v
    note = (f"neurokit2 {getattr(nk, '__version__', '')}: time and frequency domain over the "
            f"whole recording; non-linear indices over {span / 60:.1f} min of gap-free data")
    return out, note


def analyze_session(rec: Recording, *, progress: Progress = _noop,
                    with_neurokit: bool = True) -> SessionAnalysis:
    """Compute every figure and table of the report.

    Parameters
    ----------
    rec
        The recording.
    progress
        Called with a short label before each stage.
    with_neurokit
        Compute neurokit2's HRV table (the slowest part).
    """
    persons: dict[str, PersonResult] = {}
    progress("metrics over time (live engine)")
    series = metric_series(rec)
    for role in rec.roles:
        progress(f"HRV of {role}")
        samples = rec.samples_for(role)
        events = rec.events_for(role)
        summary, nn = summarize_person(samples, events)
        freq, psd, _ = whole_spectrum(nn)
        persons[role] = PersonResult(role=role, summary=summary, nn=nn,
                                     beats=beat_table(role, samples, events),
                                     freq_hz=freq, psd_ms2_hz=psd, series=series[role])
        if with_neurokit:
            progress(f"neurokit2 table of {role}")
            persons[role].nk_table, persons[role].nk_note = neurokit_table(nn)
    out = SessionAnalysis(rec=rec, persons=persons)
    if rec.pacer:
        for role, p in persons.items():
            progress(f"resonance assessment of {role} (replayed)")
            try:
                p.breathing = replay_breathing(rec, role)
            except (ValueError, ArithmeticError) as exc:  # report the rest regardless
                logger.info("replayed assessment of %s failed: %s", role, exc)
    usable = [r for r, p in persons.items() if len(p.nn.t_s) >= 2]
    if len(rec.roles) >= 2:
        if len(usable) < 2:
            out.sync_note = "synchrony needs beats from both people"
            return out
        progress("synchrony against surrogates")
        from coreg.engine import synchrony as sy

        settings = sy.SyncSettings()
        beats = {r: persons[r].nn.series() for r in usable}
        pair, slow, breathing = sy.session_analyses(beats, settings=settings)
        out.sync_roles, out.sync, out.breathing_sync = pair, slow, breathing
        out.sync_summary = sy.summary(slow, pair, settings.alpha)
        out.sync_details = sy.details(slow, pair, settings)
        out.breathing_summary = sy.summary(breathing, pair, settings.alpha)
        if slow is None:
            out.sync_note = "too little overlapping data for a single 30 s window"
        progress("synchrony as the live display said it (replayed)")
        out.live_sync = live_synchrony_summary(rec)
    return out


def finite(x: object) -> TypeGuard[float]:
    """True for a real, finite number."""
    return x is not None and isinstance(x, int | float) and math.isfinite(x)
