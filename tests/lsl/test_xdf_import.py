"""``coreg import --xdf``: coreg's own outlets recorded to XDF, and an ECG stream (MIT-BIH 100)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pylsl
import pytest

from coreg.cli import main
from coreg.recording import read_recording
from coreg.recording.xdf import import_xdf
from coreg.report.analysis import analyze_session
from devices import sim
from devices.lsl import StrapOutlets, beat_times_s
from devices.types import DeviceEvent, RRSample
from tests.lsl.xdf_writer import XdfWriter, stream_xml

DATA = Path(__file__).resolve().parents[1] / "data"


class Recorder:
    """A tiny LabRecorder: pull every sample of some streams into an XDF file."""

    def __init__(self, names: list[str]) -> None:
        self.inlets: list[pylsl.StreamInlet] = []
        for name in names:
            found = pylsl.resolve_byprop("name", name, 1, 10.0)
            assert found, name
            inlet = pylsl.StreamInlet(found[0], max_buflen=360)
            inlet.open_stream(timeout=10.0)
            self.inlets.append(inlet)
        self.data: list[tuple[list[list[object]], list[float]]] = [([], []) for _ in names]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for inlet, (values, stamps) in zip(self.inlets, self.data, strict=True):
                v, t = inlet.pull_chunk(timeout=0.05)
                values.extend(v)
                stamps.extend(t)

    def write(self, path: Path, settle_s: float = 1.0) -> None:
        time.sleep(settle_s)
        self._stop.set()
        self._thread.join(5)
        writer = XdfWriter(path)
        for sid, (inlet, (values, stamps)) in enumerate(
                zip(self.inlets, self.data, strict=True), start=1):
            info = inlet.info(timeout=5.0)
            writer.add_stream(sid, info.as_xml(), "string" if info.channel_format() ==
                              pylsl.cf_string else "double64", info.channel_count())
            writer.add_clock_offset(sid, pylsl.local_clock(), inlet.time_correction(5.0))
            if values:
                writer.add_samples(sid, values, stamps)
        writer.close()


def test_coreg_outlets_recorded_to_xdf_import_and_analyse(tmp_path: Path) -> None:
    run = sim.simulate("coupled", duration_s=150.0, seed=3)
    tag = os.getpid()
    outlets = {role: StrapOutlets(f"coreg-xdf-{role}-{tag}", role, run.info[role],
                                  f"sim-{role}", "test") for role in ("client", "therapist")}
    names = [n for o in outlets.values() for n in (o.name, o.name + "-events")]
    recorder = Recorder(names)
    time.sleep(0.5)
    base_s = time.monotonic() - 200.0  # stamps in the past: no need to wait for real time
    sent: dict[str, list[tuple[float, float]]] = {"client": [], "therapist": []}
    for role in ("client", "therapist"):
        for message in run.strap[role].messages:
            if isinstance(message, RRSample):
                message = RRSample(role, base_s + message.arrival_s, message.rr_ms,
                                   message.hr_bpm, message.contact)
                sent[role].extend(zip(beat_times_s(message.arrival_s, message.rr_ms),
                                      message.rr_ms, strict=True))
            elif isinstance(message, DeviceEvent):
                message = DeviceEvent(role, base_s + message.arrival_s, message.kind,
                                      message.value, message.detail)
            outlets[role].push(message)
    xdf = tmp_path / "session.xdf"
    recorder.write(xdf)
    out = tmp_path / "imported.jsonl"
    header = import_xdf(xdf, out)  # roles found from coreg's metadata
    assert set(header["imported"]) == {"client", "therapist"}
    assert header["imported"]["client"]["kind"] == "RR"
    rec = read_recording(out)
    t0 = header["xdf"]["t0_lsl_s"]
    for role in ("client", "therapist"):
        got = [(t0 + s.arrival_s, s.rr_ms[0]) for s in rec.samples_for(role)]
        assert [rr for _, rr in got] == [rr for _, rr in sent[role]]
        assert np.allclose([t for t, _ in got], [t for t, _ in sent[role]], atol=1e-5)
        assert any(e.kind == "connected" for e in rec.events_for(role))
    analysis = analyze_session(rec)
    assert analysis.sync is not None and np.isfinite(analysis.sync.mean_peak_r)
    for person in analysis.persons.values():
        assert person.summary is not None
    # and the command says what it did, in one line
    assert main(["import", "--xdf", str(xdf), "--client", outlets["client"].name,
                 "-o", str(tmp_path / "one.jsonl")]) == 0


def test_ecg_stream_becomes_rr_by_r_peak_detection(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    wfdb = pytest.importorskip("wfdb")
    seconds = 300
    record = wfdb.rdrecord(str(DATA / "100"), sampto=360 * seconds)
    fs = float(record.fs)
    ecg = record.p_signal  # (n, 2) mV: MLII, V5
    stamps = 5000.0 + np.arange(len(ecg)) / fs
    xdf = tmp_path / "ecg.xdf"
    writer = XdfWriter(xdf)
    chans = [{"label": label, "unit": "mV", "type": "ECG"} for label in record.sig_name]
    writer.add_stream(1, stream_xml("BioAmp ECG", "ECG", 2, fs, "float32", "amp-1", chans),
                      "float32", 2)
    offset_s = 0.25  # the amplifier's clock runs 0.25 s behind the recording machine's
    writer.add_clock_offset(1, stamps[0], offset_s)
    for i in range(0, len(ecg), 3600):
        writer.add_samples(1, ecg[i:i + 3600].tolist(), stamps[i:i + 3600].tolist())
    writer.add_clock_offset(1, stamps[-1], offset_s)
    writer.close()
    out = tmp_path / "ecg.jsonl"
    assert main(["import", "--xdf", str(xdf), "--client", "BioAmp ECG", "-o", str(out)]) == 0
    line = capsys.readouterr().out
    assert "R-peak detection" in line and "neurokit2" in line
    header = import_xdf(xdf, tmp_path / "again.jsonl", client="BioAmp ECG")
    rec = read_recording(out)
    peaks_s = np.array([header["xdf"]["t0_lsl_s"] + s.arrival_s for s in rec.samples])
    ann = wfdb.rdann(str(DATA / "100"), "atr", sampto=360 * seconds)
    beat = np.isin(ann.symbol, list("NLRBAaJSVrFejnE/fQ"))
    ref_s = 5000.0 + offset_s + ann.sample[beat] / fs
    ref_s = ref_s[1:]  # the first peak starts the first interval
    near = np.abs(peaks_s[:, None] - ref_s[None, :]) <= 0.05
    sensitivity = near.any(axis=0).mean()
    ppv = near.any(axis=1).mean()
    assert sensitivity >= 0.99 and ppv >= 0.99, (sensitivity, ppv)
    rr = np.array([s.rr_ms[0] for s in rec.samples])
    assert 600 < np.median(rr) < 1000  # record 100: about 75 bpm


def test_a_broken_xdf_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.xdf"
    bad.write_bytes(b"XDF:\x01\x05\x01\x00garbage")
    assert main(["import", "--xdf", str(bad), "-o", str(tmp_path / "x.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("coreg import:")
    assert not (tmp_path / "x.jsonl").exists()
    assert main(["import", "--xdf", str(tmp_path / "none.xdf"), "-o",
                 str(tmp_path / "y.jsonl")]) == 2
