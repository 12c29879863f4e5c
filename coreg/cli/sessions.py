"""``coreg sessions``: the saved recordings with client and key figures, newest first."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers
    from coreg.recording.index import Client, SessionEntry


def add_parser(sub: SubParsers) -> None:
    """Register ``coreg sessions``."""
    p = sub.add_parser(
        "sessions",
        help="list saved recordings with client, date, mode, duration and key figures",
        description=(
            "List the recordings of the recordings folder (--recordings-dir, else "
            "$COREG_RECORDINGS, else ./recordings), newest first: client, date, mode, length, "
            "mean HR (bpm), RMSSD (ms) and mean coherence per role, the synchrony effect size "
            "and the share (%%) of 30 s windows above chance for dyads, the pacer or chosen "
            "resonance rate (breaths/min) for breathing sessions. Damaged files are listed as "
            "damaged. Figures are kept in the folder's database coreg.db (owner-only), "
            "recomputed only for new or changed files."
        ),
    )
    p.add_argument("--recordings-dir", metavar="DIR", help="folder of recordings")
    p.add_argument("--client", metavar="NAME", help="only this client's sessions")
    p.add_argument("--clients", action="store_true",
                   help="list the clients (sessions, last session, resonance rate) instead")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-cache", action="store_true",
                   help="recompute everything and leave the database alone")
    p.set_defaults(run=run)


def _f(x: object, pattern: str) -> str:
    return "—" if x is None else pattern.format(x)


def figures_text(e: SessionEntry) -> str:
    """The key figures of one entry, each with its unit."""
    parts = []
    for role, r in e.get("roles", {}).items():
        text = (f"{role} HR {_f(r.get('mean_hr_bpm'), '{:.0f} bpm')}, "
                f"RMSSD {_f(r.get('rmssd_ms'), '{:.0f} ms')}")
        if r.get("coherence") is not None:
            text += f", coherence {r['coherence']:.1f}"
        parts.append(text)
    sync = e.get("synchrony")
    if sync:
        text = f"synchrony d {_f(sync.get('effect_size'), '{:.1f}')}"
        if sync.get("time_in_sync_pct") is not None:
            text += f", {sync['time_in_sync_pct']:.0f} % of windows above chance"
        text += " (above chance)" if sync.get("significant") else " (chance level)"
        parts.append(text)
    rate = e.get("resonance_rate_bpm")
    if rate is not None:
        label = "chosen rate" if e.get("kind") == "assessment" else "pacer"
        parts.append(f"{label} {rate:.1f} /min")
    return "; ".join(parts)


def format_table(entries: list[SessionEntry], folder: str) -> str:
    """The human-readable listing."""
    if not entries:
        return f"no recordings in {folder}"
    width = max([6, *(len(e.get("client") or "—") for e in entries)])
    lines = [f"{'client':<{width}}  {'date':<16}  {'mode':<10}  {'length':>8}  key figures  file"]
    for e in entries:
        who = e.get("client") or "—"
        if e["status"] == "damaged":
            when = datetime.fromtimestamp(e.get("mtime") or 0.0).strftime("%Y-%m-%d %H:%M")
            lines.append(f"{who:<{width}}  {when:<16}  {'DAMAGED':<10}  {'':>8}  "
                         f"{e.get('error', e['file'])}")
            continue
        date = (e.get("created") or "")[:16].replace("T", " ")
        minutes = (e.get("duration_s") or 0.0) / 60
        mode = e.get("kind") if e.get("kind") in ("practice", "assessment") else e.get("mode", "")
        flags = []
        if e.get("simulated"):
            flags.append("simulated")
        if e["status"] == "incomplete":
            flags.append("incomplete")
        tail = f"  [{', '.join(flags)}]" if flags else ""
        lines.append(f"{who:<{width}}  {date:<16}  {mode or '':<10}  {minutes:>5.1f} min  "
                     f"{figures_text(e)}  {e['file']}{tail}")
    return "\n".join(lines)


def format_clients(clients: list[Client], folder: str) -> str:
    """The client list."""
    if not clients:
        return f"no clients in {folder}"
    width = max([6, *(len(c.name) for c in clients)])
    lines = [f"{'client':<{width}}  {'sessions':>8}  {'last session':<16}  resonance rate"]
    for c in clients:
        rate = f"{c.rate_bpm:.1f} /min ({c.rate_confidence})" if c.rate_bpm else "—"
        lines.append(f"{c.name:<{width}}  {c.sessions:>8}  "
                     f"{c.last_session[:16].replace('T', ' ') or '—':<16}  {rate}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """List the sessions (or the clients)."""
    import dataclasses
    from pathlib import Path

    from coreg.errors import InputError
    from coreg.recording.index import list_sessions, open_index
    from coreg.recording.paths import recordings_dir

    if args.recordings_dir and not Path(args.recordings_dir).is_dir():
        raise InputError(f"{args.recordings_dir}: no such folder")
    folder = recordings_dir(args.recordings_dir)
    tty = sys.stderr.isatty() and not args.json

    def progress(label: str) -> None:
        if tty:
            sys.stderr.write("\r\x1b[2Kindexing " + label[:70])
            sys.stderr.flush()

    if args.clients:
        with open_index(folder, progress=progress) as index:
            clients = index.clients()
        if tty:
            sys.stderr.write("\r\x1b[2K")
        if args.json:
            print(json.dumps([dataclasses.asdict(c) for c in clients], indent=2,
                             allow_nan=False))
        else:
            print(format_clients(clients, str(folder)))
        return 0
    entries = list_sessions(folder, use_cache=not args.no_cache, progress=progress,
                            client=args.client)
    if tty:
        sys.stderr.write("\r\x1b[2K")
    if args.client and not entries:
        with open_index(folder, sync=False) as index:
            known = index.client(args.client) is not None
        if not known:
            raise InputError(f"no client called {args.client!r} in {folder} "
                             "(coreg sessions --clients lists them)")
    if args.json:
        print(json.dumps(entries, indent=2, allow_nan=False))
    else:
        # list_sessions gives plain dicts of SessionEntry's shape (for json.dumps)
        print(format_table(cast("list[SessionEntry]", entries), str(folder)))
    return 0
