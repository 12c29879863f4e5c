"""Reading a coreg recording, including one cut off by a crash, and refusing damaged ones.

What is damage (refused with one sentence naming the line, never a traceback, never an
allocation sized by a bad number; see ``docs/reliability.md``):

* not a regular file (a FIFO, a device, a folder), or larger than :data:`MAX_FILE_BYTES`;
* a line that is not a JSON object (except the last one, cut off by a crash), a second header;
* a time ``t`` that is not a finite number, lies before the session start
  (< −:data:`TIME_TOLERANCE_S`) or after :data:`MAX_SESSION_S`, runs backwards (earlier than a
  previous line of the same role by more than :data:`TIME_TOLERANCE_S`) or jumps forward by
  more than :data:`MAX_GAP_S` within one role (a live session writes a line of each role at
  least every ~35 s even when its strap is lost: the reconnect events);
* an RR value outside 0 … :data:`MAX_RR_MS` (what the 16-bit 1/1024 s field of the Heart Rate
  Measurement characteristic 0x2A37 can hold; 0 can come from a strap and is kept, the engine
  treats it as a gap), more than :data:`MAX_RR_PER_LINE` values in one line, an HR outside
  0-65535, roles that are not text.
"""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, cast

from coreg.errors import RecordingError
from coreg.recording.names import FORMAT_NAME, FORMAT_VERSION
from devices.types import DeviceEvent, EventKind, RRSample

#: A JSON object as parsed: values are narrowed (``isinstance``) where they are used.
JSONObject = dict[str, object]


class RecordingHeader(TypedDict, total=False):
    """The header line as read (docs/design.md, recording format).

    :func:`read_header` checks ``format`` and ``version``, that ``roles`` maps each role to
    an object and that ``settings`` and ``simulation`` are objects (or null); every other value
    is JSON of any shape and is narrowed where it is used.
    """

    type: object
    format: str
    version: int
    app_version: object
    created: object
    start_monotonic_s: object
    mode: object
    roles: dict[str, JSONObject]
    settings: JSONObject | None
    simulation: JSONObject | None
    client: object
    therapist: object
    imported: object
    lsl: object


#: The longest plausible session, in seconds: 24 hours (a Holter-length day; coreg's sessions
#: last minutes to hours, and ``coreg simulate`` accepts at most this). A later time is
#: damage: the engines' grids grow with the session's span, so a time far beyond would size
#: gigabytes of arrays.
MAX_SESSION_S = 24 * 3600.0
#: Largest silence between two consecutive timed lines, in seconds.
MAX_GAP_S = 3600.0
#: Lines may be this much out of time order (two straps' stamps, a UI marker), in seconds.
TIME_TOLERANCE_S = 1.0
#: Largest RR value: 65535/1024 s, the top of the 0x2A37 RR field, in ms.
MAX_RR_MS = 65535 * 1000.0 / 1024.0
#: More RR values than fit in the largest BLE notification (512-byte attribute) are damage.
MAX_RR_PER_LINE = 256
#: Larger files are refused before being read (a week of a dyad is about 200 MB).
MAX_FILE_BYTES = 1 << 30


@dataclass(frozen=True, slots=True)
class Marker:
    """A marker dropped during a session (``t_s`` = seconds since the session start)."""

    t_s: float
    note: str = ""
    role: str | None = None


@dataclass(frozen=True, slots=True)
class PacerChange:
    """A breathing-pacer change; ``rate_bpm`` None means the pacer stopped."""

    t_s: float
    rate_bpm: float | None
    inhale_ratio: float = 0.5
    pause_in_s: float = 0.0
    pause_out_s: float = 0.0
    label: str = ""


