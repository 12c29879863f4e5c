"""The report's time series are the live engine's numbers at the same instants."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from coreg.engine.person import PersonEngine
from coreg.recording import read_recording
from coreg.report.samples import write_sample_recording
from coreg.report.series import beat_table, metric_series


def test_series_equal_a_live_engine_fed_as_live(tmp_path: Path) -> None:
    rec = read_recording(write_sample_recording(tmp_path / "d.jsonl", "artifacts", 120.0,
                                                seed=7))
    series = metric_series(rec, step_s=5.0)
    role = rec.roles[0]
    live = PersonEngine(role)
    checks = {30.0: None, 75.0: None, 120.0: None}
    msgs = sorted([*rec.samples_for(role), *rec.events_for(role)], key=lambda m: m.arrival_s)
    i = 0
    for t in checks:
        while i < len(msgs) and msgs[i].arrival_s <= t:
            live.feed(msgs[i])
            i += 1
        checks[t] = live.snapshot(t)
    s = series[role]
    for t, snap in checks.items():
        k = int(np.flatnonzero(np.isclose(s.t_s, t))[0])
        for name in ("hr_bpm", "rmssd_ms"):
            want = getattr(snap, name).value
            got = s.columns[name][k]
            assert (want is None and math.isnan(got)) or got == want, (t, name)
    assert np.isfinite(s.columns["rmssd_ms"][-1])


def test_beat_table_keeps_every_recorded_rr(tmp_path: Path) -> None:
    rec = read_recording(write_sample_recording(tmp_path / "d.jsonl", "dropout", 120.0, seed=2))
    for role in rec.roles:
        bt = beat_table(role, rec.samples_for(role), rec.events_for(role))
        assert bt.rr_ms.tolist() == rec.rr_for(role)
        assert len(bt.kinds) == len(bt.rr_ms)


def test_hr_trend_removes_breathing_and_stops_at_gaps() -> None:
    """The report's HR trend: a 30-s mean of beat-to-beat HR. A 10-s breathing oscillation
    averages out (three whole cycles per window), a gap gives NaN, not a bridge."""
    from coreg.report.figures import hr_trend

    t_beats = np.arange(0.8, 600.0, 0.8)
    hr = 75.0 + 8.0 * np.sin(2 * np.pi * t_beats / 10.0)
    # RR ending at each beat chosen so 60000 / rr is exactly the HR above.
    rr = 60000.0 / hr
    t = np.cumsum(rr) / 1000.0
    brk = np.zeros(len(t), dtype=bool)
    brk[0] = True
    grid, trend = hr_trend(t, rr, brk)
    ok = ~np.isnan(trend)
    assert ok[grid >= 35.0].all()
    assert np.allclose(trend[grid >= 35.0], 75.0, atol=0.5)
    # A 4-s gap (a dropout): the windows that reach across it have enough beats but mix two
    # runs, so they are NaN; the others keep their values.
    keep = (t < 200.0) | (t > 204.0)
    t2, rr2 = t[keep], rr[keep]
    brk2 = np.zeros(len(t2), dtype=bool)
    brk2[0] = True
    brk2[np.argmax(t2 > 204.0)] = True
    grid2, trend2 = hr_trend(t2, rr2, brk2)
    first_after = float(t2[brk2][1])
    across = (grid2 >= first_after) & (grid2 - 30.0 < 200.0)
    assert across.any() and np.isnan(trend2[across]).all()
    assert not np.isnan(trend2[(grid2 > first_after + 30.0) | ((grid2 > 35.0) & (grid2 < 200.0))]
                        ).any()
