"""devices.hrm against the spec (docs/science.md §1) and, differentially, against Bumble's
Heart Rate profile encoder/decoder (bumble.profiles.heart_rate_service)."""

from __future__ import annotations

import random
import struct

import pytest
from bumble.profiles.heart_rate_service import HeartRateService
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import hrm
from devices.errors import CoregError, DeviceError, HrmParseError

BumbleHRM = HeartRateService.HeartRateMeasurement

rr_raw_lists = st.lists(st.integers(0, 0xFFFF), min_size=0, max_size=9)
contacts = st.sampled_from([None, True, False])
energies = st.one_of(st.none(), st.integers(0, 0xFFFF))


def _bumble_rr_raw(m: BumbleHRM) -> tuple[int, ...] | None:
    if m.rr_intervals is None:
        return None
    raw = tuple(round(v * 1024) for v in m.rr_intervals)
    assert all(v * 1024 == r for v, r in zip(m.rr_intervals, raw, strict=True))
    return raw


# -- spec examples ---------------------------------------------------------------------------


def test_known_payloads_and_known_mistakes() -> None:
    # flags 0x16: RR present, contact supported and detected; HR 60; RR raw 1023 (not 1000 ms).
    m = hrm.parse(bytes([0x16, 60, 0xFF, 0x03]))
    assert m == hrm.HeartRateMeasurement(60, (1023 * 1000 / 1024,), True, None)
    assert m.rr_ms[0] == 999.0234375  # a float, not rounded to whole ms, not raw units
    # contact supported but NOT detected -> False (not "supported" == True)
    assert hrm.parse(bytes([0x04, 70])).contact is False
    # "detected" bit without the "supported" bit -> unknown
    assert hrm.parse(bytes([0x02, 70])).contact is None
    # uint16 heart rate, energy, two RR values
    payload = bytes([0x19]) + struct.pack("<HHHH", 300, 1234, 512, 2048)
    m = hrm.parse(payload)
    assert (m.hr_bpm, m.energy_kj, m.rr_ms, m.contact) == (300, 1234, (500.0, 2000.0), None)
    # the flags byte matters: same bytes, uint8 flag -> HR 0x2C, then trailing junk
    with pytest.raises(HrmParseError):
        hrm.parse(bytes([0x00, 0x2C, 0x01]))


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x16", b"\x01\x3c", b"\x08\x3c\x01", b"\x10\x3c\x00", b"\x00\x3c\x00\x00",
     b"\x19\x3c\x00\x01\x00\x02"],
)
def test_malformed_payloads_raise_parse_error(payload: bytes) -> None:
    with pytest.raises(HrmParseError):
        hrm.parse(payload)


def test_parse_error_is_a_project_error() -> None:
    assert issubclass(HrmParseError, DeviceError)
    assert issubclass(HrmParseError, CoregError)


@pytest.mark.parametrize("value", [None, 3, 2, "ab", 1.5, object()])
def test_non_bytes_input_raises_parse_error(value: object) -> None:
    with pytest.raises(HrmParseError):
        hrm.parse(value)  # type: ignore[arg-type]


def test_rr_ms_raw_round_trip() -> None:
    for raw in (0, 1, 512, 1000, 1023, 1024, 65535):
        assert hrm.rr_ms_to_raw(hrm.rr_raw_to_ms(raw)) == raw
    assert hrm.rr_raw_to_ms(1024) == 1000.0
    assert hrm.rr_ms_to_raw(1000.0) == 1024


def test_encode_rejects_out_of_range_values() -> None:
    with pytest.raises(ValueError):
        hrm.encode(256, hr_uint16=False)
    with pytest.raises(ValueError):
        hrm.encode(70, energy_kj=70_000)
    with pytest.raises(ValueError):
        hrm.encode(70, rr_ms=[-5.0])


# -- differential: Bumble encodes, we parse ----------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    hr=st.integers(0, 0xFFFF),
    contact=contacts,
    energy=energies,
    rr_raw=st.one_of(st.none(), rr_raw_lists),
)
def test_parse_agrees_with_bumble_encoder(
    hr: int, contact: bool | None, energy: int | None, rr_raw: list[int] | None
) -> None:
    rr_s = None if rr_raw is None else [r / 1024 for r in rr_raw]
    reference = BumbleHRM(hr, contact, energy, rr_s)
    payload = bytes(reference)
    ours = hrm.parse(payload)
    assert ours.hr_bpm == reference.heart_rate
    assert ours.contact == reference.sensor_contact_detected
    assert ours.energy_kj == reference.energy_expended
    assert ours.rr_ms == tuple(r * 1000 / 1024 for r in (rr_raw or ()))
    assert tuple(hrm.rr_ms_to_raw(v) for v in ours.rr_ms) == tuple(rr_raw or ())
    # and our encoder produces Bumble's bytes for the same measurement
    assert hrm.encode(
        hr, ours.rr_ms, contact, energy, rr_present=rr_raw is not None
    ) == payload


# -- differential: we encode (incl. uint16 for small HR, RR flag with no values), Bumble parses --


@settings(max_examples=400, deadline=None)
@given(
    hr=st.integers(0, 0xFFFF),
    force_uint16=st.booleans(),
    contact=contacts,
    energy=energies,
    rr_raw=rr_raw_lists,
    rr_flag_when_empty=st.booleans(),
)
def test_bumble_decoder_agrees_with_parse(
    hr: int,
    force_uint16: bool,
    contact: bool | None,
    energy: int | None,
    rr_raw: list[int],
    rr_flag_when_empty: bool,
) -> None:
    rr_ms = [hrm.rr_raw_to_ms(r) for r in rr_raw]
    payload = hrm.encode(
        hr,
        rr_ms,
        contact,
        energy,
        hr_uint16=True if force_uint16 or hr > 0xFF else None,
        rr_present=bool(rr_raw) or rr_flag_when_empty,
    )
    assert bool(payload[0] & hrm.FLAG_HR_UINT16) == (force_uint16 or hr > 0xFF)
    ours = hrm.parse(payload)
    reference = BumbleHRM.from_bytes(payload)
    assert ours.hr_bpm == reference.heart_rate == hr
    assert ours.contact == reference.sensor_contact_detected == contact
    assert ours.energy_kj == reference.energy_expended == energy
    ref_raw = _bumble_rr_raw(reference)
    assert tuple(hrm.rr_ms_to_raw(v) for v in ours.rr_ms) == tuple(ref_raw or ()) == tuple(rr_raw)
    assert ours.rr_ms == tuple(rr_ms)


# -- fuzzing ------------------------------------------------------------------------------------


def test_fuzz_100k_random_payloads_raise_only_parse_errors() -> None:
    rng = random.Random(20261122)
    parsed = rejected = 0
    for _ in range(100_000):
        n = rng.randrange(0, 25)
        payload = rng.randbytes(n)
        try:
            m = hrm.parse(payload)
        except HrmParseError:
            rejected += 1
            continue
        parsed += 1
        # whatever we accept, Bumble's decoder reads the same way
        ref = BumbleHRM.from_bytes(payload)
        assert (m.hr_bpm, m.contact, m.energy_kj) == (
            ref.heart_rate, ref.sensor_contact_detected, ref.energy_expended,
        )
        assert tuple(hrm.rr_ms_to_raw(v) for v in m.rr_ms) == tuple(_bumble_rr_raw(ref) or ())
    assert parsed > 10_000 and rejected > 10_000  # both branches were exercised
