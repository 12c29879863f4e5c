"""Running a study on Dask: one task per recording, one per client's pseudo-dyads.

The client (this process) finds the files, submits the tasks and writes the tables; it never
reads a recording and never holds a study's series: each recording is read by the worker that
analyses it (:func:`coreg.study.session.analyze_recording`), its window series are fetched one
session at a time in path order and written straight to the tables, and the people's prepared
signals stay in the workers' memory until the pseudo-dyad tasks
(:func:`coreg.study.pseudo.client_batch`) that need them have run. What the client keeps is
small: one row per session and one number per pseudo-dyad.

Results are identical whatever the number of workers: every random draw is seeded from file
hashes (:mod:`coreg.study.settings`), every table is written in a fixed order, and no task's
numbers depend on where or when it ran (BLAS threads are 1 per worker: dask's nanny sets
``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS`` to 1).

By default a ``distributed.LocalCluster`` is started on 127.0.0.1 (``workers`` processes, one
thread each, no dashboard, scratch space in a private temporary folder) and stopped at the end,
so no listener outlives the command; with ``scheduler`` an existing cluster is used (its workers
must reach the recordings under the same paths).

Why one module of this size: submitting, collecting and writing share one piece of
scheduling state (which session's series may be fetched next, in path order); split, that
state would have to cross module boundaries.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import logging
import math
import os
import platform
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from distributed import Client, Future

from coreg import __version__
from coreg.errors import InputError
from coreg.study import deps, pseudo, tables
from coreg.study.session import (
    DAMAGED,
    DUPLICATE,
    OK,
    RecordingOutput,
    SessionResult,
    analyze_recording,
)
from coreg.study.settings import StudySettings, study_seed

logger = logging.getLogger(__name__)

#: progress(stage, done, total): stage is ``"recordings"`` or ``"pseudo-dyads"``.
Progress = Callable[[str, int, int], None]

_GLOB_CHARS = frozenset("*?[")


def _noop(_stage: str, _done: int, _total: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class StudyRun:
    """What :func:`run_study` did.

    Attributes
    ----------
    out
        The output folder.
    files, ok, damaged, duplicates, dyads
        Input files, analysed ones, damaged or empty ones, copies of another input (same
        SHA-256, analysed once), real dyads.
    pseudo_pairs
        Distinct (client, therapist) pairings computed.
    control
        The study-level real-vs-pseudo comparison.
    wall_s
        Wall time of the run.
    workers
        Workers the scheduler had when the run started.
    """

    out: Path
    files: int
    ok: int
    damaged: int
    duplicates: int
    dyads: int
    pseudo_pairs: int
    control: pseudo.StudyControl
    wall_s: float
    workers: int


def find_recordings(inputs: Sequence[str]) -> list[Path]:
    """The recordings named by folders (every ``*.jsonl`` below, hidden ones skipped), glob
    patterns and file names, without repeats, sorted by absolute path.

    Raises
    ------
    InputError
        An input that does not exist or matches nothing (a typo must not silently shrink a
        study).
    """
    found: dict[str, Path] = {}
    for text in inputs:
        p = Path(text).expanduser()
        if p.is_dir():
            matches = [m for m in p.rglob("*.jsonl")
                       if not any(part.startswith(".") for part in m.relative_to(p).parts)]
            if not matches:
                raise InputError(f"{text}: no recordings (*.jsonl) in this folder")
        elif _GLOB_CHARS & set(text):
            matches = [Path(m) for m in glob.glob(os.path.expanduser(text), recursive=True)]
            if not matches:
                raise InputError(f"{text}: matches no file")
        elif p.exists() or p.is_symlink():
            matches = [p]
        else:
            raise InputError(f"{text}: no such file or folder")
        for m in matches:
            a = Path(os.path.abspath(m))
            found.setdefault(str(a), a)
    return [found[k] for k in sorted(found)]


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None,
                dashboard: str | None = None) -> Iterator[Client]:
    """A ``distributed.Client`` on a fresh local cluster, or on ``scheduler``; closed after.

    Parameters
    ----------
    workers
        Local worker processes (default: the number of CPUs).
    scheduler
        ``tcp://HOST:PORT`` of a running scheduler (``workers`` is then ignored).
    dashboard
        Serve dask's dashboard at this address (``127.0.0.1:8787``); default none.
    """
    deps.require()
    import dask
    from distributed import Client, LocalCluster

    quiet = _quiet_dask_logs()
    if scheduler:
        try:
            client = Client(scheduler, timeout="5s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from exc
        try:
            yield client
        finally:
            client.close()
            quiet.close()
        return
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n < 1:
        raise InputError("--workers must be at least 1")
    scratch = tempfile.mkdtemp(prefix="coreg-study-")  # mode 0700: spilled data is health data
    try:
        extra: dict[str, object] = {}
        if dashboard is None:
            # no dashboard; dask's small HTTP status server still starts, so keep it on a free
            # loopback port instead of 8787
            extra["scheduler_kwargs"] = {"dashboard_address": "127.0.0.1:0"}
        with dask.config.set({"distributed.nanny.pre-spawn-environ": _worker_environ()}), \
                _sigint_ignored_by_children():
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=dashboard,
                                   local_directory=scratch, silence_logs=logging.CRITICAL,
                                   **extra)
        with cluster, Client(cluster, set_as_default=False) as client:
            yield client
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        quiet.close()


@contextlib.contextmanager
def _sigint_ignored_by_children() -> Iterator[None]:
    """Start worker processes with Ctrl+C ignored: only this process handles it.

    Ctrl+C reaches the whole process group. Workers started while SIGINT is ignored keep it
    ignored (a new Python does not install its handler over an ignored signal), so they do not
    each print a KeyboardInterrupt traceback; this process catches it and closes the cluster.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _worker_environ() -> dict[str, object]:
    """The environment dask's nanny gives a new local worker, without its malloc trim setting.

    dask sets ``MALLOC_TRIM_THRESHOLD_=65536`` so that workers hand freed memory back to the
    system at once. An analysis allocates and frees arrays of several MB hundreds of times;
    with that setting each allocation faults fresh pages in again: a one-hour dyad took 2.2 s
    of CPU instead of 1.5 s (same machine, same process otherwise). glibc's default (a trim
    threshold that adapts to the program) is kept instead; one BLAS/OpenMP thread stays.
    """
    import dask

    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    return env


