"""The live HR curve shows corrected beats and flags the corrected ones (no artifact spikes)."""

from __future__ import annotations

import numpy as np

from coreg.session import open_session


def test_hr_curve_is_corrected_and_marks_the_corrected_beats() -> None:
    session, _ = open_session("sim:artifacts", "sim:rest", duration_s=240.0, seed=3,
                              realtime=False, record=False)
    session.start()
    while not session.finished:
        session.poll()
    session.stop()
    client = session.view.persons["client"]
    raw = session.analysis._tracks["client"].timeline.series(0)
    recent = raw.midpoints_s - session.start_s >= client.hr_curve_t_s[0]
    raw_bpm = 60000.0 / raw.rr_ms[recent]
    assert raw_bpm.max() > 120.0 or raw_bpm.min() < 45.0  # the strap's spikes are there
    bpm = client.hr_curve_bpm[np.isfinite(client.hr_curve_bpm)]
    assert bpm.min() > 45.0 and bpm.max() < 120.0  # …not on the curve
    fixed = client.hr_curve_corrected
    assert fixed.shape == client.hr_curve_t_s.shape and fixed.any()
    # The clean strap's curve is its raw beats, none flagged.
    therapist = session.view.persons["therapist"]
    assert not therapist.hr_curve_corrected.any()
