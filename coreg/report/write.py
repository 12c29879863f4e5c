"""Writing one recording's HTML report to a file (``coreg report FILE``, the home window)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def write_report(recording: str | os.PathLike[str], output: str | os.PathLike[str], *,
                 with_neurokit: bool = True, progress: Callable[[str], None] | None = None,
                 force: bool = False) -> Path:
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
