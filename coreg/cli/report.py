"""``coreg report``: one self-contained HTML report of a recording."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO


def add_parser(sub: Any) -> None:
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


def write_report(recording: str | os.PathLike[str], output: str | os.PathLike[str], *,
                 with_neurokit: bool = True, progress: Any = None, force: bool = False) -> Path:
    """Analyse ``recording`` and write the HTML report atomically, owner-only, to ``output``.

    ``output`` is checked first (:func:`coreg.recording.output.check_output`): never the
    recording or any other recording; an existing file only with ``force``.
    """
    from coreg.errors import RecordingError
    from coreg.recording import read_recording
    from coreg.recording.output import check_output, write_output
    from coreg.report.analysis import analyze_session
    from coreg.report.html import render_html

    prog = progress or (lambda _: None)
    out = check_output(output, force=force, inputs=[recording])
    prog("reading the recording")
    rec = read_recording(recording)
    if not rec.samples:
        raise RecordingError(f"{recording}: the recording holds no RR data")
    try:
        an = analyze_session(rec, progress=prog, with_neurokit=with_neurokit)
    except (ValueError, ArithmeticError) as exc:  # the engines refuse odd data: one line
        raise RecordingError(f"{recording}: could not analyse this recording ({exc})") from exc
    page = render_html(an, progress=prog)
    return write_output(out, page, force=force, inputs=[recording])


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


def run(args: argparse.Namespace) -> int:
    """Write the report; progress on stderr; one line on stdout."""
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
