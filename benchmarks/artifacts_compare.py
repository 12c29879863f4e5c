"""Artifact detection and correction side by side: coreg, neurokit2 (Kubios method), systole.

Artifacts (ectopic, missed, extra, long, short; 3 % of beats at known, spaced positions) are
injected into real RR series — MIT-BIH record 100 (normal-to-normal intervals from the reference
annotations) and pyhrv's 60-min NN series — with several seeds; every method sees the same
injections. Per method: event sensitivity (overall and per kind), beat specificity (flags more
than one beat away from any injection; see tests/engine/artifact_injection.py) and the RMSSD
error after its own correction relative to the clean series. The real ectopic beats of MIT-BIH
100 (34 beats, 68 intervals) are scored as well. The "flags on clean" column shows how many
beats of the unmodified series each method already flags before any injection (real irregular
beats, or the method's own false positives). "spec (handled)" scores every method on the same
ground truth with those native beats set aside: beats whose original any method flags in the
unmodified series are excluded from the specificity count for all methods alike (their number
is printed).

Usage: ``.venv/bin/python benchmarks/artifacts_compare.py [--seeds N] [--floor F]`` (from the
repo root; ``--floor`` sets coreg's threshold floor, default
:data:`coreg.engine.artifacts.FLOOR_FRACTION`, 0 = the paper exactly).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
# The injection harness lives with the tests that use it (it is not part of the app).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "engine"))
from artifact_injection import INJECTION_KINDS, inject_artifacts, score_detection  # noqa: E402

#: coreg's threshold floor for this run (None: the library default).
FLOOR: float | None = None


def _floor() -> dict[str, float]:
    return {} if FLOOR is None else {"floor_frac": FLOOR}


def mitdb100() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(all RR, NN-only RR, mask of RR involving an ectopic beat) of MIT-BIH 100."""
    import wfdb

    ann = wfdb.rdann(str(DATA / "100"), "atr")
    sym = np.asarray(ann.symbol)
    keep = np.isin(sym, list("NLRBAaJSVrFejnE/fQ?"))
    peaks = np.asarray(ann.sample)[keep] / float(ann.fs)
    sym = sym[keep]
    rr = np.diff(peaks) * 1000.0
    nn_ok = (sym[1:] == "N") & (sym[:-1] == "N")
    return rr, rr[nn_ok], ~nn_ok


