"""Resolving ``SRC`` strings (DESIGN.md §5) into strap sources for a session.

A ``SRC`` names where one person's RR intervals come from:

``sim`` / ``sim:SCENARIO``
    A simulated strap (:mod:`devices.sim`); the default scenario is ``coupled``. When both roles
    of a dyad name the same scenario, ONE simulated run feeds both, so the simulated coupling
    between the two people is real.
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from coreg.errors import DeviceError, InputError
from devices.types import DeviceInfo, Source

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
        ``"sim"``, ``"ble-sim"``, ``"ble"`` or ``"none"``.
    target
        The scenario (sim kinds) or the BLE address/name.
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
    simulation: dict[str, Any] | None = None
    realtime: bool = True
    start_s: float = 0.0
    runs: dict[str, Any] = field(default_factory=dict)

    @property
    def simulated(self) -> bool:
        """True if any role is simulated (the UI then shows SIMULATED)."""
        return any(spec.simulated for spec in self.specs.values())

    def header_roles(self) -> dict[str, dict[str, Any]]:
        """Role descriptions for the recording header."""
        out: dict[str, dict[str, Any]] = {}
        for role, info in self.info.items():
            out[role] = {
                "name": info.name,
                "model": info.model,
                "address": info.address,
                "simulated": info.simulated or self.specs[role].simulated,
                "src": self.specs[role].text,
            }
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
        text = given[role]
        if text is not None:
            specs[role] = parse_src(text)
        else:
            other_spec = parse_src(given[other])  # type: ignore[arg-type]
            specs[role] = other_spec if other_spec.kind == "sim" else SourceSpec("none", "", "none")
    return specs


def _simulate(scenario: str, duration_s: float, seed: int) -> Any:
    try:
        from devices import sim
    except ImportError as exc:  # pragma: no cover - only before devices.sim exists
        raise DeviceError(f"the strap simulator is not available ({exc})") from exc
    names = getattr(sim, "SCENARIOS", None)
    if names is not None and scenario not in names:
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
    runs: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    info: dict[str, DeviceInfo] = {}
    for role, spec in active.items():
        if spec.kind == "sim":
            run = runs.get(spec.target)
            if run is None:
                run = runs[spec.target] = _simulate(spec.target, sim_duration_s, seed)
            if role not in run.roles:
                # e.g. the one-person "rest" scenario asked for the therapist: use its only person.
                sim_role = run.roles[0]
                log.info("scenario %s has no %s; using its %s", spec.target, role, sim_role)
            else:
                sim_role = role
            role_sources = run.sources(realtime=realtime, start_s=start_s)
            src = role_sources[sim_role]
            if sim_role != role:
                src = _Renamed(src, role)
            # Stop the run's other sources we do not use, lazily: they were never iterated.
            sources[role] = src
            info[role] = run.info[sim_role]
        else:
            sources[role] = _open_ble(spec, role)
            info[role] = getattr(sources[role], "info", DeviceInfo(name=spec.target))
    simulation: dict[str, Any] | None = None
    if runs:
        scenarios = {role: spec.target for role, spec in active.items() if spec.kind == "sim"}
        if len(runs) == 1:
            (scenario, run), = runs.items()
            simulation = {"scenario": scenario, "seed": seed, "truth": run.truth}
        else:
            simulation = {"scenario": scenarios, "seed": seed,
                          "truth": {name: run.truth for name, run in runs.items()}}
    return ResolvedSources(sources=sources, info=info, specs=dict(active), simulation=simulation,
                           realtime=realtime, start_s=start_s, runs=runs)


def _open_ble(spec: SourceSpec, role: str) -> Source:
    try:
        from devices import ble
    except ImportError as exc:
        raise DeviceError(
            f"Bluetooth LE support is not available ({exc}); use --{role} sim instead"
        ) from exc
    opener = getattr(ble, "open_source", None)
    if opener is None:
        raise DeviceError("Bluetooth LE support is not available (devices.ble.open_source missing)")
    return opener(spec.text, role)


class _Renamed:
    """A source whose messages carry another ``source_id`` (a one-person scenario as therapist)."""

    def __init__(self, inner: Source, source_id: str) -> None:
        self._inner = inner
        self.source_id = source_id
        self.info = inner.info

    async def __aiter__(self) -> Any:
        from dataclasses import replace

        async for message in self._inner:
            yield replace(message, source_id=self.source_id)

    async def stop(self) -> None:
        await self._inner.stop()
