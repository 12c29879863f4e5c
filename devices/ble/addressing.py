"""How a ``SRC`` names a strap: a Bluetooth address (or macOS UUID), a name, or ``ble-sim``."""

from __future__ import annotations

import re

EMULATED_PREFIX = "ble-sim"

_ADDRESS_RE = re.compile(
    r"^(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}"  # MAC (Linux, Windows)
    r"|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"  # macOS
)


def is_address(text: str) -> bool:
    """Whether ``text`` is a Bluetooth address (or a macOS device UUID) rather than a name."""
    return bool(_ADDRESS_RE.match(text.strip()))


def parse_emulated_src(src: str) -> str | None:
    """Return the scenario of a ``ble-sim`` / ``ble-sim:SCENARIO`` spelling, else None."""
    text = src.strip()
    if text == EMULATED_PREFIX:
        return "rest"
    if text.startswith(EMULATED_PREFIX + ":"):
        return text[len(EMULATED_PREFIX) + 1 :].strip() or "rest"
    return None
