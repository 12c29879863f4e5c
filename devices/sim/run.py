"""A complete simulated session: people, coupling, straps, messages and ground truth."""

from __future__ import annotations

import dataclasses
import heapq
import json
import zlib
from collections.abc import Iterator, Mapping
from typing import TypedDict, cast

import numpy as np
from numpy.typing import NDArray

from devices.sim.dyad import Coupling, couple_slow
from devices.sim.physiology import (
    BeatTruth,
    Modulation,
    PersonParams,
    ipfm_beats,
    modulation,
    time_grid,
)
from devices.sim.source import SharedClock, SimulatedSource
from devices.sim.strap import StrapOutput, StrapParams, emulate_strap
from devices.types import DeviceInfo, Message

#: Model name written into simulated devices' info.
SIM_MODEL = "H10 (simulated)"


def role_rng(seed: int, role: str, stream: int) -> np.random.Generator:
    """A generator for one role and one purpose, independent of every other role and purpose.

    Parameters
    ----------
    seed
        Run seed.
    role
        Role name (hashed with CRC-32, stable across Python runs).
    stream
        0 = person draw, 1 = physiology, 2 = strap.
    """
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(role.encode()), stream])


def device_info(role: str, scenario: str, seed: int) -> DeviceInfo:
    """The :class:`DeviceInfo` of a simulated strap."""
    return DeviceInfo(
        name=f"Simulated H10 ({role})",
        model=SIM_MODEL,
        manufacturer="coreg simulator",
        address=f"sim:{scenario}:{role}",
        simulated=True,
        extra={"scenario": scenario, "seed": int(seed)},
    )


class SimulationTruth(TypedDict):
    """The ground truth of a run, in plain JSON types (see :func:`simulate_people`)."""

    scenario: str
    seed: int
    duration_s: float
    coupling: float
    lag_s: float | None
    leader: str | None
    follower: str | None
    coupling_intervals: list[list[float]]
    breathing_rate_bpm: dict[str, float]
    pacer: dict[str, list[list[float]]]
    resonance_rate_bpm: dict[str, float]
    mean_hr_bpm: dict[str, float]
    artifacts: dict[str, dict[str, list[int]]]
    contact_loss: dict[str, list[list[float]]]
    disconnects: dict[str, list[list[float]]]
    lost_notifications: dict[str, int]
    persons: dict[str, dict[str, object]]
    straps: dict[str, dict[str, object]]


