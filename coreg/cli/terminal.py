"""What ``coreg live``, ``coreg breathe`` and ``coreg replay`` print with ``--headless``.

Each class is one command's :class:`~coreg.session.headless.HeadlessView`: the lines on each
step, when the session is over, the final lines and the exit code. The one runner that drives
them is :func:`coreg.session.headless.run_headless`. (A module apart from the commands' own so
that building the parser does not import the session layer.)
"""

from __future__ import annotations

import math
import sys

from coreg.engine.person import Metric
from coreg.engine.resonance import BreatheRun, coherence_level
from coreg.session.breathe import BreatheAnalysis, BreatheConfig, BreatheSession, RateStore
from coreg.session.figures import LiveAnalysis
from coreg.session.headless import Cadence, DyadScreen, Ending, failure_lines
from coreg.session.replay import ReplaySession
from coreg.session.runner import Session

#: Session seconds between the breathing status lines.
BREATHE_EVERY_S = 30.0


def status_line(br: BreatheRun, duration_s: float) -> str:
    """One terminal line: time, pacer, HR, coherence (level), resonance, RSA, breathing."""
    snap = br.snapshot()
    rate, stage, _ = br.pacer()

    def val(metric: Metric, fmt: str) -> str:
        return "collecting…" if metric.value is None else format(metric.value, fmt)

    def with_unit(metric: Metric, fmt: str, unit: str) -> str:
        return "collecting…" if metric.value is None else f"{format(metric.value, fmt)} {unit}"

    level = coherence_level(snap.coherence.value)
    pacer_txt = f"{rate:.1f} breaths/min {stage:<8}" if rate else "off"
    t = br.now_s
    return (f"{int(t // 60):02d}:{int(t % 60):02d}/{int(duration_s // 60):02d}:"
            f"{int(duration_s % 60):02d}  pacer {pacer_txt}  "
            f"HR {with_unit(snap.hr_bpm, '.0f', 'bpm')}  "
            f"coherence {val(snap.coherence, '.1f')}{f' ({level})' if level else ''}  "
            f"resonance {val(snap.resonance, '.0%')}  "
            f"RSA {with_unit(snap.rsa_bpm, '.1f', 'bpm')}  "
            f"breathing {with_unit(snap.breathing_rate_bpm, '.1f', 'breaths/min')}")


def final_lines(config: BreatheConfig, br: BreatheRun, store: RateStore | None) -> list[str]:
    """Summary lines, and for an assessment its table and statement; ``store`` keeps the
    chosen rate (None stores nothing, as in a replay)."""
    from coreg.session.breathe import breathe_result, ranking_lines

    result = breathe_result(br, config)
    lines = result.lines()
    a = result.assessment
    if a is not None:
        lines += ranking_lines(a)
        lines.append(a.statement)
        stored = store(a) if store is not None else ""
        if stored:
            lines.append(stored)
    lines.append("coreg informs; it does not diagnose.")
    return lines


class LiveTerminal:
    """``coreg live --headless``: the dyad's figures every ``every_s`` of session time.

    The session ends when a strap fails, at ``duration_s``, or when every source has ended.
    """

    def __init__(self, session: Session[LiveAnalysis], title: str, *, every_s: float,
                 duration_s: float | None) -> None:
        self.session = session
        self.duration_s = duration_s
        self.screen = DyadScreen(title, sys.stdout, every_s)

    def begin(self) -> Ending | None:
        """Nothing before the first poll."""
        return None

    def tick(self) -> Ending | None:
        """The figures when due; the end when it came."""
        session = self.session
        elapsed = session.elapsed_s()
        if session.source_errors:
            return Ending("strap failed")
        if self.duration_s and (elapsed >= self.duration_s or session.finished):
            return Ending("duration reached")
        if session.finished:
            return Ending("duration reached" if session.reached_duration else "sources ended")
        self.screen.show(elapsed, session)
        return None

    def finish(self, ending: Ending) -> int:
        """The last figures, where the recording is, and any strap that failed (stderr)."""
        session = self.session
        self.screen.final(session.view)
        print(f"session ended ({ending.reason}); recording: {session.recording_path}",
              flush=True)
        lines, code = failure_lines("coreg live", session.source_errors, session.loop_errors)
        for line in lines:
            print(line, file=sys.stderr, flush=True)
        return ending.code or code


