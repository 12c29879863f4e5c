"""A bleak backend over a Bumble in-memory radio, for emulated straps.

bleak 3.1 ships no Bumble backend, so this module provides one: :class:`EmulatedAir` is an
in-process "air" — a :class:`bumble.link.LocalLink` with one central Bumble
:class:`~bumble.device.Device` — and :meth:`EmulatedAir.backend` returns
:class:`BaseBleakScanner` / :class:`BaseBleakClient` subclasses bound to it. They are passed to
``bleak.BleakScanner(backend=...)`` and ``bleak.BleakClient(backend=...)`` by
:mod:`devices.ble`, so the very code that talks to real straps (scan, connect, service discovery,
subscribe, notifications, battery read, disconnect detection) runs unchanged against the
emulated peripherals of :mod:`devices.peripheral`.

Everything lives on the running asyncio loop: create an air, its peripherals and the sources
that connect to them on the same loop. :func:`EmulatedAir.for_running_loop` returns one shared
air per loop, so two emulated straps of one session sit on the same link and one central
connects to both, as a laptop does with two real straps.
"""

from __future__ import annotations

import asyncio
import logging
import uuid as uuid_mod
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bumble import core, hci
from bumble.controller import Controller
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt import GATT_PRIMARY_SERVICE_ATTRIBUTE_TYPE, Characteristic
from bumble.gatt_client import CharacteristicProxy, DescriptorProxy, ServiceProxy
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

if TYPE_CHECKING:  # names of recent bleak versions, for annotations only
    from bleak.args import SizedBuffer
    from bleak.assigned_numbers import CharacteristicPropertyName
    from bleak.backends.scanner import AdvertisementDataCallback

logger = logging.getLogger(__name__)

CENTRAL_ADDRESS = "F0:C0:4E:00:00:FF"
"""Random static address of the emulated host's own radio."""

_PROPERTY_NAMES: tuple[tuple[Characteristic.Properties, CharacteristicPropertyName], ...] = (
    (Characteristic.Properties.BROADCAST, "broadcast"),
    (Characteristic.Properties.READ, "read"),
    (Characteristic.Properties.WRITE_WITHOUT_RESPONSE, "write-without-response"),
    (Characteristic.Properties.WRITE, "write"),
    (Characteristic.Properties.NOTIFY, "notify"),
    (Characteristic.Properties.INDICATE, "indicate"),
    (Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES, "authenticated-signed-writes"),
    (Characteristic.Properties.EXTENDED_PROPERTIES, "extended-properties"),
)

#: A peer's discovered GATT database as plain data (:func:`_gatt_snapshot`): per service
#: (handle, end handle, UUID, primary, characteristics), per characteristic (handle, end handle,
#: UUID, properties, descriptors), per descriptor (handle, type).
_DescriptorRow = tuple[int, core.UUID]
_CharacteristicRow = tuple[int, int, core.UUID, int, tuple[_DescriptorRow, ...]]
_ServiceRow = tuple[int, int, core.UUID, bool, tuple[_CharacteristicRow, ...]]
GattSnapshot = tuple[_ServiceRow, ...]

_AIRS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EmulatedAir] = (
    weakref.WeakKeyDictionary()
)


class CancellableController(Controller):
    """Bumble's emulated controller, completing a cancelled LE connection attempt as the spec says.

    Bumble 0.0.236's :class:`~bumble.controller.Controller` acknowledges *LE Create Connection
    Cancel* but keeps the attempt pending and never reports its end. A connect to a peripheral
    that does not advertise then never finishes: Bumble's ``Device.connect_le`` sends the cancel
    on timeout and waits for the completion forever (so a bleak ``connect()`` hangs, and a task
    awaiting it cannot finish), and the central's controller refuses every later connection
    attempt ("command disallowed"). Per the Core spec (Vol 4, Part E, 7.8.13) the controller
    must then send *LE Connection Complete* with status *Unknown Connection Identifier*; this
    subclass does, so the attempt fails cleanly and the radio stays usable.
    """

    def on_hci_le_create_connection_cancel_command(
        self, command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        """Drop the pending attempt and report it failed (after the command's completion)."""
        pending = self.pending_le_connection
        if pending is None:  # completed meanwhile (Bumble's host raises on an error status)
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)
        self.pending_le_connection = None
        event = hci.HCI_LE_Connection_Complete_Event(
            status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
            connection_handle=0,
            role=hci.Role.CENTRAL,
            peer_address_type=pending.peer_address.address_type,
            peer_address=pending.peer_address,
            connection_interval=0,
            peripheral_latency=0,
            supervision_timeout=0,
            central_clock_accuracy=0,
        )
        asyncio.get_running_loop().call_soon(self.send_hci_packet, event)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)


