"""Importers of other tools' RR exports into coreg recordings.

Accepted inputs (auto-detected, or forced with ``fmt``):

``rr-txt``
    One RR interval per line, as Kubios, Elite HRV and many apps write them; blank lines and
    lines starting with ``#`` are ignored. Values in ms, or in seconds when every value is
    below 10 (Kubios writes seconds), converted to ms. Two whitespace-separated numbers per
    line (Kubios-style ``time RR`` text) are read as time and RR: the last column is the RR.
    Elite HRV's RR text export and coreg's own ``rr-txt`` export are of this kind.
``csv``
    A delimited text file (``,``, ``;`` or tab) with a header row naming an RR column, e.g.
    Polar Sensor Logger's ``Phone timestamp;RR-interval [ms]``. The column is the first whose
    name contains ``rr``, ``ibi``, ``nn`` or ``interval``; the unit comes from ``[ms]``/``(s)``
    in its name, or from the values as above. A file with a ``role`` column (coreg's own
    ``*-beats.csv`` export) holds several people: each role takes only its own rows.

Imported beats are laid end to end from t = 0 (the exports hold no arrival times); each RR
value is stored exactly as read (in ms), one ``rr`` line per beat without payload bytes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from coreg.errors import InputError
from coreg.recording.format import AtomicRecording, JSONObject, new_header
from coreg.recording.names import FORMAT_NAME
from devices.types import RRSample

FORMATS = ("auto", "rr-txt", "csv")
#: Fewest RR intervals an import accepts: RMSSD, the HRV figure defined on the fewest, needs 3
#: (two successive differences); fewer is a wrong or empty file, not a recording.
MIN_IMPORT_BEATS = 3
_SECONDS_BELOW = 10.0
#: An RR export of a week of beats is a few MB; larger inputs are refused before reading.
_MAX_INPUT_BYTES = 256 << 20
_RR_COLUMN = re.compile(r"(^|[^a-z])(rr|ibi|nn|interval)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ImportedRR:
    """RR intervals read from one export file."""

    path: Path
    fmt: str
    rr_ms: tuple[float, ...]
    unit: str  # "ms" or "s" as found in the file


def _to_float(text: str, path: Path, lineno: int) -> float:
    try:
        value = float(text.strip().replace(",", ".") if text.count(",") == 1 and "." not in text
                      else text.strip())
    except ValueError as exc:
        raise InputError(f"{path}:{lineno}: {text.strip()[:30]!r} is not a number") from exc
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{path}:{lineno}: RR value {text.strip()!r} is not a positive number")
    return value


def _scale(values: list[float], unit: str | None) -> tuple[tuple[float, ...], str]:
    if unit is None:
        unit = "s" if max(values) < _SECONDS_BELOW else "ms"
    if unit == "s":
        return tuple(v * 1000.0 for v in values), "s"
    return tuple(values), "ms"


def _read_text(path: Path) -> str:
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path} is not a regular file (a pipe or device)")
    if st.st_size > _MAX_INPUT_BYTES:
        raise InputError(f"{path} is {st.st_size / 2**20:.0f} MiB, too large for an RR export")
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path} is a directory") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("latin-1")
        except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes anything
            raise InputError(f"{path} is not a text file") from exc


def _looks_numeric(line: str) -> bool:
    try:
        float(line.strip())
    except ValueError:
        return False
    return True


def read_rr_txt(path: Path, text: str) -> ImportedRR:
    """Read a one-RR-per-line text export."""
    values: list[float] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = stripped.split()
        if len(fields) == 2 and all(_looks_numeric(f) for f in fields):
            stripped = fields[1]  # "time RR" columns
        values.append(_to_float(stripped, path, lineno))
    if not values:
        raise InputError(f"{path} holds no RR values")
    rr, unit = _scale(values, None)
    return ImportedRR(path=path, fmt="rr-txt", rr_ms=rr, unit=unit)


def read_rr_csv(path: Path, text: str, role: str | None = None) -> ImportedRR:
    """Read a delimited export with a header row naming an RR column.

    With a ``role`` column only the rows of ``role`` are read (an error if it has none).
    """
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise InputError(f"{path} holds no RR values")
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    header = [h.strip() for h in rows[0]]
    column = next((i for i, h in enumerate(header) if _RR_COLUMN.search(h)), None)
    if column is None:
        raise InputError(
            f"{path}: no RR column in the header ({', '.join(header)[:80]}); expected a column "
            "named like 'RR', 'RR-interval [ms]' or 'IBI'")
    name = header[column].lower()
    unit: str | None = None
    if re.search(r"[\[(]\s*ms\s*[\])]", name):
        unit = "ms"
    elif re.search(r"[\[(]\s*s(ec)?\s*[\])]", name):
        unit = "s"
    role_col = next((i for i, h in enumerate(header) if h.lower() == "role"), None)
    if role_col is not None:
        present = sorted({row[role_col].strip() for row in rows[1:] if role_col < len(row)})
        if role is None or role not in present:
            raise InputError(f"{path} holds the roles {', '.join(present)}; "
                             f"{role or 'a role'!r} is not one of them")
    values: list[float] = []
    for lineno, row in enumerate(rows[1:], start=2):
        if role_col is not None and (role_col >= len(row) or row[role_col].strip() != role):
            continue
        if column >= len(row) or not row[column].strip():
            raise InputError(f"{path}:{lineno}: the RR column is empty")
        values.append(_to_float(row[column], path, lineno))
    if not values:
        raise InputError(f"{path} holds no RR values")
    rr, unit = _scale(values, unit)
    return ImportedRR(path=path, fmt="csv", rr_ms=rr, unit=unit)


def read_rr_file(path: str | Path, fmt: str = "auto", role: str | None = None) -> ImportedRR:
    """Read RR intervals from an export file.

    Parameters
    ----------
    path
        The export file.
    fmt
        ``"auto"`` (default), ``"rr-txt"`` or ``"csv"``.
    role
        The role to read from a CSV with a ``role`` column (ignored otherwise).

    Raises
    ------
    InputError
        With one line naming the file, the line and the problem.
    """
    p = Path(path)
    if fmt not in FORMATS:
        raise InputError(f"unknown import format {fmt!r} (choose from {', '.join(FORMATS)})")
    text = _read_text(p)
    if _is_coreg_recording(text):
        raise InputError(f"{p} is already a coreg recording — use it directly "
                         f"(coreg analyze/report/replay {p.name}), no import needed")
    return _read_format(p, text, fmt, role)


def _is_coreg_recording(text: str) -> bool:
    """True when ``text`` starts like a coreg recording (a JSON header line)."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "").strip()
    if not first.startswith("{"):
        return False
    try:
        obj = json.loads(first)
    except ValueError:
        return False
    return isinstance(obj, dict) and (obj.get("type") == "header"
                                      or obj.get("format") == FORMAT_NAME)