class BreatheTerminal:
    """``coreg breathe --headless``: a status line every 30 s of session time and the strap's
    state when it changes; the summary (an assessment's ranking, stored by ``store``) at the
    end."""

    def __init__(self, bs: BreatheSession, config: BreatheConfig,
                 store: RateStore | None) -> None:
        self.bs = bs
        self.config = config
        self.store = store
        self.cadence = Cadence(BREATHE_EVERY_S, on_grid=True)
        self._states_seen = 0

    def _show(self) -> None:
        if self.cadence.due(self.bs.run.now_s):
            print(status_line(self.bs.run, self.bs.duration_s), flush=True)
        changes = self.bs.analysis.state_changes
        for state in changes[self._states_seen:]:
            if state:
                print(f"  {state}", flush=True)
        self._states_seen = len(changes)

    def begin(self) -> Ending | None:
        """The first status line (at 0:00)."""
        self._show()
        return None

    def tick(self) -> Ending | None:
        """The status line when due; the end at the session's length or when the strap
        failed or stopped."""
        self._show()
        session, duration_s = self.bs.session, self.bs.duration_s
        if session.source_errors:
            return Ending("strap failed")
        if session.finished or session.elapsed_s() >= duration_s:
            if not session.reached_duration and session.elapsed_s() < duration_s:
                return Ending("strap stopped")
            return Ending("duration reached")
        return None

    def finish(self, ending: Ending) -> int:
        """A failed strap (stderr), the summary, how it ended and where the recording is."""
        session = self.bs.session
        lines, code = failure_lines("coreg breathe", session.source_errors,
                                    session.loop_errors, name_roles=False)
        for line in lines:
            print(line, file=sys.stderr, flush=True)
        for line in final_lines(self.config, self.bs.run, self.store):
            print(line)
        if ending.reason in ("interrupted", "strap failed"):
            print(f"session ended ({ending.reason})")
        print(f"recording: {session.recording_path}")
        sys.stdout.flush()
        return ending.code or code


class ReplayTerminal:
    """``coreg replay --headless`` of a dyad: the figures every ``every_s`` of the recording
    (none while seeking), from ``start_s`` to its end."""

    def __init__(self, replay: ReplaySession[LiveAnalysis], title: str, *, every_s: float,
                 start_s: float = 0.0) -> None:
        self.replay = replay
        self.start_s = start_s
        self.screen = DyadScreen(title, sys.stdout, every_s)

    def begin(self) -> Ending | None:
        """Seek to ``start_s``."""
        if self.start_s:
            self.replay.seek(self.start_s)
            self.screen.cadence.next_s = self.start_s
        return None

    def tick(self) -> Ending | None:
        """The figures when due; the end at the recording's end."""
        replay = self.replay
        if not replay.seeking:
            self.screen.show(replay.now_s(), replay)
        return Ending("replay ended") if replay.at_end else None

    def finish(self, ending: Ending) -> int:
        """The last figures and where the replay ended (nothing when interrupted)."""
        if ending.reason == "interrupted":
            return ending.code
        self.screen.final(self.replay.view)
        print(f"replay ended at {self.replay.now_s():.0f} s", flush=True)
        return ending.code


class BreatheReplayTerminal:
    """``coreg replay --headless`` of a breathing session: the status lines and the summary of
    the live ``coreg breathe``, recomputed from the recorded RR intervals and pacer lines.

    At max speed the replay walks in 30 s steps (paused, seeking to each status line's time)
    so that every status line falls on its 30 s grid.
    """

    def __init__(self, replay: ReplaySession[BreatheAnalysis], config: BreatheConfig, *,
                 start_s: float = 0.0) -> None:
        self.replay = replay
        self.config = config
        self.start_s = start_s
        self.stepped = math.isinf(replay.speed)
        self.cadence = Cadence(BREATHE_EVERY_S, on_grid=True)

    @property
    def analysis(self) -> BreatheAnalysis:
        """The replay's breathing analysis now (a backward seek builds a new one)."""
        analysis = self.replay.analysis
        if not isinstance(analysis, BreatheAnalysis):
            raise TypeError("not the replay of a breathing session")
        return analysis

    @property
    def run(self) -> BreatheRun:
        """The breathing run now."""
        return self.analysis.run

    @property
    def duration_s(self) -> float:
        """The planned session length (the recording's when longer)."""
        return float(self.analysis.duration_s or self.replay.duration_s)

    def begin(self) -> Ending | None:
        """Pause for stepping, seek to ``start_s``, the first status line."""
        if self.stepped:
            self.replay.pause()
        if self.start_s:
            self.replay.seek(self.start_s)
            self.cadence.next_s = self.start_s
        return self.tick()

    def tick(self) -> Ending | None:
        """The status line when due; the next step; the end at the recording's end."""
        replay = self.replay
        if not replay.seeking and self.cadence.due(self.run.now_s):
            print(status_line(self.run, self.duration_s), flush=True)
        if replay.at_end:
            return Ending("replay ended")
        if self.stepped and not replay.seeking:
            replay.seek(min(self.cadence.next_s, replay.duration_s))
        return None

    def finish(self, ending: Ending) -> int:
        """The summary and where the replay ended (nothing when interrupted)."""
        if ending.reason == "interrupted":
            return ending.code
        for line in final_lines(self.config, self.run, None):
            print(line)
        print(f"replay ended at {self.replay.now_s():.0f} s", flush=True)
        return ending.code
