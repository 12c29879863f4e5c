"""Layouts that reflow, so every window stays usable from 1366×768 up, and window geometry that
is remembered between runs.

:class:`FlowLayout` lays its items left to right and wraps onto a new row when the window is
too narrow (the flow-layout pattern of the Qt examples, written for this app).
:func:`fit_to_screen` sizes a new window to the screen it opens on; :func:`restore_geometry` /
:func:`save_geometry` keep each window's size and place in the user's settings.
"""

from __future__ import annotations

import logging

from PySide6 import QtCore, QtGui, QtWidgets

from coreg.recording.settings import load_settings, save_settings

log = logging.getLogger(__name__)


class FlowLayout(QtWidgets.QLayout):
    """Items left to right, wrapping onto further rows when the width runs out.

    Parameters
    ----------
    parent
        Widget the layout manages (optional).
    spacing
        Pixels between items, horizontally and between rows.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QtWidgets.QLayoutItem] = []
        self._gap = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QtWidgets.QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QtWidgets.QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QtWidgets.QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def addStretch(self, _stretch: int = 0) -> None:
        """Accepted for QHBoxLayout compatibility; a flow has no stretch."""

    def expandingDirections(self) -> QtCore.Qt.Orientation:
        return QtCore.Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._do_layout(QtCore.QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QtCore.QRect) -> None:
        super().setGeometry(rect)
        self._do_layout(rect, apply=True)

    def sizeHint(self) -> QtCore.QSize:
        return self.minimumSize()

    def minimumSize(self) -> QtCore.QSize:
        size = QtCore.QSize()
        for item in self._items:
            if not item.isEmpty():
                size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QtCore.QSize(m.left() + m.right(), m.top() + m.bottom())

    def _do_layout(self, rect: QtCore.QRect, *, apply: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, row_h = area.x(), area.y(), 0
        for item in self._items:
            if item.isEmpty():  # hidden widgets take no room
                continue
            hint = item.sizeHint()
            w = min(hint.width(), area.width())
            if x > area.x() and x + w > area.right() + 1:
                x, y = area.x(), y + row_h + self._gap
                row_h = 0
            if apply:
                item.setGeometry(QtCore.QRect(QtCore.QPoint(x, y), QtCore.QSize(w, hint.height())))
            x += w + self._gap
            row_h = max(row_h, hint.height())
        return y + row_h - rect.y() + m.bottom()


def flow_row(*widgets: QtWidgets.QWidget, spacing: int = 6) -> tuple[QtWidgets.QWidget,
                                                                       FlowLayout]:
    """A widget holding ``widgets`` in a :class:`FlowLayout` (add more to the layout later)."""
    holder = QtWidgets.QWidget()
    layout = FlowLayout(holder, spacing=spacing)
    for w in widgets:
        layout.addWidget(w)
    policy = holder.sizePolicy()
    policy.setHeightForWidth(True)
    holder.setSizePolicy(policy)
    return holder, layout


class ElidedLabel(QtWidgets.QLabel):
    """A one-line label that ends in "…" when it is given less width than its text needs.

    Its size hint is the whole text, so a layout gives it the room when there is room; when
    there is not, the text is cut at a character with "…" (never mid-glyph, as a plain clipped
    QLabel is) and the whole text goes in the tooltip. :meth:`full_text` returns it.
    """

    def __init__(self, text: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setMinimumWidth(40)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self._elide()
        self.updateGeometry()

    def full_text(self) -> str:
        """The whole text, whatever the label shows."""
        return self._full

    def sizeHint(self) -> QtCore.QSize:
        hint = super().sizeHint()
        margins = self.contentsMargins()
        width = (self.fontMetrics().horizontalAdvance(self._full)
                 + margins.left() + margins.right() + 2)
        return QtCore.QSize(width, hint.height())

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(self.minimumWidth(), super().minimumSizeHint().height())

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        margins = self.contentsMargins()
        room = self.width() - margins.left() - margins.right()
        shown = self.fontMetrics().elidedText(
            self._full, QtCore.Qt.TextElideMode.ElideRight, max(room, 0))
        super().setText(shown if shown else self._full[:1])
        if shown != self._full and not self.toolTip():
            self.setToolTip(self._full)


def longest_fitting(forms: tuple[str, ...], font: QtGui.QFont, width_px: int) -> str:
    """The first of ``forms`` (longest first) whose text fits ``width_px`` in ``font``.

    The last form is returned when none fits (it should be the shortest sensible one): for
    places that cannot elide, such as a plot's axis label, which is centred and cut on both
    sides when too wide.
    """
    metrics = QtGui.QFontMetrics(font)
    for text in forms:
        if metrics.horizontalAdvance(text) <= width_px:
            return text
    return forms[-1]


def fit_to_screen(window: QtWidgets.QWidget, wanted: tuple[int, int]) -> None:
    """Resize ``window`` to ``wanted`` (w, h) or, on a smaller screen, to 95 % of it."""
    screen = window.screen() or QtGui.QGuiApplication.primaryScreen()
    w, h = wanted
    if screen is not None:
        avail = screen.availableGeometry()
        w = min(w, int(avail.width() * 0.95))
        h = min(h, int(avail.height() * 0.95))
    window.resize(w, h)


def restore_geometry(window: QtWidgets.QWidget, name: str) -> bool:
    """Put ``window`` where it was last closed (True) if the settings remember it."""
    saved = load_settings().geometry.get(name)
    if not saved:
        return False
    try:
        data = QtCore.QByteArray.fromHex(saved.encode("ascii"))
    except (UnicodeError, ValueError):
        return False
    return bool(window.restoreGeometry(data))


def save_geometry(window: QtWidgets.QWidget, name: str) -> None:
    """Remember ``window``'s geometry in the user's settings (failures only logged)."""
    try:
        settings = load_settings()
        settings.geometry[name] = bytes(window.saveGeometry().toHex().data()).decode("ascii")
        save_settings(settings)
    except OSError as exc:
        log.warning("cannot save the window geometry: %s", exc)
