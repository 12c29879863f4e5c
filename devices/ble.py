"""Bluetooth LE heart-rate straps through bleak: scan, connect, stream RR, reconnect.

This is the only module that imports bleak. :func:`scan` lists devices advertising the Heart
Rate Service (0x180D); :class:`BleStrap` is a :class:`~devices.types.Source` for one strap: it
connects by address or name (connects of all straps on a loop are serialised by one lock, as
several BLE stacks mishandle simultaneous connection attempts), subscribes to Heart Rate
Measurement (0x2A37), parses every notification with :func:`devices.hrm.parse`, reads the
battery (0x2A19), and on a lost link reconnects with exponential backoff (1 s doubling to 30 s)
until stopped, emitting :class:`~devices.types.DeviceEvent` throughout. It never pairs, so it
never leaves a bond behind, and it unsubscribes and disconnects on :meth:`BleStrap.stop`,
on cancellation, and when the consumer abandons the iteration.

The bleak backend is injectable (:class:`BleBackend`): the platform's (BlueZ, CoreBluetooth,
WinRT) by default, or :meth:`BleBackend.emulated` — a Bumble in-memory radio carrying emulated
straps (:mod:`devices.peripheral`) — so tests and ``ble-sim`` sources run this very code.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import re
import time
import weakref
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakError
from bleak.uuids import normalize_uuid_16

from devices import hrm
from devices.errors import DeviceError, HrmParseError
from devices.types import DeviceEvent, DeviceInfo, EventKind, Message, RRSample

if TYPE_CHECKING:
    from devices.bumble_backend import EmulatedAir
    from devices.peripheral import EmulatedStrap

logger = logging.getLogger(__name__)

HEART_RATE_SERVICE_UUID = normalize_uuid_16(0x180D)
HEART_RATE_MEASUREMENT_UUID = normalize_uuid_16(0x2A37)
BATTERY_LEVEL_UUID = normalize_uuid_16(0x2A19)
MANUFACTURER_NAME_UUID = normalize_uuid_16(0x2A29)
MODEL_NUMBER_UUID = normalize_uuid_16(0x2A24)

BACKOFF_INITIAL_S = 1.0
BACKOFF_MAX_S = 30.0
EMULATED_PREFIX = "ble-sim"

_ADDRESS_RE = re.compile(
    r"^(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}"  # MAC (Linux, Windows)
    r"|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"  # macOS
)

_CONNECT_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def connect_lock() -> asyncio.Lock:
    """Return the lock that serialises BLE connects on the running loop (one per loop)."""
    loop = asyncio.get_running_loop()
    lock = _CONNECT_LOCKS.get(loop)
    if lock is None:
        lock = asyncio.Lock()
        _CONNECT_LOCKS[loop] = lock
    return lock


@dataclass(frozen=True, slots=True)
class BleBackend:
    """Which bleak backend classes to use; ``None`` means the platform's own.

    Parameters
    ----------
    scanner
        A :class:`~bleak.backends.scanner.BaseBleakScanner` subclass, or None.
    client
        A :class:`~bleak.backends.client.BaseBleakClient` subclass, or None.
    label
        Short name for logs and device info.
    """

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None
    label: str = "platform"

    @classmethod
    def emulated(cls, air: EmulatedAir | None = None) -> BleBackend:
        """Return the backend for the Bumble in-memory radio ``air`` (default: the loop's)."""
        from devices.bumble_backend import EmulatedAir

        air = air if air is not None else EmulatedAir.for_running_loop()
        scanner, client = air.backend()
        return cls(scanner=scanner, client=client, label="emulated")


PLATFORM = BleBackend()


@dataclass(frozen=True, slots=True)
class FoundStrap:
    """A device advertising the Heart Rate Service, as found by :func:`scan`.

    Parameters
    ----------
    name
        Advertised name ("" when it advertised none).
    address
        Bluetooth address (a UUID on macOS); pass it, or the name, as ``SRC``.
    rssi_dbm
        Received signal strength in dBm.
    manufacturer
        From Device Information (0x2A29) when read, else from the advertised company id.
    model
        From Device Information (0x2A24) when read, else "".
    connected
        Already connected to this computer (so not advertising; no RSSI).
    """

    name: str
    address: str
    rssi_dbm: int | None
    manufacturer: str = ""
    model: str = ""
    connected: bool = False


def is_address(text: str) -> bool:
    """Whether ``text`` is a Bluetooth address (or a macOS device UUID) rather than a name."""
    return bool(_ADDRESS_RE.match(text.strip()))


def _adapter_error(exc: BaseException) -> DeviceError | None:
    """Return a one-line DeviceError when ``exc`` means there is no usable adapter, else None."""
    if isinstance(exc, BleakBluetoothNotAvailableError):
        if exc.reason.name == "DENIED_BY_USER":
            return DeviceError(
                "Bluetooth access denied to this program (on macOS allow it in System Settings "
                "> Privacy & Security > Bluetooth)"
            )
        reason = exc.reason.name.lower().replace("_", " ")
        return DeviceError(f"no Bluetooth adapter found ({reason}: {exc.args[0]})")
    if isinstance(exc, BleakDBusError) and exc.dbus_error in (
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
    ):
        return DeviceError("no Bluetooth adapter found (the BlueZ service is not running)")
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        return DeviceError(
            "no Bluetooth adapter found (D-Bus system bus not reachable: is BlueZ installed "
            "and running?)"
        )
    if isinstance(exc, BleakError) and "adapter" in str(exc).lower() and (
        "no " in str(exc).lower() or "not found" in str(exc).lower()
    ):
        return DeviceError(f"no Bluetooth adapter found ({exc})")
    return None


def _company_name(manufacturer_data: dict[int, bytes]) -> str:
    if not manufacturer_data:
        return ""
    company_id = next(iter(manufacturer_data))
    try:  # bleak's table of SIG company identifiers (not public API: optional)
        from bleak.backends._manufacturers import MANUFACTURERS
    except ImportError:  # pragma: no cover - depends on the bleak version
        return f"company 0x{company_id:04X}"
    return MANUFACTURERS.get(company_id, f"company 0x{company_id:04X}")


def _decode_text(value: bytes | bytearray) -> str:
    return bytes(value).split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()


async def _read_device_information(client: BleakClient) -> dict[str, str]:
    """Read manufacturer and model strings from Device Information when the device has them."""
    out: dict[str, str] = {}
    for key, uuid in (("manufacturer", MANUFACTURER_NAME_UUID), ("model", MODEL_NUMBER_UUID)):
        if client.services.get_characteristic(uuid) is None:
            continue
        try:
            out[key] = _decode_text(await client.read_gatt_char(uuid))
        except (BleakError, TimeoutError) as exc:
            logger.debug("%s: could not read %s: %s", client.address, key, exc)
    return out


async def _os_connected_straps(backend: BleBackend) -> list[BLEDevice]:
    """Heart-rate devices already connected at the OS level (they do not advertise then).

    A strap stays connected to the OS when the process that connected it died (BlueZ keeps
    the link), or when the OS itself connected it; bleak 3.1's adapter API finds those so
    they can be reused instead of being invisible to a scan. Empty for a custom backend or
    where the platform does not support the query.
    """
    if backend.client is not None:
        return []
    try:
        from bleak import BleakAdapter

        adapter = await BleakAdapter.get()
        return await adapter.get_connected_devices([HEART_RATE_SERVICE_UUID])
    except Exception as exc:  # not supported here, no adapter, no D-Bus...
        logger.debug("no OS-connected devices listed: %s", exc)
        return []


async def scan(
    timeout_s: float = 5.0,
    *,
    backend: BleBackend = PLATFORM,
    read_info: bool = True,
    connect_timeout_s: float = 10.0,
) -> list[FoundStrap]:
    """List nearby devices advertising the Heart Rate Service 0x180D, strongest first.

    Parameters
    ----------
    timeout_s
        How long to listen for advertisements, in seconds.
    backend
        bleak backend (the platform's, or :meth:`BleBackend.emulated`).
    read_info
        Connect briefly to each device (one at a time) to read its Device Information
        (manufacturer, model); connection failures are ignored.
    connect_timeout_s
        Timeout of each of those connections.

    Returns
    -------
    list of FoundStrap

    Raises
    ------
    DeviceError
        When there is no usable Bluetooth adapter (one line saying why).
    """
    try:
        found: dict[str, tuple[BLEDevice, AdvertisementData]] = await BleakScanner.discover(
            timeout=timeout_s,
            return_adv=True,
            service_uuids=[HEART_RATE_SERVICE_UUID],
            backend=backend.scanner,
        )
    except Exception as exc:
        error = _adapter_error(exc)
        if error is not None:
            raise error from exc
        raise DeviceError(f"Bluetooth scan failed: {exc}") from exc
    results: list[FoundStrap] = []
    for device, adv in found.values():
        if HEART_RATE_SERVICE_UUID not in [u.lower() for u in adv.service_uuids]:
            continue
        info = {"manufacturer": _company_name(adv.manufacturer_data), "model": ""}
        if read_info:
            try:
                async with connect_lock():
                    client = BleakClient(
                        device, timeout=connect_timeout_s, backend=backend.client
                    )
                    try:  # disconnect even when the connect itself is interrupted
                        await client.connect()
                        info.update(await _read_device_information(client))
                    finally:
                        with contextlib.suppress(BleakError, TimeoutError, OSError):
                            await asyncio.wait_for(client.disconnect(), 5.0)
            except (BleakError, TimeoutError, OSError) as exc:
                logger.debug("scan: no Device Information from %s: %s", device.address, exc)
        results.append(
            FoundStrap(
                name=adv.local_name or device.name or "",
                address=device.address,
                rssi_dbm=adv.rssi,
                manufacturer=info["manufacturer"],
                model=info["model"],
            )
        )
    listed = {r.address for r in results}
    for device in await _os_connected_straps(backend):
        if device.address not in listed:
            results.append(FoundStrap(device.name or "", device.address, None, connected=True))
    results.sort(key=lambda s: -(s.rssi_dbm if s.rssi_dbm is not None else -999))
    return results


class _End:
    """Queue sentinel: the source has finished."""


_END = _End()


class BleStrap:
    """A chest strap over Bluetooth LE, as a :class:`~devices.types.Source`.

    Iterating yields :class:`~devices.types.RRSample` (one per 0x2A37 notification, with the
    host arrival time) and :class:`~devices.types.DeviceEvent`: ``CONNECTING``, ``CONNECTED``,
    ``BATTERY`` (value = percent), ``CONTACT_LOST`` / ``CONTACT_REGAINED`` when the contact flag
    changes, ``DISCONNECTED``, ``RECONNECTING`` (value = seconds until the next attempt) and,
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
        Reconnect delay: starts at ``backoff_initial_s`` after a lost link, doubles after
        each failed attempt up to ``backoff_max_s``, resets after a successful connection.
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
        for device in await _os_connected_straps(self.backend):
            if target.casefold() in (device.address.casefold(), (device.name or "").casefold()):
                logger.info("%s: %s is already connected to this computer; reusing the link",
                            self.source_id, target)
                return device
        if is_address(target):
            return await BleakScanner.find_device_by_address(
                target, timeout=self.scan_timeout_s, backend=self.backend.scanner
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
            service_uuids=[HEART_RATE_SERVICE_UUID],
            backend=self.backend.scanner,
        )
        return exact if exact is not None else (seen[0] if seen else None)

    async def _connect(self) -> BleakClient:
        async with connect_lock():
            device = await self._find_device()
            if device is None:
                raise DeviceError(f"{self.address_or_name} not found")
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
        """Sleep ``delay_s``; return True when stopped meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), timeout=delay_s)
        return self._stop_event.is_set()

    async def _run(self) -> None:
        delay_s = self.backoff_initial_s
        client: BleakClient | None = None
        try:
            while not self._stop_event.is_set():
                self._emit(EventKind.CONNECTING, detail=self.address_or_name)
                self._connecting = True
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
                    reason = "link lost"
                    self._emit(EventKind.DISCONNECTED, detail=reason)
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
        simulation: Any = None,
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
        self._strap_kwargs: dict[str, Any] = {
            "clock": clock,
            "backoff_initial_s": backoff_initial_s,
            "backoff_max_s": backoff_max_s,
            "connect_timeout_s": connect_timeout_s,
            "scan_timeout_s": 5.0,
        }
        self.simulation: Any = simulation if simulation is not None else self._simulate()
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

    def _simulate(self) -> Any:
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


def parse_emulated_src(src: str) -> str | None:
    """Return the scenario of a ``ble-sim`` / ``ble-sim:SCENARIO`` spelling, else None."""
    text = src.strip()
    if text == EMULATED_PREFIX:
        return "rest"
    if text.startswith(EMULATED_PREFIX + ":"):
        return text[len(EMULATED_PREFIX) + 1 :].strip() or "rest"
    return None


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
    simulation: Any = None,
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


def _iter_found(found: Iterable[FoundStrap]) -> Iterator[str]:
    """Format scan results as aligned text lines (used by ``coreg scan``)."""
    rows = [
        (s.name or "(no name)", s.address,
         "connected" if s.connected else ("" if s.rssi_dbm is None else f"{s.rssi_dbm} dBm"),
         " ".join(x for x in (s.manufacturer, s.model) if x))
        for s in found
    ]
    if not rows:
        return
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        yield "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3]


def format_found(found: Iterable[FoundStrap]) -> list[str]:
    """Format scan results as aligned lines: name, address, RSSI, manufacturer and model."""
    return [line.rstrip() for line in _iter_found(found)]
