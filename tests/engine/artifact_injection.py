"""Artifact injection into clean RR series and scoring of a detector against it.

A validation harness for :mod:`coreg.engine.artifacts`, used by the tests in this folder and by
``benchmarks/artifacts_compare.py`` (which puts this folder on ``sys.path``). It is not part of
the app: nothing in ``coreg`` injects artifacts.

References
----------
Lipponen, J. A., Tarvainen, M. P. (2019). A robust algorithm for heart rate variability time
series artefact correction using novel beat classification. J. Med. Eng. Technol.
43(3):173-181. doi:10.1080/03091902.2019.1640306 (the injected classes follow its validation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Injection:
    """RR with artifacts injected at known positions (for validation).

    ``truth[k]`` holds the positions in ``rr_ms`` that injection ``k`` changed and ``kinds[k]``
    its kind: ``"ectopic"`` (premature beat: one RR shortened, the next lengthened by the same
    amount), ``"missed"`` (two RR merged), ``"extra"`` (one RR split in two), ``"long"``,
    ``"short"`` (one RR scaled by 1.3–1.5 or 0.55–0.7). ``source[i]`` is the index in the
    clean series that ``rr_ms[i]`` comes from (the first of two for a merged "missed" RR).
    """

    rr_ms: NDArray[np.float64]
    truth: list[list[int]]
    kinds: list[str]
    source: NDArray[np.int64]


INJECTION_KINDS: tuple[str, ...] = ("ectopic", "missed", "extra", "long", "short")


def inject_artifacts(
    rr_ms: NDArray[np.float64],
    rng: np.random.Generator,
    *,
    fraction: float = 0.03,
    kinds: tuple[str, ...] = INJECTION_KINDS,
    min_spacing_beats: int = 12,
) -> Injection:
    """Inject ``fraction`` × len(rr) artifacts of the given kinds at random, spaced positions.

    The kinds follow Lipponen & Tarvainen 2019 (doi:10.1080/03091902.2019.1640306), whose
    validation injected the same classes into clean RR series.
    """
    rr = [float(x) for x in np.asarray(rr_ms, dtype=np.float64)]
    n = len(rr)
    count = max(1, round(fraction * n))
    slots = np.arange(min_spacing_beats, n - min_spacing_beats, min_spacing_beats)
    chosen = np.sort(rng.choice(slots, size=min(count, len(slots)), replace=False))
    events = [(int(p), str(kinds[int(rng.integers(len(kinds)))])) for p in chosen]
    out: list[float] = []
    src: list[int] = []
    truth: list[list[int]] = []
    kind_list: list[str] = []
    pos = 0
    for p, kind in events:
        out.extend(rr[pos:p])
        src.extend(range(pos, p))
        k = len(out)
        if kind == "ectopic":
            d = rng.uniform(0.25, 0.4) * rr[p]
            out.extend([rr[p] - d, rr[p + 1] + d])
            src.extend([p, p + 1])
            truth.append([k, k + 1])
            pos = p + 2
        elif kind == "missed":
            out.append(rr[p] + rr[p + 1])
            src.append(p)
            truth.append([k])
            pos = p + 2
        elif kind == "extra":
            a = rng.uniform(0.3, 0.7) * rr[p]
            out.extend([a, rr[p] - a])
            src.extend([p, p])
            truth.append([k, k + 1])
            pos = p + 1
        elif kind == "long":
            out.append(rr[p] * rng.uniform(1.3, 1.5))
            src.append(p)
            truth.append([k])
            pos = p + 1
        elif kind == "short":
            out.append(rr[p] * rng.uniform(0.55, 0.7))
            src.append(p)
            truth.append([k])
            pos = p + 1
        else:
            raise ValueError(f"unknown artifact kind {kind!r}")
        kind_list.append(kind)
    out.extend(rr[pos:])
    src.extend(range(pos, n))
    return Injection(np.asarray(out, dtype=np.float64), truth, kind_list,
                     np.asarray(src, dtype=np.int64))


@dataclass(frozen=True, slots=True)
class DetectionScore:
    """Event sensitivity and beat specificity of a detector against an :class:`Injection`.

    An injection counts as detected when any of its positions is flagged; a flag counts as a
    false positive when it is more than one beat away from every injected position;
    specificity = 1 − false positives / beats more than one beat away from any injection.
    """

    detected: int
    events: int
    false_positives: int
    clean_beats: int

    @property
    def sensitivity(self) -> float:
        return self.detected / self.events if self.events else float("nan")

    @property
    def specificity(self) -> float:
        return 1.0 - self.false_positives / self.clean_beats if self.clean_beats else float("nan")


def score_detection(flagged: NDArray[np.bool_], injection: Injection) -> DetectionScore:
    """Compare a per-beat flag array with the injected truth (see :class:`DetectionScore`)."""
    flagged = np.asarray(flagged, dtype=bool)
    n = len(flagged)
    near = np.zeros(n, dtype=bool)
    detected = 0
    for positions in injection.truth:
        if np.any(flagged[positions]):
            detected += 1
        for p in positions:
            near[max(0, p - 1) : p + 2] = True
    fp = int(np.count_nonzero(flagged & ~near))
    return DetectionScore(detected, len(injection.truth), fp, int(np.count_nonzero(~near)))
