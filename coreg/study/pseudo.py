"""Pseudo-dyads: each real dyad's client with other sessions' therapists, and the reverse.

Two people's heart rates line up by chance far more than intuition says (docs/science.md §5).
Within a session, surrogates (circular shifts, segment shuffling) give the chance level of
*these two people at other times*. A study can do what the field calls the pseudo-dyad
(pseudo-interaction) control: pair each person with someone they never met, from another
session, aligned on session time (seconds from each session's start), and ask whether real
dyads are more in sync than such pairs (Bernieri, Reznick & Rosenthal 1988,
doi:10.1037/0022-3514.54.2.243; Ramseyer & Tschacher 2010, doi:10.1007/978-3-642-12397-9_15;
Moulder et al. 2018, doi:10.1037/met0000172).

* **Signal.** Each person's slow heart rate exactly as the real analysis prepares it
  (:func:`coreg.engine.synchrony.prepare_pair`: HR at NN midpoints, 4 Hz, 0.15 Hz zero-phase
  low-pass, run by run, NaN in gaps), computed once per person on their own session clock
  (:func:`person_signal`). A sample's value depends only on that person's beats, so pairing two
  people from different sessions needs no recomputation.
* **Statistic.** The real analysis' statistic: the mean over 30 s windows (5 s step, on the
  session clock) of the per-window peak cross-correlation closest to lag 0 within ±5 s
  (Boker et al. 2002, doi:10.1037/1082-989X.7.3.338). The windows are those where both
  signals exist: the overlapping length of the two sessions. Positive lags: the client follows
  the therapist, as in the real analysis.
* **Fast curves.** :func:`pair_curves` computes every window's correlation at every lag from
  running sums (cumulative sums of the signals, their squares and their lagged products) instead
  of one dot product per window and lag; :func:`pair_curves_direct` is the direct form, kept as
  the reference (equal to 1e-9; ``tests/study/test_pseudo.py``).
* **Choice.** :func:`plan`: for dyad *i* the candidates are, for every eligible partner session
  *j*, (client *i*, therapist *j*) and (client *j*, therapist *i*); at most ``max_pseudo`` are
  drawn without replacement by a generator seeded from dyad *i*'s SHA-256, over the partners
  sorted by their SHA-256 — deterministic, whatever the input order or the workers.
* **Per dyad:** the percentile of the real statistic among its pseudo-dyads.
* **Study:** real minus pseudo, averaged over dyads, with a permutation p value that permutes the
  real/pseudo labels *within each dyad* (:func:`study_control`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from coreg.engine import synchrony
from coreg.engine.beats import BeatSeries
from coreg.study.settings import StudySettings, file_seed

#: A window whose slow HR varies less than this (bpm² per sample, summed over the window) has no
#: defined correlation (the direct form's threshold is a norm ≤ 1e-12; running sums carry
#: rounding of about 1e-10, so the floor is set well above it and far below any real window).
VAR_FLOOR_BPM2 = 1e-8


@dataclass(frozen=True, slots=True)
class PersonSignal:
    """One person's slow heart rate on their session clock.

    Attributes
    ----------
    k0
        Session-clock sample index of ``x[0]`` (sample ``k`` is at ``k / rate_hz`` s).
    x
        Low-passed HR (bpm) per sample, NaN where unknown.
    """

    k0: int
    x: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PseudoStat:
    """The synchrony statistic of one (therapist, client) pairing.

    ``windows`` analysed windows, ``mean_peak_r`` their mean peak r (NaN without windows),
    ``span_s`` from the first window's start to the last window's end.
    """

    windows: int
    mean_peak_r: float
    span_s: float


def person_signal(beats: BeatSeries, settings: synchrony.SyncSettings) -> PersonSignal:
    """The slow-band HR of one person over their whole recording (see module docstring)."""
    if len(beats) < 2:
        return PersonSignal(0, np.empty(0))
    rate = settings.rate_hz
    t_lo = float(beats.t_s[0] - beats.rr_ms[0] / 1000.0)
    k0 = math.floor(t_lo * rate)
    n = math.ceil(float(beats.t_s[-1]) * rate) - k0 + 1
    x, _ = synchrony.prepare_pair(beats, beats, k0, n, settings, "slow")
    return PersonSignal(k0, x)


def _starts(a: PersonSignal, b: PersonSignal, settings: synchrony.SyncSettings
            ) -> NDArray[np.int64]:
    """Session-clock starts of the complete windows (as :func:`synchrony.valid_window_starts`)."""
    w, L, step = settings.window_samples, settings.lag_samples, settings.step_samples
    lo = max(a.k0, b.k0 + L)
    hi = min(a.k0 + len(a.x) - w, b.k0 + len(b.x) - w - L)
    if hi < lo:
        return np.empty(0, dtype=np.int64)
    s = np.arange(-(-lo // step) * step, hi + 1, step, dtype=np.int64)
    if s.size == 0:
        return s
    fa = np.concatenate(([0], np.cumsum(~np.isfinite(a.x))))
    fb = np.concatenate(([0], np.cumsum(~np.isfinite(b.x))))
    ia, ib = s - a.k0, s - b.k0
    ok = (fa[ia + w] - fa[ia] == 0) & (fb[ib + w + L] - fb[ib - L] == 0)
    return s[ok]


class LaggedSignal:
    """The second person's signal prepared once for many pairings (:func:`pair_curves`).

    Centred on its own mean (correlation does not change; running sums keep more digits), NaN
    set to 0 (only complete windows are ever read), with its running sums and its lag matrix.
    """

    __slots__ = ("c", "cs", "cs2", "k0", "lag_samples", "lagged", "signal")

    def __init__(self, signal: PersonSignal, lag_samples: int) -> None:
        self.signal = signal
        self.k0 = signal.k0
        self.lag_samples = lag_samples
        x = signal.x
        finite = np.isfinite(x)
        mean = float(np.mean(x[finite])) if finite.any() else 0.0
        self.c = np.where(finite, x - mean, 0.0)
        self.cs = np.concatenate(([0.0], np.cumsum(self.c)))
        self.cs2 = np.concatenate(([0.0], np.cumsum(self.c * self.c)))
        pad = np.zeros(lag_samples)
        #: lagged[t, j] = c[t + j − L]
        self.lagged = sliding_window_view(np.concatenate((pad, self.c, pad)), 2 * lag_samples + 1)


def pair_curves(
    a: PersonSignal, b: PersonSignal | LaggedSignal, settings: synchrony.SyncSettings
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Cross-correlation curves of every complete window of two people on one clock.

    Parameters
    ----------
    a, b
        First (leading-positive: therapist) and second (client) person; ``b`` may be prepared
        once as a :class:`LaggedSignal` for many ``a``.
    settings
        Window, step and lag settings.

    Returns
    -------
    starts, curves
        Window starts (session-clock samples) and ``(n, 2L + 1)`` curves; column ``L + τ`` is
        corr(a[s … s+w), b[s+τ … s+τ+w)), as :func:`coreg.engine.synchrony.window_curves`.
    """
    lb = b if isinstance(b, LaggedSignal) else LaggedSignal(b, settings.lag_samples)
    w, L = settings.window_samples, settings.lag_samples
    starts = _starts(a, lb.signal, settings)
    if starts.size == 0:
        return starts, np.empty((0, 2 * L + 1))
    finite = np.isfinite(a.x)
    mean = float(np.mean(a.x[finite]))
    ac = np.where(finite, a.x - mean, 0.0)
    csa = np.concatenate(([0.0], np.cumsum(ac)))
    csa2 = np.concatenate(([0.0], np.cumsum(ac * ac)))
    o = int(starts[0])
    m = int(starts[-1]) + w - o
    # running sums of the lagged products, one row of zeros first: cp[i] = Σ_{t < o+i}
    cp = np.empty((m + 1, 2 * L + 1))
    cp[0] = 0.0
    np.multiply(ac[o - a.k0:o - a.k0 + m, None], lb.lagged[o - lb.k0:o - lb.k0 + m], out=cp[1:])
    np.cumsum(cp[1:], axis=0, out=cp[1:])
    r = starts - o
    s_ab = cp[r + w] - cp[r]
    ia = starts - a.k0
    s_a = csa[ia + w] - csa[ia]
    v_a = (csa2[ia + w] - csa2[ia]) - s_a * s_a / w
    ib = (starts - lb.k0)[:, None] + np.arange(-L, L + 1)[None, :]
    s_b = lb.cs[ib + w] - lb.cs[ib]
    v_b = (lb.cs2[ib + w] - lb.cs2[ib]) - s_b * s_b / w
    floor = VAR_FLOOR_BPM2 * w
    with np.errstate(invalid="ignore", divide="ignore"):
        curves = (s_ab - s_a[:, None] * s_b / w) / np.sqrt(v_a[:, None] * v_b)
    curves[(v_a <= floor)[:, None] | (v_b <= floor)] = np.nan
    return starts, curves


