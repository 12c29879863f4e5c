"""The client and session database: private, incremental, rebuilt from the files, migrated."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

import coreg.recording.index as ix
from coreg.cli import main
from coreg.errors import RecordingError
from coreg.recording import read_recording
from coreg.report.samples import write_sample_recording


def _client(name: str) -> dict[str, object]:
    return {"client": {"name": name}}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of recordings: two clients, markers, a practice session, one damaged file."""
    d = tmp_path_factory.mktemp("course")
    write_sample_recording(d / "20260101-100000-dyad.jsonl", "coupled", 120.0, seed=1,
                           markers=[(30.0, "talked about work"), (90.0, "")],
                           header_extra=_client("Ana"))
    write_sample_recording(d / "20260108-100000-dyad.jsonl", "independent", 120.0, seed=2,
                           header_extra=_client("ana"))  # same client, other case
    write_sample_recording(d / "20260109-080000-breathe.jsonl", "paced", 120.0, seed=3,
                           header_extra=_client("Ana"))
    write_sample_recording(d / "20260110-100000-dyad.jsonl", "coupled", 90.0, seed=4,
                           header_extra=_client("Ben"))
    write_sample_recording(d / "20260111-100000-solo.jsonl", "rest", 60.0, seed=5)
    (d / "20260112-damaged.jsonl").write_bytes(b"\x00 not a recording\n")
    return d


@pytest.fixture
def folder(source: Path, tmp_path: Path) -> Path:
    out = tmp_path / "recs"
    shutil.copytree(source, out)
    return out


def test_database_and_its_journal_files_are_owner_only(folder: Path) -> None:
    with ix.SessionIndex(folder) as index:
        index.sync()
        index.add_client("Cleo", "prefers mornings")
        names = [p.name for p in folder.iterdir() if p.name.startswith(ix.DB_NAME)]
        assert {ix.DB_NAME, ix.DB_NAME + "-wal", ix.DB_NAME + "-shm"} <= set(names)
        for name in names:
            assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
        assert index.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sessions_clients_and_markers_come_from_the_files(folder: Path) -> None:
    with ix.open_index(folder) as index:
        entries = index.sessions()
        assert [e["file"] for e in entries[:5]] == [
            "20260111-100000-solo.jsonl", "20260110-100000-dyad.jsonl",
            "20260109-080000-breathe.jsonl", "20260108-100000-dyad.jsonl",
            "20260101-100000-dyad.jsonl"]
        assert entries[-1]["status"] == "damaged"
        ana = index.sessions("ANA")
        assert len(ana) == 3 and {e["client"] for e in ana} == {"Ana"}
        assert [c.name for c in index.clients()] == ["Ana", "Ben"]
        assert [c.name for c in index.clients("be")] == ["Ben"]
        dyad = next(e for e in ana if e["file"] == "20260101-100000-dyad.jsonl")
        assert 40 < dyad["roles"]["client"]["mean_hr_bpm"] < 120
        assert dyad["roles"]["client"]["rmssd_ms"] > 0
        assert dyad["roles"]["client"]["coherence"] > 0
        assert dyad["synchrony"]["time_in_sync_pct"] is not None
        practice = next(e for e in ana if e["mode"] == "breathe")
        assert practice["kind"] == "practice" and practice["resonance_rate_bpm"] > 0
        assert index.markers("20260101-100000-dyad.jsonl") == [
            {"t_s": 30.0, "note": "talked about work", "role": None},
            {"t_s": 90.0, "note": "", "role": None}]


