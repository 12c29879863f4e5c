"""Issue 16, item 8: a thousand seeded mutations of real recordings (the examples and two made
by ``coreg simulate``) through every reader, in-process: each run exits 0 or 2 (then with one
line), within a time bound (SIGALRM) and a memory bound (RLIMIT_AS), and never modifies its
input. ``benchmarks/mutation_fuzz.py`` runs more; its counts are in docs/reliability.md."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mutations

ROOT = Path(__file__).resolve().parents[2]
N_MUTATIONS = 1000
SEED = 16


@pytest.mark.slow
def test_a_thousand_mutations_through_every_reader(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bases = mutations.default_bases(ROOT, tmp_path, t_max_s=60.0)
    tally = mutations.fuzz(bases, N_MUTATIONS, SEED, tmp_path / "work", time_limit_s=30.0,
                           extra_memory_bytes=1 << 30, sessions_every=200)
    with capsys.disabled():
        print(f"\nmutation property (seed {SEED}): {tally.summary()}")
    assert tally.mutations == N_MUTATIONS
    assert set(tally.by_reader) == {"analyze", "export rr-txt", "export csv", "replay",
                                    "report", "sessions"}
    # the mutations must reach the engines, not only the parser: both outcomes occur
    assert tally.exits.get("analyze:0", 0) >= 100 and tally.exits.get("analyze:2", 0) >= 100
    assert tally.failures == [], "\n".join(tally.failures[:20])


def test_the_mutators_are_deterministic_and_change_the_file() -> None:
    import random

    base = mutations.trimmed((ROOT / "recordings/examples/sim-coupled-300s.jsonl").read_bytes(),
                             30.0)
    for name, fn in mutations.MUTATORS.items():
        a = fn(random.Random(5), base)
        b = fn(random.Random(5), base)
        assert a == b, name
    changed = sum(mutations.mutate(random.Random(i), base)[1] != base for i in range(200))
    assert changed >= 190
