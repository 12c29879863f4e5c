"""Benchmark of ``coreg study``: many simulated one-hour dyads on 1 and 2 local Dask workers.

Measures, on this machine:

* one 60-min dyad analysed in one task (HRV of both people, slow-band synchrony with its
  surrogates — circular shifts plus 1,000 segment shuffles and 1,000 bootstrap resamples —,
  with and without the breathing band): CPU seconds of one core, fastest of ``--repeats``;
* the whole study with 1 and 2 worker processes: wall time of each stage (recordings,
  pseudo-dyads, writing), the cost per dyad-hour (wall × workers / dyad-hours, in core-seconds),
  the peak memory (maximum resident set) of every worker and of the client process, and the
  pseudo-pair count;
* the client's own cost per session (turning one result into table rows and writing them).

Each study run gets a fresh ``LocalCluster`` (started outside the timed part, so that its
startup is reported separately) and is passed to ``run_study`` as an external scheduler, which
lets the benchmark read each worker's peak RSS afterwards.

Usage::

    nice -n 10 .venv/bin/python benchmarks/study.py --dyads 200 --data /tmp/study200
    .venv/bin/python benchmarks/study.py --dyads 20 --minutes 10 --workers 1   # quick

``--data`` keeps the simulated recordings between runs (they are written once); ``--json``
writes every figure to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _max_rss_mb() -> float:
    """Peak resident set of this process in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_data(folder: Path, dyads: int, minutes: float) -> list[Path]:
    """Half coupled, half independent simulated dyads (distinct seeds), written once."""
    from coreg.recording.simulated import write_simulation

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    t0 = time.perf_counter()
    for i in range(dyads):
        scenario = "coupled" if i % 2 == 0 else "independent"
        p = folder / f"{scenario}-{i:04d}.jsonl"
        if not p.exists():
            write_simulation(scenario, minutes * 60.0, 10_000 + i, p)
        paths.append(p)
    print(f"data: {dyads} simulated {minutes:g}-min dyads in {folder} "
          f"({time.perf_counter() - t0:.1f} s to make)", flush=True)
    return paths


def one_dyad(path: Path, repeats: int) -> dict[str, float]:
    """CPU seconds of one core for one recording task (with and without the breathing band)."""
    from threadpoolctl import threadpool_limits

    from coreg.study.session import analyze_recording
    from coreg.study.settings import StudySettings

    out = {}
    for label, breathing in (("with_breathing", True), ("slow_band_only", False)):
        st = StudySettings(breathing=breathing)
        analyze_recording(str(path), st)  # imports, caches
        best = float("inf")
        with threadpool_limits(limits=1, user_api="blas"):
            for _ in range(repeats):
                c0 = time.process_time()
                analyze_recording(str(path), st)
                best = min(best, time.process_time() - c0)
        out[label] = best
    return out


def client_cost(path: Path, repeats: int) -> float:
    """Seconds the client spends per session turning a result into rows and writing them."""
    from coreg.study import tables
    from coreg.study.run import _hrv_rows, _session_row, _window_columns
    from coreg.study.session import analyze_recording
    from coreg.study.settings import StudySettings

    res = analyze_recording(str(path), StudySettings()).result
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        writers = {n: tables.TableWriter(out, n) for n in ("hrv", "windows", "sessions")}
        for block in _window_columns(res):  # pyarrow's lazy imports, outside the timing
            writers["windows"].write_columns(block)
        writers["hrv"].write_many(_hrv_rows(res))
        writers["sessions"].write(_session_row(res))
        for w in writers.values():
            w.flush()
        t0 = time.perf_counter()
        for _ in range(repeats):
            writers["hrv"].write_many(_hrv_rows(res))
            for block in _window_columns(res):
                writers["windows"].write_columns(block)
            writers["sessions"].write(_session_row(res))
        for w in writers.values():
            w.flush()  # the row groups, not the files' closing (once per study)
        spent = time.perf_counter() - t0
        for w in writers.values():
            w.close()
        return spent / repeats


