"""The one path from ``--speed`` to a session's clock (``coreg live``, ``coreg breathe``, the home
window; ``coreg replay`` reads its speed with the same :func:`parse_speed`).

A session runs on one of three clocks (docs/design.md §3):

- **real time**: sources stamp arrivals with the host's monotonic clock (real straps, and
  simulated ones at ``--speed 1`` or without ``--speed``);
- **a virtual clock** ("fast mode"): simulated straps (``sim``) computed ahead of time and played
  ``speed`` times faster than real time, or as fast as the machine goes (``--speed max``);
- **a scaled host clock** (:class:`ScaledClock`): emulated BLE straps (``ble-sim``) run through
  the real BLE code, whose notifications come ``speed`` times faster; the session and the
  straps read one clock so every time stays consistent. It cannot run "as fast as possible".

:func:`speed_plan` decides which one from the parsed ``--speed`` and the kinds of the sources.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from coreg.errors import InputError

#: What ``--speed`` works with, in ``coreg live``'s words (the default of :func:`speed_plan`).
SIMULATED_STRAPS = "simulated straps, all of one kind (sim:SCENARIO or ble-sim:SCENARIO)"


def parse_speed(text: str | None, *, choices: Sequence[float] | None = None) -> float | None:
    """The one reading of ``--speed``: None (not given) is real time, ``max`` is as fast as
    possible (inf), anything else a positive multiple of real time (one of ``choices`` when
    given, as for a replay's transport bar).

    Raises
    ------
    InputError
        Not a number, not positive, or not one of ``choices`` (one line).
    """
    if text is None:
        return None
    if text.strip().lower() == "max":
        return math.inf
    try:
        value = float(text)
    except ValueError as exc:
        raise InputError(f"--speed must be a number or 'max', not {text!r}") from exc
    if not value > 0:
        raise InputError("--speed must be positive")
    if choices is not None and value not in choices:
        listed = ", ".join("max" if math.isinf(c) else f"{c:g}" for c in choices)
        raise InputError(f"--speed must be one of {listed} (not {text})")
    return value


class ScaledClock:
    """A host monotonic clock running ``speed`` times faster than real time.

    A real-time session (and the ``ble-sim`` strap stamping arrivals) can share it so an
    emulated strap reached through the real BLE code runs faster than real time with every
    time on one consistent clock: the emulated peripheral plays its notifications ``speed``
    times faster, and the strap and the session read this clock.

    Parameters
    ----------
    speed
        Multiple of real time (> 0).
    base
        The underlying monotonic clock.
    """

    def __init__(self, speed: float, base: Callable[[], float] = time.monotonic) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError("speed must be a positive finite number")
        self.speed = float(speed)
        self._base = base
        self._origin_s = base()

    def __call__(self) -> float:
        """Seconds on the scaled clock (equal to the base clock at creation)."""
        return self._origin_s + (self._base() - self._origin_s) * self.speed


@dataclass(frozen=True, slots=True)
class SpeedPlan:
    """How a session's time runs (see the module's text).

    Attributes
    ----------
    requested
        The ``--speed`` asked for after defaults (None: real time; inf: as fast as possible).
    realtime
        Sources stamp arrivals with a host clock (the real one, or :attr:`ble_speed` times it).
    speed
        Virtual clock only: its multiple of real time; None runs as fast as the machine goes
        (and is the value for a real-time session).
    ble_speed
        Emulated BLE straps only: the multiple of the scaled host clock, else None.
    """

    requested: float | None
    realtime: bool
    speed: float | None
    ble_speed: float | None

    @property
    def fast(self) -> bool:
        """True for a virtual clock running as fast as possible (``--speed max``)."""
        return not self.realtime and self.speed is None

    def clock(self) -> Callable[[], float]:
        """The host clock the session (and an emulated strap) read: scaled, or monotonic."""
        return ScaledClock(self.ble_speed) if self.ble_speed is not None else time.monotonic


def speed_plan(speed: float | None, kinds: Collection[str], *, screenshot: bool = False,
               only_with: str = SIMULATED_STRAPS) -> SpeedPlan:
    """The clock of a session whose sources are of ``kinds`` at ``speed`` (:func:`parse_speed`).

    Parameters
    ----------
    speed
        The parsed ``--speed``: None or 1 is real time, a multiple, or inf (``max``).
    kinds
        The sources' kinds (``sim``, ``ble-sim``, ``ble``, ``lsl``, ``none``: see
        :mod:`coreg.sources`); ``none`` is ignored.
    screenshot
        A ``--screenshot`` run: simulated straps then default to ``max`` (the picture is taken
        at the end, nobody watches it run).
    only_with
        What ``--speed`` works with, for the one-line error (each command's own words).

    Raises
    ------
    InputError
        A speed the sources cannot honour: any speed but real time for real straps or LSL
        streams (or a mix of kinds), ``max`` for emulated straps.
    """
    active = {k for k in kinds if k != "none"}
    all_sim = active <= {"sim"}
    if speed is not None and speed != 1.0 and not all_sim:
        if active != {"ble-sim"}:
            raise InputError(f"--speed works only with {only_with}")
        if not math.isfinite(speed):
            raise InputError("ble-sim runs through the BLE stack on the host clock: give --speed "
                             "as a number (e.g. 20), not max")
        return SpeedPlan(speed, realtime=True, speed=None, ble_speed=speed)
    if speed is None and screenshot and all_sim:
        speed = math.inf
    realtime = speed is None or speed == 1.0
    virtual = None if realtime or speed is None or math.isinf(speed) else speed
    return SpeedPlan(speed, realtime=realtime, speed=virtual, ble_speed=None)
