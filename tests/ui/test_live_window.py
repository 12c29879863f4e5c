"""The live window on simulated straps at high speed (pytest-qt, offscreen)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
from PySide6 import QtCore

from coreg.session import open_session
from coreg.ui.main_window import LiveWindow

WAIT_MS = 60_000


def _window(qtbot, tmp_path: Path, scenario: str, duration_s: float,  # type: ignore[no-untyped-def]
            speed: float) -> LiveWindow:
    session, resolved = open_session(f"sim:{scenario}", None, duration_s=duration_s, seed=3,
                                     realtime=False, speed=speed, path=tmp_path / "rec.jsonl")
    window = LiveWindow(session, title="test", simulated=resolved.simulated,
                        duration_s=duration_s, autostart=False)
    window.session_truth = resolved.simulation  # type: ignore[attr-defined]
    qtbot.addWidget(window)
    window.show()
    window.start()
    return window


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_dropout_marker_and_reconnect(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # "dropout": the client's strap loses skin contact for a while, later disconnects and
    # reconnects (times from the simulation's ground truth).
    duration_s = 180.0
    window = _window(qtbot, tmp_path, "dropout", duration_s, speed=25.0)
    truth = window.session_truth["truth"]
    (t0, t1), = truth["disconnects"]["client"]
    assert t1 < duration_s - 10.0
    assert window.simulated_label.isVisible()
    client, therapist = window.person_panels["client"], window.person_panels["therapist"]

    qtbot.waitUntil(lambda: window.session.view.elapsed_s >= 40.0, timeout=WAIT_MS)
    window.drop_marker("client laughed")
    assert client.hr_markers.visible_count == 1  # just dropped: inside the 60 s HR plot
    # During the disconnect the panel says so, and the client's HR is blanked, not frozen.
    qtbot.waitUntil(lambda: client.connection.text().startswith("reconnecting"),
                    timeout=WAIT_MS)
    assert t0 <= window.session.view.elapsed_s <= t1 + 1.0
    qtbot.waitUntil(lambda: client.hr.text() == "—", timeout=WAIT_MS)
    assert therapist.connection.text() == "connected"
    qtbot.waitUntil(lambda: window.ended, timeout=WAIT_MS)

    fig = window.session.view
    assert fig.elapsed_s == pytest.approx(duration_s)
    # Both stream again at the end: plausible HR numbers and a filled 60 s curve.
    assert client.connection.text() == "connected"
    for panel in (client, therapist):
        assert 40 <= int(panel.hr.text()) <= 130
        x, _ = panel.hr_curve.getData()
        assert x is not None and -5.0 < x.max() <= 0.5
    assert therapist.hr_curve.getData()[0].min() < -55  # a full minute of beats
    assert client.hr_curve.getData()[0].min() > -(duration_s - t1) - 2.0  # no invented beats
    # The marker is drawn on every time axis whose range holds it, and recorded.
    assert client.hr_markers.visible_count == 0  # > 60 s ago: outside the HR plot
    assert client.trend_markers.visible_count == 1
    assert therapist.trend_markers.visible_count == 1
    assert window.sync_panel is not None and window.sync_panel.markers.visible_count == 1
    lines = _lines(tmp_path / "rec.jsonl")
    markers = [line for line in lines if line["type"] == "marker"]
    assert [m["note"] for m in markers] == ["client laughed"]
    assert 40.0 <= markers[0]["t"] <= t0
    assert lines[-1] == {"type": "end", "reason": "duration reached", "t": duration_s}
    kinds = [line["kind"] for line in lines if line["type"] == "event"
             and line["role"] == "client"]
    assert "disconnected" in kinds and "reconnecting" in kinds


def test_marker_key_with_note_and_close_mid_session(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, tmp_path, "coupled", 600.0, speed=20.0)
    qtbot.waitUntil(lambda: window.session.view.elapsed_s >= 5.0, timeout=WAIT_MS)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_M)
    assert window.note_edit.isVisible()
    qtbot.keyClicks(window.note_edit, "silence")
    qtbot.keyClick(window.note_edit, QtCore.Qt.Key.Key_Return)
    assert not window.note_edit.isVisible()
    assert window.session.markers[-1].note == "silence"
    hr_lines = window.person_panels["client"].hr_markers
    assert hr_lines.visible_count == 1  # just dropped: inside the 60 s HR plot
    window.toggle_help()
    assert window.help_overlay.isVisible()
    window.toggle_help()
    window.toggle_client_view()
    assert window.client_view.isVisible()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_F11)
    assert window.windowState() & QtCore.Qt.WindowState.WindowFullScreen
    window.toggle_fullscreen()
    assert not window.windowState() & QtCore.Qt.WindowState.WindowFullScreen
    # Close mid-session: straps stopped, recording closed with an end line.
    window.close()
    assert window.ended
    thread = window.session._thread
    assert thread is not None and not thread.is_alive()
    lines = _lines(tmp_path / "rec.jsonl")
    assert lines[-1]["type"] == "end" and lines[-1]["reason"] == "window closed"
    assert lines[-1]["t"] < 600.0
    assert any(line["type"] == "marker" and line["note"] == "silence" for line in lines)


def test_stop_then_start_a_new_session_from_the_window(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def factory(client: str, therapist: str):  # type: ignore[no-untyped-def]
        return open_session(client, therapist, duration_s=60.0, realtime=False, speed=50.0,
                            folder=tmp_path)

    session, _ = factory("sim:coupled", "sim:coupled")
    window = LiveWindow(session, title="test", simulated=True, autostart=False,
                        session_factory=factory,
                        sources={"client": "sim:coupled", "therapist": "sim:coupled"})
    qtbot.addWidget(window)
    window.show()
    window.start()
    assert not window.start_button.isEnabled()  # sources are fixed while recording
    qtbot.waitUntil(lambda: window.session.view.elapsed_s >= 3.0, timeout=WAIT_MS)
    window.stop_button.click()
    assert window.ended and window.start_button.isEnabled()
    window.source_boxes["client"].setCurrentText("sim:nosuch")
    window.start_button.click()
    assert window.ended and "unknown scenario" in window.status_label.text()
    window.source_boxes["client"].setCurrentText("sim:independent")
    window.source_boxes["therapist"].setCurrentText("sim:independent")
    window.start_button.click()
    assert not window.ended and window.session is not session
    qtbot.waitUntil(lambda: window.session.view.elapsed_s >= 3.0, timeout=WAIT_MS)
    window.close()
    files = sorted(tmp_path.glob("*.jsonl"))
    assert len(files) == 2
    headers = [_lines(f)[0] for f in files]
    assert sorted(h["simulation"]["scenario"] for h in headers) == ["coupled", "independent"]