def study_run(data: Path, workers: int, out: Path, max_pseudo: int,
              dask_malloc_trim: bool = False) -> dict[str, Any]:
    """One study on a fresh local cluster of ``workers`` processes, set up as ``coreg study``
    sets up its own (``dask_malloc_trim``: keep dask's ``MALLOC_TRIM_THRESHOLD_`` instead)."""
    import dask
    from distributed import Client, LocalCluster

    from coreg.study.run import _worker_environ, run_study
    from coreg.study.settings import StudySettings

    stamps: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if done == total:
            stamps[stage] = time.perf_counter()

    t_c = time.perf_counter()
    environ = (dict(dask.config.get("distributed.nanny.pre-spawn-environ")) if dask_malloc_trim
               else _worker_environ())
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                      silence_logs=50) as cluster, Client(cluster) as client:
        client.wait_for_workers(workers)
        client.run(lambda: __import__("coreg.study.session"))  # imports outside the timing
        startup = time.perf_counter() - t_c
        t0 = time.perf_counter()
        res = run_study([str(data)], out, StudySettings(max_pseudo=max_pseudo),
                        scheduler=cluster.scheduler_address, progress=progress, force=True)
        wall = time.perf_counter() - t0
        rss = client.run(_max_rss_mb)
    manifest = json.loads((out / "study.json").read_text())
    rec_end = stamps.get("recordings", t0) - t0
    pseudo_end = stamps.get("pseudo-dyads", t0 + rec_end) - t0
    return {
        "workers": workers, "cluster_startup_s": startup, "wall_s": wall,
        "stage_recordings_s": rec_end, "stage_pseudo_s": pseudo_end - rec_end,
        "stage_write_s": wall - pseudo_end, "files": res.files, "dyads": res.dyads,
        "pseudo_dyads": manifest["counts"]["pseudo_dyads"],
        "pseudo_pairings_computed": manifest["counts"]["pseudo_pairings_computed"],
        "worker_peak_rss_mb": sorted(round(v, 1) for v in rss.values()),
        "client_peak_rss_mb": round(_max_rss_mb(), 1),
        "difference": res.control.difference, "p_value": res.control.p_value,
        "median_percentile": res.control.median_percentile,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dyads", type=int, default=200)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--max-pseudo", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--data", type=Path, help="folder for the simulated recordings (kept)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--malloc-ab", action="store_true",
                    help="only compare dask's MALLOC_TRIM_THRESHOLD_ on/off on --data, 1 worker")
    args = ap.parse_args()

    if args.malloc_ab:
        with tempfile.TemporaryDirectory() as tmp:
            for trim in (True, False, True, False):
                r = study_run(args.data, 1, Path(tmp) / "ab", args.max_pseudo, trim)
                print(f"dask malloc trim {'on ' if trim else 'off'}: wall {r['wall_s']:.1f} s "
                      f"(recordings {r['stage_recordings_s']:.1f} s, pseudo "
                      f"{r['stage_pseudo_s']:.1f} s), worker peak RSS "
                      f"{r['worker_peak_rss_mb']} MB", flush=True)
        return 0
    data = args.data or Path(tempfile.mkdtemp(prefix="coreg-study-bench-"))
    paths = make_data(data, args.dyads, args.minutes)
    figures: dict[str, Any] = {"dyads": args.dyads, "minutes": args.minutes,
                               "cpus": os.cpu_count(), "max_pseudo": args.max_pseudo}
    one = one_dyad(paths[0], args.repeats)
    figures["one_dyad_cpu_s"] = one
    print(f"one {args.minutes:g}-min dyad, one core (fastest of {args.repeats}): "
          f"{one['with_breathing']:.2f} s with the breathing band, "
          f"{one['slow_band_only']:.2f} s slow band only", flush=True)
    cc = client_cost(paths[0], 20)
    figures["client_s_per_session"] = cc
    print(f"client: {cc * 1000:.1f} ms per session to write its rows", flush=True)
    dyad_hours = args.dyads * args.minutes / 60.0
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.workers:
            r = study_run(data, n, Path(tmp) / f"w{n}", args.max_pseudo)
            r["core_s_per_dyad_hour"] = r["wall_s"] * n / dyad_hours
            r["wall_s_per_dyad_hour"] = r["wall_s"] / dyad_hours
            runs.append(r)
            print(f"{n} worker(s): wall {r['wall_s']:.1f} s (recordings "
                  f"{r['stage_recordings_s']:.1f} s, pseudo-dyads {r['stage_pseudo_s']:.1f} s, "
                  f"writing {r['stage_write_s']:.1f} s; cluster start {r['cluster_startup_s']:.1f}"
                  f" s not included) = {r['wall_s_per_dyad_hour']:.2f} s per dyad-hour, "
                  f"{r['core_s_per_dyad_hour']:.2f} core-s per dyad-hour; worker peak RSS "
                  f"{r['worker_peak_rss_mb']} MB, client {r['client_peak_rss_mb']} MB; "
                  f"{r['pseudo_dyads']} pseudo-dyads ({r['pseudo_pairings_computed']} distinct "
                  f"pairings); real − pseudo {r['difference']:+.3f}, p {r['p_value']:.4f}, "
                  f"median percentile {r['median_percentile']:.0f}", flush=True)
    figures["runs"] = runs
    if len(runs) >= 2:
        figures["speedup"] = runs[0]["wall_s"] / runs[-1]["wall_s"]
        print(f"speed-up {args.workers[0]} → {args.workers[-1]} workers: "
              f"{figures['speedup']:.2f}×")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
