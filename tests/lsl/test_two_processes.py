"""Must-show: ``coreg stream`` in one process, ``coreg live --client lsl:...`` in another.

Real time over loopback (LSL needs the real clock), so these take about a minute each; they
run the coupled simulated dyad and compare with the same dyad run in one process.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import time
from pathlib import Path

import pytest

from coreg.recording import read_recording
from coreg.report.analysis import analyze_session
from tests.lsl.helpers import (
    COREG,
    assert_same_beats,
    beats_abs,
    index_of,
    only_recording,
    start,
    trimmed,
    wait_for_line,
)

pytestmark = pytest.mark.slow

DURATION_S = 75.0


def _finish(proc: subprocess.Popen[str], timeout_s: float) -> str:
    out, err = proc.communicate(timeout=timeout_s)
    assert proc.returncode == 0, err
    return out


def test_two_processes_every_beat_and_the_same_synchrony(tmp_path: Path,
                                                         lsl_env: dict[str, str]) -> None:
    name = f"coreg-test-client-{os.getpid()}"
    p_dir, c_dir, r_dir = tmp_path / "sender", tmp_path / "receiver", tmp_path / "one"
    sender = start(["stream", "--device", "sim:coupled", "--role", "client", "--name", name,
                    "--duration", str(DURATION_S), "--recordings-dir", str(p_dir)], lsl_env)
    wait_for_line(sender, "streaming client")
    receiver = start(["live", "--headless", "--client", f"lsl:{name}", "--therapist",
                      "sim:coupled", "--duration", str(DURATION_S),
                      "--recordings-dir", str(c_dir)], lsl_env)
    # The same dyad in one process, on a virtual clock, meanwhile.
    one = subprocess.run([*COREG, "live", "--headless", "--duration", str(DURATION_S),
                          "--speed", "max", "--recordings-dir", str(r_dir)], env=lsl_env,
                         capture_output=True, text=True, timeout=120)
    assert one.returncode == 0, one.stderr
    _finish(receiver, DURATION_S + 90)
    _finish(sender, 60)

    sent = beats_abs(only_recording(p_dir), "client")
    c_path = only_recording(c_dir)
    got = beats_abs(c_path, "client")
    assert len(got) > 30
    # Every beat streamed while the receiver was connected, in order, none lost or doubled.
    first = index_of(sent, got[0][0])
    expected = sent[first:first + len(got)]
    assert [rr for _, rr in got] == [rr for _, rr in expected]
    errors_ms = [abs(a - b) * 1000 for (a, _), (b, _) in zip(got, expected, strict=True)]
    # The beat stamps survive the trip: tens of µs on loopback, up to the clock-offset
    # estimate's error (half a probe's round trip) on a busy machine.
    assert statistics.median(errors_ms) < 1.0 and max(errors_ms) < 5.0
    receiver_rec = read_recording(c_path)
    end_abs = float(receiver_rec.header["start_monotonic_s"]) + receiver_rec.duration_s
    missing_after = [t for t, _ in sent[first + len(got):] if t < end_abs - 0.5]
    assert not missing_after
    connected = [e for e in receiver_rec.events_for("client")
                 if e.kind == "connected" and not e.detail.startswith("sender")]
    assert len(connected) == 1
    assert got[0][0] - (float(receiver_rec.header["start_monotonic_s"]) + connected[0].arrival_s) \
        < 2.0

    # The receiver's simulated therapist plays the sender's run: same beats, same timing.
    ref_path = only_recording(r_dir)
    ref_client = beats_abs(ref_path, "client")  # virtual clock, simulation time
    origin = statistics.median(a - b for (a, _), (b, _) in
                               zip(sent, ref_client[:len(sent)], strict=False))
    ref_therapist = beats_abs(ref_path, "therapist")
    got_therapist = beats_abs(c_path, "therapist")
    k = index_of(ref_therapist, got_therapist[0][0] - origin, tol_s=0.05)
    n = min(len(got_therapist), len(ref_therapist) - k)  # the receiver ran a little longer
    assert n > 30
    assert [rr for _, rr in got_therapist[:n]] == [rr for _, rr in ref_therapist[k:k + n]]
    offsets_ms = [abs((a - origin) - b) * 1000 for (a, _), (b, _) in
                  zip(got_therapist[:n], ref_therapist[k:k + n], strict=True)]
    assert statistics.median(offsets_ms) < 20.0

    # Synchrony of the two-process dyad against the one-process dyad over the same span (the
    # receiver joined a few seconds late): the same beats, so the same figures within timing.
    lo, hi = got[0][0] - got[0][1] / 1000.0 - 0.01, got[-1][0] + 0.01
    two = analyze_session(read_recording(trimmed(c_path, lo, hi, tmp_path / "two.jsonl",
                                                 origin)))
    ref = analyze_session(read_recording(trimmed(ref_path, lo - origin, hi - origin,
                                                 tmp_path / "one.jsonl")))
    assert two.sync is not None and ref.sync is not None
    assert abs(two.sync.lag_s - ref.sync.lag_s) <= 0.2
    assert abs(two.sync.mean_peak_r - ref.sync.mean_peak_r) <= 0.1


def test_stream_killed_and_restarted(tmp_path: Path, lsl_env: dict[str, str]) -> None:
    name = f"coreg-test-restart-{os.getpid()}"
    args = ["stream", "--device", "sim:rest", "--role", "client", "--name", name,
            "--duration", "120"]
    first = start([*args, "--recordings-dir", str(tmp_path / "s1")], lsl_env)
    wait_for_line(first, "streaming client")
    receiver = start(["live", "--headless", "--client", f"lsl:{name}", "--duration", "40",
                      "--recordings-dir", str(tmp_path / "r")], lsl_env)
    time.sleep(14.0)
    first.send_signal(signal.SIGKILL)  # a crash: no goodbye on the network
    first.wait(10)
    time.sleep(4.0)
    second = start([*args, "--recordings-dir", str(tmp_path / "s2")], lsl_env)
    wait_for_line(second, "streaming client")
    _finish(receiver, 90)
    second.send_signal(signal.SIGTERM)
    second.communicate(timeout=30)
    assert second.returncode == 143

    rec_path = only_recording(tmp_path / "r")
    rec = read_recording(rec_path)
    own = [e for e in rec.events_for("client") if not e.detail.startswith("sender")]
    kinds = [str(e.kind) for e in own]
    assert kinds.count("connected") == 2, kinds
    lost = kinds.index("disconnected")
    assert "connected" in kinds[lost:] and kinds.index("connected") < lost
    start_s = float(rec.header["start_monotonic_s"])
    reconnect_abs = start_s + [e.arrival_s for e in own if e.kind == "connected"][1]
    got = beats_abs(rec_path, "client")
    times = [t for t, _ in got]
    assert times == sorted(times) and len(set(times)) == len(times)  # no beat twice
    sent1 = beats_abs(only_recording(tmp_path / "s1"), "client")
    sent2 = beats_abs(only_recording(tmp_path / "s2"), "client")
    # The restarted sender is the same source (an LSL inlet would recover it), a new stream.
    ids = [read_recording(only_recording(tmp_path / d)).header["lsl"]["client"]["rr"]
           for d in ("s1", "s2")]
    assert ids[0]["source_id"] == ids[1]["source_id"] and ids[0]["uid"] != ids[1]["uid"]
    # Before the loss: every beat the first sender streamed since the receiver had its first.
    i = index_of(sent1, got[0][0])
    before = sent1[i:]
    assert_same_beats(got[:len(before)], before)
    # After the reconnect: every beat the second sender streamed from the reconnect on.
    rest = got[len(before):]
    after = [b for b in sent2 if b[0] >= rest[0][0] - 1e-3]
    end_abs = start_s + rec.duration_s
    after = [b for b in after if b[0] < end_abs - 0.5]
    assert_same_beats(rest[:len(after)], after)
    missed = [b for b in sent2 if b[0] < rest[0][0] - 1e-3]
    assert all(t < reconnect_abs + 0.05 for t, _ in missed)  # lost only within the absence
