"""Mutation fuzzing of coreg's readers: more mutations than CI runs, optionally every reader on
every mutant, plus a sample run as real subprocesses under hard resource limits.

Usage::

    nice -n 10 .venv/bin/python benchmarks/mutation_fuzz.py [--mutations 5000] [--seed 1]
        [--full] [--subprocess 50] [--base-seconds 90]

In-process runs call ``coreg.cli.main(argv)`` under SIGALRM (time) and RLIMIT_AS (memory);
see ``tests/recording/mutations.py`` for the mutators and the rules a run must keep (exit 0
or 2, exactly one stderr line on exit 2, no traceback, input unchanged). The subprocess sample
runs ``python -m coreg`` with ``ulimit -v`` and ``-t`` style limits (RLIMIT_AS 2 GiB, RLIMIT_CPU
60 s) and a 120 s wall-clock timeout. The counts go into docs/reliability.md.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "recording"))

import mutations  # noqa: E402


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (60, 60))


def subprocess_sample(bases: list[bytes], n: int, seed: int, work: Path) -> tuple[int, list[str]]:
    """Run every reader on ``n`` mutants as subprocesses under hard limits."""
    rng = random.Random(seed + 1_000_003)
    failures: list[str] = []
    runs = 0
    folder = work / "sub"
    folder.mkdir()
    out = work / "sub-out"
    out.mkdir()
    for i in range(n):
        names, data = mutations.mutate(rng, bases[i % len(bases)])
        mutant = folder / f"s{i:04d}.jsonl"
        mutant.write_bytes(data)
        before = hashlib.sha256(data).hexdigest()
        for argv in mutations.readers_for(i, mutant, out, full=True):
            runs += 1
            try:
                proc = subprocess.run([sys.executable, "-m", "coreg", *argv], capture_output=True,
                                      text=True, timeout=120, preexec_fn=_limits, check=False)
            except subprocess.TimeoutExpired:
                failures.append(f"sub #{i} ({names}): coreg {argv[0]} ran past 120 s")
                continue
            lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
            if proc.returncode not in (0, 2) or "Traceback" in proc.stderr or (
                    proc.returncode == 2 and len(lines) != 1):
                failures.append(f"sub #{i} ({names}): coreg {argv[0]} exit {proc.returncode}: "
                                f"{proc.stderr.strip()[-300:]}")
            if hashlib.sha256(mutant.read_bytes()).hexdigest() != before:
                failures.append(f"sub #{i}: coreg {argv[0]} modified its input")
            for p in out.iterdir():
                p.unlink()
    runs += 1
    proc = subprocess.run([sys.executable, "-m", "coreg", "sessions", "--recordings-dir",
                           str(folder), "--no-cache"], capture_output=True, text=True,
                          timeout=600, preexec_fn=_limits, check=False)
    if proc.returncode != 0:
        failures.append(f"sub sessions: exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return runs, failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutations", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--full", action="store_true", help="every reader on every mutant")
    ap.add_argument("--subprocess", type=int, default=50, metavar="N",
                    help="mutants also run as subprocesses under hard limits (default 50)")
    ap.add_argument("--base-seconds", type=float, default=90.0,
                    help="trim the base recordings to this length (default 90)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="coreg-fuzz-") as tmp:
        work = Path(tmp)
        bases = mutations.default_bases(ROOT, work, t_max_s=args.base_seconds)
        t0 = time.perf_counter()
        tally = mutations.fuzz(bases, args.mutations, args.seed, work / "in-process",
                               full=args.full, time_limit_s=60.0, extra_memory_bytes=1 << 30,
                               sessions_every=200)
        dt = time.perf_counter() - t0
        print(f"in-process (seed {args.seed}, {len(bases)} bases of {args.base_seconds:g} s, "
              f"{'every reader on every mutant' if args.full else 'costly readers in rotation'}"
              f"): {tally.summary()}; {dt:.0f} s")
        print("exit codes:", ", ".join(f"{k} {v}" for k, v in sorted(tally.exits.items())))
        for f in tally.failures[:50]:
            print("  FAIL", f)
        failed = len(tally.failures)
        if args.subprocess:
            t0 = time.perf_counter()
            runs, failures = subprocess_sample(bases, args.subprocess, args.seed, work)
            print(f"subprocess sample: {args.subprocess} mutants, {runs} runs under RLIMIT_AS "
                  f"2 GiB / RLIMIT_CPU 60 s: failed {len(failures)}; "
                  f"{time.perf_counter() - t0:.0f} s")
            for f in failures[:50]:
                print("  FAIL", f)
            failed += len(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
