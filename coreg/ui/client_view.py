"""The client view: a calm, non-numeric picture for a second screen.

Two soft waves (each person's heart rate over the last 30 s, each scaled to its own range so
only the *shape* shows) and, between them, a round shape that grows and brightens as the
synchrony rises above its chance level, with a line under it saying so. No numbers, no
clinical words.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from coreg.session.figures import SessionFigures
from coreg.ui import theme
from coreg.ui.panels import ease

WAVE_SPAN_S = 30.0
BACKGROUND = "#0B1620"
#: What the round shape shows, in calm words under it (no numbers, no clinical words).
DISC_TEXT = "The circle grows and brightens when your two heart rhythms move together"
#: What each wave is, in words beside it.
WAVE_TEXT = {"client": "client's heart rhythm", "therapist": "therapist's heart rhythm"}


def sync_level(fig: SessionFigures) -> float:
    """0..1: where the live synchrony sits against its chance band.

    0 at or below the chance mean, 0.5 at the chance 95th percentile ("in sync" begins), 1 well
    above it. 0 while there is not enough data.
    """
    sync = fig.sync
    if sync is None or sync.current_r is None or not len(sync.chance_hi):
        return 0.0
    lo, hi = float(sync.chance_lo[-1]), float(sync.chance_hi[-1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return 0.0
    return float(np.clip(0.5 * (sync.current_r - lo) / (hi - lo), 0.0, 1.0))


def smooth_wave(x_s: np.ndarray, bpm: np.ndarray, step_s: float = 0.1,
                sigma_s: float = 0.8) -> np.ndarray:
    """A gently smoothed HR wave on a regular grid (x, y columns); gaps stay gaps (NaN)."""
    ok = np.isfinite(bpm) & np.isfinite(x_s)
    if ok.sum() < 3:
        return np.empty((0, 2))
    xs, ys = x_s[ok], bpm[ok]
    grid = np.arange(max(-WAVE_SPAN_S, xs[0]), xs[-1], step_s)
    if grid.size < 3:
        return np.empty((0, 2))
    y = np.interp(grid, xs, ys)
    # Where the nearest beat is far away (a gap), draw nothing.
    idx = np.clip(np.searchsorted(xs, grid), 1, len(xs) - 1)
    near = np.minimum(np.abs(grid - xs[idx - 1]), np.abs(xs[idx] - grid))
    y[near > 2.5] = np.nan
    half = min(int(3 * sigma_s / step_s), (grid.size - 1) // 2)
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * step_s / sigma_s) ** 2)
    valid = np.isfinite(y)
    num = np.convolve(np.where(valid, y, 0.0), kernel, mode="same")
    den = np.convolve(valid.astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(valid & (den > 0.3 * kernel.sum()), num / den, np.nan)
    return np.column_stack((grid, out))


class ClientView(QtWidgets.QWidget):
    """The second-screen window."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, QtCore.Qt.WindowType.Window)
        self.setWindowTitle("coreg — together")
        self.resize(1280, 720)
        self.setAutoFillBackground(False)
        self._waves: dict[str, np.ndarray] = {}
        self._level = math.nan
        self._phase = 0.0
        self.target_level = 0.0

    def update_figures(self, fig: SessionFigures) -> None:
        """Take the latest figures and repaint."""
        self._waves = {}
        for role, person in fig.persons.items():
            x = person.hr_curve_t_s - fig.elapsed_s
            keep = x >= -WAVE_SPAN_S
            self._waves[role] = smooth_wave(x[keep], person.hr_curve_bpm[keep])
        self.target_level = sync_level(fig)
        self._level = ease(self._level, self.target_level, 0.03)
        self._phase = fig.elapsed_s
        if self.isVisible():
            self.update()

    def settle(self) -> None:
        """Jump to the target picture (no easing), e.g. before a screenshot."""
        self._level = self.target_level
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        painter.fillRect(self.rect(), QtGui.QColor(BACKGROUND))
        level = 0.0 if not math.isfinite(self._level) else self._level
        # The shared shape: a soft glowing circle, breathing slowly, growing with synchrony.
        centre = QtCore.QPointF(w / 2, h / 2)
        breathe = 1.0 + 0.04 * math.sin(2 * math.pi * self._phase / 10.0)
        radius = min(w, h) * (0.10 + 0.22 * level) * breathe
        glow = QtGui.QRadialGradient(centre, radius * 1.6)
        core = QtGui.QColor(theme.BLUISH_GREEN)
        core.setAlpha(int(90 + 140 * level))
        edge = QtGui.QColor(theme.BLUISH_GREEN)
        edge.setAlpha(0)
        glow.setColorAt(0.0, core)
        glow.setColorAt(0.6, core)
        glow.setColorAt(1.0, edge)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(QtGui.QBrush(glow))
        painter.drawEllipse(centre, radius * 1.6, radius * 1.6)
        # The two hearts' waves, one above and one below the shape.
        for i, (role, data) in enumerate(sorted(self._waves.items())):
            self._draw_wave(painter, data, role, h * (0.25 if i == 0 else 0.75), h * 0.12, w)
            self._draw_words(painter, WAVE_TEXT.get(role, role),
                             QtCore.QRectF(w * 0.02, h * (0.01 if i == 0 else 0.93), w * 0.3,
                                           h * 0.06),
                             QtGui.QColor(theme.role_colour(role)),
                             QtCore.Qt.AlignmentFlag.AlignLeft)
        if len(self._waves) == 2:
            self._draw_words(painter, DISC_TEXT,
                             QtCore.QRectF(w * 0.34, h * 0.93, w * 0.64, h * 0.06),
                             QtGui.QColor(theme.MUTED), QtCore.Qt.AlignmentFlag.AlignRight)
        painter.end()

    @staticmethod
    def _draw_words(painter: QtGui.QPainter, text: str, box: QtCore.QRectF,
                    colour: QtGui.QColor, align: QtCore.Qt.AlignmentFlag) -> None:
        font = painter.font()
        font.setPixelSize(max(12, int(box.height() * 0.45)))
        painter.setFont(font)
        painter.setPen(colour)
        painter.drawText(box, int(align | QtCore.Qt.AlignmentFlag.AlignVCenter
                                  | QtCore.Qt.TextFlag.TextWordWrap), text)

    def _draw_wave(self, painter: QtGui.QPainter, data: np.ndarray, role: str, mid_y: float,
                   amp: float, w: float) -> None:
        if len(data) < 3:
            return
        x, y = data[:, 0], data[:, 1]
        ok = np.isfinite(y)
        if ok.sum() < 3:
            return
        lo, hi = np.nanpercentile(y[ok], [5, 95])
        scale = max(hi - lo, 4.0)
        path = QtGui.QPainterPath()
        started = False
        for xi, yi in zip(x, y, strict=True):
            if not math.isfinite(yi):
                started = False
                continue
            px = w * (1.0 + xi / WAVE_SPAN_S)
            py = mid_y - amp * ((yi - (lo + hi) / 2) / scale) * 2
            if started:
                path.lineTo(px, py)
            else:
                path.moveTo(px, py)
                started = True
        pen = QtGui.QPen(QtGui.QColor(theme.role_colour(role)), 6)
        pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        painter.drawPath(path)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() == QtCore.Qt.Key.Key_F11:
            self.setWindowState(self.windowState() ^ QtCore.Qt.WindowState.WindowFullScreen)
        elif event.key() == QtCore.Qt.Key.Key_Escape:
            self.hide()
        else:
            super().keyPressEvent(event)
