"""The breathing window (``coreg breathe``): pacer, heart rate against the pacer, coherence meter,
resonance power, RSA per breath, the breathing rate the heart shows, assessment steps and ranking,
and the end summary. Calm colours (theme of :mod:`coreg.ui.theme`); never a number before its
window fills ("collecting…").
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from coreg.engine.pacer import lung_curve, pacer_state
from coreg.engine.resonance import COHERENCE_LEVELS, coherence_level
from coreg.ui import theme
from coreg.ui.qt_fixes import bool_guard

#: Seconds of heart rate shown.
HR_SPAN_S = 60.0
STAGE_TEXT = {"in": "Breathe in", "hold-in": "Hold", "out": "Breathe out",
              "hold-out": "Rest", "off": "Breathe naturally"}
LEVEL_COLOURS = {"low": theme.SKY_BLUE, "medium": theme.YELLOW, "high": theme.BLUISH_GREEN}
#: Upper end of the coherence meter; each level takes a third of the meter.
METER_MAX = 8.0


def meter_position(value: float) -> float:
    """Position 0–1 of a coherence value on the meter (levels in equal thirds)."""
    bounds = [lo for _, lo in COHERENCE_LEVELS] + [METER_MAX]
    n = len(COHERENCE_LEVELS)
    for i in range(n):
        lo, hi = bounds[i], bounds[i + 1]
        if value < hi or i == n - 1:
            return (i + min(max((value - lo) / (hi - lo), 0.0), 1.0)) / n
    return 1.0


class PacerWidget(QtWidgets.QWidget):
    """A soft circle that grows on the in-breath and shrinks on the out-breath."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.lung = 0.0
        self.text = ""
        self.rate_text = ""
        self.setMinimumSize(320, 320)

    def set_state(self, lung: float, text: str, rate_text: str) -> None:
        """Update the pacer and repaint."""
        self.lung, self.text, self.rate_text = lung, text, rate_text
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        """Draw the guide ring, the breathing disc and the words."""
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height() - 60
        c = QtCore.QPointF(w / 2, h / 2 + 10)
        r_max = min(w, h) / 2 - 10
        r_min = r_max * 0.35
        p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 2, QtCore.Qt.PenStyle.DashLine))
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.drawEllipse(c, r_max, r_max)
        r = r_min + (r_max - r_min) * self.lung
        colour = QtGui.QColor(theme.SKY_BLUE)
        colour.setAlpha(170)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawEllipse(c, r, r)
        p.setPen(QtGui.QColor(theme.TEXT))
        font = p.font()
        font.setPointSize(theme.TITLE_PT)
        p.setFont(font)
        p.drawText(QtCore.QRectF(0, c.y() - 20, w, 40), QtCore.Qt.AlignmentFlag.AlignCenter,
                   self.text)
        font.setPointSize(theme.LABEL_PT)
        p.setFont(font)
        p.setPen(QtGui.QColor(theme.MUTED))
        p.drawText(QtCore.QRectF(0, self.height() - 50, w, 40),
                   QtCore.Qt.AlignmentFlag.AlignCenter, self.rate_text)
        p.end()


