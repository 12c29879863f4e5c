"""``coreg replay``: a recording shown in the live window (or the terminal) with a transport bar."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

from coreg.cli import add_size_option
from coreg.errors import InputError


def add_parser(subparsers: Any) -> None:
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


def _open(args: argparse.Namespace) -> Any:
    from coreg.recording import read_recording
    from coreg.session.replay import SPEEDS, ReplaySession
    from coreg.session.runner import parse_speed

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
    factory = None
    from coreg.session.breathe import is_breathe_recording, replay_analysis_factory

    if is_breathe_recording(recording):
        factory = replay_analysis_factory(recording)
    replay = ReplaySession(recording, speed=math.inf if args.screenshot else speed,
                           analysis_factory=factory)
    return replay


def is_breathe(replay: Any) -> bool:
    """True when the replay is of a breathing session (shown with its pacer)."""
    from coreg.session.breathe import BreatheAnalysis

    return isinstance(replay.analysis, BreatheAnalysis)


def title(replay: Any) -> str:
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
    """Run ``coreg replay``."""
    replay = _open(args)
    if not args.headless and not args.screenshot:
        from coreg.ui.system_libs import check_gui_libraries

        check_gui_libraries()  # one line naming the packages, before Qt aborts
    if is_breathe(replay):
        if args.headless:
            return _run_headless_breathe(args, replay)
        from coreg.ui.breathe import run_replay_window as run_breathe_window

        return run_breathe_window(replay, title(replay), screenshot=args.screenshot,
                                  start_s=getattr(args, "start", 0.0) or 0.0,
                                  size=getattr(args, "size", None))
    if args.headless:
        return _run_headless(args, replay)
    from coreg.ui.replay import run_replay_window

    return run_replay_window(args, replay, title(replay))


def _run_headless(args: argparse.Namespace, replay: Any) -> int:
    from coreg.session.display import session_lines, show_final, show_lines

    for line in replay.recording.skipped:
        print(f"note: {line}", file=sys.stderr)
    head = title(replay)
    tty = sys.stdout.isatty()
    out = sys.stdout
    shown = 0
    next_print_s = 0.0
    every_s = 1.0 if tty else 30.0
    replay.start()
    if args.start:
        replay.seek(args.start)
        next_print_s = args.start
    try:
        while not replay.at_end:
            replay.poll()
            pos = replay.now_s()
            if pos >= next_print_s and not replay.seeking:
                shown = show_lines(out, session_lines(replay.view, head), shown, tty=tty)
                next_print_s = pos + every_s
            if not math.isinf(replay.speed):
                time.sleep(1 / 30)
    except KeyboardInterrupt:
        return 130
    show_final(out, session_lines(replay.view, head), shown, tty=tty)
    print(f"replay ended at {replay.now_s():.0f} s", flush=True)
    return 0


def _run_headless_breathe(args: argparse.Namespace, replay: Any) -> int:
    """A breathing recording in the terminal: the status lines and the summary of the live
    ``coreg breathe`` (recomputed from the recorded RR intervals and pacer lines)."""
    from coreg.cli.breathe import final_lines, status_line
    from coreg.session.breathe import replay_config

    for line in replay.recording.skipped:
        print(f"note: {line}", file=sys.stderr)
    print(title(replay), flush=True)
    config = replay_config(replay.recording)
    duration_s = replay.analysis.duration_s or replay.duration_s
    next_print_s = 0.0
    stepped = math.isinf(replay.speed)  # max speed: walk in 30 s steps for the status lines
    replay.start()
    if stepped:
        replay.pause()
    if args.start:
        replay.seek(args.start)
        next_print_s = args.start
    try:
        while True:
            br = replay.analysis.run
            if br.now_s >= next_print_s and not replay.seeking:
                print(status_line(br, duration_s), flush=True)
                next_print_s += 30.0
            if replay.at_end:
                break
            if stepped and not replay.seeking:
                replay.seek(min(next_print_s, replay.duration_s))
            replay.poll()
            if not stepped:
                time.sleep(1 / 30)
    except KeyboardInterrupt:
        return 130
    for line in final_lines(config, replay.analysis.run, None):
        print(line)
    print(f"replay ended at {replay.now_s():.0f} s", flush=True)
    return 0
