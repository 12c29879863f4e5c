"""``coreg/sources.py``: SRC strings, the dyad defaults, resolving sources and the header."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coreg.errors import InputError
from coreg.sources import SourceSpec, default_specs, parse_src, resolve, simulation_header


@pytest.mark.parametrize(("text", "kind", "target"), [
    ("sim", "sim", "coupled"),
    ("SIM:weak", "sim", "weak"),
    ("  sim: independent ", "sim", "independent"),
    ("ble-sim", "ble-sim", "coupled"),
    ("ble-sim:rest", "ble-sim", "rest"),
    ("none", "none", ""),
    ("A0:9E:1A:12:34:56", "ble", "A0:9E:1A:12:34:56"),
    ("Polar H10 1234ABCD", "ble", "Polar H10 1234ABCD"),
    ("simulator", "ble", "simulator"),  # a strap whose name starts with "sim"
])
def test_parse_src(text: str, kind: str, target: str) -> None:
    spec = parse_src(text)
    assert (spec.kind, spec.target) == (kind, target)
    assert spec.simulated == (kind in ("sim", "ble-sim"))


@pytest.mark.parametrize("text", ["", "   ", "sim:", "ble-sim:  "])
def test_bad_src_is_one_input_error(text: str) -> None:
    with pytest.raises(InputError) as err:
        parse_src(text)
    assert "\n" not in str(err.value)


@given(st.text(max_size=40))
def test_parse_src_never_fails_otherwise(text: str) -> None:
    try:
        spec = parse_src(text)
    except InputError:
        return
    assert spec.kind in ("sim", "ble-sim", "ble", "none") and spec.text == text.strip()


def test_default_specs_fill_a_missing_role() -> None:
    both = default_specs(None, None)
    assert {r: s.kind for r, s in both.items()} == {"client": "sim", "therapist": "sim"}
    weak = default_specs("sim:weak", None)
    assert weak["therapist"] == weak["client"] == SourceSpec("sim", "weak", "sim:weak")
    real = default_specs(None, "A0:9E:1A:12:34:56")
    assert real["client"].kind == "none" and real["therapist"].kind == "ble"


def test_resolve_one_simulated_dyad_feeds_both_roles() -> None:
    resolved = resolve(default_specs("sim:coupled", None), duration_s=30.0, seed=5,
                       realtime=False)
    assert list(resolved.sources) == ["client", "therapist"]
    assert resolved.simulated and not resolved.realtime
    assert resolved.simulation is not None
    assert (resolved.simulation["scenario"], resolved.simulation["seed"]) == ("coupled", 5)
    roles = resolved.header_roles()
    assert roles["client"]["simulated"] and roles["client"]["src"] == "sim:coupled"


def test_unknown_scenario_is_one_input_error() -> None:
    with pytest.raises(InputError, match="unknown scenario 'nope'"):
        resolve({"client": parse_src("sim:nope")}, duration_s=10.0, realtime=False)


def test_simulation_header_of_two_runs() -> None:
    class Run:
        def __init__(self, scenario: str, seed: int) -> None:
            self.scenario, self.seed, self.truth = scenario, seed, {"s": scenario}

    assert simulation_header({}) is None
    one = Run("rest", 1)
    assert simulation_header({"client": one, "therapist": one}) == {
        "scenario": "rest", "seed": 1, "truth": {"s": "rest"}}
    two = simulation_header({"client": Run("rest", 1), "therapist": Run("rest", 2)})
    assert two == {"scenario": {"client": "rest", "therapist": "rest"},
                   "seed": {"client": 1, "therapist": 2},
                   "truth": {"rest:1": {"s": "rest"}, "rest:2": {"s": "rest"}}}
