"""The home window: clients, their course of sessions, trends, and where each session starts.

Left: the client list (a pseudonym each — never a real name) with search, *New client* and the
selected client's notes and resonance rate. Right: the client's sessions, newest first, with
the figures that matter and their units (the database's, :mod:`coreg.recording.index`: the
numbers of ``coreg analyze``), the trends across sessions as plots (the progress report's,
:mod:`coreg.report.progress`), and the buttons that start a dyad session, a breathing practice
or an assessment for the client, or replay, report or export the selected session.

Sessions started here run in the live and breathing windows of ``coreg live`` and ``coreg
breathe`` and are recorded with the client's name in their header; when one ends, the history
is read again from the recordings folder.

Why one module of this size: one window (client list, session table, trend plots and the buttons
that start sessions) whose widgets all follow the selected client.
"""

from __future__ import annotations

import argparse
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from coreg.errors import CoregError
from coreg.recording.index import Client, RoleFigures, SessionEntry, SessionIndex
from coreg.report.progress import TRENDS, headline, session_kind, trend_points, when
from coreg.ui import theme
from coreg.ui.panels import _label
from coreg.ui.qt_fixes import bool_guard

if TYPE_CHECKING:
    from coreg.engine.resonance import Assessment
    from coreg.ui.breathe import BreatheWindow
    from coreg.ui.main_window import LiveWindow

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The client-list row of the sessions recorded without a client name.
NO_CLIENT = "(no client)"
PSEUDONYM_HINT = "Use a pseudonym, not a real name: recordings and reports carry it."
TREND_COLOURS = {"dyad": theme.SKY_BLUE, "practice": theme.BLUISH_GREEN,
                 "assessment": theme.REDDISH_PURPLE}


def _client_role(e: SessionEntry) -> RoleFigures | dict[str, float | None]:
    roles = e.get("roles") or {}
    return roles.get("client") or next(iter(roles.values()), {})


def _num(x: object, pattern: str) -> str:
    ok = isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
    return pattern.format(x) if ok else "—"


def _sync(e: SessionEntry, key: str) -> object:
    s = e.get("synchrony")
    return s.get(key) if isinstance(s, dict) else None


def _date(e: SessionEntry) -> str:
    t = when(e)
    return t.strftime("%Y-%m-%d %H:%M") if t else "—"


#: Sessions table columns: header (with unit) and how to read the cell from an entry.
COLUMNS: tuple[tuple[str, Callable[[SessionEntry], str]], ...] = (
    ("date", _date),
    ("mode", lambda e: "DAMAGED" if e.get("status") == "damaged" else session_kind(e)),
    ("length\n(min)", lambda e: _num((e.get("duration_s") or 0.0) / 60, "{:.1f}")),
    ("mean HR\n(bpm)", lambda e: _num(_client_role(e).get("mean_hr_bpm"), "{:.0f}")),
    ("RMSSD\n(ms)", lambda e: _num(_client_role(e).get("rmssd_ms"), "{:.0f}")),
    ("coherence\n(ratio)", lambda e: _num(_client_role(e).get("coherence"), "{:.2f}")),
    ("rate\n(breaths/min)", lambda e: _num(e.get("resonance_rate_bpm"), "{:.1f}")),
    ("synchrony d\n(vs chance)", lambda e: _num(_sync(e, "effect_size"), "{:.1f}")),
    ("windows above\nchance (%)", lambda e: _num(_sync(e, "time_in_sync_pct"), "{:.0f}")),
    ("markers", lambda e: str(e.get("markers", 0))),
    ("file", lambda e: str(e.get("file", ""))),
)


@dataclass(slots=True)
class HomeOptions:
    """How sessions started from the home window run.

    Attributes
    ----------
    client_src, therapist_src
        ``SRC`` of the straps of a dyad session (None and None: the simulated dyad).
    breathe_device
        ``--device`` of breathing sessions (``sim``, ``ble-sim`` or a strap).
    duration_s
        Dyad session length in seconds (None: until stopped).
    practice_s
        Breathing practice length in seconds (the window's minutes box starts there).
    speed
        Simulated straps only: a multiple of real time, ``inf`` as fast as possible, None real
        time.
    step_s, settle_s, steps
        Assessment: measured seconds per step, unmeasured settle, rates (breaths/min).
    seed
        Seed of simulated straps.
    """

    client_src: str | None = None
    therapist_src: str | None = None
    breathe_device: str = "sim"
    duration_s: float | None = None
    practice_s: float = 600.0
    speed: float | None = None
    step_s: float = 120.0
    settle_s: float = 25.0
    steps: tuple[float, ...] = (6.5, 6.0, 5.5, 5.0, 4.5)
    seed: int = 1


