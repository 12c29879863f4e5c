"""Replay of breathing recordings: the pacer comes back from the recorded pacer lines and the
figures equal the live session's (headless and in the breathing window)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coreg.cli import main as cli_main
from coreg.recording import read_recording
from coreg.recording.replay import pacer_schedule
from coreg.session.breathe import BreatheAnalysis, BreatheConfig, replay_analysis_factory
from coreg.session.replay import ReplaySession
from coreg.ui.breathe import BreatheWindow


def _tail(out: str, start: str) -> list[str]:
    lines = out.splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith(start))
    return [ln for ln in lines[i:] if not ln.startswith(("Stored as", "recording:", "replay "))]


@pytest.fixture(scope="module")
def assessment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("breathe")
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = cli_main(["breathe", "--assess", "--headless", "--speed", "max", "--steps",
                         "6.0,5.0", "--step-s", "60", "--settle-s", "10", "--seed", "3",
                         "--recordings-dir", str(folder)])
    assert code == 0
    return next(folder.glob("*-breathe.jsonl")), buf.getvalue()


def test_headless_replay_prints_the_live_figures(assessment, capsys) -> None:
    path, live_out = assessment
    from coreg.recording.index import SessionIndex

    def stored() -> tuple:
        with SessionIndex(path.parent) as index:
            c = index.client("client")
            return (c.rate_bpm, c.rate_assessed) if c else None

    before = stored()
    assert cli_main(["replay", "--headless", "--speed", "max", str(path)]) == 0
    out = capsys.readouterr().out
    assert "SIMULATED (breathe, seed 3)" in out.splitlines()[0]
    assert "pacer 6.0 breaths/min" in out and "pacer 5.0 breaths/min" in out
    # Same summary, same ranking table, same statement as live.
    assert _tail(out, "Session ") == _tail(live_out, "Session ")
    assert "Best breathing rate" in out
    assert stored() == before  # a replay stores nothing


def test_replay_schedule_comes_from_the_recorded_pacer_lines(assessment) -> None:
    path, _ = assessment
    rec = read_recording(path)
    sched = pacer_schedule(rec)
    assert [s.rate_bpm for s in sched] == [6.0, 5.0, None]
    assert sched[1].start_s == pytest.approx(70.0)  # 60 s + 10 s settle
    analysis = replay_analysis_factory(rec)()
    assert isinstance(analysis, BreatheAnalysis) and analysis.run.assess
    assert analysis.run.settle_s == 10.0


def test_replay_window_shows_the_pacer_and_the_live_summary(qtbot, assessment) -> None:
    path, live_out = assessment
    rec = read_recording(path)
    replay = ReplaySession(rec, speed=math.inf, analysis_factory=replay_analysis_factory(rec))
    done: list[BreatheWindow] = []
    win = BreatheWindow(replay, replay.analysis, BreatheConfig(assess=True), replay.duration_s,
                        simulated=True, replay=True, on_finished=done.append)
    qtbot.addWidget(win)
    win.show()
    win.start()
    qtbot.waitUntil(lambda: bool(done), timeout=60_000)
    assert "replay" in win.windowTitle() and "SIMULATED" in win.windowTitle()
    assert win.table.rowCount() == 2
    assert "Best breathing rate" in win.summary.text()
    live_statement = next(ln for ln in live_out.splitlines() if "Best breathing rate" in ln)
    assert live_statement in win.summary.text()
    assert win.pacer.text == "Done\u00a0— well\u00a0done"


def test_replay_cli_screenshot_of_a_breathing_recording(assessment, tmp_path: Path) -> None:
    # In a child process, as a user runs it: app.exec()/quit() in this process would leave
    # the Qt timers of later pytest-qt tests idle.
    path, _ = assessment
    png = tmp_path / "replay.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-m", "coreg", "replay", str(path), "--screenshot",
                             str(png)], capture_output=True, text=True, timeout=120, env=env,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert f"screenshot: {png}" in result.stdout
    assert png.stat().st_size > 10_000
    assert json.loads(path.read_text().splitlines()[0])["mode"] == "breathe"
