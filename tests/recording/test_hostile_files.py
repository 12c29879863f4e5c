"""Issue 16, items 4-7: hostile or broken recordings are damage (one line, exit 2, the line
number), never a traceback, a hang or an allocation sized by a bad number."""

from __future__ import annotations

import csv
import json
import os
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from coreg.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "recordings" / "examples"
DYAD = EXAMPLES / "sim-coupled-300s.jsonl"
READERS = [["analyze"], ["replay", "--headless", "--speed", "max"],
           ["report", "--quiet", "--no-neurokit", "-o", "{out}.html"],
           ["export", "--format", "rr-txt", "-o", "{out}.txt"],
           ["export", "--format", "csv", "-o", "{out}.csv"]]


def _mutate(src: Path, dst: Path, change: Callable[[int, dict[str, Any]], dict[str, Any] | None]
            ) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for i, line in enumerate(lines[1:], start=2):
        obj = change(i, json.loads(line))
        if obj is not None:
            out.append(json.dumps(obj, allow_nan=True))
    dst.write_text("\n".join(out) + "\n", encoding="utf-8")
    return dst


def _nth_rr(n: int, **fields: Any) -> Callable[[int, dict[str, Any]], dict[str, Any]]:
    seen = {"rr": 0}

    def change(_: int, obj: dict[str, Any]) -> dict[str, Any]:
        if obj.get("type") == "rr":
            seen["rr"] += 1
            if seen["rr"] == n:
                obj.update(fields)
        return obj
    return change


def _run_bounded(argv: list[str], capsys: pytest.CaptureFixture[str], *, limit_s: float = 60.0,
                 limit_bytes: int = 400 << 20) -> tuple[int, str, str]:
    """Run ``coreg argv`` in-process under a time and a traced-memory bound."""
    result: dict[str, Any] = {}
    tracemalloc.start()

    def target() -> None:
        try:
            result["code"] = main(argv)
        except BaseException as exc:
            result["exc"] = exc

    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(limit_s)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert not th.is_alive(), f"coreg {' '.join(argv)} ran past {limit_s} s"
    assert "exc" not in result, f"coreg {' '.join(argv)} raised {result.get('exc')!r}"
    assert peak < limit_bytes, f"coreg {' '.join(argv)} peaked at {peak / 2**20:.0f} MiB"
    captured = capsys.readouterr()
    return result["code"], captured.err, captured.out


