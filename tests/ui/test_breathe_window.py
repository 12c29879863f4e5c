"""The breathing window (pytest-qt): practice and assessment with the simulated client at high
speed and with the emulated BLE strap (``ble-sim``) on a scaled clock, offscreen."""

from __future__ import annotations

import argparse
import itertools
import logging
import math
from pathlib import Path

from PySide6 import QtCore, QtGui

from coreg.cli.breathe import build_schedule, config_from_args, open_session, rate_store
from coreg.recording import read_recording
from coreg.ui.breathe import (
    BreatheWindow,
    PacerWidget,
    SoundCue,
    fitting_point_size,
    meter_position,
    text_box,
)


def _args(tmp_path: Path, **kw: object) -> argparse.Namespace:
    base = dict(device="sim", client_name="client", rate=None, ratio="1:1", pause_in=0.0,
                pause_out=0.0, duration=None, goal=None, sound=False, assess=False,
                steps="6.5,6.0,5.5,5.0,4.5", step_s=120.0, settle_s=25.0, headless=False,
                screenshot=None, speed="max", seed=2, recordings_dir=str(tmp_path))
    base.update(kw)
    return argparse.Namespace(**base)


def _window(qtbot, args: argparse.Namespace, folder: Path, speed: float = math.inf,
            sound: SoundCue | None = None) -> BreatheWindow:
    schedule, duration_s = build_schedule(args, folder)
    bs = open_session(args, schedule, duration_s, folder, speed)
    done: list[BreatheWindow] = []
    win = BreatheWindow(bs.session, bs.analysis, config_from_args(args), duration_s,
                        simulated=bs.simulated, on_finished=done.append, sound=sound,
                        store_rate=rate_store(folder, args.client_name))
    qtbot.addWidget(win)
    assert "collecting" in win.coh_value.text()  # nothing claimed before data
    win.show()
    win.start()
    qtbot.waitUntil(lambda: bool(done), timeout=90_000)
    return win


def test_practice_window_runs_to_summary(qtbot, tmp_path: Path) -> None:
    win = _window(qtbot, _args(tmp_path, duration=150.0, rate=6.0, goal=1.0), tmp_path)
    assert win.finished and "SIMULATED" in win.windowTitle()
    assert "mean coherence" in win.summary.text()
    assert "Goal 1 min" in win.summary.text()
    assert win.coh_value.text().startswith("coherence ") and "collecting" not in \
        win.coh_value.text()
    assert "at the pacer" in win.res_value.text()
    assert not win.table.isVisible()
    assert win.session.writer.closed
    rec = read_recording(win.session.recording_path)
    assert rec.mode == "breathe" and rec.pacer[0].rate_bpm == 6.0
    assert rec.simulation["scenario"] == "breathe"
    png = win.save_screenshot(tmp_path / "p.png")
    assert png.stat().st_size > 10_000


def test_assessment_window_shows_ranking_and_choice(qtbot, tmp_path: Path) -> None:
    args = _args(tmp_path, assess=True, steps="6.5,6.0,5.5,5.0,4.5", step_s=60.0,
                 settle_s=10.0)
    win = _window(qtbot, args, tmp_path)
    assert win.table.rowCount() == 5
    assert {win.table.item(r, 1).text() for r in range(5)} == {"6.5", "6.0", "5.5", "5.0",
                                                               "4.5"}
    # On a 1366×768 laptop every rate stays in view (the fifth was scrolled away).
    win.resize(1366, 768)
    qtbot.wait(50)
    for r in range(5):
        rect = win.table.visualItemRect(win.table.item(r, 0))
        assert rect.top() >= 0 and rect.bottom() <= win.table.viewport().height(), r
    assert "Best breathing rate" in win.summary.text()
    from coreg.recording.index import stored_rate

    assert stored_rate(tmp_path, "client") in (6.5, 6.0, 5.5, 5.0, 4.5)


def test_practice_window_on_the_emulated_ble_strap(qtbot, tmp_path: Path) -> None:
    """ble-sim: the breathing client served by the emulated strap through devices.ble, on a
    clock 30× faster than real time; device events reach the window, the header is simulated."""
    args = _args(tmp_path, device="ble-sim", duration=75.0, rate=6.0, speed="30")
    win = _window(qtbot, args, tmp_path, speed=30.0)
    assert win.finished and "SIMULATED" in win.windowTitle()
    kinds = [e.kind.value for e in win.analysis.events]
    assert kinds[:2] == ["connecting", "connected"]
    assert "HR collecting" not in win.hr_value.text()
    rec = read_recording(win.session.recording_path)
    assert rec.header["roles"]["client"]["src"] == "ble-sim"
    assert rec.simulation is not None and rec.simulation["scenario"] == "breathe"
    assert rec.simulation["seed"] == 2 and "resonance_rate_bpm" in str(rec.simulation["truth"])
    assert len(rec.samples_for("client")) > 40
    assert win.session.writer.closed
    assert not win.device.isVisible()  # a planned end is no device news


