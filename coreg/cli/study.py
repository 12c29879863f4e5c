"""``coreg study``: a whole study of recordings analysed on Dask, with pseudo-dyad controls."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers


def add_parser(sub: SubParsers) -> None:
    """Register ``coreg study``."""
    p = sub.add_parser(
        "study",
        help="analyse many recordings at once on Dask (HRV, synchrony, pseudo-dyads) "
             "into Parquet/CSV tables",
        description=(
            "Analyse every recording of the folders, glob patterns and files given: per "
            "session and role the HRV summary of 'coreg analyze', per session the synchrony "
            "against surrogates and its window series, and for every therapist-client dyad "
            "its pseudo-dyads (its client with other sessions' therapists and the reverse, "
            "aligned on session time) with a percentile per dyad and a permutation test for "
            "the study. Writes Parquet and CSV tables and a study.json manifest to OUT. Runs "
            "on a local Dask cluster (--workers) or an existing scheduler (--scheduler). "
            "Needs pip install 'coreg[study]'."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="DIR|GLOB|FILE",
                   help="folders (every *.jsonl below them), glob patterns or recordings")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output folder (created owner-only; must be new or empty)")
    p.add_argument("--force", action="store_true",
                   help="replace the study files of a non-empty OUT (other files are left)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="local worker processes (default: one per CPU)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="use this running Dask scheduler instead of a local cluster (its "
                        "workers must see the recordings under the same paths)")
    p.add_argument("--dashboard", metavar="HOST:PORT",
                   help="serve Dask's dashboard here while the study runs (default: none)")
    p.add_argument("--pair", choices=("across", "within-therapist"), default="across",
                   help="pseudo-dyad partners: any other dyad (default), or only other "
                        "sessions of the same therapist")
    p.add_argument("--max-pseudo", type=int, default=20, metavar="N",
                   help="most pseudo-dyads per real dyad, chosen deterministically "
                        "(default 20; 0: none)")
    p.add_argument("--min-overlap", type=float, default=0.5, metavar="F",
                   help="a pseudo-partner's session must last at least F times the dyad's "
                        "(default 0.5)")
    p.add_argument("--permutations", type=int, default=10_000, metavar="B",
                   help="permutations of the study-level test (default 10000)")
    p.add_argument("--no-correct", action="store_true",
                   help="no artifact correction, as coreg analyze --no-correct (intervals "
                        "outside 200–3000 ms are still gaps)")
    p.add_argument("--no-breathing", action="store_true",
                   help="skip the breathing-band synchrony (faster)")
    p.add_argument("--no-csv", action="store_true", help="Parquet tables only")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


class StudyProgress:
    """A progress bar per stage on stderr (one line redrawn on a terminal, else a few lines)."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.t0 = time.monotonic()
        self._lock = threading.Lock()
        self._last_pct: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        with self._lock:
            frac = done / total if total else 1.0
            pct = int(frac * 100)
            if not self.tty and pct // 10 == self._last_pct.get(stage, -1) // 10 \
                    and done not in (0, total):
                return
            self._last_pct[stage] = pct
            width = 28
            line = (f"[{'#' * round(frac * width):<{width}}] {pct:3d}%  {stage} {done}/{total}"
                    f"  {time.monotonic() - self.t0:.0f} s")
            if self.tty:
                self.stream.write("\r\x1b[2K" + line[:100] + ("\n" if done >= total else ""))
            else:
                self.stream.write(line + "\n")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    """Run the study; progress on stderr; a short summary on stdout."""
    from coreg.study import deps

    deps.require()
    from coreg.study.run import run_study
    from coreg.study.settings import StudySettings

    settings = StudySettings(pair=args.pair, max_pseudo=args.max_pseudo,
                             min_overlap_frac=args.min_overlap,
                             n_permutations=args.permutations, correct=not args.no_correct,
                             breathing=not args.no_breathing)
    bar = StudyProgress(enabled=not args.quiet)
    res = run_study(args.inputs, args.output, settings, workers=args.workers,
                    scheduler=args.scheduler, dashboard=args.dashboard, force=args.force,
                    csv=not args.no_csv, progress=bar, command=sys.argv)
    c = res.control
    print(f"{res.out}: {res.files} files, {res.ok} analysed, {res.damaged} damaged or empty, "
          f"{res.duplicates} duplicates, {res.dyads} dyads, {res.pseudo_pairs} pseudo pairings "
          f"({res.wall_s:.1f} s on {res.workers} worker{'s' if res.workers != 1 else ''})")
    if c.dyads:
        print(f"real vs pseudo-dyads: mean peak r {c.real_mean:.3f} vs {c.pseudo_mean:.3f} "
              f"(difference {c.difference:+.3f}, permutation p {c.p_value:.4f}, "
              f"{c.dyads} dyads); median percentile {c.median_percentile:.0f}, "
              f"{c.share_above_95_pct:.0f} % of dyads above the 95th")
    else:
        print("no pseudo-dyads (fewer than two dyads, or no eligible partners)")
    return 0
