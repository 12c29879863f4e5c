"""``coreg live --headless`` and the layering of the session layer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from coreg.cli import main
from coreg.recording import read_recording


def test_headless_fast_session_records_and_prints(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["live", "--headless", "--duration", "200", "--speed", "max",
                 "--client", "sim:coupled", "--recordings-dir", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    files = list(tmp_path.glob("*-dyad.jsonl"))
    assert len(files) == 1 and f"recording: {files[0]}" in out
    assert "SIMULATED (coupled, seed 1)" in out
    assert "coreg informs; it does not diagnose." in out
    last = out.split("SIMULATED")[-1]
    assert "03:20" in last  # the final block is at the session's end
    assert "RMSSD collecting" not in last  # 200 s fill the 60 s window
    assert "synchrony: collecting — first verdict in about" in last  # at 200 s, with its wait
    rec = read_recording(files[0])
    assert rec.header["mode"] == "dyad"
    assert set(rec.header["roles"]) == {"client", "therapist"}
    assert rec.header["simulation"]["scenario"] == "coupled"
    assert rec.header["simulation"]["truth"]["lag_s"] == 3.0
    assert rec.end is not None and rec.end["reason"] == "duration reached"
    assert 190.0 < rec.duration_s <= 200.0
    assert {s.source_id for s in rec.samples} == {"client", "therapist"}
    assert (files[0].stat().st_mode & 0o777) == 0o600


def test_headless_ble_sim_session_carries_the_simulation_header(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two emulated BLE straps serving ONE simulated coupled dyad (real time, 4 s): the
    recording says so, like a sim recording, and the simulated stream is only as long as the
    session needs (duration_s reaches devices.ble)."""
    code = main(["live", "--headless", "--duration", "4", "--client", "ble-sim:coupled",
                 "--therapist", "ble-sim:coupled", "--recordings-dir", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "SIMULATED (coupled, seed" in out
    rec = read_recording(next(tmp_path.glob("*-dyad.jsonl")))
    sim = rec.header["simulation"]
    assert sim["scenario"] == "coupled" and isinstance(sim["seed"], int)
    assert sim["truth"]["lag_s"] == 3.0
    assert sim["truth"]["duration_s"] <= 4.0 + 5.0 + 1e-6  # not hours
    assert {r["src"] for r in rec.header["roles"].values()} == {"ble-sim:coupled"}
    assert all(r["simulated"] for r in rec.header["roles"].values())


def test_headless_ble_sim_at_speed_honours_seed_and_speed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--speed 40` with emulated straps: the BLE code path on a clock 40× faster; the session
    still covers its full duration on that clock, and `--seed` seeds the emulated dyad."""
    code = main(["live", "--headless", "--duration", "60", "--speed", "40", "--seed", "7",
                 "--client", "ble-sim:coupled", "--therapist", "ble-sim:coupled",
                 "--recordings-dir", str(tmp_path)])
    assert code == 0
    assert "SIMULATED (coupled, seed 7)" in capsys.readouterr().out
    rec = read_recording(next(tmp_path.glob("*-dyad.jsonl")))
    assert rec.header["simulation"]["seed"] == 7
    assert rec.header["settings"]["speed"] == 40.0
    assert rec.end is not None and rec.end["reason"] == "duration reached"
    for role in ("client", "therapist"):
        arrivals = [s.arrival_s for s in rec.samples_for(role)]
        assert arrivals and arrivals[-1] - arrivals[0] > 45.0  # session seconds, not wall


def test_simulation_header_of_several_runs() -> None:
    from types import SimpleNamespace

    from coreg.sources import simulation_header

    a = SimpleNamespace(scenario="rest", seed=5, truth={"x": 1})
    b = SimpleNamespace(scenario="rest", seed=9, truth={"x": 2})
    assert simulation_header({}) is None
    assert simulation_header({"client": a, "therapist": a}) == {
        "scenario": "rest", "seed": 5, "truth": {"x": 1}}
    both = simulation_header({"client": a, "therapist": b})
    assert both == {"scenario": {"client": "rest", "therapist": "rest"},
                    "seed": {"client": 5, "therapist": 9},
                    "truth": {"rest:5": {"x": 1}, "rest:9": {"x": 2}}}


@pytest.mark.parametrize(("argv", "message"), [
    (["--client", "sim:nosuch"], "unknown scenario"),
    (["--duration", "-3"], "--duration must be positive"),
    (["--speed", "fast"], "--speed must be a number"),
    (["--client", "sim:"], "no scenario after"),
    (["--client", "sim", "--therapist", "ble-sim:rest", "--speed", "10"], "all of one kind"),
    (["--client", "ble-sim:coupled", "--therapist", "ble-sim:coupled", "--speed", "max"],
     "not max"),
    (["--client", "AA:BB:CC:DD:EE:FF", "--speed", "10"], "simulated straps"),
])
def test_bad_input_is_one_line_exit_2(argv: list[str], message: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["live", "--headless", "--recordings-dir", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_session_layer_imports_no_qt() -> None:
    code = ("import sys, coreg.session, coreg.sources, coreg.session.display; "
            "bad = [m for m in ('PySide6', 'pyqtgraph', 'bleak') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
