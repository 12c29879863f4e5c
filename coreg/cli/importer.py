"""``coreg import``: RR exports of other tools → a coreg recording."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers


def add_parser(sub: SubParsers) -> None:
    """Register ``coreg import``."""
    p = sub.add_parser(
        "import",
        help="import RR exports (Kubios, Polar Sensor Logger, Elite HRV, CSV) or an XDF file "
             "as a recording",
        description=(
            "Import RR-interval exports into a coreg recording. RR_FILE is one RR per line "
            "(ms, or s when all values are below 10) or a CSV with a header naming an RR column. "
            "With --xdf FILE.xdf (LabRecorder), --client/--therapist name the XDF streams: RR/IBI "
            "streams, or ECG streams turned into RR by neurokit2's R-peak detection, on the "
            "file's common clock (default: the streams that say their role, or the only one)."
        ),
    )
    p.add_argument("--client", metavar="RR_FILE|STREAM",
                   help="the client's RR export (with --xdf: the client's stream name)")
    p.add_argument("--therapist", metavar="RR_FILE|STREAM",
                   help="the therapist's RR export (with --xdf: the therapist's stream name)")
    p.add_argument("--xdf", metavar="FILE.xdf", help="import an XDF file (needs coreg[lsl])")
    p.add_argument("--format", dest="fmt", default="auto", choices=["auto", "rr-txt", "csv"],
                   help="input format (default: detect)")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="recording to write (its folder must exist)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing file that is not a recording or an input")
    p.add_argument("--client-name", metavar="NAME",
                   help="the client this recording belongs to (a pseudonym, not a real name)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Import, then print one line describing what was written."""
    from coreg.errors import InputError
    from coreg.recording.importers import import_recording, imported_block
    from coreg.recording.index import person_header

    if args.xdf:
        from coreg.recording.xdf import import_xdf

        header = import_xdf(args.xdf, args.output, args.client, args.therapist,
                            force=args.force, header_extra=person_header(args.client_name))
        parts = [f"{role}: {info['beats']} beats from stream {info['stream']!r} "
                 f"({info['method']})" for role, info in imported_block(header).items()]
        print(f"wrote {args.output} — " + "; ".join(parts))
        return 0
    if not args.client:
        raise InputError("give --client RR_FILE (or --xdf FILE.xdf)")
    files = {"client": args.client}
    if args.therapist:
        files["therapist"] = args.therapist
    header = import_recording(files, args.output, args.fmt, force=args.force,
                              header_extra=person_header(args.client_name))
    parts = [f"{role}: {info['beats']} beats ({info['format']}, {info['unit']})"
             for role, info in imported_block(header).items()]
    print(f"wrote {args.output} — " + "; ".join(parts))
    return 0
