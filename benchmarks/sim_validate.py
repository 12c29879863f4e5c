"""Validate and time the strap simulator over many seeds; prints the tables of docs/validation.md.

Run: ``.venv/bin/python benchmarks/sim_validate.py [--seeds 10]`` (about a minute on 2 cores).

It measures, per seed: mean-HR error, HR spectrum peaks (4 Hz, Welch), RSA peak-to-trough at
15/min vs paced 6/min, RMSSD, the open coherence ratio of docs/science.md §4 at spontaneous
15/min vs paced 6/min, the lag and height of the window-averaged slow-HR cross-correlation for
each dyad scenario, and the wall time of ``simulate("coupled", 3600, 1)`` plus iterating its
messages.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "devices"))

from test_sim_physiology import (
    coherence_ratio,
    hr_spectrum,
    peak_hz,
    rmssd_ms,
    rsa_peak_to_trough_bpm,
)
from test_sim_scenarios import mean_window_xcorr, slow_hr

from devices.sim import draw_person, simulate, simulate_people


def person_table(seeds: list[int], duration_s: float) -> None:
    print(f"\n## One person, {duration_s:.0f} s, {len(seeds)} seeds (drawn people)")
    print("seed | HR set | HR err | br/min | HF peak err Hz | LF peak Hz | RMSSD | "
          "RSA 15/min | RSA 6/min | coh 15/min | coh 6/min")
    rows = []
    for seed in seeds:
        base = draw_person(seed, "client")
        own = simulate_people({"client": base}, duration_s, seed)
        b = own.beats["client"]
        f, p = hr_spectrum(b)
        hr_err = 60000.0 / b.rr_ms.mean() - base.mean_hr_bpm
        hf_err = peak_hz(f, p, 0.13, 0.4) - base.breathing_rate_bpm / 60.0
        lf_pk = peak_hz(f, p, 0.04, 0.125)
        fast = simulate_people({"client": dataclasses.replace(base, breathing_rate_bpm=15.0)},
                               duration_s, seed)
        slow = simulate_people({"client": dataclasses.replace(base, pacer=((0.0, 6.0),))},
                               duration_s, seed)
        row = (hr_err, hf_err, lf_pk, rmssd_ms(b), rsa_peak_to_trough_bpm(fast, "client"),
               rsa_peak_to_trough_bpm(slow, "client"), coherence_ratio(fast.beats["client"]),
               coherence_ratio(slow.beats["client"]))
        rows.append(row)
        print(f"{seed} | {base.mean_hr_bpm:.1f} | {row[0]:+.2f} | {base.breathing_rate_bpm:.1f} | "
              f"{row[1]:+.4f} | {row[2]:.3f} | {row[3]:.1f} | {row[4]:.1f} | {row[5]:.1f} | "
              f"{row[6]:.2f} | {row[7]:.2f}")
    a = np.array(rows)
    print(f"mean | | {np.mean(np.abs(a[:, 0])):.2f} (|err|) | | {np.mean(np.abs(a[:, 1])):.4f} "
          f"(|err|) | {a[:, 2].mean():.3f} | {a[:, 3].mean():.1f} | {a[:, 4].mean():.1f} | "
          f"{a[:, 5].mean():.1f} | {a[:, 6].mean():.2f} | {a[:, 7].mean():.2f}")


def mean_window_peak_r(run, fs_hz: float = 4.0) -> float:
    """Mean over 30 s windows (5 s step) of the local correlation peak closest to lag 0 within
    ±5 s (docs/science.md §5, Boker et al. 2002), on 0.15 Hz low-passed HR."""
    grid = np.arange(10.0, run.duration_s - 10.0, 1.0 / fs_hz)
    x, y = slow_hr(run, "therapist", grid), slow_hr(run, "client", grid)
    win, step, max_lag = int(30 * fs_hz), int(5 * fs_hz), int(5 * fs_hz)
    lags = np.arange(-max_lag, max_lag + 1)
    out = []
    for s in range(max_lag, len(x) - win - max_lag, step):
        r = np.array([np.corrcoef(x[s:s + win], y[s + k:s + k + win])[0, 1] for k in lags])
        interior = [i for i in range(1, len(r) - 1) if r[i] >= r[i - 1] and r[i] >= r[i + 1]]
        best = min(interior, key=lambda i: abs(lags[i])) if interior else int(np.argmax(r))
        out.append(r[best])
    return float(np.mean(out))


def dyad_table(seeds: list[int], duration_s: float) -> None:
    print(f"\n## Dyads, {duration_s:.0f} s, slow-HR xcorr (0.15 Hz low-pass; 30 s / 5 s / ±5 s)")
    print("scenario | lag of the window-averaged curve's peak s (mean ± sd) | its peak r | "
          "its r at lag 0 | mean per-window peak r nearest lag 0")
    for name in ("coupled", "weak", "independent", "paced"):
        lags, peaks, zero, local = [], [], [], []
        for seed in seeds:
            run = simulate(name, duration_s, seed)
            lag_s, r = mean_window_xcorr(run)
            lags.append(lag_s[np.argmax(r)])
            peaks.append(r.max())
            zero.append(r[np.argmin(np.abs(lag_s))])
            local.append(mean_window_peak_r(run))
        print(f"{name} | {np.mean(lags):+.2f} ± {np.std(lags):.2f} | {np.mean(peaks):.2f} | "
              f"{np.mean(zero):.2f} | {np.mean(local):.2f}")


def speed() -> None:
    print("\n## Speed")
    for _ in range(3):
        t0 = time.perf_counter()
        run = simulate("coupled", 3600.0, 1)
        t1 = time.perf_counter()
        n = sum(1 for _ in run.messages())
        t2 = time.perf_counter()
        print(f"simulate('coupled', 3600, 1): {t1 - t0:.3f} s, iterate {n} messages: "
              f"{t2 - t1:.3f} s, total {t2 - t0:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    seeds = list(range(1, args.seeds + 1))
    speed()
    person_table(seeds, 600.0)
    dyad_table(seeds, 1200.0)


if __name__ == "__main__":
    main()
