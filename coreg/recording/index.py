"""The client and session database: SQLite next to the recordings, rebuilt from them at will.

``coreg.db`` in the recordings folder (stdlib :mod:`sqlite3`, write-ahead log, busy timeout)
holds

* **clients** — a pseudonym (unique, case-insensitive), optional notes, the chosen resonance
  rate (breaths/min) with its confidence, when and where it was found;
* **sessions** — one row per ``*.jsonl`` recording: file name, size, modification time and a
  SHA-256 of its header line (the index key), client, therapist, mode, start, duration, status
  and the key figures as JSON;
* **markers** — every marker of every session with its note.

The recordings stay the source of truth. :meth:`SessionIndex.sync` compares the folder with
the table: a file whose size, modification time or header changed — or that is new, for
example copied in by hand from a client's home practice — is read and its figures recomputed;
a row whose file is gone is dropped. Deleting ``coreg.db`` and syncing again rebuilds the same
history. Only what no recording holds lives in the database alone: client notes, a client
with no session yet, and a rate set or migrated without an assessment recording.

Figures (per role; the numbers of ``coreg analyze``): beats, mean HR (bpm), RMSSD (ms),
artifacts (%) and mean coherence (64 s windows every 5 s) of the artifact-corrected NN
intervals (:func:`coreg.engine.summary.summarize_person`; Lipponen & Tarvainen 2019,
doi:10.1080/03091902.2019.1640306; Task Force 1996, doi:10.1161/01.CIR.93.5.1043; coherence
after McCraty et al. 2009); for two people the whole-session synchrony against circular-shift
surrogates — effect size, mean peak r, p, and *time in sync*, the percentage of 30 s windows
whose peak r exceeds the surrogates' 95th percentile (:func:`coreg.engine.synchrony.
session_analyses`; Boker et al. 2002, doi:10.1037/1082-989X.7.3.338; Moulder et al. 2018,
doi:10.1037/met0000172); for breathing sessions the pacer rate and, for an assessment, the
rate the live assessment chose, recomputed by replaying the recording through
:class:`coreg.engine.resonance.BreatheRun` (Lehrer, Vaschillo & Vaschillo 2000,
doi:10.1023/A:1009554825745).

Privacy: the database and its ``-wal``/``-shm`` files are created owner-only (0600; SQLite
gives its journal files the mode of the database file). The schema is versioned with
``PRAGMA user_version`` and migrated step by step (:data:`MIGRATIONS`). ``clients.json``, the
per-client rate file of earlier versions, is imported once and renamed
``clients.json.migrated``.

Why one module of this size: the schema, its migrations, the incremental sync and the queries
are one database contract; keeping them together keeps every version of the schema next to the
code that reads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, Required, TypedDict

from coreg.errors import CoregError, RecordingError

if TYPE_CHECKING:
    from coreg.recording.reader import Recording, RecordingHeader

logger = logging.getLogger(__name__)

DB_NAME = "coreg.db"
LEGACY_CLIENTS_FILE = "clients.json"
#: The per-folder JSON index of earlier versions (removed on first sync).
LEGACY_INDEX_FILE = ".coreg-index.json"
FILE_MODE = 0o600

Progress = Callable[[str], None]


class RoleFigures(TypedDict):
    """One role's figures in a session entry (None: not computable)."""

    beats: int
    mean_hr_bpm: float | None
    rmssd_ms: float | None
    artifacts_pct: float | None
    coherence: float | None


class SyncFigures(TypedDict):
    """A dyad's whole-session synchrony against its surrogates, in a session entry."""

    roles: list[str]
    effect_size: float | None
    mean_peak_r: float | None
    p_value: float | None
    significant: bool
    time_in_sync_pct: float | None
    leader: str | None


class AssessmentFigures(TypedDict):
    """The rate an assessment chose (breaths/min) and its confidence."""

    chosen_rate_bpm: float | None
    confidence: str


