"""``coreg home`` (and ``coreg`` with no subcommand): the home window of clients and sessions."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` in pixels, each 400–8000."""
    try:
        w_text, h_text = text.lower().split("x")
        width, height = int(w_text), int(h_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT (e.g. 1600x1000)"
                                         ) from None
    if not (400 <= width <= 8000 and 400 <= height <= 8000):
        raise argparse.ArgumentTypeError(f"{text!r}: width and height must be 400–8000 pixels")
    return width, height


def add_parser(sub: SubParsers) -> None:
    """Register ``coreg home``."""
    p = sub.add_parser(
        "home",
        help="the home window: clients, their sessions and trends, start/replay/report "
             "(also what 'coreg' alone opens)",
        description=(
            "Clients (pseudonyms) with search and New client; the selected client's sessions "
            "with mean HR (bpm), RMSSD (ms), coherence, resonance rate (breaths/min), synchrony "
            "effect size and time in sync (%%), and their trends across sessions; start a dyad "
            "session, a breathing practice or an assessment for the client; replay, report or "
            "export a session. The history comes from the recordings folder (its database "
            "coreg.db is rebuilt from the recordings when missing). coreg informs; it does not "
            "diagnose."
        ),
    )
    p.add_argument("--recordings-dir", metavar="DIR",
                   help="folder of recordings (default $COREG_RECORDINGS or ./recordings)")
    p.add_argument("--client-name", metavar="NAME", help="select this client at start")
    p.add_argument("--client", metavar="SRC",
                   help="client strap of dyad sessions (as coreg live; default simulated)")
    p.add_argument("--therapist", metavar="SRC",
                   help="therapist strap of dyad sessions (as coreg live; default simulated)")
    p.add_argument("--device", metavar="SRC", default="sim",
                   help="strap of breathing sessions (as coreg breathe; default sim)")
    p.add_argument("--duration", type=float, metavar="S",
                   help="length of dyad sessions started here (default: until stopped)")
    p.add_argument("--speed", metavar="X|max",
                   help="simulated straps only: X times real time, or max")
    p.add_argument("--seed", type=int, default=1, help="seed of simulated straps (default 1)")
    p.add_argument("--screenshot", metavar="PNG",
                   help="render the window offscreen, save it as PNG and quit")
    p.add_argument("--size", type=parse_size, metavar="WxH",
                   help="window size in pixels (default 1600x1000)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Open the home window."""
    import math
    from pathlib import Path

    from coreg.errors import InputError
    from coreg.session.clock import parse_speed

    if args.duration is not None and not args.duration > 0:
        raise InputError("--duration must be positive")
    args.speed_value = parse_speed(args.speed)
    if args.speed_value is not None and math.isinf(args.speed_value) and not args.duration:
        raise InputError("--speed max needs --duration (a simulated dyad at max speed would "
                         "race on until stopped)")
    if args.recordings_dir and Path(args.recordings_dir).exists() \
            and not Path(args.recordings_dir).is_dir():
        raise InputError(f"{args.recordings_dir} is not a folder")
    args.select = args.client_name
    from coreg.ui.home import run_home

    return run_home(args)
