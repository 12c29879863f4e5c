"""devices.ble with the platform backend where there is no radio, and ``coreg scan``.

The platform scanner is replaced by one that fails the way bleak fails without an adapter, so
these tests behave the same on a laptop with Bluetooth and on a CI machine without it.
"""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakError,
)

from coreg.cli import main
from devices import ble
from devices.errors import DeviceError
from devices.types import DeviceEvent, EventKind

pytestmark = pytest.mark.usefixtures("hang_guard")

NO_ADAPTER_ERRORS = [
    FileNotFoundError(2, "No such file or directory"),  # no D-Bus system bus (containers)
    BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", ["bluez not provided"]),
    BleakBluetoothNotAvailableError(
        "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH
    ),
    BleakBluetoothNotAvailableError(
        "Bluetooth is turned off", BleakBluetoothNotAvailableReason.POWERED_OFF
    ),
]


@pytest.mark.parametrize("exc", NO_ADAPTER_ERRORS, ids=lambda e: type(e).__name__)
def test_no_adapter_errors_become_one_line_device_errors(exc: Exception) -> None:
    error = ble._adapter_error(exc)
    assert isinstance(error, DeviceError)
    assert str(error).startswith("no Bluetooth adapter found (")
    assert "\n" not in str(error)


def test_denied_permission_says_so_in_one_line() -> None:
    error = ble._adapter_error(BleakBluetoothNotAvailableError(
        "Bluetooth access denied", BleakBluetoothNotAvailableReason.DENIED_BY_USER))
    assert isinstance(error, DeviceError)
    assert str(error).startswith("Bluetooth access denied") and "\n" not in str(error)


def test_other_errors_are_not_mistaken_for_a_missing_adapter() -> None:
    assert ble._adapter_error(BleakError("Device with address X was not found")) is None
    assert ble._adapter_error(TimeoutError()) is None
    assert ble._adapter_error(BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort"])) \
        is None


@pytest.fixture
def no_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fail(self: BleakScanner) -> None:
        raise FileNotFoundError(2, "No such file or directory")

    async def none_connected(backend: ble.BleBackend) -> list[BLEDevice]:
        return []

    monkeypatch.setattr(BleakScanner, "start", fail)
    monkeypatch.setattr(ble.backends, "_os_connected_straps", none_connected)


@pytest.mark.usefixtures("no_adapter")
def test_scan_without_adapter_raises_device_error() -> None:
    with pytest.raises(DeviceError, match=r"^no Bluetooth adapter found"):
        asyncio.run(ble.scan(0.1))


@pytest.mark.usefixtures("no_adapter")
def test_strap_without_adapter_stops_and_raises_device_error() -> None:
    async def scenario() -> list[DeviceEvent]:
        source = ble.BleStrap("client", "Polar H10", scan_timeout_s=0.1)
        seen: list[DeviceEvent] = []
        with pytest.raises(DeviceError, match=r"^no Bluetooth adapter found"):
            async for message in source:
                assert isinstance(message, DeviceEvent)
                seen.append(message)
        return seen

    events = asyncio.run(scenario())
    assert [e.kind for e in events] == [EventKind.CONNECTING, EventKind.STOPPED]


@pytest.mark.usefixtures("no_adapter")
def test_coreg_scan_without_adapter_prints_one_line_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scan", "--timeout", "0.2"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coreg scan: no Bluetooth adapter found")


def test_coreg_scan_emulated_lists_the_emulated_straps(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--emulated", "--timeout", "0.3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert all("coreg emulated HR" in line and "Emulated HRM" in line for line in lines)


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "500"])
def test_coreg_scan_rejects_a_bad_timeout(bad: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["scan", "--timeout", bad])
    assert info.value.code == 2


def test_found_straps_are_formatted_in_columns() -> None:
    lines = ble.format_found([
        ble.FoundStrap("Polar H10 1234ABCD", "A0:9E:1A:12:34:56", -61, "Polar Electro Oy", "H10"),
        ble.FoundStrap("", "C0:FF:EE:00:00:01", None),
        ble.FoundStrap("Polar H10 9", "C0:FF:EE:00:00:02", None, connected=True),
    ])
    assert "connected" in lines[2]
    assert lines[0].split("  ")[0] == "Polar H10 1234ABCD"
    assert "-61 dBm" in lines[0] and lines[0].endswith("Polar Electro Oy H10")
    assert lines[1].startswith("(no name)")
    assert lines[0].index("A0:9E") == lines[1].index("C0:FF")