def bumble_device(link: LocalLink, name: str, address: str) -> tuple[Device, Controller]:
    """Create a Bumble device with its own emulated controller on ``link``.

    Parameters
    ----------
    link
        The in-memory link the controller joins.
    name
        Device (and controller) name.
    address
        Random static address, ``"XX:XX:XX:XX:XX:XX"`` (two top bits set).

    Returns
    -------
    tuple
        The device (not yet powered on) and its controller (to take it off the link).
    """
    controller = CancellableController(name, link=link)
    host = Host(controller, AsyncPipeSink(controller))
    return Device(name=name, address=hci.Address(address), host=host), controller


def bleak_uuid(value: core.UUID) -> str:
    """Return a Bumble UUID as bleak spells it: 128-bit, lower case, dashed."""
    return str(uuid_mod.UUID(bytes=bytes(reversed(value.to_bytes(force_128=True)))))


def _gatt_snapshot(peer: Peer) -> GattSnapshot:
    """The discovered services, characteristics and descriptors of ``peer``, as plain data."""
    return tuple(
        (service.handle, service.end_group_handle, service.uuid,
         service.type == GATT_PRIMARY_SERVICE_ATTRIBUTE_TYPE,
         tuple((char.handle, char.end_group_handle, char.uuid, int(char.properties),
                tuple((desc.handle, desc.type) for desc in char.descriptors))
               for char in service.characteristics))
        for service in peer.services)


def _gatt_restore(peer: Peer, snapshot: GattSnapshot) -> None:
    """Give ``peer``'s GATT client the database of :func:`_gatt_snapshot` without discovery."""
    client = peer.gatt_client
    for handle, end, uuid, primary, chars in snapshot:
        service = ServiceProxy(client, handle, end, uuid, primary)
        for c_handle, c_end, c_uuid, props, descs in chars:
            char: CharacteristicProxy[bytes] = CharacteristicProxy(client, c_handle, c_end,
                                                                   c_uuid, props)
            char.descriptors = [DescriptorProxy(client, d_handle, d_type)
                                for d_handle, d_type in descs]
            char.descriptors_discovered = True
            service.characteristics.append(char)
        client.on_service_discovered(service)


