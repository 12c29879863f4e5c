"""Simulated study recordings for the study tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coreg.recording.format import AtomicRecording, new_header
from coreg.recording.simulated import role_description


def write_dyad(path: Path, scenario: str, seed: int, duration_s: float = 600.0,
               **header_extra: Any) -> Path:
    """A simulated recording like ``coreg simulate`` writes, with extra header fields
    (``therapist="T1"``, ``client="C3"``)."""
    from devices.sim import simulate

    run = simulate(scenario, duration_s=duration_s, seed=seed)
    header = new_header(
        "dyad" if len(run.roles) > 1 else "solo",
        {role: role_description(run.info[role]) for role in run.roles},
        settings={"duration_s": duration_s},
        simulation={"scenario": scenario, "seed": seed, "truth": run.truth},
        **header_extra,
    )
    with AtomicRecording(path, header) as writer:
        for message in run.messages():
            writer.write(message)
        writer.close("complete", t_s=duration_s)
    return path


def write_study(folder: Path, n_coupled: int = 10, n_independent: int = 10,
                duration_s: float = 600.0) -> Path:
    """``n_coupled`` coupled and ``n_independent`` independent dyads, each with its own people
    (distinct seeds) and three therapists T1–T3 taking turns."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_coupled):
        write_dyad(folder / f"coupled-{i:02d}.jsonl", "coupled", 1000 + i, duration_s,
                   therapist=f"T{i % 3 + 1}", client=f"C{i:02d}")
    for i in range(n_independent):
        write_dyad(folder / f"independent-{i:02d}.jsonl", "independent", 2000 + i, duration_s,
                   therapist=f"T{i % 3 + 1}", client=f"I{i:02d}")
    return folder
