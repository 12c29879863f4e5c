"""The live synchrony panel does not mislead (issue 15, point 6): no line or band across a gap,
a new session starts with an empty panel, the header names the current sources, and the panel
says the engine's verdict in exactly the shared words (coreg.session.sync_words)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6 import QtGui

from coreg.engine.synchrony.verdict import SyncVerdict
from coreg.session import open_session
from coreg.session.display import break_gaps, collecting_verdict, sources_text, state_spans
from coreg.session.figures import SyncFigures
from coreg.session.results import VERDICT_CODES
from coreg.session.setup import live_title
from coreg.session.sync_words import sync_detail, sync_headline
from coreg.ui import theme
from coreg.ui.main_window import LiveWindow
from coreg.ui.panels import SyncPanel

WAIT_MS = 60_000


def _figures(t_s: np.ndarray, *, chance: bool = True) -> SyncFigures:
    """Synchrony figures on the rows ``t_s`` (a smooth r, a band from 0.3 to 0.6)."""
    r = 0.5 + 0.3 * np.sin(t_s / 40.0)
    lo = np.full_like(t_s, 0.3 if chance else np.nan)
    hi = np.full_like(t_s, 0.6 if chance else np.nan)
    return SyncFigures(
        t_s=t_s, r=r, mean_t_s=t_s, mean_r=r, chance_lo=lo, chance_hi=hi,
        breathing_t_s=t_s, breathing_r=r - 0.2, state="apart", leader=None, lag_s=None,
        lag_uncertainty_s=None, effect_size=None, p_value=None, current_r=float(r[-1]),
        current_chance_s=None, pct_time_in_sync=None, breathing_state="not in step",
        chance_known=chance)


def _polygons(path: QtGui.QPainterPath) -> list[np.ndarray]:
    """The x-coordinates of each drawn sub-path (a line or a filled polygon)."""
    out = []
    for poly in path.toSubpathPolygons():
        xs = np.array([poly.at(i).x() for i in range(poly.size())])
        if xs.size >= 2:
            out.append(xs)
    return out


def _drawn(item: Any) -> QtGui.QPainterPath:
    """What a curve draws: its path, or nothing when hidden (an emptied PlotDataItem hides its
    curve and keeps the old path)."""
    curve = getattr(item, "curve", item)
    if not curve.isVisible():
        return QtGui.QPainterPath()
    return curve.getPath()


def _crosses(path: QtGui.QPainterPath, gap: tuple[float, float]) -> bool:
    """True if some drawn segment reaches from before the gap to after it."""
    a, b = gap
    return any(xs.min() < a + 1e-6 and xs.max() > b - 1e-6 for xs in _polygons(path))


# -- gaps ----------------------------------------------------------------------------------------
def test_break_gaps_puts_nan_rows_in_gaps_and_drops_repeats() -> None:
    t = np.array([0.0, 5.0, 10.0, 10.0, 80.0, 85.0])
    y = np.array([1.0, 2.0, 3.0, 3.5, 4.0, 5.0])
    t2, y2 = break_gaps(t, y, step_s=5.0)
    assert t2.tolist() == [0.0, 5.0, 10.0, 45.0, 80.0, 85.0]
    assert np.isnan(y2[3]) and y2[2] == 3.5  # the repeated row keeps its last value
    assert np.isfinite(np.delete(y2, 3)).all()
    # Jitter below 1.5 steps is no gap; nothing to break in an empty or one-row timeline.
    t3, y3 = break_gaps(np.array([0.0, 5.0, 12.0]), np.ones(3), step_s=5.0)
    assert t3.size == 3 and np.isfinite(y3).all()
    assert break_gaps(np.empty(0), np.empty(0), step_s=5.0)[0].size == 0
    from coreg.ui.panels import finite_runs

    assert finite_runs(np.array([True, True, False, True])) == [(0, 2), (3, 4)]


def test_no_line_or_band_across_a_gap(qtbot) -> None:  # type: ignore[no-untyped-def]
    # 100 s of updates, 120 s without any (a lost strap), 100 s again.
    t = np.concatenate((np.arange(30.0, 130.0, 5.0), np.arange(250.0, 350.0, 5.0)))
    panel = SyncPanel()
    qtbot.addWidget(panel)
    panel.update_figures(_figures(t), 360.0, (), slow=True)
    gap = (125.0 - 360.0, 250.0 - 360.0)
    for curve in (panel.r_curve, panel.breathing_curve, panel.chance_lo, panel.chance_hi):
        path = _drawn(curve)
        assert len(_polygons(path)) == 2, curve
        assert not _crosses(path, gap), curve
    assert len(_polygons(panel.band.path())) == 2
    assert not _crosses(panel.band.path(), gap)
    # Without the gap there is one piece of each.
    panel.update_figures(_figures(np.arange(30.0, 350.0, 5.0)), 360.0, (), slow=True)
    assert len(_polygons(_drawn(panel.r_curve))) == 1
    assert len(_polygons(panel.band.path())) == 1


def test_band_only_where_chance_is_known(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = SyncPanel()
    qtbot.addWidget(panel)
    t = np.arange(30.0, 200.0, 5.0)
    fig = _figures(t)
    lo = fig.chance_lo.copy()
    lo[:10] = np.nan  # the first minute: no band yet
    fig = replace(fig, chance_lo=lo)
    panel.update_figures(fig, 200.0, (), slow=True)
    (xs,) = _polygons(panel.band.path())
    assert xs.min() == pytest.approx(t[10] - 200.0)
    # All unknown: nothing drawn (and no stale band from before).
    panel.update_figures(_figures(t, chance=False), 200.0, (), slow=True)
    assert panel.band.path().isEmpty() and _drawn(panel.chance_lo).isEmpty()


def test_reset_empties_curves_and_band(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = SyncPanel()
    qtbot.addWidget(panel)
    panel.update_figures(_figures(np.arange(30.0, 300.0, 5.0)), 300.0, (), slow=True)
    assert not panel.band.path().isEmpty()
    panel.reset()
    assert panel.band.path().isEmpty()
    for curve in (panel.r_curve, panel.breathing_curve, panel.chance_lo, panel.chance_hi):
        assert _drawn(curve).isEmpty(), curve
    assert len(panel.window_dots.scatter.data) == 0


# -- header --------------------------------------------------------------------------------------
@dataclass
class _Spec:
    kind: str
    target: str

    @property
    def simulated(self) -> bool:
        return self.kind in ("sim", "ble-sim")


@dataclass
class _Info:
    name: str


@dataclass
class _Resolved:
    specs: dict[str, _Spec]
    info: dict[str, _Info] = field(default_factory=dict)
    simulation: dict[str, Any] | None = None

    @property
    def simulated(self) -> bool:
        return any(s.simulated for s in self.specs.values())


def test_sources_text_names_every_kind_of_source() -> None:
    one_run = _Resolved({"client": _Spec("sim", "coupled"), "therapist": _Spec("sim", "coupled")},
                        simulation={"scenario": "coupled", "seed": 1})
    assert live_title(one_run) == "coreg live — SIMULATED (coupled, seed 1)"
    mixed = _Resolved({"client": _Spec("sim", "independent"),
                       "therapist": _Spec("sim", "coupled")},
                      simulation={"scenario": {"client": "independent", "therapist": "coupled"},
                                  "seed": 1})
    assert sources_text(mixed) == "client independent, therapist coupled, seed 1"
    real = _Resolved({"client": _Spec("ble", "AA:BB"), "therapist": _Spec("ble", "H10 B")},
                     info={"client": _Info("Polar H10 1A2B"), "therapist": _Info("")})
    assert live_title(real) == "coreg live — (client Polar H10 1A2B, therapist H10 B)"
    half = _Resolved({"client": _Spec("sim", "rest"), "therapist": _Spec("ble", "AA:BB")},
                     info={"therapist": _Info("Polar H10 9")},
                     simulation={"scenario": "rest", "seed": 4})
    assert sources_text(half) == "client rest, therapist Polar H10 9, seed 4"
    emulated = _Resolved({"client": _Spec("ble-sim", "coupled"),
                          "therapist": _Spec("ble-sim", "coupled")},
                         simulation={"scenario": "coupled", "seed": 7})
    assert live_title(emulated) == "coreg live — SIMULATED (coupled, seed 7) on emulated BLE straps"


# -- a new session from the window ------------------------------------------------------------
def test_new_session_starts_empty_and_names_its_sources(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def factory(client: str, therapist: str):  # type: ignore[no-untyped-def]
        return open_session(client, therapist, duration_s=420.0, realtime=False, speed=None,
                            folder=tmp_path)

    session, resolved = factory("sim:coupled", "sim:coupled")
    window = LiveWindow(session, title=live_title(resolved), simulated=True, autostart=False,
                        session_factory=factory, duration_s=420.0,
                        sources={"client": "sim:coupled", "therapist": "sim:coupled"})
    qtbot.addWidget(window)
    window.show()
    window.start()
    assert window.title_label.full_text() == "coupled, seed 1"
    qtbot.waitUntil(lambda: window.ended, timeout=WAIT_MS)
    panel = window.sync_panel
    assert panel is not None
    assert not panel.band.path().isEmpty(), "the first session drew a chance band"
    assert not _drawn(panel.r_curve).isEmpty()

    window.source_boxes["client"].setCurrentText("sim:independent")
    window.start_button.click()
    assert not window.ended
    assert window.title_label.full_text() == "client independent, therapist coupled, seed 1"
    assert "client independent" in window.windowTitle()
    # The new session's first minute has no band and no synchrony yet: nothing old is drawn.
    assert panel.band.path().isEmpty()
    for curve in (panel.r_curve, panel.breathing_curve, panel.chance_lo, panel.chance_hi):
        assert _drawn(curve).isEmpty(), curve
    assert len(panel.window_dots.scatter.data) == 0
    window.end_session("test")


# -- the verdict in words ----------------------------------------------------------------------
def _verdict(state: str, **kw: Any) -> SyncVerdict:
    base: dict[str, Any] = dict(state=state, since_s=130.0, leader="therapist", lag_s=3.2,
                                effect_size=2.4, p_value=1 / 201, n_surrogates=200,
                                p_at_floor=True, in_sync_pct=64.0, updates=90, windows=96)
    base.update(kw)
    return SyncVerdict(**base)


@pytest.mark.parametrize("state, colour", [
    ("in_sync", theme.SYNC_COLOUR), ("not_in_sync", theme.TEXT),
    ("gap", theme.WARNING_COLOUR), ("collecting", theme.MUTED)])
def test_panel_says_exactly_the_verdict_words(qtbot, state: str, colour: str) -> None:  # type: ignore[no-untyped-def]
    names = {"client": "Anna", "therapist": "Dr B"}
    panel = SyncPanel(names)
    qtbot.addWidget(panel)
    v = _verdict(state)
    # The figures' older fields say something else: the panel must not use them.
    fig = replace(_figures(np.arange(30.0, 300.0, 5.0)), state="in sync", leader="client",
                  lag_s=4.0, effect_size=9.9, p_value=0.026, pct_time_in_sync=99.0, verdict=v)
    panel.update_figures(fig, 300.0, (), slow=False)
    assert panel.state.text() == sync_headline(v, names)
    assert panel.detail.text() == sync_detail(v)
    assert panel.state_key == state
    assert colour.lower() in panel.state.styleSheet().lower()
    shown = panel.state.text() + panel.detail.text()
    assert "9.9" not in shown and "99%" not in shown and "client" not in shown.lower()
    if state == "in_sync":
        assert "Dr B" in panel.state.text()
        assert "p < 0.005" in panel.detail.text()  # p at its floor: a bound, never "p 0.005"
        assert "(200 surrogates)" in panel.detail.text()
    # The state follows the next verdict (colour too).
    v2 = _verdict("not_in_sync" if state == "in_sync" else "in_sync", since_s=10.0)
    panel.update_figures(replace(fig, verdict=v2), 305.0, (), slow=False)
    assert panel.state.text() == sync_headline(v2, names)
    expected = theme.TEXT if v2.state == "not_in_sync" else theme.SYNC_COLOUR
    assert expected.lower() in panel.state.styleSheet().lower()


def test_a_long_headline_shrinks_to_one_whole_line(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = SyncPanel({"client": "Anna", "therapist": "Dr Bartholomew"})
    qtbot.addWidget(panel)
    v = _verdict("in_sync")
    fig = replace(_figures(np.arange(30.0, 300.0, 5.0)), verdict=v)
    widths = []
    for width in (1800, 1100, 900):
        panel.resize(width, 300)
        panel.show()
        panel.update_figures(fig, 300.0, (), slow=False)
        qtbot.waitExposed(panel)
        label = panel.state
        assert label.text() == sync_headline(v, {"client": "Anna", "therapist": "Dr Bartholomew"})
        font = label.font()
        font.setPointSize(panel._headline_pt)
        font.setBold(True)
        widths.append(panel._headline_pt)
        fits = QtGui.QFontMetrics(font).horizontalAdvance(label.text()) <= label.width()
        # Whole on one line, or (only at the smallest type) on two lines: never cut.
        assert fits or (label.wordWrap() and panel._headline_pt == theme.LABEL_PT)
        assert label.wordWrap() == (not fits)
        assert f"{panel._headline_pt}pt" in label.styleSheet()
    assert widths[0] == theme.TITLE_PT and widths[-1] < widths[0]


def test_panel_before_the_first_update_and_without_a_partner(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = SyncPanel()
    qtbot.addWidget(panel)
    fig = replace(_figures(np.arange(30.0, 40.0, 5.0), chance=False), verdict=None,
                  windows_have=2)
    panel.update_figures(fig, 40.0, (), slow=False)
    v = collecting_verdict(2)
    assert panel.state.text() == sync_headline(v) and panel.detail.text() == sync_detail(v)
    assert panel.state_key == "collecting"
    panel.update_figures(None, 40.0, (), slow=False)
    assert panel.state.text() == "one person only" and panel.detail.text() == ""


def test_live_window_shows_the_engines_verdict(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    session, resolved = open_session("sim:coupled", "sim:coupled", duration_s=420.0,
                                     realtime=False, speed=None, path=tmp_path / "r.jsonl")
    names = {"client": "client", "therapist": "therapist"}
    window = LiveWindow(session, title=live_title(resolved), simulated=True, names=names,
                        duration_s=420.0, autostart=False)
    qtbot.addWidget(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.ended, timeout=WAIT_MS)
    sync = window.session.view.sync
    assert sync is not None and sync.verdict is not None and sync.verdict.windows > 0
    assert sync.verdict.decided  # 7 minutes are past the first verdict (~5 min)
    panel = window.sync_panel
    assert panel is not None
    assert panel.state.text() == sync_headline(sync.verdict, names)
    assert panel.detail.text() == sync_detail(sync.verdict)
    assert panel.state_key == sync.verdict.state
    assert sync.verdict_code.size > 20 and sync.verdict_code[-1] == VERDICT_CODES[
        sync.verdict.state]


# -- the verdict strip ---------------------------------------------------------------------------
def test_state_spans_join_consecutive_updates() -> None:
    t = np.array([5.0, 10.0, 15.0, 20.0, 25.0, 60.0, 65.0])
    code = np.array([3, 3, 2, 3, 3, 3, 3], dtype=float)
    assert state_spans(t, code, 3, 5.0) == [(0.0, 10.0), (15.0, 25.0), (55.0, 65.0)]
    assert state_spans(t, code, 2, 5.0) == [(10.0, 15.0)]
    assert state_spans(np.empty(0), np.empty(0), 3, 5.0) == []


def test_strip_shows_what_the_verdict_said_and_resets(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = SyncPanel()
    qtbot.addWidget(panel)
    t = np.arange(30.0, 300.0, 5.0)
    codes = np.full(t.size, float(VERDICT_CODES["not_in_sync"]))
    codes[:5] = VERDICT_CODES["collecting"]
    codes[20:30] = VERDICT_CODES["in_sync"]
    codes[40:44] = VERDICT_CODES["gap"]
    fig = replace(_figures(t), verdict_t_s=t, verdict_code=codes)
    panel.update_figures(fig, 300.0, (), slow=True)
    assert panel.strip_in_sync.spans == [(t[20] - 5.0 - 300.0, t[29] - 300.0)]
    grey = panel.strip_not_in_sync.spans
    assert [round(a) for a, _ in grey] == [round(t[5] - 5.0 - 300.0), round(t[30] - 5.0 - 300.0),
                                           round(t[44] - 5.0 - 300.0)]
    assert not panel.strip_in_sync.path().isEmpty()
    panel.reset()
    assert panel.strip_in_sync.path().isEmpty() and panel.strip_not_in_sync.path().isEmpty()


def test_legend_names_the_live_test(qtbot) -> None:  # type: ignore[no-untyped-def]
    from coreg.engine.synchrony.settings import SyncSettings

    s = SyncSettings()
    panel = SyncPanel()
    qtbot.addWidget(panel)
    text = panel.legend.toolTip()
    assert f"{s.live_block_windows} windows" in panel.legend.text()
    assert f"last {s.live_block_windows} windows" in text
    assert f"p ≤ {s.live_alpha:g}" in text and "bar along the bottom" in text
