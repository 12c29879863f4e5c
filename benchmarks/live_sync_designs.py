"""Compare live synchrony designs through the live engine itself (docs/live-synchrony.md).

Run: ``nice -n 10 .venv/bin/python benchmarks/live_sync_designs.py [--dyads 20] [--sims ar,coreg]``

Each design is a :class:`coreg.engine.synchrony.SyncSettings` variant (block length, lag span,
α, latest-minute check). Every dyad is driven through :class:`LiveSynchrony` exactly as in
``live_sync_validation.py`` (the trailing 420 s of beats every 5 s) for 20 minutes. Per design
and simulator: time in sync (mean, and 95th percentile for the uncoupled conditions) and, for
switching dyads, the share of onsets said "in sync" within 60 s and of ends said "not in sync"
within 60 s, with the median delays.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_sync_validation import condition_runs, delays

from coreg.engine.synchrony import SyncSettings

DESIGNS: dict[str, SyncSettings] = {
    "block 24, lag held over 48, α 0.02 (round 2)": SyncSettings(
        live_block_windows=24, live_lag_windows=48, live_alpha=0.02, live_latest_windows=0),
    "block 36, lag held over 60, α 0.01, no latest-minute check": SyncSettings(
        live_latest_windows=0),
    "block 36, lag held over 60, α 0.01, latest 6 windows p ≤ 0.5 (chosen)": SyncSettings(),
    "block 36, lag held over 60, α 0.02, latest 6 windows p ≤ 0.5": SyncSettings(
        live_alpha=0.02),
}
DURATION_S = 1200.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dyads", type=int, default=20)
    p.add_argument("--sims", default="ar,coreg")
    p.add_argument("--designs", default="", help="comma-separated design numbers (default all)")
    args = p.parse_args(argv)
    chosen = list(DESIGNS.items())
    if args.designs:
        chosen = [chosen[int(i)] for i in args.designs.split(",")]
    print("| design | sim (dyads) | independent mean (95th) | paced mean (95th) | strong | weak | "
          "onset ≤ 60 s (median s) | end ≤ 60 s (median s) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, settings in chosen:
        for sim in args.sims.split(","):
            cells = []
            for cond in ("independent", "paced", "strong", "weak"):
                a = np.asarray([r.in_sync_pct for r, _ in
                                condition_runs(sim, cond, DURATION_S, args.dyads, settings)])
                a = a[np.isfinite(a)]
                cells.append(f"{a.mean():.1f} ({np.percentile(a, 95):.1f})"
                             if cond in ("independent", "paced") else f"{a.mean():.1f}")
            on_all: list[float] = []
            off_all: list[float] = []
            for r, iv in condition_runs(sim, "switching", DURATION_S, args.dyads, settings):
                on, off = delays(r, iv, DURATION_S)
                on_all += on
                off_all += off
            on_a, off_a = np.asarray(on_all), np.asarray(off_all)
            cells.append(f"{100 * np.mean(on_a <= 60):.0f} % ({np.median(on_a):.0f})")
            cells.append(f"{100 * np.mean(off_a <= 60):.0f} % ({np.median(off_a):.0f})")
            print(f"| {name} | {sim} ({args.dyads}) | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
