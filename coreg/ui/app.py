"""Starting the live window from ``coreg live`` (with ``--screenshot``: offscreen, then quit),
and ending a windowed app on Ctrl+C, ``kill`` or a closed terminal (:class:`QtSignals`)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: The signals that end a windowed session.
ENDING_SIGNALS: tuple[signal.Signals, ...] = tuple(
    s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
    if s is not None)


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

    def __init__(self, app: Any, on_signal: Callable[[int], None]) -> None:
        from PySide6 import QtCore

        self.received: int | None = None
        self._on_signal = on_signal
        self._previous: dict[int, Any] = {}
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


def run_window(args: argparse.Namespace, *, realtime: bool, speed: float | None,
               ble_speed: float | None = None) -> int:
    """Open the live window on the sources named in ``args``; return the exit code."""
    if args.screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6 import QtCore, QtWidgets

    from coreg.recording.settings import load_settings
    from coreg.session import open_session
    from coreg.session.setup import live_title
    from coreg.ui.layouts import restore_geometry, save_geometry
    from coreg.ui.main_window import LiveWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    user = load_settings()
    client, therapist = args.client, args.therapist
    if client is None and therapist is None and user.default_straps and not args.screenshot:
        client = user.default_straps.get("client") or None
        therapist = user.default_straps.get("therapist") or None
    # Start when ready: a window run opens in a preview (nothing recorded until *Start
    # recording*); a timed run (--duration, --screenshot) records from the start as before.
    preview = realtime and not args.duration and not args.screenshot
    session, resolved = open_session(
        client, therapist, duration_s=args.duration, seed=args.seed,
        realtime=realtime, speed=speed, folder=args.recordings_dir, ble_speed=ble_speed,
        preview=preview, lsl=bool(getattr(args, "lsl", False)))
    saved: list[Path] = []

    def finished(window: LiveWindow) -> None:
        if args.screenshot:
            saved.extend(window.save_screenshots(args.screenshot))
            app.quit()

    def factory(client: str, therapist: str) -> tuple[Any, Any]:
        return open_session(client, therapist, seed=args.seed, folder=args.recordings_dir,
                            preview=True, lsl=bool(getattr(args, "lsl", False)))

    names = {role: role for role in resolved.sources}
    window = LiveWindow(session, title=live_title(resolved), simulated=resolved.simulated,
                        names=names, duration_s=args.duration, on_finished=finished,
                        autostart=False, session_factory=None if args.screenshot else factory,
                        sources={role: spec.text for role, spec in resolved.specs.items()})
    size = getattr(args, "size", None)
    if size is not None:
        window.resize(*size)
    elif not args.screenshot:
        restore_geometry(window, "live")
    window.show()
    if args.client_view or args.screenshot:
        window.toggle_client_view()

    def interrupted(_signum: int) -> None:
        window.end_session("interrupted")
        window.client_view.close()
        window.close()
        app.quit()  # also when the session had ended and other windows are open

    # Ctrl+C / kill / hang-up: stop the straps and close the recording, then leave the Qt
    # loop, at once, even when no timer runs any more.
    signals = QtSignals(app, interrupted)
    window.start()
    try:
        app.exec()
    finally:
        signals.close()
        if not args.screenshot:
            save_geometry(window, "live")
        window.end_session("window closed")
        window.client_view.close()
        window.close()
        # Tear the widgets down while the interpreter is whole: left to interpreter shutdown,
        # PySide6 + pyqtgraph can crash in the final garbage collection.
        window.client_view.deleteLater()
        window.deleteLater()
        app.processEvents()
        app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    for path in saved:
        print(f"screenshot: {path}")
    final = window.session
    print(f"recording: {final.recording_path}" if final.recording_path else
          "nothing recorded (the session stayed in its preview)")
    return signals.exit_code