class SimulationRun:
    """The result of one simulation: everything a session or a test needs.

    Attributes
    ----------
    scenario, seed, duration_s
        What was simulated.
    roles
        Role names in a fixed order (``("client", "therapist")`` or ``("client",)``).
    truth
        JSON-serialisable ground truth (see :func:`simulate_people`).
    info
        Role → :class:`DeviceInfo` (``simulated=True``).
    beats
        Role → :class:`BeatTruth`, the true beats before the strap.
    persons
        Role → :class:`PersonParams` used.
    modulation
        Role → :class:`Modulation` (final, after coupling), for tests and plots.
    strap
        Role → :class:`StrapOutput`.
    """

    __slots__ = ("_clock", "beats", "duration_s", "info", "modulation", "persons", "roles",
                 "scenario", "seed", "strap", "truth")

    def __init__(
        self,
        scenario: str,
        seed: int,
        duration_s: float,
        roles: tuple[str, ...],
        truth: SimulationTruth,
        info: dict[str, DeviceInfo],
        beats: dict[str, BeatTruth],
        persons: dict[str, PersonParams],
        modulation: dict[str, Modulation],
        strap: dict[str, StrapOutput],
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.duration_s = duration_s
        self.roles = roles
        self.truth = truth
        self.info = info
        self.beats = beats
        self.persons = persons
        self.modulation = modulation
        self.strap = strap
        self._clock = SharedClock()

    def messages_for(self, role: str) -> tuple[Message, ...]:
        """One role's messages on the virtual clock from 0.0, in arrival order."""
        return self.strap[role].messages

    def messages(self) -> Iterator[Message]:
        """All roles' messages merged by arrival time (ties: role order), virtual clock from 0.0.

        Exactly what :meth:`sources` yield with ``realtime=False, start_s=0.0``.
        """
        return heapq.merge(*(self.strap[r].messages for r in self.roles),
                           key=lambda m: m.arrival_s)

    def align_origin(self, origin_s: float) -> None:
        """Real time: put simulation time 0 at ``origin_s`` on the host monotonic clock.

        Two processes simulating the same scenario and seed (``coreg stream`` on one side, a
        ``sim`` role on the other) then play one dyad; messages whose time passed before a
        source starts are skipped.
        """
        self._clock.align(origin_s)

    def sources(self, realtime: bool = False, start_s: float = 0.0) -> dict[str, SimulatedSource]:
        """Async sources, one per role.

        Parameters
        ----------
        realtime
            True: each message waits for its time on ``time.monotonic()`` (origin = when the
            first of this run's sources starts iterating) and carries ``arrival_s =
            time.monotonic()``. False: as fast as possible with ``arrival_s = start_s + t``.
        start_s
            Virtual start time (``realtime=False`` only).

        Returns
        -------
        dict
            Role → :class:`SimulatedSource` (each has ``.stop()``).
        """
        self._clock.reset_if_idle()
        return {
            role: SimulatedSource(role, self.info[role], self.strap[role].messages,
                                  realtime=realtime, start_s=start_s, clock=self._clock)
            for role in self.roles
        }


def _breathing_rate(person: PersonParams) -> float:
    if len(person.pacer) == 1 and person.pacer[0][0] <= 0.0 and person.pacer[0][1] > 0.0:
        return float(person.pacer[0][1])
    return float(person.breathing_rate_bpm)


def simulate_people(
    persons: Mapping[str, PersonParams],
    duration_s: float,
    seed: int,
    *,
    coupling: Coupling | None = None,
    straps: Mapping[str, StrapParams] | StrapParams | None = None,
    scenario: str = "custom",
) -> SimulationRun:
    """Simulate any set of people and straps (the building block behind :func:`simulate`).

    Parameters
    ----------
    persons
        Role → settings, in the role order wanted (e.g. ``{"client": PersonParams(...)}``).
    duration_s
        Session length in seconds.
    seed
        Seed; each role draws from its own stream, so adding a person leaves the others alone.
    coupling
        Who follows whom (:class:`Coupling`), or None for independent people.
    straps
        One :class:`StrapParams` for all, a role → params mapping, or None for clean defaults.
    scenario
        Name written into the truth and device info.

    Returns
    -------
    SimulationRun
        ``truth`` holds: scenario, seed, duration_s, coupling (strength, 0 when none), lag_s,
        leader, follower (None when uncoupled), coupling_intervals ``[[t0, t1], ...]``,
        breathing_rate_bpm, pacer (``[[t_s, rate_bpm], ...]``), resonance_rate_bpm, mean_hr_bpm
        (role → value), artifacts (role → kind → RR indices as emitted, see
        :class:`~devices.sim.strap.StrapOutput`), contact_loss and disconnects (role → windows),
        lost_notifications (role → count), persons and straps (role → all settings).

    Examples
    --------
    A client whose resonance is 5.5/min doing a resonance-frequency assessment after a minute
    of spontaneous breathing:

    >>> from devices.sim import PersonParams, schedule_from, simulate_people
    >>> steps = [(6.5, 120), (6.0, 120), (5.5, 120), (5.0, 120), (4.5, 120)]
    >>> client = PersonParams(resonance_rate_bpm=5.5, pacer=schedule_from(steps, start_s=60))
    >>> run = simulate_people({"client": client}, duration_s=700, seed=3)
    >>> run.roles
    ('client',)
    """
    if duration_s <= 0:
        raise ValueError(f"duration_s must be positive: {duration_s}")
    roles = tuple(persons)
    if not roles:
        raise ValueError("at least one person is needed")
    if coupling is not None:
        for r in (coupling.leader, coupling.follower):
            if r not in persons:
                raise ValueError(f"coupling names an unknown role: {r}")
    pad_s = 30.0 + (coupling.lag_s if coupling else 0.0)
    t = time_grid(duration_s, pad_s)
    mods = {r: modulation(role_rng(seed, r, 1), t, persons[r]) for r in roles}
    if coupling is not None and coupling.strength > 0:
        f, lead = coupling.follower, coupling.leader
        mods[f] = dataclasses.replace(
            mods[f], slow_bpm=couple_slow(t, mods[f].slow_bpm, mods[lead].slow_bpm, coupling,
                                          duration_s))
    beats: dict[str, BeatTruth] = {}
    strap_out: dict[str, StrapOutput] = {}
    strap_params: dict[str, StrapParams] = {}
    info = {r: device_info(r, scenario, seed) for r in roles}
    for r in roles:
        p = persons[r]
        rng = role_rng(seed, r, 2)
        hr = cast("NDArray[np.float64]", p.mean_hr_bpm + mods[r].rsa_bpm + mods[r].slow_bpm)
        beats[r] = ipfm_beats(t, hr, float(rng.uniform()), duration_s)
        strap_params[r] = straps.get(r, StrapParams()) if isinstance(straps, Mapping) else (
            straps or StrapParams())
        strap_out[r] = emulate_strap(rng, beats[r], strap_params[r], duration_s, r, info[r].name)
    coupled = coupling is not None and coupling.strength > 0
    truth: SimulationTruth = {
        "scenario": scenario,
        "seed": int(seed),
        "duration_s": float(duration_s),
        "coupling": float(coupling.strength) if coupled and coupling else 0.0,
        "lag_s": float(coupling.lag_s) if coupled and coupling else None,
        "leader": coupling.leader if coupled and coupling else None,
        "follower": coupling.follower if coupled and coupling else None,
        "coupling_intervals": coupling.on_intervals(duration_s) if coupled and coupling else [],
        "breathing_rate_bpm": {r: _breathing_rate(persons[r]) for r in roles},
        "pacer": {r: [list(x) for x in persons[r].pacer] for r in roles},
        "resonance_rate_bpm": {r: float(persons[r].resonance_rate_bpm) for r in roles},
        "mean_hr_bpm": {r: float(persons[r].mean_hr_bpm) for r in roles},
        "artifacts": {r: strap_out[r].artifacts for r in roles},
        "contact_loss": {r: strap_out[r].contact_loss for r in roles},
        "disconnects": {r: strap_out[r].disconnects for r in roles},
        "lost_notifications": {r: len(strap_out[r].lost_notifications) for r in roles},
        "persons": {r: dataclasses.asdict(persons[r]) for r in roles},
        "straps": {r: dataclasses.asdict(strap_params[r]) for r in roles},
    }
    # Plain JSON types only: the tuples inside the settings and windows become lists, which is
    # what the TypedDict says they are.
    truth = json.loads(json.dumps(truth))
    return SimulationRun(scenario, int(seed), float(duration_s), roles, truth, info, beats,
                         dict(persons), mods, strap_out)
