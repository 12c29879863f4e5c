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