def test_a_strap_already_connected_to_the_os_is_reused_without_scanning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A strap left connected (e.g. by a crashed process) does not advertise: reuse it.

    The OS's list of connected devices is faked; the test checks that the strap found there is
    connected to directly and that no scan runs. (On the emulated radio a connection still
    needs the peripheral to advertise, so the strap keeps advertising here.)
    """
    from devices.peripheral import EmulatedStrap

    scans: list[str] = []

    async def no_scan(*args: object, **kwargs: object) -> None:
        scans.append("scanned")
        return None

    monkeypatch.setattr(BleakScanner, "find_device_by_filter", no_scan)
    monkeypatch.setattr(BleakScanner, "find_device_by_address", no_scan)

    async def scenario() -> list[EventKind]:
        strap = await EmulatedStrap(name="Polar H10 ABCD1234").start()

        async def os_connected(backend: ble.BleBackend) -> list[BLEDevice]:
            return [BLEDevice(strap.address, strap.name, None)]

        monkeypatch.setattr(ble.backends, "_os_connected_straps", os_connected)
        source = ble.BleStrap("client", "polar h10 abcd1234", backend=ble.BleBackend.emulated(),
                              scan_timeout_s=0.1, connect_timeout_s=2.0)
        kinds: list[EventKind] = []
        try:
            async for message in source:
                if isinstance(message, DeviceEvent):
                    kinds.append(message.kind)
                    if message.kind in (EventKind.CONNECTED, EventKind.RECONNECTING):
                        await source.stop()
        finally:
            await strap.close()
        return kinds

    kinds = asyncio.run(asyncio.wait_for(scenario(), 10.0))
    assert scans == []
    assert kinds[:2] == [EventKind.CONNECTING, EventKind.CONNECTED]
    assert kinds[-1] == EventKind.STOPPED and EventKind.RECONNECTING not in kinds


def test_stop_interrupts_a_connect_in_progress() -> None:
    """stop() ends a source stuck connecting (the cause of an old hang): it must not wait out
    the connect timeout, and cancelling the consumer must work too."""
    from devices.peripheral import EmulatedStrap

    async def scenario() -> tuple[list[EventKind], list[EventKind]]:
        strap = await EmulatedStrap(name="Silent strap").start()
        await strap.device.stop_advertising()  # never answers: the connect hangs on
        backend = ble.BleBackend.emulated()
        try:
            # 1. stop() from another task while connecting
            source = ble.BleStrap("client", strap.address, backend=backend,
                                  scan_timeout_s=0.1, connect_timeout_s=600.0)
            source._find_device = (  # type: ignore[method-assign]
                lambda: _device_now(strap.address, strap.name))
            first: list[EventKind] = []

            async def consume() -> None:
                async for message in source:
                    if isinstance(message, DeviceEvent):
                        first.append(message.kind)

            task = asyncio.create_task(consume())
            while EventKind.CONNECTING not in first:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # now inside connect()
            await asyncio.wait_for(source.stop(), 5.0)
            await asyncio.wait_for(task, 5.0)

            # 2. the consumer itself cancelled while connecting (asyncio.wait_for on it)
            second_source = ble.BleStrap("client", strap.address, backend=backend,
                                         scan_timeout_s=0.1, connect_timeout_s=600.0)
            second_source._find_device = (  # type: ignore[method-assign]
                lambda: _device_now(strap.address, strap.name))
            second: list[EventKind] = []

            async def consume_second() -> None:
                async for message in second_source:
                    if isinstance(message, DeviceEvent):
                        second.append(message.kind)

            with pytest.raises(TimeoutError):
                await asyncio.wait_for(consume_second(), 0.3)
            return first, second
        finally:
            await strap.close()

    first, second = asyncio.run(asyncio.wait_for(scenario(), 20.0))
    assert first == [EventKind.CONNECTING, EventKind.STOPPED]
    assert second == [EventKind.CONNECTING]  # the consumer was cancelled before STOPPED


async def _device_now(address: str, name: str) -> BLEDevice:
    return BLEDevice(address, name, None)


def test_a_connect_timeout_fails_cleanly_and_the_radio_stays_usable() -> None:
    """A strap out of reach: the connect times out (Bumble's emulated controller used to keep
    the attempt pending forever), the source backs off, and connects once the strap is back."""
    from devices.peripheral import EmulatedStrap

    async def scenario() -> list[DeviceEvent]:
        strap = await EmulatedStrap(name="Far strap").start()
        await strap.go_offline()
        source = ble.BleStrap("client", strap.address, backend=ble.BleBackend.emulated(),
                              scan_timeout_s=0.1, connect_timeout_s=0.3,
                              backoff_initial_s=0.05, backoff_max_s=0.1)
        source._find_device = (  # type: ignore[method-assign]
            lambda: _device_now(strap.address, strap.name))
        events: list[DeviceEvent] = []
        try:
            async for message in source:
                if isinstance(message, DeviceEvent):
                    events.append(message)
                    kinds = [e.kind for e in events]
                    if kinds.count(EventKind.RECONNECTING) == 2:
                        await strap.come_online()
                    if message.kind == EventKind.CONNECTED:
                        await source.stop()
        finally:
            await strap.close()
        return events

    events = asyncio.run(asyncio.wait_for(scenario(), 15.0))
    kinds = [e.kind for e in events]
    assert kinds[:4] == [EventKind.CONNECTING, EventKind.RECONNECTING,
                         EventKind.CONNECTING, EventKind.RECONNECTING]
    assert "connect failed" in events[1].detail
    assert EventKind.CONNECTED in kinds and kinds[-1] == EventKind.STOPPED
