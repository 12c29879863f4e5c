"""Validate the synchrony engine on simulated dyads (issue 4) and print a markdown table.

Run: ``.venv/bin/python benchmarks/sync_validation.py [--seeds 100] [--switch-seeds 30]``.

Static conditions (10-minute dyads, true beats from :mod:`devices.sim`, defaults of
docs/science.md §5, 1000 segment-shuffling surrogates, every admissible circular shift):
independent and paced must be significant in ≤ 5 % at α = 0.05, coupled (c = 0.7, therapist
leads 3 s) in ≥ 90 % with median |lag error| ≤ 1 s and the right leader in ≥ 90 %; weak
(c = 0.4) is reported as it comes out. Switching (coupling on 120–300 s, 480–660 s, 840–1020 s of
a 20-minute session): the live measure, fed beat snapshots every 5 s, must rise within 60 s of
each onset and fall within 60 s of each end.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from numpy.typing import NDArray

from coreg.engine.beats import BeatSeries
from coreg.engine.synchrony import LiveSynchrony, SyncSettings, session_synchrony
from devices.sim import simulate

TRUE_LAG_S = 3.0
ALPHA = 0.05


def true_beats(scenario: str, duration_s: float, seed: int) -> dict[str, BeatSeries]:
    """Role → the simulated true beats of one run."""
    run = simulate(scenario, duration_s, seed)
    return {r: BeatSeries(run.beats[r].t_s, run.beats[r].rr_ms,
                          np.ones(len(run.beats[r]), dtype=bool)) for r in run.roles}


def static_condition(scenario: str, seeds: range, settings: SyncSettings) -> dict[str, float]:
    """Run one condition over seeds; return the table row's numbers."""
    sig, seg_sig, br_sig, leader_ok, lag_err, r, chance, es = [], [], [], [], [], [], [], []
    for seed in seeds:
        out = session_synchrony(true_beats(scenario, 600.0, seed), settings=settings)
        s, d, b = out["synchrony"], out["synchrony_details"], out["breathing_synchrony"]
        sig.append(s["significant"])
        seg_p = d["segment_shuffle"]["p_value"]
        seg_sig.append(seg_p is not None and seg_p < ALPHA)
        br_sig.append(b["significant"])
        leader_ok.append(s["leader"] == "therapist")
        lag_err.append(abs(d["lag_s_first_role_leads"] - TRUE_LAG_S))
        r.append(s["mean_peak_r"])
        chance.append(d["chance_mean_peak_r"])
        es.append(s["effect_size"])
    return {
        "n": len(sig), "sig": 100 * np.mean(sig), "seg_sig": 100 * np.mean(seg_sig),
        "br_sig": 100 * np.mean(br_sig), "leader": 100 * np.mean(leader_ok),
        "lag_err": float(np.median(lag_err)), "r": float(np.mean(r)),
        "chance": float(np.mean(chance)), "es": float(np.median(es)),
    }


def live_trace(seed: int, settings: SyncSettings, duration_s: float = 1200.0
               ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_],
                          list[list[float]], float]:
    """Feed a switching run to :class:`LiveSynchrony` every 5 s; return times, effect, flag."""
    run = simulate("switching", duration_s, seed)
    full = {r: BeatSeries(run.beats[r].t_s, run.beats[r].rr_ms,
                          np.ones(len(run.beats[r]), dtype=bool)) for r in run.roles}
    live = LiveSynchrony(settings=settings)
    ts, eff, above = [], [], []
    worst = 0.0
    for now in np.arange(5.0, duration_s + 1e-9, 5.0):
        snap = {}
        for role, b in full.items():
            n = int(np.searchsorted(b.t_s, now, side="right"))
            snap[role] = BeatSeries(b.t_s[:n], b.rr_ms[:n], b.valid[:n])
        t0 = time.perf_counter()
        s = live.update(snap, float(now))
        worst = max(worst, time.perf_counter() - t0)
        assert s is not None
        ts.append(now)
        eff.append(s.effect_size)
        above.append(s.above_chance)
    return (np.asarray(ts), np.asarray(eff), np.asarray(above), run.truth["coupling_intervals"],
            worst)


