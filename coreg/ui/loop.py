"""Running a window's Qt event loop and tearing it down: one place for all three windows.

Ctrl+C and ``kill`` (SIGINT/SIGTERM) call the window's interrupt action, which ends the
session so the recording closes with its ``end`` line, and leave the loop. After the loop,
whatever happened, the session is stopped and the widgets are deleted while the interpreter
is still whole: left to interpreter shutdown, PySide6 + pyqtgraph can crash in the final
garbage collection.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence

from PySide6 import QtCore, QtWidgets


def exec_window(app: QtCore.QCoreApplication, window: QtWidgets.QWidget, *,
                interrupted: Callable[[], object], stop: Callable[[], object],
                start: Callable[[], object] | None = None,
                also_close: Sequence[QtWidgets.QWidget] = ()) -> None:
    """Run ``app``'s event loop until ``window`` closes, then tear down.

    Parameters
    ----------
    start
        Starts the session, called once the signal handlers are in place (so that an early
        Ctrl+C still closes the recording properly).
    interrupted
        Called on SIGINT/SIGTERM (it must close ``window``, which leaves the loop).
    stop
        Called once the loop has ended, before the widgets go (stops the session if it is
        still running; the recording then ends with "window closed").
    also_close
        Other top-level windows of this one (the client view), closed and deleted first.
    """
    def on_signal(*_: object) -> None:
        interrupted()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if start is not None:
            start()
        app.exec()
    finally:
        stop()
        for w in (*also_close, window):
            w.close()
        for w in (*also_close, window):
            w.deleteLater()
        app.processEvents()
        app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
