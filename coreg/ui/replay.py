"""The replay window: the live window on a recording, with a transport bar.

Play/pause, speed (1×, 2×, 4×, 10×, max), a seek slider, jump to the previous/next marker.
The figures come from :class:`coreg.session.replay.ReplaySession`, which feeds the recording
through the same live analysis as a live session.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from coreg.session.display import clock_text
from coreg.session.figures import LiveAnalysis
from coreg.session.replay import SPEEDS, ReplaySession, speed_text
from coreg.ui import theme
from coreg.ui.loop import qt_app, run_session_window
from coreg.ui.main_window import LiveWindow
from coreg.ui.panels import _label

#: Slider resolution: steps per second.
SLIDER_STEPS_PER_S = 10

REPLAY_HELP = """<h2>Replay</h2>
<table cellspacing="8" align="center">
<tr><td><b>Space</b></td><td>play / pause (at the end: play again)</td></tr>
<tr><td><b>← →</b> (Shift: 60 s)</td><td>back / forward 10 s</td></tr>
<tr><td><b>P</b> / <b>N</b></td><td>previous / next marker</td></tr>
<tr><td><b>Home</b></td><td>back to the start</td></tr>
<tr><td><b>1 2 4 0 X</b></td><td>speed 1× 2× 4× 10× max</td></tr>
<tr><td><b>M</b></td><td>draw a marker (not saved: the recording is read-only)</td></tr>
<tr><td><b>C</b> · <b>F11</b> · <b>?</b></td><td>client view · full screen · this help</td></tr>
</table>
<p>Every figure is recomputed from the recorded RR intervals exactly as in the live session.</p>
<p><i>coreg informs; it does not diagnose.</i></p><p>Press any key to close.</p>"""

TRANSPORT_KEYS = ("Space play/pause · ←/→ 10 s · Shift+←/→ 60 s · N/P next/previous marker · "
                  "Home start · 1 2 4 0 X speed 1×/2×/4×/10×/max")


class ReplayWindow(LiveWindow):
    """:class:`LiveWindow` on a :class:`ReplaySession`, with a transport bar."""

    def __init__(self, replay: ReplaySession[LiveAnalysis], *, title: str = "coreg replay",
                 on_finished: Callable[[LiveWindow], None] | None = None) -> None:
        simulated = any(replay.analysis._tracks[r].simulated for r in replay.roles)
        names = {role: role for role in replay.roles}
        super().__init__(replay, title=title, simulated=simulated, names=names,
                         on_finished=on_finished, autostart=False, session_factory=None)
        self.replay = replay
        central = self.centralWidget()
        assert central is not None  # the live window always sets one
        root = central.layout()
        assert isinstance(root, QtWidgets.QVBoxLayout)
        # The live window's source choosers mean nothing in a replay.
        self.source_bar.hide()
        self.stop_button.hide()
        root.insertLayout(1, self._transport_bar())
        # The header's file name is shown once (beside ▶); the title label says what it holds.
        shown = title.replace("coreg replay ", "")
        what = shown.split(" — ", 1)[1] if " — " in shown else shown
        if simulated:  # the yellow badge already says SIMULATED
            what = what.removeprefix("SIMULATED").strip(" ()") or what
        self.title_label.setText(what)
        # The transport bar shows the time ("10:00 / 10:00"); the header's clock gives way.
        self.elapsed_label.hide()
        # A short scenario name is shown whole ("coupled, seed 1"); a long one clips.
        self.title_label.setMinimumWidth(min(self.title_label.sizeHint().width(), 220))
        self.title_label.setToolTip(shown)
        self.help_overlay.setText(REPLAY_HELP)

        for keys, slot in (
            ("Space", self.toggle_play),
            ("Right", lambda: self.seek_by(10.0)), ("Left", lambda: self.seek_by(-10.0)),
            ("Shift+Right", lambda: self.seek_by(60.0)),
            ("Shift+Left", lambda: self.seek_by(-60.0)),
            ("N", lambda: self.jump_marker(True)), ("P", lambda: self.jump_marker(False)),
            ("Home", lambda: self.seek_to(0.0)),
            ("1", lambda: self.set_speed(1.0)), ("2", lambda: self.set_speed(2.0)),
            ("4", lambda: self.set_speed(4.0)), ("0", lambda: self.set_speed(10.0)),
            ("X", lambda: self.set_speed(math.inf)),
        ):
            self._add_shortcut(keys, slot)

    def _transport_bar(self) -> QtWidgets.QLayout:
        row = QtWidgets.QHBoxLayout()
        self.play_button = QtWidgets.QPushButton("Pause")
        self.play_button.setMinimumWidth(110)
        self.play_button.clicked.connect(self.toggle_play)
        self.prev_button = QtWidgets.QPushButton("◀ marker (P)")
        self.prev_button.clicked.connect(lambda: self.jump_marker(False))
        self.next_button = QtWidgets.QPushButton("marker ▶ (N)")
        self.next_button.clicked.connect(lambda: self.jump_marker(True))
        self.speed_box = QtWidgets.QComboBox()
        self.speed_box.addItems([speed_text(s) for s in SPEEDS])
        self.speed_box.setCurrentText(speed_text(self.replay.speed))
        self.speed_box.currentIndexChanged.connect(
            lambda i: self.set_speed(SPEEDS[i], from_box=True))
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setRange(0, max(1, round(self.replay.duration_s * SLIDER_STEPS_PER_S)))
        self.slider.setPageStep(60 * SLIDER_STEPS_PER_S)
        self.slider.setSingleStep(10 * SLIDER_STEPS_PER_S)
        self.slider.sliderReleased.connect(
            lambda: self.seek_to(self.slider.value() / SLIDER_STEPS_PER_S))
        self.slider.actionTriggered.connect(self._slider_action)
        self.position_label = _label("00:00 / 00:00", theme.LABEL_PT, theme.TEXT, bold=True)
        self.seeking_label = _label("", theme.SMALL_PT, theme.MUTED)
        markers = len(self.replay.cursor.markers)
        self.markers_label = _label(f"{markers} marker{'s' if markers != 1 else ''}",
                                    theme.SMALL_PT, theme.MUTED)
        for w in (self.play_button, self.prev_button, self.next_button, self.speed_box,
                  self.slider):
            w.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
            w.setToolTip(TRANSPORT_KEYS)
        row.addWidget(_label("REPLAY", theme.LABEL_PT, theme.SKY_BLUE, bold=True))
        row.addWidget(self.play_button)
        row.addWidget(_label("speed", theme.SMALL_PT, theme.MUTED))
        row.addWidget(self.speed_box)
        row.addWidget(self.prev_button)
        row.addWidget(self.next_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.position_label)
        row.addWidget(self.markers_label)
        row.addWidget(self.seeking_label)
        return row

    # -- transport ------------------------------------------------------------------------
    def start(self) -> None:
        """Start playing (a replay never records)."""
        self.replay.start()
        self._set_rec_text(f"▶ {Path(self.replay.recording_path).name}")
        self._set_choosing(False)
        self.timer.start(30)

    def end_session(self, reason: str = "stopped") -> None:
        """Stop playing (the window closes); nothing was recorded."""
        super().end_session(reason)
        self._set_rec_text(f"replayed {Path(self.replay.recording_path).name}")

    def toggle_play(self) -> None:
        """Space: play or pause (at the end, play starts again from the beginning)."""
        if self.replay.at_end and not self.replay.playing:
            self.replay.seek(0.0)
        self.replay.toggle()
        self._update_transport()

    def set_speed(self, speed: float, from_box: bool = False) -> None:
        """1/2/4/0/X: playback speed."""
        self.replay.set_speed(speed)
        if not from_box:
            self.speed_box.blockSignals(True)
            self.speed_box.setCurrentText(speed_text(speed))
            self.speed_box.blockSignals(False)

    def seek_to(self, t_s: float) -> None:
        """Go to ``t_s`` seconds into the recording."""
        self.replay.seek(t_s)
        self.frame(force_slow=True)

    def seek_by(self, delta_s: float) -> None:
        """←/→: seek relative to the current position."""
        self.seek_to(self.replay.now_s() + delta_s)

    def jump_marker(self, forward: bool) -> None:
        """N/P: the next or previous marker."""
        if self.replay.jump_marker(forward) is not None:
            self.frame(force_slow=True)

    def _slider_action(self, action: int) -> None:
        if action in (QtWidgets.QAbstractSlider.SliderAction.SliderMove.value,
                      QtWidgets.QAbstractSlider.SliderAction.SliderNoAction.value):
            return
        QtCore.QTimer.singleShot(
            0, lambda: self.seek_to(self.slider.sliderPosition() / SLIDER_STEPS_PER_S))

    # -- frames ---------------------------------------------------------------------------
    def frame(self, force_slow: bool = False) -> None:
        """One tick: the live window's frame, then the transport bar."""
        super().frame(force_slow)
        if hasattr(self, "slider"):
            self._update_transport()

    def _update_transport(self) -> None:
        replay = self.replay
        pos = replay.now_s()
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(round(pos * SLIDER_STEPS_PER_S))
            self.slider.blockSignals(False)
        text = f"{clock_text(pos)} / {clock_text(replay.duration_s)}"
        if self.position_label.text() != text:
            self.position_label.setText(text)
        label = "Pause" if replay.playing else ("Play again" if replay.at_end else "Play")
        if self.play_button.text() != label:
            self.play_button.setText(label)
        seeking = "seeking…" if replay.seeking else ("end" if replay.at_end else "")
        if self.seeking_label.text() != seeking:
            self.seeking_label.setText(seeking)


def run_replay_window(replay: ReplaySession[LiveAnalysis], title: str, *,
                      screenshot: str | None = None,
                      start_s: float = 0.0, size: tuple[int, int] | None = None) -> int:
    """Open the replay window; with ``screenshot`` play to the end offscreen, save, quit."""
    app = qt_app(offscreen=bool(screenshot))
    saved: list[Path] = []
    window = ReplayWindow(replay, title=title)

    def start() -> None:
        window.start()
        if start_s:
            window.seek_to(start_s)
        if screenshot:
            watcher = QtCore.QTimer(window)
            watcher.timeout.connect(check_end)
            watcher.start(50)

    def check_end() -> None:
        if screenshot and replay.at_end and not replay.seeking and not saved:
            saved.extend(window.save_screenshots(screenshot))
            app.quit()

    code = run_session_window(app, window, window.end_session,
                              geometry="" if screenshot else "replay", size=size, start=start,
                              also_close=(window.client_view,))
    for path in saved:
        print(f"screenshot: {path}")
    return code
