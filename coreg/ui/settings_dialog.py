"""The settings dialog: what a therapist sets once, saved per user (see
:mod:`coreg.recording.settings`).

Recordings folder, each role's default strap, the pacer's default rate and IN:OUT, the sound
cue, and the monitor the client view opens on. *Save* writes the owner-only settings file;
the values take effect from the next session (the recordings folder: the next recording).
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from coreg.recording.settings import (
    RATE_RANGE_BPM,
    UserSettings,
    load_settings,
    save_settings,
    settings_path,
)
from coreg.ui import theme

#: IN:OUT choices → in-breath share (as in the breathing window).
RATIOS: dict[str, float] = {"1:1": 0.5, "4:6": 0.4, "1:2": 1 / 3, "3:7": 0.3, "6:4": 0.6}
#: The client-view choice meaning "the other screen, if there is one".
AUTO_SCREEN = "the other screen (automatic)"


class SettingsDialog(QtWidgets.QDialog):
    """Edit and save the user's settings.

    Parameters
    ----------
    parent
        The window it belongs to.
    roles
        The roles whose default strap can be set.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None,
                 roles: tuple[str, ...] = ("client", "therapist")) -> None:
        super().__init__(parent)
        self.setWindowTitle("coreg — settings")
        self.setStyleSheet(theme.STYLE_SHEET)
        self.settings = load_settings()
        form = QtWidgets.QFormLayout()
        form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.setMinimumWidth(780)

        self.folder_edit = QtWidgets.QLineEdit(self.settings.recordings_dir)
        self.folder_edit.setPlaceholderText("$COREG_RECORDINGS or ./recordings")
        browse = QtWidgets.QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        folder_row = QtWidgets.QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        form.addRow("Recordings folder", folder_row)

        self.strap_edits: dict[str, QtWidgets.QLineEdit] = {}
        for role in roles:
            edit = QtWidgets.QLineEdit(self.settings.default_straps.get(role, ""))
            edit.setPlaceholderText("sim:coupled, ble-sim, or a strap's address or name")
            self.strap_edits[role] = edit
            form.addRow(f"Default {role} strap", edit)

        self.rate_box = QtWidgets.QDoubleSpinBox()
        self.rate_box.setRange(*RATE_RANGE_BPM)
        self.rate_box.setSingleStep(0.5)
        self.rate_box.setDecimals(1)
        self.rate_box.setSuffix(" breaths/min")
        self.rate_box.setValue(self.settings.pacer_rate_bpm)
        form.addRow("Pacer rate", self.rate_box)
        self.ratio_box = QtWidgets.QComboBox()
        self.ratio_box.addItems(list(RATIOS))
        current = min(RATIOS, key=lambda k: abs(RATIOS[k] - self.settings.inhale_ratio))
        self.ratio_box.setCurrentText(current)
        form.addRow("Pacer IN:OUT", self.ratio_box)
        self.sound_box = QtWidgets.QCheckBox("soft sound at the start of in- and out-breath")
        self.sound_box.setChecked(self.settings.sound)
        form.addRow("Sound", self.sound_box)

        self.screen_box = QtWidgets.QComboBox()
        self.screen_box.addItem(AUTO_SCREEN, "")
        for screen in QtGui.QGuiApplication.screens():
            geo = screen.geometry()
            self.screen_box.addItem(f"{screen.name()} ({geo.width()}×{geo.height()})",
                                    screen.name())
        index = self.screen_box.findData(self.settings.client_view_screen)
        if index < 0 and self.settings.client_view_screen:
            self.screen_box.addItem(f"{self.settings.client_view_screen} (not connected)",
                                    self.settings.client_view_screen)
            index = self.screen_box.count() - 1
        self.screen_box.setCurrentIndex(max(index, 0))
        form.addRow("Client view on", self.screen_box)

        note = QtWidgets.QLabel(f"Saved for you only (owner-only file): {settings_path()}")
        note.setWordWrap(True)
        note.setStyleSheet(f"color: {theme.MUTED}; font-size: {theme.SMALL_PT}pt;")
        self.error_label = QtWidgets.QLabel("")
        self.error_label.setStyleSheet(f"color: {theme.VERMILLION};")
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Save
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        outer = QtWidgets.QVBoxLayout(self)
        outer.addLayout(form)
        outer.addWidget(note)
        outer.addWidget(self.error_label)
        outer.addWidget(buttons)

    def _browse(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self, "Recordings folder", self.folder_edit.text() or str(QtCore.QDir.homePath()))
        if folder:
            self.folder_edit.setText(folder)

    def values(self) -> UserSettings:
        """The settings as edited (the remembered straps and geometry are kept)."""
        s = load_settings()
        s.recordings_dir = self.folder_edit.text().strip()
        s.default_straps = {role: edit.text().strip() for role, edit in self.strap_edits.items()
                            if edit.text().strip()}
        s.pacer_rate_bpm = float(self.rate_box.value())
        s.inhale_ratio = RATIOS[self.ratio_box.currentText()]
        s.sound = self.sound_box.isChecked()
        s.client_view_screen = str(self.screen_box.currentData() or "")
        return s

    def save(self) -> None:
        """Write the settings and close (an unwritable file: one line, the dialog stays)."""
        try:
            self.settings = self.values()
            save_settings(self.settings)
        except OSError as exc:
            self.error_label.setText(f"cannot save: {exc.strerror or exc}")
            return
        self.accept()
