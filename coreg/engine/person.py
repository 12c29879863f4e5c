"""The live per-person engine: RR notifications in, a snapshot of every HRV metric out.

Each metric has a trailing window and an update cadence (docs/science.md §3–§4):

=================  ==============  ===========  =================================
metric             window          cadence      shown once the data covers
=================  ==============  ===========  =================================
HR                 5 s             every beat   1 beat
RMSSD, SDNN        60 s            every beat   30 s
HF power           300 s           every 5 s    60 s of gap-free data
LF power, LF/HF    300 s           every 5 s    120 s of gap-free data
VLF power          300 s           every 5 s    300 s of gap-free data
coherence          64 s            every 5 s    64 s of gap-free data
resonance power    64 s            every 5 s    64 s, only with a pacer rate
breathing rate     64 s            every 5 s    64 s of gap-free data
RSA amplitude      64 s            every 5 s    64 s and a breathing rate
=================  ==============  ===========  =================================

Before that a metric is in the ``"collecting"`` state with no value. Beat-level metrics include
the provisional beats at the end (their artifact verdict may still change: the live
Lipponen–Tarvainen detector needs :data:`~coreg.engine.artifacts.LIVE_LOOKAHEAD_BEATS` more beats
to be sure); the snapshot says how many there are. Spectral metrics are recomputed when a
notification's arrival time crosses a multiple of 5 s, so the values depend only on the stored
arrivals and replay reproduces live number for number. Nothing here reads a clock.

Why one module of this size: one engine. The per-beat running windows, the spectral
cadence and the snapshot share the final-NN buffers; splitting them would expose those
internals to each other through a public API.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from coreg.engine import coherence as coh
from coreg.engine.artifacts import (
    _EXTRA,
    _IMPLAUSIBLE,
    _MISSED,
    _NORMAL,
    PLAUSIBLE_RR_MS,
    Corrected,
    LiveArtifactDetector,
    elapsed_time_ratio,
)
from coreg.engine.beats import BeatSeries
from coreg.engine.hrv import (
    HF_MIN_S,
    LF_MIN_S,
    VLF_MIN_S,
    FixedWindowSpectrum,
    FrequencyDomain,
    frequency_domain_resampled,
    increasing_knots,
)
from coreg.engine.spline import SlidingResampler
from coreg.engine.timeline import BeatTimeline
from devices.types import DeviceEvent, EventKind, Message, RRSample

logger = logging.getLogger(__name__)

COLLECTING = "collecting"
OK = "ok"
#: State of a metric that does not apply (resonance power without a pacer).
OFF = "off"
#: Verdict used for beats without skin contact (excluded, not an artifact).
NO_CONTACT = -1
#: Resampling rate of the NN series for VLF/LF/HF, Hz (docs/science.md §3).
SPECTRAL_RATE_HZ = 4.0


class Metric(NamedTuple):
    """One metric's latest value with how it was computed (immutable; a named tuple because
    three are built per beat and a tuple is built in a third of a frozen dataclass's time).

    Parameters
    ----------
    value
        The latest value, or None while collecting.
    unit
        Unit of ``value`` (``"bpm"``, ``"ms"``, ``"ms²"``, ``"Hz"``, ``""``).
    window_s
        Length of the trailing window the value is computed over, in s.
    every_s
        Update cadence in s; 0 means every beat.
    state
        ``"ok"``, ``"collecting"`` (the window does not yet hold enough data) or ``"off"``
        (does not apply, e.g. resonance power without a pacer).
    coverage_s
        Seconds of usable data in the window at the last update.
    updated_s
        Arrival time of the notification that triggered the last update (host clock, s).
    """

    value: float | None
    unit: str
    window_s: float
    every_s: float
    state: str = COLLECTING
    coverage_s: float = 0.0
    updated_s: float | None = None


@dataclass(frozen=True, slots=True)
class SignalQuality:
    """Signal quality of one person.

    ``corrected_pct`` is the share of usable beats in the last 60 s that the artifact
    correction changed (provisional verdicts included); ``total_corrected_pct`` over the
    whole session. ``gaps`` counts breaks in the beat timeline (lost notifications,
    disconnects), ``no_contact_beats`` the beats excluded for lack of skin contact.
    """

    beats: int
    usable_beats: int
    corrected_beats: int
    corrected_pct: float
    total_corrected_pct: float
    no_contact_beats: int
    contact: bool | None
    connected: bool
    gaps: int
    timing_revisions: int
    seconds_since_beat: float | None


@dataclass(frozen=True, slots=True)
class PersonSnapshot:
    """Latest metrics of one person at ``now_s`` (see the module docstring for windows)."""

    role: str
    now_s: float
    hr_bpm: Metric
    rmssd_ms: Metric
    sdnn_ms: Metric
    vlf_ms2: Metric
    lf_ms2: Metric
    hf_ms2: Metric
    lf_hf: Metric
    lf_peak_hz: Metric
    hf_peak_hz: Metric
    coherence: Metric
    resonance: Metric
    breathing_rate_bpm: Metric
    rsa_bpm: Metric
    quality: SignalQuality
    provisional_beats: int
    pacer_rate_bpm: float | None


class PersonEngine:
    """Incremental HRV engine of one person; feed it messages, ask it for snapshots.

    Parameters
    ----------
    role
        The person's role (``"client"``, ``"therapist"``), used to ignore other sources.
    pacer_rate_bpm
        Breathing pacer rate in breaths/min, or None without a pacer (see :meth:`set_pacer`).
    correct
        Apply artifact correction (default True); False computes on the RR as received.
    hr_window_s, rmssd_window_s, spectral_window_s, coherence_window_s, spectral_every_s
        Windows and the spectral cadence, in s (docs/science.md §3–§4 defaults).
    """

    def __init__(
        self,
        role: str,
        *,
        pacer_rate_bpm: float | None = None,
        correct: bool = True,
        hr_window_s: float = 5.0,
        rmssd_window_s: float = 60.0,
        spectral_window_s: float = 300.0,
        coherence_window_s: float = coh.COHERENCE_WINDOW_S,
        spectral_every_s: float = 5.0,
    ) -> None:
        self.role = role
        self.pacer_rate_bpm = pacer_rate_bpm
        self.correct = correct
        self.hr_window_s = hr_window_s
        self.rmssd_window_s = rmssd_window_s
        self.spectral_window_s = spectral_window_s
        self.coherence_window_s = coherence_window_s
        self.spectral_every_s = spectral_every_s
        self.timeline = BeatTimeline()
        self._detector = LiveArtifactDetector()
        self._det_first = 0  # timeline index of the detector's beat 0
        self._labels: list[int] = []
        self._run_start: list[bool] = []
        self._contact: bool | None = None
        self._connected = True
        self._next_spectral_s: float | None = None
        self._no_contact = 0
        self._n_final = 0
        self._corrected_total = 0
        # Final NN beats (corrected, in order) and the running sums of the per-beat window.
        self._nn = _NNStore()
        self._brk_next = True
        self._pending_extra_ms = 0.0
        self._last_normal: tuple[float, float] | None = None
        # Interpolated beats (final) held until the stretch ends: (beat, raw RR, interpolated).
        self._held: list[tuple[int, float, float]] = []
        self._win = _RunningWindow()
        self._resampler = SlidingResampler(SPECTRAL_RATE_HZ)
        self._spectrum = FixedWindowSpectrum(round(spectral_window_s * SPECTRAL_RATE_HZ),
                                             SPECTRAL_RATE_HZ)
        span = max(rmssd_window_s, hr_window_s)
        self._m: dict[str, Metric] = {
            "hr": Metric(None, "bpm", hr_window_s, 0.0),
            "rmssd": Metric(None, "ms", span, 0.0),
            "sdnn": Metric(None, "ms", span, 0.0),
            "vlf": Metric(None, "ms²", spectral_window_s, spectral_every_s),
            "lf": Metric(None, "ms²", spectral_window_s, spectral_every_s),
            "hf": Metric(None, "ms²", spectral_window_s, spectral_every_s),
            "lf_hf": Metric(None, "", spectral_window_s, spectral_every_s),
            "lf_peak": Metric(None, "Hz", spectral_window_s, spectral_every_s),
            "hf_peak": Metric(None, "Hz", spectral_window_s, spectral_every_s),
            "coherence": Metric(None, "", coherence_window_s, spectral_every_s),
            "resonance": Metric(None, "", coherence_window_s, spectral_every_s, OFF),
            "breathing": Metric(None, "breaths/min", coherence_window_s, spectral_every_s),
            "rsa": Metric(None, "bpm", coherence_window_s, spectral_every_s),
        }

    # --- input ----------------------------------------------------------------------------
    def set_pacer(self, rate_bpm: float | None) -> None:
        """Set (or clear with None) the breathing pacer rate used for resonance and RSA."""
        self.pacer_rate_bpm = rate_bpm

    def feed(self, message: Message) -> int:
        """Take one message of this person; return the number of new beats.

        Device events update the connection and contact state (a disconnect breaks the
        timeline); samples add beats, update the per-beat metrics, and on the 5 s cadence
        of arrival times the spectral ones.
        """
        if isinstance(message, DeviceEvent):
            self._event(message)
            return 0
        return self._sample(message)

    def _event(self, event: DeviceEvent) -> None:
        if event.kind in (EventKind.DISCONNECTED, EventKind.RECONNECTING, EventKind.STOPPED):
            self._connected = False
            self.timeline.mark_break()
        elif event.kind == EventKind.CONNECTED:
            self._connected = True
            self.timeline.mark_break()
        elif event.kind == EventKind.CONTACT_LOST:
            self._contact = False
        elif event.kind == EventKind.CONTACT_REGAINED:
            self._contact = True

    def _sample(self, sample: RRSample) -> int:
        self._connected = True
        self._contact = sample.contact
        first = len(self.timeline)
        n_new = self.timeline.add(sample)
        if n_new:
            run_first = self.timeline.run_first_beat()
            for i, k in enumerate(range(first, first + n_new)):
                self._push_beat(k, run_first, float(sample.rr_ms[i]), sample.contact)
            self._update_beat_metrics(sample.arrival_s)
        if self._next_spectral_s is None:
            self._next_spectral_s = (
                math.floor(sample.arrival_s / self.spectral_every_s) + 1
            ) * self.spectral_every_s
        elif sample.arrival_s >= self._next_spectral_s:
            self._update_spectral(sample.arrival_s)
            self._next_spectral_s = (
                math.floor(sample.arrival_s / self.spectral_every_s) + 1
            ) * self.spectral_every_s
        return n_new

    def _push_beat(self, k: int, run_first: int, rr: float, contact: bool | None) -> None:
        self._run_start.append(k == run_first)
        if contact is False or not (PLAUSIBLE_RR_MS[0] <= rr <= PLAUSIBLE_RR_MS[1]):
            self._labels.append(NO_CONTACT if contact is False else _IMPLAUSIBLE)
            self._restart_detector(k + 1)
            self._finalize(k)
            return
        if k == run_first or self._det_first > k:
            self._restart_detector(k)
        self._labels.append(_NORMAL)
        if not self.correct:
            self._det_first = k + 1
            self._finalize(k)
            return
        for num, lab in self._detector.push(rr):
            idx = self._det_first + num
            self._labels[idx] = lab
            self._finalize(idx)
        base = self._det_first + self._detector.n_final
        tail = self._detector.provisional_labels()
        self._labels[base : base + len(tail)] = tail

    def _restart_detector(self, next_first: int) -> None:
        # Beats still provisional in the old run become final as they are.
        for i in range(self._detector.n_final, self._detector.n_beats):
            self._finalize(self._det_first + i)
        self._detector.reset()
        self._det_first = next_first

    # --- final NN beats -------------------------------------------------------------------
    def _finalize(self, k: int) -> None:
        """Turn beat ``k`` (its verdict now final) into NN beats; beats finalize in order."""
        self._n_final = k + 1
        lab = self._labels[k]
        if lab == NO_CONTACT:
            self._no_contact += 1
        elif lab != _NORMAL:
            self._corrected_total += 1
        if lab in (NO_CONTACT, _IMPLAUSIBLE) or self._run_start[k]:
            self._release(measured_end=False)
            self._brk_next = True
            self._pending_extra_ms = 0.0
            self._last_normal = None
            if lab in (NO_CONTACT, _IMPLAUSIBLE):
                return
        t, rr = self._beat(k)
        if lab == _EXTRA:
            self._release(measured_end=True)
            self._pending_extra_ms += rr
            return
        if self._pending_extra_ms:
            rr += self._pending_extra_ms
            self._pending_extra_ms = 0.0
            lab = _NORMAL
        if lab == _NORMAL:
            self._release(measured_end=True)
            self._emit(t, rr, k)
            self._last_normal = (t, rr)
        elif lab == _MISSED:
            self._release(measured_end=True)
            self._emit(t - rr / 2000.0, rr / 2.0, k)
            self._emit(t, rr / 2.0, k)
        else:
            # Held until the stretch of interpolated beats ends (see _release).
            self._held.append((k, rr, self._interpolate(k, t, rr)))

    def _ends_stretch(self, k: int) -> bool:
        """Beat ``k`` (provisional) would end a held stretch as measured, with its verdict now."""
        if k >= len(self._labels) or self._run_start[k]:
            return False
        return self._labels[k] in (_NORMAL, _MISSED, _EXTRA)

    def _release(self, *, measured_end: bool) -> None:
        """Emit the held interpolated beats, as :func:`~coreg.engine.artifacts.correct_run` does.

        A stretch between two measured beats (``measured_end``: a measured beat follows in the
        same run, and one preceded it) is rescaled to the time its raw beats took
        (:func:`~coreg.engine.artifacts.elapsed_time_ratio`); at a run's end it stays as
        interpolated.
        """
        if not self._held:
            return
        factor = self._held_factor() if measured_end and self._nn.n and not self._brk_next else 1.0
        held, self._held = self._held, []
        for k, _, value in held:
            value *= factor
            prev_ok = self._nn.n and not self._brk_next
            self._emit(self._nn.last_t + value / 1000.0 if prev_ok else self._beat(k)[0],
                       value, k)

    def _held_factor(self) -> float:
        """The elapsed-time factor of the held stretch, were it to end now."""
        return elapsed_time_ratio([r for _, r, _ in self._held], [v for _, _, v in self._held])

    def _beat(self, k: int) -> tuple[float, float]:
        return self.timeline.beat(k)

    def _interpolate(self, k: int, t: float, rr: float) -> float:
        """NN value for an ectopic/long/short beat: linear between the nearest normal beats."""
        after: tuple[float, float] | None = None
        for i in range(k + 1, len(self._labels)):
            if self._run_start[i] or self._labels[i] in (NO_CONTACT, _IMPLAUSIBLE):
                break
            if self._labels[i] == _NORMAL:
                after = self._beat(i)
                break
        before = self._last_normal
        if before and after:
            (t0, v0), (t1, v1) = before, after
            return v0 + (v1 - v0) * (t - t0) / (t1 - t0) if t1 > t0 else v0
        if before:
            return before[1]
        if after:
            return after[1]
        return rr

    def _emit(self, t: float, rr: float, src: int) -> None:
        brk = self._brk_next or not self._nn.n
        self._brk_next = False
        self._nn.append(t, rr, brk, src)
        self._win.add(t, rr, brk)

    def _provisional_nn(self) -> tuple[list[float], list[float], list[bool], list[int]]:
        """NN view of the provisional beats with their current verdicts.

        Held interpolated beats first (final, their stretch not yet ended: scaled as its end's
        current verdict will scale them), then
        normal beats as they are, extra beats merged, missed beats split; ectopic/long/short
        ones are left out until final (their interpolation needs the beats after them).
        """
        ts: list[float] = []
        rrs: list[float] = []
        brks: list[bool] = []
        srcs: list[int] = []
        brk = self._brk_next
        # Held interpolated beats (final; their stretch ends at the first provisional beat):
        # scaled as they will be when that beat is final with its current verdict, so that a
        # window computed now sees the values it would see later (replay equals live whatever
        # the update times).
        last_t = self._nn.last_t if self._nn.n else None
        factor = 1.0
        if self._held and last_t is not None and not brk and self._ends_stretch(self._n_final):
            factor = self._held_factor()
        for k, _, value in self._held:
            value *= factor
            t = last_t + value / 1000.0 if last_t is not None and not brk else self._beat(k)[0]
            ts.append(t)
            rrs.append(value)
            brks.append(brk)
            srcs.append(k)
            brk, last_t = False, t
        k0 = self._n_final
        if k0 >= len(self._labels):
            return ts, rrs, brks, srcs
        tail_t, tail_rr = self.timeline.tail(k0)
        n = len(tail_t)
        if (not ts and not self._pending_extra_ms and self._labels[k0:].count(_NORMAL) == n
                and True not in self._run_start[k0:]):
            # The common case, without the loop: every provisional beat normal, no gap.
            return tail_t, tail_rr, [self._brk_next] + [False] * (n - 1), list(range(k0, k0 + n))
        pending = self._pending_extra_ms
        for i in range(n):
            k = k0 + i
            lab = self._labels[k]
            if lab in (NO_CONTACT, _IMPLAUSIBLE) or self._run_start[k]:
                brk = True
                pending = 0.0
                if lab in (NO_CONTACT, _IMPLAUSIBLE):
                    continue
            t, rr = tail_t[i], tail_rr[i]
            if lab == _EXTRA:
                pending += rr
                continue
            if pending:
                rr += pending
                pending = 0.0
                lab = _NORMAL
            if lab == _NORMAL:
                ts.append(t)
                rrs.append(rr)
                brks.append(brk)
                srcs.append(k)
                brk = False
            elif lab == _MISSED:
                ts += [t - rr / 2000.0, t]
                rrs += [rr / 2.0, rr / 2.0]
                brks += [brk, False]
                srcs += [k, k]
                brk = False
            else:
                brk = True
        return ts, rrs, brks, srcs

    # --- windows --------------------------------------------------------------------------
    def window(self, span_s: float, *, extra_beats: int = 0) -> Corrected:
        """NN beats of the last ``span_s`` seconds (plus ``extra_beats`` before), oldest first.

        Final beats as corrected, then the provisional ones (see :meth:`_provisional_nn`).
        Beats without contact and implausible RR are left out; ``break_before`` marks gaps.
        """
        pt, prr, pbrk, psrc = self._provisional_nn()
        store = self._nn
        last = pt[-1] if pt else (store.last_t if store.n else None)
        if last is None:
            empty = np.zeros(0)
            return Corrected(empty, empty, np.zeros(0, bool), np.zeros(0, np.int64),
                             np.zeros(0, bool))
        lo = max(0, store.search_right(last - span_s) - extra_beats)
        t, rr, brk, src = store.arrays(lo, pt, prr, pbrk, psrc)
        if len(brk):
            brk[0] = True
        return Corrected(t, rr, np.ones(len(t), dtype=bool), src, brk)

    def nn(self) -> Corrected:
        """All NN beats so far (final, then provisional), e.g. for synchrony or plots."""
        t, rr, brk, src = self._nn.arrays(0, *self._provisional_nn())
        return Corrected(t, rr, np.ones(len(t), dtype=bool), src, brk)

    def beats(self) -> BeatSeries:
        """The raw beat timeline (every RR as received, on the host clock)."""
        return self.timeline.series()

    @staticmethod
    def _last_run(w: Corrected) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        starts = np.flatnonzero(w.break_before)
        k = int(starts[-1]) if len(starts) else 0
        return w.t_s[k:], w.rr_ms[k:]

    def _update_beat_metrics(self, at_s: float) -> None:
        span = max(self.rmssd_window_s, self.hr_window_s)
        pt, prr, pbrk, _ = self._provisional_nn()
        last = pt[-1] if pt else (self._nn.last_t if self._nn.n else None)
        if last is None:
            return
        self._win.expire(last - span)
        stats = self._win.with_tail(pt, prr, pbrk)
        m = self._m
        hr = self._win.mean_hr_since(last - self.hr_window_s, pt, prr)
        m["hr"] = Metric(hr, "bpm", self.hr_window_s, 0.0, OK, self.hr_window_s, at_s)
        n, s1, s2, n_d, d2, cover = stats
        ok = cover >= min(30.0, self.rmssd_window_s) and n_d >= 2 and n >= 2
        rmssd = math.sqrt(d2 / n_d) if ok else None
        sdnn = math.sqrt(max(0.0, (s2 - s1 * s1 / n) / (n - 1))) if ok else None
        state = OK if ok else COLLECTING
        m["rmssd"] = Metric(rmssd, "ms", span, 0.0, state, cover, at_s)
        m["sdnn"] = Metric(sdnn, "ms", span, 0.0, state, cover, at_s)

    def _lf_hf(self, t: NDArray[np.float64], rr: NDArray[np.float64], dur: float
               ) -> FrequencyDomain:
        """VLF/LF/HF of the window's last run (docs/science.md §3 method on the 4 Hz grid).

        The grid is kept between updates and only its end is re-solved
        (:class:`~coreg.engine.spline.SlidingResampler`); the spectrum is taken over the last
        ``spectral_window_s`` of it (1200 samples: its doubled FFT length, 2400, is fast; while
        the window fills, the FFT is padded to a fast length).
        """
        t, rr = increasing_knots(t, rr)
        nn = self._resampler.update_values(t, rr)
        n = self._spectrum.n
        if len(nn) >= n:
            return self._spectrum.bands(nn[-n:], dur)
        return frequency_domain_resampled(nn, dur, rate_hz=SPECTRAL_RATE_HZ, fast_fft=True)

    def _update_spectral(self, at_s: float) -> None:
        every = self.spectral_every_s
        m = self._m
        cwin = self.coherence_window_s
        w = self.window(max(self.spectral_window_s, cwin), extra_beats=1)
        t, rr = self._last_run(w)
        if self.spectral_window_s < cwin and len(t):
            lo = max(0, int(t.searchsorted(t[-1] - self.spectral_window_s, side="right")) - 1)
            t, rr = t[lo:], rr[lo:]
        dur = float(t[-1] - t[0]) if len(t) > 1 else 0.0
        win = self.spectral_window_s
        fd = self._lf_hf(t, rr, dur) if len(t) >= 4 and dur >= HF_MIN_S else None

        def put(key: str, value: float | None, unit: str, need_s: float) -> None:
            ok = value is not None and dur >= need_s and not math.isnan(value)
            m[key] = Metric(value if ok else None, unit, win, every,
                            OK if ok else COLLECTING, dur, at_s)

        put("vlf", fd.vlf_ms2 if fd else None, "ms²", VLF_MIN_S)
        put("lf", fd.lf_ms2 if fd else None, "ms²", LF_MIN_S)
        put("hf", fd.hf_ms2 if fd else None, "ms²", HF_MIN_S)
        put("lf_hf", fd.lf_hf if fd else None, "", LF_MIN_S)
        put("lf_peak", fd.lf_peak_hz if fd else None, "Hz", LF_MIN_S)
        put("hf_peak", fd.hf_peak_hz if fd else None, "Hz", HF_MIN_S)

        # The coherence window (64 s and the beat before) is the end of the same run.
        ct, crr = self._last_run(w)
        if len(ct):
            lo = max(0, int(ct.searchsorted(ct[-1] - cwin, side="right")) - 1)
            ct, crr = ct[lo:], crr[lo:]
        win = cwin
        cdur = float(ct[-1] - ct[0]) if len(ct) > 1 else 0.0
        need = win - 1.0  # the beat before the window carries the spline to its start
        if len(ct) >= 4 and cdur >= need:
            # Only the bins up to 0.5 Hz are used (unless a pacer band reaches beyond).
            max_hz: float | None = coh.BREATHING_BAND_HZ[1]
            if self.pacer_rate_bpm and (
                self.pacer_rate_bpm / 60.0 + coh.COHERENCE_HALF_WIDTH_HZ >= coh.BREATHING_BAND_HZ[1]
            ):
                max_hz = None
            spec = coh.short_spectrum(ct, crr, window_s=win, max_hz=max_hz)
            ratio = coh.coherence_ratio(spec)[0]
            breath = coh.breathing_rate_bpm(spec)
            rate = self.pacer_rate_bpm or breath
            rsa = coh.rsa_amplitude_bpm(ct, crr, 60.0 / rate) if rate and rate > 0 else math.nan
            res = (
                coh.resonance_power(spec, self.pacer_rate_bpm)
                if self.pacer_rate_bpm
                else math.nan
            )
        else:
            ratio = breath = rsa = res = math.nan

        def put_c(key: str, value: float, unit: str) -> None:
            ok = not math.isnan(value)
            m[key] = Metric(value if ok else None, unit, win, every,
                            OK if ok else COLLECTING, min(cdur, win), at_s)

        put_c("coherence", ratio, "")
        if self.pacer_rate_bpm:
            put_c("resonance", res, "")
        else:
            m["resonance"] = Metric(None, "", win, every, OFF, min(cdur, win), at_s)
        put_c("breathing", breath, "breaths/min")
        put_c("rsa", rsa, "bpm")

    # --- output ---------------------------------------------------------------------------
    @property
    def provisional_beats(self) -> int:
        """Beats at the end whose artifact verdict may still change."""
        return len(self._labels) - self._n_final

    def quality(self, now_s: float) -> SignalQuality:
        """Signal quality at ``now_s`` (see :class:`SignalQuality`)."""
        last = self.timeline.last_beat_s()
        recent = 0
        usable = 0
        if last is not None:
            since = last - 60.0
            beat = self.timeline.beat
            labels = self._labels
            for k in range(len(labels) - 1, max(-1, len(labels) - 401), -1):
                if beat(k)[0] <= since:
                    break
                if labels[k] != NO_CONTACT:
                    usable += 1
                    recent += labels[k] != _NORMAL
        total_usable = len(self._labels) - self._no_contact
        total_corr = self._corrected_total + sum(
            1 for lab in self._labels[self._n_final :] if lab not in (NO_CONTACT, _NORMAL)
        )
        return SignalQuality(
            beats=len(self._labels),
            usable_beats=total_usable,
            corrected_beats=total_corr,
            corrected_pct=100.0 * recent / usable if usable else 0.0,
            total_corrected_pct=100.0 * total_corr / total_usable if total_usable else 0.0,
            no_contact_beats=self._no_contact
            + sum(1 for lab in self._labels[self._n_final :] if lab == NO_CONTACT),
            contact=self._contact,
            connected=self._connected,
            gaps=max(0, self.timeline.n_runs - 1),
            timing_revisions=self.timeline.revisions,
            seconds_since_beat=None if last is None else max(0.0, now_s - last),
        )

    def snapshot(self, now_s: float) -> PersonSnapshot:
        """The latest value of every metric, with windows, cadence, state and signal quality.

        ``now_s`` (host clock) only serves the "seconds since the last beat" of the quality;
        the metric values depend on the messages fed so far alone.
        """
        m = self._m
        return PersonSnapshot(
            role=self.role,
            now_s=now_s,
            hr_bpm=m["hr"],
            rmssd_ms=m["rmssd"],
            sdnn_ms=m["sdnn"],
            vlf_ms2=m["vlf"],
            lf_ms2=m["lf"],
            hf_ms2=m["hf"],
            lf_hf=m["lf_hf"],
            lf_peak_hz=m["lf_peak"],
            hf_peak_hz=m["hf_peak"],
            coherence=m["coherence"],
            resonance=m["resonance"],
            breathing_rate_bpm=m["breathing"],
            rsa_bpm=m["rsa"],
            quality=self.quality(now_s),
            provisional_beats=self.provisional_beats,
            pacer_rate_bpm=self.pacer_rate_bpm,
        )


class _NNStore:
    """The final NN beats in growing numpy buffers (capacity doubles; amortised O(1) append).

    Windows are slices of these buffers, so extracting the last 5 minutes costs a few array
    copies instead of converting Python lists every 5 s.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self.last_t = 0.0
        self._t = np.empty(capacity)
        self._rr = np.empty(capacity)
        self._brk = np.empty(capacity, dtype=bool)
        self._src = np.empty(capacity, dtype=np.int64)

    def append(self, t: float, rr: float, brk: bool, src: int) -> None:
        n = self.n
        if n == len(self._t):
            cap = 2 * n
            for name in ("_t", "_rr", "_brk", "_src"):
                old = getattr(self, name)
                new = np.empty(cap, dtype=old.dtype)
                new[:n] = old
                setattr(self, name, new)
        self._t[n] = t
        self._rr[n] = rr
        self._brk[n] = brk
        self._src[n] = src
        self.n = n + 1
        self.last_t = t

    def search_right(self, t_s: float) -> int:
        """Number of stored beats with time ≤ ``t_s`` (times are increasing)."""
        return int(self._t[: self.n].searchsorted(t_s, side="right"))

    def arrays(
        self, lo: int, ts: list[float], rrs: list[float], brks: list[bool], srcs: list[int]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64]]:
        """New arrays (t, rr, break, source) of the stored beats from ``lo`` on, then a tail."""
        n = self.n
        if not ts:
            return (self._t[lo:n].copy(), self._rr[lo:n].copy(), self._brk[lo:n].copy(),
                    self._src[lo:n].copy())
        return (
            np.concatenate((self._t[lo:n], ts)),
            np.concatenate((self._rr[lo:n], rrs)),
            np.concatenate((self._brk[lo:n], np.asarray(brks, dtype=bool))),
            np.concatenate((self._src[lo:n], np.asarray(srcs, dtype=np.int64))),
        )


