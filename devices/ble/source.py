"""Opening a BLE source from its ``SRC`` spelling."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from devices.ble.addressing import parse_emulated_src
from devices.ble.backends import PLATFORM, BleBackend
from devices.ble.emulated import EmulatedBleStrap
from devices.ble.strap import BleStrap
from devices.errors import DeviceError

if TYPE_CHECKING:
    from devices.sim.run import SimulationRun


def open_source(
    src: str,
    source_id: str,
    *,
    backend: BleBackend = PLATFORM,
    clock: Callable[[], float] = time.monotonic,
    speed: float = 1.0,
    seed: int | None = None,
    base_seed: int | None = None,
    duration_s: float = 4 * 3600.0,
    simulation: SimulationRun | None = None,
    origin_s: float | None = None,
) -> BleStrap | EmulatedBleStrap:
    """Open a BLE source from a ``SRC`` spelling.

    Parameters
    ----------
    src
        A Bluetooth address (UUID on macOS) or advertised name of a strap, or ``ble-sim`` /
        ``ble-sim:SCENARIO`` for an emulated strap reached through the real BLE code.
    source_id
        Role of the wearer.
    backend
        bleak backend for a real strap (ignored for ``ble-sim``).
    clock
        Host monotonic clock for arrival times.
    speed, seed, base_seed, duration_s
        For ``ble-sim``: time compression, simulation seed (or the session's seed it is
        derived from, see :class:`EmulatedBleStrap`) and length of the simulated stream in s.
    simulation, origin_s
        For ``ble-sim``: a ready ``devices.sim`` run to serve instead of the scenario's, and
        the time on ``clock`` at which its stream starts (see :class:`EmulatedBleStrap`).

    Returns
    -------
    BleStrap or EmulatedBleStrap
        A :class:`~devices.types.Source`; nothing connects until it is iterated.

    Raises
    ------
    DeviceError
        For an empty ``src`` or a ``sim`` spelling (simulated straps without BLE live in
        :mod:`devices.sim`).
    """
    text = src.strip()
    scenario = parse_emulated_src(text)
    if scenario is not None:
        return EmulatedBleStrap(source_id, scenario, seed=seed, base_seed=base_seed,
                                speed=speed, clock=clock,
                                duration_s=duration_s, simulation=simulation,
                                origin_s=origin_s)
    if not text:
        raise DeviceError("empty strap address or name")
    if text == "sim" or text.startswith("sim:"):
        raise DeviceError(f"{src!r} is a simulated strap, not a BLE device (use devices.sim)")
    return BleStrap(source_id, text, backend=backend, clock=clock)
