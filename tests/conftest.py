"""Shared pytest configuration."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--ble-address",
        default=None,
        metavar="ADDR_OR_NAME",
        help="Bluetooth address (UUID on macOS) or name of a real heart-rate strap; "
        "enables tests/hardware/",
    )
