"""The coreg recording format (JSON Lines, version 1) and its writer.

One UTF-8 file per session. Line 1 is the header object; every following line is one event
object with a ``type`` key. Times ``t`` are seconds since the session start on the host
monotonic clock (the header's ``start_monotonic_s``), rounded to microseconds. See the README,
section "Recording format", for every field.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, NotRequired, TypedDict

from coreg import __version__
from coreg.errors import RecordingError
from coreg.recording.names import FORMAT_NAME, FORMAT_VERSION
from devices.types import DeviceEvent, RRSample

log = logging.getLogger(__name__)

#: Largest interval between two fsyncs while lines keep arriving, in seconds.
FSYNC_INTERVAL_S = 1.0
FILE_MODE = 0o600


def write_owner_only(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to a new file ``path`` readable by the owner only (0600).

    For the one-shot outputs built from recordings (reports, exports): they are health data
    too. The mode is set at creation and again after, whatever the umask.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0),
                 FILE_MODE)
    try:
        if hasattr(os, "fchmod"):  # not on Windows, where the mode bits mean little
            os.fchmod(fd, FILE_MODE)
        data = text.encode("utf-8")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


#: A JSON object as written: keys to JSON-serialisable values (checked by ``json.dumps``).
JSONObject = dict[str, object]


class RRLine(TypedDict):
    """An ``rr`` line: one notification as it arrived (docs/design.md, recording format)."""

    type: Literal["rr"]
    t: float
    role: str
    rr: list[float]
    hr: int
    contact: bool | None
    raw: str | None


class EventLine(TypedDict):
    """An ``event`` line: one device event."""

    type: Literal["event"]
    t: float
    role: str
    kind: str
    value: NotRequired[float]
    detail: NotRequired[str]


class MarkerLine(TypedDict):
    """A ``marker`` line: a moment the user marked, with an optional note and role."""

    type: Literal["marker"]
    t: float
    note: str
    role: NotRequired[str]


class PacerLine(TypedDict):
    """A ``pacer`` line: the pacer changed (``rate_bpm`` None: it stopped)."""

    type: Literal["pacer"]
    t: float
    rate_bpm: float | None
    inhale_ratio: float
    pause_in_s: float
    pause_out_s: float
    label: NotRequired[str]


class EndLine(TypedDict):
    """The ``end`` line: why the session ended, and when."""

    type: Literal["end"]
    reason: str
    t: NotRequired[float]


def _t(seconds: float) -> float:
    return round(seconds, 6)


def sample_line(sample: RRSample, t_s: float) -> RRLine:
    """The JSON object of one RR notification at session time ``t_s``."""
    return {
        "type": "rr",
        "t": _t(t_s),
        "role": sample.source_id,
        "rr": list(sample.rr_ms),
        "hr": sample.hr_bpm,
        "contact": sample.contact,
        "raw": sample.payload.hex() if sample.payload else None,
    }


def event_line(event: DeviceEvent, t_s: float) -> EventLine:
    """The JSON object of one device event at session time ``t_s``."""
    line: EventLine = {"type": "event", "t": _t(t_s), "role": event.source_id,
                       "kind": str(event.kind)}
    if event.value is not None:
        line["value"] = event.value
    if event.detail:
        line["detail"] = event.detail
    return line


def new_header(
    mode: str,
    roles: Mapping[str, Mapping[str, object]],
    *,
    start_monotonic_s: float = 0.0,
    settings: Mapping[str, object] | None = None,
    simulation: Mapping[str, object] | None = None,
    **extra: object,
) -> JSONObject:
    """Build a version-1 header.

    Parameters
    ----------
    mode
        ``"dyad"``, ``"breathe"`` or ``"import"``.
    roles
        Role → device description (``name``, ``model``, ``address``, ``simulated``, ...).
    start_monotonic_s
        Host monotonic time of the session start; the writer subtracts it from every time.
    settings
        Session settings (windows, pacer, ...).
    simulation
        For simulated sessions: ``{"scenario", "seed", "truth"}``.
    """
    header: JSONObject = {
        "type": "header",
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "app_version": __version__,
        "created": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "start_monotonic_s": start_monotonic_s,
        "mode": mode,
        "roles": {role: dict(desc) for role, desc in roles.items()},
        "settings": dict(settings or {}),
    }
    if simulation is not None:
        header["simulation"] = dict(simulation)
    header.update(extra)
    return header


def _dumps(obj: Mapping[str, object]) -> bytes:
    try:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise RecordingError(f"cannot write recording line: {exc}") from exc
    return (text + "\n").encode("utf-8")


class RecordingWriter:
    """Append-only, crash-safe writer of one recording.

    Each line goes to the kernel with one ``os.write`` as soon as it is written (nothing is
    buffered in the process), so a killed process loses nothing already written; ``fsync``
    runs at least once a second while lines arrive, and at close, so a power loss costs at
    most about a second. The file is created with mode 0600: recordings are health data.

    Parameters
    ----------
    path
        File to create. An existing file is never overwritten unless ``overwrite`` is true.
    header
        The header object (see :func:`new_header`).
    overwrite
        Replace an existing file.
    clock
        Monotonic clock used only to pace fsyncs.
    fd
        An already open, empty descriptor to write to instead of creating ``path`` (used by
        :class:`AtomicRecording` for its temporary file).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        header: Mapping[str, object],
        *,
        overwrite: bool = False,
        clock: Callable[[], float] = time.monotonic,
        fd: int | None = None,
    ) -> None:
        self.path = Path(path)
        start_s = header.get("start_monotonic_s", 0.0)
        if not isinstance(start_s, (int, float)):
            raise RecordingError(f"header start_monotonic_s is not a number: {start_s!r}")
        self._start_s = float(start_s)
        self._clock = clock
        if fd is None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
            flags |= os.O_TRUNC if overwrite else os.O_EXCL
            flags |= getattr(os, "O_NOFOLLOW", 0)
            if not self.path.parent.is_dir():
                raise RecordingError(f"{self.path.parent}: no such folder "
                                     "(coreg does not create output folders)")
            try:
                fd = os.open(self.path, flags, FILE_MODE)
            except FileExistsError as exc:
                raise RecordingError(f"{self.path} already exists") from exc
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise RecordingError(f"{self.path} is a symbolic link") from exc
                raise
        self._fd: int | None = fd
        os.fchmod(fd, FILE_MODE)  # also when it existed, or the umask was odd
        self._last_sync_s = self._clock()
        self._closed = False
        self.lines_written = 0
        self._write(dict(header))
        self._sync()

    # -- writing -----------------------------------------------------------------------------
    def _write(self, obj: Mapping[str, object]) -> None:
        if self._fd is None:
            raise RecordingError(f"recording {self.path} is closed")
        data = _dumps(obj)
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self.lines_written += 1
        if self._clock() - self._last_sync_s >= FSYNC_INTERVAL_S:
            self._sync()

    def _sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
            self._last_sync_s = self._clock()

    def sync_if_due(self) -> None:
        """fsync if a second has passed since the last one (call it from an idle timer)."""
        if self._fd is not None and self._clock() - self._last_sync_s >= FSYNC_INTERVAL_S:
            self._sync()

    def session_time(self, monotonic_s: float) -> float:
        """Convert a host monotonic time to seconds since the session start."""
        return monotonic_s - self._start_s

    def write_sample(self, sample: RRSample) -> None:
        """Append one RR notification exactly as it arrived."""
        self._write(sample_line(sample, sample.arrival_s - self._start_s))

    def write_event(self, event: DeviceEvent) -> None:
        """Append one device event."""
        self._write(event_line(event, event.arrival_s - self._start_s))

    def write(self, message: RRSample | DeviceEvent) -> None:
        """Append a sample or an event."""
        if isinstance(message, RRSample):
            self.write_sample(message)
        else:
            self.write_event(message)

    def write_marker(self, t_s: float, note: str = "", role: str | None = None) -> None:
        """Append a marker at host monotonic time ``t_s`` with an optional short note."""
        line: MarkerLine = {"type": "marker", "t": _t(t_s - self._start_s), "note": note}
        if role is not None:
            line["role"] = role
        self._write(line)

    def write_pacer(
        self,
        t_s: float,
        rate_bpm: float | None,
        *,
        inhale_ratio: float = 0.5,
        pause_in_s: float = 0.0,
        pause_out_s: float = 0.0,
        label: str = "",
    ) -> None:
        """Append a pacer change at host monotonic time ``t_s``; ``rate_bpm=None`` stops the pacer.

        ``inhale_ratio`` is the inhale share of one breath cycle (0.4 for a 4:6 ratio).
        """
        line: PacerLine = {"type": "pacer", "t": _t(t_s - self._start_s),
                           "rate_bpm": rate_bpm, "inhale_ratio": inhale_ratio,
                           "pause_in_s": pause_in_s, "pause_out_s": pause_out_s}
        if label:
            line["label"] = label
        self._write(line)

    def write_extra(self, kind: str, t_s: float, **fields: object) -> None:
        """Append a line of another ``type`` (readers of this version skip unknown types)."""
        if kind in {"header", "rr", "event", "marker", "pacer", "end"}:
            raise ValueError(f"use the dedicated method for {kind!r} lines")
        self._write({"type": kind, "t": _t(t_s - self._start_s), **fields})

    def close(self, reason: str = "stopped", t_s: float | None = None) -> None:
        """Write the ``end`` line, fsync and close. Safe to call twice."""
        if self._fd is None:
            return
        try:
            end: EndLine = {"type": "end", "reason": reason}
            if t_s is not None:
                end["t"] = _t(t_s - self._start_s)
            self._write(end)
            self._sync()
        finally:
            os.close(self._fd)
            self._fd = None

    def abandon(self) -> None:
        """Close without an ``end`` line (used before deleting a partial output)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._fd is None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close("error" if exc_type is not None else "stopped")


class AtomicRecording:
    """Write a whole recording to a hidden temporary file and move it into place on success.

    For commands that produce a file in one go (``coreg simulate``, ``coreg import``): the
    target is checked first (:func:`coreg.recording.output.check_output`: never over a
    recording or an input, another existing file only with ``force``, no missing folder); if
    anything fails, or the process is interrupted, no partial output is left anywhere. Live
    sessions write straight to their file instead, so a crash keeps what arrived.

    Examples
    --------
    >>> with AtomicRecording(path, header) as writer:  # doctest: +SKIP
    ...     writer.write_sample(sample)
    """

    def __init__(self, path: str | os.PathLike[str], header: Mapping[str, object], *,
                 force: bool = False, inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
        from coreg.recording.output import check_output

        self.path = Path(path)
        self._force = force
        self._inputs = list(inputs)
        check_output(self.path, force=force, inputs=self._inputs)
        self._header = header
        self._tmp: Path | None = None
        self.writer: RecordingWriter | None = None

    def __enter__(self) -> RecordingWriter:
        from coreg.recording.output import create_temp, discard

        fd, self._tmp = create_temp(self.path)
        try:
            self.writer = RecordingWriter(self._tmp, self._header, fd=fd)
        except BaseException:
            os.close(fd)
            discard(self._tmp)
            raise
        return self.writer

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        from coreg.recording.output import commit, discard

        assert self.writer is not None and self._tmp is not None
        if exc_type is None:
            try:
                if not self.writer.closed:
                    self.writer.close("complete")
            except BaseException:
                self.writer.abandon()
                discard(self._tmp)
                raise
            commit(self._tmp, self.path, force=self._force, inputs=self._inputs)
            return
        self.writer.abandon()
        discard(self._tmp)
