"""Named, seeded simulation scenarios (docs/science.md §6).

Each role's person is drawn from ``(seed, role)`` alone, so the same seed gives the same two people
in every dyad scenario: ``independent``, ``coupled`` and ``weak`` with one seed differ only in their
coupling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypedDict, Unpack

import numpy as np

from devices.sim.dyad import Coupling
from devices.sim.physiology import PersonParams, schedule_from
from devices.sim.run import SimulationRun, role_rng, simulate_people
from devices.sim.strap import StrapParams

DYAD = ("client", "therapist")


def draw_person(seed: int, role: str) -> PersonParams:
    """A plausible resting adult drawn from ``(seed, role)``.

    Mean HR 60–80 bpm, spontaneous breathing 10–16/min, resonance 4.5–6.5/min (the LF noise
    peaks there too), a lag of 0.2–1.2 s behind a pacer, and RSA, LF and VLF magnitudes that
    give a resting RMSSD of roughly 20–60 ms, a coherence ratio near 1 breathing spontaneously
    and 4–8 paced at the resonance.
    """
    rng = role_rng(seed, role, 0)
    return PersonParams(
        mean_hr_bpm=round(float(rng.uniform(60.0, 80.0)), 1),
        breathing_rate_bpm=round(float(rng.uniform(10.0, 16.0)), 2),
        resonance_rate_bpm=round(float(rng.uniform(4.5, 6.5)), 2),
        rsa_bpm=round(float(rng.uniform(2.6, 4.0)), 2),
        resonance_gain=round(float(rng.uniform(3.0, 4.0)), 2),
        lf_bpm=round(float(rng.uniform(0.75, 1.25)), 2),
        vlf_bpm=round(float(rng.uniform(0.6, 1.0)), 2),
        # Drawn last so the draws above stay what they were for every seed. How far a person
        # trails a visual pacer differs between people; 0.2–1.2 s is an assumption (about a
        # reaction time and up to a second of easing into each breath), not a published figure.
        pacer_lag_s=round(float(rng.uniform(0.2, 1.2)), 2),
    )


class StrapFaults(TypedDict, total=False):
    """The fault settings of a :class:`~devices.sim.strap.StrapParams` a scenario may give."""

    ectopic_rate: float
    missed_rate: float
    extra_rate: float
    lost_notification_rate: float
    contact_loss: tuple[tuple[float, float], ...]
    disconnects: tuple[tuple[float, float], ...]


def draw_strap(seed: int, role: str, **faults: Unpack[StrapFaults]) -> StrapParams:
    """Strap settings drawn from ``(seed, role)`` (battery, clock drift) plus the given faults."""
    rng = role_rng(seed, role, 3)
    return StrapParams(
        battery_pct=int(rng.integers(55, 101)),
        clock_drift_ppm=float(np.round(rng.uniform(-40.0, 40.0), 1)),
        **faults,
    )


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named simulation recipe.

    Parameters
    ----------
    name
        Scenario name (``simulate(name, ...)``).
    description
        One line for ``--help`` and the UI.
    roles
        Roles it produces.
    build
        ``build(duration_s, seed) -> SimulationRun``.
    """

    name: str
    description: str
    roles: tuple[str, ...]
    build: Callable[[float, int], SimulationRun]


def _dyad(name: str, duration_s: float, seed: int, coupling: Coupling | None = None,
          pacer: tuple[tuple[float, float], ...] = (),
          faults: dict[str, StrapFaults] | None = None) -> SimulationRun:
    persons = {r: replace(draw_person(seed, r), pacer=pacer) for r in DYAD}
    faults = faults or {}
    straps = {r: draw_strap(seed, r, **faults.get(r, {})) for r in DYAD}
    return simulate_people(persons, duration_s, seed, coupling=coupling, straps=straps,
                           scenario=name)


def _rest(duration_s: float, seed: int) -> SimulationRun:
    return simulate_people({"client": draw_person(seed, "client")}, duration_s, seed,
                           straps={"client": draw_strap(seed, "client")}, scenario="rest")


