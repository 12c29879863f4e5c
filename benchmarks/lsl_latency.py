"""LSL latency: strap notification → the consumer's engine, over loopback.

A ``coreg stream --device sim:coupled --role client`` process publishes a simulated strap in
real time; this process consumes it with the ``lsl:NAME`` source on an ordinary live
:class:`~coreg.session.runner.Session` polled at 30 Hz like the window, and times every
notification twice on the shared host monotonic clock:

* **source**: the notification's arrival at the sender's strap code (the sender's recording)
  → the beat leaving the ``lsl:`` source into the receiver's session (recorded, queued);
* **engine**: → the beat fed to the receiver's person engine (the consumer's next poll).

It also prints the alignment error: the receiver's beat time (remote stamp + LSL
``time_correction``) minus the sender's beat time, which on one machine measures what the
clock mapping adds.

Usage: ``.venv/bin/python benchmarks/lsl_latency.py [--duration S] [--dir DIR]`` (default
120 s of real time). LSL stays on this machine (a loopback-only ``LSLAPICFG`` is written
unless one is set).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LOOPBACK_CFG = ("[ports]\nIPv6 = disable\n[multicast]\nResolveScope = machine\n"
                "ListenAddress = 127.0.0.1\n[lab]\nKnownPeers = {127.0.0.1}\n"
                "SessionID = coreg-bench-{pid}\n[log]\nlevel = -3\n")


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (linear interpolation), values in any order."""
    data = sorted(values)
    k = (len(data) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--dir", default=None,
                        help="folder for the two recordings (default: a temporary folder; "
                             "/dev/shm takes the disk's fsync out of the figure)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="coreg-lsl-bench-", dir=args.dir))
    if "LSLAPICFG" not in os.environ:
        cfg = work / "lsl_api.cfg"
        cfg.write_text(LOOPBACK_CFG.replace("{pid}", str(os.getpid())), encoding="utf-8")
        os.environ["LSLAPICFG"] = str(cfg)

    from coreg.recording import read_recording
    from coreg.session.figures import LiveAnalysis
    from coreg.session.runner import Session
    from devices.lsl import LslSource, beat_times_s
    from devices.types import RRSample

    name = f"coreg-bench-{os.getpid()}"
    sender = subprocess.Popen(
        [sys.executable, "-m", "coreg", "stream", "--device", "sim:coupled", "--role", "client",
         "--name", name, "--duration", str(args.duration + 15.0),
         "--recordings-dir", str(work / "sender")],
        stdout=subprocess.PIPE, text=True)
    assert sender.stdout is not None
    sender.stdout.readline()

    left: dict[float, float] = {}  # beat stamp on the receiver → when it left the source
    fed: dict[float, float] = {}  # → when it reached the engine

    class Timed(LiveAnalysis):
        def feed_sample(self, sample: RRSample) -> None:
            fed[sample.arrival_s] = time.monotonic()
            super().feed_sample(sample)

    class Tap:
        def on_message(self, message: Any) -> None:
            if isinstance(message, RRSample):
                left[message.arrival_s] = time.monotonic()

    source = LslSource(name, "client", resolve_wait_s=10.0)
    session = Session({"client": source}, analysis=Timed(("client",)), publishers=(Tap(),))
    session.start()
    t_end = time.monotonic() + args.duration
    while time.monotonic() < t_end:
        session.poll()
        time.sleep(1 / 30)
    session.stop()
    correction_s = source.time_correction_s
    sender.wait(60)

    rec = read_recording(next((work / "sender").glob("*.jsonl")))
    start_s = float(rec.header["start_monotonic_s"])
    sent_beats: list[float] = []
    arrivals: list[float] = []  # the last beat of each notification is stamped at its arrival
    for sample in rec.samples_for("client"):
        arrival = start_s + sample.arrival_s
        sent_beats.extend(beat_times_s(arrival, sample.rr_ms))
        if sample.rr_ms:
            arrivals.append(arrival)
    got = sorted(fed)
    src_ms: list[float] = []
    eng_ms: list[float] = []
    align_us: list[float] = []
    j = 0
    for t_beat in got:
        while j < len(sent_beats) - 1 and sent_beats[j] < t_beat - 0.002:
            j += 1
        align_us.append((t_beat - sent_beats[j]) * 1e6)
    k = 0
    for arrival in arrivals:
        while k < len(got) - 1 and got[k] < arrival - 0.002:
            k += 1
        if not got or abs(got[k] - arrival) > 0.002:
            continue
        src_ms.append((left[got[k]] - arrival) * 1000.0)
        eng_ms.append((fed[got[k]] - arrival) * 1000.0)
    print(f"LSL loopback latency, {len(eng_ms)} notifications over {args.duration:.0f} s "
          f"(receiver polled at 30 Hz), time correction {correction_s:+.6f} s")
    for label, values in (("notification → lsl: source out", src_ms),
                          ("notification → receiver's engine", eng_ms)):
        print(f"  {label:<34} median {statistics.median(values):6.2f} ms   "
              f"p99 {percentile(values, 99):6.2f} ms   max {max(values):6.2f} ms")
    abs_us = [abs(a) for a in align_us]
    print(f"  beat time alignment (receiver − sender): median |error| "
          f"{statistics.median(abs_us):.1f} µs, max {max(abs_us):.1f} µs over {len(abs_us)} beats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
