"""Live sessions: sources on a background asyncio loop, recorder first, engines fed by a consumer.

No Qt here: the window (:mod:`coreg.ui`) and the headless terminal view both drive a
:class:`Session` by calling :meth:`Session.poll` on their own timer. ``coreg live`` builds its
session with :func:`open_session`; ``coreg breathe`` with
:func:`coreg.session.breathe.open_breathe_session` (same runner, a breathing analysis).
"""

from __future__ import annotations

from coreg.session.figures import (
    LiveAnalysis,
    Metric,
    PersonFigures,
    SessionFigures,
    SyncFigures,
)
from coreg.session.runner import Session, SessionMarker
from coreg.session.setup import open_session

__all__ = [
    "LiveAnalysis",
    "Metric",
    "PersonFigures",
    "Session",
    "SessionFigures",
    "SessionMarker",
    "SyncFigures",
    "open_session",
]
