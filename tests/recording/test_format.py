"""The recording format: round trip, permissions, crash tolerance, clear refusals."""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coreg.errors import RecordingError
from coreg.recording import (
    FORMAT_VERSION,
    AtomicRecording,
    RecordingWriter,
    new_header,
    read_recording,
)
from devices.hrm import encode, rr_raw_to_ms
from devices.types import DeviceEvent, EventKind, RRSample

ROLES = {"client": {"name": "H10 A", "model": "Polar H10", "address": "AA:BB"},
         "therapist": {"name": "H10 B", "model": "Polar H10", "address": "CC:DD"}}


def _sample(role: str, t: float, raws: list[int], hr: int = 70,
            contact: bool | None = True) -> RRSample:
    rr = tuple(rr_raw_to_ms(r) for r in raws)
    return RRSample(role, t, rr, hr, contact, encode(hr, rr, contact))


def test_round_trip_everything(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    header = new_header("dyad", ROLES, start_monotonic_s=1000.0, settings={"window_s": 30})
    samples = [_sample("client", 1001.25, [830, 845]), _sample("therapist", 1001.5, []),
               _sample("client", 1002.3, [812], contact=False)]
    with RecordingWriter(path, header) as w:
        w.write_event(DeviceEvent("client", 1000.5, EventKind.CONNECTED, detail="H10 A"))
        w.write_event(DeviceEvent("client", 1000.6, EventKind.BATTERY, value=87.0))
        for s in samples:
            w.write(s)
        w.write_marker(1002.0, "client laughs")
        w.write_pacer(1002.1, 6.0, inhale_ratio=0.4)
    rec = read_recording(path)
    assert rec.complete and rec.skipped == []
    assert rec.header["version"] == FORMAT_VERSION and rec.mode == "dyad"
    assert rec.roles == ["client", "therapist"]
    assert [s.rr_ms for s in rec.samples] == [s.rr_ms for s in samples]
    assert [s.payload for s in rec.samples] == [s.payload for s in samples]
    assert [s.contact for s in rec.samples] == [True, True, False]
    assert rec.samples[0].arrival_s == pytest.approx(1.25)
    assert rec.events[1].kind is EventKind.BATTERY and rec.events[1].value == 87.0
    assert rec.markers[0].note == "client laughs" and rec.markers[0].t_s == pytest.approx(2.0)
    assert rec.pacer[0].rate_bpm == 6.0 and rec.pacer[0].inhale_ratio == 0.4
    assert rec.rr_for("client") == [rr_raw_to_ms(r) for r in (830, 845, 812)]
    assert rec.duration_s == pytest.approx(2.3)


def test_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    old = os.umask(0)
    try:
        RecordingWriter(path, new_header("dyad", ROLES)).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_never_overwrites_by_accident(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    RecordingWriter(path, new_header("dyad", ROLES)).close()
    with pytest.raises(RecordingError, match="already exists"):
        RecordingWriter(path, new_header("dyad", ROLES))


def test_each_line_reaches_the_file_before_close(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    w = RecordingWriter(path, new_header("dyad", ROLES))
    w.write(_sample("client", 0.8, [800]))
    rec = read_recording(path)  # read while still open: nothing is buffered in the process
    assert len(rec.samples) == 1
    assert any("no end line" in s for s in rec.skipped)
    w.close()


def test_cut_off_last_line_is_skipped_and_said(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    with RecordingWriter(path, new_header("dyad", ROLES)) as w:
        for i in range(5):
            w.write(_sample("client", i + 0.5, [900 + i]))
    data = path.read_bytes()
    lines = data.split(b"\n")
    # Drop the end line and cut the last sample line in the middle, as a SIGKILL could.
    cut = b"\n".join(lines[:-3]) + b"\n" + lines[-3][:17]
    path.write_bytes(cut)
    rec = read_recording(path)
    assert len(rec.samples) == 4
    assert any("cut off" in s for s in rec.skipped)
    assert any("no end line" in s for s in rec.skipped)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"hello world\n", "not a coreg recording"),
        (b'{"format": "something-else", "version": 1}\n', "not a coreg recording"),
        (b'{"format": "coreg-recording", "version": 99, "roles": {}}\n', "version 99"),
        (b'{"format": "coreg-recording", "version": "1"}\n', "no valid version"),
        (b'{"format": "coreg-recording", "version": 1, "roles": {}}\n{bad json}\n'
         b'{"type": "end"}\n', "line 2"),
        (b'{"format": "coreg-recording", "version": 1, "roles": {}}\n'
         b'{"type": "rr", "t": 1, "role": "client", "rr": ["x"]}\n', "line 2"),
        (b'{"format": "coreg-recording", "version": 1, "roles": {}}\n'
         b'{"type": "event", "t": 1, "role": "client", "kind": "exploded"}\n', "event kind"),
    ],
)
def test_refuses_with_one_clear_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(RecordingError, match=message) as info:
        read_recording(path)
    assert "\n" not in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no such file"):
        read_recording(tmp_path / "nope.jsonl")
    with pytest.raises(RecordingError, match="directory"):
        read_recording(tmp_path)


def test_atomic_recording_leaves_nothing_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError), AtomicRecording(out, new_header("dyad", ROLES)) as w:
        w.write(_sample("client", 1.0, [800]))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with AtomicRecording(out, new_header("dyad", ROLES)) as w:
        w.write(_sample("client", 1.0, [800]))
    assert read_recording(out).complete
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


rr_raw = st.integers(min_value=0, max_value=0xFFFF)


@settings(max_examples=150, deadline=None)
@given(
    notifications=st.lists(
        st.tuples(
            # the step to the next notification: lines are in time order, no hour-long silence
            st.floats(min_value=0, max_value=100, allow_nan=False),
            st.lists(rr_raw, max_size=9),
            st.integers(min_value=0, max_value=0xFFFF),
            st.sampled_from([True, False, None]),
            st.sampled_from(["client", "therapist"]),
        ),
        max_size=30,
    ),
    note=st.text(max_size=40),
)
def test_round_trip_property(tmp_path_factory: pytest.TempPathFactory,
                             notifications: list, note: str) -> None:
    path = tmp_path_factory.mktemp("rt") / "r.jsonl"
    written = []
    t = 0.0
    with RecordingWriter(path, new_header("dyad", ROLES)) as w:
        for step, raws, hr, contact, role in notifications:
            t += step
            s = _sample(role, t, raws, hr, contact)
            written.append(s)
            w.write(s)
        w.write_marker(t, note)
    rec = read_recording(path)
    assert len(rec.samples) == len(written)
    for a, b in zip(rec.samples, written, strict=True):
        assert a.rr_ms == b.rr_ms  # every RR exactly, as floats
        assert a.payload == b.payload and a.hr_bpm == b.hr_bpm and a.contact == b.contact
        assert math.isclose(a.arrival_s, round(b.arrival_s, 6), abs_tol=1e-9)
    assert rec.markers[0].note == note


def test_lines_are_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with RecordingWriter(path, new_header("dyad", ROLES)) as w:
        w.write(_sample("client", 1.0, [800, 801]))
    lines = path.read_text(encoding="utf-8").splitlines()
    objs = [json.loads(line) for line in lines]
    assert objs[0]["format"] == "coreg-recording"
    assert objs[1] == {"type": "rr", "t": 1.0, "role": "client", "rr": [781.25, 782.2265625],
                       "hr": 70, "contact": True, "raw": objs[1]["raw"]}
    assert bytes.fromhex(objs[1]["raw"])[0] & 0x10
    assert objs[-1]["type"] == "end"