def switching(seeds: range, settings: SyncSettings) -> dict[str, float]:
    """Per-transition and seed-averaged latencies of the live measure."""
    rel = np.arange(-60.0, 181.0, 5.0)
    on_tr, off_tr = [], []
    rise_ok, fall_ok, in_on, in_off = [], [], [], []
    worst = 0.0
    for seed in seeds:
        ts, eff, above, iv, w = live_trace(seed, settings)
        worst = max(worst, w)
        on_mask = np.zeros(len(ts), dtype=bool)
        off_mask = ts >= 60.0
        for on, off in iv:
            on_mask |= (ts >= on + 60.0) & (ts < off)
            off_mask &= ~((ts >= on) & (ts < off + 60.0))
            m = (ts > on) & (ts <= on + 60.0)
            rise_ok.append(bool(above[m].any()))
            on_tr.append(np.interp(on + rel, ts, eff))
            if off + 60.0 <= ts[-1] and off < ts[-1] - 60.0:
                m2 = (ts > off) & (ts <= off + 60.0)
                fall_ok.append(bool((~above[m2]).any()) and not above[m2][-1])
                off_tr.append(np.interp(off + rel, ts, eff))
        in_on.append(np.mean(above[on_mask]))
        in_off.append(np.mean(above[off_mask]))
    on_mean = np.nanmean(on_tr, axis=0)
    off_mean = np.nanmean(off_tr, axis=0)

    def crossing(trace: NDArray[np.float64], rising: bool) -> float:
        before = float(np.mean(trace[rel < 0]))
        after = float(np.mean(trace[(rel >= 90.0) & (rel <= 150.0)]))
        half = 0.5 * (before + after)
        idx = np.flatnonzero((rel >= 0) & ((trace >= half) if rising else (trace <= half)))
        return float(rel[idx[0]]) if idx.size else float("nan")

    return {
        "n": len(seeds), "transitions_on": len(rise_ok), "transitions_off": len(fall_ok),
        "rise_pct": 100 * np.mean(rise_ok), "fall_pct": 100 * np.mean(fall_ok),
        "rise_s": crossing(on_mean, True), "fall_s": crossing(off_mean, False),
        "above_on": 100 * float(np.mean(in_on)), "above_off": 100 * float(np.mean(in_off)),
        "eff_before": float(np.mean(on_mean[rel < 0])),
        "eff_on": float(np.mean(on_mean[(rel >= 90.0) & (rel <= 150.0)])),
        "worst_update_ms": 1000 * worst,
        "trace": {"rel_s": rel.tolist(), "onset": on_mean.round(2).tolist(),
                  "end": off_mean.round(2).tolist()},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=100, help="seeds per static condition (≥ 30)")
    p.add_argument("--switch-seeds", type=int, default=30, help="seeds of the switching scenario")
    args = p.parse_args(argv)
    settings = SyncSettings()
    t0 = time.perf_counter()
    rows = {sc: static_condition(sc, range(args.seeds), settings)
            for sc in ("independent", "paced", "coupled", "weak")}
    sw = switching(range(args.switch_seeds), settings)
    elapsed = time.perf_counter() - t0

    print(f"## Synchrony validation: simulated 10-min dyads, seeds 0-{args.seeds - 1}, "
          f"alpha = {ALPHA}\n")
    print("Settings: 30 s windows, 5 s step, ±5 s lags, 4 Hz, low-pass 0.15 Hz; test = mean peak "
          "r vs every admissible circular shift; segment shuffling (SUSY, 30 s, 1000 surrogates) "
          "reported alongside.\n")
    print("| condition | seeds | mean peak r | chance r (surrogates) | median effect size | "
          "significant % | segment-shuffle significant % | leader = therapist % | "
          "median abs lag error (s) | breathing-band significant % |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for sc, x in rows.items():
        lead = f"{x['leader']:.0f}" if sc in ("coupled", "weak") else f"({x['leader']:.0f})"
        lag = f"{x['lag_err']:.2f}" if sc in ("coupled", "weak") else "-"
        print(f"| {sc} | {x['n']} | {x['r']:.3f} | {x['chance']:.3f} | {x['es']:.2f} | "
              f"{x['sig']:.0f} | {x['seg_sig']:.0f} | {lead} | {lag} | {x['br_sig']:.0f} |")
    print("\n(leader % in parentheses: no true leader, any named leader is a false one.)\n")
    print(f"## Switching (20-min runs, seeds 0-{sw['n'] - 1}, live updates every 5 s)\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| onsets where the live value goes above chance (95th pct) within 60 s | "
          f"{sw['rise_pct']:.0f}% of {sw['transitions_on']} |")
    print(f"| ends where it is back at/below chance within 60 s and at +60 s | "
          f"{sw['fall_pct']:.0f}% of {sw['transitions_off']} |")
    print(f"| seed-averaged live effect size: before onset -> coupled plateau | "
          f"{sw['eff_before']:.2f} -> {sw['eff_on']:.2f} |")
    print(f"| seed-averaged rise: half-way point after onset | {sw['rise_s']:.0f} s |")
    print(f"| seed-averaged fall: half-way point after end | {sw['fall_s']:.0f} s |")
    print(f"| time above chance while coupled (from onset+60 s) | {sw['above_on']:.0f}% |")
    print(f"| time above chance while uncoupled (from end+60 s) | {sw['above_off']:.0f}% |")
    print(f"| slowest live update (incl. baseline recomputation) | "
          f"{sw['worst_update_ms']:.1f} ms |")
    print("\nSeed-averaged live effect size around onsets / ends (s: value):")
    tr = sw["trace"]
    print("onset: " + ", ".join(f"{t:+.0f}:{v}" for t, v in zip(tr["rel_s"], tr["onset"],
                                                               strict=True) if t % 10 == 0))
    print("end:   " + ", ".join(f"{t:+.0f}:{v}" for t, v in zip(tr["rel_s"], tr["end"],
                                                               strict=True) if t % 10 == 0))

    checks = {
        "independent significant <= 5%": rows["independent"]["sig"] <= 5.0,
        "paced significant <= 5%": rows["paced"]["sig"] <= 5.0,
        "coupled significant >= 90%": rows["coupled"]["sig"] >= 90.0,
        "coupled median |lag error| <= 1 s": rows["coupled"]["lag_err"] <= 1.0,
        "coupled leader right >= 90%": rows["coupled"]["leader"] >= 90.0,
        "switching: averaged live value rises within 60 s": sw["rise_s"] <= 60.0,
        "switching: averaged live value falls within 60 s": sw["fall_s"] <= 60.0,
    }
    print("\n## Checks\n")
    for name, ok in checks.items():
        print(f"- {'PASS' if ok else 'FAIL'}: {name}")
    print(f"\n({elapsed:.0f} s)")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
