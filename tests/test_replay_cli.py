"""``coreg replay --headless``: the live figures of a recording in the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from coreg.cli import main


def test_headless_replay_prints_the_final_figures(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", "--headless", "--duration", "120", "--speed", "max",
                 "--recordings-dir", str(tmp_path)]) == 0
    rec, = tmp_path.glob("*-dyad.jsonl")
    live_out = capsys.readouterr().out
    assert main(["replay", str(rec), "--headless", "--speed", "max"]) == 0
    out = capsys.readouterr().out
    assert f"coreg replay {rec.name} — SIMULATED (coupled, seed 1)" in out
    assert "replay ended at 120 s" in out
    # the final block of the replay is the final block of the live session, line for line
    live_last = live_out.split("SIMULATED")[-1].splitlines()[1:4]
    replay_last = out.split("SIMULATED")[-1].splitlines()[1:4]
    assert replay_last == live_last and "RMSSD" in replay_last[0]


@pytest.mark.parametrize(("args", "message"), [
    (["replay", "nosuch.jsonl"], "no such recording"),
    (["replay", "nosuch.jsonl", "--speed", "3"], "--speed"),
])
def test_bad_input_is_one_line(args: list[str], message: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err
