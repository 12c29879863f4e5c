"""An emulated Bluetooth LE heart-rate strap (Bumble), for tests and ``ble-sim`` sources.

:class:`EmulatedStrap` is a Bumble peripheral on an :class:`~devices.bumble_backend.EmulatedAir`
with the services a chest strap has — Heart Rate 0x180D (Measurement 0x2A37, notify; Body Sensor
Location 0x2A38 = chest), Battery 0x180F (Level 0x2A19, read/notify) and Device Information
0x180A (manufacturer 0x2A29, model 0x2A24) — advertising its name and 0x180D. It notifies the
raw payloads it is given (:meth:`EmulatedStrap.play` paces a stream of
:class:`~devices.types.RRSample` by their ``arrival_s``, optionally faster than real time), and
can be dropped from the peripheral side and kept out of reach for a while, like a strap walking
out of range. Like a real strap, it keeps producing while nobody listens: those payloads are
lost, and the strap keeps a log of what it sent and what it lost for tests to compare against.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bumble import gatt, hci
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.profiles.battery_service import BatteryService
from bumble.profiles.device_information_service import DeviceInformationService

from devices import hrm
from devices.bumble_backend import EmulatedAir, bumble_device
from devices.types import DeviceEvent, EventKind, RRSample

logger = logging.getLogger(__name__)

BODY_SENSOR_CHEST = 1


@dataclass(frozen=True, slots=True)
class NotificationLog:
    """One payload the strap produced, and whether a subscriber was there to receive it.

    Parameters
    ----------
    index
        Position in the stream the strap played (0-based).
    payload
        The raw 0x2A37 value.
    delivered
        True when it was notified to at least one subscribed central.
    online
        True when the strap was in range (not taken out by :meth:`EmulatedStrap.go_offline`):
        a payload lost while online was lost by the central, not by the strap's absence.
    t_s
        Host monotonic time it was produced (``time.monotonic``).
    """

    index: int
    payload: bytes
    delivered: bool
    online: bool = True
    t_s: float = 0.0


class EmulatedStrap:
    """A Bumble Heart Rate peripheral on an in-process radio.

    Parameters
    ----------
    air
        The emulated radio; by default the one shared on the running loop.
    name
        Advertised local name (and GAP device name).
    address
        Random static address; by default a fresh one from ``air``.
    battery_pct
        Battery level served on 0x2A19.
    manufacturer, model
        Device Information strings.
    advertising_interval_ms
        Advertising interval; short by default so scans in tests are quick.
    """

    def __init__(
        self,
        air: EmulatedAir | None = None,
        *,
        name: str = "coreg emulated HR",
        address: str | None = None,
        battery_pct: int = 87,
        manufacturer: str = "coreg",
        model: str = "Emulated HRM",
        advertising_interval_ms: float = 20.0,
    ) -> None:
        self.air = air if air is not None else EmulatedAir.for_running_loop()
        self.name = name
        self.address = address or self.air.next_peripheral_address()
        self.manufacturer = manufacturer
        self.model = model
        self._battery_pct = battery_pct
        self._advertising_interval_ms = advertising_interval_ms
        self._device: Device | None = None
        self._controller: Controller | None = None
        self._hrm_char: gatt.Characteristic[bytes] | None = None
        self._battery_service: BatteryService | None = None
        self._online = True
        self._play_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._close_task: asyncio.Task[None] | None = None
        self.log: list[NotificationLog] = []
        #: ``(time.monotonic(), online)`` at every :meth:`go_offline` / :meth:`come_online`.
        self.transitions: list[tuple[float, bool]] = []

    @property
    def device(self) -> Device:
        """The Bumble device (after :meth:`start`)."""
        if self._device is None:
            raise RuntimeError("EmulatedStrap.start() was not awaited")
        return self._device

    @property
    def battery_pct(self) -> int:
        """Battery level in percent."""
        return self._battery_pct

    async def set_battery_pct(self, value: int) -> None:
        """Change the battery level and notify subscribers of 0x2A19."""
        self._battery_pct = value
        if self._battery_service is not None:
            await self.device.notify_subscribers(
                self._battery_service.battery_level_characteristic, value
            )

    @property
    def subscribed(self) -> bool:
        """Whether some connected central has notifications on 0x2A37 enabled."""
        if self._device is None or self._hrm_char is None:
            return False
        handle = self._hrm_char.handle
        return any(
            (cccd.get(handle) or b"\x00")[0] & 0x01
            for cccd in self._device.gatt_server.subscribers.values()
        )

    @property
    def connection_count(self) -> int:
        """Number of open connections to this strap."""
        return 0 if self._device is None else len(self._device.connections)

    async def start(self) -> EmulatedStrap:
        """Power on, add the GATT services and start advertising. Returns self."""
        device, self._controller = bumble_device(self.air.link, self.name, self.address)
        self._hrm_char = gatt.Characteristic(
            gatt.GATT_HEART_RATE_MEASUREMENT_CHARACTERISTIC,
            gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.Permissions(0),
            b"",
        )
        location = gatt.Characteristic(
            gatt.GATT_BODY_SENSOR_LOCATION_CHARACTERISTIC,
            gatt.Characteristic.Properties.READ,
            gatt.Characteristic.READABLE,
            bytes([BODY_SENSOR_CHEST]),
        )
        device.add_service(gatt.Service(gatt.GATT_HEART_RATE_SERVICE, [self._hrm_char, location]))
        self._battery_service = BatteryService(lambda _connection: self._battery_pct)
        device.add_service(self._battery_service)
        device.add_service(
            DeviceInformationService(manufacturer_name=self.manufacturer, model_number=self.model)
        )
        device.advertising_data = bytes(
            AdvertisingData(
                [
                    (AdvertisingData.FLAGS, bytes([0x06])),
                    (
                        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                        bytes(UUID.from_16_bits(0x180D)),
                    ),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode("utf-8")),
                ]
            )
        )
        device.on(Device.EVENT_CONNECTION, self._on_connection)
        self.air.gatt_cache.pop(self.address, None)  # a new GATT database at this address
        await device.power_on()
        self._device = device
        await self._advertise()
        logger.debug("emulated strap %s (%s) advertising", self.name, self.address)
        return self

    async def _advertise(self) -> None:
        await self.device.start_advertising(
            advertising_interval_min=self._advertising_interval_ms,
            advertising_interval_max=self._advertising_interval_ms,
        )

    def _on_connection(self, connection: Connection) -> None:
        logger.debug("emulated strap %s: central connected", self.name)

        def restart(_reason: int) -> None:
            if self._online and self._device is not None:
                task = asyncio.get_running_loop().create_task(self._restart_advertising())
                self._background.add(task)
                task.add_done_callback(self._background.discard)

        connection.on(Connection.EVENT_DISCONNECTION, restart)

    async def _restart_advertising(self) -> None:
        device = self._device
        if device is None or not self._online:
            return
        try:
            await self._advertise()
        except Exception as exc:  # a stop() racing with the restart
            logger.debug("emulated strap %s: advertising not restarted: %s", self.name, exc)

    async def notify(self, payload: bytes) -> bool:
        """Send one 0x2A37 notification to every subscriber.

        Returns
        -------
        bool
            True when at least one subscribed central was there to receive it; the payload is
            logged either way (see :attr:`log`).
        """
        delivered = self._online and self.subscribed
        self.log.append(NotificationLog(len(self.log), bytes(payload), delivered, self._online,
                                        time.monotonic()))
        if delivered and self._hrm_char is not None:
            # shielded: a play task cancelled mid-send still sends what its log says it sent
            await asyncio.shield(self.device.notify_subscribers(self._hrm_char, bytes(payload)))
        return delivered

    async def drop(self, offline_s: float = 0.0) -> None:
        """Force a disconnect from the peripheral side.

        Parameters
        ----------
        offline_s
            Stay unreachable (not advertising, not answering connection requests) for this
            long before coming back; 0 disconnects and advertises again at once.
        """
        if offline_s <= 0:
            await self._disconnect_all(hci.HCI_CONNECTION_TIMEOUT_ERROR)
            return
        await self.go_offline()
        await asyncio.sleep(offline_s)
        await self.come_online()

    async def _disconnect_all(self, reason: int) -> None:
        if self._device is None:
            return
        for connection in list(self._device.connections.values()):
            try:
                await connection.disconnect(reason)
            except Exception as exc:  # the link may already be gone
                logger.debug("emulated strap %s: disconnect: %s", self.name, exc)

    async def go_offline(self) -> None:
        """Drop every connection and become unreachable (out of range) until :meth:`come_online`."""
        if not self._online:
            return
        self._online = False
        self.transitions.append((time.monotonic(), False))
        device = self.device
        await device.stop_advertising()
        await self._disconnect_all(hci.HCI_CONNECTION_TIMEOUT_ERROR)
        if self._controller in self.air.link.controllers:
            self.air.link.remove_controller(self._controller)

    async def come_online(self) -> None:
        """Become reachable again and advertise."""
        if self._online or self._device is None:
            return
        if self._controller is not None and self._controller not in self.air.link.controllers:
            self.air.link.add_controller(self._controller)
        self._online = True
        self.transitions.append((time.monotonic(), True))
        await self._advertise()

    def play(
        self,
        messages: Iterable[RRSample | DeviceEvent],
        *,
        speed: float = 1.0,
        from_s: float | None = None,
    ) -> asyncio.Task[None]:
        """Notify ``messages`` in the background, paced by their ``arrival_s``.

        Parameters
        ----------
        messages
            A strap's stream in order (e.g. one role of a ``devices.sim`` run). Each
            :class:`RRSample`'s ``payload`` is notified as is (one without payload bytes is
            encoded from ``hr_bpm``, ``rr_ms`` and ``contact``). Device events are acted out:
            ``DISCONNECTED`` takes the strap out of range until the next ``CONNECTED``, and
            ``BATTERY`` sets the battery level.
        speed
            Time compression: 10 sends ten seconds of notifications per second.
        from_s
            The stream's time (``arrival_s``) that corresponds to now: earlier messages are
            skipped (they happened before the strap was reached) and later ones keep their
            timing relative to it. Default: the first message plays now.

        Returns
        -------
        asyncio.Task
            The playing task; it ends when ``messages`` runs out or :meth:`close` is called.
        """
        if self._play_task is not None and not self._play_task.done():
            raise RuntimeError("already playing")
        self._play_task = asyncio.get_running_loop().create_task(
            self._play(messages, speed, from_s))
        return self._play_task

    async def _play(
        self, messages: Iterable[RRSample | DeviceEvent], speed: float, from_s: float | None
    ) -> None:
        loop = asyncio.get_running_loop()
        start_loop_s = loop.time()
        first_s: float | None = from_s
        for message in messages:
            if first_s is None:
                first_s = message.arrival_s
            elif message.arrival_s < first_s:
                continue
            due_s = start_loop_s + (message.arrival_s - first_s) / speed
            delay_s = due_s - loop.time()
            if delay_s > 0:
                await asyncio.sleep(delay_s)
            if isinstance(message, RRSample):
                payload = message.payload or hrm.encode(
                    message.hr_bpm, message.rr_ms, message.contact
                )
                await self.notify(payload)
            elif message.kind == EventKind.DISCONNECTED:
                await self.go_offline()
            elif message.kind == EventKind.CONNECTED:
                await self.come_online()
            elif message.kind == EventKind.BATTERY and message.value is not None:
                await self.set_battery_pct(round(message.value))

    async def stop_playing(self) -> None:
        """Stop the stream started by :meth:`play` (the strap stays connected and advertising)."""
        task, self._play_task = self._play_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def close(self) -> None:
        """Stop playing, disconnect everyone and leave the air (safe to call concurrently)."""
        if self._close_task is None:
            self._close_task = asyncio.get_running_loop().create_task(self._close())
        await asyncio.shield(self._close_task)

    async def _close(self) -> None:
        if self._play_task is not None:
            self._play_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._play_task
            self._play_task = None
        device = self._device
        if device is None:
            return
        self._online = False
        for task in list(self._background):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        try:
            await device.stop_advertising()
        except Exception as exc:
            logger.debug("emulated strap %s: stop advertising: %s", self.name, exc)
        await self._disconnect_all(
            hci.HCI_REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_POWER_OFF_ERROR
        )
        if self._controller in self.air.link.controllers:
            self.air.link.remove_controller(self._controller)
        self._device = None


def synthetic_rr_messages(
    source_id: str = "sim",
    *,
    seed: int = 0,
    mean_rr_ms: float = 900.0,
    rsa_amplitude_ms: float = 40.0,
    breathing_hz: float = 0.25,
    noise_ms: float = 15.0,
    duration_s: float | None = None,
) -> Iterator[RRSample]:
    """Yield a simple strap-like stream: one notification a second with the beats since the last.

    A fallback for the emulated strap when :mod:`devices.sim` is not available; RR follow a
    sinusoidal respiratory modulation plus Gaussian noise (no physiology model intended).

    Parameters
    ----------
    source_id
        Source id put into the samples.
    seed
        Random seed.
    mean_rr_ms, rsa_amplitude_ms, breathing_hz, noise_ms
        Mean RR, respiratory modulation amplitude and frequency, and white-noise SD.
    duration_s
        Stop after this many seconds; None runs forever.

    Yields
    ------
    RRSample
        With ``arrival_s`` from 1.0 in steps of 1 s and the encoded ``payload``.
    """
    rng = random.Random(seed)
    beat_s = 0.0
    pending: list[float] = []
    next_rr_ms: float | None = None
    tick_s = 1.0
    while duration_s is None or tick_s <= duration_s:
        while True:
            if next_rr_ms is None:
                drawn_ms = (
                    mean_rr_ms
                    + rsa_amplitude_ms * math.sin(2 * math.pi * breathing_hz * beat_s)
                    + rng.gauss(0.0, noise_ms)
                )
                next_rr_ms = hrm.rr_raw_to_ms(hrm.rr_ms_to_raw(drawn_ms))
            if beat_s + next_rr_ms / 1000.0 > tick_s:
                break
            beat_s += next_rr_ms / 1000.0
            pending.append(next_rr_ms)
            next_rr_ms = None
        hr_bpm = round(60000.0 / (sum(pending) / len(pending))) if pending else round(
            60000.0 / mean_rr_ms
        )
        payload = hrm.encode(hr_bpm, pending, contact=True)
        yield RRSample(source_id, tick_s, tuple(pending), hr_bpm, True, payload)
        pending = []
        tick_s += 1.0
