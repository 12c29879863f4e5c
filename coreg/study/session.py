"""One recording of a study, analysed in one task: HRV per role, synchrony, window series.

The task reads its own file (nothing of the recording passes through the client) and returns a
small :class:`SessionResult` plus, for dyads, each person's prepared slow heart-rate signal
(:class:`~coreg.study.pseudo.PersonSignal`), which stays on the worker for the pseudo-dyad tasks.

* HRV per role is :func:`coreg.engine.summary.summarize_person`, exactly as ``coreg analyze``
  (Lipponen & Tarvainen 2019 artifact correction, doi:10.1080/03091902.2019.1640306; Task Force
  1996 HRV, doi:10.1161/01.CIR.93.5.1043).
* Synchrony is :func:`coreg.engine.synchrony.session_analyses` with the default settings
  (Boker et al. 2002 windowed cross-correlation, doi:10.1037/1082-989X.7.3.338; circular-shift
  and segment-shuffling surrogates after Moulder et al. 2018, doi:10.1037/met0000172). Its random
  draws (segment shuffling, the lag bootstrap) are seeded from the file's SHA-256
  (:func:`~coreg.study.settings.file_seed`), so a recording gives the same numbers on any worker;
  the circular-shift test, effect size and p value are deterministic anyway and equal
  ``coreg analyze``'s.

A file that cannot be read or analysed gives a result with status ``"damaged"`` and the reason in
one line: never an exception.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import SupportsFloat, TypedDict

import numpy as np
from numpy.typing import NDArray

from coreg.engine import synchrony
from coreg.engine.beats import BeatSeries
from coreg.engine.summary import PersonSummary, summarize_person
from coreg.errors import CoregError
from coreg.recording import Recording, read_recording
from coreg.study.identity import Identity, identity
from coreg.study.pseudo import PersonSignal, person_signal
from coreg.study.settings import StudySettings, file_seed

logger = logging.getLogger(__name__)

#: Status of a recording in the study.
OK, DAMAGED, NO_DATA, DUPLICATE = "ok", "damaged", "no data", "duplicate"

_CHUNK = 1 << 20
NO_IDENTITY = Identity("", "none")


@dataclass(frozen=True, slots=True)
class RoleSummary:
    """One person's whole-recording summary (the ``roles[role]`` numbers of ``coreg analyze``)."""

    role: str
    person_id: str
    beats: int
    artifacts: int
    artifacts_pct: float
    gaps: int
    no_contact_beats: int
    mean_nn_ms: float | None
    sdnn_ms: float | None
    rmssd_ms: float | None
    pnn50_pct: float | None
    mean_hr_bpm: float | None
    vlf_ms2: float | None
    lf_ms2: float | None
    hf_ms2: float | None
    lf_hf: float | None
    lf_peak_hz: float | None
    hf_peak_hz: float | None
    coherence_mean: float | None
    spectral_data_s: float
    coherence_windows: int


#: The HRV fields of :class:`RoleSummary` (keys of ``coreg analyze --json`` ``hrv``).
HRV_KEYS = ("mean_nn_ms", "sdnn_ms", "rmssd_ms", "pnn50_pct", "mean_hr_bpm", "vlf_ms2", "lf_ms2",
            "hf_ms2", "lf_hf", "lf_peak_hz", "hf_peak_hz", "coherence_mean")


@dataclass(frozen=True, slots=True)
class SyncSummary:
    """Whole-session synchrony of a two-person recording (``coreg analyze`` ``synchrony``).

    ``roles`` is the analysed order (first role's lead counted positive when no leader is named);
    ``lag_s`` is positive when ``leader`` moves first. ``None`` where a number is undefined.
    """

    roles: tuple[str, str]
    mean_peak_r: float | None
    chance_mean_peak_r: float | None
    effect_size: float | None
    p_value: float | None
    significant: bool
    lag_s: float | None
    leader: str
    pct_windows_above_chance: float | None
    windows: int
    chance_r95_window: float | None
    lag_ci95_lo_s: float | None
    lag_ci95_hi_s: float | None
    circular_shift_n: int
    segment_shuffle_effect_size: float | None
    segment_shuffle_p_value: float | None
    breathing_mean_peak_r: float | None
    breathing_effect_size: float | None
    breathing_p_value: float | None
    breathing_windows: int


