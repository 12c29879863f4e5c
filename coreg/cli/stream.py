"""``coreg stream``: publish one strap as Lab Streaming Layer streams (and record it)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from types import FrameType
from typing import TYPE_CHECKING

from coreg.errors import InputError

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers


def add_parser(subparsers: SubParsers) -> None:
    """Register ``coreg stream``."""
    p = subparsers.add_parser(
        "stream",
        help="publish one strap on the Lab Streaming Layer (RR and device events)",
        description=(
            "Connect one strap and publish it as Lab Streaming Layer streams: RR intervals "
            "(one sample per beat, stamped at the beat's time, unit ms) and the strap's device "
            "events as markers. Another coreg reads it with --client lsl:NAME; LabRecorder "
            "records it. The session is recorded locally too. LSL streams are visible to every "
            "machine on the local network (see docs/lsl.md to restrict them)."
        ),
    )
    p.add_argument("--device", required=True, metavar="SRC",
                   help="the strap: a BLE address or name, ble-sim[:SCENARIO] or sim[:SCENARIO]")
    p.add_argument("--role", required=True, choices=["client", "therapist"],
                   help="whose strap it is")
    p.add_argument("--name", metavar="NAME", help="RR stream name (default coreg-ROLE)")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--seed", type=int, default=1, help="seed of a simulated strap (default 1)")
    p.add_argument("--recordings-dir", metavar="DIR",
                   help="folder for the recording (default $COREG_RECORDINGS or ./recordings)")
    p.set_defaults(run=run)


class _Terminated(Exception):
    pass


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def run(args: argparse.Namespace) -> int:
    """Run ``coreg stream`` until the duration, the strap's end, Ctrl+C or SIGTERM."""
    from coreg.session.stream import open_stream_session

    if args.duration is not None and not args.duration > 0:
        raise InputError("--duration must be positive")
    session, _resolved, publisher = open_stream_session(
        args.device, args.role, name=args.name, duration_s=args.duration, seed=args.seed,
        folder=args.recordings_dir)
    ident = publisher.outlets.identity
    print(f"streaming {args.role} as LSL '{ident['rr']['name']}' (RR, ms) and "
          f"'{ident['events']['name']}' (events), source_id {ident['rr']['source_id']}",
          flush=True)
    print(f"recording to {session.recording_path}", flush=True)
    with contextlib.suppress(ValueError):  # not the main thread (tests)
        signal.signal(signal.SIGTERM, _on_sigterm)
    reason, code = "stopped", 0
    next_print_s = time.monotonic() + 5.0
    session.start()
    try:
        while True:
            session.poll()
            if session.finished:
                reason = "duration reached" if session.reached_duration else "sources ended"
                break
            if args.duration and session.elapsed_s() >= args.duration:
                reason = "duration reached"
                break
            now = time.monotonic()
            if now >= next_print_s:
                person = session.view.persons[args.role]
                hr = "—" if person.hr.value is None else f"{person.hr.value:.0f} bpm"
                print(f"{session.elapsed_s():6.0f} s  {person.connection:<12} HR {hr:<8} "
                      f"beats streamed {publisher.outlets.beats_pushed}", flush=True)
                next_print_s = now + 5.0
            session.sync_recording()
            time.sleep(0.05)
    except KeyboardInterrupt:
        reason, code = "interrupted", 130
    except _Terminated:
        reason, code = "terminated", 143
    finally:
        session.stop(reason)
    print(f"stream ended ({reason}); {publisher.outlets.beats_pushed} beats streamed; "
          f"recording: {session.recording_path}", file=sys.stdout, flush=True)
    return code
