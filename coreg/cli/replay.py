"""``coreg replay``: a recording shown in the live window (or the terminal) with a transport bar."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from coreg.cli import add_size_option
from coreg.errors import InputError

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers
    from coreg.recording import Recording
    from coreg.session.breathe import BreatheAnalysis
    from coreg.session.figures import LiveAnalysis
    from coreg.session.headless import Pacing
    from coreg.session.replay import ReplaySession


def add_parser(subparsers: SubParsers) -> None:
    """Register ``coreg replay``."""
    p = subparsers.add_parser(
        "replay",
        help="replay a recording in the live window (play/pause, speed, seek, markers)",
        description=(
            "Open the live window on a recording and play it back: Space play/pause, "
            "1/2/4/0/X speed 1×/2×/4×/10×/max, ←/→ seek 10 s (Shift: 60 s), N/P next/previous "
            "marker, Home back to the start. Every figure is recomputed from the recorded RR "
            "intervals exactly as in the live session. coreg informs; it does not diagnose."
        ),
    )
    p.add_argument("file", metavar="FILE", help="a recording (.jsonl)")
    p.add_argument("--speed", default="1", metavar="1|2|4|10|max",
                   help="playback speed (default 1 = real time)")
    p.add_argument("--headless", action="store_true",
                   help="no window: the live figures in the terminal")
    p.add_argument("--start", type=float, default=0.0, metavar="S",
                   help="start at S seconds into the recording")
    p.add_argument("--screenshot", metavar="PNG",
                   help="play to the end at max speed offscreen, save the window and quit")
    add_size_option(p)
    p.set_defaults(run=run)


def _open(args: argparse.Namespace) -> tuple[Recording, float]:
    """The recording of ``args.file`` and the replay speed (one clear line when either is bad)."""
    from coreg.recording import read_recording
    from coreg.session.clock import parse_speed
    from coreg.session.replay import SPEEDS

    speed = parse_speed(args.speed, choices=SPEEDS)
    if speed is None:
        speed = 1.0
    path = Path(args.file)
    if not path.is_file():
        raise InputError(f"no such recording: {path}")
    recording = read_recording(path)  # raises RecordingError with one clear line
    if not recording.samples:
        raise InputError(f"{path} holds no RR data to replay")
    if args.start < 0:
        raise InputError("--start must be ≥ 0")
    if not args.start < recording.duration_s:  # (also NaN)
        raise InputError(f"--start {args.start:g} s is past the end of the recording "
                         f"({recording.duration_s:.0f} s long)")
    return recording, math.inf if args.screenshot else speed


def title(replay: ReplaySession[LiveAnalysis] | ReplaySession[BreatheAnalysis]) -> str:
    """Window/terminal title of a replay."""
    rec = replay.recording
    sim = rec.simulation
    tag = ""
    if sim is not None:
        scenario = sim.get("scenario")
        if isinstance(scenario, dict):
            scenario = ", ".join(f"{r} {s}" for r, s in scenario.items())
        tag = f" — SIMULATED ({scenario}, seed {sim.get('seed')})"
    return f"coreg replay {Path(rec.path).name}{tag}"


def run(args: argparse.Namespace) -> int:
    """Run ``coreg replay``: a breathing recording with its pacer, else the dyad's figures."""
    from coreg.session.breathe import is_breathe_recording, replay_analysis_factory
    from coreg.session.replay import ReplaySession

    recording, speed = _open(args)
    if is_breathe_recording(recording):
        breathing = ReplaySession(recording, speed=speed,
                                  analysis_factory=replay_analysis_factory(recording))
        if args.headless:
            return _run_headless_breathe(args, breathing)
        _check_gui(args)
        from coreg.ui.breathe import run_replay_window as run_breathe_window

        return run_breathe_window(breathing, title(breathing), screenshot=args.screenshot,
                                  start_s=args.start, size=args.size)
    dyad = ReplaySession(recording, speed=speed)
    if args.headless:
        return _run_headless_dyad(args, dyad)
    _check_gui(args)
    from coreg.ui.replay import run_replay_window

    return run_replay_window(dyad, title(dyad), screenshot=args.screenshot,
                             start_s=args.start, size=args.size)


def _check_gui(args: argparse.Namespace) -> None:
    if not args.screenshot:
        from coreg.ui.system_libs import check_gui_libraries

        check_gui_libraries()  # one line naming the packages, before Qt aborts


def _notes(recording: Recording) -> None:
    for line in recording.skipped:
        print(f"note: {line}", file=sys.stderr)


def _pacing(speed: float) -> Pacing:
    from coreg.session.headless import Pacing

    return Pacing(0.0 if math.isinf(speed) else 1 / 30)


def _run_headless_dyad(args: argparse.Namespace, replay: ReplaySession[LiveAnalysis]) -> int:
    """A dyad's replay in the terminal: its live figures."""
    from coreg.cli.terminal import ReplayTerminal
    from coreg.session.headless import run_headless

    _notes(replay.recording)
    view = ReplayTerminal(replay, title(replay),
                          every_s=1.0 if sys.stdout.isatty() else 30.0, start_s=args.start)
    return run_headless(replay, view, _pacing(replay.speed))


def _run_headless_breathe(args: argparse.Namespace,
                          replay: ReplaySession[BreatheAnalysis]) -> int:
    """A breathing session's replay in the terminal: the status lines and summary of the live
    ``coreg breathe``."""
    from coreg.cli.terminal import BreatheReplayTerminal
    from coreg.session.breathe import replay_config
    from coreg.session.headless import run_headless

    _notes(replay.recording)
    print(title(replay), flush=True)
    view = BreatheReplayTerminal(replay, replay_config(replay.recording), start_s=args.start)
    return run_headless(replay, view, _pacing(replay.speed))