class Worker(Generic[T]):
    """Run ``fn`` on a thread; ``done(result, error)`` is then called on the GUI thread
    (``result`` None when ``fn`` raised ``error``)."""

    def __init__(self, parent: QtCore.QObject, fn: Callable[[], T],
                 done: Callable[[T | None, BaseException | None], None]) -> None:
        self.result: T | None = None
        self.error: BaseException | None = None
        self._fn = fn
        self._done = done
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._timer = QtCore.QTimer(parent)
        self._timer.timeout.connect(self._poll)
        self._thread.start()
        self._timer.start(50)

    def _run(self) -> None:
        try:
            self.result = self._fn()
        except Exception as exc:  # reported on the GUI thread in one line
            self.error = exc

    def _poll(self) -> None:
        if self._thread.is_alive():
            return
        self._timer.stop()
        self._done(self.result, self.error)

    @property
    def running(self) -> bool:
        """True until ``done`` has been called."""
        return self._thread.is_alive() or self._timer.isActive()


class HomeWindow(QtWidgets.QMainWindow):
    """The home window over one recordings folder.

    Parameters
    ----------
    folder
        The recordings folder (its database is synced on open and after every session).
    options
        How sessions started here run (:class:`HomeOptions`).
    open_url
        Opens a written report (default: the desktop's browser); tests pass a recorder.
    ask_path
        ``(title, suggested path) -> path or None`` for exports (default: a save dialog).
    ask_text
        ``(title, label) -> text or None`` for a new client's name (default: an input dialog).
    """

    def __init__(self, folder: str | Path, options: HomeOptions | None = None, *,
                 open_url: Callable[[Path], object] | None = None,
                 ask_path: Callable[[str, Path], Path | None] | None = None,
                 ask_text: Callable[[str, str], str | None] | None = None) -> None:
        self.guard = bool_guard()
        super().__init__()
        self.folder = Path(folder)
        self.options = options or HomeOptions()
        self.open_url = open_url or (lambda p: QtGui.QDesktopServices.openUrl(
            QtCore.QUrl.fromLocalFile(str(p))))
        self.ask_path = ask_path or self._ask_path
        self.ask_text = ask_text or self._ask_text
        self.index = SessionIndex(self.folder)
        self.entries: list[SessionEntry] = []
        self.clients_shown: list[Client] = []
        self.unassigned: list[SessionEntry] = []
        self.windows: list[QtWidgets.QMainWindow] = []
        self.workers: list[Worker[Path]] = []
        self.reports: list[Path] = []
        self.setWindowTitle(f"coreg — clients and sessions ({self.folder})")
        self.setStyleSheet(theme.STYLE_SHEET + _EXTRA_STYLE)
        self.resize(1600, 1000)
        self._build()
        self.refresh()
        # The binding's emit() bug (coreg.ui.qt_fixes): keep True's count topped up.
        self.guard_timer = QtCore.QTimer(self)
        self.guard_timer.timeout.connect(self.guard.check)
        self.guard_timer.start(100)
        self.guard.check()

    # -- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        central = QtWidgets.QWidget()
        root = QtWidgets.QHBoxLayout(central)
        # Left column: clients.
        left = QtWidgets.QVBoxLayout()
        left.addWidget(_label("Clients", theme.TITLE_PT))
        self.search = QtWidgets.QLineEdit()
        self.search.setPlaceholderText("Search clients or notes")
        self.search.textChanged.connect(lambda _: self.show_clients())
        left.addWidget(self.search)
        self.client_list = QtWidgets.QListWidget()
        self.client_list.currentRowChanged.connect(self._client_row_changed)
        left.addWidget(self.client_list, 1)
        self.new_button = QtWidgets.QPushButton("New client…")
        self.new_button.clicked.connect(lambda: self.new_client())
        left.addWidget(self.new_button)
        hint = _label(PSEUDONYM_HINT, theme.SMALL_PT, theme.MUTED)
        hint.setWordWrap(True)
        left.addWidget(hint)
        left.addWidget(_label("Notes", theme.SMALL_PT, theme.MUTED))
        self.notes = QtWidgets.QPlainTextEdit()
        self.notes.setPlaceholderText("Optional notes (kept in this folder's database only)")
        self.notes.setMaximumHeight(120)
        left.addWidget(self.notes)
        self.save_notes_button = QtWidgets.QPushButton("Save notes")
        self.save_notes_button.clicked.connect(self.save_notes)
        left.addWidget(self.save_notes_button)
        self.rate_label = _label("", theme.SMALL_PT, theme.MUTED)
        self.rate_label.setWordWrap(True)
        left.addWidget(self.rate_label)
        side = QtWidgets.QWidget()
        side.setLayout(left)
        side.setFixedWidth(300)
        root.addWidget(side)

        # Right column: the selected client's course.
        right = QtWidgets.QVBoxLayout()
        top = QtWidgets.QHBoxLayout()
        self.client_title = _label("No client selected", theme.TITLE_PT)
        top.addWidget(self.client_title, 1)
        self.dyad_button = QtWidgets.QPushButton("Dyad session")
        self.dyad_button.setToolTip("start a recorded session with the client and the therapist")
        self.dyad_button.clicked.connect(self.start_dyad)
        self.practice_button = QtWidgets.QPushButton("Breathing practice")
        self.practice_button.clicked.connect(self.start_practice)
        self.assess_button = QtWidgets.QPushButton("Assessment")
        self.assess_button.setToolTip("resonance-frequency assessment (finds the client's rate)")
        self.assess_button.clicked.connect(self.start_assessment)
        self.practice_minutes = QtWidgets.QSpinBox()
        self.practice_minutes.setRange(1, 60)
        self.practice_minutes.setValue(max(1, min(60, round(self.options.practice_s / 60))))
        self.practice_minutes.setSuffix(" min")
        self.practice_minutes.setToolTip("length of a breathing practice started here")
        right.addLayout(top)
        starts = QtWidgets.QHBoxLayout()
        for w in (self.dyad_button, self.practice_button, self.practice_minutes,
                  self.assess_button):
            starts.addWidget(w)
        starts.addStretch(1)
        right.addLayout(starts)
        self.summary_label = _label("", theme.SMALL_PT, theme.MUTED)
        self.summary_label.setWordWrap(True)
        right.addWidget(self.summary_label)

        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([c[0] for c in COLUMNS])
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._session_selected)
        self.table.doubleClicked.connect(lambda _: self.replay_selected())
        upper = QtWidgets.QWidget()
        upper_box = QtWidgets.QVBoxLayout(upper)
        upper_box.setContentsMargins(0, 0, 0, 0)
        upper_box.addWidget(self.table, 1)
        self.headline_label = _label("", theme.SMALL_PT, theme.MUTED)
        self.headline_label.setWordWrap(True)
        upper_box.addWidget(self.headline_label)
        actions = QtWidgets.QHBoxLayout()
        self.replay_button = QtWidgets.QPushButton("Replay")
        self.replay_button.clicked.connect(self.replay_selected)
        self.report_button = QtWidgets.QPushButton("Report")
        self.report_button.clicked.connect(self.report_selected)
        self.export_button = QtWidgets.QPushButton("Export CSV…")
        self.export_button.clicked.connect(lambda: self.export_selected())
        self.progress_button = QtWidgets.QPushButton("Progress report")
        self.progress_button.clicked.connect(self.progress_report)
        for b in (self.replay_button, self.report_button, self.export_button,
                  self.progress_button):
            actions.addWidget(b)
        actions.addStretch(1)
        upper_box.addLayout(actions)
        lower = QtWidgets.QWidget()
        lower_box = QtWidgets.QVBoxLayout(lower)
        lower_box.setContentsMargins(0, 0, 0, 0)

        legend = " · ".join(f"<span style='color:{c}'>●</span> {k}"
                            for k, c in TREND_COLOURS.items())
        trends_title = _label(f"Trends across sessions &nbsp; <small>{legend}</small>",
                              theme.LABEL_PT)
        trends_title.setTextFormat(QtCore.Qt.TextFormat.RichText)
        lower_box.addWidget(trends_title)
        pg.setConfigOptions(antialias=True)
        self.trends = pg.GraphicsLayoutWidget()
        self.trends.setBackground(theme.PANEL)
        self.trend_plots: dict[str, pg.PlotItem] = {}
        for i, trend in enumerate(TRENDS):
            axis = pg.DateAxisItem(orientation="bottom")
            plot = self.trends.addPlot(row=i // 3, col=i % 3, axisItems={"bottom": axis})
            plot.setTitle(f"{trend.label} ({trend.unit})", color=theme.TEXT, size="11pt")
            plot.showGrid(x=True, y=True, alpha=theme.GRID_ALPHA)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            self.trend_plots[trend.key] = plot
        lower_box.addWidget(self.trends, 1)
        # Table and trends share the height; the therapist can move the boundary.
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.splitter.addWidget(upper)
        self.splitter.addWidget(lower)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.table.setMinimumHeight(150)
        self.trends.setMinimumHeight(220)
        right.addWidget(self.splitter, 1)
        self.status = _label("", theme.SMALL_PT, theme.MUTED)
        right.addWidget(self.status)
        holder = QtWidgets.QWidget()
        holder.setLayout(right)
        root.addWidget(holder, 1)
        self.setCentralWidget(central)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        """First show: split the height between the sessions (55 %) and the trends."""
        super().showEvent(event)
        if not getattr(self, "_split_done", False):
            self._split_done = True
            total = max(sum(self.splitter.sizes()), 2)
            self.splitter.setSizes([total * 11 // 20, total - total * 11 // 20])

    # -- clients ---------------------------------------------------------------------------------
    def refresh(self, sync: bool = True) -> None:
        """Read the folder again (new or changed recordings) and redraw the lists."""
        if sync:
            try:
                n = self.index.sync()
            except CoregError as exc:
                self.say(str(exc))
                n = 0
            if n:
                log.info("indexed %d recording(s)", n)
        self.show_clients()

    def show_clients(self) -> None:
        """Fill the client list from the search text, keeping the selection."""
        keep = self.current_client_name()
        self.clients_shown = self.index.clients(self.search.text())
        # Sessions recorded without --client-name are listed too, under their own row.
        self.unassigned = self.index.sessions_without_client() if not self.search.text() else []
        self.client_list.blockSignals(True)
        self.client_list.clear()
        for c in self.clients_shown:
            self.client_list.addItem(f"{c.name}  ·  {c.sessions} session"
                                     f"{'' if c.sessions == 1 else 's'}")
        if self.unassigned:
            n = len(self.unassigned)
            self.client_list.addItem(f"{NO_CLIENT}  ·  {n} session{'' if n == 1 else 's'}")
        row = next((i for i, c in enumerate(self.clients_shown) if c.name == keep), -1)
        if row < 0 and (self.clients_shown or self.unassigned):
            row = 0
        self.client_list.setCurrentRow(row)
        self.client_list.blockSignals(False)
        self._client_row_changed(row)

    def current_client(self) -> Client | None:
        """The selected client."""
        row = self.client_list.currentRow()
        return self.clients_shown[row] if 0 <= row < len(self.clients_shown) else None

    def current_client_name(self) -> str | None:
        """The selected client's name."""
        c = self.current_client()
        return c.name if c else None

    def select_client(self, name: str) -> None:
        """Select the client called ``name`` (clears the search if it hides them)."""
        if not any(c.name.lower() == name.lower() for c in self.clients_shown):
            self.search.setText("")
        for i, c in enumerate(self.clients_shown):
            if c.name.lower() == name.lower():
                self.client_list.setCurrentRow(i)
                return
        raise KeyError(name)

    def new_client(self, name: str | None = None, notes: str = "") -> Client | None:
        """Create a client (asks for the pseudonym when ``name`` is None) and select them."""
        if name is None:
            name = self.ask_text("New client", f"Pseudonym of the new client.\n{PSEUDONYM_HINT}")
            if not name:
                return None
        try:
            client = self.index.add_client(name, notes)
        except CoregError as exc:
            self.say(str(exc))
            return None
        self.search.setText("")
        self.show_clients()
        self.select_client(client.name)
        self.say(f"new client {client.name}")
        return client

    def save_notes(self) -> None:
        """Store the notes of the selected client."""
        c = self.current_client()
        if c is not None:
            self.index.set_notes(c.name, self.notes.toPlainText())
            self.say(f"notes of {c.name} saved")
            self.show_clients()

    def _client_row_changed(self, row: int) -> None:
        c = self.current_client()
        enabled = c is not None
        for b in (self.dyad_button, self.practice_button, self.assess_button,
                  self.save_notes_button, self.progress_button):
            b.setEnabled(enabled)
        if c is None and self.unassigned and row == len(self.clients_shown):
            self.client_title.setText("Sessions without a client")
            self.notes.setPlainText("")
            self.rate_label.setText("Recorded without --client-name; name the client when you "
                                    "start a session to keep a course together.")
            self.entries = list(self.unassigned)
        elif c is None:
            self.client_title.setText("No client yet — New client… to begin")
            self.entries = []
            self.notes.setPlainText("")
            self.rate_label.setText("")
        else:
            self.client_title.setText(c.name)
            self.notes.setPlainText(c.notes)
            self.rate_label.setText(
                f"Resonance rate: {c.rate_bpm:.1f} breaths/min ({c.rate_confidence or '?'} "
                f"confidence) — the pacer's default" if c.rate_bpm
                else "Resonance rate: not assessed yet (the pacer starts at 6.0 /min)")
            self.entries = self.index.sessions(c.name)
        self._show_sessions()
        self._show_trends()

    # -- sessions --------------------------------------------------------------------------------
    def _show_sessions(self) -> None:
        self.table.setRowCount(len(self.entries))
        for r, e in enumerate(self.entries):
            for col, (_, cell) in enumerate(COLUMNS):
                item = QtWidgets.QTableWidgetItem(cell(e))
                if 2 <= col <= 9:
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight
                                          | QtCore.Qt.AlignmentFlag.AlignVCenter)
                if e.get("simulated") and col == 1:
                    item.setToolTip("simulated")
                    item.setText(item.text() + " (sim)")
                self.table.setItem(r, col, item)
        self.table.resizeColumnsToContents()
        ok = [e for e in self.entries if e.get("status") != "damaged"]
        minutes = sum((e.get("duration_s") or 0.0) for e in ok) / 60
        practice = [e for e in ok if e.get("mode") == "breathe"]
        self.summary_label.setText(
            f"{len(ok)} session(s), {minutes:.0f} min in all; {len(practice)} breathing "
            f"session(s), {sum((e.get('duration_s') or 0) for e in practice) / 60:.0f} min. "
            "Figures: the client's, whole session, artifact-corrected; synchrony against "
            "its chance baseline (surrogates)." if self.entries else
            "No sessions yet: start one with the buttons above.")
        if self.entries:
            self.table.selectRow(0)
        self._session_selected()

    def _show_trends(self) -> None:
        for trend in TRENDS:
            plot = self.trend_plots[trend.key]
            plot.clear()
            xs, ys, modes = trend_points(self.entries, trend)
            for axis in ("left", "bottom"):
                plot.showAxis(axis, bool(xs))  # no made-up axes on an empty trend
            if not xs:
                note = pg.TextItem("no session with this figure yet", color=theme.MUTED,
                                   anchor=(0.5, 0.5))
                note.setPos(0.5, 0.5)
                plot.addItem(note)
                plot.setXRange(0.0, 1.0)
                plot.setYRange(0.0, 1.0)
                continue
            t = [x.timestamp() for x in xs]
            plot.plot(t, ys, pen=pg.mkPen(theme.MUTED, width=1.5))
            for kind in dict.fromkeys(modes):
                pts = [(a, b) for a, b, k in zip(t, ys, modes, strict=True) if k == kind]
                plot.plot([p[0] for p in pts], [p[1] for p in pts], pen=None, symbol="o",
                          symbolSize=9, symbolBrush=TREND_COLOURS.get(kind, theme.ORANGE),
                          symbolPen=None, name=kind)
            if trend.key == "sync_d":
                plot.addLine(y=0.0, pen=pg.mkPen(theme.CHANCE_COLOUR,
                                                 style=QtCore.Qt.PenStyle.DashLine))
            if len(t) == 1:
                plot.setXRange(t[0] - 86400, t[0] + 86400)
            else:
                plot.enableAutoRange()

    def trend_data(self, key: str) -> tuple[list[float], list[float]]:
        """The (x = POSIX time s, y) points drawn on one trend plot (for tests)."""
        plot = self.trend_plots[key]
        xs: list[float] = []
        ys: list[float] = []
        for item in plot.listDataItems():
            if item.opts.get("symbol") is None:
                continue
            x, y = item.getData()
            if x is not None:
                xs.extend(float(v) for v in x)
                ys.extend(float(v) for v in y)
        order = sorted(range(len(xs)), key=lambda i: xs[i])
        return [xs[i] for i in order], [ys[i] for i in order]

    def selected_entry(self) -> SessionEntry | None:
        """The selected session's entry."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        r = rows[0].row()
        return self.entries[r] if 0 <= r < len(self.entries) else None

    def select_session(self, file: str) -> None:
        """Select the session recorded in ``file``."""
        for r, e in enumerate(self.entries):
            if e.get("file") == file:
                self.table.selectRow(r)
                return
        raise KeyError(file)

    def _session_selected(self) -> None:
        e = self.selected_entry()
        usable = e is not None and e.get("status") != "damaged"
        for b in (self.replay_button, self.report_button, self.export_button):
            b.setEnabled(usable)
        text = headline(e) if e else ""
        if e is not None:
            marks = self.index.markers(str(e.get("file", "")))
            if marks:
                text += "\nMarkers: " + "; ".join(
                    f"{int(m['t_s'] // 60):02d}:{int(m['t_s'] % 60):02d}"
                    + (f" {m['note']}" if m["note"] else "") for m in marks[:8])
                if len(marks) > 8:
                    text += f"; … {len(marks) - 8} more"
        self.headline_label.setText(text)

    def selected_path(self) -> Path | None:
        """The selected session's recording."""
        e = self.selected_entry()
        return self.folder / e["file"] if e else None

    # -- starting sessions -----------------------------------------------------------------------
    def _need_client(self) -> Client | None:
        c = self.current_client()
        if c is None:
            self.say("choose or create a client first")
        return c

    def _adopt(self, window: QtWidgets.QMainWindow) -> None:
        """Keep a session window and read the history again when it is closed (a session
        closed mid-way is recorded too)."""
        self.windows.append(window)
        window.installEventFilter(self)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        """A session window closing: refresh the history once the close is done."""
        if event.type() == QtCore.QEvent.Type.Close and watched in self.windows:
            QtCore.QTimer.singleShot(0, self.refresh)
        return super().eventFilter(watched, event)

    def _session_done(self, window: LiveWindow | BreatheWindow) -> None:
        self.refresh()
        path = getattr(window.session, "recording_path", None)
        if path:
            name = Path(path).name
            if any(e.get("file") == name for e in self.entries):
                self.select_session(name)
            self.say(f"session saved: {name}")

    def start_dyad(self) -> QtWidgets.QMainWindow | None:
        """Start a recorded dyad session with the selected client in the live window."""
        from coreg.recording.index import person_header
        from coreg.session import open_session
        from coreg.session.clock import speed_plan
        from coreg.sources import default_specs
        from coreg.ui.main_window import LiveWindow

        c = self._need_client()
        if c is None:
            return None
        o = self.options
        try:
            specs = default_specs(o.client_src, o.therapist_src)
            plan = speed_plan(o.speed, {spec.kind for spec in specs.values()})
            session, resolved = open_session(
                o.client_src, o.therapist_src, duration_s=o.duration_s, seed=o.seed,
                realtime=plan.realtime, speed=plan.speed, ble_speed=plan.ble_speed,
                folder=self.folder, header_extra=person_header(c.name))
        except CoregError as exc:
            self.say(str(exc))
            return None
        title = f"coreg live — {c.name}" + (" — SIMULATED" if resolved.simulated else "")
        window = LiveWindow(session, title=title, simulated=resolved.simulated,
                            names={r: r for r in resolved.sources}, duration_s=o.duration_s,
                            on_finished=self._session_done, autostart=False,
                            sources={r: s.text for r, s in resolved.specs.items()})
        self._adopt(window)
        window.show()
        window.start()
        self.say(f"dyad session with {c.name} running: {Path(session.recording_path or '').name}")
        return window

    def _start_breathe(self, assess: bool) -> QtWidgets.QMainWindow | None:
        from coreg.engine import pacer
        from coreg.recording.index import person_header, save_client_rate
        from coreg.session.breathe import BreatheConfig, open_breathe_session
        from coreg.ui.breathe import BreatheWindow

        c = self._need_client()
        if c is None:
            return None
        o = self.options
        try:
            if assess:
                schedule = pacer.assessment_schedule(o.steps, step_s=o.step_s,
                                                     settle_s=o.settle_s)
                duration_s = schedule[-1].start_s
            else:
                schedule = pacer.practice_schedule(self.index.client_rate(c.name) or 6.0)
                duration_s = 60.0 * self.practice_minutes.value()
            bs = open_breathe_session(
                o.breathe_device, schedule, duration_s, self.folder, seed=o.seed,
                speed=o.speed, assess=assess, settle_s=o.settle_s if assess else 0.0,
                settings={"client_name": c.name}, header_extra=person_header(c.name))
        except (CoregError, ValueError) as exc:
            self.say(str(exc))
            return None
        folder, name = self.folder, c.name

        def store(a: Assessment) -> str:
            if a.chosen_rate_bpm is None:
                return ""
            save_client_rate(folder, name, a.chosen_rate_bpm, a.confidence,
                             Path(bs.session.recording_path or "").name)
            return f"Stored as {name}'s default pacer rate."

        window = BreatheWindow(bs.session, bs.analysis,
                               BreatheConfig(assess=assess, client_name=c.name), bs.duration_s,
                               simulated=bs.simulated, source_text=f"client {c.name}",
                               on_finished=self._session_done, store_rate=store)
        self._adopt(window)
        window.show()
        window.start()
        what = "assessment" if assess else "breathing practice"
        self.say(f"{what} with {c.name} running: {Path(bs.session.recording_path or '').name}")
        return window

    def start_practice(self) -> QtWidgets.QMainWindow | None:
        """Start a breathing practice for the selected client at their resonance rate."""
        return self._start_breathe(assess=False)

    def start_assessment(self) -> QtWidgets.QMainWindow | None:
        """Start a resonance-frequency assessment for the selected client."""
        return self._start_breathe(assess=True)

    # -- replay, report, export ------------------------------------------------------------------
    def replay_selected(self) -> QtWidgets.QMainWindow | None:
        """Replay the selected session (breathing sessions with their pacer)."""
        from coreg.recording import read_recording
        from coreg.session.breathe import (
            is_breathe_recording,
            replay_analysis_factory,
            replay_config,
        )
        from coreg.session.replay import ReplaySession

        path = self.selected_path()
        if path is None:
            return None
        try:
            rec = read_recording(path)
        except CoregError as exc:
            self.say(str(exc))
            return None
        if not rec.samples:
            self.say(f"{path.name} holds no RR data to replay")
            return None
        title = f"coreg replay {path.name}"
        window: QtWidgets.QMainWindow
        if is_breathe_recording(rec):
            from coreg.ui.breathe import BreatheWindow

            replay = ReplaySession(rec, speed=1.0,
                                   analysis_factory=replay_analysis_factory(rec))
            window = BreatheWindow(replay, replay.analysis, replay_config(rec),
                                   replay.duration_s, simulated=rec.simulation is not None,
                                   replay=True, source_text=title)
        else:
            from coreg.ui.replay import ReplayWindow

            dyad = ReplaySession(rec, speed=1.0)
            window = ReplayWindow(dyad, title=title)
        self.windows.append(window)
        window.show()
        window.start()
        return window

    def report_selected(self, with_neurokit: bool = True) -> Worker[Path] | None:
        """Write the selected session's HTML report next to it (off the GUI thread), then open
        it."""
        from coreg.report.write import write_report

        path = self.selected_path()
        if path is None:
            return None
        out = path.with_suffix(".html")
        self.say(f"writing the report of {path.name}…")
        self.report_button.setEnabled(False)

        def done(result: Path | None, error: BaseException | None) -> None:
            self.report_button.setEnabled(True)
            if error is not None or result is None:
                self.say(f"report failed: {error}")
                return
            self.reports.append(result)
            self.say(f"report written: {result}")
            self.open_url(result)

        # The report beside the recording is coreg's own output: written again on request.
        worker = Worker(self, lambda: write_report(path, out, with_neurokit=with_neurokit,
                                                   force=True), done)
        self.workers.append(worker)
        return worker

    def progress_report(self) -> Worker[Path] | None:
        """Write the selected client's progress report into the folder, then open it."""
        from coreg.report.progress import write_progress_report

        c = self.current_client()
        if c is None:
            return None
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in c.name)
        out = self.folder / f"{safe}-progress.html"
        self.say(f"writing the progress report of {c.name}…")

        def done(result: Path | None, error: BaseException | None) -> None:
            if error is not None or result is None:
                self.say(f"progress report failed: {error}")
                return
            self.reports.append(result)
            self.say(f"progress report written: {result}")
            self.open_url(result)

        worker = Worker(self, lambda: write_progress_report(self.folder, c.name, out,
                                                            force=True), done)
        self.workers.append(worker)
        return worker

    def export_selected(self, target: Path | None = None) -> list[Path]:
        """Export the selected session as CSV tables (beats and metrics)."""
        from coreg.recording import read_recording
        from coreg.report.exporters import export_recording

        path = self.selected_path()
        if path is None:
            return []
        if target is None:
            target = self.ask_path("Export the session as CSV", path.with_suffix(".csv"))
            if target is None:
                return []
        try:
            # The save dialog has asked before replacing a file.
            written = list(export_recording(read_recording(path), "csv", target, force=True))
        except (CoregError, OSError) as exc:
            self.say(f"export failed: {exc}")
            return []
        self.say("exported: " + ", ".join(p.name for p in written))
        return written

    # -- helpers ---------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """One line in the status bar."""
        self.guard.check()
        self.status.setText(text)
        log.info("%s", text)

    def _ask_path(self, title: str, suggested: Path) -> Path | None:
        name, _ = QtWidgets.QFileDialog.getSaveFileName(self, title, str(suggested),
                                                        "CSV (*.csv)")
        return Path(name) if name else None

    def _ask_text(self, title: str, label: str) -> str | None:
        text, ok = QtWidgets.QInputDialog.getText(self, title, label)
        return text if ok and text.strip() else None

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Closing the home window closes the session windows (their recordings end)."""
        for w in self.windows:
            w.close()
        self.index.close()
        super().closeEvent(event)

    def save_screenshot(self, path: str | Path) -> Path:
        """Save the window as PNG."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        QtWidgets.QApplication.processEvents()
        self.grab().save(str(target))
        return target


_EXTRA_STYLE = f"""
QListWidget, QPlainTextEdit {{ background: {theme.PANEL}; border: 1px solid #3A444E;
    border-radius: 6px; font-size: {theme.SMALL_PT + 1}pt; }}
QTableWidget {{ background: {theme.PANEL}; border: 1px solid #3A444E; border-radius: 6px; }}
QTableWidget, QTableWidget QWidget {{ font-size: {theme.SMALL_PT}pt; }}
QHeaderView::section {{ background: #2A323A; color: {theme.TEXT}; padding: 4px 6px;
    border: none; font-size: {theme.SMALL_PT}pt; }}
QTableWidget::item:selected, QListWidget::item:selected {{ background: #2E4A5E; }}
QPushButton:disabled {{ color: #5C6670; }}
"""


def run_home(args: argparse.Namespace) -> int:
    """Open the home window (``coreg`` / ``coreg home``); with ``--screenshot`` offscreen."""
    import os
    import sys

    if args.screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
          and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        raise CoregError("no display for the home window (DISPLAY is not set): see "
                         "'coreg --help' for the terminal commands, or use --screenshot PNG")
    if not args.screenshot:
        from coreg.ui.system_libs import check_gui_libraries

        check_gui_libraries()  # one line naming missing system packages, before Qt aborts
    from coreg.recording.paths import recordings_dir

    folder = recordings_dir(getattr(args, "recordings_dir", None))
    tty = sys.stderr.isatty()

    def progress(label: str) -> None:
        if tty:
            sys.stderr.write("\r\x1b[2Kindexing " + label[:70])
            sys.stderr.flush()

    # Index new recordings before the window opens (a first start on a full folder takes a
    # while; the terminal shows how far it is).
    with SessionIndex(folder) as index:
        index.sync(progress)
        if tty:
            sys.stderr.write("\r\x1b[2K")
        if getattr(args, "select", None) and index.client(args.select) is None:
            raise CoregError(f"no client called {args.select!r} in {folder} "
                                 "(coreg sessions --clients lists them)")
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    options = HomeOptions(client_src=getattr(args, "client", None),
                          therapist_src=getattr(args, "therapist", None),
                          breathe_device=getattr(args, "device", None) or "sim",
                          duration_s=getattr(args, "duration", None),
                          speed=getattr(args, "speed_value", None),
                          seed=getattr(args, "seed", 1))
    window = HomeWindow(folder, options)
    width, height = getattr(args, "size", None) or (1600, 1000)
    window.resize(width, height)
    window.show()
    if getattr(args, "select", None):
        window.select_client(args.select)
    import signal

    signal.signal(signal.SIGINT, lambda *_: window.close())
    saved: list[Path] = []
    try:
        if args.screenshot:
            QtWidgets.QApplication.processEvents()
            saved.append(window.save_screenshot(args.screenshot))
        else:
            app.exec()
    finally:
        window.close()
        # Tear the widgets down while the interpreter is whole (as coreg live does).
        window.deleteLater()
        app.processEvents()
        app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        window.guard.check()
    for path in saved:
        print(f"screenshot: {path}")
    return 0
