"""Simulated chest straps: physiology, dyad coupling, strap emulation, named scenarios.

Quick use::

    from devices.sim import SCENARIOS, simulate
    run = simulate("coupled", duration_s=600.0, seed=1)
    for msg in run.messages():        # RRSample / DeviceEvent, virtual clock from 0.0
        ...
    sources = run.sources(realtime=True)   # role -> async Source

Custom people (e.g. a client with a known resonance frequency breathing to a pacer schedule):
:func:`simulate_people` with :class:`PersonParams`, :class:`Coupling`, :class:`StrapParams` and
:func:`schedule_from`. Only numpy and the standard library are used.
"""

from __future__ import annotations

from devices.sim.dyad import Coupling
from devices.sim.physiology import BeatTruth, Modulation, PersonParams, schedule_from
from devices.sim.run import SimulationRun, simulate_people
from devices.sim.scenarios import SCENARIOS, Scenario, draw_person, draw_strap, simulate
from devices.sim.source import SimulatedSource
from devices.sim.strap import StrapParams

__all__ = [
    "SCENARIOS",
    "BeatTruth",
    "Coupling",
    "Modulation",
    "PersonParams",
    "Scenario",
    "SimulatedSource",
    "SimulationRun",
    "StrapParams",
    "draw_person",
    "draw_strap",
    "schedule_from",
    "simulate",
    "simulate_people",
]
