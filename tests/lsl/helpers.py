"""Helpers of the LSL tests: coreg subprocesses and beats read back from recordings."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from coreg.recording import read_recording
from devices.lsl import beat_times_s

COREG = [sys.executable, "-m", "coreg"]


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``coreg ARGS`` with its output in pipes."""
    return subprocess.Popen([*COREG, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_line(proc: subprocess.Popen[str], text: str, timeout_s: float = 60.0) -> str:
    """Read stdout lines until one contains ``text``."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                raise AssertionError(f"process ended ({proc.returncode}): "
                                     f"{proc.stderr.read() if proc.stderr else ''}")
            continue
        if text in line:
            return line
    raise AssertionError(f"no line with {text!r} within {timeout_s} s")


def only_recording(folder: Path) -> Path:
    """The one recording in ``folder``."""
    found = sorted(folder.glob("*.jsonl"))
    assert len(found) == 1, found
    return found[0]


def beats_abs(path: Path, role: str) -> list[tuple[float, float]]:
    """(time on the host monotonic clock, RR ms) of every beat of ``role``, in order."""
    rec = read_recording(path)
    start_s = float(rec.header["start_monotonic_s"])
    out: list[tuple[float, float]] = []
    for sample in rec.samples_for(role):
        times = beat_times_s(start_s + sample.arrival_s, sample.rr_ms)
        out.extend(zip(times, sample.rr_ms, strict=True))
    return out


def index_of(beats: list[tuple[float, float]], t_s: float, tol_s: float = 0.005) -> int:
    """Index of the beat at ``t_s`` (within ``tol_s``)."""
    best = min(range(len(beats)), key=lambda i: abs(beats[i][0] - t_s))
    assert abs(beats[best][0] - t_s) <= tol_s, (beats[best][0], t_s)
    return best


def assert_same_beats(got: list[tuple[float, float]], expected: list[tuple[float, float]],
                      tol_s: float = 5e-3) -> None:
    """Same RR values in the same order, times within ``tol_s``."""
    assert [rr for _, rr in got] == [rr for _, rr in expected]
    assert all(abs(a - b) <= tol_s for (a, _), (b, _) in zip(got, expected, strict=True))


def trimmed(path: Path, lo_abs_s: float, hi_abs_s: float, out: Path,
            origin_abs_s: float = 0.0) -> Path:
    """A copy of a recording with only the lines between two host-clock times, its times
    counted from ``origin_abs_s`` (so two recordings of one simulated run share one grid)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    start_s = float(header["start_monotonic_s"])
    header["start_monotonic_s"] = origin_abs_s
    kept = [json.dumps(header)]
    for line in lines[1:]:
        obj = json.loads(line)
        abs_s = start_s + float(obj.get("t", 0.0))
        if obj.get("type") == "end" or lo_abs_s <= abs_s <= hi_abs_s:
            if "t" in obj:
                obj["t"] = round(abs_s - origin_abs_s, 6)
            kept.append(json.dumps(obj))
    out.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return out
