"""``coreg import``: RR exports of other tools → a coreg recording."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    """Register ``coreg import``."""
    p = sub.add_parser(
        "import",
        help="import RR exports (Kubios, Polar Sensor Logger, Elite HRV, CSV) as a recording",
        description=(
            "Import RR-interval exports into a coreg recording. RR_FILE is one RR per line "
            "(ms, or s when all values are below 10) or a CSV with a header naming an RR column."
        ),
    )
    p.add_argument("--client", required=True, metavar="RR_FILE", help="the client's RR export")
    p.add_argument("--therapist", metavar="RR_FILE", help="the therapist's RR export")
    p.add_argument("--format", dest="fmt", default="auto", choices=["auto", "rr-txt", "csv"],
                   help="input format (default: detect)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="recording to write")
    p.add_argument("--client-name", metavar="NAME",
                   help="the client this recording belongs to (a pseudonym, not a real name)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Import, then print one line describing what was written."""
    from coreg.recording.importers import import_recording
    from coreg.recording.index import person_header

    files = {"client": args.client}
    if args.therapist:
        files["therapist"] = args.therapist
    header = import_recording(files, args.output, args.fmt, person_header(args.client_name))
    parts = [f"{role}: {info['beats']} beats ({info['format']}, {info['unit']})"
             for role, info in header["imported"].items()]
    print(f"wrote {args.output} — " + "; ".join(parts))
    return 0
