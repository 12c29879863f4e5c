"""Layout faults a therapist would see: labels cut, the synchrony plot squeezed, the coherence
meter's scale clipped — at the default screenshot sizes and at 1366×768."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
from PySide6 import QtGui, QtWidgets
from test_replay_window import WAIT_MS, _record

from coreg.recording import read_recording
from coreg.session import open_session
from coreg.session.replay import ReplaySession
from coreg.session.setup import live_title
from coreg.ui.breathe import CoherenceMeter
from coreg.ui.main_window import MIN_SYNC_PLOT_HEIGHT_PX, LiveWindow
from coreg.ui.panels import PersonPanel
from coreg.ui.replay import ReplayWindow
from coreg.ui.theme import SMALL_PT


def _cut_labels(window: QtWidgets.QWidget) -> list[str]:
    """Visible labels whose text does not fit them (one-line: width; wrapped: height)."""
    cut = []
    for label in window.findChildren(QtWidgets.QLabel):
        text = label.text()
        if not label.isVisibleTo(window) or not text or label.toolTip() == text:
            continue
        if label.wordWrap():
            need = label.heightForWidth(label.width())
            if need > label.height() + 1:
                cut.append(f"{text!r}: {need} px high needed, {label.height()} shown")
        elif label.sizeHint().width() > label.width() + 1:
            cut.append(f"{text!r}: {label.sizeHint().width()} px wide needed, "
                       f"{label.width()} shown")
    return cut


def _play_to_end(qtbot, window: LiveWindow, size: tuple[int, int],  # type: ignore[no-untyped-def]
                 done: Callable[[], bool]) -> None:
    """Show ``window`` at ``size``, run its session to the end, draw the last frame."""
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    window.start()
    qtbot.waitUntil(done, timeout=WAIT_MS)
    window.frame(force_slow=True)
    QtWidgets.QApplication.processEvents()


@pytest.mark.parametrize("size", [(1120, 760), (1366, 768)])
def test_replay_window_labels_whole_and_sync_plot_tall(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path, size: tuple[int, int]) -> None:
    path = tmp_path / "rec.jsonl"
    _record(path)
    replay = ReplaySession(read_recording(path), speed=math.inf)
    window = ReplayWindow(replay, title="coreg replay rec.jsonl — SIMULATED (coupled, seed 1)")
    _play_to_end(qtbot, window, size, lambda: replay.at_end)
    # The window is not pushed past the screen by its minimum sizes.
    assert window.height() <= size[1] + 2
    # The file name once (beside ▶), the scenario whole beside the SIMULATED badge.
    assert window.title_label.text() == "coupled, seed 1"
    assert window.title_label.width() >= window.title_label.sizeHint().width()
    assert window.sync_panel is not None
    assert window.width() <= size[0] + 2
    panel = window.sync_panel
    assert panel.plot.height() >= MIN_SYNC_PLOT_HEIGHT_PX
    # The legend sits under the plot, not over its axis.
    assert panel.legend.geometry().top() >= panel.plot.geometry().bottom()
    assert panel.legend.geometry().bottom() <= panel.height()
    assert _cut_labels(window) == []


def test_coherence_meter_scale_words_fit(qtbot) -> None:  # type: ignore[no-untyped-def]
    meter = CoherenceMeter()
    qtbot.addWidget(meter)
    font = meter.font()
    font.setPointSize(SMALL_PT)
    metrics = QtGui.QFontMetrics(font)
    third = (meter.minimumWidth() - 20) / 3
    for words in meter.scale_words():
        assert metrics.horizontalAdvance(words) < third


@pytest.mark.parametrize("size", [(1204, 760), (1366, 768)])
def test_live_header_names_the_scenario_whole_or_with_an_ellipsis(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path, size: tuple[int, int]) -> None:
    session, resolved = open_session("sim:coupled", "sim:coupled", duration_s=60.0,
                                     realtime=False, speed=None, folder=tmp_path)
    window = LiveWindow(session, title=live_title(resolved), simulated=True, autostart=False,
                        duration_s=60.0)
    _play_to_end(qtbot, window, size, lambda: window.ended)
    label = window.title_label
    assert label.full_text() == "coupled, seed 1"
    # A short "saved ✓" leaves its room to the scenario: whole at these sizes.
    assert window.rec_label.text() == "saved ✓"
    assert label.text() == "coupled, seed 1"
    assert label.width() >= label.sizeHint().width()
    # Squeezed, it ends in "…" rather than being cut mid-letter.
    window.resize(900, size[1])
    QtWidgets.QApplication.processEvents()
    if label.width() < label.sizeHint().width():
        assert label.text().endswith("…")
        assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()


@pytest.mark.parametrize("size", [(1082, 760), (1184, 803), (1366, 768)])
def test_hr_plot_time_label_fits_under_the_plot(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path, size: tuple[int, int]) -> None:
    """With corrected beats ringed, the HR plot's label ("○ corrected beat") is never cut."""
    session, resolved = open_session("sim:artifacts", "sim:artifacts", duration_s=90.0,
                                     realtime=False, speed=None, folder=tmp_path, seed=2)
    window = LiveWindow(session, title=live_title(resolved), simulated=True, autostart=False,
                        duration_s=90.0)
    _play_to_end(qtbot, window, size, lambda: window.ended)
    labels = []
    for panel in window.findChildren(PersonPanel):
        item = panel.hr_plot.getPlotItem()
        axis = item.getAxis("bottom")
        text = axis.labelText
        labels.append(text)
        width = QtGui.QFontMetrics(axis.label.font()).horizontalAdvance(text)
        assert width <= item.vb.width(), (text, width, item.vb.width())
    assert any("corrected" in t for t in labels), labels
