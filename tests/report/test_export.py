"""``coreg export`` and re-import: every RR value survives exactly (to the strap's 1/1024 s)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coreg.cli import main
from coreg.errors import InputError
from coreg.recording import AtomicRecording, new_header, read_recording
from coreg.recording.importers import import_recording, read_rr_file
from coreg.report.exporters import csv_paths, export_recording, rr_txt_paths
from devices.hrm import rr_raw_to_ms
from devices.types import RRSample

# RR in the strap's raw unit (1/1024 s): 250-2000 ms, i.e. 30-240 bpm. rr-txt export touches
# no engine, so any values; the csv export also runs the live engine, fed plausible series.
raw_rr = st.integers(min_value=256, max_value=2048)
# (an import needs at least MIN_IMPORT_BEATS = 3 intervals; fewer are refused, see tests/cli)
wild_beats = st.lists(raw_rr, min_size=3, max_size=60)


@st.composite
def plausible_beats(draw: st.DrawFn) -> list[int]:
    x = draw(st.integers(min_value=600, max_value=1100))
    out = [x]
    for step in draw(st.lists(st.integers(min_value=-40, max_value=40), min_size=2,
                              max_size=59)):
        x = min(2048, max(256, x + step))
        out.append(x)
    return out


def _write(path: Path, rr_raw: dict[str, list[int]]) -> Path:
    header = new_header("dyad" if len(rr_raw) > 1 else "solo",
                        {r: {"name": f"strap {r}"} for r in rr_raw})
    samples = []
    for role, raws in rr_raw.items():
        t = 0.0
        for i in range(0, len(raws), 2):  # up to two RR per notification, as straps send
            chunk = tuple(rr_raw_to_ms(x) for x in raws[i:i + 2])
            t += sum(chunk) / 1000.0
            samples.append(RRSample(role, t, chunk, round(60000 / chunk[-1]), True, b""))
    samples.sort(key=lambda s: s.arrival_s)
    with AtomicRecording(path, header) as w:
        for s in samples:
            w.write_sample(s)
        w.close("stopped", t_s=samples[-1].arrival_s)
    return path


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), fmt=st.sampled_from(["rr-txt", "csv"]))
def test_export_then_import_keeps_every_rr_exactly(
        tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, fmt: str) -> None:
    beats = wild_beats if fmt == "rr-txt" else plausible_beats()
    client = data.draw(beats, label="client")
    therapist = data.draw(st.one_of(st.none(), beats), label="therapist")
    d = tmp_path_factory.mktemp("rt")
    raws = {"client": client} | ({"therapist": therapist} if therapist else {})
    rec = read_recording(_write(d / "rec.jsonl", raws))
    out = d / ("x.txt" if fmt == "rr-txt" else "x.csv")
    files = export_recording(rec, fmt, out)
    if fmt == "rr-txt":
        sources = rr_txt_paths(out, rec.roles)
        assert sorted(files) == sorted(sources.values())
    else:
        sources = {r: csv_paths(out)["beats"] for r in rec.roles}
    import_recording(sources, d / "back.jsonl")
    back = read_recording(d / "back.jsonl")
    for role, raw in raws.items():
        expected = [rr_raw_to_ms(x) for x in raw]
        assert back.rr_for(role) == expected  # float equality: exact
        assert [round(v * 1.024) for v in back.rr_for(role)] == raw


def test_rr_txt_single_role_writes_path_and_kubios_reads_ms(tmp_path: Path) -> None:
    rec = read_recording(_write(tmp_path / "r.jsonl", {"client": [800, 820, 900]}))
    assert export_recording(rec, "rr-txt", tmp_path / "c.txt") == [tmp_path / "c.txt"]
    lines = (tmp_path / "c.txt").read_text().splitlines()
    assert lines == ["781.25", "800.78125", "878.90625"]


def test_csv_export_of_a_dyad(tmp_path: Path) -> None:
    from coreg.report.samples import write_sample_recording

    rec = read_recording(write_sample_recording(tmp_path / "d.jsonl", "coupled", 90.0, seed=4))
    files = export_recording(rec, "csv", tmp_path / "d.csv")
    paths = csv_paths(tmp_path / "d.csv")
    assert files == [paths["beats"], paths["metrics"]]
    with paths["beats"].open() as fh:
        beats_rows = list(csv.DictReader(fh))
    assert {r["role"] for r in beats_rows} == {"client", "therapist"}
    assert sum(r["role"] == "client" for r in beats_rows) == len(rec.rr_for("client"))
    assert all(r["kind"] in {"normal", "ectopic", "long", "short", "missed", "extra",
                             "implausible"} for r in beats_rows)
    with paths["metrics"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert {"time_s", "role", "hr_bpm", "rmssd_ms", "coherence", "lf_hf",
            "sync_peak_r", "sync_lag_s"} <= set(rows[0])
    times = sorted({float(r["time_s"]) for r in rows})
    assert times[0] == 5.0 and len(rows) == 2 * len(times)
    assert any(r["sync_peak_r"] for r in rows)  # windows exist after 30 s
    hr = [float(r["hr_bpm"]) for r in rows if r["hr_bpm"]]
    assert hr and all(40 < h < 120 for h in hr)


def test_export_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    rec = _write(tmp_path / "r.jsonl", {"client": [800, 820]})
    assert main(["export", str(rec), "--format", "csv", "-o",
                 str(tmp_path / "missing" / "x.csv")]) == 2
    assert main(["export", str(tmp_path / "nope.jsonl"), "--format", "rr-txt", "-o",
                 str(tmp_path / "x.txt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("coreg export:") for e in err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.jsonl"]


def test_import_kubios_two_column_text_and_role_column(tmp_path: Path) -> None:
    k = tmp_path / "kubios.txt"
    k.write_text("0.000 0.812\n0.812 0.7890625\n")
    assert read_rr_file(k).rr_ms == (812.0, 789.0625)
    c = tmp_path / "beats.csv"
    c.write_text("time_s,role,rr_ms\n0.8,client,800\n0.9,therapist,900\n1.6,client,810\n")
    assert read_rr_file(c, role="client").rr_ms == (800.0, 810.0)
    with pytest.raises(InputError, match="roles client, therapist"):
        read_rr_file(c, role="observer")


def test_markers_csv_lists_every_marker_with_its_note_owner_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import csv
    import stat

    from coreg.cli import main
    from coreg.report.samples import write_sample_recording

    rec = write_sample_recording(tmp_path / "d.jsonl", "coupled", 90.0, seed=1,
                                 markers=[(12.5, "laughed, then quiet"), (61.0, "")])
    out = tmp_path / "markers.csv"
    assert main(["export", str(rec), "--format", "markers-csv", "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["clock"], r["role"], r["note"]) for r in rows] == [
        ("00:12", "", "laughed, then quiet"), ("01:01", "", "")]
    assert float(rows[0]["t_s"]) == 12.5
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
