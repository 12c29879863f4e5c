"""Work-arounds for bugs in the Qt binding, each with a test that detects it at run time.

PySide6 6.12.0 on Python < 3.12: ``SignalInstance.emit()`` returns ``True`` without taking a
reference, so every signal emitted from Python (pyqtgraph emits several per ``setData``)
removes one reference from the ``True`` singleton. After a few thousand emits ``True`` is
"deallocated" and the interpreter aborts (``Fatal Python error: bool_dealloc``) — within
seconds of a live view, or at exit. Python 3.12+ makes ``True`` immortal, so there it is
harmless. :class:`BoolRefGuard` measures the deficit and tops the count back up; the real fix
is a binding without the bug (pin ``PySide6-Essentials != 6.12.0`` on Python 3.11).
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import sys

log = logging.getLogger(__name__)

#: Extra references given to ``True`` at exit, so the final garbage collection cannot free it.
_EXIT_MARGIN = 1 << 40


#: The singletons whose counts the binding's bugs erode (seen: True from emit(), None too).
_SINGLETONS: tuple[object, ...] = (True, False, None)


def _refcount_cell(obj: object) -> ctypes.c_ssize_t:
    # CPython object header: ob_refcnt is the first Py_ssize_t of every object.
    return ctypes.c_ssize_t.from_address(id(obj))


def emit_leaks_true() -> bool:
    """True when emitting a signal from Python loses a reference to ``True`` (the bug above)."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    from PySide6 import QtCore

    class _Probe(QtCore.QObject):
        ping = QtCore.Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(50):
        probe.ping.emit()
    return before - sys.getrefcount(True) >= 40


class BoolRefGuard:
    """Keeps the reference counts of ``True``, ``False`` and ``None`` from falling below their
    level at creation.

    Call :meth:`check` often (each GUI frame); it is a no-op when the bug is absent.
    """

    def __init__(self) -> None:
        self.active = emit_leaks_true()
        self.baseline = {id(obj): sys.getrefcount(obj) for obj in _SINGLETONS}
        self.topped_up = 0
        if self.active:
            log.info("PySide6 emit() reference bug present: guarding the True singleton")
            atexit.register(self.at_exit)

    def check(self) -> None:
        """Top the count of ``True`` back up to its baseline."""
        if not self.active:
            return
        for obj in _SINGLETONS:
            deficit = self.baseline[id(obj)] - sys.getrefcount(obj)
            if deficit > 0:
                _refcount_cell(obj).value += deficit
                self.topped_up += deficit

    def at_exit(self) -> None:
        """Give ``True`` a large margin before the interpreter's final collection."""
        if self.active:
            for obj in _SINGLETONS:
                _refcount_cell(obj).value += _EXIT_MARGIN


_GUARD: BoolRefGuard | None = None


def bool_guard() -> BoolRefGuard:
    """The process-wide guard (created on first use, after the QApplication exists or not)."""
    global _GUARD
    if _GUARD is None:
        _GUARD = BoolRefGuard()
    return _GUARD
