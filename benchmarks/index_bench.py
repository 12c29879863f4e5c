"""The session database on 1,000 recordings: first listing, cached listing, database size.

Run: ``nice -n 10 .venv/bin/python benchmarks/index_bench.py [--count 1000] [--minutes 5]
[--folder DIR]``.

Builds a recordings folder of ``--count`` simulated recordings (a third dyad sessions, a third
breathing practices, a third solo rest; ``--minutes`` long each, 20 clients, one session a day
per client), each its own file with its own header, then times, as a user runs them:

1. ``coreg sessions`` on the folder with no database: the first listing, which reads every
   recording and computes its figures (the cold cost);
2. ``coreg sessions`` again: the cached listing (every header hashed, nothing recomputed);
3. ``coreg sessions --client NAME``: one client's sessions from the cache;
4. the listing after one file changed and one was added by hand (two recomputed);
5. ``coreg report --client NAME``: a client's progress report from the cache;

and prints the database size. Each listing is a fresh process (start-up included), wall clock
on whatever machine runs it — not a test. The recordings are built from a few simulated
templates copied with new headers (simulating 1,000 sessions would take longer than indexing
them); the database computes each copy in full, as it would a real one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from coreg.report.samples import write_sample_recording

SCENARIOS = ("coupled", "paced", "rest")


def build(folder: Path, count: int, minutes: float) -> None:
    """``count`` recordings in ``folder`` from one template per scenario and seed."""
    templates = []
    tmp = folder / ".templates"
    tmp.mkdir(parents=True, exist_ok=True)
    for i, scenario in enumerate(SCENARIOS):
        for seed in (1, 2):
            path = write_sample_recording(tmp / f"{scenario}-{seed}.jsonl", scenario,
                                          minutes * 60.0, seed=seed + 10 * i,
                                          markers=[(60.0, "marker")])
            first, rest = path.read_bytes().split(b"\n", 1)
            templates.append((json.loads(first), rest))
    for n in range(count):
        header, rest = templates[n % len(templates)]
        client = f"client-{n % 20:02d}"
        day = n // 20
        h = dict(header)
        h["created"] = f"2025-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T10:{n % 60:02d}:00+01:00"
        h["client"] = {"name": client}
        line = json.dumps(h, separators=(",", ":")).encode("utf-8")
        fd = os.open(folder / f"{n:04d}-{h['mode']}.jsonl", os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(line + b"\n" + rest)
    shutil.rmtree(tmp)


def timed(*args: str) -> float:
    """Run ``coreg ARGS`` in a fresh process; return its wall-clock seconds."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "coreg", *args], capture_output=True,
                         text=True, check=False)
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"coreg {' '.join(args)} failed: {out.stderr.strip()}")
    return elapsed


def main() -> int:
    """Run the benchmark and print its table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--folder", type=Path, help="keep the recordings here (default: temporary)")
    args = ap.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="coreg-index-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    for p in folder.glob("coreg.db*"):
        p.unlink()
    t0 = time.perf_counter()
    if not any(folder.glob("*.jsonl")):
        build(folder, args.count, args.minutes)
    n = len(list(folder.glob("*.jsonl")))
    data_mb = sum(p.stat().st_size for p in folder.glob("*.jsonl")) / 1e6
    print(f"{n} recordings of {args.minutes:g} min ({data_mb:.0f} MB) in {folder} "
          f"(built in {time.perf_counter() - t0:.0f} s)")
    d = str(folder)
    rows = [("first listing (no database: every recording read and analysed)",
             timed("sessions", "--recordings-dir", d))]
    rows.append(("cached listing", timed("sessions", "--recordings-dir", d)))
    rows.append(("cached listing, again", timed("sessions", "--recordings-dir", d)))
    rows.append(("one client (--client client-07)",
                 timed("sessions", "--recordings-dir", d, "--client", "client-07")))
    rows.append(("--json", timed("sessions", "--recordings-dir", d, "--json")))
    changed = sorted(folder.glob("*.jsonl"))[0]
    os.utime(changed)
    shutil.copy(sorted(folder.glob("*.jsonl"))[1], folder / "added-by-hand.jsonl")
    rows.append(("one file touched + one added by hand", timed("sessions", "--recordings-dir", d)))
    out = folder / "progress.html"
    rows.append((f"progress report of client-07 ({n // 20} sessions)",
                 timed("report", "--client", "client-07", "--recordings-dir", d, "-o", str(out),
                       "--quiet")))
    db = folder / "coreg.db"
    size_kb = sum(p.stat().st_size for p in folder.glob("coreg.db*")) / 1024
    width = max(len(r[0]) for r in rows)
    for label, s in rows:
        print(f"{label:<{width}}  {s:7.2f} s")
    print(f"{'database size':<{width}}  {size_kb:7.0f} KiB ({size_kb * 1024 / n:.0f} B per "
          f"recording; {db.name})")
    print(f"{'cold cost per recording':<{width}}  {rows[0][1] / n * 1000:7.0f} ms")
    if args.folder is None:
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
