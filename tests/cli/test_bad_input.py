"""Bad input is refused with one clear line and exit code 2, before anything runs (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coreg.cli import main


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "coupled.jsonl"
    assert main(["simulate", "--scenario", "coupled", "--duration", "120", "-o",
                 str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def truncated(recording: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The recording cut off in the middle of a session (no end line)."""
    lines = recording.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path_factory.mktemp("cut") / "cut.jsonl"
    path.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    return path


def run(argv: list[str]) -> int:
    """``coreg ARGV`` in-process; a usage error (argparse) exits via SystemExit."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


@pytest.mark.parametrize(("argv", "expected"), [
    (["breathe", "--headless", "--goal", "-3"], "--goal"),
    (["breathe", "--headless", "--goal", "0"], "--goal"),
    (["breathe", "--headless", "--goal", "nan"], "--goal"),
    (["breathe", "--headless", "--assess", "--steps", "5,x"], "'x' is not a number"),
    (["breathe", "--headless", "--assess", "--steps", ","], "--steps"),
    (["scan", "--timeout", "0"], "more than 0"),
    (["scan", "--timeout", "-1"], "more than 0"),
    (["scan", "--timeout", "500"], "at most 120 seconds"),
])
def test_option_values_are_refused_in_words(argv: list[str], expected: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    extra = (["--recordings-dir", str(tmp_path), "--duration", "5", "--speed", "max"]
             if argv[0] == "breathe" else [])
    code = run([*argv, *extra])
    assert code == 2
    line = one_line_error(capsys)
    assert expected in line, line
    assert "could not convert" not in line and "between 0 and" not in line
    assert not list(tmp_path.glob("*.jsonl"))  # refused before a session started


def test_steps_keep_the_schedule(tmp_path: Path) -> None:
    from coreg.cli import build_parser

    args = build_parser().parse_args(["breathe", "--assess", "--steps", "6, 5.5 ,5"])
    assert args.steps == [6.0, 5.5, 5.0]
    assert build_parser().parse_args(["breathe"]).steps == [6.5, 6.0, 5.5, 5.0, 4.5]


def test_replay_start_past_the_end_is_refused(recording: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(recording), "--headless", "--start", "99999"]) == 2
    line = one_line_error(capsys)
    assert "--start" in line and "past the end" in line and "120" in line


def test_replay_start_inside_the_recording_still_works(recording: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(recording), "--headless", "--speed", "max",
                 "--start", "100"]) == 0
    assert "replay ended at 120 s" in capsys.readouterr().out


def test_one_beat_import_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rr = tmp_path / "one.txt"
    rr.write_text("812\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["import", "--client", str(rr), "-o", str(out)]) == 2
    line = one_line_error(capsys)
    assert "1 RR interval" in line and "at least" in line
    assert not out.exists()


def test_importing_a_coreg_recording_says_so(recording: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "again.jsonl"
    assert main(["import", "--client", str(recording), "-o", str(out)]) == 2
    line = one_line_error(capsys)
    assert "already a coreg recording" in line and "use it directly" in line
    assert not out.exists()


def test_report_of_a_missing_file_errors_before_any_progress(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nosuch.jsonl")]) == 2
    line = one_line_error(capsys)
    assert "nosuch.jsonl" in line and "no such file" in line
    assert "%" not in line


def test_analyze_warns_on_a_truncated_recording(truncated: Path, recording: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(truncated)]) == 0
    captured = capsys.readouterr()
    assert "no end line" in captured.err
    assert main(["analyze", str(truncated), "--json"]) == 0
    captured = capsys.readouterr()
    assert "no end line" in captured.err
    json.loads(captured.out)  # stdout stays pure JSON
    assert main(["analyze", str(recording)]) == 0
    assert capsys.readouterr().err == ""  # a complete recording: no warning


def test_analyze_help_says_50_percent(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    out = capsys.readouterr().out
    assert "50% overlap" in " ".join(out.split())
    assert "%%" not in out


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_before_or_after_the_subcommand(where: str, recording: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["analyze", str(recording)]
    argv = ["-v", *argv] if where == "before" else [*argv, "-v"]
    assert main(argv) == 0
    assert "RMSSD" in capsys.readouterr().out  # the table printed
    from coreg.cli import build_parser

    assert build_parser().parse_args(argv).verbose is True
    assert build_parser().parse_args(["analyze", str(recording)]).verbose is False


# -- item 14: what --no-correct does, said truthfully --------------------------------------
def _rr_recording(path: Path, rr_ms: list[float]) -> Path:
    from coreg.recording.format import AtomicRecording, new_header
    from devices.types import RRSample

    header = new_header("solo", {"client": {"name": "strap"}})
    t_s = 0.0
    with AtomicRecording(path, header) as writer:
        for rr in rr_ms:
            t_s += rr / 1000.0
            writer.write_sample(RRSample("client", t_s, (rr,), round(60000 / rr), True, b""))
        writer.close("stopped", t_s=t_s)
    return path


def test_no_correct_still_leaves_impossible_intervals_out_as_gaps(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = [800.0 + 40.0 * ((i % 7) - 3) for i in range(300)]
    rr = [*good[:100], 150.0, *good[100:200], 3500.0, *good[200:]]
    path = _rr_recording(tmp_path / "odd.jsonl", rr)
    assert main(["analyze", str(path), "--json", "--no-correct"]) == 0
    role = json.loads(capsys.readouterr().out)["roles"]["client"]
    assert role["artifacts"]["corrected"] is False
    assert role["beats"] == len(rr)
    assert role["artifacts"]["by_kind"]["implausible"] == 2  # reported...
    # ...and left out: the mean is that of the plausible intervals, not of all of them
    assert abs(sum(rr) / len(rr) - sum(good) / len(good)) > 5.0
    assert role["hrv"]["mean_nn_ms"] == pytest.approx(sum(good) / len(good), abs=0.5)


def test_the_docs_say_what_no_correct_does(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).parents[2]
    for doc in (root / "README.md", *sorted((root / "docs").glob("*.md"))):
        assert "exactly as recorded" not in doc.read_text(encoding="utf-8"), doc
    science = (root / "docs" / "science.md").read_text(encoding="utf-8")
    para = " ".join(science.split("`--no-correct` computes", 1)[1].split("\n\n", 1)[0].split())
    assert "200–3000 ms" in para and "gaps" in para
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "exactly as recorded" not in help_text and "200–3000 ms" in help_text
