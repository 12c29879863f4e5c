"""The ``coreg`` command as a user runs it: help, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from coreg.cli import main


def coreg(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "coreg", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_help_lists_the_commands() -> None:
    out = coreg("--help")
    assert out.returncode == 0
    for name in ("simulate", "import"):
        assert name in out.stdout


def test_no_command_opens_the_home_window(monkeypatch: pytest.MonkeyPatch) -> None:
    import coreg.ui.home

    seen: list[object] = []
    monkeypatch.setattr(coreg.ui.home, "run_home", lambda args: seen.append(args) or 0)
    assert main([]) == 0
    assert main(["-v"]) == 0
    assert len(seen) == 2 and all(a.command == "home" for a in seen)


def test_unknown_option_is_one_line_exit_2() -> None:
    out = coreg("import", "--bogus")
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "content",
    ["", "812\nbanana\n", "a,b\n1,2\n"],
)
def test_import_bad_file_one_line_no_output(tmp_path: Path, content: str) -> None:
    src = tmp_path / "rr.txt"
    src.write_text(content)
    out_file = tmp_path / "out.jsonl"
    out = coreg("import", "--client", str(src), "-o", str(out_file))
    assert out.returncode == 2, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not out_file.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rr.txt"]


def test_import_missing_file(tmp_path: Path) -> None:
    out = coreg("import", "--client", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "o.jsonl"))
    assert out.returncode == 2
    assert out.stderr.strip() == f"coreg import: {tmp_path / 'nope.txt'}: no such file"


def test_import_good_file(tmp_path: Path) -> None:
    src = tmp_path / "rr.txt"
    src.write_text("800\n812.5\n790\n")
    out = coreg("import", "--client", str(src), "-o", str(tmp_path / "o.jsonl"))
    assert out.returncode == 0, out.stderr
    assert "3 beats" in out.stdout


def test_simulate_writes_a_recording_with_truth(tmp_path: Path) -> None:
    from coreg.recording import read_recording

    out_file = tmp_path / "sim.jsonl"
    out = coreg("simulate", "--scenario", "coupled", "--duration", "120", "--seed", "4",
                "-o", str(out_file))
    assert out.returncode == 0, out.stderr
    rec = read_recording(out_file)
    assert rec.complete and rec.roles == ["client", "therapist"]
    truth = rec.simulation["truth"]
    assert truth["coupling"] == 0.7 and truth["lag_s"] == 3.0 and truth["leader"] == "therapist"
    assert all(s.payload for s in rec.samples)  # real strap bytes, not just numbers
    assert oct(out_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--scenario", "nonsense"], "unknown scenario"),
        (["--scenario", "rest", "--duration", "-5"], "--duration"),
        (["--scenario", "rest", "--seed", "x"], "--seed"),
    ],
)
def test_simulate_bad_arguments(tmp_path: Path, args: list[str], needle: str) -> None:
    out = coreg("simulate", *args, "-o", str(tmp_path / "o.jsonl"))
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and needle in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_import_pyhrv_series_every_rr_intact(tmp_path: Path) -> None:
    import numpy as np

    from coreg.recording import read_recording

    rr = np.load(Path(__file__).parents[1] / "data" / "SampleNNISeriesLong.npy")
    src = tmp_path / "long.txt"
    src.write_text("\n".join(str(v) for v in rr.tolist()) + "\n")
    out = coreg("import", "--client", str(src), "-o", str(tmp_path / "o.jsonl"))
    assert out.returncode == 0, out.stderr
    assert read_recording(tmp_path / "o.jsonl").rr_for("client") == [float(v) for v in rr]