def flags_coreg(rr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from coreg.engine import artifacts as A

    labels = A.detect(rr, **_floor())
    _, rr_c, _ = A.correct_run(np.cumsum(rr) / 1000.0, rr, labels)
    return labels != 0, rr_c


def flags_coreg_live(rr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from coreg.engine import artifacts as A

    det = A.LiveArtifactDetector(**_floor())
    final: dict[int, int] = {}
    for value in rr:
        final.update(det.push(float(value)))
    labels = np.array([final[k] if k in final else det.label(k) for k in range(len(rr))],
                      dtype=np.int8)
    _, rr_c, _ = A.correct_run(np.cumsum(rr) / 1000.0, rr, labels)
    return labels != 0, rr_c


def flags_neurokit(rr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import neurokit2 as nk

    # Peaks at 1 kHz with a first peak at 0: RR k ends at peak k + 1.
    peaks = np.concatenate([[0], np.cumsum(np.round(rr).astype(np.int64))])
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        info, _ = nk.signal_fixpeaks(peaks, sampling_rate=1000, method="Kubios",
                                     iterative=False, show=False)
        _, fixed = nk.signal_fixpeaks(peaks, sampling_rate=1000, method="Kubios",
                                      iterative=True, show=False)
    flags = np.zeros(len(rr), dtype=bool)
    for key in ("ectopic", "missed", "extra", "longshort"):
        idx = np.asarray(info[key], dtype=np.int64) - 1
        flags[idx[(idx >= 0) & (idx < len(rr))]] = True
    return flags, np.diff(np.asarray(fixed, dtype=np.float64))


def flags_systole(rr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from systole.correction import correct_rr
    from systole.detection import rr_artefacts

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        art = rr_artefacts(rr)
        rr_c, _ = correct_rr(rr, verbose=False)
    flags = np.zeros(len(rr), dtype=bool)
    for key in ("ectopic", "missed", "extra", "long", "short"):
        flags |= np.asarray(art[key], dtype=bool)
    return flags, np.asarray(rr_c, dtype=np.float64)


METHODS = {
    "coreg (offline)": flags_coreg,
    "coreg (live)": flags_coreg_live,
    "neurokit2 Kubios": flags_neurokit,
    "systole": flags_systole,
}


def rmssd(rr: np.ndarray) -> float:
    d = np.diff(rr)
    return float(np.sqrt(np.mean(d * d)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--fraction", type=float, default=0.03)
    parser.add_argument("--floor", type=float, default=None,
                        help="coreg's threshold floor (fraction of the local median RR)")
    args = parser.parse_args()
    global FLOOR
    FLOOR = args.floor


    rr_all, mit_nn, ectopic_rr = mitdb100()
    bases = {
        "MIT-BIH 100 NN": mit_nn,
        "pyhrv 60-min NN": np.load(DATA / "SampleNNISeriesLong.npy").astype(np.float64),
    }
    print(f"injected: {args.fraction:.0%} of beats, kinds {', '.join(INJECTION_KINDS)}, "
          f"{args.seeds} seeds per series; same injections for every method\n")
    for base_name, clean in bases.items():
        ref_rmssd = rmssd(clean)
        base = {name: f(clean)[0] for name, f in METHODS.items()}
        base_flags = {name: int(np.count_nonzero(b)) for name, b in base.items()}
        native = np.logical_or.reduce(list(base.values()))
        per_kind: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        tot: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
        errs: dict[str, list[float]] = defaultdict(list)
        for seed in range(args.seeds):
            inj = inject_artifacts(clean, np.random.default_rng(seed), fraction=args.fraction)
            for name, fn in METHODS.items():
                flags, rr_c = fn(inj.rr_ms)
                sc = score_detection(flags, inj)
                t = tot[name]
                t[0] += sc.detected
                t[1] += sc.events
                t[2] += sc.false_positives
                t[3] += sc.clean_beats
                # Same ground truth for all: beats whose clean original any method flags are
                # native irregular beats, set aside.
                near = np.zeros(len(flags), dtype=bool)
                for positions in inj.truth:
                    for q in positions:
                        near[max(0, q - 1): q + 2] = True
                scored = ~near & ~native[inj.source]
                t[4] += int(np.count_nonzero(flags & scored))
                t[5] += int(np.count_nonzero(scored))
                for kind, positions in zip(inj.kinds, inj.truth, strict=True):
                    per_kind[name][kind][0] += int(np.any(flags[positions]))
                    per_kind[name][kind][1] += 1
                errs[name].append(abs(rmssd(rr_c) / ref_rmssd - 1.0) * 100.0)
        print(f"== {base_name}: {len(clean)} beats, clean RMSSD {ref_rmssd:.2f} ms; "
              f"{int(np.count_nonzero(native))} native beats flagged by any method ==")
        kinds = list(INJECTION_KINDS)
        header = (f"{'method':<18}{'sens':>7}{'spec':>8}  "
                  + "".join(f"{k:>9}" for k in kinds)
                  + f"{'RMSSD err % (mean/max)':>24}{'flags on clean':>16}{'spec (handled)':>16}")
        print(header)
        for name in METHODS:
            d, e, fp, cb, fp_new, cb_new = tot[name]
            row = f"{name:<18}{100 * d / e:>6.1f}%{100 * (1 - fp / cb):>7.2f}%  "
            row += "".join(
                f"{100 * per_kind[name][k][0] / max(per_kind[name][k][1], 1):>8.1f}%"
                for k in kinds
            )
            row += f"{np.mean(errs[name]):>15.2f} / {np.max(errs[name]):<6.2f}"
            row += f"{base_flags[name]:>14d}{100 * (1 - fp_new / cb_new):>15.2f}%"
            print(row)
        print()
    print("== MIT-BIH 100 real ectopic beats (all RR, 68 intervals touch an ectopic beat) ==")
    for name, fn in METHODS.items():
        flags, _ = fn(rr_all)
        sens = np.count_nonzero(flags & ectopic_rr) / np.count_nonzero(ectopic_rr)
        spec = 1 - np.count_nonzero(flags & ~ectopic_rr) / np.count_nonzero(~ectopic_rr)
        print(f"{name:<18} intervals flagged {100 * sens:6.1f}%   specificity {100 * spec:6.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
