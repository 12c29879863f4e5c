"""``coreg breathe --headless`` on the simulated client (``sim``) and on the emulated BLE strap
(``ble-sim``): recording, summary, stored rate, and bad ``--device`` values."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from coreg.cli import main as cli_main
from coreg.recording import read_recording


def _run(argv: list[str]) -> int:
    return cli_main(argv)


def test_practice_headless_records_pacer_and_prints_summary(tmp_path: Path, capsys) -> None:
    code = _run(["breathe", "--headless", "--speed", "max", "--duration", "150", "--rate",
                 "5.5", "--ratio", "4:6", "--recordings-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "SIMULATED" in out and "coreg informs; it does not diagnose." in out
    assert "collecting…" in out  # the first line, before any window filled
    assert "mean coherence" in out
    rec = read_recording(next(tmp_path.glob("*-breathe.jsonl")))
    assert rec.mode == "breathe"
    assert rec.pacer[0].rate_bpm == 5.5 and rec.pacer[0].inhale_ratio == pytest.approx(0.4)
    assert rec.duration_s == pytest.approx(150.0, abs=2.0)
    assert len(rec.samples_for("client")) > 100
    assert rec.simulation is not None


def test_assessment_headless_stores_the_chosen_rate_owner_only(tmp_path: Path, capsys) -> None:
    code = _run(["breathe", "--assess", "--headless", "--speed", "max", "--steps", "6.0,5.0",
                 "--step-s", "60", "--settle-s", "10", "--recordings-dir", str(tmp_path),
                 "--client-name", "ana"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Best breathing rate" in out and "confidence" in out
    rec = read_recording(next(tmp_path.glob("*-breathe.jsonl")))
    assert [p.rate_bpm for p in rec.pacer] == [6.0, 5.0, None]
    db = tmp_path / "coreg.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    from coreg.recording.index import stored_rate

    chosen = stored_rate(tmp_path, "ana")
    assert chosen in (6.0, 5.0)
    assert rec.header["client"] == {"name": "ana"}
    # The stored rate becomes ana's default pacer rate.
    _run(["breathe", "--headless", "--speed", "max", "--duration", "20", "--client-name", "ana",
          "--recordings-dir", str(tmp_path)])
    capsys.readouterr()
    recs = [read_recording(p) for p in tmp_path.glob("*-breathe*.jsonl")]
    practice = [r for r in recs if not r.header["settings"]["assess"]]
    assert len(practice) == 1 and practice[0].pacer[0].rate_bpm == chosen


def test_practice_headless_on_the_emulated_ble_strap(tmp_path: Path, capsys) -> None:
    code = _run(["breathe", "--headless", "--device", "ble-sim", "--speed", "30", "--duration",
                 "70", "--rate", "6", "--seed", "4", "--recordings-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "SIMULATED client (seed 4) on the emulated BLE strap" in out
    assert "30× faster than real time" in out
    assert "Connecting to the strap" in out  # the device state, calmly
    rec = read_recording(next(tmp_path.glob("*-breathe.jsonl")))
    assert rec.header["roles"]["client"]["src"] == "ble-sim"
    assert rec.header["roles"]["client"]["model"] == "Emulated HRM"
    assert rec.simulation == {"scenario": "breathe", "seed": 4,
                              "truth": rec.simulation["truth"]}
    assert rec.simulation["truth"]  # the simulated client's ground truth
    assert [e.kind.value for e in rec.events][:2] == ["connecting", "connected"]
    assert len(rec.samples_for("client")) > 40
    assert rec.pacer[0].rate_bpm == 6.0
    assert rec.duration_s == pytest.approx(70.0, abs=3.0)


@pytest.mark.parametrize("argv", [
    ["--rate", "12"], ["--ratio", "4-6"], ["--assess", "--step-s", "30"],
    ["--device", "AA:BB:CC:DD:EE:FF"], ["--pause-in", "5", "--pause-out", "5", "--rate", "8"],
    ["--device", "sim:coupled"], ["--device", "ble-sim:rest"], ["--device", "none"],
    ["--device", " "], ["--device", "ble-sim"],  # ble-sim with --speed max
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys, argv: list[str]) -> None:
    code = _run(["breathe", "--headless", "--speed", "max", "--recordings-dir", str(tmp_path),
                 *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.jsonl"))  # refused before any recording was opened