def _damage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code, err, _ = _run_bounded(argv, capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1, (code, err)
    return lines[0]


@pytest.mark.parametrize("fields, words", [
    ({"t": 1e9}, "beyond any plausible session"),
    ({"t": -50.0}, "before the session start"),
    ({"t": 4000.0}, "jumps"),
    ({"rr": [-500]}, "outside"),
    ({"rr": [1e300]}, "outside"),
    ({"rr": [float("nan")]}, "not a number"),
    ({"rr": [800.0] * 100_000}, "RR values in one notification"),
    ({"hr": 1e300}, "outside"),
])
@pytest.mark.parametrize("reader", READERS, ids=lambda r: " ".join(r[:3]))
def test_bad_numbers_are_damage_with_the_line(capsys, tmp_path: Path, fields: dict[str, Any],
                                              words: str, reader: list[str]) -> None:
    f = _mutate(DYAD, tmp_path / "bad.jsonl", _nth_rr(50, **fields))
    out = str(tmp_path / "out")
    argv = [reader[0], str(f), *(a.format(out=out) for a in reader[1:])]
    line = _damage(argv, capsys)
    assert "line " in line and words in line, line
    assert not [p for p in tmp_path.iterdir() if p.name != "bad.jsonl"]


def test_a_time_of_1e9_does_not_break_the_sessions_list(capsys, tmp_path: Path) -> None:
    folder = tmp_path / "recs"
    folder.mkdir()
    _mutate(DYAD, folder / "bad.jsonl", _nth_rr(50, t=1e9))
    (folder / "good.jsonl").write_bytes(DYAD.read_bytes())
    code, _, out = _run_bounded(["sessions", "--recordings-dir", str(folder), "--no-cache",
                                 "--json"], capsys, limit_s=120.0)
    assert code == 0
    entries = {e["file"]: e for e in json.loads(out)}
    assert entries["good.jsonl"]["status"] == "ok"
    assert entries["bad.jsonl"]["status"] == "damaged"
    assert "line " in entries["bad.jsonl"]["error"]


def test_rr_zero_is_a_gap_not_a_traceback(capsys, tmp_path: Path) -> None:
    # a strap can send 0 in the RR field: the recording keeps it, every reader copes
    seen = {"rr": 0}

    def zero_some(_: int, obj: dict[str, Any]) -> dict[str, Any]:
        if obj.get("type") == "rr":
            seen["rr"] += 1
            if seen["rr"] % 7 == 0:
                obj["rr"] = [0.0 for _ in obj["rr"]]
        return obj

    f = _mutate(DYAD, tmp_path / "zeros.jsonl", zero_some)
    for reader in READERS:
        argv = [reader[0], str(f), *(a.format(out=str(tmp_path / "o")) for a in reader[1:])]
        code, err, _ = _run_bounded(argv, capsys)
        assert code in (0, 2) and "Traceback" not in err, (argv, err)
        assert len([ln for ln in err.splitlines() if ln.strip()]) <= 2, err


def test_reverse_time_order_is_damage(capsys, tmp_path: Path) -> None:
    lines = DYAD.read_text(encoding="utf-8").splitlines()
    f = tmp_path / "rev.jsonl"
    f.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n", encoding="utf-8")
    line = _damage(["analyze", str(f)], capsys)
    assert "backwards" in line and "line " in line
    folder = tmp_path / "recs"
    folder.mkdir()
    os.replace(f, folder / "rev.jsonl")
    assert main(["sessions", "--recordings-dir", str(folder), "--no-cache", "--json"]) == 0
    entry, = json.loads(capsys.readouterr().out)
    assert entry["status"] == "damaged"  # not "ok, 0.0 min"


def test_a_fifo_in_the_recordings_folder_does_not_hang_sessions(capsys, tmp_path: Path
                                                                ) -> None:
    folder = tmp_path / "recs"
    folder.mkdir()
    os.mkfifo(folder / "trap.jsonl")
    (folder / "good.jsonl").write_bytes((EXAMPLES / "real-pyhrv-5min.jsonl").read_bytes())
    code, _, out = _run_bounded(["sessions", "--recordings-dir", str(folder), "--no-cache",
                                 "--json"], capsys, limit_s=120.0)
    assert code == 0
    entries = {e["file"]: e for e in json.loads(out)}
    assert entries["trap.jsonl"]["status"] == "damaged"
    assert "regular file" in entries["trap.jsonl"]["error"]
    assert entries["good.jsonl"]["status"] == "ok"
    line = _damage(["analyze", str(folder / "trap.jsonl")], capsys)
    assert "regular file" in line


@pytest.mark.parametrize("role", ["a/b", "x\x00y", "../../etc/passwd", "..", "", "con:\\z",
                                  "=cmd|' /C calc'!A0"])
def test_odd_role_names_become_safe_file_names(capsys, tmp_path: Path, role: str) -> None:
    def rename(_: int, obj: dict[str, Any]) -> dict[str, Any]:
        if obj.get("role") == "client":
            obj["role"] = role
        return obj

    f = _mutate(DYAD, tmp_path / "odd.jsonl", rename)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, err, _ = _run_bounded(["export", str(f), "--format", "rr-txt", "-o",
                              str(out_dir / "rr.txt")], capsys)
    assert code == 0, err
    written = sorted(p.name for p in out_dir.iterdir())
    assert len(written) == 3  # the header's client and therapist, and the odd role
    for name in written:
        assert name.startswith("rr-") and "/" not in name and "\x00" not in name
    assert not (tmp_path / "etc").exists()


def test_safe_role_and_distinct_paths() -> None:
    from coreg.report.exporters import rr_txt_paths, safe_role

    assert safe_role("a/b") == "a_b"
    assert safe_role("x\x00y") == "x_y"
    assert safe_role("..") == "role"
    assert safe_role("Klient-1_ä") == "Klient-1_ä"
    paths = rr_txt_paths(Path("/x/rr.txt"), ["a/b", "a_b", "a\\b"])
    assert len(set(paths.values())) == 3


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_with_formula_prefixes_are_neutralised(capsys, tmp_path: Path, prefix: str
                                                         ) -> None:
    role = f"{prefix}HYPERLINK(\"http://x\",\"y\")"

    def rename(_: int, obj: dict[str, Any]) -> dict[str, Any]:
        if obj.get("role") == "client":
            obj["role"] = role
        return obj

    f = _mutate(DYAD, tmp_path / "f.jsonl", rename)
    assert main(["export", str(f), "--format", "csv", "-o", str(tmp_path / "t.csv")]) == 0
    for name in ("t-beats.csv", "t-metrics.csv"):
        with (tmp_path / name).open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        roles = {r[1] for r in rows[1:]}
        assert role not in roles
        assert "'" + role in roles
        for r in rows[1:]:
            assert not r[1].startswith(("=", "+", "-", "@", "\t", "\r"))


def test_import_refuses_a_fifo_instead_of_hanging(capsys, tmp_path: Path) -> None:
    fifo = tmp_path / "rr.txt"
    os.mkfifo(fifo)
    line = _damage(["import", "--client", str(fifo), "-o", str(tmp_path / "x.jsonl")], capsys)
    assert "regular file" in line


def test_marker_notes_and_roles_are_neutralised_in_markers_csv(capsys, tmp_path: Path) -> None:
    lines = DYAD.read_text(encoding="utf-8").splitlines()
    body = [ln for ln in lines[1:] if json.loads(ln).get("type") != "end"]
    marker = json.dumps({"type": "marker", "t": 10.0, "note": "=HYPERLINK(\"x\")", "role": "+r"})
    f = tmp_path / "m.jsonl"
    f.write_text("\n".join([lines[0], *body[:40], marker, *body[40:]]) + "\n", encoding="utf-8")
    out = tmp_path / "markers.csv"
    assert main(["export", str(f), "--format", "markers-csv", "-o", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][2:] == ["'+r", "'=HYPERLINK(\"x\")"]
