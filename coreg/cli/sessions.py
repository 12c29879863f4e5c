"""``coreg sessions``: the saved recordings with headline figures, newest first."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any


def add_parser(sub: Any) -> None:
    """Register ``coreg sessions``."""
    p = sub.add_parser(
        "sessions",
        help="list saved recordings with date, mode, duration, roles and headline figures",
        description=(
            "List the recordings of the recordings folder (--recordings-dir, else "
            "$COREG_RECORDINGS, else ./recordings), newest first, with mean HR and RMSSD per "
            "role and the synchrony effect size for dyads. Damaged files are listed as damaged. "
            "Figures are cached in .coreg-index.json in that folder (owner-only)."
        ),
    )
    p.add_argument("--recordings-dir", metavar="DIR", help="folder of recordings")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-cache", action="store_true",
                   help="recompute everything and leave the index alone")
    p.set_defaults(run=run)


def _f(x: Any, pattern: str) -> str:
    return "—" if x is None else pattern.format(x)


def _unit(text: str, unit: str) -> str:
    """``83`` → ``83 bpm``; a missing value (``—``) stays bare."""
    return text if text == "—" else f"{text} {unit}"


def format_table(entries: list[dict[str, Any]], folder: str) -> str:
    """The human-readable listing."""
    if not entries:
        return f"no recordings in {folder}"
    lines = [f"{'date':<17} {'mode':<9} {'length':>7}  {'people and headline figures'}"]
    for e in entries:
        if e["status"] == "damaged":
            when = datetime.fromtimestamp(e.get("mtime") or 0.0).strftime("%Y-%m-%d %H:%M")
            lines.append(f"{when:<17} {'DAMAGED':<9} {'':>7}  {e.get('error', e['file'])}")
            continue
        date = (e.get("created") or "")[:16].replace("T", " ")
        minutes = e.get("duration_s", 0.0) / 60
        people = "; ".join(
            f"{role} HR {_unit(_f(r.get('mean_hr_bpm'), '{:.0f}'), 'bpm')} "
            f"RMSSD {_unit(_f(r.get('rmssd_ms'), '{:.0f}'), 'ms')}"
            for role, r in e.get("roles", {}).items())
        sync = e.get("synchrony")
        if sync:
            people += (f"; synchrony effect size d={_f(sync.get('effect_size'), '{:.1f}')} "
                       "vs surrogates")
            people += " (above chance)" if sync.get("significant") else " (chance level)"
        flags = []
        if e.get("simulated"):
            flags.append("simulated")
        if e["status"] == "incomplete":
            flags.append("incomplete")
        tail = f"  [{', '.join(flags)}]" if flags else ""
        lines.append(f"{date:<17} {e.get('mode', ''):<9} {minutes:>5.1f} m  {people}  "
                     f"{e['file']}{tail}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """List the sessions."""
    from pathlib import Path

    from coreg.errors import InputError
    from coreg.recording.paths import recordings_dir
    from coreg.report.sessions import list_sessions

    if args.recordings_dir and not Path(args.recordings_dir).is_dir():
        raise InputError(f"{args.recordings_dir}: no such folder")
    folder = recordings_dir(args.recordings_dir)
    tty = sys.stderr.isatty() and not args.json

    def progress(label: str) -> None:
        if tty:
            sys.stderr.write("\r\x1b[2Kindexing " + label[:70])
            sys.stderr.flush()

    entries = list_sessions(folder, use_cache=not args.no_cache, progress=progress)
    if tty:
        sys.stderr.write("\r\x1b[2K")
    if args.json:
        print(json.dumps(entries, indent=2, allow_nan=False))
    else:
        print(format_table(entries, str(folder)))
    return 0
