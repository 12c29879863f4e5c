"""Reconnect benchmark: beats lost outside a strap's absence, and time back to the first beat.

Runs live sessions of two emulated BLE straps serving the ``dropout`` scenario
(``--client ble-sim:dropout --therapist ble-sim:dropout``) through the real BLE code
(:class:`devices.ble.BleStrap` on the Bumble in-memory radio), at 1x, 10x and 50x real time on
the session's scaled clock. The client's strap goes out of range at 60 % of the session for
min(15 s, 6 %) of it, then advertises again. From each emulated strap's own log it counts

* beats lost outside the absence: notifications the strap sent while in range that the app did
  not receive, split into "at start" (before the first connection) and "after a return";
* re-advertising → first beat: session seconds (and wall milliseconds) from the strap being in
  range again to the first notification the app received;

and checks that what the app recorded is exactly what the strap delivered, in order, and that
no exception reached the asyncio loop unhandled (any such run fails the benchmark).

Usage::

    nice -n 10 python benchmarks/reconnect.py [--runs N] [--speeds 1,10,50] [--markdown]

Writes one row per run and a summary per speed; ``--markdown`` prints the table of
``docs/reliability-reconnect.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

#: Session length per speed (s on the session clock): long enough for the dropout (at 60 %)
#: and a stretch after it, short enough in wall time.
DURATION_S = {1.0: 100.0, 10.0: 300.0, 50.0: 600.0}


@dataclass
class RunResult:
    """One role of one run."""

    speed: float
    role: str
    returns: int = 0
    lost_at_start: int = 0
    lost_after_return: int = 0
    lost_in_absence: int = 0
    return_to_beat_s: list[float] = field(default_factory=list)
    return_to_beat_wall_ms: list[float] = field(default_factory=list)
    return_to_connected_s: list[float] = field(default_factory=list)
    exact: bool = True
    loop_errors: int = 0


def _to_session(clock: Any, mono_s: float, start_s: float) -> float:
    speed = getattr(clock, "speed", 1.0)
    origin = getattr(clock, "_origin_s", mono_s)
    return origin + (mono_s - origin) * speed - start_s


def run_once(speed: float, duration_s: float, seed: int) -> list[RunResult]:
    """Run one session; return the per-role figures."""
    from coreg.recording import read_recording
    from coreg.session import open_session

    with tempfile.TemporaryDirectory() as folder:
        session, _ = open_session("ble-sim:dropout", "ble-sim:dropout", duration_s=duration_s,
                                  seed=seed, folder=folder,
                                  ble_speed=None if speed == 1.0 else speed)
        session.start()
        try:
            while not session.finished and session.elapsed_s() < duration_s:
                session.poll()
                time.sleep(1 / 30)
        finally:
            session.stop("duration reached")
        rec = read_recording(session.recording_path)
        results = []
        for role, source in session.sources.items():
            strap = source.peripheral
            res = RunResult(speed, role, loop_errors=len(session.loop_errors))
            received = [s.payload for s in rec.samples_for(role)]
            # the recording may stop a notification or two before the strap's log does
            delivered = [e.payload for e in strap.log if e.delivered][:len(received)]
            res.exact = received == delivered
            first_delivered = next((e.index for e in strap.log if e.delivered), len(strap.log))
            last_received = (next(e.index for e in strap.log if e.delivered
                                  and e.payload == received[-1]) if received else -1)
            for e in strap.log[:last_received + 1]:
                if e.delivered:
                    continue
                if not e.online:
                    res.lost_in_absence += 1
                elif e.index < first_delivered:
                    res.lost_at_start += 1
                else:
                    res.lost_after_return += 1
            for mono_s, online in strap.transitions:
                if not online:
                    continue
                res.returns += 1
                on_s = _to_session(session._clock, mono_s, session.start_s)
                connected = next((e.arrival_s for e in rec.events_for(role)
                                  if e.kind.value == "connected" and e.arrival_s >= on_s), None)
                if connected is not None:
                    res.return_to_connected_s.append(connected - on_s)
                back = next((e for e in strap.log if e.delivered and e.t_s >= mono_s), None)
                if back is None:
                    continue
                res.return_to_beat_wall_ms.append((back.t_s - mono_s) * 1000.0)
                res.return_to_beat_s.append(
                    _to_session(session._clock, back.t_s, session.start_s)
                    - _to_session(session._clock, mono_s, session.start_s))
            results.append(res)
        return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when any run lost a beat outside the absence or failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per speed (default 3)")
    parser.add_argument("--speeds", default="1,10,50", help="speeds (default 1,10,50)")
    parser.add_argument("--markdown", action="store_true", help="print the docs table")
    args = parser.parse_args(argv)
    speeds = [float(x) for x in args.speeds.split(",")]
    failed = False
    summary = []
    for speed in speeds:
        duration_s = DURATION_S.get(speed, 300.0)
        rows: list[RunResult] = []
        for run in range(args.runs):
            t0 = time.monotonic()
            for res in run_once(speed, duration_s, seed=1 + run):
                rows.append(res)
                bad = (res.lost_after_return or not res.exact or res.loop_errors
                       or (res.returns and len(res.return_to_beat_s) < res.returns))
                failed |= bool(bad)
                print(f"{speed:g}x run {run + 1} {res.role:9s} returns {res.returns} "
                      f"lost: start {res.lost_at_start}, after return {res.lost_after_return}, "
                      f"connected after {[round(x, 2) for x in res.return_to_connected_s]} s, "
                      f"absence {res.lost_in_absence}; back to beat "
                      f"{[round(x, 2) for x in res.return_to_beat_s]} s "
                      f"({[round(x) for x in res.return_to_beat_wall_ms]} ms wall); "
                      f"exact {res.exact}; loop errors {res.loop_errors}"
                      f"{'  FAIL' if bad else ''} [{time.monotonic() - t0:.0f} s]", flush=True)
        back = [x for r in rows for x in r.return_to_beat_s]
        back_ms = [x for r in rows for x in r.return_to_beat_wall_ms]
        conn = [x for r in rows for x in r.return_to_connected_s]
        summary.append((speed, duration_s, args.runs, sum(r.returns for r in rows),
                        sum(r.lost_after_return for r in rows),
                        sum(r.lost_in_absence for r in rows),
                        sum(r.lost_at_start for r in rows),
                        statistics.median(conn) if conn else float("nan"),
                        max(conn) if conn else float("nan"),
                        statistics.median(back) if back else float("nan"),
                        max(back) if back else float("nan"),
                        statistics.median(back_ms) if back_ms else float("nan"),
                        max(back_ms) if back_ms else float("nan"),
                        all(r.exact for r in rows), sum(r.loop_errors for r in rows)))
    if args.markdown:
        print("\n| speed | session | runs | returns | beats lost outside the absence "
              "(after a return) | lost in the absence | lost before the first connection "
              "| re-advertising → connected, session s (median / max) "
              "| re-advertising → first beat, session s (median / max) | same, wall ms "
              "(median / max) | recorded = delivered | loop errors |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for (speed, dur, runs, returns, after, absence, start, cmed, cmx, med, mx, med_ms,
             mx_ms, exact, errors) in summary:
            print(f"| {speed:g}× | {dur:g} s | {runs} | {returns} | {after} | {absence} | "
                  f"{start} | {cmed:.2f} / {cmx:.2f} | {med:.2f} / {mx:.2f} | "
                  f"{med_ms:.0f} / {mx_ms:.0f} | "
                  f"{'yes' if exact else 'NO'} | {errors} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
