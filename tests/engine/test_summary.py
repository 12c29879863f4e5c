"""Whole-recording summary and ``coreg analyze``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from engine_helpers import beats_rr, strap_samples

from coreg.cli import main
from coreg.engine import hrv
from coreg.engine.summary import summarize_recording
from coreg.recording.importers import rr_samples

HRV_KEYS = {"mean_nn_ms", "sdnn_ms", "rmssd_ms", "pnn50_pct", "mean_hr_bpm", "vlf_ms2", "lf_ms2",
            "hf_ms2", "lf_hf", "lf_peak_hz", "hf_peak_hz", "coherence_mean"}


def test_summary_of_clean_series_equals_direct_computation(pyhrv_long_rr: np.ndarray) -> None:
    out = summarize_recording({"client": rr_samples("client", tuple(pyhrv_long_rr))},
                              correct=False)
    h = out["roles"]["client"]["hrv"]
    td = hrv.time_domain(pyhrv_long_rr)
    assert h["rmssd_ms"] == pytest.approx(td.rmssd_ms, rel=1e-9)
    assert h["sdnn_ms"] == pytest.approx(td.sdnn_ms, rel=1e-9)
    fd = hrv.frequency_domain(np.cumsum(pyhrv_long_rr) / 1000.0, pyhrv_long_rr)
    assert h["lf_ms2"] == pytest.approx(fd.lf_ms2, rel=1e-6)
    assert out["roles"]["client"]["beats"] == len(pyhrv_long_rr)


def test_artifact_indices_are_positions_as_recorded() -> None:
    t, rr = beats_rr(400.0, seed=21)
    rr = rr.copy()
    rr[150] += 450.0
    samples, sent = strap_samples(t, rr, seed=21, role="client")
    out = summarize_recording({"client": samples})
    pos = int(np.flatnonzero(sent == 150)[0])
    assert pos in out["roles"]["client"]["artifacts"]["indices"]
    assert out["roles"]["client"]["artifacts"]["count"] <= 5


def _write_rr(path: Path, rr: np.ndarray) -> None:
    path.write_text("\n".join(f"{x:.1f}" for x in rr) + "\n")


def test_analyze_json_shape_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      pyhrv_long_rr: np.ndarray) -> None:
    _write_rr(tmp_path / "c.txt", pyhrv_long_rr[:1200])
    _write_rr(tmp_path / "t.txt", pyhrv_long_rr[2000:3200])
    rec = tmp_path / "r.jsonl"
    assert main(["import", "--client", str(tmp_path / "c.txt"), "--therapist",
                 str(tmp_path / "t.txt"), "-o", str(rec)]) == 0
    capsys.readouterr()
    assert main(["analyze", str(rec), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data["duration_s"], float)
    assert set(data["roles"]) == {"client", "therapist"}
    for role in data["roles"].values():
        assert isinstance(role["beats"], int) and role["beats"] == 1200
        art = role["artifacts"]
        assert isinstance(art["count"], int) and isinstance(art["percent"], float)
        assert all(isinstance(i, int) for i in art["indices"])
        assert set(role["hrv"]) >= HRV_KEYS
        assert all(isinstance(v, float) for v in role["hrv"].values())
    assert main(["analyze", str(rec), "--json", "--no-correct"]) == 0
    raw = json.loads(capsys.readouterr().out)
    assert raw["roles"]["client"]["artifacts"]["corrected"] is False
    assert main(["analyze", str(rec)]) == 0
    table = capsys.readouterr().out
    assert "RMSSD" in table and "therapist" in table and "LF power" in table


def test_analyze_bad_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "x.jsonl"
    bad.write_text("not a recording\n")
    assert main(["analyze", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_analyze_finds_the_simulated_artifacts(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """`coreg analyze` on `coreg simulate --scenario artifacts`: every injected beat is flagged
    at its index as recorded, few other flags, and --no-correct uses the RR as recorded."""
    pytest.importorskip("devices.sim")
    from coreg.recording import read_recording

    rec = tmp_path / "art.jsonl"
    assert main(["simulate", "--scenario", "artifacts", "--duration", "300", "--seed", "2",
                 "-o", str(rec)]) == 0
    capsys.readouterr()
    truth = read_recording(rec).header["simulation"]["truth"]["artifacts"]
    assert main(["analyze", str(rec), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert main(["analyze", str(rec), "--json", "--no-correct"]) == 0
    raw = json.loads(capsys.readouterr().out)
    recording = read_recording(rec)
    for role, kinds in truth.items():
        injected = [i for kind, idx in kinds.items() if kind != "no_contact" for i in idx]
        assert injected, "the scenario injects artifacts"
        got = set(data["roles"][role]["artifacts"]["indices"])
        assert all(i in got for i in injected)
        near = {j for i in injected for j in range(i - 1, i + 3)}
        assert len(got - near) <= 0.01 * data["roles"][role]["beats"]
        rr = np.array([x for s in recording.samples_for(role) for x in s.rr_ms])
        assert raw["roles"][role]["hrv"]["rmssd_ms"] == pytest.approx(
            hrv.time_domain(rr).rmssd_ms, rel=1e-9)
        assert data["roles"][role]["hrv"]["rmssd_ms"] < 0.8 * raw["roles"][role]["hrv"]["rmssd_ms"]
