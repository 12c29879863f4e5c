"""Cost of the synchrony engine against a plain per-window recomputation (issue 4).

Run: ``.venv/bin/python benchmarks/sync_bench.py [--minutes 60] [--surrogates 1000]``.

Three rows, engine (:mod:`coreg.engine.synchrony`) against a plain numpy/scipy version that
recomputes ``scipy.stats.pearsonr`` for every lag of every window (30 s windows, 5 s step,
±5 s lags at 4 Hz = 41 lags) on the same prepared signals, and does the same again for every
segment-shuffled surrogate:

1. one live update that adds the newest window (the 5-s cadence);
2. one live update that also recomputes the chance baseline over the trailing 5 min (every
   30 s; the live engine uses 200 segment-shuffle surrogates plus every circular shift);
3. a whole session (default 60 min) with 1000 segment-shuffle surrogates (plus every circular
   shift, the moving-block bootstrap of the lag and the breathing band, which the plain version
   does not even do).

The plain version's surrogate loops are timed on a few surrogates and multiplied up (the cost
per surrogate is constant); the table says which figures are extrapolated. Timings are wall
clock on whatever machine runs this (medians of repeats), not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from coreg.engine.beats import BeatSeries
from coreg.engine.synchrony import (
    LiveSynchrony,
    SyncSettings,
    _session_grid,
    prepare_pair,
    session_synchrony,
    valid_window_starts,
)
from devices.sim import simulate


def true_beats(scenario: str, duration_s: float, seed: int) -> dict[str, BeatSeries]:
    """Role → the simulated true beats of one run."""
    run = simulate(scenario, duration_s, seed)
    return {r: BeatSeries(run.beats[r].t_s, run.beats[r].rr_ms,
                          np.ones(len(run.beats[r]), dtype=bool)) for r in run.roles}


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` in seconds."""
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def plain_windows(a: NDArray[np.float64], b: NDArray[np.float64], starts: NDArray[np.int64],
                  settings: SyncSettings) -> NDArray[np.float64]:
    """Peak r (closest to lag 0) of each window, with one ``pearsonr`` per lag per window."""
    w, L = settings.window_samples, settings.lag_samples
    out = np.empty(len(starts))
    for i, s in enumerate(starts.tolist()):
        curve = np.array([stats.pearsonr(a[s:s + w], b[s + lag:s + lag + w])[0]
                          for lag in range(-L, L + 1)])
        peaks = [j for j in range(len(curve))
                 if (j == 0 or curve[j] >= curve[j - 1])
                 and (j == len(curve) - 1 or curve[j] >= curve[j + 1])]
        out[i] = curve[min(peaks, key=lambda j: (abs(j - L), -curve[j]))]
    return out


def plain_surrogate(a: NDArray[np.float64], b: NDArray[np.float64], starts: NDArray[np.int64],
                    settings: SyncSettings, rng: np.random.Generator) -> float:
    """One segment-shuffle surrogate recomputed from scratch: B's 30-s segments permuted."""
    seg = round(settings.segment_s * settings.rate_hz)
    n_seg = len(b) // seg
    order = rng.permutation(n_seg)
    b_s = np.concatenate([b[j * seg:(j + 1) * seg] for j in order] + [b[n_seg * seg:]])
    ok = np.array([np.isfinite(b_s[s - settings.lag_samples:
                                   s + settings.window_samples + settings.lag_samples]).all()
                   for s in starts.tolist()], dtype=bool)
    return float(np.mean(plain_windows(a, b_s, starts[ok], settings)))


