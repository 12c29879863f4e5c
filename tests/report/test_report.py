"""``coreg report``: a self-contained HTML page for a dyad and a breathing session."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coreg.cli import main
from coreg.recording import AtomicRecording, new_header
from coreg.report.samples import write_sample_recording


@pytest.fixture(scope="module")
def dyad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "dyad.jsonl"
    return write_sample_recording(path, "coupled", 150.0, seed=3,
                                  markers=[(40.0, "topic A"), (100.0, "topic B")])


@pytest.fixture(scope="module")
def breathing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "breathe.jsonl"
    return write_sample_recording(path, "assessment", 400.0, seed=2)


def _images(page: str) -> int:
    return page.count('<img src="data:image/png;base64,')


def _external_refs(page: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["'](?!data:)([^"']*)""", page) + re.findall(
        r"url\(\s*['\"]?(?!data:)([^)'\"]+)", page)


def test_dyad_report_is_self_contained_and_complete(
        dyad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dyad.html"
    assert main(["report", str(dyad), "-o", str(out), "--no-neurokit"]) == 0
    page = out.read_text(encoding="utf-8")
    captured = capsys.readouterr()
    assert "100%" in captured.err  # the progress bar reached its end
    assert captured.out.strip() == str(out)
    assert _external_refs(page) == []
    # metrics, tachogram, spectrum, synchrony timeline, lag, surrogates
    assert _images(page) == 6
    for text in ("Synchrony", "chance", "coreg informs; it does not diagnose",
                 "SIMULATED", "@media print", "page-break", "therapist", "client"):
        assert text in page, text
    assert "Breathing pacer" not in page  # no pacer lines in this recording
    # --no-neurokit leaves no empty heading; the markers are listed with their notes.
    assert "neurokit2</h2>" not in page and "HRV indices" not in page
    assert "<h2>Markers</h2>" in page
    assert re.search(r"00:40</td><td>both</td><td>topic A", page)
    assert "01:40</td><td>both</td><td>topic B" in page


def test_breathing_report_shows_the_engines_assessment_and_neurokit_table(
        breathing: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.html"
    assert main(["report", str(breathing), "-o", str(out), "--quiet"]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Resonance assessment — client" in page
    # schedule 6.5/min from 60 s, 6.0 from 180 s, 5.5 from 300 s: three ranked steps, ranks 1-3
    rows = re.findall(r"<tr><td class='n'>(\d)</td><td class='n'>(\d(?:\.\d)?)</td>", page)
    assert sorted(rank for rank, _ in rows) == ["1", "2", "3"]
    assert sorted(rate for _, rate in rows) == ["5.5", "6", "6.5"]
    # The chosen rate is the engine's: the rate ranked first, the same as the live assessment.
    from coreg.recording import read_recording
    from coreg.report.breathing import replay_breathing

    replayed = replay_breathing(read_recording(breathing), "client")
    assessment = replayed.assessment
    chosen = assessment.chosen_rate_bpm
    assert chosen in (5.5, 6.0, 6.5)
    assert dict((rank, rate) for rank, rate in rows)["1"] == f"{chosen:g}"
    assert (f"Resonance assessment (as coreg breathe computes it): {chosen:g} breaths/min"
            in page)
    assert assessment.statement.replace("'", "&#x27;") in page
    # The summary's line says the same confidence, and whether the step is an end of the range.
    edge = {5.5: " — the slowest rate tested, at the edge of the tested range", 6.0: "",
            6.5: " — the fastest rate tested, at the edge of the tested range"}[chosen]
    assert (f"<li>Resonance assessment (client): chosen rate {chosen:g} breaths/min, confidence "
            f"{assessment.confidence}{edge}.</li>" in page)
    # One science: no second ranking of the report's own.
    assert "own ranking" not in page and "ranked first on" not in page
    assert "<h2>Appendix: HRV indices computed by neurokit2</h2>" in page
    # every index with its unit and what it is
    assert re.search(r"<td>RMSSD</td><td class='n'>[\d.]+</td><td>ms</td><td>root mean", page)
    assert re.search(r"<td>LF</td><td class='n'>[\d.e+]+</td><td>ms²</td>", page)
    assert "<td>SampEn</td>" in page and "sample entropy" in page
    assert page.index("Appendix: HRV indices") > page.index("Resonance assessment — client")
    # the assessment table explains its columns and plots HR swing against rate
    assert "Columns: <b>rank</b>" in page and "HR swing per breath (bpm" in page
    assert "<h2>Synchrony</h2>" not in page and "relative to chance" not in page  # one person
    assert _images(page) == 5  # metrics, tachogram, spectrum, breathing, swing vs rate
    assert "<h2>Markers</h2>" not in page  # none dropped: no empty section


@pytest.mark.parametrize("content", ["", "not json\n", '{"format":"coreg-recording"}\n'])
def test_bad_input_is_one_line_and_leaves_no_output(
        tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text(content)
    out = tmp_path / "r.html"
    assert main(["report", str(src), "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("coreg report:")
    assert list(tmp_path.iterdir()) == [src]


def test_recording_without_beats_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "empty.jsonl"
    with AtomicRecording(src, new_header("dyad", {"client": {"name": "x"}})) as w:
        w.close("stopped", t_s=10.0)
    assert main(["report", str(src), "-o", str(tmp_path / "r.html"), "--quiet"]) == 2
    assert not (tmp_path / "r.html").exists()


def test_missing_output_folder_is_one_line(dyad: Path, tmp_path: Path) -> None:
    assert main(["report", str(dyad), "-o", str(tmp_path / "no" / "r.html"), "--quiet"]) == 2


def test_failure_while_rendering_leaves_no_partial_file(
        dyad: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import coreg.report.html as html_mod

    def boom(*_a: object, **_k: object) -> str:
        raise RuntimeError("figure failed")

    monkeypatch.setattr(html_mod, "render_html", boom)
    with pytest.raises(RuntimeError):
        main(["report", str(dyad), "-o", str(tmp_path / "r.html"), "--quiet", "--no-neurokit"])
    assert list(tmp_path.iterdir()) == []


def test_report_and_exports_are_owner_only(dyad: Path, tmp_path: Path) -> None:
    """Reports and exports are health data: 0600 whatever the umask (docs/design.md §8)."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        out = tmp_path / "r.html"
        assert main(["report", str(dyad), "-o", str(out), "--quiet", "--no-neurokit"]) == 0
        assert main(["export", str(dyad), "--format", "csv", "-o",
                     str(tmp_path / "e.csv")]) == 0
        assert main(["export", str(dyad), "--format", "rr-txt", "-o",
                     str(tmp_path / "e.txt")]) == 0
    finally:
        os.umask(old)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["e-beats.csv", "e-client.txt", "e-metrics.csv", "e-therapist.txt",
                       "r.html"]
    for p in tmp_path.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name


def test_report_says_what_the_live_display_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The report and the session tell one story: the live display's share, as analyze says."""
    import json

    rec = write_sample_recording(tmp_path / "long.jsonl", "coupled", 480.0, seed=4)
    assert main(["analyze", str(rec), "--json"]) == 0
    live = json.loads(capsys.readouterr().out)["synchrony"]["live"]
    assert live["updates"] > 0 and live["in_sync_pct"] is not None
    out = tmp_path / "long.html"
    assert main(["report", str(rec), "-o", str(out), "--no-neurokit"]) == 0
    page = out.read_text(encoding="utf-8")
    assert (f"the live display said &quot;in sync&quot; in {live['in_sync_pct']:.0f} % of its "
            f"{live['updates']} 5-s updates") in page
    # Too short for a verdict: the report says so instead of a number.
    short = write_sample_recording(tmp_path / "short.jsonl", "coupled", 150.0, seed=3)
    assert main(["report", str(short), "-o", str(tmp_path / "short.html"), "--no-neurokit"]) == 0
    assert "The live display gave no verdict" in (tmp_path / "short.html").read_text("utf-8")
