"""``coreg breathe``: solo breathing practice with HRV feedback, and ``--assess``, the
resonance-frequency assessment (Lehrer, Vaschillo & Vaschillo 2000, doi:10.1023/A:1009554825745).

``--device SRC`` takes the same strap kinds as ``coreg live``: ``sim`` (a simulated client who
breathes with the pacer, labelled SIMULATED), ``ble-sim`` (the same simulated client served by
the emulated Bluetooth LE strap through the real BLE code) or a real strap's address or name.
The session runs on the live session runner (:mod:`coreg.session.breathe`): the strap on the
asyncio thread, every message recorded before it is computed, device events, reconnects and a
clean stop. Every session is recorded (mode ``breathe``, pacer changes included) and replays
with the pacer shown (``coreg replay``). The rate chosen by an assessment is stored per client
in the database of the recordings folder (:mod:`coreg.recording.index`) and becomes that
client's default pacer rate.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from coreg.cli import (
    add_size_option,
    non_negative_type,
    number_list_type,
    positive_type,
)
from coreg.errors import InputError

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers
    from coreg.engine.pacer import PacerStep
    from coreg.engine.resonance import Assessment
    from coreg.session.breathe import BreatheConfig, BreatheSession, RateStore

DEFAULT_RATE_BPM = 6.0


def add_parser(subparsers: SubParsers) -> None:
    """Register ``coreg breathe``."""
    p = subparsers.add_parser(
        "breathe",
        help="solo breathing practice with a pacer; --assess finds the resonance rate",
        description=(
            "Breathe with the pacer and watch your heart follow it: coherence, resonance power, "
            "heart-rate swing per breath (RSA) and the breathing rate the heart shows. "
            "--assess paces 6.5, 6.0, 5.5, 5.0 and 4.5 breaths/min and ranks them. "
            "Default source: a simulated client (SIMULATED). coreg informs; it does not diagnose."
        ),
    )
    p.add_argument("--device", metavar="SRC", default="sim",
                   help="strap: a BLE address or name, ble-sim (the emulated BLE strap serving "
                        "a simulated client), lsl:NAME (an LSL RR stream) or sim (simulated "
                        "client; default)")
    p.add_argument("--client-name", default="client", metavar="NAME",
                   help="the client (a pseudonym, not a real name): the recording is theirs and "
                        "their stored rate is used and stored (default 'client')")
    p.add_argument("--rate", type=float, metavar="BPM",
                   help="pacer rate 3–10 breaths/min (default: the client's stored rate, else "
                        "the settings' pacer rate, else 6)")
    p.add_argument("--ratio", metavar="IN:OUT",
                   help="inhale:exhale (default: the settings' IN:OUT, else 1:1)")
    p.add_argument("--pause-in", type=non_negative_type("seconds"), default=0.0, metavar="S",
                   help="hold after inhale")
    p.add_argument("--pause-out", type=non_negative_type("seconds"), default=0.0, metavar="S",
                   help="hold after exhale")
    p.add_argument("--duration", type=positive_type("seconds"), metavar="S",
                   help="session length (default 600 s; assessment: the steps' total)")
    p.add_argument("--goal", type=positive_type("minutes"), metavar="MIN",
                   help="goal: minutes at the high coherence level")
    p.add_argument("--sound", action="store_true",
                   help="soft sound cue at in and out (window; default: the settings)")
    p.add_argument("--assess", action="store_true", help="resonance-frequency assessment")
    p.add_argument("--steps", type=number_list_type("rates in breaths/min"),
                   default="6.5,6.0,5.5,5.0,4.5", metavar="LIST",
                   help="assessment rates in order (default 6.5,6.0,5.5,5.0,4.5)")
    p.add_argument("--step-s", type=float, default=120.0, metavar="S",
                   help="measured seconds per assessment step (default 120)")
    p.add_argument("--settle-s", type=non_negative_type("seconds"), default=25.0, metavar="S",
                   help="unmeasured settle before each step (default 25)")
    p.add_argument("--headless", action="store_true", help="no window: terminal lines")
    p.add_argument("--screenshot", metavar="PNG", help="save the window at the end (offscreen)")
    add_size_option(p)
    p.add_argument("--speed", metavar="X|max",
                   help="sim: X times real time, or max; ble-sim: X times real time on a "
                        "scaled clock (no max); default real time (max with --screenshot "
                        "and sim)")
    p.add_argument("--seed", type=int, default=1, help="seed of the simulated client")
    p.add_argument("--lsl", action="store_true",
                   help="publish HR, RMSSD, coherence and markers as Lab Streaming Layer "
                        "streams (visible to every machine on the local network; see docs/lsl.md)")
    p.add_argument("--recordings-dir", metavar="DIR",
                   help="folder for recordings and the database (default $COREG_RECORDINGS "
                        "or ./recordings)")
    p.set_defaults(run=run)


# --- setup -------------------------------------------------------------------------------------


def _steps(steps: str | list[float]) -> list[float]:
    """The assessment rates of ``--steps`` (already parsed by argparse, or a string)."""
    if not isinstance(steps, str):
        return [float(x) for x in steps]
    try:
        return number_list_type("rates in breaths/min")(steps)
    except argparse.ArgumentTypeError as exc:
        raise ValueError(f"--steps: {exc}") from None


def build_schedule(args: argparse.Namespace, folder: Path) -> tuple[tuple[PacerStep, ...], float]:
    """The pacer schedule and the session length from the options."""
    from coreg.engine import pacer
    from coreg.recording.settings import load_settings

    user = load_settings()
    try:
        ratio = (pacer.parse_ratio(args.ratio) if getattr(args, "ratio", None)
                 else user.inhale_ratio)
        if args.assess:
            rates = _steps(args.steps)
            if args.step_s < 60:
                raise ValueError("--step-s must be at least 60 s (a shorter step says nothing)")
            sched = pacer.assessment_schedule(rates, step_s=args.step_s,
                                              settle_s=args.settle_s, inhale_ratio=ratio)
            return sched, sched[-1].start_s
        from coreg.recording.index import stored_rate

        rate = args.rate if args.rate is not None else (
            stored_rate(folder, args.client_name) or user.pacer_rate_bpm or DEFAULT_RATE_BPM)
        sched = pacer.practice_schedule(rate, inhale_ratio=ratio, pause_in_s=args.pause_in,
                                        pause_out_s=args.pause_out)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    duration = args.duration if args.duration is not None else 600.0
    if not duration > 0:
        raise InputError("--duration must be positive")
    return sched, duration


def run(args: argparse.Namespace) -> int:
    """Run ``coreg breathe``."""
    from coreg.recording.paths import recordings_dir
    from coreg.recording.settings import load_settings
    from coreg.session.breathe import breathe_spec, breathe_speed_plan, source_text
    from coreg.session.clock import parse_speed

    spec = breathe_spec(args.device)  # a bad SRC fails before anything is created
    args.sound = bool(args.sound or load_settings().sound)
    # So does a --speed the strap cannot honour (a --screenshot of the simulated client: max).
    speed = breathe_speed_plan(spec, parse_speed(args.speed),
                               screenshot=bool(args.screenshot)).requested
    folder = recordings_dir(args.recordings_dir)
    schedule, duration_s = build_schedule(args, folder)
    if not args.headless:
        from coreg.ui.system_libs import check_gui_libraries

        if not args.screenshot:
            check_gui_libraries()  # one line naming the packages, before Qt aborts
        from coreg.ui.breathe import run_window

        interactive = not args.screenshot
        # Start when ready: an interactive window opens on an unrecorded stand-in; its Start
        # opens the recorded session. A screenshot run records from the start.
        bs = open_session(args, schedule, duration_s, folder, speed, record=not interactive)
        return run_window(
            bs, config_from_args(args),
            source=source_text(bs, seed=args.seed, device=args.device),
            screenshot=args.screenshot, store_rate=rate_store(folder, args.client_name),
            opener=(lambda: open_session(args, schedule, duration_s, folder, speed))
            if interactive else None,
            size=args.size)
    bs = open_session(args, schedule, duration_s, folder, speed)
    return run_headless(args, bs, folder)


def open_session(args: argparse.Namespace, schedule: Sequence[PacerStep], duration_s: float,
                 folder: Path, speed: float | None, *, record: bool = True) -> BreatheSession:
    """The recorded breathing session of these options (not started; ``record=False``: an
    unrecorded one, e.g. the window's stand-in before Start)."""
    from coreg.recording.index import person_header
    from coreg.session.breathe import open_breathe_session

    return open_breathe_session(
        args.device, schedule, duration_s, folder, seed=args.seed, speed=speed,
        assess=bool(args.assess), settle_s=args.settle_s if args.assess else 0.0,
        settings={"client_name": args.client_name}, record=record,
        header_extra=person_header(args.client_name),
        lsl=bool(getattr(args, "lsl", False)))


def config_from_args(args: argparse.Namespace) -> BreatheConfig:
    """The typed view settings of these options."""
    from coreg.session.breathe import BreatheConfig

    return BreatheConfig(assess=bool(args.assess), goal_min=args.goal or None,
                         sound=bool(args.sound), client_name=args.client_name)


def rate_store(folder: Path, client_name: str) -> RateStore:
    """Store an assessment's chosen rate as the client's default; the line saying so."""
    def store(a: Assessment) -> str:
        if a.chosen_rate_bpm is None:
            return ""
        from coreg.recording.index import save_client_rate

        path = save_client_rate(folder, client_name, a.chosen_rate_bpm, a.confidence)
        return f"Stored as {client_name}'s default pacer rate ({path})."

    return store


def run_headless(args: argparse.Namespace, bs: BreatheSession, folder: Path) -> int:
    """The terminal version: a status line every 30 s of session time, summary at the end."""
    from coreg.cli.terminal import BreatheTerminal
    from coreg.session.breathe import source_text
    from coreg.session.headless import Pacing, run_headless

    print(f"coreg breathe{' --assess' if args.assess else ''} — "
          f"{source_text(bs, seed=args.seed, device=args.device)}",
          flush=True)
    print(f"recording to {bs.session.recording_path}", flush=True)
    view = BreatheTerminal(bs, config_from_args(args), rate_store(folder, args.client_name))
    # Fast: a few messages per step so the status lines keep their 30 s cadence.
    fast = not bs.session.realtime and bs.session.speed is None
    pacing = (Pacing(0.001, max_messages=10, rest_when_busy=False) if fast
              else Pacing(1 / 30))
    return run_headless(bs.session, view, pacing)
