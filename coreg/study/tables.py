"""The study's output: Parquet and CSV tables and the ``study.json`` manifest, owner-only.

Tables (one Parquet file and one CSV file each, same columns; units in the column names):

``sessions``
    One row per input file, sorted by path: status (``ok``, ``damaged``, ``no data``,
    ``duplicate``) and the reason, facts (mode, duration, roles, simulated scenario and true
    coupling, therapist and client identities and where they came from, the seed), the
    whole-session synchrony (``sync_*``; breathing band ``breathing_*``) and the pseudo-dyad
    control (``pseudo_*``).
``hrv``
    One row per session and role: the numbers of ``coreg analyze`` (beats, artifacts, gaps,
    no-contact beats, MeanNN, SDNN, RMSSD, pNN50, mean HR, VLF/LF/HF, LF/HF, peaks, coherence).
``windows``
    The windowed synchrony series of every two-person session: per band and 30 s window its start
    on the session clock, peak r and lag (positive: the second role follows the first).
``pseudo``
    One row per real dyad and pseudo-dyad: which session's client met which session's therapist,
    the windows and span they overlap on, and the mean peak r.

Everything is written to hidden temporary files in the output folder (mode 0600, the folder
0700) and moved into place when complete, so a failed run leaves no half-written table.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from coreg.errors import InputError

if TYPE_CHECKING:  # pyarrow ships no type information: mypy sees these names untyped
    import pyarrow as pa

FILE_MODE = 0o600
DIR_MODE = 0o700
MANIFEST = "study.json"
TABLES = ("sessions", "hrv", "windows", "pseudo")

_STR, _F64, _I64, _BOOL = "string", "float64", "int64", "bool"

_HRV_FLOATS = ("mean_nn_ms", "sdnn_ms", "rmssd_ms", "pnn50_pct", "mean_hr_bpm", "vlf_ms2",
               "lf_ms2", "hf_ms2", "lf_hf", "lf_peak_hz", "hf_peak_hz", "coherence_mean")

#: Column name → type, per table (the order is the column order).
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "sessions": (
        ("session_id", _STR), ("file", _STR), ("sha256", _STR), ("size_bytes", _I64),
        ("status", _STR), ("problem", _STR), ("duplicate_of", _STR), ("mode", _STR),
        ("created", _STR), ("duration_s", _F64), ("roles", _STR), ("complete", _BOOL),
        ("reader_notes", _STR), ("simulated", _BOOL), ("scenario", _STR),
        ("sim_coupling", _F64), ("therapist_id", _STR), ("therapist_id_source", _STR),
        ("client_id", _STR), ("client_id_source", _STR), ("seed", _I64),
        ("sync_first_role", _STR), ("sync_second_role", _STR),
        ("sync_mean_peak_r", _F64), ("sync_chance_mean_peak_r", _F64),
        ("sync_effect_size", _F64), ("sync_p_value", _F64), ("sync_significant", _BOOL),
        ("sync_lag_s", _F64), ("sync_leader", _STR), ("sync_pct_windows_above_chance", _F64),
        ("sync_windows", _I64), ("sync_chance_r95_window", _F64), ("sync_lag_ci95_lo_s", _F64),
        ("sync_lag_ci95_hi_s", _F64), ("sync_circular_shift_n", _I64),
        ("sync_segment_shuffle_effect_size", _F64), ("sync_segment_shuffle_p_value", _F64),
        ("breathing_mean_peak_r", _F64), ("breathing_effect_size", _F64),
        ("breathing_p_value", _F64), ("breathing_windows", _I64),
        ("pseudo_n", _I64), ("pseudo_mean_peak_r", _F64), ("pseudo_sd", _F64),
        ("pseudo_percentile", _F64), ("pseudo_difference", _F64), ("pseudo_z", _F64),
    ),
    "hrv": (
        ("session_id", _STR), ("file", _STR), ("role", _STR), ("person_id", _STR),
        ("beats", _I64), ("artifacts", _I64), ("artifacts_pct", _F64), ("gaps", _I64),
        ("no_contact_beats", _I64), *((k, _F64) for k in _HRV_FLOATS),
        ("spectral_data_s", _F64), ("coherence_windows", _I64),
    ),
    "windows": (
        ("session_id", _STR), ("band", _STR), ("window_t_s", _F64), ("peak_r", _F64),
        ("peak_lag_s", _F64),
    ),
    "pseudo": (
        ("dyad_id", _STR), ("client_session", _STR), ("therapist_session", _STR),
        ("pseudo_with", _STR), ("windows", _I64), ("span_s", _F64), ("mean_peak_r", _F64),
    ),
}


def schema(table: str) -> pa.Schema:
    """The pyarrow schema of a table."""
    import pyarrow as pa

    types = {_STR: pa.string(), _F64: pa.float64(), _I64: pa.int64(), _BOOL: pa.bool_()}
    return pa.schema([(name, types[kind]) for name, kind in COLUMNS[table]])


def prepare_folder(out: Path, *, force: bool) -> None:
    """Create the output folder owner-only; refuse a non-empty one unless ``force``.

    With ``force`` only the study's own files (the tables and ``study.json``) are replaced;
    nothing else in the folder is touched.
    """
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise InputError(f"{out} exists and is not a folder")
        if any(out.iterdir()) and not force:
            raise InputError(f"{out} is not empty: choose a new folder, or --force to replace "
                             "the study files in it")
    else:
        try:
            out.mkdir(mode=DIR_MODE, parents=True)
        except FileNotFoundError as exc:
            raise InputError(f"{out.parent}: no such folder") from exc
    os.chmod(out, DIR_MODE)


def _private_temp(final: Path) -> tuple[Path, BinaryIO]:
    """A fresh, unpredictable, owner-only temporary file for ``final`` (removed on signals)."""
    from coreg.recording.output import create_temp

    fd, tmp = create_temp(final)
    return tmp, os.fdopen(fd, "wb")


class TableWriter:
    """Streams rows of one table to its Parquet and CSV files (row groups as rows come).

    Parameters
    ----------
    out
        Output folder (made by :func:`prepare_folder`).
    table
        A key of :data:`COLUMNS`.
    csv
        Also write the CSV file.
    batch_rows
        Rows buffered before a row group is written.
    """

    def __init__(self, out: Path, table: str, *, csv: bool = True, batch_rows: int = 50_000
                 ) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        self.out = out
        self.table = table
        self.schema = schema(table)
        self.batch_rows = batch_rows
        self.rows = 0
        self._buffer: list[dict[str, object]] = []
        self._tables: list[pa.Table] = []
        self._pending = 0
        self._finals = [out / f"{table}.parquet"] + ([out / f"{table}.csv"] if csv else [])
        self._temps: list[Path] = []
        self._files: list[BinaryIO] = []
        for final in self._finals:
            tmp, fh = _private_temp(final)
            self._temps.append(tmp)
            self._files.append(fh)
        self._parquet = pq.ParquetWriter(self._files[0], self.schema, compression="zstd")
        self._csv = pacsv.CSVWriter(self._files[1], self.schema) if csv else None

    def write(self, row: Mapping[str, object]) -> None:
        """Buffer one row (missing columns are null)."""
        self._buffer.append(dict(row))
        self._pending += 1
        if self._pending >= self.batch_rows:
            self.flush()

    def write_columns(self, columns: Mapping[str, object]) -> None:
        """Buffer rows given column-wise (arrays of equal length; NaN floats become null).

        The fast path for long series: no Python object per row.
        """
        import numpy as np
        import pyarrow as pa

        self._rows_to_table()
        arrays = []
        n = None
        for field in self.schema:
            v = columns[field.name]
            if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                arrays.append(pa.array(v, type=field.type, mask=~np.isfinite(v)))
            else:
                arrays.append(pa.array(v, type=field.type))
            n = len(arrays[-1]) if n is None else n
        self._tables.append(pa.Table.from_arrays(arrays, schema=self.schema))
        self._pending += n or 0
        if self._pending >= self.batch_rows:
            self.flush()

    def _rows_to_table(self) -> None:
        import pyarrow as pa

        if self._buffer:
            self._tables.append(pa.Table.from_pylist(self._buffer, schema=self.schema))
            self._buffer = []

    def write_many(self, rows: Sequence[Mapping[str, object]]) -> None:
        """Buffer several rows."""
        for r in rows:
            self.write(r)

    def flush(self) -> None:
        """Write the buffered rows as one row group."""
        import pyarrow as pa

        self._rows_to_table()
        if not self._tables:
            return
        t = pa.concat_tables(self._tables).combine_chunks()
        self._parquet.write_table(t)
        if self._csv is not None:
            self._csv.write_table(t)
        self.rows += t.num_rows
        self._tables = []
        self._pending = 0

    def close(self) -> None:
        """Flush, close and move the files into place."""
        self.flush()
        self._parquet.close()
        if self._csv is not None:
            self._csv.close()
        for f in self._files:
            f.close()
        from coreg.recording.output import commit

        for tmp, final in zip(self._temps, self._finals, strict=True):
            commit(tmp, final)
        if len(self._finals) == 1:  # no CSV this time: an old one would not match
            with contextlib.suppress(FileNotFoundError):
                (self.out / f"{self.table}.csv").unlink()

    def abandon(self) -> None:
        """Close and delete the temporary files (after an error)."""
        for closer in (self._parquet.close, *(f.close for f in self._files)):
            with contextlib.suppress(Exception):
                closer()
        if self._csv is not None:
            with contextlib.suppress(Exception):
                self._csv.close()
        from coreg.recording.output import discard

        for tmp in self._temps:
            discard(tmp)


def write_json(out: Path, name: str, obj: Mapping[str, object]) -> Path:
    """Write a JSON file owner-only and atomically (NaN written as null)."""
    from coreg.recording.output import write_private

    text = json.dumps(_clean(obj), indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    return write_private(out / name, text)


def _clean(obj: object) -> object:
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, Mapping):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def read_table(out: Path, table: str) -> pa.Table:
    """Read one table of a study folder back (a ``pyarrow.Table``)."""
    import pyarrow.parquet as pq

    path = out / f"{table}.parquet"
    if not path.is_file():
        raise InputError(f"{out} is not a coreg study folder (no {path.name})")
    return pq.read_table(path)


def read_manifest(out: Path) -> dict[str, object]:
    """Read ``study.json`` of a study folder."""
    path = out / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{out} is not a coreg study folder (no {MANIFEST})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path} is damaged (not JSON)") from exc
    if not isinstance(data, dict) or data.get("format") != "coreg-study":
        raise InputError(f"{path} is not a coreg study manifest")
    return data
