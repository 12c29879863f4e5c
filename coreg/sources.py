"""Resolving ``SRC`` strings (docs/design.md §5) into strap sources for a session.

A ``SRC`` names where one person's RR intervals come from:

``sim`` / ``sim:SCENARIO``
    A simulated strap (:mod:`devices.sim`); the default scenario is ``coupled``. When both roles
    of a dyad name the same scenario, ONE simulated run feeds both, so the simulated coupling
    between the two people is real.
``lsl:NAME``
    An LSL stream of RR (or IBI) intervals found by its name (:class:`devices.lsl.LslSource`):
    another coreg's ``coreg stream``, or a lab's own RR stream.
``ble-sim`` / ``ble-sim:SCENARIO``
    The emulated Bluetooth LE strap, reached through the real BLE code (:mod:`devices.ble`).
anything else
    A Bluetooth LE address or device name (:func:`devices.ble.open_source`).
``none``
    No strap for this role.

Heavy modules (the simulator, bleak) are imported only when a source of that kind is asked for.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from coreg.errors import InputError
from devices.types import DeviceInfo, Message, Source

if TYPE_CHECKING:
    from devices.ble import BleStrap, EmulatedBleStrap
    from devices.lsl import LslSource
    from devices.sim.run import SimulationRun, SimulationTruth

log = logging.getLogger(__name__)

DEFAULT_SCENARIO = "coupled"
#: Length of a simulated run when the session has no fixed duration, in seconds.
DEFAULT_SIM_DURATION_S = 4 * 3600.0
ROLES: tuple[str, ...] = ("client", "therapist")


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One parsed ``SRC`` string.

    Parameters
    ----------
    kind
        ``"sim"``, ``"ble-sim"``, ``"ble"``, ``"lsl"`` or ``"none"``.
    target
        The scenario (sim kinds), the LSL stream name or the BLE address/name.
    text
        The ``SRC`` as given.
    """

    kind: str
    target: str
    text: str

    @property
    def simulated(self) -> bool:
        """True for the simulator and the emulated strap."""
        return self.kind in ("sim", "ble-sim")


class SimulationHeader(TypedDict):
    """The recording header's ``simulation`` block (see :func:`simulation_header`)."""

    scenario: str | dict[str, str]
    seed: int | dict[str, int]
    truth: SimulationTruth | dict[str, SimulationTruth]


class RoleHeader(TypedDict, total=False):
    """One role's device description in the recording header (see ``header_roles``)."""

    name: str
    model: str
    address: str
    simulated: bool
    src: str
    lsl: object


@dataclass(slots=True)
class ResolvedSources:
    """The sources of a session and what the recording header needs to know about them.

    Attributes
    ----------
    sources
        Role → source, in role order.
    info
        Role → device description.
    specs
        Role → the parsed ``SRC``.
    simulation
        ``{"scenario", "seed", "truth"}`` when one simulated run feeds the session, else None;
        ``{"scenario": {role: ...}, ...}`` style dict when roles come from different runs.
    realtime
        False when sources run on a virtual clock as fast as possible.
    """

    sources: dict[str, Source]
    info: dict[str, DeviceInfo]
    specs: dict[str, SourceSpec]
    simulation: SimulationHeader | None = None
    realtime: bool = True
    start_s: float = 0.0
    runs: dict[str, SimulationRun] = field(default_factory=dict)

    @property
    def simulated(self) -> bool:
        """True if any role is simulated (the UI then shows SIMULATED)."""
        return any(spec.simulated for spec in self.specs.values())

    def header_roles(self) -> dict[str, RoleHeader]:
        """Role descriptions for the recording header."""
        out: dict[str, RoleHeader] = {}
        for role, info in self.info.items():
            out[role] = {
                "name": info.name,
                "model": info.model,
                "address": info.address,
                "simulated": info.simulated or self.specs[role].simulated,
                "src": self.specs[role].text,
            }
            if "lsl" in info.extra:
                out[role]["lsl"] = info.extra["lsl"]
        return out


def parse_src(text: str) -> SourceSpec:
    """Parse one ``SRC`` string.

    Raises
    ------
    InputError
        For an empty string or an empty scenario after ``sim:``.
    """
    src = text.strip()
    if not src:
        raise InputError("empty SRC: give sim, sim:SCENARIO, ble-sim or a BLE address/name")
    low = src.lower()
    if low == "none":
        return SourceSpec("none", "", src)
    if low.startswith("lsl:"):
        name = src[4:].strip()
        if not name:
            raise InputError(f"no stream name after 'lsl:' in SRC {text!r}")
        return SourceSpec("lsl", name, src)
    for kind in ("ble-sim", "sim"):
        if low == kind:
            return SourceSpec(kind, DEFAULT_SCENARIO, src)
        if low.startswith(kind + ":"):
            scenario = src[len(kind) + 1:].strip()
            if not scenario:
                raise InputError(f"no scenario after '{kind}:' in SRC {text!r}")
            return SourceSpec(kind, scenario, src)
    return SourceSpec("ble", src, src)


