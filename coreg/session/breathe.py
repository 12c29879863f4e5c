"""A breathing session (``coreg breathe``) on the same session runner as ``coreg live``.

The strap source (simulated client, emulated BLE strap or a real strap) runs on the
:class:`~coreg.session.runner.Session`'s asyncio thread, every message is recorded before anything
else sees it, and the consumer feeds a :class:`BreatheAnalysis` — the breathing counterpart of
:class:`~coreg.session.figures.LiveAnalysis`: it feeds the one-person
:class:`~coreg.engine.resonance.BreatheRun` (times relative to the session start), records each
pacer change when it takes effect, and keeps a calm one-line device state for the window.

A replay of a ``mode: breathe`` recording (:func:`replay_analysis_factory`) feeds the same
:class:`BreatheAnalysis` from the recorded pacer lines, so it shows the same numbers as live.

Resonance-frequency assessment: Lehrer, Vaschillo & Vaschillo (2000),
doi:10.1023/A:1009554825745; the engine's definitions are in docs/science.md §4.

Why one module of this size: the breathing session's config, its analysis and the replay of its
recordings are one contract — the replay must feed :class:`BreatheAnalysis` exactly as the live
session does, and splitting them would put the two ends of that promise in different files.

Nothing here imports Qt.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from coreg.engine.pacer import MAX_RATE_BPM, MIN_RATE_BPM, PacerStep, step_at
from coreg.engine.resonance import Assessment, BreatheRun, PracticeSummary
from coreg.errors import InputError
from coreg.recording.replay import pacer_schedule
from coreg.session.clock import SpeedPlan, speed_plan
from devices.types import DeviceEvent, EventKind, RRSample

if TYPE_CHECKING:
    from coreg.recording import Recording
    from coreg.session.lsl import FiguresPublisher
    from coreg.session.runner import Session
    from coreg.sources import ResolvedSources, SourceSpec

log = logging.getLogger(__name__)

#: Scenario name of the simulated client who breathes with the pacer.
BREATHE_SCENARIO = "breathe"

#: Calm words for the device state shown under the pacer ("" = all well, show nothing).
DEVICE_STATE_TEXT: dict[EventKind, str] = {
    EventKind.CONNECTING: "Connecting to the strap…",
    EventKind.CONNECTED: "",
    EventKind.DISCONNECTED: "The strap is out of reach — reconnecting, keep breathing",
    EventKind.RECONNECTING: "Reconnecting to the strap — keep breathing",
    EventKind.CONTACT_LOST: "The strap lost skin contact — moisten it and keep breathing",
    EventKind.CONTACT_REGAINED: "",
    EventKind.STOPPED: "The strap stopped",
}

PacerRecorder = Callable[[float, PacerStep], None]


class BreatheAnalysis:
    """Feeds a :class:`BreatheRun` from a session's consumer (the ``LiveAnalysis`` interface).

    Parameters
    ----------
    schedule
        The pacer schedule (elapsed seconds since the session start).
    role
        The breathing person's role.
    settle_s
        Assessment only: unmeasured seconds at the start of each step.
    assess
        Measure and rank the steps.
    duration_s
        Session length: the run's clock never goes past it.
    recorder
        Called as ``recorder(t_s, step)`` with ``t_s`` on the session clock when a pacer step
        takes effect (the session writes the ``pacer`` line); None records nothing (replay).
    """

    def __init__(self, schedule: Sequence[PacerStep], *, role: str = "client",
                 settle_s: float = 0.0, assess: bool = False,
                 duration_s: float | None = None,
                 recorder: PacerRecorder | None = None) -> None:
        self.schedule = tuple(schedule)
        self.run = BreatheRun(self.schedule, role=role, settle_s=settle_s, assess=assess)
        self.role = role
        self.duration_s = duration_s
        self.recorder = recorder
        self.start_s = 0.0
        self.device_state = ""
        #: Every device state in the order it was entered (a terminal shows each one, even
        #: two that came in one poll — "connecting" and "connected" often do).
        self.state_changes: list[str] = []
        self.error = ""
        self.markers: list[tuple[float, str]] = []
        self.events: list[DeviceEvent] = []
        self._next_pacer = 0

    # -- the LiveAnalysis interface used by Session and ReplaySession -----------------------
    def start(self, start_s: float) -> None:
        """Set the session start (on the sources' clock) and record the first pacer step."""
        self.start_s = start_s
        self._pacer_due(0.0)

    def _elapsed(self, t_s: float) -> float:
        elapsed = t_s - self.start_s
        if self.duration_s is not None:
            elapsed = min(elapsed, self.duration_s)
        return elapsed

    def _pacer_due(self, elapsed_s: float) -> None:
        while (self._next_pacer < len(self.schedule)
               and self.schedule[self._next_pacer].start_s <= elapsed_s):
            step = self.schedule[self._next_pacer]
            self._next_pacer += 1
            if self.recorder is not None:
                self.recorder(self.start_s + step.start_s, step)

    def advance(self, now_s: float) -> None:
        """Move the session clock to ``now_s`` (sources' clock)."""
        elapsed = self._elapsed(now_s)
        self._pacer_due(elapsed)
        self.run.advance(elapsed)

    def current_step(self) -> PacerStep | None:
        """The pacer step in force now (None before the first)."""
        index = step_at(self.schedule, self.run.now_s)
        return self.schedule[index] if index >= 0 else None

    def change_pacer(self, rate_bpm: float | None, *, inhale_ratio: float | None = None,
                     label: str = "") -> PacerStep:
        """Change the pacer now (the window's rate, IN:OUT and pause controls).

        The new step starts at the run's current time and replaces every later planned step;
        it is recorded as a ``pacer`` line exactly like a planned change, so a replay shows it.
        The pacer's breath phase is continuous across the change (:mod:`coreg.engine.pacer`).

        Parameters
        ----------
        rate_bpm
            Breaths per minute (3–10), or None to pause the pacer (breathe naturally).
        inhale_ratio
            In-breath share of the breath (0.2–0.8); None keeps the current one.
        label
            Short name recorded with the change ("rate 5.5/min", "paused").
        """
        if rate_bpm is not None and not MIN_RATE_BPM <= rate_bpm <= MAX_RATE_BPM:
            raise ValueError(f"the pacer runs at {MIN_RATE_BPM:g}–{MAX_RATE_BPM:g} breaths/min")
        if inhale_ratio is not None and not 0.2 <= inhale_ratio <= 0.8:
            raise ValueError("IN:OUT must keep the in-breath share within 0.2–0.8")
        now_s = self.run.now_s
        if self.duration_s is not None:
            now_s = min(now_s, self.duration_s)
        current = self.current_step()
        step = PacerStep(
            start_s=now_s, rate_bpm=rate_bpm,
            inhale_ratio=inhale_ratio if inhale_ratio is not None else (
                current.inhale_ratio if current is not None else 0.5),
            pause_in_s=current.pause_in_s if current is not None else 0.0,
            pause_out_s=current.pause_out_s if current is not None else 0.0,
            label=label)
        kept = tuple(s for s in self.schedule if s.start_s < now_s)
        self.schedule = (*kept, step)
        self.run.schedule = self.schedule
        self._next_pacer = len(kept)
        self._pacer_due(now_s)
        self.run._step = -2  # the step list changed: the engine takes the new rate now
        self.run.advance(now_s)
        return step

    def feed_sample(self, sample: RRSample) -> None:
        """One RR notification of the breathing person (others are ignored)."""
        if sample.source_id != self.role:
            return
        if sample.contact is False and not self.device_state:
            self._enter(DEVICE_STATE_TEXT[EventKind.CONTACT_LOST])
        elif sample.contact and self.device_state == DEVICE_STATE_TEXT[EventKind.CONTACT_LOST]:
            self._enter("")
        self.run.feed(replace(sample, arrival_s=self._elapsed(sample.arrival_s)))

    def feed_event(self, event: DeviceEvent) -> None:
        """A device event: update the device state and let the engine see the gap."""
        if event.source_id != self.role:
            return
        self.events.append(event)
        away = (DEVICE_STATE_TEXT[EventKind.DISCONNECTED],
                DEVICE_STATE_TEXT[EventKind.RECONNECTING])
        if event.kind == EventKind.CONNECTING and self.device_state in away:
            pass  # looked for again after a lost link, scan after scan: still reconnecting
        elif event.kind in DEVICE_STATE_TEXT:
            self._enter(DEVICE_STATE_TEXT[event.kind])
        self.run.feed(replace(event, arrival_s=self._elapsed(event.arrival_s)))

    def source_error(self, role: str, error: str) -> None:
        """The strap source failed."""
        self.error = error
        self._enter("The strap stopped working — the session is still recorded")

    def _enter(self, state: str) -> None:
        if state != self.device_state:
            self.device_state = state
            self.state_changes.append(state)

    def add_marker(self, t_s: float, note: str) -> None:
        """A marker (seconds since the start)."""
        self.markers.append((t_s, note))

    @property
    def now_s(self) -> float:
        """Elapsed session seconds the run has reached."""
        return self.run.now_s


@dataclass(slots=True)
class BreatheSession:
    """What ``coreg breathe`` runs: the session, its analysis and how it was set up.

    Attributes
    ----------
    session
        The :class:`~coreg.session.runner.Session` (not started).
    analysis
        The :class:`BreatheAnalysis` it feeds.
    resolved
        The resolved source (:class:`coreg.sources.ResolvedSources`).
    duration_s
        Session length in seconds.
    note
        One line about the clock (e.g. how an emulated strap is paced), or "".
    """

    session: Session[BreatheAnalysis]
    analysis: BreatheAnalysis
    resolved: ResolvedSources
    duration_s: float
    note: str = ""

    @property
    def run(self) -> BreatheRun:
        """The breathing run."""
        return self.analysis.run

    @property
    def simulated(self) -> bool:
        """True for the simulated client and the emulated strap."""
        return bool(self.resolved.simulated)


def breathe_spec(device: str) -> SourceSpec:
    """The strap of ``--device`` (a breathing session needs one; a simulated one breathes with
    the pacer).

    Raises
    ------
    InputError
        ``none``, or a simulated scenario other than the breathing client's.
    """
    from coreg.sources import parse_src

    spec = parse_src(device)
    if spec.kind == "none":
        raise InputError("coreg breathe needs a strap: --device sim, ble-sim or a BLE address/name")
    if spec.simulated and spec.text.strip().lower() not in (
            spec.kind, f"{spec.kind}:{BREATHE_SCENARIO}"):
        raise InputError(f"coreg breathe simulates a client breathing with the pacer: use "
                         f"--device {spec.kind} (not {spec.text!r})")
    return spec


def breathe_speed_plan(spec: SourceSpec, speed: float | None, *,
                       screenshot: bool = False) -> SpeedPlan:
    """The clock of a breathing session on ``spec``'s strap at ``speed``: the one path of
    :func:`coreg.session.clock.speed_plan`, in ``coreg breathe``'s words.

    Raises
    ------
    InputError
        A ``speed`` the strap cannot honour.
    """
    return speed_plan(speed, {spec.kind}, screenshot=screenshot,
                      only_with="the simulated client (sim, ble-sim)")


def open_breathe_session(
    device: str,
    schedule: Sequence[PacerStep],
    duration_s: float,
    folder: Path,
    *,
    seed: int = 1,
    speed: float | None = None,
    assess: bool = False,
    settle_s: float = 0.0,
    settings: Mapping[str, object] | None = None,
    record: bool = True,
    lsl: bool = False,
    header_extra: Mapping[str, object] | None = None,
) -> BreatheSession:
    """Resolve ``--device`` and build a (not yet started) recorded breathing session.

    Parameters
    ----------
    device
        ``sim`` (the simulated breathing client), ``ble-sim`` (the same client served by the
        emulated BLE strap through :mod:`devices.ble`) or a real strap's address or name.
    schedule, duration_s
        The pacer schedule and the session length in seconds.
    folder
        Recordings folder.
    seed
        Seed of the simulated client.
    speed
        None: real time. ``sim``: a multiple of real time on a virtual clock (inf: as fast as
        possible). ``ble-sim``: a finite multiple of real time — the emulated strap plays its
        notifications that much faster and the session and the strap read one
        :class:`~coreg.session.clock.ScaledClock`. A real strap: must be None.
    assess, settle_s
        Assessment mode and its unmeasured settle per step.
    settings
        Extra header settings.
    record
        Write the recording (always in the app).
    lsl
        Publish the client's figures and markers on LSL (real time only; off by default).
    header_extra
        Extra top-level header fields (the ``client`` of
        :func:`coreg.recording.index.person_header`).

    Raises
    ------
    InputError
        A bad ``device`` or a ``speed`` the source cannot honour.
    """
    from coreg.recording import RecordingWriter, new_header
    from coreg.recording.paths import new_recording_path
    from coreg.session.runner import Session
    from coreg.sources import resolve

    spec = breathe_spec(device)
    plan = breathe_speed_plan(spec, speed)
    realtime = plan.realtime
    clock = plan.clock()
    note = (f"emulated strap on a clock {plan.ble_speed:g}× faster than real time"
            if plan.ble_speed is not None else "")
    publishers: tuple[FiguresPublisher, ...] = ()
    if lsl:
        if not realtime or plan.ble_speed is not None:
            raise InputError("--lsl publishes in real time: drop --speed")
        from coreg.session.lsl import FiguresPublisher

        publishers = (FiguresPublisher(("client",), synchrony=False),)
    run = None
    if spec.simulated:
        from devices.sim.breathing_client import breathing_client

        pacer_list = [(s.start_s, s.rate_bpm or 0.0) for s in schedule]
        run = breathing_client(pacer_list, duration_s + 5.0, seed,
                               inhale_ratio=schedule[0].inhale_ratio if schedule else 0.5,
                               scenario=BREATHE_SCENARIO)
    writer = None
    holder: dict[str, Session[BreatheAnalysis]] = {}

    def record_pacer(t_s: float, step: PacerStep) -> None:
        session = holder.get("session")
        if session is not None:
            session.write_pacer(t_s, step)

    # Before the start: what imports the engines (scipy) and Bumble (seconds on a cold start)
    # must not count as session time, least of all on a clock --speed times faster.
    analysis = BreatheAnalysis(schedule, settle_s=settle_s, assess=assess,
                               duration_s=duration_s, recorder=record_pacer if record else None)
    if spec.kind == "ble-sim":
        import devices.peripheral  # noqa: F401
    start_s = clock() if realtime else 0.0
    # The emulated strap's stream starts at the session start, so the simulated client
    # breathes in step with the pacer whatever the BLE start-up time.
    resolved = resolve({"client": spec}, duration_s=duration_s, seed=seed, realtime=realtime,
                       start_s=start_s, run=run,
                       ble_clock=clock if plan.ble_speed is not None else None,
                       ble_speed=plan.ble_speed or 1.0, ble_origin_s=start_s)
    if record:
        all_settings: dict[str, object] = {
            "assess": assess, "duration_s": duration_s, "settle_s": settle_s,
            "source": spec.text, "realtime": realtime,
            "schedule": [[s.start_s, s.rate_bpm, s.label] for s in schedule],
        }
        if speed is not None:
            all_settings["speed"] = speed if math.isfinite(speed) else "max"
        if publishers:
            all_settings["lsl_out"] = publishers[0].names
        all_settings.update(settings or {})
        header = new_header("breathe", resolved.header_roles(), start_monotonic_s=start_s,
                            settings=all_settings, simulation=resolved.simulation,
                            **(header_extra or {}))
        writer = RecordingWriter(new_recording_path("breathe", folder), header)
    session = Session(resolved.sources, writer=writer, realtime=realtime, speed=plan.speed,
                      start_s=start_s, analysis=analysis, clock=clock,
                      duration_s=duration_s, publishers=publishers)
    holder["session"] = session
    return BreatheSession(session, analysis, resolved, duration_s, note)


@dataclass(frozen=True, slots=True)
class BreatheConfig:
    """How a breathing session is shown: what the window and the terminal view need.

    Attributes
    ----------
    assess
        A resonance-frequency assessment (rank the steps at the end).
    goal_min
        Minutes at high coherence to aim for, or None.
    sound
        Sound cues at each inhale and exhale start.
    client_name
        Whose session it is (the key of the stored default rate).
    """

    assess: bool = False
    goal_min: float | None = None
    sound: bool = False
    client_name: str = "client"


def replay_config(recording: Recording) -> BreatheConfig:
    """The :class:`BreatheConfig` of a recorded breathing session (from its header)."""
    settings = recording.header.get("settings", {}) or {}
    return BreatheConfig(assess=bool(settings.get("assess")),
                         client_name=str(settings.get("client_name") or "client"))


def source_text(bs: BreatheSession, *, seed: int | None, device: str) -> str:
    """Which strap feeds the session, in words (SIMULATED when it is simulated)."""
    kind = bs.resolved.specs["client"].kind
    if kind == "sim":
        return f"SIMULATED client (seed {seed})"
    if kind == "ble-sim":
        return (f"SIMULATED client (seed {seed}) on the emulated BLE strap"
                + (f"; {bs.note}" if bs.note else ""))
    return f"strap {device}"


@dataclass(frozen=True, slots=True)
class BreatheResult:
    """What a breathing session came to: the practice summary, the goal, and for an
    assessment the engine's ranking (the views render this; they compute nothing)."""

    summary: PracticeSummary
    goal_min: float | None
    assessment: Assessment | None

    @property
    def goal_reached(self) -> bool | None:
        """Whether the minutes at high coherence reached the goal (None without a goal)."""
        if not self.goal_min:
            return None
        return self.summary.level_s.get("high", 0.0) / 60.0 >= self.goal_min

    def lines(self) -> list[str]:
        """The summary in words, and how the goal went when one was set."""
        lines = self.summary.lines()
        if self.goal_min:
            high = self.summary.level_s.get("high", 0.0) / 60.0
            lines.append(f"Goal {self.goal_min:g} min at high coherence: {high:.1f} min"
                         + (" — reached, well done." if self.goal_reached else " — keep going."))
        return lines


def breathe_result(br: BreatheRun, config: BreatheConfig) -> BreatheResult:
    """The :class:`BreatheResult` of a run so far (the assessment only when ``config.assess``)."""
    return BreatheResult(br.summary(), config.goal_min,
                         br.assessment() if config.assess else None)


#: Stores an assessment's chosen rate as the client's default; returns the line saying so.
RateStore = Callable[[Assessment], str]

#: Header of the assessment table in the terminal (its columns are :func:`ranking_lines`').
RANKING_HEADER = "rank  rate/min  LF power ms²  LF peak  HR swing bpm  phase°  one peak  score"


def ranking_lines(assessment: Assessment) -> list[str]:
    """The assessment's ranking as terminal lines, best first (header first)."""
    lines = [RANKING_HEADER]
    for row in assessment.ranking:
        m = row.measure
        lines.append(f"{row.rank:>4}  {m.rate_bpm:8.1f}  {m.lf_power_ms2:12.0f}  "
                     f"{m.lf_peak_ms2_hz:7.0f}  {m.amplitude_bpm:12.1f}  {m.phase_deg:6.0f}  "
                     f"{m.smooth:8.2f}  {row.total:5.2f}")
    return lines


def is_breathe_recording(recording: Recording) -> bool:
    """True for a ``mode: breathe`` recording with pacer lines."""
    return recording.mode == "breathe" and bool(recording.pacer)


def replay_analysis_factory(recording: Recording) -> Callable[[], BreatheAnalysis]:
    """A factory of fresh :class:`BreatheAnalysis` for replaying a breathing recording."""
    schedule = pacer_schedule(recording)
    settings = recording.header.get("settings", {}) or {}
    assess = bool(settings.get("assess"))
    settle = settings.get("settle_s")
    settle_s = float(settle) if assess and isinstance(settle, int | float) else 0.0
    role = "client" if "client" in recording.roles else (recording.roles or ("client",))[0]
    planned_s = settings.get("duration_s")
    duration_s = (min(float(planned_s), recording.duration_s)
                  if isinstance(planned_s, (int, float)) and planned_s > 0
                  else recording.duration_s)

    def make() -> BreatheAnalysis:
        analysis = BreatheAnalysis(schedule, role=role, settle_s=settle_s, assess=assess,
                                   duration_s=duration_s)
        return analysis

    return make
