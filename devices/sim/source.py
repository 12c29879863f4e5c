"""Async sources that play a simulated strap's messages (:class:`devices.types.Source`)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Sequence

from devices.types import DeviceEvent, DeviceInfo, EventKind, Message

log = logging.getLogger(__name__)

#: In virtual-time mode, yield control to the event loop after this many messages.
_YIELD_EVERY = 32


class SharedClock:
    """The real-time origin shared by all sources of one simulated run.

    The origin is taken from ``time.monotonic()`` when the first source starts iterating, so the
    two straps of a dyad keep their simulated relative timing however late each is started.
    """

    __slots__ = ("active", "aligned", "origin_s")

    def __init__(self) -> None:
        self.origin_s: float | None = None
        self.active = 0
        #: True when the origin was set from outside (:meth:`align`): messages whose time
        #: passed before a source started are then skipped, not stamped late.
        self.aligned = False

    def align(self, origin_s: float) -> None:
        """Fix the origin on the host monotonic clock (e.g. to another process's run)."""
        self.origin_s = float(origin_s)
        self.aligned = True

    def origin(self) -> float:
        """The monotonic time of simulation time 0 (set on first use)."""
        if self.origin_s is None:
            self.origin_s = time.monotonic()
        return self.origin_s

    def reset_if_idle(self) -> None:
        """Forget the origin when no source is iterating (a fresh set of sources starts anew)."""
        if self.active == 0 and not self.aligned:
            self.origin_s = None


class SimulatedSource:
    """One simulated strap as an async source.

    Parameters
    ----------
    source_id
        Role of the strap.
    info
        Device description (``simulated=True``).
    messages
        The role's messages on the simulation clock (from 0.0), in arrival order, ending with
        a STOPPED event.
    realtime
        True: wait until each message's time on the host monotonic clock and stamp
        ``arrival_s = time.monotonic()``. False: yield as fast as possible with
        ``arrival_s = start_s + t``.
    start_s
        Virtual start time for ``realtime=False``.
    clock
        Real-time origin shared with the run's other sources.

    Notes
    -----
    :meth:`stop` ends the iteration at the next message (waking a real-time wait at once); the
    last message is always a STOPPED event.
    """

    def __init__(
        self,
        source_id: str,
        info: DeviceInfo,
        messages: Sequence[Message],
        *,
        realtime: bool = False,
        start_s: float = 0.0,
        clock: SharedClock | None = None,
    ) -> None:
        self.source_id = source_id
        self.info = info
        self._messages = messages
        self._realtime = realtime
        self._start_s = float(start_s)
        self._clock = clock or SharedClock()
        self._stopped = False
        self._wake: asyncio.Event | None = None

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def stop(self) -> None:
        """Stop the source: iteration ends with a STOPPED event."""
        self._stopped = True
        if self._wake is not None:
            self._wake.set()

    async def _sleep_until(self, t_monotonic_s: float) -> None:
        wait = t_monotonic_s - time.monotonic()
        if wait <= 0:
            return
        if self._wake is None:
            self._wake = asyncio.Event()
        if self._stopped:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _iterate(self) -> AsyncIterator[Message]:
        self._clock.active += 1
        last_t = self._start_s
        began_s = time.monotonic()
        try:
            for i, msg in enumerate(self._messages):
                if self._stopped:
                    break
                if (self._realtime and self._clock.aligned
                        and self._clock.origin() + msg.arrival_s < began_s):
                    continue  # before this source started: never stamped late
                if self._realtime:
                    await self._sleep_until(self._clock.origin() + msg.arrival_s)
                    if self._stopped:
                        break
                    last_t = time.monotonic()
                else:
                    last_t = self._start_s + msg.arrival_s
                    if i % _YIELD_EVERY == _YIELD_EVERY - 1:
                        await asyncio.sleep(0)
                yield dataclasses.replace(msg, arrival_s=last_t)
                if isinstance(msg, DeviceEvent) and msg.kind is EventKind.STOPPED:
                    return
            if self._realtime:
                last_t = time.monotonic()
            log.debug("simulated %s stopped early", self.source_id)
            yield DeviceEvent(self.source_id, last_t, EventKind.STOPPED, detail="stopped")
        finally:
            self._clock.active -= 1
