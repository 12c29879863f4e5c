"""A simulated client who breathes with a pacer (for ``coreg breathe`` and its benchmark).

Builds on :func:`devices.sim.simulate_people`: a plausible adult from
:func:`devices.sim.draw_person` (resonance 4.5–6.5/min, lag behind the pacer, slow phase
wander, irregular spontaneous breathing outside the pacer) with realistic strap noise from
:func:`devices.sim.draw_strap`. Only numpy and the standard library are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from devices.sim.run import SimulationRun, simulate_people
from devices.sim.scenarios import draw_person, draw_strap


def breathing_client(
    pacer: Sequence[tuple[float, float]],
    duration_s: float,
    seed: int,
    *,
    resonance_rate_bpm: float | None = None,
    inhale_ratio: float = 0.5,
    resonance_width_hz: float | None = None,
    scenario: str = "breathe",
) -> SimulationRun:
    """Simulate one client following ``pacer`` = ``((t_s, rate_bpm), ...)``.

    A rate ``<= 0`` means spontaneous breathing from that time. ``resonance_rate_bpm``
    overrides the drawn resonance frequency (e.g. to spread a benchmark evenly);
    ``resonance_width_hz`` switches from the closed baroreflex loop (default, see
    :class:`~devices.sim.physiology.BaroreflexLoop`) to the earlier Lorentzian resonance
    curve with that half width in Hz.
    """
    person = replace(draw_person(seed, "client"), pacer=tuple(
        (float(t), float(r)) for t, r in pacer), pacer_inhale_ratio=inhale_ratio)
    if resonance_rate_bpm is not None:
        person = replace(person, resonance_rate_bpm=float(resonance_rate_bpm))
    if resonance_width_hz is not None:
        person = replace(person, resonance_width_hz=float(resonance_width_hz))
    return simulate_people({"client": person}, duration_s, seed,
                           straps={"client": draw_strap(seed, "client")}, scenario=scenario)
