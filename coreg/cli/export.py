"""``coreg export``: a recording as RR text per role (Kubios) or as beats + metrics CSV."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers


def add_parser(sub: SubParsers) -> None:
    """Register ``coreg export``."""
    p = sub.add_parser(
        "export",
        help="export a recording as RR text (Kubios) or CSV tables",
        description=(
            "rr-txt: one RR in ms per line, every beat as recorded; one role writes PATH, two "
            "roles write PATH-STEM-<role>.txt next to PATH. csv: PATH-STEM-beats.csv (time_s, "
            "role, rr_ms, kind, corrected, valid, gap_before) and PATH-STEM-metrics.csv (the "
            "live engine's metrics every 5 s per role; synchrony columns for dyads). "
            "markers-csv: PATH, every marker with its note (t_s, clock, role, note). "
            "Re-import with 'coreg import'; RR values round-trip exactly."
        ),
    )
    p.add_argument("file", metavar="FILE", help="a coreg recording (.jsonl)")
    p.add_argument("--format", dest="fmt", required=True,
                   choices=["csv", "rr-txt", "markers-csv"], help="what to write")
    p.add_argument("-o", "--output", required=True, metavar="PATH",
                   help="output file (names of several files are derived from it; the folder "
                        "must exist)")
    p.add_argument("--force", action="store_true",
                   help="replace existing files (never a recording or the input)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Export; print each file written."""
    from coreg.recording import read_recording
    from coreg.report.exporters import export_recording

    rec = read_recording(args.file)
    for path in export_recording(rec, args.fmt, args.output, force=args.force):
        print(path)
    return 0
