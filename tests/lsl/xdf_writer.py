"""A minimal XDF 1.0 writer for test fixtures (pyxdf reads XDF but writes none).

Follows the XDF specification (https://github.com/sccn/xdf/wiki/Specifications): the magic
``XDF:``, then chunks of ``[NumLengthBytes][Length][Tag uint16][content]``, little-endian:
FileHeader (1), StreamHeader (2), Samples (3), ClockOffset (4), StreamFooter (6). Every sample
carries its own time stamp (TimestampBytes 8).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

NUMERIC = {"float32": "<f", "double64": "<d", "int8": "<b", "int16": "<h", "int32": "<i",
           "int64": "<q"}


def _varlen(n: int) -> bytes:
    if n < 256:
        return struct.pack("<BB", 1, n)
    if n < 2**32:
        return struct.pack("<BI", 4, n)
    return struct.pack("<BQ", 8, n)


def stream_xml(name: str, stream_type: str, channel_count: int, nominal_srate: float,
               channel_format: str, source_id: str = "",
               channels: Sequence[dict[str, str]] = (), desc_xml: str = "") -> str:
    """A stream header as LabRecorder writes it (``info`` with an optional ``desc``)."""
    chans = "".join("<channel>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in ch.items())
                    + "</channel>" for ch in channels)
    desc = (f"<channels>{chans}</channels>" if chans else "") + desc_xml
    return ('<?xml version="1.0"?><info>'
            f"<name>{escape(name)}</name><type>{escape(stream_type)}</type>"
            f"<channel_count>{channel_count}</channel_count>"
            f"<nominal_srate>{nominal_srate!r}</nominal_srate>"
            f"<channel_format>{channel_format}</channel_format>"
            f"<source_id>{escape(source_id)}</source_id>"
            f"<desc>{desc}</desc></info>")


class XdfWriter:
    """Write an XDF file chunk by chunk."""

    def __init__(self, path: str | Path) -> None:
        self._f: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._f.write(b"XDF:")
        self._formats: dict[int, tuple[str, int]] = {}
        self._stats: dict[int, list[float]] = {}
        self._chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')

    def _chunk(self, tag: int, content: bytes) -> None:
        length = len(content) + 2
        self._f.write(_varlen(length) + struct.pack("<H", tag) + content)

    def add_stream(self, stream_id: int, header_xml: str, channel_format: str,
                   channel_count: int) -> None:
        """A StreamHeader chunk."""
        self._formats[stream_id] = (channel_format, channel_count)
        self._stats[stream_id] = []
        self._chunk(2, struct.pack("<I", stream_id) + header_xml.encode("utf-8"))

    def add_samples(self, stream_id: int, samples: Sequence[Sequence[object]],
                    stamps: Sequence[float]) -> None:
        """A Samples chunk; each sample a sequence of channel values."""
        fmt, count = self._formats[stream_id]
        out = bytearray(struct.pack("<I", stream_id) + _varlen(len(samples)))
        for sample, stamp in zip(samples, stamps, strict=True):
            if len(sample) != count:
                raise ValueError("wrong channel count")
            out += struct.pack("<Bd", 8, float(stamp))
            for value in sample:
                if fmt == "string":
                    data = str(value).encode("utf-8")
                    out += _varlen(len(data)) + data
                else:
                    out += struct.pack(NUMERIC[fmt], value)
            self._stats[stream_id].append(float(stamp))
        self._chunk(3, bytes(out))

    def add_clock_offset(self, stream_id: int, collection_s: float, offset_s: float) -> None:
        """A ClockOffset chunk: at ``collection_s`` (the stream's clock) the offset to add."""
        self._chunk(4, struct.pack("<Idd", stream_id, collection_s, offset_s))

    def close(self) -> None:
        """StreamFooter chunks, then close."""
        for stream_id, stamps in self._stats.items():
            first = min(stamps) if stamps else 0.0
            last = max(stamps) if stamps else 0.0
            xml = ('<?xml version="1.0"?><info>'
                   f"<first_timestamp>{first!r}</first_timestamp>"
                   f"<last_timestamp>{last!r}</last_timestamp>"
                   f"<sample_count>{len(stamps)}</sample_count></info>")
            self._chunk(6, struct.pack("<I", stream_id) + xml.encode("utf-8"))
        self._f.close()
