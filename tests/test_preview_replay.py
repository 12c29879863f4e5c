"""A session that began as a preview: its recording replays to the live figures, number for
number (the preview's beats are neither in the file nor in the figures)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from coreg.recording import read_recording
from coreg.session import open_session
from coreg.session.replay import ReplaySession


def _beats(analysis: object, role: str) -> np.ndarray:
    nn = analysis._tracks[role].engine.nn()  # type: ignore[attr-defined]
    return np.column_stack([np.asarray(nn.t_s, float), np.asarray(nn.rr_ms, float)])


def _run(session: object, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        session.poll()  # type: ignore[attr-defined]
        time.sleep(0.02)


def test_recording_started_after_a_preview_replays_to_the_live_figures(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    session, _ = open_session("sim:coupled", "sim:coupled", seed=5, path=path, preview=True)
    session.start()
    _run(session, 4.0)
    preview_beats = session.view.persons["client"].beats
    assert preview_beats > 0 and not path.exists()
    session.begin_recording()
    assert session.recording and path.exists()
    _run(session, 8.0)
    session.stop("end of test")
    live = {r: _beats(session.analysis, r) for r in session.roles}
    for beats in live.values():  # the live engine runs on the host clock, a replay from 0
        beats[:, 0] -= session.start_s
    live_view = session.view
    rec = read_recording(path)
    assert rec.samples and min(s.arrival_s for s in rec.samples) >= 0.0
    assert rec.events and rec.events[0].arrival_s == 0.0  # the strap state, restated
    replay = ReplaySession(rec, speed=math.inf)
    replay.start()
    replay.run_to_end()
    for role in session.roles:
        a, b = live[role], _beats(replay.analysis, role)
        assert len(a) == len(b) >= 5
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-6)
        assert live_view.persons[role].beats == replay.view.persons[role].beats
        assert live_view.persons[role].beats < preview_beats + len(a) + 5  # fresh analysis