def prepared(beats: dict[str, BeatSeries], settings: SyncSettings, t0_s: float | None = None
             ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Prepared slow-band signals and window starts (whole session, or from ``t0_s``)."""
    a, b = beats["therapist"], beats["client"]
    k0, n = _session_grid((a, b), settings)
    if t0_s is not None:
        k_new = round(t0_s * settings.rate_hz)
        n -= k_new - k0
        k0 = k_new
    x, y = prepare_pair(a, b, k0, n, settings, "slow")
    return x, y, valid_window_starts(x, y, k0, settings)


def live_costs(beats: dict[str, BeatSeries], settings: SyncSettings, duration_s: float
               ) -> tuple[list[float], list[float]]:
    """Engine wall time of each live update, split into plain updates and baseline updates."""
    live = LiveSynchrony(settings=settings)
    plain, base = [], []
    for now in np.arange(5.0, duration_s + 1e-9, 5.0):
        snap = {}
        for role, x in beats.items():
            n = int(np.searchsorted(x.t_s, now, side="right"))
            lo = int(np.searchsorted(x.t_s, now - 420.0))  # what the session layer hands over
            snap[role] = BeatSeries(x.t_s[lo:n], x.rr_ms[lo:n], x.valid[lo:n])
        t0 = time.perf_counter()
        s = live.update(snap, float(now))
        dt = time.perf_counter() - t0
        if s is None or now < settings.baseline_s + 60.0:
            continue  # steady state only: after the warm-up
        # The live test has no separate baseline recomputation any more: every update is alike;
        # the slowest tenth stands for the "baseline" column.
        plain.append(dt)
    base = sorted(plain)[-max(1, len(plain) // 10):]
    return plain, base


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=60.0, help="session length")
    p.add_argument("--surrogates", type=int, default=1000, help="segment-shuffle surrogates")
    p.add_argument("--plain-surrogates", type=int, default=2,
                   help="plain-version surrogates actually timed (then multiplied up)")
    args = p.parse_args(argv)
    settings = SyncSettings(n_surrogates=args.surrogates)
    duration_s = args.minutes * 60.0
    beats = true_beats("coupled", duration_s, 7)
    rng = np.random.default_rng(0)

    # 1 + 2: live updates, engine.
    live_plain, live_base = live_costs(beats, settings, min(duration_s, 1200.0))
    eng_update = statistics.median(live_plain)
    eng_base = statistics.median(live_base)
    eng_base_max = max(live_base)

    # 1 + 2: live updates, plain version (same prepared signals).
    x, y, starts = prepared(beats, settings)
    one = starts[-1:]
    plain_update = timed(lambda: plain_windows(x, y, one, settings), 5)
    per_window = plain_update
    n_base = int(np.count_nonzero(starts >= starts[-1] - round(
        (settings.baseline_s - settings.window_s - 2 * settings.max_lag_s) * settings.rate_hz)))
    base_starts = starts[-n_base:]
    t_real_base = timed(lambda: plain_windows(x, y, base_starts, settings), 1)
    t_surr_base = timed(lambda: plain_surrogate(x, y, base_starts, settings, rng), 2)
    plain_base = t_real_base + 200 * t_surr_base

    # 3: whole session.
    eng_session = timed(lambda: session_synchrony(beats, settings=settings), 3)
    out = session_synchrony(beats, settings=settings)
    t_real = timed(lambda: plain_windows(x, y, starts, settings), 1)
    t_surr = timed(lambda: plain_surrogate(x, y, starts, settings, rng), args.plain_surrogates)
    plain_session = t_real + args.surrogates * t_surr

    n_win = len(starts)
    print(f"## Synchrony cost: engine vs plain per-window recomputation "
          f"({args.minutes:.0f}-min coupled dyad, {n_win} windows, 41 lags)\n")
    print("| task | engine | plain numpy/scipy (pearsonr per lag per window) | ratio |")
    print("|---|---|---|---|")
    rows = [
        ("one live update (newest window)", eng_update, plain_update, "measured"),
        ("live update + chance baseline over trailing 5 min (200 surrogates), every 30 s",
         eng_base, plain_base, f"real measured, 200 surrogates = 200 × {t_surr_base:.2f} s"),
        (f"whole {args.minutes:.0f}-min session, {args.surrogates} surrogates",
         eng_session, plain_session,
         f"real {t_real:.1f} s measured, {args.surrogates} × {t_surr:.1f} s per surrogate"),
    ]
    for name, e, q, how in rows:
        print(f"| {name} | {fmt(e)} | {fmt(q)} ({how}) | {q / e:,.0f}× |")
    print(f"\nEngine: slowest steady-state baseline update {fmt(eng_base_max)}; the whole-session "
          f"figure includes every circular shift, the 1000-resample lag bootstrap and the "
          f"breathing band; the plain one only the slow band's windows and surrogates.")
    print(f"Plain version: {fmt(per_window)} per window (41 pearsonr calls).")
    print(f"Session result: {out['synchrony']}")
    return 0


def fmt(seconds: float) -> str:
    """Seconds in a readable unit."""
    if seconds < 1.0:
        return f"{1000 * seconds:.1f} ms"
    if seconds < 600.0:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.0f} min"


if __name__ == "__main__":
    sys.exit(main())
