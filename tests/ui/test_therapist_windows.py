"""The windows a therapist runs a session from (pytest-qt, offscreen): the preview records
nothing until *Start recording*, the breathing controls change the pacer and the recording,
and at 1366×768 every visible control of every window lies inside the window."""

from __future__ import annotations

import argparse
import json
import math
import stat
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
from PySide6 import QtCore, QtWidgets

from coreg.cli.breathe import build_schedule, config_from_args
from coreg.cli.breathe import open_session as open_breathe
from coreg.engine.pacer import pacer_state
from coreg.recording import read_recording
from coreg.recording.settings import StrapChoice, load_settings, save_settings, settings_path
from coreg.session import open_session
from coreg.session.breathe import BreatheConfig
from coreg.session.replay import ReplaySession
from coreg.ui.breathe import BreatheWindow
from coreg.ui.main_window import LiveWindow
from coreg.ui.replay import ReplayWindow

WAIT_MS = 30_000


def _preview_window(qtbot, folder: Path) -> LiveWindow:  # type: ignore[no-untyped-def]
    session, resolved = open_session("sim:coupled", "sim:coupled", seed=2, folder=folder,
                                     preview=True)

    def factory(client: str, therapist: str):  # type: ignore[no-untyped-def]
        return open_session(client, therapist, seed=2, folder=folder, preview=True)

    window = LiveWindow(session, title="test", simulated=True, autostart=False,
                        session_factory=factory,
                        sources={r: s.text for r, s in resolved.specs.items()})
    qtbot.addWidget(window)
    window.show()
    window.start()
    return window


