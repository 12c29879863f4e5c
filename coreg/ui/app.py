"""Starting the live window from ``coreg live`` (with ``--screenshot``: offscreen, then quit)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def run_window(args: argparse.Namespace, *, realtime: bool, speed: float | None,
               ble_speed: float | None = None) -> int:
    """Open the live window on the sources named in ``args``; return the exit code."""
    if args.screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6 import QtWidgets

    from coreg.recording.index import person_header
    from coreg.recording.settings import load_settings
    from coreg.session import open_session
    from coreg.session.runner import Session
    from coreg.session.setup import live_title
    from coreg.ui.layouts import restore_geometry, save_geometry
    from coreg.ui.loop import exec_window
    from coreg.ui.main_window import LiveWindow

    people = person_header(getattr(args, "client_name", None),
                           getattr(args, "therapist_name", None))
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    user = load_settings()
    client, therapist = args.client, args.therapist
    if client is None and therapist is None and user.default_straps and not args.screenshot:
        client = user.default_straps.get("client") or None
        therapist = user.default_straps.get("therapist") or None
    # Start when ready: a window run opens in a preview (nothing recorded until *Start
    # recording*); a timed run (--duration, --screenshot) records from the start as before.
    preview = realtime and not args.duration and not args.screenshot
    session, resolved = open_session(
        client, therapist, duration_s=args.duration, seed=args.seed,
        realtime=realtime, speed=speed, folder=args.recordings_dir, ble_speed=ble_speed,
        preview=preview, lsl=bool(getattr(args, "lsl", False)),
        header_extra=people)
    saved: list[Path] = []

    def finished(window: LiveWindow) -> None:
        if args.screenshot:
            saved.extend(window.save_screenshots(args.screenshot))
            app.quit()

    def factory(client: str, therapist: str) -> tuple[Any, Any]:
        return open_session(client, therapist, seed=args.seed, folder=args.recordings_dir,
                            preview=True, lsl=bool(getattr(args, "lsl", False)),
                            header_extra=people)

    names = {role: role for role in resolved.sources}
    window = LiveWindow(session, title=live_title(resolved), simulated=resolved.simulated,
                        names=names, duration_s=args.duration, on_finished=finished,
                        autostart=False, session_factory=None if args.screenshot else factory,
                        sources={role: spec.text for role, spec in resolved.specs.items()})
    size = getattr(args, "size", None)
    if size is not None:
        window.resize(*size)
    elif not args.screenshot:
        restore_geometry(window, "live")
    window.show()
    if args.client_view or args.screenshot:
        window.toggle_client_view()

    def interrupted() -> None:
        window.end_session("interrupted")
        window.close()

    def stop() -> None:
        if not args.screenshot:
            save_geometry(window, "live")
        window.end_session("window closed")

    code = exec_window(app, window, interrupted=interrupted, start=window.start, stop=stop,
                       also_close=(window.client_view,))
    for path in saved:
        print(f"screenshot: {path}")
    final = window.session
    print(f"recording: {final.recording_path}" if final.recording_path else
          "nothing recorded (the session stayed in its preview)")
    errors = final.source_errors if isinstance(final, Session) else {}
    for role, error in errors.items():  # once, and never a clean exit
        print(f"coreg live: the {role} strap failed: {error}", file=sys.stderr, flush=True)
        code = code or 2
    return code