@dataclass(frozen=True, slots=True)
class BandWindows:
    """The windowed synchrony series of one band: per window start, peak r and its lag."""

    band: str
    t_s: NDArray[np.float64]
    peak_r: NDArray[np.float64]
    peak_lag_s: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SessionResult:
    """What a study keeps of one recording (small: no beats, no signals).

    Attributes
    ----------
    path, sha256, size_bytes
        The file as analysed.
    seed
        Seed of its random draws (:func:`~coreg.study.settings.file_seed`).
    status, problem
        ``"ok"``, ``"damaged"`` or ``"no data"``, and the one-line reason when not ok.
    mode, created, duration_s, roles, complete, reader_notes
        From the recording (``complete``: it ends with an ``end`` line and nothing was skipped).
    simulated, scenario, sim_coupling
        Simulated sessions: scenario and the true coupling strength.
    therapist, client
        Identities (:mod:`coreg.study.identity`).
    hrv
        Per role summaries, in the recording's role order.
    sync
        Two-person recordings: the synchrony summary; else None.
    windows
        Two-person recordings: the window series per band.
    """

    path: str
    sha256: str
    size_bytes: int
    seed: int
    status: str
    problem: str | None = None
    mode: str = ""
    created: str = ""
    duration_s: float | None = None
    roles: tuple[str, ...] = ()
    complete: bool = False
    reader_notes: str = ""
    simulated: bool = False
    scenario: str | None = None
    sim_coupling: float | None = None
    therapist: Identity = NO_IDENTITY
    client: Identity = NO_IDENTITY
    hrv: tuple[RoleSummary, ...] = ()
    sync: SyncSummary | None = None
    windows: tuple[BandWindows, ...] = ()

    @property
    def session_id(self) -> str:
        """The recording's id in the study tables: its SHA-256's first 16 hex digits."""
        return self.sha256[:16]

    @property
    def is_dyad(self) -> bool:
        """A therapist–client recording that was analysed (it can have pseudo-dyads)."""
        return (self.status == OK and self.sync is not None
                and set(synchrony.DYAD_ROLES) <= set(self.roles))


@dataclass(frozen=True, slots=True)
class RecordingOutput:
    """The task's whole output: the result for the client, the signals for pseudo-dyad tasks."""

    result: SessionResult
    signals: dict[str, PersonSignal] | None