def test_figures_are_those_of_coreg_analyze(folder: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    path = folder / "20260110-100000-dyad.jsonl"
    assert main(["analyze", "--json", str(path)]) == 0
    analyzed = json.loads(capsys.readouterr().out)["roles"]
    entry = ix.session_figures(path)
    for role, r in entry["roles"].items():
        hrv = analyzed[role]["hrv"]
        assert r["mean_hr_bpm"] == round(hrv["mean_hr_bpm"], 1)
        assert r["rmssd_ms"] == round(hrv["rmssd_ms"], 1)
        assert r["coherence"] == round(hrv["coherence_mean"], 2)


def test_only_new_or_changed_files_are_read(folder: Path, source: Path) -> None:
    calls: list[str] = []

    def counting(path: Path) -> dict:
        calls.append(path.name)
        return ix.session_figures(path)

    with ix.SessionIndex(folder, figures=counting) as index:
        assert index.sync() == 6 and len(calls) == 6
        calls.clear()
        assert index.sync() == 0 and calls == []
        # A file copied in by hand (a client's home practice) is picked up.
        shutil.copy(source / "20260109-080000-breathe.jsonl", folder / "home-practice.jsonl")
        assert index.sync() == 1 and calls == ["home-practice.jsonl"]
        assert len(index.sessions("Ana")) == 4
        # Same size, same mtime, another header: the header hash notices.
        path = folder / "20260110-100000-dyad.jsonl"
        st = path.stat()
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('"name":"Ben"', '"name":"Bea"', 1), encoding="utf-8")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert path.stat().st_size == st.st_size
        calls.clear()
        assert index.sync() == 1 and calls == [path.name]
        assert len(index.sessions("Bea")) == 1 and index.sessions("Ben") == []
        # A deleted file leaves the history.
        (folder / "home-practice.jsonl").unlink()
        index.sync()
        assert len(index.sessions("Ana")) == 3


def test_a_deleted_database_is_rebuilt_with_the_same_history(folder: Path) -> None:
    with ix.open_index(folder) as index:
        before = index.history()
    for p in folder.glob(ix.DB_NAME + "*"):
        p.unlink()
    with ix.open_index(folder) as index:
        after = index.history()
    for h in (before, after):
        for e in h["sessions"]:
            e.pop("mtime")
    assert after == before
    assert len(after["sessions"]) == 6 and after["clients"]["Ana"]["sessions"] == 3


def test_migration_from_the_first_schema_keeps_the_clients(folder: Path) -> None:
    conn = sqlite3.connect(folder / ix.DB_NAME)
    conn.executescript("BEGIN;" + ix.MIGRATIONS[0] + "PRAGMA user_version = 1; COMMIT;")
    conn.execute("INSERT INTO clients(name, notes, created) VALUES ('Ana', 'week 3', 'x')")
    old = {"file": "20260101-100000-dyad.jsonl", "status": "ok", "roles": {}}
    p = folder / "20260101-100000-dyad.jsonl"
    conn.execute("INSERT INTO sessions(file, size, mtime_ns, client_id, status, figures) "
                 "VALUES (?, ?, ?, 1, 'ok', ?)",
                 (p.name, p.stat().st_size, p.stat().st_mtime_ns, json.dumps(old)))
    conn.commit()
    conn.close()
    with ix.SessionIndex(folder) as index:
        assert index.schema_found == 1
        assert index.conn.execute("PRAGMA user_version").fetchone()[0] == ix.SCHEMA_VERSION
        assert index.client("Ana").notes == "week 3"
        assert index.markers(p.name) == []  # the new table exists
        # The old row has no header hash: the next sync reads the file again.
        assert index.sync() == 6
        assert len(index.markers(p.name)) == 2
        assert index.client("Ana").sessions == 3


