"""The live view's panels: one per person, and the synchrony panel.

pyqtgraph discipline (docs/design.md §6): every curve is built once and only ``setData`` runs per
frame; x-ranges are fixed ("seconds before now", so the axis never re-lays out); gaps are NaN
with ``connect="finite"``; slow trends are redrawn once a second, not every frame.

Why one module of this size: the person panel and the synchrony panel share the plot styling,
the value labels and the gap-breaking helpers; they are redrawn together every frame and read
best side by side.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui, QtWidgets

from coreg.engine.person import Metric
from coreg.session.display import (
    break_gaps,
    connection_text,
    hr_text,
    metric_text,
    quality_text,
    state_spans,
    sync_legend,
    sync_legend_short,
    sync_words,
    window_text,
)
from coreg.session.figures import PersonFigures, SyncFigures
from coreg.session.results import VERDICT_CODES
from coreg.ui import theme
from coreg.ui.layouts import longest_fitting

HR_SPAN_S = 60.0
#: The HR plot's time axis label, longest first (the one that fits the plot's width is shown).
HR_AXIS_FORMS = ("seconds before now", "s before now", "s ago")
HR_AXIS_RING_FORMS = ("seconds before now · ○ corrected beat", "s before now · ○ corrected beat",
                      "s ago · ○ corrected beat", "s ago · ○ corrected", "○ corrected")
TREND_SPAN_S = 600.0
SYNC_SPAN_S = 600.0
#: The synchrony verdict's colour by state: green only when in sync, a warning colour for a gap
#: in the data, muted while collecting (never red for "not in sync": it is not an alarm).
STATE_COLOURS: dict[str, str] = {"in_sync": theme.SYNC_COLOUR, "not_in_sync": theme.TEXT,
                                 "gap": theme.WARNING_COLOUR, "collecting": theme.MUTED,
                                 "none": theme.MUTED}
#: The verdict headline's point size: the title's, so the longest headline ("in sync for the last
#: 12 min · therapist leading by ~3 s") stays on one line in a 1366-pixel-wide window.
HEADLINE_PT = theme.TITLE_PT
#: Where the verdict strip runs along the bottom of the synchrony plot (y from, to).
STRIP_Y = (-0.47, -0.40)


def _label(text: str = "", pt: int = theme.LABEL_PT, colour: str = theme.TEXT,
           bold: bool = False) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    font = label.font()
    font.setPointSize(pt)
    font.setBold(bold)
    label.setFont(font)
    label.setStyleSheet(_label_style(colour, pt, bold))
    return label


def _caption(name: str, metric: Metric) -> str:
    """``coherence · 64 s, every 5 s`` with its number–unit pairs held together, so a narrow
    panel wraps it after the comma ("… 64 s," / "every 5 s"), never before a lone "s"."""
    held = window_text(metric).replace(" s", "\u00a0s").replace("every ", "every\u00a0")
    return f"{name} · {held}"


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
        self._hr_axis_forms: tuple[str, ...] = HR_AXIS_FORMS
        self.hr_plot.getPlotItem().vb.sigResized.connect(self._fit_hr_axis)
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
            # A third of a person's width: "RMSSD · 60 s window, every beat" wraps, never cut.
            note.setWordWrap(True)
            note.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
            values.addWidget(note, 1, col)
        layout.addLayout(values)

        # Its axis title is just "ms": "RMSSD (ms)" is taller than the trend on most screens,
        # and the caption right above it names RMSSD.
        self.trend_plot = make_plot(TREND_SPAN_S, "ms", height=130)
        self.rmssd_curve = self.trend_plot.plot(pen=pg.mkPen(colour, width=2), connect="finite")
        self.trend_markers = MarkerLines(self.trend_plot, TREND_SPAN_S)
        layout.addWidget(self.trend_plot, 2)

        self.quality = _label("", theme.LABEL_PT - 2, theme.MUTED)
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

    def _fit_hr_axis(self, *_: object) -> None:
        """The HR plot's time label: the longest form that fits under the data area.

        Called when the forms change (corrected beats in view or not) and whenever the plot is
        resized: the label is centred under the data area and cut at the widget's edge, so the
        data area's width is its room.
        """
        item = self.hr_plot.getPlotItem()
        legend = longest_fitting(self._hr_axis_forms, item.getAxis("bottom").label.font(),
                                 int(item.vb.width()))
        if self._texts.get("hr_axis") != legend:
            self._texts["hr_axis"] = legend
            item.setLabel("bottom", legend, color=theme.MUTED)

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

    def set_compact(self, compact: bool) -> None:
        """On a short window the RMSSD trend drops its "seconds before now" axis title (the
        HR plot above has the same one), so the synchrony plot keeps its height."""
        self.trend_plot.getPlotItem().showLabel("bottom", not compact)
        # The signal-quality line in the small type (one line on a 1366-pixel screen).
        pt = theme.SMALL_PT if compact else theme.LABEL_PT
        if getattr(self, "_quality_pt", None) != pt:
            self._quality_pt = pt
            self.quality.setStyleSheet(_label_style(theme.MUTED, pt))

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
        self._set(self.rmssd_note, "rmssd_note", _caption("RMSSD", person.rmssd))
        self._set_value(self.coherence, "coh", metric_text(person.coherence, "{:.1f}"))
        self._set(self.coherence_note, "coh_note", _caption("coherence", person.coherence))
        self._set_value(self.lf_hf, "lfhf", metric_text(person.lf_hf, "{:.2f}"))
        self._set(self.lf_hf_note, "lfhf_note", _caption("LF/HF", person.lf_hf))
        self._set(self.quality, "quality", quality_text(person, elapsed_s, connection=False))

        t = person.hr_curve_t_s
        x = t - elapsed_s
        keep = x >= -HR_SPAN_S - 5.0
        bpm = person.hr_curve_bpm[keep]
        self.hr_curve.setData(x[keep], bpm, connect="finite")
        fixed = person.hr_curve_corrected
        if len(fixed) == len(t):
            ring = keep & fixed
            self.hr_fixed.setData(x[ring], person.hr_curve_bpm[ring])
            forms = HR_AXIS_RING_FORMS if ring.any() else HR_AXIS_FORMS
            if forms is not self._hr_axis_forms or "hr_axis" not in self._texts:
                self._hr_axis_forms = forms  # a resize re-fits through sigResized
                self._fit_hr_axis()
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


def _set_or_clear(item: pg.PlotDataItem, x: NDArray[np.floating],
                  y: NDArray[np.floating]) -> None:
    """``setData`` with NaN breaks, or ``clear()`` when there is nothing to draw (an emptied
    PlotDataItem would keep showing its previous dots)."""
    if np.isfinite(y).any():
        item.setData(x, y, connect="finite")
    else:
        item.clear()


def finite_runs(ok: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``[start, stop)`` index ranges of the consecutive True runs of ``ok``."""
    flags = np.concatenate(([False], np.asarray(ok, dtype=bool), [False]))
    edges = np.flatnonzero(np.diff(flags.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


class BandItem(QtWidgets.QGraphicsPathItem):
    """A filled band between two edges, one polygon per run of finite values.

    pyqtgraph's ``FillBetweenItem`` pairs the sub-paths of its two curves and keeps a curve's
    stale path once that curve is emptied; a band with gaps then draws slanted slivers across
    them, and a new session would keep the old band. This one is rebuilt from the data.
    """

    def __init__(self, brush: QtGui.QBrush) -> None:
        super().__init__()
        self.setBrush(brush)
        self.setPen(pg.mkPen(None))
        self.runs = 0

    def set_band(self, x: NDArray[np.floating], lo: NDArray[np.floating],
                 hi: NDArray[np.floating]) -> None:
        """Fill between ``lo`` and ``hi`` over ``x``; NaN in either edge breaks the band."""
        path = QtGui.QPainterPath()
        ok = np.isfinite(x) & np.isfinite(lo) & np.isfinite(hi)
        self.runs = 0
        for a, b in finite_runs(ok):
            if b - a < 2:
                continue
            xs = np.concatenate((x[a:b], x[a:b][::-1]))
            ys = np.concatenate((lo[a:b], hi[a:b][::-1]))
            path.addPolygon(QtGui.QPolygonF([QtCore.QPointF(float(u), float(v))
                                             for u, v in zip(xs, ys, strict=True)]))
            path.closeSubpath()
            self.runs += 1
        self.setPath(path)


class SpanStrip(QtWidgets.QGraphicsPathItem):
    """Filled rectangles ``[x0, x1] × [y0, y1]`` on a plot (the verdict strip)."""

    def __init__(self, brush: QtGui.QBrush, y0: float, y1: float) -> None:
        super().__init__()
        self.setBrush(brush)
        self.setPen(pg.mkPen(None))
        self._y0, self._y1 = y0, y1
        self.spans: list[tuple[float, float]] = []

    def set_spans(self, spans: list[tuple[float, float]]) -> None:
        """Draw these ``(x0, x1)`` spans (and nothing else)."""
        path = QtGui.QPainterPath()
        for x0, x1 in spans:
            path.addRect(QtCore.QRectF(x0, self._y0, x1 - x0, self._y1 - self._y0))
        self.spans = list(spans)
        self.setPath(path)


class SyncPanel(QtWidgets.QFrame):
    """Windowed synchrony over time against its chance band, under the live verdict in words."""

    def __init__(self, names: dict[str, str] | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self._names = names or {}
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        # At a glance: the verdict in words, coloured by its state; one level down: its numbers
        # (both exactly the strings of coreg.session.sync_words), the breathing band beside.
        head = QtWidgets.QHBoxLayout()
        head.addWidget(_label("SYNCHRONY", theme.TITLE_PT, theme.SYNC_COLOUR, bold=True))
        self.state = _label("", HEADLINE_PT, STATE_COLOURS["collecting"], bold=True)
        # One line (its type shrinks to fit, :meth:`_fit_headline`); two only as a last resort.
        self.state.setWordWrap(False)
        head.addWidget(self.state, 1)
        layout.addLayout(head)
        sub = QtWidgets.QHBoxLayout()
        self.detail = _label("", theme.LABEL_PT, theme.TEXT)
        self.detail.setWordWrap(True)
        self.breathing = _label("", theme.LABEL_PT, theme.BREATHING_COLOUR)
        self.breathing.setWordWrap(True)
        self.breathing.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight
                                    | QtCore.Qt.AlignmentFlag.AlignVCenter)
        for label, stretch in ((self.state, 0), (self.detail, 3), (self.breathing, 2)):
            # Long texts must not widen the window: the layout shares the width out.
            label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                                QtWidgets.QSizePolicy.Policy.Preferred)
            if stretch:
                sub.addWidget(label, stretch)
        layout.addLayout(sub)
        self.state_key = ""

        self.plot = make_plot(SYNC_SPAN_S, "peak r", height=190)
        item = self.plot.getPlotItem()
        item.setYRange(-0.5, 1.0, padding=0.0)
        grey = QtGui.QColor(theme.CHANCE_COLOUR)
        # PlotCurveItems, not PlotDataItems: an empty PlotDataItem only hides its curve and
        # keeps the old path, which the fill would go on drawing (a new session's band).
        self.chance_lo = pg.PlotCurveItem(pen=pg.mkPen(grey, width=1), connect="finite")
        self.chance_hi = pg.PlotCurveItem(pen=pg.mkPen(grey, width=1), connect="finite")
        fill = QtGui.QColor(theme.CHANCE_COLOUR)
        fill.setAlpha(110)
        self.band = BandItem(pg.mkBrush(fill))
        item.addItem(self.chance_lo)
        item.addItem(self.chance_hi)
        item.addItem(self.band)
        self.breathing_curve = item.plot(
            pen=pg.mkPen(theme.BREATHING_COLOUR, width=2, style=QtCore.Qt.PenStyle.DotLine),
            connect="finite", name="breathing band")
        self.window_dots = item.plot(pen=None, symbol="o", symbolSize=7,
                                     symbolBrush=theme.SYNC_COLOUR, symbolPen=None)
        self.r_curve = item.plot(pen=pg.mkPen(theme.SYNC_COLOUR, width=4), connect="finite")
        # What the headline said at each update, along the bottom: green in sync, grey not.
        self.strip_in_sync = SpanStrip(pg.mkBrush(theme.SYNC_COLOUR), *STRIP_Y)
        self.strip_not_in_sync = SpanStrip(pg.mkBrush(theme.CHANCE_COLOUR), *STRIP_Y)
        for strip in (self.strip_in_sync, self.strip_not_in_sync):
            item.addItem(strip, ignoreBounds=True)
        self.markers = MarkerLines(self.plot, SYNC_SPAN_S)
        layout.addWidget(self.plot, 1)
        # Under the plot, wrapped on a narrow window (never cut); the full legend on hover.
        self.legend = _label(sync_legend_short(), theme.SMALL_PT, theme.MUTED)
        self.legend.setToolTip(sync_legend())
        self.legend.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                                  QtWidgets.QSizePolicy.Policy.Preferred)
        self.legend.setWordWrap(True)
        layout.addWidget(self.legend)
        self._texts: dict[str, str] = {}
        self._version = -1

    def _set(self, label: QtWidgets.QLabel, key: str, text: str) -> None:
        if self._texts.get(key) != text:
            self._texts[key] = text
            label.setText(text)

    def _fit_headline(self) -> None:
        """The headline stays one whole line: on a narrow panel its type shrinks (down to the
        label size) instead of the verdict being cut off."""
        text, room = self.state.text(), self.state.width()
        if getattr(self, "_headline_fit", None) == (text, room, getattr(self, "_headline_pt", 0)):
            return  # every frame calls this: measure only when the text or width changed
        font = QtGui.QFont(self.state.font())
        font.setBold(True)
        pt = HEADLINE_PT
        while pt > theme.LABEL_PT:
            font.setPointSize(pt)
            if QtGui.QFontMetrics(font).horizontalAdvance(text) <= room:
                break
            pt -= 1
        # Still too wide at the label size (a very narrow panel, long names): two lines.
        font.setPointSize(pt)
        self.state.setWordWrap(QtGui.QFontMetrics(font).horizontalAdvance(text) > room)
        if getattr(self, "_headline_pt", 0) != pt:
            self._headline_pt = pt
            colour = self._texts.get("state_colour", STATE_COLOURS["collecting"])
            self.state.setStyleSheet(_label_style(colour, pt, True))
        self._headline_fit = (text, room, pt)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_headline()

    def needed_height(self) -> int:
        """Pixels the panel needs at its width: headline, wrapped texts, the plot at its
        minimum height and the wrapped legend (below that the legend covers the axis)."""
        layout = self.layout()
        if layout is None or self.width() < 200:
            return 0
        inner = self.width() - 28
        margins = layout.contentsMargins()
        texts = max(self.detail.heightForWidth(inner * 3 // 5),
                    self.breathing.heightForWidth(inner * 2 // 5), 0)
        head = (self.state.heightForWidth(self.state.width()) if self.state.wordWrap()
                else self.state.sizeHint().height())
        rows = (head, texts, self.plot.minimumHeight(),
                self.legend.heightForWidth(inner))
        return (sum(rows) + layout.spacing() * (len(rows) - 1) + margins.top()
                + margins.bottom())

    def reset(self) -> None:
        """Forget the previous session's curves (a new session starts)."""
        empty = np.empty(0)
        # clear(), not setData([]): an emptied PlotDataItem keeps its old dots (and path).
        for item in (self.window_dots, self.r_curve, self.breathing_curve):
            item.clear()
        for curve in (self.chance_lo, self.chance_hi):
            curve.setData(empty, empty)
        self.band.set_band(empty, empty, empty)
        self.strip_in_sync.set_spans([])
        self.strip_not_in_sync.set_spans([])
        self._texts.clear()

    def update_figures(self, sync: SyncFigures | None, elapsed_s: float,
                       markers: tuple[tuple[float, str], ...], slow: bool) -> None:
        """Refresh; curves are redrawn only on slow frames (synchrony changes every 5 s)."""
        state, headline, detail = sync_words(sync, self._names)
        self.state_key = state
        self._set(self.state, "state", headline)
        colour = STATE_COLOURS.get(state, theme.MUTED)
        if self._texts.get("state_colour") != colour:
            self._texts["state_colour"] = colour
            self._headline_pt = 0
        self._fit_headline()
        self._set(self.detail, "detail", detail)
        # "(r 0.38, last 5 min)" is held together: a narrow panel wraps before it.
        breathing = "" if sync is None else "breathing band: " + sync.breathing_state.replace(
            " (", "\n(").replace(" ", "\u00a0").replace("\n", " ")
        self._set(self.breathing, "breathing", breathing)
        if not slow:
            return
        _apply_span(self.plot, self.markers, visible_span_s(elapsed_s, SYNC_SPAN_S))
        self.markers.update(markers, elapsed_s)
        if sync is None:
            return
        _set_or_clear(self.window_dots, sync.t_s - elapsed_s, sync.r)
        # No line across a gap: NaN rows where updates are missing (connect="finite").
        t, mean_r, lo, hi = break_gaps(sync.mean_t_s, sync.mean_r, sync.chance_lo,
                                       sync.chance_hi, step_s=sync.step_s)
        x = t - elapsed_s
        _set_or_clear(self.r_curve, x, mean_r)
        # The band only where both edges are known; broken (not bridged) where they are not.
        ok = np.isfinite(lo) & np.isfinite(hi)
        lo, hi = np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)
        if ok.any():
            self.chance_lo.setData(x, lo, connect="finite")
            self.chance_hi.setData(x, hi, connect="finite")
        else:
            self.chance_lo.setData(np.empty(0), np.empty(0))
            self.chance_hi.setData(np.empty(0), np.empty(0))
        self.band.set_band(x, lo, hi)
        vt = sync.verdict_t_s - elapsed_s
        self.strip_in_sync.set_spans(state_spans(vt, sync.verdict_code,
                                                 VERDICT_CODES["in_sync"], sync.step_s))
        self.strip_not_in_sync.set_spans(state_spans(vt, sync.verdict_code,
                                                     VERDICT_CODES["not_in_sync"], sync.step_s))
        bt, br = break_gaps(sync.breathing_t_s, sync.breathing_r, step_s=sync.step_s)
        _set_or_clear(self.breathing_curve, bt - elapsed_s, br)


def ease(current: float, target: float, rate: float) -> float:
    """Exponential approach of ``current`` towards ``target`` (``rate`` in 0..1 per frame)."""
    if not math.isfinite(current):
        return target
    return current + (target - current) * rate
