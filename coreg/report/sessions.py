"""The list of saved recordings with their figures: see :mod:`coreg.recording.index`.

Kept for callers of earlier versions: :func:`list_sessions` and :func:`headline` are those of
the database module (``coreg.db`` in the recordings folder replaces ``.coreg-index.json``).
"""

from __future__ import annotations

from coreg.recording.index import DB_NAME, list_sessions
from coreg.recording.index import session_figures as headline

__all__ = ["DB_NAME", "headline", "list_sessions"]
