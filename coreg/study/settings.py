"""What a study run is told: pairing, caps, tests, and the synchrony settings it analyses with."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from coreg.engine.synchrony import SyncSettings
from coreg.errors import InputError

#: ``--pair`` choices.
PAIR_MODES = ("across", "within-therapist")


@dataclass(frozen=True, slots=True)
class StudySettings:
    """Settings of one study run (all written into ``study.json``).

    Parameters
    ----------
    pair
        ``"across"``: a dyad's pseudo-partners are the other dyads of the study;
        ``"within-therapist"``: only other sessions of the same therapist
        (:mod:`coreg.study.identity` says how a therapist is recognised).
    max_pseudo
        Most pseudo-dyads per real dyad (chosen deterministically, see
        :func:`coreg.study.pseudo.plan`); 0 turns pseudo-dyads off.
    min_overlap_frac
        A pseudo-dyad is formed only with a session lasting at least this share of the real
        dyad's duration, so that its statistic rests on a comparable number of windows.
    n_permutations
        Permutations of the study-level real-vs-pseudo test.
    correct
        Artifact correction (as ``coreg analyze``; False = ``--no-correct``).
    breathing
        Also analyse breathing-band (0.15–0.40 Hz) synchrony.
    sync
        Synchrony settings (docs/science.md §5); each recording's ``seed`` is replaced by one
        derived from its SHA-256 (:func:`file_seed`).
    """

    pair: str = "across"
    max_pseudo: int = 20
    min_overlap_frac: float = 0.5
    n_permutations: int = 10_000
    correct: bool = True
    breathing: bool = True
    sync: SyncSettings = field(default_factory=SyncSettings)

    def __post_init__(self) -> None:
        if self.pair not in PAIR_MODES:
            raise InputError(f"--pair must be one of {', '.join(PAIR_MODES)}, not {self.pair!r}")
        if self.max_pseudo < 0:
            raise InputError("--max-pseudo must not be negative")
        if not 0.0 <= self.min_overlap_frac <= 1.0:
            raise InputError("--min-overlap must lie between 0 and 1")
        if self.n_permutations < 1:
            raise InputError("--permutations must be at least 1")

    def as_dict(self) -> dict[str, object]:
        """JSON-ready settings for the manifest."""
        out: dict[str, object] = dataclasses.asdict(self)
        sync: dict[str, object] = {k: (list(v) if isinstance(v, tuple) else v)
                                   for k, v in dataclasses.asdict(self.sync).items()
                                   if k != "seed"}
        sync["seed"] = "per recording: first 8 hex digits of its SHA-256"
        out["sync"] = sync
        return out


def file_seed(sha256_hex: str) -> int:
    """The seed of a recording's random draws: its SHA-256's first 32 bits.

    Derived from the content, so the numbers of a recording do not depend on its name, its
    place in the study, or which worker analysed it.
    """
    return int(sha256_hex[:8], 16)


def study_seed(sha256s: Iterable[str]) -> int:
    """The seed of the study-level permutation test, from the sorted SHA-256s of its recordings."""
    h = hashlib.sha256()
    for s in sorted(sha256s):
        h.update(s.encode("ascii"))
    return int(h.hexdigest()[:8], 16)