class EmulatedAir:
    """An in-process radio: a Bumble local link and the host's central device.

    Parameters
    ----------
    central_address
        Address of the central (host) device.
    """

    def __init__(self, central_address: str = CENTRAL_ADDRESS) -> None:
        self.link = LocalLink()
        self._central_address = central_address
        self._central: Device | None = None
        self._central_lock = asyncio.Lock()
        self.connect_lock = asyncio.Lock()
        self._scan_users = 0
        self._peripheral_count = 0
        #: Address → the GATT database found at the first connection, reused on reconnects
        #: as BlueZ and CoreBluetooth do for known devices (see :func:`_gatt_snapshot`); a
        #: peripheral starting at an address clears its entry.
        self.gatt_cache: dict[str, GattSnapshot] = {}

    @classmethod
    def for_running_loop(cls) -> EmulatedAir:
        """Return the air shared by everything on the running loop (created on first use)."""
        loop = asyncio.get_running_loop()
        air = _AIRS.get(loop)
        if air is None:
            air = cls()
            _AIRS[loop] = air
        return air

    def next_peripheral_address(self) -> str:
        """Return a fresh random static address for a new peripheral on this air."""
        self._peripheral_count += 1
        n = self._peripheral_count
        return f"F0:C0:4E:00:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}"

    async def central(self) -> Device:
        """Return the powered-on central device, creating it on first use."""
        async with self._central_lock:
            if self._central is None:
                device, _controller = bumble_device(self.link, "coreg-host", self._central_address)
                await device.power_on()
                self._central = device
            return self._central

    async def start_scanning(self) -> Device:
        """Start (or join) scanning on the central and return it."""
        central = await self.central()
        self._scan_users += 1
        if self._scan_users == 1:
            await central.start_scanning(filter_duplicates=False)
        return central

    async def stop_scanning(self) -> None:
        """Leave scanning; the central stops when its last scanner leaves."""
        if self._scan_users == 0:
            return
        self._scan_users -= 1
        if self._scan_users == 0 and self._central is not None:
            await self._central.stop_scanning()

    def backend(self) -> tuple[type[BaseBleakScanner], type[BaseBleakClient]]:
        """Return bleak scanner and client backend classes bound to this air.

        Returns
        -------
        tuple
            ``(scanner_class, client_class)`` for ``BleakScanner(backend=...)`` and
            ``BleakClient(backend=...)``.
        """
        scanner = type("BumbleBleakScanner", (BumbleBleakScanner,), {"air": self})
        client = type("BumbleBleakClient", (BumbleBleakClient,), {"air": self})
        return scanner, client


@dataclass(frozen=True, slots=True)
class _Subscription:
    proxy: CharacteristicProxy[bytes]
    subscriber: Callable[[bytes], None]


class BumbleBleakScanner(BaseBleakScanner):
    """bleak scanner backend that listens to advertisements on an :class:`EmulatedAir`."""

    air: ClassVar[EmulatedAir]

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: object,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._central: Device | None = None

    async def start(self) -> None:
        """Start scanning (clears what was seen before)."""
        self.seen_devices = {}
        self._central = await self.air.start_scanning()
        self._central.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)

    async def stop(self) -> None:
        """Stop scanning."""
        if self._central is None:
            return
        self._central.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        self._central = None
        await self.air.stop_scanning()

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        data = advertisement.data
        uuids: list[str] = []
        for ad_type in (
            AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        ):
            uuids.extend(bleak_uuid(u) for u in data.get(ad_type) or ())
        if not self.is_allowed_uuid(uuids):
            return
        name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
            AdvertisingData.SHORTENED_LOCAL_NAME
        )
        manufacturer: dict[int, bytes] = {}
        raw_manufacturer = data.get(AdvertisingData.MANUFACTURER_SPECIFIC_DATA)
        if raw_manufacturer:
            company_id, payload = raw_manufacturer
            manufacturer[int(company_id)] = bytes(payload)
        address = str(advertisement.address)
        adv = AdvertisementData(
            local_name=str(name) if name else None,
            manufacturer_data=manufacturer,
            service_data={},
            service_uuids=uuids,
            tx_power=None,
            rssi=advertisement.rssi,
            platform_data=(advertisement,),
        )
        device = self.create_or_update_device(address, address, adv.local_name, advertisement, adv)
        self.call_detection_callbacks(device, adv)