def pair_curves_direct(
    a: PersonSignal, b: PersonSignal, settings: synchrony.SyncSettings
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """:func:`pair_curves` by the real analysis' own window function (the reference)."""
    k0 = min(a.k0, b.k0)
    k1 = max(a.k0 + len(a.x), b.k0 + len(b.x))
    x = np.full(k1 - k0, np.nan)
    y = np.full(k1 - k0, np.nan)
    x[a.k0 - k0:a.k0 - k0 + len(a.x)] = a.x
    y[b.k0 - k0:b.k0 - k0 + len(b.x)] = b.x
    starts = synchrony.valid_window_starts(x, y, k0, settings)
    if starts.size == 0:
        return starts, np.empty((0, 2 * settings.lag_samples + 1))
    za = synchrony.standardized_windows(x, settings.window_samples)
    zb = synchrony.standardized_windows(y, settings.window_samples)
    return starts + k0, synchrony.window_curves(za, zb, starts, settings.lag_samples)


def pair_stat(a: PersonSignal, b: PersonSignal | LaggedSignal,
              settings: synchrony.SyncSettings) -> PseudoStat:
    """Windows, mean peak r and span of one pairing (first person ``a``, second ``b``)."""
    starts, curves = pair_curves(a, b, settings)
    if starts.size == 0:
        return PseudoStat(0, float("nan"), 0.0)
    peak, _ = synchrony.peak_nearest_zero(curves)
    span = float(starts[-1] - starts[0]) / settings.rate_hz + settings.window_s
    return PseudoStat(int(starts.size), float(np.mean(peak)), span)


def client_batch(client: PersonSignal, therapists: Sequence[PersonSignal],
                 settings: synchrony.SyncSettings) -> tuple[PseudoStat, ...]:
    """One client against several therapists (one Dask task: the client is prepared once)."""
    lagged = LaggedSignal(client, settings.lag_samples)
    return tuple(pair_stat(t, lagged, settings) for t in therapists)


# --------------------------------------------------------------------------- choosing pairs


@dataclass(frozen=True, slots=True)
class DyadInfo:
    """What choosing pseudo-partners needs to know of a real dyad."""

    session_id: str
    sha256: str
    therapist_id: str
    client_id: str
    duration_s: float


@dataclass(frozen=True, slots=True)
class PseudoPair:
    """A pairing of one session's client with another session's therapist (session ids)."""

    client_session: str
    therapist_session: str


def plan(dyads: Sequence[DyadInfo], settings: StudySettings) -> dict[str, tuple[PseudoPair, ...]]:
    """The pseudo-dyads of every real dyad (see the module docstring for the rule).

    Returns
    -------
    dict
        Dyad session id → its pseudo pairs, sorted; dyads without an eligible partner map to
        an empty tuple. With ``pair="within-therapist"`` a partner must have the same non-empty
        therapist identity; in both modes its duration must be at least ``min_overlap_frac`` of
        the dyad's.
    """
    order = sorted(dyads, key=lambda d: d.sha256)
    dur = np.array([d.duration_s for d in order], dtype=np.float64)
    ther = np.array([d.therapist_id for d in order], dtype=object)
    out: dict[str, tuple[PseudoPair, ...]] = {}
    for i, d in enumerate(order):
        ok = dur >= settings.min_overlap_frac * d.duration_s
        ok[i] = False
        if settings.pair == "within-therapist":
            ok &= (ther == d.therapist_id) & (d.therapist_id != "")
        partners = np.flatnonzero(ok)
        n_cand = 2 * len(partners)
        k = min(settings.max_pseudo, n_cand)
        if k == 0:
            out[d.session_id] = ()
            continue
        rng = np.random.default_rng([file_seed(d.sha256), 0x5D])
        picks = np.sort(rng.choice(n_cand, size=k, replace=False))
        pairs = []
        for c in cast("list[int]", picks.tolist()):
            j = order[int(partners[c // 2])]
            pairs.append(PseudoPair(d.session_id, j.session_id) if c % 2 == 0
                         else PseudoPair(j.session_id, d.session_id))
        out[d.session_id] = tuple(sorted(pairs, key=lambda p: (p.client_session,
                                                               p.therapist_session)))
    return out


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True, slots=True)
class DyadControl:
    """A real dyad against its pseudo-dyads.

    Attributes
    ----------
    real
        The real mean peak r.
    n
        Pseudo-dyads with a value.
    mean, sd
        Their mean and SD (ddof 1; NaN when undefined).
    percentile
        100 × (pseudo values below the real one + half the ties) / n: 50 is what chance gives on
        average, 100 means above every pseudo-dyad.
    difference
        real − mean.
    z
        (real − mean) / sd.
    """

    real: float
    n: int
    mean: float
    sd: float
    percentile: float
    difference: float
    z: float


def dyad_control(real: float, pseudo: Sequence[float]) -> DyadControl:
    """Compare one real statistic with its pseudo-dyads' (non-finite values are left out)."""
    p = np.asarray([v for v in pseudo if math.isfinite(v)], dtype=np.float64)
    nan = float("nan")
    if p.size == 0 or not math.isfinite(real):
        return DyadControl(real, int(p.size), nan, nan, nan, nan, nan)
    mean = float(np.mean(p))
    sd = float(np.std(p, ddof=1)) if p.size > 1 else nan
    pct = 100.0 * (np.count_nonzero(p < real) + 0.5 * np.count_nonzero(p == real)) / p.size
    z = (real - mean) / sd if math.isfinite(sd) and sd > 0 else nan
    return DyadControl(real, int(p.size), mean, sd, float(pct), real - mean, z)


@dataclass(frozen=True, slots=True)
class StudyControl:
    """Real dyads against pseudo-dyads over the whole study.

    Attributes
    ----------
    dyads
        Real dyads that have pseudo-dyads.
    pseudo_values
        Pseudo-dyad values used (a pairing serving two dyads counts for each).
    real_mean, pseudo_mean
        Mean over dyads of the real value and of each dyad's pseudo mean.
    difference
        ``real_mean − pseudo_mean``.
    p_value
        One-sided permutation p (real above pseudo), ``(k + 1) / (B + 1)``.
    n_permutations, seed
        B and the generator's seed.
    median_percentile, share_above_95_pct
        Over dyads: the median percentile and the share (%) of dyads above 95.
    """

    dyads: int
    pseudo_values: int
    real_mean: float
    pseudo_mean: float
    difference: float
    p_value: float
    n_permutations: int
    seed: int
    median_percentile: float
    share_above_95_pct: float


#: How the study-level permutation test permutes, for the manifest and the report.
PERMUTATION_SCHEME = (
    "within-dyad label permutation: in each permutation every dyad's 'real' label goes to one "
    "of its own real-or-pseudo values, uniformly; the statistic is the mean over dyads of "
    "(value labelled real - mean of the others)")


def study_control(real: Mapping[str, float], pseudo: Mapping[str, Sequence[float]],
                  n_permutations: int, seed: int, chunk: int = 500) -> StudyControl:
    """The study's real-vs-pseudo difference and its stratified permutation p value.

    Under the null hypothesis that a client is no more in sync with their own therapist than
    with others (and a therapist with their own client), a dyad's real value is exchangeable
    with its own pseudo-dyads' values. The test therefore permutes labels *within* each dyad
    (strata: dyads; Good 2005, *Permutation, Parametric and Bootstrap Tests of Hypotheses*,
    doi:10.1007/b138696): each dyad keeps its own people, session length and number of
    pseudo-dyads, which a pooled permutation of all values would mix (a pooled test also treats
    the pseudo values, which share people, as independent draws). The statistic is the mean over
    dyads of (real − mean pseudo), each dyad weighing the same.

    Parameters
    ----------
    real
        Dyad id → real statistic.
    pseudo
        Dyad id → its pseudo-dyads' statistics.
    n_permutations
        B.
    seed
        Generator seed (:func:`coreg.study.settings.study_seed`).
    chunk
        Permutations drawn at once (memory: ``chunk × dyads`` integers).
    """
    ids = sorted(k for k in real if math.isfinite(real[k])
                 and any(math.isfinite(v) for v in pseudo.get(k, ())))
    nan = float("nan")
    if not ids:
        return StudyControl(0, 0, nan, nan, nan, nan, n_permutations, seed, nan, nan)
    vals: list[NDArray[np.float64]] = []
    for k in ids:
        p = [v for v in pseudo[k] if math.isfinite(v)]
        vals.append(np.asarray([real[k], *p], dtype=np.float64))
    sizes = np.array([len(v) for v in vals], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    flat = np.concatenate(vals)
    n_pseudo = (sizes - 1).astype(np.float64)
    totals = np.array([float(np.sum(v)) for v in vals])
    gain = 1.0 + 1.0 / n_pseudo
    base = totals / n_pseudo

    def stat(picked: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.mean(picked * gain - base, axis=-1)

    observed = float(stat(flat[offsets]))
    rng = np.random.default_rng([seed, 0x9E])
    above = 0
    done = 0
    while done < n_permutations:
        b = min(chunk, n_permutations - done)
        u = rng.integers(0, sizes, size=(b, len(ids)))
        above += int(np.count_nonzero(stat(flat[offsets + u]) >= observed))
        done += b
    controls = [dyad_control(real[k], pseudo[k]) for k in ids]
    pct = np.array([c.percentile for c in controls])
    real_mean = float(np.mean([real[k] for k in ids]))
    pseudo_mean = float(np.mean([c.mean for c in controls]))
    return StudyControl(
        dyads=len(ids), pseudo_values=int(np.sum(sizes - 1)), real_mean=real_mean,
        pseudo_mean=pseudo_mean, difference=observed,
        p_value=(above + 1) / (n_permutations + 1), n_permutations=n_permutations, seed=seed,
        median_percentile=float(np.median(pct)),
        share_above_95_pct=float(100.0 * np.mean(pct > 95.0)))