class _quiet_dask_logs:
    """Keep dask's INFO chatter (and its shutdown heartbeat noise) out of coreg's stderr."""

    NAMES = ("distributed", "bokeh", "tornado")

    def __init__(self) -> None:
        self.levels = {n: logging.getLogger(n).level for n in self.NAMES}
        verbose = logging.getLogger().getEffectiveLevel() <= logging.DEBUG
        for n in self.NAMES:
            logging.getLogger(n).setLevel(logging.INFO if verbose else logging.CRITICAL)

    def close(self) -> None:
        for n, level in self.levels.items():
            logging.getLogger(n).setLevel(level)


# --------------------------------------------------------------------------- worker-side helpers


def _result_of(out: RecordingOutput) -> SessionResult:
    return out.result


def _signal_of(out: RecordingOutput, role: str) -> pseudo.PersonSignal | None:
    return out.signals.get(role) if out.signals else None


# --------------------------------------------------------------------------- rows


def _session_row(res: SessionResult, duplicate_of: str | None = None) -> dict[str, object]:
    row: dict[str, object] = {
        "session_id": res.session_id or None, "file": res.path, "sha256": res.sha256 or None,
        "size_bytes": res.size_bytes, "status": DUPLICATE if duplicate_of else res.status,
        "problem": res.problem, "duplicate_of": duplicate_of, "mode": res.mode or None,
        "created": res.created or None, "duration_s": res.duration_s,
        "roles": ",".join(res.roles) or None, "complete": res.complete,
        "reader_notes": res.reader_notes or None, "simulated": res.simulated,
        "scenario": res.scenario, "sim_coupling": res.sim_coupling,
        "therapist_id": res.therapist.person_id or None,
        "therapist_id_source": res.therapist.source,
        "client_id": res.client.person_id or None, "client_id_source": res.client.source,
        "seed": res.seed if res.sha256 else None,
    }
    s = res.sync
    if s is not None and not duplicate_of:
        row.update({"sync_first_role": s.roles[0], "sync_second_role": s.roles[1]})
        for f in dataclasses.fields(s):
            if f.name == "roles":
                continue
            key = f.name if f.name.startswith("breathing_") else f"sync_{f.name}"
            row[key] = getattr(s, f.name)
    return row


def _hrv_rows(res: SessionResult) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for h in res.hrv:
        r = dataclasses.asdict(h)
        r["person_id"] = r["person_id"] or None
        rows.append({"session_id": res.session_id, "file": res.path, **r})
    return rows


