"""Exports of a recording for other tools: RR text per role, a beats CSV, a metrics CSV.

Formats
-------
``rr-txt``
    One RR interval per line in milliseconds, every beat exactly as recorded (Kubios HRV,
    Elite HRV and most tools import this). Values are written with Python's shortest
    round-trip float representation, so reading them back gives the very same float: the
    1/1024 s resolution of the strap is kept exactly. One role: the file is ``PATH``; several
    roles: one file per role, ``<PATH stem>-<role><PATH suffix>`` next to ``PATH``, the role
    made safe for a file name (:func:`safe_role`).
``csv``
    Two files next to ``PATH``: ``<stem>-beats.csv`` (``time_s, role, rr_ms, kind, corrected,
    valid, gap_before`` — every recorded beat on the session clock, the verdict of the offline
    Lipponen & Tarvainen 2019 artifact detector, doi:10.1080/03091902.2019.1640306) and
    ``<stem>-metrics.csv`` (``time_s, role`` and the live engine's metrics every 5 s: HR,
    RMSSD, SDNN, band powers, LF/HF, coherence, ...; for dyads also the synchrony of each 30 s
    window: ``sync_peak_r``, ``sync_lag_s``, ``sync_chance_r95``).
``markers-csv``
    ``PATH``: every marker dropped in the session with its note (``t_s, clock, role, note``).

All files of one export go through :mod:`coreg.recording.output`: never over a recording or
the input, over other existing files only with ``force``; written owner-only to unpredictable
temporary names and renamed into place only when every one is complete, so a failed or
interrupted export leaves no partial output. Text cells of the CSV tables (the role) that a
spreadsheet would run as a formula (starting with ``= + - @``, tab or CR) are prefixed with
``'`` (OWASP, "CSV Injection").
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Callable
from pathlib import Path

from coreg.errors import InputError, RecordingError
from coreg.recording.reader import Recording

EXPORT_FORMATS = ("rr-txt", "csv", "markers-csv")
logger = logging.getLogger(__name__)
Progress = Callable[[str], None]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SAFE_NAME_MAX = 64


def csv_text(text: str) -> str:
    """A text cell a spreadsheet shows as text: formula-like starts get a leading ``'``."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def safe_role(role: str) -> str:
    """``role`` as a file-name part: letters, digits, ``-``, ``_``, ``.`` kept, anything else
    (``/``, ``\\``, NUL, control characters, spaces) becomes ``_``; no leading dots; at most
    64 characters; never empty."""
    name = "".join(c if (c.isalnum() or c in "-_.") and c.isprintable() else "_" for c in role)
    name = name.lstrip(".")[:_SAFE_NAME_MAX]
    return name or "role"


def _rr_text(rr_ms: list[float]) -> str:
    return "".join(f"{float(v)!r}\n" for v in rr_ms)


def rr_txt_paths(path: Path, roles: list[str]) -> dict[str, Path]:
    """Where ``rr-txt`` writes each role's file (see the module docstring)."""
    if len(roles) == 1:
        return {roles[0]: path}
    suffix = path.suffix or ".txt"
    out: dict[str, Path] = {}
    used: set[str] = set()
    for r in roles:
        base = safe_role(r)
        name, n = base, 2
        while name.lower() in used:  # two roles that sanitise alike keep separate files
            name, n = f"{base}-{n}", n + 1
        used.add(name.lower())
        out[r] = path.with_name(f"{path.stem}-{name}{suffix}")
    return out


def csv_paths(path: Path) -> dict[str, Path]:
    """Where ``csv`` writes the beats and metrics tables."""
    stem = path.stem if path.suffix.lower() == ".csv" else path.name
    return {"beats": path.with_name(f"{stem}-beats.csv"),
            "metrics": path.with_name(f"{stem}-metrics.csv")}


def _cell(v: float) -> str:
    return "" if not math.isfinite(v) else f"{v:.6g}"


def beats_csv(rec: Recording) -> str:
    """The beats table (every recorded beat of every role, in time order)."""
    from coreg.report.series import beat_table

    rows: list[tuple[float, str, float, str, bool, bool, bool]] = []
    for role in rec.roles:
        bt = beat_table(role, rec.samples_for(role), rec.events_for(role))
        for t, rr, kind, valid, gap in zip(bt.t_s, bt.rr_ms, bt.kinds, bt.valid, bt.gap_before,
                                           strict=True):
            rows.append((float(t), role, float(rr), kind, kind != "normal", bool(valid),
                         bool(gap)))
    rows.sort(key=lambda r: (r[0], r[1]))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["time_s", "role", "rr_ms", "kind", "corrected", "valid", "gap_before"])
    for t, role, rr, kind, corr, valid, gap in rows:
        w.writerow([f"{t:.4f}", csv_text(role), repr(rr), kind, int(corr), int(valid),
                    int(gap)])
    return buf.getvalue()


