"""Writing one recording's HTML report to a file (``coreg report FILE``, the home window)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def write_report(recording: str | os.PathLike[str], output: str | os.PathLike[str], *,
                 with_neurokit: bool = True, progress: Any = None) -> Path:
    """Analyse ``recording`` and write the HTML report atomically to ``output``."""
    from coreg.errors import InputError, RecordingError
    from coreg.recording import read_recording
    from coreg.recording.format import write_owner_only
    from coreg.report.analysis import analyze_session
    from coreg.report.html import render_html

    prog = progress or (lambda _: None)
    out = Path(output)
    if out.is_dir():
        raise InputError(f"{out} is a directory")
    if not out.parent.exists():
        raise InputError(f"{out.parent}: no such folder")
    prog("reading the recording")
    rec = read_recording(recording)
    if not rec.samples:
        raise RecordingError(f"{recording}: the recording holds no RR data")
    try:
        an = analyze_session(rec, progress=prog, with_neurokit=with_neurokit)
    except (ValueError, ArithmeticError) as exc:  # the engines refuse odd data: one line
        raise RecordingError(f"{recording}: could not analyse this recording ({exc})") from exc
    page = render_html(an, progress=prog)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        write_owner_only(tmp, page)  # health data
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
