"""``ble-sim``: an emulated strap (Bumble) reached through the real BLE code."""

from __future__ import annotations

import itertools
import logging
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypedDict

from devices.ble.backends import BleBackend
from devices.ble.strap import BACKOFF_INITIAL_S, BACKOFF_MAX_S, BleStrap
from devices.errors import DeviceError
from devices.types import DeviceEvent, DeviceInfo, Message, RRSample

if TYPE_CHECKING:
    from devices.peripheral import EmulatedStrap
    from devices.sim.run import SimulationRun

logger = logging.getLogger(__name__)


class _StrapSettings(TypedDict):
    """The keyword arguments of the inner :class:`BleStrap` other than its role and address."""

    clock: Callable[[], float]
    backoff_initial_s: float
    backoff_max_s: float
    connect_timeout_s: float
    scan_timeout_s: float


class EmulatedBleStrap:
    """A ``ble-sim`` source: an emulated strap reached through the real BLE code.

    On iteration it starts an :class:`~devices.peripheral.EmulatedStrap` on the loop's
    :class:`~devices.bumble_backend.EmulatedAir`, plays a simulated person's notifications on it
    (``devices.sim`` when available, else :func:`devices.peripheral.synthetic_rr_messages`),
    and yields what a :class:`BleStrap` connected to it through the Bumble bleak backend
    receives.

    Parameters
    ----------
    source_id
        Role of the simulated wearer.
    scenario
        ``devices.sim`` scenario name (default ``"rest"``).
    seed
        Simulation seed. By default derived from the scenario alone when the scenario has
        several people, so ``--client ble-sim:coupled --therapist ble-sim:coupled`` are the
        two people of ONE simulated (coupled) dyad; for a one-person scenario it also depends
        on ``source_id``, so two roles are two different people.
    base_seed
        The session's ``--seed``: used as the seed of a several-person scenario, and mixed
        with ``source_id`` for a one-person one (ignored when ``seed`` is given).
    speed
        Time compression of the notifications (1 = real time).
    duration_s
        Length of the simulated stream in seconds (keep it short for a short session: the
        whole stream is simulated before the strap starts).
    simulation
        A ready ``devices.sim`` run to play instead of simulating ``scenario`` (e.g. the
        breathing client of ``coreg breathe``, whose pacer is known in advance); its
        scenario and seed then describe the strap.
    origin_s
        Time on ``clock`` at which the simulated stream starts (e.g. the session start, so a
        breathing client stays in step with the pacer): notifications due before the strap
        is up are skipped, as for a real strap put on before the app connects. Default: the
        stream starts when the emulated strap does.
    clock, backoff_initial_s, backoff_max_s, connect_timeout_s
        Passed to the inner :class:`BleStrap`.
    """

    def __init__(
        self,
        source_id: str,
        scenario: str = "rest",
        *,
        seed: int | None = None,
        base_seed: int | None = None,
        speed: float = 1.0,
        duration_s: float = 4 * 3600.0,
        simulation: SimulationRun | None = None,
        origin_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        backoff_initial_s: float = BACKOFF_INITIAL_S,
        backoff_max_s: float = BACKOFF_MAX_S,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.source_id = source_id
        if simulation is not None:
            scenario, seed = simulation.scenario, simulation.seed
            duration_s = simulation.duration_s
        self.scenario = scenario or "rest"
        self.seed = seed if seed is not None else _default_seed(self.scenario, source_id,
                                                                 base_seed)
        self.speed = speed
        self.duration_s = duration_s
        self.origin_s = origin_s
        self._clock = clock
        self._strap_kwargs: _StrapSettings = {
            "clock": clock,
            "backoff_initial_s": backoff_initial_s,
            "backoff_max_s": backoff_max_s,
            "connect_timeout_s": connect_timeout_s,
            "scan_timeout_s": 5.0,
        }
        self.simulation: SimulationRun | None = (simulation if simulation is not None
                                                 else self._simulate())
        self.name = f"coreg emulated HR ({source_id})"
        crc = zlib.crc32(b"ble-sim:" + source_id.encode())
        self.address = f"F0:C0:4E:{(crc >> 16) & 0xFF:02X}:{(crc >> 8) & 0xFF:02X}:{crc & 0xFF:02X}"
        self.info = DeviceInfo(
            name=self.name,
            model="Emulated HRM",
            manufacturer="coreg",
            address=self.address,
            simulated=True,
            extra={
                "transport": "ble-emulated",
                "scenario": self.scenario,
                "seed": self.seed,
                "speed": speed,
            },
        )
        self.peripheral: EmulatedStrap | None = None
        self.strap: BleStrap | None = None
        self._stopped = False
        # Import Bumble now, not when the session has started: on a clock --speed times
        # faster than real time, its ~2 s import would cost minutes of the session.
        import devices.peripheral  # noqa: F401

    def _simulate(self) -> SimulationRun | None:
        """Run ``devices.sim`` for the scenario (None when the simulator is not installed)."""
        try:
            from devices.sim import SCENARIOS, simulate
        except ImportError:
            logger.info("devices.sim not available: the emulated strap plays synthetic RR")
            return None
        if self.scenario not in SCENARIOS:
            raise DeviceError(
                f"unknown scenario {self.scenario!r} for ble-sim; known: {', '.join(SCENARIOS)}"
            )
        return simulate(self.scenario, self.duration_s, self.seed)

    def _messages(self) -> Iterable[RRSample | DeviceEvent]:
        if self.simulation is not None:
            return _one_person(self.simulation.messages(), self.source_id)
        from devices.peripheral import synthetic_rr_messages

        return synthetic_rr_messages(self.source_id, seed=self.seed, duration_s=self.duration_s)

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        from devices.peripheral import EmulatedStrap

        if self._stopped:
            return
        peripheral = EmulatedStrap(
            name=self.name, address=self.address, manufacturer="coreg", model="Emulated HRM"
        )
        self.peripheral = peripheral
        await peripheral.start()
        strap = BleStrap(
            self.source_id,
            peripheral.address,
            backend=BleBackend.emulated(peripheral.air),
            **self._strap_kwargs,
        )
        self.strap = strap
        if self._stopped:  # stop() came while the emulated strap was starting
            await strap.stop()
        try:
            from_s = (None if self.origin_s is None
                      else max(0.0, self._clock() - self.origin_s))
            peripheral.play(self._messages(), speed=self.speed, from_s=from_s)
            async for message in strap:
                yield message
        finally:
            await strap.stop()
            await peripheral.close()

    async def stop(self) -> None:
        """Stop the inner strap source (which ends the iteration), then the emulated strap.

        Everything is released here, not left to the iterator's finalisation: a consumer may
        stop the source and abandon the iteration without closing it.
        """
        self._stopped = True
        if self.strap is not None:
            await self.strap.stop()
        if self.peripheral is not None:
            await self.peripheral.close()

    @property
    def bad_payloads(self) -> int:
        """Malformed payloads received so far."""
        return 0 if self.strap is None else self.strap.bad_payloads


def _default_seed(scenario: str, source_id: str, base: int | None = None) -> int:
    """Seed of a ``ble-sim`` run: shared by the roles of one multi-person scenario (``base``
    itself when given), different per role for a one-person scenario."""
    try:
        from devices.sim import SCENARIOS
    except ImportError:
        roles: tuple[str, ...] = ()
    else:
        known = SCENARIOS.get(scenario)
        roles = tuple(known.roles) if known is not None else ()
    if len(roles) > 1:
        if base is not None:
            return base
        key = f"ble-sim:{scenario}"
    else:
        key = f"ble-sim:{scenario}:{source_id}" + ("" if base is None else f":{base}")
    return zlib.crc32(key.encode()) % 100_000


def _one_person(messages: Iterable[object], source_id: str) -> Iterator[RRSample | DeviceEvent]:
    """Keep one wearer's stream (samples and events) from a run that may hold two people.

    The wearer is ``source_id`` when it appears among the first samples, else the first id.
    """
    it = (m for m in messages if isinstance(m, RRSample | DeviceEvent))
    head = list(itertools.islice(it, 40))
    ids = [m.source_id for m in head if isinstance(m, RRSample)]
    chosen = source_id if source_id in ids else (ids[0] if ids else source_id)
    for m in itertools.chain(head, it):
        if m.source_id == chosen:
            yield m
