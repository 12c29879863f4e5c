"""Whole-recording summary per person: the computation behind ``coreg analyze``.

Takes per-role samples (and optionally device events), not the recording class, so that it
serves recordings, imports and tests alike. The beat timeline and artifact classification are
the offline variants (:func:`~coreg.engine.timeline.timeline_from_samples` runs the live
timeline code; :func:`~coreg.engine.artifacts.label_series` uses centred windows).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict, cast

import numpy as np
from numpy.typing import NDArray

from coreg.engine import coherence as coh
from coreg.engine.artifacts import BeatClass, Corrected, correct_series, label_series
from coreg.engine.beats import BeatSeries
from coreg.engine.hrv import (
    detrend_linear,
    resample_nn,
    spectrum_bands,
    time_domain,
    welch_psd,
)
from coreg.engine.synchrony import SyncDetails, session_synchrony
from coreg.engine.timeline import BeatTimeline
from devices.types import DeviceEvent, EventKind, RRSample

logger = logging.getLogger(__name__)

SPECTRAL_RATE_HZ = 4.0
SPECTRAL_SEGMENT_S = 256.0
COHERENCE_STEP_S = 5.0


class ArtifactSummary(TypedDict):
    """The ``artifacts`` part of a :class:`PersonSummary`."""

    count: int
    percent: float
    indices: list[int]
    by_kind: dict[str, int]
    corrected: bool


class QualitySummary(TypedDict):
    """The ``quality`` part of a :class:`PersonSummary`."""

    no_contact_beats: int
    gaps: int
    spectral_data_s: float
    coherence_windows: int


class PersonSummary(TypedDict):
    """One person's summary (:func:`summarize_person`; ``roles[role]`` of ``coreg analyze
    --json``). ``hrv`` maps each figure's name (``rmssd_ms``, ``lf_ms2``, ...) to its value,
    None when it cannot be computed."""

    beats: int
    artifacts: ArtifactSummary
    hrv: dict[str, float | None]
    quality: QualitySummary


class RecordingSummary(TypedDict):
    """A whole recording's summary (:func:`summarize_recording`): ``coreg analyze --json``.

    The synchrony keys (:class:`~coreg.engine.synchrony.session.SessionSynchrony`) are there
    for two roles.
    """

    duration_s: float
    roles: dict[str, PersonSummary]
    synchrony: NotRequired[dict[str, object]]
    breathing_synchrony: NotRequired[dict[str, object]]
    synchrony_details: NotRequired[SyncDetails]


def person_beats(
    samples: Sequence[RRSample], events: Sequence[DeviceEvent] = ()
) -> BeatSeries:
    """Beat timeline of one person, with disconnects breaking it (same code as live)."""
    timeline = BeatTimeline()
    merged: list[tuple[float, int, RRSample | DeviceEvent]] = [
        (s.arrival_s, 1, s) for s in samples
    ]
    merged += [(e.arrival_s, 0, e) for e in events]
    merged.sort(key=lambda x: (x[0], x[1]))
    for _, _, msg in merged:
        if isinstance(msg, DeviceEvent):
            if msg.kind in (EventKind.DISCONNECTED, EventKind.CONNECTED, EventKind.RECONNECTING):
                timeline.mark_break()
        else:
            timeline.add(msg)
    return timeline.series()


def _runs(c: Corrected) -> list[slice]:
    starts = [*cast("list[int]", np.flatnonzero(c.break_before).tolist()), len(c.t_s)]
    return [slice(a, b) for a, b in itertools.pairwise(starts) if b > a]


def whole_spectrum(c: Corrected) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Welch PSD of a whole recording made of gap-separated runs.

    Runs long enough for Welch segments (≥ 384 s, see :func:`~coreg.engine.hrv.welch_psd`) get
    docs/science.md §3 Welch spectra (4 Hz cubic, linear detrend per run, Hann, 256 s segments, 50 %
    overlap), averaged weighted by their number of segments; without such a run the longest
    run is taken whole as one segment. Returns (freq, psd, duration_s),
    duration being that of the data used.
    """
    runs = [r for r in _runs(c) if r.stop - r.start >= 4]
    seg_n = round(SPECTRAL_SEGMENT_S * SPECTRAL_RATE_HZ)
    acc: NDArray[np.float64] | None = None
    freq: NDArray[np.float64] | None = None
    weight = 0.0
    used_s = 0.0
    for r in runs:
        t, rr = c.t_s[r], c.rr_ms[r]
        _, nn = resample_nn(t, rr, SPECTRAL_RATE_HZ)
        if len(nn) < 1.5 * seg_n:
            continue  # too short for Welch segments: only used alone, below
        x = detrend_linear(nn)
        n_seg = float((len(x) - seg_n) // (seg_n // 2) + 1)
        f, p = welch_psd(x, SPECTRAL_RATE_HZ, SPECTRAL_SEGMENT_S)
        acc = cast("NDArray[np.float64]", p * n_seg if acc is None else acc + p * n_seg)
        freq = f
        weight += n_seg
        used_s += float(t[-1] - t[0])
    if acc is not None and freq is not None:
        return freq, cast("NDArray[np.float64]", acc / weight), used_s
    if not runs:
        return np.zeros(0), np.zeros(0), 0.0
    r = max(runs, key=lambda r: c.t_s[r][-1] - c.t_s[r][0])
    t, rr = c.t_s[r], c.rr_ms[r]
    _, nn = resample_nn(t, rr, SPECTRAL_RATE_HZ)
    f, p = welch_psd(detrend_linear(nn), SPECTRAL_RATE_HZ, SPECTRAL_SEGMENT_S)
    return f, p, float(t[-1] - t[0])


def coherence_series(c: Corrected, step_s: float = COHERENCE_STEP_S) -> NDArray[np.float64]:
    """Coherence of every 64 s window ending on a ``step_s`` grid, inside gap-free runs."""
    out: list[float] = []
    win = coh.COHERENCE_WINDOW_S
    for r in _runs(c):
        t, rr = c.t_s[r], c.rr_ms[r]
        if len(t) < 4 or t[-1] - t[0] < win:
            continue
        end = math.ceil((t[0] + win) / step_s) * step_s
        while end <= t[-1]:
            hi = int(np.searchsorted(t, end, side="right"))
            lo = max(0, int(np.searchsorted(t, end - win, side="left")) - 1)
            if hi - lo >= 4:
                tt, rrr = t[lo:hi], rr[lo:hi]
                out.append(coh.coherence_ratio(coh.short_spectrum(tt, rrr, window_s=win))[0])
            end += step_s
    return np.asarray(out, dtype=np.float64)


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def summarize_person(
    samples: Sequence[RRSample], events: Sequence[DeviceEvent] = (), *, correct: bool = True
) -> tuple[PersonSummary, Corrected]:
    """Summary dict of one person (the ``roles[role]`` part of ``coreg analyze --json``).

    Returns the dict and the NN beats it was computed from.
    """
    beats = person_beats(samples, events)
    labels = label_series(beats)
    no_contact = ~beats.valid
    flagged = (labels != BeatClass.NORMAL) & ~no_contact
    usable = int(np.count_nonzero(~no_contact))
    indices = cast("list[int]", np.flatnonzero(flagged).tolist())
    if correct:
        nn = correct_series(beats, labels)
    else:
        raw = BeatSeries(beats.t_s, beats.rr_ms, beats.valid & (beats.rr_ms > 0))
        nn = correct_series(raw, np.zeros(len(beats), dtype=np.int8))
    td = time_domain(nn.rr_ms, nn.break_before)
    freq, psd, spec_s = whole_spectrum(nn)
    fd = spectrum_bands(freq, psd, spec_s)
    cohs = coherence_series(nn)
    gaps = int(np.count_nonzero(beats.gap_before()))
    kinds = {k.name.lower(): int(np.count_nonzero((labels == k) & ~no_contact))
             for k in BeatClass if k != BeatClass.NORMAL}
    out: PersonSummary = {
        "beats": len(beats),
        "artifacts": {
            "count": len(indices),
            "percent": 100.0 * len(indices) / usable if usable else 0.0,
            "indices": indices,
            "by_kind": kinds,
            "corrected": correct,
        },
        "hrv": {
            "mean_nn_ms": _num(td.mean_nn_ms),
            "sdnn_ms": _num(td.sdnn_ms),
            "rmssd_ms": _num(td.rmssd_ms),
            "pnn50_pct": _num(td.pnn50_pct),
            "mean_hr_bpm": _num(td.mean_hr_bpm),
            "vlf_ms2": _num(fd.vlf_ms2),
            "lf_ms2": _num(fd.lf_ms2),
            "hf_ms2": _num(fd.hf_ms2),
            "lf_hf": _num(fd.lf_hf),
            "lf_peak_hz": _num(fd.lf_peak_hz),
            "hf_peak_hz": _num(fd.hf_peak_hz),
            "coherence_mean": _num(float(np.mean(cohs))) if len(cohs) else None,
        },
        "quality": {
            "no_contact_beats": int(np.count_nonzero(no_contact)),
            "gaps": gaps,
            "spectral_data_s": spec_s,
            "coherence_windows": len(cohs),
        },
    }
    return out, nn


def summarize_recording(
    samples_by_role: Mapping[str, Sequence[RRSample]],
    *,
    duration_s: float | None = None,
    events_by_role: Mapping[str, Sequence[DeviceEvent]] | None = None,
    correct: bool = True,
) -> RecordingSummary:
    """Whole-recording summary in the ``coreg analyze --json`` shape.

    Parameters
    ----------
    samples_by_role
        Each role's RR notifications (arrival times on one clock).
    duration_s
        Session duration; by default the last arrival.
    events_by_role
        Each role's device events (disconnects break the beat timeline).
    correct
        Correct artifacts (default); False computes on the RR as recorded without correction,
        but intervals outside 200–3000 ms (:data:`~coreg.engine.artifacts.PLAUSIBLE_RR_MS`) and
        beats without skin contact are still left out as gaps. Artifacts are detected and
        reported either way.

    Returns
    -------
    dict
        ``{"duration_s", "roles": {role: {"beats", "artifacts": {"count", "percent",
        "indices", ...}, "hrv": {...}, "quality": {...}}}}`` and, with two roles and the
        synchrony module present, ``"synchrony"``. Non-finite numbers are None.
    """
    events_by_role = events_by_role or {}
    roles: dict[str, PersonSummary] = {}
    nn_by_role: dict[str, BeatSeries] = {}
    last = 0.0
    for role, samples in samples_by_role.items():
        summary, nn = summarize_person(samples, events_by_role.get(role, ()), correct=correct)
        roles[role] = summary
        nn_by_role[role] = nn.series()
        if samples:
            last = max(last, samples[-1].arrival_s)
    out: RecordingSummary = {
        "duration_s": float(duration_s if duration_s is not None else last),
        "roles": roles,
    }
    if len(nn_by_role) == 2:
        sync = session_synchrony(nn_by_role)
        out["synchrony"] = sync["synchrony"]
        out["breathing_synchrony"] = sync["breathing_synchrony"]
        out["synchrony_details"] = sync["synchrony_details"]
    return out
