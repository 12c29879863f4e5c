"""The list of saved recordings with headline figures, cached next to the recordings.

Headline figures per recording: per role the beat count, mean HR and RMSSD of the
artifact-corrected NN intervals (:func:`coreg.engine.summary.summarize_person`; Lipponen &
Tarvainen 2019, doi:10.1080/03091902.2019.1640306; Task Force 1996,
doi:10.1161/01.CIR.93.5.1043) and, for two people, the synchrony summary against circular-shift
surrogates (:func:`coreg.engine.synchrony.session_analyses`; Boker et al. 2002,
doi:10.1037/1082-989X.7.3.338) — the very numbers ``coreg report`` shows.

They are cached in ``.coreg-index.json`` in the recordings folder (owner-only, written
atomically), keyed by file name, modification time and size, so a listing recomputes only new
or changed files. A file that cannot be read is listed as damaged with the reason; it never
breaks the list. The index itself may be deleted at any time.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coreg.errors import CoregError

logger = logging.getLogger(__name__)

INDEX_NAME = ".coreg-index.json"
INDEX_VERSION = 1
Progress = Callable[[str], None]


def _clean(x: Any, digits: int = 3) -> float | None:
    if x is None or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return round(float(x), digits)


def headline(path: Path) -> dict[str, Any]:
    """Read one recording and compute its headline entry (raises CoregError if damaged)."""
    from coreg.engine.summary import summarize_person
    from coreg.recording import read_recording

    rec = read_recording(path)
    entry: dict[str, Any] = {
        "file": path.name, "status": "ok" if rec.complete else "incomplete",
        "created": str(rec.header.get("created", "")), "mode": rec.mode,
        "duration_s": round(rec.duration_s, 1), "roles": {},
        "simulated": rec.simulation is not None, "markers": len(rec.markers),
        "notes": list(rec.skipped),
    }
    nn = {}
    for role in rec.roles:
        samples = rec.samples_for(role)
        if not samples:
            entry["roles"][role] = {"beats": 0, "mean_hr_bpm": None, "rmssd_ms": None,
                                    "artifacts_pct": None}
            continue
        summary, corrected = summarize_person(samples, rec.events_for(role))
        entry["roles"][role] = {
            "beats": summary["beats"],
            "mean_hr_bpm": _clean(summary["hrv"]["mean_hr_bpm"], 1),
            "rmssd_ms": _clean(summary["hrv"]["rmssd_ms"], 1),
            "artifacts_pct": _clean(summary["artifacts"]["percent"], 2),
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
                              "significant": s.significant, "leader": s.leader}
    return entry


def _load_index(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / INDEX_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def _save_index(folder: Path, entries: dict[str, Any]) -> None:
    from coreg.recording.output import write_private

    try:
        text = json.dumps({"version": INDEX_VERSION, "entries": entries}, allow_nan=False)
        write_private(folder / INDEX_NAME, text)
    except (OSError, CoregError, ValueError) as exc:
        logger.info("could not write the sessions index in %s: %s", folder, exc)


def list_sessions(folder: str | os.PathLike[str], *, use_cache: bool = True,
                  progress: Progress = lambda _: None) -> list[dict[str, Any]]:
    """Every ``*.jsonl`` recording in ``folder`` with its headline figures, newest first.

    Damaged files get ``status = "damaged"`` and ``error`` (one line); files whose last line
    was cut off or that lack an ``end`` line get ``status = "incomplete"`` (still readable).
    """
    root = Path(folder)
    cached = _load_index(root) if use_cache else {}
    fresh: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    paths = sorted(p for p in root.glob("*.jsonl") if not p.name.startswith("."))
    changed = False
    for i, path in enumerate(paths):
        try:
            st = path.stat()
        except OSError as exc:
            out.append({"file": path.name, "status": "damaged", "error": str(exc),
                        "mtime": 0.0})
            continue
        key = [st.st_mtime_ns, st.st_size]
        hit = cached.get(path.name)
        if hit is not None and hit.get("key") == key:
            entry = hit["entry"]
        else:
            progress(f"{i + 1}/{len(paths)} {path.name}")
            changed = True
            try:
                entry = headline(path)
            except CoregError as exc:
                entry = {"file": path.name, "status": "damaged", "error": str(exc)}
            except (OSError, ValueError, ArithmeticError) as exc:
                entry = {"file": path.name, "status": "damaged",
                         "error": f"{path.name}: {type(exc).__name__}: {exc}"}
        fresh[path.name] = {"key": key, "entry": entry}
        out.append({**entry, "mtime": st.st_mtime})
    if use_cache and (changed or set(fresh) != set(cached)):
        _save_index(root, fresh)
    out.sort(key=lambda e: (e.get("created") or "", e["mtime"]), reverse=True)
    return out
