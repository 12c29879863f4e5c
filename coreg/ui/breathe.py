"""The breathing window (``coreg breathe``): pacer, heart rate against the pacer, coherence meter,
resonance power, RSA per breath, the breathing rate the heart shows, assessment steps and ranking,
and the end summary. Calm colours (theme of :mod:`coreg.ui.theme`); never a number before its
window fills ("collecting…").

Why one module of this size: one window with the small widgets only it uses (the pacer ring,
the coherence meter, the sound cue) and its two entry points (live and replay).
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from coreg.engine.pacer import lung_curve, pacer_state
from coreg.engine.resonance import COHERENCE_LEVELS, coherence_level
from coreg.session.breathe import (
    BreatheAnalysis,
    BreatheConfig,
    BreatheSession,
    RateStore,
    breathe_result,
    replay_config,
)
from coreg.session.headless import failure_lines
from coreg.session.replay import ReplaySession
from coreg.ui import theme
from coreg.ui.layouts import fit_to_screen, flow_row
from coreg.ui.loop import qt_app, run_session_window
from coreg.ui.qt_fixes import bool_guard

if TYPE_CHECKING:
    from coreg.session.runner import Session
    from coreg.ui.settings_dialog import SettingsDialog

log = logging.getLogger(__name__)

#: A sound cue player: called with ``"in"`` or ``"out"``.
CuePlayer: TypeAlias = Callable[[str], None]

#: Seconds of heart rate shown.
HR_SPAN_S = 60.0
STAGE_TEXT = {"in": "Breathe in", "hold-in": "Hold", "out": "Breathe out",
              "hold-out": "Rest", "off": "Breathe naturally"}
LEVEL_COLOURS = {"low": theme.SKY_BLUE, "medium": theme.YELLOW, "high": theme.BLUISH_GREEN}
#: Upper end of the coherence meter; each level takes a third of the meter.
METER_MAX = 8.0
#: IN:OUT choices of the window's ratio control → in-breath share of the breath.
RATIO_CHOICES: dict[str, float] = {"1:1": 0.5, "4:6": 0.4, "1:2": 1 / 3, "3:7": 0.3,
                                   "6:4": 0.6}


def ratio_text(inhale_ratio: float) -> str:
    """The IN:OUT words of an in-breath share (0.4 → "4:6")."""
    for text, share in RATIO_CHOICES.items():
        if abs(share - inhale_ratio) < 1e-6:
            return text
    return f"{inhale_ratio * 10:g}:{(1 - inhale_ratio) * 10:g}"


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
        longest_word = max((metrics.horizontalAdvance(w) for w in text.split(" ")), default=0.0)
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

    def __init__(self, play: CuePlayer | None = None) -> None:
        self._play = play
        self._last_stage = ""
        self.fired: list[tuple[str, float]] = []

    @classmethod
    def open(cls, backend: Callable[[], CuePlayer] | None = None) -> SoundCue:
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


def _qt_beep() -> CuePlayer:
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
        self.setMinimumHeight(60)
        # Each level's words ("medium ≥ 3") fit their third of the scale.
        font = self.font()
        font.setPointSize(theme.SMALL_PT)
        metrics = QtGui.QFontMetrics(font)
        widest = max(metrics.horizontalAdvance(words) for words in self.scale_words())
        self.setMinimumWidth(len(COHERENCE_LEVELS) * (widest + 12) + 20)

    @staticmethod
    def scale_words() -> list[str]:
        """The words under each level of the scale, low to high."""
        bounds = [lo for _, lo in COHERENCE_LEVELS] + [METER_MAX]
        return [f"{name} ≥ {lo:g}" if i else f"{name} < {hi:g}"
                for i, ((name, lo), hi) in enumerate(zip(COHERENCE_LEVELS, bounds[1:],
                                                         strict=True))]

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
        font = p.font()
        font.setPointSize(theme.SMALL_PT)
        p.setFont(font)
        n = len(COHERENCE_LEVELS)
        for i, ((name, _lo), words) in enumerate(zip(COHERENCE_LEVELS, self.scale_words(),
                                                     strict=True)):
            a, b = x0 + w * i / n, x0 + w * (i + 1) / n
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
    config
        How to show it (:class:`coreg.session.breathe.BreatheConfig`).
    duration_s
        Session length in seconds.
    simulated
        Label the window SIMULATED.
    replay
        True for a replay (the title says so; the end keeps the recording untouched).
    on_finished
        Called once with the window when the session ends.
    store_rate
        Keeps an assessment's chosen rate as the client's default and returns the line saying
        so; None stores nothing (a replay).
    """

    def __init__(self, session: Session[BreatheAnalysis] | ReplaySession[BreatheAnalysis],
                 analysis: BreatheAnalysis, config: BreatheConfig,
                 duration_s: float,
                 *, simulated: bool = True, replay: bool = False, source_text: str = "",
                 on_finished: Callable[[BreatheWindow], None] | None = None,
                 sound: SoundCue | None = None, store_rate: RateStore | None = None,
                 opener: Callable[[], BreatheSession] | None = None) -> None:
        super().__init__()
        #: ``opener() -> BreatheSession``: *Start* opens the recorded session only then (the
        #: ``session`` given is an unrecorded stand-in), so nothing is written before Start.
        self.opener = opener
        self.session = session
        self.analysis = analysis
        self.br = analysis.run
        self.config = config
        self.store_rate = store_rate
        self.duration_s = duration_s
        self.replay = replay
        self.on_finished = on_finished
        self.finished = False
        self.sound = sound if sound is not None else (
            SoundCue.open() if config.sound else None)
        fast = not getattr(session, "realtime", True) and getattr(session, "speed", 1) is None
        #: Messages per frame in fast (virtual-clock) mode, so the pacer is seen moving.
        self.max_per_frame: int | None = 4 if fast and not replay else None
        self.guard = bool_guard()
        mode = "resonance-frequency assessment" if config.assess else "breathing practice"
        tags = (["replay"] if replay else []) + (["SIMULATED"] if simulated else [])
        self.setWindowTitle(" — ".join(["coreg breathe", mode, *tags]))
        self.setStyleSheet(theme.STYLE_SHEET)
        fit_to_screen(self, (1440, 900))
        self.paused_rate_bpm: float | None = None
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
        outer.addWidget(self._replay_bar() if replay else self._controls())
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
        # The value above its meter (side by side, a 760-pixel window cut the scale's words).
        self.coh_value = _label("coherence collecting…", size=theme.VALUE_PT)
        right.addWidget(self.coh_value)
        self.meter = CoherenceMeter()
        right.addWidget(self.meter)
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
        self.table.setVisible(config.assess)
        self.table.setMaximumHeight(220)
        right.addWidget(self.table, 2)
        outer.addWidget(_label("coreg informs; it does not diagnose.", name="disclaimer",
                               size=theme.SMALL_PT, colour=theme.MUTED))
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(33)
        self.timer.timeout.connect(self.tick)
        self.started = False
        for keys, slot in (("Ctrl+Q", self.close), ("Space", self._space)):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(keys), self)
            shortcut.activated.connect(slot)
        self._update_controls()

    # -- controls -------------------------------------------------------------------------
    def _button(self, text: str, slot: Callable[[], object], tip: str
                ) -> QtWidgets.QPushButton:
        button = QtWidgets.QPushButton(text)
        button.setToolTip(tip)
        button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        return button

    def _controls(self) -> QtWidgets.QWidget:
        """Start / pause / stop, and the pacer's rate and IN:OUT while practising."""
        self.start_button = self._button("▶ Start", self.start,
                                         "start the session (the recording begins)")
        self.pause_button = self._button("Pause pacer", self.toggle_pause,
                                         "pause the pacer (breathe naturally) or resume it; "
                                         "Space; recorded as a pacer change")
        self.stop_button = self._button("■ Stop", lambda: self.finish("stopped by user"),
                                        "end the session now and save it")
        self.rate_box = QtWidgets.QDoubleSpinBox()
        self.rate_box.setRange(3.0, 10.0)
        self.rate_box.setSingleStep(0.5)
        self.rate_box.setDecimals(2)  # a stored rate (0.1 steps) is shown as it is
        self.rate_box.setSuffix(" breaths/min")
        self.rate_box.setKeyboardTracking(False)
        self.ratio_box = QtWidgets.QComboBox()
        #: IN:OUT text → in-breath share (the choices, plus the session's own if different).
        self.ratio_shares = dict(RATIO_CHOICES)
        self.ratio_box.addItems(list(self.ratio_shares))
        first = self.br.schedule[0] if self.br.schedule else None
        if first is not None and first.rate_bpm:
            self.rate_box.setValue(first.rate_bpm)
            text = ratio_text(first.inhale_ratio)
            if text not in self.ratio_shares:
                self.ratio_shares[text] = first.inhale_ratio
                self.ratio_box.addItem(text)
            self.ratio_box.setCurrentText(text)
        self.rate_box.valueChanged.connect(lambda _v: self.apply_pacer())
        self.ratio_box.currentTextChanged.connect(lambda _t: self.apply_pacer())
        for w in (self.rate_box, self.ratio_box):
            w.setToolTip("change the pacer while practising (recorded as a pacer change)")
        self.settings_button = self._button("Settings…", self.open_settings,
                                            "recordings folder, default straps, pacer "
                                            "defaults, sound, client-view monitor")
        holder, row = flow_row(self.start_button, self.pause_button, self.stop_button,
                               _label("pacer", size=theme.SMALL_PT, colour=theme.MUTED),
                               self.rate_box,
                               _label("IN:OUT", size=theme.SMALL_PT, colour=theme.MUTED),
                               self.ratio_box, self.settings_button)
        for i in range(row.count()):
            item = row.itemAt(i)
            widget = item.widget() if item is not None else None
            if isinstance(widget, QtWidgets.QLabel):
                widget.setWordWrap(False)
        return holder

    def open_settings(self) -> SettingsDialog:
        """The settings dialog (the pacer defaults take effect from the next session)."""
        from coreg.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self, roles=("client",))
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def _replay_bar(self) -> QtWidgets.QWidget:
        """The dyad replay's transport: play/pause, speed, seek slider, position."""
        from coreg.session.replay import SPEEDS, speed_text

        self.play_button = self._button("Pause", self.toggle_play, "play / pause (Space)")
        self.speed_box = QtWidgets.QComboBox()
        self.speed_box.addItems([speed_text(v) for v in SPEEDS])
        self.speed_box.setCurrentText(speed_text(self.playback.speed))
        self.speed_box.currentIndexChanged.connect(lambda i: self.playback.set_speed(SPEEDS[i]))
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setRange(0, max(1, round(self.duration_s * 10)))
        self.slider.setMinimumWidth(300)
        self.slider.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.slider.sliderReleased.connect(lambda: self.seek_to(self.slider.value() / 10))
        self.position = _label("00:00 / 00:00", colour=theme.TEXT)
        self.position.setWordWrap(False)
        replay_tag = _label("REPLAY", colour=theme.SKY_BLUE)
        replay_tag.setWordWrap(False)
        holder, _ = flow_row(replay_tag, self.play_button,
                             _label("speed", size=theme.SMALL_PT, colour=theme.MUTED),
                             self.speed_box, self.slider, self.position)
        return holder

    def _update_controls(self) -> None:
        if self.replay:
            return
        practising = self.started and not self.finished
        self.start_button.setEnabled(not self.started)
        self.pause_button.setEnabled(practising and not self.config.assess)
        self.stop_button.setEnabled(practising)
        # The assessment's steps are fixed: only practice takes rate and IN:OUT changes.
        editable = not self.config.assess and not self.finished
        self.rate_box.setEnabled(editable and self.paused_rate_bpm is None)
        self.ratio_box.setEnabled(editable)
        self.pause_button.setText("Resume pacer" if self.paused_rate_bpm is not None
                                  else "Pause pacer")

    def apply_pacer(self) -> None:
        """Rate or IN:OUT changed: the pacer follows now (recorded), or from the start."""
        if self.replay or self.config.assess or self.finished or not self.started:
            return
        rate = float(self.rate_box.value())
        share = self.ratio_shares.get(self.ratio_box.currentText(), 0.5)
        if self.paused_rate_bpm is not None:
            return  # takes effect on resume
        current = self.analysis.current_step()
        if current is not None and current.rate_bpm is not None \
                and abs(current.rate_bpm - rate) < 0.005 \
                and abs(current.inhale_ratio - share) < 1e-6:
            return
        self.analysis.change_pacer(rate, inhale_ratio=share,
                                   label=f"{rate:g}/min {self.ratio_box.currentText()}")
        self.redraw()

    def toggle_pause(self) -> None:
        """Pause the pacer (breathe naturally; recorded) or resume it at the chosen rate."""
        if self.replay or self.finished or not self.started or self.config.assess:
            return
        if self.paused_rate_bpm is None:
            current = self.analysis.current_step()
            self.paused_rate_bpm = (current.rate_bpm if current is not None and current.rate_bpm
                                    else float(self.rate_box.value()))
            self.analysis.change_pacer(None, label="paused")
        else:
            self.paused_rate_bpm = None
            self.analysis.change_pacer(
                float(self.rate_box.value()),
                inhale_ratio=self.ratio_shares.get(self.ratio_box.currentText(), 0.5),
                label="resumed")
        self._update_controls()
        self.redraw()

    def _space(self) -> None:
        if self.replay:
            self.toggle_play()
        elif not self.started:
            self.start()
        else:
            self.toggle_pause()

    @property
    def playback(self) -> ReplaySession[BreatheAnalysis]:
        """The session as a replay (the replay bar and its actions exist only then)."""
        assert isinstance(self.session, ReplaySession), "a live session has no transport"
        return self.session

    def toggle_play(self) -> None:
        """Replay: play or pause (at the end: from the start again)."""
        if self.playback.at_end and not self.playback.playing:
            self.seek_to(0.0)
        self.playback.toggle()
        self._update_transport()

    def seek_to(self, t_s: float) -> None:
        """Replay: go to ``t_s`` seconds."""
        self.playback.seek(t_s)
        if self.finished and not self.playback.at_end:
            self._resume_after_end()
        self.tick()

    def _update_transport(self) -> None:
        if not self.replay:
            return
        from coreg.session.display import clock_text

        pos = self.session.now_s()
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(round(pos * 10))
            self.slider.blockSignals(False)
        self.position.setText(f"{clock_text(pos)} / {clock_text(self.duration_s)}")
        label = ("Pause" if self.playback.playing else
                 "Play again" if self.playback.at_end else "Play")
        if self.play_button.text() != label:
            self.play_button.setText(label)

    def _resume_after_end(self) -> None:
        """Replay: leaving the end (seek back, play again) shows the running view again."""
        self.finished = False
        self.summary.setText("")
        self.pacer.setMinimumSize(320, 320)
        self.pacer.setMaximumHeight(16_777_215)
        self.steps.setVisible(bool(self.config.assess))

    def start(self) -> None:
        """Start the session (its sources or the replay) and the redraw timer."""
        if self.started:
            return
        if self.opener is not None:
            bs = self.opener()
            self.session, self.analysis, self.duration_s = bs.session, bs.analysis, bs.duration_s
            self.br = self.analysis.run
        self.started = True
        self.session.start()
        if not self.replay and not self.config.assess:
            self.apply_pacer()  # a rate or IN:OUT chosen before Start
        self.timer.start()
        if not self.replay:
            self._update_controls()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if not self.started and not self.replay:
            self.pacer.set_state(0.0, "Press Start when ready", "")

    @property
    def session_done(self) -> bool:
        """True when the session reached its length or its source ended."""
        if isinstance(self.session, ReplaySession):
            return self.session.at_end
        return bool(self.session.finished or self.session.elapsed_s() >= self.duration_s)

    def tick(self) -> None:
        """Feed what arrived, redraw everything; end the session at its length."""
        self.guard.check()
        if self.replay:
            self._update_transport()
            if self.finished and not self.playback.at_end:
                self._resume_after_end()
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
        if self.config.assess and step is not None and step.rate_bpm and \
                now - step.start_s < br.settle_s:
            rate_text += " · settling in (not measured yet)"
        words = "Done\u00a0— well\u00a0done" if self.finished else STAGE_TEXT[st.stage]
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
            grid = np.arange(now - HR_SPAN_S, now, 0.25, dtype=np.float64)
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
            "collecting…" if b is None else f"{b:.1f}/\u2060min"))  # never "4.6/" | "min"
        if self.config.assess:
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
        if self.finished:
            return
        self.finished = True
        if not self.replay:  # a replay's transport stays: play again, seek back
            self.timer.stop()
            self.session.stop(reason)
            self._update_controls()
        else:
            self.playback.pause()
        result = breathe_result(self.br, self.config)
        lines = result.lines()
        a = result.assessment
        if a is not None:
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
            # Every rate in view (a small screen scrolled the last one away): the plot gives up
            # the room.
            self.table.resizeRowsToContents()
            need = (self.table.horizontalHeader().height() + 2 * self.table.frameWidth()
                    + sum(self.table.rowHeight(i) for i in range(len(a.ranking))))
            self.table.setMinimumHeight(need)
            self.table.setMaximumHeight(max(need, 220))
            lines.append(a.statement)
            stored = self.store_rate(a) if self.store_rate is not None else ""
            if stored:
                lines.append(stored)
        if self.analysis.error:
            lines.append(f"The strap failed: {self.analysis.error}")
        self.summary.setText("\n".join(lines))
        self.pacer.setMinimumSize(200, 200)
        self.pacer.setMaximumHeight(300)  # make room for the summary
        self.steps.setVisible(False)
        self.redraw()
        self._update_transport()
        if self.on_finished is not None:
            self.on_finished(self)

    def end_session(self, reason: str = "stopped") -> None:
        """Stop the session now if it has not finished (the recording ends with ``reason``;
        no summary: that is :meth:`finish`, at the session's end)."""
        if not self.finished:
            self.timer.stop()
            self.session.stop(reason)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Closing the window mid-session stops it (the recording ends cleanly)."""
        self.end_session("window closed")
        super().closeEvent(event)

    def save_screenshot(self, path: str | os.PathLike[str]) -> Path:
        """Save the window as PNG."""
        from coreg.ui.pictures import save_png

        central = self.centralWidget()
        layout = central.layout() if central is not None else None
        if layout is not None:
            layout.invalidate()
            layout.activate()
        QtWidgets.QApplication.processEvents()
        return save_png(self, path)


def run_window(bs: BreatheSession, config: BreatheConfig, *, source: str = "",
               screenshot: str | None = None, store_rate: RateStore | None = None,
               opener: Callable[[], BreatheSession] | None = None,
               size: tuple[int, int] | None = None) -> int:
    """Open the breathing window on a :class:`coreg.session.breathe.BreatheSession`; with
    ``screenshot`` run offscreen, save it there at the end and quit.

    With ``opener`` (an interactive window) ``bs`` is an unrecorded stand-in and the window
    waits for *Start*, which opens the recorded session; otherwise it starts at once.
    ``size`` (w, h) sets the window's size; else it opens as it was last closed.
    """
    app = qt_app(offscreen=bool(screenshot))

    def finished(window: BreatheWindow) -> None:
        if screenshot:
            print(f"screenshot: {window.save_screenshot(screenshot)}")
            app.quit()

    window = BreatheWindow(bs.session, bs.analysis, config, bs.duration_s,
                           simulated=bs.simulated, source_text=source,
                           on_finished=finished, store_rate=store_rate, opener=opener)
    # Closing the window stops the session: the recording ends with "window closed".
    code = run_session_window(app, window, window.end_session,
                              geometry="" if screenshot else "breathe", size=size,
                              start=window.start if opener is None else None)
    session = window.session
    assert not isinstance(session, ReplaySession)  # a live run: its window never replays
    path = session.recording_path
    print(f"recording: {path}" if path else "nothing recorded (Start was not pressed)")
    # A strap that failed: said once on stderr, and never a clean exit (as coreg live's).
    lines, failed = failure_lines("coreg breathe", session.source_errors, session.loop_errors,
                                  name_roles=False)
    for line in lines:
        print(line, file=sys.stderr, flush=True)
    return code or failed


def run_replay_window(replay: ReplaySession[BreatheAnalysis], title: str, *,
                      screenshot: str | None = None,
                      start_s: float = 0.0, size: tuple[int, int] | None = None) -> int:
    """Replay a breathing recording in the breathing window (pacer from the recorded lines);
    with ``screenshot`` play to the end offscreen, save it there and quit."""
    app = qt_app(offscreen=bool(screenshot))
    rec = replay.recording

    def finished(window: BreatheWindow) -> None:
        if screenshot:
            print(f"screenshot: {window.save_screenshot(screenshot)}")
            app.quit()

    window = BreatheWindow(replay, replay.analysis, replay_config(rec), replay.duration_s,
                           simulated=rec.simulation is not None, replay=True,
                           source_text=title, on_finished=finished)
    if start_s:
        replay.seek(start_s)
    return run_session_window(app, window, window.end_session,
                              geometry="" if screenshot else "breathe-replay", size=size,
                              start=window.start)
