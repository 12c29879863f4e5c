"""coreg's exception tree: ``CoregError`` → ``DeviceError``, ``RecordingError``, ``InputError``."""

from __future__ import annotations

from devices.errors import CoregError, DeviceError, HrmParseError

__all__ = ["CoregError", "DeviceError", "HrmParseError", "InputError", "RecordingError"]


class RecordingError(CoregError):
    """A recording cannot be read or written (unknown version, corrupt, not a recording)."""


class InputError(CoregError):
    """A user-supplied file or argument is unusable (bad RR export, bad option value)."""