def _window_columns(res: SessionResult) -> list[dict[str, object]]:
    """The window series of a session, column-wise, one block per band."""
    return [{"session_id": [res.session_id] * len(w.t_s), "band": [w.band] * len(w.t_s),
             "window_t_s": w.t_s, "peak_r": w.peak_r, "peak_lag_s": w.peak_lag_s}
            for w in res.windows]


#: A worker's prepared signal of one person (kept in the worker's memory).
_Signal: TypeAlias = "Future[pseudo.PersonSignal | None]"


def _failed(path: str, exc: BaseException) -> SessionResult:
    text = " ".join(str(exc).split())[:200]
    return SessionResult(path, "", 0, 0, DAMAGED,
                         f"the analysis failed on the worker ({type(exc).__name__}: {text})")


# --------------------------------------------------------------------------- the run


def run_study(
    inputs: Sequence[str],
    out: str | os.PathLike[str],
    settings: StudySettings | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dashboard: str | None = None,
    force: bool = False,
    csv: bool = True,
    progress: Progress = _noop,
    command: Sequence[str] | None = None,
) -> StudyRun:
    """Analyse every recording of ``inputs`` and write the study to ``out``.

    Parameters
    ----------
    inputs
        Folders, glob patterns and files (:func:`find_recordings`).
    out
        Output folder (created 0700; refused when not empty unless ``force``).
    settings
        Study settings (defaults: :class:`StudySettings`).
    workers, scheduler, dashboard
        Where to run (:func:`dask_client`).
    force
        Replace the study files of a non-empty ``out``.
    csv
        Write CSV copies of the tables too.
    progress
        ``progress(stage, done, total)`` after each finished task.
    command
        The command line, for the manifest.

    Returns
    -------
    StudyRun
    """
    deps.require()
    settings = settings or StudySettings()
    t0 = time.monotonic()
    if workers is not None and workers < 1:
        raise InputError("--workers must be at least 1")
    files = find_recordings(inputs)
    out_dir = Path(out)
    created = not out_dir.exists()
    tables.prepare_folder(out_dir, force=force)
    writers: dict[str, tables.TableWriter] = {}
    try:
        for name in ("hrv", "windows"):
            writers[name] = tables.TableWriter(out_dir, name, csv=csv)
        with dask_client(workers, scheduler, dashboard) as client:
            n_workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
            results, signals = _analyse_all(client, files, settings, writers, progress)
            run = _pseudo_stage(client, results, signals, settings, progress)
        wall = time.monotonic() - t0
        control = _write_rest(out_dir, files, results, run, settings, writers, csv, inputs,
                              command, scheduler, n_workers, wall)
    except BaseException:
        for w in writers.values():
            w.abandon()
        if created:  # a folder this run made and could not fill: leave nothing behind
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise
    ok = sum(1 for r, d in results if r.status == OK and not d)
    return StudyRun(out=out_dir, files=len(files), ok=ok,
                    damaged=sum(1 for r, d in results if r.status != OK and not d),
                    duplicates=sum(1 for _, d in results if d),
                    dyads=len(run.dyads), pseudo_pairs=len(run.stats), control=control,
                    wall_s=wall, workers=n_workers)


def _analyse_all(
    client: Client, files: Sequence[Path], settings: StudySettings,
    writers: Mapping[str, tables.TableWriter], progress: Progress,
) -> tuple[list[tuple[SessionResult, str | None]], dict[str, dict[str, _Signal]]]:
    """Stage 1: every recording; window and HRV rows written in path order as results come."""
    from distributed import as_completed

    run_id = uuid.uuid4().hex[:12]  # task names only: two studies may share a scheduler
    futures: list[tuple[Future[SessionResult], _Signal, _Signal] | None] = []
    for i, path in enumerate(files):
        whole = client.submit(analyze_recording, str(path), settings,
                              key=f"coreg-{run_id}-recording-{i}")
        futures.append((
            client.submit(_result_of, whole, key=f"coreg-{run_id}-result-{i}"),
            client.submit(_signal_of, whole, "therapist", key=f"coreg-{run_id}-therapist-{i}"),
            client.submit(_signal_of, whole, "client", key=f"coreg-{run_id}-client-{i}"),
        ))
        del whole  # the scheduler keeps it until its three parts are computed
    firsts = [f[0] for f in futures if f is not None]
    index = {f.key: i for i, f in enumerate(firsts)}
    results: list[tuple[SessionResult, str | None]] = []
    signals: dict[str, dict[str, _Signal]] = {}
    first_of_sha: dict[str, str] = {}
    done: set[int] = set()
    nxt = 0
    progress("recordings", 0, len(files))
    del firsts
    for fut in as_completed([f[0] for f in futures if f is not None], loop=client.loop):
        done.add(index[fut.key])
        progress("recordings", len(done), len(files))
        while nxt in done:
            entry = futures[nxt]
            assert entry is not None  # released only below, once
            res_f, ther_f, cli_f = entry
            try:
                res: SessionResult = res_f.result()
            except Exception as exc:  # a worker died or a bug: this file is listed, not fatal
                logger.warning("analysis of %s failed: %s", files[nxt], exc)
                res = _failed(str(files[nxt]), exc)
            dup = first_of_sha.get(res.sha256) if res.sha256 else None
            if res.sha256 and dup is None:
                first_of_sha[res.sha256] = res.path
            results.append((res, dup))
            if dup is None and res.status == OK:
                writers["hrv"].write_many(_hrv_rows(res))
                for block in _window_columns(res):
                    writers["windows"].write_columns(block)
            if dup is None and res.is_dyad:
                signals[res.session_id] = {"therapist": ther_f, "client": cli_f}
            futures[nxt] = None  # release
            nxt += 1
    return results, signals