def test_device_state_is_shown_calmly(qtbot, tmp_path: Path) -> None:
    from devices.types import DeviceEvent, EventKind

    args = _args(tmp_path, duration=30.0, rate=6.0)
    schedule, duration_s = build_schedule(args, tmp_path)
    bs = open_session(args, schedule, duration_s, tmp_path, math.inf)
    win = BreatheWindow(bs.session, bs.analysis, config_from_args(args), duration_s,
                        simulated=True)
    qtbot.addWidget(win)
    win.show()
    for kind, shown in ((EventKind.CONNECTING, "Connecting"),
                        (EventKind.CONNECTED, ""),
                        (EventKind.CONTACT_LOST, "skin contact"),
                        (EventKind.CONTACT_REGAINED, ""),
                        (EventKind.RECONNECTING, "Reconnecting")):
        bs.analysis.feed_event(DeviceEvent("client", 1.0, kind))
        win.redraw()
        assert (shown in win.device.text()) if shown else not win.device.isVisible()
    assert "keep breathing" in win.device.text()
    bs.session.writer.close("test")


def test_assessment_window_on_the_emulated_ble_strap(qtbot, tmp_path: Path) -> None:
    args = _args(tmp_path, device="ble-sim", assess=True, steps="6.0,5.0", step_s=60.0,
                 settle_s=5.0, speed="40", client_name="ben")
    win = _window(qtbot, args, tmp_path, speed=40.0)
    assert win.table.rowCount() == 2
    assert "Best breathing rate" in win.summary.text()
    rec = read_recording(win.session.recording_path)
    assert [p.rate_bpm for p in rec.pacer] == [6.0, 5.0, None]


def test_sound_cue_fires_at_inhale_and_exhale_without_audio(qtbot, tmp_path: Path) -> None:
    played: list[str] = []
    cue = SoundCue(played.append)
    args = _args(tmp_path, duration=60.0, rate=6.0, sound=True)
    win = _window(qtbot, args, tmp_path, sound=cue)
    assert win.sound is cue
    stages = [s for s, _ in cue.fired]
    assert stages and set(stages) == {"in", "out"}
    assert all(a != b for a, b in itertools.pairwise(stages))  # alternate
    assert played == stages


def test_sound_cue_transitions_and_silence_without_backend(caplog) -> None:
    cue = SoundCue()
    seq = ["in", "in", "hold-in", "out", "out", "hold-out", "in", "off", "off"]
    fired = [cue.update(stage, float(i)) for i, stage in enumerate(seq)]
    assert fired == ["in", None, None, "out", None, None, "in", None, None]

    def no_audio() -> object:
        raise OSError("no audio device")

    with caplog.at_level(logging.WARNING, logger="coreg.ui.breathe"):
        silent = SoundCue.open(no_audio)
    assert silent.silent
    assert silent.update("in", 0.0) == "in"  # still counted, just silent
    lines = [r for r in caplog.records if "sound cue" in r.getMessage()]
    assert len(lines) == 1 and "no audio device" in lines[0].getMessage()


def test_pacer_words_fit_inside_the_ring(qtbot) -> None:
    widget = PacerWidget()
    qtbot.addWidget(widget)
    font = QtGui.QFont(widget.font())
    for ring in (60.0, 110.0, 200.0):
        box = text_box(QtCore.QPointF(150, 150), ring)
        size = fitting_point_size(font, "Done — well done", box, 22)
        font.setPointSize(size)
        flags = int(QtCore.Qt.AlignmentFlag.AlignCenter | QtCore.Qt.TextFlag.TextWordWrap)
        need = QtGui.QFontMetricsF(font).boundingRect(box, flags, "Done — well done")
        assert need.width() <= box.width() and need.height() <= box.height()
        assert box.width() < 2 * ring  # the box lies inside the ring


def test_meter_levels_take_equal_thirds() -> None:
    assert meter_position(0.0) == 0.0
    assert abs(meter_position(1.0) - 1 / 3) < 1e-9
    assert abs(meter_position(3.0) - 2 / 3) < 1e-9
    assert meter_position(100.0) == 1.0
