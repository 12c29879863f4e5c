"""The breathing window (``coreg breathe``): pacer, heart rate against the pacer, coherence meter,
resonance power, RSA per breath, the breathing rate the heart shows, assessment steps and ranking,
and the end summary. Calm colours (theme of :mod:`coreg.ui.theme`); never a number before its
window fills ("collecting…").
"""

from __future__ import annotations

import argparse
import logging
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

log = logging.getLogger(__name__)

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


def text_box(centre: QtCore.QPointF, ring_radius: float) -> QtCore.QRectF:
    """The square inside the pacer's guide ring where its words go."""
    half = ring_radius * 0.68  # a little inside the inscribed square (r/√2 ≈ 0.71 r)
    return QtCore.QRectF(centre.x() - half, centre.y() - half, 2 * half, 2 * half)


def fitting_point_size(font: QtGui.QFont, text: str, box: QtCore.QRectF,
                       largest_pt: int, smallest_pt: int = 8) -> int:
    """The largest point size ≤ ``largest_pt`` at which ``text`` (word-wrapped) fits ``box``."""
    flags = int(QtCore.Qt.AlignmentFlag.AlignCenter | QtCore.Qt.TextFlag.TextWordWrap)
    probe = QtGui.QFont(font)
    for size in range(largest_pt, smallest_pt - 1, -1):
        probe.setPointSize(size)
        metrics = QtGui.QFontMetricsF(probe)
        need = metrics.boundingRect(box, flags, text)
        longest_word = max((metrics.horizontalAdvance(w) for w in text.split()), default=0.0)
        if need.width() <= box.width() and need.height() <= box.height() \
                and longest_word <= box.width():
            return size
    return smallest_pt


class SoundCue:
    """The optional sound cue: a short sound when the in-breath and the out-breath begin.

    Parameters
    ----------
    play
        Plays the cue for ``"in"`` or ``"out"``; None is silence. :meth:`open` picks the
        system's alert sound (``QApplication.beep``) when a Qt application runs.

    Attributes
    ----------
    fired
        ``(stage, pacer time s)`` of every cue given (tests look here: no audio device needed).
    """

    def __init__(self, play: Any = None) -> None:
        self._play = play
        self._last_stage = ""
        self.fired: list[tuple[str, float]] = []

    @classmethod
    def open(cls, backend: Any = None) -> SoundCue:
        """A cue on ``backend()`` (default: the Qt system sound); silence, with one log line,
        when no audio backend can be had."""
        try:
            play = backend() if backend is not None else _qt_beep()
        except Exception as exc:  # no audio: the pacer is enough
            log.warning("no audio backend for the sound cue (%s): the cue stays silent", exc)
            play = None
        return cls(play)

    @property
    def silent(self) -> bool:
        """True when the cue makes no sound."""
        return self._play is None

    def update(self, stage: str, t_s: float) -> str | None:
        """Give the cue if the pacer just entered ``"in"`` or ``"out"``; return that stage."""
        fire = stage in ("in", "out") and stage != self._last_stage
        self._last_stage = stage
        if not fire:
            return None
        self.fired.append((stage, t_s))
        if self._play is not None:
            try:
                self._play(stage)
            except Exception as exc:
                log.warning("the sound cue failed (%s): it stays silent from now on", exc)
                self._play = None
        return stage