class MarkerEntry(TypedDict):
    """One marker: seconds since the session start, its note and role (None: both)."""

    t_s: float
    note: str
    role: str | None


class SessionEntry(TypedDict, total=False):
    """One recording's entry: its facts and key figures, stored as JSON in ``sessions``.

    A damaged file has only ``file``, ``status`` (``"damaged"``), ``error`` and empty facts.
    ``marker_list`` is moved to the ``markers`` table when stored; ``mtime`` (seconds) is
    added when listed.
    """

    file: Required[str]
    status: Required[str]
    created: str
    mode: str
    duration_s: float
    roles: dict[str, RoleFigures]
    client: str | None
    therapist: str
    simulated: bool
    markers: int
    marker_list: list[MarkerEntry]
    notes: list[str]
    synchrony: SyncFigures
    kind: str
    assessment: AssessmentFigures
    resonance_rate_bpm: float | None
    error: str
    mtime: NotRequired[float]


Figures = Callable[[Path], SessionEntry]

#: Schema migrations: ``MIGRATIONS[k]`` takes the schema from version ``k`` to ``k + 1``.
MIGRATIONS: tuple[str, ...] = (
    # version 1: clients and sessions keyed by file, size and mtime.
    """
    CREATE TABLE clients (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        notes TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL
    );
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        file TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        client_id INTEGER REFERENCES clients(id) ON DELETE SET NULL,
        mode TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL DEFAULT '',
        duration_s REAL,
        status TEXT NOT NULL,
        figures TEXT NOT NULL
    );
    CREATE INDEX sessions_client ON sessions(client_id, created);
    """,
    # version 2: a header hash in the key, therapist, markers, the chosen resonance rate.
    """
    ALTER TABLE sessions ADD COLUMN header_sha256 TEXT NOT NULL DEFAULT '';
    ALTER TABLE sessions ADD COLUMN therapist TEXT NOT NULL DEFAULT '';
    ALTER TABLE clients ADD COLUMN rate_bpm REAL;
    ALTER TABLE clients ADD COLUMN rate_confidence TEXT NOT NULL DEFAULT '';
    ALTER TABLE clients ADD COLUMN rate_assessed TEXT NOT NULL DEFAULT '';
    ALTER TABLE clients ADD COLUMN rate_source TEXT NOT NULL DEFAULT '';
    CREATE TABLE markers (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t_s REAL NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        role TEXT
    );
    CREATE INDEX markers_session ON markers(session_id);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True, slots=True)
class Client:
    """One client: a pseudonym, notes, the chosen resonance rate (breaths/min) if any."""

    id: int
    name: str
    notes: str = ""
    created: str = ""
    rate_bpm: float | None = None
    rate_confidence: str = ""
    rate_assessed: str = ""
    rate_source: str = ""
    sessions: int = 0
    last_session: str = ""


def _now_text() -> str:
    """Now, local time with its offset, as recording headers write ``created``."""
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def _clean(x: object, digits: int = 3) -> float | None:
    if x is None or isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return round(float(x), digits)


def check_client_name(name: str) -> str:
    """A client pseudonym stripped of surrounding space; refuses an empty or over-long one.

    Raises
    ------
    RecordingError
        Empty, longer than 80 characters, or with a control character.
    """
    text = name.strip()
    if not text:
        raise RecordingError("a client needs a name (use a pseudonym, not a real name)")
    if len(text) > 80 or any(ord(c) < 32 for c in text):
        raise RecordingError(f"{name!r} is not usable as a client name (at most 80 "
                             "printable characters)")
    return text


def _person_name(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        for key in ("name", "id"):
            v = value.get(key)
            if isinstance(v, str) and v.strip():
                return v.strip()
    return ""


def recording_person(header: RecordingHeader | Mapping[str, object], role: str) -> str | None:
    """Who ``role`` (``"client"``, ``"therapist"``) of a recording is, from its header.

    The top-level ``client`` / ``therapist`` object (``{"name": NAME}``, written since this
    version by ``--client-name`` / ``--therapist-name``; a plain string is read too), else
    ``settings.<role>_name`` (where older breathing recordings kept the client; ``coreg
    breathe``'s default client is called ``client``). Matches the first two sources of
    :func:`coreg.study.identity.identity`.
    """
    name = _person_name(header.get(role))
    if name:
        return name
    settings = header.get("settings")
    name = _person_name(settings.get(f"{role}_name")) if isinstance(settings, dict) else ""
    return name or None


def recording_client(header: RecordingHeader | Mapping[str, object]) -> str | None:
    """The client of a recording (see :func:`recording_person`)."""
    return recording_person(header, "client")


def person_header(client_name: str | None, therapist_name: str | None = None
                  ) -> dict[str, dict[str, str]]:
    """Header fields naming the client and the therapist (pseudonyms), for ``new_header``."""
    out: dict[str, dict[str, str]] = {}
    if client_name:
        out["client"] = {"name": check_client_name(client_name)}
    if therapist_name:
        out["therapist"] = {"name": check_client_name(therapist_name)}
    return out


# --- figures ------------------------------------------------------------------------------------
def _pacer_rate(rec: Recording) -> float | None:
    """The pacer rate of a practice session (the one paced longest), breaths/min."""
    spans: dict[float, float] = {}
    for i, p in enumerate(rec.pacer):
        end = rec.pacer[i + 1].t_s if i + 1 < len(rec.pacer) else rec.duration_s
        if p.rate_bpm:
            spans[float(p.rate_bpm)] = spans.get(float(p.rate_bpm), 0.0) + max(end - p.t_s, 0.0)
    return max(spans, key=lambda r: spans[r]) if spans else None


def _assessment(rec: Recording, role: str) -> AssessmentFigures | None:
    """The live assessment's chosen rate, recomputed by replaying the recording."""
    from coreg.engine.pacer import PacerStep
    from coreg.engine.resonance import BreatheRun
    from coreg.recording.replay import replay_messages

    schedule = tuple(PacerStep(p.t_s, p.rate_bpm or None, inhale_ratio=p.inhale_ratio,
                               pause_in_s=p.pause_in_s, pause_out_s=p.pause_out_s,
                               label=p.label) for p in rec.pacer)
    if sum(1 for s in schedule if s.rate_bpm) < 2:
        return None
    settings = rec.header.get("settings") or {}
    settle = settings.get("settle_s")
    run = BreatheRun(schedule=schedule, role=role, assess=True,
                     settle_s=float(settle) if isinstance(settle, int | float) else 25.0)
    for msg in replay_messages(rec):
        run.feed(msg)
    run.advance(rec.duration_s)
    result = run.assessment()
    if result.chosen_rate_bpm is None:
        return None
    return {"chosen_rate_bpm": _clean(result.chosen_rate_bpm, 2),
            "confidence": result.confidence}


def session_figures(path: Path) -> SessionEntry:
    """Read one recording and compute its entry: facts and key figures.

    Raises
    ------
    CoregError
        The file is not a readable recording.
    """
    from coreg.engine.summary import summarize_person
    from coreg.recording.reader import read_recording

    rec = read_recording(path)
    header = rec.header
    roles: dict[str, RoleFigures] = {}
    entry: SessionEntry = {
        "file": path.name, "status": "ok" if rec.complete else "incomplete",
        "created": str(header.get("created", "")), "mode": rec.mode,
        "duration_s": round(rec.duration_s, 1), "roles": roles,
        "client": recording_client(header),
        "therapist": recording_person(header, "therapist") or "",
        "simulated": rec.simulation is not None, "markers": len(rec.markers),
        "marker_list": [{"t_s": round(m.t_s, 3), "note": m.note, "role": m.role}
                        for m in rec.markers],
        "notes": list(rec.skipped),
    }
    nn = {}
    for role in rec.roles:
        samples = rec.samples_for(role)
        if not samples:
            roles[role] = {"beats": 0, "mean_hr_bpm": None, "rmssd_ms": None,
                                    "artifacts_pct": None, "coherence": None}
            continue
        summary, corrected = summarize_person(samples, rec.events_for(role))
        roles[role] = {
            "beats": summary["beats"],
            "mean_hr_bpm": _clean(summary["hrv"]["mean_hr_bpm"], 1),
            "rmssd_ms": _clean(summary["hrv"]["rmssd_ms"], 1),
            "artifacts_pct": _clean(summary["artifacts"]["percent"], 2),
            "coherence": _clean(summary["hrv"].get("coherence_mean"), 2),
        }
        if len(corrected.t_s) >= 2:
            nn[role] = corrected.series()
    if len(nn) >= 2:
        from coreg.engine import synchrony as sy

        pair, slow, _ = sy.session_analyses(nn, breathing=False)
        s = sy.summary(slow, pair, sy.SyncSettings().alpha)
        entry["synchrony"] = {"roles": list(pair), "effect_size": _clean(s.effect_size, 2),
                              "mean_peak_r": _clean(s.mean_peak_r, 3),
                              "p_value": _clean(s.p_value, 4),
                              "significant": bool(s.significant),
                              "time_in_sync_pct": _clean(s.pct_windows_above_chance, 1),
                              "leader": s.leader}
    if rec.mode == "breathe" and rec.pacer:
        settings = header.get("settings") or {}
        role = "client" if "client" in rec.roles else (rec.roles or ["client"])[0]
        if settings.get("assess"):
            entry["kind"] = "assessment"
            try:
                found = _assessment(rec, role)
            except (ValueError, ArithmeticError) as exc:
                logger.info("replayed assessment of %s failed: %s", path.name, exc)
                found = None
            if found is not None:
                entry["assessment"] = found
                entry["resonance_rate_bpm"] = found["chosen_rate_bpm"]
        else:
            entry["kind"] = "practice"
            entry["resonance_rate_bpm"] = _clean(_pacer_rate(rec), 2)
    else:
        entry["kind"] = rec.mode
    return entry


def damaged_entry(path: Path, exc: BaseException) -> SessionEntry:
    """The entry of a file that cannot be read: status ``damaged`` and the reason."""
    error = (str(exc) if isinstance(exc, CoregError)
             else f"{path.name}: {type(exc).__name__}: {exc}")
    return {"file": path.name, "status": "damaged", "error": error, "client": None,
            "mode": "", "created": "", "duration_s": 0.0, "roles": {}}


def compute_entry(path: Path, figures: Figures | None = None) -> SessionEntry:
    """``figures(path)`` (default :func:`session_figures`), or the damaged entry when the file
    cannot be read."""
    try:
        entry = (figures or session_figures)(path)
        json.dumps(entry, allow_nan=False)  # what the database stores must be plain JSON
        return entry
    except (CoregError, OSError, ValueError, TypeError, ArithmeticError) as exc:
        return damaged_entry(path, exc)


def header_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's first line (at most 1 MiB): part of the index key."""
    with path.open("rb") as fh:
        return hashlib.sha256(fh.readline(1 << 20)).hexdigest()


def recording_files(folder: Path) -> list[os.DirEntry[str]]:
    """The ``*.jsonl`` entries of ``folder`` (hidden and partial files left out), by name."""
    with os.scandir(folder) as it:
        found = [e for e in it if e.name.endswith(".jsonl") and not e.name.startswith(".")]
    return sorted(found, key=lambda e: e.name)


# --- the database -------------------------------------------------------------------------------
def _touch_private(path: Path) -> None:
    """Create ``path`` owner-only if missing; make an existing one owner-only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0), FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema of ``conn`` to version ``target``; return the version found.

    Raises
    ------
    RecordingError
        The database is newer than this coreg.
    """
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise RecordingError(f"the database uses schema version {found}; this coreg knows up "
                             f"to {SCHEMA_VERSION} — update coreg")
    for version in range(found, target):
        conn.executescript("BEGIN;" + MIGRATIONS[version]
                           + f"PRAGMA user_version = {version + 1}; COMMIT;")
        logger.info("database schema migrated to version %d", version + 1)
    return found


class SessionIndex:
    """The database of one recordings folder (use as a context manager, or call close).

    Parameters
    ----------
    folder
        The recordings folder (created owner-only when missing).
    figures
        Computes a recording's entry (default :func:`session_figures`); tests may count calls.
    """

    def __init__(self, folder: str | os.PathLike[str], *,
                 figures: Figures | None = None) -> None:
        self.folder = Path(folder)
        if not self.folder.exists():
            self.folder.mkdir(parents=True, mode=0o700)
        self.path = self.folder / DB_NAME
        self.figures = figures
        try:
            _touch_private(self.path)
            for suffix in ("-wal", "-shm"):
                side = self.path.with_name(self.path.name + suffix)
                if side.exists():
                    os.chmod(side, FILE_MODE)
            self.conn = sqlite3.connect(self.path, timeout=10.0)
        except (OSError, sqlite3.Error) as exc:
            raise RecordingError(f"cannot open the database {self.path}: {exc}") from exc
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.schema_found = migrate(self.conn)
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise RecordingError(f"{self.path} is not a usable coreg database ({exc}); "
                                 "delete it and it is rebuilt from the recordings") from exc
        except RecordingError:
            self.conn.close()
            raise
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            with contextlib.suppress(OSError):
                os.chmod(side, FILE_MODE)
        self._migrate_clients_json()

    # -- lifetime --------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> SessionIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- clients ---------------------------------------------------------------------------------
    def _migrate_clients_json(self) -> None:
        legacy = self.folder / LEGACY_CLIENTS_FILE
        if not legacy.is_file():
            return
        try:
            data = json.loads(legacy.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logger.warning("%s could not be read (%s); left as it is", legacy, exc)
            return
        if isinstance(data, dict):
            for name, entry in data.items():
                if not isinstance(name, str) or not name.strip():
                    continue
                cid = self.ensure_client(name)
                if isinstance(entry, dict) and isinstance(entry.get("rate_bpm"), int | float):
                    self._set_rate(cid, float(entry["rate_bpm"]),
                                   str(entry.get("confidence", "")),
                                   str(entry.get("assessed", "")), LEGACY_CLIENTS_FILE)
        done = legacy.with_name(LEGACY_CLIENTS_FILE + ".migrated")
        with contextlib.suppress(OSError):
            os.replace(legacy, done)
        logger.info("imported %s into %s", legacy, self.path)

    def _client_id(self, name: str) -> int | None:
        row = self.conn.execute("SELECT id FROM clients WHERE name = ?", (name.strip(),)
                                ).fetchone()
        return int(row["id"]) if row else None

    def ensure_client(self, name: str, notes: str = "") -> int:
        """The id of the client ``name`` (case-insensitive), created when new."""
        text = check_client_name(name)
        cid = self._client_id(text)
        if cid is not None:
            return cid
        with self.conn:
            cur = self.conn.execute("INSERT INTO clients(name, notes, created) VALUES (?, ?, ?)",
                                    (text, notes, _now_text()))
        return int(cur.lastrowid or 0)

    def add_client(self, name: str, notes: str = "") -> Client:
        """Create a client (a pseudonym, not a real name); refuses a name already taken."""
        text = check_client_name(name)
        if self._client_id(text) is not None:
            raise RecordingError(f"a client called {text!r} already exists")
        self.ensure_client(text, notes)
        found = self.client(text)
        assert found is not None
        return found

    def set_notes(self, name: str, notes: str) -> None:
        """Replace a client's notes."""
        with self.conn:
            self.conn.execute("UPDATE clients SET notes = ? WHERE name = ?", (notes, name))

    def rename_client(self, old: str, new: str) -> None:
        """Rename a client in the database (recordings keep the name they were made with)."""
        text = check_client_name(new)
        other = self._client_id(text)
        if other is not None and other != self._client_id(old):
            raise RecordingError(f"a client called {text!r} already exists")
        with self.conn:
            self.conn.execute("UPDATE clients SET name = ? WHERE name = ?", (text, old))

    def _set_rate(self, cid: int, rate_bpm: float, confidence: str, assessed: str,
                  source: str) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE clients SET rate_bpm = ?, rate_confidence = ?, rate_assessed = ?, "
                "rate_source = ? WHERE id = ?", (rate_bpm, confidence, assessed, source, cid))

    def save_rate(self, name: str, rate_bpm: float, confidence: str,
                  source: str = "") -> None:
        """Store ``rate_bpm`` (breaths/min) as the client's chosen resonance rate."""
        self._set_rate(self.ensure_client(name), float(rate_bpm), confidence, _now_text(),
                       source)

    def client_rate(self, name: str) -> float | None:
        """The client's chosen resonance rate in breaths/min, if any."""
        row = self.conn.execute("SELECT rate_bpm FROM clients WHERE name = ?", (name.strip(),)
                                ).fetchone()
        return float(row["rate_bpm"]) if row and row["rate_bpm"] is not None else None

    def clients(self, search: str = "") -> list[Client]:
        """Every client whose name or notes contain ``search`` (case-insensitive), by name."""
        like = f"%{search.strip()}%"
        rows = self.conn.execute(
            "SELECT c.*, COUNT(s.id) AS n, COALESCE(MAX(s.created), '') AS last "
            "FROM clients c LEFT JOIN sessions s ON s.client_id = c.id "
            "WHERE c.name LIKE ? OR c.notes LIKE ? GROUP BY c.id ORDER BY c.name COLLATE NOCASE",
            (like, like)).fetchall()
        return [self._client(r) for r in rows]

    def client(self, name: str) -> Client | None:
        """The client called ``name`` (case-insensitive), or None."""
        row = self.conn.execute(
            "SELECT c.*, COUNT(s.id) AS n, COALESCE(MAX(s.created), '') AS last "
            "FROM clients c LEFT JOIN sessions s ON s.client_id = c.id "
            "WHERE c.name = ? GROUP BY c.id", (name.strip(),)).fetchone()
        return self._client(row) if row else None

    @staticmethod
    def _client(r: sqlite3.Row) -> Client:
        return Client(id=int(r["id"]), name=str(r["name"]), notes=str(r["notes"]),
                      created=str(r["created"]),
                      rate_bpm=float(r["rate_bpm"]) if r["rate_bpm"] is not None else None,
                      rate_confidence=str(r["rate_confidence"]),
                      rate_assessed=str(r["rate_assessed"]), rate_source=str(r["rate_source"]),
                      sessions=int(r["n"]), last_session=str(r["last"]))

    # -- sessions --------------------------------------------------------------------------------
    def sync(self, progress: Progress = lambda _: None) -> int:
        """Bring the sessions table in line with the folder; return how many files were read.

        A file is (re)read when it is new or its size, modification time or header changed;
        rows of files that are gone are dropped. Each file's row is committed as soon as it is
        stored (its figures are computed outside any transaction), so an interrupted sync keeps
        its work and other processes wait for the write lock only briefly.
        """
        known = {str(r["file"]): (int(r["size"]), int(r["mtime_ns"]), str(r["header_sha256"]))
                 for r in self.conn.execute(
                     "SELECT file, size, mtime_ns, header_sha256 FROM sessions")}
        files = recording_files(self.folder)
        seen: set[str] = set()
        todo: list[tuple[os.DirEntry[str], int, int, str]] = []
        for entry in files:
            seen.add(entry.name)
            try:
                st = entry.stat()
                digest = header_sha256(Path(entry.path)) if entry.is_file() else ""
            except OSError:
                st, digest = None, ""
            size = st.st_size if st else -1
            mtime_ns = st.st_mtime_ns if st else -1
            if known.get(entry.name) != (size, mtime_ns, digest):
                todo.append((entry, size, mtime_ns, digest))
        gone = [name for name in known if name not in seen]
        if gone:
            with self.conn:
                self.conn.executemany("DELETE FROM sessions WHERE file = ?",
                                      [(n,) for n in gone])
        for i, (entry, size, mtime_ns, digest) in enumerate(todo):
            progress(f"{i + 1}/{len(todo)} {entry.name}")
            e = compute_entry(Path(entry.path), self.figures)
            with self.conn:
                self._store(entry.name, size, mtime_ns, digest, e)
        legacy = self.folder / LEGACY_INDEX_FILE
        if legacy.exists():
            with contextlib.suppress(OSError):
                legacy.unlink()
        return len(todo)

    def _store(self, file: str, size: int, mtime_ns: int, digest: str,
               entry: SessionEntry) -> None:
        """Insert or replace one session row and its markers (inside the open transaction)."""
        name = entry.get("client")
        cid = None
        if isinstance(name, str) and name.strip():
            try:
                cid = self._ensure_client_nocommit(name)
            except RecordingError:
                cid = None
        markers = entry.pop("marker_list", [])
        self.conn.execute("DELETE FROM sessions WHERE file = ?", (file,))
        cur = self.conn.execute(
            "INSERT INTO sessions(file, size, mtime_ns, header_sha256, client_id, therapist, "
            "mode, created, duration_s, status, figures) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (file, size, mtime_ns, digest, cid, str(entry.get("therapist") or ""),
             str(entry.get("mode") or ""), str(entry.get("created") or ""),
             entry.get("duration_s"), str(entry["status"]),
             json.dumps(entry, allow_nan=False, separators=(",", ":"))))
        sid = cur.lastrowid
        self.conn.executemany(
            "INSERT INTO markers(session_id, t_s, note, role) VALUES (?, ?, ?, ?)",
            [(sid, m["t_s"], m["note"], m["role"]) for m in markers])
        found = entry.get("assessment")
        if cid is not None and isinstance(found, dict) and found.get("chosen_rate_bpm"):
            row = self.conn.execute("SELECT rate_assessed FROM clients WHERE id = ?", (cid,)
                                    ).fetchone()
            when = str(entry.get("created") or "")
            if row is None or when >= str(row["rate_assessed"] or ""):
                self.conn.execute(
                    "UPDATE clients SET rate_bpm = ?, rate_confidence = ?, rate_assessed = ?, "
                    "rate_source = ? WHERE id = ?",
                    (found["chosen_rate_bpm"], str(found.get("confidence", "")), when, file,
                     cid))

    def _ensure_client_nocommit(self, name: str) -> int:
        text = check_client_name(name)
        row = self.conn.execute("SELECT id FROM clients WHERE name = ?", (text,)).fetchone()
        if row:
            return int(row["id"])
        cur = self.conn.execute("INSERT INTO clients(name, notes, created) VALUES (?, '', ?)",
                                (text, _now_text()))
        return int(cur.lastrowid or 0)

    def sessions(self, client: str | None = None) -> list[SessionEntry]:
        """The indexed sessions (of ``client``, case-insensitive, when given), newest first.

        Each is the entry of :func:`session_figures` with ``client`` set to the client's
        current name and ``mtime`` (seconds).
        """
        sql = ("SELECT s.figures, s.mtime_ns, c.name AS client FROM sessions s "
               "LEFT JOIN clients c ON c.id = s.client_id")
        params: Sequence[str] = ()
        if client is not None:
            sql += " WHERE c.name = ?"
            params = (client.strip(),)
        sql += " ORDER BY s.created DESC, s.mtime_ns DESC, s.file DESC"
        out: list[SessionEntry] = []
        for r in self.conn.execute(sql, params):
            e: SessionEntry = json.loads(r["figures"])  # written by _store from an entry
            e["client"] = r["client"]
            e["mtime"] = r["mtime_ns"] / 1e9
            out.append(e)
        return out

    def sessions_without_client(self) -> list[SessionEntry]:
        """The indexed sessions recorded without a client name, newest first."""
        return [e for e in self.sessions() if not e.get("client")]

    def markers(self, file: str) -> list[MarkerEntry]:
        """The markers of one session: ``t_s`` (s since its start), ``note``, ``role``."""
        rows = self.conn.execute(
            "SELECT m.t_s, m.note, m.role FROM markers m JOIN sessions s ON s.id = m.session_id "
            "WHERE s.file = ? ORDER BY m.t_s", (file,)).fetchall()
        return [{"t_s": r["t_s"], "note": r["note"], "role": r["role"]} for r in rows]

    def history(self) -> dict[str, object]:
        """Everything the recordings determine, for comparing two databases."""
        return {
            "sessions": self.sessions(),
            "markers": {e["file"]: self.markers(e["file"]) for e in self.sessions()},
            "clients": {c.name: {"sessions": c.sessions, "rate_bpm": c.rate_bpm,
                                 "rate_confidence": c.rate_confidence}
                        for c in self.clients()},
        }


@contextlib.contextmanager
def open_index(folder: str | os.PathLike[str], *, sync: bool = True,
               progress: Progress = lambda _: None) -> Iterator[SessionIndex]:
    """Open the folder's database (synced with its recordings unless ``sync`` is False)."""
    index = SessionIndex(folder)
    try:
        if sync:
            index.sync(progress)
        yield index
    finally:
        index.close()


def list_sessions(folder: str | os.PathLike[str], *, use_cache: bool = True,
                  progress: Progress = lambda _: None,
                  client: str | None = None) -> list[dict[str, object]]:
    """Every recording of ``folder`` with its figures (:class:`SessionEntry`), newest first.

    With ``use_cache`` (default) through the database, which is synced first; without it, or
    in a read-only folder with no database, every file is read again and the database is left
    alone. Damaged files are listed with
    ``status = "damaged"`` and ``error``.
    """
    root = Path(folder)
    if use_cache and not (root / DB_NAME).exists() and not os.access(root, os.W_OK):
        logger.warning("%s is read-only: listing without a database", root)
        use_cache = False
    # Plain dicts: the caller (coreg/cli/sessions.py) formats them as such; SessionIndex.sessions
    # gives the typed entries.
    if use_cache:
        with open_index(root, progress=progress) as index:
            return [dict(e) for e in index.sessions(client)]
    out: list[SessionEntry] = []
    files = recording_files(Path(folder))
    for i, entry in enumerate(files):
        progress(f"{i + 1}/{len(files)} {entry.name}")
        e = compute_entry(Path(entry.path))
        e.pop("marker_list", None)
        if client is not None and (e.get("client") or "").lower() != client.strip().lower():
            continue
        try:
            e["mtime"] = entry.stat().st_mtime
        except OSError:
            e["mtime"] = 0.0
        out.append(e)
    out.sort(key=lambda e: (e.get("created") or "", e.get("mtime", 0.0), e["file"]),
             reverse=True)
    return [dict(e) for e in out]


def stored_rate(folder: str | os.PathLike[str], client: str) -> float | None:
    """The client's chosen resonance rate (breaths/min) in ``folder``'s database, if any.

    Creates nothing: with no database (and no ``clients.json`` to import) there is no rate.
    """
    root = Path(folder)
    if not (root / DB_NAME).exists() and not (root / LEGACY_CLIENTS_FILE).is_file():
        return None
    with SessionIndex(folder) as index:
        return index.client_rate(client)


def save_client_rate(folder: str | os.PathLike[str], client: str, rate_bpm: float,
                     confidence: str, source: str = "") -> Path:
    """Store the client's chosen resonance rate; return the database path."""
    with SessionIndex(folder) as index:
        index.save_rate(client, rate_bpm, confidence, source)
        return index.path
