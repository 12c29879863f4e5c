"""``coreg simulate``: a simulated session written as a recording, faster than real time."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from coreg.cli import seconds_type
from coreg.recording.reader import MAX_SESSION_S

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers


def add_parser(sub: SubParsers) -> None:
    """Register ``coreg simulate``."""
    p = sub.add_parser(
        "simulate",
        help="write a simulated session (named scenario) as a recording, headless",
        description=(
            "Simulate straps on one or two simulated people and record exactly what a real "
            "session would record (payload bytes, arrival times, events). The scenario's ground "
            "truth goes into the header."
        ),
    )
    p.add_argument("--scenario", required=True, metavar="NAME",
                   help="rest, independent, coupled, weak, paced, switching, artifacts, "
                        "dropout, assessment")
    p.add_argument("--duration", type=seconds_type(MAX_SESSION_S, "86400 (24 hours)"),
                   default=600.0, metavar="S",
                   help="session length in seconds (default 600)")
    p.add_argument("--seed", type=int, default=1, metavar="N", help="random seed (default 1)")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="recording to write (its folder must exist)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing file that is not a recording")
    p.add_argument("--client-name", metavar="NAME",
                   help="the client this recording belongs to (a pseudonym, not a real name)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Simulate and write the recording; print one line."""
    from coreg.recording.index import person_header
    from coreg.recording.simulated import write_simulation

    count = write_simulation(args.scenario, args.duration, args.seed, args.output,
                             force=args.force, header_extra=person_header(args.client_name))
    print(f"wrote {args.output} — scenario {args.scenario}, {args.duration:g} s, seed {args.seed}, "
          f"{count} notifications")
    return 0
