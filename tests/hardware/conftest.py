"""Real-strap tests: skipped unless ``--ble-address ADDR_OR_NAME`` is given."""

from __future__ import annotations

import pytest


@pytest.fixture
def ble_address(request: pytest.FixtureRequest) -> str:
    value = request.config.getoption("--ble-address")
    if not value:
        pytest.skip("needs a real strap: pytest tests/hardware --ble-address ADDR_OR_NAME")
    return str(value)
