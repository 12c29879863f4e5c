"""Screenshots written like every other coreg output: owner-only (0600), atomically, never over
a recording (:mod:`coreg.recording.output`)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6 import QtCore, QtWidgets


def save_png(widget: QtWidgets.QWidget, path: str | os.PathLike[str]) -> Path:
    """Grab ``widget`` and write it as PNG to ``path`` (its folder is created owner-only)."""
    from coreg.errors import CoregError
    from coreg.recording.output import write_private

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = QtCore.QByteArray()
    buf = QtCore.QBuffer(data)
    buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not widget.grab().save(buf, "PNG"):
        raise CoregError(f"could not render the screenshot {target}")
    buf.close()
    return write_private(target, bytes(data.data()))
