"""Sample recordings for report demos, tests and benchmarks (simulated, clearly labelled).

:func:`write_sample_recording` runs a named scenario of :mod:`devices.sim` and records it the
way a live session would, adding what a live session adds and ``coreg simulate`` does not:
the pacer changes of the scenario's pacer schedule (as ``coreg breathe`` writes them) and a few
markers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from coreg.recording import AtomicRecording, RecordingWriter, new_header
from coreg.recording.simulated import role_description


def write_sample_recording(path: str | Path, scenario: str, duration_s: float, seed: int = 1,
                           *, markers: Sequence[tuple[float, str]] = (),
                           pacer: bool = True, header_extra: Mapping[str, object] | None = None
                           ) -> Path:
    """Simulate ``scenario`` and write it to ``path`` with pacer lines and markers.

    Parameters
    ----------
    path
        Recording to write (atomically).
    scenario
        A key of :data:`devices.sim.SCENARIOS`.
    duration_s, seed
        As for ``coreg simulate``.
    markers
        ``(t_s, note)`` pairs written as markers.
    pacer
        Write the scenario's pacer schedule (first role's) as pacer lines; a rate of 0 stops it.
    header_extra
        Extra top-level header fields (e.g. ``{"client": {"name": "Ana"}}``).
    """
    from devices.sim import simulate

    run = simulate(scenario, duration_s=duration_s, seed=seed)
    schedule = []
    if pacer:
        by_role = (run.truth.get("pacer") or {})
        schedule = next((list(v) for v in by_role.values() if v), [])
    mode = "breathe" if schedule else ("dyad" if len(run.roles) > 1 else "solo")
    header = new_header(
        mode, {role: role_description(run.info[role]) for role in run.roles},
        start_monotonic_s=0.0, settings={"duration_s": duration_s},
        simulation={"scenario": scenario, "seed": seed, "truth": run.truth},
        **(header_extra or {}),
    )
    extras: list[_Extra] = [(float(t), 0, ("pacer", float(r)))
                                               for t, r in schedule]
    extras += [(float(t), 1, ("marker", note)) for t, note in markers]
    extras = sorted((x for x in extras if x[0] < duration_s), key=lambda x: (x[0], x[1]))
    out = Path(path)
    with AtomicRecording(out, header) as writer:
        i = 0
        for msg in run.messages():
            while i < len(extras) and extras[i][0] <= msg.arrival_s:
                _write_extra(writer, extras[i])
                i += 1
            writer.write(msg)
        for item in extras[i:]:
            _write_extra(writer, item)
        writer.close("complete", t_s=duration_s)
    return out


#: A pacer change or marker to interleave with the strap messages: (t_s, order, (kind, value)).
_Extra = tuple[float, int, tuple[str, float | str]]


def _write_extra(writer: RecordingWriter, item: _Extra) -> None:
    t_s, _, (kind, value) = item
    if kind == "pacer":
        rate = float(value)
        writer.write_pacer(t_s, rate if rate > 0 else None,
                           label=f"{rate:g}/min" if rate > 0 else "spontaneous")
    else:
        writer.write_marker(t_s, str(value))
