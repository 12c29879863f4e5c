"""``coreg scan``: list nearby heart-rate straps (devices advertising the Heart Rate Service)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from coreg.cli import seconds_type

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers
    from devices.ble import FoundStrap


def add_parser(sub: SubParsers) -> None:
    """Register ``coreg scan``."""
    p = sub.add_parser(
        "scan",
        help="list nearby Bluetooth LE heart-rate straps",
        description=(
            "Listen for devices advertising the Heart Rate Service (0x180D) and list their name, "
            "address, signal strength and, read from Device Information, manufacturer and model. "
            "Pass the address or the name as SRC to 'coreg live' or 'coreg breathe'. A strap "
            "already connected to another app or phone does not advertise."
        ),
    )
    p.add_argument("--timeout", type=seconds_type(120.0, "120 seconds"), default=5.0, metavar="S",
                   help="seconds to listen (default 5)")
    p.add_argument("--no-info", action="store_true",
                   help="do not connect to each strap to read manufacturer and model")
    p.add_argument("--emulated", action="store_true",
                   help="scan the emulated radio instead (two emulated straps, no hardware)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Scan and print one line per strap; exit 2 with one line when there is no adapter."""
    import asyncio

    from devices.ble import format_found, scan

    async def scan_emulated() -> list[FoundStrap]:
        from devices.ble import BleBackend
        from devices.peripheral import EmulatedStrap

        straps = [
            await EmulatedStrap(name="coreg emulated HR 1").start(),
            await EmulatedStrap(name="coreg emulated HR 2", battery_pct=64).start(),
        ]
        try:
            return await scan(
                min(args.timeout, 1.0), backend=BleBackend.emulated(), read_info=not args.no_info
            )
        finally:
            for strap in straps:
                await strap.close()

    if args.emulated:
        found = asyncio.run(scan_emulated())
    else:
        found = asyncio.run(scan(args.timeout, read_info=not args.no_info))
    if not found:
        print(f"no heart-rate straps found in {args.timeout:g} s (is the strap worn, "
              "switched on, and not connected to another app?)")
        return 0
    for line in format_found(found):
        print(line)
    return 0
