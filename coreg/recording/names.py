"""The recording format's name and version (docs/design.md, "The recording format").

A module of its own so that :mod:`coreg.recording.output` (which must recognise recordings) and
:mod:`coreg.recording.format` (which writes them through ``output``) share them without an
import cycle.
"""

from __future__ import annotations

#: The ``format`` field of every recording's header line.
FORMAT_NAME = "coreg-recording"
#: The version of the line format this coreg writes.
FORMAT_VERSION = 1
