"""Live window benchmark (issue 6): frame rate, main-thread CPU, frame time, memory growth.

Part 1 runs the live window offscreen for 60 s on two simulated straps in REAL time and
reports frames per second (target ≥ 30), main-thread CPU as a share of one core (target
≤ 25%) and the 99th percentile of the frame time (target ≤ 20 ms). A frame here is one timer
tick — drain the queue, feed the engines, update the widgets — plus a synchronous repaint of
the window, so the figure includes the painting Qt would otherwise do later.

Part 2 runs a 3-hour simulated session through the same window at high speed (virtual clock)
and reports the growth of the resident memory after the first 10 minutes (target < 50 MB).

Usage::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/ui_live.py [--seconds 60]
        [--hours 3] [--speed 200]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6 import QtCore, QtWidgets

from coreg.session import open_session
from coreg.ui.main_window import LiveWindow


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux /proc)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _dispose(window: LiveWindow) -> None:
    """Close and delete the window now: left to interpreter shutdown, PySide6 + pyqtgraph can
    crash in the final garbage collection."""
    window.close()
    window.client_view.close()
    window.client_view.deleteLater()
    window.deleteLater()
    QtWidgets.QApplication.processEvents()
    QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)


def run_realtime(app: QtWidgets.QApplication, seconds: float, folder: Path) -> dict[str, float]:
    session, _ = open_session(None, None, duration_s=seconds, realtime=True,
                                     folder=folder)
    window = LiveWindow(session, title="benchmark", simulated=True, duration_s=seconds,
                        autostart=False)
    window.show()
    frame_s: list[float] = []
    work_s: list[float] = []
    starts_s: list[float] = []
    original = window.frame

    def timed_frame(force_slow: bool = False) -> None:
        t0 = time.perf_counter()
        starts_s.append(t0)
        original(force_slow)
        t1 = time.perf_counter()
        # Paint now what this frame made dirty (Qt would do it right after, in its loop).
        QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.UpdateRequest)
        t2 = time.perf_counter()
        frame_s.append(t2 - t0)
        work_s.append(t1 - t0)

    window.timer.timeout.disconnect()
    window.timer.timeout.connect(timed_frame)
    done = QtCore.QEventLoop()
    window.on_finished = lambda _w: done.quit()
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    window.start()
    done.exec()
    cpu = time.thread_time() - cpu0
    wall = time.perf_counter() - wall0
    _dispose(window)
    ft = np.asarray(frame_s) * 1000.0
    return {
        "wall_s": wall,
        "frames": float(len(ft)),
        "fps": len(ft) / wall,
        "cpu_pct": 100.0 * cpu / wall,
        "frame_ms_median": float(np.median(ft)),
        "frame_ms_p99": float(np.percentile(ft, 99)),
        "frame_ms_max": float(ft.max()),
        "work_ms_median": float(np.median(work_s) * 1000.0),
        "cpu_ms_per_frame": 1000.0 * cpu / len(ft),
        "interval_ms_p99": float(np.percentile(np.diff(starts_s), 99) * 1000.0),
        "work_ms_p99": float(np.percentile(work_s, 99) * 1000.0),
    }


def run_long(app: QtWidgets.QApplication, hours: float, speed: float,
             folder: Path) -> dict[str, float]:
    duration_s = hours * 3600.0
    session, _ = open_session(None, None, duration_s=duration_s, realtime=False, speed=speed,
                              folder=folder)
    window = LiveWindow(session, title="benchmark", simulated=True, duration_s=duration_s,
                        autostart=False)
    window.show()
    samples: list[tuple[float, float]] = []

    def sample() -> None:
        samples.append((session.elapsed_s(), rss_mb()))

    probe = QtCore.QTimer()
    probe.timeout.connect(sample)
    probe.start(500)
    done = QtCore.QEventLoop()
    window.on_finished = lambda _w: done.quit()
    wall0 = time.perf_counter()
    window.start()
    done.exec()
    wall = time.perf_counter() - wall0
    probe.stop()
    sample()
    frames = window.frames
    _dispose(window)
    t = np.asarray([s[0] for s in samples])
    mb = np.asarray([s[1] for s in samples])
    after_warmup = mb[t >= 600.0]
    base = float(after_warmup[0]) if after_warmup.size else float(mb[0])
    return {
        "session_h": float(t[-1]) / 3600.0,
        "wall_s": wall,
        "speedup": float(t[-1]) / wall,
        "rss_start_mb": float(mb[0]),
        "rss_at_10min_mb": base,
        "rss_end_mb": float(mb[-1]),
        "rss_peak_mb": float(mb.max()),
        "growth_mb": float(mb[-1]) - base,
        "frames": float(frames),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--speed", type=float, default=200.0)
    parser.add_argument("--skip-realtime", action="store_true")
    parser.add_argument("--skip-long", action="store_true")
    args = parser.parse_args()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_realtime:
            r = run_realtime(app, args.seconds, Path(tmp))
            print(f"## Live window, {args.seconds:.0f} s real time, two simulated straps "
                  "(offscreen)\n")
            print("| measure | value | target |")
            print("|---|---|---|")
            print(f"| frames per second | {r['fps']:.1f} ({r['frames']:.0f} frames) | ≥ 30 |")
            print(f"| main-thread CPU, % of one core | {r['cpu_pct']:.1f} | ≤ 25 |")
            print(f"| frame time p99 (work + paint), ms | {r['frame_ms_p99']:.1f} "
                  f"(median {r['frame_ms_median']:.1f}, max {r['frame_ms_max']:.1f}) | ≤ 20 |")
            print(f"| of which work (poll, engines, widgets) p99, ms | {r['work_ms_p99']:.1f} "
                  f"(median {r['work_ms_median']:.1f}) | |")
            print(f"| main-thread CPU per frame (all of it, incl. Qt's own), ms | "
                  f"{r['cpu_ms_per_frame']:.1f} | |")
            print(f"| interval between frames p99, ms (timer 30) | "
                  f"{r['interval_ms_p99']:.1f} | |")
            print()
        if not args.skip_long:
            r = run_long(app, args.hours, args.speed, Path(tmp))
            print(f"## {r['session_h']:.1f}-hour session at high speed "
                  f"({r['speedup']:.0f}× real time, {r['wall_s']:.0f} s)\n")
            print("| measure | value | target |")
            print("|---|---|---|")
            print(f"| RSS at 10 min / at end / peak, MB | {r['rss_at_10min_mb']:.0f} / "
                  f"{r['rss_end_mb']:.0f} / {r['rss_peak_mb']:.0f} | |")
            print(f"| memory growth after 10 min, MB | {r['growth_mb']:.1f} | < 50 |")
            print()


if __name__ == "__main__":
    main()