def test_preview_records_nothing_until_start_recording(qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    window = _preview_window(qtbot, folder)
    session = window.session
    assert session.previewing and window.record_button.isEnabled()
    assert not window.stop_button.isEnabled() and not window.marker_button.isEnabled()
    assert window.rec_label.text().startswith("PREVIEW")
    # Figures are live: beats arrive and the heart rate shows, yet no file exists.
    qtbot.waitUntil(lambda: session.view.persons["client"].hr_bpm is not None,
                    timeout=WAIT_MS)
    assert session.messages_seen > 0
    window.drop_marker("not kept")  # markers mean nothing before the recording
    assert not session.markers
    assert not folder.exists() or not list(folder.iterdir())
    assert session.recording_path is None

    window.start_recording()
    path = session.recording_path
    assert path is not None and Path(path).exists() and not session.previewing
    assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
    assert window.rec_label.text().startswith("● REC") and window.stop_button.isEnabled()
    assert not window.record_button.isEnabled()
    assert not any(box.isEnabled() for box in window.source_boxes.values())
    assert window.session.view.elapsed_s < 2.0  # the session clock restarts at the recording
    qtbot.waitUntil(lambda: session.view.elapsed_s >= 3.0, timeout=WAIT_MS)
    window.drop_marker("started")
    window.stop_button.click()
    assert window.ended and window.rec_label.text().startswith("saved")
    rec = read_recording(path)
    assert rec.end is not None and rec.end["reason"] == "stopped by user"
    assert [m.note for m in rec.markers] == ["started"]
    samples = rec.samples_for("client")
    assert samples and min(s.arrival_s for s in samples) >= 0.0  # nothing from the preview
    assert rec.header["settings"]["preview_s"] > 0.0
    # The chosen straps are remembered per role in the user's settings (owner-only).
    remembered = load_settings().last_straps
    assert remembered["client"].src == "sim:coupled"
    assert stat.S_IMODE(settings_path().stat().st_mode) == 0o600


def test_closing_a_preview_leaves_no_file_and_connect_reopens(qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    window = _preview_window(qtbot, folder)
    window.source_boxes["client"].setCurrentText("sim:independent")
    window.new_session()  # Connect: a fresh preview on the chosen straps
    assert window.session.previewing and not window.ended
    qtbot.waitUntil(lambda: window.session.messages_seen > 0, timeout=WAIT_MS)
    window.close()
    assert window.rec_label.text() == "preview ended — nothing recorded"
    assert not folder.exists() or not list(folder.iterdir())


def test_remembered_strap_is_listed_first_by_name(qtbot, tmp_path: Path) -> None:
    settings = load_settings()
    settings.last_straps["client"] = StrapChoice("AA:BB:CC:DD:EE:FF", "Polar H10 1234")
    save_settings(settings)
    window = _preview_window(qtbot, tmp_path)
    box = window.source_boxes["client"]
    assert box.itemText(0) == "Polar H10 1234  (AA:BB:CC:DD:EE:FF)"
    box.setCurrentIndex(0)
    assert window.chosen_source(box) == "AA:BB:CC:DD:EE:FF"
    box.setCurrentText("C0:FF:EE:00:11:22")  # typing an address still works
    assert window.chosen_source(box) == "C0:FF:EE:00:11:22"
    window.close()


def _breathe_args(tmp_path: Path, **kw: object) -> argparse.Namespace:
    base = dict(device="sim", client_name="client", rate=6.0, ratio="1:1", pause_in=0.0,
                pause_out=0.0, duration=240.0, goal=None, sound=False, assess=False,
                steps="6.5,6.0,5.5,5.0,4.5", step_s=120.0, settle_s=25.0, headless=False,
                screenshot=None, speed="max", seed=2, recordings_dir=str(tmp_path), size=None)
    base.update(kw)
    return argparse.Namespace(**base)


def test_breathing_controls_change_the_pacer_and_the_recording(qtbot, tmp_path: Path) -> None:
    args = _breathe_args(tmp_path)
    schedule, duration_s = build_schedule(args, tmp_path)
    standin = open_breathe(args, schedule, duration_s, tmp_path, 20.0, record=False)
    assert standin.session.recording_path is None
    win = BreatheWindow(standin.session, standin.analysis, config_from_args(args), duration_s,
                        opener=lambda: open_breathe(args, schedule, duration_s, tmp_path, 20.0))
    qtbot.addWidget(win)
    win.show()
    assert not list(tmp_path.glob("*.jsonl"))  # nothing recorded before Start
    assert win.start_button.isEnabled() and not win.stop_button.isEnabled()
    win.start_button.click()
    assert not win.start_button.isEnabled() and win.stop_button.isEnabled()
    qtbot.waitUntil(lambda: win.br.now_s >= 20.0, timeout=WAIT_MS)
    win.rate_box.setValue(5.0)
    t_rate = win.br.now_s
    assert pacer_state(win.br.schedule, win.br.now_s).rate_bpm == 5.0
    win.ratio_box.setCurrentText("4:6")
    t_ratio = win.br.now_s
    assert win.analysis.current_step().inhale_ratio == pytest.approx(0.4)
    qtbot.waitUntil(lambda: win.br.now_s >= t_ratio + 15.0, timeout=WAIT_MS)
    win.pause_button.click()
    assert pacer_state(win.br.schedule, win.br.now_s).stage == "off"
    assert win.pause_button.text() == "Resume pacer" and not win.rate_box.isEnabled()
    qtbot.waitUntil(lambda: win.br.now_s >= t_ratio + 30.0, timeout=WAIT_MS)
    win.pause_button.click()
    assert pacer_state(win.br.schedule, win.br.now_s).rate_bpm == 5.0
    qtbot.waitUntil(lambda: win.br.now_s >= t_ratio + 40.0, timeout=WAIT_MS)
    win.stop_button.click()
    assert win.finished and win.session.writer.closed
    rec = read_recording(win.session.recording_path)
    assert rec.end is not None and rec.end["reason"] == "stopped by user"
    assert rec.duration_s < duration_s - 60.0  # Stop ended it early
    rates = [(p.rate_bpm, round(p.inhale_ratio, 2), p.label) for p in rec.pacer]
    assert rates == [(6.0, 0.5, rates[0][2]), (5.0, 0.5, "5/min 1:1"), (5.0, 0.4, "5/min 4:6"),
                     (None, 0.4, "paused"), (5.0, 0.4, "resumed")]
    times = [p.t_s for p in rec.pacer]
    assert times == sorted(times) and times[1] == pytest.approx(t_rate, abs=1.0)
    # The replay rebuilds the same schedule from the recorded pacer lines.
    from coreg.recording.replay import pacer_schedule

    assert [s.rate_bpm for s in pacer_schedule(rec)] == [6.0, 5.0, 5.0, None, 5.0]


def test_breathing_replay_has_a_transport_bar(qtbot, tmp_path: Path) -> None:
    args = _breathe_args(tmp_path, duration=90.0)
    schedule, duration_s = build_schedule(args, tmp_path)
    bs = open_breathe(args, schedule, duration_s, tmp_path, math.inf)
    bs.session.start()
    while not bs.session.finished and bs.session.elapsed_s() < duration_s:
        bs.session.poll()
    bs.session.stop("duration reached")
    from coreg.session.breathe import replay_analysis_factory

    rec = read_recording(bs.session.recording_path)
    replay = ReplaySession(rec, speed=math.inf, analysis_factory=replay_analysis_factory(rec))
    done: list[BreatheWindow] = []
    win = BreatheWindow(replay, replay.analysis, BreatheConfig(), replay.duration_s,
                        replay=True, on_finished=done.append)
    qtbot.addWidget(win)
    win.show()
    win.start()
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT_MS)
    assert win.play_button.text() == "Play again" and win.slider.value() > 0
    win.seek_to(30.0)  # the transport still works after the end
    assert not win.finished and replay.now_s() == pytest.approx(30.0, abs=1.0)
    win.close()


# -- every window at 1366×768 -----------------------------------------------------------------
def _outside(window: QtWidgets.QWidget) -> list[str]:
    """Visible controls (buttons, boxes, sliders, line edits) not wholly inside ``window``."""
    bad = []
    inside = window.rect()
    kinds = (QtWidgets.QAbstractButton, QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox,
             QtWidgets.QAbstractSlider, QtWidgets.QLineEdit)
    for child in window.findChildren(QtWidgets.QWidget):
        if not isinstance(child, kinds) or not child.isVisibleTo(window):
            continue
        if isinstance(child.parentWidget(), (QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox,
                                             QtWidgets.QAbstractScrollArea)):
            continue  # parts of a control or of a plot's scroll machinery
        top_left = child.mapTo(window, QtCore.QPoint(0, 0))
        rect = QtCore.QRect(top_left, child.size())
        if not inside.contains(rect) or child.width() < 8 or child.height() < 8:
            bad.append(f"{type(child).__name__} {getattr(child, 'text', lambda: '')()!r} {rect}")
    return bad


def _settle(window: QtWidgets.QWidget, size: tuple[int, int]) -> None:
    window.show()
    for _ in range(2):  # the fonts follow the height, then the minimum sizes the fonts
        window.resize(*size)
        for _ in range(5):
            QtWidgets.QApplication.processEvents()
    assert window.width() == size[0] and window.height() == size[1]


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_live_and_replay_windows_keep_every_control_inside(qtbot, tmp_path: Path,
                                                          size: tuple[int, int]) -> None:
    window = _preview_window(qtbot, tmp_path)
    _settle(window, size)
    assert _outside(window) == []
    # The synchrony plot is what coreg exists for: a real plot, not a strip, on a small laptop.
    assert window.sync_panel is not None
    assert window.sync_panel.plot.height() >= (160 if size[1] <= 768 else 350)
    window.start_recording()
    window.begin_marker()  # the note field shows too
    _settle(window, size)
    assert _outside(window) == []
    window.end_session("stopped")
    path = window.session.recording_path
    window.close()
    replay = ReplayWindow(ReplaySession(read_recording(path), speed=math.inf))
    qtbot.addWidget(replay)
    _settle(replay, size)
    replay.start()
    assert _outside(replay) == []
    replay.close()


@pytest.mark.parametrize("assess", [False, True])
def test_breathing_windows_keep_every_control_inside(qtbot, tmp_path: Path,
                                                     assess: bool) -> None:
    args = _breathe_args(tmp_path, assess=assess, duration=None if assess else 240.0)
    schedule, duration_s = build_schedule(args, tmp_path)
    bs = open_breathe(args, schedule, duration_s, tmp_path, math.inf, record=False)
    win = BreatheWindow(bs.session, bs.analysis, config_from_args(args), duration_s)
    qtbot.addWidget(win)
    _settle(win, (1366, 768))
    assert _outside(win) == []
    win.close()


def test_settings_survive_bad_values_and_are_owner_only(tmp_path: Path) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pacer_rate_bpm": 42, "sound": "yes", "recordings_dir": "/x",
                                "last_straps": {"client": {"src": "sim", "name": "n"}}}))
    s = load_settings()
    assert s.pacer_rate_bpm == 6.0 and s.sound is False  # bad fields keep their default
    assert s.recordings_dir == "/x" and s.last_straps["client"].src == "sim"
    path.write_text("{not json")
    assert load_settings().recordings_dir == ""
    save_settings(s)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_settings_dialog_saves_per_user_and_the_app_uses_it(qtbot, tmp_path: Path) -> None:
    from coreg.cli.breathe import build_schedule as schedule_of
    from coreg.recording.paths import recordings_dir
    from coreg.ui.settings_dialog import SettingsDialog

    window = _preview_window(qtbot, tmp_path)
    dialog = window.open_settings()
    assert isinstance(dialog, SettingsDialog)
    dialog.folder_edit.setText(str(tmp_path / "mine"))
    dialog.strap_edits["client"].setText("ble-sim")
    dialog.rate_box.setValue(5.5)
    dialog.ratio_box.setCurrentText("4:6")
    dialog.sound_box.setChecked(True)
    dialog.save()
    assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted
    s = load_settings()
    assert (s.recordings_dir, s.default_straps, s.pacer_rate_bpm, s.sound) == (
        str(tmp_path / "mine"), {"client": "ble-sim"}, 5.5, True)
    assert s.inhale_ratio == pytest.approx(0.4)
    assert s.last_straps == {}  # untouched by the dialog
    assert stat.S_IMODE(settings_path().stat().st_mode) == 0o600
    # The recordings folder and the pacer defaults follow the settings.
    assert recordings_dir() == tmp_path / "mine"
    args = _breathe_args(tmp_path, rate=None, ratio=None)
    schedule, _ = schedule_of(args, tmp_path)
    assert schedule[0].rate_bpm == 5.5 and schedule[0].inhale_ratio == pytest.approx(0.4)
    window.close()


def test_starting_keeps_a_stored_rate_and_a_custom_ratio(qtbot, tmp_path: Path) -> None:
    args = _breathe_args(tmp_path, rate=5.7, ratio="45:55", duration=120.0)
    schedule, duration_s = build_schedule(args, tmp_path)
    win = BreatheWindow(*(lambda b: (b.session, b.analysis))(
        open_breathe(args, schedule, duration_s, tmp_path, 20.0, record=False)),
        config_from_args(args), duration_s,
        opener=lambda: open_breathe(args, schedule, duration_s, tmp_path, 20.0))
    qtbot.addWidget(win)
    win.show()
    win.start()
    qtbot.waitUntil(lambda: win.br.now_s >= 3.0, timeout=WAIT_MS)
    win.finish("stopped by user")
    rec = read_recording(win.session.recording_path)
    assert [(p.rate_bpm, round(p.inhale_ratio, 3)) for p in rec.pacer] == [(5.7, 0.45)]