class _RunningWindow:
    """Running sums over the final NN beats of a trailing window (O(1) per beat).

    Sums of NN and NN² for SDNN, of ΔNN² for RMSSD (a difference leaves with its earlier
    beat, so that only differences of two beats inside the window count), rebuilt from the
    kept beats every 1000 changes so that rounding cannot accumulate.
    """

    def __init__(self) -> None:
        self.beats: deque[tuple[float, float, bool]] = deque()
        self.s1 = self.s2 = self.d2 = 0.0
        self.n_d = 0
        self._changes = 0

    def add(self, t: float, rr: float, brk: bool) -> None:
        if self.beats and not brk:
            d = rr - self.beats[-1][1]
            self.d2 += d * d
            self.n_d += 1
        self.beats.append((t, rr, brk))
        self.s1 += rr
        self.s2 += rr * rr
        self._tick()

    def expire(self, before_s: float) -> None:
        beats = self.beats
        while beats and beats[0][0] <= before_s:
            _, rr, _ = beats.popleft()
            self.s1 -= rr
            self.s2 -= rr * rr
            if beats and not beats[0][2]:
                d = beats[0][1] - rr
                self.d2 -= d * d
                self.n_d -= 1
            if beats:
                # The new first beat has no predecessor inside the window.
                t0, rr0, _ = beats[0]
                beats[0] = (t0, rr0, True)
            self._tick()

    def _tick(self) -> None:
        self._changes += 1
        if self._changes >= 1000:
            self._changes = 0
            beats = list(self.beats)
            self.s1 = sum(b[1] for b in beats)
            self.s2 = sum(b[1] * b[1] for b in beats)
            self.d2 = 0.0
            self.n_d = 0
            for a, b in itertools.pairwise(beats):
                if not b[2]:
                    self.d2 += (b[1] - a[1]) ** 2
                    self.n_d += 1

    def with_tail(
        self, ts: list[float], rrs: list[float], brks: list[bool]
    ) -> tuple[int, float, float, int, float, float]:
        """(n, ΣNN, ΣNN², count ΔNN, ΣΔNN², covered s) of the window plus a provisional tail."""
        n, s1, s2, n_d, d2 = len(self.beats), self.s1, self.s2, self.n_d, self.d2
        prev = self.beats[-1][1] if self.beats else None
        for rr, brk in zip(rrs, brks, strict=True):
            if prev is not None and not brk:
                d = rr - prev
                d2 += d * d
                n_d += 1
            n += 1
            s1 += rr
            s2 += rr * rr
            prev = rr
        return n, s1, s2, n_d, d2, s1 / 1000.0

    def mean_hr_since(self, since_s: float, ts: list[float], rrs: list[float]) -> float:
        """Mean instantaneous HR (bpm) of the beats after ``since_s``, tail included."""
        vals = [60000.0 / rr for t, rr in zip(ts, rrs, strict=True) if t > since_s]
        for t, rr, _ in reversed(self.beats):
            if t <= since_s:
                break
            vals.append(60000.0 / rr)
        return sum(vals) / len(vals) if vals else math.nan
