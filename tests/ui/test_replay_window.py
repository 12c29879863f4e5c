"""The replay window: transport bar on a recording (pytest-qt, offscreen)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
from PySide6 import QtCore

from coreg.recording import read_recording
from coreg.session import open_session
from coreg.session.replay import ReplaySession
from coreg.ui.replay import ReplayWindow

WAIT_MS = 60_000


def _record(path: Path, duration_s: float = 90.0, mark_at_s: float = 50.0) -> None:
    session, _ = open_session("sim:coupled", None, duration_s=duration_s, realtime=False,
                              path=path)
    session.start()
    deadline = time.monotonic() + 30.0
    marked = False
    while not session.finished and time.monotonic() < deadline:
        session.poll(max_messages=50)
        if not marked and session.elapsed_s() >= mark_at_s:
            session.mark("topic change")
            marked = True
        time.sleep(0.0005)
    session.stop("end of test")
    assert marked


def test_replay_window_transport(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "rec.jsonl"
    _record(path)
    size_before = path.stat().st_size
    replay = ReplaySession(read_recording(path), speed=math.inf)
    window = ReplayWindow(replay, title="coreg replay rec.jsonl")
    qtbot.addWidget(window)
    window.show()
    window.start()
    client = window.person_panels["client"]
    assert window.simulated_label.isVisible()
    assert not window.stop_button.isVisible()
    qtbot.waitUntil(lambda: replay.at_end, timeout=WAIT_MS)
    window.frame(force_slow=True)
    assert window.play_button.text() == "Play again"
    assert window.position_label.text() == "01:30 / 01:30"
    assert window.slider.value() == window.slider.maximum()
    assert 40 <= int(client.hr.text()) <= 130
    assert window.sync_panel is not None and window.sync_panel.markers.visible_count == 1
    assert not window.ended

    # Home: back to the start (figures rebuilt), pause, then jump to the marker (N).
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Home)
    assert replay.now_s() < 1.0
    assert window.sync_panel.markers.visible_count == 0
    window.toggle_play()
    window.toggle_play()  # playing → paused
    assert not replay.playing
    qtbot.keyClick(window, QtCore.Qt.Key.Key_N)
    qtbot.waitUntil(lambda: not replay.seeking, timeout=WAIT_MS)
    window.frame(force_slow=True)
    marker_s = replay.recording.markers[0].t_s
    assert replay.now_s() == pytest.approx(marker_s)
    assert client.hr_markers.visible_count == 1
    # speed keys
    qtbot.keyClick(window, QtCore.Qt.Key.Key_4)
    assert replay.speed == 4.0 and window.speed_box.currentText() == "4×"
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Left)
    assert replay.now_s() == pytest.approx(marker_s - 10.0, abs=0.5)
    # Closing the window leaves the recording untouched.
    window.close()
    assert window.ended
    assert path.stat().st_size == size_before