@dataclass(slots=True)
class _PseudoRun:
    dyads: list[pseudo.DyadInfo]
    plan: dict[str, tuple[pseudo.PseudoPair, ...]]
    stats: dict[tuple[str, str], pseudo.PseudoStat]


def _pseudo_stage(
    client: Client, results: Sequence[tuple[SessionResult, str | None]],
    signals: Mapping[str, Mapping[str, _Signal]], settings: StudySettings, progress: Progress,
) -> _PseudoRun:
    """Stage 2: every needed (client, therapist) pairing, one task per client session."""
    from distributed import as_completed

    dyads = [pseudo.DyadInfo(r.session_id, r.sha256, r.therapist.person_id, r.client.person_id,
                             float(r.duration_s or 0.0))
             for r, dup in results if dup is None and r.session_id in signals]
    chosen = pseudo.plan(dyads, settings) if settings.max_pseudo > 0 else {}
    by_client: dict[str, set[str]] = {}
    for pairs in chosen.values():
        for p in pairs:
            by_client.setdefault(p.client_session, set()).add(p.therapist_session)
    run_id = uuid.uuid4().hex[:12]
    jobs = []
    for c in sorted(by_client):
        ther = sorted(by_client[c])
        fut = client.submit(pseudo.client_batch, signals[c]["client"],
                            [signals[t]["therapist"] for t in ther], settings.sync,
                            key=f"coreg-{run_id}-pseudo-{c}")
        jobs.append((fut, c, ther))
    stats: dict[tuple[str, str], pseudo.PseudoStat] = {}
    keyed = {j[0].key: j for j in jobs}
    progress("pseudo-dyads", 0, len(jobs))
    for n, fut in enumerate(as_completed([j[0] for j in jobs], loop=client.loop), start=1):
        _, c, ther = keyed[fut.key]
        try:
            values = fut.result()
        except Exception as exc:
            logger.warning("pseudo-dyads of client session %s failed: %s", c, exc)
            values = tuple(pseudo.PseudoStat(0, float("nan"), 0.0) for _ in ther)
        for t, v in zip(ther, values, strict=True):
            stats[(c, t)] = v
        progress("pseudo-dyads", n, len(jobs))
    return _PseudoRun(dyads, chosen, stats)


