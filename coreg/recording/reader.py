"""Reading a coreg recording, including one cut off by a crash."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coreg.errors import RecordingError
from coreg.recording.format import FORMAT_NAME, FORMAT_VERSION
from devices.types import DeviceEvent, EventKind, RRSample


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
    header: dict[str, Any]
    samples: list[RRSample] = field(default_factory=list)
    events: list[DeviceEvent] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    pacer: list[PacerChange] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)
    end: dict[str, Any] | None = None
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
    def simulation(self) -> dict[str, Any] | None:
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
        if self.end is not None and isinstance(self.end.get("t"), int | float):
            last = max(last, float(self.end["t"]))
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


def _number(value: Any, what: str, lineno: int, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RecordingError(f"corrupt recording: line {lineno}: {what} is not a number")
    return float(value)


def _sample(obj: dict[str, Any], lineno: int) -> RRSample:
    t = _number(obj.get("t"), "t", lineno)
    rr_raw = obj.get("rr")
    if not isinstance(rr_raw, list):
        raise RecordingError(f"corrupt recording: line {lineno}: rr is not a list")
    rr = tuple(float(_number(v, "an RR value", lineno) or 0.0) for v in rr_raw)
    role = obj.get("role")
    if not isinstance(role, str):
        raise RecordingError(f"corrupt recording: line {lineno}: role is missing")
    hr = obj.get("hr", 0)
    hr_bpm = int(_number(hr, "hr", lineno) or 0) if hr is not None else 0
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


def _event(obj: dict[str, Any], lineno: int) -> DeviceEvent:
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


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check only the header line (fast, for listings)."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            first = fh.readline(1 << 20)
    except IsADirectoryError as exc:
        raise RecordingError(f"{p} is a directory, not a recording") from exc
    except FileNotFoundError as exc:
        raise RecordingError(f"{p}: no such file") from exc
    return _check_header(first, p)


def _check_header(first: bytes, path: Path) -> dict[str, Any]:
    if not first.strip():
        raise RecordingError(f"{path} is empty, not a coreg recording")
    try:
        header = json.loads(first.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
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
    if not isinstance(header.get("roles", {}), dict):
        raise RecordingError(f"{path}: recording header has malformed roles")
    return header


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a recording.

    A last line cut off mid-write (the process was killed) is skipped and noted in
    ``Recording.skipped``, as is a missing ``end`` line. Any other damage is refused.

    Raises
    ------
    RecordingError
        Not a recording, unknown (newer) version, or corrupt, with one clear sentence.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except IsADirectoryError as exc:
        raise RecordingError(f"{p} is a directory, not a recording") from exc
    except FileNotFoundError as exc:
        raise RecordingError(f"{p}: no such file") from exc
    lines = data.split(b"\n")
    header = _check_header(lines[0], p)
    rec = Recording(path=p, header=header)
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
        except (UnicodeDecodeError, ValueError) as exc:
            if i == last_index:  # no newline after it: cut off by a crash
                rec.skipped.append(
                    f"skipped the last line ({len(raw)} bytes), cut off mid-write")
                break
            raise RecordingError(
                f"corrupt recording: {p} line {lineno} is not a valid JSON object") from exc
        kind = obj.get("type")
        if kind == "rr":
            rec.samples.append(_sample(obj, lineno))
        elif kind == "event":
            rec.events.append(_event(obj, lineno))
        elif kind == "marker":
            rec.markers.append(Marker(t_s=float(_number(obj.get("t"), "t", lineno) or 0.0),
                                      note=str(obj.get("note", "")), role=obj.get("role")))
        elif kind == "pacer":
            rec.pacer.append(PacerChange(
                t_s=float(_number(obj.get("t"), "t", lineno) or 0.0),
                rate_bpm=_number(obj.get("rate_bpm"), "rate_bpm", lineno, allow_none=True),
                inhale_ratio=float(_number(obj.get("inhale_ratio", 0.5), "inhale_ratio", lineno)
                                   or 0.5),
                pause_in_s=float(_number(obj.get("pause_in_s", 0.0), "pause_in_s", lineno) or 0.0),
                pause_out_s=float(_number(obj.get("pause_out_s", 0.0), "pause_out_s", lineno)
                                  or 0.0),
                label=str(obj.get("label", "")),
            ))
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