def metrics_csv(rec: Recording, step_s: float = 5.0) -> str:
    """The metric time series of every role (live engine, every ``step_s``), plus synchrony."""
    from coreg.report.series import metric_series

    series = metric_series(rec, step_s)
    sync_cols: list[str] = []
    sync_at: dict[int, tuple[float, float, float]] = {}
    if len(rec.roles) >= 2:
        sync_cols = ["sync_peak_r", "sync_lag_s", "sync_chance_r95"]
        sync_at = _sync_by_step(rec, step_s)
    names = list(next(iter(series.values())).columns) if series else []
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["time_s", "role", *names, *sync_cols])
    roles = list(series)
    if not roles:
        return buf.getvalue()
    t_s = series[roles[0]].t_s
    for i, t in enumerate(t_s):
        for r in roles:
            cols = series[r].columns
            extra = []
            if sync_cols:
                s = sync_at.get(round(t / step_s))
                extra = [_cell(x) for x in s] if s else ["", "", ""]
            w.writerow([f"{t:.1f}", csv_text(r), *(_cell(float(cols[n][i])) for n in names),
                        *extra])
    return buf.getvalue()


def _sync_by_step(rec: Recording, step_s: float) -> dict[int, tuple[float, float, float]]:
    """Synchrony per window keyed by the grid step at the window's end."""
    from coreg.engine import synchrony as sy
    from coreg.engine.summary import summarize_person

    beats = {}
    for role in rec.roles:
        try:
            _, nn = summarize_person(rec.samples_for(role), rec.events_for(role))
        except ValueError as exc:  # engine refuses pathological short data: no sync columns
            logger.warning("synchrony columns left empty: %s: %s", role, exc)
            return {}
        if len(nn.t_s) >= 2:
            beats[role] = nn.series()
    if len(beats) < 2:
        return {}
    settings = sy.SyncSettings()
    _, slow, _ = sy.session_analyses(beats, settings=settings)
    if slow is None:
        return {}
    window_s = float(getattr(settings, "window_s", 30.0))
    out: dict[int, tuple[float, float, float]] = {}
    for t0, r, lag in zip(slow.window_t_s, slow.peak_r, slow.peak_lag_s, strict=True):
        out[round((float(t0) + window_s) / step_s)] = (float(r), float(lag),
                                                             float(slow.chance_r95))
    return out


def markers_csv(rec: Recording) -> str:
    """The markers with their notes: ``t_s`` (seconds since the start), ``clock`` (mm:ss),
    ``role`` (empty = both) and ``note`` (RFC 4180 quoting)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["t_s", "clock", "role", "note"])
    for m in rec.markers:
        s = max(0, int(m.t_s))
        writer.writerow([f"{m.t_s:.3f}", f"{s // 60:02d}:{s % 60:02d}", csv_text(m.role or ""),
                         csv_text(m.note)])
    return buf.getvalue()


def export_recording(rec: Recording, fmt: str, output: str | Path, *,
                     progress: Progress = lambda _: None, force: bool = False) -> list[Path]:
    """Export ``rec`` as ``fmt`` (``rr-txt`` or ``csv``) next to ``output``; return the files.

    Every target is checked before any work (:func:`coreg.recording.output.check_output`):
    never the recording itself or another recording, other existing files only with
    ``force``, the folder must exist.

    Raises
    ------
    InputError
        Unknown format, no RR data, or an output that cannot be written.
    """
    from coreg.recording.output import check_output, write_outputs

    out = Path(output)
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt!r} (choose from "
                         f"{', '.join(EXPORT_FORMATS)})")
    files: dict[Path, str] = {}
    if fmt == "markers-csv":
        check_output(out, force=force, inputs=[rec.path])
        return write_outputs({out: markers_csv(rec)}, force=force, inputs=[rec.path])
    if not rec.samples:
        raise InputError(f"{rec.path}: the recording holds no RR data")
    targets = (list(rr_txt_paths(out, rec.roles).values()) if fmt == "rr-txt"
               else list(csv_paths(out).values()))
    for target in targets:
        check_output(target, force=force, inputs=[rec.path])
    if fmt == "rr-txt":
        for role, path in rr_txt_paths(out, rec.roles).items():
            files[path] = _rr_text(rec.rr_for(role))
    else:
        paths = csv_paths(out)
        progress("beats table")
        files[paths["beats"]] = beats_csv(rec)
        progress("metrics over time (live engine)")
        try:
            files[paths["metrics"]] = metrics_csv(rec)
        except ValueError as exc:  # the engine refuses some erratic data: one line, no output
            raise RecordingError(f"{rec.path}: the live engine could not compute the metrics "
                                 f"({exc})") from exc
    return write_outputs(files, force=force, inputs=[rec.path])

