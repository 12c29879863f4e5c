"""A process recording a simulated session is SIGKILLed: at most the last second is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from coreg.recording import read_recording

CHILD = r"""
import dataclasses, sys, time
from coreg.recording import RecordingWriter, new_header
from devices.sim import simulate

path = sys.argv[1]
run = simulate("coupled", duration_s=120.0, seed=3)
start = time.monotonic()
writer = RecordingWriter(path, new_header("dyad", {r: {} for r in run.roles},
                                          start_monotonic_s=start))
for message in run.messages():
    # Real time: each notification is written when it "arrives".
    delay = start + message.arrival_s - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    writer.write(dataclasses.replace(message, arrival_s=start + message.arrival_s))
"""


def test_sigkill_loses_at_most_the_last_second(tmp_path: Path) -> None:
    from devices.sim import simulate

    path = tmp_path / "killed.jsonl"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)])
    try:
        # Wait until the child has started writing, then let it run a few seconds.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not path.exists() or path.stat().st_size == 0):
            time.sleep(0.05)
        time.sleep(4.0)
        killed_at = time.monotonic()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    start = json.loads(path.read_text(encoding="utf-8").splitlines()[0])["start_monotonic_s"]
    elapsed_s = killed_at - start
    rec = read_recording(path)
    assert rec.end is None and any("no end line" in s for s in rec.skipped)
    expected = [m for m in simulate("coupled", duration_s=120.0, seed=3).messages()
                if hasattr(m, "rr_ms") and m.arrival_s <= elapsed_s - 1.0]
    got = rec.samples
    assert len(expected) >= 2
    # Everything that arrived more than a second before the kill is in the file, exactly.
    assert [(s.source_id, s.rr_ms, s.payload) for s in got[: len(expected)]] == [
        (s.source_id, s.rr_ms, s.payload) for s in expected]
    assert all(abs(a.arrival_s - b.arrival_s) < 0.5 for a, b in zip(got, expected, strict=False))
