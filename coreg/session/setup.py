"""Building a live session from ``SRC`` strings: sources, recording header and file, analysis."""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from coreg.session.figures import LiveAnalysis
from coreg.session.runner import Session
from coreg.sources import ResolvedSources, default_specs, resolve

log = logging.getLogger(__name__)

RECORDINGS_ENV = "COREG_RECORDINGS"


def recordings_dir(option: str | os.PathLike[str] | None = None) -> Path:
    """The recordings folder: the option, else ``$COREG_RECORDINGS``, else ``./recordings``."""
    if option:
        return Path(option)
    env = os.environ.get(RECORDINGS_ENV)
    return Path(env) if env else Path.cwd() / "recordings"


def recording_path(folder: str | os.PathLike[str], mode: str,
                   when: datetime | None = None) -> Path:
    """A new file name ``YYYYmmdd-HHMMSS-<mode>.jsonl`` in ``folder`` that does not exist yet."""
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S")
    folder = Path(folder)
    path = folder / f"{stamp}-{mode}.jsonl"
    n = 2
    while path.exists():
        path = folder / f"{stamp}-{mode}-{n}.jsonl"
        n += 1
    return path


def open_session(
    client: str | None = None,
    therapist: str | None = None,
    *,
    duration_s: float | None = None,
    seed: int = 1,
    realtime: bool = True,
    speed: float | None = None,
    record: bool = True,
    folder: str | os.PathLike[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    settings: dict[str, Any] | None = None,
) -> tuple[Session, ResolvedSources]:
    """Resolve the sources of a dyad and build a (not yet started) recording session.

    Parameters
    ----------
    client, therapist
        ``SRC`` strings (see :mod:`coreg.sources`); both None gives the simulated dyad.
    duration_s
        Planned length in seconds (sets the length of simulated runs).
    seed
        Seed of simulated runs.
    realtime
        False runs simulated sources on a virtual clock (fast mode).
    speed
        Fast mode: multiple of real time (None: as fast as possible).
    record
        Write a recording (always on in the app; tests may switch it off).
    folder, path
        Where the recording goes (default :func:`recordings_dir`; ``path`` names the file).
    settings
        Extra settings for the header.
    """
    from coreg.recording import RecordingWriter, new_header

    specs = default_specs(client, therapist)
    resolved = resolve(specs, duration_s=duration_s, seed=seed, realtime=realtime)
    start_s = time.monotonic() if realtime else resolved.start_s
    writer = None
    if record:
        target = Path(path) if path else recording_path(recordings_dir(folder), "dyad")
        all_settings: dict[str, Any] = {
            "sources": {role: spec.text for role, spec in resolved.specs.items()},
            "realtime": realtime,
        }
        if duration_s:
            all_settings["duration_s"] = duration_s
        all_settings.update(settings or {})
        header = new_header("dyad", resolved.header_roles(), start_monotonic_s=start_s,
                            settings=all_settings, simulation=resolved.simulation)
        writer = RecordingWriter(target, header)
    names = {role: info.name for role, info in resolved.info.items()}
    simulated = {role: spec.simulated for role, spec in resolved.specs.items()}
    analysis = LiveAnalysis(tuple(resolved.sources), names=names, simulated=simulated)
    session = Session(resolved.sources, writer=writer, realtime=realtime, speed=speed,
                      start_s=start_s, analysis=analysis, duration_s=duration_s)
    return session, resolved
