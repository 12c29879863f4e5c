"""Live synchrony across short strap gaps: how much of the session the display can speak for,
and whether its false alarms stay calibrated.

Each person of a simulated dyad loses contact for 20 s at random (on average every
``--every-s`` seconds, independently per person); the beats inside a loss are removed, as the
live path removes them. Every dyad is run with and without the losses through the live engine
(:class:`coreg.engine.synchrony.LiveSynchrony`, the code the display runs).

Figures per condition: the share of 5-s updates with a verdict after the first one (decided,
%); the share of updates said "in sync" (mean, 95th percentile over dyads) — for independent
dyads these are false alarms.

Usage::

    nice -n 10 python benchmarks/live_sync_gaps.py --dyads 40 --duration 1200
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dyad_ar_sim import simulate_dyad
from live_sync_validation import Run, coreg_beats, drive

from coreg.engine.beats import BeatSeries
from coreg.engine.synchrony import SyncSettings

LOSS_S = 20.0


def with_losses(beats: dict[str, BeatSeries], duration_s: float, every_s: float,
                seed: int) -> dict[str, BeatSeries]:
    """The same beats with 20-s contact losses at Poisson times (per person)."""
    rng = np.random.default_rng(10_000 + seed)
    out = {}
    for role, b in beats.items():
        keep = np.ones(len(b.t_s), dtype=bool)
        t = rng.exponential(every_s)
        while t < duration_s:
            keep &= ~((b.t_s >= t) & (b.t_s < t + LOSS_S))
            t += LOSS_S + rng.exponential(every_s)
        # The beat after a loss carries the whole gap as its interval: the strap reports RR
        # only for beats it saw, so the first beat back starts a new run (its RR is its own).
        out[role] = BeatSeries(b.t_s[keep], b.rr_ms[keep], b.valid[keep])
    return out


def shares(run: Run) -> tuple[float, float]:
    """Of the updates from the first verdict on: % with a verdict, % said "in sync"."""
    st = np.asarray(run.states)
    dec = np.isin(st, ("in_sync", "not_in_sync"))
    if not dec.any():
        return 0.0, 0.0
    first = int(np.argmax(dec))
    return 100.0 * float(dec[first:].mean()), 100.0 * float((st[first:] == "in_sync").mean())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dyads", type=int, default=40)
    ap.add_argument("--duration", type=float, default=1200.0)
    ap.add_argument("--every-s", type=float, default=240.0)
    ap.add_argument("--sims", default="ar,coreg")
    args = ap.parse_args(argv)
    settings = SyncSettings()
    print(f"{args.dyads} dyads, {args.duration:.0f} s, 20-s losses every ~{args.every_s:.0f} s "
          "per person")
    print("| sim | condition | gaps | decided % (mean) | in sync % mean | 95th |")
    print("|---|---|---|---|---|---|")
    for sim in args.sims.split(","):
        for cond in ("independent", "strong"):
            rows: dict[str, list[tuple[float, float]]] = {"none": [], "20 s": []}
            for seed in range(args.dyads):
                if sim == "ar":
                    beats = simulate_dyad(cond, args.duration, seed).beats
                else:
                    beats, _ = coreg_beats({"strong": "coupled"}.get(cond, cond),
                                           args.duration, seed)
                for name, b in (("none", beats),
                                ("20 s", with_losses(beats, args.duration, args.every_s, seed))):
                    run = drive(b, args.duration, settings)
                    rows[name].append(shares(run))
            for name, vals in rows.items():
                a = np.asarray(vals)
                print(f"| {sim} | {cond} | {name} | {a[:, 0].mean():.0f} | {a[:, 1].mean():.1f} "
                      f"| {np.percentile(a[:, 1], 95):.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
