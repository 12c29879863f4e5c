"""``coreg analyze``: whole-recording HRV summary per role (table or JSON)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers
    from coreg.engine.summary import RecordingSummary


def add_parser(sub: SubParsers) -> None:
    """Register ``coreg analyze``."""
    p = sub.add_parser(
        "analyze",
        help="summarise a recording: beats, artifacts and HRV per person",
        description=(
            "Whole-recording summary per role: beats, artifacts (Lipponen & Tarvainen 2019), "
            "time-domain HRV, VLF/LF/HF power (4 Hz cubic, linear detrend, Hann, 256 s Welch "
            "segments, 50% overlap) and mean coherence (64 s windows every 5 s)."
        ),
    )
    p.add_argument("file", metavar="FILE", help="a coreg recording (.jsonl)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--no-correct", action="store_true",
                   help="no artifact correction (artifacts still reported); intervals outside "
                        "200–3000 ms and no-contact beats are still left out as gaps")
    p.set_defaults(run=run)


_ROWS: list[tuple[str, str, str]] = [
    ("mean_hr_bpm", "mean HR", "{:.1f} bpm"),
    ("mean_nn_ms", "MeanNN", "{:.1f} ms"),
    ("sdnn_ms", "SDNN", "{:.1f} ms"),
    ("rmssd_ms", "RMSSD", "{:.1f} ms"),
    ("pnn50_pct", "pNN50", "{:.1f} %"),
    ("vlf_ms2", "VLF power", "{:.0f} ms²"),
    ("lf_ms2", "LF power", "{:.0f} ms²"),
    ("hf_ms2", "HF power", "{:.0f} ms²"),
    ("lf_hf", "LF/HF", "{:.2f}"),
    ("lf_peak_hz", "LF peak", "{:.3f} Hz"),
    ("hf_peak_hz", "HF peak", "{:.3f} Hz"),
    ("coherence_mean", "coherence (mean)", "{:.2f}"),
]


def _fmt(value: object, pattern: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return pattern.format(value)


def format_table(summary: RecordingSummary, path: str) -> str:
    """The readable table printed without ``--json``."""
    roles = list(summary["roles"])
    lines = [f"{path} — {summary['duration_s'] / 60:.1f} min"]
    width = 20
    col = 18
    lines.append("".ljust(width) + "".join(r.rjust(col) for r in roles))
    rows: list[tuple[str, list[str]]] = [
        ("beats", [str(summary["roles"][r]["beats"]) for r in roles]),
        ("artifacts", [
            f"{summary['roles'][r]['artifacts']['count']} "
            f"({summary['roles'][r]['artifacts']['percent']:.1f} %)" for r in roles
        ]),
        ("gaps", [str(summary["roles"][r]["quality"]["gaps"]) for r in roles]),
        ("no-contact beats", [str(summary["roles"][r]["quality"]["no_contact_beats"])
                              for r in roles]),
    ]
    for key, label, pattern in _ROWS:
        rows.append((label, [_fmt(summary["roles"][r]["hrv"][key], pattern) for r in roles]))
    for label, cells in rows:
        lines.append(label.ljust(width) + "".join(c.rjust(col) for c in cells))
    corrected = all(summary["roles"][r]["artifacts"]["corrected"] for r in roles)
    lines.append("")
    lines.append("artifacts corrected (Lipponen & Tarvainen 2019)" if corrected
                 else "computed on the RR as recorded (--no-correct)")
    lines.append("coherence: open formula after McCraty et al. 2009, not HeartMath's score")
    if "synchrony" in summary:
        lines.extend(_synchrony_lines(summary))
    return "\n".join(lines)


def _synchrony_lines(sync: object) -> list[str]:
    """One readable line per synchrony measure (slow band, breathing band), raw r vs chance."""
    if not isinstance(sync, dict):
        return [f"synchrony: {sync}"]
    details = sync.get("synchrony_details", {}) if isinstance(sync, dict) else {}
    chance = details.get("chance_mean_peak_r") if isinstance(details, dict) else None
    out = [""]
    for key, label in (("synchrony", "synchrony (HR < 0.15 Hz)"),
                       ("breathing_synchrony", "breathing synchrony")):
        s = sync.get(key)
        if not isinstance(s, dict):
            continue
        parts = [f"mean peak r {_fmt(s.get('mean_peak_r'), '{:.2f}')}"]
        if key == "synchrony" and chance is not None:
            parts.append(f"chance {_fmt(chance, '{:.2f}')}")
        parts.append(f"effect size {_fmt(s.get('effect_size'), '{:.2f}')}")
        parts.append(f"p {_fmt(s.get('p_value'), '{:.3f}')}")
        parts.append(f"lag {_fmt(s.get('lag_s'), '{:+.2f} s')}")
        parts.append(f"leader {s.get('leader', '—')}")
        out.append(f"{label}: " + ", ".join(parts))
    slow = sync.get("synchrony")
    live = slow.get("live") if isinstance(slow, dict) else None
    if isinstance(live, dict):
        pct = live.get("in_sync_pct")
        said = "never decided" if pct is None else f"said in sync {pct:.0f} %"
        out.append(f"live display (as coreg replay): {said} of {live.get('updates', 0)} updates, "
                   f"{live.get('windows', 0)} windows")
    if len(out) == 1:
        out.append("synchrony: " + json.dumps(sync, default=str)[:200])
    return out


def run(args: argparse.Namespace) -> int:
    """Read the recording, summarise it, print a table or JSON."""
    from coreg.engine.summary import summarize_recording
    from coreg.errors import InputError
    from coreg.recording import read_recording

    rec = read_recording(args.file)
    if not rec.samples:
        raise InputError(f"{args.file}: the recording holds no RR data")
    for line in rec.skipped[:5]:  # a truncated or damaged recording: say so, as replay does
        print(f"note: {line}", file=sys.stderr)
    if len(rec.skipped) > 5:
        print(f"note: … and {len(rec.skipped) - 5} more", file=sys.stderr)
    summary = summarize_recording(
        {role: rec.samples_for(role) for role in rec.roles},
        duration_s=rec.duration_s,
        events_by_role={role: rec.events_for(role) for role in rec.roles},
        correct=not args.no_correct,
    )
    if isinstance(summary.get("synchrony"), dict):
        from coreg.session.replay import live_synchrony_summary

        summary["synchrony"]["live"] = live_synchrony_summary(rec)
    if args.json:
        print(json.dumps(summary, indent=2, allow_nan=False))
    else:
        print(format_table(summary, args.file))
    return 0
