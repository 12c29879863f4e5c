"""Importing RR exports: every RR intact, clear one-line refusals, no partial output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coreg.errors import InputError
from coreg.recording import read_recording
from coreg.recording.importers import import_recording, read_rr_file

DATA = Path(__file__).parents[1] / "data"


def test_rr_txt_in_ms(tmp_path: Path) -> None:
    f = tmp_path / "rr.txt"
    f.write_text("812\n\n# comment\n845.5\n790\n")
    imp = read_rr_file(f)
    assert imp.fmt == "rr-txt" and imp.unit == "ms" and imp.rr_ms == (812.0, 845.5, 790.0)


def test_rr_txt_in_seconds_kubios_style(tmp_path: Path) -> None:
    f = tmp_path / "rr.txt"
    f.write_text("0.812\n0.845\n0.790\n")
    imp = read_rr_file(f)
    assert imp.unit == "s"
    assert imp.rr_ms == pytest.approx((812.0, 845.0, 790.0))


def test_polar_sensor_logger_csv(tmp_path: Path) -> None:
    f = tmp_path / "Polar_H10_RR.txt"
    f.write_text("Phone timestamp;RR-interval [ms]\n"
                 "2026-11-02T10:00:01.123;812\n2026-11-02T10:00:01.900;845\n")
    imp = read_rr_file(f)
    assert imp.fmt == "csv" and imp.rr_ms == (812.0, 845.0)


def test_generic_csv_with_rr_column(tmp_path: Path) -> None:
    f = tmp_path / "beats.csv"
    f.write_text("time,RR (s),hr\n0.8,0.8,75\n1.6,0.8,75\n")
    assert read_rr_file(f).rr_ms == pytest.approx((800.0, 800.0))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "no RR values"),
        ("812\nabc\n", ":2: 'abc' is not a number"),
        ("812\n-5\n", "not a positive number"),
        ("time,value\n1,2\n", "no RR column"),
        ("RR\n812\n\n", None),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, content: str, message: str | None) -> None:
    f = tmp_path / "in.txt"
    f.write_text(content)
    if message is None:
        assert read_rr_file(f).rr_ms == (812.0,)
        return
    with pytest.raises(InputError, match=message) as info:
        read_rr_file(f)
    assert "\n" not in str(info.value)


def test_import_keeps_every_rr_of_a_real_recording(tmp_path: Path) -> None:
    rr = np.load(DATA / "SampleNNISeriesLong.npy")
    f = tmp_path / "long.txt"
    f.write_text("\n".join(str(int(v)) for v in rr) + "\n")
    out = tmp_path / "imported.jsonl"
    import_recording({"client": f, "therapist": f}, out)
    rec = read_recording(out)
    assert rec.complete and rec.mode == "import"
    assert rec.rr_for("client") == [float(v) for v in rr]
    assert rec.rr_for("therapist") == [float(v) for v in rr]
    assert rec.duration_s == pytest.approx(rr.sum() / 1000.0)


def test_failed_import_leaves_no_output(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("800\n810\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("800\nnot a number\n")
    out = tmp_path / "o.jsonl"
    with pytest.raises(InputError):
        import_recording({"client": good, "therapist": bad}, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt", "good.txt"]
