"""The live synchrony path on recordings: `coreg analyze --json` reports what `coreg replay` said,
and the live windows survive corrected beats as the offline analysis does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coreg.cli import main


def _simulated_artifacts(tmp_path_factory: pytest.TempPathFactory, seed: int) -> Path:
    pytest.importorskip("devices.sim")
    path = tmp_path_factory.mktemp(f"live{seed}") / "art.jsonl"
    assert main(["simulate", "--scenario", "artifacts", "--duration", "600", "--seed",
                 str(seed), "-o", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def artifacts_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _simulated_artifacts(tmp_path_factory, 2)


def test_analyze_reports_the_live_path(artifacts_recording: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["analyze", str(artifacts_recording), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    sync = data["synchrony"]
    live = sync["live"]
    assert set(live) == {"in_sync_pct", "updates", "windows"}
    assert isinstance(live["in_sync_pct"], float) and isinstance(live["updates"], int)
    # Corrected beats (about 4 %) no longer empty the display: the live path computes (almost)
    # every window the offline analysis uses — one gap rule for both.
    assert live["windows"] >= 0.95 * sync["windows"] > 90
    # Every 5-s update after the warm-up is counted: the first window needs window + lag +
    # filter edge (45 s), the first verdict windows_needed windows after it.
    from coreg.engine.synchrony import LiveSynchrony
    st = LiveSynchrony()
    s = st.settings
    warm_s = s.window_s + s.max_lag_s + s.live_edge_s + (st.windows_needed - 1) * s.step_s
    assert live["updates"] >= (600.0 - warm_s) / s.step_s - 3
    # The live display agrees with the session analysis on this coupled dyad.
    assert sync["significant"] and live["in_sync_pct"] > 20.0  # coupled: often in sync


@pytest.fixture(scope="module")
def artifacts_recording_seed3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _simulated_artifacts(tmp_path_factory, 3)


@pytest.mark.parametrize("batch", [7, 500])
@pytest.mark.parametrize("which", ["artifacts_recording", "artifacts_recording_seed3"])
def test_analyze_live_equals_replay(which: str, batch: int,
                                    request: pytest.FixtureRequest) -> None:
    """Whatever the batches the replay polls in, it says what `coreg analyze` reports.

    The synchrony windows are computed once, from the beats known at each update (the ticks
    follow the messages' arrival times, not the polls), on two recordings whose corrected
    beats include stretches held until their end is final.
    """
    from coreg.recording import read_recording
    from coreg.session.replay import ReplaySession, live_synchrony_summary

    rec = read_recording(request.getfixturevalue(which))
    summary = live_synchrony_summary(rec)
    session = ReplaySession(rec, speed=float("inf"), budget_s=10.0)
    session.start()
    for _ in range(100_000):  # the interactive path: polls in batches, as the window does
        if session.at_end:
            break
        session.poll(max_messages=batch)
    assert session.at_end
    v = session.view.sync.verdict  # type: ignore[union-attr]
    assert summary == {"in_sync_pct": round(v.in_sync_pct, 2), "updates": v.updates,
                       "windows": v.windows}


def test_analyze_one_person_has_no_live_synchrony(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("devices.sim")
    path = tmp_path / "rest.jsonl"
    assert main(["simulate", "--scenario", "rest", "--duration", "120", "-o", str(path)]) == 0
    capsys.readouterr()
    assert main(["analyze", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "live" not in data.get("synchrony", {})
