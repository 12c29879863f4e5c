"""``coreg study`` end to end on a real Dask cluster (started and stopped by the tests)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import psutil
import pytest

pytest.importorskip("distributed")
pq = pytest.importorskip("pyarrow.parquet")

from study_helpers import write_dyad, write_study  # noqa: E402

from coreg.cli import main  # noqa: E402
from coreg.engine.summary import summarize_recording  # noqa: E402
from coreg.recording import read_recording  # noqa: E402
from coreg.study import pseudo, tables  # noqa: E402

pytestmark = pytest.mark.usefixtures("hang_guard")

TABLE_NAMES = ("sessions", "hrv", "windows", "pseudo")


def _listeners() -> set[tuple[int, str, int]]:
    me = psutil.Process()
    out = set()
    for p in [me, *me.children(recursive=True)]:
        try:
            conns = p.net_connections(kind="inet")
        except psutil.Error:
            continue
        out |= {(p.pid, c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN}
    return out


def _workers_left() -> list[list[str]]:
    left = []
    for p in psutil.Process().children(recursive=True):
        try:
            cmd = p.cmdline()
        except psutil.Error:
            continue
        if not any("resource_tracker" in part for part in cmd):  # lives as long as we do
            left.append(cmd)
    return left


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_study(tmp_path_factory.mktemp("study") / "recordings")
    (folder / "broken.jsonl").write_text('{"not": "a header"}\n')
    (folder / "empty.jsonl").write_bytes(b"")
    (folder / "sub").mkdir()
    (folder / "sub" / "copy.jsonl").write_bytes((folder / "coupled-00.jsonl").read_bytes())
    (folder / ".hidden.jsonl").write_text("skipped: hidden")
    return folder


def _run(args: list[str]) -> int:
    return main(["study", *args, "--quiet"])


@pytest.fixture(scope="module")
def runs(study_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    base = tmp_path_factory.mktemp("outs")
    for n in (1, 2):
        listening_before = _listeners()
        out[f"w{n}"] = base / f"w{n}"
        assert _run([str(study_dir), "-o", str(out[f"w{n}"]), "--workers", str(n)]) == 0
        # nothing of the cluster outlives the command
        assert _listeners() == listening_before
        assert _workers_left() == []
    return out


def _table(out: Path, name: str):
    return pq.read_table(out / f"{name}.parquet")


def test_identical_tables_with_one_and_two_workers(runs: dict[str, Path]) -> None:
    for name in TABLE_NAMES:
        t1, t2 = _table(runs["w1"], name), _table(runs["w2"], name)
        assert t1.num_rows > 0, name
        assert t1.equals(t2), name
        csv1, csv2 = (runs[w] / f"{name}.csv" for w in ("w1", "w2"))
        assert csv1.read_bytes() == csv2.read_bytes()
    m1 = json.loads((runs["w1"] / "study.json").read_text())
    m2 = json.loads((runs["w2"] / "study.json").read_text())
    assert m1["pseudo_dyads"] == m2["pseudo_dyads"] and m1["files"] == m2["files"]
    assert (m1["run"]["workers"], m2["run"]["workers"]) == (1, 2)


def test_coupled_dyads_rank_above_their_pseudo_dyads_independent_ones_do_not(
        runs: dict[str, Path]) -> None:
    s = _table(runs["w1"], "sessions").to_pylist()
    by = {"coupled": [], "independent": []}
    for row in s:
        if row["status"] == "ok":
            by[row["scenario"]].append(row)
    assert len(by["coupled"]) == 10 and len(by["independent"]) == 10
    cpl = np.array([r["pseudo_percentile"] for r in by["coupled"]])
    ind = np.array([r["pseudo_percentile"] for r in by["independent"]])
    assert all(r["pseudo_n"] == 20 for r in by["coupled"] + by["independent"])
    assert np.median(cpl) >= 95 and cpl.min() >= 80
    assert 15 <= np.median(ind) <= 85 and np.count_nonzero(ind > 95) <= 2
    # the study-level test on each half
    p_rows = _table(runs["w1"], "pseudo").to_pylist()
    for scenario, expect_small in (("coupled", True), ("independent", False)):
        ids = {r["session_id"] for r in by[scenario]}
        real = {r["session_id"]: r["sync_mean_peak_r"] for r in by[scenario]}
        vals = {k: [p["mean_peak_r"] for p in p_rows if p["dyad_id"] == k] for k in ids}
        res = pseudo.study_control(real, vals, 2000, seed=3)
        assert (res.p_value < 0.01) is expect_small, (scenario, res)
    manifest = json.loads((runs["w1"] / "study.json").read_text())
    result = manifest["pseudo_dyads"]["result"]
    assert result["dyads"] == 20 and result["p_value"] < 0.01 and result["difference"] > 0.05


def test_damaged_and_duplicate_files_are_listed_not_fatal(runs: dict[str, Path],
                                                          study_dir: Path) -> None:
    rows = {Path(r["file"]).name: r for r in _table(runs["w1"], "sessions").to_pylist()}
    assert ".hidden.jsonl" not in rows
    assert len(rows) == 23
    assert rows["broken.jsonl"]["status"] == "damaged"
    assert "not a coreg recording" in rows["broken.jsonl"]["problem"]
    assert rows["empty.jsonl"]["status"] == "damaged" and "empty" in rows["empty.jsonl"]["problem"]
    assert rows["copy.jsonl"]["status"] == "duplicate"
    assert rows["copy.jsonl"]["duplicate_of"] == str(study_dir / "coupled-00.jsonl")
    hrv_files = {Path(r["file"]).name for r in _table(runs["w1"], "hrv").to_pylist()}
    assert "copy.jsonl" not in hrv_files and len(hrv_files) == 20
    manifest = json.loads((runs["w1"] / "study.json").read_text())
    assert {Path(d["file"]).name for d in manifest["damaged"]} == {"broken.jsonl", "empty.jsonl"}
    assert manifest["counts"] == {"files": 23, "ok": 20, "damaged": 2, "duplicates": 1,
                                  "dyads": 20, "dyads_with_pseudo": 20, "pseudo_dyads": 400,
                                  "pseudo_pairings_computed": manifest["counts"]
                                  ["pseudo_pairings_computed"]}
    import hashlib
    for e in manifest["files"]:
        if e["sha256"]:
            assert hashlib.sha256(Path(e["file"]).read_bytes()).hexdigest() == e["sha256"]
            assert e["seed"] == int(e["sha256"][:8], 16)


def test_hrv_and_synchrony_equal_coreg_analyze(runs: dict[str, Path], study_dir: Path) -> None:
    path = study_dir / "coupled-03.jsonl"
    rec = read_recording(path)
    ref = summarize_recording({r: rec.samples_for(r) for r in rec.roles},
                              duration_s=rec.duration_s,
                              events_by_role={r: rec.events_for(r) for r in rec.roles})
    hrv = [r for r in _table(runs["w1"], "hrv").to_pylist() if r["file"] == str(path)]
    assert {r["role"] for r in hrv} == set(rec.roles)
    for row in hrv:
        want = ref["roles"][row["role"]]
        assert row["beats"] == want["beats"] and row["artifacts"] == want["artifacts"]["count"]
        for k, v in want["hrv"].items():
            assert row[k] == v, k
    sess = next(r for r in _table(runs["w1"], "sessions").to_pylist() if r["file"] == str(path))
    # the circular-shift test is deterministic: the same numbers as coreg analyze
    for k in ("mean_peak_r", "effect_size", "p_value", "windows", "pct_windows_above_chance"):
        assert sess[f"sync_{k}"] == ref["synchrony"][k], k
    assert sess["therapist_id"] == "T1" and sess["therapist_id_source"] == "header"
    win = [r for r in _table(runs["w1"], "windows").to_pylist()
           if r["session_id"] == sess["session_id"] and r["band"] == "slow"]
    assert len(win) == sess["sync_windows"]
    assert np.mean([w["peak_r"] for w in win]) == pytest.approx(sess["sync_mean_peak_r"],
                                                               abs=1e-4)


def test_output_is_owner_only_and_never_overwritten_without_force(runs: dict[str, Path],
                                                                  study_dir: Path,
                                                                  capsys) -> None:
    out = runs["w1"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    names = {p.name for p in out.iterdir()}
    assert names == {f"{t}.{ext}" for t in TABLE_NAMES for ext in ("parquet", "csv")} | {
        "study.json"}
    for p in out.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    before = (out / "sessions.parquet").read_bytes()
    assert _run([str(study_dir / "coupled-00.jsonl"), "-o", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--force" in err and err.count("\n") == 1
    assert (out / "sessions.parquet").read_bytes() == before


def test_force_replaces_the_study_files_only(tmp_path: Path, study_dir: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert _run([str(study_dir / "coupled-0[01].jsonl"), "-o", str(out), "--workers", "1",
                 "--force", "--no-csv", "--no-breathing", "--permutations", "99"]) == 0
    assert (out / "notes.txt").read_text() == "mine"
    rows = _table(out, "sessions").to_pylist()
    assert [Path(r["file"]).name for r in rows] == ["coupled-00.jsonl", "coupled-01.jsonl"]
    assert all(r["pseudo_n"] == 2 for r in rows)  # each has one partner: both directions
    assert not (out / "sessions.csv").exists()
    assert {r["band"] for r in _table(out, "windows").to_pylist()} == {"slow"}


def test_external_scheduler_gives_the_same_tables(runs: dict[str, Path], study_dir: Path,
                                                  tmp_path: Path) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://",
                      host="127.0.0.1",
                      scheduler_port=0, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        out = tmp_path / "remote"
        assert _run([str(study_dir), "-o", str(out), "--scheduler", address]) == 0
        assert len(cluster.scheduler.workers) == 1  # the command left the cluster running
    for name in TABLE_NAMES:
        assert _table(out, name).equals(_table(runs["w1"], name)), name
    assert json.loads((out / "study.json").read_text())["run"]["scheduler"] == address


def test_within_therapist_pairs_only_sessions_of_the_same_therapist(tmp_path: Path,
                                                                    study_dir: Path) -> None:
    out = tmp_path / "within"
    assert _run([str(study_dir / "coupled-*.jsonl"), "-o", str(out), "--workers", "1",
                 "--pair", "within-therapist", "--no-breathing", "--permutations", "99"]) == 0
    sessions = {r["session_id"]: r for r in _table(out, "sessions").to_pylist()}
    rows = _table(out, "pseudo").to_pylist()
    assert rows
    for p in rows:
        t = {sessions[p["client_session"]]["therapist_id"],
             sessions[p["therapist_session"]]["therapist_id"],
             sessions[p["dyad_id"]]["therapist_id"]}
        assert len(t) == 1
    # T1 has coupled-00, 03, 06, 09: three partners each, both directions
    assert sessions[rows[0]["dyad_id"]]["pseudo_n"] in (4, 6)
    assert json.loads((out / "study.json").read_text())["settings"]["pair"] == "within-therapist"


def test_bad_input_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "rec").mkdir()
    one = str(write_dyad(tmp_path / "rec" / "one.jsonl", "coupled", 1, 120.0))
    (tmp_path / "rec" / "sub").mkdir()
    cases = [([str(tmp_path / "nothing"), "-o", str(tmp_path / "o1")], "no such file"),
             ([str(tmp_path / "*.jsonl"), "-o", str(tmp_path / "o2")], "matches no file"),
             ([str(tmp_path / "rec" / "sub"), "-o", str(tmp_path / "o4")], "no recordings"),
             ([one, "-o", str(tmp_path / "a-file")], "not a folder"),
             ([one, "-o", str(tmp_path / "o3"), "--scheduler", "tcp://127.0.0.1:9"],
              "cannot reach the Dask scheduler"),
             ([one, "-o", str(tmp_path / "o5"), "--max-pseudo", "-1"], "--max-pseudo")]
    cases.append(([one, "-o", str(tmp_path / "o6"), "--workers", "0"], "at least 1"))
    for args, text in cases:
        assert _run(args) == 2, args
        err = capsys.readouterr().err
        assert text in err and err.count("\n") == 1, err
        out = Path(args[args.index("-o") + 1])
        assert out.name == "a-file" or not out.exists(), out  # nothing left behind


def test_missing_dependency_is_named_in_one_line(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from coreg.cli import main\n"
            f"sys.exit(main(['study', {str(tmp_path)!r}, '-o', {str(tmp_path / 'o')!r}]))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "COREG_DEBUG": ""})
    assert res.returncode == 2
    assert res.stderr.strip() == ("coreg study: coreg study needs dask and pyarrow: "
                                  "pip install 'coreg[study]'")
    assert not (tmp_path / "o").exists()


def test_tables_read_back(runs: dict[str, Path]) -> None:
    m = tables.read_manifest(runs["w1"])
    assert m["tables"]["windows"]["rows"] == _table(runs["w1"], "windows").num_rows
    assert m["software"]["distributed"] and m["coreg_version"]


def test_study_report(runs: dict[str, Path], tmp_path: Path, capsys) -> None:
    import re

    html_path = tmp_path / "study.html"
    assert main(["report", "--study", str(runs["w1"]), "-o", str(html_path), "--quiet"]) == 0
    assert stat.S_IMODE(html_path.stat().st_mode) == 0o600
    page = html_path.read_text(encoding="utf-8")
    for heading in ("Summary", "Study", "HRV across sessions", "Synchrony across sessions",
                    "Real dyads against pseudo-dyads", "Per therapist", "Per client",
                    "Sessions"):
        assert f">{heading}</h2>" in page, heading
    assert "more in sync with their own partner than with people from other sessions" in page
    assert "SIMULATED" in page and "coreg informs; it does not diagnose" in page
    assert len(re.findall(r"<img src=\"data:image/png;base64,", page)) == 4  # + therapists
    assert not re.search(r'(src|href)="https?:', page)  # self-contained
    sessions = page.split(">Sessions</h2>")[1]
    assert sessions.count("<tr>") == 1 + 23  # header + every file
    assert "broken.jsonl" in sessions and "damaged" in sessions
    therapists = page.split(">Per therapist</h2>")[1].split(">Per client</h2>")[0]
    assert all(f"<td class='small'>T{i}</td>" in therapists for i in (1, 2, 3))
    # not a study folder: one line, exit 2
    assert main(["report", "--study", str(tmp_path), "-o", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert "not a coreg study folder" in err and err.count("\n") == 1


def test_one_person_recordings_get_hrv_rows_only(tmp_path: Path, study_dir: Path) -> None:
    rec = tmp_path / "rec"
    rec.mkdir()
    write_dyad(rec / "rest.jsonl", "rest", 5, 300.0, client="C9")
    (rec / "coupled.jsonl").write_bytes((study_dir / "coupled-01.jsonl").read_bytes())
    out = tmp_path / "out"
    assert _run([str(rec), "-o", str(out), "--workers", "1", "--no-csv",
                 "--permutations", "99"]) == 0
    rows = {Path(r["file"]).name: r for r in _table(out, "sessions").to_pylist()}
    rest = rows["rest.jsonl"]
    assert rest["status"] == "ok" and rest["roles"] == "client" and rest["client_id"] == "C9"
    assert rest["sync_mean_peak_r"] is None and rest["pseudo_n"] is None
    coupled = rows["coupled.jsonl"]
    assert coupled["pseudo_n"] == 0 and coupled["pseudo_percentile"] is None  # no partner
    hrv = [r for r in _table(out, "hrv").to_pylist() if r["file"].endswith("rest.jsonl")]
    assert [r["role"] for r in hrv] == ["client"] and hrv[0]["rmssd_ms"] > 0
    windows = _table(out, "windows").to_pylist()
    assert {r["session_id"] for r in windows} == {rows["coupled.jsonl"]["session_id"]}
    assert json.loads((out / "study.json").read_text())["counts"]["dyads"] == 1
