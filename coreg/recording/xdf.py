"""XDF import: the RR of one or two people from an XDF file (LabRecorder) as a coreg recording.

Per person, one stream of the file is used:

RR/IBI stream
    A stream of type ``RR``, ``IBI`` or ``NN`` (case-blind; coreg's own ``coreg stream``
    writes type ``RR``) or one whose first channel is labelled so: one sample per beat, its
    time stamp the end of the interval. The unit is the channel's ``unit`` (``ms`` or ``s``),
    or seconds when every value is below 10.
ECG stream
    A stream of type ``ECG`` (or a channel labelled or typed ``ECG``): R-peaks are detected
    with neurokit2 (``ecg_clean`` then ``ecg_peaks``, method ``"neurokit"``; Makowski et al.
    2021, doi:10.3758/s13428-020-01516-y), each peak placed at its sample's time stamp and
    each RR the difference of two successive peaks. The import says which it did.

All streams are put on the common clock of the recording machine by pyxdf
(``synchronize_clocks``: the clock offsets LabRecorder stored for each stream); time 0 of the
coreg recording is the start of the first interval of either person. A coreg events stream
(``<name>-events``, type ``Markers``) beside a chosen RR stream brings its device events along.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from coreg.errors import InputError
from coreg.recording.format import AtomicRecording, JSONObject, new_header
from devices.lsl import MAX_RR_MS, MIN_RR_MS, parse_event_marker
from devices.types import DeviceEvent, EventKind, RRSample

RR_TYPES = ("rr", "ibi", "nn")
ECG_TYPES = ("ecg",)
INSTALL_HINT = "XDF import needs pyxdf: pip install 'coreg[lsl]'"

#: One stream as pyxdf gives it: ``info`` (the stream header's XML as nested dicts and lists
#: of strings), ``time_series`` and ``time_stamps``. pyxdf is not annotated, so every value
#: is narrowed where it is read.
XdfStream = Mapping[str, object]


@dataclass(slots=True)
class XdfBeats:
    """The beats of one person taken from one XDF stream (times on the file's common clock)."""

    stream: str
    kind: str  # "RR" or "ECG"
    method: str
    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    events: list[tuple[float, EventKind, float | None, str]] = field(default_factory=list)


def _at(node: object, *path: str | int) -> object:
    """The value at ``path`` in pyxdf's nested dicts and lists, or None where it is missing."""
    for step in path:
        if isinstance(step, str) and isinstance(node, dict):
            node = node.get(step)
        elif isinstance(step, int) and isinstance(node, list) and -len(node) <= step < len(node):
            node = node[step]
        else:
            return None
    return node


def _info(stream: XdfStream, key: str) -> str:
    info = stream.get("info", {})
    value = info.get(key, [""]) if isinstance(info, dict) else None
    return str(value[0] if isinstance(value, list) and value else value or "")


def _channels(stream: XdfStream) -> list[dict[str, str]]:
    chans = _at(stream.get("info"), "desc", 0, "channels", 0, "channel")
    out: list[dict[str, str]] = []
    for ch in chans if isinstance(chans, list) else []:
        if isinstance(ch, dict):
            out.append({k: str(v[0]) if isinstance(v, list) and v else "" for k, v in ch.items()})
    return out


def _coreg_role(stream: XdfStream) -> str:
    role = _at(stream.get("info"), "desc", 0, "coreg", 0, "role", 0)
    return "" if role is None else str(role)


def _is_rr(stream: XdfStream) -> bool:
    if _info(stream, "type").lower() in RR_TYPES:
        return True
    chans = _channels(stream)
    return bool(chans) and chans[0].get("label", "").lower() in RR_TYPES and \
        _info(stream, "channel_format") != "string"


def _ecg_channel(stream: XdfStream) -> int | None:
    chans = _channels(stream)
    for i, ch in enumerate(chans):
        if "ecg" in ch.get("label", "").lower() or ch.get("type", "").lower() == "ecg":
            return i
    if _info(stream, "type").lower() in ECG_TYPES:
        return 0
    return None


def load_streams(path: str | Path) -> list[XdfStream]:
    """Every stream of an XDF file, on the common clock (pyxdf ``load_xdf``)."""
    try:
        import pyxdf
    except ImportError as exc:
        raise InputError(INSTALL_HINT) from exc
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    try:
        streams, _header = pyxdf.load_xdf(str(p), synchronize_clocks=True,
                                          dejitter_timestamps=True)
    except Exception as exc:  # pyxdf raises many kinds on a broken file
        raise InputError(f"{p} is not a readable XDF file ({type(exc).__name__}: {exc})") from exc
    return [s for s in streams if isinstance(s, dict)]


def _series(stream: XdfStream, key: str) -> NDArray[np.float64]:
    """``time_series`` or ``time_stamps`` of a numeric stream as floats."""
    return np.asarray(stream.get(key, ()), dtype=np.float64)


def _rr_beats(stream: XdfStream) -> XdfBeats:
    name = _info(stream, "name")
    values = _series(stream, "time_series")
    stamps = _series(stream, "time_stamps")
    if values.ndim == 2:
        values = values[:, 0]
    keep = np.isfinite(values) & (values > 0)
    values, stamps = values[keep], stamps[keep]
    if len(values) == 0:
        raise InputError(f"XDF stream {name!r} holds no RR values")
    chans = _channels(stream)
    unit = chans[0].get("unit", "").strip().lower() if chans else ""
    if unit in ("s", "sec", "second", "seconds"):
        scale, unit_text = 1000.0, "s"
    elif unit in ("ms", "msec", "millisecond", "milliseconds"):
        scale, unit_text = 1.0, "ms"
    elif float(np.max(values)) < 10.0:
        scale, unit_text = 1000.0, "s (from the values)"
    else:
        scale, unit_text = 1.0, "ms (from the values)"
    rr_ms = values * scale
    usable = (rr_ms >= MIN_RR_MS) & (rr_ms <= MAX_RR_MS) & np.isfinite(stamps)
    dropped = int(len(rr_ms) - usable.sum())
    rr_ms, stamps = rr_ms[usable], stamps[usable]
    if len(rr_ms) == 0:
        raise InputError(f"XDF stream {name!r} holds no RR value between 1 ms and 64 s")
    order = np.argsort(stamps, kind="stable")
    method = f"RR intervals in {unit_text}"
    if dropped:
        method += f", {dropped} values out of range skipped"
    return XdfBeats(name, "RR", method, stamps[order], rr_ms[order])


def _ecg_beats(stream: XdfStream, channel: int) -> XdfBeats:
    name = _info(stream, "name")
    try:
        import neurokit2 as nk
    except ImportError as exc:
        raise InputError("R-peak detection in an ECG stream needs neurokit2: "
                         "pip install 'coreg[analysis]'") from exc
    signal = _series(stream, "time_series")
    stamps = _series(stream, "time_stamps")
    if signal.ndim == 2:
        signal = signal[:, channel]
    try:
        fs = float(_info(stream, "nominal_srate"))
    except ValueError:
        fs = 0.0
    if not fs > 0:
        effective = _at(stream.get("info"), "effective_srate")
        fs = float(effective) if isinstance(effective, int | float) and effective else 0.0
    if not fs > 0 or len(signal) < fs * 5:
        raise InputError(f"XDF ECG stream {name!r} is too short or has no sampling rate")
    finite = np.isfinite(signal)
    if not finite.all():
        signal = np.interp(np.arange(len(signal)), np.flatnonzero(finite), signal[finite])
    cleaned = nk.ecg_clean(signal, sampling_rate=fs, method="neurokit")
    _, info = nk.ecg_peaks(cleaned, sampling_rate=fs, method="neurokit")
    peaks = np.asarray(info["ECG_R_Peaks"], dtype=int)
    if len(peaks) < 2:
        raise InputError(f"no heartbeats found in the XDF ECG stream {name!r}")
    times = stamps[peaks]
    rr_ms = np.asarray(np.diff(times) * 1000.0, dtype=np.float64)
    keep = (rr_ms >= MIN_RR_MS) & (rr_ms <= MAX_RR_MS)  # stamps out of order or a long gap
    times, rr_ms = times[1:][keep], rr_ms[keep]
    if len(rr_ms) == 0:
        raise InputError(f"no heartbeats found in the XDF ECG stream {name!r}")
    return XdfBeats(name, "ECG", f"ECG at {fs:g} Hz → RR by neurokit2 R-peak detection "
                    "(ecg_clean + ecg_peaks, method neurokit)", times, rr_ms)


def _attach_events(beats: XdfBeats, streams: list[XdfStream], rr_stream: XdfStream) -> None:
    sid = _info(rr_stream, "source_id")
    for s in streams:
        if _info(s, "type") != "Markers":
            continue
        if not (_info(s, "name") == beats.stream + "-events"
                or (sid and _info(s, "source_id") == sid + "-events")):
            continue
        values, stamps = s.get("time_series"), _series(s, "time_stamps")
        for value, stamp in zip(values if isinstance(values, list) else [], stamps,
                                strict=False):
            parsed = parse_event_marker(value[0] if isinstance(value, list) and value else None)
            if parsed is not None:
                beats.events.append((float(stamp), *parsed))


def _describe(streams: list[XdfStream]) -> str:
    return ", ".join(f"{_info(s, 'name')!r} ({_info(s, 'type') or 'no type'})"
                     for s in streams) or "none"


def pick_streams(streams: list[XdfStream], client: str | None,
                 therapist: str | None) -> dict[str, XdfStream]:
    """Role → the stream to read: named ones, else the RR (or ECG) streams found.

    Without names: streams that say their role (coreg's metadata) take it; a single RR (or,
    with no RR stream, a single ECG) stream is the client's.
    """
    by_name = {_info(s, "name"): s for s in streams}
    chosen: dict[str, XdfStream] = {}
    for role, name in (("client", client), ("therapist", therapist)):
        if name is None:
            continue
        if name not in by_name:
            raise InputError(f"no stream named {name!r} in the XDF file "
                             f"(it holds {_describe(streams)})")
        chosen[role] = by_name[name]
    if chosen:
        return chosen
    usable = [s for s in streams if _is_rr(s)] or [s for s in streams
                                                   if _ecg_channel(s) is not None]
    if not usable:
        raise InputError(f"no RR, IBI or ECG stream in the XDF file "
                         f"(it holds {_describe(streams)})")
    for s in usable:
        role = _coreg_role(s)
        if role in ("client", "therapist") and role not in chosen:
            chosen[role] = s
    if chosen:
        return chosen
    if len(usable) == 1:
        return {"client": usable[0]}
    raise InputError(f"several possible streams ({_describe(usable)}): name them with "
                     "--client STREAM and --therapist STREAM")


def read_xdf(path: str | Path, client: str | None = None,
             therapist: str | None = None) -> dict[str, XdfBeats]:
    """Role → beats of an XDF file (see the module docstring)."""
    streams = load_streams(path)
    out: dict[str, XdfBeats] = {}
    for role, stream in pick_streams(streams, client, therapist).items():
        if _is_rr(stream):
            beats = _rr_beats(stream)
            _attach_events(beats, streams, stream)
        else:
            channel = _ecg_channel(stream)
            if channel is None:
                raise InputError(f"XDF stream {_info(stream, 'name')!r} "
                                 f"(type {_info(stream, 'type')!r}) is neither RR/IBI nor ECG")
            beats = _ecg_beats(stream, channel)
        out[role] = beats
    return out


def import_xdf(path: str | Path, output: str | Path, client: str | None = None,
               therapist: str | None = None, *, force: bool = False,
               header_extra: Mapping[str, object] | None = None) -> JSONObject:
    """Import an XDF file into a recording at ``output``; return the header written.

    ``output`` is checked first (:func:`coreg.recording.output.check_output`): never over a
    recording or the XDF file, another existing file only with ``force``. ``header_extra``
    adds top-level header fields (the client's name).
    """
    from coreg.recording.output import check_output

    check_output(output, force=force, inputs=[path])
    people = read_xdf(path, client, therapist)
    t0_s = min(min([float(b.t_s[0] - b.rr_ms[0] / 1000.0), *(e[0] for e in b.events)])
               for b in people.values())
    roles = {role: {"name": b.stream, "model": f"XDF {b.kind} stream", "address": "",
                    "simulated": False} for role, b in people.items()}
    header = new_header(
        "import", roles,
        imported={role: {"file": Path(path).name, "format": "xdf", "stream": b.stream,
                         "kind": b.kind, "method": b.method, "beats": len(b.rr_ms)}
                  for role, b in people.items()},
        xdf={"t0_lsl_s": t0_s},
    )
    header.update(header_extra or {})  # top-level fields, last (as new_header's own extras)
    lines: list[tuple[float, int, RRSample | DeviceEvent]] = []
    for role, b in people.items():
        t_list: list[float] = [float(x) for x in b.t_s]
        rr_list: list[float] = [float(x) for x in b.rr_ms]
        for t, rr in zip(t_list, rr_list, strict=True):
            lines.append((t - t0_s, 1, RRSample(role, t - t0_s, (rr,),
                                                max(1, round(60000.0 / rr)), None, b"")))
        for t, kind, value, detail in b.events:
            if kind is EventKind.STOPPED:
                continue
            lines.append((t - t0_s, 0, DeviceEvent(role, t - t0_s, kind, value, detail)))
    lines.sort(key=lambda x: (x[0], x[1]))
    end_s = max((x[0] for x in lines), default=0.0)
    with AtomicRecording(output, header, force=force, inputs=[path]) as writer:
        for _, _, message in lines:
            if isinstance(message, RRSample) and not math.isfinite(message.rr_ms[0]):
                continue
            writer.write(message)
        writer.close("imported", t_s=end_s)
    return header
