"""``coreg live``: the in-session dyad view (window, or the terminal with ``--headless``)."""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

from coreg.cli import add_size_option
from coreg.errors import InputError


def add_parser(subparsers: Any) -> None:
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
    from coreg.sources import default_specs

    if args.duration is not None and not args.duration > 0:
        raise InputError("--duration must be positive")
    from coreg.session.runner import parse_speed

    speed = parse_speed(args.speed)
    specs = default_specs(args.client, args.therapist)
    kinds = {s.kind for s in specs.values() if s.kind != "none"}
    all_sim = kinds <= {"sim"}
    ble_speed: float | None = None
    if speed is not None and speed != 1.0 and not all_sim:
        if kinds != {"ble-sim"}:
            raise InputError("--speed works only with simulated straps, all of one kind "
                             "(sim:SCENARIO or ble-sim:SCENARIO)")
        if not math.isfinite(speed):
            raise InputError("ble-sim runs through the BLE stack on the host clock: give --speed "
                             "as a number (e.g. 20), not max")
        ble_speed, speed = speed, None  # a real-time session on a faster clock
    if speed is None and args.screenshot and all_sim:
        speed = math.inf
    if args.screenshot and not args.duration:
        raise InputError("--screenshot needs --duration (the picture is taken at the end)")
    realtime = speed is None or speed == 1.0
    if args.headless:
        return _run_headless(args, realtime, speed, ble_speed)
    from coreg.ui.system_libs import check_gui_libraries

    if not args.screenshot:
        check_gui_libraries()  # one line naming the packages, before Qt aborts
    from coreg.ui.app import run_window

    return run_window(args, realtime=realtime, speed=None if realtime else speed,
                      ble_speed=ble_speed)


def people_header(args: argparse.Namespace) -> dict[str, Any]:
    """The header fields naming the client and the therapist of ``--client-name`` /
    ``--therapist-name`` (checked before anything starts)."""
    from coreg.recording.index import person_header

    return person_header(getattr(args, "client_name", None),
                         getattr(args, "therapist_name", None))


def _run_headless(args: argparse.Namespace, realtime: bool, speed: float | None,
                  ble_speed: float | None = None) -> int:
    from coreg.cli.signals import SessionSignals, exit_code
    from coreg.session import open_session
    from coreg.session.display import session_lines, show_final, show_lines
    from coreg.session.setup import live_title

    session, resolved = open_session(
        args.client, args.therapist, duration_s=args.duration, seed=args.seed,
        realtime=realtime, speed=None if realtime else speed, folder=args.recordings_dir,
        ble_speed=ble_speed, lsl=args.lsl, header_extra=people_header(args))
    title = live_title(resolved)
    tty = sys.stdout.isatty()
    out = sys.stdout
    shown = 0
    next_print_s = 0.0
    # On the session clock; a faster clock (fast mode, ble-sim --speed) prints less often.
    fast = not realtime or ble_speed is not None
    print_every_s = (1.0 * (ble_speed or 1.0)) if tty else (30.0 if fast else 5.0)
    reason = "stopped"
    code = 0
    print(f"recording to {session.recording_path}", flush=True)
    with SessionSignals() as guard:
        try:
            session.start()
            while True:
                session.poll()
                elapsed = session.elapsed_s()
                if session.source_errors:
                    reason, code = "strap failed", 2
                    break
                if args.duration and (elapsed >= args.duration or session.finished):
                    reason = "duration reached"
                    break
                if session.finished:
                    reason = "duration reached" if session.reached_duration else "sources ended"
                    break
                if elapsed >= next_print_s:
                    shown = show_lines(out, session_lines(session.view, title), shown, tty=tty)
                    next_print_s = elapsed + print_every_s
                session.sync_recording()
                time.sleep(1 / 30 if realtime or speed != math.inf else 0.001)
        except KeyboardInterrupt as exc:
            reason = "interrupted"
            code = exit_code(exc)
        finally:
            guard.disarm()  # a second Ctrl+C must not cut the end line off
            session.stop(reason)
    show_final(out, session_lines(session.view, title), shown, tty=tty)
    print(f"session ended ({reason}); recording: {session.recording_path}", flush=True)
    for role, error in session.source_errors.items():
        print(f"coreg live: the {role} strap failed: {error}", file=sys.stderr, flush=True)
        code = code or 2
    if session.loop_errors:  # a bug below us: never pass it off as a clean session
        print(f"coreg live: {len(session.loop_errors)} unhandled error(s) in the strap code; "
              f"first: {session.loop_errors[0]}", file=sys.stderr, flush=True)
        code = code or 1
    return code
