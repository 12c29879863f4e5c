"""``coreg sessions``: newest first, headline figures cached, damaged files listed not fatal."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

import coreg.report.sessions as sessions
from coreg.cli import main
from coreg.report.samples import write_sample_recording


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("recs")
    old = write_sample_recording(d / "old.jsonl", "coupled", 90.0, seed=1)
    new = write_sample_recording(d / "new.jsonl", "rest", 60.0, seed=2)
    # same header date for both; make "new" newer by its header
    text = new.read_text().replace('"created":"', '"created":"9', 1)
    new.write_text(text)
    full = old.read_bytes()
    (d / "crashed.jsonl").write_bytes(full[: len(full) // 2])  # cut mid-line, no end line
    (d / "empty.jsonl").write_bytes(b"")
    (d / "junk.jsonl").write_bytes(b"\x00\xff not a recording\n")
    (d / "future.jsonl").write_text('{"type":"header","format":"coreg-recording","version":99}\n')
    (d / "folder.jsonl").mkdir()
    (d / "notes.txt").write_text("ignored")
    return d


def test_list_is_newest_first_and_damaged_files_are_listed(folder: Path) -> None:
    entries = sessions.list_sessions(folder, use_cache=False)
    by = {e["file"]: e for e in entries}
    assert set(by) == {"old.jsonl", "new.jsonl", "crashed.jsonl", "empty.jsonl", "junk.jsonl",
                       "future.jsonl", "folder.jsonl"}
    assert entries[0]["file"] == "new.jsonl"
    for name in ("empty.jsonl", "junk.jsonl", "future.jsonl", "folder.jsonl"):
        assert by[name]["status"] == "damaged" and by[name]["error"], name
    assert "version 99" in by["future.jsonl"]["error"]
    assert by["crashed.jsonl"]["status"] == "incomplete"
    old = by["old.jsonl"]
    assert old["status"] == "ok" and old["mode"] == "dyad" and old["simulated"]
    assert set(old["roles"]) == {"client", "therapist"}
    assert 40 < old["roles"]["client"]["mean_hr_bpm"] < 120
    assert old["roles"]["client"]["rmssd_ms"] > 0
    assert "effect_size" in old["synchrony"]
    assert "synchrony" not in by["new.jsonl"]


def test_index_is_private_reused_and_invalidated(folder: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    first = sessions.list_sessions(folder)
    index = folder / sessions.INDEX_NAME
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    calls: list[Path] = []
    real = sessions.headline

    def counting(path: Path) -> dict:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(sessions, "headline", counting)
    assert sessions.list_sessions(folder) == first
    assert calls == []
    new = folder / "new.jsonl"
    os.utime(new, ns=(new.stat().st_atime_ns, new.stat().st_mtime_ns + 10**9))
    sessions.list_sessions(folder)
    assert [p.name for p in calls] == ["new.jsonl"]


def test_corrupt_index_is_ignored(folder: Path) -> None:
    (folder / sessions.INDEX_NAME).write_text("{not json")
    assert len(sessions.list_sessions(folder)) == 7
    assert json.loads((folder / sessions.INDEX_NAME).read_text())["version"] == 1


def test_cli_table_and_json(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "--recordings-dir", str(folder)]) == 0
    table = capsys.readouterr().out
    assert table.count("DAMAGED") == 4 and "synchrony effect size d=" in table
    assert " bpm RMSSD " in table and "incomplete" in table
    assert main(["sessions", "--recordings-dir", str(folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["file"] == "new.jsonl" and len(data) == 7
    assert main(["sessions", "--recordings-dir", str(folder / "absent")]) == 2


def test_headline_synchrony_equals_the_report(tmp_path: Path) -> None:
    from coreg.recording import read_recording
    from coreg.report.analysis import analyze_session

    path = write_sample_recording(tmp_path / "d.jsonl", "coupled", 240.0, seed=5)
    an = analyze_session(read_recording(path), with_neurokit=False)
    head = sessions.headline(path)["synchrony"]
    assert an.sync_summary is not None and an.sync_summary.effect_size is not None
    assert head["effect_size"] == round(an.sync_summary.effect_size, 2)
    assert head["mean_peak_r"] == round(an.sync_summary.mean_peak_r, 3)
    assert head["roles"] == list(an.sync_roles)
