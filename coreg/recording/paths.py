"""Where recordings live and what they are called."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

ENV_VAR = "COREG_RECORDINGS"


def recordings_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The recordings folder: ``override``, else ``$COREG_RECORDINGS``, else the user's
    settings (:mod:`coreg.recording.settings`), else ``./recordings``.

    The folder is created owner-only (0700) when missing.
    """
    chosen = override or os.environ.get(ENV_VAR)
    if not chosen:
        from coreg.recording.settings import load_settings

        chosen = load_settings().recordings_dir
    folder = Path(chosen or "recordings").expanduser()
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700)
    return folder


def new_recording_path(mode: str, folder: Path, now: datetime | None = None) -> Path:
    """A new, unused file name ``YYYYmmdd-HHMMSS-<mode>.jsonl`` in ``folder``."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    path = folder / f"{stamp}-{mode}.jsonl"
    n = 2
    while path.exists():
        path = folder / f"{stamp}-{mode}-{n}.jsonl"
        n += 1
    return path
