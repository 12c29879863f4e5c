"""The user's settings: one owner-only JSON file per user (``platformdirs`` config folder).

What a therapist sets once and the windows remember: the recordings folder, each role's default
strap (and the last strap chosen in the window, by name and address), the pacer defaults, the
sound cue, which monitor the client view opens on, and every window's geometry.

The file is ``<user config dir>/coreg/settings.json`` (``platformdirs.user_config_dir``: on
Linux ``~/.config/coreg``, on macOS ``~/Library/Application Support/coreg``, on Windows
``%LOCALAPPDATA%\\coreg``); ``$COREG_SETTINGS`` names another file (tests point it at a
temporary folder). A missing or unreadable file gives the defaults; a bad value in it is ignored
field by field (logged), never a crash. Writes are atomic and owner-only (0600, folder 0700).

Nothing here imports Qt.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

log = logging.getLogger(__name__)

#: Environment variable naming the settings file (overrides the platformdirs location).
ENV_VAR = "COREG_SETTINGS"
#: The pacer's allowed rate range, breaths per minute.
RATE_RANGE_BPM = (3.0, 10.0)
#: The pacer's allowed in-breath share of a breath (as `coreg breathe --ratio`).
INHALE_RANGE = (0.2, 0.8)


def settings_path() -> Path:
    """Where the settings live: ``$COREG_SETTINGS``, else the platformdirs config folder."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("coreg", appauthor=False)) / "settings.json"


@dataclass(slots=True)
class StrapChoice:
    """A strap remembered for a role: its ``SRC`` text and, for a real strap, its name.

    Parameters
    ----------
    src
        What the session is opened with (``sim:coupled``, ``ble-sim``, an address or a name).
    name
        The advertised name seen in the scan ("Polar H10 A1B2C3D4"), or "".
    """

    src: str
    name: str = ""

    def label(self) -> str:
        """How the chooser lists it: ``name (address)`` for a scanned strap, else the SRC."""
        return f"{self.name}  ({self.src})" if self.name and self.name != self.src else self.src


@dataclass(slots=True)
class UserSettings:
    """Everything the settings dialog edits (see the module docstring for the file).

    Attributes
    ----------
    recordings_dir
        Folder for recordings ("" = ``$COREG_RECORDINGS`` or ``./recordings``).
    default_straps
        Role → the ``SRC`` a window starts with ("" = the simulated dyad).
    last_straps
        Role → the strap last chosen in the window (name and address).
    pacer_rate_bpm
        Default pacer rate of ``coreg breathe``, breaths per minute (3–10).
    inhale_ratio
        Default in-breath share of each breath (0.5 = IN:OUT 1:1).
    sound
        Soft sound cue at the start of in- and out-breath.
    client_view_screen
        Name of the monitor the client view opens on ("" = the other screen, if any).
    geometry
        Window name → saved geometry (hex of ``QWidget.saveGeometry``).
    """

    recordings_dir: str = ""
    default_straps: dict[str, str] = field(default_factory=dict)
    last_straps: dict[str, StrapChoice] = field(default_factory=dict)
    pacer_rate_bpm: float = 6.0
    inhale_ratio: float = 0.5
    sound: bool = False
    client_view_screen: str = ""
    geometry: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> UserSettings:
        """Settings from parsed JSON; a bad field keeps its default (logged)."""
        out = cls()
        if not isinstance(data, dict):
            return out
        for f in fields(cls):
            if f.name not in data:
                continue
            try:
                setattr(out, f.name, _field_value(f.name, data[f.name]))
            except (TypeError, ValueError) as exc:
                log.warning("settings: ignoring %s (%s)", f.name, exc)
        return out


def _str_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise TypeError("not a mapping")
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}


def _field_value(name: str, value: object) -> object:
    if name in ("recordings_dir", "client_view_screen"):
        if not isinstance(value, str):
            raise TypeError("not a string")
        return value
    if name in ("default_straps", "geometry"):
        return _str_map(value)
    if name == "last_straps":
        if not isinstance(value, dict):
            raise TypeError("not a mapping")
        return {str(role): StrapChoice(str(v["src"]), str(v.get("name", "")))
                for role, v in value.items() if isinstance(v, dict) and v.get("src")}
    if name == "sound":
        if not isinstance(value, bool):
            raise TypeError("not true/false")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError("not a number")
    number = float(value)
    lo, hi = RATE_RANGE_BPM if name == "pacer_rate_bpm" else INHALE_RANGE
    if not lo <= number <= hi:
        raise ValueError(f"{number} outside {lo}–{hi}")
    return number


def load_settings(path: Path | None = None) -> UserSettings:
    """Read the settings (defaults when the file is missing or unreadable)."""
    target = path or settings_path()
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return UserSettings()
    except OSError as exc:
        log.warning("settings: cannot read %s (%s): using the defaults", target, exc)
        return UserSettings()
    try:
        data = json.loads(text)
    except ValueError as exc:
        log.warning("settings: %s is not JSON (%s): using the defaults", target, exc)
        return UserSettings()
    return UserSettings.from_json(data)


def save_settings(settings: UserSettings, path: Path | None = None) -> Path:
    """Write the settings atomically, owner-only (file 0600, a new folder 0700)."""
    target = path or settings_path()
    if not target.parent.exists():
        target.parent.mkdir(parents=True, mode=0o700)
    from coreg.recording.output import write_private

    return write_private(target, json.dumps(settings.to_json(), indent=2, sort_keys=True))


def update_settings(**changes: object) -> UserSettings:
    """Load, change the given fields, save; return the saved settings."""
    settings = load_settings()
    for key, value in changes.items():
        setattr(settings, key, value)
    save_settings(settings)
    return settings
