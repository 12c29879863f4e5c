"""Writing a simulated session straight to a recording (``coreg simulate``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from coreg.errors import InputError
from coreg.recording.format import AtomicRecording, new_header
from devices.types import DeviceInfo


def role_description(info: DeviceInfo) -> dict[str, object]:
    """A header ``roles`` entry from a source's device info."""
    desc: dict[str, object] = {k: v for k, v in dataclasses.asdict(info).items()
                               if k != "extra"}
    desc.update(info.extra)
    return desc


def write_simulation(scenario: str, duration_s: float, seed: int, output: str | Path, *,
                     force: bool = False, header_extra: Mapping[str, object] | None = None) -> int:
    """Simulate ``scenario`` for ``duration_s`` (virtual time) and record it at ``output``.

    Returns the number of RR notifications written. The header holds the scenario, seed and
    its ground truth; arrival times start at 0. ``output`` is checked before the simulation
    runs (:func:`coreg.recording.output.check_output`): never over a recording, another
    existing file only with ``force``. ``header_extra`` adds top-level header fields (the
    client's name).
    """
    from devices.sim import SCENARIOS, simulate

    if scenario not in SCENARIOS:
        raise InputError(f"unknown scenario {scenario!r} (choose from {', '.join(SCENARIOS)})")
    from coreg.recording.output import check_output

    check_output(output, force=force)
    run = simulate(scenario, duration_s=duration_s, seed=seed)
    header = new_header(
        "dyad" if len(run.roles) > 1 else "solo",
        {role: role_description(run.info[role]) for role in run.roles},
        settings={"duration_s": duration_s},
        simulation={"scenario": scenario, "seed": seed, "truth": run.truth},
    )
    header.update(header_extra or {})  # top-level fields, last (as new_header's own extras)
    count = 0
    with AtomicRecording(output, header, force=force) as writer:
        for message in run.messages():
            writer.write(message)
            count += hasattr(message, "rr_ms")
        writer.close("complete", t_s=duration_s)
    return count
