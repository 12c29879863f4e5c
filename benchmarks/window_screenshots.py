"""Screenshots of the windows a therapist runs a session from (offscreen), for docs/windows.md.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/window_screenshots.py docs/screenshots

Writes ``windows-preview-1366x768.png`` (the live window in its preview: straps streaming, nothing
recorded), ``windows-breathe-controls-1366x768.png`` (the breathing window after a rate change, an
IN:OUT change and a pause) and ``windows-settings.png``. The live window at 1366×768 and
1920×1080 comes from the command line itself (``coreg live --duration 120 --screenshot PNG
--size WxH``). Simulated straps only; nothing is written outside a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _wait(app: object, seconds: float, until: object = None) -> None:
    from PySide6 import QtWidgets

    end = time.monotonic() + seconds
    while time.monotonic() < end and not (callable(until) and until()):
        QtWidgets.QApplication.processEvents()
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="coreg-shots-"))
    os.environ["COREG_SETTINGS"] = str(tmp / "settings.json")

    from PySide6 import QtWidgets

    from coreg.cli.breathe import build_schedule, config_from_args
    from coreg.cli.breathe import open_session as open_breathe
    from coreg.session import open_session
    from coreg.ui.breathe import BreatheWindow
    from coreg.ui.main_window import LiveWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])

    # 1. The preview: straps live, nothing recorded until Start recording.
    session, resolved = open_session("sim:coupled", "sim:coupled", seed=4, folder=tmp / "rec",
                                     preview=True)
    live = LiveWindow(session, title="coreg live — SIMULATED (coupled, seed 4)", simulated=True,
                      autostart=False, session_factory=lambda c, t: open_session(
                          c, t, folder=tmp / "rec", preview=True),
                      sources={r: s.text for r, s in resolved.specs.items()})
    live.resize(1366, 768)
    live.show()
    live.start()
    _wait(app, 20.0)
    live.resize(1366, 768)
    _wait(app, 0.5)
    assert session.previewing and not (tmp / "rec").exists()
    live.frame(force_slow=True)
    live.grab().save(str(args.folder / "windows-preview-1366x768.png"))
    dialog = live.open_settings()
    _wait(app, 0.3)
    dialog.grab().save(str(args.folder / "windows-settings.png"))
    dialog.close()
    live.close()

    # 2. The breathing window's controls, mid-practice after changes.
    bargs = argparse.Namespace(
        device="sim", client_name="client", rate=6.0, ratio="1:1", pause_in=0.0,
        pause_out=0.0, duration=300.0, goal=None, sound=False, assess=False,
        steps="6.5,6.0,5.5,5.0,4.5", step_s=120.0, settle_s=25.0, headless=False,
        screenshot=None, speed="20", seed=2, recordings_dir=str(tmp), size=None)
    schedule, duration_s = build_schedule(bargs, tmp)
    standin = open_breathe(bargs, schedule, duration_s, tmp, 20.0, record=False)
    win = BreatheWindow(standin.session, standin.analysis, config_from_args(bargs), duration_s,
                        source_text="SIMULATED client (seed 2)",
                        opener=lambda: open_breathe(bargs, schedule, duration_s, tmp, 20.0))
    win.resize(1366, 768)
    win.show()
    win.start()
    _wait(app, 60.0, lambda: win.br.now_s >= 80.0)
    win.rate_box.setValue(5.5)
    _wait(app, 60.0, lambda: win.br.now_s >= 110.0)
    win.ratio_box.setCurrentText("4:6")
    _wait(app, 60.0, lambda: win.br.now_s >= 150.0)
    win.grab().save(str(args.folder / "windows-breathe-controls-1366x768.png"))
    win.close()
    for name in ("windows-preview-1366x768.png", "windows-settings.png",
                 "windows-breathe-controls-1366x768.png"):
        print(args.folder / name, flush=True)
    # Tear the widgets down while the interpreter is whole (PySide6 + pyqtgraph can crash in
    # the final garbage collection otherwise).
    from PySide6 import QtCore

    for widget in (live, win, live.client_view):
        widget.deleteLater()
    app.processEvents()
    app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    return 0


if __name__ == "__main__":
    sys.exit(main())
