"""``coreg live``: the in-session dyad view (window, or the terminal with ``--headless``)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from coreg.cli import add_size_option
from coreg.errors import InputError

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers
    from coreg.session.clock import SpeedPlan


def add_parser(subparsers: SubParsers) -> None:
    """Register ``coreg live``."""
    p = subparsers.add_parser(
        "live",
        help="live dyad view: both hearts, HRV and synchrony (simulated straps by default)",
        description=(
            "Live view of a client and a therapist: heart rate, HRV, coherence and their "
            "physiological synchrony with its chance baseline. The window opens in a preview "
            "(nothing recorded) until Start recording; --duration and --headless runs record "
            "from the start. "
            "SRC is a BLE address or name, ble-sim[:SCENARIO] (the emulated strap), "
            "lsl:NAME (an LSL RR stream, e.g. from coreg stream on another machine), "
            "sim[:SCENARIO] (simulated; default scenario coupled) or none. With no SRC at all "
            "the simulated dyad runs, labelled SIMULATED. coreg informs; it does not diagnose."
        ),
    )
    p.add_argument("--client", metavar="SRC", help="the client's strap")
    p.add_argument("--therapist", metavar="SRC", help="the therapist's strap")
    p.add_argument("--duration", type=float, metavar="S", help="end the session after S seconds")
    p.add_argument("--headless", action="store_true",
                   help="no window: live figures in the terminal")
    p.add_argument("--screenshot", metavar="PNG",
                   help="save the window (and NAME-client.png, the client view) at the end; "
                        "runs offscreen")
    add_size_option(p)
    p.add_argument("--speed", metavar="X|max",
                   help="simulated straps only: run X times faster than real time (or max; "
                        "ble-sim: a number); default real time, or max with --screenshot")
    p.add_argument("--seed", type=int, default=1, help="seed of simulated straps (default 1)")
    p.add_argument("--recordings-dir", metavar="DIR",
                   help="folder for the recording (default $COREG_RECORDINGS or ./recordings)")
    p.add_argument("--lsl", action="store_true",
                   help="publish HR, RMSSD, coherence, synchrony and markers as Lab Streaming "
                        "Layer streams (visible to every machine on the local network; see "
                        "docs/lsl.md)")
    p.add_argument("--client-name", metavar="NAME",
                   help="the client this session is with (a pseudonym, not a real name)")
    p.add_argument("--therapist-name", metavar="NAME",
                   help="the therapist's name or pseudonym, stored in the recording")
    p.add_argument("--client-view", action="store_true",
                   help="open the calm client view on a second window at start")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``coreg live``."""
    from coreg.session.clock import parse_speed, speed_plan
    from coreg.sources import default_specs

    if args.duration is not None and not args.duration > 0:
        raise InputError("--duration must be positive")
    speed = parse_speed(args.speed)
    specs = default_specs(args.client, args.therapist)
    plan = speed_plan(speed, {s.kind for s in specs.values()}, screenshot=bool(args.screenshot))
    if args.screenshot and not args.duration:
        raise InputError("--screenshot needs --duration (the picture is taken at the end)")
    if args.headless:
        return _run_headless(args, plan)
    from coreg.ui.system_libs import check_gui_libraries

    if not args.screenshot:
        check_gui_libraries()  # one line naming the packages, before Qt aborts
    from coreg.ui.app import run_window

    return run_window(args, plan)


def people_header(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    """The header fields naming the client and the therapist of ``--client-name`` /
    ``--therapist-name`` (checked before anything starts)."""
    from coreg.recording.index import person_header

    return person_header(getattr(args, "client_name", None),
                         getattr(args, "therapist_name", None))


def _run_headless(args: argparse.Namespace, plan: SpeedPlan) -> int:
    from coreg.cli.terminal import LiveTerminal
    from coreg.session import open_session
    from coreg.session.headless import Pacing, run_headless
    from coreg.session.setup import live_title

    session, resolved = open_session(
        args.client, args.therapist, duration_s=args.duration, seed=args.seed,
        realtime=plan.realtime, speed=plan.speed, folder=args.recordings_dir,
        ble_speed=plan.ble_speed, lsl=args.lsl, header_extra=people_header(args))
    # On the session clock; a faster clock (fast mode, ble-sim --speed) prints less often.
    fast = not plan.realtime or plan.ble_speed is not None
    every_s = ((plan.ble_speed or 1.0) if sys.stdout.isatty() else (30.0 if fast else 5.0))
    print(f"recording to {session.recording_path}", flush=True)
    view = LiveTerminal(session, live_title(resolved), every_s=every_s,
                        duration_s=args.duration)
    return run_headless(session, view, Pacing(0.001 if plan.fast else 1 / 30))