def test_a_newer_schema_is_refused_in_one_line(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / ix.DB_NAME)
    conn.execute(f"PRAGMA user_version = {ix.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(RecordingError, match="update coreg"):
        ix.SessionIndex(tmp_path)


def test_clients_json_is_migrated_once(tmp_path: Path) -> None:
    legacy = tmp_path / "clients.json"
    legacy.write_text(json.dumps({"ana": {"rate_bpm": 5.5, "confidence": "high",
                                          "assessed": "2026-01-01T10:00:00+0100"},
                                  "ben": {}}))
    with ix.SessionIndex(tmp_path) as index:
        assert index.client_rate("ANA") == 5.5
        assert index.client("ana").rate_confidence == "high"
        assert index.client("ben").rate_bpm is None
    assert not legacy.exists() and (tmp_path / "clients.json.migrated").exists()
    assert ix.stored_rate(tmp_path, "ana") == 5.5


def test_client_names_are_checked() -> None:
    assert ix.person_header("  Ana ") == {"client": {"name": "Ana"}}
    assert ix.person_header(None) == {}
    for bad in ("", "   ", "x" * 81, "a\nb"):
        with pytest.raises(RecordingError):
            ix.check_client_name(bad)


def test_client_name_on_simulate_and_import(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.jsonl"
    assert main(["simulate", "--scenario", "rest", "--duration", "30", "-o", str(out),
                 "--client-name", "Ana"]) == 0
    assert read_recording(out).header["client"] == {"name": "Ana"}
    rr = tmp_path / "rr.txt"
    rr.write_text("\n".join(["800", "810", "790"] * 20))
    imp = tmp_path / "i.jsonl"
    assert main(["import", "--client", str(rr), "-o", str(imp), "--client-name", "Ana"]) == 0
    assert ix.recording_client(read_recording(imp).header) == "Ana"
    assert main(["simulate", "--scenario", "rest", "-o", str(tmp_path / "x.jsonl"),
                 "--client-name", " "]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    # Old breathing recordings named the client in their settings.
    assert ix.recording_client({"settings": {"client_name": "ben"}}) == "ben"
    assert ix.recording_client({"settings": {}}) is None


def test_sessions_cli_shows_clients_units_and_filters(folder: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "--recordings-dir", str(folder), "--client", "ana"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["client", "date", "mode", "length"]
    assert len(out) == 4 and all(line.startswith("Ana ") for line in out[1:])
    assert all(" bpm" in line and " ms" in line and " min " in line for line in out[1:])
    assert any("pacer" in line and "/min" in line for line in out[1:])
    assert any("% of windows" in line for line in out[1:])
    assert main(["sessions", "--recordings-dir", str(folder), "--client", "nobody"]) == 2
    assert "no client called 'nobody'" in capsys.readouterr().err
    assert main(["sessions", "--recordings-dir", str(folder), "--clients"]) == 0
    table = capsys.readouterr().out
    assert "Ana" in table and "Ben" in table


def test_client_name_on_live_headless(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", "--headless", "--speed", "max", "--duration", "40", "--client-name",
                 "Ana", "--therapist-name", "T. Lee", "--recordings-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    rec = read_recording(next(tmp_path.glob("*-dyad.jsonl")))
    assert rec.header["client"] == {"name": "Ana"}
    assert rec.header["therapist"] == {"name": "T. Lee"}
    with ix.open_index(tmp_path) as index:
        (entry,) = index.sessions("Ana")
        assert entry["therapist"] == "T. Lee"
    from coreg.study.identity import identity

    assert identity(rec.header, "client").person_id == "Ana"


def test_an_assessment_rate_is_rebuilt_from_its_recording(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    assert main(["breathe", "--assess", "--headless", "--speed", "max", "--steps", "6.0,5.0",
                 "--step-s", "60", "--settle-s", "10", "--seed", "4", "--client-name", "Eli",
                 "--recordings-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    live_rate = ix.stored_rate(tmp_path, "Eli")
    assert live_rate in (6.0, 5.0)
    for p in tmp_path.glob(ix.DB_NAME + "*"):
        p.unlink()
    with ix.open_index(tmp_path) as index:
        (entry,) = index.sessions("Eli")
        assert entry["kind"] == "assessment"
        # The replayed assessment chooses what the live one chose.
        assert entry["assessment"]["chosen_rate_bpm"] == live_rate
        assert index.client_rate("Eli") == live_rate
        assert index.client("Eli").rate_source == entry["file"]


def test_a_read_only_folder_is_listed_without_a_database(folder: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real_access = os.access
    monkeypatch.setattr(ix.os, "access", lambda p, mode: False if Path(p) == folder
                        else real_access(p, mode))
    entries = ix.list_sessions(folder)
    assert len(entries) == 6 and not (folder / ix.DB_NAME).exists()
    assert {e["client"] for e in entries} == {"Ana", "ana", "Ben", None}


def test_any_header_gives_a_name_or_none() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                          lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.sampled_from(["name", "id", "client_name",
                                                             "x"]), inner, max_size=3),
                          max_leaves=8)
    headers = st.dictionaries(st.sampled_from(["client", "therapist", "settings", "roles"]),
                              values, max_size=4)

    @settings(max_examples=300, deadline=None)
    @given(headers)
    def check(header: dict) -> None:
        for role in ("client", "therapist"):
            name = ix.recording_person(header, role)
            assert name is None or (isinstance(name, str) and name == name.strip() and name)

    check()