class BumbleBleakClient(BaseBleakClient):
    """bleak client backend that connects to a peripheral on an :class:`EmulatedAir`."""

    air: ClassVar[EmulatedAir]

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **kwargs: object,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._name = (
            address_or_ble_device.name
            if isinstance(address_or_ble_device, BLEDevice) and address_or_ble_device.name
            else self.address
        )
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._subscriptions: dict[int, _Subscription] = {}
        self._disconnecting = False

    @property
    def name(self) -> str:
        """The advertised name, else the address."""
        return self._name

    @property
    def mtu_size(self) -> int:
        """The ATT MTU of the connection (23 when not connected)."""
        return self._connection.att_mtu if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        """Whether the link to the peripheral is up."""
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: object) -> None:
        """Connect, then discover all services, characteristics and descriptors."""
        if pair:
            logger.debug("pairing is not emulated; connecting without it")
        central = await self.air.central()
        try:
            async with self.air.connect_lock:
                connection = await central.connect(
                    hci.Address(self.address), timeout=self._timeout
                )
        except asyncio.CancelledError:
            # Bumble leaves the attempt pending in the controller: cancel it, or the
            # central refuses every later connection.
            await asyncio.shield(self._cancel_pending_connect(central))
            raise
        except (TimeoutError, core.TimeoutError) as exc:
            raise BleakDeviceNotFoundError(
                self.address, f"emulated device {self.address} did not answer"
            ) from exc
        except Exception as exc:  # Bumble's own errors, re-raised as bleak's
            raise BleakError(f"emulated connect to {self.address} failed: {exc}") from exc
        self._connection = connection
        self._disconnecting = False
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        peer = Peer(connection)
        self._peer = peer
        cached = self.air.gatt_cache.get(self.address)
        try:
            if cached is not None:
                _gatt_restore(peer, cached)
            else:
                await peer.discover_all()
                self.air.gatt_cache[self.address] = _gatt_snapshot(peer)
        except Exception as exc:
            await self.disconnect()
            raise BleakError(f"service discovery on {self.address} failed: {exc}") from exc
        self.services = self._service_collection(peer)

    async def _cancel_pending_connect(self, central: Device) -> None:
        try:
            await central.send_sync_command(hci.HCI_LE_Create_Connection_Cancel_Command())
        except Exception as exc:  # nothing pending, or the air is closing
            logger.debug("emulated connect to %s: cancel: %s", self.address, exc)

    def _service_collection(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for service in peer.services:
            bleak_service = BleakGATTService(service, service.handle, bleak_uuid(service.uuid))
            collection.add_service(bleak_service)
            for char in service.characteristics:
                props = [name for flag, name in _PROPERTY_NAMES if char.properties & flag]
                bleak_char = BleakGATTCharacteristic(
                    char, char.handle, bleak_uuid(char.uuid), props,
                    lambda: self.mtu_size - 3, bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for desc in char.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, bleak_uuid(desc.type), bleak_char)
                    )
        return collection

    def _on_disconnection(self, reason: int) -> None:
        logger.debug("emulated link to %s down (reason %s)", self.address, reason)
        solicited = self._disconnecting
        self._connection = None
        self._peer = None
        self._subscriptions.clear()
        if not solicited and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        """Disconnect (a no-op when already disconnected)."""
        connection = self._connection
        if connection is None:
            return
        self._disconnecting = True
        try:
            await connection.disconnect()
        except Exception as exc:  # the link may already be gone
            logger.debug("emulated disconnect from %s: %s", self.address, exc)
        self._connection = None
        self._peer = None

    async def pair(self, *args: object, **kwargs: object) -> None:
        """Pairing is not emulated (no strap needs it for heart rate)."""
        raise NotImplementedError("pairing is not emulated")

    async def unpair(self) -> None:
        """Pairing is not emulated, so there is nothing to remove."""

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"not connected to {self.address}")
        return self._peer

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: object
    ) -> bytearray:
        """Read a characteristic value."""
        value = await self._require_peer().read_value(characteristic.obj)
        return bytearray(value)

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: object
    ) -> bytearray:
        """Read a descriptor value."""
        value = await self._require_peer().read_value(descriptor.obj)
        return bytearray(value)

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        """Write a characteristic value."""
        await self._require_peer().write_value(
            characteristic.obj, bytes(data), with_response=response
        )

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor,
                                    data: SizedBuffer) -> None:
        """Write a descriptor value."""
        await self._require_peer().write_value(descriptor.obj, bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: object
    ) -> None:
        """Subscribe to notifications; ``callback`` receives each value as a bytearray."""
        peer = self._require_peer()

        def subscriber(value: bytes) -> None:
            callback(bytearray(value))

        await peer.subscribe(characteristic.obj, subscriber)
        self._subscriptions[characteristic.handle] = _Subscription(characteristic.obj, subscriber)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Unsubscribe from notifications."""
        sub = self._subscriptions.pop(characteristic.handle, None)
        if sub is None or self._peer is None:
            return
        await self._peer.unsubscribe(sub.proxy, sub.subscriber)