def _assessment(duration_s: float, seed: int) -> SimulationRun:
    steps = [(6.5, 120.0), (6.0, 120.0), (5.5, 120.0), (5.0, 120.0), (4.5, 120.0)]
    person = replace(draw_person(seed, "client"), pacer=schedule_from(steps, start_s=60.0))
    return simulate_people({"client": person}, duration_s, seed,
                           straps={"client": draw_strap(seed, "client")}, scenario="assessment")


def switching_intervals(duration_s: float) -> tuple[tuple[float, float], ...]:
    """Coupling-on intervals of ``switching``: off 0–120 s, on 120–300 s, off 300–480 s, ..."""
    out = []
    t0 = 120.0
    while t0 < duration_s:
        out.append((t0, min(t0 + 180.0, duration_s)))
        t0 += 360.0
    return tuple(out)


def _dropout_faults(duration_s: float) -> dict[str, StrapFaults]:
    c0 = 0.25 * duration_s
    d0 = 0.6 * duration_s
    return {
        "client": {
            "contact_loss": ((c0, c0 + min(20.0, 0.08 * duration_s)),),
            "disconnects": ((d0, d0 + min(15.0, 0.06 * duration_s)),),
        },
        "therapist": {"lost_notification_rate": 0.01},
    }


_ARTIFACTS: StrapFaults = {"ectopic_rate": 0.01, "missed_rate": 0.01, "extra_rate": 0.01}

#: Therapist leads the client by 3 s.
COUPLED = Coupling(leader="therapist", follower="client", strength=0.7, lag_s=3.0)

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("rest", "one person (client) at rest, spontaneous breathing", ("client",), _rest),
        Scenario("independent", "two uncoupled people at rest", DYAD,
                 lambda d, s: _dyad("independent", d, s)),
        Scenario("coupled", "therapist leads client by 3 s, coupling c = 0.7", DYAD,
                 lambda d, s: _dyad("coupled", d, s, COUPLED)),
        Scenario("weak", "therapist leads client by 3 s, weak coupling c = 0.4", DYAD,
                 lambda d, s: _dyad("weak", d, s, replace(COUPLED, strength=0.4))),
        Scenario("paced", "both breathe to one 6/min pacer, no coupling", DYAD,
                 lambda d, s: _dyad("paced", d, s, pacer=((0.0, 6.0),))),
        Scenario("switching", "c = 0.7 (therapist leads 3 s) on 120–300 s, 480–660 s, ...", DYAD,
                 lambda d, s: _dyad("switching", d, s,
                                    replace(COUPLED, intervals=switching_intervals(d)))),
        Scenario("artifacts", "coupled dyad with 1% each ectopic, missed and extra beats", DYAD,
                 lambda d, s: _dyad("artifacts", d, s, COUPLED,
                                    faults={r: _ARTIFACTS for r in DYAD})),
        Scenario("dropout", "coupled dyad; client loses contact, then disconnects; therapist "
                 "loses 1% of notifications", DYAD,
                 lambda d, s: _dyad("dropout", d, s, COUPLED, faults=_dropout_faults(d))),
        Scenario("assessment", "one client: 60 s spontaneous, then paced 6.5, 6, 5.5, 5, 4.5/min "
                 "for 2 min each (resonance-frequency assessment)", ("client",), _assessment),
    )
}


def simulate(scenario: str, duration_s: float = 600.0, seed: int = 1) -> SimulationRun:
    """Run a named scenario.

    Parameters
    ----------
    scenario
        A key of :data:`SCENARIOS`.
    duration_s
        Session length in seconds.
    seed
        Seed: the same ``(scenario, duration_s, seed)`` gives identical messages.

    Returns
    -------
    SimulationRun

    Raises
    ------
    KeyError
        Unknown scenario (the message lists the known ones).
    ValueError
        Non-positive duration.
    """
    try:
        recipe = SCENARIOS[scenario]
    except KeyError:
        raise KeyError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}") from None
    return recipe.build(float(duration_s), int(seed))
