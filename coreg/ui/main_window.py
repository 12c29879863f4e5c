"""The therapist's live window: both people, their synchrony, markers, client view, help.

Why one module of this size: one window — its header, source bar, preview/recording states,
shortcuts and screenshot path — whose parts all act on the same session and layout.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from coreg.recording.settings import StrapChoice, load_settings, save_settings
from coreg.session import Session
from coreg.session.display import DISCLAIMER, clock_text
from coreg.session.figures import SessionFigures
from coreg.session.playback import Playback
from coreg.session.setup import live_title
from coreg.ui import theme
from coreg.ui.client_view import ClientView
from coreg.ui.layouts import ElidedLabel, FlowLayout, fit_to_screen
from coreg.ui.panels import PersonPanel, SyncPanel, _label, _label_style
from coreg.ui.qt_fixes import bool_guard
from coreg.ui.settings_dialog import SettingsDialog

if TYPE_CHECKING:
    from coreg.session.figures import LiveAnalysis
    from coreg.sources import ResolvedSources
    from devices.ble import FoundStrap

log = logging.getLogger(__name__)

#: GUI timer period: the queue is drained and the view redrawn about 30 times a second.
FRAME_MS = 30
#: Smallest height of any plot, in pixels (what lets the window fit a 1366×768 screen).
MIN_PLOT_HEIGHT_PX = 55
#: Smallest height of the synchrony panel, in pixels.
MIN_SYNC_HEIGHT_PX = 250
#: The synchrony plot's own minimum height (pixels), at any window size from 1366×768.
MIN_SYNC_PLOT_HEIGHT_PX = 84
#: Below this window height (pixels) the people's panels drop their secondary axis titles.
COMPACT_HEIGHT_PX = 900
#: Smallest point size of the big HR numbers (a 768-pixel-high window).
COMPACT_HR_PT = 40
#: Slow parts (trends, synchrony curves, y-ranges) are redrawn this often, in seconds.
SLOW_EVERY_S = 1.0

HELP_TEXT = """<h2>Keyboard shortcuts</h2>
<table cellspacing="10" align="center">
<tr><td><b>M</b></td><td>drop a marker (type an optional note, Enter)</td></tr>
<tr><td><b>C</b></td><td>show / hide the client view (second screen)</td></tr>
<tr><td><b>F11</b></td><td>full screen on / off</td></tr>
<tr><td><b>?</b> or <b>F1</b></td><td>this help</td></tr>
<tr><td><b>Esc</b></td><td>close help / cancel a marker note</td></tr>
<tr><td><b>Ctrl+R</b></td><td>start recording (from the preview)</td></tr>
<tr><td><b>Ctrl+Q</b></td><td>stop the session and quit (the recording is closed)</td></tr>
</table>
<p>HR updates every beat; RMSSD covers the last 60 s; coherence the last 64 s (every 5 s);
LF/HF the last 5 min (every 5 s). Synchrony: the headline is the live verdict (in sync, not
in sync, paused in a gap, collecting) and for how long, its numbers below it; the plot shows the
peak correlation of both people's slow heart-rate changes in 30 s windows every 5 s against the
chance band from surrogate pairs (never read raw r without it), and along its bottom what the
headline said (green: in sync). The window opens in a preview: figures live, nothing
recorded until <b>Start recording</b> (Ctrl+R); <b>Stop</b> ends and saves.</p>
<p><i>coreg informs; it does not diagnose.</i></p>
<p>Press any key to close.</p>"""


class _ScanResult(TypedDict, total=False):
    """What the scan thread hands the GUI thread."""

    found: list[tuple[str, str]]
    error: str
    emulated: list[str]


def source_choices() -> list[str]:
    """SRC suggestions for the choosers: simulated dyad scenarios and the emulated strap."""
    from devices.sim import SCENARIOS

    names = [n for n in SCENARIOS if n not in ("rest", "assessment")]
    return [f"sim:{n}" for n in names] + ["ble-sim", "ble-sim:rest"]


async def _scan_emulated() -> list[FoundStrap]:
    """Scan the emulated radio with one emulated strap on it (what ``ble-sim`` connects to)."""
    from devices.ble import BleBackend, scan
    from devices.peripheral import EmulatedStrap

    strap = await EmulatedStrap(name="coreg emulated HR").start()
    try:
        return list(await scan(1.0, backend=BleBackend.emulated(), read_info=False))
    finally:
        await strap.close()


class _NoHeightForWidth(QtWidgets.QWidget):
    """A container whose word-wrapped labels do not turn on height-for-width layout (which
    lets a QVBoxLayout squeeze it below its minimum height)."""

    def hasHeightForWidth(self) -> bool:
        return False


class _CompactRow(_NoHeightForWidth):
    """A row that asks for no more than its minimum height: the layout's stretch factors then
    share the spare height (the plots' own size hints would otherwise take it first)."""

    def sizeHint(self) -> QtCore.QSize:
        hint = super().sizeHint()
        return QtCore.QSize(hint.width(), self.minimumSizeHint().height())


class HelpOverlay(QtWidgets.QLabel):
    """A translucent overlay listing the shortcuts."""

    def __init__(self, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.setText(HELP_TEXT)
        self.setWordWrap(True)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet(
            f"background: rgba(10, 12, 16, 225); color: {theme.TEXT}; "
            f"font-size: {theme.LABEL_PT + 3}pt; padding: 60px;")
        self.hide()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        self.hide()


class LiveWindow(QtWidgets.QMainWindow):
    """The live dyad view over a running :class:`Session` (or any
    :class:`~coreg.session.playback.Playback`, e.g. a replay).

    Parameters
    ----------
    session
        A session (started by the window when ``autostart``).
    title
        Window title and header text.
    simulated
        Show the SIMULATED label.
    names
        Role → label used in "X leads by ...".
    duration_s
        End the session after this many seconds (then ``on_finished`` is called).
    on_finished
        Called once the session has ended by itself (duration, sources ended).
    session_factory
        ``(client_src, therapist_src) -> (session, resolved sources)``: enables choosing the
        straps and starting a new session from the window once the current one has stopped.
    sources
        Role → the ``SRC`` of the current session (shown in the source choosers).
    """

    def __init__(
        self,
        session: Playback,
        *,
        title: str = "coreg live",
        simulated: bool = False,
        names: dict[str, str] | None = None,
        duration_s: float | None = None,
        on_finished: Callable[[LiveWindow], None] | None = None,
        autostart: bool = True,
        session_factory: Callable[[str, str], tuple[Session[LiveAnalysis], ResolvedSources]
                                  ] | None = None,
        sources: dict[str, str] | None = None,
    ) -> None:
        self._guard = bool_guard()
        super().__init__()
        self.session = session
        self.session_factory = session_factory
        self.duration_s = duration_s
        self.on_finished = on_finished
        self.setWindowTitle(title)
        self.setStyleSheet(theme.STYLE_SHEET)
        fit_to_screen(self, (1920, 1080))
        self.frame_times_s: list[float] = []
        self.frames = 0
        self._last_slow = -1e9
        self._ended = False
        self._pending_marker_s: float | None = None
        self.client_view = ClientView()
        self.client_view.setStyleSheet("")

        central = QtWidgets.QWidget()
        root = QtWidgets.QVBoxLayout(central)
        root.setContentsMargins(12, 10, 12, 8)
        root.setSpacing(8)

        bar = QtWidgets.QHBoxLayout()
        self.simulated_label = QtWidgets.QLabel("SIMULATED")
        self.simulated_label.setObjectName("simulated")
        self.simulated_label.setVisible(simulated)
        bar.addWidget(self.simulated_label)
        self.title_label = ElidedLabel()
        font = self.title_label.font()
        font.setPointSize(theme.LABEL_PT)
        self.title_label.setFont(font)
        self.title_label.setStyleSheet(_label_style(theme.MUTED, theme.LABEL_PT))
        self.set_title(title)
        bar.addWidget(self.title_label)
        bar.addStretch(1)
        self.rec_label = _label("", theme.LABEL_PT, theme.VERMILLION, bold=True)
        bar.addWidget(self.rec_label)
        self.elapsed_label = _label("00:00", theme.TITLE_PT, theme.TEXT, bold=True)
        bar.addWidget(self.elapsed_label)
        bar.addSpacing(20)
        self.note_edit = QtWidgets.QLineEdit()
        self.note_edit.setPlaceholderText("marker note (Enter)")
        self.note_edit.setMaxLength(120)
        self.note_edit.hide()
        self.note_edit.returnPressed.connect(self._commit_marker)
        bar.addWidget(self.note_edit)
        self.marker_button = QtWidgets.QPushButton("Marker (M)")
        self.marker_button.clicked.connect(self.begin_marker)
        self.client_button = QtWidgets.QPushButton("Client view (C)")
        self.client_button.clicked.connect(self.toggle_client_view)
        self.help_button = QtWidgets.QPushButton("Help (?)")
        self.help_button.clicked.connect(self.toggle_help)
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.setToolTip("stop the session; the recording is closed and saved")
        self.stop_button.clicked.connect(lambda: self.end_session("stopped by user"))
        for b in (self.marker_button, self.client_button, self.help_button, self.stop_button):
            b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
            bar.addWidget(b)
        root.addLayout(bar)
        self._fit_header()
        # Wrapping rows are sized in resizeEvent (height-for-width in a QVBoxLayout ignores
        # the other rows' minimum heights).
        self.source_bar = _NoHeightForWidth()
        self.source_bar.setLayout(self._source_bar(session.roles, sources or {}))
        root.addWidget(self.source_bar)

        people_row = _CompactRow()
        people = QtWidgets.QHBoxLayout(people_row)
        people.setContentsMargins(0, 0, 0, 0)
        self.person_panels: dict[str, PersonPanel] = {}
        for role in session.roles:
            panel = PersonPanel(role)
            self.person_panels[role] = panel
            people.addWidget(panel, 1)
        root.addWidget(people_row, 4)
        self.sync_panel: SyncPanel | None = None
        if len(session.roles) == 2:
            self.sync_panel = SyncPanel(names)
            sync_row = _NoHeightForWidth()
            sync_layout = QtWidgets.QVBoxLayout(sync_row)
            sync_layout.setContentsMargins(0, 0, 0, 0)
            sync_layout.addWidget(self.sync_panel)
            root.addWidget(sync_row, 5)

        footer = QtWidgets.QHBoxLayout()
        self.status_label = _label("", theme.SMALL_PT, theme.MUTED)
        footer.addWidget(self.status_label, 1)
        disclaimer = _label(DISCLAIMER, theme.LABEL_PT, theme.MUTED)
        disclaimer.setObjectName("disclaimer")
        footer.addWidget(disclaimer)
        root.addLayout(footer)
        self.setCentralWidget(central)
        self.help_overlay = HelpOverlay(central)
        # Any screen from 1366×768 up: plots shrink (the layout's stretch shares the height)
        # rather than push the controls off a small screen.
        for plot in central.findChildren(pg.PlotWidget):
            plot.setMinimumHeight(min(plot.minimumHeight(), MIN_PLOT_HEIGHT_PX))
        if self.sync_panel is not None:
            # The synchrony panel takes the height the people leave (its word-wrapped texts
            # would otherwise claim more than a 768-pixel screen has).
            self.sync_panel.setMinimumHeight(MIN_SYNC_HEIGHT_PX)
            # The synchrony plot is what coreg exists for: it keeps a real height on a
            # 768-pixel screen; the people's trend plots give way first.
            self.sync_panel.plot.setMinimumHeight(MIN_SYNC_PLOT_HEIGHT_PX)

        self._add_shortcut("M", self.begin_marker)
        self._add_shortcut("C", self.toggle_client_view)
        self._add_shortcut("F11", self.toggle_fullscreen)
        self._add_shortcut("?", self.toggle_help)
        self._add_shortcut("Shift+/", self.toggle_help)
        self._add_shortcut("F1", self.toggle_help)
        self._add_shortcut("Esc", self._escape)
        self._add_shortcut("Ctrl+Q", self._quit)
        self._add_shortcut("Ctrl+R", self.start_recording)
        self._add_shortcut("Ctrl+,", self.open_settings)

        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.frame)
        if autostart:
            self.start()

    # -- sources ------------------------------------------------------------------------------
    def _source_bar(self, roles: tuple[str, ...], sources: dict[str, str]) -> QtWidgets.QLayout:
        row = FlowLayout(spacing=6)
        self.source_layout = row
        self.source_boxes: dict[str, QtWidgets.QComboBox] = {}
        choices = source_choices()
        remembered = load_settings().last_straps
        for role in roles:
            row.addWidget(_label(f"{role}:", theme.SMALL_PT, theme.role_colour(role), bold=True))
            box = QtWidgets.QComboBox()
            box.setEditable(True)
            last = remembered.get(role)
            if last is not None and last.src not in choices:
                box.addItem(last.label(), last.src)  # the role's last strap first
            for choice in choices:
                box.addItem(choice, choice)
            self._select_source(box, sources.get(role, "sim"))
            box.setMinimumWidth(200)
            box.setSizeAdjustPolicy(
                QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(14)
            box.setMaximumWidth(240)
            box.setToolTip("pick a scanned strap, or type sim:SCENARIO (simulated), ble-sim "
                           "(emulated BLE strap), or a strap's Bluetooth address or name")
            self.source_boxes[role] = box
            row.addWidget(box)
        self.scan_button = QtWidgets.QPushButton("Scan for straps")
        self.scan_button.clicked.connect(self.scan_straps)
        self.start_button = QtWidgets.QPushButton("Connect")
        self.start_button.setToolTip("connect the chosen straps (a preview: nothing recorded)")
        self.start_button.clicked.connect(self.new_session)
        self.record_button = QtWidgets.QPushButton("● Start recording")
        self.record_button.setObjectName("record")
        self.record_button.setToolTip("start recording this session (Ctrl+R)")
        self.record_button.clicked.connect(self.start_recording)
        self.settings_button = QtWidgets.QPushButton("Settings…")
        self.settings_button.setToolTip("recordings folder, default straps, pacer, sound, "
                                        "client-view monitor (Ctrl+,)")
        self.settings_button.clicked.connect(self.open_settings)
        for b in (self.scan_button, self.start_button, self.record_button,
                  self.settings_button):
            b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
            row.addWidget(b)
        self._set_choosing(False)
        return row

    def _root_layout(self) -> QtWidgets.QLayout:
        central = self.centralWidget()
        layout = central.layout() if central is not None else None
        if layout is None:
            raise RuntimeError("the live window has no central layout")
        return layout

    def _fit_source_bar(self) -> None:
        margins = self._root_layout().contentsMargins()
        width = max(400, self.width() - margins.left() - margins.right())
        self.source_bar.setFixedHeight(self.source_layout.heightForWidth(width))

    def _scale_big_numbers(self) -> None:
        """The big HR numbers follow the window height (72 pt from 1200 px, down to 40 pt),
        so a 768-pixel screen shows them whole instead of clipped."""
        pt = int(max(COMPACT_HR_PT, min(theme.HR_PT, theme.HR_PT * self.height() / 1200)))
        if getattr(self, "_hr_pt", None) != pt:
            self._hr_pt = pt
            for role, panel in self.person_panels.items():
                font = panel.hr.font()
                font.setPointSize(pt)
                panel.hr.setFont(font)
                panel.hr.setStyleSheet(_label_style(theme.role_colour(role), pt, True))
        # Metric values: full size from 1800 px of width, smaller on a narrow screen (each
        # person gets half the width; "collecting 113/300 s" must fit a third of it).
        value_pt = int(max(16, min(theme.VALUE_PT, theme.VALUE_PT * self.width() / 1800)))
        for panel in self.person_panels.values():
            panel.set_value_size(value_pt)
            panel.set_compact(self.height() < COMPACT_HEIGHT_PX)
        for panel in self.person_panels.values():
            # The rows have no height-for-width (it would let the layout squeeze the people
            # below what their numbers need): their minimum follows the current fonts.
            panel.setMinimumHeight(0)
            panel.setMinimumHeight(panel.minimumSizeHint().height())
        if self.sync_panel is not None:
            # The synchrony panel is never squeezed below what its texts and plot need at
            # its width (the legend would be drawn over the plot's axis).
            need = self.sync_panel.needed_height()
            self.sync_panel.setMinimumHeight(max(MIN_SYNC_HEIGHT_PX, need))
        root = self._root_layout()
        root.invalidate()
        root.activate()

    def open_settings(self) -> SettingsDialog:
        """The settings dialog (modeless: the session goes on underneath)."""
        dialog = SettingsDialog(self, roles=self.session.roles)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def _fit_header(self) -> None:
        """Header labels give way (clip, full text in the tooltip) before the buttons do, so
        the bar fits a 1366-pixel-wide screen; the marker note field shrinks too."""
        # The scenario title clips (full text in the window title) rather than the buttons
        # or the recording state.
        self._set_rec_text(self.rec_label.text())
        self.note_edit.setMinimumWidth(120)
        self.note_edit.setMaximumWidth(260)

    def _set_rec_text(self, text: str) -> None:
        """The recording state in the header: it keeps the width it needs up to 220 px
        ("PREVIEW — not recording" whole; a long file name clips), and no more, so a short
        "saved ✓" leaves the room to the scenario title."""
        self.rec_label.setText(text)
        self.rec_label.setMinimumWidth(0)  # a QLabel's size hint grows to its minimum
        self.rec_label.setMinimumWidth(min(220, self.rec_label.sizeHint().width()))

    @staticmethod
    def _select_source(box: QtWidgets.QComboBox, src: str) -> None:
        index = box.findData(src)
        if index >= 0:
            box.setCurrentIndex(index)
        else:
            box.setCurrentText(src)

    @staticmethod
    def chosen_source(box: QtWidgets.QComboBox) -> str:
        """The SRC a chooser stands for: a listed item's address, or the typed text."""
        text = box.currentText().strip()
        index = box.findText(text)
        data = box.itemData(index) if index >= 0 else None
        return str(data) if data else text

    def _set_choosing(self, enabled: bool) -> None:
        """Straps can be changed while nothing records (a preview, or after a session)."""
        for box in self.source_boxes.values():
            box.setEnabled(enabled)
        self.scan_button.setEnabled(enabled)
        self.start_button.setEnabled(enabled and self.session_factory is not None)
        previewing = bool(getattr(self.session, "previewing", False)) and not self._ended
        self.record_button.setVisible(previewing or self.session_factory is not None)
        self.record_button.setEnabled(previewing)

    def scan_straps(self) -> None:
        """List nearby straps (Heart Rate Service) into the choosers; runs off the GUI thread.

        With no Bluetooth adapter (or none found) the emulated radio is scanned too, so the
        chooser shows what ``ble-sim`` connects to.
        """
        self.scan_button.setEnabled(False)
        self.status_label.setText("scanning for straps…")
        result: _ScanResult = {}

        def work() -> None:
            import asyncio

            from devices import ble

            try:
                result["found"] = [(f.address, f.name or "") for f in asyncio.run(ble.scan(5.0))]
            except Exception as exc:  # no adapter, no BLE stack: say so, keep going
                result["error"] = str(exc)
            try:
                result["emulated"] = [f.name or "emulated strap"
                                      for f in asyncio.run(_scan_emulated())]
            except Exception as exc:
                log.info("emulated scan failed: %s", exc)

        thread = threading.Thread(target=work, name="coreg-scan", daemon=True)
        thread.start()

        def poll() -> None:
            if thread.is_alive():
                QtCore.QTimer.singleShot(200, poll)
                return
            self.scan_button.setEnabled(self._ended or self.session.previewing)
            found: list[tuple[str, str]] = result.get("found", [])
            items = [StrapChoice(address, name) for address, name in found]
            items += [StrapChoice("ble-sim", f"{name} (emulated)")
                      for name in result.get("emulated", [])[:1]]
            for box in self.source_boxes.values():
                for item in reversed(items):
                    if box.findText(item.label()) < 0:
                        box.insertItem(0, item.label(), item.src)
            words = f"scan: {len(found)} strap(s) found"
            if "error" in result:
                words = f"scan: {result['error']}"
            if result.get("emulated"):
                words += "; the emulated strap is listed as ble-sim"
            self.status_label.setText(words)

        QtCore.QTimer.singleShot(200, poll)

    def _remember_straps(self) -> None:
        """Store each role's chosen strap (name and address) in the user's settings."""
        try:
            settings = load_settings()
            for role, box in self.source_boxes.items():
                src = self.chosen_source(box)
                label = box.currentText().strip()
                name = label.split("  (")[0] if label != src else ""
                settings.last_straps[role] = StrapChoice(src, name)
            save_settings(settings)
        except OSError as exc:  # the session matters more than the memory of it
            log.warning("cannot save the settings: %s", exc)

    def new_session(self) -> None:
        """Connect the chosen straps in a new preview session (nothing recorded yet)."""
        if self.session_factory is None or not (self._ended or self.session.previewing):
            return
        texts = {role: self.chosen_source(box) for role, box in self.source_boxes.items()}
        try:
            session, resolved = self.session_factory(texts.get("client", "none"),
                                                     texts.get("therapist", "none"))
        except Exception as exc:  # a bad SRC: one line, the window stays
            self.status_label.setText(f"cannot start: {exc}")
            return
        if not self._ended:
            self.timer.stop()
            self.session.stop("preview ended")
        self._remember_straps()
        self.session = session
        self.duration_s = None
        self._ended = False
        self.simulated_label.setVisible(bool(getattr(resolved, "simulated", False)))
        if getattr(resolved, "specs", None):
            self.set_title(live_title(resolved))
        else:  # a factory that does not say what it resolved: name what was asked for
            self.set_title("coreg live — (" + ", ".join(
                f"{role} {text}" for role, text in texts.items()) + ")")
        self._reset_panels()
        self.status_label.setText("")
        self.start()

    def _reset_panels(self) -> None:
        for panel in self.person_panels.values():
            panel.reset()
        if self.sync_panel is not None:
            self.sync_panel.reset()

    def start_recording(self) -> None:
        """*Start recording*: the preview's straps go on, the recording (and its clock) begins."""
        if self._ended or not self.session.previewing:
            return
        try:
            path = self.session.begin_recording()
        except OSError as exc:
            self.status_label.setText(f"cannot record: {exc.strerror or exc}")
            return
        self._remember_straps()
        self._reset_panels()
        self._show_recording_state()
        self.status_label.setText(f"recording to {path}")
        self.frame(force_slow=True)

    def _show_recording_state(self) -> None:
        path = self.session.recording_path
        previewing = bool(getattr(self.session, "previewing", False))
        if previewing:
            self._set_rec_text("PREVIEW — not recording")
        else:
            self._set_rec_text(f"● REC {Path(path).name}" if path else "not recording")
        self.stop_button.setEnabled(not previewing)
        self.marker_button.setEnabled(not previewing)
        self._set_choosing(previewing)

    def set_title(self, title: str) -> None:
        """Window title and header text (the header names the current session's sources)."""
        self.setWindowTitle(title)
        shown = title.replace("coreg live — ", "")
        if shown.startswith("SIMULATED "):  # the yellow badge says it; "(coupled, seed 1)"
            shown = shown.removeprefix("SIMULATED ").strip(" ()") or shown
        self.title_label.setText(shown)
        self.title_label.setToolTip(title)

    # -- session ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the session (a preview until *Start recording*, if so opened) and the timer."""
        self.session.start()
        self._show_recording_state()
        self.timer.start(FRAME_MS)

    def end_session(self, reason: str = "stopped") -> None:
        """Stop the straps, close the recording, freeze the view on its last figures."""
        if self._ended:
            return
        self._ended = True
        self.timer.stop()
        previewed = bool(getattr(self.session, "previewing", False))
        self.session.stop(reason)
        self.frame(force_slow=True)
        saved = (Path(self.session.recording_path).name
                 if self.session.recording_path and not previewed else "")
        # The header says "saved" (short enough never to clip); the footer names the file.
        self._set_rec_text("preview ended — nothing recorded" if previewed else
                           "saved ✓" if saved else "")
        self.rec_label.setToolTip(str(self.session.recording_path or ""))
        self.stop_button.setEnabled(False)
        self.marker_button.setEnabled(False)
        self.status_label.setText(f"session ended ({reason})"
                                  + (f" · saved {saved}" if saved else ""))
        self._set_choosing(True)
        if self.on_finished is not None:
            self.on_finished(self)

    @property
    def ended(self) -> bool:
        """True once the session has ended."""
        return self._ended

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.end_session("window closed")
        self.client_view.close()
        super().closeEvent(event)

    # -- frames ---------------------------------------------------------------------------------
    def frame(self, force_slow: bool = False) -> None:
        """One timer tick: drain the queue, then redraw what changed."""
        t0 = time.perf_counter()
        session = self.session
        if not self._ended:
            session.poll()
            session.sync_recording()
        fig = session.view
        now = time.monotonic()
        slow = force_slow or now - self._last_slow >= (
            SLOW_EVERY_S if session.realtime else SLOW_EVERY_S / 4)
        if slow:
            self._last_slow = now
        self.show_figures(fig, slow)
        self._guard.check()
        self.frames += 1
        self.frame_times_s.append(time.perf_counter() - t0)
        if len(self.frame_times_s) > 100_000:
            del self.frame_times_s[:50_000]
        if not self._ended and (
                (self.duration_s is not None and fig.elapsed_s >= self.duration_s)
                or session.finished):
            self.end_session("duration reached" if session.reached_duration
                             else "sources ended")

    def show_figures(self, fig: SessionFigures, slow: bool) -> None:
        """Put one frame's figures on screen."""
        self.elapsed_label.setText(clock_text(fig.elapsed_s))
        for role, panel in self.person_panels.items():
            person = fig.persons.get(role)
            if person is not None:
                panel.update_figures(person, fig.elapsed_s, fig.markers, slow)
        if self.sync_panel is not None:
            self.sync_panel.update_figures(fig.sync, fig.elapsed_s, fig.markers, slow)
        if self.client_view.isVisible() or slow:
            self.client_view.update_figures(fig)
        if self.session.error:
            self.status_label.setText(self.session.error)

    # -- markers --------------------------------------------------------------------------------
    def begin_marker(self) -> None:
        """M: the marker's time is now; an optional note can follow (Enter, Esc or 10 s)."""
        if self._ended or getattr(self.session, "previewing", False):
            return
        if self._pending_marker_s is not None:
            self._commit_marker()
        self._pending_marker_s = self.session.now_s()
        self.note_edit.clear()
        self.note_edit.show()
        self.note_edit.setFocus()
        QtCore.QTimer.singleShot(10_000, self._marker_timeout)

    def _marker_timeout(self) -> None:
        if self._pending_marker_s is not None and not self.note_edit.text():
            self._commit_marker()

    def _commit_marker(self) -> None:
        at_s = self._pending_marker_s
        if at_s is None:
            return
        self._pending_marker_s = None
        note = self.note_edit.text()
        self.note_edit.hide()
        self.setFocus()
        self.drop_marker(note, at_s=at_s)

    def drop_marker(self, note: str = "", at_s: float | None = None) -> None:
        """Drop a marker (now, or at host/virtual time ``at_s``) and draw it at once."""
        if self._ended or getattr(self.session, "previewing", False):
            return
        self.session.mark(note, at_s=at_s)
        self.frame(force_slow=True)

    # -- views ----------------------------------------------------------------------------------
    def toggle_client_view(self) -> None:
        """C: show or hide the client view (put it on the second screen when there is one)."""
        view = self.client_view
        if view.isVisible():
            view.hide()
            return
        screens = QtGui.QGuiApplication.screens()
        wanted = load_settings().client_view_screen
        chosen = next((s for s in screens if wanted and s.name() == wanted), None)
        if chosen is None and len(screens) > 1:
            chosen = next((s for s in screens if s is not self.screen()), screens[-1])
        if chosen is not None:
            view.setGeometry(chosen.availableGeometry())
        view.update_figures(self.session.view)
        view.show()

    def toggle_help(self) -> None:
        """?: show or hide the shortcut overlay."""
        overlay = self.help_overlay
        if overlay.isVisible():
            overlay.hide()
        else:
            central = self.centralWidget()
            overlay.setGeometry(central.rect() if central is not None else self.rect())
            overlay.raise_()
            overlay.show()

    def toggle_fullscreen(self) -> None:
        """F11: full screen on or off."""
        self.setWindowState(self.windowState() ^ QtCore.Qt.WindowState.WindowFullScreen)

    def _quit(self) -> None:
        self.close()

    def _escape(self) -> None:
        if self.help_overlay.isVisible():
            self.help_overlay.hide()
        elif self._pending_marker_s is not None:
            self.note_edit.clear()
            self._commit_marker()
        elif self.isFullScreen():
            self.toggle_fullscreen()

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if self.help_overlay.isVisible():
            self.help_overlay.hide()
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_source_bar()
        self._scale_big_numbers()
        central = self.centralWidget()
        if self.help_overlay.isVisible() and central is not None:
            self.help_overlay.setGeometry(central.rect())

    def _add_shortcut(self, keys: str, slot: Callable[[], object]) -> None:
        shortcut = QtGui.QShortcut(QtGui.QKeySequence(keys), self)
        shortcut.setContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(slot)

    # -- pictures -------------------------------------------------------------------------------
    def save_screenshots(self, png: str | Path) -> list[Path]:
        """Save the window to ``png`` and the client view to ``NAME-client.png`` beside it."""
        from coreg.ui.pictures import save_png

        png = Path(png)
        fig = self.session.view
        self.show_figures(fig, slow=True)
        self.client_view.update_figures(fig)
        self.client_view.settle()
        QtWidgets.QApplication.processEvents()
        save_png(self, png)
        self._guard.check()
        client_png = png.with_name(f"{png.stem}-client{png.suffix or '.png'}")
        self.client_view.resize(1280, 720)
        save_png(self.client_view, client_png)
        self._guard.check()
        return [png, client_png]