@dataclass(slots=True)
class Recording:
    """A recording read back. Times are seconds since the session start.

    Attributes
    ----------
    header
        The header object as stored.
    samples
        Every RR notification, in file order, with ``arrival_s`` relative to the start.
    events, markers, pacer
        Device events, markers and pacer changes in file order.
    extra
        Lines of other types (kept, not interpreted).
    end
        The ``end`` line, or None when the session did not close cleanly.
    skipped
        What the reader skipped or noticed (a cut-off last line, a missing end), one
        sentence each.
    """

    path: Path
    header: RecordingHeader
    samples: list[RRSample] = field(default_factory=list)
    events: list[DeviceEvent] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    pacer: list[PacerChange] = field(default_factory=list)
    extra: list[JSONObject] = field(default_factory=list)
    end: JSONObject | None = None
    skipped: list[str] = field(default_factory=list)

    @property
    def roles(self) -> list[str]:
        """Roles in header order, then any role only seen in the data."""
        roles = list(self.header.get("roles", {}))
        for s in self.samples:
            if s.source_id not in roles:
                roles.append(s.source_id)
        return roles

    @property
    def mode(self) -> str:
        """The session mode (``dyad``, ``breathe``, ``import``...)."""
        return str(self.header.get("mode", ""))

    @property
    def simulation(self) -> JSONObject | None:
        """Scenario, seed and ground truth of a simulated session, else None."""
        sim = self.header.get("simulation")
        return sim if isinstance(sim, dict) else None

    @property
    def duration_s(self) -> float:
        """Seconds from the session start to the last timed line."""
        last = 0.0
        for seq in (self.samples, self.events):
            if seq:
                last = max(last, seq[-1].arrival_s)
        for m in self.markers:
            last = max(last, m.t_s)
        end_t = None if self.end is None else self.end.get("t")
        if isinstance(end_t, int | float):
            last = max(last, float(end_t))
        return last

    @property
    def complete(self) -> bool:
        """True when the file ends with an ``end`` line and nothing was skipped."""
        return self.end is not None and not self.skipped

    def samples_for(self, role: str) -> list[RRSample]:
        """The RR notifications of one role."""
        return [s for s in self.samples if s.source_id == role]

    def rr_for(self, role: str) -> list[float]:
        """Every RR value of one role in arrival order, in ms, as recorded."""
        return [rr for s in self.samples if s.source_id == role for rr in s.rr_ms]

    def events_for(self, role: str) -> list[DeviceEvent]:
        """The device events of one role."""
        return [e for e in self.events if e.source_id == role]


