"""The project's exception tree.

It lives in :mod:`devices` because ``devices`` may not import ``coreg`` (docs/design.md §2) and
its errors must still be subclasses of the project's error type; :mod:`coreg.errors`
re-exports it and adds the app-level branches.
"""

from __future__ import annotations


class CoregError(Exception):
    """Base class of every error coreg raises on purpose (bad input, bad file, no device)."""


class DeviceError(CoregError):
    """A strap or source could not be used (no adapter, not found, connection failed)."""


class HrmParseError(DeviceError):
    """A Heart Rate Measurement (0x2A37) payload is malformed."""
