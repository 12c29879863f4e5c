"""Recordings: the versioned JSON Lines format, its crash-safe writer and tolerant reader."""

from __future__ import annotations

from coreg.recording.format import (
    AtomicRecording,
    RecordingWriter,
    new_header,
)
from coreg.recording.names import FORMAT_NAME, FORMAT_VERSION
from coreg.recording.reader import Marker, PacerChange, Recording, read_header, read_recording

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "AtomicRecording",
    "Marker",
    "PacerChange",
    "Recording",
    "RecordingWriter",
    "new_header",
    "read_header",
    "read_recording",
]
