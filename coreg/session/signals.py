"""Ending a terminal session cleanly on SIGINT, SIGTERM and SIGHUP.

A headless ``coreg live`` or ``coreg breathe`` (run by :func:`coreg.session.headless.run_headless`,
as is a headless ``coreg replay``) must close its recording with an ``end`` line (reason
``"interrupted"``) whichever way it is asked to stop: Ctrl+C (SIGINT), ``kill``
(SIGTERM) or a closed terminal (SIGHUP). Python only turns SIGINT into
:class:`KeyboardInterrupt`; the others kill the process at once by default, leaving the recording
without its end. :class:`SessionSignals` raises :class:`Interrupted` (a
:class:`KeyboardInterrupt`) for all three while the session runs, and once the session is being
stopped it only remembers further signals, so a second Ctrl+C cannot cut the ``end`` line off.
The exit code is the shell's convention, 128 + the signal number (130 for SIGINT, 143 for
SIGTERM, 129 for SIGHUP).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

#: What :func:`signal.signal` takes and returns: a handler, ``SIG_DFL``/``SIG_IGN``, or None.
SignalHandler = Callable[[int, FrameType | None], object] | int | None

#: The signals that end a terminal session.
ENDING_SIGNALS: tuple[signal.Signals, ...] = tuple(
    s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
    if s is not None)


class Interrupted(KeyboardInterrupt):
    """The session was asked to stop by ``signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


def exit_code(exc: BaseException | None) -> int:
    """The exit code of a session ended by ``exc`` (128 + signal; 130 for a bare Ctrl+C)."""
    if isinstance(exc, Interrupted):
        return 128 + exc.signum
    return 128 + int(signal.SIGINT)


class SessionSignals:
    """Context manager: SIGINT/SIGTERM/SIGHUP raise :class:`Interrupted` until :meth:`disarm`.

    Outside the main thread (where Python cannot install handlers) it does nothing.
    """

    def __init__(self) -> None:
        self._armed = False
        self._previous: dict[int, SignalHandler] = {}
        self.received: int | None = None

    def _handler(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        if self._armed:
            self._armed = False
            raise Interrupted(signum)

    def disarm(self) -> None:
        """From now on only remember signals (call before stopping the session)."""
        self._armed = False

    def __enter__(self) -> SessionSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in ENDING_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handler)
        self._armed = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._armed = False
        if self.received is not None:
            # Asked to stop: keep ignoring further signals while the process prints its last
            # lines and exits (the default SIGTERM action would end it mid-line).
            return
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()
