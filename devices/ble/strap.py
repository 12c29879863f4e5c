"""One real strap as a source: connect, subscribe, stream RR, reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from devices import hrm
from devices.ble import backends
from devices.ble.addressing import is_address
from devices.ble.backends import PLATFORM, BleBackend, _adapter_error, connect_lock
from devices.ble.gatt import (
    BATTERY_LEVEL_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    _read_device_information,
)
from devices.errors import DeviceError, HrmParseError
from devices.types import DeviceEvent, DeviceInfo, EventKind, Message, RRSample

logger = logging.getLogger(__name__)

BACKOFF_INITIAL_S = 1.0
BACKOFF_MAX_S = 30.0


class _End:
    """Queue sentinel: the source has finished."""


class _NotFound(DeviceError):
    """The strap was not seen during a whole scan window."""


_END = _End()


class BleStrap:
    """A chest strap over Bluetooth LE, as a :class:`~devices.types.Source`.

    Iterating yields :class:`~devices.types.RRSample` (one per 0x2A37 notification, with the
    host arrival time) and :class:`~devices.types.DeviceEvent`: ``CONNECTING``, ``CONNECTED``,
    ``BATTERY`` (value = percent), ``CONTACT_LOST`` / ``CONTACT_REGAINED`` when the contact flag
    changes, ``DISCONNECTED``, ``RECONNECTING`` (value = seconds on ``clock`` until the next
    attempt, 0 when scanning on at once) and,
    last, ``STOPPED``. Malformed payloads are counted in :attr:`bad_payloads`, logged at debug
    level and dropped, never raised.

    Parameters
    ----------
    source_id
        Role of the wearer (``"client"``, ``"therapist"``).
    address_or_name
        Bluetooth address (UUID on macOS), or the advertised name (exact match first, else
        the first name that contains it, case-insensitive).
    backend
        bleak backend; the platform's by default.
    clock
        Returns host monotonic seconds; ``time.monotonic`` by default.
    connect_timeout_s
        Timeout of one connection attempt (discovery included).
    scan_timeout_s
        How long one attempt looks for the device before giving up.
    backoff_initial_s, backoff_max_s
        Delay after a failed connection (the strap was seen but could not be connected or
        set up): starts at ``backoff_initial_s``, doubles after each failure up to
        ``backoff_max_s``, resets after a successful connection; counted on ``clock``. A lost
        link or a scan window without the strap is followed by the next scan at once
        (``RECONNECTING`` with value 0): a strap back in range is found within one advertising
        interval, never after a blind wait.
    """

    def __init__(
        self,
        source_id: str,
        address_or_name: str,
        *,
        backend: BleBackend = PLATFORM,
        clock: Callable[[], float] = time.monotonic,
        connect_timeout_s: float = 20.0,
        scan_timeout_s: float = 10.0,
        backoff_initial_s: float = BACKOFF_INITIAL_S,
        backoff_max_s: float = BACKOFF_MAX_S,
    ) -> None:
        if not address_or_name.strip():
            raise DeviceError("no strap address or name given")
        self.source_id = source_id
        self.address_or_name = address_or_name.strip()
        self.backend = backend
        self.clock = clock
        self.connect_timeout_s = connect_timeout_s
        self.scan_timeout_s = scan_timeout_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        addr = self.address_or_name if is_address(self.address_or_name) else ""
        self.info = DeviceInfo(
            name="" if addr else self.address_or_name,
            address=addr,
            extra={"transport": "ble", "backend": backend.label},
        )
        self.bad_payloads = 0
        self.notifications = 0
        self.connections = 0
        self.battery_pct: int | None = None
        self._queue: asyncio.Queue[Message | _End] = asyncio.Queue()
        self._stop_event = asyncio.Event()
        self._wake = asyncio.Event()
        self._link_lost = False
        self._contact: bool | None = None
        self._client: BleakClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._error: DeviceError | None = None
        self._finished = False
        self._connecting = False
        self._held: list[Message] | None = None
        self._subscribed_s = 0.0

    # -- Source protocol ---------------------------------------------------------------
    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        self._start()
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _End):
                    break
                yield item
            if self._error is not None:
                raise self._error
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Stop: unsubscribe, disconnect, emit ``STOPPED``; safe to call more than once."""
        self._stop_event.set()
        self._wake.set()
        task = self._task
        if task is None:
            if not self._finished:
                self._finished = True
                self._emit(EventKind.STOPPED)
                self._queue.put_nowait(_END)
            return
        if not task.done() and task is not asyncio.current_task():
            if self._connecting:
                # A scan or connect in progress does not watch the stop event, and may last
                # the whole scan/connect timeout (or longer in a broken stack): interrupt it.
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)

    def _start(self) -> None:
        if self._task is None and not self._finished:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"ble-strap-{self.source_id}"
            )

    # -- events and notifications ------------------------------------------------------
    def _emit(
        self, kind: EventKind, value: float | None = None, detail: str = "",
        at_s: float | None = None,
    ) -> None:
        arrival_s = self.clock() if at_s is None else at_s
        self._queue.put_nowait(DeviceEvent(self.source_id, arrival_s, kind, value, detail))

    def _put(self, message: Message) -> None:
        """Queue a notification's message, or hold it until CONNECTED has been announced."""
        if self._held is not None:
            self._held.append(message)
        else:
            self._queue.put_nowait(message)

    def _announce_connected(self) -> None:
        """Emit CONNECTED and BATTERY, then what arrived since the subscription, in order."""
        at_s = self._subscribed_s
        self._emit(EventKind.CONNECTED, detail=f"{self.info.name} {self.info.address}".strip(),
                   at_s=at_s)
        if self.battery_pct is not None:
            self._emit(EventKind.BATTERY, float(self.battery_pct), at_s=at_s)
        held, self._held = self._held or [], None
        for message in held:
            self._queue.put_nowait(message)

    def _on_measurement(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        arrival_s = self.clock()
        self.notifications += 1
        payload = bytes(data)
        try:
            m = hrm.parse(payload)
        except HrmParseError as exc:
            self.bad_payloads += 1
            logger.debug("%s: bad 0x2A37 payload %s: %s", self.source_id, payload.hex(), exc)
            return
        if m.contact is not None and m.contact != self._contact:
            if not m.contact:
                self._put(DeviceEvent(self.source_id, arrival_s, EventKind.CONTACT_LOST))
            elif self._contact is False:
                self._put(DeviceEvent(self.source_id, arrival_s, EventKind.CONTACT_REGAINED))
        if m.contact is not None:
            self._contact = m.contact
        self._put(RRSample(self.source_id, arrival_s, m.rr_ms, m.hr_bpm, m.contact, payload))

    def _on_battery(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        if len(data) >= 1:
            self.battery_pct = int(data[0])
            self._put(DeviceEvent(self.source_id, self.clock(), EventKind.BATTERY,
                                  float(self.battery_pct)))

    def _on_disconnected(self, client: BleakClient) -> None:
        if client is self._client:
            self._link_lost = True
            self._wake.set()

    # -- connection loop ---------------------------------------------------------------
    async def _find_device(self) -> BLEDevice | None:
        target = self.address_or_name
        for device in await backends._os_connected_straps(self.backend):
            if target.casefold() in (device.address.casefold(), (device.name or "").casefold()):
                logger.info("%s: %s is already connected to this computer; reusing the link",
                            self.source_id, target)
                return device
        if is_address(target):
            return await BleakScanner.find_device_by_address(
                target, timeout=self.scan_timeout_s, **self.backend.scanner_args()
            )
        wanted = target.casefold()
        seen: list[BLEDevice] = []

        def matches(device: BLEDevice, adv: AdvertisementData) -> bool:
            name = (adv.local_name or device.name or "").casefold()
            if name == wanted:
                return True
            if wanted in name:
                seen.append(device)
            return False

        exact = await BleakScanner.find_device_by_filter(
            matches,
            timeout=self.scan_timeout_s,
            **self.backend.scanner_args([HEART_RATE_SERVICE_UUID]),
        )
        return exact if exact is not None else (seen[0] if seen else None)

    async def _connect(self) -> BleakClient:
        # Scan outside the connect lock: a strap still away must not hold up the other strap's
        # reconnect for a whole scan window. Only the connection itself is serialised.
        device = await self._find_device()
        if device is None:
            raise _NotFound(f"{self.address_or_name} not found")
        async with connect_lock():
            client = BleakClient(
                device,
                disconnected_callback=self._on_disconnected,
                timeout=self.connect_timeout_s,
                backend=self.backend.client,
            )
            self._client = client
            self._link_lost = False
            await client.connect()
            try:
                await self._set_up(client, device)
            except BaseException:
                await self._release(client)
                raise
        return client

    async def _set_up(self, client: BleakClient, device: BLEDevice) -> None:
        services = client.services
        if services.get_characteristic(HEART_RATE_MEASUREMENT_UUID) is None:
            raise DeviceError(f"{device.address} has no Heart Rate Measurement characteristic")
        if self.connections == 0:
            dis = await _read_device_information(client)
            self.info = dataclasses.replace(
                self.info,
                name=device.name or self.info.name,
                address=device.address,
                manufacturer=dis.get("manufacturer", self.info.manufacturer),
                model=dis.get("model", self.info.model),
            )
        # Notifications arriving before CONNECTED is announced are held, so the stream reads
        # CONNECTED, BATTERY, then samples and battery updates, with non-decreasing times.
        self._subscribed_s = self.clock()
        self._held = []
        battery = services.get_characteristic(BATTERY_LEVEL_UUID)
        if battery is not None:
            try:
                value = await client.read_gatt_char(battery)
                if value:
                    self.battery_pct = int(value[0])
                if "notify" in battery.properties:
                    await client.start_notify(battery, self._on_battery)
            except (BleakError, TimeoutError) as exc:
                logger.debug("%s: battery not read: %s", self.source_id, exc)
        self._contact = None
        await client.start_notify(HEART_RATE_MEASUREMENT_UUID, self._on_measurement)

    async def _release(self, client: BleakClient) -> None:
        """Unsubscribe and disconnect, tolerating a link that is already gone."""
        if client.is_connected:
            with contextlib.suppress(BleakError, TimeoutError, OSError, DeviceError):
                await asyncio.wait_for(client.stop_notify(HEART_RATE_MEASUREMENT_UUID), 2.0)
        with contextlib.suppress(BleakError, TimeoutError, OSError):
            await asyncio.wait_for(client.disconnect(), 5.0)

    async def _sleep_unless_stopped(self, delay_s: float) -> bool:
        """Sleep ``delay_s`` seconds of :attr:`clock` (the session's: faster than the wall when
        the session runs faster); return True when stopped meanwhile."""
        deadline_s = self.clock() + delay_s
        while not self._stop_event.is_set():
            left_s = deadline_s - self.clock()
            if left_s <= 0:
                break
            # wake often enough to follow a clock that runs faster than the wall
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), timeout=min(left_s, 0.02))
        return self._stop_event.is_set()

    async def _run(self) -> None:
        delay_s = self.backoff_initial_s
        client: BleakClient | None = None
        try:
            while not self._stop_event.is_set():
                self._emit(EventKind.CONNECTING, detail=self.address_or_name)
                self._connecting = True
                scan_started_s = time.monotonic()
                try:
                    client = await self._connect()
                except (BleakError, DeviceError, TimeoutError, OSError) as exc:
                    self._connecting = False
                    self._held = None
                    fatal = _adapter_error(exc)
                    if fatal is not None:
                        raise fatal from exc
                    client = None
                    reason = f"connect failed: {exc}" if str(exc) else "connect failed"
                    logger.info("%s: %s", self.source_id, reason)
                    # Not seen in a whole scan window: scan again at once (a strap that comes
                    # back is found within one advertising interval). A scan that ended early
                    # or a failed connection backs off instead, so nothing spins.
                    full_scan = (time.monotonic() - scan_started_s
                                 >= 0.9 * self.scan_timeout_s)
                    if isinstance(exc, _NotFound) and full_scan:
                        self._emit(EventKind.RECONNECTING, value=0.0, detail=reason)
                        continue
                else:
                    self._connecting = False
                    self.connections += 1
                    delay_s = self.backoff_initial_s
                    self._announce_connected()
                    while not (self._stop_event.is_set() or self._link_lost):
                        await self._wake.wait()
                        self._wake.clear()
                    if self._stop_event.is_set():
                        break
                    client = None
                    self._emit(EventKind.DISCONNECTED, detail="link lost")
                    if self._stop_event.is_set():
                        break
                    # Look for it again at once: no blind wait after a lost link.
                    self._emit(EventKind.RECONNECTING, value=0.0, detail="link lost")
                    continue
                if self._stop_event.is_set():
                    break
                self._emit(EventKind.RECONNECTING, value=delay_s, detail=reason)
                if await self._sleep_unless_stopped(delay_s):
                    break
                delay_s = min(delay_s * 2.0, self.backoff_max_s)
        except DeviceError as exc:
            self._error = exc
        finally:
            self._connecting = False
            self._held = None
            if client is not None:
                await self._release(client)
                self._emit(EventKind.DISCONNECTED, detail="stopped")
            elif self._client is not None:  # stopped in the middle of a connect
                await self._release(self._client)
            self._client = None
            self._finished = True
            self._emit(EventKind.STOPPED)
            self._queue.put_nowait(_END)
