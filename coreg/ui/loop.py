"""Running a window's Qt event loop and tearing it down: one place for all three windows.

:func:`run_session_window` is what the live, replay and breathing windows' entry points call:
it sizes the window (or puts it where it was last closed), shows it, runs the loop with
:func:`exec_window`, and ends the session the same way for each — "interrupted" on a signal,
"window closed" otherwise — remembering the window's geometry.

Ctrl+C, ``kill`` and a closed terminal (SIGINT/SIGTERM/SIGHUP) call the window's interrupt
action, which ends the session so the recording closes with its ``end`` line, and leave the
loop at once, also when no timer runs (:class:`QtSignals`: a session that has ended, a window
waiting for Start); the exit code is then 128 + the signal. After the loop,
whatever happened, the session is stopped and the widgets are deleted while the interpreter
is still whole: left to interpreter shutdown, PySide6 + pyqtgraph can crash in the final
garbage collection.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence

from PySide6 import QtCore, QtWidgets

from coreg.session.signals import ENDING_SIGNALS, SignalHandler
from coreg.ui.layouts import restore_geometry, save_geometry

log = logging.getLogger(__name__)


class QtSignals:
    """Run ``on_signal(signum)`` promptly on SIGINT/SIGTERM/SIGHUP while Qt's loop runs.

    Qt's event loop runs in C++, and Python runs a signal handler only when Python code next
    runs: with no timer firing (a session that has ended, an idle window) Ctrl+C and ``kill``
    would wait for the next mouse move. So the C-level handler also writes the signal number to
    a socket (:func:`signal.set_wakeup_fd`) watched by a :class:`QSocketNotifier`, whose slot
    lets Python run the handler at once. ``on_signal`` runs once, on the first signal; later
    ones are only counted (the app is already on its way out). :meth:`close` puts everything
    back.

    Parameters
    ----------
    app
        The running ``QApplication``.
    on_signal
        Called on the GUI thread with the first signal's number.
    """

    def __init__(self, app: QtCore.QCoreApplication, on_signal: Callable[[int], None]) -> None:
        self.received: int | None = None
        self._on_signal = on_signal
        self._previous: dict[int, SignalHandler] = {}
        self._previous_fd = -1
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._notifier = QtCore.QSocketNotifier(self._reader.fileno(),
                                                QtCore.QSocketNotifier.Type.Read, app)
        self._notifier.activated.connect(self._drain)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(),
                                                 warn_on_full_buffer=False)
        for sig in ENDING_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handler)
        log.info("Ctrl+C, kill or a closed terminal end the app")

    def _drain(self, *_: object) -> None:
        # Running this slot is what lets Python call _handler; the bytes only wake us up.
        try:
            while self._reader.recv(64):
                pass
        except OSError:
            pass

    def _handler(self, signum: int, _frame: object) -> None:
        if self.received is not None:
            return
        self.received = signum
        log.info("%s: ending the session", signal.Signals(signum).name)
        self._on_signal(signum)

    @property
    def exit_code(self) -> int:
        """128 + the signal that ended the app, or 0."""
        return 0 if self.received is None else 128 + self.received

    def close(self) -> None:
        """Stop watching. The handlers stay ignoring signals when one already came (the
        process is ending), else the previous ones come back."""
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous_fd)
        if self.received is None:
            for sig, previous in self._previous.items():
                signal.signal(sig, previous)
        self._reader.close()
        self._writer.close()


def exec_window(app: QtCore.QCoreApplication, window: QtWidgets.QWidget, *,
                interrupted: Callable[[], object], stop: Callable[[], object],
                start: Callable[[], object] | None = None,
                also_close: Sequence[QtWidgets.QWidget] = ()) -> int:
    """Run ``app``'s event loop until ``window`` closes, then tear down.

    Parameters
    ----------
    start
        Starts the session, called once the signal handlers are in place (so that an early
        Ctrl+C still closes the recording properly).
    interrupted
        Called on SIGINT/SIGTERM/SIGHUP (it ends the session); the windows are then closed
        and the loop left, even when other windows are open.
    stop
        Called once the loop has ended, before the widgets go (stops the session if it is
        still running; the recording then ends with "window closed").
    also_close
        Other top-level windows of this one (the client view), closed and deleted first.

    Returns
    -------
    int
        0, or 128 + the signal that ended the app.
    """
    def on_signal(_signum: int) -> None:
        interrupted()
        for w in (*also_close, window):
            w.close()
        app.quit()

    signals = QtSignals(app, on_signal)
    try:
        if start is not None:
            start()
        app.exec()
    finally:
        signals.close()
        stop()
        for w in (*also_close, window):
            w.close()
        for w in (*also_close, window):
            w.deleteLater()
        app.processEvents()
        app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    return signals.exit_code


def qt_app(*, offscreen: bool = False) -> QtWidgets.QApplication:
    """The running ``QApplication``, or a new one (``offscreen``: no screen needed, for a
    ``--screenshot`` run; set before the first one is made)."""
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = QtWidgets.QApplication.instance()
    if isinstance(app, QtWidgets.QApplication):
        return app
    return QtWidgets.QApplication(sys.argv[:1])


def run_session_window(app: QtCore.QCoreApplication, window: QtWidgets.QWidget,
                       end_session: Callable[[str], object], *, geometry: str = "",
                       size: tuple[int, int] | None = None,
                       start: Callable[[], object] | None = None,
                       also_close: Sequence[QtWidgets.QWidget] = ()) -> int:
    """Show a session's window, run the loop until it closes, end the session, tear down.

    Parameters
    ----------
    end_session
        The window's ``end_session(reason)``: stops its session if it still runs (the
        recording then ends with ``reason``: "interrupted" on SIGINT/SIGTERM/SIGHUP, else
        "window closed").
    geometry
        The name under which the window's size and place are remembered ("": neither
        restored nor saved, as in a ``--screenshot`` run).
    size
        (width, height) in pixels; overrides the remembered geometry.
    start, also_close
        As for :func:`exec_window`.

    Returns
    -------
    int
        0, or 128 + the signal that ended the app.
    """
    if size is not None:
        window.resize(*size)
    elif geometry:
        restore_geometry(window, geometry)
    window.show()

    def stop() -> None:
        if geometry:
            save_geometry(window, geometry)
        end_session("window closed")

    return exec_window(app, window, interrupted=lambda: end_session("interrupted"), stop=stop,
                       start=start, also_close=also_close)