def default_specs(client: str | None, therapist: str | None) -> dict[str, SourceSpec]:
    """The specs of a dyad, filling in a role that was not given.

    With neither given, both are ``sim`` (the simulated dyad). A missing role copies the other
    role when that one is simulated (``--client sim:weak`` alone means a simulated ``weak``
    dyad); next to a real strap, a missing role stays empty.
    """
    if client is None and therapist is None:
        return {"client": parse_src("sim"), "therapist": parse_src("sim")}
    given = {"client": client, "therapist": therapist}
    specs: dict[str, SourceSpec] = {}
    for role, other in (("client", "therapist"), ("therapist", "client")):
        text, other_text = given[role], given[other]
        if text is not None:
            specs[role] = parse_src(text)
        elif other_text is not None:  # always, since not both are None
            other_spec = parse_src(other_text)
            specs[role] = other_spec if other_spec.kind == "sim" else SourceSpec("none", "", "none")
    return specs


def _simulate(scenario: str, duration_s: float, seed: int) -> SimulationRun:
    from devices import sim

    names = sim.SCENARIOS
    if scenario not in names:
        raise InputError(
            f"unknown scenario {scenario!r} (known: {', '.join(sorted(names))})"
        )
    try:
        return sim.simulate(scenario, duration_s=duration_s, seed=seed)
    except (KeyError, ValueError) as exc:
        raise InputError(f"cannot simulate scenario {scenario!r}: {exc}") from exc


def resolve(
    specs: Mapping[str, SourceSpec],
    *,
    duration_s: float | None = None,
    seed: int = 1,
    realtime: bool = True,
    start_s: float = 0.0,
    run: SimulationRun | None = None,
    ble_clock: Callable[[], float] | None = None,
    ble_speed: float = 1.0,
    ble_origin_s: float | None = None,
    sim_origin_s: float | None = None,
) -> ResolvedSources:
    """Open a source for each role.

    Parameters
    ----------
    specs
        Role → parsed ``SRC`` (roles with kind ``none`` are left out).
    duration_s
        Length of simulated runs in seconds (default :data:`DEFAULT_SIM_DURATION_S`).
    seed
        Seed of simulated runs.
    realtime
        Simulated sources pace themselves on the host monotonic clock (True) or run on a
        virtual clock as fast as possible starting at ``start_s`` (False; tests, benchmarks).
    start_s
        Virtual start time for ``realtime=False``.
    run
        A ready simulated run (``devices.sim.SimulationRun``) that ``sim`` and ``ble-sim``
        roles serve instead of simulating their scenario — e.g. the breathing client of
        ``coreg breathe``, simulated from the pacer schedule known in advance.
    ble_clock
        Host clock stamping the arrivals of ``ble-sim`` straps (default ``time.monotonic``;
        a scaled clock runs an emulated strap faster than real time, see
        :class:`coreg.session.clock.ScaledClock`).
    ble_speed
        Time compression of ``ble-sim`` notifications (the speed of ``ble_clock``).
    ble_origin_s
        Time on the ``ble-sim`` clock at which the simulated stream starts (the session
        start, so a breathing client stays in step with its pacer); None: when the strap is up.
    sim_origin_s
        Real time only: simulation time 0 of ``sim`` roles on the host monotonic clock (None:
        when the first source starts). A ``sim`` role next to an ``lsl:`` role that streams the
        same simulated scenario and seed (``coreg stream --device sim:...``) is aligned to the
        sender's run instead, so the two processes play one simulated dyad.

    Raises
    ------
    InputError
        Unknown scenario, or no role with a source.
    DeviceError
        The BLE layer is unavailable or cannot open the strap.
    """
    active = {role: spec for role, spec in specs.items() if spec.kind != "none"}
    if not active:
        raise InputError("no source given for any role")
    sim_duration_s = float(duration_s) if duration_s else DEFAULT_SIM_DURATION_S
    # A simulated run needs a little slack so the session's last seconds still have data.
    sim_duration_s += 5.0 if duration_s else 0.0
    given_run = run
    runs: dict[str, SimulationRun] = {}
    role_runs: dict[str, SimulationRun] = {}  # role -> the simulated run behind it
    sources: dict[str, Source] = {}
    info: dict[str, DeviceInfo] = {}
    for role, spec in active.items():
        if spec.kind == "sim":
            sim_run = given_run if given_run is not None else runs.get(spec.target)
            if sim_run is None:
                sim_run = _simulate(spec.target, sim_duration_s, seed)
            runs[sim_run.scenario if given_run is not None else spec.target] = sim_run
            if role not in sim_run.roles:
                # e.g. the one-person "rest" scenario asked for the therapist: use its only person.
                sim_role = sim_run.roles[0]
                log.info("scenario %s has no %s; using its %s", spec.target, role, sim_role)
            else:
                sim_role = role
            role_sources = sim_run.sources(realtime=realtime, start_s=start_s)
            src: Source = role_sources[sim_role]
            if sim_role != role:
                src = _Renamed(src, role)
            # Stop the run's other sources we do not use, lazily: they were never iterated.
            sources[role] = src
            info[role] = sim_run.info[sim_role]
            role_runs[role] = sim_run
        elif spec.kind == "lsl":
            sources[role] = _open_lsl(spec, role)
            info[role] = sources[role].info
        else:
            if spec.kind == "ble-sim":
                strap = _open_ble(spec, role, _EmulatedSettings(
                    duration_s=sim_duration_s, simulation=given_run, speed=ble_speed,
                    origin_s=ble_origin_s, base_seed=seed, clock=ble_clock))
            else:
                strap = _open_ble(spec, role)
            sources[role] = strap
            info[role] = strap.info
            if spec.kind == "ble-sim":
                from devices.ble.emulated import EmulatedBleStrap

                if isinstance(strap, EmulatedBleStrap) and strap.simulation is not None:
                    role_runs[role] = strap.simulation
    if realtime:
        _align_simulations(active, sources, role_runs, sim_origin_s)
    return ResolvedSources(sources=sources, info=info, specs=dict(active),
                           simulation=simulation_header(role_runs),
                           realtime=realtime, start_s=start_s, runs=runs)


