"""Per-beat and per-5-s tables of a recording, computed by the engine's own code.

* :func:`beat_table` — every recorded beat of every role on the host clock (the offline beat
  timeline, :func:`~coreg.engine.summary.person_beats`), with the artifact verdict of the
  offline Lipponen & Tarvainen (2019, doi:10.1080/03091902.2019.1640306) detector.
* :func:`metric_series` — the live metrics over time: the recording is fed message by message,
  in arrival order, through :class:`~coreg.engine.person.PersonEngine` (the engine the live view
  runs; order of :func:`coreg.recording.replay.replay_messages`), and every engine is
  snapshotted on a fixed grid of arrival times. Replaying the same
  recording therefore gives the same numbers as the live session showed at those instants.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from coreg.engine.artifacts import BeatClass, label_series
from coreg.engine.beats import BeatSeries
from coreg.engine.person import PersonEngine, PersonSnapshot
from coreg.engine.summary import person_beats
from coreg.recording import Recording
from coreg.recording.replay import replay_messages
from devices.types import DeviceEvent, RRSample

logger = logging.getLogger(__name__)

#: Default spacing of the metric time series, s (the engine's spectral cadence).
SERIES_STEP_S = 5.0

#: Metric columns of :class:`MetricSeries` (name → snapshot attribute).
METRIC_COLUMNS: dict[str, str] = {
    "hr_bpm": "hr_bpm",
    "rmssd_ms": "rmssd_ms",
    "sdnn_ms": "sdnn_ms",
    "vlf_ms2": "vlf_ms2",
    "lf_ms2": "lf_ms2",
    "hf_ms2": "hf_ms2",
    "lf_hf": "lf_hf",
    "coherence": "coherence",
    "resonance": "resonance",
    "breathing_rate_bpm": "breathing_rate_bpm",
    "rsa_bpm": "rsa_bpm",
}


@dataclass(frozen=True, slots=True)
class BeatTable:
    """The recorded beats of one role.

    Attributes
    ----------
    t_s
        End of each interval, s since the session start (host clock).
    rr_ms
        RR exactly as recorded, ms.
    label
        :class:`~coreg.engine.artifacts.BeatClass` verdict per beat.
    valid
        False for beats recorded without skin contact (never used).
    gap_before
        True where the timeline breaks before the beat (lost data, disconnect).
    """

    role: str
    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    label: NDArray[np.int8]
    valid: NDArray[np.bool_]
    gap_before: NDArray[np.bool_]

    @property
    def kinds(self) -> list[str]:
        """The verdict of each beat as a word (``normal``, ``ectopic``, ``missed``, ...)."""
        names = {int(k): k.name.lower() for k in BeatClass}
        return [names.get(int(x), str(int(x))) for x in self.label]


def beat_table(role: str, samples: Sequence[RRSample],
               events: Sequence[DeviceEvent] = ()) -> BeatTable:
    """Every recorded beat of one role with its artifact verdict (see the module docstring)."""
    beats: BeatSeries = person_beats(samples, events)
    labels = (label_series(beats) if len(beats)
              else np.zeros(0, dtype=np.int8))
    return BeatTable(role=role, t_s=beats.t_s, rr_ms=beats.rr_ms,
                     label=np.asarray(labels, dtype=np.int8), valid=beats.valid,
                     gap_before=beats.gap_before())


@dataclass(slots=True)
class MetricSeries:
    """Live metrics of one role sampled every ``step_s`` (NaN while a metric is collecting).

    ``columns`` maps each name of :data:`METRIC_COLUMNS` plus ``corrected_pct`` (share of
    beats the artifact correction changed over the last 60 s) and ``pacer_rate_bpm`` to an array
    aligned with ``t_s``.
    """

    role: str
    step_s: float
    t_s: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    columns: dict[str, NDArray[np.float64]] = field(default_factory=dict)


def _value(snap: PersonSnapshot, attr: str) -> float:
    metric = getattr(snap, attr)
    v = metric.value
    return math.nan if v is None else float(v)


def metric_series(rec: Recording, step_s: float = SERIES_STEP_S) -> dict[str, MetricSeries]:
    """Feed the recording through the live engine and sample every role every ``step_s``.

    Pacer changes in the recording are passed to the engines at their times (resonance power
    and RSA use the pacer rate), device events too (a disconnect breaks the timeline).

    Parameters
    ----------
    rec
        The recording.
    step_s
        Sampling interval of the series, s; samples sit at multiples of ``step_s``.

    Returns
    -------
    dict
        Role → :class:`MetricSeries`.
    """
    roles = rec.roles
    engines = {r: PersonEngine(r) for r in roles}
    # messages in the live consumer's order (coreg.recording.replay); a pacer change applies
    # before the messages of the same instant
    stream: list[tuple[float, int, int, object]] = [
        (m.arrival_s, 1, i, m) for i, m in enumerate(replay_messages(rec))]
    stream += [(p.t_s, 0, i, p) for i, p in enumerate(rec.pacer)]
    stream.sort(key=lambda x: (x[0], x[1], x[2]))
    rows: dict[str, list[list[float]]] = {r: [] for r in roles}
    times: list[float] = []
    pacer_bpm: float | None = None
    end_s = max(rec.duration_s, stream[-1][0] if stream else 0.0)
    names = [*METRIC_COLUMNS, "corrected_pct", "pacer_rate_bpm"]

    def take(t: float) -> None:
        times.append(t)
        for r in roles:
            snap = engines[r].snapshot(t)
            row = [_value(snap, a) for a in METRIC_COLUMNS.values()]
            row.append(snap.quality.corrected_pct if snap.quality.usable_beats else math.nan)
            row.append(math.nan if pacer_bpm is None else pacer_bpm)
            rows[r].append(row)

    next_t = step_s
    for t, _, _, msg in stream:
        while t > next_t:
            take(next_t)
            next_t += step_s
        if isinstance(msg, RRSample | DeviceEvent):
            if msg.source_id in engines:
                engines[msg.source_id].feed(msg)
        else:
            pacer_bpm = getattr(msg, "rate_bpm", None)
            for eng in engines.values():
                eng.set_pacer(pacer_bpm)
    while next_t <= end_s + 1e-9:
        take(next_t)
        next_t += step_s
    out: dict[str, MetricSeries] = {}
    t_arr = np.asarray(times, dtype=np.float64)
    for r in roles:
        data = (np.asarray(rows[r], dtype=np.float64) if rows[r]
                else np.zeros((0, len(names))))
        out[r] = MetricSeries(role=r, step_s=step_s, t_s=t_arr,
                              columns={n: data[:, i] for i, n in enumerate(names)})
    return out