def _read_format(p: Path, text: str, fmt: str, role: str | None) -> ImportedRR:
    if fmt == "auto":
        first = next((ln for ln in text.splitlines()
                      if ln.strip() and not ln.lstrip().startswith("#")), "")
        fields = first.split()
        fmt = ("rr-txt" if 1 <= len(fields) <= 2 and all(_looks_numeric(f) for f in fields)
               else "csv")
    return read_rr_txt(p, text) if fmt == "rr-txt" else read_rr_csv(p, text, role)


def rr_samples(role: str, rr_ms: tuple[float, ...], t0_s: float = 0.0) -> list[RRSample]:
    """One sample per beat, each arriving at the end of its interval, beats end to end."""
    out: list[RRSample] = []
    t_s = t0_s
    for rr in rr_ms:
        t_s += rr / 1000.0
        out.append(RRSample(source_id=role, arrival_s=t_s, rr_ms=(rr,),
                            hr_bpm=min(65535, round(60000.0 / rr)), contact=None, payload=b""))
    return out


def import_recording(
    files: Mapping[str, str | Path],
    output: str | Path,
    fmt: str = "auto",
    *,
    force: bool = False,
    header_extra: Mapping[str, object] | None = None,
) -> JSONObject:
    """Import RR export files (role → file) into one recording at ``output``.

    Every file is read and checked before anything is written; the output appears only when
    complete; it is never written over a recording or an input file, over another existing
    file only with ``force`` (:func:`coreg.recording.output.check_output`). ``header_extra``
    adds top-level header fields (the client's name). Returns the header that was written.
    """
    from coreg.recording.output import check_output

    inputs = list(files.values())
    check_output(output, force=force, inputs=inputs)
    imported = {role: read_rr_file(path, fmt, role) for role, path in files.items()}
    for imp in imported.values():
        if len(imp.rr_ms) < MIN_IMPORT_BEATS:
            n = len(imp.rr_ms)
            raise InputError(f"{imp.path} holds only {n} RR interval{'s' if n != 1 else ''}: "
                             f"an import needs at least {MIN_IMPORT_BEATS} (the fewest any HRV "
                             "figure, RMSSD, is defined on)")
    roles = {role: {"name": imp.path.name, "model": f"imported {imp.fmt}",
                    "address": "", "simulated": False}
             for role, imp in imported.items()}
    header = new_header(
        "import", roles,
        imported={role: {"file": imp.path.name, "format": imp.fmt, "unit": imp.unit,
                         "beats": len(imp.rr_ms)} for role, imp in imported.items()},
    )
    header.update(header_extra or {})  # top-level fields, last (as new_header's own extras)
    samples = [s for role, imp in imported.items() for s in rr_samples(role, imp.rr_ms)]
    samples.sort(key=lambda s: s.arrival_s)
    with AtomicRecording(output, header, force=force, inputs=inputs) as writer:
        for s in samples:
            writer.write_sample(s)
        writer.close("imported", t_s=samples[-1].arrival_s if samples else 0.0)
    return header


def imported_block(header: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """Role → what was imported for it: the ``imported`` block of an import's header
    (:func:`import_recording`, :func:`coreg.recording.xdf.import_xdf`); empty without one."""
    block = header.get("imported")
    if not isinstance(block, dict):
        return {}
    return {str(role): dict(info) for role, info in block.items() if isinstance(info, dict)}
