"""The live view's panels: one per person, and the synchrony panel.

pyqtgraph discipline (docs/design.md §6): every curve is built once and only ``setData`` runs per
frame; x-ranges are fixed ("seconds before now", so the axis never re-lays out); gaps are NaN
with ``connect="finite"``; slow trends are redrawn once a second, not every frame.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui, QtWidgets

from coreg.session.display import (
    connection_text,
    effect_text,
    hr_text,
    leader_text,
    metric_text,
    quality_text,
    sync_state_text,
    window_text,
)
from coreg.session.figures import PersonFigures, SyncFigures
from coreg.ui import theme

HR_SPAN_S = 60.0
TREND_SPAN_S = 600.0
SYNC_SPAN_S = 600.0


def _label(text: str = "", pt: int = theme.LABEL_PT, colour: str = theme.TEXT,
           bold: bool = False) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    font = label.font()
    font.setPointSize(pt)
    font.setBold(bold)
    label.setFont(font)
    label.setStyleSheet(_label_style(colour, pt, bold))
    return label


def _label_style(colour: str, pt: int, bold: bool = False) -> str:
    weight = "bold" if bold else "normal"
    return (f"color: {colour}; background: transparent; font-size: {pt}pt; "
            f"font-weight: {weight};")


def make_plot(span_s: float, y_label: str, height: int = 170) -> pg.PlotWidget:
    """A static-axis time plot: x from ``-span_s`` to 0 s (now), no mouse interaction."""
    plot = pg.PlotWidget(background=theme.PANEL)
    plot.setMinimumHeight(height)
    item = plot.getPlotItem()
    item.setMouseEnabled(x=False, y=False)
    item.hideButtons()
    item.setMenuEnabled(False)
    item.showGrid(x=True, y=True, alpha=theme.GRID_ALPHA)
    item.setXRange(-span_s, 0.0, padding=0.0)
    item.setClipToView(True)
    font = QtGui.QFont()
    font.setPointSize(theme.SMALL_PT)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setStyle(tickFont=font)
        axis.setTextPen(theme.MUTED)
        axis.setPen(theme.MUTED)
    item.setLabel("left", y_label, color=theme.MUTED)
    item.setLabel("bottom", "seconds before now", color=theme.MUTED)
    return plot


class MarkerLines:
    """Vertical marker lines on one time plot (positions in seconds before now)."""

    def __init__(self, plot: pg.PlotWidget, span_s: float) -> None:
        self._plot = plot
        self._span_s = span_s
        self._lines: list[pg.InfiniteLine] = []
        self._pen = pg.mkPen(theme.MARKER_COLOUR, width=2, style=QtCore.Qt.PenStyle.DashLine)

    @property
    def span_s(self) -> float:
        """The plot's visible span in seconds."""
        return self._span_s

    @span_s.setter
    def span_s(self, value: float) -> None:
        self._span_s = value

    def update(self, markers: tuple[tuple[float, str], ...], elapsed_s: float) -> None:
        while len(self._lines) < len(markers):
            t, note = markers[len(self._lines)]
            line = pg.InfiniteLine(angle=90, movable=False, pen=self._pen,
                                   label=note or "M",
                                   labelOpts={"position": 0.92, "color": theme.MARKER_COLOUR})
            self._plot.addItem(line, ignoreBounds=True)
            self._lines.append(line)
        for line, (t, _) in zip(self._lines, markers, strict=False):
            x = t - elapsed_s
            visible = -self._span_s <= x <= 0.5
            line.setVisible(visible)
            if visible:
                line.setPos(x)
        for line in self._lines[len(markers):]:  # a new session has fewer markers
            line.setVisible(False)

    @property
    def visible_count(self) -> int:
        """Markers currently drawn inside the plot's range (for tests)."""
        return sum(1 for line in self._lines if line.isVisible())


