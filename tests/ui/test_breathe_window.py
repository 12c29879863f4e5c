"""The breathing window (pytest-qt): practice and assessment at high speed, offscreen."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from coreg.cli.breathe import Driver, build_schedule, open_run
from coreg.ui.breathe import BreatheWindow, meter_position


def _args(tmp_path: Path, **kw: object) -> argparse.Namespace:
    base = dict(device="sim", client_name="client", rate=None, ratio="1:1", pause_in=0.0,
                pause_out=0.0, duration=None, goal=None, sound=False, assess=False,
                steps="6.5,6.0,5.5,5.0,4.5", step_s=120.0, settle_s=25.0, headless=False,
                screenshot=None, speed="max", seed=2, recordings_dir=str(tmp_path))
    base.update(kw)
    return argparse.Namespace(**base)


def _window(qtbot, args: argparse.Namespace, folder: Path) -> BreatheWindow:
    schedule, duration_s = build_schedule(args, folder)
    sim, writer, br = open_run(args, schedule, duration_s, folder)
    done: list[BreatheWindow] = []
    win = BreatheWindow(Driver(sim, writer, br, schedule, duration_s), args, folder, math.inf,
                        on_finished=done.append)
    qtbot.addWidget(win)
    assert "collecting" in win.coh_value.text()  # nothing claimed before data
    win.show()
    win.start()
    qtbot.waitUntil(lambda: bool(done), timeout=60_000)
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
    assert win.driver.writer.closed
    png = win.save_screenshot(tmp_path / "p.png")
    assert png.stat().st_size > 10_000


def test_assessment_window_shows_ranking_and_choice(qtbot, tmp_path: Path) -> None:
    args = _args(tmp_path, assess=True, steps="6.0,5.0", step_s=60.0, settle_s=10.0)
    win = _window(qtbot, args, tmp_path)
    assert win.table.rowCount() == 2
    assert {win.table.item(r, 1).text() for r in range(2)} == {"6.0", "5.0"}
    assert "Best breathing rate" in win.summary.text()
    assert (tmp_path / "clients.json").exists()


def test_meter_levels_take_equal_thirds() -> None:
    assert meter_position(0.0) == 0.0
    assert abs(meter_position(1.0) - 1 / 3) < 1e-9
    assert abs(meter_position(3.0) - 2 / 3) < 1e-9
    assert meter_position(100.0) == 1.0