def _qt_beep() -> Any:
    app = QtWidgets.QApplication.instance()
    if app is None:
        raise RuntimeError("no Qt application")

    def play(_stage: str) -> None:
        QtWidgets.QApplication.beep()

    return play


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
        box = text_box(c, r_max)
        font.setPointSize(fitting_point_size(font, self.text, box, theme.TITLE_PT))
        p.setFont(font)
        p.drawText(box, int(QtCore.Qt.AlignmentFlag.AlignCenter | QtCore.Qt.TextFlag.TextWordWrap),
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
    """The breathing window, driven by a session (live) or a replay on a redraw timer.

    Parameters
    ----------
    session
        A :class:`coreg.session.runner.Session` (not yet started) or a
        :class:`coreg.session.replay.ReplaySession` of a breathing recording. Its analysis is
        ``analysis``.
    analysis
        The :class:`coreg.session.breathe.BreatheAnalysis` the session feeds.
    args
        Options: ``assess``, ``goal``, ``sound``, ``client_name``.
    folder
        Recordings folder for the per-client settings; None stores nothing (replay).
    duration_s
        Session length in seconds.
    simulated
        Label the window SIMULATED.
    replay
        True for a replay (the title says so; the end keeps the recording untouched).
    on_finished
        Called once with the window when the session ends.
    """

    def __init__(self, session: Any, analysis: Any, args: argparse.Namespace,
                 folder: Path | None, duration_s: float, *, simulated: bool = True,
                 replay: bool = False, source_text: str = "", on_finished: Any = None,
                 sound: SoundCue | None = None) -> None:
        super().__init__()
        self.session = session
        self.analysis = analysis
        self.br = analysis.run
        self.args = args
        self.folder = folder
        self.duration_s = duration_s
        self.replay = replay
        self.on_finished = on_finished
        self.finished = False
        self.sound = sound if sound is not None else (
            SoundCue.open() if getattr(args, "sound", False) else None)
        fast = not getattr(session, "realtime", True) and getattr(session, "speed", 1) is None
        #: Messages per frame in fast (virtual-clock) mode, so the pacer is seen moving.
        self.max_per_frame: int | None = 4 if fast and not replay else None
        self.guard = bool_guard()
        mode = "resonance-frequency assessment" if args.assess else "breathing practice"
        tags = (["replay"] if replay else []) + (["SIMULATED"] if simulated else [])
        self.setWindowTitle(" — ".join(["coreg breathe", mode, *tags]))
        self.setStyleSheet(theme.STYLE_SHEET)
        self.resize(1440, 900)
        root = QtWidgets.QWidget()
        self.setCentralWidget(root)
        outer = QtWidgets.QVBoxLayout(root)
        top = QtWidgets.QHBoxLayout()
        title = _label(("Replay: " if replay else "") + mode.capitalize(), size=theme.TITLE_PT)
        title.setWordWrap(False)
        self.clock = _label("", colour=theme.MUTED)
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.clock)
        if simulated:
            sim = QtWidgets.QLabel("SIMULATED")
            sim.setObjectName("simulated")
            top.addWidget(sim)
        outer.addLayout(top)
        if source_text:
            outer.addWidget(_label(source_text, size=theme.SMALL_PT, colour=theme.MUTED))
        body = QtWidgets.QHBoxLayout()
        outer.addLayout(body, 1)
        left = QtWidgets.QVBoxLayout()
        self.pacer = PacerWidget()
        left.addWidget(self.pacer, 1)
        self.device = _label("", size=theme.SMALL_PT, name="device", colour=theme.MUTED)
        self.device.setVisible(False)
        left.addWidget(self.device)
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
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(33)
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        """Start the session (its sources or the replay) and the redraw timer."""
        self.session.start()
        self.timer.start()

    @property
    def session_done(self) -> bool:
        """True when the session reached its length or its source ended."""
        if self.replay:
            return bool(self.session.at_end)
        return bool(self.session.finished or self.session.elapsed_s() >= self.duration_s)

    def tick(self) -> None:
        """Feed what arrived, redraw everything; end the session at its length."""
        self.guard.check()
        if self.finished:
            return
        self.session.poll(max_messages=self.max_per_frame)
        self.session.sync_recording()
        if self.session.analysis is not self.analysis:  # a replay rebuilt it (seek back)
            self.analysis = self.session.analysis
            self.br = self.analysis.run
        self.redraw()
        if self.session_done:
            self.finish()

    def redraw(self) -> None:
        """Redraw every element from the run's state."""
        br = self.br
        now = br.now_s
        st = pacer_state(br.schedule, now)
        if self.sound is not None and not self.finished:
            self.sound.update(st.stage, now)
        step = br.schedule[st.step_index] if st.step_index >= 0 else None
        rate_text = f"{st.rate_bpm:.1f} breaths/min" if st.rate_bpm else ""
        if self.args.assess and step is not None and step.rate_bpm and \
                now - step.start_s < br.settle_s:
            rate_text += " · settling in (not measured yet)"
        words = "Done — well done" if self.finished else STAGE_TEXT[st.stage]
        self.pacer.set_state(st.lung, words, rate_text)
        dur = self.duration_s
        self.clock.setText(f"{int(now // 60):02d}:{int(now % 60):02d} of "
                           f"{int(dur // 60):02d}:{int(dur % 60):02d}")
        state = self.analysis.device_state
        if self.finished and not self.analysis.error:
            state = ""  # the session ended as planned: the strap's own stop is no news
        if state != self.device.text():
            self.device.setText(state)
            self.device.setVisible(bool(state))
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

    def finish(self, reason: str = "duration reached") -> None:
        """End: stop the session (closing the recording), show the summary (and ranking),
        store the chosen rate (not in a replay)."""
        from coreg.cli.breathe import final_lines

        self.finished = True
        self.timer.stop()
        self.session.stop(reason)
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
        if self.analysis.error:
            lines.append(f"The strap failed: {self.analysis.error}")
        self.summary.setText("\n".join(lines))
        self.pacer.setMinimumSize(200, 200)
        self.pacer.setMaximumHeight(300)  # make room for the summary
        self.steps.setVisible(False)
        self.redraw()
        if self.on_finished is not None:
            self.on_finished(self)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Closing the window mid-session stops it (the recording ends cleanly)."""
        if not self.finished:
            self.timer.stop()
            self.session.stop("window closed")
        super().closeEvent(event)

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


def _exec(app: QtWidgets.QApplication, window: BreatheWindow) -> int:
    """Show ``window``, run the Qt loop; return 0, or 128 + the signal that ended it."""
    from coreg.ui.app import QtSignals

    def interrupted(_signum: int) -> None:
        if not window.finished:
            window.timer.stop()
            window.session.stop("interrupted")
        window.close()
        app.quit()

    # Ctrl+C / kill / hang-up: stop the strap and close the recording, then leave the Qt loop
    # at once (also after the session has ended, when no timer runs).
    signals = QtSignals(app, interrupted)
    window.show()
    window.start()
    try:
        app.exec()
    finally:
        signals.close()
        if not window.finished:
            window.timer.stop()
            window.session.stop("window closed")
        window.close()
        window.deleteLater()
        app.processEvents()
    return signals.exit_code


def run_window(args: argparse.Namespace, bs: Any, folder: Path) -> int:
    """Open the breathing window on a :class:`coreg.session.breathe.BreatheSession`; with
    ``--screenshot`` run offscreen, save at the end and quit."""
    if args.screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from coreg.cli.breathe import source_text

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])

    def finished(window: BreatheWindow) -> None:
        if args.screenshot:
            print(f"screenshot: {window.save_screenshot(args.screenshot)}")
            app.quit()

    window = BreatheWindow(bs.session, bs.analysis, args, folder, bs.duration_s,
                           simulated=bs.simulated, source_text=source_text(args, bs),
                           on_finished=finished)
    code = _exec(app, window)
    print(f"recording: {bs.session.recording_path}")
    return code


def run_replay_window(args: argparse.Namespace, replay: Any, title: str) -> int:
    """Replay a breathing recording in the breathing window (pacer from the recorded lines);
    with ``--screenshot`` play to the end offscreen, save and quit."""
    if args.screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    rec = replay.recording
    settings = rec.header.get("settings", {}) or {}
    opts = argparse.Namespace(assess=bool(settings.get("assess")), goal=None, sound=False,
                              client_name=str(settings.get("client_name") or "client"))

    def finished(window: BreatheWindow) -> None:
        if args.screenshot:
            print(f"screenshot: {window.save_screenshot(args.screenshot)}")
            app.quit()

    window = BreatheWindow(replay, replay.analysis, opts, None, replay.duration_s,
                           simulated=rec.simulation is not None, replay=True,
                           source_text=title, on_finished=finished)
    if getattr(args, "start", 0.0):
        replay.seek(args.start)
    return _exec(app, window)