def visible_span_s(elapsed_s: float, full_s: float) -> float:
    """The x-span of a long time plot: grows with the session (whole minutes, at least 2 min,
    with 30 s of headroom) up to ``full_s``, so an early session is not a mostly empty plot."""
    if not math.isfinite(elapsed_s):
        return full_s
    return float(min(full_s, max(120.0, 60.0 * math.ceil((elapsed_s + 30.0) / 60.0))))


def _apply_span(plot: pg.PlotWidget, markers: MarkerLines, span_s: float) -> None:
    if markers.span_s != span_s:
        markers.span_s = span_s
        plot.getPlotItem().setXRange(-span_s, 0.0, padding=0.0)


def _y_range(values: NDArray[np.float64], pad: float, floor: float) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    lo, hi = float(finite.min()), float(finite.max())
    span = max(hi - lo, floor)
    mid = (hi + lo) / 2.0
    return mid - span / 2.0 - pad, mid + span / 2.0 + pad


class PersonPanel(QtWidgets.QFrame):
    """One person's figures: big HR, 60 s HR curve, RMSSD trend, coherence, signal quality."""

    def __init__(self, role: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.role = role
        colour = theme.role_colour(role)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(6)

        head = QtWidgets.QHBoxLayout()
        self.title = _label(role.upper(), theme.TITLE_PT, colour, bold=True)
        self.device = _label("", theme.SMALL_PT, theme.MUTED)
        head.addWidget(self.title)
        head.addWidget(self.device, 1)
        self.connection = _label("", theme.LABEL_PT, theme.MUTED, bold=True)
        head.addWidget(self.connection)
        layout.addLayout(head)

        top = QtWidgets.QHBoxLayout()
        hr_box = QtWidgets.QVBoxLayout()
        self.hr = _label("—", theme.HR_PT, colour, bold=True)
        self.hr.setMinimumWidth(200)
        self.hr.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        hr_box.addWidget(self.hr)
        self.hr_unit = _label("HR bpm · every beat", theme.SMALL_PT, theme.MUTED)
        self.hr_unit.setToolTip("the curve shows corrected beats; rings mark the beats the "
                                "artifact correction changed")
        self.hr_unit.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        hr_box.addWidget(self.hr_unit)
        top.addLayout(hr_box)
        self.hr_plot = make_plot(HR_SPAN_S, "HR (bpm)")
        self.hr_curve = self.hr_plot.plot(pen=pg.mkPen(colour, width=3), connect="finite")
        # Beats the artifact correction changed: ringed on the (corrected) curve.
        self.hr_fixed = self.hr_plot.plot(pen=None, symbol="o", symbolSize=9,
                                          symbolPen=pg.mkPen(theme.TEXT, width=2),
                                          symbolBrush=None)
        self.hr_markers = MarkerLines(self.hr_plot, HR_SPAN_S)
        top.addWidget(self.hr_plot, 1)
        layout.addLayout(top, 3)

        values = QtWidgets.QGridLayout()
        values.setHorizontalSpacing(18)
        #: Point size of the metric values (the window lowers it on a narrow screen).
        self.value_pt = theme.VALUE_PT
        self.rmssd = _label("collecting…", theme.VALUE_PT, theme.TEXT, bold=True)
        self.coherence = _label("collecting…", theme.VALUE_PT, theme.TEXT, bold=True)
        self.lf_hf = _label("collecting…", theme.VALUE_PT, theme.TEXT, bold=True)
        self.rmssd_note = _label("RMSSD", theme.SMALL_PT, theme.MUTED)
        self.coherence_note = _label("coherence", theme.SMALL_PT, theme.MUTED)
        self.lf_hf_note = _label("LF/HF", theme.SMALL_PT, theme.MUTED)
        for label in (self.rmssd, self.coherence, self.lf_hf, self.rmssd_note,
                      self.coherence_note, self.lf_hf_note):
            # Long texts ("collecting… 113/300 s") must not widen the window.
            label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                                QtWidgets.QSizePolicy.Policy.Preferred)
        for col, (value, note) in enumerate(((self.rmssd, self.rmssd_note),
                                             (self.coherence, self.coherence_note),
                                             (self.lf_hf, self.lf_hf_note))):
            values.addWidget(value, 0, col)
            values.addWidget(note, 1, col)
        layout.addLayout(values)

        self.trend_plot = make_plot(TREND_SPAN_S, "RMSSD (ms)", height=130)
        self.rmssd_curve = self.trend_plot.plot(pen=pg.mkPen(colour, width=2), connect="finite")
        self.trend_markers = MarkerLines(self.trend_plot, TREND_SPAN_S)
        layout.addWidget(self.trend_plot, 2)

        self.quality = _label("", theme.LABEL_PT, theme.MUTED)
        self.quality.setWordWrap(True)
        self.quality.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                                   QtWidgets.QSizePolicy.Policy.Preferred)
        layout.addWidget(self.quality)
        self._trend_version = -1
        self._hr_range: tuple[float, float] | None = None
        self._texts: dict[str, str] = {}

    def _set(self, label: QtWidgets.QLabel, key: str, text: str) -> None:
        if self._texts.get(key) != text:
            self._texts[key] = text
            label.setText(text)

    def _set_value(self, label: QtWidgets.QLabel, key: str, text: str) -> None:
        """A metric value; "collecting …" is set smaller so it fits its column."""
        if self._texts.get(key) == text:
            return
        was = self._texts.get(key, "collecting")
        self._set(label, key, text)
        small, was_small = text.startswith("collecting"), was.startswith("collecting")
        if small != was_small or key + "_style" not in self._texts:
            self._texts[key + "_style"] = "small" if small else "big"
            pt = self.value_pt - 8 if small else self.value_pt
            colour = theme.MUTED if small else theme.TEXT
            label.setStyleSheet(_label_style(colour, pt, True))

    def set_value_size(self, pt: int) -> None:
        """Metric values at ``pt`` points ("collecting…" 8 pt smaller), from the next update."""
        if pt == self.value_pt:
            return
        self.value_pt = pt
        for key in ("rmssd", "coh", "lfhf"):
            self._texts.pop(key + "_style", None)
            self._texts.pop(key, None)
        # The notes under the values ("RMSSD · 60 s window, every beat") shrink with them.
        note_pt = theme.SMALL_PT if pt >= theme.VALUE_PT else max(9, theme.SMALL_PT - 2)
        for note in (self.rmssd_note, self.coherence_note, self.lf_hf_note):
            font = note.font()
            font.setPointSize(note_pt)
            note.setFont(font)
            note.setStyleSheet(_label_style(theme.MUTED, note_pt))

    def reset(self) -> None:
        """Forget the previous session's curves (a new session starts)."""
        self.hr_curve.setData([], [])
        self.hr_fixed.setData([], [])
        self.rmssd_curve.setData([], [])
        self._hr_range = None

    def update_figures(self, person: PersonFigures, elapsed_s: float,
                       markers: tuple[tuple[float, str], ...], slow: bool) -> None:
        """Refresh from one frame's figures; ``slow`` also redraws trends and ranges."""
        self._set(self.device, "device", person.name)
        state = connection_text(person, elapsed_s)
        self._set(self.connection, "connection", state)
        warn = person.connection in ("reconnecting", "disconnected", "failed") or (
            person.contact is False)
        colour = theme.WARNING_COLOUR if warn else theme.MUTED
        if self._texts.get("conn_colour") != colour:
            self._texts["conn_colour"] = colour
            self.connection.setStyleSheet(_label_style(colour, theme.LABEL_PT, True))
        self._set(self.hr, "hr", hr_text(person))
        self._set(self.hr_unit, "hr_unit", "HR bpm · " + (
            f"mean of {person.hr.window_s:.0f} s, every beat" if person.hr.window_s > 0
            else "every beat"))
        self._set_value(self.rmssd, "rmssd", metric_text(person.rmssd, "{:.0f}", "ms"))
        self._set(self.rmssd_note, "rmssd_note", f"RMSSD · {window_text(person.rmssd)}")
        self._set_value(self.coherence, "coh", metric_text(person.coherence, "{:.1f}"))
        self._set(self.coherence_note, "coh_note", f"coherence · {window_text(person.coherence)}")
        self._set_value(self.lf_hf, "lfhf", metric_text(person.lf_hf, "{:.2f}"))
        self._set(self.lf_hf_note, "lfhf_note", f"LF/HF · {window_text(person.lf_hf)}")
        self._set(self.quality, "quality", quality_text(person, elapsed_s))

        t = person.hr_curve_t_s
        x = t - elapsed_s
        keep = x >= -HR_SPAN_S - 5.0
        bpm = person.hr_curve_bpm[keep]
        self.hr_curve.setData(x[keep], bpm, connect="finite")
        fixed = person.hr_curve_corrected
        if len(fixed) == len(t):
            ring = keep & fixed
            self.hr_fixed.setData(x[ring], person.hr_curve_bpm[ring])
            legend = "seconds before now" + (" · ○ beat corrected (artifact)"
                                             if ring.any() else "")
            if self._texts.get("hr_axis") != legend:
                self._texts["hr_axis"] = legend
                self.hr_plot.getPlotItem().setLabel("bottom", legend, color=theme.MUTED)
        self.hr_markers.update(markers, elapsed_s)
        if slow:
            rng = _y_range(bpm, 3.0, 10.0)
            if rng is not None and rng != self._hr_range:
                self._hr_range = rng
                self.hr_plot.getPlotItem().setYRange(*rng, padding=0.0)
            span = visible_span_s(elapsed_s, TREND_SPAN_S)
            _apply_span(self.trend_plot, self.trend_markers, span)
            tt = person.trend_t_s - elapsed_s
            keep_t = tt >= -span
            rm = person.rmssd_trend_ms[keep_t]
            self.rmssd_curve.setData(tt[keep_t], rm, connect="finite")
            rng_t = _y_range(rm, 2.0, 10.0)
            if rng_t is not None:
                self.trend_plot.getPlotItem().setYRange(max(0.0, rng_t[0]), rng_t[1],
                                                        padding=0.0)
            self.trend_markers.update(markers, elapsed_s)