def file_sha256(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _num(x: object) -> float | None:
    if x is None or isinstance(x, bool) or not isinstance(x, SupportsFloat):
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _role_summary(role: str, person_id: str, s: PersonSummary) -> RoleSummary:
    hrv = s["hrv"]
    q = s["quality"]
    return RoleSummary(
        role=role, person_id=person_id, beats=int(s["beats"]),
        artifacts=int(s["artifacts"]["count"]), artifacts_pct=float(s["artifacts"]["percent"]),
        gaps=int(q["gaps"]), no_contact_beats=int(q["no_contact_beats"]),
        **{k: _num(hrv.get(k)) for k in HRV_KEYS},
        spectral_data_s=float(q["spectral_data_s"]),
        coherence_windows=int(q["coherence_windows"]),
    )


def _sync_summary(
    pair: tuple[str, str], slow: synchrony.PairAnalysis | None,
    breathing: synchrony.PairAnalysis | None, settings: synchrony.SyncSettings,
) -> SyncSummary:
    s = synchrony.summary(slow, pair, settings.alpha)
    d = synchrony.details(slow, pair, settings)
    b = synchrony.summary(breathing, pair, settings.alpha)
    ci = d.get("lag_ci95_s") or [None, None]
    circ = d.get("circular_shift")
    seg = d.get("segment_shuffle")
    return SyncSummary(
        roles=pair, mean_peak_r=_num(s.mean_peak_r),
        chance_mean_peak_r=_num(d.get("chance_mean_peak_r")),
        effect_size=_num(s.effect_size), p_value=_num(s.p_value),
        significant=s.significant, lag_s=_num(s.lag_s), leader=s.leader,
        pct_windows_above_chance=_num(s.pct_windows_above_chance), windows=s.windows,
        chance_r95_window=_num(d.get("chance_r95_window")),
        lag_ci95_lo_s=_num(ci[0]), lag_ci95_hi_s=_num(ci[1]),
        circular_shift_n=circ["n"] if circ else 0,
        segment_shuffle_effect_size=_num(seg["effect_size"]) if seg else None,
        segment_shuffle_p_value=_num(seg["p_value"]) if seg else None,
        breathing_mean_peak_r=_num(b.mean_peak_r), breathing_effect_size=_num(b.effect_size),
        breathing_p_value=_num(b.p_value), breathing_windows=b.windows,
    )


def _band_windows(band: str, a: synchrony.PairAnalysis | None) -> BandWindows | None:
    if a is None:
        return None
    return BandWindows(band, np.asarray(a.window_t_s, dtype=np.float64),
                       np.asarray(a.peak_r, dtype=np.float64),
                       np.asarray(a.peak_lag_s, dtype=np.float64))


class _Facts(TypedDict):
    """What a recording says about itself (fields of :class:`SessionResult`)."""

    mode: str
    created: str
    duration_s: float
    roles: tuple[str, ...]
    complete: bool
    reader_notes: str
    simulated: bool
    scenario: str | None
    sim_coupling: float | None
    therapist: Identity
    client: Identity


def _facts(rec: Recording) -> _Facts:
    sim = rec.simulation
    truth = sim.get("truth") if sim else None
    coupling = truth.get("coupling") if isinstance(truth, dict) else None
    created = rec.header.get("created")
    return {
        "mode": rec.mode,
        "created": created if isinstance(created, str) else "",
        "duration_s": float(rec.duration_s),
        "roles": tuple(rec.roles),
        "complete": rec.complete,
        "reader_notes": "; ".join(rec.skipped)[:300],
        "simulated": sim is not None,
        "scenario": str(sim.get("scenario")) if sim and sim.get("scenario") is not None else None,
        "sim_coupling": _num(coupling) if isinstance(coupling, int | float) else None,
        "therapist": identity(rec.header, "therapist"),
        "client": identity(rec.header, "client"),
    }


def _one_blas_thread() -> contextlib.AbstractContextManager[object]:
    """BLAS on one thread while a recording is analysed.

    A matrix product split over threads sums in another order, which changes the last bit of a
    correlation now and then (seen: 5.6e-17 on one window of 4,404 between a threaded worker and
    a worker process). dask's worker processes already start with one BLAS thread; this makes
    threaded workers and external clusters give the same bits.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - part of coreg[study]
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def analyze_recording(path: str, settings: StudySettings) -> RecordingOutput:
    """Analyse one recording of a study (the per-recording Dask task).

    Parameters
    ----------
    path
        The recording (a path every worker can read).
    settings
        The study's settings.

    Returns
    -------
    RecordingOutput
        Never raises for a bad file: its result then has status ``"damaged"`` (or
        ``"no data"``) and ``problem`` says why.
    """
    p = Path(path)
    try:
        sha, size = file_sha256(p)
    except OSError as exc:
        reason = f"{p}: {exc.strerror or _one_line(exc)}"
        return RecordingOutput(SessionResult(str(p), "", 0, 0, DAMAGED, reason), None)
    seed = file_seed(sha)
    base = SessionResult(str(p), sha, size, seed, DAMAGED)
    try:
        rec = read_recording(p)
    except (CoregError, OSError, ValueError) as exc:
        return RecordingOutput(dataclasses.replace(base, problem=_one_line(exc)), None)
    facts = _facts(rec)
    if not rec.samples:
        return RecordingOutput(dataclasses.replace(
            base, status=NO_DATA, problem="the recording holds no RR data", **facts), None)
    try:
        with _one_blas_thread():
            return _analyze(rec, base, facts, settings)
    except (CoregError, ValueError, ArithmeticError, IndexError) as exc:
        logger.debug("could not analyse %s", p, exc_info=True)
        return RecordingOutput(dataclasses.replace(
            base, problem=f"could not analyse this recording ({_one_line(exc)})", **facts), None)


def _analyze(rec: Recording, base: SessionResult, facts: _Facts,
             settings: StudySettings) -> RecordingOutput:
    ids = {"therapist": facts["therapist"], "client": facts["client"]}
    hrv: list[RoleSummary] = []
    nn: dict[str, BeatSeries] = {}
    for role in rec.roles:
        summary, corrected = summarize_person(rec.samples_for(role), rec.events_for(role),
                                              correct=settings.correct)
        person = ids[role].person_id if role in ids else ""
        hrv.append(_role_summary(role, person, summary))
        nn[role] = corrected.series()
    sync: SyncSummary | None = None
    windows: tuple[BandWindows, ...] = ()
    signals: dict[str, PersonSignal] | None = None
    if len(nn) == 2:
        sync_settings = dataclasses.replace(settings.sync, seed=base.seed)
        pair, slow, breathing = synchrony.session_analyses(
            nn, settings=sync_settings, breathing=settings.breathing)
        sync = _sync_summary(pair, slow, breathing, sync_settings)
        windows = tuple(w for w in (_band_windows("slow", slow),
                                    _band_windows("breathing", breathing)) if w is not None)
        if set(synchrony.DYAD_ROLES) <= set(nn):
            signals = {role: person_signal(nn[role], settings.sync)
                       for role in synchrony.DYAD_ROLES}
    result = dataclasses.replace(base, status=OK, hrv=tuple(hrv), sync=sync, windows=windows,
                                 **facts)
    return RecordingOutput(result, signals)
