"""``coreg report``: one self-contained HTML report of a recording."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from coreg.report.write import write_report

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers

__all__ = ["ProgressBar", "add_parser", "run", "write_report"]


def add_parser(sub: SubParsers) -> None:
    """Register ``coreg report``."""
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a recording",
        description=(
            "Session facts, data quality, HR/RMSSD/coherence over time, spectra, synchrony "
            "against surrogates (dyads), the pacer steps (breathing sessions), neurokit2's HRV "
            "table and a plain-language summary, in one HTML file that prints well."
        ),
    )
    p.add_argument("file", metavar="FILE", nargs="?", help="a coreg recording (.jsonl)")
    p.add_argument("--study", metavar="OUT",
                   help="instead of a recording: the output folder of 'coreg study' (a report "
                        "of the whole study; default -o OUT/study.html)")
    p.add_argument("--client", metavar="NAME",
                   help="instead of a recording: the progress report of a client (course of "
                        "sessions, trends, home-practice log; default -o NAME-progress.html)")
    p.add_argument("--recordings-dir", metavar="DIR",
                   help="with --client: the recordings folder (default $COREG_RECORDINGS or "
                        "./recordings)")
    p.add_argument("-o", "--output", metavar="HTML",
                   help="report to write (default: FILE with .html)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing report (never a recording or the input)")
    p.add_argument("--no-neurokit", action="store_true",
                   help="leave out neurokit2's HRV table (faster)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


class ProgressBar:
    """A one-line progress bar on a terminal stream (plain lines when not a terminal)."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.t0 = time.monotonic()

    def __call__(self, label: str) -> None:
        if not self.enabled:
            return
        self.done = min(self.done + 1, self.total)
        frac = self.done / self.total
        width = 28
        bar = "#" * round(frac * width)
        line = f"[{bar:<{width}}] {int(frac * 100):3d}%  {label}"
        if self.tty:
            self.stream.write("\r\x1b[2K" + line[:100])
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self, label: str = "done") -> None:
        if not self.enabled:
            return
        self.done = self.total - 1
        self(f"{label} ({time.monotonic() - self.t0:.1f} s)")
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _run_study(args: argparse.Namespace) -> int:
    from coreg.errors import InputError
    from coreg.report.study import write_study_report

    if args.file:
        raise InputError("give either a recording or --study OUT, not both")
    output = Path(args.output) if args.output else Path(args.study) / "study.html"
    bar = ProgressBar(7, enabled=not args.quiet)
    write_study_report(args.study, output, progress=bar, force=args.force)
    bar.finish(f"wrote {output}")
    print(output)
    return 0


def _run_client(args: argparse.Namespace) -> int:
    from coreg.errors import InputError
    from coreg.recording.index import open_index
    from coreg.recording.output import check_output
    from coreg.recording.paths import recordings_dir
    from coreg.report.progress import write_progress_report

    if args.file or args.study:
        raise InputError("give a recording, --study OUT or --client NAME, not several")
    if args.recordings_dir and not Path(args.recordings_dir).is_dir():
        raise InputError(f"{args.recordings_dir}: no such folder")
    folder = recordings_dir(args.recordings_dir)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in args.client.strip())
    output = Path(args.output) if args.output else Path(f"{safe or 'client'}-progress.html")
    check_output(output, force=args.force)  # before any progress line
    with open_index(folder) as index:  # new recordings indexed; an unknown client is one line
        if index.client(args.client) is None:
            raise InputError(f"no client called {args.client!r} in {folder} "
                             "(coreg sessions --clients lists them)")
    bar = ProgressBar(3, enabled=not args.quiet)
    write_progress_report(folder, args.client, output, progress=bar, force=args.force)
    bar.finish(f"wrote {output}")
    print(output)
    return 0


def run(args: argparse.Namespace) -> int:
    """Write the report; progress on stderr; one line on stdout."""
    if args.client:
        return _run_client(args)
    if args.study:
        return _run_study(args)
    if not args.file:
        from coreg.errors import InputError

        raise InputError("give a recording (FILE) or --study OUT")
    src = Path(args.file)
    if not src.is_file():  # before any progress line
        from coreg.errors import InputError

        raise InputError(f"{src} is a directory" if src.is_dir() else f"{src}: no such file")
    output = Path(args.output) if args.output else src.with_suffix(".html")
    try:
        from coreg.errors import CoregError
        from coreg.recording import read_header

        n_roles = max(1, len(read_header(src).get("roles") or {}))
    except (CoregError, OSError):  # the real read below reports the problem in one line
        n_roles = 2
    # stages: read, series, per role (hrv [+ neurokit]), sync, 3-6 figures, breathing, finish
    total = 2 + n_roles * (1 if args.no_neurokit else 2) + 1 + 6 + 1 + 1
    bar = ProgressBar(total, enabled=not args.quiet)
    from coreg.recording.output import check_output

    check_output(output, force=args.force, inputs=[src])  # before any progress line
    write_report(src, output, with_neurokit=not args.no_neurokit, progress=bar, force=args.force)
    bar.finish(f"wrote {output}")
    print(output)
    return 0
