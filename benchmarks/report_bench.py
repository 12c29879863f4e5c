"""Time ``coreg report`` on a 60-minute simulated dyad and ``coreg sessions`` over 1,000 files.

Usage::

    nice -n 10 .venv/bin/python benchmarks/report_bench.py [--minutes 60] [--sessions 1000]

Each command runs as a subprocess (``python -m coreg ...``), as a user would run it, so the
times include interpreter start-up and imports. The sessions folder holds ``--sessions``
recordings (2-minute dyads and solo sessions, copies of a few simulated ones under distinct
names) plus a handful of damaged files; it is listed cold (no index), warm (index present),
and after one file changed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(*args: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "coreg", *args], capture_output=True,
                          text=True, check=False)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"coreg {' '.join(args)} failed: {proc.stderr.strip()}")
    return dt, proc.stdout


def main() -> None:
    from coreg.report.samples import write_sample_recording

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--sessions", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        rec = d / "dyad60.jsonl"
        t0 = time.perf_counter()
        write_sample_recording(rec, "coupled", args.minutes * 60, seed=1,
                               markers=[(600.0, "a"), (1800.0, "b")])
        print(f"simulated {args.minutes:g}-min coupled dyad in {time.perf_counter() - t0:.1f} s "
              f"({rec.stat().st_size / 1e6:.1f} MB)")
        print("| command | wall time (s) | output |")
        print("|---|---:|---|")
        for extra in ([], ["--no-neurokit"]):
            out = d / "r.html"
            dt, _ = _run("report", str(rec), "-o", str(out), "--quiet", *extra)
            print(f"| coreg report ({args.minutes:g}-min dyad{', ' + extra[0] if extra else ''})"
                  f" | {dt:.1f} | {out.stat().st_size / 1e6:.2f} MB HTML |")
        for fmt in ("rr-txt", "csv"):
            dt, _ = _run("export", str(rec), "--format", fmt, "-o", str(d / f"e.{fmt}"))
            print(f"| coreg export --format {fmt} ({args.minutes:g}-min dyad) | {dt:.1f} | |")

        folder = d / "recs"
        folder.mkdir()
        templates = []
        for i, (scenario, seed) in enumerate([("coupled", 1), ("independent", 2), ("rest", 3),
                                              ("weak", 4), ("artifacts", 5)]):
            templates.append(write_sample_recording(d / f"t{i}.jsonl", scenario, 120.0,
                                                    seed=seed))
        n_damaged = 5
        for i in range(args.sessions - n_damaged):
            shutil.copyfile(templates[i % len(templates)], folder / f"s{i:04d}.jsonl")
        (folder / "empty.jsonl").write_bytes(b"")
        (folder / "junk.jsonl").write_text("junk\n")
        (folder / "future.jsonl").write_text(
            '{"type":"header","format":"coreg-recording","version":9}\n')
        full = templates[0].read_bytes()
        (folder / "cut.jsonl").write_bytes(full[: len(full) // 3])
        (folder / "folder.jsonl").mkdir()
        dt_cold, out = _run("sessions", "--recordings-dir", str(folder), "--json")
        entries = json.loads(out)
        damaged = sum(e["status"] == "damaged" for e in entries)
        dt_warm, _ = _run("sessions", "--recordings-dir", str(folder), "--json")
        (folder / "s0000.jsonl").write_bytes(templates[1].read_bytes())
        dt_one, _ = _run("sessions", "--recordings-dir", str(folder))
        label = f"coreg sessions, {len(entries)} files ({damaged} damaged)"
        print(f"| {label}, cold (no index) | {dt_cold:.1f} | 2-min recordings |")
        print(f"| {label}, warm (index) | {dt_warm:.2f} | |")
        print(f"| {label}, one file changed | {dt_one:.2f} | |")


if __name__ == "__main__":
    main()