def _number(value: object, what: str, lineno: int, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    try:
        number = float(value) if isinstance(value, int | float) else math.nan
    except OverflowError:  # an integer of hundreds of digits
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise RecordingError(f"corrupt recording: line {lineno}: {what} is not a number")
    return number


def _sample(obj: JSONObject, lineno: int) -> RRSample:
    t = _number(obj.get("t"), "t", lineno)
    rr_raw = obj.get("rr")
    if not isinstance(rr_raw, list):
        raise RecordingError(f"corrupt recording: line {lineno}: rr is not a list")
    if len(rr_raw) > MAX_RR_PER_LINE:
        raise RecordingError(f"corrupt recording: line {lineno}: {len(rr_raw)} RR values in "
                             f"one notification (at most {MAX_RR_PER_LINE} fit)")
    rr = tuple(float(_number(v, "an RR value", lineno) or 0.0) for v in rr_raw)
    for v in rr:
        if not 0.0 <= v <= MAX_RR_MS:
            raise RecordingError(f"corrupt recording: line {lineno}: RR value {v:.6g} ms is "
                                 f"outside 0-{MAX_RR_MS:.0f} ms")
    role = obj.get("role")
    if not isinstance(role, str):
        raise RecordingError(f"corrupt recording: line {lineno}: role is missing")
    hr = obj.get("hr", 0)
    hr_value = float(_number(hr, "hr", lineno) or 0.0) if hr is not None else 0.0
    if not 0.0 <= hr_value <= 65535.0:
        raise RecordingError(f"corrupt recording: line {lineno}: hr {hr_value:.6g} is outside "
                             "0-65535")
    hr_bpm = int(hr_value)
    contact = obj.get("contact")
    if contact is not None and not isinstance(contact, bool):
        raise RecordingError(f"corrupt recording: line {lineno}: contact is not true/false/null")
    raw = obj.get("raw")
    try:
        payload = bytes.fromhex(raw) if isinstance(raw, str) else b""
    except ValueError as exc:
        raise RecordingError(f"corrupt recording: line {lineno}: raw is not hex") from exc
    return RRSample(source_id=role, arrival_s=float(t or 0.0), rr_ms=rr, hr_bpm=hr_bpm,
                    contact=contact, payload=payload)


def _pacer(obj: JSONObject, lineno: int) -> PacerChange:
    """A pacer line; rates outside 0-60 breaths/min, an inhale share outside 0.05-0.95 or pauses
    outside 0-60 s are damage (no pacer coreg writes comes near them)."""
    rate = _number(obj.get("rate_bpm"), "rate_bpm", lineno, allow_none=True)
    ratio = float(_number(obj.get("inhale_ratio", 0.5), "inhale_ratio", lineno) or 0.0)
    pause_in = float(_number(obj.get("pause_in_s", 0.0), "pause_in_s", lineno) or 0.0)
    pause_out = float(_number(obj.get("pause_out_s", 0.0), "pause_out_s", lineno) or 0.0)
    where = f"corrupt recording: line {lineno}: pacer"
    if rate is not None and not 0.0 < rate <= 60.0:
        raise RecordingError(f"{where} rate {rate:.6g} breaths/min is outside 0-60")
    if not 0.05 < ratio < 0.95:
        raise RecordingError(f"{where} inhale share {ratio:.6g} is outside 0.05-0.95")
    if not (0.0 <= pause_in <= 60.0 and 0.0 <= pause_out <= 60.0):
        raise RecordingError(f"{where} pauses must lie in 0-60 s")
    return PacerChange(t_s=float(_number(obj.get("t"), "t", lineno) or 0.0), rate_bpm=rate,
                       inhale_ratio=ratio, pause_in_s=pause_in, pause_out_s=pause_out,
                       label=str(obj.get("label", "")))


def _event(obj: JSONObject, lineno: int) -> DeviceEvent:
    t = _number(obj.get("t"), "t", lineno)
    try:
        kind = EventKind(str(obj.get("kind")))
    except ValueError as exc:
        raise RecordingError(
            f"corrupt recording: line {lineno}: unknown event kind {obj.get('kind')!r}") from exc
    role = obj.get("role")
    if not isinstance(role, str):
        raise RecordingError(f"corrupt recording: line {lineno}: role is missing")
    value = _number(obj.get("value"), "value", lineno, allow_none=True)
    return DeviceEvent(source_id=role, arrival_s=float(t or 0.0), kind=kind, value=value,
                       detail=str(obj.get("detail", "")))


def _open_regular(p: Path) -> int:
    """Open ``p`` for reading only if it is a regular file (a FIFO never blocks the open)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except IsADirectoryError as exc:
        raise RecordingError(f"{p} is a directory, not a recording") from exc
    except FileNotFoundError as exc:
        raise RecordingError(f"{p}: no such file") from exc
    except PermissionError as exc:
        raise RecordingError(f"{p}: permission denied") from exc
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise RecordingError(f"{p} is a directory, not a recording")
        if not stat.S_ISREG(st.st_mode):
            raise RecordingError(f"{p} is not a regular file (a pipe or device), not a recording")
        if st.st_size > MAX_FILE_BYTES:
            raise RecordingError(f"{p} is {st.st_size / 2**30:.1f} GiB, larger than any "
                                 f"recording (at most {MAX_FILE_BYTES / 2**30:.0f} GiB)")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_bytes(p: Path, limit: int | None = None) -> bytes:
    fd = _open_regular(p)
    try:
        with os.fdopen(fd, "rb", closefd=False) as fh:
            if limit is not None:
                return fh.readline(limit)
            return fh.read()  # its size was checked by _open_regular
    except OSError as exc:
        raise RecordingError(f"{p}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


def read_header(path: str | os.PathLike[str]) -> RecordingHeader:
    """Read and check only the header line (fast, for listings)."""
    p = Path(path)
    return _check_header(_read_bytes(p, 1 << 20), p)


class _Clock:
    """Checks that the times of successive lines of one stream are plausible.

    One clock per role for its RR lines and one for its events (a session computed faster than
    real time writes each strap's lines in chunks, so the roles interleave out of order) and one for
    the lines of the session itself (markers without a role, pacer, end, other types),
    which has no gap rule.
    """

    def __init__(self, path: Path, *, max_gap_s: float = MAX_GAP_S) -> None:
        self.path = path
        self.max_gap_s = max_gap_s
        self.latest_s: float | None = None

    def check(self, t_s: float, lineno: int) -> float:
        where = f"corrupt recording: {self.path} line {lineno}"
        if t_s < -TIME_TOLERANCE_S:
            raise RecordingError(f"{where}: time {t_s:.6g} s is before the session start")
        if t_s > MAX_SESSION_S:
            raise RecordingError(f"{where}: time {t_s:.6g} s is beyond any plausible session "
                                 f"(at most {MAX_SESSION_S / 3600:.0f} h)")
        if self.latest_s is not None:
            if t_s < self.latest_s - TIME_TOLERANCE_S:
                raise RecordingError(f"{where}: time runs backwards ({t_s:.6g} s after "
                                     f"{self.latest_s:.6g} s)")
            if t_s > self.latest_s + self.max_gap_s:
                raise RecordingError(f"{where}: time jumps from {self.latest_s:.6g} s to "
                                     f"{t_s:.6g} s (more than {MAX_GAP_S / 3600:.0f} h without "
                                     "a line)")
            self.latest_s = max(self.latest_s, t_s)
        else:
            self.latest_s = t_s
        return t_s


def _check_header(first: bytes, path: Path) -> RecordingHeader:
    if not first.strip():
        raise RecordingError(f"{path} is empty, not a coreg recording")
    try:
        header = json.loads(first.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RecordingError(
            f"{path} is not a coreg recording (its first line is not a JSON header)") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise RecordingError(f"{path} is not a coreg recording (no '{FORMAT_NAME}' header)")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise RecordingError(f"{path}: recording header has no valid version")
    if version > FORMAT_VERSION:
        raise RecordingError(
            f"{path} uses recording format version {version}; this coreg reads up to "
            f"version {FORMAT_VERSION} — update coreg to open it")
    if version < 1:
        raise RecordingError(f"{path}: unknown recording format version {version}")
    roles = header.get("roles", {})
    if not isinstance(roles, dict) or not all(isinstance(v, dict) for v in roles.values()):
        raise RecordingError(f"{path}: recording header has malformed roles")
    for key in ("settings", "simulation"):
        if not isinstance(header.get(key), dict | None):
            raise RecordingError(f"{path}: recording header's {key} is not an object")
    return cast(RecordingHeader, header)  # the keys it types were checked above


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a recording.

    A last line cut off mid-write (the process was killed) is skipped and noted in
    ``Recording.skipped``, as is a missing ``end`` line. All other damage is refused.

    Raises
    ------
    RecordingError
        Not a recording, unknown (newer) version, or corrupt, with one clear sentence.
    """
    p = Path(path)
    data = _read_bytes(p)
    lines = data.split(b"\n")
    header = _check_header(lines[0], p)
    rec = Recording(path=p, header=header)
    clocks: dict[tuple[str, str] | None, _Clock] = {}
    # The file ends with "\n" when the last line is whole: then lines[-1] is b"".
    last_index = len(lines) - 1
    for i in range(1, len(lines)):
        raw = lines[i]
        if not raw.strip():
            continue
        lineno = i + 1
        try:
            obj = json.loads(raw.decode("utf-8"))
            if not isinstance(obj, dict):
                raise ValueError("not an object")
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # deep nesting too
            if i == last_index:  # no newline after it: cut off by a crash
                rec.skipped.append(
                    f"skipped the last line ({len(raw)} bytes), cut off mid-write")
                break
            raise RecordingError(
                f"corrupt recording: {p} line {lineno} is not a valid JSON object") from exc
        kind = obj.get("type")
        if kind not in ("header", None) and ("t" in obj or kind in ("rr", "event", "marker",
                                                                    "pacer")):
            role = obj.get("role") if isinstance(obj.get("role"), str) else None
            # A role's device events have a clock of their own: they are stamped when they
            # happen on this host, while beats can carry their own earlier stamps (an LSL
            # stream's backlog at connect is stamped at the beats' times, after "connected").
            stream = None if role is None else (role, "event" if kind == "event" else "rr")
            clock = clocks.get(stream)
            if clock is None:
                # markers, pacer changes, the end line and device events come when they come:
                # no gap rule
                clock = clocks[stream] = _Clock(
                    p, max_gap_s=math.inf if stream is None or kind == "event" else MAX_GAP_S)
            clock.check(float(_number(obj.get("t"), "t", lineno) or 0.0), lineno)
        if kind == "rr":
            rec.samples.append(_sample(obj, lineno))
        elif kind == "event":
            rec.events.append(_event(obj, lineno))
        elif kind == "marker":
            role = obj.get("role")
            if role is not None and not isinstance(role, str):
                raise RecordingError(f"corrupt recording: line {lineno}: role is not text")
            rec.markers.append(Marker(t_s=float(_number(obj.get("t"), "t", lineno) or 0.0),
                                      note=str(obj.get("note", "")), role=role))
        elif kind == "pacer":
            rec.pacer.append(_pacer(obj, lineno))
        elif kind == "end":
            rec.end = obj
        elif kind == "header":
            raise RecordingError(f"corrupt recording: {p} line {lineno} is a second header")
        elif isinstance(kind, str):
            rec.extra.append(obj)
        else:
            raise RecordingError(f"corrupt recording: {p} line {lineno} has no type")
    if rec.end is None:
        t_last = rec.duration_s
        rec.skipped.append(
            f"no end line: the session did not close cleanly; data read up to t = {t_last:.1f} s")
    return rec
