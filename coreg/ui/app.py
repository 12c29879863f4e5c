"""Starting the live window from ``coreg live`` (with ``--screenshot``: offscreen, then quit)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from coreg.session.clock import SpeedPlan

log = logging.getLogger(__name__)


def run_window(args: argparse.Namespace, plan: SpeedPlan) -> int:
    """Open the live window on the sources named in ``args`` on ``plan``'s clock; return the
    exit code."""
    from coreg.recording.index import person_header
    from coreg.recording.settings import load_settings
    from coreg.session import open_session
    from coreg.session.headless import failure_lines
    from coreg.session.runner import Session
    from coreg.session.setup import live_title
    from coreg.sources import ResolvedSources
    from coreg.ui.loop import qt_app, run_session_window
    from coreg.ui.main_window import LiveWindow

    people = person_header(getattr(args, "client_name", None),
                           getattr(args, "therapist_name", None))
    app = qt_app(offscreen=bool(args.screenshot))
    user = load_settings()
    client, therapist = args.client, args.therapist
    if client is None and therapist is None and user.default_straps and not args.screenshot:
        client = user.default_straps.get("client") or None
        therapist = user.default_straps.get("therapist") or None
    # Start when ready: a window run opens in a preview (nothing recorded until *Start
    # recording*); a timed run (--duration, --screenshot) records from the start as before.
    preview = plan.realtime and not args.duration and not args.screenshot
    session, resolved = open_session(
        client, therapist, duration_s=args.duration, seed=args.seed,
        realtime=plan.realtime, speed=plan.speed, folder=args.recordings_dir,
        ble_speed=plan.ble_speed, preview=preview, lsl=bool(getattr(args, "lsl", False)),
        header_extra=people)
    saved: list[Path] = []

    def finished(window: LiveWindow) -> None:
        if args.screenshot:
            saved.extend(window.save_screenshots(args.screenshot))
            app.quit()

    def factory(client: str, therapist: str) -> tuple[Session, ResolvedSources]:
        return open_session(client, therapist, seed=args.seed, folder=args.recordings_dir,
                            preview=True, lsl=bool(getattr(args, "lsl", False)),
                            header_extra=people)

    names = {role: role for role in resolved.sources}
    window = LiveWindow(session, title=live_title(resolved), simulated=resolved.simulated,
                        names=names, duration_s=args.duration, on_finished=finished,
                        autostart=False, session_factory=None if args.screenshot else factory,
                        sources={role: spec.text for role, spec in resolved.specs.items()})

    def start() -> None:
        if args.client_view or args.screenshot:
            window.toggle_client_view()
        window.start()

    code = run_session_window(app, window, window.end_session,
                              geometry="" if args.screenshot else "live",
                              size=getattr(args, "size", None), start=start,
                              also_close=(window.client_view,))
    for path in saved:
        print(f"screenshot: {path}")
    final = window.session
    print(f"recording: {final.recording_path}" if final.recording_path else
          "nothing recorded (the session stayed in its preview)")
    if isinstance(final, Session):  # a strap that failed: said once, and never a clean exit
        lines, failed = failure_lines("coreg live", final.source_errors, final.loop_errors)
        for line in lines:
            print(line, file=sys.stderr, flush=True)
        code = code or failed
    return code