def _align_simulations(specs: Mapping[str, SourceSpec], sources: Mapping[str, Source],
                       role_runs: Mapping[str, SimulationRun], sim_origin_s: float | None) -> None:
    from devices.lsl import LslSource

    remote = next((s.sim_origin for s in sources.values()
                   if isinstance(s, LslSource) and s.sim_origin is not None), None)
    for role, spec in specs.items():
        run = role_runs.get(role)
        if spec.kind != "sim" or run is None:
            continue
        if (remote is not None and remote["scenario"] == run.scenario
                and remote["seed"] == run.seed):
            log.info("simulated %s aligned to the LSL sender's %s run", role, run.scenario)
            run.align_origin(float(remote["origin_host_s"]))
        elif sim_origin_s is not None:
            run.align_origin(sim_origin_s)


def simulation_header(role_runs: Mapping[str, SimulationRun]) -> SimulationHeader | None:
    """The recording header's ``simulation`` block for the simulated runs behind the roles.

    One run (one simulated person or one simulated dyad) gives ``{"scenario", "seed",
    "truth"}``; several give ``{"scenario": {role: name}, "seed": seed or {role: seed},
    "truth": {name: truth}}`` (a name is ``scenario`` or, when two runs share a scenario,
    ``scenario:seed``). None when no role is simulated.
    """
    if not role_runs:
        return None
    # Runs of the same scenario and seed are the same simulation (each emulated strap of a
    # dyad simulates it for itself).
    distinct: dict[tuple[str, int], SimulationRun] = {(r.scenario, r.seed): r
                                                      for r in role_runs.values()}
    if len(distinct) == 1:
        (one,) = distinct.values()
        return {"scenario": one.scenario, "seed": one.seed, "truth": one.truth}
    scenarios = {role: r.scenario for role, r in role_runs.items()}
    seeds = {role: r.seed for role, r in role_runs.items()}
    same_scenario = len({r.scenario for r in distinct.values()}) < len(distinct)
    truth = {(f"{r.scenario}:{r.seed}" if same_scenario else r.scenario): r.truth
             for r in distinct.values()}
    seed: int | dict[str, int] = (next(iter(seeds.values())) if len(set(seeds.values())) == 1
                                  else seeds)
    return {"scenario": scenarios, "seed": seed, "truth": truth}


def _open_lsl(spec: SourceSpec, role: str) -> LslSource:
    from devices.lsl import LslSource

    return LslSource(spec.target, role)


@dataclass(frozen=True, slots=True)
class _EmulatedSettings:
    """What a ``ble-sim`` strap is opened with (see :func:`resolve`)."""

    duration_s: float
    simulation: SimulationRun | None
    speed: float
    origin_s: float | None
    base_seed: int
    clock: Callable[[], float] | None  # None: the host monotonic clock


def _open_ble(spec: SourceSpec, role: str,
              emulated: _EmulatedSettings | None = None) -> BleStrap | EmulatedBleStrap:
    from devices.ble import open_source

    if emulated is None:
        return open_source(spec.text, role)
    return open_source(spec.text, role, duration_s=emulated.duration_s,
                       simulation=emulated.simulation, speed=emulated.speed,
                       origin_s=emulated.origin_s, base_seed=emulated.base_seed,
                       clock=emulated.clock or time.monotonic)


class _Renamed:
    """A source whose messages carry another ``source_id`` (a one-person scenario as therapist)."""

    def __init__(self, inner: Source, source_id: str) -> None:
        self._inner = inner
        self.source_id = source_id
        self.info = inner.info

    async def __aiter__(self) -> AsyncIterator[Message]:
        from dataclasses import replace

        async for message in self._inner:
            yield replace(message, source_id=self.source_id)

    async def stop(self) -> None:
        await self._inner.stop()