class SyncPanel(QtWidgets.QFrame):
    """Windowed synchrony over time against its chance band; state, leader, effect size."""

    def __init__(self, names: dict[str, str] | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self._names = names or {}
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        head = QtWidgets.QHBoxLayout()
        head.addWidget(_label("SYNCHRONY", theme.TITLE_PT, theme.SYNC_COLOUR, bold=True))
        self.state = _label("not enough data", theme.VALUE_PT, theme.TEXT, bold=True)
        self.state.setMinimumWidth(260)
        head.addWidget(self.state)
        self.leader = _label("", theme.VALUE_PT - 4, theme.TEXT)
        self.effect = _label("", theme.LABEL_PT, theme.TEXT)
        self.effect.setWordWrap(True)
        self.breathing = _label("", theme.LABEL_PT, theme.BREATHING_COLOUR)
        self.breathing.setWordWrap(True)
        self.breathing.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight
                                    | QtCore.Qt.AlignmentFlag.AlignVCenter)
        for label, stretch in ((self.leader, 3), (self.effect, 4), (self.breathing, 3)):
            # Long texts must not widen the window: the layout shares the width out.
            label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                                QtWidgets.QSizePolicy.Policy.Preferred)
            head.addWidget(label, stretch)
        layout.addLayout(head)

        self.plot = make_plot(SYNC_SPAN_S, "peak r", height=190)
        item = self.plot.getPlotItem()
        item.setYRange(-0.5, 1.0, padding=0.0)
        grey = QtGui.QColor(theme.CHANCE_COLOUR)
        self.chance_lo = pg.PlotDataItem(pen=pg.mkPen(grey, width=1), connect="finite")
        self.chance_hi = pg.PlotDataItem(pen=pg.mkPen(grey, width=1), connect="finite")
        fill = QtGui.QColor(theme.CHANCE_COLOUR)
        fill.setAlpha(110)
        self.band = pg.FillBetweenItem(self.chance_lo, self.chance_hi, brush=pg.mkBrush(fill))
        item.addItem(self.chance_lo)
        item.addItem(self.chance_hi)
        item.addItem(self.band)
        self.breathing_curve = item.plot(
            pen=pg.mkPen(theme.BREATHING_COLOUR, width=2, style=QtCore.Qt.PenStyle.DotLine),
            connect="finite", name="breathing band")
        self.window_dots = item.plot(pen=None, symbol="o", symbolSize=7,
                                     symbolBrush=theme.SYNC_COLOUR, symbolPen=None)
        self.r_curve = item.plot(pen=pg.mkPen(theme.SYNC_COLOUR, width=4), connect="finite")
        self.markers = MarkerLines(self.plot, SYNC_SPAN_S)
        layout.addWidget(self.plot, 1)
        self.legend = _label(
            "green dots: peak r of each 30 s window of slow heart-rate changes (< 0.15 Hz), "
            "every 5 s, lags ±5 s · green line: mean of the last 4 windows · grey band: where "
            "that mean falls by chance (surrogate pairs, last 5 min: mean to 95th percentile) · "
            "dotted purple: breathing-band (0.15–0.4 Hz) peak r", theme.SMALL_PT, theme.MUTED)
        self.legend.setWordWrap(True)
        layout.addWidget(self.legend)
        self._texts: dict[str, str] = {}
        self._version = -1

    def _set(self, label: QtWidgets.QLabel, key: str, text: str) -> None:
        if self._texts.get(key) != text:
            self._texts[key] = text
            label.setText(text)

    def reset(self) -> None:
        """Forget the previous session's curves (a new session starts)."""
        for item in (self.window_dots, self.r_curve, self.chance_lo, self.chance_hi,
                     self.breathing_curve):
            item.setData([], [])

    def update_figures(self, sync: SyncFigures | None, elapsed_s: float,
                       markers: tuple[tuple[float, str], ...], slow: bool) -> None:
        """Refresh; curves are redrawn only on slow frames (synchrony changes every 5 s)."""
        state = sync_state_text(sync)
        self._set(self.state, "state", state)
        colour = theme.SYNC_COLOUR if state == "in sync" else theme.TEXT
        if self._texts.get("state_colour") != colour:
            self._texts["state_colour"] = colour
            self.state.setStyleSheet(_label_style(colour, theme.VALUE_PT, True))
        self._set(self.leader, "leader", leader_text(sync, self._names))
        self._set(self.effect, "effect", effect_text(sync))
        breathing = "" if sync is None or not sync.available else (
            f"breathing band: {sync.breathing_state}")
        self._set(self.breathing, "breathing", breathing)
        if not slow:
            return
        _apply_span(self.plot, self.markers, visible_span_s(elapsed_s, SYNC_SPAN_S))
        self.markers.update(markers, elapsed_s)
        if sync is None:
            return
        self.window_dots.setData(sync.t_s - elapsed_s, sync.r)
        x = sync.mean_t_s - elapsed_s
        self.r_curve.setData(x, sync.mean_r, connect="finite")
        ok = np.isfinite(sync.chance_lo) & np.isfinite(sync.chance_hi)
        self.chance_lo.setData(x[ok], sync.chance_lo[ok])
        self.chance_hi.setData(x[ok], sync.chance_hi[ok])
        self.breathing_curve.setData(sync.breathing_t_s - elapsed_s, sync.breathing_r,
                                     connect="finite")


def ease(current: float, target: float, rate: float) -> float:
    """Exponential approach of ``current`` towards ``target`` (``rate`` in 0..1 per frame)."""
    if not math.isfinite(current):
        return target
    return current + (target - current) * rate
