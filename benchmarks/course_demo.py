"""A simulated course of sessions for one client, for the home-window and progress screenshots.

Run: ``nice -n 10 .venv/bin/python benchmarks/course_demo.py DIR [--client Mara]``, then
``coreg home --recordings-dir DIR --client-name Mara --screenshot home.png`` and ``coreg report
--client Mara --recordings-dir DIR -o progress.html``.

Everything is SIMULATED and labelled so: dyad sessions are :func:`write_sample_recording` runs of
the ``independent``, ``weak`` and ``coupled`` scenarios (the coupling grows over the course); the
resonance assessment and the home practices are real ``coreg breathe --headless --speed max``
runs on the simulated breathing client. Only the start dates are made up: each recording's
header ``created`` is set to a day of a six-week course (a simulation cannot wait six weeks).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from coreg.report.samples import write_sample_recording

#: (day of the course, what): dyads with the therapist, home practice, one assessment.
COURSE: tuple[tuple[int, str], ...] = (
    (0, "dyad:independent"), (2, "assess"), (5, "practice"), (7, "dyad:weak"),
    (10, "practice"), (12, "practice"), (14, "dyad:weak"), (18, "practice"),
    (21, "dyad:coupled"), (25, "practice"), (28, "dyad:coupled"), (35, "dyad:coupled"),
)


def _set_created(path: Path, day: int, hour: int) -> None:
    first, rest = path.read_bytes().split(b"\n", 1)
    header = json.loads(first)
    header["created"] = f"2026-09-{1 + day:02d}T{hour:02d}:00:00+02:00" if day < 30 else \
        f"2026-10-{day - 29:02d}T{hour:02d}:00:00+02:00"
    path.write_bytes(json.dumps(header, separators=(",", ":")).encode("utf-8") + b"\n" + rest)


def _breathe(folder: Path, client: str, seed: int, *extra: str) -> Path:
    before = set(folder.glob("*-breathe*.jsonl"))
    subprocess.run([sys.executable, "-m", "coreg", "breathe", "--headless", "--speed", "max",
                    "--client-name", client, "--recordings-dir", str(folder), "--seed",
                    str(seed), *extra], check=True, capture_output=True)
    (path,) = set(folder.glob("*-breathe*.jsonl")) - before
    return path


def main() -> int:
    """Write the course into the folder."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--client", default="Mara")
    args = ap.parse_args()
    folder: Path = args.folder
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for i, (day, what) in enumerate(COURSE):
        if what.startswith("dyad:"):
            scenario = what.split(":", 1)[1]
            path = write_sample_recording(
                folder / f"course-{day:02d}-dyad.jsonl", scenario, 900.0, seed=100 + i,
                markers=[(300.0, "talked about the week"), (600.0, "breathing together")],
                header_extra={"client": {"name": args.client}})
            _set_created(path, day, 10)
        elif what == "assess":
            path = _breathe(folder, args.client, 200 + i, "--assess", "--steps",
                            "6.5,6.0,5.5,5.0,4.5", "--step-s", "90", "--settle-s", "20")
            _set_created(path, day, 11)
        else:
            path = _breathe(folder, args.client, 300 + i, "--duration", "600")
            _set_created(path, day, 19)
        print(f"day {day:2d}: {what:<18} {path.name}", flush=True)
    # Two more clients, so the list is not a list of one; notes as a therapist might keep them.
    for name, days, seed in (("Jules", (3, 17), 500), ("Noor", (9,), 600)):
        for day in days:
            path = write_sample_recording(
                folder / f"{name.lower()}-{day:02d}-dyad.jsonl", "weak", 600.0,
                seed=seed + day, header_extra={"client": {"name": name}})
            _set_created(path, day, 15)
    from coreg.recording.index import SessionIndex

    with SessionIndex(folder) as index:
        index.sync()
        index.set_notes(args.client, "Goal: calmer evenings. Home practice 10 min, 3×/week.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