class CoherenceMeter(QtWidgets.QWidget):
    """A horizontal meter with the coherence levels as coloured bands and a marker."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.value: float | None = None
        self.setMinimumHeight(70)

    def set_value(self, value: float | None) -> None:
        """Show ``value`` (None: collecting)."""
        self.value = value
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        """Draw the bands, their names and the current value."""
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        w, h = self.width() - 20, 26
        x0, y0 = 10, 8
        bounds = [lo for _, lo in COHERENCE_LEVELS] + [METER_MAX]
        font = p.font()
        font.setPointSize(theme.SMALL_PT)
        p.setFont(font)
        n = len(COHERENCE_LEVELS)
        for i, ((name, lo), hi) in enumerate(zip(COHERENCE_LEVELS, bounds[1:], strict=True)):
            a, b = x0 + w * i / n, x0 + w * (i + 1) / n
            words = f"{name} ≥ {lo:g}" if i else f"{name} < {hi:g}"
            colour = QtGui.QColor(LEVEL_COLOURS[name])
            colour.setAlpha(90)
            p.fillRect(QtCore.QRectF(a, y0, b - a, h), colour)
            p.setPen(QtGui.QColor(theme.MUTED))
            p.drawText(QtCore.QRectF(a, y0 + h + 2, b - a, 24),
                       QtCore.Qt.AlignmentFlag.AlignCenter, words)
        if self.value is not None and math.isfinite(self.value):
            x = x0 + w * meter_position(self.value)
            p.setPen(QtGui.QPen(QtGui.QColor(theme.TEXT), 4))
            p.drawLine(QtCore.QPointF(x, y0 - 4), QtCore.QPointF(x, y0 + h + 4))
        p.end()


def _label(text: str = "", *, size: int = theme.LABEL_PT, name: str | None = None,
           colour: str | None = None) -> QtWidgets.QLabel:
    lab = QtWidgets.QLabel(text)
    if name:
        lab.setObjectName(name)
    style = f"font-size: {size}pt;"
    if colour:
        style += f" color: {colour};"
    lab.setStyleSheet(style)
    lab.setWordWrap(True)
    return lab


class BreatheWindow(QtWidgets.QMainWindow):
    """The breathing window driven by a :class:`coreg.cli.breathe.Driver` on a timer.

    Parameters
    ----------
    driver
        Feeds recorded messages into the run up to an elapsed time.
    args
        The ``coreg breathe`` options (assess, goal, sound, client name).
    folder
        Recordings folder (for the per-client settings).
    speed
        None: real time; a number: times real time; inf: as fast as possible (2 s per frame).
    on_finished
        Called once with the window when the session ends.
    """

    def __init__(self, driver: Any, args: argparse.Namespace, folder: Path,
                 speed: float | None, on_finished: Any = None) -> None:
        super().__init__()
        self.driver = driver
        self.br = driver.br
        self.args = args
        self.folder = folder
        self.speed = speed
        self.on_finished = on_finished
        self.finished = False
        self.virtual_s = 0.0
        self._last_stage = ""
        self.guard = bool_guard()
        mode = "resonance-frequency assessment" if args.assess else "breathing practice"
        self.setWindowTitle(f"coreg breathe — {mode} — SIMULATED")
        self.setStyleSheet(theme.STYLE_SHEET)
        self.resize(1440, 900)
        root = QtWidgets.QWidget()
        self.setCentralWidget(root)
        outer = QtWidgets.QVBoxLayout(root)
        top = QtWidgets.QHBoxLayout()
        title = _label(mode.capitalize(), size=theme.TITLE_PT)
        title.setWordWrap(False)
        sim = QtWidgets.QLabel("SIMULATED")
        sim.setObjectName("simulated")
        self.clock = _label("", colour=theme.MUTED)
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.clock)
        top.addWidget(sim)
        outer.addLayout(top)
        body = QtWidgets.QHBoxLayout()
        outer.addLayout(body, 1)
        left = QtWidgets.QVBoxLayout()
        self.pacer = PacerWidget()
        left.addWidget(self.pacer, 1)
        self.steps = _label("", colour=theme.MUTED)
        left.addWidget(self.steps)
        self.summary = _label("", colour=theme.TEXT)
        self.summary.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop)
        left.addWidget(self.summary)
        left.addStretch(0)
        body.addLayout(left, 2)
        right = QtWidgets.QVBoxLayout()
        body.addLayout(right, 3)
        self.plot = pg.PlotWidget(background=theme.PANEL)
        self.plot.setLabel("left", "heart rate", units="bpm")
        self.plot.setLabel("bottom", "seconds ago")
        self.plot.showGrid(x=True, y=True, alpha=theme.GRID_ALPHA)
        self.plot.setMouseEnabled(False, False)
        self.pacer_curve = self.plot.plot(pen=pg.mkPen(theme.SKY_BLUE, width=2,
                                                       style=QtCore.Qt.PenStyle.DashLine))
        self.hr_curve = self.plot.plot(pen=pg.mkPen(theme.ORANGE, width=3))
        right.addWidget(_label("Your heart rate (orange) against the pacer (blue): "
                               "rising on the in-breath, falling on the out-breath",
                               size=theme.SMALL_PT, colour=theme.MUTED))
        right.addWidget(self.plot, 3)
        row = QtWidgets.QHBoxLayout()
        self.coh_value = _label("coherence collecting…", size=theme.VALUE_PT)
        row.addWidget(self.coh_value)
        self.meter = CoherenceMeter()
        row.addWidget(self.meter, 2)
        right.addLayout(row)
        grid = QtWidgets.QGridLayout()
        self.hr_value = _label("HR collecting…", size=theme.VALUE_PT, colour=theme.ORANGE)
        self.res_value = _label("resonance power collecting…")
        self.rsa_value = _label("heart-rate swing per breath collecting…")
        self.breath_value = _label("breathing rate the heart shows: collecting…")
        grid.addWidget(self.hr_value, 0, 0)
        grid.addWidget(self.res_value, 0, 1)
        grid.addWidget(self.rsa_value, 1, 0)
        grid.addWidget(self.breath_value, 1, 1)
        right.addLayout(grid)
        self.table = QtWidgets.QTableWidget(0, 7)
        self.table.setHorizontalHeaderLabels(
            ["rank", "rate /min", "LF ms²", "swing bpm", "phase °", "one peak", "score"])
        self.table.setStyleSheet(f"font-size: {theme.SMALL_PT}pt;")
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setVisible(bool(args.assess))
        self.table.setMaximumHeight(220)
        right.addWidget(self.table, 2)
        outer.addWidget(_label("coreg informs; it does not diagnose.", name="disclaimer",
                               size=theme.SMALL_PT, colour=theme.MUTED))
        self.elapsed = QtCore.QElapsedTimer()
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(33)
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        """Start the session clock and the redraw timer."""
        self.elapsed.start()
        self.timer.start()

    def session_time(self) -> float:
        """Elapsed session seconds (virtual in fast mode)."""
        if self.speed is not None and math.isinf(self.speed):
            self.virtual_s += 2.0
            return self.virtual_s
        return self.elapsed.elapsed() / 1000.0 * (self.speed or 1.0)

    def tick(self) -> None:
        """Advance the data, redraw everything; end the session at its length."""
        self.guard.check()
        if self.finished:
            return
        self.driver.advance(self.session_time())
        self.redraw()
        if self.driver.done:
            self.finish()

    def redraw(self) -> None:
        """Redraw every element from the run's state."""
        br = self.br
        now = br.now_s
        st = pacer_state(br.schedule, now)
        if self.args.sound and st.stage in ("in", "out") and st.stage != self._last_stage:
            QtWidgets.QApplication.beep()
        self._last_stage = st.stage
        step = br.schedule[st.step_index] if st.step_index >= 0 else None
        rate_text = f"{st.rate_bpm:.1f} breaths/min" if st.rate_bpm else ""
        if self.args.assess and step is not None and step.rate_bpm and \
                now - step.start_s < br.settle_s:
            rate_text += " · settling in (not measured yet)"
        words = "Done — well done" if self.finished else STAGE_TEXT[st.stage]
        self.pacer.set_state(st.lung, words, rate_text)
        dur = self.driver.duration_s
        self.clock.setText(f"{int(now // 60):02d}:{int(now % 60):02d} of "
                           f"{int(dur // 60):02d}:{int(dur % 60):02d}")
        w = br.engine.window(HR_SPAN_S)
        t = w.t_s - w.rr_ms / 2000.0
        hr = 60000.0 / w.rr_ms if len(w.rr_ms) else np.zeros(0)
        sel = t >= now - HR_SPAN_S
        if np.any(sel):
            self.hr_curve.setData(t[sel] - now, hr[sel])
            grid = np.arange(now - HR_SPAN_S, now, 0.25)
            lung = lung_curve(br.schedule, grid)
            lo, hi = float(np.min(hr[sel])), float(np.max(hr[sel]))
            span = max(hi - lo, 4.0)
            self.pacer_curve.setData(grid - now, lo + span * np.nan_to_num(lung, nan=0.5))
        snap = br.snapshot()
        c = snap.coherence.value
        level = coherence_level(c)
        self.meter.set_value(c)
        self.coh_value.setText("coherence collecting…" if c is None else
                               f"coherence {c:.1f} · {level}")
        h = snap.hr_bpm.value
        self.hr_value.setText("HR collecting…" if h is None else f"♥ {h:.0f} bpm")
        r = snap.resonance.value
        self.res_value.setText("resonance power: " + (
            "collecting…" if r is None else f"{r:.0%} at the pacer"))
        a = snap.rsa_bpm.value
        self.rsa_value.setText("heart-rate swing per breath: " + (
            "collecting…" if a is None else f"{a:.1f} bpm"))
        b = snap.breathing_rate_bpm.value
        self.breath_value.setText("breathing rate the heart shows: " + (
            "collecting…" if b is None else f"{b:.1f}/min"))
        if self.args.assess:
            self.steps.setText(self._steps_text(now))

    def _steps_text(self, now: float) -> str:
        lines = ["Assessment steps:"]
        for i, step in enumerate(self.br.schedule):
            if step.rate_bpm is None:
                continue
            end = self.br.schedule[i + 1].start_s if i + 1 < len(self.br.schedule) else math.inf
            mark = "✓" if now >= end else ("▶" if now >= step.start_s else "·")
            lines.append(f"  {mark} {step.rate_bpm:.1f}/min")
        return "\n".join(lines)

    def finish(self) -> None:
        """End: close the recording, show the summary (and ranking), store the chosen rate."""
        from coreg.cli.breathe import final_lines

        self.finished = True
        self.timer.stop()
        self.driver.writer.close("duration reached", t_s=self.br.now_s)
        lines = final_lines(self.args, self.br, self.folder)
        if self.args.assess:
            a = self.br.assessment()
            self.table.setRowCount(len(a.ranking))
            for i, row in enumerate(a.ranking):
                m = row.measure
                vals = [str(row.rank), f"{m.rate_bpm:.1f}", f"{m.lf_power_ms2:.0f}",
                        f"{m.amplitude_bpm:.1f}", f"{m.phase_deg:.0f}", f"{m.smooth:.2f}",
                        f"{row.total:.2f}"]
                for j, v in enumerate(vals):
                    item = QtWidgets.QTableWidgetItem(v)
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                    self.table.setItem(i, j, item)
            lines = [ln for ln in lines if not ln.startswith(("rank ", "   ", "coreg informs"))
                     and not ln[:4].strip().isdigit()]
        else:
            lines = [ln for ln in lines if not ln.startswith("coreg informs")]
        self.summary.setText("\n".join(lines))
        self.pacer.setMinimumSize(200, 200)
        self.pacer.setMaximumHeight(300)  # make room for the summary
        self.steps.setVisible(False)
        self.redraw()
        if self.on_finished is not None:
            self.on_finished(self)

    def save_screenshot(self, path: str | os.PathLike[str]) -> Path:
        """Save the window as PNG."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        layout = self.centralWidget().layout()
        layout.invalidate()
        layout.activate()
        QtWidgets.QApplication.processEvents()
        self.grab().save(str(target))
        return target


def run_window(args: argparse.Namespace, schedule: Any, duration_s: float, folder: Path,
               speed: float | None) -> int:
    """Open the breathing window; with ``--screenshot`` run offscreen, save and quit."""
    if args.screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from coreg.cli.breathe import Driver, open_run

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    sim, writer, br = open_run(args, schedule, duration_s, folder)
    driver = Driver(sim, writer, br, schedule, duration_s)

    def finished(window: BreatheWindow) -> None:
        if args.screenshot:
            print(f"screenshot: {window.save_screenshot(args.screenshot)}")
            app.quit()

    window = BreatheWindow(driver, args, folder, speed, on_finished=finished)
    window.show()
    window.start()
    try:
        app.exec()
    finally:
        if not window.finished:
            window.timer.stop()
            writer.close("window closed", t_s=br.now_s)
        window.close()
        window.deleteLater()
        app.processEvents()
    print(f"recording: {writer.path}")
    return 0