def _write_rest(
    out: Path, files: Sequence[Path], results: Sequence[tuple[SessionResult, str | None]],
    run: _PseudoRun, settings: StudySettings, writers: dict[str, tables.TableWriter],
    csv: bool, inputs: Sequence[str], command: Sequence[str] | None, scheduler: str | None,
    n_workers: int, wall_s: float,
) -> pseudo.StudyControl:
    real = {r.session_id: (r.sync.mean_peak_r if r.sync and r.sync.mean_peak_r is not None
                           else float("nan"))
            for r, dup in results if dup is None and r.session_id in run.plan}
    values: dict[str, list[float]] = {}
    writers["pseudo"] = tables.TableWriter(out, "pseudo", csv=csv)
    for dyad in sorted(run.plan):
        vals = []
        for p in run.plan[dyad]:
            s = run.stats.get((p.client_session, p.therapist_session),
                              pseudo.PseudoStat(0, float("nan"), 0.0))
            vals.append(s.mean_peak_r)
            writers["pseudo"].write({
                "dyad_id": dyad, "client_session": p.client_session,
                "therapist_session": p.therapist_session,
                "pseudo_with": ("its client with another session's therapist"
                                if p.client_session == dyad else
                                "its therapist with another session's client"),
                "windows": s.windows, "span_s": s.span_s,
                "mean_peak_r": s.mean_peak_r if math.isfinite(s.mean_peak_r) else None})
        values[dyad] = vals
    seed = study_seed(r.sha256 for r, dup in results if r.sha256 and dup is None)
    control = pseudo.study_control(real, values, settings.n_permutations, seed)
    sessions = tables.TableWriter(out, "sessions", csv=csv)
    writers["sessions"] = sessions
    for res, dup in results:
        row = _session_row(res, dup)
        if dup is None and res.session_id in run.plan:
            c = pseudo.dyad_control(real[res.session_id], values[res.session_id])
            row.update({"pseudo_n": c.n, "pseudo_mean_peak_r": _f(c.mean), "pseudo_sd": _f(c.sd),
                        "pseudo_percentile": _f(c.percentile),
                        "pseudo_difference": _f(c.difference), "pseudo_z": _f(c.z)})
        sessions.write(row)
    for w in writers.values():
        w.close()
    counts = {name: w.rows for name, w in writers.items()}
    manifest = _manifest(files, results, run, settings, control, counts, csv, inputs, command,
                         scheduler, n_workers, wall_s)
    tables.write_json(out, tables.MANIFEST, manifest)
    return control


def _f(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("numpy", "scipy", "dask", "distributed", "pyarrow"):
        mod = sys.modules.get(name)
        if mod is None:
            with contextlib.suppress(ImportError):
                mod = __import__(name)
        out[name] = str(getattr(mod, "__version__", "?"))
    return out


def _manifest(
    files: Sequence[Path], results: Sequence[tuple[SessionResult, str | None]], run: _PseudoRun,
    settings: StudySettings, control: pseudo.StudyControl, counts: Mapping[str, int], csv: bool,
    inputs: Sequence[str], command: Sequence[str] | None, scheduler: str | None,
    n_workers: int, wall_s: float,
) -> dict[str, object]:
    status = [(r.status if not dup else DUPLICATE) for r, dup in results]
    entries = []
    for (res, dup), st in zip(results, status, strict=True):
        e: dict[str, object] = {"file": res.path, "sha256": res.sha256 or None,
                             "size_bytes": res.size_bytes, "status": st,
                             "session_id": res.session_id or None,
                             "seed": res.seed if res.sha256 else None}
        if res.problem:
            e["problem"] = res.problem
        if dup:
            e["duplicate_of"] = dup
        entries.append(e)
    n_pseudo = sum(len(v) for v in run.plan.values())
    return {
        "format": "coreg-study",
        "version": 1,
        "coreg_version": __version__,
        "created": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "command": list(command) if command else None,
        "inputs": list(inputs),
        "settings": settings.as_dict(),
        "software": _versions(),
        "seeds": {
            "per_recording": "int(sha256[:8], 16): segment shuffling and the lag bootstrap "
                             "of that recording's synchrony",
            "pseudo_choice": "per dyad: numpy default_rng([int(sha256[:8], 16), 0x5D])",
            "permutation": control.seed,
        },
        "counts": {
            "files": len(files),
            "ok": status.count(OK),
            "damaged": sum(1 for s in status if s not in (OK, DUPLICATE)),
            "duplicates": status.count(DUPLICATE),
            "dyads": len(run.dyads),
            "dyads_with_pseudo": control.dyads,
            "pseudo_dyads": n_pseudo,
            "pseudo_pairings_computed": len(run.stats),
        },
        "damaged": [{"file": r.path, "status": st, "problem": r.problem}
                    for (r, _), st in zip(results, status, strict=True)
                    if st not in (OK, DUPLICATE)],
        "pseudo_dyads": {
            "pair": settings.pair,
            "statistic": "mean over 30 s windows of the peak cross-correlation closest to lag 0 "
                         "(slow heart rate < 0.15 Hz, lags within ±5 s), aligned on session time",
            "test": pseudo.PERMUTATION_SCHEME,
            "result": dataclasses.asdict(control),
        },
        "tables": {name: {"parquet": f"{name}.parquet", "csv": f"{name}.csv" if csv else None,
                          "rows": counts.get(name, 0)} for name in tables.TABLES},
        "files": entries,
        "run": {"scheduler": scheduler or "local cluster", "workers": n_workers,
                "wall_s": round(wall_s, 3)},
    }
